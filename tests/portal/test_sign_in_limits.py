"""The sign-in doors count failed attempts only: an office behind one address signs in every
morning, while guessing one account's password, or many accounts' from one place, is refused."""
import pytest
from django.test import Client

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

OFFICE = "10.20.0.1"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "login": "3/h", "login_address": "8/h",
                                   "api_token": "3/h", "api_token_address": "8/h"}


def sign_in(username, password=TEST_PASSWORD, address=OFFICE):
    return Client().post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address).status_code


def test_a_whole_office_behind_one_address_signs_in():
    people = UserFactory.create_batch(12)
    assert [sign_in(user.username) for user in people] == [302] * 12
    # And again after lunch: successful sign-ins are never counted.
    assert [sign_in(user.username) for user in people] == [302] * 12


def test_one_persons_wrong_passwords_do_not_lock_out_colleagues():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    assert [sign_in("alice", "wrong") for _ in range(3)] == [200] * 3  # the form again, with its error
    assert sign_in("Alice ") == 429  # the next try for that name from there, even the right password
    assert sign_in("alice", address="10.20.0.2") == 302  # from elsewhere
    assert sign_in(bob.username) == 302
    assert alice.pk


def test_many_names_tried_from_one_address_are_refused_there_only():
    statuses = [sign_in(f"nobody{n}", "guess") for n in range(8)]
    assert statuses == [200] * 8
    user = UserFactory()
    assert sign_in(user.username) == 429
    assert sign_in(user.username, address="10.20.0.2") == 302


def test_api_tokens_count_failures_per_name_too():
    api = Client()
    owner, other = UserFactory(username="owner"), UserFactory(username="other")

    def token(username, password=TEST_PASSWORD):
        return api.post("/api/auth/token/", {"username": username, "password": password},
                        content_type="application/json", REMOTE_ADDR=OFFICE).status_code

    assert [token("owner", "wrong") for _ in range(3)] == [400] * 3
    assert token("owner") == 429
    assert [token("other") for _ in range(5)] == [200] * 5
    assert owner.pk and other.pk


def test_a_name_longer_than_any_account_is_refused_like_a_wrong_one():
    """Kept whole, such a name overflowed the lockout table's column: a 500 on both doors."""
    from axes.models import AccessAttempt

    name = "a" * 5000
    assert sign_in(name, "guess") == 200
    response = Client().post("/api/auth/token/", {"username": name, "password": "guess"},
                             content_type="application/json", REMOTE_ADDR=OFFICE)
    assert response.status_code == 400
    assert AccessAttempt.objects.get(username="a" * 150).failures_since_start == 2
