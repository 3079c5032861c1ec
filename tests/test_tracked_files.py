"""The session guard of ``conftest.py``: a test run that changes a tracked file fails."""

from __future__ import annotations

import os

from conftest import ROOT, changed_files, file_states


def test_a_changed_tracked_file_is_named():
    readme = ROOT / "README.md"
    before = file_states([readme])
    stat = readme.stat()
    try:
        os.utime(readme, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert changed_files(before) == ["README.md"]
    finally:
        os.utime(readme, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert changed_files(before) == []


def test_the_screenshot_asked_for_may_change(monkeypatch):
    screenshot = ROOT / "docs" / "screenshot.png"
    before = file_states([screenshot])
    before[screenshot] = (0, 0)  # as if it had been rewritten since
    assert changed_files(before) == ["docs/screenshot.png"]
    monkeypatch.setenv("ORGSCALE_SCREENSHOT", str(screenshot))
    assert changed_files(before) == []
