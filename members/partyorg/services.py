"""Writes for transfers, mobile members and branch terms. Views, importers, tasks and the API call
these; the rules they apply are in workflow.py (pure) and portal.separation / portal.recipients."""
from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import separation
from portal import robots
from portal.models import RobotKind
from portal.notifications import notify
from portal.recipients import SUPERVISORS, recipients_for
from portal.roles import Role, has_permission
from portal.scope import in_subtree, visible

from ..choices import PARTY_MEMBER_STATUSES
from ..masking import mask_id_number
from ..models import OrgUnit, Person
from . import workflow
from .choices import LetterKind, TransferKind, TransferStatus
from .models import BranchTerm, MobileMember, Transfer, TransferLetter, TransferStep
from .selectors import open_transfer_q

A = workflow.Action
# The units a member's organisational relationship is held by and that elect a committee: a party
# group belongs to its branch, so a transfer names the branch (and the branch approves, the committee
# above it decides).
PARTY_UNIT_KINDS = ("committee", "general_branch", "branch")
# Who approves at the branch: its secretaries and the party-mass staff answering for it.
BRANCH_APPROVER_ROLES = (Role.BRANCH_SECRETARY, Role.STAFF)


def _reaches_units(user, permission: str, units) -> bool:
    """The user's reach under `permission` holds every one of `units` (portal.scope)."""
    ids = {u.pk for u in units if u is not None}
    return bool(ids) and visible(OrgUnit.objects.filter(pk__in=ids), user, permission).count() == len(ids)


# --- Transfers: checks ---------------------------------------------------------------------------
def transfer_problems(*, person: Person, kind: str, from_unit, to_unit, external_org: str,
                      exclude_pk: int | None = None) -> dict[str, str]:
    """What is wrong with a transfer request, field by field (forms, the API and imports ask here)."""
    problems: dict[str, str] = {}
    if person.political_status not in PARTY_MEMBER_STATUSES:
        problems["person"] = _("Only party members (full or probationary) have an organisational relationship to transfer.")
    needs_from = kind in (TransferKind.OUT, TransferKind.WITHIN)
    needs_to = kind in (TransferKind.IN, TransferKind.WITHIN)
    if needs_from and from_unit is None:
        problems["from_unit"] = _("Choose the branch the member leaves.")
    if not needs_from and from_unit is not None:
        problems["from_unit"] = _("A transfer into the enterprise comes from an external organisation, not from a unit.")
    if needs_to and to_unit is None:
        problems["to_unit"] = _("Choose the branch the member joins.")
    if not needs_to and to_unit is not None:
        problems["to_unit"] = _("A transfer out of the enterprise goes to an external organisation, not to a unit.")
    if kind in (TransferKind.OUT, TransferKind.IN) and not external_org.strip():
        problems["external_org"] = _("Name the party organisation outside the enterprise.")
    for name, unit in (("from_unit", from_unit), ("to_unit", to_unit)):
        if unit is not None and unit.kind not in PARTY_UNIT_KINDS and name not in problems:
            problems[name] = _("Choose a party organisation (committee, general branch or branch).")
    if from_unit is not None and "from_unit" not in problems and not in_subtree(person.org_unit, from_unit):
        problems["from_unit"] = _("%(name)s is not a member of %(unit)s.") % {"name": person.name, "unit": from_unit.name}
    if to_unit is not None and "to_unit" not in problems and in_subtree(person.org_unit, to_unit):
        problems["to_unit"] = _("%(name)s is already a member of %(unit)s.") % {"name": person.name, "unit": to_unit.name}
    if from_unit is not None and to_unit is not None and from_unit.pk == to_unit.pk:
        problems["to_unit"] = _("The member cannot be transferred to the branch they leave.")
    if open_transfer_exists(person, exclude_pk=exclude_pk):
        problems["person"] = _("%(name)s already has an open transfer; finish or withdraw it first.") % {"name": person.name}
    return problems


def open_transfer_exists(person: Person, *, exclude_pk: int | None = None) -> bool:
    """One open transfer per person: a member is never on the way to two branches at once."""
    return Transfer.objects.filter(open_transfer_q(), person=person).exclude(pk=exclude_pk).exists()


