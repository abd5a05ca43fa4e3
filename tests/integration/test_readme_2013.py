"""The three snippets of the 2013 SDK's README, as written there, against a real sandbox.

Each snippet is kept below word for word. What a run changes is listed next to it and
applied by :func:`adapt`, which checks that each change applies exactly once: the
credentials become the demo account's, the host and port the sandbox's, one line gives
the sandbox's CA (the README's server had a certificate from a public CA), and ``print``
statements become calls. The sandbox is started with a markets file that has the README's
market ``fc024`` and its contract ``fcccc``.

What the snippets do is watched from outside them: :meth:`smarkets.Smarkets.dispatch` is
wrapped to record the name and seq of every payload handed to the handlers, and the
callbacks snippet's prints are captured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import text_format
from support import sandbox_settings

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.sandbox.process import SandboxProcess

GETTING_STARTED = """\
import logging
logging.basicConfig(level=logging.DEBUG)
import smarkets
username = 'username'
password = 'password'
settings = smarkets.SessionSettings(username, password)
settings.host = 'api.smarkets.com'
settings.port = 3701
session = smarkets.Session(settings)
client = smarkets.Smarkets(session)
client.login()
client.ping()
client.flush()
client.read()
market_id = client.str_to_uuid128('fc024')
client.subscribe(market_id) # subscribe to a market
client.flush()
client.read()
order = smarkets.Order()
order.quantity = 400000 # £40 payout
order.price = 2500 # 25.00%
order.side = smarkets.Order.BUY
order.market = market_id
order.contract = client.str_to_uuid128('fcccc')
client.order(order)
client.flush()
client.read()
client.logout()
"""

RESUMING = """\
settings = smarkets.SessionSettings(username, password)
settings.host = 'api.smarkets.com'
settings.port = 3701
session_id = 'session-id'
inseq = 5
outseq = 5
session = smarkets.Session(settings, session_id, inseq, outseq)
client = smarkets.Smarkets(session)
client.login()
client.read()
"""

CALLBACKS = """\
from google.protobuf import text_format
def login_response(msg):
    print "eto.login_response", text_format.MessageToString(msg)
def global_callback(name, msg):
    print name, text_format.MessageToString(msg)
client.add_handler('eto.login_response', login_response)
client.add_global_handler(global_callback)
"""

MARKETS = {
    "markets": [
        {
            "id": "fc024",
            "name": "Match Odds",
            "event": "Readme Rovers v Example United",
            "contracts": [
                {"id": "fcccc", "name": "Readme Rovers"},
                {"id": "10cccc", "name": "Example United"},
            ],
        }
    ]
}
USERNAME = "alice"
PASSWORD = "alice-pw"


def adapt(snippet: str, changes: list[tuple[str, str]]) -> str:
    """``snippet`` with each ``(old, new)`` applied; each ``old`` must occur exactly once."""
    for old, new in changes:
        assert snippet.count(old) == 1, f"{old!r} occurs {snippet.count(old)} times"
        snippet = snippet.replace(old, new)
    return snippet


def for_sandbox(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    """The changes that point a snippet's settings at the sandbox."""
    return [
        ("settings.host = 'api.smarkets.com'", f"settings.host = {sandbox.host!r}"),
        (
            "settings.port = 3701\n",
            f"settings.port = {sandbox.port}\n"
            f"settings.ssl_kwargs = {{'ca_file': {sandbox.ca_file!r}}}\n",
        ),
    ]


