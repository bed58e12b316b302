"""Transition tables of the evaluation app, as pure data."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import ActionStatus, CampaignStatus


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    permission: str
    label: str
    # Fields that must be filled before the step (the service checks them).
    requires: tuple[str, ...] = ()


# PDCA: plan → do → check → act → closed; a check that finds the measure ineffective sends it back.
ACTION_TRANSITIONS = [
    Transition(ActionStatus.PLAN, "start", ActionStatus.DO, "pdca.progress", _("Start carrying out"),
               ("root_cause", "measure", "owner", "deadline")),
    Transition(ActionStatus.DO, "submit", ActionStatus.CHECK, "pdca.progress", _("Submit for checking")),
    Transition(ActionStatus.CHECK, "verify", ActionStatus.ACT, "pdca.manage", _("Effective: standardise"),
               ("verification",)),
    Transition(ActionStatus.CHECK, "reject", ActionStatus.DO, "pdca.manage", _("Not effective: back to doing"),
               ("verification",)),
    Transition(ActionStatus.ACT, "close", ActionStatus.CLOSED, "pdca.manage", _("Close")),
]


def action_transition(source: str, action: str) -> Transition | None:
    return next((t for t in ACTION_TRANSITIONS if t.source == source and t.action == action), None)


def action_transitions_from(source: str) -> list[Transition]:
    return [t for t in ACTION_TRANSITIONS if t.source == source]


# Campaigns and democratic appraisal rounds.
CAMPAIGN_TRANSITIONS = {
    (CampaignStatus.DRAFT, "open"): CampaignStatus.OPEN,
    (CampaignStatus.OPEN, "close"): CampaignStatus.CLOSED,
    (CampaignStatus.CLOSED, "reopen"): CampaignStatus.OPEN,
}
CAMPAIGN_ACTION_LABELS = {"open": _("Open for rating"), "close": pgettext_lazy("campaign", "Close"),
                          "reopen": pgettext_lazy("campaign", "Reopen")}
# A democratic appraisal is voted on, not rated: its own words for the same steps.
APPRAISAL_ACTION_LABELS = {"open": pgettext_lazy("appraisal", "Open voting"),
                           "close": pgettext_lazy("appraisal", "Close voting"),
                           "reopen": pgettext_lazy("appraisal", "Reopen voting")}


def campaign_actions_from(status: str) -> list[str]:
    return [action for (source, action) in CAMPAIGN_TRANSITIONS if source == status]
