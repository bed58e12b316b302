from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from portal import dbrouting

register = template.Library()


@register.simple_tag
def replica_lag():
    """`{% replica_lag %}`: on a page whose figures come from the read replica, how far behind they
    are ("数据延迟 3 秒"); nothing when the page reads the primary (portal/dbrouting.py)."""
    seconds = dbrouting.lag_seconds()
    if seconds is None:
        return ""
    return format_html(
        '<small class="badge text-bg-light border fw-normal" data-testid="replica-lag" title="{}">{}</small>',
        _("The figures come from the read replica, which follows the primary database."),
        _("Data delay %(seconds)s s") % {"seconds": seconds},
    )
