"""The committed generated modules are exactly what ``make proto`` makes from ``piqi/``.

The build runs into a temporary ``smarkets/proto`` and every generated file is
compared byte for byte with the committed one, so editing a .piqi file (or the
translator) without regenerating fails here.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tools.piqi_compiler import build

ROOT = Path(__file__).resolve().parents[1]
PIQI_DIR = ROOT / "piqi"
PROTO_DIR = ROOT / "smarkets" / "proto"
GENERATED = ("*.proto", "*_pb2.py", "*_pb2.pyi")


def _generated_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for pattern in GENERATED for p in directory.glob(pattern)}


def _differences(fresh_dir: Path, committed_dir: Path) -> list[str]:
    fresh, committed = _generated_files(fresh_dir), _generated_files(committed_dir)
    problems = []
    for name in sorted(fresh.keys() | committed.keys()):
        if name not in committed:
            problems.append(f"{name} is missing")
        elif name not in fresh:
            problems.append(f"{name} is stale: no .piqi file generates it")
        elif fresh[name] != committed[name]:
            problems.append(f"{name} differs")
    return problems


def _regenerate(piqi_dir: Path, root: Path) -> Path:
    out = root / "smarkets" / "proto"
    build(piqi_dir, out)
    return out


def test_committed_files_are_fresh(tmp_path: Path) -> None:
    problems = _differences(_regenerate(PIQI_DIR, tmp_path), PROTO_DIR)
    assert not problems, "generated files are out of date; run `make proto`:\n  " + "\n  ".join(
        problems
    )


def test_every_piqi_file_is_generated() -> None:
    stems = sorted(p.stem for p in PIQI_DIR.glob("*.piqi"))
    assert stems == ["eto", "seto"]
    for stem in stems:
        for suffix in (".proto", "_pb2.py", "_pb2.pyi"):
            assert (PROTO_DIR / f"{stem}{suffix}").is_file(), "run `make proto`"


def test_editing_a_piqi_file_is_detected(tmp_path: Path) -> None:
    piqi = tmp_path / "piqi"
    shutil.copytree(PIQI_DIR, piqi)
    eto = piqi / "eto.piqi"
    text = eto.read_text(encoding="utf-8")
    edited = text.replace(
        ".field [ .name reset .type uint64 .optional .code 2 ]",
        ".field [ .name reset .type uint64 .optional .code 2 ]\n"
        "    .field [ .name extra .type bool .optional .code 3 ]",
    )
    assert edited != text
    eto.write_text(edited, encoding="utf-8")

    # The unedited copy reproduces the committed files; the edit is caught.
    assert _differences(_regenerate(piqi, tmp_path / "out"), PROTO_DIR) == [
        "eto.proto differs",
        "eto_pb2.py differs",
        "eto_pb2.pyi differs",
    ]


def test_editing_only_a_comment_is_detected(tmp_path: Path) -> None:
    piqi = tmp_path / "piqi"
    shutil.copytree(PIQI_DIR, piqi)
    seto = piqi / "seto.piqi"
    text = seto.read_text(encoding="utf-8")
    seto.write_text(text.replace("% A public trade.", "% A public trade, reworded."), "utf-8")
    assert _differences(_regenerate(piqi, tmp_path / "out"), PROTO_DIR) == ["seto.proto differs"]


def test_protobuf_lower_bound_matches_the_generated_code() -> None:
    """The generated modules refuse older runtimes, so pyproject.toml must too."""
    generated = (PROTO_DIR / "eto_pb2.py").read_text(encoding="utf-8")
    match = re.search(r"Domain\.PUBLIC,\s*(\d+),\s*(\d+),\s*(\d+),", generated)
    assert match, "no ValidateProtobufRuntimeVersion call in eto_pb2.py"
    version = ".".join(match.groups())
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"protobuf>={version},' in pyproject
