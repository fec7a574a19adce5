"""Repairs applied to a retargeted motion: rotation glitches, the root's placement, the floor.

* :func:`repair_jumps`: the CMU files hold solver glitches, a joint (mostly a wrist: ``rhand``'s
  ``rz`` channel jumps by ~180 degrees) that turns further in 1/120 s than a body can and comes
  back a few frames later. Such a segment is replaced by the slerp between the frames around it.
* :func:`hip_anchored_translation`: the SMPL root is placed so that the midpoint of its hips
  lands on the source's (scaled) hip midpoint. Placing the pelvis joint on the source's root
  instead lifts the whole body whenever the two skeletons put the pelvis at different heights
  above the hips (CMU's root sits near its hip line, SMPL's pelvis ~9 cm above its hips), and
  makes the feet float and slide.
* :func:`floor_offset`: one vertical shift per clip that puts the lowest foot point where the
  source's (scaled) lowest foot point is.

Conventions: rotations are ``(T, J, 3, 3)`` matrices, positions metres with Y up.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from humanlib._validate import check_positive
from humanlib.data._checks import as_array
from humanlib.data.consistency import lowest_foot_height, rotation_angle_deg
from humanlib.skeleton import NUM_JOINTS, joint

#: Faster than this (degrees per second) no joint turns (25 deg a frame at 120 fps); CMU's glitches
#: turn ~20,000 deg/s (a wrist's rz channel flipping by ~180 deg), and a hip in clip 01_14 ~4,900.
MAX_ANGULAR_SPEED_DEG_S = 3000.0
#: Never call a step smaller than this a jump, whatever the frame rate (degrees).
MAX_JUMP_DEG = 90.0
#: A glitch lasts at most this long (seconds) before the joint comes back.
MAX_GLITCH_SECONDS = 0.25


def _jump_threshold(fps: float) -> float:
    return min(MAX_ANGULAR_SPEED_DEG_S / fps, MAX_JUMP_DEG)


def _glitch_segments(R: np.ndarray, threshold: float, max_frames: int) -> list[tuple[int, int]]:
    """``(last good frame, first good frame after)`` of each glitch of one joint's ``(T, 3, 3)``.

    A glitch starts with a step above ``threshold`` and ends at the first frame back within
    ``max(threshold, step / 2)`` of the frame before it (a 150-degree flip that comes back to 60
    degrees from where it left has come back).
    """
    step = rotation_angle_deg(R[:-1], R[1:])
    segments = []
    i = 0
    while i < len(step):
        if step[i] <= threshold:
            i += 1
            continue
        end = min(i + 1 + max_frames, len(R) - 1)
        back = rotation_angle_deg(np.broadcast_to(R[i], R[i + 2 : end + 1].shape), R[i + 2 : end + 1])
        k = np.flatnonzero(back < max(threshold, step[i] / 2.0))
        if k.size:
            segments.append((i, i + 2 + int(k[0])))
            i = i + 2 + int(k[0])
        else:
            i += 1  # a jump that does not come back: not a glitch this repair can undo
    return segments


def repair_jumps(local_rotations: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Replace glitch segments (a non-physical jump that comes back) by slerp across them.

    A glitch starts where a joint turns more than ``min(3000 deg/s / fps, 90 deg)`` in one
    frame and ends at the first frame, within 0.25 s, that is back near the frame before the
    jump (:func:`_glitch_segments`); the same is looked for backwards in time, so that a joint
    drifting away and snapping back is repaired too.

    Args:
        local_rotations: ``(T, J, 3, 3)`` rotation matrices.
        fps: their frame rate.

    Returns:
        ``(repaired (T, J, 3, 3) copy, (T, J) bool mask of the replaced frames)``.

    Raises:
        TypeError: ``local_rotations`` is not a numpy array, ``fps`` not a number.
        ValueError: not ``(T, J, 3, 3)``, NaN / inf, or ``fps`` not a finite number > 0.
    """
    check_positive(fps, "fps")
    R = as_array(local_rotations, "local_rotations", (None, None, 3, 3)).copy()
    mask = np.zeros(R.shape[:2], dtype=bool)
    if len(R) < 3:
        return R, mask
    max_frames = max(int(round(MAX_GLITCH_SECONDS * fps)), 1)
    T = len(R)
    for j in range(R.shape[1]):
        # forward: a sudden jump away; then backward in time: a sudden jump back after a drift away
        for reverse in (False, True):
            for a, b in _glitch_segments(R[::-1, j] if reverse else R[:, j], _jump_threshold(fps), max_frames):
                if reverse:
                    a, b = T - 1 - b, T - 1 - a
                slerp = Slerp([a, b], Rotation.from_matrix(R[[a, b], j]))
                R[a + 1 : b, j] = slerp(np.arange(a + 1, b)).as_matrix()
                mask[a + 1 : b, j] = True
    return R, mask


def hips_midpoint(points: np.ndarray) -> np.ndarray:
    """Midpoint of the two hip joints, ``(T, 3)``, from ``(T, 24, 3)`` points.

    Raises:
        ValueError: not ``(T, 24, 3)``, or NaN in a hip.
    """
    P = as_array(points, "points", (None, NUM_JOINTS, 3), finite=False)
    mid = 0.5 * (P[:, joint("left_hip")] + P[:, joint("right_hip")])
    if not np.isfinite(mid).all():
        raise ValueError("points: a hip is NaN or inf")
    return mid


def hip_anchored_translation(smpl_joints_at_origin: np.ndarray, source_points: np.ndarray, scale: float) -> np.ndarray:
    """Root translation putting SMPL's hip midpoint on the source's, scaled, ``(T, 3)``.

    Args:
        smpl_joints_at_origin: ``(T, 24, 3)`` SMPL FK joints without translation.
        source_points: ``(T, 24, 3)`` source positions at SMPL joints (metres).
        scale: target size / source size (leg length ratio).

    Raises:
        ValueError: shapes differ, NaN in a hip, or ``scale`` not a finite number > 0.
    """
    check_positive(scale, "scale")
    target = hips_midpoint(smpl_joints_at_origin)
    source = hips_midpoint(source_points)
    if target.shape != source.shape:
        raise ValueError(f"smpl_joints_at_origin and source_points must have the same number of frames; got "
                         f"{len(target)} and {len(source)}")
    return scale * source - target


def floor_offset(smpl_joints: np.ndarray, source_points: np.ndarray, scale: float) -> float:
    """Vertical shift (metres) putting the lowest SMPL foot point on the source's, scaled.

    Raises:
        ValueError: as :func:`humanlib.data.consistency.lowest_foot_height`, or a bad ``scale``.
    """
    check_positive(scale, "scale")
    return scale * lowest_foot_height(source_points) - lowest_foot_height(smpl_joints)


__all__ = [
    "MAX_ANGULAR_SPEED_DEG_S", "MAX_GLITCH_SECONDS", "MAX_JUMP_DEG", "floor_offset", "hip_anchored_translation",
    "hips_midpoint", "repair_jumps",
]
