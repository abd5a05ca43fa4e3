"""Translate the Piqi schemas in ``piqi/`` to ``.proto`` files and build Python modules from them.

The wire schemas of the protocol are written in Piqi (``piqi/eto.piqi``,
``piqi/seto.piqi``), but the Piqi tool is an OCaml program that cannot be
installed everywhere.  This module is a small, self-contained translator for the
part of the Piqi language those files use, following Piqi's own rules (field
naming, automatic code numbering, built-in type mapping, defaults), plus the
pipeline behind ``make proto``.  It is a build tool of the repository, not part of the
installed package; run it from the repository root::

    python tools/piqi_compiler.py --build piqi smarkets/proto   # .piqi -> .proto -> _pb2
    python tools/piqi_compiler.py piqi/seto.piqi                 # print one .proto

Supported: ``.module``, ``.protobuf-package``, ``.import``, ``.alias``, ``.record``
(with ``.field``), ``.enum`` (with ``.option``), ``.code``, ``.default``,
``.protobuf-name``, ``.optional``/``.repeated``/``.required`` and flags (fields
without a type).  Anything else (variants, lists, includes, functions, Piq forms)
is reported as an error rather than silently mistranslated.

Two deliberate differences from ``piqi to-proto``:

* a field without ``.name`` gets the proto name of its *Piqi* type name with
  hyphens turned into underscores (``.type login-response`` -> ``login_response``);
  Piqi itself would use the type's ``.protobuf-name`` (``LoginResponse``);
* only the imports whose types are used are written to the ``.proto`` file, so
  protoc does not warn about unused imports.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from smarkets.errors import Error

__all__ = [
    "BUILTIN_TYPES",
    "DEFAULT_IMPORT_PREFIX",
    "PiqiError",
    "build",
    "main",
    "translate_file",
]

# The logger keeps the name it had inside the package (docs/logging.rst lists it), under
# the project's "smarkets" logger.
log = logging.getLogger("smarkets.piqi_compiler")

#: Where the generated ``.proto`` files live relative to the repository root; an
#: import of module ``eto`` is written ``import "smarkets/proto/eto.proto";``.
DEFAULT_IMPORT_PREFIX = "smarkets/proto/"

#: Piqi built-in types and the protobuf types Piqi maps them to.
BUILTIN_TYPES: dict[str, str] = {
    "bool": "bool",
    "string": "string",
    "binary": "bytes",
    "int": "sint32",
    "uint": "uint32",
    "int32": "sint32",
    "uint32": "uint32",
    "int64": "sint64",
    "uint64": "uint64",
    "int32-fixed": "sfixed32",
    "uint32-fixed": "fixed32",
    "int64-fixed": "sfixed64",
    "uint64-fixed": "fixed64",
    "protobuf-int32": "int32",
    "protobuf-int64": "int64",
    "float": "double",
    "float64": "double",
    "float32": "float",
}

_INT_RANGES: dict[str, tuple[int, int]] = {
    "int32": (-(2**31), 2**31 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "sfixed32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "fixed32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "sint64": (-(2**63), 2**63 - 1),
    "sfixed64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
    "fixed64": (0, 2**64 - 1),
}
_FLOAT_TYPES = frozenset({"double", "float"})

_MAX_FIELD_CODE = 2**29 - 1
_RESERVED_CODES = range(19000, 20000)

# Marks the files this module writes; stale ones (their .piqi is gone) are removed.
_HEADER_MARK = "// Generated from "

_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*\Z")
_TYPENAME_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9_-]*/)?[A-Za-z][A-Za-z0-9-]*\Z")
_MODULE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_PROTO_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PACKAGE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_INT_RE = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|[0-9]+)\Z")
_FLOAT_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")

# Top-level Piqi constructs this translator knows about but does not handle.
_UNSUPPORTED = frozenset({"variant", "list", "include", "function", "extend"})


class PiqiError(Error):
    """A .piqi file is malformed, uses something unsupported, or the build failed.

    ``str()`` gives ``file:line: message`` (``file: message`` when no line applies),
    the format editors and CI logs understand.
    """

    def __init__(self, file: str | Path, line: int | None, message: str) -> None:
        self.file = str(file)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


# ---------------------------------------------------------------------------
# Lexer and parser: Piq text -> a tree of nodes


@dataclass(frozen=True)
class _Token:
    kind: str  # "[", "]", "name" (.foo), "word", "string" or "eof"
    text: str
    line: int
    comment: tuple[str, ...] = ()


@dataclass
class _Node:
    kind: str  # "item" (.foo with an optional value), "word", "string" or "list"
    line: int
    text: str = ""
    value: _Node | None = None
    items: list[_Node] = field(default_factory=list)
    comment: tuple[str, ...] = ()


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_WORD_END = frozenset(' \t\r\n\f\v[]()"%')


def _tokenize(text: str, file: str) -> list[_Token]:
    """Split Piq text into tokens, attaching ``%`` comment blocks to the token after them.

    A block of whole-line comments ending on the line just above a token documents
    that token; comments after code on the same line, or separated from the next
    token by a blank line, document nothing.
    """
    tokens: list[_Token] = []
    pending: list[str] = []
    pending_end = -1
    line = 1
    line_has_code = False
    i, n = 0, len(text)

    def emit(kind: str, value: str, tok_line: int) -> None:
        nonlocal pending
        comment = tuple(pending) if pending and pending_end == tok_line - 1 else ()
        pending = []
        tokens.append(_Token(kind, value, tok_line, comment))

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            line_has_code = False
            i += 1
        elif c.isspace():
            i += 1
        elif c == "%":
            end = text.find("\n", i)
            end = n if end < 0 else end
            body = text[i + 1 : end].rstrip()
            if line_has_code:
                pending = []
            else:
                if not (pending and pending_end == line - 1):
                    pending = []
                pending.append(body[1:] if body.startswith(" ") else body)
                pending_end = line
            i = end
        elif c in "[]":
            line_has_code = True
            emit(c, c, line)
            i += 1
        elif c in "()":
            raise PiqiError(file, line, f'unexpected "{c}": Piq forms (...) are not supported')
        elif c == '"':
            line_has_code = True
            start_line = line
            chars: list[str] = []
            j = i + 1
            while True:
                if j >= n or text[j] == "\n":
                    raise PiqiError(file, start_line, "unterminated string")
                ch = text[j]
                if ch == '"':
                    break
                if ch == "\\":
                    esc = text[j + 1] if j + 1 < n else ""
                    if esc in ("", "\n"):
                        raise PiqiError(file, start_line, "unterminated string")
                    if esc not in _ESCAPES:
                        raise PiqiError(file, line, f"invalid escape \\{esc} in string")
                    chars.append(_ESCAPES[esc])
                    j += 2
                    continue
                chars.append(ch)
                j += 1
            emit("string", "".join(chars), start_line)
            i = j + 1
        else:
            line_has_code = True
            j = i
            while j < n and text[j] not in _WORD_END:
                j += 1
            word = text[i:j]
            i = j
            if word.startswith("."):
                # Piq abbreviation: ".a.b" is ".a (.b)" -- e.g. ".default.open".
                parts = word[1:].split(".")
                if not all(parts):
                    raise PiqiError(file, line, f'invalid name "{word}"')
                for part in parts:
                    emit("name", part, line)
            else:
                emit("word", word, line)
    tokens.append(_Token("eof", "", line))
    return tokens


class _Parser:
    """Build the node tree: ``[ ... ]`` lists, ``.name value`` items and bare values."""

    def __init__(self, tokens: list[_Token], file: str) -> None:
        self._tokens = tokens
        self._pos = 0
        self._file = file

    def _next(self) -> _Token:
        tok = self._tokens[self._pos]
        self._pos += 1
        return tok

    def _peek(self) -> _Token:
        return self._tokens[self._pos]

    def parse(self) -> list[_Node]:
        nodes = []
        while self._peek().kind != "eof":
            nodes.append(self._value())
        return nodes

    def _value(self) -> _Node:
        tok = self._next()
        if tok.kind == "[":
            node = _Node("list", tok.line, comment=tok.comment)
            while self._peek().kind != "]":
                if self._peek().kind == "eof":
                    raise PiqiError(self._file, tok.line, "unclosed [")
                node.items.append(self._value())
            self._next()
            return node
        if tok.kind == "]":
            raise PiqiError(self._file, tok.line, "unexpected ]")
        if tok.kind == "name":
            node = _Node("item", tok.line, text=tok.text, comment=tok.comment)
            following = self._peek()
            if following.kind in ("word", "string", "["):
                node.value = self._value()
            elif following.kind == "name" and tok.text == "default":
                # `.default .some-option`: an enum default is itself written as a name.
                self._next()
                node.value = _Node("item", following.line, text=following.text)
            return node
        return _Node(tok.kind, tok.line, text=tok.text)


# ---------------------------------------------------------------------------
# The schema model


@dataclass(eq=False)
class _Field:
    line: int
    comment: tuple[str, ...]
    name: str
    proto_name: str
    type_ref: str | None  # None: a flag
    mode: str
    code: int | None
    code_line: int
    default: _Node | None
    type: str | _Def | None = None  # resolved: a protobuf scalar type or a record/enum
    # No .name and no .protobuf-name: Piqi then names the field after the proto
    # name of the type it refers to (known only once types are resolved).
    named_by_type: bool = False


@dataclass(eq=False)
class _Option:
    line: int
    comment: tuple[str, ...]
    name: str
    proto_name: str
    code: int | None
    code_line: int


@dataclass(eq=False)
class _Def:
    kind: str  # "record", "enum" or "alias"
    line: int
    comment: tuple[str, ...]
    name: str
    proto_name: str
    module: _Module
    fields: list[_Field] = field(default_factory=list)
    options: list[_Option] = field(default_factory=list)
    type_ref: str = ""  # alias only
    target: str | _Def | None = None  # alias only, resolved: never an alias


@dataclass(eq=False)
class _Module:
    path: Path
    file: str  # the path as shown in error messages
    name: str = ""
    name_line: int | None = None  # where .module is, if it is
    package: str | None = None
    imports: dict[str, _Module] = field(default_factory=dict)
    defs: dict[str, _Def] = field(default_factory=dict)

    def error(self, line: int | None, message: str) -> PiqiError:
        return PiqiError(self.file, line, message)


_KIND_DESCRIPTIONS = {
    "name": "a name",
    "typename": "a type name",
    "module": "a module name",
    "string": "a string",
    "int": "an integer",
    "list": "a list [ ... ]",
    "value": "a value",
}

# Keyword -> kind of value, per construct; a trailing "*" allows repetition.
_TOP_SPEC = {
    "module": "module",
    "protobuf-package": "string",
    "import": "list*",
    "alias": "list*",
    "record": "list*",
    "enum": "list*",
}
_IMPORT_SPEC = {"module": "module", "name": "name"}
_ALIAS_SPEC = {"name": "name", "type": "typename", "protobuf-name": "string"}
_RECORD_SPEC = {"name": "name", "protobuf-name": "string", "field": "list*"}
_FIELD_SPEC = {
    "name": "name",
    "type": "typename",
    "optional": "flag",
    "repeated": "flag",
    "required": "flag",
    "default": "value",
    "code": "int",
    "protobuf-name": "string",
}
_ENUM_SPEC = {"name": "name", "protobuf-name": "string", "option": "list*"}
_OPTION_SPEC = {"name": "name", "code": "int", "protobuf-name": "string"}


class _Items:
    """The checked items of one construct: keyword -> its node (or nodes, if repeatable)."""

    def __init__(self) -> None:
        self.single: dict[str, _Node] = {}
        self.repeated: dict[str, list[_Node]] = {}

    def one(self, keyword: str) -> _Node | None:
        return self.single.get(keyword)

    def many(self, keyword: str) -> list[_Node]:
        return self.repeated.get(keyword, [])

    def text(self, keyword: str) -> str | None:
        """The text of the value of a single-valued keyword, if present."""
        node = self.single.get(keyword)
        return None if node is None or node.value is None else node.value.text


def _describe(node: _Node) -> str:
    if node.kind == "list":
        return "[ ... ]"
    if node.kind == "string":
        return f'string "{node.text}"'
    if node.kind == "item":
        return f".{node.text}"
    return node.text


def _list_items(node: _Node) -> list[_Node]:
    """The items of a construct's ``[ ... ]`` (already checked to be a list)."""
    assert node.value is not None and node.value.kind == "list"
    return node.value.items


