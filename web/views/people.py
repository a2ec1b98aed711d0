"""Staff search and a person's page (hr and legal_office everywhere, a liaison within their
subtree): the details masked as the roles say, and the person's change history."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from access import scoping
from access.scoping import Scope
from roster import idnumbers
from roster.models import Staff, StaffChange
from roster.selectors import staff_history, staff_list, staff_search
from roster.staff import STAFF_LABELS

from ..selectors import record_linkable
from .base import page, paginate, render_page

PEOPLE_PER_PAGE = 50
HISTORY_PER_PAGE = 50


def _row(scope: Scope, staff: Staff) -> dict[str, Any]:
    return {"staff": staff, "phone": scope.phone_for(staff), "record": record_linkable(scope, staff)}


@page(scoping.STAFF_READ)
@require_GET
def people_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    text = (request.GET.get("q") or "").strip()[:100]
    found = staff_search(scope.staff(staff_list()), text=text, by_phone=scope.sees_personal_data) if text else None
    results = paginate(request, found, per_page=PEOPLE_PER_PAGE) if found is not None else None
    context = {
        "q": text,
        "results": results,
        "rows": [_row(scope, s) for s in results.object_list] if results is not None else [],
        "show_phone": scope.sees_personal_data,
    }
    return render_page(request, scope, "web/people/search.html", context, section="people")


def _history_value(scope: Scope, staff: Staff, change: StaffChange, value: str) -> str:
    # ID numbers are kept masked in the history; a phone is shown as the caller may see it now
    if change.field == "phone" and value and scope.phone_for(staff) != staff.phone:
        return idnumbers.mask_phone(value)
    return value


@page(scoping.STAFF_READ)
@require_GET
def person_page(request: HttpRequest, staff_no: str, *, scope: Scope) -> HttpResponse:
    # outside a liaison's subtree: 404, as an unknown 工号
    staff = scope.get(scope.staff(staff_list()), staff_no=staff_no)
    history = paginate(request, staff_history(staff), per_page=HISTORY_PER_PAGE)
    context = {
        "person": _row(scope, staff),
        "id_number": scope.id_number_for(staff),
        "history": history,
        "changes": [
            {
                "change": c,
                "label": STAFF_LABELS.get(c.field, c.field),
                "old": _history_value(scope, staff, c, c.old_value),
                "new": _history_value(scope, staff, c, c.new_value),
            }
            for c in history.object_list
        ],
    }
    return render_page(request, scope, "web/people/person.html", context, section="people")
