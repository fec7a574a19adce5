r"""Pose-NDF's data settings and containers, and the quaternion checks the Pose-NDF modules share.

The settings are :class:`PoseNDFDataConfig`; a labelled set is a :class:`DistanceDataset`; a nearest-neighbour
search returns a :class:`KNNResult`.

:mod:`humanlib.priors.posendf_data` builds the data and re-exports every name here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from humanlib._validate import check_positive, check_same_device, check_tensor


METRICS = ("talk", "released")
NOISE_KINDS = ("sigma", "distance")

#: Candidates kept per query by the matrix-product pre-filter of
#: :func:`~humanlib.priors.posendf_data.knn_pose_distance`.
PREFILTER_CANDIDATES = 128

#: A quaternion shorter than this is treated as zero: no rotation, an error.
ZERO_QUAT_NORM = 1e-6

#: How far from 1 the norm of a training sample's quaternion may be (rounding, float16).
UNIT_TOLERANCE = 1e-3


def _check_int(value: object, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")


def _check_sigmas(sigmas: object, name: str = "sigmas") -> tuple[float, ...]:
    """A non-empty sequence of finite positive numbers, as a tuple of floats."""
    if isinstance(sigmas, (str, bytes)) or not hasattr(sigmas, "__iter__"):
        raise TypeError(f"{name} must be a non-empty list of positive numbers; got {type(sigmas).__name__} {sigmas!r}")
    values = tuple(sigmas)
    if not values:
        raise ValueError(f"{name} must be a non-empty list of positive numbers; got {sigmas!r}")
    for s in values:
        try:
            check_positive(s, f"every entry of {name}")
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name} must be a non-empty list of positive numbers, got {sigmas!r}: {exc}") from None
    return tuple(float(s) for s in values)


@dataclass
class PoseNDFDataConfig:
    """How the distance-labelled training set is generated.

    Attributes:
        sigmas: noise scales added to quaternion components; each noisy sample draws one
            uniformly (the released code: 0.01, 0.05, 0.1, 0.25, 0.5, 20 % each). Used by
            ``noise="sigma"``.
        noise: how noisy samples are drawn. ``"sigma"``: Pose-NDF's Gaussian noise on the
            quaternion components (:func:`~humanlib.priors.posendf_data.perturb_quats`); ``"distance"``: NRDF's scheme, a
            distance ``t`` drawn from a half-normal of scale ``distance_scale`` and a random
            direction on the product of rotation groups, so that the distance to the source
            pose is exactly ``t`` (:func:`~humanlib.priors.posendf_data.perturb_quats_by_distance`).
        distance_scale: scale of the half-normal of ``noise="distance"`` (NRDF: pi/4).
        noisy_per_pose: noisy samples drawn around each manifold pose (the query poses are
            the manifold poses, cycled, so every pose is used about equally).
        num_noisy: total number of noisy samples.
        num_clean: clean manifold poses added with label 0 (at most every manifold pose
            once: a manifold of M < num_clean poses gives M clean samples).
        metric: ``"talk"`` (geodesic distance of the talk, nearest pose) or ``"released"``
            (mean of ``1 - |q . q_hat|`` over joints, averaged over the ``k`` nearest).
        k: neighbours averaged for the label (1 for ``"talk"``, 5 in the released code).
        joint_weight: the weight ``w_i`` of every joint in the talk's distance. With
            ``w_i = 2`` the distance is the geodesic distance on the product of unit
            3-spheres, whose gradient has norm 1 -- what the eikonal loss asks for.
        chunk_size: queries per block of the search (memory ``chunk x manifold`` floats).
        seed: seed of the noise and of the sample order.
    """

    sigmas: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5)
    noise: str = "sigma"
    distance_scale: float = math.pi / 4
    num_noisy: int = 60_000
    num_clean: int = 20_000
    metric: str = "talk"
    k: int = 1
    joint_weight: float = 2.0
    chunk_size: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field.

        Raises:
            TypeError: a field of the wrong type (a float ``k``, a string ``sigmas``...).
            ValueError: a field out of range, named in the message.
        """
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        if self.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {NOISE_KINDS}, got {self.noise!r}")
        check_positive(self.distance_scale, "distance_scale")
        if isinstance(self.k, bool) or not isinstance(self.k, int):
            raise TypeError(f"k must be an integer >= 1, got {type(self.k).__name__} {self.k!r}")
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        self.sigmas = _check_sigmas(self.sigmas)
        _check_int(self.num_noisy, "num_noisy", 0)
        _check_int(self.num_clean, "num_clean", 0)
        _check_int(self.chunk_size, "chunk_size", 1)
        _check_int(self.seed, "seed", 0)
        check_positive(self.joint_weight, "joint_weight")


