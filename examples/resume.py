#!/usr/bin/env python3
"""Surviving a break: a market stream that resumes its session with nothing missed.

Run it against a sandbox exchange (``python -m smarkets.sandbox`` prints its CA file, port
and demo accounts)::

    SMARKETS_PASSWORD=alice-pw python examples/resume.py --port 3701 --ca-file FILE

It fetches the published catalogue, subscribes to a market (``--market``, by id or name, or
the first listed) and prints
every payload its handler gets, with the payload's seq: the exchange numbers everything it
sends a session 1, 2, 3, ... Then it shows the two ways a trader survives a break.

**The connection is lost.** After ``--drop-after`` payloads the example breaks its own
connection, and the session resumes: the exchange replays what was sent meanwhile, so the
seqs handled go on from where they stopped, each once. Two ways to break it:

* ``--drop cut`` (the default) fails the connection under the session, as a network
  failure would. The session has a :class:`smarkets.ReconnectPolicy`, so the next
  ``read()`` reconnects and resumes by itself; ``on_connection_event`` tells what happens.
* ``--drop disconnect`` calls ``session.disconnect()`` (not a logout: the session stays
  resumable), waits ``--pause`` seconds while the market moves on, and resumes by hand
  with ``client.login()``. A policy does not undo a disconnect the script asked for.

**The process is lost.** With ``--state FILE``, the session is kept in a
:class:`smarkets.FileStateStore` (``FILE`` and ``FILE.sent``) and every payload handled is
written to ``FILE.handled``, seq first, before the handler returns. Kill the process (even
``kill -9``) and run it again with the same ``--state``: it resumes the saved session from
the seq after the last one in ``FILE.handled`` (``Session.resume_from``), so nothing it had
handled comes again and nothing after is skipped -- the exactly-once idiom of the
reliability docs. The resumed session keeps its subscription (``--market`` is for a new
one). Ctrl-C leaves the session resumable too; reaching ``--count`` logs out, which ends
the session (the next run starts a new one, and a new ``FILE.handled``).

What it prints: one line per payload handled (``seq 57  seto.contract_quotes ...``, with
``(replayed)`` for a copy the exchange resent after a break); a ``==>`` line saying what
the example does or checks; ``[connection]`` lines for the reconnect policy's events; and
at the end which seqs were handled, and whether each was handled exactly once, none
missing. (A seq that no handler ever gets can only be one the exchange resent as a gap fill:
a session-level payload, such as a heartbeat, lost with the connection, which carries
nothing for the application. Over a busy market the exchange sends no heartbeats.)
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _connect import add_connection_arguments, session_settings

import smarkets
from smarkets.catalogue import fetch_catalogue
from smarkets.proto import seto_pb2
from smarkets.protocol import is_session_level
from smarkets.units import amount_text, price_text

#: Levels of one side shown per update line.
SHOWN_LEVELS = 2


# -- display ---------------------------------------------------------------------------------


def levels_text(label: str, levels: Any) -> str:
    """``'bid 45.00% 12.00, 44.00% gone'``: each changed level and its new quantity."""
    shown = [
        f"{price_text(level.price)} {amount_text(level.quantity, 2) if level.quantity else 'gone'}"
        for level in list(levels)[:SHOWN_LEVELS]
    ]
    more = len(levels) - SHOWN_LEVELS
    return f"{label} {', '.join(shown)}{f' (+{more})' if more > 0 else ''}" if shown else ""


def describe(name: str, payload: seto_pb2.Payload) -> str:
    """What one payload says, in a few words."""
    if name == "eto.login_response":
        return f"session {payload.eto_payload.login_response.session}"
    if name == "seto.contract_quotes":
        quotes = payload.contract_quotes
        parts = [smarkets.uuid_to_str(quotes.contract, "contract")]
        parts += [levels_text("bid", quotes.bids), levels_text("offer", quotes.offers)]
        if quotes.executions:
            parts.append(f"{len(quotes.executions)} traded")
        return "  ".join(part for part in parts if part)
    if name == "seto.market_quotes":
        snapshot = payload.market_quotes
        market = smarkets.uuid_to_str(snapshot.market, "market")
        return f"snapshot of {market}: {len(snapshot.contract_quotes)} contracts"
    if name == "seto.market_state":
        state = seto_pb2.MarketStatus.Name(payload.market_state.state)
        return f"market is now {state.removeprefix('MARKET_STATUS_').lower()}"
    if name == "seto.http_found":
        return f"a listing of the catalogue: {payload.http_found.url}"
    if name == "seto.invalid_request":
        return "a listing the exchange does not serve"
    return ""


def ranges_text(seqs: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``'1-3, 5'``."""
    parts: list[str] = []
    start = previous = None
    for seq in sorted(set(seqs)):
        if previous is not None and seq == previous + 1:
            previous = seq
            continue
        if start is not None:
            parts.append(f"{start}-{previous}" if previous != start else f"{start}")
        start = previous = seq
    if start is not None:
        parts.append(f"{start}-{previous}" if previous != start else f"{start}")
    return ", ".join(parts) or "none"


