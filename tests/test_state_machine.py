"""The call state machine driven directly: the services as the app wires them, the fake Slack
over HTTP, a real database. For the edge cases (docs/glossary.md, "A call's states") that
need two actors at once or a Slack slow at the right moment, not a signed request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import URL

from calls_app.bolt_app import AppParts, build_parts, build_reconciler
from calls_app.config import load_settings
from calls_app.db import make_engine
from calls_app.errors import (
    CallAlreadyEnded,
    CallBeingEnded,
    CallsError,
    CallStillStarting,
    CannotPostInChannel,
    NotInCall,
    SlackFailure,
)
from calls_app.models import Call, CallState, EndReason
from calls_app.records import Actor, MessageRef
from calls_app.service.starting import CallStarter
from calls_app.service.verbs import CallService
from local_slack.web_api import FakeSlack
from tests.support.app import Database, FakeClock, app_env
from tests.support.reconciler import LEASE, posted_then_died, registered_call
from tests.support.workspace import ADMIN, ALICE, BOB, GENERAL

TEAM = "T0001"
PAST_THE_LEASE = LEASE.total_seconds() + 1

T = TypeVar("T")


@dataclass
class Machine:
    """The services of one process, as build_parts wires them; no HTTP app, no outbox run."""

    parts: AppParts
    fake: FakeSlack
    db: Database
    clock: FakeClock

    def _client(self) -> WebClient:
        client = self.parts.clients.for_team(team_id=TEAM, enterprise_id=None)
        assert client is not None
        return client

    def calls(self) -> CallService:
        return self.parts.services.call_service(self._client(), team_id=TEAM)

    def starter(self) -> CallStarter:
        return self.parts.services.call_starter(self._client(), team_id=TEAM)

    def start(self, *, invitees: tuple[str, ...] = ()) -> Call:
        """Alice starts "Standup" in #general."""
        started = self.starter().start(
            person(ALICE), channel_id=GENERAL, title="Standup", invitees=invitees
        )
        return started.call

    def reconcile(self) -> dict[str, int]:
        return dict(build_reconciler(self.parts).run_once())

    def sent(self, method: str) -> list[dict]:
        return [
            {k: v for k, v in args.items() if k != "team_id"} for args in self.fake.calls_to(method)
        ]

    def wait_for_state(self, call_id: int, state: CallState) -> None:
        self.fake.wait_for(
            lambda: any(c.id == call_id and c.state == state for c in self.db.calls()),
            message=f"call {call_id} {state}",
        )


def person(user: str) -> Actor:
    return Actor(team_id=TEAM, enterprise_id=None, user_id=user)


@pytest.fixture
def machine(fake_slack: FakeSlack, database_url: URL, clock: FakeClock) -> Iterator[Machine]:
    settings = load_settings(app_env(fake_slack, database_url))
    engine = make_engine(settings.database_url)
    parts = build_parts(settings, engine, clock=clock)
    yield Machine(parts=parts, fake=fake_slack, db=Database(engine), clock=clock)
    engine.dispose()


