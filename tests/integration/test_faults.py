"""Forced disconnects while the sandbox streams and the client trades: none lost, none doubled.

Alice trades through a :class:`~faultproxy.FaultProxy` that cuts her connection over and
over -- between frames, inside a length header, inside a payload, in both directions, by
FIN and by RST, some connections slowed down, some cut during the login itself -- while
Bob (connected directly) keeps placing and cancelling orders in the market she subscribed
to, so that the sandbox streams quotes and fills to her the whole time. Alice's session
has a :class:`~smarkets.reconnect.ReconnectPolicy` and her script never handles a
disconnect. Then:

* her handlers saw every application payload of the server exactly once and in order: the
  payloads they recorded are exactly those the server replays when asked for the whole
  session from seq 1 (same seqs, same bytes), and no seq was dispatched twice;
* the server applied each of her requests exactly once: every order is answered exactly
  once (accepted, rejected or invalid), no order id is accepted twice, no order is filled
  or cancelled beyond its quantity, every cancel-all and catalogue request is answered
  once;
* her account reconciles: the stakes of the fills her handlers saw, the exposure of the
  orders still open by their replies, and her cash are what the sandbox says, both in the
  ``account_state`` it sends her and on its admin console.

The default run is sized to take a few seconds; ``-m soak`` runs a long variant.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from faultproxy import C2S, S2C, Cut, FaultProxy, random_plan
from support import sandbox_settings

import smarkets
from smarkets.proto import seto_pb2
from smarkets.protocol import is_session_level
from smarkets.protocol.framing import FrameDecoder
from smarkets.reconnect import ConnectionEvent, ConnectionState, ReconnectPolicy
from smarkets.sandbox.exchange import buy_cost, reservation, sell_cost
from smarkets.sandbox.process import SandboxProcess

MARKET = "1c024"
CONTRACTS = ("1cccc", "2cccc", "3cccc")
BALANCE = 10**12
ACCOUNTS = {
    "alice": {"password": "alice-pw", "balance": BALANCE},
    "bob": {"password": "bob-pw", "balance": BALANCE},
}
#: Whole payoff units (10,000 / 10,000): every stake of every fill is then exact.
UNIT = 10_000
PRICES = (4000, 6000)


@dataclass(frozen=True)
class Scale:
    """How big a run is."""

    #: Cuts planned, and how many must have happened.
    planned_cuts: int
    min_cuts: int
    #: Orders Alice sends (at least).
    orders: int
    #: Bob's cycles of ``batch`` orders then a cancel-all.
    cycles: int
    batch: int
    #: Application payloads Alice must have received (at least).
    min_payloads: int
    #: Give up after this long (a hung run fails, it does not hang the suite).
    deadline: float


DEFAULT = Scale(
    planned_cuts=24,
    min_cuts=20,
    orders=2000,
    cycles=190,
    batch=100,
    min_payloads=20_000,
    deadline=120,
)
SOAK = Scale(
    planned_cuts=240,
    min_cuts=200,
    orders=20_000,
    cycles=1900,
    batch=100,
    min_payloads=200_000,
    deadline=1200,
)


def stake(side: int, quantity: int, price: int) -> int:
    """What a fill costs the account on ``side`` (exact: quantities are whole units)."""
    assert quantity % UNIT == 0
    return buy_cost(quantity, price) if side == seto_pb2.SIDE_BUY else sell_cost(quantity, price)


def order_key(uuid: seto_pb2.Uuid128) -> int:
    return uuid.low | uuid.high << 64


def digest(payload: seto_pb2.Payload) -> bytes:
    """The payload's identity, whether it came first-hand or as a replayed copy."""
    copy = seto_pb2.Payload()
    copy.CopyFrom(payload)
    copy.eto_payload.ClearField("is_replay")
    return hashlib.blake2b(copy.SerializeToString(deterministic=True), digest_size=16).digest()


