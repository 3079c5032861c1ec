"""``orgscale viz``: serve the interactive view of one run (``model/app.py``) on this machine.

Starts a Solara server on the page in :mod:`model.app`, prints its URL once it answers, and
runs until Ctrl-C. The page works without internet: Solara's Vue app, fonts and icons come
from the ``solara-assets`` package through the server's own asset route, figures are PNGs
drawn on the server, and the server's calls home (version check, telemetry, the development
mode's check frame) are switched off here.

Usage: ``orgscale viz [--host 127.0.0.1] [--port 8765]``
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

APP_MODULE = "model.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
STARTUP_TIMEOUT_S = 120.0

#: Solara settings (environment variables) that keep the server and its page offline.
OFFLINE_ENV = {
    "SOLARA_ASSETS_PROXY": "true",  # the page asks this server, not a CDN, for its assets
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",  # no usage pings
    "SOLARA_MODE": "production",  # no check frame from solara.dev, no auto-restart
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "viz",
        help="serve the interactive view of one run in the browser",
        description=(
            "Serve an interactive view of one run (team graph, backlog, lead time, throughput, "
            "integration cost) at http://HOST:PORT/. Works offline. Stop it with Ctrl-C."
        ),
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.set_defaults(handler=run)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def page_url(host: str, port: int) -> str:
    """The URL of the page served on ``host``:``port``."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def probe_address(host: str) -> str:
    """Where to check that the server answers: the wildcard addresses map to loopback."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host.strip("[]"))


def solara_command(host: str, port: int) -> list[str]:
    """The command that serves :data:`APP_MODULE` (as a module, so ``model`` stays a package)."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
        "--no-check-version",
        "--theme-loader",
        "plain",  # no "runs on Solara" banner over the plots
        "--log-level",
        "warning",
    ]


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the server: ``base`` (default: this process's) plus offline settings.

    The project root goes first on ``PYTHONPATH`` so that ``model.app`` is this checkout's.
    """
    env = dict(os.environ if base is None else base)
    env.update(OFFLINE_ENV)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    # Solara warns on every page load served over plain http on 127.0.0.1 (it falls back to
    # a same-site cookie, which is right for a local page): keep the terminal readable.
    quiet = "ignore:Cookies with samesite=none require https:UserWarning"
    env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS", ""), quiet) if w)
    return env


def missing_offline_assets() -> list[str]:
    """Asset folders Solara's page needs that are not in the local asset cache.

    Solara's page template names the exact versions of its Vue app; ``solara-assets``
    installs them into Solara's proxy cache. An empty list means the page can load offline.
    """
    try:
        import solara.server
        import solara.server.settings as solara_settings
    except ImportError:
        return ["solara (not installed)"]
    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    try:
        text = template.read_text(encoding="utf-8")
    except OSError:
        return []
    cache = Path(solara_settings.assets.proxy_cache_dir)
    needed = sorted(set(re.findall(r"@widgetti/solara-vuetify-app@[\w.]+", text)))
    needed.append(f"requirejs@{_first(r'requirejs@([\w.]+)', text)}")
    return [name for name in needed if not (cache / name).is_dir()]


def _first(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else "?"


def _port_free(host: str, port: int) -> str | None:
    """``None`` if ``host``:``port`` can be bound, else the reason it cannot."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
    except OSError as err:
        return err.strerror or str(err)
    return None


def wait_until_listening(
    host: str, port: int, proc: subprocess.Popen, timeout: float = STARTUP_TIMEOUT_S
) -> bool:
    """Wait until something accepts connections on ``host``:``port`` or ``proc`` exits."""
    deadline = time.monotonic() + timeout
    address = probe_address(host)
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection((address, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server: Ctrl-C first (it may already have it), then terminate, then kill."""
    if proc.poll() is not None:
        return
    for send, wait_s in ((lambda: proc.send_signal(signal.SIGINT), 5), (proc.terminate, 5)):
        send()
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Serve the page until Ctrl-C (exit status 0), or return 2 for bad input."""
    host, port = args.host, args.port
    if not 1 <= port <= 65535:
        print(f"orgscale viz: --port {port} is invalid: must be in 1..65535", file=sys.stderr)
        return 2
    if not is_loopback(host):
        print(
            f"orgscale viz: warning: --host {host} is not a loopback address; anyone who can "
            "reach this machine on that address can open the page and run the model. Use "
            "127.0.0.1 (the default) and an SSH tunnel to view it from elsewhere.",
            file=sys.stderr,
        )
    reason = _port_free(host, port)
    if reason is not None:
        print(
            f"orgscale viz: cannot listen on {host}:{port} ({reason}); choose another --port",
            file=sys.stderr,
        )
        return 2
    missing = missing_offline_assets()
    if missing:
        print(
            "orgscale viz: warning: the page's scripts are not installed locally "
            f"({', '.join(missing)}), so the browser will need internet. Install matching "
            "solara and solara-assets versions.",
            file=sys.stderr,
        )
    url = page_url(host, port)
    print(f"orgscale viz: starting the view of one run at {url}", flush=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
    proc = subprocess.Popen(solara_command(host, port), env=server_env())
    try:
        if not wait_until_listening(host, port, proc):
            status = proc.poll()
            print(f"orgscale viz: the server did not start (exit status {status})", file=sys.stderr)
            return 1
        print(f"orgscale viz: open {url} in a browser (Ctrl-C to stop)", flush=True)
        status = proc.wait()
        return 0 if status in (0, -signal.SIGINT) else status
    except KeyboardInterrupt:
        print("orgscale viz: stopped", flush=True)
        return 0
    finally:
        _stop(proc)
