"""Pose priors: energies on the 21-joint body pose, and the interface every prior implements.

A pose prior scores how plausible a body pose is. SMPLify adds it to the data term as
``lambda_theta * E_theta``; VPoser and Pose-NDF replace the GMM behind the same interface.

The body pose is ``(B, 21, 3)`` axis-angle in radians: joints 1..21 of
:mod:`humanlib.skeleton` (``BODY_JOINTS``), root and hands excluded.

The interface has two parts:

* ``energy(body_pose) -> (B,)``: the prior's energy on the pose itself (low = plausible).
* a *parametrisation* used by the fitting code. The fitter never optimises the body pose
  directly; it asks the prior for the free variable it should optimise and how to turn
  that variable into a body pose:

  - ``init_params(body_pose) -> (B, P)``: the starting value of the free variable.
  - ``to_body_pose(params) -> (B, 21, 3)``: the body pose for a value of the free variable.
  - ``params_energy(params) -> (B,)``: the energy the fitter adds, as a function of the
    free variable.

  - ``initial_body_pose(B) -> (B, 21, 3)``: where a fit starts (default: the rest pose;
    the GMM returns its weighted mean pose, as SMPLify did).

  The defaults (pose space) optimise the 63 axis-angle numbers and score them with
  ``energy``. A latent-space prior such as VPoser overrides the three methods: ``params``
  is the latent code ``z`` (``(B, 32)``), ``to_body_pose`` is the decoder and
  ``params_energy`` is ``||z||^2``. Nothing else in the fitter changes.

Example (pose space)::

    class ZeroPosePrior(PosePrior):
        def energy(self, body_pose):
            check_body_pose(body_pose)
            return body_pose.square().sum(dim=(-2, -1))

A prior that is an ``nn.Module`` should inherit ``(torch.nn.Module, PosePrior)`` so that
``.to(device)`` moves its buffers; the fitter calls ``prior.to(device, dtype)`` when the
prior has a ``to`` method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from humanlib.skeleton import NUM_BODY_JOINTS

BODY_POSE_DIM = 3 * NUM_BODY_JOINTS  # 63


def check_body_pose(body_pose: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``body_pose`` is a floating ``(B, 21, 3)`` tensor."""
    if not isinstance(body_pose, torch.Tensor):
        raise ValueError(f"body_pose must be a torch.Tensor of shape (B, 21, 3); got {type(body_pose).__name__}")
    if body_pose.ndim != 3 or body_pose.shape[1:] != (NUM_BODY_JOINTS, 3):
        raise ValueError(
            f"body_pose must have shape (B, {NUM_BODY_JOINTS}, 3) (axis-angle of joints 1..21); "
            f"got {tuple(body_pose.shape)}"
        )
    if not body_pose.is_floating_point():
        raise ValueError(f"body_pose must be a floating tensor; got dtype {body_pose.dtype}")


class PosePrior(ABC):
    """A prior on the body pose, usable by :func:`humanlib.fitting.smplify.fit_smplify`.

    Subclasses must implement :meth:`energy`. Priors that fit in another space (VPoser's
    latent ``z``) also override :meth:`init_params`, :meth:`to_body_pose` and
    :meth:`params_energy`; the three defaults below work in pose space.
    """

    #: Short name used in tables and configs (e.g. "gmm-min", "vposer").
    name: str = "prior"

    @abstractmethod
    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Energy of each pose (lower = more plausible).

        Args:
            body_pose: ``(B, 21, 3)`` axis-angle of joints 1..21, radians.

        Returns:
            ``(B,)`` energies, differentiable with respect to ``body_pose``.
        """

    def initial_body_pose(self, batch_size: int, device: torch.device | str = "cpu",
                          dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Body pose a fit starts from, ``(B, 21, 3)``; the rest pose unless the prior knows better.

        SMPLify starts from the GMM's weighted mean pose (:class:`~humanlib.priors.gmm.GMMPosePrior`
        overrides this); the fitter passes the result to :meth:`init_params`.
        """
        return torch.zeros(batch_size, NUM_BODY_JOINTS, 3, device=device, dtype=dtype)

    def init_params(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Free variable the fitter optimises, initialised from a body pose.

        Args:
            body_pose: ``(B, 21, 3)`` initial body pose.

        Returns:
            ``(B, P)`` tensor; pose space: the flattened pose, ``P = 63``.
        """
        check_body_pose(body_pose)
        return body_pose.reshape(body_pose.shape[0], BODY_POSE_DIM).clone()

    def to_body_pose(self, params: torch.Tensor) -> torch.Tensor:
        """Body pose ``(B, 21, 3)`` for a value ``(B, P)`` of the free variable."""
        return params.reshape(params.shape[0], NUM_BODY_JOINTS, 3)

    def params_energy(self, params: torch.Tensor) -> torch.Tensor:
        """Energy ``(B,)`` the fitter adds, as a function of the free variable ``(B, P)``."""
        return self.energy(self.to_body_pose(params))


class NoPrior(PosePrior):
    """The absent prior: zero energy, pose-space parametrisation (the "no prior" ablation)."""

    name = "none"

    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Zeros of shape ``(B,)`` (still differentiable, so the graph stays connected)."""
        check_body_pose(body_pose)
        return body_pose.sum(dim=(-2, -1)) * 0.0


__all__ = ["BODY_POSE_DIM", "NoPrior", "PosePrior", "check_body_pose"]
