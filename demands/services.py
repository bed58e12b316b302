"""Writes for demands, mediation, visits and life events. Views, forms, importers, the API and
Celery tasks call these; nothing else changes these models.

Every workflow step locks the demand row, asks the transition table (workflow.check), changes the
demand and appends a DemandEvent (hash-chained) in the same transaction.
"""
from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import OrgUnit, Person
from portal import robots
from portal.models import RobotKind, User
from portal.notifications import notify
from portal.recipients import HEADS, recipients_for, supervisors_of
from portal.roles import SCOPE, has_permission, reaches
from portal.scope import visible

from . import chain, workflow
from .choices import EMPLOYEE_CHANNELS, SlaFlag, Status, VisitKind
from .models import (
    Demand, DemandAttachment, DemandEvent, LifeEvent, MediationCase, MediationFollowUp, MediationSession, RefCounter,
    SuggestionStage, Visit, VisitPhoto,
)
from .selectors import not_visited_q, open_deadline_q, overdue_q
from .sla import Sla
from .workflow import Action, EventKind, Facts, WorkflowError

__all__ = ["WorkflowError"]

REF_PREFIX = {Demand: "SQ", MediationCase: "TJ", LifeEvent: "SJ", Visit: "ZF"}
RATING_SALT = "demands.rating-link"
RATING_LINK_DAYS = 14
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
HEAD_ROLES = HEADS  # the staff and branch secretaries (portal.recipients)


def now_s() -> datetime.datetime:
    """Now, to the second: business timestamps are kept at second precision, so that an export
    (which writes seconds) re-imports unchanged."""
    return timezone.now().replace(microsecond=0)


# --- References and codes ------------------------------------------------------------------------
def next_ref(model, at: datetime.datetime | None = None) -> str:
    """SQ2026-000123: prefix, year, a per-year number. Skips numbers an import already used."""
    prefix = REF_PREFIX[model]
    year = timezone.localtime(at or timezone.now()).year
    counter, _created = RefCounter.objects.get_or_create(prefix=prefix, year=year)
    while True:
        RefCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
        value = RefCounter.objects.values_list("value", flat=True).get(pk=counter.pk)
        ref = f"{prefix}{year}-{value:06d}"
        if not model.objects.filter(ref=ref).exists():
            return ref


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(12))


def normalize_tracking_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def format_tracking_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4)) if code else ""


# --- Who is who ------------------------------------------------------------------------------------
def in_manage_scope(demand: Demand, user) -> bool:
    """Is the demand inside the user's scope for managing demands? (one query, the scope layer)"""
    if not getattr(user, "is_authenticated", False) or not has_permission(user, "demands.manage"):
        return False
    if getattr(demand, "manage_scope_user", None) == user.pk:  # selectors.with_manage_scope
        return demand.in_manage_scope
    return visible(Demand.objects.filter(pk=demand.pk), user, "demands.manage").exists()


def facts_for(demand: Demand, user, *, via_link: bool = False) -> Facts:
    if via_link or user is None or not user.is_authenticated:
        return Facts(role=workflow.PUBLIC, via_link=via_link, rating=demand.rating)
    return Facts(
        role=user.role,
        in_scope=in_manage_scope(demand, user),
        is_assigned=demand.handler_id is not None and demand.handler_id == user.pk,
        is_submitter=bool(user.person_id) and demand.submitter_id == user.person_id,
        rating=demand.rating,
    )


def allowed_actions(demand: Demand, user) -> list[str]:
    return workflow.allowed_actions(demand.status, facts_for(demand, user))


def unit_heads(unit: OrgUnit, *, above: bool = False) -> tuple[list[User], OrgUnit | None]:
    """The staff and branch secretaries of the nearest unit, going up from `unit` (or from its
    parent when `above`), that has any: the one rule of portal.recipients. One query."""
    return tuple(recipients_for(unit, HEAD_ROLES, above=above))


def acceptor_of(demand: Demand) -> User | None:
    """The staff member who accepted the demand (the actor of its latest 受理 step)."""
    event = (
        DemandEvent.objects.filter(demand_id=demand.pk, action=Action.ACCEPT, actor__isnull=False)
        .select_related("actor").order_by("-seq").first()
    )
    return event.actor if event is not None and event.actor.is_active else None


def responsible_unit(demand: Demand) -> OrgUnit:
    return demand.lead_unit or demand.org_unit


# --- The timeline ----------------------------------------------------------------------------------
def record_event(
    demand: Demand, action: str, *, by=None, actor_label: str = "", at: datetime.datetime | None = None,
    from_status: str = "", to_status: str = "", note: str = "", data: dict | None = None,
) -> DemandEvent:
    """Append an event to the demand's chain. The caller holds the demand's row lock."""
    last = DemandEvent.objects.filter(demand_id=demand.pk).order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, "")
    event = DemandEvent(
        demand_id=demand.pk, seq=seq, action=action, from_status=from_status, to_status=to_status,
        actor_id=by.pk if by is not None else None, actor_label=actor_label if by is None else "",
        at=at or now_s(), note=note, data=data or {},
    )
    chain.seal(event, prev_hash)
    event.save(force_insert=True)
    Demand.objects.filter(pk=demand.pk).update(chain_head=event.hash)
    demand.chain_head = event.hash
    return event