def _underscores(name: str) -> str:
    return name.replace("-", "_")


def _parse_int(text: str) -> int:
    return int(text, 16 if text.lstrip("-")[:2].lower() == "0x" else 10)


class _Loader:
    """Load .piqi modules (with their imports), check them and resolve type references."""

    def __init__(self) -> None:
        self._cache: dict[Path, _Module] = {}
        self._loading: list[tuple[Path, str]] = []

    # -- generic checks -------------------------------------------------------

    def _items(self, mod: _Module, nodes: list[_Node], ctx: str, spec: dict[str, str]) -> _Items:
        """Check the items of one construct against ``spec`` (keyword -> kind of value)."""
        found = _Items()
        where = f" in .{ctx}" if ctx else ""
        for node in nodes:
            if node.kind != "item":
                raise mod.error(node.line, f"unexpected {_describe(node)}{where}")
            keyword = node.text
            if keyword not in spec:
                if not ctx and keyword in _UNSUPPORTED:
                    raise mod.error(node.line, f".{keyword} is not supported by this translator")
                raise mod.error(node.line, f"unknown keyword .{keyword}{where}")
            kind = spec[keyword]
            repeated = kind.endswith("*")
            kind = kind.rstrip("*")
            self._check_value(mod, node, kind)
            if repeated:
                found.repeated.setdefault(keyword, []).append(node)
            elif keyword in found.single:
                raise mod.error(node.line, f"duplicate .{keyword}{where}")
            else:
                found.single[keyword] = node
        return found

    def _check_value(self, mod: _Module, node: _Node, kind: str) -> None:
        value = node.value
        if kind == "flag":
            if value is not None:
                raise mod.error(node.line, f".{node.text} takes no value")
            return
        wanted = _KIND_DESCRIPTIONS[kind]
        if value is None:
            raise mod.error(node.line, f".{node.text} needs {wanted}")
        expected_kind = {"string": "string", "list": "list", "value": value.kind}.get(kind, "word")
        ok = value.kind == expected_kind
        if ok and kind == "int":
            ok = _INT_RE.match(value.text) is not None
        if not ok:
            raise mod.error(node.line, f".{node.text} needs {wanted}, not {_describe(value)}")
        if kind == "name" and not _NAME_RE.match(value.text):
            raise mod.error(node.line, f'invalid name "{value.text}"')
        if kind == "typename" and not _TYPENAME_RE.match(value.text):
            raise mod.error(node.line, f'invalid type name "{value.text}"')
        if kind == "module" and not _MODULE_RE.match(value.text):
            raise mod.error(node.line, f'invalid module name "{value.text}"')

    def _proto_name(self, mod: _Module, found: _Items, default: str) -> str:
        name = found.text("protobuf-name")
        if name is None:
            return default
        if not _PROTO_NAME_RE.match(name):
            raise mod.error(found.single["protobuf-name"].line, f'invalid protobuf name "{name}"')
        return name

    def _required_name(self, mod: _Module, node: _Node, found: _Items, ctx: str) -> str:
        name = found.text("name")
        if name is None:
            raise mod.error(node.line, f"missing .name in .{ctx}")
        return name

    # -- loading --------------------------------------------------------------

    def load(self, path: Path, file: str | None = None, expected: str | None = None) -> _Module:
        """Load the module in ``path``; ``expected`` is the module name it is imported as."""
        key = path.resolve()
        if key in self._cache:
            mod = self._cache[key]
        else:
            mod = _Module(path, file if file is not None else str(path))
            log.debug("loading %s", mod.file)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise mod.error(None, f"cannot read file: {exc}") from exc
            nodes = _Parser(_tokenize(text, mod.file), mod.file).parse()
            self._loading.append((key, path.stem))
            try:
                self._interpret(mod, nodes)
            finally:
                self._loading.pop()
            self._cache[key] = mod
        if expected is not None and mod.name != expected:
            raise mod.error(
                mod.name_line, f'module imported as "{expected}" declares .module {mod.name}'
            )
        return mod

    def _interpret(self, mod: _Module, nodes: list[_Node]) -> None:
        found = self._items(mod, nodes, "", _TOP_SPEC)
        module_node = found.one("module")
        if module_node is not None and module_node.value is not None:
            mod.name = module_node.value.text
            mod.name_line = module_node.line
        else:
            mod.name = mod.path.stem
            if not _MODULE_RE.match(mod.name):
                raise mod.error(None, f'invalid module name "{mod.name}" (from the file name)')
        package = found.text("protobuf-package")
        if package is not None:
            if not _PACKAGE_RE.match(package):
                line = found.single["protobuf-package"].line
                raise mod.error(line, f'invalid protobuf package "{package}"')
            mod.package = package

        for node in found.many("import"):
            self._import(mod, node)

        for node in nodes:
            if node.text in ("record", "enum", "alias"):
                definition = getattr(self, f"_{node.text}")(mod, node)
                if definition.name in BUILTIN_TYPES:
                    raise mod.error(
                        node.line, f'"{definition.name}" is a built-in type and cannot be redefined'
                    )
                previous = mod.defs.get(definition.name)
                if previous is not None:
                    raise mod.error(
                        node.line,
                        f'duplicate type definition "{definition.name}" '
                        f"(first defined at line {previous.line})",
                    )
                mod.defs[definition.name] = definition

        for definition in mod.defs.values():
            if definition.kind == "alias":
                self._unalias(definition, ())
        for definition in mod.defs.values():
            if definition.kind == "record":
                self._check_record(definition)
        self._check_proto_names(mod)

    def _import(self, mod: _Module, node: _Node) -> None:
        found = self._items(mod, _list_items(node), "import", _IMPORT_SPEC)
        modname = found.text("module")
        if modname is None:
            raise mod.error(node.line, "missing .module in .import")
        local = found.text("name") or modname
        if local in mod.imports:
            raise mod.error(node.line, f'duplicate import name "{local}"')
        path = mod.path.parent / f"{modname}.piqi"
        file = str(Path(mod.file).parent / f"{modname}.piqi")
        key = path.resolve()
        for index, (loading, _) in enumerate(self._loading):
            if loading == key:
                names = [name for _, name in self._loading[index:]]
                raise mod.error(node.line, f"import cycle: {' -> '.join([*names, modname])}")
        if not path.is_file():
            raise mod.error(node.line, f"import not found: {modname} (no file {file})")
        mod.imports[local] = self.load(path, file, expected=modname)

    def _alias(self, mod: _Module, node: _Node) -> _Def:
        found = self._items(mod, _list_items(node), "alias", _ALIAS_SPEC)
        name = self._required_name(mod, node, found, "alias")
        type_ref = found.text("type")
        if type_ref is None:
            raise mod.error(node.line, "missing .type in .alias")
        proto_name = self._proto_name(mod, found, _underscores(name))
        return _Def("alias", node.line, node.comment, name, proto_name, mod, type_ref=type_ref)

    def _record(self, mod: _Module, node: _Node) -> _Def:
        found = self._items(mod, _list_items(node), "record", _RECORD_SPEC)
        name = self._required_name(mod, node, found, "record")
        proto_name = self._proto_name(mod, found, _underscores(name))
        record = _Def("record", node.line, node.comment, name, proto_name, mod)
        record.fields = [self._field(mod, f) for f in found.many("field")]

        codes = [f.code for f in record.fields]
        if any(c is not None for c in codes) and any(c is None for c in codes):
            raise mod.error(node.line, "codes must be defined for either all or none fields")
        if record.fields and codes[0] is None:
            code = 1
            for f in record.fields:  # Piqi's numbering: 1, 2, 3 ... skipping 19000-19999
                f.code = code
                code = 20000 if code + 1 == 19000 else code + 1
        seen: dict[int, _Field] = {}
        for f in record.fields:
            assert f.code is not None
            if not 1 <= f.code <= _MAX_FIELD_CODE or f.code in _RESERVED_CODES:
                raise mod.error(
                    f.code_line,
                    f"wire code {f.code} is out of allowed range "
                    f"(1..{_MAX_FIELD_CODE}, excluding 19000..19999)",
                )
            if f.code in seen:
                raise mod.error(f.code_line, f"duplicate wire code: {f.code}")
            seen[f.code] = f
        _check_unique(mod, [(f.name, f.line) for f in record.fields], "duplicate field name")
        _check_unique(
            mod, [(f.proto_name, f.line) for f in record.fields], "duplicate protobuf field name"
        )
        return record

    def _field(self, mod: _Module, node: _Node) -> _Field:
        found = self._items(mod, _list_items(node), "field", _FIELD_SPEC)
        modes = [m for m in ("optional", "repeated", "required") if found.one(m)]
        if len(modes) > 1:
            raise mod.error(node.line, f"conflicting modes .{modes[0]} and .{modes[1]}")
        mode = modes[0] if modes else "required"
        type_ref = found.text("type")
        name = found.text("name")
        if name is None:
            if type_ref is None:
                raise mod.error(node.line, "name or type must be specified for a field")
            name = type_ref.rpartition("/")[2]
        default = found.one("default")
        if type_ref is None:  # a flag: present or not
            if mode != "optional":
                raise mod.error(node.line, "flags must be optional")
            if default is not None:
                raise mod.error(default.line, "flags may not specify default")
        if default is not None and mode != "optional":
            raise mod.error(
                default.line, "default values may only be specified for optional fields"
            )
        code = found.text("code")
        named_by_type = found.text("name") is None and found.text("protobuf-name") is None
        return _Field(
            named_by_type=named_by_type,
            line=node.line,
            comment=node.comment,
            name=name,
            proto_name=self._proto_name(mod, found, _underscores(name)),
            type_ref=type_ref,
            mode=mode,
            code=None if code is None else _parse_int(code),
            code_line=found.single["code"].line if code is not None else node.line,
            default=None if default is None else default.value,
        )

    def _enum(self, mod: _Module, node: _Node) -> _Def:
        found = self._items(mod, _list_items(node), "enum", _ENUM_SPEC)
        name = self._required_name(mod, node, found, "enum")
        proto_name = self._proto_name(mod, found, _underscores(name))
        enum = _Def("enum", node.line, node.comment, name, proto_name, mod)
        for option_node in found.many("option"):
            option = self._items(mod, _list_items(option_node), "option", _OPTION_SPEC)
            option_name = self._required_name(mod, option_node, option, "option")
            code = option.text("code")
            enum.options.append(
                _Option(
                    line=option_node.line,
                    comment=option_node.comment,
                    name=option_name,
                    proto_name=self._proto_name(mod, option, _underscores(option_name)),
                    code=None if code is None else _parse_int(code),
                    code_line=option.single["code"].line if code is not None else option_node.line,
                )
            )
        if not enum.options:
            raise mod.error(node.line, f'enum "{name}" has no options')
        codes = [o.code for o in enum.options]
        if any(c is not None for c in codes) and any(c is None for c in codes):
            raise mod.error(node.line, "codes must be defined for either all or none enum options")
        if codes[0] is None:
            for number, option in enumerate(enum.options, start=1):
                option.code = number
        seen: set[int] = set()
        for option in enum.options:
            assert option.code is not None
            if not -(2**31) <= option.code < 2**31:
                raise mod.error(option.code_line, f"enum code {option.code} does not fit in int32")
            if option.code in seen:
                raise mod.error(option.code_line, f"duplicate enum code: {option.code}")
            seen.add(option.code)
        _check_unique(mod, [(o.name, o.line) for o in enum.options], "duplicate option name")
        return enum

    # -- resolution and checks ------------------------------------------------

    def _resolve(self, mod: _Module, ref: str, line: int, seen: tuple[_Def, ...]) -> str | _Def:
        """Resolve a type name to a protobuf scalar type or a record/enum, through aliases."""
        local, _, type_name = ref.rpartition("/")
        if local:
            imported = mod.imports.get(local)
            definition = None if imported is None else imported.defs.get(type_name)
        else:
            definition = mod.defs.get(type_name)
            if definition is None and type_name in BUILTIN_TYPES:
                return BUILTIN_TYPES[type_name]
        if definition is None:
            raise mod.error(line, f'unknown type "{ref}"')
        if definition.kind == "alias":
            return self._unalias(definition, seen)
        return definition

    def _type_proto_name(self, mod: _Module, ref: str) -> str:
        """The proto name of the definition ``ref`` names, without following aliases.

        This is how Piqi names a field that has no ``.name``: after its type's
        ``.protobuf-name`` when it has one (``LoginResponse``), else after the
        type's own name with hyphens as underscores (``login_response``).
        """
        local, _, type_name = ref.rpartition("/")
        defs = mod.imports[local].defs if local else mod.defs
        definition = defs.get(type_name)
        return definition.proto_name if definition is not None else _underscores(type_name)

    def _unalias(self, alias: _Def, seen: tuple[_Def, ...]) -> str | _Def:
        if alias.target is not None:
            return alias.target
        if alias in seen:
            names = [d.name for d in seen[seen.index(alias) :]] + [alias.name]
            raise alias.module.error(alias.line, f"alias cycle: {' -> '.join(names)}")
        alias.target = self._resolve(alias.module, alias.type_ref, alias.line, (*seen, alias))
        return alias.target

    def _check_record(self, record: _Def) -> None:
        mod = record.module
        for f in record.fields:
            if f.type_ref is None:
                f.type = "bool"
            else:
                f.type = self._resolve(mod, f.type_ref, f.line, ())
                if f.named_by_type:
                    f.proto_name = self._type_proto_name(mod, f.type_ref)
            if f.default is not None:
                _check_default(mod, f)

    def _check_proto_names(self, mod: _Module) -> None:
        """Messages, enums and enum values share the package scope in protobuf."""
        names: list[tuple[str, int]] = []
        for definition in mod.defs.values():
            if definition.kind == "enum":
                names.append((definition.proto_name, definition.line))
                names.extend((o.proto_name, o.line) for o in definition.options)
            elif definition.kind == "record" or _is_record_copy(definition):
                names.append((definition.proto_name, definition.line))
        _check_unique(mod, names, "duplicate protobuf name")


