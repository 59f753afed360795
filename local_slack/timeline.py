"""What the people of the local Slack see beyond the Web API's own state: the order of each
conversation, private replies and whom each is for, and the modals open for each person.

The Web API fake tells the timeline everything it records (``observe``, under the fake's lock);
those events wait in an inbox and are taken in, in order, whenever the timeline is read or
changed, so the fake's lock is never held while the timeline's is, or the other way round.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from local_slack.web_api.state import ApiRequest, ResponsePost


@dataclass(frozen=True)
class Origin:
    """Where a response_url was handed out: who acted, in which conversation, on what."""

    user: str
    channel: str | None  # None: in a view (the Home tab or a modal), which has no conversation
    command: str | None = None  # the slash command it answers, as typed
    entry_id: int | None = None  # the private reply whose button was pressed


@dataclass
class Entry:
    """Something shown in a conversation that is not a message the app posted with
    chat.postMessage: a private reply, a public reply to a command, a message a person typed."""

    id: int
    seq: int
    channel: str
    author: str  # a person's id, or the app's bot user id
    text: str
    blocks: list[dict] | None
    for_user: str | None  # seen by this person only; None: by everyone
    at: float = field(default_factory=time.time)
    command: str | None = None  # the slash command it answers


@dataclass(frozen=True)
class PostedMessage:
    """A message the app posted, placed in its conversation's order; its content is the Web
    API's (chat.update changes it there)."""

    seq: int
    channel: str
    ts: str


@dataclass
class Modal:
    view_id: str
    errors: dict[str, str] = field(default_factory=dict)  # block_id ("" for the whole view)
    values: dict[str, list[str]] = field(default_factory=dict)  # what was entered, by block