def _lock(demand: Demand) -> Demand:
    return Demand.objects.select_for_update(of=("self",)).select_related("org_unit", "lead_unit").get(pk=demand.pk)


def _step(demand: Demand, action: str, by, *, via_link: bool = False) -> tuple[Demand, workflow.Transition]:
    locked = _lock(demand)
    transition = workflow.check(locked.status, action, facts_for(locked, by, via_link=via_link))
    return locked, transition


def _attach(demand: Demand, event: DemandEvent, files: Iterable, by) -> None:
    for upload in files or ():
        DemandAttachment.objects.create(
            demand=demand, event=event, file=upload, original_name=upload.name[:200], size=upload.size, uploaded_by=by
        )


def _notify_users(users: Iterable[User], demand: Demand, title: str, key: str, body: str = "", url: str = "") -> None:
    for user in {u.pk: u for u in users if u is not None}.values():
        notify(user, title=title, body=body, url=url or demand.get_absolute_url(), key=f"{key}:{user.pk}")


def _submitter_accounts(demand: Demand) -> list[User]:
    """The submitter and the submitters of the duplicates merged into the demand: what is said on
    the kept demand reaches everyone who raised it."""
    # Two indexed lookups: an OR across the join to every person's demands made PostgreSQL scan
    # the accounts against the demands (over a second per reply at a million demands).
    merged = Demand.objects.filter(merged_into=demand, submitter__isnull=False).values("submitter_id")
    people = Q(person_id__in=merged) | (Q(person_id=demand.submitter_id) if demand.submitter_id else Q(pk__in=[]))
    return list(User.objects.filter(people, is_active=True))


def _submitter_account(demand: Demand) -> User | None:
    if demand.submitter_id is None:
        return None
    return User.objects.filter(person_id=demand.submitter_id, is_active=True).first()


def _codes(units) -> list[str]:
    return sorted(u.code for u in units)


# --- Intake ------------------------------------------------------------------------------------------
def may_submit_on_behalf(user) -> bool:
    """Staff and secretaries (and administrators) enter demands for the people of their scope."""
    return SCOPE in reaches(user, "demands.submit") or user.role == "admin"


def intake_parties(*, by, submitter: Person | None, org_unit: OrgUnit | None,
                   channel: str | None = None) -> tuple[Person | None, OrgUnit]:
    """The intake rule (the page, the API and `demand_submit` all apply this one): who a demand is
    for and which unit it belongs to. Staff and secretaries enter a demand for a person of their
    scope, or anonymously, in a unit of their scope (by default the submitter's); everyone else
    submits their own demand, in their own unit, through an employee channel. Raises a
    ValidationError keyed by the field at fault."""
    if not may_submit_on_behalf(by):
        person = by.person
        if person is None:
            raise ValidationError(_("Your account is not linked to a person record; ask the party-mass office to enter your demand."))
        if channel is not None and channel not in EMPLOYEE_CHANNELS:
            raise ValidationError({"channel": _("Only the party-mass office may enter demands through this channel.")})
        return person, person.org_unit
    if submitter is not None and not visible(Person.objects.filter(pk=submitter.pk), by, "demands.submit").exists():
        raise ValidationError({"submitter": _("This person is outside your scope.")})
    if org_unit is None:
        if submitter is None:
            raise ValidationError({"org_unit": _("Choose the unit (needed for an anonymous demand).")})
        org_unit = submitter.org_unit
    if not visible(OrgUnit.objects.filter(pk=org_unit.pk), by, "orgunits.view").exists():
        raise ValidationError({"org_unit": _("The submitter's unit is outside your scope; choose a unit.")})
    return submitter, org_unit


@transaction.atomic
def demand_submit(
    *, title: str, content: str, category, urgency: str, channel: str, org_unit: OrgUnit | None, submitter: Person | None = None,
    by=None, service_group: str = "", visit: Visit | None = None, received_at: datetime.datetime | None = None,
    ref: str | None = None, sla: Sla | None = None, files: Iterable = (), suggest: bool = False,
) -> Demand:
    """Receive a demand (待受理). Deadlines come from the SLA policy; the clock starts now. `files`
    (photos, documents; checked by the form) are kept with the demand, on its submit step. An
    account submitting is held to the intake rule (`intake_parties`); the public form has none.
    `suggest` (the intake forms): the text model's suggestion for the text is recorded beside the
    submitter's choice (text_services.record_suggestion); imports leave it off."""
    if by is not None and by.is_authenticated:
        submitter, org_unit = intake_parties(by=by, submitter=submitter, org_unit=org_unit, channel=channel)
    received_at = (received_at or now_s()).replace(microsecond=0)
    sla = sla or Sla.load()
    response_due, resolution_due = sla.due_dates(category.pk, urgency, received_at)
    if not service_group and submitter is not None and submitter.tags:
        service_group = submitter.tags[0][:30]
    demand = Demand.objects.create(
        ref=ref or next_ref(Demand, received_at), title=title, content=content, category=category, urgency=urgency,
        channel=channel, service_group=service_group, org_unit=org_unit, submitter=submitter, status=Status.PENDING,
        received_at=received_at, response_due_at=response_due, resolution_due_at=resolution_due, visit=visit,
        deadline_unconfirmed=sla.is_unconfirmed(received_at, response_due, resolution_due),
        tracking_code=new_tracking_code(), created_by=by if by is not None and by.is_authenticated else None,
    )
    by_user = by if by is not None and by.is_authenticated else None
    event = record_event(
        demand, EventKind.SUBMIT, by=by_user, actor_label="submitter", at=received_at, to_status=Status.PENDING,
        data={"channel": channel, "category": category.code, "urgency": urgency, "org_unit": org_unit.code,
              **({"visit": visit.ref} if visit else {})},
    )
    _attach(demand, event, files, by_user)
    if suggest:
        from . import text_services

        suggestion = text_services.suggest_for(demand)
        if suggestion is not None:
            text_services.record_suggestion(demand, suggestion, stage=SuggestionStage.INTAKE, category=category,
                                            urgency=urgency, lead_unit=None)
    heads, _unit = unit_heads(org_unit)
    _notify_users(heads, demand, _("New demand %(ref)s: %(title)s") % {"ref": demand.ref, "title": title},
                  key=f"demand-event:{event.pk}")
    return demand


