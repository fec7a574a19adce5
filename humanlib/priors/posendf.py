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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from humanlib.paths import asset
from humanlib.priors import PosePrior, check_body_pose
from humanlib.rotations import axis_angle_to_quat, posendf_distance, quat_canonicalize
from humanlib.skeleton import BODY_JOINTS, PARENTS, body_joint_parents

CHECKPOINT_FORMAT = "humanlib-posendf-1"
DEFAULT_CHECKPOINT = "priors/posendf_open.pt"


def shifted_parents() -> tuple[int, ...]:
    """The off-by-one parent table of the released Pose-NDF code, for comparison only.

    It indexes the 21-joint body list with SMPL's 24-joint parent numbers, i.e. it skips
    the "minus one" of dropping the root: every joint is wired to the joint one place
    *after* its true parent (the left knee to the right hip, the left elbow to the right
    collar...), and the children of the pelvis hang off the left hip. The left hip, whose
    entry would point at itself, becomes the only child of the root.
    """
    table = []
    for k, j in enumerate(BODY_JOINTS):
        p = PARENTS[j]  # a 24-joint index, used (wrongly) as a body-list index
        table.append(-1 if p >= k else p)
    return tuple(table)


@dataclass
class PoseNDFModelConfig:
    """Architecture of :class:`PoseNDF`.

    Attributes:
        parents: parent of each joint within the joint list (-1: child of the root);
            default :func:`humanlib.skeleton.body_joint_parents`.
        feature_dim: ``l``, the size of each joint feature ``v_k``.
        encoder_hidden: hidden width of each per-joint encoder MLP.
        df_hidden: hidden widths of ``f^df``.
        activation: ``"softplus"`` (smooth, so the eikonal term has useful second
            derivatives) or ``"relu"``.
        softplus_beta: sharpness of the softplus activations.
        output: ``"abs"`` or ``"softplus"``: how ``f^df`` is made non-negative.
    """

    parents: tuple[int, ...] = field(default_factory=body_joint_parents)
    feature_dim: int = 8
    encoder_hidden: int = 32
    df_hidden: tuple[int, ...] = (256, 256, 256)
    activation: str = "softplus"
    softplus_beta: float = 10.0
    output: str = "abs"

    def __post_init__(self) -> None:
        self.parents = tuple(int(p) for p in self.parents)
        self.df_hidden = tuple(int(h) for h in self.df_hidden)
        for k, p in enumerate(self.parents):
            if not -1 <= p < k:
                raise ValueError(
                    f"parents must list each joint's parent before the joint (-1 for the root's children); "
                    f"joint {k} has parent {p}"
                )
        if self.activation not in ("softplus", "relu"):
            raise ValueError(f"activation must be 'softplus' or 'relu', got {self.activation!r}")
        if self.output not in ("abs", "softplus"):
            raise ValueError(f"output must be 'abs' or 'softplus', got {self.output!r}")
        if self.feature_dim < 1 or self.encoder_hidden < 1 or any(h < 1 for h in self.df_hidden):
            raise ValueError("feature_dim, encoder_hidden and df_hidden must be positive")

    @property
    def num_joints(self) -> int:
        return len(self.parents)


def _tree_levels(parents: tuple[int, ...]) -> list[list[int]]:
    """Joints grouped by depth in the tree; every joint's parent sits in an earlier level."""
    depth: list[int] = []
    for p in parents:
        depth.append(0 if p < 0 else depth[p] + 1)
    return [[k for k, d in enumerate(depth) if d == level] for level in range(max(depth) + 1)]


