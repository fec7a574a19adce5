"""Tests of Pose-NDF: data labels, the hierarchical network, losses, checkpoints, projection, prior."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib import cli
from humanlib.commands import posendf as posendf_command
from humanlib.priors import PosePrior
from humanlib.priors.posendf import (
    PoseNDF,
    PoseNDFModelConfig,
    PoseNDFPrior,
    ProjectionConfig,
    distance_and_gradient,
    projection_direction,
    eikonal_loss,
    load_posendf,
    mean_pairwise_distance,
    project,
    save_checkpoint,
    shifted_parents,
    udf_loss,
)
from humanlib.priors.posendf_data import (
    PoseNDFDataConfig,
    body_pose_to_quats,
    brute_force_distance,
    knn_pose_distance,
    make_distance_dataset,
    mirror_body_quats,
    perturb_quats,
    perturb_quats_by_distance,
    quat_outer_features,
)
from humanlib.priors.posendf_train import PoseNDFTrainConfig, train_posendf
from humanlib.rotations import posendf_distance, random_quat
from humanlib.skeleton import BODY_JOINTS, JOINT_NAMES, PARENTS, body_joint_parents, joint

K = 21
SMALL = PoseNDFModelConfig(feature_dim=4, encoder_hidden=8, df_hidden=(32, 32))


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _toy_manifold(n: int = 300, seed: int = 0) -> torch.Tensor:
    """A 2-parameter family of poses (knees and an elbow bend together)."""
    t = torch.rand(n, 2, generator=_gen(seed))
    pose = torch.zeros(n, K, 3)
    pose[:, BODY_JOINTS.index(joint("left_knee")), 0] = 2.0 * t[:, 0]
    pose[:, BODY_JOINTS.index(joint("right_knee")), 0] = 2.0 * t[:, 1]
    pose[:, BODY_JOINTS.index(joint("left_elbow")), 1] = t[:, 0] - t[:, 1]
    return body_pose_to_quats(pose)


# --------------------------------------------------------------------------- data


def test_body_pose_to_quats_drops_root_and_is_canonical():
    pose = torch.randn(5, 24, 3, generator=_gen()) * 2.0
    q = body_pose_to_quats(pose)
    assert q.shape == (5, K, 4)
    assert (q[..., 0] >= 0).all()
    torch.testing.assert_close(q.norm(dim=-1), torch.ones(5, K))
    torch.testing.assert_close(q, body_pose_to_quats(pose[:, list(BODY_JOINTS)]))


@pytest.mark.parametrize("bad", [torch.zeros(5, 20, 3), torch.zeros(5, 21, 4), torch.zeros(63)])
def test_body_pose_to_quats_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="shape"):
        body_pose_to_quats(bad)


def test_perturb_quats_unit_canonical_and_sigmas():
    q = _toy_manifold(200)
    noisy, sigma = perturb_quats(q, (0.1, 0.5), _gen(1))
    assert noisy.shape == q.shape and sigma.shape == (200,)
    torch.testing.assert_close(noisy.norm(dim=-1), torch.ones(200, K))
    assert (noisy[..., 0] >= 0).all()
    assert set(sigma.unique().tolist()) == set(torch.tensor([0.1, 0.5]).tolist())
    # larger noise moves poses further
    d = posendf_distance(noisy, q)
    assert d[sigma == 0.5].mean() > 2 * d[sigma == 0.1].mean()


def test_knn_talk_metric_matches_brute_force():
    manifold = _toy_manifold(150)
    queries, _ = perturb_quats(manifold[:60], (0.05, 0.3), _gen(2))
    result = knn_pose_distance(queries, manifold, k=1, metric="talk", chunk_size=7)
    torch.testing.assert_close(result.distance, brute_force_distance(queries, manifold), atol=2e-4, rtol=1e-4)
    # the index points at a pose that attains that distance
    w = torch.full((K,), 2.0)
    at_index = posendf_distance(queries, manifold[result.indices[:, 0]], weights=w)
    torch.testing.assert_close(at_index, result.distance, atol=2e-4, rtol=1e-4)


def test_knn_released_metric_averages_k_nearest():
    manifold = _toy_manifold(80)
    queries, _ = perturb_quats(manifold[:20], (0.2,), _gen(3))
    result = knn_pose_distance(queries, manifold, k=5, metric="released", chunk_size=16)
    naive = (1 - (queries[:, None] * manifold[None]).sum(-1).abs()).mean(-1)  # (S, M)
    expected = naive.sort(dim=1).values[:, :5].mean(dim=1)
    torch.testing.assert_close(result.distance, expected, atol=1e-5, rtol=1e-5)
    assert result.indices.shape == (20, 5)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_knn_is_invariant_to_quaternion_signs(seed):
    """q and -q are the same rotation: flipping signs per joint leaves the label unchanged."""
    manifold = _toy_manifold(40, seed=1)
    queries = random_quat(6, K, generator=_gen(seed))
    signs = torch.randint(0, 2, (6, K, 1), generator=_gen(seed + 1)) * 2.0 - 1.0
    a = knn_pose_distance(queries, manifold).distance
    b = knn_pose_distance(queries * signs, -manifold).distance
    torch.testing.assert_close(a, b)


def test_make_distance_dataset_labels_clean_zero_and_noisy_positive():
    manifold = _toy_manifold(100)
    cfg = PoseNDFDataConfig(num_noisy=200, num_clean=50, seed=4)
    data = make_distance_dataset(manifold, cfg)
    assert len(data) == 250
    assert (data.distance[:50] == 0).all() and (data.sigma[:50] == 0).all()
    assert (data.distance[50:] > 0).all()
    torch.testing.assert_close(data.distance[50:], brute_force_distance(data.quats[50:], manifold), atol=2e-4, rtol=1e-4)
    again = make_distance_dataset(manifold, cfg)
    torch.testing.assert_close(data.quats, again.quats)  # seeded


def test_data_bad_inputs():
    manifold = _toy_manifold(10)
    with pytest.raises(ValueError, match="metric"):
        PoseNDFDataConfig(metric="euclid")
    with pytest.raises(ValueError, match="sigmas"):
        PoseNDFDataConfig(sigmas=(0.1, -1.0))
    with pytest.raises(ValueError, match="k must be"):
        knn_pose_distance(manifold, manifold, k=11)
    with pytest.raises(ValueError, match="same number of joints"):
        knn_pose_distance(manifold[:, :5], manifold)
    with pytest.raises(ValueError, match="NaN"):
        knn_pose_distance(manifold * float("nan"), manifold)


# --------------------------------------------------------------------------- model


def test_default_parents_are_the_skeleton_tree():
    cfg = PoseNDFModelConfig()
    assert cfg.parents == body_joint_parents()
    # by name: the parent of every body joint is its SMPL parent (or the root)
    for k, j in enumerate(BODY_JOINTS):
        p = cfg.parents[k]
        assert (PARENTS[j] == 0) if p < 0 else (BODY_JOINTS[p] == PARENTS[j]), JOINT_NAMES[j]
    k_elbow = BODY_JOINTS.index(joint("left_elbow"))
    assert BODY_JOINTS[cfg.parents[k_elbow]] == joint("left_shoulder")
    assert shifted_parents() != cfg.parents


def test_shifted_parents_is_the_released_table():
    """The released Pose-NDF code's list, verbatim: root children -1, the rest off by one."""
    released = (-1, -1, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
    assert shifted_parents() == released
    # by name: both hips and spine1 hang off the root, the left knee off the right hip
    table = dict(zip((JOINT_NAMES[j] for j in BODY_JOINTS), shifted_parents()))
    assert table["right_hip"] == table["spine1"] == table["left_hip"] == -1
    assert JOINT_NAMES[BODY_JOINTS[table["left_knee"]]] == "right_hip"
    assert JOINT_NAMES[BODY_JOINTS[table["left_elbow"]]] == "right_shoulder"
    PoseNDF(PoseNDFModelConfig(parents=shifted_parents(), feature_dim=2, encoder_hidden=4, df_hidden=(4,)))


def test_model_output_shape_and_non_negative():
    for output in ("abs", "softplus"):
        model = PoseNDF(PoseNDFModelConfig(feature_dim=4, encoder_hidden=8, df_hidden=(16,), output=output))
        q = random_quat(3, 5, K, generator=_gen())
        f = model(q)
        assert f.shape == (3, 5)
        assert (f >= 0).all()


def test_encoder_feature_depends_only_on_ancestors():
    """v_k is a function of theta_k and the quaternions of k's ancestors, nothing else."""
    torch.manual_seed(0)
    model = PoseNDF(SMALL).double()
    q = random_quat(1, K, generator=_gen(5), dtype=torch.float64)
    l = SMALL.feature_dim
    jac = torch.autograd.functional.jacobian(lambda x: model.encode(x), q)  # (1, K*l, 1, K, 4)
    dep = jac[0].reshape(K, l, K, 4).abs().sum(dim=(1, 3)) > 0  # dep[k, j]: v_k depends on theta_j
    parents = SMALL.parents
    for k in range(K):
        ancestors = {k}
        p = parents[k]
        while p >= 0:
            ancestors.add(p)
            p = parents[p]
        assert set(torch.nonzero(dep[k]).flatten().tolist()) == ancestors, JOINT_NAMES[BODY_JOINTS[k]]


def test_model_config_rejects_bad_values():
    with pytest.raises(ValueError, match="parent"):
        PoseNDFModelConfig(parents=(-1, 2, 0))
    with pytest.raises(ValueError, match="activation"):
        PoseNDFModelConfig(activation="tanh")
    with pytest.raises(ValueError, match="output"):
        PoseNDFModelConfig(output="square")


def test_model_rejects_bad_shapes():
    model = PoseNDF(SMALL)
    for bad in (torch.zeros(2, 20, 4), torch.zeros(2, K, 3), torch.zeros(4)):
        with pytest.raises(ValueError, match=r"\(\.\.\., 21, 4\)"):
            model(bad)


def test_model_gradcheck_float64():
    torch.manual_seed(0)
    model = PoseNDF(SMALL).double()
    q = random_quat(2, K, generator=_gen(6), dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(model, (q,))


# --------------------------------------------------------------------------- losses


def test_eikonal_loss_matches_finite_difference_reference():
    torch.manual_seed(0)
    model = PoseNDF(SMALL).double()
    q = random_quat(4, K, generator=_gen(7), dtype=torch.float64)
    target = torch.tensor([0.0, 0.3, 0.0, 1.2], dtype=torch.float64)
    _, grad = distance_and_gradient(model, q)
    # naive reference: central differences on every coordinate
    eps = 1e-6
    fd = torch.zeros_like(q)
    for idx in range(K * 4):
        e = torch.zeros(K * 4, dtype=torch.float64)
        e[idx] = eps
        e = e.reshape(K, 4)
        fd[:, idx // 4, idx % 4] = (model(q + e) - model(q - e)).detach() / (2 * eps)
    torch.testing.assert_close(grad, fd, atol=1e-6, rtol=1e-5)
    norms = fd.flatten(1).norm(dim=1)
    expected = ((norms[[1, 3]] - 1) ** 2).mean()  # samples with d != 0 only
    torch.testing.assert_close(eikonal_loss(grad, target), expected, atol=1e-8, rtol=1e-6)


def test_eikonal_loss_is_zero_for_all_clean_and_trainable():
    torch.manual_seed(0)
    model = PoseNDF(SMALL)
    q = random_quat(3, K, generator=_gen(8))
    f, grad = distance_and_gradient(model, q, create_graph=True)
    assert float(eikonal_loss(grad, torch.zeros(3)).detach()) == 0.0
    loss = eikonal_loss(grad, torch.ones(3))
    loss.backward()  # second-order graph reaches the weights
    assert model.df[0].weight.grad is not None and model.df[0].weight.grad.abs().sum() > 0


def test_udf_loss_and_bad_shapes():
    torch.testing.assert_close(udf_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.5, 3.0])), torch.tensor(0.75))
    with pytest.raises(ValueError, match="same shape"):
        udf_loss(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"\(B, K, 4\)"):
        eikonal_loss(torch.zeros(3, 4), torch.zeros(3))


