"""Demand.get_status_display, written out for speed, says what Django's would, in both languages."""
from django.utils import translation

from demands.choices import Status
from demands.models import Demand


def test_status_labels_are_djangos():
    field = Demand._meta.get_field("status")
    for language in ("zh-hans", "en"):
        with translation.override(language):
            djangos = {value: str(label) for value, label in field.flatchoices}
            for value in Status.values:
                assert Demand(status=value).get_status_display() == djangos[value]
            assert Demand(status="unknown").get_status_display() == "unknown"
    with translation.override("zh-hans"):
        assert Demand(status=Status.PENDING).get_status_display() == "待受理"