def verdict(handled: list[tuple[int, bool]]) -> str:
    """Whether the seqs ``handled`` (``(seq, is application payload)``, in the order
    handled) run from the first to the last, each once, the application ones in order."""
    seqs = [seq for seq, _ in handled]
    if not seqs:
        return "no seqs handled"
    twice = sorted(seq for seq, times in Counter(seqs).items() if times > 1)
    missing = sorted(set(range(min(seqs), max(seqs) + 1)) - set(seqs))
    application = [seq for seq, is_application in handled if is_application]
    in_order = application == sorted(set(application))
    text = f"seqs handled: {ranges_text(seqs)}"
    if not twice and not missing and in_order:
        return f"{text}: each exactly once, none missing, the application payloads in order"
    if missing:
        text += f"; never handled: {ranges_text(missing)}"
    if twice:
        text += f"; handled twice: {ranges_text(twice)}"
    if not in_order:
        text += "; application payloads OUT OF ORDER"
    return text


# -- the record of what was handled (with --state) -------------------------------------------


class Record:
    """``FILE.handled``: one line per payload handled, ``SEQ A|S NAME`` (A: application,
    S: session-level), written before the handler returns. It is the application's own
    record of what it has done, and so what it resumes from after a crash."""

    def __init__(self, path: Path, new_session: bool) -> None:
        self.path = path
        if new_session or not path.exists():
            path.write_bytes(b"")  # a new session is numbered from 1 again
        else:
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):  # a line cut short by a kill: not written
                path.write_bytes(data[: data.rfind(b"\n") + 1])
        self.lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    @property
    def handled(self) -> list[tuple[int, bool]]:
        """Every seq recorded and whether it was an application payload, in the order handled."""
        return [(int(fields[0]), fields[1] == "A") for fields in self.lines]

    @property
    def last_application_seq(self) -> int:
        """The last application payload recorded (0 if none): where to resume after."""
        return max((int(f[0]) for f in self.lines if f[1] == "A"), default=0)

    def write(self, seq: int, application: bool, name: str) -> None:
        """One line, in one write: in the file (the OS has it) before this returns."""
        fields = [str(seq), "A" if application else "S", name]
        os.write(self._fd, (" ".join(fields) + "\n").encode())
        self.lines.append(fields)


# -- the stream --------------------------------------------------------------------------------


