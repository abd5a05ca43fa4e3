"""Part 2 -- receive pipeline: payloads/s from bytes received to a handler call.

What is measured: a stream of real exchange payloads -- four contract_quotes (three bid
and three offer levels and a trade, ~98 bytes) per order_executed (~41 bytes), with
consecutive eto seqs, as a real server core numbers them -- going through the client's
receive path, in two variants:

* core: 64 KiB reads given to :meth:`~smarkets.protocol.connection.Connection.receive_data`
  (framing, then parse, required-field check, sequencing), then a dispatch by handler name
  through a dict of handler lists, as :class:`smarkets.Smarkets` does, to a handler that
  counts.
* client: the real :class:`smarkets.Smarkets` (on a real :class:`smarkets.Session` and
  :class:`smarkets.SessionSocket`), logged in to ``feeder.py`` over loopback TCP, reading
  with ``client.read()`` into handlers registered with ``add_handler``. The feeder starts
  with the market's snapshot, as a subscription does, so a client that keeps order books
  applies every update to a real book. The feeder has every frame ready before the
  client connects, so it only ``sendall``\\ s: the client is the bottleneck.

Baseline: bare ``seto_pb2.Payload.FromString`` over the very same payload bytes, the least
any receiver must do. Target: each variant at least 50 % of the bare-parse rate.

It also measures where the time goes per payload (framing, parsing, the required-field
check, sequencing, dispatch, and what the real client adds), for the profile findings: there
each stage is timed on its own, so the frame decoder and the session core's
``receive_payloads`` are called separately, not through a ``Connection``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from smarkets.proto import seto_pb2
from smarkets.protocol import Received
from smarkets.protocol.framing import FrameDecoder

# isort: split
from common import (
    Row,
    chunked,
    frame_stream,
    interleaved_trials,
    logged_in_pair,
    median,
    now_ns,
    numbered,
    rate,
    receive_mix,
    start_helper,
    stop_helper,
    templates,
)

PART = "2 receive"
PAYLOADS = 100_000
CLIENT_PAYLOADS = 100_000
READ_SIZE = 64 << 10
TRIALS = 7
TARGET = 0.5
VARIANTS = {
    "core": "core: Connection.receive_data+dispatch",
    "client": "client: Smarkets.read() over loopback TCP",
}

Payload = seto_pb2.Payload

#: What the last client trial's order books (if the client keeps any) say: how many
#: markets, how many updates ignored (0 means the snapshot took and all applied).
CLIENT_BOOKS: dict[str, Any] = {}

# Handler name and carrying field by seto payload type, the way the client names them.
_NAMES = {
    value: (f"seto.{name.lower().removeprefix('payload_')}", name.lower().removeprefix("payload_"))
    for name, value in seto_pb2.PayloadType.items()
}


def _counting_handlers() -> tuple[dict[str, list[Callable[[Any], None]]], list[int]]:
    counts = [0]

    def handler(message: Any) -> None:
        counts[0] += 1

    return {"seto.contract_quotes": [handler], "seto.order_executed": [handler]}, counts


def core_pipeline(chunks: list[bytes], expected: int) -> float:
    """One trial of the core-level pipeline (a Connection, then dispatch); payloads/s."""
    client, _ = logged_in_pair()
    receive = client.receive_data
    names = _NAMES
    handlers, counts = _counting_handlers()
    clock = time.monotonic
    start = now_ns()
    for chunk in chunks:
        for event in receive(chunk, clock()):
            if isinstance(event, Received):
                payload = event.payload
                name, field = names[payload.type]
                for fn in handlers.get(name, ()):
                    fn(getattr(payload, field))
    end = now_ns()
    if counts[0] != expected:
        raise RuntimeError(f"core pipeline delivered {counts[0]} payloads, not {expected}")
    return rate(expected, start, end)


def bare_parse(payloads: list[bytes]) -> float:
    """One trial of the baseline; payloads/s."""
    from_string = Payload.FromString
    start = now_ns()
    for data in payloads:
        from_string(data)
    end = now_ns()
    return rate(len(payloads), start, end)


def client_pipeline(port: int, expected: int) -> float:
    """One trial of the real client, against the feeder; payloads/s."""
    from smarkets.client import Smarkets
    from smarkets.session import Session
    from smarkets.settings import SessionSettings

    settings = SessionSettings("bench", "bench", host="127.0.0.1", port=port, ssl=False)
    session = Session(settings)
    client = Smarkets(session)
    counts = [0]

    def handler(message: Any) -> None:
        counts[0] += 1

    client.add_handler("seto.contract_quotes", handler)
    client.add_handler("seto.order_executed", handler)
    client.login()
    read = client.read
    start = now_ns()
    while counts[0] < expected:
        read()
    end = now_ns()
    session.disconnect()
    if counts[0] != expected:
        raise RuntimeError(f"client delivered {counts[0]} payloads, not {expected}")
    books = getattr(client, "books", None)
    if books is not None:  # the client keeps order books: were the updates applied?
        CLIENT_BOOKS["ignored"] = getattr(books, "ignored", None)
        CLIENT_BOOKS["markets"] = len(books)
    return rate(expected, start, end)


def breakdown(payloads: list[bytes], chunks: list[bytes]) -> dict[str, float]:
    """Nanoseconds per payload spent in each stage of the core pipeline (best of 5).

    Each stage is timed alone: the frame decoder on the reads, the session core's
    ``receive_payloads`` on the decoded batches, and so on; which is why they are called
    here one by one rather than through ``Connection.receive_data``, which does both.
    """
    n = len(payloads)
    from_string = Payload.FromString

    def best(fn: Callable[[], int]) -> float:
        return min(fn() for _ in range(5)) / n

    batches: list[list[bytes]] = []
    decoder = FrameDecoder()
    for chunk in chunks:
        batches.append(decoder.feed(chunk))

    def t_decode() -> int:
        d = FrameDecoder()
        start = now_ns()
        for chunk in chunks:
            d.feed(chunk)
        return now_ns() - start

    def t_parse() -> int:
        start = now_ns()
        for data in payloads:
            from_string(data)
        return now_ns() - start

    def t_parse_batch() -> int:
        start = now_ns()
        for batch in batches:
            list(map(from_string, batch))
        return now_ns() - start

    parsed = [[from_string(f) for f in batch] for batch in batches]

    def t_is_initialized() -> int:
        start = now_ns()
        for batch in parsed:
            for p in batch:
                p.IsInitialized()
        return now_ns() - start

    def t_core() -> int:
        client, _ = logged_in_pair()
        receive = client.receive_payloads
        start = now_ns()
        for batch in batches:
            receive(batch, 0.0)
        return now_ns() - start

    client, _ = logged_in_pair()
    event_batches = [client.receive_payloads(batch, 0.0) for batch in batches]
    handlers, _ = _counting_handlers()

    def t_dispatch() -> int:
        names = _NAMES
        start = now_ns()
        for events in event_batches:
            for event in events:
                if isinstance(event, Received):
                    payload = event.payload
                    name, field = names[payload.type]
                    for fn in handlers.get(name, ()):
                        fn(getattr(payload, field))
        return now_ns() - start

    serialize = Payload.SerializeToString

    def t_required_check() -> int:
        start = now_ns()
        for batch in parsed:
            deque(map(serialize, batch), maxlen=0)
        return now_ns() - start

    decode = best(t_decode)
    parse = best(t_parse)
    parse_batch = best(t_parse_batch)
    check = best(t_required_check)
    is_init = best(t_is_initialized)
    core = best(t_core)
    dispatch = best(t_dispatch)
    return {
        "framing (FrameDecoder.feed)": decode,
        "parse, result dropped at once (the baseline)": parse,
        "parse, a 64 KiB read's batch kept alive (as receive_payloads does)": parse_batch,
        "required-field check, SerializeToString (as receive_payloads does)": check,
        "  for reference: IsInitialized(), the check it replaces": is_init,
        "sequencing and events (receive_payloads minus parse and check)": core
        - parse_batch
        - check,
        "dispatch by name to a handler": dispatch,
    }


def run(
    quick: bool = False, client_reason: str | None = None
) -> tuple[list[Row], dict[str, float]]:
    """Both variants against the bare parse; ``client_reason`` skips the client variant."""
    count = PAYLOADS // 4 if quick else PAYLOADS
    client_count = CLIENT_PAYLOADS // 4 if quick else CLIENT_PAYLOADS
    trials = 3 if quick else TRIALS
    _, server = logged_in_pair()
    messages = templates(receive_mix, 500)
    payloads = numbered(server, (messages[i % 500] for i in range(count)))
    chunks = chunked(frame_stream(payloads), READ_SIZE)
    mean_size = sum(map(len, payloads)) / len(payloads)

    subjects: dict[str, Callable[[], float]] = {
        "bare": lambda: bare_parse(payloads),
        "core": lambda: core_pipeline(chunks, count),
    }
    feeder = None
    if client_reason is None:
        feeder, port = start_helper("feeder.py", "--count", str(client_count))
        subjects["client"] = lambda: client_pipeline(port, client_count)
    try:
        results = interleaved_trials(subjects, trials)
    finally:
        if feeder is not None:
            stop_helper(feeder)
    bare = median(results["bare"])
    rows = []
    for key, label in VARIANTS.items():
        if key not in results:
            rows.append(Row(PART, label, skipped=client_reason))
            continue
        value = median(results[key])
        rows.append(
            Row(
                PART,
                label,
                value,
                "payloads/s",
                "bare Payload.FromString",
                bare,
                target=f">= {TARGET:g}x",
                met=value >= TARGET * bare,
                note=f"mean payload {mean_size:.0f} B, 64 KiB reads"
                + (
                    f"; client books: {CLIENT_BOOKS['markets']} market,"
                    f" {CLIENT_BOOKS['ignored']} updates ignored"
                    if key == "client" and CLIENT_BOOKS
                    else ""
                ),
                extra={"trials": results[key], "baseline_trials": results["bare"]},
            )
        )
    costs = breakdown(payloads, chunks)
    core = median(results["core"])
    costs["total, core pipeline (1/rate)"] = 1e9 / core
    if "client" in results:
        client = median(results["client"])
        costs["what the real client adds (1/client - 1/core)"] = 1e9 / client - 1e9 / core
        costs["total, real client (1/rate)"] = 1e9 / client
    return rows, costs