# --------------------------------------------------------------------------- projection


class _ExactField(torch.nn.Module):
    """The true distance (w = 2) to a finite set of poses: a field whose gradient has norm 1."""

    def __init__(self, manifold: torch.Tensor) -> None:
        super().__init__()
        self.manifold = manifold

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        w = torch.full((q.shape[-2],), 2.0, dtype=q.dtype)
        return posendf_distance(q[:, None], self.manifold[None], weights=w).min(dim=1).values


def test_projection_on_exact_field_converges():
    manifold = _toy_manifold(20).double()
    start, _ = perturb_quats(manifold[:8], (0.05,), _gen(9))
    res = project(_ExactField(manifold), start, ProjectionConfig(step_size=1.0, max_steps=50, tolerance=1e-4))
    assert res.converged.all()
    assert (res.distance < 1e-4).all()
    torch.testing.assert_close(res.quats.norm(dim=-1), torch.ones(8, K, dtype=torch.float64))
    assert res.trajectory.shape[1:] == (8, K, 4)
    assert res.distance_history.shape[0] == res.trajectory.shape[0] == int(res.steps.max()) + 1


def test_projection_reduces_f_on_trained_toy_field():
    torch.manual_seed(0)
    manifold = _toy_manifold(300)
    train = make_distance_dataset(manifold, PoseNDFDataConfig(num_noisy=3000, num_clean=600, sigmas=(0.05, 0.1, 0.25)))
    cfg = PoseNDFTrainConfig(model=SMALL, steps=400, batch_size=128, lr=3e-3, val_every=400)
    model = train_posendf(train, None, cfg, progress=False).model
    start, _ = perturb_quats(manifold[:50], (0.25,), _gen(10))
    res = project(model, start, ProjectionConfig(max_steps=30, tolerance=1e-3))
    assert res.distance.mean() < 0.5 * res.distance_history[0].mean()
    true_before = knn_pose_distance(start, manifold).distance
    true_after = knn_pose_distance(res.quats, manifold).distance
    assert true_after.mean() < true_before.mean()


