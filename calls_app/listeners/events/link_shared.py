"""A meeting link pasted (or being typed) in Slack: shown as a live call (calls_app/unfurls.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext

from calls_app.listeners.replies import actor_from, work_queue
from calls_app.unfurls import LinkUnfurls

log = logging.getLogger(__name__)


def handle_link_shared(event: dict[str, Any], context: BoltContext) -> None:
    links = [
        link["url"]
        for link in event.get("links") or []
        if isinstance(link, dict) and isinstance(link.get("url"), str)
    ]
    unfurls: LinkUnfurls = context["unfurls"]
    if not unfurls.meeting_links(links):
        return  # other hosts' links: nothing to do, no work queued
    actor = actor_from(context)

    def unfurl() -> None:
        unfurls.unfurl(
            actor,
            links=links,
            channel_id=event.get("channel"),
            message_ts=event.get("message_ts"),
            unfurl_id=event.get("unfurl_id"),
            source=event.get("source"),
        )

    if not work_queue(context).submit(unfurl):
        log.warning("a pasted meeting link was not unfurled: the app is busy")
