"""Corrections of an exam made by hand, on the pages or through the API: editing or deleting
an exam, lifting an exemption or setting one with its reason.

Every correction is one transaction that also writes its audit record (``audit_record``,
action ``correction``): who changed what, from what to what, and why. Figures are announced
with ``figures_changed`` and refreshed once the change commits, as for the imports. Who may
correct what is decided by the caller through ``access.scoping`` (these functions are handed
objects the caller may already change)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record, audit_text_check
from config.errors import DomainError
from config.events import EXAM, figures_changed
from roster.models import Staff

from .creation import exam_update, exam_validate
from .enrolment import enrol_staff, sql_in
from .exemptions import candidates_exempt, candidates_lift_exemption
from .import_steps import MAX_REASON, exam_lock_and_refresh
from .models import Attempt, Candidate, EnrolledVia, Exam


def _number(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _reason_suffix(reason: str) -> str:
    return f"。原因：{reason}" if reason else ""


def _clean_reason(reason: str | None, *, required: bool = False, what: str = "原因") -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(f"请填写{what}。")
    if len(reason) > MAX_REASON:
        raise DomainError(f"{what}过长（最多 {MAX_REASON} 字）。")
    audit_text_check(reason)  # no ID number and no control character in the audit table
    return reason


def exam_correct(
    *,
    exam: Exam,
    user: Any,
    name: str | None = None,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    pass_mark: Decimal | int | str | None = None,
    max_score: Decimal | int | str | None = None,
    reason: str = "",
    address: str | None = None,
) -> Exam:
    """Change an exam's name, window or scoring (a value left as None keeps its own). A new
    pass mark re-derives every candidate's ``passed``; a moved window brings the joiner and
    leaver rules up to date on the next read. Audited when anything changed."""
    reason = _clean_reason(reason)
    spec = exam_validate(
        name=exam.name if name is None else name, year=exam.year, kind=exam.kind, audience=exam.audience,
        pass_mark=exam.pass_mark if pass_mark is None else pass_mark,
        max_score=exam.max_score if max_score is None else max_score,
        opens_on=opens_on or exam.opens_on, closes_on=closes_on or exam.closes_on,
    )
    labels = {"name": "考试名称", "opens_on": "开考日期", "closes_on": "截止日期", "pass_mark": "合格分数线",
              "max_score": "满分"}
    changes = []
    for field, label in labels.items():
        old, new = getattr(exam, field), getattr(spec, field)
        if old != new:
            shown = (_number(old), _number(new)) if isinstance(old, Decimal) else (str(old), str(new))
            changes.append(f"{label}：{shown[0]} → {shown[1]}")
    if not changes:
        return exam
    with transaction.atomic():
        if Exam.objects.filter(year=spec.year, kind=spec.kind, name=spec.name).exclude(pk=exam.pk).exists():
            raise DomainError(f"已有同名考试“{spec.name}”，请换一个名称。", code="conflict")
        updated = exam_update(exam=exam, spec=spec)
        audit_record(
            user=user, action=AuditAction.CORRECTION, target=f"exam:{exam.pk}",
            reason="修改考试：" + "；".join(changes) + _reason_suffix(reason), address=address,
        )
    return updated


def exam_delete(*, exam: Exam, user: Any, reason: str = "", address: str | None = None) -> int:
    """Delete an exam that nobody has sat, with its candidates. Refused (in Chinese) once it
    has an attempt, or once a renewal of enforcement certificates rests on it. Returns the
    number of candidates removed."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = Exam.objects.select_for_update().filter(pk=exam.pk).first()
        if locked is None:
            raise DomainError("考试不存在。", code="not_found")
        attempts = Attempt.objects.filter(exam=locked).count()
        if attempts:
            raise DomainError(
                f"该考试已有 {attempts} 条成绩记录，不能删除；如成绩导入有误，请先作废相应的导入。", code="conflict"
            )
        candidates = Candidate.objects.filter(exam=locked).count()
        exempt = Candidate.objects.filter(exam=locked, exempt=True).count()
        audit_record(
            user=user, action=AuditAction.CORRECTION, target=f"exam:{locked.pk}",
            reason=(f"删除考试：{locked.year} 年 {locked.name}（{locked.opens_on} – {locked.closes_on}），"
                    f"考生 {candidates} 人，其中免考 {exempt} 人" + _reason_suffix(reason)),
            rows=candidates, address=address,
        )
        year = locked.year
        try:
            with transaction.atomic():
                Candidate.objects.filter(exam=locked).delete()
                locked.delete()
        except ProtectedError:
            # a record of another app rests on it (a renewal of enforcement certificates)
            raise DomainError("已有其他记录（如执法证续期）依据该考试，不能删除。", code="conflict")
        # the exam's own snapshots went with it; the year's figures (the annual report) move
        figures_changed(kind=EXAM, year=year)
    return candidates


def exemption_lift(*, candidate: Candidate, user: Any, reason: str = "", address: str | None = None) -> Candidate:
    """Lift one candidate's exemption: they are expected to sit again."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        current = Candidate.objects.select_for_update(of=("self",)).select_related("staff", "exam").get(pk=candidate.pk)
        if not current.exempt:
            raise DomainError(f"{current.staff.name}（{current.staff.staff_no}）不是该考试的免考人员。", code="conflict")
        old_reason = current.exempt_reason
        candidates_lift_exemption(candidates=Candidate.objects.filter(pk=current.pk))
        audit_record(
            user=user, action=AuditAction.CORRECTION, target=f"exam:{current.exam_id}:exemption:{current.staff.staff_no}",
            reason=f"取消免考：{current.staff.name}（原免考原因：{old_reason or '无'}）" + _reason_suffix(reason),
            rows=1, address=address,
        )
        current.refresh_from_db()
    return current


def exemption_add(
    *, exam: Exam, staff: Staff, reason: str, user: Any, address: str | None = None, today: dt.date | None = None
) -> Candidate:
    """Exempt one person from an exam, with its reason. A person the exam did not list yet
    (someone outside its audience) is enrolled first, as an exemption import enrols them.
    Refused once they have sat."""
    reason = _clean_reason(reason, required=True, what="免考原因")
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = exam_lock_and_refresh(exam, today)
        enrolled = enrol_staff(exam=locked, staff_sql=sql_in([staff.pk]), staff_params=[staff.pk],
                               via=EnrolledVia.EXEMPTION, today=today)
        if enrolled:
            figures_changed(kind=EXAM, exam_id=locked.pk, year=locked.year)
        candidate = Candidate.objects.select_for_update().filter(exam=locked, staff=staff).first()
        if candidate is None:  # outside the subtree of the unit that owns the exam
            raise DomainError(f"{staff.name}（{staff.staff_no}）不在本考试的范围（{locked.owner.name}及其下级单位）内。")
        if candidate.exempt and candidate.exempt_reason == reason:
            raise DomainError(f"{staff.name}（{staff.staff_no}）已因同一原因免考。", code="conflict")
        old = candidate.exempt_reason if candidate.exempt else ""
        candidates_exempt(candidates=Candidate.objects.filter(pk=candidate.pk), reason=reason)
        audit_record(
            user=user, action=AuditAction.CORRECTION, target=f"exam:{locked.pk}:exemption:{staff.staff_no}",
            reason=(f"设为免考：{staff.name}，原因：{reason}" + (f"（原免考原因：{old}）" if old else "")
                    + ("；此前不在应考名单中，已登记" if enrolled else "")),
            rows=1, address=address,
        )
        candidate.refresh_from_db()
    return candidate
