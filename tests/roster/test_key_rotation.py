"""Key rotation: FIELD_ENCRYPTION_KEYS / FIELD_HASH_KEYS = "new,old"; everything reads and
matches during the rotation; rotate_field_key re-encrypts and re-hashes in batches, resumably;
afterwards the old key can be removed and everything decrypts; a wrong key is refused."""

from __future__ import annotations

import base64
import json
import os

import pytest

from roster import idnumbers
from roster.fieldkeys import field_key_decrypt_problems, field_key_problems
from roster.keyrotation import rotate_field_keys
from roster.models import FieldKeyCanary, RosterSync, Staff, StaffChange
from roster.staff import staff_create
from roster.sync import roster_sync, roster_sync_create
from sheets.reader import read_table
from tests.helpers import csv_bytes, new_id, people
from tests.ops.test_backup_restore import Databases, _env, manage, ok

NEW = base64.b64encode(b"rotation-test-new-key-0123456789").decode()


@pytest.fixture
def old_key(settings):
    return settings.FIELD_ENCRYPTION_KEYS[0]


@pytest.fixture
def roster(units, old_key):
    staff = people(12, "A")
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(staff), file_name="roster.csv"))
    assert result.applied and result.created == 12
    return staff


def _rotate_to(settings, old: str) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW, old]
    settings.FIELD_HASH_KEYS = [NEW, old]


def _state() -> dict[str, tuple[str, str]]:
    return {s: (c, h) for s, c, h in Staff.objects.values_list("staff_no", "id_number_cipher", "id_number_hash")}


@pytest.mark.django_db(transaction=True)
def test_rotation_in_batches_is_resumable_and_the_old_key_can_go(settings, roster, old_key, units):
    from reminders.channels import unit_channel_credentials, unit_channel_save
    from reminders.models import UnitChannel

    robot_url = "https://oapi.dingtalk.com/robot/send?access_token=rotation"
    unit_channel_save(unit=units["A"], channel="dingtalk", url=robot_url, secret="SECrotation1")
    before = {p.staff_no: p.id_number for p in roster}
    _rotate_to(settings, old_key)
    # during the rotation: reads and lookups work with rows under the old key
    assert field_key_problems() == [] or "尚未登记" in field_key_problems()[0]
    assert {s.staff_no: s.reveal_id_number() for s in Staff.objects.all()} == before

    class Stop(Exception):
        pass

    def stop_after_two(progress):
        if progress.batches == 2 and not progress.finished:
            raise Stop

    with pytest.raises(Stop):
        rotate_field_keys(batch=5, on_progress=stop_after_two)
    new_kid = idnumbers.key_id(NEW)
    half = _state()
    assert sum(c.startswith(new_kid + "$") for c, _ in half.values()) == 10  # two batches of 5 committed
    reports = []
    done = rotate_field_keys(batch=5, on_progress=lambda p: reports.append(p.as_dict()))
    assert done.finished and done.total == 13 and done.done == 13 and done.remaining == 0
    # resumed: only the rest rewritten (two people and the robot)
    assert done.rewritten == 3 and done.batches == 4 and done.retired == 2
    assert [r["remaining"] for r in reports] == [8, 3, 1, 0]
    assert {"total", "done", "remaining", "batches"} <= set(reports[0])
    after = _state()
    assert all(c.startswith(new_kid + "$") for c, _ in after.values())
    assert all(h == idnumbers.digests_all(before[s])[0] for s, (_, h) in after.items())
    # the old key removed: everything decrypts, the canary is content, check passes
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    settings.FIELD_HASH_KEYS = [NEW]
    assert {s.staff_no: s.reveal_id_number() for s in Staff.objects.all()} == before
    assert field_key_problems() == [] and field_key_decrypt_problems() == []
    robot = UnitChannel.objects.get()
    assert robot.url_cipher.startswith(new_kid + "$")
    assert unit_channel_credentials(robot) == (robot_url, "SECrotation1")
    active = set(FieldKeyCanary.objects.filter(retired=False).values_list("canary", flat=True))
    assert active == {idnumbers.key_canary(NEW, "aes"), idnumbers.key_canary(NEW, "hmac")}
    # a second run finds nothing to do
    assert rotate_field_keys(batch=5).rewritten == 0


@pytest.mark.django_db(transaction=True)
def test_matching_keeps_working_during_the_hash_rotation(settings, roster, units, old_key):
    _rotate_to(settings, old_key)
    # a person entered again by ID number is found under the old digest: no duplicate
    with pytest.raises(Exception) as refused:
        staff_create(staff_no="9999", name="又一个", id_number=roster[0].id_number, unit=units["A"])
    assert "身份证号" in str(refused.value.problems[0].column) or "已" in refused.value.problems[0].message
    assert Staff.objects.count() == 12
    # a sync of the unchanged roster, mid-rotation, changes nothing and writes no history
    changes = StaffChange.objects.count()
    result = roster_sync(sync=roster_sync_create(file=csv_bytes(roster), file_name="again.csv"))
    assert result.applied and (result.created, result.updated, result.unchanged) == (0, 0, 12)
    assert StaffChange.objects.count() == changes
    assert all(h == idnumbers.digest(p.id_number) for p, h in
               zip(roster, Staff.objects.order_by("staff_no").values_list("id_number_hash", flat=True), strict=True))


