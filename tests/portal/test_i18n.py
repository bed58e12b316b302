"""The translation catalogues: every string has a zh-Hans translation, the committed .mo files match the
.po files, and placeholders survive translation. No database needed.

After `make messages`, translate the new (empty or fuzzy) entries in locale/zh_Hans/LC_MESSAGES/django.po
and run `make messages` again (or `manage.py compilemessages`) so the .mo is current."""
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(token: str) -> str:
    token = token.strip()
    assert token.startswith('"') and token.endswith('"'), f"not a quoted PO string: {token!r}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # plain msgstr is stored as form 0
    flags: set[str] = field(default_factory=set)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def parse_po(path: Path) -> list[Entry]:
    """A small PO reader: comments, flags, msgctxt, multi-line strings and plural forms.
    Obsolete entries (#~) are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    pending_flags: set[str] = set()
    target: tuple[str, int | None] | None = None  # which field continuation lines extend

    def append(text: str) -> None:
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        else:
            setattr(entry, name, (getattr(entry, name) or "") + text)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        keyword = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if keyword:
            name, index, value = keyword.group(1), keyword.group(2), keyword.group(3)
            if name == "msgctxt" or (name == "msgid" and (entry is None or target[0] != "msgctxt")):
                # a new entry begins (a msgid right after a msgctxt belongs to the same entry)
                entry = Entry(line=number, flags=pending_flags)
                pending_flags = set()
                entries.append(entry)
            if name.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                entry.msgstr[target[1]] = ""
            else:
                target = (name, None)
                setattr(entry, name, "")
            append(_unquote(value))
        elif line.startswith('"'):
            assert entry is not None and target is not None, f"{path}:{number}: stray string"
            append(_unquote(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    return entries


def messages(path: Path) -> list[Entry]:
    return [e for e in parse_po(path) if not e.is_header]


def header(path: Path) -> Entry:
    return next(e for e in parse_po(path) if e.is_header)


PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(2) != "%"}


def _describe(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


def test_parser_handles_multiline_and_plural_entries():
    entries = {e.msgid: e for e in messages(ZH_PO)}
    plural = [e for e in entries.values() if e.msgid_plural is not None]
    assert plural, "expected at least one plural entry"
    assert all(set(e.msgstr) == {0} for e in plural), "zh has exactly one plural form: msgstr[0]"
    assert any("\n" not in e.msgid and len(e.msgid) > 79 for e in entries.values()), "expected a wrapped msgid"
    assert len(entries) > 200


def test_zh_hans_header():
    entry = header(ZH_PO)
    text = entry.msgstr[0]
    assert "fuzzy" not in entry.flags
    assert "Plural-Forms: nplurals=1; plural=0;" in text
    assert "charset=UTF-8" in text


def test_en_header_is_not_fuzzy():
    assert "fuzzy" not in header(EN_PO).flags


def test_every_zh_hans_entry_is_translated_and_not_fuzzy():
    problems = []
    for entry in messages(ZH_PO):
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {_describe(entry)}")
        expected_forms = {0}  # nplurals=1 for Chinese, plural or not
        if set(entry.msgstr) != expected_forms:
            problems.append(f"forms {sorted(entry.msgstr)} instead of [0]: {_describe(entry)}")
        if not all(s.strip() for s in entry.msgstr.values()):
            problems.append(f"untranslated: {_describe(entry)}")
    assert not problems, "\n".join(problems)


def test_compiled_mo_matches_po():
    assert ZH_MO.exists(), "run `make messages` (or manage.py compilemessages) and commit the .mo"
    with ZH_MO.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    problems = []
    for entry in messages(ZH_PO):
        expected = entry.msgstr.get(0, "")
        if entry.msgid_plural is None:
            got = catalog.gettext(entry.key) if entry.msgctxt is None else catalog.pgettext(entry.msgctxt, entry.msgid)
            if got != expected:
                problems.append(f"{_describe(entry)}: .mo has {got!r}, .po has {expected!r}")
        else:
            for n in (1, 2, 5):
                got = (
                    catalog.ngettext(entry.msgid, entry.msgid_plural, n)
                    if entry.msgctxt is None
                    else catalog.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                )
                if got != expected:
                    problems.append(f"{_describe(entry)} (n={n}): .mo has {got!r}, .po has {expected!r}")
    assert not problems, "the .mo is stale; recompile it:\n" + "\n".join(problems)


def test_en_mo_exists():
    assert EN_MO.exists(), "run `make messages` (or manage.py compilemessages) and commit the .mo"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "登录"), ("en", "Log in")],
)
def test_django_uses_the_catalogue(language, expected):
    with translation.override(language):
        assert translation.gettext("Log in") == expected


def test_django_plural_in_zh_hans():
    msgid = "The file has %(n)s problem and cannot be imported. Nothing was written."
    plural = "The file has %(n)s problems and cannot be imported. Nothing was written."
    with translation.override("zh-hans"):
        for n in (1, 3):
            text = translation.ngettext(msgid, plural, n) % {"n": n}
            assert text == f"文件存在 {n} 个问题，无法导入，未写入任何数据。"


def test_placeholder_regex():
    assert placeholders("%(size).1f MB, %(max)d, %s, %d, 100%%") == {"%(size).1f", "%(max)d", "%s", "%d"}


def test_placeholders_survive_translation():
    problems = []
    for entry in messages(ZH_PO):
        expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
        for form, text in entry.msgstr.items():
            if text and placeholders(text) != expected:
                problems.append(
                    f"{_describe(entry)} msgstr[{form}]: {sorted(placeholders(text))} != {sorted(expected)}"
                )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("language", "placeholder", "no_results"),
                         [("zh-hans", "输入以搜索…", "无匹配结果"), ("en", "Type to search…", "No match")])
def test_autocomplete_placeholder_in_the_page_language(client, staff, settings, language, placeholder, no_results):
    """The ledger's org-unit and handler filters are autocompletes: their hint follows the language
    (portal.js showed its Chinese fallback on English pages)."""
    from django.urls import reverse

    client.force_login(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("demands:demand_list")).content.decode()
    assert f'data-placeholder="{placeholder}"' in html
    assert f'data-no-results="{no_results}"' in html
