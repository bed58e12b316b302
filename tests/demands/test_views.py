"""Pages: scope (404 outside), the actions the table allows, intake, queues with colours, bad
input beside the fields, constant query counts."""
import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from demands import services
from demands.calendar import TZ
from demands.choices import Status
from demands.models import Demand
from tests.conftest import PAGE_QUERY_BUDGET, client_for, page_queries
from tests.factories import PersonFactory
from tests.factories.demands import accepted, category, make_demand, policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def demand_a(tree, owner, member):
    return make_demand(tree.group_a, submitter=member.person, by=owner, title="食堂午餐菜品单一")


@pytest.fixture
def demand_b(tree, outsider, person_b):
    return make_demand(tree.branch_b, submitter=person_b, by=outsider, title="第二支部宿舍热水问题")


def refs(response):
    return {d.ref for d in response.context["table"].data}


# --- Scope --------------------------------------------------------------------------------------------
def test_secretary_sees_only_the_branch(client, owner, demand_a, demand_b):
    response = client_for(client, owner).get(reverse("demands:demand_list"))
    assert response.status_code == 200
    assert refs(response) == {demand_a.ref}


def test_outsider_gets_404(client, outsider, demand_a):
    client_for(client, outsider)
    assert client.get(demand_a.get_absolute_url()).status_code == 404
    assert client.post(reverse("demands:demand_action", args=[demand_a.pk, "accept"])).status_code == 404


