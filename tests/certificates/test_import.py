"""The register import: idempotent by number, updates with history, every row problem."""

from __future__ import annotations

import datetime as dt

from certificates.models import Certificate, CertificateChange
from sheets.models import ImportRecord
from tests.certificates.conftest import cert_row, import_certs, write
from tests.helpers import run_command


def test_import_creates_certificates_matched_by_id_number_or_staff_no(staff):
    result = import_certs([
        cert_row(staff["0201"], "桂执0201"),
        cert_row(staff["0202"], "桂执0202", by="staff_no", kind="监督证", status="暂扣"),
    ])
    assert result.ran and result.applied
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    first, second = Certificate.objects.order_by("number")
    assert first.staff.staff_no == "0201" and first.kind == "enforcement" and first.status == "active"
    assert first.expires_on == dt.date(2027, 1, 1) and first.authority == "测试区人民政府"
    assert second.kind == "supervision" and second.status == "suspended"
    assert CertificateChange.objects.filter(kind="created").count() == 2
    assert ImportRecord.objects.get(pk=result.import_id).kind == "certificates"


def test_the_same_file_twice_changes_nothing(staff):
    rows = [cert_row(staff["0201"], "桂执0201"), cert_row(staff["0202"], "桂执0202")]
    import_certs(rows)
    again = import_certs(rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert CertificateChange.objects.count() == 2


def test_a_changed_date_or_status_is_an_update_with_history(staff):
    import_certs([cert_row(staff["0201"], "桂执0201")])
    result = import_certs([cert_row(staff["0201"], "桂执0201", expires="2028-01-01", status="吊销")])
    assert (result.created, result.updated) == (0, 1)
    cert = Certificate.objects.get()
    assert cert.expires_on == dt.date(2028, 1, 1) and cert.status == "revoked"
    history = {(c.field, c.old_value, c.new_value) for c in cert.changes.filter(kind="updated")}
    assert history == {("expires_on", "2027-01-01", "2028-01-01"), ("status", "active", "revoked")}


def test_row_problems_are_reported_and_good_rows_applied(staff):
    stranger = staff["0201"].__class__("9999", "无名", staff["0201"].id_number[:-4] + "0000", "A")
    import_certs([cert_row(staff["0203"], "桂执0203")])
    result = import_certs([
        cert_row(staff["0201"], "桂执0201"),                           # 2: good
        cert_row(stranger, "桂执9999", by="staff_no"),                  # 3: unknown person
        cert_row(staff["0202"], "桂执0202", name="别人"),               # 4: name disagrees
        cert_row(staff["0204"], "桂执0203"),                            # 5: number held by another
        cert_row(staff["0204"], "桂执0204", issued="2025-01-01", expires="2024-01-01"),  # 6: expiry before issue
        cert_row(staff["0301"], "桂执DUP"),                             # 7: duplicate
        cert_row(staff["0302"], "桂执DUP"),                             # 8: duplicate
        cert_row(staff["0101"], "桂执0101", issued="2024-13-01"),       # 9: not a date
        cert_row(staff["0102"], "桂执0102", kind="驾驶证"),             # 10: unknown kind
        cert_row(staff["0103"], "桂执0103", status="丢失"),             # 11: unknown status
    ])
    assert result.ran and result.created == 1
    assert (result.unmatched, result.conflicts, result.invalid) == (1, 2, 6)
    by_row = {(e["row"], e["column"]): e for e in result.errors}
    assert by_row[(3, "工号")]["kind"] == "unmatched"
    assert by_row[(4, "姓名")]["kind"] == "conflict"
    assert by_row[(5, "证件号")]["kind"] == "conflict" and "0203" in by_row[(5, "证件号")]["message"]
    assert by_row[(6, "有效期至")]["message"] == "有效期至早于发证日期。"
    assert by_row[(7, "证件号")]["kind"] == "invalid" and by_row[(8, "证件号")]["kind"] == "invalid"
    assert by_row[(9, "发证日期")]["value"] == "2024-13-01"
    assert by_row[(10, "证件类型")]["value"] == "驾驶证"
    assert by_row[(11, "状态")]["value"] == "丢失"
    assert set(Certificate.objects.values_list("number", flat=True)) == {"桂执0201", "桂执0203"}


def test_strict_applies_nothing_when_a_row_is_bad(staff, tmp_path):
    path = write(tmp_path, [cert_row(staff["0201"], "桂执0201"), cert_row(staff["0202"], "桂执0202", expires="明年")])
    outcome = run_command("import_certificates", path, "--strict", "--json")
    assert outcome.code == 1
    data = outcome.json()
    assert data["applied"] is False and data["invalid"] == 1
    assert data["errors"][0] == {"row": 3, "column": "有效期至", "value": "明年", "kind": "invalid",
                                 "message": "有效期至无法识别：应为“年-月-日”，例如 2025-06-30。"}
    assert not Certificate.objects.exists()


def test_command_json_has_the_contract_keys(staff, tmp_path):
    path = write(tmp_path, [cert_row(staff["0201"], "桂执0201")], name="certs.xlsx")
    outcome = run_command("import_certificates", path, "--json")
    assert outcome.code == 0, outcome.err
    data = outcome.json()
    assert {"applied", "created", "updated", "unchanged", "unmatched", "conflicts", "invalid", "errors",
            "import_id"} <= set(data)
    assert data["created"] == 1


def test_dry_run_applies_nothing(staff, tmp_path):
    path = write(tmp_path, [cert_row(staff["0201"], "桂执0201")])
    outcome = run_command("import_certificates", path, "--dry-run", "--json")
    assert outcome.code == 0
    assert outcome.json()["created"] == 1 and outcome.json()["applied"] is False
    assert not Certificate.objects.exists()


def test_a_file_with_only_bad_rows_exits_1(staff, tmp_path):
    path = write(tmp_path, [cert_row(staff["0201"], "桂执0201", kind="驾驶证")])
    outcome = run_command("import_certificates", path)
    assert outcome.code == 1 and "证件类型" in outcome.err and "Traceback" not in outcome.err


def test_an_unreadable_file_exits_2(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    outcome = run_command("import_certificates", path)
    assert outcome.code == 2 and "Traceback" not in outcome.err
