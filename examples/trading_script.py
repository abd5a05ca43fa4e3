#!/usr/bin/env python3
"""A complete trading script: log in, look at a market, trade, check the account, log out.

Run it against a sandbox exchange of your own (``make demo`` does all of this for you)::

    python -m smarkets.sandbox     # prints "CA certificate: FILE", its port and demo accounts
    SMARKETS_PASSWORD=alice-pw python examples/trading_script.py --port 3701 --ca-file FILE

What it does, in order:

1. logs in (TLS by default; the password comes from ``$SMARKETS_PASSWORD`` or a prompt);
2. fetches the market catalogue the published way (an ``events_request`` for each listing,
   answered with the URL of a ``seto.Events`` fetched over HTTPS) and picks a market: the
   first listed, or ``--market``;
3. subscribes to the market (it must be open) and shows the best bid and offer of each
   contract;
4. buys at the best offer, immediate-or-cancel, so that the order fills at once (waiting for
   someone to offer first if nobody does yet);
5. places a buy far below the market, which rests on the book, then cancels it;
6. asks for the account's state: cash, exposure, available and staked;
7. logs out.

The script is single-threaded. Requests are queued (``client.order(...)``,
``client.subscribe(...)``, ...) and sent by ``client.flush()``; ``client.read()`` waits for
the next payload from the exchange and hands it to the handlers registered for it, and, for a
reply about an order, to that order's own callbacks. Every wait below is a ``read()`` loop
with a plain condition on what the handlers have recorded: no sleeps.

Units (PROTOCOL.md): prices are percent odds in basis points (2500 is 25.00%); quantities are
payouts in 1/10,000 of the currency (400000 is 40.00 paid if the bet wins); money is integer
1/10,000 units as well. Never floats.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _connect import add_connection_arguments, session_settings

import smarkets
from smarkets.catalogue import Catalogue, ListedMarket, fetch_catalogue
from smarkets.proto import seto_pb2

#: The payout to buy at the best offer: 10.00 (in 1/10,000 of the currency).
FILL_QUANTITY = 100_000
#: The payout of the order left resting far from the market: 10.00.
RESTING_QUANTITY = 100_000
#: How many times to try again when the offer is gone before the order reaches it.
FILL_ATTEMPTS = 3


# -- display ---------------------------------------------------------------------------------


def price_text(price: int) -> str:
    """A price in basis points as a percentage: 2500 -> ``'25.00%'``."""
    return f"{price // 100}.{price % 100:02d}%"


def amount_text(amount: int, places: int | None = None) -> str:
    """A quantity or a sum of money in 1/10,000 units: 400000 -> ``'40.00'``.

    ``places`` is 2 or 4 decimals; by default 2, or 4 when the amount has a fraction of a
    penny (12345 -> ``'1.2345'``), so that what is shown is always exact.
    """
    if places is None:
        places = 4 if amount % 100 else 2
    sign = "-" if amount < 0 else ""
    units, fraction = divmod(abs(amount), 10_000)
    if places == 4:
        return f"{sign}{units}.{fraction:04d}"
    return f"{sign}{units}.{fraction // 100:02d}"


def quote_text(quote: tuple[int, int] | None) -> str:
    """A price level as ``'33.10% for 120.00'``, or ``'-'`` when there is none."""
    if quote is None:
        return "-"
    price, quantity = quote
    return f"{price_text(price)} for {amount_text(quantity)}"


def enum_text(enum: Any, value: int, prefix: str) -> str:
    """An enum value in words: ``ORDER_REJECTED_INSUFFICIENT_FUNDS`` -> 'insufficient funds'.

    ``enum`` is one of the schema's enums, e.g. ``seto_pb2.OrderRejectedReason``.
    """
    name: str = enum.Name(value)
    return name.removeprefix(prefix).replace("_", " ").lower()


# -- what the script knows about the market ----------------------------------------------------


class Book:
    """One contract's bids and offers (price -> quantity), kept up to date from market data."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bids: dict[int, int] = {}
        self.offers: dict[int, int] = {}

    def apply(self, quotes: seto_pb2.ContractQuotes, snapshot: bool) -> None:
        """Take in a contract's quotes: the whole book (snapshot) or the levels that changed."""
        if snapshot:
            self.bids.clear()
            self.offers.clear()
        for levels, side in ((quotes.bids, self.bids), (quotes.offers, self.offers)):
            for level in levels:
                if level.quantity:
                    side[level.price] = level.quantity
                else:  # an update with quantity 0: the level is gone
                    side.pop(level.price, None)

    def best_bid(self) -> tuple[int, int] | None:
        """The highest bid as (price, quantity), or None."""
        if not self.bids:
            return None
        price = max(self.bids)
        return price, self.bids[price]

    def best_offer(self) -> tuple[int, int] | None:
        """The lowest offer as (price, quantity), or None."""
        if not self.offers:
            return None
        price = min(self.offers)
        return price, self.offers[price]


