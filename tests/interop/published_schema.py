"""The published schemas (eto v0.3.0, seto v0.6.4), built at run time from the wire tables.

Nothing here comes from the project: the message classes are made from the rows of
``shared/wire/*.tsv`` (PROTOCOL.md section 3) with ``descriptor_pb2`` and a descriptor pool
of their own, as a client written against the 2013 schemas would have them.

``eto`` and ``seto`` are the two modules: message classes as attributes (``seto.Payload``,
``seto.OrderCreate``) and enum values by name (``seto.SIDE_BUY``, ``eto.PAYLOAD_PING``).
:func:`check_published` tells whether a parsed message holds anything those schemas do not
know (a field, or an enum value, numbered from 100: the project's extensions).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

__all__ = [
    "WIRE_DIR",
    "WIRE_FILES",
    "PublishedModule",
    "Row",
    "UnpublishedContent",
    "build_file_protos",
    "check_published",
    "eto",
    "parse_published",
    "read_rows",
    "seto",
    "unpublished_parts",
]

#: Where the wire tables are: ``shared/wire`` beside the clone (here, and in CI).
WIRE_DIR = Path(__file__).resolve().parents[3] / "shared" / "wire"
#: Module name -> its table, in dependency order (seto imports eto).
WIRE_FILES = {"eto": "eto-0.3.0.tsv", "seto": "seto-0.6.4.tsv"}

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "double": _FDP.TYPE_DOUBLE,
    "float": _FDP.TYPE_FLOAT,
    "int32": _FDP.TYPE_INT32,
    "int64": _FDP.TYPE_INT64,
    "uint32": _FDP.TYPE_UINT32,
    "uint64": _FDP.TYPE_UINT64,
    "sint32": _FDP.TYPE_SINT32,
    "sint64": _FDP.TYPE_SINT64,
    "fixed32": _FDP.TYPE_FIXED32,
    "fixed64": _FDP.TYPE_FIXED64,
    "bool": _FDP.TYPE_BOOL,
    "string": _FDP.TYPE_STRING,
    "bytes": _FDP.TYPE_BYTES,
}
_LABELS = {
    "required": _FDP.LABEL_REQUIRED,
    "optional": _FDP.LABEL_OPTIONAL,
    "repeated": _FDP.LABEL_REPEATED,
}


@dataclass(frozen=True)
class Row:
    """One row of a wire table: a message field or an enum value."""

    kind: str  # "message" or "enum"
    module: str  # "eto" or "seto"
    name: str  # the type's name within its module, e.g. "Payload"
    member: str
    code: int
    type: str
    label: str
    default: str

    @property
    def full_name(self) -> str:
        """The protobuf full name of the row's type, e.g. ``smarkets.seto.Payload``."""
        return f"smarkets.{self.module}.{self.name}"


def read_rows(wire_dir: Path = WIRE_DIR) -> list[Row]:
    """Every row of both tables, in file order (eto first)."""
    rows: list[Row] = []
    for module, filename in WIRE_FILES.items():
        with open(wire_dir / filename, newline="", encoding="utf-8") as f:
            for record in csv.DictReader(f, delimiter="\t"):
                row_module, _, name = record["name"].partition(".")
                if row_module != module:
                    raise ValueError(f"{filename}: {record['name']!r} is not in module {module}")
                rows.append(
                    Row(
                        kind=record["kind"],
                        module=module,
                        name=name,
                        member=record["member"],
                        code=int(record["code"]),
                        type=record["type"] or "",
                        label=record["label"] or "",
                        default=record["default"] or "",
                    )
                )
    return rows


def _resolve(module: str, type_name: str) -> str:
    """The full name of a type written relative to ``module`` (``eto.Payload``, ``Side``)."""
    if "." in type_name:
        return f"smarkets.{type_name}"
    return f"smarkets.{module}.{type_name}"


