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
``seto.EventsRequest``; :func:`fetch_listing` does the download. It verifies TLS exactly as
the stream does (the same context, :func:`smarkets.session_socket.ssl_context`), refuses a
plain ``http`` URL for a session that uses TLS and a redirect that leaves ``https``, gives
up after ``settings.socket_timeout`` and reads at most :data:`MAX_LISTING_SIZE` bytes.
"""

from __future__ import annotations

import datetime
import http.client
import logging
import ssl
import time
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from google.protobuf.message import DecodeError as _ProtobufDecodeError

from smarkets.errors import DownloadError, Error, InvalidUrlError
from smarkets.proto import seto_pb2
from smarkets.session_socket import ssl_context
from smarkets.settings import SessionSettings

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

log = logging.getLogger("smarkets.events")

#: The content type of a listing (PROTOCOL.md section 3.1).
CONTENT_TYPE = "application/x-protobuf"
#: The largest listing body read, in bytes (16 MiB): a bigger one raises
#: :class:`~smarkets.errors.DownloadError` rather than filling the memory.
MAX_LISTING_SIZE = 16 * 1024 * 1024
#: Redirects followed (each one checked like the first URL) before giving up.
MAX_REDIRECTS = 5

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 65536


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


# -- the listing ---------------------------------------------------------------------------


def _shown_url(url: str) -> str:
    """``url`` for messages and logs: its query and fragment (which may carry a token)
    replaced by ``?…``, and any user information left out."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<an unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    hidden = "?…" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{netloc}{parts.path}{hidden}"


def _check_url(url: str, tls: bool, redirected_from: str | None = None) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL fit to fetch; InvalidUrlError if it is not."""
    if not isinstance(url, str):
        raise InvalidUrlError(f"a URL must be a str, not {type(url).__name__}", str(url))
    what = "the redirect" if redirected_from is not None else "the URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrlError(f"{what} {_shown_url(url)} is not valid: {exc}", url) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidUrlError(f"{what} {_shown_url(url)} is not an http(s) URL", url)
    if scheme == "http" and (tls or redirected_from == "https"):
        why = (
            "leaves https for plain http"
            if redirected_from == "https"
            else "is plain http while the session uses TLS"
        )
        raise InvalidUrlError(f"{what} {_shown_url(url)} {why}: refused", url)
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def parse_listing(body: bytes, url: str = "") -> seto_pb2.Events:
    """Parse a listing body into ``seto.Events``, its required fields checked.

    Raises :class:`~smarkets.errors.DownloadError` for bytes that are not a valid
    ``seto.Events``.
    """
    try:
        events = seto_pb2.Events.FromString(body)
    except _ProtobufDecodeError as exc:
        raise DownloadError(
            f"the listing from {_shown_url(url)} is not a seto.Events protobuf: {exc}", url, 200
        ) from exc
    if not events.IsInitialized():
        missing = events.FindInitializationErrors()
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise DownloadError(
            f"the listing from {_shown_url(url)} lacks required fields: {shown}", url, 200
        )
    return events


def fetch_listing(
    url: str,
    settings: SessionSettings,
    *,
    timeout: float | None = None,
    max_size: int = MAX_LISTING_SIZE,
) -> seto_pb2.Events:
    """Fetch and parse the ``seto.Events`` listing at ``url`` (from a ``seto.http_found``).

    TLS is verified with :func:`smarkets.session_socket.ssl_context` ``(settings)``, the
    stream's own context (CA file, client certificate, host name check). When
    ``settings.ssl`` is on, a plain ``http`` URL is refused, and so is any redirect from
    ``https`` to ``http``; up to :data:`MAX_REDIRECTS` redirects are followed otherwise.
    The whole download must end within ``timeout`` seconds (default
    ``settings.socket_timeout``) and the body be at most ``max_size`` bytes.

    Raises :class:`~smarkets.errors.InvalidUrlError` for a URL that is not http(s) or is
    a downgrade, and :class:`~smarkets.errors.DownloadError` (with ``url`` and, when the
    server answered, ``status``) for a failed connection or handshake, a status other than
    200, a content type other than ``application/x-protobuf``, a body over ``max_size``,
    a timeout, or a body that is not a valid ``seto.Events``.
    """
    limit = settings.socket_timeout if timeout is None else timeout
    deadline = time.monotonic() + limit
    redirected_from: str | None = None
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = _check_url(url, settings.ssl, redirected_from)
        status, location, body = _get(url, scheme, host, port, settings, deadline, max_size)
        if location is None:
            log.debug("fetched %d bytes from %s", len(body), _shown_url(url))
            return parse_listing(body, url)
        target = urljoin(url, location)
        log.debug("%s redirects (%d) to %s", _shown_url(url), status, _shown_url(target))
        redirected_from, url = scheme, target
    raise DownloadError(f"more than {MAX_REDIRECTS} redirects, the last to {_shown_url(url)}", url)


def _get(
    url: str,
    scheme: str,
    host: str,
    port: int,
    settings: SessionSettings,
    deadline: float,
    max_size: int,
) -> tuple[int, str | None, bytes]:
    """One GET: ``(status, redirect location or None, body)``; DownloadError if it fails."""
    shown = _shown_url(url)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DownloadError(f"timed out fetching {shown}", url)
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection: http.client.HTTPConnection
    try:
        if scheme == "https":
            context = ssl_context(settings)
            connection = http.client.HTTPSConnection(host, port, timeout=remaining, context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=remaining)
    except Error as exc:  # the CA or certificate files could not be loaded
        raise DownloadError(f"cannot fetch {shown}: {exc}", url) from exc
    status: int | None = None
    try:
        log.debug("fetching %s", shown)
        connection.request("GET", target, headers={"Accept": CONTENT_TYPE})
        _limit_time(connection, deadline)
        response = connection.getresponse()
        status = response.status
        if status in _REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise DownloadError(f"{shown} answered {status} without a Location", url, status)
            return status, location, b""
        if status != 200:
            raise DownloadError(
                f"{shown} answered {status} {response.reason}".rstrip(), url, status
            )
        content_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
        if content_type.lower() != CONTENT_TYPE:
            raise DownloadError(
                f"{shown} sent {content_type or 'no content type'!r}, not {CONTENT_TYPE!r}",
                url,
                status,
            )
        length = response.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_size:
            raise DownloadError(
                f"the listing from {shown} is {int(length)} bytes, over the {max_size} "
                "bytes allowed",
                url,
                status,
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            _limit_time(connection, deadline)
            chunk = response.read1(min(_CHUNK, max_size + 1 - size))  # one recv at most
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_size:
                raise DownloadError(
                    f"the listing from {shown} is over the {max_size} bytes allowed", url, status
                )
        return status, None, b"".join(chunks)
    except DownloadError:
        raise
    except ssl.SSLCertVerificationError as exc:
        detail = exc.verify_message or exc.reason or str(exc)
        raise DownloadError(
            f"TLS with {shown} failed: certificate not trusted: {detail}", url
        ) from exc
    except TimeoutError as exc:
        raise DownloadError(f"timed out fetching {shown}", url, status) from exc
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise DownloadError(f"fetching {shown} failed: {reason}", url, status) from exc
    finally:
        connection.close()


def _limit_time(connection: http.client.HTTPConnection, deadline: float) -> None:
    """Let the next read on ``connection`` wait only until ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    sock = connection.sock
    if sock is not None:
        sock.settimeout(remaining)
