"""`/call <verb> …`: parse, acknowledge at once, then do the work and reply privately."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext, Respond

from calls_app import blocks, command_text
from calls_app.errors import UsageError
from calls_app.listeners.replies import actor_from, call_service, errors_told_to, say_privately
from calls_app.listeners.verbs import act_on_call
from calls_app.service import Actor, CallService, default_title


def handle_call_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    try:
        parsed = command_text.parse(command.get("text", ""))
    except UsageError as error:
        ack(text=blocks.usage_text(error.user_message), response_type="ephemeral")
        return
    if parsed.verb == "help":
        ack(text=blocks.usage_text(), response_type="ephemeral")
        return
    ack()  # within Slack's 3 seconds, before any Web API call
    with errors_told_to(respond):
        say_privately(respond, run(parsed, call_service(context), actor_from(context), command))


def run(
    parsed: command_text.CallCommand, calls: CallService, actor: Actor, command: dict
) -> blocks.Message | str:
    channel_id = command["channel_id"]
    if parsed.verb == "start":
        started = calls.start(
            actor,
            channel_id=channel_id,
            title=parsed.title or default_title(command.get("channel_name")),
            invitees=parsed.invitees,
            join_url=parsed.join_url,
        )
        return blocks.started_reply(started.call, started.invited, started.not_invited)
    if parsed.verb == "status":
        return blocks.status_message(calls.status(actor, channel_id=channel_id))
    return act_on_call(parsed.verb, calls, actor, channel_id=channel_id, title=parsed.title)
