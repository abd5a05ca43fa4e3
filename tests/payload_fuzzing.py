"""What the payload fuzz target and the payload property tests share: generators and rigs.

``tests/fuzz/fuzz_payloads.py`` (plain Python, run by hand for as long as you like) and
``tests/test_payload_properties.py`` (hypothesis) check the same properties, so they build
their inputs with the same code, and drive the same objects:

* **Generators** build payloads from the schema itself (every field kind, edge values,
  requests with plausible ids, prices and quantities) and mutate their bytes. They take
  their decisions from a :class:`Choices`: :class:`RandomChoices` wraps a
  :class:`random.Random` (the fuzz target), and the property tests wrap hypothesis's
  ``draw``, so that hypothesis can shrink a failing case;
* **Rigs**: a client and a server connection logged in to each other
  (:func:`logged_in_pair`, a :class:`~smarkets.protocol.testing.ConnectedPair`), and a
  sandbox server with two accounts fed by in-memory clients (:func:`sandbox_server`,
  :class:`SandboxClient`: a client :class:`~smarkets.protocol.connection.Connection`
  over a :class:`MemoryTransport`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    Event,
    LoggedIn,
    ReplayStore,
    Role,
    SessionState,
    is_session_level,
)
from smarkets.protocol.extensions import EXTENSIONS_VERSION, has_extensions
from smarkets.protocol.testing import ConnectedPair
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.exchange.markets_file import default_markets
from smarkets.sandbox.server import SandboxServer, ServerConfig, StreamProtocol
from smarkets.sandbox.server.credentials import CredentialStore

Payload = seto_pb2.Payload
FD = FieldDescriptor
T = TypeVar("T")

#: Timers that never fire during a case: the cases are about payloads, not time.
TIMINGS = {"heartbeat_interval": 3600.0, "heartbeat_timeout": 7200.0, "login_timeout": 3600.0}


# -- where the decisions come from --------------------------------------------------------------


class Choices(Protocol):
    """The decisions a generator takes: each method picks one value."""

    def integer(self, lo: int, hi: int) -> int:
        """An integer from ``lo`` to ``hi``, both included."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""

    def binary(self, min_size: int, max_size: int) -> bytes:
        """Bytes, ``min_size`` to ``max_size`` of them."""

    def text(self) -> str:
        """A short text of any characters (a string field's value)."""

    def real(self, width: int) -> float:
        """A float (``width`` 32 or 64 bits), never NaN."""


class RandomChoices:
    """:class:`Choices` from a :class:`random.Random` (reproducible from its seed)."""

    _ALPHABET = "aZ09 -_é€\u4e2d\U0001f600\x00"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def binary(self, min_size: int, max_size: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(min_size, max_size))

    def text(self) -> str:
        size = self.rng.choice([0, 1, 5, 12, 70])
        return "".join(self.rng.choice(self._ALPHABET) for _ in range(size))

    def real(self, width: int) -> float:
        return self.rng.uniform(-1e6, 1e6)


# -- generators: any valid message of the schema ----------------------------------------------

