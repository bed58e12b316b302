"""Membership transfers: the workflow table (exhaustively), the services (one open transfer per
person, separation of duties, the member's move, the letter), scope, pages, import and API."""
from __future__ import annotations

import datetime
import itertools

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from members.partyorg import services, workflow
from members.partyorg.choices import TransferStatus
from members.partyorg.models import Transfer, TransferLetter
from portal import dataexchange as dx
from portal.models import Notification
from portal.roles import Role
from tests.conftest import client_for, make_user
from tests.factories import PersonFactory

A, S = workflow.Action, TransferStatus
pytestmark = pytest.mark.django_db


# --- The pure table --------------------------------------------------------------------------------
EXPECTED = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED, (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.APPROVE_BRANCH): S.BRANCH_APPROVED, (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.BRANCH_APPROVED, A.APPROVE_COMMITTEE): S.COMMITTEE_APPROVED, (S.BRANCH_APPROVED, A.REJECT): S.REJECTED,
    (S.BRANCH_APPROVED, A.WITHDRAW): S.WITHDRAWN,
    (S.COMMITTEE_APPROVED, A.COMPLETE): S.COMPLETED, (S.COMMITTEE_APPROVED, A.REJECT): S.REJECTED,
    (S.COMMITTEE_APPROVED, A.WITHDRAW): S.WITHDRAWN,
}


def _facts_of(name: str, role: str) -> workflow.Facts:
    flags = dict(may_change=False, is_submitter=False, branch_reach=False, committee_reach=False, own_work=False)
    if name != "nobody":
        for flag in name.split("+"):
            flags[flag] = True
    return workflow.Facts(role=role, **flags)


def test_every_status_action_role_and_condition_exhaustively():
    roles = sorted(workflow.MANAGERS.roles | workflow.COMMITTEE_APPROVERS.roles | {"employee", "handler"})
    conditions = ["nobody", "may_change", "is_submitter", "branch_reach", "committee_reach",
                  "branch_reach+own_work", "committee_reach+own_work", "may_change+own_work"]
    for status, action, role, condition in itertools.product(S.values, A.values, roles, conditions):
        facts = _facts_of(condition, role)
        allowed = workflow.may(status, action, facts)
        key = (status, action)
        if key not in EXPECTED:
            assert not allowed, key
            with pytest.raises(workflow.WorkflowError):
                workflow.check(status, action, facts)
            continue
        transition = workflow.TABLE[key]
        assert transition.to == EXPECTED[key]
        expected = any(role in allow.roles and {
            workflow.CHANGE: facts.may_change, workflow.SUBMITTER: facts.is_submitter,
            workflow.BRANCH: facts.branch_reach and not facts.own_work,
            workflow.COMMITTEE: facts.committee_reach and not facts.own_work,
        }[allow.condition] for allow in transition.allow)
        assert allowed == expected, (key, role, condition)
    assert set(workflow.TABLE) == set(EXPECTED)
    # Finished transfers take no step at all.
    for status in (S.COMPLETED, S.REJECTED, S.WITHDRAWN):
        assert workflow.allowed_actions(status, _facts_of("may_change+is_submitter+branch_reach+committee_reach", "admin")) == []


def test_own_work_never_approves_and_employees_never_act():
    for status, action in workflow.TABLE:
        if workflow.is_approval(status, action):
            assert not workflow.may(status, action, _facts_of("branch_reach+committee_reach+own_work", "admin"))
        assert not workflow.may(status, action, _facts_of("may_change+is_submitter+branch_reach+committee_reach", "employee"))


def test_letter_numbers():
    assert workflow.letter_number(2026, 1) == "2026-0001"
    assert workflow.letter_number(2027, 123) == "2027-0123"


# --- Fixtures --------------------------------------------------------------------------------------
@pytest.fixture
def member_a(tree):
    return PersonFactory(org_unit=tree.group_a, name="王五", political_status="full_member",
                         joined_party_on=datetime.date(2010, 7, 1))


@pytest.fixture
def deputy(tree):
    """A second officer of branch A (组织委员): approves for the branch what the secretary submitted."""
    return make_user(Role.BRANCH_SECRETARY, tree.branch_a, person_unit=tree.branch_a, username="deputy")


def _within(owner, member_a, tree, **kwargs):
    return services.transfer_create(
        by=owner, person=member_a, kind="within", from_unit=tree.branch_a, to_unit=tree.branch_b,
        reason="工作调动", requested_on=datetime.date(2026, 3, 1), **kwargs)


