"""Monthly diagnostic report (运行诊断报告): KPIs against target, the biggest changes, the weakest
units and overdue items, as an Excel workbook (pandas + openpyxl) and a printable page. Built from
the snapshots only (plus the live overdue lists)."""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import OrgUnit
from portal import dbrouting

from . import selectors
from .choices import Direction, KpiKind, Light, ReportStatus, RunTrigger, ValueFormat
from .models import KpiDefinition, KpiSnapshot, MonthlyReport
from .periods import LOCAL_TZ, Period

logger = logging.getLogger(__name__)
TOP = 10


@dataclass
class ReportData:
    unit: OrgUnit
    period: Period
    as_of: object
    kpis: pd.DataFrame
    changes: pd.DataFrame
    weakest: pd.DataFrame
    overdue: list = field(default_factory=list)


def _units_compared(unit: OrgUnit, user=None):
    """The units the report compares: the branches below the unit, or else its direct sub-units."""
    from portal.scope import visible

    branches = OrgUnit.objects.filter(kind="branch", path__startswith=unit.path).exclude(pk=unit.pk)
    units = branches if branches.exists() else OrgUnit.objects.filter(parent=unit)
    if user is not None:
        units = visible(units, user, "reports.view")
    return list(units.order_by("path"))


def _fraction(value, kpi: KpiDefinition) -> float | None:
    """A figure on a 0–1 scale for comparisons across KPIs (rates as they are, means out of 5)."""
    if value is None:
        return None
    if kpi.value_format == ValueFormat.RATE:
        return float(value)
    if kpi.value_format == ValueFormat.SCORE:
        return float(value) / 5
    return None


def report_data(unit: OrgUnit, period: Period, user=None) -> ReportData:
    kpis = [k for k in selectors.catalogue() if k.kind == KpiKind.COMPUTED or k.is_active]
    by_code = {k.code: k for k in kpis}
    previous = period.previous()
    compared = _units_compared(unit, user)
    units = [unit, *compared]
    snaps = pd.DataFrame(
        list(KpiSnapshot.objects.filter(period__in=[period.key, previous.key], org_unit__in=units,
                                        kpi_id__in=list(by_code))
             .values("period", "kpi_id", "org_unit_id", "value", "numerator", "denominator", "as_of")),
        columns=["period", "kpi_id", "org_unit_id", "value", "numerator", "denominator", "as_of"],
    )
    targets = selectors.effective_targets(units, period.year)
    current = snaps[snaps.period == period.key].set_index(["org_unit_id", "kpi_id"])
    before = snaps[snaps.period == previous.key].set_index(["org_unit_id", "kpi_id"])

    def get(frame, unit_id, code, column="value"):
        key = (unit_id, code)
        if key in frame.index:
            value = frame.loc[key, column]
            return None if pd.isna(value) else value
        return None

    # KPIs of the unit against target.
    rows = []
    for kpi in kpis:
        value, prev = get(current, unit.pk, kpi.code), get(before, unit.pk, kpi.code)
        target = targets.get((unit.pk, kpi.code))
        change = value - prev if value is not None and prev is not None else None
        rows.append({
            "code": kpi.code, "kpi": str(kpi.display_name), "format": kpi.value_format,
            "value": value, "display": selectors.display(value, kpi.value_format),
            "previous": selectors.display(prev, kpi.value_format),
            "change": change, "change_display": _change_display(change, kpi),
            "target": selectors.display(target.target, kpi.value_format) if target else "",
            "light": selectors.light(value, target, kpi.direction),
            "numerator": get(current, unit.pk, kpi.code, "numerator"),
            "denominator": get(current, unit.pk, kpi.code, "denominator"),
        })
    kpi_frame = pd.DataFrame(rows, dtype=object)  # object: empty figures stay None, not NaN

    # The biggest changes of the compared units, in points of a 0–1 scale.
    changes = []
    for other in compared:
        for kpi in kpis:
            now_, then = _fraction(get(current, other.pk, kpi.code), kpi), _fraction(get(before, other.pk, kpi.code), kpi)
            if now_ is None or then is None or now_ == then:
                continue
            delta = now_ - then
            better = (delta > 0) == (kpi.direction == Direction.HIGHER)
            changes.append({
                "unit": other.name, "unit_code": other.code, "kpi": str(kpi.display_name),
                "previous": selectors.display(get(before, other.pk, kpi.code), kpi.value_format),
                "value": selectors.display(get(current, other.pk, kpi.code), kpi.value_format),
                "points": round(delta * 100, 2), "better": better, "abs": abs(delta),
            })
    change_frame = pd.DataFrame(changes, columns=["unit", "unit_code", "kpi", "previous", "value", "points", "better",
                                                  "abs"], dtype=object)
    if not change_frame.empty:
        change_frame = change_frame.sort_values(["abs", "unit_code"], ascending=[False, True]).head(TOP)

    # The weakest units: a weighted score over the rate-like KPIs, and their red lights.
    weakest = []
    for other in compared:
        total = weight_sum = 0.0
        reds = 0
        for kpi in kpis:
            value = get(current, other.pk, kpi.code)
            fraction = _fraction(value, kpi)
            target = targets.get((other.pk, kpi.code))
            if selectors.light(value, target, kpi.direction) == Light.RED:
                reds += 1
            if fraction is None:
                continue
            if kpi.direction == Direction.LOWER:
                fraction = 1 - fraction
            weight = float(target.weight if target and target.weight is not None else kpi.weight)
            total += weight * fraction
            weight_sum += weight
        if weight_sum:
            weakest.append({"unit": other.name, "unit_code": other.code, "unit_id": other.pk,
                            "score": round(100 * total / weight_sum, 2), "reds": reds})
    weakest_frame = pd.DataFrame(weakest, columns=["unit", "unit_code", "unit_id", "score", "reds"], dtype=object)
    if not weakest_frame.empty:
        weakest_frame = weakest_frame.sort_values(["reds", "score", "unit_code"], ascending=[False, True, True]).head(TOP)

    as_of = current["as_of"].max() if not current.empty else period.as_of(timezone.now())
    overdue = selectors.overdue(unit, user or _system_user(), limit=20)
    return ReportData(unit, period, as_of, kpi_frame, change_frame, weakest_frame, overdue)


