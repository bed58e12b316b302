"""Invalid input on the evaluation pages comes back beside its field, with what was typed kept."""
import pytest

from evaluation.models import AppraisalResult, AppraisalRound, Campaign, MonthlyReport, RaterGroup
from tests.conftest import client_for
from tests.factories.evaluation import member as member_person
from tests.field_errors import field_container

pytestmark = pytest.mark.django_db


def test_report_request_errors_beside_the_pickers(client, tree, manager):
    client_for(client, manager)
    response = client.post("/evaluation/reports/request/", {"period": "2026-13", "org_unit": "999999"})
    assert response.status_code == 400
    page = response.content.decode()
    period = field_container(page, "period")
    assert 'value="2026-13"' in period and "invalid-feedback" in period
    assert "invalid-feedback" in field_container(page, "org_unit")
    assert not MonthlyReport.objects.exists()
    assert not list(response.context["messages"])


def test_campaign_raters_error_beside_the_picker_and_group_kept(client, tree, manager):
    campaign = Campaign.objects.create(name="2026年度考核", org_unit=tree.root, year=2026, created_by=manager)
    campaign.subjects.set([tree.branch_a])
    RaterGroup.objects.create(campaign=campaign, kind="mass", weight=40)
    peer = RaterGroup.objects.create(campaign=campaign, kind="peer", weight=60)
    client_for(client, manager)
    response = client.post(f"/evaluation/campaigns/{campaign.pk}/raters/", {"group": peer.pk, "raters": []})
    assert response.status_code == 400
    page = response.content.decode()
    assert "invalid-feedback" in field_container(page, "raters")
    assert f'<option value="{peer.pk}" selected>' in page
    assert not list(response.context["messages"])


def test_appraisal_voters_error_beside_the_picker(client, tree, manager):
    round = AppraisalRound.objects.create(name="民主评议", org_unit=tree.branch_a, year=2026)
    client_for(client, manager)
    response = client.post(f"/evaluation/appraisals/{round.pk}/voters/", {"raters": ["999999"]})
    assert response.status_code == 400
    assert "invalid-feedback" in field_container(response.content.decode(), "raters")
    assert not round.voters.exists()


def test_appraisal_grade_row_error_beside_the_field_and_input_kept(client, tree, manager):
    round = AppraisalRound.objects.create(name="民主评议", org_unit=tree.branch_a, year=2026)
    result = AppraisalResult.objects.create(round=round, person=member_person(tree.branch_a))
    client_for(client, manager)
    note = "经支委会研究" + "长" * 300
    response = client.post(f"/evaluation/appraisals/{round.pk}/grade/",
                           {"id": result.pk, "final_grade": "basic", "note": note})
    assert response.status_code == 400
    page = response.content.decode()
    container = field_container(page, "note")
    assert "invalid-feedback" in container and note in container
    assert '<option value="basic" selected>' in field_container(page, "final_grade")
    result.refresh_from_db()
    assert result.final_grade == "" and result.note == ""