def test_projection_bad_inputs():
    model = PoseNDF(SMALL)
    with pytest.raises(ValueError, match=r"\(B, K, 4\)"):
        project(model, torch.zeros(2, K, 3))
    with pytest.raises(ValueError, match="NaN"):
        project(model, torch.full((2, K, 4), float("nan")))
    with pytest.raises(ValueError, match="step_size"):
        ProjectionConfig(step_size=0.0)


def test_mean_pairwise_distance():
    q = random_quat(5, K, generator=_gen(11))
    w = torch.full((K,), 2.0)
    brute = sum(float(posendf_distance(q[i], q[j], weights=w)) for i in range(5) for j in range(5) if i != j) / 20
    assert math.isclose(float(mean_pairwise_distance(q)), brute, rel_tol=1e-5)
    assert float(mean_pairwise_distance(q[[0, 0, 0]])) < 1e-3


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = PoseNDF(SMALL)
    path = save_checkpoint(tmp_path / "m.pt", model, {"note": "test"})
    loaded = load_posendf(path, config=SMALL)
    q = random_quat(4, K, generator=_gen(12))
    torch.testing.assert_close(loaded(q), model(q))
    assert loaded.metadata == {"note": "test"}


def test_checkpoint_wrong_architecture_and_corrupt(tmp_path):
    model = PoseNDF(SMALL)
    path = save_checkpoint(tmp_path / "m.pt", model)
    other = PoseNDFModelConfig(feature_dim=4, encoder_hidden=8, df_hidden=(64, 32))
    with pytest.raises(ValueError, match="df_hidden"):
        load_posendf(path, config=other)
    # a checkpoint whose weights do not match its stated config
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["df.0.weight"] = torch.zeros(5, 5)
    del payload["state_dict"]["df.1.bias"]
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match=r"df\.1\.bias.*df\.0\.weight"):
        load_posendf(tmp_path / "bad.pt")
    (tmp_path / "corrupt.pt").write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt"):
        load_posendf(tmp_path / "corrupt.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a Pose-NDF checkpoint"):
        load_posendf(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError):
        load_posendf(tmp_path / "missing.pt")


