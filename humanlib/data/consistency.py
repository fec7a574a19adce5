"""Measuring whether a retargeted corpus means the same thing by the same pose, whichever source.

Bone directions (the retarget report's ``direction_error_deg``) cannot see twist, nor an offset
that comes from two skeletons placing their joints differently: each source is calibrated on
its own. What can see it is a statistic of one activity compared across sources:

* :func:`cross_source_consistency`: per joint, the mean rotation (:func:`mean_rotation`) of the
  same activity (walking) in source A and in source B, the angle between them (*cross*), and
  the angle between the means of two disjoint parts of source B (*spread*, e.g. its train and
  test walks). A joint passes when ``cross <= spread + tolerance`` (5 degrees).
* :func:`lowest_foot_height` and :func:`foot_sliding`: the feet against the source's feet
  (the lowest foot point within 3 cm of the source's, the sliding speed in ground contact
  within 1.2 times the source's).
* :func:`single_frame_jumps`: frames where one joint leaves and comes back within one frame.

A cross-source difference is not always a retargeting error: two sources may perform the
activity differently (walking on uneven terrain bends the knees more than walking on a flat
floor). :func:`limb_angles_deg` measures, from the *source's joint positions* (no calibration
involved), angles that show such a difference, so a report can tell the two apart.

Conventions: rotations are ``(..., 3, 3)`` matrices (column vectors) or ``(..., 3)`` axis-angle
in radians, angles are reported in degrees, positions in metres with Y up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from humanlib.data._checks import as_array
from humanlib.skeleton import BODY_JOINTS, JOINT_NAMES, NUM_JOINTS, joint

#: A joint passes when its cross-source difference is at most the within-source spread plus this.
TOLERANCE_DEG = 5.0
#: Target: the retargeted lowest foot point within this of the source's (metres).
FLOOR_TOLERANCE_M = 0.03
#: Target: retargeted sliding speed in ground contact at most this times the source's.
SLIDING_TOLERANCE = 1.2
#: The joints whose heights and speeds stand for the feet.
FOOT_JOINTS: tuple[int, ...] = tuple(joint(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot"))
#: A joint that turns more than this between two frames and back is a single-frame jump.
JUMP_THRESHOLD_DEG = 60.0


def _as_rotmats(poses: object, name: str) -> np.ndarray:
    """``(N, 24, 3)`` axis-angle or ``(N, 24, 3, 3)`` matrices -> ``(N, 24, 3, 3)`` float64."""
    from humanlib.data.retarget import axis_angle_to_rotmat_np

    if isinstance(poses, np.ndarray) and poses.ndim == 3:
        return axis_angle_to_rotmat_np(as_array(poses, name, (None, NUM_JOINTS, 3), nonempty=True))
    return as_array(poses, name, (None, NUM_JOINTS, 3, 3), nonempty=True)


def mean_rotation(rotations: np.ndarray) -> np.ndarray:
    """Chordal L2 mean of rotations: the rotation nearest (Frobenius) to their arithmetic mean.

    Args:
        rotations: ``(N, ..., 3, 3)`` rotation matrices; the mean is taken over the first axis.

    Returns:
        ``(..., 3, 3)`` rotation matrices.

    Raises:
        ValueError: not ``(N, ..., 3, 3)`` with ``N >= 1``, or NaN / inf.
    """
    R = as_array(rotations, "rotations", (..., 3, 3), nonempty=True)
    if R.ndim < 3:
        raise ValueError(f"rotations must have shape (N, ..., 3, 3); got {R.shape}")
    U, _, Vt = np.linalg.svd(R.mean(axis=0))
    # the projection onto SO(3) flips the last singular direction when the mean is a reflection
    sign = np.sign(np.linalg.det(U @ Vt))
    U[..., :, 2] *= sign[..., None]
    return U @ Vt


def rotation_angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle between rotations ``a`` and ``b``, degrees, ``(...)`` (batch dims broadcast).

    Raises:
        ValueError: not ``(..., 3, 3)``, batch shapes that do not broadcast, or NaN / inf.
    """
    a = as_array(a, "a", (..., 3, 3))
    b = as_array(b, "b", (..., 3, 3))
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"a and b must have broadcastable shapes (..., 3, 3); got {a.shape} and {b.shape}") from None
    # from the chordal distance, ||a - b||_F = 2 sqrt(2) sin(angle / 2): arcsin is exact near 0,
    # where arccos of the trace loses half the digits (1e-6 deg noise on identical rotations)
    chord = np.sqrt(np.sum((a - b) ** 2, axis=(-2, -1))) / (2.0 * np.sqrt(2.0))
    return np.degrees(2.0 * np.arcsin(np.clip(chord, 0.0, 1.0)))


