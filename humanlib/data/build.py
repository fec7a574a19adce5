"""Building the open motion corpus from the raw archives (``humanlib build-corpus``).

Deterministic: clips are processed in sorted order, splits follow fixed rules, and shards are
written with fixed zip timestamps, so the same archives and the same target body give
byte-identical data files. Everything is written to a temporary folder next to the output
and moved into place at the end: a failed build leaves the previous corpus untouched.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from humanlib import paths
from humanlib._validate import check_positive
from humanlib.data import sources as S
from humanlib.data.asf_amc import read_amc, read_asf
from humanlib.data.bvh import read_bvh
from humanlib.data.steps import MIN_BONE, Validator, cmu_subject_calibration, quantize, replace_folder, retarget_to_fps  # noqa: F401
from humanlib.data.corpus_checks import CorpusChecks, is_walk
from humanlib.data.corpus import (
    BANDAI_LICENCE, BASE_FPS, CMU_ACTIVITY, CMU_LICENCE, MANIFEST, MAX_SHARD_FRAMES, REPORT, SPLIT_FPS,
    SPLIT_RULES, SPLITS, STORED_JOINTS, ClipInfo, CorpusError, _sha256, _write_npz, default_corpus_dir, split_of,
)
from humanlib.data.archives import (  # noqa: F401 - the archives' names and finders, re-exported under their old home
    BANDAI_ARCHIVE, CMU_ARCHIVE, _RAW_HINT, _bandai_reference, _check_raw, _find_bandai_reference, _find_sources,
)
from humanlib.data.retarget import target_rest_joints
from humanlib.skeleton import JOINT_NAMES

class CorpusConsistencyWarning(UserWarning):
    """A built corpus misses a source-consistency target (the report's ``consistency`` section)."""


class CorpusConsistencyError(CorpusError):
    """``strict`` build: a source-consistency check missed its target; nothing was written."""


def build_corpus(
    raw_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    max_clips_per_source: int | None = None,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    strict: bool = False,
) -> dict:
    """Build the open motion corpus.

    The steps: check the arguments and folders (``_check_build_args``, ``_check_out``),
    read and retarget every CMU clip (``_read_cmu``) and every Bandai-Namco clip
    (``_read_bandai``) into a ``_ClipStore``, check source consistency
    (``_check_consistency``), then write the shards, manifest, report and README into a
    temporary folder swapped into place (``_write_corpus``).

    Args:
        raw_dir: folder with the two archives (or their unpacked ``subjects/`` and ``dataset/``);
            default :func:`humanlib.paths.raw_data_dir`.
        out_dir: output folder (default ``humanlib/assets/corpus``); replaced at the end.
        max_clips_per_source: keep only the first clips of each source (quick tests).
        log: progress printer (default: silent).
        progress: show a tqdm bar over the clips (terminal and Jupyter).
        strict: raise :class:`CorpusConsistencyError` (writing nothing) when a source-consistency
            check misses its target; otherwise a :class:`CorpusConsistencyWarning` names each miss
            and the report's ``consistency`` section holds the numbers.

    Returns:
        The report dict (also written to ``retarget_report.json``).

    Raises:
        CorpusError: raw data missing (names ``HUMANLIB_RAW_DATA``), an archive that cannot be
            unpacked, or an ``out_dir`` that is a file or a non-empty folder other than a corpus
            (it would be replaced); format errors of a clip propagate with its file and line.
        TypeError: ``raw_dir`` / ``out_dir`` not a path, ``log`` not callable,
            ``max_clips_per_source`` not an integer, ``progress`` not a bool.
        ValueError: ``max_clips_per_source`` < 1.
    """
    _check_build_args(raw_dir, out_dir, max_clips_per_source, log, progress, strict)
    log = log or (lambda msg: None)
    t0 = time.time()
    raw = Path(raw_dir).expanduser() if raw_dir is not None else paths.raw_data_dir()
    if raw is None or not Path(raw).is_dir():
        raise CorpusError(
            f"raw mocap folder not found ({raw}); pass --raw DIR or set HUMANLIB_RAW_DATA to the folder "
            f"holding {CMU_ARCHIVE} and {BANDAI_ARCHIVE} (a course checkout has them in ../shared/data)"
        )
    _check_raw(raw)
    out = _check_out(out_dir)
    J, body = target_rest_joints()
    store = _ClipStore(J, max_clips_per_source, progress)
    with tempfile.TemporaryDirectory(prefix="humanlib-corpus-") as tmp:
        cmu_root, bandai_root = _find_sources(raw, Path(tmp), log)
        _read_cmu(cmu_root, store, J, max_clips_per_source, log)
        _read_bandai(bandai_root, store, J, max_clips_per_source, log)
    store.bar.close()
    problems = _check_consistency(store.checks, strict)
    command = ("humanlib build-corpus" + (f" --max-clips {max_clips_per_source}" if max_clips_per_source else "")
               + (" --strict" if strict else ""))
    return _write_corpus(out, store, J, body, problems, command, t0)


def _check_build_args(raw_dir, out_dir, max_clips_per_source, log, progress, strict) -> None:
    """The type and value checks of :func:`build_corpus`."""
    for name, value in (("raw_dir", raw_dir), ("out_dir", out_dir)):
        if value is not None and not isinstance(value, (str, Path)):
            raise TypeError(f"{name} must be a str or pathlib.Path; got {type(value).__name__}")
    if max_clips_per_source is not None:
        check_positive(max_clips_per_source, "max_clips_per_source", integer=True)
    for name, flag in (("progress", progress), ("strict", strict)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False; got {flag!r}")
    if log is not None and not callable(log):
        raise TypeError(f"log must be a callable taking one message (e.g. print); got {type(log).__name__}")


def _check_out(out_dir) -> Path:
    """The output folder (its parent created); ``CorpusError`` for a file or a folder holding something else."""
    out = Path(out_dir).expanduser() if out_dir is not None else default_corpus_dir()
    if out.exists() and not out.is_dir():
        raise CorpusError(f"output folder {out} is a file; give a folder for the corpus")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise CorpusError(f"output folder {out} is not empty and holds no corpus ({MANIFEST}); the build replaces "
                          "its output folder, so give a new or an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


class _ClipStore:
    """The retargeted clips by ``(split, group)``, their validation and consistency checks, and the progress bar."""

    def __init__(self, J: np.ndarray, max_clips_per_source: int | None, progress: bool) -> None:
        from tqdm.auto import tqdm

        self.validator = Validator(J)
        self.checks = CorpusChecks(J)
        self.clips: dict[tuple[str, str], list[tuple[ClipInfo, np.ndarray, np.ndarray]]] = {}
        self.source_info: dict[str, dict] = {}
        self.max_clips = max_clips_per_source
        self.bar = tqdm(total=0, desc="build-corpus", unit="clip", disable=not progress)

    def count(self, files: list[Path]) -> None:
        """Grow the bar's total by a source's clips (source by source)."""
        self.bar.total += len(files) if self.max_clips is None else min(len(files), self.max_clips)
        self.bar.refresh()

    def add(self, group: str, info: ClipInfo, split: str, motion: S.RetargetedMotion) -> None:
        """Validate a retargeted clip at 30 fps and keep it at its split's rate."""
        self.bar.set_postfix_str(info.name, refresh=False)
        self.bar.update(1)
        stored30, tr, pts = retarget_to_fps(motion, BASE_FPS)
        self.validator.add(group, pts, stored30, tr)
        self.checks.add(group, info.name, is_walk(group, info.subject, info.activity), split, stored30, tr,
                        pts * motion.scale, BASE_FPS, int(motion.repaired.sum()) if motion.repaired is not None else 0)
        k = int(round(BASE_FPS / SPLIT_FPS[split]))
        stored = stored30[::k]
        info.fps = SPLIT_FPS[split]
        info.num_frames = len(stored)
        self.clips.setdefault((split, group), []).append((info, stored, tr[::k].astype(np.float32)))


def _read_cmu(cmu_root: Path, store: _ClipStore, J: np.ndarray, max_clips: int | None, log: Callable[[str], None]) -> None:
    """Every CMU clip, subject by subject (each subject's skeleton calibrated to the target body)."""
    store.count(sorted((cmu_root / "subjects").glob("*/*.amc")))
    n = 0
    for subject_dir in sorted((cmu_root / "subjects").iterdir()):
        asf = subject_dir / f"{subject_dir.name}.asf"
        if not asf.exists():
            continue
        skel = read_asf(asf)
        cal, leg = cmu_subject_calibration(skel, J)
        store.source_info[f"cmu/{subject_dir.name}"] = {"leg_length_m": round(leg, 4)}
        for amc in sorted(subject_dir.glob("*.amc")):
            if max_clips is not None and n >= max_clips:
                break
            src = S.cmu_source_motion(skel, read_amc(amc, skel, fps=S.CMU_FPS))
            motion = S.retarget(src, cal, leg)
            subject = subject_dir.name
            info = ClipInfo(amc.stem, "cmu", subject, "", CMU_ACTIVITY.get(subject, ""), CMU_LICENCE, 0.0, 0)
            store.add("cmu", info, split_of("cmu", amc.stem, subject, ""), motion)
            n += 1
            log(f"cmu {amc.stem}: {src.driver_rotations.shape[0]} frames at 120 fps")
    if n == 0:
        raise CorpusError(f"no CMU clip under {cmu_root / 'subjects'}: expected subject folders NN/ holding NN.asf "
                          f"and NN_MM.amc files, as in {CMU_ARCHIVE}")


def _read_bandai(bandai_root: Path, store: _ClipStore, J: np.ndarray, max_clips: int | None,
                 log: Callable[[str], None]) -> None:
    """Every Bandai-Namco clip (one calibration, from the reference clip)."""
    data_dirs = sorted((bandai_root / "dataset").glob("Bandai-Namco-Research-Motiondataset-*/data"))
    if not data_dirs:
        raise CorpusError(f"no Bandai-Namco data folders under {bandai_root / 'dataset'}")
    ref, ref_frame, ref_name = _bandai_reference(data_dirs)
    cal = S.bandai_calibration(ref, J, ref_frame)
    leg = S.leg_length(S.bandai_source_motion(ref).points[ref_frame])
    store.source_info["bandai-namco"] = {"leg_length_m": round(leg, 4), "reference": f"{ref_name} frame {ref_frame}"}
    store.count([bvh for d in data_dirs for bvh in d.glob("*.bvh")])
    n = 0
    for d in data_dirs:
        which = d.parent.name.rsplit("-", 1)[-1]
        for bvh in sorted(d.glob("*.bvh")):
            if max_clips is not None and n >= max_clips:
                break
            parts = bvh.stem.split("_")  # dataset-N_{content}_{style}_{id}
            if len(parts) != 4:
                raise CorpusError(f"{bvh}: name does not follow dataset-N_content_style_id")
            content, style = parts[1], parts[2]
            src = S.bandai_source_motion(read_bvh(bvh))
            motion = S.retarget(src, cal, leg)
            info = ClipInfo(bvh.stem, f"bandai-namco-{which}", "", style, content, BANDAI_LICENCE, 0.0, 0)
            store.add("bandai-namco", info, split_of("bandai", bvh.stem, "", style), motion)
            n += 1
        log(f"bandai-namco {d.parent.name}: {n} clips so far")


def _check_consistency(checks: CorpusChecks, strict: bool) -> list[str]:
    """The source-consistency misses: raised when ``strict`` (nothing written), else warned."""
    problems = checks.problems()
    if problems:
        message = ("the corpus is not source-consistent (retarget_report.json 'consistency' has the numbers): "
                   + "; ".join(problems))
        if strict:
            raise CorpusConsistencyError(message + "; nothing was written")
        warnings.warn(message, CorpusConsistencyWarning, stacklevel=3)
    return problems


def _write_shards(folder: Path, clips: dict) -> tuple[list[dict], dict]:
    """Write each split's clips, group by group, in shards of at most ``MAX_SHARD_FRAMES``; ``(shards, counts)``."""
    shards: list[dict] = []
    counts: dict = {}
    for split in SPLITS:
        for group in ("cmu", "bandai-namco"):
            items = clips.get((split, group), [])
            counts.setdefault(split, {})[group] = {"clips": len(items), "frames": int(sum(len(p) for _, p, _ in items))}
            chunk: list = []
            frames = 0
            for item in items:
                if chunk and frames + len(item[1]) > MAX_SHARD_FRAMES:
                    shards.append(_write_shard(folder, split, group, chunk, shards))
                    chunk, frames = [], 0
                chunk.append(item)
                frames += len(item[1])
            if chunk:
                shards.append(_write_shard(folder, split, group, chunk, shards))
    return shards, counts


def _write_shard(folder: Path, split: str, group: str, chunk: list, shards: list[dict]) -> dict:
    """Write one shard ``{split}-{group}-{k:02d}.npz``; its manifest entry."""
    k = sum(1 for s in shards if s["split"] == split and s["group"] == group)
    name = f"{split}-{group}-{k:02d}.npz"
    meta = [{kk: v for kk, v in asdict(info).items() if kk != "start"} for info, _, _ in chunk]
    _write_npz(folder / name, {
        "poses": np.concatenate([p for _, p, _ in chunk]),
        "transl": np.concatenate([t for _, _, t in chunk]),
        "clips": np.array([json.dumps(meta)]),
    })
    return {"file": name, "split": split, "group": group, "clips": len(chunk),
            "frames": int(sum(len(p) for _, p, _ in chunk)), "sha256": _sha256(folder / name),
            "bytes": (folder / name).stat().st_size}


def _write_corpus(out: Path, store: _ClipStore, J: np.ndarray, body, problems: list[str], command: str,
                  t0: float) -> dict:
    """Shards, manifest, report and README into a temporary folder beside ``out``, then swapped in; the report."""
    tmp_out = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp_out.chmod(0o755)
    try:
        shards, counts = _write_shards(tmp_out, store.clips)
        manifest = {
            "format": "humanlib open motion corpus v1",
            "joints_stored": STORED_JOINTS, "joint_names": list(JOINT_NAMES), "split_fps": SPLIT_FPS,
            "split_rules": SPLIT_RULES, "target_body": body, "target_rest_joints": np.round(J, 5).tolist(),
            "shards": shards,
        }
        (tmp_out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        report = {
            "command": command,
            "built_at_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()} {platform.release()}, Python {platform.python_version()}",
            "build_seconds": round(time.time() - t0, 1),
            "target_body": body,
            "sources": store.source_info,
            "counts": counts,
            "total_bytes": int(sum(s["bytes"] for s in shards)),
            "joints_at_rest": {
                "cmu": ["spine2", "left_hand", "right_hand"],
                "bandai-namco": ["spine2", "left_hand", "right_hand"],
            },
            "direction_error_deg": store.validator.summary(),
            "validated_on": "every frame at 30 fps, from the stored float16 poses",
            "consistency": {**store.checks.summary(), "passed": not problems, "problems": problems},
        }
        (tmp_out / REPORT).write_text(json.dumps(report, indent=1) + "\n")
        from humanlib.data.readme import corpus_readme

        (tmp_out / "README.md").write_text(corpus_readme(manifest, report))
        replace_folder(tmp_out, out)
    except BaseException:
        shutil.rmtree(tmp_out, ignore_errors=True)
        raise
    return report


