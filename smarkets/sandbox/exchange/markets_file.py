"""The markets file: the sandbox's events and markets, as JSON, read into a :class:`Catalogue`.

The markets file is JSON. Its ``markets`` are the markets to open; its optional ``events``
describe the events they belong to, as the published listing (``seto.Events``) shows them::

    {"events": [
        {"id": "11100", "name": "Premier League", "type": "football_season",
         "category": "football", "start": "2026-08-15", "end": "2027-05-23"},
        {"id": "21100", "name": "Arsenal v Chelsea", "type": "football_match",
         "category": "football", "parent": "11100", "start": "today T15:00"}
     ],
     "markets": [
        {"id": "1c024", "name": "Match Odds", "event_id": "21100",
         "contracts": [{"id": "1cccc", "name": "Arsenal", "type": "winner"},
                       {"id": "2cccc", "name": "Draw"}, {"id": "3cccc", "name": "Chelsea"}]}
     ]}

Ids are tagged hex (PROTOCOL.md section 3.1): markets end in ``c024``, contracts in
``cccc``, events in ``1100``. An event's ``type``, ``category`` and a contract's ``type`` are
the names of the published ``seto.EventType``, ``seto.EventCategory`` and
``seto.ContractType`` values without their prefix, in lower case (``football_match``,
``politics``, ``winner``); they default to ``generic``. ``slug`` (events, markets, contracts)
defaults to the name in lower case with every run of other characters made one ``-``.
``start`` and ``end`` are a date, ``YYYY-MM-DD``, or ``today``, ``today+N``, ``today-N``
(days, resolved when the file is read), with an optional time ``THH:MM`` (UTC); ``parent``
names another event of the file; ``description`` is free text.

Files written before events existed keep working: a market names its event by ``event``
(its name) and optionally ``event_id``; an event the ``events`` list does not describe is a
generic one (type and category ``generic``, no dates), listed under "sport other". Without
an ``event_id`` the id is derived from the event's name
(:func:`~smarkets.sandbox.exchange.catalogue.event_id_for`), so markets
naming the same event land in the same event, and the id is the same on every run. Market
ids are unique, and so are contract ids across the whole catalogue.

Without a file the sandbox opens :func:`default_catalogue` (the documentation's sandbox
page shows it).
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from typing import Any

from smarkets.errors import InvalidIdError
from smarkets.proto import seto_pb2
from smarkets.protocol.ids import str_to_int, uuid128_to_str
from smarkets.sandbox.exchange.catalogue import (
    Catalogue,
    CatalogueError,
    ContractSpec,
    EventSpec,
    MarketSpec,
    event_id_for,
)
from smarkets.sandbox.exchange.jsonfile import load_json_file

__all__ = [
    "default_catalogue",
    "default_markets",
    "load_catalogue",
    "load_markets",
    "parse_catalogue",
    "parse_event",
    "parse_market",
    "parse_markets",
]

_MARKET_KEYS = frozenset({"id", "name", "slug", "event", "event_id", "contracts"})
_CONTRACT_KEYS = frozenset({"id", "name", "slug", "type"})
_EVENT_KEYS = frozenset(
    {"id", "name", "slug", "type", "category", "parent", "start", "end", "description"}
)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where} must be a non-empty string, not {value!r}")
    return value


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str:
    return _text(obj[key], f"{where}.{key}") if obj.get(key) is not None else ""


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


def _enum(value: object, enum: Any, prefix: str, where: str) -> int:
    names = [name[len(prefix) :].lower() for name in enum.keys()]
    if not isinstance(value, str) or value.lower() not in names:
        raise CatalogueError(f"{where} must be one of {', '.join(names)}; not {value!r}")
    return int(enum.Value(prefix + value.upper()))


def _check_keys(obj: Any, allowed: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise CatalogueError(f"{where} must be an object, not {type(obj).__name__}")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return obj


_WHEN = re.compile(
    r"(?:(?P<date>\d{4}-\d{2}-\d{2})|today(?P<offset>[+-]\d{1,5})?)"
    r"(?:\s*[T ]\s*(?P<hour>\d{2}):(?P<minute>\d{2}))?"
)


def _when(
    value: object, today: datetime.date, where: str
) -> tuple[datetime.date, datetime.time | None]:
    """``'2026-12-05'``, ``'today+1'``, ``'today T15:00'`` -> (date, time or None)."""
    match = _WHEN.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise CatalogueError(
            f"{where} must be YYYY-MM-DD or today[+-N], with an optional THH:MM; not {value!r}"
        )
    try:
        if match["date"]:
            date = datetime.date.fromisoformat(match["date"])
        else:
            date = today + datetime.timedelta(days=int(match["offset"] or 0))
        time = (
            datetime.time(int(match["hour"]), int(match["minute"]))
            if match["hour"] is not None
            else None
        )
    except (ValueError, OverflowError) as exc:
        raise CatalogueError(f"{where}: {value!r} is not a valid date and time ({exc})") from None
    return date, time


def parse_event(obj: Any, where: str = "event", today: datetime.date | None = None) -> EventSpec:
    """Check one event object (as in the markets file) and return its :class:`EventSpec`."""
    obj = _check_keys(obj, _EVENT_KEYS, where)
    for key in ("id", "name"):
        if key not in obj:
            raise CatalogueError(f"{where}: missing {key!r}")
    today = today if today is not None else _utc_today()
    start_date = start_time = end_date = end_time = None
    if obj.get("start") is not None:
        start_date, start_time = _when(obj["start"], today, f"{where}.start")
    if obj.get("end") is not None:
        end_date, end_time = _when(obj["end"], today, f"{where}.end")
    if start_date is not None and end_date is not None:
        if (end_date, end_time or datetime.time.max) < (start_date, start_time or datetime.time()):
            raise CatalogueError(f"{where}: the end is before the start")
    return EventSpec(
        id=_id(obj["id"], "event", f"{where}.id"),
        name=_text(obj["name"], f"{where}.name"),
        slug=_optional_text(obj, "slug", where),
        type=_enum(obj.get("type", "generic"), seto_pb2.EventType, "EVENT_", f"{where}.type"),
        category=_enum(
            obj.get("category", "generic"),
            seto_pb2.EventCategory,
            "EVENT_CATEGORY_",
            f"{where}.category",
        ),
        parent=_id(obj["parent"], "event", f"{where}.parent")
        if obj.get("parent") is not None
        else None,
        start_date=start_date,
        start_time=start_time,
        end_date=end_date,
        end_time=end_time,
        description=_optional_text(obj, "description", where) or None,
    )


def parse_market(obj: Any, where: str = "market") -> MarketSpec:
    """Check one market object (as in the markets file) and return its :class:`MarketSpec`.

    It names its event by ``event`` (a name), ``event_id``, or both; an ``event_id`` alone
    must be an event of the catalogue the market is added to.
    """
    obj = _check_keys(obj, _MARKET_KEYS, where)
    for key in ("id", "name", "contracts"):
        if key not in obj:
            raise CatalogueError(f"{where}: missing {key!r}")
    if obj.get("event") is None and obj.get("event_id") is None:
        raise CatalogueError(f"{where}: missing 'event' (the event's name) or 'event_id'")
    market_id = _id(obj["id"], "market", f"{where}.id")
    name = _text(obj["name"], f"{where}.name")
    event_name = _text(obj["event"], f"{where}.event") if obj.get("event") is not None else None
    if obj.get("event_id") is not None:
        event_id = _id(obj["event_id"], "event", f"{where}.event_id")
    else:
        event_id = event_id_for(event_name or "")
    contracts_obj = obj["contracts"]
    if not isinstance(contracts_obj, list) or not contracts_obj:
        raise CatalogueError(f"{where}.contracts must be a non-empty list")
    contracts: list[ContractSpec] = []
    for index, contract in enumerate(contracts_obj):
        cwhere = f"{where}.contracts[{index}]"
        contract = _check_keys(contract, _CONTRACT_KEYS, cwhere)
        for key in ("id", "name"):
            if key not in contract:
                raise CatalogueError(f"{cwhere}: missing {key!r}")
        contract_id = _id(contract["id"], "contract", f"{cwhere}.id")
        contracts.append(
            ContractSpec(
                contract_id,
                _text(contract["name"], f"{cwhere}.name"),
                _optional_text(contract, "slug", cwhere),
                _enum(
                    contract.get("type", "generic"),
                    seto_pb2.ContractType,
                    "CONTRACT_",
                    f"{cwhere}.type",
                ),
            )
        )
    try:
        return MarketSpec(
            market_id,
            name,
            event_id,
            event_name,
            tuple(contracts),
            _optional_text(obj, "slug", where),
        )
    except CatalogueError as exc:  # e.g. a contract id listed twice
        raise CatalogueError(f"{where}: {exc}") from None


def _utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def parse_catalogue(doc: Any, today: datetime.date | None = None) -> Catalogue:
    """Check a decoded markets document and return its :class:`Catalogue`.

    ``today`` (UTC's by default) resolves relative dates. Besides each object's own checks:
    ids are unique (markets, contracts across the catalogue, events), an event id is not
    given to two different names, parents exist and form no cycle.
    """
    if not isinstance(doc, dict) or "markets" not in doc:
        raise CatalogueError('the markets must be a JSON object: {"markets": [...]}')
    unknown = sorted(set(doc) - {"markets", "events"})
    if unknown:
        raise CatalogueError(f"unknown top-level key(s) {', '.join(unknown)}")
    events_obj = doc.get("events", [])
    if not isinstance(events_obj, list):
        raise CatalogueError("'events' must be a list")
    markets_obj = doc["markets"]
    if not isinstance(markets_obj, list) or not markets_obj:
        raise CatalogueError("'markets' must be a non-empty list")
    catalogue = Catalogue()
    events = [parse_event(obj, f"events[{i}]", today) for i, obj in enumerate(events_obj)]
    catalogue.add_events(events, where="events")
    for index, obj in enumerate(markets_obj):
        where = f"markets[{index}]"
        spec = parse_market(obj, where)
        try:
            catalogue.add_market(spec)
        except CatalogueError as exc:
            raise CatalogueError(f"{where}: {exc}") from None
    return catalogue


def parse_markets(doc: Any) -> list[MarketSpec]:
    """The markets of a decoded markets document, in file order (see :func:`parse_catalogue`)."""
    return list(parse_catalogue(doc).markets.values())


def load_catalogue(path: str | os.PathLike[str], today: datetime.date | None = None) -> Catalogue:
    """Read and check a markets file; :class:`CatalogueError` naming the file if bad."""
    return load_json_file(path, "markets", lambda doc: parse_catalogue(doc, today), CatalogueError)


def load_markets(path: str | os.PathLike[str]) -> list[MarketSpec]:
    """The markets of a markets file, in file order (see :func:`load_catalogue`)."""
    return list(load_catalogue(path).markets.values())


#: The default markets file, beside the sandbox package's modules.
_DEFAULT_FILE = Path(__file__).parent.parent / "default_markets.json"


def default_catalogue(today: datetime.date | None = None) -> Catalogue:
    """The catalogue opened when no markets file is given (dates relative to ``today``):
    ``smarkets/sandbox/default_markets.json``, an example of the file format too."""
    return load_catalogue(_DEFAULT_FILE, today)


def default_markets() -> list[MarketSpec]:
    """The markets of :func:`default_catalogue`, in order."""
    return list(default_catalogue().markets.values())