INT_RANGES = {
    FD.TYPE_UINT64: (0, 2**64 - 1),
    FD.TYPE_FIXED64: (0, 2**64 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
}
#: The Payload field carrying each payload type's message.
KIND_FIELDS = {
    value: name.lower().removeprefix("payload_")
    for name, value in seto_pb2.PayloadType.items()
    if name.lower().removeprefix("payload_") in Payload.DESCRIPTOR.fields_by_name
}
#: What a client may ask of the exchange.
REQUESTS = [
    seto_pb2.PAYLOAD_ORDER_CREATE,
    seto_pb2.PAYLOAD_ORDER_CANCEL,
    seto_pb2.PAYLOAD_ORDER_CANCEL_ALL,
    seto_pb2.PAYLOAD_MARKET_SUBSCRIBE,
    seto_pb2.PAYLOAD_MARKET_UNSUBSCRIBE,
    seto_pb2.PAYLOAD_MARKET_QUOTES_REQUEST,
    seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST,
    seto_pb2.PAYLOAD_MARKETS_REQUEST,
    seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST,
    seto_pb2.PAYLOAD_ORDERS_FOR_MARKET_REQUEST,
    seto_pb2.PAYLOAD_EVENTS_REQUEST,
]


def integer(ch: Choices, lo: int, hi: int) -> int:
    """Small numbers (they reach real markets, contracts and orders), usual ones, the edges."""
    kind = ch.integer(0, 3)
    if kind == 0:
        return ch.integer(max(lo, 0), min(hi, 12))
    if kind == 1:
        return ch.integer(max(lo, 0), min(hi, 1_000_000))
    if kind == 2:
        return ch.choice([lo, hi, min(hi, 9999), min(hi, 10_000)])
    return ch.integer(lo, hi)


def scalar(ch: Choices, fd: FieldDescriptor) -> Any:
    """A value for the scalar field ``fd``."""
    if fd.type in INT_RANGES:
        return integer(ch, *INT_RANGES[fd.type])
    if fd.type == FD.TYPE_BOOL:
        return ch.integer(0, 1) == 1
    if fd.type == FD.TYPE_STRING:
        return ch.text()
    if fd.type == FD.TYPE_BYTES:
        return ch.binary(0, 12)
    if fd.type == FD.TYPE_ENUM:
        return ch.choice([v.number for v in fd.enum_type.values])
    if fd.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return ch.real(32 if fd.type == FD.TYPE_FLOAT else 64)
    raise AssertionError(f"no generator for field {fd.full_name} of type {fd.type}")


def message(ch: Choices, descriptor: Descriptor, depth: int = 0) -> Message:
    """A message of ``descriptor``'s type with every required field set, at any depth."""
    result = message_factory.GetMessageClass(descriptor)()
    for fd in descriptor.fields:
        if fd.is_repeated:
            if depth >= 3:
                continue
            target = getattr(result, fd.name)
            for _ in range(ch.integer(0, 3)):
                if fd.message_type is not None:
                    target.add().CopyFrom(message(ch, fd.message_type, depth + 1))
                else:
                    target.append(scalar(ch, fd))
            continue
        if not fd.is_required and (depth >= 3 or ch.integer(0, 3) != 0):
            continue
        if fd.message_type is not None:
            getattr(result, fd.name).CopyFrom(message(ch, fd.message_type, depth + 1))
        else:
            setattr(result, fd.name, scalar(ch, fd))
    return result


def payload(ch: Choices) -> Payload:
    """A valid ``seto.Payload``: a type, its message (usually the matching one), an eto part."""
    result = Payload(type=ch.choice(seto_pb2.PayloadType.values()))
    result.eto_payload.CopyFrom(message(ch, eto_pb2.Payload.DESCRIPTOR, 1))
    fields = Payload.DESCRIPTOR.fields_by_name
    names = [KIND_FIELDS[result.type]] if result.type in KIND_FIELDS else []
    if ch.integer(0, 4) == 0:
        others = sorted(set(fields) - {"type", "eto_payload"})
        names = [ch.choice(others) for _ in range(ch.integer(0, 3))]
    for name in names:
        getattr(result, name).CopyFrom(message(ch, fields[name].message_type, 1))
    return result


# Values that reach past the validation into matching, cancelling and routing.
_PLAUSIBLE: dict[str, Callable[[Choices], int]] = {
    "market": lambda ch: ch.choice([1, 1, 1, 2, 3, 4, 0, 5]),
    "contract": lambda ch: ch.choice([1, 2, 3, ch.integer(0, 12)]),
    "order": lambda ch: ch.integer(0, 30),
    "side": lambda ch: ch.choice(seto_pb2.Side.values()),
    "maq": lambda ch: ch.choice([ch.integer(0, 60_000), 2**32 - 1]),
    "price": lambda ch: ch.choice(
        [ch.integer(1, 9999), ch.integer(0, 10_001), 0, 10_000, 4000, 6000, 2**32 - 1]
    ),
    "quantity": lambda ch: ch.choice(
        [
            ch.integer(1000, 200_000),
            ch.integer(0, 2_000_000),
            0,
            999,
            1000,
            50_000,
            500_000_000,
            500_000_001,
            2**32 - 1,
        ]
    ),
}


def request(ch: Choices) -> Payload:
    """A request a client may send, its ids, prices and quantities mostly plausible."""
    result = Payload(type=ch.choice(REQUESTS))
    body = getattr(result, KIND_FIELDS[result.type])
    body.CopyFrom(message(ch, body.DESCRIPTOR, 1))
    for fd in body.DESCRIPTOR.fields:
        make = _PLAUSIBLE.get(fd.name)
        if make is None or (not fd.is_required and ch.integer(0, 4) == 4):
            continue
        if fd.message_type is not None:  # an id
            getattr(body, fd.name).low = make(ch)
            if ch.integer(0, 19) == 0:
                getattr(body, fd.name).high = ch.integer(1, 2**64 - 1)
        else:
            setattr(body, fd.name, make(ch))
    return result


def mutate(ch: Choices, data: bytes) -> bytes:
    """Flip bits of ``data``, cut, insert or repeat a few bytes."""
    out = bytearray(data)
    for _ in range(ch.integer(1, 4)):
        where = ch.integer(0, len(out))
        action = ch.integer(0, 4)
        if action == 0 and out:
            out[min(where, len(out) - 1)] ^= 1 << ch.integer(0, 7)
        elif action == 1:
            del out[where : where + ch.integer(1, 8)]
        elif action == 2:
            out[where:where] = ch.binary(1, 8)
        elif action == 3:
            del out[where:]
        else:
            out += out[where:]
    return bytes(out)


def mutated(ch: Choices) -> bytes:
    """The bytes of a valid payload, mutated."""
    return mutate(ch, payload(ch).SerializeToString())


def hostile(ch: Choices) -> bytes:
    """What a hostile peer sends as a payload: garbage, a mutated payload, or a valid one."""
    kind = ch.integer(0, 3)
    if kind == 0:
        return ch.binary(0, 64)
    if kind == 3:
        return payload(ch).SerializeToString()
    return mutated(ch)


def is_application(item: Payload) -> bool:
    """Whether ``item`` is delivered to the application as sent (not a session payload)."""
    return not is_session_level(item) and item.eto_payload.type != eto_pb2.PAYLOAD_GAPFILL


# -- rigs: connections to feed ------------------------------------------------------------------


def logged_in_pair(replay_limit: int | None = None, **options: float) -> ConnectedPair:
    """A client and a server connection, logged in to each other (seq 1 each way done).

    ``replay_limit`` bounds both sides' replay stores; ``options`` are the connections'
    (``max_payload_size``, ...), the timers being :data:`TIMINGS`.
    """
    pair = ConnectedPair(
        client_state=SessionState(sent=ReplayStore(limit=replay_limit)), **TIMINGS, **options
    )
    pair.log_in(SessionState("a9999", sent=ReplayStore(limit=replay_limit)))
    return pair


class MemoryTransport(asyncio.Transport):
    """Keeps what a sandbox stream writes; closing reports the loss as asyncio would."""

    def __init__(self, protocol: StreamProtocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.buffer = bytearray()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.buffer += data

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    abort = close

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def sandbox_server() -> SandboxServer:
    """A sandbox server (no socket) with accounts ``alice`` and ``bob`` and the default markets.

    Call it inside a running event loop.
    """
    server = SandboxServer(
        Exchange(clock=lambda: 1_700_000_000.0),
        ServerConfig(port=0, login_workers=0),
        credentials=CredentialStore(n=2),
    )
    for name in ("alice", "bob"):
        server.add_account(name, f"{name}-pw", 10_000_000)
    for spec in default_markets():
        server.add_market(spec)
    return server


class SandboxClient:
    """A client :class:`Connection` logged in to ``server`` over a :class:`MemoryTransport`.

    ``alice`` asks for the extensions; anyone else speaks the published schema only, and
    :meth:`read` checks that no extension reaches them.
    """

    def __init__(self, server: SandboxServer, username: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.server_side = StreamProtocol(server)
        self.transport = MemoryTransport(self.server_side)
        self.server_side.connection_made(self.transport)
        self.protocol = Connection(Role.CLIENT, now=self.loop.time())
        login = seto_pb2.Login(username=username, password=f"{username}-pw")
        if username == "alice":
            login.extensions = EXTENSIONS_VERSION
        self.protocol.login(login, self.loop.time())
        self.write()
        assert any(isinstance(e, LoggedIn) for e in self.read()), f"{username} not logged in"

    @property
    def closed(self) -> bool:
        """True once the server closed the connection."""
        return self.transport.closing

    def send(self, item: Payload) -> bool:
        """Number ``item`` and write it; False when the connection no longer sends."""
        try:
            self.protocol.send(item, self.loop.time())
        except ProtocolError:
            return False  # e.g. a LOGOUT made the client stop sending
        self.write()
        return True

    def write(self, extra: bytes = b"") -> None:
        """Give the server what the client has to send, then ``extra`` (raw bytes)."""
        data = self.protocol.data_to_send() + extra
        if data and not self.transport.closing:
            self.server_side.data_received(data)

    def read(self) -> list[Event]:
        """Take what the server wrote; answer it. The server's payloads must all be valid."""
        data = bytes(self.transport.buffer)
        self.transport.buffer.clear()
        try:
            events = self.protocol.receive_data(data, self.loop.time())
        except ProtocolError as exc:
            raise AssertionError(f"the server sent an invalid payload: {exc}") from exc
        if not self.protocol.extensions:
            for event in events:
                item = getattr(event, "payload", None)
                if item is not None and has_extensions(item):
                    raise AssertionError(f"an extension reached a published session: {item}")
        self.write()
        return events


@contextlib.contextmanager
def logged_errors() -> Iterator[list[str]]:
    """Collect the errors logged under ``smarkets`` meanwhile (their messages)."""
    messages: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Handler(logging.ERROR)
    logger = logging.getLogger("smarkets")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
