"""Text that is safe to store and safe to hand out in a spreadsheet. One place for both rules:

- `clean_text`: text typed into a form, sent to the API or read from an imported file loses its C0
  control characters other than tab and newline (CR and LF: browsers send CRLF). They have no
  meaning in the portal's data and some of them (e.g. \\x0b) cannot be written to an xlsx file at all.
- `spreadsheet_text` / `imported_text`: a text cell of a CSV or xlsx export that Excel or WPS could
  read as a formula (it starts with = + - @, tab or CR) gets an apostrophe in front (OWASP "CSV
  injection"); the importers take that apostrophe off again, so an exported ledger re-imports
  unchanged. Text that already starts with apostrophes before such a character gets one more, so
  the round trip is exact for every text.
"""
from __future__ import annotations

import re

# C0 controls except tab (\x09) and the newline characters LF (\x0a) and CR (\x0d).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def clean_text(value: str) -> str:
    """`value` without C0 control characters other than tab and newline."""
    return CONTROL_CHARACTERS.sub("", value)


def spreadsheet_text(value: str) -> str:
    """A text cell as it is written to a CSV or xlsx export: never a formula, never unwritable."""
    value = CONTROL_CHARACTERS.sub("", value)
    return "'" + value if FORMULA_START.match(value) else value


def imported_text(value: str) -> str:
    """A text cell read from an imported file: the apostrophe spreadsheet_text() added is taken
    off, control characters are dropped."""
    if value.startswith("'") and FORMULA_START.match(value, 1):
        value = value[1:]
    return clean_text(value)


def install_form_and_api_cleaning() -> None:
    """Every text field of a Django form (model forms and filter forms included) and of a DRF
    serializer cleans its input with clean_text(); a serializer's text field takes only strings. Done once here rather than in each of the
    portal's many forms and serializers, so that a new one cannot forget it."""
    from django import forms
    from rest_framework import fields

    if getattr(forms.CharField, "_portal_cleans_text", False):
        return
    form_to_python = forms.CharField.to_python

    def to_python(self, value):
        value = form_to_python(self, value)
        return clean_text(value) if isinstance(value, str) else value

    forms.CharField.to_python = to_python
    forms.CharField._portal_cleans_text = True

    api_to_internal = fields.CharField.to_internal_value

    def to_internal_value(self, data):
        # JSON text is a string: a number where the schema says string is refused (DRF would
        # quietly turn 0 into "0"), as the schema promises.
        if not isinstance(data, str):
            self.fail("invalid")
        value = api_to_internal(self, data)
        return clean_text(value) if isinstance(value, str) else value

    fields.CharField.to_internal_value = to_internal_value
