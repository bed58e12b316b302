"""Demands (诉求) with their whole timeline, mediation cases, life events and visits, made in
Python from seeded random streams and written with COPY.

Each demand lives the life demands/workflow.py allows — submitted, accepted, answered, perhaps
transferred, resolved, visited again or rated, closed, reopened after a poor rating, withdrawn,
not accepted — with the SLA deadlines of demands/sla.py; steps that would fall after `until` have
not happened yet, so recent demands are still open. Deadlines that passed while the demand was
open carry the escalation (督办) the SLA sweep would have recorded. Every step is a DemandEvent
sealed exactly as demands/chain.py seals it, and the demand's chain_head is the last hash.
"""
from __future__ import annotations

import bisect
import datetime
import hashlib
import json
import math

from demands import chain
from demands.choices import OPEN_STATUSES
from demands.models import (
    Demand,
    DemandCategory,
    DemandEvent,
    LifeEvent,
    MediationCase,
    RefCounter,
    Visit,
)
from demands.services import TRACKING_ALPHABET
from demands.sla import Sla
from ..copypump import CopyPump

from . import texts
from .bulk import (
    NULL,
    UTC,
    Clock,
    Writer,
    allocate_ids,
    jtext,
    local_midnight,
    opt,
    text,
)
from .org import Account, Org
from .plan import Plan

CATEGORY_WEIGHTS = {"salary": 15, "welfare": 14, "environment": 12, "career": 10, "medical": 9, "housing": 8,
                    "job_change": 8, "mental_health": 5, "labour_dispute": 5, "other": 14}
# The functional department that leads a category's demands when the group company handles them.
CATEGORY_DEPARTMENT = {"salary": "RLB", "job_change": "RLB", "career": "RLB", "housing": "HQ", "environment": "HQ",
                       "welfare": "GHB", "medical": "GHB", "labour_dispute": "GHB", "mental_health": "DQB", "other": "DQB"}
URGENCIES = ["urgent"] * 10 + ["normal"] * 75 + ["low"] * 15
CHANNELS = ["self_service"] * 35 + ["staff_entry"] * 25 + ["hotline"] * 12 + ["visit"] * 10 + ["golden_idea"] * 7 \
    + ["congress_proposal"] * 5 + ["petition"] * 3 + ["anonymous"] * 3
STUCK = (0.07, 0.076)  # the share of demands accepted and then left lying (open, overdue)
RATINGS = [5] * 55 + [4] * 28 + [3] * 9 + [2] * 5 + [1] * 3
OPEN = set(OPEN_STATUSES)
# Tracking codes: a bijection of the demand id onto the 32^12 codes (scrambled, never repeated).
TRACKING_CODES, TRACKING_MULTIPLIER, TRACKING_OFFSET = 32 ** 12, 25_214_903_917, 11_400_714_819_323_198_485 % 32 ** 12
QUOTE, QUOTES = '"', '""'
HOUR, DAY = 3600, 86400

DEMAND_COLUMNS = [
    "id", "ref", "title", "content", "category_id", "urgency", "channel", "service_group", "org_unit_id", "submitter_id",
    "status", "received_at", "response_due_at", "first_response_at", "resolution_due_at", "resolved_at", "return_visit_at",
    "rating", "rating_comment", "resolution", "lead_unit_id", "handler_id", "visit_id", "merged_into_id", "tracking_code",
    "rating_nonce", "rating_link_issued_at", "response_flag", "resolution_flag", "escalated_at", "chain_head",
    "created_by_id", "created_at", "updated_at",
]
EVENT_COLUMNS = ["demand_id", "seq", "action", "from_status", "to_status", "actor_id", "actor_label", "at", "note", "data",
                 "prev_hash", "hash"]
# The canonical JSON of demands/chain.py (sorted keys, no spaces), filled with JSON literals.
CANONICAL = ('{"action":%s,"actor_id":%s,"actor_label":%s,"at":"%s","data":%s,"demand_id":%d,"from_status":%s,'
             '"note":%s,"seq":%d,"to_status":%s}')


