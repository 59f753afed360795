"""The benchmark's machinery: a fake Slack that timestamps what it sees, the two servers as child
processes, signed requests over loopback, and fresh databases (SQLite files or PostgreSQL schemas).

Every wait here is bounded and fails with a BenchError saying what it waited for.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from local_slack.app_requests import (
    SIGNING_SECRET,
    app_home_opened_event,
    event_envelope,
    sign,
    slash_command_form,
)
from local_slack.web_api import FakeSlack
from local_slack.web_api.state import ApiRequest
from tests.app_process import process_env, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
APP_SCRIPT = ROOT / "app.py"
BASELINE_SCRIPT = Path(__file__).resolve().parent / "baseline_app.py"
EVENTS_PATH = "/slack/events"
TEAM_ID = "T0001"  # the fake's own workspace

# Settings of the servers: none leaks in from the environment the benchmark runs in.


class BenchError(Exception):
    """The benchmark itself cannot go on (not: the app is slow). The message says why."""


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --------------------------------------------------------------------------- the fake Slack


class Traffic(list):
    """Stands in for ``FakeSlack.requests``: the same list, plus when each request was recorded
    (``time.perf_counter()``, the clock the clients use) and waiting on milestones.

    Milestones (successful requests only): ``("chat.postMessage", channel)``,
    ``("calls.end", created_by of the call)``, ``("chat.update", channel)``,
    ``("views.publish", user_id)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self.call_owner: dict[str, str] = {}  # Slack call id -> created_by, from calls.add
        self._seen: dict[tuple[str, str], list[float]] = {}
        self._changed = threading.Condition(threading.Lock())

    def append(self, request: ApiRequest) -> None:  # called by the fake under its own lock
        now = time.perf_counter()
        with self._changed:
            super().append(request)
            self.times.append(now)
            key = self._milestone(request) if request.ok else None
            if key is not None:
                self._seen.setdefault(key, []).append(now)
                self._changed.notify_all()

    def _milestone(self, request: ApiRequest) -> tuple[str, str] | None:
        method, args = request.method, request.args
        if method == "calls.add":
            call_id = (request.response.get("call") or {}).get("id")
            if call_id:
                self.call_owner[str(call_id)] = str(args.get("created_by"))
            return None
        if method in ("chat.postMessage", "chat.update"):
            return method, str(args.get("channel"))
        if method == "calls.end":
            return method, self.call_owner.get(str(args.get("id")), "?")
        if method == "views.publish":
            return method, str(args.get("user_id"))
        return None

    def count(self, key: tuple[str, str]) -> int:
        with self._changed:
            return len(self._seen.get(key, ()))

    def wait_for(
        self,
        key: tuple[str, str],
        *,
        count: int = 1,
        timeout: float,
        abort: threading.Event | None = None,
        diagnose: Callable[[], str] | None = None,
    ) -> float:
        """When the ``count``-th ``key`` milestone was recorded; BenchError after ``timeout``."""
        deadline = time.perf_counter() + timeout
        with self._changed:
            while True:
                seen = self._seen.get(key, ())
                if len(seen) >= count:
                    return seen[count - 1]
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or (abort is not None and abort.is_set()):
                    break
                self._changed.wait(min(remaining, 0.25))
        if abort is not None and abort.is_set():
            raise BenchError("aborted")
        detail = f"\n{diagnose()}" if diagnose else ""
        raise BenchError(
            f"timed out after {timeout:.0f}s waiting for the fake Slack to see "
            f"{key[0]} #{count} for {key[1]}{detail}"
        )

    def snapshot(self) -> list[tuple[float, ApiRequest]]:
        with self._changed:
            return list(zip(self.times, self, strict=True))

    def last_time(self) -> float:
        with self._changed:
            return self.times[-1] if self.times else 0.0


def start_fake(
    users: Sequence[str], channels: Sequence[str], *, latency: float = 0.0
) -> tuple[FakeSlack, Traffic]:
    """The fake Slack Web API on 127.0.0.1 with these users, and these channels (bot a member);
    each request served `latency` seconds after it arrives, as far away as the real Slack."""
    fake = FakeSlack()
    fake.latency = latency
    traffic = Traffic()
    fake.requests = traffic
    fake.start()
    for user in users:
        fake.add_user(user)
    for channel in channels:
        fake.add_channel(channel, name=channel.lower())
    return fake, traffic


# --------------------------------------------------------------------------- signed requests


@dataclass
class Answer:
    status: int
    body: bytes
    sent: float  # perf_counter() just before connecting
    answered: float  # perf_counter() once the whole answer was read

    @property
    def latency(self) -> float:
        return self.answered - self.sent


