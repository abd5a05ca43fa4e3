"""The session journal: recording, reading, replaying offline, corruption, secrets."""

from __future__ import annotations

import os
import random
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD
from support import sandbox_settings

import smarkets
import smarkets.protocol.names
from smarkets.journal import MAGIC, Journal, JournalError, JournalRecord, read_journal, replay
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import Received, Role, SessionCore, SessionState, session_payload
from smarkets.sandbox.process import SandboxProcess


def quotes_payload(seq: int = 0) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    payload.contract_quotes.contract.low = 1
    payload.contract_quotes.market.low = 1
    payload.contract_quotes.bids.add(price=4000 + seq, quantity=1000)
    if seq:
        payload.eto_payload.seq = seq
    return payload


def record_names(target: list[tuple[str, int]]) -> Any:
    return lambda name, payload: target.append((name, payload.eto_payload.seq))


# -- recording through a Session (in-memory server) ------------------------------------


def test_session_records_both_directions(make_session, loopback, tmp_path: Path) -> None:
    path = tmp_path / "s.journal"
    session = make_session(journal=str(path))
    client = smarkets.Smarkets(session)
    live: list[tuple[str, int]] = []
    client.add_global_handler(record_names(live))
    client.login()
    client.ping()
    client.subscribe("1c024")
    client.flush()
    loopback.send(quotes_payload())
    client.read(2)  # the pong and the quotes
    client.logout()
    session.journal.close()

    records = list(read_journal(path))
    assert [r.direction for r in records[:3]] == ["session", "out", "in"]
    assert records[0].seq == 1 and records[0].payload == b""  # a new session, inseq 1
    outs = [r for r in records if r.direction == "out"]
    assert [r.seq for r in outs] == list(range(1, len(outs) + 1))
    assert all(isinstance(r, JournalRecord) and r.time > 1e9 for r in records)
    names = [smarkets.protocol.names.payload_name(r.decode())[0] for r in outs]
    assert names[:4] == ["eto.login", "eto.ping", "seto.market_subscribe", "eto.logout"]

    replayed: list[tuple[str, int]] = []
    assert replay(path, record_names(replayed)) == len(live)
    assert replayed == live
    sent: list[tuple[str, int]] = []
    replay(path, record_names(sent), direction="out")
    assert [name for name, _ in sent] == names


def test_password_and_cookie_are_masked(make_session, tmp_path: Path) -> None:
    path = tmp_path / "s.journal"
    settings = smarkets.SessionSettings("alice", PASSWORD, cookie=b"tok-en-secret", ssl=False)
    session = make_session(settings=settings, journal=Journal(path))
    session.login()
    session.logout()
    session.journal.close()
    data = path.read_bytes()
    assert PASSWORD.encode() not in data and b"tok-en-secret" not in data
    login = next(r for r in read_journal(path) if r.direction == "out").decode()
    assert login.login.username == "alice"
    assert login.login.password == "***" and login.login.cookie == b"***"


# -- the replay follows the session core's delivery rules ---------------------------------


def _server_payload(kind: str, seq: int, replayed: bool) -> bytes:
    if kind == "app":
        payload = quotes_payload(seq)
    elif replayed:
        payload = session_payload(eto_pb2.PAYLOAD_GAPFILL)  # a session-level one, resent
    else:
        payload = session_payload(eto_pb2.PAYLOAD_HEARTBEAT)
    payload.eto_payload.seq = seq
    if replayed:
        payload.eto_payload.is_replay = True
    return payload.SerializeToString()


