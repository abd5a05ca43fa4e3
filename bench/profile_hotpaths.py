"""Profile the hot paths the benchmarks exercise; print where the time goes, per item.

Not part of ``make bench`` (cProfile slows everything down several times, so its figures
are for proportions, not speed). Run ``.venv/bin/python bench/profile_hotpaths.py``.

Sections:

* receive, core level: Connection.receive_data (framing, session rules) -> dispatch (part 2);
* receive, real client: ``Smarkets.read()`` fed by ``feeder.py`` (parts 2 and 5);
* order round trip, client side: ``order`` + ``flush`` + ``read`` (parts 3 and 4);
* the sandbox server itself, run under cProfile in its own process, for IOC orders from one
  session and for a quote fan-out to 10 subscribers (part 4);
* micro-measurements that answer specific questions: the cost of logging calls when DEBUG
  is off, of the required-field check, of the objects made per payload, of building an
  order message (``CopyFrom`` churn), of one subscriber's share of a fan-out (``send``
  against ``send_serialized``), of applying a book update.

Each profile row gives the function's own time per item (payload or order) in ns and how
many times per item it is called, so per-message allocation and churn show as calls/item.
"""

from __future__ import annotations

import cProfile
import logging
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smarkets.book import Books
from smarkets.proto import seto_pb2
from smarkets.protocol import Received, ReplayStore, SessionState, serialize_once
from smarkets.protocol.core import wire_log

# isort: split
import order_roundtrip
import receive_pipeline
import sandbox_throughput
from common import (
    chunked,
    contract_quotes,
    frame_stream,
    logged_in_pair,
    market_snapshot,
    numbered,
    receive_mix,
    start_helper,
    stop_helper,
    templates,
)

TOP = 14


#: Start-up work of a profiled sandbox process (imports, password hashing at login), left
#: out of its per-item figures: it happens once, not per order or payload.
STARTUP = ("scrypt", "compile", "marshal.loads", "create_dynamic", "__build_class__", "exec")


def _is_startup(filename: str, func: str, calls: int, items: int) -> bool:
    if "importlib" in filename or filename.endswith(("_parser.py", "_compiler.py")):
        return True
    return calls < 0.01 * items and any(name in func for name in STARTUP)


def show(stats: pstats.Stats, items: int, what: str, top: int = TOP) -> None:
    """Print the ``top`` functions by own time, per item."""
    entries = {
        key: value
        for key, value in stats.stats.items()  # type: ignore[attr-defined]
        if not _is_startup(key[0], key[2], value[1], items)
    }
    left_out = sum(v[2] for v in stats.stats.values()) - sum(v[2] for v in entries.values())  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in entries.values())
    print(f"  total {total * 1e9 / items:,.0f} ns per {what} under cProfile", end="")
    print(f" (start-up left out: {left_out:.2f}s)" if left_out > 0.01 else "")
    print(f"  {'own ns/' + what:>12} {'cum ns':>8} {'calls/' + what:>12}  function")
    rows = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (filename, line, func), (_, calls, tt, ct, _) in rows:
        where = f"{Path(filename).name}:{line}" if filename != "~" else ""
        print(
            f"  {tt * 1e9 / items:12,.0f} {ct * 1e9 / items:8,.0f} {calls / items:12.2f}"
            f"  {func} {where}"
        )


def profiled(fn: Callable[[], Any]) -> pstats.Stats:
    profile = cProfile.Profile()
    profile.enable()
    fn()
    profile.disable()
    return pstats.Stats(profile)


def section(title: str) -> None:
    print()
    print(f"== {title}")


def per_call_ns(fn: Callable[[], Any], n: int = 200_000) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / n)
    return best


