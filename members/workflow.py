"""Party member development (党员发展) rules as a pure table: stage order and minimum intervals.

Source: 中国共产党发展党员工作细则 — an activist is trained for at least one year before becoming a
development candidate; the probation period is one year before conversion (转正).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _

from .choices import DevelopmentStage as S
from .choices import PoliticalStatus

STAGE_ORDER = [S.APPLICANT, S.ACTIVIST, S.CANDIDATE, S.PROBATIONARY, S.FULL]

# stage -> (stage it is measured from, minimum interval)
MIN_INTERVALS: dict[str, tuple[str, relativedelta]] = {
    S.CANDIDATE: (S.ACTIVIST, relativedelta(years=1)),
    S.FULL: (S.PROBATIONARY, relativedelta(years=1)),
}

# The political status a person has once a stage is reached.
STATUS_AFTER_STAGE = {
    S.APPLICANT: PoliticalStatus.APPLICANT,
    S.ACTIVIST: PoliticalStatus.ACTIVIST,
    S.CANDIDATE: PoliticalStatus.ACTIVIST,
    S.PROBATIONARY: PoliticalStatus.PROBATIONARY_MEMBER,
    S.FULL: PoliticalStatus.FULL_MEMBER,
}

MINIMUM_APPLICATION_AGE = 18
CONVERSION_REMINDER_DAYS = 30


@dataclass(frozen=True)
class StageCheck:
    ok: bool
    message: str = ""


def next_stage(recorded: dict[str, datetime.date]) -> str | None:
    """The stage that may be recorded next, given the stages recorded so far."""
    reached = [s for s in STAGE_ORDER if s in recorded]
    if not reached:
        return None  # a person without history may start at any stage (records before the portal)
    index = STAGE_ORDER.index(reached[-1])
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else ""


def earliest_date(stage: str, recorded: dict[str, datetime.date]) -> datetime.date | None:
    rule = MIN_INTERVALS.get(stage)
    if rule and rule[0] in recorded:
        return recorded[rule[0]] + rule[1]
    return None


def check_stage(
    stage: str, on: datetime.date, recorded: dict[str, datetime.date], *, today: datetime.date,
    birth_date: datetime.date | None = None,
) -> StageCheck:
    if stage in recorded:
        return StageCheck(False, _("This stage has already been recorded."))
    if on > today:
        return StageCheck(False, _("A stage cannot be recorded with a date in the future."))
    expected = next_stage(recorded)
    if expected == "":
        return StageCheck(False, _("This person is already a full party member."))
    if expected is not None and stage != expected:
        return StageCheck(
            False, _("The next stage is “%(stage)s”; stages cannot be skipped.") % {"stage": S(expected).label}
        )
    previous = [recorded[s] for s in STAGE_ORDER if s in recorded]
    if previous and on < max(previous):
        return StageCheck(False, _("The date is before the previous stage."))
    earliest = earliest_date(stage, recorded)
    if earliest and on < earliest:
        return StageCheck(
            False,
            _("Too early: “%(stage)s” can be recorded on %(date)s at the earliest (minimum interval).")
            % {"stage": S(stage).label, "date": earliest.isoformat()},
        )
    if stage == S.APPLICANT and birth_date and birth_date + relativedelta(years=MINIMUM_APPLICATION_AGE) > on:
        return StageCheck(False, _("An applicant must be at least 18 years old on the date of application."))
    return StageCheck(True)


def conversion_due_on(probationary_on: datetime.date) -> datetime.date:
    return probationary_on + MIN_INTERVALS[S.FULL][1]
