"""The catalogue the published way, from a foreign client (PROTOCOL.md section 3.1).

A sandbox runs with a markets file written here (JSON, relative dates) that holds events of
every listing: politics, current affairs, TV and entertainment, a match of each of the 11
sports listed by date (today, near days, and the edges of the window: today+30, today-30),
and what falls under "sport other" (a season, a generic event, a match without a date, a
sport that is not listed by date, an event named by a market only). The foreign client,
built from the published tables alone, sends ``events_request`` for each listing, gets
``http_found`` with its seq, fetches the URL over HTTPS with the standard library (the
sandbox's CA file), parses the body with the published ``seto.Events`` and compares it with
what the file says. Dates outside the window, and requests with no valid date, get
``invalid_request`` DATE_OUT_OF_RANGE; the session goes on.

"Today" is UTC's date. The sandbox resolves the file's relative dates when it starts and its
window moves at midnight (UTC): a sandbox started on another day is restarted, and a check
that fails after midnight passed during it is run once more, on the new day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .foreign_client import ForeignClient, kind_of, uuid_int
from .published_schema import check_published, eto, seto, unpublished_parts
from .sandbox_runner import Sandbox

# -- the markets file -------------------------------------------------------------------------

#: A listing: (EventsRequestType name, SportByDateType name, days from today) as the
#: ``events_request`` asks for it; sport and days are None except for SPORT_BY_DATE.
ListingKey = tuple[str, str | None, int | None]
POLITICS: ListingKey = ("POLITICS", None, None)
CURRENT_AFFAIRS: ListingKey = ("CURRENT_AFFAIRS", None, None)
TV: ListingKey = ("TV_AND_ENTERTAINMENT", None, None)
OTHER: ListingKey = ("SPORT_OTHER", None, None)


def by_date(sport: str, days: int) -> ListingKey:
    """The listing of ``sport`` on today + ``days``."""
    return ("SPORT_BY_DATE", sport, days)


#: The window the sandbox lists by default (``--listing-days``), either side of today.
WINDOW_DAYS = 30

#: Each event of the file, and the listing that must show it (None: it has no market).
EVENTS: list[tuple[ListingKey | None, dict[str, str]]] = [
    (
        POLITICS,
        {
            "id": "101100",
            "name": "UK General Election",
            "type": "generic",
            "category": "politics",
            "start": "today+20",
            "description": "Which party wins the most seats.",
        },
    ),
    (
        POLITICS,  # an event with a parent in its own listing
        {
            "id": "111100",
            "name": "Holborn and St Pancras",
            "category": "politics",
            "parent": "101100",
            "start": "today+20 T22:00",
        },
    ),
    (
        CURRENT_AFFAIRS,
        {
            "id": "121100",
            "name": "Bank of England Rate Decision",
            "type": "generic",
            "category": "current_affairs",
            "start": "today+3 T12:00",
            "end": "today+3 T12:30",
        },
    ),
    (
        TV,
        {
            "id": "131100",
            "name": "Eurovision 2026",
            "slug": "eurovision-song-contest",
            "type": "eurovision_season",
            "category": "tv_and_entertainment",
            "start": "today+10",
            "end": "today+12",
        },
    ),
    (
        TV,  # a football match by type, but its category chooses the listing
        {
            "id": "141100",
            "name": "Celebrity Soccer Six",
            "type": "football_match",
            "category": "tv_and_entertainment",
            "start": "today T19:00",
        },
    ),
    (
        OTHER,  # a season with a market; the parent of matches in other listings
        {
            "id": "151100",
            "name": "Premier League 2026-27",
            "type": "football_season",
            "category": "football",
            "start": "today-60",
            "end": "today+200",
        },
    ),
    (OTHER, {"id": "161100", "name": "Office Quiz Night"}),  # type and category: generic
    (
        OTHER,  # a match without a date
        {
            "id": "171100",
            "name": "Arsenal v Spurs",
            "type": "football_match",
            "category": "football",
            "parent": "151100",
        },
    ),
    (
        OTHER,  # a sport that is not listed by date
        {
            "id": "181100",
            "name": "Monaco Grand Prix",
            "type": "formula_1_race",
            "category": "sport",
            "start": "today+2 T13:00",
        },
    ),
    (
        by_date("FOOTBALL", 0),
        {
            "id": "201100",
            "name": "Arsenal v Chelsea",
            "type": "football_match",
            "category": "football",
            "parent": "151100",
            "start": "today T15:00",
            "end": "today T17:00",
        },
    ),
    (
        by_date("FOOTBALL", 0),
        {
            "id": "211100",
            "name": "Liverpool v Everton",
            "slug": "merseyside-derby",
            "type": "football_match",
            "category": "football",
            "parent": "151100",
            "start": "today T12:30",
        },
    ),
    (
        by_date("FOOTBALL", WINDOW_DAYS),  # the window's last day
        {
            "id": "221100",
            "name": "Leeds v Fulham",
            "type": "football_match",
            "category": "football",
            "parent": "151100",
            "start": "today+30 T20:00",
        },
    ),
    (
        by_date("FOOTBALL", WINDOW_DAYS + 1),  # a day beyond the window: never listed
        {
            "id": "231100",
            "name": "Bayern v Dortmund",
            "type": "football_match",
            "category": "football",
            "start": "today+31 T18:30",
        },
    ),
    (
        None,
        {
            "id": "241100",
            "name": "Cheltenham",
            "type": "horse_racing_course",
            "category": "horse_racing",
        },
    ),
    (
        by_date("HORSE_RACING", -WINDOW_DAYS),  # the window's first day
        {
            "id": "251100",
            "name": "Cheltenham 14:30",
            "type": "horse_racing_race",
            "category": "horse_racing",
            "parent": "241100",
            "start": "today-30 T14:30",
        },
    ),
    (
        None,
        {
            "id": "261100",
            "name": "Wimbledon",
            "type": "tennis_tournament",
            "category": "tennis",
            "start": "today-12",
            "end": "today+2",
        },
    ),
    (
        None,
        {
            "id": "271100",
            "name": "Men's Singles",
            "type": "tennis_format",
            "category": "tennis",
            "parent": "261100",
        },
    ),
    (
        by_date("TENNIS", 2),  # two levels of parents
        {
            "id": "281100",
            "name": "Men's Singles Final",
            "type": "tennis_round",
            "category": "tennis",
            "parent": "271100",
            "start": "today+2 T14:00",
        },
    ),
    (
        by_date("BASKETBALL", 1),
        {
            "id": "291100",
            "name": "Lakers v Celtics",
            "type": "basketball_match",
            "category": "sport",
            "start": "today+1 T01:30",
        },
    ),
    (
        by_date("AMERICANFOOTBALL", WINDOW_DAYS),
        {
            "id": "2a1100",
            "name": "Chiefs v Eagles",
            "type": "american_football_match",
            "category": "american_football",
            "start": "today+30",
        },
    ),
    (
        by_date("BASEBALL", -1),
        {
            "id": "2b1100",
            "name": "Yankees v Red Sox",
            "type": "baseball_match",
            "category": "sport",
            "start": "today-1 T23:05",
        },
    ),
    (
        by_date("CRICKET", -WINDOW_DAYS),
        {
            "id": "2c1100",
            "name": "England v Australia",
            "type": "cricket_match",
            "category": "sport",
            "start": "today-30 T10:00",
            "end": "today-26 T18:00",
        },
    ),
    (
        by_date("HANDBALL", 7),
        {
            "id": "2d1100",
            "name": "Denmark v France",
            "type": "handball_match",
            "category": "sport",
            "start": "today+7",
        },
    ),
    (
        by_date("RUGBY", WINDOW_DAYS - 1),
        {
            "id": "2e1100",
            "name": "England v Wales",
            "type": "rugby_union_match",
            "category": "rugby",
            "start": "today+29 T16:45",
        },
    ),
    (
        by_date("RUGBYLEAGUE", 1 - WINDOW_DAYS),
        {
            "id": "2f1100",
            "name": "Wigan v St Helens",
            "type": "rugby_league_match",
            "category": "rugby",
            "start": "today-29 T20:00",
        },
    ),
    (
        by_date("VOLLEYBALL", 15),
        {
            "id": "301100",
            "name": "Italy v Poland",
            "type": "volleyball_match",
            "category": "sport",
            "start": "today+15",
        },
    ),
]

#: A market naming its event by name only (a file written before events existed): a
#: generic event of that name, listed under sport other.
NAMED_ONLY_EVENT = "Charity Golf Day"


#: Market slugs given in the file (the others are the default slug of the name).
MARKET_SLUGS = {"Hung Parliament": "hung", "Half-time/Full-time": "htft"}


def _markets() -> list[dict[str, Any]]:
    """The markets of the file: ids in order, contract ids unique across the file."""
    # (event id, market name, "contract[:type]|...")
    specs = [
        ("101100", "Most Seats", "Labour:winner|Conservative:winner|Other"),
        ("101100", "Hung Parliament", "Yes:binary|No:binary"),
        ("111100", "Winner", "Labour:winner|Green:winner"),
        ("121100", "Rate Cut", "Cut:binary|Hold:binary"),
        ("131100", "Winner", "Sweden:winner|Ukraine:winner"),
        ("141100", "Match Odds", "Team A:winner|Team B:winner"),
        ("151100", "Outright Winner", "Arsenal:winner|Man City:winner"),
        ("161100", "Winning Table", "Table 1|Table 2"),
        ("171100", "Match Odds", "Arsenal:winner|Draw|Spurs:winner"),
        ("181100", "Race Winner", "Leclerc:winner|Verstappen:winner"),
        ("201100", "Match Odds", "Arsenal:winner|Draw|Chelsea:winner"),
        ("201100", "Over/Under 2.5", "Over 2.5:over_under|Under 2.5:over_under"),
        ("201100", "Correct Score", "1-0:correct_score|0-0:correct_score"),
        ("201100", "Half-time/Full-time", "Home/Home:half_time_full_time"),
        ("211100", "Match Odds", "Liverpool:winner|Everton:winner"),
        ("221100", "Match Odds", "Leeds:winner|Fulham:winner"),
        ("231100", "Match Odds", "Bayern:winner|Dortmund:winner"),
        ("251100", "Win", "Horse One:winner|Horse Two:winner"),
        ("281100", "Match Winner", "Player A:winner|Player B:winner"),
        ("291100", "Money Line", "Lakers:winner|Celtics:winner"),
        ("2a1100", "Money Line", "Chiefs:winner|Eagles:winner"),
        ("2b1100", "Money Line", "Yankees:winner|Red Sox:winner"),
        ("2c1100", "Match Odds", "England:winner|Draw|Australia:winner"),
        ("2d1100", "Match Odds", "Denmark:winner|France:winner"),
        ("2e1100", "Match Odds", "England:winner|Wales:winner"),
        ("2f1100", "Match Odds", "Wigan:winner|St Helens:winner"),
        ("301100", "Match Odds", "Italy:winner|Poland:winner"),
    ]
    markets: list[dict[str, Any]] = []
    contract_number = 0x100
    for number, (event_id, name, contracts) in enumerate(specs, start=0x100):
        market: dict[str, Any] = {"id": f"{number:x}c024", "name": name, "event_id": event_id}
        if name in MARKET_SLUGS:
            market["slug"] = MARKET_SLUGS[name]
        market["contracts"] = []
        for text in contracts.split("|"):
            contract_name, _, contract_type = text.partition(":")
            contract = {"id": f"{contract_number:x}cccc", "name": contract_name}
            if contract_type:
                contract["type"] = contract_type
            if contract_number % 5 == 0:
                contract["slug"] = f"c{contract_number:x}"
            market["contracts"].append(contract)
            contract_number += 1
        markets.append(market)
    markets.append(
        {
            "id": "200c024",
            "name": "Longest Drive",
            "event": NAMED_ONLY_EVENT,
            "contracts": [{"id": "fffcccc", "name": "Player X", "type": "winner"}],
        }
    )
    return markets


MARKETS = _markets()
MARKETS_FILE = {"events": [event for _, event in EVENTS], "markets": MARKETS}
#: The listing of each event that has markets, by event id (NAMED_ONLY_EVENT's is unknown).
LISTING_OF = {event["id"]: key for key, event in EVENTS if key is not None}

#: The 11 sports listed by date, each with a match in the file.
SPORTS = [
    "FOOTBALL",
    "HORSE_RACING",
    "TENNIS",
    "BASKETBALL",
    "AMERICANFOOTBALL",
    "BASEBALL",
    "CRICKET",
    "HANDBALL",
    "RUGBY",
    "RUGBYLEAGUE",
    "VOLLEYBALL",
]
#: Every listing within the window that shows an event, and a few that show none.
SERVED = sorted(
    {key for key in LISTING_OF.values() if key[2] is None or abs(key[2]) <= WINDOW_DAYS},
    key=str,
)
EMPTY = [
    by_date("FOOTBALL", 5),
    by_date("TENNIS", 0),  # the day of another sport's match
    by_date("VOLLEYBALL", -WINDOW_DAYS),
    by_date("BASKETBALL", WINDOW_DAYS),
]


def test_the_file_covers_every_listing() -> None:
    """The test data itself: every kind, each of the 11 sports, both edges of the window."""
    kinds = {key[0] for key in SERVED}
    assert kinds == {
        "POLITICS",
        "CURRENT_AFFAIRS",
        "TV_AND_ENTERTAINMENT",
        "SPORT_OTHER",
        "SPORT_BY_DATE",
    }
    assert {key[1] for key in SERVED if key[1]} == set(SPORTS)
    assert set(SPORTS) == {
        v.name.removeprefix("SPORT_BY_DATE_")
        for v in seto.SportByDate.DESCRIPTOR.fields_by_name["type"].enum_type.values
    }
    days = {key[2] for key in SERVED if key[2] is not None}
    assert {WINDOW_DAYS, -WINDOW_DAYS, 0} <= days
    assert not set(EMPTY) & set(LISTING_OF.values())


# -- what the file says, in the published listing's terms ----------------------------------

_WHEN = re.compile(r"today(?P<days>[+-]\d+)?(?: T(?P<hour>\d\d):(?P<minute>\d\d))?")


def _when(text: str, today: dt.date) -> tuple[dt.date, tuple[int, int] | None]:
    match = _WHEN.fullmatch(text)
    assert match, text
    date = today + dt.timedelta(days=int(match["days"] or 0))
    time = (int(match["hour"]), int(match["minute"])) if match["hour"] else None
    return date, time


def _number(tagged: str, tag: str) -> int:
    assert tagged.endswith(tag), tagged
    return int(tagged[: -len(tag)], 16)


def _slug(name: str) -> str:
    """The default slug (the markets file's format): lower case, each run of other
    characters made one ``-`` (no name here starts or ends with one)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower())