# --- Services --------------------------------------------------------------------------------------
def test_the_whole_way_moves_the_member_and_issues_a_numbered_letter(owner, deputy, staff, manager, member_a, tree,
                                                                    outsider):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 2, tzinfo=datetime.UTC), tick=False):
        transfer = _within(owner, member_a, tree, submit=True)
        assert transfer.status == S.SUBMITTED
        # The secretary who submitted cannot approve it.
        with pytest.raises(ValidationError, match="不能审批自己"):
            services.transfer_act(transfer=transfer, by=owner, action=A.APPROVE_BRANCH)
        # The receiving branch's secretary is not the deciding branch.
        with pytest.raises(ValidationError):
            services.transfer_act(transfer=transfer, by=outsider, action=A.APPROVE_BRANCH)
        transfer = services.transfer_act(transfer=transfer, by=deputy, action=A.APPROVE_BRANCH)
        # The branch cannot approve for the committee.
        with pytest.raises(ValidationError):
            services.transfer_act(transfer=transfer, by=owner, action=A.APPROVE_COMMITTEE)
        transfer = services.transfer_act(transfer=transfer, by=staff, action=A.APPROVE_COMMITTEE)
        letter = transfer.letters.get()
        assert letter.number == "2026-0001" and letter.kind == "letter"
        assert letter.facts["name"] == "王五" and letter.facts["to"] == tree.branch_b.name
        member_a.refresh_from_db()
        assert member_a.org_unit == tree.group_a  # not before completion
        transfer = services.transfer_act(transfer=transfer, by=outsider, action=A.COMPLETE)
    member_a.refresh_from_db()
    assert transfer.status == S.COMPLETED and transfer.completed_on == datetime.date(2026, 3, 2)
    assert member_a.org_unit == tree.branch_b
    # The letter states what was true at issue, whatever changes later.
    member_a.name = "王五改"
    member_a.save()
    letter.refresh_from_db()
    assert letter.facts["name"] == "王五"
    with pytest.raises(Exception, match="letter_as_issued|Cannot update"), transaction.atomic():
        TransferLetter.objects.filter(pk=letter.pk).update(facts={"name": "别人"})
    assert [s.action for s in transfer.steps.all()] == ["create", "submit", "approve_branch", "approve_committee", "complete"]
    # The approvers were told, each in turn; nobody was asked to approve their own request.
    assert Notification.objects.filter(user=deputy, key__startswith=f"transfer:{transfer.pk}:submit").exists()
    assert not Notification.objects.filter(user=owner, key__startswith=f"transfer:{transfer.pk}:submit").exists()
    assert Notification.objects.filter(user=staff, key__startswith=f"transfer:{transfer.pk}:approve_branch").exists()
    assert Notification.objects.filter(user=manager, key__startswith=f"transfer:{transfer.pk}:approve_branch").exists()
    assert Notification.objects.filter(user=owner, key__startswith=f"transfer:{transfer.pk}:complete").exists()


def test_the_branch_approver_does_not_also_approve_for_the_committee(staff, manager, member_a, tree, owner):
    transfer = services.transfer_create(by=owner, person=member_a, kind="out", from_unit=tree.branch_a,
                                        external_org="某市某区党工委", reason="离职", requested_on=datetime.date(2026, 3, 1),
                                        submit=True)
    transfer = services.transfer_act(transfer=transfer, by=staff, action=A.APPROVE_BRANCH)
    # The one who may approve for the committee is asked, not the one who just approved for the branch.
    asked = set(Notification.objects.filter(title__contains="待党委审批").values_list("user", flat=True))
    assert asked == {manager.pk}
    with pytest.raises(ValidationError, match="不能审批自己"):
        services.transfer_act(transfer=transfer, by=staff, action=A.APPROVE_COMMITTEE)
    transfer = services.transfer_act(transfer=transfer, by=manager, action=A.APPROVE_COMMITTEE)
    assert transfer.status == S.COMMITTEE_APPROVED


def test_the_member_never_approves_their_own_transfer(tree, member_a, owner):
    secretary_self = make_user(Role.BRANCH_SECRETARY, tree.branch_a, username="self")
    secretary_self.person = member_a
    secretary_self.save()
    transfer = _within(owner, member_a, tree, submit=True)
    with pytest.raises(ValidationError, match="不能审批自己"):
        services.transfer_act(transfer=transfer, by=secretary_self, action=A.APPROVE_BRANCH)


