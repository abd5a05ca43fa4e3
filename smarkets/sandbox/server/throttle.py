"""Throttling as backpressure: each session's budget of application payloads.

Every session has a token bucket (``throttle_rate`` application payloads per second,
``throttle_burst`` at most). When a client outruns it, the server sends one eto
THROTTLE_EXCEEDED notice (an extension kind: only to a session granted extensions) and stops
reading from the connection until the bucket has refilled: backpressure through TCP, never a
dropped or reordered request. The debt a burst runs into is one bucket at most, so that the
pause stays short.

:class:`Throttle` decides (plain: it reads no clock, every call takes ``now``); the stream
shell (:mod:`~smarkets.sandbox.server.stream`) sends the notice and pauses the reading.
"""

from __future__ import annotations

__all__ = ["Throttle", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` held; a take may run into debt.

    The debt is at most one ``burst``: a read may carry thousands of requests at once (all
    served), and the wait it earns must stay short, or the session, not read meanwhile,
    would end on its own heartbeat timeout (and a resume of it would wait as long).
    """

    __slots__ = ("_last", "burst", "rate", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self._last = now

    def refill(self, now: float) -> float:
        """Add what accrued since the last call; return the tokens now held."""
        elapsed = now - self._last
        self._last = now
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        return self.tokens

    def take(self, count: int, now: float) -> bool:
        """Take ``count`` tokens (going into debt, of one burst at most); False if in debt."""
        self.refill(now)
        self.tokens = max(self.tokens - count, -self.burst)
        return self.tokens >= 0

    def time_until(self, level: float) -> float:
        """Seconds until ``level`` tokens are held (0 if they already are)."""
        missing = level - self.tokens
        return missing / self.rate if missing > 0 else 0.0


class Throttle:
    """One session's throttle: its bucket, and whether it has been told it is throttled.

    :meth:`take` for each application payload served says when a notice is due (once per
    spell of debt); :meth:`pause` after each read, and when a pause ends, says how long to
    stop reading.
    """

    __slots__ = ("bucket", "notified")

    #: Added to a pause, so that the bucket is out of debt when reading resumes.
    MARGIN = 0.001

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.bucket = TokenBucket(rate, burst, now)
        #: True from a THROTTLE_EXCEEDED notice until the bucket is out of debt.
        self.notified = False

    @property
    def rate(self) -> float:
        """Application payloads per second."""
        return self.bucket.rate

    def take(self, now: float) -> bool:
        """Count one application payload; True when a THROTTLE_EXCEEDED notice is due."""
        if self.bucket.take(1, now) or self.notified:
            return False
        self.notified = True
        return True

    def pause(self, now: float) -> float:
        """Seconds to stop reading for (0: read on; the spell of debt is then over)."""
        bucket = self.bucket
        bucket.refill(now)
        if bucket.tokens < 0:
            return bucket.time_until(0.0) + self.MARGIN
        self.notified = False
        return 0.0
