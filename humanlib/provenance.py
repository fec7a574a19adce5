"""Provenance of a results file: the command, the commit, the machine and the data a job used.

Every writer of results (trained priors' metadata, ``results/*.json``, the corpus report) takes
these facts from here, so that two files written by two jobs can be compared field by field:

* :func:`command_line`: the command as typed (``humanlib train-gmm --components 8``);
* :func:`command_from_args`: the command with every option spelled out (defaults included);
* :func:`git_commit`: ``HEAD`` of the source checkout, ``+dirty`` when humanlib's files differ;
* :func:`machine_description`: one line naming the host, CPU, threads, GPU and torch;
* :func:`poses_fingerprint`, :func:`clips_fingerprint`, :func:`corpus_fingerprint`, :func:`corpus_manifest_sha256`,
  :func:`corpus_source`: which data a run saw.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence

import torch

from humanlib import paths
from humanlib._validate import check_tensor


def command_line(argv: Sequence[str] | None = None, default: str = "humanlib") -> str:
    """``humanlib`` and the arguments it was run with (``sys.argv`` by default), shell-quoted.

    ``default`` is returned when there are no arguments (a job called from Python, not the shell).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["humanlib", *args]) if args else default


def command_from_args(args: argparse.Namespace, name: str) -> str:
    """The full command that reproduces a run, every option spelled out (defaults too).

    Options that are ``None`` or ``False`` (not given, flags off) are left out; a ``True`` flag
    is written bare.
    """
    parts = ["humanlib", name]
    for key, value in vars(args).items():
        if key == "func" or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)


def git_commit() -> str:
    """``HEAD``'s hash of the source checkout (``+dirty`` when its tracked files differ), or ``unknown``."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.REPO_DIR, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "humanlib"],
                               cwd=paths.REPO_DIR, capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            return names[0]
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> str:
    """One line naming the machine a job ran on: host, CPU model and cores, torch threads, GPU, torch, OS."""
    gpu = f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"
    return (f"{platform.node() or 'unknown host'}: {_cpu_name()}, {os.cpu_count()} CPU cores "
            f"({torch.get_num_threads()} torch thread(s)), {gpu}, torch {torch.__version__}, {platform.system()}")


def poses_fingerprint(poses: torch.Tensor) -> str:
    """A short hash of a pose tensor's float32 values: records which corpus a checkpoint saw.

    Any shape and dtype (an empty tensor has a fingerprint too).

    Raises:
        TypeError: ``poses`` is not a tensor.
        ValueError: ``poses`` is on the meta device (no values to hash).
    """
    check_tensor(poses, "poses", floating=False, finite=False)
    if poses.device.type == "meta":
        raise ValueError("poses is on the meta device and holds no values to fingerprint")
    return hashlib.sha256(poses.detach().cpu().float().contiguous().numpy().tobytes()).hexdigest()[:16]


def clips_fingerprint(clips) -> str:
    """A short hash of ``(name, poses, transl)`` clips: their ids, order and float32 values (which data a run saw).

    Raises:
        TypeError: ``clips`` is not a list of ``(name, poses, transl)`` tuples of a string and two tensors.
    """
    if isinstance(clips, (str, bytes, torch.Tensor)) or not isinstance(clips, (list, tuple)) or not all(
            isinstance(c, (tuple, list)) and len(c) == 3 and isinstance(c[0], str)
            and all(isinstance(x, torch.Tensor) for x in c[1:]) for c in clips):
        raise TypeError("clips must be a list of (name, poses, transl) tuples of a string and two tensors; "
                        f"got {type(clips).__name__}")
    digest = hashlib.sha256()
    for name, poses, transl in clips:
        for part in (name.encode(), poses.detach().cpu().float().contiguous().numpy().tobytes(),
                     transl.detach().cpu().float().contiguous().numpy().tobytes()):
            digest.update(len(part).to_bytes(8, "little") + part)
    return digest.hexdigest()[:16]


def corpus_fingerprint(corpus) -> str:
    """The corpus origin, its size and a hash of its poses (which corpus build a run used).

    Raises:
        TypeError: ``corpus`` is not a ``humanlib.data.MotionCorpus``.
    """
    # duck-typed, not isinstance: provenance sits below the data layer, which records it too
    if not all(hasattr(corpus, name) for name in ("origin", "split", "clips", "poses")):
        raise TypeError(f"corpus must be a humanlib.data.MotionCorpus (from humanlib.data.load_corpus); "
                        f"got {type(corpus).__name__}")

    digest = hashlib.sha256(corpus.poses.numpy().tobytes()).hexdigest()[:16]
    return f"{corpus.origin}, split {corpus.split}: {len(corpus.clips)} clips, {len(corpus)} frames, poses sha256 {digest}"


def corpus_manifest_sha256() -> str:
    """SHA-256 of the committed corpus's manifest (the corpus version a job read), or ``unknown``."""
    manifest = paths.ASSETS_DIR / "corpus" / "manifest.json"
    return hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else "unknown"


def corpus_source() -> str:
    """Which corpus a run saw: the user's AMASS folder when set, else the open corpus's manifest hash."""
    if paths.user_amass_dir() is not None:
        return f"AMASS at {paths.user_amass_dir()}"
    digest = corpus_manifest_sha256()
    return "unknown" if digest == "unknown" else f"open corpus, manifest sha256 {digest[:16]}"


__all__ = ["clips_fingerprint", "command_from_args", "command_line", "corpus_fingerprint", "corpus_manifest_sha256", "corpus_source",
           "git_commit", "machine_description", "poses_fingerprint"]
