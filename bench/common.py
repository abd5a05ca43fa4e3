"""Shared helpers for the benchmarks: results, timing, RSS, realistic payloads, subprocesses.

Nothing here measures anything by itself. The payload builders produce the messages the
sandbox exchange really sends (same fields, same sizes), numbered by a real server-side
:class:`~smarkets.protocol.connection.Connection` logged in to a client one (through
:class:`~smarkets.protocol.testing.ConnectedPair`), so every benchmark parses what a client
would parse in production rather than synthetic bytes.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import Connection, ReplayStore, SessionState
from smarkets.protocol.framing import encode_frames
from smarkets.protocol.testing import ConnectedPair

BENCH_DIR = Path(__file__).resolve().parent
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20

Payload = seto_pb2.Payload


# -- results ---------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table: a figure, its baseline, their ratio and the target.

    ``ratio`` is ``value / baseline`` (for rates, higher is better; for latencies and
    memory, lower is better, as ``target`` says). ``met`` is ``None`` when the row has no
    target. ``skipped`` holds the reason when the measurement could not be made.
    """

    part: str
    name: str
    value: float | None = None
    unit: str = ""
    baseline_name: str = ""
    baseline: float | None = None
    target: str = "-"
    met: bool | None = None
    note: str = ""
    skipped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def skipped_rows(part: str, names: list[str], reason: str) -> list[Row]:
    """Rows standing for measurements that could not be made, with the reason."""
    return [Row(part, name, skipped=reason) for name in names]


# -- timing ----------------------------------------------------------------------------------


def interleaved_trials(
    subjects: dict[str, Callable[[], float]], trials: int
) -> dict[str, list[float]]:
    """Run each subject ``trials`` times, interleaved (A B A B ...); collect the results.

    Each subject returns its own figure (a rate) for one short trial. Interleaving spreads
    any drift of the machine (frequency scaling, a noisy neighbour) evenly over the
    subject and its baseline, so their ratio stays honest.
    """
    results: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(trials):
        for name, fn in subjects.items():
            gc.collect()
            results[name].append(fn())
    return results


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of already sorted values (nearest rank)."""
    if not sorted_values:
        raise ValueError("no values")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def rate(count: int, start_ns: int, end_ns: int) -> float:
    """Items per second."""
    return count * 1e9 / max(end_ns - start_ns, 1)


now_ns = time.perf_counter_ns


# -- memory ----------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid``, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuShare:
    """How busy the server process and this one were during timed sections.

    Tells which side was the bottleneck: a side near 100 % of one core was saturated.
    """

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.wall = 0.0
        self.server = 0.0
        self.me = 0.0
        self._start: tuple[float, float, float] | None = None

    def __enter__(self) -> CpuShare:
        self._start = (
            time.perf_counter(),
            process_cpu_seconds(self.server_pid),
            time.process_time(),
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._start is not None
        wall, server, me = self._start
        self.wall += time.perf_counter() - wall
        self.server += process_cpu_seconds(self.server_pid) - server
        self.me += time.process_time() - me

    def describe(self, me: str) -> str:
        if not self.wall:
            return ""
        return (
            f"CPU busy: sandbox {100 * self.server / self.wall:.0f}%,"
            f" {me} {100 * self.me / self.wall:.0f}%"
        )


# -- realistic payloads --------------------------------------------------------------------------

MARKET = 0x1  # '1c024'
CONTRACT = 0x1  # '1cccc'
TIMESTAMP = 1_767_225_600_000_000  # microseconds since the epoch, like the exchange sends


def _uuid(msg: seto_pb2.Uuid128, value: int) -> None:
    msg.low = value & ((1 << 64) - 1)
    if value >> 64:
        msg.high = value >> 64


def contract_quotes(levels: int = 3, executions: int = 1, i: int = 0) -> Payload:
    """A book update as the exchange sends it: ``levels`` changed bids and offers, trades."""
    payload = Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    msg = payload.contract_quotes
    _uuid(msg.contract, CONTRACT)
    _uuid(msg.market, MARKET)
    for level in range(levels):
        bid = msg.bids.add()
        bid.price = 4500 - 25 * level - i % 7
        bid.quantity = 400_000 + 12_500 * level
        offer = msg.offers.add()
        offer.price = 4600 + 25 * level + i % 5
        offer.quantity = 250_000 + 10_000 * level
    for trade in range(executions):
        execution = msg.executions.add()
        execution.price = 4550
        execution.quantity = 20_000 + trade
        execution.liquidity = seto_pb2.SIDE_BUY
        execution.microseconds = TIMESTAMP + i
    msg.volume = 123_456_789 + i
    return payload


def order_executed(i: int = 0) -> Payload:
    """A fill of one of our orders, as the exchange sends it."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_EXECUTED)
    msg = payload.order_executed
    _uuid(msg.order, 98_765 + i % 100)
    msg.price = 4550
    msg.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    msg.quantity = 20_000
    msg.account_sequence = 1 + i
    # Extension fields, as an extension session gets them.
    msg.side = seto_pb2.SIDE_BUY
    _uuid(msg.market, MARKET)
    _uuid(msg.contract, CONTRACT)
    msg.remaining = 380_000
    return payload


