"""Reads of the activities app, always through the scope layer, each a constant number of queries."""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from members import workflow as member_workflow
from members.choices import DevelopmentStage, OrgKind
from members.models import DevelopmentRecord, OrgUnit, Person
from portal.filters import query_year
from portal.scope import subtree_q, visible

from . import compliance, meeting_summary
from .choices import ActivityStatus, ActivityType, CellState, ItemStatus
from .models import Activity, ResponsibilityItem
from .services import reviewable_items
from .workflow import colour_date_bounds


# --- 三会一课 compliance ---------------------------------------------------------------------------
@dataclass
class MatrixCell:
    label: str
    start: datetime.datetime
    end: datetime.datetime
    windows: list = field(default_factory=list)  # (Window, state)
    state: str = ""


@dataclass
class MatrixRow:
    branch: OrgUnit
    cells: list[MatrixCell]
    met: int = 0
    required: int = 0

    @property
    def rate(self):
        return self.met / self.required if self.required else None

    @property
    def percent(self) -> int | None:
        """The rate in whole per cent, rounded as the {% widthratio %} tag rounds."""
        return round(self.met / self.required * 100) if self.required else None


def _columns(year: int, by: str) -> list[tuple[str, datetime.datetime, datetime.datetime]]:
    if by == "quarter":
        return [(f"Q{q}", compliance.month_start(year, q * 3 - 2), compliance.month_end(year, q * 3)) for q in range(1, 5)]
    return [(f"{m}", compliance.month_start(year, m), compliance.month_end(year, m)) for m in range(1, 13)]


def window_letters() -> dict[str, str]:
    """The one-letter label of each meeting type in the matrix (its legend explains them)."""
    return {ActivityType.BRANCH_COMMITTEE: _("C"), ActivityType.PARTY_GROUP: _("G"),
            ActivityType.GENERAL_ASSEMBLY: _("A"), ActivityType.PARTY_LECTURE: _("L")}


def window_links(rows: list[MatrixRow]) -> dict[compliance.Window, tuple[dict[str, str], str]]:
    """Each window's link in the matrix, in two pieces around the branch's id that ends its
    address: the opening tag for each state, and the closing tag. A page of 100 branches links
    3,200 windows, the same few dozen in every row: each is formatted once, and the rows add only
    the branch (escaping each value of each link cost a fifth of the page's CPU)."""
    url = escape(reverse("activities:activity_list"))
    letters, states = window_letters(), CellState.values
    links = {}
    for cell in rows[0].cells if rows else []:
        for window, _state in cell.windows:
            kind, (first, last) = escape(window.type), map(escape, window.dates)
            rest = f'title="{first} – {last}" href="{url}?type={kind}&amp;held_from={first}&amp;held_to={last}&amp;org_unit='
            # The states are the CellState codes (held, missing, due): nothing to escape.
            opening = {state: mark_safe(f'<a class="cm-w cm-{state}" data-type="{kind}" data-state="{state}" {rest}')
                       for state in states}
            links[window] = opening, mark_safe(f'">{escape(letters[window.type])}</a>')
    return links


def matrix_branches(user, *, within: OrgUnit | None = None, permission: str = "activities.compliance"):
    """The party branches in the user's scope (within a unit, if given), in tree order."""
    branches = visible(OrgUnit.objects.filter(kind=OrgKind.BRANCH), user, permission)
    if within is not None:
        branches = branches.filter(subtree_q(within))
    return branches.order_by("path")


# Branches per page of the matrix: a committee's hundreds of branches are read a page at a time.
MATRIX_PAGE_SIZE = 100


def compliance_page(user, params, *, now: datetime.datetime) -> dict:
    """The 三会一课 page: the year and view asked for (a year out of range, or not a number, is the
    current one) and one page of the matrix's branches."""
    this_year = timezone.localdate(now).year
    try:
        year = query_year(params, this_year)
    except BadRequest:  # a page of the menu: a wrong year in the address shows this year
        year = this_year
    by = "quarter" if params.get("by") == "quarter" else "month"
    page = Paginator(matrix_branches(user), MATRIX_PAGE_SIZE).get_page(params.get("page"))
    rows = compliance_matrix(user, year=year, by=by, as_of=now, branches=list(page))
    return {"rows": rows, "page": page, "year": year, "by": by, "years": range(this_year + 1, this_year - 5, -1),
            "columns": [c.label for c in rows[0].cells] if rows else [], "links": window_links(rows)}


