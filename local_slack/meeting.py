"""The demo's stand-in for a self-hosted Jitsi Meet: people "join the meeting" of a live call
from the page, and the local Slack posts what Prosody's event_sync module would post to the
app (`/jitsi/events/occupant/joined`, `/occupant/left`, `/room/destroyed`, with its bearer
token), so the call card shows who is really in the meeting."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from local_slack.app_requests import HttpResult, post
from local_slack.blockkit_html import attr, hidden_fields
from local_slack.mrkdwn_html import plain_text
from local_slack.web_api.state import FakeCall
from local_slack.workspace import Workspace

log = logging.getLogger(__name__)

BASE_URL = "https://meet.demo.invalid/"  # made up: nobody opens the meeting itself
DOMAIN = urlsplit(BASE_URL).hostname or "meet.demo.invalid"
MAX_GUEST_NAME = 40


@dataclass(frozen=True)
class Occupant:
    key: str  # a person's Slack id, or "guest:<name>"
    name: str
    email: str | None
    jid: str
    joined_at: int


class Meeting:
    def __init__(self, workspace: Workspace, *, unix_time: Callable[[], float] = time.time):
        self._workspace = workspace
        self.token = secrets.token_hex(16)  # made up here, given to the app
        self.unix_time = unix_time
        self.app_url: str | None = None  # the app's base URL, once it is up
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, Occupant]] = {}

    def app_settings(self) -> dict[str, str]:
        """What the app needs for rooms of this server and presence from it."""
        return {"CALLS_JITSI_BASE_URL": BASE_URL, "JITSI_WEBHOOK_TOKEN": self.token}

    def connect(self, app_url: str) -> None:
        self.app_url = app_url.rstrip("/")

    # ---------------------------------------------------------------- what people do

    def act(self, viewer: str, call: FakeCall | None, do: str, guest: str = "") -> None:
        """One press of a meeting control; anything not a live call of this server is ignored."""
        room = room_of(call) if call is not None and not call.ended else None
        if room is None or self.app_url is None:
            return
        if do == "join":
            person = self._workspace.person(viewer)
            if person is not None:
                self._join(room, person.id, person.name, person.email)
        elif do == "join-guest":
            name = " ".join(guest.split())[:MAX_GUEST_NAME] or "Guest"
            self._join(room, f"guest:{name}", name, None)
        elif do.startswith("leave:"):
            self._leave(room, do.removeprefix("leave:"))
        elif do == "end":
            with self._lock:
                self._rooms.pop(room, None)
            self._send("room/destroyed", _room_body(room, "muc-room-destroyed"))

    def in_room(self, call: FakeCall) -> list[Occupant]:
        room = room_of(call)
        with self._lock:
            return list(self._rooms.get(room, {}).values()) if room else []

    def _join(self, room: str, key: str, name: str, email: str | None) -> None:
        now = int(self.unix_time())
        jid = f"{secrets.token_hex(4)}@{DOMAIN}/{secrets.token_hex(4)}"
        occupant = Occupant(key, name, email, jid, now)
        with self._lock:
            people = self._rooms.setdefault(room, {})
            if key in people:
                return
            people[key] = occupant
        self._send("occupant/joined", _occupant_body(room, "joined", occupant))

    def _leave(self, room: str, key: str) -> None:
        with self._lock:
            occupant = self._rooms.get(room, {}).pop(key, None)
        if occupant is not None:
            body = _occupant_body(room, "left", occupant, left_at=int(self.unix_time()))
            self._send("occupant/left", body)

    def _send(self, event: str, body: dict) -> HttpResult | None:
        try:
            result = post(
                f"{self.app_url}/jitsi/events/{event}",
                json.dumps(body).encode(),
                content_type="application/json",
                signed=False,
                extra_headers={"Authorization": f"Bearer {self.token}"},
            )
        except OSError as error:
            log.warning("the app did not take the meeting's %s: %s", event, error)
            return None
        if result.status != 200:
            log.warning("the app answered the meeting's %s with %d", event, result.status)
        return result

    # ---------------------------------------------------------------- the page

    def controls_html(self, call: FakeCall, viewer: str, page: dict[str, str]) -> str:
        """Under a live call's card: the meeting's own controls, marked as the demo's."""
        if self.app_url is None or call.ended or room_of(call) is None:
            return ""
        person = self._workspace.person(viewer)
        occupants = self.in_room(call)
        keep = hidden_fields({**page, "call": call.id})
        buttons = []
        if person is not None and all(o.key != viewer for o in occupants):
            buttons.append(_button("join", f"Join the meeting as {person.name}"))
        elif person is not None:
            buttons.append(_button(f"leave:{viewer}", "Leave the meeting"))
        for guest in (o for o in occupants if o.key.startswith("guest:")):
            buttons.append(_button(f"leave:{guest.key}", f"{guest.name} leaves"))
        buttons.append(_button("end", "End the meeting"))
        # the guest's own form: Enter in its name field presses its button, not the first above
        return (
            '<div class="meeting" role="group" aria-label="The meeting (demo)">'
            '<span class="meeting-label">Meeting (demo):</span>'
            f'<form method="post" action="/meeting">{keep}{"".join(buttons)}</form>'
            f'<form method="post" action="/meeting">{keep}'
            '<input name="guest" aria-label="Guest name" placeholder="Guest name" '
            f'maxlength="{MAX_GUEST_NAME}" autocomplete="off">'
            f"{_button('join-guest', 'Join as a guest')}</form></div>"
        )


def room_of(call: FakeCall) -> str | None:
    """The room of a call on this meeting server, by its join URL."""
    if not call.join_url.startswith(BASE_URL):
        return None
    room = call.join_url.removeprefix(BASE_URL).split("?", 1)[0].split("#", 1)[0]
    return room.lower() if room and "/" not in room else None


def _button(do: str, label: str) -> str:
    return (
        f'<button type="submit" class="btn" name="do" value="{attr(do)}">'
        f"{plain_text(label)}</button>"
    )


def _room_body(room: str, event_name: str) -> dict:
    return {
        "event_name": event_name,
        "room_name": room,
        "room_jid": f"{room}@conference.{DOMAIN}",
        "is_breakout": False,
    }


def _occupant_body(room: str, event: str, who: Occupant, *, left_at: int | None = None) -> dict:
    """As mod_event_sync_component.lua builds it."""
    occupant: dict = {"occupant_jid": who.jid, "name": who.name, "joined_at": who.joined_at}
    if who.email:
        occupant["email"] = who.email
    if left_at is not None:
        occupant["left_at"] = left_at
    return {**_room_body(room, f"muc-occupant-{event}"), "occupant": occupant}
