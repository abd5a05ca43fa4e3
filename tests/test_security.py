"""Security guarantees: secrets never shown, TLS verified by default, passwords kept hashed.

* Passwords and login cookies never appear in a ``repr()``/``str()`` (settings, the generated
  ``seto.Login`` and ``seto.Payload`` classes), nor in any log line of a whole session, client
  and sandbox both at DEBUG (``smarkets.wire`` included), nor in a session journal.
* TLS is on by default and verifies the certificate and the host name: a self-signed or
  expired certificate, or a sandbox whose CA the client was not given, is refused; plain TCP
  needs ``ssl=False`` spelled out.
* The sandbox keeps salted scrypt hashes only (nothing reachable from the server, nor left
  behind by its command line, holds a plaintext password) and compares them in constant time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import io
import json
import logging
import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from support import sandbox_settings

import smarkets
from smarkets import redact
from smarkets.proto import MASKED_CLASSES, eto_pb2, seto_pb2
from smarkets.protocol import LoginRequested, Received
from smarkets.sandbox import cli
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.exchange.accounts_file import AccountSpec, load_accounts
from smarkets.sandbox.exchange.markets_file import default_catalogue, default_markets
from smarkets.sandbox.process import SandboxProcess
from smarkets.sandbox.server import SandboxServer, ServerConfig
from smarkets.sandbox.server import credentials as accounts_module
from smarkets.sandbox.server.credentials import CredentialStore

USER = "trader"
PASSWORD = "Pw-3c1f9e0a-must-never-be-seen"
WRONG_PASSWORD = "Wrong-77b2d4e8-must-never-be-seen"
COOKIE = b"Cookie-5e8a0c3d-must-never-be-seen"
SECRETS = (PASSWORD, WRONG_PASSWORD, COOKIE.decode())


def assert_no_secret(text: str, where: str) -> None:
    """Fail naming ``where`` if any of the test's secrets (or a fragment) is in ``text``."""
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked in {where}"
        marker = secret.split("-")[1]  # the random part alone, in case of partial masking
        assert marker not in text, f"part of {secret!r} leaked in {where}"


def login_payload() -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_LOGIN)
    payload.eto_payload.seq = 1
    payload.eto_payload.type = eto_pb2.PAYLOAD_LOGIN
    payload.login.username = USER
    payload.login.password = PASSWORD
    payload.login.cookie = COOKIE
    return payload


# -- repr and str of messages and settings --------------------------------------------------


def test_the_classes_that_can_carry_a_secret_are_masked() -> None:
    assert set(MASKED_CLASSES) == {seto_pb2.Login, seto_pb2.Payload}
    assert all(redact.is_masked(cls) for cls in MASKED_CLASSES)
    for cls in (seto_pb2.Uuid128, seto_pb2.OrderCreate, eto_pb2.Payload, eto_pb2.Login):
        assert not redact.is_masked(cls), cls
    # a second call patches the same classes again, nothing else
    assert set(redact.mask_message_reprs(eto_pb2, seto_pb2)) == set(MASKED_CLASSES)


RENDERINGS = {
    "repr": repr,
    "str": str,
    "f-string": lambda m: f"{m} {m!r} {m!s}",
    "percent": lambda m: "%s %r" % (m, m),  # noqa: UP031 - what a log call does
    "format": lambda m: "{} {!r}".format(m, m),  # noqa: UP032
    "print": lambda m: _printed(m),
    "container": lambda m: repr([m, {"x": m}, (m,)]),
    "logging": lambda m: logging.Formatter().format(
        logging.LogRecord("x", logging.DEBUG, __file__, 1, "%s %r", (m, m), None)
    ),
}


def _printed(message: Any) -> str:
    out = io.StringIO()
    print(message, file=out)
    return out.getvalue()


@pytest.mark.parametrize("render", sorted(RENDERINGS))
@pytest.mark.parametrize("which", ["payload", "login"])
def test_reprs_of_messages_mask_password_and_cookie(render: str, which: str) -> None:
    payload = login_payload()
    message = payload if which == "payload" else payload.login
    text = RENDERINGS[render](message)
    assert_no_secret(text, f"{render} of a {which}")
    assert USER in text and redact.MASK in text  # the rest is shown, the secrets masked


def test_masking_leaves_the_message_and_its_bytes_alone() -> None:
    payload = login_payload()
    data = payload.SerializeToString()
    repr(payload)
    str(payload.login)
    assert payload.login.password == PASSWORD and payload.login.cookie == COOKIE
    assert payload.SerializeToString() == data
    again = seto_pb2.Payload.FromString(data)
    assert again.login.password == PASSWORD and again == payload


