"""Monthly diagnostic report (运行诊断报告): KPIs against target, the biggest changes, the weakest
units and overdue items, as an Excel workbook (openpyxl) and a printable page. Built from the
snapshots (plus the overdue lists at that moment) and frozen when generated: both the page and the
workbook render the stored content of that version."""
from __future__ import annotations

import datetime
import io
import logging
from dataclasses import dataclass, field
from types import SimpleNamespace
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from demands.models import HotTopic
from members.choices import OrgKind
from members.models import OrgUnit
from portal import dbrouting
from portal.numbers import half_up
from portal.scope import subtree_q

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

    branches = OrgUnit.objects.filter(subtree_q(unit), kind=OrgKind.BRANCH).exclude(pk=unit.pk)
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
            "target_value": target.target if target else None, "previous_value": prev,
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
                "unit": other.name, "unit_code": other.code, "kpi": str(kpi.display_name), "format": kpi.value_format,
                "previous": selectors.display(get(before, other.pk, kpi.code), kpi.value_format),
                "previous_value": get(before, other.pk, kpi.code),
                "value": selectors.display(get(current, other.pk, kpi.code), kpi.value_format),
                "value_value": get(current, other.pk, kpi.code),
                "points": half_up(delta * 100, 2), "better": better, "abs": abs(delta),
            })
    change_frame = pd.DataFrame(changes, columns=["unit", "unit_code", "kpi", "format", "previous", "previous_value",
                                                  "value", "value_value", "points", "better", "abs"], dtype=object)
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
                            "score": half_up(100 * total / weight_sum, 2), "reds": reds})
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
        return f"{(Decimal(change) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):+}"
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


# --- The frozen content ---------------------------------------------------------------------------------
# Number formats of the workbook by KPI value format; the stored numbers are rounded as the page shows
# them (a rate to 4 decimals of the fraction, i.e. 0.01 %), so both read the same.
# (General shows a score as the page does: 4.1103, 4.3, 4.)
NUMBER_FORMATS = {ValueFormat.RATE: "0.00%", ValueFormat.COUNT: "#,##0", ValueFormat.SCORE: "General",
                  ValueFormat.NUMBER: "General"}
CHANGE_FORMATS = {ValueFormat.RATE: "+0.00;-0.00;0.00", ValueFormat.COUNT: "+#,##0;-#,##0;0",
                  ValueFormat.SCORE: "+0.0000;-0.0000;0.0000", ValueFormat.NUMBER: "+0.0000;-0.0000;0.0000"}


def _plain_format(value) -> str:
    """Numerators and denominators: whole numbers with thousands separators, others as they are."""
    return "#,##0" if value is None or float(value).is_integer() else "General"


