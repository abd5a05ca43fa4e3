"""``examples/trading_script.py`` and ``examples/demo.py`` run as a user runs them.

The sandbox is a separate process (with and without TLS, no bots); the script is another,
started with the connection options on its command line and the password in
``$SMARKETS_PASSWORD``. The tests give it a market of its own in which another account has
quoted, so that what it must print (and the account's money afterwards) is known exactly.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import sandbox_settings

import smarkets
from smarkets.sandbox.process import SandboxProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPT = EXAMPLES / "trading_script.py"
DEMO = EXAMPLES / "demo.py"
#: Seconds a script may take before the test gives up on it (it takes well under one).
TIMEOUT = 60
BALANCE = 10_000_000

_ids = itertools.count(0x200)


@pytest.fixture(scope="module", params=[True, False], ids=["tls", "plain"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    """A quiet sandbox (default catalogue and accounts, no bots) per transport."""
    with SandboxProcess(tls=request.param, bots=0) as process:
        yield process


def new_account(sandbox: SandboxProcess) -> tuple[str, str]:
    """A fresh account with 1,000.00: (name, password)."""
    n = next(_ids)
    name, password = f"script{n:x}", f"pw-{n:x}"
    sandbox.add_account(name, password, BALANCE)
    return name, password


def new_market(sandbox: SandboxProcess, name: str) -> tuple[str, list[str]]:
    """A fresh market with contracts "Home" and "Away": (market id, contract ids)."""
    market = smarkets.uuid_to_str(next(_ids), "market")
    contracts = [smarkets.uuid_to_str(next(_ids), "contract") for _ in range(2)]
    sandbox.add_market(
        {
            "id": market,
            "name": name,
            "event": "Script tests",
            "contracts": [
                {"id": contracts[0], "name": "Home"},
                {"id": contracts[1], "name": "Away"},
            ],
        }
    )
    return market, contracts


def run(
    command: list[str], password: str | None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with ``$SMARKETS_PASSWORD`` set to ``password`` (unset if None).

    It runs in a new session, without a controlling terminal: a password prompt reads stdin.
    """
    env = dict(os.environ)
    env.pop("SMARKETS_PASSWORD", None)
    if password is not None:
        env["SMARKETS_PASSWORD"] = password
    return subprocess.run(
        command,
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        start_new_session=True,
        check=False,
    )


