"""Property-based tests (hypothesis) of payload handling, on the client's side and the server's.

* Whatever bytes a peer sends as a payload -- random, or a valid payload mutated -- a client
  connection and a server one raise nothing but :class:`~smarkets.errors.ProtocolError`, and a
  read holding a bad payload is refused whole: ``inseq`` does not move, nothing is answered.
* Any valid ``seto.Payload`` (built from the schema's descriptors, every field kind, edge
  values included) round-trips through framing and through a client and a server connection.
* The sandbox server, fed any valid or mutated payload by a logged-in client, never fails
  inside (no exception logged), and the exchange's money and book invariants still hold.
* Replay requests cannot be used to make a core queue more than it keeps (an amplification
  that let a few KiB in make GiB out, in either direction, before it was bounded).

The ``soak`` variants run the same properties with many more examples (``-m soak``);
``tests/fuzz/fuzz_payloads.py`` does the same for as long as you like. Both build their
payloads and rigs with ``tests/payload_fuzzing.py``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import payload_fuzzing as gen
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payload_fuzzing import SandboxClient, logged_errors, logged_in_pair, sandbox_server
from support import soak

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import Connection, Received, Role, SessionEnded, session_payload
from smarkets.protocol.framing import FrameDecoder, encode_frame, encode_frames

Payload = seto_pb2.Payload
T = TypeVar("T")

#: Examples per property in the normal run, and in the soak run.
FAST = 150
SOAK = 5000


# -- strategies: the shared generators, deciding through hypothesis ---------------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


class DrawChoices:
    """:class:`payload_fuzzing.Choices` from hypothesis's ``draw`` (so failures shrink)."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))

    def binary(self, min_size: int, max_size: int) -> bytes:
        return self.draw(st.binary(min_size=min_size, max_size=max_size))

    def text(self) -> str:
        return self.draw(_TEXT)

    def real(self, width: int) -> float:
        return self.draw(st.floats(allow_nan=False, width=width))


def strategy(build: Callable[[DrawChoices], T]) -> st.SearchStrategy[T]:
    """The hypothesis strategy of one of the shared generators."""
    return st.composite(lambda draw: build(DrawChoices(draw)))()


payloads = strategy(gen.payload)
requests = strategy(gen.request)
mutated = strategy(gen.mutated)
hostile_bytes = strategy(gen.hostile)


# -- connections to feed -------------------------------------------------------------------------


def fresh_connection(role: str) -> Connection:
    """A connection to throw bytes at: client or server, logged in or (server) awaiting the
    login."""
    if role == "server-awaiting-login":
        return Connection(Role.SERVER, now=0.0, **gen.TIMINGS)
    pair = logged_in_pair()
    return pair.client if role == "client" else pair.server


ROLES = ["client", "server", "server-awaiting-login"]


def feed(conn: Connection, frames: list[bytes]) -> list[Any]:
    """Feed ``frames``, framed, in one read; anything raised but ProtocolError fails the test."""
    try:
        events = conn.receive_data(encode_frames(frames), 1.0)
    except ProtocolError:
        return []
    conn.tick(2.0)
    conn.data_to_send()
    return events


# -- properties: hostile payload bytes ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@given(frames=st.lists(hostile_bytes, min_size=1, max_size=4))
@settings(max_examples=FAST, deadline=None)
def test_hostile_payload_bytes_only_raise_protocol_error(role: str, frames: list[bytes]) -> None:
    feed(fresh_connection(role), frames)


@soak
@pytest.mark.parametrize("role", ROLES)
@given(frames=st.lists(hostile_bytes, min_size=1, max_size=8))
@settings(max_examples=SOAK, deadline=None)
def test_hostile_payload_bytes_only_raise_protocol_error_soak(
    role: str, frames: list[bytes]
) -> None:
    feed(fresh_connection(role), frames)


