"""Fuzz target for payload handling: the session cores (both roles) and the sandbox server.

Each case builds payloads from the schema itself (every field kind, edge values, requests
with plausible ids, prices and quantities), sometimes mutates their bytes (bits flipped,
bytes cut, inserted or repeated, random garbage), and checks:

- a client core and a server core (logged in, or awaiting the login) fed them raise nothing
  but ProtocolError; a batch with a bad payload in it moves no ``inseq`` and sends nothing;
- valid application payloads sent by one core arrive at the other exactly as sent;
- replay requests, however many in one read, make a core queue each kept payload once at most;
- the sandbox server, fed them by a logged-in client, logs no exception, answers with valid
  payloads only, and the exchange's invariants (money, books) still hold.

Run it by hand for as long as you like (plain Python, no extra dependencies)::

    .venv/bin/python tests/fuzz/fuzz_payloads.py --seconds 600
    .venv/bin/python tests/fuzz/fuzz_payloads.py --seconds 60 --seed 1234   # reproduce a run
    .venv/bin/python tests/fuzz/fuzz_payloads.py --seconds 60 --no-sandbox  # cores only, faster

(A run is reproduced by the same ``--seed`` and the same ``--no-sandbox`` choice.)

It prints a summary, and on a failure the seed and case number needed to replay it (with the
traceback), then exits with status 1. It is not collected by pytest (the file name does not
start with ``test_``); ``tests/test_payload_properties.py`` runs it for a second so that it
keeps working, and holds the same properties as hypothesis tests.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    LoggedIn,
    Received,
    ReplayStore,
    Role,
    SessionCore,
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
FD = FieldDescriptor

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
_KIND_FIELDS = {
    value: name.lower().removeprefix("payload_")
    for name, value in seto_pb2.PayloadType.items()
    if name.lower().removeprefix("payload_") in Payload.DESCRIPTOR.fields_by_name
}
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
_TIMING = {"heartbeat_interval": 3600.0, "heartbeat_timeout": 7200.0, "login_timeout": 3600.0}


# -- random messages ---------------------------------------------------------------------------


def random_int(rng: random.Random, lo: int, hi: int) -> int:
    roll = rng.random()
    if roll < 0.3:
        return rng.randint(max(lo, 0), min(hi, 12))
    if roll < 0.6:
        return rng.randint(max(lo, 0), min(hi, 1_000_000))
    if roll < 0.8:
        return rng.choice([lo, hi, 0 if lo <= 0 else lo, min(hi, 9999), min(hi, 10_000)])
    return rng.randint(lo, hi)


def random_text(rng: random.Random) -> str:
    alphabet = "aZ09 -_é€\u4e2d\U0001f600\x00"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 12, 70])))


def random_scalar(rng: random.Random, fd: FieldDescriptor) -> Any:
    if fd.type in _INT_RANGES:
        return random_int(rng, *_INT_RANGES[fd.type])
    if fd.type == FD.TYPE_BOOL:
        return rng.random() < 0.5
    if fd.type == FD.TYPE_STRING:
        return random_text(rng)
    if fd.type == FD.TYPE_BYTES:
        return rng.randbytes(rng.randint(0, 12))
    if fd.type == FD.TYPE_ENUM:
        return rng.choice(fd.enum_type.values).number
    if fd.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return rng.uniform(-1e6, 1e6)
    raise AssertionError(f"no generator for field {fd.full_name}")


def random_message(rng: random.Random, descriptor: Descriptor, depth: int = 0) -> Message:
    """A message of ``descriptor``'s type with its required fields set, at any depth."""
    message = message_factory.GetMessageClass(descriptor)()
    for fd in descriptor.fields:
        if fd.is_repeated:
            if depth < 3:
                target = getattr(message, fd.name)
                for _ in range(rng.choice([0, 0, 1, 2, 3])):
                    if fd.message_type is not None:
                        target.add().CopyFrom(random_message(rng, fd.message_type, depth + 1))
                    else:
                        target.append(random_scalar(rng, fd))
            continue
        if not fd.is_required and (depth >= 3 or rng.random() < 0.6):
            continue
        if fd.message_type is not None:
            getattr(message, fd.name).CopyFrom(random_message(rng, fd.message_type, depth + 1))
        else:
            setattr(message, fd.name, random_scalar(rng, fd))
    return message


def random_payload(rng: random.Random) -> Payload:
    """Any valid seto Payload: a type, usually its matching message, an eto part."""
    payload = Payload(type=rng.choice(seto_pb2.PayloadType.values()))
    payload.eto_payload.CopyFrom(random_message(rng, eto_pb2.Payload.DESCRIPTOR, 1))
    fields = sorted(set(Payload.DESCRIPTOR.fields_by_name) - {"type", "eto_payload"})
    names = [_KIND_FIELDS[payload.type]] if payload.type in _KIND_FIELDS else []
    if rng.random() < 0.2:
        names = rng.sample(fields, rng.randint(0, 3))
    for name in names:
        fd = Payload.DESCRIPTOR.fields_by_name[name]
        getattr(payload, name).CopyFrom(random_message(rng, fd.message_type, 1))
    return payload


