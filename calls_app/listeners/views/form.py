"""A submitted modal: what its inputs hold, and a refusal shown under the input it concerns."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from calls_app.errors import CallsError


def submitted(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    """One input's state as Slack sent it with the submission; {} if it sent none."""
    state: dict[str, Any] = view["state"]["values"].get(block_id, {}).get(action_id, {})
    return state


def text_in(view: dict[str, Any], block_id: str, action_id: str) -> str:
    """A text input's value, trimmed; "" when left empty."""
    return (submitted(view, block_id, action_id).get("value") or "").strip()


def refuse(ack: Ack, view: dict[str, Any], error: CallsError) -> None:
    """Keep the modal open with the error under its field, or under the modal's first input
    when it names none of this modal's."""
    inputs: list[str] = [
        block["block_id"] for block in view["blocks"] if block.get("type") == "input"
    ]
    field = error.field if error.field is not None and error.field in inputs else inputs[0]
    ack(response_action="errors", errors={field: error.field_message})
