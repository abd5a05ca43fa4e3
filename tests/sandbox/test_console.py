"""The sandbox's admin console, on a server that is not listening."""

from __future__ import annotations

import asyncio
import json

from smarkets.sandbox.console import AdminConsole
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.exchange.markets_file import default_markets
from smarkets.sandbox.server import SandboxServer, ServerConfig
from smarkets.sandbox.server.credentials import CredentialStore


def test_the_cli_offers_the_console() -> None:
    from smarkets.sandbox import cli

    assert cli.AdminConsole is AdminConsole


def console_server() -> SandboxServer:
    server = SandboxServer(Exchange(), ServerConfig(port=0), credentials=CredentialStore(n=2))
    server.add_account("alice", "alice-pw", 10_000_000)
    for spec in default_markets():
        server.add_market(spec)
    return server


def test_console_commands() -> None:
    async def main() -> None:
        quit_called: list[bool] = []
        console = AdminConsole(console_server(), lambda: quit_called.append(True))
        run = console.execute
        assert run("") is None and run("   ") is None and run("# comment") is None
        assert run("halt 1c024") == "ok halted 1c024"
        assert run("halt 1c024").startswith("error halt:")  # already halted
        assert run("reopen 1c024") == "ok reopened 1c024"
        assert run("settle 2c024 4cccc") == "ok settled 2c024 winner 4cccc"
        assert run("settle 3c024 4cccc").startswith("error settle:")  # not its contract
        assert run("add-account bob bob-pw 500") == "ok account bob id 2"
        assert run("add-account bob x 1").startswith("error add-account:")
        assert run("add-account carol pw lots").startswith("error add-account: balance")
        assert (
            run("add-account carol pw")
            == "error add-account: usage: add-account NAME PASSWORD BALANCE"
        )
        assert run("balance bob") == "ok cash=500 exposure=0 available=500 staked=0"
        assert run("balance nobody").startswith("error balance:")
        market = {
            "id": "9c024",
            "name": "New",
            "event": "E",
            "contracts": [{"id": "90cccc", "name": "X"}],
        }
        assert run("add-market " + json.dumps(market)) == "ok market 9c024 'New' added"
        assert run("add-market " + json.dumps(market)).startswith("error add-market:")
        assert run("add-market {oops").startswith("error add-market: not valid JSON")
        assert run("add-market").startswith("error add-market: usage")
        assert run("halt 9cccc").startswith("error halt:")  # wrong kind of id
        assert run("halt 77c024").startswith("error halt:")
        assert run("dance").startswith("error dance: unknown command")
        assert not quit_called
        assert run("quit") == "ok bye"
        assert quit_called and console.stopped

    asyncio.run(main())


def test_admin_console_suspend_and_downtime() -> None:
    async def main() -> None:
        server = console_server()
        console = AdminConsole(server)
        assert console.execute("suspend alice") == "ok suspended alice"
        assert console.execute("unsuspend alice") == "ok unsuspended alice"
        assert console.execute("suspend nobody").startswith("error suspend")
        answer = console.execute("downtime orders 60 database upgrade")
        assert answer is not None and answer.startswith("ok downtime orders at ")
        assert answer.endswith("Z") and len(answer) == len("ok downtime orders at ") + 17
        assert console.execute("downtime cancel") == "ok downtime cancelled"
        assert console.execute("downtime connection 0")
        await asyncio.sleep(0.01)
        assert server.downtime == "connection"
        assert console.execute("downtime resumed") == "ok downtime resumed"
        assert server.downtime is None
        for bad in ("downtime", "downtime orders", "downtime orders soon", "downtime later"):
            assert (console.execute(bad) or "").startswith("error downtime: ")
        help_text = console.execute("nonsense") or ""
        assert "downtime" in help_text and "suspend" in help_text

    asyncio.run(main())
