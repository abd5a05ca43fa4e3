"""Sandbox accounts: the accounts file, the demo accounts and the credential store."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from smarkets.sandbox import accounts
from smarkets.sandbox.accounts import (
    DEFAULT_ACCOUNTS,
    AccountsError,
    AccountSpec,
    CredentialStore,
    email_for,
    load_accounts,
    parse_accounts,
)


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

    monkeypatch.setattr(accounts.hmac, "compare_digest", spy)
    store = CredentialStore(n=16)
    store.add("alice", "pw")
    assert store.verify("alice", "pw")
    assert not store.verify("alice", "wrong")
    assert not store.verify("ghost", "pw")  # unknown names are hashed and compared too
    assert len(calls) == 3


def test_default_cost_is_scrypt_2_13() -> None:
    assert accounts.SCRYPT_N == 1 << 13
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


def test_default_accounts() -> None:
    names = [spec.name for spec in DEFAULT_ACCOUNTS]
    assert names == ["alice", "bob", "carol", "dave"]
    assert all(spec.balance == 10_000_000 and spec.password for spec in DEFAULT_ACCOUNTS)
    assert "alice-pw" not in repr(DEFAULT_ACCOUNTS[0])
    assert email_for("alice") == "alice@sandbox.invalid"


def test_load_good_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    doc = {
        "alice": {"password": "pw", "balance": 10_000_000},
        "bob": {"password": "p", "balance": 0},
    }
    path.write_text(json.dumps(doc))
    assert load_accounts(path) == [
        AccountSpec("alice", "pw", 10_000_000),
        AccountSpec("bob", "p", 0),
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "JSON object"),
        ({}, "no accounts"),
        ({"alice": "pw"}, "expected an object"),
        ({"alice": {"balance": 1}}, "missing 'password'"),
        ({"alice": {"password": "pw"}}, "missing 'balance'"),
        ({"alice": {"password": "pw", "balance": 1, "extra": 1}}, "unknown key"),
        ({"alice": {"password": "", "balance": 1}}, "password"),
        ({"alice": {"password": 5, "balance": 1}}, "password"),
        ({"alice": {"password": "pw", "balance": 1.5}}, "integer"),
        ({"alice": {"password": "pw", "balance": True}}, "integer"),
        ({"alice": {"password": "pw", "balance": -1}}, ">= 0"),
        ({"a b": {"password": "pw", "balance": 1}}, "without spaces"),
    ],
)
def test_bad_documents(doc: Any, message: str) -> None:
    with pytest.raises(AccountsError, match=message):
        parse_accounts(doc)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(AccountsError, match="cannot read accounts file"):
        load_accounts(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(AccountsError, match="not valid JSON"):
        load_accounts(broken)
    bad = tmp_path / "bad.json"
    bad.write_text('{"alice": {"password": "pw", "balance": -5}}')
    with pytest.raises(AccountsError, match=r"bad\.json.*>= 0"):
        load_accounts(bad)
