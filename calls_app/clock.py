"""The one clock the app reads, injectable so tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def whole_seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))