@dataclass
class Ledger:
    """What Alice's handlers saw, checked as it comes, and what it implies for her account."""

    #: Request seq -> (side, price, quantity) of each order sent.
    orders: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    #: Seqs of the cancel-all and catalogue requests sent.
    cancel_alls: set[int] = field(default_factory=set)
    catalogues: set[int] = field(default_factory=set)
    dispatched: list[int] = field(default_factory=list)
    app: dict[int, bytes] = field(default_factory=dict)
    replies: Counter[int] = field(default_factory=Counter)
    other_replies: Counter[int] = field(default_factory=Counter)
    accepted: dict[int, int] = field(default_factory=dict)  # order id -> request seq
    filled: Counter[int] = field(default_factory=Counter)
    cancelled: Counter[int] = field(default_factory=Counter)
    staked: int = 0
    fills: int = 0
    account_states: dict[int, seto_pb2.AccountState] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    pongs: int = 0
    last_app: int = 0

    def on_payload(self, name: str, payload: seto_pb2.Payload) -> None:
        seq = payload.eto_payload.seq
        self.dispatched.append(seq)
        if name == "eto.pong":
            self.pongs += 1
        if is_session_level(payload):
            return
        if seq <= self.last_app:
            self.problems.append(f"application payload {seq} after {self.last_app}")
        self.last_app = seq
        self.app[seq] = digest(payload)
        message = getattr(payload, name.split(".", 1)[1], None)
        if name in ("seto.order_accepted", "seto.order_rejected", "seto.order_invalid"):
            self.replies[message.seq] += 1
            if name == "seto.order_accepted":
                key = order_key(message.order)
                if key in self.accepted:
                    self.problems.append(f"order id {key} accepted twice")
                self.accepted[key] = message.seq
        elif name == "seto.order_executed":
            request = self.accepted.get(order_key(message.order))
            if request is None:
                self.problems.append(f"fill of an order never accepted: {message}")
                return
            side, price, quantity = self.orders[request]
            self.filled[request] += message.quantity
            self.staked += stake(message.side, message.quantity, message.price)
            self.fills += 1
            left = quantity - self.filled[request] - self.cancelled[request]
            if left < 0 or message.remaining != left:
                self.problems.append(f"order {request}: remaining {message.remaining}, not {left}")
        elif name == "seto.order_cancelled":
            request = self.accepted.get(order_key(message.order))
            if request is None:
                self.problems.append(f"cancellation of an order never accepted: {message}")
                return
            self.cancelled[request] += message.quantity
            _, _, quantity = self.orders[request]
            if self.filled[request] + self.cancelled[request] > quantity:
                self.problems.append(f"order {request} cancelled beyond its quantity")
        elif name in ("seto.order_cancel_all_accepted", "seto.markets"):
            self.other_replies[message.seq] += 1
        elif name == "seto.account_state" and message.HasField("seq"):
            self.account_states[message.seq] = smarkets.Account.from_message(message)

    def answered(self) -> int:
        return sum(1 for seq in self.orders if self.replies[seq])

    def exposure(self) -> int:
        """What Alice's orders still open reserve, by the replies she saw."""
        total = 0
        for request in self.accepted.values():
            side, price, quantity = self.orders[request]
            left = quantity - self.filled[request] - self.cancelled[request]
            total += reservation(side, left, price)
        return total


