"""SMPLify-X's energy terms (humanlib.fitting.smplifyx): each against a naive reference or finite differences."""

from __future__ import annotations

import math

import pytest
import torch

from humanlib.body import load_body_model, open_smplx_model_file
from humanlib.bodybuild_smplx import SMPLX_JOINT_NAMES
from humanlib.fitting import keypoints_x as kx
from humanlib.fitting import smplifyx as X
from humanlib.fitting.energies import geman_mcclure


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a loaded machine more threads make these small fits several times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model():
    return load_body_model(open_smplx_model_file(), layout="native")


@pytest.fixture(scope="module")
def hand_prior(model):
    return X.HandPosePrior(model)


def _hand_into_torso():
    pose = torch.zeros(1, 55, 3)
    pose[0, SMPLX_JOINT_NAMES.index("left_shoulder"), 2] = -1.3
    pose[0, SMPLX_JOINT_NAMES.index("left_elbow"), 2] = -1.3
    return pose


def test_E_J_equals_a_loop_and_ignores_unobserved_keypoints():
    gen = torch.Generator().manual_seed(0)
    proj = torch.rand(3, 118, 2, generator=gen, dtype=torch.float64) * 300
    obs = torch.rand(3, 118, 2, generator=gen, dtype=torch.float64) * 300
    conf = torch.rand(3, 118, generator=gen, dtype=torch.float64)
    conf[0, :10] = 0
    w = torch.rand(118, generator=gen, dtype=torch.float64)
    e = X.E_J(proj, obs, conf, w, sigma=100.0)
    ref = torch.zeros(3, dtype=torch.float64)
    for b in range(3):
        for i in range(118):
            r2 = float(((proj[b, i] - obs[b, i]) ** 2).sum())
            ref[b] += w[i] * conf[b, i] * 100.0 ** 2 * r2 / (100.0 ** 2 + r2)
    assert torch.allclose(e, ref, rtol=1e-12)
    moved = obs.clone()
    moved[0, :10] += 1000.0  # unobserved: no change
    assert torch.allclose(X.E_J(proj, moved, conf, w), e)
    assert torch.allclose(X.E_J(proj, obs, conf, w[None].expand(3, -1)), e)  # (B, K) weights too
    assert float(X.E_J(obs, obs, conf, w).abs().max()) == 0.0


def test_E_J_gradient_matches_finite_differences():
    gen = torch.Generator().manual_seed(1)
    proj = (torch.rand(2, 67, 2, generator=gen, dtype=torch.float64) * 200).requires_grad_(True)
    obs = torch.rand(2, 67, 2, generator=gen, dtype=torch.float64) * 200
    conf = torch.rand(2, 67, generator=gen, dtype=torch.float64)
    w = torch.rand(67, generator=gen, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda p: X.E_J(p, obs, conf, w, 50.0), (proj,))
    # the robust term saturates: a keypoint far away pulls less than one at sigma
    near = X.E_J(torch.tensor([[[50.0, 0.0]]]), torch.zeros(1, 1, 2), torch.ones(1, 1), torch.ones(1), 50.0)
    far = X.E_J(torch.tensor([[[5000.0, 0.0]]]), torch.zeros(1, 1, 2), torch.ones(1, 1), torch.ones(1), 50.0)
    assert float(far) < 50.0 ** 2 and float(far) > float(near)
    assert torch.allclose(near, geman_mcclure(torch.tensor([[2500.0]]), 50.0).sum(-1))


def test_E_theta_b_is_the_squared_latent_norm_of_vposer():
    from humanlib.priors.registry import load_prior

    prior = load_prior("vposer")
    z = torch.randn(4, prior.latent_dim, requires_grad=True)
    e = X.E_theta_b(prior, z)
    assert torch.allclose(e, (z ** 2).sum(-1))
    (g,) = torch.autograd.grad(e.sum(), z)
    assert torch.allclose(g, 2 * z)


