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

Inputs: every function here takes quaternions as ``(N, K, 4)`` floating tensors, checks them
once per call (a ``ValueError`` naming the argument for a wrong shape, NaN/inf or a zero
quaternion, which is no rotation) and normalises them to unit length, so a quaternion of
length 2 means the same rotation as its unit version.

Cost: the search is ``O(samples x manifold poses x joints)``; on one CPU core it runs at
about 70 ns per (sample, manifold pose) pair (measured for 1024 x 20,000 pairs).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.rotations import axis_angle_to_quat, posendf_distance, quat_canonicalize, quat_multiply
from humanlib.skeleton import BODY_JOINTS, MIRROR_PERMUTATION, NUM_BODY_JOINTS, NUM_JOINTS
from humanlib.priors.posendf_dataset import (  # re-exported: import them from here
    METRICS, NOISE_KINDS, PREFILTER_CANDIDATES, ZERO_QUAT_NORM, UNIT_TOLERANCE, _check_int, _check_sigmas,
    PoseNDFDataConfig, DistanceDataset, KNNResult, _check_quats, _unit_quats,
)


def body_pose_to_quats(pose: Tensor) -> Tensor:
    """Body-joint quaternions of an axis-angle pose, canonicalised to ``w >= 0``.

    Args:
        pose: ``(..., 24, 3)`` full SMPL pose (the root and hands are dropped) or
            ``(..., 21, 3)`` body pose, axis-angle in radians.

    Returns:
        ``(..., 21, 4)`` unit quaternions (wxyz) with non-negative ``w``; an empty batch
        gives an empty batch.

    Raises:
        TypeError: ``pose`` is not a tensor.
        ValueError: wrong shape, an integer dtype, or NaN/inf.
    """
    check_tensor(pose, "pose", (..., 3), finite=False)
    if pose.ndim < 2 or pose.shape[-2] not in (NUM_JOINTS, NUM_BODY_JOINTS):
        raise ValueError(
            f"pose must have shape (..., {NUM_JOINTS}, 3) or (..., {NUM_BODY_JOINTS}, 3) axis-angle, "
            f"got {tuple(pose.shape)}"
        )
    check_tensor(pose, "pose")
    if pose.shape[-2] == NUM_JOINTS:
        pose = pose[..., list(BODY_JOINTS), :]
    return quat_canonicalize(axis_angle_to_quat(pose))


def mirror_body_quats(quats: Tensor) -> Tensor:
    """Left-right mirrored copies of body poses given as quaternions.

    The quaternion form of ``humanlib.data.retarget.mirror_poses``: left and right
    joints swap and each ``(w, x, y, z)`` becomes ``(w, x, -y, -z)`` (the rotation
    conjugated by the reflection ``x -> -x``); ``w`` keeps its sign, so canonical
    quaternions stay canonical.

    Args:
        quats: ``(N, 21, 4)`` body-joint quaternions (wxyz).

    Returns:
        ``(N, 21, 4)`` mirrored quaternions.

    Raises:
        TypeError: ``quats`` is not a tensor.
        ValueError: a shape other than ``(N, 21, 4)``.
    """
    _check_quats(quats, "quats")
    if quats.shape[1] != NUM_BODY_JOINTS:
        raise ValueError(f"quats must have shape (N, {NUM_BODY_JOINTS}, 4) body joints; got {tuple(quats.shape)}")
    perm = [BODY_JOINTS.index(MIRROR_PERMUTATION[j]) for j in BODY_JOINTS]
    sign = torch.tensor((1.0, 1.0, -1.0, -1.0), dtype=quats.dtype, device=quats.device)
    return quats[:, perm] * sign


def perturb_quats_by_distance(
    quats: Tensor, scale: float, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """NRDF's noisy samples: a chosen distance from the source pose, a random direction.

    Each sample draws a distance ``t ~ |N(0, scale^2)|`` and a direction ``u`` uniform on
    the unit sphere of the tangent space ``R^{3K}`` of ``SO(3)^K``; joint ``i`` is rotated
    by the angle ``2 t |u_i|`` about ``u_i``. The half-angle of joint ``i`` is then
    ``t |u_i|``, so the talk's distance (``w = 2``) to the source pose is exactly ``t``
    (when every half-angle stays below pi/2, i.e. ``t < pi/2``; beyond, the distance wraps
    and is smaller). The label (the distance to the whole manifold) is at most ``t``.

    Args:
        quats: ``(N, K, 4)`` source quaternions (normalised here first).
        scale: scale of the half-normal distribution of ``t`` (NRDF: pi/4).
        generator: random generator on ``quats``' device.

    Returns:
        ``(noisy (N, K, 4) canonical quaternions, t (N,))``.

    Raises:
        TypeError: ``quats`` is not a tensor, ``generator`` not a ``torch.Generator``.
        ValueError: wrong shape, NaN/inf or zero quaternions, ``scale <= 0``.
    """
    _check_quats(quats, "quats")
    check_positive(scale, "scale")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
    quats = _unit_quats(quats, "quats")
    n, k = quats.shape[:2]
    t = (torch.randn(n, generator=generator, dtype=quats.dtype, device=quats.device) * scale).abs()
    u = torch.randn(n, k, 3, generator=generator, dtype=quats.dtype, device=quats.device)
    u = u / u.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]
    delta = axis_angle_to_quat(2.0 * t[:, None, None] * u)
    return quat_canonicalize(quat_multiply(quats, delta)), t


