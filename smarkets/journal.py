"""Record every payload of a session to a file, and replay it offline through handlers.

Recording::

    session = smarkets.Session(settings, journal="session.journal")
    # or: session = smarkets.Session(settings, journal=smarkets.journal.Journal(path))

The session writes each payload as it crosses the socket, in both directions,
with the time and the eto seq.  Login passwords and cookies are masked before
they are written (:func:`smarkets.redact.redacted`), so the file holds no
secret; everything else is kept byte for byte as sent or received, replayed
copies and duplicates included.

Replaying::

    client = smarkets.Smarkets(smarkets.Session(settings))   # never connects
    client.add_handler("seto.contract_quotes", my_strategy.on_quotes)
    smarkets.journal.replay("session.journal", client)

:func:`replay` hands each incoming payload to the handlers as the live client
did: the same handler names, in the same order, each exactly once (duplicates,
payloads that came early before a gap, gapfills and replayed copies of
session-level payloads are skipped by the same rules as the session core's:
``smarkets.journal_replay`` asks a client protocol core fed the recording),
and, with a :class:`~smarkets.client.Smarkets`, its order tracking and books
updated as they were live.  :func:`read_journal` iterates the raw records.

File format
-----------
A journal is a sequence of frames as on the wire (PROTOCOL.md section 2: a
ULEB128 length, then that many bytes; :func:`smarkets.protocol.framing.encode_frame`).
The first frame holds the 18 bytes :data:`MAGIC` (``smarkets-journal``, a zero
byte, then the format version 1).  Every later frame is one record::

    direction  1 byte              1 = in (received), 2 = out (sent), 3 = session
    time       8 bytes, big-endian microseconds since the Unix epoch
    seq        8 bytes, big-endian the payload's eto seq (0 if it did not parse)
    payload    the rest            the seto.Payload bytes

A *session* record is written just before each login the client sends: its
``seq`` is the session's ``inseq`` at that moment (the next seq expected from
the server) and its payload the id of the session being resumed, UTF-8 (empty
for a new session).  It lets a replay follow the numbering of a session that
was resumed.

Records are written in the order the payloads crossed the socket, each batch
in one write, flushed at once (a crash loses at most the batch being written;
a journal whose last record is cut short is reported as truncated, and
opening it with ``append=True`` drops that record).

Cost: recording parses each payload once more (for its seq) and writes it;
with no journal, the session does nothing extra.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from google.protobuf.message import DecodeError

from smarkets.errors import Error, ProtocolError
from smarkets.journal_replay import ReplaySequencer, Target, replay_dispatcher
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.framing import FrameDecoder, encode_frame
from smarkets.redact import redacted

__all__ = [
    "DIRECTIONS",
    "MAGIC",
    "Journal",
    "JournalError",
    "JournalRecord",
    "read_journal",
    "replay",
]

log = logging.getLogger("smarkets.journal")

#: The first frame of every journal file.
MAGIC = b"smarkets-journal\x00\x01"
#: Record directions, by their byte in the file.
DIRECTIONS = {1: "in", 2: "out", 3: "session"}
_CODES = {name: code for code, name in DIRECTIONS.items()}
_HEADER = struct.Struct(">BQQ")
#: Largest record accepted when reading (a payload is at most a few MiB).
MAX_RECORD_SIZE = 64 << 20
_READ_SIZE = 1 << 16

_PAYLOAD_LOGIN = seto_pb2.PAYLOAD_LOGIN

PathLike = str | os.PathLike[str]


class JournalError(Error):
    """A journal file cannot be read: not a journal, truncated, or corrupt.

    ``path`` is the file, ``offset`` the byte offset where the problem starts;
    ``truncated`` is true when the file only ends in the middle of a record.
    """

    def __init__(
        self, message: str, path: str = "", offset: int = 0, *, truncated: bool = False
    ) -> None:
        super().__init__(message)
        self.path = path
        self.offset = offset
        self.truncated = truncated


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One record of a journal (see the module docstring for the meaning of the fields)."""

    #: ``"in"`` (received), ``"out"`` (sent) or ``"session"`` (a login's session numbers).
    direction: str
    #: The payload's eto seq; for a ``"session"`` record, the session's inseq at login.
    seq: int
    #: When it crossed the socket, in seconds since the Unix epoch.
    time: float
    #: The seto.Payload bytes (for a ``"session"`` record, the session id, UTF-8).
    payload: bytes

    def decode(self) -> seto_pb2.Payload:
        """The payload as a ``seto.Payload``; :class:`JournalError` if it does not parse."""
        if self.direction == "session":
            raise JournalError("a session record carries no payload")
        try:
            return seto_pb2.Payload.FromString(self.payload)
        except DecodeError as exc:
            raise JournalError(f"undecodable {self.direction} payload (seq {self.seq})") from exc

    def __repr__(self) -> str:
        return (
            f"JournalRecord({self.direction!r}, seq={self.seq}, time={self.time:.6f}, "
            f"{len(self.payload)} bytes)"
        )


