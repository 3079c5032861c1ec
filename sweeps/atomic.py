"""Atomic files: write to a temporary name in the target's folder, then rename over the target.

Every file the project writes (result parts, ``runs.parquet``, the manifest, the spec copy,
fits, ``sensitivity.csv``, the paper) goes through :func:`atomic_write`, so a reader, or a
process killed at any moment, sees either the old file or the new one, never half of one.

The temporary file is ``.<name>.tmp-<pid>-<random>`` beside the target (the rename must not
cross file systems); it is flushed and ``fsync``-ed before the rename, and removed if
writing fails. A process killed while writing leaves such a hidden file behind;
:data:`TEMP_GLOB` matches them for clean-up.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMP_GLOB = ".*.tmp-*"


def temporary_path(path: Path) -> Path:
    """A fresh hidden temporary name beside ``path`` (unique per process and call)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Create ``path`` atomically: ``write(tmp)`` writes the content to ``tmp``, then a rename.

    Parameters
    ----------
    path : the file to create or replace; its folder must exist.
    write : writes the whole content to the path it is given (e.g. ``pq.write_table``).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    tmp = temporary_path(path)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, data: Any, **dumps: Any) -> Path:
    """Write ``data`` as indented JSON (``json.dumps(data, indent=2, **dumps)``) atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, **dumps) + "\n")


__all__ = [
    "TEMP_GLOB",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "temporary_path",
]
