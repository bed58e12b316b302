"""Text intelligence on demands, offline: jieba words + character n-grams → TF-IDF → logistic
regression for the category; the lead unit counted per demand's unit and category; tone from the
sentiment lexicon shipped in demands/textdata; urgency from tone and cue words (safety, health,
wage arrears, distress).

Pure functions over plain data: the database side (which demands train, storing versions,
promotion) is in demands/text_services.py and DemandTextModel. Nothing here touches the network.
"""
from __future__ import annotations

import csv
import io
import logging
import pickle
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import jieba
import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

jieba.setLogLevel(logging.WARNING)

DATA_DIR = Path(__file__).resolve().parent / "textdata"
CORPUS_FILE = DATA_DIR / "corpus.csv"
HELDOUT_FILE = DATA_DIR / "heldout.csv"

HELDOUT_SHARE = 0.2
SEED = 2026

STRONG_NEGATIVE, NEGATIVE, NEUTRAL, POSITIVE = "strong_negative", "negative", "neutral", "positive"
TONES = (STRONG_NEGATIVE, NEGATIVE, NEUTRAL, POSITIVE)


# --- Text representation ------------------------------------------------------------------------
def text_of(title: str, content: str = "") -> str:
    """The text a model reads: the title counts twice (it is the gist; contents often repeat
    boilerplate such as 请相关部门研究解决)."""
    title, content = (title or "").strip(), (content or "").strip()
    return f"{title}。{title}。{content}" if content else f"{title}。{title}"


def words(text: str) -> list[str]:
    """jieba words without punctuation and spaces. Segmented sentence by sentence (jieba splits at
    punctuation anyway), each sentence once: the title that text_of repeats and the boilerplate
    sentences many demands share are not segmented again, which is most of the training time."""
    return [w for sentence in text.split("。") if sentence for w in _sentence_words(sentence)]


@lru_cache(maxsize=200_000)
def _sentence_words(sentence: str) -> tuple[str, ...]:
    return tuple(w for w in jieba.lcut(sentence) if w.strip() and not _is_punctuation(w))


def _is_punctuation(word: str) -> bool:
    return all(not ch.isalnum() for ch in word)


def features() -> FeatureUnion:
    """Words catch vocabulary (工资, 宿舍); character 1–3-grams catch what segmentation splits
    differently in short texts (夜班费 / 夜班津贴)."""
    return FeatureUnion([
        ("words", TfidfVectorizer(tokenizer=words, token_pattern=None, lowercase=False, ngram_range=(1, 2),
                                  sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=1)),
    ])


def classifier() -> LogisticRegression:
    # Probabilities are needed (ranked categories with confidence); balanced weights so that a
    # rare category is not drowned by the frequent ones (macro-F1 is the yardstick).
    return LogisticRegression(C=20, max_iter=2000, class_weight="balanced")


def category_pipeline() -> Pipeline:
    return Pipeline([("features", features()), ("classifier", classifier())])


@dataclass
class LeadUnits:
    """Which unit finally led demands of a category asked in a unit, counted over the finished
    demands: the lead unit depends on what is asked (the category) and where (the demand's unit).
    A logistic regression over text and unit learned the same, but a deployment has hundreds of
    lead units, and one class per unit made training take many minutes on 100,000 demands;
    counting takes a second. A pair seen fewer than MIN_SEEN times falls back to the unit alone,
    then to the category alone."""

    by_pair: dict[tuple[str, str], Counter]
    by_unit: dict[str, Counter]
    by_category: dict[str, Counter]

    MIN_SEEN = 2

    @classmethod
    def count(cls, categories: list[str], units: list[str], leads: list[str]) -> LeadUnits:
        by_pair, by_unit, by_category = defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)
        for category, unit, lead in zip(categories, units, leads):
            by_pair[(unit, category)][lead] += 1
            by_unit[unit][lead] += 1
            by_category[category][lead] += 1
        return cls(dict(by_pair), dict(by_unit), dict(by_category))

    def suggest(self, unit: str, category: str) -> tuple[str, float] | None:
        for counts in (self.by_pair.get((unit, category)), self.by_unit.get(unit), self.by_category.get(category)):
            if counts and sum(counts.values()) >= self.MIN_SEEN:
                lead, n = counts.most_common(1)[0]
                return lead, n / sum(counts.values())
        return None


