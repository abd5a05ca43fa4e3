"""One TCP (by default TLS) connection that moves bytes: :class:`SessionSocket`.

This is the transport under :class:`smarkets.session.Session`.  It knows nothing of
frames, sequence numbers or logins: it connects (verifying TLS), writes the bytes the
protocol connection (:class:`smarkets.protocol.connection.Connection`) gives it, and
reads bytes back for it.  Every failure is raised as a subclass of
:class:`smarkets.errors.SocketError` whose message names ``host:port``.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import time

from smarkets.errors import (
    ConnectError,
    ConnectionClosed,
    SocketError,
    SocketTimeout,
    TLSError,
)
from smarkets.settings import SessionSettings

__all__ = ["SessionSocket", "ssl_context"]

log = logging.getLogger("smarkets.socket")

_CLOSED_ERRORS = (
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
    ssl.SSLZeroReturnError,
    ssl.SSLEOFError,
)

# What a non-blocking socket raises when it cannot go on without waiting (TLS may need to
# read in order to write, and the other way round).
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def ssl_context(settings: SessionSettings) -> ssl.SSLContext:
    """The TLS context that verifies the server for ``settings``.

    ``settings.ssl_kwargs['context']`` when given; else the system trust store, or the
    ``ca_file``/``capath`` named there, with certificate and host name checks on, and the
    client certificate if one is named.  The stream (:class:`SessionSocket`) and the
    catalogue download (:func:`smarkets.listing.fetch_listing`) both use it, so a URL the
    server hands out is verified exactly as the stream is.  Raises
    :class:`~smarkets.errors.TLSError` when the files cannot be loaded.
    """
    kwargs = settings.ssl_kwargs
    context = kwargs.get("context")
    if context is not None:
        return context
    cafile = kwargs.get("ca_file", kwargs.get("cafile"))
    capath = kwargs.get("capath")
    try:
        context = ssl.create_default_context(cafile=cafile, capath=capath)
        if "certfile" in kwargs:
            context.load_cert_chain(kwargs["certfile"], kwargs.get("keyfile"))
    except (OSError, ssl.SSLError) as exc:
        raise TLSError(
            f"TLS setup for {settings.address} failed: cannot load the CA or client "
            f"certificate files: {exc}",
            settings.host,
            settings.port,
        ) from exc
    return context


def connect_error(exc: OSError, settings: SessionSettings) -> ConnectError:
    """The :class:`~smarkets.errors.ConnectError` for a failure to reach the server (the
    blocking and the asyncio client alike)."""
    if isinstance(exc, TimeoutError):
        message = f"timed out connecting to {settings.address} after {settings.socket_timeout:g}s"
    else:
        reason = exc.strerror or str(exc) or type(exc).__name__
        message = f"cannot connect to {settings.address}: {reason}"
    return ConnectError(message, settings.host, settings.port)


def tls_error(exc: OSError, settings: SessionSettings) -> TLSError:
    """The :class:`~smarkets.errors.TLSError` for a failed TLS handshake: an untrusted
    certificate, a host name that does not match, a timeout."""
    address = settings.address
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or str(exc)
        message = f"TLS handshake with {address} failed: certificate not trusted: {detail}"
    elif isinstance(exc, TimeoutError):
        message = f"TLS handshake with {address} timed out"
    else:
        message = f"TLS handshake with {address} failed: {exc}"
    return TLSError(message, settings.host, settings.port)


class SessionSocket:
    """One connection to ``settings.host:settings.port``, moving bytes.

    TLS is on unless ``settings.ssl`` is ``False``; the server certificate and
    host name are verified (against the system trust store, or
    ``settings.ssl_kwargs['ca_file']``).  ``TCP_NODELAY`` is set, and every
    blocking operation is limited by ``settings.socket_timeout``.

    Once connected, the socket is non-blocking and this class does the waiting
    itself (``poll``), only when an operation cannot complete at once.  A socket
    with a timeout would ask the kernel before every ``send`` and ``recv``
    whether it may go ahead: an extra system call each, on the latency path.

    Not thread-safe by itself: :class:`~smarkets.session.Session` serialises
    access to it.
    """

    def __init__(self, settings: SessionSettings) -> None:
        self.settings = settings
        self._sock: socket.socket | None = None
        self._tls = False
        # poll() object watching the connected socket for input (see wait_readable).
        self._poller: select.poll | None = None
        self._host = settings.host
        self._port = settings.port

    # -- state -------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True between a successful :meth:`connect` and :meth:`close` (or a failure)."""
        return self._sock is not None

    @property
    def address(self) -> str:
        """``host:port`` of the server (as of the last :meth:`connect`)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self._port}"

    def fileno(self) -> int:
        """The socket's file descriptor (for ``select``), or -1 when not connected."""
        return self._sock.fileno() if self._sock is not None else -1

    # -- connecting --------------------------------------------------------

    def connect(self) -> None:
        """Open the connection (and do the TLS handshake); a no-op when already open.

        Raises :class:`~smarkets.errors.ConnectError` when the server cannot be
        reached and :class:`~smarkets.errors.TLSError` when the handshake or the
        certificate check fails.
        """
        if self._sock is not None:
            return
        settings = self.settings
        self._host, self._port = settings.host, settings.port
        address = self.address
        timeout = settings.socket_timeout
        log.info("connecting to %s (%s)", address, "TLS" if settings.ssl else "plain TCP")
        try:
            raw = socket.create_connection((self._host, self._port), timeout=timeout)
        except OSError as exc:
            raise connect_error(exc, settings) from exc
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock = self._wrap(raw) if settings.ssl else raw
            sock.setblocking(False)  # waits are ours from now on: see the class docstring
            poller = select.poll()
            poller.register(sock, select.POLLIN)
        except BaseException:
            raw.close()
            raise
        self._sock = sock
        self._tls = isinstance(sock, ssl.SSLSocket)
        self._poller = poller
        log.info("connected to %s", address)

    def _wrap(self, raw: socket.socket) -> ssl.SSLSocket:
        context = ssl_context(self.settings)
        try:
            return context.wrap_socket(raw, server_hostname=self._host)
        except OSError as exc:
            raise tls_error(exc, self.settings) from exc

    def close(self) -> None:
        """Close the connection (a no-op when not connected); unfinished input is dropped."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self._poller = None
        log.info("closing the connection to %s", self.address)
        try:
            sock.close()
        except OSError:  # pragma: no cover - close errors carry nothing useful
            pass

    # -- I/O ---------------------------------------------------------------

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise SocketError(f"not connected to {self.address}", self._host, self._port)
        return self._sock

    @staticmethod
    def _wait(sock: socket.socket, reading: bool, deadline: float) -> bool:
        """Wait until ``sock`` is readable (or writable); False once past ``deadline``."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        poller = select.poll()
        poller.register(sock, select.POLLIN if reading else select.POLLOUT)
        return bool(poller.poll(remaining * 1000.0))

    def send_data(self, data: bytes) -> None:
        """Write ``data`` (frames, as :meth:`Connection.data_to_send
        <smarkets.protocol.connection.Connection.data_to_send>` gives them) all at once.

        One ``send`` when the kernel takes everything, as it does unless the peer has
        stopped reading; otherwise the rest goes out as it can, within
        ``settings.socket_timeout``.  A write that fails part-way leaves the stream
        unusable, so the connection is closed before the error is raised.
        """
        sock = self._require()
        if not data:
            return
        try:
            self._send_all(sock, data)
        except TimeoutError as exc:
            self.close()
            raise SocketTimeout(
                f"timed out writing to {self.address} after {self.settings.socket_timeout:g}s",
                self._host,
                self._port,
            ) from exc
        except _CLOSED_ERRORS as exc:
            self.close()
            raise ConnectionClosed(
                f"{self.address} closed the connection while we were writing ({exc})",
                self._host,
                self._port,
            ) from exc
        except OSError as exc:
            self.close()
            raise SocketError(
                f"writing to {self.address} failed: {exc}", self._host, self._port
            ) from exc

    def _send_all(self, sock: socket.socket, data: bytes) -> None:
        try:
            sent = sock.send(data)
        except _WOULD_BLOCK as exc:
            sent, reading = 0, isinstance(exc, ssl.SSLWantReadError)
        else:
            if sent == len(data):
                return
            reading = False
        # The kernel's buffer is full (the peer is slow to read): send the rest as it goes.
        deadline = time.monotonic() + self.settings.socket_timeout
        view = memoryview(data)[sent:]
        while view:
            if not self._wait(sock, reading, deadline):
                raise TimeoutError
            try:
                view = view[sock.send(view) :]
            except _WOULD_BLOCK as exc:
                reading = isinstance(exc, ssl.SSLWantReadError)

    def wait_readable(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds (``None``: forever) for input; True if there is some.

        Counts bytes TLS has already decrypted, which ``poll`` cannot see.
        Returns True at once when not connected, so that the next
        :meth:`recv_data` reports it.
        """
        sock = self._sock
        poller = self._poller
        if sock is None or poller is None:
            return True
        if self._tls and sock.pending():  # type: ignore[attr-defined]
            return True
        if timeout is not None:
            # poll() takes milliseconds (rounded up; never negative, which means forever).
            timeout = timeout * 1000.0 if timeout > 0 else 0
        try:
            return bool(poller.poll(timeout))
        except (OSError, ValueError):
            return True  # closed under us: let recv_data say how

    def recv_data(self) -> bytes:
        """Read once (waiting up to the socket timeout); return the bytes read.

        ``b""`` means the server closed the connection (it is closed here too; whether a
        frame was cut short is the protocol connection's to say).  Raises
        :class:`~smarkets.errors.SocketTimeout` when nothing arrived in time (the
        connection stays usable) and :class:`~smarkets.errors.SocketError` when the read
        failed (the connection is closed).
        """
        sock = self._require()
        try:
            deadline = time.monotonic() + self.settings.socket_timeout
            while True:
                try:
                    data = sock.recv(self.settings.read_chunksize)
                    break
                except _WOULD_BLOCK as exc:
                    # Nothing yet (or only part of a TLS record): wait as a blocking read
                    # would, up to the socket timeout.
                    reading = not isinstance(exc, ssl.SSLWantWriteError)
                    if not self._wait(sock, reading, deadline):
                        raise TimeoutError from None
        except TimeoutError as exc:
            raise SocketTimeout(
                f"nothing received from {self.address} in {self.settings.socket_timeout:g}s",
                self._host,
                self._port,
            ) from exc
        except _CLOSED_ERRORS:
            data = b""
        except OSError as exc:
            self.close()
            raise SocketError(
                f"reading from {self.address} failed: {exc}", self._host, self._port
            ) from exc
        if not data:
            self.close()
        return data

    def __repr__(self) -> str:
        state = "connected" if self._sock is not None else "not connected"
        return f"<SessionSocket {self.address} {state}>"
