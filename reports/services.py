"""Writes for reports: recomputing the participation snapshots (debounced after changes, on a
schedule, or by hand), building the annual report, and the annual report's background job.

Snapshots are computed set-based: one query per batch of exams and one per training year,
whatever the number of units (``selectors.exam_unit_counts`` / ``training_unit_counts``), then
one bulk insert. The figures themselves are those of ``exams.selectors`` and
``training.selectors``; a test holds every stored row equal to the live figures.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from config.errors import DomainError
from config.events import EXAM, ROSTER, TRAINING
from config.jobs import JobStatus, job_claim
from exams.models import Exam
from exams.selectors import COUNTED, figures_from_counts
from exams.services import exams_refresh_open
from roster.models import Staff, Unit, UnitKind
from training.exports import as_number
from training.models import TrainingEvent
from training.selectors import training_stats

from .models import (
    AnnualReport,
    ExamSnapshot,
    ReportFormat,
    RequestKind,
    SnapshotRequest,
    SnapshotRun,
    SnapshotTrigger,
    TrainingSnapshot,
)
from .narrative import annual_narrative
from .selectors import (
    EXAM_FIGURES,
    TRAINING_FIGURES,
    UnitRow,
    children_of,
    court_observation_figures,
    exam_unit_counts,
    snapshot_units,
    top_level_of,
    top_level_units,
    training_unit_counts,
    units_all,
)

logger = logging.getLogger(__name__)

# top-level unit kinds in the order the report lists them
KIND_ORDER = [UnitKind.DEPARTMENT, UnitKind.TOWN, UnitKind.EDUCATION, UnitKind.ADMIN, UnitKind.SCHOOL, UnitKind.OTHER]
_KIND_RANK = {kind.value: i for i, kind in enumerate(KIND_ORDER)}
_SIGNAL_KINDS = {ROSTER: RequestKind.ROSTER, EXAM: RequestKind.EXAM, TRAINING: RequestKind.TRAINING}


# --- snapshots: requests and runs -------------------------------------------------------


def snapshot_refresh_request(
    *, kind: str, exam_id: int | None = None, year: int | None = None, delay_seconds: float | None = None
) -> SnapshotRun | None:
    """Record that figures changed and make sure a run will take the change.

    Returns the run when this call queued a new one (the caller sends its task, to start after
    ``delay_seconds``, by default ``REPORTS_REFRESH_DEBOUNCE_SECONDS``); None when a run is
    already waiting: it takes this change too. That is the debounce."""
    kind = _SIGNAL_KINDS.get(kind, kind)
    if kind not in RequestKind.values:
        raise DomainError(f"未知的刷新类型“{kind}”。")
    now = timezone.now()
    delay = settings.REPORTS_REFRESH_DEBOUNCE_SECONDS if delay_seconds is None else delay_seconds
    trigger = {RequestKind.SCHEDULE: SnapshotTrigger.SCHEDULE, RequestKind.FULL: SnapshotTrigger.MANUAL}.get(
        kind, SnapshotTrigger.CHANGE
    )
    SnapshotRequest.objects.create(kind=kind, exam_id=exam_id, year=year, created_at=now)
    try:
        with transaction.atomic():
            return SnapshotRun.objects.create(
                trigger=trigger, created_at=now, not_before=now + dt.timedelta(seconds=max(delay, 0))
            )
    except IntegrityError:
        # a run is waiting (the partial unique constraint): it will take this request
        return None


def snapshot_run_enqueue(*, run: SnapshotRun) -> None:
    """Send the run's task once the caller's transaction commits, to start at ``not_before``."""
    from .tasks import refresh_snapshots

    def publish() -> None:
        countdown = max((run.not_before - timezone.now()).total_seconds(), 0)
        try:
            refresh_snapshots.apply_async((run.pk,), countdown=countdown)
        except Exception:  # the broker being down must not fail the import that changed the data
            logger.warning("could not publish the snapshot run %s; it stays queued for the sweeper", run.pk)

    transaction.on_commit(publish)


@dataclass
class Scope:
    exam_ids: list[int] = field(default_factory=list)
    years: list[int] = field(default_factory=list)


def snapshot_scope(*, requests: Iterable[tuple[str, int | None, int | None]], today: dt.date | None = None) -> Scope:
    """What a run recomputes for the changes it takes:

    - an exam change: that exam;
    - a training change: that year's training;
    - a roster change: every exam not yet closed, and this year's training (its staff below
      the requirement follow the roster);
    - the schedule: the same, plus any exam or training year that has no snapshot yet;
    - everything: every exam, and every year with training events (and this year)."""
    today = today or timezone.localdate()
    exam_ids: set[int] = set()
    years: set[int] = set()
    open_exams = missing = everything = False
    for kind, exam_id, year in requests:
        if kind == RequestKind.EXAM:
            if exam_id is None:
                open_exams = True
            else:
                exam_ids.add(int(exam_id))
        elif kind == RequestKind.TRAINING:
            years.add(int(year or today.year))
        elif kind == RequestKind.ROSTER:
            open_exams = True
            years.add(today.year)
        elif kind == RequestKind.SCHEDULE:
            open_exams = missing = True
            years.add(today.year)
        elif kind == RequestKind.FULL:
            everything = True
    event_years = {d.year for d in TrainingEvent.objects.dates("date", "year")} if (missing or everything) else set()
    if everything:
        wanted = Q()
        years |= event_years | {today.year}
    else:
        wanted = Q(pk__in=exam_ids)
        if open_exams:
            wanted |= Q(closes_on__gte=today)
        if missing:
            wanted |= ~Q(pk__in=ExamSnapshot.objects.values("exam_id"))
            done = set(TrainingSnapshot.objects.filter(year__in=event_years).values_list("year", flat=True).distinct())
            years |= event_years - done
    ids = list(Exam.objects.filter(wanted).order_by("pk").values_list("pk", flat=True)) if (
        everything or exam_ids or open_exams or missing
    ) else []
    return Scope(exam_ids=ids, years=sorted(years))


def snapshot_run_execute(*, run: SnapshotRun, today: dt.date | None = None) -> SnapshotRun:
    """Run a queued refresh: take every request waiting now, recompute what they name, store
    the snapshots and drop the requests, in one transaction. A run that fails leaves the
    requests for the next one."""
    if not job_claim(model=SnapshotRun, pk=run.pk):
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    started = time.perf_counter()
    try:
        last = SnapshotRequest.objects.aggregate(last=Max("id"))["last"]
        taken = SnapshotRequest.objects.filter(id__lte=last) if last is not None else SnapshotRequest.objects.none()
        requests = list(taken.values_list("kind", "exam_id", "year"))
        scope = snapshot_scope(requests=requests, today=today)
        with transaction.atomic():
            rows = snapshots_write(run=run, exam_ids=scope.exam_ids, years=scope.years)
            taken.delete()
            _finish_run(run, scope=scope, rows=rows, requests=len(requests), started=started)
    except Exception:
        logger.exception("snapshot run %s failed", run.pk)
        SnapshotRun.objects.filter(pk=run.pk).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), message="统计快照刷新失败：发生内部错误，已保留待刷新的变动。"
        )
    run.refresh_from_db()
    return run


def snapshots_refresh(
    *,
    exam_ids: Iterable[int] | None = None,
    years: Iterable[int] | None = None,
    everything: bool = False,
    trigger: str = SnapshotTrigger.MANUAL,
) -> SnapshotRun:
    """Recompute now, in this process (command line, demo, benchmark): the given exams and
    training years, or everything. Pending change requests stay for the debounced run."""
    started = time.perf_counter()
    now = timezone.now()
    if everything:
        scope = snapshot_scope(requests=[(RequestKind.FULL, None, None)])
    else:
        wanted = list(exam_ids or [])
        known = list(Exam.objects.filter(pk__in=wanted).order_by("pk").values_list("pk", flat=True))
        missing = sorted(set(wanted) - set(known))
        if missing:
            raise DomainError(f"考试不存在：{'、'.join(str(m) for m in missing)}。")
        scope = Scope(exam_ids=known, years=sorted(set(years or [])))
    with transaction.atomic():
        run = SnapshotRun.objects.create(
            trigger=trigger, status=JobStatus.RUNNING, created_at=now, not_before=now, started_at=now, attempts=1
        )
        rows = snapshots_write(run=run, exam_ids=scope.exam_ids, years=scope.years)
        _finish_run(run, scope=scope, rows=rows, requests=0, started=started)
    run.refresh_from_db()
    return run


def _finish_run(run: SnapshotRun, *, scope: Scope, rows: int, requests: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    run.status = JobStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.exams = scope.exam_ids
    run.years = scope.years
    run.rows = rows
    run.requests = requests
    run.duration_ms = int(elapsed * 1000)
    run.progress_done = run.progress_total = len(scope.exam_ids) + len(scope.years)
    run.message = f"已重算 {len(scope.exam_ids)} 个考试、{len(scope.years)} 个培训年度，共 {rows} 行快照。"
    run.save()


def snapshots_write(*, run: SnapshotRun, exam_ids: list[int], years: list[int]) -> int:
    """Compute and store the snapshots of these exams and training years, stamped with one
    ``computed_at`` (now, before reading). Every unit gets two rows per exam and per year:
    alone and rolled up; an inactive unit only where something was counted in its subtree."""
    computed_at = timezone.now()
    SnapshotRun.objects.filter(pk=run.pk).update(computed_at=computed_at)
    run.computed_at = computed_at
    units = units_all()
    rows = 0
    if exam_ids:
        rows += _write_exam_snapshots(run=run, exam_ids=exam_ids, units=units, computed_at=computed_at)
    for year in years:
        rows += _write_training_snapshots(run=run, year=year, units=units, computed_at=computed_at)
    return rows


EXAM_COLUMNS = ("run_id", "computed_at", "exam_id", "unit_id", "rollup", *EXAM_FIGURES)
TRAINING_COLUMNS = ("run_id", "computed_at", "year", "unit_id", "rollup", *TRAINING_FIGURES)


def _insert(model: type, columns: Sequence[str], rows: list[tuple]) -> int:
    """Bulk insert plain rows (no model instances): COPY on PostgreSQL, one prepared INSERT
    run for every row elsewhere. 4,000 snapshot rows take a few hundredths of a second."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
    return len(rows)