@dataclass
class JointConsistency:
    """One joint of :func:`cross_source_consistency` (degrees)."""

    joint: str
    cross_deg: float
    spread_deg: float
    excess_deg: float
    passed: bool


@dataclass
class ConsistencyResult:
    """Cross-source consistency of one activity.

    Attributes:
        joints: per joint, in SMPL order.
        tolerance_deg: a joint passes when ``cross <= spread + tolerance``.
        frames: frames used per part (``a``, ``b_first``, ``b_second``).
        passed: every joint passed.
    """

    joints: list[JointConsistency]
    tolerance_deg: float
    frames: dict[str, int]

    @property
    def passed(self) -> bool:
        return all(j.passed for j in self.joints)

    def failing(self) -> list[str]:
        """Names of the joints that fail."""
        return [j.joint for j in self.joints if not j.passed]

    def to_dict(self) -> dict:
        """JSON-ready form (rounded to 0.1 degree)."""
        rows = {}
        for j in self.joints:
            row = asdict(j)
            rows[row.pop("joint")] = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}
        return {"tolerance_deg": self.tolerance_deg, "passed": self.passed, "failing": self.failing(),
                "frames": self.frames, "joints": rows}


def cross_source_consistency(
    source_a: np.ndarray,
    source_b_first: np.ndarray,
    source_b_second: np.ndarray,
    joints: tuple[int, ...] = BODY_JOINTS,
    tolerance_deg: float = TOLERANCE_DEG,
) -> ConsistencyResult:
    """Per joint: how far source A's mean rotation is from source B's, against B's own spread.

    Args:
        source_a: ``(N_a, 24, 3)`` axis-angle or ``(N_a, 24, 3, 3)`` local rotations of one
            activity in source A.
        source_b_first, source_b_second: the same activity in source B, split in two disjoint
            parts (e.g. train and test clips); B's mean is taken over both.
        joints: SMPL joint indices to measure (default the 21 body joints; the root's heading
            is not a pose).
        tolerance_deg: a joint passes when ``cross <= spread + tolerance_deg``.

    Returns:
        :class:`ConsistencyResult`.

    Raises:
        TypeError: an input is a torch tensor (use ``.numpy()``) or not an array.
        ValueError: wrong shapes, an empty part, NaN / inf, or a joint index outside 0..23.
    """
    a = _as_rotmats(source_a, "source_a")
    b1 = _as_rotmats(source_b_first, "source_b_first")
    b2 = _as_rotmats(source_b_second, "source_b_second")
    if any(not isinstance(j, (int, np.integer)) or not 0 <= j < NUM_JOINTS for j in joints):
        raise ValueError(f"joints must be SMPL joint indices 0..{NUM_JOINTS - 1}; got {joints}")
    idx = list(joints)
    mean_a = mean_rotation(a[:, idx])
    mean_b = mean_rotation(np.concatenate([b1[:, idx], b2[:, idx]]))
    cross = rotation_angle_deg(mean_a, mean_b)
    spread = rotation_angle_deg(mean_rotation(b1[:, idx]), mean_rotation(b2[:, idx]))
    rows = [
        JointConsistency(JOINT_NAMES[j], float(c), float(s), float(max(c - s, 0.0)), bool(c <= s + tolerance_deg))
        for j, c, s in zip(idx, cross, spread)
    ]
    return ConsistencyResult(rows, float(tolerance_deg), {"a": len(a), "b_first": len(b1), "b_second": len(b2)})


def mirror_asymmetry_deg(poses: np.ndarray) -> dict[str, float]:
    """Per left joint: angle between its mean rotation and its right partner's mirrored mean.

    A source whose walks are symmetric but whose calibration twists one side shows here (SMPL's
    mirror turns an axis-angle ``(x, y, z)`` of the right joint into ``(x, -y, -z)`` on the left).

    Args:
        poses: ``(N, 24, 3)`` axis-angle or ``(N, 24, 3, 3)`` local rotations.

    Raises:
        TypeError: ``poses`` is a torch tensor or not an array.
        ValueError: wrong shape, empty, or NaN / inf.
    """
    from humanlib.data.retarget import mirror_poses, rotmat_to_axis_angle_np

    R = _as_rotmats(poses, "poses")
    mirrored = _as_rotmats(mirror_poses(rotmat_to_axis_angle_np(R))[0], "poses")
    out = {}
    for j in BODY_JOINTS:
        if JOINT_NAMES[j].startswith("left_"):
            out[JOINT_NAMES[j][5:]] = round(float(rotation_angle_deg(mean_rotation(R[:, j]), mean_rotation(mirrored[:, j]))), 1)
    return out


