"""The hardship household lifecycle as one pure table: (from status, action) → (to status, who may, guard).

Nothing here touches the database. Services (members/hardship/services.py) ask `check()` before
every step and write a HouseholdEvent in the same transaction; pages show only `allowed_actions()`.

    (new) ──register──▶ 在册 ──relieve (date + reason, second person)──▶ 已脱困
                         │ ▲                                              │
                         │ └──────────── reregister (返贫, date + reason) ─┘
                         ├──review (each quarter; stays 在册)
                         └──cancel (date + reason: left, died, wrongly registered) ──▶ 已注销 ──reregister──▶ 在册

Who may is a list of `Allow(roles, condition)`:
- SCOPE    — the household's person lies in the user's scope for hardship.change;
- LIAISON  — the user is the household's liaison (reviews only);
- ANY      — no condition beyond the role (administrators).

Guards are conditions on the step itself:
- DATE_AND_REASON — the step needs a date (not in the future) and a reason;
- SECOND_PERSON   — separation of duties: whoever (re-)registered the household does not confirm
                    it is out of hardship (portal.separation decides who that is).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Status

S = Status
NEW = ""  # a household not yet registered


class Action(models.TextChoices):
    REGISTER = "register", _("Register")
    REVIEW = "review", _("Record review")
    RELIEVE = "relieve", _("Confirm out of hardship")
    REREGISTER = "reregister", _("Re-register (back into hardship)")
    CANCEL = "cancel", _("Remove from the register")


class EventKind(models.TextChoices):
    IMPORTED = "imported", _("Imported")


EVENT_LABELS = {**dict(Action.choices), **dict(EventKind.choices)}
EVENT_LABELS.update({
    Action.REGISTER: _("Registered"), Action.REVIEW: _("Reviewed"), Action.RELIEVE: _("Out of hardship"),
    Action.REREGISTER: _("Re-registered"), Action.CANCEL: _("Removed from the register"),
})

SCOPE, LIAISON, ANY = "scope", "liaison", "any"
DATE_AND_REASON, SECOND_PERSON = "date_and_reason", "second_person"


@dataclass(frozen=True)
class Allow:
    roles: frozenset[str]
    condition: str


@dataclass(frozen=True)
class Transition:
    to: str
    allow: tuple[Allow, ...]
    guards: tuple[str, ...] = ()


MANAGERS = Allow(frozenset({"staff", "branch_secretary", "admin"}), SCOPE)
THE_LIAISON = Allow(frozenset({"staff", "branch_secretary"}), LIAISON)

T = Transition
TABLE: dict[tuple[str, str], Transition] = {
    (NEW, Action.REGISTER): T(S.REGISTERED, (MANAGERS,)),
    (S.REGISTERED, Action.REVIEW): T(S.REGISTERED, (MANAGERS, THE_LIAISON)),
    (S.REGISTERED, Action.RELIEVE): T(S.RELIEVED, (MANAGERS,), guards=(DATE_AND_REASON, SECOND_PERSON)),
    (S.REGISTERED, Action.CANCEL): T(S.CANCELLED, (MANAGERS,), guards=(DATE_AND_REASON,)),
    (S.RELIEVED, Action.REREGISTER): T(S.REGISTERED, (MANAGERS,), guards=(DATE_AND_REASON,)),
    (S.CANCELLED, Action.REREGISTER): T(S.REGISTERED, (MANAGERS,), guards=(DATE_AND_REASON,)),
}

# Steps a user chooses on the household page (register and review have their own forms).
STATUS_ACTIONS = (Action.RELIEVE, Action.REREGISTER, Action.CANCEL)


@dataclass(frozen=True)
class Facts:
    """What the table needs to know about the user and the step."""

    role: str
    in_scope: bool = False
    is_liaison: bool = False
    registered_it: bool = False  # portal.separation.own_work for the household's registration
    has_date_and_reason: bool = True


class WorkflowError(Exception):
    pass


def _condition_holds(condition: str, facts: Facts) -> bool:
    return {SCOPE: facts.in_scope, LIAISON: facts.is_liaison, ANY: True}[condition]


def _guard_holds(guard: str, facts: Facts) -> bool:
    if guard == DATE_AND_REASON:
        return facts.has_date_and_reason
    if guard == SECOND_PERSON:
        return not facts.registered_it
    raise KeyError(guard)


def _role_allowed(transition: Transition, facts: Facts) -> bool:
    return any(facts.role in a.roles and _condition_holds(a.condition, facts) for a in transition.allow)


def may(status: str, action: str, facts: Facts) -> bool:
    transition = TABLE.get((status, action))
    if transition is None or not _role_allowed(transition, facts):
        return False
    return all(_guard_holds(g, facts) for g in transition.guards)


def allowed_actions(status: str, facts: Facts) -> list[str]:
    """The actions this user may take now, in the order of Action. The date-and-reason guard is
    the form's to ask, so it is taken as met here."""
    offered = Facts(**{**facts.__dict__, "has_date_and_reason": True})
    return [action for action in Action.values if may(status, action, offered)]


def check(status: str, action: str, facts: Facts) -> Transition:
    """The transition, or WorkflowError with a message a user can read."""
    transition = TABLE.get((status, action))
    if transition is None:
        raise WorkflowError(
            _("“%(action)s” is not possible while the household is “%(status)s”.")
            % {"action": Action(action).label if action in Action.values else action,
               "status": Status(status).label if status in Status.values else _("not registered")}
        )
    if not _role_allowed(transition, facts):
        raise WorkflowError(_("You may not do this with this household."))
    for guard in transition.guards:
        if not _guard_holds(guard, facts):
            raise WorkflowError(GUARD_MESSAGES[guard])
    return transition


GUARD_MESSAGES = {
    DATE_AND_REASON: _("This step needs a date and a reason."),
    SECOND_PERSON: _("Whoever registered the household cannot also confirm it is out of hardship; "
                     "another person with the right must do it."),
}

# Reviews fall due each quarter from registration or the last review.
REVIEW_INTERVAL_MONTHS = 3


def next_review_on(since):
    from dateutil.relativedelta import relativedelta

    return since + relativedelta(months=REVIEW_INTERVAL_MONTHS)
