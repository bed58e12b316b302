"""Small registries that let each app plug into shared pages without editing them:
the menu, the person timeline and the home page."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.translation import get_language

from .cached_urls import cached_reverse
from .roles import has_permission


# --- Menu -------------------------------------------------------------------------------------
@dataclass
class MenuItem:
    label: str
    url_name: str
    permission: str
    icon: str = "circle"
    order: int = 100

    @property
    def url(self) -> str:
        return cached_reverse(self.url_name)


@dataclass
class MenuGroup:
    key: str
    label: str
    icon: str
    order: int
    items: list[MenuItem] = field(default_factory=list)


_MENU: dict[str, MenuGroup] = {}
# The menu's HTML per (role, language, script prefix, registry version): every page draws it, and
# it depends on nothing else (`menu_for` asks only the role's permissions). A registration bumps
# the version, so a menu rendered before it is never shown again.
_menu_version = 0
_rendered_menus: dict[tuple, str] = {}


def _menu_changed() -> None:
    global _menu_version
    _menu_version += 1
    _rendered_menus.clear()


def menu_group(key: str, label, icon: str, order: int) -> MenuGroup:
    _menu_changed()
    return _MENU.setdefault(key, MenuGroup(key, label, icon, order))


def menu_item(group: str, label, url_name: str, permission: str, icon: str = "circle", order: int = 100) -> None:
    _menu_changed()
    _MENU[group].items.append(MenuItem(label, url_name, permission, icon, order))


def menu_for(user) -> list[tuple[MenuGroup, list[MenuItem]]]:
    result = []
    for group in sorted(_MENU.values(), key=lambda g: g.order):
        items = [i for i in sorted(group.items, key=lambda i: i.order) if has_permission(user, i.permission)]
        if items:
            result.append((group, items))
    return result


def menu_html(user) -> str:
    """The navigation bar's menu (templates/portal/_menu.html) for the user's role in the active
    language, rendered once per role, language, script prefix and registry version."""
    key = (user.role if user.is_active else None, get_language(), get_script_prefix(), _menu_version)
    html = _rendered_menus.get(key)
    if html is None:
        html = _rendered_menus[key] = render_to_string("portal/_menu.html", {"menu": menu_for(user)})
    return html


# --- Person timeline --------------------------------------------------------------------------
@dataclass
class TimelineEntry:
    when: date | datetime
    kind: str  # short label, e.g. "走访"
    title: str
    url: str = ""
    icon: str = "dot"
    detail: str = ""

    @property
    def sort_key(self) -> datetime:
        if isinstance(self.when, datetime):
            return self.when.replace(tzinfo=None)
        return datetime(self.when.year, self.when.month, self.when.day)


# A provider takes (person, user, limit) and returns at most `limit` entries in one query.
TimelineProvider = Callable[..., list[TimelineEntry]]
_TIMELINE: list[TimelineProvider] = []


def timeline_provider(func: TimelineProvider) -> TimelineProvider:
    _TIMELINE.append(func)
    return func


def person_timeline(person, user, limit: int = 50) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for provider in _TIMELINE:
        entries.extend(provider(person, user, limit))
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return entries[:limit]


# --- Home page widgets ------------------------------------------------------------------------
# A widget takes (request) and returns a context dict for its template, or None to hide itself.
@dataclass
class HomeWidget:
    template: str
    context: Callable
    permission: str
    order: int = 100


_HOME: list[HomeWidget] = []


def home_widget(template: str, permission: str, order: int = 100):
    def decorator(func):
        _HOME.append(HomeWidget(template, func, permission, order))
        return func

    return decorator


def home_widgets_for(request) -> list[tuple[str, dict]]:
    result = []
    for widget in sorted(_HOME, key=lambda w: w.order):
        if not has_permission(request.user, widget.permission):
            continue
        context = widget.context(request)
        if context is not None:
            result.append((widget.template, context))
    return result


# --- History masking ---------------------------------------------------------------------------
# {field name: function(value) -> masked text}; the history of every model shows such a field
# masked, as the pages of the app that owns the data do.
_HISTORY_MASKS: dict[str, Callable[[str], str]] = {}


def history_mask(field_name: str, mask: Callable[[str], str]) -> None:
    _HISTORY_MASKS[field_name] = mask


def history_masks() -> dict[str, Callable[[str], str]]:
    return _HISTORY_MASKS


# --- Audit trail sources ----------------------------------------------------------------------
# A source gives a queryset annotated with the audit trail's columns (at, kind, who, ip, path and
# the one named by `detail`), added to the audit trail page as its own kind.
@dataclass
class AuditTrailSource:
    kind: str
    label: str
    queryset: Callable
    detail: str = "detail"


_AUDIT_TRAIL: list[AuditTrailSource] = []


def audit_trail_source(kind: str, label, detail: str = "detail"):
    def decorator(func):
        _AUDIT_TRAIL.append(AuditTrailSource(kind, label, func, detail))
        return func

    return decorator


def audit_trail_sources() -> list[AuditTrailSource]:
    return list(_AUDIT_TRAIL)
