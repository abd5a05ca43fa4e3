"""The simulated traders: reproducible from a seed, and they make markets trade."""

from __future__ import annotations

from smarkets.proto import seto_pb2
from smarkets.sandbox.bots import BotFleet
from smarkets.sandbox.catalogue import default_markets
from smarkets.sandbox.exchange import Exchange, ToMarket


def fleet(seed: int, count: int = 3) -> tuple[Exchange, BotFleet]:
    exchange = Exchange(clock=lambda: 1_700_000_000.0)
    specs = default_markets()
    for spec in specs:
        exchange.add_market(spec.id, spec.name, spec.event_id, spec.event_name, spec.contracts)
    return exchange, BotFleet(exchange, count, seed, [(s.id, s.contract_ids()) for s in specs])


def transcript(seed: int, steps: int = 60) -> list[tuple[object, bytes]]:
    _, bots = fleet(seed)
    out = []
    for _ in range(steps):
        out += [(to, payload.SerializePartialToString()) for to, payload in bots.step()]
        out.append(("delay", repr(bots.next_delay()).encode()))
    return out


def test_same_seed_same_actions_and_outputs() -> None:
    assert transcript(42) == transcript(42)


def test_different_seeds_differ() -> None:
    assert transcript(1, 10) != transcript(2, 10)


def test_bots_quote_and_trade_within_the_rules() -> None:
    exchange, bots = fleet(7)
    trades = 0
    for _ in range(200):
        for recipient, payload in bots.step():
            if isinstance(recipient, ToMarket) and payload.type == seto_pb2.PAYLOAD_CONTRACT_QUOTES:
                trades += len(payload.contract_quotes.executions)
        assert 0.1 <= bots.next_delay() <= 0.3
    exchange.check_invariants()
    assert trades > 0
    # each bot keeps at most a bid and an offer per contract
    for bot_id in bots.account_ids:
        assert len(exchange.open_orders(bot_id).orders.orders) <= 2 * 11
    assert [bot.name for bot in bots.bots] == ["bot1", "bot2", "bot3"]


def test_bots_stop_trading_a_settled_market() -> None:
    exchange, bots = fleet(3, count=1)
    for _ in range(5):
        bots.step()
    exchange.settle(3, 6)
    for _ in range(50):
        bots.step()
    assert all(
        order.market.low != 3 for order in exchange.open_orders(bots.account_ids[0]).orders.orders
    )
    assert 3 in bots._closed


def test_no_bots_no_output() -> None:
    _, bots = fleet(0, count=0)
    assert bots.step() == []
