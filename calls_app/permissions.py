"""Who may end or rename a call: its starter, or an admin or owner of the call's workspace."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from calls_app.clock import Clock
from calls_app.models import Call
from calls_app.slack_gateway import SlackGateway, UserRoles

# A demoted admin keeps their rights here no longer than this.
ADMIN_CACHE_TTL = timedelta(seconds=60)


def administers(roles: UserRoles, *, team_id: str, enterprise_id: str | None) -> bool:
    """Whether users.info makes the person an admin or owner of this workspace. Someone of
    another workspace (a Slack Connect guest from another organization) is not, whatever
    their roles there."""
    if roles.team_id == team_id:
        return roles.workspace_admin
    if enterprise_id is None or roles.enterprise_id != enterprise_id:
        return False
    # Same Grid org: org admins run all its workspaces, others those enterprise_user.teams lists.
    return roles.org_admin or (roles.workspace_admin and team_id in roles.enterprise_teams)


class AdminCache:
    """Who administers which workspace, remembered a short while: users.info only when a
    non-starter acts."""

    def __init__(self, *, clock: Clock, ttl: timedelta = ADMIN_CACHE_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._known: dict[tuple[str, str], tuple[bool, datetime]] = {}
        self._lock = threading.Lock()

    def is_admin(
        self, *, team_id: str, enterprise_id: str | None, user_id: str, lookup: SlackGateway
    ) -> bool:
        key = (team_id, user_id)
        with self._lock:
            known = self._known.get(key)
        if known and known[1] > self._clock():
            return known[0]
        roles = lookup.user_roles(user_id)
        admin = administers(roles, team_id=team_id, enterprise_id=enterprise_id)
        with self._lock:
            self._known[key] = (admin, self._clock() + self._ttl)
        return admin


def may_host(
    admins: AdminCache, slack: SlackGateway, *, team_id: str, user_id: str, call: Call
) -> bool:
    """The starter, or an admin or owner of the acting workspace (`team_id`, the call's)."""
    return user_id == call.created_by or admins.is_admin(
        team_id=team_id, enterprise_id=call.enterprise_id, user_id=user_id, lookup=slack
    )