@pytest.mark.django_db(transaction=True)
def test_results_matching_by_id_number_finds_rows_under_the_old_digest(settings, roster, old_key):
    from roster.matching import ID_NUMBER, match_rows
    from tests.roster.test_matching import HEADER, SCHEMA

    _rotate_to(settings, old_key)
    person = roster[3]
    assert not Staff.objects.filter(id_number_hash=idnumbers.digest(person.id_number)).exists()  # still the old digest
    data = csv_bytes([["", person.id_number, "", person.name, ""]], header=HEADER)
    result = match_rows(read_table(data, filename="s.csv", schema=SCHEMA), keys=(ID_NUMBER,))
    assert [m.staff.staff_no for m in result.matched] == [person.staff_no] and not result.problems


def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def command_db(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("rotation"))
    old = _new_key()
    env = _env(databases.fresh("rotation"), old)
    ok(manage(env, "migrate", "-v0"))
    ok(manage(env, "seed_demo"))
    yield env, old
    databases.drop_all()


def test_the_command_rotates_and_a_wrong_key_start_is_refused(command_db):
    env, old = command_db
    new = _new_key()
    summary = json.loads(ok(manage(env, "roster_summary", "--json")))
    reveal = "from roster.models import Staff; print(Staff.objects.order_by('pk').first().reveal_id_number()[-4:])"
    last4 = ok(manage(env, "shell", "-v0", "-c", reveal)).strip()
    only_new = {**env, "FIELD_ENCRYPTION_KEY": new}
    # the new key alone, before the rotation: refused, in Chinese, naming the setting
    done = manage(only_new, "check")
    assert done.returncode != 0 and "roster.E001" in done.stderr and "FIELD_ENCRYPTION_KEY" in done.stderr
    done = manage(only_new, "roster_summary")
    assert done.returncode != 0 and "拒绝启动" in done.stderr and "Traceback" not in done.stderr
    done = manage({**env, "FIELD_ENCRYPTION_KEYS": f"{new},{_new_key()}"}, "rotate_field_key")
    assert done.returncode != 0 and "不符" in done.stderr  # a rotation needs the old key
    # both keys: everything runs; the rotation reports its batches as JSON lines
    both = {**env, "FIELD_ENCRYPTION_KEYS": f"{new},{old}"}
    done = manage(both, "roster_summary")
    assert done.returncode != 0 and "尚未登记" in done.stderr  # step 1 registers the new key
    assert "已登记新密钥 2 个" in ok(manage(both, "rotate_field_key", "--register-only"))
    assert json.loads(ok(manage(both, "roster_summary", "--json"))) == summary
    lines = [json.loads(line) for line in ok(manage(both, "rotate_field_key", "--batch", "500", "--json")).splitlines()]
    assert lines[-1]["finished"] and lines[-1]["remaining"] == 0 and lines[-1]["done"] == lines[-1]["total"]
    assert [line["batches"] for line in lines[:-1]] == list(range(1, len(lines)))
    assert lines[0]["total"] >= summary["active"] and lines[0]["remaining"] == lines[0]["total"] - 500
    # the old key removed: check passes, everything decrypts, the old key alone is now refused
    new_only = {**env, "FIELD_ENCRYPTION_KEYS": new}
    ok(manage(new_only, "check"))
    assert json.loads(ok(manage(new_only, "roster_summary", "--json"))) == summary
    assert ok(manage(new_only, "shell", "-v0", "-c", reveal)).strip() == last4
    done = manage(env, "roster_summary")
    assert done.returncode != 0 and "拒绝启动" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_an_undo_after_rotation_puts_back_a_number_sealed_under_the_new_keys(settings, roster, old_key):
    from roster.undo import roster_undo_now

    person = roster[0]
    changed = [type(p)(**vars(p)) for p in roster]
    replacement = changed[0].id_number = new_id()
    wrong = roster_sync(sync=roster_sync_create(file=csv_bytes(changed), file_name="wrong.csv"))
    assert wrong.applied and wrong.updated == 1
    _rotate_to(settings, old_key)
    rotate_field_keys(batch=5)
    new_kid = idnumbers.key_id(NEW)
    history = StaffChange.objects.get(sync_id=wrong.sync_id, field="id_number")
    assert history.old_sealed.startswith(new_kid + "$") and history.new_sealed.startswith(new_kid + "$")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # the old key is gone
    settings.FIELD_HASH_KEYS = [NEW]
    undo = roster_undo_now(target=RosterSync.objects.get(pk=wrong.sync_id))
    assert undo.applied and undo.conflicts == [] and undo.reverted["updated"] == 1
    restored = Staff.objects.get(staff_no=person.staff_no)
    assert restored.reveal_id_number() == person.id_number
    assert restored.id_number_hash == idnumbers.digest(person.id_number)
    assert not Staff.objects.filter(id_number_hash=idnumbers.digest(replacement)).exists()
