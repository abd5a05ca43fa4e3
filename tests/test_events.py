"""The events requests (smarkets.events) and the listing's checks that need no network
(smarkets.listing)."""

from __future__ import annotations

import datetime

import pytest

import smarkets
from smarkets import events
from smarkets import listing as download
from smarkets.listing import _check_url, _shown_url
from smarkets.proto import seto_pb2

DAY = datetime.date(2024, 5, 17)

SIMPLE = [
    (smarkets.Politics, seto_pb2.EVENTS_REQUEST_POLITICS),
    (smarkets.CurrentAffairs, seto_pb2.EVENTS_REQUEST_CURRENT_AFFAIRS),
    (smarkets.TvAndEntertainment, seto_pb2.EVENTS_REQUEST_TV_AND_ENTERTAINMENT),
    (smarkets.SportOther, seto_pb2.EVENTS_REQUEST_SPORT_OTHER),
]

SPORTS = [
    (smarkets.FootballByDate, "SPORT_BY_DATE_FOOTBALL"),
    (smarkets.HorseRacingByDate, "SPORT_BY_DATE_HORSE_RACING"),
    (smarkets.TennisByDate, "SPORT_BY_DATE_TENNIS"),
    (smarkets.BasketballByDate, "SPORT_BY_DATE_BASKETBALL"),
    (smarkets.AmericanFootballByDate, "SPORT_BY_DATE_AMERICANFOOTBALL"),
    (smarkets.BaseballByDate, "SPORT_BY_DATE_BASEBALL"),
    (smarkets.CricketByDate, "SPORT_BY_DATE_CRICKET"),
    (smarkets.HandballByDate, "SPORT_BY_DATE_HANDBALL"),
    (smarkets.RugbyByDate, "SPORT_BY_DATE_RUGBY"),
    (smarkets.RugbyLeagueByDate, "SPORT_BY_DATE_RUGBYLEAGUE"),
    (smarkets.VolleyballByDate, "SPORT_BY_DATE_VOLLEYBALL"),
]


def test_every_sport_of_the_schema_has_a_class() -> None:
    assert sorted(name for _, name in SPORTS) == sorted(seto_pb2.SportByDateType.keys())
    assert {cls.sport_type for cls, _ in SPORTS} == set(seto_pb2.SportByDateType.values())


@pytest.mark.parametrize("cls, request_type", SIMPLE, ids=lambda v: getattr(v, "__name__", ""))
def test_a_simple_request_fills_the_payload(cls: type, request_type: int) -> None:
    payload = seto_pb2.Payload()
    cls().copy_to(payload)
    assert payload.type == seto_pb2.PAYLOAD_EVENTS_REQUEST
    message = payload.events_request
    assert message.type == request_type
    assert message.content_type == seto_pb2.CONTENT_TYPE_PROTOBUF
    assert not message.HasField("sport_by_date")
    assert message.IsInitialized()  # the payload lacks only its eto part, set at flush
    assert payload.FindInitializationErrors() == ["eto_payload"]
    # Only the request: nothing else in the payload.
    assert [field.name for field, _ in payload.ListFields()] == ["type", "events_request"]


@pytest.mark.parametrize("cls, sport", SPORTS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_a_sport_by_date_request_fills_the_payload(cls: type, sport: str) -> None:
    payload = seto_pb2.Payload()
    cls(DAY).copy_to(payload)
    message = payload.events_request
    assert payload.type == seto_pb2.PAYLOAD_EVENTS_REQUEST
    assert message.type == seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE
    assert message.content_type == seto_pb2.CONTENT_TYPE_PROTOBUF
    assert seto_pb2.SportByDateType.Name(message.sport_by_date.type) == sport
    date = message.sport_by_date.date
    assert (date.year, date.month, date.day) == (2024, 5, 17)
    assert message.IsInitialized()


def test_copy_to_replaces_whatever_the_payload_held() -> None:
    payload = smarkets.FootballByDate(DAY).to_payload()
    payload.eto_payload.seq = 7
    smarkets.Politics().copy_to(payload)
    assert payload.events_request.type == seto_pb2.EVENTS_REQUEST_POLITICS
    assert not payload.events_request.HasField("sport_by_date")
    assert not payload.HasField("eto_payload")
    with pytest.raises(TypeError):
        smarkets.Politics().copy_to(seto_pb2.EventsRequest())  # type: ignore[arg-type]


def test_requests_are_values() -> None:
    assert smarkets.Politics() == smarkets.Politics()
    assert smarkets.Politics() != smarkets.CurrentAffairs()
    assert smarkets.FootballByDate(DAY) == smarkets.FootballByDate(DAY)
    assert smarkets.FootballByDate(DAY) != smarkets.TennisByDate(DAY)
    assert smarkets.FootballByDate(DAY) != smarkets.FootballByDate(DAY.replace(day=18))
    assert smarkets.Politics() != "Politics()"
    assert (
        len({smarkets.FootballByDate(DAY), smarkets.FootballByDate(DAY), smarkets.Politics()}) == 2
    )
    request = smarkets.HorseRacingByDate(DAY)
    copy = request.copy()
    assert copy == request and type(copy) is smarkets.HorseRacingByDate
    assert smarkets.SportOther().copy() == smarkets.SportOther()
    with pytest.raises(AttributeError):
        request.date = DAY  # type: ignore[misc]


def test_repr_shows_what_is_asked() -> None:
    assert repr(smarkets.Politics()) == "Politics()"
    assert repr(smarkets.TennisByDate(DAY)) == "TennisByDate(datetime.date(2024, 5, 17))"


def test_the_date_must_be_a_date() -> None:
    moment = datetime.datetime(2024, 5, 17, 23, 30)
    assert smarkets.FootballByDate(moment).date == DAY  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="datetime.date"):
        smarkets.FootballByDate("2024-05-17")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="base class"):
        smarkets.SportByDate(DAY)
    with pytest.raises(TypeError, match="base class"):
        smarkets.EventsRequest()


