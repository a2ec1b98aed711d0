"""The outbox: deciding who gets a digest, writing the rows, and sending them exactly once.

1. ``digest_send`` works out every recipient and their figures (a few queries for all units),
   and in ONE transaction writes a row per message it decides to send. The unique key
   (subject, recipient, channel, period) means a second run finds the row and sends nothing.
2. ``outbox_deliver`` claims rows with one conditional UPDATE per chunk (a claim token and a
   lease), sends them in a small thread pool (network only), and marks each row ``sent`` or
   ``failed`` as soon as its answer is in (the answers in at the same moment in one
   transaction), fenced by the claim token.
3. ``outbox_retry_due`` (beat) sends failed rows again with backoff, up to
   ``REMINDER_MAX_ATTEMPTS``, and rows left ``queued`` by a sender that died.

The one window that can duplicate a message: the channel accepted it and the sender died (or
lost the database) before its row was marked ``sent``. The row is still ``queued`` under a
lapsed claim, and the sweeper sends it again. Marking each row the moment its answer is in
keeps that window to one round trip to the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from access.models import Role, UserRole
from roster.models import Unit
from roster.ordering import unit_sort_key

from .channels import unit_channel_credentials
from .digests import Digest, UnitNode, digest_units, mask_email, render, unit_nodes
from .models import ROBOTS, Channel, MessageStatus, ReminderMessage, UnitChannel
from .transports import ChannelError, Target, deliver

logger = logging.getLogger(__name__)

SENT, SKIPPED, FAILED, WOULD_SEND = "sent", "skipped", "failed", "would_send"
CHANNEL_ORDER = {Channel.EMAIL: 0, Channel.WECOM: 1, Channel.DINGTALK: 2}
# a queued row nobody claimed for this long lost its sender before the first attempt
UNCLAIMED_GRACE = dt.timedelta(minutes=2)

Progress = Callable[[int, int], None]


# --- recipients -------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    key: str  # "user:7" or "unit:5"
    channel: str
    unit_id: int
    masked: str
    user_id: int | None = None


def recipients_for(*, nodes: dict[int, UnitNode], within: Unit | None = None) -> list[Recipient]:
    """Every liaison with an email (their unit's subtree) and every unit robot (its own
    subtree), within ``within``'s subtree when given, in tree order. Two queries."""
    found: list[Recipient] = []
    liaisons = (
        UserRole.objects.filter(role=Role.LIAISON, unit__isnull=False, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email", "unit_id")
    )
    for user_id, email, unit_id in liaisons:
        found.append(Recipient(f"user:{user_id}", Channel.EMAIL, unit_id, mask_email(email), user_id))
    for unit_id, channel, host in UnitChannel.objects.values_list("unit_id", "channel", "host"):
        found.append(Recipient(f"unit:{unit_id}", channel, unit_id, host))
    if within is not None:
        found = [r for r in found if r.unit_id in nodes and nodes[r.unit_id].path.startswith(within.path)]
    return sorted(found, key=lambda r: (unit_sort_key(nodes[r.unit_id]) if r.unit_id in nodes else (0, ""), CHANNEL_ORDER[r.channel],
                                        r.key))


# --- the report -------------------------------------------------------------------------


@dataclass
class MessageOutcome:
    unit: str
    channel: str
    recipient: str
    not_sat: int
    status: str
    error: str | None = None
    message_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "channel": self.channel, "recipient": self.recipient, "not_sat": self.not_sat,
                "status": self.status, "error": self.error}


@dataclass
class SendReport:
    period: str
    messages: list[MessageOutcome] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False

    def count(self, status: str) -> int:
        return sum(1 for m in self.messages if m.status == status)

    @property
    def any_failed(self) -> bool:
        return self.count(FAILED) > 0

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {**self.report, "period": self.period, "sent": self.count(SENT),
                                "skipped": self.count(SKIPPED), "failed": self.count(FAILED)}
        if self.dry_run:
            body["would_send"] = self.count(WOULD_SEND)
        body["messages"] = [m.as_dict() for m in self.messages]
        return body

    def summary(self) -> str:
        if self.dry_run:
            return f"试运行（周期 {self.period}）：将发送 {self.count(WOULD_SEND)} 条，跳过 {self.count(SKIPPED)} 条，未发送也未记录。"
        return (f"周期 {self.period}：已发送 {self.count(SENT)} 条，跳过 {self.count(SKIPPED)} 条，"
                f"失败 {self.count(FAILED)} 条。")


# --- deciding and writing ---------------------------------------------------------------


