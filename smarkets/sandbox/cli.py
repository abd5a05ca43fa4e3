"""``smarkets sandbox`` / ``python -m smarkets.sandbox``: run the sandbox exchange.

What it prints on stdout, one line each and in this order (everything else, the log, goes
to stderr):

* ``CA certificate: PATH`` -- with TLS (the default), the CA file a client must trust;
* ``demo account: NAME password PASSWORD balance BALANCE`` -- for each default account,
  when no ``--accounts`` file is given;
* ``smarkets sandbox catalogue at URL`` -- where the listings are served over HTTP(S)
  (``events_request`` answers with URLs below it; ``--http-port``);
* ``smarkets sandbox listening on HOST:PORT (TLS|no TLS)`` -- once it accepts connections;
  HOST:PORT is the real address (``--port 0`` picks a free port).

SIGINT and SIGTERM stop it cleanly (every session is sent LOGOUT ``DOWNTIME``; exit status
0). A bad ``--accounts`` or ``--markets`` file is reported in one line on stderr, exit
status 2; an address that cannot be listened on, exit status 1.

The admin console (``--admin-stdin``, one command per line on stdin, answered on stdout) is
:mod:`smarkets.sandbox.console`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence

from smarkets.sandbox.console import AdminConsole, read_commands
from smarkets.sandbox.exchange.accounts_file import (
    DEFAULT_ACCOUNTS,
    AccountsError,
    AccountSpec,
    load_accounts,
)
from smarkets.sandbox.exchange.catalogue import Catalogue, CatalogueError
from smarkets.sandbox.exchange.markets_file import default_catalogue, load_catalogue
from smarkets.sandbox.server import SandboxServer, ServerConfig

# The server's own defaults, so the options cannot drift from them.
_DEFAULTS = ServerConfig()

__all__ = ["AdminConsole", "add_arguments", "build_parser", "main", "run"]

_log = logging.getLogger("smarkets.sandbox.cli")

DEFAULT_PORT = _DEFAULTS.port
#: What the readiness line contains, followed by ``HOST:PORT``.
LISTENING = "listening on"
#: What the line naming the catalogue's root URL says before the URL.
CATALOGUE_AT = "catalogue at"
#: What the CA file line starts with.
CA_LINE = "CA certificate: "


def _number(text: str, accept: Callable[[float], bool], should_be: str) -> float:
    """``text`` as a number that ``accept`` takes (NaN never is), else an argparse error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != value or not accept(value):
        raise argparse.ArgumentTypeError(f"must be {should_be}: {text!r}")
    return value


def _positive_float(text: str) -> float:
    return _number(text, lambda v: 0 < v < float("inf"), "a positive number of seconds")


def _non_negative_float(text: str) -> float:
    return _number(text, lambda v: 0 <= v < float("inf"), "a number >= 0")


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}: {text!r}")
        return value

    return parse


