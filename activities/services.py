"""Writes of the activities app: attendance and check-in, points, responsibility items and their
review, template copies, and the project lifecycle. Views, importers, tasks and the API call these."""
from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.choices import PARTY_MEMBER_STATUSES
from members.models import Person
from members.services import points_award
from portal import robots
from portal.models import RobotKind
from portal.roles import has_permission
from portal.scope import in_subtree, subtree_q, visible
from portal.separation import own_work, require_second_person

from . import workflow
from .choices import (
    ActivityStatus, ApprovalState, AttendanceSource, AttendanceStatus, ItemEventKind, ItemStatus, ProjectAction,
    ProjectStage,
)
from .models import Activity, ActivityPhoto, Attendance, Expense, ItemEvent, PointsRule, Project, ProjectApproval, ResponsibilityItem

# --- Attendance and QR check-in -----------------------------------------------------------------
CHECKIN_SALT = "activities.checkin"
CHECKIN_CODE_MAX_AGE = 10 * 60  # seconds a code shown on the screen stays valid
CHECKIN_CODE_REFRESH = 60  # the screen shows a fresh code this often


class CheckInRefused(Exception):
    """The check-in code is forged, expired or not for an activity one can check in to."""


def checkin_token(activity: Activity) -> str:
    """A signed, timestamped code naming the activity (django.core.signing)."""
    return signing.TimestampSigner(salt=CHECKIN_SALT).sign_object({"a": activity.pk})


def checkin_activity_id(token: str, *, max_age: int = CHECKIN_CODE_MAX_AGE) -> int:
    try:
        data = signing.TimestampSigner(salt=CHECKIN_SALT).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        raise CheckInRefused(_("This check-in code has expired. Scan the code on the screen again.")) from None
    except signing.BadSignature:
        raise CheckInRefused(_("This check-in code is not valid.")) from None
    return int(data["a"])