def test_training_resume_matches_uninterrupted(tmp_path):
    manifold = _toy_manifold(60)
    data = make_distance_dataset(manifold, PoseNDFDataConfig(num_noisy=200, num_clean=40))
    cfg = PoseNDFTrainConfig(model=SMALL, steps=12, batch_size=16, val_every=3)
    straight = train_posendf(data, data, cfg, progress=False)
    first = train_posendf(data, data, cfg, out_dir=tmp_path, progress=False, stop_at=6)
    assert first.history[-1]["step"] == 6 and not (tmp_path / "posendf.pt").exists()
    resumed = train_posendf(data, data, cfg, out_dir=tmp_path, resume=True, progress=False)
    assert [r["step"] for r in resumed.history] == [3, 6, 9, 12]
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert load_posendf(tmp_path / "posendf.pt").metadata["train_config"]["steps"] == 12
    no_eik = PoseNDFTrainConfig(model=SMALL, steps=3, batch_size=16, val_every=3, eikonal_weight=0.0)
    assert train_posendf(data, None, no_eik, progress=False).history[-1]["train_eikonal"] > 0  # logged, not trained
    other = PoseNDFTrainConfig(model=PoseNDFModelConfig(feature_dim=5, encoder_hidden=8, df_hidden=(32, 32)), steps=12)
    with pytest.raises(ValueError, match="architecture"):
        train_posendf(data, data, other, out_dir=tmp_path, resume=True, progress=False)


