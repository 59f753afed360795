"""The ids Slack sends back with a click or a modal: of actions, modals, blocks and inputs."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    JOIN = "call_join"
    LEAVE = "call_leave"
    END = "call_end"
    RENAME = "call_rename"
    PICK = "call_pick"  # a button in the "which call?" picker; suffixed with its index
    PICK_MORE = "call_pick_more"  # the picker's next page


class CallbackId(StrEnum):
    RENAME_MODAL = "call_rename_modal"
    START_MODAL = "home_start_modal"


class BlockId(StrEnum):
    """Blocks we find again: a modal's input blocks are where its field errors go."""

    CALL_ACTIONS = "call_actions"
    PICKER = "call_picker"
    PICKER_MORE = "call_picker_more"
    TITLE = "title_block"
    CHANNEL = "channel_block"
    PEOPLE = "people_block"


TITLE_INPUT = "title_input"
CHANNEL_INPUT = "channel_input"
PEOPLE_INPUT = "people_input"
HOME_START_CALL = "home_start_call"
OPEN_CALL_LINK = "open_call_link"  # a link button; Slack still sends its click
