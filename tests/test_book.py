"""The client-side order book (smarkets.book) with hand-built payloads, and its client hook."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

import smarkets
import smarkets.protocol.names
from smarkets.book import SATURATED_QUANTITY, Books, Depth, Level, Trade, UnknownContractError
from smarkets.proto import eto_pb2, seto_pb2

MARKET = 0x1
OTHER_MARKET = 0x2
C1, C2, C3 = 0x1, 0x2, 0x3

Quotes = Iterable[tuple[int, int]]


def uuid(n: int) -> seto_pb2.Uuid128:
    return smarkets.int_to_uuid128(n)


def fill(
    cq: seto_pb2.ContractQuotes,
    contract: int,
    market: int | None,
    bids: Quotes = (),
    offers: Quotes = (),
    executions: Iterable[tuple[int, int]] = (),
    volume: int | None = None,
) -> None:
    cq.contract.CopyFrom(uuid(contract))
    if market is not None:
        cq.market.CopyFrom(uuid(market))
    for price, quantity in bids:
        cq.bids.add(price=price, quantity=quantity)
    for price, quantity in offers:
        cq.offers.add(price=price, quantity=quantity)
    for price, quantity in executions:
        cq.executions.add(
            price=price, quantity=quantity, liquidity=seto_pb2.SIDE_BUY, microseconds=7
        )
    if volume is not None:
        cq.volume = volume


def snapshot(market: int, books: dict[int, tuple[Quotes, Quotes]], **kw) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_QUOTES)
    payload.eto_payload.seq = kw.pop("seq", 1)
    mq = payload.market_quotes
    mq.market.CopyFrom(uuid(market))
    mq.price_type = seto_pb2.PRICE_PERCENT_ODDS
    mq.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    state = kw.pop("state", seto_pb2.MARKET_STATUS_OPEN)
    if state is not None:
        mq.state = state
    for contract, (bids, offers) in books.items():
        fill(mq.contract_quotes.add(), contract, market, bids, offers, **kw)
    return payload


def update(contract: int, market: int | None = MARKET, **kw) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    payload.eto_payload.seq = kw.pop("seq", 2)
    fill(payload.contract_quotes, contract, market, **kw)
    return payload


def apply(books: Books, payload: seto_pb2.Payload) -> bool:
    name, message = smarkets.protocol.names.payload_name(payload)
    return books.apply(name, message)


@pytest.fixture
def books() -> Books:
    b = Books()
    apply(
        b,
        snapshot(
            MARKET,
            {
                C1: ([(4500, 10000), (4400, 20000), (4000, 5000)], [(4700, 3000), (4800, 1000)]),
                C2: ([], [(2000, 7000)]),
            },
            volume=123000,
        ),
    )
    return b


def test_snapshot_gives_whole_books(books: Books) -> None:
    book = books["1c024"]
    assert book.id == "1c024" and book.market == MARKET
    assert book.state == seto_pb2.MARKET_STATUS_OPEN
    assert book.contracts == ["1cccc", "2cccc"]
    assert book.best_bid_offer("1cccc") == (Level(4500, 10000), Level(4700, 3000))
    assert book.best_bid_offer(C2) == (None, Level(2000, 7000))
    assert book.depth("1cccc", levels=2) == Depth(
        [Level(4500, 10000), Level(4400, 20000)], [Level(4700, 3000), Level(4800, 1000)]
    )
    assert book.depth(uuid(C1), levels=None).bids[-1] == Level(4000, 5000)
    assert book.volume("1cccc") == 123000
    assert book.last_trade("1cccc") is None and book.executions("1cccc") == []
    # Every spelling of the ids works, and the contract book object is reachable.
    assert books.get(MARKET) is book and books.get(uuid(MARKET)) is book
    assert book.contract(C1) is book.get("1cccc")
    assert "1cccc" in book and 0x9 not in book and "junk" not in book
    assert list(books) == ["1c024"] and len(books) == 1 and "1c024" in books


def test_update_changes_only_the_levels_it_names(books: Books) -> None:
    book = books["1c024"]
    contract = book.contract(C1)
    before = contract.updates
    assert apply(books, update(C1, bids=[(4600, 1000), (4400, 0)], offers=[(4700, 9000)]))
    assert contract.updates == before + 1
    assert book.depth(C1, levels=None) == Depth(
        [Level(4600, 1000), Level(4500, 10000), Level(4000, 5000)],
        [Level(4700, 9000), Level(4800, 1000)],
    )
    # The other contract is untouched.
    assert book.best_bid_offer(C2) == (None, Level(2000, 7000))


def test_level_removal_empties_a_side(books: Books) -> None:
    apply(books, update(C2, offers=[(2000, 0)]))
    assert books["1c024"].best_bid_offer(C2) == (None, None)
    assert books["1c024"].depth(C2) == Depth([], [])
    # Removing a level that is not there is harmless.
    apply(books, update(C2, offers=[(3000, 0)], bids=[(1, 0)]))
    assert books["1c024"].depth(C2) == Depth([], [])


def test_executions_and_volume(books: Books) -> None:
    apply(books, update(C1, executions=[(4700, 3000)], volume=126000))
    apply(books, update(C1, executions=[(4800, 500), (4800, 500)]))  # no volume: add them up
    book = books["1c024"]
    assert book.last_trade(C1) == Trade(4800, 500, seto_pb2.SIDE_BUY, 7)
    assert [t.price for t in book.executions(C1)] == [4700, 4800, 4800]
    assert book.volume(C1) == 127000


def test_executions_are_bounded() -> None:
    b = Books(max_executions=5)
    apply(b, snapshot(MARKET, {C1: ([], [])}))
    for i in range(20):
        apply(b, update(C1, executions=[(100 + i, 1000)]))
    trades = b["1c024"].executions(C1)
    assert [t.price for t in trades] == [115, 116, 117, 118, 119]


def test_update_before_snapshot_is_ignored() -> None:
    b = Books()
    assert not apply(b, update(C1, bids=[(4500, 1000)]))
    assert not apply(b, update(C1, market=None, bids=[(4500, 1000)]))
    assert b.ignored == 2 and len(b) == 0 and b.get("1c024") is None
    # The snapshot, when it comes, is the book.
    apply(b, snapshot(MARKET, {C1: ([(4000, 2000)], [])}))
    assert b["1c024"].best_bid_offer(C1) == (Level(4000, 2000), None)


def test_unknown_contract(books: Books) -> None:
    book = books["1c024"]
    with pytest.raises(UnknownContractError, match="market 1c024 has no contract 9cccc") as info:
        book.best_bid_offer("9cccc")
    assert isinstance(info.value, smarkets.Error) and isinstance(info.value, KeyError)
    assert book.get(0x9) is None
    # An update for a contract the snapshot did not list, naming a known market: a new book.
    assert apply(books, update(0x9, bids=[(100, 1000)]))
    assert book.best_bid_offer("9cccc") == (Level(100, 1000), None)
    # Without the market, a contract nobody knows cannot be placed: ignored.
    assert not apply(books, update(0xA, market=None, bids=[(100, 1000)]))
    # A known contract's update need not name its market.
    assert apply(books, update(C1, market=None, bids=[(4500, 0)]))
    assert book.best_bid_offer(C1)[0] == Level(4400, 20000)


def test_new_snapshot_replaces_books_in_place(books: Books) -> None:
    book = books["1c024"]
    contract = book.contract(C1)
    apply(books, update(C1, executions=[(4700, 1000)]))
    apply(books, snapshot(MARKET, {C1: ([(3000, 1000)], []), C3: ([], [(5000, 2000)])}))
    assert books["1c024"] is book and book.contract(C1) is contract
    assert book.depth(C1, None) == Depth([Level(3000, 1000)], [])
    assert book.contracts == ["1cccc", "3cccc"]
    with pytest.raises(UnknownContractError):
        book.contract(C2)
    # A dropped contract's updates are ignored now.
    assert not apply(books, update(C2, market=None, offers=[(1000, 1000)]))
    # Trades seen earlier are kept when the snapshot carries none.
    assert book.last_trade(C1) is not None


def test_market_state_and_winner(books: Books) -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    payload.market_state.market.CopyFrom(uuid(MARKET))
    payload.market_state.state = seto_pb2.MARKET_STATUS_SETTLED
    payload.market_state.winner.CopyFrom(uuid(C1))
    assert apply(books, payload)
    assert books["1c024"].state == seto_pb2.MARKET_STATUS_SETTLED
    assert books["1c024"].winner == C1
    payload.market_state.market.CopyFrom(uuid(OTHER_MARKET))
    assert not apply(books, payload)


def test_drop_and_new_session(books: Books) -> None:
    apply(books, snapshot(OTHER_MARKET, {0x20: ([], [])}))
    assert set(books) == {"1c024", "2c024"}
    dropped = books.drop("2c024")
    assert dropped is not None and set(books) == {"1c024"}
    assert not apply(books, update(0x20, market=None, bids=[(10, 1000)]))
    assert books.drop("2c024") is None

    def login_response(session: str) -> seto_pb2.Payload:
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ETO)
        payload.eto_payload.seq = 1
        payload.eto_payload.type = eto_pb2.PAYLOAD_LOGIN_RESPONSE
        payload.eto_payload.login_response.session = session
        return payload

    apply(books, login_response("a9999"))  # the first session: nothing to drop
    assert set(books) == {"1c024"}
    apply(books, login_response("a9999"))  # resumed: books kept
    assert set(books) == {"1c024"}
    apply(books, login_response("b9999"))  # a new session: no subscriptions any more
    assert len(books) == 0


def test_bad_ids() -> None:
    b = Books()
    apply(b, snapshot(MARKET, {C1: ([], [])}))
    with pytest.raises(smarkets.InvalidIdError):
        b["1c024"].contract("1c024")  # a market id is not a contract id
    with pytest.raises(TypeError):
        b["1c024"].contract(1.5)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        b["5c024"]
    assert b.get("nonsense") is None


def test_random_deltas_match_a_naive_model() -> None:
    """Thousands of random deltas: the book always equals a plain dict model."""
    rng = random.Random(5)
    b = Books()
    apply(b, snapshot(MARKET, {C1: ([], [])}))
    model: dict[str, dict[int, int]] = {"bids": {}, "offers": {}}
    for _ in range(3000):
        side = rng.choice(["bids", "offers"])
        changes = [(rng.randint(1, 60), rng.choice([0, 0, 1000, 2000, 5000])) for _ in range(3)]
        changes = list(dict(changes).items())
        apply(b, update(C1, **{side: changes}))
        for price, quantity in changes:
            if quantity:
                model[side][price] = quantity
            else:
                model[side].pop(price, None)
        depth = b["1c024"].depth(C1, levels=None)
        assert depth.bids == [Level(p, q) for p, q in sorted(model["bids"].items(), reverse=True)]
        assert depth.offers == [Level(p, q) for p, q in sorted(model["offers"].items())]


# -- the client keeps the books ---------------------------------------------------------


def test_client_applies_quotes_before_handlers(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session())
    seen: list[object] = []

    def on_quotes(message: seto_pb2.ContractQuotes) -> None:
        book = client.book("1c024")
        assert book is not None
        seen.append(book.best_bid_offer(C1))

    client.add_handler("seto.contract_quotes", on_quotes)
    client.add_handler(
        "seto.market_quotes",
        lambda message: seen.append(client.book("1c024").best_bid_offer(C1)),  # type: ignore[union-attr]
    )
    client.login()
    assert client.book("1c024") is None
    client.subscribe("1c024")
    client.flush()
    loopback.send(snapshot(MARKET, {C1: ([(4500, 1000)], [(4600, 2000)])}))
    loopback.send(update(C1, bids=[(4550, 3000)]))
    client.read(2)
    assert seen == [
        (Level(4500, 1000), Level(4600, 2000)),
        (Level(4550, 3000), Level(4600, 2000)),
    ]
    assert "1c024" in client.books
    # Unsubscribing drops the book at once; updates still in flight are ignored.
    client.del_handler("seto.contract_quotes", on_quotes)
    client.unsubscribe("1c024")
    assert client.book("1c024") is None
    loopback.send(update(C1, bids=[(4560, 3000)]))
    client.read()
    assert client.book("1c024") is None and client.books.ignored == 1


# -- the published fields only (a server without extensions) ---------------------------------


def test_updates_without_market_are_mapped_by_the_snapshot() -> None:
    b = Books()
    apply(b, snapshot(MARKET, {C1: ([(4500, 1000)], [])}, state=None))
    # Published contract_quotes name the contract only: its market is the snapshot's.
    assert apply(b, update(C1, market=None, bids=[(4600, 2000)]))
    book = b["1c024"]
    assert book.best_bid_offer(C1) == (Level(4600, 2000), None)
    assert book.state is None  # no market_state without extensions
    # A contract no snapshot listed cannot be placed without the extension field.
    assert not apply(b, update(C3, market=None, bids=[(100, 1000)]))
    assert b.ignored == 1


def test_volume_is_accumulated_from_executions_without_the_extension() -> None:
    b = Books()
    apply(b, snapshot(MARKET, {C1: ([], [])}, executions=[(4000, 1000)], state=None))
    assert b["1c024"].volume(C1) == 1000
    apply(b, update(C1, market=None, executions=[(4100, 2000), (4200, 500)]))
    assert b["1c024"].volume(C1) == 3500
    assert b["1c024"].last_trade(C1) == Trade(4200, 500, seto_pb2.SIDE_BUY, 7)
    # A later snapshot without volume does not count the trades it shows again.
    apply(b, snapshot(MARKET, {C1: ([], [])}, executions=[(4200, 500)], state=None))
    assert b["1c024"].volume(C1) == 3500


def test_a_saturated_level_is_kept_as_sent() -> None:
    b = Books()
    apply(b, snapshot(MARKET, {C1: ([(4500, SATURATED_QUANTITY)], [])}))
    assert b["1c024"].best_bid_offer(C1)[0] == Level(4500, 4_294_967_295)
