"""What the ``smarkets`` command's client subcommands do: log in, ask, print, log out.

:mod:`smarkets.cli` builds the argument parser and runs the subcommand it names; here are
the subcommands themselves (``run_events``, ``run_watch``, ``run_account``,
``run_orders``), the lines they print (``format_*``) and the session settings the
connection options make, the password read from ``$SMARKETS_PASSWORD`` or asked for at the
terminal (:func:`read_password`). Every public name here is importable from
:mod:`smarkets.cli` too.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from smarkets.account import Account, OpenOrder, open_orders
from smarkets.catalogue import catalogue_requests
from smarkets.client import Smarkets
from smarkets.errors import Error, SettingsError
from smarkets.events import SPORT_REQUESTS, UNDATED_REQUESTS, EventsRequest, SportByDate
from smarkets.proto import seto_pb2
from smarkets.protocol import ids
from smarkets.session import Session
from smarkets.settings import SessionSettings
from smarkets.units import amount_text, money_text, price_text
from smarkets.watch import Watch

__all__ = [
    "LISTINGS",
    "PASSWORD_VARIABLE",
    "USER_VARIABLE",
    "format_account",
    "format_listing",
    "format_orders",
    "read_password",
    "run_account",
    "run_events",
    "run_orders",
    "run_watch",
    "settings_from_args",
]

#: The environment variable the password is read from.
PASSWORD_VARIABLE = "SMARKETS_PASSWORD"  # noqa: S105 - the name of the variable
#: The environment variable giving the default of ``--user``.
USER_VARIABLE = "SMARKETS_USER"


def _listing_name(enum_name: str, prefix: str) -> str:
    return enum_name[len(prefix) :].lower().replace("_", "-")


#: ``smarkets events`` LISTING -> the request class (undated, and a sport on a date).
_UNDATED: dict[str, type[EventsRequest]] = {
    _listing_name(seto_pb2.EventsRequestType.Name(cls.request_type), "EVENTS_REQUEST_"): cls
    for cls in UNDATED_REQUESTS
}
_SPORTS: dict[str, type[SportByDate]] = {
    _listing_name(seto_pb2.SportByDateType.Name(cls.sport_type), "SPORT_BY_DATE_"): cls
    for cls in SPORT_REQUESTS
}
#: The LISTING names ``smarkets events`` takes (besides ``all``), in order.
LISTINGS: list[str] = [*_UNDATED, *_SPORTS]


def read_password(
    user: str,
    host: str,
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> str:
    """The password: ``$SMARKETS_PASSWORD`` when set, else asked for without echo."""
    environ = os.environ if environ is None else environ
    password = environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    return prompt(f"Password for {user}@{host}: ")


def settings_from_args(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> SessionSettings:
    """The :class:`~smarkets.settings.SessionSettings` the connection options describe.

    Raises :class:`~smarkets.errors.SettingsError` for what the library refuses.
    """
    if not args.user:
        raise SettingsError(f"say which account to log in as: --user NAME or ${USER_VARIABLE}")
    if args.ca_file and not args.tls:
        raise SettingsError("--ca-file makes no sense with --no-tls")
    password = read_password(args.user, args.host, environ, prompt)
    settings = SessionSettings(args.user, password)
    settings.host = args.host
    settings.port = args.port
    settings.ssl = args.tls
    settings.socket_timeout = args.timeout
    if args.ca_file:
        settings.ssl_kwargs = {"ca_file": args.ca_file}
    return settings


def _configure_logging(args: argparse.Namespace, quiet: bool = False) -> None:
    """Log to stderr: warnings (only errors if ``quiet``), or more with ``-v``/``-vv``."""
    default = logging.ERROR if quiet else logging.WARNING
    level = {0: default, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def _client(args: argparse.Namespace, quiet: bool = False) -> Smarkets:
    _configure_logging(args, quiet)
    return Smarkets(Session(settings_from_args(args)))


def _request(client: Smarkets, name: str, timeout: float) -> Any:
    """Flush what is queued; read until the answer ``name`` to it arrives; return it."""
    seq = client.flush()[-1]
    answers: list[Any] = []

    def take(message: Any) -> None:
        # An answer names the request by its seq when it has the field (an extension of
        # account_state; orders_for_* have none): anything else is taken as the answer.
        if "seq" not in message.DESCRIPTOR.fields_by_name or not message.HasField("seq"):
            answers.append(message)
        elif message.seq == seq:
            answers.append(message)

    client.add_handler(name, take)
    try:
        deadline = time.monotonic() + timeout
        while not answers:
            if time.monotonic() > deadline:
                raise Error(f"no {name} from the exchange within {timeout:g}s")
            client.read()
    finally:
        client.del_handler(name, take)
    return answers[0]


def format_account(state: seto_pb2.AccountState | Account, user: str = "") -> list[str]:
    """The lines ``smarkets account`` prints for an account state.

    Without the protocol extensions the server does not say what is staked: it shows as
    ``unknown`` (and ``available`` is ``cash - exposure``).
    """
    account = state if isinstance(state, Account) else Account.from_message(state)
    rows = [
        ("cash", account.cash, "the balance, not counting stakes of matched bets"),
        ("exposure", account.exposure, "reserved by open orders"),
        ("available", account.available, "what new orders can use"),
        ("staked", account.staked, "stakes of matched bets, until their market settles"),
    ]
    places = 4 if any(amount is not None and amount % 100 for _, amount, _ in rows) else 2
    amounts = [
        "unknown" if amount is None else money_text(amount, account.currency, places)
        for _, amount, _ in rows
    ]
    width = max(len(text) for text in amounts)
    who = f" ({user})" if user else ""
    lines = [f"account {ids.uuid128_to_str(account.account, 'account')}{who}, {account.currency}"]
    for (label, _, meaning), text in zip(rows, amounts, strict=True):
        lines.append(f"  {label:<10} {text:>{width}}   {meaning}")
    return lines


_SIDES = {seto_pb2.SIDE_BUY: "buy", seto_pb2.SIDE_SELL: "sell"}


def format_orders(orders: Any) -> list[str]:
    """The lines ``smarkets orders`` prints: a table of the open orders and a count.

    ``orders`` is a ``seto.orders_for_account`` or ``seto.orders_for_market`` message (or
    the :class:`~smarkets.account.OpenOrder` rows of one).  Only good-til-cancelled orders
    rest on the book (what an immediate-or-cancel order does not match at once is
    cancelled), so every open order's time in force is GTC; the published ``OrderState``
    does not carry it.
    """
    infos: list[OpenOrder] = orders if isinstance(orders, list) else open_orders(orders)
    header = ("ORDER", "MARKET", "CONTRACT", "SIDE", "PRICE", "QUANTITY", "OPEN", "TIF", "REF")
    rows = [
        (
            ids.uuid128_to_str(info.order, "order"),
            ids.uuid128_to_str(info.market, "market"),
            ids.uuid128_to_str(info.contract, "contract"),
            _SIDES.get(info.side, str(info.side)),
            price_text(info.price),
            amount_text(info.quantity),
            amount_text(info.remaining),
            "GTC",
            info.reference or "-",
        )
        for info in infos
    ]
    count = len(rows)
    if not rows:
        return ["no open orders"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    align = "<<<<>>><<"
    lines = [
        "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.append(f"{count} open order{'s' if count != 1 else ''}")
    return lines


def format_listing(listing: seto_pb2.Events) -> list[str]:
    """The lines ``smarkets events`` prints for one listing: each event, its markets and
    their contracts, with their ids."""
    lines: list[str] = []
    parents = {ids.uuid128_to_int(p.event): p.name for p in listing.parents}
    for event in listing.with_markets:
        when = ""
        if event.HasField("start_date"):
            day = event.start_date
            when = f"  {day.year:04d}-{day.month:02d}-{day.day:02d}"
            if event.HasField("start_time"):
                when += f" {event.start_time.hour:02d}:{event.start_time.minute:02d} UTC"
        parent = ids.uuid128_to_int(event.parent) if event.HasField("parent") else None
        above = f"  ({parents[parent]})" if parent in parents else ""
        lines.append(f"{ids.uuid128_to_str(event.event, 'event')}  {event.name}{when}{above}")
        for market in event.markets:
            lines.append(f"  {ids.uuid128_to_str(market.market, 'market')}  {market.name}")
            for contract in market.contracts:
                text = ids.uuid128_to_str(contract.contract, "contract")
                lines.append(f"    {text}  {contract.name}")
    return lines


def _listing_requests(listing: str, day: datetime.date | None) -> list[EventsRequest]:
    if listing == "all":
        return catalogue_requests(day)
    if listing in _SPORTS:
        return [_SPORTS[listing](day or datetime.datetime.now(datetime.timezone.utc).date())]
    return [_UNDATED[listing]()]


def run_events(args: argparse.Namespace) -> int:
    """``smarkets events``: log in, fetch the listings asked for, print them, log out."""
    client = _client(args)
    client.login()
    try:
        listings = [
            (request, client.fetch_events(request, args.timeout))
            for request in _listing_requests(args.listing, args.date)
        ]
    finally:
        client.logout()
    for request, listing in listings:
        lines = format_listing(listing)
        if args.listing == "all" and not lines:
            continue
        print(f"# {_listing_label(request)}")
        print("\n".join(lines) if lines else "(nothing listed)")
    return 0


def _listing_label(request: EventsRequest) -> str:
    """``'football on 2026-12-05'``, ``'politics'``: a request as ``smarkets events``
    names it."""
    if isinstance(request, SportByDate):
        name = next(name for name, cls in _SPORTS.items() if isinstance(request, cls))
        return f"{name} on {request.date.isoformat()}"
    return next(name for name, cls in _UNDATED.items() if isinstance(request, cls))


def run_account(args: argparse.Namespace) -> int:
    """``smarkets account``: log in, ask for the account state, print it, log out."""
    client = _client(args)
    client.login()
    try:
        client.request_account_state()
        state = _request(client, "seto.account_state", args.timeout)
    finally:
        client.logout()
    print("\n".join(format_account(state, client.session.settings.username)))
    return 0


def run_orders(args: argparse.Namespace) -> int:
    """``smarkets orders``: log in, ask for the open orders, print them, log out."""
    client = _client(args)
    client.login()
    try:
        client.request_orders(args.market)
        name = "seto.orders_for_account" if args.market is None else "seto.orders_for_market"
        orders = _request(client, name, args.timeout)
    finally:
        client.logout()
    print("\n".join(format_orders(orders)))
    return 0


def run_watch(args: argparse.Namespace) -> int:
    """``smarkets watch``: the live view of :mod:`smarkets.watch` until Ctrl-C."""
    out = sys.stdout
    tty = out.isatty()
    # On a terminal the status line says what the warnings would, without breaking the screen.
    client = _client(args, quiet=tty)
    interval = args.interval if args.interval is not None else (0.2 if tty else 1.0)
    watch = Watch(
        client,
        args.market,
        out,
        tty=tty,
        interval=interval,
        width=lambda: shutil.get_terminal_size((100, 24)).columns,
    )
    code = watch.run()
    if code == 1 and watch.error:
        print(f"smarkets watch: error: {watch.error}", file=sys.stderr)
    return code