# --------------------------------------------------------------------------- prior


def test_prior_interface_energy_and_gradient():
    torch.manual_seed(0)
    prior = PoseNDFPrior(PoseNDF(SMALL))
    assert isinstance(prior, PosePrior) and prior.name == "posendf"
    pose = torch.zeros(3, K, 3, requires_grad=True)  # the rest pose: angle 0 everywhere
    energy = prior.energy(pose)
    assert energy.shape == (3,) and (energy >= 0).all()
    energy.sum().backward()
    assert torch.isfinite(pose.grad).all()
    params = prior.init_params(pose.detach())
    torch.testing.assert_close(prior.params_energy(params), energy.detach())
    with pytest.raises(ValueError, match="shape"):
        prior.energy(torch.zeros(3, 24, 3))


# --------------------------------------------------------------------------- figures


def test_quats_to_full_pose_round_trip_and_animation():
    from humanlib.priors.posendf_viz import quats_to_full_pose, skeleton_animation, trajectory_frames

    q = random_quat(2, K, generator=_gen(14))
    pose = quats_to_full_pose(q)
    assert pose.shape == (2, 24, 3)
    assert (pose[:, 0] == 0).all() and (pose[:, 22:] == 0).all()
    torch.testing.assert_close(body_pose_to_quats(pose), q, atol=1e-5, rtol=1e-5)
    joints = torch.randn(3, 2, 24, 3, generator=_gen(15))
    fig = skeleton_animation(joints, title="t")
    assert len(fig.frames) == 3 and len(fig.data) == 2
    with pytest.raises(ValueError, match="labels"):
        skeleton_animation(joints, labels=["a"])
    with pytest.raises(ValueError, match=r"\(T, B, 24, 3\)"):
        skeleton_animation(joints[0])
    frames, steps = trajectory_frames(torch.zeros(30, 2, K, 4), max_frames=5)
    assert steps[0] == 0 and steps[-1] == 29 and frames.shape[0] == len(steps) <= 5


# --------------------------------------------------------------------------- command line


def test_cli_train_resume_and_eval(tmp_path, monkeypatch):
    """train-posendf / eval-posendf end to end on a toy corpus (the real corpus is not needed)."""
    import json

    from humanlib.priors import posendf_train

    toy = {"train": _toy_manifold(120, seed=0), "val": _toy_manifold(40, seed=1)}
    monkeypatch.setattr(posendf_train, "corpus_quats", lambda split, num=0: toy[split][: num or None])
    out = tmp_path / "run"
    args = ["train-posendf", "--out", str(out), "--steps", "6", "--batch-size", "8", "--num-manifold", "100",
            "--num-noisy", "60", "--num-clean", "20", "--num-val", "30", "--val-every", "3", "--no-progress"]
    assert cli.main(args) == 0
    for name in ("data.pt", "last.pt", "posendf.pt", "history.json", "curves.png"):
        assert (out / name).is_file(), name
    meta = load_posendf(out / "posendf.pt").metadata
    assert meta["command"].startswith("humanlib train-posendf") and meta["label_metric"] == "talk"
    assert cli.main(args + ["--resume", "--steps", "9"]) == 0
    assert json.loads((out / "history.json").read_text())[-1]["step"] == 9
    metrics = tmp_path / "m.json"
    assert cli.main(["eval-posendf", "--checkpoint", str(out / "posendf.pt"), "--data", str(out / "data.pt"),
                               "--out", str(metrics), "--num-generate", "10", "--bench-poses", "10"]) == 0
    result = json.loads(metrics.read_text())
    assert set(result["field"]["mae_by_sigma"]) == {"0.01", "0.05", "0.1", "0.25", "0.5"}
    assert 0 <= result["project_random"]["converged_fraction"] <= 1
    # the training-sample accuracy covers the whole (small) training set: compare with a direct evaluation
    from humanlib.priors.posendf_data import DistanceDataset

    cached = torch.load(out / "data.pt", weights_only=True)
    direct = posendf_train.evaluate_field(load_posendf(out / "posendf.pt"), DistanceDataset(*cached["train"]))
    assert math.isclose(result["field_train"]["mae"], direct["mae"], rel_tol=1e-4)


