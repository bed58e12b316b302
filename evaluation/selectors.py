"""Reads of the evaluation app. Dashboards, reports, exports and the API read the snapshots here;
nothing in this module recomputes a KPI."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from members.choices import OrgKind
from members.models import OrgUnit, Person
from portal import numbers
from portal.roles import has_permission
from portal.scope import subtree_q, subtree_sql, visible, visible_within

from .choices import CampaignStatus, Direction, KpiKind, Light, RaterGroupKind, ValueFormat
from .models import (
    AppraisalRound,
    AppraisalVoter,
    Campaign,
    DemandCategorySnapshot,
    KpiDefinition,
    KpiRun,
    KpiSnapshot,
    KpiTarget,
    RaterAssignment,
    RaterGroup,
)
from .periods import LOCAL_TZ, Period


# --- Formatting ----------------------------------------------------------------------------------------
def rounded(value: Decimal | None, value_format: str) -> Decimal | int | None:
    """The figure as exported: counts as integers, everything else rounded to 4 decimals."""
    if value is None:
        return None
    if value_format == ValueFormat.COUNT:
        return int(value)
    return numbers.half_up(value, 4)


def display(value: Decimal | None, value_format: str) -> str:
    """For people: a rate as a percentage (4 decimals of the fraction), empty as "—"."""
    if value is None:
        return "—"
    if value_format == ValueFormat.COUNT:
        return f"{int(value):,}"
    if value_format == ValueFormat.RATE:
        return f"{numbers.fixed(Decimal(value) * 100, 2)}%"
    return numbers.plain(value, 4)


def light(value: Decimal | None, target: KpiTarget | None, direction: str) -> str:
    if value is None or target is None:
        return Light.NONE
    green = target.green_from if target.green_from is not None else target.target
    amber = target.amber_from
    if direction == Direction.LOWER:
        if value <= green:
            return Light.GREEN
        return Light.AMBER if amber is not None and value <= amber else Light.RED
    if value >= green:
        return Light.GREEN
    return Light.AMBER if amber is not None and value >= amber else Light.RED


# --- Catalogue and targets ---------------------------------------------------------------------------
def catalogue(active_only: bool = True) -> list[KpiDefinition]:
    """The KPI catalogue in its order; one query (two more the first time, to add computed KPIs
    the code defines and the table does not have yet)."""
    from . import kpis as registry
    from .engine import ensure_catalogue

    definitions = list(KpiDefinition.objects.all())
    computed = {d.code for d in definitions if d.kind == KpiKind.COMPUTED}
    if any(k.code not in computed for k in registry.all_kpis()):
        ensure_catalogue()
        definitions = list(KpiDefinition.objects.all())
    return [d for d in definitions if d.is_active] if active_only else definitions


def ancestor_ids(unit: OrgUnit) -> list[int]:
    return [int(seg) for seg in unit.path.strip("/").split("/") if seg]


def effective_targets(units, year: int, kpis=None, candidates=None) -> dict[tuple[int, str], KpiTarget]:
    """(unit id, kpi code) → the target of the unit or its nearest ancestor for `year`; one query,
    none when the `candidates` (targets of that year read before, e.g. `dashboard_targets`) are given."""
    units = list(units)
    if candidates is None:
        wanted = {a for u in units for a in ancestor_ids(u)}
        candidates = KpiTarget.objects.filter(year=year, org_unit_id__in=wanted).select_related("org_unit")
        if kpis is not None:
            candidates = candidates.filter(kpi_id__in=kpis)
    elif kpis is not None:
        candidates = [t for t in candidates if t.kpi_id in kpis]
    by_unit: dict[int, dict[str, KpiTarget]] = {}
    for target in candidates:
        by_unit.setdefault(target.org_unit_id, {})[target.kpi_id] = target
    result = {}
    for unit in units:
        for ancestor in reversed(ancestor_ids(unit)):  # nearest first
            for code, target in by_unit.get(ancestor, {}).items():
                result.setdefault((unit.pk, code), target)
    return result


# --- Snapshots ------------------------------------------------------------------------------------------
def snapshot_rows(period_key: str, units) -> list[list]:
    """Rows of `manage.py kpis`: org_code, period, kpi, value, numerator, denominator, as_of."""
    formats = dict(KpiDefinition.objects.values_list("code", "value_format"))
    order = {k.code: (k.sort_order, k.code) for k in KpiDefinition.objects.all()}
    snapshots = (
        KpiSnapshot.objects.filter(period=period_key, org_unit__in=units)
        .select_related("org_unit").order_by("org_unit__path")
    )
    rows = []
    for snap in sorted(snapshots, key=lambda s: (s.org_unit.path, order.get(s.kpi_id, (999, s.kpi_id)))):
        rows.append([
            snap.org_unit.code, snap.period, snap.kpi_id, rounded(snap.value, formats.get(snap.kpi_id, "")),
            snap.numerator, snap.denominator, timezone.localtime(snap.as_of, LOCAL_TZ).isoformat(),
        ])
    return rows


@dataclass
class Card:
    kpi: KpiDefinition
    snapshot: KpiSnapshot | None
    previous: KpiSnapshot | None
    target: KpiTarget | None
    light: str = Light.NONE
    delta: Decimal | None = None
    trend: list = field(default_factory=list)

    @property
    def value(self):
        return self.snapshot.value if self.snapshot else None

    @property
    def display_value(self) -> str:
        return display(self.value, self.kpi.value_format)

    @property
    def display_target(self) -> str:
        return display(self.target.target, self.kpi.value_format) if self.target else ""

    @property
    def display_delta(self) -> str:
        if self.delta is None:
            return ""
        if self.kpi.value_format == ValueFormat.RATE:
            points = numbers.half_up(self.delta * 100, 2)
            return f"{points:+}"
        return display(abs(self.delta), self.kpi.value_format) if self.delta >= 0 else "-" + display(
            abs(self.delta), self.kpi.value_format)

    @property
    def improving(self) -> bool | None:
        if not self.delta:
            return None
        return (self.delta > 0) == (self.kpi.direction == Direction.HIGHER)


def cards(unit: OrgUnit, period: Period, kpis: list[KpiDefinition] | None = None, *,
          snapshots=None, targets=None) -> list[Card]:
    """The KPI cards of a unit for a period, with the previous period and the effective targets.
    Two queries, none with the `snapshots` and `targets` of `dashboard_snapshots` / `dashboard_targets`."""
    kpis = kpis if kpis is not None else catalogue()
    previous = period.previous()
    if snapshots is None:
        snapshots = KpiSnapshot.objects.filter(org_unit=unit, period__in=[period.key, previous.key],
                                               kpi_id__in=[k.code for k in kpis])
    snaps = {(s.period, s.kpi_id): s for s in snapshots if s.org_unit_id == unit.pk}
    targets = effective_targets([unit], period.year, candidates=targets)
    result = []
    for kpi in kpis:
        snap, prev = snaps.get((period.key, kpi.code)), snaps.get((previous.key, kpi.code))
        card = Card(kpi, snap, prev, targets.get((unit.pk, kpi.code)))
        card.light = light(card.value, card.target, kpi.direction)
        if snap and prev and snap.value is not None and prev.value is not None:
            card.delta = snap.value - prev.value
        result.append(card)
    return result


def trend(unit: OrgUnit, period: Period, codes: list[str], length: int = 12, *, snapshots=None) -> dict:
    """The last `length` periods of the same kind ending with `period`, per KPI (None = no figure).
    One query, none with the `snapshots` of `dashboard_snapshots`."""
    periods = [period.shifted(-i) for i in range(length - 1, -1, -1)]
    if snapshots is None:
        snapshots = KpiSnapshot.objects.filter(org_unit=unit, kpi_id__in=codes, period__in=[p.key for p in periods])
    values = {(s.period, s.kpi_id): s.value for s in snapshots if s.org_unit_id == unit.pk}
    return {
        "periods": [p.key for p in periods],
        "series": {code: [values.get((p.key, code)) for p in periods] for code in codes},
    }


def ranking_branches(unit: OrgUnit, user):
    return visible_within(OrgUnit.objects.filter(kind=OrgKind.BRANCH), user, "kpis.view", unit)


def ranking(unit: OrgUnit, period: Period, kpi: KpiDefinition, user, limit: int = 50, *, targets=None) -> list[dict]:
    """Branches in the unit's subtree ranked by one KPI (best first, ties and empty figures in path
    order, empty figures last). Two queries, one with the `targets` of `dashboard_targets`. A subtree
    may hold a thousand branches: the database ranks them and only the `limit` shown are loaded."""
    value = F("value").desc(nulls_last=True) if kpi.direction == Direction.HIGHER else F("value").asc(nulls_last=True)
    ordered = list(KpiSnapshot.objects.filter(period=period.key, kpi=kpi, org_unit__in=ranking_branches(unit, user))
                   .select_related("org_unit").order_by(value, "org_unit__path")[:limit])
    targets = effective_targets([s.org_unit for s in ordered], period.year, [kpi.code], candidates=targets)
    rows = []
    for position, snap in enumerate(ordered, start=1):
        target = targets.get((snap.org_unit_id, kpi.code))
        rows.append({
            "rank": position if snap.value is not None else None, "unit": snap.org_unit, "snapshot": snap,
            "display": display(snap.value, kpi.value_format), "light": light(snap.value, target, kpi.direction),
        })
    return rows


def sub_units(unit: OrgUnit, user) -> list[OrgUnit]:
    """The unit's direct sub-units in the user's scope, in their order."""
    return list(visible(OrgUnit.objects.filter(parent=unit), user, "kpis.view").order_by("sort_order", "path"))


def heat_map(unit: OrgUnit, period: Period, user, limit: int = 15, *, children=None) -> dict:
    """Direct sub-units × demand categories: demands received in the period (snapshots)."""
    from django.apps import apps

    children = children if children is not None else sub_units(unit, user)
    # Stored per month; a quarter or a year is the sum of its months.
    months = [m.key for m in period.months()]
    rows: dict[int, dict[str, int]] = {}
    for snap in DemandCategorySnapshot.objects.filter(period__in=months, org_unit__in=[unit, *children]):
        counts = rows.setdefault(snap.org_unit_id, {})
        for cat, n in snap.counts.items():
            counts[cat] = counts.get(cat, 0) + n
    own = dict(rows.get(unit.pk, {}))
    for child in children:
        for cat, n in rows.get(child.pk, {}).items():
            own[cat] = own.get(cat, 0) - n
    units = [(c, rows.get(c.pk, {})) for c in children]
    units.sort(key=lambda pair: -sum(pair[1].values()))
    units = units[:limit]
    if any(own.values()):
        units.append((unit, {k: v for k, v in own.items() if v}))
    Category = apps.get_model("demands", "DemandCategory")
    used = {int(cat) for _, counts in units for cat in counts}
    categories = list(Category.objects.filter(Q(is_active=True) | Q(pk__in=used)).order_by("sort_order", "code"))
    return {
        "units": [(u, u.pk == unit.pk) for u, _ in units],
        "categories": categories,
        "cells": [[counts.get(str(c.pk), 0) for c in categories] for _, counts in units],
    }


MATRIX_KPI = "meeting_compliance_rate"


def matrix_months(period: Period) -> list[Period]:
    return [m for m in Period.of_year(period.year).months() if m.start < period.end]


def matrix_branches(unit: OrgUnit, user, limit: int = 30) -> list[OrgUnit]:
    return list(ranking_branches(unit, user).order_by("path")[:limit])


def meeting_matrix(unit: OrgUnit, period: Period, user, limit: int = 30, *, branches=None, snapshots=None) -> dict:
    """Branches × months of the period's year (up to the period): met/required windows (snapshots).
    Two queries; none with the `branches` and `snapshots` the dashboard read before."""
    months = matrix_months(period)
    branches = branches if branches is not None else matrix_branches(unit, user, limit)
    if snapshots is None:
        snapshots = KpiSnapshot.objects.filter(kpi_id=MATRIX_KPI, org_unit__in=branches, period__in=[m.key for m in months])
    keys = {m.key for m in months}
    snaps = {(s.org_unit_id, s.period): s for s in snapshots if s.kpi_id == MATRIX_KPI and s.period in keys}
    rows = []
    for branch in branches:
        rows.append((branch, [snaps.get((branch.pk, m.key)) for m in months]))
    return {"months": months, "rows": rows}


def dashboard_snapshots(unit: OrgUnit, period: Period, codes: list[str], *, length: int = 12,
                        matrix_branches=(), matrix_months=()) -> list[KpiSnapshot]:
    """The unit's and matrix's snapshots of the dashboard, in one query: the unit's KPIs over the
    last `length` periods (cards, with the previous period, and trends) and the meeting compliance of
    the matrix branches. The ranking reads its own (`ranking`)."""
    periods = [period.shifted(-i) for i in range(length)]
    wanted = Q(org_unit=unit, kpi_id__in=codes, period__in=[p.key for p in periods])
    if matrix_branches:
        wanted |= Q(kpi_id=MATRIX_KPI, org_unit__in=[b.pk for b in matrix_branches],
                    period__in=[m.key for m in matrix_months])
    return list(KpiSnapshot.objects.filter(wanted))


def dashboard_targets(unit: OrgUnit, year: int, rank_code: str | None = None) -> list[KpiTarget]:
    """The targets of `year` the dashboard may need, in one query: those of the unit and its
    ancestors (cards), and those of the rank KPI in the unit's subtree (ranking)."""
    wanted = Q(org_unit_id__in=ancestor_ids(unit))
    if rank_code:
        wanted |= Q(subtree_q(unit, "org_unit"), kpi_id=rank_code)
    return list(KpiTarget.objects.filter(wanted, year=year).select_related("org_unit"))


