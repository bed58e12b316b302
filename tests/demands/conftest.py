import pytest
from django.utils import translation


def zh(msgid: str, **params) -> str:
    """The zh-Hans text users see for `msgid` (the portal's language), with its placeholders filled."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    return text % params if params else text


def zh_prefix(msgid: str) -> str:
    """The fixed words before the first placeholder of the zh-Hans text."""
    prefix = zh(msgid).split("%(")[0]
    assert prefix, f"no fixed words before the first placeholder in {msgid!r}"
    return prefix


@pytest.fixture(autouse=True)
def _fresh_text_model():
    """The text model and categories a process keeps belong to the previous test's database:
    forget them."""
    from demands import text_services

    text_services.forget_loaded()
    yield
    text_services.forget_loaded()
