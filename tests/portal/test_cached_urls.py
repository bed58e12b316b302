"""cached_reverse: one reverse() per URL, and still the right path when the portal is mounted below
the site root (SCRIPT_NAME) — the menu's cache once ignored the prefix."""
from django.urls import resolve, reverse, set_script_prefix

from portal.cached_urls import cached_reverse
from portal.registry import menu_for
from tests.conftest import make_user


def test_cached_paths_follow_the_script_prefix(tree):
    user = make_user("manager", tree.root)
    try:
        for prefix in ("/", "/dangqun/", "/"):
            set_script_prefix(prefix)
            assert cached_reverse("evaluation:drill", "demand_intake") == reverse("evaluation:drill", args=["demand_intake"])
            assert cached_reverse("evaluation:drill", "demand_intake").startswith(prefix)
            urls = [item.url for _group, items in menu_for(user) for item in items]
            assert urls and all(url.startswith(prefix) for url in urls)
            assert urls == [reverse(item.url_name) for _group, items in menu_for(user) for item in items]
    finally:
        set_script_prefix("/")


def test_record_links_are_the_reversed_paths(tree):
    """id_url gives what reverse() gives, for any id and below a script prefix too."""
    from portal.cached_urls import id_url

    try:
        for prefix in ("/", "/dangqun/"):
            set_script_prefix(prefix)
            for pk in (1, 10, 918273645, 2**40):
                assert id_url("demands:demand_detail", pk) == reverse("demands:demand_detail", args=[pk])
                assert id_url("members:person_detail", pk) == reverse("members:person_detail", args=[pk])
    finally:
        set_script_prefix("/")


def test_every_record_links_to_its_page_as_reverse_would(tree):
    """Each model's get_absolute_url (through id_url) is the path reverse() gives for its page."""
    from django.apps import apps

    checked = 0
    for model in apps.get_models():
        if "get_absolute_url" not in model.__dict__:
            continue
        record = model(pk=7)
        for name in ("demand_id", "visit_id", "household_id"):
            if hasattr(record, name):
                setattr(record, name, 3)
        url = record.get_absolute_url()
        match = resolve(url.split("#")[0])
        assert url.split("#")[0] == reverse(match.view_name, args=match.args, kwargs=match.kwargs), model
        assert 7 in match.kwargs.values() or 3 in match.kwargs.values(), model
        checked += 1
    assert checked >= 18
