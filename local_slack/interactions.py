"""What people do in the local Slack, sent to the app exactly as Slack sends it: slash commands,
button presses, modal submissions, the Home tab opened. Signed requests to the app's
/slack/events, with response_urls and trigger_ids the Web API fake issued; what the app answers
on the request itself (a command's reply, a modal's field errors) is shown as Slack shows it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from urllib.parse import urlencode

from local_slack.app_requests import (
    HttpResult,
    app_home_opened_event,
    block_actions_payload,
    button_action,
    event_envelope,
    post,
    slash_command_form,
    view_submission_payload,
)
from local_slack.modal_html import CHANNEL_SELECTS, TEXT_INPUTS, field_name
from local_slack.timeline import Origin, Timeline
from local_slack.web_api import FakeSlack
from local_slack.web_api.errors import SlackError
from local_slack.workspace import SLACKBOT, Workspace

log = logging.getLogger(__name__)

COMMANDS = ("/call",)  # the slash commands the app's manifest declares
REQUIRED = "Please complete this required field."  # Slack's own, before anything is sent
TROUBLE = "We had some trouble connecting. Try again?"  # Slack's, when the app fails a modal
FORM = "application/x-www-form-urlencoded"

_MENTION = re.compile(r"(?<![\w<])@([\w.-]+)")
_CHANNEL = re.compile(r"(?<![\w<])#([\w-]+)")
_URL = re.compile(r"(?<![\w<|])(https?://[^\s<>]+)")


class Interactions:
    def __init__(
        self, fake: FakeSlack, workspace: Workspace, timeline: Timeline, signing_secret: str
    ) -> None:
        self._fake = fake
        self._workspace = workspace
        self._timeline = timeline
        self._secret = signing_secret
        self.events_url: str | None = None  # the app's /slack/events, once it is up

    # ---------------------------------------------------------------- the Message box

    def send_message(self, user: str, channel: str, typed: str) -> None:
        """Enter in the Message box: a slash command, or a message everyone in ``channel`` sees."""
        typed = typed.strip()
        if not typed:
            return
        if typed.startswith("/"):
            command, _, text = typed.partition(" ")
            if command not in COMMANDS:
                self._timeline.add_entry(
                    channel,
                    SLACKBOT,
                    text=f"`{escape(command)}` is not a valid command. In Slack, messages "
                    "that start with “/” are read as commands.",
                    for_user=user,
                )
                return
            self._command(user, channel, command, text.strip())
            return
        self._timeline.add_entry(channel, user, text=self.as_slack_sends(typed))

    def as_slack_sends(self, typed: str) -> str:
        """Text as Slack's client sends it: &, <, > escaped; @someone, #channel and links as
        Slack's markup (the manifest asks for escaped mentions: ``should_escape``)."""
        text = escape(typed)
        text = _MENTION.sub(self._mention, text)
        text = _CHANNEL.sub(self._channel_ref, text)
        return _URL.sub(r"<\1>", text)

    def _mention(self, match: re.Match) -> str:
        handle = match.group(1).lower()
        for person in self._workspace.people:
            if handle in (person.handle, person.id.lower()):
                return f"<@{person.id}|{person.handle}>"
        return match.group(0)

    def _channel_ref(self, match: re.Match) -> str:
        for channel in self._workspace.channels:
            if channel.name == match.group(1).lower():
                return f"<#{channel.id}|{channel.name}>"
        return match.group(0)

    def _command(self, user: str, channel: str, command: str, text: str) -> None:
        response_url, trigger_id = self._issue(user, Origin(user, channel, f"{command} {text}"))
        conversation = self._workspace.channel(channel)
        form = slash_command_form(
            self.as_slack_sends(text),
            user=user,
            response_url=response_url,
            team_id=self._workspace.team_id,
            channel=channel,
            channel_name=conversation.name if conversation else "directmessage",
            trigger_id=trigger_id,
        )
        result = self._post(urlencode(form).encode(), FORM)
        typed = f"{command} {text}".strip()
        if result is None or result.status != 200:
            error = "dispatch_failed" if result is None else "http_service_error"
            self._timeline.add_entry(
                channel,
                SLACKBOT,
                text=f"`{escape(command)}` failed with the error “{error}”.",
                for_user=user,
                command=typed,
            )
            return
        answer = _answer_body(result)
        if answer:  # the app replied on the request itself, as Bolt's ack(text=…) does
            public = answer.get("response_type") == "in_channel"
            self._timeline.add_entry(
                channel,
                self._workspace.bot_user_id,
                text=str(answer.get("text") or ""),
                blocks=answer.get("blocks"),
                for_user=None if public else user,
                command=typed,
            )

    # ---------------------------------------------------------------- buttons

    def press(self, user: str, container: str, place: str) -> None:
        """A button pressed: ``container`` says which blocks, ``place`` which element
        (``"<block>.<element>"`` in an actions block, ``"<block>.accessory"``)."""
        found = self._find_blocks(user, container)
        if found is None:
            return
        kind, blocks, where = found
        element, block_id = _element_at(blocks, place)
        if element is None or element.get("type") != "button":
            return
        action = button_action(element, block_id=block_id)
        if kind == "view":
            _, trigger_id = self._issue(user)
            view = {**where, "state": {"values": {}}}
            payload = block_actions_payload(
                action,
                user=user,
                team_id=self._workspace.team_id,
                container={"type": "view", "view_id": where["id"]},
                trigger_id=trigger_id,
                view=view,
            )
        else:
            channel, ts, entry_id = where["channel"], where["ts"], where.get("entry_id")
            origin = Origin(user, channel, entry_id=entry_id)
            response_url, trigger_id = self._issue(user, origin)
            conversation = self._workspace.channel(channel)
            payload = block_actions_payload(
                action,
                user=user,
                team_id=self._workspace.team_id,
                container={
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel,
                    "is_ephemeral": entry_id is not None,
                },
                trigger_id=trigger_id,
                channel={
                    "id": channel,
                    "name": conversation.name if conversation else "directmessage",
                },
                message=None if entry_id is not None else where["message"],
                response_url=response_url,
            )
        result = self._post(urlencode({"payload": json.dumps(payload)}).encode(), FORM)
        if (result is None or result.status != 200) and kind == "message":
            self._timeline.add_entry(
                where["channel"],
                SLACKBOT,
                text=f"{self._workspace.app_name} didn't answer that button. Try again?",
                for_user=user,
            )

    def _find_blocks(self, user: str, container: str) -> tuple[str, list[dict], dict] | None:
        """The blocks a button was in, as the app sent them, and what the payload needs."""
        kind, _, ref = container.partition(":")
        if kind == "message":
            channel, _, ts = ref.partition(":")
            for message in self._fake.messages_in(channel):
                if message.ts == ts and message.blocks:
                    api = {
                        "type": "message",
                        "ts": ts,
                        "text": message.text or "",
                        "blocks": message.blocks,
                        "user": self._workspace.bot_user_id,
                    }
                    return "message", message.blocks, {"channel": channel, "ts": ts, "message": api}
        elif kind == "entry" and ref.isdigit():
            entry = self._timeline.entry(int(ref), user)
            if entry is not None and entry.blocks:
                ts = f"{entry.at:.6f}"
                where = {"channel": entry.channel, "ts": ts, "entry_id": entry.id}
                return "message", entry.blocks, where
        elif kind == "view":
            view = self._fake.view(ref)
            if view is not None and self._may_see(user, view):
                return "view", view.get("blocks", []), view
        return None

    def _may_see(self, user: str, view: dict) -> bool:
        if view.get("type") == "home":
            home = self._fake.home_of(user, team_id=self._workspace.team_id)
            return home is not None and home["id"] == view["id"]
        modal = self._timeline.modal_of(user)
        return modal is not None and modal.view_id == view["id"]

    # ---------------------------------------------------------------- modals

    def submit(self, user: str, view_id: str, form: Mapping[str, list[str]]) -> None:
        """The modal's submit button: Slack checks required inputs, then asks the app."""
        modal = self._timeline.modal_of(user)
        view = self._fake.view(view_id)
        if modal is None or modal.view_id != view_id or view is None:
            return  # a modal closed meanwhile: nothing to submit
        entered = {
            str(block["block_id"]): list(form.get(field_name(block["block_id"]), []))
            for block in view.get("blocks", [])
            if block.get("type") == "input" and block.get("block_id")
        }
        missing = {
            block["block_id"]: REQUIRED
            for block in view.get("blocks", [])
            if block.get("type") == "input"
            and not block.get("optional")
            and not any(entered.get(block.get("block_id"), []))  # spaces count, as in Slack
        }
        if missing:
            self._timeline.show_errors(user, view_id, missing, entered)
            return
        _, trigger_id = self._issue(user)
        payload = view_submission_payload(
            view,
            state_values(view, entered),
            user=user,
            team_id=self._workspace.team_id,
            trigger_id=trigger_id,
        )
        result = self._post(urlencode({"payload": json.dumps(payload)}).encode(), FORM)
        if result is None or result.status != 200:
            self._timeline.show_errors(user, view_id, {"": TROUBLE}, entered)
            return
        self._view_answer(user, view_id, _answer_body(result), entered)

    def _view_answer(
        self, user: str, view_id: str, answer: dict, entered: dict[str, list[str]]
    ) -> None:
        action = answer.get("response_action")
        try:
            if action == "errors":
                self._timeline.show_errors(user, view_id, answer.get("errors") or {}, entered)
            elif action == "update":
                self._fake.answer_view(
                    answer["view"], view_id=view_id, team_id=self._workspace.team_id
                )
                self._timeline.show_errors(user, view_id, {}, {})
            elif action == "push":
                pushed = self._fake.answer_view(answer["view"], team_id=self._workspace.team_id)
                self._timeline.push_modal(user, pushed["id"])
            else:
                self._timeline.close_modal(user, view_id, all_views=action == "clear")
        except (SlackError, KeyError, TypeError) as refusal:
            log.warning("the app's answer to a view_submission was refused: %s", refusal)
            self._timeline.show_errors(user, view_id, {"": TROUBLE}, entered)

    def close(self, user: str, view_id: str) -> None:
        """The modal's close button. (The app asks for no view_closed: none is sent.)"""
        self._timeline.close_modal(user, view_id)

    # ---------------------------------------------------------------- Home

    def open_home(self, user: str) -> None:
        """The app's Home tab opened: Slack sends app_home_opened; the app publishes it."""
        envelope = event_envelope(app_home_opened_event(user), team_id=self._workspace.team_id)
        self._post(json.dumps(envelope).encode(), "application/json")

    # ---------------------------------------------------------------- plumbing

    def _issue(self, user: str, origin: Origin | None = None) -> tuple[str, str]:
        """A trigger_id for what ``user`` did and, for a conversation (``origin``), a
        response_url: both remembered, so what the app does with them reaches ``user``."""
        response_url = ""
        if origin is not None:
            response_url = self._fake.new_response_url(team_id=self._workspace.team_id)
            self._timeline.expect_response(response_url, origin)
        trigger_id = self._fake.new_trigger_id()
        self._timeline.expect_trigger(trigger_id, user)
        return response_url, trigger_id

    def _post(self, body: bytes, content_type: str) -> HttpResult | None:
        if not self.events_url:
            return None
        try:
            return post(self.events_url, body, content_type=content_type, secret=self._secret)
        except OSError as error:  # the app is not up, or did not answer in time
            log.warning("the app did not answer: %s", error)
            return None


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _answer_body(result: HttpResult) -> dict:
    """What the app answered on the request itself: JSON, plain text, or nothing."""
    if not result.body.strip():
        return {}
    try:
        answer = json.loads(result.body)
    except ValueError:
        return {"text": result.body}
    return answer if isinstance(answer, dict) else {}


