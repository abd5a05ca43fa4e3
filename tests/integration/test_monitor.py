"""``examples/monitor.py`` against a sandbox with bots: what it prints, and Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smarkets.sandbox.process import SandboxProcess

MONITOR = Path(__file__).resolve().parents[2] / "examples" / "monitor.py"
LINE = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{3}  (?P<contract>\w+) (?P<name>.+?) +"
    r"bid (?P<bid>-|(?P<bid_price>\d+\.\d\d)% for [\d,]+\.\d\d) +"
    r"offer (?P<offer>-|(?P<offer_price>\d+\.\d\d)% for [\d,]+\.\d\d) +"
    r"last (?P<last>-|\d+\.\d\d% x [\d,]+\.\d\d) +volume [\d,]+\.\d\d$"
)
CONTRACTS = {"1cccc": "Arsenal", "2cccc": "Draw", "3cccc": "Chelsea"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(tls=True, bots=3, seed=5) as sb:
        yield sb


def monitor(sandbox: SandboxProcess, *args: str, **kwargs) -> subprocess.Popen[str]:
    assert sandbox.ca_file is not None
    command = [sys.executable, str(MONITOR), "--host", sandbox.host, "--port", str(sandbox.port)]
    command += ["--ca-file", sandbox.ca_file, "--user", "carol", *args]
    env = dict(os.environ, SMARKETS_PASSWORD=sandbox.accounts["carol"], PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        **kwargs,
    )


def price_lines(out: str) -> list[re.Match[str]]:
    return [m for line in out.splitlines() if (m := LINE.match(line))]


def test_monitor_prints_price_changes_until_the_count(sandbox: SandboxProcess) -> None:
    process = monitor(sandbox, "--market", "1c024", "--count", "12")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "subscribing to Arsenal v Chelsea / Match Odds (1c024)"
    assert lines[1] == "snapshot: 3 contracts, market open"
    prices = price_lines(out)
    assert len(prices) == 12, out
    # Every line of the snapshot first, in the market's order, then the changes.
    assert [m["contract"] for m in prices[:3]] == list(CONTRACTS)
    for match in prices:
        assert CONTRACTS[match["contract"]] == match["name"].strip()
        if match["bid_price"] and match["offer_price"]:
            assert float(match["bid_price"]) < float(match["offer_price"]), match.group(0)
    # A line is printed only when something moved.
    shown: dict[str, tuple[str, str, str]] = {}
    for match in prices:
        now = (match["bid"], match["offer"], match["last"])
        assert shown.get(match["contract"]) != now, match.group(0)
        shown[match["contract"]] = now
    assert lines[-1] == "logged out (confirmation)"
    assert len(lines) == 2 + 12 + 1


def test_monitor_picks_the_first_listed_market_and_stops_on_ctrl_c(sandbox) -> None:
    process = monitor(sandbox)  # no --market, no --count
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.startswith("subscribing to Arsenal v Chelsea / Match Odds (1c024)\n")
    assert price_lines(out)
    assert out.splitlines()[-2:] == ["interrupted", "logged out (confirmation)"]


def test_monitor_unknown_market(sandbox: SandboxProcess) -> None:
    process = monitor(sandbox, "--market", "Nobody v Nobody")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "no 'Nobody v Nobody' market in the catalogue" in err
    assert out.splitlines()[-1] == "logged out (confirmation)"
