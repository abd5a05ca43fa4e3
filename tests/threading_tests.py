"""Multi-threaded use of the client, against a real sandbox exchange: ``ThreadingTestCase``.

The README of the 2013 SDK this project follows sends its readers here: a client and its
session are not to be shared between threads freely, but one thread may send while another
reads. The layout shown:

* a :class:`SendingThread` owns every call that sends. It runs the callables put on its
  work queue one after the other: ``client.login(False)`` (connect and send the login, but
  do not read its answer), ``client.ping``, placing orders, ``client.logout(False)``.
  The client is made with ``auto_flush=True``, so each call is sent at once;
* a :class:`ReceivingThread` owns :meth:`smarkets.Smarkets.read`: it reads in a loop, and
  a global handler puts a copy of every payload (``client.copy_payload``) on a queue, which
  the test reads from. It reads until :class:`smarkets.SocketDisconnected`, which a read
  raises once the logout is confirmed and the connection closed.

Neither thread waits for the other except through the queues, and no call is made from
two threads at once: the sending thread never reads, the reading thread never sends (the
session answers heartbeats and pings itself, from inside ``read()``).

pytest collects this file (``python_files`` in ``pyproject.toml``); run it alone with
``.venv/bin/pytest tests/threading_tests.py -v``.
"""

from __future__ import annotations

import itertools
import queue
import threading
import unittest
from collections.abc import Callable
from typing import Any

from support import sandbox_settings

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.names import payload_name
from smarkets.sandbox.process import SandboxProcess

#: Seconds to wait for anything before the test fails.
WAIT = 10.0

_ids = itertools.count(0x7100)


