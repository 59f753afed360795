"""How many calls may run at once: a bound on what one channel or one person can make the app
do (a status asks Slack about each call of a channel; a picker lists them)."""

from __future__ import annotations

from dataclasses import dataclass

from calls_app.errors import TooManyCalls


@dataclass(frozen=True)
class CallLimits:
    per_channel: int = 10  # CALLS_MAX_LIVE_PER_CHANNEL
    per_person: int = 5  # CALLS_MAX_LIVE_PER_PERSON

    def check_start(self, *, in_channel: int, by_person: int) -> None:
        """Refuse a start when the channel or the person already runs as many as allowed."""
        if in_channel >= self.per_channel:
            raise TooManyCalls.in_channel(self.per_channel)
        if by_person >= self.per_person:
            raise TooManyCalls.by_person(self.per_person)
