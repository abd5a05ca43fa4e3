"""The accounts file: who may trade on the sandbox, with what password and opening balance.

The accounts file is JSON mapping each account name to its password and opening balance::

    {"alice": {"password": "pw", "balance": 10000000}, ...}

Balances are integers in 1/10,000 of the account currency (10000000 is 1,000.00). Without a
file the sandbox opens :data:`DEFAULT_ACCOUNTS`, whose passwords it prints at start: it is
a sandbox, and the point of these accounts is that anyone can log in to play.

The server opens each account on the exchange (its balance) and in its credential store
(:class:`~smarkets.sandbox.server.credentials.CredentialStore`, which keeps a salted hash of
the password, never the password).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from smarkets.errors import Error
from smarkets.sandbox.exchange.jsonfile import load_json_file

__all__ = [
    "DEFAULT_ACCOUNTS",
    "AccountSpec",
    "AccountsError",
    "check_account_name",
    "check_password",
    "email_for",
    "load_accounts",
    "parse_accounts",
]

#: Longest account name accepted.
MAX_NAME_LENGTH = 64
#: The domain of the e-mail address a login response carries (reserved, never delivered).
EMAIL_DOMAIN = "sandbox.invalid"


class AccountsError(Error, ValueError):
    """An accounts file or account definition is not valid; the message says what and where."""


@dataclass(frozen=True)
class AccountSpec:
    """An account to open: its name, password (never shown in a repr) and opening balance."""

    name: str
    password: str = field(repr=False)
    balance: int


#: The demo accounts opened when no accounts file is given (passwords printed at start).
DEFAULT_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("alice", "alice-pw", 10_000_000),
    AccountSpec("bob", "bob-pw", 10_000_000),
    AccountSpec("carol", "carol-pw", 10_000_000),
    AccountSpec("dave", "dave-pw", 10_000_000),
)


def email_for(name: str) -> str:
    """The e-mail address of an account, as its login response carries it."""
    return f"{name}@{EMAIL_DOMAIN}"


def check_account_name(name: object) -> str:
    """Return ``name`` if it is a usable account name, else raise :class:`AccountsError`.

    Names are non-empty, at most 64 characters, printable and without whitespace (the admin
    console separates its arguments with spaces).
    """
    if not isinstance(name, str) or not name:
        raise AccountsError(f"an account name must be a non-empty string, not {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountsError(f"account name {name[:20]!r}... is longer than {MAX_NAME_LENGTH}")
    if not name.isprintable() or any(ch.isspace() for ch in name):
        raise AccountsError(f"account name {name!r} must be printable, without spaces")
    return name


def check_password(name: str, password: object) -> str:
    """Return ``password`` if it is a usable password, else raise :class:`AccountsError`."""
    if not isinstance(password, str) or not password:
        raise AccountsError(f"account {name!r}: the password must be a non-empty string")
    return password


def _check_balance(name: str, balance: object) -> int:
    if isinstance(balance, bool) or not isinstance(balance, int):
        raise AccountsError(
            f"account {name!r}: the balance must be an integer number of 1/10,000 units,"
            f" not {balance!r}"
        )
    if balance < 0:
        raise AccountsError(f"account {name!r}: the balance must be >= 0, not {balance}")
    return balance


def parse_accounts(doc: Any) -> list[AccountSpec]:
    """Check a decoded accounts document and return its accounts, in file order."""
    if not isinstance(doc, dict):
        raise AccountsError(
            'the accounts must be a JSON object: {"name": {"password": ..., "balance": ...}}'
        )
    if not doc:
        raise AccountsError("no accounts are defined")
    specs = []
    for name, entry in doc.items():
        check_account_name(name)
        if not isinstance(entry, dict):
            raise AccountsError(f"account {name!r}: expected an object with password and balance")
        unknown = sorted(set(entry) - {"password", "balance"})
        if unknown:
            raise AccountsError(f"account {name!r}: unknown key(s) {', '.join(unknown)}")
        if "password" not in entry:
            raise AccountsError(f"account {name!r}: missing 'password'")
        if "balance" not in entry:
            raise AccountsError(f"account {name!r}: missing 'balance'")
        password = check_password(name, entry["password"])
        balance = _check_balance(name, entry["balance"])
        specs.append(AccountSpec(name, password, balance))
    return specs


def load_accounts(path: str | os.PathLike[str]) -> list[AccountSpec]:
    """Read and check an accounts file; :class:`AccountsError` naming the file if bad."""
    return load_json_file(path, "accounts", parse_accounts, AccountsError)
