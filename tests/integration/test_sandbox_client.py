"""Smoke test: the library's own client, configured by ``SandboxProcess.settings``.

The protocol-level behaviour of the sandbox is tested with the session core alone in
``test_sandbox_process.py``; this only checks that the high-level client and the sandbox
agree, over TLS verified against the sandbox's CA.
"""

from __future__ import annotations

import time

import pytest
from support import sandbox_settings

from smarkets.sandbox.process import SandboxProcess

smarkets = pytest.importorskip("smarkets")


def test_client_logs_in_and_gets_answers() -> None:
    if not hasattr(smarkets, "Smarkets") or not hasattr(smarkets, "Session"):
        pytest.skip("the high-level client is not available")
    with SandboxProcess(tls=True, bots=1, seed=3) as sandbox:
        settings = sandbox_settings(sandbox, "alice")
        assert settings.ssl and settings.ssl_kwargs == {"ca_file": sandbox.ca_file}
        client = smarkets.Smarkets(smarkets.Session(settings))
        seen: dict[str, object] = {}
        client.add_handler("seto.account_state", lambda msg: seen.setdefault("state", msg))
        client.add_handler("seto.market_quotes", lambda msg: seen.setdefault("quotes", msg))
        client.login()
        client.subscribe("1c024")
        client.request_account_state()
        client.flush()
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            client.read()
        # money is a seto.Decimal on the wire; the client keeps it in 1/10,000 units
        cash = seen["state"].cash  # type: ignore[attr-defined]
        assert cash.value * 10 ** (4 - cash.exponent) == 10_000_000
        assert client.account is not None and client.account.cash == 10_000_000
        assert len(seen["quotes"].contract_quotes) == 3  # type: ignore[attr-defined]
        client.logout()
