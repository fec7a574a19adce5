"""The ``humanlib`` command line: one entry point, one subcommand per job of the course.

Each module of :mod:`humanlib.commands` (one per job) registers its subcommands through
``add_subcommand(subparsers)``; this file only collects them. No library module imports the
command line: a command parses, calls the library, prints and chooses the exit status.

Errors a user can cause end with a one-line reason on stderr (``humanlib: error: ...``) and a
non-zero exit status, never a traceback:

* values argparse can check (an integer that must be positive, a device this machine has)
  use the argument types of :mod:`humanlib.commands.args` (``positive_int``, ``device``,
  ...); argparse's errors are printed as one line too (exit status 2);
* files and folders are checked at the top of each command's function, before any work
  starts (:func:`humanlib.paths.input_file`, ``output_folder``, ``output_file``), and end in one
  of ``USER_ERRORS`` (exit status 1).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# The argument types and file checks live below the command line, where the commands (and, for
# the file checks, the library) import them; they are re-exported here, where they were first defined.
from humanlib.commands.args import (  # noqa: F401
    DEVICE_HELP,
    device,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)
from humanlib.paths import input_file, input_folder, output_file, output_folder  # noqa: F401

#: Modules that define ``add_subcommand(subparsers)``, in the order of the course.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "humanlib.commands.build_body_model",  # build-body-model
    "humanlib.commands.build_corpus",      # build-corpus
    "humanlib.commands.retarget",          # retarget (a user's own mocap)
    "humanlib.commands.train_gmm",         # train-gmm
    "humanlib.commands.fit",               # fit, smplify-eval
    "humanlib.commands.vposer",            # train-vposer, eval-vposer
    "humanlib.commands.posendf",           # train-posendf, eval-posendf
    "humanlib.commands.humor",             # train-humor, eval-humor
    "humanlib.commands.experiment",        # experiment denoise|occlusion|tune|tables
    "humanlib.commands.denoise",           # denoise (a user's own motion file)
    "humanlib.commands.check",             # check (a user's SMPL / AMASS files)
)

#: Exceptions that mean "the user gave something wrong": reported in one line.
USER_ERRORS = (FileNotFoundError, ValueError, KeyError, OSError)


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line, ``humanlib: error: ...`` (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("humanlib").strip()
        where = f"humanlib {command}: " if command else ""
        self.exit(2, f"humanlib: error: {where}{_one_line(message)} (see `{self.prog} --help`)\n")


def _one_line(message: object) -> str:
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())


# --------------------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="humanlib",
        description="Build the course's open assets, train the pose priors, fit and evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_subcommand(subparsers)
    return parser


def _version() -> str:
    from humanlib import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("humanlib: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"humanlib: error: {_one_line(message)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
