"""The transition table (smarkets.protocol.states.TRANSITIONS) against what the core does.

Each move the table lists is made here, for each reason its docstring gives, by driving a
:class:`~smarkets.protocol.testing.ConnectedPair` and checking the :class:`State` before and
after; the test of coverage then checks that these moves are exactly the table's entries, so
the table can neither list a move the core never makes nor miss one it makes. The core moves
only through ``SessionCore._enter``, which refuses any move the table lacks (throughout the
test suite, every run); :func:`test_the_state_changes_only_through_the_table` checks that
nothing in the package sets a ``State`` another way.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import TRANSITIONS, ReplayStore, Role, SessionCore, SessionState, State
from smarkets.protocol.connection import Connection
from smarkets.protocol.framing import encode_frame
from smarkets.protocol.testing import ConnectedPair

LOGIN = seto_pb2.Login(username="alice", password="pw")
TIMINGS = {"heartbeat_interval": 1.0, "heartbeat_timeout": 3.0, "login_timeout": 2.0}
PACKAGE = Path(__file__).resolve().parents[2] / "smarkets"

AWAITING_LOGIN = State.AWAITING_LOGIN
LOGGING_IN = State.LOGGING_IN
LOGGED_IN = State.LOGGED_IN
LOGGING_OUT = State.LOGGING_OUT
CLOSED = State.CLOSED

Prepare = Callable[[ConnectedPair], None]
Move = Callable[[ConnectedPair], object]


# -- getting a pair to each state -------------------------------------------------------------


def fresh(pair: ConnectedPair) -> None:
    """Nothing sent yet."""


def login_sent(pair: ConnectedPair) -> None:
    """The client's login is on the server, which has not decided yet."""
    pair.client.login(LOGIN, pair.now)
    pair.to_server()


def logged_in(pair: ConnectedPair, state: SessionState | None = None) -> None:
    login_sent(pair)
    pair.server.accept_login(state or SessionState("s-1"), pair.now)
    pair.to_client()


def client_logging_out(pair: ConnectedPair) -> None:
    logged_in(pair)
    pair.client.logout(pair.now)


def server_logging_out(pair: ConnectedPair) -> None:
    logged_in(pair)
    pair.server.logout(pair.now)


def first_payload(eto_type: int, seq: int) -> Move:
    """The server is sent, as its first payload, one of ``eto_type`` numbered ``seq``."""

    def move(pair: ConnectedPair) -> object:
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ETO)
        if eto_type == eto_pb2.PAYLOAD_LOGIN:
            payload.type = seto_pb2.PAYLOAD_LOGIN
            payload.login.CopyFrom(LOGIN)
        payload.eto_payload.type = eto_type
        payload.eto_payload.seq = seq
        return pair.to_server(encode_frame(payload.SerializeToString()))

    return move


def replay_below_what_is_kept(pair: ConnectedPair) -> object:
    """The client asks the server for a payload its store no longer keeps."""
    for _ in range(3):
        pair.server.send(seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKETS_REQUEST), pair.now)
    pair.drop()
    replay = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ETO)
    replay.eto_payload.type = eto_pb2.PAYLOAD_REPLAY
    replay.eto_payload.replay.seq = 1
    pair.client.send(replay, pair.now)
    return pair.to_server()


def logged_in_keeping_one(pair: ConnectedPair) -> None:
    logged_in(pair, SessionState("s-1", sent=ReplayStore(limit=1)))


def silence(seconds: float) -> Move:
    """Time passes and nothing crosses: only the timers run."""

    def move(pair: ConnectedPair) -> object:
        pair.drop()
        return pair.advance(seconds)

    return move


def abort(pair: ConnectedPair, side: Connection) -> object:
    return side.abort(eto_pb2.LOGOUT_INVALID_PAYLOAD, pair.now)


# -- every move of the table, for every reason it gives ---------------------------------------

