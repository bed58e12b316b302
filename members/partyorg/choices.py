from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TransferKind(models.TextChoices):
    OUT = "out", _("Transfer out of the enterprise")
    IN = "in", _("Transfer into the enterprise")
    WITHIN = "within", _("Transfer within the enterprise")


TRANSFER_KIND_ZH = {"out": ["转出"], "in": ["转入"], "within": ["内部转接"]}


class TransferStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("transfer status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("transfer status", "Awaiting branch approval")
    BRANCH_APPROVED = "branch_approved", pgettext_lazy("transfer status", "Awaiting committee approval")
    COMMITTEE_APPROVED = "committee_approved", pgettext_lazy("transfer status", "Approved, awaiting completion")
    COMPLETED = "completed", pgettext_lazy("transfer status", "Completed")
    REJECTED = "rejected", pgettext_lazy("transfer status", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("transfer status", "Withdrawn")


TRANSFER_STATUS_ZH = {
    "draft": ["草稿"], "submitted": ["待支部审批"], "branch_approved": ["待党委审批"],
    "committee_approved": ["已批准待办结"], "completed": ["已办结"], "rejected": ["已驳回"], "withdrawn": ["已撤回"],
}

# A person has at most one transfer in one of these (the database enforces it).
OPEN_TRANSFER_STATUSES = ("draft", "submitted", "branch_approved", "committee_approved")


class StepAction(models.TextChoices):
    """What a transfer step records, in the past tense (the step list and the change history show these)."""

    CREATE = "create", _("Request drafted")
    IMPORTED = "imported", _("Imported")
    SUBMIT = "submit", _("Submitted")
    APPROVE_BRANCH = "approve_branch", _("Approved by the branch")
    APPROVE_COMMITTEE = "approve_committee", _("Approved by the committee; letter issued")
    COMPLETE = "complete", _("Completed")
    REJECT = "reject", _("Rejected")
    WITHDRAW = "withdraw", _("Withdrawn")


class LetterKind(models.TextChoices):
    LETTER = "letter", _("Letter of introduction")
    RECEIPT = "receipt", _("Receipt")