def run_script(
    sandbox: SandboxProcess, user: str, password: str | None, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the trading script against ``sandbox`` as ``user``."""
    command = [sys.executable, str(SCRIPT), "--host", sandbox.host, "--port", str(sandbox.port)]
    command += ["--ca-file", sandbox.ca_file] if sandbox.tls else ["--no-tls"]  # type: ignore[list-item]
    command += ["--user", user, *args]
    return run(command, password, stdin)


def quote(sandbox: SandboxProcess, market: str, contracts: list[str]) -> smarkets.Smarkets:
    """Another account quotes in ``market``: a bid on Home, an offer on Away."""
    name, password = new_account(sandbox)
    settings = sandbox_settings(sandbox, name, socket_timeout=10.0)
    client = smarkets.Smarkets(smarkets.Session(settings))
    client.login()
    orders = [
        client.order(smarkets.Order(200_000, 3500, smarkets.Order.BUY, market, contracts[0])),
        client.order(smarkets.Order(500_000, 4000, smarkets.Order.SELL, market, contracts[1])),
    ]
    client.flush()
    while any(order.state != "accepted" for order in orders):
        client.read()
    return client


def test_the_script_trades(sandbox: SandboxProcess) -> None:
    market, contracts = new_market(sandbox, "Full Time Result")
    seller = quote(sandbox, market, contracts)
    user, password = new_account(sandbox)

    result = run_script(sandbox, user, password, "--market", market)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    transport = "TLS" if sandbox.tls else "plain TCP, no TLS"
    assert f"Logging in to {sandbox.host}:{sandbox.port} as {user} ({transport})" in out
    assert re.search(r"^Logged in: session [0-9a-f]+9999\.$", out, re.M)
    assert "Available to trade: 1000.00 GBP." in out
    # the catalogue, and the chosen market's best prices from the snapshot
    assert re.search(rf"^ +{market} +Full Time Result +Home \| Away$", out, re.M)
    assert f"Trading {market} Full Time Result (Script tests)" in out
    assert re.search(r"^  Home +35\.00% for 20\.00 +-$", out, re.M)
    assert re.search(r"^  Away +- +40\.00% for 50\.00$", out, re.M)
    # an order that fills, at the best offer
    fill = out[out.index("Buy 10.00 of Away at 40.00%, the best offer, immediate-or-cancel:") :]
    assert re.match(
        r"[^\n]*\n  accepted: order [0-9a-f]+fff0\n"
        r"  executed: 10\.00 at 40\.00%; 0\.00 still open\n"
        r"  Filled: we hold a bet that pays 10\.00 if Away wins\.\n",
        fill,
    ), fill
    # an order that rests, far from the market, and is cancelled
    rest = out[out.index("Buy 10.00 of Away at 20.00%, far below the market") :]
    assert re.match(
        r"[^\n]*\n  accepted: order [0-9a-f]+fff0\n  It rests on the book\. Cancel it:\n"
        r"  cancelled: 10\.00 \(member requested\)\n",
        rest,
    ), rest
    # the account: bought 10.00 at 40.00% from a resting sell, whose stake is
    # 100,000*6000//10000 = 60,000; this account staked the other 40,000 (4.00)
    assert re.search(r"^Account \(GBP\):$", out, re.M)
    for label, amount in (
        ("cash", "996.00"),
        ("exposure", "0.00"),
        ("available", "996.00"),
        ("staked", "4.00"),
    ):
        assert re.search(rf"^  {label} +{re.escape(amount)}   ", out, re.M), label
    assert out.rstrip().endswith("Logged out.")
    assert result.stderr == ""
    # the exchange agrees
    balance = sandbox.balance(user)
    assert (balance.cash, balance.exposure, balance.available, balance.staked) == (
        BALANCE - 40_000,
        0,
        BALANCE - 40_000,
        40_000,
    )
    seller.request_orders(market)
    seller.flush()
    left: list[int] = []
    seller.add_handler(
        "seto.orders_for_market",
        lambda m: left.extend(o.remaining for o in smarkets.account.open_orders(m)),
    )
    while not left:
        seller.read()
    assert sorted(left) == [200_000, 400_000]
    seller.logout()


def test_the_password_is_asked_for_without_the_variable(sandbox: SandboxProcess) -> None:
    user, password = new_account(sandbox)
    result = run_script(sandbox, user, None, "--market", "nope", stdin=password + "\n")
    assert f"Password for {user}: " in result.stdout + result.stderr
    assert "Logged in: session" in result.stdout
    assert result.returncode == 2


def test_an_unknown_market_is_an_error(sandbox: SandboxProcess) -> None:
    user, password = new_account(sandbox)
    result = run_script(sandbox, user, password, "--market", "No Such Market")
    assert result.returncode == 2
    assert "error: no market 'No Such Market' in the catalogue" in result.stderr
    assert result.stdout.rstrip().endswith("Logged out.")


def test_a_halted_market_is_an_error(sandbox: SandboxProcess) -> None:
    market, _ = new_market(sandbox, "Halted Market")
    sandbox.halt(market)
    user, password = new_account(sandbox)
    result = run_script(sandbox, user, password, "--market", "halted market")
    assert result.returncode == 2
    assert f"error: market {market} 'Halted Market' is halted, not open" in result.stderr


def test_no_offer_in_time_is_an_error(sandbox: SandboxProcess) -> None:
    market, _ = new_market(sandbox, "Empty Market")
    user, password = new_account(sandbox)
    result = run_script(sandbox, user, password, "--market", market, "--wait", "0")
    assert result.returncode == 1
    assert "Nobody offers anything yet: waiting for a seller" in result.stdout
    assert f"error: nobody offered anything in market {market} in 0s" in result.stderr
    assert result.stdout.rstrip().endswith("Logged out.")
    assert sandbox.balance(user).cash == BALANCE


def test_a_wrong_password_is_an_error(sandbox: SandboxProcess) -> None:
    user, _ = new_account(sandbox)
    result = run_script(sandbox, user, "not-the-password")
    assert result.returncode == 1
    assert "error: the exchange refused the login: wrong user name or password" in result.stderr
    assert "Logged in" not in result.stdout


def test_the_demo_runs_end_to_end() -> None:
    result = run([sys.executable, str(DEMO)], None)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Starting a sandbox exchange (TLS, 3 simulated traders)" in out
    assert "--ca-file" in out and "--user alice" in out
    for expected in (
        "Logged in: session ",
        "Best prices now:",
        "the best offer, immediate-or-cancel:",
        "  executed: ",
        "far below the market, good-til-cancelled:",
        "  cancelled: 10.00 (member requested)",
        "Account (GBP):",
        "Logged out.",
        "The trading script finished successfully.",
    ):
        assert expected in out, expected
    assert out.rstrip().endswith("Stopping the sandbox ... stopped.")
