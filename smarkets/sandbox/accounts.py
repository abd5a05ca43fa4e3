"""Sandbox accounts: the accounts file, the default demo accounts, and the credential store.

The accounts file is JSON mapping each account name to its password and opening balance::

    {"alice": {"password": "pw", "balance": 10000000}, ...}

Balances are integers in 1/10,000 of the account currency (10000000 is 1,000.00). Without a
file the sandbox opens :data:`DEFAULT_ACCOUNTS`, whose passwords it prints at start: it is
a sandbox, and the point of these accounts is that anyone can log in to play.

:class:`CredentialStore` keeps only a random salt and a salted scrypt hash per account; the
plaintext password is dropped once hashed. A check hashes the offered password the same way
and compares with :func:`hmac.compare_digest`, so its time does not depend on how much of
the hash matched. An unknown name is checked against a dummy hash, so it takes as long as a
wrong password.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from smarkets.sandbox.jsonfile import load_json_file

__all__ = [
    "DEFAULT_ACCOUNTS",
    "AccountSpec",
    "AccountsError",
    "CredentialStore",
    "check_account_name",
    "email_for",
    "load_accounts",
    "parse_accounts",
]

_log = logging.getLogger(__name__)

#: Longest account name accepted.
MAX_NAME_LENGTH = 64
#: scrypt cost parameters: n=2**13, r=8, p=1 takes ~20 ms and 8 MiB per hash. That is
#: plenty for a sandbox and keeps start-up with a few hundred accounts quick.
SCRYPT_N = 1 << 13
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
#: The domain of the e-mail address a login response carries (reserved, never delivered).
EMAIL_DOMAIN = "sandbox.invalid"


class AccountsError(ValueError):
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


def _check_password(name: str, password: object) -> str:
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
        password = _check_password(name, entry["password"])
        balance = _check_balance(name, entry["balance"])
        specs.append(AccountSpec(name, password, balance))
    return specs


def load_accounts(path: str | os.PathLike[str]) -> list[AccountSpec]:
    """Read and check an accounts file; :class:`AccountsError` naming the file if bad."""
    return load_json_file(path, "accounts", parse_accounts, AccountsError)


def _hash(password: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=max(256 * n * SCRYPT_R, 1 << 25),
        dklen=_HASH_BYTES,
    )


class CredentialStore:
    """Account names with their salted password hashes; checks logins in constant time.

    ``n`` is the scrypt cost (a power of two); tests may lower it to run faster.
    """

    def __init__(self, *, n: int = SCRYPT_N) -> None:
        if n < 2 or n & (n - 1):
            raise ValueError(f"the scrypt cost n must be a power of two >= 2, not {n}")
        self._n = n
        self._entries: dict[str, tuple[bytes, bytes]] = {}
        # Checked against when the name is unknown, so that costs as much as a bad password.
        self._dummy = (os.urandom(_SALT_BYTES), os.urandom(_HASH_BYTES))

    def add(self, name: str, password: str) -> None:
        """Store ``name`` with a fresh salt and the hash of ``password``."""
        check_account_name(name)
        _check_password(name, password)
        if name in self._entries:
            raise AccountsError(f"there is already an account named {name!r}")
        salt = os.urandom(_SALT_BYTES)
        self._entries[name] = (salt, _hash(password, salt, self._n))

    def verify(self, name: str, password: str) -> bool:
        """Whether ``password`` is ``name``'s password (False for an unknown name).

        Anything but two strings (a login's fields may come as bytes when they are not valid
        UTF-8) is simply a wrong password; like an unknown name, it costs a whole hash.
        Safe to call from several threads at once (the sandbox checks logins on workers).
        """
        valid = isinstance(name, str) and isinstance(password, str)
        entry = self._entries.get(name) if valid else None
        salt, expected = entry if entry is not None else self._dummy
        try:
            offered = _hash(password if valid else "", salt, self._n)
        except (TypeError, ValueError, MemoryError):
            return False
        return hmac.compare_digest(offered, expected) and entry is not None

    def remove(self, name: str) -> None:
        """Forget ``name`` (nothing happens if it is unknown)."""
        self._entries.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Every account name, in the order they were added."""
        return list(self._entries)

    def stored(self, name: str) -> tuple[bytes, bytes]:
        """``(salt, hash)`` kept for ``name`` (for tests: nothing else is kept)."""
        return self._entries[name]
