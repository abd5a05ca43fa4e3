"""The client's books, kept from quotes over a long random run, equal the sandbox's own books.

Several accounts place and cancel random orders (some crossing, some immediate-or-cancel)
over real sockets against a sandbox without bots, while an observer session keeps its
books from the snapshot and the updates. At the end a second session subscribes and gets
the sandbox's books as a fresh ``market_quotes`` snapshot: the observer's books must equal
them level by level, with the same volume and latest trades.
"""

from __future__ import annotations

import random
import threading
import time

from support import sandbox_settings

import smarkets
from smarkets.proto import seto_pb2
from smarkets.sandbox.process import SandboxProcess
from smarkets.session import Received

MARKETS = ("1c024", "2c024")
CONTRACTS = {"1c024": ("1cccc", "2cccc", "3cccc"), "2c024": ("4cccc", "5cccc")}
TRADERS = ("alice", "bob", "carol")
ROUNDS = 120


def pump(client: smarkets.Smarkets, timeout: float) -> None:
    """Dispatch whatever arrives within ``timeout`` (without Smarkets.read's one-at-a-time)."""
    for event in client.session.read_events(timeout=timeout):
        if isinstance(event, Received):
            client.dispatch(event.payload)


def read_until(client: smarkets.Smarkets, name: str, timeout: float = 10.0) -> object:
    got: list[object] = []
    client.add_handler(name, got.append)
    try:
        deadline = time.monotonic() + timeout
        while not got:
            assert time.monotonic() < deadline, f"no {name} within {timeout}s"
            pump(client, 0.5)
    finally:
        client.del_handler(name, got.append)
    return got[0]


def trade_randomly(settings: smarkets.SessionSettings, seed: int, errors: list[BaseException]):
    rng = random.Random(seed)
    client = smarkets.Smarkets(smarkets.Session(settings))
    try:
        client.login()
        placed: list[smarkets.Order] = []
        for round_ in range(ROUNDS):
            for _ in range(rng.randint(1, 3)):
                market = rng.choice(MARKETS)
                order = smarkets.Order(
                    quantity=rng.choice([1000, 2000, 5000, 10000, 25000]),
                    price=rng.randrange(4000, 6001, 100),
                    side=rng.choice([smarkets.Order.BUY, smarkets.Order.SELL]),
                    market=market,
                    contract=rng.choice(CONTRACTS[market]),
                    time_in_force=rng.choice(
                        [seto_pb2.GOOD_TIL_CANCELLED] * 4 + [seto_pb2.IMMEDIATE_OR_CANCEL]
                    ),
                )
                placed.append(client.order(order))
            open_orders = [o for o in placed if o.id is not None and not o.done]
            for order in rng.sample(
                open_orders, min(len(open_orders), rng.choice([0, 0, 1, 1, 2]))
            ):
                client.cancel(order)
            if round_ % 50 == 25:
                client.cancel_all(rng.choice(MARKETS))
            client.flush()
            pump(client, 0.005)
        pump(client, 0.2)
        client.logout()
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def test_client_books_equal_the_sandbox_books_after_a_random_run() -> None:
    with SandboxProcess(tls=False, bots=0) as sandbox:
        observer = smarkets.Smarkets(
            smarkets.Session(sandbox_settings(sandbox, "dave", socket_timeout=10.0))
        )
        observer.login()
        for market in MARKETS:
            observer.subscribe(market)
        observer.flush()
        while any(observer.book(m) is None for m in MARKETS):
            pump(observer, 1.0)

        errors: list[BaseException] = []
        threads = [
            threading.Thread(
                target=trade_randomly,
                args=(sandbox_settings(sandbox, name), seed, errors),
                daemon=True,
            )
            for seed, name in enumerate(TRADERS)
        ]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            pump(observer, 0.05)  # keep up while they trade
        for thread in threads:
            thread.join()
        assert not errors, errors

        # The sandbox's books, as a fresh snapshot to a second session.
        checker = smarkets.Smarkets(smarkets.Session(sandbox_settings(sandbox, "alice")))
        checker.login()
        for market in MARKETS:
            checker.subscribe(market)
        checker.flush()
        while any(checker.book(m) is None for m in MARKETS):
            pump(checker, 1.0)
        # Everything the sandbox sent the observer before that is ahead of this pong.
        observer.ping()
        observer.flush()
        read_until(observer, "eto.pong")

        levels = trades = 0
        for market in MARKETS:
            mine, theirs = observer.book(market), checker.book(market)
            assert mine is not None and theirs is not None
            assert mine.contracts == theirs.contracts == list(CONTRACTS[market])
            assert mine.state == theirs.state == seto_pb2.MARKET_STATUS_OPEN
            for contract in theirs:
                expected = contract.depth(None)
                assert mine.depth(contract.id, None) == expected, contract.id
                assert mine.volume(contract.id) == contract.volume, contract.id
                recent = contract.executions  # the snapshot's latest trades
                assert mine.executions(contract.id)[-len(recent) :] == recent, contract.id
                levels += len(expected.bids) + len(expected.offers)
                trades += len(mine.executions(contract.id))
        # The run was not trivial: books have depth and trades happened.
        assert levels >= 10 and trades >= 10, (levels, trades)
        assert observer.books.ignored == 0
        checker.logout()
        observer.logout()
