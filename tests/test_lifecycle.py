"""The client session's lifecycle: the table itself, and a Session walking through it."""

from __future__ import annotations

import pytest

import smarkets
from smarkets.lifecycle import TRANSITIONS, Lifecycle, Phase
from smarkets.proto import eto_pb2


def reachable(start: Phase) -> set[Phase]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_table_covers_every_phase_and_every_phase_is_reachable() -> None:
    assert set(TRANSITIONS) == set(Phase)
    assert reachable(Phase.IDLE) == set(Phase)
    # Whatever happens, a session can always start again: IDLE is reachable from anywhere.
    assert all(Phase.IDLE in reachable(phase) for phase in Phase)


def test_an_asked_for_logout_can_only_end() -> None:
    """Once logout() waits for its confirmation, nothing but the end follows."""
    assert TRANSITIONS[Phase.LOGGING_OUT] == {Phase.ENDED}
    assert TRANSITIONS[Phase.ENDED] == {Phase.IDLE}


@pytest.mark.parametrize("current", list(Phase))
def test_enter_follows_the_table_and_refuses_anything_else(current: Phase) -> None:
    for target in Phase:
        life = Lifecycle()
        life.phase = current
        if target is current or target in TRANSITIONS[current]:
            life.enter(target)
            assert life.phase is target
        else:
            with pytest.raises(RuntimeError, match=f"no move from {current.name} to {target.name}"):
                life.enter(target)
            assert life.phase is current


def test_the_questions_the_session_asks() -> None:
    life = Lifecycle()
    answers = {}
    for phase in Phase:
        life.phase = phase
        answers[phase] = (life.wants_connection, life.logout_asked, life.finished)
    assert {p for p, (wants, _, _) in answers.items() if wants} == {Phase.LIVE}
    assert {p for p, (_, asked, _) in answers.items() if asked} == {
        Phase.LOGGING_OUT,
        Phase.LOGOUT_SENT,
        Phase.LOGGED_OUT,
    }
    assert {p for p, (_, _, done) in answers.items() if done} == {Phase.LOGGED_OUT, Phase.ENDED}


# -- a real Session (on the in-memory transport) ---------------------------------------------


def test_login_logout_and_a_new_session(make_session, loopback) -> None:
    session = make_session()
    assert session.phase is Phase.IDLE
    session.login()
    assert session.phase is Phase.LIVE
    session.logout()
    assert session.phase is Phase.ENDED
    session.login()  # a new session
    assert session.phase is Phase.LIVE
    assert session.outseq == 2


def test_disconnect_keeps_the_session_but_wants_no_connection(make_session, loopback) -> None:
    session = make_session()
    session.login()
    session.disconnect()
    assert session.phase is Phase.IDLE
    session.login()  # resumed, not new
    assert session.phase is Phase.LIVE
    assert session.session == "19999"


def test_login_and_logout_left_to_the_reading_thread(make_session, loopback) -> None:
    session = make_session()
    assert session.login(receive=False) == []
    assert session.phase is Phase.LOGIN_SENT
    session.read_events(timeout=1.0)
    assert session.phase is Phase.LIVE
    assert session.logout(receive=False) == []
    assert session.phase is Phase.LOGOUT_SENT
    session.read_events(timeout=1.0)  # the confirmation
    assert session.phase is Phase.LOGGED_OUT
    with pytest.raises(smarkets.ConnectionClosed, match="closed after the logout"):
        session.read_events(timeout=1.0)
    assert session.phase is Phase.ENDED
    with pytest.raises(smarkets.NotLoggedInError, match="session has ended"):
        session.read_events(timeout=1.0)


def test_a_refused_login_ends_the_session(make_session, loopback) -> None:
    loopback.refuse = eto_pb2.LOGOUT_UNAUTHORISED
    session = make_session()
    with pytest.raises(smarkets.LoginError):
        session.login()
    assert session.phase is Phase.ENDED


def test_a_login_while_logout_waits_for_its_confirmation_is_refused(make_session) -> None:
    """Another thread's login() cannot slip into a logout() that is still waiting."""
    session = make_session()
    session.login()
    session.disconnect()
    session._life.enter(Phase.LOGGING_OUT)  # as while another thread's logout() waits
    with pytest.raises(smarkets.Error, match="logout\\(\\) is waiting for its confirmation"):
        session.login()
    assert session.phase is Phase.LOGGING_OUT


def test_a_login_before_a_logouts_confirmation_abandons_the_logout(make_session) -> None:
    session = make_session()
    session.login()
    session.logout(receive=False)
    session.disconnect()  # the confirmation is never read
    assert session.phase is Phase.IDLE
    session.login()  # resumes: the session had not ended for this client
    assert session.phase is Phase.LIVE
