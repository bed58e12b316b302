"""Secrets and deployment: no signing key in the source, signed tokens bound to their purpose,
`check --deploy` clean behind the HTTPS switch, a Content-Security-Policy on every page."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import signing
from django.urls import reverse

from activities import services as activity_services
from demands import services as demand_services
from portal import launcher
from tests.factories.activities import ActivityFactory
from tests.factories.demands import make_demand

ROOT = Path(__file__).resolve().parents[2]


def run_django(code: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "HTTPS")}
    environment.update(DJANGO_SETTINGS_MODULE="portal.settings", **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120)


def test_settings_refuse_to_start_without_a_key_when_debug_is_off():
    done = run_django("import django; django.setup()", DEBUG="false")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "SECRET_KEY is not set" in done.stderr
    assert run_django("import django; django.setup()", DEBUG="false", SECRET_KEY="k" * 50).returncode == 0


def test_make_run_generates_a_key_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "SECRET_KEY_FILE", tmp_path / "var" / "secret_key")
    first = launcher.local_secret_key()
    assert len(first) >= 50
    assert launcher.local_secret_key() == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert launcher._child_env({})["SECRET_KEY"] == first


def test_the_tests_have_a_key_of_their_own(settings):
    assert settings.SECRET_KEY.startswith("test-suite-only-key")


@pytest.mark.django_db
def test_a_token_signed_for_one_purpose_is_refused_for_another(tree, owner):
    activity = ActivityFactory(org_unit=tree.branch_a)
    demand = make_demand(tree.group_a, by=owner)
    demand.rating_nonce = "n1"
    checkin = activity_services.checkin_token(activity)
    rating = demand_services.rating_token(demand)
    with pytest.raises(demand_services.RatingLinkError):
        demand_services.read_rating_token(checkin)
    with pytest.raises(activity_services.CheckInRefused):
        activity_services.checkin_activity_id(rating)
    # Nor one signed without a purpose (a plain signing.dumps), nor with the old key of the source.
    with pytest.raises(demand_services.RatingLinkError):
        demand_services.read_rating_token(signing.dumps({"d": demand.pk, "n": "n1"}))
    with pytest.raises(activity_services.CheckInRefused):
        activity_services.checkin_activity_id(signing.TimestampSigner(
            key="dev-only-insecure-key-change-me", salt=activity_services.CHECKIN_SALT).sign_object({"a": activity.pk}))


def test_check_deploy_is_clean_with_https_settings():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, capture_output=True,
        text=True, timeout=180,
        env={**{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")},
             "DEBUG": "false", "HTTPS": "true",
             "SECRET_KEY": "x7Gq2-" + "Lm9pRz4vT8wK1bN6cY3hJ5fD0sA" * 2, "ALLOWED_HOSTS": "portal.example.cn"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/demands/public/submit/", "/demands/public/track/", "/"])
def test_every_page_carries_the_content_security_policy(client, admin_user, url):
    if url == "/":
        client.force_login(admin_user)
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'self'" in policy


@pytest.mark.django_db
def test_no_inline_script_in_the_pages(client, admin_user):
    client.force_login(admin_user)
    for url in ["/", reverse("demands:demand_list"), "/evaluation/", "/activities/compliance/"]:
        html = client.get(url).content.decode()
        assert " onclick=" not in html and " onchange=" not in html, url
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">")[0] or 'type="application/json"' in tag.split(">")[0], url