def _frame_size(body_len: int) -> int:
    """Bytes a frame of a ``body_len``-byte body takes (no padding: bodies are >= 4 bytes)."""
    header = 1
    while body_len >= 0x80:
        body_len >>= 7
        header += 1
    return header + body_len


class Journal:
    """A journal file being written; attach it to a session to record its payloads.

    ``Journal(path)`` creates (or empties) ``path``; with ``append=True`` an
    existing journal is continued (its truncated last record, if any, is
    dropped).  :class:`~smarkets.session.Session` calls :meth:`record_in` and
    :meth:`record_out`; anything else may call them too, e.g. to journal a
    test transport.

    Recording never breaks the session: if writing fails (disk full, …), the
    error is logged, :attr:`error` keeps it and recording stops.

    Thread-safe.  A context manager: leaving the block closes the file.
    """

    def __init__(self, path: PathLike, *, append: bool = False) -> None:
        #: The file's path.
        self.path = os.fspath(path)
        #: Records written by this object.
        self.records = 0
        #: The write error that stopped recording, if one did.
        self.error: OSError | None = None
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        if append and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            end = _check_for_append(self.path)
            self._file = open(self.path, "r+b")
            self._file.truncate(end)
            self._file.seek(end)
        else:
            # Owner-only, like the state store: a journal holds the trading history.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._file = os.fdopen(fd, "wb")
            self._file.write(encode_frame(MAGIC))
            self._file.flush()

    @classmethod
    def attach(cls, journal: Journal | PathLike | None) -> Journal | None:
        """``journal`` itself, or a new :class:`Journal` writing to that path, or ``None``."""
        if journal is None or isinstance(journal, Journal):
            return journal
        return cls(journal)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._file is None

    def record_in(self, payloads: Iterable[bytes]) -> None:
        """Record payloads received (bytes as they came off the wire)."""
        self._record(1, payloads, None)

    def record_out(self, payloads: Iterable[bytes], inseq: int | None = None) -> None:
        """Record payloads sent; logins are masked, and ``inseq`` (the session's next
        expected seq) is written in a session record before each login."""
        self._record(2, payloads, inseq)

    def _record(self, code: int, payloads: Iterable[bytes], inseq: int | None) -> None:
        file = self._file
        if file is None:
            return
        micros = int(time.time() * 1_000_000)
        pack = _HEADER.pack
        chunks: list[bytes] = []
        from_string = seto_pb2.Payload.FromString
        for data in payloads:
            try:
                payload = from_string(data)
            except DecodeError:
                seq = 0  # kept as it came, for whoever debugs it
            else:
                seq = payload.eto_payload.seq
                if payload.type == _PAYLOAD_LOGIN:
                    if code == 2 and inseq is not None:
                        session_id = payload.eto_payload.login.session.encode("utf-8")
                        chunks.append(encode_frame(pack(3, micros, inseq) + session_id))
                    data = redacted(payload).SerializePartialToString()
            chunks.append(encode_frame(pack(code, micros, seq) + data))
        if not chunks:
            return
        with self._lock:
            file = self._file
            if file is None:
                return
            try:
                file.write(b"".join(chunks))
                file.flush()
            except OSError as exc:
                self.error = exc
                log.error("cannot write the journal %s: %s; recording stopped", self.path, exc)
                self._close_quietly()
                return
            self.records += len(chunks)

    def _close_quietly(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError:
                pass

    def close(self) -> None:
        """Flush and close the file; later records are not written."""
        with self._lock:
            file, self._file = self._file, None
        if file is not None:
            file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Journal {self.path!r} {state} records={self.records}>"


def _check_for_append(path: str) -> int:
    """The offset just past the last complete record of an existing journal."""
    end = 0
    try:
        for _record, offset in _records_with_offsets(path):
            end = offset
    except JournalError as exc:
        if not exc.truncated:
            raise
        log.warning("%s; appending after the last complete record", exc)
        return exc.offset
    return end


def read_journal(path: PathLike) -> Iterator[JournalRecord]:
    """Iterate the records of a journal file, in order.

    Raises :class:`JournalError` (naming the byte offset) for a file that is not
    a journal, a corrupt record, or a last record cut short.
    """
    for record, _end in _records_with_offsets(os.fspath(path)):
        yield record


def _records_with_offsets(path: str) -> Iterator[tuple[JournalRecord, int]]:
    decoder = FrameDecoder(MAX_RECORD_SIZE)
    offset = 0  # where the next record starts
    index = 0
    header_size = _HEADER.size
    try:
        file = open(path, "rb")
    except OSError as exc:
        raise JournalError(f"cannot open the journal {path}: {exc}", path) from exc
    with file:
        first = True
        while True:
            chunk = file.read(_READ_SIZE)
            if not chunk:
                break
            try:
                bodies = decoder.feed(chunk)
            except ProtocolError as exc:
                raise JournalError(
                    f"{path}: corrupt journal: bad record at byte {offset} "
                    f"(after {index} records): {exc}",
                    path,
                    offset,
                ) from None
            for body in bodies:
                if first:
                    first = False
                    if body != MAGIC:
                        raise JournalError(f"{path} is not a smarkets journal", path, 0)
                    offset += _frame_size(len(body))
                    continue
                if len(body) < header_size or body[0] not in DIRECTIONS:
                    raise JournalError(
                        f"{path}: corrupt journal: record {index + 1} at byte {offset} is not"
                        " a journal record",
                        path,
                        offset,
                    )
                code, micros, seq = _HEADER.unpack_from(body)
                offset += _frame_size(len(body))
                index += 1
                yield JournalRecord(DIRECTIONS[code], seq, micros / 1e6, body[header_size:]), offset
    if first:
        if decoder.buffered:
            raise JournalError(f"{path} is not a smarkets journal", path, 0)
        raise JournalError(f"{path} is empty: not a smarkets journal", path, 0)
    if decoder.buffered:
        raise JournalError(
            f"{path}: truncated journal: the record at byte {offset} (after {index} complete"
            f" records) is cut short ({decoder.buffered} bytes of it)",
            path,
            offset,
            truncated=True,
        )


# -- replay ---------------------------------------------------------------------------------


def replay(path: PathLike, target: Target, direction: str = "in") -> int:
    """Dispatch a journal's payloads to ``target`` as the live client did; return how many.

    ``target`` is a :class:`~smarkets.client.Smarkets` (its handlers, books and
    order tracking run, through :meth:`~smarkets.client.Smarkets.dispatch`), a
    mapping ``{handler name: fn or [fns]}`` (``fn(message)``, names as in
    :data:`smarkets.protocol.names.HANDLER_NAMES`), or ``fn(name, payload)`` called for
    every payload.

    ``direction="in"`` (the default) replays what the session received and
    delivered, exactly as the live client dispatched it; ``"out"`` what it
    sent (first copies only, not the copies resent for a replay request);
    ``"both"`` both, in the order they crossed the socket.

    A received payload that does not parse is skipped, like everything after it
    on that connection (the live session dropped the connection there).
    Raises :class:`JournalError` for a journal that cannot be read (after
    dispatching the records before the problem).
    """
    if direction not in ("in", "out", "both"):
        raise ValueError(f"direction must be 'in', 'out' or 'both', not {direction!r}")
    dispatch = replay_dispatcher(target)
    want_in = direction in ("in", "both")
    want_out = direction in ("out", "both")
    sequencer = ReplaySequencer()
    marked = False
    count = 0
    for record in read_journal(path):
        kind = record.direction
        if kind == "session":
            sequencer.session(record.payload.decode("utf-8") or None, record.seq)
            marked = True
            continue
        try:
            payload = seto_pb2.Payload.FromString(record.payload)
        except DecodeError:
            log.warning("undecodable %s payload in %s (seq %d): skipped", kind, path, record.seq)
            if kind == "in":
                sequencer.close()
            continue
        if kind == "out":
            sequencer.sent(payload, marked)
            marked = False
            eto = payload.eto_payload
            if want_out and not eto.is_replay and eto.type != eto_pb2.PAYLOAD_GAPFILL:
                dispatch(payload)
                count += 1
            continue
        if sequencer.delivered(payload, record.payload) and want_in:
            dispatch(payload)
            count += 1
    return count
