"""Calls left half-done by a starter that died, for the reconciler to find."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk import WebClient

from calls_app.blocks.call_message import live_call_message
from calls_app.records import NewCall
from calls_app.store.calls import CallStore
from tests.support.workspace import ALICE, GENERAL


def posted_then_died(app, call) -> str:
    """The call's message, posted as its starter posts it; the starter died before recording
    it. Returns the message's ts."""
    message = live_call_message(call)
    posted = slack_client(app).chat_postMessage(
        channel=GENERAL, text=message.text, blocks=message.blocks
    )
    return posted["ts"]


def registered_call(app, store, title: str, *, invitees: tuple[str, ...] = ()):
    """A start that died after Slack registered its call (calls.add) and before it posted:
    written as the app writes it, registered in Slack as the app registers it."""
    now = app.clock()
    call = store.create_starting(
        NewCall("T0001", None, GENERAL, title, "https://meet.example.org/x", ALICE, now),
        lease_until=now + LEASE,
        invitees=invitees,
    )
    call.slack_call_id = slack_client(app).calls_add(
        external_unique_id=call.external_unique_id,
        join_url=call.join_url,
        created_by=ALICE,
        title=title,
        users=[{"slack_id": ALICE}],
    )["call"]["id"]
    assert store.mark_registered(
        call.id, slack_call_id=call.slack_call_id, lease=now + LEASE, renewed=now + LEASE
    )
    return call


def build_store(app) -> CallStore:
    return CallStore(app.db.engine)


LEASE = timedelta(seconds=60)


def slack_client(app) -> WebClient:
    """Slack itself, acting on its own (a user in Slack's UI, another app): no retries."""
    return WebClient(token=app.fake.bot_token, base_url=app.fake.base_url, retry_handlers=[])