class RefNumbers:
    """References in the portal's own format (SQ2025-000123), numbered per year after the ones
    already taken; `save()` moves RefCounter past them so the portal's next_ref() goes on from there."""

    def __init__(self, prefix: str, model):
        self.prefix, self.model = prefix, model
        self.last: dict[int, int] = dict(RefCounter.objects.filter(prefix=prefix).values_list("year", "value"))
        pattern = f"^{prefix}[0-9]{{4}}-[0-9]+$"
        for ref in model.objects.filter(ref__regex=pattern).values_list("ref", flat=True).iterator():
            year, number = int(ref[len(prefix):len(prefix) + 4]), int(ref[len(prefix) + 5:])
            self.last[year] = max(self.last.get(year, 0), number)

    def next(self, year: int) -> str:
        value = self.last[year] = self.last.get(year, 0) + 1
        return f"{self.prefix}{year}-{value:06d}"

    def save(self) -> None:
        for year, value in self.last.items():
            counter, _created = RefCounter.objects.get_or_create(prefix=self.prefix, year=year)
            if counter.value < value:
                RefCounter.objects.filter(pk=counter.pk).update(value=value)


def _weighted(pool: dict[str, int], present: list[str]) -> list[str]:
    return [code for code in present for _ in range(pool.get(code, 5))]


