"""The sandbox's command line, without starting a server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smarkets import cli as smarkets_cli
from smarkets.sandbox import cli


def test_defaults() -> None:
    args = cli.build_parser().parse_args([])
    assert (args.host, args.port, args.no_tls, args.bots, args.seed) == (
        "127.0.0.1",
        3701,
        False,
        3,
        0,
    )
    assert args.heartbeat_interval == 15.0 and args.heartbeat_timeout is None
    assert (args.session_expiry, args.replay_limit, args.throttle) == (300.0, 100_000, 1000.0)
    assert args.accounts is None and args.markets is None and not args.admin_stdin


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "70000"],
        ["--port", "-1"],
        ["--bots", "-1"],
        ["--heartbeat-interval", "0"],
        ["--heartbeat-interval", "nan"],
        ["--throttle", "-5"],
        ["--replay-limit", "0"],
        ["--log-level", "loud"],
    ],
)
def test_bad_options_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(argv)
    assert info.value.code == 2


def test_smarkets_command_has_the_sandbox_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    parser = smarkets_cli.build_parser()
    args = parser.parse_args(["sandbox", "--no-tls", "--port", "0", "--bots", "0"])
    assert args.func is cli.run and args.no_tls and args.port == 0
    with pytest.raises(SystemExit) as info:
        smarkets_cli.main([])
    assert info.value.code == 2  # a subcommand is required
    with pytest.raises(SystemExit) as info:
        smarkets_cli.main(["sandbox", "--help"])
    assert info.value.code == 0
    assert "--admin-stdin" in capsys.readouterr().out


def test_bad_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "markets.json"
    path.write_text(json.dumps({"markets": [{"id": "1c024"}]}))
    code = cli.main(["--no-tls", "--port", "0", "--markets", str(path)])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smarkets sandbox: error: markets file")
