"""The local Slack's page, rendered on the server: who you are, the channels, the conversation
open (or the app's Home and Messages tabs), and the modal on top, if any.

``regions`` is what the page's script polls for: the parts that change without a click.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from local_slack.blockkit_html import Surface, attr, avatar_html, blocks_html, hidden_fields
from local_slack.meeting import Meeting
from local_slack.modal_html import modal_html
from local_slack.mrkdwn_html import mrkdwn, plain_text
from local_slack.timeline import Entry, PostedMessage, Timeline
from local_slack.web_api import FakeSlack
from local_slack.web_api.state import FakeCall, FakeMessage
from local_slack.workspace import SLACKBOT, Workspace

APP = "app"  # `at` for the app's page (tabs Home and Messages)
TABS = ("home", "messages")


@dataclass(frozen=True)
class Screen:
    """What a person is looking at: who they are, where (a channel or the app), which tab."""

    viewer: str
    at: str
    tab: str = "home"

    def params(self) -> dict[str, str]:
        return {"as": self.viewer, "at": self.at, "tab": self.tab}

    def url(self, **changes: str) -> str:
        return "/?" + urlencode({**self.params(), **changes})

    @property
    def conversation(self) -> str:
        """The conversation the Message box posts in: a channel, or the app's DM."""
        return "D" + self.viewer if self.at == APP else self.at


def version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def screen_from(query: Mapping[str, str], workspace: Workspace) -> Screen:
    """The screen a query asks for; anything unknown falls back to the first of its kind."""
    viewer = query.get("as", "")
    if workspace.person(viewer) is None:
        viewer = workspace.people[0].id
    at = query.get("at", "")
    if at != APP and workspace.channel(at) is None:
        at = workspace.channels[0].id
    tab = query.get("tab", "") if query.get("tab") in TABS else TABS[0]
    return Screen(viewer, at, tab)


