"""django-tables2 tables rendered by plain Python instead of its per-cell machinery and template.

Kept because it still is the list pages' largest saving: `{% render_table %}` takes about three times
as long for the same rows (the ledger's table at 25 and 50 rows, docs/performance.md "Render cost
per hot page"). Each column is compiled once per table into a small function of the record, and the
rows are joined as strings. The tables themselves (columns, `render_<name>` methods, linkify, attrs,
sorting links) are declared as before and mean the same:
`tests/portal/test_fasttable.py` renders every list page of the portal both ways and requires the
same HTML. Columns outside the compiled cases (callable cell attrs, template columns other than
dates, booleans, many-to-many, link columns with a fixed text…) fall back to django-tables2's own
`BoundRow.get_cell` for that column only. Plain `linkify=True` links and the rows' attributes are
drawn here too, without django-tables2's per-cell attribute dictionaries and per-row signature
lookups: the ledger's 25-row table 10.7 → 8.6 ms of CPU (medians of 8 alternated runs, 2026-12-07).
"""
from __future__ import annotations

import html
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist
from django.template.loader import render_to_string
from django.utils import formats
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django_tables2 import columns as tables2_columns
from django_tables2 import utils as tables2_utils
from django_tables2.columns.base import LinkTransform
from django_tables2.utils import A, AttributeDict

from .labels import field_labels

# Column classes whose rendering is compiled here; any subclass not listed falls back.
_PLAIN = (tables2_columns.Column,)
_DATES = (tables2_columns.DateColumn, tables2_columns.DateTimeColumn)
_OPTIONAL_ARGUMENTS = ("value", "record", "column", "bound_column", "bound_row", "table")


def _has_callables(attrs) -> bool:
    return any(callable(value) or (isinstance(value, dict) and _has_callables(value)) for value in attrs.values())


def _date_format(bound_column) -> str | None:
    """The format of a Date/DateTimeColumn's `{{ value|date:"…"|default:default }}` template."""
    code = getattr(bound_column.column, "template_code", "") or ""
    prefix, suffix = '{{ value|date:"', '"|default:default }}'
    if code.startswith(prefix) and code.endswith(suffix):
        return code[len(prefix):-len(suffix)]
    return None


def _html(value) -> str:
    """conditional_escape(value) for the cells: markup as it is, anything else escaped, without
    Django's wrapper for lazy arguments, which on a list of 25 rows × 10 columns cost more than the
    escaping itself (a fifth of the table's time)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _cell_text(value, localize: bool | None) -> str:
    """What the template's `{{ cell }}` (or `|localize` / `|unlocalize`) prints."""
    value = template_localtime(value)
    value = formats.localize(value, use_l10n=True if localize is None else localize)
    return _html(value)


class _CompiledColumn:
    """One column: its `<td>` attributes and a function record → the cell's HTML."""

    def __init__(self, table, bound_column, model):
        self.bound_column = bound_column
        self.name = bound_column.name
        column = bound_column.column
        self.localize = column.localize
        attrs = dict(table.attrs)
        attrs.update(column.attrs)
        # The <td> attributes once for the column, unless they are functions of the cell (then per cell).
        self.td_html = None if _has_callables(attrs.get("td", attrs.get("cell", {}))) else bound_column.attrs["td"].as_html()

        # Cells this class does not know how to compute come from django-tables2's get_cell.
        self.fallback = False
        self.date_format = None
        kind = type(column)
        if kind in _DATES:
            self.date_format = _date_format(bound_column)
            self.fallback = self.date_format is None
        elif kind not in _PLAIN:
            self.fallback = True

        self.accessor = A(bound_column.accessor)
        # The labels of a field with choices, as its get_<field>_display() gives them: translated
        # once per table, not once per cell.
        self.labels = None
        if model is not None:
            try:
                field = self.accessor.get_field(model)
            except (FieldDoesNotExist, AttributeError):
                field = None
            if field is not None and getattr(field, "choices", None):
                self.labels = field_labels(field)
        self.empty_values = column.empty_values
        self.default = bound_column.default
        self.link = bound_column.link
        # linkify=True with nothing else: <a href="the record's get_absolute_url()">, as LinkTransform
        # draws it, without its per-cell dictionaries of attributes.
        link = self.link
        self.plain_link = (isinstance(link, LinkTransform) and not link.url
                           and not link.attrs and not link.reverse_args)
        self.link_accessor = A(link.accessor if link is not None and link.accessor is not None else self.name)

        render = bound_column.render
        table_render = getattr(table, f"render_{self.name}", None)
        self.custom_render = table_render if table_render is not None and render == table_render else None
        self.render_arguments: tuple[str, ...] = ()
        if self.custom_render is not None:
            parameters = tables2_utils.signature(self.custom_render)[0]
            self.render_arguments = tuple(name for name in _OPTIONAL_ARGUMENTS if name in parameters)
        elif self.date_format is None and render != column.render:
            self.fallback = True

    def value_of(self, record):
        """The value django-tables2 would hand to the renderer (the choice's label for choice fields)."""
        value = self.accessor.resolve(record, quiet=True)
        if self.labels is not None and value is not None:
            return self.labels.get(make_hashable(value), value)
        return value

    def cell(self, row, record, table) -> str:
        if self.fallback:
            return row.get_cell(self.name)
        value = self.value_of(record)
        if value in self.empty_values:
            return self.default
        arguments = {"value": value, "record": record, "column": self.bound_column.column,
                     "bound_column": self.bound_column, "bound_row": row, "table": table}
        if self.custom_render is not None:
            content = self.custom_render(**{name: arguments[name] for name in self.render_arguments})
        elif self.date_format is not None:
            text = formats.date_format(template_localtime(value), self.date_format) if value not in (None, "") else ""
            content = mark_safe(_html(text or self.default or ""))
        else:
            content = value
        if self.plain_link:
            target = self.link_accessor.resolve(record)
            url = (target if hasattr(target, "get_absolute_url") else record).get_absolute_url()
            content = content if url is None else mark_safe(f'<a href="{_html(url)}">{_html(content)}</a>')
        elif self.link:
            content = self.link(content, **arguments)
        return content

    def td(self, row, record, table) -> str:
        content = self.cell(row, record, table)
        td_html = self.td_html
        if td_html is None:  # as BoundRow.items() does: the attributes see the cell's value and record
            self.bound_column.current_value, self.bound_column.current_record = content, record
            td_html = self.bound_column.attrs["td"].as_html()
        return f"<td {td_html}>{_cell_text(content, self.localize)}</td>"