@pytest.mark.parametrize("role", ["client", "server"])
@given(good=st.lists(payloads, min_size=1, max_size=4), bad=st.binary(max_size=30), data=st.data())
@settings(max_examples=FAST, deadline=None)
def test_a_bad_payload_spoils_its_whole_batch(
    role: str, good: list[Payload], bad: bytes, data: st.DataObject
) -> None:
    pair = logged_in_pair()
    sender, receiver = (
        (pair.server, pair.client) if role == "client" else (pair.client, pair.server)
    )
    for payload in good:
        if gen.is_application(payload):
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
        receiver.receive_data(encode_frames(frames), 1.0)  # one read
    assert receiver.inseq == inseq
    assert receiver.data_to_send() == b""


@given(stream=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
@settings(max_examples=FAST, deadline=None)
def test_any_stream_through_a_connection_only_raises_protocol_error(
    stream: bytes, cuts: list[int]
) -> None:
    client = logged_in_pair(max_payload_size=64).client
    points = sorted({0, len(stream), *(c for c in cuts if c <= len(stream))})
    try:
        for start, end in zip(points, points[1:], strict=False):
            client.receive_data(stream[start:end], 1.0)
            assert client.buffered <= 64 + 10  # never more than one frame's worth
    except ProtocolError:
        pass


# -- properties: valid payloads round-trip -----------------------------------------------------


@given(batch=st.lists(payloads, max_size=5), data=st.data())
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
@given(batch=st.lists(payloads, min_size=1, max_size=5))
@settings(max_examples=FAST, deadline=None)
def test_valid_payloads_round_trip_through_the_connections(
    direction: str, batch: list[Payload]
) -> None:
    pair = logged_in_pair()
    to_server = direction == "client-to-server"
    sender = pair.client if to_server else pair.server
    sent = [p for p in batch if gen.is_application(p)]
    for payload in sent:
        sender.send(payload, 0.0)  # numbers it: its eto seq is set in place
    events = pair.to_server() if to_server else pair.to_client()
    assert [e.payload for e in events if isinstance(e, Received)] == sent


# -- the sandbox server, fed by a logged-in client ---------------------------------------------


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
    """Log in alice and bob; alice sends ``batch`` (payloads numbered by her connection, or
    raw bytes framed as they are); no exception may be logged, the exchange must stay sound."""

    async def main() -> None:
        server = sandbox_server()
        bob = SandboxClient(server, "bob")
        for side, price in ((seto_pb2.SIDE_BUY, 4000), (seto_pb2.SIDE_SELL, 6000)):
            bob.protocol.send(_order(side, price, 50_000), bob.loop.time())
        bob.write()
        alice = SandboxClient(server, "alice")
        subscribe = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
        subscribe.market_subscribe.market.low = 1
        alice.send(subscribe)
        for item in batch:
            if alice.closed:
                break
            if isinstance(item, bytes):
                alice.write(encode_frame(item))
            elif item.type != seto_pb2.PAYLOAD_LOGIN and not alice.send(item):
                continue
            alice.read()
            bob.read()
        await asyncio.sleep(0)
        server.exchange.check_invariants()
        await server.close()

    with logged_errors() as errors:
        asyncio.run(main())
    assert not errors, errors


sandbox_items = st.lists(
    st.one_of(requests, requests, requests, payloads, mutated), min_size=1, max_size=8
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
    pair = logged_in_pair()
    to_client = role == "client"
    victim, peer = (pair.client, pair.server) if to_client else (pair.server, pair.client)
    request = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
    request.account_state_request.SetInParent()
    for _ in range(kept):
        victim.send(request, 0.0)
    victim.data_to_send()  # delivered long ago
    for seq in asks:
        peer.send(replay_request(seq), 0.0)
    events = pair.to_client() if to_client else pair.to_server()  # in one read
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
    pair = logged_in_pair()
    request = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
    request.account_state_request.SetInParent()
    for _ in range(1000):
        pair.client.send(request, 0.0)
    pair.client.data_to_send()  # delivered long ago
    for _ in range(2000):
        pair.server.send(replay_request(1), 0.0)
    frames = pair.server.payloads_to_send()
    pair.to_client(encode_frames(frames))
    out = pair.client.payloads_to_send()
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