def compliance_matrix(user, *, year: int, by: str = "month", as_of: datetime.datetime | None = None,
                      within: OrgUnit | None = None, permission: str = "activities.compliance",
                      branches: list[OrgUnit] | None = None) -> list[MatrixRow]:
    """Branches × months (or quarters) of `year`; each cell holds the windows that end in it with
    their state held / missing / due, from the maintained summary (activities.meeting_summary).
    `branches`: these (a page of them), else every branch in scope. Two queries whatever the number
    of branches."""
    as_of = as_of or timezone.now()
    year_start, year_end = compliance.month_start(year, 1), compliance.month_start(year + 1, 1)
    if branches is None:
        branches = list(matrix_branches(user, within=within, permission=permission))
    if not branches:
        return []
    held = meeting_summary.held_months([b.pk for b in branches], year_start, year_end)
    # The windows of a column are the same for every branch: computed once, not per row.
    columns = [(label, start, end, compliance.windows_ending_in(start, end)) for label, start, end in _columns(year, by)]
    rows = []
    for branch in branches:
        held_months = held.get(branch.pk, {})
        cells = []
        row = MatrixRow(branch=branch, cells=cells)
        for label, start, end, windows in columns:
            cell = MatrixCell(label, start, end)
            for window in windows:
                state = compliance.window_state(window, held_months, as_of)
                cell.windows.append((window, state))
                if window.end <= as_of:
                    row.required += 1
                    row.met += state == CellState.HELD
            cell.state = compliance.cell_state(s for _w, s in cell.windows)
            cells.append(cell)
        rows.append(row)
    return rows


# meetings_due_this_month: the branches judged at most, and those judged before the others.
DUE_BRANCHES_JUDGED = 500
FIRST_BRANCHES_JUDGED = 30


def meetings_due_this_month(user, *, now: datetime.datetime | None = None,
                            limit: int | None = None) -> list[tuple[OrgUnit, str, datetime.datetime]]:
    """Windows ending this month (monthly, and quarterly in a quarter's last month) that are still
    open and not yet met, per branch in scope in path order: [(branch, type, window end)], the
    first `limit` of them. Only this month's windows are read and judged (the home page asks; the
    whole year's matrix is the compliance page's)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    start, end = compliance.month_start(local.year, local.month), compliance.month_end(local.year, local.month)
    windows = [w for w in compliance.windows_ending_in(start, end) if w.end == end and w.start <= now]
    if not windows:
        return []
    scoped = visible(OrgUnit.objects.filter(kind=OrgKind.BRANCH), user, "activities.compliance").order_by("path")
    due = []
    # The first branches usually hold `limit` due windows: they are read and judged first, the
    # rest (up to 500) only when they do not. A company's 500 branches and their months cost a
    # manager's home 4 ms of CPU to load for the eight it shows.
    first = FIRST_BRANCHES_JUDGED if limit else DUE_BRANCHES_JUDGED
    for offset, upto in ((0, first), (first, DUE_BRANCHES_JUDGED)):
        branches = list(scoped[offset:upto]) if offset < upto else []
        if not branches:
            break
        held = meeting_summary.held_months([b.pk for b in branches], min(w.start for w in windows), end)
        for branch in branches:
            held_months = held.get(branch.pk, {})
            for window in windows:
                if compliance.window_state(window, held_months, now) == CellState.DUE:
                    due.append((branch, window.type, window.end))
                    if len(due) == limit:
                        return due
        if len(branches) < upto - offset:
            break
    return due


# --- Responsibility items -----------------------------------------------------------------------
def items_with_colour_filter(queryset, colour: str, today: datetime.date | None = None):
    today = today or timezone.localdate()
    if colour == "done":
        return queryset.filter(status=ItemStatus.APPROVED)
    low, high = colour_date_bounds(today)[colour]
    queryset = queryset.exclude(status=ItemStatus.APPROVED)
    if colour == "blue":
        return queryset.filter(Q(deadline__gte=low) | Q(deadline__isnull=True))
    if low is not None:
        queryset = queryset.filter(deadline__gte=low)
    return queryset.filter(deadline__lte=high)


def review_priority(queryset, today: datetime.date | None = None):
    """Pending approvals first, then red items, then the rest by deadline."""
    today = today or timezone.localdate()
    return queryset.annotate(
        priority=Case(
            When(status=ItemStatus.SUBMITTED, then=Value(0)),
            When(~Q(status=ItemStatus.APPROVED) & Q(deadline__lt=today), then=Value(1)),
            default=Value(2), output_field=IntegerField(),
        )
    ).order_by("priority", "deadline", "id")


def pending_approvals_queryset(user):
    """Submitted items waiting for `user`'s approval (not their own), soonest deadline first."""
    items = reviewable_items(user).filter(status=ItemStatus.SUBMITTED)
    if user.person_id:
        items = items.exclude(responsible_id=user.person_id)
    return items.select_related("lead_org_unit", "responsible").order_by("deadline", "id")


