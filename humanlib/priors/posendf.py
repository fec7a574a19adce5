"""Pose-NDF: a neural unsigned distance field on SO(3)^K, its losses, projection and prior.

Plausible poses are the zero level set ``S = {theta in SO(3)^K | f(theta) = 0}`` of a
learned unsigned distance ``f``. Here ``theta`` holds the K = 21 body joints (SMPL joints
1..21) as unit quaternions, wxyz, shape ``(..., 21, 4)`` (see
:mod:`humanlib.priors.posendf_data` for the data and the distance it is trained on).

The network (:class:`PoseNDF`) follows the kinematic tree:

* ``f_k^enc(theta_k, v_tau(k)) -> v_k``: one small MLP per joint, fed with its own quaternion
  and the feature of its parent ``tau(k)`` (zeros for the three children of the root);
* ``p = [v_1 || ... || v_K]`` and ``f^df: R^{l K} -> R^+`` (an MLP, ``abs`` or ``softplus`` at
  the output).

Losses (:func:`udf_loss`, :func:`eikonal_loss`)::

    L_UDF     = mean |f(theta) - d|
    L_eikonal = mean_{d != 0} (||grad_theta f(theta)|| - 1)^2

(means instead of the talk's sums: the same minimiser, a scale that does not depend on
the batch size.) The gradient is taken in the ambient space R^{4K} of the quaternions.

Projection (:func:`project`) repeats ``theta <- normalise(theta - alpha f(theta) grad f(theta))``
until ``f`` falls below a tolerance or a step budget runs out. :class:`PoseNDFPrior` wraps
``f`` as a pose energy ``E_theta = f(theta)`` on axis-angle body poses for fitting.

Bad inputs: the entry points (:func:`project`, :func:`distance_and_gradient`,
:func:`mean_pairwise_distance`, :func:`~humanlib.priors.posendf_checkpoint.load_posendf`) check their arguments once per
call and
raise a ``TypeError`` / ``ValueError`` / ``FileNotFoundError`` naming the argument. Projection
normalises its starting poses and refuses NaN/inf and zero quaternions. The network's own
:meth:`PoseNDF.forward`, called once per step inside training, projection and fitting,
checks shape, dtype and device only: it evaluates ``f`` on the quaternions exactly as given
(``f`` is defined on all of ``R^{4K}``; its values mean a distance only near unit
quaternions), and a pose holding NaN gets a NaN distance (the other poses of the batch are
unaffected).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.priors import PosePrior
from humanlib.priors.posendf_data import _check_int, _check_quats, _unit_quats
from humanlib.rotations import axis_angle_to_quat, posendf_distance, quat_canonicalize
from humanlib.skeleton import NUM_BODY_JOINTS
from humanlib.priors.posendf_model import (  # re-exported: import them from here
    shifted_parents, PoseNDFModelConfig, PoseNDF,
)
from humanlib.priors.posendf_checkpoint import (  # re-exported: import them from here
    CHECKPOINT_FORMAT, DEFAULT_CHECKPOINT, save_checkpoint, _check_plain, _as_path, read_checkpoint,
    load_state_checked, load_posendf,
)

# --------------------------------------------------------------------------- losses


def _check_field_input(model: object, quats: object) -> None:
    """A distance field and its ``(B, K, 4)`` input on the field's device (values are checked by callers)."""
    if not callable(model):
        raise TypeError(f"model must be a torch.nn.Module mapping (B, K, 4) to (B,); got {type(model).__name__}")
    _check_quats(quats, "quats", batch="B")
    ref = _reference_tensor(model)
    if ref is not None:
        check_same_device(ref, "the model", quats=quats)


def distance_and_gradient(model: nn.Module, quats: Tensor, create_graph: bool = False) -> tuple[Tensor, Tensor]:
    """``f(theta)`` and its gradient in the ambient quaternion space.

    Args:
        model: maps ``(B, K, 4)`` to ``(B,)``.
        quats: ``(B, K, 4)``, finite (used as given: not normalised).
        create_graph: keep the graph of the gradient (needed to train on it).

    Returns:
        ``(f (B,), grad (B, K, 4))``.

    Raises:
        TypeError: ``model`` is not callable, ``quats`` not a tensor.
        ValueError: wrong shape, NaN/inf, a device other than the model's, a model whose
            output is not ``(B,)`` or does not depend on ``quats``.
    """
    _check_field_input(model, quats)
    check_tensor(quats, "quats")
    return _distance_and_gradient(model, quats, create_graph)


