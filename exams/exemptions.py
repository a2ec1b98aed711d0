"""Exemptions: set by hand in the admin, or imported from a file."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import CONFLICT, INVALID, DomainError, Problem
from config.events import EXAM, figures_changed
from config.jobs import JobStatus, job_progress
from roster.matching import match_rows
from sheets.models import ImportRecord, ImportSupply, SupplyKind
from sheets.reader import Row, SheetError
from sheets.services import (
    import_record_finish,
)

from .columns import EXEMPTION_SCHEMA
from .enrolment import enrol_staff, sql_in
from .import_steps import (
    IN_CHUNK,
    MATCH_KEYS,
    MAX_REASON,
    ImportTally,
    candidates_of,
    exam_lock_and_refresh,
    import_applying,
    import_exam,
    import_missing_exam,
    import_read_table,
    import_refuse,
    late_import_audit,
    late_import_warning,
    subtable,
)
from .models import Candidate, EnrolledVia

logger = logging.getLogger(__name__)



def candidates_exempt(*, candidates: QuerySet[Candidate], reason: str) -> int:
    """Mark candidates exempt with a reason. Refused, for all of them, when any has sat."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写免考原因。")
    if len(reason) > MAX_REASON:
        raise DomainError(f"免考原因过长（最多 {MAX_REASON} 字）。")
    with transaction.atomic():
        sat = list(
            candidates.filter(best_score__isnull=False).select_related("staff").order_by("staff__staff_no")[:5]
        )
        if sat:
            names = "、".join(f"{c.staff.name}（{c.staff.staff_no}）" for c in sat)
            raise DomainError(f"已参加考试的人员不能免考：{names}。")
        exams = list(candidates.order_by().values_list("exam_id", "exam__year").distinct())
        changed = candidates.update(exempt=True, exempt_reason=reason)
        for exam_id, year in exams:
            figures_changed(kind=EXAM, exam_id=exam_id, year=year)
    return changed


def candidates_lift_exemption(*, candidates: QuerySet[Candidate]) -> int:
    with transaction.atomic():
        exams = list(candidates.filter(exempt=True).order_by().values_list("exam_id", "exam__year").distinct())
        changed = candidates.filter(exempt=True).update(exempt=False, exempt_reason="")
        for exam_id, year in exams:
            figures_changed(kind=EXAM, exam_id=exam_id, year=year)
    return changed




# --- exemptions -------------------------------------------------------------------------


def exemptions_import_apply(record: ImportRecord) -> None:
    exam = import_exam(record)
    if exam is None:
        import_missing_exam(record)
        return
    tally = ImportTally()
    try:
        table = import_read_table(record, EXEMPTION_SCHEMA)
    except SheetError as exc:
        import_refuse(record, tally, exc.message, exc.problems, [])
        return
    total = len(table.rows)
    tally.rows = record.rows = total
    ImportRecord.objects.filter(pk=record.pk).update(rows=total)
    job_progress(job=record, done=0, total=total)

    reasons: dict[int, str] = {}
    keep: list[Row] = []
    name_label, reason_label = table.label("name"), table.label("reason")
    for row in table.rows:
        reason = table.value(row, "reason")
        if not table.value(row, "name"):
            tally.problems.append(Problem(row.number, name_label, "", "姓名为空。", INVALID))
        elif not reason:
            tally.problems.append(Problem(row.number, reason_label, "", "免考原因为空。", INVALID))
        elif len(reason) > MAX_REASON:
            tally.problems.append(Problem(row.number, reason_label, reason[:20] + "…", f"免考原因过长（最多 {MAX_REASON} 字）。", INVALID))
        else:
            keep.append(row)
            reasons[row.number] = reason
    matched = match_rows(subtable(table, keep), keys=MATCH_KEYS, within=exam.owner) if keep else None
    if matched:
        tally.problems.extend(matched.problems)
    job_progress(job=record, done=total)

    strict = bool(record.options.get("strict"))
    today = timezone.localdate()
    late = late_import_warning(exam, today)
    warnings = [*table.warnings, *([late] if late else [])]
    with import_applying(record):
        exam = exam_lock_and_refresh(exam, today)
        rows = [(m.row.number, m.staff.id) for m in (matched.matched if matched else [])]
        candidates = candidates_of(exam, {staff_id for _, staff_id in rows})
        accepted: list[tuple[int, int]] = []
        for number, staff_id in rows:
            known = candidates.get(staff_id)
            if known is not None and known[3] is not None:
                tally.problems.append(Problem(
                    number, reason_label, reasons[number],
                    f"此人已参加考试（最好成绩 {Decimal(known[3]).normalize():f} 分），不能免考。", CONFLICT,
                ))
            else:
                accepted.append((number, staff_id))
        tally.problems.sort(key=lambda p: p.row or 0)
        if strict and tally.problems:
            import_refuse(record, tally, "导入被拒绝（严格模式）：有问题行，未作任何改动。", tally.problems, warnings)
            return
        newcomers = sorted({staff_id for _, staff_id in accepted} - set(candidates))
        for start in range(0, len(newcomers), IN_CHUNK):
            chunk = newcomers[start : start + IN_CHUNK]
            tally.enrolled += enrol_staff(
                exam=exam, staff_sql=sql_in(chunk), staff_params=chunk, via=EnrolledVia.EXEMPTION, today=today
            )
        if newcomers:
            candidates.update(candidates_of(exam, set(newcomers)))
        wanted: dict[int, str] = {}
        for number, staff_id in accepted:
            if staff_id in wanted:
                tally.duplicates += 1
            wanted[staff_id] = reasons[number]  # the last row for a person wins
        changes = []
        for staff_id, reason in wanted.items():
            candidate_id, exempt, old_reason, _ = candidates[staff_id]
            if exempt and old_reason == reason:
                tally.duplicates += 1
                continue
            changes.append(Candidate(pk=candidate_id, exempt=True, exempt_reason=reason))
        Candidate.objects.bulk_update(changes, ["exempt", "exempt_reason"], batch_size=1000)
        tally.applied = len(changes)
        # provenance: every exemption this file supplied, set now or already there
        applied_ids = {c.pk for c in changes}
        ImportSupply.objects.bulk_create(
            [
                ImportSupply(import_record=record, kind=SupplyKind.EXEMPTION, object_id=candidates[staff_id][0],
                             applied=candidates[staff_id][0] in applied_ids)
                for staff_id in wanted
            ],
            batch_size=1000, ignore_conflicts=True,
        )
        if tally.applied or tally.enrolled:
            figures_changed(kind=EXAM, exam_id=exam.pk, year=exam.year)
        if late and not record.options.get("dry_run"):
            late_import_audit(record, exam, late)
        import_record_finish(
            record=record, status=JobStatus.SUCCEEDED, applied=True, counts=tally.counts(), problems=tally.problems,
            message=(
                f"免考名单导入完成：共 {tally.rows} 行，新设免考 {tally.applied}，原已免考 {tally.duplicates}，"
                f"名册中无此人 {tally.counts()['unmatched']}，冲突 {tally.counts()['conflicts']}，无效 {tally.counts()['invalid']}。"
            ),
            warnings=warnings,
        )
