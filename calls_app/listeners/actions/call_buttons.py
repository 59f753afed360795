"""The call message's buttons, and the "which call?" picker's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from calls_app import wording
from calls_app.blocks.elements import Message
from calls_app.errors import Busy, CallNotFound, UsageError
from calls_app.listeners.replies import (
    Reply,
    actor_from,
    call_service,
    errors_told_to,
    home_service,
    later,
    message_for,
    reply_for,
    say_privately,
    work_queue,
)
from calls_app.listeners.verbs import RECORDED_BEFORE_ACK, act_on_call
from calls_app.records import ON_A_CALL, MessageRef, Verb
from calls_app.work_queue import WorkQueue


def _button_call_id(action: dict[str, Any]) -> int:
    """The call a button acts on; a value that isn't one of our ids names no call."""
    try:
        return int(action.get("value", ""))
    except ValueError:
        raise CallNotFound() from None


def _pressed_on(body: dict[str, Any]) -> MessageRef | None:
    """The channel message the button is on; None in Home or in a private (ephemeral) reply."""
    container = body.get("container") or {}
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return None
    channel, ts = container.get("channel_id"), container.get("message_ts")
    return MessageRef(channel_id=channel, ts=ts) if channel and ts else None


def _button_handler(verb: Verb) -> Callable[..., None]:  # Bolt passes arguments by name
    def handle(
        ack: Ack,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: Respond | None,
        context: BoltContext,
    ) -> None:
        reply, queue = reply_for(body, respond, context), work_queue(context)
        calls, actor = call_service(context), actor_from(context)

        def act() -> Message | str:
            return act_on_call(
                verb,
                calls.before_ack() if verb in RECORDED_BEFORE_ACK else calls,
                actor,
                call_id=_button_call_id(action),
                pressed_on=_pressed_on(body),
            )

        if verb in RECORDED_BEFORE_ACK:
            # Recorded whatever the queue holds: a crowd's replies must not turn presses away.
            outcome = _attempt(act)
            ack()
            if not queue.submit(lambda: _answer(body, reply, outcome)):
                _answer_when_busy(body, reply, outcome, queue)
            return
        if not queue.reserve():
            ack()
            queue.tell(lambda: say_privately(reply, Busy().user_message))
            return
        ack()
        queue.run_reserved(lambda: _answer(body, reply, _attempt(act)))

    handle.__name__ = f"handle_{verb}"
    return handle


def _attempt(act: Callable[[], Message | str]) -> tuple[Message | str, bool]:
    """What to tell the person, and whether it is a problem."""
    try:
        return act(), False
    except Exception as error:
        return message_for(error), True


def _answer(body: dict[str, Any], reply: Reply, outcome: tuple[Message | str, bool]) -> None:
    """A reply under the message pressed. From Home, the re-published Home is the answer, with
    a problem shown on top."""
    message, problem = outcome
    if body.get("response_url") or problem:
        say_privately(reply, message)


def _answer_when_busy(
    body: dict[str, Any], reply: Reply, outcome: tuple[Message | str, bool], queue: WorkQueue
) -> None:
    """No room to reply: a problem still goes out on the notice lane; a confirmation is
    skipped, since the call itself now shows the person in it."""
    if outcome[1]:
        queue.tell(lambda: _answer(body, reply, outcome))


handle_join = _button_handler(Verb.JOIN)
handle_leave = _button_handler(Verb.LEAVE)
handle_end = _button_handler(Verb.END)


def handle_rename(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    calls, actor = call_service(context), actor_from(context)

    def open_modal() -> None:
        with errors_told_to(respond):
            calls.open_rename_modal(
                actor,
                call_id=_button_call_id(action),
                trigger_id=body["trigger_id"],
                response_url=body.get("response_url"),
                pressed_on=_pressed_on(body),
            )

    ack()
    later(context, respond, open_modal)


def handle_pick(ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    calls, actor = call_service(context), actor_from(context)

    def act() -> None:
        with errors_told_to(respond):
            verb, call_id, title = _picked(action)
            say_privately(respond, act_on_call(verb, calls, actor, call_id=call_id, title=title))

    ack()
    later(context, respond, act)


def _picked(action: dict[str, Any]) -> tuple[Verb, int, str | None]:
    try:
        value = json.loads(action.get("value", ""))
        verb, call_id, title = value["verb"], int(value["call_id"]), value.get("title")
    except (ValueError, KeyError, TypeError):
        raise CallNotFound() from None
    if verb not in ON_A_CALL or (verb == Verb.RENAME and not isinstance(title, str)):
        raise UsageError(wording.STALE_BUTTON)
    return Verb(verb), call_id, title


def acknowledge_link(ack: Ack) -> None:
    """A link button still sends an action; Slack needs it acknowledged."""
    ack()


def handle_home_start(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    actor, home, reply = actor_from(context), home_service(context), reply_for(body, None, context)

    def open_modal() -> None:
        with errors_told_to(reply):
            home.open_start_modal(
                team_id=actor.team_id, user_id=actor.user_id, trigger_id=body["trigger_id"]
            )

    ack()
    later(context, reply, open_modal)
