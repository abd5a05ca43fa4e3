"""Small helpers that test modules in several directories share.

Importable as ``support`` from any test module: ``tests/`` is on ``sys.path`` while the
suite runs (it holds the root ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])


def soak(fn: F) -> F:
    """Mark a long variant: collected always, run only when ``-m`` names ``soak``."""
    fn = pytest.mark.skipif(
        "'soak' not in (config.getoption('markexpr') or '')",
        reason="a soak variant: run with -m soak",
    )(fn)
    return pytest.mark.soak(fn)  # type: ignore[no-any-return]
