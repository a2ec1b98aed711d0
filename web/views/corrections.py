"""Corrections on the pages, each within the caller's scope and each audited by its service:
edit or delete an exam, lift an exemption or add one by hand (exams.write: the legal-affairs
office); edit or delete an event, set one attendance status (events.write: the office, and a
liaison for the events their subtree organises and the attendance of their own people).

Objects come only through the caller's scope: another subtree's event or person answers 404,
as one that does not exist. Deletions and lifts go through a confirmation page (GET shows
it, POST carries it out, with CSRF)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from access import scoping
from access.scoping import Scope
from api.views import client_address
from config.errors import DomainError
from exams.corrections import exam_correct, exam_delete, exemption_add, exemption_lift
from exams.models import Exam
from exams.selectors import exam_exemptions
from roster.selectors import staff_list
from training.corrections import attendance_status_correct, training_event_correct, training_event_delete
from training.models import Attendance, TrainingEvent

from ..forms import AttendanceStatusForm, EventForm, ExamEditForm, ExemptionAddForm, ReasonForm
from ..selectors import managed_events, managed_exams, visible_attendance
from .base import page, paginate, render_page

EXEMPTIONS_PER_PAGE = 100


def _exam(scope: Scope, pk: int) -> Exam:
    return scope.get(managed_exams(scope), pk=pk)


def _managed_event(scope: Scope, pk: int) -> TrainingEvent:
    # an event the caller may read but does not run (a liaison and a district lecture): 404
    return scope.get(managed_events(scope).select_related("organiser"), pk=pk)


# --- exams --------------------------------------------------------------------------------


@page(scoping.EXAMS_WRITE)
def exam_edit(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    exam = _exam(scope, pk)
    form = ExamEditForm.for_exam(exam, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exam_correct(
                exam=exam, user=request.user, name=data["name"], opens_on=data["opens_on"], closes_on=data["closes_on"],
                pass_mark=data["pass_mark"], max_score=data["max_score"], reason=data["reason"],
                address=client_address(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("考试已修改，各项数字已重新计算。"))
            return redirect("web:exam", pk=exam.pk)
    status = 400 if request.method == "POST" else 200
    return render_page(request, scope, "web/corrections/exam_edit.html", {"exam": exam, "form": form},
                       section="exams", status=status)


@page(scoping.EXAMS_WRITE)
def exam_delete_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    exam = _exam(scope, pk)
    counts = exam.candidates.aggregate(candidates=Count("id"), sat=Count("id", filter=Q(attempt_count__gt=0)))
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            exam_delete(exam=exam, user=request.user, reason=form.cleaned_data["reason"],
                        address=client_address(request))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("考试“%(name)s”已删除。") % {"name": exam.name})
            return redirect("web:exams")
    context = {"exam": exam, "form": form, "counts": counts, "attempts": exam.attempts.count()}
    return render_page(request, scope, "web/corrections/exam_delete.html", context, section="exams",
                       status=409 if form.errors else 200)


def _exemption_rows(scope: Scope, exam: Exam, request: HttpRequest):
    return paginate(request, scope.narrow(exam_exemptions(exam=exam)), per_page=EXEMPTIONS_PER_PAGE)


@page(scoping.EXAMS_WRITE)
def exemptions_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """The exam's exempt people, each with a link to lift it, and a form to add one by hand."""
    exam = _exam(scope, pk)
    data = request.POST if request.method == "POST" else None
    form = ExemptionAddForm(data, initial={"staff_no": request.GET.get("staff_no", "")[:32]})
    if request.method == "POST" and form.is_valid():
        staff = scope.staff(staff_list()).filter(staff_no=form.cleaned_data["staff_no"].strip()).first()
        if staff is None:
            form.add_error("staff_no", _("名册中没有这个工号。"))
        else:
            try:
                exemption_add(exam=exam, staff=staff, reason=form.cleaned_data["reason"], user=request.user,
                              address=client_address(request))
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已将 %(name)s 设为免考。") % {"name": staff.name})
                return redirect("web:exam_exemptions", pk=exam.pk)
    context = {"exam": exam, "form": form, "exemptions": _exemption_rows(scope, exam, request)}
    return render_page(request, scope, "web/corrections/exemptions.html", context, section="exams",
                       status=400 if form.errors else 200)