@pytest.mark.parametrize("seed", range(25))
def test_replay_delivers_what_the_core_delivered(tmp_path: Path, seed: int) -> None:
    """Random arrivals (early, duplicated, replayed, session-level) fed to a real client
    SessionCore and recorded: the replay delivers exactly what the core did."""
    rng = random.Random(seed)
    path = tmp_path / "r.journal"
    journal = Journal(path)
    state = SessionState()
    core = SessionCore(Role.CLIENT, state, now=0.0, heartbeat_interval=1e9, heartbeat_timeout=1e9)
    core.login(seto_pb2.Login(username="u", password="p"), 0.0)
    journal.record_out(core.payloads_to_send(), state.inseq)
    response = session_payload(eto_pb2.PAYLOAD_LOGIN_RESPONSE)
    response.eto_payload.seq = 1
    response.eto_payload.login_response.session = "a9999"
    response.eto_payload.login_response.reset = 2
    kinds = {seq: rng.choice(["app", "app", "app", "session"]) for seq in range(2, 80)}
    delivered: list[int] = []
    batch = [response.SerializeToString()]
    for _ in range(150):
        journal.record_in(batch)
        for event in core.receive_payloads(batch, 0.0):
            if isinstance(event, Received):
                delivered.append(event.payload.eto_payload.seq)
        journal.record_out(core.payloads_to_send(), state.inseq)
        batch = []
        for _ in range(rng.randint(1, 4)):
            seq = max(2, min(79, state.inseq + rng.randint(-3, 3)))
            replayed = seq < state.inseq or rng.random() < 0.2
            batch.append(_server_payload(kinds[seq], seq, replayed))
    journal.close()
    replayed_seqs: list[int] = []
    replay(path, lambda name, payload: replayed_seqs.append(payload.eto_payload.seq))
    assert replayed_seqs == delivered
    assert len(delivered) > 10


def test_replay_stops_where_a_payload_lacked_required_fields(tmp_path: Path) -> None:
    """Live, such a payload ended the connection before anything after it was taken: the
    replay delivers nothing from there on either (until the next login)."""
    path = tmp_path / "bad.journal"
    journal = Journal(path)
    state = SessionState()
    core = SessionCore(Role.CLIENT, state, now=0.0)
    core.login(seto_pb2.Login(username="u", password="p"), 0.0)
    journal.record_out(core.payloads_to_send(), state.inseq)
    response = session_payload(eto_pb2.PAYLOAD_LOGIN_RESPONSE)
    response.eto_payload.seq = 1
    response.eto_payload.login_response.session = "a9999"
    response.eto_payload.login_response.reset = 2
    missing = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
    missing.eto_payload.seq = 3
    missing.order_cancel.SetInParent()  # its required `order` is not set
    journal.record_in(
        [
            response.SerializeToString(),
            quotes_payload(2).SerializeToString(),
            missing.SerializePartialToString(),
            quotes_payload(3).SerializeToString(),
        ]
    )
    journal.close()
    seen: list[int] = []
    replay(path, lambda name, payload: seen.append(payload.eto_payload.seq))
    assert seen == [1, 2]


# -- reading bad files -------------------------------------------------------------------------


def _journal_with_records(path: Path, count: int = 3) -> bytes:
    with Journal(path) as journal:
        journal.record_in([quotes_payload(seq).SerializeToString() for seq in range(1, count + 1)])
    return path.read_bytes()


def test_journal_file_is_owner_only(tmp_path: Path) -> None:
    # It holds the trading history: readable by its owner alone, whatever the umask.
    path = tmp_path / "session.journal"
    old = os.umask(0o022)
    try:
        Journal(path).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_truncated_journal_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.journal"
    data = _journal_with_records(path)
    path.write_bytes(data[:-5])
    seen: list[JournalRecord] = []
    with pytest.raises(JournalError, match="truncated journal") as info:
        for record in read_journal(path):
            seen.append(record)
    assert isinstance(info.value, smarkets.Error) and info.value.truncated
    record_size = (len(data) - len(MAGIC) - 1) // 3
    assert len(seen) == 2 and info.value.offset == len(data) - record_size
    # Appending drops the cut record and carries on.
    with Journal(path, append=True) as journal:
        journal.record_in([quotes_payload(9).SerializeToString()])
    assert [r.seq for r in read_journal(path)] == [1, 2, 9]


def test_corrupt_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "c.journal"
    data = bytearray(_journal_with_records(path))
    magic_frame = len(MAGIC) + 1
    data[magic_frame + 1] = 9  # the first record's direction byte
    path.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="record 1 at byte 19 is not a journal record"):
        list(read_journal(path))
    path.write_bytes(b"\xff" * 11 + bytes(data))  # a length header over 10 bytes
    with pytest.raises(JournalError, match="corrupt journal"):
        list(read_journal(path))
    path.write_bytes(b"\x05hello world")
    with pytest.raises(JournalError, match="not a smarkets journal"):
        list(read_journal(path))
    path.write_bytes(b"")
    with pytest.raises(JournalError, match="is empty"):
        list(read_journal(path))
    with pytest.raises(JournalError, match="cannot open"):
        list(read_journal(tmp_path / "missing"))
    path.write_bytes(b"\x05hello world")
    with pytest.raises(JournalError, match="not a smarkets journal"):
        Journal(path, append=True)  # never appended to
    path.write_bytes(b"")
    Journal(path, append=True).close()  # an empty file is simply started
    assert list(read_journal(path)) == []