class Feeder(threading.Thread):
    """Bob: cycles of ``batch`` orders in a market, then a cancel-all, over a direct link.

    Every order changes the market's book, so every subscriber gets a stream of quotes.
    Stops after ``cycles`` cycles, or when :attr:`stop_event` is set.
    """

    def __init__(
        self,
        settings: smarkets.SessionSettings,
        cycles: int,
        batch: int,
        seed: int,
        market: str = MARKET,
        contracts: tuple[str, ...] = CONTRACTS,
    ) -> None:
        super().__init__(name="feeder", daemon=True)
        self.settings = settings
        self.cycles = cycles
        self.batch = batch
        self.market = market
        self.contracts = contracts
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.orders = 0
        self._answered = 0
        self._cancelled_all = 0

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _count(self, name: str, payload: seto_pb2.Payload) -> None:
        if name in ("seto.order_accepted", "seto.order_rejected", "seto.order_invalid"):
            self._answered += 1
        elif name == "seto.order_cancel_all_accepted":
            self._cancelled_all += 1

    def _wait(self, client: smarkets.Smarkets, done: Any) -> bool:
        """Read until ``done()``; False if told to stop meanwhile."""
        limit = time.monotonic() + 30
        while not done():
            if self.stop_event.is_set():
                return False
            if time.monotonic() > limit:
                raise RuntimeError("the feeder's requests were not answered")
            try:
                client.read(1)
            except smarkets.SocketTimeout:
                pass
        return True

    def _run(self) -> None:
        client = smarkets.Smarkets(smarkets.Session(self.settings))
        client.add_global_handler(self._count)
        client.login()
        rng = self.rng
        for cycle in range(self.cycles):
            if self.stop_event.is_set():
                break
            side = smarkets.Order.BUY if cycle % 2 else smarkets.Order.SELL
            for _ in range(self.batch):
                client.order(
                    smarkets.Order(
                        quantity=UNIT * rng.randint(1, 3),
                        price=rng.randint(*PRICES),
                        side=side,
                        market=self.market,
                        contract=rng.choice(self.contracts),
                    )
                )
            client.flush()
            self.orders += self.batch
            if not self._wait(client, lambda: self._answered >= self.orders):
                break
            client.cancel_all(self.market)
            client.flush()
            goal = cycle + 1
            if not self._wait(client, lambda goal=goal: self._cancelled_all >= goal):
                break
        client.logout()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    args = ["--throttle", "0", "--replay-limit", "10000000", "--heartbeat-interval", "2"]
    args += ["--session-expiry", "120"]
    with SandboxProcess(tls=False, bots=0, accounts=ACCOUNTS, extra_args=args) as sb:
        yield sb


def login_phase_cuts() -> list[Cut]:
    """Cuts that make a reconnect attempt itself fail, so that the next one must succeed."""
    return [
        Cut(C2S, 0, "between", "reset"),  # the login never arrives
        Cut(S2C, 0, "payload", "close"),  # the login response cut in half
        Cut(S2C, 1, "between", "reset"),  # logged in, then gone before the replay
    ]


