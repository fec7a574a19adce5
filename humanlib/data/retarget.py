"""Retargeting source mocap skeletons onto SMPL's 24 joints.

The idea: every SMPL joint ``j`` is *driven* by one source joint whose global frame
``G_j(t)`` turns the same body segment. A rest calibration finds, for each driven joint,
the frame ``C_j`` the source joint would have if the source actor stood in the target
body's rest pose (SMPL's T-pose). Then SMPL's global rotation is

.. math:: S_j(t) = G_j(t)\\, C_j^\\top,

which maps the rest bone direction ``d_j`` (from the target's rest joints) to the source
segment's current direction, and the local pose is ``theta_j = S_parent(j)^T S_j``.

``C_j = T_j W_j G^{ref}_j`` is built from a reference pose ``G^ref`` of the source (CMU's
zero pose is a T-pose; the Bandai-Namco files have none, so a standing frame is used):
``W_j`` is the smallest rotation that swings the source segment onto ``d_j`` and ``T_j`` an
optional twist about ``d_j`` that snaps a chosen local axis (a hinge) onto an anatomical
reference axis. Joints without a driver (SMPL's hands, a spine joint a source lacks) keep
their rest rotation (identity local rotation).

All of this works on the target's *rest joint positions* ``J`` (24, 3), an input, so the same
code calibrates against the open body model's ``J(beta=0)`` or any other SMPL-layout body.
Frames: SMPL's (Y up, +Z forward, +X the body's left), metres; both open sources already
use these axes (verified: walking travels along +Z with the left leg on +X).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from humanlib._validate import check_positive
from humanlib.data._checks import as_array, check_instance
from humanlib.skeleton import JOINT_NAMES, MIRROR_PERMUTATION, NUM_JOINTS, PARENTS, joint

#: Per SMPL joint, the child whose direction calibrates it (``None``: a childless joint,
#: calibrated with a fixed target direction, see :func:`rest_bone_directions`).
PRIMARY_CHILD: dict[str, str | None] = {
    "pelvis": "spine1", "left_hip": "left_knee", "right_hip": "right_knee", "spine1": "spine2",
    "left_knee": "left_ankle", "right_knee": "right_ankle", "spine2": "spine3",
    "left_ankle": "left_foot", "right_ankle": "right_foot", "spine3": "neck",
    "left_foot": None, "right_foot": None, "neck": "head", "left_collar": "left_shoulder",
    "right_collar": "right_shoulder", "head": None, "left_shoulder": "left_elbow",
    "right_shoulder": "right_elbow", "left_elbow": "left_wrist", "right_elbow": "right_wrist",
    "left_wrist": "left_hand", "right_wrist": "right_hand", "left_hand": None, "right_hand": None,
}


def placeholder_rest_joints() -> np.ndarray:
    """SMPL-like rest (T-pose) joint positions, ``(24, 3)`` metres, floor at y = 0.

    Rough adult proportions written for this course (not taken from any model file); used
    only when the open body model is not available. Y up, +Z forward, +X the body's left.
    """
    half = {
        "pelvis": (0.0, 0.93, 0.0), "left_hip": (0.085, 0.84, -0.005), "spine1": (0.0, 1.03, -0.01),
        "left_knee": (0.10, 0.47, 0.0), "spine2": (0.0, 1.16, 0.0), "left_ankle": (0.11, 0.08, -0.03),
        "spine3": (0.0, 1.22, 0.01), "left_foot": (0.12, 0.02, 0.09), "neck": (0.0, 1.44, -0.01),
        "left_collar": (0.07, 1.37, 0.0), "head": (0.0, 1.52, 0.03), "left_shoulder": (0.17, 1.39, -0.01),
        "left_elbow": (0.43, 1.38, -0.03), "left_wrist": (0.68, 1.38, -0.02), "left_hand": (0.77, 1.37, -0.03),
    }
    J = np.zeros((NUM_JOINTS, 3))
    for name, p in half.items():
        J[joint(name)] = p
        if name.startswith("left_"):
            J[joint("right_" + name[5:])] = (-p[0], p[1], p[2])
    return J


def target_rest_joints() -> tuple[np.ndarray, str]:
    """Rest joints of the target body: the open body model's ``J(beta=0)`` when it loads.

    The open model is used even when ``HUMANLIB_BODY_MODEL`` names another model, so that the
    committed corpus does not depend on a user's setting.

    Returns:
        ``((24, 3) array, description)``; falls back to :func:`placeholder_rest_joints`.
    """
    try:
        import torch

        from humanlib.body import load_body_model, open_body_model_file  # type: ignore[attr-defined]

        model = load_body_model(path=open_body_model_file(), num_betas=10, dtype=torch.float64)
        with torch.no_grad():
            out = model(betas=torch.zeros(1, 10, dtype=torch.float64),
                        pose=torch.zeros(1, NUM_JOINTS, 3, dtype=torch.float64),
                        transl=torch.zeros(1, 3, dtype=torch.float64))
        J = out.joints[0].detach().cpu().numpy()
        if J.shape == (NUM_JOINTS, 3) and np.isfinite(J).all():
            return J, "open body model J(beta=0)"
    except Exception:  # noqa: BLE001 - any failure means: no usable open body model yet
        pass
    return placeholder_rest_joints(), "placeholder SMPL-like rest joints"


#: Joints calibrated by a segment other than the bone to their primary child. The pelvis uses
#: its hip line: SMPL-like bodies place spine1 behind the pelvis (the open body by ~26 deg), so
#: calibrating on the pelvis-to-spine1 bone would pitch every upright source pelvis forward and
#: push that tilt into the hips and spine of every standing pose.
SEGMENT_OVERRIDES: dict[str, tuple[str, str]] = {"pelvis": ("right_hip", "left_hip")}


def _check_joint_name(name: object, what: str) -> None:
    if not isinstance(name, str) or name not in PRIMARY_CHILD:
        raise ValueError(f"{what} must be an SMPL joint name; got {name!r}; known joints: {', '.join(JOINT_NAMES)}")


def _check_child_override(child_override: object) -> None:
    if child_override is None:
        return
    if not isinstance(child_override, dict):
        raise TypeError(f"child_override must be a dict of SMPL joint names; got {type(child_override).__name__}")
    for key, value in child_override.items():
        _check_joint_name(key, "a child_override key")
        for end in (value if isinstance(value, tuple) and len(value) == 2 else (value,)):
            _check_joint_name(end, f"child_override[{key!r}]")


def calibration_segment(name: str, child_override: dict[str, str | tuple[str, str]] | None = None) -> tuple[str, str] | None:
    """``(start, end)`` SMPL joints of the segment that calibrates joint ``name`` (None: childless).

    Args:
        name: SMPL joint name.
        child_override: SMPL joint name -> the joint its segment runs to instead of
            ``PRIMARY_CHILD`` (a source without spine2 runs spine1's segment to spine3), or a
            ``(start, end)`` pair of joints for a segment that does not start at the joint
            (CMU's clavicle starts where SMPL's spine3 is, not at SMPL's collar joint).

    Raises:
        ValueError: ``name`` or a name in ``child_override`` is not an SMPL joint name.
    """
    _check_joint_name(name, "name")
    _check_child_override(child_override)
    override = (child_override or {}).get(name)
    if isinstance(override, tuple):
        return override
    if name in SEGMENT_OVERRIDES:
        return SEGMENT_OVERRIDES[name]
    child = override if override is not None else PRIMARY_CHILD[name]
    return None if child is None else (name, child)


def rest_bone_directions(rest_joints: np.ndarray, child_override: dict[str, str] | None = None) -> np.ndarray:
    """Unit rest direction ``d_j`` of the segment that calibrates each SMPL joint, ``(24, 3)``.

    The segment is :func:`calibration_segment`; childless joints get a fixed direction: feet
    point forward (+Z), the head continues the neck, the hands continue the forearm.

    Args:
        rest_joints: ``(24, 3)`` target rest joints.
        child_override: see :func:`calibration_segment`.

    Raises:
        TypeError: ``rest_joints`` is a torch tensor or not an array.
        ValueError: ``rest_joints`` is not a finite ``(24, 3)`` array, two joints of a segment
            coincide (no direction), or ``child_override`` names unknown joints.
    """
    J = as_array(rest_joints, "rest_joints", (NUM_JOINTS, 3))
    _check_child_override(child_override)
    d = np.zeros((NUM_JOINTS, 3))
    for name in PRIMARY_CHILD:
        j = joint(name)
        segment = calibration_segment(name, child_override)
        if segment is not None:
            d[j] = J[joint(segment[1])] - J[joint(segment[0])]
        elif name.endswith("_foot"):
            d[j] = (0.0, 0.0, 1.0)
        else:
            d[j] = J[j] - J[PARENTS[j]]
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    if (norm < 1e-9).any():
        bad = [JOINT_NAMES[j] for j in np.flatnonzero(norm[:, 0] < 1e-9)]
        raise ValueError(f"rest_joints: the segments that calibrate {bad} have zero length (coinciding joints); "
                         "give distinct rest joint positions")
    return d / norm


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking unit vector ``a`` to unit vector ``b``, ``(3, 3)``."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        # opposite vectors: turn by pi about any axis perpendicular to a
        perp = np.cross(a, np.eye(3)[np.argmin(np.abs(a))])
        return Rotation.from_rotvec(np.pi * perp / np.linalg.norm(perp)).as_matrix()
    return Rotation.from_rotvec(axis / s * np.arctan2(s, c)).as_matrix()


@dataclass
class Calibration:
    """Rest calibration of one source skeleton against a target body.

    Attributes:
        frames: ``C_j``, ``(24, 3, 3)``: each driving source joint's frame in the target rest pose
            (identity where the joint has no driver).
        driven: ``(24,)`` bool, which SMPL joints a source joint drives.
        rest_joints: the target rest joints used, ``(24, 3)``.
    """

    frames: np.ndarray
    driven: np.ndarray
    rest_joints: np.ndarray


def calibrate(
    reference_rotations: np.ndarray,
    reference_segments: np.ndarray,
    driven: np.ndarray,
    rest_joints: np.ndarray,
    twist_axes: np.ndarray | None = None,
    twist_references: np.ndarray | None = None,
    child_override: dict[str, str] | None = None,
) -> Calibration:
    """Rest calibration: each driving source frame as it would be in the target's rest pose.

    Args:
        reference_rotations: ``(24, 3, 3)`` global frames ``G^ref`` of the driving source joints
            in a reference pose.
        reference_segments: ``(24, 3)`` world direction, in that pose, of the source segment that
            calibrates each driving joint (:func:`calibration_segment`, as in ``rest_bone_directions``).
        driven: ``(24,)`` bool mask of SMPL joints that have a driver.
        rest_joints: ``(24, 3)`` target rest joint positions.
        twist_axes: optional ``(24, K, 3)`` candidate local axes for the twist snap (e.g. the
            local y and z axes); the one closest to the reference after the swing is snapped.
        twist_references: optional ``(24, 3)`` world axis the snapped local axis should follow
            (projected perpendicular to the bone); rows of zeros mean "no snap".
        child_override: see :func:`calibration_segment`.

    Returns:
        :class:`Calibration`.

    Raises:
        TypeError: an array argument is a torch tensor or not an array.
        ValueError: a wrong shape or NaN / inf in an array argument, a zero-length reference
            segment of a driven joint, or unknown joint names in ``child_override``.
    """
    G = as_array(reference_rotations, "reference_rotations", (NUM_JOINTS, 3, 3))
    seg = as_array(reference_segments, "reference_segments", (NUM_JOINTS, 3))
    driven = np.asarray(driven)
    if driven.shape != (NUM_JOINTS,) or driven.dtype != bool:
        raise ValueError(f"driven must be a ({NUM_JOINTS},) bool array; got shape {driven.shape}, dtype {driven.dtype}")
    if (twist_axes is None) != (twist_references is None):
        raise ValueError("give both twist_axes and twist_references, or neither")
    if twist_axes is not None:
        twist_axes = as_array(twist_axes, "twist_axes", (NUM_JOINTS, None, 3), nonempty=True)
        twist_references = as_array(twist_references, "twist_references", (NUM_JOINTS, 3))
    short = [JOINT_NAMES[j] for j in np.flatnonzero(driven) if np.linalg.norm(seg[j]) < 1e-12]
    if short:
        raise ValueError(f"reference_segments of the driven joints {short} have zero length (no direction to calibrate)")
    d = rest_bone_directions(rest_joints, child_override)
    frames = np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3)).copy()
    for j in np.flatnonzero(driven):
        C = _rotation_between(seg[j], d[j]) @ G[j]
        if twist_axes is not None and twist_references is not None and np.linalg.norm(twist_references[j]) > 0:
            r = twist_references[j] - np.dot(twist_references[j], d[j]) * d[j]
            r /= np.linalg.norm(r)
            cands = np.asarray(twist_axes[j], dtype=np.float64) @ C.T  # world directions of the local axes
            cands = cands - np.outer(cands @ d[j], d[j])
            norms = np.linalg.norm(cands, axis=1)
            # an axis (nearly) along the bone cannot fix the twist: never pick it
            score = np.where(norms > 0.5, np.abs(cands @ r) / np.maximum(norms, 1e-12), -1.0)
            k = int(np.argmax(score))
            u = cands[k] / np.linalg.norm(cands[k])
            v = np.sign(np.dot(u, r)) * r
            angle = np.arctan2(np.dot(d[j], np.cross(u, v)), np.dot(u, v))
            C = Rotation.from_rotvec(angle * d[j]).as_matrix() @ C
        frames[j] = C
    return Calibration(frames=frames, driven=driven, rest_joints=np.asarray(rest_joints, dtype=np.float64))


def global_to_local(global_rotations: np.ndarray) -> np.ndarray:
    """SMPL local rotations from global ones: ``theta_j = S_parent^T S_j``, ``(..., 24, 3, 3)``.

    Raises:
        TypeError: ``global_rotations`` is a torch tensor or not an array.
        ValueError: not ``(..., 24, 3, 3)``.
    """
    S = as_array(global_rotations, "global_rotations", (..., NUM_JOINTS, 3, 3), finite=False)
    local = np.empty_like(S)
    local[..., 0, :, :] = S[..., 0, :, :]
    for j in range(1, NUM_JOINTS):
        local[..., j, :, :] = np.swapaxes(S[..., PARENTS[j], :, :], -1, -2) @ S[..., j, :, :]
    return local


def retarget_rotations(driver_rotations: np.ndarray, calibration: Calibration) -> np.ndarray:
    """SMPL local rotation matrices from the driving source joints' global frames.

    Args:
        driver_rotations: ``(T, 24, 3, 3)`` global frames ``G_j(t)`` (rows of undriven joints are ignored).
        calibration: from :func:`calibrate`.

    Returns:
        ``(T, 24, 3, 3)`` local rotations; undriven joints are identity (rest).

    Raises:
        TypeError: ``calibration`` is not a :class:`Calibration`, ``driver_rotations`` not an array.
        ValueError: ``driver_rotations`` is not ``(T, 24, 3, 3)`` or holds NaN / inf in a driven joint.
    """
    check_instance(calibration, Calibration, "calibration", "calibrate")
    G = as_array(driver_rotations, "driver_rotations", (None, NUM_JOINTS, 3, 3), finite=False)
    if not np.isfinite(G[:, calibration.driven]).all():
        raise ValueError("driver_rotations holds NaN or inf in a driven joint")
    S = np.empty_like(G)
    for j in range(NUM_JOINTS):
        if calibration.driven[j]:
            S[:, j] = G[:, j] @ calibration.frames[j].T
        elif j == 0:
            S[:, j] = np.eye(3)
        else:
            S[:, j] = S[:, PARENTS[j]]  # rest: follow the parent
    return global_to_local(S)


def smpl_forward_kinematics(local_rotations: np.ndarray, rest_joints: np.ndarray, transl: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Posed joints of the SMPL kinematic tree (no mesh), numpy.

    Args:
        local_rotations: ``(T, 24, 3, 3)``.
        rest_joints: ``(24, 3)``.
        transl: optional ``(T, 3)`` added to every joint.

    Returns:
        ``(global rotations (T, 24, 3, 3), joints (T, 24, 3))``.

    Raises:
        TypeError: an argument is a torch tensor (use ``.numpy()``) or not an array.
        ValueError: wrong shapes (``transl`` must have the same ``T``), NaN or inf.
    """
    R = as_array(local_rotations, "local_rotations", (None, NUM_JOINTS, 3, 3))
    J = as_array(rest_joints, "rest_joints", (NUM_JOINTS, 3))
    if transl is not None:
        transl = as_array(transl, "transl", (None, 3))
        if len(transl) != len(R):
            raise ValueError(f"transl must have shape ({len(R)}, 3) (one row per frame of local_rotations); "
                             f"got {transl.shape}")
    S = np.empty_like(R)
    P = np.empty(R.shape[:2] + (3,))
    S[:, 0] = R[:, 0]
    P[:, 0] = J[0]
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        S[:, j] = S[:, p] @ R[:, j]
        P[:, j] = P[:, p] + np.einsum("tab,b->ta", S[:, p], J[j] - J[p])
    if transl is not None:
        P = P + np.asarray(transl)[:, None, :]
    return S, P


def _check_proper(R: np.ndarray, name: str) -> None:
    """Raise unless every ``(3, 3)`` of ``R`` has a positive determinant (scipy refuses the others)."""
    det = np.linalg.det(R.reshape(-1, 3, 3)) if R.size else np.ones(0)
    if (det <= 1e-6).any():
        k = int(np.flatnonzero(det <= 1e-6)[0])
        raise ValueError(f"{name} holds a matrix that is not a rotation (determinant {det[k]:.3g} at flat index {k})")


def rotmat_to_axis_angle_np(R: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices to ``(..., 3)`` axis-angle (radians, angle in [0, pi]).

    Raises:
        TypeError: ``R`` is a torch tensor (use ``.numpy()``) or not an array.
        ValueError: not ``(..., 3, 3)``, NaN / inf, or a matrix with determinant <= 0 (a
            reflection or a degenerate matrix is not a rotation).
    """
    R = as_array(R, "R", (..., 3, 3))
    _check_proper(R, "R")
    shape = R.shape[:-2]
    return Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec().reshape(shape + (3,))


def axis_angle_to_rotmat_np(aa: np.ndarray) -> np.ndarray:
    """``(..., 3)`` axis-angle to ``(..., 3, 3)`` rotation matrices.

    Raises:
        TypeError: ``aa`` is a torch tensor (use ``.numpy()``) or not an array.
        ValueError: not ``(..., 3)``, or NaN / inf.
    """
    aa = as_array(aa, "aa", (..., 3))
    shape = aa.shape[:-1]
    return Rotation.from_rotvec(np.asarray(aa, dtype=np.float64).reshape(-1, 3)).as_matrix().reshape(shape + (3, 3))


def resample_motion(local_rotations: np.ndarray, transl: np.ndarray, src_fps: float, dst_fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample a motion in time: slerp for rotations, linear for translation.

    An integer ratio (120 -> 30 fps) keeps every k-th frame exactly.

    Args:
        local_rotations: ``(T, J, 3, 3)``.
        transl: ``(T, 3)``.
        src_fps: source frame rate; dst_fps: wanted frame rate.

    Returns:
        ``(local rotations (T', J, 3, 3), transl (T', 3))``; an empty motion stays empty and a
        single frame stays one frame.

    Raises:
        TypeError: an array is a torch tensor or not an array, a frame rate not a number.
        ValueError: wrong shapes (``transl`` must have the same ``T``), NaN / inf, a matrix that
            is not a rotation, or a frame rate that is not a finite number > 0.
    """
    check_positive(src_fps, "src_fps")
    check_positive(dst_fps, "dst_fps")
    local_rotations = as_array(local_rotations, "local_rotations", (None, None, 3, 3))
    transl = as_array(transl, "transl", (None, 3))
    if len(transl) != len(local_rotations):
        raise ValueError(f"transl must have shape ({len(local_rotations)}, 3) (one row per frame of "
                         f"local_rotations); got {transl.shape}")
    T = local_rotations.shape[0]
    ratio = src_fps / dst_fps
    if T <= 1 or (abs(ratio - round(ratio)) < 1e-3 and round(ratio) >= 1):
        k = max(int(round(ratio)), 1)
        return local_rotations[::k], transl[::k]
    _check_proper(local_rotations, "local_rotations")  # slerp needs rotations
    t_src = np.arange(T) / src_fps
    # every wanted time inside the source's span; clipped, as arange's rounding may step past its end
    count = int(np.floor((T - 1) * dst_fps / src_fps + 1e-9)) + 1
    t_dst = np.minimum(np.arange(count) * (1.0 / dst_fps), t_src[-1])
    out = np.empty((len(t_dst),) + local_rotations.shape[1:])
    for j in range(local_rotations.shape[1]):
        out[:, j] = Slerp(t_src, Rotation.from_matrix(local_rotations[:, j]))(t_dst).as_matrix()
    tr = np.stack([np.interp(t_dst, t_src, transl[:, k]) for k in range(3)], axis=1)
    return out, tr


def mirror_poses(poses: np.ndarray, transl: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Mirror motions across the body's sagittal plane (x -> -x in SMPL's frame).

    Left and right joints swap (``humanlib.skeleton.MIRROR_PERMUTATION``) and each axis-angle
    ``(x, y, z)`` becomes ``(x, -y, -z)`` (conjugating a rotation by the reflection
    ``diag(-1, 1, 1)``). Mirroring twice gives the input back. For this to mirror the posed
    joints exactly the rest joints must be left/right symmetric (SMPL's nearly are).

    Args:
        poses: ``(..., 24, 3)`` axis-angle (numpy array or torch tensor).
        transl: optional ``(..., 3)`` root translation; its x is negated.

    Returns:
        ``(mirrored poses, mirrored transl or None)``, same type as the input; NaN stays NaN.

    Raises:
        TypeError: ``poses`` / ``transl`` is not a numpy array or torch tensor, or they differ in kind.
        ValueError: wrong shapes, or ``transl``'s batch dimensions differ from ``poses``'.
    """
    import torch

    kinds = (np.ndarray, torch.Tensor)
    if not isinstance(poses, kinds):
        raise TypeError(f"poses must be a numpy array or torch tensor of shape (..., 24, 3); got {type(poses).__name__}")
    if not (np.issubdtype(poses.dtype, np.floating) if isinstance(poses, np.ndarray) else poses.is_floating_point()):
        raise ValueError(f"poses must be floating point; got dtype {poses.dtype}")
    if transl is not None and (not isinstance(transl, kinds) or isinstance(transl, np.ndarray) != isinstance(poses, np.ndarray)):
        raise TypeError(f"transl must be of the same kind as poses ({type(poses).__name__}); got {type(transl).__name__}")
    if poses.shape[-2:] != (NUM_JOINTS, 3):
        raise ValueError(f"poses must have shape (..., 24, 3), got {tuple(poses.shape)}")
    perm = list(MIRROR_PERMUTATION)
    flipped = poses[..., perm, :] * _sign_like(poses, (1.0, -1.0, -1.0))
    if transl is None:
        return flipped, None
    if tuple(transl.shape) != tuple(poses.shape[:-2]) + (3,):
        raise ValueError(f"transl must have shape {tuple(poses.shape[:-2]) + (3,)} (poses' batch dims, 3), "
                         f"got {tuple(transl.shape)}")
    return flipped, transl * _sign_like(transl, (-1.0, 1.0, 1.0))


def mirror_body_pose(body_pose: torch.Tensor) -> torch.Tensor:
    """Left-right mirrored copies of body poses: ``mirror_poses`` on joints 1..21.

    Args:
        body_pose: ``(N, 21, 3)`` axis-angle body poses.

    Returns:
        ``(N, 21, 3)`` mirrored poses.

    Raises:
        TypeError: ``body_pose`` is not a tensor.
        ValueError: a shape other than ``(N, 21, 3)``.
    """
    from humanlib._validate import check_tensor
    from humanlib.skeleton import BODY_JOINTS

    check_tensor(body_pose, "body_pose", (None, len(BODY_JOINTS), 3))
    full = body_pose.new_zeros(body_pose.shape[0], NUM_JOINTS, 3)
    full[:, list(BODY_JOINTS)] = body_pose
    return mirror_poses(full)[0][:, list(BODY_JOINTS)]


def _sign_like(x, values):
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return torch.tensor(values, dtype=x.dtype, device=x.device)
    except ImportError:  # pragma: no cover
        pass
    return np.asarray(values, dtype=x.dtype)


def direction_errors_deg(source_points: np.ndarray, smpl_joints: np.ndarray, bones: list[tuple[int, int]]) -> np.ndarray:
    """Angle in degrees between matching bones of two skeletons, ``(T, len(bones))``.

    Args:
        source_points: ``(T, 24, 3)`` source positions at SMPL joints (unused rows allowed).
        smpl_joints: ``(T, 24, 3)`` SMPL FK joints.
        bones: ``(start, end)`` SMPL joint index pairs to compare.

    Returns:
        ``(T, len(bones))`` degrees; ``(T, 0)`` for no bones.

    Raises:
        TypeError: an array is a torch tensor or not an array.
        ValueError: wrong shapes, different ``T``, or a bone index outside 0..23.
    """
    source_points = as_array(source_points, "source_points", (None, NUM_JOINTS, 3), finite=False)
    smpl_joints = as_array(smpl_joints, "smpl_joints", (None, NUM_JOINTS, 3))
    if len(source_points) != len(smpl_joints):
        raise ValueError(f"source_points and smpl_joints must have the same number of frames; got "
                         f"{len(source_points)} and {len(smpl_joints)}")
    pairs = list(bones)
    if any(len(b) != 2 or not all(isinstance(i, (int, np.integer)) and 0 <= i < NUM_JOINTS for i in b) for b in pairs):
        raise ValueError(f"bones must be (start, end) pairs of SMPL joint indices 0..{NUM_JOINTS - 1}; got {pairs}")
    if not pairs:
        return np.zeros((len(smpl_joints), 0))
    a = np.stack([source_points[:, e] - source_points[:, s] for s, e in bones], axis=1)
    b = np.stack([smpl_joints[:, e] - smpl_joints[:, s] for s, e in bones], axis=1)
    cos = np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


__all__ = [
    "axis_angle_to_rotmat_np", "rotmat_to_axis_angle_np", "PRIMARY_CHILD", "SEGMENT_OVERRIDES", "calibration_segment",
    "Calibration", "calibrate", "direction_errors_deg", "global_to_local", "mirror_poses",
    "placeholder_rest_joints", "resample_motion", "rest_bone_directions", "retarget_rotations",
    "smpl_forward_kinematics", "target_rest_joints",
]
