"""Unit tests of FileStateStore: atomic saves, loads, clearing, bad files."""

from __future__ import annotations

import os
import stat

import pytest

import smarkets
from smarkets.state_store import FileStateStore, SavedSession, StateStore


def test_nothing_saved(tmp_path) -> None:
    assert FileStateStore(tmp_path / "s.json").load() is None


def test_save_load_replace_clear(tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.save("a9999", 3, 4)
    assert store.load() == SavedSession("a9999", 3, 4)
    store.save("a9999", 10, 11)
    assert store.load() == SavedSession("a9999", 10, 11)
    assert os.listdir(tmp_path) == ["s.json"]  # no temporary file left behind
    store.clear()
    assert store.load() is None
    store.clear()  # clearing nothing is fine


def test_file_is_private(tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.save("a9999", 1, 1)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_save_is_atomic_when_the_write_fails(tmp_path, monkeypatch) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.save("a9999", 1, 2)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(smarkets.StateStoreError, match="disk full"):
        store.save("a9999", 5, 6)
    monkeypatch.undo()
    assert store.load() == SavedSession("a9999", 1, 2)  # the old state is intact
    assert os.listdir(tmp_path) == ["s.json"]


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[]",
        '{"session_id": "a"}',
        '{"session_id": "", "inseq": 1, "outseq": 1}',
        '{"session_id": "a", "inseq": 0, "outseq": 1}',
        '{"session_id": "a", "inseq": true, "outseq": 1}',
    ],
)
def test_bad_file_is_an_error_naming_it(tmp_path, content: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(smarkets.StateStoreError, match="s.json"):
        FileStateStore(path).load()


def test_missing_directory_is_an_error(tmp_path) -> None:
    store = FileStateStore(tmp_path / "missing" / "s.json")
    with pytest.raises(smarkets.StateStoreError):
        store.save("a9999", 1, 1)


def test_is_a_state_store(tmp_path) -> None:
    assert isinstance(FileStateStore(tmp_path / "s.json"), StateStore)
    assert "s.json" in repr(FileStateStore(tmp_path / "s.json"))


# -- the log of sent payloads ----------------------------------------------------------------

from smarkets import state_store as state_store_module  # noqa: E402
from smarkets.proto import seto_pb2  # noqa: E402
from smarkets.protocol import Received, is_session_level  # noqa: E402
from smarkets.protocol.framing import FrameDecoder  # noqa: E402
from smarkets.state_store import SENT_LOG_MAGIC, FileReplayStore, SentStore  # noqa: E402


def kept(store) -> list[tuple[int, bytes | None]]:
    return list(store.since(store.first_seq))


def test_sent_payloads_are_logged_and_loaded(tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    assert isinstance(store, SentStore)
    sent = store.replay_store(None, 1, resume=False)
    sent.append(1, None)  # a login: a marker
    sent.append(2, b"two")
    sent.append(3, b"three")
    assert store.sent_path.read_bytes().startswith(SENT_LOG_MAGIC)
    assert len(FileReplayStore.load(store.sent_path, None, 1)) == 0  # not synced yet
    sent.sync()
    loaded = store.replay_store(None, 1, resume=True)
    assert kept(loaded) == [(1, None), (2, b"two"), (3, b"three")]
    assert loaded.next_seq == 4
    loaded.append(4, b"four")  # appends continue the same file
    loaded.close()
    assert kept(store.replay_store(None, 1, resume=True))[-1] == (4, b"four")
    assert stat.S_IMODE(os.stat(store.sent_path).st_mode) == 0o600


def test_a_clear_is_logged(tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    sent = store.replay_store(None, 1, resume=False)
    sent.append(1, b"one")
    sent.clear(first_seq=7)  # the server said it expects 7 next: 1..6 are not needed
    sent.append(7, b"seven")
    sent.sync()
    loaded = store.replay_store(None, 1, resume=True)
    assert kept(loaded) == [(7, b"seven")]


def test_a_record_cut_short_is_dropped(tmp_path, caplog) -> None:
    store = FileStateStore(tmp_path / "s.json")
    sent = store.replay_store(None, 1, resume=False)
    sent.append(1, b"one")
    sent.append(2, b"two")
    sent.sync()
    whole = store.sent_path.stat().st_size
    with open(store.sent_path, "ab") as handle:
        handle.write(b"\x01\x03\x00\x00")  # the start of record 3: the process died here
    loaded = store.replay_store(None, 1, resume=True)
    assert kept(loaded) == [(1, b"one"), (2, b"two")]
    assert store.sent_path.stat().st_size == whole  # cut back to the last whole record
    assert "cut short" in caplog.text
    loaded.append(3, b"three")
    loaded.sync()
    assert kept(store.replay_store(None, 1, resume=True))[-1] == (3, b"three")


def test_a_corrupt_record_ends_the_log(tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    sent = store.replay_store(None, 1, resume=False)
    for seq in (1, 2, 3):
        sent.append(seq, b"payload-%d" % seq)
    sent.sync()
    data = bytearray(store.sent_path.read_bytes())
    data[data.index(b"payload-2")] ^= 0xFF  # a bit flipped in record 2: its CRC fails
    store.sent_path.write_bytes(bytes(data))
    assert kept(store.replay_store(None, 1, resume=True)) == [(1, b"payload-1")]


@pytest.mark.parametrize("content", [b"", b"not a log", SENT_LOG_MAGIC[:-1]])
def test_not_a_log_is_an_error(tmp_path, content: bytes) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.sent_path.write_bytes(content)
    with pytest.raises(smarkets.StateStoreError, match="s.json.sent"):
        store.replay_store(None, 1, resume=True)


def test_records_out_of_order_are_an_error(tmp_path) -> None:
    path = tmp_path / "s.json.sent"
    records = state_store_module._record(1, 5, b"a") + state_store_module._record(1, 7, b"b")
    path.write_bytes(SENT_LOG_MAGIC + records)
    with pytest.raises(smarkets.StateStoreError, match="7 where 6"):
        FileReplayStore.load(path, None, 1)


def test_the_log_is_compacted_to_what_is_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(state_store_module, "COMPACT_SLACK", 4)
    store = FileStateStore(tmp_path / "s.json")
    sent = store.replay_store(3, 1, resume=False)  # keeps 3 payloads, like replay_limit=3
    for seq in range(1, 40):
        sent.append(seq, b"x%d" % seq)
        sent.sync()
    assert kept(sent) == [(37, b"x37"), (38, b"x38"), (39, b"x39")]
    _, items, _, records = state_store_module._read_log(store.sent_path)
    assert records <= 2 * 3 + 4 + 1  # rewritten along the way, not 40 records
    assert kept(store.replay_store(3, 1, resume=True)) == kept(sent)
    assert sorted(os.listdir(tmp_path)) == ["s.json.sent"]  # no temporary file left


def test_loading_keeps_the_limit(tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    sent = store.replay_store(None, 1, resume=False)
    for seq in range(1, 11):
        sent.append(seq, b"%d" % seq)
    sent.sync()
    loaded = store.replay_store(4, 1, resume=True)
    assert [seq for seq, _ in kept(loaded)] == [7, 8, 9, 10]


def test_fsync_flushes_the_log_and_the_numbers(tmp_path, monkeypatch) -> None:
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    store = FileStateStore(tmp_path / "s.json", fsync=True)
    store.save("a9999", 1, 2)
    assert len(calls) >= 2  # the file, then its directory
    calls.clear()
    sent = store.replay_store(None, 1, resume=False)
    sent.append(1, b"one")
    sent.sync()
    assert len(calls) == 1
    sent.sync()  # nothing queued: nothing to flush
    assert len(calls) == 1
    calls.clear()
    FileStateStore(tmp_path / "t.json").replay_store(None, 1, resume=False).close()
    assert calls == []  # off by default


def test_clear_removes_both_files(tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.save("a9999", 1, 2)
    store.replay_store(None, 1, resume=False).close()
    assert sorted(os.listdir(tmp_path)) == ["s.json", "s.json.sent"]
    store.clear()
    assert os.listdir(tmp_path) == []


# -- a Session with the store: restarts ------------------------------------------------------


def market_state(n: int) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    payload.market_state.market.low = n
    payload.market_state.state = seto_pb2.MARKET_STATUS_OPEN
    return payload


def server_got(loopback) -> list[int]:
    return [
        e.payload.market_state.market.low
        for e in loopback.events
        if isinstance(e, Received) and not is_session_level(e.payload)
    ]


def test_a_restarted_process_replays_what_the_server_missed(make_session, loopback, tmp_path):
    store = FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    session.login()
    session.send(market_state(1))
    original = loopback.send_data
    loopback.send_data = lambda data: None  # written, but lost on the way
    session.send_all([market_state(2), market_state(3)])
    del session  # the process is killed: nothing more is written
    loopback.send_data = original
    loopback.close()
    again = make_session(state_store=store)
    assert (again.session, again.outseq) == ("19999", 5)
    again.login()  # the server finds 3 and 4 missing, asks; the log has them
    again.read_events(timeout=0)
    assert server_got(loopback) == [1, 2, 3]


def test_a_payload_is_on_record_before_it_is_written(make_session, loopback, tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    on_record: list[list[int]] = []
    original = loopback.send_data
    written = FrameDecoder()

    def send_data(data):
        log = FileReplayStore.load(store.sent_path, None, 1)
        seqs = [seto_pb2.Payload.FromString(p).eto_payload.seq for p in written.feed(data)]
        on_record.append([seq for seq in seqs if seq >= log.next_seq])
        log.close()
        original(data)

    loopback.send_data = send_data
    session.login()
    session.send_all([market_state(1), market_state(2)])
    assert len(on_record) >= 2 and all(missing == [] for missing in on_record)


def test_the_log_ahead_of_the_numbers_gives_outseq(make_session, tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.save("a9999", 4, 3)
    sent = store.replay_store(None, 3, resume=False)
    sent.append(3, b"x")
    sent.append(4, None)
    sent.close()  # numbered and on record, then killed before the numbers were saved
    session = make_session(state_store=store)
    assert (session.session, session.inseq, session.outseq) == ("a9999", 4, 5)


def test_a_log_behind_the_numbers_is_not_used(make_session, tmp_path, caplog) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.save("a9999", 4, 9)
    sent = store.replay_store(None, 1, resume=False)
    sent.append(1, b"x")
    sent.close()
    session = make_session(state_store=store)
    assert session.outseq == 9
    assert "below outseq" in caplog.text


def test_a_new_session_starts_a_new_log(make_session, loopback, tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    session.login()
    session.send(market_state(1))
    session.logout()
    assert not store.sent_path.exists() and store.load() is None
    session.login()
    session.send(market_state(2))
    loaded = store.replay_store(None, 1, resume=True)
    assert [seq for seq, _ in loaded.since(1)] == [1, 2]  # the new session's own


def test_saved_inseq_waits_for_the_application(make_session, loopback, tmp_path) -> None:
    """auto_commit False: the saved inseq stays at the oldest payload not processed."""
    store = FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    session.auto_commit = False
    session.login()
    for n in (1, 2, 3):
        loopback.send(market_state(n))
    events = session.read_events()
    seqs = [e.payload.eto_payload.seq for e in events if isinstance(e, Received)]
    assert seqs == [2, 3, 4] and session.inseq == 5
    assert store.load().inseq == 2  # none processed yet
    session.processed(2)
    session.processed(3)
    assert store.load().inseq == 2  # saved once all handed over are done
    session.processed(4)
    assert store.load().inseq == 5
    session.processed(4)  # again, or an unknown seq: ignored
    session.processed(99)


def test_smarkets_saves_inseq_only_after_the_handlers(make_session, loopback, tmp_path):
    store = FileStateStore(tmp_path / "s.json")
    client = smarkets.Smarkets(make_session(state_store=store))
    saved_when_handled: list[int] = []
    client.add_global_handler(
        lambda name, payload: (
            saved_when_handled.append(store.load().inseq) if not is_session_level(payload) else None
        )
    )
    client.login()
    for n in (1, 2):
        loopback.send(market_state(n))
    client.read(2)
    assert saved_when_handled == [2, 2]  # never past a payload whose handler runs
    assert store.load().inseq == 4


def test_a_handler_that_raises_still_counts_as_processed(make_session, loopback, tmp_path):
    store = FileStateStore(tmp_path / "s.json")
    client = smarkets.Smarkets(make_session(state_store=store))

    def boom(message) -> None:
        raise RuntimeError("handler bug")

    client.add_handler("seto.market_state", boom)
    client.login()
    loopback.send(market_state(1))
    with pytest.raises(RuntimeError):
        client.read(1)
    assert store.load().inseq == 3


def test_resume_from_moves_the_resume_point(make_session, loopback, tmp_path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    with pytest.raises(smarkets.Error, match="no session"):
        session.resume_from(1)
    session.login()
    for n in (1, 2, 3):
        loopback.send(market_state(n))
    session.read_events()
    with pytest.raises(smarkets.Error, match="disconnect"):
        session.resume_from(2)
    session.disconnect()
    with pytest.raises(ValueError):
        session.resume_from(0)
    session.resume_from(3)  # the application had applied seq 2 (market 1) only
    assert store.load().inseq == 3
    session.login()
    got = []
    for _ in range(3):
        got += [
            e.payload.market_state.market.low
            for e in session.read_events(timeout=0)
            if isinstance(e, Received) and not is_session_level(e.payload)
        ]
    assert got == [2, 3]
