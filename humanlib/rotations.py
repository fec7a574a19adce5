"""Rotations in SO(3): conversions, distances and the Pose-NDF pose distance.

Conventions (one per representation, pinned by ``tests/test_rotations.py``):

* **Axis-angle** ``(..., 3)``: the rotation vector ``r = angle * axis`` in radians (SMPL's θ).
* **Rotation matrix** ``(..., 3, 3)``: acts on column vectors, ``x' = R @ x``.
* **Quaternion** ``(..., 4)``: unit quaternion in **wxyz** order (scalar first), Hamilton product.
  ``q`` and ``-q`` are the same rotation; :func:`quat_canonicalize` picks ``w >= 0``.
  (roma and scipy use xyzw; pytorch3d uses wxyz.)
* **6D** ``(..., 6)``: the first two *columns* of R concatenated, ``[R[:, 0], R[:, 1]]``
  (Zhou et al., CVPR 2019), mapped back to R by Gram–Schmidt.

Every function takes any number of leading batch dimensions, any floating dtype, on any device.
Public functions check their input and raise ``ValueError`` naming the argument and the shape,
dtype or values they got (NaN / inf; a zero quaternion where a rotation is needed; two arguments
of different dtypes or devices); a ``TypeError`` says to convert a numpy array or list with
``torch.as_tensor``. Meta tensors pass on their shapes. The functions are safe at angle 0 and π:
no NaN values and no NaN gradients (see the ``_safe_*`` helpers).
"""

from __future__ import annotations

import numpy as np
import torch

from humanlib.quaternions import (  # re-exported: import them from here
    _SMALL_ANGLE, _check, _check_pair, _safe_sqrt, _safe_norm, _sinc, _normalize, _skew, quat_normalize,
    quat_conjugate, _quat_multiply, quat_multiply, _quat_canonicalize, quat_canonicalize, random_quat,
)


__all__ = [
    "axis_angle_to_rotmat",
    "axis_angle_to_rotmat_unchecked",
    "rotmat_to_axis_angle",
    "axis_angle_to_quat",
    "quat_to_axis_angle",
    "quat_to_rotmat",
    "rotmat_to_quat",
    "rot6d_to_rotmat",
    "rotmat_to_rot6d",
    "axis_angle_compose",
    "quat_normalize",
    "quat_conjugate",
    "quat_multiply",
    "quat_canonicalize",
    "random_quat",
    "rotmat_geodesic_distance",
    "quat_geodesic_distance",
    "posendf_distance",
]

# --------------------------------------------------------------------------- conversions


def _axis_angle_to_quat(r: torch.Tensor) -> torch.Tensor:
    half = 0.5 * _safe_norm(r, keepdim=True)
    # sin(θ/2) * r/θ = ½ sinc(θ/2) r: smooth at θ = 0, no division by the angle.
    return torch.cat([torch.cos(half), 0.5 * _sinc(half) * r], -1)


