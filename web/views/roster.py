"""Roster upload (hr): file → dry run with its preview → confirm → progress → outcome."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access import scoping
from access.scoping import Scope
from api.views import client_address
from audit.models import AuditAction
from audit.services import audit_record
from config.errors import DomainError
from roster.exports import preview_changes_xlsx
from roster.models import PreviewKind, RosterSync, SyncKind, SyncSource
from roster.selectors import roster_syncs, sync_preview_changes
from roster.staff import STAFF_LABELS
from roster.sync import roster_sync_confirm, roster_sync_confirm_refusal
from roster.undo import roster_undo_refusal, roster_undo_submit

from ..forms import RosterUploadForm
from ..services import roster_dry_run_start
from .base import page, paginate, progress_json, progress_of, render_page

PREVIEW_KINDS = (
    ("created", _("新增")),
    ("updated", _("更新")),
    ("reactivated", _("恢复在册")),
    ("deactivated", _("停用（离册）")),
)


@page(scoping.ROSTER_SYNC_WRITE)
def roster_upload(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            sync = roster_dry_run_start(
                file=upload,
                file_name=upload.name or "roster",
                mode=data["mode"],
                skip_invalid=data["on_error"] == "skip",
                allow_mass_deactivation=data["allow_mass_deactivation"],
                started_by=request.user,
                root=scope.write_root,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("web:roster_sync", pk=sync.pk)
    syncs = paginate(request, scope.roster_syncs(roster_syncs()))
    return render_page(request, scope, "web/roster/upload.html", {"form": form, "syncs": syncs}, section="roster")


def _preview(sync: RosterSync) -> list[dict[str, Any]]:
    counts = sync.counts()
    groups = []
    for key, label in PREVIEW_KINDS:
        rows = []
        for row in (sync.preview or {}).get(key, []):
            fields = "、".join(STAFF_LABELS.get(f, f) for f in row.get("fields", []))
            rows.append({**row, "fields": fields})
        groups.append({"key": key, "label": label, "count": counts.get(key, 0), "rows": rows})
    return groups


@page(scoping.ROSTER_SYNC_READ)
@require_GET
def roster_sync_page(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    sync = scope.get(scope.roster_syncs(roster_syncs()), pk=pk)
    is_undo = sync.kind == SyncKind.UNDO
    refusal = roster_sync_confirm_refusal(sync=sync) if sync.dry_run and not is_undo else ""
    context = {
        "sync": sync,
        "progress": progress_of(sync),
        "preview": _preview(sync) if sync.is_finished and not is_undo else [],
        "can_confirm": sync.dry_run and not is_undo and not refusal and scope.can(scoping.ROSTER_SYNC_WRITE),
        "confirm_refusal": refusal,
        **_undo_context(sync, scope),
    }
    return render_page(request, scope, "web/roster/sync.html", context, section="roster")


def _undo_context(sync: RosterSync, scope: Scope) -> dict[str, Any]:
    """「撤销本次同步」 on an applied sync (or undo); on an undo's own page, its outcome and, for
    a dry run, the confirm step (with or without skipping the conflicts)."""
    writer = scope.can(scoping.ROSTER_SYNC_WRITE)
    context: dict[str, Any] = {"undone_by": None, "can_undo": False, "undo_confirm": None}
    if sync.applied and not sync.dry_run:
        context["undone_by"] = (RosterSync.objects.filter(kind=SyncKind.UNDO, undoes=sync, applied=True, dry_run=False)
                                .order_by("-pk").first())
        context["can_undo"] = writer and roster_undo_refusal(target=sync) is None
    if sync.kind == SyncKind.UNDO:
        preview = sync.preview or {}
        conflicts = [{**c, "label": STAFF_LABELS.get(c["field"], c["field"])} for c in preview.get("conflicts", [])]
        context["undo"] = {"conflicts": conflicts, "count": preview.get("conflict_count", 0),
                           "skipped": preview.get("skipped", 0)}
        target = sync.undoes
        if (sync.dry_run and sync.is_finished and writer and target is not None
                and roster_undo_refusal(target=target) is None and sync.status != "failed"):
            context["undo_confirm"] = {"target": target, "skip": bool(context["undo"]["count"])}
    return context


CHANGES_PER_PAGE = 100


def _changes_filter(request: HttpRequest, scope: Scope) -> tuple[str, Any]:
    # an unknown kind or unit shows everything, as the other list filters do
    kind = request.GET.get("kind") or ""
    kind = kind if kind in PreviewKind.values else ""
    code = (request.GET.get("unit") or "").strip()
    unit = scope.units().filter(code=code).first() if code else None
    return kind, unit


def _field_changes(fields: dict[str, list]) -> list[dict[str, Any]]:
    return [{"label": STAFF_LABELS.get(f, f), "old": old, "new": new} for f, (old, new) in fields.items()]


@page(scoping.ROSTER_SYNC_READ)
@require_GET
def roster_sync_changes(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """Every change of a dry run, page by page, by kind and unit: what HR approves."""
    sync = scope.get(scope.roster_syncs(roster_syncs()), pk=pk)
    kind, unit = _changes_filter(request, scope)
    changes = paginate(request, sync_preview_changes(sync=sync, kind=kind or None, unit=unit), per_page=CHANGES_PER_PAGE)
    rows = [{"change": c, "fields": _field_changes(c.fields)} for c in changes.object_list]
    context = {
        "sync": sync,
        "changes": changes,
        "rows": rows,
        "kind": kind,
        "unit": unit,
        "kinds": PreviewKind.choices,
        "units": scope.units().filter(is_active=True).order_by("path"),
    }
    return render_page(request, scope, "web/roster/changes.html", context, section="roster")


@page(scoping.ROSTER_SYNC_READ)
@require_GET
def roster_sync_changes_xlsx(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    sync = scope.get(scope.roster_syncs(roster_syncs()), pk=pk)
    kind, unit = _changes_filter(request, scope)
    changes = list(sync_preview_changes(sync=sync, kind=kind or None, unit=unit))
    # names, 工号 and changed phones in a file: a personal-data export
    audit_record(
        user=request.user, action=AuditAction.EXPORT, target=f"roster_sync:{sync.pk}:changes",
        reason=str(_("网页下载名册试运行的全部变化")), rows=len(changes), address=client_address(request),
    )
    data = preview_changes_xlsx(changes, title=str(_("试运行 #%(pk)s 的全部变化：%(name)s") % {"pk": sync.pk, "name": sync.file_name}))
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition_header(True, f"名册试运行-{sync.pk}-全部变化.xlsx")
    return response


@page(scoping.ROSTER_SYNC_READ)
@require_GET
def roster_sync_progress(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    return progress_json(scope.get(scope.roster_syncs(RosterSync.objects.all()), pk=pk))


@page(scoping.ROSTER_SYNC_WRITE)
@require_POST
def roster_sync_confirm_view(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    dry_run = scope.get(scope.roster_syncs(roster_syncs()), pk=pk)
    try:
        sync = roster_sync_confirm(dry_run_sync=dry_run, started_by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:roster_sync", pk=dry_run.pk)
    return redirect("web:roster_sync", pk=sync.pk)


@page(scoping.ROSTER_SYNC_WRITE)
@require_POST
def roster_sync_undo_view(request: HttpRequest, pk: int, *, scope: Scope) -> HttpResponse:
    """「撤销本次同步」: without ``confirm`` a dry run of the undo (its page is the preview);
    with it, the undo itself, skipping the conflicts when asked."""
    target = scope.get(scope.roster_syncs(roster_syncs()), pk=pk)
    try:
        undo = roster_undo_submit(
            target=target, dry_run=request.POST.get("confirm") != "1",
            skip_conflicts=request.POST.get("skip_conflicts") == "1", source=SyncSource.WEB, started_by=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:roster_sync", pk=target.pk)
    return redirect("web:roster_sync", pk=undo.pk)