def loop_ns(items: list[Any], fn: Callable[[Any], Any]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter_ns()
        for item in items:
            fn(item)
        best = min(best, (time.perf_counter_ns() - start) / len(items))
    return best


def receive_profiles() -> None:
    count = 100_000
    _, server = logged_in_pair()
    messages = templates(receive_mix, 500)
    payloads = numbered(server, (messages[i % 500] for i in range(count)))
    chunks = chunked(frame_stream(payloads), 64 << 10)
    section("receive, core level (Connection.receive_data + dispatch), per payload")
    show(profiled(lambda: receive_pipeline.core_pipeline(chunks, count)), count, "payload")

    section("receive, real client (Smarkets.read over loopback from feeder.py), per payload")
    feeder, port = start_helper("feeder.py", "--count", str(count))
    try:
        show(
            profiled(lambda: receive_pipeline.client_pipeline(port, count)),
            count,
            "payload",
            top=20,
        )
    finally:
        stop_helper(feeder)


def client_order_profile() -> None:
    from smarkets.client import Smarkets
    from smarkets.sandbox.process import SandboxProcess
    from smarkets.session import Session
    from smarkets.settings import SessionSettings

    count = 10_000
    section("orders through the real client, client side (IOC, 200 per flush), per order")
    with SandboxProcess(
        tls=False, bots=0, accounts=sandbox_throughput.ACCOUNTS, extra_args=["--throttle", "0"]
    ) as sandbox:
        client = Smarkets(Session(SessionSettings(**sandbox.login_kwargs("flow"))))
        replies = sandbox_throughput.counting_replies(client)
        client.login()
        show(
            profiled(lambda: sandbox_throughput.sandbox_orders(client, replies, count)),
            count,
            "order",
            top=24,
        )
        client.logout()


def _start_profiled_sandbox(out: Path, accounts: Path) -> tuple[subprocess.Popen[bytes], int]:
    args = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "smarkets.sandbox"]
    args += ["--port", "0", "--no-tls", "--bots", "0", "--throttle", "0", "--admin-stdin"]
    args += ["--accounts", str(accounts), "--log-level", "warning"]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline().decode("utf-8", "replace")
        if not line:
            raise RuntimeError("the profiled sandbox did not start")
        if "listening on " in line:
            address = line.split("listening on ", 1)[1].split()[0]
            return proc, int(address.rpartition(":")[2])


