"""Run the sandbox exchange as a separate process, for tests, examples and demos.

::

    with SandboxProcess(accounts={"alice": {"password": "pw", "balance": 10_000_000}}) as sb:
        settings = SessionSettings(**sb.login_kwargs("alice"))  # host, port, TLS, CA file
        ...
        sb.halt("1c024")
        print(sb.balance("alice"))

:class:`SandboxProcess` starts ``python -m smarkets.sandbox --port 0 --admin-stdin ...``,
waits for its ``listening on HOST:PORT`` line, and drives its admin console through its
stdin. The child's log (stderr) goes to a temporary file, shown in the error if it fails to
start (and available as :attr:`SandboxProcess.log_text`). When the parent goes away without
stopping it, the child sees the end of its stdin and stops by itself.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from smarkets.errors import Error
from smarkets.sandbox.cli import CA_LINE, CATALOGUE_AT, LISTENING
from smarkets.sandbox.exchange.accounts_file import DEFAULT_ACCOUNTS
from smarkets.sandbox.server import Balance

# What the sandbox prints when it is ready, as the CLI writes it.
_LISTENING_TEXT = f"{LISTENING} "
_CATALOGUE_TEXT = f"{CATALOGUE_AT} "

__all__ = ["SandboxAdminError", "SandboxProcess", "SandboxStartError"]

#: Seconds to wait for the sandbox to be ready.
START_TIMEOUT = 30.0
#: Seconds to wait for the answer to an admin command.
COMMAND_TIMEOUT = 10.0
#: Seconds to wait for the process to exit after SIGTERM before killing it.
STOP_TIMEOUT = 10.0

_EOF = object()


class SandboxStartError(Error, RuntimeError):
    """The sandbox process did not start; the message includes its log."""


class SandboxAdminError(Error, RuntimeError):
    """An admin command was refused (the sandbox answered ``error ...``)."""


class SandboxProcess:
    """The sandbox exchange in a child process, with its admin console at hand.

    ``accounts`` is a dict as in the accounts file (written to a temporary JSON file), or
    ``None`` for the default demo accounts; ``markets`` likewise (a dict with a ``markets``
    list, or a list of market objects), or ``None`` for the default catalogue.
    ``extra_args`` are added to the command line (e.g. ``["--heartbeat-interval", "1"]``).
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        *,
        tls: bool = True,
        bots: int = 0,
        seed: int = 0,
        accounts: Mapping[str, Mapping[str, Any]] | None = None,
        markets: Mapping[str, Any] | list[Any] | None = None,
        extra_args: Iterable[str] = (),
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.tls = tls
        self.bots = bots
        self.seed = seed
        self._accounts_doc = None if accounts is None else {k: dict(v) for k, v in accounts.items()}
        if isinstance(markets, list):
            markets = {"markets": markets}
        self._markets_doc = None if markets is None else dict(markets)
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self.ca_file: str | None = None
        #: The root URL of the catalogue over HTTP(S) (``.../events/``), once started.
        self.catalogue_url = ""
        #: Account name -> password, for every account the sandbox was started with (and
        #: those added with :meth:`add_account`).
        self.accounts: dict[str, str] = (
            {spec.name: spec.password for spec in DEFAULT_ACCOUNTS}
            if accounts is None
            else {name: str(entry.get("password", "")) for name, entry in accounts.items()}
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log_file: Any = None
        self._lines: queue.Queue[object] = queue.Queue()
        self._lock = threading.Lock()
        #: The lines the sandbox printed up to and including its ``listening on`` line.
        self.startup_lines: list[str] = []
        #: The exit status, once stopped.
        self.returncode: int | None = None
        self._log_text = ""

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def command(self) -> list[str]:
        """The command line the sandbox is started with (files filled in by :meth:`start`)."""
        args = [sys.executable, "-m", "smarkets.sandbox", "--port", "0", "--admin-stdin"]
        args += ["--host", self.host, "--bots", str(self.bots), "--seed", str(self.seed)]
        if not self.tls:
            args.append("--no-tls")
        return args

    def start(self) -> None:
        """Start the process and wait until it listens; :class:`SandboxStartError` if not."""
        if self.process is not None:
            raise SandboxStartError("the sandbox is already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="smarkets-sandbox-process-")
        tmp = Path(self._tmp.name)
        args = self.command
        if self._accounts_doc is not None:
            path = tmp / "accounts.json"
            path.write_text(json.dumps(self._accounts_doc), encoding="utf-8")
            args += ["--accounts", str(path)]
        if self._markets_doc is not None:
            path = tmp / "markets.json"
            path.write_text(json.dumps(self._markets_doc), encoding="utf-8")
            args += ["--markets", str(path)]
        if self.tls:
            args += ["--cert-dir", str(tmp / "certs")]
        args += self.extra_args
        self._log_file = open(tmp / "sandbox.log", "w+b")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            env=env,
        )
        threading.Thread(target=self._read_stdout, name="sandbox-stdout", daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        while True:
            line = self._next_line(deadline - time.monotonic())
            if line is None or line is _EOF:
                reason = "exited" if line is _EOF else "did not start in time"
                code = self.process.poll()
                self.stop()
                status = f" (exit status {code})" if code is not None else ""
                raise SandboxStartError(
                    f"the sandbox {reason}{status}: {' '.join(args)}\n--- its log ---\n"
                    f"{self.log_text}"
                )
            assert isinstance(line, str)
            self.startup_lines.append(line)
            if line.startswith(CA_LINE):
                self.ca_file = line[len(CA_LINE) :].strip()
            elif _CATALOGUE_TEXT in line:
                self.catalogue_url = line.split(_CATALOGUE_TEXT, 1)[1].strip()
            elif _LISTENING_TEXT in line:
                address = line.split(_LISTENING_TEXT, 1)[1].split()[0]
                host, _, port = address.rpartition(":")
                self.host = host.strip("[]")
                self.port = int(port)
                return

    def stop(self) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL after a timeout); its exit status."""
        process = self.process
        code = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            code = process.returncode
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
            self.returncode = code
        if self._log_file is not None:
            self._log_text = self.log_text
            self._log_file.close()
            self._log_file = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return code

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    @property
    def log_text(self) -> str:
        """What the sandbox has logged (its stderr) so far."""
        if self._log_file is None:
            return self._log_text
        self._log_file.flush()
        self._log_file.seek(0)
        data = self._log_file.read()
        self._log_file.seek(0, os.SEEK_END)
        return str(data.decode("utf-8", "replace"))

    # -- logging in -----------------------------------------------------------------------

    def login_kwargs(self, username: str, **overrides: Any) -> dict[str, Any]:
        """The keyword arguments of :class:`smarkets.SessionSettings` to log in as
        ``username`` on this sandbox: its name and password, host and port, TLS and the CA
        file (``overrides`` added or replacing them)::

            settings = smarkets.SessionSettings(**sb.login_kwargs("alice", socket_timeout=5))

        A plain dict, so that the sandbox imports nothing of the client.
        """
        kwargs: dict[str, Any] = {
            "username": username,
            "password": self.accounts[username],
            "host": self.host,
            "port": self.port,
            "ssl": self.tls,
            "ssl_kwargs": {"ca_file": self.ca_file} if self.tls else {},
        }
        kwargs.update(overrides)
        return kwargs

    # -- admin console ----------------------------------------------------------------------

    def command_line(self, line: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """Send one admin command line; return the answer without its ``ok`` prefix."""
        if "\n" in line:
            raise ValueError("one command at a time, without newlines")
        process = self.process
        if process is None or process.stdin is None or process.poll() is not None:
            raise SandboxAdminError("the sandbox is not running")
        with self._lock:
            try:
                process.stdin.write(line.encode("utf-8") + b"\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise SandboxAdminError(f"the sandbox is not reading commands: {exc}") from None
            answer = self._next_line(timeout)
        if answer is None:
            raise SandboxAdminError(f"no answer to {line!r} within {timeout}s")
        if answer is _EOF:
            raise SandboxAdminError(f"the sandbox exited while answering {line!r}")
        assert isinstance(answer, str)
        if answer.startswith("ok"):
            return answer[2:].strip()
        raise SandboxAdminError(answer.removeprefix("error").strip() or answer)

    def halt(self, market: str) -> None:
        """Halt a market (tagged hex id, e.g. ``'1c024'``)."""
        self.command_line(f"halt {market}")

    def reopen(self, market: str) -> None:
        """Reopen a halted market."""
        self.command_line(f"reopen {market}")

    def settle(self, market: str, winner: str) -> None:
        """Settle a market; ``winner`` is the winning contract's id (e.g. ``'1cccc'``)."""
        self.command_line(f"settle {market} {winner}")

    def add_account(self, name: str, password: str, balance: int) -> int:
        """Open an account; return its account id."""
        if any(ch.isspace() for ch in password) or not password:
            raise ValueError("the admin console takes passwords without whitespace")
        answer = self.command_line(f"add-account {name} {password} {int(balance)}")
        self.accounts[name] = password
        return int(answer.rsplit(" ", 1)[1])

    def add_market(self, market: Mapping[str, Any]) -> None:
        """Open a market given as a markets-file object."""
        self.command_line(f"add-market {json.dumps(market)}")

    def balance(self, name: str) -> Balance:
        """An account's cash, exposure, available and staked amounts (1/10,000 units)."""
        answer = self.command_line(f"balance {name}")
        fields = dict(item.split("=", 1) for item in answer.split())
        return Balance(
            cash=int(fields["cash"]),
            exposure=int(fields["exposure"]),
            available=int(fields["available"]),
            staked=int(fields["staked"]),
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        process = self.process
        assert process is not None and process.stdout is not None
        for raw in process.stdout:
            self._lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self._lines.put(_EOF)

    def _next_line(self, timeout: float) -> object:
        try:
            line = self._lines.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if line is _EOF:
            self._lines.put(_EOF)  # every later read sees it too
        return line
