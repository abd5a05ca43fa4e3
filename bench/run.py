"""``make bench``: run every benchmark, print the table, write ``bench/results.json``.

Each figure is printed next to a baseline measured in the same run, with their ratio and
whether the target is met. See ``bench/README.md`` for what each benchmark measures and
why its baseline is fair. Usage::

    .venv/bin/python bench/run.py [--quick] [--only 1,2] [--json PATH]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import google.protobuf
from google.protobuf.internal import api_implementation

# isort: split
import bootstrap  # first: makes the stable smarkets modules importable even if the client is not
import framing_decode
import memory_growth
import order_roundtrip
import receive_pipeline
import sandbox_throughput
from common import BENCH_DIR, Row, skipped_rows

RESULTS = BENCH_DIR / "results.json"


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "protobuf": google.protobuf.__version__,
        "protobuf_backend": api_implementation.Type(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "executable": sys.executable,
    }


def _cpu_seconds() -> tuple[float, float]:
    """(CPU time of the whole machine, of this process and its reaped children), seconds."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy.
    busy = sum(fields[:8]) - fields[3] - fields[4]
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    return busy / os.sysconf("SC_CLK_TCK"), own


def _client_reason() -> str | None:
    """Why parts 3-5 cannot run (the client or the sandbox process missing), or None."""
    if bootstrap.PACKAGE_PROBLEM is not None:
        return bootstrap.PACKAGE_PROBLEM
    try:
        for module in ("smarkets.client", "smarkets.sandbox.process"):
            importlib.import_module(module)
    except Exception as exc:
        return f"smarkets.client / smarkets.sandbox.process do not import: {exc}"
    return None


def _memory_in_subprocess(quick: bool) -> list[Row]:
    """Part 5 in a fresh interpreter, so that the other parts' heap does not blur it."""
    args = [sys.executable, str(BENCH_DIR / "memory_growth.py"), "--json"]
    if quick:
        args.append("--quick")
    done = subprocess.run(args, capture_output=True, text=True, timeout=240, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory_growth.py failed: {tail}")
    rows = []
    for data in json.loads(done.stdout.strip().splitlines()[-1]):
        data.pop("ratio", None)
        rows.append(Row(**data))
    return rows


def _fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit.endswith("/s"):
        for scale, prefix in ((1e6, "M"), (1e3, "k")):
            if value >= scale:
                return f"{value / scale:.2f} {prefix}{unit}"
        return f"{value:.0f} {unit}"
    if unit == "µs":
        return f"{value:.1f} µs"
    return f"{value:.2f} {unit}"


def print_table(rows: list[Row]) -> None:
    headers = ("part", "measurement", "value", "baseline", "baseline value", "ratio", "target")
    lines = []
    for row in rows:
        if row.skipped:
            lines.append((row.part, row.name, "skipped", "", "", "", row.target, "-"))
            continue
        ratio = row.ratio
        lines.append(
            (
                row.part,
                row.name,
                _fmt_value(row.value, row.unit),
                row.baseline_name,
                _fmt_value(row.baseline, row.unit),
                f"{ratio:.2f}x" if ratio is not None else "-",
                row.target,
                "-" if row.met is None else ("yes" if row.met else "NO"),
            )
        )
    all_headers = (*headers, "met")
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(all_headers)]

    def fmt(cells: tuple[str, ...]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        return "  ".join(padded).rstrip()

    print(fmt(all_headers))
    print("  ".join("-" * width for width in widths))
    for row, line in zip(rows, lines, strict=True):
        print(fmt(line))
        detail = f"skipped: {row.skipped}" if row.skipped else row.note
        if detail:
            print(" " * (widths[0] + 2) + "  " + detail)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the smarkets benchmarks.")
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    parser.add_argument("--only", default="1,2,3,4,5", help="parts to run, e.g. 1,2")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args()
    parts = {part.strip() for part in args.only.split(",")}

    env = environment()
    print(
        f"Python {env['python']} ({env['implementation']}), protobuf {env['protobuf']}"
        f" backend {env['protobuf_backend']}, {env['cpus']} CPUs, {env['platform']}"
    )
    if env["protobuf_backend"] != "upb":
        print(f"WARNING: protobuf backend is {env['protobuf_backend']!r}, not 'upb':")
        print("         the figures are not comparable with the targets.")

    client_reason = _client_reason()
    rows: list[Row] = []
    breakdown: dict[str, float] = {}
    started = time.perf_counter()
    cpu_start = _cpu_seconds()

    def part(number: str, title: str, names: list[str], fn: Callable[[], list[Row]]) -> None:
        if number not in parts:
            return
        t0 = time.perf_counter()
        print(f"[{number}] {title} ...", flush=True)
        try:
            got = fn()
        except Exception as exc:
            traceback.print_exc()
            got = skipped_rows(f"{number} {title}", names, f"{type(exc).__name__}: {exc}")
        rows.extend(got)
        print(f"    done in {time.perf_counter() - t0:.1f}s", flush=True)

    def needs_client(
        number: str, title: str, names: list[str], fn: Callable[[], list[Row]]
    ) -> None:
        if client_reason is not None and number in parts:
            rows.extend(skipped_rows(f"{number} {title}", names, client_reason))
            return
        part(number, title, names, fn)

    def receive() -> list[Row]:
        got, costs = receive_pipeline.run(args.quick, client_reason)
        breakdown.update(costs)
        return got

    part(
        "1",
        "framing",
        framing_decode.NAMES,
        lambda: framing_decode.run(args.quick),
    )
    part("2", "receive", list(receive_pipeline.VARIANTS.values()), receive)
    needs_client("3", "round trip", order_roundtrip.NAMES, lambda: order_roundtrip.run(args.quick))
    needs_client(
        "4", "sandbox", sandbox_throughput.NAMES, lambda: sandbox_throughput.run(args.quick)
    )
    needs_client("5", "memory", memory_growth.NAMES, lambda: _memory_in_subprocess(args.quick))
    duration = time.perf_counter() - started
    cpu_end = _cpu_seconds()
    # CPU that processes outside this benchmark used meanwhile, in cores on average.
    env["other_load_cores"] = max(
        0.0, ((cpu_end[0] - cpu_start[0]) - (cpu_end[1] - cpu_start[1])) / duration
    )

    print()
    print(
        f"Results (Python {env['python']}, protobuf {env['protobuf']} {env['protobuf_backend']};"
        f" rates are medians of interleaved trials; ratio = value / baseline)"
    )
    print()
    print_table(rows)
    if breakdown:
        print()
        print("Receive pipeline, nanoseconds per payload by stage (best of 5):")
        for label, ns in breakdown.items():
            print(f"  {ns:8.0f} ns  {label}")
    targets = [row for row in rows if row.met is not None]
    met = sum(1 for row in targets if row.met)
    skipped = sum(1 for row in rows if row.skipped)
    print()
    print(f"Targets met: {met} of {len(targets)}; {skipped} skipped; run took {duration:.0f}s.")
    other = env["other_load_cores"]
    print(
        f"Other processes on this machine used {other:.2f} CPU cores on average meanwhile", end=""
    )
    print("." if other < 0.2 else ": the figures are noisier than on a quiet machine.")

    args.json.write_text(
        json.dumps(
            {
                "environment": env,
                "quick": args.quick,
                "duration_s": duration,
                "rows": [row.as_dict() for row in rows],
                "receive_breakdown_ns_per_payload": breakdown,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"Wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
