"""The unit dashboard, read from the reports app's snapshots: a liaison sees their subtree
only, others pick any unit; participation and pass rate per sub-unit, training figures, and
the time of the last recomputation."""

from __future__ import annotations

import pytest

from exams.models import Candidate
from reports.selectors import participation_latest
from reports.snapshots import snapshots_refresh
from roster.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots(exam, district):
    Candidate.objects.filter(exam=exam, staff__staff_no__in=[district.t1[0].staff_no, district.a[0].staff_no]).update(
        best_score=90, attempt_count=1, passed=True
    )
    return snapshots_refresh(everything=True)


def test_a_liaison_lands_on_their_unit_and_sees_its_sub_units_from_the_snapshots(personas, district, exam, snapshots):
    client = personas["liaison_t"].client()
    assert client.get("/units/")["Location"] == "/units/T/"
    page = client.get("/units/T/")
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    board = page.context["board"]
    stored = {r["unit_code"]: r for r in participation_latest(exam=exam, unit=Unit.objects.get(code="T"))}
    assert board.exam_total == stored["T"]
    assert [r["unit_code"] for r in board.exam_children] == ["T1"]
    assert board.exam_children[0]["participation_rate"] == pytest.approx(1 / 3)
    assert board.exam_computed_at == snapshots.computed_at
    assert "33.3%" in body and 'id="chart"' in body and "统计时间" in body
    assert f'/exams/{exam.pk}/not-sat/T/' in body
    assert "测试区财政局" not in body and "unit-pick" not in body


@pytest.mark.parametrize("code", ["A", "B", "D", "E", "NOPE"])
def test_a_liaison_typing_another_units_url_gets_404(personas, snapshots, code):
    assert personas["liaison_t"].client().get(f"/units/{code}/").status_code == 404


def test_the_office_and_viewers_pick_any_unit(personas, district, exam, snapshots):
    for persona in ("legal_office", "viewer"):
        client = personas[persona].client()
        assert client.get("/units/")["Location"] == "/units/D/"
        assert client.get("/units/?unit=B")["Location"] == "/units/B/"
        page = client.get("/units/D/")
        assert {r["unit_code"] for r in page.context["board"].exam_children} == {"A", "B", "T", "E"}
        assert '<option value="T1"' in page.content.decode()
    viewer = personas["viewer"].client().get("/units/D/").content.decode()
    assert "not-sat" not in viewer  # a viewer gets figures, no lists of people
    assert personas["hr"].client().get("/units/D/").status_code == 403


def test_training_figures_and_an_exam_without_snapshots(personas, district, exam):
    page = personas["legal_office"].client().get("/units/D/")
    body = page.content.decode()
    assert page.context["board"].exam_total is None and 'id="no-snapshot"' in body
    snapshots_refresh(everything=True)
    page = personas["legal_office"].client().get("/units/D/")
    assert page.context["board"].training_total["staff_below_hours"] == len(district.everybody)
    assert "未达 40 学时的在册人员" in page.content.decode()


def test_another_exam_is_picked_with_a_query(personas, district, exam, snapshots):
    from .conftest import open_exam

    other = open_exam("补考")
    snapshots_refresh(everything=True)
    client = personas["legal_office"].client()
    assert client.get("/units/D/").context["exam"] == other  # the open law exam opened last
    assert client.get(f"/units/D/?exam={exam.pk}").context["exam"] == exam
    assert client.get("/units/D/?exam=999999").status_code == 404


def test_dashboard_runs_a_fixed_number_of_queries(personas, district, exam, snapshots, django_assert_max_num_queries):
    client = personas["legal_office"].client()
    # (17: the year's hours targets per 人员类别 are read too)
    with django_assert_max_num_queries(17):
        small = client.get("/units/T/")
    with django_assert_max_num_queries(17):
        big = client.get("/units/D/")
    assert len(big.context["board"].exam_children) > len(small.context["board"].exam_children)
