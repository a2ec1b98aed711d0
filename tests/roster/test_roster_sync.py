from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from roster import idnumbers
from roster.models import ChangeKind, RosterSync, Staff, StaffChange, SyncMode
from roster.sync import roster_sync, roster_sync_create
from tests.helpers import Person, csv_bytes, new_id, people, stored_upload, xlsx_bytes

pytestmark = pytest.mark.django_db


def sync(data: bytes, name: str = "roster.csv", **options):
    record = roster_sync_create(file=data, file_name=name, **options)
    return roster_sync(sync=record)


def snapshot() -> list[tuple]:
    return list(
        Staff.objects.order_by("staff_no").values_list(
            "staff_no", "name", "unit__code", "is_active", "id_number_hash", "phone", "position", "left_on"
        )
    )


@pytest.fixture
def roster(units):
    staff = people(20, "A") + people(10, "T1", start=100)
    result = sync(csv_bytes(staff))
    assert result.applied and result.created == 30
    return staff


def test_full_sync_creates_staff_with_history_and_join_date(units):
    staff = people(3)
    result = sync(csv_bytes(staff))
    assert (result.created, result.applied, result.errors) == (3, True, [])
    member = Staff.objects.get(staff_no=staff[0].staff_no)
    assert member.unit.code == "A"
    assert member.joined_on == timezone.localdate()
    assert member.is_active
    assert member.created_by_sync_id == result.sync_id


def test_resync_of_same_content_changes_nothing(roster):
    before = snapshot()
    result = sync(csv_bytes(roster))
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 0, 30, 0)
    assert snapshot() == before
    assert StaffChange.objects.count() == 0


def test_same_roster_as_xlsx_and_gbk_csv_counts_as_same_content(roster):
    as_xlsx = sync(xlsx_bytes(roster), name="roster.xlsx")
    as_gbk = sync(csv_bytes(roster, encoding="gbk"), name="roster.csv")
    assert as_xlsx.unchanged == as_gbk.unchanged == 30
    assert as_xlsx.updated == as_gbk.updated == 0


def test_a_staff_no_column_stored_as_numbers_in_excel_carries_a_leading_zeros_hint(units):
    staff = people(3)
    rows = [[int(p.staff_no), *p.row()[1:]] for p in staff]  # 0001 typed into a number cell reads back as 1
    result = sync(xlsx_bytes(rows), name="roster.xlsx", dry_run=True)
    assert any("3 个单元格" in w and "开头的 0" in w and "文本" in w for w in result.warnings)
    as_text = sync(xlsx_bytes(staff), name="roster.xlsx", dry_run=True)
    assert not any("开头的 0" in w for w in as_text.warnings)


def test_update_records_old_and_new_values(roster):
    roster[0].name = "新名字"
    roster[1].unit = "B"
    result = sync(csv_bytes(roster))
    assert (result.updated, result.unchanged) == (2, 28)
    renamed = StaffChange.objects.get(staff__staff_no=roster[0].staff_no, field="name")
    assert (renamed.old_value, renamed.new_value, renamed.kind) == ("人员1", "新名字", ChangeKind.UPDATED)
    moved = StaffChange.objects.get(staff__staff_no=roster[1].staff_no, field="unit")
    assert moved.kind == ChangeKind.MOVED
    assert moved.old_value.startswith("A ") and moved.new_value.startswith("B ")


def test_changed_id_number_is_re_encrypted_and_history_shows_only_masks(roster):
    roster[0].id_number = new_id()
    result = sync(csv_bytes(roster))
    assert result.updated == 1
    member = Staff.objects.get(staff_no=roster[0].staff_no)
    assert member.reveal_id_number() == roster[0].id_number
    change = StaffChange.objects.get(staff=member, field="id_number")
    assert change.new_value == idnumbers.mask(roster[0].id_number)
    assert roster[0].id_number not in change.old_value + change.new_value


