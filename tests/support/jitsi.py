"""Self-hosted Jitsi's presence as Prosody's event_sync delivers it: the webhook's token, the
occupant bodies mod_event_sync_component.lua builds, and their delivery over HTTP."""

from __future__ import annotations

import json

from local_slack.app_requests import HttpResult, post
from tests.support.app import RunningApp

TOKEN = "jitsi-webhook-token-0123456789"
DOMAIN = "meet.example.org"


def deliver(
    app: RunningApp, event: str, body: dict | bytes, *, token: str | None = TOKEN
) -> HttpResult:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return post(
        f"{app.base_url}/jitsi/events/{event}",
        data,
        content_type="application/json",
        signed=False,
        extra_headers=headers,
    )


def occupant_body(
    room: str,
    event: str,
    *,
    jid: str = "4f1c@meet.example.org/guest1",
    name: str | None = "Dana Guest",
    email: str | None = None,
    joined_at: int,
    left_at: int | None = None,
    breakout: str | None = None,
) -> dict:
    """An event_sync occupant body, as mod_event_sync_component.lua builds it."""
    occupant: dict = {"occupant_jid": jid, "joined_at": joined_at}
    if name is not None:
        occupant["name"] = name
    if email is not None:
        occupant["email"] = email
    if left_at is not None:
        occupant["left_at"] = left_at
    body = {
        "event_name": f"muc-occupant-{event}",
        "room_name": room,
        "room_jid": f"{room}@conference.{DOMAIN}",
        "is_breakout": breakout is not None,
        "active_occupants_count": 1,
        "occupant": occupant,
    }
    if breakout is not None:
        body["breakout_room_id"] = breakout
    return body


def join(app: RunningApp, room: str, at: int, **kwargs) -> HttpResult:
    result = deliver(app, "occupant/joined", occupant_body(room, "joined", joined_at=at, **kwargs))
    assert result.status == 200, result
    return result


def leave(app: RunningApp, room: str, joined: int, left: int, **kwargs) -> HttpResult:
    body = occupant_body(room, "left", joined_at=joined, left_at=left, **kwargs)
    result = deliver(app, "occupant/left", body)
    assert result.status == 200, result
    return result
