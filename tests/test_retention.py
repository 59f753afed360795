"""Retention: the reconciler deletes calls over for longer than CALLS_HISTORY_DAYS, with their
participants and invitations, in bounded batches; nothing live, nothing younger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import ConfigError, load_settings
from calls_app.models import CallState, Invitation, Participant
from calls_app.store.reconciliation import ReconcileStore
from tests.support.app import app_env
from tests.support.views import home_of, texts
from tests.support.workspace import ALICE, BOB, CAROL

# Nothing else the reconciler does may end the live call while the clock moves a year.
NEVER = "87600h"


def reconciler_for(app, database_url, **settings: str):
    env = app_env(
        app.fake,
        database_url,
        CALLS_MAX_DURATION=NEVER,
        CALLS_EMPTY_GRACE=NEVER,
        CALLS_HISTORY_DAYS="365",
        **settings,
    )
    return build_reconciler(build_parts(load_settings(env), app.db.engine, clock=app.clock))


def rows(app, model, call_id: int) -> int:
    with app.db.engine.connect() as connection:
        return connection.scalar(
            select(func.count()).select_from(model).where(model.call_id == call_id)
        )


def test_calls_over_for_longer_than_the_history_are_deleted_and_nothing_else(
    running_app, database_url
):
    app = running_app
    reconcile = reconciler_for(app, database_url).run_once
    old = app.start_call(f"start Old <@{BOB}|bob>")
    app.command("join", user=CAROL)
    app.command("end", user=ALICE)
    app.fake.fail_next("calls.add", error="not_authorized")
    app.command("start Refused", user=ALICE)
    (failed,) = [c for c in app.db.calls() if c.state == CallState.FAILED]
    app.settle()
    app.clock.advance(days=1)
    live = app.start_call(f"start Live <@{CAROL}|carol>")
    app.clock.advance(seconds=1)
    app.fake.add_channel("C0OTHER1", name="other")
    recent = app.start_call("start Recent", channel="C0OTHER1")
    app.command("end", user=ALICE, channel="C0OTHER1")
    assert rows(app, Participant, old.id) == 2 and rows(app, Invitation, old.id) == 1

    # Exactly 365 days after Old and Refused ended: not older than the history yet.
    app.clock.advance(days=364, seconds=-1)
    assert "deleted old calls" not in reconcile()
    assert {c.id for c in app.db.calls()} == {old.id, failed.id, live.id, recent.id}

    app.clock.advance(seconds=1)
    assert reconcile()["deleted old calls"] == 2
    assert {c.id for c in app.db.calls()} == {live.id, recent.id}
    for gone in (old.id, failed.id):
        assert rows(app, Participant, gone) == 0 and rows(app, Invitation, gone) == 0
    assert app.db.call(live.id).state == CallState.ACTIVE
    assert app.db.present(live.id) == [ALICE]
    assert rows(app, Invitation, live.id) == 1

    # A year after Live started it is still live, and still there.
    app.clock.advance(days=400)
    assert reconcile().get("deleted old calls") == 1  # Recent
    assert [c.id for c in app.db.calls()] == [live.id]


def test_home_and_status_stay_correct_after_old_calls_go(running_app, database_url):
    app = running_app
    reconcile = reconciler_for(app, database_url).run_once
    app.start_call("start Yesteryear")
    app.command("end", user=ALICE)
    app.clock.advance(days=200)
    app.start_call("start Lastmonth")
    app.command("end", user=ALICE)
    live = app.start_call("start Ongoing")
    assert "Yesteryear" in texts(home_of(app, ALICE))

    app.clock.advance(days=166)
    assert reconcile() == {"deleted old calls": 1}

    shown = texts(home_of(app, ALICE))
    assert "Yesteryear" not in shown
    assert "Lastmonth" in shown and "Ongoing" in shown
    status = app.command("status", user=BOB)
    assert "Ongoing" in status["text"] + str(status.get("blocks"))
    assert app.db.call(live.id).state == CallState.ACTIVE


def test_a_backlog_is_deleted_a_bounded_batch_at_a_time(running_app):
    app = running_app
    for n in range(3):
        app.fake.add_channel(f"C0CHAN{n:03d}", name=f"chan{n}")
        app.start_call(f"start Old{n}", channel=f"C0CHAN{n:03d}")
        app.command("end", user=ALICE, channel=f"C0CHAN{n:03d}")
    store = ReconcileStore(app.db.engine)
    cutoff = app.clock() + timedelta(seconds=1)

    assert store.delete_old_calls(ended_before=cutoff, limit=2) == 2
    assert len(app.db.calls()) == 1
    assert store.delete_old_calls(ended_before=cutoff, limit=2) == 1
    assert store.delete_old_calls(ended_before=cutoff, limit=2) == 0
    assert app.db.calls() == []


def test_history_days_must_be_a_whole_number_of_at_least_one(fake_slack, database_url):
    for bad in ("0", "-3", "a year"):
        with pytest.raises(ConfigError) as error:
            load_settings(app_env(fake_slack, database_url, CALLS_HISTORY_DAYS=bad))
        assert error.value.setting == "CALLS_HISTORY_DAYS"
    assert load_settings(app_env(fake_slack, database_url)).history_days == 365
