"""Fixtures of the interop suite: sandboxes run as subprocesses, and foreign clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .foreign_client import ForeignClient
from .sandbox_runner import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with TLS (verified against the CA file it prints), shared by a module."""
    running = Sandbox()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def connect(sandbox: Sandbox) -> Iterator[Callable[..., ForeignClient]]:
    """``connect("alice")``: a logged-in client of the shared sandbox, closed after the test."""
    made: list[ForeignClient] = []

    def make(username: str, *, login: bool = True, password: str | None = None) -> ForeignClient:
        client = sandbox.client(username, login=login, password=password)
        made.append(client)
        return client

    yield make
    for client in made:
        client.drop()


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """``start_sandbox(*options)``: a sandbox of the test's own, stopped after it."""
    started: list[Sandbox] = []

    def start(*options: str, tls: bool = True) -> Sandbox:
        running = Sandbox(*options, tls=tls)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
