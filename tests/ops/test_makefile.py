"""`make run` and `make test` on a machine with pyenv: pyenv installs a shim for every
version it knows, so `command -v python3.12` succeeds and running it prints
"pyenv: python3.12: command not found". The Makefile's interpreter probe must keep that to
itself and pick the next interpreter (issue 20)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _probe(path: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(settings.BASE_DIR),
         "--eval", "probe-python-for-test: ; @echo $(PYTHON)", "probe-python-for-test"],
        env=env, capture_output=True, text=True, timeout=60,
    )


def _fake_pyenv_shims(tmp_path: Path) -> Path:
    shims = tmp_path / "shims"
    shims.mkdir()
    for name in ("python3.12", "python3.13"):
        shim = shims / name
        shim.write_text(f'#!/bin/sh\necho "pyenv: {name}: command not found" >&2\nexit 127\n')
        shim.chmod(0o755)
    return shims


def test_a_failing_pyenv_shim_is_skipped_without_a_word(tmp_path):
    shims = _fake_pyenv_shims(tmp_path)
    real = tmp_path / "real"
    real.mkdir()
    (real / "python3").symlink_to(Path(sys.executable).resolve())  # a real 3.11+ interpreter
    result = _probe(f"{shims}:{real}:/usr/bin:/bin", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pyenv" not in result.stderr and result.stderr == ""
    assert result.stdout.strip() in {"python3.11", "python3"}


def test_without_any_python_the_probe_is_empty_and_quiet(tmp_path):
    shims = _fake_pyenv_shims(tmp_path)
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("sh", "bash", "make"):
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    result = _probe(f"{shims}:{bare}", tmp_path)
    assert result.stderr == "" and result.stdout.strip() == ""
