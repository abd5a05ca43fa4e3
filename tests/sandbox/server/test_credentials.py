"""The credential store: salted scrypt hashes only, checked in constant time."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from smarkets.sandbox.exchange.accounts_file import AccountsError
from smarkets.sandbox.server import credentials
from smarkets.sandbox.server.credentials import CredentialStore


def test_store_keeps_only_salted_hashes() -> None:
    store = CredentialStore(n=16)
    store.add("alice", "secret-pw")
    store.add("bob", "secret-pw")
    salt_a, hash_a = store.stored("alice")
    salt_b, hash_b = store.stored("bob")
    assert len(salt_a) == 16 and len(hash_a) == 32
    assert salt_a != salt_b and hash_a != hash_b  # same password, different salts
    assert b"secret-pw" not in salt_a + hash_a
    assert "secret-pw" not in repr(vars(store))


def test_verify() -> None:
    store = CredentialStore(n=16)
    store.add("alice", "pw")
    assert store.verify("alice", "pw")
    assert not store.verify("alice", "PW")
    assert not store.verify("alice", "")
    assert not store.verify("nobody", "pw")
    assert "alice" in store and "nobody" not in store and len(store) == 1


def test_verify_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(credentials.hmac, "compare_digest", spy)
    store = CredentialStore(n=16)
    store.add("alice", "pw")
    assert store.verify("alice", "pw")
    assert not store.verify("alice", "wrong")
    assert not store.verify("ghost", "pw")  # unknown names are hashed and compared too
    assert len(calls) == 3


def test_default_cost_is_scrypt_2_13() -> None:
    assert credentials.SCRYPT_N == 1 << 13
    with pytest.raises(ValueError):
        CredentialStore(n=1000)


def test_store_refuses_duplicates_and_bad_names() -> None:
    store = CredentialStore(n=16)
    store.add("alice", "pw")
    with pytest.raises(AccountsError):
        store.add("alice", "other")
    for bad in ("", "with space", "x" * 65, "tab\there"):
        with pytest.raises(AccountsError):
            store.add(bad, "pw")
    with pytest.raises(AccountsError):
        store.add("carol", "")
    store.remove("alice")
    assert "alice" not in store
