"""The web process: what it loads to serve its first requests is taken out of the cyclic garbage
collector's reach once, so full collections do not walk it on every later page."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import gc
from django.conf import settings
from django.test import Client

# As the test suite serves static files (tests/conftest.py): no collectstatic manifest needed.
settings.STORAGES = {**settings.STORAGES,
                     "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from portal.wsgi import WARM_UP_REQUESTS

client = Client()
frozen = []
for _ in range(WARM_UP_REQUESTS + 5):
    assert client.get("/login/").status_code == 200
    frozen.append(gc.get_freeze_count())
print(WARM_UP_REQUESTS, *frozen)
"""


def test_a_web_process_freezes_what_its_first_requests_loaded_once():
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings_test")
    done = subprocess.run([sys.executable, "-c", SERVE], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    warm_up, *frozen = map(int, done.stdout.split())
    assert frozen[: warm_up - 1] == [0] * (warm_up - 1)
    # Everything the process holds by then: Django, the apps, the compiled templates.
    assert frozen[warm_up - 1] > 100_000
    # Once: what later requests load stays with the collector (frozen objects may still be freed).
    assert max(frozen[warm_up:]) <= frozen[warm_up - 1]
