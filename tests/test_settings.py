"""Unit tests of SessionSettings: defaults, validation, and secrets kept out of dumps."""

from __future__ import annotations

import copy
import pickle
import ssl

import pytest

import smarkets
from smarkets.settings import SessionSettings

SECRET = "hunter2-very-secret"
COOKIE = b"cookie-token-abc"


def test_defaults() -> None:
    s = SessionSettings("alice", SECRET)
    assert (s.username, s.password, s.cookie) == ("alice", SECRET, None)
    assert (s.host, s.port, s.ssl, s.ssl_kwargs) == ("localhost", 3701, True, {})
    assert s.max_payload_size == 1 << 20
    assert s.read_chunksize == 65536
    assert s.replay_limit == 100_000
    assert s.socket_timeout > 0
    assert s.heartbeat_timeout > s.heartbeat_interval > 0
    assert s.login_timeout > 0
    s.validate()


def test_attributes_can_be_set_like_the_script_does() -> None:
    s = SessionSettings("alice", SECRET)
    s.host = "exchange.example.com"
    s.port = 3702
    s.ssl = False
    s.socket_timeout = 2
    assert (s.host, s.port, s.ssl, s.socket_timeout) == ("exchange.example.com", 3702, False, 2.0)
    assert s.address == "exchange.example.com:3702"
    s.host = "::1"
    assert s.address == "[::1]:3702"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("username", "", "username"),
        ("username", None, "username"),
        ("host", "", "host"),
        ("port", 0, "port must be between 1 and 65535"),
        ("port", 70000, "port"),
        ("port", "3701", "port must be an integer"),
        ("port", True, "port must be an integer"),
        ("ssl", 1, "ssl must be True or False"),
        ("ssl", "no", "ssl"),
        ("socket_timeout", 0, "socket_timeout must be greater than 0"),
        ("socket_timeout", -1, "socket_timeout"),
        ("socket_timeout", "5", "socket_timeout must be a number"),
        ("heartbeat_interval", 0, "heartbeat_interval"),
        ("heartbeat_timeout", None, "heartbeat_timeout"),
        ("login_timeout", float("nan"), "login_timeout"),
        ("max_payload_size", 0, "max_payload_size"),
        ("read_chunksize", 0, "read_chunksize must be between 1 and"),
        ("read_chunksize", 1 << 25, "read_chunksize must be between 1 and"),
        ("read_chunksize", 4.0, "read_chunksize must be an integer"),
        ("replay_limit", 0, "replay_limit"),
        ("replay_limit", 1.5, "replay_limit"),
        ("ssl_kwargs", [], "ssl_kwargs must be a dict"),
        ("ssl_kwargs", {"verify": False}, "unknown ssl_kwargs 'verify'"),
        ("ssl_kwargs", {"ca_file": "a", "cafile": "b"}, "not both"),
        ("ssl_kwargs", {"keyfile": "k"}, "needs a 'certfile'"),
        ("ssl_kwargs", {"context": "ctx"}, "SSLContext"),
        ("password", 123, "password must be a str"),
        ("cookie", 123, "cookie must be bytes"),
        ("hots", "typo", "unknown setting 'hots'"),
    ],
)
def test_invalid_values_are_refused(name: str, value: object, message: str) -> None:
    s = SessionSettings("alice", SECRET)
    with pytest.raises(smarkets.SettingsError, match=message):
        setattr(s, name, value)
    assert isinstance(smarkets.SettingsError("x"), ValueError)


def test_constructor_validates_too() -> None:
    with pytest.raises(smarkets.SettingsError, match="port"):
        SessionSettings("alice", SECRET, port=-1)


def test_ssl_kwargs_accepted_forms() -> None:
    s = SessionSettings("alice", SECRET)
    s.ssl_kwargs = {"ca_file": "/tmp/ca.pem"}
    s.ssl_kwargs = {"cafile": "/tmp/ca.pem", "certfile": "c.pem", "keyfile": "k.pem"}
    context = ssl.create_default_context()
    s.ssl_kwargs = {"context": context}
    assert s.ssl_kwargs["context"] is context
    with pytest.raises(smarkets.SettingsError, match="cannot be combined"):
        s.ssl_kwargs = {"context": context, "ca_file": "x"}


def test_validate_checks_the_whole() -> None:
    s = SessionSettings("alice")
    with pytest.raises(smarkets.SettingsError, match="password or a cookie"):
        s.validate()
    s.cookie = COOKIE
    s.validate()
    s.heartbeat_timeout = s.heartbeat_interval
    with pytest.raises(smarkets.SettingsError, match="heartbeat_timeout"):
        s.validate()


def test_cookie_accepts_text() -> None:
    s = SessionSettings("alice", cookie="abc")
    assert s.cookie == b"abc"


@pytest.mark.parametrize(
    "dump",
    [
        repr,
        str,
        lambda s: repr(vars(s)),
        lambda s: str(vars(s)),
        lambda s: f"{s}",
        lambda s: f"{s!r}",
    ],
    ids=["repr", "str", "repr-vars", "str-vars", "format", "format-repr"],
)
def test_secrets_never_shown(dump) -> None:
    s = SessionSettings("alice", SECRET, cookie=COOKIE)
    text = dump(s)
    assert SECRET not in text
    assert COOKIE.decode() not in text
    assert "alice" in text
    assert "***" in text


def test_repr_shows_what_is_not_secret() -> None:
    s = SessionSettings("alice", SECRET, host="h", port=1, ssl=False)
    text = repr(s)
    for part in ("username='alice'", "host='h'", "port=1", "ssl=False", "password=***"):
        assert part in text
    assert "cookie=None" in text


def test_copy_is_independent() -> None:
    s = SessionSettings("alice", SECRET, ssl_kwargs={"ca_file": "a"})
    c = s.copy()
    c.host = "other"
    c.ssl_kwargs["ca_file"] = "b"
    assert (s.host, s.ssl_kwargs["ca_file"]) == ("localhost", "a")
    assert c.password == SECRET
    d = copy.deepcopy(s)
    assert d.password == SECRET and d.host == "localhost"
    assert pickle.loads(pickle.dumps(s)).password == SECRET