def _reference_tensor(model: object) -> Tensor | None:
    """A parameter or buffer of ``model`` (its device and dtype), or None."""
    if isinstance(model, nn.Module):
        for t in model.parameters():
            return t
        for t in model.buffers():
            return t
    return None


def _distance_and_gradient(model: nn.Module, quats: Tensor, create_graph: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`distance_and_gradient` without the input checks (for loops that checked once)."""
    with torch.enable_grad():
        q = quats if quats.requires_grad else quats.detach().requires_grad_(True)
        f = model(q)
        if not isinstance(f, Tensor) or tuple(f.shape) != (q.shape[0],):
            got = tuple(f.shape) if isinstance(f, Tensor) else type(f).__name__
            raise ValueError(f"model must map quats of shape {tuple(q.shape)} to distances of shape ({q.shape[0]},); got {got}")
        if not f.requires_grad:
            raise ValueError("the model's output does not depend on quats (no gradient); is it a distance field of the poses?")
        (grad,) = torch.autograd.grad(f.sum(), q, create_graph=create_graph, allow_unused=True)
    if grad is None:
        raise ValueError("the model's output does not depend on quats (no gradient); is it a distance field of the poses?")
    return f, grad


def udf_loss(pred: Tensor, target: Tensor) -> Tensor:
    """``L_UDF``: mean absolute error between predicted and true distance.

    Args:
        pred: ``(B,)``; target: ``(B,)``, ``B >= 1``, on one device.

    Returns:
        scalar (NaN where an input holds NaN: it is computed once per training step, unchecked).

    Raises:
        TypeError: an argument that is not a tensor.
        ValueError: shapes that are not the same ``(B,)``, an empty batch, devices that differ.
    """
    check_tensor(pred, "pred", finite=False)
    check_tensor(target, "target", finite=False)
    if pred.shape != target.shape or pred.ndim != 1:
        raise ValueError(f"pred and target must have the same shape (B,), got {tuple(pred.shape)} and {tuple(target.shape)}")
    if pred.shape[0] == 0:
        raise ValueError("pred and target are empty (B = 0): the mean of no errors is undefined")
    check_same_device(pred, "pred", target=target)
    return (pred - target).abs().mean()


def eikonal_loss(grad: Tensor, target: Tensor) -> Tensor:
    """``L_eikonal``: mean of ``(||grad f|| - 1)^2`` over the samples with ``d != 0``.

    Args:
        grad: ``(B, K, 4)`` gradient of ``f`` with respect to the quaternions.
        target: ``(B,)`` true distances; samples with ``target == 0`` (clean poses, where
            an unsigned distance has no gradient) are left out.

    Returns:
        scalar (0 when no sample has ``d != 0``, an empty batch included).

    Raises:
        TypeError: an argument that is not a tensor.
        ValueError: shapes other than ``(B, K, 4)`` and ``(B,)``, devices that differ.
    """
    check_tensor(grad, "grad", finite=False)
    check_tensor(target, "target", finite=False)
    if grad.ndim != 3 or grad.shape[-1] != 4 or target.shape != grad.shape[:1]:
        raise ValueError(f"grad must be (B, K, 4) and target (B,), got {tuple(grad.shape)} and {tuple(target.shape)}")
    check_same_device(grad, "grad", target=target)
    mask = target != 0
    if not mask.any():
        return grad.sum() * 0.0
    norm = grad[mask].flatten(1).norm(dim=1)
    return ((norm - 1.0) ** 2).mean()


# --------------------------------------------------------------------------- projection


PROJECTION_METHODS = ("posendf", "nrdf")


def projection_direction(quats: Tensor, grad: Tensor, method: str = "posendf") -> Tensor:
    """The direction a projection step moves along (before the factor ``alpha f``).

    Args:
        quats: ``(B, K, 4)`` unit quaternions.
        grad: ``(B, K, 4)`` Euclidean gradient of ``f`` at ``quats``.
        method: ``"posendf"`` (the gradient itself) or ``"nrdf"`` (the Riemannian gradient
            ``g - (g . q) q`` per joint, divided by its norm over the whole pose).

    Returns:
        ``(B, K, 4)`` directions.

    Raises:
        TypeError: ``quats`` or ``grad`` is not a tensor.
        ValueError: an unknown method, shapes other than one ``(B, K, 4)``.
    """
    check_tensor(quats, "quats", (None, None, 4), finite=False)
    check_tensor(grad, "grad", tuple(quats.shape), finite=False, hint="(the gradient of f at quats)")
    if method not in PROJECTION_METHODS:
        raise ValueError(f"method must be one of {PROJECTION_METHODS}, got {method!r}")
    return _projection_direction(quats, grad, method)


def _projection_direction(quats: Tensor, grad: Tensor, method: str) -> Tensor:
    """:func:`projection_direction` without its checks: the step of :func:`project`'s loop."""
    if method == "posendf":
        return grad
    tangent = grad - (grad * quats).sum(-1, keepdim=True) * quats
    # a zero gradient (a pose exactly at a critical point) gives a zero step, not NaN
    return tangent / tangent.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]


