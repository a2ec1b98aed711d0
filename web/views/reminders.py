"""提醒记录: the messages the system sent (legal_office all, a liaison their subtree), "send
now" for an exam (a job with progress), and the units' group robots (legal_office)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access.scoping import Scope
from config.errors import DomainError
from reminders import capabilities
from reminders.channels import unit_channel_clear, unit_channel_save
from reminders.models import Channel, ReminderJob
from reminders.selectors import reminder_jobs, unit_channels
from reminders.sendnow import reminder_job_create

from ..forms import ReminderFilterForm, ReminderSendForm, UnitRobotForm
from ..selectors import picker_units, remindable_exams, visible_exams, visible_reminders
from .base import page, paginate, progress_json, progress_of, render_page

STATUS_LABELS = {"sent": _("已发送"), "skipped": _("跳过（本周期已发送）"), "failed": _("失败"), "would_send": _("将发送")}


def _send_form(scope: Scope, data=None) -> ReminderSendForm | None:
    if not scope.can(capabilities.REMINDERS_SEND):
        return None
    return ReminderSendForm(data, exams=remindable_exams(scope=scope), prefix="send")


@page(capabilities.REMINDERS_READ)
@require_GET
def reminders_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    filters = ReminderFilterForm(request.GET or None, exams=visible_exams(scope))
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rows = visible_reminders(scope=scope, exam_id=chosen.get("exam"), status=chosen.get("status") or "",
                             channel=chosen.get("channel") or "")
    query = urlencode({k: v for k, v in chosen.items() if v})
    context = {
        "filters": filters, "messages_page": paginate(request, rows, per_page=50), "query": query,
        "send_form": _send_form(scope),
    }
    return render_page(request, scope, "web/reminders/list.html", context, section="reminders")


@page(capabilities.REMINDERS_SEND)
@require_POST
def reminder_send(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    form = _send_form(scope, request.POST)
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            job = reminder_job_create(exam_id=data["exam"].pk, dry_run=data["dry_run"], force=data["force"],
                                      started_by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("web:reminder_job", pk=job.pk)
    else:
        messages.error(request, _("请选择一个尚未截止的考试。"))
    return redirect("web:reminders")


@page(capabilities.REMINDERS_SEND)
@require_GET
def reminder_job_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    job = scope.get(scope.exam_jobs(reminder_jobs()), pk=pk)
    result = job.result or {}
    rows = [{**m, "channel_label": Channel(m["channel"]).label, "status_label": STATUS_LABELS.get(m["status"], m["status"])}
            for m in result.get("messages", [])]
    context = {"job": job, "progress": progress_of(job), "result": result, "rows": rows}
    return render_page(request, scope, "web/reminders/job.html", context, section="reminders")


@page(capabilities.REMINDERS_SEND)
@require_GET
def reminder_job_progress(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    return progress_json(scope.get(scope.exam_jobs(ReminderJob.objects.all()), pk=pk))


@page(capabilities.REMINDERS_CHANNELS)
def channels_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    form = UnitRobotForm(request.POST or None, units=picker_units(scope))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit_channel_save(unit=data["unit"], channel=data["channel"], url=data["url"],
                              secret=data["secret"] or None, clear_secret=True)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存%(unit)s的群机器人。") % {"unit": data["unit"].name})
            return redirect("web:reminder_channels")
    context = {"form": form, "robots": scope.narrow(unit_channels(), unit_field="unit")}
    return render_page(request, scope, "web/reminders/channels.html", context, section="reminders",
                       status=400 if form.errors else 200)


@page(capabilities.REMINDERS_CHANNELS)
@require_POST
def channel_clear(request: HttpRequest, code: str, channel: str, *, scope: Scope) -> HttpResponse:
    unit = scope.resolve_unit(code)
    try:
        unit_channel_clear(unit_code=unit.code, channel=channel if channel in Channel.values else None)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除%(unit)s的群机器人。") % {"unit": unit.name})
    return redirect("web:reminder_channels")
