"""Tests of humanlib.priors.vposer and humanlib.priors.train_vposer (synthetic poses, fast)."""

from __future__ import annotations

import argparse
import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib import rotations
from humanlib.paths import ASSETS_DIR
from humanlib.priors import PosePrior
from humanlib.priors import train_vposer as tv
from humanlib.priors.vposer import (
    OPEN_CHECKPOINT_NAME,
    VPoser,
    VPoserConfig,
    VPoserLossConfig,
    VPoserPrior,
    determinant_loss,
    full_pose_from_body,
    geodesic_loss,
    kl_to_standard_normal,
    load_vposer,
    orthogonality_loss,
    rotmat_reconstruction_loss,
    save_vposer,
    vposer_checkpoint,
    vposer_loss,
    weight_l2,
)

SMALL = VPoserConfig(hidden=32, latent_dim=8)


def random_poses(n: int, seed: int = 0, scale: float = 0.4) -> torch.Tensor:
    return scale * torch.randn(n, 21, 3, generator=torch.Generator().manual_seed(seed))


def manifold_poses(n: int, seed: int = 0) -> torch.Tensor:
    """Poses on a 3-d nonlinear manifold: learnable structure for the tiny training runs."""
    g = torch.Generator().manual_seed(seed)
    basis = torch.randn(3, 63, generator=torch.Generator().manual_seed(123))
    s = torch.randn(n, 3, generator=g)
    return (0.3 * torch.tanh(s @ basis)).reshape(n, 21, 3)


def small_model(seed: int = 0) -> VPoser:
    torch.manual_seed(seed)
    return VPoser(SMALL)


# ------------------------------------------------------------------------------------ shapes


def test_default_architecture_is_v02_sized():
    model = VPoser()
    assert model.latent_dim == 32
    assert model.enc_fc1.weight.shape == (512, 63)
    assert model.dec_out.weight.shape == (126, 512)
    # ~0.94 M parameters: a float32 checkpoint of a few MB
    assert 0.8e6 < sum(p.numel() for p in model.parameters()) < 1.1e6


@pytest.mark.parametrize("batch", [2, 5])
def test_shapes(batch):
    model = VPoser().eval()
    pose = random_poses(batch)
    q = model.encode(pose)
    assert q.mean.shape == q.std.shape == (batch, 32)
    assert (q.std > 0).all()
    dec = model.decode(q.mean)
    assert dec.rotmat.shape == (batch, 21, 3, 3) and dec.pose.shape == (batch, 21, 3)
    out = model(pose.reshape(batch, 63))  # flat input accepted
    assert out.z.shape == (batch, 32) and out.decoded.pose.shape == (batch, 21, 3)
    full = torch.zeros(batch, 24, 3)
    full[:, 1:22] = pose
    assert torch.allclose(model.encode(full).mean, q.mean)  # full SMPL pose: joints 1..21 used
    assert model.sample(4).pose.shape == (4, 21, 3)


def test_interpolate_shapes_and_endpoints():
    model = small_model().eval()
    a, b = random_poses(3, 1), random_poses(3, 2)
    path = model.interpolate(a, b, steps=5)
    assert path.pose.shape == (5, 3, 21, 3) and path.rotmat.shape == (5, 3, 21, 3, 3)
    assert torch.allclose(path.rotmat[0], model.reconstruct(a).rotmat, atol=1e-5)
    assert torch.allclose(path.rotmat[-1], model.reconstruct(b).rotmat, atol=1e-5)


def test_sample_is_reproducible_with_a_generator():
    model = small_model().eval()
    s1 = model.sample(6, generator=torch.Generator().manual_seed(5)).pose
    s2 = model.sample(6, generator=torch.Generator().manual_seed(5)).pose
    s3 = model.sample(6, generator=torch.Generator().manual_seed(6)).pose
    assert torch.equal(s1, s2) and not torch.equal(s1, s3)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.0, 30.0))
