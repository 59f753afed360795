"""Slack's `link_shared` events for a pasted link: while it is typed in the composer, and once
its message is posted."""

from __future__ import annotations

import time

from tests.support.workspace import BOB, GENERAL

MESSAGE_TS = "1700000000.000200"


def typed(*urls: str, user: str = BOB) -> dict:
    """link_shared while the link is still in the composer."""
    return {
        "type": "link_shared",
        "channel": "COMPOSER",
        "is_bot_user_member": True,
        "user": user,
        "message_ts": "Uxxxxxxx-909b5454-75f8-4ac4-b325-1b40e230bbd8-gryl3kb80b3wm",
        "unfurl_id": "C123456.123456789.abcdef",
        "source": "composer",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        "event_ts": f"{time.time():.6f}",
    }


def posted(*urls: str, user: str = BOB, ts: str = MESSAGE_TS) -> dict:
    """link_shared once the message is posted."""
    return {
        "type": "link_shared",
        "channel": GENERAL,
        "is_bot_user_member": True,
        "user": user,
        "message_ts": ts,
        "thread_ts": None,
        "source": "conversations_history",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        "event_ts": f"{time.time():.6f}",
    }
