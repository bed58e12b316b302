"""Enumerations of the demands app. Codes are stable (imports, API, KPI engine); labels are English
msgids translated to Chinese. The *_ZH dictionaries are the Chinese labels import files may use,
independent of the display language."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING = "pending", _("Awaiting acceptance")  # 待受理
    ACCEPTED = "accepted", _("Accepted")  # 已受理
    IN_PROGRESS = "in_progress", _("In progress")  # 办理中
    RESOLVED = "resolved", _("Resolved")  # 已办结
    VISITED = "visited", _("Return visit done")  # 已回访
    CLOSED = "closed", _("Closed")  # 已关闭
    REJECTED = "rejected", _("Not accepted")  # 不予受理
    WITHDRAWN = "withdrawn", _("Withdrawn")  # 撤回


STATUS_ZH = {
    "pending": ["待受理"],
    "accepted": ["已受理"],
    "in_progress": ["办理中"],
    "resolved": ["已办结"],
    "visited": ["已回访"],
    "closed": ["已关闭"],
    "rejected": ["不予受理"],
    "withdrawn": ["撤回", "已撤回"],
}

# Work is still owed on these; the SLA clock runs.
OPEN_STATUSES = (Status.PENDING, Status.ACCEPTED, Status.IN_PROGRESS)
# Statuses that cannot be derived from the timestamps (imports keep them only when given).
EXPLICIT_STATUSES = (Status.PENDING, Status.CLOSED, Status.REJECTED, Status.WITHDRAWN)


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


URGENCY_ZH = {"urgent": ["紧急"], "normal": ["一般", "普通"], "low": ["较低", "低"]}


class Channel(models.TextChoices):
    SELF_SERVICE = "self_service", _("Self-service")
    STAFF_ENTRY = "staff_entry", _("Entered by staff")
    VISIT = "visit", _("Visit")
    HOTLINE = "hotline", _("Hotline")
    PETITION = "petition", _("Letters and visits")
    GOLDEN_IDEA = "golden_idea", _("Golden idea")
    CONGRESS_PROPOSAL = "congress_proposal", _("Staff congress proposal")
    ANONYMOUS = "anonymous", _("Anonymous")


CHANNEL_ZH = {
    "self_service": ["自助提交", "自助", "网上提交"],
    "staff_entry": ["工作人员代录", "代录", "人工录入"],
    "visit": ["走访"],
    "hotline": ["热线", "热线电话"],
    "petition": ["信访"],
    "golden_idea": ["金点子"],
    "congress_proposal": ["职代会提案", "提案"],
    "anonymous": ["匿名"],
}


class SlaFlag(models.TextChoices):
    """What the SLA sweep has marked for one deadline (so it notifies once per level)."""

    NONE = "", _("on track")
    WARNING = "warning", _("due soon")
    OVERDUE = "overdue", _("overdue")


class Colour(models.TextChoices):
    """Deadline colour shown in lists: 蓝 on track, 黄 due soon, 红 overdue, grey when done."""

    BLUE = "blue", _("on track")
    YELLOW = "yellow", _("due soon")
    RED = "red", _("overdue")
    NONE = "none", _("no deadline")


class MediationOutcome(models.TextChoices):
    OPEN = "", _("Open")
    SUCCESS = "success", _("Settled")  # 调解成功
    FAILED = "failed", _("Not settled")  # 调解不成
    REFERRED = "referred", _("Referred to arbitration or court")  # 移交


OUTCOME_ZH = {"success": ["调解成功", "成功"], "failed": ["调解不成", "调解失败", "失败"],
              "referred": ["移交", "移交仲裁或法律途径", "移交仲裁", "移交法律途径"]}


class Fulfilment(models.TextChoices):
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTLY = "partly", _("Partly fulfilled")
    NOT_FULFILLED = "not_fulfilled", _("Not fulfilled")


class VisitKind(models.TextChoices):
    ROUTINE = "routine", _("Routine visit")  # 日常走访
    MUST_VISIT = "must_visit", _("Must-visit (life event)")  # 五必访
    HEART_TALK = "heart_talk", _("Heart-to-heart talk")  # 谈心谈话
    HARDSHIP = "hardship", _("Hardship visit")  # 困难帮扶走访


VISIT_KIND_ZH = {
    "routine": ["日常走访", "日常"],
    "must_visit": ["五必访"],
    "heart_talk": ["谈心谈话", "谈心"],
    "hardship": ["困难帮扶", "困难走访", "帮扶走访"],
}


class LifeEventKind(models.TextChoices):
    MARRIAGE = "marriage", _("Marriage")
    BEREAVEMENT = "bereavement", _("Bereavement")
    HOSPITALIZATION = "hospitalization", _("Hospitalisation")
    CHILDBIRTH = "childbirth", _("Childbirth")
    RETIREMENT = "retirement", _("Retirement")
    HARDSHIP = "hardship", _("Hardship")


LIFE_EVENT_ZH = {
    "marriage": ["结婚"],
    "bereavement": ["丧事", "丧葬"],
    "hospitalization": ["住院", "生病住院"],
    "childbirth": ["生育"],
    "retirement": ["退休"],
    "hardship": ["困难", "遭遇困难"],
}

class CalendarDayKind(models.TextChoices):
    """A day of the official work calendar (the `calendar` import kind)."""

    HOLIDAY = "holiday", _("Holiday")
    WORKDAY = "workday", _("Make-up working day")


CALENDAR_DAY_ZH = {"holiday": ["放假", "节假日", "休"], "workday": ["调休上班", "调休", "上班", "班"]}

# 五必访: a life event must be visited within this many days (a date deadline).
MUST_VISIT_DAYS = 7
# The due-visits list and reminders warn this many days before the deadline.
MUST_VISIT_REMIND_DAYS = 2


# Default categories (admin-editable afterwards): code, name.
DEFAULT_CATEGORIES = [
    ("salary", "薪酬"),
    ("job_change", "岗位调整"),
    ("housing", "住房"),
    ("medical", "医疗"),
    ("career", "职业发展"),
    ("mental_health", "心理健康"),
    ("welfare", "福利"),
    ("environment", "工作环境"),
    ("labour_dispute", "劳动纠纷"),
    ("other", "其他"),
]


# Channels an employee may choose for their own demand; staff choose any but self-service/anonymous.
EMPLOYEE_CHANNELS = (Channel.SELF_SERVICE, Channel.GOLDEN_IDEA, Channel.CONGRESS_PROPOSAL)
STAFF_CHANNELS = (Channel.STAFF_ENTRY, Channel.VISIT, Channel.HOTLINE, Channel.PETITION, Channel.GOLDEN_IDEA,
                  Channel.CONGRESS_PROPOSAL)