def test_decoder_outputs_rotations(seed, scale):
    """Gram–Schmidt makes every decoded matrix orthonormal with det +1, for any z.

    In float64: in float32 two nearly parallel 6D columns leave an orthogonality error of ~1e-5
    (hypothesis found z = 25.5 * randn, seed 1196), round-off, not a property of the decoder."""
    model = small_model().eval().double()
    z = scale * torch.randn(4, SMALL.latent_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    r = model.decode(z).rotmat
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(r @ r.transpose(-1, -2), eye.expand_as(r), atol=1e-5)
    assert torch.allclose(torch.linalg.det(r), torch.ones(4, 21, dtype=torch.float64), atol=1e-5)
    # the axis-angle output is the same rotation
    assert torch.allclose(rotations.axis_angle_to_rotmat(model.decode(z).pose).double(), r, atol=1e-4)


# ------------------------------------------------------------------------------------ losses


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_kl_matches_torch_distributions(seed):
    g = torch.Generator().manual_seed(seed)
    mean = 2 * torch.randn(7, 32, generator=g, dtype=torch.float64)
    std = torch.exp(torch.randn(7, 32, generator=g, dtype=torch.float64))
    q = torch.distributions.Normal(mean, std)
    p = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(std))
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(kl_to_standard_normal(mean, std), expected, rtol=1e-10, atol=1e-10)
    assert torch.allclose(kl_to_standard_normal(torch.zeros(3), torch.ones(3)), torch.tensor(0.0))


def _naive_terms(r, r_hat):
    b, j = r.shape[:2]
    rec = torch.zeros(b, dtype=r.dtype)
    orth = torch.zeros(b, dtype=r.dtype)
    det = torch.zeros(b, dtype=r.dtype)
    for i in range(b):
        for k in range(j):
            rec[i] += sum((r[i, k, a, c] - r_hat[i, k, a, c]) ** 2 for a in range(3) for c in range(3))
            gram = r_hat[i, k] @ r_hat[i, k].T
            orth[i] += sum((gram[a, c] - (1.0 if a == c else 0.0)) ** 2 for a in range(3) for c in range(3))
            m = r_hat[i, k]
            d = (m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
                 + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]))
            det[i] += abs(d - 1.0)
    return rec, orth, det


def test_loss_terms_match_naive_references():
    g = torch.Generator().manual_seed(0)
    r = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64)  # arbitrary matrices, not rotations
    r_hat = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64)
    rec, orth, det = _naive_terms(r, r_hat)
    assert torch.allclose(rotmat_reconstruction_loss(r, r_hat), rec)
    assert torch.allclose(orthogonality_loss(r_hat), orth)
    assert torch.allclose(determinant_loss(r_hat), det)


def test_rotation_terms_on_rotations():
    """On rotations: ||R - R_hat||^2 = 4 (1 - cos angle); L_orth = L_det1 = 0."""
    g = torch.Generator().manual_seed(1)
    r = rotations.axis_angle_to_rotmat(torch.randn(4, 21, 3, generator=g, dtype=torch.float64))
    r_hat = rotations.axis_angle_to_rotmat(torch.randn(4, 21, 3, generator=g, dtype=torch.float64))
    angle = rotations.rotmat_geodesic_distance(r, r_hat)
    assert torch.allclose(rotmat_reconstruction_loss(r, r_hat), (4 * (1 - torch.cos(angle))).sum(-1))
    assert torch.allclose(geodesic_loss(r, r_hat), angle.mean(-1))
    assert orthogonality_loss(r_hat).max() < 1e-20
    assert determinant_loss(r_hat).max() < 1e-12


def test_weight_l2_is_sum_of_squared_linear_weights():
    model = small_model()
    expected = sum((p ** 2).sum() for name, p in model.named_parameters()
                   if name.endswith(".weight") and "norm" not in name)
    assert torch.allclose(weight_l2(model), expected)


def test_total_is_the_weighted_sum_of_terms():
    model = small_model().eval()
    cfg = VPoserLossConfig(kl=0.3, rotmat=2.0, orth=0.5, det1=0.7, reg=1e-3)
    loss = vposer_loss(model, random_poses(6), cfg, sample=False)
    expected = 0.3 * loss.kl + 2.0 * loss.rotmat + 0.5 * loss.orth + 0.7 * loss.det1 + 1e-3 * loss.reg
    assert torch.allclose(loss.total, expected)
    assert loss.orth.item() < 1e-8 and loss.det1.item() < 1e-4  # ~0 by construction (Gram–Schmidt)


