"""Upgrades: a backup taken by the previous release (tests/fixtures/release-*.backup, made at
that release's migration state) restores into a fresh database, every migration of this code
applies on top of it, and its figures are the ones the old release printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.ops.test_backup_restore import PG, REVEAL, Databases, _env, manage, ok

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RELEASE = "release-3ce0c58"


@pytest.fixture
def databases(tmp_path):
    made = Databases(tmp_path)
    yield made
    made.drop_all()


def test_the_previous_release_backup_migrates_to_head_with_the_same_figures(databases):
    file = FIXTURES / f"{RELEASE}.{'postgresql' if PG else 'sqlite'}.backup"
    expected = json.loads((FIXTURES / f"{RELEASE}.json").read_text())
    # the fixture was written with the development key
    env = _env(databases.fresh("upgrade"), settings.DEV_FIELD_ENCRYPTION_KEY)
    ok(manage(env, "restore", str(file)))
    pending = ok(manage(env, "migrate", "--plan"))
    assert "ops.0001_heartbeat" in pending and "roster.0006_field_key_canary" in pending  # it is an older state
    ok(manage(env, "migrate", "-v0"))
    assert "[ ]" not in ok(manage(env, "showmigrations"))
    ok(manage(env, "check"))  # the canary registered the key on migrate, and it decrypts the data
    assert json.loads(ok(manage(env, "roster_summary", "--json"))) == expected["roster_summary"]
    for pk, figures in expected["exam_stats"].items():
        now = json.loads(ok(manage(env, "exam_stats", pk, "--json")))
        assert {key: now[key] for key in figures} == figures
    assert ok(manage(env, "shell", "-v0", "-c", REVEAL)).strip() == expected["revealed"]


def test_the_previous_release_backup_with_another_key_is_refused(databases):
    import base64
    import os

    file = FIXTURES / f"{RELEASE}.{'postgresql' if PG else 'sqlite'}.backup"
    env = _env(databases.fresh("upgrade_key"), base64.b64encode(os.urandom(32)).decode())
    done = manage(env, "restore", str(file))
    assert done.returncode != 0 and "另一个加密密钥" in done.stderr
