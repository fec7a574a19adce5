"""Pinhole camera of SMPLify: perspective projection ``Pi_K`` and the camera-translation initialisation.

Camera frame (OpenCV): ``x`` to the image right, ``y`` down, ``z`` forward (into the scene),
metres; pixels ``u = f_x X / Z + c_x``, ``v = f_y Y / Z + c_y``. The camera sits at the origin
with identity rotation: the body's global orientation and translation carry it into the
camera frame (equivalent to SMPLify's camera translation with the body at the origin).

A body standing upright and facing the camera therefore has the global orientation
``R_x(pi)`` (axis-angle ``(pi, 0, 0)``): the body's up ``+Y`` becomes image-up ``-y`` and its
front ``+Z`` points at the camera (``-z``). :data:`FACING_CAMERA` holds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from humanlib.skeleton import joint

#: Axis-angle of a body upright and facing the camera (rotation by pi about x).
FACING_CAMERA = (math.pi, 0.0, 0.0)

#: Joints whose 2D positions set the initial depth (SMPLify's torso: shoulders and hips).
TORSO_JOINTS: tuple[int, ...] = tuple(joint(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"))

#: Smallest depth (m) used in a division: points behind or on the camera plane are clamped
#: here so that projection stays finite and differentiable during a bad optimisation step.
MIN_DEPTH = 1e-2


@dataclass
class Camera:
    """Intrinsics of a batch of pinhole cameras (no distortion).

    Attributes:
        focal_length: ``(B, 2)`` focal lengths ``(f_x, f_y)`` in pixels.
        principal_point: ``(B, 2)`` principal points ``(c_x, c_y)`` in pixels.
    """

    focal_length: torch.Tensor
    principal_point: torch.Tensor

    def __post_init__(self) -> None:
        f, c = self.focal_length, self.principal_point
        if f.ndim != 2 or f.shape[-1] != 2 or c.shape != f.shape:
            raise ValueError(
                f"focal_length and principal_point must both have shape (B, 2); got {tuple(f.shape)} and {tuple(c.shape)}"
            )
        if not (torch.isfinite(f).all() and (f > 0).all() and torch.isfinite(c).all()):
            raise ValueError("focal lengths must be finite and positive and principal points finite")

    @classmethod
    def simple(cls, batch_size: int, focal: float, width: float, height: float,
               dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> "Camera":
        """``batch_size`` identical cameras with square pixels and the principal point at the image centre."""
        f = torch.full((batch_size, 2), float(focal), dtype=dtype, device=device)
        c = torch.tensor([width / 2.0, height / 2.0], dtype=dtype, device=device).expand(batch_size, 2).clone()
        return cls(f, c)

    @property
    def batch_size(self) -> int:
        """Number of cameras ``B``."""
        return self.focal_length.shape[0]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Camera":
        """A copy on another device / dtype."""
        return Camera(self.focal_length.to(device=device, dtype=dtype), self.principal_point.to(device=device, dtype=dtype))

    def index(self, idx: torch.Tensor) -> "Camera":
        """The cameras of a subset of the batch (``idx`` a 1-D index or boolean mask)."""
        return Camera(self.focal_length[idx], self.principal_point[idx])


def project(points: torch.Tensor, camera: Camera) -> torch.Tensor:
    """Perspective projection ``Pi_K`` of camera-frame points.

    Args:
        points: ``(B, N, 3)`` points in the camera frame (metres).
        camera: ``B`` cameras.

    Returns:
        ``(B, N, 2)`` pixel coordinates. Depths below :data:`MIN_DEPTH` are clamped (the
        gradient there is zero in ``z``), so the result is always finite for finite input.
    """
    if points.ndim != 3 or points.shape[-1] != 3:
        raise ValueError(f"points must have shape (B, N, 3); got {tuple(points.shape)}")
    if points.shape[0] != camera.batch_size:
        raise ValueError(f"points batch {points.shape[0]} does not match the {camera.batch_size} cameras")
    z = points[..., 2:3].clamp(min=MIN_DEPTH)
    return points[..., :2] / z * camera.focal_length.unsqueeze(1) + camera.principal_point.unsqueeze(1)


def estimate_depth(
    joints_2d: torch.Tensor,
    confidence: torch.Tensor,
    rest_joints: torch.Tensor,
    camera: Camera,
    joint_ids: tuple[int, ...] = TORSO_JOINTS,
) -> torch.Tensor:
    """Initial depth of each body by similar triangles (SMPLify's camera initialisation).

    The depth is ``f * L3 / L2`` where ``L3`` and ``L2`` are the root-mean-square spreads of
    the chosen joints about their centre in 3D (``x, y`` of the rest body facing the camera)
    and in 2D. Frames with fewer than two visible chosen joints fall back to all visible
    joints.

    Args:
        joints_2d: ``(B, J, 2)`` keypoints in pixels.
        confidence: ``(B, J)`` weights (0 = missing).
        rest_joints: ``(B, J, 3)`` or ``(J, 3)`` joints of the unposed body (body frame).
        camera: ``B`` cameras.
        joint_ids: joints used when visible (default: shoulders and hips).

    Returns:
        ``(B,)`` depths in metres.
    """
    b, j = confidence.shape
    rest = rest_joints.expand(b, j, 3) if rest_joints.ndim == 2 else rest_joints
    chosen = torch.zeros(j, dtype=torch.bool, device=confidence.device)
    chosen[list(joint_ids)] = True
    visible = confidence > 0
    use = visible & chosen
    use = torch.where((use.sum(-1, keepdim=True) >= 2), use, visible).to(joints_2d.dtype)
    n = use.sum(-1).clamp(min=1.0)

    def spread(x: torch.Tensor) -> torch.Tensor:
        centre = (x * use[..., None]).sum(1) / n[:, None]
        return (((x - centre[:, None]).square().sum(-1) * use).sum(-1) / n).sqrt()

    l3 = spread(rest[..., :2])
    l2 = spread(joints_2d).clamp(min=1e-6)
    return camera.focal_length.mean(-1) * l3 / l2


def initial_translation(
    joints_2d: torch.Tensor,
    confidence: torch.Tensor,
    posed_joints: torch.Tensor,
    depth: torch.Tensor,
    camera: Camera,
    joint_ids: tuple[int, ...] = TORSO_JOINTS,
) -> torch.Tensor:
    """Translation that puts the chosen joints' centre on their 2D centre at the given depth.

    Args:
        joints_2d: ``(B, J, 2)`` keypoints (pixels).
        confidence: ``(B, J)`` weights (0 = missing).
        posed_joints: ``(B, J, 3)`` joints of the oriented body before translation (camera axes).
        depth: ``(B,)`` depths.
        camera: ``B`` cameras.
        joint_ids: joints used when visible (falls back to all visible joints).

    Returns:
        ``(B, 3)`` translations.
    """
    b, j = confidence.shape
    chosen = torch.zeros(j, dtype=torch.bool, device=confidence.device)
    chosen[list(joint_ids)] = True
    visible = confidence > 0
    use = visible & chosen
    use = torch.where((use.sum(-1, keepdim=True) >= 1), use, visible).to(joints_2d.dtype)
    n = use.sum(-1).clamp(min=1.0)[:, None]
    centre_2d = (joints_2d * use[..., None]).sum(1) / n
    centre_3d = (posed_joints * use[..., None]).sum(1) / n
    xy = (centre_2d - camera.principal_point) * depth[:, None] / camera.focal_length
    z = depth - centre_3d[:, 2]
    return torch.cat([xy - centre_3d[:, :2], z[:, None]], dim=-1)


def shoulders_close(joints_2d: torch.Tensor, confidence: torch.Tensor, threshold_px: float) -> torch.Tensor:
    """Frames whose two shoulders are visible and closer than ``threshold_px`` in the image, ``(B,)`` bool.

    Such a body is seen from the side, and SMPLify cannot tell from the torso alone whether
    it faces left or right: it fits both orientations and keeps the better one.
    """
    ls, rs = joint("left_shoulder"), joint("right_shoulder")
    both = (confidence[:, ls] > 0) & (confidence[:, rs] > 0)
    dist = (joints_2d[:, ls] - joints_2d[:, rs]).norm(dim=-1)
    return both & (dist < threshold_px)


__all__ = [
    "FACING_CAMERA",
    "MIN_DEPTH",
    "TORSO_JOINTS",
    "Camera",
    "estimate_depth",
    "initial_translation",
    "project",
    "shoulders_close",
]