def run_faults(sandbox: SandboxProcess, scale: Scale, seed: int) -> dict[str, Any]:
    """One fault run; returns its figures (the assertions are made as it goes)."""
    rng = random.Random(seed)
    plan = random_plan(rng, scale.planned_cuts - 3)
    for cut in login_phase_cuts():
        plan.insert(rng.randrange(1, len(plan)), cut)
    events: list[ConnectionEvent] = []
    ledger = Ledger()
    started = time.monotonic()
    with FaultProxy((sandbox.host, sandbox.port)) as proxy:
        proxy.add_faults(plan)
        settings = sandbox_settings(
            sandbox,
            "alice",
            port=proxy.port,
            socket_timeout=0.5,
            heartbeat_interval=2.0,
            heartbeat_timeout=6.0,
            login_timeout=2.0,
        )
        policy = ReconnectPolicy(
            max_attempts=20, initial_delay=0.005, max_delay=0.05, jitter=0.5, seed=seed
        )
        session = smarkets.Session(settings, reconnect=policy, on_connection_event=events.append)
        client = smarkets.Smarkets(session)
        client.add_global_handler(ledger.on_payload)
        client.login()
        client.subscribe(MARKET)
        client.flush()
        feeder = Feeder(
            sandbox_settings(sandbox, "bob", socket_timeout=0.5),
            scale.cycles,
            scale.batch,
            seed + 1,
        )
        feeder.start()
        try:
            batches = 0
            while True:
                assert time.monotonic() - started < scale.deadline, "the run did not finish"
                assert feeder.error is None, f"the feeder failed: {feeder.error!r}"
                assert not ledger.problems, ledger.problems[:5]
                enough = (
                    len(ledger.orders) >= scale.orders
                    and len(proxy.cuts) >= scale.min_cuts
                    and not feeder.is_alive()
                )
                outstanding = len(ledger.orders) - ledger.answered()
                if enough and not outstanding:
                    break
                if outstanding < 200 and (
                    len(ledger.orders) < scale.orders or len(proxy.cuts) < scale.min_cuts
                ):
                    orders = [place(client, rng) for _ in range(20)]
                    batches += 1
                    others = []
                    if batches % 5 == 0:
                        others.append(request(client, seto_pb2.PAYLOAD_MARKETS_REQUEST))
                    if batches % 10 == 0:
                        others.append(request(client, seto_pb2.PAYLOAD_ORDER_CANCEL_ALL))
                    client.flush()
                    note_sent(ledger, others, orders)
                    continue
                try:
                    client.read(1)  # something is on its way: replies, or Bob's stream
                except smarkets.SocketTimeout:
                    pass
        finally:
            feeder.stop_event.set()
            feeder.join(30)
        proxy.disarm()
        figures = settle_and_check(sandbox, client, ledger, rng)
        verify_against_full_replay(client, ledger)
        client.session.disconnect()
        cuts = list(proxy.cuts)
    figures.update(
        seconds=round(time.monotonic() - started, 1),
        cuts=len(cuts),
        cuts_by_kind=dict(Counter(f"{c.cut.direction}/{c.where}" for c in cuts)),
        disconnects=sum(1 for e in events if e.state is ConnectionState.DISCONNECTED),
        reconnects=sum(1 for e in events if e.state is ConnectionState.CONNECTED),
        failed_attempts=sum(
            1 for e in events if e.state is ConnectionState.RECONNECTING and e.attempt > 1
        ),
        orders=len(ledger.orders),
        bob_orders=feeder.orders,
        fills=ledger.fills,
    )
    assert figures["cuts"] >= scale.min_cuts
    assert {c.where for c in cuts} == {"between", "header", "payload"}
    assert {c.cut.direction for c in cuts} == {C2S, S2C}
    # Every cut was noticed: it dropped a logged-in connection, or made an attempt to
    # reconnect fail (the cuts during logins); each drop was resumed.
    assert figures["disconnects"] + figures["failed_attempts"] >= figures["cuts"]
    assert figures["reconnects"] == figures["disconnects"]
    assert figures["failed_attempts"] >= 1
    assert not any(e.state in (ConnectionState.GAVE_UP, ConnectionState.ENDED) for e in events)
    return figures


def place(client: smarkets.Smarkets, rng: random.Random) -> smarkets.Order:
    order = smarkets.Order(
        quantity=UNIT * rng.randint(1, 3),
        price=rng.randint(*PRICES),
        side=rng.choice((smarkets.Order.BUY, smarkets.Order.SELL)),
        market=MARKET,
        contract=rng.choice(CONTRACTS),
        time_in_force=(
            smarkets.Order.IMMEDIATE_OR_CANCEL
            if rng.random() < 0.25
            else smarkets.Order.GOOD_TIL_CANCELLED
        ),
    )
    return client.order(order)


def request(client: smarkets.Smarkets, kind: int) -> seto_pb2.Payload:
    """Queue a cancel-all of the market, a catalogue or an account state request."""
    payload = seto_pb2.Payload(type=kind)
    if kind == seto_pb2.PAYLOAD_ORDER_CANCEL_ALL:
        payload.order_cancel_all.market.CopyFrom(smarkets.str_to_uuid128(MARKET))
    elif kind == seto_pb2.PAYLOAD_MARKETS_REQUEST:
        payload.markets_request.SetInParent()
    else:
        payload.account_state_request.SetInParent()
    client.queue(payload)
    return payload


