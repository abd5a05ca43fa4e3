"""Part 4 -- sandbox throughput: orders/s through one session, and quote fan-out.

Orders/s -- what is measured: one real :class:`smarkets.Smarkets` session against the
sandbox (``SandboxProcess(tls=False, bots=0)``, ``--throttle 0`` so that the measurement is
of the server, not of its request budget) places IMMEDIATE_OR_CANCEL orders on an empty
book in flushes of 200 (``client.order`` x200, then ``client.flush()``), keeping at most two
flushes unanswered, and reads the replies: each order is acknowledged (order_accepted,
counted) and its remainder cancelled (order_cancelled). Timed from the first flush to the
last acknowledgement and cancellation. IOC orders keep the book and the account unchanged,
so every order does the same work. Baseline: the exchange's own ``Exchange.place_order``
rate in this process, for the same orders already parsed, with no session, routing,
framing, sockets or client: the ratio is what the server and the client around the
matching engine cost.

Fan-out -- what is measured: 50 subscriber sessions (raw sockets, each driven by a
:class:`~smarkets.protocol.connection.Connection` directly, all in this process, served by
one ``select`` loop) subscribe to market
``1c024``; one trader session places 1,000 good-til-cancelled orders at distinct prices,
200 per write, each of which changes the book, so each sends one contract_quotes to every
subscriber. Measured: contract_quotes delivered per second, summed over the 50
subscribers, from the trader's first write to the last delivery. Baseline: the same fan-out
done in-process with no I/O -- ``Exchange.place_order`` for the same orders, then for each
update, serialised once (``serialize_once``) and, for each of 50 logged-in server
connections, ``send_serialized`` (number, keep for replay) and framing of what they have to
write (``data_to_send``), once per 200 orders as the server does per read. The ratio shows what
the event loop, the sockets and the 50 readers (which share this machine's cores with the
server) cost on top of the server's own per-subscriber work.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable
from typing import Any

from smarkets.proto import seto_pb2
from smarkets.protocol import (
    Connection,
    LoggedIn,
    Received,
    ReplayStore,
    Role,
    SessionEnded,
    SessionState,
    State,
    serialize_once,
)
from smarkets.sandbox.exchange import Exchange, ToMarket

# isort: split
from common import CpuShare, Row, interleaved_trials, logged_in_pair, median, now_ns, rate

PART = "4 sandbox"
NAMES = [
    "orders/s, one Smarkets session",
    "orders/s, one raw core session",
    "fan-out: quotes/s to 50 sessions",
]
BATCH = 200
WINDOW = 2
ORDERS = 10_000
SUBSCRIBERS = 50
FANOUT_ORDERS = 1_000
TRIALS = 5
BALANCE = 10**12
TIMEOUT = 60.0

ACCOUNTS: dict[str, dict[str, Any]] = {
    name: {"password": f"{name}-pw", "balance": BALANCE}
    for name in ["flow", "raw", "watcher", *(f"trader{i}" for i in range(TRIALS + 1))]
}
MARKET_ID = 0x1  # '1c024', in the default catalogue
CONTRACT_ID = 0x1  # '1cccc'
_CONTRACT_QUOTES = seto_pb2.PAYLOAD_CONTRACT_QUOTES
_MARKET_QUOTES = seto_pb2.PAYLOAD_MARKET_QUOTES
_ORDER_ACCEPTED = seto_pb2.PAYLOAD_ORDER_ACCEPTED
_ORDER_CANCELLED = seto_pb2.PAYLOAD_ORDER_CANCELLED


def order_create(price: int, ioc: bool) -> seto_pb2.OrderCreate:
    create = seto_pb2.OrderCreate(
        type=seto_pb2.ORDER_CREATE_LIMIT,
        quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY,
        quantity=1_000 if not ioc else 10_000,
        price_type=seto_pb2.PRICE_PERCENT_ODDS,
        price=price,
        side=seto_pb2.SIDE_BUY,
        tif=(seto_pb2.IMMEDIATE_OR_CANCEL if ioc else seto_pb2.GOOD_TIL_CANCELLED),
    )
    create.market.low = MARKET_ID
    create.contract.low = CONTRACT_ID
    return create


def _exchange() -> tuple[Exchange, int]:
    exchange = Exchange()
    account = exchange.add_account("bench", BALANCE)
    exchange.add_market(MARKET_ID, "Match Odds", 0x1, "Arsenal v Chelsea", [(CONTRACT_ID, "A")])
    return exchange, account


# -- orders/s --------------------------------------------------------------------------------


def in_process_orders(count: int) -> float:
    """Baseline: Exchange.place_order for ``count`` IOC orders, in this process; orders/s."""
    exchange, account = _exchange()
    creates = [order_create(1_000, ioc=True) for _ in range(count)]
    place = exchange.place_order
    start = now_ns()
    for seq, create in enumerate(creates, 2):
        place(account, create, seq)
    return rate(count, start, now_ns())


def sandbox_orders(client: Any, replies: dict[str, Any], count: int) -> float:
    """``count`` IOC orders through the sandbox in flushes of BATCH; orders/s.

    ``replies`` is what the client's handlers count: ``accepted``, ``cancelled`` and the
    ``problems`` (rejections, invalid orders).
    """
    from smarkets.orders import Order

    replies.update(accepted=0, cancelled=0)
    orders = [
        Order(
            quantity=10_000,
            price=1_000,
            side=Order.BUY,
            market="1c024",
            contract="1cccc",
            time_in_force=Order.IMMEDIATE_OR_CANCEL,
        )
        for _ in range(count)
    ]
    sent = 0
    start = now_ns()
    while replies["accepted"] < count or replies["cancelled"] < count:
        while sent < count and sent - replies["accepted"] < WINDOW * BATCH:
            for order in orders[sent : sent + BATCH]:
                client.order(order)
            client.flush()
            sent += BATCH
        client.read()
        if replies["problems"]:
            raise RuntimeError(f"the sandbox refused an order: {replies['problems'][0]}")
    return rate(count, start, now_ns())


def counting_replies(client: Any) -> dict[str, Any]:
    """Register handlers on ``client`` that count order replies; return the counts."""
    replies: dict[str, Any] = {"accepted": 0, "cancelled": 0, "problems": []}

    def bump(key: str) -> Callable[[Any], None]:
        def handler(message: Any) -> None:
            replies[key] += 1

        return handler

    client.add_handler("seto.order_accepted", bump("accepted"))
    client.add_handler("seto.order_cancelled", bump("cancelled"))
    client.add_handler("seto.order_rejected", replies["problems"].append)
    client.add_handler("seto.order_invalid", replies["problems"].append)
    return replies


# -- fan-out -----------------------------------------------------------------------------------


class RawSession:
    """A session on a raw socket, driven by a protocol Connection directly."""

    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = Connection(Role.CLIENT, SessionState(), now=time.monotonic())
        self.counts: dict[int, int] = {}
        credentials = seto_pb2.Login(username=username, password=password, extensions=1)
        self.conn.login(credentials, time.monotonic())
        self.flush()

    @property
    def logged_in(self) -> bool:
        return self.conn.state is State.LOGGED_IN

    def count(self, ptype: int) -> int:
        return self.counts.get(ptype, 0)

    def send(self, payload: seto_pb2.Payload) -> None:
        self.conn.send(payload, time.monotonic())

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def readable(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("the sandbox closed a connection")
        counts = self.counts
        for event in self.conn.receive_data(data, time.monotonic()):
            if type(event) is Received:
                ptype = event.payload.type
                counts[ptype] = counts.get(ptype, 0) + 1
            elif type(event) is SessionEnded:
                raise ConnectionError(f"the sandbox ended a session: {event}")
            elif type(event) is LoggedIn:
                pass
        self.flush()

    def close(self) -> None:
        self.sock.close()


def raw_orders(session: RawSession, count: int) -> float:
    """``count`` IOC orders from a raw session, BATCH per write; orders/s."""
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    payload.order_create.CopyFrom(order_create(1_000, ioc=True))
    accepted0 = session.count(_ORDER_ACCEPTED)
    cancelled0 = session.count(_ORDER_CANCELLED)
    sent = 0
    start = now_ns()
    while (
        session.count(_ORDER_ACCEPTED) - accepted0 < count
        or session.count(_ORDER_CANCELLED) - cancelled0 < count
    ):
        while sent < count and sent - (session.count(_ORDER_ACCEPTED) - accepted0) < WINDOW * BATCH:
            for _ in range(BATCH):
                session.send(payload)
            session.flush()
            sent += BATCH
        session.readable()
    return rate(count, start, now_ns())


def _pump(sessions: list[RawSession], done: Callable[[], bool]) -> None:
    """Read from every session until ``done()``."""
    selector = selectors.DefaultSelector()
    for session in sessions:
        selector.register(session.sock, selectors.EVENT_READ, session)
    deadline = time.monotonic() + TIMEOUT
    try:
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the sandbox stopped sending")
            for key, _ in selector.select(1.0):
                key.data.readable()
    finally:
        selector.close()


def _subscribe_payload() -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
    payload.market_subscribe.market.low = MARKET_ID
    return payload


def sandbox_fanout(host: str, port: int, subscribers: list[RawSession], trader_name: str) -> float:
    """One fan-out trial: contract_quotes/s delivered, summed over the subscribers."""
    trader = RawSession(host, port, trader_name, ACCOUNTS[trader_name]["password"])
    try:
        _pump([trader], lambda: trader.logged_in)
        before = sum(s.count(_CONTRACT_QUOTES) for s in subscribers)
        want = before + FANOUT_ORDERS * len(subscribers)
        payloads = []
        for i in range(FANOUT_ORDERS):
            payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
            payload.order_create.CopyFrom(order_create(100 + i, ioc=False))
            payloads.append(payload)
        everyone = [*subscribers, trader]
        start = now_ns()
        for i in range(0, FANOUT_ORDERS, BATCH):
            for payload in payloads[i : i + BATCH]:
                trader.send(payload)
            trader.flush()
        _pump(
            everyone,
            lambda: (
                sum(s.count(_CONTRACT_QUOTES) for s in subscribers) >= want
                and trader.count(_ORDER_ACCEPTED) >= FANOUT_ORDERS
            ),
        )
        end = now_ns()
    finally:
        trader.close()
    return rate(FANOUT_ORDERS * len(subscribers), start, end)


def in_process_fanout(subscribers: int) -> float:
    """Baseline: the server's per-subscriber work for the same updates, without I/O."""
    exchange, account = _exchange()
    servers = []
    for i in range(subscribers):
        state = SessionState(session_id=f"{i}9999", sent=ReplayStore(limit=100_000))
        servers.append(logged_in_pair(server_state=state)[1])
    creates = [order_create(100 + i, ioc=False) for i in range(FANOUT_ORDERS)]
    delivered = 0
    start = now_ns()
    for first in range(0, FANOUT_ORDERS, BATCH):
        for seq, create in enumerate(creates[first : first + BATCH], first + 2):
            for recipient, payload in exchange.place_order(account, create, seq):
                if type(recipient) is ToMarket:
                    body = serialize_once(payload)  # as the server's Router.route does
                    for server in servers:
                        server.send_serialized(body, 0.0)
                    delivered += len(servers)
        for server in servers:
            server.data_to_send()
    return rate(delivered, start, now_ns())