# --- Workflow steps ----------------------------------------------------------------------------------
@transaction.atomic
def demand_accept(
    *, demand: Demand, by, category, urgency: str, handler: User, lead_unit: OrgUnit | None = None,
    cooperating_units: Iterable[OrgUnit] = (), note: str = "", suggestion=None,
) -> Demand:
    """受理: classify, assign lead unit, cooperating units and handler (资源适配). `suggestion` is
    the text model's suggestion shown on the page (text_services.Suggestion): the human's choice
    is what is saved; the event records what was suggested and which parts were taken."""
    demand, transition = _step(demand, Action.ACCEPT, by)
    _check_handler(handler)
    from_status = demand.status
    reclassified = (demand.category_id, demand.urgency) != (category.pk, urgency)
    demand.category, demand.urgency = category, urgency
    fields = ["category", "urgency", "lead_unit", "handler", "status", "updated_at"]
    if reclassified:
        # The deadlines follow the new classification, counted from the moment of receipt.
        sla = Sla.load()
        demand.response_due_at, demand.resolution_due_at = sla.due_dates(category.pk, urgency, demand.received_at)
        demand.deadline_unconfirmed = sla.is_unconfirmed(demand.received_at, demand.response_due_at, demand.resolution_due_at)
        demand.response_flag = demand.resolution_flag = SlaFlag.NONE
        fields += ["response_due_at", "resolution_due_at", "deadline_unconfirmed", "response_flag", "resolution_flag"]
    demand.lead_unit = lead_unit or demand.org_unit
    demand.handler = handler
    demand.status = transition.to
    demand.save(update_fields=fields)
    cooperating = list(cooperating_units)
    demand.cooperating_units.set(cooperating)
    if suggestion is not None:
        from . import text_services

        text_services.record_suggestion(demand, suggestion, stage=SuggestionStage.ACCEPT, category=category,
                                        urgency=urgency, lead_unit=demand.lead_unit)
    event = record_event(
        demand, Action.ACCEPT, by=by, from_status=from_status, to_status=transition.to, note=note,
        data={"category": category.code, "urgency": urgency, "lead_unit": demand.lead_unit.code,
              "cooperating_units": _codes(cooperating), "handler": handler.username,
              **({"suggestion": suggestion.taken(category=category, urgency=urgency, lead_unit=demand.lead_unit)}
                 if suggestion is not None else {})},
    )
    _notify_users([handler], demand, _("Demand %(ref)s is assigned to you: %(title)s") % {"ref": demand.ref, "title": demand.title},
                  key=f"demand-event:{event.pk}")
    return demand


def priority_weights_changed() -> None:
    """The administrator changed the weights: the stored priority list is recomputed (queued once
    the change is committed)."""
    from .tasks import compute_priority_list

    transaction.on_commit(compute_priority_list.delay)


def _check_handler(handler: User) -> None:
    if handler is None or not handler.is_active or not has_permission(handler, "demands.handle"):
        raise ValidationError({"handler": _("This account cannot handle demands.")})


