"""``smarkets watch`` in a pseudo-terminal against a sandbox with bots, and as plain text.

The command runs as a subprocess whose stdin, stdout and stderr are the slave end of a pty
(so it sees a terminal and redraws in place); the test reads the master end, splits the
output into frames at the cursor-home escape, checks what the screen shows, then sends
SIGINT and expects a clean logout.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator

import pytest
from support import sandbox_settings

from smarkets.sandbox.process import SandboxProcess
from smarkets.watch import HIDE_CURSOR, HOME, SHOW_CURSOR

pytestmark = pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a POSIX pty")

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CONTRACTS = ("1cccc Arsenal", "2cccc Draw", "3cccc Chelsea")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(tls=True, bots=3, seed=7) as sb:
        yield sb


def command(sandbox: SandboxProcess, *args: str) -> list[str]:
    assert sandbox.ca_file is not None
    return [
        sys.executable,
        "-m",
        "smarkets.cli",
        *args,
        "--host",
        sandbox.host,
        "--port",
        str(sandbox.port),
        "--ca-file",
        sandbox.ca_file,
        "--user",
        "alice",
    ]


def environment(sandbox: SandboxProcess) -> dict[str, str]:
    return dict(os.environ, SMARKETS_PASSWORD=sandbox.accounts["alice"], PYTHONUNBUFFERED="1")


class Terminal:
    """The master end of a pty, collecting everything the program writes to it."""

    def __init__(self, rows: int = 30, columns: int = 110) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.data = b""

    def read(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            readable, _, _ = select.select([self.master], [], [], left)
            if not readable:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the slave end is closed everywhere
                return
            if not chunk:
                return
            self.data += chunk

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def frames(self) -> list[str]:
        """The screens drawn so far, escape codes removed."""
        return [ESCAPE.sub("", part) for part in self.text.split(HOME)[1:]]

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def price_rows(frame: str) -> list[str]:
    return [line for line in frame.splitlines() if line.startswith(CONTRACTS)]


def test_watch_redraws_in_place_and_logs_out_on_ctrl_c(sandbox: SandboxProcess) -> None:
    terminal = Terminal()
    process = subprocess.Popen(
        command(sandbox, "watch", "1c024"),
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=terminal.slave,
        env=environment(sandbox),
        start_new_session=True,
    )
    try:
        # Wait for a screen with the prices, then for the prices to change.
        distinct: set[tuple[str, ...]] = set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(distinct) < 2:
            terminal.read(0.5)
            distinct = {tuple(price_rows(f)) for f in terminal.frames() if price_rows(f)}
        assert len(distinct) >= 2, terminal.text[-3000:]
        frames = [f for f in terminal.frames() if price_rows(f)]
        screen = frames[-1]
        assert screen.startswith("Arsenal v Chelsea / Match Odds (1c024)   [open]")
        assert [row.split()[:2] for row in price_rows(screen)] == [c.split() for c in CONTRACTS]
        header = next(line for line in screen.splitlines() if line.startswith("CONTRACT"))
        assert header.split() == "CONTRACT BID SIZE OFFER SIZE LAST TRADE VOLUME".split()
        assert re.search(r"\d+\.\d\d% +\d[\d,]*\.\d\d", screen)  # a price with its size
        status = screen.rstrip("\n").splitlines()[-1]
        assert status.startswith("logged in as alice at ") and " updates" in status
        assert terminal.text.startswith(HIDE_CURSOR)
        # The connection state was shown before the prices came.
        assert any(
            f.strip().splitlines()[-1].startswith("connecting to") for f in terminal.frames()
        )

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        terminal.read(0.5)
        last = terminal.frames()[-1]
        assert last.rstrip("\n").splitlines()[-1].startswith("logged out")
        assert terminal.text.rstrip().endswith(SHOW_CURSOR)
        assert "Traceback" not in terminal.text
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        terminal.close()


def test_watch_plain_text_when_not_a_terminal(sandbox: SandboxProcess) -> None:
    process = subprocess.Popen(
        command(sandbox, "watch", "Match Odds", "--interval", "0.3"),  # by name
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(sandbox),
        text=True,
    )
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "\x1b" not in out
    frames = [frame for frame in out.split("\n\n") if frame.strip()]
    priced = [frame for frame in frames if price_rows(frame)]
    assert priced and all(len(price_rows(frame)) == 3 for frame in priced)
    assert frames[-1].splitlines()[-1].startswith("logged out")


def test_watch_unknown_market(sandbox: SandboxProcess) -> None:
    result = subprocess.run(
        command(sandbox, "watch", "9c024"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=environment(sandbox),
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "smarkets watch: error: no market 9c024 on the exchange" in result.stderr


def test_watch_bad_password(sandbox: SandboxProcess) -> None:
    env = dict(environment(sandbox), SMARKETS_PASSWORD="wrong")
    result = subprocess.run(
        command(sandbox, "watch", "1c024"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "smarkets watch: error:" in result.stderr and "UNAUTHORISED" in result.stderr
    assert "Traceback" not in result.stderr


def test_watch_resumes_a_dropped_connection(sandbox: SandboxProcess) -> None:
    """In-process, plain text: the connection drops under the watch; it says so, resumes the
    same session (the server keeps the subscription and replays), and goes on drawing."""
    import io
    import threading

    import smarkets
    from smarkets.watch import Watch

    client = smarkets.Smarkets(
        smarkets.Session(sandbox_settings(sandbox, "dave", socket_timeout=5.0))
    )
    out = io.StringIO()
    watch = Watch(client, "1c024", out, tty=False, interval=0.05)
    statuses: list[str] = []
    draw = watch.draw

    def recording_draw(force: bool = False) -> None:
        if not statuses or statuses[-1] != watch.status:
            statuses.append(watch.status)
        draw(force)

    watch.draw = recording_draw  # type: ignore[method-assign]
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(watch.run()), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while watch.updates < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        session_id = client.session.session
        assert session_id and watch.updates >= 5
        client.session.disconnect()  # the connection drops under the reading thread
        before = watch.updates
        while watch.updates < before + 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watch.updates >= before + 5, statuses
    finally:
        watch.stop()
        thread.join(15)
    assert result == [0]
    assert client.session.session == session_id  # the same session, resumed
    assert any(s.startswith("connection lost") for s in statuses), statuses
    assert any(s.startswith(f"resuming session {session_id}") for s in statuses), statuses
    assert any(s.endswith(", resumed)") for s in statuses), statuses
    assert statuses[-1] == "logged out"
    assert client.book("1c024") is not None