def _expected_event(event: dict[str, str], today: dt.date, with_markets: bool) -> dict[str, Any]:
    start = _when(event["start"], today) if "start" in event else (None, None)
    end = _when(event["end"], today) if "end" in event else (None, None)
    expected: dict[str, Any] = {
        "id": _number(event["id"], "1100"),
        "name": event["name"],
        "slug": event.get("slug", _slug(event["name"])),
        "type": event.get("type", "generic").upper(),
        "category": event.get("category", "generic").upper(),
        "parent": _number(event["parent"], "1100") if "parent" in event else None,
        "start_date": start[0],
        "start_time": start[1],
        "end_date": end[0],
        "end_time": end[1],
        "description": event.get("description"),
        "markets": {},
        "other fields": [],
    }
    if with_markets:
        expected["markets"] = {
            _number(market["id"], "c024"): _expected_market(market)
            for market in MARKETS
            if market.get("event_id") == event["id"]
        }
    return expected


def _expected_market(market: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": market["name"],
        "slug": market.get("slug", _slug(market["name"])),
        "contracts": [
            (
                _number(contract["id"], "cccc"),
                contract["name"],
                contract.get("slug", _slug(contract["name"])),
                contract.get("type", "generic").upper(),
            )
            for contract in market["contracts"]
        ],
        "other fields": [],
    }


