"""What the presence tests share (Jitsi, Zoom, unfurled links): a call whose meeting reports
who is in it, the moment in the providers' whole seconds, who is in it, a reconciler pass."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy.engine import URL

from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import load_settings
from calls_app.models import Call
from tests.support.app import RunningApp, app_env


class LiveMeeting(NamedTuple):
    call: Call
    name: str  # as the provider's webhooks name the meeting: a Jitsi room, a Zoom number
    at: int  # the app's clock when it went live, in seconds


def live_meeting(app: RunningApp, call: Call) -> LiveMeeting:
    assert call.meeting_id is not None, "the provider made no meeting it reports on"
    return LiveMeeting(call, call.meeting_id.split(":", 1)[1], now(app))


def start_meeting(app: RunningApp, title: str = "Standup") -> LiveMeeting:
    """`/call start`, with the provider's new meeting."""
    return live_meeting(app, app.start_call(f"start {title}"))


def now(app: RunningApp) -> int:
    return int(app.clock().timestamp())


def present(app: RunningApp, call_id: int) -> list[str | None]:
    """Who is in the call now: Slack users by id, guests by name."""
    return [
        p.slack_user_id or p.display_name for p in app.db.participants(call_id) if not p.left_at
    ]


def reconciler_pass(app: RunningApp, database_url: URL, **env: str) -> Callable[[], dict]:
    """One reconciler pass (CALLS_EMPTY_GRACE 5m, and `env`); waits its turn while another run
    on the same PostgreSQL server (the pass lock is server-wide) holds the lock."""
    settings = load_settings(app_env(app.fake, database_url, CALLS_EMPTY_GRACE="5m", **env))
    reconciler = build_reconciler(build_parts(settings, app.db.engine, clock=app.clock))

    def run() -> dict:
        deadline = time.monotonic() + 10
        while True:
            done = reconciler.run_once()
            if "skipped: another instance is reconciling" not in done:
                return done
            assert time.monotonic() < deadline, "the pass lock stayed taken"
            time.sleep(0.05)

    return run
