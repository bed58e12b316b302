"""Writes of the hardship register. Views, forms, importers and the API call these; each step asks
the pure table in workflow.py first and writes a HouseholdEvent in the same transaction."""
from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.dataexchange import allocate_ids
from portal.scope import visible
from portal.separation import own_work

from . import workflow
from .choices import PACK_OF_KIND, Status
from .models import AssistanceMeasure, AssistanceRecord, HardshipHousehold, HardshipReview, HouseholdEvent
from .workflow import Action, Facts, WorkflowError

CHANGE = "hardship.change"


def facts_for(user, household: HardshipHousehold | None, *, person=None, has_date_and_reason: bool = True) -> Facts:
    """What workflow.py needs to know: scope through portal.scope, separation through portal.separation."""
    from members.models import Person

    if household is not None:
        in_scope = visible(HardshipHousehold.objects.filter(pk=household.pk), user, CHANGE).exists()
        return Facts(
            role=user.role, in_scope=in_scope, is_liaison=household.liaison_id == user.pk,
            registered_it=own_work(user, submitted_by_ids=[household.registered_by_id]),
            has_date_and_reason=has_date_and_reason,
        )
    in_scope = person is not None and visible(Person.objects.filter(pk=person.pk), user, CHANGE).exists()
    return Facts(role=user.role, in_scope=in_scope)


def _check(status: str, action: str, facts: Facts) -> None:
    try:
        workflow.check(status, action, facts)
    except WorkflowError as error:
        raise ValidationError(str(error)) from None


def _not_future(field: str, day: datetime.date) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


def check_liaison(liaison, person) -> None:
    """The liaison is an account that may manage this person's household (hardship.change over them)."""
    from members.models import Person

    if liaison is None or not liaison.is_active or not visible(Person.objects.filter(pk=person.pk), liaison, CHANGE).exists():
        raise ValidationError({"liaison": _("The liaison must be an account that manages hardship assistance for this person.")})


def _new_id_and_ref(prefix: str, model, on: datetime.date) -> tuple[int, str]:
    """The next id of the table and a reference made from it (KN2026-000123), known before the
    insert so the record is written once, with its reference."""
    pk = allocate_ids(model, 1)[0]
    ref = f"{prefix}{on.year}-{pk:06d}"
    suffix = 1
    while model.objects.filter(ref=ref).exists():  # an import may have used the number
        suffix += 1
        ref = f"{prefix}{on.year}-{pk:06d}-{suffix}"
    return pk, ref


def _event(household, action: str, by, on: datetime.date, note: str = "") -> HouseholdEvent:
    return HouseholdEvent.objects.create(household=household, action=action, on=on, note=note[:500], by=by)


@transaction.atomic
def household_register(
    *, by, person, reason: str, level: str, liaison, registered_on: datetime.date, family_situation: str = "",
    family_size: int = 1,
) -> HardshipHousehold:
    _check(workflow.NEW, Action.REGISTER, facts_for(by, None, person=person))
    _not_future("registered_on", registered_on)
    check_liaison(liaison, person)
    if HardshipHousehold.objects.filter(person=person, status=Status.REGISTERED).exists():
        raise ValidationError({"person": _("This person's household is already on the register.")})
    earlier = HardshipHousehold.objects.filter(person=person).first()
    if earlier is not None:
        raise ValidationError({"person": _("This person's household was on the register before (%(ref)s); "
                                           "re-register it there.") % {"ref": earlier.ref}})
    pk, ref = _new_id_and_ref("KN", HardshipHousehold, registered_on)
    try:
        with transaction.atomic():
            household = HardshipHousehold.objects.create(
                pk=pk, ref=ref, person=person, reason=reason, level=level,
                family_situation=family_situation, family_size=family_size, registered_on=registered_on,
                liaison=liaison, registered_by=by, next_review_on=workflow.next_review_on(registered_on),
            )
    except IntegrityError:  # a second registration of the same person committed in between
        raise ValidationError({"person": _("This person's household is already on the register.")}) from None
    _event(household, Action.REGISTER, by, registered_on)
    return household


@transaction.atomic
def household_step(*, household: HardshipHousehold, action: str, by, on: datetime.date | None, reason: str) -> HardshipHousehold:
    """Relieve (脱困), cancel (注销) or re-register (返贫) — each needs a date and a reason."""
    household = HardshipHousehold.objects.select_for_update().get(pk=household.pk)
    reason = (reason or "").strip()
    if action not in workflow.STATUS_ACTIONS:
        raise ValidationError(_("Unknown step."))
    facts = facts_for(by, household, has_date_and_reason=bool(on and reason))
    _check(household.status, action, facts)
    _not_future("on", on)
    if on < household.registered_on:
        raise ValidationError({"on": _("The date is before the household was registered.")})
    transition = workflow.TABLE[(household.status, action)]
    if action == Action.REREGISTER:
        if HardshipHousehold.objects.filter(person=household.person_id, status=Status.REGISTERED).exists():
            raise ValidationError(_("This person's household is already on the register."))
        household.registered_on, household.left_on, household.registered_by = on, None, by
        household.last_review_on, household.next_review_on = None, workflow.next_review_on(on)
    else:
        household.left_on, household.next_review_on = on, None
    household.status, household.status_reason = transition.to, reason[:500]
    household.save()
    _event(household, action, by, on, reason)
    return household


