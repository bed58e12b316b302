from portal.registry import home_widget

WIDGET_ROWS = 5


@home_widget("members/hardship/widgets/due_reviews_lazy.html", "hardship.view", order=25)
def due_reviews(request):
    """The card is loaded after the page (views.DueReviewsWidgetView), so the home page makes no
    query for it."""
    return {}