def random_request(rng: random.Random) -> Payload:
    """A request a client may send, its ids, prices and quantities mostly plausible."""
    payload = Payload(type=rng.choice(_REQUESTS))
    message = getattr(payload, _KIND_FIELDS[payload.type])
    message.CopyFrom(random_message(rng, message.DESCRIPTOR, 1))
    plausible = {
        "market": lambda: rng.choice([1, 1, 1, 2, 3, 4, 0, 5]),
        "contract": lambda: rng.choice([1, 2, 3, rng.randint(0, 12)]),
        "order": lambda: rng.randint(0, 30),
        "side": lambda: rng.choice(seto_pb2.Side.values()),
        "price": lambda: rng.choice([rng.randint(1, 9999), 0, 10_000, 4000, 6000, 2**32 - 1]),
        "quantity": lambda: rng.choice(
            [rng.randint(1000, 200_000), 0, 999, 500_000_001, 2**32 - 1]
        ),
        "maq": lambda: rng.choice([rng.randint(0, 60_000), 2**32 - 1]),
    }
    for fd in message.DESCRIPTOR.fields:
        make = plausible.get(fd.name)
        if make is None or (not fd.is_required and rng.random() < 0.2):
            continue
        if fd.message_type is not None:
            getattr(message, fd.name).low = make()
            if rng.random() < 0.05:
                getattr(message, fd.name).high = rng.randint(1, 2**64 - 1)
        else:
            setattr(message, fd.name, make())
    return payload


