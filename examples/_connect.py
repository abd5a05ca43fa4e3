"""Command-line connection options shared by the examples.

Every example takes the same options, so that one habit works for all of them::

    --host HOST      the exchange's address (localhost)
    --port PORT      its port (3701)
    --no-tls         plain TCP instead of TLS (only for a local sandbox)
    --ca-file FILE   trust this CA certificate instead of the system's (a sandbox prints its
                     own as "CA certificate: FILE" when it starts)
    --user NAME      the account to log in as (alice)
    --market ID      the market to trade, by id ("1c024") or by name ("Match Odds")

The password is never an option (it would show up in ``ps`` and in the shell's history): it
is read from the environment variable ``SMARKETS_PASSWORD``, or asked for at the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os

import smarkets

__all__ = ["ENV_VAR", "add_connection_arguments", "read_password", "session_settings"]

#: The environment variable the password is read from.
ENV_VAR = "SMARKETS_PASSWORD"


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the connection options (and ``--market``) to ``parser``."""
    group = parser.add_argument_group(
        "connection",
        f"The password is read from ${ENV_VAR}, or asked for at the terminal.",
    )
    group.add_argument("--host", default="localhost", help="the exchange's host (%(default)s)")
    group.add_argument(
        "--port", type=int, default=smarkets.settings.DEFAULT_PORT, help="its port (%(default)s)"
    )
    group.add_argument(
        "--no-tls",
        dest="tls",
        action="store_false",
        help="connect over plain TCP instead of TLS (a local sandbox run with --no-tls)",
    )
    group.add_argument(
        "--ca-file",
        metavar="FILE",
        help="trust this CA certificate (PEM) instead of the system's trust store",
    )
    group.add_argument("--user", default="alice", help="the account to log in as (%(default)s)")
    group.add_argument(
        "--market",
        metavar="MARKET",
        help='the market to trade: its id ("1c024") or its name (default: the first listed)',
    )


def read_password(user: str) -> str:
    """The password: ``$SMARKETS_PASSWORD`` if set, else asked for (without echo)."""
    password = os.environ.get(ENV_VAR)
    if password:
        return password
    return getpass.getpass(f"Password for {user}: ")


def session_settings(args: argparse.Namespace) -> smarkets.SessionSettings:
    """The :class:`smarkets.SessionSettings` the parsed options describe.

    Raises :class:`smarkets.SettingsError` for a value the library refuses (a port out of
    range, ``--ca-file`` with ``--no-tls``, ...).
    """
    if args.ca_file and not args.tls:
        raise smarkets.SettingsError("--ca-file makes no sense with --no-tls")
    settings = smarkets.SessionSettings(args.user, read_password(args.user))
    settings.host = args.host
    settings.port = args.port
    settings.ssl = args.tls
    if args.ca_file:
        settings.ssl_kwargs = {"ca_file": args.ca_file}
    return settings