def test_full_sync_deactivates_missing_staff_and_never_deletes(roster):
    result = sync(csv_bytes(roster[:-2]))
    assert result.deactivated == 2
    gone = Staff.objects.get(staff_no=roster[-1].staff_no)
    assert not gone.is_active
    assert gone.left_on == timezone.localdate()
    assert Staff.objects.count() == 30
    assert StaffChange.objects.filter(staff=gone, kind=ChangeKind.DEACTIVATED).exists()


def test_staff_who_reappear_are_reactivated(roster):
    sync(csv_bytes(roster[:-1]))
    result = sync(csv_bytes(roster))
    assert (result.reactivated, result.created) == (1, 0)
    back = Staff.objects.get(staff_no=roster[-1].staff_no)
    assert back.is_active and back.left_on is None
    assert StaffChange.objects.filter(staff=back, kind=ChangeKind.REACTIVATED).exists()


def test_partial_sync_never_deactivates(roster):
    newcomer = people(1, start=900)
    result = sync(csv_bytes(newcomer), mode=SyncMode.PARTIAL)
    assert (result.created, result.deactivated, result.applied) == (1, 0, True)
    assert Staff.objects.filter(is_active=True).count() == 31


def test_strict_sync_applies_nothing_when_any_row_is_wrong(roster):
    before = snapshot()
    bad = [*roster, Person("9999", "", new_id(), "A")]
    roster[0].name = "应该不生效"
    result = sync(csv_bytes(bad))
    assert not result.applied
    assert snapshot() == before
    assert result.errors == [
        {"row": 32, "column": "姓名", "value": "", "message": "姓名为空。", "kind": "invalid"}
    ]
    assert result.rejected == 1


def test_errors_name_row_column_value_and_message_for_each_kind(units):
    valid_id = new_id()
    broken_id = valid_id[:17] + ("0" if valid_id[17] != "0" else "1")
    rows = [
        Person("0001", "甲", broken_id, "A"),
        Person("0002", "乙", new_id(), "A"),
        Person("0002", "丙", new_id(), "A"),
        Person("0004", "丁", new_id(), "不存在的单位"),
        Person("0005", "", new_id(), "A"),
    ]
    result = sync(csv_bytes(rows))
    found = {(e["row"], e["column"]): e for e in result.errors}
    assert found[(2, "身份证号")]["message"] == "身份证号校验位错误。"
    assert found[(2, "身份证号")]["value"] == idnumbers.mask(broken_id)
    assert "工号重复" in found[(4, "工号")]["message"]
    assert "第 3 行" in found[(4, "工号")]["message"]
    assert "未知单位" in found[(5, "单位")]["message"]
    assert found[(6, "姓名")]["message"] == "姓名为空。"
    assert Staff.objects.count() == 0


def test_duplicate_id_number_is_reported_on_the_later_row(units):
    shared = new_id()
    result = sync(csv_bytes([Person("0001", "甲", shared, "A"), Person("0002", "乙", shared, "A")]))
    later = [e for e in result.errors if e["row"] == 3]
    assert later and "身份证号重复" in later[0]["message"]
    assert not result.applied


def test_skip_invalid_applies_valid_rows_and_protects_rejected_staff(roster):
    roster[0].id_number = "123"  # rejected: must stay exactly as it was, and active
    roster[1].name = "改名成功"
    result = sync(csv_bytes(roster), skip_invalid=True)
    assert result.applied and result.rejected == 1 and result.deactivated == 0
    kept = Staff.objects.get(staff_no=roster[0].staff_no)
    assert kept.is_active and kept.name == "人员1"
    assert Staff.objects.get(staff_no=roster[1].staff_no).name == "改名成功"


def test_skip_invalid_protects_staff_named_only_by_the_id_of_a_rejected_row(roster):
    victim = roster[0]
    rows = [Person("", victim.name, victim.id_number, "A"), *roster[1:]]
    result = sync(csv_bytes(rows), skip_invalid=True)
    assert result.applied and result.deactivated == 0
    assert Staff.objects.get(staff_no=victim.staff_no).is_active


