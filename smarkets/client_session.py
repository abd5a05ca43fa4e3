"""What a client keeps of a session across its connections, and decides about them:
:class:`ClientSession`.

Sans-I/O: no socket, no clock it is not given, no thread, no event loop.  The
synchronous :class:`~smarkets.session.Session` and the asyncio
:class:`~smarkets.aio.AsyncSession` are two shells around one of these (and a
:class:`~smarkets.protocol.connection.Connection` per connection), so the rules a client
follows between connections have one home:

* whether the next login starts a new session or resumes this one (an ended session
  starts anew; so does a new session whose first login never completed);
* the login message (credentials, extensions asked for);
* what the login response grants (the extensions version);
* what an end of the session means: resumable (the numbers are saved) or over for good
  (the state store is cleared), and the exception for it (:func:`error_for_end`), none for
  a logout the client asked for;
* what is saved in the state store, and that the record of what was sent is synced
  before its bytes are written (:meth:`ClientSession.before_write`);
* where the session is in its life (:mod:`smarkets.lifecycle`).
"""

from __future__ import annotations

import logging
import os

from smarkets.errors import (
    DowntimeError,
    Error,
    ExtensionNotGrantedError,
    HeartbeatTimeoutError,
    LoggedOutError,
    LoginError,
    LoginTimeoutError,
    PayloadRejectedError,
    SessionEndedError,
    UnknownSessionError,
)
from smarkets.journal import Journal
from smarkets.lifecycle import Lifecycle, Phase
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    LoggedIn,
    Role,
    SessionEnded,
    SessionState,
    logout_reason_name,
)
from smarkets.protocol.extensions import EXTENSIONS_VERSION
from smarkets.saving import SessionSaver
from smarkets.settings import SessionSettings
from smarkets.state_store import StateStore

__all__ = ["ClientSession", "error_for_end"]

log = logging.getLogger("smarkets.session")

_ERRORS_BY_REASON: dict[int, type[SessionEndedError]] = {
    eto_pb2.LOGOUT_UNAUTHORISED: LoginError,
    eto_pb2.LOGOUT_UNKNOWN_SESSION: UnknownSessionError,
    eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT: HeartbeatTimeoutError,
    eto_pb2.LOGOUT_LOGIN_TIMEOUT: LoginTimeoutError,
    eto_pb2.LOGOUT_DOWNTIME: DowntimeError,
    eto_pb2.LOGOUT_INVALID_PAYLOAD: PayloadRejectedError,
    eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD: PayloadRejectedError,
}


def error_for_end(ended: SessionEnded, address: str = "the server") -> SessionEndedError:
    """The :class:`~smarkets.errors.SessionEndedError` subclass instance that reports
    ``ended`` to the application (who ended it, why, and whether it can be resumed)."""
    reason = ended.reason
    name = logout_reason_name(reason)
    cls = _ERRORS_BY_REASON.get(reason, LoggedOutError)
    if ended.by_peer:
        message = f"{address} ended the session: {name}"
    elif reason == eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT:
        message = f"heard nothing from {address} for the heartbeat timeout: {name}"
    elif reason == eto_pb2.LOGOUT_LOGIN_TIMEOUT:
        message = f"{address} did not answer the login in time: {name}"
    else:
        message = f"the session with {address} ended: {name}"
    message += (
        " (resumable: log in again to continue the session)"
        if ended.resumable
        else " (not resumable: the next login starts a new session)"
    )
    return cls(reason, message, resumable=ended.resumable, by_peer=ended.by_peer)