@dataclass
class DistanceDataset:
    """Poses with their distance to the manifold.

    Attributes:
        quats: ``(N, 21, 4)`` canonical unit quaternions (wxyz) of the body joints.
        distance: ``(N,)`` distance to the manifold (0 for clean poses).
        sigma: ``(N,)`` the noise scale used to make each sample (0 for clean poses).
    """

    quats: Tensor
    distance: Tensor
    sigma: Tensor

    def __post_init__(self) -> None:
        """Check that the three tensors describe the same N finite samples.

        Raises:
            TypeError: a field that is not a tensor.
            ValueError: wrong shapes, different N, NaN/inf, negative distances or noise scales,
                quaternions that are not unit length.
        """
        _check_quats(self.quats, "quats")
        n = self.quats.shape[0]
        for name in ("distance", "sigma"):
            value = check_tensor(getattr(self, name), name, (None,), finite=False)
            if value.shape[0] != n:
                raise ValueError(f"{name} must have shape ({n},), one value per pose of quats; got {tuple(value.shape)}")
        check_same_device(self.quats, "quats", distance=self.distance, sigma=self.sigma)
        if self.quats.device.type == "meta":
            return
        for name in ("quats", "distance", "sigma"):
            check_tensor(getattr(self, name), name)
        for name in ("distance", "sigma"):
            if bool((getattr(self, name) < 0).any()):
                raise ValueError(f"{name} must be >= 0 everywhere (a distance, a noise scale); got negative values")
        off = int(((self.quats.norm(dim=-1) - 1.0).abs() > UNIT_TOLERANCE).sum())
        if off:
            raise ValueError(
                f"quats must be unit quaternions (as make_distance_dataset gives); {off} have a norm that differs "
                f"from 1 by more than {UNIT_TOLERANCE:g}: normalise them with q / q.norm(dim=-1, keepdim=True)"
            )

    def __len__(self) -> int:
        return self.quats.shape[0]


@dataclass
class KNNResult:
    """Result of :func:`~humanlib.priors.posendf_data.knn_pose_distance`.

    Attributes:
        distance: ``(S,)`` the label of each query (see ``metric``).
        indices: ``(S, k)`` indices of the nearest manifold poses, nearest first.
        neighbour_distance: ``(S, k)`` the metric to each of those poses.
        num_full_search: queries whose pre-filtered answer could not be certified exact and
            were searched against every manifold pose (0 without the pre-filter).
    """

    distance: Tensor
    indices: Tensor
    neighbour_distance: Tensor
    num_full_search: int = 0


def _check_quats(quats: object, name: str, batch: str = "N") -> Tensor:
    """Type, dtype and shape ``(N, K, 4)`` of a quaternion argument (no host-device synchronisation)."""
    check_tensor(quats, name, finite=False)
    if quats.ndim != 3 or quats.shape[-1] != 4:
        raise ValueError(
            f"{name} must have shape ({batch}, K, 4) ({batch} poses of K joints, wxyz quaternions); "
            f"got {tuple(quats.shape)}"
        )
    return quats


def _unit_quats(quats: Tensor, name: str) -> Tensor:
    """``quats`` divided by their norms, after one check for NaN/inf and zero quaternions.

    Raises:
        ValueError: ``quats`` holds NaN/inf or a quaternion shorter than ``ZERO_QUAT_NORM``.
    """
    norm = quats.norm(dim=-1, keepdim=True)
    if quats.device.type == "meta":
        return quats / norm
    if not bool((torch.isfinite(norm) & (norm >= ZERO_QUAT_NORM)).all()):  # one sync per call
        check_tensor(quats, name)  # NaN or inf: the standard message
        zero = int((norm < ZERO_QUAT_NORM).sum())
        raise ValueError(
            f"{name} holds {zero} zero quaternion(s) (norm < {ZERO_QUAT_NORM:g}) in shape {tuple(quats.shape)}; "
            "a zero quaternion is no rotation (use (1, 0, 0, 0) for the identity)"
        )
    return quats / norm
