"""The Rename modal: every refusal lands under its one field, the title, and nothing changes."""

from __future__ import annotations

from tests.conftest import ALICE


def open_rename_modal(app, call_id: int) -> dict:
    app.slack.click("call_rename", str(call_id), user=ALICE)
    app.fake.wait_for(lambda: app.fake.views)
    return app.fake.views[-1]["view"]


def submit_title(app, view: dict, title: str):
    values = {"title_block": {"title_input": {"type": "plain_text_input", "value": title}}}
    return app.slack.submit_view(view, values, user=ALICE)


def test_a_modal_naming_no_call_of_ours_is_refused_under_the_title(running_app):
    app = running_app
    call = app.start_call("start Standup")
    view = open_rename_modal(app, call.id)
    submitted = submit_title(app, {**view, "private_metadata": "not ours"}, "Retro")
    assert submitted.json() == {
        "response_action": "errors",
        "errors": {"title_block": "That call doesn't exist (any more)."},
    }
    assert app.sent("calls.update") == []
    assert app.db.call(call.id).title == "Standup"


def test_a_call_ended_while_the_modal_was_open_is_refused_under_the_title(running_app):
    app = running_app
    call = app.start_call("start Standup")
    view = open_rename_modal(app, call.id)
    app.command("end", user=ALICE)
    submitted = submit_title(app, view, "Retro")
    assert submitted.json() == {
        "response_action": "errors",
        "errors": {"title_block": "The call “Standup” has already ended."},
    }
    assert app.sent("calls.update") == []
    assert app.db.call(call.id).title == "Standup"
