"""The sandbox's market catalogue: the markets file and the default catalogue.

The markets file is JSON::

    {"markets": [
        {"id": "1c024", "name": "Match Odds", "event": "A v B",
         "contracts": [{"id": "1cccc", "name": "A"}, {"id": "2cccc", "name": "B"}]}
    ]}

Ids are tagged hex (PROTOCOL.md section 3.2): markets end in ``c024``, contracts in
``cccc``, events in ``1100``. A market may name its event's id (``"event_id": "51100"``);
without one the id is derived from the event's name (:func:`event_id_for`), so markets
naming the same event land in the same event, and the id is the same on every run. Market
ids are unique, and so are contract ids across the whole catalogue.

Without a file the sandbox opens :func:`default_markets`:

==========  ====================  =========================  ==========================
market      name                  event                      contracts
==========  ====================  =========================  ==========================
``1c024``   Match Odds            Arsenal v Chelsea          ``1cccc`` Arsenal,
                                                             ``2cccc`` Draw,
                                                             ``3cccc`` Chelsea
``2c024``   Over/Under 2.5 Goals  Arsenal v Chelsea          ``4cccc`` Over 2.5,
                                                             ``5cccc`` Under 2.5
``3c024``   Match Winner          Alcaraz v Sinner           ``6cccc`` Alcaraz,
                                                             ``7cccc`` Sinner
``4c024``   Winner                Grand National             ``8cccc`` Red Rum,
                                                             ``9cccc`` Aldaniti,
                                                             ``acccc`` Tiger Roll,
                                                             ``bcccc`` The Field
==========  ====================  =========================  ==========================
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from smarkets.errors import InvalidIdError
from smarkets.ids import str_to_int, uuid128_to_str
from smarkets.sandbox.jsonfile import load_json_file

__all__ = [
    "CatalogueError",
    "MarketSpec",
    "check_unique",
    "default_markets",
    "event_id_for",
    "load_markets",
    "parse_market",
    "parse_markets",
]

_MARKET_KEYS = frozenset({"id", "name", "event", "event_id", "contracts"})
_CONTRACT_KEYS = frozenset({"id", "name"})


class CatalogueError(ValueError):
    """A markets file or market definition is not valid; the message says what and where."""


@dataclass(frozen=True)
class MarketSpec:
    """One market to open: ids are numbers (tags stripped), contracts in order."""

    id: int
    name: str
    event_id: int
    event_name: str
    contracts: tuple[tuple[int, str], ...]

    @property
    def text_id(self) -> str:
        """The market id as tagged hex, e.g. ``'1c024'``."""
        return uuid128_to_str(self.id, "market")

    def contract_ids(self) -> list[int]:
        """The market's contract ids, in order."""
        return [contract_id for contract_id, _ in self.contracts]


def event_id_for(event_name: str) -> int:
    """A deterministic event id for an event given by name only (48 bits of its SHA-256)."""
    digest = hashlib.sha256(event_name.encode("utf-8")).digest()
    return int.from_bytes(digest[:6], "big") or 1


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where} must be a non-empty string, not {value!r}")
    return value


def _id(value: object, kind: str, where: str) -> int:
    if not isinstance(value, str):
        raise CatalogueError(
            f"{where} must be a tagged hex string such as "
            f"{uuid128_to_str(1, kind)!r}, not {value!r}"
        )
    try:
        return str_to_int(value, kind=kind)
    except InvalidIdError as exc:
        raise CatalogueError(f"{where}: {exc}") from None


def parse_market(obj: Any, where: str = "market") -> MarketSpec:
    """Check one market object (as in the markets file) and return its :class:`MarketSpec`."""
    if not isinstance(obj, dict):
        raise CatalogueError(f"{where} must be an object, not {type(obj).__name__}")
    unknown = sorted(set(obj) - _MARKET_KEYS)
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key in ("id", "name", "event", "contracts"):
        if key not in obj:
            raise CatalogueError(f"{where}: missing {key!r}")
    market_id = _id(obj["id"], "market", f"{where}.id")
    name = _text(obj["name"], f"{where}.name")
    event_name = _text(obj["event"], f"{where}.event")
    if obj.get("event_id") is not None:
        event_id = _id(obj["event_id"], "event", f"{where}.event_id")
    else:
        event_id = event_id_for(event_name)
    contracts_obj = obj["contracts"]
    if not isinstance(contracts_obj, list) or not contracts_obj:
        raise CatalogueError(f"{where}.contracts must be a non-empty list")
    contracts: list[tuple[int, str]] = []
    seen: set[int] = set()
    for index, contract in enumerate(contracts_obj):
        cwhere = f"{where}.contracts[{index}]"
        if not isinstance(contract, dict):
            raise CatalogueError(f"{cwhere} must be an object, not {type(contract).__name__}")
        unknown = sorted(set(contract) - _CONTRACT_KEYS)
        if unknown:
            raise CatalogueError(f"{cwhere}: unknown key(s) {', '.join(unknown)}")
        for key in ("id", "name"):
            if key not in contract:
                raise CatalogueError(f"{cwhere}: missing {key!r}")
        contract_id = _id(contract["id"], "contract", f"{cwhere}.id")
        if contract_id in seen:
            raise CatalogueError(f"{cwhere}.id: contract {contract['id']!r} is listed twice")
        seen.add(contract_id)
        contracts.append((contract_id, _text(contract["name"], f"{cwhere}.name")))
    return MarketSpec(market_id, name, event_id, event_name, tuple(contracts))


