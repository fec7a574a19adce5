"""Quaternion algebra (wxyz, Hamilton product), with the input checks and angle-safe helpers of the rotations.

Documented, and imported, as :mod:`humanlib.rotations`' functions: that module re-exports every name here,
and its conventions hold.
"""

from __future__ import annotations

import numpy as np
import torch


# Below this angle (radians) sinc and atan(u)/u use their Taylor series. The first dropped term
# is x**6/5040 (sinc) or u**6/7 (atan): under 1e-19 at 1e-3, below float64 resolution.
_SMALL_ANGLE = 1e-3


# --------------------------------------------------------------------------- input checks


def _check(x: torch.Tensor, trailing: tuple[int, ...], what: str, name: str, nonzero: bool = False) -> None:
    """Raise unless ``x`` (the argument ``name``) is a finite floating tensor of shape ``(..., *trailing)``.

    ``nonzero``: also refuse all-zero quaternions (no rotation corresponds to them). Meta tensors
    carry no values: only their shape and dtype are checked.
    """
    expected = "(..., " + ", ".join(str(n) for n in trailing) + ")"
    if not isinstance(x, torch.Tensor):
        tip = " (convert it with torch.as_tensor)" if isinstance(x, (np.ndarray, list, tuple, int, float)) else ""
        raise TypeError(f"{name}: expected a torch.Tensor of {expected} {what}, got {type(x).__name__}{tip}")
    if x.dim() < len(trailing) or tuple(x.shape[-len(trailing) :]) != trailing:
        raise ValueError(f"{name}: expected {expected} {what}, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point {expected} {what}, got dtype {x.dtype} (use .float())")
    if x.device.type == "meta":
        return
    # One host-device sync per call: the price of failing loudly instead of returning NaN.
    finite = torch.isfinite(x).all()
    if nonzero:
        ok = finite & (x != 0).any(-1).all()
        if bool(ok):
            return
    elif bool(finite):
        return
    if not bool(finite):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"{name}: {what} of shape {tuple(x.shape)} contains {bad} non-finite value(s) (NaN or inf)"
        )
    zero = int((x == 0).all(-1).sum())
    raise ValueError(
        f"{name}: {zero} of the {what}s of shape {tuple(x.shape)} are zero; a zero quaternion is no "
        "rotation (use (1, 0, 0, 0) for the identity)"
    )


def _check_pair(
    a: torch.Tensor,
    b: torch.Tensor,
    trailing: tuple[int, ...],
    what: str,
    names: tuple[str, str],
    checked: bool = False,
    nonzero: bool = False,
) -> None:
    """Check two inputs of one kind (unless ``checked``): same dtype and device, broadcasting batch dims."""
    if not checked:
        _check(a, trailing, what, names[0], nonzero)
        _check(b, trailing, what, names[1], nonzero)
    if a.dtype != b.dtype:
        raise ValueError(
            f"{names[0]} has dtype {a.dtype} but {names[1]} has dtype {b.dtype}; cast one of them "
            f"(e.g. {names[1]}.to({names[0]}.dtype))"
        )
    if a.device != b.device:
        raise ValueError(
            f"{names[0]} is on {a.device} but {names[1]} is on {b.device}; move one of them "
            f"(e.g. {names[1]}.to({names[0]}.device))"
        )
    try:
        torch.broadcast_shapes(a.shape, b.shape)
    except RuntimeError:
        raise ValueError(
            f"{names[0]} and {names[1]}: {what} shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast"
        ) from None


# --------------------------------------------------------------------------- safe helpers
# torch.where evaluates both branches and back-propagates through both: a NaN or inf gradient in
# the branch that is *not* selected still poisons the result (0 * inf = NaN). Each helper therefore
# feeds the dangerous branch a harmless dummy value where it is not selected ("double where").


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    """sqrt(x) for x >= 0 with gradient 0 (a subgradient) at x = 0 instead of inf."""
    positive = x > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, x, torch.ones_like(x))), 0.0)


def _safe_norm(v: torch.Tensor, keepdim: bool = False) -> torch.Tensor:
    """Euclidean norm over the last dim; gradient 0 at the zero vector (a cone's subgradient)."""
    return _safe_sqrt((v * v).sum(-1, keepdim=keepdim))


def _sinc(x: torch.Tensor) -> torch.Tensor:
    """sin(x)/x, smooth at 0 (Taylor branch), with finite gradients everywhere."""
    small = x.abs() < _SMALL_ANGLE
    x_safe = torch.where(small, torch.ones_like(x), x)
    x2 = x * x
    return torch.where(small, 1.0 - x2 / 6.0 + x2 * x2 / 120.0, torch.sin(x_safe) / x_safe)