def test_one_open_transfer_per_person_in_the_service_and_the_database(owner, member_a, tree):
    first = _within(owner, member_a, tree)
    with pytest.raises(ValidationError, match="已有一项未办结的组织关系转接"):
        services.transfer_create(by=owner, person=member_a, kind="out", from_unit=tree.branch_a, external_org="外单位",
                                 reason="x", requested_on=datetime.date(2026, 3, 5))
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(person=member_a, kind="out", from_unit=tree.branch_a, external_org="外单位",
                                reason="x", requested_on=datetime.date(2026, 3, 5))
    services.transfer_act(transfer=first, by=owner, action=A.WITHDRAW, comment="不调了")
    again = _within(owner, member_a, tree)
    assert again.status == S.DRAFT


def test_completion_refused_when_the_member_has_moved_meanwhile(owner, deputy, staff, member_a, tree, outsider):
    transfer = _within(owner, member_a, tree, submit=True)
    transfer = services.transfer_act(transfer=transfer, by=deputy, action=A.APPROVE_BRANCH)
    transfer = services.transfer_act(transfer=transfer, by=staff, action=A.APPROVE_COMMITTEE)
    member_a.org_unit = tree.department
    member_a.save()
    with pytest.raises(ValidationError, match="已不是"):
        services.transfer_act(transfer=transfer, by=outsider, action=A.COMPLETE)


def test_request_checks(owner, member_a, tree, person_b):
    problems = services.transfer_problems(person=member_a, kind="within", from_unit=tree.branch_b, to_unit=tree.branch_a,
                                          external_org="")
    assert "from_unit" in problems and "to_unit" in problems
    problems = services.transfer_problems(person=member_a, kind="out", from_unit=tree.branch_a, to_unit=None, external_org="")
    assert set(problems) == {"external_org"}
    problems = services.transfer_problems(person=member_a, kind="within", from_unit=tree.branch_a,
                                          to_unit=tree.department, external_org="")
    assert set(problems) == {"to_unit"}
    assert "person" in services.transfer_problems(person=person_b, kind="out", from_unit=tree.branch_b, to_unit=None,
                                                  external_org="x")
    with pytest.raises(ValidationError, match="请说明原因"):
        services.transfer_act(transfer=_within(owner, member_a, tree), by=owner, action=A.WITHDRAW)


def test_letter_numbers_count_per_year_and_roll_over_at_new_year_in_local_time(owner, staff, manager, tree):
    def approved(person):
        t = services.transfer_create(by=owner, person=person, kind="out", from_unit=tree.branch_a, external_org="外单位",
                                     reason="离职", requested_on=datetime.date(2026, 12, 1), submit=True)
        t = services.transfer_act(transfer=t, by=staff, action=A.APPROVE_BRANCH)
        return services.transfer_act(transfer=t, by=manager, action=A.APPROVE_COMMITTEE).letters.get().number

    people = [PersonFactory(org_unit=tree.branch_a, political_status="full_member") for _ in range(3)]
    # 2026-12-31 23:30 in Shanghai is still 2026.
    with time_machine.travel(datetime.datetime(2026, 12, 31, 15, 30, tzinfo=datetime.UTC), tick=False):
        assert [approved(people[0]), approved(people[1])] == ["2026-0001", "2026-0002"]
    # 00:30 on 1 January in Shanghai (still 31 December in UTC) starts 2027.
    with time_machine.travel(datetime.datetime(2026, 12, 31, 16, 30, tzinfo=datetime.UTC), tick=False):
        assert approved(people[2]) == "2027-0001"
    assert TransferLetter.objects.count() == 3


# --- Scope and pages ----------------------------------------------------------------------------------
def test_scope_both_branches_see_it_others_get_404(client, owner, outsider, member_a, tree, staff, django_assert_max_num_queries):
    transfer = _within(owner, member_a, tree)
    other = make_user(Role.BRANCH_SECRETARY, tree.department, username="dept")
    url = transfer.get_absolute_url()
    assert client_for(client, owner).get(url).status_code == 200
    assert client_for(client, outsider).get(url).status_code == 200  # the receiving branch
    assert client_for(client, other).get(url).status_code == 404
    assert client_for(client, other).get("/members/transfers/").content.decode().count(member_a.name) == 0
    response = client_for(client, outsider).get("/members/transfers/?export=csv")
    assert member_a.employee_no in b"".join(response.streaming_content).decode("utf-8-sig")
    assert client_for(client, other).get("/api/transfers/%d/" % transfer.pk).status_code == 404
    for n in range(5):
        p = PersonFactory(org_unit=tree.branch_a, political_status="full_member")
        services.transfer_create(by=owner, person=p, kind="out", from_unit=tree.branch_a, external_org="外单位",
                                 reason="x", requested_on=datetime.date(2026, 3, n + 1))
    client_for(client, staff)
    with django_assert_max_num_queries(20):
        assert client.get("/members/transfers/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/members/transfers/pending/").status_code == 200