def test_employee_sees_own_demands_only(client, member, demand_a, tree, owner):
    other = make_demand(tree.group_a, submitter=PersonFactory(org_unit=tree.group_a), by=owner)
    client_for(client, member)
    assert client.get(demand_a.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    assert refs(client.get(reverse("demands:my_demands"))) == {demand_a.ref}
    assert client.get(reverse("demands:queue", args=["pending"])).status_code == 403


def test_handler_sees_what_is_assigned(client, handler, owner, demand_a, demand_b):
    client_for(client, handler)
    assert client.get(demand_a.get_absolute_url()).status_code == 404
    accepted(demand_a, by=owner, handler=handler)
    assert client.get(demand_a.get_absolute_url()).status_code == 200
    assert refs(client.get(reverse("demands:queue", args=["todo"]))) == {demand_a.ref}


def test_manager_reads_the_scope_but_acts_on_nothing(client, manager, demand_a):
    response = client_for(client, manager).get(demand_a.get_absolute_url())
    assert response.status_code == 200 and response.context["actions"] == []


# --- Actions shown are those of the table -----------------------------------------------------------
def action_names(client, user, demand):
    return [a for a, _label, _form in client_for(client, user).get(demand.get_absolute_url()).context["actions"]]


def test_actions_per_user(client, owner, member, handler, demand_a):
    assert action_names(client, owner, demand_a) == ["accept", "reject", "withdraw", "merge"]
    assert action_names(client, member, demand_a) == ["withdraw"]
    accepted(demand_a, by=owner, handler=handler)
    assert action_names(client, handler, demand_a) == ["reply", "resolve"]
    assert action_names(client, owner, demand_a) == ["transfer", "withdraw", "merge"]


def test_accept_through_the_page(client, owner, handler, demand_a, tree):
    response = client_for(client, owner).post(reverse("demands:demand_action", args=[demand_a.pk, "accept"]), {
        "category": demand_a.category_id, "urgency": "urgent", "handler": handler.pk, "lead_unit": tree.department.pk,
        "cooperating_units": [tree.branch_b.pk], "note": "请后勤牵头",
    })
    assert response.status_code == 302
    demand_a.refresh_from_db()
    assert (demand_a.status, demand_a.handler, demand_a.urgency) == (Status.ACCEPTED, handler, "urgent")


def test_a_step_s_form_is_loaded_when_its_button_opens_it(client, owner, member, outsider, demand_a):
    """The demand page carries the steps' buttons, not their forms: each form (and, for 受理, the
    text model's suggestion) is asked for when its button opens it, as the table allows the user."""
    html = client_for(client, owner).get(demand_a.get_absolute_url()).content.decode()
    accept_url = reverse("demands:demand_action", args=[demand_a.pk, "accept"])
    assert 'data-testid="action-accept"' in html and f'hx-get="{accept_url}"' in html
    assert 'id="form-accept"' not in html and 'data-testid="suggestion"' not in html
    loaded = client.get(accept_url, HTTP_HX_REQUEST="true")
    assert loaded.status_code == 200
    # In the steady state (the first suggestion may train the text model) within the page budget.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(accept_url, HTTP_HX_REQUEST="true").status_code == 200
    assert len(queries) <= PAGE_QUERY_BUDGET
    form = loaded.content.decode()
    assert 'id="form-accept"' in form and 'name="handler"' in form and 'data-testid="confirm-accept"' in form
    assert "<html" not in form  # the form alone, for the page it is loaded into
    # Opened as a page of its own (no htmx), the address leads back to the demand.
    assert client.get(accept_url).url == demand_a.get_absolute_url()
    # Only the steps the table allows the user, and only in scope.
    client_for(client, member)
    assert client.get(accept_url, HTTP_HX_REQUEST="true").status_code == 403
    client_for(client, outsider)
    assert client.get(accept_url, HTTP_HX_REQUEST="true").status_code == 404


def test_a_step_s_form_reads_the_demand_without_what_the_page_shows_beside_it(client, owner, handler, member, demand_a, tree):
    """Opening a step reads the demand and what its form and the workflow table need, in one query:
    not the cooperating units, merged duplicates and recorded suggestions the page lists beside it.
    A step posted with errors still comes back on the whole page, those lists included."""
    accepted(demand_a, by=owner, handler=handler, cooperating_units=[tree.branch_b])
    duplicate = make_demand(tree.group_a, by=owner, submitter=member.person, title="食堂午餐菜品太单一")
    services.demand_merge(demand=duplicate, by=owner, target=demand_a)
    transfer_url = reverse("demands:demand_action", args=[demand_a.pk, "transfer"])
    client_for(client, owner).get(transfer_url, HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(transfer_url, HTTP_HX_REQUEST="true").status_code == 200
    sql = [q["sql"] for q in queries]
    assert not [s for s in sql if "demand_cooperating_units" in s or '"merged_into_id" =' in s], sql
    assert len([s for s in sql if 'FROM "demands_demand"' in s]) == 1, sql  # the workflow's scope check included

    response = client.post(transfer_url, {"org_unit": ""})
    assert response.status_code == 400 and response.context["open_action"] == "transfer"
    assert response.context["demand"].cooperating_unit_names == [tree.branch_b.name]
    assert [d["ref"] for d in response.context["duplicates"]] == [duplicate.ref]


def test_a_step_s_form_asked_after_the_session_expired_sends_the_page_to_the_login(client, demand_a):
    """htmx would put the login page inside the step's panel: the whole page goes to the login
    page instead, and back to the demand afterwards."""
    accept_url = reverse("demands:demand_action", args=[demand_a.pk, "accept"])
    page = demand_a.get_absolute_url()
    answer = client.get(accept_url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page}")
    assert answer.status_code == 200 and "<form" not in answer.content.decode()
    assert answer["HX-Redirect"] == f"{reverse('login')}?next={page}"
    # Without htmx the login page is reached as ever.
    assert client.get(accept_url).url.startswith(reverse("login"))


def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(client, owner, demand_a):
    response = client_for(client, owner).post(reverse("demands:demand_action", args=[demand_a.pk, "accept"]), {
        "category": demand_a.category_id, "urgency": "nonsense",
    })
    assert response.status_code == 400
    form = response.context["actions"][0][2]
    assert "handler" in form.errors and "urgency" in form.errors
    assert response.context["open_action"] == "accept"
    assert Demand.objects.get(pk=demand_a.pk).status == Status.PENDING
    assert "is-invalid" in response.content.decode()


def test_a_step_the_table_forbids_is_403(client, member, demand_a):
    response = client_for(client, member).post(reverse("demands:demand_action", args=[demand_a.pk, "accept"]), {})
    assert response.status_code == 403
    response = client.post(reverse("demands:demand_action", args=[demand_a.pk, "nonsense"]), {})
    assert response.status_code == 404


def test_reply_and_resolve_by_the_handler(client, owner, handler, demand_a):
    accepted(demand_a, by=owner, handler=handler)
    client_for(client, handler)
    assert client.post(reverse("demands:demand_action", args=[demand_a.pk, "reply"]), {"text": "已联系"}).status_code == 302
    assert client.post(reverse("demands:demand_action", args=[demand_a.pk, "resolve"]), {"result": ""}).status_code == 400
    assert client.post(reverse("demands:demand_action", args=[demand_a.pk, "resolve"]), {"result": "已解决"}).status_code == 302
    assert Demand.objects.get(pk=demand_a.pk).status == Status.RESOLVED
    # The handler no longer sees a resolved demand in the to-do queue, but still its page.
    assert client.get(demand_a.get_absolute_url()).status_code == 200


def test_merge_with_one_click_from_the_suggestions(client, owner, demand_a, tree, member, person_a):
    """The similar-demand suggestions are the choice: one button per candidate, no reference to type;
    anything else is refused beside the field. The kept demand counts what was merged into it."""
    from portal.models import Notification

    duplicate = make_demand(tree.group_a, submitter=person_a, by=owner, title="食堂午餐菜品太单一")
    unrelated = make_demand(tree.group_a, by=owner, title="更衣室柜子不够用")
    client_for(client, owner)
    page = client.get(duplicate.get_absolute_url()).content.decode()
    assert f'data-testid="merge-into-{demand_a.pk}"' in page and f'merge-into-{unrelated.pk}' not in page
    action = reverse("demands:demand_action", args=[duplicate.pk, "merge"])
    response = client.post(action, {"target": unrelated.pk})
    assert response.status_code == 400 and "target" in response.context["actions"][-1][2].errors
    response = client.post(action, {"target": demand_a.pk})
    assert response.status_code == 302
    assert Demand.objects.get(pk=duplicate.pk).merged_into_id == demand_a.pk
    kept = Demand.objects.get(pk=demand_a.pk)
    assert kept.merged_count == 1
    assert 'data-testid="merged-count"' in client.get(kept.get_absolute_url()).content.decode()
    # A later reply on the kept demand reaches the duplicate's submitter too.
    duplicate_submitter = make_user_for(person_a)
    from demands import services
    from tests.factories.demands import accepted

    kept = accepted(kept, by=owner, handler=owner)
    services.demand_reply(demand=kept, by=owner, text="正在协调食堂")
    assert Notification.objects.filter(user=duplicate_submitter, body="正在协调食堂").exists()
    assert Notification.objects.filter(user=member, body="正在协调食堂").exists()


def make_user_for(person):
    from portal.roles import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.EMPLOYEE, scope_org=person.org_unit, person=person)


# --- Intake ---------------------------------------------------------------------------------------------
def test_staff_enters_a_demand_for_someone_in_scope(client, owner, person_a, person_b):
    cat = category()
    client_for(client, owner)
    data = {"submitter": person_a.pk, "title": "夜班交通车", "content": "发车时间不合理", "category": cat.pk,
            "urgency": "normal", "channel": "hotline"}
    response = client.post(reverse("demands:demand_create"), data)
    demand = Demand.objects.get(title="夜班交通车")
    assert response.status_code == 302 and response["Location"] == demand.get_absolute_url()
    assert (demand.submitter, demand.org_unit, demand.channel, demand.created_by) == (person_a, person_a.org_unit, "hotline", owner)
    # Someone outside the scope cannot be chosen.
    response = client.post(reverse("demands:demand_create"), {**data, "submitter": person_b.pk})
    assert response.status_code == 200 and "submitter" in response.context["form"].errors


def test_anonymous_staff_entry_needs_a_unit(client, owner, tree):
    cat = category()
    client_for(client, owner)
    data = {"title": "匿名反映", "content": "内容", "category": cat.pk, "urgency": "normal", "channel": "petition"}
    response = client.post(reverse("demands:demand_create"), data)
    assert "org_unit" in response.context["form"].errors
    assert client.post(reverse("demands:demand_create"), {**data, "org_unit": tree.branch_a.pk}).status_code == 302
    assert Demand.objects.get(title="匿名反映").submitter is None


def test_employee_self_service_is_always_their_own(client, member, person_a):
    cat = category()
    client_for(client, member)
    page = client.get(reverse("demands:demand_create"))
    assert "submitter" not in page.context["form"].fields
    client.post(reverse("demands:demand_create"), {
        "submitter": person_a.pk, "title": "我的诉求", "content": "内容", "category": cat.pk, "urgency": "normal",
        "channel": "golden_idea",
    })
    demand = Demand.objects.get(title="我的诉求")
    assert (demand.submitter, demand.org_unit, demand.channel) == (member.person, member.person.org_unit, "golden_idea")


def test_intake_from_a_visit_is_prefilled(client, owner, person_a):
    from tests.factories.demands import VisitFactory

    visit = VisitFactory(person=person_a, visitor=owner.person)
    response = client_for(client, owner).get(reverse("demands:demand_create") + f"?visit={visit.pk}")
    form = response.context["form"]
    assert form.initial["submitter"] == person_a.pk and form.initial["channel"] == "visit"


def test_similar_demands_in_scope(client, owner, demand_a, demand_b):
    client_for(client, owner)
    response = client.get(reverse("demands:similar"), {"title": "食堂午餐菜品太单一了"})
    assert [d.ref for d in response.context["similar"]] == [demand_a.ref]
    response = client.get(reverse("demands:similar"), {"title": "宿舍热水问题"})
    assert response.context["similar"] == []  # branch B's demand is out of scope


def test_similar_demands_come_with_what_is_shown_in_one_query(owner, demand_a, demand_b):
    """The search reads its candidates once; the demands shown carry their reference, title,
    status, date and unit without asking again."""
    from demands import selectors

    selectors.similar_demands(owner, "食堂午餐菜品太单一了")  # the text model, loaded once, is not this search's cost
    with CaptureQueriesContext(connection) as queries:
        found = selectors.similar_demands(owner, "食堂午餐菜品太单一了")
    assert [d.ref for d in found] == [demand_a.ref]
    assert len([q for q in queries if 'FROM "demands_demand"' in q["sql"]]) == 1, [q["sql"] for q in queries]
    with CaptureQueriesContext(connection) as reads:
        shown = [(d.ref, d.title, d.get_status_display(), d.received_at, d.org_unit.name, d.get_absolute_url()) for d in found]
    assert not reads.captured_queries and shown[0][4] == demand_a.org_unit.name


# --- Queues and colours ----------------------------------------------------------------------------------
def test_queues_and_deadline_colours(client, owner, handler, tree, member):
    policy(None, "normal", hours=4, days=2)
    monday = datetime.datetime(2026, 11, 23, 9, tzinfo=TZ)
    with time_machine.travel(monday, tick=False):
        late = make_demand(tree.group_a, by=owner, title="超期诉求")
    with time_machine.travel(datetime.datetime(2026, 11, 25, 9, tzinfo=TZ), tick=False):
        soon = accepted(make_demand(tree.group_a, by=owner, title="即将到期诉求"), by=owner, handler=handler)
        services.demand_reply(demand=soon, by=handler, text="处理中")
    with time_machine.travel(datetime.datetime(2026, 11, 27, 15, tzinfo=TZ), tick=False):
        fresh = make_demand(tree.group_a, by=owner, title="新诉求")
        client_for(client, owner)
        overdue = client.get(reverse("demands:queue", args=["overdue"]))
        due_soon = client.get(reverse("demands:queue", args=["due_soon"]))
        pending = client.get(reverse("demands:queue", args=["pending"]))
        html = client.get(reverse("demands:demand_list")).content.decode()
    # Friday 15:00: "late" missed its response (Mon 14:30) and resolution (Wed 17:30) deadlines;
    # "soon" (received Wed 9:00, resolution due Fri 17:30) is due soon; "fresh" is on track.
    assert refs(overdue) == {late.ref}
    assert refs(due_soon) == {soon.ref}
    assert refs(pending) == {late.ref, fresh.ref}
    assert 'data-colour="red"' in html and 'data-colour="yellow"' in html and 'data-colour="blue"' in html


def test_due_soon_queue(client, owner, tree, handler):
    policy(None, "normal", hours=4, days=2)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, tzinfo=TZ), tick=False):
        demand = accepted(make_demand(tree.group_a, by=owner), by=owner, handler=handler)
        services.demand_reply(demand=demand, by=handler, text="处理中")
    with time_machine.travel(datetime.datetime(2026, 11, 25, 11, tzinfo=TZ), tick=False):
        response = client_for(client, owner).get(reverse("demands:queue", args=["due_soon"]))
        assert refs(response) == {demand.ref}
        assert 'data-colour="yellow"' in response.content.decode()
        response = client_for(client, handler).get(reverse("demands:queue", args=["due_soon"]))
        assert refs(response) == {demand.ref}


