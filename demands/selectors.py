"""Reads for demands, mediation, visits and life events, always through the scope layer."""
from __future__ import annotations

import datetime
import operator
from functools import reduce

from django.contrib.postgres.search import TrigramSimilarity
from django.contrib.postgres.expressions import ArraySubquery
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Concat, JSONObject, NullIf, Trim
from django.utils import timezone

from portal.batch import bounded_counts
from portal.roles import has_permission
from portal.scope import scope_q, visible

from django.utils.translation import gettext as _

from members.models import OrgUnit
from portal.models import User

from .choices import OPEN_STATUSES, Channel, Status, Urgency
from .models import Demand, DemandCategory, DemandEvent, DemandUnitCount, LifeEvent, TitleBigrams
from .sla import DEADLINES, Thresholds, current_thresholds

SIMILAR_LIMIT = 5


def demand_list_queryset() -> QuerySet:
    return Demand.objects.select_related("category", "org_unit", "submitter", "handler", "handler__person", "lead_unit")


def ledger_size(user) -> int:
    """About how many demands the user's ledger holds: the sum of the maintained per-unit counts
    (DemandUnitCount) over the units of the user's scope. Demands the user submitted or handles
    outside those units are not added: the ledger says "about"."""
    return visible(DemandUnitCount.objects.all(), user, "demands.view").aggregate(n=Sum("n"))["n"] or 0


DUPLICATES_SHOWN = 20


def demand_detail_queryset() -> QuerySet:
    """A demand with what its page shows beside it, in the same query: the names of the
    cooperating units (`cooperating_unit_names`) and the demands merged into it (`duplicate_list`,
    dicts of pk, ref and title, the latest first)."""
    cooperating = (
        Demand.cooperating_units.through.objects.filter(demand=OuterRef("pk"))
        .order_by("orgunit__path").values("orgunit__name")
    )
    duplicates = (
        Demand.objects.filter(merged_into=OuterRef("pk")).order_by("-received_at", "-id")
        .values(json=JSONObject(pk="pk", ref="ref", title="title"))[:DUPLICATES_SHOWN]
    )
    from .models import DemandSuggestion

    suggestions = (
        DemandSuggestion.objects.filter(demand=OuterRef("pk")).order_by("recorded_at")
        .values(json=JSONObject(
            stage="stage", model_version="model_version", category="category__name", category_confidence="category_confidence",
            urgency="urgency", lead_unit="lead_unit__name", lead_unit_confidence="lead_unit_confidence",
            category_taken="category_taken", urgency_taken="urgency_taken", lead_unit_taken="lead_unit_taken",
        ))
    )
    # Not joined: the visit it came from and the demand it was merged into (a query each, only for
    # the demands that have one). Three more joins made PostgreSQL plan this one-row query for
    # 3.3 ms (ten tables, beyond join_collapse_limit) instead of 0.95 ms.
    return demand_list_queryset().annotate(
        cooperating_unit_names=ArraySubquery(cooperating), duplicate_list=ArraySubquery(duplicates),
        suggestion_list=ArraySubquery(suggestions),
    )


def with_manage_scope(queryset: QuerySet, user) -> QuerySet:
    """Annotates whether each demand is in `user`'s scope for managing demands (what
    services.in_manage_scope asks), so that a page showing one does not ask again."""
    if not has_permission(user, "demands.manage"):
        in_scope = Value(False)
    else:
        q = scope_q(Demand, user, "demands.manage")
        in_scope = Value(True) if q is None else Case(When(q, then=Value(True)), default=Value(False))
    return queryset.annotate(in_manage_scope=in_scope, manage_scope_user=Value(user.pk))


# --- Deadline conditions (the same ones the SLA sweep uses) ------------------------------------------
def open_q() -> Q:
    return Q(status__in=OPEN_STATUSES)


def _deadline_q(kind: str, lookup: str, moment: datetime.datetime) -> Q:
    """Deadline `kind` of sla.DEADLINES is not closed early and its due moment matches `lookup`."""
    _kind, due, closed_by = next(d for d in DEADLINES if d[0] == kind)
    return Q(**{f"{due}__{lookup}": moment}) & (Q(**{f"{closed_by}__isnull": True}) if closed_by else Q())


def open_deadline_q(kind: str, lookup: str, moment: datetime.datetime) -> Q:
    """An open demand whose deadline `kind` is still open and matches `lookup` `moment`."""
    return open_q() & _deadline_q(kind, lookup, moment)


