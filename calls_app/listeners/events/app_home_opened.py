"""Opening the Home tab publishes it fresh."""

from __future__ import annotations

import logging

from slack_bolt import BoltContext

from calls_app.errors import SlackFailure
from calls_app.listeners.replies import actor_from, home_service, work_queue

log = logging.getLogger(__name__)


def handle_app_home_opened(event: dict, context: BoltContext) -> None:
    if event.get("tab") != "home":
        return
    actor, home = actor_from(context), home_service(context)

    def publish() -> None:
        try:
            home.opened(team_id=actor.team_id, user_id=actor.user_id)
        except SlackFailure:
            log.warning("Home of %s could not be published", actor.user_id)

    if not work_queue(context).submit(publish):
        log.warning("busy: Home of %s not published", actor.user_id)
