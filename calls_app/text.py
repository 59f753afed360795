"""Small text helpers shared by parsing and Block Kit."""

from __future__ import annotations


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape_mrkdwn(text: str) -> str:
    """User text inside mrkdwn: `<!channel>` must show as text, never notify anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_duration(seconds: int) -> str:
    """How long a call lasted, as people say it: "45 sec", "12 min", "1 h 5 min"."""
    if seconds < 60:
        return f"{seconds} sec"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