def overdue_q(now: datetime.datetime, kind: str | None = None) -> Q:
    """The one definition of overdue (已超期), SQL form (sla.is_overdue is the Python form): an open
    deadline (of `kind`, or any) lies strictly before `now` — due exactly now is not yet overdue."""
    kinds = [k for k, _due, _closed in DEADLINES if kind is None or k == kind]
    return open_q() & reduce(operator.or_, (_deadline_q(k, "lt", now) for k in kinds))


def due_soon_q(limits: Thresholds) -> Q:
    now = limits.now
    within = Q(first_response_at__isnull=True, response_due_at__gte=now, response_due_at__lte=limits.response) | Q(
        resolution_due_at__gte=now, resolution_due_at__lte=limits.resolution
    )
    not_overdue = (Q(first_response_at__isnull=False) | Q(response_due_at__gte=now) | Q(response_due_at__isnull=True)) & (
        Q(resolution_due_at__gte=now) | Q(resolution_due_at__isnull=True)
    )
    return open_q() & within & not_overdue


# --- Work queues ---------------------------------------------------------------------------------------
QUEUES = ("pending", "todo", "due_soon", "overdue", "to_visit")


def queue(name: str, user, *, limits: Thresholds | None = None) -> QuerySet:
    """One work queue of `user`, most urgent first."""
    base = demand_list_queryset()
    if name == "pending":
        return visible(base.filter(status=Status.PENDING), user, "demands.manage").order_by("received_at", "id")
    if name == "todo":
        return base.filter(handler=user, status__in=(Status.ACCEPTED, Status.IN_PROGRESS)).order_by("resolution_due_at", "id")
    if name == "to_visit":
        return visible(base.filter(status=Status.RESOLVED), user, "demands.manage").order_by("resolved_at", "id")
    limits = limits or current_thresholds()
    if name == "due_soon":
        return visible(base.filter(due_soon_q(limits)), user, "demands.queue").order_by("resolution_due_at", "id")
    if name == "overdue":
        return visible(base.filter(overdue_q(limits.now)), user, "demands.queue").order_by("resolution_due_at", "id")
    raise KeyError(name)


def queue_permission(name: str) -> str:
    return {"pending": "demands.manage", "to_visit": "demands.manage", "todo": "demands.handle"}.get(name, "demands.queue")


QUEUE_COUNT_LIMIT = 999


def queue_counts(user, names=QUEUES, *, limits: Thresholds | None = None) -> dict[str, tuple[int, bool]]:
    """Bounded counts (never a full COUNT over a million rows) of the queues the user may open, in
    one query."""
    limits = limits or current_thresholds()
    return bounded_counts(queue_querysets(user, names, limits=limits), limit=QUEUE_COUNT_LIMIT)


def queue_querysets(user, names=QUEUES, *, limits: Thresholds) -> dict[str, QuerySet]:
    """The queues among `names` the user may open."""
    return {name: queue(name, user, limits=limits) for name in names if has_permission(user, queue_permission(name))}


# --- Demands -------------------------------------------------------------------------------------------
SIMILAR_WITHIN_DAYS = 365
SIMILAR_TIMEOUT_MS = 1500


def similar_demands(user, text: str, *, exclude_pk: int | None = None, limit: int = SIMILAR_LIMIT) -> list[Demand]:
    """Up to `limit` open demands of the last year in the user's scope that say much the same.

    Candidates come from one query: similar titles (pg_trgm `%`, the partial GIN index on open
    demands) or titles sharing a word of the text (jieba), which finds a duplicate worded
    differently (拖欠工资三个月 / 工资拖欠了三个月还没发). The candidates are then ranked by the
    cosine of the text model's TF-IDF vectors. A suggestion, never a reason to wait: the query
    gives up after SIMILAR_TIMEOUT_MS."""
    text = (text or "").strip()[:200]
    if len(text) < 2 or user is None or not user.is_authenticated:
        return []
    since = timezone.now() - datetime.timedelta(days=SIMILAR_WITHIN_DAYS)
    base = visible(Demand.objects.filter(open_q(), received_at__gte=since), user, "demands.view")
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    similar_title = Q(title__trigram_similar=text)
    words = _key_words(text)
    if words:
        # The bigram index finds the titles holding every two-character piece of a word (a title
        # containing 工资条 holds 工资 and 资条: far fewer rows than those holding 工资 alone);
        # LIKE keeps those that contain the word. PostgreSQL rechecks this condition row by row in
        # the order written: each LIKE first (cheap, and it implies its pieces), so the trigram
        # comparison is made only for the titles that share no word.
        shares_a_word = reduce(operator.or_, (
            Q(title__contains=w) & Q(title_bigrams__contains=TitleBigrams(Value(w))) for w in words))
        similar_title = shares_a_word | similar_title
    candidates = (
        base.alias(title_bigrams=TitleBigrams("title")).filter(similar_title)
        .annotate(similarity=TrigramSimilarity("title", text))
        .order_by("-similarity", "-received_at")
        .values_list("pk", "title", "received_at", "similarity", "ref", "status", "org_unit_id", "org_unit__name", named=True)
        [:SIMILAR_CANDIDATES]
    )
    found = rows_within(candidates, SIMILAR_TIMEOUT_MS) or []
    # The candidates are ranked as plain rows (two hundred whole demands cost 20 ms to load) that
    # carry what the lists of similar demands show: only the chosen become demands, no second query.
    by_pk = {row.pk: row for row in found}
    return [_shown_demand(by_pk[pk]) for pk in _by_text_similarity(text, found, limit)]