def test_hand_prior_frames_and_flexion_sign_on_the_mesh(model, hand_prior):
    frames = hand_prior.frames
    assert frames.shape == (30, 3, 3)
    assert torch.allclose(frames @ frames.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(30, 3, 3), atol=1e-9)
    assert torch.allclose(frames[:, 0], torch.linalg.cross(frames[:, 2], frames[:, 1]))  # a = d x n
    ids = kx.keypoint_vertex_ids(model)
    rest = model().vertices[0]
    palm_side_moves = []
    for side, start in X.HAND_START.items():
        for f, finger in enumerate(X.SMPLX_FINGERS):
            row = (0 if side == "left" else 15) + 3 * f + 1  # the PIP joint (the thumb's MCP)
            pose = torch.zeros(1, 55, 3)
            pose[0, start + 3 * f + 1] = 0.6 * frames[row, 0].float()  # positive flexion
            tip = ids[f"{side}_{finger}_tip"]
            moved = model(pose=pose).vertices[0, tip] - rest[tip]
            palm_side_moves.append(float(moved @ frames[row, 1].float()))
    # a positive flexion takes every fingertip towards its palm
    assert min(palm_side_moves) > 0.005


def _naive_hand_energy(prior, hand_pose):
    e = torch.zeros(hand_pose.shape[0], dtype=torch.float64)
    for b in range(hand_pose.shape[0]):
        flex = []
        for j in range(30):
            a, n, d = prior.frames[j]
            th = hand_pose[b, j]
            phi, psi, tau = float(th @ a), float(th @ n), float(th @ d)
            lo, hi, mu = float(prior.flex_min[j]), float(prior.flex_max[j]), float(prior.relaxed[j])
            e[b] += ((phi - mu) / ((hi - lo) / 4)) ** 2 + (psi / float(prior.abduction_sigma[j])) ** 2
            e[b] += (tau / float(prior.twist_sigma[j])) ** 2
            e[b] += (max(0.0, lo - phi) ** 2 + max(0.0, phi - hi) ** 2) / math.radians(5) ** 2
            flex.append(phi)
        for h in (0, 15):
            for f in range(4):  # index, middle, pinky, ring
                pip, dip = flex[h + 3 * f + 1], flex[h + 3 * f + 2]
                e[b] += ((dip - 2 / 3 * pip) / math.radians(10)) ** 2
    return e


def test_E_mh_equals_a_loop_and_its_gradient_is_finite_differences(hand_prior):
    gen = torch.Generator().manual_seed(2)
    hand = torch.randn(3, 30, 3, generator=gen, dtype=torch.float64) * 0.8
    assert torch.allclose(X.E_mh(hand_prior, hand), _naive_hand_energy(hand_prior, hand), rtol=1e-10)
    x = hand.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda h: hand_prior.energy(h), (x,))


def test_E_mh_prefers_a_relaxed_coupled_curl_to_hyperextension_or_twist(hand_prior):
    a = hand_prior.frames[:, 0]
    relaxed = hand_prior.relaxed[None, :, None] * a[None]
    flat = torch.zeros(1, 30, 3, dtype=torch.float64)
    hyper = -math.radians(40) * a[None]
    twisted = relaxed + math.radians(30) * hand_prior.frames[None, :, 2]
    uncoupled = relaxed.clone()
    uncoupled[:, hand_prior.dip] = 0.0  # PIP bent, DIP straight
    e = {k: float(hand_prior.energy(v)) for k, v in dict(relaxed=relaxed, flat=flat, hyper=hyper,
                                                        twisted=twisted, uncoupled=uncoupled).items()}
    assert e["relaxed"] < 1.0 < e["flat"] < e["hyper"]
    assert e["twisted"] > e["flat"] and e["uncoupled"] > e["relaxed"] + 5
    comp = hand_prior.components(relaxed)
    assert torch.allclose(comp[..., 0], hand_prior.relaxed[None]) and comp[..., 1:].abs().max() < 1e-12


def test_E_theta_f_and_E_epsilon_are_present_and_trivial_on_the_open_model(model):
    jaw = torch.tensor([[0.1, 0.2, -0.3]], dtype=torch.float64)
    assert torch.allclose(X.E_theta_f(jaw), torch.tensor([0.01 + 4.0 + 9.0], dtype=torch.float64))
    assert X.E_theta_f(jaw, (0.0, 0.0, 0.0)).item() == 0.0
    # the open model's jaw moves no vertex and no keypoint
    pose = torch.zeros(1, 55, 3)
    pose[0, X.JAW] = torch.tensor([0.4, 0.1, 0.1])
    assert torch.equal(model(pose=pose).vertices, model().vertices)
    assert X.E_epsilon(torch.zeros(2, 0)).tolist() == [0.0, 0.0]
    assert torch.allclose(X.E_epsilon(torch.tensor([[1.0, -2.0]])), torch.tensor([5.0]))