# ------------------------------------------------------------------------------ feet


def lowest_foot_height(joints: np.ndarray, quantile: float = 0.01) -> float:
    """Height of the feet's lowest point over a clip (a low quantile, robust to one bad frame).

    Args:
        joints: ``(T, 24, 3)`` positions (metres, Y up); the ankles and feet (toes) are used.
        quantile: which low quantile of the per-frame lowest foot joint height.

    Raises:
        ValueError: not ``(T, 24, 3)``, NaN / inf in a foot joint, or ``quantile`` outside [0, 1].
    """
    P = as_array(joints, "joints", (None, NUM_JOINTS, 3), finite=False, nonempty=True)
    if not np.isfinite(P[:, list(FOOT_JOINTS)]).all():
        raise ValueError("joints: an ankle or foot position is NaN or inf")
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must be in [0, 1]; got {quantile}")
    return float(np.quantile(P[:, list(FOOT_JOINTS), 1].min(axis=1), quantile))


def contact_mask(heights: np.ndarray, tolerance: float = 0.03) -> np.ndarray:
    """Frames where a foot point is in ground contact: within ``tolerance`` of its clip's low.

    Args:
        heights: ``(T,)`` heights of one foot point (metres).
        tolerance: metres above the point's 2nd-percentile height that still count as contact.

    Returns:
        ``(T,)`` bool.
    """
    h = as_array(heights, "heights", (None,), nonempty=True)
    return h <= np.quantile(h, 0.02) + tolerance


@dataclass
class Sliding:
    """Mean horizontal speed (m/s) of the foot points in ground contact (contact from the source)."""

    retargeted: float
    source: float
    frames: int

    @property
    def ratio(self) -> float:
        return self.retargeted / self.source if self.source > 0 else float("nan")


def foot_sliding(retargeted_joints: np.ndarray, source_points: np.ndarray, fps: float) -> Sliding:
    """Horizontal foot speed during the source's ground contacts, retargeted against source.

    Both motions must be in the same units and size (scale the source to the target first).
    A foot point is in contact in frames ``t`` and ``t+1`` when :func:`contact_mask` of the
    *source* point says so for both; the speed over that step is compared.

    Args:
        retargeted_joints: ``(T, 24, 3)`` SMPL joint positions.
        source_points: ``(T, 24, 3)`` source positions at SMPL joints (NaN rows allowed
            outside the feet).
        fps: frames per second of both.

    Raises:
        ValueError: shapes differ or are not ``(T, 24, 3)`` with ``T >= 2``, or NaN in a foot.
    """
    R = as_array(retargeted_joints, "retargeted_joints", (None, NUM_JOINTS, 3), finite=False)
    P = as_array(source_points, "source_points", (None, NUM_JOINTS, 3), finite=False)
    if R.shape != P.shape or len(R) < 2:
        raise ValueError(f"retargeted_joints and source_points must have the same shape (T >= 2, 24, 3); "
                         f"got {R.shape} and {P.shape}")
    speeds_r, speeds_s = [], []
    for j in FOOT_JOINTS:
        c = contact_mask(P[:, j, 1])
        step = c[1:] & c[:-1]
        speeds_r.append(np.linalg.norm(np.diff(R[:, j, ::2], axis=0), axis=1)[step] * fps)
        speeds_s.append(np.linalg.norm(np.diff(P[:, j, ::2], axis=0), axis=1)[step] * fps)
    r, s = np.concatenate(speeds_r), np.concatenate(speeds_s)
    if r.size == 0:
        return Sliding(float("nan"), float("nan"), 0)
    return Sliding(float(r.mean()), float(s.mean()), int(r.size))


# ------------------------------------------------------------------------------ jumps


