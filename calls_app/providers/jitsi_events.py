"""Self-hosted Jitsi Meet's presence: the JSON bodies Prosody's event_sync module POSTs.

event_sync (jitsi-contrib/prosody-plugins) posts to `{api_prefix}/events/room/created`,
`/room/destroyed`, `/occupant/joined` and `/occupant/left`, with static headers: it can't sign,
so a bearer token it carries is the check. Events of a breakout room name the main room
(`room_name`) and the breakout (`breakout_room_id`): a move is a leave there and a join here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from calls_app.providers import (
    MeetingEnded,
    Person,
    PersonJoined,
    PersonLeft,
    PresenceEvent,
    jitsi_meeting_id,
)

EVENTS = ("room/created", "room/destroyed", "occupant/joined", "occupant/left")


class NotAnEvent(ValueError):
    """A body event_sync would not send."""


def events_of(kind: str, body: dict[str, Any], *, now: datetime) -> list[PresenceEvent]:
    """What one delivery to `/jitsi/events/<kind>` says."""
    meeting_id = jitsi_meeting_id(_room_name(body))
    breakout = body.get("is_breakout") is True
    if kind == "room/created":
        return []  # a room exists before anyone is in it: nothing to show
    if kind == "room/destroyed":
        # The main room goes only once it and its breakouts are empty; a breakout may go sooner.
        return [] if breakout else [MeetingEnded(meeting_id)]
    occupant = body.get("occupant")
    if not isinstance(occupant, dict):
        raise NotAnEvent("no occupant")
    part = str(body.get("breakout_room_id") or "breakout") if breakout else ""
    person = _person(occupant)
    if kind == "occupant/joined":
        return [PersonJoined(meeting_id, person, _time(occupant.get("joined_at"), now), part)]
    return [PersonLeft(meeting_id, person, _time(occupant.get("left_at"), now), part)]


def _room_name(body: dict[str, Any]) -> str:
    name = body.get("room_name")
    if not isinstance(name, str) or not name:
        jid = body.get("room_jid")
        name = jid.split("@", 1)[0] if isinstance(jid, str) else ""
    if not name:
        raise NotAnEvent("no room_name")
    return name


def _person(occupant: dict[str, Any]) -> Person:
    """Named by their account (JWT `id`), else email, else their connection's jid: a guest
    without a token can't be told apart after a reconnect."""
    email = _text(occupant.get("email"))
    key = _text(occupant.get("id")) or (email and email.lower())
    key = key or _text(occupant.get("occupant_jid"))
    if not key:
        raise NotAnEvent("occupant has no id, email or occupant_jid")
    avatar = _text(occupant.get("avatar"))
    return Person(
        key=key,
        display_name=_text(occupant.get("name")) or "Guest",
        email=email,
        avatar_url=avatar if avatar and avatar.startswith("https://") else None,
    )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _time(value: Any, now: datetime) -> datetime:
    """event_sync's Unix seconds; a missing one is now."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(int(value), UTC)
    return now
