"""The real entry point, `python app.py`, as a child process: start, wait until ready, stop.

Each app runs in a session (process group) of its own, so a kill reaches gunicorn's workers
too, as it would when a container dies. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "app.py"

# Settings of the app: none leaks in from the environment the tests run in.
_APP_PREFIXES = ("SLACK_", "CALLS_")
_APP_NAMES = {
    "DATABASE_URL",
    "PORT",
    "WEB_CONCURRENCY",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "METRICS_PORT",
    "PROMETHEUS_MULTIPROC_DIR",
    "GUNICORN_CMD_ARGS",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(settings: dict[str, str]) -> dict[str, str]:
    """The test run's environment (PATH and the like), less any app setting, plus ``settings``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_APP_PREFIXES) and key not in _APP_NAMES
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


def wait_healthy(proc: subprocess.Popen, base_url: str, timeout: float) -> str | None:
    """Poll GET /healthz until it answers 200 (None), or say why it never did."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with {proc.returncode} before it was ready"
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return None
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except OSError as error:
            last = repr(error)
        time.sleep(0.05)
    return f"not ready after {timeout:.0f}s ({last})"


def run_app(
    settings: dict[str, str], *, cwd: Path, timeout: float = 20
) -> subprocess.CompletedProcess:
    """Run `python app.py` expecting it to stop by itself (a start-up error)."""
    return subprocess.run(
        [sys.executable, str(APP)],
        env=process_env(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_module(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m module args…` from the project root, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


class AppProcess:
    """One `python app.py` serving HTTP on ``port``; output goes to files under ``log_dir``."""

    def __init__(self, settings: dict[str, str], *, port: int, log_dir: Path, name: str) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.events_url = f"{self.base_url}/slack/events"
        self.stdout_path = log_dir / f"{name}.stdout"
        self.stderr_path = log_dir / f"{name}.stderr"
        self._settings = {**settings, "PORT": str(port)}
        self._cwd = log_dir
        self.proc: subprocess.Popen | None = None

    def start(self) -> AppProcess:
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(APP)],
                env=process_env(self._settings),
                cwd=self._cwd,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def output(self) -> str:
        text = []
        for path in (self.stdout_path, self.stderr_path):
            if path.exists():
                text.append(f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(text)

    def wait_ready(self, timeout: float = 15.0) -> AppProcess:
        """Poll GET /healthz until it answers 200; fail early if the process exits."""
        assert self.proc is not None
        problem = wait_healthy(self.proc, self.base_url, timeout)
        if problem:
            raise AssertionError(f"app {problem}\n{self.output()}")
        return self

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the app's main process only (as a process manager does)."""
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill_all(self) -> None:
        """SIGKILL the app and all its workers at once: nothing runs another instruction."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Teardown: whatever state it is in, nothing of it survives."""
        if self.proc is None:
            return
        # The group may outlive the main process (an orphaned worker): kill it regardless.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