class Market:
    """The market being traded: its contracts' books and its state, fed by the handlers."""

    def __init__(self, listed: ListedMarket) -> None:
        self.id = listed.id
        self.name = listed.name
        self.event_name = listed.event
        #: The market's state (``seto.MarketStatus``) once the snapshot says (an extension
        #: field: a server without extensions does not say, and halts show as cancels).
        self.state: int | None = None
        #: Contract id (tagged hex) -> its book, in the catalogue's order.
        self.books = {contract: Book(name) for contract, name in listed.contracts.items()}
        self.snapshot_seen = False

    def on_market_quotes(self, message: seto_pb2.MarketQuotes) -> None:
        """Handler of ``seto.market_quotes``: the whole market, in answer to subscribe."""
        if smarkets.uuid_to_str(message.market, "market") != self.id:
            return
        for quotes in message.contract_quotes:
            self._book(quotes).apply(quotes, snapshot=True)
        if message.HasField("state"):
            self.state = message.state
        self.snapshot_seen = True

    def on_contract_quotes(self, message: seto_pb2.ContractQuotes) -> None:
        """Handler of ``seto.contract_quotes``: what changed in one contract's book.

        The published message names only the contract: it is ours if our market lists it.
        """
        if smarkets.uuid_to_str(message.contract, "contract") in self.books:
            self._book(message).apply(message, snapshot=False)

    def on_market_state(self, message: seto_pb2.MarketState) -> None:
        """Handler of ``seto.market_state``: the market was halted, reopened or settled."""
        if smarkets.uuid_to_str(message.market, "market") == self.id:
            self.state = message.state
            status = enum_text(seto_pb2.MarketStatus, message.state, "MARKET_STATUS_")
            print(f"  (the exchange says: market {self.id} is now {status})")

    def _book(self, quotes: seto_pb2.ContractQuotes) -> Book:
        contract = smarkets.uuid_to_str(quotes.contract, "contract")
        return self.books.setdefault(contract, Book(contract))

    def best_offer(self) -> tuple[str, tuple[int, int]] | None:
        """The first contract (in catalogue order) that has an offer, with its best offer."""
        for contract, book in self.books.items():
            offer = book.best_offer()
            if offer is not None:
                return contract, offer
        return None

    def print_prices(self) -> None:
        """Print each contract's best bid and best offer."""
        width = max(len("contract"), *(len(book.name) for book in self.books.values())) + 2
        print(f"  {'contract':<{width}}{'best bid (buyers)':<22}best offer (sellers)")
        for book in self.books.values():
            bid, offer = quote_text(book.best_bid()), quote_text(book.best_offer())
            print(f"  {book.name:<{width}}{bid:<22}{offer}")


# -- order callbacks ---------------------------------------------------------------------------
#
# Each Order can carry its own callbacks, called with (order, message) when the exchange
# answers about that order. The client has already brought order.state, order.id,
# order.filled and order.remaining up to date when they are called.


def on_accepted(order: smarkets.Order, message: seto_pb2.OrderAccepted) -> None:
    print(f"  accepted: order {smarkets.uuid_to_str(message.order, 'order')}")


def on_executed(order: smarkets.Order, message: seto_pb2.OrderExecuted) -> None:
    # The client keeps order.remaining (the fill says only its own price and quantity).
    print(
        f"  executed: {amount_text(message.quantity)} at {price_text(message.price)}; "
        f"{amount_text(order.remaining or 0)} still open"
    )


def on_cancelled(order: smarkets.Order, message: seto_pb2.OrderCancelled) -> None:
    reason = enum_text(seto_pb2.OrderCancelledReason, message.reason, "ORDER_CANCELLED_")
    print(f"  cancelled: {amount_text(order.cancelled_quantity or 0)} ({reason})")


def on_rejected(order: smarkets.Order, message: seto_pb2.OrderRejected) -> None:
    reason = enum_text(seto_pb2.OrderRejectedReason, message.reason, "ORDER_REJECTED_")
    print(f"  rejected by the exchange: {reason}")


def on_invalid(order: smarkets.Order, message: seto_pb2.OrderInvalid) -> None:
    reasons = [
        enum_text(seto_pb2.OrderInvalidReason, reason, "ORDER_INVALID_")
        for reason in message.reasons
    ]
    print(f"  invalid: {', '.join(reasons)}")


def new_order(
    market: Market, contract: str, price: int, quantity: int, time_in_force: int, reference: str
) -> smarkets.Order:
    """A BUY order with the callbacks above."""
    return smarkets.Order(
        quantity=quantity,
        price=price,
        side=smarkets.Order.BUY,
        market=market.id,
        contract=contract,
        time_in_force=time_in_force,
        reference=reference,  # our own label, echoed in every reply about the order
        on_accepted=on_accepted,
        on_executed=on_executed,
        on_cancelled=on_cancelled,
        on_rejected=on_rejected,
        on_invalid=on_invalid,
    )


