"""The void button on an import's page: a preview (a dry run, nothing changed), then the
confirm with a reason; only the legal-affairs office sees it."""

from __future__ import annotations

import pytest

from exams.imports import exam_import_create, exam_import_run
from exams.models import Attempt
from exams.selectors import exam_stats
from sheets.models import ImportKind, ImportRecord
from tests.helpers import csv_bytes

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "工号", "身份证号", "考试成绩"]


@pytest.fixture
def imported(district, exam) -> ImportRecord:
    a = district.a
    rows = [[a[0].name, a[0].staff_no, "", "88"], [a[1].name, a[1].staff_no, "", "59"]]
    result = exam_import_run(record=exam_import_create(
        exam=exam, kind=ImportKind.EXAM_RESULTS, file=csv_bytes(rows, header=HEADER), file_name="r.csv"))
    assert result.applied == 2
    return ImportRecord.objects.get(pk=result.import_id)


def test_the_office_previews_then_voids_an_import(personas, exam, imported):
    client = personas["legal_office"].client()
    page = client.get(f"/imports/{imported.pk}/").content.decode()
    assert 'id="void-button"' in page
    preview = client.get(f"/imports/{imported.pk}/void/")
    assert preview.status_code == 200
    text = preview.content.decode()
    assert 'id="void-attempts">2<' in text and 'id="void-kept">0<' in text
    assert Attempt.objects.count() == 2  # the preview changed nothing
    done = client.post(f"/imports/{imported.pk}/void/", {"reason": "传错考试"})
    assert done.status_code == 302 and done["Location"].endswith(f"/imports/{imported.pk}/")
    assert Attempt.objects.count() == 0 and exam_stats(exam=exam)["sat"] == 0
    after = client.get(f"/imports/{imported.pk}/").content.decode()
    assert 'id="voided"' in after and "传错考试" in after and 'id="void-button"' not in after
    # a second void from a stale tab: refused with a message, nothing else happens
    again = client.post(f"/imports/{imported.pk}/void/", {"reason": "再来"}, follow=True)
    assert "不能再次撤销" in again.content.decode()
    assert ImportRecord.objects.get(pk=imported.pk).void_reason == "传错考试"


@pytest.mark.parametrize("role", ["hr", "liaison_a", "viewer"])
def test_other_roles_get_no_button_and_no_void(personas, imported, role):
    client = personas[role].client()
    page = client.get(f"/imports/{imported.pk}/")
    assert 'id="void-button"' not in page.content.decode()
    assert client.get(f"/imports/{imported.pk}/void/").status_code == 403
    assert client.post(f"/imports/{imported.pk}/void/", {}).status_code == 403
    assert Attempt.objects.count() == 2
