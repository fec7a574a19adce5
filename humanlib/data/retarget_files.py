"""Retargeting a researcher's own mocap files to the corpus format (``humanlib retarget``).

The same per-clip steps as the corpus build (``humanlib.data.steps``): the same calibration
(a CMU subject's own ``.asf``; the Bandai-Namco rig's committed calibration), glitch repair,
slerp resampling and float16 storage, and the same joint-direction validation report.

Output folder (a *motion folder*)::

    OUT/motions.json           format, fps, up axis ("y"), clip list (id, source file, frames)
    OUT/<clip id>.npz          poses (T, 22, 3) float16 axis-angle, transl (T, 3) float32 metres
    OUT/retarget_report.json   joint-direction errors source vs stored poses (as the corpus's)

Coordinates: SMPL's frame, Y up, metres, as the corpus. Everything is written to a temporary
folder and moved into place at the end: a failed run leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from humanlib._validate import check_positive
from humanlib.data import sources as S
from humanlib.data.asf_amc import read_amc, read_asf
from humanlib.data.bvh import read_bvh
from humanlib.data.steps import Validator, bandai_family_calibration, cmu_subject_calibration, replace_folder, retarget_to_fps

MOTIONS_FILE = "motions.json"
MOTIONS_FORMAT = "humanlib motion folder v1"
REPORT_FILE = "retarget_report.json"


class RetargetError(ValueError):
    """Files that cannot be retargeted (names the file and what to do)."""


def _find_inputs(source: Path) -> tuple[list[tuple[Path, list[Path]]], list[Path]]:
    """``([(asf, [amc, ...]), ...], [bvh, ...])`` under ``source`` (a folder or one ``.bvh``)."""
    if source.is_file():
        if source.suffix.lower() != ".bvh":
            raise RetargetError(f"{source}: give a .bvh file or a folder of .asf/.amc or .bvh files")
        return [], [source]
    asf_groups = []
    for asf in sorted(source.rglob("*.asf")):
        amcs = sorted(asf.parent.glob("*.amc"))
        if amcs:
            asf_groups.append((asf, amcs))
    orphan = sorted({a.parent for a in source.rglob("*.amc")} - {asf.parent for asf, _ in asf_groups})
    if orphan:
        raise RetargetError(f"{orphan[0]}: .amc files without an .asf skeleton in the same folder; put the subject's "
                            ".asf next to its .amc files")
    return asf_groups, sorted(source.rglob("*.bvh"))


def retarget_folder(source: str | Path, out: str | Path, fps: float = 30.0, progress: bool = False,
                    log: Callable[[str], None] | None = None, mapping: str | Path | None = None) -> dict:
    """Retarget ASF/AMC subjects and BVH files to the corpus format at ``fps``.

    Args:
        source: a folder (searched recursively) holding CMU-style ``.asf`` + ``.amc`` files (each
            ``.asf`` with the ``.amc`` files of its folder) and/or Bandai-Namco-rig ``.bvh`` files,
            or one ``.bvh`` file.
        out: the motion folder to write (new or empty; an earlier motion folder is replaced).
        fps: frame rate of the written clips (slerp resampling; the corpus's test split uses 30).
        progress: a tqdm bar over the clips.
        log: told one line per clip (e.g. ``print``).
        mapping: a BVH joint-mapping file (:mod:`humanlib.data.mapping`) for BVH files of another
            rig; ``None``: BVH files must be Bandai-Namco-rig files.

    Returns:
        The report (also in ``OUT/retarget_report.json``).

    Raises:
        TypeError: ``source`` / ``out`` not a path, ``progress`` not a bool, ``log`` not callable.
        ValueError: ``fps`` not > 0.
        FileNotFoundError: ``source`` does not exist.
        RetargetError: no motion file under ``source``, ``.amc`` without ``.asf``, a BVH whose
            joints are not the Bandai-Namco rig's (names the missing joints), ``out`` a file or a
            non-empty folder that is not a motion folder, or two clips with the same id.
        humanlib.data.AsfAmcFormatError, humanlib.data.BvhFormatError: a file that cannot be read.
    """
    src, dst = _check_retarget_args(source, out, fps, progress, log)
    log = log or (lambda msg: None)
    from humanlib.data.mapping import read_mapping

    joint_map = None if mapping is None else read_mapping(mapping)
    asf_groups, bvhs = _find_inputs(src)
    total = sum(len(a) for _, a in asf_groups) + len(bvhs)
    if total == 0:
        raise RetargetError(f"no motion under {src}: expected .asf + .amc files (CMU) or .bvh files")
    from humanlib.data.retarget import target_rest_joints

    J, _ = target_rest_joints()
    done = _Retargeted(J, src, fps, total, progress, log)
    add = done.add
    for asf, amcs in asf_groups:
        skel = read_asf(asf)
        cal, leg = cmu_subject_calibration(skel, J)
        for amc in amcs:
            add("cmu", amc, S.retarget(S.cmu_source_motion(skel, read_amc(amc, skel, fps=S.CMU_FPS)), cal, leg))
    if bvhs and joint_map is not None:
        _add_mapped(bvhs, src, joint_map, J, add)
    elif bvhs:
        _add_bandai(bvhs, J, add)
    validator, clips, arrays, bar = done.validator, done.clips, done.arrays, done.bar
    bar.close()
    report = {"command": "humanlib retarget", "source": str(src), "fps": float(fps), "up": "y", "clips": len(clips),
              "frames": int(sum(c["num_frames"] for c in clips)),
              "direction_error_deg": validator.summary(),
              "validated_on": f"every frame at {fps:g} fps, from the stored float16 poses"}
    _write_folder(dst, clips, arrays, fps, report)
    return report


def _check_retarget_args(source, out, fps, progress, log) -> tuple[Path, Path]:
    """The checks of :func:`retarget_folder`; ``(source, out)`` as Paths."""
    for name, value in (("source", source), ("out", out)):
        if not isinstance(value, (str, Path)):
            raise TypeError(f"{name} must be a str or pathlib.Path; got {type(value).__name__}")
    check_positive(fps, "fps")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False; got {progress!r}")
    if log is not None and not callable(log):
        raise TypeError(f"log must be a callable taking one message (e.g. print); got {type(log).__name__}")
    src, dst = Path(source).expanduser(), Path(out).expanduser()
    if not src.exists():
        raise FileNotFoundError(f"{src} does not exist; give a folder of .asf/.amc or .bvh files, or a .bvh file")
    if dst.exists() and not dst.is_dir():
        raise RetargetError(f"output folder {dst} is a file; give a folder")
    if dst.is_dir() and any(dst.iterdir()) and not (dst / MOTIONS_FILE).is_file():
        raise RetargetError(f"output folder {dst} is not empty and holds no {MOTIONS_FILE}; give a new or an empty "
                            "folder (an earlier motion folder is replaced)")
    return src, dst


class _Retargeted:
    """The clips retargeted so far: their arrays at ``fps``, their entries of motions.json, their validation."""

    def __init__(self, J: np.ndarray, src: Path, fps: float, total: int, progress: bool, log: Callable[[str], None]) -> None:
        from tqdm.auto import tqdm

        self.validator = Validator(J)
        self.clips: list[dict] = []
        self.arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.src, self.fps, self.log = src, fps, log
        self.bar = tqdm(total=total, desc="retarget", unit="clip", disable=not progress)

    def add(self, group: str, file: Path, motion: S.RetargetedMotion) -> None:
        """Resample one retargeted clip to ``fps``, validate it and keep it (its id: the file's stem, unique)."""
        fps, src = self.fps, self.src
        stored, tr, pts = retarget_to_fps(motion, fps)
        self.validator.add(group, pts, stored, tr)
        cid = file.stem
        if cid in self.arrays:
            raise RetargetError(f"two clips are named {cid!r} ({file} and an earlier one); rename one")
        self.arrays[cid] = (stored, tr.astype(np.float32))
        self.clips.append({"id": cid, "source": group, "file": str(file.relative_to(src) if src.is_dir() else file.name),
                           "num_frames": int(len(stored))})
        self.bar.set_postfix_str(cid, refresh=False)
        self.bar.update(1)
        self.log(f"{group} {cid}: {motion.local_rotations.shape[0]} frames at {motion.fps:g} fps -> {len(stored)} at {fps:g}")


def _add_bandai(bvhs: list[Path], J: np.ndarray, add) -> None:
    """Bandai-Namco-rig BVH files: the family's calibration; a file of another rig names the joints it lacks."""
    cal, leg = bandai_family_calibration(J)
    for bvh in bvhs:
        motion = read_bvh(bvh)
        missing = sorted(set(S.BANDAI_JOINTS.values()) - set(motion.names))
        if missing:
            raise RetargetError(f"{bvh}: its joints cannot be mapped to SMPL: it lacks the Bandai-Namco rig's "
                                f"{', '.join(missing)}; give --mapping FILE (see humanlib.data.mapping)")
        add("bandai-namco", bvh, S.retarget(S.bandai_source_motion(motion), cal, leg))


def _add_mapped(bvhs: list[Path], src: Path, joint_map, J: np.ndarray, add) -> None:
    """BVH files of a mapped rig: one calibration from the mapping's reference file and frame."""
    from humanlib.data.mapping import MappingError, mapped_calibration, mapped_source_motion

    ref_path = bvhs[0]
    if joint_map.reference_file is not None:
        named = [b for b in bvhs if b.name == joint_map.reference_file]
        if not named:
            raise MappingError(f"reference_file {joint_map.reference_file!r} of the mapping is not among the BVH "
                               f"files under {src}; name one of them, or null")
        ref_path = named[0]
    cal, leg = mapped_calibration(read_bvh(ref_path), joint_map, J)
    for bvh in bvhs:
        add("bvh-mapped", bvh, S.retarget(mapped_source_motion(read_bvh(bvh), joint_map), cal, leg))


def _write_folder(dst: Path, clips: list[dict], arrays: dict, fps: float, report: dict) -> None:
    from humanlib.data.corpus import _write_npz

    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.tmp-", dir=dst.parent))
    tmp.chmod(0o755)
    try:
        for cid, (poses, transl) in arrays.items():
            _write_npz(tmp / f"{cid}.npz", {"poses": poses, "transl": transl})
        (tmp / MOTIONS_FILE).write_text(json.dumps({"format": MOTIONS_FORMAT, "fps": float(fps), "up": "y",
                                                    "joints_stored": 22, "clips": clips}, indent=1) + "\n")
        (tmp / REPORT_FILE).write_text(json.dumps(report, indent=1) + "\n")
        replace_folder(tmp, dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["MOTIONS_FILE", "MOTIONS_FORMAT", "RetargetError", "retarget_folder"]
