"""The pieces every surface is built from, and the one place Block Kit's limits are kept:
user text is cut to fit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from calls_app.text import truncate

BUTTON_TEXT_LIMIT = 75
SECTION_TEXT_LIMIT = 3000

BlockKit = dict[str, Any]  # a block, element, text object or view, as Slack's JSON


@dataclass(frozen=True)
class Message:
    text: str  # the notification and screen-reader fallback
    blocks: list[BlockKit]


def plain(text: str, limit: int) -> BlockKit:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int) -> BlockKit:
    # verbatim: Slack leaves user text as typed (no auto-links or mentions); ours are explicit.
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def mrkdwn_section(text: str) -> BlockKit:
    return {"type": "section", "text": mrkdwn(text, SECTION_TEXT_LIMIT)}


def button(
    text: str,
    action_id: str,
    value: str | None,
    *,
    style: str | None = None,
    url: str | None = None,
) -> BlockKit:
    element: BlockKit = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    return element


def context_block(text: str) -> BlockKit:
    return {"type": "context", "elements": [mrkdwn(text, 2000)]}


def actions_block(elements: list[BlockKit], *, block_id: str | None = None) -> BlockKit:
    block: BlockKit = {"type": "actions", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def json_object(raw: str) -> dict[str, Any] | None:
    """A JSON object a button or modal carries back to us; None for anything else."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
