"""The per-clip steps of the corpus build, shared by ``humanlib build-corpus`` and ``humanlib retarget``.

One code path: :func:`humanlib.data.build.build_corpus` and
:func:`humanlib.data.retarget_files.retarget_folder` both call these, so a researcher's own
clips get exactly the corpus's conversion (calibration, resampling, float16 storage) and the
same validation report.

* :func:`cmu_subject_calibration`: a CMU subject's calibration from its own ``.asf`` (twist snap
  on, as in the corpus) and its leg length.
* :func:`bandai_family_calibration`: the calibration of the Bandai-Namco rig; the corpus derives
  it from a standing frame of a reference clip of the archive, and ships the result in
  ``humanlib/assets/corpus/calibration.json`` (written by :func:`write_calibration_file`) so that
  users without the archive get the very same numbers.
* :func:`retarget_to_fps`: a :class:`humanlib.data.sources.RetargetedMotion` resampled (slerp)
  to a frame rate and quantized to the stored form; :func:`quantize`; :class:`Validator`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from humanlib import paths
from humanlib._validate import check_positive
from humanlib.data._checks import check_instance
from humanlib.data import sources as S
from humanlib.data.asf_amc import AsfSkeleton
from humanlib.data.bvh import BvhMotion
from humanlib.data.corpus import STORED_JOINTS
from humanlib.data.retarget import (
    Calibration, axis_angle_to_rotmat_np, direction_errors_deg, resample_motion, rotmat_to_axis_angle_np,
    smpl_forward_kinematics,
)
from humanlib.skeleton import JOINT_NAMES, NUM_JOINTS

#: Source bones shorter than this (metres) are not validated (no direction).
MIN_BONE = 0.02
#: The committed Bandai-Namco calibration (inside the package).
CALIBRATION_FILE = "corpus/calibration.json"
CALIBRATION_FORMAT = "humanlib rig calibration v1"


def quantize(poses: np.ndarray) -> np.ndarray:
    """Stored form: joints 0..21 as float16.

    Args:
        poses: ``(T, 24, 3)`` (or ``(T, >=22, 3)``) axis-angle.

    Returns:
        ``(T, 22, 3)`` float16.

    Raises:
        ValueError: ``poses`` is not a ``(T, J, 3)`` array with J >= 22.
    """
    poses = np.asarray(poses)
    if poses.ndim != 3 or poses.shape[1] < STORED_JOINTS or poses.shape[2] != 3:
        raise ValueError(f"poses must be a (T, 24, 3) axis-angle array; got shape {poses.shape}")
    return poses[:, :STORED_JOINTS].astype(np.float16)


class Validator:
    """Joint-direction errors between source FK and SMPL FK driven by the stored poses.

    Args:
        rest_joints: ``(24, 3)`` target rest joints.
    """

    def __init__(self, rest_joints: np.ndarray) -> None:
        self.J = S._check_rest_joints(rest_joints)
        self.errors: dict[str, dict[str, list[np.ndarray]]] = {}

    def add(self, group: str, points: np.ndarray, stored: np.ndarray, transl: np.ndarray) -> None:
        """Add one clip: ``points`` ``(T, 24, 3)`` source points, ``stored`` ``(T, 22, 3)``, ``transl`` ``(T, 3)``."""
        full = np.zeros((len(stored), NUM_JOINTS, 3))
        full[:, :STORED_JOINTS] = stored.astype(np.float64)
        _, P = smpl_forward_kinematics(axis_angle_to_rotmat_np(full), self.J, transl)
        avail = ~np.isnan(points[0, :, 0])
        bones = [
            (a, j) for a, j in S.validation_bones(avail)
            if np.linalg.norm(points[0, j] - points[0, a]) > MIN_BONE
        ]
        err = direction_errors_deg(points, P, bones)
        g = self.errors.setdefault(group, {})
        for k, (a, j) in enumerate(bones):
            g.setdefault(f"{JOINT_NAMES[a]}->{JOINT_NAMES[j]}", []).append(err[:, k].astype(np.float32))

    def summary(self) -> dict:
        """Per group: per bone mean / median / p95 / max (degrees) and frames; all bones' mean and p95."""
        out = {}
        for group, bones in self.errors.items():
            rows = {}
            for bone, parts in bones.items():
                e = np.concatenate(parts)
                rows[bone] = {
                    "mean": round(float(e.mean()), 3), "median": round(float(np.median(e)), 3),
                    "p95": round(float(np.percentile(e, 95)), 3), "max": round(float(e.max()), 3),
                    "frames": int(e.size),
                }
            allerr = np.concatenate([np.concatenate(p) for p in bones.values()])
            out[group] = {"bones": rows, "all_bones_mean": round(float(allerr.mean()), 3),
                          "all_bones_p95": round(float(np.percentile(allerr, 95)), 3)}
        return out