def _check_unique(mod: _Module, names: list[tuple[str, int]], what: str) -> None:
    first: dict[str, int] = {}
    for name, line in names:
        if name in first:
            raise mod.error(line, f'{what} "{name}" (first defined at line {first[name]})')
        first[name] = line


def _is_record_copy(definition: _Def) -> bool:
    """Piqi emits an alias of a record as a copy of the record under the alias's name."""
    target = definition.target
    return definition.kind == "alias" and isinstance(target, _Def) and target.kind == "record"


def _check_default(mod: _Module, f: _Field) -> None:
    value = f.default
    assert value is not None
    prefix = f"bad default for field {f.name}"
    t = f.type
    if isinstance(t, _Def):
        if t.kind == "record":
            raise mod.error(value.line, f"{prefix}: records cannot have defaults")
        if value.kind != "item" or value.value is not None:
            raise mod.error(
                value.line, f"{prefix}: expected an option of enum {t.name}, written .option-name"
            )
        if not any(o.name == value.text for o in t.options):
            raise mod.error(value.line, f"{prefix}: enum {t.name} has no option {value.text}")
    elif t == "bool":
        if value.kind != "word" or value.text not in ("true", "false"):
            raise mod.error(value.line, f"{prefix}: expected true or false")
    elif t in ("string", "bytes"):
        if value.kind != "string":
            raise mod.error(value.line, f"{prefix}: expected a string")
    elif t in _FLOAT_TYPES:
        if value.kind != "word" or not (_INT_RE.match(value.text) or _FLOAT_RE.match(value.text)):
            raise mod.error(value.line, f"{prefix}: expected a number")
    else:
        assert t in _INT_RANGES, t
        if value.kind != "word" or not _INT_RE.match(value.text):
            raise mod.error(value.line, f"{prefix}: expected an integer")
        low, high = _INT_RANGES[t]
        if not low <= _parse_int(value.text) <= high:
            raise mod.error(value.line, f"{prefix}: {value.text} is out of range for {t}")


