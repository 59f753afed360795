"""A refusal's field: the one its error names when the modal has it, else the first input."""

from __future__ import annotations

import json

from slack_bolt import Ack

from calls_app.errors import CallNotFound, NoChannel, NoTitle
from calls_app.listeners.views.form import refuse

START_MODAL = {
    "blocks": [
        {"type": "section", "block_id": "intro"},
        {"type": "input", "block_id": "channel_block"},
        {"type": "input", "block_id": "title_block"},
    ]
}
RENAME_MODAL = {"blocks": [{"type": "input", "block_id": "title_block"}]}


def refusal(view: dict, error: Exception) -> dict:
    ack = Ack()
    refuse(ack, view, error)
    return json.loads(ack.response.body)  # the body Slack receives


def test_an_error_lands_under_the_field_it_names() -> None:
    assert refusal(START_MODAL, NoTitle()) == {
        "response_action": "errors",
        "errors": {"title_block": "A call needs a title."},
    }


def test_an_error_naming_no_field_lands_under_the_first_input() -> None:
    assert refusal(START_MODAL, CallNotFound())["errors"] == {
        "channel_block": "That call doesn't exist (any more)."
    }


def test_an_error_naming_a_field_the_modal_lacks_lands_under_its_first_input() -> None:
    assert refusal(RENAME_MODAL, NoChannel())["errors"] == {"title_block": "Pick a channel."}
