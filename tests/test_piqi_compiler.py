"""The Piqi -> .proto translator: each construct, Piqi's naming and numbering rules, errors."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smarkets.errors import Error
from tools import piqi_compiler
from tools.piqi_compiler import BUILTIN_TYPES, PiqiError, build, main, translate_file

HEADER = (
    "// Generated from piqi/m.piqi by `make proto` (tools/piqi_compiler.py).\n"
    "// Do not edit: change the .piqi file and run `make proto` again.\n"
    "\n"
)


def write(directory: Path, text: str, name: str = "m.piqi") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def body(tmp_path: Path, text: str, **kwargs: str) -> str:
    """The translation of ``text`` without the two header lines and the syntax line."""
    proto = translate_file(write(tmp_path, text), **kwargs)
    head = 'syntax = "proto2";\n\n'
    assert head in proto
    return proto.split(head, 1)[1]


def error(tmp_path: Path, text: str, name: str = "m.piqi") -> str:
    path = write(tmp_path, text, name)
    with pytest.raises(PiqiError) as info:
        translate_file(path)
    return str(info.value)


# ---------------------------------------------------------------------------
# Output format


def test_whole_file(tmp_path: Path) -> None:
    source = """\
% The module's own comment: followed by a blank line, so it documents nothing.

.module m
.protobuf-package "smarkets.m"

% A thing.
.record [
    .name thing
    % Its id.
    .field [ .name id .type uint64 ]
    .field [ .name colour .type colour .optional ]  % a trailing comment
]