# --------------------------------------------------------------------------- committed checkpoint


def test_committed_checkpoint_loads_and_matches_the_corpus():
    from humanlib.paths import ASSETS_DIR
    from humanlib.provenance import corpus_source

    if not (ASSETS_DIR / "priors" / "posendf_open.pt").is_file():
        pytest.skip("the committed Pose-NDF checkpoint is absent (train it with results/posendf/reproduce.sh)")
    model = load_posendf()
    meta = model.metadata
    assert model.config.parents == body_joint_parents()
    assert meta["label_metric"] == "talk" and meta["command"].startswith("humanlib train-posendf")
    from humanlib.paths import user_amass_dir

    if (ASSETS_DIR / "corpus" / "manifest.json").is_file() and user_amass_dir() is None:
        assert meta["corpus"] == corpus_source(), (
            "the corpus changed since the Pose-NDF checkpoint was trained; retrain it (results/posendf/reproduce.sh)")
    f = model(random_quat(4, K, generator=_gen(16)))
    assert f.shape == (4,) and torch.isfinite(f).all()


# --------------------------------------------------------------------------- full-data training pieces


@pytest.mark.parametrize("metric,k", [("talk", 1), ("talk", 3), ("released", 5)])
def test_prefiltered_search_is_exact(metric, k):
    """The certified pre-filter returns the full search's distances, far queries included."""
    manifold = torch.cat([_toy_manifold(400, seed=2), random_quat(200, K, generator=_gen(3))])
    queries, _ = perturb_quats(manifold[::7], (0.01, 0.1, 0.5), _gen(4))
    queries = torch.cat([queries, random_quat(30, K, generator=_gen(5))])  # far from everything
    full = knn_pose_distance(queries, manifold, k=k, metric=metric, candidates=None)
    fast = knn_pose_distance(queries, manifold, k=k, metric=metric, candidates=8, chunk_size=50)
    torch.testing.assert_close(fast.distance, full.distance, atol=1e-5, rtol=0)
    torch.testing.assert_close(fast.neighbour_distance, full.neighbour_distance, atol=1e-5, rtol=0)
    assert full.num_full_search == 0 and 0 < fast.num_full_search < len(queries)  # far queries fell back
    ref = brute_force_distance(queries, manifold) if (metric, k) == ("talk", 1) else full.distance
    torch.testing.assert_close(fast.distance, ref, atol=1e-4, rtol=0)  # float32 arccos near 1
    with pytest.raises(ValueError, match="candidates must be"):
        knn_pose_distance(queries, manifold, k=k, metric=metric, candidates=k - 1 if k > 1 else 0)


def test_quat_outer_features_give_squared_dots():
    a, b = random_quat(5, K, generator=_gen(6)), random_quat(7, K, generator=_gen(7))
    expected = torch.einsum("akd,bkd->abk", a, b).square().sum(-1)
    torch.testing.assert_close(quat_outer_features(a) @ quat_outer_features(b).T, expected, atol=1e-5, rtol=0)


def test_distance_noise_is_at_the_drawn_distance():
    """NRDF's samples: the talk distance (w = 2) to the source pose is the drawn t (t < pi/2)."""
    source = _toy_manifold(500, seed=8)
    noisy, t = perturb_quats_by_distance(source, 0.3, _gen(9))
    assert (t >= 0).all() and float(t.mean()) == pytest.approx(0.3 * math.sqrt(2 / math.pi), rel=0.15)
    inside = t < math.pi / 2
    d = posendf_distance(noisy, source, weights=torch.full((K,), 2.0))
    torch.testing.assert_close(d[inside], t[inside], atol=1e-4, rtol=0)
    assert (noisy[..., 0] >= 0).all()
    data = make_distance_dataset(source, PoseNDFDataConfig(num_noisy=100, num_clean=10, noise="distance",
                                                           distance_scale=0.3))
    noisy_part = data.distance[10:]
    assert (noisy_part <= data.sigma[10:] + 1e-5).all()  # the manifold is at least as near as the source
    with pytest.raises(ValueError, match="noise must be one of"):
        PoseNDFDataConfig(noise="uniform")


