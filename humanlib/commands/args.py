"""The command line's argument types: values argparse checks before a command starts.

Each type raises ``argparse.ArgumentTypeError`` with one line saying what was expected; the
parser of :mod:`humanlib.cli` prints it as ``humanlib: error: ...`` (exit status 2). Files and
folders are checked at the top of each command by :func:`humanlib.paths.input_file` and its
siblings (re-exported here so that a command imports its checks from one place).

The options every training command shares (``--out``, ``--batch-size``, ``--lr``, ``--seed``,
``--threads``, ``--resume``, ``--no-progress``) are added by the ``add_*`` functions below, so that
``train-vposer``, ``train-posendf`` and ``train-humor`` spell, type and explain them alike;
:func:`training_out_folder` is their shared first check (the folder, and ``last.pt`` for ``--resume``).
The experiments' val windows (``--window``, ``--num-windows``) and output (``--out``) come from
:func:`add_val_windows` and :func:`add_out`.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from humanlib.paths import input_file, input_folder, output_file, output_folder


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


def add_out_folder(parser: argparse.ArgumentParser, files: str) -> None:
    """``--out DIR`` (required): a training run's folder, whose ``files`` the help lists."""
    parser.add_argument("--out", required=True, help=f"output folder ({files})")


def add_batch_size(parser: argparse.ArgumentParser, default: int, unit: str) -> None:
    """``--batch-size N``: ``unit`` (e.g. "poses") per optimiser step."""
    parser.add_argument("--batch-size", type=positive_int, default=default, help=f"{unit} per step (default {default})")


def add_learning_rate(parser: argparse.ArgumentParser, default: float, shown: str | None = None) -> None:
    """``--lr X``: Adam's learning rate (``shown``: the default as the help writes it, e.g. ``1e-3``)."""
    parser.add_argument("--lr", type=positive_float, default=default,
                        help=f"Adam learning rate (default {shown if shown is not None else default})")


def add_seed(parser: argparse.ArgumentParser, default: int = 0, kind=int, text: str = "random seed") -> None:
    """``--seed N`` of type ``kind`` (``int`` or :func:`nonnegative_int`)."""
    parser.add_argument("--seed", type=kind, default=default, help=text)


def add_threads(parser: argparse.ArgumentParser, default: int | None = 1, label: str = "CPU threads") -> None:
    """``--threads N``: torch's CPU threads (``None``: torch's own choice); ``label`` starts the help."""
    text = "torch CPU threads (default: torch's choice)" if default is None else f"{label} (default {default})"
    parser.add_argument("--threads", type=positive_int, default=default, help=text)


def add_val_windows(parser: argparse.ArgumentParser, num_windows: int, window_help: str = "val window length",
                    windows_help: str = "val windows", window: int = 60) -> None:
    """``--window N`` (frames) and ``--num-windows N``: the val windows an experiment fits, each help
    ending with its default."""
    parser.add_argument("--window", type=positive_int, default=window, help=f"{window_help} (default {window})")
    parser.add_argument("--num-windows", type=positive_int, default=num_windows,
                        help=f"{windows_help} (default {num_windows})")


def add_out(parser: argparse.ArgumentParser, default: str, what: str = "output JSON") -> None:
    """``--out PATH``: where a command writes, the help ending with the default."""
    parser.add_argument("--out", default=default, help=f"{what} (default {default})")


def add_resume_and_progress(parser: argparse.ArgumentParser, resume: str = "continue from OUT/last.pt") -> None:
    """``--resume`` (continue ``OUT/last.pt``) and ``--no-progress`` / ``--quiet`` (no progress bar)."""
    parser.add_argument("--resume", action="store_true", help=resume)
    parser.add_argument("--no-progress", "--quiet", action="store_true", help="no progress bar")


def training_out_folder(args: argparse.Namespace) -> Path:
    """A training command's first check: ``args.out`` is a usable folder, holding ``last.pt`` when ``args.resume``.

    Raises:
        NotADirectoryError, PermissionError, FileNotFoundError: as :func:`humanlib.paths.output_folder` and
            :func:`humanlib.paths.input_file` ("nothing to resume: ... start without --resume").
    """
    out = output_folder(args.out)
    if args.resume:
        input_file(out / "last.pt", "nothing to resume:", "start without --resume")
    return out


__all__ = ["DEVICE_HELP", "add_batch_size", "add_learning_rate", "add_out", "add_out_folder", "add_resume_and_progress",
           "add_seed", "add_threads", "add_val_windows", "device", "nonnegative_float", "nonnegative_int", "positive_float",
           "positive_int", "training_out_folder"]
