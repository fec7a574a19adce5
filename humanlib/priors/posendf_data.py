"""Training data for Pose-NDF: noisy poses labelled with their distance to the pose manifold.

Pose-NDF learns an unsigned distance ``f(theta)`` to the set of plausible poses. The
training set ``D = {(theta_i, d_i)}`` is built from a motion corpus in three steps, each a
function of this module:

1. :func:`body_pose_to_quats` -- the 21 body joints (SMPL joints 1..21, no root) as unit
   quaternions (wxyz), canonicalised to the hemisphere ``w >= 0`` so that ``q`` and ``-q``
   (the same rotation) get one representative.
2. :func:`perturb_quats` -- Gaussian noise of scale ``sigma`` added to every quaternion
   component, then renormalised; each sample draws its ``sigma`` from a fixed list
   (Pose-NDF's released code used ``{0.01, 0.05, 0.1, 0.25, 0.5}``, 20 % each).
3. :func:`knn_pose_distance` -- the label: exact nearest-neighbour search over *all*
   manifold poses, chunked so that memory stays ``O(chunk x manifold)``, with

   * ``metric="talk"``: the seminar's distance
     ``d(theta, theta_hat) = sqrt(sum_i w_i / 2 * arccos(|theta_i . theta_hat_i|)^2)``
     (:func:`humanlib.rotations.posendf_distance`) to the nearest pose (``k = 1``);
   * ``metric="released"``: the variant of the released Pose-NDF code, the mean over joints
     of ``1 - |theta_i . theta_hat_i|``, averaged over the ``k = 5`` nearest poses.

Clean manifold poses carry the label 0 (:func:`make_distance_dataset`).

Cost: the search is ``O(samples x manifold poses x joints)``; on one CPU core it runs at
about 70 ns per (sample, manifold pose) pair (measured for 1024 x 20,000 pairs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from humanlib.rotations import axis_angle_to_quat, posendf_distance, quat_canonicalize
from humanlib.skeleton import BODY_JOINTS, NUM_BODY_JOINTS, NUM_JOINTS

METRICS = ("talk", "released")


@dataclass
class PoseNDFDataConfig:
    """How the distance-labelled training set is generated.

    Attributes:
        sigmas: noise scales added to quaternion components; each noisy sample draws one
            uniformly (the released code: 0.01, 0.05, 0.1, 0.25, 0.5, 20 % each).
        noisy_per_pose: noisy samples drawn around each manifold pose (the query poses are
            the manifold poses, cycled, so every pose is used about equally).
        num_noisy: total number of noisy samples.
        num_clean: clean manifold poses added with label 0.
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
    num_noisy: int = 60_000
    num_clean: int = 20_000
    metric: str = "talk"
    k: int = 1
    joint_weight: float = 2.0
    chunk_size: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if not self.sigmas or any(s <= 0 for s in self.sigmas):
            raise ValueError(f"sigmas must be a non-empty list of positive numbers, got {self.sigmas}")
        if self.num_noisy < 0 or self.num_clean < 0:
            raise ValueError(f"num_noisy and num_clean must be >= 0, got {self.num_noisy}, {self.num_clean}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        self.sigmas = tuple(float(s) for s in self.sigmas)


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

    def __len__(self) -> int:
        return self.quats.shape[0]


@dataclass
class KNNResult:
    """Result of :func:`knn_pose_distance`.

    Attributes:
        distance: ``(S,)`` the label of each query (see ``metric``).
        indices: ``(S, k)`` indices of the nearest manifold poses, nearest first.
        neighbour_distance: ``(S, k)`` the metric to each of those poses.
    """

    distance: Tensor
    indices: Tensor
    neighbour_distance: Tensor


def _check_quats(quats: Tensor, name: str) -> None:
    if not isinstance(quats, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(quats).__name__}")
    if quats.ndim != 3 or quats.shape[-1] != 4:
        raise ValueError(f"{name} must have shape (N, K, 4) (unit quaternions, wxyz), got {tuple(quats.shape)}")
    if not torch.isfinite(quats).all():
        raise ValueError(f"{name} contains NaN or inf")


def body_pose_to_quats(pose: Tensor) -> Tensor:
    """Body-joint quaternions of an axis-angle pose, canonicalised to ``w >= 0``.

    Args:
        pose: ``(..., 24, 3)`` full SMPL pose (the root and hands are dropped) or
            ``(..., 21, 3)`` body pose, axis-angle in radians.

    Returns:
        ``(..., 21, 4)`` unit quaternions (wxyz) with non-negative ``w``.
    """
    if not isinstance(pose, Tensor):
        raise ValueError(f"pose must be a torch.Tensor, got {type(pose).__name__}")
    if pose.ndim < 2 or pose.shape[-1] != 3 or pose.shape[-2] not in (NUM_JOINTS, NUM_BODY_JOINTS):
        raise ValueError(
            f"pose must have shape (..., {NUM_JOINTS}, 3) or (..., {NUM_BODY_JOINTS}, 3) axis-angle, "
            f"got {tuple(pose.shape)}"
        )
    if pose.shape[-2] == NUM_JOINTS:
        pose = pose[..., list(BODY_JOINTS), :]
    return quat_canonicalize(axis_angle_to_quat(pose))


def perturb_quats(
    quats: Tensor, sigmas: tuple[float, ...], generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Add isotropic Gaussian noise to quaternions, renormalise and canonicalise.

    Each sample (row) draws one scale from ``sigmas`` uniformly; every component of every
    joint's quaternion gets ``N(0, sigma^2)`` noise.

    Args:
        quats: ``(N, K, 4)`` unit quaternions.
        sigmas: the noise scales to draw from.
        generator: random generator (for reproducible data).

    Returns:
        ``(noisy (N, K, 4), sigma (N,))``.
    """
    _check_quats(quats, "quats")
    if not sigmas or any(s <= 0 for s in sigmas):
        raise ValueError(f"sigmas must be a non-empty list of positive numbers, got {sigmas}")
    n = quats.shape[0]
    table = torch.tensor(sigmas, dtype=quats.dtype, device=quats.device)
    choice = torch.randint(len(sigmas), (n,), generator=generator, device=quats.device)
    sigma = table[choice]
    noise = torch.randn(quats.shape, generator=generator, dtype=quats.dtype, device=quats.device)
    noisy = quats + sigma[:, None, None] * noise
    # A renormalised Gaussian sample cannot be exactly zero in practice; clamp guards it anyway.
    noisy = noisy / noisy.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return quat_canonicalize(noisy), sigma


def knn_pose_distance(
    queries: Tensor,
    manifold: Tensor,
    k: int = 1,
    metric: str = "talk",
    joint_weight: float = 2.0,
    chunk_size: int = 1024,
) -> KNNResult:
    """Exact k-nearest-neighbour distance of each query pose to a set of manifold poses.

    The search compares every query with every manifold pose, one block of queries at a
    time, accumulating the per-joint terms so that memory is ``chunk_size x M`` floats.

    Args:
        queries: ``(S, K, 4)`` unit quaternions.
        manifold: ``(M, K, 4)`` unit quaternions (the training poses), ``M >= k``.
        k: number of neighbours.
        metric: ``"talk"``: ``sqrt(sum_i w/2 * arccos(|q_i . p_i|)^2)``, label = the nearest
            one's distance averaged over ``k`` (``k = 1``: the distance to the set);
            ``"released"``: ``mean_i (1 - |q_i . p_i|)`` averaged over the ``k`` nearest.
        joint_weight: ``w`` of the talk's distance (ignored by ``"released"``).
        chunk_size: queries per block.

    Returns:
        :class:`KNNResult` with ``distance (S,)``, ``indices (S, k)`` and
        ``neighbour_distance (S, k)``.
    """
    _check_quats(queries, "queries")
    _check_quats(manifold, "manifold")
    if queries.shape[1] != manifold.shape[1]:
        raise ValueError(
            f"queries and manifold must have the same number of joints, got {queries.shape[1]} and {manifold.shape[1]}"
        )
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if not 1 <= k <= manifold.shape[0]:
        raise ValueError(f"k must be between 1 and the number of manifold poses ({manifold.shape[0]}), got {k}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")

    num_joints = queries.shape[1]
    manifold_t = manifold.permute(1, 2, 0).contiguous()  # (K, 4, M): one matrix product per joint
    all_idx, all_val = [], []
    for start in range(0, queries.shape[0], chunk_size):
        block = queries[start : start + chunk_size]
        acc = torch.zeros(block.shape[0], manifold.shape[0], dtype=queries.dtype, device=queries.device)
        for j in range(num_joints):
            # |q . p| <= 1 up to rounding; clamp before arccos (its derivative is infinite at 1,
            # but no gradient flows through the labels).
            dot = (block[:, j] @ manifold_t[j]).abs_().clamp_(max=1.0)
            if metric == "talk":
                acc.add_(dot.acos_().square_())
            else:
                acc.add_(1.0 - dot)
        val, idx = acc.topk(k, dim=1, largest=False)
        if metric == "talk":
            val = (0.5 * joint_weight * val).sqrt()
        else:
            val = val / num_joints
        all_idx.append(idx)
        all_val.append(val)
    indices = torch.cat(all_idx)
    neighbour = torch.cat(all_val)
    return KNNResult(distance=neighbour.mean(dim=1), indices=indices, neighbour_distance=neighbour)


def make_distance_dataset(
    manifold: Tensor, config: PoseNDFDataConfig, queries_from: Tensor | None = None
) -> DistanceDataset:
    """Noisy poses labelled by their distance to ``manifold``, plus clean poses labelled 0.

    Args:
        manifold: ``(M, 21, 4)`` canonical quaternions of the training poses.
        config: sizes, noise scales, metric.
        queries_from: ``(Q, 21, 4)`` poses to perturb (default: ``manifold``). Pass held-out
            poses to build a validation set whose labels still refer to ``manifold``; no
            clean poses are added then.

    Returns:
        :class:`DistanceDataset` (clean samples first, then the noisy ones).
    """
    _check_quats(manifold, "manifold")
    generator = torch.Generator().manual_seed(config.seed)
    source = manifold if queries_from is None else queries_from
    _check_quats(source, "queries_from")
    order = torch.randperm(source.shape[0], generator=generator)
    base = source[order.repeat(config.num_noisy // max(len(order), 1) + 1)[: config.num_noisy]]
    noisy, sigma = perturb_quats(base, config.sigmas, generator)
    label = knn_pose_distance(
        noisy, manifold, k=config.k, metric=config.metric, joint_weight=config.joint_weight, chunk_size=config.chunk_size
    ).distance
    if queries_from is not None or config.num_clean == 0:
        return DistanceDataset(quats=noisy, distance=label, sigma=sigma)
    clean_idx = torch.randperm(manifold.shape[0], generator=generator)[: config.num_clean]
    clean = manifold[clean_idx]
    zeros = torch.zeros(clean.shape[0], dtype=manifold.dtype)
    return DistanceDataset(
        quats=torch.cat([clean, noisy]),
        distance=torch.cat([zeros, label]),
        sigma=torch.cat([zeros, sigma]),
    )


def brute_force_distance(queries: Tensor, manifold: Tensor, joint_weight: float = 2.0) -> Tensor:
    """Reference for the tests and the chapter: the talk's distance to the nearest pose.

    Computes :func:`humanlib.rotations.posendf_distance` for every (query, manifold) pair
    by broadcasting -- ``O(S x M x K)`` memory, for small inputs only.

    Args:
        queries: ``(S, K, 4)``; manifold: ``(M, K, 4)``.

    Returns:
        ``(S,)`` the smallest distance of each query.
    """
    _check_quats(queries, "queries")
    _check_quats(manifold, "manifold")
    weights = torch.full((queries.shape[1],), joint_weight, dtype=queries.dtype, device=queries.device)
    return posendf_distance(queries[:, None], manifold[None], weights=weights).min(dim=1).values