def test_E_alpha_signs_on_the_smplx_model(model):
    """A natural bend (the left hand forward, the lower leg backward) costs less than the opposite one."""
    wrist, ankle = SMPLX_JOINT_NAMES.index("left_wrist"), SMPLX_JOINT_NAMES.index("left_ankle")
    for joint_name, axis, moved, direction in (("left_elbow", 1, wrist, 1.0), ("right_elbow", 1, SMPLX_JOINT_NAMES.index("right_wrist"), 1.0),
                                               ("left_knee", 0, ankle, -1.0)):
        j = SMPLX_JOINT_NAMES.index(joint_name)
        costs, fronts = [], []
        for angle in (0.5, -0.5):
            pose = torch.zeros(1, 55, 3)
            pose[0, j, axis] = angle
            costs.append(float(X.E_alpha(pose)))
            fronts.append(float(model(pose=pose).joints[0, moved, 2] - model().joints[0, moved, 2]) * direction)
        natural = 0 if fronts[0] > fronts[1] else 1
        assert fronts[natural] > 0 and costs[natural] < costs[1 - natural], joint_name
    assert X.E_alpha(torch.zeros(2, 55, 3)).tolist() == [4.0, 4.0]


def test_E_beta_is_the_squared_norm():
    b = torch.tensor([[1.0, 2.0], [0.0, -3.0]])
    assert X.E_beta(b).tolist() == [5.0, 9.0]


def test_E_c_pairs_gradient_and_a_step_that_lowers_it(model):
    parts = X.mesh_parts(model)
    assert X.collision_pairs(model().vertices, model, parts).shape == (0, 3)
    pose = _hand_into_torso().requires_grad_(True)
    verts = model(pose=pose).vertices
    pairs = X.collision_pairs(verts, model, parts)
    assert len(pairs) > 20
    e = X.E_c(verts, model.faces, pairs)
    assert float(e.detach()) > 0
    (g,) = torch.autograd.grad(e.sum(), pose)
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    # in the vertices, E_c's gradient agrees with a central difference along it, and a step down lowers it
    v = verts.detach().double().requires_grad_(True)
    e64 = X.E_c(v, model.faces, pairs)
    (gv,) = torch.autograd.grad(e64.sum(), v)
    d, h = gv / gv.norm(), 1e-7
    with torch.no_grad():
        slope = (X.E_c(v + h * d, model.faces, pairs) - X.E_c(v - h * d, model.faces, pairs)) / (2 * h)
        assert abs(float(slope) - float(gv.norm())) < 1e-3 * float(gv.norm())
        assert float(X.E_c(v - 1e-3 * d, model.faces, pairs)) < float(e64)


def test_check_keypoints_x_accepts_each_set_width():
    for sets, k in ((("body",), 25), (("body", "hands"), 67), (("body", "hands", "face"), 118), (("face",), 51)):
        X.check_keypoints_x(torch.zeros(2, k, 2), torch.ones(2, k), sets)
        assert len(X.set_of_keypoints(sets)) == k


# --------------------------------------------------------------------------- the fit


def test_keypoint_body_equals_the_full_model(model):
    m64 = load_body_model(open_smplx_model_file(), layout="native").double()
    gen = torch.Generator().manual_seed(3)
    betas = torch.randn(2, m64.num_betas, generator=gen, dtype=torch.float64)
    pose = 0.4 * torch.randn(2, 55, 3, generator=gen, dtype=torch.float64)
    transl = torch.randn(2, 3, generator=gen, dtype=torch.float64)
    full = m64(betas=betas, pose=pose, transl=transl)
    body = X.KeypointBody(m64)
    assert torch.allclose(body(betas, pose, transl), kx.select_keypoints(full, m64), atol=1e-10)
    ids = torch.tensor([0, 5000, 13717])
    joints, verts = body._posed(betas, pose, transl, ids)
    assert torch.allclose(joints, full.joints, atol=1e-10) and torch.allclose(verts, full.vertices[:, ids], atol=1e-10)


