"""What the documentation states by hand is checked against the code here.

Most of ``docs/`` is generated from the code when it is built (``make docs``: the message
reference, ``--help`` texts, the exception tree, default accounts and markets, the API);
this covers the facts written out in prose: the framing test vectors, the ``>>>``
examples, the defaults quoted for settings, the admin console's commands, and that every
example script is shown somewhere.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from smarkets.protocol.framing import FrameDecoder, encode_frame
from smarkets.sandbox.cli import AdminConsole
from smarkets.settings import SessionSettings

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = DOCS.parent / "examples"
PAGES = sorted(DOCS.glob("*.rst"))


def _text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _framing_vectors() -> list[tuple[bytes, bytes, str]]:
    """``(payload, frame, row text)`` for each row of the test vector table."""
    text = _text("protocol.rst")
    table = text.split("Test vectors (hex):", 1)[1].split("Decoding", 1)[0]
    cells = re.findall(r"^\s+[*\s] - (.+)$", table, re.M)
    rows = list(zip(cells[2::2], cells[3::2], strict=True))  # after the header row
    vectors = []
    for payload_cell, frame_cell in rows:
        if payload_cell == "empty":
            payload = b""
        elif match := re.fullmatch(r"(\d+) bytes(?: ``([0-9a-f]{2})``)?", payload_cell):
            payload = bytes.fromhex(match.group(2) or "5a") * int(match.group(1))
        else:
            payload = bytes.fromhex(payload_cell.strip("`"))
        match = re.fullmatch(r"``([0-9a-f ]+)``( then the (\d+) bytes)?", frame_cell)
        assert match, f"unexpected frame cell {frame_cell!r}"
        frame = bytes.fromhex(match.group(1))
        if match.group(2):
            assert int(match.group(3)) == len(payload)
            frame += payload
        vectors.append((payload, frame, f"{payload_cell} -> {frame_cell}"))
    return vectors


def test_the_framing_table_has_every_vector() -> None:
    assert len(_framing_vectors()) == 5


@pytest.mark.parametrize("payload, frame, row", _framing_vectors())
def test_framing_vectors(payload: bytes, frame: bytes, row: str) -> None:
    assert encode_frame(payload) == frame, row
    decoder = FrameDecoder()
    assert decoder.feed(frame) == [payload], row
    assert decoder.buffered == 0


@pytest.mark.parametrize("page", [p for p in PAGES if ">>>" in p.read_text()], ids=str)
def test_interactive_examples(page: Path) -> None:
    result = doctest.testfile(str(page), module_relative=False, verbose=False)
    assert result.failed == 0


def test_quoted_setting_defaults() -> None:
    """``settings.NAME`` (15 s) and the like, wherever the docs quote a default."""
    defaults = SessionSettings("user", "password")
    quoted = 0
    for page in PAGES:
        for name, value in re.findall(
            r"``settings\.(\w+)`` \((\d+(?:\.\d+)?) s\b", page.read_text(encoding="utf-8")
        ):
            assert getattr(defaults, name) == float(value), f"{page.name}: {name} ({value} s)"
            quoted += 1
    assert quoted >= 3


def test_admin_console_commands() -> None:
    text = _text("sandbox.rst")
    table = text.split("Admin console\n", 1)[1].split("\nMatching\n", 1)[0]
    documented = re.findall(r"^``([a-z-]+)[ `]", table, re.M)
    # A command with subcommands (downtime) has a row for each; each command is documented.
    assert sorted(set(documented)) == sorted(AdminConsole.COMMANDS)


def test_every_example_is_shown() -> None:
    shown = {
        Path(match).name
        for page in PAGES
        for match in re.findall(
            r"\.\. literalinclude:: \.\./examples/(\S+)", page.read_text(encoding="utf-8")
        )
    }
    examples = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    examples.discard("demo.py")  # what `make demo` runs; described in the quickstart
    assert examples <= shown, f"examples not shown in docs/: {sorted(examples - shown)}"


def test_every_error_class_is_exported() -> None:
    """docs/errors.rst says the classes of smarkets.errors are importable from smarkets."""
    import inspect

    import smarkets
    from smarkets import errors

    classes = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, errors.Error)
    }
    assert classes <= set(smarkets.__all__)