@transaction.atomic
def household_review(
    *, household: HardshipHousehold, by, reviewed_on: datetime.date, outcome: str, level: str, note: str = "",
) -> HardshipReview:
    household = HardshipHousehold.objects.select_for_update().get(pk=household.pk)
    _check(household.status, Action.REVIEW, facts_for(by, household))
    _not_future("reviewed_on", reviewed_on)
    if reviewed_on < household.registered_on:
        raise ValidationError({"reviewed_on": _("The date is before the household was registered.")})
    review = HardshipReview.objects.create(
        household=household, reviewed_on=reviewed_on, outcome=outcome, level=level, note=note, reviewed_by=by,
    )
    latest = max(filter(None, [household.last_review_on, reviewed_on]))
    household.last_review_on, household.next_review_on, household.level = latest, workflow.next_review_on(latest), level
    household.save(update_fields=["last_review_on", "next_review_on", "level"])
    _event(household, Action.REVIEW, by, reviewed_on, note[:500])
    return review


def _check_managing(by, household: HardshipHousehold) -> HardshipHousehold:
    """The household, locked and as stored now, if `by` manages it and it is on the register."""
    household = HardshipHousehold.objects.select_for_update().get(pk=household.pk)
    if not visible(HardshipHousehold.objects.filter(pk=household.pk), by, CHANGE).exists():
        raise ValidationError(_("You may not do this with this household."))
    if household.status != Status.REGISTERED:
        raise ValidationError(_("Only a household on the register gets plan measures and assistance."))
    return household


def check_kind_in_pack(pack: str, kind: str) -> None:
    expected = PACK_OF_KIND.get(kind)
    if expected is not None and expected != pack:
        raise ValidationError({"kind": _("This kind of measure belongs to the other pack.")})


@transaction.atomic
def measure_add(*, household, by, pack: str, kind: str, description: str, owner, due_on: datetime.date) -> AssistanceMeasure:
    household = _check_managing(by, household)
    check_kind_in_pack(pack, kind)
    if owner is None or not owner.is_active or not visible(HardshipHousehold.objects.filter(pk=household.pk), owner, "hardship.view").exists():
        raise ValidationError({"owner": _("The responsible person must be an account that can see this household.")})
    return AssistanceMeasure.objects.create(
        household=household, pack=pack, kind=kind, description=description, owner=owner, due_on=due_on, created_by=by,
    )


@transaction.atomic
def measure_set_done(*, measure: AssistanceMeasure, by, done: bool, on: datetime.date | None = None) -> AssistanceMeasure:
    if not (measure.owner_id == by.pk or visible(HardshipHousehold.objects.filter(pk=measure.household_id), by, CHANGE).exists()):
        raise ValidationError(_("You may not do this with this household."))
    done_on = (on or timezone.localdate()) if done else None
    # Once only: a second click on "done" keeps the first date.
    AssistanceMeasure.objects.filter(pk=measure.pk, done_on__isnull=done).update(done_on=done_on)
    measure.refresh_from_db(fields=["done_on"])
    return measure


@transaction.atomic
def assistance_record(
    *, household, by, given_on: datetime.date, kind: str, amount: Decimal | None = None, service: str = "",
    measure: AssistanceMeasure | None = None, evidence=None,
) -> AssistanceRecord:
    household = _check_managing(by, household)
    _not_future("given_on", given_on)
    if given_on < household.registered_on:
        raise ValidationError({"given_on": _("The date is before the household was registered.")})
    service = (service or "").strip()
    if amount is None and not service:
        raise ValidationError({"amount": _("Enter an amount of money or describe the service given.")})
    if amount is not None and amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if measure is not None and measure.household_id != household.pk:
        raise ValidationError({"measure": _("The measure belongs to another household.")})
    pk, ref = _new_id_and_ref("BF", AssistanceRecord, given_on)
    record = AssistanceRecord(
        pk=pk, ref=ref, household=household, measure=measure, given_on=given_on,
        kind=kind, amount=amount, service=service, recorded_by=by,
    )
    if evidence is not None:
        record.evidence = evidence
        record.evidence_name = evidence.name[:200]
    record.save(force_insert=True)
    return record
