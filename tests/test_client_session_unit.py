"""ClientSession: what a client keeps and decides between connections, with no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

import smarkets
from smarkets.client_session import ClientSession
from smarkets.lifecycle import Phase
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import LoggedIn, SessionEnded, State

SETTINGS = smarkets.SessionSettings("alice", "secret", ssl=False)


def test_a_new_session_logs_in_with_the_credentials_and_asks_for_extensions() -> None:
    kept = ClientSession(SETTINGS)
    kept.prepare_login()
    core = kept.connection(0.0, "test")
    assert core.state is State.LOGGING_IN
    (frame,) = core.payloads_to_send()
    login = seto_pb2.Payload.FromString(frame)
    assert login.login.username == "alice"
    assert login.login.password == "secret"
    assert login.login.HasField("extensions")
    assert not login.eto_payload.login.session


def test_incomplete_settings_are_refused_before_anything_else() -> None:
    kept = ClientSession(smarkets.SessionSettings("alice", ssl=False))
    with pytest.raises(smarkets.SettingsError, match="password or a cookie"):
        kept.prepare_login()


def test_an_ended_session_starts_anew_and_a_dropped_one_resumes() -> None:
    kept = ClientSession(SETTINGS, "a9999", 5, 7)
    kept.life.enter(Phase.LIVE)
    assert kept.ended(SessionEnded(eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT, by_peer=True), "x")
    kept.prepare_login()
    assert (kept.state.session_id, kept.state.inseq, kept.state.outseq) == ("a9999", 5, 7)
    error = kept.ended(SessionEnded(eto_pb2.LOGOUT_UNKNOWN_SESSION, by_peer=True), "x")
    assert isinstance(error, smarkets.UnknownSessionError)
    assert kept.life.phase is Phase.ENDED
    kept.prepare_login()
    assert (kept.state.session_id, kept.state.inseq, kept.state.outseq) == (None, 1, 1)
    assert kept.life.phase is Phase.IDLE


def test_the_logout_asked_for_ends_quietly_and_clears_the_store(tmp_path: Path) -> None:
    store = smarkets.FileStateStore(tmp_path / "state.json")
    kept = ClientSession(SETTINGS, "a9999", 5, 7, state_store=store)
    kept.life.enter(Phase.LIVE)
    kept.save()
    assert store.load() is not None
    kept.life.enter(Phase.LOGGING_OUT)
    assert kept.ended(SessionEnded(eto_pb2.LOGOUT_CONFIRMATION, by_peer=True), "x") is None
    assert kept.life.phase is Phase.ENDED
    assert store.load() is None


def test_a_login_while_a_logout_waits_is_refused() -> None:
    kept = ClientSession(SETTINGS, "a9999", 5, 7)
    kept.life.enter(Phase.LOGGING_OUT)
    with pytest.raises(smarkets.Error, match="waiting for its confirmation"):
        kept.prepare_login()


def test_what_the_login_response_grants() -> None:
    kept = ClientSession(SETTINGS)
    kept.require_extensions("x")  # before any login, the settings ask for them
    kept.logged_in(LoggedIn("a9999", 1, extensions=0))
    assert kept.life.phase is Phase.LIVE
    with pytest.raises(smarkets.ExtensionNotGrantedError):
        kept.require_extensions("a feature")
