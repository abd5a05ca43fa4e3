"""The client's view of the published catalogue: markets found by id, name or event/name."""

from __future__ import annotations

import datetime

import pytest

from smarkets import events
from smarkets.catalogue import Catalogue, ListedMarket, catalogue_requests, fetch_catalogue
from smarkets.errors import InvalidRequestError
from smarkets.proto import seto_pb2


def listing(*markets: tuple[int, str, int, str, list[tuple[int, str]]]) -> seto_pb2.Events:
    """A listing of (event id, event name, market id, market name, contracts)."""
    out = seto_pb2.Events()
    for event_id, event_name, market_id, market_name, contracts in markets:
        event = out.with_markets.add(
            type=seto_pb2.EVENT_FOOTBALL_MATCH,
            category=seto_pb2.EVENT_CATEGORY_FOOTBALL,
            slug="e",
            name=event_name,
        )
        event.event.low = event_id
        market = event.markets.add(slug="m", name=market_name)
        market.market.low = market_id
        for contract_id, name in contracts:
            contract = market.contracts.add(type=seto_pb2.CONTRACT_WINNER, slug="c", name=name)
            contract.contract.low = contract_id
    return out


FOOTBALL = listing(
    (2, "Arsenal v Chelsea", 1, "Match Odds", [(1, "Arsenal"), (2, "Draw"), (3, "Chelsea")]),
    (2, "Arsenal v Chelsea", 2, "Total Goals", [(4, "Over"), (5, "Under")]),
    (3, "Spurs v Hammers", 3, "Match Odds", [(6, "Spurs")]),
)


def test_a_market_as_listed() -> None:
    event = FOOTBALL.with_markets[0]
    event.start_date.year, event.start_date.month, event.start_date.day = 2026, 12, 5
    market = ListedMarket.from_info(event, event.markets[0])
    assert market == ListedMarket(
        "1c024",
        "Match Odds",
        "Arsenal v Chelsea",
        "21100",
        {"1cccc": "Arsenal", "2cccc": "Draw", "3cccc": "Chelsea"},
        datetime.date(2026, 12, 5),
    )
    event.start_time.hour, event.start_time.minute = 15, 30
    start = ListedMarket.from_info(event, event.markets[0]).start
    assert start == datetime.datetime(2026, 12, 5, 15, 30, tzinfo=datetime.timezone.utc)
    event.start_time.hour = 24  # no such time (a server's mistake): no start, no crash
    assert ListedMarket.from_info(event, event.markets[0]).start is None
    event.start_time.hour, event.start_date.month = 15, 0xFFFFFFFF
    assert ListedMarket.from_info(event, event.markets[0]).start is None


def test_find_by_id_name_or_event_and_name() -> None:
    catalogue = Catalogue([FOOTBALL, FOOTBALL])  # a market listed twice is kept once
    assert [m.id for m in catalogue] == ["1c024", "2c024", "3c024"] and len(catalogue) == 3
    assert catalogue.find("2c024").name == "Total Goals"  # type: ignore[union-attr]
    assert catalogue.find(" total GOALS ").id == "2c024"  # type: ignore[union-attr]
    assert catalogue.find("match odds").id == "1c024"  # type: ignore[union-attr]  # the first
    assert catalogue.find("Spurs v Hammers/Match Odds").id == "3c024"  # type: ignore[union-attr]
    assert catalogue.find("Correct Score") is None
    assert catalogue.find("9c024") is None


def test_every_listing_is_asked_for_sports_first() -> None:
    day = datetime.date(2026, 12, 5)
    requests = catalogue_requests(day)
    sports = requests[:11]
    assert [r.sport_type for r in sports] == sorted(seto_pb2.SportByDateType.values())
    assert all(r.date == day for r in sports)
    assert requests[11:] == [
        events.SportOther(),
        events.Politics(),
        events.CurrentAffairs(),
        events.TvAndEntertainment(),
    ]


class FakeClient:
    """Answers fetch_events with a listing per request, refusing the sports' dates."""

    def __init__(self, refuse_sports: bool) -> None:
        self.refuse_sports = refuse_sports
        self.asked: list[events.EventsRequest] = []

    def fetch_events(self, request: events.EventsRequest, timeout: float | None) -> seto_pb2.Events:
        self.asked.append(request)
        if isinstance(request, events.SportByDate):
            if self.refuse_sports:
                raise InvalidRequestError(7, seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE)
            if isinstance(request, events.FootballByDate):
                return FOOTBALL
        if isinstance(request, events.Politics):
            return listing((9, "Election", 9, "Most Seats", [(9, "Labour")]))
        return seto_pb2.Events()


@pytest.mark.parametrize("refuse_sports", [False, True])
def test_fetch_catalogue_gathers_every_listing(refuse_sports: bool, caplog) -> None:
    client = FakeClient(refuse_sports)
    catalogue = fetch_catalogue(client, datetime.date(2026, 12, 5))  # type: ignore[arg-type]
    assert len(client.asked) == 15
    names = [m.id for m in catalogue]
    if refuse_sports:
        assert names == ["9c024"]
        assert "DATE_OUT_OF_RANGE" in caplog.text
    else:
        assert names == ["1c024", "2c024", "3c024", "9c024"]
