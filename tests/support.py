"""Small helpers that test modules in several directories share.

Importable as ``support`` from any test module: ``tests/`` is on ``sys.path`` while the
suite runs (it holds the root ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from smarkets.sandbox.process import SandboxProcess
from smarkets.settings import SessionSettings

F = TypeVar("F", bound=Callable[..., Any])


def soak(fn: F) -> F:
    """Mark a long variant: collected always, run only when ``-m`` names ``soak``."""
    fn = pytest.mark.skipif(
        "'soak' not in (config.getoption('markexpr') or '')",
        reason="a soak variant: run with -m soak",
    )(fn)
    return pytest.mark.soak(fn)  # type: ignore[no-any-return]


def sandbox_settings(sandbox: SandboxProcess, username: str, **overrides: Any) -> SessionSettings:
    """A :class:`smarkets.SessionSettings` to log in as ``username`` on ``sandbox``: host,
    port, TLS and its CA file filled in (``overrides`` added or replacing them).

    The sandbox gives the keyword arguments (:meth:`SandboxProcess.login_kwargs
    <smarkets.sandbox.process.SandboxProcess.login_kwargs>`); the client's settings are built
    here, on the client's side, so that the sandbox imports nothing of the client.
    """
    return SessionSettings(**sandbox.login_kwargs(username, **overrides))
