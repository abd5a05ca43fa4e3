"""One connection, bytes in and bytes out: the object every shell drives.

A :class:`Connection` is the session rules (:class:`~smarkets.protocol.core.SessionCore`)
with the framing (:class:`~smarkets.protocol.framing.FrameDecoder`) in front of them, in
the manner of ``h11``: the shell feeds it what it read with :meth:`~Connection.receive_data`
and acts on the events returned, hands it what the application sends with
:meth:`~SessionCore.send`, writes out :meth:`~Connection.data_to_send`, and calls
:meth:`~SessionCore.tick` when :meth:`~SessionCore.next_deadline` passes. It never reads a
clock (each call takes ``now``), touches a socket or starts a thread, so the client's
socket shell, the sandbox's asyncio server, the journal's replay and the tests all drive the
very same object.
"""

from __future__ import annotations

from typing import Protocol

from smarkets.protocol.core import SessionCore
from smarkets.protocol.events import Event
from smarkets.protocol.framing import DEFAULT_MAX_PAYLOAD_SIZE, FrameDecoder, encode_frames
from smarkets.protocol.replay import SessionState
from smarkets.protocol.states import Role

__all__ = ["Connection", "PayloadTap"]


class PayloadTap(Protocol):
    """Sees every payload crossing a connection, as bytes (a journal is one)."""

    def record_in(self, payloads: list[bytes]) -> None:
        """Payloads received, as they came off the wire, before they are acted on."""

    def record_out(self, payloads: list[bytes], inseq: int | None = None) -> None:
        """Payloads about to be written; ``inseq`` is the session's next expected seq."""


class Connection(SessionCore):
    """A session's connection as a sans-I/O object: bytes in, events out, bytes out.

    ``max_payload_size`` bounds an incoming frame (PROTOCOL.md section 2); ``tap`` (a
    :class:`PayloadTap`, such as :class:`smarkets.journal.Journal`) is shown every payload
    received and sent; the other arguments are
    :class:`~smarkets.protocol.core.SessionCore`'s.
    """

    def __init__(
        self,
        role: Role,
        state: SessionState | None = None,
        *,
        now: float,
        max_payload_size: int = DEFAULT_MAX_PAYLOAD_SIZE,
        tap: PayloadTap | None = None,
        **timings: float,
    ) -> None:
        super().__init__(role, state, now=now, **timings)
        self._decoder = FrameDecoder(max_payload_size)
        #: What is shown every payload crossing the connection, or ``None``.
        self.tap = tap

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Take bytes read from the transport, split anywhere; return the events they make.

        Raises :class:`~smarkets.errors.ProtocolError` for a frame header that breaks the
        framing (the bytes after it cannot be trusted: close the transport) or a payload
        that cannot be decoded (the shell ends the session with :meth:`abort`).
        """
        frames = self._decoder.feed(data)
        if not frames:
            return []
        if self.tap is not None:
            self.tap.record_in(frames)
        return self.receive_payloads(frames, now)

    def data_to_send(self) -> bytes:
        """Everything produced so far, framed, to be written in order (``b""``: nothing)."""
        payloads = self.payloads_to_send()
        if not payloads:
            return b""
        if self.tap is not None:
            self.tap.record_out(payloads, self.session.inseq)
        return encode_frames(payloads)

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished incoming frame held (what a closed transport cut short)."""
        return self._decoder.buffered

    @property
    def framing_failed(self) -> bool:
        """True once a frame header broke the framing: nothing more can be read."""
        return self._decoder.failed
