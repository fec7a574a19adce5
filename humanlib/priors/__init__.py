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
``.to(device)`` moves its buffers. The fitter refuses a prior on another device than the model
(move it with ``prior.to(device)``) and calls ``prior.to(dtype)`` to match the model's dtype
when the prior has a ``to`` method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch

from humanlib._validate import check_positive, check_tensor, resolve_device
from humanlib.skeleton import NUM_BODY_JOINTS

BODY_POSE_DIM = 3 * NUM_BODY_JOINTS  # 63


def check_body_pose(body_pose: torch.Tensor, *, finite: bool = False) -> torch.Tensor:
    """Raise unless ``body_pose`` is a floating ``(B, 21, 3)`` tensor; return it.

    Shape and dtype checks cost nothing; ``finite=True`` adds a NaN/inf check (one host-device
    synchronisation), for entry points called once per fit, never per optimisation step.

    Raises:
        TypeError: ``body_pose`` is not a tensor (a numpy array: convert it with ``torch.as_tensor``).
        ValueError: a wrong shape, an integer dtype, or (with ``finite``) NaN / inf values.
    """
    return check_tensor(body_pose, "body_pose", (None, NUM_BODY_JOINTS, 3), finite=finite,
                        hint="(axis-angle of joints 1..21, radians)")


def _require_tensor(x: object, name: str, expected: str) -> None:
    """TypeError unless ``x`` is a tensor; ``expected`` names the shape (``"(B, 21, 3)"``)."""
    if not isinstance(x, torch.Tensor):
        tip = " (convert it with torch.as_tensor)" if isinstance(x, (np.ndarray, list, tuple, float, int)) else ""
        raise TypeError(f"{name} must be a torch.Tensor of shape {expected}; got {type(x).__name__}{tip}")


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

        Raises:
            ValueError: ``batch_size`` not an integer >= 0, an unknown ``device``, or a
                ``dtype`` that is not a floating-point torch dtype (``TypeError`` for an argument of the wrong type).
        """
        _check_initial_args(batch_size, device, dtype)
        return torch.zeros(batch_size, NUM_BODY_JOINTS, 3, device=device, dtype=dtype)

    def init_params(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Free variable the fitter optimises, initialised from a body pose.

        Args:
            body_pose: ``(B, 21, 3)`` initial body pose.

        Returns:
            ``(B, P)`` tensor; pose space: the flattened pose, ``P = 63``.

        Raises:
            ValueError: ``body_pose`` is not a finite floating ``(B, 21, 3)`` tensor
                (``TypeError`` for an argument of the wrong type).
        """
        check_body_pose(body_pose, finite=True)  # once per fit: where a NaN start is caught
        return body_pose.reshape(body_pose.shape[0], BODY_POSE_DIM).clone()

    def to_body_pose(self, params: torch.Tensor) -> torch.Tensor:
        """Body pose ``(B, 21, 3)`` for a value ``(B, P)`` of the free variable.

        Raises:
            ValueError: ``params`` is not a floating ``(B, 63)`` tensor (pose space)
                (``TypeError`` for an argument of the wrong type).
        """
        # Called at every optimisation step: shape and dtype only, no finiteness check (no sync).
        check_tensor(params, "params", (None, BODY_POSE_DIM), finite=False,
                     hint="(the flattened body pose of init_params)")
        return params.reshape(params.shape[0], NUM_BODY_JOINTS, 3)

    def params_energy(self, params: torch.Tensor) -> torch.Tensor:
        """Energy ``(B,)`` the fitter adds, as a function of the free variable ``(B, P)``.

        Raises:
            ValueError: as :meth:`to_body_pose` (``TypeError`` for an argument of the wrong type).
        """
        return self.energy(self.to_body_pose(params))

    def to_body_pose_unchecked(self, params: torch.Tensor) -> torch.Tensor:
        """:meth:`to_body_pose` for an optimiser's inner loop, where ``params`` came from
        :meth:`init_params` and its checks ran once, before the loop.

        The default calls :meth:`to_body_pose` (its pose-space checks are cheap: no
        host-device synchronisation); a prior whose checks cost overrides it (VPoser).
        """
        return self.to_body_pose(params)

    def params_energy_unchecked(self, params: torch.Tensor) -> torch.Tensor:
        """:meth:`params_energy` for an optimiser's inner loop (see :meth:`to_body_pose_unchecked`)."""
        return self.params_energy(params)


def is_latent_prior(prior: PosePrior) -> bool:
    """Whether ``prior`` fits in a space of its own (it overrides :meth:`PosePrior.to_body_pose`).

    Raises:
        TypeError: ``prior`` is not a :class:`PosePrior`.
    """
    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior; got {type(prior).__name__}")
    return type(prior).to_body_pose is not PosePrior.to_body_pose


def _check_initial_args(batch_size: object, device: object, dtype: object) -> None:
    check_positive(batch_size, "batch_size", integer=True, allow_zero=True)
    resolve_device(device, available=False)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point torch dtype (torch.float32 or torch.float64); got {dtype!r}")


class NoPrior(PosePrior):
    """The absent prior: zero energy, pose-space parametrisation (the "no prior" ablation)."""

    name = "none"

    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Zeros of shape ``(B,)`` (still differentiable, so the graph stays connected).

        A NaN pose gives a NaN energy (never a finite zero that would hide it).

        Raises:
            ValueError: ``body_pose`` is not a floating ``(B, 21, 3)`` tensor
                (``TypeError`` for an argument of the wrong type).
        """
        check_body_pose(body_pose)
        return body_pose.sum(dim=(-2, -1)) * 0.0


__all__ = ["BODY_POSE_DIM", "NoPrior", "PosePrior", "check_body_pose", "is_latent_prior"]
