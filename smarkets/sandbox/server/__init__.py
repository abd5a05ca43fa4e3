"""The sandbox exchange's network side: an asyncio server speaking the streaming protocol.

The session rules (sequencing, replay, gap detection, heartbeats, login and logout) are
:mod:`smarkets.protocol`'s; the exchange (books, matching, money, the catalogue) is
:mod:`smarkets.sandbox.exchange`'s. This package decides what the protocol leaves to the
application -- who may log in, which session a login resumes, what each request does and
who receives each of the exchange's answers -- in plain objects that touch no socket and
read no clock, under a thin asyncio shell:

* :mod:`~smarkets.sandbox.server.sessions`: the session registry (:class:`SessionRegistry`:
  sessions by id and account, parked sessions and their expiry, subscriptions, who placed
  each open order);
* :mod:`~smarkets.sandbox.server.routing`: who receives each output, in which view
  (:class:`Router`);
* :mod:`~smarkets.sandbox.server.login`: the login gate (:class:`LoginGate`: the connection
  cap, downtime, where passwords are checked, what a login is given), with the
  :mod:`~smarkets.sandbox.server.credentials`;
* :mod:`~smarkets.sandbox.server.throttle`: each session's budget of requests
  (:class:`Throttle`, :class:`TokenBucket`);
* :mod:`~smarkets.sandbox.server.requests`: what each request does (:class:`Requests`);
* :mod:`~smarkets.sandbox.server.admin` and :mod:`~smarkets.sandbox.server.downtime`: what
  the operator may do (:class:`Administration`), and downtime announced and in force;
* :mod:`~smarkets.sandbox.server.config`: the settings (:class:`ServerConfig`);
* the shell: :mod:`~smarkets.sandbox.server.stream` (:class:`StreamProtocol`, one client
  connection around a :class:`smarkets.protocol.Connection`, its errors handled in one
  place; its small parts in :mod:`~smarkets.sandbox.server.transport`),
  :mod:`~smarkets.sandbox.server.app` (:class:`SandboxServer`: the listening socket, the
  parts put together) and
  :mod:`~smarkets.sandbox.server.catalogue_http` (the listings over HTTP).

The names most callers need are importable from ``smarkets.sandbox.server`` directly.
"""

from smarkets.sandbox.server.admin import Administration, Balance
from smarkets.sandbox.server.app import SandboxServer
from smarkets.sandbox.server.config import ServerConfig
from smarkets.sandbox.server.login import LoginGate
from smarkets.sandbox.server.requests import Requests
from smarkets.sandbox.server.routing import Router
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry
from smarkets.sandbox.server.stream import StreamProtocol
from smarkets.sandbox.server.throttle import Throttle, TokenBucket

__all__ = [
    "Administration",
    "Balance",
    "LoginGate",
    "Requests",
    "Router",
    "SandboxServer",
    "ServerConfig",
    "ServerSession",
    "SessionRegistry",
    "StreamProtocol",
    "Throttle",
    "TokenBucket",
]
