"""Person timeline: the grade decided in a democratic appraisal, improvement actions owned."""
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.registry import TimelineEntry, timeline_provider
from portal.roles import has_permission
from portal.scope import visible

from .models import AppraisalResult, ImprovementAction


@timeline_provider
def appraisal_entries(person, user, limit):
    if not has_permission(user, "campaigns.manage") and user.person_id != person.pk:
        return []
    results = AppraisalResult.objects.filter(person=person).exclude(final_grade="").select_related("round")
    if user.person_id != person.pk:
        results = visible(results, user, "campaigns.manage")
    return [
        TimelineEntry(timezone.localtime(r.decided_at) if r.decided_at else r.round.created_at,
                      _("Democratic appraisal"), f"{r.round.name}：{r.get_final_grade_display()}", icon="award",
                      detail=r.note)
        for r in results.order_by("-decided_at")[:limit]
    ]


@timeline_provider
def action_entries(person, user, limit):
    if not has_permission(user, "pdca.view"):
        return []
    actions = visible(ImprovementAction.objects.filter(owner=person), user, "pdca.view").order_by("-created_at")
    return [
        TimelineEntry(timezone.localtime(a.created_at), _("Improvement action"), a.title, url=a.get_absolute_url(),
                      icon="tools", detail=a.get_status_display())
        for a in actions[:limit]
    ]
