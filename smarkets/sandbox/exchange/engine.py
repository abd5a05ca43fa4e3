"""The :class:`Exchange`: requests in, outputs out; matching, cancels, halts and settlement.

Sans-I/O: it takes requests as ``seto`` protobuf messages and returns what to send as
:data:`~smarkets.sandbox.exchange.messages.Output` pairs (private replies to a
:class:`~smarkets.sandbox.exchange.messages.ToAccount`, public market data to a
:class:`~smarkets.sandbox.exchange.messages.ToMarket`, which the server fans out to the
market's subscribers). It opens no sockets, starts no threads and reads no clock but the one
it is given (for execution and order timestamps). The money model is
:mod:`~smarkets.sandbox.exchange.money`'s; the accounts are a
:class:`~smarkets.sandbox.exchange.accounts.Ledger`; what markets exist is the
:class:`~smarkets.sandbox.exchange.catalogue.Catalogue`'s, and how they trade
:class:`~smarkets.sandbox.exchange.markets.Markets`'.

Orders
------
An ``order_create`` is checked first for what makes it malformed (``order_invalid``, every
reason found: :mod:`~smarkets.sandbox.exchange.validation`), then for what refuses it
(``order_rejected``, the first that applies, in this order; :mod:`~smarkets.sandbox.
exchange.matching`): ACCOUNT_SUSPENDED, SERVICE_TEMPORARILY_UNAVAILABLE (order-create
downtime), MARKET_NOT_FOUND, CONTRACT_NOT_FOUND, MARKET_HALTED / MARKET_SETTLED,
LIMIT_EXCEEDED, INSUFFICIENT_FUNDS, CROSSED_SELF.

``maq`` (minimum acceptable quantity): when given, at least ``maq`` must match at once or
nothing matches: the order is accepted, then cancelled whole (``order_cancelled``
INSUFFICIENT_LIQUIDITY) without trading. When enough matches, the rest rests (GOOD_TIL_
CANCELLED) or is cancelled (IMMEDIATE_OR_CANCEL, INSUFFICIENT_LIQUIDITY) as without ``maq``.

Order ids come from :class:`~smarkets.sandbox.exchange.order_ids.OrderIds`: no account can
guess another's. An account's ``order_cancel`` naming an id it does not own (another
account's order included) is refused NOT_FOUND; one naming its own order that is no longer
open, NOT_LIVE, for the last
:data:`~smarkets.sandbox.exchange.accounts.FINISHED_ORDERS_REMEMBERED` orders of the account
that finished (filled or cancelled); older ones are NOT_FOUND.

Size limits
-----------
Every number the exchange publishes must fit its field on the wire. So:

- the balances of all accounts together are at most
  :data:`~smarkets.sandbox.exchange.money.MAX_TOTAL_BALANCE`, 2**63 - 1 (``Decimal.value``
  is an int64): :meth:`Exchange.add_account` refuses a balance that would go beyond. As
  money only moves between accounts and no amount is ever negative, every account's
  ``cash``, ``exposure``, ``available`` and ``staked`` then fit, whatever happens;
- an order's quantity is at most ``max_order_quantity`` (at most ``MAX_UINT32``, the wire's
  uint32), so every fill and every order's quantities fit;
- a price level's total is not bounded by that: **a level total above 4294967295 is sent
  as 4294967295** (saturated; see :func:`~smarkets.sandbox.exchange.messages.wire_quantity`).
  Internally totals are exact;
- the volume traded in a contract (extension, uint64) is at most :data:`MAX_QUANTITY`,
  2**64 - 1: an order whose fills would take it beyond is rejected with LIMIT_EXCEEDED
  before anything changes (it cannot really get there: every unit traded is a unit staked
  until the market settles, and all the money together is below 2**63);
- ``account_sequence`` (uint32) numbers an account's fills 1, 2, 3 ...; after 4294967295
  it starts again at 1.

The open-order limit (``max_open_orders``, also LIMIT_EXCEEDED) counts the orders that
rest: an IMMEDIATE_OR_CANCEL order never rests, so it is never refused for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from smarkets.proto import seto_pb2
from smarkets.protocol.ids import uuid128_int
from smarkets.sandbox.exchange import matching, messages
from smarkets.sandbox.exchange.accounts import Account, Ledger
from smarkets.sandbox.exchange.book import Order
from smarkets.sandbox.exchange.catalogue import Catalogue, MarketSpec
from smarkets.sandbox.exchange.markets import Contract, Markets
from smarkets.sandbox.exchange.matching import MAX_QUANTITY
from smarkets.sandbox.exchange.messages import Output, Payload
from smarkets.sandbox.exchange.order_ids import OrderIds
from smarkets.sandbox.exchange.validation import (
    DEFAULT_MAX_ORDER_QUANTITY,
    check_max_open_orders,
    check_max_order_quantity,
    invalid_reasons,
)

__all__ = ["MAX_QUANTITY", "Exchange"]

_log = logging.getLogger(__name__)

_GTC = seto_pb2.GOOD_TIL_CANCELLED


class Exchange:
    """Accounts, markets and their order books; matching and settlement.

    Request methods (:meth:`place_order`, :meth:`cancel_order`, :meth:`cancel_all`) take
    the request's eto ``seq`` so that replies can name it, and return the payloads to send
    as :data:`Output` pairs, private replies first, then public book updates. Admin methods
    (:meth:`add_account`, :meth:`add_market`, :meth:`halt`, :meth:`reopen`,
    :meth:`settle`, :meth:`suspend`, :meth:`unsuspend`) raise ``ValueError`` for a request
    that makes no sense and ``KeyError`` for an unknown id or name. Passing an account id
    that :meth:`add_account` did not return is a programming error and raises ``KeyError``.

    ``clock`` returns seconds since the Unix epoch; it is read once per accepted order, for
    the execution and creation timestamps. ``max_open_orders`` is how many open (resting)
    orders one account may have, 0 ... 2**32 - 1 (0: IMMEDIATE_OR_CANCEL only).
    ``max_order_quantity`` is the largest order quantity, 1000 ... 2**32 - 1.
    ``order_id_key`` makes the order ids reproducible (see :class:`OrderIds`);
    ``order_ids``, a function returning a new id at each call, replaces them (tests use 1,
    2, 3 ... for readable expectations). ``catalogue`` holds the events the markets belong
    to (an empty one by default). :attr:`orders_down` set refuses every order_create with
    SERVICE_TEMPORARILY_UNAVAILABLE (order-create downtime).

    A little over 300 lines, two thirds of them documentation: it is the exchange's public
    face, one method per request or admin action, each delegating to the module that owns
    the rule (matching, validation, accounts, markets, messages).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        max_open_orders: int = 1000,
        *,
        max_order_quantity: int = DEFAULT_MAX_ORDER_QUANTITY,
        order_id_key: bytes | None = None,
        order_ids: Callable[[], int] | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self._clock = clock
        self.max_open_orders = check_max_open_orders(max_open_orders)
        self.max_order_quantity = check_max_order_quantity(max_order_quantity)
        #: True during order-create downtime: orders are rejected SERVICE_TEMPORARILY_UNAVAILABLE.
        self.orders_down = False
        #: Where order ids come from: by default unguessable (:class:`OrderIds`); tests may
        #: give their own (each call a new id, unique and not 0).
        self._next_id = order_ids if order_ids is not None else OrderIds(order_id_key).next
        #: The accounts and their open orders.
        self.ledger = Ledger()
        #: The markets as they trade, over the catalogue of what exists.
        self.markets = Markets(catalogue)
        # The registries' dicts, at hand for the hot paths (never replaced).
        self._accounts = self.ledger.accounts
        self._markets = self.markets.by_id

    @property
    def catalogue(self) -> Catalogue:
        """The events, markets and contracts that exist (the listings are made of them)."""
        return self.markets.catalogue

    # -- accounts -------------------------------------------------------------------------

    def add_account(self, name: str, balance: int) -> int:
        """Open an account with ``balance`` in cash; return its id (1, 2, 3, ...).

        ``ValueError`` if the name is taken or the balance is not allowed (see
        :meth:`Ledger.add <smarkets.sandbox.exchange.accounts.Ledger.add>`).
        """
        return self.ledger.add(name, balance)

    def account_id(self, name: str) -> int:
        """The id of the account named ``name``; ``KeyError`` if there is none."""
        return self.ledger.id_of(name)

    def suspend(self, name: str) -> None:
        """Suspend an account: its orders are rejected ACCOUNT_SUSPENDED (cancels still work)."""
        self.ledger.named(name).suspended = True
        _log.info("account %r suspended", name)

    def unsuspend(self, name: str) -> None:
        """Let a suspended account place orders again."""
        self.ledger.named(name).suspended = False
        _log.info("account %r unsuspended", name)

    def balance(self, account_id: int) -> tuple[int, int, int, int]:
        """The account's ``(cash, exposure, available, staked)``, in 1/10,000 units."""
        a = self._accounts[account_id]
        return a.cash, a.exposure, a.cash - a.exposure, a.staked

    def account_state(self, account_id: int, seq: int | None = None) -> Payload:
        """The account's money (seto.AccountState), answering request ``seq`` if given."""
        return self._accounts[account_id].state(seq)

    # -- markets --------------------------------------------------------------------------

    def add_market(
        self,
        market_id: int,
        name: str,
        event_id: int,
        event_name: str,
        contracts: Iterable[tuple[int, str]],
    ) -> None:
        """Open a market with its contracts, in an event created the first time it is named.

        ``ValueError`` (a :class:`~smarkets.sandbox.exchange.catalogue.CatalogueError`) if
        the market or a contract id already exists, if ``contracts`` is empty or repeats an
        id, or if the event exists under another name. :meth:`open_market` takes a
        :class:`~smarkets.sandbox.exchange.catalogue.MarketSpec`.
        """
        self.open_market(MarketSpec(market_id, name, event_id, event_name, tuple(contracts)))

    def open_market(self, spec: MarketSpec) -> MarketSpec:
        """Open ``spec``'s market (see :meth:`add_market`); return it as the catalogue has
        it (its event's name filled in)."""
        return self.markets.open(spec)

    def has_market(self, market_id: int) -> bool:
        """Whether ``market_id`` is a market of this exchange (in any state)."""
        return market_id in self._markets

    def market_snapshot(self, market_id: int, seq: int | None = None) -> Payload:
        """A market's whole book (seto.MarketQuotes); ``KeyError`` for an unknown market."""
        return self.markets.get(market_id).snapshot(seq)

    #: A market_quotes with no contract quotes (the published answer for an unknown market).
    empty_market_quotes = staticmethod(messages.empty_market_quotes)

    def halt(self, market_id: int) -> list[Output]:
        """Halt an open market: its resting orders cancelled (MARKET_HALTED), new orders
        refused (see :meth:`Markets.halt <smarkets.sandbox.exchange.markets.Markets.halt>`)."""
        return self.markets.halt(market_id, self.ledger)

    def reopen(self, market_id: int) -> list[Output]:
        """Let a halted market take orders again. ``ValueError`` unless it is halted."""
        return self.markets.reopen(market_id)

    def settle(self, market_id: int, winner_contract_id: int) -> list[Output]:
        """Settle a market with its winning contract: resting orders cancelled, stakes paid
        (see :meth:`Markets.settle <smarkets.sandbox.exchange.markets.Markets.settle>`)."""
        return self.markets.settle(market_id, winner_contract_id, self.ledger)

    # -- requests -------------------------------------------------------------------------

    def place_order(self, account_id: int, create: seto_pb2.OrderCreate, seq: int) -> list[Output]:
        """Validate, accept and match an order_create sent as eto ``seq``.

        Outputs: one order_invalid or order_rejected; or order_accepted, then an
        order_executed for each fill to each of the two accounts, then an order_cancelled
        (INSUFFICIENT_LIQUIDITY) for an IMMEDIATE_OR_CANCEL remainder or a ``maq`` not met,
        then the contract's book update. Nothing changes (not even an order id is used up)
        unless the order is accepted. See the module docstring for the checks' order.
        """
        account = self._accounts[account_id]
        reference = create.reference if create.HasField("reference") else None
        reasons = invalid_reasons(create, self.max_order_quantity)
        if reasons:
            if not isinstance(reference, str):
                reference = None  # not valid UTF-8 (bytes): it cannot be echoed
            return [(account.recipient, messages.order_invalid(seq, reasons, reference))]
        market = self._markets.get(uuid128_int(create.market))
        contract = market.contracts.get(uuid128_int(create.contract)) if market else None
        side, price, quantity = create.side, create.price, create.quantity
        time_in_force = create.tif
        reason = matching.refusal(
            account,
            market,
            contract,
            side,
            price,
            quantity,
            time_in_force,
            orders_down=self.orders_down,
            max_open_orders=self.max_open_orders,
        )
        if reason:
            return self._reject(account, seq, reason, reference)
        assert market is not None and contract is not None
        book = contract.book
        plan = book.match_plan(side, price, quantity)
        if create.HasField("maq") and sum(fill for _, fill in plan) < create.maq:
            plan = []  # the minimum cannot match at once: nothing matches
            rests = False
        else:
            rests = time_in_force == _GTC
        if plan:
            reason = matching.cannot_pay(account, book, plan, side, price, quantity, rests)
            if reason:
                return self._reject(account, seq, reason, reference)

        order_id = self._next_id()
        created = int(self._clock() * 1_000_000)
        order = Order(
            order_id,
            account_id,
            market.id,
            contract.id,
            side,
            price,
            quantity,
            time_in_force,
            reference,
            seq,
            quantity,
            created=created,
        )
        out: list[Output] = [(account.recipient, messages.order_accepted(order))]
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "order %x accepted: account %d contract %d side %d %d @ %d, %d fills",
                order_id,
                account_id,
                contract.id,
                side,
                quantity,
                price,
                len(plan),
            )
        ledger = self.ledger
        if plan:
            matching.fill(ledger, account, order, market, contract, plan, out)
        if not order.remaining:
            account.finish(order_id)
        elif rests:
            book.rest(order)
            ledger.rest(account, order)
        else:
            reason = seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY
            out.append((account.recipient, ledger.close(account, order, reason)))
        market.quotes((contract,), out)
        return out

    def cancel_order(self, account_id: int, order_id: int, seq: int) -> list[Output]:
        """Cancel one of the account's open orders, for the order_cancel sent as ``seq``.

        Outputs: order_cancelled (MEMBER_REQUESTED) and the book update; or
        order_cancel_rejected: NOT_FOUND for an id the account does not own (another
        account's order included: whether it exists is not revealed), NOT_LIVE for the
        account's own order that is already filled or cancelled (among the last
        :data:`FINISHED_ORDERS_REMEMBERED` it finished). Allowed while the account is
        suspended.
        """
        account = self._accounts[account_id]
        order = account.open_orders.get(order_id)
        if order is None:
            reason = (
                seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
                if order_id in account.finished
                else seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
            )
            return [(account.recipient, messages.order_cancel_rejected(order_id, reason, seq))]
        market = self._markets[order.market_id]
        contract = market.contracts[order.contract_id]
        contract.book.remove(order)
        reason = seto_pb2.ORDER_CANCELLED_MEMBER_REQUESTED
        out: list[Output] = [(account.recipient, self.ledger.close(account, order, reason, seq))]
        market.quotes((contract,), out)
        return out

    def cancel_all(self, account_id: int, market_id: int | None, seq: int) -> list[Output]:
        """Cancel all the account's open orders in one market, or everywhere if None.

        Outputs: order_cancel_all_accepted with the count, an order_cancelled per order,
        then the book updates; or order_cancel_all_rejected (MARKET_NOT_FOUND).
        """
        account = self._accounts[account_id]
        if market_id is not None and market_id not in self._markets:
            reason = seto_pb2.ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND
            return [(account.recipient, messages.order_cancel_all_rejected(seq, reason))]
        orders = [
            order
            for order in account.open_orders.values()
            if market_id is None or order.market_id == market_id
        ]
        accepted = messages.order_cancel_all_accepted(seq, len(orders))
        out: list[Output] = [(account.recipient, accepted)]
        touched: dict[int, Contract] = {}
        reason = seto_pb2.ORDER_CANCELLED_MEMBER_REQUESTED
        for order in orders:
            contract = self.markets.contracts[order.contract_id]
            contract.book.remove(order)
            touched[contract.id] = contract
            out.append((account.recipient, self.ledger.close(account, order, reason, seq)))
        for contract in touched.values():
            self._markets[contract.market_id].quotes((contract,), out)
        return out

    # -- queries --------------------------------------------------------------------------

    def orders_for_account(self, account_id: int) -> Payload:
        """The account's open orders, by market (seto.orders_for_account)."""
        return messages.orders_for_account(self._accounts[account_id].open_orders.values())

    def orders_for_market(self, account_id: int, market_id: int) -> Payload:
        """The account's open orders in one market (seto.orders_for_market); an unknown
        market simply has no orders."""
        orders = self._accounts[account_id].open_orders.values()
        return messages.orders_for_market(
            market_id, [o for o in orders if o.market_id == market_id]
        )

    def check_invariants(self) -> None:
        """Check the money and book invariants; ``AssertionError`` naming what is wrong.

        For tests and debugging: it looks at every open order, so it is O(open orders).
        """
        problems = self.ledger.problems()
        resting = 0
        for contract in self.markets.contracts.values():
            problems.extend(f"contract {contract.id}: {p}" for p in contract.book.problems())
            resting += sum(1 for _ in contract.book.orders())
        if resting != len(self.ledger.orders):
            problems.append(f"{resting} orders on the books, {len(self.ledger.orders)} open")
        if problems:
            raise AssertionError("; ".join(problems))

    @staticmethod
    def _reject(account: Account, seq: int, reason: int, reference: str | None) -> list[Output]:
        if _log.isEnabledFor(logging.DEBUG):
            name = seto_pb2.OrderRejectedReason.Name(reason)
            _log.debug("order seq %d of account %d rejected: %s", seq, account.id, name)
        return [(account.recipient, messages.order_rejected(seq, reason, reference))]
