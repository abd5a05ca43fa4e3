"""The session layer's rules (PROTOCOL.md section 4), with no I/O.

This module is the one place where sequence numbers, replay, gap detection,
duplicates, gapfills, heartbeats, login and logout are decided.  It takes
payload bytes (as :class:`smarkets.protocol.framing.FrameDecoder` yields them) in and
gives payload bytes (to frame with :func:`smarkets.protocol.framing.encode_frame`) and
events out; it never touches a socket,
never reads a clock (callers pass ``now``) and starts no thread.  The client's
:class:`smarkets.session.Session` and the sandbox's asyncio server are thin
shells around it, so both ends of a connection obey the very same rules.

Two objects:

* :class:`SessionState` is the session: its id, ``inseq`` (next seq expected
  from the peer), ``outseq`` (next seq to send) and the store of what was sent,
  kept for replay.  It outlives connections, which is what makes a session
  resumable.
* :class:`SessionCore` is one connection of a session: the
  login/logout state machine, heartbeat timers, and the in/out sequencing
  applied to the :class:`SessionState` it is attached to.

How incoming payloads are treated
---------------------------------
Application payloads (anything but a session-only one) are delivered
strictly in seq order, each exactly once: a payload above ``inseq`` means
something was lost, so the core asks for a replay (once per gap) and drops
what came early; the replayed copies then arrive in order.  A payload below
``inseq`` is a duplicate and is dropped.

Session-level payloads (login, login response, replay requests, heartbeats,
pings, pongs, logouts) are *acted on when they arrive*,
even when they arrive early, and their seq is accounted for in order.  This
matters around a resume: both sides may be waiting for a replay from the other
at once, and a replay request that had to wait its turn would never be served.
Their replayed copies come back as GAPFILL, which only takes the seq, so
nothing is acted on twice.  The other eto kinds (a downtime alert, a throttle
notice) are news for the application: sequenced and replayed like any
application payload.

A peer that sends what cannot be decoded is told why before the connection
closes: the shell calls :meth:`SessionCore.abort` (LOGOUT ``INVALID_PAYLOAD``,
or its published stand-in for a session without extensions).

The module is over 500 lines because it is :class:`SessionCore` (its docstring says why
that class is one) and this account of the rules.
"""

from __future__ import annotations

import logging

from smarkets.errors import LocalProtocolError, RemoteProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.events import Event, LoggedIn, LoginRequested, Received, SessionEnded
from smarkets.protocol.extensions import logout_reason_for
from smarkets.protocol.payloads import (
    IS_REPLAY_SUFFIX,
    MAX_SEQ,
    decode_payloads,
    is_session_level,
    seq_suffix,
    session_payload,
)
from smarkets.protocol.replay import SessionState
from smarkets.protocol.states import TRANSITIONS, Role, State
from smarkets.redact import redacted_text as describe

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "DEFAULT_LOGIN_TIMEOUT",
    "SessionCore",
]

log = logging.getLogger("smarkets.session")
wire_log = logging.getLogger("smarkets.wire")

Payload = seto_pb2.Payload

# eto payload types that stand for the session layer itself.
_PAYLOAD_ETO = seto_pb2.PAYLOAD_ETO
_PAYLOAD_LOGIN = seto_pb2.PAYLOAD_LOGIN
_ETO_NONE = eto_pb2.PAYLOAD_NONE
_ETO_PING = eto_pb2.PAYLOAD_PING
_ETO_PONG = eto_pb2.PAYLOAD_PONG
_ETO_GAPFILL = eto_pb2.PAYLOAD_GAPFILL
_ETO_HEARTBEAT = eto_pb2.PAYLOAD_HEARTBEAT
_ETO_REPLAY = eto_pb2.PAYLOAD_REPLAY
_ETO_LOGIN = eto_pb2.PAYLOAD_LOGIN
_ETO_LOGIN_RESPONSE = eto_pb2.PAYLOAD_LOGIN_RESPONSE
_ETO_LOGOUT = eto_pb2.PAYLOAD_LOGOUT

