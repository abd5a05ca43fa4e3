"""Which order each reply is about: the client's order tracking.

Every order a client places is matched to the replies that concern it -- accepted,
rejected, invalid, executed, cancelled, cancel rejected -- by the seq the order went out
with, by its reference (an extension), then by its id once accepted. The matched
:class:`~smarkets.orders.Order` is brought up to date and its callback called. Open orders
listed by ``orders_for_account``/``orders_for_market``, and fills that carry the
extension fields of an order placed elsewhere, are adopted and tracked too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from smarkets.account import OpenOrder, open_orders
from smarkets.orders import Order
from smarkets.proto import seto_pb2
from smarkets.protocol import ids

__all__ = ["ORDER_REPLIES", "Cancel", "OrderTracker"]

log = logging.getLogger("smarkets.client")

#: The payload names whose messages move an order along.
ORDER_REPLIES = frozenset(
    {
        "seto.order_accepted",
        "seto.order_rejected",
        "seto.order_invalid",
        "seto.order_executed",
        "seto.order_cancelled",
        "seto.order_cancel_rejected",
        "seto.orders_for_account",
        "seto.orders_for_market",
    }
)


class Cancel:
    """A queued order_cancel: which order it names (to match an order_cancel_rejected)."""

    __slots__ = ("key", "order")

    def __init__(self, key: tuple[int, int], order: Order | None) -> None:
        self.key = key
        self.order = order


def _id_key(uuid: seto_pb2.Uuid128) -> tuple[int, int]:
    return (uuid.low, uuid.high)


class OrderTracker:
    """The orders a client follows, found by seq, reference or id.

    :attr:`lock` is held while payloads are numbered and sent and their orders registered
    (:meth:`sent`), and while a reply is matched (:meth:`reply`), so a reply read by
    another thread always finds the order it answers.
    """

    def __init__(self) -> None:
        #: Held across sending and registering, and across matching a reply.
        self.lock = threading.RLock()
        #: Told ``fn(order, name)`` after a reply (``name``, e.g. ``seto.order_accepted``)
        #: moved a tracked order along and its callback ran (the asyncio client's waiters).
        self.on_update: Callable[[Order, str], None] | None = None
        self._orders_by_seq: dict[int, Order] = {}
        self._orders_by_reference: dict[str, Order] = {}
        self._orders_by_id: dict[tuple[int, int], Order] = {}
        # The cancels sent, by seq (an order_cancel_rejected names only that), and the seqs
        # of the cancels of each order id (forgotten once the order is done).
        self._cancels_by_seq: dict[int, Cancel] = {}
        self._cancel_seqs: dict[tuple[int, int], list[int]] = {}

    def __len__(self) -> int:
        """How many orders are remembered (each once, however it is found)."""
        found = {
            id(order)
            for table in (self._orders_by_seq, self._orders_by_reference, self._orders_by_id)
            for order in table.values()
        }
        return len(found)

    @property
    def cancels_pending(self) -> int:
        """How many cancels sent are remembered, waiting for their answer."""
        return max(len(self._cancels_by_seq), sum(map(len, self._cancel_seqs.values())))

    def cancel_of(self, order_id: seto_pb2.Uuid128, order: Order | None) -> Cancel:
        """What a cancel of ``order_id`` is tracked as (the order, if tracked)."""
        key = _id_key(order_id)
        return Cancel(key, order if order is not None else self._orders_by_id.get(key))

    def order_for(self, order_id: ids.IdLike) -> Order | None:
        """The :class:`~smarkets.orders.Order` tracked under ``order_id`` (``None`` if none).

        Orders this client placed are tracked from acceptance until done.  So are the open
        orders listed by ``seto.orders_for_account``/``orders_for_market`` answers, and
        orders whose fills carry the extension fields (side, market, contract): e.g. an
        order another session of the account placed.  A fill of a tracked order thus has a
        side, market and contract even though the published ``order_executed`` says only
        the order id, price and quantity.
        """
        return self._orders_by_id.get(_id_key(ids.to_uuid128(order_id, "order")))

    def _find(self, seq: int | None, reference: str | None) -> Order | None:
        order = self._orders_by_seq.get(seq) if seq is not None else None
        if order is None and reference:
            order = self._orders_by_reference.get(reference)
        return order

    def _forget(self, order: Order, *, keep_id: bool = False) -> None:
        if order.seq is not None and self._orders_by_seq.get(order.seq) is order:
            del self._orders_by_seq[order.seq]
        ref = order.reference
        if ref and self._orders_by_reference.get(ref) is order:
            del self._orders_by_reference[ref]
        if not keep_id and order.id is not None:
            key = _id_key(order.id)
            if self._orders_by_id.get(key) is order:
                del self._orders_by_id[key]
            self._forget_cancels(key)

    def _forget_cancels(self, key: tuple[int, int]) -> None:
        seqs = self._cancel_seqs.pop(key, None)
        if seqs:
            for seq in seqs:
                self._cancels_by_seq.pop(seq, None)

    def reply(self, name: str, message: Any) -> None:
        """Apply a reply about orders (one of :data:`ORDER_REPLIES`) to the order it
        concerns, then call that order's callback."""
        with self.lock:
            if name == "seto.orders_for_account" or name == "seto.orders_for_market":
                self._adopt_open_orders(open_orders(message))
                return
            order, callback = self._apply_reply(name, message)
        if order is None and log.isEnabledFor(logging.DEBUG):
            log.debug("%s matches no order placed by this client", name)
        if order is not None and callback is not None:
            fn = getattr(order, callback)
            if fn is not None:
                fn(order, message)
            if self.on_update is not None:
                self.on_update(order, name)

    def _adopt_open_orders(self, rows: list[OpenOrder]) -> None:
        """Track the listed open orders that this client does not track yet."""
        for row in rows:
            key = _id_key(row.order)
            if key in self._orders_by_id or not row.remaining:
                continue
            order = Order(
                quantity=row.quantity,
                price=row.price,
                side=row.side,
                market=row.market,
                contract=row.contract,
                reference=row.reference,
            )
            order.state = "accepted"
            order.filled = row.quantity_filled
            order._remaining = row.remaining
            order._set_id(row.order)
            self._orders_by_id[key] = order

    def _adopt_executed(self, message: seto_pb2.OrderExecuted) -> Order | None:
        """An Order for a fill of an order not tracked here, when the extension fields
        say what it is (side, market and contract); else ``None``."""
        if not (
            message.HasField("side") and message.HasField("market") and message.HasField("contract")
        ):
            return None
        order = Order(
            price=message.price,
            side=message.side,
            market=message.market,
            contract=message.contract,
            reference=message.reference if message.HasField("reference") else None,
        )
        order.state = "accepted"
        order._set_id(message.order)
        return order

    def _apply_reply(self, name: str, message: Any) -> tuple[Order | None, str | None]:
        if name == "seto.order_cancel_rejected":
            cancel = self._cancels_by_seq.pop(message.seq, None)
            order = None
            if cancel is not None:
                seqs = self._cancel_seqs.get(cancel.key)
                if seqs is not None and message.seq in seqs:
                    seqs.remove(message.seq)
                    if not seqs:
                        del self._cancel_seqs[cancel.key]
                order = cancel.order or self._orders_by_id.get(cancel.key)
            elif message.HasField("order"):
                order = self._orders_by_id.get(_id_key(message.order))
            if order is None:
                return None, None
            order._cancel_rejected(message)
            return order, "on_cancel_rejected"
        reference = message.reference if message.HasField("reference") else None
        if name == "seto.order_accepted":
            order = self._find(message.seq, reference)
            if order is None:
                return None, None
            order._accepted(message)
            self._forget(order, keep_id=True)
            self._orders_by_id[_id_key(order.id)] = order  # type: ignore[arg-type]
            return order, "on_accepted"
        if name in ("seto.order_rejected", "seto.order_invalid"):
            order = self._find(message.seq, reference)
            if order is None:
                return None, None
            if name == "seto.order_rejected":
                order._rejected(message)
                callback = "on_rejected"
            else:
                order._invalid(message)
                callback = "on_invalid"
            self._forget(order)
            return order, callback
        if name == "seto.order_executed":
            key = _id_key(message.order)
            order = self._orders_by_id.get(key)
            if order is None and reference:
                order = self._orders_by_reference.get(reference)
            if order is None:
                order = self._adopt_executed(message)
            if order is None:
                return None, None
            order._executed(message)
            if order.done:
                self._forget(order)
            else:
                self._forget(order, keep_id=True)
                self._orders_by_id[_id_key(order.id)] = order  # type: ignore[arg-type]
            return order, "on_executed"
        if name == "seto.order_cancelled":
            order = self._orders_by_id.get(_id_key(message.order))
            if order is None and reference:
                order = self._orders_by_reference.get(reference)
            if order is None:
                self._forget_cancels(_id_key(message.order))
                return None, None
            order._cancelled(message)
            self._forget(order)
            return order, "on_cancelled"
        return None, None

    def sent(self, order: Order | Cancel, seq: int) -> None:
        """``order`` (or a cancel) went out as payload ``seq``: its replies will name it."""
        if type(order) is Cancel:
            self._cancels_by_seq[seq] = order
            self._cancel_seqs.setdefault(order.key, []).append(seq)
            return
        order._sent(seq)
        self._orders_by_seq[seq] = order
        if order.reference:
            self._orders_by_reference[order.reference] = order
