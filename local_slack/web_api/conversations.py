"""conversations.*: the channels and DMs the bot can see, and who is in them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from local_slack.web_api.errors import SlackError
from local_slack.web_api.methods import missing
from local_slack.web_api.state import SlackState, Team

MAX_MEMBERS_LIMIT = 999  # conversations.members' largest page
DEFAULT_MEMBERS_LIMIT = 100


def resolve_channel(team: Team, channel: Any, *, posting: bool) -> str:
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


def conversations_info(state: SlackState, team: Team, args: dict) -> dict:
    channel = resolve_channel(team, args["channel"], posting=False)
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


def conversations_members(state: SlackState, team: Team, args: dict) -> dict:
    channel = resolve_channel(team, args["channel"], posting=False)
    limit = DEFAULT_MEMBERS_LIMIT if missing(args.get("limit")) else args["limit"]
    if not 1 <= limit <= MAX_MEMBERS_LIMIT:
        raise SlackError(
            "invalid_limit", messages=[f"limit must be 1 to {MAX_MEMBERS_LIMIT}, got {limit}"]
        )
    members = _members_of(team, channel)
    # Slack's cursors encode the member a page starts at: "user:U…", base64.
    cursor, start = args.get("cursor"), 0
    if not missing(cursor):
        try:
            start = members.index(_decode_cursor(cursor))
        except ValueError:
            raise SlackError("invalid_cursor") from None
    end = start + min(limit, state.members_per_page or limit)
    next_cursor = _encode_cursor(members[end]) if end < len(members) else ""
    return {"members": members[start:end], "response_metadata": {"next_cursor": next_cursor}}


def _members_of(team: Team, channel: str) -> list[str]:
    if channel not in team.channels:  # the bot's DM with a user
        return [channel[1:], team.bot_user_id]
    people = team.channel_members.get(channel, list(team.users))
    bot = [team.bot_user_id] if team.channels[channel]["is_member"] else []
    return [user for user in people if user != team.bot_user_id] + bot


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


HANDLERS = {
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
}
