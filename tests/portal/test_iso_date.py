"""`iso_date` prints the local day as `|date:"Y-m-d"` does, for the Jinja parts of long lists."""
import datetime

from django.template import Context, Template

from demands.calendar import TZ
from portal.templatetags.portal_dates import iso_date


def test_iso_date_prints_the_local_day_as_the_date_filter_does():
    values = [
        datetime.date(2026, 3, 1),
        datetime.date(999, 1, 2),
        # 2025-12-31 17:00 UTC is already 1 January 2026 in Shanghai
        datetime.datetime(2025, 12, 31, 17, 0, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 6, 30, 23, 59, tzinfo=TZ),
    ]
    django_filter = Template('{{ value|date:"Y-m-d" }}')
    for value in values:
        assert iso_date(value) == django_filter.render(Context({"value": value}))
    assert iso_date(values[2]) == "2026-01-01"
    assert iso_date(None) == ""
