"""Scoped offices (issue 18): ``set_role USER hr|legal_office --unit CODE`` gives the role within
that unit's subtree only. The district (tests/helpers): D > A, B, T > T1, E > S1; the offices
here are scoped to the town T (whose one sub-unit T1 holds three people)."""

from __future__ import annotations

import pytest

from access.models import Role, UserRole
from access.scoping import scope_for
from exams.imports import exam_import_create, exam_import_run
from exams.models import Candidate, Exam
from roster.models import RosterSync, Staff, Unit
from roster.sync import roster_sync, roster_sync_create
from sheets.models import ImportKind
from tests.api.conftest import RESULT_HEADER, make_persona, result_rows
from tests.helpers import Person, csv_bytes, new_id, people, run_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def scoped(units, district):
    return {
        "hr": make_persona("city_hr", "hr", "T"),
        "legal": make_persona("city_legal", "legal_office", "T"),
        "legal_a": make_persona("a_legal", "legal_office", "A"),
    }


def _sync(data: bytes, *, root: Unit | None, **options):
    return roster_sync(sync=roster_sync_create(file=data, file_name="t.csv", root=root, **options))


# --- set_role ------------------------------------------------------------------------------


def test_set_role_unit_scopes_an_office_and_without_it_the_office_works_everywhere(units):
    outcome = run_command("set_role", "city", "legal_office", "--unit", "T", "--json")
    assert outcome.code == 0, outcome.err
    role = UserRole.objects.select_related("unit").get(user__username="city")
    assert (role.role, role.unit.code) == (Role.LEGAL_OFFICE, "T")
    scope = scope_for(role.user)
    assert not scope.everywhere and scope.unit.code == "T" and scope.write_root.code == "T"
    assert set(scope.units().values_list("code", flat=True)) == {"T", "T1"}

    run_command("set_role", "city", "legal_office")
    role.refresh_from_db()
    assert role.unit is None
    role.user.refresh_from_db()
    assert scope_for(role.user).everywhere and scope_for(role.user).write_root is None

    assert run_command("set_role", "hrt", "hr", "--unit", "T").code == 0
    assert UserRole.objects.get(user__username="hrt").unit.code == "T"
    refused = run_command("set_role", "v", "viewer", "--unit", "T")
    assert refused.code == 1 and "只有单位联络员（liaison）、法治办（legal_office）和人事部门（hr）可以用 --unit" in refused.err


# --- roster syncs ----------------------------------------------------------------------------


def test_scoped_full_sync_refuses_a_row_outside_its_subtree(units, district):
    t = Unit.objects.get(code="T")
    outsider = Person(f"N{new_id()[-6:]}", "外单位新人", new_id(), "A")
    rows = [*district.t1, outsider]
    before = list(Staff.objects.order_by("pk").values_list("staff_no", "unit__code", "is_active"))
    result = _sync(csv_bytes(rows), root=t)
    assert not result.applied and result.status == "refused"
    [error] = [e for e in result.errors if e["row"] is not None]
    assert error["row"] == 5 and error["value"] == "A"
    assert "不在您负责的范围（“测试镇”（T）及其下级单位）内" in error["message"]
    assert list(Staff.objects.order_by("pk").values_list("staff_no", "unit__code", "is_active")) == before

    # skipping the bad row applies the rest, and the outsider is not created
    skipped = _sync(csv_bytes(rows), root=t, skip_invalid=True)
    assert skipped.applied and skipped.rejected == 1 and skipped.unchanged == 3
    assert not Staff.objects.filter(staff_no=outsider.staff_no).exists()


def test_scoped_sync_cannot_take_a_person_from_outside(units, district):
    """A row in the subtree naming the staff number of someone elsewhere would move them in."""
    t = Unit.objects.get(code="T")
    a0 = district.a[0]
    moved = Person(a0.staff_no, a0.name, a0.id_number, "T1", phone=a0.phone)
    result = _sync(csv_bytes([*district.t1, moved]), root=t, mode="partial")
    assert not result.applied
    assert [(e["row"], e["message"]) for e in result.errors if e["row"]] == [
        (5, "该工号的人员属于您负责范围以外的单位，本行不能同步。")]
    assert Staff.objects.get(staff_no=a0.staff_no).unit.code == "A"
    # the same file unscoped (the command line, an hr office everywhere) moves them
    assert _sync(csv_bytes([*district.t1, moved]), root=None, mode="partial").applied
    assert Staff.objects.get(staff_no=a0.staff_no).unit.code == "T1"


