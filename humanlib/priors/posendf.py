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
:func:`mean_pairwise_distance`, :func:`load_posendf`) check their arguments once per call and
raise a ``TypeError`` / ``ValueError`` / ``FileNotFoundError`` naming the argument. Projection
normalises its starting poses and refuses NaN/inf and zero quaternions. The network's own
:meth:`PoseNDF.forward`, called once per step inside training, projection and fitting,
checks shape, dtype and device only: it evaluates ``f`` on the quaternions exactly as given
(``f`` is defined on all of ``R^{4K}``; its values mean a distance only near unit
quaternions), and a pose holding NaN gets a NaN distance (the other poses of the batch are
unaffected).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from humanlib._validate import (
    check_file,
    check_positive,
    check_same_device,
    check_tensor,
    resolve_device,
)
from humanlib.paths import asset, user_prior_file
from humanlib.priors import PosePrior
from humanlib.priors.posendf_data import _check_int, _check_quats, _unit_quats
from humanlib.priors.training import save_atomically
from humanlib.rotations import axis_angle_to_quat, posendf_distance, quat_canonicalize
from humanlib.skeleton import BODY_JOINTS, NUM_BODY_JOINTS, PARENTS, body_joint_parents

CHECKPOINT_FORMAT = "humanlib-posendf-1"
DEFAULT_CHECKPOINT = "priors/posendf_open.pt"

#: What to do about a checkpoint that cannot be used.
_REBUILD = (
    "train one with `humanlib train-posendf --out DIR` and pass DIR/posendf.pt, or pass path=None "
    "for the committed checkpoint (restore humanlib/assets/priors/posendf_open.pt with git if it is damaged)"
)


def shifted_parents() -> tuple[int, ...]:
    """The parent table of the released Pose-NDF code, for comparison only.

    The released code lists, for the 21 body joints, SMPL's 24-joint parent numbers with the
    pelvis (0) written as -1 -- and then uses them as indices into the 21-joint body list,
    which has dropped the pelvis. Every parent other than the root is therefore the joint
    one place *after* the true parent in the body list: the left knee hangs off the right
    hip, the left elbow off the right shoulder, and so on. The three children of the pelvis
    (both hips and spine1) stay children of the root. The released list is
    ``[-1, -1, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]``; a test
    pins it.
    """
    return tuple(-1 if PARENTS[j] == 0 else PARENTS[j] for j in BODY_JOINTS)


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
        """Check every field.

        Raises:
            TypeError: a field of the wrong type (a string ``parents``, a float ``feature_dim``...).
            ValueError: a field out of range, named in the message.
        """
        self.parents = _int_tuple(self.parents, "parents")
        self.df_hidden = _int_tuple(self.df_hidden, "df_hidden")
        if not self.parents:
            raise ValueError("parents is empty; give the parent of at least one joint (-1: child of the root)")
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
        _check_int(self.feature_dim, "feature_dim", 1)
        _check_int(self.encoder_hidden, "encoder_hidden", 1)
        if any(h < 1 for h in self.df_hidden):
            raise ValueError(f"df_hidden must hold positive layer widths; got {self.df_hidden}")
        check_positive(self.softplus_beta, "softplus_beta")

    @property
    def num_joints(self) -> int:
        return len(self.parents)


