"""What :func:`smarkets.journal.replay` hands on, and to what.

A replay delivers each received payload exactly when the live session did. Rather than
restate the session's rules, :class:`ReplaySequencer` feeds the recorded payloads to a
client :class:`~smarkets.protocol.connection.Connection`, as the live one was fed, and
asks it; :func:`replay_dispatcher` makes a replay's target (a client, a handlers mapping or
a function) one function of a payload. :mod:`smarkets.journal` reads the file and drives
both; nothing else needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from smarkets.errors import ProtocolError, UnknownHandlerError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    Received,
    ReplayStore,
    Role,
    SessionState,
)
from smarkets.protocol.framing import encode_frame
from smarkets.protocol.names import HANDLER_NAMES, payload_name

__all__ = ["ReplaySequencer", "Target", "replay_dispatcher"]

#: What a replay dispatches to: a :class:`~smarkets.client.Smarkets` (anything with
#: ``dispatch()``), a ``{handler name: fn or [fns]}`` mapping, or ``fn(name, payload)``.
Target = Any

_PAYLOAD_LOGIN = seto_pb2.PAYLOAD_LOGIN


def replay_dispatcher(target: Target) -> Callable[[seto_pb2.Payload], None]:
    """``fn(payload)`` dispatching to ``target`` (see :data:`Target`).

    Raises :class:`~smarkets.errors.UnknownHandlerError` for a mapping naming an unknown
    handler, :class:`TypeError` for a target of none of the three kinds.
    """
    dispatch = getattr(target, "dispatch", None)
    if callable(dispatch):
        return dispatch  # type: ignore[no-any-return]
    if isinstance(target, Mapping):
        handlers: dict[str, list[Callable[[Any], None]]] = {}
        for name, fns in target.items():
            if name not in HANDLER_NAMES:
                raise UnknownHandlerError(
                    f"unknown handler name {name!r}; valid names are: "
                    f"{', '.join(sorted(HANDLER_NAMES))}"
                )
            handlers[name] = list(fns) if isinstance(fns, (list, tuple)) else [fns]

        def to_handlers(payload: seto_pb2.Payload) -> None:
            name, message = payload_name(payload)
            for fn in handlers.get(name, ()):
                fn(message)

        return to_handlers
    if callable(target):

        def to_global(payload: seto_pb2.Payload) -> None:
            target(payload_name(payload)[0], payload)

        return to_global
    raise TypeError(
        "replay needs a Smarkets client, a {handler name: fn} mapping or fn(name, payload),"
        f" not {type(target).__name__}"
    )


class _NoReplayStore(ReplayStore):
    """A replay store that keeps nothing and never refuses: the replay core's answers to
    the server's REPLAY requests are discarded anyway, and must not end its session."""

    def __len__(self) -> int:
        return 1

    def append(self, seq: int, data: bytes | None) -> None:
        pass

    def since(self, seq: int) -> Iterator[tuple[int, bytes | None]]:
        return iter(())


class ReplaySequencer:
    """Which received payloads the live session delivered.

    A client :class:`~smarkets.protocol.connection.Connection` is fed the recorded payloads
    as the live one was, so a replay follows the very rules the live session did (they live
    in :mod:`smarkets.protocol` only); whatever it would send back is discarded.
    """

    def __init__(self) -> None:
        self._core: Connection | None = None
        self._infer_inseq = False
        self._dropped = False  # the live connection ended on a bad payload
        self._saved: tuple[str | None, int] | None = None  # from the last session record

    def session(self, session_id: str | None, inseq: int) -> None:
        """A session record: the next login resumes ``session_id`` (``None``: a new
        session) and expects ``inseq`` next from the server."""
        self._saved = (session_id, inseq)

    def sent(self, payload: seto_pb2.Payload, marked: bool) -> None:
        """A payload sent; a login starts a new connection (``marked``: a session record
        came just before it)."""
        eto = payload.eto_payload
        if payload.type != _PAYLOAD_LOGIN or eto.type != eto_pb2.PAYLOAD_LOGIN:
            return
        session_id = (eto.login.session if eto.HasField("login") else "") or None
        if marked and self._saved is not None:
            inseq: int | None = self._saved[1]
        else:  # no session record (a journal written by hand): infer
            inseq = None if session_id else 1
        self._start(session_id, inseq, eto.seq, payload.login)

    def _start(
        self, session_id: str | None, inseq: int | None, outseq: int, login: seto_pb2.Login
    ) -> None:
        # inseq None: a resumed session whose numbers were not recorded; the first payload
        # received then sets it (see delivered).
        state = SessionState(session_id, inseq or 1, outseq, _NoReplayStore())
        core = Connection(Role.CLIENT, state, now=0.0)
        core.login(login, 0.0)
        core.data_to_send()
        self._core = core
        self._infer_inseq = inseq is None
        self._dropped = False

    def delivered(self, payload: seto_pb2.Payload, data: bytes) -> bool:
        """Whether the live session delivered this received payload (``data``: its bytes)."""
        core = self._core
        if core is None:  # received before any recorded login: a new session
            self._start(None, 1, 1, seto_pb2.Login())
            core = self._core
            assert core is not None
        if self._dropped:
            return False
        if self._infer_inseq:
            core.session.inseq = payload.eto_payload.seq
            self._infer_inseq = False
        try:
            events = core.receive_data(encode_frame(data), 0.0)
        except ProtocolError:
            self._dropped = True  # the live session dropped the connection here
            return False
        core.data_to_send()
        return any(type(event) is Received for event in events)

    def close(self) -> None:
        """A received payload did not parse: the live connection ended there."""
        self._dropped = True
