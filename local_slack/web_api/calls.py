"""calls.*: calls registered with Slack, their participants, their end."""

from __future__ import annotations

from typing import Any

from local_slack.web_api.errors import SlackError
from local_slack.web_api.methods import is_http_url, missing
from local_slack.web_api.state import FakeCall, SlackState, Team


def calls_add(state: SlackState, team: Team, args: dict) -> dict:
    created_by = args.get("created_by")
    if missing(created_by) or created_by not in team.users:
        raise SlackError(
            "invalid_created_by",
            messages=[f"bot tokens need created_by naming a user of {team.id}"],
        )
    if not is_http_url(args["join_url"]):
        raise SlackError("invalid_arguments", messages=["join_url must be an http(s) URL"])
    date_start = args.get("date_start")
    if date_start is None:
        date_start = int(state.clock())
    elif date_start < 0:
        raise SlackError("invalid_start_time")
    users = _parse_users(team, args.get("users"), required=False)
    call = FakeCall(
        id=state.new_id("R"),
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
    state.calls[call.id] = call
    return {"call": call.to_api()}


def calls_end(state: SlackState, team: Team, args: dict) -> dict:
    call = _call_of(state, team, args)
    if call.ended:
        raise SlackError("inactive_call")
    duration = args.get("duration")
    now = int(state.clock())
    if duration is None:
        duration = max(0, now - call.date_start)
    elif duration < 0:
        raise SlackError("invalid_arguments", messages=["duration must not be negative"])
    call.ended, call.duration, call.date_end = True, duration, call.date_start + duration
    return {}


def calls_info(state: SlackState, team: Team, args: dict) -> dict:
    return {"call": _call_of(state, team, args).to_api()}


def calls_update(state: SlackState, team: Team, args: dict) -> dict:
    call = _call_of(state, team, args)
    if not missing(args.get("join_url")):
        if not is_http_url(args["join_url"]):
            raise SlackError("invalid_arguments", messages=["join_url must be an http(s) URL"])
        call.join_url = args["join_url"]
    if "title" in args:
        call.title = args["title"]
    if not missing(args.get("desktop_app_join_url")):
        call.desktop_app_join_url = args["desktop_app_join_url"]
    return {"call": call.to_api()}


def calls_participants_add(state: SlackState, team: Team, args: dict) -> dict:
    call = _call_of(state, team, args)
    users = _parse_users(team, args["users"], required=True)
    if call.ended:
        raise SlackError("inactive_call")
    present = {_user_key(user) for user in call.users}
    for user in users:
        if _user_key(user) in present:
            raise SlackError("bad_users", messages=[f"already in the call: {user!r}"])
        present.add(_user_key(user))
    call.users.extend(users)
    return {}


def calls_participants_remove(state: SlackState, team: Team, args: dict) -> dict:
    call = _call_of(state, team, args)
    users = _parse_users(team, args["users"], required=True)
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


def _call_of(state: SlackState, team: Team, args: dict) -> FakeCall:
    call_id = args.get("id")
    call = state.calls.get(call_id) if isinstance(call_id, str) else None
    if call is None or call.team_id != team.id:
        raise SlackError("invalid_call_id")
    return call


def _user_key(user: dict) -> tuple[str, str]:
    if "slack_id" in user:
        return ("slack_id", user["slack_id"])
    return ("external_id", user["external_id"])


def _parse_users(team: Team, value: Any, *, required: bool) -> list[dict]:
    """``users``: a JSON array of {"slack_id"} or {"external_id", "display_name"}."""
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise SlackError("invalid_users", messages=[f"users must be a JSON array, got {value!r}"])
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
        elif missing(user.get("external_id")) or missing(user.get("display_name")):
            raise SlackError(
                "invalid_users",
                messages=[f"need slack_id, or external_id and display_name: {user!r}"],
            )
    return [dict(user) for user in value]


HANDLERS = {
    "calls.add": calls_add,
    "calls.end": calls_end,
    "calls.info": calls_info,
    "calls.update": calls_update,
    "calls.participants.add": calls_participants_add,
    "calls.participants.remove": calls_participants_remove,
}