@pytest.mark.parametrize(
    "request_",
    [cls() for cls, _ in SIMPLE] + [cls(DAY) for cls, _ in SPORTS],
    ids=repr,
)
def test_from_message_round_trips(request_: smarkets.EventsRequest) -> None:
    assert smarkets.EventsRequest.from_message(request_.to_message()) == request_


def test_from_message_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="without sport_by_date"):
        smarkets.EventsRequest.from_message(
            seto_pb2.EventsRequest(type=seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, content_type=1)
        )
    message = smarkets.TennisByDate(DAY).to_message()
    message.sport_by_date.date.month = 13
    with pytest.raises(ValueError):
        smarkets.EventsRequest.from_message(message)


# -- URLs and bodies ------------------------------------------------------------------------


def test_the_download_is_importable_from_events() -> None:
    for name in download.__all__:
        assert name in events.__all__ and getattr(events, name) is getattr(download, name)


def test_urls_that_are_not_http_are_refused() -> None:
    for url in ("ftp://localhost/x", "file:///etc/passwd", "localhost/events", "https:///x"):
        with pytest.raises(smarkets.InvalidUrlError) as caught:
            _check_url(url, tls=False)
        assert caught.value.url == url
    with pytest.raises(smarkets.InvalidUrlError):
        _check_url("http://localhost:99999/x", tls=False)


def test_plain_http_is_refused_when_the_session_uses_tls() -> None:
    assert _check_url("https://localhost/e", tls=True) == ("https", "localhost", 443)
    assert _check_url("http://127.0.0.1:81/e", tls=False) == ("http", "127.0.0.1", 81)
    with pytest.raises(smarkets.InvalidUrlError, match="uses TLS"):
        _check_url("http://localhost/e", tls=True)
    with pytest.raises(smarkets.InvalidUrlError, match="leaves https"):
        _check_url("http://localhost/e", tls=False, redirected_from="https")
    assert _check_url("https://x.example/e", tls=False, redirected_from="http")[0] == "https"


def test_shown_urls_leave_out_queries_and_credentials() -> None:
    shown = _shown_url("https://user:pw@host.example:8443/events/1?token=s3cret#f")
    assert shown == "https://host.example:8443/events/1?…"
    assert "s3cret" not in shown and "pw" not in shown
    assert _shown_url("http://[::1]:80/e") == "http://[::1]:80/e"
    with pytest.raises(smarkets.InvalidUrlError) as caught:
        _check_url("gopher://h/x?token=s3cret", tls=False)
    assert "s3cret" not in str(caught.value)


def listing() -> seto_pb2.Events:
    result = seto_pb2.Events()
    event = result.with_markets.add(
        type=seto_pb2.EVENT_FOOTBALL_MATCH,
        category=seto_pb2.EVENT_CATEGORY_SPORT,
        slug="arsenal-v-chelsea",
        name="Arsenal v Chelsea",
    )
    event.event.low = 0x51
    market = event.markets.add(slug="match-odds", name="Match Odds")
    market.market.low = 1
    contract = market.contracts.add(type=seto_pb2.CONTRACT_GENERIC, slug="arsenal", name="Arsenal")
    contract.contract.low = 1
    return result


def test_parse_listing() -> None:
    body = listing().SerializeToString()
    assert events.parse_listing(body) == listing()
    assert events.parse_listing(b"") == seto_pb2.Events()  # an empty listing is valid


def test_parse_listing_refuses_garbage_and_missing_fields() -> None:
    with pytest.raises(smarkets.DownloadError, match="not a seto.Events") as caught:
        events.parse_listing(b"\xff\xff\xff", "https://h/e")
    assert caught.value.url == "https://h/e"
    incomplete = listing()
    incomplete.with_markets[0].markets[0].ClearField("name")
    with pytest.raises(smarkets.DownloadError, match="required fields: .*name"):
        events.parse_listing(incomplete.SerializePartialToString())
