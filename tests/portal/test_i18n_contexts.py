"""One English word, two meanings: the labels that collided now carry a pgettext context, so each
meaning has its own Chinese (docs/architecture.md, i18n)."""
import pytest
from django.utils import translation

from activities.choices import ItemStatus, ProjectStage
from demands.choices import Status as DemandStatus
from evaluation.choices import ActionStatus, CampaignStatus, RaterGroupKind
from evaluation.workflow import CAMPAIGN_ACTION_LABELS


@pytest.mark.parametrize("label, chinese", [
    (RaterGroupKind.ADMINISTRATIVE.label, "行政"),        # was 系统管理, the menu's "Administration"
    (ProjectStage.CLOSED.label, "已结项"),                  # was 已关闭
    (ItemStatus.IN_PROGRESS.label, "进行中"),               # was 办理中, a demand word
    (CampaignStatus.CLOSED.label, "已结束"),
    (ActionStatus.CLOSED.label, "已关闭"),
    (CAMPAIGN_ACTION_LABELS["close"], "结束评分"),
    (CAMPAIGN_ACTION_LABELS["reopen"], "重新开放评分"),
    # The other meanings keep theirs.
    (DemandStatus.IN_PROGRESS.label, "办理中"),
    (DemandStatus.CLOSED.label, "已关闭"),
])
def test_each_meaning_has_its_own_chinese(label, chinese):
    with translation.override("zh-hans"):
        assert str(label) == chinese


def test_the_menu_keeps_administration():
    with translation.override("zh-hans"):
        assert translation.gettext("Administration") == "系统管理"