class Stream:
    """The handler and what it remembers: the seqs handled, and where the last break was."""

    def __init__(self, client: smarkets.Smarkets) -> None:
        self.client = client
        #: With ``--state``: the record of what was handled, in this run and the earlier ones.
        self.record: Record | None = None
        #: Every seq handled by this process, in order, and whether it was an application
        #: payload (the others are the session layer's own: login responses, logouts, ...).
        self.handled: list[tuple[int, bool]] = []
        #: The session's id as far as this process knows (a saved one, with ``--state``).
        self.session_id = client.session.session
        #: Application payloads handled by this process.
        self.count = 0
        #: The last seq handled before a break, until the first application payload after it.
        self.break_after: int | None = None
        client.add_global_handler(self.on_payload)

    def on_payload(self, name: str, payload: seto_pb2.Payload) -> None:
        """The global handler, called for every payload: record it, print it with its seq."""
        eto = payload.eto_payload
        seq = eto.seq
        application = not is_session_level(payload)
        if self.record is not None:
            self.record.write(seq, application, name)  # the effect first, then the report
        what = describe(name, payload)
        if name == "eto.login_response":
            what += self.logged_in(eto.login_response.session, seq)
        replayed = "  (replayed)" if eto.is_replay else ""
        print(f"seq {seq:>6}  {name:<22} {what}{replayed}".rstrip())
        self.handled.append((seq, application))
        if not application:
            return
        self.count += 1
        if self.break_after is not None:
            self.check_the_break(seq)

    def logged_in(self, session_id: str, seq: int) -> str:
        """A login response: a new session, or a resumed one (and from which seq)."""
        resumed, self.session_id = session_id == self.session_id, session_id
        if not resumed:
            return " (a new session)"
        inseq = self.client.session.inseq  # the next seq the session expects
        if inseq > seq:
            return " (resumed: nothing was sent meanwhile)"
        # The login response is the session layer's own: it is acted on as soon as it
        # arrives, ahead of the payloads the exchange now replays to fill the gap.
        return f" (resumed: the exchange replays from seq {inseq})"

    def on_connection_event(self, event: smarkets.ConnectionEvent) -> None:
        """What the reconnect policy does: say so."""
        if event.state is smarkets.ConnectionState.DISCONNECTED:
            self.mark_break()  # the policy takes over: it resumes at the session's inseq
        print(f"[connection] {event}")

    def mark_break(self) -> None:
        """A break starts now: remember the last seq received before it (the session resumes
        at its ``inseq``, the next seq it expects)."""
        if self.break_after is None:
            self.break_after = self.client.session.inseq - 1

    def check_the_break(self, first: int) -> None:
        """At an application payload after a break: was anything missed in between?"""
        before = self.break_after
        assert before is not None
        if first <= before:
            return  # received before the break, handled after it
        self.break_after = None
        handled = {seq for seq, _ in self.all_handled()}
        missing = [seq for seq in range(before + 1, first) if seq not in handled]
        print(
            f"==> across the break: seq {before} was the last before it, seq {first} the first"
            " application payload after it: "
            + ("nothing missed" if not missing else f"NOT HANDLED: {ranges_text(missing)}")
        )

    def all_handled(self) -> list[tuple[int, bool]]:
        """What was handled in this session: by this process, or by every run (``--state``)."""
        return self.record.handled if self.record is not None else self.handled


def cut_connection(session: smarkets.Session) -> None:
    """Fail the connection under the session, as a network failure would (for this demo
    only: a real script never does this). The session's next read finds it closed."""
    fd = session.fileno()
    if fd >= 0:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)


# -- the steps --------------------------------------------------------------------------------


def subscribe(client: smarkets.Smarkets, wanted: str | None) -> str:
    """Choose the market (``wanted``: an id or a name; else the first listed) from the
    published catalogue, and subscribe to it; return its id. ``LookupError`` if there is
    none."""
    catalogue = fetch_catalogue(client)  # the answers go through the handlers too
    info = catalogue.find(wanted) if wanted is not None else next(iter(catalogue), None)
    if info is None:
        raise LookupError(f"no market {wanted!r}" if wanted else "no market listed")
    print(f"==> subscribing to {info.event} / {info.name} ({info.id})")
    client.subscribe(info.id)
    client.flush()
    return info.id


def start(client: smarkets.Smarkets, stream: Stream, args: argparse.Namespace) -> None:
    """Log in: a new session, or (``--state``) the saved one, resumed exactly once."""
    session = client.session
    if args.state is not None:
        record_path = Path(f"{args.state}.handled")
        if session.session is None:
            print(f"==> no saved session in {args.state}: starting a new one")
        else:
            # The exactly-once idiom: resume after the last payload that our own record says
            # was handled. The exchange replays from there; nothing before comes again.
            stream.record = Record(record_path, new_session=False)
            last = stream.record.last_application_seq
            if last:
                session.resume_from(last + 1)
            print(f"resuming session {session.session} from seq {session.inseq}")
            stream.mark_break()
            try:
                client.login()
            except smarkets.UnknownSessionError as exc:  # expired, or the exchange restarted
                print(f"==> the saved session cannot be resumed ({exc}): starting a new one")
                stream.break_after = None
            else:
                print(
                    f"==> resumed session {session.session}: the exchange kept its"
                    " subscription, and replays what this process has not handled"
                )
                return
        stream.record = Record(record_path, new_session=True)
    client.login()
    saved = f", saved in {args.state}" if args.state else ""
    print(f"==> logged in: new session {session.session}{saved}")
    subscribe(client, args.market)


