"""A small world with records on both sides of every boundary, for drill-down and view tests."""
from tests.factories import PersonFactory
from tests.factories.evaluation import activity, attend, demand, item, life_event, mediation, member, visit


def build(tree):
    a, g, b = tree.branch_a, tree.group_a, tree.branch_b
    # Demands: intake, response, resolution, satisfaction, return visits.
    demand(g, received_at="2026-03-02 09:00", response_due_at="2026-03-03 09:00", first_response_at="2026-03-03 08:00",
           resolution_due_at="2026-03-12 09:00", resolved_at="2026-03-10 09:00", return_visit_at="2026-03-11 09:00",
           rating=5, status="visited")
    demand(g, received_at="2026-03-05 09:00", response_due_at="2026-03-06 09:00", first_response_at="2026-03-07 08:00",
           resolution_due_at="2026-03-15 09:00", resolved_at="2026-03-20 09:00", return_visit_at="2026-03-25 09:00",
           rating=2, status="visited")
    demand(a, received_at="2026-03-08 09:00", response_due_at="2026-03-09 09:00", first_response_at=None,
           resolution_due_at="2026-03-18 09:00", resolved_at=None, status="accepted")
    demand(a, received_at="2026-03-09 09:00", response_due_at="2026-03-10 09:00", status="withdrawn")
    demand(b, received_at="2026-03-10 09:00", response_due_at="2026-03-11 09:00", first_response_at="2026-03-10 10:00",
           resolution_due_at="2026-03-20 09:00", resolved_at="2026-03-31 10:00", return_visit_at="2026-04-02 10:00",
           rating=4, status="visited")
    demand(g, received_at="2026-03-31 23:59:59", status="rejected")
    # Mediation
    mediation(a, concluded_at="2026-03-10 10:00", outcome="success")
    mediation(g, concluded_at="2026-03-11 10:00", outcome="failed")
    mediation(b, concluded_at="2026-03-12 10:00", outcome="referred")
    # Meetings
    activity(a, "branch_committee", "2026-03-03 10:00")
    activity(g, "party_group", "2026-03-04 10:00")
    activity(b, "general_assembly", "2026-02-04 10:00")
    # Education
    people = [member(g), member(g), member(a, "probationary_member"), member(b)]
    attend(activity(a, "party_lecture", "2026-01-20 10:00"), people[0])
    attend(activity(b, "study_session", "2026-03-20 10:00"), people[3])
    attend(activity(a, "theme_party_day", "2026-03-21 10:00"), people[1], status="leave")
    # Responsibility items
    item(a, "2026-03-10", "2026-03-09 10:00")
    item(g, "2026-03-20", None)
    item(b, "2026-03-31", "2026-04-01 00:00")
    # Must-visits
    person = PersonFactory(org_unit=g)
    event = life_event(person, "2026-03-05")
    visit(person, "2026-03-12", life_event=event)
    life_event(person, "2026-03-06")
    other = PersonFactory(org_unit=b)
    late = life_event(other, "2026-03-01")
    visit(other, "2026-03-09", life_event=late)
    return people
