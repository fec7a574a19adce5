"""The two open mocap sources and how each maps onto SMPL's joints.

Per source: which source joint *drives* each SMPL joint (its global frame turns the SMPL
joint's segment), which source point sits at each SMPL joint (for calibration and for the
joint-direction validation), and the reference pose used for the rest calibration.

* **CMU (ASF/AMC)**: the zero pose of the ``.asf`` is a T-pose, so it is the reference. Bones
  run from a joint to the next, so SMPL joint ``j`` is driven by the bone that *starts* at it
  (``lfemur`` starts at the hip, ``upperback`` at SMPL's spine1 height). The elbow is driven
  by ``lwrist``, which carries the forearm twist after ``lradius``'s flexion; the wrist by
  ``lhand``. SMPL's spine3 (the parent of the collars) is driven by ``thorax``, the parent of
  CMU's clavicles: driving it by ``lowerneck`` put the neck's bend into the chest and its
  inverse into both collars (measured: 27-33 degrees of collar offset against Bandai-Namco).
  spine2 is kept at rest as for Bandai-Namco (one spine convention; spine1's segment runs to
  spine3). CMU's ``lowerback`` and ``lowerneck`` rotations and its finger/thumb bones have no
  SMPL joint: the first two are absorbed into the segments above them, the others dropped.
  The twist about each segment follows the Bandai-Namco convention (``twist_snap``).
* **Bandai-Namco (BVH)**: one joint per SMPL joint except ``spine2`` (absent: kept at rest)
  and the hands. Joint frames are bone-aligned (bone along local ±x, mirrored on the right
  side) and no file has a T-pose, so a standing frame is the reference and each joint's twist
  is snapped so that the local axis nearest to an anatomical axis (the body's lateral axis for
  legs and spine, vertical for arms in the T-pose) follows it exactly; knees and elbows hinge
  about local y, so this puts the hinge on SMPL's hinge axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanlib._validate import check_positive
from humanlib.data._checks import as_array, check_instance
from humanlib.data.asf_amc import AmcMotion, AsfSkeleton, amc_forward_kinematics, read_amc, read_asf
from humanlib.data.bvh import BvhMotion, bvh_forward_kinematics, read_bvh
from humanlib.data.cleanup import floor_offset, hip_anchored_translation, repair_jumps
from humanlib.data.retarget import (
    Calibration,
    calibrate,
    calibration_segment,
    retarget_rotations,
    smpl_forward_kinematics,
)
from humanlib.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, joint

CMU_FPS = 120.0
#: BVH lengths are centimetres.
BANDAI_SCALE = 0.01

#: SMPL joint -> CMU bone driving it.
CMU_DRIVERS: dict[str, str] = {
    "pelvis": "root", "left_hip": "lfemur", "right_hip": "rfemur", "spine1": "upperback",
    "left_knee": "ltibia", "right_knee": "rtibia", "left_ankle": "lfoot",
    "right_ankle": "rfoot", "spine3": "thorax", "left_foot": "ltoes", "right_foot": "rtoes",
    "neck": "upperneck", "left_collar": "lclavicle", "right_collar": "rclavicle", "head": "head",
    "left_shoulder": "lhumerus", "right_shoulder": "rhumerus", "left_elbow": "lwrist",
    "right_elbow": "rwrist", "left_wrist": "lhand", "right_wrist": "rhand",
}
#: SMPL joint -> (CMU bone, "start" | "end"): the source point at the SMPL joint. The collars have
#: none: CMU's clavicles start at the thorax's end, where SMPL's spine3 is (see CMU_CHILD_OVERRIDE).
CMU_POINTS: dict[str, tuple[str, str]] = {
    "pelvis": ("root", "start"), "left_hip": ("lfemur", "start"), "right_hip": ("rfemur", "start"),
    "spine1": ("upperback", "start"), "left_knee": ("ltibia", "start"), "right_knee": ("rtibia", "start"),
    "left_ankle": ("lfoot", "start"), "right_ankle": ("rfoot", "start"),
    "spine3": ("lowerneck", "start"), "left_foot": ("ltoes", "start"), "right_foot": ("rtoes", "start"),
    "neck": ("upperneck", "start"),
    "head": ("head", "start"), "left_shoulder": ("lhumerus", "start"), "right_shoulder": ("rhumerus", "start"),
    "left_elbow": ("lradius", "start"), "right_elbow": ("rradius", "start"), "left_wrist": ("lhand", "start"),
    "right_wrist": ("rhand", "start"), "left_hand": ("lhand", "end"), "right_hand": ("rhand", "end"),
}
#: spine2 is kept at rest for CMU as for Bandai-Namco (one spine convention): spine1's segment
#: runs to spine3.
#: CMU's clavicles start at the thorax's end, where SMPL's spine3 sits, not at SMPL's collar joint
#: (which lies above and beside it): they are calibrated against SMPL's spine3 -> shoulder segment.
#: Against the collar -> shoulder segment a clavicle that never moves (CMU's channels stay ~0)
#: was held ~27 degrees raised, and the shoulders turned the arms down by as much to compensate.
CMU_CHILD_OVERRIDE: dict[str, str | tuple[str, str]] = {
    "spine1": "spine3", "left_collar": ("spine3", "left_shoulder"), "right_collar": ("spine3", "right_shoulder"),
}
#: Childless SMPL joints: the CMU bone whose own direction calibrates them.
CMU_OWN_BONE: dict[str, str] = {"left_foot": "ltoes", "right_foot": "rtoes", "head": "head"}

#: SMPL joint -> Bandai-Namco joint (driver and point are the same joint).
BANDAI_JOINTS: dict[str, str] = {
    "pelvis": "Hips", "left_hip": "UpperLeg_L", "right_hip": "UpperLeg_R", "spine1": "Spine",
    "left_knee": "LowerLeg_L", "right_knee": "LowerLeg_R", "left_ankle": "Foot_L", "right_ankle": "Foot_R",
    "spine3": "Chest", "left_foot": "Toes_L", "right_foot": "Toes_R", "neck": "Neck",
    "left_collar": "Shoulder_L", "right_collar": "Shoulder_R", "head": "Head",
    "left_shoulder": "UpperArm_L", "right_shoulder": "UpperArm_R", "left_elbow": "LowerArm_L",
    "right_elbow": "LowerArm_R", "left_wrist": "Hand_L", "right_wrist": "Hand_R",
}
#: The Bandai-Namco reference (standing) frame for the rest calibration.
BANDAI_REFERENCE = ("dataset-2_walk_normal_001.bvh", 0)
#: spine2 is absent from the Bandai-Namco rig: spine1's segment runs to spine3.
BANDAI_CHILD_OVERRIDE = {"spine1": "spine3"}
_ARM_WORDS = ("collar", "shoulder", "elbow", "wrist")


def twist_reference(name: str) -> np.ndarray:
    """World axis the twist snap aligns for an SMPL joint in the T-pose.

    Arms (lying along x in the T-pose): vertical, so elbows hinge about y as in SMPL. The pelvis
    (calibrated by its lateral hip line): vertical. Spine, head and legs (vertical bones): lateral.

    Raises:
        ValueError: ``name`` is not an SMPL joint name.
    """
    if not isinstance(name, str) or name not in JOINT_NAMES:
        raise ValueError(f"name must be an SMPL joint name; got {name!r}; known joints: {', '.join(JOINT_NAMES)}")
    if name == "pelvis" or any(w in name for w in _ARM_WORDS):
        return np.array([0.0, 1.0, 0.0])
    return np.array([1.0, 0.0, 0.0])


@dataclass
class SourceMotion:
    """A source motion expressed per SMPL joint (common input of retargeting and validation).

    Attributes:
        driver_rotations: ``(T, 24, 3, 3)`` global frames of the driving source joints.
        points: ``(T, 24, 3)`` source positions at SMPL joints (metres; NaN where none).
        root: ``(T, 3)`` source position of the pelvis (metres).
        fps: frames per second.
    """

    driver_rotations: np.ndarray
    points: np.ndarray
    root: np.ndarray
    fps: float


def validation_bones(points_available: np.ndarray) -> list[tuple[int, int]]:
    """SMPL ``(ancestor, joint)`` pairs whose both ends have a source point.

    The ancestor is the nearest one with a point (Bandai-Namco lacks spine2, so its
    ``spine3`` bone starts at ``spine1``).

    Args:
        points_available: ``(24,)`` bool mask of SMPL joints with a source point.

    Raises:
        ValueError: ``points_available`` is not a ``(24,)`` bool array.
    """
    points_available = np.asarray(points_available)
    if points_available.shape != (NUM_JOINTS,) or points_available.dtype != bool:
        raise ValueError(f"points_available must be a ({NUM_JOINTS},) bool array; got shape "
                         f"{points_available.shape}, dtype {points_available.dtype}")
    bones = []
    for j in range(1, NUM_JOINTS):
        if not points_available[j]:
            continue
        a = PARENTS[j]
        while a >= 0 and not points_available[a]:
            a = PARENTS[a]
        if a >= 0:
            bones.append((a, j))
    return bones


# ------------------------------------------------------------------------------ CMU


def _check_rig(names: list[str], needed, what: str, path: str) -> None:
    missing = sorted(set(needed) - set(names))
    if missing:
        raise ValueError(f"{path or 'the skeleton'} is not a {what} rig: it lacks {missing}")


def _check_rest_joints(rest_joints: object) -> np.ndarray:
    return as_array(rest_joints, "rest_joints", (NUM_JOINTS, 3))


def cmu_source_motion(skeleton: AsfSkeleton, motion: AmcMotion | None) -> SourceMotion:
    """Per-SMPL-joint driver frames and points of a CMU motion (``None``: the zero pose).

    Raises:
        TypeError: ``skeleton`` / ``motion`` of the wrong type.
        ValueError: a skeleton without CMU's bone names, or a motion read for another skeleton.
    """
    check_instance(skeleton, AsfSkeleton, "skeleton", "read_asf")
    _check_rig(skeleton.names, set(CMU_DRIVERS.values()) | {b for b, _ in CMU_POINTS.values()}, "CMU (ASF)",
               skeleton.path)
    fk = amc_forward_kinematics(skeleton, motion)
    T = fk.rotations.shape[0]
    drivers = np.broadcast_to(np.eye(3), (T, NUM_JOINTS, 3, 3)).copy()
    for name, bone in CMU_DRIVERS.items():
        drivers[:, joint(name)] = fk.rotations[:, skeleton.index(bone)]
    points = np.full((T, NUM_JOINTS, 3), np.nan)
    for name, (bone, end) in CMU_POINTS.items():
        b = skeleton.index(bone)
        points[:, joint(name)] = fk.starts[:, b] if end == "start" else fk.ends[:, b]
    return SourceMotion(drivers, points, points[:, joint("pelvis")].copy(), motion.fps if motion else CMU_FPS)


def cmu_calibration(skeleton: AsfSkeleton, rest_joints: np.ndarray, twist_snap: bool = True) -> Calibration:
    """Rest calibration of a CMU skeleton (its zero pose is the reference T-pose).

    With ``twist_snap`` the twist about each calibrating segment follows the same convention as
    the Bandai-Namco calibration: the bone's ASF ``axis`` direction nearest to the anatomical axis
    of :func:`twist_reference` is snapped onto it. On subjects 01 and 03 this turns the ankles by
    19 degrees, the toes by 20 and the shoulders by 30 (CMU's axis frames there are turned about
    the bone) and leaves the other joints within 1 degree. Without it the twist is the zero pose's.

    Raises:
        TypeError: ``skeleton`` is not an :class:`AsfSkeleton`, ``twist_snap`` not a bool.
        ValueError: not a CMU skeleton, or ``rest_joints`` is not a finite ``(24, 3)`` array.
    """
    rest_joints = _check_rest_joints(rest_joints)
    if not isinstance(twist_snap, (bool, np.bool_)):
        raise TypeError(f"twist_snap must be True or False; got {twist_snap!r}")
    zero = cmu_source_motion(skeleton, None)
    fk = amc_forward_kinematics(skeleton, None)
    segments = np.zeros((NUM_JOINTS, 3))
    driven = np.zeros(NUM_JOINTS, dtype=bool)
    axes = np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3)).copy()
    refs = np.zeros((NUM_JOINTS, 3))
    for name, bone in CMU_DRIVERS.items():
        j = joint(name)
        driven[j] = True
        segment = calibration_segment(name, CMU_CHILD_OVERRIDE)
        if segment is not None:
            segments[j] = zero.points[0, joint(segment[1])] - zero.points[0, joint(segment[0])]
        else:
            b = skeleton.index(CMU_OWN_BONE[name])
            segments[j] = fk.ends[0, b] - fk.starts[0, b]
        # at the zero pose every bone's world frame is the identity, so the axis frame's columns
        # are its local axes in world (rows here: calibrate takes one axis per row)
        axes[j] = skeleton.bones[skeleton.index(bone)].axis.T
        refs[j] = twist_reference(name)
    if not twist_snap:
        return calibrate(zero.driver_rotations[0], segments, driven, rest_joints, child_override=CMU_CHILD_OVERRIDE)
    return calibrate(zero.driver_rotations[0], segments, driven, rest_joints, twist_axes=axes, twist_references=refs,
                     child_override=CMU_CHILD_OVERRIDE)


# ------------------------------------------------------------------------------ Bandai-Namco


def bandai_source_motion(motion: BvhMotion) -> SourceMotion:
    """Per-SMPL-joint driver frames and points of a Bandai-Namco BVH motion (metres).

    Raises:
        TypeError: ``motion`` is not a :class:`BvhMotion`.
        ValueError: a BVH rig without the Bandai-Namco joint names.
    """
    check_instance(motion, BvhMotion, "motion", "read_bvh")
    _check_rig(motion.names, BANDAI_JOINTS.values(), "Bandai-Namco (BVH)", motion.path)
    return _bvh_source_motion(motion, BANDAI_JOINTS, BANDAI_SCALE)


def _bvh_source_motion(motion: BvhMotion, joints: dict[str, str], scale: float) -> SourceMotion:
    """:func:`bandai_source_motion` for any BVH rig: ``joints`` maps SMPL names to the rig's, ``scale`` metres/unit."""
    fk = bvh_forward_kinematics(motion, scale=scale)
    T = motion.num_frames
    drivers = np.broadcast_to(np.eye(3), (T, NUM_JOINTS, 3, 3)).copy()
    points = np.full((T, NUM_JOINTS, 3), np.nan)
    for name, src in joints.items():
        s = motion.index(src)
        drivers[:, joint(name)] = fk.rotations[:, s]
        points[:, joint(name)] = fk.positions[:, s]
    return SourceMotion(drivers, points, points[:, joint("pelvis")].copy(), round(motion.fps, 3))


