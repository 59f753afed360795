"""What the fake Slack holds and has seen: its workspaces, calls, messages and views, every
request it answered, and the waiting on them that tests do."""

from __future__ import annotations

import copy
import inspect
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiRequest:
    """One Web API request as the fake saw it and answered it.

    ``args`` are decoded: JSON-string arguments (users, blocks, view, ...) are Python objects and
    integer arguments are ints. ``status`` is 0 when the connection was dropped on purpose.
    """

    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True


@dataclass(frozen=True)
class ResponsePost:
    """A body a response_url accepted."""

    url: str
    payload: dict[str, Any]


@dataclass
class FakeCall:
    """A call registered with calls.add; ``users`` are the current participants."""

    id: str
    team_id: str
    external_unique_id: str
    join_url: str
    title: str | None
    created_by: str | None
    date_start: int
    date_end: int | None = None
    duration: int | None = None
    users: list[dict] = field(default_factory=list)
    ended: bool = False
    desktop_app_join_url: str | None = None
    external_display_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The call object as calls.add / calls.info answer it."""
        call: dict[str, Any] = {
            "id": self.id,
            "date_start": self.date_start,
            "external_unique_id": self.external_unique_id,
            "join_url": self.join_url,
            "title": self.title,
            "created_by": self.created_by,
            "users": [dict(user) for user in self.users],
        }
        if self.desktop_app_join_url:
            call["desktop_app_join_url"] = self.desktop_app_join_url
        if self.external_display_id:
            call["external_display_id"] = self.external_display_id
        if self.ended:
            call["date_end"] = self.date_end
            call["duration"] = self.duration
        return call


@dataclass
class FakeMessage:
    """A message the bot posted; chat.update edits it in place and counts ``updates``."""

    channel: str
    ts: str
    text: str | None
    blocks: list[dict] | None
    team_id: str
    updates: int = 0
    thread_ts: str | None = None


@dataclass
class Team:
    id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    enterprise_id: str | None = None
    users: dict[str, dict] = field(default_factory=dict)
    channels: dict[str, dict] = field(default_factory=dict)
    # channel id -> its members in order; a channel not here has every user of the team
    channel_members: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Token:
    team_id: str | None  # None: an organization-wide token (``enterprise_id``)
    scopes: frozenset[str] | None  # None: every scope
    revoked_error: str | None = None
    enterprise_id: str | None = None


class SlackState:
    """The workspaces' state and the traffic log. One re-entrant lock guards all of it; the
    method handlers run under it and never block."""

    def __init__(self, team_id: str) -> None:
        self.team_id = team_id
        self.clock: Callable[[], float] = time.time  # replaceable, e.g. to test durations
        self.home_tab_enabled = True  # False: views.publish answers not_enabled
        # Slack may answer fewer members than asked for; set this to make pages that small.
        self.members_per_page: int | None = None

        self.requests: list[ApiRequest] = []
        self.responses: dict[str, list[dict]] = {}
        self.rejected_responses: list[dict] = []
        self.calls: dict[str, FakeCall] = {}
        self.messages: list[FakeMessage] = []
        self.unfurls: list[dict] = []  # chat.unfurl requests accepted
        self.ephemerals: list[dict] = []
        self.views: list[dict] = []
        self.home_views: dict[str, dict] = {}

        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._generation = 0
        self._listeners: list[Callable[[ApiRequest | ResponsePost], None]] = []
        self.teams: dict[str, Team] = {}
        self.tokens: dict[str, Token] = {}
        self.response_urls: dict[str, dict] = {}
        self.oauth_codes: dict[str, dict] = {}
        self.app_tokens: dict[str, str] = {}  # app-level token -> Socket Mode URL
        self.open_views: dict[str, dict] = {}  # view id -> {"team_id", "view", "user_id"}
        self.home_view_ids: dict[tuple[str, str], str] = {}
        self.issued_triggers: dict[str, float] = {}
        self.used_triggers: set[str] = set()
        self._last_ts = (0, 0)

    # ------------------------------------------------------------------ state lookups

    def team(self, team_id: str | None) -> Team:
        team_id = team_id or self.team_id
        try:
            return self.teams[team_id]
        except KeyError:
            raise KeyError(f"unknown team {team_id!r}; add_team() it first") from None

    def call_exists_in(self, team: Team) -> Callable[[str], bool]:
        """Whether a call id names a call of ``team`` (what a call block may name)."""

        def exists(call_id: str) -> bool:
            call = self.calls.get(call_id)
            return call is not None and call.team_id == team.id

        return exists

    def new_id(self, prefix: str) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            candidate = prefix + "".join(secrets.choice(alphabet) for _ in range(10))
            if candidate not in self.calls and candidate not in self.open_views:
                return candidate

    def next_ts(self) -> str:
        """Unique, increasing message timestamps like "1700000000.000100"."""
        seconds = int(self.clock())
        last_seconds, last_seq = self._last_ts
        if seconds <= last_seconds:
            seconds, seq = last_seconds, last_seq + 1
        else:
            seq = 100
        self._last_ts = (seconds, seq)
        return f"{seconds}.{seq:06d}"

    # ------------------------------------------------------------------ recording

    def record(self, request: ApiRequest) -> None:
        with self._changed:
            self.requests.append(request)
            self._tell_listeners(request)
            self._notify()

    def record_response(self, url: str, payload: dict) -> None:
        """A body a response_url accepted."""
        with self._changed:
            self.responses[url].append(payload)
            self._tell_listeners(ResponsePost(url, payload))
            self._notify()

    def reject_response(
        self, url: str, status: int, error: str, body: Any, errors: list[str] | None = None
    ) -> None:
        with self._changed:
            self.rejected_responses.append(
                {
                    "url": url,
                    "status": status,
                    "error": error,
                    "body": body,
                    "errors": list(errors or []),
                }
            )
            self._notify()

    def _notify(self) -> None:
        self._generation += 1
        self._changed.notify_all()

    def _tell_listeners(self, event: ApiRequest | ResponsePost) -> None:
        for listener in self._listeners:
            listener(event)

    def add_listener(self, listener: Callable[[ApiRequest | ResponsePost], None]) -> None:
        """Call ``listener`` with every Web API request and every accepted response_url post,
        in the order they happen. It runs under the fake's lock: it must be quick and must not
        wait for another thread."""
        with self.lock:
            self._listeners.append(listener)

    # ------------------------------------------------------------------ recorded traffic

    def view(self, view_id: str) -> dict | None:
        """A view as Slack holds it now (with its id, hash and blocks), or None."""
        with self.lock:
            entry = self.open_views.get(view_id)
            return copy.deepcopy(entry["view"]) if entry else None

    def home_of(self, user_id: str, *, team_id: str | None = None) -> dict | None:
        """The Home tab last published for ``user_id``, as Slack holds it, or None."""
        with self.lock:
            view_id = self.home_view_ids.get((self.team(team_id).id, user_id))
            return self.view(view_id) if view_id else None

    def calls_to(self, method: str) -> list[dict]:
        """Args of every request to ``method`` that Slack answered ok:true."""
        with self.lock:
            return [r.args for r in self.requests if r.method == method and r.ok]

    def attempts_to(self, method: str) -> list[ApiRequest]:
        """Every request to ``method``, failed ones included."""
        with self.lock:
            return [r for r in self.requests if r.method == method]

    def responses_to(self, url: str) -> list[dict]:
        with self.lock:
            return list(self.responses.get(url, []))

    def messages_in(self, channel: str) -> list[FakeMessage]:
        with self.lock:
            return [m for m in self.messages if m.channel == channel]

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, message: str | None = None
    ) -> None:
        """Wait until ``predicate()`` is true; re-checked whenever the fake sees traffic.

        The predicate runs without the fake's lock held, so it may query anything (the app's
        database, say) without deadlocking against a request in flight.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                generation = self._generation
            if predicate():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(predicate, timeout, message))
            with self._changed:
                if self._generation == generation:
                    self._changed.wait(min(remaining, 0.05))

    def wait_for_response(self, url: str, count: int = 1, timeout: float = 5.0) -> dict:
        """Wait until ``count`` bodies were posted to ``url``; return the last one."""
        with self.lock:
            if url not in self.response_urls:
                raise ValueError(f"{url} was not made by new_response_url()")
        self.wait_for(
            lambda: len(self.responses[url]) >= count,
            timeout,
            message=f"{count} response(s) posted to {url}",
        )
        with self.lock:
            return self.responses[url][-1]

    def _timeout_report(
        self, predicate: Callable[[], bool], timeout: float, message: str | None
    ) -> str:
        with self.lock:
            recent = self.requests[-15:]
            lines = [
                f"  {r.method} -> {'ok' if r.ok else r.response.get('error', '?')} "
                f"(HTTP {r.status})"
                for r in recent
            ]
            rejected = [f"  {r['url']} -> {r['error']}" for r in self.rejected_responses[-5:]]
        report = [f"timed out after {timeout}s waiting for {message or _describe(predicate)}"]
        report.append(f"last {len(recent)} Web API request(s):" if recent else "no requests")
        report.extend(lines)
        if rejected:
            report.append("rejected response_url posts:")
            report.extend(rejected)
        return "\n".join(report)


def _describe(predicate: Callable[[], bool]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))