@transaction.atomic
def demand_reject(*, demand: Demand, by, reason: str) -> Demand:
    """不予受理, with the reason the submitter is told."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    demand, transition = _step(demand, Action.REJECT, by)
    now = now_s()
    from_status = demand.status
    demand.status = transition.to
    demand.first_response_at = demand.first_response_at or now
    demand.resolution = reason
    demand.save(update_fields=["status", "first_response_at", "resolution", "updated_at"])
    event = record_event(demand, Action.REJECT, by=by, at=now, from_status=from_status, to_status=transition.to, note=reason)
    _notify_users([_submitter_account(demand)], demand, _("Your demand %(ref)s was not accepted") % {"ref": demand.ref},
                  key=f"demand-event:{event.pk}", body=reason)
    return demand


@transaction.atomic
def demand_withdraw(*, demand: Demand, by, reason: str = "") -> Demand:
    demand, transition = _step(demand, Action.WITHDRAW, by)
    from_status = demand.status
    demand.status = transition.to
    demand.save(update_fields=["status", "updated_at"])
    record_event(demand, Action.WITHDRAW, by=by, from_status=from_status, to_status=transition.to, note=reason)
    return demand


@transaction.atomic
def demand_transfer(
    *, demand: Demand, by, lead_unit: OrgUnit, handler: User, cooperating_units: Iterable[OrgUnit] | None = None,
    note: str = "",
) -> Demand:
    """转办 / 改派: another lead unit and handler. The deadlines do not change."""
    demand, transition = _step(demand, Action.TRANSFER, by)
    _check_handler(handler)
    previous = {"lead_unit": demand.lead_unit.code if demand.lead_unit else "", "handler": demand.handler.username if demand.handler_id else ""}
    demand.lead_unit, demand.handler, demand.status = lead_unit, handler, transition.to
    demand.save(update_fields=["lead_unit", "handler", "status", "updated_at"])
    data = {"lead_unit": lead_unit.code, "handler": handler.username, "previous": previous}
    if cooperating_units is not None:
        cooperating = list(cooperating_units)
        demand.cooperating_units.set(cooperating)
        data["cooperating_units"] = _codes(cooperating)
    event = record_event(demand, Action.TRANSFER, by=by, from_status=transition.to, to_status=transition.to, note=note, data=data)
    _notify_users([handler], demand, _("Demand %(ref)s is assigned to you: %(title)s") % {"ref": demand.ref, "title": demand.title},
                  key=f"demand-event:{event.pk}")
    return demand


@transaction.atomic
def demand_reply(*, demand: Demand, by, text: str, files: Iterable = ()) -> Demand:
    """答复 the submitter; the first reply is the first response (办理中)."""
    if not text.strip():
        raise ValidationError({"text": _("Write the reply.")})
    demand, transition = _step(demand, Action.REPLY, by)
    now = now_s()
    from_status = demand.status
    demand.status = transition.to
    demand.first_response_at = demand.first_response_at or now
    demand.save(update_fields=["status", "first_response_at", "updated_at"])
    event = record_event(demand, Action.REPLY, by=by, at=now, from_status=from_status, to_status=transition.to, note=text)
    _attach(demand, event, files, by)
    _notify_users(_submitter_accounts(demand), demand, _("Reply to your demand %(ref)s") % {"ref": demand.ref},
                  key=f"demand-event:{event.pk}", body=text)
    return demand


@transaction.atomic
def demand_resolve(*, demand: Demand, by, result: str, files: Iterable = ()) -> Demand:
    """办结: records the result and issues the one-time rating link to the submitter."""
    if not result.strip():
        raise ValidationError({"result": _("Describe how the demand was resolved.")})
    demand, transition = _step(demand, Action.RESOLVE, by)
    now = now_s()
    from_status = demand.status
    demand.status = transition.to
    demand.first_response_at = demand.first_response_at or now
    demand.resolved_at = now
    demand.resolution = result
    demand.rating_nonce = secrets.token_hex(16)
    demand.rating_link_issued_at = now
    demand.save(update_fields=["status", "first_response_at", "resolved_at", "resolution", "rating_nonce",
                               "rating_link_issued_at", "updated_at"])
    event = record_event(demand, Action.RESOLVE, by=by, at=now, from_status=from_status, to_status=transition.to, note=result)
    _attach(demand, event, files, by)
    _notify_users(
        [_submitter_account(demand)], demand,
        _("Your demand %(ref)s is resolved: please rate it") % {"ref": demand.ref},
        key=f"demand-event:{event.pk}", body=result, url=rating_url(demand),
    )
    submitter = _submitter_account(demand)
    _notify_users([u for u in _submitter_accounts(demand) if submitter is None or u.pk != submitter.pk], demand,
                  _("%(ref)s, with which your demand was handled together, is resolved") % {"ref": demand.ref},
                  key=f"demand-event:{event.pk}", body=result)
    return demand


@transaction.atomic
def demand_return_visit(*, demand: Demand, by, rating: int | None, comment: str = "") -> Demand:
    """回访 recorded by staff after a phone call. The rating link is void afterwards."""
    if rating is not None and not 1 <= rating <= 5:
        raise ValidationError({"rating": _("A rating is 1 to 5.")})
    demand, transition = _step(demand, Action.RETURN_VISIT, by)
    return _visited(demand, transition, Action.RETURN_VISIT, by=by, rating=rating, comment=comment)


def _visited(demand, transition, action, *, by=None, actor_label="", rating, comment) -> Demand:
    now = now_s()
    from_status = demand.status
    demand.status = transition.to
    demand.return_visit_at = now
    demand.rating = rating
    demand.rating_comment = comment
    demand.rating_nonce = ""
    demand.save(update_fields=["status", "return_visit_at", "rating", "rating_comment", "rating_nonce", "updated_at"])
    event = record_event(
        demand, action, by=by, actor_label=actor_label, at=now, from_status=from_status, to_status=transition.to,
        note=comment, data={"rating": rating},
    )
    if rating is not None and rating <= workflow.REOPEN_MAX_RATING:
        # The staff member who accepted it and the lead unit's heads consider reopening it.
        heads, _unit = unit_heads(responsible_unit(demand))
        _notify_users([acceptor_of(demand), *heads], demand,
                      _("Demand %(ref)s was rated %(n)d: consider reopening it") % {"ref": demand.ref, "n": rating},
                      key=f"demand-event:{event.pk}", body=comment)
    return demand


@transaction.atomic
def demand_rate(*, demand: Demand, by, rating: int, comment: str = "") -> Demand:
    """The submitter rates in the portal (logged in)."""
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("A rating is 1 to 5.")})
    demand, transition = _step(demand, Action.RATE, by)
    return _visited(demand, transition, Action.RATE, by=by, rating=rating, comment=comment)


# --- The one-time rating link --------------------------------------------------------------------------
class RatingLinkError(Exception):
    pass


def rating_token(demand: Demand) -> str:
    return signing.dumps({"d": demand.pk, "n": demand.rating_nonce}, salt=RATING_SALT)


def rating_url(demand: Demand) -> str:
    return reverse("demands:rate", args=[rating_token(demand)])


def read_rating_token(token: str) -> tuple[int, str]:
    try:
        data = signing.loads(token, salt=RATING_SALT, max_age=datetime.timedelta(days=RATING_LINK_DAYS))
        return int(data["d"]), str(data["n"])
    except signing.SignatureExpired:
        raise RatingLinkError(_("This link has expired.")) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise RatingLinkError(_("This link is not valid.")) from None


def demand_for_rating_link(token: str) -> Demand:
    """The demand a link may rate now, or RatingLinkError (altered, expired, used, or no longer due)."""
    demand_id, nonce = read_rating_token(token)
    demand = Demand.objects.filter(pk=demand_id).first()
    if demand is None:
        raise RatingLinkError(_("This link is not valid."))
    _check_link(demand, nonce)
    return demand


def _check_link(demand: Demand, nonce: str) -> None:
    if not demand.rating_nonce or not secrets.compare_digest(demand.rating_nonce, nonce):
        raise RatingLinkError(_("This link has already been used."))
    if demand.status != Status.RESOLVED:
        raise RatingLinkError(_("This demand can no longer be rated."))
    issued = demand.rating_link_issued_at
    if issued is None or issued + datetime.timedelta(days=RATING_LINK_DAYS) < timezone.now():
        raise RatingLinkError(_("This link has expired."))


@transaction.atomic
def demand_rate_by_link(*, token: str, rating: int, comment: str = "") -> Demand:
    """The submitter rates from the link without logging in. The link works once."""
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("A rating is 1 to 5.")})
    demand_id, nonce = read_rating_token(token)
    try:
        demand = _lock(Demand(pk=demand_id))
    except Demand.DoesNotExist:
        raise RatingLinkError(_("This link is not valid.")) from None
    _check_link(demand, nonce)
    transition = workflow.check(demand.status, Action.RATE, facts_for(demand, None, via_link=True))
    return _visited(demand, transition, Action.RATE, actor_label="submitter", rating=rating, comment=comment)


@transaction.atomic
def demand_close(*, demand: Demand, by, note: str = "") -> Demand:
    """关闭 without a return visit (e.g. the submitter cannot be reached)."""
    demand, transition = _step(demand, Action.CLOSE, by)
    from_status = demand.status
    demand.status = transition.to
    demand.rating_nonce = ""
    demand.save(update_fields=["status", "rating_nonce", "updated_at"])
    record_event(demand, Action.CLOSE, by=by, from_status=from_status, to_status=transition.to, note=note)
    return demand


@transaction.atomic
def demand_reopen(*, demand: Demand, by, note: str = "") -> Demand:
    """重新办理 after a rating of 2 or less: back to 办理中 with a new resolution deadline counted
    from now. The previous result and rating stay in the timeline."""
    if not note.strip():
        raise ValidationError({"note": _("Say what must be done again.")})
    demand, transition = _step(demand, Action.REOPEN, by)
    now = now_s()
    previous = {
        "rating": demand.rating,
        "resolved_at": demand.resolved_at.isoformat() if demand.resolved_at else None,
        "return_visit_at": demand.return_visit_at.isoformat() if demand.return_visit_at else None,
    }
    from_status = demand.status
    demand.status = transition.to
    demand.resolved_at = demand.return_visit_at = None
    demand.rating = None
    demand.rating_comment = ""
    sla = Sla.load()
    demand.resolution_due_at = sla.resolution_due(demand.category_id, demand.urgency, now)
    demand.deadline_unconfirmed = sla.is_unconfirmed(now, demand.resolution_due_at)
    demand.resolution_flag = SlaFlag.NONE
    demand.escalated_at = None
    demand.save(update_fields=["status", "resolved_at", "return_visit_at", "rating", "rating_comment",
                               "resolution_due_at", "deadline_unconfirmed", "resolution_flag", "escalated_at", "updated_at"])
    event = record_event(demand, Action.REOPEN, by=by, at=now, from_status=from_status, to_status=transition.to,
                         note=note, data={"previous": previous, "resolution_due_at": demand.resolution_due_at.isoformat()})
    _notify_users([demand.handler], demand, _("Demand %(ref)s was reopened") % {"ref": demand.ref},
                  key=f"demand-event:{event.pk}", body=note)
    return demand


@transaction.atomic
def demand_merge(*, demand: Demand, by, target: Demand, note: str = "") -> Demand:
    """Merge a duplicate into `target` (一次登记、全网联动): the duplicate is closed and points to
    the target; both timelines record it."""
    if target.pk == demand.pk:
        raise ValidationError({"target": _("A demand cannot be merged into itself.")})
    # Lock both rows in id order so that two merges cannot deadlock.
    first, second = sorted([demand.pk, target.pk])
    _lock(Demand(pk=first)), _lock(Demand(pk=second))
    demand, transition = _step(demand, Action.MERGE, by)
    target = _lock(target)
    if not in_manage_scope(target, by):
        raise ValidationError({"target": _("No demand with this reference in your scope.")})
    if target.merged_into_id is not None:
        raise ValidationError({"target": _("That demand was itself merged into %(ref)s.") % {"ref": target.merged_into.ref}})
    now = now_s()
    from_status = demand.status
    demand.status = transition.to
    demand.merged_into = target
    demand.first_response_at = demand.first_response_at or now
    demand.resolved_at = demand.resolved_at or now
    demand.save(update_fields=["status", "merged_into", "first_response_at", "resolved_at", "updated_at"])
    event = record_event(demand, Action.MERGE, by=by, at=now, from_status=from_status, to_status=transition.to, note=note,
                         data={"into": target.ref})
    Demand.objects.filter(pk=target.pk).update(merged_count=F("merged_count") + 1)
    record_event(target, EventKind.MERGED_IN, by=by, at=now, from_status=target.status, to_status=target.status,
                 note=note, data={"duplicate": demand.ref})
    _notify_users([_submitter_account(demand)], demand,
                  _("Your demand %(ref)s is handled together with %(target)s") % {"ref": demand.ref, "target": target.ref},
                  key=f"demand-event:{event.pk}")
    return demand


def demand_step(action: str, demand: Demand, user, data: dict) -> Demand:
    """The workflow step `action` posted from the demand page, with its form's cleaned data."""
    from . import text_services

    by = {"demand": demand, "by": user}
    if action == Action.ACCEPT:
        return demand_accept(**by, category=data["category"], urgency=data["urgency"], handler=data["handler"],
                             lead_unit=data.get("lead_unit"), cooperating_units=data.get("cooperating_units") or (),
                             note=data.get("note", ""), suggestion=text_services.suggest_for(demand))
    if action == Action.REJECT:
        return demand_reject(**by, reason=data["reason"])
    if action == Action.TRANSFER:
        return demand_transfer(**by, lead_unit=data["lead_unit"], handler=data["handler"], note=data["note"])
    if action == Action.REPLY:
        return demand_reply(**by, text=data["text"], files=data.get("files") or ())
    if action == Action.RESOLVE:
        return demand_resolve(**by, result=data["result"], files=data.get("files") or ())
    if action == Action.RETURN_VISIT:
        return demand_return_visit(**by, rating=data.get("rating"), comment=data.get("comment", ""))
    if action == Action.RATE:
        return demand_rate(**by, rating=data["rating"], comment=data.get("comment", ""))
    if action == Action.CLOSE:
        return demand_close(**by, note=data.get("note", ""))
    if action == Action.REOPEN:
        return demand_reopen(**by, note=data["note"])
    if action == Action.WITHDRAW:
        return demand_withdraw(**by, reason=data.get("reason", ""))
    if action == Action.MERGE:
        return demand_merge(**by, target=data["target"], note=data.get("note", ""))
    raise ValueError(action)