def last_run(period: Period) -> KpiRun | None:
    return KpiRun.objects.filter(periods__contains=[period.key], finished_at__isnull=False, error="").first()


def last_runs(period: Period) -> tuple[KpiRun | None, KpiRun | None]:
    """(the last good computation of `period`, a failed one after it or None) -- one query when
    the latest computation went well."""
    finished = KpiRun.objects.filter(periods__contains=[period.key], finished_at__isnull=False)
    latest = finished.first()
    if latest is None or not latest.error:
        return latest, None
    return finished.filter(error="").first(), latest


def manual_kpis() -> list[KpiDefinition]:
    return list(KpiDefinition.objects.filter(kind=KpiKind.MANUAL, is_active=True))


def default_period(now: datetime.datetime | None = None) -> Period:
    """The period the dashboard opens on: the last complete month (the current month has hardly
    any figure due yet; it is one click away)."""
    return Period.containing(now or timezone.now(), "month").shifted(-1)


def current_month(now: datetime.datetime | None = None) -> Period:
    return Period.containing(now or timezone.now(), "month")


# --- Overdue lists (live, indexed, bounded: they are work lists, not KPI figures) -------------------------
@dataclass
class OverdueList:
    key: str
    title: str
    rows: list
    more: bool
    url: str = ""


