"""A fault-injecting TCP proxy for tests: cut, delay or stall a client's connections.

:class:`FaultProxy` listens on 127.0.0.1 and forwards each connection it accepts to a
target (the sandbox), byte for byte, with two threads per connection. It understands the
framing (PROTOCOL.md section 2) just enough to cut a connection at a chosen point:

* ``between`` frames: after exactly ``after_frames`` whole frames went through;
* inside a frame's length ``header`` (the first header of two or more bytes from there on:
  only a payload of 128 bytes or more has one);
* inside a ``payload``: half of the next frame's payload goes through.

Each new connection takes the next :class:`Cut` of the plan given with :meth:`add_faults`
(``None``: leave that connection alone); :func:`random_plan` makes a seeded plan.
:meth:`cut_all` cuts every open connection at once, :meth:`stall` stops every byte in both
directions (the connections stay open and silent, even when one side closes; new ones are
accepted but stay silent too) until :meth:`resume`, and :attr:`delay` holds each chunk
that long before forwarding it.

A cut closes both sides (``how="close"``: FIN; ``"reset"``: RST): whatever the proxy had
read beyond the cut point is thrown away, so the peers lose what was in flight, as on a
real network failure. Everything is bounded: at most ``max_connections`` are accepted, and
:meth:`stop` closes everything and joins the threads.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = ["Cut", "CutRecord", "FaultProxy", "FrameScanner", "random_plan"]

#: The directions of a connection: client to server, server to client.
C2S = "c2s"
S2C = "s2c"
WHERE = ("between", "header", "payload")
#: How many frames to look at for a frame with a long enough header before giving up and
#: cutting inside a payload instead.
HEADER_SEARCH = 2000


@dataclass(frozen=True)
class Cut:
    """Where to cut one connection: in ``direction``, after ``after_frames`` whole frames."""

    direction: str = S2C
    after_frames: int = 0
    where: str = "between"
    how: str = "reset"
    #: Seconds each chunk waits before being forwarded on this connection (0: none).
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.direction not in (C2S, S2C):
            raise ValueError(f"direction must be {C2S!r} or {S2C!r}")
        if self.where not in WHERE:
            raise ValueError(f"where must be one of {WHERE}")
        if self.how not in ("close", "reset"):
            raise ValueError("how must be 'close' or 'reset'")
        if self.after_frames < 0:
            raise ValueError("after_frames must be >= 0")


@dataclass(frozen=True)
class CutRecord:
    """A cut that happened: where it was planned, and where it really fell."""

    connection: int
    cut: Cut
    #: ``between``, ``header`` or ``payload``: where the cut fell (a ``header`` cut falls
    #: inside a payload when no long header came along).
    where: str
    #: Whole frames forwarded in the cut direction before the cut.
    frames: int
    #: Bytes forwarded in the cut direction before the cut.
    offset: int


def random_plan(
    rng: random.Random,
    count: int,
    *,
    s2c_frames: tuple[int, int] = (50, 600),
    c2s_frames: tuple[int, int] = (5, 60),
    c2s_share: float = 0.3,
    delay_share: float = 0.1,
    delay: float = 0.002,
) -> list[Cut]:
    """``count`` cuts drawn from ``rng``: every position kind, both directions, both ways.

    The kinds cycle (between, header, payload) so that each occurs; the direction, the
    number of frames before the cut, FIN or RST, and whether the connection is also
    slowed down by ``delay`` per chunk are drawn.
    """
    plan = []
    for index in range(count):
        where = WHERE[index % len(WHERE)]
        c2s = where != "header" and rng.random() < c2s_share
        low, high = c2s_frames if c2s else s2c_frames
        plan.append(
            Cut(
                direction=C2S if c2s else S2C,
                after_frames=rng.randint(low, high),
                where=where,
                how="reset" if rng.random() < 0.5 else "close",
                delay=delay if rng.random() < delay_share else 0.0,
            )
        )
    return plan


class FrameScanner:
    """Follows frame boundaries in one direction of a stream (no payload is kept).

    ``on_start(index, offset, first_byte)`` is called as each frame's first byte is seen,
    ``on_header(index, offset, header_len, payload_len)`` once its length header is
    complete; ``index`` counts frames from 0, ``offset`` is the frame's first byte in the
    stream. :attr:`frames` is how many frames are complete, :attr:`offset` how many
    bytes were fed.
    """

    def __init__(
        self,
        on_start: Callable[[int, int, int], None] | None = None,
        on_header: Callable[[int, int, int, int], None] | None = None,
    ) -> None:
        self.on_start = on_start
        self.on_header = on_header
        self.frames = 0
        self.offset = 0
        self._skip = 0  # bytes of the current frame after its header still to come
        self._header_len = 0
        self._value = 0
        self._start = 0

    def feed(self, data: bytes) -> None:
        """Follow ``data``, the next bytes of the stream."""
        i = 0
        size = len(data)
        while i < size:
            if self._skip:
                step = min(self._skip, size - i)
                self._skip -= step
                i += step
                if not self._skip:
                    self.frames += 1
                continue
            byte = data[i]
            if not self._header_len:
                self._start = self.offset + i
                if self.on_start is not None:
                    self.on_start(self.frames, self._start, byte)
            self._value |= (byte & 0x7F) << (7 * self._header_len)
            self._header_len += 1
            i += 1
            if not byte & 0x80:
                header_len, payload_len = self._header_len, self._value
                if self.on_header is not None:
                    self.on_header(self.frames, self._start, header_len, payload_len)
                self._skip = max(header_len + payload_len, 4) - header_len
                self._header_len = 0
                self._value = 0
                if not self._skip:
                    self.frames += 1
        self.offset += size


class _Planner:
    """Works out the byte offset of one planned cut as the frames go by."""

    def __init__(self, cut: Cut) -> None:
        self.cut = cut
        self.offset: int | None = 0 if cut.where == "between" and not cut.after_frames else None
        self.where = cut.where
        #: Whole frames before the cut point, once :attr:`offset` is known.
        self.frames = 0

    def on_start(self, index: int, offset: int, first_byte: int) -> None:
        cut = self.cut
        if self.offset is not None or cut.where != "header" or index < cut.after_frames:
            return
        if first_byte & 0x80:
            self.offset = offset + 1  # after the first of two or more header bytes
            self.frames = index

    def on_header(self, index: int, offset: int, header_len: int, payload_len: int) -> None:
        cut = self.cut
        if self.offset is not None:
            return
        if cut.where == "between":
            if index == cut.after_frames - 1:
                self.offset = offset + max(header_len + payload_len, 4)
                self.frames = cut.after_frames
        elif index >= cut.after_frames and payload_len >= 2:
            if cut.where == "payload" or index >= cut.after_frames + HEADER_SEARCH:
                self.offset = offset + header_len + payload_len // 2
                self.where = "payload"
                self.frames = index


@dataclass
class _Link:
    """One proxied connection."""

    number: int
    client: socket.socket
    server: socket.socket
    cut: Cut | None
    planner: _Planner | None
    scanners: dict[str, FrameScanner] = field(default_factory=dict)
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class FaultProxy:
    """A TCP proxy from 127.0.0.1 to ``target`` that cuts, delays and stalls connections."""

    def __init__(
        self,
        target: tuple[str, int],
        *,
        max_connections: int = 1000,
        chunk_size: int = 65536,
        join_timeout: float = 5.0,
    ) -> None:
        self.target = target
        self.max_connections = max_connections
        self.chunk_size = chunk_size
        self.join_timeout = join_timeout
        #: Seconds every chunk waits before it is forwarded (on top of a cut's own delay).
        self.delay = 0.0
        self._plan: list[Cut | None] = []
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._flowing = {C2S: threading.Event(), S2C: threading.Event()}
        for event in self._flowing.values():
            event.set()
        self._stopping = False
        self._armed = True
        #: The cuts made, in order.
        self.cuts: list[CutRecord] = []
        #: Connections accepted so far.
        self.connections = 0
        #: Bytes forwarded in each direction.
        self.forwarded = {C2S: 0, S2C: 0}

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen on a free port of 127.0.0.1 and start accepting."""
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)
        self._listener = listener
        self._spawn(self._accept_loop, "faultproxy-accept")
        return self

    @property
    def port(self) -> int:
        """The port to connect to instead of the target's."""
        assert self._listener is not None, "start() first"
        return int(self._listener.getsockname()[1])

    def stop(self) -> None:
        """Close every connection and the listener; wait for the threads."""
        self._stopping = True
        self.resume()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            self._close(link, "close")
        for thread in self._threads:
            thread.join(self.join_timeout)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- faults -------------------------------------------------------------------------

    def add_faults(self, faults: Iterable[Cut | None]) -> None:
        """Queue a fault for each of the next connections, in order (``None``: no fault)."""
        with self._lock:
            self._plan.extend(faults)

    @property
    def faults_left(self) -> int:
        """Planned faults not yet given to a connection."""
        with self._lock:
            return len(self._plan)

    def disarm(self) -> None:
        """Drop the faults not made yet, planned or pending on open connections."""
        with self._lock:
            self._plan.clear()
            self._armed = False

    def cut_all(self, how: str = "reset") -> int:
        """Cut every open connection now; return how many there were."""
        with self._lock:
            links = [link for link in self._links if not link.closed]
        for link in links:
            self._close(link, how)
        return len(links)

    def stall(self, direction: str | None = None) -> None:
        """Stop forwarding anything in ``direction`` (both by default), on every connection.

        New connections are accepted, but stay silent in that direction too.
        """
        for name in (C2S, S2C) if direction is None else (direction,):
            self._flowing[name].clear()

    def resume(self, direction: str | None = None) -> None:
        """Forward again after :meth:`stall`."""
        for name in (C2S, S2C) if direction is None else (direction,):
            self._flowing[name].set()

    @property
    def stalled(self) -> bool:
        """True while some direction is stalled."""
        return not all(event.is_set() for event in self._flowing.values())

    def open_connections(self) -> int:
        """Connections not closed yet."""
        with self._lock:
            return sum(1 for link in self._links if not link.closed)

    # -- plumbing -----------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping and self.connections < self.max_connections:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5.0)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                cut = self._plan.pop(0) if self._plan else None
                planner = _Planner(cut) if cut is not None else None
                link = _Link(self.connections, client, server, cut, planner)
                self._links.append(link)
            for direction in (C2S, S2C):
                scanner = FrameScanner()
                if planner is not None and cut is not None and cut.direction == direction:
                    scanner.on_start = planner.on_start
                    scanner.on_header = planner.on_header
                link.scanners[direction] = scanner
            if planner is not None and planner.offset == 0 and cut is not None:
                # Cut before a single byte went through.
                self._record(link, cut, planner, 0, 0)
                self._close(link, cut.how)
                continue
            self._spawn(self._pump, f"faultproxy-{link.number}-c2s", link, C2S)
            self._spawn(self._pump, f"faultproxy-{link.number}-s2c", link, S2C)

    def _pump(self, link: _Link, direction: str) -> None:
        src, dst = (link.client, link.server) if direction == C2S else (link.server, link.client)
        scanner = link.scanners[direction]
        cut = link.cut
        planner = link.planner if cut is not None and cut.direction == direction else None
        while not link.closed:
            try:
                data = src.recv(self.chunk_size)
            except OSError:
                data = b""
            # While stalled nothing goes through, not even the end of a connection: the
            # other peer must find out by itself (heartbeats), as behind a dead link.
            while not self._flowing[direction].wait(0.05):
                if link.closed or self._stopping:
                    return
            if not data:
                self._close(link, "close")
                return
            wait = self.delay + (cut.delay if cut is not None else 0.0)
            if wait > 0:
                time.sleep(wait)
            before = scanner.offset
            scanner.feed(data)
            if planner is not None and planner.offset is not None and self._armed:
                keep = planner.offset - before
                if keep <= len(data):
                    self._forward(link, dst, data[:keep], direction)
                    assert cut is not None
                    self._record(link, cut, planner, planner.frames, planner.offset)
                    self._close(link, cut.how)
                    return
            if not self._forward(link, dst, data, direction):
                return

    def _forward(self, link: _Link, dst: socket.socket, data: bytes, direction: str) -> bool:
        if not data:
            return True
        try:
            dst.sendall(data)
        except OSError:
            self._close(link, "close")
            return False
        with self._lock:
            self.forwarded[direction] += len(data)
        return True

    def _record(self, link: _Link, cut: Cut, planner: _Planner, frames: int, offset: int) -> None:
        with self._lock:
            self.cuts.append(CutRecord(link.number, cut, planner.where, frames, offset))

    def _close(self, link: _Link, how: str) -> None:
        with link.lock:
            if link.closed:
                return
            link.closed = True
        for sock in (link.client, link.server):
            # The other direction's thread may be blocked in recv() on this socket, which
            # keeps the kernel's socket alive past close(): shutdown() wakes it first.
            # SHUT_RD sends nothing, so with a zero linger the close() sends the RST.
            try:
                if how == "reset":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.shutdown(socket.SHUT_RD)
                else:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:  # pragma: no cover - nothing to do about it
                pass