def perturb_quats(
    quats: Tensor, sigmas: tuple[float, ...], generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Add isotropic Gaussian noise to quaternions, renormalise and canonicalise.

    Each sample (row) draws one scale from ``sigmas`` uniformly; every component of every
    joint's quaternion gets ``N(0, sigma^2)`` noise.

    Args:
        quats: ``(N, K, 4)`` quaternions (normalised here first).
        sigmas: the noise scales to draw from.
        generator: random generator (for reproducible data), on ``quats``' device.

    Returns:
        ``(noisy (N, K, 4), sigma (N,))``.

    Raises:
        TypeError: ``quats`` is not a tensor, ``sigmas`` not a list of numbers, ``generator``
            not a ``torch.Generator``.
        ValueError: wrong shape, NaN/inf or zero quaternions, non-positive sigmas, a generator
            on another device.
    """
    _check_quats(quats, "quats")
    sigmas = _check_sigmas(sigmas)
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
        if generator.device.type != quats.device.type:
            raise ValueError(
                f"generator is on {generator.device} but quats is on {quats.device}; "
                f"make the generator with torch.Generator(device={str(quats.device)!r})"
            )
    quats = _unit_quats(quats, "quats")
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
    candidates: int | None = PREFILTER_CANDIDATES,
) -> KNNResult:
    """Exact k-nearest-neighbour distance of each query pose to a set of manifold poses.

    The search compares queries with manifold poses one block of queries at a time, so that
    memory is ``chunk_size x M`` floats. With ``candidates`` (the default), it first ranks
    every manifold pose by a lower bound that one matrix product gives, keeps the
    ``candidates`` best, computes the metric exactly on those, and *certifies* the answer:

    * per joint, with ``u = (q_i . p_i)^2``, both metrics' terms are convex functions of
      ``u``: ``arccos(sqrt(u))^2`` (talk) and ``1 - sqrt(u)`` (released); by Jensen's
      inequality their sum over the K joints is ``>= K g(mean_i u_i)``, a decreasing function
      of ``sum_i u_i``;
    * ``sum_i u_i = phi(q) . phi(p)`` with ``phi`` the 10 distinct entries of each joint's
      ``q q^T`` (:func:`quat_outer_features`): one ``(S, 10K) x (10K, M)`` matrix product;
    * if the bound of the best pose left out is above the k-th exact distance found, no
      pose left out can be nearer and the answer is exact; otherwise (rare, far queries)
      that query is searched against every pose. ``KNNResult.num_full_search`` counts them.

    ``candidates=None`` searches every pose for every query (the reference).

    Args:
        queries: ``(S, K, 4)`` quaternions (normalised here); ``S = 0`` gives empty results.
        manifold: ``(M, K, 4)`` quaternions (the training poses, normalised here), ``M >= k``.
        k: number of neighbours.
        metric: ``"talk"``: ``sqrt(sum_i w/2 * arccos(|q_i . p_i|)^2)``, label = the nearest
            one's distance averaged over ``k`` (``k = 1``: the distance to the set);
            ``"released"``: ``mean_i (1 - |q_i . p_i|)`` averaged over the ``k`` nearest.
        joint_weight: ``w`` of the talk's distance (ignored by ``"released"``).
        chunk_size: queries per block.
        candidates: manifold poses kept per query by the pre-filter (``>= k``), or ``None``.

    Returns:
        :class:`KNNResult` with ``distance (S,)``, ``indices (S, k)``,
        ``neighbour_distance (S, k)`` and ``num_full_search``.

    Raises:
        TypeError: a tensor argument that is not a tensor, a non-integer ``k`` /
            ``chunk_size`` / ``candidates``.
        ValueError: wrong shapes, different joint counts, dtypes or devices, NaN/inf or zero
            quaternions, an empty manifold, ``k`` out of range, ``candidates < k``, an
            unknown metric.
    """
    _check_queries_manifold(queries, manifold, "queries")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    _check_int(k, "k", 1)
    if k > manifold.shape[0]:
        raise ValueError(f"k must be between 1 and the number of manifold poses ({manifold.shape[0]}), got {k}")
    _check_int(chunk_size, "chunk_size", 1)
    if candidates is not None:
        _check_int(candidates, "candidates", 1)
        if candidates < k:
            raise ValueError(f"candidates must be >= k ({k}) or None; got {candidates}")
    check_positive(joint_weight, "joint_weight")
    queries, manifold = _unit_quats(queries, "queries"), _unit_quats(manifold, "manifold")
    if queries.shape[0] == 0:
        empty = queries.new_zeros(0, k)
        return KNNResult(distance=queries.new_zeros(0), indices=empty.long(), neighbour_distance=empty)

    if candidates is None or candidates >= manifold.shape[0]:
        val, idx = _knn_full(queries, manifold, k, metric, chunk_size)
        full = 0
    else:
        val, idx, full = _knn_prefiltered(queries, manifold, k, metric, chunk_size, candidates)
    if metric == "talk":
        val = (0.5 * joint_weight * val).sqrt()
    else:
        val = val / queries.shape[1]
    return KNNResult(distance=val.mean(dim=1), indices=idx, neighbour_distance=val, num_full_search=full)


def _joint_terms(dot: Tensor, metric: str) -> Tensor:
    """Per-joint term of the metric from ``|q_i . p_i|`` (clamped to 1: rounding)."""
    # |q . p| <= 1 up to rounding; clamp before arccos (its derivative is infinite at 1,
    # but no gradient flows through the labels).
    dot = dot.abs().clamp(max=1.0)
    return dot.acos().square() if metric == "talk" else 1.0 - dot


def _knn_full(queries: Tensor, manifold: Tensor, k: int, metric: str, chunk_size: int) -> tuple[Tensor, Tensor]:
    """The k smallest sums of per-joint terms against every manifold pose: ``(S, k)`` values and indices."""
    manifold_t = manifold.permute(1, 2, 0).contiguous()  # (K, 4, M): one matrix product per joint
    all_idx, all_val = [], []
    for start in range(0, queries.shape[0], chunk_size):
        block = queries[start : start + chunk_size]
        acc = torch.zeros(block.shape[0], manifold.shape[0], dtype=queries.dtype, device=queries.device)
        for j in range(queries.shape[1]):
            acc.add_(_joint_terms(block[:, j] @ manifold_t[j], metric))
        val, idx = acc.topk(k, dim=1, largest=False)
        all_idx.append(idx)
        all_val.append(val)
    return torch.cat(all_val), torch.cat(all_idx)


def quat_outer_features(quats: Tensor) -> Tensor:
    """Features ``phi(q)`` with ``phi(q) . phi(p) = sum_i (q_i . p_i)^2``.

    ``(q . p)^2 = <q q^T, p p^T>`` (Frobenius); the 10 distinct entries of the symmetric
    ``q q^T``, off-diagonal ones scaled by ``sqrt(2)``, hold that inner product.

    Args:
        quats: ``(..., K, 4)`` quaternions.

    Returns:
        ``(..., 10 K)`` features.

    Raises:
        TypeError: ``quats`` is not a tensor.
        ValueError: a shape other than ``(..., K, 4)``, an integer dtype.
    """
    check_tensor(quats, "quats", (..., 4), finite=False)
    if quats.ndim < 2:
        raise ValueError(f"quats must have shape (..., K, 4) (K joints, wxyz quaternions); got {tuple(quats.shape)}")
    i, j = torch.triu_indices(4, 4, device=quats.device)
    scale = torch.where(i == j, 1.0, math.sqrt(2.0)).to(quats.dtype)
    outer = quats[..., :, None] * quats[..., None, :]
    return (outer[..., i, j] * scale).flatten(-2)


#: Slack of the certificate for float32 round-off in the matrix product and the terms.
_CERTIFY_SLACK = 1e-4


#: Candidates of the second pre-filter round, for the queries the first could not certify.
_SECOND_ROUND = 4096


def _knn_prefiltered(
    queries: Tensor, manifold: Tensor, k: int, metric: str, chunk_size: int, candidates: int,
    manifold_phi: Tensor | None = None,
) -> tuple[Tensor, Tensor, int]:
    """:func:`_knn_full`'s answer via the certified pre-filter of :func:`knn_pose_distance`.

    Queries the pre-filter cannot certify get a second round with ``_SECOND_ROUND``
    candidates (in blocks of 64 queries), and only those still uncertified the full search.
    """
    num_joints = queries.shape[1]
    if manifold_phi is None:
        manifold_phi = quat_outer_features(manifold).T.contiguous()  # (10K, M)
    all_idx, all_val, redo = [], [], []
    for start in range(0, queries.shape[0], chunk_size):
        block = queries[start : start + chunk_size]
        score, cand = (quat_outer_features(block) @ manifold_phi).topk(candidates, dim=1)  # largest sum x^2
        dots = torch.einsum("bkd,bckd->bck", block, manifold[cand])  # (B, C, K)
        exact = _joint_terms(dots, metric).sum(-1)  # (B, C)
        val, pos = exact.topk(k, dim=1, largest=False)
        # every pose left out has sum u <= the last candidate's; the Jensen bound decreases with sum u
        mean_u = (score[:, -1] / num_joints).clamp(0.0, 1.0)
        bound_left_out = num_joints * _joint_terms(mean_u.sqrt(), metric)
        uncertified = (bound_left_out - _CERTIFY_SLACK <= val[:, -1]).nonzero().flatten()
        redo.append(uncertified + start)
        all_idx.append(cand.gather(1, pos))
        all_val.append(val)
    val, idx, redo = torch.cat(all_val), torch.cat(all_idx), torch.cat(redo)
    if redo.numel() and candidates < _SECOND_ROUND < manifold.shape[0]:
        val[redo], idx[redo], full = _knn_prefiltered(
            queries[redo], manifold, k, metric, min(chunk_size, 64), _SECOND_ROUND, manifold_phi)
        return val, idx, full
    if redo.numel():
        val[redo], idx[redo] = _knn_full(queries[redo], manifold, k, metric, chunk_size)
    return val, idx, int(redo.numel())


def _check_queries_manifold(queries: object, manifold: object, qname: str) -> None:
    """Both ``(N, K, 4)`` tensors with the same K, dtype and device, a non-empty manifold."""
    _check_quats(queries, qname)
    _check_quats(manifold, "manifold")
    if queries.shape[1] != manifold.shape[1]:
        raise ValueError(
            f"{qname} and manifold must have the same number of joints, got {queries.shape[1]} and {manifold.shape[1]}"
        )
    if manifold.shape[0] == 0:
        raise ValueError("manifold is empty (shape (0, K, 4)); give at least one manifold pose")
    check_same_device(manifold, "manifold", **{qname: queries})
    if queries.dtype != manifold.dtype:
        raise ValueError(
            f"{qname} ({queries.dtype}) and manifold ({manifold.dtype}) must have the same dtype; cast one with .to()"
        )


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

    Both sets of quaternions are normalised and canonicalised (``w >= 0``) first.

    Returns:
        :class:`DistanceDataset` (clean samples first, then the noisy ones).

    Raises:
        TypeError: ``config`` is not a :class:`PoseNDFDataConfig`, a tensor argument not a tensor.
        ValueError: wrong shapes, NaN/inf or zero quaternions, an empty manifold, an empty
            ``queries_from`` while ``config.num_noisy > 0``, a manifold that is not on the CPU
            (the data is generated there, with a seeded CPU generator).
    """
    if not isinstance(config, PoseNDFDataConfig):
        raise TypeError(f"config must be a PoseNDFDataConfig; got {type(config).__name__}")
    source = manifold if queries_from is None else queries_from
    _check_queries_manifold(source, manifold, "manifold" if queries_from is None else "queries_from")
    if manifold.device.type != "cpu":
        raise ValueError(f"manifold is on {manifold.device}; make_distance_dataset runs on the CPU (use .cpu())")
    if source.shape[0] == 0 and config.num_noisy > 0:
        raise ValueError(f"queries_from is empty but config.num_noisy = {config.num_noisy} noisy samples are asked for")
    manifold = quat_canonicalize(_unit_quats(manifold, "manifold"))
    source = manifold if queries_from is None else quat_canonicalize(_unit_quats(queries_from, "queries_from"))
    generator = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(source.shape[0], generator=generator)
    base = source[order.repeat(config.num_noisy // max(len(order), 1) + 1)[: config.num_noisy]]
    if config.noise == "sigma":
        noisy, sigma = perturb_quats(base, config.sigmas, generator)
    else:  # "distance": the column `sigma` holds the distance drawn for the sample
        noisy, sigma = perturb_quats_by_distance(base, config.distance_scale, generator)
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
        queries: ``(S, K, 4)``; manifold: ``(M, K, 4)``, ``M >= 1`` (both normalised here).

    Returns:
        ``(S,)`` the smallest distance of each query.

    Raises:
        TypeError: a tensor argument that is not a tensor.
        ValueError: as :func:`knn_pose_distance`.
    """
    _check_queries_manifold(queries, manifold, "queries")
    check_positive(joint_weight, "joint_weight")
    queries, manifold = _unit_quats(queries, "queries"), _unit_quats(manifold, "manifold")
    weights = torch.full((queries.shape[1],), joint_weight, dtype=queries.dtype, device=queries.device)
    return posendf_distance(queries[:, None], manifold[None], weights=weights).min(dim=1).values