class DemandMaker:
    def __init__(self, plan: Plan, org: Org):
        self.plan, self.org = plan, org
        self.rng = plan.rng("demands")
        self.clock = Clock()
        self.categories = list(DemandCategory.objects.filter(is_active=True).values_list("pk", "code"))
        if not self.categories:
            raise ValueError("No demand category: migrate the demands app first.")
        self.category_code = dict(self.categories)
        codes = [code for _pk, code in self.categories]
        code_pk = {code: pk for pk, code in self.categories}
        self.category_pool = [code_pk[c] for c in _weighted(CATEGORY_WEIGHTS, codes)]
        self.category_index = {pk: i for i, (pk, _code) in enumerate(self.categories)}
        self.sla = Sla.load()
        self.sla.prepare(plan.start - datetime.timedelta(days=1), plan.until + datetime.timedelta(days=1))
        self.literal: dict[str, str] = {}
        root_codes = [org.code[d].rsplit("-", 1)[1] for d in org.root_departments]
        self.category_root_department = {}
        for pk, code in self.categories:
            wanted = CATEGORY_DEPARTMENT.get(code, "DQB")
            index = root_codes.index(wanted) if wanted in root_codes else self.category_index[pk] % len(root_codes)
            self.category_root_department[pk] = org.root_departments[index]
        self.gb_departments: dict[int, list[int]] = {}
        for d, gb in zip(org.departments, org.department_gb):
            self.gb_departments.setdefault(gb, []).append(d)
        # unit id → (kind for escalation, branch index, general branch index)
        self.unit_kind: dict[int, tuple[str, int, int]] = {d: ("root", -1, -1) for d in org.root_departments}
        self.unit_kind.update({d: ("department", -1, gb) for d, gb in zip(org.departments, org.department_gb)})
        self.unit_kind.update({u: ("branch", b, org.branch_gb[b]) for b, u in enumerate(org.branches)})
        self.unit_kind.update({u: ("branch", b, org.branch_gb[b]) for u, b in zip(org.groups, org.group_branch)})
        self.labour: list[tuple[int, int]] = []  # (received, id) of labour disputes, for mediation
        self.counts = {"demands": 0, "demand events": 0, "cooperating units": 0}
        self.stuck = 0
        bench = org.bench.get("bench_handler")
        self.bench_handler = next(((unit, a) for unit, accounts in org.handlers.items() for a in accounts
                                   if a.username == bench), None)
        self.verified: set[str] = set()

    def lit(self, value: str) -> str:
        found = self.literal.get(value)
        if found is None:
            found = self.literal[value] = jtext(value)
        return found

    # --- when --------------------------------------------------------------------------------------
    def received_times(self) -> list[int]:
        """Receipts over the window, a little more each year (growth), mostly in office hours on
        working days."""
        rng, start, end = self.rng, self.plan.start_s, self.plan.until_s - 60
        span = end - start
        a, b = 0.75, 1.25  # density at the start and at the end of the window
        times = []
        for _ in range(self.plan.sizes.demands):
            x = (-a + math.sqrt(a * a + 2 * (b - a) * rng.random())) / (b - a)
            t = start + int(x * span)
            local_day = (t + 8 * HOUR) // DAY
            if rng.random() < 0.8:
                t = local_day * DAY - 8 * HOUR + rng.randint(8 * HOUR, 18 * HOUR)
            weekday = (local_day + 3) % 7  # 1970-01-01 was a Thursday
            if weekday >= 5 and rng.random() < 0.6:
                t -= (weekday - 4) * DAY
            times.append(min(end, max(start, t)))
        times.sort()
        return times

    def due(self, category: int, urgency: str, t: int) -> tuple[int, int]:
        moment = datetime.datetime.fromtimestamp(t, UTC)
        response, resolution = self.sla.due_dates(category, urgency, moment)
        return int(response.timestamp()), int(resolution.timestamp())

    # --- who ----------------------------------------------------------------------------------------
    def escalated_to(self, kind: str, branch: int, gb: int) -> str:
        """The unit the SLA sweep escalates to: the one above the nearest unit with staff or a
        secretary (services.unit_heads): a branch's general branch, a department's group company."""
        if kind == "branch":
            return self.org.code[self.org.general_branches[gb]]
        if kind == "department":
            return self.org.code[self.org.root]
        return ""

    # --- the demands --------------------------------------------------------------------------------
    def make(self, steps) -> None:
        times = self.received_times()
        ids = allocate_ids("demands.Demand", len(times))
        refs = RefNumbers("SQ", Demand)
        with CopyPump() as pump:
            self._make(times, ids, refs, pump)
        refs.save()
        steps.done("demands", self.counts["demands"])
        steps.done("demand events", self.counts["demand events"])

    def _make(self, times, ids, refs, pump) -> None:
        org, rng, clock = self.org, self.rng, self.clock
        demands = Writer(Demand, DEMAND_COLUMNS, batch=20_000, pump=pump)
        events = Writer(DemandEvent, EVENT_COLUMNS, batch=80_000, pump=pump)
        cooperating = Writer(Demand.cooperating_units.through, ["demand_id", "orgunit_id"], pump=pump)
        titles_of = {pk: [text(t) for t in texts.DEMAND_TITLES.get(code, texts.GENERIC_TITLES)] for pk, code in self.categories}
        contents = [text(c) for c in texts.DEMAND_CONTENT]
        people = len(org.person_id)
        registered = org.registered or list(range(people))
        for r, pk in zip(times, ids):
            category = self.category_pool[rng.randrange(len(self.category_pool))]
            category_code = self.category_code[category]
            urgency = URGENCIES[rng.randrange(100)]
            channel = CHANNELS[rng.randrange(100)]
            if channel == "anonymous":
                person = None
                g = rng.randrange(len(org.groups))
                unit, branch = org.groups[g], org.group_branch[g]
                gb = org.branch_gb[branch]
            else:
                person = registered[rng.randrange(len(registered))] if channel == "self_service" else rng.randrange(people)
                unit, branch, gb = org.person_unit[person], org.person_branch[person], org.person_gb[person]
            submitter_account = org.person_account.get(person) if person is not None else None
            # Who accepts (in scope for demands.manage) and who leads.
            if branch >= 0 and rng.random() < 0.7:
                acceptor = org.secretary[branch]
            elif gb >= 0:
                acceptor = org.gb_staff[gb]
            else:
                acceptor = org.root_staff
            fate = rng.random()
            lead, handler = self.assign(category, branch, gb)
            if STUCK[0] <= fate < STUCK[1] and self.bench_handler:
                # Every eighth demand left lying goes to the benchmark's handler: open work in the queue.
                self.stuck += 1
                if self.stuck % 8 == 1:
                    lead, handler = self.bench_handler
            response_due, resolution_due = self.due(category, urgency, r)
            life = Life(self, pk, r, response_due, resolution_due, self.unit_kind[unit])
            entered_by = submitter_account if channel == "self_service" else (None if channel == "anonymous" else acceptor)
            life.step(r, "submit", "pending", entered_by, "submitter",
                      "", '{"category":%s,"channel":%s,"org_unit":%s,"urgency":%s}' % (
                          self.lit(category_code), self.lit(channel), self.lit(org.code[unit]), self.lit(urgency)))
            self.live(life, rng, fate, r, category, category_code, urgency, acceptor, lead, handler, person,
                      submitter_account, response_due, resolution_due, branch, gb)
            life.escalations()
            # The demand row.
            status = life.status
            resolved = life.resolved_at
            nonce = hashlib.sha256(f"{self.plan.seed}:{pk}".encode()).hexdigest()[:32] if status == "resolved" else ""
            year = clock.local_year(r)
            code = (pk * TRACKING_MULTIPLIER + TRACKING_OFFSET) % TRACKING_CODES  # one per id: unique
            tracking = "".join(TRACKING_ALPHABET[(code >> (5 * i)) & 31] for i in range(12))
            titles = titles_of[category]
            demands.add(",".join((
                str(pk), refs.next(year), titles[rng.randrange(len(titles))],
                contents[rng.randrange(len(contents))], str(category), urgency, channel,
                text(org.person_tag[person] if person is not None else ""), str(unit),
                opt(org.person_id[person] if person is not None else None), status, clock.copy(r), clock.copy(response_due),
                clock.copy(life.first_response_at), clock.copy(life.resolution_due), clock.copy(resolved),
                clock.copy(life.return_visit_at), opt(life.rating), text(life.rating_comment), text(life.resolution),
                opt(life.lead), opt(life.handler.id if life.handler else None), NULL, NULL, tracking, f'"{nonce}"',
                clock.copy(life.link_issued_at), text(life.response_flag), text(life.resolution_flag),
                clock.copy(life.escalated_at), life.head, opt(entered_by.id if entered_by else None),
                clock.copy(r), clock.copy(life.last_at),
            )))
            for line in life.lines:
                events.add(line)
            for unit_id in life.cooperating:
                cooperating.add(f"{pk},{unit_id}")
            self.counts["demand events"] += len(life.lines)
            self.counts["cooperating units"] += len(life.cooperating)
            if category_code == "labour_dispute":
                self.labour.append((r, pk))
        demands.flush()
        events.flush()
        cooperating.flush()
        self.counts["demands"] = demands.count

    def assign(self, category: int, branch: int, gb: int) -> tuple[int, Account]:
        """资源适配: a department of the general branch, a functional department of the group
        company, or the branch itself (its secretary handles)."""
        rng, org = self.rng, self.org
        u = rng.random()
        departments = self.gb_departments.get(gb) if gb >= 0 else None
        if u < 0.55 and departments:
            lead = departments[self.category_index[category] % len(departments)]
        elif u < 0.8 or branch < 0:
            lead = self.category_root_department[category]
        else:
            return org.branches[branch], org.secretary[branch]
        handlers = org.handlers[lead]
        return lead, handlers[rng.randrange(len(handlers))]

    def live(self, life, rng, fate, r, category, category_code, urgency, acceptor, lead, handler, person,
             submitter_account, response_due, resolution_due, branch, gb) -> None:
        """The steps of one demand after its submission (`fate` decides the unusual lives)."""
        org = self.org
        if fate < 0.001:  # nobody ever accepted it: overdue and escalated
            return
        if fate < 0.04:  # withdrawn, before or after acceptance
            if rng.random() < 0.6:
                life.step(r + rng.randint(600, 2 * DAY), "withdraw", "withdrawn", acceptor, "",
                          texts.WITHDRAW_REASONS[rng.randrange(3)])
                return
            t = r + rng.randint(600, 6 * HOUR)
            if self.accept(life, t, category_code, urgency, acceptor, lead, handler):
                life.step(t + rng.randint(HOUR, 5 * DAY), "withdraw", "withdrawn", submitter_account or acceptor, "",
                          texts.WITHDRAW_REASONS[rng.randrange(3)])
            return
        if fate < 0.07:  # not accepted: the reason is the first response
            reason = texts.REJECT_REASONS[rng.randrange(3)]
            if life.step(r + rng.randint(HOUR, max(2 * HOUR, response_due - r)), "reject", "rejected", acceptor, "", reason):
                life.resolution = reason
            return
        # First response on time for most, late for some.
        if rng.random() < 0.88:
            first = r + int((response_due - r) * (0.3 + 0.7 * rng.random()))
        else:
            first = response_due + rng.randint(1800, 3 * DAY)
        accepted = r + max(60, int((first - r) * (0.1 + 0.5 * rng.random())))
        if not self.accept(life, accepted, category_code, urgency, acceptor, lead, handler):
            return
        if rng.random() < 0.05:  # 转办 to another unit and handler
            new_lead, new_handler = self.assign(category, branch, gb)
            if new_lead != life.lead:
                data = {"handler": new_handler.username, "lead_unit": org.code[new_lead],
                        "previous": {"handler": life.handler.username, "lead_unit": org.code[life.lead]}}
                if not life.step(accepted + max(60, (first - accepted) // 2), "transfer", life.status, acceptor, "", "",
                                 json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)):
                    return
                life.lead_from(life.last_at, new_lead, new_handler)
        stuck = fate < STUCK[1]  # accepted, then left lying: overdue, escalated
        direct = rng.random() < 0.15
        if not direct or stuck:
            if stuck and rng.random() < 0.4:
                return
            if not life.step(first, "reply", "in_progress", life.handler, "", texts.REPLIES[rng.randrange(4)]):
                return
            if stuck:
                return
            if rng.random() < 0.9 and resolution_due > first + HOUR:
                resolved = first + int((resolution_due - first) * (0.15 + 0.85 * rng.random()))
            else:
                resolved = max(resolution_due, first) + rng.randint(HOUR, 15 * DAY)
        else:
            resolved = first
        if not self.resolve(life, resolved, rng):
            return
        rating = self.after_resolution(life, rng, acceptor, person, submitter_account)
        if rating is None or rating > 2 or rng.random() >= 0.4:
            return
        # 重新办理 after a poor rating, with a new resolution deadline counted from the reopening.
        reopened = life.last_at + rng.randint(HOUR, 3 * DAY)
        new_due = int(self.sla.resolution_due(category, urgency, datetime.datetime.fromtimestamp(reopened, UTC)).timestamp())
        previous = {"rating": life.rating, "resolved_at": self.clock.iso(life.resolved_at),
                    "return_visit_at": self.clock.iso(life.return_visit_at)}
        data = json.dumps({"previous": previous, "resolution_due_at": self.clock.iso(new_due)}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False)
        if not life.step(reopened, "reopen", "in_progress", acceptor, "", texts.REOPEN_NOTES[rng.randrange(2)], data):
            return
        life.reopen(reopened, new_due)
        if rng.random() < 0.85 and self.resolve(life, reopened + rng.randint(DAY, 8 * DAY), rng):
            if rng.random() < 0.8:
                self.visit(life, life.last_at + rng.randint(2 * HOUR, 5 * DAY), acceptor, None, None, rng.choice([3, 4, 4, 5, 5]))

    def accept(self, life, t, category_code, urgency, acceptor, lead, handler) -> bool:
        org, rng = self.org, self.rng
        cooperating = []
        if rng.random() < 0.06:
            other = org.root_departments[rng.randrange(len(org.root_departments))]
            if other != lead:
                cooperating = [other]
        data = '{"category":%s,"cooperating_units":[%s],"handler":%s,"lead_unit":%s,"urgency":%s}' % (
            self.lit(category_code), ",".join(self.lit(org.code[u]) for u in cooperating), self.lit(handler.username),
            self.lit(org.code[lead]), self.lit(urgency))
        if not life.step(t, "accept", "accepted", acceptor, "", "", data):
            return False
        life.lead_from(life.last_at, lead, handler)
        life.cooperating = cooperating
        return True

    def resolve(self, life, t, rng) -> bool:
        result = texts.RESULTS[rng.randrange(len(texts.RESULTS))]
        if not life.step(t, "resolve", "resolved", life.handler, "", result):
            return False
        life.resolved_at = life.link_issued_at = life.last_at
        if life.first_response_at is None:
            life.first_response_at = life.last_at
        life.resolution = result
        return True

    def after_resolution(self, life, rng, acceptor, person, submitter_account) -> int | None:
        """A return visit or the submitter's rating; or closed without one (the submitter could not
        be reached); a few left waiting (the to-visit queue holds those and the recent ones)."""
        u = rng.random()
        if u < 0.85:
            rating = RATINGS[rng.randrange(100)]
            return self.visit(life, life.last_at + rng.randint(2 * HOUR, 6 * DAY), acceptor, person, submitter_account, rating)
        if u < 0.99:
            life.step(life.last_at + rng.randint(3 * DAY, 14 * DAY), "close", "closed", acceptor, "", "")
        return None

    def visit(self, life, t, acceptor, person, submitter_account, rating) -> int | None:
        rng = self.rng
        if person is not None and rng.random() < 0.4:
            action, actor, label = "rate", submitter_account, "submitter"  # the one-time link, or logged in
        else:
            action, actor, label = "return_visit", acceptor, ""
            if rng.random() < 0.05:
                rating = None  # the submitter would not say
        comment = texts.COMMENTS[rating][rng.randrange(len(texts.COMMENTS[rating]))] if rating else ""
        if not life.step(t, action, "visited", actor, label, comment, '{"rating":%s}' % ("null" if rating is None else rating)):
            return None
        life.return_visit_at, life.rating, life.rating_comment = life.last_at, rating, comment
        return rating