# -- the steps ---------------------------------------------------------------------------------


def request_account_state(client: smarkets.Smarkets) -> smarkets.account.Account:
    """Ask for the account's state and wait for the answer to that very request.

    ``client.account`` holds it with money in 1/10,000 of the currency (the wire's
    ``Decimal`` amounts converted exactly)."""
    states: list[seto_pb2.AccountState] = []
    client.add_handler("seto.account_state", states.append)
    client.request_account_state()
    (seq,) = client.flush()  # flush() gives each payload sent its seq ...

    # ... and with the extensions a reply names the request it answers by that seq.
    def answers(state: seto_pb2.AccountState) -> bool:
        return not state.HasField("seq") or state.seq == seq

    while not any(answers(state) for state in states):
        client.read()
    client.del_handler("seto.account_state", states.append)
    return smarkets.account.Account.from_message(next(s for s in states if answers(s)))


def choose_market(catalogue: Catalogue, wanted: str | None) -> Market:
    """Print the catalogue; return the market named by ``wanted`` (id or name) or the first
    listed. ``LookupError`` if there is none."""
    markets = list(catalogue)
    id_width = max((len(m.id) for m in markets), default=0) + 2
    name_width = max((len(m.name) for m in markets), default=0) + 2
    print("Markets:")
    event = None
    for market in markets:
        if market.event_id != event:
            event = market.event_id
            print(f"  {market.event}")
        contracts = " | ".join(market.contracts.values())
        print(f"    {market.id:<{id_width}}{market.name:<{name_width}}{contracts}")
    chosen = catalogue.find(wanted) if wanted else next(iter(markets), None)
    if chosen is None:
        raise LookupError(
            f"no market {wanted!r} in the catalogue" if wanted else "nothing is listed"
        )
    return Market(chosen)


def wait_for_offer(
    client: smarkets.Smarkets, market: Market, wait: float
) -> tuple[str, tuple[int, int]]:
    """The first contract with an offer and its best offer; read market data until there is
    one (``TimeoutError`` after ``wait`` seconds)."""
    found = market.best_offer()
    if found is None:
        print("  Nobody offers anything yet: waiting for a seller ...")
        deadline = time.monotonic() + wait
        while found is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nobody offered anything in market {market.id} in {wait:g}s")
            client.read()  # a book update, a heartbeat...: look again
            found = market.best_offer()
    return found


def buy_at_best_offer(client: smarkets.Smarkets, market: Market, wait: float) -> smarkets.Order:
    """Buy at the best offer, immediate-or-cancel, until something fills; return the order.

    Between the moment we see an offer and the moment our order reaches the exchange, the
    seller may have taken it back. An IMMEDIATE_OR_CANCEL order then simply comes back
    cancelled, and we try again at the new best offer.
    """
    for attempt in range(1, FILL_ATTEMPTS + 1):
        contract, (price, offered) = wait_for_offer(client, market, wait)
        quantity = max(smarkets.Order.MIN_QUANTITY, min(FILL_QUANTITY, offered))
        name = market.books[contract].name
        print(
            f"\nBuy {amount_text(quantity)} of {name} at {price_text(price)}, the best offer,"
            " immediate-or-cancel:"
        )
        order = new_order(
            market, contract, price, quantity, smarkets.Order.IMMEDIATE_OR_CANCEL, f"buy-{attempt}"
        )
        client.order(order)  # checks the order and queues it
        client.flush()  # sends it
        while not order.done:  # filled, cancelled, rejected or invalid
            client.read()
        if order.filled or order.state in ("rejected", "invalid"):
            return order
        print("  The offer was gone before our order reached it: trying again.")
    return order