# --- The SLA sweep (Celery beat) --------------------------------------------------------------------
SWEEP_BATCH = 200
SWEEP_STALE_AFTER = datetime.timedelta(days=7)


def sla_sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Mark 即将到期 / 已超期, notify the handler and the unit head, and escalate (督办) overdue
    demands to the unit above. Claims rows with their flag, so a second run notifies nothing."""

    now = now or now_s()
    sla = Sla.load()
    limits = sla.thresholds(now)
    steps = [
        ("response", SlaFlag.OVERDUE, overdue_q(now, "response")),
        ("resolution", SlaFlag.OVERDUE, overdue_q(now, "resolution")),
        ("response", SlaFlag.WARNING, open_deadline_q("response", "lte", limits.response)),
        ("resolution", SlaFlag.WARNING, open_deadline_q("resolution", "lte", limits.resolution)),
    ]
    counts = {f"{kind}_{level}": 0 for kind, level, _q in steps}
    counts["escalated"] = counts["stale"] = 0
    # The group robots are read once for the whole sweep, not once per demand.
    group_robots = {kind: robots.RobotDirectory(kind) for kind in (RobotKind.OVERDUE, RobotKind.SUPERVISION)}
    # Deadlines written without the calendar mark (imports) that reach past the last confirmed year.
    from .workcalendar import mark_unconfirmed_deadlines

    counts["unconfirmed"] = mark_unconfirmed_deadlines(timezone.localdate(now))
    stale_before = now - SWEEP_STALE_AFTER
    for kind, level, condition in steps:
        flag = f"{kind}_flag"
        candidates = Demand.objects.filter(condition)
        candidates = candidates.exclude(**{flag: SlaFlag.OVERDUE}) if level == SlaFlag.OVERDUE else candidates.filter(**{flag: SlaFlag.NONE})
        if level == SlaFlag.OVERDUE:
            # Deadlines that passed long ago (e.g. an imported ledger) are marked without telling
            # anyone: a flood of old alarms would bury the new ones.
            counts["stale"] += candidates.filter(**{f"{kind}_due_at__lt": stale_before}).update(**{flag: level})
        while True:
            with transaction.atomic():
                batch = list(
                    candidates.select_for_update(of=("self",), skip_locked=True)
                    .select_related("org_unit", "lead_unit", "handler").order_by("pk")[:SWEEP_BATCH]
                )
                if not batch:
                    break
                Demand.objects.filter(pk__in=[d.pk for d in batch]).update(**{flag: level})
                for demand in batch:
                    _sla_notify(demand, kind, level, group_robots)
                    if level == SlaFlag.OVERDUE:
                        counts["escalated"] += _escalate(demand, kind, now, group_robots)
                counts[f"{kind}_{level}"] += len(batch)
    return counts


def _sla_notify(demand: Demand, kind: str, level: str, group_robots: dict | None = None) -> None:
    due = demand.response_due_at if kind == "response" else demand.resolution_due_at
    heads, _unit = unit_heads(responsible_unit(demand))
    title, body = _sla_message(demand, kind, level)
    key = f"demand-sla:{demand.pk}:{kind}:{level}:{int(due.timestamp())}"
    _notify_users([demand.handler, *heads], demand, title, key=key, body=body)
    if level == SlaFlag.OVERDUE:
        robots.announce(RobotKind.OVERDUE, unit=responsible_unit(demand), key=key, url=demand.get_absolute_url(),
                        directory=(group_robots or {}).get(RobotKind.OVERDUE),
                        compose=lambda: _sla_message(demand, kind, level))


def _sla_message(demand: Demand, kind: str, level: str) -> tuple[str, str]:
    """The title and text of a deadline warning, in the active language."""
    due = demand.response_due_at if kind == "response" else demand.resolution_due_at
    deadline = _("response") if kind == "response" else _("resolution")
    if level == SlaFlag.OVERDUE:
        title = _("Overdue (%(deadline)s): demand %(ref)s") % {"deadline": deadline, "ref": demand.ref}
    else:
        title = _("Due soon (%(deadline)s): demand %(ref)s") % {"deadline": deadline, "ref": demand.ref}
    body = _("%(title)s — deadline %(due)s") % {"title": demand.title, "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")}
    return title, body


def _escalate(demand: Demand, kind: str, now: datetime.datetime, group_robots: dict | None = None) -> int:
    """督办: the supervisors of the nearest unit above the responsible unit (portal.recipients
    .supervisors_of) and the staff member who accepted the demand are told; the timeline records
    the supervising unit."""
    above, above_unit = supervisors_of(responsible_unit(demand))
    Demand.objects.filter(pk=demand.pk).update(escalated_at=now)
    due = demand.response_due_at if kind == "response" else demand.resolution_due_at
    record_event(
        demand, EventKind.ESCALATE, actor_label="system", at=now, from_status=demand.status, to_status=demand.status,
        data={"deadline": kind, "due": due.isoformat(), "to_unit": above_unit.code if above_unit else ""},
    )
    key = f"demand-escalate:{demand.pk}:{kind}:{int(due.timestamp())}"
    title, body = _escalation_message(demand)
    _notify_users([*above, acceptor_of(demand)], demand, title, key=key, body=body)
    robots.announce(RobotKind.SUPERVISION, unit=responsible_unit(demand), key=key, url=demand.get_absolute_url(),
                    directory=(group_robots or {}).get(RobotKind.SUPERVISION),
                    compose=lambda: _escalation_message(demand))
    return 1


def _escalation_message(demand: Demand) -> tuple[str, str]:
    return (_("Supervision (督办): demand %(ref)s is overdue") % {"ref": demand.ref},
            _("%(title)s — responsible: %(unit)s") % {"title": demand.title, "unit": responsible_unit(demand).name})


# --- Visits and life events ---------------------------------------------------------------------------
def visit_problems(*, person_id: int | None, visited_on: datetime.date | None, life_event_person_id: int | None = None,
                   household_person_id: int | None = None) -> dict[str, str]:
    """What is wrong with a visit record, by field, wherever it comes from (the form, the API, a
    file): a visit is not logged ahead of time, and its life event or hardship household is the
    visited person's. Ids, so that an import checks a whole file without loading the records."""
    problems = {}
    if visited_on is not None and visited_on > timezone.localdate():
        problems["visited_on"] = _("The date cannot be in the future.")
    if person_id is not None and life_event_person_id is not None and life_event_person_id != person_id:
        problems["life_event"] = _("The life event belongs to another person.")
    if person_id is not None and household_person_id is not None and household_person_id != person_id:
        problems["hardship_household"] = _("The hardship household belongs to another person.")
    return problems


