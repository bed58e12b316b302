"""Similar-demand suggestion on paraphrased duplicates (demands/textdata/duplicates.csv): each
paraphrase must find its original among the five suggestions. Title trigrams alone miss many
Chinese paraphrases; the text representation finds them."""
import pytest
from django.contrib.postgres.search import TrigramSimilarity

from demands import selectors, textmodel
from demands.choices import DEFAULT_CATEGORIES
from demands.models import Demand
from tests.factories.demands import category, make_demand

pytestmark = pytest.mark.django_db


def test_paraphrased_duplicates_are_found(owner, tree):
    pairs = textmodel.read_labelled_csv(textmodel.DATA_DIR / "duplicates.csv")
    other = category()
    for code, name in DEFAULT_CATEGORIES:  # the text model needs categories to learn
        category(code, name)
    originals = {p["original"]: make_demand(tree.group_a, title=p["original"], content="", category_obj=other).pk for p in pairs}
    # Some unrelated open demands, so that finding is not trivial.
    for title in ("建议厂区增设快递柜", "门禁卡丢失补办流程繁琐", "希望公开工会经费使用情况", "班组工具间太挤"):
        make_demand(tree.group_a, title=title, content="", category_obj=other)

    def trigram_only(text):
        return list(Demand.objects.filter(title__trigram_similar=text).annotate(s=TrigramSimilarity("title", text))
                    .order_by("-s").values_list("pk", flat=True)[:5])

    found_by_trigram = sum(originals[p["original"]] in trigram_only(p["paraphrase"]) for p in pairs)
    found = sum(originals[p["original"]] in [d.pk for d in selectors.similar_demands(owner, p["paraphrase"])] for p in pairs)
    recall, baseline = found / len(pairs), found_by_trigram / len(pairs)
    print(f"recall@5 on {len(pairs)} paraphrased duplicates: text model {recall:.2f}, title trigrams {baseline:.2f}")
    assert recall >= 0.8 and recall > baseline


def test_a_two_character_word_is_found_through_the_bigram_index(owner, tree):
    """工资 has no trigram: the word's candidates come through the open demands' bigram index
    (demand_title_bigrams) and are still found."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT demand_title_bigrams(%s)", ["拖欠工资"])
        assert sorted(cursor.fetchone()[0]) == sorted(["拖欠", "欠工", "工资"])
    other = category()
    for code, name in DEFAULT_CATEGORIES:
        category(code, name)
    wanted = make_demand(tree.group_a, title="工资拖欠了三个月还没发", content="", category_obj=other)
    make_demand(tree.group_a, title="食堂菜价上涨", content="", category_obj=other)
    assert wanted.pk in [d.pk for d in selectors.similar_demands(owner, "拖欠工资三个月")]
