"""The catalogue, the published way: events requests and the listing fetched over HTTP(S).

A client learns what it can trade by sending an ``events_request`` — politics, current
affairs, TV and entertainment, other sport, or one sport on one date — and receiving
``seto.http_found {seq, url}``; it fetches that URL and parses the body, a
``seto.Events`` protobuf (events with their markets and contracts, names, slugs, dates
and parents). A date outside the window the server lists is answered by
``seto.invalid_request`` (``INVALID_REQUEST_DATE_OUT_OF_RANGE``) instead::

    listing = client.fetch_events(smarkets.FootballByDate(datetime.date.today()))
    for event in listing.with_markets:
        print(event.name, [market.name for market in event.markets])

or in two steps, as a script written for the 2013 SDK does it::

    client.add_handler("seto.http_found", found.append)
    client.request_events(smarkets.Politics())
    client.flush()
    client.read()
    listing = client.fetch_http_found(found[0])

The request classes (:class:`Politics`, :class:`FootballByDate`, ...) each stand for one
``seto.EventsRequest``; :func:`~smarkets.listing.fetch_listing` does the download
(:mod:`smarkets.listing`, whose names are importable from here too). It verifies TLS
exactly as the stream does (the same context, :func:`smarkets.session_socket.ssl_context`),
refuses a plain ``http`` URL for a session that uses TLS and a redirect that leaves
``https``, gives up after ``settings.socket_timeout`` and reads at most
:data:`~smarkets.listing.MAX_LISTING_SIZE` bytes.
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from smarkets.listing import (
    CONTENT_TYPE,
    MAX_LISTING_SIZE,
    MAX_REDIRECTS,
    fetch_listing,
    parse_listing,
)
from smarkets.proto import seto_pb2

__all__ = [
    "CONTENT_TYPE",
    "MAX_LISTING_SIZE",
    "MAX_REDIRECTS",
    "AmericanFootballByDate",
    "BaseballByDate",
    "BasketballByDate",
    "CricketByDate",
    "CurrentAffairs",
    "EventsRequest",
    "FootballByDate",
    "HandballByDate",
    "HorseRacingByDate",
    "Politics",
    "RugbyByDate",
    "RugbyLeagueByDate",
    "SPORT_REQUESTS",
    "SportByDate",
    "SportOther",
    "TennisByDate",
    "TvAndEntertainment",
    "UNDATED_REQUESTS",
    "VolleyballByDate",
    "fetch_listing",
    "parse_listing",
]


# -- the requests --------------------------------------------------------------------------


class EventsRequest:
    """One ``seto.EventsRequest``: what to list. A base class; use its subclasses.

    Instances are values: equal when they ask for the same thing, hashable, and unchanged
    once made.
    """

    __slots__ = ()

    #: The ``seto.EventsRequestType`` this class asks for.
    request_type: ClassVar[int]
    #: The listing's format (the only one there is: protobuf).
    content_type: ClassVar[int] = seto_pb2.CONTENT_TYPE_PROTOBUF

    def __init__(self) -> None:
        if type(self) is EventsRequest:
            raise TypeError("EventsRequest is a base class: use Politics, FootballByDate, ...")

    def to_message(self) -> seto_pb2.EventsRequest:
        """The ``seto.EventsRequest`` for this request."""
        return seto_pb2.EventsRequest(type=self.request_type, content_type=self.content_type)

    def copy_to(self, payload: seto_pb2.Payload) -> None:
        """Make ``payload`` this request: it is cleared, then given the type
        ``PAYLOAD_EVENTS_REQUEST`` and the ``events_request`` (the 2013 SDK's way)."""
        if not isinstance(payload, seto_pb2.Payload):
            raise TypeError(f"expected a seto Payload, not {type(payload).__name__}")
        payload.Clear()
        payload.type = seto_pb2.PAYLOAD_EVENTS_REQUEST
        payload.events_request.CopyFrom(self.to_message())

    def to_payload(self) -> seto_pb2.Payload:
        """A new seto payload carrying this request (what :meth:`copy_to` makes)."""
        payload = seto_pb2.Payload()
        self.copy_to(payload)
        return payload

    def copy(self) -> EventsRequest:
        """An equal request (they are values, so this is only for the 2013 SDK's API)."""
        return type(self)(*self._args())

    @classmethod
    def from_message(cls, message: seto_pb2.EventsRequest) -> EventsRequest:
        """The request a ``seto.EventsRequest`` stands for (the sandbox's side of it).

        Raises :class:`ValueError` for a type or sport this module does not know, or a
        sport-by-date request without its sport or date (or with an impossible date).
        """
        request_type = message.type
        if request_type == seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE:
            if not message.HasField("sport_by_date"):
                raise ValueError("a sport-by-date events request without sport_by_date")
            sport = message.sport_by_date
            sport_class = _SPORTS.get(sport.type)
            if sport_class is None:
                raise ValueError(f"unknown sport_by_date type {sport.type}")
            date = sport.date
            return sport_class(datetime.date(date.year, date.month, date.day))
        simple = _SIMPLE.get(request_type)
        if simple is None:
            raise ValueError(f"unknown events request type {request_type}")
        return simple()

    def _args(self) -> tuple[object, ...]:
        return ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._args() == other._args()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._args()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._args()))})"