def test_pages_submit_approve_and_print(client, owner, deputy, staff, member_a, tree):
    response = client_for(client, owner).post("/members/transfers/new/", {
        "person": member_a.pk, "kind": "within", "from_unit": tree.branch_a.pk, "to_unit": tree.branch_b.pk,
        "reason": "工作调动", "requested_on": "2026-03-01", "submit": "1"})
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and transfer.status == S.SUBMITTED
    # Bad input: the message beside the field, what was typed kept.
    response = client.post("/members/transfers/new/", {
        "person": member_a.pk, "kind": "within", "from_unit": tree.branch_a.pk, "to_unit": tree.branch_b.pk,
        "reason": "再次调动", "requested_on": "2026-03-01"})
    page = response.content.decode()
    assert response.status_code == 200 and "再次调动" in page
    assert page.count("已有一项未办结的组织关系转接") == 1 and "transfer_one_open_per_person" not in page
    response = client.post(f"/members/transfers/{transfer.pk}/act/", {"action": "approve_branch"})
    assert response.status_code == 400
    client_for(client, deputy).post(f"/members/transfers/{transfer.pk}/act/", {"action": "approve_branch"})
    client_for(client, staff).post(f"/members/transfers/{transfer.pk}/act/", {"action": "approve_committee"})
    transfer.refresh_from_db()
    assert transfer.status == S.COMMITTEE_APPROVED
    letter = transfer.letters.get()
    page = client.get(letter.get_absolute_url()).content.decode()
    assert letter.number in page and member_a.name in page and "data-print" in page
    # The change history names the steps' actions and time in transfer words, not codes or "visit time".
    page = client.get(transfer.get_absolute_url(), {"history": "1"}).content.decode()
    assert "已提交" in page and "操作时间" in page
    assert "访问时间" not in page and "：— → submit" not in page


def test_person_timeline_shows_completed_transfer(client, owner, deputy, staff, outsider, member_a, tree):
    transfer = _within(owner, member_a, tree, submit=True)
    for user, action in ((deputy, A.APPROVE_BRANCH), (staff, A.APPROVE_COMMITTEE), (outsider, A.COMPLETE)):
        transfer = services.transfer_act(transfer=transfer, by=user, action=action)
    page = client_for(client, staff).get(member_a.get_absolute_url()).content.decode()
    assert tree.branch_b.name in page and transfer.get_absolute_url() in page


# --- Import / export and API --------------------------------------------------------------------------
def test_import_round_trip(owner, member_a, tree, person_b, client, admin_user):
    _within(owner, member_a, tree)
    person_b.political_status = "full_member"
    person_b.save()
    csv = ("employee_no,kind,from_unit_code,to_unit_code,external_org,reason,requested_on,report_by,status,completed_on\n"
           f"{person_b.employee_no},转出,B,,某区党工委,离职,2025-05-01,,已办结,2025-05-20\n")
    result = dx.run_import("transfers", csv.encode(), "t.csv")
    assert result.ok and result.created == 1, result.errors
    kind = dx.get_kind("transfers")
    header = kind.export_header()
    rows = list(kind.export_rows(Transfer.objects.all()))
    text = ",".join(header) + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    again = dx.run_import("transfers", text.encode(), "t.csv")
    assert again.ok and again.unchanged == 2 and again.created == 0, again.errors
    # A second open transfer for the same person is refused.
    bad = ("employee_no,kind,from_unit_code,to_unit_code,external_org,reason,requested_on,status\n"
           f"{member_a.employee_no},转出,A,,外单位,离职,2026-04-01,草稿\n")
    assert not dx.run_import("transfers", bad.encode(), "t.csv").ok


