"""Group robots: notifications posted into WeCom (企业微信) and DingTalk (钉钉) group chats.

A unit's administrator-configured robot carries the kinds of notification it was given
(`RobotKind`) about records of its unit and, unless switched off, of the units below it. A service
that tells people about an event calls `announce(kind, unit=…, key=…, compose=…)` beside `notify`:

- `announce` writes one `RobotDelivery` per matching robot; (robot, key) is unique, so an event
  announced twice (a sweep that runs again) is posted once. The message is composed in the
  deployment's language (a group has no language of its own), and the posting is queued after
  the transaction commits.
- `deliver` (the Celery task `portal.tasks.send_robot_message`) claims the delivery before posting,
  so two workers never post it twice. Network errors, HTTP 5xx/429 and the platforms' rate-limit
  codes are retried with backoff up to `ROBOT_MAX_ATTEMPTS`; anything else fails at once. A failure
  is kept on the delivery and on the robot, listed for the administrators and told to them once a
  day per robot.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import RobotDelivery, RobotKind, RobotPlatform, RobotWebhook
from .recipients import ancestor_ids

# Answers of the platforms that mean "too many messages, try later" (WeCom 45009; DingTalk 130101
# "send too fast", 410100 "too many requests"); any other non-zero errcode is a configuration error
# (wrong key, signature, keyword) that retrying does not cure.
RATE_LIMITED_CODES = {45009, 130101, 410100}
# Query parameters that carry the robot's credential in its address.
CREDENTIAL_PARAMS = ("key", "access_token")


class RobotDirectory:
    """The active robots carrying one kind, loaded once (one query) for many units (sweeps)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.by_unit: dict[int, list[RobotWebhook]] = {}
        for robot in RobotWebhook.objects.filter(active=True, kinds__contains=[kind]).order_by("pk"):
            self.by_unit.setdefault(robot.org_unit_id, []).append(robot)

    def for_unit(self, unit) -> list[RobotWebhook]:
        """The unit's own robots and those of the units above it that include their sub-units."""
        if not self.by_unit:
            return []
        *above, own = ancestor_ids(unit) or [unit.pk]
        found = list(self.by_unit.get(unit.pk, []))
        for unit_id in above:
            found += [robot for robot in self.by_unit.get(unit_id, []) if robot.include_subunits]
        return found


def announce(kind: str, *, unit, key: str, compose: Callable[[], tuple[str, str]], url: str = "",
             directory: RobotDirectory | None = None) -> int:
    """Queue `compose()` → (title, body) for every robot carrying `kind` about `unit`, once per
    (robot, key). A sweep passes one `directory` for all its units. Returns the deliveries created."""
    if unit is None:
        return 0
    robots = (directory or RobotDirectory(kind)).for_unit(unit)
    if not robots:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        title, body = (str(part) for part in compose())
    created = 0
    for robot in robots:
        try:
            with transaction.atomic():
                delivery = RobotDelivery.objects.create(
                    robot=robot, kind=kind, key=key[:200], title=title[:200], text=body, url=url[:300]
                )
        except IntegrityError:
            continue
        created += 1
        _queue(delivery.pk)
    return created


def send_test(robot: RobotWebhook) -> RobotDelivery:
    """A test message to one robot (from its page), whatever its kinds."""
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Test message from %(site)s") % {"site": settings.PORTAL_SITE_NAME}
        body = _("Group robot “%(name)s” of %(unit)s is set up.") % {"name": robot.name, "unit": robot.org_unit.name}
    delivery = RobotDelivery.objects.create(
        robot=robot, kind=robot.kinds[0] if robot.kinds else RobotKind.APPROVAL,
        key=f"test:{time.time_ns()}", title=title, text=body, url=robot.get_absolute_url(),
    )
    _queue(delivery.pk)
    return delivery


def retry(delivery: RobotDelivery) -> bool:
    """Post a failed delivery again (an administrator's choice, from the failures list)."""
    reset = RobotDelivery.objects.filter(pk=delivery.pk, status=RobotDelivery.Status.FAILED).update(
        status=RobotDelivery.Status.PENDING, attempts=0, error=""
    )
    if reset:
        _queue(delivery.pk)
    return bool(reset)


def _queue(delivery_id: int) -> None:
    from .tasks import send_robot_message

    transaction.on_commit(lambda: send_robot_message.delay(delivery_id))


# --- Posting ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    sent: bool = False
    retry: bool = False
    error: str = ""


