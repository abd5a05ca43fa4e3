"""Fetching an events listing over real HTTPS (and HTTP): Smarkets.fetch_http_found and
smarkets.events.fetch_listing against a local server with a certificate from the test CA."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from listing_server import ListingServer, Route, listing

import smarkets
from smarkets import events
from smarkets.proto import seto_pb2

BODY = listing().SerializeToString()


@pytest.fixture
def https(server_ssl_context: ssl.SSLContext) -> Iterator[ListingServer]:
    with ListingServer(server_ssl_context) as server:
        server.routes["/events"] = Route(body=BODY)
        yield server


@pytest.fixture
def plain() -> Iterator[ListingServer]:
    with ListingServer() as server:
        server.routes["/events"] = Route(body=BODY)
        yield server


def client_for(
    ca_file: Path | None, *, tls: bool = True, timeout: float = 3.0
) -> smarkets.Smarkets:
    settings = smarkets.SessionSettings(
        "alice",
        "alice-pw",
        host="127.0.0.1",
        ssl=tls,
        ssl_kwargs={"ca_file": str(ca_file)} if ca_file is not None else {},
        socket_timeout=timeout,
    )
    return smarkets.Smarkets(smarkets.Session(settings))


def found(url: str) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_HTTP_FOUND)
    payload.http_found.seq = 2
    payload.http_found.url = url
    return payload


def test_fetch_over_https(https: ListingServer, ca_file: Path) -> None:
    client = client_for(ca_file)
    result = client.fetch_http_found(found(https.url("/events")))
    assert result == listing()
    assert result.with_markets[0].markets[0].contracts[1].name == "Chelsea"
    # The HttpFound itself (what a seto.http_found handler gets) will do too, and a
    # given Events is filled.
    into = seto_pb2.Events()
    assert client.fetch_http_found(found(https.url("/events")).http_found, into) is into
    assert into == listing()
    assert https.requests == ["/events", "/events"]


def test_a_query_is_sent_and_never_logged(
    https: ListingServer, ca_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smarkets")
    client = client_for(ca_file)
    assert client.fetch_http_found(found(https.url("/events?token=s3cret"))) == listing()
    assert https.requests == ["/events?token=s3cret"]
    assert "s3cret" not in caplog.text
    assert "/events" in caplog.text


def test_plain_http_when_the_session_is_plain(plain: ListingServer) -> None:
    client = client_for(None, tls=False)
    assert client.fetch_http_found(found(plain.url("/events"))) == listing()


def test_an_untrusted_certificate_is_a_download_error(https: ListingServer, tmp_path: Path) -> None:
    import trustme

    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    client = client_for(other_ca)
    with pytest.raises(smarkets.DownloadError, match="not trusted") as caught:
        client.fetch_http_found(found(https.url("/events")))
    assert caught.value.status is None
    assert caught.value.url == https.url("/events")
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
    assert https.requests == []  # nothing was asked of a server that was not trusted


def test_a_certificate_for_another_host_is_a_download_error(
    wrong_host_ssl_context: ssl.SSLContext, ca_file: Path
) -> None:
    with ListingServer(wrong_host_ssl_context) as server:
        server.routes["/events"] = Route(body=BODY)
        with pytest.raises(smarkets.DownloadError, match="not trusted"):
            client_for(ca_file).fetch_http_found(found(server.url("/events")))


def test_the_stream_context_is_the_one_used(https: ListingServer, ca_file: Path) -> None:
    """ssl_kwargs['context'] is honoured as it is by the stream."""
    context = ssl.create_default_context(cafile=str(ca_file))
    settings = smarkets.SessionSettings(
        "alice", "pw", host="127.0.0.1", ssl_kwargs={"context": context}, socket_timeout=3
    )
    assert events.fetch_listing(https.url("/events"), settings) == listing()
    strict = ssl.create_default_context()  # the system store does not know the test CA
    settings.ssl_kwargs = {"context": strict}
    with pytest.raises(smarkets.DownloadError):
        events.fetch_listing(https.url("/events"), settings)


def test_a_missing_ca_file_is_a_download_error(https: ListingServer, tmp_path: Path) -> None:
    client = client_for(tmp_path / "no-such-ca.pem")
    with pytest.raises(smarkets.DownloadError, match="CA") as caught:
        client.fetch_http_found(found(https.url("/events")))
    assert isinstance(caught.value.__cause__, smarkets.TLSError)


def test_404_is_a_download_error_with_its_status(https: ListingServer, ca_file: Path) -> None:
    with pytest.raises(smarkets.DownloadError, match="404") as caught:
        client_for(ca_file).fetch_http_found(found(https.url("/gone")))
    assert caught.value.status == 404
    assert caught.value.url == https.url("/gone")


def test_500_is_a_download_error(https: ListingServer, ca_file: Path) -> None:
    https.routes["/broken"] = Route(status=500, body=BODY)
    with pytest.raises(smarkets.DownloadError) as caught:
        client_for(ca_file).fetch_http_found(found(https.url("/broken")))
    assert caught.value.status == 500


@pytest.mark.parametrize("content_type", ["text/html", None, "application/json"])
def test_a_wrong_content_type_is_a_download_error(
    https: ListingServer, ca_file: Path, content_type: str | None
) -> None:
    https.routes["/page"] = Route(body=BODY, content_type=content_type)
    with pytest.raises(smarkets.DownloadError, match="not 'application/x-protobuf'") as caught:
        client_for(ca_file).fetch_http_found(found(https.url("/page")))
    assert caught.value.status == 200


def test_content_type_parameters_and_case_are_accepted(https: ListingServer, ca_file: Path) -> None:
    https.routes["/events"] = Route(body=BODY, content_type="Application/X-Protobuf; q=1")
    assert client_for(ca_file).fetch_http_found(found(https.url("/events"))) == listing()


def test_a_garbage_body_is_a_download_error(https: ListingServer, ca_file: Path) -> None:
    https.routes["/garbage"] = Route(body=b"\xff" * 40)
    with pytest.raises(smarkets.DownloadError, match="not a seto.Events"):
        client_for(ca_file).fetch_http_found(found(https.url("/garbage")))


def test_a_body_missing_required_fields_is_a_download_error(
    https: ListingServer, ca_file: Path
) -> None:
    incomplete = listing()
    incomplete.parents[0].ClearField("slug")
    https.routes["/partial"] = Route(body=incomplete.SerializePartialToString())
    with pytest.raises(smarkets.DownloadError, match="required fields: parents.*slug"):
        client_for(ca_file).fetch_http_found(found(https.url("/partial")))


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    https: ListingServer, ca_file: Path
) -> None:
    https.routes["/huge"] = Route(body=b"", declared_length=events.MAX_LISTING_SIZE + 1)
    with pytest.raises(smarkets.DownloadError, match="over the 16777216 bytes") as caught:
        client_for(ca_file).fetch_http_found(found(https.url("/huge")))
    assert caught.value.status == 200


def test_a_body_over_the_cap_without_a_length_is_cut_off(
    https: ListingServer, ca_file: Path
) -> None:
    https.routes["/stream"] = Route(body=b"\x00" * 5000, chunk=1000)
    settings = client_for(ca_file).session.settings
    with pytest.raises(smarkets.DownloadError, match="over the 4096 bytes"):
        events.fetch_listing(https.url("/stream"), settings, max_size=4096)
    https.routes["/stream"] = Route(body=BODY, chunk=7)  # chunked and within the cap: fine
    assert events.fetch_listing(https.url("/stream"), settings, max_size=len(BODY)) == listing()


def test_an_http_url_is_refused_when_the_session_uses_tls(
    plain: ListingServer, ca_file: Path
) -> None:
    with pytest.raises(smarkets.InvalidUrlError, match="plain http"):
        client_for(ca_file).fetch_http_found(found(plain.url("/events")))
    assert plain.requests == []


def test_a_redirect_to_http_is_refused(
    https: ListingServer, plain: ListingServer, ca_file: Path
) -> None:
    https.routes["/moved"] = Route(status=302, headers={"Location": plain.url("/events")})
    with pytest.raises(smarkets.InvalidUrlError, match="redirect"):
        client_for(ca_file).fetch_http_found(found(https.url("/moved")))
    assert plain.requests == []
    # Even for a session without TLS: https is never left for http.
    with pytest.raises(smarkets.InvalidUrlError, match="leaves https"):
        events.fetch_listing(https.url("/moved"), client_for(ca_file, tls=False).session.settings)
    assert plain.requests == []


def test_redirects_within_https_are_followed(https: ListingServer, ca_file: Path) -> None:
    https.routes["/old"] = Route(status=301, headers={"Location": "/events"})
    https.routes["/loop"] = Route(status=307, headers={"Location": "/loop"})
    assert client_for(ca_file).fetch_http_found(found(https.url("/old"))) == listing()
    with pytest.raises(smarkets.DownloadError, match="redirects"):
        client_for(ca_file).fetch_http_found(found(https.url("/loop")))
    assert len(https.requests) == 2 + events.MAX_REDIRECTS + 1


def test_a_silent_server_times_out(https: ListingServer, ca_file: Path) -> None:
    https.routes["/slow"] = Route(body=BODY, delay=3.0)
    started = time.monotonic()
    with pytest.raises(smarkets.DownloadError, match="timed out"):
        client_for(ca_file, timeout=0.5).fetch_http_found(found(https.url("/slow")))
    assert time.monotonic() - started < 2.0


def test_a_dripping_server_times_out_as_a_whole(https: ListingServer, ca_file: Path) -> None:
    """Each chunk comes within the timeout, but the whole body does not."""
    https.routes["/drip"] = Route(body=BODY, chunk=4, drip=0.2)
    started = time.monotonic()
    with pytest.raises(smarkets.DownloadError, match="timed out"):
        client_for(ca_file, timeout=0.8).fetch_http_found(found(https.url("/drip")))
    assert time.monotonic() - started < 2.0


def test_nobody_listening_is_a_download_error(ca_file: Path) -> None:
    with ListingServer() as server:
        url = f"https://127.0.0.1:{server.port}/events"
    with pytest.raises(smarkets.DownloadError, match="failed") as caught:
        client_for(ca_file).fetch_http_found(found(url))
    assert caught.value.status is None
