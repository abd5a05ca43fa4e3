#!/usr/bin/env python3
"""A callback-driven market monitor: handlers do everything, the main loop only reads.

Run it against a sandbox exchange (``python -m smarkets.sandbox`` prints its CA file, port
and demo accounts)::

    SMARKETS_PASSWORD=alice-pw python examples/monitor.py --port 3701 --ca-file FILE \\
        --market 1c024 --count 20

It asks for the market catalogue the published way, one ``events_request`` per listing; the
handler of ``seto.http_found`` fetches each listing (``client.fetch_http_found``), and once
every listing has been answered it picks the market (``--market``, by id or name, or the
first listed) and subscribes to it. From then on the client keeps
the market's book by itself (``client.book(market)``), already updated when a handler
runs, so the quote handlers only compare each contract's best bid, best offer and last trade
with what they printed before and print a line when something moved::

    12:00:01.250  1cccc Arsenal  bid 45.00% for 12.00  offer 47.00% for 3.50
                  last 46.00% x 2.00  volume 25.00

(on one line).
It stops after ``--count`` such lines (0: never), or at Ctrl-C, and logs out; the handler of
``eto.logout`` reports the end of the session, whoever ended it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _connect import add_connection_arguments, session_settings

import smarkets
from smarkets.book import ContractBook
from smarkets.catalogue import Catalogue, ListedMarket, catalogue_requests
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.units import amount_text, price_text


def level_text(level: Any) -> str:
    """``'45.00% for 12.00'``, or ``'-'`` for an empty side."""
    return (
        "-" if level is None else f"{price_text(level.price)} for {amount_text(level.quantity, 2)}"
    )


class Monitor:
    """The handlers, and what they remember between calls."""

    def __init__(self, client: smarkets.Smarkets, wanted: str | None, count: int) -> None:
        self.client = client
        self.wanted = wanted
        self.count = count
        self.info: ListedMarket | None = None
        #: The listings fetched so far, and how many are still to be answered.
        self.catalogue = Catalogue()
        self.unanswered = 0
        self.lines = 0
        #: Contract id -> (best bid, best offer, last trade) as last printed.
        self.shown: dict[str, tuple[Any, Any, Any]] = {}
        #: Set by a handler when it is time to stop.
        self.done = False
        #: Set by a handler when the market could not be watched.
        self.failed = False
        client.add_handler("seto.http_found", self.on_http_found)
        client.add_handler("seto.invalid_request", self.on_invalid_request)
        client.add_handler("seto.market_quotes", self.on_market_quotes)
        client.add_handler("seto.contract_quotes", self.on_contract_quotes)
        client.add_handler("seto.market_state", self.on_market_state)
        client.add_handler("seto.market_subscribe_rejected", self.on_subscribe_rejected)
        client.add_handler("eto.logout", self.on_logout)

    # -- handlers -------------------------------------------------------------------------------

    def ask_for_the_catalogue(self) -> None:
        """Ask for every listing (each sport today, other sport, politics, ...)."""
        for request in catalogue_requests():
            self.client.request_events(request)
            self.unanswered += 1
        self.client.flush()

    def on_http_found(self, found: seto_pb2.HttpFound) -> None:
        """A listing's URL: fetch it (over HTTPS, verified as the stream is)."""
        self.catalogue.add(self.client.fetch_http_found(found))
        self.answered()

    def on_invalid_request(self, message: seto_pb2.InvalidRequest) -> None:
        """A listing the exchange does not serve (a day outside the ones it lists)."""
        self.answered()

    def answered(self) -> None:
        """Once every listing is in: choose the market and subscribe to it."""
        self.unanswered -= 1
        if self.unanswered:
            return
        if self.wanted is not None:
            self.info = self.catalogue.find(self.wanted)
        else:
            self.info = next(iter(self.catalogue), None)
        if self.info is None:
            what = repr(self.wanted) if self.wanted else "listed"
            print(f"no {what} market in the catalogue", file=sys.stderr)
            self.done = self.failed = True
            return
        print(f"subscribing to {self.info.event} / {self.info.name} ({self.info.id})")
        self.client.subscribe(self.info.id)
        self.client.flush()

    def on_market_quotes(self, snapshot: seto_pb2.MarketQuotes) -> None:
        """The snapshot: the book is complete; show every contract."""
        book = self.client.book(snapshot.market)
        if self.info is None or book is None or book.id != self.info.id:
            return
        if snapshot.HasField("state"):  # an extension field
            state = seto_pb2.MarketStatus.Name(snapshot.state).removeprefix("MARKET_STATUS_")
            print(f"snapshot: {len(book)} contracts, market {state.lower()}")
        else:
            print(f"snapshot: {len(book)} contracts")
        for contract in book:
            self.show(contract)

    def on_contract_quotes(self, update: seto_pb2.ContractQuotes) -> None:
        """An update (already applied to the book): show the contract if its prices moved."""
        # The published update names only the contract: look in our market's book.
        book = self.client.book(self.info.id) if self.info is not None else None
        if book is None:
            return
        contract = book.get(update.contract)
        if contract is not None:
            self.show(contract)

    def on_market_state(self, message: seto_pb2.MarketState) -> None:
        """The market was halted, reopened or settled."""
        if self.info is None or smarkets.uuid_to_str(message.market, "market") != self.info.id:
            return
        state = seto_pb2.MarketStatus.Name(message.state).removeprefix("MARKET_STATUS_")
        print(f"market {self.info.id} is now {state.lower()}")
        if message.state == seto_pb2.MARKET_STATUS_SETTLED:
            self.done = True

    def on_subscribe_rejected(self, message: seto_pb2.MarketSubscribeRejected) -> None:
        """The exchange has no such market."""
        market = smarkets.uuid_to_str(message.market, "market")
        print(f"subscription refused: no market {market}", file=sys.stderr)
        self.done = self.failed = True

    def on_logout(self, message: eto_pb2.Payload) -> None:
        """The session ended: our logout confirmed, or the exchange's own logout."""
        reason = eto_pb2.LogoutReason.Name(message.logout.reason).removeprefix("LOGOUT_")
        print(f"logged out ({reason.lower()})")
        self.done = True

    # -- output ---------------------------------------------------------------------------------

    def show(self, contract: ContractBook) -> None:
        """Print the contract's line if its best prices or last trade changed."""
        if self.done:
            return  # what still arrives while logging out
        bid, offer = contract.best_bid_offer()
        last = contract.last_trade
        now = (bid, offer, last)
        if self.shown.get(contract.id) == now:
            return
        self.shown[contract.id] = now
        assert self.info is not None
        name = self.info.contracts.get(contract.id, "")
        trade = (
            "-" if last is None else f"{price_text(last.price)} x {amount_text(last.quantity, 2)}"
        )
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
        volume = amount_text(contract.volume, 2)
        print(
            f"{stamp}  {contract.id} {name:<12} bid {level_text(bid):<16} "
            f"offer {level_text(offer):<16} last {trade:<15} volume {volume}"
        )
        self.lines += 1
        if self.count and self.lines >= self.count:
            self.done = True


def main(argv: list[str] | None = None) -> int:
    """Parse the options, log in, read until done, log out; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Print a line whenever a contract's best prices or last trade move."
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--count",
        type=int,
        default=0,
        metavar="N",
        help="stop after N price lines (%(default)s: run until Ctrl-C)",
    )
    args = parser.parse_args(argv)
    try:
        settings = session_settings(args)
    except smarkets.SettingsError as exc:
        parser.error(str(exc))
    client = smarkets.Smarkets(smarkets.Session(settings))
    monitor = Monitor(client, args.market, args.count)
    try:
        client.login()
        monitor.ask_for_the_catalogue()
        while not monitor.done:
            try:
                client.read()
            except smarkets.SocketTimeout:
                continue  # a quiet market; heartbeats keep the session alive
    except KeyboardInterrupt:
        print("interrupted")
    except smarkets.SessionEndedError:
        return 1  # the eto.logout handler has said why
    except smarkets.Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if client.session.logged_in:
        client.logout()
    return 1 if monitor.failed else 0


if __name__ == "__main__":
    sys.exit(main())