def _number(value, value_format: str | None = None) -> float | int | None:
    """A figure for the JSON content: None stays None, counts are integers, the rest rounded half up
    to what the page displays."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    value = Decimal(str(value))
    if value_format == ValueFormat.COUNT:
        return int(value.to_integral_value(rounding=ROUND_HALF_UP))
    return float(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _moment(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return timezone.localtime(pd.Timestamp(value).to_pydatetime(), LOCAL_TZ).isoformat()


def _day(value) -> str:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value, LOCAL_TZ).date().isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def freeze(data: ReportData, generated_at: datetime.datetime) -> dict:
    """The report as issued: every figure and list, as plain JSON. The display strings are stored
    next to the numbers so that the page never formats anew."""
    kpis = []
    for row in data.kpis.to_dict("records"):
        fmt = row["format"]
        change = row["change"]
        kpis.append({
            "code": row["code"], "kpi": row["kpi"], "format": fmt, "light": row["light"],
            "value_number": _number(row["value"], fmt), "display": row["display"],
            "target_number": _number(row.get("target_value"), fmt), "target": row["target"],
            "previous_number": _number(row.get("previous_value"), fmt), "previous": row["previous"],
            "change_number": (float((Decimal(str(change)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
                              if fmt == ValueFormat.RATE else _number(change, fmt))
            if change is not None else None,
            "change_display": row["change_display"],
            "numerator": _number(row["numerator"]), "denominator": _number(row["denominator"]),
        })
    changes = [{
        "unit": r["unit"], "unit_code": r["unit_code"], "kpi": r["kpi"], "format": r["format"],
        "previous": r["previous"], "previous_number": _number(r["previous_value"], r["format"]),
        "value": r["value"], "value_number": _number(r["value_value"], r["format"]),
        "points": f"{r['points']:.2f}", "points_number": float(r["points"]), "better": bool(r["better"]),
    } for r in data.changes.to_dict("records")]
    weakest = [{"unit": r["unit"], "unit_code": r["unit_code"], "score": f"{r['score']:.2f}",
                "score_number": float(r["score"]), "reds": int(r["reds"])} for r in data.weakest.to_dict("records")]
    overdue = [{"key": lst.key, "title": str(lst.title), "more": lst.more,
                "rows": [{"text": str(obj), "due": _day(due)} for obj, due in lst.rows]} for lst in data.overdue]
    return {
        "unit": {"name": data.unit.name, "code": data.unit.code}, "period": data.period.key,
        "period_label": str(data.period.label), "as_of": _moment(data.as_of),
        "generated_at": timezone.localtime(generated_at, LOCAL_TZ).isoformat(),
        "below_target": sum(1 for k in kpis if k["light"] == Light.RED),
        "kpis": kpis, "changes": changes, "weakest": weakest, "overdue": overdue,
        "hardship": _hardship(data),
        "hot_topics": [{"rank": t.rank, "key_words": t.key_words, "size": t.size, "previous_size": t.previous_size,
                        "computed_at": _moment(t.computed_at)}
                       for t in HotTopic.objects.filter(org_unit=data.unit, period=data.period.key).order_by("rank")],
    }


def _hardship(data: ReportData) -> dict:
    """Hardship assistance (members/hardship/) of the report's year up to the end of its month: the
    unit and the units it compares."""
    from members.hardship.selectors import totals_rows

    period = data.period
    units = [data.unit, *_units_compared(data.unit)]
    return {"year": period.year, "until": period.last_day.isoformat(),
            "rows": totals_rows(_system_user(), period.year, units, until=period.last_day)}


# --- Workbook -------------------------------------------------------------------------------------------
def workbook_bytes(content: dict) -> bytes:
    """The workbook of a frozen report: the same content as its page, numbers as numeric cells with
    number formats (a rate is a fraction shown as 0.00%)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from portal.export import neutralise_sheet

    light_names = {Light.GREEN: _("on target"), Light.AMBER: _("near target"), Light.RED: _("below target"),
                   Light.NONE: ""}
    book = Workbook()
    book.remove(book.active)

    def sheet(title, header, rows):
        """rows: lists of values or (value, number_format) pairs."""
        ws = book.create_sheet(str(title)[:31])
        ws.append([str(h) for h in header])
        for row in rows:
            ws.append([cell[0] if isinstance(cell, tuple) else cell for cell in row])
            for index, cell in enumerate(row, start=1):
                if isinstance(cell, tuple) and cell[0] is not None:
                    ws.cell(row=ws.max_row, column=index).number_format = cell[1]
        return ws

    def when(text):
        return datetime.datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M") if text else ""

    sheet(_("Summary"), [_("Item"), _("Value")], [
        [_("Report"), _("Monthly diagnostic report")],
        [_("Org unit"), f"{content['unit']['name']}（{content['unit']['code']}）"],
        [_("Month"), content["period_label"]],
        [_("As of"), when(content["as_of"])],
        [_("Generated at"), when(content["generated_at"])],
        [_("KPIs below target"), (content["below_target"], "0")],
    ])
    sheet(_("KPIs against target"),
          [_("KPI"), _("Value"), _("Target"), _("Against target"), _("Previous month"), _("Change"), _("Numerator"),
           _("Denominator")],
          [[k["kpi"], (k["value_number"], NUMBER_FORMATS[k["format"]]), (k["target_number"], NUMBER_FORMATS[k["format"]]),
            light_names.get(k["light"], ""), (k["previous_number"], NUMBER_FORMATS[k["format"]]),
            (k["change_number"], CHANGE_FORMATS[k["format"]]),
            (k["numerator"], _plain_format(k["numerator"])), (k["denominator"], _plain_format(k["denominator"]))]
           for k in content["kpis"]])
    sheet(_("Biggest changes"),
          [_("Unit"), _("Code"), _("KPI"), _("Previous month"), _("This month"), _("Change (points)"), _("Direction")],
          [[c["unit"], c["unit_code"], c["kpi"], (c["previous_number"], NUMBER_FORMATS[c["format"]]),
            (c["value_number"], NUMBER_FORMATS[c["format"]]), (c["points_number"], "0.00"),
            _("better") if c["better"] else _("worse")] for c in content["changes"]])
    sheet(_("Weakest units"), [_("Unit"), _("Code"), _("Weighted score"), _("KPIs below target")],
          [[w["unit"], w["unit_code"], (w["score_number"], "0.00"), (w["reds"], "0")] for w in content["weakest"]])
    sheet(_("Overdue items"), [_("List"), _("Item"), _("Due")],
          [[lst["title"], row["text"], (datetime.date.fromisoformat(row["due"]), "yyyy-mm-dd")]
           for lst in content["overdue"] for row in lst["rows"]])
    if "hardship" in content:  # versions issued before the register have none
        sheet(_("Hardship assistance"),
              [_("Unit"), _("Code"), _("households on the register"), _("households helped"), _("people helped"),
               _("money (yuan)"), _("services")],
              [[r["unit"], r["unit_code"], (r["households"], "0"), (r["households_helped"], "0"),
                (r["people_helped"], "0"), (r["money_number"], "#,##0.00"), (r["services"], "0")]
               for r in content["hardship"]["rows"]])
    header_fill = PatternFill("solid", fgColor="B71C1C")
    for ws in book.worksheets:
        neutralise_sheet(ws)
        for cell in ws[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center")
        for index, column in enumerate(ws.columns, start=1):
            width = max((len(str(c.value)) if c.value is not None else 0) for c in column)
            ws.column_dimensions[get_column_letter(index)].width = min(max(10, width * 1.6 + 2), 60)
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- Generation --------------------------------------------------------------------------------------------
def request_report(*, period: Period, unit: OrgUnit, by) -> MonthlyReport:
    """A new version of the unit's report for the month, generated in the background. Versions
    issued before stay as they were."""
    from .tasks import generate_report

    with transaction.atomic():
        last = (MonthlyReport.objects.select_for_update().filter(period=period.key, org_unit=unit)
                .order_by("-version").values_list("version", flat=True).first())
        report = MonthlyReport.objects.create(period=period.key, org_unit=unit, version=(last or 0) + 1,
                                              requested_by=by)
    transaction.on_commit(lambda: generate_report.delay(report.pk))
    return report


def generate(report_id: int) -> bool:
    """Freeze one report's content and write its workbook from it. Claims the row (pending/failed →
    running) so that two workers never write the same report, and a report once done is never
    written again; returns False when there was nothing to do."""
    claimed = MonthlyReport.objects.filter(
        pk=report_id, status__in=[ReportStatus.PENDING, ReportStatus.FAILED]
    ).update(status=ReportStatus.RUNNING)
    if not claimed:
        return False
    report = MonthlyReport.objects.select_related("org_unit").get(pk=report_id)
    try:
        generated_at = timezone.now()
        # The figures from the replica once it has what the primary committed (the computation
        # that just ran before a monthly report).
        with dbrouting.replica_reads(caught_up=True):
            data = report_data(report.org_unit, Period.parse(report.period))
            content = freeze(data, generated_at)
        report.file.save(report.download_name, ContentFile(workbook_bytes(content)), save=False)
        report.content, report.as_of = content, datetime.datetime.fromisoformat(content["as_of"]) if content["as_of"] else None
        report.status, report.generated_at, report.error = ReportStatus.DONE, generated_at, ""
        report.save(update_fields=["file", "content", "as_of", "status", "generated_at", "error"])
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
        versions = MonthlyReport.objects.filter(period=month.key, org_unit=unit)
        # Idempotent: a version with the final figures (generated after the month ended) is kept;
        # an earlier one (requested during the month) stays and a new version is issued.
        final = versions.filter(generated_at__gte=month.end).order_by("-version").first()
        if final is None:
            final = versions.filter(status__in=[ReportStatus.PENDING, ReportStatus.FAILED]).order_by("-version").first()
        if final is None:
            last = versions.order_by("-version").values_list("version", flat=True).first()
            final = MonthlyReport.objects.create(period=month.key, org_unit=unit, version=(last or 0) + 1)
        generate(final.pk)
        ids.append(final.pk)
    return ids


def print_page(report: MonthlyReport) -> dict:
    """What the printable page shows of a report: its content as issued, the same as the workbook."""
    content = report.content
    if content is None:  # not generated yet (or failed): nothing issued to show
        return dict(report=report, data=None, kpi_rows=[], change_rows=[], weak_rows=[])
    return dict(
        report=report, data=issued_content(content),
        kpi_rows=content["kpis"], change_rows=content["changes"], weak_rows=content["weakest"],
        hot_topics=content.get("hot_topics", []),
        hardship=content.get("hardship"),
    )


def issued_content(content: dict) -> SimpleNamespace:
    """The stored content of a report as issued (the same the workbook holds, whatever happened
    since), read back for the printable page."""
    return SimpleNamespace(
        unit=SimpleNamespace(**content["unit"]), period=SimpleNamespace(key=content["period"],
                                                                        label=content["period_label"]),
        as_of=datetime.datetime.fromisoformat(content["as_of"]) if content["as_of"] else None,
        generated_at=datetime.datetime.fromisoformat(content["generated_at"]),
        overdue=[SimpleNamespace(title=lst["title"], more=lst["more"],
                                 rows=[(row["text"], datetime.date.fromisoformat(row["due"])) for row in lst["rows"]])
                 for lst in content["overdue"]],
    )
