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
  ``a_j = -log g_j + 0.5 log det(2 pi Sigma_j)``, we choose the constant
  ``log c = min_k a_k``, the one that makes ``E_min = min_j (0.5 m_j + a_j - min_k a_k) >= 0``.
  (SMPLify's code uses another constant, ``0.5 min_k log det Sigma_k``; a constant changes
  neither the minimiser nor the gradients, only the energy's offset.) Each term is
  then a sum of squares, ``||L_j^{-1}(theta - mu_j)||^2 / 2 + (sqrt(a_j - a_min))^2`` with
  ``Sigma_j = L_j L_j^T``, which is what SMPLify's Gauss-Newton-type solver (dogleg) needs:
  its objective must be a sum of squared residuals, and a log of a sum is not one.

They are close: ``E_exact <= E_min + log c <= E_exact + log K`` (the largest term of a sum
of ``K`` positive numbers is at least their mean), so up to the constant ``log c`` the two
differ by at most ``log 8 = 2.08`` nats for ``K = 8``; :func:`~humanlib.priors.gmm_model.energy_gap` measures it.

The mixture is fitted by expectation-maximisation (:func:`fit_gmm`), implemented here in
float64 torch (k-means++ seeding, a few Lloyd iterations, then EM); ``reg_covar`` is added
to every covariance diagonal so that no component collapses on near-constant dimensions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.priors import (
    BODY_POSE_DIM,
    PosePrior,
    _check_initial_args,
    _require_tensor,
    check_body_pose,
)
from humanlib.provenance import corpus_manifest_sha256, machine_description
from humanlib.skeleton import BODY_JOINTS
from humanlib.priors.gmm_model import (  # re-exported: import them from here
    DEFAULT_GMM_ASSET, _check_gmm, GaussianMixture, energy_gap,
)


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
    progress: bool = False,
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
        progress: show a tqdm bar over the EM iterations (terminal and Jupyter).

    Returns:
        :class:`GMMFitResult` with the mixture and the log-likelihood history.

    Raises:
        TypeError: ``x`` is not a tensor, or a setting has the wrong type.
        ValueError: ``x`` is not a finite floating ``(N, D)`` tensor with at least 2 points per
            component and ``num_components`` distinct points; a setting is out of range; or EM
            produced a covariance that is not positive definite (raise ``reg_covar``).
    """
    _require_tensor(x, "x", "(N, D)")
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D) (N training points of dimension D); got {tuple(x.shape)}")
    if x.device.type == "meta":
        raise ValueError("x is on the meta device and holds no values; fit on real data")
    check_tensor(x, "x", (None, None), nonempty=True)
    check_positive(num_components, "num_components", integer=True)
    check_positive(max_iter, "max_iter", integer=True)
    check_positive(tol, "tol", allow_zero=True)
    check_positive(reg_covar, "reg_covar", allow_zero=True)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    if x.shape[0] < num_components * 2:
        raise ValueError(f"need num_components >= 1 and at least 2 points per component; got K={num_components}, N={x.shape[0]}")
    x = x.detach().double().cpu()
    distinct = torch.unique(x, dim=0).shape[0]
    if distinct < num_components:
        raise ValueError(f"x has only {distinct} distinct point(s) for num_components={num_components}; "
                         "use fewer components or more varied data")
    gen = torch.Generator().manual_seed(seed)
    labels = _kmeans_init(x, num_components, gen)
    resp = torch.nn.functional.one_hot(labels, num_components).double()
    history: list[float] = []
    converged = False
    from tqdm.auto import tqdm

    bar = tqdm(range(max_iter), desc=f"EM K={num_components} reg={reg_covar:g}", unit="it", disable=not progress)
    for _ in bar:
        weights, means, covs = _m_step(x, resp, reg_covar)
        try:
            gmm = GaussianMixture(weights, means, covs)
        except ValueError as exc:
            raise ValueError(f"EM failed at iteration {len(history) + 1} with reg_covar={reg_covar:g}: {exc}; "
                             "a larger reg_covar keeps every covariance positive definite") from exc
        log_joint = -gmm.component_energies(x)  # (N, K)
        log_px = torch.logsumexp(log_joint, dim=-1)
        history.append(float(log_px.mean()))
        bar.set_postfix_str(f"loglik {history[-1]:.3f}", refresh=False)
        resp = torch.exp(log_joint - log_px[:, None])  # E-step
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            converged = True
            break
    bar.close()
    return GMMFitResult(gmm=gmm, log_likelihood=history, converged=converged)


# --------------------------------------------------------------------------- the prior


class GMMPosePrior(nn.Module, PosePrior):
    """SMPLify's GMM prior on the body pose, exact or min (pose-space parametrisation).

    Args:
        gmm: a 63-d mixture on flattened body poses (``load_gmm`` gives the committed one).
        mode: ``"min"`` (SMPLify's approximation, non-negative) or ``"exact"``
            (``-log p(theta)``).

    Raises:
        TypeError: ``gmm`` is not a :class:`GaussianMixture`.
        ValueError: an unknown ``mode``, or a mixture that is not 63-dimensional.
    """

    def __init__(self, gmm: GaussianMixture, mode: str = "min") -> None:
        super().__init__()
        _check_gmm(gmm)
        if mode not in ("min", "exact"):
            raise ValueError(f"mode must be 'min' or 'exact'; got {mode!r}")
        if gmm.dim != BODY_POSE_DIM:
            raise ValueError(f"a pose GMM must be {BODY_POSE_DIM}-dimensional (21 joints x 3); got {gmm.dim}")
        self.gmm = gmm
        self.mode = mode
        self.name = f"gmm-{mode}"

    def initial_body_pose(self, batch_size: int, device: torch.device | str = "cpu",
                          dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The mixture's mean pose ``sum_j g_j mu_j`` for every frame, ``(B, 21, 3)`` (SMPLify's start).

        Raises:
            ValueError: as :meth:`humanlib.priors.PosePrior.initial_body_pose`
                (``TypeError`` for an argument of the wrong type).
        """
        _check_initial_args(batch_size, device, dtype)
        mean = (self.gmm.weights[:, None] * self.gmm.means).sum(0)
        return mean.reshape(1, -1, 3).expand(batch_size, -1, -1).to(device=device, dtype=dtype).clone()

    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Energy ``(B,)`` of body poses ``(B, 21, 3)``.

        Raises:
            ValueError: ``body_pose`` is not a finite floating ``(B, 21, 3)`` tensor on
                the prior's device (``TypeError`` for an argument of the wrong type).
        """
        check_body_pose(body_pose)
        check_same_device(self.gmm.means, "the GMM prior", body_pose=body_pose)
        check_body_pose(body_pose, finite=True)  # the one check of values (the mixture's own is skipped)
        return self._energy_unchecked(body_pose.reshape(body_pose.shape[0], BODY_POSE_DIM))

    def params_energy_unchecked(self, params: torch.Tensor) -> torch.Tensor:
        """:meth:`energy` of flattened poses ``(B, 63)``, without its checks.

        ``params`` is what :meth:`~humanlib.priors.PosePrior.init_params` returns for this prior.

        For an optimiser's inner loop, whose variables were checked once (``init_params``): the
        finiteness test of :meth:`energy` would synchronise on every evaluation. Same values.
        """
        return self._energy_unchecked(params.reshape(params.shape[0], BODY_POSE_DIM))

    def _energy_unchecked(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "min":
            return self.gmm._energy_min(x)
        return self.gmm._energy_exact(x)


def load_gmm(path: str | Path | None = None, dtype: torch.dtype = torch.float32) -> GaussianMixture:
    """The committed 8-component GMM of the open corpus, or the mixture stored at ``path``.

    With ``path=None`` and ``HUMANLIB_PRIORS_DIR`` set, the user's own ``gmm.npz`` there
    (:func:`humanlib.paths.user_prior_file`) replaces the committed one.

    Raises:
        FileNotFoundError: no file at ``path`` (as :meth:`GaussianMixture.load`).
        ValueError: a corrupt, truncated or invalid GMM file (as :meth:`GaussianMixture.load`).
    """
    if path is None:
        from humanlib.paths import asset, user_prior_file

        path = user_prior_file("gmm") or asset(DEFAULT_GMM_ASSET)
    return GaussianMixture.load(path, dtype=dtype)


def load_gmm_prior(mode: str = "min", path: str | Path | None = None) -> GMMPosePrior:
    """:class:`GMMPosePrior` on the committed GMM (or the one at ``path``).

    Raises:
        ValueError: an unknown ``mode`` (checked before the file is read), or a bad file
            (see :meth:`GaussianMixture.load`).
    """
    if mode not in ("min", "exact"):
        raise ValueError(f"mode must be 'min' or 'exact'; got {mode!r}")
    return GMMPosePrior(load_gmm(path), mode=mode)


# --------------------------------------------------------------------------- training job


def body_pose_matrix(poses: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Flatten full SMPL poses ``(N, 24, 3)`` to body-pose vectors ``(N, 63)`` (joints 1..21).

    A numpy array is accepted (converted with ``torch.as_tensor``).

    Raises:
        TypeError: ``poses`` is neither a tensor nor a numpy array.
        ValueError: a wrong shape, a non-floating dtype, or NaN / inf values.
    """
    if isinstance(poses, np.ndarray):
        if not np.issubdtype(poses.dtype, np.number):
            raise ValueError(f"poses must be numeric; got a numpy array of dtype {poses.dtype}")
        poses = torch.as_tensor(poses)
    _require_tensor(poses, "poses", "(N, 24, 3)")
    if poses.ndim != 3 or poses.shape[1:] != (24, 3):
        raise ValueError(f"poses must have shape (N, 24, 3) (full SMPL poses, axis-angle); got {tuple(poses.shape)}")
    check_tensor(poses, "poses")
    return poses[:, list(BODY_JOINTS)].reshape(poses.shape[0], BODY_POSE_DIM)


def _corpus_body_poses(split: str) -> torch.Tensor:
    from humanlib.data import load_corpus

    corpus = load_corpus(split)
    poses = corpus.poses if hasattr(corpus, "poses") else corpus["poses"]
    return body_pose_matrix(poses)


def train_gmm(
    out: Path,
    num_components: int = 8,
    max_iter: int = 200,
    reg_covars: tuple[float, ...] = (1e-4, 1e-3, 1e-2),
    seed: int = 0,
    max_frames: int | None = None,
    command: str = "",
    tol: float = 1e-3,
    progress: bool = False,
    mirror: bool = False,
) -> dict:
    """Fit the pose GMM on the corpus's train split, choose ``reg_covar`` on val, write ``out`` (npz).

    ``mirror`` adds the left-right mirrored copy of every training frame
    (``humanlib.data.retarget.mirror_body_pose``) before ``max_frames`` subsampling.

    One mixture is fitted per candidate ``reg_covar``; the one with the best validation
    log-likelihood is kept. The test split is only used to report the final held-out
    log-likelihood (of the kept mixture and of a single Gaussian with the same ``reg_covar``).

    Returns the metadata dictionary stored in the file (log-likelihoods, sizes, timing).
    ``progress`` shows a tqdm bar over each fit's EM iterations.

    Raises:
        ValueError: a setting of the wrong type or out of range (checked before the
            corpus is read), or an ``out`` that is a folder (``TypeError`` for an argument of the wrong type).
    """
    out = _check_train_gmm_args(out, num_components, max_iter, tol, reg_covars, max_frames, mirror)
    train, val, test = _gmm_splits(mirror, max_frames, seed)
    start = time.perf_counter()
    reg, result, val_ll, candidates = _choose_reg_covar(train, val, num_components, max_iter, tol, reg_covars, seed,
                                                        progress)
    seconds = time.perf_counter() - start
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
        "train_mirrored": mirror,
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
        "corpus_manifest_sha256": corpus_manifest_sha256(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    result.gmm.save(out, meta)
    return meta


def _check_train_gmm_args(out, num_components, max_iter, tol, reg_covars, max_frames, mirror) -> Path:
    """The checks of :func:`train_gmm` (before the corpus is read); ``out`` as a Path."""
    if not isinstance(out, (str, Path)):
        raise TypeError(f"out must be a str or Path (the .npz to write); got {type(out).__name__}")
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"out {out} is a folder; give the .npz file to write, e.g. {out / 'gmm.npz'}")
    check_positive(num_components, "num_components", integer=True)
    check_positive(max_iter, "max_iter", integer=True)
    check_positive(tol, "tol", allow_zero=True)
    if isinstance(reg_covars, (int, float)) or not isinstance(reg_covars, (tuple, list)) or not reg_covars:
        raise ValueError(f"reg_covars must be a non-empty tuple of numbers >= 0; got {reg_covars!r}")
    for i, reg in enumerate(reg_covars):
        check_positive(reg, f"reg_covars[{i}]", allow_zero=True)
    if max_frames is not None:
        check_positive(max_frames, "max_frames", integer=True)
        if max_frames < 2 * num_components:
            raise ValueError(f"max_frames={max_frames} leaves fewer than 2 frames per component (num_components={num_components})")
    if not isinstance(mirror, bool):
        raise TypeError(f"mirror must be a bool; got {type(mirror).__name__}")
    return out


def _gmm_splits(mirror: bool, max_frames: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The corpus's train (mirrored, then subsampled, when asked), val and test poses in float64."""
    train = _corpus_body_poses("train").double()
    if mirror:
        from humanlib.data.retarget import mirror_body_pose

        mirrored = mirror_body_pose(train.reshape(-1, train.shape[1] // 3, 3)).reshape(train.shape)
        train = torch.cat([train, mirrored])
    val = _corpus_body_poses("val").double()
    test = _corpus_body_poses("test").double()
    if max_frames is not None and len(train) > max_frames:
        idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:max_frames]
        train = train[idx.sort().values]
    return train, val, test


def _choose_reg_covar(train, val, num_components, max_iter, tol, reg_covars, seed, progress):
    """One EM fit per candidate ``reg_covar``; ``(reg, fit, val log-likelihood, candidates)`` of the best on val."""
    candidates = {}
    best = None
    for reg in reg_covars:
        result = fit_gmm(train, num_components, max_iter=max_iter, tol=tol, reg_covar=reg, seed=seed, progress=progress)
        val_ll = float(result.gmm.log_prob(val).mean())
        candidates[f"{reg:g}"] = {"val_loglik_per_frame": round(val_ll, 3), "em_iterations": len(result.log_likelihood),
                                  "train_loglik_per_frame": round(result.log_likelihood[-1], 3)}
        print(f"reg_covar={reg:g}: {candidates[f'{reg:g}']}", flush=True)
        if best is None or val_ll > best[2]:
            best = (reg, result, val_ll)
    return (*best, candidates)


__all__ = [
    "DEFAULT_GMM_ASSET",
    "GMMFitResult",
    "GMMPosePrior",
    "GaussianMixture",
    "body_pose_matrix",
    "energy_gap",
    "fit_gmm",
    "load_gmm",
    "load_gmm_prior",
    "train_gmm",
]