def drop(client: smarkets.Smarkets, stream: Stream, args: argparse.Namespace) -> None:
    """Break the connection: cut it (the policy resumes), or disconnect and log in again."""
    session = client.session
    last = max(seq for seq, _ in stream.all_handled())
    if args.drop == "cut":
        print(
            f"==> cutting the connection after seq {last}, as a network failure would: what"
            " was received already is handled first, then the reconnect policy resumes the"
            " session"
        )
        cut_connection(session)
        return
    print(
        f"==> session.disconnect() after seq {last}: not a logout, session {session.session}"
        f" stays resumable; the market moves on for {args.pause:g}s"
    )
    session.disconnect()
    stream.mark_break()
    time.sleep(args.pause)
    print(
        f"==> client.login(): resuming session {session.session} from seq {session.inseq}"
        " (what was received before the break is handled first)"
    )
    client.login()


def run(client: smarkets.Smarkets, stream: Stream, args: argparse.Namespace) -> int:
    """Stream, break and resume, stop; returns the exit status."""
    start(client, stream, args)
    dropped = not args.drop_after
    while not args.count or stream.count < args.count:
        if not dropped and stream.count >= args.drop_after:
            dropped = True
            drop(client, stream, args)
        try:
            client.read()
        except smarkets.SocketTimeout:
            continue  # a quiet market; reading keeps the heartbeats going
    print(f"==> {stream.count} application payloads handled by this process; logging out")
    client.logout()
    if args.state:
        print(f"==> {verdict(stream.all_handled())} (by every run: {args.state}.handled)")
        print(f"==> the session is over: {args.state} is cleared, the next run starts a new one")
    else:
        print(f"==> {verdict(stream.all_handled())}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options, stream until ``--count``; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Stream a market, print every payload with its seq, break the connection"
        " and resume the session with nothing missed; with --state, survive a restart too."
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--count",
        type=int,
        default=60,
        metavar="N",
        help="log out after N application payloads in this run (%(default)s; 0: never)",
    )
    parser.add_argument(
        "--drop-after",
        type=int,
        default=20,
        metavar="N",
        help="break the connection after N application payloads (%(default)s; 0: never)",
    )
    parser.add_argument(
        "--drop",
        choices=("cut", "disconnect"),
        default="cut",
        help="cut: fail the connection as a network failure would, and let the reconnect"
        " policy resume; disconnect: session.disconnect(), then client.login() by hand"
        " (%(default)s)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="with --drop disconnect, how long to stay disconnected (%(default)s)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep the session in FILE (and FILE.sent) and record what was handled in"
        " FILE.handled; run again with the same FILE to resume after the process died (the"
        " resumed session keeps its subscription)",
    )
    args = parser.parse_args(argv)
    # One line at a time, even into a pipe or a file: what was printed is there up to a kill.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    try:
        settings = session_settings(args)
    except smarkets.SettingsError as exc:
        parser.error(str(exc))

    session = smarkets.Session(
        settings,
        # With --state, the session outlives the process; without, it lives in memory.
        state_store=smarkets.FileStateStore(args.state) if args.state else None,
        # When the connection fails, reconnect and resume inside read(), instead of raising.
        reconnect=smarkets.ReconnectPolicy(),
    )
    client = smarkets.Smarkets(session)
    stream = Stream(client)
    session.on_connection_event = stream.on_connection_event
    try:
        return run(client, stream, args)
    except KeyboardInterrupt:
        if args.state and session.session is not None:
            session.disconnect()  # not a logout: the session stays resumable
            print(
                f"interrupted: disconnected without logging out; session {session.session}"
                f" stays resumable: run again with --state {args.state}"
            )
            return 0
        print("interrupted")
        code = 0
    except LookupError as exc:  # no such market: nothing to stream
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    except smarkets.Error as exc:  # e.g. the policy gave up: the exchange cannot be reached
        print(f"error: {exc}", file=sys.stderr)
        if args.state and session.session is not None:
            session.disconnect()
            print(f"session {session.session} stays saved in {args.state}", file=sys.stderr)
            return 1
        code = 1
    if session.logged_in:
        client.logout()
        print("logged out")
    return code


if __name__ == "__main__":
    sys.exit(main())