def visit_kind(kind: str | None, *, life_event_id: int | None = None, household_id: int | None = None) -> str:
    """A visit for a life event is a 五必访 and one to a hardship household a hardship visit,
    unless a kind other than a routine visit was chosen."""
    if kind and kind != VisitKind.ROUTINE:
        return kind
    if life_event_id is not None:
        return VisitKind.MUST_VISIT
    return VisitKind.HARDSHIP if household_id is not None else VisitKind.ROUTINE


@transaction.atomic
def visit_log(
    *, by, person: Person, visitor: Person, visited_on: datetime.date, kind: str = "", notes: str = "",
    life_event: LifeEvent | None = None, photos: Iterable = (), hardship_household=None,
) -> Visit:
    problems = visit_problems(
        person_id=person.pk, visited_on=visited_on,
        life_event_person_id=life_event.person_id if life_event is not None else None,
        household_person_id=hardship_household.person_id if hardship_household is not None else None,
    )
    if problems:
        raise ValidationError(problems)
    kind = visit_kind(kind, life_event_id=getattr(life_event, "pk", None), household_id=getattr(hardship_household, "pk", None))
    visit = Visit.objects.create(
        ref=next_ref(Visit), person=person, visitor=visitor, visited_on=visited_on, kind=kind, notes=notes,
        life_event=life_event, hardship_household=hardship_household, created_by=by,
    )
    for upload in photos or ():
        VisitPhoto.objects.create(visit=visit, file=upload, original_name=upload.name[:200], size=upload.size, uploaded_by=by)
    return visit


