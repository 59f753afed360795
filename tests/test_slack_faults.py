"""Slack's faults: rate limits, 5xx, dropped connections, refused tokens — nothing is lost."""

from __future__ import annotations

import logging
import threading

from calls_app.models import CallState
from tests.support.app import reply_text
from tests.support.workspace import ALICE, BOB, GENERAL


def test_a_429_on_a_persons_action_tells_them_and_holds_that_method_until_retry_after(
    running_app,
):
    app = running_app
    app.fake.fail_next("calls.add", status=429, retry_after=30)
    reply = app.command("start Standup", user=ALICE)
    assert "Slack is rate-limiting calls-app right now" in reply_text(reply)
    assert [c.state for c in app.db.calls()] == [CallState.FAILED]
    # Within its Retry-After the method isn't tried again: the person is told at once.
    again = app.command("start Standup", user=BOB)
    assert "Slack is rate-limiting calls-app right now" in reply_text(again)
    assert [a.status for a in app.fake.attempts_to("calls.add")] == [429]
    assert app.fake.calls == {}


def test_a_429_on_background_work_waits_its_retry_after_without_holding_anyone_up(running_app):
    app = running_app
    app.fake.add_channel("C0RANDOM", name="random")
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.participants.add", status=429, retry_after=1)
    app.command("join", user=BOB)
    app.fake.wait_for(lambda: app.fake.attempts_to("calls.participants.add"))
    # Meanwhile other methods serve people as usual: a start in another channel goes through.
    other = app.start_call("start Other", channel="C0RANDOM", channel_name="random")
    assert other.state == CallState.ACTIVE
    assert app.db.outbox()  # Bob's join waits for Slack's limit, recorded
    app.settle(timeout=5)
    assert [a.status for a in app.fake.attempts_to("calls.participants.add")] == [429, 200]
    assert app.fake.calls[call.slack_call_id].users == [{"slack_id": ALICE}, {"slack_id": BOB}]


