"""The benchmark's writer: real writes at a steady rate while the pages are read.

A process of its own (`python -m benchmarks.writer PLAN.json OUT.json`), started by `manage.py bench`
for the whole read window. It speaks HTTP only — the same forms and API a person or a client
program uses, with their session cookie and CSRF token — so every write goes through the views,
the forms' validation and the services, and the server pays for it as it would in real use.

The writes cycle through five kinds, one per tick (5 per second by default):

* ``api_demand``  — a new demand through ``POST /api/demands/``;
* ``form_demand`` — a new demand through the intake form (``/demands/new/``);
* ``accept``      — 受理 of one of those demands through the workflow form, assigned to the account;
* ``reply``       — a reply on an accepted one through the workflow form (each step's form is first
  loaded, as the demand page loads it when its button opens it);
* ``visit``       — a visit logged through the visit form.

When no demand waits for the step a tick asks for, the tick creates one instead. Several writes may
be in flight at once (a thread pool), so a slow answer does not lower the rate asked for; the
result says what was achieved. The plan (accounts, cookies, records in each account's scope) comes
from ``benchmarks.management.commands.bench.writer_plan``.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

KINDS = ("api_demand", "form_demand", "accept", "reply", "visit")
TIMEOUT = 30


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect())


@dataclass
class Answer:
    status: int
    location: str
    body: bytes


def _send(url: str, *, data: bytes | None, headers: dict) -> Answer:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return Answer(response.status, response.headers.get("Location", ""), response.read())
    except urllib.error.HTTPError as error:  # 3xx (no redirect followed), 4xx and 5xx
        return Answer(error.code, error.headers.get("Location", ""), error.read())


@dataclass
class Account:
    """One writing account and records in its scope (see writer_plan)."""

    cookie: str
    csrf: str
    user_id: int
    category_id: int
    category_code: str
    unit_id: int
    unit_code: str
    person_id: int
    person_no: str
    pending: deque = field(default_factory=deque)  # demands it created, waiting for 受理
    accepted: deque = field(default_factory=deque)  # demands it accepted, waiting for a reply


class Writer:
    def __init__(self, plan: dict):
        self.base = plan["base"].rstrip("/")
        self.paths = plan["paths"]
        self.texts = plan["texts"]
        self.accounts = [Account(**a) for a in plan["accounts"]]
        if not self.accounts:
            raise ValueError("the plan has no writing account")
        self.lock = threading.Lock()
        self.done: Counter = Counter()
        self.errors: Counter = Counter()
        self.examples: list[str] = []
        self.created: list[int] = []  # ids of the demands created, for the tests
        self.latencies: dict[str, list[float]] = {}  # kind → ms of each answer
        self.texts_used = 0

    # --- one write ---------------------------------------------------------------------------------
    def _headers(self, account: Account, content_type: str) -> dict:
        return {"Cookie": f"{account.cookie}; csrftoken={account.csrf}", "X-CSRFToken": account.csrf,
                "Content-Type": content_type, "Referer": self.base + "/"}

    def _form(self, account: Account, path: str, fields: dict) -> Answer:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": account.csrf, **fields}).encode()
        return _send(self.base + path, data=body, headers=self._headers(account, "application/x-www-form-urlencoded"))

    def _text(self) -> tuple[str, str]:
        """A title and a content as people write them, from the scale data's pools: a made-up title
        that no other demand resembles would make the demand page's similar-demand search cheaper
        than in real use, and one that every written demand shares (压测诉求 …) dearer."""
        self.texts_used += 1
        n, titles, contents = self.texts_used, self.texts["titles"], self.texts["contents"]
        return titles[n % len(titles)], contents[n % len(contents)]

    def api_demand(self, account: Account) -> Answer:
        title, content = self._text()
        payload = {"title": title, "content": content, "category": account.category_code,
                   "org_unit": account.unit_code, "submitter": account.person_no}
        answer = _send(self.base + self.paths["api_demands"], data=json.dumps(payload).encode(),
                       headers={**self._headers(account, "application/json"), "Accept": "application/json"})
        if answer.status == 201:
            self._created(account, json.loads(answer.body)["id"])
        return answer

    def form_demand(self, account: Account) -> Answer:
        title, content = self._text()
        answer = self._form(account, self.paths["demand_create"], {
            "submitter": account.person_id, "org_unit": account.unit_id, "title": title,
            "content": content, "category": account.category_id, "urgency": "normal",
            "channel": "staff_entry",
        })
        pk = _demand_id(answer.location)
        if answer.status == 302 and pk:
            self._created(account, pk)
        return answer

    def _step(self, account: Account, pk: int, action: str, fields: dict) -> Answer:
        """A workflow step as a person takes it: the demand page loads the step's form when its
        button opens it (with, for 受理, the text model's suggestion), then the form is posted."""
        path = self.paths["demand_action"].format(pk=pk, action=action)
        loaded = _send(self.base + path, data=None, headers={**self._headers(account, "text/html"), "HX-Request": "true"})
        return self._form(account, path, fields) if loaded.status == 200 else loaded

    def accept(self, account: Account, pk: int) -> Answer:
        answer = self._step(account, pk, "accept", {
            "category": account.category_id, "urgency": "normal", "handler": account.user_id, "note": "压测受理",
        })
        if answer.status == 302:
            with self.lock:
                account.accepted.append(pk)
        return answer

    def reply(self, account: Account, pk: int) -> Answer:
        answer = self._step(account, pk, "reply", {"text": "压测答复：已联系诉求人，正在办理。"})
        if answer.status == 302:
            with self.lock:
                account.accepted.append(pk)  # it can be replied to again
        return answer

    def visit(self, account: Account) -> Answer:
        return self._form(account, self.paths["visit_create"], {
            "person": account.person_id, "visited_on": date.today().isoformat(), "kind": "routine",
            "notes": "压测走访记录。",
        })

    def _created(self, account: Account, pk: int) -> None:
        with self.lock:
            account.pending.append(pk)
            self.created.append(pk)

    def write(self, kind: str, account: Account) -> tuple[str, bool]:
        """One write of `kind` (or a creation when no demand waits for that step); (kind done, ok)."""
        with self.lock:
            pk = None
            if kind == "accept" and account.pending:
                pk = account.pending.popleft()
            elif kind == "reply" and account.accepted:
                pk = account.accepted.popleft()
        if kind in ("accept", "reply") and pk is None:
            kind = "form_demand"
        clock = time.monotonic()
        try:
            if kind == "accept":
                answer = self.accept(account, pk)
            elif kind == "reply":
                answer = self.reply(account, pk)
            else:
                answer = getattr(self, kind)(account)
            # A redirect to the login page is a refusal, not a saved form.
            ok = answer.status in (201, 302) and urllib.parse.urlsplit(answer.location).path != self.paths["login"]
            problem = f"{kind}: HTTP {answer.status} {answer.location} {answer.body[:300]!r}"
        except OSError as error:
            ok, problem = False, f"{kind}: {error}"
        with self.lock:
            self.latencies.setdefault(kind, []).append((time.monotonic() - clock) * 1000)
            (self.done if ok else self.errors)[kind] += 1
            if not ok and len(self.examples) < 10:
                self.examples.append(problem)
        return kind, ok

    # --- the schedule -----------------------------------------------------------------------------
    def tick(self, n: int) -> tuple[str, bool]:
        """The n-th write of the cycle: the kinds in turn, each account in turn."""
        return self.write(KINDS[n % len(KINDS)], self.accounts[(n // len(KINDS)) % len(self.accounts)])

    def run(self, *, rate: float, seconds: float, stop: threading.Event | None = None) -> dict:
        stop = stop or threading.Event()
        interval = 1.0 / rate
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="writer") as pool:
            n = 0
            while not stop.is_set() and n * interval < seconds:
                wait = started + n * interval - time.monotonic()
                if wait > 0 and stop.wait(wait):
                    break
                pool.submit(self.tick, n)
                n += 1
            elapsed = min(time.monotonic() - started, seconds)
        return {"seconds": round(elapsed, 2), "target_per_second": rate, "done": dict(self.done),
                "errors": dict(self.errors), "examples": self.examples, "p50_ms": self.median_ms()}

    def median_ms(self) -> dict[str, float]:
        """The median answer time of each kind of write."""
        medians = {}
        for kind, values in self.latencies.items():
            ordered = sorted(values)
            medians[kind] = round(ordered[(len(ordered) - 1) // 2], 1)
        return medians


def _demand_id(location: str) -> int | None:
    """The id in the redirect to a demand's page (/demands/<id>/)."""
    parts = [p for p in urllib.parse.urlsplit(location).path.split("/") if p]
    return int(parts[-1]) if len(parts) >= 2 and parts[-2] == "demands" and parts[-1].isdigit() else None


def main(argv: list[str]) -> int:
    plan_path, out_path = argv
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    result = Writer(plan).run(rate=plan["rate"], seconds=plan["seconds"], stop=stop)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
