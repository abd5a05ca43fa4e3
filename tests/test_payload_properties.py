"""Property-based tests (hypothesis) of payload handling, on the client's side and the server's.

* Whatever bytes a peer sends as a payload -- random, or a valid payload mutated -- a client
  core and a server core raise nothing but :class:`~smarkets.errors.ProtocolError`, and a batch
  holding a bad payload is refused whole: ``inseq`` does not move, nothing is answered.
* Any valid ``seto.Payload`` (built from the schema's descriptors, every field kind, edge
  values included) round-trips through framing and through a client and a server core.
* The sandbox server, fed any valid or mutated payload by a logged-in client, never fails
  inside (no exception logged), and the exchange's money and book invariants still hold.
* Replay requests cannot be used to make a core queue more than it keeps (an amplification
  that let a few KiB in make GiB out, in either direction, before it was bounded).

The ``soak`` variants run the same properties with many more examples (``-m soak``);
``tests/fuzz/fuzz_payloads.py`` does the same for as long as you like.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    LoggedIn,
    Received,
    Role,
    SessionCore,
    SessionEnded,
    SessionState,
    is_session_level,
    session_payload,
)
from smarkets.protocol.extensions import EXTENSIONS_VERSION, has_extensions
from smarkets.protocol.framing import FrameDecoder, encode_frame
from smarkets.sandbox.accounts import CredentialStore
from smarkets.sandbox.catalogue import default_markets
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.server import Connection, SandboxServer, ServerConfig

Payload = seto_pb2.Payload
F = TypeVar("F", bound=Callable[..., Any])
FD = FieldDescriptor

#: Examples per property in the normal run, and in the soak run.
FAST = 150
SOAK = 5000


def soak(fn: F) -> F:
    """Mark a long variant: collected always, run only when ``-m`` names ``soak``."""
    fn = pytest.mark.skipif(
        "'soak' not in (config.getoption('markexpr') or '')",
        reason="a soak variant: run with -m soak",
    )(fn)
    return pytest.mark.soak(fn)  # type: ignore[no-any-return]


# -- strategies: any valid message of the schema ----------------------------------------------

_INT_RANGES = {
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
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def _integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    # Small numbers reach real markets, contracts and orders; the rest, the edges.
    small = st.integers(max(lo, 0), min(hi, 12))
    usual = st.integers(max(lo, 0), min(hi, 1_000_000))
    return st.one_of(small, usual, st.integers(lo, hi), st.sampled_from([lo, hi]))


def _scalar(fd: FieldDescriptor) -> st.SearchStrategy[Any]:
    if fd.type in _INT_RANGES:
        return _integers(*_INT_RANGES[fd.type])
    if fd.type == FD.TYPE_BOOL:
        return st.booleans()
    if fd.type == FD.TYPE_STRING:
        return _TEXT
    if fd.type == FD.TYPE_BYTES:
        return st.binary(max_size=12)
    if fd.type == FD.TYPE_ENUM:
        return st.sampled_from([v.number for v in fd.enum_type.values])
    if fd.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return st.floats(allow_nan=False, width=32 if fd.type == FD.TYPE_FLOAT else 64)
    raise AssertionError(f"no strategy for field {fd.full_name} of type {fd.type}")


@st.composite
def messages(draw: st.DrawFn, descriptor: Descriptor, depth: int = 0) -> Message:
    """A message of ``descriptor``'s type with every required field set, at any depth."""
    message = message_factory.GetMessageClass(descriptor)()
    for fd in descriptor.fields:
        if fd.is_repeated:
            if depth >= 3:
                continue
            count = draw(st.integers(0, 3))
            target = getattr(message, fd.name)
            for _ in range(count):
                if fd.message_type is not None:
                    target.add().CopyFrom(draw(messages(fd.message_type, depth + 1)))
                else:
                    target.append(draw(_scalar(fd)))
            continue
        if not fd.is_required and (depth >= 3 or draw(st.integers(0, 3)) != 0):
            continue
        if fd.message_type is not None:
            getattr(message, fd.name).CopyFrom(draw(messages(fd.message_type, depth + 1)))
        else:
            setattr(message, fd.name, draw(_scalar(fd)))
    return message


