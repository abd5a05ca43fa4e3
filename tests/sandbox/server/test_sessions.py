"""The session registry on its own: sessions by id and account, parking and expiry,
subscriptions and order owners (no sockets, no event loop: timers on a fake clock)."""

from __future__ import annotations

from smarkets.protocol import Role, SessionCore
from smarkets.sandbox.server.sessions import SessionRegistry

from .fakes import Stream, Timers


def registry(
    timers: Timers, expiry: float = 60.0, replay_limit: int | None = 10
) -> SessionRegistry:
    return SessionRegistry(expiry=expiry, replay_limit=replay_limit, call_later=timers.call_later)


def test_create_registers_a_new_session_by_id_and_account() -> None:
    reg = registry(Timers())
    a1 = reg.create("alice", 1, 1, None)
    a2 = reg.create("alice", 1, 0, None)
    b = reg.create("bob", 2, 1, None)
    assert a1.session_id.endswith("9999") and len({a1.session_id, a2.session_id, b.session_id}) == 3
    assert reg.get(a1.session_id) is a1 and len(reg) == 3
    assert reg.of_account(1) == [a1, a2] and reg.of_account(2) == [b] and reg.of_account(3) == []
    assert (a1.extensions, a2.extensions) == (1, 0)
    assert a1.state.sent.limit == 10 and a1.core is None and a1.stream is None


def test_a_parked_session_is_numbered_by_a_detached_core_until_it_expires() -> None:
    timers = Timers()
    reg = registry(timers, expiry=30.0)
    session = reg.create("alice", 1, 1, None)
    reg.attach(session, Stream(), SessionCore(Role.SERVER, session.state, now=0.0))
    reg.park(session, now=5.0)
    core = session.core
    assert session.stream is None
    assert isinstance(core, SessionCore) and core.is_detached and core.session is session.state
    assert [t.when for t in timers.armed] == [30.0]
    timers.advance(29.0)
    assert reg.get(session.session_id) is session
    timers.advance(1.0)
    assert reg.get(session.session_id) is None and reg.of_account(1) == []


def test_a_resume_stops_the_expiry() -> None:
    timers = Timers()
    reg = registry(timers, expiry=30.0)
    session = reg.create("alice", 1, 1, None)
    reg.park(session, now=0.0)
    stream = Stream()
    core = SessionCore(Role.SERVER, session.state, now=0.0)
    reg.attach(session, stream, core)
    assert timers.armed == [] and session.stream is stream and session.core is core
    timers.advance(100.0)
    assert reg.get(session.session_id) is session
    # Parked again, the expiry starts over.
    reg.park(session, now=100.0)
    assert [t.when for t in timers.armed] == [130.0]


def test_an_expiry_that_fires_for_a_resumed_session_does_nothing() -> None:
    timers = Timers()
    reg = registry(timers)
    session = reg.create("alice", 1, 1, None)
    reg.park(session, now=0.0)
    session.stream = Stream()  # resumed, as if the timer could not be cancelled in time
    reg.expire(session)
    assert reg.get(session.session_id) is session


def test_subscriptions_and_order_owners_go_with_the_session() -> None:
    reg = registry(Timers())
    alice, bob = reg.create("alice", 1, 1, None), reg.create("bob", 2, 1, None)
    reg.subscribe(alice, 7)
    reg.subscribe(bob, 7)
    reg.subscribe(alice, 8)
    assert list(reg.subscribed(7)) == [alice, bob] and alice.markets == {7, 8}
    reg.unsubscribe(bob, 7)
    reg.unsubscribe(bob, 9)  # not subscribed: nothing happens
    assert list(reg.subscribed(7)) == [alice] and list(reg.subscribed(9)) == []
    reg.own_order(alice, 42)
    reg.own_order(bob, 43)
    assert reg.owner_of(42) is alice and alice.orders == {42}
    reg.forget_order(42)
    assert reg.owner_of(42) is None and alice.orders == set()
    reg.own_order(alice, 44)
    reg.forget(alice)
    assert reg.subscribers == {} and reg.order_owner == {43: bob}
    assert alice.markets == set() and alice.orders == set() and len(reg) == 1
    reg.forget_all()
    assert len(reg) == 0 and reg.by_account == {} and reg.order_owner == {}