def _synthetic(model, pose, noise_px=1.0, seed=0):
    from humanlib.fitting.camera import Camera, project

    b = pose.shape[0]
    camera = Camera.simple(b, 1000.0, 640.0, 640.0)
    gen = torch.Generator().manual_seed(seed)
    betas = torch.randn(b, model.num_betas, generator=gen).clamp(-1.5, 1.5)
    transl = torch.tensor([[0.0, 0.3, 4.5]]).repeat(b, 1)
    with torch.no_grad():
        kp = project(X.KeypointBody(model)(betas.double(), pose.double(), transl.double()).float(), camera)
    kp = kp + noise_px * torch.randn(kp.shape, generator=gen)
    return kp, torch.ones(kp.shape[:2]), camera, betas, transl


def _test_pose(hand_prior):
    """A corpus-free test pose: arms lowered and bent, a knee bent, fingers curled (not drawn from E_mh)."""
    pose = torch.zeros(1, 55, 3)
    pose[0, 0] = torch.tensor([math.pi, 0.0, 0.0]) @ torch.eye(3)  # upright, facing the camera
    for name, axis, angle in (("left_shoulder", 2, -0.9), ("right_shoulder", 2, 0.9), ("left_elbow", 1, -0.8),
                              ("right_elbow", 1, 0.6), ("left_knee", 0, 0.7), ("right_hip", 0, -0.4)):
        pose[0, SMPLX_JOINT_NAMES.index(name), axis] = angle
    pose[0, 25:] = (0.8 * hand_prior.frames[:, 0]).float()  # every finger joint flexed by 0.8 rad
    return pose


def test_fit_smplifyx_reduces_the_joint_error_well_below_the_start(model, hand_prior):
    pose = _test_pose(hand_prior)
    kp, conf, camera, betas, transl = _synthetic(model, pose)
    config = X.SMPLifyXConfig(stages=X.smplifyx_stages(iterations=20), camera_iterations=20, use_collision=False,
                              flip_test=False)
    start_config = X.SMPLifyXConfig(stages=X.smplifyx_stages(iterations=0), camera_iterations=20,
                                    use_collision=False, flip_test=False)
    errors = []
    with torch.no_grad():
        true = model(betas=betas, pose=pose, transl=transl).joints
    for cfg in (start_config, config):
        res = X.fit_smplifyx(model, kp, conf, camera, config=cfg)
        with torch.no_grad():
            fit = model(betas=res.betas, pose=res.pose, transl=res.transl).joints
        # pelvis-aligned joint error over the 55 joints (fingers included), mm
        errors.append(float(((fit - fit[:, :1]) - (true - true[:, :1])).norm(dim=-1).mean()) * 1000)
    assert res.pose.shape == (1, 55, 3) and res.expression.shape == (1, 0) and bool(res.valid.all())
    assert errors[1] < 0.5 * errors[0], errors
    assert len(res.stage_energy) == 6 and res.stage_energy[-2] < res.stage_energy[0]


def test_freeze_hands_face_keeps_fingers_and_jaw_exactly_zero_and_still_fits_the_body(model, hand_prior):
    pose = _test_pose(hand_prior)  # curled fingers in the keypoints: the frozen fit must not follow them
    kp, conf, camera, betas, transl = _synthetic(model, pose)
    results, errors = {}, {}
    with torch.no_grad():
        true = model(betas=betas, pose=pose, transl=transl).joints[:, :22]
    for name, iterations, frozen in (("start", 0, True), ("frozen", 20, True), ("free", 20, False)):
        cfg = X.SMPLifyXConfig(stages=X.smplifyx_stages(iterations=iterations), camera_iterations=20,
                               use_collision=False, flip_test=False, freeze_hands_face=frozen)
        res = results[name] = X.fit_smplifyx(model, kp, conf, camera, config=cfg)
        with torch.no_grad():
            fit = model(betas=res.betas, pose=res.pose, transl=res.transl).joints[:, :22]
        errors[name] = float(((fit - fit[:, :1]) - (true - true[:, :1])).norm(dim=-1).mean())
    rigid = results["frozen"].pose
    assert torch.equal(rigid[:, 22:], torch.zeros_like(rigid[:, 22:]))  # jaw, eyes, 30 finger joints
    assert float(results["free"].pose[:, 25:].abs().max()) > 0.1  # unfrozen, the fingers do move
    assert errors["frozen"] < 0.6 * errors["start"], errors  # the body is still fitted


