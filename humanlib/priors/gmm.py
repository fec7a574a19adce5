"""The Gaussian-mixture pose prior of SMPLify: EM fitting, exact and min energies, sampling.

The prior is a mixture of ``K`` full-covariance Gaussians on the 63-d body pose
``theta`` (axis-angle of joints 1..21, flattened joint-major: ``theta[3*k:3*k+3]`` is body
joint ``k``):

.. math::

    p(\\theta) = \\sum_j g_j \\, \\mathcal{N}(\\theta; \\mu_j, \\Sigma_j).

Two energies are offered (both ``(B,)``):

* **exact** ``E(theta) = -log sum_j g_j N(theta; mu_j, Sigma_j)``, computed with a
  log-sum-exp so that no density underflows (a 63-d Gaussian density of an unlikely pose
  is far below float32's smallest number);
* **min** (SMPLify's approximation) ``E(theta) = min_j -log(c g_j N(theta; mu_j, Sigma_j))``.
  With ``e_j = 0.5 * m_j + a_j`` where ``m_j`` is the squared Mahalanobis distance and
  ``a_j = -log g_j + 0.5 log det(2 pi Sigma_j)``, the constant is chosen as
  ``log c = min_k a_k``, so ``E_min = min_j (0.5 m_j + a_j - min_k a_k) >= 0``. Each term is
  then a sum of squares, ``||L_j^{-1}(theta - mu_j)||^2 / 2 + (sqrt(a_j - a_min))^2`` with
  ``Sigma_j = L_j L_j^T``, which is what SMPLify's Gauss-Newton-type solver (dogleg) needs:
  its objective must be a sum of squared residuals, and a log of a sum is not one.

They are close: ``E_exact <= E_min + log c <= E_exact + log K`` (the largest term of a sum
of ``K`` positive numbers is at least their mean), so up to the constant ``log c`` the two
differ by at most ``log 8 = 2.08`` nats for ``K = 8``; :func:`energy_gap` measures it.

The mixture is fitted by expectation-maximisation (:func:`fit_gmm`), implemented here in
float64 torch (k-means++ seeding, a few Lloyd iterations, then EM); ``reg_covar`` is added
to every covariance diagonal so that no component collapses on near-constant dimensions.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from humanlib.priors import BODY_POSE_DIM, PosePrior, check_body_pose
from humanlib.skeleton import BODY_JOINTS

#: File name of the committed GMM fitted on the open corpus (our own fit, not SMPLify's file).
DEFAULT_GMM_ASSET = "priors/gmm_open_8.npz"


def _check_points(x: torch.Tensor, dim: int, name: str = "x") -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape (N, {dim}); got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (N, {dim}); got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")


class GaussianMixture(nn.Module):
    """A full-covariance Gaussian mixture with fixed parameters (buffers).

    Args:
        weights: ``(K,)`` mixture weights ``g_j`` (positive, summing to one).
        means: ``(K, D)`` means ``mu_j``.
        covariances: ``(K, D, D)`` symmetric positive-definite covariances ``Sigma_j``.
    """

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor) -> None:
        super().__init__()
        weights = torch.as_tensor(weights)
        means = torch.as_tensor(means)
        covariances = torch.as_tensor(covariances)
        if means.ndim != 2:
            raise ValueError(f"means must have shape (K, D); got {tuple(means.shape)}")
        k, d = means.shape
        if weights.shape != (k,):
            raise ValueError(f"weights must have shape ({k},) to match means {tuple(means.shape)}; got {tuple(weights.shape)}")
        if covariances.shape != (k, d, d):
            raise ValueError(f"covariances must have shape ({k}, {d}, {d}); got {tuple(covariances.shape)}")
        if (weights <= 0).any() or not math.isclose(float(weights.sum()), 1.0, rel_tol=1e-4):
            raise ValueError(f"weights must be positive and sum to 1; got sum {float(weights.sum()):.6f}")
        # Cholesky in float64 however the mixture is stored: it fails loudly on a covariance
        # that is not positive definite instead of returning NaN.
        chol = torch.linalg.cholesky(covariances.double())
        dtype = means.dtype if means.is_floating_point() else torch.get_default_dtype()
        log_det = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        # a_j = -log g_j + 0.5 log det(2 pi Sigma_j): the pose-independent part of -log(g_j N_j).
        const = -torch.log(weights.double()) + 0.5 * log_det + 0.5 * d * math.log(2.0 * math.pi)
        self.register_buffer("weights", weights.to(dtype))
        self.register_buffer("means", means.to(dtype))
        self.register_buffer("covariances", covariances.to(dtype))
        self.register_buffer("cholesky", chol.to(dtype))
        # L_j^{-1}, so that ||L_j^{-1}(x - mu_j)||^2 is one matrix product per component
        # (a GEMM is much faster than a batched triangular solve on the CPU).
        eye = torch.eye(d, dtype=torch.float64).expand(k, d, d)
        self.register_buffer("cholesky_inv", torch.linalg.solve_triangular(chol, eye, upper=False).to(dtype))
        self.register_buffer("component_constants", const.to(dtype))

    @property
    def num_components(self) -> int:
        """Number of components ``K``."""
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        """Dimension ``D`` of the space."""
        return self.means.shape[1]

    @property
    def log_c(self) -> torch.Tensor:
        """SMPLify's constant ``log c = min_j a_j`` that makes :meth:`energy_min` non-negative."""
        return self.component_constants.min()

    def mahalanobis_sq(self, x: torch.Tensor) -> torch.Tensor:
        """Squared Mahalanobis distance of each point to each component.

        Args:
            x: ``(N, D)`` points.

        Returns:
            ``(N, K)`` values ``(x - mu_j)^T Sigma_j^{-1} (x - mu_j)``.
        """
        _check_points(x, self.dim)
        # ||L_j^{-1} (x - mu_j)||^2 = (x - mu_j)^T Sigma_j^{-1} (x - mu_j).
        means, linv = self.means.to(x.dtype), self.cholesky_inv.to(x.dtype)
        return torch.stack([((x - means[j]) @ linv[j].T).square().sum(-1) for j in range(self.num_components)], dim=-1)

    def component_energies(self, x: torch.Tensor) -> torch.Tensor:
        """``e_j(x) = -log(g_j N(x; mu_j, Sigma_j))`` for every component.

        Args:
            x: ``(N, D)`` points.

        Returns:
            ``(N, K)`` energies.
        """
        return 0.5 * self.mahalanobis_sq(x) + self.component_constants.to(x.dtype)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log density ``log p(x)`` of the mixture, ``(N,)``, by a stable log-sum-exp."""
        return torch.logsumexp(-self.component_energies(x), dim=-1)

    def energy_exact(self, x: torch.Tensor) -> torch.Tensor:
        """Exact energy ``-log sum_j g_j N(x; mu_j, Sigma_j)``, ``(N,)``."""
        return -self.log_prob(x)

    def energy_min(self, x: torch.Tensor) -> torch.Tensor:
        """SMPLify's energy ``min_j -log(c g_j N(x; mu_j, Sigma_j))`` with ``log c = min_j a_j``, ``(N,)``.

        Non-negative; equals :meth:`energy_exact` ``- log c`` up to at most ``log K``.
        """
        return self.component_energies(x).min(dim=-1).values - self.log_c.to(x.dtype)

    def min_residuals(self, x: torch.Tensor) -> torch.Tensor:
        """The residual vector whose squared norm is :meth:`energy_min` (SMPLify's form for its solver).

        For the winning component ``j`` of each point: ``r = [L_j^{-1}(x - mu_j) / sqrt(2),
        sqrt(a_j - a_min)]``, so that ``||r||^2 = E_min(x)``.

        Args:
            x: ``(N, D)`` points.

        Returns:
            ``(N, D + 1)`` residuals.
        """
        j = self.component_energies(x).argmin(-1)
        white = ((x - self.means.to(x.dtype)[j]).unsqueeze(-2) @ self.cholesky_inv.to(x.dtype)[j].transpose(-1, -2)).squeeze(-2)
        const = (self.component_constants.to(x.dtype)[j] - self.log_c.to(x.dtype)).clamp(min=0).sqrt()
        return torch.cat([white / math.sqrt(2.0), const[:, None]], dim=-1)

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior probability of each component, ``(N, K)`` (rows sum to one)."""
        return torch.softmax(-self.component_energies(x), dim=-1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` points ``(n, D)``: a component by its weight, then ``mu_j + L_j eps``."""
        if n < 0:
            raise ValueError(f"n must be >= 0; got {n}")
        comp = torch.multinomial(self.weights.double().cpu(), n, replacement=True, generator=generator)
        eps = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        chol = self.cholesky.double().cpu()[comp]
        out = self.means.double().cpu()[comp] + (chol @ eps.unsqueeze(-1)).squeeze(-1)
        return out.to(device=self.means.device, dtype=self.means.dtype)

    def save(self, path: str | Path, metadata: dict | None = None) -> None:
        """Write the parameters (and a JSON metadata string) to an ``.npz`` file."""
        np.savez(
            path,
            weights=self.weights.double().cpu().numpy(),
            means=self.means.double().cpu().numpy(),
            covariances=self.covariances.double().cpu().numpy(),
            metadata=np.array(json.dumps(metadata or {}, sort_keys=True)),
        )

    @classmethod
    def load(cls, path: str | Path, dtype: torch.dtype = torch.float32) -> "GaussianMixture":
        """Read a mixture written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"GMM file {path} does not exist; fit one with `humanlib train-gmm --out {path}`")
        with np.load(path, allow_pickle=False) as data:
            missing = {"weights", "means", "covariances"} - set(data.files)
            if missing:
                raise ValueError(f"{path} is not a humanlib GMM file: missing arrays {sorted(missing)}")
            gmm = cls(
                torch.from_numpy(data["weights"]).to(dtype),
                torch.from_numpy(data["means"]).to(dtype),
                torch.from_numpy(data["covariances"]).to(torch.float64),
            )
            gmm.metadata = json.loads(str(data["metadata"])) if "metadata" in data.files else {}
        return gmm


def energy_gap(gmm: GaussianMixture, x: torch.Tensor) -> torch.Tensor:
    """``(E_min + log c) - E_exact`` per point, ``(N,)``; always in ``[0, log K]``."""
    return gmm.energy_min(x) + gmm.log_c.to(x.dtype) - gmm.energy_exact(x)


# --------------------------------------------------------------------------- EM fitting


@dataclass
class GMMFitResult:
    """Output of :func:`fit_gmm`.

    Attributes:
        gmm: the fitted mixture (float64 buffers).
        log_likelihood: mean log-likelihood per point on the training data after each EM
            iteration (non-decreasing up to round-off: EM's guarantee).
        converged: whether the improvement fell below ``tol`` before ``max_iter``.
    """

    gmm: GaussianMixture
    log_likelihood: list[float] = field(default_factory=list)
    converged: bool = False


def _kmeans_init(x: torch.Tensor, k: int, generator: torch.Generator, iters: int = 10) -> torch.Tensor:
    """k-means++ seeding followed by ``iters`` Lloyd iterations; returns labels ``(N,)``."""
    n = x.shape[0]
    centers = [x[torch.randint(n, (1,), generator=generator)].squeeze(0)]
    d2 = (x - centers[0]).square().sum(-1)
    for _ in range(1, k):
        idx = torch.multinomial(d2 / d2.sum(), 1, generator=generator)
        centers.append(x[idx].squeeze(0))
        d2 = torch.minimum(d2, (x - centers[-1]).square().sum(-1))
    c = torch.stack(centers)
    for _ in range(iters):
        labels = torch.cdist(x, c).argmin(-1)
        for j in range(k):
            members = x[labels == j]
            if len(members) > 0:
                c[j] = members.mean(0)
    return torch.cdist(x, c).argmin(-1)


def _m_step(x: torch.Tensor, resp: torch.Tensor, reg_covar: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    nk = resp.sum(0) + 10 * torch.finfo(resp.dtype).eps  # (K,)
    weights = nk / nk.sum()
    means = (resp.T @ x) / nk[:, None]
    d = x.shape[1]
    covs = torch.empty(len(nk), d, d, dtype=x.dtype)
    for j in range(len(nk)):
        diff = x - means[j]
        covs[j] = (resp[:, j, None] * diff).T @ diff / nk[j]
        covs[j] = 0.5 * (covs[j] + covs[j].T) + reg_covar * torch.eye(d, dtype=x.dtype)
    return weights, means, covs


def fit_gmm(
    x: torch.Tensor,
    num_components: int = 8,
    max_iter: int = 200,
    tol: float = 1e-4,
    reg_covar: float = 1e-4,
    seed: int = 0,
) -> GMMFitResult:
    """Fit a full-covariance Gaussian mixture by expectation-maximisation.

    Args:
        x: ``(N, D)`` training points (any float dtype; fitted in float64).
        num_components: ``K``.
        max_iter: maximum number of EM iterations.
        tol: stop when the mean log-likelihood per point improves by less than this.
        reg_covar: added to every covariance diagonal (in the data's units squared;
            for axis-angle, rad^2).
        seed: seed of the k-means++ initialisation.

    Returns:
        :class:`GMMFitResult` with the mixture and the log-likelihood history.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise ValueError(f"x must be a (N, D) tensor; got {getattr(x, 'shape', type(x).__name__)}")
    _check_points(x, x.shape[1])
    if num_components < 1 or x.shape[0] < num_components * 2:
        raise ValueError(f"need num_components >= 1 and at least 2 points per component; got K={num_components}, N={x.shape[0]}")
    x = x.detach().double().cpu()
    gen = torch.Generator().manual_seed(seed)
    labels = _kmeans_init(x, num_components, gen)
    resp = torch.nn.functional.one_hot(labels, num_components).double()
    history: list[float] = []
    converged = False
    for _ in range(max_iter):
        weights, means, covs = _m_step(x, resp, reg_covar)
        gmm = GaussianMixture(weights, means, covs)
        log_joint = -gmm.component_energies(x)  # (N, K)
        log_px = torch.logsumexp(log_joint, dim=-1)
        history.append(float(log_px.mean()))
        resp = torch.exp(log_joint - log_px[:, None])  # E-step
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            converged = True
            break
    return GMMFitResult(gmm=gmm, log_likelihood=history, converged=converged)


# --------------------------------------------------------------------------- the prior


class GMMPosePrior(nn.Module, PosePrior):
    """SMPLify's GMM prior on the body pose, exact or min (pose-space parametrisation).

    Args:
        gmm: a 63-d mixture on flattened body poses (``load_gmm`` gives the committed one).
        mode: ``"min"`` (SMPLify's approximation, non-negative) or ``"exact"``
            (``-log p(theta)``).
    """

    def __init__(self, gmm: GaussianMixture, mode: str = "min") -> None:
        super().__init__()
        if mode not in ("min", "exact"):
            raise ValueError(f"mode must be 'min' or 'exact'; got {mode!r}")
        if gmm.dim != BODY_POSE_DIM:
            raise ValueError(f"a pose GMM must be {BODY_POSE_DIM}-dimensional (21 joints x 3); got {gmm.dim}")
        self.gmm = gmm
        self.mode = mode
        self.name = f"gmm-{mode}"

    def initial_body_pose(self, batch_size: int, device: torch.device | str = "cpu",
                          dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The mixture's mean pose ``sum_j g_j mu_j`` for every frame, ``(B, 21, 3)`` (SMPLify's start)."""
        mean = (self.gmm.weights[:, None] * self.gmm.means).sum(0)
        return mean.reshape(1, -1, 3).expand(batch_size, -1, -1).to(device=device, dtype=dtype).clone()

    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Energy ``(B,)`` of body poses ``(B, 21, 3)``."""
        check_body_pose(body_pose)
        x = body_pose.reshape(body_pose.shape[0], BODY_POSE_DIM)
        if self.mode == "min":
            return self.gmm.energy_min(x)
        return self.gmm.energy_exact(x)


def load_gmm(path: str | Path | None = None, dtype: torch.dtype = torch.float32) -> GaussianMixture:
    """The committed 8-component GMM of the open corpus, or the mixture stored at ``path``."""
    if path is None:
        from humanlib.paths import asset

        path = asset(DEFAULT_GMM_ASSET)
    return GaussianMixture.load(path, dtype=dtype)


def load_gmm_prior(mode: str = "min", path: str | Path | None = None) -> GMMPosePrior:
    """:class:`GMMPosePrior` on the committed GMM (or the one at ``path``)."""
    return GMMPosePrior(load_gmm(path), mode=mode)


# --------------------------------------------------------------------------- training job


def body_pose_matrix(poses: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Flatten full SMPL poses ``(N, 24, 3)`` to body-pose vectors ``(N, 63)`` (joints 1..21)."""
    poses = torch.as_tensor(poses)
    if poses.ndim != 3 or poses.shape[1:] != (24, 3):
        raise ValueError(f"poses must have shape (N, 24, 3); got {tuple(poses.shape)}")
    return poses[:, list(BODY_JOINTS)].reshape(poses.shape[0], BODY_POSE_DIM)


def _corpus_body_poses(split: str) -> torch.Tensor:
    from humanlib.data import load_corpus

    corpus = load_corpus(split)
    poses = corpus.poses if hasattr(corpus, "poses") else corpus["poses"]
    return body_pose_matrix(poses)


def _corpus_manifest_digest() -> str:
    """sha256 of the corpus manifest (identifies the corpus version a GMM was fitted on)."""
    import hashlib

    from humanlib.paths import ASSETS_DIR

    manifest = ASSETS_DIR / "corpus" / "manifest.json"
    return hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.exists() else "unknown"


def machine_description() -> str:
    """One line naming the machine a job ran on (for results files)."""
    import os

    return f"{platform.node() or 'unknown host'}: {platform.processor() or platform.machine()}, " \
        f"{os.cpu_count()} CPU cores, torch {torch.__version__}, CUDA {'yes' if torch.cuda.is_available() else 'no'}"


def train_gmm(
    out: Path,
    num_components: int = 8,
    max_iter: int = 200,
    reg_covars: tuple[float, ...] = (1e-4, 1e-3, 1e-2),
    seed: int = 0,
    max_frames: int | None = None,
    command: str = "",
    tol: float = 1e-3,
) -> dict:
    """Fit the pose GMM on the corpus's train split, choose ``reg_covar`` on val, write ``out`` (npz).

    One mixture is fitted per candidate ``reg_covar``; the one with the best validation
    log-likelihood is kept. The test split is only used to report the final held-out
    log-likelihood (of the kept mixture and of a single Gaussian with the same ``reg_covar``).

    Returns the metadata dictionary stored in the file (log-likelihoods, sizes, timing).
    """
    train = _corpus_body_poses("train").double()
    val = _corpus_body_poses("val").double()
    test = _corpus_body_poses("test").double()
    if max_frames is not None and len(train) > max_frames:
        idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:max_frames]
        train = train[idx.sort().values]
    candidates = {}
    best = None
    start = time.perf_counter()
    for reg in reg_covars:
        result = fit_gmm(train, num_components, max_iter=max_iter, tol=tol, reg_covar=reg, seed=seed)
        val_ll = float(result.gmm.log_prob(val).mean())
        candidates[f"{reg:g}"] = {"val_loglik_per_frame": round(val_ll, 3), "em_iterations": len(result.log_likelihood),
                                  "train_loglik_per_frame": round(result.log_likelihood[-1], 3)}
        print(f"reg_covar={reg:g}: {candidates[f'{reg:g}']}", flush=True)
        if best is None or val_ll > best[2]:
            best = (reg, result, val_ll)
    seconds = time.perf_counter() - start
    reg, result, val_ll = best
    single = fit_gmm(train, 1, max_iter=2, reg_covar=reg, seed=seed).gmm
    meta = {
        "command": command,
        "machine": machine_description(),
        "num_components": num_components,
        "reg_covar": reg,
        "reg_covar_candidates": candidates,
        "tol": tol,
        "seed": seed,
        "train_frames": int(len(train)),
        "val_frames": int(len(val)),
        "test_frames": int(len(test)),
        "em_iterations": len(result.log_likelihood),
        "converged": result.converged,
        "fit_seconds_all_candidates": round(seconds, 1),
        "train_loglik_per_frame": result.log_likelihood[-1],
        "val_loglik_per_frame": val_ll,
        "val_loglik_per_frame_single_gaussian": float(single.log_prob(val).mean()),
        "test_loglik_per_frame": float(result.gmm.log_prob(test).mean()),
        "test_loglik_per_frame_single_gaussian": float(single.log_prob(test).mean()),
        "test_mean_gap_min_vs_exact": float(energy_gap(result.gmm, test).mean()),
        "source": "EM fit by humanlib.priors.gmm on the open corpus train split (not SMPLify's GMM)",
        "corpus_manifest_sha256": _corpus_manifest_digest(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    result.gmm.save(out, meta)
    return meta


def _run_train_gmm(args: argparse.Namespace) -> int:
    from humanlib.paths import ASSETS_DIR

    out = Path(args.out) if args.out else ASSETS_DIR / DEFAULT_GMM_ASSET
    command = "humanlib " + " ".join(sys.argv[1:]) if sys.argv[1:] else "humanlib train-gmm"
    meta = train_gmm(out, args.components, args.max_iter, tuple(args.reg_covar), args.seed, args.max_frames, command, args.tol)
    print(json.dumps(meta, indent=2))
    print(f"wrote {out}")
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register ``humanlib train-gmm``."""
    p = subparsers.add_parser(
        "train-gmm",
        help="fit SMPLify's GMM pose prior by EM on the open corpus (train split; val log-likelihood reported)",
        description="Fit a full-covariance Gaussian mixture on the 63-d body pose of the corpus train split "
        "and write its parameters (with the command, machine and val log-likelihood) to an .npz file.",
    )
    p.add_argument("--components", type=int, default=8, help="number of mixture components K (default 8)")
    p.add_argument("--max-iter", type=int, default=200, help="maximum EM iterations (default 200)")
    p.add_argument("--tol", type=float, default=1e-3, help="stop when the mean log-likelihood per frame improves by less (default 1e-3)")
    p.add_argument("--reg-covar", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2],
                   help="candidate values added to covariance diagonals (rad^2); the best on val is kept (default 1e-4 1e-3 1e-2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the k-means++ initialisation")
    p.add_argument("--max-frames", type=int, default=None, help="subsample the train split to this many frames")
    p.add_argument("--out", default=None, help=f"output .npz (default humanlib/assets/{DEFAULT_GMM_ASSET})")
    p.set_defaults(func=_run_train_gmm)


__all__ = [
    "DEFAULT_GMM_ASSET",
    "GMMFitResult",
    "GMMPosePrior",
    "GaussianMixture",
    "add_subcommand",
    "body_pose_matrix",
    "energy_gap",
    "fit_gmm",
    "load_gmm",
    "load_gmm_prior",
    "train_gmm",
]
