from django.utils import timezone

from portal.registry import home_widget

from . import selectors

WIDGET_ROWS = 5


@home_widget("members/hardship/widgets/due_reviews.html", "hardship.view", order=25)
def due_reviews(request):
    rows = list(selectors.due_reviews(request.user, timezone.localdate())[: WIDGET_ROWS + 1])
    if not rows:
        return None
    return {"rows": rows[:WIDGET_ROWS], "more": len(rows) > WIDGET_ROWS, "today": timezone.localdate()}