def mutate(rng: random.Random, data: bytes) -> bytes:
    """Flip, cut, insert or repeat a few bytes of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randint(0, len(out))
        action = rng.randrange(5)
        if action == 0 and out:
            out[min(where, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif action == 1:
            del out[where : where + rng.randint(1, 8)]
        elif action == 2:
            out[where:where] = rng.randbytes(rng.randint(1, 8))
        elif action == 3:
            del out[where:]
        else:
            out += out[where:]
    return bytes(out)


def hostile_frame(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.6:
        return mutate(rng, random_payload(rng).SerializeToString())
    if roll < 0.9:
        return rng.randbytes(rng.randint(0, 64))
    return random_payload(rng).SerializeToString()


# -- the checks ----------------------------------------------------------------------------


def logged_in_pair() -> tuple[SessionCore, SessionCore]:
    client = SessionCore(Role.CLIENT, SessionState(sent=ReplayStore()), now=0.0, **_TIMING)
    server = SessionCore(Role.SERVER, now=0.0, **_TIMING)
    client.login(seto_pb2.Login(username="alice", password="pw"), 0.0)
    server.receive_payloads(client.payloads_to_send(), 0.0)
    server.accept_login(SessionState(session_id="a9999"), 0.0)
    events = client.receive_payloads(server.payloads_to_send(), 0.0)
    assert any(isinstance(e, LoggedIn) for e in events), "login failed"
    return client, server


def application(payload: Payload) -> bool:
    return not is_session_level(payload) and payload.eto_payload.type != eto_pb2.PAYLOAD_GAPFILL


def check_cores(rng: random.Random) -> None:
    """Hostile frames to each kind of core; a spoiled batch; valid ones round-trip."""
    client, server = logged_in_pair()
    awaiting = SessionCore(Role.SERVER, now=0.0, **_TIMING)
    for core in (client, server, awaiting):
        frames = [hostile_frame(rng) for _ in range(rng.randint(1, 6))]
        try:
            core.receive_payloads(frames, 1.0)
        except ProtocolError:
            pass
        core.tick(2.0)
        core.payloads_to_send()
    # a batch with one bad payload is refused whole
    client, server = logged_in_pair()
    sender, receiver = (client, server) if rng.random() < 0.5 else (server, client)
    batch = [p for p in (random_payload(rng) for _ in range(rng.randint(0, 5))) if application(p)]
    for payload in batch:
        sender.send(payload, 0.0)
    frames = sender.payloads_to_send()
    inseq = receiver.inseq
    spoiled = list(frames)
    spoiled.insert(rng.randint(0, len(frames)), b"\xff" + rng.randbytes(rng.randint(0, 8)))
    try:
        receiver.receive_payloads(spoiled, 1.0)
    except ProtocolError:
        pass
    else:
        raise AssertionError("a batch holding a bad payload was accepted")
    assert receiver.inseq == inseq, "a refused batch moved inseq"
    assert receiver.payloads_to_send() == [], "a refused batch was answered"
    # the same batch, unspoiled, arrives exactly as sent
    events = receiver.receive_payloads(frames, 1.0)
    got = [e.payload for e in events if isinstance(e, Received)]
    assert got == batch, "valid payloads did not round-trip"


def check_replay_bound(rng: random.Random) -> None:
    client, server = logged_in_pair()
    victim, peer = (client, server) if rng.random() < 0.5 else (server, client)
    request = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
    request.account_state_request.SetInParent()
    for _ in range(rng.randint(1, 200)):
        victim.send(request, 0.0)
    victim.payloads_to_send()
    for _ in range(rng.randint(1, 300)):
        replay = session_payload(eto_pb2.PAYLOAD_REPLAY)
        replay.eto_payload.replay.seq = rng.randint(1, victim.outseq + 5)
        peer.send(replay, 0.0)
    victim.receive_payloads(peer.payloads_to_send(), 1.0)
    out = [Payload.FromString(f) for f in victim.payloads_to_send()]
    replayed = [p.eto_payload.seq for p in out if p.eto_payload.is_replay]
    assert len(replayed) == len(set(replayed)), "a payload was replayed twice in one output"


class _Transport(asyncio.Transport):
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
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


async def _sandbox_case(rng: random.Random) -> None:
    server = SandboxServer(
        Exchange(clock=lambda: 1_700_000_000.0),
        ServerConfig(port=0, login_workers=0),
        credentials=CredentialStore(n=2),
    )
    for name in ("alice", "bob"):
        server.add_account(name, f"{name}-pw", 10_000_000)
    for spec in default_markets():
        server.add_market(spec)
    loop = asyncio.get_running_loop()
    wires = []
    # alice asks for the extensions, bob speaks the published schema only.
    for name, extensions in (("alice", EXTENSIONS_VERSION), ("bob", 0)):
        conn = Connection(server)
        transport = _Transport(conn)
        conn.connection_made(transport)
        core = SessionCore(Role.CLIENT, now=loop.time())
        login = seto_pb2.Login(username=name, password=f"{name}-pw", extensions=extensions)
        core.login(login, loop.time())
        wires.append((conn, transport, core, FrameDecoder()))
    for _ in range(rng.randint(1, 25)):
        conn, transport, core, decoder = rng.choice(wires)
        if transport.closing:
            continue
        roll = rng.random()
        extra = b""
        if roll < 0.6:
            payload = random_request(rng)
        elif roll < 0.8:
            payload = random_payload(rng)
        else:
            payload = None
            extra = encode_frame(hostile_frame(rng))
        if payload is not None and payload.type != seto_pb2.PAYLOAD_LOGIN:
            try:
                core.send(payload, loop.time())
            except ProtocolError:
                pass
        data = b"".join(encode_frame(p) for p in core.payloads_to_send()) + extra
        if data:
            conn.data_received(data)
        for conn2, transport2, core2, decoder2 in wires:
            received = bytes(transport2.buffer)
            transport2.buffer.clear()
            try:
                events = core2.receive_payloads(decoder2.feed(received), loop.time())
            except ProtocolError as exc:
                raise AssertionError(f"the server sent an invalid payload: {exc}") from exc
            if core2 is wires[1][2]:
                for event in events:
                    payload = getattr(event, "payload", None)
                    if payload is not None and has_extensions(payload):
                        raise AssertionError(f"an extension reached bob: {payload}")
            out = core2.payloads_to_send()
            if out and not transport2.closing:
                conn2.data_received(b"".join(encode_frame(p) for p in out))
        await asyncio.sleep(0)
    server.exchange.check_invariants()
    await server.close()


def check_sandbox(rng: random.Random) -> None:
    handler = _Errors()
    logger = logging.getLogger("smarkets")
    logger.addHandler(handler)
    try:
        asyncio.run(_sandbox_case(rng))
    finally:
        logger.removeHandler(handler)
    assert not handler.messages, f"the sandbox logged an error: {handler.messages[0]}"


def main(argv: list[str] | None = None) -> int:
    """Run random cases until the time is up; return 1 on the first failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=None, help="seed (random by default)")
    parser.add_argument("--no-sandbox", action="store_true", help="the session cores only")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    logging.getLogger("smarkets").setLevel(logging.ERROR)  # the cores warn a lot: keep quiet
    checks = [check_cores, check_replay_bound]
    if not args.no_sandbox:
        checks.append(check_sandbox)
    deadline = time.monotonic() + args.seconds
    cases = 0
    while time.monotonic() < deadline:
        rng = random.Random(f"{seed}:{cases}")
        check = checks[cases % len(checks)]
        try:
            check(rng)
        except Exception as exc:  # any exception at all is a finding
            print(
                f"FAILED seed={seed} case={cases} ({check.__name__}): {type(exc).__name__}: {exc}"
            )
            traceback.print_exc()
            return 1
        cases += 1
    print(f"ok: {cases} cases in {args.seconds:g}s, seed={seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
