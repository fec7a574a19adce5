"""HuMoR's test-time optimisation (humanlib.priors.humor_fit) and the acceleration error metric."""

from __future__ import annotations

import pytest
import torch

from humanlib.body import SkeletonJoints, load_body_model
from humanlib.data import load_corpus
from humanlib.experiments.motion_fit import MotionFitConfig, fit_motion
from humanlib.experiments.protocol import acceleration_error
from humanlib.priors import humor_fit as hf
from humanlib.priors import humor_state as hs
from humanlib.priors import humor_train as ht
from humanlib.priors.registry import load_prior

FRAMES = 30
NOISE = 0.04  # HuMoR's own protocol: 4 cm joint noise


@pytest.fixture(scope="module")
def noisy_fit():
    """A 30-frame test clip (30 fps) with 4 cm joint noise, started from the GMM-prior fit, and its TTO."""
    torch.manual_seed(0)
    body = load_body_model()
    jm = SkeletonJoints(body)
    model, _ = ht.load_humor(None, jm)
    p, t = load_corpus("test").clip(0)
    p, t = p[None, :FRAMES], t[None, :FRAMES]
    true = hs.joint_positions(p, t, jm)
    noisy = true + NOISE * torch.randn(true.shape, generator=torch.Generator().manual_seed(0))
    obs = torch.cat([noisy, torch.zeros(1, FRAMES, 2, 3)], 2)  # SMPL's 24 joints, the hands missing
    mask = torch.cat([torch.ones(1, FRAMES, 22), torch.zeros(1, FRAMES, 2)], 2)
    init = fit_motion(body, load_prior("gmm"), obs, mask, torch.zeros(1, FRAMES, 21, 3),
                      MotionFitConfig(optimize_betas=False, prior_weight=100.0))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small operations: on a loaded 2-core machine 2 threads ran 15x slower
    try:
        result = hf.fit_humor(model, obs, mask, init.poses, init.transl)
    finally:
        torch.set_num_threads(threads)
    return true, noisy, result


def _error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm(dim=-1).mean())


def test_tto_lowers_the_joint_error_of_noisy_joints(noisy_fit):
    true, noisy, result = noisy_fit
    assert result.joints.shape == true.shape and result.poses.shape == (1, FRAMES, 24, 3)
    assert bool(torch.isfinite(result.joints).all())
    assert _error(result.joints, true) < _error(noisy, true)
    # the fitted poses reproduce the fitted joints (the rollout is a body motion)
    again = hs.joint_positions(result.poses, result.transl, SkeletonJoints(load_body_model()))
    assert _error(again, result.joints) < 1e-3


def test_tto_lowers_its_energy(noisy_fit):
    _, _, result = noisy_fit
    assert result.energy < result.energy_start
    assert set(result.terms) == {"data", "prior", "contact", "floor", "continuity", "total"}
    assert result.terms["total"] == pytest.approx(result.energy)


def test_segments_cover_the_window_and_overlap():
    for frames, seg in ((30, 5), (31, 5), (7, 10), (12, 2)):
        starts = hf.segment_starts(frames, seg)
        length = min(seg, frames)
        assert starts[0] == 0 and starts[-1] + length == frames
        assert all(b <= a + length - 1 for a, b in zip(starts, starts[1:]))  # each shares >= 1 frame with the next


def test_acceleration_error_against_a_naive_loop():
    g = torch.Generator().manual_seed(0)
    pred, true = torch.randn(2, 7, 5, 3, generator=g), torch.randn(2, 7, 5, 3, generator=g)
    fps = 30.0
    want = torch.zeros(2)
    for b in range(2):
        total = 0.0
        for t in range(1, 6):
            for j in range(5):
                a_p = (pred[b, t + 1, j] - 2 * pred[b, t, j] + pred[b, t - 1, j]) * fps * fps
                a_t = (true[b, t + 1, j] - 2 * true[b, t, j] + true[b, t - 1, j]) * fps * fps
                total += float((a_p - a_t).norm())
        want[b] = total / (5 * 5)
    torch.testing.assert_close(acceleration_error(pred, true, fps), want)
    # a constant or linear-in-time error has no acceleration
    drift = true + torch.arange(7.0)[:, None, None] * torch.tensor([0.1, 0.0, -0.2])
    assert float(acceleration_error(drift, true, fps).abs().max()) < 1e-2
