from django.utils import timezone

from portal.registry import home_widget

from . import selectors
from .periods import Period

HEADLINE = ("satisfaction_rate", "resolution_on_time_rate", "meeting_compliance_rate", "education_coverage_rate")


@home_widget("evaluation/widgets/kpis.html", "kpis.view", order=40)
def headline_kpis(request):
    from .views.common import home_unit

    try:
        unit = home_unit(request.user, "kpis.view")
    except Exception:
        return None
    period = Period.containing(timezone.now(), "month")
    kpis = [k for k in selectors.catalogue() if k.code in HEADLINE]
    return {"unit": unit, "period": period, "cards": selectors.cards(unit, period, kpis)}


@home_widget("evaluation/widgets/ratings.html", "campaigns.rate", order=45)
def pending_ratings(request):
    todo, ballots = selectors.ratings_to_do(request.user)
    if not todo and not ballots:
        return None
    return {"todo": todo, "ballots": ballots}
