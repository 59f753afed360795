"""views.*: modals opened by a trigger, pushed, updated, and Home tabs published."""

from __future__ import annotations

import json
import secrets
from typing import Any

from local_slack.web_api.blockkit import BlockKitValidator
from local_slack.web_api.errors import SlackError
from local_slack.web_api.methods import APP_ID, missing
from local_slack.web_api.state import SlackState, Team

MAX_VIEW_BLOCKS = 100
MAX_VIEW_BYTES = 250_000
TRIGGER_TTL_SECONDS = 3.0


def check_view(state: SlackState, team: Team, view: Any, *, types: tuple[str, ...]) -> dict:
    """A view payload; Slack refuses a bad one with invalid_arguments and reasons."""
    if not isinstance(view, dict):
        raise SlackError(
            "invalid_arguments", messages=["view must be a JSON object [json-pointer:/view]"]
        )
    checker = BlockKitValidator(state.call_exists_in(team))
    kind = view.get("type")
    if kind not in types:
        checker.fail("/view/type", f"must be {' or '.join(types)}, got {kind!r}")
    if kind == "modal":
        checker.check_text(view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            checker.check_optional_plain(view.get(key), f"/view/{key}", max_len=24)
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


def store_view(state: SlackState, team: Team, view: dict, view_id: str | None = None) -> dict:
    """Keep a view as Slack would answer it: with id, hash, state and app ids."""
    view_id = view_id or state.new_id("V")
    external_id = view.get("external_id") or ""
    if external_id:
        for other_id, entry in state.open_views.items():
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
        "hash": f"{int(state.clock())}.{secrets.token_hex(4)}",
        "root_view_id": view_id,
        "previous_view_id": None,
        "app_id": APP_ID,
        "bot_id": team.bot_id,
    }
    state.open_views[view_id] = {"team_id": team.id, "view": stored}
    return stored


def views_open(state: SlackState, team: Team, args: dict) -> dict:
    return _open_or_push(state, team, args, "views.open")


def views_push(state: SlackState, team: Team, args: dict) -> dict:
    return _open_or_push(state, team, args, "views.push")


def views_update(state: SlackState, team: Team, args: dict) -> dict:
    view_id, external_id = args.get("view_id"), args.get("external_id")
    if missing(view_id) == missing(external_id):
        raise SlackError(
            "invalid_arguments", messages=["exactly one of view_id or external_id is required"]
        )
    found = None
    for candidate_id, entry in state.open_views.items():
        matches = (
            candidate_id == view_id if view_id else entry["view"].get("external_id") == external_id
        )
        if matches and entry["team_id"] == team.id:
            found = candidate_id, entry
            break
    if found is None:
        raise SlackError("not_found")
    found_id, entry = found
    known_hash = entry["view"].get("hash")
    if not missing(args.get("hash")) and known_hash and args["hash"] != known_hash:
        raise SlackError("hash_conflict")
    view = check_view(state, team, args["view"], types=("modal", "home"))
    stored = store_view(state, team, view, view_id=found_id)
    state.views.append({"method": "views.update", **args, "id": found_id})
    return {"view": stored}


def views_publish(state: SlackState, team: Team, args: dict) -> dict:
    if not state.home_tab_enabled:
        raise SlackError("not_enabled")
    user_id = args["user_id"]
    if user_id not in team.users:
        raise SlackError("user_not_found")
    view = check_view(state, team, args["view"], types=("home",))
    view_id = state.home_view_ids.get((team.id, user_id))
    current_hash = state.open_views[view_id]["view"]["hash"] if view_id else None
    if current_hash and not missing(args.get("hash")) and args["hash"] != current_hash:
        raise SlackError("hash_conflict")
    stored = store_view(state, team, view, view_id=view_id)
    state.home_view_ids[(team.id, user_id)] = stored["id"]
    state.home_views[user_id] = view
    return {"view": stored}


def _open_or_push(state: SlackState, team: Team, args: dict, method: str) -> dict:
    trigger = _check_trigger(state, args)
    view = check_view(state, team, args["view"], types=("modal",))
    stored = store_view(state, team, view)
    state.used_triggers.add(trigger)
    state.views.append({"method": method, **args, "id": stored["id"]})
    return {"view": stored}


def _check_trigger(state: SlackState, args: dict) -> str:
    trigger = args.get("trigger_id") or args.get("interactivity_pointer")
    if missing(trigger) or not isinstance(trigger, str):
        raise SlackError("invalid_arguments", messages=["missing required field: trigger_id"])
    if trigger in state.used_triggers:
        raise SlackError("exchanged_trigger_id")
    issued = state.issued_triggers.get(trigger)
    if issued is not None and state.clock() - issued > TRIGGER_TTL_SECONDS:
        raise SlackError("expired_trigger_id")
    return trigger


HANDLERS = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
