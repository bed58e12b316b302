"""The demand workflow as one pure table: (from status, action) → (to status, who may, guard).

Nothing here touches the database. Services (demands/services.py) ask `check()` before every step
and write a DemandEvent in the same transaction; pages show only `allowed_actions()`.

Who may is a list of `Allow(roles, condition)`; a step is allowed when the user's role is in one of
them and that entry's condition holds:

- SCOPE     — the demand lies inside the user's scope for managing demands (permission
              demands.manage: the scope unit and its descendants; administrators: everywhere);
- ASSIGNED  — the user is the demand's handler;
- SUBMITTER — the user's person is the demand's submitter;
- LINK      — the holder of a valid one-time rating link (no account: role PUBLIC);
- ANY       — no condition beyond the role.

A guard is a condition on the demand itself (e.g. a reopen needs a rating of 2 or less).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Status

S = Status


class Action(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    REJECT = "reject", _("Do not accept")
    TRANSFER = "transfer", _("Transfer")
    REPLY = "reply", _("Reply")
    RESOLVE = "resolve", _("Resolve")
    RETURN_VISIT = "return_visit", _("Record return visit")
    RATE = "rate", _("Rate")
    CLOSE = "close", _("Close")
    REOPEN = "reopen", _("Reopen")
    WITHDRAW = "withdraw", _("Withdraw")
    MERGE = "merge", _("Merge as duplicate")


# Timeline entries that are not user actions of the table.
class EventKind(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    ESCALATE = "escalate", _("Escalated to the unit above")
    MERGED_IN = "merged_in", _("Duplicate merged in")
    IMPORTED = "imported", _("Imported")
    IMPORT_UPDATED = "import_updated", _("Updated by import")
    RECOMPUTED = "recomputed", _("Deadlines recomputed on the official calendar")


EVENT_LABELS = {**dict(Action.choices), **dict(EventKind.choices)}
# Past-tense labels for the timeline.
EVENT_LABELS.update({
    Action.ACCEPT: _("Accepted"), Action.REJECT: _("Not accepted"), Action.TRANSFER: _("Transferred"),
    Action.REPLY: _("Replied"), Action.RESOLVE: _("Resolved"), Action.RETURN_VISIT: _("Return visit recorded"),
    Action.RATE: _("Rated by the submitter"), Action.CLOSE: _("Closed"), Action.REOPEN: _("Reopened"),
    Action.WITHDRAW: _("Withdrawn"), Action.MERGE: _("Merged as duplicate"),
})

# Conditions.
SCOPE, ASSIGNED, SUBMITTER, LINK, ANY = "scope", "assigned", "submitter", "link", "any"
# Guards.
LOW_RATING = "low_rating"
REOPEN_MAX_RATING = 2

# The pseudo-role of someone holding a rating link without logging in.
PUBLIC = "public"
ALL_ROLES = frozenset({"employee", "staff", "handler", "branch_secretary", "manager", "admin"})


@dataclass(frozen=True)
class Allow:
    roles: frozenset[str]
    condition: str


@dataclass(frozen=True)
class Transition:
    to: str
    allow: tuple[Allow, ...]
    guard: str | None = None


# Accept, classify, assign, transfer, return visits: staff and branch secretaries in their scope.
MANAGERS = Allow(frozenset({"staff", "branch_secretary", "admin"}), SCOPE)
# Reply and resolve: whoever the demand is assigned to (roles.md: staff, handler, secretary).
HANDLER = Allow(frozenset({"staff", "handler", "branch_secretary"}), ASSIGNED)
ADMIN = Allow(frozenset({"admin"}), ANY)
OWN = Allow(ALL_ROLES, SUBMITTER)
LINK_HOLDER = Allow(frozenset({PUBLIC}), LINK)

T = Transition
TABLE: dict[tuple[str, str], Transition] = {
    (S.PENDING, Action.ACCEPT): T(S.ACCEPTED, (MANAGERS,)),
    (S.PENDING, Action.REJECT): T(S.REJECTED, (MANAGERS,)),
    (S.PENDING, Action.WITHDRAW): T(S.WITHDRAWN, (OWN, MANAGERS)),
    (S.PENDING, Action.MERGE): T(S.CLOSED, (MANAGERS,)),

    (S.ACCEPTED, Action.REPLY): T(S.IN_PROGRESS, (HANDLER, ADMIN)),
    (S.ACCEPTED, Action.RESOLVE): T(S.RESOLVED, (HANDLER, ADMIN)),
    (S.ACCEPTED, Action.TRANSFER): T(S.ACCEPTED, (MANAGERS,)),
    (S.ACCEPTED, Action.WITHDRAW): T(S.WITHDRAWN, (OWN, MANAGERS)),
    (S.ACCEPTED, Action.MERGE): T(S.CLOSED, (MANAGERS,)),

    (S.IN_PROGRESS, Action.REPLY): T(S.IN_PROGRESS, (HANDLER, ADMIN)),
    (S.IN_PROGRESS, Action.RESOLVE): T(S.RESOLVED, (HANDLER, ADMIN)),
    (S.IN_PROGRESS, Action.TRANSFER): T(S.IN_PROGRESS, (MANAGERS,)),
    (S.IN_PROGRESS, Action.WITHDRAW): T(S.WITHDRAWN, (OWN, MANAGERS)),
    (S.IN_PROGRESS, Action.MERGE): T(S.CLOSED, (MANAGERS,)),

    (S.RESOLVED, Action.RETURN_VISIT): T(S.VISITED, (MANAGERS,)),
    (S.RESOLVED, Action.RATE): T(S.VISITED, (OWN, LINK_HOLDER)),
    (S.RESOLVED, Action.CLOSE): T(S.CLOSED, (MANAGERS,)),

    # 重新办理: after a dissatisfied rating (2 or less).
    (S.VISITED, Action.REOPEN): T(S.IN_PROGRESS, (MANAGERS,), guard=LOW_RATING),
}


@dataclass(frozen=True)
class Facts:
    """What the table needs to know about the user and the demand."""

    role: str
    in_scope: bool = False
    is_assigned: bool = False
    is_submitter: bool = False
    via_link: bool = False
    rating: int | None = None


class WorkflowError(Exception):
    pass


def _condition_holds(condition: str, facts: Facts) -> bool:
    return {
        SCOPE: facts.in_scope,
        ASSIGNED: facts.is_assigned,
        SUBMITTER: facts.is_submitter,
        LINK: facts.via_link,
        ANY: True,
    }[condition]


def _guard_holds(guard: str | None, facts: Facts) -> bool:
    if guard is None:
        return True
    if guard == LOW_RATING:
        return facts.rating is not None and facts.rating <= REOPEN_MAX_RATING
    raise KeyError(guard)


def may(status: str, action: str, facts: Facts) -> bool:
    transition = TABLE.get((status, action))
    if transition is None or not _guard_holds(transition.guard, facts):
        return False
    return any(facts.role in allow.roles and _condition_holds(allow.condition, facts) for allow in transition.allow)


def allowed_actions(status: str, facts: Facts) -> list[str]:
    """The actions this user may take now, in the order of Action."""
    return [action for action in Action.values if may(status, action, facts)]


def check(status: str, action: str, facts: Facts) -> Transition:
    """The transition, or WorkflowError with a message a user can read."""
    transition = TABLE.get((status, action))
    if transition is None:
        raise WorkflowError(
            _("“%(action)s” is not possible while the demand is “%(status)s”.")
            % {"action": Action(action).label if action in Action.values else action, "status": Status(status).label}
        )
    if not _guard_holds(transition.guard, facts):
        raise WorkflowError(_("A demand can be reopened only after a rating of %(n)d or less.") % {"n": REOPEN_MAX_RATING})
    if not may(status, action, facts):
        raise WorkflowError(_("You may not do this with this demand."))
    return transition


def derive_status(
    first_response_at: datetime.datetime | None, resolved_at: datetime.datetime | None,
    return_visit_at: datetime.datetime | None,
) -> str:
    """The status the timestamps imply (imports; withdrawn/rejected/pending/closed are explicit)."""
    if return_visit_at:
        return S.VISITED
    if resolved_at:
        return S.RESOLVED
    if first_response_at:
        return S.IN_PROGRESS
    return S.ACCEPTED
