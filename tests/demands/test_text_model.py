"""The demand text model with real jieba and scikit-learn on small data: the cold-start corpus,
versions and promotion, the three commands, the classify API and the suggestion at acceptance."""
import csv

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from demands import text_services, textmodel
from demands.choices import DEFAULT_CATEGORIES
from demands.models import Demand, DemandCategory, DemandTextModel
from tests.conftest import client_for
from tests.factories.demands import category, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture
def categories(db):
    return {code: category(code, name) for code, name in DEFAULT_CATEGORIES}


def test_tone_and_urgency_from_the_lexicon():
    assert textmodel.tone("连续三个月拖欠工资，再不解决只能集体上访")[0] == textmodel.STRONG_NEGATIVE
    assert textmodel.tone("宿舍热水器坏了没人修")[0] == textmodel.NEGATIVE
    assert textmodel.tone("感谢工会组织的运动会，很好")[0] == textmodel.POSITIVE
    assert textmodel.tone("职称评审什么时候开始")[0] == textmodel.NEUTRAL
    # 不满意 counts as itself, not as 满意.
    assert textmodel.tone("对处理结果不满意")[0] == textmodel.NEGATIVE
    assert textmodel.urgency("宿舍电线老化冒火花，有安全隐患", textmodel.NEGATIVE) == ("urgent", ["冒火花", "安全隐患"])
    assert textmodel.urgency("外包公司欠薪两个月", textmodel.NEUTRAL)[0] == "urgent"
    assert textmodel.urgency("工作太累了，真的撑不下去了", textmodel.STRONG_NEGATIVE)[0] == "urgent"
    assert textmodel.urgency("建议厂区增设快递柜", textmodel.NEUTRAL)[0] == "low"
    assert textmodel.urgency("食堂饭菜太咸", textmodel.NEGATIVE)[0] == "normal"


def test_cold_start_model_suggests_from_the_corpus(categories):
    suggestion = text_services.suggest("这个月的绩效工资拖欠了还没发，再不解决就集体上访")
    version = DemandTextModel.objects.get()
    assert version.is_current and version.source == "corpus" and version.version == 1
    assert version.training_size == len(textmodel.corpus_rows()) and version.heldout_size > 0
    assert suggestion.cold_start and suggestion.model == version
    assert suggestion.category in (categories["salary"], categories["labour_dispute"])
    assert [p for _c, p in suggestion.categories] == sorted((p for _c, p in suggestion.categories), reverse=True)
    assert (suggestion.urgency, suggestion.tone) == ("urgent", "strong_negative")
    housing = text_services.suggest("宿舍楼的暖气一点都不热，晚上冻得睡不着")
    assert housing.category == categories["housing"]


def test_a_retrain_that_scores_worse_is_not_promoted(categories, tree, monkeypatch):
    """The current version memorised every row; a retrain on rows whose labels cannot be learned
    from the text scores worse on the held-out split, so the current version stays."""
    monkeypatch.setattr(text_services, "MIN_HISTORY", 20)
    codes = ["salary", "housing", "medical"]
    rows = []
    for n in range(30):
        # Titles that share nothing with each other: the label of a held-out row cannot be learned.
        title = f"{chr(0x4E00 + n * 37)}{chr(0x4E00 + n * 53 + 7)}{chr(0x4E00 + n * 71 + 11)}"
        demand = make_demand(tree.group_a, title=title, content="", category_obj=categories[codes[n % 3]])
        Demand.objects.filter(pk=demand.pk).update(status="accepted")
        rows.append((textmodel.text_of(title, ""), codes[n % 3]))
    memorised = textmodel.fit([t for t, _ in rows], [c for _, c in rows])
    current = DemandTextModel.objects.create(
        version=1, source="history", trained_at="2026-01-01T00:00:00+08:00", training_size=30, heldout_size=0,
        accuracy=1, macro_f1=1, is_current=True, blob=memorised.dumps(),
    )
    retrained = text_services.train()
    current.refresh_from_db()
    assert retrained.version == 2 and retrained.source == "history"
    assert not retrained.is_current and current.is_current
    assert retrained.previous_macro_f1 == 1.0 and retrained.macro_f1 < 1.0
    assert "Not promoted" in retrained.note or "未" in retrained.note


def test_history_replaces_the_corpus_when_there_is_enough(categories, tree, monkeypatch):
    monkeypatch.setattr(text_services, "MIN_HISTORY", 20)
    text_services.train()  # the cold-start version
    for n in range(12):
        for code, title in (("housing", f"{n}号宿舍楼热水器坏了"), ("welfare", f"食堂第{n}窗口菜品太少"),
                            ("medical", f"体检第{n}项检查希望增加")):
            demand = make_demand(tree.group_a, title=title, content="", category_obj=categories[code])
            Demand.objects.filter(pk=demand.pk).update(status="accepted")
    row = text_services.train()
    assert row.source == "history" and row.is_current and row.macro_f1 >= row.previous_macro_f1
    assert DemandTextModel.objects.filter(is_current=True).get() == row


def test_the_first_version_made_inside_a_request_learns_only_the_corpus(categories, tree, monkeypatch):
    """Training on a big history takes up to a minute: the page that first needs a suggestion gets
    the quick corpus version, and the history version is left to the worker."""
    monkeypatch.setattr(text_services, "MIN_HISTORY", 3)
    for n, code in enumerate(("housing", "welfare", "medical", "housing")):
        demand = make_demand(tree.group_a, title=f"第{n}件诉求", content="", category_obj=categories[code])
        Demand.objects.filter(pk=demand.pk).update(status="accepted")
    text_services.forget_loaded()
    row, _model = text_services.current_model()
    assert row.source == "corpus" and row.is_current