def _shown_demand(row) -> Demand:
    """A demand with what the lists of similar demands show (reference, title, status, date, unit
    name), as `.only()` would load it: any other field is read from the database if asked for."""
    demand = Demand.from_db(None, ["id", "ref", "title", "status", "received_at", "org_unit_id"],
                            [row.pk, row.ref, row.title, row.status, row.received_at, row.org_unit_id])
    demand.org_unit = OrgUnit.from_db(None, ["id", "name"], [row.org_unit_id, row.org_unit__name])
    return demand


# pg_trgm's default `%` threshold: a title this similar is shown whatever the text model says.
TRIGRAM_THRESHOLD = 0.3
# Candidates read at most this many demands (the most recent); the text model ranks them.
SIMILAR_CANDIDATES = 200
# Below this cosine a word candidate is not shown (sharing 宿舍 alone does not make a duplicate);
# set on the labelled paraphrases of textdata/duplicates.csv (0.3 found 55 %, 0.15 finds 90 %).
SIMILAR_MIN_COSINE = 0.15


def _key_words(text: str) -> list[str]:
    """The longer words of the text (jieba), longest first: 工资, 拖欠, 宿舍 — not 了, 的."""
    from . import textmodel

    return sorted({w for w in textmodel.words(text) if len(w) >= 2}, key=len, reverse=True)[:6]


def _by_text_similarity(text: str, candidates: list, limit: int) -> list[int]:
    """The ids of the `limit` best candidates (rows of pk, title, received_at and trigram
    similarity), best first."""
    from . import text_services, textmodel

    if not candidates:
        return []
    try:
        _row, model = text_services.current_model()
    except text_services.NoModel:
        return [c.pk for c in candidates[:limit]]
    # Each distinct title once: open demands often share a title word for word (a ward's several
    # 宿舍空调需要维修), and vectorising is most of this function's cost.
    titles = list(dict.fromkeys(c.title for c in candidates))
    vectors = model.remembered_vectors([textmodel.text_of(text)] + [textmodel.text_of(title) for title in titles])
    score_of = dict(zip(titles, (vectors[1:] @ vectors[0].T).toarray().ravel()))
    ranked = sorted(candidates, key=lambda c: (-score_of[c.title], -c.received_at.timestamp()))
    return [c.pk for c in ranked if score_of[c.title] >= SIMILAR_MIN_COSINE or c.similarity >= TRIGRAM_THRESHOLD][:limit]


def rows_within(queryset, milliseconds: int) -> list | None:
    """The rows of `queryset`, or None when the query takes longer than `milliseconds`. The timeout
    is local to a transaction: the one opened here, or — when the caller is inside one already — a
    savepoint rolled back afterwards, which also undoes the setting and leaves the caller's
    transaction usable after a timeout."""

    set_timeout = "SELECT set_config('statement_timeout', %s, true)"
    if not connection.in_atomic_block:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(set_timeout, [str(milliseconds)])
                return list(queryset)
        except DatabaseError:
            return None
    savepoint = transaction.savepoint()
    try:
        with connection.cursor() as cursor:
            cursor.execute(set_timeout, [str(milliseconds)])
        return list(queryset)
    except DatabaseError:
        return None
    finally:
        transaction.savepoint_rollback(savepoint)


