"""Downtime on its own: what is announced, when it starts, what it refuses (fake timers)."""

from __future__ import annotations

import datetime

import pytest

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.server.config import ServerConfig
from smarkets.sandbox.server.credentials import CredentialStore
from smarkets.sandbox.server.downtime import Downtime
from smarkets.sandbox.server.login import LoginGate
from smarkets.sandbox.server.sessions import SessionRegistry

from .fakes import Timers

NOW = datetime.datetime(2026, 12, 2, 15, 4, 30, tzinfo=datetime.timezone.utc)


class Rig:
    def __init__(self) -> None:
        self.timers = Timers()
        registry = SessionRegistry(expiry=1, replay_limit=None, call_later=self.timers.call_later)
        self.gate = LoginGate(ServerConfig(), registry, CredentialStore(n=2), lambda name: 1)
        self.exchange = Exchange()
        self.announced: list[seto_pb2.Payload] = []
        self.logged_out = 0
        self.downtime = Downtime(
            self.gate,
            self.exchange,
            announce=self.announced.append,
            call_later=self.timers.call_later,
            on_connection_down=self.log_out,
            utcnow=lambda: NOW,
        )

    def log_out(self) -> None:
        self.logged_out += 1

    def eto_alerts(self) -> list[eto_pb2.DowntimeAlert]:
        return [
            p.eto_payload.downtime_alert for p in self.announced if p.type == seto_pb2.PAYLOAD_ETO
        ]


def test_connection_downtime() -> None:
    rig = Rig()
    start = rig.downtime.connection(120, "maintenance")
    assert start == datetime.datetime(2026, 12, 2, 15, 6, tzinfo=datetime.timezone.utc)
    (alert,) = rig.eto_alerts()
    assert alert.type == eto_pb2.DOWNTIME_ALERT_CONNECTION and alert.description == "maintenance"
    assert (alert.datetime.time.hour, alert.datetime.time.minute) == (15, 6)
    rig.timers.advance(119)
    assert rig.downtime.state is None and rig.logged_out == 0
    rig.timers.advance(1)
    assert rig.downtime.state == "connection" and rig.gate.connection_down
    assert rig.logged_out == 1
    rig.downtime.resumed()
    assert rig.downtime.state is None and not rig.gate.connection_down
    assert rig.eto_alerts()[-1].type == eto_pb2.DOWNTIME_ALERT_SERVICE_RESUMED


def test_order_create_downtime() -> None:
    rig = Rig()
    rig.downtime.orders(0)
    seto_alert, eto_alert = rig.announced
    assert seto_alert.downtime_alert.type == seto_pb2.DOWNTIME_ALERT_ORDER_CREATE
    assert eto_alert.eto_payload.downtime_alert.type == eto_pb2.DOWNTIME_ALERT_FUNCTIONALITY
    rig.timers.advance(0)
    assert rig.downtime.state == "orders" and rig.exchange.orders_down
    assert rig.logged_out == 0
    rig.downtime.resumed()
    assert not rig.exchange.orders_down


def test_cancel_and_replace() -> None:
    rig = Rig()
    rig.downtime.connection(60)
    rig.downtime.orders(30)  # replaces the connection downtime announced
    assert len(rig.timers.armed) == 1
    rig.downtime.cancel()
    assert rig.timers.armed == []
    assert rig.eto_alerts()[-1].type == eto_pb2.DOWNTIME_ALERT_CANCELLED
    rig.timers.advance(100)
    assert rig.downtime.state is None


@pytest.mark.parametrize("seconds", [-1, float("inf"), float("nan")])
def test_bad_delays_are_refused_before_anything_is_said(seconds: float) -> None:
    rig = Rig()
    for announce in (rig.downtime.connection, rig.downtime.orders):
        with pytest.raises(ValueError, match="seconds must be a number >= 0"):
            announce(seconds)
    assert rig.announced == [] and rig.timers.armed == []
