"""The sandbox's administration: what the admin console (and a test) may do to a server.

Accounts and markets opened, markets halted, reopened and settled, accounts suspended,
balances read, downtime announced. :class:`Administration` is the part of
:class:`~smarkets.sandbox.server.app.SandboxServer` that does this: it acts on the exchange,
the credentials and the catalogue, and hands what that causes to the server to route
(``_route``); it needs no socket.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smarkets.protocol.ids import to_int
from smarkets.sandbox.exchange import Exchange, Output
from smarkets.sandbox.exchange.bots import BotFleet
from smarkets.sandbox.exchange.catalogue import Catalogue, EventSpec, MarketSpec
from smarkets.sandbox.exchange.markets_file import parse_event, parse_market
from smarkets.sandbox.server.credentials import CredentialStore
from smarkets.sandbox.server.downtime import Downtime

__all__ = ["Administration", "Balance"]


@dataclass(frozen=True)
class Balance:
    """An account's money, in 1/10,000 units (see ``seto.AccountState``)."""

    cash: int
    exposure: int
    available: int
    staked: int


class Administration:
    """The administration methods of a :class:`~smarkets.sandbox.server.app.SandboxServer`.

    They may be called at any time from the event loop's thread; what they cause is sent to
    the sessions concerned at once.
    """

    exchange: Exchange
    credentials: CredentialStore
    _bots: BotFleet | None
    _downtime: Downtime

    def _route(self, outputs: Iterable[Output]) -> None:
        raise NotImplementedError  # the server routes and writes out

    @property
    def catalogue(self) -> Catalogue:
        """What the listings show (events, markets, contracts): the exchange's catalogue;
        :meth:`add_market` and :meth:`add_events` add to it."""
        return self.exchange.catalogue

    def add_account(self, name: str, password: str, balance: int) -> int:
        """Open an account that can log in with ``password``; return its account id."""
        self.credentials.add(name, password)  # checks the name and password
        try:
            return self.exchange.add_account(name, balance)
        except (TypeError, ValueError):
            # The exchange refused (e.g. a bad balance or a bot's name): nothing half-made.
            self.credentials.remove(name)
            raise

    def add_events(self, events: Iterable[EventSpec | dict[str, Any]]) -> None:
        """Describe events for the listings (:class:`EventSpec` or markets-file objects):
        the markets added after may name them by ``event_id``."""
        self.catalogue.add_events(
            event if isinstance(event, EventSpec) else parse_event(event) for event in events
        )

    def open_catalogue(self, catalogue: Catalogue) -> None:
        """Add the events and open the markets of ``catalogue`` (a markets file's)."""
        self.add_events(catalogue.events.values())
        for spec in catalogue.markets.values():
            self.add_market(spec)

    def add_market(self, market: MarketSpec | dict[str, Any]) -> MarketSpec:
        """Open a market (a :class:`MarketSpec` or a markets-file object); bots trade it too."""
        spec = market if isinstance(market, MarketSpec) else parse_market(market)
        spec = self.exchange.open_market(spec)
        if self._bots is not None:
            self._bots.add_market(spec.id, spec.contract_ids())
        return spec

    def halt(self, market: int | str) -> None:
        """Halt a market: its resting orders cancelled (MARKET_HALTED), new orders refused."""
        self._route(self.exchange.halt(to_int(market, "market")))

    def reopen(self, market: int | str) -> None:
        """Reopen a halted market; subscribers are told."""
        self._route(self.exchange.reopen(to_int(market, "market")))

    def settle(self, market: int | str, winner: int | str) -> None:
        """Settle a market with ``winner`` (a contract id): orders cancelled, stakes paid."""
        self._route(self.exchange.settle(to_int(market, "market"), to_int(winner, "contract")))

    def balance(self, name: str) -> Balance:
        """An account's money: cash, exposure, available, staked (1/10,000 units)."""
        return Balance(*self.exchange.balance(self.exchange.account_id(name)))

    def suspend(self, name: str) -> None:
        """Suspend an account: its orders are rejected ACCOUNT_SUSPENDED until unsuspended."""
        self.exchange.suspend(name)

    def unsuspend(self, name: str) -> None:
        """Let a suspended account place orders again."""
        self.exchange.unsuspend(name)

    # -- downtime -------------------------------------------------------------------------

    def downtime_connection(self, seconds: float, description: str = "") -> datetime.datetime:
        """Announce that every connection closes in ``seconds`` (logins refused from then
        until :meth:`downtime_resumed`); return the UTC start (see
        :meth:`Downtime.connection <smarkets.sandbox.server.downtime.Downtime.connection>`)."""
        return self._downtime.connection(seconds, description)

    def downtime_orders(self, seconds: float, description: str = "") -> datetime.datetime:
        """Announce that order creation stops in ``seconds`` (until
        :meth:`downtime_resumed`); return the UTC start (see
        :meth:`Downtime.orders <smarkets.sandbox.server.downtime.Downtime.orders>`)."""
        return self._downtime.orders(seconds, description)

    def downtime_cancel(self) -> None:
        """Drop the downtime announced (eto downtime_alert CANCELLED to every session)."""
        self._downtime.cancel()

    def downtime_resumed(self) -> None:
        """End any downtime: logins and orders accepted again (eto SERVICE_RESUMED to all)."""
        self._downtime.resumed()

    @property
    def downtime(self) -> str | None:
        """The downtime in force: ``"connection"``, ``"orders"`` or None."""
        return self._downtime.state
