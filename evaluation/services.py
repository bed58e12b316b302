"""Writes of the evaluation app: recompute hints, targets and manual values, campaigns, democratic
appraisal, PDCA actions, reports. Reads live in selectors.py; the KPI engine in engine.py."""
from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.scope import in_subtree, subtree_q

from .periods import Period, touched_periods

logger = logging.getLogger(__name__)

# --- Debounced recompute after data changes ------------------------------------------------------
TOUCHED_KEY = "portal:evaluation:kpis:touched"
DEBOUNCE_KEY = "portal:evaluation:kpis:debounce"
# Changes arriving within this many seconds are computed together.
DEBOUNCE_SECONDS = 60


def redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def periods_touched(moments, *, cumulative: bool = False, now: datetime.datetime | None = None) -> set[Period]:
    """The periods (already begun) whose figures records stamped at `moments` can change."""
    now = now or timezone.now()
    periods: set[Period] = set()
    for moment in moments:
        if moment is None:
            continue
        periods |= touched_periods(moment, through_year_end=cumulative)
    return {p for p in periods if p.start <= now}


def kpis_touched(moments, *, cumulative: bool = False) -> set[Period]:
    """Tell the engine that records stamped at `moments` (datetimes or dates) changed. After the
    transaction commits, the periods are added to a Redis set and one recompute is scheduled
    DEBOUNCE_SECONDS later (a Redis key makes later calls join the pending one). Cheap: no
    computation here. Other apps' services may call this after bulk writes."""
    periods = periods_touched(moments, cumulative=cumulative)
    if periods and getattr(settings, "EVALUATION_RECOMPUTE_ON_CHANGE", True):
        keys = sorted(p.key for p in periods)
        transaction.on_commit(lambda: _schedule(keys))
    return periods


def _schedule(keys: list[str]) -> None:
    from portal.celery import app

    if app.conf.task_always_eager:
        # Tasks run in-process (tests, scripts): a recompute after every save would only slow
        # them down; the beat or the command computes the figures there.
        return
    try:
        client = redis_client()
        client.sadd(TOUCHED_KEY, *keys)
        if client.set(DEBOUNCE_KEY, "1", nx=True, ex=DEBOUNCE_SECONDS * 5):
            from .tasks import recompute_touched

            recompute_touched.apply_async(countdown=DEBOUNCE_SECONDS)
    except Exception:  # the beat recomputes anyway; a hint must never break a save
        logger.exception("could not schedule a KPI recompute")


def pop_touched() -> list[str]:
    """Take the touched periods atomically (and let the next change schedule a new run)."""
    client = redis_client()
    pipe = client.pipeline(transaction=True)
    pipe.delete(DEBOUNCE_KEY)
    pipe.smembers(TOUCHED_KEY)
    pipe.delete(TOUCHED_KEY)
    _, members, _ = pipe.execute()
    return sorted(m.decode() for m in members)


def restore_touched(keys: list[str]) -> None:
    if keys:
        redis_client().sadd(TOUCHED_KEY, *keys)


# --- Targets and manual values ------------------------------------------------------------------------
def manual_value_saved(value) -> None:
    """Mirror a manual KPI value into the snapshots (dashboards read only snapshots)."""
    from .models import KpiSnapshot

    period = Period.parse(value.period)
    now = timezone.now()
    KpiSnapshot.objects.update_or_create(
        period=value.period, kpi_id=value.kpi_id, org_unit_id=value.org_unit_id,
        defaults={"value": value.value, "numerator": None, "denominator": None,
                  "as_of": period.as_of(now), "computed_at": now},
    )


def manual_value_deleted(value) -> None:
    from .models import KpiSnapshot

    KpiSnapshot.objects.filter(period=value.period, kpi_id=value.kpi_id, org_unit_id=value.org_unit_id).delete()


# --- Campaigns ----------------------------------------------------------------------------------------------
class ServiceError(Exception):
    """A business rule refused the step; the message is for the user."""


def campaign_problems(campaign) -> list[str]:
    """What stops a campaign from opening (empty when it may open)."""

    problems = []
    if not campaign.indicators.exists():
        problems.append(_("Add at least one indicator."))
    groups = list(campaign.groups.all())
    if not groups:
        problems.append(_("Add at least one rater group."))
    elif sum(g.weight for g in groups) != 100:
        problems.append(_("The weights of the rater groups must add up to 100 (now %(sum)s).")
                        % {"sum": sum(g.weight for g in groups)})
    if not campaign.subjects.exists():
        problems.append(_("Choose the units to evaluate."))
    if groups and not any(g.assignments.exists() for g in groups):
        problems.append(_("Assign at least one rater."))
    return problems


def unrateable_warning(campaign) -> str:
    """The warning shown before opening: every unit some rater group cannot rate, with the groups
    (empty when every group can rate every unit)."""
    from .selectors import unrateable_units

    rows = unrateable_units(campaign)
    if not rows:
        return ""
    units = "；".join(_("%(unit)s (not by: %(groups)s)") % {
        "unit": row["subject"].name, "groups": "、".join(str(g) for g in row["groups"])} for row in rows)
    return _("These units cannot be rated by every rater group, so they can only get a partial score "
             "and are listed after the complete units, marked incomplete: %(units)s.") % {"units": units}