def overdue(unit: OrgUnit, user, *, limit: int = 8, now: datetime.datetime | None = None) -> list[OverdueList]:
    from django.apps import apps
    from django.urls import NoReverseMatch, reverse
    from django.utils.translation import gettext as _

    from .choices import ActionStatus
    from .models import ImprovementAction

    now = now or timezone.now()
    today = timezone.localdate(now)
    lists = []

    def url(name, *args):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return ""

    # Overdue as the queues, the list colours and the SLA sweep define it (demands.selectors.overdue_q).
    from demands.selectors import overdue_q
    from demands.sla import DEADLINE_FIELDS, open_deadlines

    # Each list loads what its rows show (the record's name and link, the date it was due): whole
    # records with their units cost a third of the dashboard's queries' time to compile and load.
    Demand = apps.get_model("demands", "Demand")
    demands = (
        visible_within(Demand.objects.all(), user, "kpis.view", unit, "org_unit").filter(overdue_q(now))
        .only("ref", "title", *DEADLINE_FIELDS).order_by("resolution_due_at", "id")[: limit + 1]
    )
    rows = [(d, min(due for _kind, due in open_deadlines(d) if due < now)) for d in demands]
    lists.append(OverdueList("demands", _("Overdue demands"), rows[:limit], len(rows) > limit,
                             url("demands:queue", "overdue") if has_permission(user, "demands.queue")
                             else url("demands:demand_list")))

    # Red as the item lists and the responsibility sweep colour it (activities.workflow).
    from activities.choices import Colour as ItemColour
    from activities.selectors import items_with_colour_filter

    Item = apps.get_model("activities", "ResponsibilityItem")
    items = (
        items_with_colour_filter(visible_within(Item.objects.all(), user, "kpis.view", unit, "lead_org_unit"),
                                 ItemColour.RED, today)
        .only("title", "deadline").order_by("deadline", "id")[: limit + 1]
    )
    rows = [(i, i.deadline) for i in items]
    lists.append(OverdueList("items", _("Responsibility items overdue"), rows[:limit], len(rows) > limit,
                             url("activities:item_list")))

    # Not visited as the due-visits list defines it (demands.selectors.not_visited_q).
    from demands.selectors import not_visited_q

    LifeEvent = apps.get_model("demands", "LifeEvent")
    events = (
        visible_within(LifeEvent.objects.all(), user, "kpis.view", unit, "person__org_unit")
        .filter(visit_due_on__lt=today)
        .filter(not_visited_q())
        .select_related("person").only("kind", "event_date", "visit_due_on", "person__name")
        .order_by("visit_due_on")[: limit + 1]
    )
    rows = [(e, e.visit_due_on) for e in events]
    lists.append(OverdueList("visits", _("Must-visits not made in time"), rows[:limit], len(rows) > limit,
                             url("demands:due_visits")))

    actions = (
        visible_within(ImprovementAction.objects.all(), user, "pdca.view", unit, "org_unit")
        .filter(deadline__lt=today)
        .exclude(status=ActionStatus.CLOSED).only("title", "deadline").order_by("deadline")[: limit + 1]
    )
    rows = [(a, a.deadline) for a in actions]
    lists.append(OverdueList("actions", _("Improvement actions overdue"), rows[:limit], len(rows) > limit,
                             url("evaluation:action_board")))
    return lists


