"""A session's numbers and what it has sent: what makes a session resumable.

:class:`SessionState` outlives connections: a resume picks it up on a new one.
:class:`ReplayStore` keeps what was sent so a REPLAY request can be answered.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["ReplayStore", "SessionState"]


class ReplayStore:
    """What a side has sent, kept so it can answer a REPLAY request.

    Application payloads are kept as their serialised bytes; session-level
    ones only as a marker, since they are replayed as GAPFILL.  ``limit`` is
    how many payloads are kept (the oldest are dropped first; ``None`` keeps
    everything).  A replay request that reaches below what is kept cannot be
    served, and ends the session.
    """

    __slots__ = ("_first", "_items", "limit")

    def __init__(self, limit: int | None = None, first_seq: int = 1) -> None:
        self.limit = limit
        self._first = first_seq
        self._items: deque[bytes | None] = deque()

    @property
    def first_seq(self) -> int:
        """The oldest seq still kept (or the next to be added when empty)."""
        return self._first

    @property
    def next_seq(self) -> int:
        """The seq the next appended payload must have."""
        return self._first + len(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def append(self, seq: int, data: bytes | None) -> None:
        """Keep payload ``seq``: its bytes, or ``None`` for a session-level one."""
        items = self._items
        if not items:
            self._first = seq
        elif seq != self._first + len(items):
            raise ValueError(f"replay store expected seq {self.next_seq}, got {seq}")
        items.append(data)
        limit = self.limit
        if limit is not None and len(items) > limit:
            items.popleft()
            self._first += 1

    def clear(self, first_seq: int) -> None:
        """Forget everything; the next payload kept will be ``first_seq``."""
        self._items.clear()
        self._first = first_seq

    def since(self, seq: int) -> Iterator[tuple[int, bytes | None]]:
        """Yield ``(seq, bytes or None)`` for every kept payload from ``seq`` on."""
        start = max(seq - self._first, 0)
        for offset in range(start, len(self._items)):
            yield self._first + offset, self._items[offset]


@dataclass
class SessionState:
    """One session's numbering and replay store; outlives its connections.

    ``session_id`` is ``None`` until a server has assigned one.  ``inseq`` is the
    next seq expected from the peer, ``outseq`` the next seq this side sends.
    """

    session_id: str | None = None
    inseq: int = 1
    outseq: int = 1
    sent: ReplayStore = field(default_factory=ReplayStore)

    def __post_init__(self) -> None:
        if self.inseq < 1 or self.outseq < 1:
            raise ValueError(f"inseq and outseq start at 1 (got {self.inseq}, {self.outseq})")
        if not self.sent:
            self.sent.clear(first_seq=self.outseq)
