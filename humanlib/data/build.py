"""Building the open motion corpus from the raw archives (``humanlib build-corpus``).

Deterministic: clips are processed in sorted order, splits follow fixed rules, and shards are
written with fixed zip timestamps, so the same archives and the same target body give
byte-identical data files. Everything is written to a temporary folder next to the output
and moved into place at the end: a failed build leaves the previous corpus untouched.
"""

from __future__ import annotations

import json
import lzma
import os
import platform
import shutil
import sys
import tarfile
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
from humanlib.data.retarget import target_rest_joints
from humanlib.skeleton import JOINT_NAMES

CMU_ARCHIVE = "cmu-asfamc-subjects-01-and-03.tar.xz"
BANDAI_ARCHIVE = "bandai-namco-research-motiondataset-1-2.tar.xz"


class CorpusConsistencyWarning(UserWarning):
    """A built corpus misses a source-consistency target (the report's ``consistency`` section)."""


class CorpusConsistencyError(CorpusError):
    """``strict`` build: a source-consistency check missed its target; nothing was written."""


_RAW_HINT = ("point HUMANLIB_RAW_DATA (or --raw) at the folder holding the two archives; a course checkout "
             "has them in ../shared/data")


def _check_raw(raw: Path) -> None:
    """Raise CorpusError unless ``raw`` holds each source, unpacked or as its archive."""
    for folder, archive in (("subjects", CMU_ARCHIVE), ("dataset", BANDAI_ARCHIVE)):
        if not (raw / folder).is_dir() and not (raw / archive).is_file():
            raise CorpusError(f"raw data folder {raw} holds neither {folder}/ nor {archive}; {_RAW_HINT}")


def _find_sources(raw: Path, tmp: Path, log: Callable[[str], None]) -> tuple[Path, Path]:
    """Folders holding ``subjects/`` (CMU) and ``dataset/`` (Bandai-Namco), unpacking archives."""
    _check_raw(raw)
    found = []
    for folder, archive in (("subjects", CMU_ARCHIVE), ("dataset", BANDAI_ARCHIVE)):
        if (raw / folder).is_dir():
            found.append(raw)
            continue
        path = raw / archive
        log(f"unpacking {path.name} ...")
        target = tmp / folder
        target.mkdir()
        try:
            with tarfile.open(path) as tf:
                if sys.version_info >= (3, 12):
                    tf.extractall(target, filter="data")
                else:  # pragma: no cover
                    tf.extractall(target)
        except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as err:
            reason = str(err).splitlines()[0].rstrip(":")  # tarfile lists every method it tried below
            raise CorpusError(f"raw archive {path} cannot be unpacked ({type(err).__name__}: {reason}); it is corrupt or "
                              f"truncated: copy it again ({_RAW_HINT})") from None
        if not (target / folder).is_dir():
            raise CorpusError(f"raw archive {path} holds no {folder}/ folder; it is not the {archive} of the course")
        found.append(target)
    return found[0], found[1]


def _bandai_reference(data_dirs: list[Path]):
    """The Bandai-Namco reference clip of the calibration: ``(motion, frame, name)``."""
    ref_name, ref_frame = S.BANDAI_REFERENCE
    ref_path = next((d / ref_name for d in data_dirs if (d / ref_name).exists()), None)
    if ref_path is None:
        raise CorpusError(f"Bandai-Namco reference clip {ref_name} is missing")
    return read_bvh(ref_path), ref_frame, ref_name


def _find_bandai_reference(raw_dir, tmp: Path):
    """The reference clip from the raw data folder (unpacking the archive into ``tmp``)."""
    raw = Path(raw_dir).expanduser() if raw_dir is not None else paths.raw_data_dir()
    if raw is None or not Path(raw).is_dir():
        raise CorpusError(f"raw mocap folder not found ({raw}); {_RAW_HINT}")
    _, bandai_root = _find_sources(raw, tmp, lambda msg: None)
    return _bandai_reference(sorted((bandai_root / "dataset").glob("Bandai-Namco-Research-Motiondataset-*/data")))


