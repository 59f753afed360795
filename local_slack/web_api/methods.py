"""Slack's method definitions (``local_slack/slack_api``): which arguments a method requires,
which are integers or JSON, which scopes it needs; and the argument checks made from them."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_slack.web_api.errors import SlackError

API_DIR = Path(__file__).resolve().parent.parent / "slack_api"

APP_ID = "A123456"

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

# The error Slack gives for a missing required argument, where it is not invalid_arguments.
MISSING_ARG_ERRORS = {"channel": "channel_not_found", "user": "user_not_found"}

# Methods served without a definition in local_slack/slack_api: they authenticate differently.
OAUTH_V2_ACCESS = "oauth.v2.access"  # client credentials, no token
APPS_CONNECTIONS_OPEN = "apps.connections.open"  # app-level tokens (xapp-...) only
UNDEFINED_METHODS = (OAUTH_V2_ACCESS, APPS_CONNECTIONS_OPEN)


def load_method_definitions(directory: Path = API_DIR) -> dict[str, dict]:
    """Method name -> definition (``args`` with required/type/format, ``errors``)."""
    definitions = {}
    for path in sorted(directory.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        definitions[definition["name"]] = definition
    return definitions


METHODS = load_method_definitions()


def missing(value: Any) -> bool:
    return value is None or value == ""


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def decode_args(method: str, args: dict[str, Any]) -> None:
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


def check_args(method: str, args: dict[str, Any]) -> None:
    """Required arguments present and integers integers, as ``method``'s definition says."""
    for name, spec in METHODS[method]["args"].items():
        value = args.get(name)
        if spec.get("required") and missing(value):
            raise SlackError(
                MISSING_ARG_ERRORS.get(name, "invalid_arguments"),
                messages=[f"missing required field: {name}"],
            )
        if spec.get("type") == "integer" and not missing(value) and not is_int(value):
            raise SlackError(
                "invalid_arguments", messages=[f"{name} must be an integer, got {value!r}"]
            )
