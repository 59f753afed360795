"""Every Block Kit message and view the app sends, built by small pure functions.

Limits are enforced here, once: user text is cut to fit. The sentences come from wording.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calls_app import wording
from calls_app.block_ids import (
    CHANNEL_INPUT,
    HOME_START_CALL,
    OPEN_CALL_LINK,
    PEOPLE_INPUT,
    TITLE_INPUT,
    ActionId,
    BlockId,
    CallbackId,
)
from calls_app.command_text import Verb
from calls_app.models import Call, CallState, EndReason
from calls_app.records import HomeCalls, Person
from calls_app.text import escape_mrkdwn, format_duration, truncate
from calls_app.wording import mention

BUTTON_TEXT_LIMIT = 75
SECTION_TEXT_LIMIT = 3000
MAX_PICKER_BUTTONS = 25  # an actions block holds at most 25 elements: one page of the picker
VIEW_BLOCK_LIMIT = 100

BlockKit = dict[str, Any]  # a block, element, text object or view, as Slack's JSON


@dataclass(frozen=True)
class Message:
    text: str  # the notification and screen-reader fallback
    blocks: list[BlockKit]


@dataclass(frozen=True)
class CallStatus:
    title: str
    created_by: str | None
    running_seconds: int | None
    people: Sequence[Person]


def plain(text: str, limit: int) -> BlockKit:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int) -> BlockKit:
    # verbatim: Slack leaves user text as typed (no auto-links or mentions); ours are explicit.
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def mrkdwn_section(text: str) -> BlockKit:
    return {"type": "section", "text": mrkdwn(text, SECTION_TEXT_LIMIT)}


def button(
    text: str,
    action_id: str,
    value: str | None,
    *,
    style: str | None = None,
    url: str | None = None,
) -> BlockKit:
    element: BlockKit = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    return element


def context_block(text: str) -> BlockKit:
    return {"type": "context", "elements": [mrkdwn(text, 2000)]}


def actions_block(elements: list[BlockKit], *, block_id: str | None = None) -> BlockKit:
    block: BlockKit = {"type": "actions", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def join_button(call: Call) -> BlockKit:
    """Opens the call and registers the person in it."""
    return button("Join", ActionId.JOIN, str(call.id), style="primary", url=call.join_url)


def call_block(call: Call) -> BlockKit:
    return {"type": "call", "call_id": call.slack_call_id}


def live_call_message(call: Call) -> Message:
    """The call as posted in the channel: Slack's call card and the app's buttons."""
    value = str(call.id)
    return Message(
        text=wording.call_started_by(call.created_by, call.title),
        blocks=[
            call_block(call),
            actions_block(
                [
                    join_button(call),
                    button("Leave", ActionId.LEAVE, value),
                    button("Rename", ActionId.RENAME, value),
                    button("End call", ActionId.END, value, style="danger"),
                ],
                block_id=BlockId.CALL_ACTIONS,
            ),
        ],
    )


def ended_call_message(call: Call) -> Message:
    """The call once over: no button left that acts on it."""
    summary = ended_summary(call)
    return Message(
        text=wording.call_ended(call.title, summary),
        blocks=[call_block(call), context_block(summary)],
    )


def unstarted_call_message(call: Call) -> Message:
    """A call message that reached the channel though the app never heard it had: the call
    was called off meanwhile, so no button may be left on it."""
    text = wording.call_unstarted(call.title)
    return Message(text=text, blocks=[mrkdwn_section(text)])


def copy_of_call_message(call: Call) -> Message:
    """A second message of one call (a crash posted it twice): the call's own message is the
    other one, so this copy keeps no button."""
    text = wording.call_shown_elsewhere(call.title)
    return Message(text=text, blocks=[mrkdwn_section(text)])


def message_for(call: Call) -> Message:
    """The call message as the call's state says it should look."""
    return ended_call_message(call) if call.state == CallState.ENDED else live_call_message(call)


def ended_summary(call: Call) -> str:
    match call.end_reason:
        case EndReason.MAX_DURATION:
            how = wording.ENDED_AT_MAX_DURATION
        case EndReason.EMPTY:
            how = wording.ENDED_EMPTY
        case EndReason.SLACK:
            how = wording.ENDED_IN_SLACK
        case EndReason.PROVIDER:
            how = wording.ENDED_WITH_MEETING
        case _:
            how = wording.ended_by(call.ended_by)
    return f"{how} {wording.lasted(format_duration(call.duration_seconds or 0))}"


