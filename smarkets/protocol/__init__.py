"""The protocol both ends share, with no I/O: framing, ids, payloads and the session rules.

Nothing here touches a socket, reads a clock it is not given, or starts a thread; the
client (:mod:`smarkets.session`) and the sandbox's server are shells that move bytes
and call these. The modules, from the wire up:

* :mod:`~smarkets.protocol.framing`: payload bytes in padded, length-prefixed frames;
* :mod:`~smarkets.protocol.payloads`: decoding and checking payloads, the session's own
  payloads told from the application's;
* :mod:`~smarkets.protocol.names`: each payload's name (``seto.order_accepted``), by which
  handlers are registered;
* :mod:`~smarkets.protocol.ids`: 128-bit ids, as ``Uuid128`` and as tagged hex text;
* :mod:`~smarkets.protocol.extensions`: what a session without the project's extensions
  may be sent;
* :mod:`~smarkets.protocol.replay`: a session's numbers and what it sent
  (:class:`SessionState`, :class:`ReplayStore`);
* :mod:`~smarkets.protocol.states`: roles, states and the transition table;
* :mod:`~smarkets.protocol.events`: what the rules tell their shell;
* :mod:`~smarkets.protocol.core`: the session rules of PROTOCOL.md section 4
  (:class:`SessionCore`);
* :mod:`~smarkets.protocol.connection`: :class:`Connection`, the rules with the framing in
  front: bytes in, events out, bytes out -- what every shell drives;
* :mod:`~smarkets.protocol.testing`: a client and a server connection joined in memory.

Below it are only the generated schemas (:mod:`smarkets.proto`), the errors
(:mod:`smarkets.errors`) and the redaction of secrets in logs (:mod:`smarkets.redact`).

The names a shell needs are importable from ``smarkets.protocol`` directly.
"""

from smarkets.protocol.connection import Connection
from smarkets.protocol.core import (
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_LOGIN_TIMEOUT,
    SessionCore,
)
from smarkets.protocol.events import (
    RESUMABLE_REASONS,
    Event,
    LoggedIn,
    LoginRequested,
    Received,
    SessionEnded,
)
from smarkets.protocol.payloads import (
    decode_payload,
    decode_payloads,
    is_session_level,
    logout_reason_name,
    serialize_once,
    session_payload,
)
from smarkets.protocol.replay import ReplayStore, SessionState
from smarkets.protocol.states import TRANSITIONS, Role, State

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "DEFAULT_LOGIN_TIMEOUT",
    "RESUMABLE_REASONS",
    "TRANSITIONS",
    "Connection",
    "Event",
    "LoggedIn",
    "LoginRequested",
    "Received",
    "ReplayStore",
    "Role",
    "SessionCore",
    "SessionEnded",
    "SessionState",
    "State",
    "decode_payload",
    "decode_payloads",
    "is_session_level",
    "logout_reason_name",
    "serialize_once",
    "session_payload",
]