class PoseNDF(nn.Module):
    """The hierarchical unsigned distance field ``f(theta) >= 0``.

    The K per-joint encoders are stored as stacked weights ``(K, in, out)`` and evaluated
    one tree level at a time (all joints at the same depth in one ``einsum``).

    Args:
        config: the architecture.
    """

    def __init__(self, config: PoseNDFModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or PoseNDFModelConfig()
        c = self.config
        k, l, h = c.num_joints, c.feature_dim, c.encoder_hidden
        self.register_buffer("parents", torch.tensor(c.parents, dtype=torch.long), persistent=False)
        self.levels = _tree_levels(c.parents)
        self.enc_w1 = nn.Parameter(torch.empty(k, 4 + l, h))
        self.enc_b1 = nn.Parameter(torch.zeros(k, h))
        self.enc_w2 = nn.Parameter(torch.empty(k, h, l))
        self.enc_b2 = nn.Parameter(torch.zeros(k, l))
        for w in (self.enc_w1, self.enc_w2):  # PyTorch's default Linear init, per joint
            bound = 1.0 / math.sqrt(w.shape[1])
            nn.init.uniform_(w, -bound, bound)
        dims = (k * l, *c.df_hidden, 1)
        self.df = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def _act(self, x: Tensor) -> Tensor:
        if self.config.activation == "relu":
            return torch.relu(x)
        return nn.functional.softplus(x, beta=self.config.softplus_beta)

    def encode(self, quats: Tensor) -> Tensor:
        """The hierarchical features ``p = [v_1 || ... || v_K]``.

        Args:
            quats: ``(B, K, 4)`` unit quaternions.

        Returns:
            ``(B, K * l)``.
        """
        b = quats.shape[0]
        l = self.config.feature_dim
        feats: list[Tensor | None] = [None] * self.config.num_joints
        zero = quats.new_zeros(b, l)
        for level in self.levels:
            idx = torch.tensor(level, device=quats.device)
            parent_feat = torch.stack([zero if self.config.parents[j] < 0 else feats[self.config.parents[j]] for j in level], 1)
            x = torch.cat([quats[:, idx], parent_feat], dim=-1)  # (B, n, 4 + l)
            x = self._act(torch.einsum("bnc,nch->bnh", x, self.enc_w1[idx]) + self.enc_b1[idx])
            x = self._act(torch.einsum("bnh,nhl->bnl", x, self.enc_w2[idx]) + self.enc_b2[idx])
            for n, j in enumerate(level):
                feats[j] = x[:, n]
        return torch.cat(feats, dim=-1)

    def forward(self, quats: Tensor) -> Tensor:
        """The distance ``f(theta)``.

        Args:
            quats: ``(..., K, 4)`` unit quaternions (wxyz). The network is trained on the
                hemisphere ``w >= 0``; callers with arbitrary signs canonicalise first
                (:class:`PoseNDFPrior` does).

        Returns:
            ``(...,)`` non-negative distances.
        """
        k = self.config.num_joints
        if not isinstance(quats, Tensor) or quats.ndim < 2 or quats.shape[-2:] != (k, 4):
            shape = tuple(quats.shape) if isinstance(quats, Tensor) else type(quats).__name__
            raise ValueError(f"PoseNDF expects quaternions of shape (..., {k}, 4), got {shape}")
        lead = quats.shape[:-2]
        x = self.encode(quats.reshape(-1, k, 4))
        for i, layer in enumerate(self.df):
            x = layer(x)
            if i < len(self.df) - 1:
                x = self._act(x)
        x = x[:, 0]
        x = x.abs() if self.config.output == "abs" else nn.functional.softplus(x, beta=self.config.softplus_beta)
        return x.reshape(lead)


# --------------------------------------------------------------------------- losses


def distance_and_gradient(model: nn.Module, quats: Tensor, create_graph: bool = False) -> tuple[Tensor, Tensor]:
    """``f(theta)`` and its gradient in the ambient quaternion space.

    Args:
        model: maps ``(B, K, 4)`` to ``(B,)``.
        quats: ``(B, K, 4)``.
        create_graph: keep the graph of the gradient (needed to train on it).

    Returns:
        ``(f (B,), grad (B, K, 4))``.
    """
    with torch.enable_grad():
        q = quats if quats.requires_grad else quats.detach().requires_grad_(True)
        f = model(q)
        (grad,) = torch.autograd.grad(f.sum(), q, create_graph=create_graph)
    return f, grad


def udf_loss(pred: Tensor, target: Tensor) -> Tensor:
    """``L_UDF``: mean absolute error between predicted and true distance.

    Args:
        pred: ``(B,)``; target: ``(B,)``.

    Returns:
        scalar.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    return (pred - target).abs().mean()


def eikonal_loss(grad: Tensor, target: Tensor) -> Tensor:
    """``L_eikonal``: mean of ``(||grad f|| - 1)^2`` over the samples with ``d != 0``.

    Args:
        grad: ``(B, K, 4)`` gradient of ``f`` with respect to the quaternions.
        target: ``(B,)`` true distances; samples with ``target == 0`` (clean poses, where
            an unsigned distance has no gradient) are left out.

    Returns:
        scalar (0 when no sample has ``d != 0``).
    """
    if grad.ndim != 3 or grad.shape[0] != target.shape[0]:
        raise ValueError(f"grad must be (B, K, 4) and target (B,), got {tuple(grad.shape)} and {tuple(target.shape)}")
    mask = target != 0
    if not mask.any():
        return grad.sum() * 0.0
    norm = grad[mask].flatten(1).norm(dim=1)
    return ((norm - 1.0) ** 2).mean()


# --------------------------------------------------------------------------- checkpoints


def save_checkpoint(path: str | Path, model: PoseNDF, metadata: dict | None = None, extra: dict | None = None) -> Path:
    """Write a checkpoint: plain state dict + model config + metadata (+ resumable state).

    Args:
        path: file to write (parent folders are created).
        model: the network.
        metadata: JSON-like facts recorded with the weights (command, data sizes, metric...).
        extra: additional plain entries (optimizer state, step, history) for resuming.

    Returns:
        the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model_config": asdict(model.config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": dict(metadata or {}),
    }
    payload.update(extra or {})
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # an interrupted save never leaves a half-written checkpoint behind
    return path