def expected_listing(key: ListingKey, today: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """(events with markets, parents) of the listing ``key``, by event name, from the file."""
    by_id = {event["id"]: event for _, event in EVENTS}
    with_markets = {
        event["name"]: _expected_event(event, today, with_markets=True)
        for listing, event in EVENTS
        if listing == key
    }
    if key == OTHER:
        with_markets[NAMED_ONLY_EVENT] = {
            "id": None,  # derived from the name by the sandbox: any id
            "name": NAMED_ONLY_EVENT,
            "slug": _slug(NAMED_ONLY_EVENT),
            "type": "GENERIC",
            "category": "GENERIC",
            "parent": None,
            "start_date": None,
            "start_time": None,
            "end_date": None,
            "end_time": None,
            "description": None,
            "markets": {
                _number(m["id"], "c024"): _expected_market(m)
                for m in MARKETS
                if m.get("event") == NAMED_ONLY_EVENT
            },
            "other fields": [],
        }
    parents: dict[str, Any] = {}
    for listing, event in EVENTS:
        if listing != key:
            continue
        parent_id = event.get("parent")
        while parent_id is not None:
            parent = by_id[parent_id]
            parents[parent["name"]] = _expected_event(parent, today, with_markets=False)
            parent_id = parent.get("parent")
    return with_markets, parents


# -- the published listing, in the same terms ------------------------------------------------


def _enum(message: Any, field: str, prefix: str) -> str:
    value = getattr(message, field)
    name = message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[value].name
    return name.removeprefix(prefix)


def _date(message: Any, field: str) -> dt.date | None:
    if not message.HasField(field):
        return None
    date = getattr(message, field)
    return dt.date(date.year, date.month, date.day)


def _time(message: Any, field: str) -> tuple[int, int] | None:
    if not message.HasField(field):
        return None
    time = getattr(message, field)
    return (time.hour, time.minute)


def _other_fields(message: Any, known: set[str]) -> list[str]:
    return sorted(field.name for field, _ in message.ListFields() if field.name not in known)


_EVENT_FIELDS = {"event", "type", "category", "slug", "name", "parent", "markets", "description"}
_EVENT_FIELDS |= {"start_date", "start_time", "end_date", "end_time"}


def listed_event(info: Any) -> dict[str, Any]:
    """A ``seto.EventInfo`` in the terms of :func:`expected_listing`."""
    return {
        "id": uuid_int(info.event),
        "name": info.name,
        "slug": info.slug,
        "type": _enum(info, "type", "EVENT_"),
        "category": _enum(info, "category", "EVENT_CATEGORY_"),
        "parent": uuid_int(info.parent) if info.HasField("parent") else None,
        "start_date": _date(info, "start_date"),
        "start_time": _time(info, "start_time"),
        "end_date": _date(info, "end_date"),
        "end_time": _time(info, "end_time"),
        "description": info.description if info.HasField("description") else None,
        "markets": {
            uuid_int(market.market): {
                "name": market.name,
                "slug": market.slug,
                "contracts": [
                    (
                        uuid_int(contract.contract),
                        contract.name,
                        contract.slug,
                        _enum(contract, "type", "CONTRACT_"),
                    )
                    for contract in market.contracts
                ],
                # dates, entities, shortname: the file gives none
                "other fields": _other_fields(market, {"market", "name", "slug", "contracts"})
                + [
                    f"contract {uuid_int(c.contract):x}: {name}"
                    for c in market.contracts
                    for name in _other_fields(c, {"contract", "name", "slug", "type"})
                ],
            }
            for market in info.markets
        },
        "other fields": _other_fields(info, _EVENT_FIELDS),  # entities: the file gives none
    }


def listed(events: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(events with markets, parents) of a ``seto.Events``, by name; each listed once."""
    with_markets = [listed_event(info) for info in events.with_markets]
    parents = [listed_event(info) for info in events.parents]
    for what, infos in (("with_markets", with_markets), ("parents", parents)):
        names = [info["name"] for info in infos]
        assert len(names) == len(set(names)), f"an event twice in {what}: {names}"
        ids = [info["id"] for info in infos]
        assert len(ids) == len(set(ids)), f"an id twice in {what}: {ids}"
    return {i["name"]: i for i in with_markets}, {i["name"]: i for i in parents}


# -- the client's side: events_request, http_found, the fetch --------------------------------


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def events_request(
    kind: str, sport: str | None = None, date: dt.date | tuple[int, int, int] | None = None
) -> Any:
    """A published ``seto.EventsRequest`` (``date`` may be an impossible (y, m, d))."""
    request = seto.EventsRequest(
        type=getattr(seto, "EVENTS_REQUEST_" + kind), content_type=seto.CONTENT_TYPE_PROTOBUF
    )
    if sport is not None:
        assert date is not None
        year, month, day = (date.year, date.month, date.day) if isinstance(date, dt.date) else date
        request.sport_by_date.type = getattr(seto, "SPORT_BY_DATE_" + sport)
        request.sport_by_date.date.year = year
        request.sport_by_date.date.month = month
        request.sport_by_date.date.day = day
    return request


def request_for(key: ListingKey, today: dt.date) -> Any:
    kind, sport, days = key
    if sport is None:
        return events_request(kind)
    assert days is not None
    return events_request(kind, sport, today + dt.timedelta(days=days))


def ask(client: ForeignClient, request: Any) -> Any:
    """Send ``events_request``; the http_found or invalid_request answering its seq.

    The client refuses any payload that holds what the published schemas do not know (it
    never asks for extensions); checked here once more, on the answer itself.
    """
    seq = client.send_app("events_request", request)
    answer = client.wait_for(
        ("http_found", "invalid_request"),
        where=lambda p: getattr(p, kind_of(p)).seq == seq,
    )
    assert unpublished_parts(answer) == []
    return answer


def fetch(url: str, ca_file: str | None) -> Any:
    """GET ``url`` with the standard library (https verified against ``ca_file``); the
    body parsed with the published ``seto.Events``, holding only published fields."""
    handlers: list[Any] = [urllib.request.ProxyHandler({})]  # never through a proxy
    if ca_file is not None:
        context = ssl.create_default_context(cafile=ca_file)
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    with opener.open(url, timeout=5) as response:
        assert response.status == 200, (url, response.status)
        assert response.headers.get_content_type() == "application/x-protobuf", url
        body = response.read()
    events = seto.Events()
    events.ParseFromString(body)
    check_published(events)  # every field number is published; required fields present
    return events


# -- a sandbox serving the file, on the right day --------------------------------------------


@dataclass
class Served:
    """A sandbox started on ``today`` (UTC) with the markets file."""

    sandbox: Sandbox
    today: dt.date

    @contextmanager
    def client(self, username: str = "alice") -> Iterator[ForeignClient]:
        """A logged-in foreign client, closed afterwards."""
        client = self.sandbox.client(username)
        try:
            yield client
        finally:
            client.drop()
            self.sandbox.clients.remove(client)


class CatalogueSandbox:
    """The sandbox of this module, (re)started so that its day is today's (UTC)."""

    def __init__(self, directory: Path, *, tls: bool = True) -> None:
        self.file = directory / "markets.json"
        self.file.write_text(json.dumps(MARKETS_FILE, indent=1), encoding="utf-8")
        self.tls = tls
        self.served: Served | None = None

    def current(self) -> Served:
        """The sandbox, restarted if it was started on another day than today."""
        while self.served is None or self.served.today != utc_today():
            self.stop()
            today = utc_today()
            self.served = Served(Sandbox("--markets", str(self.file), tls=self.tls), today)
        return self.served  # the loop re-checks the day after the start

    def check(self, check: Callable[[Served], None]) -> None:
        """Run ``check``; once more on a fresh sandbox if midnight (UTC) passed meanwhile."""
        served = self.current()
        try:
            check(served)
        except AssertionError:
            if utc_today() == served.today:
                raise
            check(self.current())

    def stop(self) -> None:
        if self.served is not None:
            self.served.sandbox.stop()
            self.served = None


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogueSandbox]:
    """A TLS sandbox serving the markets file of this module."""
    running = CatalogueSandbox(tmp_path_factory.mktemp("catalogue"))
    try:
        yield running
    finally:
        running.stop()


def _listing_id(key: ListingKey) -> str:
    kind, sport, days = key
    return kind.lower() if sport is None else f"{sport.lower()}{days:+d}"


# -- the tests --------------------------------------------------------------------------------


def test_http_found_gives_an_https_url_under_the_printed_catalogue(
    catalogue: CatalogueSandbox,
) -> None:
    def check(served: Served) -> None:
        sandbox = served.sandbox
        assert sandbox.catalogue_url is not None, "no 'catalogue at URL' line"
        assert sandbox.catalogue_url.startswith("https://"), sandbox.catalogue_url
        with served.client() as alice:
            # Several requests in flight: each answer names the seq it answers.
            seqs = [
                alice.send_app("events_request", request_for(key, served.today)) for key in SERVED
            ]
            answers = [alice.wait_for("http_found") for _ in seqs]
            assert [a.http_found.seq for a in answers] == seqs
            urls = [a.http_found.url for a in answers]
            assert all(url.startswith(sandbox.catalogue_url) for url in urls), urls
            assert len(set(urls)) == len(urls), "two listings at one URL"
            for answer in answers:
                check_published(answer)

    catalogue.check(check)


def test_the_url_is_not_trusted_without_the_sandbox_ca(catalogue: CatalogueSandbox) -> None:
    def check(served: Served) -> None:
        with served.client() as alice:
            url = ask(alice, events_request("POLITICS")).http_found.url
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context()),  # system store
        )
        with pytest.raises(urllib.error.URLError) as caught:
            opener.open(url, timeout=5)
        assert isinstance(caught.value.reason, ssl.SSLCertVerificationError), caught.value

    catalogue.check(check)