def _int_tuple(values: object, name: str) -> tuple[int, ...]:
    """A sequence of integers (Python or numpy ints, not bools or floats) as a tuple."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of integers; got {type(values).__name__} {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{name} must be a sequence of integers; got the entry {v!r} ({type(v).__name__})")
        out.append(int(v.__index__()))
    return tuple(out)


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

    Raises:
        TypeError: ``config`` is not a :class:`PoseNDFModelConfig`.
    """

    def __init__(self, config: PoseNDFModelConfig | None = None) -> None:
        super().__init__()
        if config is not None and not isinstance(config, PoseNDFModelConfig):
            raise TypeError(f"config must be a PoseNDFModelConfig or None; got {type(config).__name__}")
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

    def _check_quats(self, quats: object, shape: tuple) -> Tensor:
        """Type, shape, dtype and device of the network's input (no host-device sync)."""
        w = self.enc_w1
        check_tensor(quats, "quats", shape, finite=False,
                     hint=f"A pose is {self.config.num_joints} joints, each a wxyz quaternion.")
        check_same_device(w, "the Pose-NDF model", quats=quats)
        check_tensor(quats, "quats", finite=False, dtype=w.dtype)
        return quats

    def encode(self, quats: Tensor) -> Tensor:
        """The hierarchical features ``p = [v_1 || ... || v_K]``.

        Args:
            quats: ``(B, K, 4)`` unit quaternions, on the model's device and dtype.

        Returns:
            ``(B, K * l)``.

        Raises:
            TypeError: ``quats`` is not a tensor.
            ValueError: wrong shape, dtype or device.
        """
        self._check_quats(quats, (None, self.config.num_joints, 4))
        return self._encode(quats)

    def _encode(self, quats: Tensor) -> Tensor:
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
            quats: ``(..., K, 4)`` unit quaternions (wxyz), on the model's device and dtype.
                The network is trained on the hemisphere ``w >= 0``; callers with arbitrary
                signs canonicalise first (:class:`PoseNDFPrior` does). Quaternions are used
                as given, not normalised (see the module docstring); an empty batch gives
                an empty result.

        Returns:
            ``(...,)`` non-negative distances (NaN for a pose that holds NaN).

        Raises:
            TypeError: ``quats`` is not a tensor.
            ValueError: wrong shape, dtype or device.
        """
        k = self.config.num_joints
        self._check_quats(quats, (..., k, 4))
        if quats.ndim < 2:
            raise ValueError(f"quats must have shape (..., {k}, 4); got {tuple(quats.shape)}")
        lead = quats.shape[:-2]
        x = self._encode(quats.reshape(-1, k, 4))
        for i, layer in enumerate(self.df):
            x = layer(x)
            if i < len(self.df) - 1:
                x = self._act(x)
        x = x[:, 0]
        x = x.abs() if self.config.output == "abs" else nn.functional.softplus(x, beta=self.config.softplus_beta)
        return x.reshape(lead)


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

    Raises:
        TypeError: ``model`` is not a :class:`PoseNDF`, ``path`` not a path, ``metadata`` /
            ``extra`` not dicts or holding values a safe load cannot read back (objects
            other than tensors, numbers, strings, bools, None, lists, tuples and dicts).
        ValueError: ``path`` is a directory, ``extra`` overwrites an entry of the format, the
            model is on the meta device (it holds no weights).
    """
    path = _as_path(path, "path")
    if not isinstance(model, PoseNDF):
        raise TypeError(f"model must be a PoseNDF; got {type(model).__name__}")
    if model.enc_w1.device.type == "meta":
        raise ValueError("model is on the meta device and holds no weights; build it on 'cpu' or 'cuda' to save it")
    if path.is_dir():
        raise ValueError(f"path {path} is a directory; give a file name such as {path / 'posendf.pt'}")
    for name, value in (("metadata", metadata), ("extra", extra)):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict or None; got {type(value).__name__}")
        _check_plain(value or {}, name)
    clash = sorted(set(extra or {}) & {"format", "model_config", "state_dict", "metadata"})
    if clash:
        raise ValueError(f"extra may not overwrite the checkpoint's own entries {clash}")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model_config": asdict(model.config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": dict(metadata or {}),
    }
    payload.update(extra or {})
    return save_atomically(payload, path)  # an interrupted save never leaves a half-written checkpoint behind


_PLAIN = (str, int, float, bool, type(None), Tensor)