def test_masking_is_in_force_after_importing_nothing_but_the_generated_module() -> None:
    code = (
        "from smarkets.proto.seto_pb2 import Login\n"
        f"print(repr(Login(username='u', password={PASSWORD!r}, cookie={COOKIE!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert_no_secret(result.stdout + result.stderr, "a fresh interpreter")
    assert redact.MASK in result.stdout


def test_events_and_redacted_text_mask_secrets() -> None:
    payload = login_payload()
    texts = [
        repr(LoginRequested(payload, None, 1)),
        repr(Received(payload)),
        redact.redacted_text(payload),
    ]
    for text in texts:
        assert_no_secret(text, text)
    assert redact.redacted(payload) is not payload
    assert payload.login.password == PASSWORD  # the copy was masked, not the original


def test_settings_never_show_secrets() -> None:
    settings = smarkets.SessionSettings(USER, PASSWORD, cookie=COOKIE)
    copy = settings.copy()
    for text in (repr(settings), str(settings), f"{settings}", repr(vars(settings)), repr(copy)):
        assert_no_secret(text, text)
    assert copy.password == PASSWORD and copy.cookie == COOKIE


# -- plain TCP is an explicit choice --------------------------------------------------------


def test_tls_is_the_default_and_plain_tcp_needs_ssl_false() -> None:
    assert smarkets.SessionSettings(USER, PASSWORD).ssl is True
    assert smarkets.SessionSettings(USER, PASSWORD, ssl=False).ssl is False
    for almost_false in (0, None, "", "false", "no"):
        with pytest.raises(smarkets.SettingsError, match="ssl must be True or False"):
            smarkets.SessionSettings(USER, PASSWORD, ssl=almost_false)  # type: ignore[arg-type]
        settings = smarkets.SessionSettings(USER, PASSWORD)
        with pytest.raises(smarkets.SettingsError):
            settings.ssl = almost_false  # type: ignore[assignment]
        assert settings.ssl is True


# -- TLS: certificates and host names are verified -------------------------------------------


@contextlib.contextmanager
def tls_server(context: ssl.SSLContext) -> Iterator[tuple[int, list[BaseException]]]:
    """A server accepting one TLS connection; yields its port and the handshake errors."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            raw, _ = listener.accept()
        except OSError:
            return
        with raw:
            raw.settimeout(10)
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError) as exc:
                errors.append(exc)

    thread = threading.Thread(target=serve, name="tls-server", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], errors
    finally:
        listener.close()
        thread.join(15)


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context whose certificate signs itself; and that certificate as a PEM file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "self-signed.pem"
    key_file = tmp_path / "self-signed-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file))
    return context, cert_file


def tls_settings(port: int, **ssl_kwargs: Any) -> smarkets.SessionSettings:
    return smarkets.SessionSettings(
        USER, PASSWORD, host="127.0.0.1", port=port, ssl_kwargs=ssl_kwargs, socket_timeout=5.0
    )


@pytest.mark.parametrize("trust", ["system-store", "another-ca"])
def test_self_signed_certificate_refused(tmp_path: Path, ca_file: Path, trust: str) -> None:
    context, _ = self_signed(tmp_path)
    kwargs = {"ca_file": str(ca_file)} if trust == "another-ca" else {}
    with tls_server(context) as (port, errors):
        with pytest.raises(smarkets.TLSError, match="certificate not trusted") as caught:
            smarkets.Session(tls_settings(port, **kwargs)).login()
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert (caught.value.host, caught.value.port) == ("127.0.0.1", port)
    assert errors, "the server saw a completed handshake"


def test_self_signed_certificate_accepted_once_trusted(tmp_path: Path) -> None:
    """The control: the same server passes the handshake when its certificate is trusted."""
    context, cert_file = self_signed(tmp_path)
    with tls_server(context) as (port, errors):
        session = smarkets.Session(tls_settings(port, ca_file=str(cert_file)))
        session.socket.connect()  # the handshake only: this server speaks no protocol
        session.socket.close()
    assert not [e for e in errors if isinstance(e, ssl.SSLCertVerificationError)]


def test_expired_certificate_refused(ca: trustme.CA, ca_file: Path) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = ca.issue_cert(
        "localhost",
        "127.0.0.1",
        not_before=now - datetime.timedelta(days=10),
        not_after=now - datetime.timedelta(days=1),
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    with tls_server(context) as (port, _):
        with pytest.raises(smarkets.TLSError, match="expired"):
            smarkets.Session(tls_settings(port, ca_file=str(ca_file))).login()


# -- a whole session, client and sandbox at DEBUG: no secret in any line -----------------------


@pytest.fixture(scope="module")
def debug_sandbox() -> Iterator[SandboxProcess]:
    """A TLS sandbox logging at DEBUG (the wire log included), with the test's account."""
    accounts = {USER: {"password": PASSWORD, "balance": 10_000_000}}
    with SandboxProcess(tls=True, accounts=accounts, extra_args=["--log-level", "debug"]) as sb:
        yield sb


def test_sandbox_refuses_a_client_without_its_ca(debug_sandbox: SandboxProcess) -> None:
    settings = sandbox_settings(debug_sandbox, USER, ssl_kwargs={}, socket_timeout=5.0)
    with pytest.raises(smarkets.TLSError, match="certificate not trusted") as caught:
        smarkets.Session(settings).login()
    assert f"{debug_sandbox.host}:{debug_sandbox.port}" in str(caught.value)


def read_until(client: smarkets.Smarkets, names: set[str], limit: int = 50) -> None:
    """Read until a payload of each of ``names`` has been dispatched."""
    seen: set[str] = set()

    def note(name: str, payload: seto_pb2.Payload) -> None:
        seen.add(name)

    client.add_global_handler(note)
    try:
        for _ in range(limit):
            if names <= seen:
                return
            client.read()
        raise AssertionError(f"never got {names - seen}; got {seen}")
    finally:
        client.del_global_handler(note)


def test_a_whole_session_leaks_no_secret(
    debug_sandbox: SandboxProcess, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger, smarkets.wire included
    settings = sandbox_settings(debug_sandbox, USER, cookie=COOKIE, socket_timeout=10.0)
    # a refused login, with a wrong password
    wrong = settings.copy()
    wrong.password = WRONG_PASSWORD
    with pytest.raises(smarkets.LoginError) as refused:
        smarkets.Session(wrong).login()
    journal = tmp_path / "session.journal"
    session = smarkets.Session(settings, journal=journal)
    client = smarkets.Smarkets(session)
    try:
        client.login()
        client.ping()
        client.request_account_state()
        client.order(smarkets.Order(100_000, 2500, smarkets.Order.BUY, "1c024", "1cccc"))
        client.flush()
        read_until(client, {"eto.pong", "seto.account_state", "seto.order_accepted"})
        # the connection drops; the session is resumed with the credentials sent again
        session.disconnect()
        client.login()
        client.ping()
        client.flush()
        read_until(client, {"eto.pong"})
        client.logout()
    finally:
        session.disconnect()
        if session.journal is not None:
            session.journal.close()
    # everything the client logged, the records' raw arguments too
    records = caplog.records
    assert any(r.name == "smarkets.wire" and "login {" in r.getMessage() for r in records)
    for record in records:
        where = f"client log line {record.name}: {record.getMessage()[:80]!r}"
        assert_no_secret(record.getMessage(), where)
        assert_no_secret(repr(record.args), where)
        if record.exc_info:
            assert_no_secret(logging.Formatter().formatException(record.exc_info), where)
    assert_no_secret(caplog.text, "the client's log")
    assert_no_secret(str(refused.value), "the LoginError")
    assert_no_secret(repr(session) + repr(client) + repr(settings), "the client's reprs")
    # everything the sandbox printed and logged (stdout, and stderr at DEBUG)
    sandbox_log = debug_sandbox.log_text
    assert "server received" in sandbox_log and "login {" in sandbox_log  # the wire log ran
    assert "login refused" in sandbox_log
    assert_no_secret(sandbox_log, "the sandbox's log")
    assert_no_secret("\n".join(debug_sandbox.startup_lines), "the sandbox's stdout")
    # the journal holds every payload byte for byte, the logins masked
    data = journal.read_bytes()
    assert USER.encode() in data
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret!r} leaked in the journal"


# -- the sandbox keeps hashes only, compared in constant time --------------------------------

_OPAQUE = (
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
)


def reachable(root: object, limit: int = 500_000) -> Iterator[object]:
    """Every object reachable from ``root``'s data (not through modules, classes or code)."""
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        if not isinstance(obj, _OPAQUE):
            stack.extend(gc.get_referents(obj))


def holds(obj: object, password: str) -> bool:
    if isinstance(obj, str):
        return password in obj
    if isinstance(obj, (bytes, bytearray)):
        return password.encode() in obj
    return isinstance(obj, AccountSpec) and obj.password == password


def contains(obj: object, password: str) -> bool:
    """Whether ``obj`` is, or directly holds (as a key, value or item), the password."""
    if holds(obj, password):
        return True
    if isinstance(obj, dict):
        items: Any = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = obj
    else:
        return False
    return any(type(item) is str and password in item for item in items)


def test_credential_store_keeps_salted_hashes_only() -> None:
    password = "pw-" + secrets.token_hex(8)
    store = CredentialStore(n=4)
    store.add("zed", password)
    salt, digest = store.stored("zed")
    assert len(salt) == 16 and len(digest) == 32
    assert not [obj for obj in reachable(store) if holds(obj, password)]
    assert store.verify("zed", password)


def test_nothing_reachable_from_the_server_holds_a_password() -> None:
    password = "pw-" + secrets.token_hex(8)
    server = SandboxServer(Exchange(), ServerConfig(port=0), credentials=CredentialStore(n=4))
    server.add_account("zed", password, 1_000)
    for spec in default_markets():
        server.add_market(spec)
    assert not [obj for obj in reachable(server) if holds(obj, password)]


def test_sandbox_command_line_drops_the_files_plaintext_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """While the sandbox runs, no object anywhere holds a password read from --accounts."""
    password = "pw-" + secrets.token_hex(8)
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"zed": {"password": password, "balance": 1_000}}))
    args = cli.build_parser().parse_args(
        ["--no-tls", "--port", "0", "--bots", "0", "--accounts", str(path)]
    )
    specs = load_accounts(path)
    config = ServerConfig(host="127.0.0.1", port=0)

    def running_server() -> SandboxServer | None:
        for obj in gc.get_objects():
            if isinstance(obj, SandboxServer) and "zed" in obj.credentials and obj._server:
                return obj
        return None

    async def main() -> None:
        task = asyncio.create_task(cli._serve(args, config, specs, default_catalogue()))
        server = None
        for _ in range(500):
            await asyncio.sleep(0.01)
            server = running_server()
            if server is not None or task.done():
                break
        assert server is not None, "the sandbox did not start"
        try:
            assert specs == []  # the list handed over was emptied
            gc.collect()
            leaks = [type(obj).__name__ for obj in gc.get_objects() if contains(obj, password)]
            assert not leaks, f"the password is held by {leaks}"
            assert not [obj for obj in reachable(server) if holds(obj, password)]
        finally:
            await server.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert "listening on" in capsys.readouterr().out


