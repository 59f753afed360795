"""The Rename and Start-a-call modals, and what the Start modal says once submitted."""

from __future__ import annotations

import json
from dataclasses import dataclass

from calls_app import wording
from calls_app.block_ids import CHANNEL_INPUT, PEOPLE_INPUT, TITLE_INPUT, BlockId, CallbackId
from calls_app.blocks.elements import BlockKit, json_object, mrkdwn_section, plain
from calls_app.models import Call


@dataclass(frozen=True)
class RenameModalMetadata:
    """What the Rename modal carries: the call, and where to answer once it is renamed."""

    call_id: int
    response_url: str | None

    def dumps(self) -> str:
        return json.dumps({"call_id": self.call_id, "response_url": self.response_url})

    @classmethod
    def loads(cls, raw: str) -> RenameModalMetadata | None:
        if (data := json_object(raw)) is None:
            return None
        call_id, response_url = data.get("call_id"), data.get("response_url")
        if type(call_id) is not int or not isinstance(response_url, str | None):
            return None
        return cls(call_id=call_id, response_url=response_url)


def rename_modal(call: Call, *, response_url: str | None) -> BlockKit:
    return {
        "type": "modal",
        "callback_id": CallbackId.RENAME_MODAL,
        "private_metadata": RenameModalMetadata(call.id, response_url).dumps(),
        "title": plain("Rename call", 24),
        "submit": plain("Rename", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.TITLE,
                "label": plain("Title", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": TITLE_INPUT,
                    "initial_value": call.title,
                    "max_length": 150,
                },
            }
        ],
    }


def start_call_modal(default_channel: str | None) -> BlockKit:
    channel_select: BlockKit = {
        "type": "conversations_select",
        "action_id": CHANNEL_INPUT,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        "placeholder": plain("Pick a channel", 150),
    }
    if default_channel:
        channel_select["initial_conversation"] = default_channel
    return {
        "type": "modal",
        "callback_id": CallbackId.START_MODAL,
        "title": plain("Start a call", 24),
        "submit": plain("Start", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.CHANNEL,
                "label": plain("Channel", 2000),
                "element": channel_select,
            },
            {
                "type": "input",
                "block_id": BlockId.TITLE,
                "optional": True,
                "label": plain("Title", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": TITLE_INPUT,
                    "max_length": 150,
                },
            },
            {
                "type": "input",
                "block_id": BlockId.PEOPLE,
                "optional": True,
                "label": plain("Invite", 2000),
                "element": {
                    "type": "multi_users_select",
                    "action_id": PEOPLE_INPUT,
                    "max_selected_items": 20,
                    "placeholder": plain("People to invite", 150),
                },
            },
        ],
    }


def starting_modal() -> BlockKit:
    """The Start-a-call modal once submitted, until the call has started or failed to."""
    return _modal_message("Start a call", wording.STARTING)


def started_modal(call: Call) -> BlockKit:
    return _modal_message("Call started", wording.started_in(call.title, call.channel_id))


def not_started_modal(problem: str) -> BlockKit:
    return _modal_message("Call not started", problem)


def _modal_message(title: str, text: str) -> BlockKit:
    """A modal that only says something."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [mrkdwn_section(text)],
    }
