"""A client killed with SIGKILL mid-stream, started again: it resumes from its state store.

The client is a child process (this file, run as a script: :func:`child_main`) trading as
Alice with a :class:`~smarkets.state_store.FileStateStore` and a reconnect policy. It
subscribes to a market where Bob (a thread of the test, connected directly) keeps placing
and cancelling orders, so the sandbox streams quotes to it all the time, and it places its
own orders now and then. Each payload its handlers get is written to ``delivered.log``
(seq, kind, name, the reference of an order reply, a digest of the payload), each order it
sends to ``intents.log`` -- ``SENDING ref price`` before the flush, ``SENT ref seq`` after.

It uses the exactly-once idiom of ``docs/reliability.rst``: the application's own record
says what it has applied, so at start it reads the last application seq in
``delivered.log`` and calls :meth:`~smarkets.session.Session.resume_from` with the next
one. The state store provides the rest: the session's numbers, and the payloads it sent,
which answer the server's REPLAY for what the killed process wrote but the server never got.

The test kills it with SIGKILL at random points (after a random number of payloads) a few
times, then lets a last run finish. Then:

* no seq was delivered twice, and the application payloads came in increasing order across
  all the runs;
* they are exactly the application payloads of the session, same seqs and same bytes, as
  the server replays them when the session is resumed from seq 1 at the end (up to the
  last one the last run read);
* every order recorded as ``SENT`` got exactly one reply, no reference got two, every
  reply is for an order the child was ``SENDING``, and the sandbox's exposure for Alice is
  the reservation of each accepted order, once (so none was placed twice).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import smarkets
from smarkets.proto import seto_pb2
from smarkets.protocol import is_session_level
from smarkets.protocol.framing import FrameDecoder
from smarkets.protocol.names import payload_name
from smarkets.reconnect import ReconnectPolicy
from smarkets.sandbox.exchange import reservation
from smarkets.sandbox.process import SandboxProcess

ALICE_MARKET, ALICE_CONTRACT = "1c024", "1cccc"  # nobody else trades it: her orders rest
FEED_MARKET, FEED_CONTRACTS = "2c024", ("4cccc", "5cccc")
BALANCE = 10**12
ACCOUNTS = {
    "alice": {"password": "alice-pw", "balance": BALANCE},
    "bob": {"password": "bob-pw", "balance": BALANCE},
}
QUANTITY = 10_000
KILLS = 5
#: The child places 5 orders every this many reads; at most MAX_ORDERS in all (an account
#: may have 1000 open orders).
ORDER_EVERY = 40
MAX_ORDERS = 800
#: A child that is never killed stops by itself after this long.
CHILD_LIFETIME = 120.0
REPLIES = ("seto.order_accepted", "seto.order_rejected", "seto.order_invalid")


def digest(payload: seto_pb2.Payload) -> str:
    copy = seto_pb2.Payload()
    copy.CopyFrom(payload)
    copy.eto_payload.ClearField("is_replay")
    return hashlib.blake2b(copy.SerializeToString(deterministic=True), digest_size=12).hexdigest()


def reference_of(name: str, payload: seto_pb2.Payload) -> str:
    if name not in REPLIES:
        return "-"
    message = getattr(payload, name.split(".", 1)[1])
    return message.reference if message.HasField("reference") else "-"


def read_lines(path: Path) -> list[str]:
    """The whole lines of ``path`` (a last line cut short by a kill is not one)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[:-1] if text and not text.endswith("\n") else text.splitlines()


