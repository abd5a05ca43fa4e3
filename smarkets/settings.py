"""Connection and session settings: :class:`SessionSettings`.

Every value is checked when it is set, so a mistake shows up on the line that
made it, with a message naming the setting.  The password and login cookie are
secrets: they never appear in the ``repr``/``str`` of the settings, nor in
``vars(settings)`` (they are held in a :class:`Secret` wrapper whose ``repr``
is masked), nor in any log line.
"""

from __future__ import annotations

import ssl as _ssl
from typing import Any

from smarkets.errors import SettingsError
from smarkets.protocol import (
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_LOGIN_TIMEOUT,
)
from smarkets.protocol.framing import DEFAULT_MAX_PAYLOAD_SIZE
from smarkets.redact import MASK

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_REPLAY_LIMIT",
    "DEFAULT_SOCKET_TIMEOUT",
    "Secret",
    "SessionSettings",
]

#: The streaming API's port (PROTOCOL.md section 1).
DEFAULT_PORT = 3701
#: Seconds a read waits for something to arrive before raising SocketTimeout.
DEFAULT_SOCKET_TIMEOUT = 30.0
#: Sent payloads kept to answer the server's replay requests (the sandbox keeps as many).
DEFAULT_REPLAY_LIMIT = 100_000
#: Bytes asked of the socket by one read.
DEFAULT_READ_CHUNKSIZE = 65536

#: Keys ``ssl_kwargs`` may hold.
SSL_KWARGS = frozenset({"ca_file", "cafile", "capath", "context", "certfile", "keyfile"})


class Secret:
    """A secret value (password, token) whose ``repr`` and ``str`` are masked."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        """The value itself."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _number(name: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{name} must be a number of seconds, not {value!r}")
    if not value > minimum:
        raise SettingsError(f"{name} must be greater than {minimum:g}, not {value!r}")
    return float(value)


