"""RateLimits: per workspace and method, background work paced below a tier, 429s obeyed."""

from __future__ import annotations

import pytest

from calls_app.rate_limits import TIERS, RateLimits


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def test_background_work_takes_its_share_of_a_tier_then_waits_for_the_window(ticks):
    limits = RateLimits(ticks)
    allowed = int(TIERS["calls.participants.add"] * 0.8)
    waits = [limits.take("T1", "calls.participants.add", share=0.8) for _ in range(allowed)]
    assert waits == [0.0] * allowed
    ticks.now += 10
    assert limits.take("T1", "calls.participants.add", share=0.8) == pytest.approx(50.0)
    ticks.now += 50
    assert limits.take("T1", "calls.participants.add", share=0.8) == 0.0  # the first slid out


def test_each_workspace_and_method_has_its_own_window(ticks):
    limits = RateLimits(ticks)
    for _ in range(40):
        limits.take("T1", "calls.participants.add", share=0.8)
    assert limits.take("T1", "calls.participants.add", share=0.8) > 0
    assert limits.take("T2", "calls.participants.add", share=0.8) == 0.0
    assert limits.take("T1", "views.publish", share=0.8) == 0.0


def test_a_persons_action_is_counted_but_only_a_429_holds_it(ticks):
    limits = RateLimits(ticks)
    for _ in range(100):
        assert limits.take("T1", "calls.end") == 0.0
    # …and their requests leave background work less of the window.
    assert limits.take("T1", "calls.end", share=0.8) > 0


def test_a_429_closes_the_method_for_that_workspace_until_retry_after(ticks):
    limits = RateLimits(ticks)
    limits.refused("T1", "calls.add", 30)
    assert limits.take("T1", "calls.add") == pytest.approx(30.0)
    assert limits.take("T1", "calls.add", share=0.8) == pytest.approx(30.0)
    assert limits.take("T1", "calls.end") == 0.0
    assert limits.take("T2", "calls.add") == 0.0
    ticks.now += 30
    assert limits.take("T1", "calls.add") == 0.0


def test_a_method_slack_puts_in_no_tier_is_never_paced(ticks):
    limits = RateLimits(ticks)
    assert all(limits.take("T1", "chat.postMessage", share=0.1) == 0.0 for _ in range(500))
