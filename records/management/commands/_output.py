"""Where the record commands write: a file named with -o, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from config.errors import DomainError


def output_path(value: str | None) -> Path | None:
    if value is None:
        return None
    if not value.strip():
        raise DomainError("输出文件名不能为空。")
    path = Path(value)
    if path.is_dir():
        raise DomainError(f"输出位置“{path}”是一个文件夹，请指定文件名。")
    if not path.parent.exists():
        raise DomainError(f"输出文件夹“{path.parent}”不存在。")
    return path


def write_output(path: Path, write: Callable[[IO[bytes]], object]) -> object:
    """Write through a temporary file beside ``path`` and move it into place: a file that
    failed half-way is never left behind under the name asked for."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            result = write(out)
        os.replace(temporary, path)
    except OSError as exc:
        raise DomainError(f"无法写入文件 {path}：{exc.strerror or exc}")
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return result
