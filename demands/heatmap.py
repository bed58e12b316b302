"""需求热力图: what liaisons heard on visits (民情日记), units × categories, for one month.

`compute(period)` (the beat, nightly, or `manage.py compute_demand_insights`) counts the month's
visits into VisitHeatCell by the unit of the visited person: a visit counts in the category of the
demands recorded from it (the human classification); a visit without a demand counts in the
category the text model gives its notes (visits without either are left out). `heat_map(user,
period)` reads the stored cells in the user's scope; rows are the units one level below the
user's scope unit, each adding up its sub-units."""
from __future__ import annotations

from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from members.models import OrgUnit
from portal.scope import visible

from . import text_services, textmodel
from .hot_topics import month_bounds
from .models import Demand, DemandCategory, Visit, VisitHeatCell

SEGMENT = 8  # characters of one level of OrgUnit.path
# Visits of one month read per batch, and notes classified per call of the model.
BATCH = 20_000


def compute(period: str | None = None) -> int:
    """Recount the month's visits into VisitHeatCell (replacing that month's cells). Returns how
    many visits were counted."""
    period = period or timezone.localdate().strftime("%Y-%m")
    start, end = month_bounds(period)
    categories = dict(DemandCategory.objects.values_list("code", "pk"))
    try:
        _row, model = text_services.current_model()
    except text_services.NoModel:
        model = None
    counts: Counter = Counter()  # (unit id, category id or None) → visits
    classified: Counter = Counter()
    visits = Visit.objects.filter(visited_on__gte=start.date(), visited_on__lt=end.date())
    last = 0
    while True:
        rows = list(visits.filter(pk__gt=last).order_by("pk").values_list("pk", "notes", "person__org_unit_id")[:BATCH])
        if not rows:
            break
        last = rows[-1][0]
        from_demands = defaultdict(set)
        for visit_id, category_id in Demand.objects.filter(visit_id__in=[r[0] for r in rows]).values_list("visit_id", "category_id"):
            from_demands[visit_id].add(category_id)
        to_classify = [(pk, notes) for pk, notes, _unit in rows if pk not in from_demands and notes.strip()]
        read = {}
        if to_classify and model is not None:
            predicted = model.predict_categories([textmodel.text_of(notes[:200]) for _pk, notes in to_classify])
            read = {pk: categories.get(code) for (pk, _notes), code in zip(to_classify, predicted)}
        for pk, _notes, unit_id in rows:
            found = from_demands.get(pk) or ({read[pk]} if read.get(pk) else set())
            if not found:
                continue
            counts[(unit_id, None)] += 1
            for category_id in found:
                counts[(unit_id, category_id)] += 1
                if pk in read:
                    classified[(unit_id, category_id)] += 1
                    classified[(unit_id, None)] += 1
    now = timezone.now()
    with transaction.atomic():
        VisitHeatCell.objects.filter(period=period).delete()
        VisitHeatCell.objects.bulk_create([
            VisitHeatCell(period=period, org_unit_id=unit_id, category_id=category_id, visits=n,
                          classified=classified[(unit_id, category_id)], computed_at=now)
            for (unit_id, category_id), n in counts.items()
        ], batch_size=5000)
    return sum(n for (_unit, category_id), n in counts.items() if category_id is None)


def heat_map(user, period: str) -> dict:
    """The stored heat map of `period` in the user's visits.view scope."""
    cells = visible(VisitHeatCell.objects.filter(period=period), user, "visits.view")
    rows = list(cells.values_list("org_unit__path", "category_id", "visits", "classified"))
    # When the beat computed the month is a fact of the whole month, not of the user's scope: an
    # account with no visits in its scope would otherwise be told the month was never computed.
    computed_at = VisitHeatCell.objects.filter(period=period).aggregate(at=Max("computed_at"))["at"]
    scope_depth = user.scope_org.depth if getattr(user, "scope_org_id", None) else 0
    row_length = SEGMENT * (scope_depth + 2)
    counts: Counter = Counter()
    totals: Counter = Counter()
    classified = 0
    for path, category_id, n, by_model in rows:
        if category_id is None:
            totals[path[:row_length]] += n
            classified += by_model
        else:
            counts[(path[:row_length], category_id)] += n
    units = {u.path: u for u in OrgUnit.objects.filter(path__in=set(totals))}
    categories = list(DemandCategory.objects.filter(is_active=True))
    top = max(counts.values(), default=0)
    table = []
    for path in sorted(units):
        cells_ = [(c, counts[(path, c.pk)], round(counts[(path, c.pk)] / top, 2) if top else 0) for c in categories]
        table.append((units[path], cells_, sum(n for _c, n, _s in cells_)))
    visits = sum(totals.values())
    return {"categories": categories, "rows": table, "visits": visits, "classified": classified,
            "from_demands": visits - classified, "computed_at": computed_at}