def campaign_transition(*, campaign, action: str, by, accept_incomplete: bool = False) -> None:
    """One status step. Opening with units a rater group cannot rate needs `accept_incomplete`
    (the opener has seen the list of those units)."""
    from .workflow import CAMPAIGN_TRANSITIONS

    target = CAMPAIGN_TRANSITIONS.get((campaign.status, action))
    if target is None:
        raise ServiceError(_("This step is not possible now."))
    if action == "open":
        problems = campaign_problems(campaign)
        if problems:
            raise ServiceError(" ".join(problems))
        warning = unrateable_warning(campaign)
        if warning and not accept_incomplete:
            raise ServiceError(warning + " " + _("Confirm that you open the campaign anyway, or add raters."))
    changed = type(campaign).objects.filter(pk=campaign.pk, status=campaign.status).update(status=target)
    if not changed:
        raise ServiceError(_("The campaign was changed by someone else; reload the page."))
    campaign.status = target
    if action == "open":
        _notify_raters(campaign)


def _notify_raters(campaign) -> None:
    from django.urls import reverse

    from portal.notifications import notify

    from .models import RaterAssignment

    for assignment in RaterAssignment.objects.filter(group__campaign=campaign).select_related("rater"):
        notify(assignment.rater, title=_("Please rate: %(name)s") % {"name": campaign.name},
               url=reverse("evaluation:rate_list"), key=f"campaign-open:{campaign.pk}:{assignment.rater_id}")


def campaign_check_draft(campaign) -> None:
    from .choices import CampaignStatus

    if campaign.status != CampaignStatus.DRAFT:
        raise ServiceError(_("Indicators and rater groups change only while the campaign is being prepared."))


def campaign_remove_indicator(*, campaign, indicator_id: int) -> None:
    campaign_check_draft(campaign)
    campaign.indicators.filter(pk=indicator_id).delete()


def campaign_remove_group(*, campaign, group_id: int) -> None:
    campaign_check_draft(campaign)
    campaign.groups.filter(pk=group_id).delete()


def campaign_add_raters(*, campaign, group, users) -> None:
    """The accounts become raters of the group (those already raters stay); an open campaign tells them."""
    from .choices import CampaignStatus
    from .models import RaterAssignment

    RaterAssignment.objects.bulk_create([RaterAssignment(group=group, rater=u) for u in users], ignore_conflicts=True)
    if campaign.status == CampaignStatus.OPEN:
        _notify_raters(campaign)


def campaign_remove_rater(*, campaign, assignment_id: int) -> None:
    """A rater who has already rated stays (the ballots are counted)."""
    from .models import RaterAssignment

    assignment = RaterAssignment.objects.filter(group__campaign=campaign, pk=assignment_id).first()
    if assignment and assignment.done_subjects:
        raise ServiceError(_("This rater has already rated; the assignment stays."))
    if assignment:
        assignment.delete()


def subjects_for(assignment) -> list:
    """The units a rater rates: the campaign's, except (cross rating) the rater's own unit."""
    from .choices import RaterGroupKind

    subjects = list(assignment.group.campaign.subjects.order_by("path"))
    if assignment.group.kind != RaterGroupKind.PEER:
        return subjects
    rater = assignment.rater
    own_paths = [p for p in (getattr(rater.person, "org_unit", None) and rater.person.org_unit.path,
                             rater.scope_org.path if rater.scope_org_id else None) if p]
    return [s for s in subjects if not any(in_subtree(path, s) for path in own_paths)]


def submit_scores(*, assignment, subject, scores: dict, comment: str = "") -> None:
    """Record one rater's sheet for one unit, once. Anonymous groups store no rater."""
    from django.db.models import Func, Value

    from .choices import CampaignStatus
    from .models import RaterAssignment, Score, ScoreSheet

    campaign = assignment.group.campaign
    if campaign.status != CampaignStatus.OPEN:
        raise ServiceError(_("The campaign is not open for rating."))
    if subject.pk not in {s.pk for s in subjects_for(assignment)}:
        raise ServiceError(_("You are not asked to rate this unit."))
    with transaction.atomic():
        claimed = (
            RaterAssignment.objects.filter(pk=assignment.pk).exclude(done_subjects__contains=[subject.pk])
            .update(done_subjects=Func("done_subjects", Value(subject.pk), function="array_append"))
        )
        if not claimed:
            raise ServiceError(_("You have already rated this unit."))
        sheet = ScoreSheet.objects.create(
            group=assignment.group, subject=subject, comment=comment,
            rater=None if assignment.group.anonymous else assignment.rater,
            submitted_on=timezone.localdate(),
        )
        Score.objects.bulk_create([Score(sheet=sheet, indicator=i, value=v) for i, v in scores.items()])


