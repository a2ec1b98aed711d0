"""The annual report: built from the models and snapshots, rendered in four formats, and run as
a background job."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.core.files.base import ContentFile
from django.db.models import Count
from django.utils import timezone

from certificates.selectors import certificates_year_figures
from config.errors import DomainError
from config.jobs import JobStatus, job_enqueue, job_finish, job_run
from exams.enrolment import exams_refresh_open
from exams.models import Exam
from exams.selectors import COUNTED, figures_from_counts
from roster.history import staff_on_roster_on
from roster.models import Staff, Unit, UnitKind
from training.exports import as_number
from training.selectors import training_stats

from .models import (
    AnnualReport,
    ReportFormat,
)
from .narrative import annual_narrative
from .selectors import (
    EXAM_FIGURES,
    UnitRow,
    children_of,
    court_observation_figures,
    exam_unit_counts,
    top_level_of,
    top_level_units,
    units_all,
)

logger = logging.getLogger(__name__)

# top-level unit kinds in the order the report lists them
KIND_ORDER = [UnitKind.DEPARTMENT, UnitKind.TOWN, UnitKind.EDUCATION, UnitKind.ADMIN, UnitKind.SCHOOL, UnitKind.OTHER]
_KIND_RANK = {kind.value: i for i, kind in enumerate(KIND_ORDER)}


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
    - ``staff``: ``active``, ``as_of``, ``by_unit_kind`` (staff by the kind of their top-level
      unit; people placed at the root count under the root's kind): now (``as_of`` today) for
      the current year; for a past year as of its 31 December, from the roster history;
    - ``exams``: one entry per exam of the year that is not a make-up: ``id``, ``name``, ``kind``,
      the ten figures (a make-up folded in: exams.selectors),
      ``by_unit`` (one entry per top-level unit, rolled up, zeros included; a unit created after
      the exam closed, or inactive and without candidates, has none: ``unit_code``,
      ``unit_name``, ``kind`` and the figures) and ``by_unit_kind`` (the figures summed by
      top-level kind); and, only for an exam that has a make-up (补考), ``makeup``: the
      make-up's own figures, in an entry of the same keys;
    - ``training``: ``training_stats(year)`` (``events``, ``by_kind``, ``attendances``,
      ``staff_trained``, ``person_hours``) and ``court_observation`` (``events``,
      ``head_attendances``);
    - ``certificates``: the enforcement-certificate register as of 31 December (today, for the
      current year): ``holders`` (people), ``renewed`` (by the year's renewal exams),
      ``expired`` and ``due``;
    - ``narrative``: the paragraph for the annual report.

    Past years do not move with the roster: exam figures use the candidates' frozen units and
    leaving dates, training the attendance's frozen unit, and head attendances whether the
    person was a unit head on the day (from the roster history), and ``staff`` the roster on 31
    December.

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

    def entry(exam: Exam) -> dict[str, Any]:
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
        return {
            "id": exam.pk,
            "name": exam.name,
            "kind": exam.kind,
            **_ordered(figures_from_counts(total)),
            "by_unit": by_unit,
            "by_unit_kind": {kind: _ordered(figures_from_counts(by_kind[kind])) for kind in _kind_sorted(by_kind)},
        }

    # a make-up is not an exam of its own here: its main exam's figures fold it in (exams.selectors)
    # and it stands beside them, under ``makeup``
    makeups = {e.makeup_of_id: e for e in exams if e.makeup_of_id is not None}
    exam_entries = [
        {**entry(exam), **({"makeup": entry(makeups[exam.pk])} if exam.pk in makeups else {})}
        for exam in exams if exam.makeup_of_id is None  # a make-up is of its main exam's year
    ]

    stats = training_stats(year=year, unit=root)
    training = {
        **stats,
        "person_hours": as_number(stats["person_hours"]),
        "court_observation": court_observation_figures(year=year, unit=root),
    }
    report = {
        "year": year,
        "staff": _staff_count(units, today, year=year, root=root_row),
        "exams": exam_entries,
        "training": training,
        "certificates": certificates_year_figures(year=year, today=today, unit=root),
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


def _staff_count(units: dict[int, UnitRow], today: dt.date, *, year: int, root: UnitRow | None = None) -> dict[str, Any]:
    """The staff on the roster: now for the current year, and for a past year as of its 31
    December, reconstructed from the roster history (who had joined, who was on the roster,
    in which unit; ``roster.history``), so a past year's report never says "as of today"."""
    by_kind: dict[str, int] = {}
    active = 0
    if year < today.year:
        as_of = dt.date(year, 12, 31)
        then = staff_on_roster_on(day=as_of, within=root.path if root is not None else None)
        per_unit: dict[int, int] = {}
        for unit_id in then.values():
            per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
        rows: Iterable[tuple[int, int]] = per_unit.items()
    else:
        as_of = today
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
        "as_of": as_of.isoformat(),
        "by_unit_kind": {kind: by_kind[kind] for kind in _kind_sorted(by_kind)},
    }


def annual_report_render(*, report: dict[str, Any], format: str) -> bytes:
    """The report as a file: ``json``, ``xlsx``, ``docx`` or ``png``."""
    from .render import render

    return render(report=report, format=format)


# the annual report as a background job

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
    job_enqueue(kind="annual_report", pk=job.pk)


def annual_report_job_run(*, job: AnnualReport) -> AnnualReport:
    """Build and render a requested report; the JSON goes on the row, the file to private
    storage."""
    return job_run(job=job, work=_build, failed="年度报告生成失败：发生内部错误。")


def _build(job: AnnualReport) -> None:
    try:
        report = annual_report_build(year=job.year)
        data = annual_report_render(report=report, format=job.format)
    except DomainError as exc:
        job.status = JobStatus.REFUSED
        job.message = exc.message
        job_finish(job=job)
        return
    name = annual_report_file_name(year=job.year, format=job.format)
    old = job.file.name if job.file else ""
    job.file.save(name, ContentFile(data), save=False)
    job.report = report
    job.file_name = name
    job.size = len(data)
    job.status = JobStatus.SUCCEEDED
    job.message = f"{job.year} 年度报告（{job.get_format_display()}）已生成。"
    job.progress_total = 1
    try:
        job_finish(job=job, fields=("file", "report", "file_name", "size"))
    except Exception:
        job.file.delete(save=False)  # a run that was taken over leaves no file behind
        raise
    if old and old != job.file.name:
        job.file.storage.delete(old)
