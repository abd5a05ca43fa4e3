"""Frame encoding and incremental decoding for the streaming protocol (PROTOCOL.md §2).

A frame is ``ULEB128(len(payload)) || payload || zero padding``; the padding makes the
whole frame at least 4 bytes long and is absent once it is.

This module is sans-I/O: :func:`encode_frame` turns a payload into bytes to write, and a
:class:`FrameDecoder` turns bytes read, split anywhere, back into payloads. Neither touches a
socket, so the same code serves the client, the sandbox exchange and the tests.

Decoding cost is linear in the bytes fed whatever the read size: complete frames are sliced
straight out of the chunk just received, only the unfinished tail of a chunk is kept, and a
large frame that arrives over many reads is accumulated in one growing buffer whose header
is parsed once.
"""

from __future__ import annotations

from collections.abc import Iterable

from smarkets.errors import RemoteProtocolError

__all__ = [
    "DEFAULT_MAX_PAYLOAD_SIZE",
    "MAX_HEADER_SIZE",
    "MIN_FRAME_SIZE",
    "FrameDecoder",
    "encode_frame",
    "encode_frames",
    "uleb128",
]

#: Largest payload a decoder accepts unless told otherwise (1 MiB, PROTOCOL.md §2).
DEFAULT_MAX_PAYLOAD_SIZE = 1 << 20
#: A length header longer than this many bytes is a protocol error.
MAX_HEADER_SIZE = 10
#: Frames shorter than this, header included, are padded with zero bytes up to it.
MIN_FRAME_SIZE = 4

# Header bytes for lengths 0..127, and the padding that short frames need.
_SMALL_HEADERS = [bytes((n,)) for n in range(0x80)]
_PADDING = [b"\x00" * (MIN_FRAME_SIZE - 1 - n) for n in range(MIN_FRAME_SIZE - 1)]


