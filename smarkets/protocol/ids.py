"""Ids: 128-bit numbers, carried on the wire as ``Uuid128`` and written as tagged hex.

On the wire an id is ``Uuid128 { low: uint64 = 1; high: uint64 = 2 (default 0) }``, the
number being ``low | high << 64`` (PROTOCOL.md §3.2). People see ids as *tagged hex*: the
number in lowercase hex followed by a 4-hex-digit tag naming what kind of thing it is, so
``'fc024'`` is market 0xf and ``'1cccc'`` is contract 1. The tag lets the library catch an
order id passed where a market id was meant before it goes anywhere near the exchange.

Parsing accepts upper- or lowercase hex and leading zeros; formatting always gives the
canonical form (lowercase, no leading zeros, ``'0c024'`` for market 0).
"""

from __future__ import annotations

import functools
import re

from smarkets.errors import InvalidIdError
from smarkets.proto import seto_pb2

__all__ = [
    "TAGS",
    "IdLike",
    "int_to_uuid128",
    "set_uuid128",
    "str_to_int",
    "str_to_uuid128",
    "to_int",
    "to_uuid128",
    "uuid128_int",
    "uuid128_to_int",
    "uuid128_to_str",
]

#: Kind of id → its 4-hex-digit tag.
TAGS: dict[str, str] = {
    "market": "c024",
    "contract": "cccc",
    "order": "fff0",
    "account": "acc1",
    "event": "1100",
    "session": "9999",
    "user": "0f00",
}

_KINDS_BY_TAG = {tag: kind for kind, tag in TAGS.items()}
_TAG_DIGITS = 4
_LIMIT = 1 << 128
_MASK64 = (1 << 64) - 1
_HEX = re.compile(r"[0-9a-fA-F]+")
_SHOWN_CHARS = 48


def _show(text: str) -> str:
    """repr() of user input for an error message, shortened if it is long."""
    if len(text) > _SHOWN_CHARS:
        return repr(text[:_SHOWN_CHARS]) + f"... ({len(text)} characters)"
    return repr(text)


def _describe_tag(tag: str) -> str:
    """A tag with the kind it stands for, e.g. ``cccc (contract)``."""
    return f"{tag} ({_KINDS_BY_TAG.get(tag, 'unknown kind')})"


def _tag_of(kind: str) -> str:
    """The tag of a kind of id; InvalidIdError naming the valid kinds if there is none."""
    try:
        return TAGS[kind]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(TAGS))
        raise InvalidIdError(f"unknown id kind {kind!r}; valid kinds: {valid}") from None


