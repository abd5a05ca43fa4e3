"""The sandbox's catalogue: which events, markets and contracts exist, and the listings.

The :class:`Catalogue` is the one record of what the exchange lists: the events (as the
published ``seto.Events`` shows them: names, slugs, types, dates, parents), the markets with
their contracts, in the order they were opened. The :class:`~smarkets.sandbox.exchange.
engine.Exchange` opens a market in it before trading it, and answers ``seto.markets`` from
it; the HTTP server serves its listings. It is filled from the markets file
(:mod:`~smarkets.sandbox.exchange.markets_file`) or market by market.

Ids are numbers (tags stripped; PROTOCOL.md section 3.1). Market ids are unique, and so are
contract ids across the whole catalogue; an event id names one event. A market naming an
event by name only, that the catalogue does not describe, makes a generic event (type and
category ``generic``, no dates), listed under "sport other".

Each event that has markets belongs to exactly one listing (:class:`Listing`), the answer
to one ``events_request``: politics, current affairs and TV and entertainment by category;
a match of one of the sports of ``seto.SportByDateType`` by its start date; every other
event (seasons, other sports, generic events, a match without a date) under sport other.
A listing (:meth:`Catalogue.listing`) holds those events with their markets and contracts
(``with_markets``) and the events above them (``parents``).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from smarkets.errors import Error
from smarkets.proto import seto_pb2
from smarkets.protocol.ids import set_uuid128, uuid128_to_str

__all__ = [
    "SPORT_EVENT_TYPES",
    "Catalogue",
    "CatalogueError",
    "ContractSpec",
    "EventSpec",
    "Listing",
    "MarketSpec",
    "event_id_for",
    "slug_for",
]

_ID_LIMIT = 1 << 128


#: The event types each sport of ``seto.SportByDateType`` lists by date.
SPORT_EVENT_TYPES: dict[int, frozenset[int]] = {
    seto_pb2.SPORT_BY_DATE_FOOTBALL: frozenset({seto_pb2.EVENT_FOOTBALL_MATCH}),
    seto_pb2.SPORT_BY_DATE_HORSE_RACING: frozenset({seto_pb2.EVENT_HORSE_RACING_RACE}),
    seto_pb2.SPORT_BY_DATE_TENNIS: frozenset({seto_pb2.EVENT_TENNIS_ROUND}),
    seto_pb2.SPORT_BY_DATE_BASKETBALL: frozenset({seto_pb2.EVENT_BASKETBALL_MATCH}),
    seto_pb2.SPORT_BY_DATE_AMERICANFOOTBALL: frozenset({seto_pb2.EVENT_AMERICAN_FOOTBALL_MATCH}),
    seto_pb2.SPORT_BY_DATE_BASEBALL: frozenset({seto_pb2.EVENT_BASEBALL_MATCH}),
    seto_pb2.SPORT_BY_DATE_CRICKET: frozenset({seto_pb2.EVENT_CRICKET_MATCH}),
    seto_pb2.SPORT_BY_DATE_HANDBALL: frozenset({seto_pb2.EVENT_HANDBALL_MATCH}),
    seto_pb2.SPORT_BY_DATE_RUGBY: frozenset({seto_pb2.EVENT_RUGBY_UNION_MATCH}),
    seto_pb2.SPORT_BY_DATE_RUGBYLEAGUE: frozenset({seto_pb2.EVENT_RUGBY_LEAGUE_MATCH}),
    seto_pb2.SPORT_BY_DATE_VOLLEYBALL: frozenset({seto_pb2.EVENT_VOLLEYBALL_MATCH}),
}
_SPORT_OF_TYPE = {etype: sport for sport, types in SPORT_EVENT_TYPES.items() for etype in types}
#: The listings chosen by category (the others are sport by date and sport other).
_KIND_OF_CATEGORY = {
    seto_pb2.EVENT_CATEGORY_POLITICS: seto_pb2.EVENTS_REQUEST_POLITICS,
    seto_pb2.EVENT_CATEGORY_CURRENT_AFFAIRS: seto_pb2.EVENTS_REQUEST_CURRENT_AFFAIRS,
    seto_pb2.EVENT_CATEGORY_TV_AND_ENTERTAINMENT: seto_pb2.EVENTS_REQUEST_TV_AND_ENTERTAINMENT,
}


class CatalogueError(Error, ValueError):
    """A markets file or market definition is not valid; the message says what and where."""


def _path_name(enum_name: str, prefix: str) -> str:
    """``EVENTS_REQUEST_SPORT_OTHER`` -> ``sport-other``: an enum value as a URL segment."""
    return enum_name[len(prefix) :].lower().replace("_", "-")


_KIND_PATHS = {
    value: _path_name(name, "EVENTS_REQUEST_")
    for name, value in seto_pb2.EventsRequestType.items()
    if value != seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE
}
_SPORT_PATHS = {
    value: _path_name(name, "SPORT_BY_DATE_") for name, value in seto_pb2.SportByDateType.items()
}
_KIND_OF_PATH = {path: kind for kind, path in _KIND_PATHS.items()}
_SPORT_OF_PATH = {path: sport for sport, path in _SPORT_PATHS.items()}


class Listing(NamedTuple):
    """One listing the sandbox serves: what one ``events_request`` asks for.

    ``kind`` is a ``seto.EventsRequestType``; ``sport`` (a ``seto.SportByDateType``) and
    ``date`` are set for ``EVENTS_REQUEST_SPORT_BY_DATE`` only. :attr:`path` is where the
    HTTP server serves it: ``/events/politics``, ``/events/sport-other``,
    ``/events/football/2026-12-05``, ...
    """

    kind: int
    sport: int | None = None
    date: datetime.date | None = None

    @property
    def path(self) -> str:
        """The URL path of this listing."""
        if self.sport is None or self.date is None:
            return f"/events/{_KIND_PATHS[self.kind]}"
        return f"/events/{_SPORT_PATHS[self.sport]}/{self.date.isoformat()}"

    @classmethod
    def from_path(cls, path: str) -> Listing | None:
        """The listing served at ``path``, or ``None`` if no listing has that path."""
        parts = path.split("/")
        if len(parts) == 3 and parts[:2] == ["", "events"] and parts[2] in _KIND_OF_PATH:
            return cls(_KIND_OF_PATH[parts[2]])
        if len(parts) == 4 and parts[:2] == ["", "events"] and parts[2] in _SPORT_OF_PATH:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts[3]):
                return None
            try:
                date = datetime.date.fromisoformat(parts[3])
            except ValueError:
                return None
            return cls(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, _SPORT_OF_PATH[parts[2]], date)
        return None

    @classmethod
    def from_request(cls, request: seto_pb2.EventsRequest) -> Listing | None:
        """The listing an ``events_request`` asks for; ``None`` when it asks for a sport by
        date without a valid date (no such day, or no ``sport_by_date`` at all)."""
        if request.type != seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE:
            return cls(request.type)
        if not request.HasField("sport_by_date"):
            return None
        by_date = request.sport_by_date
        try:
            date = datetime.date(by_date.date.year, by_date.date.month, by_date.date.day)
        except (ValueError, OverflowError):  # no such day; a uint32 beyond C's int
            return None
        return cls(request.type, by_date.type, date)

    def in_window(self, today: datetime.date, days: int) -> bool:
        """Whether the sandbox lists this: a dated listing only within ``days`` of ``today``
        (either side, inclusive); an undated one always."""
        return self.date is None or abs((self.date - today).days) <= days


def slug_for(name: str, kind: str = "", number: int = 0) -> str:
    """``'Arsenal v Chelsea'`` -> ``'arsenal-v-chelsea'``: the default slug of a name
    (``'{kind}-{number:x}'`` for a name with no letter or digit)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or f"{kind}-{number:x}"


