"""What a client can trade, from the published listings: markets by id or by name.

The published catalogue comes in listings, one per ``events_request``
(:mod:`smarkets.events`): politics, current affairs, TV and entertainment, other sport, and
each sport on a given day. :func:`fetch_catalogue` asks for all of them (the sports for
one day) and gathers their markets into a :class:`Catalogue`; :meth:`Catalogue.find` looks
a market up by id (``'1c024'``), by name (``'Match Odds'``, any case) or by event and name
(``'Arsenal v Chelsea/Match Odds'``). The examples, ``smarkets watch MARKET`` and
``smarkets events`` use it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smarkets.errors import InvalidRequestError
from smarkets.events import (
    SPORT_REQUESTS,
    CurrentAffairs,
    EventsRequest,
    Politics,
    SportOther,
    TvAndEntertainment,
)
from smarkets.proto import seto_pb2
from smarkets.protocol import ids

if TYPE_CHECKING:
    from smarkets.client import Smarkets

__all__ = ["Catalogue", "ListedMarket", "catalogue_requests", "fetch_catalogue"]

log = logging.getLogger("smarkets.catalogue")


@dataclass(frozen=True)
class ListedMarket:
    """A market as a listing shows it; ids as tagged hex."""

    #: The market's id, e.g. ``'1c024'``.
    id: str
    #: The market's name, e.g. ``'Match Odds'``.
    name: str
    #: Its event's name, e.g. ``'Arsenal v Chelsea'``.
    event: str
    #: Its event's id, e.g. ``'21100'``.
    event_id: str
    #: Contract id (tagged hex) -> name, in the listing's order.
    contracts: dict[str, str] = field(default_factory=dict)
    #: When the event starts (UTC), if the listing says: a date, or a date and time.
    start: datetime.date | datetime.datetime | None = None

    @classmethod
    def from_info(cls, event: seto_pb2.EventInfo, market: seto_pb2.MarketInfo) -> ListedMarket:
        """The market ``market`` of the listed ``event``."""
        start: datetime.date | datetime.datetime | None = None
        day, time = event.start_date, event.start_time
        try:
            if event.HasField("start_time"):
                start = datetime.datetime(
                    day.year,
                    day.month,
                    day.day,
                    time.hour,
                    time.minute,
                    tzinfo=datetime.timezone.utc,
                )
            elif event.HasField("start_date"):
                start = datetime.date(day.year, day.month, day.day)
        except (ValueError, OverflowError):  # a date or time that does not exist: not shown
            start = None
        return cls(
            ids.uuid128_to_str(market.market, "market"),
            market.name,
            event.name,
            ids.uuid128_to_str(event.event, "event"),
            {ids.uuid128_to_str(c.contract, "contract"): c.name for c in market.contracts},
            start,
        )


class Catalogue:
    """The markets of some listings (``seto.Events``), each once, in the listings' order."""

    def __init__(self, listings: Iterable[seto_pb2.Events] = ()) -> None:
        self._markets: dict[str, ListedMarket] = {}
        for listing in listings:
            self.add(listing)

    def add(self, listing: seto_pb2.Events) -> None:
        """Add the markets of one listing (a market already here is kept as it was)."""
        for event in listing.with_markets:
            for market in event.markets:
                entry = ListedMarket.from_info(event, market)
                self._markets.setdefault(entry.id, entry)

    def find(self, wanted: str) -> ListedMarket | None:
        """The market whose id, name or ``event/name`` is ``wanted`` (names in any case);
        the first listed if several have that name; ``None`` if none."""
        text = wanted.strip().lower()
        if text in self._markets:
            return self._markets[text]
        for market in self._markets.values():
            if text in (market.name.lower(), f"{market.event}/{market.name}".lower()):
                return market
        return None

    def __iter__(self) -> Iterator[ListedMarket]:
        return iter(self._markets.values())

    def __len__(self) -> int:
        return len(self._markets)

    def __repr__(self) -> str:
        return f"<Catalogue of {len(self)} markets>"


def catalogue_requests(day: datetime.date | None = None) -> list[EventsRequest]:
    """Every events request: each sport on ``day`` (today, UTC, by default), then other
    sport, politics, current affairs, TV and entertainment."""
    day = day if day is not None else datetime.datetime.now(datetime.timezone.utc).date()
    return [
        *(sport(day) for sport in SPORT_REQUESTS),
        SportOther(),
        Politics(),
        CurrentAffairs(),
        TvAndEntertainment(),
    ]


def fetch_catalogue(
    client: Smarkets, day: datetime.date | None = None, timeout: float | None = None
) -> Catalogue:
    """Fetch every listing (:func:`catalogue_requests`) with ``client`` and gather them.

    Each is :meth:`Smarkets.fetch_events <smarkets.client.Smarkets.fetch_events>`: what
    arrives meanwhile is dispatched to the handlers. A day outside the days the server
    lists skips the sports (a warning says so); what ``fetch_events`` raises otherwise is
    raised.
    """
    catalogue = Catalogue()
    for request in catalogue_requests(day):
        try:
            catalogue.add(client.fetch_events(request, timeout))
        except InvalidRequestError as exc:
            log.warning("%r not listed: %s", request, exc)
    return catalogue