def parse_markets(doc: Any) -> list[MarketSpec]:
    """Check a decoded markets document and return its markets, in file order.

    Besides each market's own checks: market ids are unique, contract ids are unique across
    the catalogue, and an event id is not given to two different event names.
    """
    if not isinstance(doc, dict) or "markets" not in doc:
        raise CatalogueError('the markets must be a JSON object: {"markets": [...]}')
    unknown = sorted(set(doc) - {"markets"})
    if unknown:
        raise CatalogueError(f"unknown top-level key(s) {', '.join(unknown)}")
    markets_obj = doc["markets"]
    if not isinstance(markets_obj, list) or not markets_obj:
        raise CatalogueError("'markets' must be a non-empty list")
    specs = [parse_market(obj, f"markets[{i}]") for i, obj in enumerate(markets_obj)]
    check_unique(specs)
    return specs


def check_unique(specs: list[MarketSpec]) -> None:
    """Raise :class:`CatalogueError` if ids repeat or an event id has two names."""
    markets: set[int] = set()
    contracts: set[int] = set()
    events: dict[int, str] = {}
    for index, spec in enumerate(specs):
        where = f"markets[{index}]"
        if spec.id in markets:
            raise CatalogueError(f"{where}.id: market {spec.text_id!r} is defined twice")
        markets.add(spec.id)
        for contract_id, _ in spec.contracts:
            if contract_id in contracts:
                text = uuid128_to_str(contract_id, "contract")
                raise CatalogueError(f"{where}: contract {text!r} is already in another market")
            contracts.add(contract_id)
        known = events.setdefault(spec.event_id, spec.event_name)
        if known != spec.event_name:
            text = uuid128_to_str(spec.event_id, "event")
            raise CatalogueError(
                f"{where}.event_id: event {text!r} is both {known!r} and {spec.event_name!r}"
            )


def load_markets(path: str | os.PathLike[str]) -> list[MarketSpec]:
    """Read and check a markets file; :class:`CatalogueError` naming the file if bad."""
    return load_json_file(path, "markets", parse_markets, CatalogueError)


_DEFAULT_DOC: dict[str, Any] = {
    "markets": [
        {
            "id": "1c024",
            "name": "Match Odds",
            "event": "Arsenal v Chelsea",
            "contracts": [
                {"id": "1cccc", "name": "Arsenal"},
                {"id": "2cccc", "name": "Draw"},
                {"id": "3cccc", "name": "Chelsea"},
            ],
        },
        {
            "id": "2c024",
            "name": "Over/Under 2.5 Goals",
            "event": "Arsenal v Chelsea",
            "contracts": [
                {"id": "4cccc", "name": "Over 2.5"},
                {"id": "5cccc", "name": "Under 2.5"},
            ],
        },
        {
            "id": "3c024",
            "name": "Match Winner",
            "event": "Alcaraz v Sinner",
            "contracts": [
                {"id": "6cccc", "name": "Alcaraz"},
                {"id": "7cccc", "name": "Sinner"},
            ],
        },
        {
            "id": "4c024",
            "name": "Winner",
            "event": "Grand National",
            "contracts": [
                {"id": "8cccc", "name": "Red Rum"},
                {"id": "9cccc", "name": "Aldaniti"},
                {"id": "acccc", "name": "Tiger Roll"},
                {"id": "bcccc", "name": "The Field"},
            ],
        },
    ]
}


def default_markets() -> list[MarketSpec]:
    """The catalogue opened when no markets file is given (see the module docstring)."""
    return parse_markets(_DEFAULT_DOC)