def test_unknown_queue_is_404(client, owner):
    assert client_for(client, owner).get(reverse("demands:queue", args=["nope"])).status_code == 404


@pytest.mark.parametrize("fixture", ["owner", "staff"])
@pytest.mark.parametrize("url_name,args,params", [
    ("demands:demand_list", [], {}),
    ("demands:demand_list", [], {"status": "accepted", "q": "诉求", "urgency": "normal", "org_unit": "A",
                                  "received_from": "2020-01-01"}),
    ("demands:queue", ["pending"], {}),
    ("demands:queue", ["todo"], {}),
    ("demands:queue", ["overdue"], {}),
    ("demands:my_demands", [], {}),
])
def test_constant_query_count(client, request, tree, url_name, args, params, handler, fixture):
    """The ledger (unfiltered and filtered), the work queues and my demands: as many queries with 3
    as with 30 demands, each with its events, within the page budget."""
    user = request.getfixturevalue(fixture)
    client_for(client, user)
    if "org_unit" in params:
        params = {**params, "org_unit": tree.branch_a.pk}

    long_ago = timezone.now() - datetime.timedelta(days=40)

    def grow(n):
        for i in range(n):
            make_demand(tree.group_a, by=user, submitter=PersonFactory(org_unit=tree.group_a), title=f"诉求{i}")
            make_demand(tree.group_a, by=user, submitter=user.person, title=f"我的诉求{i}")
            late = make_demand(tree.group_a, by=user, title=f"诉求办理{i}", received_at=long_ago)
            services.demand_reply(demand=accepted(late, by=user, handler=user), by=user, text="处理中")

    grow(3)
    few = page_queries(client, reverse(url_name, args=args), params)
    grow(27)
    many = page_queries(client, reverse(url_name, args=args), params)
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)