def rest_and_cancel(
    client: smarkets.Smarkets, market: Market, contract: str, reference_price: int
) -> smarkets.Order:
    """Place a buy far below ``reference_price`` (it rests on the book), then cancel it."""
    # Half the price, in whole percent: nobody is going to sell down there.
    price = max(smarkets.Order.MIN_PRICE, reference_price // 2 // 100 * 100)
    name = market.books[contract].name
    print(
        f"\nBuy {amount_text(RESTING_QUANTITY)} of {name} at {price_text(price)}, far below"
        " the market, good-til-cancelled:"
    )
    order = new_order(
        market, contract, price, RESTING_QUANTITY, smarkets.Order.GOOD_TIL_CANCELLED, "rest"
    )
    client.order(order)
    client.flush()
    while order.state == "sent":  # until accepted (or refused)
        client.read()
    if order.state != "accepted":
        return order
    print("  It rests on the book. Cancel it:")

    # A cancel that comes too late (the order filled meanwhile) is answered by
    # order_cancel_rejected instead of order_cancelled.
    refusals: list[seto_pb2.OrderCancelRejected] = []

    def on_cancel_rejected(message: seto_pb2.OrderCancelRejected) -> None:
        refusals.append(message)
        reason = enum_text(
            seto_pb2.OrderCancelRejectedReason, message.reason, "ORDER_CANCEL_REJECTED_"
        )
        print(f"  cancel refused: {reason}")

    client.add_handler("seto.order_cancel_rejected", on_cancel_rejected)
    client.cancel(order)
    (seq,) = client.flush()
    while not order.done and not any(refusal.seq == seq for refusal in refusals):
        client.read()
    client.del_handler("seto.order_cancel_rejected", on_cancel_rejected)
    return order


def print_account(state: smarkets.account.Account) -> None:
    """Print an account state, amounts as currency."""
    rows = [
        ("cash", state.cash, "the balance, not counting the stakes of matched bets"),
        ("exposure", state.exposure, "reserved by open orders"),
        ("available", state.available, "what new orders can use"),
        ("staked", state.staked, "stakes of matched bets, held until their market settles"),
    ]
    # Money is counted in 1/10,000 of the currency: show 4 decimals if a penny is split.
    places = 4 if any(amount is not None and amount % 100 for _, amount, _ in rows) else 2
    print(f"\nAccount ({state.currency}):")
    for label, amount, meaning in rows:
        shown = "unknown" if amount is None else amount_text(amount, places)
        print(f"  {label:<10}{shown:>12}   {meaning}")
    if places == 4:
        print(f"  (exact amounts: the exchange counts money in 1/10,000 of a {state.currency})")


def trade(client: smarkets.Smarkets, args: argparse.Namespace) -> int:
    """Steps 1-7 of the module docstring; returns the exit status."""
    settings = client.session.settings
    transport = "TLS" if settings.ssl else "plain TCP, no TLS"
    print(f"Logging in to {settings.address} as {settings.username} ({transport}) ...")
    client.login()
    print(f"Logged in: session {client.session.session}.")
    before = request_account_state(client)
    print(f"Available to trade: {amount_text(before.available)} {before.currency}.\n")

    # The catalogue: events -> markets -> contracts, from every listing of today.
    try:
        market = choose_market(fetch_catalogue(client), args.market)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        client.logout()
        print("Logged out.")
        return 2

    # Market data: a snapshot of every contract's book in answer to the subscription, then
    # an update for every change. The Market object keeps its books up to date from both.
    client.add_handler("seto.market_quotes", market.on_market_quotes)
    client.add_handler("seto.contract_quotes", market.on_contract_quotes)
    client.add_handler("seto.market_state", market.on_market_state)
    client.subscribe(market.id)
    client.flush()
    while not market.snapshot_seen:
        client.read()
    if market.state not in (None, seto_pb2.MARKET_STATUS_OPEN):
        status = enum_text(seto_pb2.MarketStatus, market.state, "MARKET_STATUS_")
        print(f"error: market {market.id} {market.name!r} is {status}, not open", file=sys.stderr)
        client.logout()
        print("Logged out.")
        return 2
    print(f"\nTrading {market.id} {market.name} ({market.event_name}). Best prices now:")
    market.print_prices()
    print(
        "  (A price is the chance of winning, in percent; a quantity is what a bet pays out"
        " if it wins.)"
    )

    # An order that fills: buy at the best offer.
    bought = buy_at_best_offer(client, market, args.wait)
    if not bought.filled:
        print("error: nothing was bought", file=sys.stderr)
        client.logout()
        print("Logged out.")
        return 1
    assert bought.contract is not None and bought.price is not None
    contract = smarkets.uuid_to_str(bought.contract, "contract")
    name = market.books[contract].name
    print(f"  Filled: we hold a bet that pays {amount_text(bought.filled)} if {name} wins.")

    # An order that rests, and its cancellation.
    resting = rest_and_cancel(client, market, contract, bought.price)

    # The account afterwards.
    print_account(request_account_state(client))

    client.logout()
    print("\nLogged out.")
    return 1 if resting.state in ("rejected", "invalid") else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, connect, trade; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Log in, look at a market, buy at the best offer, place and cancel a"
        " resting order, show the account, log out."
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for someone to offer, if nobody does yet (%(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        settings = session_settings(args)
    except smarkets.SettingsError as exc:
        parser.error(str(exc))
    client = smarkets.Smarkets(smarkets.Session(settings))
    try:
        return trade(client, args)
    except smarkets.LoginError:
        print("error: the exchange refused the login: wrong user name or password", file=sys.stderr)
    except (smarkets.Error, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    if client.session.logged_in:
        client.logout()
        print("Logged out.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