def post_signed(port: int, body: bytes, content_type: str, *, timeout: float = 10.0) -> Answer:
    """POST a body to /slack/events as Slack does (signed now), on a fresh connection."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp, SIGNING_SECRET),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = time.perf_counter()
    try:
        connection.request("POST", EVENTS_PATH, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as error:  # refused, or cut off mid-answer
        raise BenchError(f"POST {EVENTS_PATH} on port {port} failed: {error!r}") from error
    finally:
        connection.close()
    return Answer(response.status, data, sent, time.perf_counter())


def command_body(text: str, *, user: str, channel: str, response_url: str) -> bytes:
    """A `/call` slash command as Slack posts it."""
    form = slash_command_form(
        text,
        user=user,
        team_id=TEAM_ID,
        channel=channel,
        channel_name=channel.lower(),
        response_url=response_url,
    )
    return urlencode(form).encode()


def home_opened_body(user: str) -> bytes:
    """An Events API envelope with app_home_opened."""
    return json.dumps(event_envelope(app_home_opened_event(user), team_id=TEAM_ID)).encode()


# --------------------------------------------------------------------------- server processes


def app_settings(fake: FakeSlack, **settings: str) -> dict[str, str]:
    """The app's settings against this fake Slack, quiet logs, plus `settings`."""
    return {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.base_url,
        "LOG_LEVEL": "WARNING",
        **settings,
    }


def clean_env(settings: dict[str, str]) -> dict[str, str]:
    """As the tests start the app (no stray app setting from this environment), and no
    benchmark setting left over from another run either."""
    env = process_env(settings)
    return {k: v for k, v in env.items() if not k.startswith("BENCH_") or k in settings}


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class ServerProcess:
    """One server (`python app.py` or the baseline) in a session of its own, logs to files."""

    def __init__(self, name: str, script: Path, env: dict[str, str], *, port: int, workdir: Path):
        self.name = name
        self.port = port
        self._argv = [sys.executable, str(script)]
        self._env = clean_env({**env, "PORT": str(port)})
        self._workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self._argv,
                env=self._env,
                cwd=self._workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def log_tail(self, chars: int = 4000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-chars:] or "(empty log)"

    def wait_ready(self, timeout: float = 30.0) -> ServerProcess:
        """Poll GET /healthz until 200; fail at once if the process exits."""
        assert self.proc is not None
        problem = wait_healthy(self.proc, f"http://127.0.0.1:{self.port}", timeout)
        if problem:
            raise BenchError(f"{self.name} {problem}; its log:\n{self.log_tail()}")
        return self

    def process_tree(self) -> list[int]:
        """The main process and its children (gunicorn's master and workers)."""
        assert self.proc is not None
        root = self.proc.pid
        pids = [root]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent_of(int(entry.name)) == root:
                pids.append(int(entry.name))
        return pids

    def peak_memory(self) -> dict[str, Any]:
        """Peak resident memory (VmHWM) of the master and of each worker, in KiB; and now
        the proportional set size (PSS) of all of them, pages shared after the fork counted
        once (summed peaks count them in every process)."""
        pids = self.process_tree()
        peaks = {pid: _status_kib(pid, "VmHWM") for pid in pids}
        master = peaks.pop(pids[0])
        workers = list(peaks.values())
        return {
            "master_kib": master,
            "workers_kib": workers,
            "total_kib": master + sum(workers),
            "pss_kib": sum(_pss_kib(pid) for pid in pids),
        }

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL to the whole group if need be."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        # An orphaned worker may outlive the master: the group goes regardless.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


