"""Block Kit as HTML, the way Slack shows it: sections, headers, context, dividers, images (as
their alt text: the page works offline), actions with real buttons, and the ``call`` block as a
live call card. Modal inputs are in ``modal_html``.

A button is a one-button form naming where it is (``surface.container`` and the element's
place) — never its value: the local Slack reads the element from what the app sent, as Slack
does, so a page cannot press a button the app never showed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from local_slack.mrkdwn_html import mrkdwn, plain_text
from local_slack.web_api.state import FakeCall
from local_slack.workspace import Workspace

# a handset, drawn: emoji fonts are not everywhere (headless browsers, minimal desktops)
PHONE_ICON = (
    '<svg class="call-icon" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">'
    '<path fill="currentColor" d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25'
    " 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5"
    'a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"/></svg>'
)


@dataclass(frozen=True)
class Surface:
    """Where blocks are shown: for whom, which page to come back to, which container."""

    workspace: Workspace
    calls: Mapping[str, FakeCall]
    page: Mapping[str, str]  # the page's own parameters (as, at, tab), carried by every form
    container: str  # "message:<channel>:<ts>", "entry:<id>" or "view:<view id>"
    # the demo's own controls under a call card (not Slack's): local_slack/meeting.py
    call_controls: Callable[[FakeCall], str] | None = None


def attr(value: str) -> str:
    return html.escape(value, quote=True)


def hidden_fields(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{attr(name)}" value="{attr(value)}">'
        for name, value in fields.items()
    )


def text_html(text: object, surface: Surface) -> str:
    """A text object (plain_text or mrkdwn)."""
    if not isinstance(text, dict):
        return ""
    raw = str(text.get("text", ""))
    if text.get("type") == "mrkdwn":
        return mrkdwn(
            raw,
            user_name=surface.workspace.name_of,
            channel_name=lambda channel_id: _channel_name(surface.workspace, channel_id),
        )
    return plain_text(raw, with_emoji=text.get("emoji", True) is not False)


def _channel_name(workspace: Workspace, channel_id: str) -> str:
    channel = workspace.channel(channel_id)
    return channel.name if channel else channel_id


def blocks_html(blocks: list[dict], surface: Surface) -> str:
    return "".join(block_html(block, index, surface) for index, block in enumerate(blocks))


def block_html(block: dict, index: int, surface: Surface) -> str:
    kind = block.get("type")
    if kind == "section":
        return _section(block, index, surface)
    if kind == "header":
        return f'<h3 class="block header">{text_html(block.get("text"), surface)}</h3>'
    if kind == "context":
        parts = [
            _image(element) if element.get("type") == "image" else text_html(element, surface)
            for element in block.get("elements", [])
        ]
        return f'<div class="block context">{" ".join(parts)}</div>'
    if kind == "divider":
        return '<hr class="block divider">'
    if kind == "actions":
        elements = [
            element_html(element, f"{index}.{position}", surface)
            for position, element in enumerate(block.get("elements", []))
        ]
        return f'<div class="block actions">{"".join(elements)}</div>'
    if kind == "call":
        return call_card_html(block.get("call_id", ""), surface)
    if kind == "image":
        return f'<div class="block image">{_image(block)}</div>'
    if kind == "rich_text":
        return f'<div class="block section">{plain_text(_rich_text(block))}</div>'
    return f'<div class="block unsupported">[{attr(str(kind))} block]</div>'


def _section(block: dict, index: int, surface: Surface) -> str:
    parts = []
    if "text" in block:
        parts.append(f'<div class="section-text">{text_html(block["text"], surface)}</div>')
    if block.get("fields"):
        fields = "".join(
            f'<div class="field">{text_html(field, surface)}</div>' for field in block["fields"]
        )
        parts.append(f'<div class="fields">{fields}</div>')
    if "accessory" in block:
        accessory = element_html(block["accessory"], f"{index}.accessory", surface)
        parts.append(f'<div class="accessory">{accessory}</div>')
    return f'<div class="block section">{"".join(parts)}</div>'


def _image(element: dict) -> str:
    alt = str(element.get("alt_text", "image"))
    return f'<span class="image" role="img" aria-label="{attr(alt)}">🖼 {plain_text(alt)}</span>'


def _rich_text(node: object) -> str:
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            return node["text"]
        return "".join(_rich_text(child) for child in node.get("elements", []))
    return ""


def element_html(element: dict, place: str, surface: Surface) -> str:
    """An interactive element; buttons press, others are shown for what they are."""
    if element.get("type") != "button":
        return f'<span class="unsupported">[{attr(str(element.get("type")))}]</span>'
    style = element.get("style")
    classes = "btn" + (f" {style}" if style in ("primary", "danger") else "")
    url = element.get("url")
    opens = f' data-url="{attr(url)}"' if isinstance(url, str) else ""
    fields = hidden_fields({**surface.page, "container": surface.container, "element": place})
    label = text_html(element.get("text"), surface)
    return (
        f'<form class="press" method="post" action="/press">{fields}'
        f'<button type="submit" class="{classes}"{opens}>{label}</button></form>'
    )


def call_card_html(call_id: str, surface: Surface) -> str:
    """Slack's card for a call registered with calls.add: title, time, who is in it, Join."""
    call = surface.calls.get(call_id)
    if call is None:
        return '<div class="block call-card">This call is not available.</div>'
    title = plain_text(call.title or "Call")
    starter = surface.workspace.name_of(call.created_by) if call.created_by else "someone"
    people = "".join(_participant(user, surface.workspace) for user in call.users)
    people_list = (
        f'<ul class="call-people" aria-label="In the call">{people}</ul>'
        if people
        else '<p class="call-empty">Nobody is in the call.</p>'
    )
    if call.ended:
        status = f'Call ended · lasted <span class="duration">{clock(call.duration or 0)}</span>'
        join = ""
        state = "ended"
    else:
        status = f'Live · <span class="ticker" data-since="{int(call.date_start)}"></span>'
        join = (
            f'<a class="btn primary call-join" href="{attr(call.join_url)}" target="_blank" '
            f'rel="noopener noreferrer">Join</a>'
        )
        state = "live"
    controls = surface.call_controls(call) if surface.call_controls else ""
    return (
        f'<div class="block call-card {state}" data-call-id="{attr(call.id)}">'
        f'<div class="call-head">{PHONE_ICON}'
        f'<div><div class="call-title">{title}</div>'
        f'<div class="call-status">{status} · started by {plain_text(starter)}</div></div>'
        f"{join}</div>{people_list}</div>{controls}"
    )


def _participant(user: dict, workspace: Workspace) -> str:
    if "slack_id" in user:
        name = workspace.name_of(user["slack_id"])
    else:
        name = str(user.get("display_name") or user.get("external_id") or "guest")
    return f'<li>{avatar_html(name)}<span class="name">{plain_text(name)}</span></li>'


def avatar_html(name: str) -> str:
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    hue = sum(map(ord, name)) % 360
    return (
        f'<span class="avatar" style="--hue:{hue}" aria-hidden="true">'
        f"{html.escape(initials)}</span>"
    )


def clock(seconds: int) -> str:
    """A call's length as Slack shows it: 4:05, 1:02:03."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
