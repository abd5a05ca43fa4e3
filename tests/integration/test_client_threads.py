"""One thread reads while another queues and flushes, over a real socket."""

from __future__ import annotations

import threading

from scripted_server import ScriptedServer, ServerConnection, payload, uuid

import smarkets

ORDERS = 60


def answer_every_order(conn: ServerConnection) -> None:
    conn.accept_login(extensions=1)  # the orders carry references (an extension)
    for _ in range(ORDERS):
        create = conn.expect("seto.order_create")
        conn.send(
            payload(
                "order_accepted",
                seq=create.eto_payload.seq,
                order=uuid(create.eto_payload.seq * 100),
                reference=create.order_create.reference,
            )
        )
    conn.expect_end()


def test_one_thread_reads_while_another_flushes(make_settings) -> None:
    with ScriptedServer(answer_every_order) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port)))
        client.login()
        accepted: list[smarkets.Order] = []
        by_handler: list[int] = []
        client.add_handler("seto.order_accepted", lambda message: by_handler.append(message.seq))
        failures: list[BaseException] = []

        def reader() -> None:
            try:
                client.read(ORDERS)
            except BaseException as exc:  # reported below
                failures.append(exc)

        thread = threading.Thread(target=reader)
        thread.start()
        placed: list[smarkets.Order] = []
        for n in range(ORDERS):
            order = smarkets.Order(1000 + n, 2500, smarkets.Order.BUY, "fc024", "1cccc")
            order.reference = f"order-{n}"
            order.on_accepted = lambda order, message: accepted.append(order)
            placed.append(client.order(order))
            if n % 3 == 2 or n == ORDERS - 1:
                client.flush()
        thread.join(10)
        assert not thread.is_alive()
        assert not failures, failures
        client.logout()

    seqs = [order.seq for order in placed]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == ORDERS
    assert sorted(by_handler) == seqs
    assert all(order.state == "accepted" for order in placed)
    assert sorted(accepted, key=lambda o: o.seq) == placed
    assert [order.id.low for order in placed] == [seq * 100 for seq in seqs]