@transaction.atomic
def visit_add_photos(*, visit: Visit, by, photos: Iterable) -> None:
    for upload in photos:
        VisitPhoto.objects.create(visit=visit, file=upload, original_name=upload.name[:200], size=upload.size, uploaded_by=by)


@transaction.atomic
def life_event_record(*, by, person: Person, kind: str, event_date: datetime.date, note: str = "") -> LifeEvent:
    """A life event creates a due visit (五必访) with a deadline of event_date + 7 days."""
    if event_date > timezone.localdate() + datetime.timedelta(days=60):
        raise ValidationError({"event_date": _("The date is too far in the future.")})
    event = LifeEvent.objects.create(ref=next_ref(LifeEvent), person=person, kind=kind, event_date=event_date, note=note, created_by=by)
    heads, _unit = unit_heads(person.org_unit)
    for user in heads:
        notify(user, title=_("Visit due by %(date)s: %(event)s") % {"date": f"{event.visit_due_on:%Y-%m-%d}", "event": event},
               url=reverse("demands:due_visits"), key=f"lifeevent:{event.pk}:new:{user.pk}")
    return event


def visit_reminders(today: datetime.date | None = None) -> int:
    """Remind the unit heads of life events whose visit is due within two days or overdue (up to
    a week late) and not yet made. Idempotent per life event and level."""
    from .choices import MUST_VISIT_REMIND_DAYS

    today = today or timezone.localdate()
    due = (
        LifeEvent.objects.filter(
            visit_due_on__gte=today - datetime.timedelta(days=7),
            visit_due_on__lte=today + datetime.timedelta(days=MUST_VISIT_REMIND_DAYS),
        )
        .filter(not_visited_q())
        .select_related("person", "person__org_unit")
    )
    sent = 0
    for event in due.iterator(chunk_size=500):
        level = "overdue" if event.visit_due_on < today else "soon"
        heads, _unit = unit_heads(event.person.org_unit)
        for user in heads:
            title = (_("Visit overdue since %(date)s: %(event)s") if level == "overdue" else _("Visit due by %(date)s: %(event)s")) % {
                "date": f"{event.visit_due_on:%Y-%m-%d}", "event": event}
            if notify(user, title=title, url=reverse("demands:due_visits"), key=f"lifeevent:{event.pk}:{level}:{user.pk}"):
                sent += 1
    return sent


