r"""The Gaussian mixture itself: parameters, exact and min energies, sampling, and the gap between the two energies.

:mod:`humanlib.priors.gmm` re-exports every name here and documents :class:`~humanlib.priors.gmm.GaussianMixture`.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from humanlib._validate import (
    check_file,
    check_generator,
    check_output_file,
    check_positive,
    check_same_device,
    check_tensor,
)
from humanlib.priors import _require_tensor


#: File name of the committed GMM fitted on the open corpus (our own fit, not SMPLify's file).
DEFAULT_GMM_ASSET = "priors/gmm_open_8.npz"


def _check_points(x: torch.Tensor, dim: int, name: str = "x", reference: torch.Tensor | None = None) -> None:
    """``x`` must be a floating ``(N, dim)`` tensor on ``reference``'s device, without NaN / inf."""
    _require_tensor(x, name, f"(N, {dim})")
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (N, {dim}); got {tuple(x.shape)}")
    check_tensor(x, name, finite=False)
    if reference is not None:
        check_same_device(reference, "the GMM", **{name: x})  # before the finiteness check (meta tensors)
    check_tensor(x, name, (None, dim))


def _as_parameter(value: object, name: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.number):
            raise ValueError(f"{name} must be numeric; got a numpy array of dtype {value.dtype}")
        return torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        tip = " (convert it with torch.as_tensor)" if isinstance(value, (list, tuple)) else ""
        raise TypeError(f"{name} must be a torch.Tensor or numpy array; got {type(value).__name__}{tip}")
    return value


def _check_float_dtype(dtype: object) -> None:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point torch dtype (torch.float32 or torch.float64); got {dtype!r}")


def _check_gmm(gmm: object, name: str = "gmm") -> None:
    if not isinstance(gmm, GaussianMixture):
        raise TypeError(f"{name} must be a humanlib.priors.gmm.GaussianMixture (see load_gmm); got {type(gmm).__name__}")