class Life:
    """The timeline of one demand as it is being made: its steps, the fields they leave on the
    demand, then the events sealed in order."""

    __slots__ = ("maker", "pk", "received", "steps", "status", "last_at", "first_response_at", "resolved_at",
                 "return_visit_at", "rating", "rating_comment", "resolution", "lead", "handler", "cooperating",
                 "link_issued_at", "response_flag", "resolution_flag", "escalated_at", "resolution_due", "cycles",
                 "responsible", "response_due", "lines", "head", "done")

    def __init__(self, maker: DemandMaker, pk: int, received: int, response_due: int, resolution_due: int,
                 responsible: tuple):
        self.maker, self.pk, self.received = maker, pk, received
        self.response_due = response_due
        self.steps: list[tuple] = []  # (at, action, to_status, actor, label, note, data)
        self.status, self.last_at = "", received
        self.first_response_at = self.resolved_at = self.return_visit_at = self.rating = None
        self.rating_comment = self.resolution = ""
        self.lead = self.handler = None
        self.cooperating: list[int] = []
        self.link_issued_at = self.escalated_at = None
        self.response_flag = self.resolution_flag = ""
        self.resolution_due = resolution_due
        self.cycles: list[tuple[int, int]] = [(received - 1, resolution_due)]  # (start, due) of each resolution deadline
        # (from, (kind, branch, gb)) of the unit responsible: the demand's own, then the lead unit.
        self.responsible: list[tuple[int, tuple]] = [(received, responsible)]
        self.lines: list[str] = []
        self.head = ""
        self.done = False

    def step(self, t: int, action: str, to: str, actor: Account | None, label: str, note: str, data: str = "{}") -> bool:
        """Record a step at t (at least a minute after the previous one); False once `until` is
        passed: it and everything after it has not happened yet."""
        if self.done:
            return False
        t = max(t, self.last_at + 60) if self.steps else t
        if t > self.maker.plan.until_s:
            self.done = True
            return False
        self.steps.append((t, action, to, actor, label, note, data))
        if action in ("reply", "reject") and self.first_response_at is None:
            self.first_response_at = t
        self.status, self.last_at = to, t
        return True

    def lead_from(self, t: int, lead: int, handler: Account) -> None:
        self.lead, self.handler = lead, handler
        self.responsible.append((t, self.maker.unit_kind[lead]))

    def reopen(self, t: int, due: int) -> None:
        self.cycles.append((t, due))
        self.resolution_due = due
        self.resolved_at = self.return_visit_at = self.rating = None
        self.rating_comment = ""

    def escalations(self) -> None:
        """Add the 督办 events of the SLA sweep (a few minutes after a deadline passed while the
        demand was open and the step not yet done), set the flags, then seal the chain."""
        maker = self.maker
        steps, until = self.steps, maker.plan.until_s
        delay = 300 + (self.pk * 7919) % 1500  # the sweep runs every few minutes

        def status_at(t):
            status = ""
            for step in self.steps:
                if step[0] > t:
                    break
                status = step[2]
            return status

        def done_between(start, t, actions):
            return any(start < s[0] <= t and s[1] in actions for s in self.steps)

        checks = [("response", self.response_due, self.received - 1, ("reply", "reject", "resolve"))]
        checks += [("resolution", due, start, ("resolve",)) for start, due in self.cycles]
        found = []
        for deadline, due, start, done_by in checks:
            t = due + delay
            if t > until or done_between(start, t, done_by) or status_at(t) not in OPEN:
                continue
            found.append((t, deadline, due))
        if found:
            last_cycle = self.cycles[-1][0]
            steps = list(steps)
            for t, deadline, due in found:
                kind, branch, gb = next(r for at, r in reversed(self.responsible) if at <= t)
                data = json.dumps({"deadline": deadline, "due": maker.clock.iso(due),
                                   "to_unit": maker.escalated_to(kind, branch, gb)}, sort_keys=True, separators=(",", ":"))
                steps.append((t, "escalate", status_at(t), None, "system", "", data))  # status_at reads self.steps
                if deadline == "response":
                    self.response_flag = "overdue"
                if t > last_cycle:  # a reopening clears the resolution flag and escalated_at
                    if deadline == "resolution":
                        self.resolution_flag = "overdue"
                    self.escalated_at = max(self.escalated_at or 0, t)
            steps.sort(key=lambda s: (s[0], s[1] == "escalate"))
            self.last_at = steps[-1][0]
        self.seal(steps)

    def seal(self, steps) -> None:
        maker, clock = self.maker, self.maker.clock
        lit = maker.lit
        prev, status, pk = "", "", self.pk
        lines = self.lines
        for seq, (t, action, to, actor, label, note, data) in enumerate(steps, 1):
            from_status = "" if action == "submit" else (to if action in ("escalate", "transfer") else status)
            actor_id = actor.id if actor is not None else None
            label = "" if actor is not None else label
            canonical = CANONICAL % (lit(action), "null" if actor_id is None else actor_id, lit(label), clock.hashed(t),
                                     data, pk, lit(from_status), lit(note), seq, lit(to))
            digest = hashlib.sha256((prev + canonical).encode()).hexdigest()
            if action not in maker.verified or (maker.counts["demand events"] + seq) % 100_000 == 0:
                self.verify(seq, action, from_status, to, actor_id, label, t, note, data, prev, digest)
                maker.verified.add(action)
            # Pool texts hold no double quote (tests/portal/test_scale_data.py); the JSON does.
            lines.append(f'{pk},{seq},{action},"{from_status}","{to}",{NULL if actor_id is None else actor_id},"{label}",'
                         f'{clock.copy(t)},"{note}","{data.replace(QUOTE, QUOTES)}","{prev}",{digest}')
            prev, status = digest, to
        self.head = prev

    def verify(self, seq, action, from_status, to, actor_id, label, t, note, data, prev, digest) -> None:
        """The template gives exactly demands/chain.py's hash (checked for each kind of step and
        now and then)."""
        payload = {"demand_id": self.pk, "seq": seq, "action": action, "from_status": from_status, "to_status": to,
                   "actor_id": actor_id, "actor_label": label, "at": datetime.datetime.fromtimestamp(t, UTC),
                   "note": note, "data": json.loads(data)}
        if chain.compute_hash(prev, payload) != digest:
            raise AssertionError(f"the {action} event does not hash as demands/chain.py does")