def axis_angle_to_quat(r: torch.Tensor) -> torch.Tensor:
    """Axis-angle to unit quaternion: ``q = (cos(θ/2), sin(θ/2) * axis)``.

    Args:
        r: (..., 3) rotation vectors, radians (any length, not only ``< π``).

    Returns:
        (..., 4) unit quaternions, wxyz (not canonicalised: ``w < 0`` when ``|r| > π``).

    Raises:
        TypeError: ``r`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``r`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(r, (3,), "axis-angle", "r")
    return _axis_angle_to_quat(r)


def _quat_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    q = _quat_canonicalize(_normalize(q))  # w >= 0, so the angle lies in [0, π]
    w, v = q[..., :1], q[..., 1:]
    s2 = (v * v).sum(-1, keepdim=True)
    small = s2 < _SMALL_ANGLE**2
    s = torch.sqrt(torch.where(small, torch.ones_like(s2), s2))
    exact = 2.0 * torch.atan2(s, w) / s
    # Near the identity w ≈ 1 and 2 atan(s/w)/s = (2/w)(1 - u²/3 + u⁴/5), u = s/w.
    # w is replaced by 1 where the series is not selected: w may be 0 there (angle π).
    w_s = torch.where(small, w, torch.ones_like(w))
    u2 = s2 / (w_s * w_s)
    series = (2.0 / w_s) * (1.0 - u2 / 3.0 + u2 * u2 / 5.0)
    return torch.where(small, series, exact) * v


def quat_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    """Quaternion to axis-angle in the principal range ``|r| <= π``.

    ``q`` and ``-q`` give the same result. At exactly π the axis follows the tie rule of
    :func:`quat_canonicalize`.

    Args:
        q: (..., 4) non-zero quaternions, wxyz (normalised internally).

    Returns:
        (..., 3) rotation vectors, radians, with norm in ``[0, π]``.

    Raises:
        TypeError: ``q`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``q`` has the wrong trailing shape, a non-floating dtype, a zero quaternion, or NaN/inf values.
    """
    _check(q, (4,), "quaternion", "q", nonzero=True)
    return _quat_to_axis_angle(q)


def _quat_to_rotmat(q: torch.Tensor) -> torch.Tensor:
    w, x, y, z = q.unbind(-1)
    # s = 2/|q|² makes the formula exact for non-unit q (q and c·q are the same rotation).
    s = 2.0 / (q * q).sum(-1).clamp_min(1e-12)
    rows = (
        (1 - s * (y * y + z * z), s * (x * y - w * z), s * (x * z + w * y)),
        (s * (x * y + w * z), 1 - s * (x * x + z * z), s * (y * z - w * x)),
        (s * (x * z - w * y), s * (y * z + w * x), 1 - s * (x * x + y * y)),
    )
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def quat_to_rotmat(q: torch.Tensor) -> torch.Tensor:
    """Quaternion to rotation matrix.

    Args:
        q: (..., 4) non-zero quaternions, wxyz (need not be unit).

    Returns:
        (..., 3, 3) rotation matrices.

    Raises:
        TypeError: ``q`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``q`` has the wrong trailing shape, a non-floating dtype, a zero quaternion, or NaN/inf values.
    """
    _check(q, (4,), "quaternion", "q", nonzero=True)
    return _quat_to_rotmat(q)


def _rotmat_to_quat(R: torch.Tensor) -> torch.Tensor:
    m00, m01, m02 = R[..., 0, 0], R[..., 0, 1], R[..., 0, 2]
    m10, m11, m12 = R[..., 1, 0], R[..., 1, 1], R[..., 1, 2]
    m20, m21, m22 = R[..., 2, 0], R[..., 2, 1], R[..., 2, 2]
    # 4w², 4x², 4y², 4z² from the diagonal. Dividing by a tiny component loses all precision,
    # so (Shepperd's method) each row below solves for q from one component and we keep the
    # row whose component is largest: it is at least 1/2, so that division is well-conditioned.
    four_sq = torch.stack(
        [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1
    )
    # clamp_min: unselected rows may be 0 or slightly negative; clamping keeps sqrt and the
    # division finite there (their gradient is discarded, but must not be NaN).
    two_c = 2.0 * torch.sqrt(four_sq.clamp_min(0.25))  # 4·|component|, ≥ 2 for the kept row
    candidates = torch.stack(
        [
            torch.stack([four_sq[..., 0], m21 - m12, m02 - m20, m10 - m01], -1),
            torch.stack([m21 - m12, four_sq[..., 1], m01 + m10, m02 + m20], -1),
            torch.stack([m02 - m20, m01 + m10, four_sq[..., 2], m12 + m21], -1),
            torch.stack([m10 - m01, m02 + m20, m12 + m21, four_sq[..., 3]], -1),
        ],
        -2,
    ) / two_c.unsqueeze(-1)
    best = four_sq.argmax(-1, keepdim=True)
    q = torch.gather(candidates, -2, best.unsqueeze(-1).expand(*best.shape, 4)).squeeze(-2)
    return _quat_canonicalize(_normalize(q))


def rotmat_to_quat(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrix to unit quaternion (Shepperd's method), canonicalised to ``w >= 0``.

    Args:
        R: (..., 3, 3) rotation matrices.

    Returns:
        (..., 4) unit quaternions, wxyz, ``w >= 0``.

    Raises:
        TypeError: ``R`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``R`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(R, (3, 3), "rotation matrix", "R")
    return _rotmat_to_quat(R)


def _axis_angle_to_rotmat(r: torch.Tensor) -> torch.Tensor:
    theta = _safe_norm(r)[..., None, None]
    K = _skew(r)
    eye = torch.eye(3, dtype=r.dtype, device=r.device).expand_as(K)
    # Rodrigues with the unnormalised r: R = I + sinc(θ) K + (1 - cos θ)/θ² K². We write
    # (1 - cos θ)/θ² = ½ sinc(θ/2)²: no cancellation in 1 - cos θ and no division by θ.
    return eye + _sinc(theta) * K + 0.5 * _sinc(0.5 * theta) ** 2 * (K @ K)


def axis_angle_to_rotmat(r: torch.Tensor) -> torch.Tensor:
    """Axis-angle to rotation matrix: the exponential map (Rodrigues' formula).

    .. math:: R = I + \\frac{\\sin\\theta}{\\theta} K + \\frac{1-\\cos\\theta}{\\theta^2} K^2,
       \\quad \\theta = \\|r\\|, \\; K = [r]_\\times

    Args:
        r: (..., 3) rotation vectors, radians.

    Returns:
        (..., 3, 3) rotation matrices.

    Raises:
        TypeError: ``r`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``r`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(r, (3,), "axis-angle", "r")
    return _axis_angle_to_rotmat(r)


def axis_angle_to_rotmat_unchecked(r: torch.Tensor) -> torch.Tensor:
    """:func:`axis_angle_to_rotmat` without its checks (no NaN test, hence no host synchronisation),
    for an optimiser's inner loop whose variables were checked once, before it."""
    return _axis_angle_to_rotmat(r)


def rotmat_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrix to axis-angle in the principal range ``|r| <= π`` (the logarithm map).

    Computed through the quaternion, which stays accurate near 0 and π.

    Args:
        R: (..., 3, 3) rotation matrices.

    Returns:
        (..., 3) rotation vectors, radians, with norm in ``[0, π]``.

    Raises:
        TypeError: ``R`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``R`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(R, (3, 3), "rotation matrix", "R")
    return _quat_to_axis_angle(_rotmat_to_quat(R))


def rot6d_to_rotmat(x: torch.Tensor) -> torch.Tensor:
    """6D representation to rotation matrix by Gram–Schmidt.

    The columns are ``b1 = a1/|a1|``, ``b2 = normalise(a2 - (b1·a2) b1)``, ``b3 = b1 × b2``
    with ``x = [a1, a2]``. Any ``x`` with ``a1, a2`` linearly independent gives a rotation;
    a degenerate ``x`` gives a (non-rotation) matrix with zero columns rather than NaN.

    Args:
        x: (..., 6) two 3-vectors, the first two columns of R concatenated.

    Returns:
        (..., 3, 3) rotation matrices.

    Raises:
        TypeError: ``x`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``x`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(x, (6,), "6D rotation", "x")
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = _normalize(a1)
    b2 = _normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], -1)


def rotmat_to_rot6d(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrix to the 6D representation ``[R[:, 0], R[:, 1]]``.

    Args:
        R: (..., 3, 3) rotation matrices.

    Returns:
        (..., 6) first column then second column of each R.

    Raises:
        TypeError: ``R`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``R`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(R, (3, 3), "rotation matrix", "R")
    return torch.cat([R[..., :, 0], R[..., :, 1]], -1)


def axis_angle_compose(r1: torch.Tensor, r2: torch.Tensor) -> torch.Tensor:
    """Compose rotations given as axis-angle: the r of ``R(r1) @ R(r2)`` (r2 first, then r1).

    Args:
        r1: (..., 3) rotation vectors, radians.
        r2: (..., 3) rotation vectors, radians; batch dims broadcast with ``r1``.

    Returns:
        (..., 3) rotation vectors in the principal range ``|r| <= π``.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong trailing shape, a non-floating dtype, NaN/inf values, different dtypes or
            devices, or batch dims that do not broadcast.
    """
    _check_pair(r1, r2, (3,), "axis-angle", ("r1", "r2"))
    return _quat_to_axis_angle(_quat_multiply(_axis_angle_to_quat(r1), _axis_angle_to_quat(r2)))


# --------------------------------------------------------------------------- distances


def rotmat_geodesic_distance(R1: torch.Tensor, R2: torch.Tensor) -> torch.Tensor:
    """Geodesic distance on SO(3): the angle of the relative rotation ``R1ᵀ R2``.

    For ``M = R1ᵀ R2`` with angle α: ``tr M - 1 = 2 cos α`` and the skew part of M has norm
    ``2 sin α``. ``atan2`` of the two is accurate at every angle, where ``arccos((tr M - 1)/2)``
    loses half the digits near 0 and π and has an infinite gradient there.

    Args:
        R1: (..., 3, 3) rotation matrices.
        R2: (..., 3, 3) rotation matrices; batch dims broadcast with ``R1``.

    Returns:
        (...) angles in radians, in ``[0, π]``.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong trailing shape, a non-floating dtype, NaN/inf values, different dtypes or
            devices, or batch dims that do not broadcast.
    """
    _check_pair(R1, R2, (3, 3), "rotation matrix", ("R1", "R2"))
    M = R1.transpose(-1, -2) @ R2
    two_cos = M[..., 0, 0] + M[..., 1, 1] + M[..., 2, 2] - 1.0
    skew = torch.stack(
        [M[..., 2, 1] - M[..., 1, 2], M[..., 0, 2] - M[..., 2, 0], M[..., 1, 0] - M[..., 0, 1]], -1
    )
    return torch.atan2(_safe_norm(skew), two_cos)


def _half_angle(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """arccos|q̂1·q̂2| (half the relative rotation angle), computed as an atan2."""
    rel = _quat_multiply(_normalize(q1) * q1.new_tensor([1.0, -1.0, -1.0, -1.0]), _normalize(q2))
    # rel = conj(q̂1) ⊗ q̂2 has w = q̂1·q̂2 and |v| = sqrt(1 - (q̂1·q̂2)²). The abs folds q and
    # -q together; atan2 keeps full precision near 0, where arccos(1 - ε) would not.
    return torch.atan2(_safe_norm(rel[..., 1:]), rel[..., 0].abs())


def quat_geodesic_distance(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Geodesic distance on SO(3) between rotations given as quaternions: ``2 arccos|q̂1·q̂2|``.

    Invariant to the sign of either quaternion (q and -q are the same rotation).

    Args:
        q1: (..., 4) non-zero quaternions, wxyz (normalised internally).
        q2: (..., 4) non-zero quaternions, wxyz; batch dims broadcast with ``q1``.

    Returns:
        (...) angles in radians, in ``[0, π]``.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong trailing shape, a non-floating dtype, a zero quaternion, NaN/inf values, different dtypes or
            devices, or batch dims that do not broadcast.
    """
    _check_pair(q1, q2, (4,), "quaternion", ("q1", "q2"), nonzero=True)
    return 2.0 * _half_angle(q1, q2)


def posendf_distance(
    q1: torch.Tensor, q2: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Pose-NDF distance between two poses of K joints given as quaternions.

    .. math:: d(\\theta, \\hat\\theta) = \\sqrt{\\sum_{i=1}^K \\frac{w_i}{2}
       \\left(\\arccos|\\theta_i \\cdot \\hat\\theta_i|\\right)^2}

    The per-joint term ``arccos|q1_i·q2_i|`` is half the geodesic angle of joint i, so for one
    joint with ``w = 1``, ``d = angle / (2√2)``. The gradient at ``d = 0`` is 0 (a subgradient).

    Args:
        q1: (..., K, 4) non-zero quaternions per joint, wxyz (normalised internally).
        q2: (..., K, 4) quaternions per joint; batch dims broadcast with ``q1``.
        weights: (K,) non-negative weight per joint; default all ones.

    Returns:
        (...) distances.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong trailing shape, a non-floating dtype, a zero quaternion, NaN/inf values, different dtypes or
            devices, batch dims that do not broadcast, or ``weights`` of the wrong shape, device or
            kind, negative or not finite.
    """
    _check(q1, (4,), "quaternion", "q1", nonzero=True)
    _check(q2, (4,), "quaternion", "q2", nonzero=True)
    if q1.dim() < 2 or q2.dim() < 2 or q1.shape[-2] != q2.shape[-2]:
        raise ValueError(
            f"q1 and q2: expected (..., K, 4) quaternion poses with the same K, "
            f"got shapes {tuple(q1.shape)} and {tuple(q2.shape)}"
        )
    _check_pair(q1, q2, (4,), "quaternion", ("q1", "q2"), checked=True)
    K = q1.shape[-2]
    if weights is None:
        weights = q1.new_ones(K)
    else:
        if not isinstance(weights, torch.Tensor):
            tip = " (convert it with torch.as_tensor)" if isinstance(weights, (np.ndarray, list, tuple)) else ""
            raise TypeError(f"expected weights as a torch.Tensor of shape ({K},), got {type(weights).__name__}{tip}")
        if tuple(weights.shape) != (K,):
            raise ValueError(f"expected weights of shape ({K},), got {tuple(weights.shape)}")
        if weights.device != q1.device:
            raise ValueError(f"weights are on {weights.device} but q1 is on {q1.device}; move them (weights.to(q1.device))")
        if not (weights.is_floating_point() or weights.dtype in (torch.int32, torch.int64)):
            raise ValueError(f"weights must be a real-valued tensor; got dtype {weights.dtype}")
        weights = weights.to(q1.dtype)
        if weights.device.type != "meta" and not bool((torch.isfinite(weights) & (weights >= 0)).all()):
            raise ValueError("weights must be finite and non-negative")
    phi = _half_angle(q1, q2)
    return _safe_sqrt((0.5 * weights * phi * phi).sum(-1))
