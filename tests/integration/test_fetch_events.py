"""Smarkets.fetch_events over real sockets: a scripted exchange answers the events_request
with http_found (a URL on a local HTTPS server) or invalid_request, with other payloads
arriving in between; everything else read meanwhile reaches its handlers."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from listing_server import ListingServer, Route, listing
from scripted_server import ScriptedServer, ServerConnection, payload, uuid

import smarkets
from smarkets.proto import seto_pb2

DAY = datetime.date(2024, 5, 17)


@pytest.fixture
def listings(server_ssl_context: ssl.SSLContext) -> Iterator[ListingServer]:
    with ListingServer(server_ssl_context) as server:
        server.routes["/events/football"] = Route(body=listing().SerializeToString())
        yield server


def settings_for(make_settings, port: int, ca_file: Path) -> smarkets.SessionSettings:
    return make_settings(port, ssl=True, ssl_kwargs={"ca_file": str(ca_file)})


def quotes(market: int) -> seto_pb2.Payload:
    return payload(
        "market_quotes",
        market=uuid(market),
        price_type=seto_pb2.PRICE_PERCENT_ODDS,
        quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY,
    )


def test_fetch_events_reads_to_the_answer_and_fetches_it(
    make_settings, server_ssl_context: ssl.SSLContext, ca_file: Path, listings: ListingServer
) -> None:
    url = listings.url("/events/football?day=2024-05-17")
    requests: list[seto_pb2.EventsRequest] = []

    def exchange(conn: ServerConnection) -> None:
        conn.accept_login()
        request = conn.expect("seto.events_request")
        requests.append(request.events_request)
        seq = request.eto_payload.seq
        conn.send(quotes(0x1))  # something else first
        # The answer to another request (an earlier one, say): not this one's.
        conn.send(payload("http_found", seq=seq - 1, url=listings.url("/elsewhere")))
        conn.send(payload("http_found", seq=seq, url=url))
        conn.send(quotes(0x2))  # behind the answer: left for the next read
        conn.expect("eto.ping")
        conn.expect_end()

    with ScriptedServer(exchange, ssl_context=server_ssl_context) as server:
        client = smarkets.Smarkets(
            smarkets.Session(settings_for(make_settings, server.port, ca_file))
        )
        seen: list[str] = []
        quoted: list[int] = []
        found: list[str] = []
        client.add_global_handler(lambda name, _payload: seen.append(name))
        client.add_handler("seto.market_quotes", lambda message: quoted.append(message.market.low))
        client.add_handler("seto.http_found", lambda message: found.append(message.url))
        client.login()
        result = client.fetch_events(smarkets.FootballByDate(DAY))
        assert result == listing()
        assert quoted == [0x1]
        assert found == [listings.url("/elsewhere"), url]  # both reached their handler
        assert seen == [
            "eto.login_response",
            "seto.market_quotes",
            "seto.http_found",
            "seto.http_found",
        ]
        client.read()  # nothing lost: the payload behind the answer
        assert quoted == [0x1, 0x2]
        client.ping()
        client.flush()
        client.logout()
    assert requests == [smarkets.FootballByDate(DAY).to_message()]
    assert listings.requests == ["/events/football?day=2024-05-17"]  # /elsewhere not fetched


def test_invalid_request_is_raised(
    make_settings, server_ssl_context: ssl.SSLContext, ca_file: Path
) -> None:
    def exchange(conn: ServerConnection) -> None:
        conn.accept_login()
        seq = conn.expect("seto.events_request").eto_payload.seq
        conn.send(quotes(0x3))
        conn.send(
            payload("invalid_request", seq=seq, type=seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE)
        )
        conn.expect_end()

    with ScriptedServer(exchange, ssl_context=server_ssl_context) as server:
        client = smarkets.Smarkets(
            smarkets.Session(settings_for(make_settings, server.port, ca_file))
        )
        quoted: list[int] = []
        refused: list[int] = []
        client.add_handler("seto.market_quotes", lambda message: quoted.append(message.market.low))
        client.add_handler("seto.invalid_request", lambda message: refused.append(message.seq))
        client.login()
        with pytest.raises(smarkets.InvalidRequestError) as caught:
            client.fetch_events(smarkets.TennisByDate(datetime.date(1999, 1, 1)))
        error = caught.value
        assert error.reason == seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE
        assert error.reason_name == "INVALID_REQUEST_DATE_OUT_OF_RANGE"
        assert refused == [error.seq] == [2]
        assert quoted == [0x3]
        client.logout()


def test_no_answer_times_out_whatever_else_arrives(
    make_settings, server_ssl_context: ssl.SSLContext, ca_file: Path
) -> None:
    def exchange(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("seto.events_request")
        for n in range(4):
            conn.send(quotes(0x10 + n))
        conn.expect_end()

    with ScriptedServer(exchange, ssl_context=server_ssl_context) as server:
        client = smarkets.Smarkets(
            smarkets.Session(settings_for(make_settings, server.port, ca_file))
        )
        quoted: list[int] = []
        client.add_handler("seto.market_quotes", lambda message: quoted.append(message.market.low))
        client.login()
        with pytest.raises(smarkets.SocketTimeout):
            client.fetch_events(smarkets.Politics(), timeout=0.5)
        assert quoted == [0x10, 0x11, 0x12, 0x13]
        client.logout()


def test_a_failed_download_is_raised(
    make_settings, server_ssl_context: ssl.SSLContext, ca_file: Path, listings: ListingServer
) -> None:
    def exchange(conn: ServerConnection) -> None:
        conn.accept_login()
        seq = conn.expect("seto.events_request").eto_payload.seq
        conn.send(payload("http_found", seq=seq, url=listings.url("/no-such-listing")))
        conn.expect_end()

    with ScriptedServer(exchange, ssl_context=server_ssl_context) as server:
        client = smarkets.Smarkets(
            smarkets.Session(settings_for(make_settings, server.port, ca_file))
        )
        client.login()
        with pytest.raises(smarkets.DownloadError) as caught:
            client.fetch_events(smarkets.SportOther())
        assert caught.value.status == 404
        client.logout()
