"""The call message's buttons: Join, Leave, End call, Rename — and who may press them."""

from __future__ import annotations

from calls_app.models import Call, CallState
from tests.support.app import reply_text
from tests.support.workspace import ADMIN, ALICE, BOB, CAROL, OTHER_TEAM


def test_join_button_registers_the_person(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.click("call_join", str(call.id), user=BOB)
    assert "You joined *Standup*" in reply_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert reply["replace_original"] is False  # the call message stays
    assert app.db.present(call.id) == [ALICE, BOB]
    app.settle()
    assert app.fake.calls[call.slack_call_id].users == [{"slack_id": ALICE}, {"slack_id": BOB}]


def test_leave_button(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.click("call_join", str(call.id), user=BOB)
    app.click("call_leave", str(call.id), user=BOB)
    assert app.db.present(call.id) == [ALICE]


def test_end_button_ends_the_call_and_leaves_no_buttons(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.clock.advance(seconds=42)
    reply = app.click("call_end", str(call.id), user=ALICE)
    assert "You ended *Standup*" in reply_text(reply)
    assert int(app.sent("calls.end")[0]["duration"]) == 42
    message = app.fake.messages[0]
    assert [b["type"] for b in message.blocks] == ["call", "context"]
    assert "It lasted 42 sec" in message.blocks[1]["elements"][0]["text"]


def test_end_button_from_someone_else_changes_nothing(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.click("call_end", str(call.id), user=CAROL)
    assert "can end it" in reply_text(reply)
    assert app.sent("calls.end") == []
    assert app.db.call(call.id).state == CallState.ACTIVE


def test_rename_button_opens_a_modal_and_its_submission_renames(running_app):
    app = running_app
    call = app.start_call("start Standup")
    result, response_url, trigger_id = app.slack.click("call_rename", str(call.id), user=ALICE)
    assert result.status == 200
    app.fake.wait_for(lambda: app.fake.views)
    (opened,) = app.fake.views
    assert opened["trigger_id"] == trigger_id
    view = opened["view"]
    assert view["callback_id"] == "call_rename_modal"
    field = view["blocks"][0]
    assert field["element"]["initial_value"] == "Standup"

    submitted = app.slack.submit_view(
        view,
        {"title_block": {"title_input": {"type": "plain_text_input", "value": "Retro"}}},
        user=ALICE,
    )
    assert (submitted.status, submitted.body) == (200, "")  # closes the modal
    reply = app.fake.wait_for_response(response_url)
    assert "Renamed the call to *Retro*" in reply_text(reply)
    assert app.sent("calls.update") == [{"id": call.slack_call_id, "title": "Retro"}]
    assert app.db.call(call.id).title == "Retro"


def test_rename_button_from_someone_else_opens_no_modal(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.click("call_rename", str(call.id), user=BOB)
    assert "can rename it" in reply_text(reply)
    assert app.fake.views == []


def rename_modal_of_a_new_call(app) -> tuple[Call, dict]:
    """A call Alice has just started, and the Rename modal she opens from its message."""
    call = app.start_call("start Standup")
    app.slack.click("call_rename", str(call.id), user=ALICE)
    app.fake.wait_for(lambda: app.fake.views)
    return call, app.fake.views[0]["view"]


def test_an_empty_title_in_the_modal_is_a_field_error(running_app):
    app = running_app
    _, view = rename_modal_of_a_new_call(app)
    submitted = app.slack.submit_view(
        view,
        {"title_block": {"title_input": {"type": "plain_text_input", "value": "  "}}},
        user=ALICE,
    )
    assert submitted.json() == {
        "response_action": "errors",
        "errors": {"title_block": "A call needs a title."},
    }
    assert app.sent("calls.update") == []


def test_a_forged_modal_submission_from_someone_else_is_a_field_error(running_app):
    app = running_app
    call, view = rename_modal_of_a_new_call(app)
    submitted = app.slack.submit_view(
        view, {"title_block": {"title_input": {"type": "plain_text_input", "value": "x"}}}, user=BOB
    )
    assert submitted.json()["response_action"] == "errors"
    assert "can rename it" in submitted.json()["errors"]["title_block"]
    assert app.db.call(call.id).title == "Standup"


def test_buttons_on_a_call_of_another_workspace_act_on_nothing(running_app):
    app = running_app
    call = app.start_call("start Standup")
    for action in ("call_join", "call_leave", "call_end", "call_rename"):
        reply = app.click(action, str(call.id), user=ALICE, team_id=OTHER_TEAM)
        assert "doesn't exist" in reply_text(reply)
    assert app.sent("calls.end") == []
    assert app.sent("calls.participants.add") == []
    assert app.fake.views == []
    assert app.db.call(call.id).state == CallState.ACTIVE


def test_commands_from_another_workspace_see_no_call(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.command("end", user=ALICE, team_id=OTHER_TEAM)
    assert "no call running" in reply_text(reply)
    assert app.db.call(call.id).state == CallState.ACTIVE


def test_a_button_value_that_is_no_call_id_acts_on_nothing(running_app):
    app = running_app
    call = app.start_call("start Standup")
    for value in ("abc", "", "99999", None):
        reply = app.click("call_end", value, user=ALICE)
        assert "doesn't exist" in reply_text(reply)
    assert app.db.call(call.id).state == CallState.ACTIVE


def test_the_rename_buttons_admin_check_tries_once_within_the_trigger_ids_3_seconds(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("users.info", status=429, retry_after=5)
    reply = app.click("call_rename", str(call.id), user=ADMIN)
    assert "rate-limiting" in reply_text(reply)
    assert len(app.fake.attempts_to("users.info")) == 1
    assert app.fake.views == []