def test_api_create_act_and_scope(client, owner, deputy, member_a, tree, outsider):
    response = client_for(client, owner).post("/api/transfers/", {
        "person": member_a.pk, "kind": "within", "from_unit": tree.branch_a.pk, "to_unit": tree.branch_b.pk,
        "reason": "工作调动", "requested_on": "2026-03-01"}, content_type="application/json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert client.post(f"/api/transfers/{pk}/act/", {"action": "submit"}, content_type="application/json").status_code == 200
    refused = client.post(f"/api/transfers/{pk}/act/", {"action": "approve_branch"}, content_type="application/json")
    assert refused.status_code == 400
    ok = client_for(client, deputy).post(f"/api/transfers/{pk}/act/", {"action": "approve_branch"}, content_type="application/json")
    assert ok.json()["status"] == "branch_approved"
    again = client_for(client, owner).post("/api/transfers/", {
        "person": member_a.pk, "kind": "out", "from_unit": tree.branch_a.pk, "external_org": "x",
        "reason": "r", "requested_on": "2026-03-02"}, content_type="application/json")
    assert again.status_code == 400 and "person" in again.json()


def test_a_sole_branch_officer_submitting_asks_the_level_above(owner, staff, member_a, tree):
    transfer = _within(owner, member_a, tree, submit=True)
    assert Notification.objects.filter(user=staff, key__startswith=f"transfer:{transfer.pk}:submit").exists()
    assert not Notification.objects.filter(user=owner, key__startswith=f"transfer:{transfer.pk}:submit").exists()


def test_a_draft_is_edited_then_submitted(client, owner, member_a, tree):
    transfer = _within(owner, member_a, tree)
    url = f"/members/transfers/{transfer.pk}/edit/"
    assert client_for(client, owner).get(url).status_code == 200
    response = client.post(url, {"person": member_a.pk, "kind": "out", "from_unit": tree.branch_a.pk,
                                 "external_org": "某区党工委", "reason": "离职", "requested_on": "2026-03-01", "submit": "1"})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.kind, transfer.to_unit, transfer.status) == ("out", None, S.SUBMITTED)
    # Submitted: no longer changed in place.
    with pytest.raises(ValidationError):
        services.transfer_update(transfer=transfer, by=owner, reason="别的")


def test_a_party_group_is_not_a_transfer_unit(member_a, tree):
    """The group belongs to its branch: otherwise the branch's own secretary would decide as the
    'committee' above the group."""
    problems = services.transfer_problems(person=member_a, kind="out", from_unit=tree.group_a, to_unit=None,
                                          external_org="外单位")
    assert set(problems) == {"from_unit"}


def test_approvals_awaited_reach_the_deciding_units_group_robot(owner, deputy, staff, member_a, tree):
    """A transfer waiting for the branch, then for the committee, is posted once each into the
    group robots that carry approvals for the deciding unit (portal/robots.py)."""
    from portal.models import RobotDelivery, RobotKind, RobotWebhook

    robot = RobotWebhook.objects.create(org_unit=tree.root, name="党委群", platform="wecom", kinds=[RobotKind.APPROVAL],
                                        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    RobotWebhook.objects.create(org_unit=tree.root, name="超期群", platform="wecom", kinds=[RobotKind.OVERDUE],
                                url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=o")
    transfer = _within(owner, member_a, tree, submit=True)
    services.transfer_act(transfer=transfer, by=deputy, action=A.APPROVE_BRANCH)
    titles = list(RobotDelivery.objects.order_by("pk").values_list("robot", "title"))
    assert titles == [(robot.pk, f"{member_a.name} 的组织关系转接待支部审批"),
                      (robot.pk, f"{member_a.name} 的组织关系转接待党委审批")]


def test_the_committee_step_is_never_asked_of_nobody(staff, admin_user, member_a, tree, owner):
    """When the only supervisor above the branch did the branch's step, the request still reaches
    someone who may approve for the committee (here the administrator)."""
    transfer = services.transfer_create(by=owner, person=member_a, kind="out", from_unit=tree.branch_a,
                                        external_org="某市某区党工委", reason="离职", requested_on=datetime.date(2026, 3, 1),
                                        submit=True)
    services.transfer_act(transfer=transfer, by=staff, action=A.APPROVE_BRANCH)
    asked = set(Notification.objects.filter(title__contains="待党委审批").values_list("user", flat=True))
    assert asked == {admin_user.pk}


def test_transfer_and_hardship_labels_use_their_own_chinese_words():
    from django.utils import translation

    from members.hardship.forms import MeasureForm, ReviewForm
    from members.hardship.models import AssistanceMeasure, HardshipReview
    from members.partyorg.filtersets import TransferFilterSet
    from members.partyorg.models import TransferStep

    with translation.override("zh-hans"):
        assert [str(label) for _, label in TransferFilterSet().form.fields["pending"].widget.choices] == ["全部", "办理中", "已办结"]
        assert str(TransferStep._meta.get_field("at").verbose_name) == "操作时间"
        assert str(dict(TransferStep._meta.get_field("action").flatchoices)["submit"]) == "已提交"
        assert str(HardshipReview._meta.get_field("outcome").verbose_name) == "复核结果"
        assert str(ReviewForm().fields["outcome"].label) == "复核结果"
        assert str(AssistanceMeasure._meta.get_field("description").verbose_name) == "帮扶措施"
        assert str(MeasureForm.base_fields["description"].label) == "帮扶措施"
