"""`python app.py` as a process: /metrics adds up every gunicorn worker, survives a worker's
death, and LOG_FORMAT=json makes every line it writes, gunicorn's own included, JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from calls_app.models import CallState
from local_slack.app_requests import SIGNING_SECRET, SlackDriver, get
from local_slack.web_api import FakeSlack
from tests.app_process import (
    PROJECT_ROOT,
    AppProcess,
    free_port,
    process_env,
    run_app,
    wait_healthy,
)
from tests.support.app import Database, app_env
from tests.support.process import StartApp, command, scrape
from tests.support.workspace import ALICE, GENERAL

pytestmark = pytest.mark.slow


def worker_pids(app: AppProcess) -> list[int]:
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", app.output())]


def pids_with_files(directory: Path, prefix: str) -> set[int]:
    return {int(p.name[len(prefix) : -3]) for p in directory.glob(f"{prefix}*.db")}


def test_two_workers_add_up_on_metrics_port_even_after_one_dies(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, db: Database, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by a run before: not ours")
    metrics_port = free_port()
    app = start_app(
        app_env(
            fake_slack,
            database_url,
            WEB_CONCURRENCY="2",
            METRICS_PORT=f"127.0.0.1:{metrics_port}",
            PROMETHEUS_MULTIPROC_DIR=str(directory),
        )
    )
    metrics_url = f"http://127.0.0.1:{metrics_port}"
    assert get(f"{app.base_url}/metrics").status == 404  # not on the app's port
    before = scrape(metrics_url)
    assert not (directory / "counter_1.db").exists()  # emptied at start
    assert (
        before.value("calls_app_webhook_deliveries_total", provider="slack", outcome="accepted")
        == 0
    )

    assert "Started *Standup*" in command(app, fake_slack, "start Standup")["text"]
    for _ in range(5):
        command(app, fake_slack, "status")
    # One worker that counted dies; gunicorn replaces it. Its counts stay, its gauges go.
    (dead, *_) = sorted(pids_with_files(directory, "counter_") & set(worker_pids(app)))
    os.kill(dead, signal.SIGKILL)
    fake_slack.wait_for(lambda: len(worker_pids(app)) == 3, 15, message="a new worker")
    fake_slack.wait_for(
        lambda: dead not in pids_with_files(directory, "gauge_livesum_"),
        10,
        message="the dead worker's gauges dropped",
    )
    for _ in range(5):
        command(app, fake_slack, "status")
    assert "You ended *Standup*" in command(app, fake_slack, "end")["text"]
    fake_slack.wait_for(
        lambda: scrape(metrics_url).value("calls_app_work_queue_jobs") == 0,
        10,
        message="the work queues emptied",
    )
    after = scrape(metrics_url)

    moved = after - before
    assert moved("calls_app_webhook_deliveries_total", provider="slack", outcome="accepted") == 12
    assert moved("calls_app_ack_seconds_count") == 12
    assert moved("calls_app_work_queue_wait_seconds_count") == 12
    assert moved("calls_app_calls_started_total") == 1
    assert moved("calls_app_calls_ended_total", reason="person") == 1
    assert moved("calls_app_slack_requests_total", method="calls.add", outcome="ok") == 1
    assert after.value("calls_app_live_calls") == 0
    assert db.only_call().state == CallState.ENDED
    counted_by = pids_with_files(directory, "counter_")
    assert dead in counted_by and len(counted_by & set(worker_pids(app))) >= 2, counted_by


def test_without_a_directory_given_the_app_makes_a_private_one_and_removes_it(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    app = start_app(app_env(fake_slack, database_url, WEB_CONCURRENCY="2", TMPDIR=str(temp)))
    (directory,) = temp.glob("calls-metrics-*")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    before = scrape(app.base_url)
    command(app, fake_slack, "start Standup")
    command(app, fake_slack, "end")
    fake_slack.wait_for(
        lambda: scrape(app.base_url).value("calls_app_work_queue_jobs") == 0,
        10,
        message="the work queues emptied",
    )
    # Whichever worker answers the scrape, it counts both workers' work.
    for _ in range(6):
        moved = scrape(app.base_url) - before
        assert moved("calls_app_calls_started_total") == 1
        assert moved("calls_app_calls_ended_total", reason="person") == 1
        assert (
            moved("calls_app_webhook_deliveries_total", provider="slack", outcome="accepted") == 2
        )

    app.signal(signal.SIGTERM)
    assert app.wait(timeout=25) == 0, app.output()
    assert not directory.exists()


def test_json_logs_are_json_to_the_last_line_gunicorns_too(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, db: Database
) -> None:
    app = start_app(app_env(fake_slack, database_url, LOG_FORMAT="json"))
    command(app, fake_slack, "start Standup")
    call = db.only_call()
    command(app, fake_slack, "end")
    # A request gunicorn refuses itself, logging the request line it got: a secret.
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as client:
        client.sendall(f"{SIGNING_SECRET} / HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert client.recv(100).startswith(b"HTTP/1.1 400")
    app.signal(signal.SIGTERM)
    assert app.wait(timeout=25) == 0, app.output()

    lines = []
    for path in (app.stdout_path, app.stderr_path):
        lines += [line for line in path.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # each line, or this fails
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
    messages = {entry["message"] for entry in entries}
    for gunicorns_own in (
        "Starting gunicorn",
        "Booting worker",
        "Invalid request",
        "Shutting down",
    ):
        assert any(m.startswith(gunicorns_own) for m in messages), (gunicorns_own, messages)
    (started,) = [e for e in entries if e["message"] == f"call {call.id} started in {GENERAL}"]
    assert (started["call"], started["workspace"], started["channel"]) == (
        call.id,
        "T0001",
        GENERAL,
    )
    (ended,) = [e for e in entries if e["message"] == f"call {call.id} ended (person)"]
    assert ended["call"] == call.id
    logged = "\n".join(lines)
    for secret in (fake_slack.bot_token, SIGNING_SECRET):
        assert secret not in logged


def test_gunicorn_run_by_hand_with_the_hooks_counts_every_worker(
    fake_slack: FakeSlack, database_url: URL, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    port, metrics_port = free_port(), free_port()
    settings = app_env(
        fake_slack,
        database_url,
        METRICS_PORT=f"127.0.0.1:{metrics_port}",
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    )
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--bind",
            f"127.0.0.1:{port}",
            "-c",
            "python:calls_app.gunicorn_hooks",
            "--no-control-socket",  # one per host by default: other runs would share it
            "calls_app.runtime:wsgi_app_from_env()",
        ],
        env=process_env(settings),
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        problem = wait_healthy(proc, base_url, 20)
        assert problem is None, (problem, (tmp_path / "gunicorn.log").read_text())
        before = scrape(f"http://127.0.0.1:{metrics_port}")
        result, response_url = SlackDriver(
            f"{base_url}/slack/events", fake_slack.new_response_url
        ).command("start Standup", user=ALICE)
        assert result.status == 200
        assert "Started *Standup*" in fake_slack.wait_for_response(response_url)["text"]
        moved = scrape(f"http://127.0.0.1:{metrics_port}") - before
        assert moved("calls_app_calls_started_total") == 1
        assert get(f"{base_url}/metrics").status == 404
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        log.close()


def test_a_metrics_port_in_use_stops_the_app_with_one_line(
    fake_slack: FakeSlack, database_url: URL, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = app_env(fake_slack, database_url, METRICS_PORT=f"127.0.0.1:{port}")
        result = run_app(settings, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"calls-app: METRICS_PORT: can't listen on 127.0.0.1:{port} (Address already in use)."
    ], result.stderr


def test_with_json_logs_a_startup_error_is_one_json_line(
    fake_slack: FakeSlack, database_url: URL, tmp_path: Path
) -> None:
    settings = app_env(fake_slack, database_url, LOG_FORMAT="json", PORT="not-a-port")
    result = run_app(settings, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"].startswith("calls-app: PORT: ")


def test_the_command_line_tools_print_a_startup_error_as_the_app_does(
    fake_slack: FakeSlack, database_url: URL
) -> None:
    settings = app_env(fake_slack, database_url, LOG_FORMAT="json", PORT="not-a-port")
    result = subprocess.run(
        [sys.executable, "-m", "calls_app", "reconcile"],
        env=process_env(settings),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"].startswith("calls-app: PORT: ")
