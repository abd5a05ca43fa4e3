"""The ``smarkets`` command.

Subcommands:

* ``smarkets sandbox ...``: run the sandbox exchange (:mod:`smarkets.sandbox.cli`);
* ``smarkets events [LISTING] [--date D]``: the published catalogue (:mod:`smarkets.events`):
  events, markets and contracts with their ids;
* ``smarkets watch MARKET``: a live view of one market (:mod:`smarkets.watch`);
* ``smarkets account``: the account's cash, exposure, available and staked amounts;
* ``smarkets orders [--market M]``: the open orders.

The client subcommands share the connection options ``--host``, ``--port``,
``--no-tls``, ``--ca-file`` and ``--user`` (:func:`add_connection_arguments`).
The password is never an option, since ``ps`` and the shell's history would
show it: it is read from the environment variable ``SMARKETS_PASSWORD``, or
asked for at the terminal (:func:`read_password`).

Exit status: 0 on success, 1 when the exchange cannot be reached or refuses
(the reason on stderr), 2 for a usage error, 130 when interrupted.

This module builds the argument parser (:func:`build_parser`) and runs the subcommand it
names (:func:`main`); what each client subcommand does and prints is in
:mod:`smarkets.cli_commands`, whose public names are importable from here too.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Sequence

from smarkets.cli_commands import (
    LISTINGS,
    PASSWORD_VARIABLE,
    USER_VARIABLE,
    format_account,
    format_listing,
    format_orders,
    read_password,
    run_account,
    run_events,
    run_orders,
    run_watch,
    settings_from_args,
)
from smarkets.errors import Error, InvalidIdError
from smarkets.protocol import ids
from smarkets.settings import DEFAULT_PORT, DEFAULT_SOCKET_TIMEOUT

__all__ = [
    "PASSWORD_VARIABLE",
    "USER_VARIABLE",
    "add_connection_arguments",
    "build_parser",
    "format_account",
    "format_listing",
    "format_orders",
    "main",
    "read_password",
    "run_account",
    "run_events",
    "run_orders",
    "run_watch",
    "settings_from_args",
]

_CLIENT_EPILOG = (
    f"The password is read from ${PASSWORD_VARIABLE}, or asked for at the terminal;"
    " it is never an option."
)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _market(text: str) -> str:
    try:
        return ids.uuid128_to_str(ids.str_to_uuid128(text, kind="market"), "market")
    except InvalidIdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that say where to connect and as whom (no password option)."""
    group = parser.add_argument_group(
        "connection", f"The password comes from ${PASSWORD_VARIABLE} or a prompt."
    )
    group.add_argument(
        "--host", default="localhost", help="the exchange's host name or address (%(default)s)"
    )
    group.add_argument("--port", type=_port, default=DEFAULT_PORT, help="its port (%(default)s)")
    group.add_argument(
        "--no-tls",
        dest="tls",
        action="store_false",
        help="plain TCP instead of TLS (only for a local sandbox started with --no-tls)",
    )
    group.add_argument(
        "--ca-file",
        metavar="FILE",
        help="trust this CA certificate (PEM) instead of the system's trust store; a sandbox"
        ' prints its own as "CA certificate: FILE"',
    )
    group.add_argument(
        "--user",
        default=os.environ.get(USER_VARIABLE),
        help=f"the account to log in as (default: ${USER_VARIABLE})",
    )
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_SOCKET_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for the exchange to connect or answer (%(default)g)",
    )
    group.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr (twice: debug)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``smarkets`` argument parser, one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="smarkets",
        description="Tools of the smarkets streaming API client: watch a market, look at the"
        " account and the open orders, or run a sandbox exchange.",
        epilog="Run 'smarkets COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    from smarkets.sandbox import cli as sandbox_cli

    sandbox = commands.add_parser(
        "sandbox",
        help="run the sandbox exchange",
        description="Run the sandbox exchange: a local exchange speaking the streaming"
        " protocol, for trying the client out and testing against it.",
    )
    sandbox_cli.add_arguments(sandbox)
    sandbox.set_defaults(func=sandbox_cli.run)

    events = commands.add_parser(
        "events",
        help="print the catalogue: events, markets and contracts with their ids",
        description="Print what can be traded, as the exchange lists it: each event (its"
        " id, name and start) with its markets and their contracts. The listings are asked"
        " for on the stream (events_request) and fetched over HTTP(S), verified as the"
        " stream is.",
        epilog=_CLIENT_EPILOG,
    )
    events.add_argument(
        "listing",
        nargs="?",
        default="all",
        choices=["all", *LISTINGS],
        metavar="LISTING",
        help="all (the default: every listing, the sports on --date), " + ", ".join(LISTINGS),
    )
    events.add_argument(
        "--date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the day of a sport's listing (today, UTC, by default)",
    )
    add_connection_arguments(events)
    events.set_defaults(func=run_events)

    watch = commands.add_parser(
        "watch",
        help="a live view of one market's prices",
        description="Show one market live: per contract the best bid and offer with their"
        " sizes, the last trade and the traded volume, redrawn in place as quotes arrive"
        " (plain text when the output is not a terminal), and the connection's state. A"
        " dropped connection is resumed. Ctrl-C logs out and exits.",
        epilog=_CLIENT_EPILOG,
    )
    watch.add_argument(
        "market", metavar="MARKET", help='the market: its id ("1c024") or its name ("Match Odds")'
    )
    watch.add_argument(
        "--interval",
        type=_seconds,
        metavar="SECONDS",
        help="least time between two redraws (0.2 on a terminal, 1 otherwise)",
    )
    add_connection_arguments(watch)
    watch.set_defaults(func=run_watch)

    account = commands.add_parser(
        "account",
        help="print the account's cash, exposure, available and staked amounts",
        description="Print the account's state: cash (the balance), exposure (reserved by"
        " open orders), available (what new orders can use) and staked (stakes of matched"
        " bets, held until their market settles), in the account's currency.",
        epilog=_CLIENT_EPILOG,
    )
    add_connection_arguments(account)
    account.set_defaults(func=run_account)

    orders = commands.add_parser(
        "orders",
        help="print the open orders",
        description="Print the account's open orders: id, market, contract, side, price,"
        " quantity placed and still open, time in force and reference.",
        epilog=_CLIENT_EPILOG,
    )
    orders.add_argument(
        "--market", type=_market, metavar="MARKET", help='only this market\'s orders ("1c024")'
    )
    add_connection_arguments(orders)
    orders.set_defaults(func=run_orders)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smarkets`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"smarkets {args.command}: interrupted", file=sys.stderr)
        return 130
    except Error as exc:
        print(f"smarkets {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