CREDENTIALS = [
    ("username = 'username'", f"username = {USERNAME!r}"),
    ("password = 'password'", f"password = {PASSWORD!r}"),
]
PRINTS = [
    (
        'print "eto.login_response", text_format.MessageToString(msg)',
        'print("eto.login_response", text_format.MessageToString(msg))',
    ),
    (
        "print name, text_format.MessageToString(msg)",
        "print(name, text_format.MessageToString(msg))",
    ),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(tls=True, bots=0, markets=MARKETS) as process:
        yield process


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, Any]]:
    """``(name, seq, payload)`` of every payload any client hands to its handlers."""
    seen: list[tuple[str, int, Any]] = []
    original = smarkets.Smarkets.dispatch

    def recording(self: smarkets.Smarkets, payload: seto_pb2.Payload) -> str:
        name = original(self, payload)
        seen.append((name, payload.eto_payload.seq, payload))
        return name

    monkeypatch.setattr(smarkets.Smarkets, "dispatch", recording)
    return seen


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """The snippet's logging.basicConfig(level=DEBUG) is undone afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def run(code: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    namespace = {} if namespace is None else namespace
    exec(compile(code, "<README snippet>", "exec"), namespace)
    return namespace


def bob_offers(sandbox: SandboxProcess, price: int) -> None:
    """Another account rests an offer on fcccc (which every subscriber of fc024 hears of)."""
    bob = smarkets.Smarkets(smarkets.Session(sandbox_settings(sandbox, "bob", socket_timeout=5)))
    bob.login()
    try:
        order = bob.order(smarkets.Order(10_000, price, smarkets.Order.SELL, "fc024", "fcccc"))
        bob.flush()
        while order.state == "sent":
            bob.read()
        assert order.state == "accepted"
    finally:
        bob.logout()


# -- the getting-started script --------------------------------------------------------------


def test_getting_started_script(
    sandbox: SandboxProcess,
    dispatched: list[tuple[str, int, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    namespace = run(adapt(GETTING_STARTED, CREDENTIALS + for_sandbox(sandbox)))

    names = [name for name, _, _ in dispatched]
    # Each read() got the answer to what was just sent; the logout dispatched what came
    # behind the order's answer (the book's update) before its confirmation.
    assert names[:4] == [
        "eto.login_response",
        "eto.pong",
        "seto.market_quotes",
        "seto.order_accepted",
    ]
    assert names[-1] == "eto.logout"
    assert set(names[4:-1]) <= {"seto.contract_quotes"}
    seqs = [seq for _, seq, _ in dispatched]
    assert seqs == list(range(1, len(seqs) + 1))  # each payload once, in order

    login_response = dispatched[0][2].eto_payload.login_response
    assert login_response.reset == 2
    quotes = dispatched[2][2].market_quotes
    assert quotes.market == smarkets.str_to_uuid128("fc024")
    assert [q.contract for q in quotes.contract_quotes] == [
        smarkets.str_to_uuid128("fcccc"),
        smarkets.str_to_uuid128("10cccc"),
    ]
    accepted = dispatched[3][2].order_accepted
    order = namespace["order"]
    assert (accepted.seq, order.seq) == (4, 4)  # login 1, ping 2, subscribe 3, order 4
    assert order.state == "accepted" and order.id == accepted.order
    assert dispatched[-1][2].eto_payload.logout.reason == eto_pb2.LOGOUT_CONFIRMATION
    assert not namespace["session"].connected

    # The script logged at DEBUG: the library said what it did, and never the password.
    assert "logged in: session" in caplog.text
    assert PASSWORD not in caplog.text


# -- the resume script -------------------------------------------------------------------------


def test_resume_script(sandbox: SandboxProcess, dispatched: list[tuple[str, int, Any]]) -> None:
    # A session run part way: the getting-started script up to its subscription...
    part = GETTING_STARTED.split("order = smarkets.Order()")[0]
    first = run(adapt(part, CREDENTIALS + for_sandbox(sandbox)))
    assert [name for name, _, _ in dispatched] == [
        "eto.login_response",
        "eto.pong",
        "seto.market_quotes",
    ]
    # ...then its connection is cut.
    old = first["session"]
    old.disconnect()
    session_id, inseq, outseq = old.session, old.inseq, old.outseq
    assert (inseq, outseq) == (4, 4)  # received 1-3; sent login 1, ping 2, subscribe 3
    # While it is away the market moves: the exchange keeps that for the session.
    bob_offers(sandbox, 7000)
    before = len(dispatched)

    # The README's resume script, with that session's real numbers.
    numbers = [
        ("session_id = 'session-id'", f"session_id = {session_id!r}"),
        ("inseq = 5", f"inseq = {inseq}"),
        ("outseq = 5", f"outseq = {outseq}"),
    ]
    namespace = {"smarkets": smarkets, "username": USERNAME, "password": PASSWORD}
    resumed = run(adapt(RESUMING, for_sandbox(sandbox) + numbers), namespace)
    try:
        after = dispatched[before:]
        assert [name for name, _, _ in after] == ["eto.login_response", "seto.contract_quotes"]
        response = after[0][2].eto_payload.login_response
        assert response.session == session_id  # the same session, resumed
        assert response.reset == outseq + 1  # the server had everything we sent
        # Nothing lost and nothing doubled: the missed update arrived once, as seq 4, next
        # after the last payload the first run handled.
        quotes = after[1]
        assert quotes[1] == inseq == 4
        assert quotes[2].contract_quotes.contract == smarkets.str_to_uuid128("fcccc")
        assert [(q.price, q.quantity) for q in quotes[2].contract_quotes.offers] == [(7000, 10_000)]
        both_runs = dispatched[:3] + after  # (bob's client was recorded in between)
        assert [seq for name, seq, _ in both_runs if name.startswith("seto.")] == [3, 4]
        assert resumed["session"].session == session_id
    finally:
        resumed["client"].logout()


# -- the callbacks --------------------------------------------------------------------------------


def test_callbacks(
    sandbox: SandboxProcess,
    dispatched: list[tuple[str, int, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = GETTING_STARTED.split("client.login()")[0]  # up to the client being made
    namespace = run(adapt(setup, CREDENTIALS + for_sandbox(sandbox)))
    run(adapt(CALLBACKS, PRINTS), namespace)
    client = namespace["client"]
    client.login()
    client.ping()
    client.flush()
    client.read()
    client.logout()
    out = capsys.readouterr().out

    payloads = [payload for _, _, payload in dispatched]
    names = [name for name, _, _ in dispatched]
    assert names == ["eto.login_response", "eto.pong", "eto.logout"]
    lines = ["eto.login_response " + text_format.MessageToString(payloads[0].eto_payload)]
    lines += [
        f"{name} {text_format.MessageToString(p)}" for name, p in zip(names, payloads, strict=True)
    ]
    assert out == "".join(line + "\n" for line in lines)  # print adds one after the text
    first = out.split("\n\n")[0]
    assert first.startswith("eto.login_response seq: 1\ntype: PAYLOAD_LOGIN_RESPONSE\n")
    assert f'session: "{client.session.session}"' in first
    assert "eto.pong " in out and "eto.logout " in out
    assert PASSWORD not in out
