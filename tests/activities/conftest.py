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
