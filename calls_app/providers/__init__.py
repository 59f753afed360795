"""Meeting providers: where a call takes place, and what the provider tells us about it.

A provider makes a new meeting (its join URL, and for some a meeting id their webhooks name),
and may parse its own meeting links. Presence comes from a provider's webhooks
(calls_app/providers/jitsi_events.py, calls_app/providers/zoom.py), turned into the events
below and recorded by calls_app/presence.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from calls_app.config import Settings


@dataclass(frozen=True)
class Meeting:
    """A meeting as Slack's calls.add takes it; `meeting_id` is how webhooks name it."""

    join_url: str
    meeting_id: str | None = None
    desktop_app_join_url: str | None = None
    external_display_id: str | None = None


HostEmail = Callable[[], str | None]


class MeetingProvider(Protocol):
    # Its webhooks say who is in a meeting (set up: README, *Presence*). Then a call starts
    # with nobody in it, the starter included, until the meeting says so.
    reports_presence: bool

    def new_meeting(self, *, host_email: HostEmail) -> Meeting:
        """A new meeting nobody can guess; `host_email` (asked only if needed) is the email
        of the Slack person starting it."""
        ...

    def meeting_id_of(self, url: str) -> str | None:
        """The meeting id of one of this provider's meeting links; None for any other URL."""
        ...


# -- what providers tell us ------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone in a meeting. `key` names the same person on every event of one meeting (an
    account id, an email, a name): provider ids that change on a rejoin are not keys."""

    key: str
    display_name: str
    email: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True)
class PersonJoined:
    meeting_id: str
    person: Person
    at: datetime
    part: str = ""  # where in the meeting: "" the main room, else a breakout room


@dataclass(frozen=True)
class PersonLeft:
    meeting_id: str
    person: Person
    at: datetime
    part: str = ""


@dataclass(frozen=True)
class MeetingEnded:
    meeting_id: str


PresenceEvent = PersonJoined | PersonLeft | MeetingEnded


# -- rooms named in a URL ----------------------------------------------------------------------


def _room_name() -> str:
    # 128 random bits: an open Jitsi room is only as private as its name is unguessable.
    return "calls-" + secrets.token_hex(16)


def jitsi_meeting_id(room_name: str) -> str:
    # Jitsi room names are case-insensitive (it lowercases them).
    return "jitsi:" + room_name.lower()


class JitsiMeetProvider:
    def __init__(self, base_url: str, *, reports_presence: bool = False) -> None:
        self._base_url = base_url.rstrip("/") + "/"
        self.reports_presence = reports_presence  # a self-hosted server's event_sync

    def new_join_url(self) -> str:
        return self._base_url + _room_name()

    def new_meeting(self, *, host_email: HostEmail) -> Meeting:
        url = self.new_join_url()
        return Meeting(join_url=url, meeting_id=self.meeting_id_of(url))

    def meeting_id_of(self, url: str) -> str | None:
        base, link = urlsplit(self._base_url), urlsplit(url)
        if link.scheme != "https" or link.netloc.lower() != base.netloc.lower():
            return None
        if not link.path.startswith(base.path):
            return None
        room = link.path[len(base.path) :]
        if not room or "/" in room:
            return None
        return jitsi_meeting_id(room)


class UrlTemplateProvider:
    """Any service whose rooms are made by naming them in a URL, e.g. https://meet.example/{room}."""

    reports_presence = False

    def __init__(self, template: str) -> None:
        self._template = template

    def new_join_url(self) -> str:
        return self._template.replace("{room}", _room_name())

    def new_meeting(self, *, host_email: HostEmail) -> Meeting:
        return Meeting(join_url=self.new_join_url())  # buttons only: no presence

    def meeting_id_of(self, url: str) -> str | None:
        return None


def provider_from_settings(settings: Settings) -> MeetingProvider:
    if settings.join_url_provider == "template":
        assert settings.join_url_template is not None  # checked by load_settings
        return UrlTemplateProvider(settings.join_url_template)
    if settings.join_url_provider == "zoom":
        from calls_app.providers.zoom import ZoomProvider

        assert settings.zoom is not None  # checked by load_settings
        return ZoomProvider(settings.zoom)
    return JitsiMeetProvider(
        settings.jitsi_base_url, reports_presence=settings.jitsi_webhook_token is not None
    )