def digest_send(
    *, digest: Digest, within: Unit | None = None, dry_run: bool = False, force: bool = False,
    progress: Progress | None = None,
) -> SendReport:
    """Send ``digest`` to every recipient whose subtree still has somebody to chase, once per
    (subject, recipient, channel, period). ``force`` sends again what was already sent (as rows
    of their own); ``dry_run`` sends and records nothing and reports ``would_send``."""
    nodes = unit_nodes()
    recipients = [
        r for r in recipients_for(nodes=nodes, within=within)
        if (figures := digest.figures.get(r.unit_id)) is not None and figures.count > 0
    ]
    report = SendReport(period=digest.period.key, report=dict(digest.report), dry_run=dry_run)
    existing = {
        (row.recipient_key, row.channel): row
        for row in _period_rows(digest)
    }
    outcomes: dict[tuple[str, str], MessageOutcome] = {}
    to_write: list[Recipient] = []
    for recipient in recipients:
        row = existing.get((recipient.key, recipient.channel))
        outcome = MessageOutcome(nodes[recipient.unit_id].code, recipient.channel, recipient.masked,
                                 digest.figures[recipient.unit_id].count, SKIPPED)
        outcomes[(recipient.key, recipient.channel)] = outcome
        report.messages.append(outcome)
        if row is not None and row.status == MessageStatus.SENT and not force:
            continue  # sent in this period already
        if dry_run:
            outcome.status = WOULD_SEND
            continue
        to_write.append(recipient)
    if dry_run or not to_write:
        return report

    units = digest_units(digest=digest, nodes=nodes, unit_ids={r.unit_id for r in to_write})
    now = timezone.now()
    new_rows, forced_rows, refreshed = [], [], []
    for recipient in to_write:
        title, body = render(digest.compose(units[recipient.unit_id]), recipient.channel)
        row = existing.get((recipient.key, recipient.channel))
        values = {"title": title[:200], "body": body, "count": units[recipient.unit_id].figures.count}
        if row is None or row.status == MessageStatus.SENT:
            message = ReminderMessage(
                kind=digest.kind, subject_key=digest.subject_key, exam_id=digest.exam_id, unit_id=recipient.unit_id,
                channel=recipient.channel, recipient_key=recipient.key, recipient_masked=recipient.masked,
                user_id=recipient.user_id, period=digest.period.key, forced=row is not None,
                expires_at=digest.period.expires_at, created_at=now, **values,
            )
            (forced_rows if row is not None else new_rows).append(message)
        elif row.claimed_until is None or row.claimed_until < now:
            # queued or failed, and nobody is sending it: send the figures as they are now
            for key, value in values.items():
                setattr(row, key, value)
            refreshed.append(row)
    with transaction.atomic():
        # the decision to send and the rows are one commit; a row another run wrote first wins
        ReminderMessage.objects.bulk_create(new_rows, ignore_conflicts=True, batch_size=500)
        ReminderMessage.objects.bulk_create(forced_rows, batch_size=500)
        ReminderMessage.objects.bulk_update(refreshed, ["title", "body", "count"], batch_size=500)

    wanted = {(r.key, r.channel) for r in to_write}
    ids: dict[int, tuple[str, str]] = {}
    for row in _period_rows(digest):
        key = (row.recipient_key, row.channel)
        if key not in wanted:
            continue
        if row.status == MessageStatus.SENT and not force:
            outcomes[key].message_id = row.pk  # another run sent it meanwhile: skipped
        elif row.status != MessageStatus.SENT:
            ids[row.pk] = key
    for row in forced_rows:
        ids[row.pk] = (row.recipient_key, row.channel)
    delivered = outbox_deliver(ids=list(ids), progress=progress)
    for pk, key in ids.items():
        status, error = delivered.get(pk, (SKIPPED, None))
        outcomes[key].status, outcomes[key].error, outcomes[key].message_id = status, error, pk
    return report


def _period_rows(digest: Digest) -> QuerySet[ReminderMessage]:
    """The subject's regular rows of this period, without their bodies."""
    return ReminderMessage.objects.filter(
        subject_key=digest.subject_key, period=digest.period.key, forced=False
    ).only("id", "recipient_key", "channel", "status", "claimed_until")


# --- sending ----------------------------------------------------------------------------


def _claimable(now: dt.datetime) -> Q:
    return Q(status__in=[MessageStatus.QUEUED, MessageStatus.FAILED]) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.REMINDER_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.REMINDER_RETRY_MAX_SECONDS))


def _targets(rows: list[ReminderMessage]) -> dict[int, Target | str]:
    """Where each claimed row goes, or why it cannot go (one query for the batch's robots)."""
    robots = {
        (row.unit_id, row.channel): row
        for row in UnitChannel.objects.filter(unit_id__in={r.unit_id for r in rows if r.channel in ROBOTS})
    }
    targets: dict[int, Target | str] = {}
    for row in rows:
        if row.channel == Channel.EMAIL:
            email = row.user.email if row.user is not None and row.user.is_active else ""
            targets[row.pk] = Target(Channel.EMAIL, address=email) if email else "联络员没有邮箱或已停用"
            continue
        robot = robots.get((row.unit_id, row.channel))
        if robot is None:
            targets[row.pk] = "单位的群机器人已删除"
            continue
        try:
            url, secret = unit_channel_credentials(robot)
        except Exception:  # a key changed under the stored cipher
            targets[row.pk] = "无法解密群机器人地址（FIELD_ENCRYPTION_KEY 是否更换？）"
            continue
        targets[row.pk] = Target(row.channel, url=url, secret=secret)
    return targets


