"""HuMoR's per-frame state ``x_t`` and its ground-contact labels, computed from a motion.

A motion is SMPL axis-angle poses ``(..., T, 24, 3)`` with root translations ``(..., T, 3)`` at
``fps`` frames per second, in the open corpus's frame: **y is up** and the floor is the plane
``y = floor``. Each frame's state is one vector of :data:`STATE_DIM` numbers, in this order
(:data:`STATE_SLICES`; HuMoR's state, Rempe et al. 2021, Sec. 3):

=================  =====  =====================================================================
name               size   meaning
=================  =====  =====================================================================
``trans``          3      root translation ``r`` (metres)
``trans_vel``      3      its velocity ``dr/dt`` (m/s, backward difference)
``root_orient``    6      root orientation ``Phi`` in 6D (:func:`humanlib.rotations.rotmat_to_rot6d`)
``root_ang_vel``   3      its angular velocity ``omega`` (rad/s, world frame, backward difference)
``body_pose``      126    the 21 body joints' local rotations ``Theta`` in 6D
``joints``         66     positions ``J`` of joints 0..21 by forward kinematics on the open body model
``joints_vel``     66     their velocities ``dJ/dt`` (m/s, backward difference)
=================  =====  =====================================================================

Velocities of the first frame are those of the second (a forward difference). The hands
(joints 22, 23) carry no data in the corpus and are left out.

Contacts (:func:`contact_labels`): a joint of :data:`CONTACT_JOINTS` touches the ground in a
frame when it moves slower than ``speed`` (m/s) *and* is within ``height`` (m) of the floor, as
HuMoR labels AMASS (its labels use the joint's speed; the height test keeps a still, raised
hand from counting as contact).
"""

from __future__ import annotations

import torch
from torch import Tensor

from humanlib._validate import check_positive, check_tensor
from humanlib.body import SkeletonJoints
from humanlib.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from humanlib.skeleton import BODY_JOINTS, JOINT_INDEX, NUM_BODY_JOINTS, NUM_JOINTS

#: Index of the vertical axis (the open corpus and SMPL's rest frame are y-up).
UP_AXIS = 1
#: Joints 0..21 are in the state (22, 23, the hands, carry no data).
NUM_STATE_JOINTS = 22
#: The joints whose ground contact the model predicts (HuMoR: hips, knees, ankles, toes, hands).
CONTACT_JOINTS: tuple[str, ...] = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
                                   "left_foot", "right_foot", "left_wrist", "right_wrist")
