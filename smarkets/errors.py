"""The library's exceptions: one base class, one subclass per distinct failure.

Everything the library raises on purpose derives from :class:`Error`, so a script
can catch the whole family with one ``except smarkets.Error``.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every exception raised by :mod:`smarkets`."""


class ProtocolError(Error):
    """The protocol was broken: by the peer (:class:`RemoteProtocolError`) or by what this
    program asked for (:class:`LocalProtocolError`). Catch this to catch both."""


class LocalProtocolError(ProtocolError):
    """This program asked for something the protocol does not allow now: sending before
    the login or after the logout, logging in twice, a payload lacking a required field.

    Nothing was sent; the connection, if any, is as it was.
    """


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes or payloads that break the wire protocol.

    The connection that produced it is unusable afterwards: nothing after the
    offending data is guessed at.
    """


class InvalidIdError(Error, ValueError):
    """A text or numeric id is not a valid 128-bit tagged hex id of the expected kind."""


# ---------------------------------------------------------------------------
# Client: settings, transport, session and trading errors


class SettingsError(Error, ValueError):
    """A :class:`~smarkets.settings.SessionSettings` value is missing or not valid."""


class SocketError(Error):
    """The connection to the server failed; the message names ``host:port``.

    ``host`` and ``port`` say which server it was.  The subclasses tell apart
    the failures a script may want to handle differently.  A session whose
    connection failed stays resumable: log in again to continue it.
    """

    def __init__(self, message: str, host: str = "", port: int = 0) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


class ConnectError(SocketError):
    """The server could not be reached: connection refused, no route, unknown host."""


class TLSError(SocketError):
    """The TLS handshake failed: unverified certificate, host name mismatch, …"""


class ConnectionClosed(SocketError):
    """The server closed the connection.

    ``mid_frame`` is true when it closed in the middle of a frame (``buffered``
    bytes of an unfinished frame were thrown away), false when it closed
    cleanly between frames.
    """

    def __init__(
        self,
        message: str,
        host: str = "",
        port: int = 0,
        *,
        mid_frame: bool = False,
        buffered: int = 0,
    ) -> None:
        super().__init__(message, host, port)
        self.mid_frame = mid_frame
        self.buffered = buffered


class SocketTimeout(SocketError, TimeoutError):
    """Nothing arrived (or a write did not complete) within the socket timeout."""


class NotLoggedInError(Error):
    """The operation needs a logged-in session (call ``login()`` first)."""


class ClientClosedError(Error):
    """The asyncio client was closed, or its session ended for good, while this waited.

    Wakes every task that awaits an order, a cancel, a ping or a stream of the client.
    ``__cause__`` is what ended it, when that was not the program's own ``close()``.
    """


class SessionEndedError(Error):
    """The session ended, not at this side's request.

    ``reason`` is the eto ``LogoutReason`` number, ``reason_name`` its name
    (``'LOGOUT_UNAUTHORISED'``), ``resumable`` whether logging in again continues
    the same session (true after heartbeat and login timeouts).  It is raised once
    everything that arrived before the end has been returned (and, by
    :class:`~smarkets.client.Smarkets`, dispatched): the end travels after the
    payloads, never with them.
    """

    def __init__(
        self,
        reason: int,
        message: str | None = None,
        *,
        resumable: bool = False,
        by_peer: bool = True,
    ) -> None:
        from smarkets.proto import eto_pb2

        try:
            name = eto_pb2.LogoutReason.Name(reason)
        except ValueError:
            name = str(reason)
        who = "the server" if by_peer else "this client"
        super().__init__(message or f"session ended by {who}: {name}")
        self.reason = reason
        self.reason_name = name
        self.resumable = resumable
        self.by_peer = by_peer


class LoginError(SessionEndedError):
    """The server refused the login: bad credentials (UNAUTHORISED)."""


class UnknownSessionError(SessionEndedError):
    """The session id is unknown or expired (UNKNOWN_SESSION): start a new session."""


class HeartbeatTimeoutError(SessionEndedError):
    """One side heard nothing for the heartbeat timeout; the session is resumable."""


class LoginTimeoutError(SessionEndedError):
    """The login was not answered in time; the session is resumable."""


class LoggedOutError(SessionEndedError):
    """The server ended the session for another reason (NONE, SERVICE_TEMPORARILY_UNAVAILABLE…)."""


class DowntimeError(LoggedOutError):
    """The server closed the session for announced downtime (LOGOUT DOWNTIME).

    The downtime was announced beforehand by an ``eto.downtime_alert`` payload.  A session
    that ended by logout cannot be resumed: log in again (a new session) once the service
    is back.
    """


class PayloadRejectedError(LoggedOutError):
    """The server ended the session over a payload this side sent.

    LOGOUT ``INVALID_PAYLOAD`` (it could not be decoded or lacked a required field) or
    ``UNSUPPORTED_PAYLOAD`` (a kind or enum value the server does not serve).  Both are
    extension reasons: a session without extensions is told ``LOGOUT_NONE`` instead.
    """


class ExtensionNotGrantedError(Error):
    """The feature needs the project's extensions, and the server did not grant them.

    ``feature`` names what was asked for.  A server that speaks only the published
    schema (eto v0.3.0 / seto v0.6.4) could not parse the request, so nothing is sent.
    Log in with ``SessionSettings(extensions=True)`` (the default) to a server that grants
    them, or use the published way to say the thing where there is one.
    """

    def __init__(self, feature: str, granted: int | None = 0) -> None:
        if granted is None:
            detail = "the session is not logged in yet, so no extensions are granted"
        else:
            detail = "the server granted no extensions (it speaks only the published schema)"
        super().__init__(f"{feature} needs the smarkets protocol extensions: {detail}")
        self.feature = feature
        self.granted = granted


class UnknownHandlerError(Error, ValueError):
    """A handler name is not one of the payload kinds; the message lists the valid names."""


class InvalidOrderError(Error, ValueError):
    """An order is not valid; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid order: " + "; ".join(problems))
        self.problems = list(problems)


class StateStoreError(Error):
    """A saved session state could not be read or written."""


# ---------------------------------------------------------------------------
# The catalogue: events_request, then the listing fetched over HTTP(S)


class InvalidRequestError(Error):
    """The server answered a request with ``seto.invalid_request``.

    ``seq`` is the request's seq, ``reason`` the ``seto.InvalidRequestType`` number and
    ``reason_name`` its name (``'INVALID_REQUEST_DATE_OUT_OF_RANGE'``: an events request
    for a date outside the window the server lists).
    """

    def __init__(self, seq: int, reason: int, message: str | None = None) -> None:
        from smarkets.proto import seto_pb2

        try:
            name = seto_pb2.InvalidRequestType.Name(reason)
        except ValueError:
            name = str(reason)
        super().__init__(message or f"the server refused request {seq}: {name}")
        self.seq = seq
        self.reason = reason
        self.reason_name = name


class InvalidUrlError(Error, ValueError):
    """A URL to fetch is not http(s), or is plain http while the session uses TLS.

    ``url`` is the URL (its query left out of the message, which may reach a log).
    """

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class DownloadError(Error):
    """Fetching a listing over HTTP(S) failed.

    The connection or the TLS handshake failed, the server answered with another status
    than 200, another content type than ``application/x-protobuf``, a body over the size
    limit, or a body that is not a valid ``seto.Events``.  ``url`` is the URL fetched
    (the last one, after redirects), ``status`` the HTTP status when there was an
    answer (else ``None``).
    """

    def __init__(self, message: str, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