class ClientSession:
    """One client session across its connections: numbers, state store, phase, grants.

    ``session_id``, ``inseq`` and ``outseq`` resume a session (else the state store's
    saved one is resumed, else a new one starts); ``journal`` (a path or a
    :class:`~smarkets.journal.Journal`) records every payload of every connection.
    """

    def __init__(
        self,
        settings: SessionSettings,
        session_id: str | None = None,
        inseq: int = 1,
        outseq: int = 1,
        *,
        state_store: StateStore | None = None,
        journal: Journal | str | os.PathLike[str] | None = None,
    ) -> None:
        self.settings = settings
        #: What is saved, and when (:class:`~smarkets.saving.SessionSaver`).
        self.saver = SessionSaver(state_store, settings)
        #: The session's numbers and what it sent (outlives every connection).
        self.state: SessionState = self.saver.initial_state(session_id, inseq, outseq)
        #: Where the session is in its life (:mod:`smarkets.lifecycle`).
        self.life = Lifecycle()
        #: The extensions version granted at the latest login (``None``: no login yet).
        self.extensions: int | None = None
        #: The :class:`~smarkets.journal.Journal` recording the payloads, or ``None``.
        self.journal = Journal.attach(journal)

    # -- logging in ----------------------------------------------------------------------

    def credentials(self) -> seto_pb2.Login:
        """The login message: username and password or cookie, and the extensions asked for."""
        settings = self.settings
        login = seto_pb2.Login(username=settings.username)
        if settings.password is not None:
            login.password = settings.password
        if settings.cookie is not None:
            login.cookie = settings.cookie
        if settings.extensions:
            login.extensions = EXTENSIONS_VERSION
        return login

    def prepare_login(self) -> None:
        """Before connecting for a login: check the settings, and decide between a new
        session and a resume.

        A session that ended starts anew; so does a new session whose first login never
        completed; otherwise the login resumes it.  Raises
        :class:`~smarkets.errors.SettingsError` for incomplete settings and
        :class:`~smarkets.errors.Error` while a ``logout()`` waits for its confirmation; a
        login before a ``logout(receive=False)``'s confirmation abandons that logout.
        """
        self.settings.validate()
        life = self.life
        if life.phase is Phase.LOGGING_OUT:
            raise Error("logout() is waiting for its confirmation: log in after it returns")
        if life.phase is Phase.LOGOUT_SENT:
            life.enter(Phase.IDLE)
        if life.finished:
            log.info("the previous session ended: starting a new one")
            self.new_session()
        elif not self.state.session_id and self.state.outseq != 1:
            # An earlier login of a new session never completed: start over.
            self.state = SessionState(sent=self.saver.replay_store(1, resume=False))

    def connection(self, now: float, address: str) -> Connection:
        """A new connection of this session (after :meth:`prepare_login` and connecting),
        its login queued, to be written next."""
        state = self.state
        settings = self.settings
        core = Connection(
            Role.CLIENT,
            state,
            now=now,
            max_payload_size=settings.max_payload_size,
            tap=self.journal,
            heartbeat_interval=settings.heartbeat_interval,
            heartbeat_timeout=settings.heartbeat_timeout,
            login_timeout=settings.login_timeout,
        )
        if state.session_id:
            log.info(
                "resuming session %s as %s (inseq %d, outseq %d)",
                state.session_id,
                settings.username,
                state.inseq,
                state.outseq,
            )
        else:
            log.info("logging in to %s as %s", address, settings.username)
        core.login(self.credentials(), now)
        return core

    def logged_in(self, event: LoggedIn) -> None:
        """The login response arrived: note what it granted; the session is ``LIVE``."""
        self.extensions = event.extensions
        if self.settings.extensions and not event.extensions:
            log.info(
                "the server granted no protocol extensions: speaking the published schema only"
            )
        log.info(
            "logged in: session %s, continuing from seq %d", event.session_id, self.state.outseq
        )
        self.life.enter(Phase.LIVE)

    def require_extensions(self, feature: str) -> None:
        """Raise :class:`~smarkets.errors.ExtensionNotGrantedError` unless extensions were
        granted at the latest login (before the first: unless the settings ask for none)."""
        granted = self.extensions
        if granted or (granted is None and self.settings.extensions):
            return
        raise ExtensionNotGrantedError(feature, granted)

    # -- ending ----------------------------------------------------------------------------

    def ended(self, ended: SessionEnded, address: str) -> SessionEndedError | None:
        """The session ended (``ended``, from the core): saved if resumable, else over and
        forgotten.  Returns the error to raise, or ``None`` for the logout asked for."""
        life = self.life
        requested = life.logout_asked
        if ended.resumable and not requested:
            self.save()
        else:
            # logout(receive=False)'s reading thread is told the connection closed, once.
            life.enter(Phase.LOGGED_OUT if life.phase is Phase.LOGOUT_SENT else Phase.ENDED)
            self.saver.clear()
        if requested:
            log.info("logged out (%s)", logout_reason_name(ended.reason))
            return None
        error = error_for_end(ended, address)
        log.warning("%s", error)
        return error

    def finish(self) -> None:
        """The session is over for good (logged out, or ended by this client)."""
        self.life.enter(Phase.ENDED)
        self.saver.clear()

    def new_session(self) -> None:
        """Forget this session: the next login starts a new one."""
        self.state = self.saver.new_state()
        self.life.enter(Phase.IDLE)

    # -- saving ------------------------------------------------------------------------------

    def save(self) -> None:
        """Save the numbers if they changed (nothing once the session is over)."""
        if not self.life.finished:
            self.saver.save(self.state)

    def before_write(self) -> None:
        """Put what was sent on record before its bytes can reach the server."""
        sync = getattr(self.state.sent, "sync", None)
        if sync is not None:
            sync()

    def __repr__(self) -> str:
        state = self.state
        return (
            f"<ClientSession {state.session_id or '(new)'} inseq={state.inseq} "
            f"outseq={state.outseq} {self.life.phase.value}>"
        )