def _integer(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise SettingsError(f"{name} must be {bounds}, not {value}")
    return value


class SessionSettings:
    """Where to connect, how to log in, and the session's timings.

    Create it with the credentials, then set what differs from the defaults::

        settings = smarkets.SessionSettings("alice", "secret")
        settings.host = "exchange.example.com"
        settings.socket_timeout = 10

    Attributes (all may also be given as keyword arguments):

    * ``username``, ``password``: the credentials sent in ``seto.Login``.
      ``cookie`` (``bytes``) is a login token that may stand in for the password.
    * ``host`` (``'localhost'``) and ``port`` (3701).
    * ``ssl`` (``True``): TLS with certificate and host name verification.
      Plain TCP only when set to ``False``.
    * ``ssl_kwargs`` (``{}``): ``ca_file`` (alias ``cafile``) or ``capath`` to
      trust a CA instead of the system store; ``certfile``/``keyfile`` for a
      client certificate; or ``context``, a ready :class:`ssl.SSLContext`
      (then the other keys are not allowed).
    * ``socket_timeout`` (30 s): how long a read waits for anything to arrive
      before raising :class:`~smarkets.errors.SocketTimeout`; also the limit
      for connecting and for each write.
    * ``heartbeat_interval`` (15 s), ``heartbeat_timeout`` (45 s),
      ``login_timeout`` (10 s): the session timers of PROTOCOL.md section 4.
    * ``max_payload_size`` (1 MiB): a larger incoming frame is a protocol error.
    * ``read_chunksize`` (65,536): the most bytes asked of the socket by one read (the
      2013 SDK's setting; the frames are decoded whatever the read size).
    * ``replay_limit`` (100,000): how many sent payloads are kept to answer the
      server's REPLAY requests.  The server only asks for what it never received:
      what was still in flight when a connection failed, and what was sent while
      reconnecting; the latest 100,000 payloads cover that with room to spare, in
      about 10 MiB at most for orders (~50 bytes each).  ``None`` keeps every one
      for the session's life (memory grows with what the session sends, ~70 MiB
      per million orders).  A replay request reaching further back than what is
      kept ends the session.
    * ``extensions`` (``True``): ask the server at login for this project's protocol
      extensions (``seto.Login.extensions``,
      :data:`smarkets.protocol.extensions.EXTENSIONS_VERSION`).
      ``False`` speaks the published schema only (eto v0.3.0 / seto v0.6.4), as a 2013
      client would; what the server granted is ``Session.extensions`` after the login.
    """

    _FIELDS = (
        "username",
        "password",
        "cookie",
        "host",
        "port",
        "ssl",
        "ssl_kwargs",
        "socket_timeout",
        "heartbeat_interval",
        "heartbeat_timeout",
        "login_timeout",
        "max_payload_size",
        "read_chunksize",
        "replay_limit",
        "extensions",
    )
    _SECRETS = frozenset({"password", "cookie"})

    username: str
    host: str
    port: int
    ssl: bool
    ssl_kwargs: dict[str, Any]
    socket_timeout: float
    heartbeat_interval: float
    heartbeat_timeout: float
    login_timeout: float
    max_payload_size: int
    read_chunksize: int
    replay_limit: int | None
    extensions: bool

    def __init__(
        self,
        username: str,
        password: str | None = None,
        *,
        cookie: bytes | None = None,
        host: str = "localhost",
        port: int = DEFAULT_PORT,
        ssl: bool = True,
        ssl_kwargs: dict[str, Any] | None = None,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        login_timeout: float = DEFAULT_LOGIN_TIMEOUT,
        max_payload_size: int = DEFAULT_MAX_PAYLOAD_SIZE,
        read_chunksize: int = DEFAULT_READ_CHUNKSIZE,
        replay_limit: int | None = DEFAULT_REPLAY_LIMIT,
        extensions: bool = True,
    ) -> None:
        self.username = username
        self.password = password
        self.cookie = cookie
        self.host = host
        self.port = port
        self.ssl = ssl
        self.ssl_kwargs = {} if ssl_kwargs is None else ssl_kwargs
        self.socket_timeout = socket_timeout
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.login_timeout = login_timeout
        self.max_payload_size = max_payload_size
        self.read_chunksize = read_chunksize
        self.replay_limit = replay_limit
        self.extensions = extensions

    # -- secrets ---------------------------------------------------------

    @property
    def password(self) -> str | None:
        """The password sent at login (``None`` when a cookie is used instead)."""
        return self.__dict__["_password"].reveal()

    @password.setter
    def password(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"password must be a str or None, not {type(value).__name__}")
        self.__dict__["_password"] = Secret(value)

    @property
    def cookie(self) -> bytes | None:
        """A login token sent instead of (or as well as) the password."""
        return self.__dict__["_cookie"].reveal()

    @cookie.setter
    def cookie(self, value: bytes | str | None) -> None:
        if isinstance(value, str):
            value = value.encode()
        if value is not None and not isinstance(value, (bytes, bytearray)):
            raise SettingsError(f"cookie must be bytes or None, not {type(value).__name__}")
        self.__dict__["_cookie"] = Secret(None if value is None else bytes(value))

    # -- validation on assignment --------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        check = getattr(self, f"_check_{name}", None)
        if check is not None:
            value = check(value)
        elif name not in self._SECRETS:
            raise SettingsError(
                f"unknown setting {name!r}; settings are: {', '.join(self._FIELDS)}"
            )
        object.__setattr__(self, name, value)

    @staticmethod
    def _check_username(value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise SettingsError(f"username must be a non-empty str, not {value!r}")
        return value

    @staticmethod
    def _check_host(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"host must be a non-empty str, not {value!r}")
        return value

    @staticmethod
    def _check_port(value: Any) -> int:
        return _integer("port", value, 1, 65535)

    @staticmethod
    def _check_ssl(value: Any) -> bool:
        if not isinstance(value, bool):
            raise SettingsError(f"ssl must be True or False, not {value!r}")
        return value

    @staticmethod
    def _check_ssl_kwargs(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SettingsError(f"ssl_kwargs must be a dict, not {type(value).__name__}")
        unknown = sorted(set(value) - SSL_KWARGS)
        if unknown:
            raise SettingsError(
                f"unknown ssl_kwargs {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(sorted(SSL_KWARGS))}"
            )
        if "ca_file" in value and "cafile" in value:
            raise SettingsError("give ssl_kwargs 'ca_file' or its alias 'cafile', not both")
        context = value.get("context")
        if context is not None:
            if not isinstance(context, _ssl.SSLContext):
                raise SettingsError(
                    f"ssl_kwargs['context'] must be an ssl.SSLContext, not {type(context).__name__}"
                )
            others = sorted(key for key in value if key != "context")
            if others:
                raise SettingsError(
                    f"ssl_kwargs 'context' cannot be combined with {', '.join(others)}: "
                    "configure the context itself"
                )
        if "keyfile" in value and "certfile" not in value:
            raise SettingsError("ssl_kwargs 'keyfile' needs a 'certfile'")
        return dict(value)

    @staticmethod
    def _check_socket_timeout(value: Any) -> float:
        return _number("socket_timeout", value)

    @staticmethod
    def _check_heartbeat_interval(value: Any) -> float:
        return _number("heartbeat_interval", value)

    @staticmethod
    def _check_heartbeat_timeout(value: Any) -> float:
        return _number("heartbeat_timeout", value)

    @staticmethod
    def _check_login_timeout(value: Any) -> float:
        return _number("login_timeout", value)

    @staticmethod
    def _check_max_payload_size(value: Any) -> int:
        return _integer("max_payload_size", value, 1)

    @staticmethod
    def _check_read_chunksize(value: Any) -> int:
        return _integer("read_chunksize", value, 1, 1 << 24)

    @staticmethod
    def _check_replay_limit(value: Any) -> int | None:
        if value is None:
            return None
        return _integer("replay_limit", value, 1)

    @staticmethod
    def _check_extensions(value: Any) -> bool:
        if not isinstance(value, bool):
            raise SettingsError(f"extensions must be True or False, not {value!r}")
        return value

    # -- whole-object checks ----------------------------------------------

    def validate(self) -> None:
        """Check what single assignments cannot: credentials present, timings coherent.

        Called by :meth:`smarkets.session.Session.login`; raises
        :class:`~smarkets.errors.SettingsError`.
        """
        if self.password is None and self.cookie is None:
            raise SettingsError("set a password or a cookie to log in")
        if self.heartbeat_timeout <= self.heartbeat_interval:
            raise SettingsError(
                f"heartbeat_timeout ({self.heartbeat_timeout:g}s) must be longer than "
                f"heartbeat_interval ({self.heartbeat_interval:g}s)"
            )

    @property
    def address(self) -> str:
        """``host:port`` (``[host]:port`` for an IPv6 address), for messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def copy(self) -> SessionSettings:
        """An independent copy (``ssl_kwargs`` copied too; secrets carried over)."""
        other = object.__new__(SessionSettings)
        for name in self._FIELDS:
            value = getattr(self, name)
            object.__setattr__(other, name, dict(value) if name == "ssl_kwargs" else value)
        other.__dict__["_password"] = self.__dict__["_password"]
        other.__dict__["_cookie"] = self.__dict__["_cookie"]
        return other

    def __repr__(self) -> str:
        parts = []
        for name in self._FIELDS:
            value = getattr(self, name)
            if name in self._SECRETS:
                shown = "None" if value is None else MASK
            elif name == "ssl_kwargs":
                shown = repr(
                    {k: ("<SSLContext>" if k == "context" else v) for k, v in value.items()}
                )
            else:
                shown = repr(value)
            parts.append(f"{name}={shown}")
        return f"SessionSettings({', '.join(parts)})"

    __str__ = __repr__
