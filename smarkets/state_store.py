"""Where a session is kept between runs: :class:`FileStateStore`.

A session can be resumed with its id, ``inseq`` and ``outseq`` (PROTOCOL.md section 4,
rule 8) -- and, for the resume to lose nothing, with the payloads it sent that the server
may not have got, so that it can answer the server's REPLAY. Give a
:class:`~smarkets.session.Session` a state store and it keeps both on disk as it goes, and
loads them when it is created, so a script that is killed and started again continues its
session where it was::

    store = smarkets.FileStateStore("alice.session")
    session = smarkets.Session(settings, state_store=store)

Two files, ``PATH`` and ``PATH.sent``:

``PATH``
    The numbers, as JSON: ``{"session_id": ..., "inseq": ..., "outseq": ...}``. Replaced
    atomically (a temporary file renamed over it) whenever they change. ``inseq`` is the
    next seq the *application* has not finished with, which may be below the session's
    live ``inseq`` (see :attr:`smarkets.session.Session.auto_commit`): a restart resumes
    from there and the server replays the rest.

``PATH.sent``
    Every payload the session numbered, in seq order, appended before its bytes are
    written to the socket (:class:`FileReplayStore`): application payloads as their bytes,
    session-level ones (login, heartbeats, replay requests) as a marker, which a replay
    sends as GAPFILL. A restarted process loads it and answers the server's REPLAY from
    it. It is rewritten without what the in-memory store no longer keeps (``replay_limit``)
    when it has grown to twice that, and started afresh with each new session.

What survives what: each write is handed to the operating system before the session
goes on, so everything survives the *process* dying at any point (an exception, ``kill
-9``, the out-of-memory killer). Without ``fsync=True`` it may not survive a power cut or
an operating-system crash; with it, the log is flushed to the disk before every write to
the socket and the numbers file before each rename, at the cost of a disk flush (~ms) per
batch sent.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import tempfile
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from smarkets.errors import StateStoreError
from smarkets.protocol import ReplayStore

__all__ = [
    "SENT_LOG_MAGIC",
    "FileReplayStore",
    "FileStateStore",
    "SavedSession",
    "SentStore",
    "StateStore",
]

log = logging.getLogger("smarkets.session")


@dataclass(frozen=True)
class SavedSession:
    """A session's id and the next seqs in (``inseq``) and out (``outseq``)."""

    session_id: str
    inseq: int
    outseq: int


@runtime_checkable
class StateStore(Protocol):
    """What :class:`~smarkets.session.Session` needs of a state store."""

    def load(self) -> SavedSession | None:
        """The saved session, or ``None`` when there is none."""

    def save(self, session_id: str, inseq: int, outseq: int) -> None:
        """Remember the session's numbers, replacing what was saved before."""

    def clear(self) -> None:
        """Forget the saved session (it ended and cannot be resumed)."""


@runtime_checkable
class SentStore(Protocol):
    """A state store that also keeps what the session sent (optional, on top of load/save).

    :class:`~smarkets.session.Session` uses the store it returns as the session's replay
    store and calls its ``sync()`` before each write to the socket, so that every payload
    the server could have received is on record.
    """

    def replay_store(self, limit: int | None, first_seq: int, *, resume: bool) -> ReplayStore:
        """The session's replay store: with ``resume``, what was kept for the saved
        session; otherwise a new, empty one whose first payload will be ``first_seq``."""


# ---------------------------------------------------------------------------
# The log of sent payloads

#: What a ``.sent`` file starts with (the format's name and version 1).
SENT_LOG_MAGIC = b"smarkets-sent\x00\x01"
# A record: kind (1 byte), seq (u64), length (u32), then the bytes, then the CRC-32 of all
# that, little-endian.
_HEADER = struct.Struct("<BQI")
_CRC = struct.Struct("<I")
_DATA = 1  # an application payload's bytes
_MARKER = 2  # a session-level payload (replayed as GAPFILL), no bytes
_CLEAR = 3  # everything before is forgotten; seq is the next payload's
#: The log is rewritten once it holds this many more records than twice what is kept.
COMPACT_SLACK = 1024


def _record(kind: int, seq: int, data: bytes = b"") -> bytes:
    head = _HEADER.pack(kind, seq, len(data))
    return head + data + _CRC.pack(zlib.crc32(data, zlib.crc32(head)))