#: name: (the side that moves, its state before, its state after, how to get there, the move)
MOVES: dict[str, tuple[Role, State, State, Prepare, Move]] = {
    "client sends its login": (
        Role.CLIENT,
        AWAITING_LOGIN,
        LOGGING_IN,
        fresh,
        lambda pair: pair.client.login(LOGIN, pair.now),
    ),
    "server receives a login": (
        Role.SERVER,
        AWAITING_LOGIN,
        LOGGING_IN,
        lambda pair: pair.client.login(LOGIN, pair.now),
        lambda pair: pair.to_server(),
    ),
    "server: no login in time": (Role.SERVER, AWAITING_LOGIN, CLOSED, fresh, silence(2.0)),
    "server: the first payload is not a login": (
        Role.SERVER,
        AWAITING_LOGIN,
        CLOSED,
        fresh,
        first_payload(eto_pb2.PAYLOAD_HEARTBEAT, 1),
    ),
    "server: a new session's login not at seq 1 is refused": (
        Role.SERVER,
        AWAITING_LOGIN,
        CLOSED,
        fresh,
        first_payload(eto_pb2.PAYLOAD_LOGIN, 2),
    ),
    "server aborts before the login": (
        Role.SERVER,
        AWAITING_LOGIN,
        CLOSED,
        fresh,
        lambda pair: abort(pair, pair.server),
    ),
    "client aborts before its login": (
        Role.CLIENT,
        AWAITING_LOGIN,
        CLOSED,
        fresh,
        lambda pair: abort(pair, pair.client),
    ),
    "client: the login response arrives": (
        Role.CLIENT,
        LOGGING_IN,
        LOGGED_IN,
        login_sent,
        lambda pair: (pair.server.accept_login(SessionState("s-1"), pair.now), pair.to_client()),
    ),
    "server: the application accepts": (
        Role.SERVER,
        LOGGING_IN,
        LOGGED_IN,
        login_sent,
        lambda pair: pair.server.accept_login(SessionState("s-1"), pair.now),
    ),
    "server: the application refuses": (
        Role.SERVER,
        LOGGING_IN,
        CLOSED,
        login_sent,
        lambda pair: pair.server.refuse_login(eto_pb2.LOGOUT_UNAUTHORISED, pair.now),
    ),
    "client: its login is refused": (
        Role.CLIENT,
        LOGGING_IN,
        CLOSED,
        login_sent,
        lambda pair: (
            pair.server.refuse_login(eto_pb2.LOGOUT_UNAUTHORISED, pair.now),
            pair.to_client(),
        ),
    ),
    "client: no login response in time": (
        Role.CLIENT,
        LOGGING_IN,
        CLOSED,
        login_sent,
        silence(2.0),
    ),
    "server: the application does not decide in time": (
        Role.SERVER,
        LOGGING_IN,
        CLOSED,
        login_sent,
        silence(2.0),
    ),
    "client aborts while logging in": (
        Role.CLIENT,
        LOGGING_IN,
        CLOSED,
        login_sent,
        lambda pair: abort(pair, pair.client),
    ),
    "server aborts while the login waits": (
        Role.SERVER,
        LOGGING_IN,
        CLOSED,
        login_sent,
        lambda pair: abort(pair, pair.server),
    ),
    "client logs out": (
        Role.CLIENT,
        LOGGED_IN,
        LOGGING_OUT,
        logged_in,
        lambda pair: pair.client.logout(pair.now),
    ),
    "server logs out": (
        Role.SERVER,
        LOGGED_IN,
        LOGGING_OUT,
        logged_in,
        lambda pair: pair.server.logout(pair.now),
    ),
    "server: the client's logout arrives (and is confirmed)": (
        Role.SERVER,
        LOGGED_IN,
        CLOSED,
        client_logging_out,
        lambda pair: pair.to_server(),
    ),
    "client: the server's logout arrives (and is confirmed)": (
        Role.CLIENT,
        LOGGED_IN,
        CLOSED,
        server_logging_out,
        lambda pair: pair.to_client(),
    ),
    "client: heartbeat timeout": (Role.CLIENT, LOGGED_IN, CLOSED, logged_in, silence(3.0)),
    "server: heartbeat timeout": (Role.SERVER, LOGGED_IN, CLOSED, logged_in, silence(3.0)),
    "client aborts while logged in": (
        Role.CLIENT,
        LOGGED_IN,
        CLOSED,
        logged_in,
        lambda pair: abort(pair, pair.client),
    ),
    "server aborts while logged in": (
        Role.SERVER,
        LOGGED_IN,
        CLOSED,
        logged_in,
        lambda pair: abort(pair, pair.server),
    ),
    "server: a replay of what it no longer keeps is asked": (
        Role.SERVER,
        LOGGED_IN,
        CLOSED,
        logged_in_keeping_one,
        replay_below_what_is_kept,
    ),
    "client: its logout is confirmed": (
        Role.CLIENT,
        LOGGING_OUT,
        CLOSED,
        client_logging_out,
        lambda pair: (pair.to_server(), pair.to_client()),
    ),
    "server: its logout is confirmed": (
        Role.SERVER,
        LOGGING_OUT,
        CLOSED,
        server_logging_out,
        lambda pair: (pair.to_client(), pair.to_server()),
    ),
    "client: the confirmation never comes": (
        Role.CLIENT,
        LOGGING_OUT,
        CLOSED,
        client_logging_out,
        silence(3.0),
    ),
    "server: the confirmation never comes": (
        Role.SERVER,
        LOGGING_OUT,
        CLOSED,
        server_logging_out,
        silence(3.0),
    ),
}


