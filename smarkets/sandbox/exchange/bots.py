"""Simulated traders, so that a sandbox market looks alive: quotes move and trades happen.

A :class:`BotFleet` owns ``count`` bot accounts (``bot1``, ``bot2``, ...) and acts directly
on the :class:`~smarkets.sandbox.exchange.engine.Exchange` object; it has no sessions and no
credentials (nobody can log in as a bot). The server calls :meth:`BotFleet.step` on a timer
and routes what it returns exactly like the outputs of a client's request, so subscribers
see the bots' quotes and trades.

Each bot keeps its own idea of every contract's fair price, a random walk. At each step
every bot, in turn, picks one contract, moves its fair price, cancels the bid and offer it
had there and quotes a fresh bid and offer around the new fair price. Now and then it also
crosses the spread with an IMMEDIATE_OR_CANCEL order, and since the bots disagree about
fair prices their quotes cross one another too: trades happen.

Everything a bot decides comes from one :class:`random.Random` seeded with ``seed``, so a
fleet given the same seed and the same markets issues the same sequence of requests; when
nothing else trades on the exchange the outputs are the same too (execution timestamps
aside). Only the wall-clock spacing of the steps varies.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from smarkets.proto import seto_pb2
from smarkets.protocol.ids import set_uuid128, uuid128_int
from smarkets.protocol.orders import MAX_PRICE, MIN_PRICE
from smarkets.sandbox.exchange.engine import Exchange
from smarkets.sandbox.exchange.messages import Output, ToAccount

__all__ = ["BOT_BALANCE", "Bot", "BotFleet"]

_log = logging.getLogger(__name__)

#: Each bot's opening balance: 100,000,000.00, enough to trade for a very long time.
BOT_BALANCE = 1_000_000_000_000
#: Range of the pause between two steps, in seconds.
STEP_DELAY = (0.1, 0.3)
#: Fair prices stay within these bounds (basis points).
FAIR_MIN, FAIR_MAX = 300, 9700
#: Probability that a bot also crosses the spread on a step.
CROSS_PROBABILITY = 0.2


@dataclass
class Bot:
    """One simulated trader: its account, fair prices and resting quotes."""

    name: str
    account_id: int
    #: Contract id -> this bot's fair price for it.
    fair: dict[int, int] = field(default_factory=dict)
    #: Contract id -> ids of the bot's resting orders there (bid and offer).
    quotes: dict[int, list[int]] = field(default_factory=dict)


class BotFleet:
    """``count`` bots trading the markets they are given, reproducibly from ``seed``.

    ``markets`` are ``(market_id, contract_ids)`` pairs; more can be added later with
    :meth:`add_market`. The bot accounts are opened on ``exchange`` at once; a name already
    taken raises ``ValueError``.
    """

    def __init__(
        self,
        exchange: Exchange,
        count: int,
        seed: int = 0,
        markets: Iterable[tuple[int, Iterable[int]]] = (),
        *,
        balance: int = BOT_BALANCE,
    ) -> None:
        if count < 0:
            raise ValueError(f"the number of bots must be >= 0, not {count}")
        self._exchange = exchange
        self._rng = random.Random(seed)
        self._seq = 0
        self.bots = [
            Bot(f"bot{i}", exchange.add_account(f"bot{i}", balance)) for i in range(1, count + 1)
        ]
        #: (market id, contract id) pairs the bots trade, in the order they were added.
        self._contracts: list[tuple[int, int]] = []
        self._market_size: dict[int, int] = {}
        #: Markets that refused an order as settled: not traded any more.
        self._closed: set[int] = set()
        for market_id, contract_ids in markets:
            self.add_market(market_id, contract_ids)

    @property
    def account_ids(self) -> list[int]:
        """The bots' account ids."""
        return [bot.account_id for bot in self.bots]

    def add_market(self, market_id: int, contract_ids: Iterable[int]) -> None:
        """Let the bots trade a market's contracts too."""
        contract_ids = list(contract_ids)
        self._market_size[market_id] = len(contract_ids)
        self._contracts.extend((market_id, contract_id) for contract_id in contract_ids)

    def next_delay(self) -> float:
        """How long to wait before the next :meth:`step` (drawn from the seeded generator)."""
        return self._rng.uniform(*STEP_DELAY)

    def step(self) -> list[Output]:
        """Let every bot act once; return all the exchange's outputs, in order."""
        out: list[Output] = []
        if not self.bots:
            return out
        for bot in self.bots:
            contracts = [mc for mc in self._contracts if mc[0] not in self._closed]
            if not contracts:
                break
            market_id, contract_id = contracts[self._rng.randrange(len(contracts))]
            out.extend(self._act(bot, market_id, contract_id))
        return out

    # -- one bot's move -----------------------------------------------------------------------

    def _act(self, bot: Bot, market_id: int, contract_id: int) -> list[Output]:
        rng = self._rng
        fair = bot.fair.get(contract_id)
        if fair is None:
            base = 10_000 // max(self._market_size.get(market_id, 2), 1)
            fair = base + round(rng.gauss(0, 150))
        fair = min(max(fair + round(rng.gauss(0, 40)), FAIR_MIN), FAIR_MAX)
        bot.fair[contract_id] = fair
        half_spread = rng.randint(20, 150)
        out: list[Output] = []
        for order_id in bot.quotes.pop(contract_id, ()):
            out.extend(self._exchange.cancel_order(bot.account_id, order_id, self._next_seq()))
        if rng.random() < CROSS_PROBABILITY:
            side = seto_pb2.SIDE_BUY if rng.random() < 0.5 else seto_pb2.SIDE_SELL
            price = fair + 300 if side == seto_pb2.SIDE_BUY else fair - 300
            quantity = rng.randint(1, 10) * 5_000
            out.extend(
                self._place(bot, market_id, contract_id, side, price, quantity, immediate=True)
            )
        bid = fair - half_spread
        offer = fair + half_spread
        placed: list[int] = []
        for side, price in ((seto_pb2.SIDE_BUY, bid), (seto_pb2.SIDE_SELL, offer)):
            quantity = rng.randint(2, 40) * 5_000
            outputs = self._place(bot, market_id, contract_id, side, price, quantity)
            out.extend(outputs)
            placed.extend(self._accepted_ids(bot, outputs))
        if placed:
            bot.quotes[contract_id] = placed
        return out

    def _place(
        self,
        bot: Bot,
        market_id: int,
        contract_id: int,
        side: int,
        price: int,
        quantity: int,
        *,
        immediate: bool = False,
    ) -> list[Output]:
        # A published order_create: every field a 2013 client would set.
        create = seto_pb2.OrderCreate(
            type=seto_pb2.ORDER_CREATE_LIMIT,
            side=side,
            quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY,
            quantity=quantity,
            price_type=seto_pb2.PRICE_PERCENT_ODDS,
            price=min(max(price, MIN_PRICE), MAX_PRICE),
        )
        set_uuid128(create.market, market_id)
        set_uuid128(create.contract, contract_id)
        if immediate:
            create.tif = seto_pb2.IMMEDIATE_OR_CANCEL
        outputs = self._exchange.place_order(bot.account_id, create, self._next_seq())
        for recipient, payload in outputs:
            if (
                payload.type == seto_pb2.PAYLOAD_ORDER_REJECTED
                and payload.order_rejected.reason == seto_pb2.ORDER_REJECTED_MARKET_SETTLED
                and recipient == ToAccount(bot.account_id)
            ):
                self._closed.add(market_id)
                _log.debug("market %d is settled: bots stop trading it", market_id)
        return outputs

    @staticmethod
    def _accepted_ids(bot: Bot, outputs: list[Output]) -> list[int]:
        """Ids of the orders accepted in ``outputs`` that are still resting."""
        accepted: list[int] = []
        done: set[int] = set()
        mine = ToAccount(bot.account_id)
        for recipient, payload in outputs:
            if recipient != mine:
                continue
            if payload.type == seto_pb2.PAYLOAD_ORDER_ACCEPTED:
                accepted.append(uuid128_int(payload.order_accepted.order))
            elif payload.type == seto_pb2.PAYLOAD_ORDER_EXECUTED:
                executed = payload.order_executed
                if executed.HasField("remaining") and executed.remaining == 0:
                    done.add(uuid128_int(executed.order))
        return [order_id for order_id in accepted if order_id not in done]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq
