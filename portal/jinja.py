"""The Jinja2 engine (settings.TEMPLATES, templates named *.jinja).

Pages are Django templates. A part of a page that repeats a few lines thousands of times (the
三会一课 matrix's windows) is a Jinja2 template included with `{% jinja "….jinja" %}`
(portal/templatetags/portal_jinja.py): Jinja2 compiles it to Python, where the Django template
engine resolves every variable at each use. Measured on the scale data (2026-12-06), the matrix of
32 branches: 146 ms of CPU through Django templates, see docs/performance.md for the figure after.

Texts are translated in Python and handed in (e.g. evaluation.dashboard.dashboard_texts); these
templates hold no text of their own, so `makemessages` finds every text where it is translated."""
from django.contrib.humanize.templatetags.humanize import intcomma
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import Environment

from portal.templatetags.portal_dates import iso_date, short_date


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(static=static, url=reverse)
    # The Django filters these parts share with the pages, so both print a figure or a date alike.
    env.filters.update(intcomma=intcomma, iso_date=iso_date, short_date=short_date)
    return env
