"""Bad inputs to the command line's own functions: humanlib.commands.args (argument types),
humanlib.paths's file checks and humanlib.cli.main. Every public name of humanlib.commands and humanlib.cli.

The commands' own bad arguments (every subcommand, through humanlib.cli.main) are swept in
``tests/commands/test_commands.py``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib import cli
from humanlib.commands import args as cargs

_TMP = Path(tempfile.mkdtemp(prefix="humanlib-bad-cli-"))
FILE = _TMP / "a-file"
FILE.write_text("x")
FOLDER = _TMP / "a-folder"
FOLDER.mkdir()
MISSING = _TMP / "missing.npz"
ATE = argparse.ArgumentTypeError

#: The argument types live in humanlib.commands.args, the file checks in humanlib.paths (humanlib.cli re-exports both).
C = "humanlib.cli."
A, P = "humanlib.commands.args.", "humanlib.paths."

CASES = [
    # ------------------------------------------------------------------ argument types
    raises(A + "positive_int", "zero", lambda: cli.positive_int("0"), ATE, r"must be > 0, got 0"),
    raises(A + "positive_int", "negative", lambda: cli.positive_int("-4"), ATE, r"must be > 0, got -4"),
    raises(A + "positive_int", "a float", lambda: cli.positive_int("2.5"), ATE, r"expected an integer, got '2.5'"),
    raises(A + "positive_int", "a word", lambda: cli.positive_int("ten"), ATE, r"expected an integer"),
    returns(A + "positive_int", "a valid size passes", lambda: cli.positive_int("12"), lambda v: v == 12),
    raises(A + "nonnegative_int", "negative", lambda: cli.nonnegative_int("-1"), ATE, r"must be >= 0, got -1"),
    returns(A + "nonnegative_int", "zero is allowed", lambda: cli.nonnegative_int("0"), lambda v: v == 0),
    raises(A + "positive_float", "zero", lambda: cli.positive_float("0"), ATE, r"must be > 0"),
    raises(A + "positive_float", "NaN", lambda: cli.positive_float("nan"), ATE, r"must be a finite number"),
    raises(A + "positive_float", "inf", lambda: cli.positive_float("inf"), ATE, r"must be a finite number"),
    raises(A + "positive_float", "a word", lambda: cli.positive_float("fast"), ATE, r"expected a number, got 'fast'"),
    raises(A + "nonnegative_float", "negative", lambda: cli.nonnegative_float("-0.5"), ATE, r"must be >= 0"),
    raises(A + "nonnegative_float", "-inf", lambda: cli.nonnegative_float("-inf"), ATE, r"finite"),
    returns(A + "nonnegative_float", "zero switches a term off", lambda: cli.nonnegative_float("0"), lambda v: v == 0.0),
    raises(A + "device", "an unknown device name", lambda: cli.device("gpu"), ATE, r"unknown device 'gpu'"),
    raises(A + "device", "a device this machine does not have",
           lambda: cli.device("cuda" if not torch.cuda.is_available() else f"cuda:{torch.cuda.device_count()}"),
           ATE, r"cuda"),
    raises(A + "device", "a torch device type humanlib does not run on", lambda: cli.device("meta"), ATE,
           r"not supported"),
    returns(A + "device", "cpu passes unchanged", lambda: cli.device("cpu"), lambda v: v == "cpu"),
    # ------------------------------------------------------------------ file checks
    raises(P + "input_file", "missing", lambda: cli.input_file(MISSING, "--data"), FileNotFoundError,
           r"--data .*missing.npz does not exist"),
    raises(P + "input_file", "a folder", lambda: cli.input_file(FOLDER, "--data", "give the cache file"),
           FileNotFoundError, r"is a folder, not a file; give the cache file"),
    raises(P + "input_folder", "missing", lambda: cli.input_folder(MISSING, "--raw"), FileNotFoundError,
           r"--raw .* does not exist"),
    raises(P + "input_folder", "a file", lambda: cli.input_folder(FILE, "--raw"), NotADirectoryError,
           r"is a file, not a folder"),
    raises(P + "output_folder", "a file", lambda: cli.output_folder(FILE), NotADirectoryError,
           r"--out .*a-file is a file, not a folder"),
    raises(P + "output_folder", "below a file", lambda: cli.output_folder(FILE / "sub"), NotADirectoryError,
           r"a-file is a file, not a folder"),
    returns(P + "output_folder", "a new folder is fine (created later)",
            lambda: cli.output_folder(_TMP / "new" / "deeper"), lambda p: not p.exists()),
    raises(P + "output_file", "a folder", lambda: cli.output_file(FOLDER, "--out", "x.json"), IsADirectoryError,
           r"a-folder is a folder; give the path of the file to write, e.g. .*a-folder/x.json"),
    raises(P + "output_file", "below a file", lambda: cli.output_file(FILE / "x.json"), NotADirectoryError,
           r"is a file, not a folder"),
    # ------------------------------------------------------------------ the training commands' shared first check
    raises(A + "training_out_folder", "--resume in a folder without last.pt",
           lambda: cargs.training_out_folder(
               argparse.Namespace(out=str(FOLDER), resume=True)),
           FileNotFoundError, r"nothing to resume: .*a-folder/last.pt does not exist; start without --resume"),
    raises(A + "training_out_folder", "--out is a file",
           lambda: cargs.training_out_folder(
               argparse.Namespace(out=str(FILE), resume=False)),
           NotADirectoryError, r"--out .*a-file is a file, not a folder"),
    returns(A + "training_out_folder", "a new folder without --resume is fine",
            lambda: cargs.training_out_folder(
                argparse.Namespace(out=str(_TMP / "run"), resume=False)), lambda p: p.name == "run"),
    # ------------------------------------------------------------------ the entry point
    raises(C + "main", "a zero size ends argparse with status 2", lambda: cli.main(["train-gmm", "--components", "0"]),
           SystemExit, r"^2$"),
    returns(C + "main", "a missing input file returns status 1",
            lambda: cli.main(["fit", str(MISSING), "--out", str(_TMP / "fit.npz")]), lambda status: status == 1),
    returns(C + "main", "no command prints help and returns 2", lambda: cli.main([]), lambda status: status == 2),
]


_CLI = "registers CLI parsers; the command's bad arguments are swept in tests/commands/test_commands.py"
_ADDS = ("registers one option on a training command's parser with the command's own literal defaults; "
         "its values are swept in tests/commands/test_commands.py")
EXEMPT = {
    **{A + name: _ADDS for name in ("add_batch_size", "add_learning_rate", "add_out_folder", "add_resume_and_progress",
                                    "add_seed", "add_threads")},
    **{A + name: ("registers options on an experiment command's parser with the command's own literal defaults; "
                  "their values are swept in tests/commands/test_commands.py") for name in ("add_out", "add_val_windows")},
    "humanlib.cli.build_parser": "takes no arguments; every parser it builds is swept in tests/commands/test_commands.py",
    **{f"humanlib.commands.{name}.add_subcommand": _CLI
       for name in ("build_body_model", "build_corpus", "train_gmm", "fit", "vposer", "posendf", "experiment", "denoise", "retarget",
                    "check")},
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case, capsys):
    run_case(case)


@settings(max_examples=25, deadline=None)
@given(st.integers(-10**6, 10**6))
def test_positive_int_accepts_exactly_the_positive_integers(value):
    if value > 0:
        assert cli.positive_int(str(value)) == value
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=f"got {value}"):
            cli.positive_int(str(value))


@settings(max_examples=25, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_nonnegative_float_accepts_exactly_the_finite_nonnegative_numbers(value):
    if np.isfinite(value) and value >= 0:
        assert cli.nonnegative_float(repr(value)) == value
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            cli.nonnegative_float(repr(value))


