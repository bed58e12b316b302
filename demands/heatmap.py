"""需求热力图: what liaisons heard on visits (民情日记), units × categories, for one month.

A visit counts in the category of the demands recorded from it (the human classification); a
visit without a demand counts in the category the text model gives its notes. Rows are the units
one level below the user's scope unit (each with its sub-units)."""
from __future__ import annotations

from collections import Counter, defaultdict

from members.models import OrgUnit
from portal.scope import visible

from . import text_services, textmodel
from .hot_topics import month_bounds
from .models import Demand, DemandCategory, Visit

SEGMENT = 8  # characters of one level of OrgUnit.path
MAX_VISITS = 20_000


def heat_map(user, period: str) -> dict:
    start, end = month_bounds(period)
    visits = visible(Visit.objects.filter(visited_on__gte=start.date(), visited_on__lt=end.date()), user, "visits.view")
    rows = list(visits.values_list("pk", "notes", "person__org_unit__path")[:MAX_VISITS])
    scope_depth = user.scope_org.depth if getattr(user, "scope_org_id", None) else 0
    row_length = SEGMENT * (scope_depth + 2)
    from_demands = defaultdict(set)
    for visit_id, code in Demand.objects.filter(visit_id__in=[r[0] for r in rows]).values_list("visit_id", "category__code"):
        from_demands[visit_id].add(code)
    to_classify = [(pk, notes) for pk, notes, _path in rows if pk not in from_demands and notes.strip()]
    classified = {}
    if to_classify:
        try:
            _row, model = text_services.current_model()
            predicted = model.predict_categories([textmodel.text_of(notes[:200]) for _pk, notes in to_classify])
            classified = {pk: code for (pk, _notes), code in zip(to_classify, predicted)}
        except text_services.NoModel:
            pass
    counts: Counter = Counter()
    for pk, _notes, path in rows:
        unit_path = path[:row_length]
        for code in from_demands.get(pk) or ([classified[pk]] if pk in classified else []):
            counts[(unit_path, code)] += 1
    units = {u.path: u for u in OrgUnit.objects.filter(path__in={p for p, _c in counts})}
    categories = list(DemandCategory.objects.filter(is_active=True))
    top = max(counts.values(), default=0)
    table = []
    for path in sorted(units):
        cells = [(c, counts[(path, c.code)], round(counts[(path, c.code)] / top, 2) if top else 0) for c in categories]
        table.append((units[path], cells, sum(n for _c, n, _s in cells)))
    return {"categories": categories, "rows": table, "visits": len(rows), "classified": len(classified),
            "from_demands": len(from_demands)}
