"""Training data for HuMoR: the open corpus at 30 fps, cut into short windows of consecutive frames.

HuMoR models one transition ``x_{t-1} -> x_t`` of a motion sampled at 30 fps; its velocities and
its contact labels are finite differences over one frame. The committed corpus stores train and
val at 10 fps (enough for single-pose priors) and test at 30 fps. Two choices were measured
(``results/humor/README.md``): training at 10 fps would make every step three times longer than
the 30 fps test motions the prior is rolled out from; so :func:`load_humor_corpus` rebuilds the
train and val splits at 30 fps from the raw archives, by running the corpus build
(``humanlib.data.build.build_corpus``, the ``humanlib build-corpus`` command) with the split rates of those two splits set to the
build's own base rate, 30 fps. The rebuild is cached under :func:`humanlib.paths.cache_dir`
(``humor/corpus30``; about 70 s on one CPU core); test is read from the committed corpus.

Caveat: the rebuild runs the current retargeting code, so its train poses are the committed
train poses' successors (same clips and split rules; see ``results/corpus/README.md`` for what
changed), not the same numbers at three times the rate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable
from unittest import mock

import torch

from humanlib import paths
from humanlib._validate import check_positive
from humanlib.data import corpus as corpus_module
from humanlib.data.corpus import MotionCorpus, load_corpus

#: HuMoR's frame rate (every split the prior sees is at this rate).
HUMOR_FPS = 30.0
#: Folder of the 30 fps rebuild under the cache dir.
CACHE_SUBDIR = "humor/corpus30"


def default_cache_folder() -> Path:
    """``<cache dir>/humor/corpus30``: where :func:`rebuild_corpus_30fps` writes by default."""
    return paths.cache_dir() / CACHE_SUBDIR


def _check_folder(value: object, name: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, (str, Path)):
        raise TypeError(f"{name} must be a str or pathlib.Path; got {type(value).__name__}")
    return Path(value).expanduser()


def rebuild_corpus_30fps(out_dir: str | Path | None = None, raw_dir: str | Path | None = None,
                         log: Callable[[str], None] | None = None) -> Path:
    """Build the open corpus with train and val at 30 fps (test is 30 fps already) into ``out_dir``.

    Args:
        out_dir: output folder (default :func:`default_cache_folder`).
        raw_dir: folder of the raw archives (default ``HUMANLIB_RAW_DATA`` or ``../shared/data``).
        log: progress printer.

    Returns:
        The folder of the rebuilt corpus.

    Raises:
        TypeError: ``out_dir`` / ``raw_dir`` not a path.
        humanlib.data.CorpusError: the raw archives are missing (the message says where to put them).
    """
    out = _check_folder(out_dir, "out_dir") or default_cache_folder()
    raw = _check_folder(raw_dir, "raw_dir")
    from humanlib.data.build import build_corpus

    # the build reads each split's rate from the shared SPLIT_FPS table; set train and val to 30 fps
    # for this build only (patch.dict restores the table afterwards, also on an error)
    with mock.patch.dict(corpus_module.SPLIT_FPS, {"train": HUMOR_FPS, "val": HUMOR_FPS}):
        build_corpus(raw_dir=raw, out_dir=out, log=log)
    return out


def _stored_fps(folder: Path) -> dict:
    manifest = folder / corpus_module.MANIFEST
    try:
        return dict(json.loads(manifest.read_text())["split_fps"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def load_humor_corpus(split: str, directory: str | Path | None = None, rebuild: bool = True,
                      log: Callable[[str], None] | None = None) -> MotionCorpus:
    """One split of the open corpus at 30 fps.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``; test comes from the committed corpus.
        directory: the 30 fps rebuild for train and val (default :func:`default_cache_folder`).
        rebuild: build the 30 fps corpus when it is missing (about 70 s); otherwise raise.
        log: progress printer for a rebuild.

    Raises:
        ValueError: an unknown split; a ``directory`` whose corpus is not at 30 fps.
        FileNotFoundError: no 30 fps corpus and ``rebuild=False``.
        TypeError: ``directory`` not a path, ``rebuild`` not a bool.
    """
    if split not in corpus_module.SPLITS:
        raise ValueError(f"split must be one of {corpus_module.SPLITS}; got {split!r}")
    if not isinstance(rebuild, bool):
        raise TypeError(f"rebuild must be True or False; got {rebuild!r}")
    folder = _check_folder(directory, "directory")
    if split == "test" and folder is None:
        corpus = load_corpus("test")
    else:
        folder = folder or default_cache_folder()
        if not (folder / corpus_module.MANIFEST).is_file():
            if not rebuild:
                raise FileNotFoundError(f"no 30 fps corpus at {folder}; build it with "
                                        "humanlib.priors.humor_data.rebuild_corpus_30fps() or `humanlib train-humor`")
            rebuild_corpus_30fps(folder, log=log)
        fps = _stored_fps(folder)
        if fps.get(split) != HUMOR_FPS:
            raise ValueError(f"the corpus at {folder} stores {split} at {fps.get(split)} fps, not {HUMOR_FPS:g}; "
                             "delete it and rebuild with rebuild_corpus_30fps()")
        with mock.patch.dict(corpus_module.SPLIT_FPS, {split: HUMOR_FPS}):
            corpus = load_corpus(split, folder)
    if corpus.fps != HUMOR_FPS:
        raise ValueError(f"the {split} split is at {corpus.fps:g} fps; HuMoR needs {HUMOR_FPS:g} fps")
    return corpus


def motion_windows(corpus: MotionCorpus, length: int, stride: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """All windows of ``length`` consecutive frames inside single clips, poses and translations.

    Returns:
        ``(poses (W, length, 24, 3), transl (W, length, 3))``; ``W = 0`` when every clip is shorter.

    Raises:
        TypeError: ``corpus`` not a :class:`~humanlib.data.MotionCorpus`; ``length``/``stride`` not integers.
        ValueError: ``length`` < 2 (a transition needs two frames) or ``stride`` < 1.
    """
    if not isinstance(corpus, MotionCorpus):
        raise TypeError(f"corpus must be a humanlib.data.MotionCorpus (from load_humor_corpus); got {type(corpus).__name__}")
    check_positive(length, "length", integer=True)
    if length < 2:
        raise ValueError(f"length must be >= 2 frames (one transition needs two); got {length}")
    stride = length if stride is None else stride
    check_positive(stride, "stride", integer=True)
    starts = [c.start + s for c in corpus.clips for s in range(0, c.num_frames - length + 1, stride)]
    if not starts:
        return corpus.poses.new_zeros((0, length, *corpus.poses.shape[1:])), corpus.transl.new_zeros((0, length, 3))
    idx = torch.tensor(starts)[:, None] + torch.arange(length)[None, :]
    return corpus.poses[idx], corpus.transl[idx]


__all__ = ["CACHE_SUBDIR", "HUMOR_FPS", "default_cache_folder", "load_humor_corpus", "motion_windows",
           "rebuild_corpus_30fps"]
