"""Shared by every test module: no test writes a file that git tracks.

Tests write only to temporary folders. At the end of a session every tracked file is
compared (size and modification time) with what it was at the start, and a session that
changed one fails, naming it: a test that rewrote ``docs/screenshot.png``, a figure or a
results file would otherwise change the repository on every ``make test``. The one file a
run may be asked to write is ``$ORGSCALE_SCREENSHOT`` (``make screenshot``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tracked_files() -> list[Path] | None:
    """Every file git tracks in this checkout (``None`` outside a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [ROOT / os.fsdecode(name) for name in listed.split(b"\0") if name]


def file_states(paths: list[Path]) -> dict[Path, tuple[int, int] | None]:
    """``{path: (size, modification time in ns)}``, ``None`` for a missing file."""
    states: dict[Path, tuple[int, int] | None] = {}
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            states[path] = None
        else:
            states[path] = (stat.st_size, stat.st_mtime_ns)
    return states


def changed_files(before: dict[Path, tuple[int, int] | None]) -> list[str]:
    """The files of ``before`` that are not as they were, relative to the checkout."""
    allowed = os.environ.get("ORGSCALE_SCREENSHOT")
    allowed_path = Path(allowed).resolve() if allowed else None
    now = file_states(list(before))
    return sorted(
        str(path.relative_to(ROOT))
        for path, state in before.items()
        if now[path] != state and path.resolve() != allowed_path
    )


@pytest.fixture(scope="session", autouse=True)
def tracked_files_stay_as_they_were():
    paths = tracked_files()
    before = file_states(paths) if paths is not None else {}
    yield
    changed = changed_files(before)
    if changed:
        pytest.fail(f"the tests changed tracked files: {', '.join(changed)}", pytrace=False)