def pending_approvals(user, limit: int = 50):
    return list(pending_approvals_queryset(user)[:limit])


def red_items_queryset(user, permission: str = "tasks.view", today: datetime.date | None = None):
    items = items_with_colour_filter(visible(ResponsibilityItem.objects.all(), user, permission), "red", today)
    return items.select_related("lead_org_unit", "responsible").order_by("deadline", "id")


def red_items(user, permission: str = "tasks.view", limit: int = 50, today: datetime.date | None = None):
    return list(red_items_queryset(user, permission, today)[:limit])


def my_open_items_queryset(user):
    """The open items `user`'s person is responsible for, soonest deadline first."""
    items = visible(ResponsibilityItem.objects.exclude(status=ItemStatus.APPROVED), user, "tasks.view")
    return items.filter(responsible_id=user.person_id).select_related("lead_org_unit", "responsible").order_by("deadline", "id")


# --- Points -------------------------------------------------------------------------------------
def points_ranking(unit: OrgUnit, year: int, limit: int = 500):
    """People of `unit`'s subtree ranked by their points in `year`. One query."""
    from django.db.models import F, Window
    from django.db.models.functions import Rank

    return list(
        Person.objects.filter(subtree_q(unit, "org_unit"), is_active=True)
        .annotate(total=Coalesce(Sum("points__points", filter=Q(points__awarded_on__year=year)), 0))
        .annotate(rank=Window(Rank(), order_by=F("total").desc()))
        .select_related("org_unit")
        .order_by("-total", "employee_no")[:limit]
    )


# --- Member development board -------------------------------------------------------------------
@dataclass
class BoardCard:
    person: Person
    stage: str
    reached_on: datetime.date
    next_stage: str | None
    next_earliest: datetime.date | None
    overdue: bool = False


def development_board(unit: OrgUnit, *, today: datetime.date | None = None) -> dict[str, list[BoardCard]]:
    """People of `unit`'s subtree by their current development stage (not yet full members), with
    what is due next and when (members.workflow). One query."""
    today = today or timezone.localdate()
    records = (
        DevelopmentRecord.objects.filter(subtree_q(unit, "person__org_unit"), person__is_active=True)
        .select_related("person", "person__org_unit").order_by("person_id", "reached_on")[:20000]
    )
    history: dict[int, dict[str, datetime.date]] = defaultdict(dict)
    people: dict[int, Person] = {}
    for record in records:
        history[record.person_id][record.stage] = record.reached_on
        people[record.person_id] = record.person
    board: dict[str, list[BoardCard]] = {s: [] for s in member_workflow.STAGE_ORDER if s != DevelopmentStage.FULL}
    for person_id, recorded in history.items():
        if DevelopmentStage.FULL in recorded:
            continue
        stage = [s for s in member_workflow.STAGE_ORDER if s in recorded][-1]
        nxt = member_workflow.next_stage(recorded)
        if stage == DevelopmentStage.PROBATIONARY:
            earliest = member_workflow.conversion_due_on(recorded[stage])
        else:
            earliest = member_workflow.earliest_date(nxt, recorded) if nxt else None
        board[stage].append(BoardCard(people[person_id], stage, recorded[stage], nxt or None, earliest,
                                      overdue=bool(stage == DevelopmentStage.PROBATIONARY and earliest and earliest < today)))
    for cards in board.values():
        cards.sort(key=lambda c: (c.next_earliest or datetime.date.max, c.person.employee_no))
    return board


def branches_for(user, permission: str):
    return visible(OrgUnit.objects.filter(kind__in=[OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE]),
                   user, permission).order_by("path")


def upcoming_activities(user, *, limit: int = 5, now: datetime.datetime | None = None):
    now = now or timezone.now()
    return list(
        visible(Activity.objects.all(), user, "activities.view")
        .filter(status=ActivityStatus.PLANNED, held_at__gte=now - datetime.timedelta(hours=12))
        .select_related("org_unit").order_by("held_at")[:limit]
    )


