"""The certificates-due digest: each unit's enforcement certificates that are due or expired,
sent through the reminders' channels and outbox (once per recipient, channel and week), with
the same JSON as the other reminders (``not_sat`` holds the count)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from config.errors import DomainError
from reminders.digests import Composed, Digest, DigestUnit, digest_rollup, names_line, period_week, unit_nodes
from reminders.models import KIND_LABELS
from reminders.outbox import SendReport, digest_send

from .models import Certificate, CertificateKind, CertificateStatus

KIND = "certificates_due"
KIND_LABEL = "执法证到期提醒"


def register_reminder_kind() -> None:
    KIND_LABELS.setdefault(KIND, KIND_LABEL)


def _chased(*, today: dt.date, within_days: int):
    """Active enforcement certificates of people on the roster, and among them those expiring
    by ``today + within_days`` (the expired ones included)."""
    held = Certificate.objects.filter(kind=CertificateKind.ENFORCEMENT, status=CertificateStatus.ACTIVE,
                                      staff__is_active=True)
    return held, Q(expires_on__lte=today + dt.timedelta(days=within_days))


def due_compose(unit: DigestUnit, *, expired: dict[int, int], today: dt.date, within_days: int) -> Composed:
    figures = unit.figures
    gone = expired.get(unit.unit.id, 0)
    link = f"{settings.SITE_URL}/certificates/?unit={unit.unit.code}"
    header = [
        "### 执法证到期提醒",
        f"**单位**：{unit.unit.name}（含下级单位）",
        f"**统计日期**：{today:%Y-%m-%d}，{within_days} 天内到期的为待续期",
        f"**持有执法证**：{figures.expected} 张，**待续期**：{figures.count - gone} 张，**已过期**：{gone} 张",
        *names_line("持证人", unit),
    ]
    items = [f"- {child.name}：{child_figures.count} 张" for child, child_figures in unit.children]
    if items:
        header.append("**下级单位待续期或已过期张数**：")
    return Composed(
        title=f"【执法证提醒】{unit.unit.name}：待续期 {figures.count - gone} 张、已过期 {gone} 张",
        header=header, items=items, footer=[f"[查看执法证管理]({link})"],
    )


def due_digest(*, today: dt.date, within_days: int) -> Digest:
    held, chased = _chased(today=today, within_days=within_days)
    rows = held.order_by().values("staff__unit_id").annotate(
        n=Count("pk"), chased=Count("pk", filter=chased), expired=Count("pk", filter=Q(expires_on__lt=today)),
    )
    nodes = unit_nodes()
    own = {r["staff__unit_id"]: (r["chased"], r["n"]) for r in rows}
    expired_rolled = digest_rollup(own={r["staff__unit_id"]: (r["expired"], 0) for r in rows}, nodes=nodes)
    names = (held.filter(chased).order_by("staff__unit__path", "expires_on").values_list("staff__unit_id", "staff__name")
             if settings.REMINDER_INCLUDE_NAMES else ())
    return Digest(
        kind=KIND, subject_key="certificates:due", period=period_week(today),
        figures=digest_rollup(own=own, nodes=nodes),
        compose=partial(due_compose, expired={k: v.count for k, v in expired_rolled.items()}, today=today,
                        within_days=within_days),
        names=names, report={"exam_id": None, "within": within_days},
    )


def remind_certificates_due(
    *, within: int | str | None = None, dry_run: bool = False, today: dt.date | None = None,
) -> SendReport:
    """``remind_certificates_due``: the weekly digest of due and expired certificates."""
    if within is None:
        days = int(settings.CERT_RENEWAL_WINDOW_DAYS)
    else:
        try:
            days = int(str(within).strip())
        except ValueError:
            raise DomainError(f"--within 应为天数（整数），而不是“{within}”。")
        if not 0 <= days <= 3650:
            raise DomainError(f"--within 应在 0 到 3650 天之间，而不是 {days}。")
    return digest_send(digest=due_digest(today=today or timezone.localdate(), within_days=days), dry_run=dry_run)
