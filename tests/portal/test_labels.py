"""Labels start with a capital letter on English pages (the catalogue's msgids are lower-case, as
Django's model verbose names are) and stay as translated on Chinese ones: form and filter labels
through settings.FORM_RENDERER, table headers where the tables name them."""
import pytest
from django.utils import translation

from demands.filtersets import DemandFilterSet
from demands.forms import DemandIntakeForm
from demands.models import Demand
from demands.tables import DemandTable


@pytest.mark.django_db
@pytest.mark.parametrize("language, expected", [
    ("en", ["Reference or words of the title", "Status", "Received from", "Received until"]),
    ("zh-hans", ["编号或标题关键词", "状态", "登记日期从", "登记日期至"]),
])
def test_filter_labels(language, expected):
    with translation.override(language):
        form = DemandFilterSet(data={}, queryset=Demand.objects.none(), request=None).form
        assert [str(form[name].label) for name in ("q", "status", "received_from", "received_to")] == expected


@pytest.mark.django_db
def test_form_labels_and_table_headers_in_english(staff):
    with translation.override("en"):
        form = DemandIntakeForm(user=staff)
        assert all(str(form[name].label)[0].isupper() for name in form.fields)
        headers = [str(column.header) for column in DemandTable(Demand.objects.none()).columns]
        assert "Deadline" in headers
        assert all(header[0].isupper() for header in headers if header)
