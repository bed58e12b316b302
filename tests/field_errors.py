"""Read a page the way a user sees a form error: the container of one field (the element marked
data-field="<name>", or crispy-forms' div_id_<name>) and what is inside it."""
from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Container(HTMLParser):
    def __init__(self, name: str):
        super().__init__(convert_charrefs=True)
        self.name, self.depth, self.parts, self.found = name, 0, [], False

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.parts.append(self.get_starttag_text())
            if tag not in VOID:
                self.depth += 1
        elif not self.found and tag not in VOID and (
                dict(attrs).get("data-field") == self.name or dict(attrs).get("id") == f"div_id_{self.name}"):
            self.depth, self.found = 1, True

    def handle_startendtag(self, tag, attrs):
        if self.depth:
            self.parts.append(self.get_starttag_text())

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.depth -= 1
            if self.depth:
                self.parts.append(f"</{tag}>")

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def field_container(page: str, name: str) -> str:
    """The inner HTML of the field's container; AssertionError when the page has none."""
    parser = _Container(name)
    parser.feed(page)
    assert parser.found, f'no container of the field "{name}" on the page'
    return "".join(parser.parts)
