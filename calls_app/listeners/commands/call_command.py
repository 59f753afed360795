"""`/call <verb> …`: parse, acknowledge at once, then do the work and reply privately.

Join and Leave are recorded before the ack and answered in it (a press acknowledged is a
press kept); every other verb runs on the work queue after it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from calls_app import command_text, wording
from calls_app.blocks.call_message import started_reply
from calls_app.blocks.elements import Message
from calls_app.blocks.picker import status_message
from calls_app.errors import Busy, UsageError
from calls_app.listeners.replies import (
    actor_from,
    as_message,
    call_service,
    call_starter,
    outcome_of,
    say_privately,
    work_queue,
)
from calls_app.listeners.verbs import RECORDED_BEFORE_ACK, act_on_call
from calls_app.records import Actor, Verb
from calls_app.service.starting import default_title


def handle_call_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    try:
        parsed = command_text.parse(command.get("text", ""))
    except UsageError as error:
        ack(text=wording.usage(error.user_message), response_type="ephemeral")
        return
    if parsed.verb == Verb.HELP:
        ack(text=wording.usage(), response_type="ephemeral")
        return
    actor, queue = actor_from(context), work_queue(context)
    if parsed.verb in RECORDED_BEFORE_ACK:
        # Recorded, then answered in the ack itself: no queue and no Slack request, whatever
        # a crowd is doing.
        reply = as_message(outcome_of(lambda: run(parsed, context, actor, command)))
        ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
        return
    if not queue.reserve():
        ack(text=Busy().user_message, response_type="ephemeral")
        return
    ack()  # within Slack's 3 seconds, before any Web API call
    queue.run_reserved(
        lambda: say_privately(respond, outcome_of(lambda: run(parsed, context, actor, command)))
    )


def run(
    parsed: command_text.CallCommand, context: BoltContext, actor: Actor, command: dict[str, Any]
) -> Message | str:
    channel_id = command["channel_id"]
    if parsed.verb == Verb.START:
        started = call_starter(context).start(
            actor,
            channel_id=channel_id,
            title=parsed.title or default_title(command.get("channel_name")),
            invitees=parsed.invitees,
            join_url=parsed.join_url,
        )
        return started_reply(started.call, started.invited, started.not_invited)
    calls = call_service(context)
    if parsed.verb == Verb.STATUS:
        return status_message(calls.status(actor, channel_id=channel_id))
    return act_on_call(parsed.verb, calls, actor, channel_id=channel_id, title=parsed.title)
