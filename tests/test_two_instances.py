"""Two app processes on one database: racing requests split between them change state once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from calls_app.db import make_engine
from calls_app.models import CallState
from local_slack.app_requests import SlackDriver
from tests.app_process import AppProcess, free_port
from tests.support.app import Database, app_env, settle
from tests.support.unfurls import posted
from tests.support.workspace import ALICE, BOB

pytestmark = pytest.mark.slow
CLICKS = 8
MEETINGS = 10  # pasted on both at once, one after another: each a chance for the race


@pytest.fixture
def two_instances(fake_slack, database_url, tmp_path):
    env = app_env(fake_slack, database_url, CALLS_RECONCILE_INTERVAL="0", LOG_LEVEL="WARNING")
    apps = [
        AppProcess(env, port=free_port(), log_dir=tmp_path, name=f"app{i}").start() for i in (1, 2)
    ]
    try:
        for app in apps:
            app.wait_ready(timeout=30)
        yield [SlackDriver(app.events_url, fake_slack.new_response_url) for app in apps]
    finally:
        for app in apps:
            app.stop()


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    yield Database(engine)
    engine.dispose()


def click_split(fake, drivers, action_id: str, value: str, users: list[str]) -> list[str]:
    """Click at once, alternating between the instances; returns each private reply's text."""

    def click(i: int) -> str:
        _, response_url, _ = drivers[i % 2].click(action_id, value, user=users[i])
        return fake.wait_for_response(response_url, timeout=15)["text"]

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        return list(pool.map(click, range(len(users))))


def start(fake, driver, title: str) -> None:
    _, response_url = driver.command(f"start {title}", user=ALICE)
    assert "Started" in fake.wait_for_response(response_url, timeout=15)["text"]


def test_end_clicked_on_both_instances_ends_once(fake_slack, two_instances, db):
    start(fake_slack, two_instances[0], "Standup")
    call = db.only_call()
    fake_slack.fail_next("calls.end", delay=0.3)
    replies = click_split(fake_slack, two_instances, "call_end", str(call.id), [ALICE] * CLICKS)
    assert len(fake_slack.attempts_to("calls.end")) == 1
    assert sum("You ended" in r for r in replies) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1
    assert db.call(call.id).state == CallState.ENDED


def test_join_clicked_on_both_instances_registers_once(fake_slack, two_instances, db):
    start(fake_slack, two_instances[1], "Standup")
    call = db.only_call()
    replies = click_split(fake_slack, two_instances, "call_join", str(call.id), [BOB] * CLICKS)
    settle(fake_slack, db, timeout=10)
    assert len(fake_slack.attempts_to("calls.participants.add")) == 1
    assert sum("You joined" in r for r in replies) == 1
    assert [p.slack_user_id for p in db.participants(call.id)] == [ALICE, BOB]
    assert fake_slack.calls[call.slack_call_id].users == [{"slack_id": ALICE}, {"slack_id": BOB}]


def test_people_joining_through_either_instance_are_all_registered(fake_slack, two_instances, db):
    people = [f"U0SPLIT{i:03d}" for i in range(CLICKS)]
    for person in people:
        fake_slack.add_user(person)
    start(fake_slack, two_instances[0], "All hands")
    call = db.only_call()
    click_split(fake_slack, two_instances, "call_join", str(call.id), people)
    assert sorted(db.present(call.id)) == sorted([ALICE, *people])
    settle(fake_slack, db, timeout=10)
    assert len(fake_slack.calls[call.slack_call_id].users) == CLICKS + 1


def paste_on_both(drivers, url: str, *, round_: int) -> None:
    """The link in a message on each instance (Alice's, Bob's), delivered at the same moment."""
    together = threading.Barrier(2)

    def paste(i: int) -> int:
        event = posted(url, user=(ALICE, BOB)[i], ts=f"1700000000.{round_:04d}{i:02d}")
        together.wait(timeout=10)
        return drivers[i].event(event).status

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(paste, (0, 1))) == [200, 200]


def test_a_meeting_pasted_on_both_instances_at_once_is_one_call(fake_slack, two_instances, db):
    """One calls.add, one live call, and both links unfurl as it; several meetings, each a
    race (without the database's index most rounds make two calls)."""
    for round_ in range(1, MEETINGS + 1):
        url = f"https://meet.example.org/race-{round_}"
        paste_on_both(two_instances, url, round_=round_)
        unfurls = 2 * round_
        fake_slack.wait_for(lambda n=unfurls: len(fake_slack.unfurls) >= n, 15, message="unfurls")
        of_meeting = [c for c in db.calls() if c.join_url == url]
        assert len(of_meeting) == 1, f"meeting {round_}: {len(of_meeting)} calls"
        (call,) = of_meeting
        assert call.state == CallState.ACTIVE
        assert len(fake_slack.calls_to("calls.add")) == round_
        unfurled = [u["unfurls"][url]["blocks"] for u in fake_slack.unfurls[-2:]]
        call_block = [{"type": "call", "call_id": call.slack_call_id}]
        assert unfurled == [call_block, call_block]