def test_mass_deactivation_is_refused_without_permission(roster):
    before = snapshot()
    result = sync(csv_bytes(roster[:5]))
    assert not result.applied and result.deactivated == 25
    assert "保护上限" in result.message
    assert result.errors[-1]["row"] is None
    assert snapshot() == before
    allowed = sync(csv_bytes(roster[:5]), allow_mass_deactivation=True)
    assert allowed.applied and Staff.objects.filter(is_active=True).count() == 5


def test_mass_deactivation_threshold_is_configurable(roster, settings):
    settings.ROSTER_MASS_DEACTIVATION_RATIO = 0.5
    assert sync(csv_bytes(roster[:20])).applied


def test_dry_run_reports_changes_and_changes_nothing(roster):
    before = snapshot()
    changes_before = StaffChange.objects.count()
    roster[0].name = "试运行"
    result = sync(csv_bytes([*roster[:-1], *people(2, start=500)]), dry_run=True)
    assert (result.created, result.updated, result.deactivated, result.applied) == (2, 1, 1, False)
    assert result.ok
    assert snapshot() == before and StaffChange.objects.count() == changes_before
    record = RosterSync.objects.get(pk=result.sync_id)
    assert record.preview["updated"][0]["fields"] == ["name"]
    assert record.preview["deactivated"][0]["staff_no"] == roster[-1].staff_no


def test_dry_run_reports_the_guards_verdict(roster):
    result = sync(csv_bytes(roster[:3]), dry_run=True)
    assert not result.ok and "保护上限" in result.message


def test_id_number_stored_as_an_excel_number_is_a_row_error(units):
    person = people(1)[0]
    row = person.row()
    row[2] = int(person.id_number[:17] + "1") if person.id_number[17] != "X" else 450203199001011234
    result = sync(xlsx_bytes([row]), name="roster.xlsx")
    assert not result.applied
    assert result.errors[0]["row"] == 2 and result.errors[0]["column"] == "身份证号"
    assert "文本" in result.errors[0]["message"]


def test_id_number_held_by_another_staff_member_is_refused(roster):
    newcomer = Person("7777", "新人", roster[0].id_number, "A")
    result = sync(csv_bytes([*roster[1:], newcomer]), allow_mass_deactivation=True, mode=SyncMode.PARTIAL)
    assert not result.applied
    assert f"工号 {roster[0].staff_no}" in result.errors[0]["message"]


def test_absent_optional_columns_keep_stored_values(roster):
    rows = [[p.staff_no, p.name, p.id_number, p.unit] for p in roster]
    result = sync(csv_bytes(rows, header=["工号", "姓名", "身份证号", "单位"]))
    assert result.unchanged == 30
    assert Staff.objects.get(staff_no=roster[0].staff_no).phone == roster[0].phone


def test_unit_may_be_given_by_full_name(units):
    result = sync(csv_bytes([Person("0001", "甲", new_id(), "测试镇综合执法队")]))
    assert result.applied
    assert Staff.objects.get().unit.code == "T1"


def test_id_number_is_encrypted_at_rest(roster):
    plain = roster[0].id_number
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Staff._meta.db_table}")
        dump = repr(cursor.fetchall())
    assert plain not in dump
    assert plain[:14] not in dump
    assert Staff.objects.get(staff_no=roster[0].staff_no).reveal_id_number() == plain


def test_gender_is_derived_from_the_id_number_when_not_given(units):
    person = people(1)[0]
    sync(csv_bytes([person]))
    assert Staff.objects.get().gender == ("男" if int(person.id_number[16]) % 2 else "女")


def test_failure_mid_apply_leaves_the_old_state(roster, monkeypatch):
    from roster import staging

    before = snapshot()
    original = staging.RosterStage.apply

    def apply_then_die(self, **kwargs):
        original(self, **kwargs)
        raise RuntimeError("power cut")

    monkeypatch.setattr(staging.RosterStage, "apply", apply_then_die)
    roster[0].name = "半途"
    result = sync(csv_bytes(roster[:-1]))
    assert result.status == "failed" and not result.applied
    assert snapshot() == before