def _send_one(target: Target | str, title: str, body: str) -> str | None:
    """None when the channel accepted the message, else the error (runs in a thread)."""
    if isinstance(target, str):
        return target
    try:
        deliver(target=target, title=title, body=body)
    except ChannelError as exc:
        return exc.message
    except Exception as exc:  # never let one message stop the others
        logger.warning("reminder channel %s raised %s", target.channel, type(exc).__name__)
        return f"内部错误：{type(exc).__name__}"
    return None


def outbox_deliver(*, ids: list[int], progress: Progress | None = None) -> dict[int, tuple[str, str | None]]:
    """Claim, send and mark the rows ``ids``: ``{id: (status, error)}``; a row another sender
    holds (or already sent) is ``skipped``. A failure never stops the other messages.

    The pool is kept fed: rows are claimed a chunk at a time (one conditional UPDATE) while at
    most two chunks are in flight, so a claimed row waits for at most two timeouts of others
    before its own send starts, and its lease covers that."""
    concurrency = max(1, settings.REMINDER_CONCURRENCY)
    timeout = max(float(settings.REMINDER_TIMEOUT_SECONDS), float(settings.EMAIL_TIMEOUT or 0))
    lease = dt.timedelta(seconds=timeout * 3 + settings.REMINDER_CLAIM_MARGIN_SECONDS)
    results: dict[int, tuple[str, str | None]] = {}
    waiting = list(reversed(ids))
    in_flight: dict[Future, tuple[ReminderMessage, str]] = {}
    total = len(ids)
    if progress is not None:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="reminder") as pool:
        while waiting or in_flight:
            while waiting and len(in_flight) < 2 * concurrency:
                chunk = [waiting.pop() for _ in range(min(concurrency, len(waiting)))]
                token, now = uuid.uuid4().hex, timezone.now()
                ReminderMessage.objects.filter(_claimable(now), pk__in=chunk).update(
                    claim_token=token, claimed_until=now + lease, attempts=F("attempts") + 1
                )
                rows = list(ReminderMessage.objects.filter(pk__in=chunk, claim_token=token).select_related("user"))
                targets = _targets(rows)
                for row in rows:
                    in_flight[pool.submit(_send_one, targets[row.pk], row.title, row.body)] = (row, token)
                claimed = {row.pk for row in rows}
                results.update({pk: (SKIPPED, None) for pk in chunk if pk not in claimed})
            if in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                answers = [(*in_flight.pop(future), future.result()) for future in done]
                _mark_all(answers)
                for row, _token, error in answers:
                    results[row.pk] = (SENT, None) if error is None else (FAILED, error)
            if progress is not None:
                progress(len(results), total)
    return results


def _mark_all(answers: list[tuple[ReminderMessage, str, str | None]]) -> None:
    """Record every answer that is in, at once: one transaction, one UPDATE for the rows sent
    under each claim. Nothing waits for a slower message to be marked."""
    with transaction.atomic():
        sent: dict[str, list[int]] = {}
        for row, token, error in answers:
            if error is None:
                sent.setdefault(token, []).append(row.pk)
            else:
                _mark(row=row, token=token, error=error)
        now = timezone.now()
        for token, pks in sent.items():
            ReminderMessage.objects.filter(pk__in=pks, claim_token=token).update(
                status=MessageStatus.SENT, sent_at=now, last_error="", claim_token="", claimed_until=None,
                next_attempt_at=None,
            )


def _mark(*, row: ReminderMessage, token: str, error: str | None) -> None:
    """Record the answer, unless the claim lapsed and another sender holds the row now."""
    now = timezone.now()
    mine = ReminderMessage.objects.filter(pk=row.pk, claim_token=token)
    if error is None:
        mine.update(status=MessageStatus.SENT, sent_at=now, last_error="", claim_token="", claimed_until=None,
                    next_attempt_at=None)
    else:
        mine.update(status=MessageStatus.FAILED, last_error=error[:1000], claim_token="", claimed_until=None,
                    next_attempt_at=now + _backoff(row.attempts))


def outbox_due_ids(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Rows the sweeper should send: failed and due for a retry, or queued under a lapsed claim
    (the sender died) or never claimed; within their period and below the attempts limit."""
    now = now or timezone.now()
    alive = Q(expires_at__gt=now, attempts__lt=settings.REMINDER_MAX_ATTEMPTS)
    failed = Q(status=MessageStatus.FAILED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    lost = Q(status=MessageStatus.QUEUED) & (
        Q(claimed_until__lt=now) | Q(claimed_until__isnull=True, created_at__lt=now - UNCLAIMED_GRACE)
    )
    return list(
        ReminderMessage.objects.filter(alive & (failed | lost)).filter(_claimable(now))
        .order_by("created_at", "id").values_list("pk", flat=True)[:limit]
    )


def outbox_retry_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Beat: send again what is due (see ``outbox_due_ids``)."""
    results = outbox_deliver(ids=outbox_due_ids(now=now))
    statuses = [status for status, _ in results.values()]
    return {"sent": statuses.count(SENT), "failed": statuses.count(FAILED), "skipped": statuses.count(SKIPPED)}