CONTACT_INDEX: tuple[int, ...] = tuple(JOINT_INDEX[n] for n in CONTACT_JOINTS)
#: The joints whose height is "the feet" in the floor metrics (ankles and toes).
FOOT_JOINTS: tuple[int, ...] = tuple(JOINT_INDEX[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot"))
#: Default contact thresholds: speed (m/s) and height above the floor (m).
CONTACT_SPEED = 0.3
CONTACT_HEIGHT = 0.10

_SIZES = (("trans", 3), ("trans_vel", 3), ("root_orient", 6), ("root_ang_vel", 3),
          ("body_pose", 6 * NUM_BODY_JOINTS), ("joints", 3 * NUM_STATE_JOINTS), ("joints_vel", 3 * NUM_STATE_JOINTS))


def _slices() -> dict[str, slice]:
    out, start = {}, 0
    for name, size in _SIZES:
        out[name] = slice(start, start + size)
        start += size
    return out


#: name -> slice of the state vector.
STATE_SLICES: dict[str, slice] = _slices()
#: Numbers per frame (273).
STATE_DIM: int = sum(size for _, size in _SIZES)
#: Parts that are positions (moved by a change of origin) and 3-vectors (rotated by a change of frame).
POSITION_PARTS = ("trans", "joints")
VECTOR_PARTS = ("trans", "trans_vel", "root_orient", "root_ang_vel", "joints", "joints_vel")


def _rot6d(R: Tensor) -> Tensor:
    return torch.cat([R[..., :, 0], R[..., :, 1]], -1)


def _rotmat_from_6d(x: Tensor) -> Tensor:
    """Gram-Schmidt without the public function's input checks (used inside rollouts)."""
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = a1 / a1.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    b2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = b2 / b2.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return torch.stack([b1, b2, torch.linalg.cross(b1, b2, dim=-1)], -1)


def _backward_difference(x: Tensor, fps: float, dim: int) -> Tensor:
    d = torch.diff(x, dim=dim) * fps
    first = d.narrow(dim, 0, 1)
    return torch.cat([first, d], dim=dim)


def _angular_velocity(R: Tensor, fps: float) -> Tensor:
    """``(..., T, 3, 3) -> (..., T, 3)`` world-frame angular velocity from ``R_t R_{t-1}^T``."""
    rel = R[..., 1:, :, :] @ R[..., :-1, :, :].transpose(-1, -2)
    w = rotmat_to_axis_angle(rel) * fps
    return torch.cat([w[..., :1, :], w], dim=-2)


def _check_motion(poses: object, transl: object) -> tuple[Tensor, Tensor]:
    poses = check_tensor(poses, "poses", (..., None, NUM_JOINTS, 3), hint="(..., T frames, 24 joints, axis-angle)")
    transl = check_tensor(transl, "transl", (*poses.shape[:-2], 3), hint="one root translation per frame of poses")
    if poses.shape[-3] < 2:
        raise ValueError(f"poses must hold at least 2 frames (velocities need two); got {poses.shape[-3]}")
    return poses, transl


def joint_positions(poses: Tensor, transl: Tensor, joints_model: SkeletonJoints) -> Tensor:
    """``(..., T, 24, 3), (..., T, 3) -> (..., T, 22, 3)`` joints 0..21 of the mean shape (beta = 0).

    Raises:
        TypeError, ValueError: tensors of other shapes or non-finite values; ``joints_model`` not a
            :class:`~humanlib.body.SkeletonJoints`.
    """
    poses = check_tensor(poses, "poses", (..., NUM_JOINTS, 3))
    transl = check_tensor(transl, "transl", (*poses.shape[:-2], 3))
    if not isinstance(joints_model, SkeletonJoints):
        raise TypeError(f"joints_model must be a humanlib.body.SkeletonJoints; got {type(joints_model).__name__}")
    return _joint_positions(poses, transl, joints_model)


def _joint_positions(poses: Tensor, transl: Tensor, joints_model: SkeletonJoints) -> Tensor:
    lead = poses.shape[:-2]
    p = poses.reshape(-1, NUM_JOINTS, 3).to(joints_model.rest.dtype)
    t = transl.reshape(-1, 3).to(p)
    betas = p.new_zeros(p.shape[0], joints_model.num_betas)
    J = joints_model.posed_joints_unchecked(betas, p, t)[:, :NUM_STATE_JOINTS]
    return J.reshape(*lead, NUM_STATE_JOINTS, 3).to(poses.dtype)


def motion_to_state(poses: Tensor, transl: Tensor, joints_model: SkeletonJoints, fps: float) -> Tensor:
    """The state of every frame of a motion (layout: :data:`STATE_SLICES`).

    Args:
        poses: ``(..., T, 24, 3)`` SMPL axis-angle, ``T >= 2``.
        transl: ``(..., T, 3)`` root translations.
        joints_model: forward kinematics of the open body model (``SkeletonJoints(load_body_model())``).
        fps: frames per second (HuMoR: 30).

    Returns:
        ``(..., T, STATE_DIM)``.

    Raises:
        TypeError, ValueError: bad shapes, NaN/inf, fewer than 2 frames, ``fps`` <= 0.
    """
    poses, transl = _check_motion(poses, transl)
    check_positive(fps, "fps")
    if not isinstance(joints_model, SkeletonJoints):
        raise TypeError(f"joints_model must be a humanlib.body.SkeletonJoints; got {type(joints_model).__name__}")
    R = axis_angle_to_rotmat(poses[..., : NUM_BODY_JOINTS + 1, :])
    J = _joint_positions(poses, transl, joints_model)
    t_dim = transl.dim() - 2
    parts = [transl, _backward_difference(transl, fps, t_dim), _rot6d(R[..., 0, :, :]),
             _angular_velocity(R[..., 0, :, :], fps), _rot6d(R[..., list(BODY_JOINTS), :, :]).flatten(-2),
             J.flatten(-2), _backward_difference(J, fps, J.dim() - 3).flatten(-2)]
    return torch.cat(parts, -1)


def state_to_motion(state: Tensor) -> tuple[Tensor, Tensor]:
    """``(..., STATE_DIM) -> (poses (..., 24, 3), transl (..., 3))``: the pose part of states (hands at rest).

    Raises:
        TypeError, ValueError: not a ``(..., STATE_DIM)`` tensor, or NaN/inf values.
    """
    state = check_tensor(state, "state", (..., STATE_DIM))
    R = torch.cat([_rotmat_from_6d(state[..., STATE_SLICES["root_orient"]])[..., None, :, :],
                   _rotmat_from_6d(state[..., STATE_SLICES["body_pose"]].unflatten(-1, (NUM_BODY_JOINTS, 6)))], -3)
    aa = rotmat_to_axis_angle(R)
    poses = torch.cat([aa, aa.new_zeros(*aa.shape[:-2], NUM_JOINTS - aa.shape[-2], 3)], -2)
    return poses, state[..., STATE_SLICES["trans"]]


def contact_labels(joints: Tensor, fps: float, floor: float | Tensor = 0.0, speed: float = CONTACT_SPEED,
                   height: float = CONTACT_HEIGHT) -> Tensor:
    """Ground contacts of the :data:`CONTACT_JOINTS`: slow (``< speed`` m/s) and low (``< height`` m above ``floor``).

    Args:
        joints: ``(..., T, 22, 3)`` joint positions (y up), ``T >= 2``.
        fps: frames per second (speeds are backward differences; frame 0 takes frame 1's).
        floor: the floor's height, a number or a tensor broadcasting against ``joints[..., 0, 0, 0]``.
        speed, height: the thresholds.

    Returns:
        ``(..., T, len(CONTACT_JOINTS))`` float labels in {0, 1}.

    Raises:
        TypeError, ValueError: bad shapes, NaN/inf joints, fewer than 2 frames, thresholds <= 0.
    """
    joints = check_tensor(joints, "joints", (..., None, NUM_STATE_JOINTS, 3), hint="(..., T frames, 22 joints, xyz)")
    if joints.shape[-3] < 2:
        raise ValueError(f"joints must hold at least 2 frames (speeds need two); got {joints.shape[-3]}")
    check_positive(fps, "fps")
    check_positive(speed, "speed")
    check_positive(height, "height")
    if isinstance(floor, Tensor):
        check_tensor(floor, "floor")
        floor = floor[..., None, None]
    elif isinstance(floor, bool) or not isinstance(floor, (int, float)):
        raise TypeError(f"floor must be a number or a tensor of floor heights; got {type(floor).__name__}")
    J = joints[..., list(CONTACT_INDEX), :]
    v = _backward_difference(J, fps, J.dim() - 3).norm(dim=-1)
    low = (J[..., UP_AXIS] - floor) < height
    return ((v < speed) & low).to(joints.dtype)


__all__ = ["CONTACT_HEIGHT", "CONTACT_INDEX", "CONTACT_JOINTS", "CONTACT_SPEED", "FOOT_JOINTS", "NUM_STATE_JOINTS",
           "POSITION_PARTS", "STATE_DIM", "STATE_SLICES", "UP_AXIS", "VECTOR_PARTS", "contact_labels",
           "joint_positions", "motion_to_state", "state_to_motion"]
