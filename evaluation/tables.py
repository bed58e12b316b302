import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import AppraisalRound, Campaign, KpiDefinition, KpiTarget, ManualKpiValue, MonthlyReport
from .selectors import display

ATTRS = {"class": "table table-sm table-hover align-middle"}


class KpiDefinitionTable(tables.Table):
    name = tables.Column(verbose_name=capfirst(_("name")), accessor="display_name", orderable=False,
                         linkify=lambda record: reverse("evaluation:kpi_edit", args=[record.pk]))
    definition = tables.Column(verbose_name=capfirst(_("definition")), accessor="display_definition", orderable=False)

    class Meta:
        model = KpiDefinition
        fields = ["code", "name", "kind", "value_format", "direction", "weight", "is_active", "definition"]
        attrs = ATTRS

    def render_definition(self, value):
        text = str(value)
        return text if len(text) <= 80 else text[:78] + "…"


class KpiTargetTable(tables.Table):
    kpi = tables.Column(verbose_name=_("KPI"), linkify=lambda record: record.get_absolute_url())
    org_unit = tables.Column(verbose_name=capfirst(_("org unit")), accessor="org_unit__name")
    target = tables.Column(verbose_name=capfirst(_("target")))
    green_from = tables.Column(verbose_name=capfirst(_("green from")))
    amber_from = tables.Column(verbose_name=capfirst(_("amber from")))

    class Meta:
        model = KpiTarget
        fields = ["year", "kpi", "org_unit", "target", "green_from", "amber_from", "weight", "note"]
        attrs = ATTRS

    def _show(self, record, value):
        return display(value, record.kpi.value_format)

    def render_target(self, record, value):
        return self._show(record, value)

    def render_green_from(self, record, value):
        return self._show(record, value)

    def render_amber_from(self, record, value):
        return self._show(record, value)


class ManualValueTable(tables.Table):
    kpi = tables.Column(verbose_name=_("KPI"),
                        linkify=lambda record: reverse("evaluation:manual_edit", args=[record.pk]))
    org_unit = tables.Column(verbose_name=capfirst(_("org unit")), accessor="org_unit__name")
    value = tables.Column(verbose_name=capfirst(_("value")))
    entered_by = tables.Column(verbose_name=capfirst(_("entered by")))

    class Meta:
        model = ManualKpiValue
        fields = ["period", "kpi", "org_unit", "value", "note", "entered_by", "entered_at"]
        attrs = ATTRS

    def render_value(self, record, value):
        return display(value, record.kpi.value_format)


class CampaignTable(tables.Table):
    name = tables.Column(verbose_name=capfirst(_("name")), linkify=True)
    org_unit = tables.Column(verbose_name=capfirst(_("organised by")), accessor="org_unit__name")

    class Meta:
        model = Campaign
        fields = ["name", "year", "org_unit", "status", "opens_on", "closes_on"]
        attrs = ATTRS


class AppraisalTable(tables.Table):
    name = tables.Column(verbose_name=capfirst(_("name")), linkify=True)
    org_unit = tables.Column(verbose_name=capfirst(_("party organisation")), accessor="org_unit__name")

    class Meta:
        model = AppraisalRound
        fields = ["name", "year", "org_unit", "status", "closes_on"]
        attrs = ATTRS


class ReportTable(tables.Table):
    period = tables.Column(verbose_name=capfirst(_("month")), linkify=lambda record: reverse("evaluation:report_print",
                                                                                   args=[record.pk]))
    org_unit = tables.Column(verbose_name=capfirst(_("org unit")), accessor="org_unit__name")
    download = tables.Column(verbose_name=capfirst(_("workbook")), empty_values=(), orderable=False, exclude_from_export=True)
    requested_by = tables.Column(verbose_name=capfirst(_("requested by")))

    class Meta:
        model = MonthlyReport
        fields = ["period", "version", "org_unit", "status", "as_of", "generated_at", "requested_by"]
        attrs = ATTRS

    def render_download(self, record):
        if not record.file:
            return "—"
        return format_html('<a href="{}" data-testid="download-report-{}"><i class="bi bi-file-earmark-excel"></i> {}</a>',
                           reverse("evaluation:report_download", args=[record.pk]), record.pk, _("Download"))


# --- Drill-down (the records behind a KPI figure) ------------------------------------------------------
def _column(name: str, model):
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = model._meta.get_field(name)
        verbose = field.verbose_name
    except FieldDoesNotExist:
        verbose = name
    if name in ("ref", "employee_no"):
        return tables.Column(verbose_name=verbose, linkify=lambda record: record.get_absolute_url())
    if name in ("title", "name"):
        return tables.Column(verbose_name=verbose, linkify=lambda record: record.get_absolute_url())
    if name.endswith("_at"):
        return tables.DateTimeColumn(verbose_name=verbose, format="Y-m-d H:i")
    if name in ("deadline", "event_date", "visit_due_on"):
        return tables.DateColumn(verbose_name=verbose, format="Y-m-d")
    return tables.Column(verbose_name=verbose)


def drill_table_for(kpi):
    """The drill-down table of a KPI's records: its declared columns, the record linked."""
    model = kpi.model_class
    attrs = {name: _column(name, model) for name in kpi.columns}
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": kpi.columns, "orderable": False,
                                      "attrs": {"class": "table table-sm table-hover align-middle"}})
    return type(f"{model.__name__}DrillTable", (tables.Table,), attrs)


class MeetingTable(tables.Table):
    """Branches with their 三会一课 windows of the period: required, met and the ones missing."""

    name = tables.Column(verbose_name=_("branch"), linkify=lambda record: record.get_absolute_url(),
                         orderable=False)
    required = tables.Column(verbose_name=_("required windows"), empty_values=(), orderable=False)
    met_count = tables.Column(verbose_name=_("windows met"), empty_values=(), orderable=False)
    missing = tables.Column(verbose_name=_("missing"), empty_values=(), orderable=False)

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle"}

    def __init__(self, *args, windows=(), met=None, **kwargs):
        self.windows, self.met = list(windows), met or {}
        super().__init__(*args, **kwargs)

    def render_required(self, record):
        return len(self.windows)

    def render_met_count(self, record):
        return len(self.met.get(record.pk, ()))

    def render_missing(self, record):
        from activities.choices import ActivityType

        labels = dict(ActivityType.choices)
        done = self.met.get(record.pk, set())
        missing = [w for i, w in enumerate(self.windows) if i not in done]
        if not missing:
            return "—"
        return format_html(
            "{}", "；".join(
                f"{labels.get(w.type, w.type)} {timezone.localtime(w.start):%Y-%m}" for w in missing
            )
        )

    def value_required(self, record):
        return self.render_required(record)

    def value_met_count(self, record):
        return self.render_met_count(record)

    def value_missing(self, record):
        return self.render_missing(record)