def _write_exam_snapshots(*, run: SnapshotRun, exam_ids: list[int], units: dict[int, UnitRow],
                          computed_at: dt.datetime) -> int:
    counts = exam_unit_counts(exam_ids=exam_ids)
    populated: dict[int, set[int]] = {}
    for exam_id, unit_id, rollup in counts:
        if rollup:
            populated.setdefault(exam_id, set()).add(unit_id)
    zero = dict.fromkeys(COUNTED, 0)
    at = connection.ops.adapt_datetimefield_value(computed_at)
    rows = []
    for exam_id in exam_ids:
        for unit in snapshot_units(units, populated.get(exam_id, ())):
            for rollup in (False, True):
                figures = figures_from_counts(counts.get((exam_id, unit.id, rollup), zero))
                rows.append((run.pk, at, exam_id, unit.id, rollup, *(figures[k] for k in EXAM_FIGURES)))
    return _insert(ExamSnapshot, EXAM_COLUMNS, rows)


def _write_training_snapshots(*, run: SnapshotRun, year: int, units: dict[int, UnitRow],
                              computed_at: dt.datetime) -> int:
    counts = training_unit_counts(year=year)
    populated = {unit_id for unit_id, rollup in counts if rollup}
    at = connection.ops.adapt_datetimefield_value(computed_at)
    zero = {"attendances": 0, "staff_trained": 0, "person_hours": Decimal("0.00"), "staff_below_hours": 0}
    rows = []
    for unit in snapshot_units(units, populated):
        for rollup in (False, True):
            figures = counts.get((unit.id, rollup), zero)
            hours = connection.ops.adapt_decimalfield_value(figures["person_hours"], 14, 2)
            rows.append((run.pk, at, year, unit.id, rollup, figures["attendances"], figures["staff_trained"], hours,
                         figures["staff_below_hours"]))
    return _insert(TrainingSnapshot, TRAINING_COLUMNS, rows)