def gunicorn_options_of_app(settings_env: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The gunicorn options the app's own server sets (all that differ from gunicorn's
    defaults), read from calls_app.http_server.GunicornServer, for the baseline to use too.
    Also the names of options that cannot be passed on (hooks and other callables)."""
    from gunicorn.config import Config

    from calls_app.config import load_settings
    from calls_app.http_server import GunicornServer

    server = GunicornServer(load_settings(settings_env))
    defaults = Config()
    options: dict[str, Any] = {}
    unmirrored: list[str] = []
    for name, setting in server.cfg.settings.items():
        value = setting.get()
        if value == defaults.settings[name].get():
            continue
        try:
            json.dumps(value)
        except TypeError:
            unmirrored.append(name)
            continue
        options[name] = value
    return options, unmirrored


# --------------------------------------------------------------------------- databases


def migrate(database_url: str) -> float:
    """`alembic upgrade head` on ``database_url``, as `make migrate` does; returns seconds."""
    alembic = ROOT / ".venv" / "bin" / "alembic"
    argv = [str(alembic)] if alembic.exists() else [sys.executable, "-m", "alembic"]
    began = time.perf_counter()
    try:
        done = subprocess.run(
            [*argv, "upgrade", "head"],
            cwd=ROOT,
            env=clean_env({"DATABASE_URL": database_url}),
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError("alembic upgrade head took over 180 s") from error
    if done.returncode != 0:
        raise BenchError(f"alembic upgrade head failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - began


class Databases:
    """Fresh, migrated databases: SQLite files under ``workdir``, or (with ``postgres_url``)
    PostgreSQL schemas of their own, isolated by search_path and dropped when released."""

    def __init__(self, workdir: Path, postgres_url: str | None = None) -> None:
        self._workdir = workdir
        self._postgres = postgres_url
        self._schemas: list[str] = []
        self._admin = None
        if postgres_url:
            from sqlalchemy import create_engine

            self._admin = create_engine(self._sqlalchemy_url(postgres_url), pool_size=1)

    @property
    def kind(self) -> str:
        return "postgresql" if self._postgres else "sqlite"

    @staticmethod
    def _sqlalchemy_url(raw: str) -> Any:
        from sqlalchemy.engine import make_url

        url = make_url(raw)
        if url.drivername in ("postgres", "postgresql"):
            url = url.set(drivername="postgresql+psycopg")
        return url

    def new(self, name: str) -> str:
        """A migrated, empty database; its URL as the app takes it in DATABASE_URL."""
        if not self._postgres:
            url = f"sqlite:///{self._workdir / f'{name}.db'}"
        else:
            from sqlalchemy import text
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import SQLAlchemyError

            schema = f"bench_{secrets.token_hex(5)}"
            assert self._admin is not None
            try:
                with self._admin.begin() as connection:
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            except SQLAlchemyError as error:
                reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
                raise BenchError(f"--postgres: can't create a schema: {reason}") from None
            self._schemas.append(schema)
            base = make_url(self._postgres)
            url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False
            )
        migrate(url)
        return url

    def release(self, url: str) -> None:
        if not self._postgres:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(url.removeprefix("sqlite:///") + suffix).unlink()
            return
        for schema in list(self._schemas):
            if schema in url:
                self._drop(schema)

    def _drop(self, schema: str) -> None:
        from sqlalchemy import text

        assert self._admin is not None
        with self._admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self._schemas.remove(schema)

    def close(self) -> None:
        """Drop every schema still there (after a failure, say)."""
        for schema in list(self._schemas):
            with contextlib.suppress(Exception):
                self._drop(schema)
        if self._admin is not None:
            self._admin.dispose()


def seed_history(database_url: str, *, user: str, channel: str, count: int, first_id: int) -> None:
    """``count`` ended calls ``user`` took part in, written straight to the database (the row
    shape of tests/listeners/events/test_app_home.py: participants.call_ended_at is set)."""
    from sqlalchemy import insert

    from calls_app.db import make_engine
    from calls_app.models import Call, CallState, Participant

    engine = make_engine(Databases._sqlalchemy_url(database_url))
    now = datetime.now(UTC).replace(microsecond=0)
    calls, people = [], []
    for i in range(count):
        started = now - timedelta(hours=2, minutes=i)
        ended = started + timedelta(minutes=30)
        call_id = first_id + i
        calls.append(
            {
                "id": call_id,
                "team_id": TEAM_ID,
                "channel_id": channel,
                "slack_call_id": f"RSEED{call_id:09d}",
                "external_unique_id": f"seed-{call_id}",
                "title": f"Past call {i}",
                "join_url": f"https://meet.example.org/seed-{call_id}",
                "created_by": user,
                "state": CallState.ENDED,
                "started_at": started,
                "ended_at": ended,
                "ended_by": user,
                "duration_seconds": 1800,
            }
        )
        people.append(
            {
                "call_id": call_id,
                "slack_user_id": user,
                "joined_at": started,
                "left_at": ended,
                "call_ended_at": ended,
            }
        )
    try:
        with engine.begin() as connection:
            for chunk in range(0, count, 2000):
                connection.execute(insert(Call), calls[chunk : chunk + 2000])
                connection.execute(insert(Participant), people[chunk : chunk + 2000])
    finally:
        engine.dispose()


def analyze(database_url: str) -> None:
    """ANALYZE: planner statistics, as autovacuum (PostgreSQL) or `ANALYZE` (SQLite) keeps them
    on a database that has been running; right after a bulk insert there are none."""
    from sqlalchemy import text

    from calls_app.db import make_engine

    engine = make_engine(Databases._sqlalchemy_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
