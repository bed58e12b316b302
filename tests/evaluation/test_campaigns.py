"""Evaluation campaigns: rater groups with weights, assignment, scoring forms, anonymity, progress,
weighted results, export; democratic appraisal of members."""
from decimal import Decimal

import pytest

from evaluation import selectors, services
from evaluation.models import (
    AppraisalResult, AppraisalRound, AppraisalVote, AppraisalVoter, Campaign, Indicator, RaterAssignment, RaterGroup,
    ScoreSheet,
)
from tests.conftest import client_for, make_user
from tests.factories.evaluation import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(tree, manager):
    campaign = Campaign.objects.create(name="2026年度考核", org_unit=tree.root, year=2026, created_by=manager)
    campaign.subjects.set([tree.branch_a, tree.branch_b])
    Indicator.objects.create(campaign=campaign, name="班子建设", max_score=40)
    Indicator.objects.create(campaign=campaign, name="作用发挥", max_score=60)
    return campaign


def rate(assignment, subject, *values):
    indicators = list(assignment.group.campaign.indicators.all())
    services.submit_scores(assignment=assignment, subject=subject,
                           scores={i: Decimal(v) for i, v in zip(indicators, values)})


def test_manager_builds_and_opens_a_campaign(client, tree, manager, owner, outsider, member):
    client_for(client, manager)
    response = client.post("/evaluation/campaigns/new/", {"name": "支部考核", "org_unit": tree.root.pk, "year": 2026,
                                                          "subjects": [tree.branch_a.pk, tree.branch_b.pk]})
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    base = f"/evaluation/campaigns/{campaign.pk}"
    client.post(f"{base}/indicator/", {"name": "组织生活", "max_score": "100", "sort_order": "1"})
    client.post(f"{base}/group/", {"kind": "mass", "weight": "40", "anonymous": "on"})
    client.post(f"{base}/group/", {"kind": "peer", "weight": "50"})
    # The weights do not add up to 100: opening is refused with the reason.
    response = client.post(f"{base}/step/", {"action": "open"}, follow=True)
    assert any("100" in str(m) for m in response.context["messages"])
    client.post(f"{base}/group/", {"kind": "superior", "weight": "10"})
    mass = campaign.groups.get(kind="mass")
    client.post(f"{base}/raters/", {"group": mass.pk, "raters": [member.pk]})
    peer = campaign.groups.get(kind="peer")
    client.post(f"{base}/raters/", {"group": peer.pk, "raters": [owner.pk, outsider.pk]})
    superior = campaign.groups.get(kind="superior")
    client.post(f"{base}/raters/", {"group": superior.pk, "raters": [manager.pk]})
    client.post(f"{base}/step/", {"action": "open"})
    campaign.refresh_from_db()
    assert campaign.status == "open"
    # Raters are told.
    from portal.models import Notification

    assert Notification.objects.filter(user=owner, key__startswith="campaign-open").exists()
    # Structure is frozen once open.
    response = client.post(f"{base}/indicator/", {"name": "迟到", "max_score": "5"}, follow=True)
    assert campaign.indicators.count() == 1


def test_group_kind_once_and_bad_weight(client, campaign, manager):
    client_for(client, manager)
    client.post(f"/evaluation/campaigns/{campaign.pk}/group/", {"kind": "mass", "weight": "40"})
    response = client.post(f"/evaluation/campaigns/{campaign.pk}/group/", {"kind": "mass", "weight": "40"}, follow=True)
    assert campaign.groups.count() == 1
    assert response.status_code == 200
    response = client.post(f"/evaluation/campaigns/{campaign.pk}/group/", {"kind": "peer", "weight": "140"})
    assert campaign.groups.count() == 1
    # The error is shown beside the weight field and what was typed stays in the form.
    form = response.context["group_form"]
    assert "weight" in form.errors and 'value="140"' in response.content.decode()


