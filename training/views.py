"""The QR self sign-in page and the QR images. Thin: the rules live in services.py, the
failure counters in ratelimit.py."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from . import ratelimit, rotation
from .models import TrainingEvent
from .qr import qr_png, qr_svg
from .selectors import event_by_token
from .self_signin import ALREADY, AMBIGUOUS, CLOSED, REFUSED, attendance_self_sign_in, clean_last4, clean_who

TEMPLATE = "training/signin.html"


def _page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    response = render(request, TEMPLATE, context, status=status)
    # the URL is the secret: never hand it to another site in a Referer header. Not
    # "no-referrer": with it browsers send "Origin: null" on the form's POST, which Django's
    # CSRF check refuses (found by the real-browser test), so the sign-in never worked there.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _window_state(event: TrainingEvent) -> str:
    opens, closes = event.signin_window()
    now = timezone.now()
    if now < opens:
        return "not_yet"
    if now >= closes:
        return "ended"
    return "open"


def _context(event: TrainingEvent) -> dict[str, Any]:
    opens, closes = event.signin_window()
    return {"event": event, "opens": opens, "closes": closes, "state": _window_state(event),
            "rotate_seconds": rotation.rotate_seconds()}


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest, token: str) -> HttpResponse:
    event = event_by_token(token)
    if event is None:
        return _page(request, 404, invalid=True)
    context = _context(event)
    if event.signin_rotates:
        # a rotating code: the URL alone is not enough; a fresh code (from the screen) opens
        # the form, and the form's signed ticket lets its owner finish typing
        fresh = rotation.code_is_fresh(event, request.GET.get("c", ""))
        ticket_ok = request.method == "POST" and rotation.ticket_is_valid(event, request.POST.get("ticket", ""))
        if not (fresh or ticket_ok):
            return _page(request, 403, expired=True, **context)
        context["ticket"] = request.POST.get("ticket") if ticket_ok else rotation.form_ticket(event)
    if request.method == "GET":
        return _page(request, **context)

    client = ratelimit.client_key(request)
    too_many = _("尝试次数过多，请稍后再试。")
    if ratelimit.is_blocked(client=client):
        return _page(request, 429, error=too_many, **context)
    if context["state"] != "open":
        return _page(request, 403, **context)
    who = clean_who(request.POST.get("who") or request.POST.get("staff_no", ""))
    last4 = request.POST.get("id_last4", "")
    if not who or clean_last4(last4) is None:
        return _page(
            request, 400, error=_("请填写工号（或姓名）和身份证号的后 4 位（数字或 X）。"), who=who, **context
        )
    staff_key = ratelimit.staff_no_key(event_id=event.pk, staff_no=who)
    if ratelimit.is_blocked(client=client, staff_no=staff_key):
        return _page(request, 429, error=too_many, **context)

    result = attendance_self_sign_in(event=event, who=who, id_last4=last4)
    if result.outcome == CLOSED:
        context["state"] = _window_state(event)
        return _page(request, 403, **context)
    if result.outcome == AMBIGUOUS:
        return _page(request, 400, error=_("有多名同名人员，请改为输入工号。"), who=who, **context)
    if result.outcome == REFUSED:
        ratelimit.record_failure(client, staff_key)
        # one message whether the person exists or not
        return _page(request, 400, error=_("工号（或姓名）或身份证号后 4 位不正确，请核对后重新输入。"), who=who, **context)
    return _page(
        request,
        done=True,
        already=result.outcome == ALREADY,
        display_name=result.display_name,
        signed_in_at=result.signed_in_at,
        **context,
    )


def signin_url(request: HttpRequest, event: TrainingEvent) -> str:
    return request.build_absolute_uri(reverse("training:signin", args=[event.signin_token]))


def rotating_signin_url(request: HttpRequest, event: TrainingEvent) -> str:
    """The address in the projected code now: the sign-in URL with the period's code."""
    return f"{signin_url(request, event)}?c={rotation.current_code(event)}"


def qr_image_response(request: HttpRequest, event: TrainingEvent, *, svg: bool) -> HttpResponse:
    url = rotating_signin_url(request, event) if event.signin_rotates else signin_url(request, event)
    response = HttpResponse(qr_svg(url) if svg else qr_png(url), content_type="image/svg+xml" if svg else "image/png")
    name = f"signin-{event.date:%Y%m%d}-{event.pk}.{'svg' if svg else 'png'}"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Referrer-Policy"] = "no-referrer"
    return response


def _qr_response(request: HttpRequest, token: str, *, svg: bool) -> HttpResponse:
    event = event_by_token(token)
    # a rotating event's code is drawn only on the organiser's page, never from the token alone
    if event is None or event.signin_rotates:
        return HttpResponse(status=404)
    url = signin_url(request, event)
    response = HttpResponse(qr_svg(url) if svg else qr_png(url), content_type="image/svg+xml" if svg else "image/png")
    name = f"signin-{event.date:%Y%m%d}-{event.pk}.{'svg' if svg else 'png'}"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_GET
def signin_qr_png(request: HttpRequest, token: str) -> HttpResponse:
    return _qr_response(request, token, svg=False)


@never_cache
@require_GET
def signin_qr_svg(request: HttpRequest, token: str) -> HttpResponse:
    return _qr_response(request, token, svg=True)
