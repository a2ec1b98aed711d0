"""The annual_report and refresh_snapshots commands, the annual report as a background job,
the admin pages and the demo."""

from __future__ import annotations

import io
import json

import pytest

from config.jobs import jobs_redispatch_stale
from reports.annual import annual_report_build, annual_report_job_create
from reports.models import AnnualReport, ExamSnapshot, SnapshotRun, TrainingSnapshot
from reports.snapshots import snapshots_refresh
from tests.helpers import run_command, stored_upload

pytestmark = pytest.mark.django_db


def test_annual_report_prints_the_json_to_standard_output(district):
    done = run_command("annual_report", district.year)
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert report == json.loads(json.dumps(annual_report_build(year=district.year)))


@pytest.mark.parametrize("fmt, magic", [("json", b"{"), ("xlsx", b"PK"), ("docx", b"PK"), ("png", b"\x89PNG")])
def test_annual_report_writes_each_format_to_the_file_given(district, tmp_path, fmt, magic):
    import os

    from .test_formats import cjk_font_available

    if fmt in ("docx", "png") and not cjk_font_available() and not os.environ.get("CI_REQUIRE_BROWSER"):
        pytest.skip("缺少中文字体 fonts-wqy-microhei（文泉驿微米黑）；CI 会安装它")
    target = tmp_path / f"report.{fmt}"
    done = run_command("annual_report", district.year, "--format", fmt, "-o", target)
    assert done.code == 0, done.err
    assert target.read_bytes().startswith(magic)
    assert str(target) in done.out


@pytest.mark.parametrize("args, message", [
    (["20x4"], "年度“20x4”无效"),
    (["1999"], "年度“1999”无效"),
    (["2024", "--format", "pdf"], "格式“pdf”无效"),
    (["2024", "--format", "xlsx", "-o", "/nonexistent-dir/r.xlsx"], "不存在"),
])
def test_annual_report_refuses_bad_arguments_in_one_chinese_line(units, args, message):
    done = run_command("annual_report", *args)
    assert done.code == 1 and message in done.err and "Traceback" not in done.err


def test_refresh_snapshots_recomputes_everything_and_says_so(district):
    done = run_command("refresh_snapshots", "--all", "--json")
    assert done.code == 0, done.err
    payload = done.json()
    assert (payload["exams"], payload["years"], payload["rows"]) == ([district.exam.pk], [district.year], 28)
    assert ExamSnapshot.objects.count() == TrainingSnapshot.objects.count() == 14
    assert "已重算 1 个考试" in run_command("refresh_snapshots", "--exam", district.exam.pk).out


def test_refresh_snapshots_needs_a_scope_and_a_known_exam(units):
    assert "请指定" in run_command("refresh_snapshots").err
    done = run_command("refresh_snapshots", "--exam", "999")
    assert done.code == 1 and "考试不存在：999" in done.err


def test_the_annual_report_job_builds_the_file_after_commit(district, django_capture_on_commit_callbacks, settings,
                                                            tmp_path):
    from openpyxl import load_workbook

    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        job = annual_report_job_create(year=district.year, format="xlsx")
        assert AnnualReport.objects.get(pk=job.pk).status == "queued"
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert job.report["narrative"].startswith("组织测试区各部门") and job.file_name == f"annual-report-{district.year}.xlsx"
    with job.file.open("rb") as handle:
        data = handle.read()
    assert len(data) == job.size and load_workbook(io.BytesIO(data)).sheetnames[0] == "概况"
    assert stored_upload(job.file).exists()


def test_a_lost_annual_report_job_is_sent_again_by_the_sweeper(district, settings, tmp_path):
    import datetime as dt

    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path
    job = AnnualReport.objects.create(year=district.year, format="json")
    AnnualReport.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert jobs_redispatch_stale()["annual_report"] == 1
    job.refresh_from_db()
    assert job.status == "succeeded" and job.report["year"] == district.year


def test_an_annual_report_job_for_a_bad_year_is_refused_at_once(units):
    from config.errors import DomainError

    with pytest.raises(DomainError):
        annual_report_job_create(year="abc", format="json")
    assert not AnnualReport.objects.exists()


def test_the_admin_lists_runs_snapshots_and_reports(district, admin_client, django_assert_max_num_queries):
    snapshots_refresh(everything=True)
    snapshots_refresh(everything=True)
    AnnualReport.objects.create(year=district.year, format="json", report={"narrative": "概述"})
    for page in ("snapshotrun", "examsnapshot", "trainingsnapshot", "annualreport"):
        with django_assert_max_num_queries(12):
            response = admin_client.get(f"/admin/reports/{page}/")
        assert response.status_code == 200, page
    run = SnapshotRun.objects.latest("id")
    response = admin_client.post("/admin/reports/snapshotrun/", {"action": "refresh_everything",
                                                                 "_selected_action": [run.pk]})
    assert response.status_code == 302 and SnapshotRun.objects.count() == 3


def test_participation_prints_the_latest_snapshot_without_recomputing(district, django_assert_max_num_queries):
    assert "还没有统计快照" in run_command("participation").out
    snapshots_refresh(everything=True)
    runs = SnapshotRun.objects.count()
    done = run_command("participation", "--unit", "T")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0].startswith(f"{district.year} 年 学法用法考试（统计于 ") and "含下属单位" in lines[0]
    assert "测试镇（T） 应考 3，实考 2，未考 1，参考率 66.7%，合格率 100%" in done.out
    assert "测试镇（T） 参训 1 人次、1 人、3 学时，学时未达标 3 人" in done.out
    rows = run_command("participation", "--exam", district.exam.pk, "--alone", "--json").json()
    assert [r["unit_code"] for r in rows] == ["D", "A", "B", "T", "T1", "E", "S1"]
    assert all(r["rollup"] is False and r["computed_at"].endswith("+08:00") for r in rows)
    assert SnapshotRun.objects.count() == runs
    assert run_command("participation", "--unit", "NOPE").code == 1
