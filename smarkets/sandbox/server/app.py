"""The sandbox server: the listening socket and the parts put together.

:class:`SandboxServer` builds the plain objects of :mod:`smarkets.sandbox.server` around an
:class:`~smarkets.sandbox.exchange.engine.Exchange`, listens (each connection a
:class:`~smarkets.sandbox.server.stream.StreamProtocol`), serves the catalogue over HTTP,
runs the bots, checks passwords on worker threads, and writes out, after each event, what
every connection touched has to send. Its administration methods are
:class:`~smarkets.sandbox.server.admin.Administration`'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import State
from smarkets.sandbox.exchange import Exchange, Output
from smarkets.sandbox.exchange.bots import BotFleet
from smarkets.sandbox.server.admin import Administration
from smarkets.sandbox.server.catalogue_http import CatalogueHttpServer
from smarkets.sandbox.server.config import ServerConfig
from smarkets.sandbox.server.credentials import CredentialStore
from smarkets.sandbox.server.downtime import Downtime
from smarkets.sandbox.server.login import Admission, LoginGate
from smarkets.sandbox.server.requests import Requests
from smarkets.sandbox.server.routing import Router
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry
from smarkets.sandbox.server.stream import StreamProtocol

__all__ = ["SandboxServer"]

_log = logging.getLogger(__name__)


class SandboxServer(Administration):
    """The sandbox exchange server: sessions, routing, bots, and administration.

    Build it around an :class:`~smarkets.sandbox.exchange.engine.Exchange` (one is made from
    ``config`` when none is given), add accounts and markets (:meth:`add_account`,
    :meth:`add_market`), then ``await start()``. The administration methods (:meth:`halt`,
    :meth:`reopen`, :meth:`settle`, :meth:`add_account`, :meth:`add_market`,
    :meth:`balance`, the ``downtime_*`` methods) may be called at any time from the event
    loop's thread; what they cause is sent to the sessions concerned at once.
    """

    def __init__(
        self,
        exchange: Exchange | None = None,
        config: ServerConfig | None = None,
        *,
        ssl_context: Any = None,
        credentials: CredentialStore | None = None,
        bots: int = 0,
        seed: int = 0,
    ) -> None:
        self.config = config = config if config is not None else ServerConfig()
        if exchange is None:
            exchange = Exchange(
                max_open_orders=config.max_open_orders,
                max_order_quantity=config.max_order_quantity,
            )
        self.exchange = exchange
        self.ssl_context = ssl_context
        self.credentials = credentials if credentials is not None else CredentialStore()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[StreamProtocol] = set()
        #: Every live or parked session, their subscriptions and orders.
        self.registry = SessionRegistry(
            expiry=config.session_expiry, replay_limit=config.replay_limit, call_later=self._later
        )
        #: Who receives what.
        self.router = Router(self.registry)
        #: Who may log in, and what a login is given.
        self.gate = LoginGate(config, self.registry, self.credentials, exchange.account_id)
        #: The catalogue over HTTP (started by :meth:`start`).
        self.catalogue_http = CatalogueHttpServer(
            exchange.catalogue,
            window_days=config.listing_days,
            ssl_context=ssl_context,
            timeout=config.http_timeout,
            max_connections=config.max_http_connections,
        )
        #: What each payload a client sends does.
        self.requests = Requests(
            exchange, self.registry, self.router, self.catalogue_http, self._host_of
        )
        self._downtime = Downtime(
            self.gate,
            exchange,
            announce=self._announce,
            call_later=self._later,
            on_connection_down=self._log_everyone_out,
        )
        self._bot_count = bots
        self._seed = seed
        self._bots: BotFleet | None = None
        self._bot_timer: asyncio.TimerHandle | None = None
        #: True once :meth:`close` has begun: no new connection, session or login.
        self.closing = False
        #: Worker threads checking passwords (started at the first login that needs one).
        self._login_executor: ThreadPoolExecutor | None = None

    # -- life cycle -----------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the server runs on (the running loop, once known)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def _later(self, delay: float, callback: Callable[..., object], *args: Any) -> Any:
        return self.loop.call_later(delay, callback, *args)

    async def start(self) -> None:
        """Start listening (``config.port`` 0 picks a free port) and start the bots."""
        loop = self.loop
        if self._bot_count and self._bots is None:
            # Opened after the accounts given so far, so that those get the first ids.
            markets = [(spec.id, spec.contract_ids()) for spec in self.catalogue.markets.values()]
            self._bots = BotFleet(self.exchange, self._bot_count, self._seed, markets)
        self._server = await loop.create_server(
            lambda: StreamProtocol(self),
            self.config.host,
            self.config.port,
            ssl=self.ssl_context,
            ssl_handshake_timeout=self.config.login_timeout if self.ssl_context else None,
            reuse_address=True,
        )
        await self.catalogue_http.start(self.config.host, self.config.http_port)
        if self._bots is not None:
            self._bot_timer = loop.call_soon(self._bot_step)
        _log.info("listening on %s:%d", self.host, self.port)

    @property
    def host(self) -> str:
        """The host the server listens on."""
        return self.config.host

    @property
    def port(self) -> int:
        """The port the server listens on (the real one once started)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self.config.port

    async def close(self) -> None:
        """Stop: no new connections, each session logged out (DOWNTIME), bots stopped."""
        if self.closing:
            return
        self.closing = True
        self._downtime.stop()
        if self._bot_timer is not None:
            self._bot_timer.cancel()
            self._bot_timer = None
        if self._server is not None:
            self._server.close()
        now = self.loop.time()
        for stream in list(self._connections):
            core = stream.core
            if core is not None and core.state is State.LOGGED_IN:
                try:
                    core.logout(now, eto_pb2.LOGOUT_DOWNTIME)
                    stream.write_out()
                except Exception:  # pragma: no cover - never let one block the shutdown
                    _log.exception("%s: logout at shutdown failed", stream.peer)
            if stream.session is not None:
                stream.session.stream = None
                stream.session = None
            stream.close()
        self.registry.forget_all()
        if self._login_executor is not None:
            self._login_executor.shutdown(wait=False, cancel_futures=True)
            self._login_executor = None
        await self.catalogue_http.close()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            except asyncio.TimeoutError:  # pragma: no cover - a client that never closes
                _log.warning("some connections did not close in time")
        _log.info("stopped")

    # -- what the streams ask of the server -----------------------------------------------

    def connection_made(self, stream: StreamProtocol) -> bool:
        """Count a new connection in (False: it was closed at once)."""
        if not self.closing:
            self._connections.add(stream)
            count = len(self._connections)
            stream.admission = self.gate.connection_opened(stream.peer, count)
            if stream.admission is not Admission.ABORT:
                return True
        stream.close(abort=True)
        return False

    def connection_lost(self, stream: StreamProtocol) -> None:
        """Count a connection out."""
        self._connections.discard(stream)
        self.gate.connection_closed(stream.admission)
        stream.admission = None
        self.router.dirty.pop(stream, None)

    def check_password(self, username: str, password: str) -> asyncio.Future[bool]:
        """Check a password on a worker thread (see :mod:`~smarkets.sandbox.server.login`)."""
        if self._login_executor is None:
            self._login_executor = ThreadPoolExecutor(
                max_workers=self.config.login_workers, thread_name_prefix="sandbox-login"
            )
        verify = self.credentials.verify
        return self.loop.run_in_executor(self._login_executor, verify, username, password)

    def park(self, session: ServerSession) -> None:
        """Keep a session whose connection went (forgotten instead while closing)."""
        if self.closing:
            self.registry.forget(session)
        else:
            self.registry.park(session, self.loop.time())

    def flush(self) -> None:
        """Write out what every connection touched since the last flush has to send."""
        router = self.router
        while router.dirty:
            dirty = router.dirty
            router.dirty = {}
            for stream in dirty:
                stream.guard("writing", stream.flush)

    def url_host(self, stream: StreamProtocol | None = None) -> str:
        """The host name put in listing URLs: ``config.url_host``, else the host listened
        on, else (listening on every address) the address the client connected to."""
        host = self.config.url_host or self.config.host
        if host in ("", "0.0.0.0", "::") and stream is not None and stream.transport is not None:
            sockname = stream.transport.get_extra_info("sockname")
            if isinstance(sockname, tuple):
                host = str(sockname[0])
        return host

    def _host_of(self, session: ServerSession) -> str:
        return self.url_host(session.stream)

    def _route(self, outputs: Iterable[Output]) -> None:
        """Route what administration or the bots caused, and write it out."""
        try:
            self.router.route(outputs, None, self.loop.time())
        finally:
            self.flush()

    def _announce(self, payload: seto_pb2.Payload) -> None:
        try:
            self.router.announce(payload, self.loop.time())
        finally:
            self.flush()

    def _log_everyone_out(self) -> None:
        """A connection downtime starts: every session logged out (DOWNTIME), forgotten."""
        now = self.loop.time()
        try:
            for session in list(self.registry.sessions.values()):
                stream = session.stream
                core = stream.core if stream is not None else None
                if stream is not None and core is not None and not stream.closed:
                    stream.handle_events(core.abort(eto_pb2.LOGOUT_DOWNTIME, now))
                if self.registry.get(session.session_id) is session:
                    self.registry.forget(session)
        finally:
            self.flush()

    def session_count(self) -> int:
        """How many sessions are live or parked."""
        return len(self.registry)

    # -- bots -----------------------------------------------------------------------------

    @property
    def bots(self) -> BotFleet | None:
        """The simulated traders, if any."""
        return self._bots

    def _bot_step(self) -> None:
        self._bot_timer = None
        bots = self._bots
        if bots is None or self.closing:
            return
        try:
            self._route(bots.step())
        except Exception:
            _log.exception("bot step failed")
        self._bot_timer = self.loop.call_later(bots.next_delay(), self._bot_step)