@dataclass(frozen=True)
class EventSpec:
    """One event as the listings show it (``seto.EventInfo``); enums as ``seto`` numbers."""

    id: int
    name: str
    slug: str = ""
    type: int = seto_pb2.EVENT_GENERIC
    category: int = seto_pb2.EVENT_CATEGORY_GENERIC
    parent: int | None = None
    start_date: datetime.date | None = None
    start_time: datetime.time | None = None
    end_date: datetime.date | None = None
    end_time: datetime.time | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.slug:
            object.__setattr__(self, "slug", slug_for(self.name, "event", self.id))

    @property
    def text_id(self) -> str:
        """The event id as tagged hex, e.g. ``'21100'``."""
        return uuid128_to_str(self.id, "event")

    def listing(self) -> Listing:
        """The one listing that shows this event's markets."""
        kind = _KIND_OF_CATEGORY.get(self.category)
        if kind is not None:
            return Listing(kind)
        sport = _SPORT_OF_TYPE.get(self.type)
        if sport is not None and self.start_date is not None:
            return Listing(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, sport, self.start_date)
        return Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER)


class ContractSpec(NamedTuple):
    """One contract of a market (a :class:`MarketSpec` fills in the default slug)."""

    id: int
    name: str
    slug: str = ""
    type: int = seto_pb2.CONTRACT_GENERIC


