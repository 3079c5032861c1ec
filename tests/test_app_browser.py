"""In a real browser: ``orgscale viz`` serves a page that renders offline and steps.

Starts ``orgscale viz`` on a free loopback port, drives Debian's headless ``chromium`` with
Playwright, presses Step, checks that the graph and plots render and a plotted value
changes, and that every request went to the local server (requests elsewhere are also
blocked, so the page is shown to work without them). Saves a screenshot in the test's
temporary folder, or at ``$ORGSCALE_SCREENSHOT`` (``make screenshot`` makes the README's
``docs/screenshot.png`` so; a test run writes no tracked file).
Skipped, with the reason, only when no chromium can be found; under CI (``$CI`` set) a
missing browser fails instead. ``scripts/ensure-chromium`` installs one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT_ENV = "ORGSCALE_SCREENSHOT"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob", "about"}  # no network involved
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
START_TIMEOUT_S = 60.0
STEP_TIMEOUT_MS = 15_000
#: The view's panels, each one picture: the team graph, then the daily series.
PANELS = (
    "Teams and links",
    "Backlog",
    "Lead time",
    "Throughput",
    "Integration cost by part",
    "Reviewers per area",
)


def find_chromium() -> str | None:
    """Path of a chromium executable: ``$CHROMIUM`` or ``chromium``/``chromium-browser``."""
    candidates = [os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser"]
    for name in filter(None, candidates):
        path = shutil.which(name)
        if path:
            return path
    return None


def is_local(url: str) -> bool:
    """Whether a request for ``url`` stays on this machine's loopback server."""
    parts = urlparse(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def viz_command(port: int) -> list[str]:
    """``orgscale viz`` as installed next to this interpreter, else through its module."""
    script = Path(sys.executable).with_name("orgscale")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "sweeps.cli"]
    return [*head, "viz", "--host", "127.0.0.1", "--port", str(port)]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        reason = (
            "no chromium executable found (tried $CHROMIUM, chromium, chromium-browser); "
            "run scripts/ensure-chromium (installs Debian's chromium with apt as root)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a browser: {reason}")
        pytest.skip(reason)
    return path


@dataclass
class Server:
    """A running ``orgscale viz``, in its own process group, printing to ``log``."""

    url: str
    proc: subprocess.Popen
    log: IO[str]

    def output(self) -> str:
        """Everything ``orgscale viz`` and its server printed so far."""
        self.log.seek(0)
        return self.log.read()

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to ``orgscale viz`` and its server, as a terminal's Ctrl-C does."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signum)


@pytest.fixture(scope="module")
def server():
    """``orgscale viz`` on a free loopback port, answering; stopped afterwards."""
    port = free_port()
    # a file, not a pipe, for the output: the server can never block on a full pipe
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            viz_command(port),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        running = Server(f"http://127.0.0.1:{port}/", proc, log)
        try:
            wait_until_answering(running)
            yield running
        finally:
            if proc.poll() is None:
                running.signal_group(signal.SIGKILL)
                proc.wait()


def wait_until_answering(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.proc.poll() is not None:
            pytest.fail(f"orgscale viz exited with {server.proc.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"orgscale viz did not answer at {server.url} in {START_TIMEOUT_S:.0f} s")
        time.sleep(0.3)


def wait_for_day(page, day: int) -> None:
    page.locator(".orgscale-day", has_text=f"Day {day} ").wait_for(timeout=STEP_TIMEOUT_MS)
    for caption in page.locator(".orgscale-caption").all():
        caption.filter(has_text=f"day {day}:").wait_for(timeout=STEP_TIMEOUT_MS)


def wait_until_still(page, quiet_s: float = 1.0) -> None:
    """Wait until the day shown has not changed for ``quiet_s`` seconds."""
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    shown = page.locator(".orgscale-day").inner_text()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = page.locator(".orgscale-day").inner_text()
        if now == shown:
            return
        shown = now
    pytest.fail(f"the day kept changing after pause: {shown}")


def images_rendered(page) -> list[int]:
    """Natural widths of the graph and plot images (0 = not loaded)."""
    return page.eval_on_selector_all(
        ".orgscale-graph img, .orgscale-plot img", "els => els.map(e => e.naturalWidth)"
    )


def test_page_renders_offline_and_steps_in_chromium(chromium, server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    url = server.url
    requested: list[str] = []
    blocked: list[str] = []
    failed: list[str] = []

    def only_local(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1250})
            context.route("**/*", only_local)
            page = context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("websocket", lambda ws: requested.append(ws.url))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on(
                "response",
                lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )

            page.goto(url)
            step = page.get_by_role("button", name="Step", exact=True)
            step.wait_for(timeout=START_TIMEOUT_S * 1000)
            wait_for_day(page, 0)
            page.wait_for_function(
                "document.querySelectorAll('.orgscale-graph img, .orgscale-plot img').length"
                f" == {len(PANELS)} && [...document.querySelectorAll("
                "'.orgscale-graph img, .orgscale-plot img')]"
                ".every(e => e.complete && e.naturalWidth > 0)",
                timeout=STEP_TIMEOUT_MS,
            )
            titles = page.eval_on_selector_all(
                ".orgscale-graph, .orgscale-plot",
                "els => els.map(e => e.innerText.split('\\n')[0])",
            )
            assert titles == list(PANELS)
            backlog = page.locator(".orgscale-plot .orgscale-caption").first
            before = backlog.inner_text()
            image_before = page.locator(".orgscale-plot img").first.get_attribute("src")

            for day in range(1, 6):
                step.click()
                wait_for_day(page, day)

            after = backlog.inner_text()
            assert before == "day 0: backlog 0"
            assert after.startswith("day 5: backlog ")
            assert after != "day 5: backlog 0"  # the plotted value changed
            assert page.locator(".orgscale-plot img").first.get_attribute("src") != image_before
            widths = images_rendered(page)
            assert len(widths) == len(PANELS)
            assert all(w > 0 for w in widths)

            # two months in ten-day steps, for the picture in the README
            days = page.get_by_role("slider").nth(1)
            days.focus()
            for _ in range(9):
                days.press("ArrowRight")
            page.get_by_text("Days per step: 10").wait_for(timeout=STEP_TIMEOUT_MS)
            for day in range(15, 66, 10):
                step.click()
                wait_for_day(page, day)
            screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)

            # ▶ runs on by itself until paused; Reset goes back to day 0
            page.get_by_role("button", name="▶").click()
            page.wait_for_function(
                "parseInt(document.querySelector('.orgscale-day').textContent.slice(4)) >= 85",
                timeout=STEP_TIMEOUT_MS,
            )
            page.get_by_role("button", name="❚❚").click()
            page.get_by_role("button", name="▶").wait_for(timeout=STEP_TIMEOUT_MS)
            wait_until_still(page)  # a step already under way when paused still lands
            page.get_by_role("button", name="Reset", exact=True).click()
            wait_for_day(page, 0)
        finally:
            browser.close()

    assert requested, "the page made no requests at all"
    assert blocked == [], f"requests to other hosts: {blocked}"
    assert all(is_local(u) for u in requested), [u for u in requested if not is_local(u)]
    assert failed == [], f"failed requests (missing local assets?): {failed}"


def test_ctrl_c_stops_the_server_cleanly(server):
    server.signal_group(signal.SIGINT)
    try:
        server.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("orgscale viz did not stop within 20 s of Ctrl-C")
    output = server.output()
    assert server.proc.returncode == 0, output
    assert f"open {server.url}" in output
    assert "stopped" in output
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url, timeout=2)
