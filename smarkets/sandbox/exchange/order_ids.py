"""Order ids that no account can guess from its own.

Order ids are 64-bit numbers: a keyed permutation (a four-round Feistel network over
blake2b, keyed with a random secret unless the caller gives the key) of a counter, so they
are unique for the exchange's life, never 0, and carry no visible order.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["OrderIds"]

_MASK32 = (1 << 32) - 1


class OrderIds:
    """Order ids: a keyed permutation of 1, 2, 3 ... over 64 bits (never 0, never repeated).

    A four-round Feistel network whose round function is keyed blake2b: without the key,
    one id says nothing about the next or about another account's. ``key`` (bytes) makes
    the sequence reproducible, for tests; by default it is 32 random bytes (:mod:`secrets`).
    """

    __slots__ = ("_count", "_keys")

    def __init__(self, key: bytes | None = None) -> None:
        key = secrets.token_bytes(32) if key is None else bytes(key)
        self._keys = [hashlib.blake2b(key + bytes([i]), digest_size=32).digest() for i in range(4)]
        self._count = 0

    def _permute(self, value: int) -> int:
        left, right = value >> 32, value & _MASK32
        for key in self._keys:
            digest = hashlib.blake2b(right.to_bytes(4, "big"), digest_size=4, key=key).digest()
            left, right = right, left ^ int.from_bytes(digest, "big")
        return (left << 32) | right

    def next(self) -> int:
        """The next id."""
        while True:
            self._count += 1
            order_id = self._permute(self._count)
            if order_id:
                return order_id