def _read_log(path: Path) -> tuple[int | None, list[bytes | None], int, int]:
    """Parse a sent log: ``(first seq, items, valid length, record count)``.

    A record cut short or failing its CRC ends the log there (the process died while
    writing it, or without ``fsync`` the machine did): what follows is not trusted, and
    the valid length tells where to cut the file. Records out of order are an error.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StateStoreError(f"cannot read sent payloads {str(path)!r}: {exc}") from exc
    if not data.startswith(SENT_LOG_MAGIC):
        raise StateStoreError(f"{str(path)!r} is not a log of sent payloads")
    pos = len(SENT_LOG_MAGIC)
    first: int | None = None
    items: list[bytes | None] = []
    records = 0
    size = len(data)
    while pos < size:
        end = pos + _HEADER.size
        if end > size:
            break
        kind, seq, length = _HEADER.unpack_from(data, pos)
        if kind not in (_DATA, _MARKER, _CLEAR) or (kind != _DATA and length):
            break
        stop = end + length + _CRC.size
        if stop > size:
            break
        body = data[end : end + length]
        (crc,) = _CRC.unpack_from(data, end + length)
        if crc != zlib.crc32(body, zlib.crc32(data[pos:end])):
            break
        if kind == _CLEAR:
            first, items = seq, []
        else:
            if first is None:
                first = seq
            expected = first + len(items)
            if seq != expected:
                raise StateStoreError(
                    f"{str(path)!r}: sent payload {seq} where {expected} was expected"
                )
            items.append(body if kind == _DATA else None)
        records += 1
        pos = stop
    if pos < size:
        log.warning(
            "%s: %d bytes after the last whole record ignored (cut short by a crash)",
            path,
            size - pos,
        )
    return first, items, pos, records


def _close_fd(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:  # pragma: no cover - already closed
        pass


class FileReplayStore(ReplayStore):
    """A :class:`~smarkets.protocol.replay.ReplayStore` that also appends to a log file.

    Every payload the session numbers is kept in memory as by the plain store, and a
    record of it is added to a buffer that :meth:`sync` writes to the file (``fsync``
    too when asked). The session calls :meth:`sync` before each write to the socket, and
    before :meth:`~smarkets.session.Session.send` returns, so a payload that the server
    could have received, or that the application was told was sent, is in the file.
    """

    __slots__ = ("__weakref__", "_buffer", "_fd", "_finalizer", "_fsync", "_path", "_records")

    def __init__(
        self,
        path: Path,
        limit: int | None = None,
        first_seq: int = 1,
        *,
        fsync: bool = False,
        items: list[bytes | None] | None = None,
        fd: int | None = None,
        records: int = 0,
    ) -> None:
        super().__init__(limit, first_seq)
        self._path = path
        self._fsync = fsync
        self._buffer = bytearray()
        self._records = records
        if items:
            kept = items if limit is None else items[-limit:]
            first = first_seq + len(items) - len(kept)
            for offset, data in enumerate(kept):
                ReplayStore.append(self, first + offset, data)  # in memory only: on record
        if fd is None:
            fd = self._create(path, self.first_seq)
        self._fd = fd
        self._finalizer = weakref.finalize(self, _close_fd, fd)

    @staticmethod
    def _create(path: Path, first_seq: int) -> int:
        """Start an empty log at ``path`` (replacing any); return its descriptor."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
            os.write(fd, SENT_LOG_MAGIC + _record(_CLEAR, first_seq))
        except OSError as exc:
            raise StateStoreError(f"cannot write sent payloads {str(path)!r}: {exc}") from exc
        return fd

    @property
    def path(self) -> Path:
        """The log file."""
        return self._path

    def append(self, seq: int, data: bytes | None) -> None:
        """Keep payload ``seq`` (as the plain store does) and queue its record for the file."""
        super().append(seq, data)
        self._buffer += _record(_MARKER, seq) if data is None else _record(_DATA, seq, data)
        self._records += 1

    def clear(self, first_seq: int) -> None:
        """Forget everything, in memory and (at the next :meth:`sync`) in the file."""
        super().clear(first_seq)
        self._buffer += _record(_CLEAR, first_seq)
        self._records += 1

    def sync(self) -> None:
        """Write the queued records to the file (and ``fsync`` it if asked).

        Rewrites the file with only what is kept in memory when it has grown to more
        than twice that (plus :data:`COMPACT_SLACK` records). Raises
        :class:`~smarkets.errors.StateStoreError` when the file cannot be written.
        """
        if not self._buffer:
            return
        if self._records > 2 * len(self) + COMPACT_SLACK:
            self._compact()
            return
        view = memoryview(self._buffer)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            raise StateStoreError(f"cannot write sent payloads {str(self._path)!r}: {exc}") from exc
        finally:
            view.release()
        self._buffer.clear()

    def _compact(self) -> None:
        """Replace the file by one holding only what is kept (temporary file, rename)."""
        first = self.first_seq
        parts = [SENT_LOG_MAGIC, _record(_CLEAR, first)]
        for seq, data in self.since(first):
            parts.append(_record(_MARKER, seq) if data is None else _record(_DATA, seq, data))
        directory = self._path.parent
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self._path.name}.", dir=directory)
            try:
                os.write(fd, b"".join(parts))
                if self._fsync:
                    os.fsync(fd)
                os.replace(tmp, self._path)
            except BaseException:
                os.close(fd)
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            raise StateStoreError(
                f"cannot rewrite sent payloads {str(self._path)!r}: {exc}"
            ) from exc
        self._finalizer()
        os.close(fd)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)
        self._finalizer = weakref.finalize(self, _close_fd, self._fd)
        self._records = len(self) + 1
        self._buffer.clear()
        log.debug("%s rewritten with the %d payloads kept", self._path, len(self))

    def close(self) -> None:
        """Write what is queued and close the file (the store keeps working in memory)."""
        try:
            self.sync()
        finally:
            self._finalizer()

    @classmethod
    def load(
        cls, path: Path, limit: int | None, first_seq: int, *, fsync: bool = False
    ) -> FileReplayStore:
        """What the log at ``path`` keeps, to continue appending to it.

        An absent file gives an empty store starting at ``first_seq``. A record cut short
        at the end (a crash while writing it) is dropped from the file.
        """
        if not path.exists():
            return cls(path, limit, first_seq, fsync=fsync)
        first, items, valid, records = _read_log(path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            if valid < os.fstat(fd).st_size:
                os.ftruncate(fd, valid)
        except OSError as exc:
            raise StateStoreError(f"cannot open sent payloads {str(path)!r}: {exc}") from exc
        return cls(
            path,
            limit,
            first if first is not None else first_seq,
            fsync=fsync,
            items=items,
            fd=fd,
            records=records,
        )


# ---------------------------------------------------------------------------
# The store


class FileStateStore:
    """Keeps a session's numbers in ``path`` (JSON) and what it sent in ``path.sent``.

    Each :meth:`save` writes a temporary file next to ``path`` and renames it over
    ``path`` (:func:`os.replace`), so a reader never sees a half-written file. The log of
    sent payloads is :class:`FileReplayStore` (see the module docstring for what survives
    what). ``fsync=True`` makes both survive a power cut too, at the cost of a disk flush
    per save and per batch sent. Both files are created readable by their owner only.
    A store is for one :class:`~smarkets.session.Session` at a time.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync

    @property
    def sent_path(self) -> Path:
        """The log of sent payloads, next to :attr:`path`."""
        return self.path.with_name(self.path.name + ".sent")

    def load(self) -> SavedSession | None:
        """The saved session, or ``None`` when nothing is saved.

        Raises :class:`~smarkets.errors.StateStoreError` naming the file when it
        exists but cannot be read or does not hold a saved session.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateStoreError(f"cannot read session state {str(self.path)!r}: {exc}") from exc
        try:
            data = json.loads(text)
            saved = SavedSession(data["session_id"], data["inseq"], data["outseq"])
        except (ValueError, KeyError, TypeError) as exc:
            raise StateStoreError(
                f"{str(self.path)!r} does not hold a saved session: {exc}"
            ) from exc
        if (
            not isinstance(saved.session_id, str)
            or not saved.session_id
            or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 1
                for n in (saved.inseq, saved.outseq)
            )
        ):
            raise StateStoreError(f"{str(self.path)!r} holds an invalid session state: {data!r}")
        return saved

    def save(self, session_id: str, inseq: int, outseq: int) -> None:
        """Replace the saved session atomically (temporary file, then :func:`os.replace`)."""
        data = json.dumps({"session_id": session_id, "inseq": inseq, "outseq": outseq})
        directory = self.path.parent
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise StateStoreError(
                f"cannot save session state in {str(directory)!r}: {exc}"
            ) from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            if self.fsync:
                _fsync_directory(directory)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise StateStoreError(f"cannot save session state {str(self.path)!r}: {exc}") from exc

    def replay_store(self, limit: int | None, first_seq: int, *, resume: bool) -> FileReplayStore:
        """The session's replay store, logged to :attr:`sent_path`.

        With ``resume``, loaded from the log (what the saved session sent); otherwise a
        new log is started, empty, for a payload numbered ``first_seq`` next.
        """
        if resume:
            return FileReplayStore.load(self.sent_path, limit, first_seq, fsync=self.fsync)
        return FileReplayStore(self.sent_path, limit, first_seq, fsync=self.fsync)

    def clear(self) -> None:
        """Delete the saved session and its sent payloads (nothing happens when there is none)."""
        for path in (self.path, self.sent_path):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StateStoreError(f"cannot clear session state {str(path)!r}: {exc}") from exc

    def __repr__(self) -> str:
        return f"FileStateStore({str(self.path)!r})"


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX: fsync the directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse it
        pass
    finally:
        os.close(fd)