@dataclass(frozen=True)
class MarketSpec:
    """One market to open: ids are numbers (tags stripped), contracts in order.

    ``event_name`` is ``None`` when the market names its event by id only (an event of
    the catalogue it is added to).
    """

    id: int
    name: str
    event_id: int
    event_name: str | None
    contracts: tuple[ContractSpec, ...]
    slug: str = ""

    def __post_init__(self) -> None:
        _check_id(self.id, "market")
        _check_id(self.event_id, "event")
        contracts = [ContractSpec(*contract) for contract in self.contracts]
        if not contracts:
            raise CatalogueError(f"market {self.text_id!r} needs at least one contract")
        seen: set[int] = set()
        for contract in contracts:
            _check_id(contract.id, "contract")
            if contract.id in seen:
                text = uuid128_to_str(contract.id, "contract")
                raise CatalogueError(f"market {self.text_id!r} names a contract id twice: {text!r}")
            seen.add(contract.id)
        object.__setattr__(
            self,
            "contracts",
            tuple(c._replace(slug=c.slug or slug_for(c.name, "contract", c.id)) for c in contracts),
        )
        if not self.slug:
            object.__setattr__(self, "slug", slug_for(self.name, "market", self.id))

    @property
    def text_id(self) -> str:
        """The market id as tagged hex, e.g. ``'1c024'``."""
        return uuid128_to_str(self.id, "market")

    def contract_ids(self) -> list[int]:
        """The market's contract ids, in order."""
        return [contract.id for contract in self.contracts]

    def contract_names(self) -> list[tuple[int, str]]:
        """``(id, name)`` of each contract, in order (what the exchange needs)."""
        return [(contract.id, contract.name) for contract in self.contracts]


