"""A small client written from PROTOCOL.md alone: framing, session rules, published schemas.

It shares no code with the project. Every payload it receives is parsed with the published
classes of :mod:`published_schema` and refused (:class:`UnpublishedContent`) if it holds a
field or enum value those do not know, or lacks a required field.

Session rules it follows (PROTOCOL.md section 4): it numbers its payloads 1, 2, 3, ...; a
new session logs in with seq 1 and no ``eto.Login``; a resume logs in with the session id
and its next seq; it answers HEARTBEAT with HEARTBEAT and PING with PONG, REPLAY by resending
(session-level payloads as GAPFILL); it asks REPLAY on a gap, keeps what came early and
delivers each seq once, in order, and drops duplicates; it answers a server's LOGOUT with
LOGOUT CONFIRMATION.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from .published_schema import eto, parse_published, seto

__all__ = [
    "DEFAULT_MAX_PAYLOAD_SIZE",
    "ConnectionClosed",
    "ForeignClient",
    "FrameDecoder",
    "FramingError",
    "encode_frame",
    "kind_of",
    "uleb128",
    "uuid",
    "uuid_int",
]

#: The largest payload the decoder accepts by default (PROTOCOL.md section 2).
DEFAULT_MAX_PAYLOAD_SIZE = 1 << 20
_MAX_HEADER = 10
_MIN_FRAME = 4

Payload = Any  # a published seto.Payload (classes are built at run time)


# -- framing (PROTOCOL.md section 2) ----------------------------------------------------------


def uleb128(value: int) -> bytes:
    """``value`` as unsigned LEB128."""
    if value < 0:
        raise ValueError("negative length")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_frame(payload: bytes) -> bytes:
    """``ULEB128(len) || payload``, zero-padded to 4 bytes."""
    frame = uleb128(len(payload)) + payload
    return frame + bytes(max(0, _MIN_FRAME - len(frame)))


class FramingError(Exception):
    """A frame header that is too long or declares too large a payload."""


class FrameDecoder:
    """Incremental decoder: bytes in, complete payloads out, in order, each once."""

    def __init__(self, max_payload_size: int = DEFAULT_MAX_PAYLOAD_SIZE) -> None:
        self.max_payload_size = max_payload_size
        self._buf = bytearray()
        self._failed: FramingError | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Take ``data``; return the payloads it completes. Raises :class:`FramingError`."""
        if self._failed is not None:
            raise self._failed
        buf = self._buf
        buf += data
        out: list[bytes] = []
        pos = 0
        while True:
            header = self._header(buf, pos)
            if header is None:
                break
            header_len, length = header
            end = pos + max(header_len + length, _MIN_FRAME)
            if len(buf) < end:
                break
            out.append(bytes(buf[pos + header_len : pos + header_len + length]))
            pos = end
        del buf[:pos]
        return out

    def _header(self, buf: bytearray, pos: int) -> tuple[int, int] | None:
        """(header length, payload length) of the frame at ``pos``; None if incomplete."""
        length = 0
        for index in range(_MAX_HEADER):
            if pos + index >= len(buf):
                return None
            byte = buf[pos + index]
            length |= (byte & 0x7F) << (7 * index)
            if length > self.max_payload_size:
                raise self._fail(f"declared payload length above {self.max_payload_size}")
            if not byte & 0x80:
                return index + 1, length
        raise self._fail(f"length header longer than {_MAX_HEADER} bytes")

    def _fail(self, message: str) -> FramingError:
        """Remember the error: the stream is unusable from here on."""
        self._failed = FramingError(message)
        return self._failed


# -- payload helpers --------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1
# eto kinds acted on by the session layer, resent as GAPFILL when replayed.
_SESSION_ETO = {
    eto.PAYLOAD_GAPFILL,
    eto.PAYLOAD_HEARTBEAT,
    eto.PAYLOAD_REPLAY,
    eto.PAYLOAD_PING,
    eto.PAYLOAD_PONG,
    eto.PAYLOAD_LOGIN,
    eto.PAYLOAD_LOGIN_RESPONSE,
    eto.PAYLOAD_LOGOUT,
}


def uuid(value: int) -> Any:
    """A published ``seto.Uuid128`` for the number ``value`` (tag already stripped)."""
    msg = seto.Uuid128(low=value & _MASK64)
    if value > _MASK64:
        msg.high = value >> 64
    return msg


def uuid_int(msg: Any) -> int:
    """The number a ``seto.Uuid128`` carries."""
    return int(msg.low) | int(msg.high) << 64


def _enum_name(message: Any, field: str, value: int) -> str:
    enum = message.DESCRIPTOR.fields_by_name[field].enum_type
    return enum.values_by_number[value].name