@pytest.mark.parametrize("state", ["pending", "in_progress"])
def test_detail_query_count_does_not_grow_with_the_timeline(client, owner, handler, member, demand_a, state, tree):
    """The detail page with its timeline, attachments, change history, cooperating units, merged
    demands, mediations and similar demands: the same queries with few or many, within budget."""
    from demands.models import DemandAttachment, DemandEvent
    from tests.factories.demands import MediationFactory

    client_for(client, owner)
    url = demand_a.get_absolute_url()
    # (In a test the audit context of the first request stays set for the whole transaction, so the
    # change history gets its actors query from here on; measure after it.)
    client.get(url)

    def grow(n):
        for i in range(n):
            duplicate = make_demand(tree.group_a, by=owner, submitter=member.person, title=f"食堂午餐菜品单一{i}")
            if i % 2:
                services.demand_merge(demand=duplicate, by=owner, target=demand_a)
            MediationFactory(org_unit=tree.group_a, demand=demand_a)
            if state == "in_progress":
                services.demand_reply(demand=demand_a, by=handler, text=f"答复{i}")
                event = DemandEvent.objects.filter(demand=demand_a).last()
                DemandAttachment.objects.create(demand=demand_a, event=event, file=f"demands/t{i}.png",
                                                original_name=f"现场{i}.png", size=10)

    if state == "in_progress":
        accepted(demand_a, by=owner, handler=handler, cooperating_units=[tree.branch_b, tree.department])
    def history_queries():
        """The change history's panel, loaded when opened."""
        client.get(url, {"history": "1"}, HTTP_HX_REQUEST="true")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"history": "1"}, HTTP_HX_REQUEST="true").status_code == 200
        return len(ctx.captured_queries)

    grow(2)
    few, history_few = page_queries(client, url), history_queries()
    grow(10)
    many, history_many = page_queries(client, url), history_queries()
    response = client.get(url)
    assert few == many <= PAGE_QUERY_BUDGET, (few, many)
    # The change history names the records it mentions: one query per related model (units, users),
    # and one more for the history of its attachments and cooperating units.
    assert history_few == history_many <= 8, (history_few, history_many)
    assert len(response.context["duplicates"]) == 6 and len(response.context["mediations"]) == 10
    assert response.context["similar"], "the similar open demands are shown (and measured)"
    if state == "in_progress":
        assert response.context["demand"].cooperating_unit_names == [tree.branch_b.name, tree.department.name]
        assert sum(len(e.attachments.all()) for e in response.context["events"]) == 12