def _normalize(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """v / |v| over the last dim; a zero vector stays zero instead of becoming NaN."""
    return v / _safe_norm(v, keepdim=True).clamp_min(eps)


def _skew(v: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3) cross-product matrix: skew(v) @ x = v × x."""
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    rows = [torch.stack(r, -1) for r in ((zero, -z, y), (z, zero, -x), (-y, x, zero))]
    return torch.stack(rows, -2)


# --------------------------------------------------------------------------- quaternion algebra


def quat_normalize(q: torch.Tensor) -> torch.Tensor:
    """Scale quaternions to unit norm.

    Args:
        q: (..., 4) non-zero quaternions, wxyz.

    Returns:
        (..., 4) unit quaternions (a zero quaternion stays zero rather than becoming NaN).

    Raises:
        TypeError: ``q`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``q`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(q, (4,), "quaternion", "q")
    return _normalize(q)


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    """Conjugate ``(w, -x, -y, -z)``: the inverse rotation for unit quaternions.

    Args:
        q: (..., 4) quaternions, wxyz.

    Returns:
        (..., 4) conjugated quaternions.

    Raises:
        TypeError: ``q`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``q`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(q, (4,), "quaternion", "q")
    return q * q.new_tensor([1.0, -1.0, -1.0, -1.0])


def _quat_multiply(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    pw, pv = p[..., :1], p[..., 1:]
    qw, qv = q[..., :1], q[..., 1:]
    pv, qv = torch.broadcast_tensors(pv, qv)
    w = pw * qw - (pv * qv).sum(-1, keepdim=True)
    v = pw * qv + qw * pv + torch.linalg.cross(pv, qv, dim=-1)
    return torch.cat([w, v], -1)


def quat_multiply(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``p ⊗ q``: the rotation q followed by p, i.e. R(p ⊗ q) = R(p) R(q).

    Args:
        p: (..., 4) quaternions, wxyz.
        q: (..., 4) quaternions, wxyz; batch dims broadcast with ``p``.

    Returns:
        (..., 4) product quaternions.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong trailing shape, a non-floating dtype, NaN/inf values, different dtypes or
            devices, or batch dims that do not broadcast.
    """
    _check_pair(p, q, (4,), "quaternion", ("p", "q"))
    return _quat_multiply(p, q)


def _quat_canonicalize(q: torch.Tensor) -> torch.Tensor:
    # Sign of the first non-zero component in the order w, x, y, z.
    sign = torch.zeros_like(q[..., 0])
    for c in q.unbind(-1):
        sign = torch.where(sign == 0, torch.sign(c), sign)
    return q * torch.where(sign == 0, 1.0, sign).unsqueeze(-1)


def quat_canonicalize(q: torch.Tensor) -> torch.Tensor:
    """Pick the representative of ``{q, -q}`` on the hemisphere ``w >= 0``.

    Tie rule: when ``w == 0`` exactly (a rotation by π), the first non-zero of x, y, z is made
    positive, so the result is unique. The sign flip is piecewise constant, so gradients pass
    through unchanged (times ±1).

    Args:
        q: (..., 4) quaternions, wxyz.

    Returns:
        (..., 4) quaternions with ``w >= 0``, same rotations as ``q``.

    Raises:
        TypeError: ``q`` is not a tensor (a numpy array or list: convert it with ``torch.as_tensor``).
        ValueError: ``q`` has the wrong trailing shape, a non-floating dtype, or NaN/inf values.
    """
    _check(q, (4,), "quaternion", "q")
    return _quat_canonicalize(q)


def random_quat(
    *shape: int,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Rotations drawn uniformly from SO(3) (the Haar measure), as canonical unit quaternions.

    A standard normal 4-vector divided by its norm is uniform on the 3-sphere, and the 3-sphere
    covers SO(3) twice evenly, so the rotation is uniform.

    Args:
        *shape: batch shape.
        generator: optional ``torch.Generator`` for reproducibility.
        dtype: floating dtype of the result.
        device: device of the result.

    Returns:
        (..., 4) unit quaternions, wxyz, ``w >= 0``; the batch dims are ``shape``.

    Raises:
        TypeError: a batch size is not an int, or ``generator`` is not a ``torch.Generator``.
        ValueError: a negative batch size, or a non-floating ``dtype``.
    """
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"random_quat: each batch size in shape must be an int; got {n!r} in {shape}")
        if n < 0:
            raise ValueError(f"random_quat: batch sizes must be >= 0; got {n} in {shape}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"random_quat: dtype must be a floating torch.dtype (torch.float32, torch.float64); got {dtype!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"random_quat: generator must be a torch.Generator or None; got {type(generator).__name__}")
    g = torch.randn(*(int(n) for n in shape), 4, generator=generator, dtype=dtype, device=device)
    return _quat_canonicalize(_normalize(g))
