"""Reading the sandbox's JSON input files (accounts, markets) with one kind of error."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def load_json_file(
    path: str | os.PathLike[str],
    what: str,
    parse: Callable[[Any], T],
    error: type[Exception],
) -> T:
    """Read ``path``, parse it as JSON and check it with ``parse``.

    Every failure — unreadable file, invalid JSON, content ``parse`` refuses
    (by raising ``error``) — is raised as ``error`` with a message naming the
    ``what`` file and its path, so the CLI can print it as one line.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what} file {str(path)!r}: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} file {str(path)!r} is not valid JSON: {exc}") from None
    try:
        return parse(doc)
    except error as exc:
        raise error(f"{what} file {str(path)!r}: {exc}") from None
