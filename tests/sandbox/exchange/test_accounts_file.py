"""The accounts file and the demo accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smarkets.sandbox.exchange.accounts_file import (
    DEFAULT_ACCOUNTS,
    AccountsError,
    AccountSpec,
    email_for,
    load_accounts,
    parse_accounts,
)


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
