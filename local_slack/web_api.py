"""Slack's Web API, faked: a real HTTP server that refuses what Slack refuses. The tests run the
app against it, and so does ``make demo`` (the local Slack); one implementation for both.

Why a server and not mocks: the app talks to Slack through slack_sdk's ``WebClient`` (and Bolt),
whose request encoding (form bodies with JSON-string ``users``, JSON bodies for blocks and views),
retry handlers and error mapping are part of what has to work. Pointing
``WebClient(base_url=fake.base_url)`` at this server exercises all of that for real.

Why strict: a fake that accepts anything lets bugs through that Slack would refuse in production
(a 151-character header, a call block naming an unknown call, a trigger used twice, a
``response_url`` used a sixth time). Every refusal carries a human-readable reason, because a
failing test should say which block and which limit.

Which arguments a method requires, and which are integers or JSON, comes from the Slack method
definitions in ``local_slack/slack_api`` (slack-ruby/slack-api-ref, MIT, see
LICENSE-slack-api-ref.md).

Rate limits are off by default. ``FakeSlack(rate_limits=True)`` enforces ``SLACK_TIERS`` (per
method, per workspace, a sliding window on ``clock``), answering HTTP 429 + Retry-After as Slack
does; ``set_rate_limits()`` changes them on a running fake and ``rate_limited(method)`` counts
the refusals.

Usage::

    with FakeSlack() as fake:
        fake.add_user("U1")
        client = WebClient(base_url=fake.base_url, token=fake.bot_token)
        client.calls_add(external_unique_id="x", join_url="https://e.x/1", created_by="U1")
        assert fake.calls_to("calls.add")
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import inspect
import json
import math
import re
import secrets
import socket
import string
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_DIR = Path(__file__).resolve().parent / "slack_api"

APP_ID = "A123456"
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_VIEW_BYTES = 250_000
MAX_MEMBERS_LIMIT = 999  # conversations.members' largest page
DEFAULT_MEMBERS_LIMIT = 100
RESPONSE_URL_USES = 5
TRIGGER_TTL_SECONDS = 3.0
DEFAULT_OAUTH_SCOPE = "commands,chat:write,calls:read,calls:write,users:read"

# Scopes a method needs (any one of them). Tokens made by add_team() without scopes have all.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "calls.add": ("calls:write",),
    "calls.end": ("calls:write",),
    "calls.update": ("calls:write",),
    "calls.participants.add": ("calls:write",),
    "calls.participants.remove": ("calls:write",),
    "calls.info": ("calls:read",),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.unfurl": ("links:write",),
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.members": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "team.info": ("team:read",),
}


@dataclass(frozen=True)
class RateLimit:
    """At most ``calls`` requests in any ``seconds``-long window, counted per workspace, or per
    channel of a workspace when ``per_channel`` (the request's ``channel`` argument)."""

    calls: int
    seconds: float = 60.0
    per_channel: bool = False


TIER_2 = RateLimit(20)  # "20+ per minute"
TIER_3 = RateLimit(50)  # "50+ per minute, sporadic bursts"
TIER_4 = RateLimit(100)  # "100+ per minute"
# chat.postMessage: "one message per second per channel" with bursts of a few (here 3 at once,
# then one a second), and a workspace-wide limit Slack puts at "several hundred per minute".
POST_MESSAGE_BURST = 3
POST_MESSAGE_PER_CHANNEL = RateLimit(
    POST_MESSAGE_BURST, seconds=float(POST_MESSAGE_BURST), per_channel=True
)
POST_MESSAGE_PER_WORKSPACE = RateLimit(300)

# Slack's limits for the methods the app uses. Where sources disagree (Slack's method pages vs
# the project's Slack notes) the stricter wins, since a fake kinder than Slack hides bugs:
# calls.add Tier 2, users.info Tier 3. Methods not listed are not limited. Override with a dict
# of your own, e.g. ``{**SLACK_TIERS, "calls.add": 5}``; an int is calls per minute.
SLACK_TIERS: dict[str, tuple[RateLimit, ...]] = {
    "auth.test": (TIER_4,),
    "calls.add": (TIER_2,),
    "calls.end": (TIER_3,),
    "calls.info": (TIER_3,),
    "calls.update": (TIER_3,),
    "calls.participants.add": (TIER_3,),
    "calls.participants.remove": (TIER_3,),
    "chat.postMessage": (POST_MESSAGE_PER_CHANNEL, POST_MESSAGE_PER_WORKSPACE),
    "chat.postEphemeral": (TIER_4,),
    "chat.update": (TIER_3,),
    "chat.delete": (TIER_3,),
    "users.info": (TIER_3,),
    "users.lookupByEmail": (TIER_3,),
    "conversations.info": (TIER_3,),
    "conversations.members": (TIER_3,),
    "views.open": (TIER_4,),
    "views.push": (TIER_4,),
    "views.update": (TIER_4,),
    "views.publish": (TIER_4,),
}

# What a method's limits may be given as: calls per minute, one RateLimit, or several.
RateLimitSpec = int | RateLimit | Iterable[RateLimit]

# The error Slack gives for a missing required argument, where it is not invalid_arguments.
MISSING_ARG_ERRORS = {"channel": "channel_not_found", "user": "user_not_found"}

# Methods served without a definition in local_slack/slack_api: they authenticate differently.
APPS_CONNECTIONS_OPEN = "apps.connections.open"  # app-level tokens (xapp-...) only
UNDEFINED_METHODS = ("oauth.v2.access", APPS_CONNECTIONS_OPEN)


def load_method_definitions(directory: Path = API_DIR) -> dict[str, dict]:
    """Method name -> definition (``args`` with required/type/format, ``errors``)."""
    definitions = {}
    for path in sorted(directory.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        definitions[definition["name"]] = definition
    return definitions


METHODS = load_method_definitions()


# --------------------------------------------------------------------------- recorded data


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
class _Team:
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
class _Token:
    team_id: str | None  # None: an organization-wide token (``enterprise_id``)
    scopes: frozenset[str] | None  # None: every scope
    revoked_error: str | None = None
    enterprise_id: str | None = None


@dataclass
class _Fault:
    error: str | None
    status: int
    retry_after: int | None
    delay: float
    hang: threading.Event | None
    drop_connection: bool
    times: int
    landed: bool = False

    @property
    def answers(self) -> bool:
        """False for a fault that only slows the request down before normal processing."""
        return self.drop_connection or self.status != 200 or self.error is not None


@dataclass
class _ParsedRequest:
    args: dict[str, Any]
    token: str | None
    basic_auth: tuple[str, str] | None
    error: str | None


class SlackError(Exception):
    """An ``ok: false`` answer. Handlers raise it; the dispatcher turns it into the body."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        messages: list[str] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = list(messages or [])
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["errors"] = list(self.messages)
            body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in self.messages]}
        return body


# --------------------------------------------------------------------------- Block Kit

TEXT_TYPES = ("plain_text", "mrkdwn")
SELECT_TYPES = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
ACTIONS_ELEMENTS = SELECT_TYPES | {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
}
INPUT_ELEMENTS = SELECT_TYPES | {
    "plain_text_input",
    "number_input",
    "email_text_input",
    "url_text_input",
    "checkboxes",
    "radio_buttons",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "file_input",
    "rich_text_input",
}
ACCESSORY_ELEMENTS = SELECT_TYPES | {
    "button",
    "checkboxes",
    "datepicker",
    "image",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
}
TEXT_INPUT_TYPES = frozenset(
    {"plain_text_input", "number_input", "email_text_input", "url_text_input", "rich_text_input"}
)
PICKER_TYPES = frozenset({"datepicker", "timepicker", "datetimepicker", "file_input"})


class BlockKitValidator:
    """Checks blocks the way Slack does and collects *every* violation.

    Each reason ends with a json-pointer like Slack's own messages
    (``... [json-pointer:/blocks/0/text/text]``) so a failing test says exactly where.
    One validator covers one message or one view: block_ids must be unique across it.
    """

    def __init__(self, call_exists: Callable[[str], bool]) -> None:
        self.errors: list[str] = []
        self._call_exists = call_exists
        self._block_ids: set[str] = set()

    def fail(self, pointer: str, reason: str) -> None:
        self.errors.append(f"{reason} [json-pointer:{pointer}]")

    def check_blocks(self, blocks: Any, *, limit: int, where: str = "/blocks") -> list[str]:
        if not isinstance(blocks, list):
            self.fail(where, "must be a JSON array of blocks")
            return self.errors
        if len(blocks) > limit:
            self.fail(where, f"has {len(blocks)} blocks; at most {limit} are allowed")
        for index, block in enumerate(blocks):
            self._block(block, f"{where}/{index}")
        return self.errors

    # -- primitives

    def check_string(
        self, value: Any, pointer: str, *, max_len: int, required: bool = True
    ) -> None:
        if value is None:
            if required:
                self.fail(pointer, "is required")
            return
        if not isinstance(value, str) or not value:
            self.fail(pointer, f"must be a non-empty string, got {value!r}")
        elif len(value) > max_len:
            self.fail(pointer, f"is {len(value)} characters; at most {max_len} are allowed")

    def check_text(
        self,
        obj: Any,
        pointer: str,
        *,
        max_len: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """A text object: {"type": "plain_text"|"mrkdwn", "text": non-empty string}."""
        if obj is None:
            if required:
                self.fail(pointer, "is required")
            return
        if not isinstance(obj, dict):
            self.fail(pointer, f"must be a text object {{type, text}}, got {obj!r}")
            return
        kind = obj.get("type")
        if kind not in TEXT_TYPES:
            self.fail(f"{pointer}/type", f"must be plain_text or mrkdwn, got {kind!r}")
        elif plain_only and kind != "plain_text":
            self.fail(f"{pointer}/type", f"must be plain_text here, got {kind!r}")
        if kind == "mrkdwn" and "emoji" in obj:
            self.fail(f"{pointer}/emoji", "emoji is only allowed on plain_text")
        if "verbatim" in obj and (kind != "mrkdwn" or not isinstance(obj["verbatim"], bool)):
            self.fail(f"{pointer}/verbatim", "verbatim is a boolean, allowed only on mrkdwn")
        self.check_string(obj.get("text"), f"{pointer}/text", max_len=max_len)

    def _list(self, value: Any, pointer: str, *, max_items: int, what: str) -> list:
        if not isinstance(value, list) or not value:
            self.fail(pointer, f"must be a non-empty array of {what}")
            return []
        if len(value) > max_items:
            self.fail(pointer, f"has {len(value)} {what}; at most {max_items} are allowed")
        return value

    # -- blocks

    def _block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail(pointer, f"a block must be an object, got {block!r}")
            return
        kind = block.get("type")
        check = self._BLOCK_CHECKS.get(kind)
        if check is None:
            known = ", ".join(sorted(self._BLOCK_CHECKS))
            self.fail(f"{pointer}/type", f"unknown block type {kind!r}; expected one of {known}")
            return
        self._block_id(block, pointer)
        check(self, block, pointer)

    def _block_id(self, block: dict, pointer: str) -> None:
        if "block_id" not in block:
            return
        block_id = block["block_id"]
        self.check_string(block_id, f"{pointer}/block_id", max_len=255)
        if isinstance(block_id, str):
            if block_id in self._block_ids:
                self.fail(f"{pointer}/block_id", f"duplicate block_id {block_id!r}")
            self._block_ids.add(block_id)

    def _section(self, block: dict, pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self.fail(pointer, "a section block needs text or fields")
        if text is not None:
            self.check_text(text, f"{pointer}/text", max_len=3000)
        if fields is not None:
            for index, item in enumerate(
                self._list(fields, f"{pointer}/fields", max_items=10, what="fields")
            ):
                self.check_text(item, f"{pointer}/fields/{index}", max_len=2000)
        if "accessory" in block:
            self._element(
                block["accessory"], f"{pointer}/accessory", allowed=ACCESSORY_ELEMENTS, seen=set()
            )

    def _header(self, block: dict, pointer: str) -> None:
        self.check_text(block.get("text"), f"{pointer}/text", max_len=150, plain_only=True)

    def _actions(self, block: dict, pointer: str) -> None:
        elements = self._list(
            block.get("elements"), f"{pointer}/elements", max_items=25, what="elements"
        )
        seen: set[str] = set()
        for index, element in enumerate(elements):
            where = f"{pointer}/elements/{index}"
            self._element(element, where, allowed=ACTIONS_ELEMENTS, seen=seen)

    def _context(self, block: dict, pointer: str) -> None:
        elements = self._list(
            block.get("elements"), f"{pointer}/elements", max_items=10, what="elements"
        )
        for index, element in enumerate(elements):
            where = f"{pointer}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self._image_element(element, where)
            else:
                self.check_text(element, where, max_len=3000)

    def _divider(self, block: dict, pointer: str) -> None:
        """A divider has nothing to check."""

    def _call(self, block: dict, pointer: str) -> None:
        call_id = block.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            self.fail(f"{pointer}/call_id", "a call block needs call_id")
        elif not self._call_exists(call_id):
            self.fail(
                f"{pointer}/call_id",
                f"call_id {call_id!r} is not a call of this workspace (register it with calls.add)",
            )

    def _image(self, block: dict, pointer: str) -> None:
        self._image_element(block, pointer)
        self.check_text(
            block.get("title"), f"{pointer}/title", max_len=2000, plain_only=True, required=False
        )

    def _input(self, block: dict, pointer: str) -> None:
        self.check_text(block.get("label"), f"{pointer}/label", max_len=2000, plain_only=True)
        self.check_text(
            block.get("hint"), f"{pointer}/hint", max_len=2000, plain_only=True, required=False
        )
        if "element" not in block:
            self.fail(f"{pointer}/element", "an input block needs an element")
        else:
            where = f"{pointer}/element"
            self._element(block["element"], where, allowed=INPUT_ELEMENTS, seen=set())
        if "optional" in block and not isinstance(block["optional"], bool):
            self.fail(f"{pointer}/optional", "must be a boolean")

    def _rich_text(self, block: dict, pointer: str) -> None:
        self._list(block.get("elements"), f"{pointer}/elements", max_items=1000, what="elements")

    _BLOCK_CHECKS: dict[str, Callable[[BlockKitValidator, dict, str], None]] = {
        "section": _section,
        "header": _header,
        "actions": _actions,
        "context": _context,
        "divider": _divider,
        "call": _call,
        "image": _image,
        "input": _input,
        "rich_text": _rich_text,
    }

    # -- elements

    def _element(self, element: Any, pointer: str, *, allowed: set[str], seen: set[str]) -> None:
        """An interactive element; ``seen`` holds the action_ids already used in this block."""
        if not isinstance(element, dict):
            self.fail(pointer, f"an element must be an object, got {element!r}")
            return
        kind = element.get("type")
        if kind not in allowed:
            self.fail(
                f"{pointer}/type",
                f"element type {kind!r} is not allowed here; expected one of "
                + ", ".join(sorted(allowed)),
            )
            return
        if "action_id" in element:
            action_id = element["action_id"]
            self.check_string(action_id, f"{pointer}/action_id", max_len=255)
            if isinstance(action_id, str):
                if action_id in seen:
                    self.fail(f"{pointer}/action_id", f"duplicate action_id {action_id!r}")
                seen.add(action_id)
        check = self._ELEMENT_CHECKS.get(kind)
        if check is not None:
            check(self, element, pointer)

    def _button(self, element: dict, pointer: str) -> None:
        self.check_text(element.get("text"), f"{pointer}/text", max_len=75, plain_only=True)
        self.check_string(element.get("value"), f"{pointer}/value", max_len=2000, required=False)
        self.check_string(element.get("url"), f"{pointer}/url", max_len=3000, required=False)
        style = element.get("style")
        if style is not None and style not in ("primary", "danger"):
            self.fail(f"{pointer}/style", f"must be primary or danger, got {style!r}")

    def _placeholder(self, element: dict, pointer: str) -> None:
        self.check_text(
            element.get("placeholder"),
            f"{pointer}/placeholder",
            max_len=150,
            plain_only=True,
            required=False,
        )

    def _select(self, element: dict, pointer: str) -> None:
        self._placeholder(element, pointer)
        if element["type"] not in ("static_select", "multi_static_select"):
            return
        if "option_groups" in element:
            return
        options = self._list(
            element.get("options"), f"{pointer}/options", max_items=100, what="options"
        )
        for index, option in enumerate(options):
            self._option(option, f"{pointer}/options/{index}", plain_only=True)

    def _overflow(self, element: dict, pointer: str) -> None:
        options = self._list(
            element.get("options"), f"{pointer}/options", max_items=5, what="options"
        )
        for index, option in enumerate(options):
            self._option(option, f"{pointer}/options/{index}", plain_only=True)

    def _choices(self, element: dict, pointer: str) -> None:
        options = self._list(
            element.get("options"), f"{pointer}/options", max_items=10, what="options"
        )
        for index, option in enumerate(options):
            self._option(option, f"{pointer}/options/{index}", plain_only=False)

    def _text_input(self, element: dict, pointer: str) -> None:
        self._placeholder(element, pointer)
        max_length = element.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or max_length > 3000):
            self.fail(f"{pointer}/max_length", "must be an integer of at most 3000")

    def _option(self, option: Any, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(option, dict):
            self.fail(pointer, f"an option must be an object, got {option!r}")
            return
        self.check_text(option.get("text"), f"{pointer}/text", max_len=75, plain_only=plain_only)
        self.check_string(option.get("value"), f"{pointer}/value", max_len=150)
        self.check_text(
            option.get("description"),
            f"{pointer}/description",
            max_len=75,
            plain_only=True,
            required=False,
        )

    def _image_element(self, element: dict, pointer: str) -> None:
        if "slack_file" not in element:
            self.check_string(element.get("image_url"), f"{pointer}/image_url", max_len=3000)
        self.check_string(element.get("alt_text"), f"{pointer}/alt_text", max_len=2000)

    _ELEMENT_CHECKS: dict[str, Callable[[BlockKitValidator, dict, str], None]] = {
        "button": _button,
        "overflow": _overflow,
        "checkboxes": _choices,
        "radio_buttons": _choices,
        "image": _image_element,
        **dict.fromkeys(SELECT_TYPES, _select),
        **dict.fromkeys(TEXT_INPUT_TYPES, _text_input),
        **dict.fromkeys(PICKER_TYPES, _placeholder),
    }


# --------------------------------------------------------------------------- helpers


def _missing(value: Any) -> bool:
    return value is None or value == ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _user_key(user: dict) -> tuple[str, str]:
    if "slack_id" in user:
        return ("slack_id", user["slack_id"])
    return ("external_id", user["external_id"])


def _decode_args(method: str, args: dict[str, Any]) -> None:
    """Decode JSON-string arguments and integer strings in place, as the definitions type them."""
    for name, spec in METHODS.get(method, {}).get("args", {}).items():
        value = args.get(name)
        if not isinstance(value, str):
            continue
        if spec.get("format") == "json" or spec.get("type") == "array":
            # an undecodable value stays a string; validation refuses it with a reason
            with contextlib.suppress(ValueError):
                args[name] = json.loads(value)
        elif spec.get("type") == "integer" and re.fullmatch(r"-?\d+", value):
            args[name] = int(value)


def _encode_cursor(user_id: str) -> str:
    return base64.b64encode(f"user:{user_id}".encode()).decode()


def _decode_cursor(cursor: Any) -> str:
    """The member a cursor starts at; ValueError for anything _encode_cursor did not make."""
    if not isinstance(cursor, str):
        raise ValueError(cursor)
    try:
        decoded = base64.b64decode(cursor, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(cursor) from None
    kind, _, user_id = decoded.partition(":")
    if kind != "user" or not user_id:
        raise ValueError(cursor)
    return user_id


def _parse_authorization(header: str | None) -> tuple[str | None, tuple[str, str] | None]:
    """(bearer token, (client_id, client_secret)) from an Authorization header."""
    if not header:
        return None, None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None, None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, client_secret = decoded.partition(":")
        return None, (client_id, client_secret)
    return None, None


def _fault_name(status: int) -> str:
    return f"injected HTTP {status}" if status else "dropped connection"


def _describe(predicate: Callable[[], bool]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))


def _send(
    http: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/json; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    try:
        http.send_response(status)
        http.send_header("Content-Type", content_type)
        http.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        http.close_connection = True


def _send_json(http: BaseHTTPRequestHandler, status: int, body: dict, **kwargs: Any) -> None:
    _send(http, status, json.dumps(body).encode("utf-8"), **kwargs)


def _drop(http: BaseHTTPRequestHandler) -> None:
    """Close the socket without any HTTP response: the client sees a connection error."""
    http.close_connection = True
    with contextlib.suppress(OSError):
        http.connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if self.server.fake.latency:  # as far away as the real Slack (benchmarks)
            time.sleep(self.server.fake.latency)
        self.server.fake._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request logging; the fake records requests instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a thread per request, never joined: none outlives the test run
    request_queue_size = 1024  # listen backlog: load tests open ~1,000 connections at once
    fake: FakeSlack


# --------------------------------------------------------------------------- the fake


class FakeSlack:
    """A strict, stateful, recording fake of Slack's Web API with fault injection.

    State lives per workspace (team): users, channels and calls of team A are invisible to
    team B's token. One re-entrant lock guards all state; handlers run under it and never block,
    while injected delays and hangs are waited out before taking it.
    """

    latency = 0.0  # seconds every request waits before it is served; the real Slack's ~0.1

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        client_id: str | None = None,
        client_secret: str | None = None,
        rate_limits: bool | Mapping[str, RateLimitSpec] | None = None,
    ) -> None:
        """``rate_limits``: True for ``SLACK_TIERS``, a dict for limits of your own (the whole
        table: methods not in it are not limited), None or False for none (the default)."""
        self.bot_token = bot_token
        self.team_id = team_id
        self.client_id = client_id  # when set, oauth.v2.access checks them
        self.client_secret = client_secret
        self.clock: Callable[[], float] = time.time  # replaceable, e.g. to test durations
        self.home_tab_enabled = True  # False: views.publish answers not_enabled
        # Slack may answer fewer members than asked for; set this to make pages that small.
        self.members_per_page: int | None = None
        self.base_url = ""
        self.root_url = ""

        self.requests: list[ApiRequest] = []
        self.responses: dict[str, list[dict]] = {}
        self.rejected_responses: list[dict] = []
        self.calls: dict[str, FakeCall] = {}
        self.messages: list[FakeMessage] = []
        self.unfurls: list[dict] = []  # chat.unfurl requests accepted
        self.ephemerals: list[dict] = []
        self.views: list[dict] = []
        self.home_views: dict[str, dict] = {}

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._generation = 0
        self._listeners: list[Callable[[ApiRequest | ResponsePost], None]] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._teams: dict[str, _Team] = {}
        self._tokens: dict[str, _Token] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._response_urls: dict[str, dict] = {}
        self._oauth_codes: dict[str, dict] = {}
        self._app_tokens: dict[str, str] = {}  # app-level token -> Socket Mode URL
        self._open_views: dict[str, dict] = {}  # view id -> {"team_id", "view", "user_id"}
        self._home_view_ids: dict[tuple[str, str], str] = {}
        self._issued_triggers: dict[str, float] = {}
        self._used_triggers: set[str] = set()
        self._last_ts = (0, 0)
        self._rate_limits: dict[str, tuple[RateLimit, ...]] = {}
        # (team, method, limit, channel or None) -> clock() of each request it let through
        self._rate_windows: dict[tuple[str, str, RateLimit, str | None], deque[float]] = {}
        self._rate_limited: Counter[str] = Counter()

        self._handlers: dict[str, Callable[[_Team, dict], dict]] = {
            "auth.test": self._auth_test,
            "team.info": self._team_info,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "calls.add": self._calls_add,
            "calls.end": self._calls_end,
            "calls.info": self._calls_info,
            "calls.update": self._calls_update,
            "calls.participants.add": self._calls_participants_add,
            "calls.participants.remove": self._calls_participants_remove,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.unfurl": self._chat_unfurl,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }
        undefined = (set(self._handlers) | {"oauth.v2.access"}) - set(METHODS)
        if undefined:
            raise RuntimeError(f"no method definition in {API_DIR} for {sorted(undefined)}")

        self.add_team(
            team_id,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            name="Example",
            domain="example",
        )
        self.set_rate_limits(rate_limits)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 on a free port in a background thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        host, port = server.server_address[:2]
        self._server = server
        self.root_url = f"http://{host}:{port}"
        self.base_url = f"{self.root_url}/api/"
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests hanging on an injected fault are released."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ workspace fixtures

    def add_team(
        self,
        team_id: str,
        *,
        bot_token: str,
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        name: str | None = None,
        domain: str | None = None,
        enterprise_id: str | None = None,
        scopes: str | None = None,
    ) -> None:
        """A workspace with its own bot token (tokens map to teams).

        ``scopes`` (comma-separated) limits what the token may call (``missing_scope``);
        None allows everything. Adding an existing team adds another token for it.
        """
        with self._lock:
            team = self._teams.get(team_id)
            if team is None:
                team = _Team(
                    id=team_id,
                    name=name or f"Workspace {team_id}",
                    domain=domain or team_id.lower(),
                    bot_user_id=bot_user_id,
                    bot_id=bot_id,
                )
                self._teams[team_id] = team
            team.bot_user_id, team.bot_id = bot_user_id, bot_id
            if enterprise_id is not None:
                team.enterprise_id = enterprise_id
            if bot_user_id not in team.users:
                team.users[bot_user_id] = self._user_record(
                    team_id, bot_user_id, "calls-bot", is_bot=True
                )
            scope_set = frozenset(s for s in scopes.split(",") if s) if scopes else None
            self._tokens[bot_token] = _Token(team_id=team_id, scopes=scope_set)

    def revoke_token(self, token: str, *, error: str = "token_revoked") -> None:
        """Make ``token`` fail every call with ``error`` (as after an uninstall)."""
        with self._lock:
            self._tokens[token].revoked_error = error

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        name: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_bot: bool = False,
        home_team_id: str | None = None,
        enterprise_user: dict | None = None,
        email: str | None = None,
    ) -> None:
        """A user of ``team_id`` (default: the fake's own team).

        ``home_team_id``: the workspace users.info names instead, its roles being theirs there
        (a Slack Connect user from another organization, or of another workspace of the same
        Grid organization); ``enterprise_user``: users.info's Enterprise Grid object
        (``enterprise_id``, ``is_admin``, ``is_owner``, ``teams``).
        """
        with self._lock:
            team = self._team(team_id)
            team.users[user_id] = self._user_record(
                home_team_id or team.id,
                user_id,
                name or f"user_{user_id.lower()}",
                is_admin=is_admin,
                is_owner=is_owner,
                is_primary_owner=is_primary_owner,
                is_bot=is_bot,
            )
            if enterprise_user is not None:
                team.users[user_id]["enterprise_user"] = {"id": user_id, **enterprise_user}
            if email is not None:
                team.users[user_id]["profile"]["email"] = email

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str = "general",
        bot_is_member: bool = True,
        is_private: bool = False,
        team_id: str | None = None,
        members: list[str] | None = None,
    ) -> None:
        """A channel of ``team_id`` (default: the fake's own team).

        As in Slack, a private channel the bot is not in is invisible to it (channel_not_found);
        a public one it is not in answers not_in_channel to posting.

        ``members`` are the people in it, in the order conversations.members lists them (each a
        user of the team); by default every user of the team is, now or added later. Either
        way the bot is listed when ``bot_is_member``.
        """
        with self._lock:
            team = self._team(team_id)
            unknown = [user for user in members or () if user not in team.users]
            if unknown:
                raise ValueError(f"add_user() {unknown} before making them channel members")
            team.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_member": bot_is_member,
                "is_private": is_private,
            }
            if members is None:
                team.channel_members.pop(channel_id, None)
            else:
                team.channel_members[channel_id] = list(dict.fromkeys(members))

    def add_view(
        self,
        view_id: str,
        *,
        view: dict | None = None,
        team_id: str | None = None,
        view_hash: str | None = None,
    ) -> None:
        """Register a view the app did not open through the fake (e.g. from a test payload),
        so views.update accepts its id. Without ``view_hash`` any hash is accepted."""
        with self._lock:
            team = self._team(team_id)
            stored = {
                "type": "modal",
                "blocks": [],
                **(view or {}),
                "id": view_id,
                "team_id": team.id,
                "hash": view_hash,
            }
            self._open_views[view_id] = {"team_id": team.id, "view": stored}

    def set_app_token(self, token: str, *, url: str) -> None:
        """An app-level token (``xapp-...``): apps.connections.open with it answers ``url``.

        As in Slack, a bot token there is refused (not_allowed_token_type) and any other
        token is invalid_auth.
        """
        with self._lock:
            self._app_tokens[token] = url

    def set_oauth_code(
        self,
        code: str,
        *,
        team_id: str | None,
        bot_token: str,
        bot_user_id: str = "U0BOT",
        enterprise_id: str | None = None,
        scope: str = DEFAULT_OAUTH_SCOPE,
        bot_id: str = "B0BOT",
        installer_user_id: str = "U0INSTALLER",
        team_name: str | None = None,
    ) -> None:
        """A one-time code oauth.v2.access exchanges for ``bot_token`` of ``team_id``; with
        ``team_id`` None, an organization-wide install of ``enterprise_id``."""
        if team_id is None and enterprise_id is None:
            raise ValueError("an organization-wide install needs its enterprise_id")
        with self._lock:
            self._oauth_codes[code] = {
                "team_id": team_id,
                "bot_token": bot_token,
                "bot_user_id": bot_user_id,
                "bot_id": bot_id,
                "enterprise_id": enterprise_id,
                "scope": scope,
                "installer_user_id": installer_user_id,
                "team_name": team_name,
            }

    def new_response_url(self, *, team_id: str | None = None) -> str:
        """A slash-command / action response_url (usable 5 times, like Slack's)."""
        if not self.root_url:
            raise RuntimeError("start() the fake before asking for a response_url")
        with self._lock:
            team = self._team(team_id)
            url = f"{self.root_url}/response/{uuid.uuid4()}"
            self._response_urls[url] = {"team_id": team.id, "uses": 0}
            self.responses[url] = []
            return url

    def new_trigger_id(self) -> str:
        """A trigger_id that expires 3 s (by ``clock``) after issue, like Slack's.

        Trigger ids the fake did not issue are accepted once and never expire.
        """
        with self._lock:
            trigger = (
                f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
            )
            self._issued_triggers[trigger] = self.clock()
            return trigger

    # ------------------------------------------------------------------ recorded traffic

    def add_listener(self, listener: Callable[[ApiRequest | ResponsePost], None]) -> None:
        """Call ``listener`` with every Web API request and every accepted response_url post,
        in the order they happen. It runs under the fake's lock: it must be quick and must not
        wait for another thread."""
        with self._lock:
            self._listeners.append(listener)

    def view(self, view_id: str) -> dict | None:
        """A view as Slack holds it now (with its id, hash and blocks), or None."""
        with self._lock:
            entry = self._open_views.get(view_id)
            return copy.deepcopy(entry["view"]) if entry else None

    def home_of(self, user_id: str, *, team_id: str | None = None) -> dict | None:
        """The Home tab last published for ``user_id``, as Slack holds it, or None."""
        with self._lock:
            view_id = self._home_view_ids.get((self._team(team_id).id, user_id))
            return self.view(view_id) if view_id else None

    def answer_view(
        self, view: dict, *, view_id: str | None = None, team_id: str | None = None
    ) -> dict:
        """Take a modal the app answered a view_submission with (``response_action`` update,
        with ``view_id``, or push): checked as views.update checks one (SlackError if bad)."""
        with self._lock:
            team = self._team(team_id)
            checked = self._check_view(team, view, types=("modal",))
            return copy.deepcopy(self._store_view(team, checked, view_id=view_id))

    def calls_to(self, method: str) -> list[dict]:
        """Args of every request to ``method`` that Slack answered ok:true."""
        with self._lock:
            return [r.args for r in self.requests if r.method == method and r.ok]

    def attempts_to(self, method: str) -> list[ApiRequest]:
        """Every request to ``method``, failed ones included."""
        with self._lock:
            return [r for r in self.requests if r.method == method]

    def responses_to(self, url: str) -> list[dict]:
        with self._lock:
            return list(self.responses.get(url, []))

    def messages_in(self, channel: str) -> list[FakeMessage]:
        with self._lock:
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
            with self._lock:
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
        with self._lock:
            if url not in self._response_urls:
                raise ValueError(f"{url} was not made by new_response_url()")
        self.wait_for(
            lambda: len(self.responses[url]) >= count,
            timeout,
            message=f"{count} response(s) posted to {url}",
        )
        with self._lock:
            return self.responses[url][-1]

    def _timeout_report(
        self, predicate: Callable[[], bool], timeout: float, message: str | None
    ) -> str:
        with self._lock:
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

    # ------------------------------------------------------------------ rate limits

    def set_rate_limits(self, limits: bool | Mapping[str, RateLimitSpec] | None) -> None:
        """Enforce ``limits`` from now on (see ``__init__``); None or False turns them off.

        Requests already let through keep counting against an unchanged limit's window.
        """
        if limits is None or limits is False:
            table: dict[str, tuple[RateLimit, ...]] = {}
        else:
            table = {
                method: self._method_limits(method, spec)
                for method, spec in (SLACK_TIERS if limits is True else limits).items()
            }
        with self._lock:
            self._rate_limits = table

    @property
    def rate_limits(self) -> dict[str, tuple[RateLimit, ...]]:
        """The limits in force: method -> its limits (empty when off)."""
        with self._lock:
            return dict(self._rate_limits)

    def rate_limited(self, method: str | None = None) -> int:
        """How many requests to ``method`` (None: to any method) the rate limits refused."""
        with self._lock:
            if method is None:
                return sum(self._rate_limited.values())
            return self._rate_limited[method]

    def _method_limits(self, method: str, spec: RateLimitSpec) -> tuple[RateLimit, ...]:
        if method not in self._handlers:
            raise ValueError(f"no rate limit for {method!r}: the fake does not serve it")
        if isinstance(spec, bool):
            raise TypeError(f"{method}: give calls per minute or RateLimit(...), not {spec!r}")
        if isinstance(spec, int):
            limits: tuple[RateLimit, ...] = (RateLimit(spec),)
        elif isinstance(spec, RateLimit):
            limits = (spec,)
        else:
            limits = tuple(spec)
        for limit in limits:
            if not isinstance(limit, RateLimit) or limit.calls < 1 or limit.seconds <= 0:
                raise ValueError(f"{method}: {limit!r} is not a limit of at least one call")
        return limits

    def _check_rate_limits(self, team: _Team, method: str, args: dict[str, Any]) -> None:
        """Count this request against ``method``'s windows, or refuse it as Slack does (429,
        Retry-After) without counting it. Runs under the lock, before any effect."""
        limits = self._rate_limits.get(method)
        if not limits:
            return
        now = self.clock()
        windows, wait = [], None
        for limit in limits:
            channel = args.get("channel") if limit.per_channel else None
            key = (team.id, method, limit, channel if isinstance(channel, str) else None)
            window = self._rate_windows.setdefault(key, deque())
            while window and now - window[0] >= limit.seconds:
                window.popleft()
            if len(window) >= limit.calls:
                # the window lets one more through once this request leaves it
                frees_at = window[len(window) - limit.calls] + limit.seconds
                wait = max(wait or 0.0, frees_at - now)
            windows.append(window)
        if wait is not None:
            self._rate_limited[method] += 1
            retry_after = max(1, math.ceil(wait))
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        for window in windows:
            window.append(now)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        hang: threading.Event | None = None,
        drop_connection: bool = False,
        landed: bool = False,
    ) -> None:
        """Make the next ``times`` requests to ``method`` fail or stall.

        Each waits ``delay`` seconds and/or until ``hang`` is set, then: drops the connection,
        or answers HTTP 429 (Retry-After: ``retry_after``, default 1), or answers an HTTP 5xx
        with an HTML body, or answers 200 ``{"ok": false, "error": error}``; with none of
        those it is processed normally (a slow Slack). With ``landed``, the request takes
        effect first: then a dropped connection or a 5xx means Slack did it and the client
        never heard, and a delay or a hang is an answer slow to come back.
        ``method`` may also be ``"response_url"`` for posts to any response_url. Faults queue
        in order.
        """
        if method not in self._handlers and method not in (*UNDEFINED_METHODS, "response_url"):
            raise ValueError(f"unknown method {method!r}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if landed and (method == "response_url" or error is not None or status == 429):
            raise ValueError("landed is for a Web API call answered late, by a 5xx or a drop")
        fault = _Fault(error, status, retry_after, delay, hang, drop_connection, times, landed)
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
            return fault

    def _wait_out(self, fault: _Fault) -> None:
        if fault.delay:
            self._stopping.wait(fault.delay)
        if fault.hang is not None:
            while not fault.hang.wait(0.05) and not self._stopping.is_set():
                pass

    def _answer_fault(
        self, http: BaseHTTPRequestHandler, fault: _Fault, record: Callable[[int, dict], None]
    ) -> None:
        """Answer as the fault says, calling ``record(status, body)`` first (0 = dropped).

        Recording before answering keeps ``requests`` in the order the client saw answers.
        """
        if fault.drop_connection:
            record(0, {})
            _drop(http)
        elif fault.status == 429:
            body = {"ok": False, "error": fault.error or "ratelimited"}
            retry_after = 1 if fault.retry_after is None else fault.retry_after
            record(429, body)
            _send_json(http, 429, body, headers={"Retry-After": str(retry_after)})
        elif fault.status >= 500:
            record(fault.status, {})
            page = f"<html><body><h1>{fault.status} Server Error</h1></body></html>"
            _send(http, fault.status, page.encode(), "text/html; charset=utf-8")
        else:
            body = {"ok": False, "error": fault.error or "request_failed"}
            record(fault.status, body)
            _send_json(http, fault.status, body)

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, http: _Handler) -> None:
        url = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length > 0 else b""
        if url.path.startswith("/api/"):
            self._serve_api(http, url.path[len("/api/") :], url.query, body)
        elif url.path.startswith("/response/") and http.command == "POST":
            self._serve_response_url(http, self.root_url + url.path, body)
        else:
            _send(http, 404, b"not found", "text/plain")

    def _serve_api(self, http: _Handler, method: str, query: str, body: bytes) -> None:
        request = self._parse_api_request(http, method, query, body)
        fault = self._take_fault(method)
        landed = None
        if fault is not None:
            if fault.landed:
                landed = self._process(method, request)
            self._wait_out(fault)
            if fault.answers:
                self._answer_fault(
                    http,
                    fault,
                    lambda status, body: self._record(
                        ApiRequest(method, request.args, request.token, status, body)
                    ),
                )
                return
        if landed is not None:
            status, response, headers = landed
            self._record(ApiRequest(method, request.args, request.token, status, response))
        else:
            with self._lock:  # recorded as it happens: requests are in the order of effects
                status, response, headers = self._process(method, request)
                self._record(ApiRequest(method, request.args, request.token, status, response))
        _send_json(http, status, response, headers=headers)

    def _process(self, method: str, request: _ParsedRequest) -> tuple[int, dict, dict[str, str]]:
        with self._lock:
            status, response, headers = self._dispatch(method, request)
        # a snapshot, and proof it is JSON
        return status, json.loads(json.dumps(response)), headers

    def _parse_api_request(
        self, http: _Handler, method: str, query: str, body: bytes
    ) -> _ParsedRequest:
        """Args from the query string and a form or JSON body; token from header or form.

        As in Slack, a JSON body cannot carry the token: it must be a Bearer header.
        """
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = (http.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        error = None
        json_args: dict[str, Any] = {}
        if body:
            if content_type == "application/json":
                try:
                    decoded = json.loads(body)
                except ValueError:
                    decoded = None
                if isinstance(decoded, dict):
                    json_args = decoded
                else:
                    error = "invalid_json"
            elif content_type == "application/x-www-form-urlencoded":
                args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            elif not content_type:
                error = "missing_post_type"
            else:
                error = "invalid_post_type"
        form_token = args.pop("token", None)
        json_args.pop("token", None)
        args.update(json_args)
        bearer, basic_auth = _parse_authorization(http.headers.get("Authorization"))
        _decode_args(method, args)
        return _ParsedRequest(args, bearer or form_token or None, basic_auth, error)

    def _record(self, request: ApiRequest) -> None:
        with self._changed:
            self.requests.append(request)
            self._tell_listeners(request)
            self._generation += 1
            self._changed.notify_all()

    def _tell_listeners(self, event: ApiRequest | ResponsePost) -> None:
        for listener in self._listeners:
            listener(event)

    def _dispatch(self, method: str, request: _ParsedRequest) -> tuple[int, dict, dict[str, str]]:
        """Authenticate, apply rate limits, check arguments against the definition, run the
        handler. Answers (HTTP status, body, extra headers)."""
        if method not in self._handlers and method not in UNDEFINED_METHODS:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        try:
            if request.error:
                raise SlackError(request.error)
            if method == "oauth.v2.access":
                result = self._oauth_v2_access(request)
            elif method == APPS_CONNECTIONS_OPEN:
                result = self._apps_connections_open(request.token)
            else:
                team = self._authenticate(request.token, method, request.args)
                self._check_rate_limits(team, method, request.args)
                self._check_args(method, request.args)
                result = self._handlers[method](team, request.args)
        except SlackError as refusal:
            return refusal.status, refusal.body(), refusal.headers
        return 200, {"ok": True, **result}, {}

    def _authenticate(self, token: str | None, method: str, args: dict[str, Any]) -> _Team:
        if not token:
            raise SlackError("not_authed")
        record = self._tokens.get(token)
        if record is None:
            raise SlackError("invalid_auth")
        if record.revoked_error:
            raise SlackError(record.revoked_error)
        needed = METHOD_SCOPES.get(method, ())
        if needed and record.scopes is not None and not record.scopes.intersection(needed):
            raise SlackError(
                "missing_scope", needed=",".join(needed), provided=",".join(sorted(record.scopes))
            )
        if record.team_id is not None:
            return self._teams[record.team_id]
        return self._workspace_of_org_token(record, method, args)

    def _workspace_of_org_token(self, record: _Token, method: str, args: dict) -> _Team:
        """An organization-wide token acts in the workspace its call names by ``team_id``, one
        of its organization's (Slack: "some API methods will require a team_id"; here every
        method does but auth.test, which answers for the organization, also when named by
        its id as Bolt's client does for a view of an org-wide install)."""
        team_id = args.get("team_id")
        if method == "auth.test" and (_missing(team_id) or team_id == record.enterprise_id):
            return _Team(
                id=record.enterprise_id or "",
                name="Enterprise",
                domain="enterprise",
                bot_user_id="U0BOT",
                bot_id="B0BOT",
                enterprise_id=record.enterprise_id,
            )
        if _missing(team_id):
            raise SlackError("missing_argument", messages=["missing required field: team_id"])
        team = self._teams.get(team_id)
        if team is None or team.enterprise_id != record.enterprise_id:
            raise SlackError("team_access_not_granted")
        return team

    def _check_args(self, method: str, args: dict[str, Any]) -> None:
        for name, spec in METHODS[method]["args"].items():
            value = args.get(name)
            if spec.get("required") and _missing(value):
                raise SlackError(
                    MISSING_ARG_ERRORS.get(name, "invalid_arguments"),
                    messages=[f"missing required field: {name}"],
                )
            if spec.get("type") == "integer" and not _missing(value) and not _is_int(value):
                raise SlackError(
                    "invalid_arguments", messages=[f"{name} must be an integer, got {value!r}"]
                )

    # ------------------------------------------------------------------ state helpers

    def _team(self, team_id: str | None) -> _Team:
        team_id = team_id or self.team_id
        try:
            return self._teams[team_id]
        except KeyError:
            raise KeyError(f"unknown team {team_id!r}; add_team() it first") from None

    @staticmethod
    def _user_record(team_id: str, user_id: str, name: str, **flags: bool) -> dict[str, Any]:
        return {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "real_name": name,
            "deleted": False,
            "is_admin": flags.get("is_admin", False),
            "is_owner": flags.get("is_owner", False),
            "is_primary_owner": flags.get("is_primary_owner", False),
            "is_bot": flags.get("is_bot", False),
            "tz": "UTC",
            "tz_offset": 0,
            "profile": {"display_name": name, "real_name": name},
        }

    def _new_id(self, prefix: str) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            candidate = prefix + "".join(secrets.choice(alphabet) for _ in range(10))
            if candidate not in self.calls and candidate not in self._open_views:
                return candidate

    def _next_ts(self) -> str:
        """Unique, increasing message timestamps like "1700000000.000100"."""
        seconds = int(self.clock())
        last_seconds, last_seq = self._last_ts
        if seconds <= last_seconds:
            seconds, seq = last_seconds, last_seq + 1
        else:
            seq = 100
        self._last_ts = (seconds, seq)
        return f"{seconds}.{seq:06d}"

    def _call_of(self, team: _Team, args: dict) -> FakeCall:
        call = self.calls.get(args.get("id"))
        if call is None or call.team_id != team.id:
            raise SlackError("invalid_call_id")
        return call

    def _parse_users(self, team: _Team, value: Any, *, required: bool) -> list[dict]:
        """``users``: a JSON array of {"slack_id"} or {"external_id", "display_name"}."""
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            raise SlackError(
                "invalid_users", messages=[f"users must be a JSON array, got {value!r}"]
            )
        for user in value:
            if not isinstance(user, dict):
                raise SlackError("invalid_users", messages=[f"not a user object: {user!r}"])
            if "slack_id" in user:
                if not isinstance(user["slack_id"], str) or not user["slack_id"]:
                    raise SlackError("invalid_users", messages=[f"bad slack_id in {user!r}"])
                if user["slack_id"] not in team.users:
                    raise SlackError(
                        "user_not_found", messages=[f"no user {user['slack_id']} in {team.id}"]
                    )
            elif _missing(user.get("external_id")) or _missing(user.get("display_name")):
                raise SlackError(
                    "invalid_users",
                    messages=[f"need slack_id, or external_id and display_name: {user!r}"],
                )
        return [dict(user) for user in value]

    def _calls_checker(self, team: _Team) -> Callable[[str], bool]:
        def exists(call_id: str) -> bool:
            call = self.calls.get(call_id)
            return call is not None and call.team_id == team.id

        return exists

    def _check_blocks(self, team: _Team, blocks: Any, *, error: str = "invalid_blocks") -> None:
        """Blocks of a message (decoded already); refuse with every reason found."""
        if not isinstance(blocks, list):
            raise SlackError(
                "invalid_blocks_format",
                messages=[f"blocks must be a JSON array, got {type(blocks).__name__}"],
            )
        errors = BlockKitValidator(self._calls_checker(team)).check_blocks(
            blocks, limit=MAX_MESSAGE_BLOCKS
        )
        if errors:
            raise SlackError(error, messages=errors)

    def _resolve_channel(self, team: _Team, channel: Any, *, posting: bool) -> str:
        """The conversation a channel argument names, refusing what the bot cannot see.

        Posting to a user id posts to the bot's DM with that user, "D" + the user id.
        """
        if not isinstance(channel, str) or not channel:
            raise SlackError("channel_not_found")
        if posting and channel[:1] in ("U", "W") and channel in team.users:
            return "D" + channel
        if channel.startswith("D") and channel[1:] in team.users:
            return channel
        info = team.channels.get(channel)
        if info is None or (info["is_private"] and not info["is_member"]):
            raise SlackError("channel_not_found", messages=[f"no channel {channel} visible"])
        if posting and not info["is_member"]:
            raise SlackError("not_in_channel")
        return channel

    def _message_content(self, team: _Team, method: str, args: dict) -> None:
        """text/blocks of chat.postMessage/postEphemeral/update: present, valid, in limits."""
        text, blocks = args.get("text"), args.get("blocks")
        if not _missing(args.get("markdown_text")) and (not _missing(text) or blocks):
            raise SlackError("markdown_text_conflict")
        if text is not None and not isinstance(text, str):
            raise SlackError("invalid_arguments", messages=[f"text must be a string: {text!r}"])
        if blocks is not None and blocks != "":
            self._check_blocks(team, blocks)
        if (
            _missing(text)
            and not blocks
            and _missing(args.get("attachments"))
            and _missing(args.get("markdown_text"))
        ):
            raise SlackError("no_text")
        if text and len(text) > MAX_MESSAGE_TEXT and "msg_too_long" in METHODS[method]["errors"]:
            raise SlackError("msg_too_long")

    def _find_message(self, team: _Team, channel: str, ts: Any) -> FakeMessage:
        for message in self.messages:
            if message.team_id == team.id and message.channel == channel and message.ts == ts:
                return message
        raise SlackError("message_not_found")

    @staticmethod
    def _message_api(team: _Team, message: FakeMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message",
            "text": message.text or "",
            "user": team.bot_user_id,
            "bot_id": team.bot_id,
            "app_id": APP_ID,
            "team": team.id,
            "ts": message.ts,
        }
        if message.blocks:
            body["blocks"] = message.blocks
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        return body

    # ------------------------------------------------------------------ handlers: workspace

    def _auth_test(self, team: _Team, args: dict) -> dict:
        result = {
            "url": f"https://{team.domain}.slack.com/",
            "team": team.name,
            "user": "calls-bot",
            "team_id": team.id,
            "user_id": team.bot_user_id,
            "bot_id": team.bot_id,
            "is_enterprise_install": team.id == team.enterprise_id,  # an org token's own view
        }
        if team.enterprise_id:
            result["enterprise_id"] = team.enterprise_id
        return result

    def _team_info(self, team: _Team, args: dict) -> dict:
        if not _missing(args.get("team")) and args["team"] != team.id:
            raise SlackError("team_not_found")
        return {"team": {"id": team.id, "name": team.name, "domain": team.domain}}

    def _users_info(self, team: _Team, args: dict) -> dict:
        user = team.users.get(args["user"])
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def _chat_unfurl(self, team: _Team, args: dict) -> dict:
        """Records the unfurl; a ``call`` block must name a call of this workspace."""
        by_message = not _missing(args.get("channel")) and not _missing(args.get("ts"))
        by_composer = not _missing(args.get("unfurl_id")) and not _missing(args.get("source"))
        if by_message == by_composer:
            raise SlackError(
                "invalid_arguments",
                messages=["give channel and ts, or unfurl_id and source, not both or neither"],
            )
        unfurls = args.get("unfurls")
        if not isinstance(unfurls, dict) or not unfurls:
            raise SlackError("invalid_unfurls_format")
        for unfurl in unfurls.values():
            for block in (unfurl or {}).get("blocks", []):
                if block.get("type") == "call" and not self._calls_checker(team)(
                    str(block.get("call_id"))
                ):
                    raise SlackError("invalid_unfurls_format", messages=["no such call"])
        self.unfurls.append({**args, "team_id": team.id})
        return {}

    def _users_lookup_by_email(self, team: _Team, args: dict) -> dict:
        wanted = str(args["email"]).strip().lower()
        for user in team.users.values():
            if str(user["profile"].get("email", "")).lower() == wanted:
                return {"user": user}
        raise SlackError("users_not_found")

    def _conversations_info(self, team: _Team, args: dict) -> dict:
        channel = self._resolve_channel(team, args["channel"], posting=False)
        if channel not in team.channels:  # the bot's DM with a user
            dm = {"id": channel, "is_im": True, "user": channel[1:], "is_member": True}
            return {"channel": {**dm, "is_private": True}}
        info = team.channels[channel]
        return {
            "channel": {
                **info,
                "is_channel": not info["is_private"],
                "is_group": False,
                "is_im": False,
                "is_mpim": False,
                "is_archived": False,
            }
        }

    def _conversations_members(self, team: _Team, args: dict) -> dict:
        channel = self._resolve_channel(team, args["channel"], posting=False)
        limit = DEFAULT_MEMBERS_LIMIT if _missing(args.get("limit")) else args["limit"]
        if not 1 <= limit <= MAX_MEMBERS_LIMIT:
            raise SlackError(
                "invalid_limit", messages=[f"limit must be 1 to {MAX_MEMBERS_LIMIT}, got {limit}"]
            )
        members = self._members_of(team, channel)
        # Slack's cursors encode the member a page starts at: "user:U…", base64.
        cursor, start = args.get("cursor"), 0
        if not _missing(cursor):
            try:
                start = members.index(_decode_cursor(cursor))
            except ValueError:
                raise SlackError("invalid_cursor") from None
        end = start + min(limit, self.members_per_page or limit)
        next_cursor = _encode_cursor(members[end]) if end < len(members) else ""
        return {"members": members[start:end], "response_metadata": {"next_cursor": next_cursor}}

    def _members_of(self, team: _Team, channel: str) -> list[str]:
        if channel not in team.channels:  # the bot's DM with a user
            return [channel[1:], team.bot_user_id]
        people = team.channel_members.get(channel, list(team.users))
        bot = [team.bot_user_id] if team.channels[channel]["is_member"] else []
        return [user for user in people if user != team.bot_user_id] + bot

    # ------------------------------------------------------------------ handlers: calls

    def _calls_add(self, team: _Team, args: dict) -> dict:
        created_by = args.get("created_by")
        if _missing(created_by) or created_by not in team.users:
            raise SlackError(
                "invalid_created_by",
                messages=[f"bot tokens need created_by naming a user of {team.id}"],
            )
        if not _is_http_url(args["join_url"]):
            raise SlackError("invalid_arguments", messages=["join_url must be an http(s) URL"])
        date_start = args.get("date_start")
        if date_start is None:
            date_start = int(self.clock())
        elif date_start < 0:
            raise SlackError("invalid_start_time")
        users = self._parse_users(team, args.get("users"), required=False)
        call = FakeCall(
            id=self._new_id("R"),
            team_id=team.id,
            external_unique_id=args["external_unique_id"],
            join_url=args["join_url"],
            title=args.get("title"),
            created_by=created_by,
            date_start=date_start,
            users=users,
            desktop_app_join_url=args.get("desktop_app_join_url"),
            external_display_id=args.get("external_display_id"),
        )
        self.calls[call.id] = call
        return {"call": call.to_api()}

    def _calls_end(self, team: _Team, args: dict) -> dict:
        call = self._call_of(team, args)
        if call.ended:
            raise SlackError("inactive_call")
        duration = args.get("duration")
        now = int(self.clock())
        if duration is None:
            duration = max(0, now - call.date_start)
        elif duration < 0:
            raise SlackError("invalid_arguments", messages=["duration must not be negative"])
        call.ended, call.duration, call.date_end = True, duration, call.date_start + duration
        return {}

    def _calls_info(self, team: _Team, args: dict) -> dict:
        return {"call": self._call_of(team, args).to_api()}

    def _calls_update(self, team: _Team, args: dict) -> dict:
        call = self._call_of(team, args)
        if not _missing(args.get("join_url")):
            if not _is_http_url(args["join_url"]):
                raise SlackError("invalid_arguments", messages=["join_url must be an http(s) URL"])
            call.join_url = args["join_url"]
        if "title" in args:
            call.title = args["title"]
        if not _missing(args.get("desktop_app_join_url")):
            call.desktop_app_join_url = args["desktop_app_join_url"]
        return {"call": call.to_api()}

    def _calls_participants_add(self, team: _Team, args: dict) -> dict:
        call = self._call_of(team, args)
        users = self._parse_users(team, args["users"], required=True)
        if call.ended:
            raise SlackError("inactive_call")
        present = {_user_key(user) for user in call.users}
        for user in users:
            if _user_key(user) in present:
                raise SlackError("bad_users", messages=[f"already in the call: {user!r}"])
            present.add(_user_key(user))
        call.users.extend(users)
        return {}

    def _calls_participants_remove(self, team: _Team, args: dict) -> dict:
        call = self._call_of(team, args)
        users = self._parse_users(team, args["users"], required=True)
        if call.ended:
            raise SlackError("inactive_call")
        leaving = {_user_key(user) for user in users}
        present = {_user_key(user) for user in call.users}
        absent = leaving - present
        if absent:
            names = ", ".join(user_id for _, user_id in sorted(absent))
            raise SlackError("bad_users", messages=[f"not in the call: {names}"])
        call.users = [user for user in call.users if _user_key(user) not in leaving]
        return {}

    # ------------------------------------------------------------------ handlers: chat

    def _chat_post_message(self, team: _Team, args: dict) -> dict:
        channel = self._resolve_channel(team, args["channel"], posting=True)
        self._message_content(team, "chat.postMessage", args)
        blocks = args.get("blocks") or None
        message = FakeMessage(
            channel=channel,
            ts=self._next_ts(),
            text=args.get("text"),
            blocks=blocks,
            team_id=team.id,
            thread_ts=args.get("thread_ts"),
        )
        self.messages.append(message)
        return {"channel": channel, "ts": message.ts, "message": self._message_api(team, message)}

    def _chat_post_ephemeral(self, team: _Team, args: dict) -> dict:
        self._resolve_channel(team, args["channel"], posting=True)
        if args["user"] not in team.users:
            raise SlackError("user_not_in_channel")
        self._message_content(team, "chat.postEphemeral", args)
        self.ephemerals.append(dict(args))
        return {"message_ts": self._next_ts()}

    def _chat_update(self, team: _Team, args: dict) -> dict:
        channel = self._resolve_channel(team, args["channel"], posting=False)
        message = self._find_message(team, channel, args["ts"])
        self._message_content(team, "chat.update", args)
        if "text" in args:
            message.text = args["text"]
        if "blocks" in args:  # as in Slack, omitted blocks are kept and [] removes them
            message.blocks = args["blocks"] or None
        message.updates += 1
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text or "",
            "message": self._message_api(team, message),
        }

    def _chat_delete(self, team: _Team, args: dict) -> dict:
        channel = self._resolve_channel(team, args["channel"], posting=False)
        message = self._find_message(team, channel, args["ts"])
        self.messages.remove(message)
        return {"channel": channel, "ts": message.ts}

    # ------------------------------------------------------------------ handlers: views

    def _check_view(self, team: _Team, view: Any, *, types: tuple[str, ...]) -> dict:
        """A view payload; Slack refuses a bad one with invalid_arguments and reasons."""
        if not isinstance(view, dict):
            raise SlackError(
                "invalid_arguments", messages=["view must be a JSON object [json-pointer:/view]"]
            )
        checker = BlockKitValidator(self._calls_checker(team))
        kind = view.get("type")
        if kind not in types:
            checker.fail("/view/type", f"must be {' or '.join(types)}, got {kind!r}")
        if kind == "modal":
            checker.check_text(view.get("title"), "/view/title", max_len=24, plain_only=True)
            for key in ("submit", "close"):
                checker.check_text(
                    view.get(key), f"/view/{key}", max_len=24, plain_only=True, required=False
                )
            blocks = view.get("blocks")
            has_input = isinstance(blocks, list) and any(
                isinstance(b, dict) and b.get("type") == "input" for b in blocks
            )
            if has_input and "submit" not in view:
                checker.fail("/view/submit", "is required when the view has input blocks")
        checker.check_blocks(view.get("blocks"), limit=MAX_VIEW_BLOCKS, where="/view/blocks")
        for key, limit in (("callback_id", 255), ("private_metadata", 3000), ("external_id", 255)):
            value = view.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                checker.fail(f"/view/{key}", f"must be a string of at most {limit} characters")
        if checker.errors:
            raise SlackError("invalid_arguments", messages=checker.errors)
        if len(json.dumps(view).encode("utf-8")) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        return view

    def _check_trigger(self, args: dict) -> str:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if _missing(trigger):
            raise SlackError("invalid_arguments", messages=["missing required field: trigger_id"])
        if trigger in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        issued = self._issued_triggers.get(trigger)
        if issued is not None and self.clock() - issued > TRIGGER_TTL_SECONDS:
            raise SlackError("expired_trigger_id")
        return trigger

    def _store_view(self, team: _Team, view: dict, view_id: str | None = None) -> dict:
        """Keep a view as Slack would answer it: with id, hash, state and app ids."""
        view_id = view_id or self._new_id("V")
        external_id = view.get("external_id") or ""
        if external_id:
            for other_id, entry in self._open_views.items():
                same = entry["team_id"] == team.id and other_id != view_id
                if same and entry["view"].get("external_id") == external_id:
                    raise SlackError("duplicate_external_id")
        stored = {
            "callback_id": "",
            "private_metadata": "",
            "clear_on_close": False,
            "notify_on_close": False,
            **view,
            "id": view_id,
            "team_id": team.id,
            "external_id": external_id,
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": team.bot_id,
        }
        self._open_views[view_id] = {"team_id": team.id, "view": stored}
        return stored

    def _open_or_push(self, team: _Team, args: dict, method: str) -> dict:
        trigger = self._check_trigger(args)
        view = self._check_view(team, args["view"], types=("modal",))
        stored = self._store_view(team, view)
        self._used_triggers.add(trigger)
        self.views.append({"method": method, **args, "id": stored["id"]})
        return {"view": stored}

    def _views_open(self, team: _Team, args: dict) -> dict:
        return self._open_or_push(team, args, "views.open")

    def _views_push(self, team: _Team, args: dict) -> dict:
        return self._open_or_push(team, args, "views.push")

    def _views_update(self, team: _Team, args: dict) -> dict:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if _missing(view_id) == _missing(external_id):
            raise SlackError(
                "invalid_arguments", messages=["exactly one of view_id or external_id is required"]
            )
        found = None
        for candidate_id, entry in self._open_views.items():
            matches = (
                candidate_id == view_id
                if view_id
                else entry["view"].get("external_id") == external_id
            )
            if matches and entry["team_id"] == team.id:
                found = candidate_id, entry
                break
        if found is None:
            raise SlackError("not_found")
        found_id, entry = found
        known_hash = entry["view"].get("hash")
        if not _missing(args.get("hash")) and known_hash and args["hash"] != known_hash:
            raise SlackError("hash_conflict")
        view = self._check_view(team, args["view"], types=("modal", "home"))
        stored = self._store_view(team, view, view_id=found_id)
        self.views.append({"method": "views.update", **args, "id": found_id})
        return {"view": stored}

    def _views_publish(self, team: _Team, args: dict) -> dict:
        if not self.home_tab_enabled:
            raise SlackError("not_enabled")
        user_id = args["user_id"]
        if user_id not in team.users:
            raise SlackError("user_not_found")
        view = self._check_view(team, args["view"], types=("home",))
        view_id = self._home_view_ids.get((team.id, user_id))
        current_hash = self._open_views[view_id]["view"]["hash"] if view_id else None
        if current_hash and not _missing(args.get("hash")) and args["hash"] != current_hash:
            raise SlackError("hash_conflict")
        stored = self._store_view(team, view, view_id=view_id)
        self._home_view_ids[(team.id, user_id)] = stored["id"]
        self.home_views[user_id] = view
        return {"view": stored}

    # ------------------------------------------------------------------ oauth

    def _oauth_v2_access(self, request: _ParsedRequest) -> dict:
        """Exchange a code from set_oauth_code(); client credentials by Basic auth or args."""
        args = request.args
        client_id, client_secret = request.basic_auth or (
            args.get("client_id"),
            args.get("client_secret"),
        )
        if _missing(client_id) or (self.client_id and client_id != self.client_id):
            raise SlackError("invalid_client_id")
        if _missing(client_secret) or (self.client_secret and client_secret != self.client_secret):
            raise SlackError("bad_client_secret")
        code = args.get("code")
        grant = self._oauth_codes.pop(code, None) if isinstance(code, str) else None
        if grant is None:
            raise SlackError("invalid_code")
        if grant["team_id"] is None:
            return self._org_wide_grant(grant)
        team_id = grant["team_id"]
        self.add_team(
            team_id,
            bot_token=grant["bot_token"],
            bot_user_id=grant["bot_user_id"],
            bot_id=grant["bot_id"],
            name=grant["team_name"],
            enterprise_id=grant["enterprise_id"],
            scopes=grant["scope"],
        )
        team = self._teams[team_id]
        installer = grant["installer_user_id"]
        if installer not in team.users:
            self.add_user(installer, team_id=team_id, name="installer")
        enterprise = {"id": grant["enterprise_id"], "name": "Enterprise"}
        return {
            "app_id": APP_ID,
            "authed_user": {"id": installer},
            "scope": grant["scope"],
            "token_type": "bot",
            "access_token": grant["bot_token"],
            "bot_user_id": grant["bot_user_id"],
            "team": {"id": team.id, "name": team.name},
            "enterprise": enterprise if grant["enterprise_id"] else None,
            "is_enterprise_install": False,
        }

    def _org_wide_grant(self, grant: dict) -> dict:
        """An install on a whole organization: one token for every workspace in it."""
        scopes = frozenset(s for s in grant["scope"].split(",") if s)
        self._tokens[grant["bot_token"]] = _Token(
            team_id=None, scopes=scopes, enterprise_id=grant["enterprise_id"]
        )
        return {
            "app_id": APP_ID,
            "authed_user": {"id": grant["installer_user_id"]},
            "scope": grant["scope"],
            "token_type": "bot",
            "access_token": grant["bot_token"],
            "bot_user_id": grant["bot_user_id"],
            "team": None,
            "enterprise": {"id": grant["enterprise_id"], "name": "Enterprise"},
            "is_enterprise_install": True,
        }

    # ------------------------------------------------------------------ socket mode

    def _apps_connections_open(self, token: str | None) -> dict:
        """A Socket Mode WebSocket URL for an app-level token from set_app_token()."""
        if not token:
            raise SlackError("not_authed")
        if token in self._tokens:
            raise SlackError("not_allowed_token_type")
        url = self._app_tokens.get(token)
        if url is None:
            raise SlackError("invalid_auth")
        return {"url": url}

    # ------------------------------------------------------------------ response_url

    def _serve_response_url(self, http: _Handler, url: str, body: bytes) -> None:
        fault = self._take_fault("response_url")
        if fault is not None:
            self._wait_out(fault)
            if fault.answers:
                self._answer_fault(
                    http,
                    fault,
                    lambda status, body: self._reject_response(
                        url, status, body.get("error") or _fault_name(status), None
                    ),
                )
                return
        with self._lock:
            status, answer = self._accept_response(url, body)
        if isinstance(answer, bytes):
            _send(http, status, answer, "text/plain; charset=utf-8")
        else:
            _send_json(http, status, answer)

    def _accept_response(self, url: str, body: bytes) -> tuple[int, bytes | dict]:
        """Record a body posted to a response_url, refusing what Slack refuses."""
        entry = self._response_urls.get(url)
        if entry is None:
            return 404, b"no_service"
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            self._reject_response(url, 400, "invalid_payload", body.decode("utf-8", "replace"))
            return 400, {"ok": False, "error": "invalid_payload"}
        if entry["uses"] >= RESPONSE_URL_USES:
            self._reject_response(url, 404, "used_url", payload)
            return 404, {"ok": False, "error": "used_url"}
        try:
            self._check_response_payload(self._teams[entry["team_id"]], payload)
        except SlackError as refusal:
            self._reject_response(url, 400, refusal.error, payload, refusal.messages)
            return 400, refusal.body()
        entry["uses"] += 1
        with self._changed:
            self.responses[url].append(payload)
            self._tell_listeners(ResponsePost(url, payload))
            self._generation += 1
            self._changed.notify_all()
        return 200, b"ok"

    def _check_response_payload(self, team: _Team, payload: dict) -> None:
        if payload.get("delete_original"):
            return
        blocks = payload.get("blocks")
        if blocks is not None:
            self._check_blocks(team, blocks)
        if _missing(payload.get("text")) and not blocks and not payload.get("attachments"):
            raise SlackError("no_text")
        response_type = payload.get("response_type")
        if response_type is not None and response_type not in ("in_channel", "ephemeral"):
            raise SlackError(
                "invalid_response_type",
                messages=[f"response_type must be in_channel or ephemeral: {response_type!r}"],
            )

    def _reject_response(
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
            self._generation += 1
            self._changed.notify_all()


__all__ = [
    "SLACK_TIERS",
    "ApiRequest",
    "BlockKitValidator",
    "FakeCall",
    "FakeMessage",
    "FakeSlack",
    "RateLimit",
    "ResponsePost",
    "SlackError",
    "load_method_definitions",
]
