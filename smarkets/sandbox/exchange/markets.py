"""The markets as they trade: each market's state and each contract's order book.

What exists (names, events, contracts, in order) is the
:class:`~smarkets.sandbox.exchange.catalogue.Catalogue`'s; :class:`Markets` opens a market
there, then keeps what trading changes: whether the market is open, halted or settled (and
its winner), each contract's :class:`~smarkets.sandbox.exchange.book.Book` and state, and
the accounts with stakes in it. It halts, reopens and settles markets (the resting orders
cancelled through the :class:`~smarkets.sandbox.exchange.accounts.Ledger`, the stakes paid
out), and builds what describes them: a market's snapshot (``market_quotes``), a contract's
update (``contract_quotes``) and every market with its state (``seto.markets``, an
extension).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from smarkets.proto import seto_pb2
from smarkets.protocol.ids import set_uuid128
from smarkets.sandbox.exchange import messages
from smarkets.sandbox.exchange.accounts import Ledger
from smarkets.sandbox.exchange.book import Book
from smarkets.sandbox.exchange.catalogue import Catalogue, MarketSpec
from smarkets.sandbox.exchange.messages import Output, Payload, ToMarket

__all__ = ["Contract", "Market", "Markets"]

_log = logging.getLogger(__name__)

_OPEN = seto_pb2.MARKET_STATUS_OPEN
_HALTED = seto_pb2.MARKET_STATUS_HALTED
_SETTLED = seto_pb2.MARKET_STATUS_SETTLED


@dataclass(slots=True, eq=False)
class Contract:
    """One contract as it trades: its book and state (open, won, lost)."""

    id: int
    market_id: int
    state: int = seto_pb2.CONTRACT_STATUS_OPEN
    book: Book = field(default_factory=Book)


@dataclass(slots=True, eq=False)
class Market:
    """One market as it trades: its state, winner, contracts and the accounts with stakes."""

    id: int
    spec: MarketSpec
    recipient: ToMarket
    #: Contract id -> contract, in the market's order.
    contracts: dict[int, Contract]
    state: int = _OPEN
    winner: int | None = None
    #: Accounts with matched trades in the market (stakes to settle).
    participants: set[int] = field(default_factory=set)

    def state_payload(self) -> Payload:
        """market_state (an extension kind): the market's state and winner."""
        return messages.market_state(self.id, self.state, self.winner)

    def quotes(self, contracts: Iterable[Contract], out: list[Output]) -> None:
        """Append to ``out`` the public update of each of ``contracts`` whose book changed."""
        for contract in contracts:
            quotes = self.contract_quotes(contract)
            if quotes is not None:
                out.append((self.recipient, quotes))

    def contract_quotes(self, contract: Contract) -> Payload | None:
        """The public update for what changed in ``contract``'s book, or None."""
        book = contract.book
        changes = book.take_changes()
        if changes is None:
            return None
        bids, offers, trades = changes
        payload = Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
        recent = book.recent
        messages.contract_quotes(
            payload.contract_quotes,
            self.id,
            contract.id,
            bids,
            offers,
            trades,
            recent[-1] if recent else None,
            book.volume,
        )
        return payload

    def snapshot(self, seq: int | None = None) -> Payload:
        """The whole market (seto.MarketQuotes), with its state and ``seq`` (extensions).

        Per contract: bids high to low, offers low to high, the latest executions (at most
        10, oldest first), the last execution and the volume.
        """
        payload = messages.empty_market_quotes(self.id)
        msg = payload.market_quotes
        msg.state = self.state
        if seq is not None:
            msg.seq = seq
        for contract in self.contracts.values():
            book = contract.book
            bids, offers = book.depth()
            recent = book.recent
            messages.contract_quotes(
                msg.contract_quotes.add(),
                self.id,
                contract.id,
                bids,
                offers,
                recent,
                recent[-1] if recent else None,
                book.volume,
            )
        return payload


