"""Reads for organisation and people, always through the scope layer."""
from __future__ import annotations

import datetime

from django.contrib.postgres.fields import ArrayField
from django.db.models import BooleanField, Case, F, Func, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.scope import subtree_q, visible

from . import workflow
from .choices import PARTY_MEMBER_STATUSES, DevelopmentStage
from .models import DevelopmentRecord, OrgUnit, Person, PointsEntry, UnitPeopleCount


def orgunit_subtree(unit: OrgUnit):
    return OrgUnit.objects.filter(subtree_q(unit))


def people_in_subtree(unit: OrgUnit):
    return Person.objects.filter(subtree_q(unit, "org_unit"))


def person_points_total(person: Person) -> int:
    """The person's points: from the page's own query when it annotated them (with_points_total)."""
    total = getattr(person, "points_total", None)
    return total if total is not None else person.points.aggregate(total=Sum("points"))["total"] or 0


def with_points_total(queryset):
    """People with their points total, as a subquery of the same query (the person page)."""
    return queryset.annotate(points_total=Coalesce(_scalar(PointsEntry.objects.filter(person=OuterRef("pk")), "SUM", "points"), 0))


def _scalar(queryset, function: str, field: str = "pk") -> Subquery:
    """`function` (COUNT, SUM) over the rows of `queryset`, as a subquery of one value."""
    value = Func(F(field), function=function)
    return Subquery(queryset.order_by().annotate(value=value).values("value"), output_field=IntegerField())


def scope_people(user):
    return visible(Person.objects.filter(is_active=True), user, "people.view")


def _scope_counts(user):
    """One row: `counts` = [the active people of the user's scope, the party members among them],
    summed from the maintained per-unit counts (UnitPeopleCount: a few rows per unit of the scope
    instead of a scan of its people). Plain SQL functions, not Django aggregates, so there is no
    GROUP BY (as `_scalar`)."""
    members = Case(When(political_status__in=PARTY_MEMBER_STATUSES, then=F("n")), default=0)
    both = Func(Coalesce(Func(F("n"), function="SUM"), 0),
                Coalesce(Func(members, function="SUM", output_field=IntegerField()), 0),
                template="ARRAY[%(expressions)s]", output_field=ArrayField(IntegerField()))
    return visible(UnitPeopleCount.objects.all(), user, "people.view").order_by().annotate(counts=both).values("counts")


def scope_people_counts(user) -> dict[str, int]:
    """{total, members}: the active people of the user's scope and the party members among them."""
    rows = list(_scope_counts(user))  # none when the user's scope is empty
    total, members = rows[0]["counts"] if rows else (0, 0)
    return {"total": total, "members": members}


def person_with_points(person_id: int, *, scope_counts_for=None) -> Person | None:
    """The person with their unit and `points_total` in one query; with `scope_counts_for=user`,
    also that user's `scope_people_counts` (as `scope_total`, `scope_members`) in the same query."""
    points = PointsEntry.objects.filter(person=OuterRef("pk"))
    queryset = Person.objects.select_related("org_unit").annotate(
        points_total=Coalesce(_scalar(points, "SUM", "points"), 0)
    )
    if scope_counts_for is not None:
        queryset = queryset.annotate(
            scope_counts=Subquery(_scope_counts(scope_counts_for), output_field=ArrayField(IntegerField())))
    person = queryset.filter(pk=person_id).first()
    if person is not None and scope_counts_for is not None:
        person.scope_total, person.scope_members = person.scope_counts or (0, 0)
    return person


def person_and_scope_counts(user) -> tuple[Person | None, dict[str, int]]:
    """The user's person with unit and points, and the people counts of the user's scope ({total,
    members}), in one query."""
    person = person_with_points(user.person_id, scope_counts_for=user) if user.person_id else None
    if person is None:
        return None, scope_people_counts(user)
    return person, {"total": person.scope_total, "members": person.scope_members}


