"""What every page shares: login, the caller's scope (the one scoping helper), the
capability a page needs, ``Cache-Control: no-store`` (pages carry personal data), the menu."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access import scoping
from access.scoping import Scope, scope_for
from api.middleware import personal_data
from certificates import capabilities as cert_caps
from config.jobs import Job
from reminders import capabilities as reminder_caps
from training import capabilities as training_caps

# (key, label, capability, url name)
MENU: tuple[tuple[str, Any, str, str], ...] = (
    ("roster", _("名册同步"), scoping.ROSTER_SYNC_WRITE, "web:roster"),
    ("people", _("人员查询"), scoping.STAFF_READ, "web:people"),
    ("dashboard", _("单位统计"), scoping.STATS_READ, "web:dashboard"),
    ("exams", _("考试"), scoping.EXAMS_READ, "web:exams"),
    ("events", _("培训活动"), scoping.EVENTS_READ, "web:events"),
    ("hours_below", _("学时未达标"), training_caps.HOURS_BELOW_READ, "web:hours_below"),
    ("report", _("年度报告"), scoping.REPORTS_READ, "web:annual_report"),
    # the staff role sees its own record and nothing else
    ("record", _("我的学法档案"), scoping.RECORD_SELF, "web:my_record"),
    ("reminders", _("提醒记录"), reminder_caps.REMINDERS_READ, "web:reminders"),
    ("certificates", _("执法证管理"), cert_caps.CERTIFICATES_READ, "web:certificates"),
)


# what templates may ask: {% if can.exams_write %}
CAN: dict[str, str] = {
    "roster_write": scoping.ROSTER_SYNC_WRITE,
    "stats": scoping.STATS_READ,
    "exams_write": scoping.EXAMS_WRITE,
    "not_sat": scoping.NOT_SAT_READ,
    "events_write": scoping.EVENTS_WRITE,
    "reports": scoping.REPORTS_READ,
    "records": scoping.RECORDS_READ,
    "reminders": reminder_caps.REMINDERS_READ,
    "reminders_send": reminder_caps.REMINDERS_SEND,
    "reminders_channels": reminder_caps.REMINDERS_CHANNELS,
    "certificates_write": cert_caps.CERTIFICATES_WRITE,
    "hours_below": training_caps.HOURS_BELOW_READ,
    "targets_write": training_caps.TARGETS_WRITE,
}


def page(capability: str | None = None) -> Callable:
    """A page for signed-in users: the view gets the caller's ``scope`` as a keyword; a role
    without ``capability`` gets 403; the response is never cached."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            scope = scope_for(request.user)
            if scope.is_provisioner:  # a SCIM client has no page at all
                raise PermissionDenied("SCIM 对接账号只能使用 /scim/v2/ 接口。")
            if capability is not None:
                scope.require(capability)
            return view(request, *args, scope=scope, **kwargs)

        return login_required(personal_data(wrapped))

    return decorator


def menu(scope: Scope) -> list[dict[str, str]]:
    return [
        {"key": key, "label": label, "url": reverse(name)}
        for key, label, capability, name in MENU
        if scope.can(capability)
    ]


def render_page(
    request: HttpRequest, scope: Scope, template: str, context: dict[str, Any] | None = None, *,
    section: str = "", status: int = 200,
) -> HttpResponse:
    context = dict(context or {})
    context.update(
        scope=scope, menu=menu(scope), section=section, role_label=role_label(scope),
        can={key: scope.can(capability) for key, capability in CAN.items()},
    )
    return render(request, template, context, status=status)


def role_label(scope: Scope) -> str:
    from access.models import Role

    if scope.is_superuser:
        return str(_("系统管理员"))
    if scope.role is None:
        return str(_("未分配角色"))
    label = str(Role(scope.role).label)
    if scope.person is not None:
        return f"{label}（{scope.person.name}）"
    return f"{label}（{scope.unit.name}）" if scope.unit is not None else label


def paginate(request: HttpRequest, qs: QuerySet, per_page: int = 20) -> Page:
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def progress_of(job: Job) -> dict[str, Any]:
    """A job's progress for the progress bar: the page's first paint and the polling JSON."""
    finished = job.is_finished
    total = job.progress_total
    if finished:
        percent = 100
    elif total:
        percent = min(99, int(job.progress_done * 100 / total))
    else:
        percent = 0
    return {
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "done": job.progress_done,
        "total": total,
        "percent": percent,
        "finished": finished,
    }


def progress_json(job: Job) -> JsonResponse:
    response = JsonResponse(progress_of(job))
    response.personal_data = True
    return response