def test_collision_search_with_the_part_filter_equals_the_full_search(model):
    from humanlib.fitting.collision import intersecting_pairs

    parts = X.mesh_parts(model)
    pose = torch.cat([_hand_into_torso(), 0.3 * torch.randn(1, 55, 3, generator=torch.Generator().manual_seed(4))])
    v = model(pose=pose).vertices
    pairs = X.collision_pairs(v, model, parts)
    assert len(pairs) > 20 and torch.equal(pairs, intersecting_pairs(v, model.faces, parts))


def test_E_c_removes_the_hand_through_torso_contact_and_the_fit_without_it_keeps_it(model, hand_prior):
    from humanlib.fitting.camera import Camera, project

    pose = _hand_into_torso()
    pose[0, 0] = torch.tensor([math.pi, 0.0, 0.0])
    pose[0, 25:] = (0.3 * hand_prior.frames[:, 0]).float()
    camera = Camera.simple(1, 1000.0, 640.0, 640.0)
    betas, transl = torch.zeros(1, model.num_betas), torch.tensor([[0.0, 0.3, 4.5]])
    with torch.no_grad():
        kp = project(X.KeypointBody(model)(betas.double(), pose.double(), transl.double()).float(), camera)
    parts = X.mesh_parts(model)
    truth = len(X.collision_pairs(model(betas=betas, pose=pose, transl=transl).vertices, model, parts))
    counts = {}
    for use in (False, True):
        cfg = X.SMPLifyXConfig(stages=X.smplifyx_stages(iterations=20), camera_iterations=20, use_collision=use,
                               collision_every=10, flip_test=False)
        res = X.fit_smplifyx(model, kp, torch.ones(kp.shape[:2]), camera, config=cfg)
        with torch.no_grad():
            counts[use] = len(X.collision_pairs(model(betas=res.betas, pose=res.pose, transl=res.transl).vertices,
                                                model, parts))
        if use:
            assert len(res.collision_pairs) == 2 and max(res.collision_pairs) > 0  # E_c had pairs to work on
    # the keypoints come from a body with its forearm in the torso: the fit without E_c reproduces part of it
    assert truth > 50 and counts[False] > 10, (truth, counts)
    assert counts[True] < 0.25 * counts[False], (truth, counts)


def test_humanlib_fit_fits_openpose_body_and_hand_keypoints_with_the_smplx_model(model, hand_prior, tmp_path):
    import numpy as np

    from humanlib import cli

    kp, conf, _, _, _ = _synthetic(model, _test_pose(hand_prior))
    np.savez(tmp_path / "kp.npz", keypoints=kp[:, :67].numpy(), confidence=conf[:, :67].numpy())
    out = tmp_path / "fit.npz"
    assert cli.main(["fit", str(tmp_path / "kp.npz"), "--out", str(out), "--iterations", "3"]) == 0
    with np.load(out) as fit:
        assert fit["pose"].shape == (1, 55, 3) and fit["betas"].shape == (1, 10) and fit["expression"].shape == (1, 0)
        assert str(fit["keypoint_sets"]) == "body + hands" and bool(fit["valid"].all())
        assert np.isfinite(fit["pose"]).all() and np.abs(fit["pose"][:, 25:]).sum() > 0  # the fingers were fitted


def test_the_config_fields_shared_with_smplify_keep_its_defaults_and_reach_the_camera_step():
    """SMPLifyXConfig repeats SMPLifyConfig's camera-step and solver fields (dataclass inheritance would put them
    before ``stages`` and ``sets`` and reorder the constructor): each copy keeps SMPLify's default, and
    ``smplify_config()`` hands every one but ``min_visible_joints`` (25 body keypoints here, 24 joints there) on."""
    from dataclasses import fields

    from humanlib.fitting.smplify import SMPLifyConfig

    x, s = ({f.name: f.default for f in fields(c)} for c in (X.SMPLifyXConfig, SMPLifyConfig))
    shared = sorted(set(x) & set(s) - {"stages"})
    assert len(shared) == 11 and all(x[name] == s[name] for name in shared)
    changed = {"sigma_px": 50.0, "square_weights": False, "camera_iterations": 7, "depth_weight": 3.0, "flip_test": False,
               "flip_threshold_px": 9.0, "on_invalid": "skip", "lbfgs_history": 4, "optimizer": "batch",
               "precision": "input"}
    assert sorted(changed) == sorted(set(shared) - {"min_visible_joints"})
    passed = X.SMPLifyXConfig(**changed).smplify_config()
    assert {name: getattr(passed, name) for name in changed} == changed