@page(scoping.EXAMS_WRITE)
def exemption_lift_page(request: HttpRequest, pk: int, staff_no: str, *, scope: Scope) -> HttpResponse:
    exam = _exam(scope, pk)
    candidate = scope.get(scope.narrow(exam_exemptions(exam=exam)), staff__staff_no=staff_no)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            exemption_lift(candidate=candidate, user=request.user, reason=form.cleaned_data["reason"],
                           address=client_address(request))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已取消 %(name)s 的免考。") % {"name": candidate.staff.name})
            return redirect("web:exam_exemptions", pk=exam.pk)
    return render_page(request, scope, "web/corrections/exemption_lift.html",
                       {"exam": exam, "candidate": candidate, "form": form}, section="exams",
                       status=400 if form.errors else 200)


# --- training -----------------------------------------------------------------------------


@page(scoping.EVENTS_WRITE)
def event_edit(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    event = _managed_event(scope, pk)
    initial = {
        "title": event.title, "kind": event.kind, "date": event.date, "hours": event.hours,
        "organiser": event.organiser_id, "speaker": event.speaker, "location": event.location,
        "signin_rotates": event.signin_rotates,
    }
    form = EventForm(request.POST if request.method == "POST" else None, initial=initial, units=scope.units(),
                     organiser_required=scope.organiser_required)
    form.fields["reason"] = ReasonForm().fields["reason"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            training_event_correct(
                event=event, user=request.user, title=data["title"], kind=data["kind"], date=data["date"],
                hours=data["hours"], organiser=data["organiser"], speaker=data["speaker"], location=data["location"],
                signin_rotates=data["signin_rotates"], reason=data["reason"], address=client_address(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("培训活动已修改。"))
            return redirect("web:event", pk=event.pk)
    return render_page(request, scope, "web/corrections/event_edit.html", {"event": event, "form": form},
                       section="events", status=400 if form.errors else 200)


@page(scoping.EVENTS_WRITE)
def event_delete_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """The confirmation page: with attendance recorded, it asks for the reason."""
    event = _managed_event(scope, pk)
    recorded = Attendance.objects.filter(event=event).count()
    form = ReasonForm(request.POST if request.method == "POST" else None, required=bool(recorded))
    if request.method == "POST" and form.is_valid():
        try:
            training_event_delete(event=event, user=request.user, reason=form.cleaned_data["reason"],
                                  within=scope.within(None), address=client_address(request))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("培训活动“%(title)s”已删除。") % {"title": event.title})
            return redirect("web:events")
    return render_page(request, scope, "web/corrections/event_delete.html",
                       {"event": event, "form": form, "recorded": recorded}, section="events",
                       status=400 if form.errors else 200)


@page(scoping.EVENTS_WRITE)
def attendance_edit(request: HttpRequest, pk: int, staff_no: str, *, scope: Scope) -> HttpResponse:
    """One person's attendance status (a liaison: their own people, at the events they run)."""
    event = _managed_event(scope, pk)
    attendance = scope.get(visible_attendance(scope=scope, event=event), staff__staff_no=staff_no)
    form = AttendanceStatusForm(request.POST if request.method == "POST" else None,
                                initial={"status": attendance.status})
    if request.method == "POST" and form.is_valid():
        try:
            attendance_status_correct(attendance=attendance, status=form.cleaned_data["status"], user=request.user,
                                      reason=form.cleaned_data["reason"], address=client_address(request))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已修改 %(name)s 的出勤情况。") % {"name": attendance.staff.name})
            return redirect("web:event", pk=event.pk)
    return render_page(request, scope, "web/corrections/attendance_edit.html",
                       {"event": event, "attendance": attendance, "form": form}, section="events",
                       status=400 if form.errors else 200)