# --- Tone and urgency -------------------------------------------------------------------------------
def _read_lexicon(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, value = line.split("\t")[:2]
            entries[word.strip()] = value.strip()
    return entries


@cache
def sentiment_lexicon() -> dict[str, int]:
    return {word: int(weight) for word, weight in _read_lexicon(DATA_DIR / "sentiment.txt").items()}


@cache
def urgency_cues() -> dict[str, str]:
    return _read_lexicon(DATA_DIR / "urgency_cues.txt")


def _hits(text: str, lexicon: dict) -> list[str]:
    """Longest-match scan, so 不满意 counts once as itself and not as 满意."""
    longest = max(map(len, lexicon), default=0)
    found, i = [], 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            if text[i:i + size] in lexicon:
                found.append(text[i:i + size])
                i += size
                break
        else:
            i += 1
    return found


def tone(text: str) -> tuple[str, int, list[str]]:
    """(tone, score, the words that decided it). Any strongly negative word (weight −3) makes the
    tone 负面强烈, whatever else is said."""
    lexicon = sentiment_lexicon()
    hits = _hits(text, lexicon)
    score = sum(lexicon[w] for w in hits)
    if any(lexicon[w] <= -3 for w in hits) or score <= -5:
        return STRONG_NEGATIVE, score, hits
    if score < 0:
        return NEGATIVE, score, hits
    if score > 0:
        return POSITIVE, score, hits
    return NEUTRAL, score, hits


# A proposal (金点子-like) rather than a complaint; 希望/能否 often introduce complaints too.
SUGGESTION_WORDS = ("建议", "提议")


def urgency(text: str, tone_code: str) -> tuple[str, list[str]]:
    """(urgency code, the cues that raised it). Safety, health, wage arrears or distress cues and
    a strongly negative tone → urgent; a suggestion without any complaint → low; else normal."""
    cues = _hits(text, urgency_cues())
    if cues or tone_code == STRONG_NEGATIVE:
        return "urgent", cues
    if tone_code in (NEUTRAL, POSITIVE) and any(w in text for w in SUGGESTION_WORDS) or tone_code == POSITIVE:
        return "low", []
    return "normal", []


# --- Training, evaluation, suggestion -------------------------------------------------------------------
@dataclass
class Scores:
    accuracy: float
    macro_f1: float
    size: int
    per_class: list[tuple[str, float, float, float, int]] = field(default_factory=list)  # label, P, R, F1, support


def score(truth: list[str], predicted: list[str]) -> Scores:
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return Scores(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)),
        size=len(truth),
        per_class=[(label, float(p), float(r), float(f), int(s)) for label, p, r, f, s in zip(labels, precision, recall, f1, support)],
    )


def split(rows: list, labels: list[str], share: float = HELDOUT_SHARE, seed: int = SEED) -> tuple[list[int], list[int]]:
    """Stratified train / held-out indices: each label keeps ~share of its rows apart (at least one
    when it has two or more), so that a rare category is scored too."""
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    rng = random.Random(seed)
    train, heldout = [], []
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        n = round(len(indices) * share) if len(indices) >= 2 else 0
        n = max(n, 1) if len(indices) >= 2 else 0
        heldout += indices[:n]
        train += indices[n:]
    return sorted(train), sorted(heldout)


# Texts whose vectors a loaded version remembers (TextModel.remembered_vectors): about 2 kB each.
VECTOR_MEMO_SIZE = 5_000