def transfer_facts(user, transfer: Transfer) -> workflow.Facts:
    deciding = transfer.deciding_unit
    units = [u for u in (transfer.from_unit, transfer.to_unit) if u is not None]
    may_change = has_permission(user, "transfers.change") and visible(
        Transfer.objects.filter(pk=transfer.pk), user, "transfers.change").exists()
    branch_reach = has_permission(user, "transfers.approve") and _reaches_units(user, "transfers.approve", [deciding])
    committee_reach = (
        has_permission(user, "transfers.approve") and _reaches_units(user, "transfers.approve", units)
        # Strictly above the deciding branch: the committee over it, not the branch itself.
        and (user.role == Role.ADMIN or (user.scope_org_id is not None and user.scope_org_id != deciding.pk))
    )
    return workflow.Facts(
        role=user.role,
        may_change=may_change,
        is_submitter=transfer.created_by_id is not None and transfer.created_by_id == user.pk,
        branch_reach=branch_reach,
        committee_reach=committee_reach,
        own_work=separation.own_work(user, **_transfer_work(transfer)),
    )


def _transfer_work(transfer: Transfer) -> dict:
    """Whose request it is: the account that drafted and the one that submitted it, the member
    themself — and for the committee's decision also the branch's approver (two people decide)."""
    accounts = [transfer.created_by_id, transfer.submitted_by_id]
    if transfer.status == TransferStatus.BRANCH_APPROVED:
        accounts.append(transfer.branch_approved_by_id)
    return {"submitted_by_ids": accounts, "responsible_person_ids": [transfer.person_id]}


def transfer_actions(user, transfer: Transfer) -> list[str]:
    return workflow.allowed_actions(transfer.status, transfer_facts(user, transfer))


# --- Transfers: writes ---------------------------------------------------------------------------
@transaction.atomic
def transfer_create(*, by, person: Person, kind: str, from_unit=None, to_unit=None, external_org: str = "",
                    reason: str, requested_on: datetime.date, report_by: datetime.date | None = None,
                    submit: bool = False) -> Transfer:
    person = Person.objects.select_for_update().select_related("org_unit").get(pk=person.pk)
    problems = transfer_problems(person=person, kind=kind, from_unit=from_unit, to_unit=to_unit, external_org=external_org)
    if problems:
        raise ValidationError(problems)
    touched = [u for u in (from_unit, to_unit) if u is not None]
    if not any(_reaches_units(by, "transfers.change", [u]) for u in touched):
        raise PermissionDenied
    try:
        with transaction.atomic():
            transfer = Transfer.objects.create(
                person=person, kind=kind, from_unit=from_unit, to_unit=to_unit, external_org=external_org.strip(),
                reason=reason, requested_on=requested_on, report_by=report_by, created_by=by,
            )
    except IntegrityError:  # a concurrent request for the same person won the race
        raise ValidationError({"person": _("%(name)s already has an open transfer; finish or withdraw it first.")
                               % {"name": person.name}}) from None
    TransferStep.objects.create(transfer=transfer, action="create", status=transfer.status, by=by)
    if submit:
        transfer = transfer_act(transfer=transfer, by=by, action=A.SUBMIT)
    return transfer


@transaction.atomic
def transfer_update(*, transfer: Transfer, by, **values) -> Transfer:
    """Change a draft (person, kind, units, reason, dates); a submitted request changes only by
    being withdrawn and asked again."""
    transfer = Transfer.objects.select_for_update(of=("self",)).get(pk=transfer.pk)
    if transfer.status != TransferStatus.DRAFT:
        raise ValidationError(_("Only a draft can be changed; withdraw the request and draft a new one."))
    if not transfer_facts(by, transfer).may_change:
        raise PermissionDenied
    for name, value in values.items():
        setattr(transfer, name, value)
    problems = transfer_problems(person=transfer.person, kind=transfer.kind, from_unit=transfer.from_unit,
                                 to_unit=transfer.to_unit, external_org=transfer.external_org, exclude_pk=transfer.pk)
    if problems:
        raise ValidationError(problems)
    transfer.save()
    return transfer


@transaction.atomic
def transfer_act(*, transfer: Transfer, by, action: str, comment: str = "") -> Transfer:
    """Take one step of the workflow table, with its effects: the letter at the committee's
    approval, the member's move at completion, the next approvers told."""
    transfer = Transfer.objects.select_for_update(of=("self",)).select_related(
        "person", "person__org_unit", "from_unit", "to_unit").get(pk=transfer.pk)
    facts = transfer_facts(by, transfer)
    if workflow.is_approval(transfer.status, action) and facts.own_work:
        raise ValidationError(separation.refusal_message())
    try:
        transition = workflow.check(transfer.status, action, facts)
    except workflow.WorkflowError as error:
        raise ValidationError(str(error)) from None
    if action in workflow.NEEDS_COMMENT and not comment.strip():
        raise ValidationError({"comment": _("Say why.")})
    today = timezone.localdate()
    fields = ["status", "updated_at"]
    if action == A.SUBMIT:
        transfer.submitted_by = by
        fields.append("submitted_by")
    elif action == A.APPROVE_BRANCH:
        transfer.branch_approved_by = by
        fields.append("branch_approved_by")
    elif action == A.APPROVE_COMMITTEE:
        transfer.committee_approved_by = by
        fields.append("committee_approved_by")
    elif action == A.COMPLETE:
        _move_member(transfer)
        transfer.completed_on = today
        fields.append("completed_on")
    transfer.status = transition.to
    transfer.save(update_fields=fields)
    if action == A.APPROVE_COMMITTEE:
        letter_issue(transfer=transfer, by=by, on=today)
    TransferStep.objects.create(transfer=transfer, action=action, status=transfer.status, comment=comment.strip(), by=by)
    _tell(transfer, action)
    return transfer