def _check_range(number: int) -> int:
    """Return ``number`` if it fits in 128 bits unsigned, else raise InvalidIdError."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"an id number must be an int, not {type(number).__name__}")
    if not 0 <= number < _LIMIT:
        raise InvalidIdError(f"id {number} is out of range: ids are 0 <= id < 2**128")
    return number


def int_to_uuid128(n: int) -> seto_pb2.Uuid128:
    """Return the ``Uuid128`` carrying ``n`` (``high`` is set only when it is not 0)."""
    _check_range(n)
    high = n >> 64
    if high:
        return seto_pb2.Uuid128(low=n & _MASK64, high=high)
    return seto_pb2.Uuid128(low=n)


def uuid128_to_int(u: seto_pb2.Uuid128) -> int:
    """Return the number a ``Uuid128`` carries: ``low | high << 64``."""
    if not isinstance(u, seto_pb2.Uuid128):
        raise TypeError(f"expected a Uuid128, not {type(u).__name__}")
    return u.low | u.high << 64


def str_to_int(text: str, strip_tag: bool = True, kind: str | None = None) -> int:
    """Parse a tagged hex id into its number, like :func:`str_to_uuid128`."""
    if not isinstance(text, str):
        raise TypeError(f"a text id must be a str, not {type(text).__name__}")
    expected = _tag_of(kind) if kind is not None else None
    if _HEX.fullmatch(text) is None:
        what = "tagged hex id" if strip_tag or expected else "hex id"
        raise InvalidIdError(f"{_show(text)} is not a {what}")
    if strip_tag or expected is not None:
        if len(text) <= _TAG_DIGITS:
            raise InvalidIdError(
                f"{_show(text)} is too short for a tagged hex id: it needs at least "
                f"{_TAG_DIGITS + 1} hex digits (the number, then a {_TAG_DIGITS}-digit tag)"
            )
        tag = text[-_TAG_DIGITS:].lower()
        if expected is not None and tag != expected:
            raise InvalidIdError(
                f"id {_show(text)} has tag {_describe_tag(tag)}, expected {_describe_tag(expected)}"
            )
    number = int(text[:-_TAG_DIGITS] if strip_tag else text, 16)
    if number >= _LIMIT:
        raise InvalidIdError(f"id {_show(text)} is larger than 128 bits")
    return number


def str_to_uuid128(text: str, strip_tag: bool = True, kind: str | None = None) -> seto_pb2.Uuid128:
    """Parse a tagged hex id such as ``'fc024'`` into a ``Uuid128``.

    By default the last 4 hex digits are the tag and are stripped, whatever kind they name
    (``'fc024'`` gives low 0xf). With ``kind`` given the tag must be that kind's, so a
    contract id cannot pass for a market id. With ``strip_tag=False`` the whole text is the
    number (``'fc024'`` gives 0xfc024); ``kind``, if given, still checks the last 4 digits.
    Raises :class:`~smarkets.errors.InvalidIdError` naming the bad input.
    """
    return int_to_uuid128(str_to_int(text, strip_tag=strip_tag, kind=kind))


def uuid128_to_str(u: seto_pb2.Uuid128 | int, kind: str) -> str:
    """Format an id (a ``Uuid128`` or a number) as tagged hex, e.g. ``(0xf, 'market')`` →
    ``'fc024'``."""
    tag = _tag_of(kind)
    number = _check_range(u) if isinstance(u, int) else uuid128_to_int(u)
    return f"{number:x}{tag}"


def set_uuid128(msg: seto_pb2.Uuid128, n: int) -> None:
    """Write ``n`` into ``msg`` in place (``high`` only when it is not 0); unchecked, for
    the hot paths that build messages from ids known to be valid."""
    msg.low = n & _MASK64
    if n > _MASK64:
        msg.high = n >> 64


def uuid128_int(msg: seto_pb2.Uuid128) -> int:
    """The number ``msg`` carries (``low | high << 64``); unchecked, for the hot paths that
    read ids off payloads already decoded (:func:`uuid128_to_int` checks the type)."""
    return msg.low | msg.high << 64


#: An id as a caller may give it: a ``Uuid128``, tagged hex text, or the number itself.
IdLike = seto_pb2.Uuid128 | str | int


@functools.lru_cache(maxsize=1024)
def _tagged_int(text: str, kind: str) -> int:
    # Remembered: a script names the same few markets and contracts in order after order
    # (an error is raised, never remembered).
    return str_to_int(text, kind=kind)


def to_int(value: IdLike, kind: str) -> int:
    """The number of an id of ``kind`` given as a ``Uuid128``, tagged hex (its tag checked)
    or an ``int`` (its range checked): the one place an id given by a caller is read."""
    if isinstance(value, seto_pb2.Uuid128):
        return value.low | value.high << 64
    if isinstance(value, str):
        return _tagged_int(value, kind)
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_range(value)
    raise TypeError(f"a {kind} id must be a Uuid128, tagged hex or an int, not {value!r}")


def to_uuid128(value: IdLike, kind: str) -> seto_pb2.Uuid128:
    """:func:`to_int`, as a new ``Uuid128`` (a given one is copied, never shared)."""
    msg = seto_pb2.Uuid128()
    set_uuid128(msg, to_int(value, kind))
    return msg