def _port(text: str) -> int:
    value = _int_at_least(0)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox's options to ``parser`` (shared by both command lines)."""
    net = parser.add_argument_group("network")
    net.add_argument("--host", default=_DEFAULTS.host, help="address to listen on (%(default)s)")
    net.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port (%(default)s; 0 picks a free one)"
    )
    net.add_argument(
        "--http-port",
        type=_port,
        default=_DEFAULTS.http_port,
        help="port of the catalogue over HTTP(S) (%(default)s: a free one)",
    )
    net.add_argument(
        "--url-host",
        metavar="NAME",
        help="the host name in the catalogue's URLs (default: --host, or the address a"
        " client connected to when --host is a wildcard)",
    )
    net.add_argument(
        "--no-tls",
        action="store_true",
        help="plain TCP instead of TLS (by default a CA and a server certificate are"
        " generated at start and the CA file's path is printed)",
    )
    net.add_argument(
        "--cert-dir",
        metavar="DIR",
        help="where to write the generated CA and certificates (a fresh temporary directory,"
        " removed at exit)",
    )
    data = parser.add_argument_group("accounts and markets")
    data.add_argument(
        "--accounts",
        metavar="FILE",
        help='JSON {"alice": {"password": "pw", "balance": 10000000}, ...}; balances in'
        " 1/10,000 units (default: demo accounts alice, bob, carol, dave, printed at start)",
    )
    data.add_argument(
        "--markets",
        metavar="FILE",
        help='JSON {"events": [...], "markets": [{"id": "1c024", "name": ..., "event_id":'
        ' ..., "contracts": [{"id": "1cccc", "name": ...}, ...]}, ...]} (the sandbox page of'
        " the documentation; default: a few demo events)",
    )
    data.add_argument(
        "--listing-days",
        type=_int_at_least(0),
        default=_DEFAULTS.listing_days,
        metavar="DAYS",
        help="a sport's listing is served for dates within DAYS of today (%(default)s);"
        " others get invalid_request DATE_OUT_OF_RANGE",
    )
    data.add_argument(
        "--bots",
        type=_int_at_least(0),
        default=3,
        help="simulated traders (%(default)s; 0 for a quiet, deterministic exchange)",
    )
    data.add_argument(
        "--seed", type=int, default=0, help="seed of the bots' decisions (%(default)s)"
    )
    session = parser.add_argument_group("sessions")
    session.add_argument(
        "--heartbeat-interval",
        type=_positive_float,
        default=_DEFAULTS.heartbeat_interval,
        metavar="SECONDS",
        help="send a heartbeat after this long without sending (%(default)s)",
    )
    session.add_argument(
        "--heartbeat-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="end a connection after hearing nothing this long (3 heartbeat intervals)",
    )
    session.add_argument(
        "--login-timeout",
        type=_positive_float,
        default=_DEFAULTS.login_timeout,
        metavar="SECONDS",
        help="time a new connection has to log in (%(default)s)",
    )
    session.add_argument(
        "--session-expiry",
        type=_non_negative_float,
        default=_DEFAULTS.session_expiry,
        metavar="SECONDS",
        help="how long a session whose connection dropped can be resumed (%(default)s)",
    )
    session.add_argument(
        "--replay-limit",
        type=_int_at_least(1),
        default=_DEFAULTS.replay_limit,
        metavar="N",
        help="payloads kept per session to answer replay requests (%(default)s)",
    )
    session.add_argument(
        "--throttle",
        type=_non_negative_float,
        default=_DEFAULTS.throttle_rate,
        metavar="RATE",
        help="requests per second a session may send, bursts of twice that (%(default)s;"
        " 0: no limit); beyond it the server stops reading until the budget refills",
    )
    session.add_argument(
        "--max-payload-size",
        type=_int_at_least(1),
        default=_DEFAULTS.max_payload_size,
        metavar="BYTES",
        help="largest frame accepted (%(default)s)",
    )
    limits = parser.add_argument_group("limits (what one client can make the server hold)")
    limits.add_argument(
        "--max-connections",
        type=_int_at_least(1),
        default=_DEFAULTS.max_connections,
        metavar="N",
        help="connections served at once; the login of any other is refused with"
        " SERVICE_TEMPORARILY_UNAVAILABLE (%(default)s)",
    )
    limits.add_argument(
        "--max-http-connections",
        type=_int_at_least(1),
        default=_DEFAULTS.max_http_connections,
        metavar="N",
        help="connections the catalogue's HTTP server serves at once; another is answered"
        " 503 (%(default)s)",
    )
    limits.add_argument(
        "--http-timeout",
        type=_positive_float,
        default=_DEFAULTS.http_timeout,
        metavar="SECONDS",
        help="time an HTTP request has to arrive after its first byte (then 408), and an"
        " idle HTTP connection to stay open (%(default)s)",
    )
    limits.add_argument(
        "--max-write-buffer",
        type=_int_at_least(1),
        default=_DEFAULTS.max_write_buffer,
        metavar="BYTES",
        help="unsent bytes a client that does not read may pile up before its connection is"
        " dropped; its session stays resumable (%(default)s)",
    )
    limits.add_argument(
        "--socket-send-buffer",
        type=_int_at_least(0),
        default=_DEFAULTS.socket_send_buffer,
        metavar="BYTES",
        help="each connection's kernel send buffer (SO_SNDBUF); 0 leaves the system's, which"
        " can grow to several MiB per connection (%(default)s)",
    )
    limits.add_argument(
        "--login-workers",
        type=_int_at_least(1),
        default=_DEFAULTS.login_workers,
        metavar="N",
        help="threads checking passwords, off the event loop (%(default)s)",
    )
    limits.add_argument(
        "--max-pending-logins",
        type=_int_at_least(1),
        default=_DEFAULTS.max_pending_logins,
        metavar="N",
        help="password checks waiting or running at once; a login beyond is refused with"
        " SERVICE_TEMPORARILY_UNAVAILABLE (%(default)s)",
    )
    limits.add_argument(
        "--max-open-orders",
        type=_int_at_least(0),
        default=_DEFAULTS.max_open_orders,
        metavar="N",
        help="open (resting) orders one account may have; an order beyond is rejected with"
        " LIMIT_EXCEEDED, an IMMEDIATE_OR_CANCEL one (it never rests) never is (%(default)s)",
    )
    limits.add_argument(
        "--max-order-quantity",
        type=_int_at_least(1000),
        default=_DEFAULTS.max_order_quantity,
        metavar="Q",
        help="the largest order quantity, in 1/10,000 units of payoff, at most 4294967295;"
        " an order above is invalid (INVALID_QUANTITY) (%(default)s)",
    )
    misc = parser.add_argument_group("other")
    misc.add_argument(
        "--admin-stdin",
        action="store_true",
        help="read admin commands from stdin, one per line, answering each on stdout"
        " (halt, reopen, settle, add-account, add-market, balance, suspend, unsuspend,"
        " downtime, quit)",
    )
    misc.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=["debug", "info", "warning", "error", "critical"],
        help="log level of the log written to stderr (%(default)s)",
    )