def _move_member(transfer: Transfer) -> None:
    """On completion the member's unit follows (in, within). The person is locked and checked again:
    they must still be where the transfer takes them from, so no member ends up in two branches."""
    person = Person.objects.select_for_update().select_related("org_unit").get(pk=transfer.person_id)
    if transfer.from_unit_id and not in_subtree(person.org_unit, transfer.from_unit):
        raise ValidationError(_("%(name)s is no longer a member of %(unit)s; the transfer cannot be completed.")
                              % {"name": person.name, "unit": transfer.from_unit.name})
    if transfer.to_unit_id:
        person.org_unit = transfer.to_unit
        person.save(update_fields=["org_unit", "updated_at"])


def letter_issue(*, transfer: Transfer, by, on: datetime.date) -> TransferLetter:
    """Issue the transfer's document with the next number of the year of issue. The facts are stored
    as they are now: the printed letter never changes afterwards."""
    year = on.year
    with connection.cursor() as cursor:
        # Numbers of one year are handed out one at a time (released at commit).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('members.transfer_letter'), %s)", [year])
    last = TransferLetter.objects.filter(year=year).order_by("-seq").values_list("seq", flat=True).first() or 0
    kind = LetterKind.RECEIPT if transfer.kind == TransferKind.IN else LetterKind.LETTER
    person = transfer.person
    committee = by.scope_org.name if getattr(by, "scope_org_id", None) else ""
    facts = {
        "kind_label": str(LetterKind(kind).label),
        "transfer_kind": str(TransferKind(transfer.kind).label),
        "name": person.name,
        "gender": person.get_gender_display(),
        "employee_no": person.employee_no,
        "id_number": mask_id_number(person.id_number),
        "political_status": person.get_political_status_display(),
        "joined_party_on": person.joined_party_on.isoformat() if person.joined_party_on else "",
        "from": transfer.from_name,
        "to": transfer.to_name,
        "reason": transfer.reason,
        "report_by": transfer.report_by.isoformat() if transfer.report_by else "",
        "issuer": committee,
        "issued_on": on.isoformat(),
    }
    seq = last + 1
    return TransferLetter.objects.create(
        transfer=transfer, kind=kind, year=year, seq=seq, number=workflow.letter_number(year, seq),
        issued_on=on, issued_by=by, facts=facts,
    )


def _tell(transfer: Transfer, action: str) -> None:
    """The next approvers (portal.recipients), or the one who asked once it is decided."""
    url = reverse("members:transfer_detail", args=[transfer.pk])
    name = transfer.person.name
    deciding = transfer.deciding_unit
    work = _transfer_work(transfer)
    if action == A.SUBMIT:
        users = [u for u in recipients_for(deciding, roles=BRANCH_APPROVER_ROLES).users
                 if not separation.own_work(u, **work)]
        if not users:  # the branch's only officer asked: the level above decides for the branch
            users = recipients_for(deciding, roles=BRANCH_APPROVER_ROLES, above=True).users
        title = _("Membership transfer of %(name)s awaits the branch's approval") % {"name": name}
    elif action == A.APPROVE_BRANCH:
        users = _committee_approvers(transfer)
        title = _("Membership transfer of %(name)s awaits the committee's approval") % {"name": name}
    elif action in (A.APPROVE_COMMITTEE, A.REJECT, A.COMPLETE):
        users = [u for u in (transfer.created_by, transfer.submitted_by) if u is not None]
        title = _("Membership transfer of %(name)s: %(status)s") % {"name": name, "status": transfer.get_status_display()}
    else:
        return
    for user in {u.pk: u for u in users}.values():
        if action in (A.SUBMIT, A.APPROVE_BRANCH) and separation.own_work(user, **work):
            continue  # nobody is asked to approve their own request
        notify(user, title=title, url=url, key=f"transfer:{transfer.pk}:{action}:{transfer.status}:{user.pk}")
    if action in (A.SUBMIT, A.APPROVE_BRANCH):  # an approval awaited: the deciding unit's group robots too
        robots.announce(RobotKind.APPROVAL, unit=deciding, key=f"transfer:{transfer.pk}:{action}", url=url,
                        compose=lambda: (_awaits(transfer, action), ""))


