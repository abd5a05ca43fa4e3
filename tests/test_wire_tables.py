"""The compiled schemas carry every row of the published tables in ``../shared/wire/``.

The tables (eto v0.3.0, seto v0.6.4) are the wire contract of PROTOCOL.md section 3: every
message with every field (name, code, type, label, default) and every enum value. This test
reads them as they are, reaches every message and enum from ``eto.Payload`` and
``seto.Payload`` through the published fields (codes below 100), and checks both ways:
each row holds in the descriptors, and nothing below 100 exists that the tables don't list.
The project's extensions (PROTOCOL.md section 3.2) are numbered from 100 and are left out of
the comparison. A failure names the row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from smarkets.proto import eto_pb2, seto_pb2

WIRE = Path(__file__).resolve().parents[2] / "shared" / "wire"
TABLES = {"eto": WIRE / "eto-0.3.0.tsv", "seto": WIRE / "seto-0.6.4.tsv"}
# Where the walk starts: the payload of each layer, and the catalogue body that an
# http_found URL serves (seto.Events travels over HTTP, not inside a payload).
ROOTS = {
    "eto": [eto_pb2.Payload.DESCRIPTOR],
    "seto": [seto_pb2.Payload.DESCRIPTOR, seto_pb2.Events.DESCRIPTOR],
}
FIRST_EXTENSION_CODE = 100

_SCALARS = {
    getattr(FieldDescriptor, name): name[len("TYPE_") :].lower()
    for name in dir(FieldDescriptor)
    if name.startswith("TYPE_")
}


def _label(field: FieldDescriptor) -> str:
    return "required" if field.is_required else "repeated" if field.is_repeated else "optional"


def _rows(module: str) -> list[dict[str, str]]:
    path = TABLES[module]
    if not path.exists():
        pytest.fail(f"the published table {path} is missing (../shared/wire/ beside the repo)")
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _short(full_name: str) -> str:
    """``smarkets.seto.Uuid128`` -> ``seto.Uuid128``: the tables' spelling."""
    return full_name.removeprefix("smarkets.")


def _reachable(
    roots: list[Descriptor],
) -> tuple[dict[str, Descriptor], dict[str, EnumDescriptor]]:
    """Every message and enum reached from ``roots`` through fields numbered below 100."""
    messages: dict[str, Descriptor] = {}
    enums: dict[str, EnumDescriptor] = {}
    todo = list(roots)
    while todo:
        message = todo.pop()
        name = _short(message.full_name)
        if name in messages:
            continue
        messages[name] = message
        for field in message.fields:
            if field.number >= FIRST_EXTENSION_CODE:
                continue
            if field.message_type is not None:
                todo.append(field.message_type)
            elif field.enum_type is not None:
                enums[_short(field.enum_type.full_name)] = field.enum_type
    return messages, enums


def _type_name(field: FieldDescriptor, module: str) -> str:
    if field.message_type is not None:
        name = _short(field.message_type.full_name)
    elif field.enum_type is not None:
        name = _short(field.enum_type.full_name)
    else:
        return _SCALARS[field.type]
    return name.removeprefix(module + ".")


def _default(field: FieldDescriptor) -> str:
    if not field.has_default_value:
        return ""
    value = field.default_value
    if field.enum_type is not None:
        return field.enum_type.values_by_number[value].name
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _row_id(row: dict[str, str]) -> str:
    return f"{row['kind']} {row['name']}.{row['member']} = {row['code']}"


def _all_rows() -> list:
    return [
        pytest.param(module, row, id=f"{module}:{row['name']}.{row['member']}")
        for module in TABLES
        for row in _rows(module)
    ]


@pytest.mark.parametrize(("module", "row"), _all_rows())
def test_each_published_row_holds(module: str, row: dict[str, str]) -> None:
    messages, enums = _reachable(ROOTS[module])
    name, member, code = row["name"], row["member"], int(row["code"])
    where = f"{TABLES[module].name}: {_row_id(row)}"
    if row["kind"] == "message":
        assert name in messages, f"{where}: no message {name} is reached from {module}.Payload"
        fields = messages[name].fields_by_name
        assert member in fields, f"{where}: {name} has no field {member}"
        field = fields[member]
        assert field.number == code, f"{where}: {name}.{member} is numbered {field.number}"
        assert _type_name(field, module) == row["type"], (
            f"{where}: {name}.{member} is of type {_type_name(field, module)}, not {row['type']}"
        )
        assert _label(field) == row["label"], (
            f"{where}: {name}.{member} is {_label(field)}, not {row['label']}"
        )
        assert _default(field) == row["default"], (
            f"{where}: {name}.{member} defaults to {_default(field)!r}, not {row['default']!r}"
        )
    elif row["kind"] == "enum":
        assert name in enums, f"{where}: no enum {name} is reached from {module}.Payload"
        values = enums[name].values_by_name
        assert member in values, f"{where}: {name} has no value {member}"
        number = values[member].number
        assert number == code, f"{where}: {name}.{member} is {number}"
    else:
        pytest.fail(f"{where}: unknown kind {row['kind']!r}")


@pytest.mark.parametrize("module", sorted(TABLES))
def test_nothing_unpublished_below_100(module: str) -> None:
    listed = {(row["name"], row["member"]) for row in _rows(module)}
    messages, enums = _reachable(ROOTS[module])
    extra = [
        f"message {name}.{field.name} = {field.number}"
        for name, message in messages.items()
        if name.startswith(module + ".")
        for field in message.fields
        if field.number < FIRST_EXTENSION_CODE and (name, field.name) not in listed
    ]
    extra += [
        f"enum {name}.{value.name} = {value.number}"
        for name, enum in enums.items()
        if name.startswith(module + ".")
        for value in enum.values
        if value.number < FIRST_EXTENSION_CODE and (name, value.name) not in listed
    ]
    # A message without fields has no row of its own; it is listed as a field's type.
    tables = {row["name"] for row in _rows(module)} | {
        row["type"] if "." in row["type"] else f"{module}.{row['type']}"
        for row in _rows(module)
        if row["type"]
    }
    extra += [
        f"{kind} {name} (not in the table)"
        for kind, names in (("message", messages), ("enum", enums))
        for name in names
        if name.startswith(module + ".") and name not in tables
    ]
    assert not extra, f"not in {TABLES[module].name}: " + "; ".join(sorted(extra))