def build_corpus(
    raw_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    max_clips_per_source: int | None = None,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    strict: bool = False,
) -> dict:
    """Build the open motion corpus.

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
    log = log or (lambda msg: None)
    t0 = time.time()
    raw = Path(raw_dir).expanduser() if raw_dir is not None else paths.raw_data_dir()
    if raw is None or not Path(raw).is_dir():
        raise CorpusError(
            f"raw mocap folder not found ({raw}); pass --raw DIR or set HUMANLIB_RAW_DATA to the folder "
            f"holding {CMU_ARCHIVE} and {BANDAI_ARCHIVE} (a course checkout has them in ../shared/data)"
        )
    _check_raw(raw)
    out = Path(out_dir).expanduser() if out_dir is not None else default_corpus_dir()
    if out.exists() and not out.is_dir():
        raise CorpusError(f"output folder {out} is a file; give a folder for the corpus")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise CorpusError(f"output folder {out} is not empty and holds no corpus ({MANIFEST}); the build replaces "
                          "its output folder, so give a new or an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    J, body = target_rest_joints()
    validator = Validator(J)
    checks = CorpusChecks(J)
    store: dict[tuple[str, str], list[tuple[ClipInfo, np.ndarray, np.ndarray]]] = {}
    source_info = {}

    from tqdm.auto import tqdm

    bar = tqdm(total=0, desc="build-corpus", unit="clip", disable=not progress)

    def count(files: list[Path]) -> None:  # the bar's total grows source by source
        bar.total += len(files) if max_clips_per_source is None else min(len(files), max_clips_per_source)
        bar.refresh()

    def add_clip(group: str, info: ClipInfo, split: str, motion: S.RetargetedMotion) -> None:
        bar.set_postfix_str(info.name, refresh=False)
        bar.update(1)
        stored30, tr, pts = retarget_to_fps(motion, BASE_FPS)
        validator.add(group, pts, stored30, tr)
        checks.add(group, info.name, is_walk(group, info.subject, info.activity), split, stored30, tr,
                   pts * motion.scale, BASE_FPS, int(motion.repaired.sum()) if motion.repaired is not None else 0)
        k = int(round(BASE_FPS / SPLIT_FPS[split]))
        stored = stored30[::k]
        info.fps = SPLIT_FPS[split]
        info.num_frames = len(stored)
        store.setdefault((split, group), []).append((info, stored, tr[::k].astype(np.float32)))

    with tempfile.TemporaryDirectory(prefix="humanlib-corpus-") as tmp:
        cmu_root, bandai_root = _find_sources(raw, Path(tmp), log)
        # --- CMU
        count(sorted((cmu_root / "subjects").glob("*/*.amc")))
        n = 0
        for subject_dir in sorted((cmu_root / "subjects").iterdir()):
            asf = subject_dir / f"{subject_dir.name}.asf"
            if not asf.exists():
                continue
            skel = read_asf(asf)
            cal, leg = cmu_subject_calibration(skel, J)
            source_info[f"cmu/{subject_dir.name}"] = {"leg_length_m": round(leg, 4)}
            for amc in sorted(subject_dir.glob("*.amc")):
                if max_clips_per_source is not None and n >= max_clips_per_source:
                    break
                src = S.cmu_source_motion(skel, read_amc(amc, skel, fps=S.CMU_FPS))
                motion = S.retarget(src, cal, leg)
                subject = subject_dir.name
                info = ClipInfo(amc.stem, "cmu", subject, "", CMU_ACTIVITY.get(subject, ""), CMU_LICENCE, 0.0, 0)
                add_clip("cmu", info, split_of("cmu", amc.stem, subject, ""), motion)
                n += 1
                log(f"cmu {amc.stem}: {src.driver_rotations.shape[0]} frames at 120 fps")
        if n == 0:
            raise CorpusError(f"no CMU clip under {cmu_root / 'subjects'}: expected subject folders NN/ holding NN.asf "
                              f"and NN_MM.amc files, as in {CMU_ARCHIVE}")
        # --- Bandai-Namco
        data_dirs = sorted((bandai_root / "dataset").glob("Bandai-Namco-Research-Motiondataset-*/data"))
        if not data_dirs:
            raise CorpusError(f"no Bandai-Namco data folders under {bandai_root / 'dataset'}")
        ref, ref_frame, ref_name = _bandai_reference(data_dirs)
        cal = S.bandai_calibration(ref, J, ref_frame)
        leg = S.leg_length(S.bandai_source_motion(ref).points[ref_frame])
        source_info["bandai-namco"] = {"leg_length_m": round(leg, 4), "reference": f"{ref_name} frame {ref_frame}"}
        count([bvh for d in data_dirs for bvh in d.glob("*.bvh")])
        n = 0
        for d in data_dirs:
            which = d.parent.name.rsplit("-", 1)[-1]
            for bvh in sorted(d.glob("*.bvh")):
                if max_clips_per_source is not None and n >= max_clips_per_source:
                    break
                parts = bvh.stem.split("_")  # dataset-N_{content}_{style}_{id}
                if len(parts) != 4:
                    raise CorpusError(f"{bvh}: name does not follow dataset-N_content_style_id")
                content, style = parts[1], parts[2]
                src = S.bandai_source_motion(read_bvh(bvh))
                motion = S.retarget(src, cal, leg)
                info = ClipInfo(bvh.stem, f"bandai-namco-{which}", "", style, content, BANDAI_LICENCE, 0.0, 0)
                add_clip("bandai-namco", info, split_of("bandai", bvh.stem, "", style), motion)
                n += 1
            log(f"bandai-namco {d.parent.name}: {n} clips so far")
    bar.close()
    problems = checks.problems()
    if problems:
        message = ("the corpus is not source-consistent (retarget_report.json 'consistency' has the numbers): "
                   + "; ".join(problems))
        if strict:
            raise CorpusConsistencyError(message + "; nothing was written")
        warnings.warn(message, CorpusConsistencyWarning, stacklevel=2)

    # --- write shards into a temporary folder, then swap it in
    tmp_out = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp_out.chmod(0o755)
    try:
        shards = []
        counts = {}
        for split in SPLITS:
            for group in ("cmu", "bandai-namco"):
                items = store.get((split, group), [])
                counts.setdefault(split, {})[group] = {"clips": len(items), "frames": int(sum(len(p) for _, p, _ in items))}
                chunk: list = []
                frames = 0

                def flush(chunk=None) -> None:
                    k = sum(1 for s in shards if s["split"] == split and s["group"] == group)
                    name = f"{split}-{group}-{k:02d}.npz"
                    meta = [{kk: v for kk, v in asdict(info).items() if kk != "start"} for info, _, _ in chunk]
                    _write_npz(tmp_out / name, {
                        "poses": np.concatenate([p for _, p, _ in chunk]),
                        "transl": np.concatenate([t for _, _, t in chunk]),
                        "clips": np.array([json.dumps(meta)]),
                    })
                    shards.append({"file": name, "split": split, "group": group, "clips": len(chunk),
                                   "frames": int(sum(len(p) for _, p, _ in chunk)), "sha256": _sha256(tmp_out / name),
                                   "bytes": (tmp_out / name).stat().st_size})

                for item in items:
                    if chunk and frames + len(item[1]) > MAX_SHARD_FRAMES:
                        flush(chunk)
                        chunk, frames = [], 0
                    chunk.append(item)
                    frames += len(item[1])
                if chunk:
                    flush(chunk)
        manifest = {
            "format": "humanlib open motion corpus v1",
            "joints_stored": STORED_JOINTS, "joint_names": list(JOINT_NAMES), "split_fps": SPLIT_FPS,
            "split_rules": SPLIT_RULES, "target_body": body, "target_rest_joints": np.round(J, 5).tolist(),
            "shards": shards,
        }
        (tmp_out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        report = {
            "command": "humanlib build-corpus" + (f" --max-clips {max_clips_per_source}" if max_clips_per_source else "")
            + (" --strict" if strict else ""),
            "built_at_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()} {platform.release()}, Python {platform.python_version()}",
            "build_seconds": round(time.time() - t0, 1),
            "target_body": body,
            "sources": source_info,
            "counts": counts,
            "total_bytes": int(sum(s["bytes"] for s in shards)),
            "joints_at_rest": {
                "cmu": ["spine2", "left_hand", "right_hand"],
                "bandai-namco": ["spine2", "left_hand", "right_hand"],
            },
            "direction_error_deg": validator.summary(),
            "validated_on": "every frame at 30 fps, from the stored float16 poses",
            "consistency": {**checks.summary(), "passed": not problems, "problems": problems},
        }
        (tmp_out / REPORT).write_text(json.dumps(report, indent=1) + "\n")
        from humanlib.data.readme import corpus_readme

        (tmp_out / "README.md").write_text(corpus_readme(manifest, report))
        replace_folder(tmp_out, out)
    except BaseException:
        shutil.rmtree(tmp_out, ignore_errors=True)
        raise
    return report


