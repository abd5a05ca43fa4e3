"""``examples/resume.py`` against a sandbox with bots: every seq handled once across a break.

The example prints one line per payload its handler gets (``seq N  NAME ...``). Each test
breaks the session one way -- the connection cut under it (the reconnect policy resumes),
``session.disconnect()`` then ``client.login()``, the process killed with SIGKILL and run
again with the same ``--state`` file -- and checks, from what the example printed, that
the seqs handled run from 1 on with none missing and none twice, the application payloads
in order; that the break really happened (the connection events, the resume line); and
that what was sent during the break came as replayed copies.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smarkets.sandbox.process import SandboxProcess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resume.py"
#: A payload handled: ``seq     57  seto.contract_quotes   1cccc ...  (replayed)``.
HANDLED = re.compile(r"^seq +(?P<seq>\d+)  (?P<name>[a-z_.]+)\b.*?(?P<replayed>  \(replayed\))?$")
ACROSS = re.compile(
    r"^==> across the break: seq (?P<before>\d+) was the last before it, seq (?P<after>\d+)"
    r" the first application payload after it: (?P<verdict>.*)$"
)
VERDICT = "each exactly once, none missing, the application payloads in order"
SESSION_LEVEL = ("eto.",)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(tls=True, bots=3, seed=11) as sb:
        yield sb


_started: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_example_left_running() -> Iterator[None]:
    """A test that fails half-way does not leave its example running."""
    yield
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.kill()
            process.wait(10)


def example(sandbox: SandboxProcess, user: str, *args: str) -> subprocess.Popen[str]:
    """Start the example as ``user``, on market 1c024 of ``sandbox``."""
    assert sandbox.ca_file is not None
    command = [sys.executable, str(EXAMPLE), "--host", sandbox.host, "--port", str(sandbox.port)]
    command += ["--ca-file", sandbox.ca_file, "--user", user, "--market", "1c024", *args]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, SMARKETS_PASSWORD=sandbox.accounts[user]),
        text=True,
    )
    _started.append(process)
    return process


def handled(out: str) -> list[tuple[int, str, bool]]:
    """``(seq, handler name, replayed)`` of every payload the example printed, in order."""
    return [
        (int(m["seq"]), m["name"], bool(m["replayed"]))
        for line in out.splitlines()
        if (m := HANDLED.match(line))
    ]


def assert_each_seq_once(entries: list[tuple[int, str, bool]]) -> None:
    """Every seq from 1 to the last exactly once; the application payloads in seq order."""
    seqs = [seq for seq, _, _ in entries]
    assert len(seqs) == len(set(seqs)), f"a seq handled twice: {seqs}"
    assert sorted(seqs) == list(range(1, max(seqs) + 1)), f"a seq never handled: {seqs}"
    application = [seq for seq, name, _ in entries if not name.startswith(SESSION_LEVEL)]
    assert application == sorted(application), f"out of order: {application}"


def assert_the_gap_was_filled(out: str, entries: list[tuple[int, str, bool]] | None = None) -> None:
    """Each break line in ``out`` says nothing was missed, and between the seqs either side
    of it only session-level payloads were handled (``entries``: by every run)."""
    crossings = [m for line in out.splitlines() if (m := ACROSS.match(line))]
    assert crossings, out
    entries = handled(out) if entries is None else entries
    seqs = [seq for seq, _, _ in entries]
    for crossing in crossings:
        assert crossing["verdict"] == "nothing missed", crossing.group(0)
        before, after = int(crossing["before"]), int(crossing["after"])
        # Between the two only session-level payloads (the resume's login response).
        between = [e for e in entries if before < e[0] < after]
        assert all(name.startswith(SESSION_LEVEL) for _, name, _ in between), between
        assert set(range(before + 1, after)) <= set(seqs)


def finish(process: subprocess.Popen[str], timeout: float = 90) -> str:
    """Wait for the example to exit with status 0; its output.

    What it printed goes to the test's own output too, which pytest shows if the test fails.
    """
    out, err = process.communicate(timeout=timeout)
    print(f"--- stdout\n{out}--- stderr\n{err}")
    assert process.returncode == 0, f"exit status {process.returncode}\n{out}\n{err}"
    return out


def test_a_cut_connection_is_resumed_by_the_reconnect_policy(sandbox) -> None:
    out = finish(example(sandbox, "alice", "--drop-after", "10", "--count", "30"))
    lines = out.splitlines()
    assert any(line.startswith("==> cutting the connection after seq") for line in lines), out
    events = [line for line in lines if line.startswith("[connection] ")]
    assert [e.split(": ", 1)[1].split(" (")[0].split(",")[0] for e in events] == [
        "disconnected",
        "reconnecting",
        "connected",
    ], events
    entries = handled(out)
    assert_each_seq_once(entries)
    assert_the_gap_was_filled(out)
    # The resume's login response; what the exchange sent during the break came replayed.
    responses = [seq for seq, name, _ in entries if name == "eto.login_response"]
    assert len(responses) == 2, out
    replayed = [seq for seq, _, again in entries if again]
    assert replayed == list(range(responses[1] - len(replayed), responses[1])), out
    assert lines[-1] == f"==> seqs handled: 1-{entries[-1][0]}: {VERDICT}"
    assert entries[-1][1] == "eto.logout"


def test_a_disconnect_then_login_resumes_by_hand(sandbox) -> None:
    args = ["--drop-after", "10", "--count", "30", "--drop", "disconnect", "--pause", "1"]
    out = finish(example(sandbox, "bob", *args))
    lines = out.splitlines()
    resumed = [line for line in lines if line.startswith("==> client.login(): resuming session")]
    assert len(resumed) == 1, out
    assert not any(line.startswith("[connection] ") for line in lines)  # no policy at work
    entries = handled(out)
    assert_each_seq_once(entries)
    assert_the_gap_was_filled(out)
    # A second of a busy market: the exchange kept what it sent, and replayed it.
    assert sum(again for _, _, again in entries) >= 1, out
    assert lines[-1] == f"==> seqs handled: 1-{entries[-1][0]}: {VERDICT}"


class Lines(threading.Thread):
    """Collects a process's stdout lines as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.lines: list[str] = []

    def run(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, count: int, timeout: float = 60) -> None:
        """Until ``count`` payloads were printed after the first break was crossed."""
        limit = time.monotonic() + timeout
        while True:
            text = "\n".join(self.lines)
            crossed = text.find("==> across the break")
            if crossed >= 0 and len(handled(text[crossed:])) >= count:
                return
            if self.process.poll() is not None or time.monotonic() > limit:
                self.process.kill()
                raise AssertionError(f"the example did not get that far:\n{text}")
            time.sleep(0.01)


