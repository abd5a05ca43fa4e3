"""Run the sandbox as a subprocess, the way any program would: command line, stdout, stdin.

``python -m smarkets.sandbox --port 0 --bots 0 --admin-stdin ...`` prints
``CA certificate: FILE`` (with TLS), ``smarkets sandbox catalogue at URL`` (the root of the
listings served over HTTP(S)) and ``smarkets sandbox listening on HOST:PORT ...``; after
that, each admin command written to its stdin is answered by one ``ok ...`` or ``error ...``
line. Closing stdin stops it. Nothing of the project is imported here.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .foreign_client import ForeignClient

__all__ = ["PASSWORDS", "Sandbox", "SandboxError"]

#: The checkout whose sandbox is run (``SMARKETS_INTEROP_SANDBOX_DIR`` to run another).
REPO = Path(os.environ.get("SMARKETS_INTEROP_SANDBOX_DIR") or Path(__file__).resolve().parents[2])
#: The demo accounts the sandbox opens without an accounts file.
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw"}

_LISTENING = re.compile(r"listening on (\S+):(\d+)")
_CATALOGUE = re.compile(r"catalogue at (\S+)")
_CA_LINE = "CA certificate: "


class SandboxError(RuntimeError):
    """The sandbox did not start, or did not answer."""


class Sandbox:
    """A sandbox subprocess: its address, its CA file, its admin console, its clients."""

    def __init__(self, *options: str, tls: bool = True, start_timeout: float = 30.0) -> None:
        self.options = list(options)
        self.tls = tls
        self.start_timeout = start_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self.ca_file: str | None = None
        #: The root URL of the catalogue's listings, as printed (``None`` if not printed).
        self.catalogue_url: str | None = None
        self.clients: list[ForeignClient] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr = tempfile.TemporaryFile()
        self._log = ""
        command = [sys.executable, "-m", "smarkets.sandbox", "--port", "0", "--bots", "0"]
        command += ["--admin-stdin", *self.options]
        if not tls:
            command.append("--no-tls")
        self.command = command
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next_line(self, timeout: float, waiting_for: str) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise SandboxError(f"sandbox: no {waiting_for} within {timeout}s{self.log()}") from None
        if line is None:
            self.proc.wait(5)
            raise SandboxError(
                f"sandbox exited (status {self.proc.returncode}) before {waiting_for}{self.log()}"
            )
        return line

    def _wait_ready(self) -> None:
        while True:
            line = self._next_line(self.start_timeout, "'listening on HOST:PORT' line")
            if line.startswith(_CA_LINE):
                self.ca_file = line[len(_CA_LINE) :].strip()
            catalogue = _CATALOGUE.search(line)
            if catalogue:
                self.catalogue_url = catalogue.group(1)
            match = _LISTENING.search(line)
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                break
        if self.tls and self.ca_file is None:
            raise SandboxError("sandbox with TLS printed no 'CA certificate: FILE' line")

    def log(self) -> str:
        """The tail of the sandbox's stderr (its log), for error messages."""
        if not self._stderr.closed:
            self._stderr.seek(0)
            self._log = self._stderr.read().decode("utf-8", "replace")
        return "\n--- sandbox stderr ---\n" + self._log[-4000:] if self._log else ""

    def admin(self, command: str, timeout: float = 5.0) -> str:
        """Run an admin command; its ``ok ...``/``error ...`` answer line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        while True:
            line = self._next_line(timeout, f"answer to {command!r}")
            if line.startswith(("ok", "error")):
                return line

    def client(
        self, username: str, *, login: bool = True, password: str | None = None
    ) -> ForeignClient:
        """A foreign client for a demo account (logged in unless ``login=False``)."""
        if password is None:
            password = PASSWORDS[username]
        client = ForeignClient(self.host, self.port, username, password, ca_file=self.ca_file)
        self.clients.append(client)
        if login:
            client.login()
        return client

    def stop(self) -> None:
        """Close every client, then stop the sandbox: stdin closed, else SIGTERM, else SIGKILL."""
        for client in self.clients:
            client.drop()
        self.clients.clear()
        if self.proc.poll() is None:
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        self._reader.join(5)
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()
        self.log()
        self._stderr.close()
