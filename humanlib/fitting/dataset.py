"""Fit a dataset of keypoint files: batches shared over workers, written as they finish, merged once.

A dataset is a folder of ``.npz`` keypoint files (:func:`humanlib.fitting.jobs.read_keypoints_npz`),
or a text file listing them. It is cut into **units**: batches of ``batch_size`` consecutive
frames of one file, numbered in the order of the sorted file list. Worker ``rank`` of
``world_size`` fits units ``rank, rank + world_size, ...``: the split follows from the two numbers
alone, so ``torchrun`` can start, stop and restart workers without any scheduler of ours.

Each finished unit is written to ``OUT/parts/`` at once, atomically (a temporary file renamed
into place), with the fingerprint of its keypoints and of the fit settings. A rerun, or
torchrun's restart after a worker died, skips the units whose part is there with the same
fingerprint and fits the rest. When every worker is done, rank 0 merges the parts into
``OUT/fits.npz`` and ``OUT/fits.json``, and refuses if a unit is missing or a frame would be
there twice.

Because :func:`~humanlib.fitting.smplify.fit_smplify` fits each frame on its own (one L-BFGS per
frame, in float64), a frame's result does not depend on the unit it falls in, on the batch
size, or on the number of workers (tested against a single process).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from humanlib._validate import check_positive
from humanlib.distributed import distributed_context  # noqa: F401  (its home before humanlib.distributed)

#: Arrays of every part and of the merged file, one row per frame.
RESULT_KEYS: tuple[str, ...] = ("betas", "pose", "transl", "energy", "valid", "flipped")


@dataclass(frozen=True)
class DatasetFitSettings:
    """What a dataset fit depends on besides the keypoints (stored in every part's fingerprint).

    Attributes:
        prior: prior name of :func:`humanlib.fitting.jobs.make_prior`.
        iterations: L-BFGS iterations of the camera step and of each stage.
        focal, width, height: the pinhole camera of every frame, in pixels.
        skip_invalid: fit frames with too few keypoints as invalid instead of failing.
        batch_size: frames per unit.
    """

    prior: str = "gmm-min"
    iterations: int = 30
    focal: float = 1000.0
    width: float = 640.0
    height: float = 640.0
    skip_invalid: bool = False
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_positive(self.iterations, "iterations", integer=True)
        check_positive(self.batch_size, "batch_size", integer=True)
        for name in ("focal", "width", "height"):
            check_positive(getattr(self, name), name)


@dataclass(frozen=True)
class Unit:
    """Frames ``start:stop`` of input file ``file`` (an index into the sorted file list)."""

    file: int
    start: int
    stop: int

    def name(self, files: list[Path]) -> str:
        return f"{self.file:05d}-{files[self.file].stem}-{self.start:07d}.npz"


def dataset_files(source: str | os.PathLike) -> list[Path]:
    """The keypoint files of a dataset: the ``.npz`` files of a folder, or those a text file lists.

    Raises:
        FileNotFoundError: ``source`` is missing, or a listed file is.
        ValueError: no ``.npz`` file found, or a file listed twice.
    """
    src = Path(source).expanduser()
    if src.is_dir():
        files = sorted(p for p in src.iterdir() if p.suffix == ".npz" and p.is_file())
        where = f"folder {src}"
    elif src.is_file() and src.suffix != ".npz":
        lines = [ln.strip() for ln in src.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        files = [(src.parent / ln).expanduser() if not Path(ln).is_absolute() else Path(ln) for ln in lines]
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"list {src} names {len(missing)} missing file(s): {', '.join(missing[:5])}")
        where = f"list {src}"
    else:
        raise FileNotFoundError(f"{src} is neither a folder of .npz keypoint files nor a text file listing them")
    if not files:
        raise ValueError(f"{where} holds no .npz keypoint files")
    seen = [p.resolve() for p in files]
    if len(set(seen)) != len(seen):
        raise ValueError(f"{where} names a file twice; every file must be fitted once")
    return files


def split_units(frame_counts: list[int], batch_size: int) -> list[Unit]:
    """Batches of at most ``batch_size`` consecutive frames of each file, in file order."""
    check_positive(batch_size, "batch_size", integer=True)
    return [Unit(f, s, min(s + batch_size, n)) for f, n in enumerate(frame_counts) for s in range(0, n, batch_size)]


def units_of_rank(units: list[Unit], rank: int, world_size: int) -> list[Unit]:
    """The units worker ``rank`` of ``world_size`` fits: every ``world_size``-th, from ``rank``.

    Raises:
        ValueError: not ``0 <= rank < world_size``.
    """
    check_positive(world_size, "world_size", integer=True)
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size}); got {rank}")
    return units[rank::world_size]


def unit_fingerprint(keypoints: np.ndarray, confidence: np.ndarray, settings: DatasetFitSettings) -> str:
    """SHA-256 of a unit's keypoints, confidences and the fit settings."""
    h = hashlib.sha256()
    for a in (keypoints, confidence):
        h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
    h.update(json.dumps(asdict(settings), sort_keys=True).encode())
    return h.hexdigest()


def _write_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` into a temporary file of the same folder, then rename it to ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_part(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, EOFError):
        return None


@dataclass
class DatasetFitReport:
    """What one worker did: units fitted now, units found done, seconds, frames fitted now."""

    fitted: int
    skipped: int
    seconds: float
    frames: int


def fit_units(files: list[Path], units: list[Unit], out: Path, settings: DatasetFitSettings,
              device: str = "cpu", progress=None) -> DatasetFitReport:
    """Fit ``units`` one after the other, writing each unit's part as soon as it is done.

    Units whose part exists with the same fingerprint are skipped.

    Raises:
        ValueError: a part of the same unit fitted with other settings or other keypoints
            (use a new output folder); bad keypoint files (see ``read_keypoints_npz``).
    """
    from humanlib.body import load_body_model
    from humanlib.fitting.camera import Camera
    from humanlib.fitting.jobs import make_prior, read_keypoints_npz
    from humanlib.fitting.smplify import SMPLifyConfig, fit_smplify, smplify_stages

    parts = out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    config = SMPLifyConfig(stages=smplify_stages(iterations=settings.iterations), camera_iterations=settings.iterations,
                           on_invalid="skip" if settings.skip_invalid else "raise")
    model = prior = None
    cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    fitted = skipped = frames = 0
    started = time.perf_counter()
    for unit in units:
        if unit.file not in cache:
            cache.clear()
            cache[unit.file] = read_keypoints_npz(files[unit.file])
        kp, conf = (x[unit.start : unit.stop] for x in cache[unit.file])
        fingerprint = unit_fingerprint(kp.numpy(), conf.numpy(), settings)
        path = parts / unit.name(files)
        old = _read_part(path) if path.exists() else None
        if old is not None and str(old.get("fingerprint")) == fingerprint:
            skipped += 1
            continue
        if old is not None:
            raise ValueError(f"{path} was fitted with other settings or other keypoints; give a new --out folder "
                             f"or delete {out}")
        if model is None:
            model = load_body_model(device=device)
            prior = make_prior(settings.prior)
            if isinstance(prior, torch.nn.Module):
                prior = prior.to(device)
        camera = Camera.simple(len(kp), settings.focal, settings.width, settings.height)
        try:
            res = fit_smplify(model, kp.to(device), conf.to(device), camera.to(device), prior, config)
        except ValueError as err:
            raise ValueError(f"{files[unit.file]} frames {unit.start}-{unit.stop - 1}: {err}") from None
        arrays = {k: getattr(res, k).cpu().numpy() for k in RESULT_KEYS}
        arrays.update(fingerprint=np.array(fingerprint), source_file=np.array(unit.file), start=np.array(unit.start),
                      stop=np.array(unit.stop))
        _write_atomically(path, arrays)
        fitted, frames = fitted + 1, frames + len(kp)
        if progress is not None:
            progress(unit, len(kp))
    return DatasetFitReport(fitted, skipped, time.perf_counter() - started, frames)


def merge_parts(files: list[Path], units: list[Unit], out: Path, settings: DatasetFitSettings,
                meta: dict | None = None) -> Path:
    """Merge the parts of ``units`` into ``out/fits.npz`` (+ ``fits.json``); returns the ``.npz`` path.

    Every frame of every file is there once, in file order; ``source_file`` and ``source_frame`` say where
    each row comes from (``source_file``: index into ``fits.json``'s ``files``; ``source_frame``: row in that file).

    Raises:
        FileNotFoundError: a unit's part is missing (names the units: rerun the fit).
        ValueError: a part that does not belong (other settings, keypoints or unit bounds), or
            parts in ``out/parts`` that no unit of this dataset owns (another batch size:
            frames that would be there twice).
    """
    from humanlib.fitting.jobs import read_keypoints_npz

    parts = out / "parts"
    expected = {unit.name(files): unit for unit in units}
    present = {p.name for p in parts.glob("*.npz") if not p.name.startswith(".tmp-")} if parts.is_dir() else set()
    missing = sorted(set(expected) - present)
    if missing:
        raise FileNotFoundError(f"{len(missing)} of {len(units)} batches are not fitted yet ({', '.join(missing[:3])}"
                                f"{', ...' if len(missing) > 3 else ''}); rerun the same fit command to complete them")
    extra = sorted(present - set(expected))
    if extra:
        raise ValueError(f"{parts} holds {len(extra)} part(s) that no batch of this dataset owns ({', '.join(extra[:3])}): "
                         "fitted with another batch size or file list, their frames would be counted twice; "
                         "use a new --out folder")
    rows: dict[str, list[np.ndarray]] = {k: [] for k in RESULT_KEYS}
    file_index, frame_index = [], []
    counts = np.zeros(len(files), dtype=np.int64)
    cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    for name, unit in expected.items():
        part = _read_part(parts / name)
        if part is None:
            raise ValueError(f"{parts / name} is not a readable part; delete it and rerun the fit")
        if unit.file not in cache:
            cache = {unit.file: read_keypoints_npz(files[unit.file])}
        kp, conf = cache[unit.file]
        want = unit_fingerprint(kp[unit.start : unit.stop].numpy(), conf[unit.start : unit.stop].numpy(), settings)
        if str(part.get("fingerprint")) != want or (int(part["start"]), int(part["stop"])) != (unit.start, unit.stop):
            raise ValueError(f"{parts / name} does not belong to this fit (other settings or keypoints); use a new --out")
        for k in RESULT_KEYS:
            rows[k].append(part[k])
        file_index.append(np.full(unit.stop - unit.start, unit.file, dtype=np.int64))
        frame_index.append(np.arange(unit.start, unit.stop, dtype=np.int64))
        counts[unit.file] += unit.stop - unit.start
    merged = {k: np.concatenate(v) for k, v in rows.items()}
    merged.update(source_file=np.concatenate(file_index), source_frame=np.concatenate(frame_index))
    pairs = merged["source_file"] * (1 + int(merged["source_frame"].max())) + merged["source_frame"]
    if len(np.unique(pairs)) != len(pairs):
        raise ValueError("some frames are in two parts; use a new --out folder")
    target = out / "fits.npz"
    _write_atomically(target, merged)
    info = {"files": [str(p) for p in files], "frames_per_file": counts.tolist(), "frames": int(counts.sum()),
            "batches": len(units), "settings": asdict(settings), **(meta or {})}
    tmp = out / ".tmp-fits.json"
    tmp.write_text(json.dumps(info, indent=1) + "\n")
    os.replace(tmp, out / "fits.json")
    return target


def fit_dataset(source: str | os.PathLike, out: str | os.PathLike, settings: DatasetFitSettings | None = None,
                device: str = "cpu", meta: dict | None = None, log=print) -> Path | None:
    """Fit every frame of a dataset (a folder or list of keypoint files) into ``out/fits.npz``.

    Run it in one process, or in several under ``torchrun`` (each fits its share of the
    batches; rank 0 merges once all are done). Returns the merged file's path on rank 0,
    None on the other ranks.

    Raises:
        FileNotFoundError, ValueError: see :func:`dataset_files`, :func:`fit_units`, :func:`merge_parts`.
    """
    from humanlib.fitting.jobs import read_keypoints_npz

    settings = DatasetFitSettings() if settings is None else settings
    out = Path(out).expanduser()
    files = dataset_files(source)
    counts = [len(read_keypoints_npz(p)[0]) for p in files]
    units = split_units(counts, settings.batch_size)
    rank, world, device = distributed_context(device)
    mine = units_of_rank(units, rank, world)
    report = fit_units(files, mine, out, settings, device)
    log(f"worker {rank}/{world}: fitted {report.fitted} batches ({report.frames} frames) in {report.seconds:.1f} s, "
        f"{report.skipped} already done")
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    if rank != 0:
        return None
    for stale in (out / "parts").glob(".tmp-*"):  # left by a worker killed while writing; every worker is done now
        stale.unlink(missing_ok=True)
    meta = {**(meta or {}), "world_size": world}
    return merge_parts(files, units, out, settings, meta)


__all__ = [
    "DatasetFitReport",
    "DatasetFitSettings",
    "RESULT_KEYS",
    "Unit",
    "dataset_files",
    "fit_dataset",
    "fit_units",
    "merge_parts",
    "split_units",
    "unit_fingerprint",
    "units_of_rank",
]
