"""Part 5 -- memory: RSS growth of a client over 1,000,000 received payloads.

What is measured: the resident set size (``/proc/self/statm``) of this process while the
real :class:`smarkets.Smarkets` client, logged in to ``feeder.py`` over loopback TCP (the
feeder runs in its own process, so none of its memory is counted here), receives and
dispatches to handlers (registered with ``add_handler``, counting) the receive
benchmark's mix of contract_quotes and order_executed payloads, after the market's
snapshot (so a client that keeps order books keeps one, updated by every contract_quotes),
reading with ``client.read()``. After a warm-up of 100,000 payloads (free lists,
arenas, caches and the interpreter's own structures settle) and a ``gc.collect()``, RSS
is taken; then 1,000,000 more payloads; then ``gc.collect()`` and RSS again.

It runs in a process of its own (``run.py`` starts ``memory_growth.py --json``) so that what
the other benchmarks allocated and freed cannot hide or fake a growth.

Baseline: the RSS after the warm-up; the figure is the RSS after the million, and the
target is a growth below 10 MiB. Steady memory over a long stream shows that nothing is
kept per message (events, payload objects, replay entries, handler bookkeeping).
"""

from __future__ import annotations

import argparse
import gc
import json
from typing import Any

# isort: split
from common import MIB, Row, now_ns, rate, rss_bytes, start_helper, stop_helper

PART = "5 memory"
NAMES = ["client RSS after 1M payloads"]
WARMUP = 100_000
PAYLOADS = 1_000_000
TARGET_MIB = 10


def run(quick: bool = False) -> list[Row]:
    from smarkets.client import Smarkets
    from smarkets.session import Session
    from smarkets.settings import SessionSettings

    warmup = WARMUP // 4 if quick else WARMUP
    payloads = PAYLOADS // 10 if quick else PAYLOADS
    feeder, port = start_helper("feeder.py", "--count", str(warmup + payloads), "--lazy")
    try:
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
        while counts[0] < warmup:
            read()
        gc.collect()
        before = rss_bytes()
        start = now_ns()
        end_count = warmup + payloads
        while counts[0] < end_count:
            read()
        end = now_ns()
        gc.collect()
        after = rss_bytes()
        session.disconnect()
    finally:
        stop_helper(feeder)
    growth = (after - before) / MIB
    return [
        Row(
            PART,
            NAMES[0],
            after / MIB,
            "MiB",
            "RSS after the warm-up",
            before / MIB,
            target=f"growth < {TARGET_MIB} MiB",
            met=growth < TARGET_MIB,
            note=f"growth {growth:+.2f} MiB; read at {rate(payloads, start, end):,.0f}/s",
            extra={"growth_mib": growth, "payloads": payloads, "warmup": warmup},
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = run(quick=args.quick)
    if args.json:
        print(json.dumps([row.as_dict() for row in rows]))
    else:
        for row in rows:
            print(f"{row.name}: {row.value:.2f} MiB (baseline {row.baseline:.2f} MiB), {row.note}")


if __name__ == "__main__":
    main()
