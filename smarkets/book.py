"""The client's copy of the order books of the markets it subscribes to.

A subscription is answered by a ``seto.market_quotes`` snapshot carrying every
contract's whole book; after it, each ``seto.contract_quotes`` carries only the
price levels that changed, each with its new total quantity (0: the level is
gone) and the trades since the previous update.  :class:`Books` applies them,
so that a script reads prices instead of decoding messages::

    client.subscribe("1c024")
    client.flush()
    client.read()                          # the snapshot
    book = client.book("1c024")            # a MarketBook
    bid, offer = book.best_bid_offer("1cccc")
    if bid is not None:
        print(bid.price, bid.quantity)     # 4500 120000: 45.00%, 12.00 payout
    book.depth("1cccc", levels=3)          # Depth(bids=[...], offers=[...]), best first
    book.last_trade("1cccc"), book.volume("1cccc")

:class:`~smarkets.client.Smarkets` keeps a :class:`Books` in ``client.books`` and
applies every ``market_quotes``, ``contract_quotes`` and ``market_state`` to it
*before* the handlers for that payload run, so a handler sees the book with
the payload already applied.

Rules:

* A snapshot replaces the market's books (the :class:`MarketBook` and
  :class:`ContractBook` objects stay the same, so references held by a script
  stay live).
* An update for a market without a snapshot yet is ignored (counted in
  :attr:`Books.ignored`): it cannot be applied to a book the client does not
  have, and the snapshot that follows the subscription carries it anyway.
* An update for a contract the snapshot did not list, in a market the client
  has, starts a book for it (an update of an empty book is the book itself).
* :meth:`Smarkets.unsubscribe <smarkets.client.Smarkets.unsubscribe>` drops the
  market's book at once; the updates still in flight are then ignored.
* When a new session starts (a login response naming another session id),
  every book is dropped: the new session has no subscriptions.  A *resumed*
  session keeps its books, since the server replays what was missed.

Cost: an update costs O(levels changed × log levels) and copies nothing else;
reading the best bid or offer is O(1), a depth of ``n`` levels O(n).

Threads: books are changed by the thread that reads (inside
:meth:`~smarkets.client.Smarkets.read`); read them from that thread, e.g. from
handlers.

What the published schema (seto v0.6.4) does not carry is made up locally:

* ``contract_quotes`` names only the contract: its market is the one whose
  snapshot listed it (the extension field ``market``, when the server sends it,
  also lets an update start a book for a contract the snapshot did not list).
* The contract's traded ``volume`` is the exchange's total when the server sends
  the extension field ``volume``; without it, it is the sum of the executions
  this client has seen since it took the snapshot (a lower bound of the total).
* Quote quantities are uint32 on the wire: a level whose total is above
  4,294,967,295 is sent as exactly 4,294,967,295 (:data:`SATURATED_QUANTITY`), so
  a level showing that quantity means "at least that much".
* A market's ``state`` comes from the extension ``market_state`` payloads (and the
  extension field of a snapshot); without extensions it stays ``None`` and halts
  show up as orders cancelled MARKET_HALTED.

Ids may be given as ``Uuid128``, tagged hex (``"1cccc"``) or ``int``
everywhere.  Prices are basis points of percent odds, quantities payoff
amounts in 1/10,000 of the currency, as on the wire.

The module is over 500 lines because it keeps the three levels of one book together
(a contract's, a market's, the client's index of them), which share a private
representation of a side of a book and of ids as keys, and this page of rules.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from smarkets.errors import Error
from smarkets.proto import seto_pb2
from smarkets.protocol import ids

__all__ = [
    "BOOK_HANDLER_NAMES",
    "DEFAULT_MAX_EXECUTIONS",
    "Books",
    "ContractBook",
    "Depth",
    "Level",
    "MarketBook",
    "SATURATED_QUANTITY",
    "Trade",
    "UnknownContractError",
]

log = logging.getLogger("smarkets.book")

#: How many recent trades a :class:`ContractBook` keeps.
DEFAULT_MAX_EXECUTIONS = 100

#: The handler names whose payloads :meth:`Books.apply` uses.
BOOK_HANDLER_NAMES = frozenset(
    {"seto.market_quotes", "seto.contract_quotes", "seto.market_state", "eto.login_response"}
)

_MASK64 = (1 << 64) - 1

#: A level's quantity as sent when its total does not fit the wire's uint32: the level
#: holds at least this much.
SATURATED_QUANTITY = (1 << 32) - 1

IdLike = seto_pb2.Uuid128 | str | int
_Key = tuple[int, int]


class UnknownContractError(Error, KeyError):
    """The market's book has no such contract."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


