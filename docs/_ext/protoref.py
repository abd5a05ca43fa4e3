"""Sphinx directive ``protobuf-schema``: the reference of one generated protobuf module.

::

    .. protobuf-schema:: smarkets.proto.eto_pb2

renders every message and enum of that module, in the order of the schema source: for a
message its fields (name, code, type, label, default and comment), for an enum its values
(name, number and comment).

Where each part comes from, so that the page cannot drift from the schemas:

* the structure is the module's own ``DESCRIPTOR``, the one the library runs with;
* the comments (the Piqi comments, which ``make proto`` writes into the generated
  ``.proto`` file as ``//`` comments) are read by running protoc (``grpcio-tools``) on that
  ``.proto`` file with ``--include_source_info``.

The build fails (an error, or a warning under ``-W``) when the ``.proto`` file does not
describe exactly the schema of the module, when a module of ``smarkets/proto/`` is not
rendered anywhere, or when a type reference cannot be resolved. Every message and enum gets
a label ``proto-<full name>`` (e.g. ``proto-smarkets.seto.ordercreate``) for ``:ref:``.
"""

from __future__ import annotations

import importlib
import re
import tempfile
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from google.protobuf import descriptor_pb2
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

# FileDescriptorProto / DescriptorProto / EnumDescriptorProto field numbers, for the
# paths of SourceCodeInfo locations.
_FILE_MESSAGE, _FILE_ENUM = 4, 5
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_ENUM_VALUE = 2

_FDP = descriptor_pb2.FieldDescriptorProto
_TYPE_NAMES = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in _FDP.Type.items()
    if name not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}
_LABEL_NAMES = {
    _FDP.LABEL_OPTIONAL: "optional",
    _FDP.LABEL_REQUIRED: "required",
    _FDP.LABEL_REPEATED: "repeated",
}
_CODE = re.compile(r"`([^`]+)`")


def label_for(full_name: str) -> str:
    """The ``:ref:`` label of a message or enum, e.g. ``proto-smarkets.seto.ordercreate``."""
    return nodes.fully_normalize_name(f"proto-{full_name}")


def _module_proto(module: Any) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    return proto


def _root_of(module: Any, proto_name: str) -> Path:
    """protoc's include root: the directory the ``.proto`` file's name is relative to."""
    path = Path(module.__file__).resolve().parent / Path(proto_name).name
    root = path
    for _ in Path(proto_name).parts:
        root = root.parent
    if not (root / proto_name).is_file():
        raise ExtensionError(f"protobuf-schema: {proto_name} not found next to {module.__file__}")
    return root


def _with_source_info(module: Any) -> descriptor_pb2.FileDescriptorProto:
    """The module's ``.proto`` file compiled by protoc, comments included, checked."""
    try:
        from grpc_tools import protoc
    except ImportError as exc:  # pragma: no cover - the docs need the dev extras
        raise ExtensionError(
            "protobuf-schema needs grpcio-tools (pip install -e '.[dev]')"
        ) from exc
    expected = _module_proto(module)
    root = _root_of(module, expected.name)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "schema.pb"
        status = protoc.main(
            [
                "protoc",
                f"-I{root}",
                "--include_source_info",
                f"--descriptor_set_out={out}",
                str(root / expected.name),
            ]
        )
        if status != 0:
            raise ExtensionError(f"protobuf-schema: protoc failed on {expected.name}")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    (compiled,) = [f for f in files if f.name == expected.name]
    bare = descriptor_pb2.FileDescriptorProto()
    bare.CopyFrom(compiled)
    bare.ClearField("source_code_info")
    for message in _all_messages(bare.message_type):
        for field in message.field:
            field.ClearField("json_name")
    if bare != expected:
        raise ExtensionError(
            f"protobuf-schema: {expected.name} and {module.__name__} describe different "
            "schemas; run `make proto`"
        )
    return compiled


def _all_messages(messages: Any) -> Any:
    for message in messages:
        yield message
        yield from _all_messages(message.nested_type)


def _comment_text(location: descriptor_pb2.SourceCodeInfo.Location | None) -> list[str]:
    """A leading (or else trailing) comment as paragraphs of one line each."""
    if location is None:
        return []
    text = location.leading_comments or location.trailing_comments
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _inline(text: str) -> list[nodes.Node]:
    """Comment text as nodes: ```name``` becomes a literal, the rest stays plain text."""
    out: list[nodes.Node] = []
    pos = 0
    for match in _CODE.finditer(text):
        if match.start() > pos:
            out.append(nodes.Text(text[pos : match.start()]))
        out.append(nodes.literal(match.group(1), match.group(1)))
        pos = match.end()
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def _paragraphs(location: Any) -> list[nodes.Node]:
    return [nodes.paragraph("", "", *_inline(text)) for text in _comment_text(location)]


