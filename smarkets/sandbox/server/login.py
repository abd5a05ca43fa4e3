"""The login gate: which connections may log in, and what a login that may is given.

* The connection cap: at most ``max_connections`` connections are served; a connection
  beyond that has its login refused with ``SERVICE_TEMPORARILY_UNAVAILABLE`` (and is
  aborted at once when even the connections waiting to be refused are too many).
* Connection downtime: logins are refused with LOGOUT ``DOWNTIME`` until service resumes.
* The password check: the credentials are checked against salted scrypt hashes
  (:class:`~smarkets.sandbox.server.credentials.CredentialStore`), about 20 ms per login, on
  a small pool of worker threads (``login_workers``) so that a flood of logins never stalls
  the event loop for the sessions already trading; while its check runs, a connection is
  not read from. At most ``max_pending_logins`` checks wait or run at once; a login beyond
  that is answered LOGOUT ``SERVICE_TEMPORARILY_UNAVAILABLE``.
* The decision (:meth:`LoginGate.decide`): bad credentials, ``UNAUTHORISED``; a resume must
  give the same account's credentials and a session id that is live or parked (else
  ``UNKNOWN_SESSION``); a new login opens a new session. Extensions (PROTOCOL.md section
  3.2): a login whose ``seto.Login.extensions`` is above 0 is granted ``min(requested,
  EXTENSIONS_VERSION)``, fixed for the session's life: a resume keeps the grant the session
  was created with, whatever the resuming login asks for.

:class:`LoginGate` is a plain object (no socket, no thread, no clock): the stream shell
(:mod:`~smarkets.sandbox.server.stream`) runs the password check where the gate says and
carries its decisions out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from smarkets.proto import eto_pb2
from smarkets.protocol import Connection, Event, LoginRequested
from smarkets.protocol.extensions import EXTENSIONS_VERSION
from smarkets.sandbox.exchange.accounts_file import MAX_NAME_LENGTH
from smarkets.sandbox.server.config import ServerConfig
from smarkets.sandbox.server.credentials import CredentialStore
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry
from smarkets.sandbox.server.throttle import Throttle

__all__ = ["Admission", "LoginDecision", "LoginGate", "Screening"]

_log = logging.getLogger(__name__)


class Attached(Protocol):
    """What the gate knows of a connection's shell: its peer, its session, and how to close
    it when its session is resumed elsewhere."""

    peer: str
    session: ServerSession | None

    def displaced(self) -> None: ...


class Admission(Enum):
    """What becomes of a new connection (:meth:`LoginGate.connection_opened`)."""

    #: Served: counted against ``max_connections``.
    ADMITTED = "admitted"
    #: Beyond the cap: its login will be refused (SERVICE_TEMPORARILY_UNAVAILABLE).
    OVER_CAP = "over cap"
    #: Beyond the cap even for the connections waiting to be refused: closed without a word.
    ABORT = "abort"


@dataclass(frozen=True)
class Screening:
    """A login screened before its password is checked (:meth:`LoginGate.screen`).

    ``reason`` set: refused at once (a LOGOUT reason). Else ``verified`` set: the password
    was checked already (or the name is unusable: False). Else the check is to run on a
    worker, its slot counted (:meth:`LoginGate.release` it once done).
    """

    reason: int = 0
    verified: bool | None = None


@dataclass(frozen=True)
class LoginDecision:
    """A login decided: refused (``reason``, a LOGOUT reason) or accepted (``session``).

    ``why`` says it for the log; ``resumed`` is True for an accepted resume.
    """

    why: str
    reason: int = 0
    session: ServerSession | None = None
    resumed: bool = False


class LoginGate:
    """The connection cap, downtime, where passwords are checked, and each login's answer.

    ``account_of`` gives the account id of a user name whose password was right.
    """

    def __init__(
        self,
        config: ServerConfig,
        registry: SessionRegistry,
        credentials: CredentialStore,
        account_of: Callable[[str], int],
    ) -> None:
        self.config = config
        self.registry = registry
        self.credentials = credentials
        self._account_of = account_of
        #: Connections counted against ``max_connections``.
        self.admitted = 0
        #: Password checks waiting for or running on a worker.
        self.pending = 0
        #: Connection downtime in force: logins refused (LOGOUT DOWNTIME).
        self.connection_down = False

    # -- connections ----------------------------------------------------------------------

    def connection_opened(self, peer: str, open_connections: int) -> Admission:
        """A connection was made; ``open_connections`` counts it among those open."""
        limit = self.config.max_connections
        if self.admitted < limit:
            self.admitted += 1
            _log.debug("%s: connected", peer)
            return Admission.ADMITTED
        if open_connections - self.admitted > limit:
            # Even the connections waiting to be refused are too many: no word.
            _log.warning("%s: too many connections: aborted", peer)
            return Admission.ABORT
        _log.warning(
            "%s: %d connections open, the most allowed: its login will be refused",
            peer,
            self.admitted,
        )
        return Admission.OVER_CAP

    def connection_closed(self, admission: Admission | None) -> None:
        """A connection opened as ``admission`` was closed."""
        if admission is Admission.ADMITTED:
            self.admitted -= 1

    # -- logins ---------------------------------------------------------------------------

    def screen(
        self, peer: str, admission: Admission | None, event: LoginRequested, closing: bool
    ) -> Screening:
        """What to do with a login before its password is checked (see :class:`Screening`).

        Refused: a connection beyond the cap or during connection downtime, or when
        ``max_pending_logins`` checks already wait (or the server is closing). A name or
        password that is not text (upb hands back bytes for a string that is not valid
        UTF-8), or no name, is a wrong password. Without ``login_workers`` the check runs
        here, on the event loop (only a cheap hash, as in-memory tests use, can afford it).
        """
        if admission is not Admission.ADMITTED:
            _log.info("%s: login refused: too many connections", peer)
            return Screening(eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE)
        if self.connection_down:
            _log.info("%s: login refused: connection downtime", peer)
            return Screening(eto_pb2.LOGOUT_DOWNTIME)
        username, password = _credentials(event)
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            return Screening(verified=False)
        if not self.config.login_workers:
            return Screening(verified=self.credentials.verify(username, password))
        if self.pending >= self.config.max_pending_logins or closing:
            _log.warning(
                "%s: login refused: %d logins are being checked already", peer, self.pending
            )
            return Screening(eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE)
        self.pending += 1
        return Screening()

    def release(self) -> None:
        """A password check counted by :meth:`reserve` is over."""
        self.pending -= 1

    def answer(
        self,
        stream: Attached,
        core: Connection,
        event: LoginRequested,
        verified: bool,
        now: float,
    ) -> list[Event]:
        """Answer a login whose password has been checked (``verified``: it is right) on
        ``stream``'s ``core``; return the core's events.

        Accepted, the session is attached to ``stream`` (a resumed session still attached to
        another connection is taken from it: that one is closed without a logout).
        """
        username, password = _credentials(event)
        login = event.payload.login
        requested = login.extensions if login.HasField("extensions") else 0
        name = username if isinstance(username, str) and isinstance(password, str) else ""
        decision = self.decide(name, verified, event.session_id, requested, now)
        _log.info("%s: %s", stream.peer, decision.why)
        session = decision.session
        if session is None:
            return core.refuse_login(decision.reason, now)
        old = session.stream
        if old is not None and old is not stream:
            _log.info(
                "%s: session %s resumed elsewhere: closing its old connection %s",
                stream.peer,
                session.session_id,
                old.peer,
            )
            old.displaced()
        self.registry.attach(session, stream, core)
        stream.session = session
        # The grant is the session's, fixed when it was created (see the module docs).
        return core.accept_login(session.state, now, extensions=session.extensions)

    def decide(
        self,
        username: str,
        verified: bool,
        session_id: str | None,
        requested_extensions: int,
        now: float,
    ) -> LoginDecision:
        """Answer a login whose password has been checked (``verified``: it is right).

        A new session is registered here (not attached: the shell attaches it to its
        connection); a resumed one is returned as it is, attached or parked.
        """
        if not verified:
            shown = username[: MAX_NAME_LENGTH + 1]
            return LoginDecision(
                f"login refused for {shown!r}: bad credentials", eto_pb2.LOGOUT_UNAUTHORISED
            )
        if self.connection_down:
            return LoginDecision(
                f"login refused for {username!r}: connection downtime", eto_pb2.LOGOUT_DOWNTIME
            )
        account_id = self._account_of(username)
        if session_id is not None:
            session = self.registry.get(session_id)
            if session is None or session.account_id != account_id:
                why = f"{username!r} tried to resume unknown session {session_id!r}"
                return LoginDecision(why, eto_pb2.LOGOUT_UNKNOWN_SESSION)
            why = f"{username!r} resumes session {session.session_id}"
            return LoginDecision(why, session=session, resumed=True)
        granted = min(requested_extensions, EXTENSIONS_VERSION)
        config = self.config
        throttle = None
        if config.throttle_rate:
            assert config.throttle_burst is not None
            throttle = Throttle(config.throttle_rate, config.throttle_burst, now)
        session = self.registry.create(username, account_id, granted, throttle)
        why = f"{username!r} logs in, new session {session.session_id} (extensions {granted})"
        return LoginDecision(why, session=session)


def _credentials(event: LoginRequested) -> tuple[Any, Any]:
    """A login's user name and password ("" when absent; bytes when not valid UTF-8)."""
    login = event.payload.login
    username = login.username if login.HasField("username") else ""
    password = login.password if login.HasField("password") else ""
    return username, password
