"""The simulated traders: reproducible from a seed, and they make markets trade."""

from __future__ import annotations

from smarkets.proto import seto_pb2
from smarkets.sandbox.exchange import Exchange, ToMarket
from smarkets.sandbox.exchange.bots import BotFleet
from smarkets.sandbox.exchange.markets_file import default_markets


def fleet(seed: int, count: int = 3) -> tuple[Exchange, BotFleet]:
    exchange = Exchange(clock=lambda: 1_700_000_000.0, order_id_key=b"bots")
    specs = default_markets()
    for spec in specs:
        exchange.add_market(
            spec.id, spec.name, spec.event_id, spec.event_name, spec.contract_names()
        )
    return exchange, BotFleet(exchange, count, seed, [(s.id, s.contract_ids()) for s in specs])


def open_markets(exchange: Exchange, account_id: int) -> list[int]:
    """The market of each open order of the account (from orders_for_account)."""
    markets = exchange.orders_for_account(account_id).orders_for_account.markets
    return [
        m.market.low
        for m in markets
        for c in m.contracts
        for level in [*c.bids, *c.offers]
        for _ in level.orders
    ]


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
        assert len(open_markets(exchange, bot_id)) <= 2 * 11
    assert [bot.name for bot in bots.bots] == ["bot1", "bot2", "bot3"]


def test_bots_stop_trading_a_settled_market() -> None:
    exchange, bots = fleet(3, count=1)
    for _ in range(5):
        bots.step()
    exchange.settle(3, 6)
    for _ in range(50):
        bots.step()
    assert 3 not in open_markets(exchange, bots.account_ids[0])
    assert 3 in bots._closed


def test_bots_send_published_order_creates() -> None:
    exchange, bots = fleet(5, count=1)
    seen = []
    real = exchange.place_order

    def spy(account_id, create, seq):  # type: ignore[no-untyped-def]
        seen.append(create)
        return real(account_id, create, seq)

    exchange.place_order = spy  # type: ignore[method-assign]
    for _ in range(20):
        bots.step()
    assert seen
    for create in seen:
        assert create.type == seto_pb2.ORDER_CREATE_LIMIT
        assert create.HasField("quantity_type") and create.HasField("price_type")
        assert not any(f.number >= 100 for f, _ in create.ListFields())


def test_no_bots_no_output() -> None:
    _, bots = fleet(0, count=0)
    assert bots.step() == []
