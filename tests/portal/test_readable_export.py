"""The readable workbook of the demand, people and visit lists (?export=readable): titles and labels in
Chinese, related records by name, dates and numbers as typed Excel cells, the page's scope and filters,
personal numbers masked."""
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.conftest import client_for
from tests.factories import PersonFactory, valid_id_number
from tests.factories.demands import VisitFactory, accepted, make_demand

pytestmark = pytest.mark.django_db


def workbook(client, url, **params):
    response = client.get(url, {"export": "readable", **params}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return header, [{h: c for h, c in zip(header, row)} for row in rows[1:]]


def test_demands(client, owner, outsider, person_a, handler, tree):
    demand = accepted(make_demand(tree.branch_a, submitter=person_a, title="食堂排队"), by=owner, handler=handler,
                      lead_unit=tree.department)
    make_demand(tree.branch_b, title="别的支部")
    header, rows = workbook(client_for(client, owner), reverse("demands:demand_list"))
    assert {"编号", "标题", "状态", "类别", "登记时间", "牵头单位", "承办人"} <= set(header)
    assert [r["标题"].value for r in rows] == ["食堂排队"]  # scope: branch B's demand is not there
    row = rows[0]
    assert row["状态"].value == "已受理" and row["牵头单位"].value == "后勤部"
    assert row["承办人"].value == handler.display_name
    received = row["登记时间"]
    assert isinstance(received.value, datetime.datetime) and received.number_format == "yyyy-mm-dd hh:mm"
    assert received.value == timezone.localtime(demand.received_at).replace(tzinfo=None)
    # The page's filters apply.
    _header, rows = workbook(client, reverse("demands:demand_list"), status="pending")
    assert rows == []


def test_people_are_masked_whoever_exports(client, admin_user, tree):
    PersonFactory(org_unit=tree.group_a, name="王一", gender="M", political_status="full_member", phone="13812345678",
                  id_number=valid_id_number(7), birth_date=datetime.date(1990, 5, 1))
    header, rows = workbook(client_for(client, admin_user), reverse("members:person_list"), q="王一")
    row = next(r for r in rows if r["姓名"].value == "王一")
    assert row["性别"].value == "男" and row["政治面貌"].value == "中共党员" and row["所属组织"].value == "第一党小组"
    assert row["手机号"].value == "138****5678"
    assert "*" in row["身份证号"].value and valid_id_number(7) not in [c.value for c in row.values()]
    birth = row["出生日期"]
    assert birth.value == datetime.datetime(1990, 5, 1) and birth.number_format == "yyyy-mm-dd"


def test_visits(client, owner, outsider, person_a):
    VisitFactory(person=person_a, visited_on=datetime.date(2026, 3, 6), kind="must_visit")
    header, rows = workbook(client_for(client, owner), reverse("demands:visit_list"))
    assert len(rows) == 1 and rows[0]["类型"].value == "五必访"
    assert rows[0]["走访日期"].number_format == "yyyy-mm-dd"
    assert workbook(client_for(client, outsider), reverse("demands:visit_list"))[1] == []


def test_the_list_offers_the_readable_workbook(client, owner):
    html = client_for(client, owner).get(reverse("demands:demand_list")).content.decode()
    assert 'data-testid="export-readable"' in html and "export=readable" in html