def _thead(table, request) -> str:
    cells = []
    for bound_column in table.columns:
        header = conditional_escape(bound_column.header)
        if bound_column.orderable:
            params = dict(request.GET)
            params[table.prefixed_order_by_field] = bound_column.order_by_alias.next
            header = f'<a href="{escape("?" + urlencode(params, doseq=True))}">{header}</a>'
        cells.append(f'<th {bound_column.attrs["th"].as_html()} scope="col">{header}</th>')
    return f'<thead><tr>{"".join(cells)}</tr></thead>'


class _RowAttrs:
    """The `<tr>` attributes, as BoundRow.attrs gives them, with each function's arguments looked up
    once per table rather than once per row."""

    def __init__(self, table):
        self.table = table
        self.fallback = any(isinstance(value, dict) for value in table.row_attrs.values())
        self.arguments = {key: tables2_utils.signature(value) for key, value in table.row_attrs.items() if callable(value)}

    def html(self, row) -> str:
        if self.fallback:
            return row.attrs.as_html()
        available = {"table": self.table, "record": row.record}
        values = {}
        for key, value in self.table.row_attrs.items():
            if callable(value):
                names, catch_all = self.arguments[key]
                wanted = available if catch_all else {name: available[name] for name in names if name in available}
                value = value(**wanted) if catch_all or len(wanted) == len(names) else None
            values[key] = value
        css = row.get_even_odd_css_class()
        values["class"] = f"{values['class']} {css}" if values.get("class") else css
        return AttributeDict(values).as_html()


def render_table(table, request) -> str:
    """The table's HTML, as `portal/table.html` (django-tables2's bootstrap5-responsive) renders it."""
    if table.has_footer():  # no table of the portal has one; keep django-tables2's own rendering
        return table.as_html(request)
    attrs = AttributeDict({"class": "table"})
    attrs.update(table.attrs)
    data_model = getattr(table.data, "model", None)
    compiled = [_CompiledColumn(table, bound_column, data_model) for bound_column in table.columns]
    row_attrs = _RowAttrs(table)
    body = []
    for row in table.paginated_rows:
        record = row.record
        cells = "".join(column.td(row, record, table) for column in compiled)
        body.append(f"<tr {row_attrs.html(row)}>{cells}</tr>")
    if not body and table.empty_text:
        body.append(f'<tr><td colspan="{len(compiled)}">{conditional_escape(table.empty_text)}</td></tr>')
    parts = [
        '<div class="table-container table-responsive">',
        f"<table {attrs.as_html()}>",
        _thead(table, request) if table.show_header else "",
        f'<tbody>{"".join(body)}</tbody>',
        "</table>",
    ]
    if getattr(table, "page", None) and table.paginator.num_pages > 1:
        parts.append(render_to_string("portal/_table_pagination.html", {"table": table}, request))
    parts.append("</div>")
    return mark_safe("".join(parts))
