"""Opening the Home tab publishes it fresh (through the outbox: see HomeService.opened)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from calls_app.listeners.replies import actor_from, home_service


def handle_app_home_opened(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab") != "home":
        return
    actor = actor_from(context)
    home_service(context).opened(
        team_id=actor.team_id, enterprise_id=actor.enterprise_id, user_id=actor.user_id
    )
