"""Make-up exams on the pages: the creation form links a make-up to its main exam, and the
main exam's page says its figures fold the make-up in, with the make-up's own beside."""

from __future__ import annotations

import pytest

from exams.imports import exam_import_create, exam_import_run
from exams.models import Candidate, Exam
from sheets.models import ImportKind
from tests.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def _form(main: Exam, **changes) -> dict:
    return {"name": "学法用法补考", "year": main.year, "kind": main.kind, "audience": "", "pass_mark": "60",
            "max_score": "100", "opens_on": "", "closes_on": "", "makeup_of": main.pk, **changes}


def test_the_form_creates_a_makeup_and_the_pages_show_it_beside_its_main_exam(personas, district, exam):
    a = district.a
    exam_import_run(record=exam_import_create(exam=exam, kind=ImportKind.EXAM_RESULTS, file_name="r.csv",
                                              file=csv_bytes([[a[0].name, a[0].staff_no, "", "90"]],
                                                             header=["姓名", "工号", "身份证号", "考试成绩"])))
    client = personas["legal_office"].client()
    assert "补考所属考试" in client.get("/exams/new/").content.decode()
    response = client.post("/exams/new/", _form(exam))
    makeup = Exam.objects.get(name="学法用法补考")
    assert response.status_code == 302 and makeup.makeup_of_id == exam.pk
    assert Candidate.objects.filter(exam=makeup).count() == len(district.everybody) - 1  # all but who passed
    exam_import_run(record=exam_import_create(exam=makeup, kind=ImportKind.EXAM_RESULTS, file_name="m.csv",
                                              file=csv_bytes([[a[1].name, a[1].staff_no, "", "70"]],
                                                             header=["姓名", "工号", "身份证号", "考试成绩"])))
    page = client.get(f"/exams/{exam.pk}/")
    assert page.context["figures"]["sat"] == 2 and page.context["figures"]["makeup"]["sat"] == 1
    assert "以上数字已计入补考“学法用法补考”" in page.content.decode()
    assert "的补考" in client.get(f"/exams/{makeup.pk}/").content.decode()
    not_sat = client.get(f"/exams/{exam.pk}/not-sat/D/")
    assert a[1].staff_no not in [r["staff_no"] for r in not_sat.context["rows"]]
    assert "已参加补考“学法用法补考”的人员不在名单中" in not_sat.content.decode()
    # an exam that has its make-up is no longer offered
    assert exam.pk not in [choice.pk for choice in client.get("/exams/new/").context["form"].fields["makeup_of"].queryset]


def test_a_makeup_of_another_kind_is_refused_with_a_chinese_message(personas, district, exam):
    response = personas["legal_office"].client().post("/exams/new/", _form(exam, kind="enforcement_qualification"))
    assert response.status_code == 200 and "考试类型" in response.content.decode() and "应与所属考试" in response.content.decode()
    assert Exam.objects.count() == 1
