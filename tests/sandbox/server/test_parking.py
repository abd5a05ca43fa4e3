"""The server's parking of a session whose connection went, through its public objects."""

from __future__ import annotations

import asyncio

from smarkets.proto import seto_pb2
from smarkets.protocol import ReplayStore, SessionState
from smarkets.sandbox.server import SandboxServer, ServerConfig, ServerSession


def market_state(n: int) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    payload.market_state.market.low = n
    payload.market_state.state = seto_pb2.MARKET_STATUS_OPEN
    return payload


def test_the_sandbox_parks_a_session_on_a_detached_core() -> None:
    """The server keeps a parked session numbered with SessionCore.detached (no timers)."""

    async def main() -> None:
        server = SandboxServer(config=ServerConfig(port=0, session_expiry=60))
        state = SessionState("b9999", 4, 9, sent=ReplayStore(first_seq=9))
        # market_state is an extension kind: the session was granted extensions.
        session = ServerSession(state, "alice", 1, None, extensions=1)
        server.park(session)
        core = session.core
        assert core is not None and core.is_detached and core.session is state
        assert core.next_deadline() is None
        server.router.send(session, market_state(7), server.loop.time())
        assert state.outseq == 10
        assert [seq for seq, _ in state.sent.since(9)] == [9]
        assert core.payloads_to_send() == []
        # A session without extensions is not sent an extension kind at all.
        published = ServerSession(SessionState("c9999", 1, 3), "bob", 2, None)
        server.park(published)
        server.router.send(published, market_state(8), server.loop.time())
        assert published.state.outseq == 3
        assert session.expiry is not None and published.expiry is not None
        session.expiry.cancel()
        published.expiry.cancel()

    asyncio.run(main())
