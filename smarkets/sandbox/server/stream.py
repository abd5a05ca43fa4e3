"""One client connection: the asyncio shell around a :class:`smarkets.protocol.Connection`.

A :class:`StreamProtocol` (an :class:`asyncio.Protocol`) feeds what it reads to a server
:class:`~smarkets.protocol.connection.Connection` (the session rules with the framing in
front), acts on the events it returns (a login to decide, payloads to serve, the end of the
session), writes out what it has to send, and ticks it when its next deadline passes. What
the sessions, routing, login gate and throttle decide is theirs
(:mod:`~smarkets.sandbox.server`); this module only moves bytes and timers.

Errors are handled in one place (:meth:`StreamProtocol.guard`), whatever was running (a
read, a login's answer, a timer, a write): a :class:`~smarkets.errors.RemoteProtocolError`
(the client broke the protocol) ends the session with LOGOUT ``INVALID_PAYLOAD``; any other
exception is logged with its traceback and the connection dropped (its session parked,
resumable). Only this connection is affected.

What a client sends that the server cannot act on is never answered by a silent disconnect:
a frame header that breaks the framing, a payload that cannot be decoded or lacks a required
field, ends the session with LOGOUT ``INVALID_PAYLOAD``; one of a kind or with an enum value
the server does not serve, with LOGOUT ``UNSUPPORTED_PAYLOAD``
(:func:`~smarkets.protocol.payloads.classify_bad_frames`; a session without extensions is
told ``LOGOUT_NONE``); each with a log line naming the peer, the session and why. Only a peer
that cannot be written to or one over the connection cap is closed without a LOGOUT, with a
log line.

Limits on what one client can make the server hold (see
:class:`~smarkets.sandbox.server.config.ServerConfig`): before its login, a connection may
hold at most ``max_login_size`` bytes of an unfinished frame; a client that does not read is
dropped once ``max_write_buffer`` bytes wait for it (its session stays resumable); while a
client leaves unread more than the transport's high-water mark, the server stops reading it
(output backpressure): a client that sends requests without reading their answers is
stalled, not buffered for.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from smarkets.errors import RemoteProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    Event,
    LoggedIn,
    LoginRequested,
    Received,
    Role,
    SessionEnded,
    State,
    logout_reason_name,
)
from smarkets.protocol.payloads import classify_bad_frames
from smarkets.sandbox.server.login import Admission
from smarkets.sandbox.server.sessions import ServerSession
from smarkets.sandbox.server.transport import (
    LastBatch,
    OutputLimit,
    StreamHost,
    Timer,
    tune,
)

__all__ = ["StreamProtocol"]

_log = logging.getLogger(__name__)

_PAYLOAD_ETO = seto_pb2.PAYLOAD_ETO
_ETO_REPLAY = eto_pb2.PAYLOAD_REPLAY


class StreamProtocol(asyncio.Protocol):
    """One client connection: bytes in and out of a server :class:`Connection`.

    ``core`` is the connection's :class:`smarkets.protocol.Connection`; ``session`` the
    :class:`~smarkets.sandbox.server.sessions.ServerSession` it serves once logged in.

    Over 300 lines (about 350, half of them documentation) because it
    is the one place where every callback asyncio makes for a connection, and every timer
    of it, lands: reading, writing, flow control, the core's events and the errors of all of
    them (:meth:`guard`). What is decided is decided elsewhere, in plain objects; what is
    left is the order in which a connection's things happen, which reads best in one class.
    """

    def __init__(self, server: StreamHost) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self._batch = LastBatch()
        self.core: Connection | None = None
        self.session: ServerSession | None = None
        self.closed = False
        #: How the login gate took the connection (None until it is made).
        self.admission: Admission | None = None
        self._output = OutputLimit(server.config.max_write_buffer)
        #: Ticks the core at its next deadline.
        self._timer = Timer(server, self._on_timer)
        #: Resumes reading when a throttle's pause is over.
        self._resume = Timer(server, self._on_resume)
        # Why reading is paused ("login", "throttle", "output"); read while it is empty.
        self._held: set[str] = set()

    def __repr__(self) -> str:
        return f"<StreamProtocol {self.peer}>"

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = f"{peer[0]}:{peer[1]}"
        elif peer:
            self.peer = str(peer)
        server = self.server
        config = server.config
        tune(transport, config)
        self.core = Connection(
            Role.SERVER,
            now=server.loop.time(),
            max_payload_size=config.max_payload_size,
            tap=self._batch,
            heartbeat_interval=config.heartbeat_interval,
            heartbeat_timeout=config.heartbeat_timeout,
            login_timeout=config.login_timeout,
        )
        if server.connection_made(self):
            self.update_timer()

    def data_received(self, data: bytes) -> None:
        if not self.closed:
            self.guard("handling what the client sent", self._read, data)
            self.server.flush()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.cancel_timers()
        session = self.session
        self.session = None
        self.server.connection_lost(self)
        if session is not None and session.stream is self:
            _log.info(
                "%s: connection lost (%s): session %s parked",
                self.peer,
                exc or "closed",
                session.session_id,
            )
            self.server.park(session)
        else:
            _log.debug("%s: connection closed", self.peer)

    def pause_writing(self) -> None:
        # The client is not taking what it is sent: take nothing more from it meanwhile, so
        # that it cannot pile up answers by sending requests (output backpressure).
        self.hold_reading("output")

    def resume_writing(self) -> None:
        self.release_reading("output")

    # -- errors, written once -------------------------------------------------------------

    def guard(self, doing: str, action: Callable[..., None], *args: Any) -> None:
        """Run ``action(*args)`` for this connection; what it raises affects only it.

        A :class:`~smarkets.errors.RemoteProtocolError` ends the session with LOGOUT
        ``INVALID_PAYLOAD``; any other exception is logged (``doing`` says what was being
        done) and the connection dropped, its session parked.
        """
        try:
            action(*args)
        except RemoteProtocolError as exc:
            _log.warning("%s: protocol error, closing the connection: %s", self.peer, exc)
            self.abort_session(eto_pb2.LOGOUT_INVALID_PAYLOAD, str(exc))
        except Exception:
            _log.exception("%s: error while %s; closing", self.peer, doing)
            self.drop()

    # -- reading --------------------------------------------------------------------------

    def _read(self, data: bytes) -> None:
        core = self.core
        assert core is not None
        server = self.server
        try:
            events = core.receive_data(data, server.loop.time())
        except RemoteProtocolError as exc:
            if core.framing_failed:  # a bad frame header: the framing is lost, not the why
                reason, why = eto_pb2.LOGOUT_INVALID_PAYLOAD, str(exc)
            else:
                reason, why = classify_bad_frames(self._batch.frames)
                why = f"{why} ({exc})"
            self.abort_session(reason, why)
            return
        finally:
            self._batch.frames = []
        if events:
            self.handle_events(events)
        limit = server.config.max_login_size
        if core.state is State.AWAITING_LOGIN and core.buffered > limit:
            self.abort_session(
                eto_pb2.LOGOUT_INVALID_PAYLOAD,
                f"{core.buffered} bytes of an unfinished frame before the login (at most {limit})",
            )
            return
        if self.closed:
            return
        self._check_throttle()
        # Written out, and its timer updated, once, with every other connection this read
        # gave something to (see SandboxServer.flush).
        server.router.dirty[self] = None

    def hold_reading(self, reason: str) -> None:
        """Stop reading from the client, for ``reason``, until :meth:`release_reading`."""
        if self.transport is None or self.closed:
            return
        if not self._held:
            self.transport.pause_reading()
        self._held.add(reason)

    def release_reading(self, reason: str) -> None:
        """Drop ``reason`` to stop reading; read again once no reason is left."""
        if reason not in self._held:
            return
        self._held.discard(reason)
        if not self._held and self.transport is not None and not self.closed:
            self.transport.resume_reading()

    # -- events from the core -------------------------------------------------------------

    def handle_events(self, events: Iterable[Event]) -> None:
        """Act on what the core said: payloads to serve, a login, the session's end."""
        server = self.server
        handle = server.requests.handle
        now = server.loop.time()
        for event in events:
            if type(event) is Received:
                session = self.session
                if session is None:
                    continue
                payload = event.payload
                if payload.type == _PAYLOAD_ETO and payload.eto_payload.type == _ETO_REPLAY:
                    self._output.replayed = True  # it may write much at once
                logout = handle(session, payload, now)
                if logout is not None:
                    self.abort_session(*logout)
            elif type(event) is LoginRequested:
                self._login_requested(event)
            elif type(event) is SessionEnded:
                self._ended(event)
            elif type(event) is LoggedIn:
                _log.info(
                    "%s: session %s logged in (reset %d)", self.peer, event.session_id, event.reset
                )

    def _login_requested(self, event: LoginRequested) -> None:
        """Screen a login, then check its password (on a worker thread) and answer it."""
        server = self.server
        core = self.core
        assert core is not None
        screening = server.gate.screen(self.peer, self.admission, event, server.closing)
        if screening.reason:
            self.handle_events(core.refuse_login(screening.reason, server.loop.time()))
        elif screening.verified is not None:
            self._answer_login(event, screening.verified)
        else:
            self.hold_reading("login")  # nothing more is taken until the login is decided
            login = event.payload.login
            future = server.check_password(login.username, login.password)
            future.add_done_callback(functools.partial(self._login_checked, event))

    def _login_checked(self, event: LoginRequested, future: Any) -> None:
        """On the loop, once a worker has checked a login's password: answer the login."""
        self.server.gate.release()
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            _log.error("%s: checking the password failed: %s", self.peer, type(exc).__name__)
        verified = exc is None and bool(future.result())
        core = self.core
        if self.closed or core is None or core.state is not State.LOGGING_IN:
            return  # the connection went away, or its login timed out meanwhile
        self.guard("answering the login", self._after_check, event, verified)
        self.server.flush()

    def _after_check(self, event: LoginRequested, verified: bool) -> None:
        self._answer_login(event, verified)
        self.flush()
        self.release_reading("login")
        if not self.closed:
            self._check_throttle()

    def _answer_login(self, event: LoginRequested, verified: bool) -> None:
        core = self.core
        assert core is not None
        now = self.server.loop.time()
        self.handle_events(self.server.gate.answer(self, core, event, verified, now))

    def _ended(self, event: SessionEnded) -> None:
        reason = logout_reason_name(event.reason)
        session = self.session
        self.session = None
        self.write_out()
        self.server.router.dirty.pop(self, None)
        self.close()
        if session is None or session.stream is not self:
            _log.info("%s: closed (%s)", self.peer, reason)
            return
        if event.resumable:
            _log.info("%s: session %s parked (%s)", self.peer, session.session_id, reason)
            self.server.park(session)
        else:
            who = "client" if event.by_peer else "server"
            _log.info(
                "%s: session %s ended by the %s (%s)", self.peer, session.session_id, who, reason
            )
            self.server.registry.forget(session)

    # -- ending ---------------------------------------------------------------------------

    def abort_session(self, reason: int, why: str) -> None:
        """End the session over what its client sent: LOGOUT ``reason``, closed.

        The client is told why (``reason``, or its published stand-in for a session without
        extensions) and the log says who and why. Not resumable. A connection whose core can
        no longer send is closed without a LOGOUT (also logged).
        """
        core = self.core
        session = self.session
        who = session.session_id if session is not None else "(not logged in)"
        _log.warning(
            "%s: session %s: %s: logging out (%s)", self.peer, who, why, logout_reason_name(reason)
        )
        events = core.abort(reason, self.server.loop.time()) if core is not None else []
        if events:
            self.handle_events(events)
        if not self.closed:
            _log.warning("%s: session %s: no LOGOUT could be sent: closing", self.peer, who)
            self.write_out()
            self.drop()

    def drop(self) -> None:
        """Close the connection at once; its session (if any) is parked, still resumable."""
        session = self.session
        self.displaced()
        if session is not None and session.stream is self:
            self.server.park(session)

    def displaced(self) -> None:
        """Close the connection at once, forgetting its session (resumed elsewhere)."""
        self.session = None
        self.server.router.dirty.pop(self, None)
        self.close(abort=True)

    def close(self, abort: bool = False) -> None:
        """Close the transport (after writing what is buffered, unless ``abort``)."""
        self.closed = True
        self.cancel_timers()
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()

    # -- writing and timers ---------------------------------------------------------------

    def write_out(self) -> None:
        """Write out, framed, whatever the core has produced.

        A client that does not read is dropped (its session parked, resumable) once more
        than ``max_write_buffer`` bytes wait for it (a replay's are allowed on top).
        """
        core = self.core
        transport = self.transport
        if core is None or transport is None or self.closed:
            return
        data = core.data_to_send()
        if not data:
            return
        before = transport.get_write_buffer_size()
        transport.write(data)
        if self._output.exceeded(before, transport.get_write_buffer_size()):
            _log.warning(
                "%s: more than %d bytes unsent (the client is not reading): dropping the"
                " connection, the session stays resumable",
                self.peer,
                self._output.limit,
            )
            self.drop()

    def flush(self) -> None:
        """Write out what the core has, and make sure it is ticked in time."""
        self.write_out()
        self.update_timer()

    def cancel_timers(self) -> None:
        """Cancel the heartbeat timer and any throttle wake-up."""
        self._timer.cancel()
        self._resume.cancel()

    def update_timer(self) -> None:
        """Make sure the core is ticked at (or just after) its next deadline."""
        core = self.core
        if core is None or self.closed:
            return
        deadline = core.next_deadline()
        if deadline is None:
            self._timer.cancel()
        else:
            # A hair late rather than early, so that the core finds the deadline passed.
            self._timer.at(deadline + 0.001)

    def _on_timer(self) -> None:
        if not self.closed:
            self.guard("running the session's timers", self._tick)
            self.server.flush()

    def _tick(self) -> None:
        core = self.core
        assert core is not None
        self.handle_events(core.tick(self.server.loop.time()))
        self.flush()

    def _check_throttle(self) -> None:
        """After a read (and when a pause ends): stop reading while the session's throttle
        is in debt."""
        session = self.session
        throttle = session.throttle if session is not None else None
        loop_time = self.server.loop.time()
        delay = throttle.pause(loop_time) if throttle is not None else 0.0
        if not delay:
            self.release_reading("throttle")
        elif not self._resume.armed and self.transport is not None and not self.closed:
            self.hold_reading("throttle")
            self._resume.at(loop_time + delay)

    def _on_resume(self) -> None:
        if not self.closed:
            self._check_throttle()