def invitation_message(call: Call) -> Message:
    return Message(
        text=wording.invited_you(call.created_by, call.title),
        blocks=[
            mrkdwn_section(wording.invited_you_to(call.created_by, call.title, call.channel_id)),
            actions_block([join_button(call)], block_id=BlockId.CALL_ACTIONS),
        ],
    )


def open_call_button(call: Call) -> BlockKit:
    """A link to the call, for replies: a click only opens it."""
    return actions_block(
        [button("Open the call", OPEN_CALL_LINK, None, style="primary", url=call.join_url)]
    )


def started_reply(call: Call, invited: Sequence[str], not_invited: Sequence[str]) -> Message:
    text = wording.started(call.title, invited, not_invited)
    return Message(text=text, blocks=[mrkdwn_section(text), open_call_button(call)])


def joined_reply(call: Call, *, already_in: bool) -> Message:
    text = wording.joined(call.title, already_in=already_in)
    return Message(text=text, blocks=[mrkdwn_section(text), open_call_button(call)])


def _json_object(raw: str) -> dict[str, Any] | None:
    """A JSON object a button or modal carries back to us; None for anything else."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class PickerPage:
    """What the picker's More button carries: the verb, the page to show, a new title."""

    verb: Verb
    page: int
    title: str | None

    def dumps(self) -> str:
        value: dict[str, Any] = {"verb": self.verb, "page": self.page}
        if self.title is not None:
            value["title"] = self.title
        return json.dumps(value)

    @classmethod
    def loads(cls, raw: str) -> PickerPage | None:
        if (data := _json_object(raw)) is None:
            return None
        verb, page, title = data.get("verb"), data.get("page"), data.get("title")
        if verb not in list(Verb) or type(page) is not int or not isinstance(title, str | None):
            return None
        return cls(verb=Verb(verb), page=page, title=title)


def call_picker(
    *, question: str, verb: Verb, calls: Sequence[Call], title: str | None, page: int = 0
) -> Message:
    """One button per call, each carrying what to do with it; a page of them at a time, with
    a More button while calls remain after it."""
    pages = max(1, math.ceil(len(calls) / MAX_PICKER_BUTTONS))
    page = min(max(page, 0), pages - 1)  # the list may have shrunk since the last page
    first = page * MAX_PICKER_BUTTONS
    shown = calls[first : first + MAX_PICKER_BUTTONS]
    buttons = []
    for index, call in enumerate(shown):
        value = {"verb": verb, "call_id": call.id}
        if title is not None:
            value["title"] = title
        started = f" ({call.started_at:%H:%M} UTC)"  # tells apart calls with the same title
        label = truncate(call.title, BUTTON_TEXT_LIMIT - len(started)) + started
        url = call.join_url if verb == Verb.JOIN else None  # a join pick opens the call too
        buttons.append(button(label, f"{ActionId.PICK}_{index}", json.dumps(value), url=url))
    picker = [mrkdwn_section(question), actions_block(buttons, block_id=BlockId.PICKER)]
    if pages > 1:
        picker.append(
            context_block(wording.picker_range(first + 1, first + len(shown), len(calls)))
        )
    if page + 1 < pages:
        picker.append(
            actions_block(
                [button("More", ActionId.PICK_MORE, PickerPage(verb, page + 1, title).dumps())],
                block_id=BlockId.PICKER_MORE,
            )
        )
    return Message(text=question, blocks=picker)


def status_message(statuses: Sequence[CallStatus]) -> Message:
    sections = []
    for status in statuses:
        running = (
            format_duration(status.running_seconds)
            if status.running_seconds is not None
            else wording.UNKNOWN_TIME
        )
        starter = mention(status.created_by) if status.created_by else wording.SOMEONE
        people = [_person(p) for p in status.people]
        sections.append(
            mrkdwn_section(wording.status_of_call(status.title, starter, running, people))
        )
    return Message(text=wording.calls_running(len(statuses)), blocks=sections[:50])


def _person(who: Person) -> str:
    # Slack users render as mentions (no notification in an ephemeral); external names as text.
    return mention(who.slack_id) if who.slack_id else escape_mrkdwn(who.name or wording.SOMEONE)


@dataclass(frozen=True)
class RenameModalMetadata:
    """What the Rename modal carries: the call, and where to answer once it is renamed."""

    call_id: int
    response_url: str | None

    def dumps(self) -> str:
        return json.dumps({"call_id": self.call_id, "response_url": self.response_url})

    @classmethod
    def loads(cls, raw: str) -> RenameModalMetadata | None:
        if (data := _json_object(raw)) is None:
            return None
        call_id, response_url = data.get("call_id"), data.get("response_url")
        if type(call_id) is not int or not isinstance(response_url, str | None):
            return None
        return cls(call_id=call_id, response_url=response_url)