class Level(NamedTuple):
    """One price level: the total ``quantity`` available at ``price``."""

    #: Percent odds in basis points (2500 = 25.00%).
    price: int
    #: Payoff amount in 1/10,000 of the currency.
    quantity: int


class Trade(NamedTuple):
    """A public trade on a contract, as the exchange reported it."""

    price: int
    quantity: int
    #: The side of the order that took liquidity (``seto.SIDE_BUY``/``SIDE_SELL``): the
    #: execution's ``liquidity``.
    side: int | None
    #: Microseconds since the Unix epoch: the execution's ``microseconds``.
    timestamp: int | None


class Depth(NamedTuple):
    """The best levels of a book: ``bids`` highest first, ``offers`` lowest first."""

    bids: list[Level]
    offers: list[Level]


def _key(value: IdLike, kind: str) -> _Key:
    """``(low, high)`` of an id given as ``Uuid128``, tagged hex or ``int``."""
    if isinstance(value, seto_pb2.Uuid128):
        return (value.low, value.high)
    number = ids.to_int(value, kind)
    return (number & _MASK64, number >> 64)


def _key_text(key: _Key, kind: str) -> str:
    return ids.uuid128_to_str(key[0] | key[1] << 64, kind)


class _Side:
    """One side of a book: price -> quantity, and the prices kept sorted (ascending)."""

    __slots__ = ("prices", "quantities")

    def __init__(self) -> None:
        self.quantities: dict[int, int] = {}
        self.prices: list[int] = []

    def update(self, quotes: Any) -> None:
        """Apply changed levels (``seto.Quote``\\ s): the new quantity at each price, 0 for gone.

        On the hot path: one call per side, not per level. The quotes are taken by index,
        which costs upb less than an iterator does (about 30 ns a level, measured).
        """
        quantities = self.quantities
        prices = self.prices
        for index in range(len(quotes)):
            quote = quotes[index]
            price = quote.price
            quantity = quote.quantity
            if quantity:
                if price not in quantities:
                    insort(prices, price)
                quantities[price] = quantity
            elif quantities.pop(price, None) is not None:
                del prices[bisect_left(prices, price)]

    def replace(self, quotes: Any) -> None:
        quantities = {q.price: q.quantity for q in quotes if q.quantity}
        self.quantities = quantities
        self.prices = sorted(quantities)

    def levels(self, count: int | None, descending: bool) -> list[Level]:
        prices = self.prices
        quantities = self.quantities
        if descending:
            chosen = prices[::-1] if count is None else prices[: -count - 1 : -1]
        else:
            chosen = prices if count is None else prices[:count]
        return [Level(price, quantities[price]) for price in chosen]


