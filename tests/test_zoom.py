"""Zoom: `/call start` makes a Zoom meeting (a fake Zoom over HTTP), and Zoom's signed webhooks
at POST /zoom/events bring who is in the meeting, and its end, to Slack's call."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from calls_app.models import CallState, EndReason
from calls_app.providers.zoom import signed_by_zoom, url_validation_answer
from local_slack.app_requests import HttpResult, post
from local_slack.web_api import FakeSlack
from tests.fake_zoom import FakeZoom
from tests.support.app import FakeClock, RunningApp, app_env, reply_text, serve_app
from tests.support.presence import now, present, start_meeting
from tests.support.workspace import ALICE, BOB

SECRET = "zoom-secret-token-abc"
ALICE_EMAIL = "alice@example.org"
BOB_EMAIL = "bob@example.org"
DEFAULT_HOST = "rooms@example.org"


@pytest.fixture
def fake_zoom() -> Iterator[FakeZoom]:
    zoom = FakeZoom(users={ALICE_EMAIL, DEFAULT_HOST}).start()
    yield zoom
    zoom.stop()


def zoom_env(fake_slack: FakeSlack, url: URL, zoom: FakeZoom, **extra: str) -> dict[str, str]:
    return app_env(fake_slack, url, **{**zoom.env, "ZOOM_WEBHOOK_SECRET_TOKEN": SECRET, **extra})


@pytest.fixture
def zoom_app(
    fake_slack: FakeSlack, fake_zoom: FakeZoom, database_url: URL, clock: FakeClock
) -> Iterator[RunningApp]:
    fake_slack.add_user(ALICE, email=ALICE_EMAIL)
    fake_slack.add_user(BOB, email=BOB_EMAIL)
    env = zoom_env(fake_slack, database_url, fake_zoom)
    with serve_app(fake_slack, database_url, clock, env) as app:
        yield app


# -- known vectors (checked with `openssl dgst -sha256 -hmac`) ----------------------------------


def test_url_validation_answer_matches_a_known_vector():
    answer = url_validation_answer(
        SECRET.encode(),
        {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}},
    )
    assert answer == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "3abc5b675d2cdca9a1d0bc505c87e2a49a542716eb91dd35d6c452eb09c0cae8",
    }


def test_signature_matches_a_known_vector():
    body = b'{"event":"meeting.started"}'
    good = "v0=831459ebf9ce6a2d527207419f6c0e14e17739df001d96e6e2e64d8821467da8"
    check = lambda signature, now=1700000000, ts="1700000000": signed_by_zoom(  # noqa: E731
        SECRET.encode(), body, timestamp=ts, signature=signature, now=now
    )
    assert check(good)
    assert not check(good.upper())
    assert not check(good[:-1] + "9")
    assert not check(good, now=1700000000 + 301)  # stale
    assert check(good, now=1700000000 + 300)
    assert not check(good, ts="1700000000 ")
    assert not check("v0=é")


# -- meetings ------------------------------------------------------------------------------------


def test_start_makes_a_zoom_meeting_hosted_by_the_person_and_never_posts_its_start_url(
    zoom_app, fake_zoom
):
    app = zoom_app
    call = app.start_call("start Standup")
    (meeting,) = fake_zoom.meetings
    assert meeting.host_email == ALICE_EMAIL
    (added,) = app.sent("calls.add")
    assert added["join_url"] == meeting.join_url == call.join_url
    assert added["desktop_app_join_url"] == (
        f"zoommtg://zoom.us/join?confno={meeting.id}&pwd={meeting.encrypted_password}"
    )
    assert added["external_display_id"] == str(meeting.id)
    assert call.meeting_id == f"zoom:{meeting.id}"
    everything_slack_got = json.dumps([r.args for r in app.fake.requests])
    assert meeting.start_url not in everything_slack_got
    assert "zak=" not in everything_slack_got


def test_the_zoom_token_is_cached_and_fetched_again_when_zoom_refuses_it(zoom_app, fake_zoom):
    app = zoom_app
    app.start_call("start One")
    app.command("end", user=ALICE)
    app.start_call("start Two")
    assert fake_zoom.token_requests == 1
    fake_zoom.revoke_tokens()
    app.command("end", user=ALICE)
    app.start_call("start Three")
    assert fake_zoom.token_requests == 2
    assert len(fake_zoom.meetings) == 3
    # The refused request was made again with the new token, once.
    assert len(fake_zoom.api_requests) == 4


def test_someone_without_a_zoom_user_gets_the_default_host(
    fake_slack, fake_zoom, database_url, clock
):
    fake_slack.add_user(BOB, email=BOB_EMAIL)
    env = zoom_env(fake_slack, database_url, fake_zoom, ZOOM_DEFAULT_HOST=DEFAULT_HOST)
    with serve_app(fake_slack, database_url, clock, env) as app:
        app.start_call("start Standup", user=BOB)
        (meeting,) = fake_zoom.meetings
        assert meeting.host_email == DEFAULT_HOST


def test_without_a_zoom_user_or_default_host_the_person_is_told_and_nothing_starts(zoom_app):
    app = zoom_app
    reply = app.command("start Standup", user=BOB)
    assert "no Zoom account" in reply_text(reply)
    assert "ZOOM_DEFAULT_HOST" in reply_text(reply)
    assert app.db.calls() == []
    assert app.sent("calls.add") == [] and app.sent("chat.postMessage") == []


def test_wrong_zoom_credentials_are_a_clear_message(fake_slack, fake_zoom, database_url, clock):
    fake_slack.add_user(ALICE, email=ALICE_EMAIL)
    env = zoom_env(fake_slack, database_url, fake_zoom, ZOOM_CLIENT_SECRET="wrong")
    with serve_app(fake_slack, database_url, clock, env) as app:
        reply = app.command("start Standup", user=ALICE)
        assert "couldn't sign in to Zoom" in reply_text(reply)
        assert app.db.calls() == [] and app.sent("calls.add") == []
        assert fake_zoom.meetings == []


# -- webhooks --------------------------------------------------------------------------------


def deliver(
    app: RunningApp,
    payload: dict,
    *,
    timestamp: int | None = None,
    body: bytes | None = None,
    signature: str | None = None,
    secret: str = SECRET,
) -> HttpResult:
    data = json.dumps(payload).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + data, hashlib.sha256)
    headers = {"x-zm-request-timestamp": ts, "x-zm-signature": signature or "v0=" + mac.hexdigest()}
    return post(
        f"{app.base_url}/zoom/events",
        data if body is None else body,
        content_type="application/json",
        signed=False,
        extra_headers=headers,
    )


def participant_event(
    call,
    event: str,
    *,
    name: str,
    at: int,
    email: str = "",
    user_id: str = "16778240",
    account: str | None = None,
) -> dict:
    participant = {"user_id": user_id, "user_name": name, "email": email, "id": account or ""}
    if account:
        participant["participant_user_id"] = account
    field_name = "join_time" if event == "joined" else "leave_time"
    participant[field_name] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    return {
        "event": f"meeting.participant_{event}",
        "event_ts": at * 1000,
        "payload": {
            "account_id": "acct-0001",
            "object": {
                "id": call.meeting_id.removeprefix("zoom:"),
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "host_id": "x1yCzABCDEfg23HiJKl4mN",
                "topic": "Slack call",
                "type": 1,
                "start_time": "2026-12-03T10:00:00Z",
                "participant": participant,
            },
        },
    }


def ended_event(call) -> dict:
    return {
        "event": "meeting.ended",
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": "acct-0001",
            "object": {"id": call.meeting_id.removeprefix("zoom:"), "uuid": "x", "topic": "t"},
        },
    }


def test_url_validation_is_answered_as_zoom_specifies(zoom_app):
    app = zoom_app
    result = post(
        f"{app.base_url}/zoom/events",
        json.dumps(
            {
                "event": "endpoint.url_validation",
                "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
            }
        ).encode(),
        content_type="application/json",
        signed=False,
    )
    assert result.status == 200
    assert result.json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "3abc5b675d2cdca9a1d0bc505c87e2a49a542716eb91dd35d6c452eb09c0cae8",
    }


def test_participants_join_and_leave_as_slack_users_and_guests(zoom_app):
    app = zoom_app
    call, _, t = start_meeting(app)
    ok = [
        deliver(app, participant_event(call, "joined", name="Bob", email=BOB_EMAIL, at=t)),
        deliver(app, participant_event(call, "joined", name="Erin Guest", at=t + 1)),
    ]
    assert [r.status for r in ok] == [200, 200]
    app.settle()
    users = app.fake.calls[call.slack_call_id].users
    assert users[0] == {"slack_id": BOB}  # the starter isn't in the meeting, so not shown
    assert users[1]["display_name"] == "Erin Guest" and users[1]["external_id"]
    # The guest drops and rejoins: Zoom gives them a new user_id; still one person.
    deliver(app, participant_event(call, "left", name="Erin Guest", at=t + 30))
    deliver(app, participant_event(call, "joined", name="Erin Guest", at=t + 40, user_id="99"))
    deliver(app, participant_event(call, "left", name="Bob", email=BOB_EMAIL, at=t + 50))
    app.settle()
    assert present(app, call.id) == ["Erin Guest"]
    assert len([p for p in app.db.participants(call.id) if p.external_id]) == 1
    listed = app.fake.calls[call.slack_call_id].users
    assert [u.get("slack_id") or u["display_name"] for u in listed] == ["Erin Guest"]


@pytest.mark.parametrize(
    "tamper",
    ["body", "stale", "future", "no signature", "wrong secret", "not hex"],
)
def test_a_delivery_not_signed_by_zoom_is_refused_and_changes_nothing(zoom_app, tamper):
    app = zoom_app
    call, _, t = start_meeting(app)
    event = participant_event(call, "joined", name="Mallory", at=t)
    if tamper == "body":
        forged = json.dumps(participant_event(call, "joined", name="Eve", at=t)).encode()
        result = deliver(app, event, body=forged)
    elif tamper == "stale":
        result = deliver(app, event, timestamp=int(time.time()) - 301)
    elif tamper == "future":
        result = deliver(app, event, timestamp=int(time.time()) + 301)
    elif tamper == "no signature":
        result = post(
            f"{app.base_url}/zoom/events",
            json.dumps(event).encode(),
            content_type="application/json",
            signed=False,
        )
    elif tamper == "wrong secret":
        result = deliver(app, event, secret="another-secret")
    else:
        result = deliver(app, event, signature="v0=zz")
    assert result.status == 401
    assert deliver(app, ended_event(call), timestamp=int(time.time()) - 600).status == 401
    app.settle()
    assert present(app, call.id) == []
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert app.sent("calls.participants.add") == [] and app.sent("calls.end") == []


def test_a_body_that_is_not_json_is_refused(zoom_app):
    app = zoom_app
    result = post(
        f"{app.base_url}/zoom/events",
        b"event=meeting.ended",
        content_type="application/x-www-form-urlencoded",
        signed=False,
    )
    assert result.status == 400
    big = post(
        f"{app.base_url}/zoom/events",
        b"[" + b"1," * (600 * 1024) + b"1]",
        content_type="application/json",
        signed=False,
    )
    assert big.status == 413


def test_meeting_ended_ends_the_call_with_its_duration(zoom_app):
    app = zoom_app
    call, _, t = start_meeting(app)
    deliver(app, participant_event(call, "joined", name="Erin Guest", at=t))
    app.clock.advance(minutes=45)
    assert deliver(app, ended_event(call)).status == 200
    assert deliver(app, ended_event(call)).status == 200  # Zoom's retry
    app.fake.wait_for(lambda: app.db.call(call.id).state == CallState.ENDED, 5)
    app.settle()
    stored = app.db.call(call.id)
    assert stored.end_reason == EndReason.PROVIDER and stored.duration_seconds == 45 * 60
    (ended,) = app.sent("calls.end")
    assert int(ended["duration"]) == 45 * 60
    assert "Ended when the meeting ended" in app.fake.messages[0].blocks[-1]["elements"][0]["text"]
    # Late events for it: answered, nothing changes.
    late = participant_event(call, "joined", name="Late", at=now(app) + 10, email=BOB_EMAIL)
    assert deliver(app, late).status == 200
    app.settle()
    assert BOB not in [p.slack_user_id for p in app.db.participants(call.id)]


def test_events_for_a_meeting_the_app_does_not_know_change_nothing(zoom_app):
    app = zoom_app
    call = app.start_call("start Standup")
    other = type("Other", (), {"meeting_id": "zoom:99999999999"})()
    assert deliver(app, participant_event(other, "joined", name="X", at=now(app))).status == 200
    assert deliver(app, ended_event(other)).status == 200
    assert deliver(app, {"event": "meeting.started", "payload": {}}).status == 200
    app.settle()
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert present(app, call.id) == []
