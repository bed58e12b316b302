"""The whole API under schemathesis: every operation of the live schema (/api/schema/), a fixed
seed and a small example budget (so the run stays within the suite's time), authenticated as a
staff account that sees data. No response may be a server error or differ from the schema."""
import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from portal.roles import Role
from tests.conftest import make_user
from tests.factories import PersonFactory
from tests.factories.activities import ActivityFactory, ItemFactory, MilestoneFactory
from tests.factories.demands import LifeEventFactory, MediationFactory, VisitFactory, make_demand
from tests.factories.hardship import AssistanceFactory, HouseholdFactory

EXAMPLES_PER_OPERATION = 5
SEED = 20260413
CALLS = {"operations": set(), "requests": 0}
# Two checks ask what an OpenAPI schema cannot say here: ignored_auth counts the session cookie it
# generates itself as "invalid auth" beside the valid token sent (authentication and scope are
# tested in tests/portal/test_scope.py and test_api.py); positive_data_acceptance expects any
# integer to be accepted as a reference (org_unit=0), while the row must exist and be in scope.
NOT_CHECKED = [ignored_auth, positive_data_acceptance]


# The live schema, read once through the WSGI application as a client would (the view needs no
# database). Requests go through the same application, inside each test's transaction.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# The coverage phase (boundary and invalid values of every parameter) stays; sending every HTTP
# method the operation does not have and every parameter twice is left out to bound the run.
schema.config.phases.coverage.unexpected_methods = set()
schema.config.phases.coverage.generate_duplicate_query_parameters = False


@pytest.fixture
def keep_connection():
    """Django's test client keeps the test's database connection open across requests; a plain
    WSGI call would close it when the request finishes (and lose the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_token(db, tree, keep_connection):
    staff = make_user(Role.ADMIN, tree.root, person_unit=tree.department, username="fuzz", may_view_sensitive=True)
    person = PersonFactory(org_unit=tree.group_a, employee_no="E100")
    make_demand(tree.group_a, submitter=person, by=staff, title="=HYPERLINK(\"x\")")
    LifeEventFactory(person=person)
    VisitFactory(person=person)
    MediationFactory(org_unit=tree.branch_a)
    ActivityFactory(org_unit=tree.branch_a)
    ItemFactory(lead_org_unit=tree.branch_a)
    MilestoneFactory()
    household = HouseholdFactory(person=person, liaison=staff)
    AssistanceFactory(household=household, amount=1000)
    return Token.objects.create(user=staff).key


@schema.parametrize()
@hypothesis.seed(SEED)
@hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
def test_api_answers_every_generated_request_as_its_schema_says(case, api_token):
    CALLS["operations"].add(case.operation.label)
    CALLS["requests"] += 1
    # A savepoint per call: one failed query must not abort the test's transaction for the rest.
    sid = transaction.savepoint()
    try:
        case.call_and_validate(headers={"Authorization": f"Token {api_token}"}, excluded_checks=NOT_CHECKED)
    finally:
        transaction.savepoint_rollback(sid)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print(f"\nschemathesis: {len(CALLS['operations'])} operations, {CALLS['requests']} generated requests")
