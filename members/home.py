from django.db.models import Count, Q

from portal.registry import home_widget
from portal.scope import visible

from .choices import PARTY_MEMBER_STATUSES
from .models import Person
from .selectors import due_conversions, person_with_points


@home_widget("members/widgets/my_record.html", "people.view", order=10)
def my_record(request):
    if not request.user.person_id:
        return None
    person = person_with_points(request.user.person_id)
    if person is None:
        return None
    return {"person": person, "points": person.points_total}


@home_widget("members/widgets/scope_summary.html", "orgunits.view", order=20)
def scope_summary(request):
    people = visible(Person.objects.filter(is_active=True), request.user, "people.view")
    counts = people.aggregate(total=Count("id"), members=Count("id", filter=Q(political_status__in=PARTY_MEMBER_STATUSES)))
    return {"counts": counts, "due": due_conversions(request.user, limit=5), "scope": request.user.scope_org}