def may_check_in(activity: Activity, person: Person) -> bool:
    """On the list of the activity, or a member of its org unit or a sub-unit (walk-in)."""
    return (
        activity.attendances.filter(person=person).exists()
        or in_subtree(person.org_unit, activity.org_unit)
    )


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def attendance_check_in(*, activity: Activity, person: Person, now: datetime.datetime | None = None) -> tuple[Attendance, bool]:
    """Self check-in. Returns (attendance, newly_checked_in); checking in twice changes nothing."""
    if activity.status == ActivityStatus.CANCELLED:
        raise CheckInRefused(_("This activity has been cancelled."))
    if not may_check_in(activity, person):
        raise CheckInRefused(_("You are not on the list of this activity."))
    now = now or timezone.now()
    opens, closes = workflow.checkin_window(activity.held_at)
    if now < opens:
        raise CheckInRefused(_("Check-in has not opened yet: it opens at %(opens)s, %(minutes)s minutes before the start.")
                             % {"opens": _local(opens), "minutes": (activity.held_at - opens).seconds // 60})
    if now > closes:
        raise CheckInRefused(_("Check-in has closed: the activity ended at %(closes)s.") % {"closes": _local(closes)})
    attendance, _created = Attendance.objects.get_or_create(
        activity=activity, person=person, defaults={"status": AttendanceStatus.ABSENT, "source": AttendanceSource.QR}
    )
    # Claim the row: only the first check-in changes it.
    changed = Attendance.objects.filter(pk=attendance.pk).exclude(status=AttendanceStatus.PRESENT).update(
        status=AttendanceStatus.PRESENT, checked_in_at=now, source=AttendanceSource.QR, leave_reason="",
    )
    attendance.refresh_from_db()
    if changed and activity.status == ActivityStatus.HELD:
        schedule_points(activity)
    return attendance, bool(changed)


def activity_invite(*, activity: Activity, person_ids) -> int:
    """Put people on the activity's list (as not yet present); people already listed are kept."""
    before = activity.attendances.count()
    Attendance.objects.bulk_create(
        [Attendance(activity=activity, person_id=pk, status=AttendanceStatus.ABSENT, source=AttendanceSource.ROSTER)
         for pk in person_ids],
        ignore_conflicts=True, batch_size=2000,
    )
    return activity.attendances.count() - before


def activity_invite_unit(*, activity: Activity, unit, party_members_only: bool = True) -> int:
    people = Person.objects.filter(subtree_q(unit, "org_unit"), is_active=True)
    if party_members_only:
        people = people.filter(political_status__in=PARTY_MEMBER_STATUSES)
    return activity_invite(activity=activity, person_ids=list(people.values_list("pk", flat=True)[:5000]))


@transaction.atomic
def attendance_record(*, activity: Activity, statuses: dict[int, str], now: datetime.datetime | None = None) -> int:
    """Roster attendance: {attendance id: status}. Returns the number of rows changed."""
    now = now or timezone.now()
    rows = list(activity.attendances.select_for_update().filter(pk__in=list(statuses)))
    changed = []
    for row in rows:
        status = statuses[row.pk]
        if status not in AttendanceStatus.values:
            raise ValidationError(_("Unknown attendance status."))
        if row.status != status:
            row.status = status
            if status == AttendanceStatus.PRESENT and row.checked_in_at is None:
                row.checked_in_at = now
                row.source = AttendanceSource.ROSTER
            changed.append(row)
    Attendance.objects.bulk_update(changed, ["status", "checked_in_at", "source", "updated_at"])
    if changed and activity.status == ActivityStatus.HELD:
        schedule_points(activity)
    return len(changed)


@transaction.atomic
def attendance_request_leave(*, activity: Activity, person: Person, reason: str) -> Attendance:
    if activity.status != ActivityStatus.PLANNED:
        raise ValidationError(_("Leave can only be requested before the activity."))
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    attendance = activity.attendances.select_for_update().filter(person=person).first()
    if attendance is None:
        raise ValidationError(_("You are not on the list of this activity."))
    if attendance.status == AttendanceStatus.PRESENT:
        raise ValidationError(_("You have already checked in."))
    attendance.status, attendance.leave_reason = AttendanceStatus.LEAVE, reason.strip()[:200]
    attendance.save(update_fields=["status", "leave_reason", "updated_at"])
    return attendance


@transaction.atomic
def attendance_save(*, activity: Activity, statuses: dict[int, str], mark_held: bool = False) -> int:
    """The roster saved; with `mark_held` a planned activity is first marked as held (never one in
    the future)."""
    if mark_held and activity.status == ActivityStatus.PLANNED:
        if activity.held_at > timezone.now():
            raise ValidationError(_("An activity in the future cannot be marked as held."))
        activity.status = ActivityStatus.HELD
        activity.save(update_fields=["status", "updated_at"])
        activity_saved(activity)
    return attendance_record(activity=activity, statuses=statuses)


def activity_add_photo(*, activity: Activity, upload, by) -> ActivityPhoto:
    return ActivityPhoto.objects.create(activity=activity, file=upload, original_name=upload.name[:200], uploaded_by=by)


def activity_saved(activity: Activity) -> None:
    """After a create or edit (held, cancelled, moved): the 三会一课 summary follows, and a held
    activity awards the points of its present attendees."""
    from . import meeting_summary

    meeting_summary.activity_changed(activity)
    if activity.status == ActivityStatus.HELD:
        schedule_points(activity)


def activity_deleted(activity: Activity) -> None:
    from . import meeting_summary

    meeting_summary.activity_changed(activity)


def schedule_points(activity: Activity) -> None:
    from .tasks import award_activity_points

    transaction.on_commit(lambda: award_activity_points.delay(activity.pk))


def award_points_for_activity(activity: Activity) -> int:
    """Award the type's points to every present attendee of a held activity, at most once per
    attendance (source_key "attendance:<id>"). Returns the number of new awards."""
    if activity.status != ActivityStatus.HELD:
        return 0
    rule = PointsRule.objects.filter(type=activity.type, is_active=True).first()
    if rule is None or rule.points == 0:
        return 0
    from members.models import PointsEntry

    present = list(activity.attendances.filter(status=AttendanceStatus.PRESENT).select_related("person"))
    keys = {f"attendance:{a.pk}" for a in present}
    done = set(PointsEntry.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    awarded = 0
    # Stored text is in the portal's language, whoever's page or task triggered the award.
    with translation.override(settings.LANGUAGE_CODE):
        reason = str(_("Attended: %(title)s") % {"title": activity.title})
    for attendance in present:
        key = f"attendance:{attendance.pk}"
        if key in done:
            continue
        entry = points_award(person=attendance.person, points=rule.points, reason=reason[:200], source="attendance",
                             source_key=key, on=timezone.localdate(activity.held_at))
        awarded += entry is not None
    return awarded


def notify_participants(activity: Activity) -> int:
    from portal.models import User
    from portal.notifications import notify

    users = User.objects.filter(person__attendances__activity=activity, is_active=True)
    when = timezone.localtime(activity.held_at).strftime("%Y-%m-%d %H:%M")
    sent = 0
    for user in users:
        sent += notify(
            user, title=_("Activity: %(title)s") % {"title": activity.title},
            body=_("%(when)s %(place)s") % {"when": when, "place": activity.location}, url=activity.get_absolute_url(),
            key=f"activity-invite:{activity.pk}:{activity.held_at:%Y%m%d%H%M}",
        ) is not None
    Activity.objects.filter(pk=activity.pk).update(notified_at=timezone.now())
    robots.announce(RobotKind.MEETING, unit=activity.org_unit, key=f"activity-invite:{activity.pk}:{activity.held_at:%Y%m%d%H%M}",
                    url=activity.get_absolute_url(), compose=lambda: _invitation(activity))
    return sent


def _invitation(activity: Activity) -> tuple[str, str]:
    when = timezone.localtime(activity.held_at).strftime("%Y-%m-%d %H:%M")
    return (_("Activity: %(title)s") % {"title": activity.title},
            _("%(when)s %(place)s") % {"when": when, "place": activity.location})


# --- Responsibility items -----------------------------------------------------------------------
def item_deadline_problem(deadline: datetime.date | None, parent: ResponsibilityItem | None) -> str | None:
    """The deadline rule of a responsibility item, the same for the form, the import and the API:
    every item has a deadline, and a sub-item's is not later than its parent's. None when it holds."""
    if deadline is None:
        return _("A responsibility item needs a deadline.")
    if parent is not None and parent.deadline and deadline > parent.deadline:
        return _("A sub-item's deadline cannot be later than its parent's (%(date)s).") % {"date": parent.deadline.isoformat()}
    return None


def reviewable_items(user, queryset=None):
    """Items `user` may approve: in the scope of their approval permission, or supervised by a unit
    in their scope (the supervising unit approves too)."""
    queryset = queryset if queryset is not None else ResponsibilityItem.objects.all()
    if not has_permission(user, "tasks.approve"):
        return queryset.none()
    in_scope = visible(queryset, user, "tasks.approve")
    if user.scope_org_id and user.role != "admin":
        supervised = queryset.filter(subtree_q(user.scope_org_path, "supervising_unit"))
        return in_scope | supervised
    return in_scope


def may_update_progress(user, item: ResponsibilityItem) -> bool:
    return has_permission(user, "tasks.progress") and visible(
        ResponsibilityItem.objects.filter(pk=item.pk), user, "tasks.progress"
    ).exists()


def _item_work(item: ResponsibilityItem) -> dict:
    """Who did the item's work, for the separation-of-duties rule: its responsible person and the
    account that submitted the completion."""
    submitted_by = item.records.filter(kind=ItemEventKind.SUBMIT).order_by("-at", "-id").values_list("by_id", flat=True)[:1]
    return {"submitted_by_ids": list(submitted_by), "responsible_person_ids": [item.responsible_id]}


def may_approve(user, item: ResponsibilityItem) -> bool:
    """The branch secretary or supervisor, never whoever did or submitted the work (portal.separation)."""
    if own_work(user, **_item_work(item)):
        return False
    return reviewable_items(user, ResponsibilityItem.objects.filter(pk=item.pk)).exists()


def _locked(item: ResponsibilityItem) -> ResponsibilityItem:
    return ResponsibilityItem.objects.select_for_update().get(pk=item.pk)


def rollup_ancestors(item: ResponsibilityItem) -> None:
    """Recompute the progress of every ancestor from its direct children (equal weights)."""
    parent_id = item.parent_id
    seen = set()
    while parent_id and parent_id not in seen:
        seen.add(parent_id)
        children = ResponsibilityItem.objects.filter(parent_id=parent_id).values_list("progress", flat=True)
        value = workflow.rollup_progress((p, 1) for p in children)
        if value is not None:
            ResponsibilityItem.objects.filter(pk=parent_id).update(progress=value, updated_at=timezone.now())
        parent_id = ResponsibilityItem.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()


@transaction.atomic
def item_update_progress(*, item: ResponsibilityItem, by, progress: int | None, note: str = "", evidence=None) -> ItemEvent:
    item = _locked(item)
    if not may_update_progress(by, item):
        raise PermissionDenied
    if item.status in (ItemStatus.SUBMITTED, ItemStatus.APPROVED):
        raise ValidationError(_("The completion has been submitted; progress can no longer be changed."))
    has_children = item.children.exists()
    if progress is not None and has_children:
        raise ValidationError({"progress": _("The progress of an item with sub-items is rolled up from them.")})
    if progress is None and not note.strip() and not evidence:
        raise ValidationError(_("Enter a progress, a note or a file."))
    event = ItemEvent(item=item, kind=ItemEventKind.PROGRESS, progress=progress, note=note.strip(), by=by)
    if evidence:
        event.evidence = evidence
        event.evidence_name = evidence.name[:200]
    event.full_clean(exclude=["item", "by"])
    event.save()
    if progress is not None and progress != item.progress:
        item.progress = progress
        item.save(update_fields=["progress", "updated_at"])
        rollup_ancestors(item)
    return event


@transaction.atomic
def item_submit(*, item: ResponsibilityItem, by, note: str = "", evidence=None) -> ResponsibilityItem:
    item = _locked(item)
    if not may_update_progress(by, item):
        raise PermissionDenied
    if not workflow.item_may_move(item.status, ItemStatus.SUBMITTED):
        raise ValidationError(_("This item cannot be submitted in its current state."))
    open_children = item.children.exclude(status=ItemStatus.APPROVED).exists()
    if open_children:
        raise ValidationError(_("All sub-items must be completed and approved first."))
    event = ItemEvent(item=item, kind=ItemEventKind.SUBMIT, progress=100, note=note.strip(), by=by)
    if evidence:
        event.evidence, event.evidence_name = evidence, evidence.name[:200]
    event.full_clean(exclude=["item", "by"])
    event.save()
    item.status, item.progress = ItemStatus.SUBMITTED, 100
    item.save(update_fields=["status", "progress", "updated_at"])
    rollup_ancestors(item)
    robots.announce(RobotKind.APPROVAL, unit=item.lead_org_unit, key=f"item-submit:{event.pk}", url=item.get_absolute_url(),
                    compose=lambda: (_("Completion submitted for approval: %(title)s") % {"title": item.title}, note.strip()))
    return item


@transaction.atomic
def item_report(*, item: ResponsibilityItem, by, submit: bool, progress: int | None, note: str = "", evidence=None):
    """What the responsible posts from the item page: the completion for approval when `submit`,
    a progress update otherwise."""
    if submit:
        return item_submit(item=item, by=by, note=note, evidence=evidence)
    return item_update_progress(item=item, by=by, progress=progress, note=note, evidence=evidence)


@transaction.atomic
def item_decide(*, item: ResponsibilityItem, by, approve: bool, comment: str = "",
                now: datetime.datetime | None = None) -> ResponsibilityItem:
    """Approve or return a submitted completion. Nobody approves their own item."""
    item = _locked(item)
    require_second_person(by, **_item_work(item))
    if not may_approve(by, item):
        raise PermissionDenied
    target = ItemStatus.APPROVED if approve else ItemStatus.RETURNED
    if not workflow.item_may_move(item.status, target):
        raise ValidationError(_("Only a submitted completion can be approved or returned."))
    if not approve and not comment.strip():
        raise ValidationError({"comment": _("Say why the completion is returned.")})
    ItemEvent.objects.create(item=item, kind=ItemEventKind.APPROVE if approve else ItemEventKind.RETURN,
                             note=comment.strip(), by=by)
    item.status = target
    fields = ["status", "updated_at"]
    if approve:
        item.completed_at = now or timezone.now()
        fields.append("completed_at")
    item.save(update_fields=fields)
    _notify_responsible(item, approve, comment)
    return item


def _notify_responsible(item: ResponsibilityItem, approved: bool, comment: str) -> None:
    from portal.models import User
    from portal.notifications import notify

    user = User.objects.filter(person_id=item.responsible_id, is_active=True).first() if item.responsible_id else None
    if user is None:
        return
    title = (_("Completion approved: %(title)s") if approved else _("Completion returned: %(title)s")) % {"title": item.title}
    notify(user, title=title[:200], body=comment, url=item.get_absolute_url(),
           key=f"item-decision:{item.pk}:{item.records.count()}")


@transaction.atomic
def items_copy_year(*, user, source_year: int, target_year: int, lead_unit=None) -> int:
    """Copy the list of `source_year` to `target_year`: every item with a deadline in that year and
    its whole tree of sub-items (whatever year their deadlines fall in), deadlines shifted by whole
    years (29 February → 28 February). Only into the current or a later year, so a copy never
    creates overdue items. Items already copied with the same shift are skipped, so a second run
    copies nothing. Returns the number of items created."""
    if source_year == target_year:
        raise ValidationError({"target_year": _("Choose another year than the source.")})
    if target_year < timezone.localdate().year:
        raise ValidationError({"target_year": _("Copy into the current year or a later one.")})
    years = target_year - source_year
    in_scope = visible(ResponsibilityItem.objects.all(), user, "tasks.change")
    tops = in_scope.filter(deadline__year=source_year)
    if lead_unit is not None:
        tops = tops.filter(subtree_q(lead_unit, "lead_org_unit"))
    items = {i.pk: i for i in tops.prefetch_related("cooperating_units")}
    # The whole tree below: sub-items whose deadline fell into the next year belong to the list too.
    frontier = list(items)
    while frontier:
        children = [c for c in in_scope.filter(parent_id__in=frontier).exclude(pk__in=list(items))
                    .prefetch_related("cooperating_units")]
        items.update((c.pk, c) for c in children)
        frontier = [c.pk for c in children]
    copies = {
        (copied_from, deadline): pk for pk, copied_from, deadline in
        ResponsibilityItem.objects.filter(copied_from__in=list(items)).values_list("pk", "copied_from_id", "deadline")
    }

    def depth(item):  # parents before children
        d, current = 0, item
        while current.parent_id in items:
            d, current = d + 1, items[current.parent_id]
        return d

    clone_ids: dict[int, int] = {}
    created = 0
    for item in sorted(items.values(), key=lambda i: (depth(i), i.pk)):
        deadline = workflow.shift_years(item.deadline, years)
        existing = copies.get((item.pk, deadline))
        if existing is not None:
            clone_ids[item.pk] = existing
            continue
        clone = ResponsibilityItem.objects.create(
            title=item.title, requirement=item.requirement, parent_id=clone_ids.get(item.parent_id),
            lead_org_unit=item.lead_org_unit, responsible=item.responsible, supervising_unit=item.supervising_unit,
            deadline=deadline, copied_from=item,
        )
        clone.cooperating_units.set(item.cooperating_units.all())
        clone_ids[item.pk] = clone.pk
        created += 1
    return created


# --- Projects ----------------------------------------------------------------------------------
def project_progress(project: Project) -> int:
    value = workflow.rollup_progress(project.milestones.values_list("progress", "weight"))
    return value or 0


def project_spent(project: Project) -> Decimal:
    return project.expenses.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def project_closing_problems(project: Project) -> list[str]:
    """What must be settled before the closing evaluation is submitted or approved (workflow.closing_problems)."""
    return workflow.closing_problems(
        milestones=project.milestones.values_list("title", "progress", "unfinished_reason"),
        budget=project.budget, spent=project_spent(project), overrun_reason=project.overrun_reason,
        risks=project.risks.values_list("description", "level", "is_open", "accepted_reason"),
    )


def _project_work(project: Project) -> dict:
    """Who did the current stage's work: the account that submitted it and the project leader."""
    submitted_by = project.approvals.filter(stage=project.stage, action=ProjectAction.SUBMIT).order_by(
        "-at", "-id").values_list("by_id", flat=True)[:1]
    return {"submitted_by_ids": list(submitted_by), "responsible_person_ids": [project.leader_id]}


def may_decide_project(user, project: Project) -> bool:
    """Approval reach over the project's unit (portal.scope) and not one's own submission."""
    return (
        has_permission(user, "projects.approve")
        and visible(Project.objects.filter(pk=project.pk), user, "projects.approve").exists()
        and not own_work(user, **_project_work(project))
    )


def project_add(*, project: Project, record, by) -> None:
    """A milestone, expense or risk added to the project (an expense records who entered it)."""
    record.project = project
    if isinstance(record, Expense):
        record.recorded_by = by
    record.save()


def milestone_progress(*, milestone, progress: int) -> None:
    milestone.progress = progress
    milestone.done_on = timezone.localdate() if milestone.progress == 100 else None
    milestone.save(update_fields=["progress", "done_on"])


def milestone_delete(*, milestone) -> None:
    milestone.delete()


def milestone_unfinished_reason(*, milestone, reason: str) -> None:
    milestone.unfinished_reason = reason
    milestone.save(update_fields=["unfinished_reason"])


def project_risk_close(*, project: Project, risk_id: int) -> None:
    project.risks.filter(pk=risk_id).update(is_open=False)


def project_risk_accept(*, risk, reason: str) -> None:
    risk.accepted_reason = reason
    risk.save(update_fields=["accepted_reason"])


def project_act(*, project: Project, by, action: str, comment: str = "") -> Project:
    """The project step posted from the project page: submit, approve or return."""
    if action == ProjectAction.SUBMIT:
        return project_submit(project=project, by=by, comment=comment)
    return project_decide(project=project, by=by, approve=action == ProjectAction.APPROVE, comment=comment)


@transaction.atomic
def project_submit(*, project: Project, by, comment: str = "") -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not visible(Project.objects.filter(pk=project.pk), by, workflow.PROJECT_ACTION_PERMISSION[ProjectAction.SUBMIT]).exists():
        raise PermissionDenied
    step = workflow.project_step(project.stage, project.approval, ProjectAction.SUBMIT)
    if step is None:
        raise ValidationError(_("This project is already awaiting approval or closed."))
    if project.stage == ProjectStage.EVALUATION and project.evaluation_score is None:
        raise ValidationError(_("Enter the closing evaluation (score and lessons) before submitting."))
    if project.stage == ProjectStage.PLANNING and not project.milestones.exists():
        raise ValidationError(_("Add at least one milestone to the plan before submitting."))
    if project.stage == ProjectStage.EVALUATION and (problems := project_closing_problems(project)):
        raise ValidationError(problems)
    project.stage, project.approval = step
    project.save(update_fields=["stage", "approval", "updated_at"])
    submission = ProjectApproval.objects.create(project=project, stage=project.stage, action=ProjectAction.SUBMIT,
                                                comment=comment, by=by)
    robots.announce(RobotKind.APPROVAL, unit=project.org_unit, key=f"project-submit:{submission.pk}", url=project.get_absolute_url(),
                    compose=lambda: (_("Project submitted for approval (%(stage)s): %(name)s")
                                     % {"stage": ProjectStage(project.stage).label, "name": project}, comment))
    return project


@transaction.atomic
def project_decide(*, project: Project, by, approve: bool, comment: str = "") -> Project:
    """Approve or return the submitted stage: a second person with approval reach over the unit."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    action = ProjectAction.APPROVE if approve else ProjectAction.RETURN
    if not visible(Project.objects.filter(pk=project.pk), by, workflow.PROJECT_ACTION_PERMISSION[action]).exists():
        raise PermissionDenied
    require_second_person(by, **_project_work(project))
    step = workflow.project_step(project.stage, project.approval, action)
    if step is None:
        raise ValidationError(_("This project is not awaiting approval."))
    if not approve and not comment.strip():
        raise ValidationError({"comment": _("Say why the project is returned.")})
    if approve and project.stage == ProjectStage.EVALUATION and (problems := project_closing_problems(project)):
        raise ValidationError(problems)
    ProjectApproval.objects.create(project=project, stage=project.stage, action=action, comment=comment, by=by)
    project.stage, project.approval = step
    project.save(update_fields=["stage", "approval", "updated_at"])
    return project