class Politics(EventsRequest):
    """The politics events."""

    __slots__ = ()
    request_type = seto_pb2.EVENTS_REQUEST_POLITICS


class CurrentAffairs(EventsRequest):
    """The current affairs events."""

    __slots__ = ()
    request_type = seto_pb2.EVENTS_REQUEST_CURRENT_AFFAIRS


class TvAndEntertainment(EventsRequest):
    """The TV and entertainment events."""

    __slots__ = ()
    request_type = seto_pb2.EVENTS_REQUEST_TV_AND_ENTERTAINMENT


class SportOther(EventsRequest):
    """The sport events that are not listed by date (seasons, outrights, ...)."""

    __slots__ = ()
    request_type = seto_pb2.EVENTS_REQUEST_SPORT_OTHER


class SportByDate(EventsRequest):
    """The events of one sport on one date. A base class: use a sport's subclass.

    ``date`` is a :class:`datetime.date` (a :class:`datetime.datetime` counts as its
    date).
    """

    __slots__ = ("_date",)
    request_type = seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE
    #: The ``seto.SportByDateType`` this class asks for.
    sport_type: ClassVar[int]

    def __init__(self, date: datetime.date) -> None:
        if type(self) is SportByDate:
            raise TypeError("SportByDate is a base class: use FootballByDate, TennisByDate, ...")
        if isinstance(date, datetime.datetime):
            date = date.date()
        if not isinstance(date, datetime.date):
            raise TypeError(f"date must be a datetime.date, not {type(date).__name__}")
        self._date = date

    @property
    def date(self) -> datetime.date:
        """The day whose events are asked for."""
        return self._date

    def to_message(self) -> seto_pb2.EventsRequest:
        message = super().to_message()
        sport = message.sport_by_date
        sport.type = self.sport_type
        sport.date.year = self._date.year
        sport.date.month = self._date.month
        sport.date.day = self._date.day
        return message

    def _args(self) -> tuple[object, ...]:
        return (self._date,)


class FootballByDate(SportByDate):
    """The football events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_FOOTBALL


class HorseRacingByDate(SportByDate):
    """The horse racing events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_HORSE_RACING


class TennisByDate(SportByDate):
    """The tennis events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_TENNIS


class BasketballByDate(SportByDate):
    """The basketball events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_BASKETBALL


class AmericanFootballByDate(SportByDate):
    """The American football events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_AMERICANFOOTBALL


class BaseballByDate(SportByDate):
    """The baseball events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_BASEBALL


class CricketByDate(SportByDate):
    """The cricket events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_CRICKET


class HandballByDate(SportByDate):
    """The handball events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_HANDBALL


class RugbyByDate(SportByDate):
    """The rugby union events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_RUGBY


class RugbyLeagueByDate(SportByDate):
    """The rugby league events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_RUGBYLEAGUE


class VolleyballByDate(SportByDate):
    """The volleyball events on a date."""

    __slots__ = ()
    sport_type = seto_pb2.SPORT_BY_DATE_VOLLEYBALL


#: The requests without a date, in ``seto.EventsRequestType`` order.
UNDATED_REQUESTS: tuple[type[EventsRequest], ...] = (
    Politics,
    CurrentAffairs,
    TvAndEntertainment,
    SportOther,
)
#: One request class per sport of ``seto.SportByDateType``, in its order.
SPORT_REQUESTS: tuple[type[SportByDate], ...] = tuple(
    sorted(SportByDate.__subclasses__(), key=lambda cls: cls.sport_type)
)
_SIMPLE: dict[int, type[EventsRequest]] = {cls.request_type: cls for cls in UNDATED_REQUESTS}
_SPORTS: dict[int, type[SportByDate]] = {cls.sport_type: cls for cls in SPORT_REQUESTS}