@pytest.mark.parametrize("key", SERVED + EMPTY, ids=_listing_id)
def test_each_listing_holds_exactly_the_events_of_the_file(
    catalogue: CatalogueSandbox, key: ListingKey
) -> None:
    def check(served: Served) -> None:
        with served.client() as alice:
            answer = ask(alice, request_for(key, served.today))
            assert kind_of(answer) == "http_found", answer
            events = fetch(answer.http_found.url, served.sandbox.ca_file)
        with_markets, parents = listed(events)
        expected_with_markets, expected_parents = expected_listing(key, served.today)
        if key in EMPTY:
            assert not expected_with_markets
        named_only = expected_with_markets.get(NAMED_ONLY_EVENT)
        if named_only is not None and NAMED_ONLY_EVENT in with_markets:
            derived_id = with_markets[NAMED_ONLY_EVENT]["id"]
            file_ids = {_number(event["id"], "1100") for _, event in EVENTS}
            assert derived_id > 0 and derived_id not in file_ids, derived_id
            named_only["id"] = derived_id
        assert with_markets == expected_with_markets
        assert parents == expected_parents
        for name in parents:  # above the listed events, each once, without markets
            assert not parents[name]["markets"], name

    catalogue.check(check)


def test_every_event_with_markets_is_in_one_listing_only(catalogue: CatalogueSandbox) -> None:
    def check(served: Served) -> None:
        seen: dict[str, list[str]] = {}
        with served.client() as alice:
            for key in SERVED + EMPTY:
                url = ask(alice, request_for(key, served.today)).http_found.url
                for info in fetch(url, served.sandbox.ca_file).with_markets:
                    seen.setdefault(info.name, []).append(_listing_id(key))
        listed_somewhere = {event["name"] for key, event in EVENTS if key in SERVED}
        assert set(seen) == listed_somewhere | {NAMED_ONLY_EVENT}
        assert {name: keys for name, keys in seen.items() if len(keys) > 1} == {}

    catalogue.check(check)