# --- the annual report ------------------------------------------------------------------


def year_check(year: Any) -> int:
    try:
        value = int(str(year).strip())
    except (TypeError, ValueError):
        raise DomainError(f"年度“{year}”无效，应为四位数字，例如 2024。")
    if not 2000 <= value <= 2100:
        raise DomainError(f"年度“{year}”无效，应在 2000 到 2100 之间。")
    return value


def annual_report_build(*, year: int, today: dt.date | None = None, root: Unit | None = None) -> dict[str, Any]:
    """The annual report's figures for ``year``, computed live (exams not yet closed are first
    brought up to date with the roster, as ``exam_stats`` does). Keys, exactly:

    - ``year``;
    - ``staff``: ``active`` (now), ``as_of`` (today), ``by_unit_kind`` (active staff by the kind
      of their top-level unit; people placed at the root count under the root's kind);
    - ``exams``: one entry per exam of the year: ``id``, ``name``, ``kind``, the ten figures,
      ``by_unit`` (one entry per top-level unit, rolled up, zeros included; a unit created after
      the exam closed, or inactive and without candidates, has none: ``unit_code``,
      ``unit_name``, ``kind`` and the figures) and ``by_unit_kind`` (the figures summed by
      top-level kind);
    - ``training``: ``training_stats(year)`` (``events``, ``by_kind``, ``attendances``,
      ``staff_trained``, ``person_hours``) and ``court_observation`` (``events``,
      ``head_attendances``);
    - ``narrative``: the paragraph for the annual report.

    Past years do not move with the roster: exam figures use the candidates' frozen units and
    leaving dates, training the attendance's frozen unit, and head attendances whether the
    person was a unit head on the day (from the roster history). Only ``staff`` is "now".

    ``root``: the report of that unit's subtree (a unit liaison's). Every figure counts only
    the subtree, as the per-unit figures do (candidates by their frozen unit; attendances by
    theirs, and the events attended from the subtree); "top-level units" are then the root's
    own sub-units (the root itself when it has none), the narrative names the root, and the
    report has one more key, ``unit``: ``{code, name}``."""
    year = year_check(year)
    today = today or timezone.localdate()
    exams = list(Exam.objects.filter(year=year).order_by("opens_on", "id"))
    still_open = [e.pk for e in exams if not e.is_closed(today)]
    if still_open:
        exams_refresh_open(exam_ids=still_open, today=today, force=False)
    units = units_all()
    if root is None:
        tops = top_level_units(units)
        roots = [u for u in units.values() if u.parent_id is None]
        root_row = None
    else:
        root_row = units[root.pk]
        tops = children_of(root_row, units) or [root_row]
        # a leaf is its own (only) top-level unit: its candidates are in by_unit already
        roots = [root_row] if tops != [root_row] else []
    counts = exam_unit_counts(exam_ids=[e.pk for e in exams])
    # each exam's total is the rolled-up counts of the report's root(s): no query per exam
    whole = [root_row] if root_row is not None else [u for u in units.values() if u.parent_id is None]

    exam_entries = []
    for exam in exams:
        by_kind: dict[str, dict[str, Any]] = {}
        by_unit = []
        for top in tops:
            unit_counts = counts.get((exam.pk, top.id, True))
            if not unit_counts:
                if not _stood_during(top, exam):
                    # a unit created after the exam closed (or since retired) has no entry, so a
                    # past year's report does not change when the unit tree does
                    continue
                unit_counts = {}  # it stood while the exam ran and had nobody to sit: zeros
            by_unit.append({"unit_code": top.code, "unit_name": top.name, "kind": top.kind,
                            **_ordered(figures_from_counts(unit_counts))})
            _add_counts(by_kind.setdefault(top.kind, {}), unit_counts)
        for root in roots:
            placed_at_root = counts.get((exam.pk, root.id, False))
            if placed_at_root:
                _add_counts(by_kind.setdefault(root.kind, {}), placed_at_root)
        total: dict[str, Any] = {}
        for top in whole:
            _add_counts(total, counts.get((exam.pk, top.id, True)))
        exam_entries.append({
            "id": exam.pk,
            "name": exam.name,
            "kind": exam.kind,
            **_ordered(figures_from_counts(total)),
            "by_unit": by_unit,
            "by_unit_kind": {kind: _ordered(figures_from_counts(by_kind[kind])) for kind in _kind_sorted(by_kind)},
        })

    stats = training_stats(year=year, unit=root)
    training = {
        **stats,
        "person_hours": as_number(stats["person_hours"]),
        "court_observation": court_observation_figures(year=year, unit=root),
    }
    report = {
        "year": year,
        "staff": _staff_now(units, today, root=root_row),
        "exams": exam_entries,
        "training": training,
    }
    if root_row is not None:
        report["unit"] = {"code": root_row.code, "name": root_row.name}
        district = root_row.name
    else:
        district = roots[0].name if len(roots) == 1 else ""
    report["narrative"] = annual_narrative(report, district=district)
    return report