@dataclass
class TextModel:
    """What is stored (pickled) for one version: the two pipelines and how labels read."""

    category: Pipeline
    lead_unit: LeadUnits | None = None

    @property
    def categories(self) -> list[str]:
        return list(self.category.classes_)

    def rank_categories(self, texts: list[str]) -> np.ndarray:
        return self.category.predict_proba(texts)

    def predict_categories(self, texts: list[str]) -> list[str]:
        return list(self.category.predict(texts))

    def suggest_lead_unit(self, text: str, unit: str, category: str | None = None) -> tuple[str, float] | None:
        """(lead unit code, the share of such demands it led) for a text asked in `unit`; the
        category is the model's reading of the text unless given."""
        # A version stored before lead units were counted holds a regression here: it suggests no
        # lead unit until the nightly retrain replaces it.
        if not isinstance(self.lead_unit, LeadUnits) or not unit:
            return None
        return self.lead_unit.suggest(unit, category or self.predict_categories([text])[0])

    def vectors(self, texts: list[str]):
        """Unit-length TF-IDF vectors of the texts (words and character n-grams, the category
        model's vocabulary): the dot product of two is their cosine similarity."""
        return self.category.named_steps["features"].transform(texts) * (0.5 ** 0.5)

    def remembered_vectors(self, texts: list[str]):
        """vectors(texts), each text's row remembered by this loaded version: the similar-demand
        search ranks the same open titles against each demand opened, and a text's vector under
        one version never changes. Bounded: past VECTOR_MEMO_SIZE texts it starts again."""
        memo = self.__dict__.setdefault("_vector_memo", {})
        rows = {text: row for text in dict.fromkeys(texts) if (row := memo.get(text)) is not None}
        missing = [text for text in dict.fromkeys(texts) if text not in rows]
        if missing:
            if len(memo) + len(missing) > VECTOR_MEMO_SIZE:
                memo.clear()
            computed = self.vectors(missing)
            for index, text in enumerate(missing):
                rows[text] = computed[index]
                if len(memo) < VECTOR_MEMO_SIZE:
                    memo[text] = rows[text]
        return scipy.sparse.vstack([rows[text] for text in texts], format="csr")

    def __getstate__(self) -> dict:
        # What is stored is the model, never what one process remembered while using it.
        return {name: value for name, value in self.__dict__.items() if name != "_vector_memo"}

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(blob: bytes) -> TextModel:
        # Only blobs this portal wrote itself are ever loaded (DemandTextModel rows, written by
        # the training service); never load a blob from an upload.
        return pickle.loads(blob)  # noqa: S301


def fit(texts: list[str], labels: list[str], *, lead: tuple[list[str], list[str], list[str]] | None = None) -> TextModel:
    """Train on everything given. `lead` = (categories, units, lead units) of demands resolved
    with a lead unit; without two distinct lead units no lead-unit suggestion is made."""
    # One BLAS thread: on a small shared machine more threads fight each other and lbfgs
    # becomes ten times slower (measured: 4.6 s instead of 0.3 s on the corpus).
    with threadpool_limits(limits=1):
        category = category_pipeline().fit(texts, labels)
        lead_model = None
        if lead is not None and len(set(lead[2])) >= 2:
            lead_model = LeadUnits.count(*lead)
    return TextModel(category=category, lead_unit=lead_model)


# --- The corpus files ------------------------------------------------------------------------------------------
def read_labelled_csv(data: str | bytes | Path) -> list[dict[str, str]]:
    """Rows of a labelled CSV (title, content, category[, urgency, tone]); UTF-8 with or without BOM."""
    if isinstance(data, Path):
        data = data.read_bytes()
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(io.StringIO(data.lstrip("\ufeff")))]


def corpus_rows() -> list[dict[str, str]]:
    """The cold-start corpus shipped with the portal (category by code)."""
    return read_labelled_csv(CORPUS_FILE)


def heldout_rows() -> list[dict[str, str]]:
    """The evaluation set (category by its Chinese label). Kept apart from the corpus and from
    any deployment's history: nothing is ever trained on it."""
    return read_labelled_csv(HELDOUT_FILE)