def note_sent(ledger: Ledger, queued: list[seto_pb2.Payload], orders: list[smarkets.Order]) -> None:
    """Record what a flush numbered (the seqs are in the payloads now)."""
    for order in orders:
        assert order.seq is not None and order.state != "queued"
        ledger.orders[order.seq] = (order.side, order.price, order.quantity)
    for payload in queued:
        if payload.type == seto_pb2.PAYLOAD_ORDER_CANCEL_ALL:
            ledger.cancel_alls.add(payload.eto_payload.seq)
        elif payload.type == seto_pb2.PAYLOAD_MARKETS_REQUEST:
            ledger.catalogues.add(payload.eto_payload.seq)


def read_some(client: smarkets.Smarkets, count: int) -> None:
    """Dispatch up to ``count`` payloads; stop early when nothing comes for a while."""
    for _ in range(count):
        try:
            client.read(1)
        except smarkets.SocketTimeout:
            return


def settle_and_check(
    sandbox: SandboxProcess, client: smarkets.Smarkets, ledger: Ledger, rng: random.Random
) -> dict[str, Any]:
    """Cancel what is open, ask for the balance; check every reply and the money."""
    queued = [
        request(client, seto_pb2.PAYLOAD_ORDER_CANCEL_ALL),
        request(client, seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST),
    ]
    client.flush()
    note_sent(ledger, queued, [])
    asked = queued[-1].eto_payload.seq
    limit = time.monotonic() + 30
    while asked not in ledger.account_states:
        assert time.monotonic() < limit, "no answer to the account state request"
        read_some(client, 100)
    assert not ledger.problems, ledger.problems[:5]
    # Every order answered exactly once; every other request too.
    assert set(ledger.replies) == set(ledger.orders)
    assert set(ledger.replies.values()) == {1}
    assert set(ledger.other_replies) == ledger.cancel_alls | ledger.catalogues
    assert set(ledger.other_replies.values()) == {1}
    # The money: what the fills cost, what is still reserved, what is left.
    state = ledger.account_states[asked]
    admin = sandbox.balance("alice")
    assert ledger.exposure() == 0  # the last cancel-all closed everything
    assert (state.staked, state.exposure, state.cash) == (ledger.staked, 0, BALANCE - ledger.staked)
    assert (admin.staked, admin.exposure, admin.cash) == (state.staked, 0, state.cash)
    assert ledger.fills > 0 and ledger.staked > 0
    return {"app_payloads": len(ledger.app), "staked": ledger.staked}


def tap_raw(session: smarkets.Session) -> dict[int, bytes]:
    """Record the application payloads as they come off the socket, before the session core.

    The record is independent of the rules under test: each frame is parsed here, and the
    first copy of each seq kept (a replay from seq 1 carries every one).
    """
    raw: dict[int, bytes] = {}
    sock = session.socket
    original = sock.recv_data
    frames_of = FrameDecoder(1 << 20).feed  # the record is the test's own, not the client's

    def recv_data() -> bytes:
        data = original()
        for frame in frames_of(data):
            payload = seto_pb2.Payload.FromString(frame)
            if not is_session_level(payload):
                raw.setdefault(payload.eto_payload.seq, digest(payload))
        return data

    sock.recv_data = recv_data  # type: ignore[method-assign]
    return raw


def verify_against_full_replay(client: smarkets.Smarkets, ledger: Ledger) -> None:
    """Ask the server for the whole session again, from seq 1, and compare what it sends."""
    session = client.session
    pongs: list[int] = []
    client.del_global_handler(ledger.on_payload)
    client.add_handler("eto.pong", pongs.append)
    session.disconnect()
    session.resume_from(1)
    raw = tap_raw(session)
    client.login()
    client.ping()
    client.flush()
    limit = time.monotonic() + 60
    while not pongs:
        assert time.monotonic() < limit, "the full replay did not come"
        read_some(client, 1000)
    assert len(ledger.app) >= 1
    assert raw.keys() == ledger.app.keys()  # every one delivered, none invented
    assert raw == ledger.app  # byte for byte
    assert len(ledger.dispatched) == len(set(ledger.dispatched))  # nothing dispatched twice