def _neighbour_angles(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For frames 1..T-2: angles to the previous frame, to the next, and previous-to-next."""
    prev = rotation_angle_deg(R[:-2], R[1:-1])
    nxt = rotation_angle_deg(R[1:-1], R[2:])
    across = rotation_angle_deg(R[:-2], R[2:])
    return prev, nxt, across


def single_frame_jumps(local_rotations: np.ndarray, threshold_deg: float = JUMP_THRESHOLD_DEG) -> np.ndarray:
    """Frames where a joint jumps away for one frame and comes back.

    A frame ``t`` of joint ``j`` is a jump when it is more than ``threshold_deg`` away from both
    neighbours while the neighbours are closer to each other than half of that (a spike, not a
    fast but smooth turn).

    Args:
        local_rotations: ``(T, J, 3, 3)`` rotation matrices.
        threshold_deg: smallest jump reported.

    Returns:
        ``(T, J)`` bool mask (first and last frames are never jumps).

    Raises:
        ValueError: not ``(T, J, 3, 3)``, NaN / inf, or a threshold that is not > 0.
    """
    R = as_array(local_rotations, "local_rotations", (None, None, 3, 3))
    if not threshold_deg > 0:
        raise ValueError(f"threshold_deg must be > 0; got {threshold_deg}")
    mask = np.zeros(R.shape[:2], dtype=bool)
    if len(R) < 3:
        return mask
    prev, nxt, across = _neighbour_angles(R)
    mask[1:-1] = (prev > threshold_deg) & (nxt > threshold_deg) & (across < 0.5 * np.minimum(prev, nxt))
    return mask


def jump_summary(local_rotations: np.ndarray, threshold_deg: float = JUMP_THRESHOLD_DEG) -> dict[str, dict]:
    """Per joint with jumps: how many frames and the largest jump (degrees).

    Raises:
        ValueError: as :func:`single_frame_jumps`; ``J`` must be 24 (names come from SMPL).
    """
    R = as_array(local_rotations, "local_rotations", (None, NUM_JOINTS, 3, 3))
    mask = single_frame_jumps(R, threshold_deg)
    out = {}
    for j in np.flatnonzero(mask.any(axis=0)):
        t = np.flatnonzero(mask[:, j])
        size = rotation_angle_deg(R[t - 1, j], R[t, j])
        out[JOINT_NAMES[j]] = {"frames": int(t.size), "max_deg": round(float(size.max()), 1)}
    return out


# ------------------------------------------------------------------------------ activity


def _angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    cos = np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1) + 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def limb_angles_deg(points: np.ndarray) -> dict[str, float]:
    """Mean limb angles of a motion from joint positions alone (no calibration involved).

    Knee and elbow flexion (angle between the two segments), hip flexion (thigh against the
    trunk's down direction), arm against the trunk, and the angle between shank and foot;
    left and right averaged.

    Args:
        points: ``(T, 24, 3)`` positions at SMPL joints (source points or SMPL FK joints).

    Raises:
        ValueError: not ``(T, 24, 3)``, or NaN in a joint used.
    """
    P = as_array(points, "points", (None, NUM_JOINTS, 3), finite=False, nonempty=True)

    def at(name: str) -> np.ndarray:
        p = P[:, joint(name)]
        if not np.isfinite(p).all():
            raise ValueError(f"points: {name} is NaN or inf")
        return p

    down = at("pelvis") - at("neck")
    out: dict[str, list[float]] = {}
    for side in ("left", "right"):
        hip, knee, ankle, foot = (at(f"{side}_{n}") for n in ("hip", "knee", "ankle", "foot"))
        shoulder, elbow, wrist = (at(f"{side}_{n}") for n in ("shoulder", "elbow", "wrist"))
        angles = {
            "hip_flexion": _angle_between(knee - hip, down), "knee_flexion": _angle_between(knee - hip, ankle - knee),
            "shank_foot": _angle_between(ankle - knee, foot - ankle), "arm_from_trunk": _angle_between(elbow - shoulder, down),
            "elbow_flexion": _angle_between(elbow - shoulder, wrist - elbow),
        }
        for k, v in angles.items():
            out.setdefault(k, []).append(float(v.mean()))
    return {k: round(float(np.mean(v)), 1) for k, v in out.items()}


__all__ = [
    "FLOOR_TOLERANCE_M", "FOOT_JOINTS", "JUMP_THRESHOLD_DEG", "SLIDING_TOLERANCE", "TOLERANCE_DEG",
    "ConsistencyResult", "JointConsistency", "Sliding", "contact_mask", "cross_source_consistency", "foot_sliding",
    "jump_summary", "limb_angles_deg", "lowest_foot_height", "mean_rotation", "mirror_asymmetry_deg", "rotation_angle_deg",
    "single_frame_jumps",
]
