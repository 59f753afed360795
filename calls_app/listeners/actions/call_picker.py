"""The "which call?" picker's More button: the next page of calls, in place of this one."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from calls_app import wording
from calls_app.blocks.picker import PickerPage, call_picker
from calls_app.errors import UsageError
from calls_app.listeners.replies import actor_from, call_service, errors_told_to, say_privately
from calls_app.records import ON_A_CALL, Verb


def handle_pick_more(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    with errors_told_to(respond):
        wanted = PickerPage.loads(action.get("value", ""))
        # The picker is a private reply in the channel its command was typed in.
        channel_id = (body.get("container") or {}).get("channel_id")
        if (
            wanted is None
            or wanted.verb not in ON_A_CALL
            or (wanted.verb == Verb.RENAME and wanted.title is None)
            or not channel_id
        ):
            raise UsageError(wording.STALE_BUTTON)
        calls = call_service(context).calls_to_choose(
            actor_from(context), wanted.verb, channel_id=channel_id
        )
        picker = call_picker(
            question=wording.which_call(wanted.verb),
            verb=wanted.verb,
            calls=calls,
            title=wanted.title,
            page=wanted.page,
        )
        say_privately(respond, picker, replace_original=True)
