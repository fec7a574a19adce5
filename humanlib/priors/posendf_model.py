r"""Pose-NDF's network: its architecture and the field that follows the kinematic tree.

Documented, and imported, as :mod:`humanlib.priors.posendf`'s (that module re-exports every name here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.priors.posendf_data import _check_int
from humanlib.skeleton import BODY_JOINTS, PARENTS, body_joint_parents


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
