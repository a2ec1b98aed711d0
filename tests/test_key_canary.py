"""The key canary: with a key that does not fit the stored data, the web app, a worker, beat and
every command refuse to start with one Chinese line naming the setting; `check` fails too."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from roster import idnumbers
from roster.fieldkeys import field_key_problems, field_keys_register, field_keys_retire
from roster.models import FieldKeyCanary, KeyPurpose
from tests.conftest import ROOT


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A database of its own, migrated with one key (the canary is written on first migrate)."""
    folder = tmp_path_factory.mktemp("canary")
    key = _key()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELD_", "CELERY_", "DATABASE_"))}
    env.update(DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}", FIELD_ENCRYPTION_KEY=key)
    done = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return env, key


def _run(env: dict, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _refused(done: subprocess.CompletedProcess, setting: str = "FIELD_ENCRYPTION_KEY") -> bool:
    lines = [line for line in (done.stderr + done.stdout).splitlines() if "拒绝启动" in line]
    return done.returncode != 0 and len(lines) == 1 and setting in lines[0] and "Traceback" not in done.stderr


def test_a_command_with_the_right_key_runs(migrated):
    env, _ = migrated
    done = _run(env, sys.executable, "manage.py", "roster_summary", "--json")
    assert done.returncode == 0, done.stderr


def test_a_command_with_another_key_refuses_to_start(migrated):
    env, _ = migrated
    done = _run({**env, "FIELD_ENCRYPTION_KEY": _key()}, sys.executable, "manage.py", "roster_summary")
    assert _refused(done), done.stderr


def test_check_fails_with_another_key(migrated):
    env, _ = migrated
    done = _run({**env, "FIELD_ENCRYPTION_KEY": _key()}, sys.executable, "manage.py", "check")
    assert done.returncode != 0 and "roster.E001" in done.stderr and "FIELD_ENCRYPTION_KEY" in done.stderr


def test_the_web_app_with_another_key_refuses_to_start(migrated):
    env, _ = migrated
    done = _run({**env, "FIELD_ENCRYPTION_KEY": _key()}, sys.executable, "-c", "import config.wsgi")
    assert _refused(done), done.stderr
    assert _run(env, sys.executable, "-c", "import config.wsgi").returncode == 0


def test_a_worker_with_another_key_refuses_to_start(migrated):
    env, _ = migrated
    done = _run({**env, "FIELD_ENCRYPTION_KEY": _key()}, sys.executable, "-m", "celery", "-A", "config",
                "-b", "memory://", "worker", "-P", "solo", "--without-gossip", "--without-mingle", timeout=90)
    assert _refused(done), done.stderr[-2000:]


def test_beat_with_another_key_refuses_to_start(migrated, tmp_path):
    env, _ = migrated
    done = _run({**env, "FIELD_ENCRYPTION_KEY": _key()}, sys.executable, "-m", "celery", "-A", "config",
                "-b", "memory://", "beat", "-s", str(tmp_path / "beat"), timeout=90)
    assert done.returncode != 0 and "FIELD_ENCRYPTION_KEY" in done.stderr + done.stdout


def test_another_hash_key_is_refused_naming_its_setting(migrated):
    env, key = migrated
    done = _run({**env, "FIELD_HASH_KEYS": _key()}, sys.executable, "manage.py", "roster_summary")
    assert _refused(done, "FIELD_HASH_KEYS"), done.stderr


# --- the rules, in process -----------------------------------------------------------------


@pytest.mark.django_db
def test_first_migrate_registered_the_configured_keys():
    canaries = set(FieldKeyCanary.objects.values_list("purpose", "canary"))
    assert canaries == {(KeyPurpose.AES, idnumbers.key_canary(idnumbers.encryption_secrets()[0], "aes")),
                        (KeyPurpose.HMAC, idnumbers.key_canary(idnumbers.hash_secrets()[0], "hmac"))}
    assert field_key_problems() == []


@pytest.mark.django_db
def test_a_new_key_must_be_registered_and_the_old_kept_until_retired(settings):
    old = settings.FIELD_ENCRYPTION_KEY
    new = _key()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    settings.FIELD_HASH_KEYS = [new, old]
    [problem] = field_key_problems()[:1]
    assert "FIELD_ENCRYPTION_KEYS" in problem and "rotate_field_key" in problem
    assert field_keys_register()
    assert field_key_problems() == []
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_HASH_KEYS = [new]
    assert "缺少数据库仍在使用" in field_key_problems()[0]
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_HASH_KEYS = [new, old]
    field_keys_retire(purpose=KeyPurpose.AES)
    field_keys_retire(purpose=KeyPurpose.HMAC)
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_HASH_KEYS = [new]
    assert field_key_problems() == []


@pytest.mark.django_db
def test_a_wrong_key_is_never_registered(settings):
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_HASH_KEYS = [_key()]
    assert field_keys_register() == []
    assert FieldKeyCanary.objects.count() == 2 and field_key_problems()
