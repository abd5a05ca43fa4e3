"""The account's money and open orders, read from the published messages.

``seto.account_state`` carries money as ``seto.Decimal {value, exponent}`` (an exact amount,
``value * 10 ** -exponent`` of the account currency); the library counts money in integer
1/10,000 of the currency everywhere, as quantities are.  :func:`decimal_to_units` converts
exactly (never through floats) and :class:`Account` is an account state in those units::

    client.request_account_state()
    client.flush()
    ...                                     # once seto.account_state has been read
    account = client.account                # an Account (None until the first)
    print(account.cash, account.available)  # 1000000 987500: 100.00 and 98.75

Without the protocol extensions (a server that speaks only the published schema), the
account state has no ``available`` nor ``staked``: ``available`` is then computed as
``cash - exposure`` (what is not reserved by open orders) and ``staked`` is ``None``
(unknown: the published message does not say how much is staked on matched bets).

``seto.orders_for_account`` / ``seto.orders_for_market`` list the account's open orders by
market, contract, side (bids are buy orders, offers sell orders) and price;
:func:`open_orders` flattens them into :class:`OpenOrder` rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smarkets.errors import RemoteProtocolError
from smarkets.proto import seto_pb2
from smarkets.protocol.ids import uuid128_to_int

__all__ = [
    "UNITS_EXPONENT",
    "Account",
    "OpenOrder",
    "decimal_to_units",
    "open_orders",
]

#: Money and quantities are counted in 10 ** -UNITS_EXPONENT of the currency (1/10,000).
UNITS_EXPONENT = 4


def decimal_to_units(decimal: seto_pb2.Decimal) -> int:
    """A ``seto.Decimal`` as an exact integer number of 1/10,000 of the currency.

    ``value * 10 ** (4 - exponent)``: ``Decimal(value=12345, exponent=2)`` (123.45) is
    1234500.  An exponent above 4 is fine when the amount is a whole number of 1/10,000
    (``Decimal(value=1230000, exponent=6)`` is 12300); one that would need a fraction of
    a unit raises :class:`~smarkets.errors.RemoteProtocolError` (never rounded, never a float).
    """
    value = decimal.value
    exponent = decimal.exponent
    if exponent <= UNITS_EXPONENT:
        return value * 10 ** (UNITS_EXPONENT - exponent)
    divisor = 10 ** (exponent - UNITS_EXPONENT)
    units, rest = divmod(value, divisor)
    if rest:
        raise RemoteProtocolError(
            f"amount {value}e-{exponent} is not a whole number of 1/10,000 of the currency: "
            "it cannot be represented exactly"
        )
    return units


def _currency_name(value: int) -> str:
    try:
        return seto_pb2.Currency.Name(value).removeprefix("CURRENCY_")
    except ValueError:
        return str(value)


@dataclass(frozen=True, slots=True)
class Account:
    """An account state, money in integer 1/10,000 of the currency.

    ``available`` and ``staked`` are the server's when it granted the extensions; without
    them ``available`` is ``cash - exposure`` and ``staked`` is ``None`` (unknown).
    ``seq`` is the seq of the request answered (an extension; ``None`` without it, or for
    an update the server sent by itself).
    """

    #: The account id (a number).
    account: int
    #: The currency's code, e.g. ``'GBP'``.
    currency: str
    #: The balance: the money not staked on matched bets.
    cash: int
    bonus: int
    #: The part of ``cash`` reserved by open orders.
    exposure: int
    #: What new orders can use.
    available: int
    #: Stakes of matched bets, held until their market settles; ``None``: not known.
    staked: int | None
    seq: int | None = None

    @classmethod
    def from_message(cls, message: seto_pb2.AccountState) -> Account:
        """Convert a ``seto.AccountState`` (raises RemoteProtocolError for an inexact amount)."""
        cash = decimal_to_units(message.cash)
        exposure = decimal_to_units(message.exposure)
        if message.HasField("available"):
            available = decimal_to_units(message.available)
        else:
            available = cash - exposure
        staked = decimal_to_units(message.staked) if message.HasField("staked") else None
        return cls(
            account=uuid128_to_int(message.account),
            currency=_currency_name(message.currency),
            cash=cash,
            bonus=decimal_to_units(message.bonus),
            exposure=exposure,
            available=available,
            staked=staked,
            seq=message.seq if message.HasField("seq") else None,
        )


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """One open order of the account, from ``orders_for_account``/``orders_for_market``.

    Ids are ``Uuid128``; ``side`` is ``seto.SIDE_BUY`` (a bid) or ``seto.SIDE_SELL`` (an
    offer).  ``remaining`` is the server's when it granted the extensions, else
    ``quantity - quantity_filled``.
    """

    market: seto_pb2.Uuid128
    contract: seto_pb2.Uuid128
    side: int
    price: int
    order: seto_pb2.Uuid128
    status: int
    quantity: int
    quantity_filled: int
    remaining: int
    created_microseconds: int
    reference: str | None


def _market_orders(market: Any) -> Iterator[OpenOrder]:
    for contract in market.contracts:
        for side, levels in (
            (seto_pb2.SIDE_BUY, contract.bids),
            (seto_pb2.SIDE_SELL, contract.offers),
        ):
            for level in levels:
                for state in level.orders:
                    filled = state.quantity_filled
                    if state.HasField("remaining"):
                        remaining = state.remaining
                    else:
                        remaining = max(state.quantity - filled, 0)
                    yield OpenOrder(
                        market=market.market,
                        contract=contract.contract,
                        side=side,
                        price=level.price,
                        order=state.order,
                        status=state.status,
                        quantity=state.quantity,
                        quantity_filled=filled,
                        remaining=remaining,
                        created_microseconds=state.created_microseconds,
                        reference=state.reference if state.HasField("reference") else None,
                    )


def open_orders(message: Any) -> list[OpenOrder]:
    """The orders of an ``orders_for_account`` or ``orders_for_market`` message, flattened:
    market by market, contract by contract, bids then offers, level by level."""
    if isinstance(message, seto_pb2.orders_for_account):
        return [order for market in message.markets for order in _market_orders(market)]
    return list(_market_orders(message))