# -- the whole part ------------------------------------------------------------------------------


def run(quick: bool = False) -> list[Row]:
    from smarkets.client import Smarkets
    from smarkets.sandbox.process import SandboxProcess
    from smarkets.session import Session
    from smarkets.settings import SessionSettings

    trials = 2 if quick else TRIALS
    count = ORDERS // 4 if quick else ORDERS
    rows: list[Row] = []
    with SandboxProcess(
        tls=False, bots=0, accounts=ACCOUNTS, extra_args=["--throttle", "0"]
    ) as sandbox:
        session = Session(SessionSettings(**sandbox.login_kwargs("flow")))
        client = Smarkets(session)
        replies = counting_replies(client)
        client.login()
        sandbox_orders(client, replies, BATCH * WINDOW)  # warm-up
        assert sandbox.process is not None
        cpu = CpuShare(sandbox.process.pid)

        def timed_orders() -> float:
            with cpu:
                return sandbox_orders(client, replies, count)

        results = interleaved_trials(
            {"exchange": lambda: in_process_orders(count), "sandbox": timed_orders},
            trials,
        )
        client.logout()
        rows.append(
            Row(
                PART,
                NAMES[0],
                median(results["sandbox"]),
                "orders/s",
                "Exchange.place_order in-process",
                median(results["exchange"]),
                note=f"IOC, {BATCH}/flush, {count} orders/trial; {cpu.describe('client')}",
                extra={"trials": results["sandbox"], "baseline_trials": results["exchange"]},
            )
        )

        host, port = sandbox.host, sandbox.port
        raw = RawSession(host, port, "raw", ACCOUNTS["raw"]["password"])
        try:
            _pump([raw], lambda: raw.logged_in)
            raw_orders(raw, BATCH * WINDOW)  # warm-up
            cpu = CpuShare(sandbox.process.pid)

            def timed_raw() -> float:
                with cpu:
                    return raw_orders(raw, count)

            results = interleaved_trials(
                {"exchange": lambda: in_process_orders(count), "sandbox": timed_raw}, trials
            )
        finally:
            raw.close()
        rows.append(
            Row(
                PART,
                NAMES[1],
                median(results["sandbox"]),
                "orders/s",
                "Exchange.place_order in-process",
                median(results["exchange"]),
                note=f"IOC, {BATCH}/write; {cpu.describe('client')}",
                extra={"trials": results["sandbox"], "baseline_trials": results["exchange"]},
            )
        )

        password = ACCOUNTS["watcher"]["password"]
        subscribers = [RawSession(host, port, "watcher", password) for _ in range(SUBSCRIBERS)]
        try:
            _pump(subscribers, lambda: all(s.logged_in for s in subscribers))
            for sub in subscribers:
                sub.send(_subscribe_payload())
                sub.flush()
            _pump(subscribers, lambda: all(s.count(_MARKET_QUOTES) for s in subscribers))
            names = iter(f"trader{i}" for i in range(TRIALS + 1))
            cpu = CpuShare(sandbox.process.pid)

            def timed_fanout() -> float:
                with cpu:
                    return sandbox_fanout(host, port, subscribers, next(names))

            results = interleaved_trials(
                {"in-process": lambda: in_process_fanout(SUBSCRIBERS), "sandbox": timed_fanout},
                trials,
            )
        finally:
            for sub in subscribers:
                sub.close()
        rows.append(
            Row(
                PART,
                NAMES[2],
                median(results["sandbox"]),
                "payloads/s",
                "same fan-out in-process, no I/O",
                median(results["in-process"]),
                note=f"{FANOUT_ORDERS} updates x {SUBSCRIBERS}/trial; {cpu.describe('readers')}",
                extra={"trials": results["sandbox"], "baseline_trials": results["in-process"]},
            )
        )
    return rows