class Pages:
    def __init__(
        self,
        fake: FakeSlack,
        workspace: Workspace,
        timeline: Timeline,
        meeting: Meeting | None = None,
    ) -> None:
        self._fake = fake
        self._workspace = workspace
        self._timeline = timeline
        self._meeting = meeting

    def full(self, screen: Screen) -> str:
        regions = self.regions(screen)
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{plain_text(self._title(screen))} · Local Slack</title>"
            '<link rel="stylesheet" href="/static/page.css">'
            '<script src="/static/page.js" defer></script></head>'
            f'<body data-state="/state?{attr(urlencode(screen.params()))}">'
            f"{self._top(screen)}"
            f'<div class="layout">{self._sidebar(screen)}<div class="pane">'
            f'<main id="main" data-version="{version(regions["main"])}">{regions["main"]}</main>'
            f"{self._composer(screen)}</div></div>"
            f'<div id="modal" data-version="{version(regions["modal"])}">{regions["modal"]}</div>'
            "</body></html>"
        )

    def call(self, call_id: str) -> FakeCall | None:
        return self._fake.calls.get(call_id)

    def regions(self, screen: Screen) -> dict[str, str]:
        """The parts of the page that change by themselves, by element id."""
        main = self._app_page(screen) if screen.at == APP else self._channel(screen)
        return {"main": main, "modal": self._modal(screen)}

    def state(self, screen: Screen) -> dict[str, dict[str, str]]:
        """The regions with a version each: the script replaces only those that changed."""
        return {
            name: {"version": version(html), "html": html}
            for name, html in self.regions(screen).items()
        }

    # ---------------------------------------------------------------- frame

    def _title(self, screen: Screen) -> str:
        if screen.at == APP:
            return self._workspace.app_name
        channel = self._workspace.channel(screen.at)
        return f"#{channel.name}" if channel else screen.at

    def _top(self, screen: Screen) -> str:
        options = "".join(
            f'<option value="{attr(p.id)}"{" selected" if p.id == screen.viewer else ""}>'
            f"{plain_text(p.name)}{' (admin)' if p.is_admin else ''}</option>"
            for p in self._workspace.people
        )
        keep = hidden_fields({"at": screen.at, "tab": screen.tab})
        return (
            '<header class="top"><div class="brand">Local Slack · '
            f"{plain_text(self._workspace.name)}</div>"
            f'<form class="you" method="get" action="/">{keep}'
            f'<label for="you">You are</label><select id="you" name="as">{options}</select>'
            '<noscript><button class="btn">Switch</button></noscript></form></header>'
        )

    def _sidebar(self, screen: Screen) -> str:
        channels = "".join(
            f'<li><a href="{attr(screen.url(at=c.id, tab="home"))}"'
            f"{' aria-current=page' if c.id == screen.at else ''}># {plain_text(c.name)}</a></li>"
            for c in self._workspace.channels
        )
        app_current = " aria-current=page" if screen.at == APP else ""
        app_link = attr(screen.url(at=APP, tab="home"))
        return (
            '<nav class="sidebar" aria-label="Conversations">'
            f"<h2>Channels</h2><ul>{channels}</ul><h2>Apps</h2><ul>"
            f'<li><a href="{app_link}"{app_current}>{plain_text(self._workspace.app_name)}</a>'
            "</li></ul></nav>"
        )

    def _composer(self, screen: Screen) -> str:
        if screen.at == APP and screen.tab != "messages":
            return ""
        where = f"#{self._title(screen).lstrip('#')}" if screen.at != APP else "calls-app"
        return (
            f'<form class="composer" method="post" action="/message">'
            f"{hidden_fields(screen.params())}"
            f'<input id="composer" name="text" aria-label="Message" autocomplete="off" '
            f'placeholder="Message {attr(where)} — try /call start Standup @ben">'
            "</form>"
        )

    # ---------------------------------------------------------------- conversations

    def _channel(self, screen: Screen) -> str:
        channel = self._workspace.channel(screen.at)
        note = ""
        if channel is not None and not channel.app_is_member:
            note = (
                f'<p class="note">{plain_text(self._workspace.app_name)} is not in this channel '
                "(nobody has invited it yet).</p>"
            )
        return (
            f'<h1 class="conversation-title">{plain_text(self._title(screen))}</h1>{note}'
            f"{self._conversation(screen, screen.at)}"
        )

    def _app_page(self, screen: Screen) -> str:
        tabs = "".join(
            f'<a href="{attr(screen.url(tab=tab))}" role="tab" '
            f'aria-selected="{"true" if tab == screen.tab else "false"}">{tab.title()}</a>'
            for tab in TABS
        )
        if screen.tab == "messages":
            body = self._conversation(screen, screen.conversation)
        else:
            body = self._home(screen)
        return (
            f'<h1 class="conversation-title">{plain_text(self._workspace.app_name)}</h1>'
            f'<div class="tabs" role="tablist">{tabs}</div>{body}'
        )

    def _home(self, screen: Screen) -> str:
        home = self._fake.home_of(screen.viewer, team_id=self._workspace.team_id)
        if home is None:
            return '<div class="home"><p class="note">Loading the Home tab…</p></div>'
        surface = self._surface(screen, f"view:{home['id']}")
        return f'<div class="home">{blocks_html(home.get("blocks", []), surface)}</div>'

    def _conversation(self, screen: Screen, channel: str) -> str:
        posted = {m.ts: m for m in self._fake.messages_in(channel)}
        items = []
        for item in self._timeline.conversation(channel, screen.viewer):
            if isinstance(item, PostedMessage):
                message = posted.get(item.ts)
                if message is not None:
                    items.append(self._posted(screen, message))
            else:
                items.append(self._entry(screen, item))
        if not items:
            items.append('<li class="empty">No messages yet.</li>')
        return f'<ol class="timeline" aria-label="Messages">{"".join(items)}</ol>'

    def _posted(self, screen: Screen, message: FakeMessage) -> str:
        surface = self._surface(screen, f"message:{message.channel}:{message.ts}")
        body = self._content(message.text or "", message.blocks, surface)
        when = datetime.fromtimestamp(float(message.ts), UTC)
        return self._item(self._workspace.bot_user_id, when, body, private=False)

    def _entry(self, screen: Screen, entry: Entry) -> str:
        surface = self._surface(screen, f"entry:{entry.id}")
        body = self._content(entry.text, entry.blocks, surface)
        when = datetime.fromtimestamp(entry.at, UTC)
        private = entry.for_user is not None
        note = ""
        if entry.command:
            command = plain_text(entry.command)
            note = f'<div class="in-reply">in reply to <code>{command}</code></div>'
        return self._item(entry.author, when, note + body, private=private)

    def _content(self, text: str, message_blocks: list[dict] | None, surface: Surface) -> str:
        if message_blocks:
            return blocks_html(message_blocks, surface)
        return (
            '<div class="block section">'
            f"{mrkdwn(text, user_name=self._workspace.name_of, channel_name=self._channel_name)}"
            "</div>"
        )

    def _item(self, author: str, when: datetime, body: str, *, private: bool) -> str:
        name = self._workspace.name_of(author)
        badge = (
            '<span class="badge">APP</span>'
            if author in (self._workspace.bot_user_id, SLACKBOT)
            else ""
        )
        only_you = '<span class="only-you">Only visible to you</span>' if private else ""
        return (
            f'<li class="item{" private" if private else ""}">{avatar_html(name)}'
            f'<div class="item-body"><div class="meta"><span class="author">'
            f"{plain_text(name)}</span>{badge}"
            f'<time datetime="{when.isoformat()}">{when:%H:%M}</time>{only_you}</div>'
            f"{body}</div></li>"
        )

    # ---------------------------------------------------------------- modal

    def _modal(self, screen: Screen) -> str:
        modal = self._timeline.modal_of(screen.viewer)
        view = self._fake.view(modal.view_id) if modal else None
        if modal is None or view is None:
            return ""
        return modal_html(view, modal, self._surface(screen, f"view:{view['id']}"))

    # ---------------------------------------------------------------- helpers

    def _surface(self, screen: Screen, container: str) -> Surface:
        return Surface(
            workspace=self._workspace,
            calls=self._fake.calls,
            page=screen.params(),
            container=container,
            call_controls=self._call_controls(screen),
        )

    def _call_controls(self, screen: Screen):
        meeting = self._meeting
        if meeting is None:
            return None
        return lambda call: meeting.controls_html(call, screen.viewer, screen.params())

    def _channel_name(self, channel_id: str) -> str:
        channel = self._workspace.channel(channel_id)
        return channel.name if channel else channel_id
