"""cached_reverse: one reverse() per URL, and still the right path when the portal is mounted below
the site root (SCRIPT_NAME) — the menu's cache once ignored the prefix."""
from django.urls import reverse, set_script_prefix

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
