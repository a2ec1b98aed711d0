"""Staff search and a person's page (hr and legal_office everywhere, a liaison within their
subtree): the details masked as the roles say, and the person's change history."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from access import scoping
from access.scoping import Scope
from exams.selectors import person_candidacies
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


# a run of 7 digits or more (a phone, an ID number, or a long part of one), looked for after
# NFKC with separators dropped: never taken from a URL
_LONG_DIGITS = re.compile(r"\d{7,}", re.ASCII)


def unsafe_in_url(text: str) -> bool:
    """Whether a search text is, or holds, what must not land in a URL (and so in access logs
    and the browser's history): a full phone or ID number. A 工号, a name, or the last 4 digits
    of a phone are fine."""
    compact = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))
    return bool(_LONG_DIGITS.search(compact))


@page(scoping.STAFF_READ)
@require_http_methods(["GET", "POST"])
def people_page(request: HttpRequest, *, scope: Scope) -> HttpResponse:
    """The search form posts (CSRF) so that what is typed, a phone as much as a name, stays out
    of the URL; its pages are posted too. A link such as ``?q=0101`` still works for a 工号, a
    name or the last 4 digits of a phone; a longer run of digits in a URL is not searched."""
    posted = request.method == "POST"
    source = request.POST if posted else request.GET
    text = (source.get("q") or "").strip()[:100]
    refused = False
    if text and not posted and unsafe_in_url(text):
        text, refused = "", True
    by_phone = scope.sees_personal_data
    if not posted:
        # in a URL a phone is accepted only as its last 4 digits
        by_phone = by_phone and len(re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))) == 4
    found = staff_search(scope.staff(staff_list()), text=text, by_phone=by_phone) if text else None
    if found is None:
        results = None
    elif posted:
        results = Paginator(found, PEOPLE_PER_PAGE).get_page(source.get("page"))
    else:
        results = paginate(request, found, per_page=PEOPLE_PER_PAGE)
    context = {
        "q": text,
        "posted": posted,
        "refused": refused,
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
    # the exams they are a candidate of, with the exemption corrections (exams.write)
    candidacies = list(person_candidacies(staff=staff)[:20]) if scope.can(scoping.EXAMS_WRITE) else []
    context = {
        "candidacies": candidacies,
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
