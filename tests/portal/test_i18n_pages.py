"""Every page reads in Chinese: walk the URLconf over the demo enterprise (seed_demo) as admin, manager
and branch secretary in zh-Hans and fail when an English string of the project's catalogue shows
untranslated — in the visible text or in the data the charts draw (json_script) — or when a page shows
a run of English words that is not in the catalogue at all (a string that never went through gettext,
or was never extracted with makemessages).

Empty and fuzzy catalogue entries are flagged by tests/portal/test_i18n.py."""
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from portal.models import User
from tests.portal.test_i18n import ZH_PO, messages

pytestmark = pytest.mark.django_db

ROLES = ("admin", "manager", "secretary")

# Not pages: JSON, files, admin of Django itself, sign-out, language switch, API documentation.
SKIP_PREFIXES = ("/api/", "/django-admin/", "/i18n/", "/logout/")
SKIP_NAME_PARTS = ("autocomplete", "export", "download", "file", "evidence", "template", "qr", "checkin")

# English that may stand on a Chinese page: format names, acronyms, product names.
ALLOWED = {"Excel", "CSV", "PDCA", "KPI", "API", "QR", "ECharts", "Excel (.xlsx)", "Swagger"}


class VisibleText(HTMLParser):
    """The text a reader sees, plus the strings of JSON data islands (chart labels)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0
        self._json = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):  # <code>: identifiers (file columns), not prose
            self._skip += 1
            self._json = tag == "script" and dict(attrs).get("type") == "application/json"

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1
            self._json = False

    def handle_data(self, data):
        if self._skip and self._json:
            try:
                self.texts.extend(_strings(json.loads(data)))
            except ValueError:
                pass
        elif not self._skip:
            text = " ".join(data.split())
            if text:
                self.texts.append(text)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdfi]|\{\{?\s*\w+\s*\}?\}")


def catalogue_patterns() -> list[tuple[str, re.Pattern]]:
    """(msgid, regex matching the msgid as it would appear with its placeholders filled) for every
    translated entry whose translation differs from the English."""
    patterns = []
    for entry in messages(ZH_PO):
        translated = entry.msgstr.get(0, "")
        msgid = entry.msgid.replace("%%", "%")
        if not translated or translated == entry.msgid or msgid in ALLOWED \
                or not re.search(r"[A-Za-z]{2}", PLACEHOLDER.sub("", msgid)):
            continue
        pieces = [re.escape(" ".join(p.split())) for p in PLACEHOLDER.split(msgid)]
        words = len(re.findall(r"[A-Za-z]+", msgid))
        body = r".+?".join(pieces)
        # A one-word msgid counts only as a whole text node shown as a label ("Closed", "Status"):
        # a lower-case word alone is data (a user name "handler"). Longer ones count anywhere.
        if words < 2:
            pattern = rf"^{body[0].upper()}{body[1:]}$"
        else:
            pattern = rf"(?<![A-Za-z]){body}(?![A-Za-z])"
        patterns.append((entry.msgid, re.compile(pattern)))
    return patterns


# Two or more English words in a row ("Requested by", "Received in the period").
# A hyphenated token (a format such as YYYY-MM) is one word.
ENGLISH_RUN = re.compile(r"(?<![\w@./:-])[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,})+(?![\w@./:-])")


def untranslated(texts: list[str], patterns) -> set[str]:
    found = set()
    for text in texts:
        if text in ALLOWED:
            continue
        for msgid, pattern in patterns:
            if pattern.search(text):
                found.add(f"catalogue msgid {msgid!r} in {text[:80]!r}")
        for run in ENGLISH_RUN.findall(text):
            found.add(f"English words {run!r} in {text[:80]!r}")
    return found


def page_urls(user) -> list[str]:
    """GET-able pages of the URLconf: every pattern without arguments, and patterns with one `pk`
    filled with an object of the view's model that this user may see (first by id)."""
    from django.apps import apps  # noqa: F401  (models are loaded)

    urls = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                name = p.name or ""
                if any(part in name for part in SKIP_NAME_PARTS) or route.startswith(tuple(s.lstrip("/") for s in SKIP_PREFIXES)):
                    continue
                converters = re.findall(r"<(?:(\w+):)?(\w+)>", route)
                if not converters:
                    urls.append("/" + route)
                elif converters == [("int", "pk")]:
                    view = getattr(p.callback, "view_class", None)
                    queryset = getattr(view, "queryset", None)
                    model = queryset.model if queryset is not None else getattr(view, "model", None)
                    if model is None:
                        continue
                    pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
                    if pk is not None:
                        urls.append("/" + re.sub(r"<int:pk>", str(pk), route))

    walk(get_resolver().url_patterns)
    return sorted(set(urls))


def test_every_page_reads_in_chinese(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    patterns = catalogue_patterns()
    assert len(patterns) > 500
    problems, walked = [], 0
    for username in ROLES:
        client.force_login(User.objects.get(username=username))
        for url in page_urls(User.objects.get(username=username)):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            walked += 1
            html = response.content.decode()
            problems += [f"{username} {url}: {p}" for p in sorted(untranslated(visible_texts(html), patterns))]
    assert walked > 60
    assert not problems, "\n".join(problems)


def test_detector_finds_an_untranslated_label():
    """The test above would notice a label left in English (and the chart data of a page)."""
    patterns = catalogue_patterns()
    html = ('<h1>诉求</h1><td>Closed</td><script type="application/json">{"funnel": [{"name": "Received in '
            'the period"}]}</script><p>共 3 条</p><span>Excel</span>')
    found = untranslated(visible_texts(html), patterns)
    assert any("'Closed'" in f for f in found)
    assert any("Received in the period" in f for f in found)
    assert not any("Excel" in f for f in found)