def test_a_5xx_on_calls_end_is_retried(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.end", status=503, times=2)
    app.command("end", user=ALICE)
    assert [a.status for a in app.fake.attempts_to("calls.end")] == [503, 503, 200]
    assert app.db.call(call.id).state == CallState.ENDED


def test_a_dropped_connection_on_participants_add_is_retried(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.participants.add", drop_connection=True)
    app.command("join", user=BOB)
    app.settle()
    assert len(app.fake.attempts_to("calls.participants.add")) == 2
    assert app.db.present(call.id) == [ALICE, BOB]
    assert app.fake.calls[call.slack_call_id].users == [{"slack_id": ALICE}, {"slack_id": BOB}]


def test_a_5xx_on_calls_add_is_not_retried_so_no_call_is_registered_twice(running_app):
    app = running_app
    app.fake.fail_next("calls.add", status=500)
    reply = app.command("start Standup", user=ALICE)
    assert "Slack is having trouble (calls.add answered 500)" in reply_text(reply)
    assert len(app.fake.attempts_to("calls.add")) == 1
    assert app.fake.calls == {}
    assert [c.state for c in app.db.calls()] == [CallState.FAILED]
    assert app.sent("chat.postMessage") == []


def test_a_dropped_connection_on_post_message_is_not_retried(running_app):
    app = running_app
    app.fake.fail_next("chat.postMessage", drop_connection=True)
    reply = app.command("start Standup", user=ALICE)
    assert "couldn't reach Slack" in reply_text(reply)
    assert len(app.fake.attempts_to("chat.postMessage")) == 1
    (ended,) = app.sent("calls.end")  # the unseen call is withdrawn
    assert app.fake.calls[ended["id"]].ended
    assert app.db.only_call().state == CallState.FAILED


def test_a_post_that_landed_though_slack_answered_503_loses_its_buttons_when_pressed(
    running_app,
):
    app = running_app
    app.fake.fail_next("chat.postMessage", status=503, landed=True)
    reply = app.command("start Standup", user=ALICE)
    assert "chat.postMessage answered 503" in reply_text(reply)
    call = app.db.only_call()
    assert call.state == CallState.FAILED  # withdrawn: calls.end sent
    assert app.fake.calls[call.slack_call_id].ended
    (orphan,) = app.fake.messages_in(GENERAL)  # ...but Slack had posted it
    for pressed, action in enumerate(("call_join", "call_leave", "call_end", "call_rename"), 1):
        reply = app.click(action, str(call.id), user=BOB, message_ts=orphan.ts)
        assert "“Standup” couldn't be started" in reply_text(reply)
        (message,) = app.fake.messages_in(GENERAL)
        assert message.ts == orphan.ts and message.updates == pressed
        assert "Standup couldn't be started" in message.text
        assert [block["type"] for block in message.blocks] == ["section"]  # no call, no buttons
    assert app.sent("calls.participants.add") == []
    assert app.sent("calls.participants.remove") == []
    assert len(app.sent("calls.end")) == 1
    assert app.fake.views == []
    assert app.db.call(call.id).state == CallState.FAILED
    assert app.db.present(call.id) == []


def start_whose_post_landed(app):
    """`/call start` whose message Slack has posted, its answer held by the fault queued:
    the start's response_url, the message, the call."""
    _, response_url = app.slack.command("start Standup", user=ALICE)
    app.fake.wait_for(lambda: app.fake.messages_in(GENERAL))
    (message,) = app.fake.messages_in(GENERAL)
    return response_url, message, app.db.only_call()


def test_a_press_before_the_post_answered_waits_for_the_starter(running_app):
    app = running_app
    answer = threading.Event()
    app.fake.fail_next("chat.postMessage", landed=True, hang=answer)  # posted; answer held
    response_url, message, call = start_whose_post_landed(app)
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=message.ts)
    assert "That call is still starting. Try again in a moment." in reply_text(reply)
    assert app.db.call(call.id).message_ts is None  # the starter's to record
    assert app.db.present(call.id) == [ALICE]
    assert app.sent("calls.participants.add") == []
    answer.set()
    assert "Started *Standup*" in reply_text(app.fake.wait_for_response(response_url))
    assert app.db.call(call.id).message_ts == message.ts
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=message.ts)
    assert "You joined *Standup*" in reply_text(reply)
    assert app.sent("chat.delete") == [] and app.sent("chat.update") == []
    assert [m.ts for m in app.fake.messages_in(GENERAL)] == [message.ts]
    assert app.db.present(call.id) == [ALICE, BOB]


def test_a_press_while_the_starter_withdraws_a_landed_post_does_not_keep_the_call(running_app):
    app = running_app
    answer = threading.Event()
    # Posted, the answer held, then lost: the starter will withdraw the call.
    app.fake.fail_next("chat.postMessage", status=503, landed=True, hang=answer)
    response_url, message, call = start_whose_post_landed(app)
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=message.ts)
    assert "That call is still starting. Try again in a moment." in reply_text(reply)
    answer.set()
    assert "chat.postMessage answered 503" in reply_text(app.fake.wait_for_response(response_url))
    assert app.db.call(call.id).state == CallState.FAILED
    assert app.db.call(call.id).message_ts is None
    assert app.fake.calls[call.slack_call_id].ended
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=message.ts)
    assert "“Standup” couldn't be started" in reply_text(reply)
    (shown,) = app.fake.messages_in(GENERAL)
    assert "Standup couldn't be started" in shown.text
    assert app.sent("calls.participants.add") == []
    assert app.db.present(call.id) == []


def test_a_post_adopted_by_a_press_after_its_lease_ran_out_is_not_withdrawn(running_app):
    app = running_app
    answer = threading.Event()
    # Posted; the answer, a 503, comes only after the starter's lease has run out.
    app.fake.fail_next("chat.postMessage", status=503, landed=True, hang=answer)
    response_url, message, call = start_whose_post_landed(app)
    app.clock.advance(seconds=61)
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=message.ts)
    assert "You joined *Standup*" in reply_text(reply)
    answer.set()
    assert "Started *Standup*" in reply_text(app.fake.wait_for_response(response_url))
    assert app.sent("calls.end") == []  # the starter saw it was shown after all
    assert not app.fake.calls[call.slack_call_id].ended
    stored = app.db.call(call.id)
    assert (stored.state, stored.message_ts) == (CallState.ACTIVE, message.ts)
    assert app.db.present(call.id) == [ALICE, BOB]
    (shown,) = app.fake.messages_in(GENERAL)
    assert shown.updates == 0 and shown.blocks[0]["type"] == "call"


