"""「学时未达标」: the people below what the year requires of them (their 人员类别's target,
else the default), by year and unit, with CSV and XLSX downloads (audited); 「学时要求」: the
year's targets per 人员类别 (legal_office); an event's printable sign-in sheet (DOCX)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access import scoping
from access.scoping import Scope
from api.views import client_address
from audit.models import AuditAction
from audit.services import audit_record
from config.errors import DomainError
from roster.models import Staff
from training import capabilities as training_caps
from training.exports import hours_row, to_csv, to_xlsx
from training.models import TrainingTarget
from training.selectors import default_required_hours, event_audience, hours_below, training_targets
from training.signin_sheet import sheet_rows, signin_sheet_docx, signin_sheet_file_name
from training.targets import training_target_delete, training_target_set

from ..selectors import managed_events, picker_units
from .base import page, paginate, render_page

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PER_PAGE = 50


def _year(value: str | None) -> int:
    today = timezone.localdate().year
    if value and value.strip().isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return today


def _rows(staff) -> list[dict]:
    return [hours_row(s.staff_no, s.name, s.unit.code, s.unit.name, s.hours, s.required_hours) | {"category": s.category}
            for s in staff]


def _filters(request: HttpRequest, scope: Scope):
    year = _year(request.GET.get("year"))
    unit = scope.within(request.GET.get("unit") or None)
    return year, unit


@page(training_caps.HOURS_BELOW_READ)
@require_GET
def hours_below_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    year, unit = _filters(request, scope)
    below = scope.narrow(hours_below(year=year, unit=unit))
    shown = paginate(request, below, per_page=PER_PAGE)
    this_year = timezone.localdate().year
    context = {
        "year": year, "unit": unit, "page": shown, "rows": _rows(shown.object_list),
        "years": list(range(this_year, this_year - 6, -1)),
        "units": picker_units(scope),
        "default_hours": default_required_hours(year=year),
        "targets": list(training_targets(year=year).filter(category__isnull=False)),
        "query": f"?year={year}" + (f"&unit={unit.code}" if unit else ""),
    }
    return render_page(request, scope, "web/training/hours_below.html", context, section="hours_below")


@page(training_caps.HOURS_BELOW_READ)
@require_GET
def hours_below_download(request: HttpRequest, fmt: str, *, scope: Scope) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404(_("没有这样的格式。"))
    year, unit = _filters(request, scope)
    rows = _rows(scope.narrow(hours_below(year=year, unit=unit)))
    audit_record(user=request.user, action=AuditAction.EXPORT,
                 target=f"training:{year}:hours_below" + (f":{unit.code}" if unit else ""),
                 reason=f"网页下载学时未达标人员名单（{fmt}）", rows=len(rows), address=client_address(request))
    scope_name = unit.name if unit else "全区"
    data = to_xlsx(rows, title=f"{scope_name} {year} 年学时未达标人员（{len(rows)} 人）") if fmt == "xlsx" \
        else to_csv(rows).encode("utf-8-sig")
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    name = f"学时未达标-{year}" + (f"-{unit.code}" if unit else "") + f".{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _targets_page(request: HttpRequest, scope: Scope, year: int, *, error: str = "", status: int = 200) -> HttpResponse:
    categories = (Staff.objects.filter(is_active=True).exclude(category="").order_by("category")
                  .values_list("category", flat=True).distinct())
    context = {
        "year": year, "targets": list(training_targets(year=year)), "default_hours": default_required_hours(year=year),
        "categories": list(categories), "error": error,
        "years": list(range(timezone.localdate().year + 1, timezone.localdate().year - 5, -1)),
    }
    return render_page(request, scope, "web/training/targets.html", context, section="hours_below", status=status)


@page(training_caps.TARGETS_WRITE)
def targets_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    """GET: the year's targets; POST: set one (a category, or empty for the default)."""
    year = _year(request.POST.get("year") if request.method == "POST" else request.GET.get("year"))
    if request.method != "POST":
        return _targets_page(request, scope, year)
    try:
        target = training_target_set(year=request.POST.get("year", ""), category=request.POST.get("category"),
                                     hours=request.POST.get("hours", ""))
    except DomainError as exc:
        return _targets_page(request, scope, year, error=exc.message, status=400)
    messages.success(request, f"已设置 {target.year} 年{target.category or '默认'}应修学时：{Decimal(target.hours).normalize():f}。")
    return redirect(reverse("web:training_targets") + f"?year={target.year}")


@page(training_caps.TARGETS_WRITE)
@require_POST
def target_delete(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    target = scope.get(TrainingTarget.objects.all(), pk=pk)
    year = target.year
    training_target_delete(target=target)
    messages.success(request, "已删除该学时要求。")
    return redirect(reverse("web:training_targets") + f"?year={year}")


@page(scoping.EVENTS_WRITE)
@require_GET
def event_signin_sheet(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """The printable sign-in sheet (DOCX) of an event the caller runs, for a unit (a liaison:
    within their subtree). Names with 工号 in a file: audited."""
    event = scope.get(managed_events(scope).select_related("organiser"), pk=pk)
    unit = scope.within(request.GET.get("unit") or None)
    people = list(scope.narrow(event_audience(event=event, unit=unit)))
    url = None if event.signin_rotates else request.build_absolute_uri(
        reverse("training:signin", args=[event.signin_token]))
    data = signin_sheet_docx(event=event, rows=sheet_rows(people), unit=unit, signin_url=url)
    audit_record(user=request.user, action=AuditAction.EXPORT,
                 target=f"event:{event.pk}:signin_sheet" + (f":{unit.code}" if unit else ""),
                 reason="网页下载打印用签到表", rows=len(people), address=client_address(request))
    response = HttpResponse(data, content_type=DOCX)
    response["Content-Disposition"] = content_disposition_header(True, signin_sheet_file_name(event=event, unit=unit))
    return response