@dataclass
class ProjectionConfig:
    """Settings of :func:`project`.

    Attributes:
        step_size: ``alpha`` in ``theta <- theta - alpha f grad f``.
        max_steps: step budget.
        tolerance: a pose whose ``f`` is below this is on the manifold and stops moving.
        record_trajectory: keep every iterate (``(steps + 1, B, K, 4)``) for plots.
        method: ``"posendf"``: the Euclidean gradient step ``alpha f grad f``;
            ``"nrdf"``: NRDF's adaptive step, ``alpha f`` along the *normalised Riemannian*
            gradient (each joint's gradient projected on the tangent space of its unit
            quaternion, then the whole pose's direction scaled to unit length), so that the
            step length is exactly ``alpha f`` whatever the gradient's norm.
    """

    step_size: float = 1.0
    max_steps: int = 100
    tolerance: float = 1e-3
    record_trajectory: bool = True
    method: str = "posendf"

    def __post_init__(self) -> None:
        """Check every field.

        Raises:
            TypeError: a field of the wrong type.
            ValueError: ``step_size <= 0``, ``max_steps < 0``, ``tolerance < 0``, or not finite.
        """
        check_positive(self.step_size, "step_size")
        _check_int(self.max_steps, "max_steps", 0)
        check_positive(self.tolerance, "tolerance", allow_zero=True)
        if not isinstance(self.record_trajectory, bool):
            raise TypeError(f"record_trajectory must be a bool; got {type(self.record_trajectory).__name__}")
        if self.method not in PROJECTION_METHODS:
            raise ValueError(f"method must be one of {PROJECTION_METHODS}, got {self.method!r}")


@dataclass
class ProjectionResult:
    """Output of :func:`project`.

    Attributes:
        quats: ``(B, K, 4)`` projected poses.
        distance: ``(B,)`` ``f`` at the projected poses.
        steps: ``(B,)`` steps taken by each pose.
        converged: ``(B,)`` whether ``f`` went below the tolerance.
        distance_history: ``(T + 1, B)`` ``f`` at every iterate (T = steps of the longest run).
        trajectory: ``(T + 1, B, K, 4)`` every iterate, or ``None``.
    """

    quats: Tensor
    distance: Tensor
    steps: Tensor
    converged: Tensor
    distance_history: Tensor
    trajectory: Tensor | None


def project(model: nn.Module, quats: Tensor, config: ProjectionConfig | None = None) -> ProjectionResult:
    """Project poses onto the zero level set of ``f`` by ``theta <- theta - alpha f grad f``
    (``config.method="nrdf"``: along the normalised Riemannian gradient, :func:`projection_direction`).

    After each step every joint's quaternion is renormalised to unit length and
    canonicalised (``w >= 0``). Poses whose ``f`` is below the tolerance stop moving; the
    loop ends when all have stopped or after ``max_steps``.

    Args:
        model: the distance field, ``(B, K, 4) -> (B,)``.
        quats: ``(B, K, 4)`` starting poses, any non-zero lengths (normalised here); an
            empty batch (``B = 0``) gives an empty result.
        config: step size, budget, tolerance.

    Returns:
        :class:`ProjectionResult`.

    Raises:
        TypeError: ``model`` is not callable, ``quats`` not a tensor, ``config`` not a
            :class:`ProjectionConfig`.
        ValueError: wrong shape or dtype, a device other than the model's, NaN/inf or zero
            quaternions (a zero quaternion is no rotation).
    """
    config = ProjectionConfig() if config is None else config
    if not isinstance(config, ProjectionConfig):
        raise TypeError(f"config must be a ProjectionConfig or None; got {type(config).__name__}")
    _check_field_input(model, quats)
    q = quat_canonicalize(_unit_quats(quats.detach(), "quats"))
    steps = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    f, grad = _distance_and_gradient(model, q)
    f = f.detach()
    history, path = [f], [q] if config.record_trajectory else None
    for _ in range(config.max_steps):
        active = f >= config.tolerance
        if not active.any():
            break
        step = config.step_size * f[:, None, None] * _projection_direction(q, grad, config.method)
        moved = q - step
        moved = quat_canonicalize(moved / moved.norm(dim=-1, keepdim=True).clamp_min(1e-12))
        q = torch.where(active[:, None, None], moved, q)
        steps = steps + active.long()
        f_new, grad = _distance_and_gradient(model, q)
        f = torch.where(active, f_new.detach(), f)
        history.append(f)
        if path is not None:
            path.append(q)
    return ProjectionResult(
        quats=q,
        distance=f,
        steps=steps,
        converged=f < config.tolerance,
        distance_history=torch.stack(history),
        trajectory=torch.stack(path) if path is not None else None,
    )