def _committee_approvers(transfer: Transfer) -> list:
    """Who is asked to approve for the committee: the nearest accounts above the deciding branch
    that may take that step (so never whoever did the branch's step); the administrators when
    nobody else may — the request never waits unseen."""
    from portal.models import User
    from portal.recipients import accounts_acting_on

    able = [u for u in accounts_acting_on(transfer.deciding_unit, SUPERVISORS).filter(is_active=True)
            .select_related("scope_org").order_by("pk")
            if workflow.may(transfer.status, A.APPROVE_COMMITTEE, transfer_facts(u, transfer))]
    if able:
        nearest = max(len(u.scope_org.path) for u in able)
        return [u for u in able if len(u.scope_org.path) == nearest]
    return list(User.objects.filter(role=Role.ADMIN, is_active=True))


def _awaits(transfer: Transfer, action: str) -> str:
    if action == A.SUBMIT:
        return _("Membership transfer of %(name)s awaits the branch's approval") % {"name": transfer.person.name}
    return _("Membership transfer of %(name)s awaits the committee's approval") % {"name": transfer.person.name}


# --- Mobile members ------------------------------------------------------------------------------
def mobile_period_problems(*, person: Person, started_on, ended_on, exclude_pk: int | None = None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if person.political_status not in PARTY_MEMBER_STATUSES:
        problems["person"] = _("Only party members are recorded as mobile members.")
    if started_on and ended_on and ended_on < started_on:
        problems["ended_on"] = _("The end cannot be before the start.")
    if started_on:
        overlapping = MobileMember.objects.filter(person=person).exclude(pk=exclude_pk).filter(
            started_on__lte=ended_on or datetime.date.max).exclude(ended_on__lt=started_on)
        if overlapping.exists():
            problems["started_on"] = _("This period overlaps another period of the same member.")
    return problems


# --- Branch terms --------------------------------------------------------------------------------
@transaction.atomic
def term_record_election(*, unit: OrgUnit, elected_on: datetime.date, by=None, term_years: int | None = None,
                         members: str = "") -> BranchTerm:
    """Record an election: the new term starts, and the unit's open term (if any) closes on that day."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if unit.kind not in PARTY_UNIT_KINDS:
        raise ValidationError({"unit": _("Choose a party organisation (committee, general branch or branch).")})
    if elected_on > timezone.localdate():
        raise ValidationError({"elected_on": _("An election cannot be recorded with a date in the future.")})
    years = term_years or workflow.default_term_years(unit.kind)
    current = BranchTerm.objects.select_for_update().filter(unit=unit, closed_on__isnull=True).first()
    if current is not None:
        if elected_on <= current.elected_on:
            raise ValidationError({"elected_on": _("The election must be after the current term's (%(date)s).")
                                   % {"date": current.elected_on.isoformat()}})
        current.closed_on = elected_on
        current.save(update_fields=["closed_on"])
    if BranchTerm.objects.filter(unit=unit, elected_on=elected_on).exists():
        raise ValidationError({"elected_on": _("An election on this day is already recorded.")})
    return BranchTerm.objects.create(
        unit=unit, elected_on=elected_on, term_years=years, ends_on=workflow.term_ends_on(elected_on, years),
        members=members.strip(), recorded_by=by,
    )


def term_send_reminder(term_id: int, which: str, today: datetime.date) -> int:
    """Claim reminder `which` of the term once (a conditional UPDATE), then tell the heads of the
    unit and of the committee above it (portal.recipients). A re-run finds the claim taken."""
    field = f"{which}_reminder_at"
    claimed = BranchTerm.objects.filter(pk=term_id, closed_on__isnull=True, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()})
    if not claimed:
        return 0
    term = BranchTerm.objects.select_related("unit").get(pk=term_id)
    months = 6 if which == "six_month" else 1
    title = _("%(unit)s: the committee's term ends on %(date)s (in about %(months)d months); prepare the election") % {
        "unit": term.unit.name, "date": term.ends_on.isoformat(), "months": months}
    if months == 1:
        title = _("%(unit)s: the committee's term ends on %(date)s (in about a month); hold the election") % {
            "unit": term.unit.name, "date": term.ends_on.isoformat()}
    users = {u.pk: u for u in recipients_for(term.unit).users}
    users.update({u.pk: u for u in recipients_for(term.unit, roles=SUPERVISORS, above=True).users})
    url = reverse("members:term_detail", args=[term.pk])
    return sum(1 for user in users.values()
               if notify(user, title=title, url=url, key=f"term:{term.pk}:{which}:{user.pk}") is not None)
