"""Fetching a catalogue listing over HTTP(S): the download behind :mod:`smarkets.events`.

A ``seto.http_found`` names the URL of a listing; :func:`fetch_listing` downloads it and
:func:`parse_listing` parses the body into ``seto.Events``. The download verifies TLS
exactly as the stream does (the same context, :func:`smarkets.session_socket.ssl_context`),
refuses a plain ``http`` URL for a session that uses TLS and a redirect that leaves
``https``, gives up after ``settings.socket_timeout`` and reads at most
:data:`MAX_LISTING_SIZE` bytes.

Every public name here is importable from :mod:`smarkets.events` too.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import time
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
    "fetch_listing",
    "parse_listing",
]

# The logger keeps the name docs/logging.rst gives it, from before this module was split
# out of smarkets.events.
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
