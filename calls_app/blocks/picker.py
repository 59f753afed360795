"""Which call? One button per call, a page at a time; and what /call status shows."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from calls_app import wording
from calls_app.block_ids import ActionId, BlockId
from calls_app.blocks.elements import (
    BUTTON_TEXT_LIMIT,
    Message,
    actions_block,
    button,
    context_block,
    json_object,
    mrkdwn_section,
)
from calls_app.models import Call
from calls_app.records import Person, Verb
from calls_app.text import escape_mrkdwn, format_duration, truncate
from calls_app.wording import mention

MAX_PICKER_BUTTONS = 25  # an actions block holds at most 25 elements: one page of the picker


@dataclass(frozen=True)
class CallStatus:
    title: str
    created_by: str | None
    running_seconds: int | None
    people: Sequence[Person]


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
        if (data := json_object(raw)) is None:
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
