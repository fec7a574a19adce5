"""VPoser, the variational auto-encoder pose prior of SMPLify-X: its public names in one place.

The code lives in three modules, one a concern, and this module re-exports every public name
of them, so ``from humanlib.priors.vposer import X`` keeps working:

* :mod:`humanlib.priors.vposer_model`: the network (:class:`~humanlib.priors.vposer_model.VPoser`,
  its config and outputs, :func:`~humanlib.priors.vposer_model.as_body_pose`);
* :mod:`humanlib.priors.vposer_loss`: the training loss terms and their weights
  (:func:`~humanlib.priors.vposer_loss.vposer_loss`,
  :class:`~humanlib.priors.vposer_loss.VPoserLossConfig`);
* :mod:`humanlib.priors.vposer_checkpoint`: writing and reading checkpoints
  (:func:`~humanlib.priors.vposer_checkpoint.save_vposer`,
  :func:`~humanlib.priors.vposer_checkpoint.load_vposer`).

This module itself holds the fitting side: :class:`VPoserPrior`, VPoser as a
:class:`humanlib.priors.PosePrior` whose energy is ``||z||^2``.
"""

from __future__ import annotations

import torch
from torch import nn

from humanlib.priors import PosePrior
from humanlib.priors.vposer_checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_FORMAT_VERSION,
    OPEN_CHECKPOINT_NAME,
    load_vposer,
    read_checkpoint_file,
    save_vposer,
    vposer_checkpoint,
    vposer_from_checkpoint,
)
from humanlib.priors.vposer_loss import (
    BodyForward,
    VPoserLoss,
    VPoserLossConfig,
    body_forward_from_model,
    determinant_loss,
    full_pose_from_body,
    geodesic_loss,
    kl_to_standard_normal,
    orthogonality_loss,
    rotmat_reconstruction_loss,
    vposer_loss,
    weight_l2,
)
from humanlib.priors.vposer_model import (
    DecodedPose,
    LatentGaussian,
    VPoser,
    VPoserConfig,
    VPoserOutput,
    _as_model_pose,
    _check_latent,
    _check_vposer,
    as_body_pose,
)

__all__ = [
    "BodyForward", "CHECKPOINT_FORMAT", "CHECKPOINT_FORMAT_VERSION", "DecodedPose", "LatentGaussian",
    "OPEN_CHECKPOINT_NAME", "VPoser", "VPoserConfig", "VPoserLoss", "VPoserLossConfig", "VPoserOutput",
    "VPoserPrior", "as_body_pose", "body_forward_from_model", "determinant_loss", "full_pose_from_body",
    "geodesic_loss", "kl_to_standard_normal", "load_vposer", "orthogonality_loss", "read_checkpoint_file",
    "rotmat_reconstruction_loss", "save_vposer", "vposer_checkpoint", "vposer_from_checkpoint", "vposer_loss",
    "weight_l2",
]


# --------------------------------------------------------------------------------------------
# The prior for fitting: E_theta_b = ||z||^2
# --------------------------------------------------------------------------------------------


class VPoserPrior(nn.Module, PosePrior):
    """VPoser as the pose prior of SMPLify-X: ``E_theta_b(theta_b) = ||z||^2``.

    It implements :class:`humanlib.priors.PosePrior` with the *latent* parametrisation:
    the fitter optimises ``z`` (``(B, 32)``), the body pose is the decoder's output
    (:meth:`to_body_pose`) and the energy it adds is ``||z||^2`` (:meth:`params_energy`).
    :meth:`energy` scores a pose given directly, as ``||mu(theta_b)||^2`` through the encoder
    mean (used for tables, or by a fitter that stays in pose space).

    The network is frozen (no gradient to its weights, always in eval mode).

    Args:
        vposer: A trained VPoser; ``None`` loads the committed open checkpoint.
        init_zero: Start fits at ``z = 0`` (SMPLify-X's choice, the prior's mean pose) instead
            of the encoder mean of the initial pose.
    """

    name = "vposer"

    def __init__(self, vposer: VPoser | None = None, init_zero: bool = False) -> None:
        super().__init__()
        if vposer is not None:
            _check_vposer(vposer, "vposer")
        if not isinstance(init_zero, bool):
            raise TypeError(f"init_zero must be a bool; got {type(init_zero).__name__}")
        self.vposer = vposer if vposer is not None else load_vposer()
        self.init_zero = init_zero
        self.vposer.eval()
        for p in self.vposer.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> VPoserPrior:
        """Set the module's mode; the wrapped network stays in eval mode.

        Raises:
            TypeError: ``mode`` is not a bool.
        """
        if not isinstance(mode, bool):
            raise TypeError(f"mode must be a bool; got {type(mode).__name__}")
        super().train(mode)
        self.vposer.eval()  # the frozen network never uses dropout / batch statistics
        return self

    @property
    def latent_dim(self) -> int:
        return self.vposer.latent_dim

    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        """``||mu(theta_b)||^2`` through the encoder mean; ``(B, 21, 3) -> (B,)``, differentiable.

        Raises:
            ValueError: as :meth:`~humanlib.priors.vposer_model.VPoser.encode` (``TypeError`` for an argument of the wrong type).
        """
        return self.vposer.encode(body_pose).mean.square().sum(-1)

    def init_params(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Initial latent ``(B, 32)``: the encoder mean of ``body_pose (B, 21, 3)`` (or zeros).

        Raises:
            ValueError: as :meth:`~humanlib.priors.vposer_model.VPoser.encode` (also with ``init_zero``)
                (``TypeError`` for an argument of the wrong type).
        """
        body_pose = _as_model_pose(self.vposer, body_pose, "body_pose")
        if self.init_zero:
            return body_pose.new_zeros(body_pose.shape[0], self.latent_dim)
        with torch.no_grad():
            return self.vposer.encode(body_pose).mean.clone()

    def to_body_pose(self, params: torch.Tensor) -> torch.Tensor:
        """Decoded body pose ``(B, 21, 3)`` of latent codes ``(B, 32)`` (differentiable in ``z``).

        Raises:
            ValueError: as :meth:`~humanlib.priors.vposer_model.VPoser.decode_6d` (``TypeError`` for an argument of the wrong type).
        """
        _check_latent(params, self.latent_dim, "params", model=self.vposer, finite=False)  # decode checks values
        return self.vposer.decode(params).pose

    def params_energy(self, params: torch.Tensor) -> torch.Tensor:
        """``E_theta_b = ||z||^2``; ``(B, 32) -> (B,)``.

        Raises:
            ValueError: as :meth:`~humanlib.priors.vposer_model.VPoser.decode_6d` (``TypeError`` for an argument of the wrong type).
        """
        return _check_latent(params, self.latent_dim, "params", model=self.vposer).square().sum(-1)

    def to_body_pose_unchecked(self, params: torch.Tensor) -> torch.Tensor:
        """:meth:`to_body_pose` without its checks (two host-device synchronisations a step saved)."""
        return self.vposer._decode(params).pose

    def params_energy_unchecked(self, params: torch.Tensor) -> torch.Tensor:
        """:meth:`params_energy` without its checks."""
        return params.square().sum(-1)

    def forward(self, body_pose: torch.Tensor) -> torch.Tensor:
        """:meth:`energy` (so the prior can be called like a module)."""
        return self.energy(body_pose)