# --- Democratic appraisal ----------------------------------------------------------------------------------
def appraisal_transition(*, round, action: str, by) -> None:
    from .models import AppraisalResult
    from .workflow import CAMPAIGN_TRANSITIONS

    target = CAMPAIGN_TRANSITIONS.get((round.status, action))
    if target is None:
        raise ServiceError(_("This step is not possible now."))
    if action == "open" and not round.voters.exists():
        raise ServiceError(_("Add the voters first."))
    with transaction.atomic():
        changed = type(round).objects.filter(pk=round.pk, status=round.status).update(status=target)
        if not changed:
            raise ServiceError(_("The appraisal was changed by someone else; reload the page."))
        if action == "open":
            # The roster is frozen when the round opens: the party members of the organisation.
            from members.models import Person

            members = Person.objects.filter(subtree_q(round.org_unit, "org_unit"),
                                            political_status__in=("full_member", "probationary_member"))
            AppraisalResult.objects.bulk_create(
                [AppraisalResult(round=round, person=p) for p in members.only("pk")], ignore_conflicts=True
            )
    round.status = target
    if action == "open":
        _notify_voters(round)


def _notify_voters(round) -> None:
    from django.urls import reverse

    from portal.notifications import notify

    for voter in round.voters.select_related("voter"):
        notify(voter.voter, title=_("Democratic appraisal: %(name)s") % {"name": round.name},
               url=reverse("evaluation:rate_list"), key=f"appraisal-open:{round.pk}:{voter.voter_id}")


def add_voters(round, users) -> None:
    """The chosen accounts become voters of the round (those already voters stay as they are)."""
    from .models import AppraisalVoter

    AppraisalVoter.objects.bulk_create([AppraisalVoter(round=round, voter=u) for u in users], ignore_conflicts=True)


def add_member_voters(round) -> int:
    """Every account linked to a party member of the organisation becomes a voter."""
    from portal.models import User

    from .models import AppraisalVoter

    users = User.objects.filter(subtree_q(round.org_unit, "person__org_unit"),
                                person__political_status__in=("full_member", "probationary_member"), is_active=True)
    before = round.voters.count()
    AppraisalVoter.objects.bulk_create([AppraisalVoter(round=round, voter=u) for u in users.only("pk")],
                                       ignore_conflicts=True)
    return round.voters.count() - before


def cast_ballot(*, voter, grades: dict) -> None:
    """One ballot per voter; the votes are stored without the voter (无记名)."""
    from .choices import CampaignStatus
    from .models import AppraisalVote, AppraisalVoter

    round = voter.round
    if round.status != CampaignStatus.OPEN:
        raise ServiceError(_("The appraisal is not open for voting."))
    roster = set(round.results.values_list("person_id", flat=True))
    own = voter.voter.person_id
    if set(grades) - roster or own in grades:
        raise ServiceError(_("The ballot lists people who are not on the roster."))
    with transaction.atomic():
        claimed = AppraisalVoter.objects.filter(pk=voter.pk, voted_on__isnull=True).update(voted_on=timezone.localdate())
        if not claimed:
            raise ServiceError(_("You have already voted."))
        AppraisalVote.objects.bulk_create(
            [AppraisalVote(round=round, person_id=person, grade=grade) for person, grade in grades.items()]
        )


def decide_grade(*, result, grade: str, note: str, by) -> None:
    result.final_grade, result.note, result.decided_by, result.decided_at = grade, note, by, timezone.now()
    result.save(update_fields=["final_grade", "note", "decided_by", "decided_at"])


# --- PDCA ---------------------------------------------------------------------------------------------------
def action_step(*, action, step: str, by, verification: str = "") -> None:

    from portal.scope import visible
    from portal.separation import own_work, refusal_message

    from .models import ImprovementAction
    from .workflow import action_transition

    transition = action_transition(action.status, step)
    if transition is None:
        raise ServiceError(_("This step is not possible now."))
    if not visible(ImprovementAction.objects.filter(pk=action.pk), by, transition.permission).exists():
        raise ServiceError(_("You may not take this step."))
    if step in ("verify", "reject") and own_work(by, responsible_person_ids=[action.owner_id]):
        raise ServiceError(refusal_message())  # the owner does not check their own action
    if verification:
        action.verification = verification
    missing = [name for name in transition.requires if not getattr(action, name)]
    if missing:
        labels = "、".join(str(ImprovementAction._meta.get_field(n).verbose_name) for n in missing)
        raise ServiceError(_("Fill in first: %(fields)s.") % {"fields": labels})
    updates = {"status": transition.target, "verification": action.verification}
    if step in ("verify", "reject"):
        updates.update(verified_by=by, verified_at=timezone.now())
    changed = ImprovementAction.objects.filter(pk=action.pk, status=action.status).update(**updates)
    if not changed:
        raise ServiceError(_("The action was changed by someone else; reload the page."))
    for name, value in updates.items():
        setattr(action, name, value)
