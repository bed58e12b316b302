"""The demand text model in the deployment: which demands it learns from, versions and
promotion, and the suggestion shown at acceptance (category, urgency, tone, lead unit).

A deployment with fewer than MIN_HISTORY classified demands uses the cold-start corpus shipped in
demands/textdata/corpus.csv; from then on it learns from its own demands (category as accepted,
lead unit as finally resolved). Each training keeps HELDOUT_SHARE of its rows apart, scores the
new model and the current one on them, and promotes the new one only if it scores at least as
well (macro-F1).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import OrgUnit

from . import textmodel
from .choices import Status, Urgency
from .models import Demand, DemandCategory, DemandSuggestion, DemandTextModel, SuggestionStage, TextModelSource

log = logging.getLogger(__name__)

# Classified demands a deployment needs before its own history replaces the corpus.
MIN_HISTORY = 300
# The most recent classified demands a training reads (100,000 train in well under a minute).
MAX_TRAINING_ROWS = 100_000
# Demands whose category a human has confirmed (accepted or further on).
CLASSIFIED_STATUSES = (Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED, Status.VISITED, Status.CLOSED)
# Demands whose lead unit is final.
FINISHED_STATUSES = (Status.RESOLVED, Status.VISITED, Status.CLOSED)
# How many ranked categories a suggestion lists.
TOP_CATEGORIES = 3


# --- Training ---------------------------------------------------------------------------------------------------
@dataclass
class TrainingData:
    source: str
    texts: list[str]
    labels: list[str]  # category codes
    lead_categories: list[str] = field(default_factory=list)  # the category code
    lead_units: list[str] = field(default_factory=list)  # the demand's unit code
    lead_labels: list[str] = field(default_factory=list)  # the lead unit code


def classified_count() -> int:
    return Demand.objects.filter(status__in=CLASSIFIED_STATUSES, merged_into__isnull=True).count()


def corpus_data(categories: set[str]) -> TrainingData:
    """The shipped corpus, limited to the given category codes."""
    corpus = [r for r in textmodel.corpus_rows() if r["category"] in categories]
    return TrainingData(
        TextModelSource.CORPUS, [textmodel.text_of(r["title"], r["content"]) for r in corpus], [r["category"] for r in corpus]
    )


def training_data(*, limit: int = MAX_TRAINING_ROWS, corpus_only: bool = False) -> TrainingData:
    """The deployment's classified demands if there are enough of them, else the corpus."""
    active = set(DemandCategory.objects.filter(is_active=True).values_list("code", flat=True))
    if corpus_only:
        return corpus_data(active)
    rows = list(
        Demand.objects.filter(status__in=CLASSIFIED_STATUSES, merged_into__isnull=True, category__code__in=active)
        .order_by("-received_at").values_list("title", "content", "category__code", "status", "org_unit__code", "lead_unit__code")[:limit]
    )
    if len(rows) < MIN_HISTORY or len({r[2] for r in rows}) < 2:
        return corpus_data(active)
    data = TrainingData(TextModelSource.HISTORY, [], [])
    for title, content, category, status, unit, lead in rows:
        text = textmodel.text_of(title, content)
        data.texts.append(text)
        data.labels.append(category)
        if status in FINISHED_STATUSES and lead:
            data.lead_categories.append(category)
            data.lead_units.append(unit)
            data.lead_labels.append(lead)
    return data


class NoModel(Exception):
    """No model can be trained: fewer than two active categories have examples."""


@dataclass
class Fitted:
    model: textmodel.TextModel
    scores: textmodel.Scores | None
    training_size: int
    heldout_texts: list[str]
    heldout_labels: list[str]
    lead_size: int


