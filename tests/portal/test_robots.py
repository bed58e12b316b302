"""Group robots (WeCom / DingTalk): messages posted to a real local HTTP server that checks the
payload and DingTalk's signature; once-only delivery, retries, failures shown to the admins,
credentials masked, the admin pages and the events that announce."""
import base64
import datetime
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.urls import reverse

from demands.calendar import TZ
from demands.tasks import sla_sweep
from portal import robots
from portal.models import Notification, RobotDelivery, RobotKind, RobotPlatform, RobotWebhook
from tests.factories.demands import make_demand, policy

SECRET = "SEC" + "0123456789abcdef" * 4
KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


class Receiver:
    """A robot endpoint on 127.0.0.1: answers with the queued (status, body) pairs, then with
    errcode 0; records each request; rejects a DingTalk request whose signature is wrong."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                receiver.requests.append({"path": self.path, "query": query, "body": body,
                                          "content_type": self.headers.get("Content-Type")})
                status, answer = receiver.answers.pop(0) if receiver.answers else (200, {"errcode": 0, "errmsg": "ok"})
                if receiver.secret and status == 200:
                    expected = base64.b64encode(hmac.new(
                        receiver.secret.encode(), f"{query.get('timestamp')}\n{receiver.secret}".encode(), hashlib.sha256,
                    ).digest()).decode()
                    if query.get("sign") != expected:
                        answer = {"errcode": 310000, "errmsg": "sign not match"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(settings):
    settings.ROBOT_WEBHOOK_HOSTS = ["127.0.0.1"]
    endpoint = Receiver()
    yield endpoint
    endpoint.server.shutdown()


def make_robot(unit, receiver, *, platform=RobotPlatform.DINGTALK, kinds=(RobotKind.OVERDUE,), **fields):
    path = "/robot/send?access_token=" + KEY if platform == RobotPlatform.DINGTALK else "/cgi-bin/webhook/send?key=" + KEY
    return RobotWebhook.objects.create(org_unit=unit, name=f"{unit.name}群", platform=platform, url=receiver.base + path,
                                       kinds=list(kinds), **fields)


def announce(unit, key="event:1", kind=RobotKind.OVERDUE):
    return robots.announce(kind, unit=unit, key=key, url="/demands/1/", compose=lambda: ("诉求已超期", "食堂排队太久"))


def test_dingtalk_message_is_signed_and_delivered(tree, receiver):
    robot = make_robot(tree.branch_a, receiver, secret=SECRET)
    receiver.secret = SECRET
    assert announce(tree.branch_a) == 1
    delivery = RobotDelivery.objects.get()
    outcome = robots.deliver(delivery.pk)
    assert outcome.sent
    delivery.refresh_from_db()
    assert delivery.status == RobotDelivery.Status.SENT and delivery.attempts == 1
    (request,) = receiver.requests
    assert request["query"]["access_token"] == KEY and request["query"]["sign"]
    assert request["content_type"].startswith("application/json")
    assert request["body"]["msgtype"] == "markdown"
    assert request["body"]["markdown"]["title"] == "诉求已超期"
    assert "食堂排队太久" in request["body"]["markdown"]["text"]
    assert "http://" in request["body"]["markdown"]["text"] and "/demands/1/" in request["body"]["markdown"]["text"]
    robot.refresh_from_db()
    assert robot.last_sent_at is not None and robot.last_error == ""


def test_a_wrong_signature_fails_and_is_shown(tree, receiver, admin_user):
    robot = make_robot(tree.branch_a, receiver, secret="SECwrong")
    receiver.secret = SECRET
    announce(tree.branch_a)
    outcome = robots.deliver(RobotDelivery.objects.get().pk)
    assert not outcome.sent and not outcome.retry
    robot.refresh_from_db()
    assert robot.last_error.startswith("errcode 310000")
    assert RobotDelivery.objects.get().status == RobotDelivery.Status.FAILED
    # The administrators are told, once a day per robot however many messages fail.
    announce(tree.branch_a, key="event:2")
    robots.deliver(RobotDelivery.objects.get(key="event:2").pk)
    assert Notification.objects.filter(user=admin_user, url=robot.get_absolute_url()).count() == 1


def test_wecom_payload(tree, receiver):
    make_robot(tree.branch_a, receiver, platform=RobotPlatform.WECOM)
    announce(tree.branch_a)
    assert robots.deliver(RobotDelivery.objects.get().pk).sent
    (request,) = receiver.requests
    assert request["query"] == {"key": KEY}
    content = request["body"]["markdown"]["content"]
    assert content.startswith("**诉求已超期**") and "食堂排队太久" in content


def test_an_event_is_posted_once(tree, receiver):
    make_robot(tree.branch_a, receiver)
    assert announce(tree.branch_a) == 1
    assert announce(tree.branch_a) == 0
    delivery = RobotDelivery.objects.get()
    assert robots.deliver(delivery.pk).sent
    assert not robots.deliver(delivery.pk).sent  # a second run of the task finds it claimed
    assert len(receiver.requests) == 1


def test_which_robots_carry_an_event(tree, receiver):
    above = make_robot(tree.root, receiver)
    own = make_robot(tree.group_a, receiver)
    make_robot(tree.root, receiver, include_subunits=False)
    make_robot(tree.branch_a, receiver, kinds=[RobotKind.MEETING])
    make_robot(tree.branch_a, receiver, active=False)
    make_robot(tree.branch_b, receiver)
    announce(tree.group_a)
    assert set(RobotDelivery.objects.values_list("robot", flat=True)) == {above.pk, own.pk}


def test_transient_failures_are_retried(tree, receiver):
    make_robot(tree.branch_a, receiver)
    receiver.answers = [(502, {}), (200, {"errcode": 130101, "errmsg": "send too fast"})]
    announce(tree.branch_a)
    pk = RobotDelivery.objects.get().pk
    assert robots.deliver(pk).retry
    assert RobotDelivery.objects.get().status == RobotDelivery.Status.PENDING
    assert robots.deliver(pk).retry
    assert robots.deliver(pk).sent
    delivery = RobotDelivery.objects.get()
    assert delivery.status == RobotDelivery.Status.SENT and delivery.attempts == 3


def test_retries_end(tree, receiver, settings):
    settings.ROBOT_MAX_ATTEMPTS = 2
    make_robot(tree.branch_a, receiver)
    receiver.answers = [(503, {})] * 3
    announce(tree.branch_a)
    pk = RobotDelivery.objects.get().pk
    assert robots.deliver(pk).retry
    outcome = robots.deliver(pk)
    assert not outcome.retry and not outcome.sent
    assert RobotDelivery.objects.get().status == RobotDelivery.Status.FAILED


def test_an_address_off_the_allowed_hosts_is_never_called(tree, receiver, settings):
    make_robot(tree.branch_a, receiver)
    settings.ROBOT_WEBHOOK_HOSTS = ["oapi.dingtalk.com"]
    announce(tree.branch_a)
    assert not robots.deliver(RobotDelivery.objects.get().pk).sent
    assert receiver.requests == []
    assert RobotDelivery.objects.get().status == RobotDelivery.Status.FAILED


def test_overdue_demands_reach_the_unit_robot(tree, receiver, owner, staff, handler, member):
    robot = make_robot(tree.branch_a, receiver, kinds=[RobotKind.OVERDUE, RobotKind.SUPERVISION])
    policy(None, "normal", hours=4, days=2)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=TZ), tick=False):
        demand = make_demand(tree.group_a, submitter=member.person, by=owner)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 15, 0, tzinfo=TZ), tick=False):
        sla_sweep()
        sla_sweep()
    kinds = sorted(RobotDelivery.objects.filter(robot=robot).values_list("kind", flat=True))
    assert kinds == [RobotKind.OVERDUE, RobotKind.SUPERVISION]
    overdue = RobotDelivery.objects.get(kind=RobotKind.OVERDUE)
    assert demand.ref in overdue.title and overdue.title.startswith("已超期")  # the deployment's language


def test_credentials_never_reach_the_page(tree, receiver, client, admin_user):
    robot = make_robot(tree.branch_a, receiver, secret=SECRET)
    client.force_login(admin_user)
    for url in (reverse("portal:robot_detail", args=[robot.pk]), reverse("portal:robot_edit", args=[robot.pk]),
                reverse("portal:robot_list")):
        html = client.get(url).content.decode()
        assert SECRET not in html and KEY not in html
    assert "••••" + KEY[-4:] in client.get(reverse("portal:robot_detail", args=[robot.pk])).content.decode()
    from django.apps import apps

    events = apps.get_model("portal", "RobotWebhookEvent").objects.filter(pgh_obj=robot)
    assert events.exists() and all(SECRET not in str(vars(e)) and KEY not in str(vars(e)) for e in events)


def test_the_admin_sets_up_a_robot(tree, client, admin_user, settings):
    client.force_login(admin_user)
    url = reverse("portal:robot_create")
    data = {"org_unit": tree.branch_a.pk, "name": "第一支部群", "platform": "dingtalk",
            "url": "https://evil.example.com/robot/send?access_token=x", "secret": "abc", "kinds": ["overdue", "meeting"],
            "include_subunits": "on", "active": "on"}
    page = client.post(url, data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "只接受企业微信和钉钉机器人的地址" in html and "钉钉加签密钥以 SEC 开头" in html
    assert "evil.example.com" in html  # what was typed is kept
    data.update(url="https://oapi.dingtalk.com/robot/send?access_token=" + KEY, secret=SECRET)
    assert client.post(url, data).status_code == 302
    robot = RobotWebhook.objects.get()
    assert robot.kinds == ["overdue", "meeting"] and robot.secret == SECRET
    # Saving again with the credentials left empty keeps them.
    data.update(url="", secret="", name="第一支部工作群")
    assert client.post(reverse("portal:robot_edit", args=[robot.pk]), data).status_code == 302
    robot.refresh_from_db()
    assert robot.name == "第一支部工作群" and robot.url.endswith(KEY) and robot.secret == SECRET


def test_wecom_has_no_secret_and_addresses_match_the_platform(tree, client, admin_user):
    client.force_login(admin_user)
    data = {"org_unit": tree.branch_a.pk, "name": "群", "platform": "wecom", "secret": SECRET,
            "url": "https://oapi.dingtalk.com/robot/send?access_token=" + KEY, "kinds": ["overdue"]}
    html = client.post(reverse("portal:robot_create"), data).content.decode()
    assert "企业微信群机器人没有加签密钥" in html and "这是另一个平台的地址" in html
    assert not RobotWebhook.objects.exists()


def test_only_admins_configure_robots(tree, client, staff, manager, admin_user):
    for user in (staff, manager):
        client.force_login(user)
        assert client.get(reverse("portal:robot_list")).status_code == 403
    client.force_login(admin_user)
    home = client.get(reverse("home")).content.decode()
    assert reverse("portal:robot_list") in home


def test_test_message_and_retry_from_the_page(tree, receiver, client, admin_user, django_capture_on_commit_callbacks):
    robot = make_robot(tree.branch_a, receiver, secret=SECRET)
    receiver.secret = SECRET
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("portal:robot_test", args=[robot.pk]))
    assert len(queued) == 1
    delivery = RobotDelivery.objects.get()
    RobotDelivery.objects.filter(pk=delivery.pk).update(status=RobotDelivery.Status.FAILED, error="HTTP 502")
    page = client.get(reverse("portal:robot_detail", args=[robot.pk])).content.decode()
    assert "HTTP 502" in page
    client.post(reverse("portal:robot_delivery_retry", args=[delivery.pk]))
    assert RobotDelivery.objects.get().status == RobotDelivery.Status.PENDING
    assert robots.deliver(delivery.pk).sent
    assert receiver.requests[0]["body"]["markdown"]["title"].startswith("测试消息")


@pytest.fixture
def worker_may_post(monkeypatch):
    monkeypatch.setenv("ROBOT_WEBHOOK_HOSTS", "127.0.0.1")


@pytest.mark.celery_worker
def test_a_real_worker_posts_once(worker_may_post, receiver, celery_worker, tree):
    receiver.secret = SECRET
    make_robot(tree.branch_a, receiver, secret=SECRET)
    make_robot(tree.root, receiver, secret=SECRET)
    from django.db import transaction

    with transaction.atomic():
        announce(tree.branch_a)
        announce(tree.branch_a)  # the same event again: nothing more
    celery_worker(lambda: RobotDelivery.objects.filter(status=RobotDelivery.Status.SENT).count() == 2, timeout=60)
    assert len(receiver.requests) == 2
    assert all(r["body"]["markdown"]["title"] == "诉求已超期" for r in receiver.requests)


def test_an_unreachable_robot_is_explained_in_chinese(tree, receiver, settings):
    """The administrator reads what went wrong in the portal's language, the system's detail after it."""
    robot = make_robot(tree.branch_a, receiver)
    RobotWebhook.objects.filter(pk=robot.pk).update(url="http://no-such-host.invalid/robot/send?access_token=" + KEY)
    settings.ROBOT_WEBHOOK_HOSTS = ["no-such-host.invalid"]
    announce(tree.branch_a)
    outcome = robots.deliver(RobotDelivery.objects.get().pk)
    assert outcome.retry
    assert RobotDelivery.objects.get().error.startswith("无法解析机器人地址的主机名")


def test_a_robot_switched_off_after_queueing_posts_nothing(tree, receiver):
    robot = make_robot(tree.branch_a, receiver)
    announce(tree.branch_a)
    RobotWebhook.objects.filter(pk=robot.pk).update(active=False)
    assert not robots.deliver(RobotDelivery.objects.get().pk).sent
    assert receiver.requests == []
    assert RobotDelivery.objects.get().status == RobotDelivery.Status.FAILED


def test_the_sla_sweep_reads_the_robots_once(tree, receiver, owner, member, django_assert_max_num_queries):
    """Many overdue demands in one sweep: the robot list is not read again per demand."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_robot(tree.branch_a, receiver, kinds=[RobotKind.OVERDUE, RobotKind.SUPERVISION])
    policy(None, "normal", hours=4, days=2)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=TZ), tick=False):
        for _ in range(4):
            make_demand(tree.group_a, submitter=member.person, by=owner)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 15, 0, tzinfo=TZ), tick=False):
        with CaptureQueriesContext(connection) as queries:
            sla_sweep()
    robot_reads = [q for q in queries.captured_queries if 'FROM "portal_robotwebhook"' in q["sql"]]
    assert len(robot_reads) == 2  # one per kind the sweep may announce
    assert RobotDelivery.objects.filter(kind=RobotKind.OVERDUE).count() == 4
