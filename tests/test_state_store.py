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
