from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def unread_notification_count():
    """The account's unread notifications as a subquery (served by the partial index on unread rows)."""
    from .models import Notification

    unread = (
        Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
        .order_by().values("user").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


class ModelBackend(DjangoModelBackend):
    """Loads the account with its scope unit, its person and its unread-notification count (the
    badge of every page) in the one query every request makes."""

    def get_user(self, user_id):
        user = self._load(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _load(user_id):
        user_model = get_user_model()
        try:
            return (
                user_model._default_manager.select_related("scope_org", "person")
                .annotate(unread_notification_count=unread_notification_count())
                .get(pk=user_id)
            )
        except (user_model.DoesNotExist, ValueError):
            return None
