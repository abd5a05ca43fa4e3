"""Fuzz target for payload handling: protocol connections (both roles) and the sandbox server.

Each case builds payloads from the schema itself (every field kind, edge values, requests
with plausible ids, prices and quantities), sometimes mutates their bytes (bits flipped,
bytes cut, inserted or repeated, random garbage), and checks:

- a client connection and a server one (logged in, or awaiting the login) fed them raise
  nothing but ProtocolError; a read with a bad payload in it moves no ``inseq`` and sends
  nothing;
- valid application payloads sent by one side arrive at the other exactly as sent;
- replay requests, however many in one read, make a side queue each kept payload once at most;
- the sandbox server, fed them by a logged-in client, logs no exception, answers with valid
  payloads only, and the exchange's invariants (money, books) still hold.

Run it by hand for as long as you like (plain Python, no extra dependencies)::

    .venv/bin/python tests/fuzz/fuzz_payloads.py --seconds 600
    .venv/bin/python tests/fuzz/fuzz_payloads.py --seconds 60 --seed 1234   # reproduce a run
    .venv/bin/python tests/fuzz/fuzz_payloads.py --seconds 60 --no-sandbox  # no sandbox, faster

(A run is reproduced by the same ``--seed`` and the same ``--no-sandbox`` choice.)

It prints a summary, and on a failure the seed and case number needed to replay it (with the
traceback), then exits with status 1. It is not collected by pytest (the file name does not
start with ``test_``); ``tests/test_payload_properties.py`` runs it for a second so that it
keeps working, and holds the same properties as hypothesis tests. Both build their payloads
(here from a seeded :class:`random.Random`) and rigs with ``tests/payload_fuzzing.py``.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # smarkets
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared generators

import payload_fuzzing as gen
from payload_fuzzing import (
    RandomChoices,
    SandboxClient,
    logged_errors,
    logged_in_pair,
    sandbox_server,
)

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import Connection, Received, Role, session_payload
from smarkets.protocol.framing import encode_frame, encode_frames

Payload = seto_pb2.Payload


# -- the checks ----------------------------------------------------------------------------


def check_cores(rng: random.Random) -> None:
    """Hostile payloads to each kind of connection; a spoiled read; valid ones round-trip."""
    ch = RandomChoices(rng)
    pair = logged_in_pair()
    awaiting = Connection(Role.SERVER, now=0.0, **gen.TIMINGS)
    for conn in (pair.client, pair.server, awaiting):
        frames = [gen.hostile(ch) for _ in range(rng.randint(1, 6))]
        try:
            conn.receive_data(encode_frames(frames), 1.0)
        except ProtocolError:
            pass
        conn.tick(2.0)
        conn.data_to_send()
    # a read holding one bad payload is refused whole
    pair = logged_in_pair()
    to_server = rng.random() < 0.5
    sender, receiver = (pair.client, pair.server) if to_server else (pair.server, pair.client)
    batch = [
        p for p in (gen.payload(ch) for _ in range(rng.randint(0, 5))) if gen.is_application(p)
    ]
    for item in batch:
        sender.send(item, 0.0)
    frames = sender.payloads_to_send()
    inseq = receiver.inseq
    spoiled = list(frames)
    spoiled.insert(rng.randint(0, len(frames)), b"\xff" + rng.randbytes(rng.randint(0, 8)))
    try:
        receiver.receive_data(encode_frames(spoiled), 1.0)
    except ProtocolError:
        pass
    else:
        raise AssertionError("a batch holding a bad payload was accepted")
    assert receiver.inseq == inseq, "a refused batch moved inseq"
    assert receiver.data_to_send() == b"", "a refused batch was answered"
    # the same batch, unspoiled, arrives exactly as sent
    events = receiver.receive_data(encode_frames(frames), 1.0)
    got = [e.payload for e in events if isinstance(e, Received)]
    assert got == batch, "valid payloads did not round-trip"


def check_replay_bound(rng: random.Random) -> None:
    pair = logged_in_pair()
    to_client = rng.random() < 0.5
    victim, peer = (pair.client, pair.server) if to_client else (pair.server, pair.client)
    request = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
    request.account_state_request.SetInParent()
    for _ in range(rng.randint(1, 200)):
        victim.send(request, 0.0)
    victim.data_to_send()  # delivered long ago
    for _ in range(rng.randint(1, 300)):
        replay = session_payload(eto_pb2.PAYLOAD_REPLAY)
        replay.eto_payload.replay.seq = rng.randint(1, victim.outseq + 5)
        peer.send(replay, 0.0)
    pair.to_client() if to_client else pair.to_server()  # in one read
    out = [Payload.FromString(f) for f in victim.payloads_to_send()]
    replayed = [p.eto_payload.seq for p in out if p.eto_payload.is_replay]
    assert len(replayed) == len(set(replayed)), "a payload was replayed twice in one output"


async def _sandbox_case(rng: random.Random) -> None:
    ch = RandomChoices(rng)
    server = sandbox_server()
    # alice asks for the extensions, bob speaks the published schema only.
    clients = [SandboxClient(server, "alice"), SandboxClient(server, "bob")]
    for _ in range(rng.randint(1, 25)):
        client = rng.choice(clients)
        if client.closed:
            continue
        roll = rng.random()
        if roll < 0.6:
            client.send(gen.request(ch))
        elif roll < 0.8:
            item = gen.payload(ch)
            if item.type != seto_pb2.PAYLOAD_LOGIN:
                client.send(item)
        else:
            client.write(encode_frame(gen.hostile(ch)))
        for each in clients:
            each.read()  # raises if the server sent an invalid payload, or bob an extension
        await asyncio.sleep(0)
    server.exchange.check_invariants()
    await server.close()


def check_sandbox(rng: random.Random) -> None:
    with logged_errors() as errors:
        asyncio.run(_sandbox_case(rng))
    assert not errors, f"the sandbox logged an error: {errors[0]}"


def main(argv: list[str] | None = None) -> int:
    """Run random cases until the time is up; return 1 on the first failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=None, help="seed (random by default)")
    parser.add_argument("--no-sandbox", action="store_true", help="the protocol connections only")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    logging.getLogger("smarkets").setLevel(logging.ERROR)  # the connections warn a lot: keep quiet
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
