"""Every model of the project keeps history (django-pghistory), many-to-many through tables too."""
from django.apps import apps
from pghistory.models import Event

PROJECT_APPS = {"members", "demands", "activities", "evaluation", "portal"}

# Models that truly need no history of their own. Each needs a reason; add to this list only
# with one.
WITHOUT_HISTORY = {
    # Audit records themselves: written once, never edited.
    "demands.DemandEvent",  # the demand's hash-chained timeline; the database refuses UPDATE/DELETE
    "members.RevealLog",  # the log of reveals and unmasked exports
    "portal.AccessDenial",  # the log of refused requests
    "demands.ChainCheckpoint",  # signed checkpoints of the demand chains
    # Derived data, recomputed from tracked records at any time.
    "evaluation.KpiSnapshot",
    "evaluation.DemandCategorySnapshot",
    "members.UnitPeopleCount",  # kept by triggers on members_person
    "demands.DemandUnitCount",  # kept by triggers on demands_demand
    "demands.DemandPriority",  # the service priority list, recomputed whole by the beat
    "demands.VisitHeatCell",  # the visit heat map, recomputed whole by the beat
    "activities.MeetingMonth",  # the 三会一课 summary, rebuilt by `rebuild_meeting_summary`
    # Work tables.
    "evaluation.KpiRun",  # a log of computations (start, end, error)
    "demands.RefCounter",  # the next number of a reference prefix
    "portal.Notification",  # delivery of messages (read/e-mailed marks), not business data
    "portal.RobotDelivery",  # delivery of group-robot messages, like notifications
}


def tracked_models() -> set[str]:
    return {
        model.pgh_tracked_model._meta.label
        for model in apps.get_models(include_auto_created=True)
        if issubclass(model, Event) and getattr(model, "pgh_tracked_model", None) is not None
    }


def project_models() -> set[str]:
    return {
        model._meta.label
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in PROJECT_APPS and not issubclass(model, Event) and not model._meta.proxy
    }


def test_every_project_model_and_through_table_has_history():
    missing = project_models() - tracked_models() - WITHOUT_HISTORY
    assert not missing, f"models without a @pghistory.track(...) event model: {sorted(missing)}"


def test_the_allow_list_names_only_existing_untracked_models():
    models = project_models()
    assert WITHOUT_HISTORY <= models | {"portal.AccessDenial", "demands.ChainCheckpoint"}
    assert not WITHOUT_HISTORY & tracked_models()