def rename_modal(call: Call, *, response_url: str | None) -> BlockKit:
    return {
        "type": "modal",
        "callback_id": CallbackId.RENAME_MODAL,
        "private_metadata": RenameModalMetadata(call.id, response_url).dumps(),
        "title": plain("Rename call", 24),
        "submit": plain("Rename", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.TITLE,
                "label": plain("Title", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": TITLE_INPUT,
                    "initial_value": call.title,
                    "max_length": 150,
                },
            }
        ],
    }


# -- App Home ------------------------------------------------------------------------------


def home_view(
    calls: HomeCalls, *, may_end: set[int], now: datetime, notice: str | None = None
) -> BlockKit:
    """A person's Home: start a call, their active calls, their recent calls."""
    view_blocks: list[BlockKit] = []
    if notice:
        view_blocks.append(context_block(notice))
    view_blocks.append(
        actions_block(
            [button("Start a call", HOME_START_CALL, "start", style="primary")],
            block_id="home_actions",
        )
    )
    if not calls.active and not calls.recent:
        view_blocks.append(mrkdwn_section(wording.NO_CALLS_YET))
        return {"type": "home", "blocks": view_blocks}
    view_blocks.append({"type": "header", "text": plain("Your active calls", 150)})
    if not calls.active:
        view_blocks.append(mrkdwn_section(wording.NONE_RIGHT_NOW))
    for call in calls.active:
        started = format_duration(max(0, int((now - call.started_at).total_seconds())))
        people = calls.present.get(call.id, 0)
        view_blocks.append(
            mrkdwn_section(wording.active_call(call.title, call.channel_id, started, people))
        )
        elements = [join_button(call)]
        if call.id in may_end:
            elements.append(button("End call", ActionId.END, str(call.id), style="danger"))
        view_blocks.append(actions_block(elements, block_id=f"home_call_{call.id}"))
    if calls.more_active:
        view_blocks.append(context_block(wording.MORE_CALLS_RUNNING))
    view_blocks.append({"type": "divider"})
    view_blocks.append({"type": "header", "text": plain("Recent calls", 150)})
    if not calls.recent:
        view_blocks.append(mrkdwn_section(wording.NONE_YET))
    for call in calls.recent:
        view_blocks.append(mrkdwn_section(recent_call_line(call, calls.took_part.get(call.id, 0))))
    return {"type": "home", "blocks": view_blocks[:VIEW_BLOCK_LIMIT]}


def recent_call_line(call: Call, took_part: int) -> str:
    ended = call.ended_at or call.started_at
    fallback = f"{ended:%Y-%m-%d %H:%M} UTC"
    when = f"<!date^{int(ended.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"
    lasted = format_duration(call.duration_seconds or 0)
    return wording.recent_call(call.title, call.channel_id, when, lasted, took_part)


def start_call_modal(default_channel: str | None) -> BlockKit:
    channel_select: BlockKit = {
        "type": "conversations_select",
        "action_id": CHANNEL_INPUT,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        "placeholder": plain("Pick a channel", 150),
    }
    if default_channel:
        channel_select["initial_conversation"] = default_channel
    return {
        "type": "modal",
        "callback_id": CallbackId.START_MODAL,
        "title": plain("Start a call", 24),
        "submit": plain("Start", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.CHANNEL,
                "label": plain("Channel", 2000),
                "element": channel_select,
            },
            {
                "type": "input",
                "block_id": BlockId.TITLE,
                "optional": True,
                "label": plain("Title", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": TITLE_INPUT,
                    "max_length": 150,
                },
            },
            {
                "type": "input",
                "block_id": BlockId.PEOPLE,
                "optional": True,
                "label": plain("Invite", 2000),
                "element": {
                    "type": "multi_users_select",
                    "action_id": PEOPLE_INPUT,
                    "max_selected_items": 20,
                    "placeholder": plain("People to invite", 150),
                },
            },
        ],
    }


def starting_modal() -> BlockKit:
    """The Start-a-call modal once submitted, until the call has started or failed to."""
    return _modal_message("Start a call", wording.STARTING)


def started_modal(call: Call) -> BlockKit:
    return _modal_message("Call started", wording.started_in(call.title, call.channel_id))


def not_started_modal(problem: str) -> BlockKit:
    return _modal_message("Call not started", problem)


def _modal_message(title: str, text: str) -> BlockKit:
    """A modal that only says something."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [mrkdwn_section(text)],
    }