def fit_and_score(data: TrainingData) -> Fitted:
    """Keep a stratified HELDOUT_SHARE of `data` apart, train on the rest (with the corpus as a
    base when `data` is a deployment's history) and score on what was kept apart."""
    train_ix, heldout_ix = textmodel.split(data.texts, data.labels)
    pick = lambda items, ix: [items[i] for i in ix]  # noqa: E731
    lead = None
    if data.lead_labels:
        lead_train, _lead_heldout = textmodel.split(data.lead_labels, data.lead_labels)
        lead = (pick(data.lead_categories, lead_train), pick(data.lead_units, lead_train), pick(data.lead_labels, lead_train))
    train_texts, train_labels = pick(data.texts, train_ix), pick(data.labels, train_ix)
    if data.source == TextModelSource.HISTORY:
        # The corpus stays in the training set as a base: a deployment's history is often
        # narrow (the same few wordings), the corpus teaches the wider vocabulary. Scoring uses
        # the deployment's held-out demands only.
        corpus = corpus_data(set(data.labels))
        train_texts, train_labels = train_texts + corpus.texts, train_labels + corpus.labels
    model = textmodel.fit(train_texts, train_labels, lead=lead)
    heldout_texts, heldout_labels = pick(data.texts, heldout_ix), pick(data.labels, heldout_ix)
    scores = textmodel.score(heldout_labels, model.predict_categories(heldout_texts)) if heldout_ix else None
    if data.source == TextModelSource.CORPUS:
        # The corpus is small: once scored, the version kept learns from all of it.
        model = textmodel.fit(data.texts, data.labels)
        train_texts = data.texts
    return Fitted(model, scores, len(train_texts), heldout_texts, heldout_labels, len(lead[2]) if lead else 0)


def history_from_rows(rows: list[dict]) -> TrainingData:
    """A labelled file (title, content, category by label or code) as a deployment's history:
    what `evaluate_demand_model --train FILE` learns from."""
    by_name = dict(DemandCategory.objects.filter(is_active=True).values_list("name", "code"))
    codes = set(by_name.values())
    data = TrainingData(TextModelSource.HISTORY, [], [])
    for r in rows:
        code = r.get("category", "") if r.get("category", "") in codes else by_name.get(r.get("category", ""))
        if code:
            data.texts.append(textmodel.text_of(r.get("title", ""), r.get("content", "")))
            data.labels.append(code)
    return data


# The advisory lock taken while a trained version is stored (any constant the portal uses once).
STORE_LOCK = 7_310_017


