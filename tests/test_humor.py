"""HuMoR (humanlib.priors.humor_*): state, contacts, the transition model, training, checkpoints, rollouts."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from humanlib.body import SkeletonJoints, load_body_model
from humanlib.data import load_corpus
from humanlib.data.corpus import MotionCorpus
from humanlib.priors import humor_model as hm
from humanlib.priors import humor_state as hs
from humanlib.priors import humor_train as ht
from humanlib.priors.humor_data import motion_windows
from humanlib.priors.humor_eval import RolloutEvalConfig, evaluate_humor, rollout_metrics
from humanlib.skeleton import JOINT_INDEX

SMALL = hm.HumorConfig(latent_dim=4, hidden=16, layers=1)


@pytest.fixture(scope="module")
def joints_model():
    return SkeletonJoints(load_body_model())


@pytest.fixture(scope="module")
def test_split():
    return load_corpus("test")


def small_corpus(corpus: MotionCorpus, split: str, clips: range) -> MotionCorpus:
    """A few test clips posing as a 30 fps train/val split (tests only: the real ones are rebuilt)."""
    infos, poses, transl, start = [], [], [], 0
    for i in clips:
        p, t = corpus.clip(i)
        infos.append(dataclasses.replace(corpus.clips[i], start=start))
        poses.append(p)
        transl.append(t)
        start += len(p)
    lengths = torch.tensor([c.num_frames for c in infos])
    return MotionCorpus(split, torch.cat(poses), torch.cat(transl), torch.repeat_interleave(torch.arange(len(infos)), lengths),
                        infos, 30.0, "test clips")


@pytest.fixture(scope="module")
def clip_states(test_split, joints_model):
    p, t = test_split.clip(5)
    return hs.motion_to_state(p, t, joints_model, 30.0)


def _model(joints_model, states=None, config=SMALL):
    torch.manual_seed(0)
    m = hm.HumorModel(config, joints_model)
    if states is not None:
        m.set_normalization(states[:-1], states[1:])
    return m


def test_state_layout_and_shapes(clip_states, test_split, joints_model):
    assert hs.STATE_DIM == 273
    assert clip_states.shape == (test_split.clips[5].num_frames, hs.STATE_DIM)
    poses, transl = test_split.clip(5)
    batched = hs.motion_to_state(torch.stack([poses[:20], poses[20:40]]), torch.stack([transl[:20], transl[20:40]]),
                                 joints_model, 30.0)
    assert batched.shape == (2, 20, hs.STATE_DIM)
    torch.testing.assert_close(batched[0, 1:], clip_states[1:20], atol=1e-5, rtol=0)


def test_state_to_motion_round_trip(clip_states, test_split):
    poses, transl = hs.state_to_motion(clip_states)
    p0, t0 = test_split.clip(5)
    torch.testing.assert_close(transl, t0)
    from humanlib.rotations import axis_angle_to_rotmat

    torch.testing.assert_close(axis_angle_to_rotmat(poses[:, :22]), axis_angle_to_rotmat(p0[:, :22]), atol=1e-5, rtol=0)


def test_velocities_are_backward_differences(clip_states):
    S = hs.STATE_SLICES
    torch.testing.assert_close(clip_states[1:, S["joints_vel"]],
                               (clip_states[1:, S["joints"]] - clip_states[:-1, S["joints"]]) * 30.0, atol=1e-4, rtol=0)


def test_contacts_on_a_synthetic_walking_clip():
    """The planted foot is in contact, the swinging one not, raised joints never."""
    T = 30
    J = torch.ones(T, hs.NUM_STATE_JOINTS, 3)
    x = torch.arange(T, dtype=torch.float32) / 30.0  # 1 m/s
    for name in ("left_ankle", "left_foot"):
        J[:, JOINT_INDEX[name]] = torch.tensor([0.1, 0.05, 0.2])
    for name in ("right_ankle", "right_foot"):
        J[:, JOINT_INDEX[name], 0], J[:, JOINT_INDEX[name], 1], J[:, JOINT_INDEX[name], 2] = -0.1, 0.05, x
    c = hs.contact_labels(J, 30.0)
    names = hs.CONTACT_JOINTS
    assert c.shape == (T, len(names))
    for i, name in enumerate(names):
        expected = 1.0 if name in ("left_ankle", "left_foot") else 0.0
        assert bool((c[:, i] == expected).all()), name
    # the same clip lifted 50 cm: no contact anywhere
    assert float(hs.contact_labels(J + torch.tensor([0.0, 0.5, 0.0]), 30.0).sum()) == 0.0


def test_contacts_of_real_walks_alternate(test_split, joints_model):
    i = next(k for k, c in enumerate(test_split.clips) if "walk" in c.name and c.num_frames > 60)
    p, t = test_split.clip(i)
    J = hs.joint_positions(p, t, joints_model)
    c = hs.contact_labels(J - torch.tensor([0.0, float(J[:, list(hs.FOOT_JOINTS), 1].min()) - 0.043, 0.0]), 30.0)
    feet = [hs.CONTACT_JOINTS.index(n) for n in ("left_foot", "right_foot")]
    rate = c[:, feet].mean(0)
    assert bool((rate > 0.1).all()) and bool((rate < 0.95).all())


def test_heading_frame_round_trip_and_canonical_heading(clip_states):
    prev, cur = clip_states[:-1], clip_states[1:]
    local = hm.to_heading_frame(prev, cur)
    torch.testing.assert_close(hm.from_heading_frame(prev, local), cur, atol=1e-5, rtol=0)
    self_local = hm.to_heading_frame(prev, prev)
    t = self_local[:, hs.STATE_SLICES["trans"]]
    assert float(t[:, [0, 2]].abs().max()) < 1e-5  # the root above the origin
    R = hs._rotmat_from_6d(self_local[:, hs.STATE_SLICES["root_orient"]])
    assert float(R[:, 0, 2].abs().max()) < 1e-5  # forward axis has no x component: faces +z


def test_transition_shapes_and_clamped_logvars(clip_states, joints_model):
    m = _model(joints_model, clip_states)
    out = m(clip_states[:-1], clip_states[1:], torch.Generator().manual_seed(0))
    B = clip_states.shape[0] - 1
    assert out.delta.shape == out.target.shape == (B, hs.STATE_DIM)
    assert out.contact_logits.shape == (B, hm.NUM_CONTACTS)
    assert out.q_mu.shape == out.p_logvar.shape == (B, SMALL.latent_dim)
    with torch.no_grad():
        m.prior[-1].bias.fill_(1e3)  # a prior head gone wild
    mu, logvar = m.prior_params(clip_states[:3])
    assert float(logvar.detach().max()) == hm.LOGVAR_LIMIT
    assert bool(torch.isfinite(hm.gaussian_kl(mu, logvar, torch.zeros_like(mu), torch.zeros_like(mu))).all())


def test_gaussian_kl_against_torch_distributions():
    g = torch.Generator().manual_seed(0)
    a, b, c, d = (torch.randn(5, 3, generator=g) for _ in range(4))
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(a, (0.5 * b).exp()),
                                            torch.distributions.Normal(c, (0.5 * d).exp())).sum(-1)
    torch.testing.assert_close(hm.gaussian_kl(a, b, c, d), ref)
    assert float(hm.gaussian_kl(a, b, a, b).abs().max()) < 1e-6


def test_learned_prior_fits_the_posterior_better_than_a_standard_normal(clip_states, joints_model):
    """Training p(z | x_{t-1}) on the KL alone brings it below KL(q || N(0, I)) for the same posterior."""
    m = _model(joints_model, clip_states)
    prev, cur = clip_states[:-1], clip_states[1:]
    opt = torch.optim.Adam(m.prior.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)

    def kls():
        out = m(prev, cur, g)
        zero = torch.zeros_like(out.q_mu)
        return (hm.gaussian_kl(out.q_mu, out.q_logvar, out.p_mu, out.p_logvar).mean(),
                hm.gaussian_kl(out.q_mu.detach(), out.q_logvar.detach(), zero, zero).mean())

    for _ in range(100):
        learned, _ = kls()
        opt.zero_grad()
        learned.backward()
        opt.step()
    learned, standard = kls()
    assert float(learned.detach()) < 0.5 * float(standard)


def test_trained_checkpoint_prior_beats_standard_normal(test_split, joints_model):
    """The committed checkpoint: on test windows, KL to the learned prior is below KL to N(0, I)."""
    m, _ = ht.load_humor(None, joints_model)
    s, _ = ht.window_states(*motion_windows(small_corpus(test_split, "test", range(0, 20)), 6, 6), joints_model)
    prev, cur = s[:, :-1].reshape(-1, hs.STATE_DIM), s[:, 1:].reshape(-1, hs.STATE_DIM)
    with torch.no_grad():
        out = m(prev, cur, torch.Generator().manual_seed(0))
        zero = torch.zeros_like(out.q_mu)
        learned = hm.gaussian_kl(out.q_mu, out.q_logvar, out.p_mu, out.p_logvar).mean()
        standard = hm.gaussian_kl(out.q_mu, out.q_logvar, zero, zero).mean()
    assert float(learned) < float(standard)


def test_a_training_step_reduces_the_loss(clip_states, test_split, joints_model):
    m = _model(joints_model, clip_states)
    s, c = ht.window_states(*motion_windows(small_corpus(test_split, "train", range(0, 4)), 6, 3), joints_model)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        parts = ht.window_loss(m, s, c, beta=0.1, p_own=0.0, generator=torch.Generator().manual_seed(0))
        opt.zero_grad()
        parts["loss"].backward()
        opt.step()
        losses.append(float(parts["loss"]))
    assert losses[-1] < losses[0]
    own = ht.window_loss(m, s, c, beta=1.0, p_own=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(own["loss"])


def test_schedules():
    cfg = ht.HumorTrainConfig(kl_anneal_steps=100, kl_weight=0.5, sample_start=10, sample_end=20)
    assert ht.kl_beta(0, cfg) == 0 and ht.kl_beta(50, cfg) == 0.25 and ht.kl_beta(500, cfg) == 0.5
    assert ht.sampling_probability(5, cfg) == 0 and ht.sampling_probability(15, cfg) == 0.5
    assert ht.sampling_probability(99, cfg) == 1


def test_resume_equals_uninterrupted(test_split, joints_model, tmp_path):
    train, val = small_corpus(test_split, "train", range(0, 6)), small_corpus(test_split, "val", range(6, 8))
    cfg = ht.HumorTrainConfig(model=SMALL, window=4, batch_size=4, steps=8, val_every=2, kl_anneal_steps=4,
                              sample_start=2, sample_end=6, num_val=4)
    full = ht.train_humor(train, val, cfg, tmp_path / "full", joints_model=joints_model)
    ht.train_humor(train, val, cfg, tmp_path / "cut", stop_at=3, joints_model=joints_model)
    assert not (tmp_path / "cut" / "humor.pt").exists()
    resumed = ht.train_humor(train, val, cfg, tmp_path / "cut", resume=True, joints_model=joints_model)
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, atol=0, rtol=0)
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in full.history]
    # resuming with other settings or other data is refused, naming the difference
    with pytest.raises(ValueError, match=r"lr 0.001 in the saved run, now 0.01"):
        ht.train_humor(train, val, dataclasses.replace(cfg, lr=0.01), tmp_path / "cut", resume=True,
                       joints_model=joints_model)
    other = small_corpus(test_split, "train", range(1, 6))
    with pytest.raises(ValueError, match=r"on other data \(train"):
        ht.train_humor(other, val, cfg, tmp_path / "cut", resume=True, joints_model=joints_model)


def test_checkpoint_round_trip_and_refusals(clip_states, joints_model, tmp_path):
    m = _model(joints_model, clip_states)
    path = ht.save_humor(m, tmp_path / "h.pt", {"data": {"train": "corpus A"}})
    loaded, meta = ht.load_humor(path, joints_model)
    for k, v in m.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[k], v)
    with pytest.raises(ValueError, match=r"trained on another corpus \(train 'corpus A', now 'corpus B'\)"):
        ht.load_humor(path, joints_model, train_digest="corpus B")
    other = SkeletonJoints(load_body_model())
    with torch.no_grad():
        other.rest += 0.01
    with pytest.raises(ValueError, match=r"trained on another body model"):
        ht.load_humor(path, other)
    state = torch.load(path, weights_only=True)
    state["state_dict"]["extra"] = torch.zeros(1)
    torch.save(state, tmp_path / "extra.pt")
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        ht.load_humor(tmp_path / "extra.pt", joints_model)
    state["format"] = "something else"
    torch.save(state, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match=r"is not a HuMoR checkpoint"):
        ht.load_humor(tmp_path / "foreign.pt", joints_model)


def test_rollout_and_metrics(clip_states, joints_model, test_split):
    m = _model(joints_model, clip_states)
    states, contacts = m.rollout(clip_states[:3], 10, generator=torch.Generator().manual_seed(0))
    assert states.shape == (3, 11, hs.STATE_DIM) and contacts.shape == (3, 10, hm.NUM_CONTACTS)
    torch.testing.assert_close(states[:, 0], clip_states[:3])
    floor = torch.zeros(3)
    nan = states.clone()
    nan[0, 5:] = float("nan")
    r = rollout_metrics(nan, floor, 10.0)
    assert r["finite"] == pytest.approx(1 - 6 / 33)
    ev = evaluate_humor(m, RolloutEvalConfig(num_starts=2, seconds=0.2, long_seconds=2.0, num_long=1),
                        small_corpus(test_split, "test", range(0, 3)))
    assert set(ev["rollout"]) == {"learned_prior", "standard_normal"} and len(ev["drift"]["learned_prior"]) == 2


def test_humor_stays_out_of_the_default_prior_registry():
    from humanlib.priors import registry

    assert not any("humor" in n for n in (*registry.PRIOR_NAMES, *registry.PRIOR_ALIASES))
