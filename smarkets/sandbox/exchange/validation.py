"""What makes an ``order_create`` malformed: the reasons of ``order_invalid``.

Checked before anything else, every reason found, in the enum's order: INVALID_PRICE
(missing, outside 1...9999, or a ``price_type`` this schema does not know: the only price
type is PERCENT_ODDS), INVALID_QUANTITY (below :data:`MIN_QUANTITY`, above the exchange's
``max_order_quantity``, a ``quantity_type`` other than PAYOFF_CURRENCY, or a ``maq`` above
the quantity), and the extension reasons INVALID_TIME_IN_FORCE (a ``tif`` number this schema
does not know) and INVALID_REFERENCE (over :data:`MAX_REFERENCE_BYTES` bytes of UTF-8, or
not UTF-8). Every field of ``order_create`` is optional on the wire, so that a malformed
order is answered rather than dropped. The limits are the client's too
(:mod:`smarkets.protocol.orders`).
"""

from __future__ import annotations

from google.protobuf.unknown_fields import UnknownFieldSet

from smarkets.proto import seto_pb2
from smarkets.protocol.orders import (
    MAX_PRICE,
    MAX_REFERENCE_BYTES,
    MAX_UINT32,
    MIN_PRICE,
    MIN_QUANTITY,
)

__all__ = [
    "DEFAULT_MAX_ORDER_QUANTITY",
    "MAX_OPEN_ORDERS_LIMIT",
    "check_max_open_orders",
    "check_max_order_quantity",
    "invalid_reasons",
]

#: The default largest order quantity (50,000.00 of payoff).
DEFAULT_MAX_ORDER_QUANTITY = 500_000_000
#: The largest ``max_open_orders``: order_cancel_all_accepted's count is a uint32.
MAX_OPEN_ORDERS_LIMIT = MAX_UINT32

_PERCENT_ODDS = seto_pb2.PRICE_PERCENT_ODDS
_PAYOFF = seto_pb2.QUANTITY_PAYOFF_CURRENCY
_TIF_FIELD = seto_pb2.OrderCreate.DESCRIPTOR.fields_by_name["tif"].number
_PRICE_TYPE_FIELD = seto_pb2.OrderCreate.DESCRIPTOR.fields_by_name["price_type"].number


def check_max_open_orders(value: object) -> int:
    """``value`` if it is a valid open-order limit (0 ... 2**32 - 1), else ``ValueError``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_OPEN_ORDERS_LIMIT
    ):
        raise ValueError(
            f"max_open_orders must be >= 0 and <= {MAX_OPEN_ORDERS_LIMIT}, not {value!r}"
        )
    return value


def check_max_order_quantity(value: object) -> int:
    """``value`` if it is a valid largest order quantity (1000 ... 2**32 - 1, so that every
    order's quantities fit the wire's uint32), else ``ValueError``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_QUANTITY <= value <= MAX_UINT32
    ):
        raise ValueError(
            f"max_order_quantity must be >= {MIN_QUANTITY} and <= {MAX_UINT32}"
            f" (a uint32 on the wire), not {value!r}"
        )
    return value


def _unknown_numbers(message: object) -> set[int]:
    return {f.field_number for f in UnknownFieldSet(message)}  # type: ignore[arg-type]


def invalid_reasons(create: seto_pb2.OrderCreate, max_quantity: int) -> list[int]:
    """Every reason an order_create is malformed, in the enum's order; empty if none.

    A closed proto2 enum keeps a number it does not know among the message's unknown
    fields, so the field itself reads as absent: an unknown ``price_type`` or ``tif`` is
    found there.
    """
    reasons = []
    unknown = (
        _unknown_numbers(create)
        if not (create.HasField("tif") and create.HasField("price_type"))
        else ()
    )
    if (
        not create.HasField("price")
        or not MIN_PRICE <= create.price <= MAX_PRICE
        or (create.HasField("price_type") and create.price_type != _PERCENT_ODDS)
        or (not create.HasField("price_type") and _PRICE_TYPE_FIELD in unknown)
    ):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_PRICE)
    quantity = create.quantity
    if (
        quantity < MIN_QUANTITY
        or quantity > max_quantity
        or create.quantity_type != _PAYOFF
        or (create.HasField("maq") and create.maq > quantity)
    ):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_QUANTITY)
    if not create.HasField("tif") and _TIF_FIELD in unknown:
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_TIME_IN_FORCE)
    if create.HasField("reference"):
        reference = create.reference
        if not isinstance(reference, str):
            # upb hands back bytes for a string that is not valid UTF-8.
            reasons.append(seto_pb2.ORDER_INVALID_INVALID_REFERENCE)
        # At most 4 bytes per character: only long strings need encoding.
        elif len(reference) * 4 > MAX_REFERENCE_BYTES and (
            len(reference.encode("utf-8", "surrogatepass")) > MAX_REFERENCE_BYTES
        ):
            reasons.append(seto_pb2.ORDER_INVALID_INVALID_REFERENCE)
    return reasons
