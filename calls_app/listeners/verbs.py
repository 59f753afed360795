"""The verbs that act on an existing call, shared by `/call` and the "which call?" picker."""

from __future__ import annotations

from calls_app import wording
from calls_app.blocks.call_message import ended_summary, joined_reply
from calls_app.blocks.elements import Message
from calls_app.records import Actor, CallNamed, MessageRef, Verb
from calls_app.service.verbs import CallService

# Verbs that only write to the database: done before the ack, so nothing acknowledged is lost.
RECORDED_BEFORE_ACK = frozenset({Verb.JOIN, Verb.LEAVE})


def act_on_call(
    verb: Verb,
    calls: CallService,
    actor: Actor,
    *,
    channel_id: str | None = None,
    call_id: int | None = None,
    title: str | None = None,
    pressed_on: MessageRef | None = None,
) -> Message | str:
    """Run one verb on the call named by id, or on the channel's one live call; `pressed_on`
    is the channel message whose button asked for it."""
    named: CallNamed = {"channel_id": channel_id, "call_id": call_id, "pressed_on": pressed_on}
    match verb:
        case Verb.END:
            ended = calls.end(actor, **named)
            return wording.you_ended(ended.title, ended_summary(ended))
        case Verb.JOIN:
            joined = calls.join(actor, **named)
            return joined_reply(joined.call, already_in=joined.already_in)
        case Verb.LEAVE:
            left = calls.leave(actor, **named)
            return wording.left(left.title)
        case Verb.RENAME if title is not None:
            renamed = calls.rename(actor, title, channel_id=channel_id, call_id=call_id)
            return wording.renamed(renamed.title)
    raise ValueError(f"not a verb on a call: {verb}")