.enum [
    .name colour
    .option [ .name red ]
    %
    % Blue, with an empty comment line above.
    .option [ .name light-blue ]
]
"""
    (tmp_path / "piqi").mkdir()
    path = write(tmp_path / "piqi", source)
    assert translate_file(path) == HEADER + (
        'syntax = "proto2";\n'
        "\n"
        "package smarkets.m;\n"
        "\n"
        "// A thing.\n"
        "message thing {\n"
        "  // Its id.\n"
        "  required uint64 id = 1;\n"
        "  optional colour colour = 2;\n"
        "}\n"
        "\n"
        "enum colour {\n"
        "  red = 1;\n"
        "  //\n"
        "  // Blue, with an empty comment line above.\n"
        "  light_blue = 2;\n"
        "}\n"
    )


def test_source_name_and_no_package(tmp_path: Path) -> None:
    proto = translate_file(write(tmp_path, ".record [ .name r ]"), source_name="x/y.piqi")
    assert proto == (
        "// Generated from x/y.piqi by `make proto` (tools/piqi_compiler.py).\n"
        "// Do not edit: change the .piqi file and run `make proto` again.\n"
        "\n"
        'syntax = "proto2";\n'
        "\n"
        "message r {}\n"
    )


def test_translation_is_deterministic(tmp_path: Path) -> None:
    path = write(tmp_path, ".record [ .name r .field [ .name a .type int ] ]")
    assert translate_file(path) == translate_file(path)


def test_empty_record(tmp_path: Path) -> None:
    assert body(tmp_path, ".record [ .name nothing-at-all ]") == "message nothing_at_all {}\n"


def test_empty_file(tmp_path: Path) -> None:
    proto = translate_file(write(tmp_path, "% nothing here\n"))
    assert proto.endswith('\nsyntax = "proto2";\n')


# ---------------------------------------------------------------------------
# Names


def test_names_hyphens_become_underscores(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".record [ .name order-info .field [ .name time-left .type uint-alias ] ]"
        ".alias [ .name uint-alias .type uint ]"
        ".enum [ .name my-enum .option [ .name first-one ] ]",
    ) == (
        "message order_info {\n  required uint32 time_left = 1;\n}\n\n"
        "enum my_enum {\n  first_one = 1;\n}\n"
    )


def test_protobuf_name_overrides(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        '.record [ .name r .protobuf-name "Rec" .field [ .name a .type e .protobuf-name "A_" ] ]'
        '.enum [ .name e .protobuf-name "E" .option [ .name x .protobuf-name "E_X" ] ]',
    ) == ("message Rec {\n  required E A_ = 1;\n}\n\nenum E {\n  E_X = 1;\n}\n")


def test_field_without_name_takes_its_type_proto_name(tmp_path: Path) -> None:
    # As Piqi does: the proto name of the type the field names (its
    # .protobuf-name when it has one), aliases not followed.
    assert body(
        tmp_path,
        '.record [ .name login-response .protobuf-name "LoginResponse" ]'
        ".alias [ .name quantity .type uint64 ]"
        ".record [ .name p .field [ .type login-response .optional ]"
        " .field [ .type quantity ] .field [ .type string .repeated ] ]",
    ) == (
        "message LoginResponse {}\n\n"
        "message p {\n"
        "  optional LoginResponse LoginResponse = 1;\n"
        "  required uint64 quantity = 2;\n"
        "  repeated string string = 3;\n"
        "}\n"
    )


def test_field_without_name_keeps_an_explicit_protobuf_name(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        '.record [ .name login-response .protobuf-name "LoginResponse" ]'
        '.record [ .name p .field [ .type login-response .protobuf-name "resp" .optional ] ]',
    ) == ("message LoginResponse {}\n\nmessage p {\n  optional LoginResponse resp = 1;\n}\n")


def test_field_names_may_repeat_type_names(tmp_path: Path) -> None:
    assert body(tmp_path, ".record [ .name r .field [ .name r .type r .optional ] ]") == (
        "message r {\n  optional r r = 1;\n}\n"
    )


# ---------------------------------------------------------------------------
# Modes, flags and built-in types


def test_modes(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".record [ .name r"
        " .field [ .name a .type int ]"
        " .field [ .name b .type int .required ]"
        " .field [ .name c .type int .optional ]"
        " .field [ .name d .type int .repeated ] ]",
    ) == (
        "message r {\n"
        "  required sint32 a = 1;\n"
        "  required sint32 b = 2;\n"
        "  optional sint32 c = 3;\n"
        "  repeated sint32 d = 4;\n"
        "}\n"
    )


def test_flag(tmp_path: Path) -> None:
    assert body(tmp_path, ".record [ .name r .field [ .name verbose .optional ] ]") == (
        "message r {\n  optional bool verbose = 1;\n}\n"
    )


@pytest.mark.parametrize(("piqi_type", "proto_type"), sorted(BUILTIN_TYPES.items()))
def test_builtin_types(tmp_path: Path, piqi_type: str, proto_type: str) -> None:
    assert body(tmp_path, f".record [ .name r .field [ .name x .type {piqi_type} ] ]") == (
        f"message r {{\n  required {proto_type} x = 1;\n}}\n"
    )


def test_builtin_mapping_is_piqis() -> None:
    assert BUILTIN_TYPES == {
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


# ---------------------------------------------------------------------------
# Codes


def test_fields_are_numbered_in_written_order(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".record [ .name r .field [ .name z .type int ] .field [ .name a .type int ]"
        " .field [ .name m .type int ] ]",
    ) == (
        "message r {\n"
        "  required sint32 z = 1;\n  required sint32 a = 2;\n  required sint32 m = 3;\n}\n"
    )


def test_explicit_codes_are_emitted_in_code_order(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".record [ .name r .field [ .name b .type int .code 20 ]"
        " .field [ .name a .type int .code 3 ] .field [ .name c .type int .code 0x10 ] ]",
    ) == (
        "message r {\n"
        "  required sint32 a = 3;\n  required sint32 c = 16;\n  required sint32 b = 20;\n}\n"
    )


def test_code_limits_are_allowed(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".record [ .name r .field [ .name a .type int .code 536870911 ]"
        " .field [ .name b .type int .code 18999 ] .field [ .name c .type int .code 20000 ] ]",
    ) == (
        "message r {\n"
        "  required sint32 b = 18999;\n"
        "  required sint32 c = 20000;\n"
        "  required sint32 a = 536870911;\n"
        "}\n"
    )


def test_automatic_codes_skip_the_reserved_range(tmp_path: Path) -> None:
    fields = "".join(f".field [ .name f{i} .type bool .optional ]\n" for i in range(19001))
    proto = body(tmp_path, f".record [ .name r\n{fields}]")
    assert "  optional bool f18998 = 18999;\n  optional bool f18999 = 20000;\n" in proto
    assert proto.endswith("  optional bool f19000 = 20001;\n}\n")


def test_enum_options_are_numbered_from_one(tmp_path: Path) -> None:
    assert body(tmp_path, ".enum [ .name e .option [ .name a ] .option [ .name b ] ]") == (
        "enum e {\n  a = 1;\n  b = 2;\n}\n"
    )


def test_enum_codes_keep_the_written_order(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".enum [ .name e .option [ .name a .code 7 ] .option [ .name b .code -1 ]"
        " .option [ .name c .code 0 ] ]",
    ) == ("enum e {\n  a = 7;\n  b = -1;\n  c = 0;\n}\n")


# ---------------------------------------------------------------------------
# Defaults


@pytest.mark.parametrize(
    ("field", "line"),
    [
        (".type int .default -5", "optional sint32 f = 1 [default = -5]"),
        (
            ".type uint64 .default 18446744073709551615",
            "optional uint64 f = 1 [default = 18446744073709551615]",
        ),
        (".type int64 .default 0x10", "optional sint64 f = 1 [default = 16]"),
        (
            ".type int32-fixed .default -2147483648",
            "optional sfixed32 f = 1 [default = -2147483648]",
        ),
        (".type bool .default true", "optional bool f = 1 [default = true]"),
        (".type bool .default false", "optional bool f = 1 [default = false]"),
        (".type float .default 1.5e3", "optional double f = 1 [default = 1.5e3]"),
        (".type float32 .default 2", "optional float f = 1 [default = 2]"),
        ('.type string .default "GBP"', 'optional string f = 1 [default = "GBP"]'),
        (
            r'.type string .default "a\"b\\c\nd\te é"',
            r'optional string f = 1 [default = "a\"b\\c\012d\011e \303\251"]',
        ),
        ('.type binary .default "\\r"', 'optional bytes f = 1 [default = "\\015"]'),
        (".type u .default 3", "optional uint32 f = 1 [default = 3]"),
        (".type e .default .second-one", "optional e f = 1 [default = E_SECOND]"),
        (".type e .default.second-one", "optional e f = 1 [default = E_SECOND]"),
    ],
)
def test_defaults(tmp_path: Path, field: str, line: str) -> None:
    proto = body(
        tmp_path,
        f".record [ .name r .field [ .name f .optional {field} ] ]\n"
        ".alias [ .name u .type uint32 ]\n"
        ".enum [ .name e .option [ .name first ]\n"
        '    .option [ .name second-one .protobuf-name "E_SECOND" ] ]\n',
    )
    assert proto.startswith(f"message r {{\n  {line};\n}}\n")


# ---------------------------------------------------------------------------
# Aliases


def test_alias_of_builtin_and_of_alias_is_not_emitted(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".alias [ .name price .type uint32 ]"
        ".alias [ .name best-price .type price ]"
        ".record [ .name q .field [ .type best-price ] ]",
    ) == ("message q {\n  required uint32 best_price = 1;\n}\n")


def test_alias_defined_after_use(tmp_path: Path) -> None:
    assert body(
        tmp_path, ".record [ .name q .field [ .type money ] ] .alias [ .name money .type int64 ]"
    ) == ("message q {\n  required sint64 money = 1;\n}\n")


def test_alias_of_enum_is_the_enum(tmp_path: Path) -> None:
    assert body(
        tmp_path,
        ".enum [ .name e .option [ .name a ] ]"
        ".alias [ .name e2 .type e ]"
        ".record [ .name r .field [ .name x .type e2 .optional .default .a ] ]",
    ) == ("enum e {\n  a = 1;\n}\n\nmessage r {\n  optional e x = 1 [default = a];\n}\n")


def test_alias_of_record_is_a_copy(tmp_path: Path) -> None:
    # As Piqi does: a message named after the alias, with the record's fields;
    # fields of the alias type still refer to the original record.
    assert body(
        tmp_path,
        '.record [ .name id .protobuf-name "Id" .field [ .name low .type uint64 ] ]\n'
        '% Another id.\n.alias [ .name other-id .type id .protobuf-name "OtherId" ]\n'
        ".alias [ .name third-id .type other-id ]\n"
        ".record [ .name r .field [ .name x .type third-id ] ]\n",
    ) == (
        "message Id {\n  required uint64 low = 1;\n}\n\n"
        "// Another id.\nmessage OtherId {\n  required uint64 low = 1;\n}\n\n"
        "message third_id {\n  required uint64 low = 1;\n}\n\n"
        "message r {\n  required Id x = 1;\n}\n"
    )


# ---------------------------------------------------------------------------
# Imports

ETO = """\
.module eto
.protobuf-package "smarkets.eto"
.record [ .name payload .protobuf-name "Payload" .field [ .name seq .type uint64 ] ]
.alias [ .name seq .type uint64 ]
.enum [ .name kind .option [ .name a ] ]
"""


def test_import(tmp_path: Path) -> None:
    write(tmp_path, ETO, "eto.piqi")
    assert body(
        tmp_path,
        ".module m\n.import [ .module eto ]\n"
        ".record [ .name r .field [ .name p .type eto/payload ]"
        " .field [ .type eto/payload .optional ] .field [ .name s .type eto/seq ]"
        " .field [ .name k .type eto/kind .optional .default .a ] ]",
    ) == (
        'import "smarkets/proto/eto.proto";\n\n'
        "message r {\n"
        "  required .smarkets.eto.Payload p = 1;\n"
        "  optional .smarkets.eto.Payload Payload = 2;\n"
        "  required uint64 s = 3;\n"
        "  optional .smarkets.eto.kind k = 4 [default = a];\n"
        "}\n"
    )


def test_import_with_local_name_and_prefix(tmp_path: Path) -> None:
    write(tmp_path, ETO, "eto.piqi")
    assert body(
        tmp_path,
        ".import [ .module eto .name e ]\n.record [ .name r .field [ .type e/payload ] ]",
        proto_import_prefix="x/",
    ) == (
        'import "x/eto.proto";\n\nmessage r {\n  required .smarkets.eto.Payload Payload = 1;\n}\n'
    )


def test_import_of_module_without_package(tmp_path: Path) -> None:
    write(tmp_path, ".record [ .name t ]", "other.piqi")
    assert body(
        tmp_path, ".import [ .module other ] .record [ .name r .field [ .type other/t ] ]"
    ) == ('import "smarkets/proto/other.proto";\n\nmessage r {\n  required t t = 1;\n}\n')


def test_unused_import_is_not_written(tmp_path: Path) -> None:
    write(tmp_path, ETO, "eto.piqi")
    assert body(
        tmp_path, ".import [ .module eto ] .record [ .name r .field [ .type eto/seq ] ]"
    ) == ("message r {\n  required uint64 seq = 1;\n}\n")


def test_import_through_an_alias(tmp_path: Path) -> None:
    # m uses b/x, an alias of a record of module c: m's .proto must import c.
    write(tmp_path, '.protobuf-package "c" .record [ .name rec ]', "c.piqi")
    write(tmp_path, ".import [ .module c ] .alias [ .name x .type c/rec ]", "b.piqi")
    assert body(tmp_path, ".import [ .module b ] .record [ .name r .field [ .type b/x ] ]") == (
        'import "smarkets/proto/c.proto";\n\nmessage r {\n  required .c.rec x = 1;\n}\n'
    )


def test_diamond_imports_load_once(tmp_path: Path) -> None:
    write(tmp_path, ".record [ .name t ]", "base.piqi")
    write(tmp_path, ".import [ .module base ]", "left.piqi")
    write(tmp_path, ".import [ .module base ]", "right.piqi")
    assert body(
        tmp_path,
        ".import [ .module left ] .import [ .module right ] .import [ .module base ]"
        " .record [ .name r .field [ .type base/t ] ]",
    ) == ('import "smarkets/proto/base.proto";\n\nmessage r {\n  required t t = 1;\n}\n')


# ---------------------------------------------------------------------------
# Lexer details


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30))
def test_string_escapes_round_trip(text: str) -> None:
    quoted = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
    )
    tokens = piqi_compiler._tokenize(f'.protobuf-name "{quoted}"', "f")
    assert [(t.kind, t.text) for t in tokens] == [
        ("name", "protobuf-name"),
        ("string", text),
        ("eof", ""),
    ]


def test_comment_inside_a_string_is_text(tmp_path: Path) -> None:
    assert body(
        tmp_path, '.record [ .name r .field [ .name a .type string .optional .default "50%" ] ]'
    ) == ('message r {\n  optional string a = 1 [default = "50%"];\n}\n')


# ---------------------------------------------------------------------------
# Errors: every message, with its file and line


ERRORS = [
    # syntax
    ('.record [ .name "x ]', 1, "unterminated string"),
    ('.record [\n .name "x\n" ]', 2, "unterminated string"),
    ('.protobuf-package "x\\', 1, "unterminated string"),
    ('.protobuf-package "a\\qb"', 1, "invalid escape \\q in string"),
    (".record [ .name x ] ]", 1, "unexpected ]"),
    ("\n.record [ .name x\n", 2, "unclosed ["),
    (".record ( .name x )", 1, 'unexpected "(": Piq forms (...) are not supported'),
    (".record [ . ]", 1, 'invalid name "."'),
    ("foo", 1, "unexpected foo"),
    ('.record [ .name x "s" ]', 1, 'unexpected string "s" in .record'),
    (".record [ .name x [ ] ]", 1, "unexpected [ ... ] in .record"),
    # keywords and values
    ("\n\n.foo", 3, "unknown keyword .foo"),
    (".record [ .name x .bar 1 ]", 1, "unknown keyword .bar in .record"),
    (
        ".record [ .name x .field [ .name a .type int .doc 1 ] ]",
        1,
        "unknown keyword .doc in .field",
    ),
    (".variant [ .name v ]", 1, ".variant is not supported by this translator"),
    (".record [ .name x .name y ]", 1, "duplicate .name in .record"),
    (".module a\n.module b", 2, "duplicate .module"),
    (".record [ .name ]", 1, ".name needs a name"),
    ('.record [ .name "x" ]', 1, '.name needs a name, not string "x"'),
    (
        ".record [ .name x .field [ .name a .type int .code x ] ]",
        1,
        ".code needs an integer, not x",
    ),
    (
        ".record [ .name x .field [ .name a .type int .code 1.5 ] ]",
        1,
        ".code needs an integer, not 1.5",
    ),
    (".record [ .name x .field [ .name a .type int .optional 1 ] ]", 1, ".optional takes no value"),
    (".record x", 1, ".record needs a list [ ... ], not x"),
    (
        ".record [ .name x .field [ .name a .type int .optional .default ] ]",
        1,
        ".default needs a value",
    ),
    (".protobuf-package pkg", 1, ".protobuf-package needs a string, not pkg"),
    (".record [ .name a_b ]", 1, 'invalid name "a_b"'),
    (".record [ .name x .field [ .type a/b/c ] ]", 1, 'invalid type name "a/b/c"'),
    (".module 1x", 1, 'invalid module name "1x"'),
    ('.protobuf-package "a..b"', 1, 'invalid protobuf package "a..b"'),
    ('.record [ .name x .protobuf-name "1X" ]', 1, 'invalid protobuf name "1X"'),
    # missing parts
    ('.record [ .protobuf-name "X" ]', 1, "missing .name in .record"),
    (".enum [ .option [ .name a ] ]", 1, "missing .name in .enum"),
    (".alias [ .type int ]", 1, "missing .name in .alias"),
    (".enum [ .name e\n .option [ .code 1 ] ]", 2, "missing .name in .option"),
    (".alias [ .name a ]", 1, "missing .type in .alias"),
    (".import [ .name e ]", 1, "missing .module in .import"),
    (".enum [ .name e ]", 1, 'enum "e" has no options'),
    # fields
    (".record [ .name x\n .field [ .optional ] ]", 2, "name or type must be specified for a field"),
    (".record [ .name x .field [ .name f ] ]", 1, "flags must be optional"),
    (
        ".record [ .name x .field [ .name f .optional\n .default true ] ]",
        2,
        "flags may not specify default",
    ),
    (
        ".record [ .name x .field [ .name f .type int .default 1 ] ]",
        1,
        "default values may only be specified for optional fields",
    ),
    (
        ".record [ .name x .field [ .name f .type int .repeated .default 1 ] ]",
        1,
        "default values may only be specified for optional fields",
    ),
    (
        ".record [ .name x .field [ .name f .type int .optional .repeated ] ]",
        1,
        "conflicting modes .optional and .repeated",
    ),
    (
        ".record [ .name x .field [ .name f .type int .optional .optional ] ]",
        1,
        "duplicate .optional in .field",
    ),
    # types and names
    (".record [ .name x\n .field [ .name f .type nope ] ]", 2, 'unknown type "nope"'),
    (".record [ .name x .field [ .name f .type other/t ] ]", 1, 'unknown type "other/t"'),
    (".record [ .name x .field [ .name f .type string/x ] ]", 1, 'unknown type "string/x"'),
    (
        ".record [ .name x ]\n.enum [ .name x .option [ .name a ] ]",
        2,
        'duplicate type definition "x" (first defined at line 1)',
    ),
    (
        ".alias [ .name string .type binary ]",
        1,
        '"string" is a built-in type and cannot be redefined',
    ),
    (
        ".record [ .name x\n .field [ .name a .type int ]\n .field [ .name a .type bool ] ]",
        3,
        'duplicate field name "a" (first defined at line 2)',
    ),
    (
        ".record [ .name x\n .field [ .type int ]\n .field [ .name int .type bool ] ]",
        3,
        'duplicate field name "int" (first defined at line 2)',
    ),
    (
        ".record [ .name x .field [ .name a .type int ]\n"
        ' .field [ .name b .type int .protobuf-name "a" ] ]',
        2,
        'duplicate protobuf field name "a" (first defined at line 1)',
    ),
    (
        ".enum [ .name e\n .option [ .name a ]\n .option [ .name a ] ]",
        3,
        'duplicate option name "a" (first defined at line 2)',
    ),
    (
        ".enum [ .name market-status .option [ .name open ] ]\n"
        ".enum [ .name contract-status .option [ .name open ] ]",
        2,
        'duplicate protobuf name "open" (first defined at line 1)',
    ),
    (
        '.enum [ .name e .option [ .name a ] ]\n.record [ .name r .protobuf-name "e" ]',
        2,
        'duplicate protobuf name "e" (first defined at line 1)',
    ),
    (
        '.record [ .name r ]\n.alias [ .name s .type r .protobuf-name "r" ]',
        2,
        'duplicate protobuf name "r" (first defined at line 1)',
    ),
    (".alias [ .name a .type b ]\n.alias [ .name b .type a ]", 1, "alias cycle: a -> b -> a"),
    (".alias [ .name a .type a ]", 1, "alias cycle: a -> a"),
    (
        ".record [ .name r .field [ .type a ] ]\n.alias [ .name a .type nope ]",
        2,
        'unknown type "nope"',
    ),
    # codes
    (
        ".record [ .name x\n .field [ .name a .type int .code 1 ]\n .field [ .name b .type int ] ]",
        1,
        "codes must be defined for either all or none fields",
    ),
    (
        ".enum [ .name e .option [ .name a ]\n .option [ .name b .code 2 ] ]",
        1,
        "codes must be defined for either all or none enum options",
    ),
    (
        ".record [ .name x .field [ .name a .type int .code 1 ]\n"
        " .field [ .name b .type int\n .code 1 ] ]",
        3,
        "duplicate wire code: 1",
    ),
    *(
        (
            f".record [ .name x\n .field [ .name a .type int .code {code} ] ]",
            2,
            f"wire code {code} is out of allowed range (1..536870911, excluding 19000..19999)",
        )
        for code in (0, -1, 19000, 19999, 536870912)
    ),
    (
        ".enum [ .name e .option [ .name a .code 1 ]\n .option [ .name b .code 1 ] ]",
        2,
        "duplicate enum code: 1",
    ),
    (
        ".enum [ .name e .option [ .name a .code 2147483648 ] ]",
        1,
        "enum code 2147483648 does not fit in int32",
    ),
    (
        ".enum [ .name e .option [ .name a .code -2147483649 ] ]",
        1,
        "enum code -2147483649 does not fit in int32",
    ),
    # defaults
    (
        ".record [ .name r .field [ .name f .type bool .optional .default 1 ] ]",
        1,
        "bad default for field f: expected true or false",
    ),
    (
        '.record [ .name r .field [ .name f .type int .optional .default "1" ] ]',
        1,
        "bad default for field f: expected an integer",
    ),
    (
        ".record [ .name r .field [ .name f .type int .optional .default 1.5 ] ]",
        1,
        "bad default for field f: expected an integer",
    ),
    (
        ".record [ .name r .field [ .name f .type uint32 .optional .default -1 ] ]",
        1,
        "bad default for field f: -1 is out of range for uint32",
    ),
    (
        ".record [ .name r .field [ .name f .type int .optional .default 2147483648 ] ]",
        1,
        "bad default for field f: 2147483648 is out of range for sint32",
    ),
    (
        ".record [ .name r .field [ .name f .type uint64 .optional"
        " .default 18446744073709551616 ] ]",
        1,
        "bad default for field f: 18446744073709551616 is out of range for uint64",
    ),
    (
        ".record [ .name r .field [ .name f .type string .optional .default x ] ]",
        1,
        "bad default for field f: expected a string",
    ),
    (
        ".record [ .name r .field [ .name f .type binary .optional .default 1 ] ]",
        1,
        "bad default for field f: expected a string",
    ),
    (
        ".record [ .name r .field [ .name f .type float .optional .default x ] ]",
        1,
        "bad default for field f: expected a number",
    ),
    (
        ".enum [ .name e .option [ .name a ] ]\n"
        ".record [ .name r .field [ .name f .type e .optional .default .b ] ]",
        2,
        "bad default for field f: enum e has no option b",
    ),
    (
        ".enum [ .name e .option [ .name a ] ]\n"
        ".record [ .name r .field [ .name f .type e .optional .default a ] ]",
        2,
        "bad default for field f: expected an option of enum e, written .option-name",
    ),
    (
        ".record [ .name r .field [ .name f .type r .optional\n .default .x ] ]",
        2,
        "bad default for field f: records cannot have defaults",
    ),
    # imports
    (".import [ .module m ]", 1, "import cycle: m -> m"),
    (".import [ .module m-2 ]\n\n.import [ .module m-2 ]", 3, 'duplicate import name "m-2"'),
]


@pytest.mark.parametrize(("source", "line", "message"), ERRORS)
def test_error(tmp_path: Path, source: str, line: int, message: str) -> None:
    if "m-2" in source:
        write(tmp_path, "", "m-2.piqi")
    assert error(tmp_path, source) == f"{tmp_path / 'm.piqi'}:{line}: {message}"


def test_piqi_error_is_a_smarkets_error() -> None:
    exc = PiqiError("a.piqi", 3, "boom")
    assert isinstance(exc, Error)
    assert (exc.file, exc.line, exc.message, str(exc)) == ("a.piqi", 3, "boom", "a.piqi:3: boom")
    assert str(PiqiError("a.piqi", None, "boom")) == "a.piqi: boom"


def test_error_cannot_read_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.piqi"
    with pytest.raises(PiqiError) as info:
        translate_file(path)
    assert str(info.value).startswith(f"{path}: cannot read file: ")


def test_error_file_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "m.piqi"
    path.write_bytes(b".module \xff")
    with pytest.raises(PiqiError) as info:
        translate_file(path)
    assert str(info.value).startswith(f"{path}: cannot read file: ")


def test_error_module_name_from_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, ".record [ .name r ]", "1bad.piqi")
    with pytest.raises(PiqiError) as info:
        translate_file(path)
    assert str(info.value) == f'{path}: invalid module name "1bad" (from the file name)'


def test_error_import_not_found(tmp_path: Path) -> None:
    assert error(tmp_path, "\n.import [ .module nope ]") == (
        f"{tmp_path / 'm.piqi'}:2: import not found: nope (no file {tmp_path / 'nope.piqi'})"
    )


def test_error_import_cycle(tmp_path: Path) -> None:
    write(tmp_path, ".module b\n.import [ .module m ]", "b.piqi")
    assert error(tmp_path, ".import [ .module b ]") == (
        f"{tmp_path / 'b.piqi'}:2: import cycle: m -> b -> m"
    )


def test_error_imported_module_has_another_name(tmp_path: Path) -> None:
    write(tmp_path, "\n.module other", "b.piqi")
    assert error(tmp_path, ".import [ .module b ]") == (
        f'{tmp_path / "b.piqi"}:2: module imported as "b" declares .module other'
    )


def test_error_in_imported_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, ".record [ .name t\n .field [ .type nope ] ]", "b.piqi")
    assert (
        error(tmp_path, ".import [ .module b ]") == f'{tmp_path / "b.piqi"}:2: unknown type "nope"'
    )


def test_error_unknown_type_in_imported_module(tmp_path: Path) -> None:
    write(tmp_path, ".record [ .name t ]", "b.piqi")
    assert error(tmp_path, ".import [ .module b ]\n.record [ .name r .field [ .type b/u ] ]") == (
        f'{tmp_path / "m.piqi"}:2: unknown type "b/u"'
    )


# ---------------------------------------------------------------------------
# build()


def make_piqi_dir(tmp_path: Path) -> Path:
    piqi = tmp_path / "piqi"
    piqi.mkdir()
    write(piqi, ETO, "eto.piqi")
    write(
        piqi,
        '.module seto\n.protobuf-package "smarkets.seto"\n.import [ .module eto ]\n'
        ".record [ .name payload .field [ .name eto-payload .type eto/payload ] ]\n",
        "seto.piqi",
    )
    return piqi


def test_build(tmp_path: Path) -> None:
    piqi = make_piqi_dir(tmp_path)
    out = tmp_path / "root" / "smarkets" / "proto"
    written = build(piqi, out)
    names = ["eto.proto", "eto_pb2.py", "eto_pb2.pyi", "seto.proto", "seto_pb2.py", "seto_pb2.pyi"]
    assert written == [out / name for name in names]
    assert sorted(p.name for p in out.iterdir()) == names
    seto_proto = (out / "seto.proto").read_text()
    assert seto_proto.startswith("// Generated from piqi/seto.piqi by `make proto`")
    assert 'import "smarkets/proto/eto.proto";' in seto_proto
    seto_py = (out / "seto_pb2.py").read_text()
    assert "from smarkets.proto import eto_pb2" in seto_py
    assert "# source: smarkets/proto/seto.proto" in seto_py
    assert "class payload(_message.Message)" in (out / "seto_pb2.pyi").read_text()

    before = {p.name: p.read_bytes() for p in out.iterdir()}
    build(piqi, out, root=tmp_path / "root")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_build_other_prefix(tmp_path: Path) -> None:
    piqi = make_piqi_dir(tmp_path)
    out = tmp_path / "gen"
    build(piqi, out, proto_import_prefix="gen/")
    assert 'import "gen/eto.proto";' in (out / "seto.proto").read_text()
    assert "from gen import eto_pb2" in (out / "seto_pb2.py").read_text()


def test_build_removes_stale_generated_files(tmp_path: Path) -> None:
    piqi = make_piqi_dir(tmp_path)
    out = tmp_path / "smarkets" / "proto"
    out.mkdir(parents=True)
    (out / "old.proto").write_text("// Generated from piqi/old.piqi by `make proto`\n")
    (out / "old_pb2.py").write_text("")
    (out / "hand.proto").write_text('syntax = "proto2";\n')
    (out / "__init__.py").write_text("")
    build(piqi, out)
    assert not (out / "old.proto").exists()
    assert not (out / "old_pb2.py").exists()
    assert (out / "hand.proto").exists()
    assert (out / "__init__.py").exists()


def test_build_error_no_piqi_files(tmp_path: Path) -> None:
    out = tmp_path / "smarkets" / "proto"
    with pytest.raises(PiqiError) as info:
        build(tmp_path, out)
    assert str(info.value) == f"{tmp_path}: no .piqi files found"


def test_build_error_module_defined_twice(tmp_path: Path) -> None:
    write(tmp_path, ".module a", "a.piqi")
    write(tmp_path, ".module a", "b.piqi")
    with pytest.raises(PiqiError) as info:
        build(tmp_path, tmp_path / "smarkets" / "proto")
    assert (
        str(info.value)
        == f'{tmp_path / "b.piqi"}: module "a" is already defined in {tmp_path / "a.piqi"}'
    )


@pytest.mark.parametrize(
    ("out", "prefix", "root"),
    [
        ("out", "smarkets/proto/", None),
        ("smarkets/proto", "smarkets/proto/", "elsewhere"),
        ("smarkets/proto", "smarkets/proto", None),
    ],
)
def test_build_error_prefix_mismatch(
    tmp_path: Path, out: str, prefix: str, root: str | None
) -> None:
    piqi = make_piqi_dir(tmp_path)
    with pytest.raises(PiqiError) as info:
        build(piqi, tmp_path / out, prefix, None if root is None else tmp_path / root)
    assert str(info.value) == (
        f'{tmp_path / out}: output directory does not match the import prefix "{prefix}"'
    )


def test_build_error_protoc_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grpc_tools import protoc

    monkeypatch.setattr(protoc, "main", lambda args: 1)
    out = tmp_path / "smarkets" / "proto"
    with pytest.raises(PiqiError) as info:
        build(make_piqi_dir(tmp_path), out)
    assert str(info.value) == f"{out}: protoc failed with exit status 1"


def test_build_error_no_grpc_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "grpc_tools", None)
    out = tmp_path / "smarkets" / "proto"
    with pytest.raises(PiqiError) as info:
        build(make_piqi_dir(tmp_path), out)
    assert str(info.value) == f"{out}: grpcio-tools is not installed (pip install -e '.[build]')"


# ---------------------------------------------------------------------------
# Command line


def test_cli_prints_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ".record [ .name r ]")
    assert main([str(path)]) == 0
    assert capsys.readouterr().out == translate_file(path)


def test_cli_build(tmp_path: Path) -> None:
    piqi = make_piqi_dir(tmp_path)
    out = tmp_path / "smarkets" / "proto"
    assert main(["--build", str(piqi), str(out), "-q"]) == 0
    assert (out / "seto_pb2.py").exists()


def test_cli_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, ".record [ .name r .bad ]")
    with caplog.at_level(logging.ERROR, logger="smarkets.piqi_compiler"):
        assert main([str(path)]) == 1
    assert caplog.messages == [f"{path}:1: unknown keyword .bad in .record"]


@pytest.mark.parametrize("argv", [[], ["a.piqi", "--build", "piqi", "out"]])
def test_cli_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "give either a .piqi file or --build PIQI_DIR OUT_DIR" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# What protoc makes of the output

RICH_BASE = """\
.module base
.protobuf-package "rich.base"
.enum [ .name colour .option [ .name red .code 4 ] .option [ .name light-blue .code 9 ] ]
.alias [ .name shade .type colour ]
"""

RICH = """\
.module rich
.protobuf-package "rich.main"
.import [ .module base .name b ]