def order_accepted(i: int = 0) -> Payload:
    """The answer to an order_create."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    msg = payload.order_accepted
    msg.seq = 4_321 + i
    _uuid(msg.order, 98_765 + i)
    return payload


def order_cancelled(i: int = 0) -> Payload:
    """An order closed (here: the unmatched rest of an IMMEDIATE_OR_CANCEL order)."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCELLED)
    msg = payload.order_cancelled
    _uuid(msg.order, 98_765 + i)
    msg.reason = seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY
    return payload


def market_snapshot(levels: int = 5) -> Payload:
    """The market_quotes a subscription starts with: the market of :func:`contract_quotes`."""
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_QUOTES)
    msg = payload.market_quotes
    _uuid(msg.market, MARKET)
    msg.price_type = seto_pb2.PRICE_PERCENT_ODDS
    msg.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    msg.state = seto_pb2.MARKET_STATUS_OPEN
    msg.seq = 3
    book = msg.contract_quotes.add()
    _uuid(book.contract, CONTRACT)
    _uuid(book.market, MARKET)
    for level in range(levels):
        bid = book.bids.add()
        bid.price = 4500 - 25 * level
        bid.quantity = 400_000
        offer = book.offers.add()
        offer.price = 4600 + 25 * level
        offer.quantity = 250_000
    book.volume = 123_456_789
    return payload


def small_mix(i: int) -> Payload:
    """Small exchange payloads (about 30 bytes on average) for the framing benchmark."""
    kind = i % 4
    if kind == 0:
        return order_accepted(i)
    if kind == 1:
        return order_executed(i)
    if kind == 2:
        return order_cancelled(i)
    return contract_quotes(levels=1, executions=0, i=i)


def receive_mix(i: int) -> Payload:
    """The receive benchmark's mix: 4 book updates (3 levels, a trade) per fill."""
    return order_executed(i) if i % 5 == 4 else contract_quotes(i=i)


def logged_in_pair(
    now: float = 0.0, server_state: SessionState | None = None
) -> tuple[Connection, Connection]:
    """A client and a server connection that went through a real login with each other.

    The server serves ``server_state`` (by default a session keeping 16 payloads for replay).
    """
    if server_state is None:
        server_state = SessionState(session_id="1b2c9999", sent=ReplayStore(limit=16))
    pair = ConnectedPair(now=now)
    pair.log_in(server_state, seto_pb2.Login(username="bench", password="bench"))  # noqa: S106
    return pair.client, pair.server


def numbered(server: Connection, messages: Iterator[Payload], now: float = 0.0) -> list[bytes]:
    """Have the server number and serialise each message; return the payload bytes."""
    out: list[bytes] = []
    for message in messages:
        server.send(message, now)
        out.extend(server.payloads_to_send())
    return out


def templates(builder: Callable[[int], Payload], count: int) -> list[Payload]:
    """``count`` distinct messages from ``builder`` (reused cyclically by generators)."""
    return [builder(i) for i in range(count)]


def frame_stream(payloads: list[bytes]) -> bytes:
    """The bytes on the wire for these payloads."""
    return encode_frames(payloads)


def chunked(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into reads of ``size`` bytes, as a socket would hand them over."""
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- subprocesses ------------------------------------------------------------------------------


def start_helper(script: str, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``bench/<script>`` with this Python; wait for the port it prints first."""
    proc = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode("ascii", "replace").strip()
    if not line.startswith("port "):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{script} did not start (said {line!r})")
    return proc, int(line.split()[1])


def stop_helper(proc: subprocess.Popen[bytes]) -> None:
    """Close the helper's stdin (it exits when it sees that) and reap it."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


def eto_type_name(value: int) -> str:
    return eto_pb2.PayloadType.Name(value)
