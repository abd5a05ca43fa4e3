"""The markets file and the default catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smarkets.sandbox.catalogue import (
    CatalogueError,
    MarketSpec,
    default_markets,
    event_id_for,
    load_markets,
    parse_market,
    parse_markets,
)
from smarkets.sandbox.exchange import Exchange

GOOD = {
    "markets": [
        {
            "id": "1c024",
            "name": "Match Odds",
            "event": "A v B",
            "contracts": [{"id": "1cccc", "name": "A"}, {"id": "2cccc", "name": "B"}],
        },
        {
            "id": "fc024",
            "name": "Winner",
            "event": "Cup",
            "event_id": "51100",
            "contracts": [{"id": "10cccc", "name": "X"}],
        },
    ]
}


def market(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(json.dumps(GOOD["markets"][0]))
    obj.update(changes)
    return obj


def test_load_good_file(tmp_path: Path) -> None:
    path = tmp_path / "markets.json"
    path.write_text(json.dumps(GOOD))
    first, second = load_markets(path)
    assert first == MarketSpec(
        1, "Match Odds", event_id_for("A v B"), "A v B", ((1, "A"), (2, "B"))
    )
    assert first.text_id == "1c024" and first.contract_ids() == [1, 2]
    assert (second.id, second.event_id, second.contract_names()) == (15, 5, [(16, "X")])


def test_event_ids_are_derived_deterministically() -> None:
    assert event_id_for("A v B") == event_id_for("A v B") != event_id_for("A v C")
    assert 0 < event_id_for("A v B") < 1 << 48
    one, two = parse_markets(
        {"markets": [market(), market(id="2c024", contracts=[{"id": "5cccc", "name": "Z"}])]}
    )
    assert one.event_id == two.event_id


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "must be an object"),
        (market(id="1cccc"), "expected c024"),
        (market(id=1), "tagged hex"),
        (market(id="zz"), "not a tagged hex"),
        (market(name=""), "name must be a non-empty string"),
        (market(event=None), "missing 'event'"),
        (market(event=5), "event must be"),
        (market(event_id="1c024"), "expected 1100"),
        (market(contracts=[]), "non-empty list"),
        (market(contracts="A"), "non-empty list"),
        (market(contracts=[{"id": "1cccc"}]), "missing 'name'"),
        (market(contracts=[{"id": "1c024", "name": "A"}]), "expected cccc"),
        (market(contracts=[{"id": "1cccc", "name": "A"}, {"id": "1cccc", "name": "B"}]), "twice"),
        (market(contracts=[{"id": "1cccc", "name": "A", "price": 5}]), "unknown key"),
        (market(colour="red"), "unknown key"),
        ({"id": "1c024", "name": "x", "contracts": []}, "missing 'event'"),
    ],
)
def test_bad_market(obj: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_market(obj)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "JSON object"),
        ({"markets": []}, "non-empty list"),
        ({"markets": [], "x": 1}, "unknown top-level"),
        ({"markets": [market(), market()]}, "defined twice"),
        ({"markets": [market(), market(id="2c024")]}, "already in another market"),
        (
            {
                "markets": [
                    market(event_id="11100"),
                    market(
                        id="2c024",
                        event="Other",
                        event_id="11100",
                        contracts=[{"id": "9cccc", "name": "Z"}],
                    ),
                ]
            },
            "is both",
        ),
        ({"markets": [market(), {"id": "2c024"}]}, r"markets\[1\]: missing"),
    ],
)
def test_bad_documents(doc: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_markets(doc)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read markets file"):
        load_markets(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("[1,")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_markets(broken)
    bad = tmp_path / "bad.json"
    bad.write_text('{"markets": [{"id": "x"}]}')
    with pytest.raises(CatalogueError, match=r"bad\.json': markets\[0\]"):
        load_markets(bad)


def test_default_catalogue_opens_on_an_exchange() -> None:
    specs = default_markets()
    assert [spec.text_id for spec in specs] == ["1c024", "2c024", "3c024", "4c024", "5c024"]
    exchange = Exchange()
    for spec in specs:
        exchange.add_market(
            spec.id, spec.name, spec.event_id, spec.event_name, spec.contract_names()
        )
    events = exchange.catalogue().markets.events
    assert [event.name for event in events] == [
        "Arsenal v Chelsea",
        "Alcaraz v Sinner",
        "Grand National",
        "Next General Election",
    ]
    assert len(events[0].markets) == 2
