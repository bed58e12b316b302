"""Cell parsers of the import kinds: each takes a cell's text (never empty) and returns a value or
raises CellError with a message for the person who wrote the file."""
from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _


class CellError(ValueError):
    pass


def text(max_length: int | None = None) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if max_length and len(value) > max_length:
            raise CellError(_("At most %(n)d characters.") % {"n": max_length})
        return value

    return parse


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(Decimal(value))
            if Decimal(value) != number:
                raise ValueError
        except Exception:
            raise CellError(_("“%(value)s” is not a whole number.") % {"value": value}) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise CellError(_("Must be between %(lo)s and %(hi)s.") % {"lo": minimum, "hi": maximum})
        return number

    return parse


def choice(choices, aliases: dict[str, Sequence[str]] | None = None) -> Callable[[str], str]:
    """Accepts the code or its Chinese label (and the display label in either language)."""
    lookup: dict[str, str] = {}
    for code, label in choices:
        lookup[str(code).lower()] = code
        lookup[str(label).lower()] = code
    for code, names in (aliases or {}).items():
        for name in names:
            lookup[name.lower()] = code

    def parse(value: str) -> str:
        try:
            return lookup[value.strip().lower()]
        except KeyError:
            # The labels the user knows (党员, 男) with the codes the spec names, in the reader's language.
            allowed = "、".join(f"{label} ({code})" for code, label in choices)
            raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}) from None

    return parse


_DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def _no_such_date(raw: str) -> bool:
    """True for a date written in the right form that the calendar does not have (1992-02-30)."""
    return bool(_DATE_SHAPE.fullmatch(raw))


def date(value: str) -> datetime.date:
    raw = value.strip()[:10].replace("/", "-")
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        if _no_such_date(raw):
            raise CellError(_("The date “%(value)s” does not exist.") % {"value": value}) from None
        raise CellError(_("“%(value)s” is not a date in the form YYYY-MM-DD.") % {"value": value}) from None


def aware_datetime(value: str) -> datetime.datetime:
    """ISO 8601; without an offset the time is Asia/Shanghai local time."""
    raw = value.strip().replace("/", "-")
    try:
        parsed = datetime.datetime.fromisoformat(raw)
    except ValueError:
        if _no_such_date(raw[:10]) and (len(raw) == 10 or raw[10] in " T"):
            raise CellError(_("The date “%(value)s” does not exist.") % {"value": value}) from None
        raise CellError(
            _("“%(value)s” is not a date and time such as 2026-03-31 23:30.") % {"value": value}
        ) from None
    if parsed.tzinfo is None:
        # timezone.make_aware() without its checks (a million cells of a big import).
        parsed = parsed.replace(tzinfo=timezone.get_default_timezone())
    return parsed


def str_list(item_parser: Callable[[str], Any] | None = None) -> Callable[[str], list]:
    def parse(value: str) -> list:
        items = [part.strip() for part in re.split(r"[;；]", value) if part.strip()]
        return [item_parser(i) for i in items] if item_parser else list(dict.fromkeys(items))

    return parse


def validator(django_validator: Callable[[str], None], normalize: Callable[[str], str] = str.strip):
    from django.core.exceptions import ValidationError

    def parse(value: str) -> str:
        value = normalize(value)
        try:
            django_validator(value)
        except ValidationError as error:
            raise CellError(" ".join(error.messages)) from None
        return value

    return parse