def test_history_shows_the_attachments_and_cooperating_units(client, owner, handler, demand_a, tree):
    from demands.models import DemandAttachment

    accepted(demand_a, by=owner, handler=handler, cooperating_units=[tree.branch_b])
    DemandAttachment.objects.create(demand=demand_a, file="demands/site.png", original_name="现场照片.png", size=10)
    response = client_for(client, owner).get(demand_a.get_absolute_url(), {"history": "1"}, HTTP_HX_REQUEST="true")
    shown = {(event.pgh_label, change.after) for event in response.context["history"] for change in event.changes}
    assert {("add", tree.branch_b.name), ("insert", "现场照片.png")} <= shown
    page = response.content.decode()
    assert f"→ {tree.branch_b.name}</div>" in page and "→ 现场照片.png</div>" in page


def test_export_of_the_list_is_the_import_format(client, owner, demand_a):
    response = client_for(client, owner).get(reverse("demands:demand_list") + "?export=csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("ref,title,content,category")
    assert demand_a.ref in body


# --- Home and person page --------------------------------------------------------------------------------
def test_home_widgets(client, owner, handler, member, demand_a):
    home = client_for(client, owner).get("/").content.decode()
    assert 'data-testid="widget-queues"' in home
    accepted(demand_a, by=owner, handler=handler)
    home = client_for(client, handler).get("/").content.decode()
    assert 'data-testid="widget-assigned"' in home and demand_a.title in home
    home = client_for(client, member).get("/").content.decode()
    assert 'data-testid="widget-mine"' in home and demand_a.title in home


def test_person_timeline_shows_demands_visits_and_life_events(client, owner, person_a, tree):
    from tests.factories.demands import LifeEventFactory, VisitFactory

    demand = make_demand(tree.group_a, submitter=person_a, by=owner, title="时间线诉求")
    event = LifeEventFactory(person=person_a, kind="childbirth")
    VisitFactory(person=person_a, visitor=owner.person, life_event=event, kind="must_visit")
    timeline = client_for(client, owner).get(person_a.get_absolute_url()).context["timeline"]
    urls = {e.url for e in timeline}
    assert {demand.get_absolute_url(), event.get_absolute_url()} <= urls
    assert len([u for u in urls if u.startswith("/demands/visits/")]) == 1
    # An employee sees their own demands on their record, but not the staff's visit notes.
    assert any(demand.title in e.title for e in timeline)


def test_sla_overview_for_administrators_only(client, admin_user, owner):
    assert client_for(client, admin_user).get(reverse("demands:sla_overview")).status_code == 200
    assert client_for(client, owner).get(reverse("demands:sla_overview")).status_code == 403