@pytest.mark.parametrize("after", [3, 25])
def test_a_process_killed_mid_stream_resumes_from_its_state_file(
    sandbox, tmp_path: Path, after: int
) -> None:
    state = tmp_path / "carol.session"
    # Run 1 cuts its connection once, then streams until it is killed with SIGKILL.
    first = example(sandbox, "carol", "--state", str(state), "--drop-after", "8", "--count", "0")
    reader = Lines(first)
    reader.start()
    reader.wait_for(after)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    reader.join(10)
    assert first.returncode == -signal.SIGKILL
    run1 = "\n".join(reader.lines)
    session = re.search(r"^==> logged in: new session (\S+), saved in ", run1, re.M)
    assert session, run1
    assert state.exists() and Path(f"{state}.sent").exists()
    time.sleep(1)  # the market moves on; the exchange keeps the session and what it sends

    # Run 2: same state file; it resumes the session after what run 1 recorded as handled.
    run2 = finish(
        example(sandbox, "carol", "--state", str(state), "--drop-after", "0", "--count", "30")
    )
    lines = run2.splitlines()
    resuming = re.fullmatch(r"resuming session (\S+) from seq (\d+)", lines[0])
    assert resuming and resuming[1] == session[1], lines[0]
    resume_seq = int(resuming[2])

    record = [line.split() for line in Path(f"{state}.handled").read_text().splitlines()]
    recorded = [(int(seq), name) for seq, _, name in record]
    printed1 = [(seq, name) for seq, name, _ in handled(run1)]
    printed2 = [(seq, name) for seq, name, _ in handled(run2)]
    # The record is the application's effect; each line is printed once written. A kill
    # between the write and the print leaves run 1's last record line unprinted.
    assert recorded[: len(printed1)] == printed1
    unprinted = recorded[len(printed1) : len(recorded) - len(printed2)]
    assert len(unprinted) <= 1 and recorded[len(recorded) - len(printed2) :] == printed2
    # Run 2 resumed right after the last application payload that run 1 recorded.
    run1_record = recorded[: len(printed1) + len(unprinted)]
    last = max(seq for seq, name in run1_record if not name.startswith(SESSION_LEVEL))
    assert resume_seq == last + 1

    # Across both runs, the two breaks of run 1 and its death: every seq once, in order.
    entries = handled(run1) + [(seq, name, False) for seq, name in unprinted] + handled(run2)
    assert_each_seq_once(entries)
    assert_the_gap_was_filled(run1, entries)
    assert_the_gap_was_filled(run2, entries)
    assert any(again for _, _, again in handled(run2)), run2  # sent while no process ran
    assert lines[-2] == (
        f"==> seqs handled: 1-{entries[-1][0]}: {VERDICT} (by every run: {state}.handled)"
    )
    # Run 2 logged out at --count: the session is over and its state cleared.
    assert entries[-1][1] == "eto.logout"
    assert not state.exists() and not Path(f"{state}.sent").exists()
