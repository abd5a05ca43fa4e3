"""The sandbox exchange, sans-I/O: accounts and money, markets and order books, matching,
the catalogue of what exists, and the bots.

Nothing here opens a socket, starts a thread or reads a clock it is not given; the server
(:mod:`smarkets.sandbox.server`) feeds it requests and routes what it returns. The modules:

* :mod:`~smarkets.sandbox.exchange.engine`: the :class:`Exchange` itself: requests in,
  :data:`Output` pairs out; the checks an order goes through, and the size limits;
* :mod:`~smarkets.sandbox.exchange.validation`: what makes an ``order_create`` malformed;
* :mod:`~smarkets.sandbox.exchange.book`: one contract's order book (price-time priority);
* :mod:`~smarkets.sandbox.exchange.money`: the money model (what an order reserves and a
  fill stakes, rounding), :mod:`~smarkets.sandbox.exchange.accounts`: the accounts;
* :mod:`~smarkets.sandbox.exchange.markets`: markets and contracts as they trade;
* :mod:`~smarkets.sandbox.exchange.catalogue`: which events, markets and contracts exist,
  and the listings; :mod:`~smarkets.sandbox.exchange.markets_file` and
  :mod:`~smarkets.sandbox.exchange.accounts_file`: the sandbox's input files;
* :mod:`~smarkets.sandbox.exchange.messages`: recipients and the payloads the exchange
  builds; :mod:`~smarkets.sandbox.exchange.order_ids`: unguessable order ids;
* :mod:`~smarkets.sandbox.exchange.bots`: simulated traders acting on an exchange.

The names most callers need are importable from ``smarkets.sandbox.exchange`` directly.
"""

from smarkets.protocol.orders import (
    MAX_PRICE,
    MAX_REFERENCE_BYTES,
    MAX_UINT32,
    MIN_PRICE,
    MIN_QUANTITY,
)
from smarkets.sandbox.exchange.accounts import FINISHED_ORDERS_REMEMBERED
from smarkets.sandbox.exchange.engine import MAX_QUANTITY, Exchange
from smarkets.sandbox.exchange.messages import Output, Recipient, ToAccount, ToMarket
from smarkets.sandbox.exchange.money import (
    CURRENCY,
    MAX_TOTAL_BALANCE,
    MONEY_EXPONENT,
    buy_cost,
    reservation,
    sell_cost,
)
from smarkets.sandbox.exchange.order_ids import OrderIds
from smarkets.sandbox.exchange.validation import (
    DEFAULT_MAX_ORDER_QUANTITY,
    MAX_OPEN_ORDERS_LIMIT,
)

__all__ = [
    "CURRENCY",
    "DEFAULT_MAX_ORDER_QUANTITY",
    "FINISHED_ORDERS_REMEMBERED",
    "MAX_OPEN_ORDERS_LIMIT",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_REFERENCE_BYTES",
    "MAX_TOTAL_BALANCE",
    "MAX_UINT32",
    "MIN_PRICE",
    "MIN_QUANTITY",
    "MONEY_EXPONENT",
    "Exchange",
    "OrderIds",
    "Output",
    "Recipient",
    "ToAccount",
    "ToMarket",
    "buy_cost",
    "reservation",
    "sell_cost",
]
