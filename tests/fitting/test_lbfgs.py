"""One L-BFGS per frame (humanlib.fitting.lbfgs): minimisers, independence from the batch, stopping, bad inputs."""

from __future__ import annotations

import pytest
import torch

from humanlib.fitting.lbfgs import lbfgs_per_frame


def _quadratics(b: int, d: int, seed: int = 0):
    """Per-frame convex quadratics ``0.5 x^T A_i x - b_i^T x`` of very different conditioning."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(b, d, d, generator=g, dtype=torch.float64))
    scales = torch.logspace(0, 3, b, dtype=torch.float64)[:, None] ** torch.linspace(0, 1, d, dtype=torch.float64)
    a = q @ torch.diag_embed(scales) @ q.transpose(1, 2)
    rhs = torch.randn(b, d, generator=g, dtype=torch.float64)

    def energy(x, idx):
        return 0.5 * torch.einsum("bi,bij,bj->b", x, a[idx], x) - (rhs[idx] * x).sum(-1)

    return energy, torch.linalg.solve(a, rhs)


def _rosenbrock(b: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    shift = 0.5 + torch.rand(b, generator=g, dtype=torch.float64)

    def energy(x, idx):
        s = shift[idx][:, None]
        return ((s - x[:, :-1]) ** 2).sum(-1) + 100 * ((x[:, 1:] - x[:, :-1] ** 2) ** 2).sum(-1)

    return energy, torch.randn(b, 4, generator=g, dtype=torch.float64)


def test_finds_each_frames_minimiser():
    energy, solution = _quadratics(6, 5)
    res = lbfgs_per_frame(energy, torch.zeros(6, 5, dtype=torch.float64), iterations=200)
    torch.testing.assert_close(res.x, solution, atol=1e-5, rtol=1e-5)
    assert bool(res.converged.all())
    torch.testing.assert_close(res.energy, energy(res.x, torch.arange(6)))


def test_a_frames_result_does_not_depend_on_its_batch():
    energy, x0 = _rosenbrock(8)
    whole = lbfgs_per_frame(energy, x0, iterations=60)
    for i in (0, 3, 7):
        alone = lbfgs_per_frame(lambda x, idx: energy(x, idx + i), x0[i : i + 1], iterations=60)
        torch.testing.assert_close(alone.x[0], whole.x[i], atol=1e-10, rtol=0)
        assert int(alone.iterations[0]) == int(whole.iterations[i])
    mates = torch.tensor([5, 2, 6])  # other batch mates, another order
    sub = lbfgs_per_frame(lambda x, idx: energy(x, mates[idx]), x0[mates], iterations=60)
    torch.testing.assert_close(sub.x, whole.x[mates], atol=1e-10, rtol=0)


def test_frames_stop_on_their_own_and_leave_the_batch():
    energy, solution = _quadratics(4, 3)
    x0 = torch.zeros(4, 3, dtype=torch.float64)
    x0[0] = solution[0]  # already at its minimum: zero gradient, no iteration
    res = lbfgs_per_frame(energy, x0, iterations=500)
    assert int(res.iterations[0]) == 0 and bool(res.converged[0])
    assert len(set(res.iterations.tolist())) > 1  # each frame its own count
    assert res.frame_evaluations < res.evaluations * 4  # finished frames were not evaluated again


def test_iteration_cap_and_zero_iterations():
    energy, x0 = _rosenbrock(3)
    capped = lbfgs_per_frame(energy, x0, iterations=5)
    assert int(capped.iterations.max()) <= 5
    assert bool((capped.energy <= energy(x0, torch.arange(3))).all())
    none = lbfgs_per_frame(energy, x0, iterations=0)
    torch.testing.assert_close(none.x, x0)


def test_backtracks_out_of_non_finite_regions():
    """Energies that are infinite outside a box: the line search shrinks the step instead of failing."""
    target = torch.tensor([[0.9, -0.9], [0.5, 0.2]], dtype=torch.float64)

    def energy(x, idx):
        e = ((x - target[idx]) ** 2).sum(-1) * 1e3
        return torch.where(x.abs().amax(-1) < 1.0, e, torch.full_like(e, float("inf")))

    res = lbfgs_per_frame(energy, torch.zeros(2, 2, dtype=torch.float64), iterations=100)
    torch.testing.assert_close(res.x, target, atol=1e-5, rtol=0)


def test_bad_inputs():
    energy, x0 = _rosenbrock(2)
    with pytest.raises(TypeError, match="x0 must be a floating"):
        lbfgs_per_frame(energy, x0[0], iterations=3)
    with pytest.raises(TypeError, match="x0 must be a floating"):
        lbfgs_per_frame(energy, x0.long(), iterations=3)
    with pytest.raises(ValueError, match="iterations"):
        lbfgs_per_frame(energy, x0, iterations=-1)
    with pytest.raises(ValueError, match="history"):
        lbfgs_per_frame(energy, x0, iterations=3, history=0)
    with pytest.raises(ValueError, match="c1"):
        lbfgs_per_frame(energy, x0, iterations=3, c1=1.5)
    with pytest.raises(ValueError, match="one value per frame"):
        lbfgs_per_frame(lambda x, idx: energy(x, idx).sum(), x0, iterations=3)
    with pytest.raises(RuntimeError, match=r"not finite at the start for frames \[1\]"):
        lbfgs_per_frame(lambda x, idx: energy(x, idx) / (idx == 0), x0, iterations=3)
