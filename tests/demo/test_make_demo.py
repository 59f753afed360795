"""`make demo`'s runner as a process: it serves the page within 30 s with the real `python app.py`
behind it, and Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.app_process import process_env
from tests.support.demo import ADA, GENERAL

pytestmark = pytest.mark.slow

ADDRESS = re.compile(r"open (http://\S+) in a browser \(the app, pid (\d+), serves on (\S+)\)")


def read_address(demo: subprocess.Popen, timeout: float) -> tuple[str, int, str]:
    deadline = time.monotonic() + timeout
    seen = []
    assert demo.stdout is not None
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = ADDRESS.search(line)
        if found:
            return found.group(1), int(found.group(2)), found.group(3)
    raise AssertionError(f"no address printed within {timeout}s:\n{''.join(seen)}")


def refused(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except OSError as error:
        return isinstance(getattr(error, "reason", error), ConnectionRefusedError)
    return False


def main_html(page_url: str, **where: str) -> str:
    with urllib.request.urlopen(f"{page_url}/state?{urlencode(where)}", timeout=5) as response:
        return json.load(response)["main"]["html"]


def test_the_demo_serves_within_30_seconds_and_ctrl_c_stops_both_processes(tmp_path) -> None:
    started = time.monotonic()
    with open(tmp_path / "stderr", "w") as stderr:
        demo = subprocess.Popen(
            [sys.executable, "-m", "local_slack", "--port", "0", "--database", "d.db"],
            cwd=tmp_path,
            # the person's own settings (.env, the shell) do not reach the demo's app: with
            # this one, left without its template, the app would refuse to start
            env=process_env({"CALLS_JOIN_URL_PROVIDER": "template"}),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        page_url, app_pid, app_url = read_address(demo, timeout=30)
        assert time.monotonic() - started < 30
        with urllib.request.urlopen(page_url, timeout=5) as response:
            assert "You are" in response.read().decode()

        typed = urlencode({"as": ADA, "at": GENERAL, "text": "/call start Standup"}).encode()
        urllib.request.urlopen(f"{page_url}/message", data=typed, timeout=10).close()
        deadline = time.monotonic() + 15
        while "call-card live" not in main_html(page_url, **{"as": ADA, "at": GENERAL}):
            assert time.monotonic() < deadline, (tmp_path / "stderr").read_text()
            time.sleep(0.2)
        card = main_html(page_url, **{"as": ADA, "at": GENERAL})
        # the app was given the demo's self-hosted Jitsi: its room, and the meeting's controls
        assert "https://meet.demo.invalid/" in card and 'action="/meeting"' in card

        demo.send_signal(signal.SIGINT)  # as Ctrl-C does
        assert demo.wait(timeout=20) == 0
        assert refused(page_url)
        assert refused(f"{app_url}/healthz")
        with pytest.raises(ProcessLookupError):
            os.kill(app_pid, 0)  # gone, and reaped: the demo waited for it
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=10)
    assert (tmp_path / "d.db").exists()  # --database is relative to where the demo runs
