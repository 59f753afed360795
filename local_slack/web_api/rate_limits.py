"""Slack's rate tiers, per method and workspace (or channel): a sliding window on the fake's
clock, refusing with HTTP 429 + Retry-After as Slack does."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from local_slack.web_api.errors import SlackError


@dataclass(frozen=True)
class RateLimit:
    """At most ``calls`` requests in any ``seconds``-long window, counted per workspace, or per
    channel of a workspace when ``per_channel`` (the request's ``channel`` argument)."""

    calls: int
    seconds: float = 60.0
    per_channel: bool = False


TIER_2 = RateLimit(20)  # "20+ per minute"
TIER_3 = RateLimit(50)  # "50+ per minute, sporadic bursts"
TIER_4 = RateLimit(100)  # "100+ per minute"
# chat.postMessage: "one message per second per channel" with bursts of a few (here 3 at once,
# then one a second), and a workspace-wide limit Slack puts at "several hundred per minute".
POST_MESSAGE_BURST = 3
POST_MESSAGE_PER_CHANNEL = RateLimit(
    POST_MESSAGE_BURST, seconds=float(POST_MESSAGE_BURST), per_channel=True
)
POST_MESSAGE_PER_WORKSPACE = RateLimit(300)

# Slack's limits for the methods the app uses. Where sources disagree (Slack's method pages vs
# the project's Slack notes) the stricter wins, since a fake kinder than Slack hides bugs:
# calls.add Tier 2, users.info Tier 3. Methods not listed are not limited. Override with a dict
# of your own, e.g. ``{**SLACK_TIERS, "calls.add": 5}``; an int is calls per minute.
SLACK_TIERS: dict[str, tuple[RateLimit, ...]] = {
    "auth.test": (TIER_4,),
    "calls.add": (TIER_2,),
    "calls.end": (TIER_3,),
    "calls.info": (TIER_3,),
    "calls.update": (TIER_3,),
    "calls.participants.add": (TIER_3,),
    "calls.participants.remove": (TIER_3,),
    "chat.postMessage": (POST_MESSAGE_PER_CHANNEL, POST_MESSAGE_PER_WORKSPACE),
    "chat.postEphemeral": (TIER_4,),
    "chat.update": (TIER_3,),
    "chat.delete": (TIER_3,),
    "users.info": (TIER_3,),
    "users.lookupByEmail": (TIER_3,),
    "conversations.info": (TIER_3,),
    "conversations.members": (TIER_3,),
    "views.open": (TIER_4,),
    "views.push": (TIER_4,),
    "views.update": (TIER_4,),
    "views.publish": (TIER_4,),
}

# What a method's limits may be given as: calls per minute, one RateLimit, or several.
RateLimitSpec = int | RateLimit | Iterable[RateLimit]


class RateLimiter:
    """The limits in force and the requests each window let through. Not locked: the fake calls
    it under its own lock, before a request has any effect."""

    def __init__(self, served: Collection[str]) -> None:
        self._served = served
        self.limits: dict[str, tuple[RateLimit, ...]] = {}
        # (team, method, limit, channel or None) -> clock() of each request it let through
        self._windows: dict[tuple[str, str, RateLimit, str | None], deque[float]] = {}
        self.refused: Counter[str] = Counter()

    def table(
        self, limits: bool | Mapping[str, RateLimitSpec] | None
    ) -> dict[str, tuple[RateLimit, ...]]:
        """``limits`` as method -> its limits: True for SLACK_TIERS, None or False for none."""
        if limits is None or limits is False:
            return {}
        return {
            method: self._method_limits(method, spec)
            for method, spec in (SLACK_TIERS if limits is True else limits).items()
        }

    def _method_limits(self, method: str, spec: RateLimitSpec) -> tuple[RateLimit, ...]:
        if method not in self._served:
            raise ValueError(f"no rate limit for {method!r}: the fake does not serve it")
        if isinstance(spec, bool):
            raise TypeError(f"{method}: give calls per minute or RateLimit(...), not {spec!r}")
        if isinstance(spec, int):
            limits: tuple[RateLimit, ...] = (RateLimit(spec),)
        elif isinstance(spec, RateLimit):
            limits = (spec,)
        else:
            limits = tuple(spec)
        for limit in limits:
            if not isinstance(limit, RateLimit) or limit.calls < 1 or limit.seconds <= 0:
                raise ValueError(f"{method}: {limit!r} is not a limit of at least one call")
        return limits

    def check(
        self, team_id: str, method: str, args: dict[str, Any], clock: Callable[[], float]
    ) -> None:
        """Count this request against ``method``'s windows, or refuse it as Slack does (429,
        Retry-After) without counting it."""
        limits = self.limits.get(method)
        if not limits:
            return
        now = clock()
        windows, wait = [], None
        for limit in limits:
            channel = args.get("channel") if limit.per_channel else None
            key = (team_id, method, limit, channel if isinstance(channel, str) else None)
            window = self._windows.setdefault(key, deque())
            while window and now - window[0] >= limit.seconds:
                window.popleft()
            if len(window) >= limit.calls:
                # the window lets one more through once this request leaves it
                frees_at = window[len(window) - limit.calls] + limit.seconds
                wait = max(wait or 0.0, frees_at - now)
            windows.append(window)
        if wait is not None:
            self.refused[method] += 1
            retry_after = max(1, math.ceil(wait))
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        for window in windows:
            window.append(now)