def _check_id(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _ID_LIMIT:
        raise CatalogueError(f"{what} id must be an int in 0 ... 2**128 - 1, not {value!r}")


def event_id_for(event_name: str) -> int:
    """A deterministic event id for an event given by name only (48 bits of its SHA-256)."""
    digest = hashlib.sha256(event_name.encode("utf-8")).digest()
    return int.from_bytes(digest[:6], "big") or 1


def _set_when(
    msg: Any, date_field: str, time_field: str, date: datetime.date | None, time: Any
) -> None:
    if date is not None:
        out = getattr(msg, date_field)
        out.year, out.month, out.day = date.year, date.month, date.day
    if time is not None:
        out = getattr(msg, time_field)
        out.hour, out.minute = time.hour, time.minute


@dataclass
class Catalogue:
    """The events and markets the sandbox lists, and the listings made of them.

    Sans-I/O: nothing here reads a clock or a socket. :meth:`listing_body` keeps the
    serialized listings until the catalogue changes.
    """

    events: dict[int, EventSpec] = field(default_factory=dict)
    markets: dict[int, MarketSpec] = field(default_factory=dict)
    _contracts: set[int] = field(default_factory=set, repr=False)
    _bodies: dict[Listing, bytes] = field(default_factory=dict, repr=False)

    #: How many serialized listings are kept at most (they are rebuilt when needed).
    MAX_CACHED = 256

    def add_events(self, events: Iterable[EventSpec], where: str = "events") -> None:
        """Add events (all or none): ids unique, parents known (here or among them), no
        cycle of parents."""
        events = list(events)
        known = dict(self.events)
        for index, event in enumerate(events):
            if event.id in known:
                raise CatalogueError(f"{where}[{index}].id: event {event.text_id!r} already exists")
            known[event.id] = event
        for index, event in enumerate(events):
            seen = {event.id}
            parent = event.parent
            while parent is not None:
                if parent not in known:
                    text = uuid128_to_str(parent, "event")
                    raise CatalogueError(f"{where}[{index}].parent: no event {text!r}")
                if parent in seen:
                    raise CatalogueError(f"{where}[{index}].parent: the parents form a cycle")
                seen.add(parent)
                parent = known[parent].parent
        self.events = known
        self._bodies.clear()

    def add_market(self, spec: MarketSpec) -> MarketSpec:
        """Add a market; return it with its event's name filled in (see :meth:`resolve`).

        A market naming an event that is not here yet creates a generic event of that name.
        """
        spec = self.resolve(spec)
        if spec.event_id not in self.events:
            self.events[spec.event_id] = EventSpec(spec.event_id, spec.event_name or "")
        self.markets[spec.id] = spec
        self._contracts.update(spec.contract_ids())
        self._bodies.clear()
        return spec

    def resolve(self, spec: MarketSpec) -> MarketSpec:
        """Check that ``spec`` can be added (new ids, a known event id or an event name
        that agrees with it) and return it with its event's name filled in; no change."""
        if spec.id in self.markets:
            raise CatalogueError(f"market {spec.text_id!r} is defined twice")
        for contract_id in spec.contract_ids():
            if contract_id in self._contracts:
                text = uuid128_to_str(contract_id, "contract")
                raise CatalogueError(f"contract {text!r} is already in another market")
        event = self.events.get(spec.event_id)
        if event is None:
            if spec.event_name is None:
                text = uuid128_to_str(spec.event_id, "event")
                raise CatalogueError(f"event_id {text!r} is not an event of the catalogue")
            return spec
        if spec.event_name is not None and spec.event_name != event.name:
            raise CatalogueError(
                f"event {event.text_id!r} is both {event.name!r} and {spec.event_name!r}"
            )
        return dataclasses.replace(spec, event_name=event.name)

    def listing(self, listing: Listing) -> seto_pb2.Events:
        """The ``seto.Events`` of one listing: its events with their markets
        (``with_markets``, by start then name), and every event above them (``parents``,
        each once, nearest first)."""
        by_event: dict[int, list[MarketSpec]] = {}
        for market in self.markets.values():
            by_event.setdefault(market.event_id, []).append(market)
        listed = [
            self.events[event_id]
            for event_id in by_event
            if self.events[event_id].listing() == listing
        ]
        listed.sort(
            key=lambda e: (
                e.start_date or datetime.date.max,
                e.start_time or datetime.time(),
                e.name,
                e.id,
            )
        )
        events = seto_pb2.Events()
        parents: dict[int, EventSpec] = {}
        for event in listed:
            msg = events.with_markets.add()
            self._fill_event(msg, event)
            for market in by_event[event.id]:
                self._fill_market(msg.markets.add(), market)
            parent = event.parent
            while parent is not None and parent not in parents:
                parents[parent] = self.events[parent]
                parent = parents[parent].parent
        for parent_event in parents.values():
            self._fill_event(events.parents.add(), parent_event)
        return events

    def listing_body(self, listing: Listing) -> bytes:
        """:meth:`listing` serialized (kept until the catalogue changes)."""
        body = self._bodies.get(listing)
        if body is None:
            if len(self._bodies) >= self.MAX_CACHED:
                self._bodies.clear()
            body = self._bodies[listing] = self.listing(listing).SerializeToString()
        return body

    @staticmethod
    def _fill_event(msg: seto_pb2.EventInfo, event: EventSpec) -> None:
        set_uuid128(msg.event, event.id)
        msg.type = event.type
        msg.category = event.category
        msg.slug = event.slug
        msg.name = event.name
        if event.parent is not None:
            set_uuid128(msg.parent, event.parent)
        _set_when(msg, "start_date", "start_time", event.start_date, event.start_time)
        _set_when(msg, "end_date", "end_time", event.end_date, event.end_time)
        if event.description:
            msg.description = event.description

    @staticmethod
    def _fill_market(msg: seto_pb2.MarketInfo, market: MarketSpec) -> None:
        set_uuid128(msg.market, market.id)
        msg.slug = market.slug
        msg.name = market.name
        for contract in market.contracts:
            out = msg.contracts.add()
            set_uuid128(out.contract, contract.id)
            out.type = contract.type
            out.slug = contract.slug
            out.name = contract.name
