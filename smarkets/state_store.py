"""Where a session's numbers are kept between runs: :class:`FileStateStore`.

A session can be resumed with its id, ``inseq`` and ``outseq``
(PROTOCOL.md section 4, rule 8).  Give a :class:`~smarkets.session.Session` a
state store and it saves them whenever they change and loads them when it is
created, so a restarted script continues its session without copying numbers
around.

What is saved is only those three numbers, not the payloads sent: a restarted
script cannot replay what the previous process sent.  If the server asks for
such a replay, the session ends (``UNKNOWN_SESSION``) and a new one must be
started.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from smarkets.errors import StateStoreError

__all__ = ["FileStateStore", "SavedSession", "StateStore"]


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


class FileStateStore:
    """Saves a session's id, ``inseq`` and ``outseq`` in a small JSON file.

    Each :meth:`save` writes a temporary file next to ``path`` and renames it
    over ``path`` (:func:`os.replace`), so a reader never sees a half-written
    file.  There is no ``fsync``: saving is cheap enough to happen after every
    batch of payloads, and the file survives the process being killed, but not
    necessarily a power cut or an operating system crash (then an older copy,
    or none, may be found, and the server's replay fills the gap or the
    session must be started afresh).  The file is created readable by its
    owner only.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

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
            os.replace(tmp, self.path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise StateStoreError(f"cannot save session state {str(self.path)!r}: {exc}") from exc

    def clear(self) -> None:
        """Delete the saved session (nothing happens when there is none)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StateStoreError(f"cannot clear session state {str(self.path)!r}: {exc}") from exc

    def __repr__(self) -> str:
        return f"FileStateStore({str(self.path)!r})"
