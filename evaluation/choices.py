from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class KpiKind(models.TextChoices):
    COMPUTED = "computed", _("Computed")
    MANUAL = "manual", _("Entered manually")


class ValueFormat(models.TextChoices):
    COUNT = "count", _("Count")
    RATE = "rate", _("Rate (%)")
    SCORE = "score", _("Score")
    NUMBER = "number", _("Number")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Light(models.TextChoices):
    """Traffic light of a figure against its target's thresholds."""

    GREEN = "green", _("On target")
    AMBER = "amber", _("Near target")
    RED = "red", _("Below target")
    NONE = "none", _("No target")


class RunTrigger(models.TextChoices):
    BEAT = "beat", _("Schedule")
    CHANGE = "change", _("Data changed")
    COMMAND = "command", _("Command")
    MANUAL = "manual", _("Requested in the portal")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    OPEN = "open", _("Open for rating")
    CLOSED = "closed", pgettext_lazy("campaign status", "Closed")  # 已结束


class RaterGroupKind(models.TextChoices):
    MASS = "mass", _("Mass rating")  # 群众评分
    PEER = "peer", _("Cross rating")  # 交叉互评
    EXPERT = "expert", _("Expert review")  # 专家点评
    SUPERIOR = "superior", _("Higher party organisation")  # 上级党组织
    ADMINISTRATIVE = "administrative", pgettext_lazy("rater group", "Administration")  # 行政, not the menu
    MEMBER_REP = "member_rep", _("Party member representatives")  # 党员代表
    EMPLOYEE_REP = "employee_rep", _("Employee representatives")  # 职工代表


# Mass raters are anonymous by default (their sheets carry no rater).
ANONYMOUS_BY_DEFAULT = (RaterGroupKind.MASS, RaterGroupKind.EMPLOYEE_REP, RaterGroupKind.MEMBER_REP)


class AppraisalGrade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")  # 优秀
    QUALIFIED = "qualified", _("Qualified")  # 合格
    BASIC = "basic", _("Basically qualified")  # 基本合格
    UNQUALIFIED = "unqualified", _("Unqualified")  # 不合格


class ActionStatus(models.TextChoices):
    """PDCA: plan → do → check → act, then closed."""

    PLAN = "plan", _("Plan")
    DO = "do", _("Do")
    CHECK = "check", _("Check")
    ACT = "act", _("Act")
    CLOSED = "closed", pgettext_lazy("improvement action status", "Closed")


class ActionSource(models.TextChoices):
    KPI = "kpi", _("KPI")
    CAMPAIGN = "campaign", _("Evaluation campaign")
    OTHER = "other", _("Other")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Being generated")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