def _check_plain(value: object, name: str) -> None:
    """Raise unless ``value`` is made of what ``torch.load(weights_only=True)`` reads back."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, f"a key of {name}")
            _check_plain(v, f"{name}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{name}[{i}]")
    elif not isinstance(value, _PLAIN):
        raise TypeError(
            f"{name} is a {type(value).__name__}; a checkpoint holds only tensors, numbers, strings, bools, "
            "None, lists, tuples and dicts (a safe load could not read it back): convert it first"
        )


def _as_path(path: object, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or pathlib.Path; got {type(path).__name__}")
    return Path(path).expanduser()


def _first_line(exc: Exception, limit: int = 120) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_foreign(payload: dict) -> str:
    """A sentence on what a dictionary that is not a Pose-NDF checkpoint seems to be."""
    keys = sorted(map(str, payload))
    fmt = payload.get("format")
    if isinstance(fmt, str) and "vposer" in fmt.lower():
        return (f"it is a VPoser checkpoint (format {fmt!r}): load it with humanlib.priors.vposer.load_vposer, "
                "or give load_posendf a Pose-NDF checkpoint")
    if fmt is not None:
        return f"its format is {fmt!r}, expected {CHECKPOINT_FORMAT!r}"
    if any(k in payload for k in ("model_state_dict", "optimizer_state_dict", "epoch")):
        return (f"it looks like a checkpoint of the released Pose-NDF code (entries {keys[:8]}); humanlib cannot "
                "read it: its network is laid out differently (other layer names, the off-by-one parent table of "
                "shifted_parents()). Train a humanlib Pose-NDF instead")
    if payload and all(isinstance(v, Tensor) for v in payload.values()):
        whose = "a humanlib PoseNDF's" if "enc_w1" in payload else "some network's"
        return (f"it is a bare state dict ({whose} weights, entries {keys[:8]}) without the model configuration; "
                "write checkpoints with humanlib.priors.posendf.save_checkpoint(path, model)")
    return f"it has no 'format' entry (entries {keys[:8]}), expected format {CHECKPOINT_FORMAT!r}"


def read_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint file safely (``weights_only=True``) and check its format.

    Raises:
        TypeError: ``path`` is not a str or Path.
        FileNotFoundError: no such file (or a directory).
        ValueError: the file is not a readable torch file (corrupt, truncated, another kind of
            file), or not a Pose-NDF checkpoint (a VPoser checkpoint, the released code's...).
            Each message names the file and what to do.
    """
    path = check_file(_as_path(path, "path"), "Pose-NDF checkpoint", _REBUILD)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged files
        if "weights only" in str(exc).lower():
            reason = "it holds Python objects other than tensors and plain values, which a safe load refuses"
        else:
            reason = f"{type(exc).__name__}: {_first_line(exc)}"
        raise ValueError(
            f"{path} is not a readable torch checkpoint (corrupt or truncated?, or not a torch file): "
            f"{reason}. {_REBUILD[0].upper()}{_REBUILD[1:]}"
        ) from exc
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is not a Pose-NDF checkpoint: it holds a {type(payload).__name__}, not a dict; {_REBUILD}")
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a Pose-NDF checkpoint: {_describe_foreign(payload)}; {_REBUILD}")
    for key, kind in (("model_config", dict), ("state_dict", dict), ("metadata", dict)):
        if key not in payload:
            raise ValueError(f"{path} lacks the entry {key!r} of a Pose-NDF checkpoint (damaged?); {_REBUILD}")
        if not isinstance(payload[key], kind):
            raise ValueError(f"{path}: the entry {key!r} is a {type(payload[key]).__name__}, expected a dict; {_REBUILD}")
    return payload


def _config_from_dict(values: dict, path: Path) -> PoseNDFModelConfig:
    known = set(PoseNDFModelConfig.__dataclass_fields__)
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"{path}: model_config has fields this version does not know: {sorted(unknown)}")
    try:
        return PoseNDFModelConfig(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: model_config is not a valid PoseNDFModelConfig: {exc}; {_REBUILD}") from exc


def load_state_checked(model: PoseNDF, state_dict: dict, source: str) -> None:
    """``load_state_dict(strict=True)`` with an error that names what does not match.

    Raises:
        TypeError: ``model`` is not a :class:`PoseNDF`, ``state_dict`` not a dict of tensors.
        ValueError: missing or unexpected keys, or tensors of the wrong shape.
    """
    if not isinstance(model, PoseNDF):
        raise TypeError(f"model must be a PoseNDF; got {type(model).__name__}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict of {source} must be a dict of tensors; got {type(state_dict).__name__}")
    not_tensors = sorted(str(k) for k, v in state_dict.items() if not isinstance(v, Tensor))
    if not_tensors:
        raise TypeError(f"state_dict of {source} must hold tensors; these entries are not: {not_tensors[:8]}")
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
        path: checkpoint file; ``None`` = the user's own (``HUMANLIB_PRIORS_DIR``, see
            :func:`humanlib.paths.user_prior_file`) when set, else the committed open checkpoint
            (``humanlib/assets/priors/posendf_open.pt``).
        device: where to put the model.
        config: when given, the architecture the caller expects; a checkpoint built with
            another one is refused (``ValueError`` naming the differing fields).

    Returns:
        the model in eval mode, with ``model.metadata`` holding the checkpoint's metadata.

    Raises:
        TypeError: ``path``, ``device`` or ``config`` of the wrong type.
        FileNotFoundError: the checkpoint does not exist.
        ValueError: an unknown device (or CUDA without a GPU); a file that is corrupt, of
            another model (a VPoser checkpoint, a released Pose-NDF one), or of another
            architecture than ``config`` (see :func:`read_checkpoint`).
    """
    if config is not None and not isinstance(config, PoseNDFModelConfig):
        raise TypeError(f"config must be a PoseNDFModelConfig or None; got {type(config).__name__}")
    device = resolve_device(device)
    if path is None:
        path = user_prior_file("posendf") or asset(DEFAULT_CHECKPOINT)
    else:
        path = _as_path(path, "path")
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
            :func:`load_posendf` first).
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