# ---------------------------------------------------------------------------
# .proto output


def _proto_string(text: str) -> str:
    """A protobuf string literal: printable ASCII as is, everything else as octal bytes."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


class _Emitter:
    """Write one module as proto2 text, collecting the modules its types come from."""

    def __init__(self, mod: _Module) -> None:
        self.mod = mod
        self.used: set[int] = set()

    def type_name(self, t: str | _Def) -> str:
        if isinstance(t, str):
            return t
        if t.module is self.mod:
            return t.proto_name
        self.used.add(id(t.module))
        package = t.module.package
        return f".{package}.{t.proto_name}" if package else t.proto_name

    @staticmethod
    def comment(lines: tuple[str, ...], indent: str) -> list[str]:
        return [f"{indent}//{' ' + text if text else ''}" for text in lines]

    def default(self, f: _Field) -> str:
        value = f.default
        if value is None:
            return ""
        if isinstance(f.type, _Def):  # an enum: the option's proto name
            literal = next(o.proto_name for o in f.type.options if o.name == value.text)
        elif value.kind == "string":
            literal = _proto_string(value.text)
        elif _INT_RE.match(value.text):  # integers in decimal, also for float fields
            literal = str(_parse_int(value.text))
        else:
            literal = value.text
        return f" [default = {literal}]"

    def message(self, record: _Def, name: str, comment: tuple[str, ...]) -> list[str]:
        lines = self.comment(comment, "")
        if not record.fields:
            return [*lines, f"message {name} {{}}"]
        lines.append(f"message {name} {{")
        for f in sorted(record.fields, key=lambda f: f.code or 0):
            assert f.type is not None
            lines.extend(self.comment(f.comment, "  "))
            lines.append(
                f"  {f.mode} {self.type_name(f.type)} {f.proto_name} = {f.code}{self.default(f)};"
            )
        lines.append("}")
        return lines

    def enum(self, enum: _Def) -> list[str]:
        lines = self.comment(enum.comment, "")
        lines.append(f"enum {enum.proto_name} {{")
        for option in enum.options:
            lines.extend(self.comment(option.comment, "  "))
            lines.append(f"  {option.proto_name} = {option.code};")
        lines.append("}")
        return lines

    def render(self, import_prefix: str, source_name: str) -> str:
        blocks: list[list[str]] = []
        for definition in self.mod.defs.values():
            if definition.kind == "record":
                blocks.append(self.message(definition, definition.proto_name, definition.comment))
            elif definition.kind == "enum":
                blocks.append(self.enum(definition))
            elif _is_record_copy(definition):
                assert isinstance(definition.target, _Def)
                blocks.append(
                    self.message(definition.target, definition.proto_name, definition.comment)
                )
        out = [
            f"{_HEADER_MARK}{source_name} by `make proto` (tools/piqi_compiler.py).",
            "// Do not edit: change the .piqi file and run `make proto` again.",
            "",
            'syntax = "proto2";',
            "",
        ]
        if self.mod.package:
            out += [f"package {self.mod.package};", ""]
        imported = _imported_modules(self.mod)
        imports = [m for m in imported if id(m) in self.used]
        if imports:
            out += [f'import "{import_prefix}{m.name}.proto";' for m in imports] + [""]
        for block in blocks:
            out += [*block, ""]
        return "\n".join(out[:-1]) + "\n"


def _imported_modules(mod: _Module) -> list[_Module]:
    """Every module reachable through imports, direct ones first, without repeats."""
    result: list[_Module] = []
    queue = list(mod.imports.values())
    while queue:
        current = queue.pop(0)
        if all(current is not m for m in result):
            result.append(current)
            queue.extend(current.imports.values())
    return result


def _source_name(path: Path) -> str:
    """How the header names a .piqi file: ``<its directory>/<file>``, e.g. ``piqi/eto.piqi``."""
    return f"{path.resolve().parent.name}/{path.name}"


def translate_file(
    path: str | Path,
    *,
    proto_import_prefix: str = DEFAULT_IMPORT_PREFIX,
    source_name: str | None = None,
) -> str:
    """Translate one .piqi file (and check its imports) to the text of a proto2 file.

    ``proto_import_prefix`` is prepended to ``<module>.proto`` in import lines;
    ``source_name`` is the file name shown in the header (default ``dir/file.piqi``).
    Raises :class:`PiqiError` on any problem in the file or its imports.
    """
    path = Path(path)
    mod = _Loader().load(path)
    return _Emitter(mod).render(proto_import_prefix, source_name or _source_name(path))


# ---------------------------------------------------------------------------
# The build pipeline: piqi/*.piqi -> smarkets/proto/*.proto -> *_pb2.py, *_pb2.pyi


def _find_root(out_dir: Path, prefix: str, root: Path | None) -> Path:
    parts = [p for p in prefix.split("/") if p]
    out_abs = out_dir.resolve()
    if root is not None:
        ok = out_abs == root.resolve().joinpath(*parts)
    elif parts:
        ok = len(out_abs.parts) > len(parts) and list(out_abs.parts[-len(parts) :]) == parts
        root = out_abs.parents[len(parts) - 1]
    else:
        ok, root = True, out_abs
    if not ok or (prefix and not prefix.endswith("/")):
        raise PiqiError(
            out_dir, None, f'output directory does not match the import prefix "{prefix}"'
        )
    return root.resolve()


def _run_protoc(root: Path, proto_files: list[Path], out_dir: Path) -> None:
    try:
        from grpc_tools import protoc
    except ImportError as exc:
        raise PiqiError(
            out_dir, None, "grpcio-tools is not installed (pip install -e '.[build]')"
        ) from exc
    args = [
        "grpc_tools.protoc",
        f"-I{root}",
        f"--python_out={root}",
        f"--pyi_out={root}",
        *(str(p) for p in proto_files),
    ]
    log.debug("running %s", " ".join(args))
    status = protoc.main(args)
    if status != 0:
        raise PiqiError(out_dir, None, f"protoc failed with exit status {status}")


def build(
    piqi_dir: str | Path,
    out_dir: str | Path,
    proto_import_prefix: str = DEFAULT_IMPORT_PREFIX,
    root: str | Path | None = None,
) -> list[Path]:
    """Translate every ``piqi_dir/*.piqi`` into ``out_dir`` and run protoc on the results.

    ``out_dir`` must be ``root/proto_import_prefix`` so that the generated Python
    modules import each other as the package does (``from smarkets.proto import
    eto_pb2``); ``root`` defaults to ``out_dir`` minus the prefix, so a temporary
    ``tmp/smarkets/proto`` works as well as the real one.  Output is deterministic.
    Generated files whose .piqi source is gone are removed.  Returns the paths of
    every generated file, sorted.
    """
    piqi_dir, out_dir = Path(piqi_dir), Path(out_dir)
    root_path = _find_root(out_dir, proto_import_prefix, None if root is None else Path(root))
    sources = sorted(piqi_dir.glob("*.piqi"))
    if not sources:
        raise PiqiError(piqi_dir, None, "no .piqi files found")

    loader = _Loader()
    texts: dict[str, str] = {}
    origins: dict[str, Path] = {}
    for source in sources:
        mod = loader.load(source)
        if mod.name in texts:
            raise PiqiError(
                source, None, f'module "{mod.name}" is already defined in {origins[mod.name]}'
            )
        origins[mod.name] = source
        texts[mod.name] = _Emitter(mod).render(proto_import_prefix, _source_name(source))

    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(out_dir.glob("*.proto")):
        if stale.stem not in texts and stale.read_text(encoding="utf-8").startswith(_HEADER_MARK):
            for path in (stale, *(out_dir / f"{stale.stem}_pb2{ext}" for ext in (".py", ".pyi"))):
                if path.exists():
                    log.info("removing stale %s", path)
                    path.unlink()

    proto_files = []
    for name, text in sorted(texts.items()):
        path = out_dir / f"{name}.proto"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            log.info("wrote %s", path)
        proto_files.append(path.resolve())
    _run_protoc(root_path, proto_files, out_dir)
    log.info("generated Python modules for %s in %s", ", ".join(sorted(texts)), out_dir)
    return sorted(
        out_dir / f"{name}{suffix}"
        for name in texts
        for suffix in (".proto", "_pb2.py", "_pb2.pyi")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print one .piqi file as .proto, or ``--build`` a whole directory."""
    parser = argparse.ArgumentParser(
        prog="python tools/piqi_compiler.py",
        description="Translate Piqi schemas to .proto and build Python modules from them.",
    )
    parser.add_argument("file", nargs="?", type=Path, help="a .piqi file to print as .proto")
    parser.add_argument(
        "--build",
        nargs=2,
        type=Path,
        metavar=("PIQI_DIR", "OUT_DIR"),
        help="translate PIQI_DIR/*.piqi into OUT_DIR and run protoc",
    )
    parser.add_argument(
        "--import-prefix",
        default=DEFAULT_IMPORT_PREFIX,
        help=f"where the .proto files are, inside the root (default: {DEFAULT_IMPORT_PREFIX})",
    )
    parser.add_argument("--root", type=Path, help="protoc's root (default: OUT_DIR minus prefix)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    args = parser.parse_args(argv)
    if (args.file is None) == (args.build is None):
        parser.error("give either a .piqi file or --build PIQI_DIR OUT_DIR")
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(name)s: %(message)s"
    )
    try:
        if args.build is not None:
            build(*args.build, proto_import_prefix=args.import_prefix, root=args.root)
        else:
            sys.stdout.write(translate_file(args.file, proto_import_prefix=args.import_prefix))
    except PiqiError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