def test_scoring_anonymity_progress_and_weighted_results(client, tree, campaign, manager, owner, outsider, member):
    mass = RaterGroup.objects.create(campaign=campaign, kind="mass", weight=30, anonymous=True)
    peer = RaterGroup.objects.create(campaign=campaign, kind="peer", weight=70)
    m = RaterAssignment.objects.create(group=mass, rater=member)
    p_a = RaterAssignment.objects.create(group=peer, rater=owner)
    p_b = RaterAssignment.objects.create(group=peer, rater=outsider)
    services.campaign_transition(campaign=campaign, action="open", by=manager)
    # Cross rating: nobody rates their own branch.
    assert [s.code for s in services.subjects_for(p_a)] == ["B"]
    assert [s.code for s in services.subjects_for(p_b)] == ["A"]
    client_for(client, member)
    response = client.get("/evaluation/rate/")
    assert len(response.context["pending"]) == 2
    response = client.post(f"/evaluation/rate/{m.pk}/{tree.branch_a.pk}/", {"comment": "好"})
    assert response.status_code == 200 and response.context["form"].errors  # every indicator is required
    i1, i2 = campaign.indicators.all()
    response = client.post(f"/evaluation/rate/{m.pk}/{tree.branch_a.pk}/", {f"i{i1.pk}": "50", f"i{i2.pk}": "50"})
    assert f"i{i1.pk}" in response.context["form"].errors  # above the maximum of 40
    client.post(f"/evaluation/rate/{m.pk}/{tree.branch_a.pk}/", {f"i{i1.pk}": "36", f"i{i2.pk}": "54"})
    client.post(f"/evaluation/rate/{m.pk}/{tree.branch_b.pk}/", {f"i{i1.pk}": "30", f"i{i2.pk}": "40"})
    # Twice is refused; the mass sheet carries no rater.
    response = client.post(f"/evaluation/rate/{m.pk}/{tree.branch_a.pk}/", {f"i{i1.pk}": "1", f"i{i2.pk}": "1"})
    assert ScoreSheet.objects.filter(group=mass).count() == 2
    assert set(ScoreSheet.objects.filter(group=mass).values_list("rater", flat=True)) == {None}
    # Someone else's assignment does not exist for this rater.
    assert client.get(f"/evaluation/rate/{p_a.pk}/{tree.branch_b.pk}/").status_code == 404
    rate(p_a, tree.branch_b, 20, 40)
    progress = {row["group"].kind: (row["done"], row["expected"]) for row in selectors.campaign_progress(campaign)}
    assert progress == {"mass": (2, 2), "peer": (1, 2)}
    results = {r["subject"].code: r for r in selectors.campaign_results(campaign)["rows"]}
    # A: mass 90, no peer sheet yet → 90 over the groups that rated; B: 0.3 × 70 + 0.7 × 60 = 63.
    assert results["A"]["total"] == 90 and not results["A"]["complete"]
    assert results["B"]["total"] == 63 and results["B"]["complete"]
    # The complete unit is ranked; the incomplete one follows without a rank, though its partial score is higher.
    assert results["B"]["rank"] == 1 and "rank" not in results["A"]
    assert [r["subject"].code for r in selectors.campaign_results(campaign)["rows"]] == ["B", "A"]
    # Page, export and API for the manager; the rater cannot see results.
    client_for(client, manager)
    page = client.get(campaign.get_absolute_url())
    assert page.status_code == 200 and "63.00" in page.content.decode()
    export = client.get(f"/evaluation/campaigns/{campaign.pk}/results.xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    api = client.get(f"/api/campaigns/{campaign.pk}/results/").json()
    assert {r["org_code"]: r["weighted_score"] for r in api["results"]} == {"A": 90.0, "B": 63.0}
    client_for(client, member)
    assert client.get(campaign.get_absolute_url()).status_code == 403
    assert client.get(f"/api/campaigns/{campaign.pk}/results/").status_code == 403


def test_closed_campaign_refuses_scores(tree, campaign, manager, member):
    group = RaterGroup.objects.create(campaign=campaign, kind="mass", weight=100, anonymous=True)
    assignment = RaterAssignment.objects.create(group=group, rater=member)
    services.campaign_transition(campaign=campaign, action="open", by=manager)
    services.campaign_transition(campaign=campaign, action="close", by=manager)
    with pytest.raises(services.ServiceError):
        rate(assignment, tree.branch_a, 10, 10)


def test_campaign_out_of_scope_is_404(client, tree, campaign):
    manager_b = make_user("manager", tree.branch_b, username="manager_b")
    client_for(client, manager_b)
    assert client.get(campaign.get_absolute_url()).status_code == 404
    assert client.get("/api/campaigns/").json()["results"] == []


# --- Democratic appraisal ------------------------------------------------------------------------------
def test_democratic_appraisal(client, tree, manager, owner, member):
    members = [member_ for member_ in (member_person(tree) for _ in range(3))]
    round = AppraisalRound.objects.create(name="民主评议", org_unit=tree.branch_a, year=2026)
    client_for(client, manager)
    base = f"/evaluation/appraisals/{round.pk}"
    response = client.post(f"{base}/step/", {"action": "open"}, follow=True)
    assert any("voters" in str(m).lower() or "投票" in str(m) for m in response.context["messages"])
    client.post(f"{base}/voters/", {"raters": [owner.pk, member.pk]})
    client.post(f"{base}/step/", {"action": "open"})
    round.refresh_from_db()
    assert round.status == "open"
    roster = set(round.results.values_list("person_id", flat=True))
    assert {p.pk for p in members} <= roster
    # The member votes (not for themselves: the member account's person is masses, not on the roster).
    voter = AppraisalVoter.objects.get(round=round, voter=member)
    client_for(client, member)
    page = client.get(f"/evaluation/vote/{voter.pk}/")
    people = page.context["form"].people
    response = client.post(f"/evaluation/vote/{voter.pk}/", {f"p{people[0].pk}": "excellent"})
    assert response.status_code == 200 and not AppraisalVote.objects.exists()  # every member needs a grade
    ballot = {f"p{p.pk}": "qualified" for p in people}
    ballot[f"p{members[0].pk}"] = "unqualified"
    assert client.post(f"/evaluation/vote/{voter.pk}/", ballot).status_code == 302
    assert client.post(f"/evaluation/vote/{voter.pk}/", ballot).status_code == 200  # once only
    assert AppraisalVote.objects.count() == len(people)
    assert not any(hasattr(v, "voter") for v in AppraisalVote.objects.all())
    # The owner's ballot; the tally and the decided grade.
    owner_voter = AppraisalVoter.objects.get(round=round, voter=owner)
    services.cast_ballot(voter=owner_voter, grades={p.pk: "basic" if p == members[0] else "excellent"
                                                    for p in (r.person for r in round.results.all())
                                                    if p.pk != owner.person_id})
    tally = {row["result"].person_id: row for row in selectors.appraisal_tally(round)}
    # members[0]: one "unqualified", one "basic" → a tie goes to the higher grade.
    assert tally[members[0].pk]["suggested"] == "basic"
    client_for(client, manager)
    result = AppraisalResult.objects.get(round=round, person=members[0])
    client.post(f"{base}/grade/", {"id": result.pk, "final_grade": "basic", "note": "经支委会研究"})
    result.refresh_from_db()
    assert (result.final_grade, result.decided_by) == ("basic", manager)
    assert client.get(f"{base}/results.xlsx").status_code == 200
    assert client.get(round.get_absolute_url()).status_code == 200


def member_person(tree):
    return member(tree.group_a)



# --- Fair results: units a group cannot rate ---------------------------------------------------------------
def test_opening_warns_of_a_unit_its_own_secretary_alone_cannot_rate(client, tree, campaign, manager, owner, member):
    """The cross-rating group's only rater is branch A's secretary: nobody can cross-rate branch A."""
    mass = RaterGroup.objects.create(campaign=campaign, kind="mass", weight=40, anonymous=True)
    peer = RaterGroup.objects.create(campaign=campaign, kind="peer", weight=60)
    RaterAssignment.objects.create(group=mass, rater=member)
    RaterAssignment.objects.create(group=peer, rater=owner)  # owner: secretary of branch A
    assert [(r["subject"].code, [g.kind for g in r["groups"]]) for r in selectors.unrateable_units(campaign)] \
        == [("A", ["peer"])]
    client_for(client, manager)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-testid="unrateable-warning"' in page and tree.branch_a.name in page
    # Opening without confirming is refused, naming the unit; confirmed, it opens.
    response = client.post(f"/evaluation/campaigns/{campaign.pk}/step/", {"action": "open"}, follow=True)
    campaign.refresh_from_db()
    assert campaign.status == "draft"
    assert any(tree.branch_a.name in str(m) for m in response.context["messages"])
    client.post(f"/evaluation/campaigns/{campaign.pk}/step/", {"action": "open", "accept_incomplete": "1"})
    campaign.refresh_from_db()
    assert campaign.status == "open"


def test_unrateable_unit_is_marked_and_ranked_after_complete_units(client, tree, campaign, manager, owner, outsider,
                                                                   member):
    mass = RaterGroup.objects.create(campaign=campaign, kind="mass", weight=40, anonymous=True)
    peer = RaterGroup.objects.create(campaign=campaign, kind="peer", weight=60)
    m = RaterAssignment.objects.create(group=mass, rater=member)
    p = RaterAssignment.objects.create(group=peer, rater=owner)  # rates B only; A has no cross rater
    services.campaign_transition(campaign=campaign, action="open", by=manager, accept_incomplete=True)
    rate(m, tree.branch_a, 40, 60)  # A: 100 from the mass group alone
    rate(m, tree.branch_b, 30, 50)
    rate(p, tree.branch_b, 30, 40)  # B: 0.4 × 80 + 0.6 × 70 = 74
    rows = selectors.campaign_results(campaign)["rows"]
    assert [(r["subject"].code, r.get("rank"), r["total"], r["complete"]) for r in rows] == [
        ("B", 1, Decimal("74.00"), True), ("A", None, Decimal("100.00"), False)]
    assert [g.kind for g in rows[1]["cannot_rate"]] == ["peer"]
    client_for(client, manager)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-testid="ranking-rule"' in page and f'data-testid="incomplete-{tree.branch_a.pk}"' in page
    assert page.index(tree.branch_b.name, page.index("campaign-results")) \
        < page.index(tree.branch_a.name, page.index("campaign-results"))


def test_weighted_score_rounds_half_up(tree, campaign, manager, member, owner):
    """86.725 is shown 86.73 (四舍五入), not 86.72 as binary floats round it."""
    mass = RaterGroup.objects.create(campaign=campaign, kind="mass", weight=50)
    superior = RaterGroup.objects.create(campaign=campaign, kind="superior", weight=50)
    m = RaterAssignment.objects.create(group=mass, rater=member)
    s = RaterAssignment.objects.create(group=superior, rater=owner)
    services.campaign_transition(campaign=campaign, action="open", by=manager)
    rate(m, tree.branch_a, "36.5", "50.0")     # 86.5
    rate(s, tree.branch_a, "36.95", "50.0")    # 86.95 → (86.5 + 86.95) / 2 = 86.725
    row = next(r for r in selectors.campaign_results(campaign)["rows"] if r["subject"] == tree.branch_a)
    assert str(row["total"]) == "86.73"


def test_no_scientific_notation_in_hints_and_workbook_headers(client, tree, campaign, manager, member):
    from io import BytesIO

    from openpyxl import load_workbook

    from evaluation.forms import ScoreSheetForm

    form = ScoreSheetForm(indicators=campaign.indicators.all())
    assert [str(f.help_text) for f in form.fields.values() if f.help_text] == ["0 – 40", "0 – 60"]
    group = RaterGroup.objects.create(campaign=campaign, kind="mass", weight=Decimal("60.00"))
    RaterGroup.objects.create(campaign=campaign, kind="superior", weight=Decimal("40.00"))
    RaterAssignment.objects.create(group=group, rater=member)
    client_for(client, manager)
    workbook = load_workbook(BytesIO(client.get(f"/evaluation/campaigns/{campaign.pk}/results.xlsx").content))
    header = [c.value for c in next(workbook.active.iter_rows(max_row=1))]
    assert any(str(h).endswith("（60%）") for h in header) and not any("E+" in str(h) for h in header)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert "E+" not in page


@pytest.mark.parametrize("votes, grade", [
    ({"qualified": 1, "unqualified": 1}, "qualified"),          # the case seen: a tie goes to the higher grade
    ({"excellent": 2, "qualified": 2, "unqualified": 1}, "excellent"),
    ({"qualified": 1, "unqualified": 2}, "unqualified"),        # a lower grade with more votes wins
    ({"basic": 3}, "basic"),
    ({}, ""),
])
def test_appraisal_grade_rule(votes, grade):
    assert selectors.grade_by_votes(votes) == grade


def test_appraisal_page_states_the_grade_rule(client, tree, manager):
    round = AppraisalRound.objects.create(name="民主评议", org_unit=tree.branch_a, year=2026)
    client_for(client, manager)
    page = client.get(round.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="grade-rule"' in page and "取其中较高的等次" in page


def test_an_appraisal_is_opened_and_closed_in_its_own_words(client, tree, manager, campaign):
    round = AppraisalRound.objects.create(name="民主评议", org_unit=tree.branch_a, year=2026)
    client_for(client, manager)
    page = client.get(round.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "开始投票" in page and "开放评分" not in page
    round.status = "open"
    round.save(update_fields=["status"])
    page = client.get(round.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "结束投票" in page and "结束评分" not in page
    # The campaign keeps the words of rating.
    assert "开放评分" in client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
