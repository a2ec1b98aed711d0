"""Make-up exams through the API: ``makeup_of`` on create and read, the main exam's stats
with the make-up folded in and its own figures beside, and the folded not-sat list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from exams.imports import exam_import_create, exam_import_run
from exams.models import Candidate, Exam
from exams.selectors import exam_stats
from roster.models import Unit
from sheets.models import ImportKind
from tests.api.conftest import RESULT_HEADER, result_rows
from tests.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def _create_makeup(client, main, **changes):
    today = timezone.localdate()
    body = {"name": "学法用法补考", "year": main.year, "kind": main.kind, "makeup_of": main.pk,
            "opens_on": str(today), "closes_on": str(today + dt.timedelta(days=20)), **changes}
    return client.post("/api/v1/exams/", body, format="json")


@pytest.fixture
def makeup(personas, activity, district):
    response = _create_makeup(personas["legal_office"].client(), activity.exam)
    assert response.status_code == 201, response.content
    exam = Exam.objects.get(pk=response.json()["id"])
    a = district.a
    record = exam_import_create(exam=exam, kind=ImportKind.EXAM_RESULTS, file_name="makeup.csv",
                                file=csv_bytes(result_rows([(a[1], 70), (a[3], 60)]), header=RESULT_HEADER))
    assert exam_import_run(record=record).applied == 2
    return exam


def test_makeup_of_is_written_and_read_and_the_audience_is_who_owes_the_main_exam(personas, activity, makeup):
    client = personas["legal_office"].client()
    assert client.get(f"/api/v1/exams/{makeup.pk}/").json()["makeup_of"] == activity.exam.pk
    assert client.get(f"/api/v1/exams/{activity.exam.pk}/").json()["makeup_of"] is None
    # 12 expected in the main exam, 3 passed it (0001, 0101, 0201)
    assert set(Candidate.objects.filter(exam=makeup).values_list("staff__staff_no", flat=True)) == {
        "0002", "0004", "0005", "0006", "0102", "0103", "0104", "0202", "0203"}


def test_a_bad_makeup_of_is_a_400_in_chinese(personas, activity, makeup):
    client = personas["legal_office"].client()
    other_kind = _create_makeup(client, activity.exam, name="资格补考", kind="enforcement_qualification")
    assert other_kind.status_code == 400 and "考试类型" in other_kind.json()["detail"]
    second = _create_makeup(client, activity.exam, name="第二次补考")
    assert second.status_code == 409 and "已有补考" in second.json()["detail"]
    of_makeup = _create_makeup(client, makeup, name="补考的补考")
    assert of_makeup.status_code == 400 and "本身是补考" in of_makeup.json()["detail"]
    assert _create_makeup(client, activity.exam, name="文本", makeup_of=str(activity.exam.pk)).status_code == 400
    assert Exam.objects.count() == 2


def test_stats_fold_the_makeup_in_and_show_its_own_figures_beside(personas, activity, makeup):
    whole = personas["viewer"].client().get(f"/api/v1/exams/{activity.exam.pk}/stats/").json()
    # 0002 passed the make-up, 0004 sat only the make-up
    assert (whole["expected"], whole["sat"], whole["passed"]) == (12, 5, 5)
    assert whole["makeup"] == {"exam_id": makeup.pk, "name": "学法用法补考", **exam_stats(exam=makeup)}
    a = personas["liaison_a"].client().get(f"/api/v1/exams/{activity.exam.pk}/stats/").json()
    assert a["unit"] == "A" and (a["sat"], a["makeup"]["sat"]) == (3, 2)
    assert a["makeup"]["expected"] == exam_stats(exam=makeup, unit=Unit.objects.get(code="A"))["expected"] == 4
    own = personas["viewer"].client().get(f"/api/v1/exams/{makeup.pk}/stats/").json()
    assert own["makeup_of"] == activity.exam.pk and "makeup" not in own


def test_the_not_sat_list_of_the_main_exam_leaves_out_those_who_sat_the_makeup(personas, activity, makeup):
    body = personas["legal_office"].client().get(f"/api/v1/exams/{activity.exam.pk}/not-sat/?page_size=100").json()
    assert {e["staff_no"] for e in body["results"]} == {"0005", "0006", "0102", "0103", "0104", "0202", "0203"}