# --- Mediation, life events, visits ------------------------------------------------------------------
def mediation(plan: Plan, org: Org, labour: list[tuple[int, int]], steps) -> None:
    """矛盾纠纷调解 cases with parties, mediators, sessions and follow-ups; some arise from a
    labour-dispute demand."""
    rng, clock = plan.rng("mediation"), Clock()
    count = plan.sizes.mediations
    start, until = plan.start_s, plan.until_s
    ids = allocate_ids("demands.MediationCase", count)
    refs = RefNumbers("TJ", MediationCase)
    cases = Writer(MediationCase, ["id", "ref", "title", "demand_id", "org_unit_id", "opened_at", "concluded_at", "outcome",
                                   "description", "other_parties", "agreement", "created_by_id", "created_at"])
    through = MediationCase.parties.through, MediationCase.mediators.through
    parties = Writer(through[0], ["mediationcase_id", "person_id"])
    mediators = Writer(through[1], ["mediationcase_id", "person_id"])
    sessions = Writer("demands.MediationSession", ["case_id", "held_at", "place", "notes", "recorded_by_id", "recorded_at"])
    follow_ups = Writer("demands.MediationFollowUp", ["case_id", "checked_on", "fulfilment", "notes", "recorded_by_id",
                                                      "recorded_at"])
    labour_times = [t for t, _pk in labour]
    opened_times = sorted(start + rng.randrange(max(1, until - start - 3600)) for _ in range(count))
    people = len(org.person_id)
    for pk, opened in zip(ids, opened_times):
        person = rng.randrange(people)
        branch, gb = org.person_branch[person], org.person_gb[person]
        unit = org.branches[branch] if branch >= 0 else org.person_unit[person]
        recorder = org.secretary[branch] if branch >= 0 else (org.gb_staff[gb] if gb >= 0 else org.root_staff)
        demand = None
        if labour and rng.random() < 0.3:
            i = bisect.bisect_left(labour_times, opened)
            if i:
                demand = labour[rng.randrange(max(0, i - 50), i)][1]
        concluded = opened + rng.randint(2 * DAY, 60 * DAY)
        outcome = rng.choice(["success"] * 70 + ["failed"] * 18 + ["referred"] * 12)
        if concluded > until or rng.random() < 0.03:
            concluded, outcome = None, ""
        cases.add(",".join((
            str(pk), text(refs.next(clock.local_year(opened))), text(rng.choice(texts.MEDIATION_TITLES)), opt(demand),
            str(unit), clock.copy(opened), clock.copy(concluded), text(outcome), text(rng.choice(texts.MEDIATION_DESCRIPTIONS)),
            '""', text(rng.choice(texts.AGREEMENTS) if outcome == "success" else ""), str(recorder.id), clock.copy(opened),
        )))
        other = rng.randrange(people)
        for party in {person, other}:
            parties.add(f"{pk},{org.person_id[party]}")
        if recorder.person is not None and recorder.person not in (org.person_id[person], org.person_id[other]):
            mediators.add(f"{pk},{recorder.person}")
        last = concluded or until
        for k in range(rng.choice([1, 1, 2, 3])):
            held = opened + (k + 1) * (last - opened) // 4
            sessions.add(f"{pk},{clock.copy(held)},{text(rng.choice(texts.PLACES))},"
                         f"{text(texts.SESSION_NOTES[k % len(texts.SESSION_NOTES)])},{recorder.id},{clock.copy(held)}")
        if outcome == "success" and concluded + 30 * DAY <= until:
            checked = concluded + 30 * DAY
            fulfilment = rng.choice(["fulfilled"] * 85 + ["partly"] * 10 + ["not_fulfilled"] * 5)
            follow_ups.add(f"{pk},{clock.local_date(checked).isoformat()},{fulfilment},\"\",{recorder.id},{clock.copy(checked)}")
    for writer in (cases, parties, mediators, sessions, follow_ups):
        writer.flush()
    refs.save()
    steps.done("mediation cases", cases.count)