def _element_at(blocks: list[dict], place: str) -> tuple[dict | None, str]:
    index, _, position = place.partition(".")
    if not index.isdigit() or int(index) >= len(blocks):
        return None, ""
    block = blocks[int(index)]
    block_id = str(block.get("block_id") or f"block{index}")  # Slack makes one up too
    if position == "accessory":
        return block.get("accessory"), block_id
    elements = block.get("elements", []) if block.get("type") == "actions" else []
    if not position.isdigit() or int(position) >= len(elements):
        return None, block_id
    return elements[int(position)], block_id


def state_values(view: dict, entered: Mapping[str, list[str]]) -> dict:
    """``view.state.values`` as Slack sends them: block_id -> action_id -> the value."""
    values: dict[str, dict] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input" or "block_id" not in block:
            continue
        element = block.get("element", {})
        kind, action_id = element.get("type"), element.get("action_id", "")
        chosen = [v for v in entered.get(block["block_id"], []) if v]
        value: dict = {"type": kind}
        if kind in TEXT_INPUTS:
            raw = entered.get(block["block_id"], [""])
            value["value"] = raw[0] if raw and raw[0] != "" else None
        elif kind in CHANNEL_SELECTS:
            key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
            value[key] = chosen[0] if chosen else None
        elif kind == "users_select":
            value["selected_user"] = chosen[0] if chosen else None
        elif kind == "multi_users_select":
            value["selected_users"] = chosen
        elif kind == "static_select":
            options = {o.get("value"): o for o in element.get("options", [])}
            value["selected_option"] = options.get(chosen[0]) if chosen else None
        elif kind == "multi_static_select":
            options = {o.get("value"): o for o in element.get("options", [])}
            value["selected_options"] = [options[v] for v in chosen if v in options]
        else:
            continue
        values[block["block_id"]] = {action_id: value}
    return values
