"""`app_uninstalled` and `tokens_revoked`: forget the workspace's tokens, close its calls;
`team_access_revoked` (an organization-wide install): close the calls of the workspaces
it no longer reaches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext

from calls_app.uninstalls import Uninstalls


def app_uninstalled_handler(uninstalls: Uninstalls) -> Callable[..., None]:
    def handle_app_uninstalled(context: BoltContext) -> None:
        uninstalls.app_uninstalled(team_id=context.team_id, enterprise_id=context.enterprise_id)

    return handle_app_uninstalled


def tokens_revoked_handler(uninstalls: Uninstalls) -> Callable[..., None]:
    def handle_tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
        tokens = event.get("tokens", {})
        uninstalls.tokens_revoked(
            team_id=context.team_id,
            enterprise_id=context.enterprise_id,
            user_ids=list(tokens.get("oauth", [])),
            bot_revoked=bool(tokens.get("bot")),
        )

    return handle_tokens_revoked


def team_access_revoked_handler(uninstalls: Uninstalls) -> Callable[..., None]:
    def handle_team_access_revoked(event: dict[str, Any]) -> None:
        uninstalls.team_access_revoked(team_ids=list(event.get("team_ids") or []))

    return handle_team_access_revoked
