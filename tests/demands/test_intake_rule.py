"""The intake rule ("submit on behalf") lives in demands.services.intake_parties and is enforced
inside demand_submit: the page, the API and any other caller get the same answer."""
import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from demands import services
from demands.models import Demand
from portal.roles import Role
from tests.conftest import client_for, make_user
from tests.factories.demands import category, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture
def seconded(tree):
    """A secretary for branch A whose own person record sits in branch B."""
    return make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.branch_b, username="seconded")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_demand_submit_refuses_a_submitter_outside_the_scope(tree, owner, person_b):
    with pytest.raises(ValidationError) as error:
        make_demand(None, submitter=person_b, by=owner)
    assert "submitter" in error.value.message_dict
    assert not Demand.objects.exists()


def test_demand_submit_refuses_a_unit_outside_the_scope(tree, owner, person_a):
    with pytest.raises(ValidationError) as error:
        make_demand(tree.branch_b, submitter=person_a, by=owner)
    assert "org_unit" in error.value.message_dict


def test_demand_submit_defaults_the_unit_and_holds_employees_to_their_own(tree, owner, member, person_a):
    assert make_demand(None, submitter=person_a, by=owner).org_unit == person_a.org_unit
    own = make_demand(tree.branch_b, submitter=person_a, by=member, channel="self_service")
    assert (own.submitter, own.org_unit) == (member.person, member.person.org_unit)
    with pytest.raises(ValidationError) as error:
        make_demand(None, by=member, channel="petition")
    assert "channel" in error.value.message_dict


def test_the_api_cannot_submit_for_someone_whose_unit_is_outside_the_scope(tree, seconded):
    category()
    response = api(seconded).post("/api/demands/", {"title": "宿舍漏水", "category": "other",
                                                     "submitter": seconded.person.employee_no}, format="json")
    assert response.status_code == 400 and "org_unit" in response.json(), response.json()
    assert not Demand.objects.exists()
    response = api(seconded).post("/api/demands/", {"title": "宿舍漏水", "category": "other", "org_unit": "A",
                                                     "submitter": seconded.person.employee_no}, format="json")
    assert response.status_code == 201, response.json()


def test_the_page_shows_the_rule_beside_the_unit_field(client, tree, seconded):
    category()
    response = client_for(client, seconded).post("/demands/new/", {
        "submitter": seconded.person.pk, "title": "宿舍漏水", "content": "请修理", "category": category().pk,
        "urgency": "normal", "channel": "staff_entry",
    })
    assert response.status_code == 200
    assert "org_unit" in response.context["form"].errors
    assert not Demand.objects.exists()
