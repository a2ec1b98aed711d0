"""Settings come from the environment; production refuses unsafe starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(**env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG", "DJANGO_ENV"}}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_development_defaults_need_no_environment():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.LANGUAGE_CODE == "zh-hans"
    assert run_check().returncode == 0


def test_production_refuses_to_start_without_a_real_secret_key():
    done = run_check(DJANGO_ENV="production", FIELD_ENCRYPTION_KEY="x" * 44)
    assert done.returncode != 0 and "SECRET_KEY" in done.stderr


def test_production_refuses_to_start_without_a_field_encryption_key():
    done = run_check(DJANGO_ENV="production", SECRET_KEY="s" * 60)
    assert done.returncode != 0 and "FIELD_ENCRYPTION_KEY" in done.stderr


def test_production_starts_with_real_keys():
    done = run_check(DJANGO_ENV="production", SECRET_KEY="s" * 60, FIELD_ENCRYPTION_KEY="k" * 44, ALLOWED_HOSTS="x.org")
    assert done.returncode == 0, done.stderr