def activity_page(user, activity: Activity) -> dict:
    """What the activity page shows: the roster (everyone's to those who may change the activity,
    one's own otherwise), the counts per status, one's own attendance and the photos."""
    from django.db.models import Count

    from portal.roles import has_permission

    from . import workflow
    from .choices import AttendanceStatus

    can_change = has_permission(user, "activities.change") and visible(
        Activity.objects.filter(pk=activity.pk), user, "activities.change").exists()
    attendances = activity.attendances.select_related("person", "person__org_unit").order_by("person__employee_no")
    if not can_change:
        attendances = attendances.filter(person_id=user.person_id) if user.person_id else attendances.none()
    attendances = list(attendances[:1000])
    counts = dict(activity.attendances.values_list("status").annotate(n=Count("id")).order_by())
    mine = next((a for a in attendances if a.person_id == user.person_id), None) if user.person_id else None
    return dict(
        can_change=can_change,
        attendances=attendances,
        counts={s: counts.get(s, 0) for s in AttendanceStatus.values},
        invited=sum(counts.values()),
        mine=mine,
        photos=list(activity.photos.all()[:50]),
        held=workflow.has_been_held(activity.status, activity.held_at),
        statuses=AttendanceStatus.choices,
        can_leave=bool(mine and activity.status == ActivityStatus.PLANNED and mine.status != AttendanceStatus.PRESENT),
    )


def item_page(user, item: ResponsibilityItem) -> dict:
    """What the responsibility item page shows besides its forms: the sub-items, cooperating units,
    events and parent chain, and who may update, decide or change it."""
    from portal.roles import has_permission

    from . import services

    return dict(
        children=list(item.children.select_related("lead_org_unit", "responsible").order_by("deadline", "id")[:200]),
        cooperating=list(item.cooperating_units.all()[:50]),
        events=list(item.records.select_related("by")[:100]),
        ancestors=item_ancestors(item),
        can_progress=services.may_update_progress(user, item) and item.status in (ItemStatus.IN_PROGRESS, ItemStatus.RETURNED),
        can_decide=item.status == ItemStatus.SUBMITTED and services.may_approve(user, item),
        own_item=bool(user.person_id and user.person_id == item.responsible_id),
        can_change=has_permission(user, "tasks.change") and visible(
            ResponsibilityItem.objects.filter(pk=item.pk), user, "tasks.change").exists(),
        has_children=bool(item.children.exists()),
        children_open=item.children.exclude(status=ItemStatus.APPROVED).exists(),
    )


def item_ancestors(item: ResponsibilityItem) -> list[ResponsibilityItem]:
    chain, current, guard = [], item.parent, 0
    while current is not None and guard < 10:
        chain.insert(0, current)
        current, guard = current.parent, guard + 1
    return chain


def activity_qr_page(activity: Activity, checkin_url: str) -> dict:
    """The meeting-room screen: the QR code of the check-in link, how often it renews and the
    attendance so far."""
    from django.utils.safestring import mark_safe

    from . import services
    from .choices import AttendanceStatus
    from .qr import qr_svg

    return {
        "activity": activity, "checkin_url": checkin_url, "qr": mark_safe(qr_svg(checkin_url)),
        "refresh": services.CHECKIN_CODE_REFRESH, "valid_minutes": services.CHECKIN_CODE_MAX_AGE // 60,
        "present": activity.attendances.filter(status=AttendanceStatus.PRESENT).count(),
        "invited": activity.attendances.count(),
    }


def project_page(user, project) -> dict:
    """What the project page shows besides its forms: who may do what, the closing problems, the
    team, milestones, expenses, risks and approvals, progress and money."""
    from portal.roles import has_permission

    from . import services, workflow
    from .choices import ProjectStage
    from .models import Project

    can_change = has_permission(user, "projects.change") and visible(
        Project.objects.filter(pk=project.pk), user, "projects.change").exists()
    pending = workflow.project_may_decide(project.stage, project.approval)
    spent = services.project_spent(project)
    in_evaluation = project.stage == ProjectStage.EVALUATION
    return dict(
        can_change=can_change,
        can_submit=can_change and workflow.project_may_submit(project.stage, project.approval),
        can_decide=pending and services.may_decide_project(user, project),
        # Shown to whoever could otherwise decide: why the buttons are missing.
        own_submission=pending and has_permission(user, "projects.approve") and not services.may_decide_project(user, project)
        and visible(Project.objects.filter(pk=project.pk), user, "projects.approve").exists(),
        closing_problems=services.project_closing_problems(project) if in_evaluation else [],
        team=list(project.team.select_related("org_unit")[:100]),
        milestones=list(project.milestones.all()[:100]),
        expenses=list(project.expenses.all()[:200]),
        risks=list(project.risks.all()[:100]),
        events=list(project.approvals.select_related("by")[:100]),
        progress=services.project_progress(project),
        spent=spent,
        remaining=project.budget - spent,
        spent_percent=int(spent * 100 / project.budget) if project.budget else 0,
        stages=[(s, s.label) for s in workflow.PROJECT_STAGE_ORDER],
        stage_index=workflow.PROJECT_STAGE_ORDER.index(project.stage),
        in_evaluation=in_evaluation,
        show_evaluation=project.stage in (ProjectStage.EVALUATION, ProjectStage.CLOSED),
    )
