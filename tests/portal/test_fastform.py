"""portal.fastform renders the filter form of every list as `{{ form|crispy }}` does.

Every list page (those of tests/portal/test_fasttable.py) is opened on the demo data as the
administrator, once without a filter and once with a value in every field that is wrong for most of
them (a date that does not exist, a choice that is not offered, markup in a text); its filter form is
then built again twice and rendered by crispy and by portal.fastform, which must give the same HTML
(whitespace between tags aside)."""
import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal import fastform
from tests.conftest import client_for
from tests.portal.test_fasttable import demo_data, normalise, table_urls  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

HOSTILE = {forms.DateInput: "2026-13-01", forms.Select: "no-such-choice", forms.NumberInput: "12abc"}


def wrong_values(form) -> dict:
    values = {}
    for field in form:
        widget = field.field.widget
        values[field.html_name] = next((v for kind, v in HOSTILE.items() if isinstance(widget, kind)), '<b>"x"&')
    return values


def fresh_form(filterset):
    return type(filterset)(filterset.data, queryset=filterset.queryset, request=filterset.request).form


def check(client, url: str, params: dict | None = None) -> bool:
    response = client.get(url, params or {})
    assert response.status_code == 200, url
    filterset = response.context.get("filter")
    if filterset is None:
        return False
    ours = str(fastform.render_form(fresh_form(filterset)))
    theirs = str(as_crispy_form(fresh_form(filterset)))
    ours_n, theirs_n = normalise(ours).strip(), normalise(theirs).strip()
    if ours_n != theirs_n:
        at = next((i for i, (a, b) in enumerate(zip(ours_n, theirs_n)) if a != b), min(len(ours_n), len(theirs_n)))
        pytest.fail(f"{url} {params} differs at {at}:\n ours:   {ours_n[at - 150:at + 150]}\n theirs: {theirs_n[at - 150:at + 150]}")
    assert ours_n in normalise(response.content.decode()), f"{url} did not render its filter form with portal.fastform"
    return fastform.renders(fresh_form(filterset))


def test_every_filter_form_and_demand_step_form_renders_as_crispy_does(client, demo_data):  # noqa: F811
    """One seeding of the demo data (the slow part) for every filter form, in both languages, and
    every step's form on demand pages of each status."""
    client_for(client, get_user_model().objects.get(username="admin"))
    for language in ("zh-hans", "en"):
        client.cookies["django_language"] = language
        check_filter_forms(client)
    check_demand_step_forms(client)


def check_filter_forms(client):
    urls = table_urls() + [reverse("activities:review"), reverse("portal:audit_trail")]
    fast = with_errors = 0
    for url in urls:
        fast += check(client, url)
        filterset = client.get(url).context.get("filter")
        if filterset is not None:
            wrong = wrong_values(filterset.form)
            check(client, url, wrong)
            with_errors += bool(fresh_form(type(filterset)(wrong, queryset=filterset.queryset, request=filterset.request)).errors)
    # Most filter forms take the fast path (the others are compared too, through crispy both ways),
    # and most of them were compared with errors beside their fields.
    assert fast >= len(urls) * 2 // 3, (fast, len(urls))
    assert with_errors >= len(urls) // 2, (with_errors, len(urls))


def check_demand_step_forms(client):
    """Empty, and posted with wrong values."""
    from demands.forms import ACTION_FORMS, action_forms
    from demands.models import Demand

    admin = get_user_model().objects.get(username="admin")
    seen, fast = set(), 0
    for status in Demand.objects.order_by("status").values_list("status", flat=True).distinct():
        demand = Demand.objects.filter(status=status).first()
        response = client.get(demand.get_absolute_url())
        assert response.status_code == 200
        actions = [action for action, _label, _form in response.context["actions"]]
        for action in actions:
            seen.add(action)
            pairs = [(action_forms(demand, admin, [action], candidates=[])[action],
                      action_forms(demand, admin, [action], candidates=[])[action])]
            blank = pairs[0][0]
            wrong = wrong_values(blank)
            kwargs = {"demand": demand, **({"user": admin, "candidates": []} if action == "merge" else {})}
            pairs.append((ACTION_FORMS[action](wrong, **kwargs), ACTION_FORMS[action](wrong, **kwargs)))
            for ours_form, theirs_form in pairs:
                ours, theirs = normalise(fastform.render_form(ours_form)).strip(), normalise(as_crispy_form(theirs_form)).strip()
                assert ours == theirs, (action, ours, theirs)
            fast += fastform.renders(blank)
            if fastform.renders(blank):
                loaded = client.get(reverse("demands:demand_action", args=[demand.pk, action]), HTTP_HX_REQUEST="true")
                assert normalise(fastform.render_form(action_forms(demand, admin, [action], candidates=[])[action])).strip() \
                    in normalise(loaded.content.decode())
    assert {"accept", "reject"} <= seen and fast >= 3, (seen, fast)


def test_a_filter_with_errors_is_shown_open_on_a_phone(client, tree, owner):
    """On a phone the filter card is folded; when a value is wrong it opens, so the message beside
    the field is seen and the empty list explained."""
    client_for(client, owner)
    url = reverse("demands:demand_list")
    folded = client.get(url).content.decode()
    assert 'class="card-body collapse d-lg-block" id="filterBody"' in folded
    opened = client.get(url, {"received_from": "2026-13-01"}).content.decode()
    assert 'class="card-body collapse d-lg-block show" id="filterBody"' in opened
    assert "invalid-feedback" in opened