def test_replay_checks_its_arguments(tmp_path: Path) -> None:
    path = tmp_path / "a.journal"
    _journal_with_records(path)
    with pytest.raises(smarkets.UnknownHandlerError):
        replay(path, {"seto.no_such_thing": print})
    with pytest.raises(ValueError, match="direction"):
        replay(path, {}, direction="sideways")
    with pytest.raises(TypeError):
        replay(path, 42)
    got: list[int] = []
    assert replay(path, {"seto.contract_quotes": [lambda m: got.append(m.bids[0].price)]}) == 3
    assert got == [4001, 4002, 4003]


def test_write_failure_stops_recording_without_breaking(tmp_path: Path, caplog) -> None:
    journal = Journal(tmp_path / "w.journal")

    class Broken:
        def write(self, data: bytes) -> None:
            raise OSError(28, "No space left on device")

        def close(self) -> None:
            pass

    journal._file = Broken()  # type: ignore[assignment]
    journal.record_in([quotes_payload(1).SerializeToString()])
    assert journal.closed and isinstance(journal.error, OSError)
    journal.record_in([quotes_payload(2).SerializeToString()])  # quietly nothing
    assert "recording stopped" in caplog.text


# -- a real session against the sandbox ---------------------------------------------------


def test_sandbox_session_replays_offline_as_it_ran_live(tmp_path: Path) -> None:
    """Subscribe, trade, drop the connection and resume, log out; the replay of the journal
    dispatches the same (name, seq) sequence, and leaves the same books."""
    path = tmp_path / "live.journal"
    with SandboxProcess(tls=False, bots=3, seed=11) as sandbox:
        settings = sandbox_settings(sandbox, "alice", socket_timeout=5.0)
        session = smarkets.Session(settings, journal=path)
        client = smarkets.Smarkets(session)
        live: list[tuple[str, int]] = []
        client.add_global_handler(record_names(live))
        client.login()
        client.subscribe("1c024")
        client.ping()
        client.request_account_state()
        for price in (3000, 3100):
            order = smarkets.Order(10000, price, smarkets.Order.BUY, "1c024", "1cccc")
            client.order(order)
        client.flush()

        def read_for(seconds: float) -> None:
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                client.read()

        read_for(1.0)
        while session.pending_events:  # see test_login_dispatches_after_the_backlog
            client.read()
        session.disconnect()  # the bots keep trading; the server keeps what we miss
        time.sleep(0.5)
        client.login()  # resumed: the missed payloads are replayed
        client.cancel_all()
        client.flush()
        read_for(1.0)
        client.logout()
        session.journal.close()
        assert sandbox.running

    assert sum(1 for r in read_journal(path) if r.direction == "session") == 2
    assert settings.password and settings.password.encode() not in path.read_bytes()
    names = {name for name, _ in live}
    assert {"eto.login_response", "seto.market_quotes", "seto.contract_quotes"} <= names
    assert "eto.pong" in names and "seto.order_accepted" in names

    replayed: list[tuple[str, int]] = []
    offline = smarkets.Smarkets(smarkets.Session(settings))
    offline.add_global_handler(record_names(replayed))
    replay(path, offline)
    assert replayed == live
    live_book, offline_book = client.book("1c024"), offline.book("1c024")
    assert live_book is not None and offline_book is not None
    for contract in live_book:
        assert offline_book.depth(contract.id, None) == contract.depth(None)
        assert offline_book.volume(contract.id) == contract.volume


def test_login_dispatches_after_the_backlog(make_session, loopback) -> None:
    session = make_session()
    client = smarkets.Smarkets(session)
    seen: list[str] = []
    client.add_global_handler(lambda name, payload: seen.append(name))
    client.login()
    loopback.send(quotes_payload())
    loopback.send(quotes_payload())
    client.read()  # one dispatched, the other kept in the backlog
    session.disconnect()
    client.login()  # resumes; the backlog is dispatched before the login response
    assert seen == [
        "eto.login_response",
        "seto.contract_quotes",
        "seto.contract_quotes",  # received before the second login response
        "eto.login_response",
    ]
