"""Tests of humanlib.priors.gmm: EM, exact and min energies, sampling, files, the pose prior."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from humanlib.priors import NoPrior, PosePrior
from humanlib.priors.gmm import (
    DEFAULT_GMM_ASSET,
    GaussianMixture,
    GMMPosePrior,
    body_pose_matrix,
    energy_gap,
    fit_gmm,
    load_gmm,
)


def random_mixture(k: int, d: int, seed: int, spread: float = 4.0) -> GaussianMixture:
    g = torch.Generator().manual_seed(seed)
    means = spread * torch.randn(k, d, generator=g, dtype=torch.float64)
    a = torch.randn(k, d, d, generator=g, dtype=torch.float64)
    covs = a @ a.transpose(1, 2) / d + 0.2 * torch.eye(d, dtype=torch.float64)
    w = torch.rand(k, generator=g, dtype=torch.float64) + 0.5
    return GaussianMixture(w / w.sum(), means, covs)


def naive_component_log(gmm: GaussianMixture, x: torch.Tensor) -> np.ndarray:
    """log(g_j N(x; mu_j, Sigma_j)) with scipy, (N, K)."""
    out = np.stack(
        [
            np.log(gmm.weights[j].item())
            + multivariate_normal(gmm.means[j].numpy(), gmm.covariances[j].numpy()).logpdf(x.numpy())
            for j in range(gmm.num_components)
        ],
        axis=-1,
    )
    return out.reshape(x.shape[0], gmm.num_components)


def test_component_energies_match_scipy():
    gmm = random_mixture(3, 4, seed=0)
    x = torch.randn(50, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 3
    ref = naive_component_log(gmm, x)
    np.testing.assert_allclose(-gmm.component_energies(x).numpy(), ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gmm.log_prob(x).numpy(), np.log(np.exp(ref).sum(-1)), rtol=1e-10)


def test_energy_min_matches_naive_definition():
    gmm = random_mixture(4, 3, seed=2)
    x = torch.randn(40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 4
    ref = naive_component_log(gmm, x)
    # log c is chosen so that the best possible component constant is zero.
    a = [-math.log(gmm.weights[j].item()) + 0.5 * np.linalg.slogdet(2 * np.pi * gmm.covariances[j].numpy())[1]
         for j in range(4)]
    expected = (-ref).min(-1) - min(a)
    np.testing.assert_allclose(gmm.energy_min(x).numpy(), expected, rtol=1e-10, atol=1e-9)
    assert (gmm.energy_min(x) >= -1e-9).all()


def test_min_energy_is_a_sum_of_squares():
    gmm = random_mixture(4, 5, seed=11)
    x = 3 * torch.randn(30, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(12))
    r = gmm.min_residuals(x)
    assert r.shape == (30, 6)
    torch.testing.assert_close(r.square().sum(-1), gmm.energy_min(x))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 30.0))
def test_min_approximation_brackets_exact(seed, scale):
    """E_exact <= E_min + log c <= E_exact + log K for any point."""
    gmm = random_mixture(5, 6, seed=seed % 7)
    x = scale * torch.randn(20, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    gap = energy_gap(gmm, x)
    assert (gap >= -1e-9).all()
    assert (gap <= math.log(5) + 1e-9).all()


def test_exact_energy_is_stable_far_from_the_data():
    """Densities underflow to 0 (log -> inf) naively; the log-sum-exp stays finite."""
    gmm = random_mixture(8, 63, seed=4, spread=0.3)
    x = torch.full((2, 63), 50.0, dtype=torch.float64)
    naive = torch.exp(-gmm.component_energies(x)).sum(-1)
    assert (naive == 0).all()  # the naive sum underflows
    e = gmm.energy_exact(x)
    assert torch.isfinite(e).all() and (e > 1e3).all()
    x32 = x.float()
    gmm32 = GaussianMixture(gmm.weights.float(), gmm.means.float(), gmm.covariances)
    assert torch.isfinite(gmm32.energy_exact(x32)).all() and torch.isfinite(gmm32.energy_min(x32)).all()


def test_em_increases_likelihood_and_recovers_known_mixture():
    true = random_mixture(3, 4, seed=5, spread=6.0)
    x = true.sample(6000, generator=torch.Generator().manual_seed(6))
    fit = fit_gmm(x, 3, max_iter=100, seed=0)
    ll = np.array(fit.log_likelihood)
    assert len(ll) >= 2 and (np.diff(ll) >= -1e-8).all()
    order = [int(torch.cdist(true.means[j : j + 1], fit.gmm.means).argmin()) for j in range(3)]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(fit.gmm.weights[order].numpy(), true.weights.numpy(), atol=0.03)
    np.testing.assert_allclose(fit.gmm.means[order].numpy(), true.means.numpy(), atol=0.15)
    np.testing.assert_allclose(fit.gmm.covariances[order].numpy(), true.covariances.numpy(), atol=0.25)
    # The fitted mixture explains its data at least as well as the true one (ML).
    assert fit.log_likelihood[-1] >= float(true.log_prob(x).mean()) - 1e-6


def test_sampling_matches_mixture_moments():
    gmm = random_mixture(2, 3, seed=7)
    x = gmm.sample(40_000, generator=torch.Generator().manual_seed(8))
    mean = (gmm.weights[:, None] * gmm.means).sum(0)
    np.testing.assert_allclose(x.mean(0).numpy(), mean.numpy(), atol=0.08)
    d = gmm.means - mean
    cov = (gmm.weights[:, None, None] * (gmm.covariances + d[:, :, None] * d[:, None, :])).sum(0)
    np.testing.assert_allclose(np.cov(x.numpy().T), cov.numpy(), atol=0.25)


def test_save_load_round_trip(tmp_path):
    gmm = random_mixture(3, 63, seed=9, spread=0.5)
    gmm.save(tmp_path / "g.npz", {"command": "test"})
    back = GaussianMixture.load(tmp_path / "g.npz", dtype=torch.float64)
    x = torch.randn(5, 63, dtype=torch.float64)
    torch.testing.assert_close(back.energy_exact(x), gmm.energy_exact(x))
    assert back.metadata == {"command": "test"}


def test_bad_inputs():
    gmm = random_mixture(2, 3, seed=0)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        gmm.log_prob(torch.zeros(4, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="NaN"):
        gmm.log_prob(torch.full((1, 3), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="sum to 1"):
        GaussianMixture(torch.tensor([0.5, 0.6]), gmm.means, gmm.covariances)
    with pytest.raises(ValueError, match="63"):
        GMMPosePrior(gmm)
    with pytest.raises(ValueError, match="mode"):
        GMMPosePrior(random_mixture(2, 63, 0), mode="max")
    with pytest.raises(ValueError, match="at least 2 points"):
        fit_gmm(torch.zeros(3, 2), 2)
    with pytest.raises(FileNotFoundError, match="train-gmm"):
        GaussianMixture.load("/nonexistent/gmm.npz")
    with pytest.raises(ValueError, match=r"\(N, 24, 3\)"):
        body_pose_matrix(torch.zeros(4, 21, 3))


@pytest.mark.parametrize("mode", ["min", "exact"])
def test_pose_prior_energy_and_gradients(mode):
    prior = GMMPosePrior(random_mixture(3, 63, seed=10, spread=0.3), mode=mode)
    assert isinstance(prior, PosePrior) and prior.name == f"gmm-{mode}"
    pose = 0.2 * torch.randn(4, 21, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    e = prior.energy(pose)
    assert e.shape == (4,)
    # The default parametrisation is the pose itself.
    params = prior.init_params(pose)
    assert params.shape == (4, 63)
    torch.testing.assert_close(prior.params_energy(params), e)
    # The fit's inner loop skips the checks, not the arithmetic: the same values and gradients, bit for bit.
    p1, p2 = params.clone().requires_grad_(True), params.clone().requires_grad_(True)
    fast, checked = prior.params_energy_unchecked(p1), prior.params_energy(p2)
    assert torch.equal(fast, checked)
    assert torch.equal(*(torch.autograd.grad(v.sum(), q)[0] for v, q in ((fast, p1), (checked, p2))))
    x = pose[:2].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: prior.energy(p), (x,))
    zero = torch.zeros(1, 21, 3, dtype=torch.float64, requires_grad=True)
    prior.energy(zero).sum().backward()
    assert torch.isfinite(zero.grad).all()
    with pytest.raises(ValueError, match=r"\(B, 21, 3\)"):
        prior.energy(torch.zeros(4, 63, dtype=torch.float64))


def test_no_prior_is_zero_and_connected():
    x = torch.randn(3, 21, 3, requires_grad=True)
    e = NoPrior().energy(x)
    assert e.shape == (3,) and (e == 0).all()
    e.sum().backward()
    assert (x.grad == 0).all()


def test_committed_gmm_asset():
    try:
        gmm = load_gmm()
    except FileNotFoundError:
        pytest.skip(f"the committed GMM humanlib/assets/{DEFAULT_GMM_ASSET} is not built yet")
    assert gmm.num_components == 8 and gmm.dim == 63
    assert {"command", "machine", "val_loglik_per_frame", "train_frames"} <= set(gmm.metadata)
    # Its own samples are more likely under it than a standard normal's draws.
    x = gmm.sample(200, generator=torch.Generator().manual_seed(0)).double()
    noise = torch.randn(200, 63, dtype=torch.float64)
    assert gmm.log_prob(x).mean() > gmm.log_prob(noise).mean()


def test_gmm_prior_starts_at_its_mean_pose():
    gmm = random_mixture(3, 63, seed=13, spread=0.3)
    prior = GMMPosePrior(gmm)
    start = prior.initial_body_pose(2, dtype=torch.float64)
    assert start.shape == (2, 21, 3)
    torch.testing.assert_close(start[1].reshape(63), (gmm.weights[:, None] * gmm.means).sum(0))
    assert (NoPrior().initial_body_pose(2) == 0).all()
