"""A person's App Home: start a call, their active calls, their recent calls."""

from __future__ import annotations

from datetime import datetime

from calls_app import wording
from calls_app.block_ids import HOME_START_CALL, ActionId
from calls_app.blocks.call_message import join_button
from calls_app.blocks.elements import (
    BlockKit,
    actions_block,
    button,
    context_block,
    mrkdwn_section,
    plain,
)
from calls_app.models import Call
from calls_app.records import HomeCalls
from calls_app.text import format_duration

VIEW_BLOCK_LIMIT = 100


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
