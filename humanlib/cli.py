"""The ``humanlib`` command line: one entry point, one subcommand per job of the course.

Each topic module registers its own subcommands through ``add_subcommand(subparsers)``;
this file only collects them. Errors a user can cause end with a one-line reason on
stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Modules that define ``add_subcommand(subparsers)``, in the order of the course.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "humanlib.bodybuild",            # build-body-model
    "humanlib.data.build",           # build-corpus
    "humanlib.priors.gmm",           # train-gmm
    "humanlib.fitting.jobs",         # fit, smplify-eval
    "humanlib.priors.train_vposer",  # train-vposer, eval-vposer
    "humanlib.priors.posendf_train", # train-posendf, ...
    "humanlib.experiments.runner",   # experiment ...
    "humanlib.check",                # check (a user's SMPL / AMASS files)
)

#: Exceptions that mean "the user gave something wrong": reported in one line.
USER_ERRORS = (FileNotFoundError, ValueError, KeyError, OSError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        print(f"humanlib: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