def toy_body(body_pose):
    """A stand-in body: vertices = a fixed linear map of the rotation matrices; joints = 5 of them."""
    r = rotations.axis_angle_to_rotmat(body_pose).reshape(body_pose.shape[0], -1)
    w = torch.randn(189, 30, generator=torch.Generator().manual_seed(9), dtype=r.dtype)
    v = (r @ w).reshape(-1, 10, 3)
    return v, v[:, :5]


def test_released_terms_with_a_toy_body():
    model = small_model().eval()
    pose = random_poses(5)
    cfg = VPoserLossConfig.released()
    loss = vposer_loss(model, pose, cfg, epoch=0, body_forward=toy_body, sample=False)
    rec = model.reconstruct(pose)
    v, j = toy_body(pose)
    v_hat, j_hat = toy_body(rec.pose)
    assert torch.allclose(loss.vertex, (v - v_hat).abs().mean(), atol=1e-5)
    assert torch.allclose(loss.joint, (j - j_hat).abs().mean(), atol=1e-5)
    r = rotations.axis_angle_to_rotmat(pose)
    assert torch.allclose(loss.geodesic, rotations.rotmat_geodesic_distance(r, rec.rotmat).mean(), atol=1e-5)
    assert loss.rotmat.item() == 0.0
    late = vposer_loss(model, pose, cfg, epoch=cfg.extra_terms_until_epoch, body_forward=toy_body, sample=False)
    assert late.geodesic.item() == 0.0 and late.joint.item() == 0.0 and late.vertex.item() > 0
    with pytest.raises(ValueError, match="body_forward"):
        vposer_loss(model, pose, cfg)


def test_released_terms_on_the_open_body_model():
    from humanlib.body import load_body_model
    from humanlib.priors.vposer import body_forward_from_model

    try:
        body = load_body_model()
    except FileNotFoundError as exc:
        pytest.skip(f"open body model not available: {exc}")
    forward = body_forward_from_model(body)
    model = small_model().eval()
    pose = random_poses(2)
    loss = vposer_loss(model, pose, VPoserLossConfig.released(), body_forward=forward, sample=False)
    verts, joints = forward(pose)
    assert verts.shape == (2, body.num_vertices, 3) and joints.shape == (2, 24, 3)
    v_hat, _ = forward(model.reconstruct(pose).pose)
    assert torch.allclose(loss.vertex, (verts - v_hat).abs().mean(), atol=1e-5)
    loss.total.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_full_pose_from_body():
    pose = random_poses(2)
    full = full_pose_from_body(pose)
    assert full.shape == (2, 24, 3)
    assert torch.equal(full[:, 1:22], pose) and not full[:, [0, 22, 23]].any()


# ------------------------------------------------------------------------------------ gradients