def retarget_to_fps(motion: S.RetargetedMotion, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A retargeted motion resampled to ``fps`` and quantized as the corpus stores it.

    Args:
        motion: from :func:`humanlib.data.sources.retarget`.
        fps: target frame rate (the corpus uses 30, then keeps every 3rd frame for train/val).

    Returns:
        ``(stored, transl, points)``: ``(T', 22, 3)`` float16 poses, ``(T', 3)`` float64 root
        translation, ``(T', 24, 3)`` source points at the nearest source frames (for :class:`Validator`).

    Raises:
        TypeError: ``motion`` is not a ``RetargetedMotion``.
        ValueError: ``fps`` is not a number > 0.
    """
    check_instance(motion, S.RetargetedMotion, "motion", "humanlib.data.sources.retarget")
    check_positive(fps, "fps")
    R, tr = resample_motion(motion.local_rotations, motion.transl, motion.fps, fps)
    pts = motion.source.points
    step = int(round(motion.fps / fps)) if motion.fps > fps else 1
    pts = pts[::step][: len(R)]
    return quantize(rotmat_to_axis_angle_np(R)), tr, pts


def cmu_subject_calibration(skeleton: AsfSkeleton, rest_joints: np.ndarray) -> tuple[Calibration, float]:
    """A CMU subject's calibration (from its own ``.asf``, twist snap on) and leg length (metres).

    Raises:
        TypeError: ``skeleton`` is not an ``AsfSkeleton``.
        ValueError: not a CMU skeleton, or ``rest_joints`` not a finite ``(24, 3)`` array.
    """
    check_instance(skeleton, AsfSkeleton, "skeleton", "read_asf")
    cal = S.cmu_calibration(skeleton, rest_joints, twist_snap=True)
    return cal, S.leg_length(S.cmu_source_motion(skeleton, None).points[0])


def calibration_to_dict(calibration: Calibration, leg_length: float, origin: str) -> dict:
    """JSON form of a calibration (floats written with Python's shortest round-trip repr: exact).

    Raises:
        TypeError: ``calibration`` is not a ``Calibration``.
        ValueError: ``leg_length`` not a number > 0.
    """
    check_instance(calibration, Calibration, "calibration", "humanlib.data.sources.bandai_calibration")
    check_positive(leg_length, "leg_length")
    return {"format": CALIBRATION_FORMAT, "origin": str(origin), "leg_length_m": float(leg_length),
            "frames": np.asarray(calibration.frames, dtype=np.float64).tolist(),
            "driven": np.asarray(calibration.driven, dtype=bool).tolist(),
            "rest_joints": np.asarray(calibration.rest_joints, dtype=np.float64).tolist()}


def write_calibration_file(raw_dir: str | Path | None = None, out: str | Path | None = None) -> Path:
    """Write the Bandai-Namco calibration of the corpus build (its reference frame) as JSON.

    Args:
        raw_dir: folder with the Bandai-Namco archive or its ``dataset/`` (default
            :func:`humanlib.paths.raw_data_dir`).
        out: output file (default the committed ``humanlib/assets/corpus/calibration.json``).

    Raises:
        humanlib.data.CorpusError: the raw data are missing (see ``humanlib build-corpus``).
    """
    import tempfile

    from humanlib.data.archives import BANDAI_ARCHIVE, _find_bandai_reference
    from humanlib.data.retarget import target_rest_joints

    J, _ = target_rest_joints()
    with tempfile.TemporaryDirectory(prefix="humanlib-cal-") as tmp:
        ref, frame, name = _find_bandai_reference(raw_dir, Path(tmp))
        cal = S.bandai_calibration(ref, J, frame)
        leg = S.leg_length(S.bandai_source_motion(ref).points[frame])
    path = Path(out) if out is not None else paths.PACKAGE_DIR / "assets" / CALIBRATION_FILE
    payload = calibration_to_dict(cal, leg, f"{BANDAI_ARCHIVE}: {name} frame {frame} (humanlib build-corpus)")
    path.write_text(json.dumps(payload) + "\n")
    return path


def bandai_family_calibration(rest_joints: np.ndarray) -> tuple[Calibration, float]:
    """The corpus's Bandai-Namco calibration and leg length, from the committed calibration file.

    Raises:
        ValueError: ``rest_joints`` differ from the ones the file was made for (a different
            target body: rebuild the file with :func:`write_calibration_file`).
        FileNotFoundError: the committed file is missing (a damaged install).
    """
    rest_joints = S._check_rest_joints(rest_joints)
    path = paths.PACKAGE_DIR / "assets" / CALIBRATION_FILE
    if not path.is_file():
        raise FileNotFoundError(f"calibration file {path} is missing; reinstall humanlib or write it with "
                                "humanlib.data.steps.write_calibration_file()")
    data = json.loads(path.read_text())
    J = np.array(data["rest_joints"], dtype=np.float64)
    if J.shape != rest_joints.shape or not np.allclose(J, rest_joints, atol=1e-9):
        raise ValueError(f"the Bandai-Namco calibration in {path} was made for another target body; write it again "
                         "with humanlib.data.steps.write_calibration_file()")
    cal = Calibration(np.array(data["frames"], dtype=np.float64), np.array(data["driven"], dtype=bool), J)
    return cal, float(data["leg_length_m"])


__all__ = ["CALIBRATION_FILE", "MIN_BONE", "Validator", "bandai_family_calibration", "calibration_to_dict",
           "cmu_subject_calibration", "quantize", "retarget_to_fps", "write_calibration_file"]


def replace_folder(new: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Put the finished folder ``new`` in place of ``dst`` (which may not exist yet).

    ``dst`` is first renamed aside, so that a reader never sees half of the old folder and half of
    the new one; the old copy is removed once ``new`` is in place. ``new`` must be on the same file
    system as ``dst`` (the corpus build and ``retarget_folder`` write it next to ``dst``).

    Returns:
        ``dst`` as a path.

    Raises:
        FileNotFoundError: ``new`` is not a folder.
    """
    new, dst = Path(new), Path(dst)
    if not new.is_dir():
        raise FileNotFoundError(f"{new} is not a folder: write the new folder first, then replace {dst} with it")
    old = dst.parent / f".{dst.name}.old-{os.getpid()}"
    if dst.exists():
        dst.rename(old)
    new.rename(dst)
    if old.exists():
        shutil.rmtree(old)
    return dst