def drop_partial_line(path: Path) -> None:
    """Cut a last line left unfinished by a kill, so that appends start on a new line."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


# -- the child ---------------------------------------------------------------------------------


def child_main(argv: list[str]) -> int:
    """``test_resume_after_kill.py DIR PORT [finish]``: trade as Alice until killed.

    With ``finish``: place a last batch, and stop once every order sent (by any run) is
    answered, printing ``DONE``.
    """
    directory, port = Path(argv[0]), int(argv[1])
    finish = argv[2:] == ["finish"]
    started = time.monotonic()
    delivered_path = directory / "delivered.log"
    intents_path = directory / "intents.log"
    for path in (delivered_path, intents_path):
        drop_partial_line(path)
    run_path = directory / "runs"
    run = int(run_path.read_text()) + 1 if run_path.exists() else 1
    run_path.write_text(str(run))

    # What the application has applied, by its own record: the exactly-once idiom.
    delivered = [line.split() for line in read_lines(delivered_path)]
    last_app = max((int(f[0]) for f in delivered if f[1] == "A"), default=0)
    replied = {f[3] for f in delivered if f[2] in REPLIES}
    intents = [line.split() for line in read_lines(intents_path)]
    sending = sum(1 for f in intents if f[0] == "SENDING")
    sent = {f[1] for f in intents if f[0] == "SENT"}

    settings = smarkets.SessionSettings(
        "alice",
        "alice-pw",
        host="127.0.0.1",
        port=port,
        ssl=False,
        socket_timeout=1.0,
        heartbeat_interval=1.0,
        heartbeat_timeout=5.0,
        login_timeout=5.0,
    )
    store = smarkets.FileStateStore(directory / "session.json")
    policy = ReconnectPolicy(max_attempts=50, initial_delay=0.01, max_delay=0.2)
    session = smarkets.Session(settings, state_store=store, reconnect=policy)
    client = smarkets.Smarkets(session)
    out = os.open(delivered_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    intents_fd = os.open(intents_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def record(name: str, payload: seto_pb2.Payload) -> None:
        """The handler: its effect (a line) carries the seq, written before it returns."""
        kind = "S" if is_session_level(payload) else "A"
        ref = reference_of(name, payload)
        if ref != "-":
            replied.add(ref)
        line = f"{payload.eto_payload.seq} {kind} {name} {ref} {digest(payload)}\n"
        os.write(out, line.encode())

    client.add_global_handler(record)
    if session.session is not None and last_app:
        session.resume_from(last_app + 1)
    client.login()
    if run == 1:
        client.subscribe(FEED_MARKET)
        client.flush()
    rng = random.Random(run)
    reads = 0
    while True:
        reads += 1
        if time.monotonic() - started > CHILD_LIFETIME:
            return 2
        batch_due = reads == 1 if finish else reads % ORDER_EVERY == 0
        if sending < MAX_ORDERS and batch_due:
            batch = []
            for _ in range(5):
                ref = f"r{run}-{sending}"
                sending += 1
                batch.append((ref, rng.randint(100, 3000)))
            os.write(intents_fd, "".join(f"SENDING {r} {p}\n" for r, p in batch).encode())
            orders = [
                client.order(
                    smarkets.Order(
                        quantity=QUANTITY,
                        price=price,
                        side=smarkets.Order.BUY,
                        market=ALICE_MARKET,
                        contract=ALICE_CONTRACT,
                        reference=ref,
                    )
                )
                for ref, price in batch
            ]
            client.flush()
            os.write(intents_fd, "".join(f"SENT {o.reference} {o.seq}\n" for o in orders).encode())
            sent.update(o.reference or "" for o in orders)
        elif finish and sent <= replied:
            session.disconnect()  # not a logout: the test resumes it once more
            print("DONE", flush=True)
            return 0
        try:
            client.read(1)
        except smarkets.SocketTimeout:
            pass


# -- the test --------------------------------------------------------------------------------


@pytest.fixture
def sandbox():
    args = ["--throttle", "0", "--replay-limit", "10000000", "--heartbeat-interval", "1"]
    args += ["--session-expiry", "120"]
    with SandboxProcess(tls=False, bots=0, accounts=ACCOUNTS, extra_args=args) as sb:
        yield sb


def start_child(directory: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, str(directory), str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def wait_for_lines(path: Path, count: int, child: subprocess.Popen[str]) -> None:
    limit = time.monotonic() + 60
    while len(read_lines(path)) < count:
        if child.poll() is not None:
            raise AssertionError(f"the child exited early: {child.communicate()}")
        if time.monotonic() > limit:
            child.kill()
            raise AssertionError(f"the child made no progress: {child.communicate()[1][-3000:]}")
        time.sleep(0.01)


def sent_refs(path: Path) -> list[str]:
    return [f[1] for f in (line.split() for line in read_lines(path)) if f[0] == "SENT"]


def wait_until_sent(path: Path, before: set[str], child: subprocess.Popen[str]) -> None:
    """Wait until the child records a flush that returned after ``before``."""
    limit = time.monotonic() + 60
    while not set(sent_refs(path)) - before:
        if child.poll() is not None:
            raise AssertionError(f"the child exited early: {child.communicate()}")
        assert time.monotonic() < limit, "the child sent nothing"
        time.sleep(0.005)


def full_replay(sandbox: SandboxProcess, directory: Path) -> list[tuple[int, str, str, str]]:
    """The session's application payloads as the server replays them from seq 1.

    Taken off the socket, before the session core: independent of the rules under test.
    """
    from support import sandbox_settings  # the child runs this file with only smarkets

    store = smarkets.FileStateStore(directory / "session.json")
    session = smarkets.Session(
        sandbox_settings(sandbox, "alice", socket_timeout=2.0), state_store=store
    )
    client = smarkets.Smarkets(session)
    got: dict[int, tuple[int, str, str, str]] = {}
    pongs: list[int] = []
    client.add_handler("eto.pong", pongs.append)
    original = session.socket.recv_data
    frames_of = FrameDecoder(1 << 20).feed  # the record is the test's own, not the client's

    def recv_data() -> bytes:
        data = original()
        for frame in frames_of(data):
            payload = seto_pb2.Payload.FromString(frame)
            if not is_session_level(payload):
                name = payload_name(payload)[0]
                seq = payload.eto_payload.seq
                got.setdefault(seq, (seq, name, reference_of(name, payload), digest(payload)))
        return data

    session.socket.recv_data = recv_data  # type: ignore[method-assign]
    session.resume_from(1)
    client.login()  # the last run's payloads, if the server lacks any, come from the log
    client.ping()
    client.flush()
    limit = time.monotonic() + 60
    while not pongs:
        assert time.monotonic() < limit, "the full replay did not come"
        client.read(1)
    session.disconnect()
    return [got[seq] for seq in sorted(got)]


def run_kills(sandbox: SandboxProcess, tmp_path: Path, kills: int, seed: int) -> dict[str, int]:
    """Kill the child ``kills`` times, let a last run finish, check; return the figures."""
    # Imported here: the child runs this file with only smarkets on its path.
    from faultproxy import C2S, FaultProxy
    from support import sandbox_settings
    from test_faults import Feeder

    rng = random.Random(seed)
    feeder = Feeder(
        sandbox_settings(sandbox, "bob", socket_timeout=0.5),
        cycles=100_000,
        batch=20,
        seed=3,
        market=FEED_MARKET,
        contracts=FEED_CONTRACTS,
    )
    feeder.start()
    delivered_path = tmp_path / "delivered.log"
    intents_path = tmp_path / "intents.log"
    in_flight: set[str] = set()
    proxy = FaultProxy((sandbox.host, sandbox.port)).start()
    child: subprocess.Popen[str] | None = None
    try:
        for kill in range(kills):
            child = start_child(tmp_path, proxy.port)
            wait_for_lines(
                delivered_path, len(read_lines(delivered_path)) + rng.randint(50, 600), child
            )
            sending = sum(1 for line in read_lines(intents_path) if line.startswith("SENDING"))
            if kill % 2 and sending < MAX_ORDERS - 20:  # (it sends no more after MAX_ORDERS)
                # Killed with orders written to its socket that never reach the server:
                # the next run must replay them from its log when the server asks.
                proxy.stall(C2S)
                before = set(sent_refs(intents_path))
                wait_for_lines(intents_path, len(read_lines(intents_path)) + 1, child)
                wait_until_sent(intents_path, before, child)
                in_flight |= set(sent_refs(intents_path)) - before
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            assert child.returncode == -signal.SIGKILL
            proxy.cut_all()  # what the proxy held back is lost
            proxy.resume()
        child = start_child(tmp_path, proxy.port, "finish")
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0 and "DONE" in out, err
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait(10)
        proxy.stop()
        feeder.stop_event.set()
        feeder.join(30)
    assert feeder.error is None, feeder.error
    assert int((tmp_path / "runs").read_text()) == kills + 1

    delivered = [line.split() for line in read_lines(delivered_path)]
    seqs = [int(f[0]) for f in delivered]
    app = [(int(f[0]), f[2], f[3], f[4]) for f in delivered if f[1] == "A"]
    # Nothing twice; the application payloads in order across the kills.
    assert len(seqs) == len(set(seqs))
    assert [a[0] for a in app] == sorted({a[0] for a in app})
    # Nothing lost: exactly the session's application payloads, byte for byte, up to where
    # the last run stopped reading (the session kept receiving Bob's quotes after that).
    replayed = full_replay(sandbox, tmp_path)
    seen = [r for r in replayed if r[0] <= app[-1][0]]
    assert [r[0] for r in seen] == [a[0] for a in app]
    assert seen == app

    # Every order applied exactly once.
    intents = [line.split() for line in read_lines(tmp_path / "intents.log")]
    prices = {f[1]: int(f[2]) for f in intents if f[0] == "SENDING"}
    sent = {f[1] for f in intents if f[0] == "SENT"}
    replies = Counter(ref for _, name, ref, _ in replayed if name in REPLIES)
    accepted = [ref for _, name, ref, _ in replayed if name == "seto.order_accepted"]
    assert set(replies.values()) == {1}
    assert sent <= set(replies) <= set(prices)
    assert in_flight and in_flight <= sent  # some were lost on the way, and still applied once
    assert len(accepted) == len(replies)  # none rejected: the account has the money
    balance = sandbox.balance("alice")
    expected = sum(reservation(seto_pb2.SIDE_BUY, QUANTITY, prices[ref]) for ref in accepted)
    assert (balance.exposure, balance.staked, balance.cash) == (expected, 0, BALANCE)
    return {
        "kills": kills,
        "delivered": len(seqs),
        "app_payloads": len(app),
        "orders": len(accepted),
        "sent_unrecorded": len(set(replies) - sent),
        "lost_in_flight": len(in_flight),
    }


def test_sigkill_mid_stream_then_restart_loses_nothing_and_doubles_nothing(
    sandbox, tmp_path, record_property
) -> None:
    figures = run_kills(sandbox, tmp_path, KILLS, seed=9)
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nkill run: {figures}")


@pytest.mark.skipif(
    "'soak' not in (config.getoption('markexpr') or '')", reason="a soak variant: make soak"
)
@pytest.mark.soak
def test_soak_thirty_kills(sandbox, tmp_path, record_property) -> None:
    figures = run_kills(sandbox, tmp_path, 30, seed=4)
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nsoak kill run: {figures}")


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