def side(pair: ConnectedPair, role: Role) -> Connection:
    return pair.client if role is Role.CLIENT else pair.server


@pytest.mark.parametrize("name", list(MOVES))
def test_each_move_of_the_table(name: str) -> None:
    role, before, after, prepare, move = MOVES[name]
    pair = ConnectedPair(now=100.0, **TIMINGS)
    prepare(pair)
    assert side(pair, role).state is before
    move(pair)
    assert side(pair, role).state is after
    assert after in TRANSITIONS[before]


def test_the_moves_are_exactly_the_tables_entries() -> None:
    table = {(before, after) for before, afters in TRANSITIONS.items() for after in afters}
    made = {(before, after) for _, before, after, _, _ in MOVES.values()}
    assert made == table
    # and each move is made by both roles wherever the docstring says so
    assert {role for role, *_ in MOVES.values()} == set(Role)


def test_every_state_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(State)
    assert all(afters <= set(State) for afters in TRANSITIONS.values())


def test_closed_is_final() -> None:
    assert TRANSITIONS[CLOSED] == frozenset()
    for name in ("client: heartbeat timeout", "server: the application refuses"):
        role, _, _, prepare, move = MOVES[name]
        pair = ConnectedPair(now=100.0, **TIMINGS)
        prepare(pair)
        move(pair)
        closed = side(pair, role)
        assert closed.state is CLOSED
        # nothing that can still be asked of it moves it
        assert closed.abort(eto_pb2.LOGOUT_INVALID_PAYLOAD, pair.now) == []
        assert closed.tick(pair.now + 100) == []
        pair.settle()
        assert closed.state is CLOSED


def test_a_detached_core_starts_logged_in_and_never_moves() -> None:
    core = SessionCore.detached(Role.SERVER, SessionState("s-1"), now=0.0)
    assert core.state is LOGGED_IN
    core.send(seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKETS_REQUEST), 0.0)
    assert core.tick(1e6) == [] and core.abort(eto_pb2.LOGOUT_INVALID_PAYLOAD, 0.0) == []
    assert core.state is LOGGED_IN


#: The only places in the package that set a core's state directly: where it starts, where
#: a detached core is made, and the one method that moves it along the table.
ALLOWED = {
    ("protocol/core.py", "__init__"),
    ("protocol/core.py", "detached"),
    ("protocol/core.py", "_enter"),
}


def _state_values(tree: ast.Module) -> set[str]:
    """Names a module binds to ``State`` members (``_CLOSED = State.CLOSED``)."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.value).startswith("State.")
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _assignments(function: ast.AST) -> list[tuple[ast.expr, ast.expr | None]]:
    """``(target, value)`` of every assignment in ``function``."""
    out: list[tuple[ast.expr, ast.expr | None]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            out += [(target, node.value) for target in node.targets]
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            out.append((node.target, node.value))
    return out


def test_the_state_changes_only_through_the_table() -> None:
    """Nothing in smarkets/ sets a ``State`` on a ``state`` attribute but SessionCore, in
    its three places: so every move the core makes goes through the table's check."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module.startswith("proto/"):
            continue  # generated
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = _state_values(tree)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for target, value in _assignments(function):
                if not (isinstance(target, ast.Attribute) and target.attr == "state"):
                    continue
                text = ast.unparse(value) if value is not None else ""
                where = (module, function.name)
                if "State." in text or text in aliases or where in ALLOWED:
                    found.add(where)
    assert found == ALLOWED