def train(*, limit: int = MAX_TRAINING_ROWS, note: str = "", corpus_only: bool = False) -> DemandTextModel:
    """Train a new version, score it on a held-out split, promote it if it does not score worse
    than the current version on the same split. Returns the new version (promoted or not)."""
    started = time.monotonic()
    data = training_data(limit=limit, corpus_only=corpus_only)
    if len(set(data.labels)) < 2:
        raise NoModel(_("The text model needs examples of at least two active categories."))
    fitted = fit_and_score(data)
    model, scores, heldout_texts, heldout_labels = fitted.model, fitted.scores, fitted.heldout_texts, fitted.heldout_labels
    current = DemandTextModel.objects.filter(is_current=True).first()
    previous_f1 = None
    if current is not None and heldout_labels:
        previous = textmodel.TextModel.loads(bytes(current.blob))
        previous_f1 = textmodel.score(heldout_labels, previous.predict_categories(heldout_texts)).macro_f1
    new_f1 = scores.macro_f1 if scores else 0.0
    promote = current is None or previous_f1 is None or new_f1 >= previous_f1
    if not promote:
        note = (note + " " if note else "") + _("Not promoted: macro-F1 %(new).3f is below the current version's %(old).3f on the same held-out split.") % {
            "new": new_f1, "old": previous_f1}
    with transaction.atomic():
        # One storing at a time (the nightly training and a command, or two workers): without the
        # lock both would unset the current version and insert theirs, and the second would break
        # the one-current constraint or take the same version number.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STORE_LOCK])
        if promote:
            DemandTextModel.objects.filter(is_current=True).update(is_current=False)
        version = (DemandTextModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        row = DemandTextModel.objects.create(
            version=version, source=data.source, trained_at=timezone.now(), training_size=fitted.training_size,
            heldout_size=len(heldout_labels), accuracy=scores.accuracy if scores else 0.0, macro_f1=new_f1,
            previous_macro_f1=previous_f1, lead_unit_size=fitted.lead_size,
            duration_ms=int((time.monotonic() - started) * 1000), is_current=promote, note=note[:300], blob=model.dumps(),
        )
    if promote:
        transaction.on_commit(lambda: cache.set(CURRENT_KEY, row.pk, None))
    log.info("demand text model v%s (%s): %s rows, macro-F1 %.3f, promoted=%s", version, data.source, fitted.training_size, new_f1, promote)
    return row


# --- The current model in this process --------------------------------------------------------------------------
_loaded: dict = {"pk": None, "row": None, "model": None, "categories": None, "categories_stamp": None}
_lock = threading.Lock()
# The shared cache says which version is current and when the categories last changed, so that a
# suggestion costs no database query for them (each process keeps the unpickled model).
CURRENT_KEY = "demands:text-model:current"
CATEGORIES_KEY = "demands:categories:changed"
# Stored as the current version when no model can be trained (fewer than two categories).
NO_MODEL = 0
NO_MODEL_SECONDS = 300


def forget_loaded() -> None:
    """Forget what this process keeps (tests: it belongs to another database)."""
    _loaded.update(pk=None, row=None, model=None, categories=None, categories_stamp=None)


def current_model() -> tuple[DemandTextModel, textmodel.TextModel]:
    """The current version, unpickled once per process. A deployment without any version trains
    the cold-start one."""
    pk = cache.get(CURRENT_KEY)
    if pk == NO_MODEL:
        raise NoModel(_("The text model needs examples of at least two active categories."))
    if pk is None:
        pk = DemandTextModel.objects.filter(is_current=True).values_list("pk", flat=True).first()
        if pk is None:
            try:
                # Inside a request: the shipped corpus only (about a second). Training on a large
                # history takes up to a minute, so that is the worker's job, queued here.
                pk = train(note=_("First version, trained when a suggestion was first needed."), corpus_only=True).pk
                if classified_count() >= MIN_HISTORY:
                    from .tasks import train_demand_model

                    transaction.on_commit(lambda: train_demand_model.delay("first history version"))
            except IntegrityError:  # another process trained it at the same moment
                pk = DemandTextModel.objects.filter(is_current=True).values_list("pk", flat=True).first()
            except NoModel:
                # Not again on every page: until a category changes (or for NO_MODEL_SECONDS).
                cache.set(CURRENT_KEY, NO_MODEL, NO_MODEL_SECONDS)
                raise
        cache.set(CURRENT_KEY, pk, None)
    with _lock:
        if _loaded["pk"] != pk:
            row = DemandTextModel.objects.defer("blob").get(pk=pk)
            blob = DemandTextModel.objects.filter(pk=pk).values_list("blob", flat=True).get()
            _loaded.update(pk=pk, row=row, model=textmodel.TextModel.loads(bytes(blob)))
        return _loaded["row"], _loaded["model"]


def categories_changed(**kwargs) -> None:
    """Signal receiver (DemandCategory saved or deleted): suggestions read the categories again,
    and a deployment that had too few categories for a model tries again."""
    cache.set(CATEGORIES_KEY, time.time(), None)
    if cache.get(CURRENT_KEY) == NO_MODEL:
        cache.delete(CURRENT_KEY)


# --- Suggestions ---------------------------------------------------------------------------------------------------
@dataclass
class Suggestion:
    categories: list[tuple[DemandCategory, float]]  # best first
    urgency: str
    urgency_cues: list[str]
    tone: str
    tone_words: list[str]
    lead_unit: OrgUnit | None
    lead_unit_confidence: float | None
    model: DemandTextModel

    @property
    def category(self) -> DemandCategory | None:
        return self.categories[0][0] if self.categories else None

    @property
    def category_confidence(self) -> float:
        return self.categories[0][1] if self.categories else 0.0

    @property
    def urgency_label(self) -> str:
        return Urgency(self.urgency).label

    @property
    def tone_label(self) -> str:
        return TONE_LABELS[self.tone]

    @property
    def cold_start(self) -> bool:
        return self.model.source == TextModelSource.CORPUS

    def taken(self, *, category, urgency: str, lead_unit) -> dict:
        """What of this suggestion the human took: recorded on the acceptance event."""
        return {
            "model_version": self.model.version,
            "category": self.category.code if self.category else "",
            "category_confidence": round(self.category_confidence, 3),
            "urgency": self.urgency,
            "tone": self.tone,
            "lead_unit": self.lead_unit.code if self.lead_unit else "",
            "category_taken": bool(self.category and category and self.category.pk == category.pk),
            "urgency_taken": self.urgency == urgency,
            "lead_unit_taken": bool(self.lead_unit and lead_unit and self.lead_unit.pk == lead_unit.pk),
        }


def _tone_labels() -> dict[str, str]:
    from django.utils.translation import gettext_lazy

    return {
        textmodel.STRONG_NEGATIVE: gettext_lazy("strongly negative"),
        textmodel.NEGATIVE: gettext_lazy("negative"),
        textmodel.NEUTRAL: gettext_lazy("neutral"),
        textmodel.POSITIVE: gettext_lazy("positive"),
    }


TONE_LABELS = _tone_labels()


def _categories_by_code() -> dict[str, DemandCategory]:
    """The active categories, kept by the process until a category changes."""
    stamp = cache.get(CATEGORIES_KEY)
    if stamp is None:
        stamp = time.time()
        cache.set(CATEGORIES_KEY, stamp, None)
    if _loaded["categories"] is None or _loaded["categories_stamp"] != stamp:
        _loaded.update(categories={c.code: c for c in DemandCategory.objects.filter(is_active=True)}, categories_stamp=stamp)
    return _loaded["categories"]


def suggest(title: str, content: str = "", *, org_unit: OrgUnit | None = None, top: int = TOP_CATEGORIES) -> Suggestion:
    row, model = current_model()
    text = textmodel.text_of(title, content)
    plain = f"{title or ''}。{content or ''}"
    ranked = rank(model, [text], _categories_by_code(), top=top)[0]
    tone_code, _score, tone_words = textmodel.tone(plain)
    urgency_code, cues = textmodel.urgency(plain, tone_code)
    lead_unit = confidence = None
    if org_unit is not None:
        found = model.suggest_lead_unit(text, org_unit.code, ranked[0][0].code if ranked else None)
        if found:
            lead_unit = OrgUnit.objects.filter(code=found[0], is_active=True).first()
            confidence = found[1] if lead_unit else None
    # Each word once on the page (the tone counted every occurrence).
    return Suggestion(ranked, urgency_code, list(dict.fromkeys(cues)), tone_code, list(dict.fromkeys(tone_words)),
                      lead_unit, confidence, row)


def rank(model: textmodel.TextModel, texts: list[str], categories: dict[str, DemandCategory], *, top: int) -> list[list]:
    """For each text the `top` active categories with their probabilities, best first."""
    probabilities = model.rank_categories(texts)
    classes = model.categories
    result = []
    for row in probabilities:
        order = sorted(range(len(classes)), key=lambda i: -row[i])
        result.append([(categories[classes[i]], float(row[i])) for i in order if classes[i] in categories][:top])
    return result


def suggest_text(title: str, content: str = "") -> Suggestion | None:
    """A suggestion for a text being typed; None when it cannot be made."""
    try:
        return suggest(title, content)
    except NoModel:
        return None
    except Exception:  # a suggestion must never break the page it helps
        log.exception("demand suggestion failed for a typed text")
        return None


def suggest_for(demand: Demand) -> Suggestion | None:
    """The suggestion for a demand being accepted; None when it cannot be made."""
    try:
        return suggest(demand.title, demand.content, org_unit=demand.org_unit)
    except NoModel:
        return None
    except Exception:  # a suggestion must never break the page it helps
        log.exception("demand suggestion failed for %s", demand.pk)
        return None


# --- Files (classify_demands, evaluate_demand_model) ---------------------------------------------------------
def classify(rows: list[dict]) -> list[dict]:
    """id,title,content → id,category (label),category_confidence,urgency (code),tone."""
    _row, model = current_model()
    categories = _categories_by_code()
    texts = [textmodel.text_of(r.get("title", ""), r.get("content", "")) for r in rows]
    out = []
    for source, ranked in zip(rows, rank(model, texts, categories, top=1) if texts else []):
        plain = f"{source.get('title', '')}。{source.get('content', '')}"
        tone_code = textmodel.tone(plain)[0]
        best = ranked[0] if ranked else (None, 0.0)
        out.append({
            "id": source.get("id", ""), "category": best[0].name if best[0] else "",
            "category_confidence": f"{best[1]:.3f}", "urgency": textmodel.urgency(plain, tone_code)[0], "tone": tone_code,
        })
    return out


@dataclass
class Evaluation:
    category: textmodel.Scores
    urgency_accuracy: float | None
    tone_accuracy: float | None
    unknown_categories: list[str]


def evaluate(rows: list[dict], model: textmodel.TextModel | None = None) -> Evaluation:
    """Score `model` (default: the current one) on labelled rows (category by label or code)."""
    if model is None:
        _row, model = current_model()
    by_name = {c.name: c.code for c in DemandCategory.objects.all()}
    codes = set(by_name.values())
    truth, texts, unknown, urgency_hits, tone_hits = [], [], set(), [], []
    for r in rows:
        label = r.get("category", "")
        code = label if label in codes else by_name.get(label)
        if code is None:
            unknown.add(label)
            continue
        truth.append(code)
        texts.append(textmodel.text_of(r.get("title", ""), r.get("content", "")))
        plain = f"{r.get('title', '')}。{r.get('content', '')}"
        tone_code = textmodel.tone(plain)[0]
        if r.get("tone"):
            tone_hits.append(tone_code == r["tone"])
        if r.get("urgency"):
            urgency_hits.append(textmodel.urgency(plain, tone_code)[0] == r["urgency"])
    predicted = model.predict_categories(texts) if texts else []
    names = {code: name for name, code in by_name.items()}
    scores = textmodel.score([names.get(c, c) for c in truth], [names.get(c, c) for c in predicted])
    mean = lambda hits: sum(hits) / len(hits) if hits else None  # noqa: E731
    return Evaluation(scores, mean(urgency_hits), mean(tone_hits), sorted(unknown))


# --- What was suggested and taken ------------------------------------------------------------------------------
def record_suggestion(demand: Demand, suggestion: Suggestion, *, stage: str, category, urgency: str, lead_unit) -> DemandSuggestion:
    """Keep the suggestion of `stage` beside the human's choice (which is what the demand holds).
    Once per demand and stage: a second acceptance (after a reopen) replaces the record."""
    taken = suggestion.taken(category=category, urgency=urgency, lead_unit=lead_unit)
    row, _created = DemandSuggestion.objects.update_or_create(
        demand=demand, stage=stage,
        defaults={
            "model_version": suggestion.model.version, "category": suggestion.category,
            "category_confidence": round(suggestion.category_confidence, 3), "urgency": suggestion.urgency,
            "tone": suggestion.tone, "lead_unit": suggestion.lead_unit,
            "lead_unit_confidence": round(suggestion.lead_unit_confidence, 3) if suggestion.lead_unit_confidence is not None else None,
            "category_taken": taken["category_taken"], "urgency_taken": taken["urgency_taken"],
            "lead_unit_taken": taken["lead_unit_taken"] if suggestion.lead_unit is not None and lead_unit is not None else None,
            "recorded_at": timezone.now(),
        },
    )
    return row


def acceptance_rates() -> list[dict]:
    """Per stage: how many suggestions were recorded and the share of each part that was taken
    (the lead unit among those where one was suggested)."""
    rows = (DemandSuggestion.objects.values("stage").order_by("stage").annotate(
        n=Count("pk"),
        category=Avg(_share_of("category_taken")), urgency=Avg(_share_of("urgency_taken")),
        lead_unit=Avg(_share_of("lead_unit_taken")), lead_unit_n=Count("pk", filter=Q(lead_unit_taken__isnull=False)),
    ))
    labels = dict(SuggestionStage.choices)
    return [{**r, "label": labels.get(r["stage"], r["stage"])} for r in rows]


def _share_of(field_name: str):
    """1.0 when the boolean field is true, 0.0 when false, NULL when unknown (so Avg is the share)."""
    from django.db.models import Case, FloatField, Value, When

    return Case(When(**{field_name: True}, then=Value(1.0)), When(**{field_name: False}, then=Value(0.0)),
                default=None, output_field=FloatField())
