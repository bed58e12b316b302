from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Party committee")
    GENERAL_BRANCH = "general_branch", _("General party branch")
    BRANCH = "branch", _("Party branch")
    GROUP = "group", _("Party group")
    DEPARTMENT = "department", _("Department")
    UNION = "union", _("Trade union")
    LEAGUE = "league", _("Youth league")
    WOMEN = "women", _("Women's committee")


ORG_KIND_ZH = {
    "committee": ["党委"],
    "general_branch": ["党总支"],
    "branch": ["党支部"],
    "group": ["党小组"],
    "department": ["部门", "车间", "部门/车间"],
    "union": ["工会"],
    "league": ["团组织", "共青团", "团委"],
    "women": ["妇委会", "妇联"],
}


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


GENDER_ZH = {"M": ["男"], "F": ["女"]}


class PoliticalStatus(models.TextChoices):
    FULL_MEMBER = "full_member", _("Party member")
    PROBATIONARY_MEMBER = "probationary_member", _("Probationary party member")
    ACTIVIST = "activist", _("Party activist")
    APPLICANT = "applicant", _("Party applicant")
    LEAGUE_MEMBER = "league_member", _("Youth league member")
    MASSES = "masses", _("Masses")


POLITICAL_STATUS_ZH = {
    "full_member": ["党员", "中共党员"],
    "probationary_member": ["预备党员", "中共预备党员"],
    "activist": ["入党积极分子"],
    "applicant": ["入党申请人"],
    "league_member": ["共青团员"],
    "masses": ["群众"],
}

PARTY_MEMBER_STATUSES = (PoliticalStatus.FULL_MEMBER, PoliticalStatus.PROBATIONARY_MEMBER)


class DevelopmentStage(models.TextChoices):
    """Stages of party member development (党员发展), in order."""

    APPLICANT = "applicant", _("Applicant")
    ACTIVIST = "activist", _("Activist")
    CANDIDATE = "candidate", _("Development candidate")
    PROBATIONARY = "probationary", _("Probationary member")
    FULL = "full", _("Full member")


class DualCultivation(models.TextChoices):
    """双培养: backbones to develop into members, members to develop into backbones."""

    NONE = "", _("—")
    BACKBONE_TO_MEMBER = "backbone_to_member", _("Backbone → party member")
    MEMBER_TO_BACKBONE = "member_to_backbone", _("Party member → backbone")


# Service groups suggested when tagging people; other tags may be typed freely.
SUGGESTED_TAGS = ["青年", "退休", "困难职工", "新就业形态", "技术骨干", "劳动模范", "退役军人", "女职工"]


class PointsSource(models.TextChoices):
    ATTENDANCE = "attendance", _("Activity attendance")
    MANUAL = "manual", _("Manual adjustment")
    OTHER = "other", _("Other")