def read_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint file safely (``weights_only=True``) and check its format.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a readable torch file or not a Pose-NDF checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Pose-NDF checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged files
        raise ValueError(f"{path} is not a readable torch checkpoint (corrupt or truncated?): {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path} is not a Pose-NDF checkpoint: expected format {CHECKPOINT_FORMAT!r}, found {found!r}")
    for key in ("model_config", "state_dict", "metadata"):
        if key not in payload:
            raise ValueError(f"{path} lacks the entry {key!r} of a Pose-NDF checkpoint")
    return payload


def _config_from_dict(values: dict, path: Path) -> PoseNDFModelConfig:
    known = set(PoseNDFModelConfig.__dataclass_fields__)
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"{path}: model_config has fields this version does not know: {sorted(unknown)}")
    return PoseNDFModelConfig(**values)


def load_state_checked(model: PoseNDF, state_dict: dict, source: str) -> None:
    """``load_state_dict(strict=True)`` with an error that names what does not match."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [
        f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state_dict))
        if tuple(state_dict[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        raise ValueError(
            f"{source} does not match the Pose-NDF architecture: missing keys {missing}, "
            f"unexpected keys {unexpected}, shape mismatches {shapes}"
        )
    model.load_state_dict(state_dict, strict=True)


def load_posendf(
    path: str | Path | None = None,
    device: str | torch.device = "cpu",
    config: PoseNDFModelConfig | None = None,
) -> PoseNDF:
    """Load a trained Pose-NDF.

    Args:
        path: checkpoint file; ``None`` = the committed open checkpoint
            (``humanlib/assets/priors/posendf_open.pt``).
        device: where to put the model.
        config: when given, the architecture the caller expects; a checkpoint built with
            another one is refused (``ValueError`` naming the differing fields).

    Returns:
        the model in eval mode, with ``model.metadata`` holding the checkpoint's metadata.
    """
    path = asset(DEFAULT_CHECKPOINT) if path is None else Path(path)
    payload = read_checkpoint(path)
    stored = _config_from_dict(payload["model_config"], path)
    if config is not None and asdict(config) != asdict(stored):
        diff = {k: (v, asdict(config)[k]) for k, v in asdict(stored).items() if asdict(config)[k] != v}
        raise ValueError(f"{path} was trained with another architecture; differing fields (checkpoint, expected): {diff}")
    model = PoseNDF(stored)
    load_state_checked(model, payload["state_dict"], str(path))
    model.metadata = payload["metadata"]
    return model.to(device).eval()


# --------------------------------------------------------------------------- projection


@dataclass
class ProjectionConfig:
    """Settings of :func:`project`.

    Attributes:
        step_size: ``alpha`` in ``theta <- theta - alpha f grad f``.
        max_steps: step budget.
        tolerance: a pose whose ``f`` is below this is on the manifold and stops moving.
        record_trajectory: keep every iterate (``(steps + 1, B, K, 4)``) for plots.
    """

    step_size: float = 1.0
    max_steps: int = 100
    tolerance: float = 1e-3
    record_trajectory: bool = True

    def __post_init__(self) -> None:
        if self.step_size <= 0 or self.max_steps < 0 or self.tolerance < 0:
            raise ValueError(
                f"need step_size > 0, max_steps >= 0, tolerance >= 0; got {self.step_size}, {self.max_steps}, {self.tolerance}"
            )


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
    """Project poses onto the zero level set of ``f`` by ``theta <- theta - alpha f grad f``.

    After each step every joint's quaternion is renormalised to unit length and
    canonicalised (``w >= 0``). Poses whose ``f`` is below the tolerance stop moving; the
    loop ends when all have stopped or after ``max_steps``.

    Args:
        model: the distance field, ``(B, K, 4) -> (B,)``.
        quats: ``(B, K, 4)`` starting poses (normalised here).
        config: step size, budget, tolerance.

    Returns:
        :class:`ProjectionResult`.
    """
    config = config or ProjectionConfig()
    if not isinstance(quats, Tensor) or quats.ndim != 3 or quats.shape[-1] != 4:
        raise ValueError(f"quats must have shape (B, K, 4), got {tuple(quats.shape) if isinstance(quats, Tensor) else quats}")
    if not torch.isfinite(quats).all():
        raise ValueError("quats contains NaN or inf")
    q = quat_canonicalize(quats.detach() / quats.detach().norm(dim=-1, keepdim=True).clamp_min(1e-12))
    steps = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    f, grad = distance_and_gradient(model, q)
    f = f.detach()
    history, path = [f], [q] if config.record_trajectory else None
    for _ in range(config.max_steps):
        active = f >= config.tolerance
        if not active.any():
            break
        step = config.step_size * f[:, None, None] * grad
        moved = q - step
        moved = quat_canonicalize(moved / moved.norm(dim=-1, keepdim=True).clamp_min(1e-12))
        q = torch.where(active[:, None, None], moved, q)
        steps = steps + active.long()
        f_new, grad = distance_and_gradient(model, q)
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
        quats: ``(N, K, 4)``, ``N >= 2``.

    Returns:
        scalar.
    """
    if quats.ndim != 3 or quats.shape[0] < 2 or quats.shape[-1] != 4:
        raise ValueError(f"quats must have shape (N >= 2, K, 4), got {tuple(quats.shape)}")
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
        model: a trained :class:`PoseNDF` (default: the committed open checkpoint).
    """

    name = "posendf"

    def __init__(self, model: PoseNDF | None = None) -> None:
        super().__init__()
        self.model = model if model is not None else load_posendf()
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def energy(self, body_pose: Tensor) -> Tensor:
        """Energy of each pose.

        Args:
            body_pose: ``(B, 21, 3)`` axis-angle of SMPL joints 1..21, radians.

        Returns:
            ``(B,)`` ``f(theta) >= 0``, differentiable with respect to ``body_pose``.
        """
        check_body_pose(body_pose)
        return self.model(quat_canonicalize(axis_angle_to_quat(body_pose)))

    def forward(self, body_pose: Tensor) -> Tensor:
        """Same as :meth:`energy`."""
        return self.energy(body_pose)