def uleb128(value: int) -> bytes:
    """Encode a non-negative integer as ULEB128 (the protobuf varint encoding)."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_frame(payload: bytes) -> bytes:
    """Return the frame carrying ``payload``: length header, payload, then any padding."""
    size = len(payload)
    if size < 0x80:
        if size < MIN_FRAME_SIZE - 1:
            return b"".join((_SMALL_HEADERS[size], payload, _PADDING[size]))
        return b"".join((_SMALL_HEADERS[size], payload))
    return b"".join((uleb128(size), payload))


def encode_frames(payloads: Iterable[bytes]) -> bytes:
    """Return the frames of ``payloads``, in order, as one ``bytes`` to write at once.

    The same bytes as joining :func:`encode_frame` of each, with each payload copied once
    instead of twice.
    """
    parts: list[bytes] = []
    append = parts.append
    for payload in payloads:
        size = len(payload)
        if size < 0x80:
            append(_SMALL_HEADERS[size])
            append(payload)
            if size < MIN_FRAME_SIZE - 1:
                append(_PADDING[size])
        else:
            append(uleb128(size))
            append(payload)
    return b"".join(parts)


def _read_header(data: bytes, pos: int) -> tuple[int, int] | None:
    """Parse the length header at ``data[pos:]``.

    Returns ``(payload_len, header_len)``, or None when the header is not complete yet.
    Raises RemoteProtocolError when it is already longer than MAX_HEADER_SIZE bytes.
    """
    value = 0
    shift = 0
    index = pos
    end = min(len(data), pos + MAX_HEADER_SIZE)
    while index < end:
        byte = data[index]
        value |= (byte & 0x7F) << shift
        index += 1
        if byte < 0x80:
            return value, index - pos
        shift += 7
    if index - pos >= MAX_HEADER_SIZE:
        raise RemoteProtocolError(
            f"frame length header is longer than {MAX_HEADER_SIZE} bytes"
            f" (starts {data[pos : pos + MAX_HEADER_SIZE].hex(' ')})"
        )
    return None


class FrameDecoder:
    """Incremental frame decoder: feed it bytes as they arrive, get whole payloads back.

    Bytes may be split anywhere, even inside a length header. Each complete payload is
    returned once, in order, as an immutable :class:`bytes` of its own; the unfinished tail
    is kept for the next :meth:`feed`. Padding after short frames is skipped without being
    checked for zeros: it carries nothing, and refusing a peer over it would gain nothing.
    Over-long (non-minimal) length headers such as ``80 00`` are accepted, like protobuf
    varints.

    A length header longer than 10 bytes, or one declaring more than ``max_payload_size``
    bytes, raises :class:`~smarkets.errors.RemoteProtocolError` as soon as the header has been
    read, before any buffer of that size is allocated. The decoder is unusable afterwards:
    every later :meth:`feed` raises RemoteProtocolError too. Payloads completed earlier in the
    call that failed are not returned; the stream is corrupt and the connection must close.
    """

    __slots__ = ("_buf", "_failure", "_fast_limit", "_frame_size", "_hlen", "_max", "_plen")

    def __init__(self, max_payload_size: int = DEFAULT_MAX_PAYLOAD_SIZE) -> None:
        if isinstance(max_payload_size, bool) or not isinstance(max_payload_size, int):
            raise TypeError(f"max_payload_size must be an int, not {max_payload_size!r}")
        if max_payload_size < 0:
            raise ValueError(f"max_payload_size must be >= 0, not {max_payload_size}")
        self._max = max_payload_size
        # A first header byte below this is a whole header of an acceptable length, which
        # lets the hot loop skip both the varint parser and the size check.
        self._fast_limit = min(0x80, max_payload_size + 1)
        # Bytes of the frame in progress (never more than one frame).
        self._buf = bytearray()
        # Once that frame's header is complete: its full size on the wire (padding
        # included), header length and payload length; _frame_size is 0 until then.
        self._frame_size = 0
        self._hlen = 0
        self._plen = 0
        self._failure: str | None = None

    @property
    def max_payload_size(self) -> int:
        """Largest payload accepted, in bytes; a larger declared length is an error."""
        return self._max

    @property
    def buffered(self) -> int:
        """Bytes held for a frame that is not complete yet (0 at a frame boundary)."""
        return len(self._buf)

    @property
    def failed(self) -> bool:
        """True once the decoder has raised RemoteProtocolError; it refuses all input after."""
        return self._failure is not None

    def _fail(self, message: str) -> RemoteProtocolError:
        """Record the failure, drop buffered bytes and return the error to raise."""
        self._failure = message
        self._buf = bytearray()
        self._frame_size = 0
        return RemoteProtocolError(message)

    def _check_length(self, payload_len: int) -> None:
        """Refuse a declared payload length above the maximum."""
        if payload_len > self._max:
            raise self._fail(
                f"frame length {payload_len} exceeds the maximum payload size {self._max}"
            )

    def _start_frame(self, payload_len: int, header_len: int) -> int:
        """Record the header of the frame in progress and return its size on the wire."""
        self._check_length(payload_len)
        size = header_len + payload_len
        if size < MIN_FRAME_SIZE:
            size = MIN_FRAME_SIZE
        self._hlen = header_len
        self._plen = payload_len
        self._frame_size = size
        return size

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes of the stream; return every payload they complete, in order."""
        if self._failure is not None:
            raise RemoteProtocolError(f"decoder failed earlier: {self._failure}")
        if type(data) is not bytes:
            data = bytes(data)
        out: list[bytes] = []
        pos = 0
        if self._buf:
            pos = self._continue_frame(data, out)
            if pos < 0:
                return out
        n = len(data)
        append = out.append
        fast_limit = self._fast_limit
        # Hot loop: complete frames are sliced straight out of ``data``; one copy each.
        while pos < n:
            length = data[pos]
            if length < fast_limit:
                end = pos + 1 + length
                frame_end = end if length >= MIN_FRAME_SIZE - 1 else pos + MIN_FRAME_SIZE
                if frame_end > n:
                    break
                append(data[pos + 1 : end])
                pos = frame_end
                continue
            try:
                header = _read_header(data, pos)
            except RemoteProtocolError as exc:
                raise self._fail(str(exc)) from None
            if header is None:
                break
            length, header_len = header
            self._check_length(length)
            start = pos + header_len
            end = start + length
            frame_end = end if end - pos >= MIN_FRAME_SIZE else pos + MIN_FRAME_SIZE
            if frame_end > n:
                break
            append(data[start:end])
            pos = frame_end
        if pos < n:
            self._keep_tail(data, pos)
        return out

    def _keep_tail(self, data: bytes, pos: int) -> None:
        """Keep ``data[pos:]``, the start of an unfinished frame, and parse its header."""
        self._buf = bytearray(data[pos:])
        try:
            header = _read_header(data, pos)
        except RemoteProtocolError as exc:
            raise self._fail(str(exc)) from None
        if header is not None:
            self._start_frame(*header)

    def _continue_frame(self, data: bytes, out: list[bytes]) -> int:
        """Add ``data`` to the frame begun in an earlier call.

        Returns the offset in ``data`` just past that frame once it is complete (its payload
        appended to ``out``), or -1 when ``data`` has been used up without completing it.
        """
        buf = self._buf
        pos = 0
        if not self._frame_size:
            # Only part of the header so far (at most 9 bytes, all with the high bit set).
            held = len(buf)
            probe = bytes(buf) + data[:MAX_HEADER_SIZE]
            try:
                header = _read_header(probe, 0)
            except RemoteProtocolError as exc:
                raise self._fail(str(exc)) from None
            if header is None:
                buf += data
                return -1
            self._start_frame(*header)
            pos = header[1] - held
            buf += data[:pos]
        have = len(buf)
        missing = self._frame_size - have
        if len(data) - pos < missing:
            # Still short: grow the buffer (amortised linear), nothing to parse again.
            buf += data[pos:] if pos else data
            return -1
        start = self._hlen
        end = start + self._plen
        if have >= end:
            payload = bytes(buf[start:end])  # payload held already, only padding was due
        elif have <= start:
            offset = pos + start - have
            payload = data[offset : offset + self._plen]
        else:
            buf += memoryview(data)[pos : pos + end - have]
            payload = bytes(memoryview(buf)[start:end])
        out.append(payload)
        # A fresh buffer, so a large one is freed rather than kept at its peak size.
        self._buf = bytearray()
        self._frame_size = 0
        return pos + missing