def build_file_protos(rows: list[Row]) -> list[descriptor_pb2.FileDescriptorProto]:
    """One proto2 FileDescriptorProto per module, seto's depending on eto's.

    A type that is only ever named as a field's type (``orders_for_account_request``) is
    a message with no fields, created in the module that names it.
    """
    kinds: dict[str, str] = {}
    for row in rows:
        kinds.setdefault(row.full_name, row.kind)
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    types: dict[str, Any] = {}  # full name -> DescriptorProto or EnumDescriptorProto
    for module in WIRE_FILES:
        fdp = descriptor_pb2.FileDescriptorProto(
            name=f"published/{module}.proto", package=f"smarkets.{module}", syntax="proto2"
        )
        fdp.dependency.extend(f"published/{m}.proto" for m in list(files))
        files[module] = fdp

    def declare(full_name: str, kind: str) -> Any:
        if full_name not in types:
            module, name = full_name.split(".")[1:]
            fdp = files[module]
            added = fdp.enum_type.add() if kind == "enum" else fdp.message_type.add()
            added.name = name
            types[full_name] = added
        return types[full_name]

    for row in rows:
        declared = declare(row.full_name, row.kind)
        if row.kind == "enum":
            declared.value.add(name=row.member, number=row.code)
            continue
        field = declared.field.add(name=row.member, number=row.code, label=_LABELS[row.label])
        if row.type in _SCALARS:
            field.type = _SCALARS[row.type]
        else:
            target = _resolve(row.module, row.type)
            kind = kinds.get(target, "message")
            declare(target, kind)
            field.type = _FDP.TYPE_ENUM if kind == "enum" else _FDP.TYPE_MESSAGE
            field.type_name = "." + target
        if row.default:
            field.default_value = row.default
    return list(files.values())


class PublishedModule:
    """A published module: message classes and enum values, as attributes."""

    def __init__(self, name: str, pool: descriptor_pool.DescriptorPool) -> None:
        self.name = name
        self.file = pool.FindFileByName(f"published/{name}.proto")
        self.messages: dict[str, type[Message]] = {
            name: message_factory.GetMessageClass(desc)
            for name, desc in self.file.message_types_by_name.items()
        }
        self.enums: dict[str, EnumDescriptor] = dict(self.file.enum_types_by_name)
        self._values = {v.name: v.number for e in self.enums.values() for v in e.values}

    def __getattr__(self, name: str) -> Any:
        if name in self.messages:
            return self.messages[name]
        if name in self._values:
            return self._values[name]
        raise AttributeError(f"published {self.name} has no {name!r}")

    def __repr__(self) -> str:
        return f"<published smarkets.{self.name}>"


def _load() -> tuple[PublishedModule, PublishedModule]:
    pool = descriptor_pool.DescriptorPool()
    for fdp in build_file_protos(read_rows()):
        pool.Add(fdp)
    return PublishedModule("eto", pool), PublishedModule("seto", pool)


eto, seto = _load()


class UnpublishedContent(AssertionError):
    """A payload holds what the published schemas do not know, or lacks a required field."""


def unpublished_parts(msg: Message) -> list[str]:
    """What in ``msg`` is not of the published schema, one line per finding.

    Unknown fields at any depth (in proto2 these include enum values the schema does not
    list: they are kept as unknown varints of the enum field's number), and missing
    required fields.
    """
    found = _unknown_fields(msg, msg.DESCRIPTOR.name)
    found.extend(f"required field {name} missing" for name in msg.FindInitializationErrors())
    return found


def _unknown_fields(msg: Message, where: str) -> list[str]:
    found = [
        f"{where}: unknown field {u.field_number} (wire type {u.wire_type})"
        for u in UnknownFieldSet(msg)
    ]
    for field, value in msg.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.is_repeated:
            for index, item in enumerate(value):
                found.extend(_unknown_fields(item, f"{where}.{field.name}[{index}]"))
        else:
            found.extend(_unknown_fields(value, f"{where}.{field.name}"))
    return found


def check_published(msg: Message) -> None:
    """Raise :class:`UnpublishedContent` unless ``msg`` is published schema only."""
    problems = unpublished_parts(msg)
    if problems:
        raise UnpublishedContent("; ".join(problems))


def parse_published(data: bytes) -> Any:
    """Parse one ``seto.Payload`` and check it holds nothing unpublished."""
    payload = seto.Payload()
    try:
        payload.ParseFromString(data)
    except DecodeError as exc:
        raise UnpublishedContent(f"not a seto.Payload: {exc} ({data[:64].hex()})") from None
    try:
        check_published(payload)
    except UnpublishedContent as exc:
        raise UnpublishedContent(f"{exc} in {data.hex()}") from None
    return payload
