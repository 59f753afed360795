"""`make demo`: the app as in production (`python app.py`, HTTP, SQLite) beside a local Slack.

Migrates the demo database, starts the local Slack, starts the app pointed at it with made-up
Slack settings, prints the page's address, and on Ctrl-C (or SIGTERM) stops both.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from local_slack.slack import LocalSlack

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 25.0  # the whole start must be within 30 s
STOP_TIMEOUT = 10.0
# the app's settings: none of the person's own (.env, the shell's) reaches the demo's app
APP_PREFIXES = ("SLACK_", "CALLS_")
APP_NAMES = {"DATABASE_URL", "PORT", "WEB_CONCURRENCY", "LOG_LEVEL", "GUNICORN_CMD_ARGS"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_slack", description=__doc__)
    parser.add_argument("--port", type=int, default=8080, help="the page's port (0: any free)")
    parser.add_argument(
        "--database",
        type=Path,
        default=PROJECT_ROOT / "demo.db",
        help="the demo's SQLite file (default: ./demo.db)",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    database_url = f"sqlite:///{args.database.resolve()}"
    migrated = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env=app_env({"DATABASE_URL": database_url}),
        capture_output=True,
        text=True,
    )
    if migrated.returncode != 0:
        print(f"demo: migrating {args.database} failed:\n{migrated.stderr}", file=sys.stderr)
        return 1
    try:
        slack = LocalSlack().start(port=args.port)
    except OSError as error:
        print(f"demo: can't serve on port {args.port} ({error}); try --port 0", file=sys.stderr)
        return 1
    app: subprocess.Popen | None = None
    try:
        port = free_port()
        app = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "app.py")],
            cwd=PROJECT_ROOT,
            env=app_env(
                {
                    **slack.app_settings(),
                    # a made-up self-hosted Jitsi: the page plays its event_sync webhook
                    **slack.meeting.app_settings(),
                    "DATABASE_URL": database_url,
                    "PORT": str(port),
                    "CALLS_HOME_REFRESH": "1",  # Home tabs follow changes within a second
                }
            ),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops the app in turn
        )
        app_url = f"http://127.0.0.1:{port}"
        problem = wait_ready(app, app_url, stop)
        if problem:
            print(f"demo: the app {problem}", file=sys.stderr)
            return 1
        slack.connect(f"{app_url}/slack/events")
        slack.meeting.connect(app_url)
        print(
            f"\ncalls-app demo: open {slack.page_url} in a browser "
            f"(the app, pid {app.pid}, serves on {app_url}). Ctrl-C stops both.\n",
            flush=True,
        )
        while not stop.wait(0.5):
            if app.poll() is not None:
                print(f"demo: the app exited with {app.returncode}", file=sys.stderr)
                return 1
        return 0
    finally:
        if app is not None:
            stop_app(app)
        slack.stop()
        print("demo: stopped", flush=True)


def app_env(settings: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(APP_PREFIXES) and key not in APP_NAMES
    }
    return {**env, "PYTHONUNBUFFERED": "1", **settings}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(app: subprocess.Popen, app_url: str, stop: threading.Event) -> str | None:
    """None once GET /healthz answers 200, or why it did not."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and not stop.is_set():
        if app.poll() is not None:
            return f"exited with {app.returncode} before it was ready (see above)"
        with (
            contextlib.suppress(OSError),  # HTTPError is one: a 503 while the database wakes
            urllib.request.urlopen(f"{app_url}/healthz", timeout=2) as response,
        ):
            if response.status == 200:
                return None
        time.sleep(0.1)
    return "was stopped before it was ready" if stop.is_set() else "wasn't ready in time"


def stop_app(app: subprocess.Popen) -> None:
    """SIGTERM (the app finishes what it acknowledged), then SIGKILL if it takes too long."""
    if app.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(app.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            app.wait(timeout=STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(app.pid, signal.SIGKILL)  # workers the main process left behind
    with contextlib.suppress(subprocess.TimeoutExpired):
        app.wait(timeout=STOP_TIMEOUT)