def _change_display(change, kpi) -> str:
    if change is None:
        return ""
    if kpi.value_format == ValueFormat.RATE:
        return f"{(Decimal(change) * 100).quantize(Decimal('0.01')):+}"
    if kpi.value_format == ValueFormat.COUNT:
        return f"{int(change):+d}"
    return f"{Decimal(change).quantize(Decimal('0.0001')):+}"


class _System:
    """The report task runs without a user: it sees the unit's whole subtree."""

    is_authenticated = True
    is_active = True
    role = "admin"
    scope_org_id = None
    person_id = None
    pk = None


def _system_user():
    return _System()


# --- Workbook -------------------------------------------------------------------------------------------
LIGHT_LABELS = {Light.GREEN: "●", Light.AMBER: "◐", Light.RED: "○", Light.NONE: ""}


def workbook_bytes(data: ReportData) -> bytes:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    buffer = io.BytesIO()
    light_names = {Light.GREEN: _("on target"), Light.AMBER: _("near target"), Light.RED: _("below target"),
                   Light.NONE: ""}
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        summary = pd.DataFrame([
            [_("Report"), _("Monthly diagnostic report")],
            [_("Org unit"), f"{data.unit.name}（{data.unit.code}）"],
            [_("Month"), data.period.label],
            [_("As of"), timezone.localtime(data.as_of, LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if data.as_of is not None
             and not pd.isna(data.as_of) else ""],
            [_("Generated at"), timezone.localtime(timezone.now(), LOCAL_TZ).strftime("%Y-%m-%d %H:%M")],
            [_("KPIs below target"), int((data.kpis["light"] == Light.RED).sum()) if not data.kpis.empty else 0],
        ], columns=[_("Item"), _("Value")])
        summary.to_excel(writer, sheet_name=_("Summary")[:31], index=False)
        kpis = data.kpis.assign(light=data.kpis["light"].map(light_names)) if not data.kpis.empty else data.kpis
        kpis = kpis.reindex(columns=["kpi", "display", "target", "light", "previous", "change_display", "numerator",
                                     "denominator"])
        kpis.columns = [_("KPI"), _("Value"), _("Target"), _("Against target"), _("Previous month"),
                        _("Change"), _("Numerator"), _("Denominator")]
        kpis.to_excel(writer, sheet_name=_("KPIs against target")[:31], index=False)
        changes = data.changes.reindex(columns=["unit", "unit_code", "kpi", "previous", "value", "points", "better"])
        if not changes.empty:
            changes = changes.assign(better=changes["better"].map({True: _("better"), False: _("worse")}))
        changes.columns = [_("Unit"), _("Code"), _("KPI"), _("Previous month"), _("This month"),
                           _("Change (points)"), _("Direction")]
        changes.to_excel(writer, sheet_name=_("Biggest changes")[:31], index=False)
        weakest = data.weakest.reindex(columns=["unit", "unit_code", "score", "reds"])
        weakest.columns = [_("Unit"), _("Code"), _("Weighted score"), _("KPIs below target")]
        weakest.to_excel(writer, sheet_name=_("Weakest units")[:31], index=False)
        overdue_rows = [
            [str(lst.title), str(obj), due.strftime("%Y-%m-%d") if hasattr(due, "strftime") else str(due)]
            for lst in data.overdue for obj, due in lst.rows
        ]
        pd.DataFrame(overdue_rows, columns=[_("List"), _("Item"), _("Due")]).to_excel(
            writer, sheet_name=_("Overdue items")[:31], index=False)
        header_fill = PatternFill("solid", fgColor="B71C1C")
        for sheet in writer.book.worksheets:
            for cell in sheet[1]:
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = header_fill
                cell.alignment = Alignment(vertical="center")
            for index, column in enumerate(sheet.columns, start=1):
                width = max((len(str(c.value)) if c.value is not None else 0) for c in column)
                sheet.column_dimensions[get_column_letter(index)].width = min(max(10, width * 1.6 + 2), 60)
            sheet.freeze_panes = "A2"
    return buffer.getvalue()


# --- Generation --------------------------------------------------------------------------------------------
def request_report(*, period: Period, unit: OrgUnit, by) -> MonthlyReport:
    """Create (or reset) the report and generate it in the background."""
    from .tasks import generate_report

    report, _created = MonthlyReport.objects.get_or_create(period=period.key, org_unit=unit,
                                                            defaults={"requested_by": by})
    if report.status != ReportStatus.RUNNING:
        MonthlyReport.objects.filter(pk=report.pk).update(status=ReportStatus.PENDING, requested_by=by, error="")
    transaction.on_commit(lambda: generate_report.delay(report.pk))
    return report


def generate(report_id: int) -> bool:
    """Write one report's workbook. Claims the row (pending/failed → running) so that two workers
    never write the same report; returns False when there was nothing to do."""
    claimed = MonthlyReport.objects.filter(
        pk=report_id, status__in=[ReportStatus.PENDING, ReportStatus.FAILED]
    ).update(status=ReportStatus.RUNNING)
    if not claimed:
        return False
    report = MonthlyReport.objects.select_related("org_unit").get(pk=report_id)
    try:
        # The figures from the replica once it has what the primary committed (the computation
        # that just ran before a monthly report).
        with dbrouting.replica_reads(caught_up=True):
            content = workbook_bytes(report_data(report.org_unit, Period.parse(report.period)))
        old = report.file.name if report.file else ""
        report.file.save(report.download_name, ContentFile(content), save=False)
        report.status, report.generated_at, report.error = ReportStatus.DONE, timezone.now(), ""
        report.save(update_fields=["file", "status", "generated_at", "error"])
        if old and old != report.file.name:
            report.file.storage.delete(old)
    except Exception as error:  # recorded on the report; the task may be retried by requesting again
        logger.exception("monthly report %s failed", report_id)
        MonthlyReport.objects.filter(pk=report_id).update(status=ReportStatus.FAILED, error=repr(error)[:2000])
        return False
    return True


def generate_monthly_reports(now=None) -> list[int]:
    """The 1st of the month: final figures of the month just ended, then one report per root unit."""
    from . import engine

    now = now or timezone.now()
    month = Period.containing(now, "month").previous()
    engine.compute(month.containing_periods(), trigger=RunTrigger.BEAT)
    ids = []
    for unit in OrgUnit.objects.filter(parent__isnull=True):
        report, _created = MonthlyReport.objects.get_or_create(period=month.key, org_unit=unit)
        if report.status == ReportStatus.DONE:
            MonthlyReport.objects.filter(pk=report.pk).update(status=ReportStatus.PENDING)
        generate(report.pk)
        ids.append(report.pk)
    return ids
