"""What a digest is, independent of its subject: per-unit figures over each unit's subtree, the
period it belongs to, and how one recipient's message is composed and fitted to a channel.

Exams (not sat), training (hours below) and later certificates each build a ``Digest`` from
their own selectors and hand it to ``reminders.outbox.digest_send``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from roster.models import Unit
from roster.ordering import unit_order

from .models import Channel

# a message lists at most this many sub-units and names; the rest is counted
MAX_ITEMS = 30
MAX_NAMES = 50
# WeCom's markdown content is limited to 4,096 bytes, DingTalk's to 20,000
BODY_BUDGET_BYTES = {Channel.WECOM: 4000, Channel.DINGTALK: 18000, Channel.EMAIL: 200_000}


# --- periods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The once-only period: ``2026-W07`` (an ISO week in Asia/Shanghai) or ``2026-02-14``
    (a final reminder's day). ``expires_at`` is its end: unsent messages are not retried past it."""

    key: str
    expires_at: dt.datetime
    final: bool = False


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def period_week(today: dt.date) -> Period:
    iso = today.isocalendar()
    monday = today - dt.timedelta(days=iso.weekday - 1)
    return Period(f"{iso.year}-W{iso.week:02d}", _local_midnight(monday + dt.timedelta(days=7)))


def period_day(today: dt.date) -> Period:
    return Period(today.isoformat(), _local_midnight(today + dt.timedelta(days=1)), final=True)


# --- figures over the unit tree ---------------------------------------------------------


@dataclass(frozen=True)
class UnitFigures:
    """One unit's subtree: ``count`` people to chase (the JSON's ``not_sat``) out of ``expected``."""

    count: int
    expected: int

    @property
    def rate(self) -> float | None:
        """The share done: (expected - count) / expected; None when nobody is expected."""
        return (self.expected - self.count) / self.expected if self.expected else None


@dataclass(frozen=True)
class UnitNode:
    id: int
    code: str
    name: str
    parent_id: int | None
    path: str
    tree_key: int = 0

    def path_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


def unit_nodes() -> dict[int, UnitNode]:
    """Every unit, by id: one query."""
    return {
        row[0]: UnitNode(*row)
        for row in Unit.objects.order_by(*unit_order()).values_list("id", "code", "name", "parent_id", "path", "tree_key")
    }


def digest_rollup(*, own: dict[int, tuple[int, int]], nodes: dict[int, UnitNode]) -> dict[int, UnitFigures]:
    """Per-unit (count, expected) of each unit's own people, summed over every unit's subtree
    through the units' paths (no query), for subjects whose selector does not roll up."""
    totals: dict[int, list[int]] = {}
    for unit_id, (count, expected) in own.items():
        node = nodes.get(unit_id)
        for target in (node.path_ids() if node else [unit_id]):
            total = totals.setdefault(target, [0, 0])
            total[0] += count
            total[1] += expected
    return {unit_id: UnitFigures(count, expected) for unit_id, (count, expected) in totals.items()}


# --- composing --------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestUnit:
    """Everything one recipient's message says: its unit's subtree figures, the direct
    sub-units that still have somebody to chase, and (when names are shown) the names."""

    unit: UnitNode
    figures: UnitFigures
    children: list[tuple[UnitNode, UnitFigures]]
    names: list[str]


@dataclass(frozen=True)
class Composed:
    """A message in markdown. ``items`` (the sub-units) are dropped from the end, and counted,
    when the message would not fit its channel; the header and the footer (the link) stay."""

    title: str
    header: list[str]
    items: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    more: str = "- ……另有 {n} 个单位"


@dataclass
class Digest:
    """A subject's digest, for every recipient at once.

    - ``kind``: "not_sat", "hours_below", "certificates_due", ... (a label in ``KIND_LABELS``);
    - ``subject_key``: what the once-only key is about ("exam:12", "hours:2025");
    - ``period``: ``period_week(today)`` or ``period_day(today)``;
    - ``figures``: per unit id, the figures of the unit's whole subtree (a recipient whose
      subtree counts 0 gets nothing);
    - ``compose``: one recipient's message from its ``DigestUnit``;
    - ``names``: (unit id, name) of each person counted, when names are to be shown;
    - ``report``: keys put first in the JSON (``{"exam_id": 12}``).
    """

    kind: str
    subject_key: str
    period: Period
    figures: dict[int, UnitFigures]
    compose: Callable[[DigestUnit], Composed]
    exam_id: int | None = None
    names: Iterable[tuple[int, str]] = ()
    report: dict[str, Any] = field(default_factory=dict)


def digest_units(
    *, digest: Digest, nodes: dict[int, UnitNode], unit_ids: Iterable[int]
) -> dict[int, DigestUnit]:
    """The ``DigestUnit`` of each recipient unit: children from the tree, names walked up
    each person's path once (never a scan per recipient)."""
    wanted = set(unit_ids)
    children: dict[int, list[tuple[UnitNode, UnitFigures]]] = {unit_id: [] for unit_id in wanted}
    for node in nodes.values():  # in tree order (roster.ordering)
        if node.parent_id in wanted:
            figures = digest.figures.get(node.id)
            if figures is not None and figures.count > 0:
                children[node.parent_id].append((node, figures))
    names: dict[int, list[str]] = {unit_id: [] for unit_id in wanted}
    for unit_id, name in digest.names:
        node = nodes.get(unit_id)
        for target in (node.path_ids() if node else []):
            if target in wanted and len(names[target]) < MAX_NAMES:
                names[target].append(" ".join(str(name).split()))
    return {
        unit_id: DigestUnit(nodes[unit_id], digest.figures[unit_id], children[unit_id], names[unit_id])
        for unit_id in wanted
        if unit_id in nodes and unit_id in digest.figures
    }


def names_line(label: str, unit: DigestUnit) -> list[str]:
    """The names, when shown: "**未参考人员**：甲、乙……（共 12 人）"."""
    if not unit.names:
        return []
    more = "等" if unit.figures.count > len(unit.names) else ""
    return [f"**{label}**：{'、'.join(unit.names)}{more}（共 {unit.figures.count} 人）"]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render(composed: Composed, channel: str) -> tuple[str, str]:
    """The title and the body as sent on ``channel``: markdown for the robots, plain text for
    email; sub-units dropped from the end until it fits the channel."""
    budget = BODY_BUDGET_BYTES.get(channel, 4000)
    items = list(composed.items[:MAX_ITEMS])
    dropped = len(composed.items) - len(items)
    while True:
        tail = [composed.more.format(n=dropped)] if dropped else []
        body = "\n".join([*composed.header, *items, *tail, *composed.footer])
        if channel == Channel.EMAIL:
            body = markdown_to_text(body)
        if len(body.encode()) <= budget or not items:
            return composed.title, body
        items.pop()
        dropped += 1


_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def markdown_to_text(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^#+\s*", "", line)
        line = _LINK.sub(lambda m: f"{m.group(1)}：{m.group(2)}", line)
        lines.append(line.replace("**", ""))
    return "\n".join(lines) + "\n"


def mask_email(address: str) -> str:
    """``l***@example.com``: the first letter and the domain, a fixed number of stars."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