OUT_OF_RANGE: dict[str, Callable[[dt.date], Any]] = {
    "today+31": lambda today: events_request(
        "SPORT_BY_DATE", "FOOTBALL", today + dt.timedelta(days=WINDOW_DAYS + 1)
    ),  # the file has a match on that day
    "today-31": lambda today: events_request(
        "SPORT_BY_DATE", "HORSE_RACING", today - dt.timedelta(days=WINDOW_DAYS + 1)
    ),
    "1990-01-01": lambda today: events_request("SPORT_BY_DATE", "FOOTBALL", dt.date(1990, 1, 1)),
    "no-sport-by-date": lambda today: events_request("SPORT_BY_DATE"),
    "month-13": lambda today: events_request("SPORT_BY_DATE", "TENNIS", (today.year, 13, 1)),
    "february-30": lambda today: events_request("SPORT_BY_DATE", "CRICKET", (today.year, 2, 30)),
}


@pytest.mark.parametrize("case", list(OUT_OF_RANGE))
def test_a_date_outside_the_window_is_an_invalid_request(
    catalogue: CatalogueSandbox, case: str
) -> None:
    def check(served: Served) -> None:
        with served.client() as alice:
            request = OUT_OF_RANGE[case](served.today)
            check_published(request)  # a request the published schema can send
            seq = alice.send_app("events_request", request)
            answer = alice.wait_for(("http_found", "invalid_request"))
            assert kind_of(answer) == "invalid_request", answer
            assert answer.invalid_request.seq == seq
            assert answer.invalid_request.type == seto.INVALID_REQUEST_DATE_OUT_OF_RANGE == 1
            assert unpublished_parts(answer) == []
            # The session goes on: a ping is answered, the next request too.
            pong_seq = alice.send_eto(eto.PAYLOAD_PING)
            assert pong_seq == seq + 1
            alice.wait_for("eto.pong")
            assert alice.logout_reason is None
            again = ask(alice, events_request("SPORT_OTHER"))
            assert kind_of(again) == "http_found", again

    catalogue.check(check)


def test_plain_tcp_sandbox_gives_http_urls(tmp_path: Path) -> None:
    plain = CatalogueSandbox(tmp_path, tls=False)
    try:

        def check(served: Served) -> None:
            sandbox = served.sandbox
            assert sandbox.ca_file is None
            assert sandbox.catalogue_url is not None
            assert sandbox.catalogue_url.startswith("http://"), sandbox.catalogue_url
            with served.client() as alice:
                assert not isinstance(alice.sock, ssl.SSLSocket)
                for key in (POLITICS, by_date("FOOTBALL", 0), by_date("FOOTBALL", 5)):
                    answer = ask(alice, request_for(key, served.today))
                    assert kind_of(answer) == "http_found", answer
                    url = answer.http_found.url
                    assert url.startswith(sandbox.catalogue_url), url
                    with_markets, parents = listed(fetch(url, None))
                    expected = expected_listing(key, served.today)
                    assert (with_markets, parents) == expected
                answer = ask(alice, OUT_OF_RANGE["today+31"](served.today))
                assert kind_of(answer) == "invalid_request", answer

        plain.check(check)
    finally:
        plain.stop()