def mean_pairwise_distance(quats: Tensor, joint_weight: float = 2.0) -> Tensor:
    """Diversity of a set of poses: the average talk distance over all pairs.

    Args:
        quats: ``(N, K, 4)``, ``N >= 2`` non-zero quaternions (normalised here).
        joint_weight: ``w_i`` of every joint, ``> 0``.

    Returns:
        scalar.

    Raises:
        TypeError: ``quats`` is not a tensor, ``joint_weight`` not a number.
        ValueError: wrong shape, fewer than two poses, NaN/inf or zero quaternions,
            ``joint_weight <= 0``.
    """
    _check_quats(quats, "quats")
    if quats.shape[0] < 2:
        raise ValueError(f"quats must have shape (N >= 2, K, 4), got {tuple(quats.shape)}: diversity needs two poses")
    check_positive(joint_weight, "joint_weight")
    quats = _unit_quats(quats, "quats")
    n = quats.shape[0]
    w = torch.full((quats.shape[1],), joint_weight, dtype=quats.dtype, device=quats.device)
    d = posendf_distance(quats[:, None], quats[None], weights=w)
    return d.sum() / (n * (n - 1))


# --------------------------------------------------------------------------- prior


class PoseNDFPrior(nn.Module, PosePrior):
    """Pose-NDF as a pose energy for fitting: ``E_theta = f(theta)``.

    Implements :class:`humanlib.priors.PosePrior` in pose space (the fitter optimises the
    63 axis-angle numbers): :meth:`energy` converts the body pose to canonical quaternions
    (:func:`humanlib.rotations.axis_angle_to_quat`) and returns the learned distance to the
    pose manifold. The network's weights are frozen.

    Args:
        model: a trained :class:`PoseNDF` of the 21 body joints (default: the committed open
            checkpoint).

    Raises:
        TypeError: ``model`` is not a :class:`PoseNDF` (e.g. a path: load it with
            :func:`~humanlib.priors.posendf_checkpoint.load_posendf` first).
        ValueError: ``model`` was built for another number of joints than 21.
    """

    name = "posendf"

    def __init__(self, model: PoseNDF | None = None) -> None:
        super().__init__()
        if model is not None and not isinstance(model, PoseNDF):
            tip = " (load a checkpoint with load_posendf(path) first)" if isinstance(model, (str, os.PathLike)) else ""
            raise TypeError(f"model must be a PoseNDF or None; got {type(model).__name__}{tip}")
        if model is not None and model.config.num_joints != NUM_BODY_JOINTS:
            raise ValueError(
                f"model must be a Pose-NDF of the {NUM_BODY_JOINTS} body joints; this one has {model.config.num_joints}"
            )
        self.model = model if model is not None else load_posendf()
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def energy(self, body_pose: Tensor) -> Tensor:
        """Energy of each pose.

        Args:
            body_pose: ``(B, 21, 3)`` axis-angle of SMPL joints 1..21, radians.

        Returns:
            ``(B,)`` ``f(theta) >= 0``, differentiable with respect to ``body_pose``; an
            empty batch gives an empty result.

        Raises:
            TypeError: ``body_pose`` is not a tensor.
            ValueError: wrong shape, dtype (not the model's) or device (not the model's),
                NaN/inf (from the axis-angle conversion's own check).
        """
        w = self.model.enc_w1
        check_tensor(body_pose, "body_pose", (None, NUM_BODY_JOINTS, 3), finite=False,
                     hint="(axis-angle of SMPL joints 1..21, radians)")
        check_same_device(w, "the Pose-NDF prior", body_pose=body_pose)
        check_tensor(body_pose, "body_pose", finite=False, dtype=w.dtype)
        return self.model(quat_canonicalize(axis_angle_to_quat(body_pose)))

    def forward(self, body_pose: Tensor) -> Tensor:
        """Same as :meth:`energy`."""
        return self.energy(body_pose)