def test_gradients_finite_at_identity_and_pi():
    model = small_model()
    pose = torch.zeros(4, 21, 3)
    pose[2:, :, 0] = math.pi  # rotations by pi
    cfg = VPoserLossConfig(kl=1.0, rotmat=1.0, orth=1.0, det1=1.0, reg=1e-3, geodesic=1.0)
    loss = vposer_loss(model, pose, cfg)
    loss.total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_gradcheck_loss_terms():
    g = torch.Generator().manual_seed(3)
    mean = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    std = (0.5 + torch.rand(3, 4, generator=g, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(kl_to_standard_normal, (mean, std))
    r = rotations.axis_angle_to_rotmat(torch.randn(2, 3, 3, generator=g, dtype=torch.float64))
    x6 = torch.randn(2, 3, 6, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: rotmat_reconstruction_loss(r, rotations.rot6d_to_rotmat(x)), (x6,))
    assert torch.autograd.gradcheck(lambda x: geodesic_loss(r, rotations.rot6d_to_rotmat(x)), (x6,))


def test_gradcheck_through_the_decoder_in_float64():
    model = small_model().double().eval()
    z = torch.randn(2, SMALL.latent_dim, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: model.decode(z).pose, (z,), atol=1e-6)


# ------------------------------------------------------------------------------------ training


def test_tiny_training_run_lowers_the_loss():
    cfg = tv.TrainConfig(epochs=4, batch_size=64, lr=3e-3, model=SMALL, early_stop_patience=10)
    model0 = small_model()
    val = manifold_poses(256, 1)
    before, _ = tv.evaluate(model0, val, cfg.loss)
    result = tv.train_vposer(manifold_poses(2048, 0), val, cfg, progress=False)
    assert result.stop_reason == "max_epochs" and len(result.history) == 4
    assert result.history[-1].train["total"] < result.history[0].train["total"]
    after, deg = tv.evaluate(result.model, val, cfg.loss)
    assert after["total"] < 0.7 * before["total"]
    assert deg == pytest.approx(result.history[result.best_epoch - 1].val_deg, rel=1e-4)


def test_resume_continues_the_same_run(tmp_path):
    """2 epochs + resume to 3 epochs gives the same weights as 3 epochs in one go."""
    train, val = manifold_poses(512, 0), manifold_poses(128, 1)
    cfg3 = tv.TrainConfig(epochs=3, batch_size=64, model=SMALL, early_stop_patience=10)
    cfg2 = tv.TrainConfig(epochs=2, batch_size=64, model=SMALL, early_stop_patience=10)
    straight = tv.train_vposer(train, val, cfg3, tmp_path / "a", progress=False)
    tv.train_vposer(train, val, cfg2, tmp_path / "b", progress=False)
    resumed = tv.train_vposer(train, val, cfg3, tmp_path / "b", resume=True, progress=False)
    assert [h.epoch for h in resumed.history] == [1, 2, 3]
    for a, b in zip(straight.history, resumed.history):
        assert a.val["total"] == pytest.approx(b.val["total"], rel=1e-5)
    last_a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model"]["state_dict"]
    last_b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]["state_dict"]
    for k in last_a:
        assert torch.allclose(last_a[k], last_b[k], atol=1e-6), k
    hist = json.loads((tmp_path / "b" / "history.json").read_text())
    assert len(hist["history"]) == 3 and hist["stop_reason"] == "max_epochs"
    loaded = load_vposer(tmp_path / "b" / "best.pt")
    assert loaded.metadata["best_epoch"] == resumed.best_epoch


def test_training_refuses_to_overwrite_or_resume_nothing(tmp_path):
    train, val = manifold_poses(128, 0), manifold_poses(32, 1)
    cfg = tv.TrainConfig(epochs=1, batch_size=64, model=SMALL)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        tv.train_vposer(train, val, cfg, tmp_path / "r", resume=True, progress=False)
    tv.train_vposer(train, val, cfg, tmp_path / "r", progress=False)
    with pytest.raises(ValueError, match="already holds"):
        tv.train_vposer(train, val, cfg, tmp_path / "r", progress=False)
    other = tv.TrainConfig(epochs=2, batch_size=32, model=SMALL)
    with pytest.raises(ValueError, match="batch_size"):
        tv.train_vposer(train, val, other, tmp_path / "r", resume=True, progress=False)


def test_resume_refuses_another_corpus(tmp_path):
    """A saved run resumes only on the data it was trained on (fingerprints and sizes)."""
    train, val = manifold_poses(128, 0), manifold_poses(32, 1)
    cfg1, cfg2 = (tv.TrainConfig(epochs=e, batch_size=64, model=SMALL) for e in (1, 2))
    tv.train_vposer(train, val, cfg1, tmp_path / "r", progress=False, run_info={"corpus_train_fingerprint": "aaaa"})
    with pytest.raises(ValueError, match="other data.*corpus_train_fingerprint 'aaaa'"):
        tv.train_vposer(train, val, cfg2, tmp_path / "r", resume=True, progress=False,
                        run_info={"corpus_train_fingerprint": "bbbb"})
    with pytest.raises(ValueError, match="train_frames 128 in the saved run, now 256"):
        tv.train_vposer(torch.cat([train, train]), val, cfg2, tmp_path / "r", resume=True, progress=False,
                        run_info={"corpus_train_fingerprint": "aaaa"})
    resumed = tv.train_vposer(train, val, cfg2, tmp_path / "r", resume=True, progress=False,
                              run_info={"corpus_train_fingerprint": "aaaa"})
    assert [h.epoch for h in resumed.history] == [1, 2]


def test_early_stopping():
    cfg = tv.TrainConfig(epochs=20, batch_size=64, lr=1e-12, model=SMALL, early_stop_patience=2)
    result = tv.train_vposer(manifold_poses(128, 0), manifold_poses(64, 1), cfg, progress=False)
    assert result.stop_reason == "early_stopping" and len(result.history) == 3 and result.best_epoch == 1


def test_train_config_bad_values():
    with pytest.raises(ValueError, match="batch_size"):
        tv.TrainConfig(batch_size=1)
    with pytest.raises(ValueError, match="lr"):
        tv.TrainConfig(lr=0.0)
    with pytest.raises(ValueError, match="at least batch_size"):
        tv.train_vposer(random_poses(10), random_poses(4), tv.TrainConfig(batch_size=64, model=SMALL), progress=False)


def test_cli_trains_on_a_stub_corpus(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tv, "corpus_body_poses", lambda split: manifold_poses(300 if split == "train" else 60))
    parser = argparse.ArgumentParser()
    from humanlib.commands import vposer as vposer_command

    vposer_command.add_subcommand(parser.add_subparsers())
    args = parser.parse_args(["train-vposer", "--out", str(tmp_path / "run"), "--epochs", "1",
                              "--batch-size", "100", "--no-progress", "--threads", str(torch.get_num_threads())])
    assert args.func(args) == 0
    assert "best epoch 1" in capsys.readouterr().out
    model = load_vposer(tmp_path / "run" / "best.pt")
    assert model.config == VPoserConfig()  # the CLI trains the published architecture
    assert model.metadata["command"].startswith("humanlib") and "machine" in model.metadata
    if not torch.cuda.is_available():  # refused while parsing, before any work
        with pytest.raises(SystemExit):
            parser.parse_args(["train-vposer", "--out", str(tmp_path / "g"), "--device", "cuda"])
        assert "CUDA is not available" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ checkpoints


def test_checkpoint_round_trip(tmp_path):
    model = small_model(4).eval()
    path = save_vposer(model, tmp_path / "m.pt", metadata={"note": "test", "epochs": 3})
    raw = torch.load(path, weights_only=True)  # plain tensors and values only
    assert raw["format"] == "humanlib.vposer" and raw["config"]["hidden"] == 32
    loaded = load_vposer(path)
    assert not loaded.training and loaded.metadata == {"note": "test", "epochs": 3}
    z = torch.randn(3, SMALL.latent_dim)
    assert torch.equal(loaded.decode(z).rotmat, model.decode(z).rotmat)
    pose = random_poses(3)
    assert torch.equal(loaded.encode(pose).mean, model.encode(pose).mean)


def test_checkpoint_of_another_architecture(tmp_path):
    small = vposer_checkpoint(small_model())
    data = vposer_checkpoint(VPoser())
    data["state_dict"] = small["state_dict"]  # config says 512 units, weights have 32
    torch.save(data, tmp_path / "shape.pt")
    with pytest.raises(ValueError, match=r"enc_fc1.weight has shape \(32, 63\).*expects \(512, 63\)"):
        load_vposer(tmp_path / "shape.pt")

    data = vposer_checkpoint(small_model())
    data["state_dict"]["extra.weight"] = torch.zeros(2)
    del data["state_dict"]["dec_out.bias"]
    torch.save(data, tmp_path / "keys.pt")
    with pytest.raises(ValueError, match=r"missing keys \['dec_out.bias'\].*unexpected keys \['extra.weight'\]"):
        load_vposer(tmp_path / "keys.pt")

    torch.save(small_model().state_dict(), tmp_path / "bare.pt")  # a bare state dict
    with pytest.raises(ValueError, match="bare VPoser state dict without its config, not a humanlib VPoser checkpoint"):
        load_vposer(tmp_path / "bare.pt")

    data = vposer_checkpoint(small_model())
    data["config"]["num_layers"] = 3
    torch.save(data, tmp_path / "cfg.pt")
    with pytest.raises(ValueError, match="config fields"):
        load_vposer(tmp_path / "cfg.pt")

    data = vposer_checkpoint(small_model())
    data["format"] = "humanlib.posendf"
    torch.save(data, tmp_path / "fmt.pt")
    with pytest.raises(ValueError, match="format 'humanlib.posendf'"):
        load_vposer(tmp_path / "fmt.pt")


class _NotAllowed:
    pass


def test_corrupt_or_unsafe_checkpoint(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(ValueError, match="junk.pt is not a readable torch checkpoint"):
        load_vposer(tmp_path / "junk.pt")
    good = save_vposer(small_model(), tmp_path / "good.pt")
    data = good.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.pt is not a readable torch checkpoint"):
        load_vposer(tmp_path / "cut.pt")
    torch.save({"format": _NotAllowed()}, tmp_path / "pickle.pt")  # arbitrary objects are refused
    with pytest.raises(ValueError, match="pickle.pt is not a readable torch checkpoint"):
        load_vposer(tmp_path / "pickle.pt")
    with pytest.raises(FileNotFoundError):
        load_vposer(tmp_path / "absent.pt")


# ------------------------------------------------------------------------------------ bad input


def test_bad_inputs():
    model = small_model().eval()
    with pytest.raises(ValueError, match=r"\(B, 21, 3\).*got \(2, 20, 3\)"):
        model.encode(torch.zeros(2, 20, 3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model.encode([[0.0] * 63])
    with pytest.raises(ValueError, match="NaN"):
        model.encode(torch.full((2, 21, 3), float("nan")))
    with pytest.raises(ValueError, match="floating"):
        model.encode(torch.zeros(2, 21, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="empty batch"):
        model.encode(torch.zeros(0, 21, 3))
    with pytest.raises(ValueError, match=r"z must have shape \(B, 8\)"):
        model.decode(torch.zeros(2, 32))
    with pytest.raises(ValueError, match="positive int"):
        model.sample(0)
    with pytest.raises(ValueError, match="steps"):
        model.interpolate(random_poses(1), random_poses(1), steps=1)
    with pytest.raises(ValueError, match="same shape"):
        model.interpolate(random_poses(1), random_poses(2))
    with pytest.raises(ValueError, match="eval"):
        small_model().train().encode(random_poses(1))
    with pytest.raises(ValueError, match="latent_dim"):
        VPoserConfig(latent_dim=0)
    with pytest.raises(ValueError, match="kl"):
        VPoserLossConfig(kl=-1.0)
    with pytest.raises(ValueError, match="shape"):
        rotmat_reconstruction_loss(torch.zeros(2, 21, 3, 3), torch.zeros(2, 20, 3, 3))
    with pytest.raises(ValueError, match="same shape"):
        kl_to_standard_normal(torch.zeros(2, 3), torch.ones(2, 4))


# ------------------------------------------------------------------------------------ prior


def test_prior_follows_the_pose_prior_interface():
    prior = VPoserPrior(small_model())
    assert isinstance(prior, PosePrior) and prior.name == "vposer"
    pose = random_poses(3)
    z = prior.init_params(pose)
    assert z.shape == (3, SMALL.latent_dim) and not z.requires_grad
    assert torch.allclose(z, prior.vposer.encode(pose).mean)
    assert not VPoserPrior(small_model(), init_zero=True).init_params(pose).any()
    z.requires_grad_(True)
    energy = prior.params_energy(z)
    assert torch.allclose(energy, (z ** 2).sum(-1))
    body = prior.to_body_pose(z)
    assert body.shape == (3, 21, 3)
    (energy.sum() + body.square().sum()).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()
    assert all(p.grad is None for p in prior.vposer.parameters())  # the network stays frozen
    prior.train()
    assert not prior.vposer.training
    e = prior.energy(pose)
    assert e.shape == (3,) and torch.allclose(e, (prior.vposer.encode(pose).mean ** 2).sum(-1))
    with pytest.raises(ValueError, match="params must have shape"):
        prior.params_energy(torch.zeros(3, 5))


def test_prior_moves_to_float64():
    prior = VPoserPrior(small_model()).to(torch.float64)
    z = torch.zeros(2, SMALL.latent_dim, dtype=torch.float64)
    assert prior.to_body_pose(z).dtype == torch.float64


# ------------------------------------------------------------------------------------ committed asset


def test_committed_checkpoint_loads():
    path = ASSETS_DIR / OPEN_CHECKPOINT_NAME
    if not path.exists():
        pytest.skip(f"the committed VPoser checkpoint is not built yet ({path})")
    assert path.stat().st_size < 8 * 2**20
    model = load_vposer()
    assert model.config == VPoserConfig()
    assert "NOT the licensed" in model.metadata["description"]
    try:
        train = tv.corpus_body_poses("train")
    except Exception as exc:  # the corpus is a separate asset
        pytest.skip(f"corpus not available: {exc}")
    assert model.metadata["corpus_train_fingerprint"] == tv.poses_fingerprint(train), (
        "the committed VPoser was trained on another version of the corpus: retrain it with the "
        "command in its metadata"
    )
    poses = model.sample(16, generator=torch.Generator().manual_seed(0)).rotmat
    assert torch.isfinite(poses).all()
    val = tv.corpus_body_poses("val")[::50]
    from humanlib.priors.vposer_eval import geodesic_deg_per_joint

    target = rotations.axis_angle_to_rotmat(val)
    trained = geodesic_deg_per_joint(target, model.reconstruct(val).rotmat).mean()
    untrained = geodesic_deg_per_joint(target, small_model().eval().reconstruct(val).rotmat).mean()
    assert trained < 0.5 * untrained and trained < 15.0


# ------------------------------------------------------------------------------------ evaluation metrics


def test_nearest_pose_distance_matches_brute_force():
    from humanlib.priors.vposer_eval import nearest_pose_distance

    ref = rotations.axis_angle_to_rotmat(random_poses(50, 1))
    samples = rotations.axis_angle_to_rotmat(random_poses(7, 2))
    samples[3] = ref[17]  # a sample that is a reference pose is at distance 0
    got = nearest_pose_distance(samples, ref, chunk=8)  # several chunks
    for i in range(7):
        chordal = [float((samples[i] - ref[n]).square().sum()) for n in range(50)]
        n = min(range(50), key=chordal.__getitem__)
        expected = torch.rad2deg(rotations.rotmat_geodesic_distance(samples[i], ref[n])).mean()
        assert float(got[i]) == pytest.approx(float(expected), abs=1e-3)
    assert float(got[3]) < 1e-2


def test_ranges_and_diversity():
    from humanlib.priors.vposer_eval import RANGE_MARGIN_RAD, joint_ranges, pairwise_diversity, range_violations

    train = random_poses(100, 0)
    low, high = joint_ranges(train)
    assert not range_violations(train, low, high).any()
    outside = train[:3].clone()
    outside[1, 4, 2] = high[4, 2] + 0.1
    assert range_violations(outside, low, high).tolist() == [False, True, False]
    still = train[:2].clone()
    still[:, 5] = 0.0  # a joint held at rest: range of zero width
    low0, high0 = joint_ranges(still)
    nudged = still.clone()
    nudged[0, 5, 0] = 0.5 * RANGE_MARGIN_RAD
    assert range_violations(nudged, low0, high0).tolist() == [False, False]
    assert range_violations(nudged, low0, high0, margin=0.0).tolist() == [True, False]
    with pytest.raises(ValueError, match="margin"):
        range_violations(nudged, low0, high0, margin=-1.0)
    same = rotations.axis_angle_to_rotmat(random_poses(1).expand(5, 21, 3))
    assert pairwise_diversity(same, 50) < 1e-2
    assert pairwise_diversity(rotations.axis_angle_to_rotmat(random_poses(20)), 50) > 1.0
    with pytest.raises(ValueError, match="match ranges"):
        range_violations(torch.zeros(2, 20, 3), low, high)


def test_gmm_reconstruction_is_a_projection():
    from humanlib.priors.gmm import fit_gmm
    from humanlib.priors.vposer_eval import gmm_reconstruct

    x = random_poses(400, 3)
    gmm = fit_gmm(x.reshape(400, 63).double(), num_components=2, max_iter=5).gmm
    full = gmm_reconstruct(gmm, x, code_dim=63)
    assert torch.allclose(full, x, atol=1e-4)  # all directions kept: exact
    part = gmm_reconstruct(gmm, x, code_dim=10)
    again = gmm_reconstruct(gmm, part, code_dim=10)
    k1 = gmm.responsibilities(x.reshape(400, 63).double()).argmax(-1)
    k2 = gmm.responsibilities(part.reshape(400, 63).double()).argmax(-1)
    same = k1 == k2
    assert torch.allclose(again[same], part[same], atol=1e-4)  # idempotent where the component is kept
    assert (part - x).abs().mean() > 0


# ------------------------------------------------------------------------------------ figures


def _grid_mesh(n: int = 12):
    u, v = torch.meshgrid(torch.linspace(0, 1, n), torch.linspace(0, 1, n), indexing="ij")
    verts = torch.stack([u.flatten(), v.flatten(), 0.1 * torch.sin(3 * u.flatten())], -1)
    idx = torch.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].flatten(), idx[1:, :-1].flatten(), idx[:-1, 1:].flatten(), idx[1:, 1:].flatten()
    faces = torch.cat([torch.stack([a, b, c], -1), torch.stack([b, d, c], -1)])
    return verts, faces


def test_body_figures():
    from humanlib.bodyplot import decimate
    from humanlib.priors.vposer_figures import bodies_row, interpolation_figure

    verts, faces = _grid_mesh()
    dec = decimate(verts, faces, cell=0.25)
    fig = bodies_row(verts[None].expand(3, -1, -1), dec, colors=["red", "green", "blue"], spacing=2.0)
    assert len(fig.data) == 3
    assert min(fig.data[1].x) == pytest.approx(min(fig.data[0].x) + 2.0, abs=1e-3)  # shifted along +X
    anim = interpolation_figure(verts[None].expand(4, -1, -1), dec)
    assert len(anim.layout.sliders[0].steps) == 4
    with pytest.raises(ValueError, match="colours"):
        bodies_row(verts[None], dec, colors=["red", "blue"])
    with pytest.raises(ValueError, match="T >= 2"):
        interpolation_figure(verts[None], dec)


def test_run_comparison_on_a_stub_corpus(tmp_path, monkeypatch):
    import humanlib.body
    from humanlib.priors.gmm import fit_gmm
    from humanlib.priors.vposer_eval import comparison_table, run_comparison, vertex_error_mm

    corpus = {"train": manifold_poses(400, 0), "val": manifold_poses(50, 1), "test": manifold_poses(120, 2)}
    monkeypatch.setattr(tv, "corpus_body_poses", lambda split: corpus[split])

    def no_body(*args, **kwargs):
        raise FileNotFoundError("no body model in this test")

    monkeypatch.setattr(humanlib.body, "load_body_model", no_body)
    gmm_path = tmp_path / "gmm.npz"
    fit_gmm(corpus["train"].reshape(400, 63).double(), num_components=2, max_iter=5).gmm.save(gmm_path)
    res = run_comparison(gmm_path=gmm_path, num_samples=50, max_test=100, max_train=300,
                         vposer=small_model().eval(), command="test")
    assert res["test_poses"] == 100 and res["train_reference_poses"] == 300
    assert set(res["priors"]) == {"vposer", "gmm", "test_data"}
    for name in ("vposer", "gmm"):
        scores = res["priors"][name]
        assert scores["recon_mm_mean"] is None and scores["recon_deg_mean"] > 0
        assert 0 <= scores["range_violation_rate"] <= 1 and scores["diversity_deg"] > 0
    assert res["priors"]["test_data"]["recon_deg_mean"] is None
    json.dumps(res)  # a plain JSON results file
    table = comparison_table(res)
    assert table.count("\n") == 7 and "| vposer | gmm | test_data |" in table
    pose = random_poses(4)
    assert vertex_error_mm(toy_body, pose, pose) == pytest.approx(0.0, abs=1e-6)
    assert vertex_error_mm(toy_body, pose, random_poses(4, 1), chunk=3) > 0
