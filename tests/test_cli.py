"""The ``smarkets`` command: parser, help texts, password sourcing, formats, and the
``account`` and ``orders`` subcommands against a sandbox."""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
from collections.abc import Iterator

import pytest
from support import sandbox_settings

import smarkets
from smarkets import cli, cli_commands
from smarkets.book import Books
from smarkets.catalogue import ListedMarket
from smarkets.proto import seto_pb2
from smarkets.sandbox.process import SandboxProcess
from smarkets.units import amount_text, money_text, price_text
from smarkets.watch import render

CLIENT_COMMANDS = ("events", "watch", "account", "orders")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# -- parser and help --------------------------------------------------------------------------


def test_every_subcommand_is_listed_in_the_main_help(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: smarkets [-h] COMMAND ...")
    for name in ("sandbox", *CLIENT_COMMANDS):
        assert f"    {name} " in out
    assert set(subparsers(cli.build_parser())) == {"sandbox", *CLIENT_COMMANDS}


@pytest.mark.parametrize("name", CLIENT_COMMANDS)
def test_client_subcommand_help(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([name, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: smarkets {name} ")
    for option in ("--host HOST", "--port PORT", "--no-tls", "--ca-file FILE", "--user USER"):
        assert option in out
    assert "SMARKETS_PASSWORD" in out
    # Every option has a help text.
    for action in subparsers(cli.build_parser())[name]._actions:
        assert action.help, action.option_strings or action.dest


def test_the_subcommands_are_importable_from_cli() -> None:
    for name in cli_commands.__all__:
        if name != "LISTINGS":
            assert name in cli.__all__ and getattr(cli, name) is getattr(cli_commands, name)


def test_there_is_no_password_option() -> None:
    """A password on the command line would show in ps and the shell's history."""
    parser = cli.build_parser()
    for name in CLIENT_COMMANDS:
        sub = subparsers(parser)[name]
        options = {s for action in sub._actions for s in action.option_strings}
        assert not any("pass" in option or "secret" in option for option in options), options
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--password", "x"] + (["1c024"] if name == "watch" else []))


def test_parser_values_and_defaults(monkeypatch) -> None:
    monkeypatch.delenv(cli.USER_VARIABLE, raising=False)
    args = cli.build_parser().parse_args(["orders"])
    assert (args.host, args.port, args.tls, args.ca_file, args.user) == (
        "localhost",
        3701,
        True,
        None,
        None,
    )
    assert args.market is None and args.timeout == 30.0
    args = cli.build_parser().parse_args(
        ["orders", "--market", "1C024", "--no-tls", "--port", "4000", "--user", "bob"]
    )
    assert (args.market, args.tls, args.port, args.user) == ("1c024", False, 4000, "bob")
    monkeypatch.setenv(cli.USER_VARIABLE, "carol")
    assert cli.build_parser().parse_args(["account"]).user == "carol"
    args = cli.build_parser().parse_args(["watch", "Match Odds", "--interval", "0.5"])
    assert (args.market, args.interval) == ("Match Odds", 0.5)


@pytest.mark.parametrize(
    "argv",
    [
        ["orders", "--market", "1cccc"],  # a contract id, not a market's
        ["orders", "--port", "70000"],
        ["watch", "1c024", "--interval", "0"],
        ["account", "--timeout", "soon"],
        ["watch"],
        ["events", "snooker"],
        ["events", "football", "--date", "tomorrow"],
    ],
)
def test_usage_errors(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_sandbox_subcommand_still_dispatched() -> None:
    from smarkets.sandbox import cli as sandbox_cli

    args = cli.build_parser().parse_args(["sandbox", "--no-tls", "--port", "0", "--bots", "0"])
    assert args.func is sandbox_cli.run and args.bots == 0 and args.no_tls
    result = subprocess.run(
        [sys.executable, "-m", "smarkets.cli", "sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and "--admin-stdin" in result.stdout


# -- the password ------------------------------------------------------------------------------


def test_password_from_the_environment_first() -> None:
    def prompt(text: str) -> str:
        raise AssertionError("must not prompt")

    env = {cli.PASSWORD_VARIABLE: "from-env"}
    assert cli.read_password("alice", "h", env, prompt) == "from-env"


def test_password_prompted_without_the_variable() -> None:
    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return "typed"

    assert cli.read_password("alice", "example.com", {}, prompt) == "typed"
    assert cli.read_password("alice", "example.com", {cli.PASSWORD_VARIABLE: ""}, prompt) == "typed"
    assert prompts == ["Password for alice@example.com: "] * 2


def test_settings_from_args() -> None:
    args = cli.build_parser().parse_args(
        ["account", "--user", "alice", "--host", "h.example", "--port", "4000", "--ca-file", "c"]
    )
    settings = cli.settings_from_args(args, {cli.PASSWORD_VARIABLE: "pw"})
    assert (settings.username, settings.password, settings.host, settings.port) == (
        "alice",
        "pw",
        "h.example",
        4000,
    )
    assert settings.ssl and settings.ssl_kwargs == {"ca_file": "c"}
    assert "pw" not in repr(settings)
    args = cli.build_parser().parse_args(["account", "--user", "a", "--no-tls", "--ca-file", "c"])
    with pytest.raises(smarkets.SettingsError, match="--ca-file"):
        cli.settings_from_args(args, {cli.PASSWORD_VARIABLE: "pw"})
    args = cli.build_parser().parse_args(["account"])
    args.user = None
    with pytest.raises(smarkets.SettingsError, match="--user"):
        cli.settings_from_args(args, {cli.PASSWORD_VARIABLE: "pw"})


def test_connection_failure_is_one_line(capsys, monkeypatch) -> None:
    monkeypatch.setenv(cli.PASSWORD_VARIABLE, "pw")
    code = cli.main(["account", "--user", "a", "--no-tls", "--host", "127.0.0.1", "--port", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("smarkets account: error: cannot connect to 127.0.0.1:1")
    assert "Traceback" not in err


# -- formats -----------------------------------------------------------------------------------


def test_number_formats() -> None:
    assert (
        price_text(2500) == "25.00%" and price_text(1) == "0.01%" and price_text(9999) == "99.99%"
    )
    assert amount_text(400000) == "40.00" and amount_text(12345) == "1.2345"
    assert amount_text(12_345_678_900) == "1,234,567.89"
    assert amount_text(12345, 2) == "1.23"
    assert money_text(10_000_000) == "£1,000.00"
    assert money_text(-12345, "EUR") == "-€1.2345"
    assert money_text(5000, "CHF") == "0.50 CHF"


def _decimal(value: int, exponent: int) -> seto_pb2.Decimal:
    return seto_pb2.Decimal(value=value, exponent=exponent)


def test_format_account() -> None:
    state = seto_pb2.AccountState(
        account=smarkets.int_to_uuid128(1),
        currency=seto_pb2.CURRENCY_GBP,
        cash=_decimal(100_000, 2),
        bonus=_decimal(0, 2),
        exposure=_decimal(12_345, 4),
        available=_decimal(9_987_655, 4),
        staked=_decimal(0, 2),
    )
    lines = cli.format_account(state, "alice")
    assert lines[0] == "account 1acc1 (alice), GBP"
    assert lines[1].split()[:2] == ["cash", "£1,000.0000"]  # 4 places: a penny is split
    assert lines[2].split()[:2] == ["exposure", "£1.2345"]
    assert lines[3].split()[:2] == ["available", "£998.7655"]
    assert lines[4].split()[:2] == ["staked", "£0.0000"]


def test_format_account_without_extensions() -> None:
    state = seto_pb2.AccountState(
        account=smarkets.int_to_uuid128(1),
        currency=seto_pb2.CURRENCY_EUR,
        cash=_decimal(100_000, 2),
        bonus=_decimal(0, 2),
        exposure=_decimal(1250, 2),
    )
    lines = cli.format_account(state)
    assert lines[0] == "account 1acc1, EUR"
    assert lines[3].split()[:2] == ["available", "€987.50"]  # cash - exposure
    assert lines[4].split()[:2] == ["staked", "unknown"]


def test_format_orders() -> None:
    orders = seto_pb2.orders_for_account()
    assert cli.format_orders(orders) == ["no open orders"]
    market = orders.markets.add(market=smarkets.int_to_uuid128(1))
    contract = market.contracts.add(contract=smarkets.int_to_uuid128(2))
    info = contract.offers.add(price=4550).orders.add(
        order=smarkets.int_to_uuid128(0x2A),
        type=seto_pb2.ORDER_CREATE_LIMIT,
        status=seto_pb2.ORDER_STATUS_PARTIALLY_FILLED,
        quantity=100_000,
        quantity_filled=60_000,
    )
    info.reference = "mine"
    lines = cli.format_orders(orders)
    assert lines[0].split() == "ORDER MARKET CONTRACT SIDE PRICE QUANTITY OPEN TIF REF".split()
    assert lines[1].split() == "2afff0 1c024 2cccc sell 45.50% 10.00 4.00 GTC mine".split()
    assert lines[-1] == "1 open order"


def test_render_a_frame() -> None:
    books = Books()
    snapshot = seto_pb2.MarketQuotes(market=smarkets.int_to_uuid128(1))
    snapshot.state = seto_pb2.MARKET_STATUS_OPEN
    first = snapshot.contract_quotes.add(contract=smarkets.int_to_uuid128(1), volume=250_000)
    first.bids.add(price=4500, quantity=120_000)
    first.offers.add(price=4700, quantity=35_000)
    first.executions.add(price=4600, quantity=20_000)
    snapshot.contract_quotes.add(contract=smarkets.int_to_uuid128(2))
    book = books.apply_market_quotes(snapshot)
    info = ListedMarket("1c024", "Match Odds", "Arsenal v Chelsea", "21100", {"1cccc": "Arsenal"})
    lines = render("1c024", book, info, "logged in", width=100)
    assert lines[0] == "Arsenal v Chelsea / Match Odds (1c024)   [open]"
    assert lines[2].split() == "CONTRACT BID SIZE OFFER SIZE LAST TRADE VOLUME".split()
    assert lines[4].split() == "1cccc Arsenal 45.00% 12.00 47.00% 3.50 46.00% x 2.00 25.00".split()
    assert lines[5].split() == ["2cccc", "-", "-", "-", "-", "-", "0.00"]
    assert lines[-1] == "logged in"
    assert all(len(line) <= 40 for line in render("1c024", book, info, "s", width=40))
    waiting = render("1c024", None, None, "connecting...")
    assert waiting == ["1c024", "", "waiting for the market's quotes...", "connecting..."]


# -- account and orders against a sandbox ------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(tls=True, bots=0) as sb:
        yield sb


def run_cli(sandbox: SandboxProcess, capsys, monkeypatch, *argv: str) -> tuple[int, str, str]:
    assert sandbox.ca_file is not None
    monkeypatch.setenv(cli.PASSWORD_VARIABLE, sandbox.accounts["bob"])
    connection = ["--host", sandbox.host, "--port", str(sandbox.port), "--ca-file", sandbox.ca_file]
    code = cli.main([*argv, *connection, "--user", "bob"])
    out, err = capsys.readouterr()
    return code, out, err


def test_account_and_orders_against_the_sandbox(sandbox, capsys, monkeypatch) -> None:
    code, out, err = run_cli(sandbox, capsys, monkeypatch, "orders")
    assert (code, out) == (0, "no open orders\n"), err

    # Leave two orders resting as bob.
    client = smarkets.Smarkets(smarkets.Session(sandbox_settings(sandbox, "bob")))
    client.login()
    buy = smarkets.Order(50_000, 2000, smarkets.Order.BUY, "1c024", "1cccc", reference="r1")
    sell = smarkets.Order(30_000, 8000, smarkets.Order.SELL, "2c024", "4cccc")
    placed = [client.order(buy), client.order(sell)]
    client.flush()
    while any(order.id is None for order in placed):
        client.read()
    client.logout()

    code, out, err = run_cli(sandbox, capsys, monkeypatch, "orders")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1] == "2 open orders"
    rows = sorted(line.split() for line in lines[1:-1])
    ids = sorted(smarkets.uuid_to_str(order.id, "order") for order in placed)  # type: ignore[arg-type]
    assert [row[0] for row in rows] == ids
    assert {tuple(row[1:]) for row in rows} == {
        ("1c024", "1cccc", "buy", "20.00%", "5.00", "5.00", "GTC", "r1"),
        ("2c024", "4cccc", "sell", "80.00%", "3.00", "3.00", "GTC", "-"),
    }
    code, out, err = run_cli(sandbox, capsys, monkeypatch, "orders", "--market", "2c024")
    assert code == 0 and out.splitlines()[-1] == "1 open order" and "4cccc" in out

    balance = sandbox.balance("bob")
    code, out, err = run_cli(sandbox, capsys, monkeypatch, "account")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("account ") and lines[0].endswith(" (bob), GBP")
    shown = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert shown == {
        "cash": money_text(balance.cash),
        "exposure": money_text(balance.exposure),
        "available": money_text(balance.available),
        "staked": money_text(balance.staked),
    }
    assert shown["exposure"] == "£1.60"  # 5.00 x 20% + 3.00 x 20%


def test_bad_password_against_the_sandbox(sandbox, capsys, monkeypatch) -> None:
    assert sandbox.ca_file is not None
    monkeypatch.setenv(cli.PASSWORD_VARIABLE, "not-the-password")
    connection = ["--host", sandbox.host, "--port", str(sandbox.port), "--ca-file", sandbox.ca_file]
    assert cli.main(["account", *connection, "--user", "bob"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smarkets account: error:") and "UNAUTHORISED" in err
    assert "not-the-password" not in err


def test_events_prints_the_published_listings(sandbox, capsys, monkeypatch) -> None:
    code, out, err = run_cli(sandbox, capsys, monkeypatch, "events")
    assert code == 0, err
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    # Every market of the sandbox's default catalogue listed today (the Grand National
    # runs tomorrow), each under its event, each contract under its market.
    assert f"# football on {today}" in out and "# politics" in out
    assert "# sport-other" not in out  # nothing listed there: not printed
    lines = out.splitlines()
    start = lines.index(f"# football on {today}")
    assert lines[start + 1].startswith("21100  Arsenal v Chelsea  " + today)
    assert lines[start + 1].endswith("(Premier League 2026/27)")
    assert lines[start + 2 : start + 6] == [
        "  1c024  Match Odds",
        "    1cccc  Arsenal",
        "    2cccc  Draw",
        "    3cccc  Chelsea",
    ]
    listed = {line.split()[0] for line in lines if line.startswith("  ") and "c024" in line}
    assert listed == {"1c024", "2c024", "3c024", "5c024"}

    tomorrow = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)
    argv = ("events", "horse-racing", "--date", tomorrow.isoformat())
    code, out, err = run_cli(sandbox, capsys, monkeypatch, *argv)
    assert code == 0, err
    assert out.splitlines()[0] == f"# horse-racing on {tomorrow.isoformat()}"
    assert "  4c024  Winner" in out and "(Aintree)" in out

    code, out, err = run_cli(sandbox, capsys, monkeypatch, "events", "current-affairs")
    assert (code, out) == (0, "# current-affairs\n(nothing listed)\n"), err

    code, out, err = run_cli(
        sandbox, capsys, monkeypatch, "events", "tennis", "--date", "1990-01-01"
    )
    assert code == 1
    assert err.startswith("smarkets events: error:") and "DATE_OUT_OF_RANGE" in err
