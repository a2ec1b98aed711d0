"""Undoing a roster sync: every column back, conflicts, skipping them, undoing an undo,
refusals, the command and its JSON. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from roster import idnumbers
from roster.models import ChangeKind, RosterSync, Staff, StaffChange, SyncKind
from roster.staff import staff_update
from roster.sync import roster_sync, roster_sync_create
from roster.undo import roster_undo_now
from tests.helpers import csv_bytes, new_id, people, run_command

pytestmark = pytest.mark.django_db

HEADER = ["工号", "姓名", "身份证号", "单位", "性别", "职务", "人员类别", "是否正职", "执法证号", "手机号"]
# every stored column but the bookkeeping ones an undo rewrites (updated_at) or a creation sets
COLUMNS = [f.attname for f in Staff._meta.concrete_fields if f.attname not in ("updated_at",)]


def rows(staff, gender="男"):
    return [[p.staff_no, p.name, p.id_number, p.unit, gender, p.position, "公务员", p.is_head, p.cert, p.phone]
            for p in staff]


def sync(staff, **options):
    record = roster_sync_create(file=csv_bytes(rows(staff), header=HEADER), file_name="roster.csv",
                                allow_mass_deactivation=True, **options)
    return roster_sync(sync=record)


def state() -> dict[str, dict]:
    return {s["staff_no"]: s for s in Staff.objects.values(*COLUMNS)}


@pytest.fixture
def before(units):
    """A roster of 30, one of them already gone (inactive, with a 离册日期), as it stood."""
    staff = people(20, "A") + people(10, "T1", start=100)
    assert sync(staff).applied
    gone = staff.pop()
    assert sync(staff).deactivated == 1
    Staff.objects.filter(staff_no=gone.staff_no).update(left_on=dt.date(2020, 5, 1))
    staff.append(gone)
    return staff


def wrong_file(staff):
    """Creations, updates of every field, a move, an ID change, deactivations, a reactivation."""
    changed = [type(p)(**vars(p)) for p in staff[2:]]  # the first two are missing: deactivated
    changed[0].name = "改名"
    changed[0].position = "科长"
    changed[0].is_head = "是"
    changed[0].cert = "执法-1"
    changed[0].phone = "13999999999"
    changed[1].unit = "B"  # moved
    changed[2].id_number = new_id()  # an ID change
    # the last person (inactive) is in the file: reactivated
    return changed + people(3, "S1", start=500)  # created


def test_undo_restores_every_column_of_every_person(before):
    snapshot = state()
    wrong = sync(wrong_file(before))
    assert (wrong.created, wrong.deactivated, wrong.reactivated) == (3, 2, 1)
    assert wrong.updated == 3
    assert state()[before[3].staff_no] != snapshot[before[3].staff_no]

    undo = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    assert undo.applied and undo.conflicts == [] and undo.skipped == 0
    assert undo.reverted == {"updated": 3, "reactivated": 2, "deactivated": 4}  # 1 reactivated + 3 created
    restored = state()
    for staff_no, columns in snapshot.items():
        assert restored[staff_no] == columns, staff_no  # column by column, the ID number's seal included
    created = {k: v for k, v in restored.items() if k not in snapshot}
    assert len(created) == 3
    assert all(not c["is_active"] and c["left_on"] == timezone.localdate() for c in created.values())
    moved_back = Staff.objects.get(staff_no=before[4].staff_no)
    assert moved_back.reveal_id_number() == before[4].id_number
    assert Staff.objects.get(staff_no=before[-1].staff_no).left_on == dt.date(2020, 5, 1)


def test_the_undo_is_a_sync_record_with_its_own_history(before):
    wrong_rows = wrong_file(before)
    wrong = sync(wrong_rows)
    undo = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    record = RosterSync.objects.get(pk=undo.sync_id)
    assert (record.kind, record.undoes_id, record.applied, record.status) == (SyncKind.UNDO, wrong.sync_id, True, "succeeded")
    from roster.selectors import roster_syncs

    assert record.pk in set(roster_syncs().values_list("pk", flat=True))  # listed with the syncs
    history = StaffChange.objects.filter(sync=record)
    assert history.filter(kind=ChangeKind.MOVED, staff__staff_no=before[3].staff_no).exists()
    id_change = history.get(field="id_number")
    assert (id_change.old_value, id_change.new_value) == (idnumbers.mask(wrong_rows[2].id_number),
                                                          idnumbers.mask(before[4].id_number))
    assert before[4].id_number not in id_change.old_value + id_change.new_value + id_change.old_sealed
    assert history.filter(kind=ChangeKind.REACTIVATED).count() == 2
    assert history.filter(kind=ChangeKind.DEACTIVATED).count() == 4
    event = AuditEvent.objects.get(action=AuditAction.UNDO_SYNC)
    assert event.target == f"roster_sync:{wrong.sync_id}" and event.rows == history.count()


def test_an_undo_can_be_undone(before):
    wrong = sync(wrong_file(before))
    after_wrong = state()
    undo = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    redo = roster_undo_now(target=RosterSync.objects.get(pk=undo.sync_id))
    assert redo.applied and redo.undoes == undo.sync_id
    again = state()
    for staff_no, columns in after_wrong.items():
        assert again[staff_no] == columns, staff_no
    # the sync is in force again, so it may be undone once more
    third = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    assert third.applied


def test_a_field_changed_since_refuses_the_whole_undo(before):
    wrong = sync(wrong_file(before))
    later = Staff.objects.get(staff_no=before[2].staff_no)
    staff_update(staff=later, changes={"phone": "13700000001"})
    after = state()
    result = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    assert not result.applied
    assert result.conflicts == [{"staff_no": later.staff_no, "field": "phone",
                                 "synced_value": idnumbers.mask_phone("13999999999"),
                                 "current_value": idnumbers.mask_phone("13700000001")}]
    assert "13700000001" not in str(result.as_dict())
    assert state() == after
    assert RosterSync.objects.get(pk=result.sync_id).status == "refused"


def test_skip_conflicts_reverts_the_rest(before):
    snapshot = state()
    wrong = sync(wrong_file(before))
    later = Staff.objects.get(staff_no=before[3].staff_no)
    town = Staff.objects.get(staff_no=before[-2].staff_no).unit
    staff_update(staff=later, changes={"unit": town})  # moved again, elsewhere
    result = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id), skip_conflicts=True)
    assert result.applied and result.skipped == 1
    assert [(c["staff_no"], c["field"]) for c in result.conflicts] == [(later.staff_no, "unit")]
    assert result.conflicts[0]["current_value"].startswith("T1 ")
    restored = state()
    for staff_no, columns in snapshot.items():
        if staff_no != later.staff_no:
            assert restored[staff_no] == columns
    assert restored[later.staff_no]["unit_id"] == town.pk


def test_a_later_sync_is_a_conflict_too(before):
    wrong_rows = wrong_file(before)
    wrong = sync(wrong_rows)
    wrong_rows[0].name = "又改了"
    assert sync(wrong_rows).updated == 1
    result = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id), dry_run=True)
    assert not result.ok
    assert [(c["field"], c["synced_value"], c["current_value"]) for c in result.conflicts] == [("name", "改名", "又改了")]


def test_refusals(before):
    dry = sync(before, dry_run=True)
    with pytest.raises(Exception, match="试运行"):
        roster_undo_now(target=RosterSync.objects.get(pk=dry.sync_id))
    bad = roster_sync_create(file=b"not a roster", file_name="x.csv")
    roster_sync(sync=bad)
    with pytest.raises(Exception, match="未成功应用"):
        roster_undo_now(target=RosterSync.objects.get(pk=bad.pk))
    wrong = sync(wrong_file(before))
    first = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    with pytest.raises(Exception, match=f"已由撤销 #{first.sync_id} 撤销"):
        roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))


def test_dry_run_reports_and_changes_nothing(before):
    wrong = sync(wrong_file(before))
    after = state()
    result = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id), dry_run=True)
    assert result.ok and not result.applied and result.dry_run
    assert result.reverted == {"updated": 3, "reactivated": 2, "deactivated": 4}
    assert state() == after
    assert roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id)).applied  # a dry run does not count


def test_command_json_and_exit_status(before):
    wrong = sync(wrong_file(before))
    preview = run_command("undo_sync", wrong.sync_id, "--dry-run", "--json")
    assert preview.code == 0
    body = preview.json()
    assert set(body) == {"sync_id", "undoes", "dry_run", "applied", "reverted", "conflicts", "skipped"}
    assert (body["undoes"], body["dry_run"], body["applied"]) == (wrong.sync_id, True, False)
    Staff.objects.filter(staff_no=before[2].staff_no).update(name="手改")
    refused = run_command("undo_sync", wrong.sync_id)
    assert refused.code == 1 and "冲突" in refused.err and before[2].staff_no in refused.err
    done = run_command("undo_sync", wrong.sync_id, "--skip-conflicts", "--json")
    assert done.code == 0
    assert (done.json()["applied"], done.json()["skipped"]) == (True, 1)
    again = run_command("undo_sync", wrong.sync_id)
    assert again.code == 1 and "不能重复撤销" in again.err
    missing = run_command("undo_sync", 99999)
    assert missing.code == 1 and "不存在" in missing.err


def test_the_undo_refreshes_open_exams_once_committed(before, django_capture_on_commit_callbacks):
    from exams.creation import exam_create
    from exams.enrolment import exams_refresh_open
    from exams.models import Candidate, ExamKind

    today = timezone.localdate()
    exam = exam_create(name="学法用法考试", year=today.year, kind=ExamKind.ANNUAL_LAW,
                       opens_on=today - dt.timedelta(days=3), closes_on=today + dt.timedelta(days=3))
    wrong = sync(wrong_file(before))
    exams_refresh_open()
    mover = before[3].staff_no
    assert Candidate.objects.get(exam=exam, staff__staff_no=mover).unit.code == "B"
    with django_capture_on_commit_callbacks(execute=True):
        assert roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id)).applied
    assert Candidate.objects.get(exam=exam, staff__staff_no=mover).unit.code == "A"


def test_an_id_number_given_to_someone_else_since_refuses_the_undo(before):
    rows = wrong_file(before)
    wrong = sync(rows)
    other = Staff.objects.get(staff_no=before[10].staff_no)
    staff_update(staff=other, changes={"id_number": before[4].id_number})  # the number the sync replaced
    after = state()
    result = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    assert not result.applied and "已属于其他人员" in result.message
    assert state() == after
    assert not StaffChange.objects.filter(sync_id=result.sync_id).exists()


def test_the_sweeper_sends_a_lost_undo_to_the_undo_task(before):
    from config.jobs import jobs_redispatch_stale
    from roster.models import SyncSource
    from roster.undo import roster_undo_create

    wrong = sync(wrong_file(before))
    record = roster_undo_create(target=RosterSync.objects.get(pk=wrong.sync_id), source=SyncSource.API)
    RosterSync.objects.filter(pk=record.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    sent = jobs_redispatch_stale()
    assert (sent["roster_undo"], sent["roster_sync"]) == (1, 0)
    record.refresh_from_db()
    assert record.applied and record.status == "succeeded"