def build_parser(prog: str = "python -m smarkets.sandbox") -> argparse.ArgumentParser:
    """The sandbox's own argument parser (``python -m smarkets.sandbox``)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the sandbox exchange: a local exchange speaking the streaming"
        " protocol, for trying the client out and testing against it.",
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m smarkets.sandbox``; returns the exit status."""
    return run(build_parser().parse_args(argv))


def _out(line: str) -> None:
    """Print one line on stdout at once (the only output the sandbox prints)."""
    try:
        print(line, flush=True)
    except (BrokenPipeError, ValueError):
        # Nobody reads stdout any more: send the rest to /dev/null instead of failing.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


def _error(message: str) -> None:
    print(f"smarkets sandbox: error: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the sandbox with parsed ``args`` until SIGINT/SIGTERM/quit; the exit status."""
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        accounts = load_accounts(args.accounts) if args.accounts else list(DEFAULT_ACCOUNTS)
        catalogue = load_catalogue(args.markets) if args.markets else default_catalogue()
    except (AccountsError, CatalogueError) as exc:
        _error(str(exc))
        return 2
    try:
        config = ServerConfig(
            host=args.host,
            port=args.port,
            heartbeat_interval=args.heartbeat_interval,
            heartbeat_timeout=args.heartbeat_timeout,
            login_timeout=args.login_timeout,
            session_expiry=args.session_expiry,
            replay_limit=args.replay_limit,
            throttle_rate=args.throttle,
            max_payload_size=args.max_payload_size,
            max_connections=args.max_connections,
            max_write_buffer=args.max_write_buffer,
            login_workers=args.login_workers,
            max_pending_logins=args.max_pending_logins,
            socket_send_buffer=args.socket_send_buffer,
            max_open_orders=args.max_open_orders,
            max_order_quantity=args.max_order_quantity,
            http_port=args.http_port,
            url_host=args.url_host,
            listing_days=args.listing_days,
            http_timeout=args.http_timeout,
            max_http_connections=args.max_http_connections,
        )
    except ValueError as exc:
        _error(str(exc))
        return 2
    try:
        return asyncio.run(_serve(args, config, accounts, catalogue))
    except KeyboardInterrupt:  # a signal before the handlers were installed
        return 0


async def _serve(
    args: argparse.Namespace,
    config: ServerConfig,
    accounts: list[AccountSpec],
    catalogue: Catalogue,
) -> int:
    loop = asyncio.get_running_loop()
    ssl_context = None
    ca_file = None
    temp_dir = None
    if not args.no_tls:
        try:
            from smarkets.sandbox import certs
        except ImportError as exc:
            _error(f"TLS needs the 'cryptography' package ({exc}); install it or use --no-tls")
            return 2
        cert_dir = args.cert_dir
        if cert_dir is None:
            temp_dir = cert_dir = tempfile.mkdtemp(prefix="smarkets-sandbox-")
        try:
            files = certs.generate(cert_dir, args.host)
            ssl_context = certs.server_context(files)
        except OSError as exc:
            _error(f"cannot write the certificates to {cert_dir!r}: {exc}")
            return 2
        ca_file = files.ca_file
    try:
        server = SandboxServer(
            config=config, ssl_context=ssl_context, bots=args.bots, seed=args.seed
        )
        try:
            _open_accounts(server, accounts)
            server.open_catalogue(catalogue)
        except (AccountsError, CatalogueError, ValueError, TypeError) as exc:
            _error(str(exc))
            return 2
        try:
            await server.start()
        except (OSError, ValueError) as exc:
            _error(f"cannot listen on {config.host}:{config.port}: {exc}")
            return 1
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, stop.set)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - not POSIX
                pass
        if ca_file is not None:
            _out(f"{CA_LINE}{ca_file}")
        if not args.accounts:
            for spec in DEFAULT_ACCOUNTS:
                _out(f"demo account: {spec.name} password {spec.password} balance {spec.balance}")
        _out(f"smarkets sandbox {CATALOGUE_AT} {server.catalogue_http.url(server.url_host())}")
        transport = "TLS" if ssl_context is not None else "no TLS"
        _out(f"smarkets sandbox {LISTENING} {server.host}:{server.port} ({transport})")
        if args.admin_stdin:
            console = AdminConsole(server, stop.set, out=_out)
            threading.Thread(
                target=read_commands, args=(loop, console), name="admin-stdin", daemon=True
            ).start()
        await stop.wait()
        _log.info("stopping")
        await server.close()
        return 0
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _open_accounts(server: SandboxServer, accounts: list[AccountSpec]) -> None:
    """Open ``accounts`` on ``server``, then empty the list.

    The server keeps salted hashes only; emptying the list (which the caller shares) and
    keeping no loop variable leaves no plaintext password from the accounts file alive.
    """
    for spec in accounts:
        server.add_account(spec.name, spec.password, spec.balance)
    accounts.clear()
