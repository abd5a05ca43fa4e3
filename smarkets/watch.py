"""``smarkets watch``: a live terminal view of one market, and the CLI's number formats.

The view shows, per contract, the best bid and offer with their sizes, the last
trade and the traded volume, read from the client's book
(:mod:`smarkets.book`), with the market's state and a status line saying where
the connection is (connecting, logged in, resuming…).  On a terminal it is
redrawn in place (ANSI: cursor home, erase; no curses); otherwise each redraw is
printed as plain text, at most once per ``interval``.

A dropped connection is resumed (with a growing pause between attempts), the
session keeping the subscription and the server replaying what was missed; a
session that cannot be resumed is replaced by a new one, subscribed again.
Ctrl-C (SIGINT) logs out and exits with status 0.

Units, as everywhere in the library: prices in basis points of percent odds
(``price_text(2500) == '25.00%'``), quantities and money in 1/10,000 of the
currency (``amount_text(400000) == '40.00'``).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any, TextIO

from smarkets.book import ContractBook, MarketBook
from smarkets.catalogue import ListedMarket, fetch_catalogue
from smarkets.client import Smarkets
from smarkets.errors import (
    Error,
    InvalidIdError,
    LoginError,
    NotLoggedInError,
    ProtocolError,
    SessionEndedError,
    SocketError,
)
from smarkets.proto import seto_pb2
from smarkets.protocol import ids
from smarkets.reconnect import ReconnectPolicy
from smarkets.units import amount_text, money_text, price_text

__all__ = [
    "Watch",
    "amount_text",
    "money_text",
    "price_text",
    "render",
]

log = logging.getLogger("smarkets.watch")

#: Erase the screen and hide the cursor (start); home the cursor (each frame).
CLEAR, HOME, ERASE_LINE, ERASE_BELOW = "\x1b[2J", "\x1b[H", "\x1b[K", "\x1b[J"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"

# read() as many payloads as arrive before its timeout.
_READ_ALL = 1 << 30

#: How the watch tries again after a failed connection or login: 0.5 s, then twice as long
#: each time up to 10 s, for ever (the session's own reconnect policy, the one schedule).
RETRY = ReconnectPolicy(max_attempts=None, initial_delay=0.5, max_delay=10.0, jitter=0.0)

# Least widths of the columns, so that the table does not jump about as prices change.
_MIN_WIDTHS = (16, 7, 9, 7, 9, 18, 10)

_STATUS_NAMES = {
    seto_pb2.MARKET_STATUS_OPEN: "open",
    seto_pb2.MARKET_STATUS_HALTED: "HALTED",
    seto_pb2.MARKET_STATUS_SETTLED: "SETTLED",
}


# -- the screen -----------------------------------------------------------------------------


def _level_text(level: Any) -> tuple[str, str]:
    if level is None:
        return "-", "-"
    return price_text(level.price), amount_text(level.quantity, 2)


def _trade_text(book: ContractBook) -> str:
    trade = book.last_trade
    if trade is None:
        return "-"
    return f"{price_text(trade.price)} x {amount_text(trade.quantity, 2)}"


def render(
    market: str,
    book: MarketBook | None,
    info: ListedMarket | None,
    status: str,
    width: int = 100,
) -> list[str]:
    """The lines of one frame of the watch screen (no escape codes), each at most ``width``.

    ``market`` is the market's id as given; ``book`` its book (``None`` before the
    snapshot); ``info`` its names from the published catalogue (``None`` if unknown);
    ``status``
    the connection's state, shown on the last line.
    """
    title = market
    if info is not None and info.name:
        title = f"{info.event} / {info.name} ({info.id})" if info.event else info.name
    state = ""
    if book is not None and book.state is not None:
        state = _STATUS_NAMES.get(book.state, str(book.state))
        if book.winner is not None:
            winner = ids.uuid128_to_str(book.winner, "contract")
            names = info.contracts if info is not None else {}
            state += f", winner {names.get(winner, winner)}"
    lines = [f"{title}   [{state}]" if state else title]
    names = info.contracts if info is not None else {}
    if book is None:
        rows: list[tuple[str, ...]] = []
        lines.append("")
        lines.append("waiting for the market's quotes...")
    else:
        rows = []
        for contract in book:
            bid_price, bid_size = _level_text(contract.best_bid)
            offer_price, offer_size = _level_text(contract.best_offer)
            label = f"{contract.id} {names.get(contract.id, '')}".rstrip()
            rows.append(
                (
                    label,
                    bid_price,
                    bid_size,
                    offer_price,
                    offer_size,
                    _trade_text(contract),
                    amount_text(contract.volume, 2),
                )
            )
    if book is not None:
        header = ("CONTRACT", "BID", "SIZE", "OFFER", "SIZE", "LAST TRADE", "VOLUME")
        widths = [
            max(minimum, *(len(row[i]) for row in [header, *rows]))
            for i, minimum in enumerate(_MIN_WIDTHS)
        ]
        align = "<>>>><>"
        rule = "-" * min(width, sum(widths) + 2 * (len(widths) - 1))
        lines.append(rule)
        for row in [header, *rows]:
            cells = [f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)]
            lines.append("  ".join(cells).rstrip())
            if row is header:
                lines.append(rule)
        lines.append(rule)
    lines.append(status)
    return [line[:width] for line in lines]


# -- the live loop ---------------------------------------------------------------------------


class Watch:
    """The ``smarkets watch`` loop: keep one market's book and draw it until stopped.

    ``client`` is a :class:`~smarkets.client.Smarkets` not yet logged in;
    ``market`` a market id (tagged hex) or name.  ``out`` receives the frames;
    ``tty`` chooses redrawing in place (True) or plain text (False);
    ``interval`` is the least time between two redraws.  ``width`` gives the
    screen's width (a callable, so a resized terminal is followed).
    """

    def __init__(
        self,
        client: Smarkets,
        market: str,
        out: TextIO,
        *,
        tty: bool,
        interval: float = 0.2,
        width: Callable[[], int] = lambda: 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.market = market
        self.out = out
        self.tty = tty
        self.interval = interval
        self.width = width
        self.clock = clock
        #: The connection's state as shown on the status line.
        self.status = "starting"
        #: Payloads of the market applied so far.
        self.updates = 0
        #: The market as the published catalogue lists it (``None`` until found).
        self.info: ListedMarket | None = None
        self.error: str | None = None
        self._market_id: str | None = self._parse_market(market)
        self._stop = False
        self._interruptible = False
        self._dirty = True
        self._last_draw = -1e9
        self._last_frame: list[str] | None = None
        self._session_id: str | None = None
        self._subscribed = False
        self._last_update: float | None = None
        client.add_handler("seto.market_quotes", self._on_quotes)
        client.add_handler("seto.contract_quotes", self._on_quotes)
        client.add_handler("seto.market_state", self._on_quotes)
        client.add_handler("seto.market_subscribe_rejected", self._on_rejected)

    @staticmethod
    def _parse_market(market: str) -> str | None:
        try:
            return ids.uuid128_to_str(ids.str_to_uuid128(market, kind="market"), "market")
        except InvalidIdError:
            return None  # a name: looked up in the catalogue

    # -- handlers -----------------------------------------------------------------------------

    def _ours(self, message: Any) -> bool:
        if self._market_id is None:
            return False
        if "market" in message.DESCRIPTOR.fields_by_name and message.HasField("market"):
            return ids.uuid128_to_str(message.market, "market") == self._market_id
        if isinstance(message, seto_pb2.ContractQuotes):
            # The published contract_quotes names only the contract: ours if our market's
            # snapshot listed it.
            book = self.client.book(self._market_id)
            return book is not None and message.contract in book
        return False

    def _look_up(self) -> None:
        """Find the market in the published catalogue (today's listings): its names, and
        its id when it was given by name. Without the catalogue, a market given by id is
        watched all the same, by id only."""
        try:
            info = fetch_catalogue(self.client).find(self._market_id or self.market)
        except (SocketError, ProtocolError, SessionEndedError, NotLoggedInError):
            raise  # the connection's trouble: the login is tried again
        except Error as exc:  # the listing could not be fetched or read
            if self._market_id is None:
                self.error = f"cannot look up market {self.market!r} by name: {exc}"
                self._stop = True
            else:
                log.warning("no names for market %s: %s", self._market_id, exc)
            return
        if info is None:
            if self._market_id is None:
                self.error = f"no market {self.market!r} in the catalogue"
                self._stop = True
            return
        self.info = info
        self._market_id = info.id
        self._dirty = True

    def _on_quotes(self, message: Any) -> None:
        if not self._ours(message):
            return
        self.updates += 1
        self._last_update = time.time()
        self._dirty = True

    def _on_rejected(self, message: seto_pb2.MarketSubscribeRejected) -> None:
        if self._ours(message):
            self.error = f"no market {self._market_id} on the exchange"
            self._stop = True

    # -- connection ---------------------------------------------------------------------------

    def _login(self, resuming: bool) -> None:
        """Log in (resuming if the session allows), retrying while the connection fails.

        Ctrl-C interrupts it at once (KeyboardInterrupt); refused credentials raise
        :class:`~smarkets.errors.LoginError`.
        """
        self._interruptible = True
        try:
            self._login_until_done(resuming)
        finally:
            self._interruptible = False

    def _login_until_done(self, resuming: bool) -> None:
        client = self.client
        session = client.session
        address = session.settings.address
        attempt = 0
        while not self._stop:
            if resuming and session.session:
                self._set_status(f"resuming session {session.session} at {address}...")
            else:
                self._set_status(f"connecting to {address}...")
            try:
                client.login()
                if self.info is None:
                    self._look_up()
                break
            except (SocketError, ProtocolError, NotLoggedInError) as exc:
                reason = str(exc)
            except LoginError:
                raise
            except SessionEndedError as exc:
                # Not resumable (the session expired, ...): the next login starts a new one.
                reason = str(exc)
            attempt += 1
            delay = RETRY.delay(attempt)
            self._set_status(f"connection failed ({reason}); retrying in {delay:g}s")
            self._sleep(delay)
            resuming = True
        if self._stop:
            return
        new_session = session.session != self._session_id
        self._session_id = session.session
        self._set_status(
            f"logged in as {session.settings.username} at {address}"
            f" (session {session.session}{', resumed' if not new_session else ''})"
        )
        if new_session:
            if self._market_id is not None:
                client.subscribe(self._market_id)
                self._subscribed = True
            client.flush()

    def _sleep(self, seconds: float) -> None:
        until = self.clock() + seconds
        while not self._stop and self.clock() < until:
            time.sleep(min(0.1, max(until - self.clock(), 0)))

    # -- drawing ------------------------------------------------------------------------------

    def _set_status(self, status: str) -> None:
        self.status = status
        self._dirty = True
        self.draw(force=True)

    def status_line(self) -> str:
        """The last line of the screen: connection state, updates, time of the last one."""
        parts = [self.status, f"{self.updates} updates"]
        if self._last_update is not None:
            parts.append("last " + time.strftime("%H:%M:%S", time.localtime(self._last_update)))
        return " | ".join(parts)

    def frame(self) -> list[str]:
        """The current frame's lines."""
        book = self.client.book(self._market_id) if self._market_id else None
        market = self._market_id or self.market
        return render(market, book, self.info, self.status_line(), self.width())

    def draw(self, force: bool = False) -> None:
        """Redraw if something changed and ``interval`` has passed (now, if ``force``)."""
        now = self.clock()
        if not self._dirty or (not force and now - self._last_draw < self.interval):
            return
        lines = self.frame()
        self._dirty = False
        self._last_draw = now
        if lines == self._last_frame:
            return
        self._last_frame = lines
        if self.tty:
            text = HOME + "".join(line + ERASE_LINE + "\n" for line in lines) + ERASE_BELOW
        else:
            text = "\n".join(lines) + "\n\n"
        self.out.write(text)
        self.out.flush()

    # -- running ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to log out and return (from a handler or another thread)."""
        self._stop = True

    def _on_sigint(self, signum: int, frame: Any) -> None:
        # While reading, only ask the loop to stop (it then logs out); while logging in or
        # waiting to retry, or at a second Ctrl-C, stop at once.
        if self._interruptible or self._stop:
            raise KeyboardInterrupt
        self._stop = True

    def run(self) -> int:
        """Watch until Ctrl-C (then log out: status 0) or a fatal error (status 1)."""
        previous = signal.getsignal(signal.SIGINT)
        in_main_thread = True
        try:
            signal.signal(signal.SIGINT, self._on_sigint)
        except ValueError:  # not the main thread: Ctrl-C is not ours to handle
            in_main_thread = False
        if self.tty:
            self.out.write(HIDE_CURSOR + CLEAR)
        try:
            return self._run()
        except KeyboardInterrupt:
            self._stop = True
            self.client.session.disconnect()
            return self._finish("interrupted", 130)
        finally:
            if in_main_thread:
                signal.signal(signal.SIGINT, previous)
            if self.tty:
                self.out.write(SHOW_CURSOR)
                self.out.flush()

    def _run(self) -> int:
        client = self.client
        session = client.session
        self._login(resuming=False)
        while not self._stop:
            try:
                wait = max(self.interval - (self.clock() - self._last_draw), 0.05)
                # Whatever arrives until the next redraw is due, through the client's own
                # dispatch (books, handlers, the session told what was processed).
                client.read(_READ_ALL, timeout=min(wait, 0.25))
            except SessionEndedError as exc:
                # What came before the end was dispatched by read().
                if not exc.resumable and exc.by_peer:
                    self.error = str(exc)
                    break
                self._set_status(f"connection lost ({exc})")
                self._login(resuming=True)
                continue
            except (SocketError, ProtocolError, NotLoggedInError) as exc:
                self._set_status(f"connection lost ({exc})")
                self._login(resuming=True)
                continue
            self.draw()
        if self.error is not None:
            session.disconnect()
            return self._finish(self.error, 1)
        self._set_status("logging out...")
        try:
            client.logout()
        except Error as exc:
            log.info("logout: %s", exc)
        return self._finish("logged out", 0)

    def _finish(self, message: str, code: int) -> int:
        self.status = message
        self._dirty = True
        self.draw(force=True)
        return code
