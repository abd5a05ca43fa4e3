#!/usr/bin/env python3
"""``make demo``: run ``examples/trading_script.py`` against a sandbox exchange of its own.

1. Starts the sandbox (``python -m smarkets.sandbox``) as a separate process on a free port,
   with TLS (a CA and a server certificate generated for the run), its demo accounts and a
   few simulated traders quoting and trading.
2. Runs the trading script, exactly as a user would, passing the connection options on its
   command line and the password in ``$SMARKETS_PASSWORD``; its output is the transcript.
3. Stops the sandbox, and exits with the script's exit status.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from _connect import ENV_VAR

from smarkets.sandbox.process import SandboxProcess, SandboxStartError

SCRIPT = Path(__file__).resolve().parent / "trading_script.py"
RULE = "-" * 78
#: How many of the sandbox's last log lines to show when the script fails.
LOG_LINES = 20


def script_command(sandbox: SandboxProcess, user: str, market: str | None) -> list[str]:
    """The trading script's command line for ``sandbox``."""
    command = [sys.executable, str(SCRIPT), "--host", sandbox.host, "--port", str(sandbox.port)]
    if sandbox.tls:
        assert sandbox.ca_file is not None
        command += ["--ca-file", sandbox.ca_file]
    else:
        command.append("--no-tls")
    command += ["--user", user]
    if market is not None:
        command += ["--market", market]
    return command


def shown(command: list[str]) -> str:
    """A command line as one would type it (the interpreter as ``python``, paths shortened)."""
    cwd = Path.cwd()
    words = ["python"]
    for word in command[1:]:
        path = Path(word)
        if path.is_absolute() and path.is_relative_to(cwd):
            word = str(path.relative_to(cwd))
        words.append(word)
    return shlex.join(words)


def main(argv: list[str] | None = None) -> int:
    """Start a sandbox, run the trading script against it, stop the sandbox."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-tls", dest="tls", action="store_false", help="plain TCP")
    parser.add_argument(
        "--bots", type=int, default=3, help="simulated traders in the sandbox (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the bots' seed (%(default)s)")
    parser.add_argument("--user", default="alice", help="the demo account to use (%(default)s)")
    parser.add_argument(
        "--market", help="the market to trade (default: the first listed in the catalogue)"
    )
    args = parser.parse_args(argv)

    transport = "TLS" if args.tls else "no TLS"
    print(f"Starting a sandbox exchange ({transport}, {args.bots} simulated traders) ...")
    sandbox = SandboxProcess(tls=args.tls, bots=args.bots, seed=args.seed)
    code = 1
    try:
        sandbox.start()
    except SandboxStartError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"  listening on {sandbox.host}:{sandbox.port}")
        if sandbox.ca_file:
            print(f"  its CA certificate: {sandbox.ca_file}")
        if args.user not in sandbox.accounts:
            print(f"demo: the sandbox has no account {args.user!r}", file=sys.stderr)
            return 2
        command = script_command(sandbox, args.user, args.market)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env[ENV_VAR] = sandbox.accounts[args.user]
        print(f"\nRunning the trading script (password in ${ENV_VAR}):")
        print(f"  {shown(command)}\n{RULE}", flush=True)
        code = subprocess.run(command, env=env, check=False).returncode
        print(RULE)
        if code == 0:
            print("The trading script finished successfully.")
        else:
            print(f"The trading script FAILED (exit status {code}).")
    except KeyboardInterrupt:
        print("\ninterrupted")
        code = 130
    finally:
        print("Stopping the sandbox ...", end=" ", flush=True)
        status = sandbox.stop()
        print("stopped." if status == 0 else f"stopped (exit status {status}).")
    tail = sandbox.log_text.splitlines()[-LOG_LINES:]
    if code not in (0, 2, 130) and tail:  # not for success, usage errors, Ctrl-C
        print("\nThe end of the sandbox's log:\n" + "\n".join(tail), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