class GaussianMixture(nn.Module):
    """A full-covariance Gaussian mixture with fixed parameters (buffers).

    Args:
        weights: ``(K,)`` mixture weights ``g_j`` (positive, summing to one).
        means: ``(K, D)`` means ``mu_j``.
        covariances: ``(K, D, D)`` symmetric positive-definite covariances ``Sigma_j``.

    Tensors or numpy arrays are accepted (numbers, on one device).

    Raises:
        TypeError: an argument is not a tensor or array.
        ValueError: wrong shapes, non-finite values, weights that are not positive or do not
            sum to 1, or a covariance that is not symmetric positive definite (the message names
            the components).
    """

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor) -> None:
        super().__init__()
        weights = _as_parameter(weights, "weights")
        means = _as_parameter(means, "means")
        covariances = _as_parameter(covariances, "covariances")
        if means.ndim != 2 or 0 in means.shape:
            raise ValueError(f"means must have shape (K, D) with K, D >= 1; got {tuple(means.shape)}")
        k, d = means.shape
        if weights.shape != (k,):
            raise ValueError(f"weights must have shape ({k},) to match means {tuple(means.shape)}; got {tuple(weights.shape)}")
        if covariances.shape != (k, d, d):
            raise ValueError(f"covariances must have shape ({k}, {d}, {d}) to match means {tuple(means.shape)}; "
                             f"got {tuple(covariances.shape)}")
        check_same_device(means, "means", weights=weights, covariances=covariances)
        if means.device.type == "meta":
            raise ValueError("the mixture's parameters are on the meta device and hold no values; build it from real tensors")
        for name, value in (("weights", weights), ("means", means), ("covariances", covariances)):
            check_tensor(value, name, floating=False)
        if (weights <= 0).any() or not math.isclose(float(weights.sum()), 1.0, rel_tol=1e-4):
            shown = f"{[round(w, 6) for w in weights.tolist()]} " if k <= 8 else ""
            raise ValueError(f"weights must be positive and sum to 1; got {shown}(sum {float(weights.sum()):.6f}); "
                             "divide them by their sum")
        cov64 = covariances.double()
        asym = (cov64 - cov64.transpose(-1, -2)).abs().amax(dim=(-1, -2))
        scale = cov64.abs().amax(dim=(-1, -2)).clamp(min=1e-300)
        bad = torch.nonzero(asym > 1e-6 * scale).flatten().tolist()
        if bad:
            # Cholesky reads the lower triangle only: a non-symmetric matrix would be used silently.
            raise ValueError(f"covariances of components {bad} are not symmetric (largest |S - S^T| "
                             f"{float(asym.max()):.3g}); symmetrise them with 0.5 * (S + S^T)")
        # Cholesky in float64 however the mixture is stored: it fails loudly on a covariance
        # that is not positive definite instead of returning NaN.
        chol, info = torch.linalg.cholesky_ex(cov64)
        bad = torch.nonzero(info).flatten().tolist()
        if bad:
            raise ValueError(f"covariances of components {bad} are not positive definite (Cholesky failed); "
                             "add a small multiple of the identity (reg_covar) to them")
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

    def _check(self, x: torch.Tensor) -> None:
        _check_points(x, self.dim, reference=self.means)

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
        """Our constant ``log c = min_j a_j``, the one that makes :meth:`energy_min` non-negative.

        (Not SMPLify's: its code uses ``0.5 min_k log det Sigma_k``; see the module docstring.)
        """
        return self.component_constants.min()

    def mahalanobis_sq(self, x: torch.Tensor) -> torch.Tensor:
        """Squared Mahalanobis distance of each point to each component.

        Args:
            x: ``(N, D)`` points.

        Returns:
            ``(N, K)`` values ``(x - mu_j)^T Sigma_j^{-1} (x - mu_j)``.

        Raises:
            ValueError: ``x`` is not a finite floating ``(N, D)`` tensor on the mixture's device
                (``TypeError`` for an argument of the wrong type).
        """
        self._check(x)
        return self._mahalanobis_sq(x)

    def _mahalanobis_sq(self, x: torch.Tensor) -> torch.Tensor:
        # ||L_j^{-1} (x - mu_j)||^2 = (x - mu_j)^T Sigma_j^{-1} (x - mu_j).
        means, linv = self.means.to(x.dtype), self.cholesky_inv.to(x.dtype)
        return torch.stack([((x - means[j]) @ linv[j].T).square().sum(-1) for j in range(self.num_components)], dim=-1)

    def component_energies(self, x: torch.Tensor) -> torch.Tensor:
        """``e_j(x) = -log(g_j N(x; mu_j, Sigma_j))`` for every component.

        Args:
            x: ``(N, D)`` points.

        Returns:
            ``(N, K)`` energies.

        Raises:
            ValueError: as :meth:`mahalanobis_sq` (``TypeError`` for an argument of the wrong type).
        """
        self._check(x)
        return self._component_energies(x)

    def _component_energies(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * self._mahalanobis_sq(x) + self.component_constants.to(x.dtype)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log density ``log p(x)`` of the mixture, ``(N,)``, by a stable log-sum-exp.

        Raises:
            ValueError: as :meth:`mahalanobis_sq` (``TypeError`` for an argument of the wrong type).
        """
        return torch.logsumexp(-self.component_energies(x), dim=-1)

    def energy_exact(self, x: torch.Tensor) -> torch.Tensor:
        """Exact energy ``-log sum_j g_j N(x; mu_j, Sigma_j)``, ``(N,)``.

        Raises:
            ValueError: as :meth:`mahalanobis_sq` (``TypeError`` for an argument of the wrong type).
        """
        return -self.log_prob(x)

    def _energy_exact(self, x: torch.Tensor) -> torch.Tensor:
        return -torch.logsumexp(-self._component_energies(x), dim=-1)

    def energy_min(self, x: torch.Tensor) -> torch.Tensor:
        """SMPLify's max-mixture energy ``min_j -log(c g_j N(x; mu_j, Sigma_j))`` with our ``log c = min_j a_j``, ``(N,)``.

        Non-negative; equals :meth:`energy_exact` ``- log c`` up to at most ``log K``.

        Raises:
            ValueError: as :meth:`mahalanobis_sq` (``TypeError`` for an argument of the wrong type).
        """
        self._check(x)
        return self._energy_min(x)

    def _energy_min(self, x: torch.Tensor) -> torch.Tensor:
        return self._component_energies(x).min(dim=-1).values - self.log_c.to(x.dtype)

    def min_residuals(self, x: torch.Tensor) -> torch.Tensor:
        """The residual vector whose squared norm is :meth:`energy_min` (SMPLify's form for its solver).

        For the winning component ``j`` of each point: ``r = [L_j^{-1}(x - mu_j) / sqrt(2),
        sqrt(a_j - a_min)]``, so that ``||r||^2 = E_min(x)``.

        Args:
            x: ``(N, D)`` points.

        Returns:
            ``(N, D + 1)`` residuals.

        Raises:
            ValueError: as :meth:`mahalanobis_sq` (``TypeError`` for an argument of the wrong type).
        """
        j = self.component_energies(x).argmin(-1)
        white = ((x - self.means.to(x.dtype)[j]).unsqueeze(-2) @ self.cholesky_inv.to(x.dtype)[j].transpose(-1, -2)).squeeze(-2)
        const = (self.component_constants.to(x.dtype)[j] - self.log_c.to(x.dtype)).clamp(min=0).sqrt()
        return torch.cat([white / math.sqrt(2.0), const[:, None]], dim=-1)

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior probability of each component, ``(N, K)`` (rows sum to one).

        Raises:
            ValueError: as :meth:`mahalanobis_sq` (``TypeError`` for an argument of the wrong type).
        """
        return torch.softmax(-self.component_energies(x), dim=-1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` points ``(n, D)``: a component by its weight, then ``mu_j + L_j eps``.

        ``n = 0`` gives an empty ``(0, D)`` tensor. ``generator`` must be a CPU generator
        (sampling runs on the CPU in float64; the result moves to the mixture's device).

        Raises:
            ValueError: ``n`` not an integer >= 0, or ``generator`` not a CPU ``torch.Generator``
                (``TypeError`` for an argument of the wrong type).
        """
        check_positive(n, "n", integer=True, allow_zero=True)
        check_generator(generator, device="cpu", why="sampling runs on the CPU")
        if n == 0:
            return self.means.new_zeros(0, self.dim)
        comp = torch.multinomial(self.weights.double().cpu(), n, replacement=True, generator=generator)
        eps = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        chol = self.cholesky.double().cpu()[comp]
        out = self.means.double().cpu()[comp] + (chol @ eps.unsqueeze(-1)).squeeze(-1)
        return out.to(device=self.means.device, dtype=self.means.dtype)

    def save(self, path: str | Path, metadata: dict | None = None) -> None:
        """Write the parameters (and a JSON metadata string) to an ``.npz`` file.

        The file is written at exactly ``path`` (numpy would append ``.npz`` to a name without it).

        Raises:
            TypeError: ``path`` is not a path, or ``metadata`` is not a JSON-serialisable dict.
            FileNotFoundError: ``path``'s folder does not exist.
            IsADirectoryError: ``path`` is a folder.
        """
        path = check_output_file(path, "path", "the GMM", example="gmm.npz")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict of JSON values; got {type(metadata).__name__}")
        try:
            meta_json = json.dumps(metadata or {}, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"metadata must hold JSON values only (str, numbers, lists, dicts): {exc}") from exc
        with open(path, "wb") as f:
            np.savez(
                f,
                weights=self.weights.double().cpu().numpy(),
                means=self.means.double().cpu().numpy(),
                covariances=self.covariances.double().cpu().numpy(),
                metadata=np.array(meta_json),
            )

    @classmethod
    def load(cls, path: str | Path, dtype: torch.dtype = torch.float32) -> "GaussianMixture":
        """Read a mixture written by :meth:`save`.

        Raises:
            FileNotFoundError: no file at ``path`` (or a folder).
            ValueError: a corrupt / truncated file, or an ``.npz`` that is not a valid humanlib GMM
                (missing arrays, wrong shapes, invalid parameters); the message names the file.
        """
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
        _check_float_dtype(dtype)
        refit = f"fit one with `humanlib train-gmm --out {path}`"
        path = check_file(path, "GMM file", refit)
        if not zipfile.is_zipfile(path):  # garbage, a truncated download, a single .npy, a text file...
            raise ValueError(f"{path} is not a readable GMM .npz: not an .npz (zip) archive (corrupt, truncated "
                             f"or another kind of file); {refit}")
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = {"weights", "means", "covariances"} - set(data.files)
                if missing:
                    raise ValueError(f"{path} is not a humanlib GMM file: missing arrays {sorted(missing)} "
                                     f"(found {sorted(data.files)[:6]}); {refit}")
                arrays = {k: data[k] for k in ("weights", "means", "covariances")}
                meta_text = str(data["metadata"]) if "metadata" in data.files else "{}"
        except ValueError as exc:
            if str(path) in str(exc):
                raise
            if "allow_pickle" in str(exc):
                raise ValueError(f"{path} holds object (pickled) arrays, which humanlib never loads: not a GMM "
                                 f"written by GaussianMixture.save; {refit}") from exc
            raise ValueError(f"{path} is not a readable GMM .npz (corrupt or truncated?): {exc}; {refit}") from exc
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path} is not a readable GMM .npz (corrupt or truncated?): {exc}; {refit}") from exc
        if not all(np.issubdtype(a.dtype, np.number) for a in arrays.values()):
            raise ValueError(f"{path}: the GMM arrays must be numeric; got dtypes "
                             f"{ {k: str(a.dtype) for k, a in arrays.items()} }")
        try:
            gmm = cls(
                torch.from_numpy(arrays["weights"]).to(dtype),
                torch.from_numpy(arrays["means"]).to(dtype),
                torch.from_numpy(arrays["covariances"]).to(torch.float64),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path} does not hold a valid GMM: {exc}") from exc
        try:
            gmm.metadata = json.loads(meta_text)
        except ValueError as exc:
            raise ValueError(f"{path}: the metadata entry is not valid JSON ({exc})") from exc
        return gmm


def energy_gap(gmm: GaussianMixture, x: torch.Tensor) -> torch.Tensor:
    """``(E_min + log c) - E_exact`` per point, ``(N,)``; always in ``[0, log K]``.

    Raises:
        ValueError: ``gmm`` is not a :class:`GaussianMixture`, or ``x`` is not a
            finite floating ``(N, D)`` tensor on its device (``TypeError`` for an argument of the wrong type).
    """
    _check_gmm(gmm)
    return gmm.energy_min(x) + gmm.log_c.to(x.dtype) - gmm.energy_exact(x)
