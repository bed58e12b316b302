import pytest


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks enqueued with .delay() run in-process, except in tests that start a real worker."""
    if "celery_worker" in request.fixturenames:
        yield
        return
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _default_points_rules(request):
    """The default rules come from a data migration; a transactional test's flush removes them, so
    put them back for every test that uses the database."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames or (
        request.node.get_closest_marker("django_db") and request.node.get_closest_marker("django_db").kwargs.get("transaction")
    ) else "db")
    from importlib import import_module

    from activities.models import PointsRule

    defaults = import_module("activities.migrations.0002_default_points_rules").DEFAULT_RULES
    for type_, points in defaults.items():
        PointsRule.objects.get_or_create(type=type_, defaults={"points": points})
