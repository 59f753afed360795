"""Plain data passed between the layers: what services hand the store and get back from it,
and what the Slack gateway reads that the Block Kit builders draw. No behaviour, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from calls_app.models import Call

MAX_TITLE_LENGTH = 150  # Slack's header limit; the title is shown in one


class Verb(StrEnum):
    """What `/call` is asked to do; the picker's buttons carry one of ON_A_CALL."""

    START = "start"
    END = "end"
    JOIN = "join"
    LEAVE = "leave"
    RENAME = "rename"
    STATUS = "status"
    HELP = "help"


ON_A_CALL = frozenset({Verb.END, Verb.JOIN, Verb.LEAVE, Verb.RENAME})  # act on one existing call


@dataclass(frozen=True)
class Actor:
    """Who acts, in which workspace (docs/glossary.md)."""

    team_id: str
    enterprise_id: str | None
    user_id: str


@dataclass(frozen=True)
class MessageRef:
    """A message in a channel: the one whose button was pressed."""

    channel_id: str
    ts: str


class CallNamed(TypedDict, total=False):
    """The call a verb acts on: `call_id` (a button, a modal), else the channel's one live call
    (a command); `pressed_on` is the channel message whose button asked."""

    channel_id: str | None
    call_id: int | None
    pressed_on: MessageRef | None


@dataclass(frozen=True)
class StartedCall:
    call: Call
    invited: list[str]
    not_invited: list[str]


@dataclass(frozen=True)
class JoinedCall:
    call: Call
    already_in: bool


@dataclass(frozen=True)
class Person:
    """Someone in a call: a Slack user, or an external participant known only by name."""

    slack_id: str | None
    name: str | None = None


class Joined(StrEnum):
    FIRST_TIME = "first_time"
    AGAIN = "again"  # had left, is back
    ALREADY_IN = "already_in"


@dataclass(frozen=True)
class NewCall:
    team_id: str
    enterprise_id: str | None
    channel_id: str
    title: str
    join_url: str
    created_by: str
    started_at: datetime
    meeting_id: str | None = None
    shown_by_unfurl: bool = False  # a pasted link's call: no message of its own to post


@dataclass(frozen=True)
class Attendee:
    """Someone in a call as we list them: a Slack user, or someone external (whom the video
    provider reported, or Slack's call lists)."""

    slack_user_id: str | None = None
    external_id: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True)
class ReconcileCandidates:
    stuck_starting: list[Call]
    unposted: list[Call]
    interrupted_ends: list[Call]
    overlong: list[Call]
    empty: list[Call]
    uninvited: list[Call]  # invitations a crash kept from being sent
    outdated_messages: list[Call]
    live: list[Call]


@dataclass(frozen=True)
class HomeCalls:
    """What one person's Home shows, read with a fixed number of LIMITed, indexed queries."""

    active: list[Call]
    more_active: bool
    recent: list[Call]
    present: dict[int, int]  # call id -> people in it now
    took_part: dict[int, int]  # call id -> people who were ever in it