@pytest.fixture
def background() -> Iterator[Callable[[Callable[[], T]], Future[T]]]:
    """Run one actor on a thread of its own, while the test plays the other."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool.submit


@pytest.fixture
def gate(
    fake_slack: FakeSlack, background: Callable[[Callable[[], T]], Future[T]]
) -> Iterator[threading.Event]:
    """Holds a request the test made Slack slow to answer; opened whatever happens, before
    the background actor is waited for and the fake stops."""
    event = threading.Event()
    yield event
    event.set()


def end_stalled(machine: Machine, background, gate: threading.Event, call: Call) -> Future[Call]:
    """Alice ends the call on a thread of her own; Slack stalls on calls.end until `gate`."""
    machine.fake.fail_next("calls.end", hang=gate)
    ending = background(lambda: machine.calls().end(person(ALICE), call_id=call.id))
    machine.wait_for_state(call.id, CallState.ENDING)
    return ending


# -- starting --------------------------------------------------------------------------------


def test_end_while_the_starter_holds_its_lease_is_refused(machine, background, gate):
    machine.fake.fail_next("calls.add", hang=gate)  # Slack slow to register the call
    starting = background(lambda: machine.start())
    machine.fake.wait_for(lambda: len(machine.db.calls()) == 1, message="the call written")
    (call,) = machine.db.calls()
    assert call.state == CallState.STARTING

    with pytest.raises(CallStillStarting):
        machine.calls().end(person(ALICE), call_id=call.id)
    with pytest.raises(CallStillStarting):
        machine.calls().join(person(BOB), call_id=call.id)

    gate.set()
    started = starting.result(timeout=10)
    assert machine.db.call(call.id).state == CallState.ACTIVE
    assert machine.db.call(call.id).message_ts == started.message_ts
    assert machine.sent("calls.end") == []
    assert machine.db.present(call.id) == [ALICE]  # Bob's join changed nothing


def test_a_start_slack_answers_after_its_lease_ran_out_is_undone_in_slack(
    machine, background, gate
):
    machine.fake.fail_next("calls.add", hang=gate)
    starting = background(lambda: machine.start())
    machine.fake.wait_for(lambda: len(machine.db.calls()) == 1, message="the call written")
    machine.clock.advance(seconds=PAST_THE_LEASE)
    assert machine.reconcile() == {"abandoned starts": 1}
    (call,) = machine.db.calls()
    assert call.state == CallState.FAILED

    gate.set()
    with pytest.raises(CallsError, match="too long"):
        starting.result(timeout=10)
    (registered,) = machine.sent("calls.add")
    (ended,) = machine.sent("calls.end")  # Slack heard of it after all: told it ended
    assert machine.fake.calls[ended["id"]].ended
    assert machine.db.call(call.id).state == CallState.FAILED
    assert machine.fake.messages_in(GENERAL) == []  # never shown


# -- the poster ------------------------------------------------------------------------------


def test_a_failed_post_withdraws_the_call_from_slack_and_records_it_failed(machine):
    machine.fake.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(CannotPostInChannel):
        machine.start()
    (call,) = machine.db.calls()
    assert call.state == CallState.FAILED and call.message_ts is None
    (ended,) = machine.sent("calls.end")
    assert ended["id"] == call.slack_call_id
    assert machine.fake.calls[call.slack_call_id].ended
    assert machine.fake.messages_in(GENERAL) == []


def test_a_call_slack_wont_withdraw_is_held_then_posted_again_by_the_reconciler(machine):
    machine.fake.fail_next("chat.postMessage", error="channel_not_found")
    machine.fake.fail_next("calls.end", error="internal_error")
    with pytest.raises(CannotPostInChannel):
        machine.start()
    (call,) = machine.db.calls()
    assert call.state == CallState.ACTIVE and call.message_ts is None
    assert call.lease_expires_at is not None and call.lease_expires_at > machine.clock()  # held

    assert machine.reconcile() == {}  # the hold keeps the reconciler off it
    machine.clock.advance(seconds=PAST_THE_LEASE)
    assert machine.reconcile() == {"posted messages": 1}
    (message,) = machine.fake.messages_in(GENERAL)
    reposted = machine.db.call(call.id)
    assert (reposted.state, reposted.message_ts) == (CallState.ACTIVE, message.ts)
    assert reposted.lease_expires_at is None  # the poster's lease ends with the message


def test_a_slow_posters_duplicate_is_deleted_once_a_takeover_posted(machine, background, gate):
    machine.fake.fail_next("chat.postMessage", hang=gate)  # the starter's post, slow
    starting = background(lambda: machine.start())
    machine.fake.wait_for(
        lambda: [c.state for c in machine.db.calls()] == [CallState.ACTIVE],
        message="the call registered",
    )
    machine.clock.advance(seconds=PAST_THE_LEASE)
    assert machine.reconcile() == {"posted messages": 1}
    (taken_over,) = machine.fake.messages_in(GENERAL)

    gate.set()
    starting.result(timeout=10)
    (kept,) = machine.fake.messages_in(GENERAL)  # the starter's own post went again
    assert kept.ts == taken_over.ts
    (deleted,) = machine.sent("chat.delete")
    assert deleted["ts"] != taken_over.ts
    assert machine.db.only_call().message_ts == taken_over.ts


# -- adopting a message whose answer was lost ------------------------------------------------


def test_a_press_adopts_a_landed_post_once_its_poster_is_gone(machine):
    call = registered_call(machine, machine.parts.services.store, "Standup")
    ts = posted_then_died(machine, call)
    pressed = MessageRef(channel_id=GENERAL, ts=ts)

    with pytest.raises(CallStillStarting):  # its poster may still be waiting for Slack
        machine.calls().join(person(BOB), call_id=call.id, pressed_on=pressed)
    assert machine.db.call(call.id).message_ts is None

    machine.clock.advance(seconds=PAST_THE_LEASE)
    joined = machine.calls().join(person(BOB), call_id=call.id, pressed_on=pressed)
    assert joined.call.message_ts == ts and not joined.already_in
    stored = machine.db.call(call.id)
    assert (stored.message_channel_id, stored.message_ts) == (GENERAL, ts)
    assert BOB in machine.db.present(call.id)
    assert machine.reconcile().get("posted messages") is None  # nothing posted again
    assert len(machine.fake.messages_in(GENERAL)) == 1


def test_a_press_on_a_second_message_of_a_call_takes_its_buttons_away(machine):
    call = machine.start()
    stray = posted_then_died(machine, call)  # the same call shown twice
    machine.calls().join(person(BOB), call_id=call.id, pressed_on=MessageRef(GENERAL, stray))

    (update,) = machine.sent("chat.update")
    assert update["ts"] == stray
    assert not [b for b in update["blocks"] if b["type"] == "actions"]
    assert machine.db.call(call.id).message_ts == call.message_ts  # the call's stays its own


# -- ending ----------------------------------------------------------------------------------


def test_two_enders_race_one_ends_the_other_is_told(machine, background, gate):
    call = machine.start()
    first = end_stalled(machine, background, gate, call)

    with pytest.raises(CallBeingEnded):
        machine.calls().end(person(ADMIN), call_id=call.id)
    gate.set()
    ended = first.result(timeout=10)
    with pytest.raises(CallAlreadyEnded):
        machine.calls().end(person(ADMIN), call_id=call.id)

    assert ended.state == CallState.ENDED
    assert len(machine.sent("calls.end")) == 1
    stored = machine.db.call(call.id)
    assert (stored.state, stored.ended_by, stored.end_reason) == (
        CallState.ENDED,
        ALICE,
        EndReason.PERSON,
    )


def test_an_end_whose_ender_outlived_its_lease_is_taken_over(machine, background, gate):
    call = machine.start()
    first = end_stalled(machine, background, gate, call)
    machine.clock.advance(seconds=PAST_THE_LEASE)

    ended = machine.calls().end(person(ADMIN), call_id=call.id)
    assert ended.state == CallState.ENDED
    gate.set()
    first.result(timeout=10)  # Slack had it ended already, and the record is the taker's

    stored = machine.db.call(call.id)
    assert stored.state == CallState.ENDED  # not released live by the one who lost the lease
    assert stored.ended_by == ALICE  # the end keeps who asked for it first
    assert len(machine.sent("calls.end")) == 1
    assert len(machine.fake.attempts_to("calls.end")) == 2  # the stalled one: inactive_call
    assert machine.fake.calls[call.slack_call_id].ended


def test_a_failed_calls_end_releases_the_call_live(machine):
    call = machine.start()
    machine.fake.fail_next("calls.end", error="internal_error")
    with pytest.raises(SlackFailure):
        machine.calls().end(person(ALICE), call_id=call.id)
    stored = machine.db.call(call.id)
    assert stored.state == CallState.ACTIVE
    assert (stored.ended_at, stored.ended_by, stored.lease_expires_at) == (None, None, None)
    assert machine.sent("chat.update") == []  # the message still shows it live

    machine.calls().end(person(ALICE), call_id=call.id)  # and it can be ended again
    assert machine.db.call(call.id).state == CallState.ENDED


def test_an_end_slack_did_though_we_never_heard_is_finished_by_the_reconciler(machine):
    call = machine.start()
    # Slack ends the call, and every answer (the retries' too) is lost on the way back.
    machine.fake.fail_next("calls.end", drop_connection=True, landed=True, times=5)
    with pytest.raises(SlackFailure):
        machine.calls().end(person(ALICE), call_id=call.id)
    released = machine.db.call(call.id)
    assert (released.state, released.ended_at) == (CallState.ACTIVE, None)  # live again
    assert machine.fake.calls[call.slack_call_id].ended

    assert machine.reconcile() == {"repaired drift": 1}  # calls.info: Slack ended it
    stored = machine.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.SLACK)
    (update,) = machine.sent("chat.update")
    assert update["ts"] == call.message_ts
    assert not [b for b in update["blocks"] if b["type"] == "actions"]


def test_a_call_an_ending_rule_took_gets_no_later_rule_in_that_pass(machine):
    machine.fake.fail_next("chat.postMessage", delay=0.0)  # the call message goes out
    machine.fake.fail_next("chat.postMessage", status=503)  # Bob's invitation doesn't: pending
    call = machine.start(invitees=(BOB,))
    assert len(machine.sent("chat.postMessage")) == 1  # the invitation stays pending
    machine.clock.advance(hours=13)  # over CALLS_MAX_DURATION (12h)

    done = machine.reconcile()
    assert done == {"ended over the time limit": 1}
    assert machine.db.call(call.id).state == CallState.ENDED
    assert [m for m in machine.sent("chat.postMessage") if m["channel"] == BOB] == []
    assert machine.sent("calls.info") == []  # no drift check of a call just ended


# -- the verbs' rules ------------------------------------------------------------------------


def test_rename_of_a_call_being_ended_is_refused_and_changes_nothing(machine, background, gate):
    call = machine.start()
    ending = end_stalled(machine, background, gate, call)

    with pytest.raises(CallBeingEnded):
        machine.calls().rename(person(ALICE), "Retro", call_id=call.id)
    gate.set()
    ending.result(timeout=10)
    assert machine.db.call(call.id).title == "Standup"
    assert machine.sent("calls.update") == []


def test_join_and_leave_of_an_ended_call_are_refused(machine):
    call = machine.start()
    machine.calls().join(person(BOB), call_id=call.id)
    machine.calls().end(person(ALICE), call_id=call.id)
    before = [(p.slack_user_id, p.left_at) for p in machine.db.participants(call.id)]

    with pytest.raises(CallAlreadyEnded):
        machine.calls().join(person(BOB), call_id=call.id)
    with pytest.raises(CallAlreadyEnded):
        machine.calls().leave(person(BOB), call_id=call.id)
    after = [(p.slack_user_id, p.left_at) for p in machine.db.participants(call.id)]
    assert after == before


def test_leave_when_not_in_the_call_is_refused(machine):
    call = machine.start()
    outbox_before = machine.db.outbox()
    with pytest.raises(NotInCall):
        machine.calls().leave(person(BOB), call_id=call.id)
    assert machine.db.present(call.id) == [ALICE]
    assert [p.slack_user_id for p in machine.db.participants(call.id)] == [ALICE]
    assert len(machine.db.outbox()) == len(outbox_before)  # nothing for Slack to hear