def _stop_profiled_sandbox(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def _round_trips(port: int, password: str, count: int) -> pstats.Stats:
    """Profile the client side of ``count`` order round trips (as part 3 does them)."""
    from smarkets.settings import SessionSettings

    settings = SessionSettings("flow", password, host="127.0.0.1", port=port, ssl=False)
    peer = order_roundtrip.OrderPeer(settings=settings)
    try:
        peer.measure(200)
        return profiled(lambda: peer.measure(count))
    finally:
        peer.close()


def server_profiles() -> None:
    import json

    st = sandbox_throughput
    with tempfile.TemporaryDirectory(prefix="smarkets-bench-") as tmp:
        accounts = Path(tmp) / "accounts.json"
        accounts.write_text(json.dumps(st.ACCOUNTS), encoding="utf-8")

        count = 10_000
        out = Path(tmp) / "orders.prof"
        proc, port = _start_profiled_sandbox(out, accounts)
        try:
            raw = st.RawSession("127.0.0.1", port, "raw", st.ACCOUNTS["raw"]["password"])
            st._pump([raw], lambda: raw.logged_in)
            st.raw_orders(raw, count)
            raw.close()
        finally:
            _stop_profiled_sandbox(proc)
        section("the sandbox server, IOC orders from one raw session, per order (whole process)")
        show(pstats.Stats(str(out)), count, "order", top=24)

        count = 3_000
        out = Path(tmp) / "roundtrip.prof"
        proc, port = _start_profiled_sandbox(out, accounts)
        try:
            client_stats = _round_trips(port, st.ACCOUNTS["flow"]["password"], count)
        finally:
            _stop_profiled_sandbox(proc)
        section("order round trips one at a time (part 3), client side, per order")
        show(client_stats, count, "order", top=20)
        section("order round trips one at a time (part 3), the sandbox server, per order")
        show(pstats.Stats(str(out)), count, "order", top=20)

        subscribers = 10
        out = Path(tmp) / "fanout.prof"
        proc, port = _start_profiled_sandbox(out, accounts)
        try:
            password = st.ACCOUNTS["watcher"]["password"]
            subs = [
                st.RawSession("127.0.0.1", port, "watcher", password) for _ in range(subscribers)
            ]
            st._pump(subs, lambda: all(s.logged_in for s in subs))
            for sub in subs:
                sub.send(st._subscribe_payload())
                sub.flush()
            st._pump(subs, lambda: all(s.count(st._MARKET_QUOTES) for s in subs))
            st.sandbox_fanout("127.0.0.1", port, subs, "trader0")
            for sub in subs:
                sub.close()
        finally:
            _stop_profiled_sandbox(proc)
        delivered = st.FANOUT_ORDERS * subscribers
        section(
            f"the sandbox server, fan-out of {st.FANOUT_ORDERS} updates to {subscribers}"
            " subscribers, per delivered payload (whole process, logins included)"
        )
        show(pstats.Stats(str(out)), delivered, "payload", top=24)


def micro() -> None:
    from smarkets.orders import Order
    from smarkets.protocol.names import payload_name

    section("micro-measurements (best of 3, ns per call, loop overhead included)")
    _, server = logged_in_pair()
    messages = templates(receive_mix, 500)
    data = numbered(server, (messages[i % 500] for i in range(50_000)))
    parsed = [seto_pb2.Payload.FromString(d) for d in data]
    noop = loop_ns(parsed, lambda p: None)
    print(f"  {noop:6.0f}  empty loop (subtract from the figures below)")
    rows = [
        ("Payload.FromString (result dropped)", lambda d: seto_pb2.Payload.FromString(d), data),
        ("payload.IsInitialized()", lambda p: p.IsInitialized(), parsed),
        (
            "payload.SerializeToString() (its required check)",
            lambda p: p.SerializeToString(),
            parsed,
        ),
        ("payload.eto_payload (wrapper object)", lambda p: p.eto_payload, parsed),
        ("payload.eto_payload.seq", lambda p: p.eto_payload.seq, parsed),
        ("payload.type", lambda p: p.type, parsed),
        ("Received(payload, seq)", lambda p: Received(p, 1), parsed),
        ("payload_name(payload) (client, a dict lookup by type)", payload_name, parsed),
        ("getattr(payload, 'contract_quotes')", lambda p: p.contract_quotes, parsed),
    ]
    for label, fn, items in rows:
        print(f"  {loop_ns(items, fn):6.0f}  {label}")
    is_debug = wire_log.isEnabledFor
    print(f"  {per_call_ns(lambda: is_debug(logging.DEBUG)):6.0f}  wire_log.isEnabledFor(DEBUG)")
    log = logging.getLogger("smarkets.client")
    print(f"  {per_call_ns(lambda: log.debug('x %s', 1)):6.0f}  log.debug('x %s', 1), DEBUG off")
    print(f"  {per_call_ns(lambda: None):6.0f}  (empty lambda call, for reference)")

    def build_order() -> Any:
        return Order(
            quantity=10_000,
            price=1_000,
            side=Order.BUY,
            market="1c024",
            contract="1cccc",
            time_in_force=Order.IMMEDIATE_OR_CANCEL,
        )

    order = build_order()
    print(f"  {per_call_ns(build_order, 20_000):6.0f}  Order(...) with tagged-hex ids")
    print(f"  {per_call_ns(order.validate, 20_000):6.0f}  order.validate()")
    print(f"  {per_call_ns(order.to_message, 20_000):6.0f}  order.to_message() (2 CopyFrom)")

    def wrap() -> None:
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
        order._fill(payload.order_create)

    print(f"  {per_call_ns(wrap, 20_000):6.0f}  Payload + order._fill in place (client.order)")
    quotes = contract_quotes()
    quotes.eto_payload.seq = 1234
    print(f"  {per_call_ns(quotes.SerializeToString, 50_000):6.0f}  contract_quotes serialise")

    # Fan-out, per subscriber: numbering and keeping a contract_quotes for one session.
    state = SessionState(session_id="19999", sent=ReplayStore(limit=1000))
    _, core = logged_in_pair(server_state=state)

    def send_each() -> None:
        core.send(quotes, 0.0)
        core.payloads_to_send()

    body = serialize_once(contract_quotes())

    def send_body() -> None:
        core.send_serialized(body, 0.0)
        core.payloads_to_send()

    print(f"  {per_call_ns(send_each, 50_000):6.0f}  fan-out, per subscriber: core.send")
    print(f"  {per_call_ns(send_body, 50_000):6.0f}  fan-out, per subscriber: send_serialized")

    # The client's order book, per contract_quotes (3 bid and 3 offer levels, a trade).
    books = Books()
    books.apply_market_quotes(market_snapshot().market_quotes)
    updates = [p.contract_quotes for p in parsed if p.type == seto_pb2.PAYLOAD_CONTRACT_QUOTES]
    print(f"  {loop_ns(updates, books.apply_contract_quotes):6.0f}  Books.apply_contract_quotes")


def main() -> None:
    receive_profiles()
    client_order_profile()
    server_profiles()
    micro()


if __name__ == "__main__":
    main()