def due_conversions(user, *, within_days: int = workflow.CONVERSION_REMINDER_DAYS, limit: int = 200, today: datetime.date | None = None):
    """Probationary members whose conversion (转正) is due within `within_days` or overdue and who
    have no full-member record yet, soonest first. One query."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=within_days)
    latest_probation = horizon - workflow.MIN_INTERVALS[DevelopmentStage.FULL][1]
    # A year after 29 February is 28 February: that probation is due on the horizon too.
    if workflow.conversion_due_on(latest_probation + datetime.timedelta(days=1)) <= horizon:
        latest_probation += datetime.timedelta(days=1)
    records = (
        DevelopmentRecord.objects.filter(stage=DevelopmentStage.PROBATIONARY, reached_on__lte=latest_probation)
        .exclude(person__development__stage=DevelopmentStage.FULL)
        .select_related("person", "person__org_unit")
        .order_by("reached_on")
    )
    records = list(visible(records, user, "development.view")[:limit])
    for record in records:
        record.due_on = workflow.conversion_due_on(record.reached_on)
        record.overdue = record.due_on < today
    return records


def search_people(queryset, term: str):
    term = term.strip()
    if not term:
        return queryset
    return queryset.filter(Q(employee_no__istartswith=term) | Q(name__istartswith=term))


def unit_path(unit_id: int, user, permission: str) -> list[OrgUnit]:
    """The units in the user's scope on the path from the root to the unit, root first (the unit
    itself last when the user may see it), in one query."""
    on_path = RawSQL(
        f"{OrgUnit._meta.db_table}.id = ANY(string_to_array(trim(both '/' from "
        f"(SELECT path FROM {OrgUnit._meta.db_table} WHERE id = %s)), '/')::bigint[])",
        [unit_id], output_field=BooleanField(),
    )
    return list(visible(OrgUnit.objects.select_related("parent").alias(on_path=on_path).filter(on_path=True),
                        user, permission).order_by("depth"))


def org_tree(user, permission: str = "orgunits.view") -> list[dict]:
    """The org units the user may see as a tree: each node has its unit, its children and the
    counts of its whole subtree (people employed, party members among them, party branches).
    Two queries whatever the size: the visible units, and people counted per unit."""
    from django.db.models import Count

    from .choices import OrgKind

    units = list(visible(OrgUnit.objects.all(), user, permission).order_by("depth", "sort_order", "path"))
    direct = {
        row["org_unit_id"]: row for row in
        Person.objects.filter(is_active=True, org_unit__in=[u.pk for u in units]).order_by()
        .values("org_unit_id").annotate(people=Count("id"),
                                        members=Count("id", filter=Q(political_status__in=PARTY_MEMBER_STATUSES)))
    }
    nodes = {u.pk: {"unit": u, "children": [], "people": direct.get(u.pk, {}).get("people", 0),
                    "members": direct.get(u.pk, {}).get("members", 0),
                    "branches": 1 if u.kind == OrgKind.BRANCH else 0} for u in units}
    roots = []
    for unit in units:  # parents come before their children (ordered by depth)
        node = nodes[unit.pk]
        (nodes[unit.parent_id]["children"] if unit.parent_id in nodes else roots).append(node)
    for unit in reversed(units):  # deepest first: add each subtree's counts to its parent
        parent = nodes.get(unit.parent_id)
        if parent is not None:
            for key in ("people", "members", "branches"):
                parent[key] += nodes[unit.pk][key]
    return roots


def person_page(user, person: Person) -> dict:
    """What the person page (一人一档) shows besides its forms: the masked contact details, the
    timeline, the party development, the points and what the user may do."""
    from portal.registry import person_timeline
    from portal.roles import has_permission

    from .masking import mask_id_number, mask_phone, may_reveal

    return dict(
        masked_phone=mask_phone(person.phone),
        masked_id_number=mask_id_number(person.id_number),
        may_reveal=may_reveal(user, person),
        timeline=person_timeline(person, user, limit=50),
        **person_development(person),
        points_total=person_points_total(person),
        recent_points=person.points.select_related("awarded_by")[:10],
        can_change=has_permission(user, "people.change"),
        can_develop=has_permission(user, "development.change"),
        can_adjust_points=has_permission(user, "points.change"),
    )


def person_development(person: Person) -> dict:
    """The party development of one person for the person page: every stage with its record (or
    None), the next stage, its earliest date and the date a probationary member is due for
    conversion."""
    recorded = {r.stage: r for r in person.development.all()}
    upcoming = workflow.next_stage({s: r.reached_on for s, r in recorded.items()})
    return dict(
        development=[(stage, recorded.get(stage)) for stage in workflow.STAGE_ORDER],
        next_stage=upcoming,
        next_stage_earliest=workflow.earliest_date(upcoming, {s: r.reached_on for s, r in recorded.items()})
        if upcoming else None,
        conversion_due=workflow.conversion_due_on(recorded["probationary"].reached_on)
        if "probationary" in recorded and "full" not in recorded else None,
    )


def filtered_person_ids(request, query: str, permission: str = "people.view") -> list[int] | None:
    """The ids of the people of the list page's filters (`query`, urlencoded) in the user's scope,
    by employee number; None when the filters are not valid."""
    from django.http import QueryDict

    from .filtersets import PersonFilterSet

    people = visible(Person.objects.select_related("org_unit"), request.user, permission)
    filterset = PersonFilterSet(QueryDict(query), queryset=people, request=request)
    if not filterset.is_valid():
        return None
    return list(filterset.qs.order_by("employee_no").values_list("pk", flat=True))
