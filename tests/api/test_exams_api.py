"""Exams through the API: the list and one exam, creating an exam (through exams.creation,
which enrols the audience), the figures of a subtree, the not-sat list with its downloads
and their audit records, and the uploads of exemptions (at once) and results (202, Celery)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from audit.models import AuditAction, AuditEvent
from config.jobs import JobStatus
from exams.models import Attempt, Candidate, Exam
from exams.selectors import exam_stats
from roster.models import Staff, Unit
from sheets.models import ImportKind, ImportRecord
from tests.api.conftest import EXEMPTION_HEADER, RESULT_HEADER, make_persona, result_rows
from tests.helpers import csv_bytes, people

pytestmark = pytest.mark.django_db

FIGURES = {"candidates", "exempt", "expected", "sat", "not_sat", "passed", "failed", "participation_rate",
           "pass_rate", "average_score"}


def masked(phone: str) -> str:
    return "*******" + phone[-4:]


# --- the list, one exam, creating ---------------------------------------------------------


def test_exam_list_and_detail_carry_no_figures_and_no_personal_data(personas, activity):
    body = personas["viewer"].client().get("/api/v1/exams/").json()
    assert body["count"] == 1
    assert body["results"][0] == personas["liaison_a"].client().get(f"/api/v1/exams/{activity.exam.pk}/").json()
    assert set(body["results"][0]) == {"id", "name", "year", "kind", "audience", "pass_mark", "max_score", "opens_on",
                                       "closes_on", "is_open", "makeup_of"}
    assert body["results"][0]["is_open"] is True


def test_exam_list_runs_a_fixed_number_of_queries(personas, activity, django_assert_max_num_queries):
    from exams.creation import exam_create

    client = personas["liaison_a"].client()
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/exams/").json()["count"] == 1
    for year in range(2010, 2030):
        exam_create(name=f"{year}年学法用法考试", year=year, kind="annual_law")
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/exams/?page_size=100").json()["count"] == 21


def test_exam_list_filters_by_year_and_kind(personas, activity):
    client = personas["legal_office"].client()
    assert client.get(f"/api/v1/exams/?year={activity.year}&kind=annual_law").json()["count"] == 1
    assert client.get(f"/api/v1/exams/?year={activity.year - 1}").json()["count"] == 0
    assert client.get("/api/v1/exams/?year=99999").status_code == 400
    assert client.get("/api/v1/exams/?year=").status_code == 400
    assert client.get("/api/v1/exams/?kind=quiz").status_code == 400


def test_legal_office_creates_an_exam_and_the_service_enrols_its_audience(personas, district):
    response = personas["legal_office"].client().post(
        "/api/v1/exams/", {"name": "执法资格考试", "year": 2026, "kind": "enforcement_qualification",
                           "opens_on": "2026-03-01", "closes_on": "2026-03-31"}, format="json")
    assert response.status_code == 201, response.content
    exam = Exam.objects.get(pk=response.json()["id"])
    assert response["Location"].endswith(f"/api/v1/exams/{exam.pk}/")
    assert exam.audience == "enforcement"  # the service's default for the kind
    everyone = personas["legal_office"].client().post(
        "/api/v1/exams/", {"name": "学法用法考试", "year": 2026, "kind": "annual_law"}, format="json").json()
    assert Candidate.objects.filter(exam_id=everyone["id"]).count() == Staff.objects.count() == 13
    assert (everyone["opens_on"], everyone["closes_on"], everyone["pass_mark"]) == ("2026-01-01", "2026-12-31", "60.00")


def test_exam_rules_of_the_service_answer_400_in_chinese(personas, district):
    client = personas["legal_office"].client()
    body = {"name": "学法用法考试", "year": 2026, "kind": "annual_law"}
    assert client.post("/api/v1/exams/", body, format="json").status_code == 201
    again = client.post("/api/v1/exams/", body, format="json")
    assert again.status_code == 409 and "已有同名考试" in again.json()["detail"]
    late = client.post("/api/v1/exams/", {**body, "name": "补考", "pass_mark": "120"}, format="json")
    assert late.status_code == 400 and "合格分数线" in late.json()["detail"]
    backwards = client.post("/api/v1/exams/", {**body, "name": "倒序", "opens_on": "2026-05-01",
                                              "closes_on": "2026-04-01"}, format="json")
    assert backwards.status_code == 400 and "开考日期" in backwards.json()["detail"]
    assert Exam.objects.count() == 1


@pytest.mark.parametrize("role", ["hr", "liaison_a", "viewer"])
def test_only_the_legal_office_creates_exams(role, personas, district):
    response = personas[role].client().post("/api/v1/exams/", {"name": "x", "year": 2026, "kind": "annual_law"},
                                            format="json")
    assert response.status_code == 403
    assert not Exam.objects.exists()


# --- figures ------------------------------------------------------------------------------


def test_stats_are_the_figures_of_exam_stats_for_the_whole_exam_or_a_subtree(personas, activity, units):
    client = personas["legal_office"].client()
    whole = client.get(f"/api/v1/exams/{activity.exam.pk}/stats/").json()
    assert whole == {"exam_id": activity.exam.pk, "unit": None, **exam_stats(exam=activity.exam)}
    assert FIGURES <= set(whole)
    assert (whole["candidates"], whole["exempt"], whole["expected"], whole["sat"], whole["passed"]) == (13, 1, 12, 4, 3)
    town = client.get(f"/api/v1/exams/{activity.exam.pk}/stats/?unit=T").json()
    assert town == {"exam_id": activity.exam.pk, "unit": "T", **exam_stats(exam=activity.exam, unit=units["T"])}
    assert (town["expected"], town["sat"], town["participation_rate"]) == (3, 1, 1 / 3)


def test_a_liaison_gets_their_subtree_figures_and_404_for_another(personas, activity, units):
    client = personas["liaison_a"].client()
    own = client.get(f"/api/v1/exams/{activity.exam.pk}/stats/").json()
    assert own == {"exam_id": activity.exam.pk, "unit": "A", **exam_stats(exam=activity.exam, unit=units["A"])}
    assert (own["expected"], own["sat"], own["passed"], own["average_score"]) == (5, 2, 1, 65.0)
    for code in ("B", "T", "D", "NOPE"):
        response = client.get(f"/api/v1/exams/{activity.exam.pk}/stats/?unit={code}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_viewer_reads_figures_everywhere(personas, activity):
    response = personas["viewer"].client().get(f"/api/v1/exams/{activity.exam.pk}/stats/?unit=B")
    assert response.status_code == 200 and response.json()["sat"] == 1


def test_stats_follow_the_roster_while_the_exam_is_open(personas, activity, district):
    """Like the command line, the figures are current: a joiner is enrolled before counting."""
    from roster.sync import roster_sync, roster_sync_create

    newcomer = people(1, "A", start=9)
    assert roster_sync(sync=roster_sync_create(file=csv_bytes(newcomer), file_name="r.csv", mode="partial")).applied
    body = personas["liaison_a"].client().get(f"/api/v1/exams/{activity.exam.pk}/stats/").json()
    assert body["candidates"] == 7 and body["not_sat"] == 4


def test_the_roster_check_of_an_open_exam_runs_once_per_window(personas, activity):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def roster_checks() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert personas["viewer"].client().get(f"/api/v1/exams/{activity.exam.pk}/stats/").status_code == 200
        return sum(1 for q in ctx.captured_queries if 'MAX("roster_staff"."updated_at")' in q["sql"])

    assert roster_checks() == 1
    assert roster_checks() == 0  # within API_EXAM_REFRESH_SECONDS
    cache.clear()
    assert roster_checks() == 1


def test_a_committed_roster_change_shows_at_once_within_the_window(personas, activity,
                                                                    django_capture_on_commit_callbacks):
    """The roster's own commit refreshes open exams; the API's check is only the safety net."""
    from roster.sync import roster_sync, roster_sync_create

    client = personas["liaison_a"].client()
    assert client.get(f"/api/v1/exams/{activity.exam.pk}/stats/").json()["candidates"] == 6
    with django_capture_on_commit_callbacks(execute=True):
        sync = roster_sync_create(file=csv_bytes(people(2, "A", start=700)), file_name="r.csv", mode="partial")
        assert roster_sync(sync=sync).applied
    assert client.get(f"/api/v1/exams/{activity.exam.pk}/stats/").json()["candidates"] == 8
    assert not_sat(client, activity.exam).json()["count"] == 5


# --- not sat ------------------------------------------------------------------------------


def not_sat(client, exam: Exam, query: str = ""):
    return client.get(f"/api/v1/exams/{exam.pk}/not-sat/{query}")


def test_not_sat_lists_the_columns_of_the_command_sorted_by_unit_then_staff_no(personas, activity, district):
    body = not_sat(personas["legal_office"].client(), activity.exam).json()
    assert body["count"] == 8
    rows = body["results"]
    assert [r["staff_no"] for r in rows] == ["0004", "0005", "0006", "0102", "0103", "0104", "0202", "0203"]
    first = district.a[3]
    assert rows[0] == {"staff_no": first.staff_no, "name": first.name, "unit_code": "A", "unit_name": "测试区财政局",
                       "position": "科员", "phone": first.phone}


def test_a_liaison_sees_their_subtree_with_full_phones_and_404_for_another_unit(personas, activity, district):
    client = personas["liaison_b"].client()
    rows = not_sat(client, activity.exam).json()["results"]
    assert {r["staff_no"] for r in rows} == {"0102", "0103", "0104"}
    by_no = {p.staff_no: p for p in district.b}
    assert all(r["phone"] == by_no[r["staff_no"]].phone for r in rows)
    assert not_sat(client, activity.exam, "?unit=B").json()["count"] == 3
    assert not_sat(client, activity.exam, "?unit=A").status_code == 404
    assert not_sat(client, activity.exam, "?unit=D").status_code == 404


def test_a_phone_is_masked_for_a_liaison_when_the_person_has_moved_out_of_their_subtree(personas, activity, units):
    """The list follows the candidate's unit for the exam; the phone follows the person's own
    unit now (as on the staff endpoints)."""
    from exams.models import Candidate

    mover = Staff.objects.get(staff_no="0004")
    Staff.objects.filter(pk=mover.pk).update(unit=units["B"])
    # the exam has closed: the candidate keeps unit A
    Exam.objects.filter(pk=activity.exam.pk).update(opens_on="2020-01-01", closes_on="2020-12-31")
    assert Candidate.objects.get(exam=activity.exam, staff=mover).unit.code == "A"
    rows = not_sat(personas["liaison_a"].client(), activity.exam).json()["results"]
    shown = {r["staff_no"]: r["phone"] for r in rows}
    assert shown["0004"] == masked(mover.phone) and shown["0005"] == Staff.objects.get(staff_no="0005").phone


@pytest.mark.parametrize("role", ["viewer", "hr"])
def test_not_sat_is_refused_to_roles_without_personal_data_of_candidates(role, personas, activity):
    assert not_sat(personas[role].client(), activity.exam).status_code == 403


def test_not_sat_of_an_unknown_exam_is_404(personas, activity):
    assert personas["legal_office"].client().get("/api/v1/exams/999999/not-sat/").status_code == 404


def test_not_sat_csv_download_is_the_commands_csv_with_an_audit_record(personas, activity):
    response = not_sat(personas["liaison_a"].client(), activity.exam, "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    assert 'attachment; filename="not-sat-' in response["Content-Disposition"]
    assert response.streaming  # read and written in pieces: a city's list does not sit in memory
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["staff_no"] for r in rows] == ["0004", "0005", "0006"]
    assert list(rows[0]) == ["staff_no", "name", "unit_code", "unit_name", "position", "phone"]
    audit = AuditEvent.objects.get()
    assert (audit.action, audit.rows, audit.username) == (AuditAction.EXPORT, 3, "liaison_a")
    assert audit.target == f"exam:{activity.exam.pk}:not_sat:A"
    assert audit.reason == "接口下载未参考人员名单（csv）"  # the why, as the web download says its own


def test_not_sat_xlsx_download_with_an_audit_record(personas, activity, district):
    response = not_sat(personas["legal_office"].client(), activity.exam, "?format=xlsx&unit=T")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["工号", "姓名", "单位代码", "单位名称", "职务", "手机号"]
    assert [v[0] for v in values[1:]] == ["0202", "0203"]
    assert values[1][5] == district.t1[1].phone
    audit = AuditEvent.objects.get()
    assert (audit.rows, audit.target) == (2, f"exam:{activity.exam.pk}:not_sat:T")


def test_json_pages_write_no_audit_record_and_a_bad_format_is_400(personas, activity):
    client = personas["legal_office"].client()
    assert not_sat(client, activity.exam).status_code == 200
    assert not_sat(client, activity.exam, "?format=pdf").status_code == 400
    assert not AuditEvent.objects.exists()


def test_not_sat_pages_run_a_fixed_number_of_queries(personas, activity, django_assert_max_num_queries):
    from exams.models import Candidate

    client = personas["liaison_a"].client()
    with django_assert_max_num_queries(6):
        small = not_sat(client, activity.exam, "?page_size=500").json()
    # forty more people of A not sat: the same number of queries
    extra = people(40, "A", start=600)
    from roster.sync import roster_sync, roster_sync_create

    assert roster_sync(sync=roster_sync_create(file=csv_bytes(extra), file_name="r.csv", mode="partial")).applied
    from exams.enrolment import exams_refresh_open

    exams_refresh_open()
    assert Candidate.objects.filter(exam=activity.exam).count() == 53
    with django_assert_max_num_queries(6):
        large = not_sat(client, activity.exam, "?page_size=500").json()
    assert (small["count"], large["count"]) == (3, 43)


# --- uploads ------------------------------------------------------------------------------


def upload(data: bytes, name: str = "file.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_exemptions_upload_runs_the_import_exemptions_service_at_once(personas, activity, district):
    person = district.b[2]
    data = csv_bytes([[person.staff_no, "", person.name, "援藏"], ["9999", "", "外人", "调离"]], header=EXEMPTION_HEADER)
    response = personas["legal_office"].client().post(
        f"/api/v1/exams/{activity.exam.pk}/exemptions/", {"file": upload(data, "免考.csv")}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith(f"/api/v1/imports/{body['id']}/")
    assert (body["kind"], body["status"], body["target_id"]) == ("exam_exemptions", "succeeded", activity.exam.pk)
    assert body["counts"]["applied"] == 1 and body["counts"]["unmatched"] == 1
    assert body["problems"][0]["kind"] == "unmatched" and body["problems"][0]["row"] == 3
    assert Candidate.objects.get(exam=activity.exam, staff__staff_no=person.staff_no).exempt_reason == "援藏"
    # the record is the same the command line leaves, its file dropped afterwards
    record = ImportRecord.objects.get(pk=body["id"])
    assert record.started_by == personas["legal_office"].user and not record.source_file


def test_an_unreadable_exemptions_file_is_400_with_the_problem(personas, activity):
    response = personas["legal_office"].client().post(
        f"/api/v1/exams/{activity.exam.pk}/exemptions/", {"file": upload(b"\x00\x01garbage", "x.xlsx")},
        format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_results_upload_answers_202_with_the_queued_record_and_runs_after_commit(
        personas, activity, district, django_capture_on_commit_callbacks):
    person = district.a[3]
    data = csv_bytes(result_rows([(person, 77), (district.b[1], "缺考")]), header=RESULT_HEADER)
    client = personas["legal_office"].client()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/api/v1/exams/{activity.exam.pk}/results/", {"file": upload(data)}, format="multipart")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["kind"] == "exam_results" and body["target_id"] == activity.exam.pk
    assert response["Location"].endswith(f"/api/v1/imports/{body['id']}/")
    assert not Attempt.objects.filter(candidate__staff__staff_no=person.staff_no).exists()
    assert callbacks, "the work is enqueued on commit"
    for callback in callbacks:
        callback()  # the commit: eager Celery runs the task here
    status = client.get(f"/api/v1/imports/{body['id']}/").json()
    assert status["status"] == JobStatus.SUCCEEDED
    assert status["counts"]["applied"] == 1 and status["counts"]["absent"] == 1
    assert status["progress"] == {"done": 2, "total": 2}
    assert Candidate.objects.get(exam=activity.exam, staff__staff_no=person.staff_no).best_score == 77


def test_strict_results_upload_applies_nothing_when_a_row_has_a_problem(
        personas, activity, district, django_capture_on_commit_callbacks):
    data = csv_bytes(result_rows([(district.a[4], 60), (district.a[5], 250)]), header=RESULT_HEADER)
    with django_capture_on_commit_callbacks(execute=True):
        response = personas["legal_office"].client().post(
            f"/api/v1/exams/{activity.exam.pk}/results/", {"file": upload(data), "strict": "true"}, format="multipart")
    assert response.status_code == 202
    record = ImportRecord.objects.get(pk=response.json()["id"])
    assert record.status == JobStatus.REFUSED and record.options == {"strict": True}
    assert record.problems[0]["row"] == 3 and record.problems[0]["kind"] == "invalid"
    assert not Candidate.objects.filter(exam=activity.exam, staff__staff_no=district.a[4].staff_no,
                                        best_score__isnull=False).exists()


@pytest.mark.parametrize("path", ["exemptions", "results"])
def test_uploads_keep_the_size_limit_of_every_import(path, personas, activity, settings):
    settings.SHEETS_MAX_BYTES = 100
    response = personas["legal_office"].client().post(
        f"/api/v1/exams/{activity.exam.pk}/{path}/", {"file": upload(b"x" * 101)}, format="multipart")
    assert response.status_code == 400 and "文件超过大小上限" in str(response.json()["errors"])
    assert not ImportRecord.objects.filter(kind__in=[ImportKind.EXAM_RESULTS, ImportKind.EXAM_EXEMPTIONS],
                                           target_id=activity.exam.pk, started_by__isnull=False).exists()


@pytest.mark.parametrize("path", ["exemptions", "results"])
def test_a_liaison_may_not_upload_exam_files(path, personas, activity):
    response = personas["liaison_a"].client().post(
        f"/api/v1/exams/{activity.exam.pk}/{path}/", {"file": upload(b"a,b\n")}, format="multipart")
    assert response.status_code == 403


def test_a_liaison_of_a_town_sees_the_town_and_its_sub_units(activity, units):
    town = make_persona("town", "liaison", "T")
    rows = not_sat(town.client(), activity.exam).json()["results"]
    assert {r["unit_code"] for r in rows} == {"T1"}
    assert Unit.objects.get(code="T1").parent.code == "T"


@pytest.mark.parametrize("path", [
    "/api/v1/exams/{n}/", "/api/v1/exams/{n}/stats/", "/api/v1/exams/{n}/not-sat/",
    "/api/v1/events/{n}/attendance/", "/api/v1/stats/participation/?exam={n}", "/api/v1/exams/x{n}/",
])
def test_ids_beyond_any_column_answer_404_or_400_never_500(path, personas, activity):
    response = personas["legal_office"].client().get(path.format(n=10**30))
    assert response.status_code in (400, 404)