def test_a_press_while_a_late_withdrawal_ends_the_call_in_slack_does_not_keep_it(running_app):
    app = running_app
    posted, ended = threading.Event(), threading.Event()
    app.fake.fail_next("chat.postMessage", status=503, landed=True, hang=posted)
    app.fake.fail_next("calls.end", hang=ended)  # slow, then done
    response_url, message, call = start_whose_post_landed(app)
    app.clock.advance(seconds=61)  # the starter's lease runs out before the 503 comes
    posted.set()
    # The starter holds the call again while Slack ends it: no press may take it meanwhile.
    app.fake.wait_for(lambda: app.db.call(call.id).lease_expires_at > app.clock())
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=message.ts)
    assert "That call is still starting" in reply_text(reply)
    ended.set()
    assert "chat.postMessage answered 503" in reply_text(app.fake.wait_for_response(response_url))
    assert app.fake.calls[call.slack_call_id].ended
    stored = app.db.call(call.id)
    assert (stored.state, stored.message_ts) == (CallState.FAILED, None)
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=message.ts)
    assert "“Standup” couldn't be started" in reply_text(reply)
    assert app.sent("calls.participants.add") == []
    assert app.db.present(call.id) == []


def test_a_press_on_a_live_calls_message_replaces_nothing(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.click("call_join", str(call.id), user=BOB, message_ts=call.message_ts)
    assert app.sent("chat.update") == []
    assert app.db.present(call.id) == [ALICE, BOB]


def test_calls_end_down_after_every_retry_leaves_the_call_live(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.end", status=503, times=10)
    reply = app.command("end", user=ALICE, timeout=30)  # three backoffs: ~3.5 s and jitter
    assert "calls.end answered 503" in reply_text(reply)
    assert len(app.fake.attempts_to("calls.end")) == 4  # the first try and 3 retries
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert not app.fake.calls[call.slack_call_id].ended


def test_token_errors_reach_the_user_as_one_sentence_and_the_log_names_method_and_error(
    running_app, caplog
):
    app = running_app
    app.fake.fail_next("calls.add", error="invalid_auth")
    with caplog.at_level(logging.WARNING):
        reply = app.command("start Standup", user=ALICE)
    assert reply_text(reply) == (
        "Slack didn't accept calls-app's token. Ask a workspace admin to reinstall the app."
    )
    assert "Slack calls.add failed: invalid_auth" in caplog.text
    assert app.fake.bot_token not in caplog.text


def test_missing_scope_while_posting_ends_the_call_and_says_so(running_app):
    app = running_app
    app.fake.fail_next("chat.postMessage", error="missing_scope")
    reply = app.command("start Standup", user=ALICE)
    assert "missing a Slack permission" in reply_text(reply)
    assert len(app.sent("calls.end")) == 1
    assert app.db.only_call().state == CallState.FAILED


def test_calls_add_not_authorized_in_this_channel(running_app):
    app = running_app
    app.fake.fail_next("calls.add", error="not_authorized")
    reply = app.command("start Standup", user=ALICE)
    assert "doesn't allow calls to be started in this channel" in reply_text(reply)
    assert app.sent("chat.postMessage") == []


def test_the_ack_does_not_wait_for_the_web_api(running_app):
    """Slack's 3 seconds hold however slow Slack itself is: the ack comes before calls.add."""
    app = running_app
    release = threading.Event()
    app.fake.fail_next("calls.add", hang=release)
    result, response_url = app.slack.command("start Standup", user=ALICE)
    assert (result.status, result.body) == (200, "")
    assert app.fake.responses_to(response_url) == []  # the work is still waiting on Slack
    release.set()
    reply = app.fake.wait_for_response(response_url)
    assert "Started *Standup*" in reply_text(reply)


def test_a_failed_message_update_after_end_does_not_undo_the_end(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("chat.update", error="message_not_found", times=5)
    reply = app.command("end", user=ALICE)
    assert "You ended *Standup*" in reply_text(reply)
    assert app.db.call(call.id).state == CallState.ENDED
