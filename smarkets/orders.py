"""A limit order and what becomes of it: :class:`Order`.

Build an order, hand it to :meth:`smarkets.client.Smarkets.order`, and
:meth:`~smarkets.client.Smarkets.flush`; the client then keeps the order's
attributes up to date from the exchange's replies (``state``, ``id``,
``filled``, ``remaining``) and calls its callbacks::

    order = smarkets.Order()
    order.quantity = 400000          # a 40.00 payout, in 1/10,000 units
    order.price = 2500               # 25.00%
    order.side = smarkets.Order.BUY
    order.market = client.str_to_uuid128('fc024')
    order.contract = '1cccc'         # tagged hex is converted
    order.on_accepted = lambda order, message: print('accepted', order.id)
    client.order(order)
    client.flush()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smarkets.errors import InvalidOrderError
from smarkets.proto import seto_pb2
from smarkets.protocol import ids
from smarkets.protocol.orders import (
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_REFERENCE_BYTES,
    MIN_PRICE,
    MIN_QUANTITY,
)

__all__ = ["Order", "OrderCallback"]

#: ``fn(order, message)``: called with the order and the reply message.
OrderCallback = Callable[["Order", Any], None]


_SIDE_NAMES = {seto_pb2.SIDE_BUY: "BUY", seto_pb2.SIDE_SELL: "SELL"}
_TIF_NAMES = {
    seto_pb2.GOOD_TIL_CANCELLED: "GOOD_TIL_CANCELLED",
    seto_pb2.IMMEDIATE_OR_CANCEL: "IMMEDIATE_OR_CANCEL",
}
_LIMIT = seto_pb2.ORDER_CREATE_LIMIT
_PAYOFF = seto_pb2.QUANTITY_PAYOFF_CURRENCY
_PERCENT_ODDS = seto_pb2.PRICE_PERCENT_ODDS


def _to_uuid(value: Any, kind: str) -> seto_pb2.Uuid128 | None:
    """``value`` (Uuid128, tagged hex str, int or None) as a new Uuid128 (or None)."""
    return None if value is None else ids.to_uuid128(value, kind)


class Order:
    """A limit order: what to place, and (once placed) what became of it.

    What to place:

    * ``quantity``: the payoff amount in 1/10,000 of the currency, 1000 …
      4,294,967,295 (the wire's uint32; the exchange may allow less: the sandbox's
      maximum order quantity is 500,000,000 by default, above it the order is invalid).
    * ``price``: percent odds in basis points, 1 … 9999 (2500 = 25.00%).
    * ``side``: :attr:`BUY` (back) or :attr:`SELL` (lay).
    * ``market`` and ``contract``: ``Uuid128`` ids (tagged hex text such as
      ``'fc024'``/``'1cccc'`` and plain ints are converted when assigned).
    * ``time_in_force``: :attr:`GOOD_TIL_CANCELLED` (default) or
      :attr:`IMMEDIATE_OR_CANCEL`.
    * ``maq``: optional minimum acceptable quantity, at most ``quantity``: at least
      this much must match at once, or nothing matches (the order is then cancelled,
      INSUFFICIENT_LIQUIDITY).
    * ``reference``: an optional label of at most 64 bytes of UTF-8, echoed in
      every reply (a protocol extension: placing an order with a reference raises
      :class:`~smarkets.errors.ExtensionNotGrantedError` when the server granted none).

    It is sent as the published ``seto.OrderCreate``: type LIMIT, quantity type
    PAYOFF_CURRENCY, price type PERCENT_ODDS.

    What became of it (kept up to date by the client that placed it):

    * ``state``: ``None`` until handed to the client, then ``'queued'``,
      ``'sent'`` (flushed), ``'accepted'`` (on the book; partial fills stay
      here), ``'rejected'``, ``'invalid'``, ``'filled'`` or ``'cancelled'``.
    * ``seq``: the eto seq it was sent with (set at flush).
    * ``id``: the exchange's ``Uuid128`` for it, once accepted.
    * ``filled`` and ``remaining``: quantity matched so far and still open.
    * ``cancelled_quantity``: the quantity the cancellation took off the book (from the
      exchange when it says, else what was still open), ``None`` until cancelled.
    * ``last_message``: the latest reply about it.

    Callbacks, each ``fn(order, message)`` and optional: ``on_accepted``,
    ``on_rejected``, ``on_invalid``, ``on_executed`` (every fill),
    ``on_cancelled`` and ``on_cancel_rejected`` (a cancel of it was refused:
    NOT_FOUND or NOT_LIVE; the order's state is left as it was).
    """

    BUY = seto_pb2.SIDE_BUY
    SELL = seto_pb2.SIDE_SELL
    GOOD_TIL_CANCELLED = seto_pb2.GOOD_TIL_CANCELLED
    IMMEDIATE_OR_CANCEL = seto_pb2.IMMEDIATE_OR_CANCEL

    # The limits are smarkets.protocol.orders', shared with the sandbox.
    MIN_PRICE = MIN_PRICE
    MAX_PRICE = MAX_PRICE
    MIN_QUANTITY = MIN_QUANTITY
    #: The wire's limit (uint32); the exchange's own maximum may be lower.
    MAX_QUANTITY = MAX_QUANTITY
    MAX_REFERENCE_BYTES = MAX_REFERENCE_BYTES

    #: States after which nothing more happens to an order.
    FINAL_STATES = frozenset({"rejected", "invalid", "filled", "cancelled"})

    def __init__(
        self,
        quantity: int | None = None,
        price: int | None = None,
        side: int | None = None,
        market: seto_pb2.Uuid128 | str | int | None = None,
        contract: seto_pb2.Uuid128 | str | int | None = None,
        time_in_force: int = GOOD_TIL_CANCELLED,
        reference: str | None = None,
        *,
        maq: int | None = None,
        on_accepted: OrderCallback | None = None,
        on_rejected: OrderCallback | None = None,
        on_invalid: OrderCallback | None = None,
        on_executed: OrderCallback | None = None,
        on_cancelled: OrderCallback | None = None,
        on_cancel_rejected: OrderCallback | None = None,
    ) -> None:
        self.quantity = quantity
        self.price = price
        self.side = side
        self.market = market
        self.contract = contract
        self.time_in_force = time_in_force
        self.reference = reference
        self.maq = maq
        self.on_accepted = on_accepted
        self.on_rejected = on_rejected
        self.on_invalid = on_invalid
        self.on_executed = on_executed
        self.on_cancelled = on_cancelled
        self.on_cancel_rejected = on_cancel_rejected
        self.state: str | None = None
        self.seq: int | None = None
        self.id: seto_pb2.Uuid128 | None = None
        self.filled = 0
        self.cancelled_quantity: int | None = None
        self._remaining: int | None = None
        self.last_message: Any = None

    # -- ids ---------------------------------------------------------------

    @property
    def market(self) -> seto_pb2.Uuid128 | None:
        """The market (contract group) id."""
        return self._market

    @market.setter
    def market(self, value: seto_pb2.Uuid128 | str | int | None) -> None:
        self._market = _to_uuid(value, "market")

    @property
    def contract(self) -> seto_pb2.Uuid128 | None:
        """The contract id."""
        return self._contract

    @contract.setter
    def contract(self, value: seto_pb2.Uuid128 | str | int | None) -> None:
        self._contract = _to_uuid(value, "contract")

    @property
    def remaining(self) -> int | None:
        """Quantity still open: ``quantity - filled`` until the exchange says otherwise."""
        if self._remaining is not None:
            return self._remaining
        if isinstance(self.quantity, int):
            return max(self.quantity - self.filled, 0)
        return None

    @property
    def done(self) -> bool:
        """True once the order is rejected, invalid, filled or cancelled."""
        return self.state in self.FINAL_STATES

    # -- validation and encoding -----------------------------------------

    def problems(self) -> list[str]:
        """Everything wrong with the order (an empty list when it is valid)."""
        problems = []
        price, quantity = self.price, self.quantity
        if isinstance(price, bool) or not isinstance(price, int):
            problems.append(f"price must be an int in basis points, not {price!r}")
        elif not self.MIN_PRICE <= price <= self.MAX_PRICE:
            problems.append(f"price must be {self.MIN_PRICE} ... {self.MAX_PRICE}, not {price}")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            problems.append(f"quantity must be an int, not {quantity!r}")
        elif not self.MIN_QUANTITY <= quantity <= self.MAX_QUANTITY:
            problems.append(
                f"quantity must be {self.MIN_QUANTITY} ... {self.MAX_QUANTITY} "
                f"(a uint32 on the wire), not {quantity}"
            )
        maq = self.maq
        if maq is not None:
            if isinstance(maq, bool) or not isinstance(maq, int):
                problems.append(f"maq must be an int or None, not {maq!r}")
            elif maq < 1 or maq > self.MAX_QUANTITY:
                problems.append(f"maq must be 1 ... {self.MAX_QUANTITY}, not {maq}")
            elif isinstance(quantity, int) and maq > quantity:
                problems.append(f"maq ({maq}) must not exceed the quantity ({quantity})")
        if self.side not in _SIDE_NAMES:
            problems.append(f"side must be Order.BUY or Order.SELL, not {self.side!r}")
        if self.time_in_force not in _TIF_NAMES:
            problems.append(
                "time_in_force must be Order.GOOD_TIL_CANCELLED or Order.IMMEDIATE_OR_CANCEL, "
                f"not {self.time_in_force!r}"
            )
        if self.market is None:
            problems.append("market is not set")
        if self.contract is None:
            problems.append("contract is not set")
        reference = self.reference
        if reference is not None:
            if not isinstance(reference, str):
                problems.append(f"reference must be a str, not {type(reference).__name__}")
            elif len(reference.encode("utf-8")) > self.MAX_REFERENCE_BYTES:
                problems.append(
                    f"reference is {len(reference.encode('utf-8'))} bytes of UTF-8; "
                    f"at most {self.MAX_REFERENCE_BYTES} are allowed"
                )
        return problems

    def validate(self) -> None:
        """Raise :class:`~smarkets.errors.InvalidOrderError` listing every problem, if any."""
        problems = self.problems()
        if problems:
            raise InvalidOrderError(problems)

    def to_message(self) -> seto_pb2.OrderCreate:
        """The ``seto.OrderCreate`` for this order (validate it first)."""
        message = seto_pb2.OrderCreate()
        self._fill(message)
        return message

    def _fill(self, message: seto_pb2.OrderCreate) -> None:
        """Set the fields of ``message`` (an empty ``OrderCreate``, e.g. inside a payload)."""
        message.type = _LIMIT
        message.market.CopyFrom(self.market)
        message.contract.CopyFrom(self.contract)
        message.side = self.side
        message.quantity_type = _PAYOFF
        message.quantity = self.quantity
        message.price_type = _PERCENT_ODDS
        message.price = self.price
        if self.maq is not None:
            message.maq = self.maq
        message.tif = self.time_in_force
        if self.reference is not None:
            message.reference = self.reference

    # -- replies (called by the client that placed the order) --------------

    def _queued(self) -> None:
        self.state = "queued"

    def _sent(self, seq: int) -> None:
        self.seq = seq
        if self.state == "queued":
            self.state = "sent"

    def _accepted(self, message: seto_pb2.OrderAccepted) -> None:
        self.last_message = message
        self._set_id(message.order)
        if self.state in (None, "queued", "sent"):
            self.state = "accepted"

    def _rejected(self, message: seto_pb2.OrderRejected) -> None:
        self.last_message = message
        self.state = "rejected"
        self._remaining = 0

    def _invalid(self, message: seto_pb2.OrderInvalid) -> None:
        self.last_message = message
        self.state = "invalid"
        self._remaining = 0

    def _executed(self, message: seto_pb2.OrderExecuted) -> None:
        self.last_message = message
        self._set_id(message.order)
        self.filled += message.quantity
        if message.HasField("remaining"):
            self._remaining = message.remaining
        elif isinstance(self.quantity, int):
            self._remaining = max(self.quantity - self.filled, 0)
        if self._remaining == 0:
            self.state = "filled"
        elif self.state not in self.FINAL_STATES:
            self.state = "accepted"

    def _cancelled(self, message: seto_pb2.OrderCancelled) -> None:
        self.last_message = message
        self._set_id(message.order)
        # The extension says how much was cancelled; the published message does not, and
        # then it is what was still open.
        if message.HasField("quantity"):
            self.cancelled_quantity = message.quantity
        else:
            self.cancelled_quantity = self.remaining or 0
        self.state = "cancelled"
        self._remaining = 0

    def _cancel_rejected(self, message: seto_pb2.OrderCancelRejected) -> None:
        self.last_message = message

    def _set_id(self, uuid: seto_pb2.Uuid128) -> None:
        if self.id is None:
            self.id = seto_pb2.Uuid128()
            self.id.CopyFrom(uuid)

    # -- display -----------------------------------------------------------

    def __repr__(self) -> str:
        def show(uuid: seto_pb2.Uuid128 | None, kind: str) -> str:
            return "None" if uuid is None else ids.uuid128_to_str(uuid, kind)

        side = _SIDE_NAMES.get(self.side, repr(self.side))  # type: ignore[arg-type]
        parts = [
            f"{side}",
            f"quantity={self.quantity!r}",
            f"price={self.price!r}",
            f"market={show(self.market, 'market')}",
            f"contract={show(self.contract, 'contract')}",
        ]
        if self.time_in_force != self.GOOD_TIL_CANCELLED:
            parts.append(_TIF_NAMES.get(self.time_in_force, repr(self.time_in_force)))  # type: ignore[arg-type]
        if self.reference is not None:
            parts.append(f"reference={self.reference!r}")
        parts.append(f"state={self.state!r}")
        if self.seq is not None:
            parts.append(f"seq={self.seq}")
        if self.id is not None:
            parts.append(f"id={show(self.id, 'order')}")
        if self.maq is not None:
            parts.append(f"maq={self.maq}")
        if self.filled:
            parts.append(f"filled={self.filled}")
        return f"<Order {' '.join(parts)}>"
