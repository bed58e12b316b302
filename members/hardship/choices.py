from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Reason(models.TextChoices):
    ILLNESS = "illness", _("Illness")  # 因病
    DISABILITY = "disability", _("Disability")  # 因残
    ACCIDENT = "accident", _("Accident")  # 意外
    FAMILY_CHANGE = "family_change", _("Family upheaval")  # 家庭变故
    LOW_INCOME = "low_income", _("Low income")  # 低收入
    OTHER = "other", pgettext_lazy("hardship reason", "Other")  # 其他


REASON_ZH = {
    "illness": ["因病"], "disability": ["因残"], "accident": ["意外"], "family_change": ["家庭变故"],
    "low_income": ["低收入"], "other": ["其他"],
}


class Level(models.TextChoices):
    SEVERE = "severe", _("Extreme hardship")  # 特困
    ORDINARY = "ordinary", _("Ordinary hardship")  # 一般困难


LEVEL_ZH = {"severe": ["特困"], "ordinary": ["一般困难", "一般"]}


class Status(models.TextChoices):
    REGISTERED = "registered", _("On the register")  # 在册
    RELIEVED = "relieved", _("Out of hardship")  # 已脱困
    CANCELLED = "cancelled", _("Removed from the register")  # 已注销


STATUS_ZH = {"registered": ["在册"], "relieved": ["已脱困", "脱困"], "cancelled": ["已注销", "注销"]}


class Pack(models.TextChoices):
    POLICY = "policy", _("Policy pack")  # 政策包
    SERVICE = "service", _("Service pack")  # 服务包


PACK_ZH = {"policy": ["政策包", "政策"], "service": ["服务包", "服务"]}


class MeasureKind(models.TextChoices):
    # 政策包
    SUBSIDY = "subsidy", _("Subsidy")  # 困难补助
    INSURANCE = "insurance", _("Insurance")  # 医疗互助保险
    SCHOOLING = "schooling", _("Schooling aid")  # 助学
    # 服务包
    VISIT = "visit", _("Visits")  # 走访慰问
    COUNSELLING = "counselling", _("Counselling")  # 心理疏导
    JOB_HELP = "job_help", _("Job help")  # 就业帮扶
    VOLUNTEERS = "volunteers", _("Volunteers")  # 志愿服务
    OTHER = "other", pgettext_lazy("assistance kind", "Other")


MEASURE_KIND_ZH = {
    "subsidy": ["补助", "困难补助", "生活补助"], "insurance": ["保险", "医疗互助保险"], "schooling": ["助学", "金秋助学"],
    "visit": ["走访", "走访慰问", "慰问"], "counselling": ["心理疏导", "疏导"], "job_help": ["就业帮扶", "就业"],
    "volunteers": ["志愿服务", "志愿者"], "other": ["其他"],
}

# The pack each kind belongs to: a measure's kind must be one of its pack's.
PACK_OF_KIND = {
    MeasureKind.SUBSIDY: Pack.POLICY, MeasureKind.INSURANCE: Pack.POLICY, MeasureKind.SCHOOLING: Pack.POLICY,
    MeasureKind.VISIT: Pack.SERVICE, MeasureKind.COUNSELLING: Pack.SERVICE, MeasureKind.JOB_HELP: Pack.SERVICE,
    MeasureKind.VOLUNTEERS: Pack.SERVICE, MeasureKind.OTHER: None,
}


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", _("Keep on the register")  # 继续帮扶
    LEVEL_CHANGED = "level_changed", _("Level changed")  # 调整等级
    PROPOSE_RELIEF = "propose_relief", _("Propose relief")  # 建议脱困


REVIEW_OUTCOME_ZH = {"continue": ["继续帮扶"], "level_changed": ["调整等级"], "propose_relief": ["建议脱困"]}
