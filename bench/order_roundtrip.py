"""Part 3 -- order round trip: latency from ``flush()`` of an order to its order_accepted handler.

What is measured: the real :class:`smarkets.Smarkets` client, logged in to the sandbox
exchange (``SandboxProcess(tls=False, bots=0)``, so a separate Python process, over
loopback), queues one order (``client.order``, not timed: that is validation), then the
clock starts, ``client.flush()`` writes it, and ``client.read()`` runs until the handler
registered for ``seto.order_accepted`` is called; the clock stops inside the handler. The
orders are IMMEDIATE_OR_CANCEL on an empty book, so each is accepted, then its remainder
cancelled (read, untimed, before the next order), and the book and the account stay the
same from one order to the next. The sandbox runs with ``--throttle 0``: at one order per
round trip the client would otherwise run into the default 1,000 requests/s budget and
measure the throttle's pauses instead. The same is measured over TLS when the sandbox
starts with it.

Baseline: the round trip of a message of the same size (the framed order_create) between
two Python processes over loopback TCP with ``TCP_NODELAY`` (``echo_server.py``): what two
Python processes pay to talk at all, before any protocol, parsing or matching. Echo and
order round trips are taken in alternating blocks of 250, so that both see the same state
of the machine; the p50 *excess* over the echo (in the note) is the steadier figure.

Placement matters as much as the code here: a round trip between processes on two cores
pays two cross-core wake-ups (about 20 µs each on this VM), one between processes sharing a
core pays none (the echo's p50 drops from ~55 to ~15 µs). Left to the scheduler, the echo
server and the sandbox can land differently and make the ratio a lottery, so with two or
more CPUs this process is pinned to one core and both peers to another ("peer on another
core", how a client and an exchange run), then all three to the same core ("peer on the
same core"); each placement has its own interleaved echo baseline. TLS is measured on
another core only.

Target: p50 at most 3x the echo's p50, in each placement. p99 is reported against the
echo's p99.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from smarkets.proto import seto_pb2
from smarkets.protocol.framing import encode_frame

# isort: split
from common import Row, now_ns, percentile, start_helper, stop_helper

PART = "3 round trip"
SAMPLES = 5000
WARMUP = 300
TARGET = 3.0
BLOCK = 250
NAMES = [
    f"order {q}, {how}"
    for how in ("plain TCP, peer on another core", "plain TCP, peer on the same core", "TLS")
    for q in ("p50", "p99")
]


def _order_create_frame() -> bytes:
    """The bytes of an order as the client sends it (seq filled in)."""
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    payload.eto_payload.seq = 1234
    payload.eto_payload.type = 1
    create = payload.order_create
    create.type = seto_pb2.ORDER_CREATE_LIMIT
    create.market.low = 1
    create.contract.low = 1
    create.side = seto_pb2.SIDE_BUY
    create.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    create.quantity = 10_000
    create.price_type = seto_pb2.PRICE_PERCENT_ODDS
    create.price = 1_000
    create.tif = seto_pb2.IMMEDIATE_OR_CANCEL
    return encode_frame(payload.SerializeToString())


class EchoPeer:
    """A connection to ``echo_server.py``; :meth:`measure` times order-sized round trips."""

    def __init__(self) -> None:
        self.message = _order_create_frame()
        self.proc, port = start_helper("echo_server.py")
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def measure(self, samples: int) -> list[float]:
        """``samples`` round trips, in µs."""
        sock, message = self.sock, self.message
        out: list[float] = []
        for _ in range(samples):
            start = now_ns()
            sock.sendall(message)
            got = 0
            while got < len(message):
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("the echo server closed the connection")
                got += len(data)
            out.append((now_ns() - start) / 1000)
        return out

    def close(self) -> None:
        self.sock.close()
        stop_helper(self.proc)


class OrderPeer:
    """A Smarkets client logged in to a sandbox; :meth:`measure` times order round trips.

    Starts its own ``SandboxProcess(tls=tls, bots=0)``, unless given the ``settings`` of a
    sandbox started elsewhere (the profiler runs one under cProfile).
    """

    def __init__(self, tls: bool = False, settings: Any = None) -> None:
        from smarkets.client import Smarkets
        from smarkets.sandbox.process import SandboxProcess
        from smarkets.session import Session
        from smarkets.settings import SessionSettings

        self.sandbox = None
        if settings is None:
            self.sandbox = SandboxProcess(tls=tls, bots=0, extra_args=["--throttle", "0"])
            self.sandbox.start()
            settings = SessionSettings(**self.sandbox.login_kwargs("alice"))
        try:
            self.client = Smarkets(Session(settings))
            self.accepted: list[int] = []
            self.problems: list[str] = []
            self.client.add_handler("seto.order_accepted", self._on_accepted)
            self.client.add_handler("seto.order_rejected", self._on_refused)
            self.client.add_handler("seto.order_invalid", self._on_refused)
            self.client.login()
        except BaseException:
            if self.sandbox is not None:
                self.sandbox.stop()
            raise

    def _on_accepted(self, message: Any) -> None:
        self.accepted.append(now_ns())

    def _on_refused(self, message: Any) -> None:
        self.problems.append(str(message))

    def measure(self, samples: int) -> list[float]:
        """``samples`` round trips from flush() to the order_accepted handler, in µs."""
        from smarkets.orders import Order

        client, accepted, problems = self.client, self.accepted, self.problems
        out: list[float] = []
        for _ in range(samples):
            order = Order(
                quantity=10_000,
                price=1_000,
                side=Order.BUY,
                market="1c024",
                contract="1cccc",
                time_in_force=Order.IMMEDIATE_OR_CANCEL,
            )
            client.order(order)
            accepted.clear()
            start = now_ns()
            client.flush()
            while not accepted and not problems:
                client.read()
            if problems:
                raise RuntimeError(f"the sandbox refused an order: {problems[0]}")
            out.append((accepted[0] - start) / 1000)
            while order.state != "cancelled":
                client.read()
        return out

    def close(self) -> None:
        try:
            self.client.logout()
        finally:
            if self.sandbox is not None:
                self.sandbox.stop()


def interleaved_latencies(
    echo: EchoPeer, orders: OrderPeer, samples: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Sorted (echo, order) round trips, taken in alternating blocks after a warm-up."""
    echo.measure(warmup)
    orders.measure(warmup)
    echo_out: list[float] = []
    order_out: list[float] = []
    for _ in range(samples // BLOCK):
        echo_out += echo.measure(BLOCK)
        order_out += orders.measure(BLOCK)
    return sorted(echo_out), sorted(order_out)


def _pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of process ``pid`` (0: this one) to ``cpus``."""
    tasks = Path(f"/proc/{pid or os.getpid()}/task")
    for task in tasks.iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except (ProcessLookupError, FileNotFoundError):
            pass  # a thread that just ended


def placements() -> list[tuple[str, set[int] | None, set[int] | None]]:
    """(label, CPUs for this process, CPUs for the peer) for each placement measured."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = []
    if len(allowed) < 2:
        return [("unpinned", None, None)]
    mine, other = {allowed[0]}, {allowed[1]}
    return [("peer on another core", mine, other), ("peer on the same core", mine, mine)]


def _rows(label: str, echo_lat: list[float], lat: list[float], with_target: bool) -> list[Row]:
    p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
    echo_p50, echo_p99 = percentile(echo_lat, 0.5), percentile(echo_lat, 0.99)
    note = f"{len(lat)} orders, echo interleaved; p50 excess over echo {p50 - echo_p50:.0f} µs"
    return [
        Row(
            PART,
            f"order p50, {label}",
            p50,
            "µs",
            "echo p50, same placement",
            echo_p50,
            target=f"<= {TARGET:g}x" if with_target else "-",
            met=p50 <= TARGET * echo_p50 if with_target else None,
            note=note,
            extra={"p90": percentile(lat, 0.9), "min": lat[0], "max": lat[-1]},
        ),
        Row(PART, f"order p99, {label}", p99, "µs", "echo p99, same placement", echo_p99),
    ]


def run(quick: bool = False) -> list[Row]:
    samples = SAMPLES // 4 if quick else SAMPLES
    warmup = WARMUP // 4 if quick else WARMUP
    rows: list[Row] = []
    original = os.sched_getaffinity(0)
    plan = placements()
    echo = EchoPeer()
    try:
        orders = OrderPeer(tls=False)
        try:
            for where, mine, theirs in plan:
                if mine is not None and theirs is not None:
                    assert orders.sandbox is not None and orders.sandbox.process is not None
                    _pin(0, mine)
                    _pin(echo.proc.pid, theirs)
                    _pin(orders.sandbox.process.pid, theirs)
                echo_lat, lat = interleaved_latencies(echo, orders, samples, warmup)
                rows += _rows(f"plain TCP, {where}", echo_lat, lat, with_target=True)
        finally:
            orders.close()
        where, mine, theirs = plan[0]
        try:
            orders = OrderPeer(tls=True)
        except Exception as exc:  # a TLS sandbox that cannot start must not sink the run
            reason = f"{type(exc).__name__}: {exc}"
            return rows + [Row(PART, f"order p{q}, TLS, {where}", skipped=reason) for q in (50, 99)]
        try:
            if mine is not None and theirs is not None:
                assert orders.sandbox is not None and orders.sandbox.process is not None
                _pin(0, mine)
                _pin(echo.proc.pid, theirs)
                _pin(orders.sandbox.process.pid, theirs)
            echo_lat, lat = interleaved_latencies(echo, orders, samples // 2, warmup)
            rows += _rows(f"TLS, {where}", echo_lat, lat, with_target=False)
        finally:
            orders.close()
    finally:
        echo.close()
        _pin(0, original)
    return rows