def test_mirror_body_quats_matches_the_axis_angle_mirror():
    from humanlib.data.retarget import mirror_poses

    pose = 0.5 * torch.randn(6, 24, 3, generator=_gen(10))
    expected = body_pose_to_quats(mirror_poses(pose)[0])
    mirrored = mirror_body_quats(body_pose_to_quats(pose))
    torch.testing.assert_close(mirrored, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(mirror_body_quats(mirrored), body_pose_to_quats(pose), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="body joints"):
        mirror_body_quats(torch.ones(2, 5, 4))


def test_nrdf_projection_direction_is_tangent_and_unit():
    q = random_quat(4, K, generator=_gen(11))
    grad = torch.randn(4, K, 4, generator=_gen(12))
    d = projection_direction(q, grad, "nrdf")
    torch.testing.assert_close((d * q).sum(-1), torch.zeros(4, K), atol=1e-6, rtol=0)
    torch.testing.assert_close(d.flatten(1).norm(dim=1), torch.ones(4), atol=1e-6, rtol=0)
    assert projection_direction(q, grad, "posendf") is grad
    assert torch.isfinite(projection_direction(q, torch.zeros_like(grad), "nrdf")).all()
    with pytest.raises(ValueError, match="method must be one of"):
        ProjectionConfig(method="newton")


def test_nrdf_projection_on_exact_field_converges():
    """On the exact distance to one pose, NRDF's step reaches it (f decreases to the tolerance)."""
    target = _toy_manifold(1, seed=13)

    class Exact(torch.nn.Module):
        config = SMALL

        def forward(self, quats):
            return posendf_distance(quats, target.expand_as(quats), weights=torch.full((K,), 2.0))

    start, _ = perturb_quats(target.expand(8, K, 4).clone(), (0.05,), _gen(14))
    res = project(Exact(), start, ProjectionConfig(method="nrdf", max_steps=50, tolerance=1e-3))
    assert res.converged.all() and (res.distance_history[-1] <= res.distance_history[0]).all()


def test_early_stopping_keeps_the_best_weights_and_resumes(tmp_path):
    manifold = _toy_manifold(60)
    data = make_distance_dataset(manifold, PoseNDFDataConfig(num_noisy=200, num_clean=40))
    cfg = PoseNDFTrainConfig(model=SMALL, steps=400, batch_size=16, val_every=2, patience=2, lr=0.05)
    run = train_posendf(data, data, cfg, out_dir=tmp_path, progress=False)
    steps = [r["step"] for r in run.history]
    assert steps[-1] < 400  # stopped early
    best_step = min(run.history, key=lambda r: r["val_mae"])["step"]
    meta = load_posendf(tmp_path / "posendf.pt").metadata
    assert meta["stop_reason"] == "early_stopping" and meta["best_step"] == best_step
    from humanlib.priors.posendf_train import evaluate_field

    best_mae = min(r["val_mae"] for r in run.history)
    assert evaluate_field(load_posendf(tmp_path / "posendf.pt"), data)["mae"] == pytest.approx(best_mae, rel=1e-4)
    # an interrupted early-stopping run resumes to the same end
    part = tmp_path / "part"
    corpus = {"corpus": "open corpus, manifest sha256 1111"}
    train_posendf(data, data, cfg, out_dir=part, progress=False, stop_at=4, metadata=corpus)
    resumed = train_posendf(data, data, cfg, out_dir=part, resume=True, progress=False, metadata=corpus, stop_at=6)
    assert resumed.history[-1]["step"] == 6
    resumed = train_posendf(data, data, cfg, out_dir=part, resume=True, progress=False, metadata=corpus)
    assert [r["step"] for r in resumed.history] == steps
    with pytest.raises(ValueError, match="other data"):
        train_posendf(data, data, cfg, out_dir=part, resume=True, progress=False,
                      metadata={"corpus": "open corpus, manifest sha256 0000"})


def test_distance_breakdown_matches_a_naive_loop():
    from humanlib.priors.posendf_data import DistanceDataset
    from humanlib.priors.posendf_train import distance_breakdown

    d = torch.tensor([0.0, 0.0, 0.1, 0.25, 0.3, 0.9, 1.5, 3.0])
    pred = d + torch.tensor([0.05, 0.15, -0.1, 0.2, 0.0, 0.4, -0.5, 1.0])
    out = distance_breakdown(pred, DistanceDataset(random_quat(8, K, generator=_gen(0)), d, torch.zeros(8)))
    assert out == pytest.approx({"0": 0.1, "0-0.25": 0.15, "0.25-0.5": 0.0, "0.5-1": 0.4, "1-2": 0.5, ">2": 1.0})
    assert "0" not in distance_breakdown(pred[2:], DistanceDataset(random_quat(6, K, generator=_gen(0)), d[2:], torch.zeros(6)))


def test_cli_eval_of_a_mirrored_distance_noise_run(tmp_path, monkeypatch):
    """eval-posendf reads a --mirror --noise distance run's own cache (never rebuilds it), measures the
    field on the standard sigma-noise held-out set, and refuses a cache made for other settings."""
    import json

    from humanlib.priors import posendf_train

    toy = {"train": _toy_manifold(120, seed=0), "val": _toy_manifold(40, seed=1)}
    monkeypatch.setattr(posendf_train, "corpus_quats", lambda split, num=0: toy[split][: num or None])
    out, other = tmp_path / "run", tmp_path / "other"
    base = ["--steps", "4", "--batch-size", "8", "--num-manifold", "100", "--num-noisy", "60", "--num-clean", "20",
            "--num-val", "30", "--val-every", "2", "--no-progress"]
    assert cli.main(["train-posendf", "--out", str(out), "--mirror", "--noise", "distance", *base]) == 0
    assert cli.main(["train-posendf", "--out", str(other), *base]) == 0
    stamp = (out / "data.pt").stat().st_mtime_ns
    metrics = tmp_path / "m.json"
    eval_args = ["eval-posendf", "--checkpoint", str(out / "posendf.pt"), "--out", str(metrics),
                 "--num-generate", "10", "--bench-poses", "10"]
    assert cli.main([*eval_args, "--data", str(out / "data.pt")]) == 0
    assert (out / "data.pt").stat().st_mtime_ns == stamp
    result = json.loads(metrics.read_text())
    assert set(result["field"]["mae_by_sigma"]) == {"0.01", "0.05", "0.1", "0.25", "0.5"}
    assert result["field_train"]["mae_by_sigma"] == {} and result["field_train"]["mae_by_distance"]
    with pytest.raises(ValueError, match=r"other settings .*data.noise: 'sigma' != 'distance'; mirror: None != True"):
        posendf_command._eval_command(cli.build_parser().parse_args([*eval_args, "--data", str(other / "data.pt")]))


def test_training_manifold_of_a_config_and_of_a_checkpoint_dict(monkeypatch):
    from dataclasses import asdict

    from humanlib.priors import posendf_train
    from humanlib.priors.posendf_data import mirror_body_quats

    toy = _toy_manifold(50, seed=0)
    monkeypatch.setattr(posendf_train, "corpus_quats", lambda split, num=0: toy[: num or None])
    cfg = posendf_train.PoseNDFTrainConfig(num_manifold=0, mirror=True)
    m = posendf_train.training_manifold(cfg)
    assert m.shape == (100, K, 4) and torch.equal(m[50:], mirror_body_quats(toy))
    assert torch.equal(posendf_train.training_manifold(asdict(cfg)), m)
    assert posendf_train.training_manifold({"num_manifold": 20}).shape == (20, K, 4)  # old checkpoints: no mirror key
    with pytest.raises(ValueError, match="num_manifold"):
        posendf_train.training_manifold({"mirror": True})
    with pytest.raises(TypeError, match="PoseNDFTrainConfig"):
        posendf_train.training_manifold(20)


def test_weight_decay_shrinks_the_weights():
    manifold = _toy_manifold(60)
    data = make_distance_dataset(manifold, PoseNDFDataConfig(num_noisy=200, num_clean=40))
    norms = {}
    for wd in (0.0, 5.0):  # AdamW shrinks by lr * wd per step: about 14 % over 30 steps
        cfg = PoseNDFTrainConfig(model=SMALL, steps=30, batch_size=16, val_every=30, weight_decay=wd)
        model = train_posendf(data, None, cfg, progress=False).model
        norms[wd] = sum(float(p.square().sum()) for p in model.parameters())
    assert norms[5.0] < 0.95 * norms[0.0]
