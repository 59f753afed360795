"""A workspace removing the app: its tokens go, and its live calls are closed in our records
(Slack can no longer be told: the token is gone with the install)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.oauth.installation_store import InstallationStore

from calls_app.clock import Clock
from calls_app.models import EndReason
from calls_app.store.ending import EndingStore

log = logging.getLogger(__name__)


@dataclass
class Uninstalls:
    store: EndingStore
    installs: InstallationStore | None  # None: one bot token from the environment
    clock: Clock

    def app_uninstalled(self, *, team_id: str | None, enterprise_id: str | None) -> None:
        if self.installs is not None:
            self.installs.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self._close_calls(team_id=team_id, enterprise_id=enterprise_id)

    def tokens_revoked(
        self,
        *,
        team_id: str | None,
        enterprise_id: str | None,
        user_ids: list[str],
        bot_revoked: bool,
    ) -> None:
        if self.installs is not None:
            for user_id in user_ids:
                self.installs.delete_installation(
                    enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
                )
            if bot_revoked:
                self.installs.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot_revoked:
            self._close_calls(team_id=team_id, enterprise_id=enterprise_id)

    def team_access_revoked(self, *, team_ids: list[str]) -> None:
        """Workspaces taken out of an organization-wide install: the install stays, their
        calls are closed (the token no longer reaches them)."""
        for team_id in team_ids:
            self._close_calls(team_id=team_id, enterprise_id=None)

    def _close_calls(self, *, team_id: str | None, enterprise_id: str | None) -> None:
        """A workspace's calls; with no workspace named, an organization-wide install's: the
        calls of every workspace of the organization."""
        if team_id is None and enterprise_id is None:
            return
        closed = self.store.close_live_calls(
            team_id=team_id,
            enterprise_id=enterprise_id,
            at=self.clock(),
            reason=EndReason.UNINSTALLED,
        )
        log.info("%s removed the app: %d live call(s) closed", team_id or enterprise_id, closed)