# --- Mediation -------------------------------------------------------------------------------------------
@transaction.atomic
def mediation_open(*, by, org_unit: OrgUnit, title: str, opened_at: datetime.datetime | None = None, demand: Demand | None = None,
                   description: str = "", parties=(), other_parties: str = "", mediators=()) -> MediationCase:
    opened_at = opened_at or now_s()
    case = MediationCase.objects.create(
        ref=next_ref(MediationCase, opened_at), title=title, org_unit=org_unit, opened_at=opened_at, demand=demand,
        description=description, other_parties=other_parties, created_by=by,
    )
    case.parties.set(parties)
    case.mediators.set(mediators)
    return case


@transaction.atomic
def mediation_add_session(*, case: MediationCase, by, held_at: datetime.datetime, notes: str, place: str = "") -> MediationSession:
    if not case.is_open:
        raise ValidationError({"held_at": _("The case is concluded.")})
    if held_at < case.opened_at - datetime.timedelta(days=1):
        raise ValidationError({"held_at": _("The session cannot be before the case was opened.")})
    return MediationSession.objects.create(case=case, held_at=held_at, notes=notes, place=place, recorded_by=by)


@transaction.atomic
def mediation_conclude(*, case: MediationCase, by, outcome: str, agreement: str = "", concluded_at: datetime.datetime | None = None) -> MediationCase:
    case = MediationCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise ValidationError({"outcome": _("The case is already concluded.")})
    if not outcome:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    concluded_at = concluded_at or now_s()
    if concluded_at < case.opened_at:
        raise ValidationError({"concluded_at": _("The case cannot be concluded before it was opened.")})
    if outcome == "success" and not agreement.strip():
        raise ValidationError({"agreement": _("A settlement needs the text of the agreement.")})
    case.outcome, case.agreement, case.concluded_at = outcome, agreement, concluded_at
    case.save(update_fields=["outcome", "agreement", "concluded_at"])
    return case


@transaction.atomic
def mediation_follow_up(*, case: MediationCase, by, checked_on: datetime.date, fulfilment: str, notes: str = "") -> MediationFollowUp:
    if case.is_open:
        raise ValidationError({"fulfilment": _("Follow-up starts after the case is concluded.")})
    return MediationFollowUp.objects.create(case=case, checked_on=checked_on, fulfilment=fulfilment, notes=notes, recorded_by=by)


def mediation_step(*, case: MediationCase, by, step: str, data: dict):
    """The mediation step `step` posted from the case page, with its form's cleaned data."""
    steps = {"session": mediation_add_session, "conclude": mediation_conclude, "follow_up": mediation_follow_up}
    return steps[step](case=case, by=by, **data)