class ContractBook:
    """The book of one contract: bids, offers, recent trades and traded volume."""

    __slots__ = ("_bids", "_offers", "_owner", "_trades", "contract", "market", "updates", "volume")

    def __init__(
        self, contract: int, market: int, max_executions: int = DEFAULT_MAX_EXECUTIONS
    ) -> None:
        # The MarketBook this book belongs to (set by it), to count its updates.
        self._owner: MarketBook | None = None
        #: The contract's id (a number; :attr:`id` is its tagged hex).
        self.contract = contract
        #: The market's id (a number).
        self.market = market
        self._bids = _Side()
        self._offers = _Side()
        # Plain (price, quantity, side, timestamp) tuples: a Trade is made when one is read,
        # which costs a fifth of making one per execution received.
        self._trades: deque[tuple[int, int, int | None, int | None]] = deque(maxlen=max_executions)
        #: Total quantity traded on the contract: as the exchange last reported it (an
        #: extension), else the sum of the executions seen since the snapshot.
        self.volume = 0
        #: How many snapshots and updates were applied: it changes whenever the book may have.
        self.updates = 0

    @property
    def id(self) -> str:
        """The contract's id as tagged hex, e.g. ``'1cccc'``."""
        return ids.uuid128_to_str(self.contract, "contract")

    @property
    def best_bid(self) -> Level | None:
        """The highest bid, or ``None`` when there is none."""
        side = self._bids
        if not side.prices:
            return None
        price = side.prices[-1]
        return Level(price, side.quantities[price])

    @property
    def best_offer(self) -> Level | None:
        """The lowest offer, or ``None`` when there is none."""
        side = self._offers
        if not side.prices:
            return None
        price = side.prices[0]
        return Level(price, side.quantities[price])

    def best_bid_offer(self) -> tuple[Level | None, Level | None]:
        """``(best bid, best offer)``; either is ``None`` when that side is empty."""
        return self.best_bid, self.best_offer

    def bids(self, levels: int | None = None) -> list[Level]:
        """The bids, highest first: the best ``levels`` of them, or all."""
        return self._bids.levels(levels, descending=True)

    def offers(self, levels: int | None = None) -> list[Level]:
        """The offers, lowest first: the best ``levels`` of them, or all."""
        return self._offers.levels(levels, descending=False)

    def depth(self, levels: int | None = 5) -> Depth:
        """The best ``levels`` bids and offers (``None``: all of them), best first."""
        return Depth(self.bids(levels), self.offers(levels))

    @property
    def last_trade(self) -> Trade | None:
        """The most recent trade, or ``None`` when none was seen."""
        trades = self._trades
        return Trade._make(trades[-1]) if trades else None

    @property
    def executions(self) -> list[Trade]:
        """The recent trades, oldest first (at most ``max_executions`` of them)."""
        return list(map(Trade._make, self._trades))

    def _snapshot(self, quotes: seto_pb2.ContractQuotes) -> None:
        """Replace the book by a snapshot's."""
        self._bids.replace(quotes.bids)
        self._offers.replace(quotes.offers)
        executions = quotes.executions
        if executions:
            self._trades.clear()
            self._add_trades(executions)
        if quotes.HasField("volume"):
            self.volume = quotes.volume
        elif not self.updates and executions:
            # A new book, and no total from the exchange: count what the snapshot shows
            # (a snapshot of a book this client already had shows trades it counted).
            self.volume = sum(execution.quantity for execution in executions)
        self.updates += 1

    def _update(self, quotes: seto_pb2.ContractQuotes) -> None:
        """Apply an update: changed levels, new trades, volume.

        On the hot path: each repeated field is fetched once (a protobuf field
        access costs more than the dict work it feeds).
        """
        self._bids.update(quotes.bids)
        self._offers.update(quotes.offers)
        executions = quotes.executions
        if executions:
            self._add_trades(executions)
        if quotes.HasField("volume"):
            self.volume = quotes.volume
        elif executions:
            self.volume += sum(execution.quantity for execution in executions)
        self.updates += 1

    def _add_trades(self, executions: Any) -> None:
        append = self._trades.append
        for execution in executions:
            append(
                (
                    execution.price,
                    execution.quantity,
                    execution.liquidity,
                    execution.microseconds,
                )
            )

    def __repr__(self) -> str:
        bid, offer = self.best_bid_offer()
        return (
            f"<ContractBook {self.id} bid={tuple(bid) if bid else None} "
            f"offer={tuple(offer) if offer else None} volume={self.volume}>"
        )


