"""The outbox store on a real database: each item to one claimant, changes coalesced, a run
no sooner than its interval, a dead claimant's items taken over, idle rows forgotten."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from calls_app.db import make_engine
from calls_app.models import OutboxItem
from calls_app.outbox import Kind, Outbox

INTERVAL = timedelta(seconds=10)
LEASE = timedelta(seconds=30)


class Wall:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def engines(database_url):
    made = [make_engine(database_url) for _ in range(2)]  # two processes' worth
    yield made
    for engine in made:
        engine.dispose()


def outbox_on(engine, wall: Wall) -> Outbox:
    return Outbox(engine, min_interval=dict.fromkeys(Kind, INTERVAL), now=wall)


def rows(engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_changes_to_one_thing_become_one_item(engines, wall):
    outbox = outbox_on(engines[0], wall)
    for _ in range(5):
        outbox.add_participants_change(team_id="T1", enterprise_id=None, call_id=7)
    outbox.add_home_changes(team_id="T1", enterprise_id=None, user_ids=["U1", "U2", "U1"])
    (participants, homes_of_call, home_u1, home_u2) = rows(engines[0])
    assert (participants.kind, participants.call_id, participants.generation) == (
        "participants",
        7,
        4,
    )
    assert (homes_of_call.kind, homes_of_call.call_id) == ("homes_of_call", 7)
    assert [(r.kind, r.user_id) for r in (home_u1, home_u2)] == [("home", "U1"), ("home", "U2")]
    assert outbox.pending() == 4


def test_each_item_goes_to_one_claimant_however_many_claim_at_once(engines, wall):
    first, second = outbox_on(engines[0], wall), outbox_on(engines[1], wall)
    first.add_home_changes(team_id="T1", enterprise_id=None, user_ids=[f"U{n}" for n in range(60)])
    claimed: list[list[int]] = [[], [], [], []]
    start = threading.Barrier(4)

    def claim(slot: int, outbox: Outbox) -> None:
        start.wait()
        while items := outbox.claim(3, lease=LEASE):
            claimed[slot].extend(item.id for item in items)

    threads = [
        threading.Thread(target=claim, args=(slot, (first, second)[slot % 2])) for slot in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    every = [item for slot in claimed for item in slot]
    assert sorted(every) == sorted(r.id for r in rows(engines[0]))  # each once, none left out


def test_a_change_while_running_runs_it_again_after_the_interval(engines, wall):
    outbox = outbox_on(engines[0], wall)
    outbox.add_homes_of_call_change(team_id="T1", enterprise_id=None, call_id=7)
    (item,) = outbox.claim(5, lease=LEASE)
    outbox.add_homes_of_call_change(team_id="T1", enterprise_id=None, call_id=7)  # meanwhile
    outbox.finish(item)
    assert outbox.pending() == 1
    assert outbox.claim(5, lease=LEASE) == []  # not before the interval
    wall.now += INTERVAL
    (again,) = outbox.claim(5, lease=LEASE)
    assert again.generation == item.generation + 1
    outbox.finish(again)
    assert outbox.pending() == 0


def test_a_change_soon_after_a_run_waits_for_the_interval_too(engines, wall):
    outbox = outbox_on(engines[0], wall)
    outbox.add_home_changes(team_id="T1", enterprise_id=None, user_ids=["U1"])
    (item,) = outbox.claim(5, lease=LEASE)
    outbox.finish(item)
    wall.now += timedelta(seconds=1)
    outbox.add_home_changes(team_id="T1", enterprise_id=None, user_ids=["U1"])
    assert outbox.claim(5, lease=LEASE) == []
    wall.now += INTERVAL
    assert len(outbox.claim(5, lease=LEASE)) == 1


def test_an_item_whose_claimant_died_is_taken_over_once_its_lease_runs_out(engines, wall):
    dead, alive = outbox_on(engines[0], wall), outbox_on(engines[1], wall)
    dead.add_homes_of_call_change(team_id="T1", enterprise_id=None, call_id=7)
    (held,) = dead.claim(5, lease=LEASE)
    assert alive.claim(5, lease=LEASE) == []
    wall.now += LEASE + timedelta(seconds=1)
    (taken,) = alive.claim(5, lease=LEASE)
    assert (taken.id, taken.attempts) == (held.id, 2)


def test_a_retry_waits_as_long_as_it_was_told(engines, wall):
    outbox = outbox_on(engines[0], wall)
    outbox.add_homes_of_call_change(team_id="T1", enterprise_id=None, call_id=7)
    (item,) = outbox.claim(5, lease=LEASE)
    outbox.retry(item, after=timedelta(seconds=42))
    wall.now += timedelta(seconds=41)
    assert outbox.claim(5, lease=LEASE) == []
    wall.now += timedelta(seconds=1)
    assert [i.id for i in outbox.claim(5, lease=LEASE)] == [item.id]


def test_idle_rows_are_forgotten_and_nothing_pending_is(engines, wall):
    outbox = outbox_on(engines[0], wall)
    outbox.add_home_changes(team_id="T1", enterprise_id=None, user_ids=["U1", "U2"])
    for item in outbox.claim(5, lease=LEASE):
        outbox.finish(item)
    outbox.add_home_changes(team_id="T1", enterprise_id=None, user_ids=["U2"])  # pending again
    wall.now += timedelta(hours=2)
    assert outbox.forget_idle() == 1
    assert [r.user_id for r in rows(engines[0])] == ["U2"]
