"""The command-line contract of sync_roster and the bad-input cases the issue lists: each
names row and column, exits non-zero, changes nothing and prints no traceback."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from roster.models import Staff
from tests.helpers import Person, csv_bytes, new_id, people, run_command, xlsx_bytes

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
KEYS = {"created", "updated", "unchanged", "deactivated", "reactivated", "rejected", "applied", "errors"}


@pytest.fixture
def roster(units, tmp_path):
    staff = people(30)
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(staff))
    outcome = run_command("sync_roster", path, "--json")
    assert outcome.code == 0, outcome.err
    return staff


def staff_state():
    return list(Staff.objects.order_by("staff_no").values_list("staff_no", "name", "is_active", "unit_id", "id_number_hash"))


def write(tmp_path, name, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_refused(outcome, before):
    assert outcome.code != 0
    assert "Traceback" not in outcome.out + outcome.err
    assert staff_state() == before
    payload = outcome.json()
    assert payload["applied"] is False
    assert KEYS <= payload.keys()
    return payload


def test_json_output_has_the_contract_keys(units, tmp_path):
    outcome = run_command("sync_roster", write(tmp_path, "r.csv", csv_bytes(people(3))), "--json")
    payload = outcome.json()
    assert KEYS <= payload.keys()
    assert (payload["created"], payload["applied"], payload["errors"], outcome.code) == (3, True, [], 0)


def test_empty_file(roster, tmp_path):
    before = staff_state()
    payload = assert_refused(run_command("sync_roster", write(tmp_path, "e.csv", b""), "--json"), before)
    assert payload["errors"][0]["row"] is None and "为空" in payload["errors"][0]["message"]


def test_random_bytes_named_xlsx(roster, tmp_path):
    before = staff_state()
    payload = assert_refused(run_command("sync_roster", write(tmp_path, "r.xlsx", os.urandom(4096)), "--json"), before)
    assert payload["errors"][0]["row"] is None


def test_csv_without_the_id_number_column(roster, tmp_path):
    before = staff_state()
    rows = [[p.staff_no, p.name, p.unit] for p in roster]
    data = csv_bytes(rows, header=["工号", "姓名", "单位"])
    payload = assert_refused(run_command("sync_roster", write(tmp_path, "r.csv", data), "--json"), before)
    assert payload["errors"][0]["row"] is None and payload["errors"][0]["column"] == "身份证号"


def test_bad_check_digit_duplicate_staff_no_unknown_unit_and_missing_name(roster, tmp_path):
    before = staff_state()
    broken = new_id()
    broken = broken[:17] + ("0" if broken[17] != "0" else "1")
    rows = [*roster, Person("8001", "甲", broken, "A"), Person(roster[0].staff_no, "乙", new_id(), "A"),
            Person("8003", "丙", new_id(), "ZZ"), Person("8004", "", new_id(), "A")]
    payload = assert_refused(run_command("sync_roster", write(tmp_path, "r.csv", csv_bytes(rows)), "--json"), before)
    cells = {(e["row"], e["column"]) for e in payload["errors"]}
    assert {(32, "身份证号"), (33, "工号"), (34, "单位"), (35, "姓名")} <= cells


def test_truncated_roster_that_would_deactivate_most_staff(roster, tmp_path):
    before = staff_state()
    payload = assert_refused(
        run_command("sync_roster", write(tmp_path, "r.csv", csv_bytes(roster[:3])), "--json"), before
    )
    assert payload["deactivated"] == 27
    assert payload["errors"][-1]["row"] is None and "保护上限" in payload["errors"][-1]["message"]


def test_id_number_stored_as_an_excel_number(roster, tmp_path):
    before = staff_state()
    rows = [p.row() for p in roster]
    rows[4][2] = 450203199001011234
    payload = assert_refused(run_command("sync_roster", write(tmp_path, "r.xlsx", xlsx_bytes(rows)), "--json"), before)
    [error] = payload["errors"]
    assert (error["row"], error["column"], error["kind"]) == (6, "身份证号", "invalid")
    assert "文本" in error["message"]
    assert error["value"].startswith("450203********") and len(error["value"]) == 18


def test_two_gigabyte_claim_inside_a_small_zip(roster, tmp_path):
    before = staff_state()
    data = bytearray(xlsx_bytes([p.row() for p in roster]))
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        struct.pack_into("<I", data, start + 24, 2 * 1024**3)
        start += 4
    payload = assert_refused(run_command("sync_roster", write(tmp_path, "r.xlsx", bytes(data)), "--json"), before)
    assert payload["errors"][0]["row"] is None and "压缩炸弹" in payload["errors"][0]["message"]


def test_missing_file_is_a_one_line_error(units, tmp_path):
    outcome = run_command("sync_roster", tmp_path / "nope.csv")
    assert outcome.code != 0 and "文件不存在" in outcome.err and "Traceback" not in outcome.err


def test_exit_status_is_1_for_row_errors_and_the_guard_and_2_for_an_unreadable_file(roster, tmp_path):
    rows = [*roster, Person("8001", "", new_id(), "A")]
    assert run_command("sync_roster", write(tmp_path, "rows.csv", csv_bytes(rows))).code == 1
    truncated = write(tmp_path, "truncated.csv", csv_bytes(roster[:3]))
    assert run_command("sync_roster", truncated).code == 1
    assert run_command("sync_roster", truncated, "--dry-run").code == 1
    assert run_command("sync_roster", write(tmp_path, "empty.csv", b"")).code == 2
    assert run_command("sync_roster", write(tmp_path, "random.xlsx", os.urandom(4096))).code == 2
    no_id = csv_bytes([[p.staff_no, p.name, p.unit] for p in roster], header=["工号", "姓名", "单位"])
    assert run_command("sync_roster", write(tmp_path, "noid.csv", no_id)).code == 2


def test_missing_or_oversized_file_still_prints_the_contract_keys(roster, tmp_path, settings):
    before = staff_state()
    missing = run_command("sync_roster", tmp_path / "nope.csv", "--json")
    payload = assert_refused(missing, before)
    assert missing.code == 1 and payload["errors"] == [
        {"row": None, "column": None, "value": None, "message": payload["message"], "kind": "invalid"}
    ] and "文件不存在" in payload["message"]
    settings.SHEETS_MAX_BYTES = 100
    big = run_command("sync_roster", write(tmp_path, "big.csv", csv_bytes(roster)), "--json")
    payload = assert_refused(big, before)
    assert big.code == 2 and payload["errors"][0]["row"] is None and "大小上限" in payload["errors"][0]["message"]


def test_dry_run_exit_status_is_what_a_real_run_would_give(roster, tmp_path):
    path = write(tmp_path, "r.csv", csv_bytes(roster[:3]))
    assert run_command("sync_roster", path, "--dry-run").code != 0
    assert run_command("sync_roster", path, "--dry-run", "--allow-mass-deactivation").code == 0
    assert Staff.objects.filter(is_active=True).count() == 30


def test_skip_invalid_exits_zero_when_valid_rows_were_applied(roster, tmp_path):
    rows = [*roster, Person("8001", "", new_id(), "A"), *people(1, start=8100)]
    outcome = run_command("sync_roster", write(tmp_path, "r.csv", csv_bytes(rows)), "--skip-invalid", "--json")
    payload = outcome.json()
    assert outcome.code == 0 and payload["applied"] and payload["rejected"] == 1 and payload["created"] == 1


def test_roster_summary_json(roster):
    Staff.objects.filter(staff_no=roster[0].staff_no).update(is_active=False)
    assert run_command("roster_summary", "--json").json() == {"active": 29, "inactive": 1, "units": 7}


def test_real_command_line_prints_no_traceback(tmp_path):
    """The installed command, as a user runs it: a fresh database, bad files, one-line errors."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}", PRIVATE_UPLOAD_ROOT=str(tmp_path / "up"))
    env.pop("CELERY_BROKER_URL", None)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    units = tmp_path / "units.csv"
    units.write_text("代码,名称,上级代码,类型\nD,测试区,,admin\nA,财政局,D,department\n", encoding="utf-8")
    assert manage("import_units", str(units)).returncode == 0
    cases = {
        "empty.csv": b"",
        "random.xlsx": os.urandom(2048),
        "noid.csv": "工号,姓名,单位\n1,张三,A\n".encode(),
        "gbk.csv": "工号,姓名,身份证号,单位\n1,张三,123,A\n".encode("gbk"),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        done = manage("sync_roster", str(path))
        assert done.returncode != 0, name
        assert "Traceback" not in done.stdout + done.stderr, name
        assert done.stderr.strip(), name
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(people(2)))
    done = manage("sync_roster", str(good), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["created"] == 2


def test_a_dry_run_with_changes_lists_every_change_with_old_and_new_values(roster, tmp_path):
    from roster import idnumbers

    edited = [Person(p.staff_no, p.name, p.id_number, p.unit, phone=p.phone) for p in roster[:25]]
    edited[0].name = "新名字"
    edited[1].unit = "B"
    old_id = edited[2].id_number
    # a new number of the same sex, so that the derived 性别 stays as it is
    edited[2].id_number = next(n for n in iter(new_id, None) if idnumbers.gender_of(n) == idnumbers.gender_of(old_id))
    edited[3].is_head = "是"
    newcomer = Person("9001", "新人", new_id(), "T1")
    before = staff_state()
    outcome = run_command("sync_roster", write(tmp_path, "r.csv", csv_bytes([*edited, newcomer])), "--dry-run",
                          "--json", "--changes", "--allow-mass-deactivation")
    assert outcome.code == 0, outcome.err
    assert staff_state() == before
    changes = outcome.json()["changes"]
    by_staff_no = {c["staff_no"]: c for c in changes}
    assert len(changes) == 4 + 1 + 5  # four updated, one new, the five people no longer in the file
    assert by_staff_no["0001"] == {"row": 2, "staff_no": "0001", "name": "新名字", "unit_code": "A", "kind": "updated",
                                   "fields": {"name": ["人员1", "新名字"]}}
    assert by_staff_no["0002"]["fields"] == {"unit": ["A 测试区财政局", "B 测试区司法局"]}
    assert by_staff_no["0003"]["fields"] == {"id_number": [idnumbers.mask(old_id), idnumbers.mask(edited[2].id_number)]}
    assert by_staff_no["0004"]["fields"] == {"is_head": ["否", "是"]}
    assert by_staff_no["9001"]["kind"] == "created" and by_staff_no["9001"]["unit_code"] == "T1"
    gone = [c for c in changes if c["kind"] == "deactivated"]
    assert [c["staff_no"] for c in gone] == ["0026", "0027", "0028", "0029", "0030"] and changes[-1] in gone
    assert old_id not in outcome.out and edited[2].id_number not in outcome.out
    # the numbers stay masked in the database too
    from roster.models import SyncPreviewChange

    assert not SyncPreviewChange.objects.filter(fields__icontains=old_id[-6:]).exists()


def test_changes_needs_a_json_dry_run(roster, tmp_path):
    outcome = run_command("sync_roster", write(tmp_path, "r.csv", csv_bytes(roster)), "--json", "--changes")
    assert outcome.code == 1 and "--dry-run" in outcome.err and "Traceback" not in outcome.err
