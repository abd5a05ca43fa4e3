"""The limits an order must meet: one home for the client's checks and the exchange's.

PROTOCOL.md section 3.1: a price is PERCENT_ODDS in basis points, 1 ... 9999; a quantity is
PAYOFF_CURRENCY in 1/10,000 of the currency, at least 1,000, and on the wire a ``uint32``;
an order's ``reference`` (an extension) is at most 64 bytes of UTF-8.

:meth:`smarkets.client.Smarkets.order` refuses an order beyond them before it is sent
(:class:`~smarkets.orders.Order`); the sandbox answers one that arrives anyway with
``order_invalid``. An exchange may allow less than :data:`MAX_QUANTITY` (the sandbox's
``--max-order-quantity``).
"""

from __future__ import annotations

__all__ = [
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_REFERENCE_BYTES",
    "MAX_UINT32",
    "MIN_PRICE",
    "MIN_QUANTITY",
    "PRICE_SCALE",
]

#: The lowest price, in basis points of probability (0.01%).
MIN_PRICE = 1
#: The highest price (99.99%).
MAX_PRICE = 9999
#: Prices are in basis points: 10000 is certainty.
PRICE_SCALE = 10000
#: The smallest order quantity (0.10 of payoff).
MIN_QUANTITY = 1000
#: The largest value of a ``uint32`` field (quantities, prices, ``account_sequence``).
MAX_UINT32 = (1 << 32) - 1
#: The largest quantity the wire carries (``quantity`` is a ``uint32``).
MAX_QUANTITY = MAX_UINT32
#: The longest order ``reference``, in bytes of UTF-8.
MAX_REFERENCE_BYTES = 64