def bandai_calibration(reference: BvhMotion, rest_joints: np.ndarray, frame: int = 0) -> Calibration:
    """Rest calibration of the Bandai-Namco rig from a standing reference frame.

    Raises:
        TypeError: ``reference`` is not a :class:`BvhMotion`, ``frame`` not an integer.
        ValueError: not a Bandai-Namco rig, ``frame`` outside the motion, or ``rest_joints``
            not a finite ``(24, 3)`` array.
    """
    rest_joints = _check_rest_joints(rest_joints)
    check_instance(reference, BvhMotion, "reference", "read_bvh")
    check_positive(frame, "frame", integer=True, allow_zero=True)
    if frame >= reference.num_frames:
        raise ValueError(f"frame {frame} is outside the reference motion ({reference.num_frames} frames)")
    _check_rig(reference.names, BANDAI_JOINTS.values(), "Bandai-Namco (BVH)", reference.path)
    return _bvh_calibration(reference, rest_joints, frame, BANDAI_JOINTS, BANDAI_SCALE, BANDAI_CHILD_OVERRIDE)


def _bvh_calibration(reference: BvhMotion, rest_joints: np.ndarray, frame: int, joints: dict[str, str],
                     scale: float, child_of: dict[str, str]) -> Calibration:
    """:func:`bandai_calibration` for any BVH rig (``joints``, ``scale`` as :func:`_bvh_source_motion`)."""
    src = _bvh_source_motion(reference, joints, scale)
    G = src.driver_rotations[frame]
    P = src.points[frame]
    segments = np.zeros((NUM_JOINTS, 3))
    driven = np.zeros(NUM_JOINTS, dtype=bool)
    twist_refs = np.zeros((NUM_JOINTS, 3))
    axes = np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3))  # candidate local axes for the twist snap
    for name, src_name in joints.items():
        j = joint(name)
        driven[j] = True
        segment = calibration_segment(name, child_of)
        if segment is not None and all(end in joints for end in segment):
            segments[j] = P[joint(segment[1])] - P[joint(segment[0])]
        else:
            # childless in the file (End Site at 0): the bone runs along local +-x
            sign = np.sign(reference.offsets[reference.index(src_name)][0]) or 1.0
            segments[j] = G[j] @ np.array([sign, 0.0, 0.0])
        twist_refs[j] = twist_reference(name)
    return calibrate(G, segments, driven, rest_joints, twist_axes=axes, twist_references=twist_refs,
                     child_override=child_of)


