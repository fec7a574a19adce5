"""The ``humanlib`` command line: one entry point, one subcommand per job of the course.

Each topic module registers its own subcommands through ``add_subcommand(subparsers)``;
this file only collects them. Errors a user can cause end with a one-line reason on
stderr (``humanlib: error: ...``) and a non-zero exit status, never a traceback:

* values argparse can check (an integer that must be positive, a device this machine has)
  use the argument types below (:func:`positive_int`, :func:`device`, ...); argparse's
  errors are printed as one line too (exit status 2);
* files and folders are checked at the top of each command's function, before any work
  starts (:func:`input_file`, :func:`output_folder`, :func:`output_file`), and end in one
  of ``USER_ERRORS`` (exit status 1).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

#: Modules that define ``add_subcommand(subparsers)``, in the order of the course.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "humanlib.bodybuild",            # build-body-model
    "humanlib.data.build",           # build-corpus
    "humanlib.priors.gmm",           # train-gmm
    "humanlib.fitting.jobs",         # fit, smplify-eval
    "humanlib.priors.train_vposer",  # train-vposer, eval-vposer
    "humanlib.priors.posendf_train", # train-posendf, ...
    "humanlib.experiments.runner",   # experiment ...
    "humanlib.experiments.denoise",  # denoise (a user's own motion file)
    "humanlib.check",                # check (a user's SMPL / AMASS files)
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


# --------------------------------------------------------------------------- argument types


def _number(text: str, kind: type, low: float, allow_low: bool):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    if value < low or (value == low and not allow_low):
        bound = f">= {low:g}" if allow_low else f"> {low:g}"
        raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer > 0 (sizes, steps, epochs, thread counts)."""
    return _number(text, int, 0, allow_low=False)


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0 (where 0 means "off" or "all", as the option's help says)."""
    return _number(text, int, 0, allow_low=True)


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (learning rates, focal lengths, tolerances)."""
    return _number(text, float, 0.0, allow_low=False)


def nonnegative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (weights where 0 switches a term off)."""
    return _number(text, float, 0.0, allow_low=True)


#: Help text of every ``--device`` option.
DEVICE_HELP = "auto (cuda when torch sees a GPU, else cpu), cpu, cuda, cuda:N or mps (default auto)"


def device(text: str) -> str:
    """argparse type: a torch device this machine has (``cpu``, ``cuda``, ``cuda:N``, ``mps``).

    ``auto`` becomes ``cuda`` when torch sees a GPU, else ``cpu``: training and fitting use the
    GPU when there is one. ``--device cuda`` on a machine without CUDA fails here, before any
    work starts.
    """
    import torch

    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"

    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"{text!r} requested but CUDA is not available on this machine "
                                             f"(torch {torch.__version__}); use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(f"{text!r} requested but this machine has "
                                             f"{torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise argparse.ArgumentTypeError(f"{text!r} requested but MPS is not available on this machine; use --device cpu")
    elif dev.type != "cpu":
        raise argparse.ArgumentTypeError(f"device {text!r} is not supported; use cpu, cuda, cuda:N or mps")
    return text


# --------------------------------------------------------------------------- file checks


def input_file(path: str | os.PathLike, option: str, hint: str = "") -> Path:
    """``path`` as a ``Path``; ``FileNotFoundError`` naming ``option`` unless it is an existing file."""
    p = Path(path).expanduser()
    if not p.is_file():
        state = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise FileNotFoundError(f"{option} {p} {state}" + (f"; {hint}" if hint else ""))
    return p


def input_folder(path: str | os.PathLike, option: str, hint: str = "") -> Path:
    """``path`` as a ``Path``; ``FileNotFoundError`` / ``NotADirectoryError`` unless it is a folder."""
    p = Path(path).expanduser()
    if not p.is_dir():
        if p.exists():
            raise NotADirectoryError(f"{option} {p} is a file, not a folder" + (f"; {hint}" if hint else ""))
        raise FileNotFoundError(f"{option} {p} does not exist" + (f"; {hint}" if hint else ""))
    return p


def _check_parents(p: Path, option: str) -> None:
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"{option} {p}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PermissionError(f"{option} {p}: cannot write into {parent}")
            return


def output_folder(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` as a ``Path`` if a command can write files into it (created later when missing).

    Raises:
        NotADirectoryError: ``path`` (or a folder above it) is a file.
        PermissionError: the folder (or its nearest existing parent) is not writable.
    """
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(f"{option} {p} is a file, not a folder; give a folder (created when missing)")
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise PermissionError(f"{option} {p}: cannot write into this folder")
        return p
    _check_parents(p, option)
    return p


def output_file(path: str | os.PathLike, option: str = "--out", example: str = "") -> Path:
    """``path`` as a ``Path`` if a command can write that file (its folder is created when missing).

    Raises:
        IsADirectoryError: ``path`` is a folder.
        NotADirectoryError: a folder above ``path`` is a file.
        PermissionError: the file's folder is not writable.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        tip = f", e.g. {p / example}" if example else ""
        raise IsADirectoryError(f"{option} {p} is a folder; give the path of the file to write{tip}")
    _check_parents(p, option)
    return p


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