def _ordered(figures: dict[str, Any]) -> dict[str, Any]:
    """The ten figures in the issue's order."""
    return {key: figures[key] for key in EXAM_FIGURES}


def _stood_during(unit: UnitRow, exam: Exam) -> bool:
    """Whether a unit belongs in an exam's per-unit table although it had no candidates: it is
    active and was created before the exam closed."""
    if not unit.is_active or unit.created_at is None:
        return False
    return timezone.localdate(unit.created_at) <= exam.closes_on


def _add_counts(into: dict[str, Any], counts: dict[str, Any] | None) -> None:
    for key in COUNTED:
        into[key] = into.get(key, 0) + ((counts or {}).get(key) or 0)


def _kind_sorted(kinds: Iterable[str]) -> list[str]:
    return sorted(kinds, key=lambda k: (_KIND_RANK.get(k, len(_KIND_RANK)), k))


def _staff_now(units: dict[int, UnitRow], today: dt.date, *, root: UnitRow | None = None) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    active = 0
    staff = Staff.objects.filter(is_active=True)
    if root is not None:
        staff = staff.filter(unit__path__startswith=root.path)
    rows = staff.order_by().values_list("unit_id").annotate(n=Count("id"))
    for unit_id, n in rows:
        active += n
        unit = units.get(unit_id)
        kind = top_level_of(unit, units, root=root).kind if unit else UnitKind.OTHER
        by_kind[kind] = by_kind.get(kind, 0) + n
    return {
        "active": active,
        "as_of": today.isoformat(),
        "by_unit_kind": {kind: by_kind[kind] for kind in _kind_sorted(by_kind)},
    }


