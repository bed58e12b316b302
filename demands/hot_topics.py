"""热点诉求: clusters of similar demands per month and unit, computed by the beat into HotTopic.

For each unit of the top two levels (the whole enterprise and its first-level units, each with its
sub-units) and a month: the month's demands are clustered on the text model's vectors (k-means,
k = demands ÷ 25, 2–20; the month's texts are vectorised once for all units), the clusters of at least MIN_SIZE demands are kept, best TOP_TOPICS by
size; key words are the heaviest words of the cluster centre; the month before is measured by
assigning its demands to the same centres (cosine ≥ ASSIGN_COSINE)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone
from sklearn.cluster import MiniBatchKMeans
from threadpoolctl import threadpool_limits

from members.models import OrgUnit

from portal.scope import subtree_mask

from . import text_services, textmodel
from .calendar import TZ
from .models import Demand, HotTopic

MIN_SIZE = 3
TOP_TOPICS = 8
KEY_WORDS = 5
ASSIGN_COSINE = 0.3
UNIT_DEPTH = 1
# A month of a very large deployment is sampled to this many demands (the sizes are scaled back).
MAX_CLUSTERED = 20_000
# Words of every demand that say nothing about its topic.
GENERIC_WORDS = {"希望", "增加", "相关", "部门", "研究", "解决", "尽快", "答复", "问题", "职工", "反映", "普遍", "班组",
                 "请求", "建议", "申请", "能否", "存在", "人员", "协调", "及时"}


def month_bounds(period: str) -> tuple[datetime.datetime, datetime.datetime]:
    year, month = map(int, period.split("-"))
    start = datetime.datetime(year, month, 1, tzinfo=TZ)
    end = datetime.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=TZ)
    return start, end


def previous_period(period: str) -> str:
    year, month = map(int, period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


@dataclass
class Month:
    """The month's demands (sampled evenly above MAX_CLUSTERED), their units' paths and vectors:
    made once per month and shared by every unit, whose rows are a path prefix away."""

    ids: list[int]
    paths: np.ndarray
    vectors: object  # scipy sparse matrix, one unit-length row per demand

    @classmethod
    def load(cls, period: str, model: textmodel.TextModel) -> Month:
        start, end = month_bounds(period)
        rows = list(
            Demand.objects.filter(received_at__gte=start, received_at__lt=end, merged_into__isnull=True)
            .order_by("id").values_list("id", "title", "content", "org_unit__path")
        )
        if len(rows) > MAX_CLUSTERED:
            step = len(rows) / MAX_CLUSTERED
            rows = [rows[int(i * step)] for i in range(MAX_CLUSTERED)]
        vectors = model.vectors([textmodel.text_of(r[1], r[2]) for r in rows]) if rows else None
        return cls([r[0] for r in rows], np.array([r[3] for r in rows], dtype=object), vectors)

    def of(self, unit: OrgUnit) -> np.ndarray:
        """Row numbers of the unit's demands (with its sub-units)."""
        if not self.ids:
            return np.array([], dtype=int)
        return np.flatnonzero(subtree_mask(self.paths, unit))


def _key_words(model: textmodel.TextModel, centre: np.ndarray) -> list[str]:
    """The heaviest word features (not character n-grams) of a cluster centre."""
    words = model.category.named_steps["features"].transformer_list[0][1]
    vocabulary = words.get_feature_names_out()
    weights = centre[: len(vocabulary)]
    order = np.argsort(-weights)
    chosen = []
    for i in order:
        word = vocabulary[i]
        if weights[i] <= 0 or len(chosen) >= KEY_WORDS:
            break
        if " " not in word and len(word) >= 2 and word not in GENERIC_WORDS and not any(word in c or c in word for c in chosen):
            chosen.append(word)
    return chosen


def topics_for(unit: OrgUnit, month: Month, before: Month, model: textmodel.TextModel) -> list[dict]:
    rows = month.of(unit)
    if len(rows) < MIN_SIZE:
        return []
    ids = [month.ids[i] for i in rows]
    vectors = month.vectors[rows]
    k = max(2, min(20, len(ids) // 25))
    with threadpool_limits(limits=1):
        kmeans = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=2048).fit(vectors)
    labels = kmeans.labels_
    centres = kmeans.cluster_centers_
    norms = np.linalg.norm(centres, axis=1, keepdims=True)
    unit_centres = centres / np.where(norms == 0, 1, norms)
    previous = np.zeros(k, dtype=int)
    before_rows = before.of(unit)
    if len(before_rows):
        similarity = np.asarray(before.vectors[before_rows] @ unit_centres.T)
        best = similarity.argmax(axis=1)
        for row, cluster in enumerate(best):
            if similarity[row, cluster] >= ASSIGN_COSINE:
                previous[cluster] += 1
    topics = []
    for cluster in range(k):
        members = [ids[i] for i in np.flatnonzero(labels == cluster)]
        if len(members) >= MIN_SIZE:
            topics.append({"key_words": _key_words(model, centres[cluster]), "size": len(members),
                           "previous_size": int(previous[cluster]), "demand_ids": members[:500]})
    topics.sort(key=lambda t: -t["size"])
    return topics[:TOP_TOPICS]


def compute(period: str | None = None) -> int:
    """Recompute the hot topics of `period` (default: the current month) for the units of the top
    levels. Returns how many topics were stored."""
    period = period or timezone.localdate().strftime("%Y-%m")
    try:
        _row, model = text_services.current_model()
    except text_services.NoModel:
        return 0
    now = timezone.now()
    stored = 0
    month, before = Month.load(period, model), Month.load(previous_period(period), model)
    for unit in OrgUnit.objects.filter(depth__lte=UNIT_DEPTH, is_active=True).exclude(kind="group"):
        topics = topics_for(unit, month, before, model)
        with transaction.atomic():
            HotTopic.objects.filter(period=period, org_unit=unit).delete()
            HotTopic.objects.bulk_create([
                HotTopic(period=period, org_unit=unit, rank=rank, computed_at=now, **topic)
                for rank, topic in enumerate(topics, start=1)
            ])
        stored += len(topics)
    return stored
