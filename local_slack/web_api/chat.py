"""chat.*: the bot's messages (posted, ephemeral, updated, deleted) and link unfurls."""

from __future__ import annotations

from typing import Any

from local_slack.web_api.blockkit import check_message_blocks
from local_slack.web_api.conversations import resolve_channel
from local_slack.web_api.errors import SlackError
from local_slack.web_api.methods import APP_ID, METHODS, missing
from local_slack.web_api.state import FakeMessage, SlackState, Team

MAX_MESSAGE_TEXT = 40_000


def chat_post_message(state: SlackState, team: Team, args: dict) -> dict:
    channel = resolve_channel(team, args["channel"], posting=True)
    _message_content(state, team, "chat.postMessage", args)
    blocks = args.get("blocks") or None
    message = FakeMessage(
        channel=channel,
        ts=state.next_ts(),
        text=args.get("text"),
        blocks=blocks,
        team_id=team.id,
        thread_ts=args.get("thread_ts"),
    )
    state.messages.append(message)
    return {"channel": channel, "ts": message.ts, "message": _message_api(team, message)}


def chat_post_ephemeral(state: SlackState, team: Team, args: dict) -> dict:
    resolve_channel(team, args["channel"], posting=True)
    if args["user"] not in team.users:
        raise SlackError("user_not_in_channel")
    _message_content(state, team, "chat.postEphemeral", args)
    state.ephemerals.append(dict(args))
    return {"message_ts": state.next_ts()}


def chat_update(state: SlackState, team: Team, args: dict) -> dict:
    channel = resolve_channel(team, args["channel"], posting=False)
    message = _find_message(state, team, channel, args["ts"])
    _message_content(state, team, "chat.update", args)
    if "text" in args:
        message.text = args["text"]
    if "blocks" in args:  # as in Slack, omitted blocks are kept and [] removes them
        message.blocks = args["blocks"] or None
    message.updates += 1
    return {
        "channel": channel,
        "ts": message.ts,
        "text": message.text or "",
        "message": _message_api(team, message),
    }


def chat_delete(state: SlackState, team: Team, args: dict) -> dict:
    channel = resolve_channel(team, args["channel"], posting=False)
    message = _find_message(state, team, channel, args["ts"])
    state.messages.remove(message)
    return {"channel": channel, "ts": message.ts}


def chat_unfurl(state: SlackState, team: Team, args: dict) -> dict:
    """Records the unfurl; a ``call`` block must name a call of this workspace."""
    by_message = not missing(args.get("channel")) and not missing(args.get("ts"))
    by_composer = not missing(args.get("unfurl_id")) and not missing(args.get("source"))
    if by_message == by_composer:
        raise SlackError(
            "invalid_arguments",
            messages=["give channel and ts, or unfurl_id and source, not both or neither"],
        )
    unfurls = args.get("unfurls")
    if not isinstance(unfurls, dict) or not unfurls:
        raise SlackError("invalid_unfurls_format")
    call_exists = state.call_exists_in(team)
    for unfurl in unfurls.values():
        for block in (unfurl or {}).get("blocks", []):
            if block.get("type") == "call" and not call_exists(str(block.get("call_id"))):
                raise SlackError("invalid_unfurls_format", messages=["no such call"])
    state.unfurls.append({**args, "team_id": team.id})
    return {}


def _message_content(state: SlackState, team: Team, method: str, args: dict) -> None:
    """text/blocks of chat.postMessage/postEphemeral/update: present, valid, in limits."""
    text, blocks = args.get("text"), args.get("blocks")
    if not missing(args.get("markdown_text")) and (not missing(text) or blocks):
        raise SlackError("markdown_text_conflict")
    if text is not None and not isinstance(text, str):
        raise SlackError("invalid_arguments", messages=[f"text must be a string: {text!r}"])
    if blocks is not None and blocks != "":
        check_message_blocks(blocks, state.call_exists_in(team))
    if (
        missing(text)
        and not blocks
        and missing(args.get("attachments"))
        and missing(args.get("markdown_text"))
    ):
        raise SlackError("no_text")
    if text and len(text) > MAX_MESSAGE_TEXT and "msg_too_long" in METHODS[method]["errors"]:
        raise SlackError("msg_too_long")


def _find_message(state: SlackState, team: Team, channel: str, ts: Any) -> FakeMessage:
    for message in state.messages:
        if message.team_id == team.id and message.channel == channel and message.ts == ts:
            return message
    raise SlackError("message_not_found")


def _message_api(team: Team, message: FakeMessage) -> dict[str, Any]:
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


HANDLERS = {
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.unfurl": chat_unfurl,
}