def test_commands(categories, tmp_path, capsys):
    call_command("train_demand_model")
    out = capsys.readouterr().out
    assert "training size:" in out and "held-out accuracy:" in out and "held-out macro-F1:" in out
    infile, outfile = tmp_path / "in.csv", tmp_path / "out.csv"
    infile.write_text("id,title,content\n7,宿舍卫生间漏水,楼上渗到楼下\n8,拖欠工资三个月,再不发就集体上访\n", encoding="utf-8-sig")
    call_command("classify_demands", str(infile), str(outfile))
    with open(outfile, encoding="utf-8") as f:
        result = list(csv.DictReader(f))
    assert list(result[0]) == ["id", "category", "category_confidence", "urgency", "tone"]
    assert (result[0]["id"], result[0]["category"]) == ("7", "住房")
    assert 0 < float(result[0]["category_confidence"]) <= 1
    assert (result[1]["urgency"], result[1]["tone"]) == ("urgent", "strong_negative")
    call_command("evaluate_demand_model", str(textmodel.HELDOUT_FILE))
    out = capsys.readouterr().out
    assert "accuracy:" in out and "macro-F1:" in out and "住房" in out and "precision" in out


def test_held_out_set_is_kept_apart_from_the_corpus():
    corpus = {r["title"] for r in textmodel.corpus_rows()}
    assert not corpus & {r["title"] for r in textmodel.heldout_rows()}


def test_classify_api(categories, owner, tree):
    client = APIClient()
    response = client.post("/api/demands/classify/", {"title": "宿舍漏水"}, format="json")
    assert response.status_code in (401, 403)
    client.force_authenticate(owner)
    response = client.post("/api/demands/classify/", {"title": "宿舍卫生间漏水严重", "content": "", "org_unit": tree.group_a.code}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["categories"][0]["code"] == "housing" and body["categories"][0]["name"] == "住房"
    assert body["categories"][0]["probability"] >= body["categories"][1]["probability"]
    assert body["tone"] in ("negative", "neutral") and body["urgency"] in ("normal", "urgent", "low")
    assert body["model_source"] == "corpus"
    response = client.post("/api/demands/classify/", {"content": "x", "org_unit": "NOPE"}, format="json")
    assert response.status_code == 400 and {"title", "org_unit"} <= set(response.json())
    assert "/api/demands/classify/" in client.get("/api/schema/").content.decode()


def test_acceptance_shows_the_suggestion_and_records_whether_it_was_taken(client, categories, owner, handler, tree):
    demand = make_demand(tree.group_a, by=owner, title="宿舍电线老化冒火花", content="有安全隐患", category_obj=categories["other"])
    # The 受理 form, as its button loads it into the demand page.
    page = client_for(client, owner).get(reverse("demands:demand_action", args=[demand.pk, "accept"]), HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert 'data-testid="suggestion"' in html and "住房" in html
    # Nothing is chosen for the human: the form still shows the submitter's category.
    assert page.context["form"].initial["category"] == categories["other"].pk
    suggestion = page.context["suggestion"]
    assert suggestion.category == categories["housing"] and suggestion.urgency == "urgent"

    response = client.post(reverse("demands:demand_action", args=[demand.pk, "accept"]), {
        "category": categories["housing"].pk, "urgency": "normal", "handler": handler.pk,
    })
    assert response.status_code == 302
    demand.refresh_from_db()
    assert (demand.category, demand.urgency) == (categories["housing"], "normal")  # the human's choice
    taken = demand.events.get(action="accept").data["suggestion"]
    assert taken["category"] == "housing" and taken["category_taken"] is True
    assert taken["urgency"] == "urgent" and taken["urgency_taken"] is False
    assert taken["model_version"] == suggestion.model.version


def test_intake_form_offers_the_suggestion_while_the_title_is_typed(client, categories, member):
    client_for(client, member)
    html = client.get(reverse("demands:similar"), {"title": "宿舍卫生间漏水严重"}).content.decode()
    assert 'data-testid="intake-suggestion"' in html and "住房" in html
    assert f'data-category="{categories["housing"].pk}"' in html
    # Too short to say anything: no suggestion.
    assert "intake-suggestion" not in client.get(reverse("demands:similar"), {"title": "宿舍"}).content.decode()


def test_the_suggestion_names_each_word_once_and_judges_only_what_it_suggested(categories):
    from demands.selectors import _summary

    suggestion = text_services.suggest("安排不合理，真的不合理")
    assert suggestion.tone_words.count("不合理") == 1
    # The model suggested no lead unit: taking the category and the urgency is taking it all.
    taken = {"suggestion": {"category_taken": True, "urgency_taken": True, "lead_unit_taken": None}}
    assert dict(_summary(taken, {}, {}, {}))["系统建议"] == "已采纳"


def test_classify_without_a_model_answers_409_as_the_schema_documents(owner, tree):
    """No category has examples: no model can be trained, and the answer is the documented 409."""
    DemandCategory.objects.update(is_active=False)
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post("/api/demands/classify/", {"title": "宿舍卫生间漏水严重"}, format="json")
    assert response.status_code == 409 and response.json()["detail"]
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "409" in schema["paths"]["/api/demands/classify/"]["post"]["responses"]