def kind_of(payload: Payload) -> str:
    """``'order_accepted'`` for seto kinds, ``'eto.pong'`` for session-only ones."""
    if payload.type == seto.PAYLOAD_ETO:
        name = _enum_name(payload.eto_payload, "type", payload.eto_payload.type)
        return "eto." + name.removeprefix("PAYLOAD_").lower()
    return _enum_name(payload, "type", payload.type).removeprefix("PAYLOAD_").lower()


def is_session_level(payload: Payload) -> bool:
    """True for payloads never acted on twice (replayed as GAPFILL)."""
    return payload.type == seto.PAYLOAD_LOGIN or (
        payload.type == seto.PAYLOAD_ETO and payload.eto_payload.type in _SESSION_ETO
    )


class ConnectionClosed(Exception):
    """The connection ended (the peer closed it, or it was reset)."""


# -- the client -------------------------------------------------------------------------------


class ForeignClient:
    """One session of a published-schema client, over TLS (``ca_file``) or plain TCP.

    ``inbox`` holds what was delivered to the application, in seq order, until a test takes
    it with :meth:`wait_for`; heartbeats, gapfills and replay requests are dealt with here
    and not put there. ``received`` is every payload that arrived (duplicates included),
    ``delivered`` every one delivered, in order.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        ca_file: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.ca_file = ca_file
        self.timeout = timeout
        #: Raw bytes added to ``seto.Login``: fields a published client would not send.
        self.login_extra = b""
        self.sock: socket.socket | None = None
        self.decoder = FrameDecoder()
        # The session: it outlives connections.
        self.session_id: str | None = None
        self.outseq = 1
        self.inseq = 1
        self.sent: dict[int, Payload] = {}
        self.pending: dict[int, Payload] = {}
        self.replay_asked_at: int | None = None
        # This connection.
        self.logging_in = False
        self.logging_out = False
        self.logged_in = False
        self.login_answer: Payload | None = None
        self.logout_reason: int | None = None
        # What was seen.
        self.inbox: list[Payload] = []
        self.received: list[Payload] = []
        self.delivered: list[Payload] = []
        self.written: list[Payload] = []

    def __repr__(self) -> str:
        where = f"in={self.inseq} out={self.outseq}"
        return f"<ForeignClient {self.username} {self.session_id} {where}>"

    # -- connection -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open a new connection (TLS verified against ``ca_file``, or plain TCP)."""
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ca_file is not None:
            context = ssl.create_default_context(cafile=self.ca_file)
            self.sock = context.wrap_socket(raw, server_hostname=self.host)
        else:
            self.sock = raw
        self.decoder = FrameDecoder()
        self.logging_in = self.logging_out = self.logged_in = False
        self.login_answer = None
        self.logout_reason = None
        self.replay_asked_at = None

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self.sock is not None

    def drop(self) -> None:
        """Close the connection without a logout (the session stays resumable)."""
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None
        self.logged_in = False

    close = drop

    # -- sending ----------------------------------------------------------------------------

    def send(self, payload: Payload, *, lose: bool = False) -> int:
        """Number ``payload`` with the next seq, keep it for replay and write it.

        ``lose=True`` numbers and keeps it but never writes it: a payload lost on the way.
        """
        seq = self.outseq
        self.outseq += 1
        payload.eto_payload.seq = seq
        if not payload.eto_payload.HasField("type"):
            payload.eto_payload.type = eto.PAYLOAD_NONE
        self.sent[seq] = payload
        if not lose:
            self._write([payload])
        return seq

    def send_app(self, kind: str, message: Any = None, *, lose: bool = False) -> int:
        """Send the seto payload ``kind`` (a ``seto.Payload`` field name) holding ``message``."""
        payload = seto.Payload(type=getattr(seto, "PAYLOAD_" + kind.upper()))
        field = getattr(payload, kind)
        if message is None:
            field.SetInParent()
        else:
            field.CopyFrom(message)
        return self.send(payload, lose=lose)

    def send_eto(self, eto_type: int, **fields: Any) -> int:
        """Send a session-only payload (seto type ETO) of ``eto_type``."""
        payload = seto.Payload(type=seto.PAYLOAD_ETO)
        payload.eto_payload.type = eto_type
        for name, value in fields.items():
            getattr(payload.eto_payload, name).CopyFrom(value)
        return self.send(payload)

    def _write(self, payloads: list[Payload]) -> None:
        if self.sock is None:
            raise ConnectionClosed("not connected")
        data = b"".join(encode_frame(p.SerializeToString()) for p in payloads)
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)
        self.written.extend(payloads)

    def _answer(self, eto_type: int, **fields: Any) -> None:
        """Send a session-level answer; a connection the server already closed is no error."""
        try:
            self.send_eto(eto_type, **fields)
        except OSError:
            pass

    # -- login and logout -------------------------------------------------------------------

    def try_login(self) -> Payload:
        """Log in (a new session, or a resume of ``session_id``); the LOGIN_RESPONSE or LOGOUT."""
        if self.sock is None:
            self.connect()
        payload = seto.Payload(type=seto.PAYLOAD_LOGIN)
        payload.eto_payload.type = eto.PAYLOAD_LOGIN
        payload.login.username = self.username
        payload.login.password = self.password
        payload.login.MergeFromString(self.login_extra)
        if self.session_id is not None:
            payload.eto_payload.login.session = self.session_id
        elif self.outseq != 1:
            raise ValueError("a new session logs in with seq 1")
        self.logging_in = True
        self.send(payload)
        deadline = time.monotonic() + self.timeout
        while self.login_answer is None:
            if not self._read(deadline):
                raise AssertionError(f"{self.username}: no answer to the login")
        return self.login_answer

    def login(self) -> Payload:
        """Log in and return the LOGIN_RESPONSE (an AssertionError if refused)."""
        answer = self.try_login()
        if answer.eto_payload.type != eto.PAYLOAD_LOGIN_RESPONSE:
            raise AssertionError(f"{self.username}: login refused: {answer}")
        return answer

    def logout(self) -> Payload:
        """Send LOGOUT, wait for the server's LOGOUT (CONFIRMATION) and its close."""
        self.logging_out = True
        self.send_eto(eto.PAYLOAD_LOGOUT, logout=eto.Logout(reason=eto.LOGOUT_NONE))
        answer = self.wait_for("eto.logout")
        self.wait_closed()
        return answer

    def wait_closed(self) -> None:
        """Read until the server closes the connection (AssertionError if it does not)."""
        deadline = time.monotonic() + self.timeout
        try:
            while self._read(deadline):
                pass
        except ConnectionClosed:
            return
        raise AssertionError(f"{self.username}: the server did not close the connection")

    # -- receiving --------------------------------------------------------------------------

    def _read(self, deadline: float) -> bool:
        """Read once and handle what came; False on timeout. ConnectionClosed at the end."""
        if self.sock is None:
            raise ConnectionClosed("not connected")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        except (ConnectionError, ssl.SSLError) as exc:
            self.drop()
            raise ConnectionClosed(f"{self.username}: {exc}") from None
        if not data:
            self.drop()
            raise ConnectionClosed(f"{self.username}: closed by the server")
        for frame in self.decoder.feed(data):
            self._receive(frame)
        return True

    def _receive(self, frame: bytes) -> None:
        payload = parse_published(frame)  # raises on anything unpublished
        self.received.append(payload)
        eto_payload = payload.eto_payload
        seq = eto_payload.seq
        if self.logging_in and eto_payload.type == eto.PAYLOAD_LOGIN_RESPONSE:
            # The answer to our login: acted on whatever its seq (on a resume it follows
            # what the server sent while we were away), then sequenced like the rest.
            self.session_id = eto_payload.login_response.session
            reset = eto_payload.login_response.reset
            if eto_payload.login_response.HasField("reset") and reset > self.outseq:
                self.outseq = reset
            self.logging_in, self.logged_in = False, True
            self.login_answer = payload
        elif not self.logged_in and eto_payload.type == eto.PAYLOAD_LOGOUT:
            # A refused login: the connection has no session, its numbering is its own.
            self.logging_in = False
            self.logout_reason = eto_payload.logout.reason
            self.login_answer = payload
            self.inbox.append(payload)
            return
        if seq < self.inseq:
            return  # a duplicate: dropped
        if seq > self.inseq:
            self.pending.setdefault(seq, payload)  # the first copy wins
            if self.replay_asked_at != self.inseq and self.logged_in:
                self.replay_asked_at = self.inseq
                self._answer(eto.PAYLOAD_REPLAY, replay=eto.Replay(seq=self.inseq))
            return
        self._deliver(payload)
        while self.inseq in self.pending:
            self._deliver(self.pending.pop(self.inseq))
        for stale in [s for s in self.pending if s < self.inseq]:
            del self.pending[stale]

    def _deliver(self, payload: Payload) -> None:
        """Deliver the payload numbered ``inseq``: act on it or hand it to the application."""
        self.inseq += 1
        self.delivered.append(payload)
        if payload.type != seto.PAYLOAD_ETO:
            self.inbox.append(payload)
            return
        eto_payload = payload.eto_payload
        etype = eto_payload.type
        if etype == eto.PAYLOAD_HEARTBEAT and not eto_payload.is_replay:
            self._answer(eto.PAYLOAD_HEARTBEAT)
        elif etype == eto.PAYLOAD_PING and not eto_payload.is_replay:
            self._answer(eto.PAYLOAD_PONG)
        elif etype == eto.PAYLOAD_REPLAY and not eto_payload.is_replay:
            self._resend(eto_payload.replay.seq)
        elif etype == eto.PAYLOAD_LOGOUT and not eto_payload.is_replay:
            self.logout_reason = eto_payload.logout.reason
            if not self.logging_out:
                self._answer(eto.PAYLOAD_LOGOUT, logout=eto.Logout(reason=eto.LOGOUT_CONFIRMATION))
            self.logged_in = False
            self.inbox.append(payload)
        elif etype in (eto.PAYLOAD_GAPFILL, eto.PAYLOAD_LOGIN_RESPONSE, eto.PAYLOAD_HEARTBEAT):
            pass  # nothing for the application
        else:
            self.inbox.append(payload)  # pong, downtime alert, ...

    def _resend(self, from_seq: int) -> None:
        """Answer REPLAY(from_seq): resend with is_replay, session-level ones as GAPFILL."""
        if from_seq not in self.sent and from_seq < self.outseq:
            raise AssertionError(f"{self.username}: replay from {from_seq} asked, not kept")
        copies = []
        for seq in range(from_seq, self.outseq):
            original = self.sent[seq]
            if is_session_level(original):
                copy = seto.Payload(type=seto.PAYLOAD_ETO)
                copy.eto_payload.type = eto.PAYLOAD_GAPFILL
            else:
                copy = seto.Payload()
                copy.CopyFrom(original)
            copy.eto_payload.seq = seq
            copy.eto_payload.is_replay = True
            copies.append(copy)
        if copies:
            self._write(copies)

    # -- what tests call --------------------------------------------------------------------

    def wait_for(
        self,
        kind: str | tuple[str, ...],
        where: Callable[[Payload], bool] | None = None,
        timeout: float | None = None,
    ) -> Payload:
        """Take the first delivered payload of ``kind`` (one of several: a tuple) from the inbox.

        Only one matching ``where``, if given. An AssertionError on timeout or close.
        """
        kinds = (kind,) if isinstance(kind, str) else kind
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            for index, payload in enumerate(self.inbox):
                if kind_of(payload) in kinds and (where is None or where(payload)):
                    return self.inbox.pop(index)
            try:
                more = self._read(deadline)
            except ConnectionClosed as exc:
                raise AssertionError(f"waiting for {kind}: {exc}; inbox: {self.kinds()}") from None
            if not more:
                raise AssertionError(
                    f"{self.username}: no {kind} within the timeout; inbox: {self.kinds()}"
                )

    def kinds(self) -> list[str]:
        """The kinds waiting in the inbox, in order."""
        return [kind_of(p) for p in self.inbox]

    def take_all(self, kind: str) -> list[Payload]:
        """Remove and return every payload of ``kind`` waiting in the inbox."""
        taken = [p for p in self.inbox if kind_of(p) == kind]
        self.inbox = [p for p in self.inbox if kind_of(p) != kind]
        return taken

    def sync(self) -> None:
        """PING and wait for the PONG: everything sent to us before it has been delivered."""
        self.send_eto(eto.PAYLOAD_PING)
        self.wait_for("eto.pong")

    def pump(self, seconds: float) -> None:
        """Read and handle whatever comes for ``seconds`` (heartbeats get answered)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(deadline)

    # Requests, each returning the seq it was sent with.

    def order_create(
        self,
        market: int,
        contract: int,
        side: int,
        quantity: int,
        price: int | None,
        *,
        tif: int | None = None,
        lose: bool = False,
    ) -> int:
        """A LIMIT order, PAYOFF_CURRENCY quantity, PERCENT_ODDS price (None: no price)."""
        order = seto.OrderCreate(
            type=seto.ORDER_CREATE_LIMIT,
            market=uuid(market),
            contract=uuid(contract),
            side=side,
            quantity_type=seto.QUANTITY_PAYOFF_CURRENCY,
            quantity=quantity,
        )
        if price is not None:
            order.price_type = seto.PRICE_PERCENT_ODDS
            order.price = price
        if tif is not None:
            order.tif = tif
        return self.send_app("order_create", order, lose=lose)

    def answer(self, seq: int) -> Payload:
        """The answer to the order_create numbered ``seq``: accepted, rejected or invalid."""

        def answers(p: Payload) -> bool:
            kind = kind_of(p)
            return getattr(p, kind).seq == seq

        return self.wait_for(("order_accepted", "order_rejected", "order_invalid"), answers)

    def place(self, market: int, contract: int, side: int, quantity: int, price: int) -> int:
        """Place an order that must be accepted; return its order id."""
        answer = self.answer(self.order_create(market, contract, side, quantity, price))
        assert kind_of(answer) == "order_accepted", f"{self.username}: not accepted: {answer}"
        return uuid_int(answer.order_accepted.order)

    def cancel(self, order_id: int) -> int:
        """Send order_cancel for ``order_id``."""
        return self.send_app("order_cancel", seto.OrderCancel(order=uuid(order_id)))