DEFAULT_HEARTBEAT_INTERVAL = 15.0
DEFAULT_HEARTBEAT_TIMEOUT = 45.0
DEFAULT_LOGIN_TIMEOUT = 10.0

# Looked up once per payload on the receive path.
_CLOSED = State.CLOSED
_AWAITING_LOGIN = State.AWAITING_LOGIN
_LOGGING_IN = State.LOGGING_IN


class SessionCore:
    """One connection of a session, as a state machine with no I/O.

    Feed it the payloads the transport received with :meth:`receive_payloads`,
    give it what the application sends with :meth:`send`, call :meth:`tick`
    when :meth:`next_deadline` passes, and write out :meth:`payloads_to_send`.

    Over 300 lines on purpose: it is the whole of PROTOCOL.md section 4 as one state
    machine (login, numbering, gaps, replay, heartbeats, logout), each rule next to the
    ones it interacts with. Everything that can stand apart already does: the framing,
    the payload checks, the state table, the events and the replay store are modules of
    their own.
    """

    def __init__(
        self,
        role: Role,
        state: SessionState | None = None,
        *,
        now: float,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        login_timeout: float = DEFAULT_LOGIN_TIMEOUT,
    ) -> None:
        if heartbeat_interval <= 0 or heartbeat_timeout <= 0 or login_timeout <= 0:
            raise ValueError("heartbeat and login timings must be positive")
        self.role = role
        #: The session this connection serves.  On the server it is a fresh,
        #: unregistered state until :meth:`accept_login` attaches the real one.
        self.session = state if state is not None else SessionState()
        self.state = State.AWAITING_LOGIN
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.login_timeout = login_timeout
        self._out: list[bytes] = []
        self._started = now
        self._last_sent = now
        self._last_received = now
        # The inseq a REPLAY was last asked for on this connection: a gap is
        # reported once, and asked again only once inseq has moved on.
        self._replay_asked_at: int | None = None
        # The lowest seq that a replay queued in _out (not yet taken) starts from: a
        # request it covers is not served again (see _replay).
        self._replay_queued_from: int | None = None
        # Server: frames that arrived behind the login, held until it is decided.
        self._held: list[Payload] = []
        # True for a core with no connection (see detached()).
        self._detached = False
        #: The extensions version granted to the session (0: the published schema only);
        #: decides the LOGOUT reasons this side may send (see smarkets.protocol.extensions).
        self.extensions = 0

    @classmethod
    def detached(cls, role: Role, state: SessionState, *, now: float) -> SessionCore:
        """A core with no connection that keeps numbering and storing for ``state``.

        What it is given to :meth:`send` is numbered and kept in ``state``'s
        replay store exactly as on a live connection, but nothing is queued for
        writing (:meth:`payloads_to_send` stays empty): a later connection
        resuming ``state`` replays it when the peer asks.  It has no timers
        (:meth:`next_deadline` is ``None``, :meth:`tick` does nothing), takes no
        input (:meth:`receive_payloads` raises
        :class:`~smarkets.errors.LocalProtocolError`) and cannot log in or out.

        The sandbox keeps a parked session (whose connection dropped) numbered
        with one; the client numbers what a script sends while it reconnects.
        ``state`` must belong to a session that has logged in (it has an id).
        """
        if not state.session_id:
            raise ValueError("a detached core needs the state of a session that has an id")
        core = cls(role, state, now=now)
        core.state = State.LOGGED_IN
        core._detached = True
        return core

    def _enter(self, state: State) -> None:
        """Move to ``state``: only along :data:`~smarkets.protocol.states.TRANSITIONS`."""
        if state not in TRANSITIONS[self.state]:
            raise AssertionError(f"no transition from {self.state} to {state}")
        self.state = state

    @property
    def is_detached(self) -> bool:
        """True for a core made by :meth:`detached` (no connection)."""
        return self._detached

    # -- properties -----------------------------------------------------

    @property
    def inseq(self) -> int:
        """The next seq expected from the peer."""
        return self.session.inseq

    @property
    def outseq(self) -> int:
        """The next seq this side will send."""
        return self.session.outseq

    # -- output ---------------------------------------------------------

    def payloads_to_send(self) -> list[bytes]:
        """Take every payload produced so far, in order, to be framed and written."""
        out, self._out = self._out, []
        self._replay_queued_from = None
        return out

    def send(self, payload: Payload, now: float) -> int:
        """Number ``payload``, keep it for replay and frame it; return its seq.

        Only allowed while logged in (use :meth:`login` and :meth:`logout` for
        those payloads).
        """
        if self.state is not State.LOGGED_IN:
            raise LocalProtocolError(f"cannot send while {self.state.value}")
        return self._send(payload, now)

    def send_serialized(self, body: bytes, now: float, *, session_level: bool = False) -> int:
        """Like :meth:`send`, for a payload serialised once for many sessions; return its seq.

        ``body`` comes from :func:`serialize_once`.  This session's seq is appended to it as
        a second ``eto_payload`` holding only the seq, which protobuf merges into the first
        (the later value wins): the peer parses exactly the payload numbered for it, and
        the sender serialises once per payload instead of once per session.
        ``session_level`` tells whether it is a session-level payload (kept for replay as
        a GAPFILL marker, like those :meth:`send` is given).
        """
        if self.state is not State.LOGGED_IN:
            raise LocalProtocolError(f"cannot send while {self.state.value}")
        seq = self._next_seq()
        data = body + seq_suffix(seq)
        self._numbered(seq, data, session_level, now)
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("%s sent %s", self.role.value, describe(Payload.FromString(data)))
        return seq

    def _next_seq(self) -> int:
        seq = self.session.outseq
        if seq > MAX_SEQ:
            raise LocalProtocolError("sequence numbers exhausted: the session must end")
        return seq

    def _numbered(self, seq: int, data: bytes, session_level: bool, now: float) -> None:
        """Keep payload ``seq`` for replay, move outseq on and queue it for the transport.

        A detached core has no transport: the replay store alone keeps what it sends.
        """
        session = self.session
        session.sent.append(seq, None if session_level else data)
        session.outseq = seq + 1
        if not self._detached:
            self._out.append(data)
        self._last_sent = now

    def _send(self, payload: Payload, now: float) -> int:
        seq = self._next_seq()
        eto = payload.eto_payload
        eto.seq = seq
        if not eto.HasField("type"):
            eto.type = _ETO_NONE
        try:
            data = payload.SerializeToString()
        except Exception as exc:  # EncodeError: a required field is missing
            raise LocalProtocolError(f"cannot encode payload: {exc}") from exc
        self._numbered(seq, data, is_session_level(payload), now)
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("%s sent %s", self.role.value, describe(payload))
        return seq

    def _send_session(self, eto_type: int, now: float, **fields: object) -> int:
        payload = session_payload(eto_type)
        eto = payload.eto_payload
        for name, value in fields.items():
            getattr(eto, name).CopyFrom(value)
        return self._send(payload, now)

    # -- login and logout ---------------------------------------------

    def login(self, credentials: seto_pb2.Login, now: float) -> int:
        """Client: send the login (new session, or resume ``session.session_id``)."""
        if self.role is not Role.CLIENT:
            raise LocalProtocolError("only a client logs in")
        if self.state is not State.AWAITING_LOGIN:
            raise LocalProtocolError(f"cannot log in while {self.state.value}")
        payload = Payload(type=_PAYLOAD_LOGIN)
        payload.login.CopyFrom(credentials)
        payload.eto_payload.type = _ETO_LOGIN
        if self.session.session_id:
            payload.eto_payload.login.session = self.session.session_id
        elif self.session.outseq != 1:
            raise LocalProtocolError("a new session logs in with seq 1")
        self._enter(State.LOGGING_IN)
        self._started = now
        return self._send(payload, now)

    def accept_login(self, session: SessionState, now: float, extensions: int = 0) -> list[Event]:
        """Server: attach ``session`` to this connection and answer the login.

        ``session`` is a new :class:`SessionState` with its id set, or the state
        of the session being resumed.  ``extensions`` is the extensions version
        granted (0: none), told to the client in the LoginResponse.  Returns the
        events of any payloads that arrived behind the login.
        """
        if self.role is not Role.SERVER or self.state is not State.LOGGING_IN:
            raise LocalProtocolError("no login is waiting to be accepted")
        if not session.session_id:
            raise ValueError("the session needs an id before it is accepted")
        login, self._held = self._held[0], self._held[1:]
        login_seq = login.eto_payload.seq
        self.session = session
        if login_seq == session.inseq:
            session.inseq += 1
        # login_seq > inseq: the client sent payloads we never got; asked for
        # below.  login_seq < inseq: the client lost track of what it sent;
        # `reset` tells it where to continue.
        self._enter(State.LOGGED_IN)
        payload = session_payload(_ETO_LOGIN_RESPONSE)
        resp = payload.eto_payload.login_response
        resp.session = session.session_id
        resp.reset = session.inseq
        if extensions:
            resp.extensions = extensions
        self.extensions = extensions
        self._send(payload, now)
        events: list[Event] = [LoggedIn(session.session_id, session.inseq, extensions)]
        if login_seq > session.inseq:
            self._ask_replay(now)
        held, self._held = self._held, []
        for held_payload in held:
            if self.state is State.CLOSED:
                break
            self._handle(held_payload, now, events)
        return events

    def refuse_login(self, reason: int, now: float) -> list[Event]:
        """Server: answer the login with LOGOUT ``reason`` and end."""
        if self.role is not Role.SERVER or self.state is not State.LOGGING_IN:
            raise LocalProtocolError("no login is waiting to be refused")
        self._held.clear()
        return self._end_with_logout(reason, now)

    def logout(self, now: float, reason: int = eto_pb2.LOGOUT_NONE) -> None:
        """End the session: send LOGOUT ``reason`` and wait for its confirmation."""
        if self.state is not State.LOGGED_IN or self._detached:
            state = "detached" if self._detached else self.state.value
            raise LocalProtocolError(f"cannot log out while {state}")
        wire_reason = logout_reason_for(reason, self.extensions)
        self._send_session(_ETO_LOGOUT, now, logout=eto_pb2.Logout(reason=wire_reason))
        self._enter(State.LOGGING_OUT)

    def abort(self, reason: int, now: float) -> list[Event]:
        """End the session at once over what the peer sent: LOGOUT ``reason``, then closed.

        For a peer that broke the protocol (``LOGOUT_INVALID_PAYLOAD``: a payload that could
        not be decoded or lacked a required field) or sent what cannot be acted on
        (``LOGOUT_UNSUPPORTED_PAYLOAD``): the peer is told why before the shell closes the
        connection, in any state but closed. No confirmation is awaited. A session without
        extensions is sent the reason's published stand-in (``LOGOUT_NONE``).
        """
        if self.state is State.CLOSED or self._detached:
            return []
        self._held.clear()
        return self._end_with_logout(reason, now)

    def _end_with_logout(self, reason: int, now: float) -> list[Event]:
        wire_reason = logout_reason_for(reason, self.extensions)
        self._send_session(_ETO_LOGOUT, now, logout=eto_pb2.Logout(reason=wire_reason))
        self._enter(State.CLOSED)
        return [SessionEnded(reason, by_peer=False)]

    # -- timers ---------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do (``None``: nothing pending)."""
        if self._detached:
            return None
        if self.state in (State.AWAITING_LOGIN, State.LOGGING_IN):
            if self.role is Role.CLIENT and self.state is State.AWAITING_LOGIN:
                return None
            return self._started + self.login_timeout
        if self.state is State.CLOSED:
            return None
        if self.state is State.LOGGING_OUT:
            return self._last_received + self.heartbeat_timeout
        return min(
            self._last_sent + self.heartbeat_interval,
            self._last_received + self.heartbeat_timeout,
        )

    def tick(self, now: float) -> list[Event]:
        """Do what time asks for: heartbeats, heartbeat and login timeouts."""
        state = self.state
        if state is State.CLOSED or self._detached:
            return []
        if state in (State.AWAITING_LOGIN, State.LOGGING_IN):
            if now < self._started + self.login_timeout:
                return []
            if self.role is Role.SERVER:
                # No login in time (or the application never decided).
                self._held.clear()
                return self._end_with_logout(eto_pb2.LOGOUT_LOGIN_TIMEOUT, now)
            if state is State.LOGGING_IN:
                # The server never answered: give up on this connection, but
                # keep the session resumable; nothing is sent.
                self._enter(State.CLOSED)
                return [SessionEnded(eto_pb2.LOGOUT_LOGIN_TIMEOUT, by_peer=False)]
            return []
        if now >= self._last_received + self.heartbeat_timeout:
            if state is State.LOGGING_OUT:
                # Our logout was never confirmed: close without another one.
                self._enter(State.CLOSED)
                return [SessionEnded(eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT, by_peer=False)]
            log.warning(
                "%s heard nothing for %.1fs: heartbeat timeout",
                self.role.value,
                now - self._last_received,
            )
            return self._end_with_logout(eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT, now)
        if state is State.LOGGED_IN and now >= self._last_sent + self.heartbeat_interval:
            self._send_session(_ETO_HEARTBEAT, now)
        return []

    # -- input ------------------------------------------------------------

    def receive_payloads(self, frames: list[bytes], now: float) -> list[Event]:
        """Feed payloads from the transport; return what they mean, in order.

        Raises :class:`~smarkets.errors.RemoteProtocolError` for a payload that is not
        a valid ``seto.Payload``; the connection is unusable afterwards.
        """
        events: list[Event] = []
        if self._detached:
            raise LocalProtocolError("a detached core has no connection to receive from")
        if not frames or self.state is State.CLOSED:
            return events
        # Decode the whole batch before applying any of it: if one payload is
        # bad, none is taken, so inseq does not move past payloads that the
        # application never got, and a resume replays them.
        payloads = decode_payloads(frames)
        if self.role is Role.CLIENT and self.state is State.AWAITING_LOGIN:
            raise RemoteProtocolError("the server sent payloads before the client logged in")
        self._last_received = now
        debug = wire_log.isEnabledFor(logging.DEBUG)
        server = self.role is Role.SERVER
        handle = self._handle
        append = events.append
        for payload in payloads:
            state = self.state
            if state is _CLOSED:
                break
            if debug:
                wire_log.debug("%s received %s", self.role.value, describe(payload))
            if self._held or (server and (state is _AWAITING_LOGIN or state is _LOGGING_IN)):
                self._receive_before_login(payload, now, events)
                continue
            eto = payload.eto_payload
            seq = eto.seq
            ptype = payload.type
            session = self.session
            if (
                seq == session.inseq
                and ptype != _PAYLOAD_ETO
                and ptype != _PAYLOAD_LOGIN
                and eto.type != _ETO_GAPFILL
            ):
                # The common case, in line: the next application payload, in order.
                session.inseq = seq + 1
                append(Received(payload, seq))
            else:
                handle(payload, now, events)
        return events

    def _receive_before_login(self, payload: Payload, now: float, events: list[Event]) -> None:
        """Server: the first payload must be a login; hold what follows it."""
        if self.state is State.LOGGING_IN:
            self._held.append(payload)
            return
        eto = payload.eto_payload
        if payload.type != _PAYLOAD_LOGIN or eto.type != _ETO_LOGIN:
            log.info("first payload was not a login (seq %d): refusing", eto.seq)
            events.extend(self._end_with_logout(eto_pb2.LOGOUT_LOGIN_NOT_FIRST_SEQ, now))
            return
        session_id = eto.login.session if eto.HasField("login") else ""
        if not isinstance(session_id, str):  # upb hands back bytes for invalid UTF-8
            raise RemoteProtocolError("the login's session id is not valid UTF-8")
        if not session_id and eto.seq != 1:
            log.info("new session logged in with seq %d: refusing", eto.seq)
            events.extend(self._end_with_logout(eto_pb2.LOGOUT_LOGIN_NOT_FIRST_SEQ, now))
            return
        self._enter(State.LOGGING_IN)
        self._held.append(payload)
        events.append(LoginRequested(payload, session_id or None, eto.seq))

    def _handle(self, payload: Payload, now: float, events: list[Event]) -> None:
        """Apply the sequencing rules to one payload from the peer."""
        eto = payload.eto_payload
        seq = eto.seq
        session = self.session
        inseq = session.inseq
        if eto.type == _ETO_GAPFILL or is_session_level(payload):
            self._handle_session_level(payload, eto, seq, now, events)
            return
        if seq == inseq:
            session.inseq = inseq + 1
            events.append(Received(payload, seq))
        elif seq > inseq:
            self._gap(seq, now)
        elif wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("dropped duplicate seq %d (expecting %d)", seq, inseq)

    def _handle_session_level(
        self, payload: Payload, eto: eto_pb2.Payload, seq: int, now: float, events: list[Event]
    ) -> None:
        session = self.session
        inseq = session.inseq
        # The answer to our login is acted on whatever its seq: a refusal comes
        # from a server connection that has no session, numbered from 1.
        answering_login = self.state is State.LOGGING_IN
        if seq < inseq and not answering_login:
            return  # a duplicate, or the replayed copy of one already handled
        if seq == inseq:
            session.inseq = inseq + 1
        if eto.type != _ETO_GAPFILL and not eto.is_replay:
            # Acted on now, even when early: see the module docstring.
            mark = len(events)
            if self._act(eto, seq, now, events):
                events.insert(mark, Received(payload, seq))
        if seq > inseq:
            self._gap(seq, now)

    def _act(self, eto: eto_pb2.Payload, seq: int, now: float, events: list[Event]) -> bool:
        """Do what a session-level payload asks; False if it is to be ignored."""
        etype = eto.type
        if etype == _ETO_HEARTBEAT:
            if self.role is Role.CLIENT and self.state is State.LOGGED_IN:
                self._send_session(_ETO_HEARTBEAT, now)
        elif etype == _ETO_PING:
            if self.state is State.LOGGED_IN:
                self._send_session(_ETO_PONG, now)
        elif etype == _ETO_REPLAY:
            return self._replay(eto.replay.seq, now, events)
        elif etype == _ETO_LOGIN_RESPONSE:
            return self._login_response(eto, seq, events)
        elif etype == _ETO_LOGOUT:
            self._peer_logout(eto, now, events)
        elif etype == _ETO_LOGIN:
            log.warning("login received on a logged-in connection (seq %d): ignored", seq)
            return False
        return True

    def _login_response(self, eto: eto_pb2.Payload, seq: int, events: list[Event]) -> bool:
        if self.role is not Role.CLIENT or self.state is not State.LOGGING_IN:
            log.warning("unexpected login response (seq %d): ignored", seq)
            return False
        response = eto.login_response
        session = self.session
        reset = response.reset if response.HasField("reset") else session.outseq
        if (
            not isinstance(response.session, str)
            or not response.session
            or reset < 1
            or reset > MAX_SEQ // 2
        ):
            raise RemoteProtocolError(
                f"invalid login response (session {response.session!r}, reset {reset})"
            )
        session.session_id = response.session
        self.extensions = response.extensions
        if reset > session.outseq:
            log.warning(
                "server expects seq %d but we are at %d: continuing from %d",
                reset,
                session.outseq,
                reset,
            )
            session.outseq = reset
            session.sent.clear(first_seq=reset)
        # reset < outseq: the server missed some of ours and will ask (REPLAY).
        self._enter(State.LOGGED_IN)
        events.append(LoggedIn(response.session, reset, response.extensions))
        return True

    def _peer_logout(self, eto: eto_pb2.Payload, now: float, events: list[Event]) -> None:
        reason = eto.logout.reason if eto.HasField("logout") else eto_pb2.LOGOUT_NONE
        if self.state is State.LOGGING_OUT:
            # Our logout confirmed (or both sides logged out at once).
            self._enter(State.CLOSED)
            events.append(SessionEnded(reason, by_peer=False))
            return
        if self.state is not State.CLOSED:
            if self.state is State.LOGGED_IN:
                self._send_session(
                    _ETO_LOGOUT, now, logout=eto_pb2.Logout(reason=eto_pb2.LOGOUT_CONFIRMATION)
                )
            self._enter(State.CLOSED)
            events.append(SessionEnded(reason, by_peer=True))

    def _gap(self, seq: int, now: float) -> None:
        """Payloads below ``seq`` were lost: ask for them once per gap."""
        inseq = self.session.inseq
        if self._replay_asked_at == inseq or self.state is not State.LOGGED_IN:
            return
        log.info("gap: got seq %d, expecting %d; asking for a replay", seq, inseq)
        self._ask_replay(now)

    def _ask_replay(self, now: float) -> None:
        inseq = self.session.inseq
        self._replay_asked_at = inseq
        self._send_session(_ETO_REPLAY, now, replay=eto_pb2.Replay(seq=inseq))

    def _replay(self, from_seq: int, now: float, events: list[Event]) -> bool:
        """Resend everything from ``from_seq`` on, as the peer asked."""
        sent = self.session.sent
        if from_seq < 1:
            log.warning("ignoring a replay request for seq %d", from_seq)
            return False
        # An empty store keeps nothing before outseq (e.g. a client resumed
        # from saved numbers without its sent payloads).
        oldest = sent.first_seq if len(sent) else self.session.outseq
        if from_seq < oldest:
            log.warning(
                "replay from seq %d asked, but only seq %d onward is kept: ending the session",
                from_seq,
                oldest,
            )
            events.extend(self._end_with_logout(eto_pb2.LOGOUT_UNKNOWN_SESSION, now))
            return False
        # A peer asks once per gap, so it never sends a second request before the answer
        # to the first has gone out.  A hostile one could send thousands in one read, each
        # asking for everything kept: answered one by one, a few KiB in would make GiB
        # out.  So, until _out is taken, each kept payload is queued at most once: a
        # request from a seq already queued is covered, and one from below that is
        # answered only up to where the queued replay starts.
        queued = self._replay_queued_from
        if queued is not None and from_seq >= queued:
            log.debug("replay from seq %d already queued (from seq %d)", from_seq, queued)
            return True
        self._replay_queued_from = from_seq
        count = 0
        out = self._out
        for seq, data in sent.since(from_seq):
            if queued is not None and seq >= queued:
                break
            if data is None:
                gapfill = session_payload(_ETO_GAPFILL)
                gapfill.eto_payload.seq = seq
                gapfill.eto_payload.is_replay = True
                data = gapfill.SerializeToString()
            else:
                data = data + IS_REPLAY_SUFFIX
            out.append(data)
            count += 1
        if count:
            self._last_sent = now
        log.info("replayed %d payloads from seq %d", count, from_seq)
        return True
