from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ActivityType(models.TextChoices):
    GENERAL_ASSEMBLY = "general_assembly", _("Branch general assembly")
    BRANCH_COMMITTEE = "branch_committee", _("Branch committee meeting")
    PARTY_GROUP = "party_group", _("Party group meeting")
    PARTY_LECTURE = "party_lecture", _("Party lecture")
    THEME_PARTY_DAY = "theme_party_day", _("Theme party day")
    STUDY_SESSION = "study_session", _("Group study session")
    VOLUNTEER_SERVICE = "volunteer_service", _("Volunteer service")
    COMPETITION = "competition", _("Competition")
    CULTURE_SPORTS = "culture_sports", _("Culture and sports")


# The Chinese labels of data-exchange.md, accepted in import files whatever the display language.
ACTIVITY_TYPE_ZH = {
    "general_assembly": ["支部党员大会", "党员大会"],
    "branch_committee": ["支部委员会", "支委会"],
    "party_group": ["党小组会"],
    "party_lecture": ["党课"],
    "theme_party_day": ["主题党日"],
    "study_session": ["集中学习"],
    "volunteer_service": ["志愿服务"],
    "competition": ["竞赛", "技能比武"],
    "culture_sports": ["文体活动"],
}

# 三会一课 (kpis.md, "Meeting windows").
MONTHLY_MEETING_TYPES = (ActivityType.BRANCH_COMMITTEE.value, ActivityType.PARTY_GROUP.value)
QUARTERLY_MEETING_TYPES = (ActivityType.GENERAL_ASSEMBLY.value, ActivityType.PARTY_LECTURE.value)
MEETING_TYPES = (
    ActivityType.GENERAL_ASSEMBLY.value, ActivityType.BRANCH_COMMITTEE.value, ActivityType.PARTY_GROUP.value,
    ActivityType.PARTY_LECTURE.value,
)
EDUCATION_TYPES = (
    ActivityType.PARTY_LECTURE.value, ActivityType.THEME_PARTY_DAY.value, ActivityType.STUDY_SESSION.value,
)


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVITY_STATUS_ZH = {"planned": ["计划"], "held": ["已召开", "已举行"], "cancelled": ["取消", "已取消"]}


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    LEAVE = "leave", _("On leave")
    ABSENT = "absent", _("Absent")


class AttendanceSource(models.TextChoices):
    ROSTER = "roster", _("Roster")
    QR = "qr", _("QR check-in")
    IMPORT = "import", _("Import")


class ItemStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", pgettext_lazy("responsibility item status", "In progress")  # 进行中, not 办理中
    SUBMITTED = "submitted", _("Completion submitted")
    APPROVED = "approved", _("Completed (approved)")
    RETURNED = "returned", _("Returned")


class Colour(models.TextChoices):
    """Deadline warning colours of responsibility items (蓝 / 黄 / 红)."""

    BLUE = "blue", _("On track")
    YELLOW = "yellow", _("Due within 3 days")
    RED = "red", _("Overdue")
    DONE = "done", _("Completed")


class ItemEventKind(models.TextChoices):
    PROGRESS = "progress", _("Progress update")
    SUBMIT = "submit", _("Completion submitted")
    APPROVE = "approve", _("Completion approved")
    RETURN = "return", _("Returned")


class ProjectKind(models.TextChoices):
    PARTY_BRAND = "party_brand", _("Party-building brand")
    YOUTH_COMMANDO = "youth_commando", _("Youth commando tackling")
    VANGUARD_POST = "vanguard_post", _("Party member vanguard post")
    COST_REDUCTION = "cost_reduction", _("Cost reduction and efficiency")
    VOLUNTEER = "volunteer", _("Volunteer service")


class ProjectStage(models.TextChoices):
    PROPOSAL = "proposal", _("Proposal and appraisal")
    PLANNING = "planning", _("Planning")
    EXECUTION = "execution", _("Execution")
    EVALUATION = "evaluation", _("Closing evaluation")
    CLOSED = "closed", pgettext_lazy("project stage", "Closed")  # 已结项


class ApprovalState(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    PENDING = "pending", _("Awaiting approval")
    RETURNED = "returned", _("Returned")


class ProjectAction(models.TextChoices):
    SUBMIT = "submit", _("Submitted for approval")
    APPROVE = "approve", _("Approved")
    RETURN = "return", _("Returned")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class CellState(models.TextChoices):
    HELD = "held", _("Held")
    MISSING = "missing", _("Missing")
    DUE = "due", _("Still due")
