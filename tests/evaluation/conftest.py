import pytest

from evaluation import engine
from evaluation.models import KpiSnapshot
from tests.factories.evaluation import at


@pytest.fixture(autouse=True)
def _no_recompute_hints(settings, request):
    """Saves in these tests would schedule debounced recomputes through Redis; only the tests about
    that behaviour turn it on."""
    settings.EVALUATION_RECOMPUTE_ON_CHANGE = "recompute_hints" in request.fixturenames


@pytest.fixture
def recompute_hints():
    """Request this fixture to let saves schedule debounced recomputes."""
    return True


@pytest.fixture
def compute():
    """compute(["2026-03"], as_of="2026-04-01 00:00") → the engine's Result."""

    def run(periods, as_of=None):
        return engine.compute(periods, as_of=at(as_of) if isinstance(as_of, str) else as_of)

    return run


@pytest.fixture
def figure():
    """figure("demand_intake", "2026-03", unit) → (value, numerator, denominator)."""

    def get(code, period, unit):
        snap = KpiSnapshot.objects.get(kpi_id=code, period=period, org_unit=unit)
        return snap.value, snap.numerator, snap.denominator

    return get


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks enqueued with .delay() run in-process, except in tests that start a real worker."""
    if "celery_worker" in request.fixturenames or "recompute_hints" in request.fixturenames:
        yield
        return
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
