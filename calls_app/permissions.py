"""Who may end or rename a call: its starter, or a workspace admin or owner."""

from __future__ import annotations

import threading
import time

from calls_app.models import Call
from calls_app.slack_gateway import SlackGateway


class AdminCache:
    """Who is a workspace admin, remembered for a while: users.info only when a non-starter acts."""

    def __init__(self, ttl_seconds: float = 300.0) -> None:
        self._ttl = ttl_seconds
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def is_admin(self, team_id: str, user_id: str, lookup: SlackGateway) -> bool:
        key = (team_id, user_id)
        with self._lock:
            known = self._known.get(key)
        if known and known[1] > time.monotonic():
            return known[0]
        admin = lookup.user_is_admin(user_id)
        with self._lock:
            self._known[key] = (admin, time.monotonic() + self._ttl)
        return admin


def may_host(
    admins: AdminCache, slack: SlackGateway, *, team_id: str, user_id: str, call: Call
) -> bool:
    return user_id == call.created_by or admins.is_admin(team_id, user_id, slack)
