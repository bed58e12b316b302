"""Pure rules: the transfer workflow as one table, letter numbers, term dates and reminders, and
when a mobile period is current. Nothing here touches the database.

Transfer table: (status, action) → (to status, who may). Who may is a list of `Allow(roles,
condition)`; a step is allowed when the user's role is in one entry and that entry's condition holds:

- CHANGE    — the user may manage transfers (transfers.change) over the unit it leaves or joins;
- SUBMITTER — the user created the request;
- BRANCH    — the user has approval reach (transfers.approve) over the deciding branch: the branch
              the member leaves (out, within) or, for a transfer in, the branch that receives them;
              and it is not their own work (portal.separation);
- COMMITTEE — the user's approval reach holds every unit of the transfer and lies strictly above the
              deciding branch (the party committee over it), and it is not their own work — which
              includes having approved it at the branch (two different people decide).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import StepAction, TransferStatus

S = TransferStatus


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit for approval")
    APPROVE_BRANCH = "approve_branch", _("Approve for the branch")
    APPROVE_COMMITTEE = "approve_committee", _("Approve for the committee")
    COMPLETE = "complete", _("Record completion")
    REJECT = "reject", _("Reject")
    WITHDRAW = "withdraw", _("Withdraw")


# Past-tense labels for the step list ("create" and "imported" are not actions of the table).
STEP_LABELS = dict(StepAction.choices)

CHANGE, SUBMITTER, BRANCH, COMMITTEE = "change", "submitter", "branch", "committee"


@dataclass(frozen=True)
class Allow:
    roles: frozenset[str]
    condition: str


@dataclass(frozen=True)
class Transition:
    to: str
    allow: tuple[Allow, ...]


MANAGERS = Allow(frozenset({"staff", "branch_secretary", "admin"}), CHANGE)
OWN = Allow(frozenset({"staff", "branch_secretary", "admin"}), SUBMITTER)
BRANCH_APPROVERS = Allow(frozenset({"staff", "branch_secretary", "admin"}), BRANCH)
COMMITTEE_APPROVERS = Allow(frozenset({"staff", "branch_secretary", "manager", "admin"}), COMMITTEE)

T = Transition
TABLE: dict[tuple[str, str], Transition] = {
    (S.DRAFT, Action.SUBMIT): T(S.SUBMITTED, (MANAGERS,)),
    (S.DRAFT, Action.WITHDRAW): T(S.WITHDRAWN, (OWN, MANAGERS)),

    (S.SUBMITTED, Action.APPROVE_BRANCH): T(S.BRANCH_APPROVED, (BRANCH_APPROVERS,)),
    (S.SUBMITTED, Action.REJECT): T(S.REJECTED, (BRANCH_APPROVERS,)),
    (S.SUBMITTED, Action.WITHDRAW): T(S.WITHDRAWN, (OWN, MANAGERS)),

    (S.BRANCH_APPROVED, Action.APPROVE_COMMITTEE): T(S.COMMITTEE_APPROVED, (COMMITTEE_APPROVERS,)),
    (S.BRANCH_APPROVED, Action.REJECT): T(S.REJECTED, (COMMITTEE_APPROVERS,)),
    (S.BRANCH_APPROVED, Action.WITHDRAW): T(S.WITHDRAWN, (OWN, MANAGERS)),

    # The letter is out; the member reports (or the receipt comes back) and the move is recorded.
    (S.COMMITTEE_APPROVED, Action.COMPLETE): T(S.COMPLETED, (MANAGERS,)),
    (S.COMMITTEE_APPROVED, Action.REJECT): T(S.REJECTED, (COMMITTEE_APPROVERS,)),
    (S.COMMITTEE_APPROVED, Action.WITHDRAW): T(S.WITHDRAWN, (OWN, MANAGERS)),
}

# Actions that need a comment saying why.
NEEDS_COMMENT = frozenset({Action.REJECT, Action.WITHDRAW})


@dataclass(frozen=True)
class Facts:
    role: str
    may_change: bool = False
    is_submitter: bool = False
    branch_reach: bool = False
    committee_reach: bool = False
    own_work: bool = False


class WorkflowError(Exception):
    pass


def _holds(condition: str, facts: Facts) -> bool:
    return {
        CHANGE: facts.may_change,
        SUBMITTER: facts.is_submitter,
        BRANCH: facts.branch_reach and not facts.own_work,
        COMMITTEE: facts.committee_reach and not facts.own_work,
    }[condition]


def may(status: str, action: str, facts: Facts) -> bool:
    transition = TABLE.get((status, action))
    if transition is None:
        return False
    return any(facts.role in allow.roles and _holds(allow.condition, facts) for allow in transition.allow)


def allowed_actions(status: str, facts: Facts) -> list[str]:
    return [action for action in Action.values if may(status, action, facts)]


def is_approval(status: str, action: str) -> bool:
    """A decision by an approver (separation of duties applies)."""
    transition = TABLE.get((status, action))
    return transition is not None and any(a.condition in (BRANCH, COMMITTEE) for a in transition.allow)


def check(status: str, action: str, facts: Facts) -> Transition:
    transition = TABLE.get((status, action))
    if transition is None:
        raise WorkflowError(
            _("“%(action)s” is not possible while the transfer is “%(status)s”.")
            % {"action": Action(action).label if action in Action.values else action, "status": S(status).label}
        )
    if not may(status, action, facts):
        raise WorkflowError(_("You may not do this with this transfer."))
    return transition


# --- Letter numbers ------------------------------------------------------------------------------
def letter_number(year: int, seq: int) -> str:
    """2026-0001: the year of issue and the count within that year."""
    return f"{year}-{seq:04d}"


# --- Terms ---------------------------------------------------------------------------------------
DEFAULT_TERM_YEARS = {"branch": 3, "general_branch": 3, "committee": 5}
REMINDERS = (("six_month", relativedelta(months=6)), ("one_month", relativedelta(months=1)))


def default_term_years(unit_kind: str) -> int:
    """Branches (and general branches) are elected for three years, committees for five."""
    return DEFAULT_TERM_YEARS.get(unit_kind, 3)


def term_ends_on(elected_on: datetime.date, years: int) -> datetime.date:
    """The anniversary `years` after the election (29 February ends on 28 February)."""
    return elected_on + relativedelta(years=years)


def reminder_due(today: datetime.date, ends_on: datetime.date, sent: set[str]) -> str | None:
    """Which reminder is due on `today` for a term ending on `ends_on`: the one-month reminder from a
    month before the end, the six-month one from six months before (unless the one-month one is
    already due: a late six-month notice would only repeat it). None when nothing (more) is due."""
    if today >= ends_on:
        return None  # overdue terms are listed for the committee, not reminded daily
    if today >= ends_on - relativedelta(months=1):
        return None if "one_month" in sent else "one_month"
    if today >= ends_on - relativedelta(months=6):
        return None if "six_month" in sent else "six_month"
    return None


def is_overdue(today: datetime.date, ends_on: datetime.date, closed_on: datetime.date | None) -> bool:
    return closed_on is None and ends_on <= today


# --- Mobile members ------------------------------------------------------------------------------
def period_is_current(today: datetime.date, started_on: datetime.date, ended_on: datetime.date | None) -> bool:
    return started_on <= today and (ended_on is None or ended_on >= today)