# ------------------------------------------------------------------------------ both


@dataclass
class RetargetedMotion:
    """A motion on SMPL's skeleton.

    Attributes:
        local_rotations: ``(T, 24, 3, 3)`` SMPL local rotations (rest where undriven).
        transl: ``(T, 3)`` SMPL root translation (metres): the pelvis lands on the source's
            pelvis scaled by ``scale``.
        fps: frames per second.
        source: the :class:`SourceMotion` it came from.
        scale: target leg length / source leg length.
        repaired: ``(T, 24)`` bool, frames of each joint replaced by
            :func:`humanlib.data.cleanup.repair_jumps` (a glitch of the source).
    """

    local_rotations: np.ndarray
    transl: np.ndarray
    fps: float
    source: SourceMotion
    scale: float
    repaired: np.ndarray | None = None


def leg_length(points: np.ndarray) -> float:
    """Mean hip-knee-ankle chain length of the two legs, from ``(24, 3)`` points.

    Raises:
        ValueError: ``points`` is not ``(24, 3)``, or a hip, knee or ankle is NaN / inf.
    """
    points = as_array(points, "points", (NUM_JOINTS, 3), finite=False)
    legs = [joint(f"{side}_{n}") for side in ("left", "right") for n in ("hip", "knee", "ankle")]
    if not np.isfinite(points[legs]).all():
        raise ValueError("points: a hip, knee or ankle is NaN or inf; leg_length needs all six")
    total = 0.0
    for side in ("left", "right"):
        h, k, a = (points[joint(f"{side}_{n}")] for n in ("hip", "knee", "ankle"))
        total += np.linalg.norm(k - h) + np.linalg.norm(a - k)
    return total / 2.0