def demand_events(demand: Demand) -> list[DemandEvent]:
    """The timeline with a readable summary of each event's data (`event.summary`), resolving
    unit codes, category codes and usernames in one query."""
    events = list(
        DemandEvent.objects.filter(demand=demand).select_related("actor", "actor__person").prefetch_related("attachments").order_by("seq")
    )
    units, users, categories = set(), set(), set()
    for event in events:
        data = event.data or {}
        units.update(c for c in [data.get("lead_unit"), data.get("to_unit"), data.get("org_unit"), *data.get("cooperating_units", [])] if c)
        if data.get("handler"):
            users.add(data["handler"])
        if data.get("category"):
            categories.add(data["category"])
    unit_names, user_names, category_names = _names(units, users, categories)
    from .workflow import EVENT_LABELS

    for event in events:
        event.summary = _summary(event.data or {}, unit_names, user_names, category_names)
        event.label = EVENT_LABELS.get(event.action, event.action)
        event.to_label = Status(event.to_status).label if event.to_status in Status.values else ""
    return events


def _names(units: set, users: set, categories: set) -> tuple[dict, dict, dict]:
    """({unit code: name}, {username: display name}, {category code: name}) in one query."""
    parts = []
    if units:
        parts.append(OrgUnit.objects.filter(code__in=units).annotate(name_key=F("code"), name_label=F("name")))
    if users:
        # User.display_name: the person's name, else the full name, else the username.
        full_name = NullIf(Trim(Concat("first_name", Value(" "), "last_name")), Value(""))
        parts.append(User.objects.filter(username__in=users).annotate(
            name_key=F("username"), name_label=Coalesce("person__name", full_name, "username")))
    if categories:
        parts.append(DemandCategory.objects.filter(code__in=categories).annotate(name_key=F("code"), name_label=F("name")))
    if not parts:
        return {}, {}, {}
    kinds = [m for m, wanted in ((OrgUnit, units), (User, users), (DemandCategory, categories)) if wanted]
    rows = [
        part.annotate(name_kind=Value(index)).order_by().values_list("name_kind", "name_key", "name_label")
        for index, part in enumerate(parts)
    ]
    names = {model: {} for model in (OrgUnit, User, DemandCategory)}
    for kind, key, label in rows[0].union(*rows[1:], all=True):
        names[kinds[kind]][key] = label
    return names[OrgUnit], names[User], names[DemandCategory]


def _summary(data: dict, units: dict, users: dict, categories: dict) -> list[tuple[str, str]]:
    labels = dict(Urgency.choices) | dict(Channel.choices) | dict(Status.choices)
    out = []
    if "category" in data:
        out.append((_("category"), categories.get(data["category"], data["category"])))
    if "urgency" in data:
        out.append((_("urgency"), labels.get(data["urgency"], data["urgency"])))
    if "channel" in data:
        out.append((_("channel"), labels.get(data["channel"], data["channel"])))
    if data.get("lead_unit"):
        out.append((_("lead unit"), units.get(data["lead_unit"], data["lead_unit"])))
    if data.get("cooperating_units"):
        out.append((_("cooperating units"), "、".join(units.get(c, c) for c in data["cooperating_units"])))
    if data.get("handler"):
        out.append((_("handler"), users.get(data["handler"], data["handler"])))
    if data.get("rating") is not None and "rating" in data:
        out.append((_("rating"), "★" * int(data["rating"])))
    if data.get("into"):
        out.append((_("merged into"), data["into"]))
    if data.get("duplicate"):
        out.append((_("duplicate"), data["duplicate"]))
    if data.get("deadline"):
        out.append((_("deadline"), _("response") if data["deadline"] == "response" else _("resolution")))
    if "to_unit" in data:
        out.append((_("escalated to"), units.get(data["to_unit"], data["to_unit"]) or "—"))
    if data.get("visit"):
        out.append((_("from visit"), data["visit"]))
    if data.get("suggestion"):
        # A part the model did not suggest (no lead unit, say) is neither taken nor declined.
        taken = [t for part in ("category", "urgency", "lead_unit")
                 if (t := data["suggestion"].get(f"{part}_taken")) is not None]
        out.append((_("suggestion"), _("taken") if taken and all(taken) else _("partly taken") if any(taken) else _("not taken")))
    if data.get("changed"):
        out.append((_("changed"), "、".join(data["changed"])))
    if data.get("calendar_years"):
        out.append((_("official calendar"), "、".join(str(y) for y in data["calendar_years"])))
    for key, label in (("response_due_at", _("response due")), ("resolution_due_at", _("resolution due"))):
        if isinstance(data.get(key), dict):
            out.append((label, " → ".join(_local_minute(data[key][end]) for end in ("from", "to"))))
    return out