class Markets:
    """Every market of the exchange, by id, and every contract, over a catalogue."""

    __slots__ = ("by_id", "catalogue", "contracts")

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        #: What exists: events, markets, contracts (markets opened here are added to it).
        self.catalogue = catalogue if catalogue is not None else Catalogue()
        #: Market id -> market.
        self.by_id: dict[int, Market] = {}
        #: Contract id -> contract, across every market.
        self.contracts: dict[int, Contract] = {}

    def open(self, spec: MarketSpec) -> MarketSpec:
        """Add ``spec`` to the catalogue (which checks it: new ids, its event) and open it
        for trading; return it as the catalogue has it (its event's name filled in).

        :class:`~smarkets.sandbox.exchange.catalogue.CatalogueError` (a ``ValueError``) if
        it cannot be added.
        """
        spec = self.catalogue.add_market(spec)
        contracts = {cid: Contract(cid, spec.id) for cid in spec.contract_ids()}
        self.by_id[spec.id] = Market(spec.id, spec, ToMarket(spec.id), contracts)
        self.contracts.update(contracts)
        _log.info("market %d %r opened in event %d", spec.id, spec.name, spec.event_id)
        return spec

    def __contains__(self, market_id: object) -> bool:
        return market_id in self.by_id

    def get(self, market_id: int) -> Market:
        """The market ``market_id``; ``KeyError`` if there is none."""
        try:
            return self.by_id[market_id]
        except KeyError:
            raise KeyError(f"no market {market_id}") from None

    def payload(self, seq: int | None = None) -> Payload:
        """Every event that has markets, its markets and their contracts, with states
        (seto.markets, an extension): events in the order their first market was opened."""
        payload = Payload(type=seto_pb2.PAYLOAD_MARKETS)
        msg = payload.markets
        if seq is not None:
            msg.seq = seq
        events: dict[int, seto_pb2.Event] = {}
        catalogue_events = self.catalogue.events
        for market in self.by_id.values():
            spec = market.spec
            event_msg = events.get(spec.event_id)
            if event_msg is None:
                event_msg = events[spec.event_id] = msg.events.add()
                set_uuid128(event_msg.id, spec.event_id)
                event_msg.name = catalogue_events[spec.event_id].name
            market_msg = event_msg.markets.add()
            set_uuid128(market_msg.id, spec.id)
            market_msg.name = spec.name
            market_msg.state = market.state
            for contract_spec in spec.contracts:
                contract_msg = market_msg.contracts.add()
                set_uuid128(contract_msg.id, contract_spec.id)
                contract_msg.name = contract_spec.name
                contract_msg.state = market.contracts[contract_spec.id].state
            if market.winner is not None:
                set_uuid128(market_msg.winner, market.winner)
        return payload

    # -- halts and settlement ---------------------------------------------------------------

    def halt(self, market_id: int, ledger: Ledger) -> list[Output]:
        """Halt an open market: its resting orders are cancelled, new orders refused.

        Outputs: an order_cancelled (MARKET_HALTED) to the owner of each resting order
        (its reservation released), the emptied levels of each contract, then the
        market_state (an extension kind). ``ValueError`` unless the market is open.
        """
        market = self.get(market_id)
        if market.state != _OPEN:
            raise ValueError(f"market {market_id} is not open")
        market.state = _HALTED
        out = self._clear(market, seto_pb2.ORDER_CANCELLED_MARKET_HALTED, ledger)
        out.append((market.recipient, market.state_payload()))
        _log.info("market %d halted", market_id)
        return out

    def reopen(self, market_id: int) -> list[Output]:
        """Let a halted market take orders again. ``ValueError`` unless it is halted."""
        market = self.get(market_id)
        if market.state != _HALTED:
            raise ValueError(f"market {market_id} is not halted")
        market.state = _OPEN
        _log.info("market %d reopened", market_id)
        return [(market.recipient, market.state_payload())]

    def settle(self, market_id: int, winner: int, ledger: Ledger) -> list[Output]:
        """Settle a market: cancel its resting orders, pay out, close it for good.

        Outputs: an order_cancelled (MARKET_SETTLED, an extension value whose published
        stand-in is MARKET_HALTED) to the owner of each resting order, the emptied levels
        of each contract, the market_state, then the new account_state of every account
        that had orders or trades in the market. ``ValueError`` if the market is already
        settled or ``winner`` is not one of its contracts.
        """
        market = self.get(market_id)
        if market.state == _SETTLED:
            raise ValueError(f"market {market_id} is already settled")
        if winner not in market.contracts:
            raise ValueError(f"contract {winner} is not in market {market_id}")
        affected = set(market.participants)
        for contract in market.contracts.values():
            affected.update(order.account_id for order in contract.book.orders())
            won = contract.id == winner
            contract.state = seto_pb2.CONTRACT_STATUS_WON if won else seto_pb2.CONTRACT_STATUS_LOST
        out = self._clear(market, seto_pb2.ORDER_CANCELLED_MARKET_SETTLED, ledger)
        market.state = _SETTLED
        market.winner = winner
        out.append((market.recipient, market.state_payload()))
        contract_ids = list(market.contracts)
        for account_id in sorted(affected):
            account = ledger.accounts[account_id]
            account.settle(market_id, contract_ids, winner)
            out.append((account.recipient, account.state()))
        _log.info("market %d settled, winner %d", market_id, winner)
        return out

    @staticmethod
    def _clear(market: Market, reason: int, ledger: Ledger) -> list[Output]:
        """Cancel every resting order of a market (``reason``); then the book updates."""
        out: list[Output] = []
        accounts = ledger.accounts
        for contract in market.contracts.values():
            for order in contract.book.clear():
                account = accounts[order.account_id]
                out.append((account.recipient, ledger.close(account, order, reason)))
        market.quotes(market.contracts.values(), out)
        return out