def test_twenty_forced_disconnects_lose_nothing_and_double_nothing(sandbox, record_property):
    figures = run_faults(sandbox, DEFAULT, seed=20240611)
    assert figures["app_payloads"] >= DEFAULT.min_payloads
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nfault run: {figures}")


@pytest.mark.skipif(
    "'soak' not in (config.getoption('markexpr') or '')", reason="a soak variant: make soak"
)
@pytest.mark.soak
def test_soak_two_hundred_disconnects(sandbox, record_property):
    figures = run_faults(sandbox, SOAK, seed=7)
    assert figures["app_payloads"] >= SOAK.min_payloads
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nsoak fault run: {figures}")


# -- the proxy itself ----------------------------------------------------------------------------

FRAMES = [b"a" * 10, b"b" * 200, b"c" * 3, b"d" * 300, b"e" * 50, b""]


def _stream() -> bytes:
    from smarkets.protocol.framing import encode_frame

    return b"".join(encode_frame(p) for p in FRAMES)


def _offsets() -> list[int]:
    """Where each frame of :data:`FRAMES` starts in the stream (and where it ends)."""
    from smarkets.protocol.framing import encode_frame

    offsets = [0]
    for payload in FRAMES:
        offsets.append(offsets[-1] + len(encode_frame(payload)))
    return offsets


def test_the_frame_scanner_finds_every_boundary_however_the_bytes_are_split() -> None:
    from faultproxy import FrameScanner

    stream = _stream()
    for step in (1, 2, 3, 7, len(stream)):
        starts: list[int] = []
        scanner = FrameScanner(
            on_start=lambda index, offset, first, starts=starts: starts.append(offset)
        )
        for i in range(0, len(stream), step):
            scanner.feed(stream[i : i + step])
        assert starts == _offsets()[:-1] and scanner.frames == len(FRAMES)


@pytest.mark.parametrize(
    "cut, expected",
    [
        (Cut(S2C, 0, "between"), 0),
        (Cut(S2C, 2, "between"), _offsets()[2]),
        (Cut(S2C, 1, "payload"), _offsets()[1] + 2 + 100),  # half of the 200-byte payload
        (Cut(S2C, 2, "header"), _offsets()[3] + 1),  # frame 2's header is 1 byte: frame 3
        (Cut(C2S, 3, "between", "close"), _offsets()[3]),
        (Cut(C2S, 0, "payload", "close"), 1 + 5),  # header, then half of 10 bytes
    ],
)
def test_the_proxy_cuts_exactly_where_it_is_told(cut: Cut, expected: int) -> None:
    import socket

    stream = _stream()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    got: dict[str, bytes] = {}

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            if cut.direction == S2C:
                try:
                    conn.sendall(stream)
                except OSError:
                    pass
            got["server"] = _read_all(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with FaultProxy(server.getsockname()) as proxy:
        proxy.add_faults([cut])
        got["client"] = b""
        try:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as client:
                if cut.direction == C2S:
                    try:
                        client.sendall(stream)
                    except OSError:
                        pass
                got["client"] = _read_all(client)
        except ConnectionResetError:
            pass  # reset before a byte went through: even connect() may see it
        thread.join(10)
        (record,) = proxy.cuts
    server.close()
    received = got["client"] if cut.direction == S2C else got["server"]
    assert received == stream[:expected]
    assert record.offset == expected
    assert record.where == cut.where


def _read_all(sock) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk


def test_a_stalled_proxy_holds_bytes_and_closes_until_resumed() -> None:
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    with FaultProxy(server.getsockname()) as proxy:
        client = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        upstream, _ = server.accept()
        upstream.settimeout(0.3)
        proxy.stall()
        client.sendall(b"held")
        client.close()  # not passed on either
        with pytest.raises(TimeoutError):
            upstream.recv(10)
        assert proxy.open_connections() == 1
        proxy.resume()
        upstream.settimeout(10)
        assert _read_all(upstream) == b"held"
        upstream.close()
    server.close()
