"""The session layer over a real connection: :class:`Session`.

:class:`Session` is a thin shell around :class:`smarkets.protocol.connection.Connection`
(which holds every rule of PROTOCOL.md section 4: numbering, replay, gaps,
duplicates, gapfills, heartbeats, login and logout).  The shell only does the
I/O: it owns a :class:`~smarkets.session_socket.SessionSocket`, feeds the core
what arrives, writes what the core produces, wakes the core when its timers
are due, and turns the end of a session into exceptions a script can act on.

Threads: one thread may read (:meth:`Session.read_events`) while others
send (:meth:`Session.send`, :meth:`Session.send_all`).  Numbering a payload and
writing it happen under one lock, so payloads go out in seq order; the lock is
never held while waiting for input, nor by the caller's own code.

The module is over 500 lines because it is that one class (its docstring says why it is
as long as it is).  What a client keeps and decides between connections is
:class:`~smarkets.client_session.ClientSession`, shared with the asyncio shell.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from smarkets.client_session import ClientSession, error_for_end
from smarkets.errors import (
    ConnectionClosed,
    Error,
    NotLoggedInError,
    ProtocolError,
    RemoteProtocolError,
    SessionEndedError,
    SocketError,
    SocketTimeout,
)
from smarkets.journal import Journal
from smarkets.lifecycle import Phase
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    Event,
    LoggedIn,
    Received,
    Role,
    SessionEnded,
    State,
)
from smarkets.reconnect import (
    ConnectionEvent,
    ConnectionListener,
    ConnectionState,
    ReconnectPolicy,
    is_transient,
    notify,
)
from smarkets.session_socket import SessionSocket
from smarkets.settings import SessionSettings
from smarkets.state_store import StateStore

__all__ = ["Event", "LoggedIn", "Received", "Session", "State", "error_for_end"]

log = logging.getLogger("smarkets.session")

# The phases a disconnect() takes back to IDLE; the others stay (ended, or being ended).
_DROPPED_BY_DISCONNECT = frozenset({Phase.LIVE, Phase.LOGIN_SENT, Phase.LOGOUT_SENT})


class Session:
    """One trading session with the exchange, over as many connections as it takes.

    ``Session(settings)`` starts a new session at the first :meth:`login`;
    ``Session(settings, session_id, inseq, outseq)`` resumes an existing one
    (the id and both next seqs as they were when its connection dropped).
    With a ``state_store`` (e.g. :class:`~smarkets.state_store.FileStateStore`)
    and no ``session_id``, the numbers saved there are loaded, and they are
    saved again whenever they change, so a restarted script resumes on its own.

    The session's numbers are readable at any time: :attr:`session` (the id,
    ``None`` before the first login), :attr:`inseq` and :attr:`outseq`.

    Nothing happens in the background: heartbeats are sent and timeouts
    noticed while the script is inside :meth:`read_events` (or a method that
    reads, like :meth:`login`), so a script should read regularly, at least
    once per heartbeat interval.

    ``transport`` replaces the :class:`~smarkets.session_socket.SessionSocket`
    (tests, other transports); ``clock`` replaces :func:`time.monotonic`.

    ``journal`` (a path or a :class:`~smarkets.journal.Journal`) records every
    payload sent and received, for :func:`smarkets.journal.replay`; it is
    :attr:`journal` afterwards (close it when done).

    ``reconnect`` (a :class:`~smarkets.reconnect.ReconnectPolicy`; ``None``, the
    default, turns it off) makes the session reconnect and resume by itself when
    the connection fails while reading (see :mod:`smarkets.reconnect`);
    ``on_connection_event`` is then told of each
    :class:`~smarkets.reconnect.ConnectionEvent`.  With a policy, what is sent
    while the connection is down is numbered and kept, and reaches the server
    after the resume.

    With a state store that keeps what was sent (:class:`~smarkets.state_store.FileStateStore`),
    a process started again answers the server's replay requests for what the
    previous one sent; see :attr:`auto_commit` for what its saved ``inseq`` means.

    Where the session is in its life is one declared state machine,
    :attr:`phase` (:mod:`smarkets.lifecycle`).  Why this class is over 300 lines:
    it is the one I/O shell of a session's whole life (login, the read pump and its
    timers, logout waited for or left to a reading thread, reconnecting), all under
    one lock, and each path spells out its failures (what is kept for the next read,
    what is saved, what is raised) so that nothing is lost between them.  The rules
    themselves live elsewhere: the protocol in :mod:`smarkets.protocol`, what is kept and
    decided between connections in :mod:`smarkets.client_session`, the phases in
    :mod:`smarkets.lifecycle`, what is saved and when in :mod:`smarkets.saving`, the
    reconnect schedule in :mod:`smarkets.reconnect`.
    """

    def __init__(
        self,
        settings: SessionSettings,
        session_id: str | None = None,
        inseq: int = 1,
        outseq: int = 1,
        *,
        state_store: StateStore | None = None,
        transport: SessionSocket | None = None,
        clock: Callable[[], float] = time.monotonic,
        journal: Journal | str | os.PathLike[str] | None = None,
        reconnect: ReconnectPolicy | None = None,
        on_connection_event: ConnectionListener | None = None,
    ) -> None:
        self.settings = settings
        #: The state store (``None``: nothing is saved).
        self.state_store = state_store
        # What is kept of the session across connections, and decided about them
        # (smarkets.client_session): numbers, state store, phase, extensions granted.
        self._kept = ClientSession(
            settings, session_id, inseq, outseq, state_store=state_store, journal=journal
        )
        self._saver = self._kept.saver
        self._life = self._kept.life
        #: The :class:`~smarkets.reconnect.ReconnectPolicy`, or ``None`` (no reconnecting).
        self.reconnect_policy = reconnect
        #: Told of each :class:`~smarkets.reconnect.ConnectionEvent` (``fn(event)``).
        self.on_connection_event = on_connection_event
        self._reconnect_rng = reconnect.rng() if reconnect is not None else None
        self._last_error: BaseException | None = None
        self._socket = transport if transport is not None else SessionSocket(settings)
        self._clock = clock
        self._lock = threading.RLock()
        self._core: Connection | None = None
        # What was received and not yet returned (the one backlog), oldest first.
        self._pending: deque[Event] = deque()
        # The end of the session, raised once every event before it has been returned;
        # and the end the reconnect policy has already reported (ConnectionState.ENDED).
        self._deferred: SessionEndedError | None = None
        self._reported_end: SessionEndedError | None = None
        #: The :class:`~smarkets.journal.Journal` recording the payloads, or ``None``.
        self.journal = self._kept.journal

    # -- numbers and state -------------------------------------------------

    @property
    def session(self) -> str | None:
        """The session id (``None`` until the server has assigned one)."""
        return self._kept.state.session_id

    @property
    def inseq(self) -> int:
        """The next seq expected from the server."""
        return self._kept.state.inseq

    @property
    def outseq(self) -> int:
        """The next seq this client will send."""
        return self._kept.state.outseq

    @property
    def extensions(self) -> int | None:
        """The version of the protocol extensions the server granted at the latest login.

        ``None`` before the first login; ``0`` when the server granted none (a server that
        speaks only the published schema, or ``settings.extensions`` off): features that
        need extensions then raise :class:`~smarkets.errors.ExtensionNotGrantedError`.
        """
        return self._kept.extensions

    def require_extensions(self, feature: str) -> None:
        """Raise :class:`~smarkets.errors.ExtensionNotGrantedError` unless extensions were
        granted at the latest login (``feature`` names what needs them, for the message).

        Before the first login it raises only when the settings do not ask for them: what
        is queued then goes out after a login that asks.
        """
        self._kept.require_extensions(feature)

    @property
    def state(self) -> State:
        """Where the current connection is: ``AWAITING_LOGIN`` before any, ``CLOSED`` after."""
        core = self._core
        if core is None:
            return State.AWAITING_LOGIN
        if not self._socket.connected:
            return State.CLOSED
        return core.state

    @property
    def phase(self) -> Phase:
        """Where the session is in its life, beyond one connection (see
        :mod:`smarkets.lifecycle`): ``LIVE`` from a login until a logout or a
        ``disconnect()``, ``ENDED`` once it is over for good, and so on."""
        return self._life.phase

    @property
    def connected(self) -> bool:
        """True while the connection to the server is open (logged in or not)."""
        return self._socket.connected

    @property
    def logged_in(self) -> bool:
        """True while connected and logged in."""
        core = self._core
        return core is not None and core.state is State.LOGGED_IN and self._socket.connected

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the session's timers run on (:func:`time.monotonic` unless a test
        gave another): what a caller's own deadlines should be measured with."""
        return self._clock

    @property
    def socket(self) -> SessionSocket:
        """The transport (for its :meth:`~smarkets.session_socket.SessionSocket.fileno`)."""
        return self._socket

    def fileno(self) -> int:
        """The connection's file descriptor, for ``select`` (-1 when not connected).

        Events already received may be waiting in :attr:`pending_events`, which
        ``select`` cannot see; check it first.
        """
        return self._socket.fileno()

    @property
    def ending(self) -> bool:
        """True when the session has ended: :meth:`read_events` raises the end once it
        has returned every event before it."""
        return self._deferred is not None

    @property
    def pending_events(self) -> int:
        """How many received events wait to be returned by :meth:`read_events`."""
        return len(self._pending)

    def reset(self) -> None:
        """Forget the session: the next :meth:`login` starts a new one (not while connected)."""
        with self._lock:
            if self._socket.connected:
                raise Error("disconnect or log out before resetting the session")
            self._kept.new_session()

    # -- what the application has processed ----------------------------------

    @property
    def auto_commit(self) -> bool:
        """Whether a payload counts as processed as soon as it is received (default ``True``).

        The ``inseq`` saved in the state store is where a restarted process resumes:
        the server replays from there.  It must not run ahead of what the application
        has finished with, or a crash would lose what it had not.  With ``True`` a
        payload counts as finished once received: a crash before the script has
        handled what :meth:`read_events` returned loses that.  With ``False`` the
        caller reports each application payload with :meth:`processed` once done
        with it, and the saved ``inseq`` stays at the oldest one not reported;
        :class:`~smarkets.client.Smarkets` sets it so and reports each payload once
        its handlers have run.  Then a crash may deliver the payloads being
        processed again after the restart (at least once); see :meth:`resume_from`
        for exactly once.
        """
        return self._saver.auto_commit

    @auto_commit.setter
    def auto_commit(self, value: bool) -> None:
        self._saver.auto_commit = value

    def processed(self, seq: int | None) -> None:
        """Report that the application is done with payload ``seq`` (``auto_commit`` False).

        Once every application payload handed over so far is reported, the
        numbers are saved (the state store's ``inseq`` moves on).  Unknown seqs
        (session-level payloads, ones reported already) are ignored.
        """
        if seq is None or not self._saver.waiting:
            return  # nothing noted (no state store), or all reported already
        with self._lock:
            if self._saver.processed(seq):
                self._save()

    def resume_from(self, inseq: int) -> None:
        """Have the next resume deliver the server's payloads from seq ``inseq`` on.

        For exactly-once processing across a crash: an application that writes
        each payload's seq together with its effects knows the last seq it has
        applied, ``last``; calling ``resume_from(last + 1)`` before
        :meth:`login` makes the server replay from there, so that nothing it
        applied is delivered again and nothing after it is skipped.  Only
        between connections, for a session that has an id.
        """
        if isinstance(inseq, bool) or not isinstance(inseq, int) or inseq < 1:
            raise ValueError(f"inseq must be an int >= 1, not {inseq!r}")
        with self._lock:
            if self._socket.connected:
                raise Error("resume_from() is for between connections: disconnect first")
            if not self._kept.state.session_id or self._life.finished:
                raise Error("there is no session to resume")
            self._kept.state.inseq = inseq
            self._saver.forget_unprocessed()
            self._save()

    # -- login -------------------------------------------------------------

    def login(self, receive: bool = True) -> list[Event]:
        """Connect if needed and log in, resuming the session when it has an id.

        Blocks until the server answers.  Returns the events received up to
        and including the :class:`~smarkets.protocol.events.LoggedIn` (among them the
        ``Received`` login response); anything that arrived behind it is kept
        for the next :meth:`read_events`.  A login that is already done
        returns ``[]``.

        With ``receive=False`` it connects and sends the login, and returns ``[]``
        without waiting: the response is then for :meth:`read_events` (in a
        reading thread, say), which completes the login when it arrives, or raises
        the refusal.  Until then nothing can be sent.

        Raises :class:`~smarkets.errors.LoginError` (bad credentials),
        :class:`~smarkets.errors.UnknownSessionError` (the session to resume
        is gone), :class:`~smarkets.errors.LoginTimeoutError` (no answer within
        ``settings.login_timeout``), other
        :class:`~smarkets.errors.SessionEndedError` subclasses for other
        refusals, and the :class:`~smarkets.errors.SocketError` family when the
        connection fails.
        """
        with self._lock:
            if self.logged_in:
                log.debug("login: already logged in")
                return []
            core = self._core
            life = self._life
            if not (life.phase is Phase.LOGIN_SENT and core is not None and self._readable(core)):
                core = self._send_login()
            if not receive:
                life.enter(Phase.LOGIN_SENT)  # the answer is for read_events
            elif life.phase is Phase.LOGIN_SENT:
                life.enter(Phase.IDLE)  # this call waits for the answer itself
        if not receive:
            return []
        received: list[Event] = []
        while True:
            events = self._pump(core, math.inf)
            for index, event in enumerate(events):
                if isinstance(event, LoggedIn):
                    self._kept.logged_in(event)
                    # What came behind the response (even the session's end) is
                    # for the next read.
                    with self._lock:
                        self._pending.extend(events[index + 1 :])
                    received.extend(events[: index + 1])
                    return received
            received.extend(self._end_or_return(events))
            if self._deferred is not None:
                # Refused: what came before the refusal is for the next read, the
                # refusal is raised now.
                error, self._deferred = self._deferred, None
                with self._lock:
                    self._pending.extendleft(reversed(received))
                raise error

    def _send_login(self) -> Connection:
        """Connect, and send the login on a new core (under the lock); the core."""
        self._kept.prepare_login()
        if self._core is not None and self._socket.connected:
            # A connection left from an earlier, failed or ended login.
            self._socket.close()
        self._socket.connect()
        core = self._kept.connection(self._clock(), self._socket.address)
        self._core = core
        self._flush_core(core)
        return core

    def _readable(self, core: Connection) -> bool:
        """Whether :meth:`read_events` may read from ``core``'s connection now: logged in,
        or waiting for the answer to a login or logout sent with ``receive=False``."""
        if not self._socket.connected:
            return False
        state = core.state
        return (
            state is State.LOGGED_IN
            or (state is State.LOGGING_IN and self._life.phase is Phase.LOGIN_SENT)
            or (state is State.LOGGING_OUT and self._life.phase is Phase.LOGOUT_SENT)
        )

    # -- reading -------------------------------------------------------------

    def read_events(self, timeout: float | None = None, limit: int | None = None) -> list[Event]:
        """Wait for what the server sends; return the events, in order (at most ``limit``
        of them: the rest wait for the next read).

        With a :attr:`reconnect_policy`, a failed connection or a resumable end
        of the session is not raised: the session reconnects and resumes (see
        :meth:`reconnect`), and the events of the login (a
        :class:`~smarkets.protocol.events.LoggedIn` among them) are returned.
        """
        try:
            if self._resume_due():
                cause = self._last_error
                if self._deferred is not None:  # a resumable end, now its turn
                    cause, self._deferred = self._deferred, None
                events = self.reconnect(cause)
            else:
                events = self._read_events(timeout, limit)
        except (SocketError, SessionEndedError) as exc:
            if not self._may_resume_after(exc):
                if isinstance(exc, SessionEndedError) and self.reconnect_policy is not None:
                    if not exc.resumable and exc is not self._reported_end:
                        self._notify(ConnectionState.ENDED, error=exc)
                raise
            events = self.reconnect(exc)
        return events

    def _read_events(self, timeout: float | None = None, limit: int | None = None) -> list[Event]:
        """Wait for what the server sends; return the events, in order.

        Events kept from earlier come first, without waiting.  Otherwise waits
        for input, feeds it to the core, and writes what the core answers
        (heartbeats, pongs, replays) at once; heartbeats also go out while it
        waits.  Application payloads come as :class:`Received` events, each
        exactly once and in seq order; duplicates and gapfills never appear.

        With ``timeout=None``, waits up to ``settings.socket_timeout`` and raises
        :class:`~smarkets.errors.SocketTimeout` if nothing arrived; with a
        number of seconds (0 to poll), returns ``[]`` when it passes.

        When the server ends the session, raises the
        :class:`~smarkets.errors.SessionEndedError` subclass for its reason, once every
        event that arrived before the end has been returned (by this read or an
        earlier one).
        """
        with self._lock:
            pending = self._take_pending(limit)
            deferred, self._deferred = (None, self._deferred) if pending else (self._deferred, None)
        if pending:
            return self._end_or_return(pending)
        if deferred is not None:
            raise deferred
        raise_on_timeout = timeout is None
        patience = self.settings.socket_timeout if timeout is None else max(timeout, 0.0)
        until = self._clock() + patience
        while True:
            core = self._core
            if core is None or not (
                (core.state is State.LOGGED_IN and self._socket.connected) or self._readable(core)
            ):
                if self._life.phase is Phase.LOGGED_OUT:
                    # logout(receive=False) is over: tell the reading thread, once.
                    self._life.enter(Phase.ENDED)
                    raise ConnectionClosed(
                        f"the connection to {self._socket.address} closed after the logout",
                        self.settings.host,
                        self.settings.port,
                    )
                raise NotLoggedInError(self._not_logged_in_reason())
            events = self._pump(core, until)
            if self._life.phase is Phase.LOGIN_SENT:
                for event in events:
                    if isinstance(event, LoggedIn):
                        self._kept.logged_in(event)
            events = self._end_or_return(events)
            if limit is not None and len(events) > limit:
                with self._lock:
                    self._pending.extend(events[limit:])  # nothing else waits: it was empty
                return events[:limit]
            if events:
                return events
            if self._clock() >= until:
                if raise_on_timeout:
                    raise SocketTimeout(
                        f"nothing received from {self._socket.address} in {patience:g}s",
                        self.settings.host,
                        self.settings.port,
                    )
                return []

    def _not_logged_in_reason(self) -> str:
        if self._core is None:
            return "not logged in: call login() first"
        if self._life.finished:
            return "the session has ended: call login() to start a new one"
        return "not connected: call login() to resume the session"

    def _take_pending(self, limit: int | None = None) -> list[Event]:
        pending = self._pending
        # The session's end, when it waits here, goes with everything before it.
        if limit is None or limit >= len(pending) or isinstance(pending[-1], SessionEnded):
            events = list(pending)
            pending.clear()
            return events
        return [pending.popleft() for _ in range(limit)]

    def read_pending(self, limit: int | None = None) -> list[Event]:
        """What :meth:`read_events` would return at once from what was received already
        (at most ``limit`` events), without waiting or reconnecting: ``[]`` when nothing
        waits.  The fast path of a reader that takes a few events at a time."""
        pending = self._pending
        if not pending:
            return []
        if limit == 1:
            # read(): one at a time, the common case.  popleft() is atomic, so another
            # thread's logout() or reconnect() taking the rest needs no lock here.  (The
            # session's end, when it waits here, goes with everything before it: below.)
            try:
                if type(pending[-1]) is not SessionEnded:
                    return [pending.popleft()]
            except IndexError:  # taken by another thread meanwhile
                return []
        with self._lock:
            events = self._take_pending(limit)
        if events and isinstance(events[-1], SessionEnded):
            return self._end_or_return(events)
        return events

    def take_pending(self) -> list[Event]:
        """Take the events received but not yet returned (the next read's), in order."""
        with self._lock:
            return self._take_pending()

    def unread(self, events: list[Event]) -> None:
        """Give back events a caller took but did not use: the next read returns them
        first, in order (the one backlog of what was received and not yet handled)."""
        if events:
            with self._lock:
                self._pending.extendleft(reversed(events))

    def _pump(self, core: Connection, until: float) -> list[Event]:
        """One round: wake the core's timers, wait for input until ``until``, feed it.

        The timers are checked once per round, before waiting (a round that received
        something returns, and the next round starts with them).
        """
        with self._lock:
            deadline = core.next_deadline()
            now = self._clock()
            if deadline is not None and now >= deadline:
                events = core.tick(now)
                self._flush_core(core, events)
                if events:
                    return events
                deadline = core.next_deadline()
        wake = until if deadline is None else min(until, deadline)
        wait = None if math.isinf(wake) else max(wake - self._clock(), 0.0)
        if not self._socket.wait_readable(wait):
            return []
        with self._lock:
            if self._core is not core:
                raise NotLoggedInError("the connection was closed by another thread")
            try:
                data = self._socket.recv_data()
                if not data:
                    raise self._closed_by_server(core)
            except SocketTimeout:
                return []  # readable, but a TLS record never completed: try again
            except SocketError:
                self._save()
                raise
            now = self._clock()
            try:
                events = core.receive_data(data, now)
                self._saver.received(events)
            except ProtocolError as exc:
                if core.framing_failed:
                    # A frame header that breaks the framing: nothing after it can be
                    # read, not even a LOGOUT's confirmation. Close; the session stays
                    # resumable.
                    self._socket.close()
                    self._save()
                else:
                    # Nothing of the bad batch was applied; the stream is unusable.  The
                    # server is told why before the connection closes (LOGOUT
                    # INVALID_PAYLOAD, or its published stand-in NONE for a session without
                    # extensions); a session ended by logout cannot be resumed.
                    self._abort(core, now, exc)
                raise RemoteProtocolError(f"from {self._socket.address}: {exc}") from exc
            self._flush_core(core, events)
            self._save()
            return events

    def _closed_by_server(self, core: Connection) -> ConnectionClosed:
        """The error for a connection the server closed (in the middle of a frame or not)."""
        buffered = core.buffered
        if buffered:
            return ConnectionClosed(
                f"{self._socket.address} closed the connection in the middle of a frame "
                f"({buffered} bytes of an unfinished frame discarded)",
                self.settings.host,
                self.settings.port,
                mid_frame=True,
                buffered=buffered,
            )
        return ConnectionClosed(
            f"{self._socket.address} closed the connection", self.settings.host, self.settings.port
        )

    def _abort(self, core: Connection, now: float, cause: ProtocolError) -> None:
        """End the session over a payload the server sent that cannot be read: LOGOUT
        INVALID_PAYLOAD (best effort: a failed write is ignored), then close."""
        ended = core.abort(eto_pb2.LOGOUT_INVALID_PAYLOAD, now)
        if ended:
            log.warning(
                "ending the session with %s: %s (LOGOUT INVALID_PAYLOAD)",
                self._socket.address,
                cause,
            )
            try:
                self._flush_core(core)
            except SocketError as exc:  # pragma: no cover - _flush_core ignores it once CLOSED
                log.debug("could not send the LOGOUT: %s", exc)
        self._socket.close()
        if ended:
            self._kept.finish()
        else:
            self._save()

    def _flush_core(self, core: Connection, events: list[Event] | None = None) -> None:
        """Write what the core has queued.

        After the session ended, a failed write (the server may already have
        gone) is ignored.  Otherwise the events already taken from the core are
        kept for the next read before the error is raised, so none is lost.
        """
        self._kept.before_write()  # on record before the bytes can reach the server
        data = core.data_to_send()
        if not data:
            return
        try:
            self._socket.send_data(data)
        except SocketError:
            if core.state is State.CLOSED or self._life.logout_asked:
                log.debug("could not write the last %d bytes: the connection is gone", len(data))
                return
            if events:
                self._pending.extend(events)
                events.clear()
            self._save()
            raise

    def _end_or_return(self, events: list[Event]) -> list[Event]:
        """Handle a :class:`SessionEnded` at the end of ``events``; return the rest."""
        if not events or not isinstance(events[-1], SessionEnded):
            return events
        rest = events[:-1]
        with self._lock:
            self._socket.close()
            error = self._kept.ended(events[-1], self._socket.address)
        if error is None:  # the logout asked for
            return rest
        if rest:
            self._deferred = error  # raised by the next read, after these are returned
            return rest
        raise error

    # -- sending -------------------------------------------------------------

    def send(self, payload: seto_pb2.Payload) -> int:
        """Number ``payload``, keep it for replay, write it at once; return its seq."""
        return self.send_all([payload])[0]

    def send_all(self, payloads: Iterable[seto_pb2.Payload]) -> list[int]:
        """Number and write several payloads in one write; return their seqs, in order.

        Safe to call from one thread while another is in :meth:`read_events`.
        Raises :class:`~smarkets.errors.NotLoggedInError` when not logged in.  If
        the write fails, the payloads are numbered and kept all the same: after
        the next :meth:`login` the server asks for them again (REPLAY) and gets
        them.
        """
        with self._lock:
            core = self._core
            if core is None or core.state is not State.LOGGED_IN or not self._socket.connected:
                if not self._resumable() or self._socket.connected:
                    raise NotLoggedInError(self._not_logged_in_reason())
                # Reconnecting: numbered and kept; the server asks for them after the resume.
                core = Connection.detached(Role.CLIENT, self._kept.state, now=self._clock())
            now = self._clock()
            seqs: list[int] = []
            try:
                for payload in payloads:
                    seqs.append(core.send(payload, now))
            finally:
                try:
                    self._flush_core(core)
                except SocketError as exc:
                    if not self._may_resume_after(exc):
                        raise
                    # Kept: the reading thread reconnects and the server asks for them.
                    log.info("write failed (%s): the payloads go after the resume", exc)
                    self._last_error = exc
                self._save()
            return seqs

    # -- ending ----------------------------------------------------------------

    def logout(self, timeout: float | None = None, receive: bool = True) -> list[Event]:
        """End the session: send LOGOUT, wait for the confirmation, close.

        Waits up to ``timeout`` (default ``settings.socket_timeout``) for the
        confirmation; the connection is closed either way and the session
        cannot be resumed afterwards (the next :meth:`login` starts a new one).
        Returns the events that were pending or arrived before the
        confirmation, for the caller to process.  Does nothing much when not
        logged in (just closes any connection).

        With ``receive=False`` it sends the LOGOUT and returns ``[]`` at once,
        leaving everything else to the reading thread: :meth:`read_events` returns
        what arrives up to the confirmation (which closes the connection), and the
        read after that raises :class:`~smarkets.errors.ConnectionClosed`, the
        reading thread's sign that the session is over.
        """
        with self._lock:
            life = self._life
            if not receive and self.logged_in:
                life.enter(Phase.LOGOUT_SENT)
                log.info("logging out of session %s", self._kept.state.session_id)
                core = self._core
                assert core is not None
                core.logout(self._clock())
                self._flush_core(core)
                return []
            received = self._take_pending()
            core = self._core
            if core is None or core.state is not State.LOGGED_IN or not self._socket.connected:
                if received and isinstance(received[-1], SessionEnded):
                    # The server ended the session already; it only remains to say so quietly.
                    if not (life.logout_asked or life.finished):
                        life.enter(Phase.LOGGING_OUT)
                    received = self._end_or_return(received)
                self._socket.close()
                if life.phase is Phase.LIVE or life.phase is Phase.LOGIN_SENT:
                    life.enter(Phase.IDLE)
                return received
            life.enter(Phase.LOGGING_OUT)
            log.info("logging out of session %s", self._kept.state.session_id)
            core.logout(self._clock())
            self._flush_core(core)
        limit = self.settings.socket_timeout if timeout is None else timeout
        until = self._clock() + limit
        try:
            while core.state is State.LOGGING_OUT and self._socket.connected:
                if self._clock() >= until:
                    log.warning(
                        "no logout confirmation from %s in %gs", self._socket.address, limit
                    )
                    break
                events = self._pump(core, until)
                received.extend(self._end_or_return(events))
        except (SocketError, ProtocolError, NotLoggedInError) as exc:
            log.info("connection closed while logging out: %s", exc)
        except SessionEndedError as exc:  # pragma: no cover - a requested logout is quiet
            log.info("the session ended while logging out: %s", exc)
        finally:
            with self._lock:
                self._socket.close()
                self._kept.finish()
        return received

    def disconnect(self) -> None:
        """Drop the connection without logging out; the session stays resumable.

        The next :meth:`login` resumes it with the same id and seqs.
        """
        with self._lock:
            if self._socket.connected:
                log.info(
                    "disconnecting from %s (session %s stays resumable)",
                    self._socket.address,
                    self._kept.state.session_id,
                )
            if self._life.phase in _DROPPED_BY_DISCONNECT:
                self._life.enter(Phase.IDLE)  # (a logout's confirmation is not read now)
            self._socket.close()
            self._save()

    close = disconnect

    # -- reconnecting ------------------------------------------------------------

    def _resumable(self) -> bool:
        """A policy is set and the session is one to keep connected and can be resumed."""
        return (
            self.reconnect_policy is not None
            and self._life.wants_connection
            and bool(self._kept.state.session_id)
        )

    def _resume_due(self) -> bool:
        """The connection is down (and nothing is pending) and the policy is to resume."""
        if not self._resumable() or self._pending:
            return False
        core = self._core
        return core is None or not self._socket.connected or core.state is State.CLOSED

    def _may_resume_after(self, exc: BaseException) -> bool:
        """Whether ``exc`` (raised while reading or writing) is one to reconnect after."""
        if not self._resumable() or not is_transient(exc):
            return False
        # A read timeout leaves the connection up: that one is the caller's.
        return isinstance(exc, SessionEndedError) or not self._socket.connected

    def _notify(self, state: ConnectionState, **fields: object) -> None:
        event = ConnectionEvent(state, self._kept.state.session_id, **fields)  # type: ignore[arg-type]
        notify(self.on_connection_event, event)

    def reconnect(self, cause: BaseException | None = None) -> list[Event]:
        """Reconnect and resume the session now, attempting as the policy says.

        :meth:`read_events` calls it when the connection fails (``cause`` is
        the error); a script may call it too.  Without a policy, one attempt
        is made at once.  Returns what arrived before the failure and was not
        yet returned, then the events of the login (ending with
        :class:`~smarkets.protocol.events.LoggedIn`).  Raises the error of the
        last attempt when ``max_attempts`` attempts in a row failed, and at
        once an error that ends the session for good
        (:class:`~smarkets.errors.UnknownSessionError`,
        :class:`~smarkets.errors.LoginError`, …) or a
        :class:`~smarkets.errors.ProtocolError`.
        """
        policy = self.reconnect_policy or ReconnectPolicy(max_attempts=1, initial_delay=0.0)
        rng = self._reconnect_rng or policy.rng()
        with self._lock:
            life = self._life
            if not self._kept.state.session_id or life.finished or life.logout_asked:
                raise NotLoggedInError(self._not_logged_in_reason())
            life.enter(Phase.LIVE)
            carried = self._take_pending()
            self._socket.close()
        self._last_error = None
        self._notify(ConnectionState.DISCONNECTED, error=cause)
        attempt = 0
        last: BaseException | None = cause
        while policy.max_attempts is None or attempt < policy.max_attempts:
            attempt += 1
            delay = policy.delay(attempt, rng)
            self._notify(ConnectionState.RECONNECTING, attempt=attempt, delay=delay, error=last)
            if delay > 0:
                policy.sleep(delay)
            if not self._life.wants_connection:
                with self._lock:
                    self._pending.extendleft(reversed(carried))
                raise NotLoggedInError("disconnect() or logout() was called while reconnecting")
            try:
                events = self.login()
            except SessionEndedError as exc:
                with self._lock:
                    carried += self._take_pending()
                if not exc.resumable:
                    self._notify(ConnectionState.ENDED, attempt=attempt, error=exc)
                    self._reported_end = exc
                    return self._raise_after(carried, exc)
                last = exc
            except SocketError as exc:
                last = exc
            except BaseException:
                with self._lock:
                    self._pending.extendleft(reversed(carried))
                raise
            else:
                self._notify(ConnectionState.CONNECTED, attempt=attempt)
                return carried + events
        self._notify(ConnectionState.GAVE_UP, attempt=attempt, error=last)
        assert last is not None
        return self._raise_after(carried, last)

    def _raise_after(self, events: list[Event], error: BaseException) -> list[Event]:
        """Raise ``error`` now, or, if ``events`` came before it, return them and raise it
        at the next read."""
        if not events:
            raise error
        if not isinstance(error, SessionEndedError):
            with self._lock:
                self._pending.extendleft(reversed(events))
            raise error
        self._deferred = error
        return events

    # -- state store -------------------------------------------------------------

    def _save(self) -> None:
        self._kept.save()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disconnect()

    def __repr__(self) -> str:
        return (
            f"<Session {self.session or '(new)'} inseq={self.inseq} outseq={self.outseq} "
            f"{self.state.value} {self._socket.address}>"
        )
