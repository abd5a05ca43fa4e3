"""The markets file and the default catalogue."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from smarkets.proto import seto_pb2
from smarkets.sandbox.exchange import Exchange, markets_file
from smarkets.sandbox.exchange.catalogue import (
    SPORT_EVENT_TYPES,
    CatalogueError,
    Listing,
    MarketSpec,
    event_id_for,
)
from smarkets.sandbox.exchange.markets_file import (
    default_catalogue,
    default_markets,
    load_catalogue,
    load_markets,
    parse_catalogue,
    parse_market,
    parse_markets,
)

GOOD = {
    "markets": [
        {
            "id": "1c024",
            "name": "Match Odds",
            "event": "A v B",
            "contracts": [{"id": "1cccc", "name": "A"}, {"id": "2cccc", "name": "B"}],
        },
        {
            "id": "fc024",
            "name": "Winner",
            "event": "Cup",
            "event_id": "51100",
            "contracts": [{"id": "10cccc", "name": "X"}],
        },
    ]
}


def market(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(json.dumps(GOOD["markets"][0]))
    obj.update(changes)
    return obj


def test_load_good_file(tmp_path: Path) -> None:
    path = tmp_path / "markets.json"
    path.write_text(json.dumps(GOOD))
    first, second = load_markets(path)
    assert first == MarketSpec(
        1, "Match Odds", event_id_for("A v B"), "A v B", ((1, "A"), (2, "B"))
    )
    assert first.text_id == "1c024" and first.contract_ids() == [1, 2]
    assert (second.id, second.event_id, second.contract_names()) == (15, 5, [(16, "X")])


def test_event_ids_are_derived_deterministically() -> None:
    assert event_id_for("A v B") == event_id_for("A v B") != event_id_for("A v C")
    assert 0 < event_id_for("A v B") < 1 << 48
    one, two = parse_markets(
        {"markets": [market(), market(id="2c024", contracts=[{"id": "5cccc", "name": "Z"}])]}
    )
    assert one.event_id == two.event_id


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "must be an object"),
        (market(id="1cccc"), "expected c024"),
        (market(id=1), "tagged hex"),
        (market(id="zz"), "not a tagged hex"),
        (market(name=""), "name must be a non-empty string"),
        (market(event=None), "missing 'event'"),
        (market(event=5), "event must be"),
        (market(event_id="1c024"), "expected 1100"),
        (market(contracts=[]), "non-empty list"),
        (market(contracts="A"), "non-empty list"),
        (market(contracts=[{"id": "1cccc"}]), "missing 'name'"),
        (market(contracts=[{"id": "1c024", "name": "A"}]), "expected cccc"),
        (market(contracts=[{"id": "1cccc", "name": "A"}, {"id": "1cccc", "name": "B"}]), "twice"),
        (market(contracts=[{"id": "1cccc", "name": "A", "price": 5}]), "unknown key"),
        (market(colour="red"), "unknown key"),
        ({"id": "1c024", "name": "x", "contracts": []}, "missing 'event'"),
    ],
)
def test_bad_market(obj: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_market(obj)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "JSON object"),
        ({"markets": []}, "non-empty list"),
        ({"markets": [], "x": 1}, "unknown top-level"),
        ({"markets": [market(), market()]}, "defined twice"),
        ({"markets": [market(), market(id="2c024")]}, "already in another market"),
        (
            {
                "markets": [
                    market(event_id="11100"),
                    market(
                        id="2c024",
                        event="Other",
                        event_id="11100",
                        contracts=[{"id": "9cccc", "name": "Z"}],
                    ),
                ]
            },
            "is both",
        ),
        ({"markets": [market(), {"id": "2c024"}]}, r"markets\[1\]: missing"),
    ],
)
def test_bad_documents(doc: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_markets(doc)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read markets file"):
        load_markets(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("[1,")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_markets(broken)
    bad = tmp_path / "bad.json"
    bad.write_text('{"markets": [{"id": "x"}]}')
    with pytest.raises(CatalogueError, match=r"bad\.json': markets\[0\]"):
        load_markets(bad)


def test_default_catalogue_opens_on_an_exchange() -> None:
    specs = default_markets()
    assert [spec.text_id for spec in specs] == ["1c024", "2c024", "3c024", "4c024", "5c024"]
    exchange = Exchange()
    for spec in specs:
        exchange.add_market(
            spec.id, spec.name, spec.event_id, spec.event_name, spec.contract_names()
        )
    events = exchange.markets.payload().markets.events
    assert [event.name for event in events] == [
        "Arsenal v Chelsea",
        "Alcaraz v Sinner",
        "Grand National",
        "Next General Election",
    ]
    assert len(events[0].markets) == 2


# -- events, listings -------------------------------------------------------------------------

TODAY = datetime.date(2026, 12, 2)


def doc_with_events(*events: dict[str, Any], markets: list[dict[str, Any]] | None = None) -> Any:
    return {"events": list(events), "markets": markets or []}


def event(**fields: Any) -> dict[str, Any]:
    base = {"id": "11100", "name": "Arsenal v Chelsea", "type": "football_match"}
    base.update(fields)
    return base


def market_in(event_id: str, market_id: str = "1c024", contract: str = "1cccc") -> dict:
    return {
        "id": market_id,
        "name": "Match Odds",
        "event_id": event_id,
        "contracts": [{"id": contract, "name": "Home", "type": "winner"}],
    }


def test_events_with_dates_types_categories_and_parents() -> None:
    catalogue = parse_catalogue(
        doc_with_events(
            event(
                id="11100",
                name="Premier League",
                type="football_season",
                start="2026-08-15",
                end="2027-05-23",
                category="football",
            ),
            event(
                id="21100",
                parent="11100",
                start="today+1 T15:30",
                category="FOOTBALL",
                slug="ars-che",
                description="London derby",
            ),
            markets=[market_in("21100")],
        ),
        today=TODAY,
    )
    match = catalogue.events[0x2]
    assert match.start_date == datetime.date(2026, 12, 3)
    assert match.start_time == datetime.time(15, 30)
    assert (match.type, match.category) == (
        seto_pb2.EVENT_FOOTBALL_MATCH,
        seto_pb2.EVENT_CATEGORY_FOOTBALL,
    )
    assert (match.slug, match.parent, match.description) == ("ars-che", 1, "London derby")
    season = catalogue.events[0x1]
    assert (season.slug, season.end_date) == ("premier-league", datetime.date(2027, 5, 23))
    (spec,) = catalogue.markets.values()
    assert spec.event_name == "Arsenal v Chelsea"  # named by id only, filled in
    assert spec.contracts[0].type == seto_pb2.CONTRACT_WINNER
    assert spec.contracts[0].slug == "home" and spec.slug == "match-odds"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "cricket"}, "type must be one of"),
        ({"category": "weather"}, "category must be one of"),
        ({"start": "tomorrow"}, "start must be YYYY-MM-DD"),
        ({"start": "2026-02-30"}, "not a valid date"),
        ({"start": "today T25:00"}, "not a valid date"),
        ({"start": "2026-12-05", "end": "2026-12-04"}, "end is before the start"),
        ({"parent": "91100"}, "no event '91100'"),
        ({"parent": "11100"}, "cycle"),
        ({"id": "1c024"}, "expected 1100"),
        ({"colour": "red"}, "unknown key"),
        ({"name": ""}, "name must be a non-empty string"),
    ],
)
def test_bad_events(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(doc_with_events(event(**changes), markets=[market_in("11100")]), TODAY)


def test_bad_event_documents() -> None:
    twice = doc_with_events(event(), event(), markets=[market_in("11100")])
    with pytest.raises(CatalogueError, match="already exists"):
        parse_catalogue(twice, TODAY)
    cycle = doc_with_events(
        event(id="11100", parent="21100"),
        event(id="21100", parent="11100"),
        markets=[market_in("11100")],
    )
    with pytest.raises(CatalogueError, match="cycle"):
        parse_catalogue(cycle, TODAY)
    with pytest.raises(CatalogueError, match=r"markets\[0\]: event_id '51100' is not an event"):
        parse_catalogue(doc_with_events(event(), markets=[market_in("51100")]), TODAY)
    with pytest.raises(CatalogueError, match="'events' must be a list"):
        parse_catalogue({"events": {}, "markets": [market_in("11100")]}, TODAY)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"category": "politics"}, Listing(seto_pb2.EVENTS_REQUEST_POLITICS)),
        ({"category": "current_affairs"}, Listing(seto_pb2.EVENTS_REQUEST_CURRENT_AFFAIRS)),
        (
            {"category": "tv_and_entertainment", "start": "today"},
            Listing(seto_pb2.EVENTS_REQUEST_TV_AND_ENTERTAINMENT),
        ),
        (
            {"type": "football_match", "start": "today+2"},
            Listing(
                seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE,
                seto_pb2.SPORT_BY_DATE_FOOTBALL,
                datetime.date(2026, 12, 4),
            ),
        ),
        (
            {"type": "rugby_league_match", "start": "2026-12-01T19:45"},
            Listing(
                seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE,
                seto_pb2.SPORT_BY_DATE_RUGBYLEAGUE,
                datetime.date(2026, 12, 1),
            ),
        ),
        ({"type": "football_match"}, Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER)),  # no date
        (
            {"type": "football_season", "start": "today"},
            Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER),
        ),
        ({"type": "golf_season"}, Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER)),
        ({"type": "generic", "category": "generic"}, Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER)),
    ],
)
def test_each_event_belongs_to_one_listing(fields: dict[str, Any], expected: Listing) -> None:
    catalogue = parse_catalogue(
        doc_with_events(event(**fields), markets=[market_in("11100")]), TODAY
    )
    assert catalogue.events[1].listing() == expected
    listed = catalogue.listing(expected)
    assert [e.event.low for e in listed.with_markets] == [1]
    others = [
        Listing(kind)
        for kind in seto_pb2.EventsRequestType.values()
        if kind != seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE and Listing(kind) != expected
    ]
    assert all(not catalogue.listing(other).with_markets for other in others)


def test_every_by_date_sport_has_a_match_type() -> None:
    assert set(SPORT_EVENT_TYPES) == set(seto_pb2.SportByDateType.values())


def test_a_listing_holds_its_events_markets_contracts_and_parents() -> None:
    catalogue = parse_catalogue(
        doc_with_events(
            event(id="11100", name="Football", type="football", category="sport"),
            event(id="21100", name="Premier League", type="football_season", parent="11100"),
            event(id="31100", name="Late match", parent="21100", start="today T20:00"),
            event(id="41100", name="Early match", parent="21100", start="today T12:00"),
            event(id="51100", name="No markets", parent="21100", start="today T13:00"),
            event(id="61100", name="Tomorrow", parent="21100", start="today+1"),
            markets=[
                market_in("31100", "1c024", "1cccc"),
                market_in("41100", "2c024", "2cccc"),
                {**market_in("41100", "3c024", "3cccc"), "name": "Total Goals"},
                market_in("61100", "4c024", "4cccc"),
            ],
        ),
        TODAY,
    )
    listing = Listing(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, seto_pb2.SPORT_BY_DATE_FOOTBALL, TODAY)
    events = catalogue.listing(listing)
    assert [e.name for e in events.with_markets] == ["Early match", "Late match"]
    early = events.with_markets[0]
    assert [m.name for m in early.markets] == ["Match Odds", "Total Goals"]
    assert [c.contract.low for c in early.markets[1].contracts] == [3]
    assert (early.start_date.day, early.start_time.hour, early.parent.low) == (2, 12, 2)
    assert [p.name for p in events.parents] == ["Premier League", "Football"]  # each once
    assert not events.parents[1].HasField("parent")
    assert events.IsInitialized()
    # Kept until the catalogue changes, then rebuilt.
    body = catalogue.listing_body(listing)
    assert seto_pb2.Events.FromString(body) == events
    assert catalogue.listing_body(listing) is body
    catalogue.add_market(MarketSpec(5, "New", 4, None, ((5, "X"),)))
    assert (
        len(seto_pb2.Events.FromString(catalogue.listing_body(listing)).with_markets[0].markets)
        == 3
    )


def test_an_old_file_lists_its_events_under_sport_other() -> None:
    catalogue = parse_catalogue(GOOD, TODAY)
    events = catalogue.listing(Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER))
    assert sorted(e.name for e in events.with_markets) == ["A v B", "Cup"]
    assert all(e.type == seto_pb2.EVENT_GENERIC for e in events.with_markets)
    assert [e.slug for e in events.with_markets] == ["a-v-b", "cup"]


@pytest.mark.parametrize(
    "listing",
    [
        Listing(seto_pb2.EVENTS_REQUEST_POLITICS),
        Listing(seto_pb2.EVENTS_REQUEST_TV_AND_ENTERTAINMENT),
        Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER),
        Listing(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, seto_pb2.SPORT_BY_DATE_HORSE_RACING, TODAY),
    ],
)
def test_listing_paths_round_trip(listing: Listing) -> None:
    assert listing.path.startswith("/events/")
    assert Listing.from_path(listing.path) == listing


def test_listing_paths() -> None:
    by_date = Listing(
        seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, seto_pb2.SPORT_BY_DATE_AMERICANFOOTBALL, TODAY
    )
    assert by_date.path == "/events/americanfootball/2026-12-02"
    assert Listing(seto_pb2.EVENTS_REQUEST_CURRENT_AFFAIRS).path == "/events/current-affairs"
    for path in [
        "/events/",
        "/events/football",
        "/events/politics/2026-12-02",
        "/events/football/2026-13-01",
        "/events/football/26-12-01",
        "/events/football/2026-12-02/x",
        "/events/sport-by-date",
        "/x/politics",
    ]:
        assert Listing.from_path(path) is None, path


def test_listing_from_request_and_window() -> None:
    request = seto_pb2.EventsRequest(
        type=seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, content_type=seto_pb2.CONTENT_TYPE_PROTOBUF
    )
    assert Listing.from_request(request) is None  # no sport_by_date
    request.sport_by_date.type = seto_pb2.SPORT_BY_DATE_TENNIS
    request.sport_by_date.date.year, request.sport_by_date.date.month = 2026, 2
    request.sport_by_date.date.day = 30
    assert Listing.from_request(request) is None  # no such day
    request.sport_by_date.date.day = 0xFFFFFFFF
    assert Listing.from_request(request) is None  # beyond any day (and C's int)
    request.sport_by_date.date.day = 28
    listing = Listing.from_request(request)
    assert listing == Listing(
        seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE,
        seto_pb2.SPORT_BY_DATE_TENNIS,
        datetime.date(2026, 2, 28),
    )
    assert listing.in_window(datetime.date(2026, 3, 30), 30)
    assert not listing.in_window(datetime.date(2026, 3, 31), 30)
    assert listing.in_window(datetime.date(2026, 1, 29), 30)
    assert not listing.in_window(datetime.date(2026, 1, 28), 30)
    politics = seto_pb2.EventsRequest(
        type=seto_pb2.EVENTS_REQUEST_POLITICS, content_type=seto_pb2.CONTENT_TYPE_PROTOBUF
    )
    assert Listing.from_request(politics) == Listing(seto_pb2.EVENTS_REQUEST_POLITICS)
    assert Listing(seto_pb2.EVENTS_REQUEST_POLITICS).in_window(datetime.date(1990, 1, 1), 0)


def test_the_default_catalogue_lists_today(tmp_path: Path) -> None:
    catalogue = default_catalogue(TODAY)
    football = Listing(
        seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, seto_pb2.SPORT_BY_DATE_FOOTBALL, TODAY
    )
    assert [e.name for e in catalogue.listing(football).with_markets] == ["Arsenal v Chelsea"]
    politics = catalogue.listing(Listing(seto_pb2.EVENTS_REQUEST_POLITICS))
    assert [m.name for m in politics.with_markets[0].markets] == ["Most Seats"]
    # The file is an example of the format: it loads the same from disk.
    path = tmp_path / "markets.json"
    path.write_text(json.dumps(json.loads(_default_file_text())))
    assert load_catalogue(path, TODAY) == catalogue


def _default_file_text() -> str:
    return (Path(markets_file.__file__).parent.parent / "default_markets.json").read_text()
