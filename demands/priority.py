"""服务优先级清单: open demands ranked by a stated formula. Each factor is between 0 and 1; the
score is the weighted sum, 0–100 when the weights add up to 100 (administrators set them,
PriorityWeights).

    urgency     urgent 1 · normal 0.5 · low 0
    tone        负面强烈 1 · 负面 0.6 · 中性 0.2 · 正面 0          (the sentiment lexicon)
    repeats     min(duplicates merged in + similar open demands, 5) / 5
    deadline    overdue 1 · due soon 0.6 · on track 0.2 · no deadline 0
    vulnerable  1 if the demand's service group or the submitter's tags name 困难职工, 退休 or 新就业形态
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import text_services, textmodel
from .choices import Colour, Urgency
from .models import Demand, DemandPriority, PriorityWeights
from .sla import colour, current_thresholds

VULNERABLE_GROUPS = ("困难职工", "退休", "新就业形态")
URGENCY_FACTOR = {Urgency.URGENT: 1.0, Urgency.NORMAL: 0.5, Urgency.LOW: 0.0}
TONE_FACTOR = {textmodel.STRONG_NEGATIVE: 1.0, textmodel.NEGATIVE: 0.6, textmodel.NEUTRAL: 0.2, textmodel.POSITIVE: 0.0}
DEADLINE_FACTOR = {Colour.RED: 1.0, Colour.YELLOW: 0.6, Colour.BLUE: 0.2, Colour.NONE: 0.0}
REPEATS_CAP = 5
# The beat ranks at most this many open demands (the most recent); the page says when there are more.
MAX_RANKED = 20_000

FACTORS = [
    ("urgency", _("urgency"), _("urgent 1 · normal 0.5 · low 0")),
    ("tone", _("tone"), _("strongly negative 1 · negative 0.6 · neutral 0.2 · positive 0")),
    ("repeats", _("repeats"), _("min(duplicates merged in + similar open demands, 5) ÷ 5")),
    ("deadline", _("SLA time left"), _("overdue 1 · due soon 0.6 · on track 0.2 · no deadline 0")),
    ("vulnerable", _("vulnerable groups"), _("1 if 困难职工, 退休 or 新就业形态, else 0")),
]


@dataclass
class Ranked:
    demand: Demand
    score: float
    factors: dict[str, float]
    tone: str
    repeats: int
    vulnerable: bool


# Two open demands of one category whose texts are at least this similar (cosine of the text
# model's TF-IDF vectors) ask the same thing: 拖欠工资三个月 / 工资拖欠了三个月还没发 ≈ 0.69.
SIMILAR_COSINE = 0.45


def similar_counts(demands: list[Demand]) -> dict[int, int]:
    """For each demand, how many other demands of the list (same category) say much the same."""
    if not demands:
        return {}
    try:
        _row, model = text_services.current_model()
    except text_services.NoModel:
        return {d.pk: 0 for d in demands}
    counts = Counter()
    by_category: dict[int, list[Demand]] = {}
    for demand in demands:
        by_category.setdefault(demand.category_id, []).append(demand)
    # One similarity matrix per category: only demands of one category count as repeats, and
    # the matrices stay small.
    for group in by_category.values():
        vectors = model.vectors([textmodel.text_of(d.title, d.content) for d in group])
        similarity = (vectors @ vectors.T).tocoo()
        for i, j, value in zip(similarity.row, similarity.col, similarity.data):
            if i != j and value >= SIMILAR_COSINE:
                counts[group[i].pk] += 1
    return {d.pk: counts[d.pk] for d in demands}


def rank(queryset, thresholds, weights: PriorityWeights | None = None) -> list[Ranked]:
    """The open demands of `queryset`, highest score first."""
    weights = weights or PriorityWeights.load()
    demands = list(queryset.select_related("category", "org_unit", "submitter")
                   .order_by("-received_at")[:MAX_RANKED])
    similar = similar_counts(demands)
    ranked = []
    for demand in demands:
        tone_code = textmodel.tone(f"{demand.title}。{demand.content}")[0]
        tags = list(demand.submitter.tags) if demand.submitter_id and demand.submitter.tags else []
        vulnerable = any(g in (demand.service_group or "") or g in tags for g in VULNERABLE_GROUPS)
        repeats = demand.merged_count + similar[demand.pk]
        factors = {
            "urgency": URGENCY_FACTOR.get(demand.urgency, 0.5),
            "tone": TONE_FACTOR[tone_code],
            "repeats": min(repeats, REPEATS_CAP) / REPEATS_CAP,
            "deadline": DEADLINE_FACTOR[colour(demand, thresholds)],
            "vulnerable": 1.0 if vulnerable else 0.0,
        }
        score = sum(getattr(weights, name) * value for name, value in factors.items())
        ranked.append(Ranked(demand, round(score, 1), factors, tone_code, repeats, vulnerable))
    ranked.sort(key=lambda r: (-r.score, r.demand.resolution_due_at or r.demand.received_at))
    return ranked


def open_demands():
    from .selectors import open_q

    return Demand.objects.filter(open_q(), merged_into__isnull=True)


def compute() -> int:
    """Rank the open demands (the newest MAX_RANKED) into DemandPriority, replacing the previous
    list; the beat runs it hourly (the SLA time left changes) and a change of the weights queues
    it. Returns how many demands were ranked."""
    ranked = rank(open_demands(), current_thresholds())
    now = timezone.now()
    with transaction.atomic():
        DemandPriority.objects.all().delete()
        DemandPriority.objects.bulk_create([
            DemandPriority(demand=r.demand, score=r.score, factors=r.factors, tone=r.tone, repeats=r.repeats,
                           vulnerable=r.vulnerable, computed_at=now)
            for r in ranked
        ], batch_size=2000)
    return len(ranked)