def test_scoped_full_sync_deactivates_only_inside_its_subtree(units, district):
    t = Unit.objects.get(code="T")
    newcomer = people(1, "T", start=900)
    # the file holds two of T1's three people and a newcomer of T: nobody of A or B is named
    result = _sync(csv_bytes([*district.t1[:2], *newcomer]), root=t, allow_mass_deactivation=True)
    assert result.applied, result.errors
    assert (result.created, result.unchanged, result.deactivated) == (1, 2, 1)
    inactive = set(Staff.objects.filter(is_active=False).values_list("staff_no", flat=True))
    assert inactive == {district.t1[2].staff_no}
    assert Staff.objects.filter(is_active=True, unit__code__in=["A", "B"]).count() == 10
    # the same file synced everywhere would have deactivated A's and B's people
    assert _sync(csv_bytes([*district.t1[:2], *newcomer]), root=None, dry_run=True,
                 allow_mass_deactivation=True).deactivated == 10


def test_the_mass_deactivation_guard_counts_the_subtree(units, district):
    t = Unit.objects.get(code="T")
    # one of T's three active people gone is a third of the subtree: over the guard's ratio
    result = _sync(csv_bytes(district.t1[:2]), root=t)
    assert not result.applied and "本次将停用 1 人，占在册人员的 33.3%" in result.message


def test_api_sync_of_a_scoped_hr_carries_its_root_and_only_it_reads_it(scoped, personas, district,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = scoped["hr"].client().post(
            "/api/v1/roster/syncs/",
            {"file": _upload(csv_bytes(district.t1 + [Person("N9999", "外人", new_id(), "B")])), "dry_run": "true"},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    sync = RosterSync.objects.get(pk=response.json()["id"])
    sync.refresh_from_db()
    assert sync.root.code == "T" and sync.status == "refused"
    body = scoped["hr"].client().get(f"/api/v1/roster/syncs/{sync.pk}/").json()
    assert [e["row"] for e in body["errors"] if e["row"]] == [5]
    assert personas["hr"].client().get(f"/api/v1/roster/syncs/{sync.pk}/").status_code == 200
    # a sync of the whole roster is not the town's
    whole = roster_sync_create(file=csv_bytes(district.a), file_name="all.csv")
    assert scoped["hr"].client().get(f"/api/v1/roster/syncs/{whole.pk}/").status_code == 404


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("t.csv", data, content_type="text/csv")


# --- a scoped legal-affairs office's figures, lists, events, report ---------------------------


def test_scoped_legal_sees_only_its_subtrees_figures_and_not_sat(scoped, activity, district):
    client = scoped["legal"].client()
    exam = activity.exam
    stats = client.get(f"/api/v1/exams/{exam.pk}/stats/")
    assert stats.status_code == 200
    # T1: 0201 sat, 0202 and 0203 did not
    assert (stats.json()["unit"], stats.json()["candidates"], stats.json()["sat"]) == ("T", 3, 1)
    assert client.get(f"/api/v1/exams/{exam.pk}/stats/?unit=A").status_code == 404
    not_sat = client.get(f"/api/v1/exams/{exam.pk}/not-sat/")
    assert {r["staff_no"] for r in not_sat.json()["results"]} == {p.staff_no for p in district.t1[1:]}
    assert client.get(f"/api/v1/exams/{exam.pk}/not-sat/?unit=B").status_code == 404
    participation = client.get("/api/v1/stats/participation/").json()["results"]
    assert {r["unit_code"] for r in participation} <= {"T", "T1"} and participation
    staff = client.get("/api/v1/staff/").json()["results"]
    assert {s["staff_no"] for s in staff} == {p.staff_no for p in district.t1}
    assert client.get(f"/api/v1/staff/{district.a[0].staff_no}/record/").status_code == 404


def test_scoped_legal_reads_the_events_of_its_subtree_and_runs_only_its_own(scoped, activity):
    client = scoped["legal"].client()
    events = activity.events
    listed = {e["id"] for e in client.get("/api/v1/events/").json()["results"]}
    # A's and D's are meant for the whole district; B's only for B's people
    assert listed == {events["a"].pk, events["d"].pk}
    assert client.get(f"/api/v1/events/{events['b'].pk}/attendance/").status_code == 404
    rows = client.get(f"/api/v1/events/{events['d'].pk}/attendance/").json()["results"]
    assert {r["unit"] for r in rows} == {"T1"}
    # it runs none of them (organised outside T), and a new event must be organised inside T
    assert client.patch(f"/api/v1/events/{events['a'].pk}/", {"title": "改", "reason": "x"},
                        format="json").status_code == 404
    body = {"title": "镇普法讲座", "kind": "lecture", "date": "2026-05-01", "hours": "1"}
    assert client.post("/api/v1/events/", {**body, "organiser": "A"}, format="json").status_code == 400
    created = client.post("/api/v1/events/", {**body, "organiser": "T1"}, format="json")
    assert created.status_code == 201, created.content


def test_scoped_legal_reads_its_subtrees_annual_report(scoped, activity):
    body = scoped["legal"].client().get(f"/api/v1/reports/annual/{activity.year}/").json()
    assert body["unit"]["code"] == "T"
    assert scoped["hr"].client().get(f"/api/v1/reports/annual/{activity.year}/").status_code == 403


# --- exams created by a scoped office -------------------------------------------------------


def test_an_exam_a_scoped_legal_creates_enrols_only_its_subtree(scoped, district, personas):
    client = scoped["legal"].client()
    response = client.post("/api/v1/exams/", {"name": "镇考试", "year": 2026, "kind": "annual_law"}, format="json")
    assert response.status_code == 201, response.content
    exam = Exam.objects.get(pk=response.json()["id"])
    assert exam.owner.code == "T"
    enrolled = set(Candidate.objects.filter(exam=exam).values_list("staff__staff_no", flat=True))
    assert enrolled == {p.staff_no for p in district.t1}
    # another city's office neither sees nor changes it; the office everywhere does both
    other = scoped["legal_a"].client()
    assert other.get(f"/api/v1/exams/{exam.pk}/").status_code == 404
    assert exam.pk not in {e["id"] for e in other.get("/api/v1/exams/").json()["results"]}
    assert personas["legal_office"].client().get(f"/api/v1/exams/{exam.pk}/").status_code == 200
    # an exam of everyone is read by the scoped office, but it is not its own to change
    everyone = Exam.objects.exclude(pk=exam.pk).first() or Exam.objects.create(
        name="全区考试", year=2026, kind="annual_law", opens_on="2026-01-01", closes_on="2026-12-31")
    assert client.get(f"/api/v1/exams/{everyone.pk}/").status_code == 200
    assert client.patch(f"/api/v1/exams/{everyone.pk}/", {"name": "改名", "reason": "x"},
                        format="json").status_code == 404
    # a result of someone outside the subtree is a problem row; it enrols nobody
    record = exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS,
        file=csv_bytes(result_rows([(district.t1[0], 80), (district.a[0], 90)]), header=RESULT_HEADER),
        file_name="r.csv"))
    assert (record.applied, record.unmatched) == (1, 1)
    assert [(p["row"], p["message"]) for p in record.errors] == [
        (3, "“测试镇”（T）及其下级单位的名册中找不到此人，未导入。")]
    # exactly as for a staff number nobody has: nothing tells the office who is outside
    assert all(p["value"] == "" for p in record.errors)
    assert not Candidate.objects.filter(exam=exam, staff__staff_no=district.a[0].staff_no).exists()


