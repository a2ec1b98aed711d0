"""Training events (legal_office; a liaison reads the events that concern their subtree and
runs those it organises): list, create, attendance, sign-in sheet upload, and the QR sign-in
code full-screen."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from access import scoping
from access.scoping import Scope
from config.errors import DomainError
from training.attendance import attendance_import
from training.events import training_event_create
from training.models import ATTENDED, TrainingEvent
from training.rotation import rotate_seconds
from training.views import qr_image_response, signin_url

from ..forms import EventForm, SheetUploadForm
from ..selectors import (
    ATTENDANCE_KINDS,
    imports_of,
    managed_events,
    picker_units,
    record_linkable,
    visible_attendance,
    visible_events,
)
from .base import page, paginate, render_page

ATTENDANCE_PER_PAGE = 100


def _event(scope: Scope, pk: int, *, managed: bool = False) -> TrainingEvent:
    return scope.get(managed_events(scope) if managed else visible_events(scope), pk=pk)


@page(scoping.EVENTS_READ)
@require_GET
def events_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    events = visible_events(scope).order_by("-date", "-id")
    year = _year_filter(request.GET.get("year"))
    if year is not None:
        events = events.filter(date__year=year)
    context = {"events": paginate(request, events, per_page=30), "year": year}
    return render_page(request, scope, "web/events/list.html", context, section="events")


def _year_filter(value: str | None) -> int | None:
    # an unknown or empty year shows every year, as the other list filters do
    try:
        year = int((value or "").strip())
    except ValueError:
        return None
    return year if 2000 <= year <= 2100 else None


@page(scoping.EVENTS_WRITE)
def event_new(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    # a liaison's event is organised by a unit of their subtree, so that they see it afterwards
    form = EventForm(request.POST or None, units=scope.units(), organiser_required=scope.organiser_required)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = training_event_create(
                title=data["title"], kind=data["kind"], date=data["date"], hours=data["hours"],
                organiser=data["organiser"], speaker=data["speaker"], location=data["location"],
                signin_rotates=data["signin_rotates"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("web:event", pk=event.pk)
    return render_page(request, scope, "web/events/form.html", {"form": form}, section="events")


def _event_page(request: HttpRequest, scope: Scope, event: TrainingEvent, form: SheetUploadForm | None,
                status: int = 200) -> HttpResponse:
    attendance = visible_attendance(scope=scope, event=event)
    managed = managed_events(scope).filter(pk=event.pk).exists()
    counts = dict(attendance.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    attendance_page = paginate(request, attendance, per_page=ATTENDANCE_PER_PAGE)
    context = {
        "event": event,
        "attendance": attendance_page,
        "record_links": {a.staff_id for a in attendance_page.object_list if record_linkable(scope, a.staff)},
        "attended": sum(n for status, n in counts.items() if status in ATTENDED),
        "recorded": sum(counts.values()),
        "managed": managed,
        "sheet_units": picker_units(scope) if managed else [],
        "form": form if managed else None,
        "imports": list(imports_of(scope=scope, kinds=ATTENDANCE_KINDS, target_id=event.pk)[:20]),
        "signin_url": request.build_absolute_uri(reverse("training:signin", args=[event.signin_token])) if managed else "",
    }
    return render_page(request, scope, "web/events/detail.html", context, section="events", status=status)


@page(scoping.EVENTS_READ)
@require_GET
def event_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    return _event_page(request, scope, _event(scope, pk), SheetUploadForm())


@page(scoping.EVENTS_WRITE)
@require_POST
def event_sheet_upload(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    event = _event(scope, pk, managed=True)
    form = SheetUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = attendance_import(
                event=event, data=upload.read(), file_name=upload.name or "signin", started_by=request.user,
                within=scope.within(None),
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, result.message)
            return redirect("web:import", pk=result.import_id)
    return _event_page(request, scope, event, form, status=400)


@page(scoping.EVENTS_READ)
@require_GET
def event_qr(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    event = _event(scope, pk, managed=True)
    opens, closes = event.signin_window()
    context = {
        "event": event,
        "opens": opens,
        "closes": closes,
        "rotate_seconds": rotate_seconds(),
    }
    if event.signin_rotates:
        # the code changes: the page shows no address that could be copied and reused
        context["qr_url"] = reverse("web:event_qr_code", args=[event.pk])
    else:
        context["signin_url"] = signin_url(request, event)
        context["qr_url"] = reverse("training:signin_qr_svg", args=[event.signin_token])
    return render_page(request, scope, "web/events/qr.html", context, section="events")


@page(scoping.EVENTS_READ)
@require_GET
def event_qr_code(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """The projected code as it is now (SVG), for the organiser's page to reload each period."""
    event = _event(scope, pk, managed=True)
    response = qr_image_response(request, event, svg=True)
    response["Cache-Control"] = "no-store"
    return response