_KIND_FIELDS = {
    value: name.lower().removeprefix("payload_")
    for name, value in seto_pb2.PayloadType.items()
    if name.lower().removeprefix("payload_") in Payload.DESCRIPTOR.fields_by_name
}


@st.composite
def payloads(draw: st.DrawFn) -> Payload:
    """A valid ``seto.Payload``: a type, its message (usually the matching one), an eto part."""
    payload = Payload(type=draw(st.sampled_from(seto_pb2.PayloadType.values())))
    payload.eto_payload.CopyFrom(draw(messages(eto_pb2.Payload.DESCRIPTOR, 1)))
    fields = Payload.DESCRIPTOR.fields_by_name
    names = [] if payload.type not in _KIND_FIELDS else [_KIND_FIELDS[payload.type]]
    if draw(st.integers(0, 4)) == 0:
        names = draw(st.lists(st.sampled_from(sorted(set(fields) - {"type", "eto_payload"}))))
    for name in names[:3]:
        getattr(payload, name).CopyFrom(draw(messages(fields[name].message_type, 1)))
    return payload


def app_payload(payload: Payload) -> bool:
    """Whether ``payload`` is delivered to the application as sent (not a session payload)."""
    return not is_session_level(payload) and payload.eto_payload.type != eto_pb2.PAYLOAD_GAPFILL


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The bytes of a valid payload, then bits flipped, bytes cut, inserted or repeated."""
    data = bytearray(draw(payloads()).SerializeToString())
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.integers(0, 4))
        where = draw(st.integers(0, len(data)))
        if action == 0 and data:
            where = min(where, len(data) - 1)
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == 1:
            del data[where : where + draw(st.integers(1, 8))]
        elif action == 2:
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif action == 3:
            data = data[:where]
        else:
            data += data[where:]
    return bytes(data)


hostile_bytes = st.one_of(st.binary(max_size=64), mutated())


# -- cores to feed -----------------------------------------------------------------------------


def logged_in_pair(replay_limit: int | None = None) -> tuple[SessionCore, SessionCore]:
    """A client core and a server core, logged in to each other (seq 1 each way done)."""
    timing = {"heartbeat_interval": 3600.0, "heartbeat_timeout": 7200.0, "login_timeout": 3600.0}
    client = SessionCore(Role.CLIENT, SessionState(sent=_store(replay_limit)), now=0.0, **timing)
    server = SessionCore(Role.SERVER, now=0.0, **timing)
    client.login(seto_pb2.Login(username="alice", password="pw"), 0.0)
    server.receive_payloads(client.payloads_to_send(), 0.0)
    server.accept_login(SessionState(session_id="a9999", sent=_store(replay_limit)), 0.0)
    events = client.receive_payloads(server.payloads_to_send(), 0.0)
    assert any(isinstance(e, LoggedIn) for e in events)
    return client, server


def _store(limit: int | None) -> Any:
    from smarkets.protocol import ReplayStore

    return ReplayStore(limit=limit)


def fresh_core(role: str) -> SessionCore:
    """A core to throw bytes at: client or server, logged in or (server) awaiting the login."""
    if role == "server-awaiting-login":
        return SessionCore(Role.SERVER, now=0.0, login_timeout=3600.0)
    client, server = logged_in_pair()
    return client if role == "client" else server


ROLES = ["client", "server", "server-awaiting-login"]


def feed(core: SessionCore, frames: list[bytes]) -> list[Any]:
    """Feed ``frames``; anything raised but ProtocolError fails the test."""
    try:
        events = core.receive_payloads(frames, 1.0)
    except ProtocolError:
        return []
    core.tick(2.0)
    core.payloads_to_send()
    return events


# -- properties: hostile payload bytes ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@given(frames=st.lists(hostile_bytes, min_size=1, max_size=4))
@settings(max_examples=FAST, deadline=None)
def test_hostile_payload_bytes_only_raise_protocol_error(role: str, frames: list[bytes]) -> None:
    feed(fresh_core(role), frames)


@soak
@pytest.mark.parametrize("role", ROLES)
@given(frames=st.lists(hostile_bytes, min_size=1, max_size=8))
@settings(max_examples=SOAK, deadline=None)
def test_hostile_payload_bytes_only_raise_protocol_error_soak(
    role: str, frames: list[bytes]
) -> None:
    feed(fresh_core(role), frames)


@pytest.mark.parametrize("role", ["client", "server"])
@given(
    good=st.lists(payloads(), min_size=1, max_size=4), bad=st.binary(max_size=30), data=st.data()
)
@settings(max_examples=FAST, deadline=None)
def test_a_bad_payload_spoils_its_whole_batch(
    role: str, good: list[Payload], bad: bytes, data: st.DataObject
) -> None:
    client, server = logged_in_pair()
    sender, receiver = (server, client) if role == "client" else (client, server)
    for payload in good:
        if app_payload(payload):
            sender.send(payload, 0.0)
    frames = sender.payloads_to_send()
    try:
        Payload.FromString(bad).SerializeToString()
    except Exception:
        pass
    else:
        bad = b"\xff"  # it happened to be a valid payload: use one that is not
    frames.insert(data.draw(st.integers(0, len(frames))), bad)
    inseq = receiver.inseq
    with pytest.raises(ProtocolError):
        receiver.receive_payloads(frames, 1.0)
    assert receiver.inseq == inseq
    assert receiver.payloads_to_send() == []


@given(stream=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
@settings(max_examples=FAST, deadline=None)
def test_any_stream_through_decoder_and_core_only_raises_protocol_error(
    stream: bytes, cuts: list[int]
) -> None:
    decoder = FrameDecoder(max_payload_size=64)
    client, _ = logged_in_pair()
    points = sorted({0, len(stream), *(c for c in cuts if c <= len(stream))})
    try:
        for start, end in zip(points, points[1:], strict=False):
            frames = decoder.feed(stream[start:end])
            assert decoder.buffered <= 64 + 10  # never more than one frame's worth
            client.receive_payloads(frames, 1.0)
    except ProtocolError:
        pass


# -- properties: valid payloads round-trip -----------------------------------------------------


@given(batch=st.lists(payloads(), max_size=5), data=st.data())
@settings(max_examples=FAST, deadline=None)
def test_valid_payloads_round_trip_through_framing(
    batch: list[Payload], data: st.DataObject
) -> None:
    stream = b"".join(encode_frame(p.SerializeToString()) for p in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = FrameDecoder()
    frames: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        frames += decoder.feed(stream[start:end])
    assert [Payload.FromString(frame) for frame in frames] == batch
    assert decoder.buffered == 0


@pytest.mark.parametrize("direction", ["client-to-server", "server-to-client"])
@given(batch=st.lists(payloads(), min_size=1, max_size=5))
@settings(max_examples=FAST, deadline=None)
def test_valid_payloads_round_trip_through_the_cores(direction: str, batch: list[Payload]) -> None:
    client, server = logged_in_pair()
    sender, receiver = (client, server) if direction == "client-to-server" else (server, client)
    sent = [p for p in batch if app_payload(p)]
    for payload in sent:
        sender.send(payload, 0.0)  # numbers it: its eto seq is set in place
    frames = sender.payloads_to_send()
    events = receiver.receive_payloads(frames, 1.0)
    assert [e.payload for e in events if isinstance(e, Received)] == sent


# -- the sandbox server, fed by a logged-in client ---------------------------------------------


class _Transport(asyncio.Transport):
    """Collects what the server writes; closing reports the loss as asyncio would."""

    def __init__(self, protocol: Connection) -> None:
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


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _Wire:
    """A client core talking to a server :class:`Connection` over a :class:`_Transport`."""

    def __init__(self, server: SandboxServer, username: str) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.conn = Connection(server)
        self.transport = _Transport(self.conn)
        self.conn.connection_made(self.transport)
        self.core = SessionCore(Role.CLIENT, now=loop.time())
        self.decoder = FrameDecoder()
        login = seto_pb2.Login(username=username, password=f"{username}-pw")
        if username == "alice":  # alice asks for the extensions; bob speaks the published schema
            login.extensions = EXTENSIONS_VERSION
        self.core.login(login, loop.time())
        self.write()
        assert any(isinstance(e, LoggedIn) for e in self.read())

    def write(self, extra: bytes = b"") -> None:
        data = b"".join(encode_frame(p) for p in self.core.payloads_to_send()) + extra
        if data and not self.transport.closing:
            self.conn.data_received(data)

    def read(self) -> list[Any]:
        data = bytes(self.transport.buffer)
        self.transport.buffer.clear()
        events = self.core.receive_payloads(self.decoder.feed(data), self.loop.time())
        if not self.core.extensions:
            for event in events:
                payload = getattr(event, "payload", None)
                assert payload is None or not has_extensions(payload), payload
        self.write()
        return events


def _order(side: int, price: int, quantity: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    create = payload.order_create
    create.type = seto_pb2.ORDER_CREATE_LIMIT
    create.market.low = 1
    create.contract.low = 1
    create.side = side
    create.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    create.quantity = quantity
    create.price_type = seto_pb2.PRICE_PERCENT_ODDS
    create.price = price
    return payload


def run_sandbox(batch: list[Payload | bytes]) -> None:
    """Log in alice and bob; alice sends ``batch`` (payloads numbered by her core, or raw
    bytes framed as they are); no exception may be logged, the exchange must stay sound."""

    async def main() -> None:
        server = SandboxServer(
            Exchange(clock=lambda: 1_700_000_000.0),
            ServerConfig(port=0, login_workers=0),
            credentials=CredentialStore(n=2),
        )
        for name in ("alice", "bob"):
            server.add_account(name, f"{name}-pw", 10_000_000)
        for spec in default_markets():
            server.add_market(spec)
        bob = _Wire(server, "bob")
        for side, price in ((seto_pb2.SIDE_BUY, 4000), (seto_pb2.SIDE_SELL, 6000)):
            bob.core.send(_order(side, price, 50_000), bob.loop.time())
        bob.write()
        alice = _Wire(server, "alice")
        subscribe = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
        subscribe.market_subscribe.market.low = 1
        alice.core.send(subscribe, alice.loop.time())
        alice.write()
        for item in batch:
            if alice.transport.closing:
                break
            if isinstance(item, bytes):
                alice.write(encode_frame(item))
            elif item.type != seto_pb2.PAYLOAD_LOGIN:
                try:
                    alice.core.send(item, alice.loop.time())
                except ProtocolError:
                    continue  # e.g. a LOGOUT made the client core stop sending
                alice.write()
            try:
                alice.read()
            except ProtocolError as exc:  # the server's answers are always valid
                raise AssertionError(f"the server sent an invalid payload: {exc}") from exc
            bob.read()
        await asyncio.sleep(0)
        server.exchange.check_invariants()
        await server.close()

    handler = _Errors()
    logger = logging.getLogger("smarkets")
    logger.addHandler(handler)
    try:
        asyncio.run(main())
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]


_REQUESTS = [
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
# Values that reach past the validation into matching, cancelling and routing.
_PLAUSIBLE = {
    "market": st.one_of(st.just(1), st.integers(0, 5)),
    "contract": st.one_of(st.integers(1, 3), st.integers(0, 12)),
    "order": st.integers(0, 30),
    "side": st.sampled_from(seto_pb2.Side.values()),
    "maq": st.one_of(st.integers(0, 60_000), st.just(2**32 - 1)),
    "price": st.one_of(
        st.integers(1, 9999), st.integers(0, 10_001), st.sampled_from([4000, 6000, 2**32 - 1])
    ),
    "quantity": st.one_of(
        st.integers(1000, 200_000),
        st.integers(0, 2_000_000),
        st.sampled_from([999, 1000, 50_000, 500_000_000, 500_000_001, 2**32 - 1]),
    ),
}


@st.composite
def requests(draw: st.DrawFn) -> Payload:
    """A request a client may send, with plausible ids, prices and quantities (and edges)."""
    payload = Payload(type=draw(st.sampled_from(_REQUESTS)))
    message = getattr(payload, _KIND_FIELDS[payload.type])
    message.CopyFrom(draw(messages(message.DESCRIPTOR, 1)))
    for fd in message.DESCRIPTOR.fields:
        values = _PLAUSIBLE.get(fd.name)
        if values is None or (not fd.is_required and draw(st.integers(0, 3)) == 3):
            continue
        if fd.message_type is not None:  # an id
            getattr(message, fd.name).low = draw(values)
            if draw(st.integers(0, 9)) == 0:
                getattr(message, fd.name).high = draw(st.integers(0, 2**64 - 1))
        else:
            setattr(message, fd.name, draw(values))
    return payload


sandbox_items = st.lists(
    st.one_of(requests(), requests(), requests(), payloads(), mutated()), min_size=1, max_size=8
)


@given(batch=sandbox_items)
@settings(max_examples=FAST, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sandbox_server_survives_any_payload(batch: list[Payload | bytes]) -> None:
    run_sandbox(batch)


@soak
@given(batch=sandbox_items)
@settings(max_examples=SOAK, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sandbox_server_survives_any_payload_soak(batch: list[Payload | bytes]) -> None:
    run_sandbox(batch)


# -- replay requests cannot amplify --------------------------------------------------------------


def replay_request(seq: int) -> Payload:
    payload = session_payload(eto_pb2.PAYLOAD_REPLAY)
    payload.eto_payload.replay.seq = seq
    return payload


@pytest.mark.parametrize("role", ["client", "server"])
@given(
    kept=st.integers(1, 60),
    asks=st.lists(st.integers(1, 70), min_size=1, max_size=40),
)
@settings(max_examples=FAST, deadline=None)
def test_replay_requests_in_one_read_resend_each_payload_at_most_once(
    role: str, kept: int, asks: list[int]
) -> None:
    client, server = logged_in_pair()
    victim, peer = (client, server) if role == "client" else (server, client)
    request = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
    request.account_state_request.SetInParent()
    for _ in range(kept):
        victim.send(request, 0.0)
    victim.payloads_to_send()
    for seq in asks:
        peer.send(replay_request(seq), 0.0)
    events = victim.receive_payloads(peer.payloads_to_send(), 1.0)
    out = [Payload.FromString(frame) for frame in victim.payloads_to_send()]
    replayed = [p.eto_payload.seq for p in out if p.eto_payload.is_replay]
    assert len(replayed) == len(set(replayed))  # no payload queued twice
    assert len(replayed) <= victim.outseq - 1
    first = asks[0]
    if not any(isinstance(e, SessionEnded) for e in events) and first < victim.outseq:
        # the first request is answered in full, in order, as before
        assert replayed[: victim.outseq - first] == list(range(first, victim.outseq))


def test_a_flood_of_replay_requests_makes_one_replay() -> None:
    """The attack itself: 2,000 requests for everything, in one read of 20 KiB."""
    client, server = logged_in_pair()
    request = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
    request.account_state_request.SetInParent()
    for _ in range(1000):
        client.send(request, 0.0)
    client.payloads_to_send()
    for _ in range(2000):
        server.send(replay_request(1), 0.0)
    frames = server.payloads_to_send()
    client.receive_payloads(frames, 1.0)
    out = client.payloads_to_send()
    assert len(out) <= 1000 + 10
    assert sum(map(len, out)) < 50 * sum(map(len, frames))


# -- the fuzz targets keep working -------------------------------------------------------------

FUZZ = Path(__file__).resolve().parent / "fuzz"


@pytest.mark.parametrize("target", ["fuzz_payloads.py", "fuzz_framing.py"])
def test_fuzz_target_runs(target: str) -> None:
    """A one-second run of each fuzz target (run them by hand for longer: see their docstring)."""
    result = subprocess.run(
        [sys.executable, str(FUZZ / target), "--seconds", "1", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ")
