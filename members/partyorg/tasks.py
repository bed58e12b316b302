from __future__ import annotations

import datetime

from celery import shared_task
from dateutil.relativedelta import relativedelta
from django.utils import timezone


@shared_task(acks_late=True)
def term_reminders(today: str | None = None) -> int:
    """Terms ending within six months: send the six-month and the one-month reminder, each once
    (services.term_send_reminder claims it with a conditional UPDATE)."""
    from . import services, workflow
    from .selectors import terms_ending_between

    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    sent = 0
    terms = terms_ending_between(day + datetime.timedelta(days=1), day + relativedelta(months=6)).values_list(
        "pk", "ends_on", "six_month_reminder_at", "one_month_reminder_at")
    for pk, ends_on, six, one in terms:
        done = {name for name, at in (("six_month", six), ("one_month", one)) if at}
        which = workflow.reminder_due(day, ends_on, done)
        if which:
            sent += services.term_send_reminder(pk, which, day)
    return sent