def test_a_scoped_legals_certificate_import_refuses_people_outside(scoped, district):
    from django.core.files.uploadedfile import SimpleUploadedFile

    inside, outside = district.t1[0], district.a[0]
    rows = [[p.name, "", p.staff_no, f"证{p.staff_no}", "执法证", "2024-01-01", "2030-01-01"] for p in (inside, outside)]
    data = csv_bytes(rows, header=["姓名", "身份证号", "工号", "证件号", "证件类型", "发证日期", "有效期至"])
    response = scoped["legal"].client().post(
        "/api/v1/certificates/imports/", {"file": SimpleUploadedFile("c.csv", data, content_type="text/csv")},
        format="multipart")
    assert response.status_code == 201, response.content
    from certificates.models import Certificate

    assert set(Certificate.objects.values_list("staff__staff_no", flat=True)) == {inside.staff_no}
    body = scoped["legal"].client().get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert [e["row"] for e in body["problems"]] == [3]
    assert body["problems"][0]["message"] == "“测试镇”（T）及其下级单位的名册中找不到此人，未导入。"
    assert outside.staff_no not in response.content.decode() + str(body)


def test_an_exemption_by_hand_outside_an_owned_exams_subtree_is_refused(scoped, district, personas):
    exam = scoped["legal"].client().post(
        "/api/v1/exams/", {"name": "镇考试", "year": 2026, "kind": "annual_law"}, format="json").json()
    # the office everywhere names one of A's people for the town's exam: a Chinese 400, nobody enrolled
    response = personas["legal_office"].client().post(
        f"/api/v1/exams/{exam['id']}/exemptions/", {"staff_no": district.a[0].staff_no, "reason": "借调"},
        format="json")
    assert response.status_code == 400 and "不在本考试的范围（测试镇及其下级单位）内" in response.json()["detail"]
    assert not Candidate.objects.filter(exam_id=exam["id"], staff__staff_no=district.a[0].staff_no).exists()