class MarketBook:
    """The books of one market's contracts, and the market's state.

    Contracts may be named by ``Uuid128``, tagged hex (``"1cccc"``) or ``int``;
    a contract the market does not have raises :class:`UnknownContractError`.
    Iterating gives the :class:`ContractBook` of each contract, in the
    snapshot's order.
    """

    def __init__(self, market: int, max_executions: int = DEFAULT_MAX_EXECUTIONS) -> None:
        #: The market's id (a number; :attr:`id` is its tagged hex).
        self.market = market
        #: The market's status (``seto.MARKET_STATUS_OPEN``, ``…_HALTED``, ``…_SETTLED``),
        #: ``None`` until the exchange said.
        self.state: int | None = None
        #: The winning contract's id (a number), once the market is settled.
        self.winner: int | None = None
        #: How many snapshots and updates were applied to this market.
        self.updates = 0
        self._max_executions = max_executions
        self._contracts: dict[_Key, ContractBook] = {}

    @property
    def id(self) -> str:
        """The market's id as tagged hex, e.g. ``'1c024'``."""
        return ids.uuid128_to_str(self.market, "market")

    @property
    def contracts(self) -> list[str]:
        """The ids (tagged hex) of the contracts that have a book, in the snapshot's order."""
        return [book.id for book in self._contracts.values()]

    def contract(self, contract: IdLike) -> ContractBook:
        """The :class:`ContractBook` of ``contract``; :class:`UnknownContractError` if none."""
        key = _key(contract, "contract")
        book = self._contracts.get(key)
        if book is None:
            raise UnknownContractError(
                f"market {self.id} has no contract {_key_text(key, 'contract')}"
                f" (its contracts: {', '.join(self.contracts) or 'none'})"
            )
        return book

    def get(self, contract: IdLike) -> ContractBook | None:
        """The :class:`ContractBook` of ``contract``, or ``None``."""
        return self._contracts.get(_key(contract, "contract"))

    def best_bid_offer(self, contract: IdLike) -> tuple[Level | None, Level | None]:
        """``(best bid, best offer)`` of ``contract``; ``None`` for an empty side."""
        return self.contract(contract).best_bid_offer()

    def depth(self, contract: IdLike, levels: int | None = 5) -> Depth:
        """The best ``levels`` bids and offers of ``contract`` (``None``: all), best first."""
        return self.contract(contract).depth(levels)

    def last_trade(self, contract: IdLike) -> Trade | None:
        """The most recent trade on ``contract``, or ``None``."""
        return self.contract(contract).last_trade

    def executions(self, contract: IdLike) -> list[Trade]:
        """The recent trades on ``contract``, oldest first (bounded)."""
        return self.contract(contract).executions

    def volume(self, contract: IdLike) -> int:
        """The total quantity traded on ``contract``."""
        return self.contract(contract).volume

    def __iter__(self) -> Iterator[ContractBook]:
        return iter(list(self._contracts.values()))

    def __len__(self) -> int:
        return len(self._contracts)

    def __contains__(self, contract: object) -> bool:
        try:
            return _key(contract, "contract") in self._contracts  # type: ignore[arg-type]
        except (TypeError, Error):
            return False

    def _new_contract(self, key: _Key) -> ContractBook:
        book = ContractBook(key[0] | key[1] << 64, self.market, self._max_executions)
        book._owner = self
        self._contracts[key] = book
        return book

    def __repr__(self) -> str:
        return f"<MarketBook {self.id} state={self.state} contracts={len(self._contracts)}>"