def _local_minute(iso: str | None) -> str:
    return timezone.localtime(datetime.datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M") if iso else "—"


def my_demands(user) -> QuerySet:
    if not user.person_id:
        return Demand.objects.none()
    return demand_list_queryset().filter(submitter_id=user.person_id)


# --- Life events and visits ----------------------------------------------------------------------------
def not_visited_q() -> Q:
    """Life events nobody has visited yet (五必访 still to do): LifeEvent.visited_on, which the
    trigger on the visits keeps, is empty."""
    return Q(visited_on__isnull=True)


def due_visits(user, *, today: datetime.date | None = None) -> QuerySet:
    """Life events in scope without a visit yet, earliest deadline first (五必访)."""
    queryset = LifeEvent.objects.select_related("person", "person__org_unit").filter(not_visited_q())
    return visible(queryset, user, "lifeevents.view").order_by("visit_due_on", "id")


def hot_topics_of(unit, period: str, user) -> list:
    """The hot topics stored for a unit and month (the monthly report), if the user may see them."""
    from .models import HotTopic

    return list(visible(HotTopic.objects.filter(org_unit=unit, period=period), user, "demands.queue").order_by("rank"))


def demand_page(user, demand: Demand, facts) -> dict:
    """What the demand page reads besides its workflow steps: the timeline (and whether its hash
    chain holds), the similar open demands in scope for those who manage it, the duplicates merged
    into it, its mediations, and the tracking code for those who manage or submitted it."""
    from . import chain
    from .services import format_tracking_code

    similar = similar_demands(user, demand.title, exclude_pk=demand.pk) if facts.in_scope and demand.is_open else []
    events = demand_events(demand)
    return {
        "demand": demand,
        "events": events,
        "chain_break": chain.check_loaded(demand, events),
        "similar": similar,
        "duplicates": getattr(demand, "duplicate_list", None) or [],
        "mediations": list(visible(demand.mediations.all(), user, "mediation.view")[:10]) if has_permission(user, "mediation.view") else [],
        "show_tracking_code": facts.in_scope or facts.is_submitter,
        "tracking_code": format_tracking_code(demand.tracking_code or ""),
        "can_mediate": has_permission(user, "mediation.change") and facts.in_scope,
        "title": str(demand),
        # What the text model suggested at intake and acceptance, and what was taken (staff in scope only).
        "recorded_suggestions": recorded_suggestions(demand) if facts.in_scope else [],
    }


def track_page(code: str) -> dict | None:
    """The public tracking page of a tracking code: the status and the dates of the steps, never
    names or texts, and the rating link of an anonymous resolved demand; None for an unknown code."""
    from . import workflow
    from .services import normalize_tracking_code, rating_url

    code = normalize_tracking_code(code)
    demand = Demand.objects.filter(tracking_code=code).select_related("category").first() if code else None
    if demand is None:
        return None
    steps = list(demand.events.order_by("seq").values_list("action", "to_status", "at"))
    return dict(
        demand=demand, steps=[(workflow.EVENT_LABELS.get(a, a), at) for a, _to, at in steps],
        rating_url=rating_url(demand) if demand.status == Status.RESOLVED and demand.rating_nonce
        and demand.submitter_id is None else "",
    )


def priority_page(user, permission: str, *, shown: int) -> dict:
    """The service priority list page: the stored list in scope (priority_list) and the factors
    of the stated formula with their weights."""
    from . import priority
    from .models import PriorityWeights

    weights = PriorityWeights.load()
    return dict(
        **priority_list(user, permission, shown=shown),
        factors=[(name, label, rule, getattr(weights, name)) for name, label, rule in priority.FACTORS],
        weight_sum=sum(getattr(weights, name) for name, *_rest in priority.FACTORS),
    )


def sla_overview(today: datetime.date, weeks: int = 8) -> dict:
    """The SLA policies in force, the policy of each active category and urgency, and the work
    calendar of the coming `weeks` from this Monday with its overrides."""
    from . import calendar
    from .models import SlaPolicy, WorkCalendarDay
    from .sla import Sla
    from .workcalendar import calendar_status

    sla = Sla.load()
    start = today - datetime.timedelta(days=today.weekday())
    days = [start + datetime.timedelta(days=i) for i in range(7 * weeks)]
    overrides = dict(WorkCalendarDay.objects.filter(date__in=days).values_list("date", "note"))
    return dict(
        policies=SlaPolicy.objects.select_related("category"),
        rows=[(c, [(u, sla.policy(c.pk, u)) for u in Urgency.values]) for c in DemandCategory.objects.filter(is_active=True)],
        urgencies=Urgency.choices,
        weeks=[[(d, calendar.is_workday(d, sla.overrides), d in overrides, overrides.get(d, "")) for d in days[w * 7:(w + 1) * 7]] for w in range(weeks)],
        today=today,
        official_last_year=calendar.OFFICIAL_LAST_YEAR,
        calendar_state=calendar_status(today),
        unconfirmed_open=Demand.objects.filter(status__in=OPEN_STATUSES, deadline_unconfirmed=True).count(),
        periods=calendar.WORK_PERIODS,
    )


def handlers_for_unit(accounts, user, unit_id: str):
    """The handler accounts for an assignment picker: the user and the accounts that may act on
    the chosen lead unit (?unit=, any active unit) first, then by username."""
    from django.db.models import BooleanField, ExpressionWrapper

    from portal.recipients import ACTING, acting_on_q

    queryset = accounts.order_by("username")
    unit = OrgUnit.objects.filter(pk=unit_id, is_active=True).first() if unit_id.isdigit() else None
    first = Q(pk=user.pk) | (acting_on_q(unit, ACTING) if unit is not None else Q(pk__in=[]))
    return queryset.annotate(first=ExpressionWrapper(first, output_field=BooleanField())).order_by("-first", "username")


def colleagues_for_unit(user, unit_id: str):
    """People for the pickers of a record's colleagues (portal.recipients.pickable_people) for the
    record's unit (?unit=, in the user's scope), the user first: picking oneself is the most
    common choice."""
    from django.db.models import BooleanField, ExpressionWrapper

    from portal.recipients import pickable_people

    unit = visible(OrgUnit.objects.all(), user, "orgunits.view").filter(pk=unit_id).first() if unit_id.isdigit() else None
    queryset = pickable_people(user, unit).select_related("org_unit")
    if user.person_id:
        is_me = ExpressionWrapper(Q(pk=user.person_id), output_field=BooleanField())
        return queryset.annotate(is_me=is_me).order_by("-is_me", "employee_no")
    return queryset.order_by("employee_no")


# --- Stored results of the beat: the service priority list, the heat map ------------------------------
def priority_list(user, permission: str, *, shown: int) -> dict:
    """The stored service priority list (DemandPriority) of the open demands in the user's scope:
    the first `shown` by score, how many open demands the scope holds, how many of them were
    ranked, and when the list was computed."""
    from .models import DemandPriority
    from .priority import Ranked, open_demands

    scoped = visible(open_demands(), user, permission)
    rows = list(
        scoped.filter(priority__isnull=False).select_related("priority", "category", "org_unit")
        .order_by("-priority__score", "resolution_due_at", "pk")[:shown]
    )
    ranked = [Ranked(d, d.priority.score, d.priority.factors, d.priority.tone, d.priority.repeats, d.priority.vulnerable)
              for d in rows]
    computed_at = DemandPriority.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    return {"ranked": ranked, "total": scoped.count(), "considered": scoped.filter(priority__isnull=False).count(),
            "computed_at": computed_at}


def recorded_suggestions(demand: Demand) -> list[dict]:
    """The text model's suggestions recorded for the demand (intake, acceptance), oldest first, as
    dicts with the stage's and urgency's labels: from the detail query's `suggestion_list` when the
    demand came from it, else read."""
    from .models import SuggestionStage

    rows = getattr(demand, "suggestion_list", None)
    if rows is None:
        rows = demand_detail_queryset().filter(pk=demand.pk).values_list("suggestion_list", flat=True).first() or []
    stages, urgencies = dict(SuggestionStage.choices), dict(Urgency.choices)
    return [{**r, "stage_label": stages.get(r["stage"], r["stage"]), "urgency_label": urgencies.get(r["urgency"], r["urgency"])}
            for r in rows]


def visit_page(user, visit) -> dict:
    """What a visit's page reads: its photos, the demands raised from it in the user's scope, and
    its hardship household for those who may see the hardship register."""
    from members.models import HardshipHousehold

    household = None
    if visit.hardship_household_id and visible(
            HardshipHousehold.objects.filter(pk=visit.hardship_household_id), user, "hardship.view").exists():
        household = visit.hardship_household
    return {
        "photos": list(visit.photos.all()),
        "demands": list(visible(visit.demands.select_related("category"), user, "demands.view")[:20]),
        "hardship_household": household,
        "title": str(visit),
    }