def life_events_and_visits(plan: Plan, org: Org, steps) -> None:
    """五必访 life events (most visited within seven days, some late, the latest still due) and
    routine visits, heart-to-heart talks and hardship visits (民情日记)."""
    rng, clock = plan.rng("visits"), Clock()
    start_day, until_day = clock.local_date(plan.start_s), clock.local_date(plan.until_s)
    days = (until_day - start_day).days
    people = len(org.person_id)

    def visitor_of(person) -> Account:
        branch, gb = org.person_branch[person], org.person_gb[person]
        account = org.secretary[branch] if branch >= 0 else (org.gb_staff[gb] if gb >= 0 else org.root_staff)
        return account if account.person is not None else org.root_staff

    count = plan.sizes.life_events
    ids = allocate_ids("demands.LifeEvent", count)
    refs = RefNumbers("SJ", LifeEvent)
    events = Writer(LifeEvent, ["id", "ref", "person_id", "kind", "event_date", "visit_due_on", "note", "created_by_id",
                                "created_at"])
    dated = sorted((start_day + datetime.timedelta(days=rng.randrange(days + 15)), rng.randrange(people)) for _ in range(count))
    kinds = ["hospitalization"] * 30 + ["marriage"] * 15 + ["childbirth"] * 15 + ["bereavement"] * 15 \
        + ["retirement"] * 12 + ["hardship"] * 13
    visits_due = []
    for pk, (day, person) in zip(ids, dated):
        kind = rng.choice(kinds)
        recorded = min(local_midnight(day) + rng.randint(9 * HOUR, 17 * HOUR), plan.until_s)
        visitor = visitor_of(person)
        events.add(",".join((
            str(pk), text(refs.next(clock.local_year(recorded))), str(org.person_id[person]), kind, day.isoformat(),
            (day + datetime.timedelta(days=7)).isoformat(), text(rng.choice(texts.LIFE_EVENT_NOTES)), str(visitor.id),
            clock.copy(recorded),
        )))
        if rng.random() < 0.9:
            late = rng.random() < 0.1
            visited = day + datetime.timedelta(days=rng.randint(8, 20) if late else rng.randint(0, 7))
            if visited <= until_day:
                visits_due.append((visited, person, visitor, pk))
    events.flush()
    refs.save()
    steps.done("life events", events.count)

    visit_refs = RefNumbers("ZF", Visit)
    visits = Writer(Visit, ["ref", "person_id", "visitor_id", "visited_on", "kind", "life_event_id", "notes",
                            "created_by_id", "created_at"])
    routine = max(0, plan.sizes.visits - len(visits_due))
    other_kinds = ["routine"] * 55 + ["heart_talk"] * 30 + ["hardship"] * 15
    rows = [(visited, person, visitor, event, "must_visit") for visited, person, visitor, event in visits_due]
    for _ in range(routine):
        person = rng.randrange(people)
        rows.append((start_day + datetime.timedelta(days=rng.randrange(days + 1)), person, visitor_of(person), None,
                     rng.choice(other_kinds)))
    rows.sort(key=lambda row: (row[0], row[3] is None, row[3] or 0))
    for visited, person, visitor, event, kind in rows:
        recorded = min(local_midnight(visited) + 18 * HOUR, plan.until_s)
        visits.add(",".join((
            text(visit_refs.next(visited.year)), str(org.person_id[person]), str(visitor.person), visited.isoformat(), kind,
            opt(event), text(rng.choice(texts.VISIT_NOTES)), str(visitor.id), clock.copy(recorded),
        )))
    visits.flush()
    visit_refs.save()
    steps.done("visits", visits.count)
