"""The throttle on its own: a token bucket, and when a session is told and paused."""

from __future__ import annotations

import pytest

from smarkets.sandbox.server.throttle import Throttle, TokenBucket


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=10, burst=5, now=0.0)
    assert all(bucket.take(1, 0.0) for _ in range(5))
    assert not bucket.take(1, 0.0)
    assert bucket.time_until(0.0) == pytest.approx(0.1)
    assert bucket.refill(1.0) == 5  # capped at the burst


def test_the_debt_is_one_burst_at_most() -> None:
    bucket = TokenBucket(rate=10, burst=5, now=0.0)
    for _ in range(1000):
        bucket.take(1, 0.0)
    assert bucket.tokens == -5
    assert bucket.time_until(0.0) == pytest.approx(0.5)


def test_one_notice_per_spell_of_debt() -> None:
    throttle = Throttle(rate=100, burst=10, now=0.0)
    notices = [throttle.take(0.0) for _ in range(30)]
    assert notices == [False] * 10 + [True] + [False] * 19
    # In debt (10 tokens short, 20 more taken at most): stop reading until it is paid.
    assert throttle.pause(0.0) == pytest.approx(0.1 + Throttle.MARGIN)
    assert throttle.notified
    assert throttle.pause(0.05) == pytest.approx(0.05 + Throttle.MARGIN)
    # Paid off: read on, and the next spell of debt is told again.
    assert throttle.pause(0.11) == 0.0
    assert not throttle.notified
    notices = [throttle.take(0.11) for _ in range(3)]
    assert notices == [False, True, False]


def test_within_the_rate_nothing_is_said_and_nothing_paused() -> None:
    throttle = Throttle(rate=100, burst=2, now=0.0)
    for step in range(1, 1000):
        assert not throttle.take(step / 100)
        assert throttle.pause(step / 100) == 0.0
    assert throttle.rate == 100