def annual_report_render(*, report: dict[str, Any], format: str) -> bytes:
    """The report as a file: ``json``, ``xlsx``, ``docx`` or ``png``."""
    from .render import render

    return render(report=report, format=format)


# --- the annual report as a background job ----------------------------------------------

EXTENSIONS = {"json": "json", "xlsx": "xlsx", "docx": "docx", "png": "png"}


def format_check(value: str) -> str:
    value = (value or "").strip().lower()
    if value not in ReportFormat.values:
        raise DomainError(f"格式“{value}”无效，应为 {'、'.join(ReportFormat.values)} 之一。")
    return value


def annual_report_file_name(*, year: int, format: str) -> str:
    return f"annual-report-{year}.{EXTENSIONS[format]}"


def annual_report_job_create(*, year: Any, format: str = ReportFormat.JSON, started_by: Any = None) -> AnnualReport:
    """Record a request for an annual report and send its task once this commits."""
    job = AnnualReport.objects.create(
        year=year_check(year), format=format_check(format),
        started_by=started_by if getattr(started_by, "pk", None) else None,
    )
    annual_report_job_enqueue(job=job)
    return job


def annual_report_job_enqueue(*, job: AnnualReport) -> None:
    from .tasks import run_annual_report

    def publish() -> None:
        try:
            run_annual_report.delay(job.pk)
        except Exception:
            logger.warning("could not publish annual report %s; it stays queued for the sweeper", job.pk)

    transaction.on_commit(publish)


def annual_report_job_run(*, job: AnnualReport) -> AnnualReport:
    """Build and render a requested report; the JSON goes on the row, the file to private
    storage."""
    if not job_claim(model=AnnualReport, pk=job.pk):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    try:
        report = annual_report_build(year=job.year)
        data = annual_report_render(report=report, format=job.format)
        name = annual_report_file_name(year=job.year, format=job.format)
        if job.file:
            job.file.delete(save=False)
        job.file.save(name, ContentFile(data), save=False)
        job.report = report
        job.file_name = name
        job.size = len(data)
        job.status = JobStatus.SUCCEEDED
        job.message = f"{job.year} 年度报告（{job.get_format_display()}）已生成。"
    except DomainError as exc:
        job.status = JobStatus.REFUSED
        job.message = exc.message
    except Exception:
        logger.exception("annual report %s failed", job.pk)
        job.status = JobStatus.FAILED
        job.message = "年度报告生成失败：发生内部错误。"
    job.finished_at = timezone.now()
    job.progress_done = job.progress_total = 1
    job.save()
    return job
