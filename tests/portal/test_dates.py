"""Short dates in lists of deadlines: the year is shown when it is not this year."""
import datetime

import time_machine

from demands.calendar import TZ
from portal.templatetags.portal_dates import short_date


@time_machine.travel(datetime.datetime(2026, 1, 5, 9, 0, tzinfo=TZ))
def test_short_date_names_the_year_only_when_it_is_not_this_year():
    assert short_date(datetime.date(2026, 3, 1)) == "03-01"
    assert short_date(datetime.date(2025, 12, 31)) == "2025-12-31"
    assert short_date(datetime.date(2027, 1, 2)) == "2027-01-02"
    # 2025-12-31 17:00 UTC is already 1 January 2026 in Shanghai
    assert short_date(datetime.datetime(2025, 12, 31, 17, 0, tzinfo=datetime.timezone.utc)) == "01-01"
    assert short_date(None) == ""