def test_finished_sync_is_not_run_twice(roster):
    record = roster_sync_create(file=csv_bytes(roster), file_name="r.csv")
    first = roster_sync(sync=record)
    second = roster_sync(sync=RosterSync.objects.get(pk=record.pk))
    assert first.as_dict() == second.as_dict()


def test_uploaded_file_is_removed_once_the_sync_has_run(roster):
    record = roster_sync_create(file=csv_bytes(roster), file_name="r.csv")
    upload = stored_upload(record.source_file)
    assert upload.exists()
    roster_sync(sync=record)
    record.refresh_from_db()
    assert not record.source_file and not upload.exists()


def test_left_on_uses_the_shanghai_date(roster, monkeypatch):
    # 2024-01-01 17:30 UTC is already 2024-01-02 in Asia/Shanghai
    moment = dt.datetime(2024, 1, 1, 17, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    sync(csv_bytes(roster[:-1]))
    assert Staff.objects.get(staff_no=roster[-1].staff_no).left_on == dt.date(2024, 1, 2)


def test_values_longer_than_their_column_are_row_errors(units):
    rows = [Person("0001", "名" * 101, new_id(), "A"), Person("0002", "乙", new_id(), "A", position="职" * 201)]
    result = sync(csv_bytes(rows))
    assert not result.applied and result.status == "refused"
    assert {(e["row"], e["column"]) for e in result.errors} == {(2, "姓名"), (3, "职务")}
    assert all("过长" in e["message"] for e in result.errors)


# The alias table, written out here so that the test holds the contract, not the code's copy.
ROSTER_ALIASES = {
    "staff_no": ["工号", "人员编号", "编号"],
    "name": ["姓名"],
    "id_number": ["身份证号", "身份证号码", "公民身份号码"],
    "unit": ["单位", "所在单位", "工作单位"],
    "gender": ["性别"],
    "position": ["职务", "岗位"],
    "category": ["人员类别", "编制类型"],
    "is_head": ["是否正职"],
    "enforcement_cert": ["执法证号"],
    "phone": ["手机号", "手机号码", "联系电话"],
}


@pytest.mark.parametrize("variant", [0, 1, 2, "english"])
def test_every_documented_roster_header_alias_is_accepted(units, variant):
    header = ["序号"] + [
        field if variant == "english" else aliases[min(variant, len(aliases) - 1)]
        for field, aliases in ROSTER_ALIASES.items()
    ]
    person = people(1)[0]
    row = ["1", person.staff_no, "张三", person.id_number, "A", "女", "科长", "行政编制", "是", "桂执0001", "13800000001"]
    result = sync(csv_bytes([row], header=header))
    assert (result.created, result.errors, result.warnings) == (1, [], [])
    member = Staff.objects.get()
    assert (member.staff_no, member.name, member.unit.code, member.gender, member.position, member.category,
            member.is_head, member.enforcement_cert, member.phone) == (
        person.staff_no, "张三", "A", "女", "科长", "行政编制", True, "桂执0001", "13800000001")
    assert member.id_number_hash == idnumbers.digest(person.id_number)


def test_is_head_accepts_yes_no_y_n_1_0_true_false_and_refuses_anything_else(units):
    given = ["是", "否", "Y", "N", "1", "0", "true", "false", "y", "FALSE"]
    staff = people(len(given))
    for person, value in zip(staff, given, strict=True):
        person.is_head = value
    assert sync(csv_bytes(staff)).created == len(given)
    heads = dict(Staff.objects.values_list("staff_no", "is_head"))
    assert [heads[p.staff_no] for p in staff] == [True, False, True, False, True, False, True, False, True, False]

    staff[1].is_head = "也许"
    result = sync(csv_bytes(staff))
    assert not result.applied
    assert [(e["row"], e["column"], e["value"]) for e in result.errors] == [(3, "是否正职", "也许")]
