"""The ``smarkets`` command.

Each subcommand lives in its own module, which adds its options to a subparser and runs
it; this module only dispatches. For now there is one:

* ``smarkets sandbox ...``: run the sandbox exchange (:mod:`smarkets.sandbox.cli`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``smarkets`` argument parser, one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="smarkets",
        description="Tools of the smarkets streaming API client.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    from smarkets.sandbox import cli as sandbox_cli

    sandbox = commands.add_parser(
        "sandbox",
        help="run the sandbox exchange",
        description="Run the sandbox exchange: a local exchange speaking the streaming"
        " protocol, for trying the client out and testing against it.",
    )
    sandbox_cli.add_arguments(sandbox)
    sandbox.set_defaults(func=sandbox_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smarkets`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
