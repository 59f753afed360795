"""Slack's rate limits, kept per workspace and method, so waiting on one never blocks another.

Slack counts requests per method, per app, per workspace, per minute. Background work (the
outbox, the reconciler) paces itself below each tier, leaving room for people's actions; a
429 closes that method for that workspace until its Retry-After, for everyone in this process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
# Requests per minute per workspace (Slack's tiers: 2 = 20, 3 = 50, 4 = 100).
TIERS: dict[str, int] = {
    "calls.add": 20,
    "calls.end": 50,
    "calls.info": 50,
    "calls.update": 50,
    "calls.participants.add": 50,
    "calls.participants.remove": 50,
    "chat.update": 50,
    "chat.delete": 50,
    "conversations.info": 50,
    "conversations.members": 50,
    "users.info": 50,
    "views.publish": 100,
    "views.open": 100,
    "views.update": 100,
}
# What background work may use of a tier: the rest stays free for people's actions.
BACKGROUND_SHARE = 0.8
# The reconciler's checks use less still: they must never crowd out the outbox.
CHECKS_SHARE = 0.3


class RateLimits:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._closed_until: dict[tuple[str, str], float] = {}

    def take(self, team_id: str, method: str, *, share: float | None = None) -> float:
        """Count one request now and return 0, or return how many seconds to wait first
        (nothing counted). Without `share`, only a 429's Retry-After makes it wait."""
        key = (team_id, method)
        now = self._clock()
        with self._lock:
            closed = self._closed_until.get(key, 0.0) - now
            if closed > 0:
                return closed
            sent = self._sent.setdefault(key, deque())
            while sent and sent[0] <= now - WINDOW_SECONDS:
                sent.popleft()
            tier = TIERS.get(method)
            if share is not None and tier is not None:
                allowed = max(1, math.floor(tier * share))
                if len(sent) >= allowed:
                    return sent[len(sent) - allowed] + WINDOW_SECONDS - now
            sent.append(now)
            return 0.0

    def refused(self, team_id: str, method: str, retry_after: float) -> None:
        """Slack answered 429: nothing more of this method for this workspace until then."""
        with self._lock:
            key = (team_id, method)
            until = self._clock() + retry_after
            self._closed_until[key] = max(self._closed_until.get(key, 0.0), until)
