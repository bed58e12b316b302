"""Django's zh_Hans formats, with digits grouped by three where a number asks for grouping
(`intcomma`: 1,000,000 条记录) — Django's own leave NUMBER_GROUPING at 0, which prints 1000000."""
from django.conf.locale.zh_Hans.formats import *  # noqa: F403

NUMBER_GROUPING = 3
THOUSAND_SEPARATOR = ","