class Timeline:
    def __init__(self, *, bot_user_id: str) -> None:
        self.bot_user_id = bot_user_id
        self._lock = threading.Lock()
        self._inbox: deque[tuple[float, ApiRequest | ResponsePost]] = deque()
        self._seq = itertools.count(1)
        self._entry_ids = itertools.count(1)
        self._posted: dict[tuple[str, str], PostedMessage] = {}
        self._entries: list[Entry] = []
        self._origins: dict[str, Origin] = {}  # response_url -> where it was handed out
        self._trigger_users: dict[str, str] = {}  # trigger_id -> who acted
        self._modals: dict[str, list[Modal]] = {}  # user -> their stack, the top last

    # ---------------------------------------------------------------- what the Web API saw

    def observe(self, event: ApiRequest | ResponsePost) -> None:
        """The Web API fake's listener: quick, lock-free (deque appends are atomic)."""
        self._inbox.append((time.time(), event))

    def expect_response(self, url: str, origin: Origin) -> None:
        with self._lock:
            self._origins[url] = origin

    def expect_trigger(self, trigger_id: str, user: str) -> None:
        with self._lock:
            self._trigger_users[trigger_id] = user

    def _take_in(self) -> None:
        """Apply what the Web API recorded since last time; call with the lock held."""
        while self._inbox:
            at, event = self._inbox.popleft()
            if isinstance(event, ResponsePost):
                self._response(event, at)
            elif event.ok:
                self._request(event, at)

    def _request(self, request: ApiRequest, at: float) -> None:
        method, args, answer = request.method, request.args, request.response
        if method == "chat.postMessage":
            key = (answer["channel"], answer["ts"])
            self._posted[key] = PostedMessage(next(self._seq), *key)
        elif method == "chat.postEphemeral":
            channel = args["channel"]
            if channel[:1] in ("U", "W"):  # to a person: their DM with the app
                channel = "D" + channel
            self._add(channel, self.bot_user_id, args, for_user=args["user"], at=at)
        elif method in ("views.open", "views.push"):
            user = self._trigger_users.get(args.get("trigger_id") or "")
            if user is not None:
                stack = self._modals.setdefault(user, [])
                if method == "views.open":
                    stack.clear()
                stack.append(Modal(answer["view"]["id"]))
        elif method == "views.update":
            for stack in self._modals.values():
                for modal in stack:
                    if modal.view_id == answer["view"]["id"]:
                        modal.errors, modal.values = {}, {}  # new content, nothing entered yet

    def _response(self, post: ResponsePost, at: float) -> None:
        origin = self._origins.get(post.url)
        if origin is None:
            return
        payload = post.payload
        original = self._entry(origin.entry_id)
        if payload.get("delete_original"):
            if original is not None:
                self._entries.remove(original)
            return
        if payload.get("replace_original") and original is not None:
            original.text, original.blocks = payload.get("text") or "", payload.get("blocks")
            return
        if origin.channel is None:
            return
        public = payload.get("response_type") == "in_channel"
        self._add(
            origin.channel,
            self.bot_user_id,
            payload,
            for_user=None if public else origin.user,
            command=origin.command,
            at=at,
        )

    # ---------------------------------------------------------------- what people did

    def add_entry(
        self,
        channel: str,
        author: str,
        *,
        text: str,
        blocks: list[dict] | None = None,
        for_user: str | None = None,
        command: str | None = None,
    ) -> None:
        with self._lock:
            self._take_in()
            message = {"text": text, "blocks": blocks}
            self._add(channel, author, message, for_user=for_user, command=command)

    def _add(
        self,
        channel: str,
        author: str,
        message: dict[str, Any],
        *,
        for_user: str | None,
        command: str | None = None,
        at: float | None = None,
    ) -> None:
        self._entries.append(
            Entry(
                id=next(self._entry_ids),
                seq=next(self._seq),
                channel=channel,
                author=author,
                text=message.get("text") or "",
                blocks=message.get("blocks") or None,
                for_user=for_user,
                at=time.time() if at is None else at,
                command=command,
            )
        )

    def _entry(self, entry_id: int | None) -> Entry | None:
        return next((e for e in self._entries if e.id == entry_id), None)

    # ---------------------------------------------------------------- reading

    def conversation(self, channel: str, viewer: str) -> list[PostedMessage | Entry]:
        """What ``viewer`` sees in ``channel``, oldest first (copies: safe to read at leisure)."""
        with self._lock:
            self._take_in()
            items: list[PostedMessage | Entry] = [
                posted for posted in self._posted.values() if posted.channel == channel
            ]
            items += [
                dataclasses.replace(entry)
                for entry in self._entries
                if entry.channel == channel and entry.for_user in (None, viewer)
            ]
        return sorted(items, key=lambda item: item.seq)

    def entry(self, entry_id: int, viewer: str) -> Entry | None:
        """A reply ``viewer`` may see, by id."""
        with self._lock:
            self._take_in()
            found = self._entry(entry_id)
            if found is None or found.for_user not in (None, viewer):
                return None
            return dataclasses.replace(found)

    # ---------------------------------------------------------------- modals

    def modal_of(self, user: str) -> Modal | None:
        """The modal on top of ``user``'s stack, if any (a copy)."""
        with self._lock:
            self._take_in()
            stack = self._modals.get(user)
            return dataclasses.replace(stack[-1]) if stack else None

    def push_modal(self, user: str, view_id: str) -> None:
        with self._lock:
            self._take_in()
            self._modals.setdefault(user, []).append(Modal(view_id))

    def close_modal(self, user: str, view_id: str, *, all_views: bool = False) -> None:
        """Close ``view_id`` if it is on top of the stack (and, with ``all_views``, the rest)."""
        with self._lock:
            self._take_in()
            stack = self._modals.get(user, [])
            if stack and stack[-1].view_id == view_id:
                if all_views:
                    stack.clear()
                else:
                    stack.pop()

    def show_errors(
        self, user: str, view_id: str, errors: dict[str, str], values: dict[str, list[str]]
    ) -> None:
        """Field errors on the open modal ``view_id``, with what the person had entered."""
        with self._lock:
            self._take_in()
            for modal in self._modals.get(user, []):
                if modal.view_id == view_id:
                    modal.errors, modal.values = dict(errors), dict(values)
