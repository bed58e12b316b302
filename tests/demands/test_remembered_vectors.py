"""A loaded text model remembers the vectors of the texts it ranked (the similar-demand search ranks
the same open titles against every demand opened): the same vectors as computed afresh, and what is
stored of a version is the model alone."""
import pytest

from demands import text_services, textmodel
from demands.choices import DEFAULT_CATEGORIES
from tests.factories.demands import category

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(db):
    for code, name in DEFAULT_CATEGORIES:
        category(code, name)
    return text_services.current_model()[1]


def test_remembered_vectors_are_the_vectors_computed_afresh(model):
    seen = ["宿舍空调需要维修", "拖欠工资三个月"]
    model.remembered_vectors(seen)
    texts = ["工资拖欠了三个月还没发", "宿舍空调需要维修", "食堂饭菜太咸", "宿舍空调需要维修", "拖欠工资三个月"]
    assert abs(model.remembered_vectors(texts) - model.vectors(texts)).max() == 0
    assert model.remembered_vectors(texts).shape == model.vectors(texts).shape


def test_past_its_size_the_memory_starts_again_and_stays_right(model, monkeypatch):
    monkeypatch.setattr(textmodel, "VECTOR_MEMO_SIZE", 3)
    texts = [f"宿舍{i}号楼空调坏了" for i in range(5)]
    for end in range(1, 6):
        assert abs(model.remembered_vectors(texts[:end]) - model.vectors(texts[:end])).max() == 0
    assert len(model.__dict__["_vector_memo"]) <= 3


def test_a_stored_version_holds_the_model_not_what_a_process_remembered(model):
    before = model.dumps()
    model.remembered_vectors(["宿舍空调需要维修", "食堂饭菜太咸"])
    assert model.dumps() == before
    assert "_vector_memo" not in textmodel.TextModel.loads(model.dumps()).__dict__
