"""The sandbox's credentials: salted scrypt hashes, checked in constant time.

:class:`CredentialStore` keeps only a random salt and a salted scrypt hash per account; the
plaintext password is dropped once hashed. A check hashes the offered password the same way
and compares with :func:`hmac.compare_digest`, so its time does not depend on how much of
the hash matched. An unknown name is checked against a dummy hash, so it takes as long as a
wrong password. A check takes about 20 ms: the server runs them off its event loop
(:mod:`~smarkets.sandbox.server.login`).
"""

from __future__ import annotations

import hashlib
import hmac
import os

from smarkets.sandbox.exchange.accounts_file import (
    AccountsError,
    check_account_name,
    check_password,
)

__all__ = ["SCRYPT_N", "CredentialStore"]

#: scrypt cost parameters: n=2**13, r=8, p=1 takes ~20 ms and 8 MiB per hash. That is
#: plenty for a sandbox and keeps start-up with a few hundred accounts quick.
SCRYPT_N = 1 << 13
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32


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
        check_password(name, password)
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