def _short(full_name: str) -> str:
    """``.smarkets.seto.Payload`` -> ``seto.Payload``."""
    return full_name.lstrip(".").removeprefix("smarkets.")


def table(
    headers: list[str],
    widths: list[int],
    rows: list[list[list[nodes.Node]]],
    classes: tuple[str, ...] = (),
) -> nodes.table:
    """A docutils table: a header row, then one row of cells (lists of nodes) per row."""
    result = nodes.table(classes=list(classes))
    group = nodes.tgroup(cols=len(headers))
    result += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for header in headers:
        row += nodes.entry("", nodes.paragraph("", header))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry.extend(cell)
            row += entry
        body += row
    return result


class ProtobufSchema(Directive):
    """``.. protobuf-schema:: package.module_pb2``: every message and enum of the module."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        env = self.state.document.settings.env
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise self.error(f"cannot import {module_name}: {exc}") from exc
        rendered = env.protoref_rendered  # type: ignore[attr-defined]
        if module_name in rendered and rendered[module_name] != env.docname:
            raise self.error(f"{module_name} is already rendered in {rendered[module_name]}")
        rendered[module_name] = env.docname
        proto = _with_source_info(module)
        env.note_dependency(str(_root_of(module, proto.name) / proto.name))
        env.note_dependency(module.__file__)
        self._locations = {tuple(loc.path): loc for loc in proto.source_code_info.location}
        self._package = proto.package

        intro = nodes.paragraph(
            "",
            "",
            nodes.Text("Protobuf package "),
            nodes.literal(proto.package, proto.package),
            nodes.Text(", file "),
            nodes.literal(proto.name, proto.name),
            nodes.Text(f" ({proto.syntax or 'proto2'}), Python module "),
            nodes.literal(module_name, module_name),
            nodes.Text("."),
        )
        out: list[nodes.Node] = [intro]
        definitions: list[tuple[int, nodes.Node]] = []
        for index, message in enumerate(proto.message_type):
            path = (_FILE_MESSAGE, index)
            definitions.append((self._line(path), self._message(message, path, "")))
        for index, enum in enumerate(proto.enum_type):
            path = (_FILE_ENUM, index)
            definitions.append((self._line(path), self._enum(enum, path, "")))
        out.extend(node for _, node in sorted(definitions, key=lambda item: item[0]))
        return out

    def _line(self, path: tuple[int, ...]) -> int:
        location = self._locations.get(path)
        return location.span[0] if location is not None else 0

    def _section(self, kind: str, full_name: str, path: tuple[int, ...]) -> nodes.section:
        label = label_for(full_name)
        section = nodes.section(names=[label])
        title = nodes.title("", "", nodes.literal(_short(full_name), _short(full_name)))
        section += title
        self.state.document.note_explicit_target(section, section)
        section += nodes.paragraph("", "", nodes.emphasis("", kind))
        section.extend(_paragraphs(self._locations.get(path)))
        return section

    def _type_cell(self, field: descriptor_pb2.FieldDescriptorProto) -> list[nodes.Node]:
        if field.type in (_FDP.TYPE_MESSAGE, _FDP.TYPE_ENUM):
            target = field.type_name.lstrip(".")
            ref = addnodes.pending_xref(
                "",
                nodes.literal(_short(target), _short(target)),
                refdomain="std",
                reftype="ref",
                reftarget=label_for(target),
                refexplicit=True,
                refwarn=True,
            )
            return [nodes.paragraph("", "", ref)]
        name = _TYPE_NAMES[field.type]
        return [nodes.paragraph("", "", nodes.literal(name, name))]

    def _message(
        self, message: descriptor_pb2.DescriptorProto, path: tuple[int, ...], parent: str
    ) -> nodes.section:
        full_name = f"{parent or self._package}.{message.name}"
        section = self._section("message", full_name, path)
        rows = []
        for index, field in enumerate(message.field):
            location = self._locations.get((*path, _MESSAGE_FIELD, index))
            default = field.default_value if field.HasField("default_value") else ""
            if default and field.type == _FDP.TYPE_STRING:
                default = f'"{default}"'
            rows.append(
                [
                    [nodes.paragraph("", "", nodes.literal(field.name, field.name))],
                    [nodes.paragraph("", str(field.number))],
                    self._type_cell(field),
                    [nodes.paragraph("", _LABEL_NAMES[field.label])],
                    [nodes.paragraph("", "", nodes.literal(default, default))] if default else [],
                    _paragraphs(location),
                ]
            )
        if rows:
            section += table(
                ["field", "code", "type", "label", "default", "comment"],
                [16, 5, 14, 8, 12, 45],
                rows,
                classes=("protobuf-schema",),
            )
        else:
            section += nodes.paragraph("", "No fields.")
        for index, nested in enumerate(message.nested_type):
            section += self._message(nested, (*path, _MESSAGE_NESTED, index), full_name)
        for index, enum in enumerate(message.enum_type):
            section += self._enum(enum, (*path, _MESSAGE_ENUM, index), full_name)
        return section

    def _enum(
        self, enum: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], parent: str
    ) -> nodes.section:
        full_name = f"{parent or self._package}.{enum.name}"
        section = self._section("enum", full_name, path)
        rows = []
        for index, value in enumerate(enum.value):
            location = self._locations.get((*path, _ENUM_VALUE, index))
            rows.append(
                [
                    [nodes.paragraph("", "", nodes.literal(value.name, value.name))],
                    [nodes.paragraph("", str(value.number))],
                    _paragraphs(location),
                ]
            )
        section += table(
            ["value", "number", "comment"], [40, 8, 52], rows, classes=("protobuf-schema",)
        )
        return section


class ProtobufExtensions(Directive):
    """``.. protobuf-extensions:: a_pb2 b_pb2``: every member numbered from 100, one table.

    The project's extensions to the published schemas (PROTOCOL.md section 3.2): payload
    kinds, fields of published messages and enum values, each with its code, its type and
    its comment, read from the modules as ``protobuf-schema`` reads them.
    """

    required_arguments = 1
    optional_arguments = 10
    has_content = False

    def run(self) -> list[nodes.Node]:
        rows = []
        env = self.state.document.settings.env
        for module_name in self.arguments:
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise self.error(f"cannot import {module_name}: {exc}") from exc
            proto = _with_source_info(module)
            env.note_dependency(module.__file__)
            locations = {tuple(loc.path): loc for loc in proto.source_code_info.location}
            package = _short(proto.package)
            for index, message in enumerate(proto.message_type):
                for number, field in enumerate(message.field):
                    if field.number < _FIRST_EXTENSION_CODE:
                        continue
                    path = (_FILE_MESSAGE, index, _MESSAGE_FIELD, number)
                    where = f"{package}.{message.name}.{field.name}"
                    rows.append(self._row(where, field.number, _type_text(field), locations, path))
            for index, enum in enumerate(proto.enum_type):
                for number, value in enumerate(enum.value):
                    if value.number < _FIRST_EXTENSION_CODE:
                        continue
                    path = (_FILE_ENUM, index, _ENUM_VALUE, number)
                    where = f"{package}.{enum.name}.{value.name}"
                    rows.append(self._row(where, value.number, "enum value", locations, path))
        return [
            table(
                ["member", "code", "type", "comment"],
                [40, 6, 16, 38],
                rows,
                classes=("protobuf-schema",),
            )
        ]

    @staticmethod
    def _row(
        where: str, code: int, kind: str, locations: dict, path: tuple[int, ...]
    ) -> list[list[nodes.Node]]:
        location = locations.get(path)
        comment = _paragraphs(location)
        return [
            [nodes.paragraph("", "", nodes.literal(where, where))],
            [nodes.paragraph("", str(code))],
            [nodes.paragraph("", "", nodes.literal(kind, kind))],
            comment,
        ]


_FIRST_EXTENSION_CODE = 100


def _type_text(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in (_FDP.TYPE_MESSAGE, _FDP.TYPE_ENUM):
        return _short(field.type_name)
    return _TYPE_NAMES[field.type]


def _proto_modules(app: Any) -> list[str]:
    package = app.config.protoref_package
    module = importlib.import_module(package)
    directory = Path(module.__file__).parent
    return sorted(f"{package}.{path.stem}" for path in directory.glob("*_pb2.py"))


def _init(app: Any, env: Any, docnames: Any) -> None:
    if not hasattr(env, "protoref_rendered"):
        env.protoref_rendered = {}


def _purge(app: Any, env: Any, docname: str) -> None:
    rendered = getattr(env, "protoref_rendered", {})
    for name in [name for name, doc in rendered.items() if doc == docname]:
        del rendered[name]


def _merge(app: Any, env: Any, docnames: Any, other: Any) -> None:
    env.protoref_rendered.update(getattr(other, "protoref_rendered", {}))


def _check(app: Any, env: Any) -> None:
    rendered = getattr(env, "protoref_rendered", {})
    for name in _proto_modules(app):
        if name not in rendered:
            logger.warning("protobuf-schema: %s is not rendered on any page", name)


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("protoref_package", "smarkets.proto", "env")
    app.add_directive("protobuf-schema", ProtobufSchema)
    app.add_directive("protobuf-extensions", ProtobufExtensions)
    app.connect("env-before-read-docs", _init)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