class Books(Mapping[str, MarketBook]):
    """The :class:`MarketBook` of every market the client has a snapshot of.

    A mapping from the market id (tagged hex) to its book; lookups also take a
    ``Uuid128`` or an ``int``.  Feed it with :meth:`apply` (the client does).
    """

    def __init__(self, max_executions: int = DEFAULT_MAX_EXECUTIONS) -> None:
        #: How many trades each contract book keeps.
        self.max_executions = max_executions
        #: How many updates were ignored: for a market without a snapshot, or a
        #: contract nobody knows.
        self.ignored = 0
        self._markets: dict[_Key, MarketBook] = {}
        # Every contract book of every market, for updates that do not name the market.
        self._contracts: dict[_Key, ContractBook] = {}
        self._session: str | None = None

    # -- reading ---------------------------------------------------------------

    def get(self, market: IdLike, default: Any = None) -> Any:  # type: ignore[override]
        """The :class:`MarketBook` of ``market``, or ``default`` (``None``)."""
        try:
            return self._markets.get(_key(market, "market"), default)
        except (TypeError, Error):
            return default

    def __getitem__(self, market: IdLike) -> MarketBook:  # type: ignore[override]
        book = self.get(market)
        if book is None:
            raise KeyError(market)
        return book

    def __iter__(self) -> Iterator[str]:
        return iter([book.id for book in self._markets.values()])

    def __len__(self) -> int:
        return len(self._markets)

    def __contains__(self, market: object) -> bool:
        return self.get(market) is not None  # type: ignore[arg-type]

    # -- applying --------------------------------------------------------------

    def apply(self, name: str, message: Any) -> bool:
        """Apply a payload's message given with its handler name; True if a book changed.

        Handles ``seto.market_quotes``, ``seto.contract_quotes``,
        ``seto.market_state`` and ``eto.login_response`` (a new session drops
        every book); other names are ignored.
        """
        if name == "seto.contract_quotes":
            return self.apply_contract_quotes(message)
        if name == "seto.market_quotes":
            self.apply_market_quotes(message)
            return True
        if name == "seto.market_state":
            return self.apply_market_state(message)
        if name == "eto.login_response":
            return self.session_started(message.login_response.session)
        return False

    def apply_market_quotes(self, quotes: seto_pb2.MarketQuotes) -> MarketBook:
        """Apply a snapshot: the market's books become exactly its books; return the market."""
        key = (quotes.market.low, quotes.market.high)
        market = self._markets.get(key)
        if market is None:
            market = self._markets[key] = MarketBook(
                key[0] | key[1] << 64, max_executions=self.max_executions
            )
        if quotes.HasField("state"):
            market.state = quotes.state
        index = self._contracts
        previous = market._contracts
        fresh: dict[_Key, ContractBook] = {}
        for contract_quotes in quotes.contract_quotes:
            contract_key = (contract_quotes.contract.low, contract_quotes.contract.high)
            book = previous.get(contract_key)
            if book is None:
                book = ContractBook(
                    contract_key[0] | contract_key[1] << 64, market.market, self.max_executions
                )
                book._owner = market
            fresh[contract_key] = book
            index[contract_key] = book
            book._snapshot(contract_quotes)
        for contract_key in previous.keys() - fresh.keys():
            if index.get(contract_key) is previous[contract_key]:
                del index[contract_key]
        market._contracts = fresh
        market.updates += 1
        return market

    def apply_contract_quotes(self, quotes: seto_pb2.ContractQuotes) -> bool:
        """Apply an update of one contract's book; False if it was ignored."""
        contract = quotes.contract
        book = self._contracts.get((contract.low, contract.high))
        if book is None:
            market = None
            if quotes.HasField("market"):
                market = self._markets.get((quotes.market.low, quotes.market.high))
            if market is None:
                self.ignored += 1
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "contract_quotes for contract %s of a market without a snapshot: ignored",
                        ids.uuid128_to_str(contract, "contract"),
                    )
                return False
            key = (contract.low, contract.high)
            book = market._new_contract(key)
            self._contracts[key] = book
        book._update(quotes)
        owner = book._owner
        if owner is not None:
            owner.updates += 1
        return True

    def apply_market_state(self, state: seto_pb2.MarketState) -> bool:
        """Apply a market's new status (and winner); False if the client has no such book."""
        market = self._markets.get((state.market.low, state.market.high))
        if market is None:
            return False
        market.state = state.state
        if state.HasField("winner"):
            market.winner = ids.uuid128_int(state.winner)
        market.updates += 1
        return True

    def session_started(self, session_id: str) -> bool:
        """A login response for ``session_id``: drop every book if it is a new session."""
        previous, self._session = self._session, session_id
        if previous is not None and previous != session_id and self._markets:
            log.info("a new session (%s) has no subscriptions: dropping every book", session_id)
            self.clear()
            return True
        return False

    def drop(self, market: IdLike) -> MarketBook | None:
        """Forget ``market``'s book (after unsubscribing); return it, or ``None``."""
        book = self._markets.pop(_key(market, "market"), None)
        if book is not None:
            index = self._contracts
            for key, contract in book._contracts.items():
                if index.get(key) is contract:
                    del index[key]
        return book

    def clear(self) -> None:
        """Forget every book."""
        self._markets.clear()
        self._contracts.clear()

    def __repr__(self) -> str:
        return f"<Books {', '.join(self) or '(none)'}>"