def test_password_check_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    hashed: list[str] = []
    real_compare = accounts_module.hmac.compare_digest
    real_hash = accounts_module._hash

    def compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    def spy_hash(password: str, salt: bytes, n: int) -> bytes:
        hashed.append(password)
        return real_hash(password, salt, n)

    monkeypatch.setattr(accounts_module.hmac, "compare_digest", compare)
    monkeypatch.setattr(accounts_module, "_hash", spy_hash)
    store = CredentialStore(n=4)
    store.add("zed", "right")
    hashed.clear()
    results = [
        store.verify("zed", "right"),
        store.verify("zed", "wrong"),
        store.verify("nobody", "right"),  # unknown name: still a whole hash and comparison
        store.verify("zed", b"right"),  # type: ignore[arg-type]  # bytes: invalid UTF-8 on the wire
        store.verify(b"zed", "right"),  # type: ignore[arg-type]
    ]
    assert results == [True, False, False, False, False]
    assert len(compared) == 5 and len(hashed) == 5  # every check costs the same work
    assert all(len(a) == len(b) == 32 for a, b in compared)


def test_admin_console_does_not_log_a_failing_commands_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    password = "pw-" + secrets.token_hex(8)
    server = SandboxServer(Exchange(), ServerConfig(port=0), credentials=CredentialStore(n=4))

    def broken(name: str, password: str, balance: int) -> int:
        raise RuntimeError("something unexpected")

    monkeypatch.setattr(server, "add_account", broken)
    caplog.set_level(logging.DEBUG)
    answer = cli.AdminConsole(server).execute(f"add-account zed {password} 100")
    assert answer is not None and answer.startswith("error add-account:")
    assert password not in answer
    assert caplog.records, "the failure was not logged"
    assert password not in caplog.text


def test_every_test_the_security_page_names_exists() -> None:
    """docs/security.rst says which tests hold each guarantee: they must exist."""
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "security.rst").read_text(encoding="utf-8")
    named = set(re.findall(r"``(?:[\w/]+\.py::)?(test_\w+)``", page))
    assert len(named) > 30
    sources = "\n".join(path.read_text(encoding="utf-8") for path in root.glob("tests/**/*.py"))
    missing = sorted(name for name in named if f"def {name}(" not in sources)
    assert not missing, f"docs/security.rst names tests that do not exist: {missing}"
