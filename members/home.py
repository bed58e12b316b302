from portal.batch import once_per_request
from portal.registry import home_widget
from portal.roles import has_permission

from .selectors import due_conversions, person_and_scope_counts, person_with_points


def member_facts(request) -> tuple:
    """(my person with unit and points, the people counts of my scope), whichever the user's
    widgets show, in one query."""

    def load():
        user = request.user
        if has_permission(user, "orgunits.view"):
            return person_and_scope_counts(user)
        return (person_with_points(user.person_id) if user.person_id else None), None

    return once_per_request(request, "members.facts", load)


@home_widget("members/widgets/my_record.html", "people.view", order=10)
def my_record(request):
    if not request.user.person_id:
        return None
    person, _counts = member_facts(request)
    if person is None:
        return None
    return {"person": person, "points": person.points_total}


@home_widget("members/widgets/scope_summary.html", "orgunits.view", order=20)
def scope_summary(request):
    _person, counts = member_facts(request)
    return {"counts": counts, "due": due_conversions(request.user, limit=5), "scope": request.user.scope_org}
