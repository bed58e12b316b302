"""portal.labels.choice_labels says what get_FOO_display says, value for value, in both languages."""
from django.utils import translation

from activities.models import Activity
from demands.models import LifeEvent, Visit
from portal.labels import choice_labels


def test_choice_labels_are_those_of_get_display():
    for model, field in ((Visit, "kind"), (LifeEvent, "kind"), (Activity, "type")):
        for language in ("zh-hans", "en"):
            with translation.override(language):
                labels = choice_labels(model, field)
                values = [value for value, _label in model._meta.get_field(field).flatchoices]
                assert values and set(labels) == set(values)
                for value in values:
                    assert labels[value] == getattr(model(**{field: value}), f"get_{field}_display")()
    with translation.override("zh-hans"):
        assert choice_labels(Visit, "kind") != {v: v for v in choice_labels(Visit, "kind")}  # translated