% Documented.
.record [
    .name everything
    .field [ .name i .type int .optional .default -7 .code 5 ]
    .field [ .name u .type uint64 .optional .default 0xFF .code 1 ]
    .field [ .name d .type float .optional .default 2.5e-1 .code 2 ]
    .field [ .name g .type float32 .optional .default 3 .code 3 ]
    .field [ .name s .type string .optional .default "a\\"b\\\\c\\nd é %" .code 4 ]
    .field [ .name raw .type binary .optional .default "\\t\\r" .code 6 ]
    .field [ .name c .type b/shade .optional .default .light-blue .code 7 ]
    .field [ .name flag .optional .code 8 ]
    .field [ .name copies .type copy .repeated .code 100 ]
]

.alias [ .name copy .type everything .protobuf-name "Copy" ]
"""


def test_output_compiles_to_the_intended_descriptors(tmp_path: Path) -> None:
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc

    piqi = tmp_path / "piqi"
    piqi.mkdir()
    write(piqi, RICH_BASE, "base.piqi")
    write(piqi, RICH, "rich.piqi")
    out = tmp_path / "gen"
    build(piqi, out, proto_import_prefix="gen/")  # protoc accepts the output

    descriptor_set = tmp_path / "set.bin"
    args = ["protoc", f"-I{tmp_path}", f"--descriptor_set_out={descriptor_set}"]
    assert protoc.main([*args, "--include_imports", str(out / "rich.proto")]) == 0
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    base, rich = files
    assert (base.name, rich.name, list(rich.dependency)) == (
        "gen/base.proto",
        "gen/rich.proto",
        ["gen/base.proto"],
    )
    assert [m.name for m in rich.message_type] == ["everything", "Copy"]
    fields = {f.name: f for f in rich.message_type[0].field}
    assert [f.number for f in rich.message_type[0].field] == [1, 2, 3, 4, 5, 6, 7, 8, 100]
    assert {name: f.default_value for name, f in fields.items()} == {
        "i": "-7",
        "u": "255",
        "d": "0.25",
        "g": "3",
        "s": 'a"b\\c\nd é %',
        "raw": "\\t\\r",  # protoc's C-escaped form of the bytes
        "c": "light_blue",
        "flag": "",
        "copies": "",
    }
    assert fields["c"].type_name == ".rich.base.colour"
    assert fields["copies"].type_name == ".rich.main.everything"
    assert fields["flag"].type == descriptor_pb2.FieldDescriptorProto.TYPE_BOOL
    assert [f.name for f in rich.message_type[1].field] == [
        f.name for f in rich.message_type[0].field
    ]
    assert [(v.name, v.number) for v in base.enum_type[0].value] == [("red", 4), ("light_blue", 9)]
