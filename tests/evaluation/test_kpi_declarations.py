"""evaluation.kpis is the one declaration of the KPIs: the codes of other apps come from their
choices classes, and what the recompute signals watch is derived from the declarations."""
import ast
import dataclasses
from pathlib import Path

from django.db import models

from activities import choices as activity_choices
from demands import choices as demand_choices
from evaluation import kpis, signals
from evaluation.kpis import MomentWindow, RecordKpi
from members import choices as member_choices


def _choice_codes() -> set[str]:
    codes = set()
    for module in (activity_choices, demand_choices, member_choices):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, models.TextChoices):
                codes |= {v for v in value.values if v}
    return codes


def test_kpis_type_no_choice_code_as_a_string():
    tree = ast.parse(Path(kpis.__file__).read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    strings = {node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}
    assert strings & _choice_codes() == set()


def test_the_watched_fields_are_those_of_the_declarations():
    assert signals.WATCHED == kpis.watched_moments()
    for kpi in kpis.all_kpis():
        for label, fields in kpi.moments.items():
            assert set(fields) <= set(signals.WATCHED[label][0])
    # A KPI declared over another model or field is watched without writing it down twice.
    extra = dataclasses.replace(kpis.get("mediation_success_rate"), code="x", model="demands.Visit",
                                window=MomentWindow("created_at"), before=("updated_at",))
    watched = kpis.watched_moments([*kpis.COMPUTED_KPIS, extra])
    assert watched["demands.Visit"] == (("created_at", "updated_at"), False)
    assert watched["activities.Activity"] == (("held_at",), True)  # education coverage is cumulative
    assert isinstance(extra, RecordKpi)