class SendingThread(threading.Thread):
    """Runs callables from a work queue, in order, until given ``None``.

    :meth:`submit` returns an event set once the callable has run; what it raised is
    kept in :attr:`errors` (the thread goes on with the next one).
    """

    def __init__(self) -> None:
        super().__init__(name="sender", daemon=True)
        self.work: queue.Queue[tuple[Callable[[], object], threading.Event] | None] = queue.Queue()
        self.errors: list[BaseException] = []

    def submit(self, fn: Callable[[], object]) -> threading.Event:
        done = threading.Event()
        self.work.put((fn, done))
        return done

    def call(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` in this thread and wait until it has run; raise what it raised."""
        errors = len(self.errors)
        if not self.submit(fn).wait(WAIT):
            raise AssertionError(f"the sending thread did not run {fn!r} in {WAIT}s")
        if len(self.errors) > errors:
            raise self.errors[-1]

    def stop(self) -> None:
        self.work.put(None)

    def run(self) -> None:
        while True:
            item = self.work.get()
            if item is None:
                return
            fn, done = item
            try:
                fn()
            except BaseException as exc:  # kept for the test
                self.errors.append(exc)
            finally:
                done.set()


class ReceivingThread(threading.Thread):
    """Reads until the connection closes; every payload dispatched goes on :attr:`received`
    as ``(name, copy of the payload)``."""

    def __init__(self, client: smarkets.Smarkets) -> None:
        super().__init__(name="receiver", daemon=True)
        self.client = client
        self.received: queue.Queue[tuple[str, seto_pb2.Payload]] = queue.Queue()
        #: Set when a read raised SocketDisconnected: the end, after a logout.
        self.disconnected = threading.Event()
        self.error: BaseException | None = None
        self.stopping = False
        client.add_global_handler(self.on_message)

    def on_message(self, name: str, message: seto_pb2.Payload) -> None:
        # The handler gets the payload being dispatched; a copy is what may be kept.
        self.received.put((name, self.client.copy_payload(message)))

    def run(self) -> None:
        while True:
            try:
                self.client.read()
            except smarkets.SocketDisconnected:
                self.disconnected.set()
                return
            except smarkets.SocketTimeout:
                if self.stopping:
                    return
            except BaseException as exc:  # kept for the test
                self.error = exc
                return


class ThreadingTestCase(unittest.TestCase):
    """One client, one thread sending and one reading, against a real sandbox."""

    sandbox: SandboxProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.sandbox = SandboxProcess(tls=True, bots=0, extra_args=["--throttle", "0"])
        cls.sandbox.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sandbox.stop()

    def setUp(self) -> None:
        settings = sandbox_settings(self.sandbox, "alice", socket_timeout=WAIT)
        self.client = smarkets.Smarkets(smarkets.Session(settings), auto_flush=True)
        session = self.client.session
        self.assertFalse(session.connected)
        self.assertIsNone(session.session)
        self.assertEqual((session.outseq, session.inseq), (1, 1))
        self.seen: list[tuple[str, seto_pb2.Payload]] = []

        self.sender = SendingThread()
        self.sender.start()
        self.sender.call(lambda: self.client.login(False))  # sent, not read
        self.assertTrue(session.connected)
        self.receiver = ReceivingThread(self.client)
        self.receiver.start()

        name, payload = self.next_payload()
        self.assertEqual(name, "eto.login_response")
        response = payload.eto_payload.login_response
        self.assertEqual(response.session, session.session)
        self.assertEqual(response.reset, 2)
        self.assertTrue(session.logged_in)

    def tearDown(self) -> None:
        try:
            if self.client.session.logged_in:
                self.logout()
        finally:
            self.receiver.stopping = True
            self.sender.stop()
            self.sender.join(WAIT)
            self.receiver.join(WAIT)
        self.assertFalse(self.sender.is_alive())
        self.assertFalse(self.receiver.is_alive())
        self.assertIsNone(self.receiver.error)
        self.assertEqual(self.sender.errors, [])

    # -- helpers -------------------------------------------------------------------------

    def next_payload(self) -> tuple[str, seto_pb2.Payload]:
        """The next payload the reading thread dispatched."""
        try:
            item = self.receiver.received.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(
                f"nothing received in {WAIT}s; so far {[n for n, _ in self.seen]}"
                f"; reader error {self.receiver.error!r}"
            ) from None
        self.seen.append(item)
        return item

    def wait_for(self, name: str, where: Callable[[Any], bool] = lambda m: True) -> Any:
        """The message of the next payload named ``name`` satisfying ``where``."""
        while True:
            kind, payload = self.next_payload()
            if kind == name:
                message = payload_name(payload)[1]
                if where(message):
                    return message

    def logout(self) -> None:
        """Log out through the sending thread; the reading thread gets the confirmation
        and then SocketDisconnected."""
        self.sender.call(lambda: self.client.logout(False))
        confirmation = self.wait_for("eto.logout")
        self.assertEqual(confirmation.logout.reason, eto_pb2.LOGOUT_CONFIRMATION)
        self.assertTrue(self.receiver.disconnected.wait(WAIT), "no SocketDisconnected")
        self.assertFalse(self.client.session.connected)

    def new_market(self) -> tuple[str, list[str]]:
        """A market of two contracts opened for this test only."""
        market = smarkets.uuid_to_str(next(_ids), "market")
        contracts = [smarkets.uuid_to_str(next(_ids), "contract") for _ in range(2)]
        self.sandbox.add_market(
            {
                "id": market,
                "name": f"Threads {market}",
                "event": "Threading tests",
                "contracts": [{"id": c, "name": f"Contract {c}"} for c in contracts],
            }
        )
        return market, contracts

    # -- tests -----------------------------------------------------------------------------

    def test_login_response_comes_first(self) -> None:
        self.assertEqual([name for name, _ in self.seen], ["eto.login_response"])
        self.assertEqual(self.client.session.inseq, 2)

    def test_ping(self) -> None:
        self.sender.call(self.client.ping)
        pong = self.wait_for("eto.pong")
        self.assertEqual(pong.type, eto_pb2.PAYLOAD_PONG)

    def test_pings_from_the_sender_while_the_receiver_reads(self) -> None:
        for _ in range(20):
            self.sender.submit(self.client.ping)
        for _ in range(20):
            self.wait_for("eto.pong")
        seqs = [p.eto_payload.seq for _, p in self.seen]
        self.assertEqual(seqs, list(range(1, 22)))  # login response, then 20 pongs, in order

    def test_order_accepted(self) -> None:
        market, contracts = self.new_market()
        order = smarkets.Order(20_000, 4000, smarkets.Order.BUY, market, contracts[0])
        self.sender.call(lambda: self.client.order(order))
        self.assertIn(order.state, ("sent", "accepted"))
        accepted = self.wait_for("seto.order_accepted", lambda m: m.seq == order.seq)
        self.assertEqual(order.state, "accepted")  # updated before the handlers ran
        self.assertEqual(order.id, accepted.order)

    def test_a_crossing_order_executes(self) -> None:
        market, contracts = self.new_market()
        order = smarkets.Order(30_000, 5500, smarkets.Order.BUY, market, contracts[1])
        self.sender.call(lambda: self.client.order(order))
        self.wait_for("seto.order_accepted", lambda m: m.seq == order.seq)

        # Another account sells into it, from a plain single-threaded client.
        bob = smarkets.Smarkets(
            smarkets.Session(sandbox_settings(self.sandbox, "bob", socket_timeout=WAIT))
        )
        bob.login()
        try:
            sell = bob.order(
                smarkets.Order(30_000, 5500, smarkets.Order.SELL, market, contracts[1])
            )
            bob.flush()
            while sell.state != "filled":
                bob.read()
        finally:
            bob.logout()

        executed = self.wait_for("seto.order_executed", lambda m: m.order == order.id)
        self.assertEqual((executed.price, executed.quantity), (5500, 30_000))
        self.assertEqual(order.state, "filled")
        self.assertEqual(order.filled, 30_000)

    def test_logout_is_confirmed_then_the_reader_is_disconnected(self) -> None:
        self.sender.call(self.client.ping)
        self.wait_for("eto.pong")
        self.logout()
        self.assertEqual([name for name, _ in self.seen][-1], "eto.logout")
        self.assertTrue(self.receiver.received.empty())
        self.assertFalse(self.client.session.logged_in)


if __name__ == "__main__":
    unittest.main()
