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

from humanlib._validate import check_positive, check_same_device, check_tensor, resolve_device
from humanlib.skeleton import NUM_JOINTS, joint

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

    Raises:
        TypeError: either is not a tensor.
        ValueError: not both floating ``(B, 2)`` with one ``B`` on one device, non-finite values,
            a focal length that is not positive.
    """

    focal_length: torch.Tensor
    principal_point: torch.Tensor

    def __post_init__(self) -> None:
        f = check_tensor(self.focal_length, "focal_length", (None, 2), finite=False,
                         hint="One (f_x, f_y) per camera, in pixels.")
        c = check_tensor(self.principal_point, "principal_point", (None, 2), finite=False,
                         hint="One (c_x, c_y) per camera, in pixels.")
        if c.shape != f.shape:
            raise ValueError(
                f"focal_length and principal_point must both have shape (B, 2) with the same B; "
                f"got {tuple(f.shape)} and {tuple(c.shape)}"
            )
        check_same_device(f, "focal_length", principal_point=c)
        check_tensor(f, "focal_length")
        check_tensor(c, "principal_point")
        if f.device.type != "meta" and not bool((f > 0).all()):
            raise ValueError(f"focal lengths must be finite and positive; got minimum {float(f.min()):g} px")

    @classmethod
    def simple(cls, batch_size: int, focal: float, width: float, height: float,
               dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> "Camera":
        """``batch_size`` identical cameras with square pixels and the principal point at the image centre.

        Raises:
            TypeError, ValueError: a non-integer or negative ``batch_size``, a focal length, width or
                height that is not a finite positive number, a non-floating ``dtype``, an unknown ``device``.
        """
        device = resolve_device(device, available=False)
        check_positive(batch_size, "batch_size", integer=True, allow_zero=True)
        check_positive(focal, "focal", allow_zero=False)
        check_positive(width, "width")
        check_positive(height, "height")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f"dtype must be a floating torch.dtype (torch.float32, torch.float64); got {dtype!r}")
        f = torch.full((batch_size, 2), float(focal), dtype=dtype, device=device)
        c = torch.tensor([width / 2.0, height / 2.0], dtype=dtype, device=device).expand(batch_size, 2).clone()
        return cls(f, c)

    @property
    def batch_size(self) -> int:
        """Number of cameras ``B``."""
        return self.focal_length.shape[0]

    @property
    def device(self) -> torch.device:
        """Where the intrinsics live."""
        return self.focal_length.device

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Camera":
        """A copy on another device / dtype.

        Raises:
            ValueError: an unknown device, or a ``dtype`` that is not floating point.
        """
        if device is not None:
            device = resolve_device(device, available=False)
        if dtype is not None and (not isinstance(dtype, torch.dtype) or not dtype.is_floating_point):
            raise ValueError(f"dtype must be a floating torch.dtype (torch.float32, torch.float64); got {dtype!r}")
        if self.device.type == "meta" and device is not None and device.type != "meta":
            raise ValueError(f"this camera is on the meta device (no values); it cannot be moved to {device}")
        return Camera(self.focal_length.to(device=device, dtype=dtype), self.principal_point.to(device=device, dtype=dtype))

    def index(self, idx: torch.Tensor) -> "Camera":
        """The cameras of a subset of the batch (``idx`` a 1-D index or boolean mask).

        Raises:
            TypeError: ``idx`` is not a tensor.
            ValueError: ``idx`` is not 1-D, not integer or boolean, a mask of the wrong length, or an index
                out of range.
        """
        check_tensor(idx, "idx", (None,), floating=False, finite=False)
        b = self.batch_size
        if idx.dtype == torch.bool:
            if idx.shape[0] != b:
                raise ValueError(f"idx is a boolean mask of length {idx.shape[0]} for {b} cameras")
        elif idx.is_floating_point() or idx.is_complex():
            raise ValueError(f"idx must hold integer indices or be a boolean mask; got dtype {idx.dtype}")
        elif idx.numel() and idx.device.type != "meta":
            lo, hi = int(idx.min()), int(idx.max())
            if lo < -b or hi >= b:
                raise ValueError(f"idx holds indices in [{lo}, {hi}], out of range for {b} cameras")
        return Camera(self.focal_length[idx.to(self.device)], self.principal_point[idx.to(self.device)])


def check_camera(camera: object, batch_size: int | None = None, what: str = "frames") -> "Camera":
    """Raise unless ``camera`` is a :class:`Camera` (of ``batch_size`` cameras when given); return it.

    Args:
        camera: the user's value.
        batch_size: the number of cameras required (None: any).
        what: what the cameras are for, in the message ("frames", "meshes").

    Raises:
        TypeError: ``camera`` is not a :class:`Camera`.
        ValueError: it holds another number of cameras than ``batch_size``.
    """
    if not isinstance(camera, Camera):
        raise TypeError(f"camera must be a humanlib.fitting.camera.Camera (e.g. Camera.simple(B, focal, width, "
                        f"height)); got {type(camera).__name__}")
    if batch_size is not None and camera.batch_size != batch_size:
        raise ValueError(f"camera holds {camera.batch_size} cameras for {batch_size} {what}; give one camera per frame "
                         "(Camera.simple(B, ...) or camera.index(...))")
    return camera


def _project(points: torch.Tensor, camera: Camera) -> torch.Tensor:
    """:func:`project` without the input checks (the fitting loop's inner step)."""
    z = points[..., 2:3].clamp(min=MIN_DEPTH)
    return points[..., :2] / z * camera.focal_length.unsqueeze(1) + camera.principal_point.unsqueeze(1)


def project(points: torch.Tensor, camera: Camera) -> torch.Tensor:
    """Perspective projection ``Pi_K`` of camera-frame points.

    Args:
        points: ``(B, N, 3)`` points in the camera frame (metres).
        camera: ``B`` cameras.

    Returns:
        ``(B, N, 2)`` pixel coordinates. Depths below :data:`MIN_DEPTH` are clamped (the
        gradient there is zero in ``z``), so the result is always finite for finite input.

    Raises:
        TypeError: ``points`` is not a tensor or ``camera`` not a :class:`Camera`.
        ValueError: ``points`` not ``(B, N, 3)``, not floating, non-finite, or on another device
            than the cameras; a batch that does not match the number of cameras.
    """
    check_tensor(points, "points", (None, None, 3), finite=False, hint="Camera-frame points (x, y, z) in metres.")
    check_camera(camera, points.shape[0], "batches of points")
    check_same_device(camera.focal_length, "the camera", points=points)
    check_tensor(points, "points")
    return _project(points, camera)


def _check_2d_layout(joints_2d: torch.Tensor, confidence: torch.Tensor, camera: Camera | None,
                     joints: int | None = None) -> tuple[int, int]:
    """Types, shapes and devices of the camera-initialisation inputs; returns ``(B, J)``."""
    check_tensor(joints_2d, "joints_2d", (None, joints, 2), finite=False, hint="Keypoints in pixels.")
    b, j = joints_2d.shape[:2]
    check_tensor(confidence, "confidence", (b, j), finite=False, hint="One weight per keypoint of joints_2d.")
    check_same_device(joints_2d, "joints_2d", confidence=confidence)
    if camera is not None:
        check_camera(camera, b)
        check_same_device(joints_2d, "joints_2d", camera=camera.focal_length)
    return b, j


def _check_2d_values(joints_2d: torch.Tensor, confidence: torch.Tensor, joint_ids: tuple[int, ...]) -> None:
    """Values of the camera-initialisation inputs (after :func:`_check_2d_layout`): one synchronisation."""
    j = joints_2d.shape[1]
    if joints_2d.device.type == "meta":
        return
    check_tensor(confidence, "confidence")
    if bool((confidence < 0).any()):
        raise ValueError("confidence must be >= 0 (0 = missing joint)")
    if not bool(torch.isfinite(joints_2d[confidence > 0]).all()):
        raise ValueError("joints_2d holds non-finite values at joints with positive confidence; set their confidence to 0")
    bad = [i for i in joint_ids if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < j]
    if bad:
        raise ValueError(f"joint_ids must be joint indices in [0, {j}); got {bad}")


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

    Raises:
        TypeError, ValueError: wrong types or shapes, non-finite values, negative confidences,
            mismatched batches or devices, joint ids out of range.
    """
    b, j = _check_2d_layout(joints_2d, confidence, camera)
    check_tensor(rest_joints, "rest_joints", (..., j, 3), finite=False,
                 hint="The unposed body's joints, (B, J, 3) or (J, 3).")
    if rest_joints.ndim not in (2, 3) or (rest_joints.ndim == 3 and rest_joints.shape[0] != confidence.shape[0]):
        raise ValueError(f"rest_joints must have shape ({confidence.shape[0]}, {j}, 3) or ({j}, 3); "
                         f"got {tuple(rest_joints.shape)}")
    check_same_device(joints_2d, "joints_2d", rest_joints=rest_joints)
    _check_2d_values(joints_2d, confidence, joint_ids)
    check_tensor(rest_joints, "rest_joints")
    rest = rest_joints.expand(b, j, 3) if rest_joints.ndim == 2 else rest_joints
    chosen = torch.zeros(j, dtype=torch.bool, device=confidence.device)
    chosen[list(joint_ids)] = True
    visible = confidence > 0
    joints_2d = torch.where(visible[..., None], joints_2d, torch.zeros_like(joints_2d))  # NaN at a missing joint
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

    Raises:
        TypeError, ValueError: wrong types or shapes, non-finite values, negative confidences,
            mismatched batches or devices, joint ids out of range.
    """
    b, j = _check_2d_layout(joints_2d, confidence, camera)
    check_tensor(posed_joints, "posed_joints", (b, j, 3), finite=False, hint="The oriented body's joints in camera axes.")
    check_tensor(depth, "depth", (b,), finite=False)
    check_same_device(joints_2d, "joints_2d", posed_joints=posed_joints, depth=depth)
    _check_2d_values(joints_2d, confidence, joint_ids)
    check_tensor(posed_joints, "posed_joints")
    check_tensor(depth, "depth")
    chosen = torch.zeros(j, dtype=torch.bool, device=confidence.device)
    chosen[list(joint_ids)] = True
    visible = confidence > 0
    joints_2d = torch.where(visible[..., None], joints_2d, torch.zeros_like(joints_2d))  # NaN at a missing joint
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

    Args:
        joints_2d: ``(B, 24, 2)`` keypoints (pixels).
        confidence: ``(B, 24)`` weights (0 = missing).
        threshold_px: distance in pixels (>= 0).

    Raises:
        TypeError, ValueError: wrong types or shapes, non-finite values, negative confidences or
            threshold, mismatched batches or devices.
    """
    _check_2d_layout(joints_2d, confidence, None, joints=NUM_JOINTS)
    _check_2d_values(joints_2d, confidence, ())
    check_positive(threshold_px, "threshold_px", allow_zero=True)
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
