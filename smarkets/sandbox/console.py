"""The sandbox's admin console: one command per line, each answered by one line.

With ``--admin-stdin`` (:mod:`smarkets.sandbox.cli`) the sandbox reads commands on stdin, one
per line, and answers each by one line on stdout, ``ok ...`` or ``error ...``:

==================================================  =========================================
``halt MARKET``                                     stop trading; resting orders cancelled
``reopen MARKET``                                   resume trading on a halted market
``settle MARKET WINNER``                            settle with the winning contract; pays out
``add-account NAME PW BALANCE``                     open an account (balance in 1/10,000)
``add-market JSON``                                 open a market: an object as in the
                                                    markets file
``balance NAME``                                    ``ok cash=C exposure=E available=A
                                                    staked=S``
``suspend ACCOUNT``                                 its orders rejected ACCOUNT_SUSPENDED
``unsuspend ACCOUNT``                               lift ``suspend``
``downtime connection SECONDS [DESCRIPTION...]``    eto downtime_alert CONNECTION to all;
                                                    SECONDS later LOGOUT DOWNTIME to all,
                                                    logins refused
``downtime orders SECONDS [DESCRIPTION...]``        seto downtime_alert ORDER_CREATE and eto
                                                    FUNCTIONALITY to all; SECONDS later
                                                    orders rejected SERVICE_TEMPORARILY_
                                                    UNAVAILABLE
``downtime cancel``                                 eto CANCELLED: the downtime is dropped
``downtime resumed``                                eto SERVICE_RESUMED: all accepted again
``quit``                                            ``ok bye``, then stop as on SIGTERM
==================================================  =========================================

The ``downtime connection`` and ``downtime orders`` answers are ``ok downtime KIND at
YYYY-MM-DDTHH:MMZ`` (the start, UTC, to the minute); ``downtime cancel`` answers ``ok
downtime cancelled``, ``downtime resumed`` ``ok downtime resumed``.

Blank lines and lines starting with ``#`` are skipped without an answer. The end of stdin
counts as ``quit``, so a sandbox run by another program goes away with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable

from smarkets.sandbox.server import SandboxServer

__all__ = ["AdminConsole", "read_commands"]

_log = logging.getLogger(__name__)


def read_commands(loop: asyncio.AbstractEventLoop, console: AdminConsole) -> None:
    """Thread: read stdin's lines and have the event loop run each command in turn.

    ``os.read`` on the raw descriptor (not ``sys.stdin``) so that a read still blocked at
    exit holds no lock the interpreter's shutdown would wait for.
    """
    fd = sys.stdin.fileno() if sys.stdin is not None else 0
    pending = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            lines = [pending] if pending.strip() else []
            lines.append(b"quit")
        else:
            pending += chunk
            *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            try:
                asyncio.run_coroutine_threadsafe(console.handle(line), loop).result()
            except Exception:  # the loop has stopped: nothing left to do
                return
            if console.stopped:
                return
        if not chunk:
            return


class AdminConsole:
    """The admin commands of ``--admin-stdin``: one line in, one answer line out.

    :meth:`execute` does the work and returns the answer (also usable without stdin);
    :meth:`handle` prints it (with ``out``). ``quit`` calls ``on_quit``.
    """

    COMMANDS = (
        "halt",
        "reopen",
        "settle",
        "add-account",
        "add-market",
        "balance",
        "suspend",
        "unsuspend",
        "downtime",
        "quit",
    )

    def __init__(
        self,
        server: SandboxServer,
        on_quit: Callable[[], object] | None = None,
        *,
        out: Callable[[str], None] = print,
    ) -> None:
        self.server = server
        self._on_quit = on_quit
        self._out = out
        self.stopped = False

    async def handle(self, line: str) -> None:
        """Run one command line and print its answer (nothing for a blank line)."""
        answer = self.execute(line)
        if answer is not None:
            self._out(answer)

    def execute(self, line: str) -> str | None:
        """Run one command line; return the ``ok ...``/``error ...`` answer."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        command, _, rest = text.partition(" ")
        rest = rest.strip()
        try:
            return self._run(command.lower(), rest)
        except (KeyError, ValueError, TypeError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            return f"error {command}: {message}"
        except Exception as exc:  # never let a command kill the console
            _log.exception("admin command %r failed", command)  # not its arguments: a password
            return f"error {command}: {type(exc).__name__}: {exc}"

    def _run(self, command: str, rest: str) -> str:
        server = self.server
        if command == "add-market":
            if not rest:
                raise ValueError("usage: add-market JSON")
            try:
                obj = json.loads(rest)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
            spec = server.add_market(obj)
            return f"ok market {spec.text_id} {spec.name!r} added"
        args = shlex.split(rest) if rest else []
        if command == "halt":
            (market,) = _arity(args, "halt MARKET")
            server.halt(market)
            return f"ok halted {market}"
        if command == "reopen":
            (market,) = _arity(args, "reopen MARKET")
            server.reopen(market)
            return f"ok reopened {market}"
        if command == "settle":
            market, winner = _arity(args, "settle MARKET WINNER_CONTRACT")
            server.settle(market, winner)
            return f"ok settled {market} winner {winner}"
        if command == "add-account":
            name, password, balance_text = _arity(args, "add-account NAME PASSWORD BALANCE")
            try:
                balance = int(balance_text)
            except ValueError:
                raise ValueError(f"balance must be an integer, not {balance_text!r}") from None
            account_id = server.add_account(name, password, balance)
            return f"ok account {name} id {account_id}"
        if command == "balance":
            (name,) = _arity(args, "balance NAME")
            b = server.balance(name)
            return (
                f"ok cash={b.cash} exposure={b.exposure} available={b.available} staked={b.staked}"
            )
        if command in ("suspend", "unsuspend"):
            (name,) = _arity(args, f"{command} ACCOUNT")
            getattr(server, command)(name)
            return f"ok {command}ed {name}"
        if command == "downtime":
            return self._downtime(args)
        if command == "quit":
            _arity(args, "quit")
            self.stopped = True
            if self._on_quit is not None:
                self._on_quit()
            return "ok bye"
        raise ValueError(f"unknown command (commands: {', '.join(self.COMMANDS)})")

    _DOWNTIME_USAGE = (
        "usage: downtime connection SECONDS [DESCRIPTION...] | downtime orders SECONDS"
        " [DESCRIPTION...] | downtime cancel | downtime resumed"
    )

    def _downtime(self, args: list[str]) -> str:
        server = self.server
        kind = args[0].lower() if args else ""
        if kind in ("connection", "orders"):
            if len(args) < 2:
                raise ValueError(self._DOWNTIME_USAGE)
            try:
                seconds = float(args[1])
            except ValueError:
                raise ValueError(f"SECONDS must be a number, not {args[1]!r}") from None
            description = " ".join(args[2:])
            start = (
                server.downtime_connection(seconds, description)
                if kind == "connection"
                else server.downtime_orders(seconds, description)
            )
            return f"ok downtime {kind} at {start:%Y-%m-%dT%H:%M}Z"
        if kind == "cancel" and len(args) == 1:
            server.downtime_cancel()
            return "ok downtime cancelled"
        if kind == "resumed" and len(args) == 1:
            server.downtime_resumed()
            return "ok downtime resumed"
        raise ValueError(self._DOWNTIME_USAGE)


def _arity(args: list[str], usage: str) -> list[str]:
    expected = len(usage.split()) - 1
    if len(args) != expected:
        raise ValueError(f"usage: {usage}")
    return args
