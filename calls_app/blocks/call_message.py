"""The call's message in its channel, the invitation in a DM, and the replies linking to it."""

from __future__ import annotations

from collections.abc import Sequence

from calls_app import wording
from calls_app.block_ids import OPEN_CALL_LINK, ActionId, BlockId
from calls_app.blocks.elements import (
    BlockKit,
    Message,
    actions_block,
    button,
    context_block,
    mrkdwn_section,
)
from calls_app.models import Call, CallState, EndReason
from calls_app.text import format_duration


def join_button(call: Call) -> BlockKit:
    """Opens the call and registers the person in it."""
    return button("Join", ActionId.JOIN, str(call.id), style="primary", url=call.join_url)


def call_block(call: Call) -> BlockKit:
    return {"type": "call", "call_id": call.slack_call_id}


def live_call_message(call: Call) -> Message:
    """The call as posted in the channel: Slack's call card and the app's buttons."""
    value = str(call.id)
    return Message(
        text=wording.call_started_by(call.created_by, call.title),
        blocks=[
            call_block(call),
            actions_block(
                [
                    join_button(call),
                    button("Leave", ActionId.LEAVE, value),
                    button("Rename", ActionId.RENAME, value),
                    button("End call", ActionId.END, value, style="danger"),
                ],
                block_id=BlockId.CALL_ACTIONS,
            ),
        ],
    )


def ended_call_message(call: Call) -> Message:
    """The call once over: no button left that acts on it."""
    summary = ended_summary(call)
    return Message(
        text=wording.call_ended(call.title, summary),
        blocks=[call_block(call), context_block(summary)],
    )


def unstarted_call_message(call: Call) -> Message:
    """A call message that reached the channel though the app never heard it had: the call
    was called off meanwhile, so no button may be left on it."""
    text = wording.call_unstarted(call.title)
    return Message(text=text, blocks=[mrkdwn_section(text)])


def copy_of_call_message(call: Call) -> Message:
    """A second message of one call (a crash posted it twice): the call's own message is the
    other one, so this copy keeps no button."""
    text = wording.call_shown_elsewhere(call.title)
    return Message(text=text, blocks=[mrkdwn_section(text)])


def message_for(call: Call) -> Message:
    """The call message as the call's state says it should look."""
    return ended_call_message(call) if call.state == CallState.ENDED else live_call_message(call)


def ended_summary(call: Call) -> str:
    match call.end_reason:
        case EndReason.MAX_DURATION:
            how = wording.ENDED_AT_MAX_DURATION
        case EndReason.EMPTY:
            how = wording.ENDED_EMPTY
        case EndReason.SLACK:
            how = wording.ENDED_IN_SLACK
        case EndReason.PROVIDER:
            how = wording.ENDED_WITH_MEETING
        case _:
            how = wording.ended_by(call.ended_by)
    return f"{how} {wording.lasted(format_duration(call.duration_seconds or 0))}"


def invitation_message(call: Call) -> Message:
    return Message(
        text=wording.invited_you(call.created_by, call.title),
        blocks=[
            mrkdwn_section(wording.invited_you_to(call.created_by, call.title, call.channel_id)),
            actions_block([join_button(call)], block_id=BlockId.CALL_ACTIONS),
        ],
    )


def open_call_button(call: Call) -> BlockKit:
    """A link to the call, for replies: a click only opens it."""
    return actions_block(
        [button("Open the call", OPEN_CALL_LINK, None, style="primary", url=call.join_url)]
    )


def started_reply(call: Call, invited: Sequence[str], not_invited: Sequence[str]) -> Message:
    text = wording.started(call.title, invited, not_invited)
    return Message(text=text, blocks=[mrkdwn_section(text), open_call_button(call)])


def joined_reply(call: Call, *, already_in: bool) -> Message:
    text = wording.joined(call.title, already_in=already_in)
    return Message(text=text, blocks=[mrkdwn_section(text), open_call_button(call)])
