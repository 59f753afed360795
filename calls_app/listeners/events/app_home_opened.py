"""Opening the Home tab publishes it fresh."""

from __future__ import annotations

import logging

from slack_bolt import BoltContext

from calls_app.errors import SlackFailure
from calls_app.listeners.replies import actor_from, home_service

log = logging.getLogger(__name__)


def handle_app_home_opened(event: dict, context: BoltContext) -> None:
    if event.get("tab") != "home":
        return
    actor = actor_from(context)
    try:
        home_service(context).opened(team_id=actor.team_id, user_id=actor.user_id)
    except SlackFailure:
        log.warning("Home of %s could not be published", actor.user_id)