def deliver(delivery_id: int, *, now: datetime.datetime | None = None) -> Outcome:
    """Post one delivery, at most once at a time: it is claimed (pending → sending) first."""
    Status = RobotDelivery.Status
    claimed = RobotDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).update(
        status=Status.SENDING, attempts=F("attempts") + 1
    )
    if not claimed:
        return Outcome()
    delivery = RobotDelivery.objects.select_related("robot", "robot__org_unit").get(pk=delivery_id)
    now = now or timezone.now()
    if not delivery.robot.active:  # switched off after the message was queued: not posted
        with translation.override(settings.LANGUAGE_CODE):
            reason = str(_("The robot was switched off before the message was sent."))
        RobotDelivery.objects.filter(pk=delivery_id).update(status=Status.FAILED, error=reason)
        return Outcome(error=reason)
    with translation.override(settings.LANGUAGE_CODE):  # the error is kept as text, in the portal's language
        outcome = post(delivery.robot, payload(delivery.robot.platform, delivery.title, delivery.text, delivery.url), now=now)
    robot = RobotWebhook.objects.filter(pk=delivery.robot_id)
    if outcome.sent:
        RobotDelivery.objects.filter(pk=delivery_id).update(status=Status.SENT, sent_at=now, error="")
        robot.update(last_sent_at=now)
        return outcome
    final = not outcome.retry or delivery.attempts >= settings.ROBOT_MAX_ATTEMPTS
    RobotDelivery.objects.filter(pk=delivery_id).update(
        status=Status.FAILED if final else Status.PENDING, error=outcome.error[:300]
    )
    robot.update(last_failed_at=now, last_error=outcome.error[:300])
    if final:
        _tell_admins(delivery.robot, outcome.error, now)
    return Outcome(retry=not final, error=outcome.error)


def payload(platform: str, title: str, text: str, url: str) -> dict:
    """The markdown message of either platform: the title in bold, the text, a link to the record."""
    lines = [text] if text else []
    if url:
        link = url if url.startswith("http") else f"{settings.PORTAL_BASE_URL.rstrip('/')}{url}"
        with translation.override(settings.LANGUAGE_CODE):
            lines.append(f"[{_('Open in the portal')}]({link})")
    if platform == RobotPlatform.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": "\n\n".join([f"#### {title}", *lines])}}
    return {"msgtype": "markdown", "markdown": {"content": "\n".join([f"**{title}**", *lines])}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(robot: RobotWebhook, now: datetime.datetime) -> str:
    if robot.platform != RobotPlatform.DINGTALK or not robot.secret:
        return robot.url
    timestamp = int(now.timestamp() * 1000)
    query = urllib.parse.urlencode({"timestamp": timestamp, "sign": dingtalk_sign(robot.secret, timestamp)})
    return f"{robot.url}{'&' if '?' in robot.url else '?'}{query}"


def post(robot: RobotWebhook, message: dict, *, now: datetime.datetime) -> Outcome:
    if not host_allowed(robot.url):
        return Outcome(error=_("The address's host is not among ROBOT_WEBHOOK_HOSTS."))
    request = urllib.request.Request(
        signed_url(robot, now), data=json.dumps(message, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.ROBOT_TIMEOUT_SECONDS) as response:  # noqa: S310 (host checked)
            answer = response.read(10_000)
    except urllib.error.HTTPError as error:
        transient = error.code >= 500 or error.code == 429
        return Outcome(retry=transient, error=f"HTTP {error.code}")
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        return Outcome(retry=True, error=mask_text(network_problem(error), robot))
    try:
        code = int(json.loads(answer).get("errcode", 0))
        message_text = str(json.loads(answer).get("errmsg", ""))
    except (ValueError, AttributeError, TypeError):
        return Outcome(error=_("Unexpected answer from the robot."))
    if code == 0:
        return Outcome(sent=True)
    return Outcome(retry=code in RATE_LIMITED_CODES, error=f"errcode {code}: {message_text}"[:300])


def network_problem(error: BaseException) -> str:
    """What went wrong on the way to the robot, in words an administrator can act on (the
    system's own message after it)."""
    import socket

    reason = getattr(error, "reason", error)
    if isinstance(reason, socket.gaierror):
        text = _("The robot's host name could not be resolved (DNS); check the address and the server's network.")
    elif isinstance(reason, (TimeoutError, socket.timeout)):
        text = _("The robot did not answer in time.")
    elif isinstance(reason, ConnectionRefusedError):
        text = _("The robot's host refused the connection.")
    else:
        text = _("Network error on the way to the robot.")
    return f"{text} ({reason})"


def host_allowed(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in settings.ROBOT_WEBHOOK_HOSTS


# --- Masking ------------------------------------------------------------------------------------
def masked_url(url: str) -> str:
    """The address with its key / access token hidden but for the last four characters."""
    parts = urllib.parse.urlsplit(url)
    query = "&".join(
        f"{name}=••••{value[-4:]}" if name in CREDENTIAL_PARAMS else f"{name}={urllib.parse.quote(value)}"
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    return urllib.parse.urlunsplit(parts._replace(query=query))


def mask_text(text: str, robot: RobotWebhook) -> str:
    for secret in (robot.secret, *dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(robot.url).query)).values()):
        if secret and len(secret) >= 8:
            text = text.replace(secret, "••••")
    return text


def _tell_admins(robot: RobotWebhook, error: str, now: datetime.datetime) -> None:
    from .models import User
    from .notifications import notify
    from .roles import Role

    day = timezone.localdate(now)
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Group robot “%(name)s” failed") % {"name": robot.name}
    for admin in User.objects.filter(role=Role.ADMIN, is_active=True):
        notify(admin, title=title[:200], body=error, url=robot.get_absolute_url(), key=f"robot-failed:{robot.pk}:{day:%Y%m%d}:{admin.pk}")