def sparkline(values: list, width: int = 100, height: int = 24) -> str:
    """SVG polyline points for a small trend line (None values are skipped)."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in points)


# --- Campaigns ---------------------------------------------------------------------------------------------
def action_board(user, permission: str, *, unit: OrgUnit | None = None, mine: bool = False, per_column: int = 50) -> list:
    """The PDCA board: (status, label, actions) per status, of `unit`'s subtree and of the user's
    own actions when `mine`; the open columns by deadline, the closed one the latest first."""
    from .choices import ActionStatus
    from .models import ImprovementAction

    actions = (visible(ImprovementAction.objects.all(), user, permission) if unit is None
               else visible_within(ImprovementAction.objects.all(), user, permission, unit, "org_unit"))
    actions = actions.select_related("org_unit", "owner", "kpi")
    if mine and user.person_id:
        actions = actions.filter(owner_id=user.person_id)
    columns = []
    for status, label in ActionStatus.choices:
        items = actions.filter(status=status).order_by(
            *(("-updated_at",) if status == ActionStatus.CLOSED else ("deadline", "id")))[:per_column]
        columns.append((status, label, list(items)))
    return columns


def campaign_page(user, campaign) -> dict:
    """What the campaign page shows besides its forms: indicators, subjects, rating progress, the
    results once it is open, what stops a draft from opening, the status steps and who may act."""
    from portal.roles import has_permission

    from .services import campaign_problems
    from .workflow import CAMPAIGN_ACTION_LABELS, campaign_actions_from

    is_draft = campaign.status == CampaignStatus.DRAFT
    return dict(
        title=campaign.name,
        indicators=list(campaign.indicators.all()),
        subjects=list(campaign.subjects.order_by("path")),
        progress=campaign_progress(campaign),
        results=campaign_results(campaign) if not is_draft else None,
        problems=campaign_problems(campaign) if is_draft else [],
        unrateable=unrateable_units(campaign),
        actions=[(a, CAMPAIGN_ACTION_LABELS[a]) for a in campaign_actions_from(campaign.status)],
        is_draft=is_draft,
        can_act=has_permission(user, "pdca.manage"),
        max_total=sum(i.max_score for i in campaign.indicators.all()),
    )


def campaign_progress(campaign) -> list[dict]:
    """Per rater group: raters, sheets expected and sheets in (from the assignments' done lists)."""
    from portal.numbers import half_up

    from .services import subjects_for

    rows = []
    for group in campaign.groups.all():
        assignments = list(group.assignments.select_related("rater", "rater__person__org_unit", "rater__scope_org",
                                                            "group__campaign"))
        expected = sum(len(subjects_for(a)) for a in assignments)
        done = sum(len(a.done_subjects) for a in assignments)
        rows.append({"group": group, "raters": len(assignments), "expected": expected, "done": done,
                     "percent": int(half_up(Decimal(100 * done) / expected, 0)) if expected else 0, "assignments": assignments})
    return rows


def unrateable_units(campaign) -> list[dict]:
    """Units of the campaign that a rater group can never rate: none of the group's raters is asked
    to rate the unit (a group without raters, or a cross-rating group whose only raters belong to
    the unit itself). Such a unit can only get a partial weighted score."""
    from .services import subjects_for

    subjects = list(campaign.subjects.order_by("path"))
    missing: dict[int, list] = {}
    for group in campaign.groups.all():
        rateable = set()
        for assignment in group.assignments.select_related("rater", "rater__person__org_unit", "rater__scope_org",
                                                           "group__campaign"):
            rateable.update(s.pk for s in subjects_for(assignment))
        for subject in subjects:
            if subject.pk not in rateable:
                missing.setdefault(subject.pk, []).append(group)
    return [{"subject": s, "groups": missing[s.pk]} for s in subjects if s.pk in missing]


def campaign_results(campaign):
    """Weighted results per unit: the mean sheet total per rater group, weighted by the groups'
    weights (renormalised over the groups that rated the unit), and the mean per indicator.

    Ranking rule (docs/evaluation.md): units rated by every rater group ("complete") are ranked
    1, 2, … by weighted score; units missing a group (not yet rated, or a group that cannot rate
    them) follow, ordered by their partial score, marked incomplete and without a rank; units with
    no sheet come last. Computed in Decimal and rounded half up (portal.numbers)."""
    from portal.numbers import half_up

    from .models import Score

    groups = list(campaign.groups.all())
    indicators = list(campaign.indicators.all())
    subjects = list(campaign.subjects.order_by("path"))
    cannot = {row["subject"].pk: row["groups"] for row in unrateable_units(campaign)}
    sheet_totals: dict[int, Decimal] = {}
    sheet_keys: dict[int, tuple[int, int]] = {}
    indicator_values: dict[tuple[int, int], list[Decimal]] = {}
    for sheet_id, group_id, subject_id, indicator_id, value in (
            Score.objects.filter(sheet__group__campaign=campaign)
            .values_list("sheet_id", "sheet__group_id", "sheet__subject_id", "indicator_id", "value")):
        sheet_totals[sheet_id] = sheet_totals.get(sheet_id, Decimal(0)) + value
        sheet_keys[sheet_id] = (subject_id, group_id)
        indicator_values.setdefault((subject_id, indicator_id), []).append(value)
    by_group: dict[tuple[int, int], list[Decimal]] = {}
    for sheet_id, key in sheet_keys.items():
        by_group.setdefault(key, []).append(sheet_totals[sheet_id])
    rows = []
    for subject in subjects:
        group_scores, weighted, weight_sum, sheet_count = {}, Decimal(0), Decimal(0), 0
        for group in groups:
            totals = by_group.get((subject.pk, group.pk))
            if totals:
                mean = sum(totals) / len(totals)
                group_scores[group.pk] = half_up(mean, 2)
                weighted += group.weight * mean
                weight_sum += group.weight
                sheet_count += len(totals)
            else:
                group_scores[group.pk] = None
        values = {i.pk: indicator_values.get((subject.pk, i.pk)) for i in indicators}
        rows.append({
            "subject": subject, "groups": [group_scores[g.pk] for g in groups],
            "total": half_up(weighted / weight_sum, 2) if weight_sum else None,
            "complete": all(v is not None for v in group_scores.values()), "sheets": sheet_count,
            "cannot_rate": cannot.get(subject.pk, []),
            "indicators": [half_up(sum(v) / len(v), 2) if v else None for v in values.values()],
        })
    complete = sorted((r for r in rows if r["complete"] and r["total"] is not None), key=lambda r: -r["total"])
    for position, row in enumerate(complete, start=1):
        row["rank"] = position
    partial = sorted((r for r in rows if not r["complete"] and r["total"] is not None), key=lambda r: -r["total"])
    unrated = [r for r in rows if r["total"] is None]
    return {"groups": groups, "indicators": indicators, "rows": complete + partial + unrated,
            "has_incomplete": bool(partial or unrated)}


def grade_by_votes(votes: dict[str, int]) -> str:
    """The grade rule of 民主评议 (docs/evaluation.md, shown on the appraisal page): the grade with
    the most votes; when grades tie for the most votes, the higher (better) of them — a member gets
    a lower grade only when more voters chose it than any better grade. No votes: no grade ("")."""
    from .choices import AppraisalGrade

    if not any(votes.values()):
        return ""
    best_first = [g for g, _ in AppraisalGrade.choices]
    return max(best_first, key=lambda g: votes.get(g, 0))  # max keeps the first (better) grade of a tie


def appraisal_tally(round) -> list[dict]:
    """Per member on the roster: votes per grade, the grade by the rule of grade_by_votes and the
    grade decided."""
    from django.db.models import Count

    from .choices import AppraisalGrade
    from .models import AppraisalVote

    order = [g for g, _ in AppraisalGrade.choices]
    counts: dict[int, dict[str, int]] = {}
    for person_id, grade, n in (AppraisalVote.objects.filter(round=round).values_list("person_id", "grade")
                                .annotate(n=Count("id")).order_by()):
        counts.setdefault(person_id, {})[grade] = n
    rows = []
    for result in round.results.select_related("person", "person__org_unit", "decided_by"):
        votes = counts.get(result.person_id, {})
        suggested = grade_by_votes(votes)
        rows.append({"result": result, "votes": [votes.get(g, 0) for g in order], "total": sum(votes.values()),
                     "suggested": suggested})
    return rows


# --- Ratings asked of an account ------------------------------------------------------------------------
def ratings_to_do(user) -> tuple[int, int]:
    """(units the account still has to rate in open campaigns, appraisal ballots it has still to
    cast in open rounds), in one query whatever the number of campaigns. A rater of a cross-rating
    group does not rate their own unit nor a unit above it (services.subjects_for)."""
    subjects = Campaign._meta.get_field("subjects")
    table = {
        "assignment": RaterAssignment._meta.db_table, "group": RaterGroup._meta.db_table,
        "campaign": Campaign._meta.db_table, "subjects": subjects.m2m_db_table(),
        "subject_campaign": subjects.m2m_column_name(), "subject_unit": subjects.m2m_reverse_name(),
        "unit": OrgUnit._meta.db_table, "person": Person._meta.db_table,
        "voter": AppraisalVoter._meta.db_table, "round": AppraisalRound._meta.db_table,
        "own_in_subject": subtree_sql("own.path", "s.path"),
    }
    sql = """
        SELECT
          (SELECT COUNT(*)
             FROM {assignment} a
             JOIN {group} g ON g.id = a.group_id
             JOIN {campaign} c ON c.id = g.campaign_id
             JOIN {subjects} cs ON cs.{subject_campaign} = c.id
             JOIN {unit} s ON s.id = cs.{subject_unit}
            WHERE a.rater_id = %s AND c.status = %s
              AND NOT (s.id = ANY(a.done_subjects))
              AND NOT (g.kind = %s AND EXISTS (
                    SELECT 1 FROM (VALUES (%s), ((SELECT u.path FROM {person} p JOIN {unit} u ON u.id = p.org_unit_id
                                                 WHERE p.id = %s))) AS own(path)
                     WHERE {own_in_subject}))),
          (SELECT COUNT(*)
             FROM {voter} v JOIN {round} r ON r.id = v.round_id
            WHERE v.voter_id = %s AND r.status = %s AND v.voted_on IS NULL)
    """.format(**table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, CampaignStatus.OPEN, RaterGroupKind.PEER, user.scope_org_path or None,
                             user.person_id, user.pk, CampaignStatus.OPEN])
        todo, ballots = cursor.fetchone()
    return todo, ballots
