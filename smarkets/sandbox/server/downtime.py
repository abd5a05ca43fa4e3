"""Downtime: announced to every session, then in force until service resumes.

The admin console's ``downtime`` commands (and :class:`~smarkets.sandbox.server.app.
SandboxServer`'s ``downtime_*`` methods) announce it to every session with eto (and, for
order creation, seto) ``downtime_alert``. A connection downtime logs every session out
(LOGOUT ``DOWNTIME``, not resumable) when it starts and refuses logins until service is
resumed; an order-create downtime rejects orders (SERVICE_TEMPORARILY_UNAVAILABLE) until
then. A downtime announced replaces the one announced before.

:class:`Downtime` is a plain object: the payloads go out through the ``announce`` it is
given, the start is a timer asked of ``call_later``, the time of day comes from ``utcnow``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import session_payload
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.server.login import LoginGate
from smarkets.sandbox.server.sessions import CallLater, Cancellable

__all__ = ["Downtime", "eto_downtime_alert"]

_log = logging.getLogger(__name__)

Payload = seto_pb2.Payload


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def eto_downtime_alert(
    kind: int, when: datetime.datetime | None = None, description: str = ""
) -> Payload:
    """An eto downtime_alert (a seto payload of type ETO) of ``kind``, starting ``when``."""
    payload = session_payload(eto_pb2.PAYLOAD_DOWNTIME_ALERT)
    alert = payload.eto_payload.downtime_alert
    alert.type = kind
    if when is not None:
        moment = alert.datetime
        moment.date.year = when.year
        moment.date.month = when.month
        moment.date.day = when.day
        moment.time.hour = when.hour
        moment.time.minute = when.minute
    if description:
        alert.description = description
    return payload


class Downtime:
    """The downtime announced (its start pending) and the one in force.

    ``on_connection_down`` is called when a connection downtime starts, after logins are
    refused: the server logs every session out then.
    """

    def __init__(
        self,
        gate: LoginGate,
        exchange: Exchange,
        *,
        announce: Callable[[Payload], None],
        call_later: CallLater,
        on_connection_down: Callable[[], None],
        utcnow: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self._gate = gate
        self._exchange = exchange
        self._announce = announce
        self._call_later = call_later
        self._on_connection_down = on_connection_down
        self._utcnow = utcnow
        #: The start of the downtime announced, pending.
        self._timer: Cancellable | None = None

    @property
    def state(self) -> str | None:
        """The downtime in force: ``"connection"``, ``"orders"`` or None."""
        if self._gate.connection_down:
            return "connection"
        if self._exchange.orders_down:
            return "orders"
        return None

    def connection(self, seconds: float, description: str = "") -> datetime.datetime:
        """Announce that every connection closes in ``seconds``; return the UTC start.

        Every session is sent an eto downtime_alert CONNECTION (the start, to the minute,
        and ``description``). When it starts, every session is logged out (LOGOUT
        ``DOWNTIME``, not resumable) and logins are refused with LOGOUT ``DOWNTIME`` until
        :meth:`resumed`. A downtime announced before is replaced.
        """
        kind = eto_pb2.DOWNTIME_ALERT_CONNECTION
        return self._schedule(seconds, description, kind, self._connection_starts)

    def orders(self, seconds: float, description: str = "") -> datetime.datetime:
        """Announce that order creation stops in ``seconds``; return the UTC start.

        Every session is sent a seto downtime_alert ORDER_CREATE and an eto downtime_alert
        FUNCTIONALITY (the start and ``description``). From the start, order_create is
        rejected SERVICE_TEMPORARILY_UNAVAILABLE until :meth:`resumed`.
        """
        self._check(seconds)
        alert = Payload(type=seto_pb2.PAYLOAD_DOWNTIME_ALERT)
        alert.downtime_alert.type = seto_pb2.DOWNTIME_ALERT_ORDER_CREATE
        self._announce(alert)
        kind = eto_pb2.DOWNTIME_ALERT_FUNCTIONALITY
        return self._schedule(seconds, description, kind, self._orders_start)

    def cancel(self) -> None:
        """Drop the downtime announced (eto downtime_alert CANCELLED to every session)."""
        self.stop()
        self._announce(eto_downtime_alert(eto_pb2.DOWNTIME_ALERT_CANCELLED))

    def resumed(self) -> None:
        """End any downtime: logins and orders accepted again (eto SERVICE_RESUMED to all)."""
        self.stop()
        self._gate.connection_down = False
        self._exchange.orders_down = False
        self._announce(eto_downtime_alert(eto_pb2.DOWNTIME_ALERT_SERVICE_RESUMED))

    def stop(self) -> None:
        """Forget the start of the downtime announced (nothing is said)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @staticmethod
    def _check(seconds: float) -> None:
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(f"seconds must be a number >= 0, not {seconds!r}")

    def _schedule(
        self, seconds: float, description: str, kind: int, start: Callable[[], None]
    ) -> datetime.datetime:
        self._check(seconds)
        when = self._utcnow() + datetime.timedelta(seconds=seconds)
        when = when.replace(second=0, microsecond=0)
        self._announce(eto_downtime_alert(kind, when, description))
        self.stop()
        self._timer = self._call_later(seconds, start)
        _log.info("downtime (%s) announced in %gs", eto_pb2.DowntimeAlertType.Name(kind), seconds)
        return when

    def _connection_starts(self) -> None:
        self._timer = None
        self._gate.connection_down = True
        _log.info("connection downtime: logging every session out")
        self._on_connection_down()

    def _orders_start(self) -> None:
        self._timer = None
        self._exchange.orders_down = True
        _log.info("order-create downtime: orders refused")
