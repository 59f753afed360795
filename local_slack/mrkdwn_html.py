"""Slack's text formats as HTML: mrkdwn (bold, italic, strike, code, links, mentions, emoji) and
plain_text. Pure functions; everything that is not markup is escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

# The emoji the app uses, and a few common ones; others stay as their :code:.
EMOJI = {
    "warning": "⚠️",
    "information_source": "ℹ️",
    "white_check_mark": "✅",
    "x": "❌",
    "tada": "🎉",
    "wave": "👋",
    "telephone_receiver": "📞",
    "phone": "☎️",
    "calendar": "📅",
    "clock1": "🕐",
    "hourglass": "⌛",
    "no_entry": "⛔",
    "lock": "🔒",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "smile": "😄",
    "thumbsup": "👍",
    "+1": "👍",
}

_SPECIAL = re.compile(r"<([^<>\n]*)>")
_CODE_BLOCK = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")

Names = Callable[[str], str]  # an id (user or channel) -> the name shown


def emoji(escaped: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), escaped)


def plain_text(text: str, *, with_emoji: bool = True) -> str:
    escaped = html.escape(text, quote=False)
    return emoji(escaped) if with_emoji else escaped


def mrkdwn(text: str, *, user_name: Names, channel_name: Names) -> str:
    """``text`` as Slack shows it. Slack sends &, < and > as entities; a <…> is markup."""
    kept: list[str] = []  # HTML made already, kept out of the formatting passes

    def keep(fragment: str) -> str:
        kept.append(fragment)
        return f"\x00{len(kept) - 1}\x00"

    def code(match: re.Match, tag: str) -> str:
        return keep(f"<{tag}>{_escape(match.group(1))}</{tag}>")

    text = _CODE_BLOCK.sub(lambda m: code(m, "pre"), text)
    text = _CODE.sub(lambda m: code(m, "code"), text)
    text = _SPECIAL.sub(lambda m: keep(_special(m.group(1), user_name, channel_name)), text)
    out = _escape(text)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    out = _STRIKE.sub(r"<s>\1</s>", out)
    out = emoji(out).replace("\n", "<br>")
    # placeholders may hold placeholders (code inside a link's label does not occur in Slack)
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], out)


def _escape(text: str) -> str:
    """Slack's entities decoded, then escaped for HTML (so ``&amp;lt;`` stays visible text)."""
    return html.escape(html.unescape(text), quote=False)


def _special(inner: str, user_name: Names, channel_name: Names) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f'<span class="mention">@{_escape(user_name(target[1:]))}</span>'
    if target.startswith("#"):
        name = label or channel_name(target[1:])
        return f'<span class="mention">#{_escape(name)}</span>'
    if target.startswith("!"):
        command = target[1:]
        if command.startswith("date^"):
            return _escape(label or command)
        if command.startswith("subteam^"):
            return f'<span class="mention">{_escape(label or "@group")}</span>'
        return f'<span class="mention">@{_escape(command)}</span>'
    if re.match(r"^(https?://|mailto:)", target, re.IGNORECASE):
        href = html.escape(html.unescape(target), quote=True)
        shown = _escape(label or target)
        return f'<a href="{href}" target="_blank" rel="noopener noreferrer">{shown}</a>'
    return _escape(f"<{inner}>")