def retarget(source: SourceMotion, calibration: Calibration, source_leg_length: float,
             repair_glitches: bool = True) -> RetargetedMotion:
    """SMPL local rotations and root translation for a source motion.

    Glitches of the source (a joint jumping away and back faster than a body turns) are
    repaired (:func:`humanlib.data.cleanup.repair_jumps`). The root is placed so that SMPL's hip
    midpoint follows the source's (scaled), then shifted up or down once per clip so that the
    lowest foot point sits where the source's does (:mod:`humanlib.data.cleanup`).

    Args:
        source: from :func:`cmu_source_motion` or :func:`bandai_source_motion`.
        calibration: the source's :class:`Calibration`.
        source_leg_length: the source actor's leg length (metres), for scaling translation.
        repair_glitches: repair jumps (off only for synthetic motions whose frames are
            independent random poses, which the repair rightly calls glitches).

    Raises:
        TypeError: ``source`` / ``calibration`` of the wrong type, ``repair_glitches`` not a bool.
        ValueError: ``source_leg_length`` is not a finite number > 0.
    """
    check_instance(source, SourceMotion, "source", "cmu_source_motion or bandai_source_motion")
    check_instance(calibration, Calibration, "calibration", "cmu_calibration or bandai_calibration")
    check_positive(source_leg_length, "source_leg_length")
    if not isinstance(repair_glitches, (bool, np.bool_)):
        raise TypeError(f"repair_glitches must be True or False; got {repair_glitches!r}")
    R = retarget_rotations(source.driver_rotations, calibration)
    repaired = np.zeros(R.shape[:2], dtype=bool)
    if repair_glitches:
        R, repaired = repair_jumps(R, source.fps)
    scale = leg_length(calibration.rest_joints) / source_leg_length
    _, at_rest_root = smpl_forward_kinematics(R, calibration.rest_joints)
    transl = hip_anchored_translation(at_rest_root, source.points, scale)
    transl[:, 1] += floor_offset(at_rest_root + transl[:, None, :], source.points, scale)
    return RetargetedMotion(R, transl, source.fps, source, scale, repaired)


def load_cmu_clip(asf: Path, amc: Path) -> tuple[AsfSkeleton, SourceMotion]:
    """Read a CMU skeleton and one of its motions as a :class:`SourceMotion` (120 fps).

    Raises:
        FileNotFoundError: a file is missing.
        AsfAmcFormatError: a file cannot be read (names it and the line).
        ValueError: not a CMU skeleton.
    """
    skeleton = read_asf(asf)
    return skeleton, cmu_source_motion(skeleton, read_amc(amc, skeleton, fps=CMU_FPS))


__all__ = [
    "BANDAI_CHILD_OVERRIDE", "BANDAI_JOINTS", "CMU_CHILD_OVERRIDE", "CMU_DRIVERS", "twist_reference", "RetargetedMotion", "SourceMotion", "bandai_calibration",
    "bandai_source_motion", "cmu_calibration", "cmu_source_motion", "leg_length", "load_cmu_clip",
    "BANDAI_REFERENCE", "CMU_FPS", "read_bvh", "retarget", "validation_bones",
]
