"""The ``humanlib`` command line: help for every subcommand, one-line errors."""

import subprocess
import sys

import pytest

from humanlib import cli


def _subcommands() -> list[str]:
    parser = cli.build_parser()
    actions = [a for a in parser._subparsers._group_actions if hasattr(a, "choices")]
    return sorted(actions[0].choices) if actions and actions[0].choices else []


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in _subcommands():
        assert name in out


@pytest.mark.parametrize("name", _subcommands() or ["(none)"])
def test_every_subcommand_has_help(name, capsys):
    if name == "(none)":
        pytest.skip("no subcommand registered yet")
    with pytest.raises(SystemExit) as exit_:
        cli.main([name, "--help"])
    assert exit_.value.code == 0
    assert "usage: humanlib " + name in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "usage: humanlib" in capsys.readouterr().out


def test_unknown_command_fails():
    result = subprocess.run([sys.executable, "-m", "humanlib.cli", "no-such-command"],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "invalid choice" in result.stderr


def test_user_errors_end_in_one_line_and_exit_1(monkeypatch, capsys):
    parser = cli.build_parser()
    sub = parser._subparsers._group_actions[0]

    def fail(args):
        raise FileNotFoundError("model file /nope.pkl does not exist; set HUMANLIB_BODY_MODEL")

    sub.add_parser("failing").set_defaults(func=fail)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main(["failing"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "humanlib: error: model file /nope.pkl does not exist; set HUMANLIB_BODY_MODEL"


def test_device_auto_picks_the_gpu_when_there_is_one():
    assert cli.device("auto") == ("cuda" if __import__("torch").cuda.is_available() else "cpu")
    parser = cli.build_parser()
    args = parser.parse_args(["train-vposer", "--out", "x"])
    assert args.device == cli.device("auto")
