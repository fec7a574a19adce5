"""Tests of humanlib.fitting: energies, camera, Procrustes, SMPLify fits and bad input."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib.fitting import (
    BENDING_JOINTS,
    Camera,
    CapsuleBody,
    SMPLifyConfig,
    angle_energy,
    fit_smplify,
    geman_mcclure,
    interpenetration_energy,
    keypoint_energy,
    project,
    shape_energy,
)
from humanlib.fitting.camera import estimate_depth
from humanlib.fitting.evaluate import (
    SyntheticConfig,
    fit_errors,
    make_synthetic_batch,
    procrustes_align,
)
from humanlib.fitting.smplify import sanitize_keypoints, smplify_stages
from humanlib.priors import NoPrior
from humanlib.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from humanlib.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, joint

# --------------------------------------------------------------------------- a tiny body model

#: A T-pose skeleton in SMPL's frame (Y up, +X the body's left, +Z forward), metres.
TINY_REST = {
    "pelvis": (0, 0, 0), "left_hip": (0.09, -0.08, 0), "right_hip": (-0.09, -0.08, 0),
    "spine1": (0, 0.1, 0), "left_knee": (0.1, -0.5, 0), "right_knee": (-0.1, -0.5, 0),
    "spine2": (0, 0.22, 0), "left_ankle": (0.1, -0.9, 0), "right_ankle": (-0.1, -0.9, 0),
    "spine3": (0, 0.3, 0), "left_foot": (0.1, -0.95, 0.12), "right_foot": (-0.1, -0.95, 0.12),
    "neck": (0, 0.5, 0), "left_collar": (0.07, 0.43, 0), "right_collar": (-0.07, 0.43, 0),
    "head": (0, 0.62, 0), "left_shoulder": (0.18, 0.45, 0), "right_shoulder": (-0.18, 0.45, 0),
    "left_elbow": (0.45, 0.45, 0), "right_elbow": (-0.45, 0.45, 0), "left_wrist": (0.7, 0.45, 0),
    "right_wrist": (-0.7, 0.45, 0), "left_hand": (0.78, 0.45, 0), "right_hand": (-0.78, 0.45, 0),
}


@dataclass
class TinyOutput:
    vertices: torch.Tensor
    joints: torch.Tensor


class TinyBody:
    """Forward kinematics of a stick skeleton with rings of vertices around each bone.

    Two shape coefficients: ``beta_0`` scales the body (5% per unit), ``beta_1`` the width.
    Vertices follow their bone's parent joint rigidly (one-bone skinning).
    """

    num_betas = 2

    def __init__(self, dtype=torch.float32):
        self.rest = torch.tensor([TINY_REST[n] for n in JOINT_NAMES], dtype=dtype)
        verts, owner = [], []
        for k in range(1, NUM_JOINTS):
            p = PARENTS[k]
            radius = 0.12 if JOINT_NAMES[k].startswith("spine") or JOINT_NAMES[k] == "neck" else 0.05
            a, b = self.rest[p], self.rest[k]
            axis = (b - a) / (b - a).norm()
            u = torch.linalg.cross(axis, torch.tensor([0.3, 0.5, 0.8], dtype=dtype))
            u = u / u.norm()
            v = torch.linalg.cross(axis, u)
            for t in (0.25, 0.75):
                for ang in np.linspace(0, 2 * np.pi, 6, endpoint=False):
                    verts.append(a + t * (b - a) + radius * (math.cos(ang) * u + math.sin(ang) * v))
                    owner.append(p)
        self.template = torch.stack(verts)
        self.owner = torch.tensor(owner)
        self.faces = torch.zeros(0, 3, dtype=torch.long)

    def __call__(self, betas, pose, transl):
        scale = (1 + 0.05 * betas[:, 0])[:, None, None]
        rest = self.rest.to(pose) * scale
        joint_of = self.rest.to(pose)[self.owner]
        verts_rest = joint_of * scale + (self.template.to(pose) - joint_of) * scale * (1 + 0.1 * betas[:, 1])[:, None, None]
        rot = axis_angle_to_rotmat(pose)
        world_r, world_t = [rot[:, 0]], [rest[:, 0]]
        for k in range(1, NUM_JOINTS):
            p = PARENTS[k]
            world_r.append(world_r[p] @ rot[:, k])
            world_t.append(world_t[p] + (world_r[p] @ (rest[:, k] - rest[:, p]).unsqueeze(-1)).squeeze(-1))
        wr, wt = torch.stack(world_r, 1), torch.stack(world_t, 1)
        local = verts_rest - rest[:, self.owner]
        verts = (wr[:, self.owner] @ local.unsqueeze(-1)).squeeze(-1) + wt[:, self.owner]
        return TinyOutput(verts + transl[:, None], wt + transl[:, None])


@pytest.fixture(scope="module")
def tiny():
    return TinyBody()


def open_model():
    try:
        from humanlib.body import load_body_model

        return load_body_model()
    except (ImportError, FileNotFoundError) as err:
        pytest.skip(f"the open body model is not available ({err})")


# --------------------------------------------------------------------------- E_J pieces


@settings(max_examples=50, deadline=None)
@given(r=st.floats(0.0, 1e4), sigma=st.floats(1.0, 500.0))
def test_geman_mcclure_properties(r, sigma):
    rho = geman_mcclure(torch.tensor(r * r, dtype=torch.float64), sigma)
    assert 0.0 <= rho.item() <= sigma * sigma  # bounded
    assert rho.item() <= r * r + 1e-9  # never above the quadratic
    bigger = geman_mcclure(torch.tensor((r + 1.0) ** 2, dtype=torch.float64), sigma)
    assert bigger.item() >= rho.item() - 1e-9  # monotone


def test_geman_mcclure_limits_and_gradient():
    s = 100.0
    small = torch.tensor([1e-2], dtype=torch.float64)
    torch.testing.assert_close(geman_mcclure(small**2, s), small**2, rtol=1e-6, atol=0)
    assert geman_mcclure(torch.tensor([1e12], dtype=torch.float64), s).item() == pytest.approx(s * s, rel=1e-6)
    x = torch.tensor([0.0, 3.0, 300.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda r: geman_mcclure(r * r, s), (x,))
    with pytest.raises(ValueError, match="sigma"):
        geman_mcclure(x, 0.0)


def test_keypoint_energy_matches_loop():
    g = torch.Generator().manual_seed(0)
    proj = torch.randn(3, 24, 2, generator=g, dtype=torch.float64) * 200
    kp = torch.randn(3, 24, 2, generator=g, dtype=torch.float64) * 200
    w = torch.rand(3, 24, generator=g, dtype=torch.float64)
    ref = torch.zeros(3, dtype=torch.float64)
    for b in range(3):
        for i in range(24):
            r2 = float(((proj[b, i] - kp[b, i]) ** 2).sum())
            ref[b] += w[b, i] * 100.0**2 * r2 / (100.0**2 + r2)
    torch.testing.assert_close(keypoint_energy(proj, kp, w, 100.0), ref)


def test_projection_matches_pinhole_formula_and_gradcheck():
    cam = Camera(torch.tensor([[1000.0, 900.0]], dtype=torch.float64), torch.tensor([[320.0, 240.0]], dtype=torch.float64))
    p = torch.tensor([[[0.5, -0.2, 4.0], [0.0, 0.0, 2.0]]], dtype=torch.float64, requires_grad=True)
    uv = project(p, cam)
    torch.testing.assert_close(uv[0, 0], torch.tensor([320 + 1000 * 0.125, 240 - 900 * 0.05], dtype=torch.float64))
    torch.testing.assert_close(uv[0, 1], torch.tensor([320.0, 240.0], dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda x: project(x, cam), (p,))
    behind = torch.tensor([[[0.1, 0.1, -1.0]]], dtype=torch.float64, requires_grad=True)
    project(behind, cam).sum().backward()
    assert torch.isfinite(behind.grad).all()
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        Camera(torch.ones(2), torch.ones(2))
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        project(torch.zeros(1, 3), cam)


def test_depth_from_similar_triangles(tiny):
    """Noise-free keypoints of the rest body at depth z give back z."""
    pose = torch.zeros(2, 24, 3)
    pose[:, 0, 0] = math.pi  # facing the camera
    transl = torch.tensor([[0.1, 0.0, 5.0], [-0.2, 0.1, 8.0]])
    out = tiny(torch.zeros(2, 2), pose, transl)
    cam = Camera.simple(2, 1000.0, 640, 640)
    kp = project(out.joints, cam)
    depth = estimate_depth(kp, torch.ones(2, 24), tiny.rest, cam)
    torch.testing.assert_close(depth, transl[:, 2], rtol=0.02, atol=0)


# --------------------------------------------------------------------------- E_a, E_sp, E_beta


def test_angle_energy_names_match_smplify_indices():
    """The named joints are SMPLify's flattened indices [55, 58, 12, 15] with signs [1, -1, -1, -1]."""
    pose = torch.randn(5, 24, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    flat = pose.reshape(5, 72)
    ref = torch.exp(flat[:, 55]) + torch.exp(-flat[:, 58]) + torch.exp(-flat[:, 12]) + torch.exp(-flat[:, 15])
    torch.testing.assert_close(angle_energy(pose), ref)
    x = pose[:2].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(angle_energy, (x,))


def _bend_checks(model):
    """For each bending joint: the unpenalised direction is the natural flexion."""
    front = 2  # +Z is the body's front
    for bj in BENDING_JOINTS:
        child = joint(bj.name.replace("elbow", "wrist").replace("knee", "ankle"))
        moves = {}
        for direction in (-1.0, 1.0):
            pose = torch.zeros(1, 24, 3)
            pose[0, bj.index, bj.axis] = direction * 0.8
            out = model(betas=torch.zeros(1, model.num_betas), pose=pose, transl=torch.zeros(1, 3))
            rest = model(betas=torch.zeros(1, model.num_betas), pose=torch.zeros(1, 24, 3), transl=torch.zeros(1, 3))
            moves[direction] = float(out.joints[0, child, front] - rest.joints[0, child, front])
            energy = float(angle_energy(pose))
            penalised = energy > 3.0 + math.exp(0.0) + 0.5  # the other three joints give 3 at rest
            natural = moves[direction] > 0 if "elbow" in bj.name else moves[direction] < 0
            assert natural != penalised, (bj.name, direction, moves[direction], energy)


def test_angle_prior_sign_convention_tiny_model(tiny):
    _bend_checks(_Wrap(tiny))


def test_angle_prior_sign_convention_open_model():
    """Bending an elbow or knee the natural way is not penalised on the open body model; hyper-extension is."""
    _bend_checks(open_model())


class _Wrap:
    def __init__(self, m):
        self.m, self.num_betas = m, m.num_betas

    def __call__(self, betas, pose, transl):
        return self.m(betas, pose, transl)


def test_interpenetration_matches_loop_and_detects_crossing(tiny):
    rest = tiny(torch.zeros(1, 2), torch.zeros(1, 24, 3), torch.zeros(1, 3))
    caps = CapsuleBody(rest.vertices[0], rest.joints[0])
    radii = caps.radii(rest.vertices, rest.joints)
    assert radii.shape == (1, 10) and (radii > 0.02).all()
    centres, sig = caps.spheres(rest.joints, radii)
    e_rest = interpenetration_energy(centres, sig, caps.pairs)
    ref = sum(
        math.exp(-float((centres[0, i] - centres[0, j]).square().sum()) / float(sig[0, i] ** 2 + sig[0, j] ** 2))
        for i, j in caps.pairs.tolist()
    )
    assert float(e_rest) == pytest.approx(ref, rel=1e-5)
    # Arm down, forearm swung through the belly: the penalty rises by orders of magnitude.
    pose = torch.zeros(1, 24, 3)
    pose[0, joint("left_shoulder"), 2] = -math.pi / 2  # upper arm down along the side
    pose[0, joint("left_elbow"), 2] = -math.pi / 2  # forearm horizontal, through the torso
    crossed = tiny(torch.zeros(1, 2), pose, torch.zeros(1, 3))
    e_cross = interpenetration_energy(*caps.spheres(crossed.joints, radii), caps.pairs)
    assert float(e_cross) > 100 * float(e_rest) and float(e_cross) > 0.1


@pytest.mark.parametrize("batch", [1, 64])
def test_stage_pair_penalty_equals_the_checked_energy(tiny, batch):
    """The fit's E_sp (radii fixed for a stage, indices cached) is interpenetration_energy of the spheres, bit for bit."""
    from humanlib.fitting.energies import _PairPenalty

    rest = tiny(torch.zeros(1, 2), torch.zeros(1, 24, 3), torch.zeros(1, 3))
    caps = CapsuleBody(rest.vertices[0], rest.joints[0])
    g = torch.Generator().manual_seed(batch)
    pose = 0.5 * torch.randn(batch + 3, 24, 3, generator=g)
    bodies = tiny(0.5 * torch.randn(batch + 3, 2, generator=g), pose, torch.zeros(batch + 3, 3))
    radii = caps.radii(rest.vertices.expand(batch + 3, -1, -1), rest.joints.expand(batch + 3, -1, -1))
    radii = radii * (1 + torch.rand(batch + 3, 1, generator=g))  # a radius per body and part
    idx = torch.arange(batch + 3)[torch.randperm(batch + 3, generator=g)[:batch]]  # a subset, shuffled
    j1, j2 = bodies.joints[idx].clone().requires_grad_(True), bodies.joints[idx].clone().requires_grad_(True)
    fast = _PairPenalty(caps, radii, caps.pairs)(j1, idx)
    checked = interpenetration_energy(*caps.spheres(j2, radii[idx]), caps.pairs)
    assert fast.shape == (batch,) and torch.equal(fast, checked)
    assert torch.equal(torch.autograd.grad(fast.sum(), j1)[0], torch.autograd.grad(checked.sum(), j2)[0])


def test_shape_energy():
    b = torch.tensor([[1.0, 2.0], [0.0, -3.0]])
    torch.testing.assert_close(shape_energy(b), torch.tensor([5.0, 9.0]))


# --------------------------------------------------------------------------- Procrustes


def test_procrustes_recovers_similarity():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 30, 3, generator=g, dtype=torch.float64)
    rot = axis_angle_to_rotmat(torch.randn(4, 3, generator=g, dtype=torch.float64))
    y = 1.7 * x @ rot.transpose(1, 2) + torch.randn(4, 1, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(procrustes_align(x, y), y)
    # A mirror image is not reachable by a rotation: some error remains.
    mirrored = y * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert (procrustes_align(x, mirrored) - mirrored).norm(dim=-1).mean() > 0.1
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        procrustes_align(x, y[:, :5])


# --------------------------------------------------------------------------- fitting


def _tiny_batch(tiny, n=4, seed=0, noise=0.0):
    g = torch.Generator().manual_seed(seed)
    body = 0.25 * torch.randn(n, 21, 3, generator=g)
    for bj in BENDING_JOINTS:  # bend elbows/knees the natural way only
        body[:, bj.index - 1, bj.axis] = -bj.sign * body[:, bj.index - 1, bj.axis].abs()
    cfg = SyntheticConfig(noise_px=noise, missing_prob=0.0, max_yaw_deg=30.0,
                          observed_joints=tuple(range(24)), beta_clip=1.0)
    return make_synthetic_batch(_Wrap(tiny), body, cfg, seed=seed)


def _quick_config(**kw):
    return SMPLifyConfig(stages=smplify_stages(iterations=25), camera_iterations=20,
                         use_interpenetration=False, **kw)


def _frontal_batch(tiny, n=3):
    """Bodies facing the camera, posed by rotations in the image plane only (no depth ambiguity)."""
    g = torch.Generator().manual_seed(0)
    body = torch.zeros(n, 21, 3)
    for name in ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_hip", "right_hip",
                 "spine1", "left_knee", "right_knee"):
        body[:, joint(name) - 1, 2] = 0.6 * (torch.rand(n, generator=g) * 2 - 1)
    cfg = SyntheticConfig(noise_px=1.0, missing_prob=0.0, max_yaw_deg=0.0, observed_joints=tuple(range(24)), beta_clip=1.0)
    return make_synthetic_batch(_Wrap(tiny), body, cfg, seed=0)


FRONTAL_CONFIG = SMPLifyConfig(stages=smplify_stages(iterations=20), camera_iterations=20,
                               use_interpenetration=False, use_angle_prior=False)


def test_fit_recovers_frontal_pose_without_prior(tiny):
    """Rotations in the image plane are seen fully by one camera: a fit without prior recovers them."""
    batch = _frontal_batch(tiny)
    res = fit_smplify(_Wrap(tiny), batch.keypoints, batch.confidence, batch.camera, NoPrior(), FRONTAL_CONFIG)
    assert res.valid.all() and torch.isfinite(res.pose).all()
    fit = tiny(res.betas, res.pose, res.transl)
    true = tiny(batch.betas, batch.pose, batch.transl)
    err = fit_errors(fit.vertices, fit.joints, true.vertices, true.joints)
    init = tiny(torch.zeros_like(batch.betas), torch.zeros_like(batch.pose), batch.transl)
    err0 = fit_errors(init.vertices, init.joints, true.vertices, true.joints)
    assert float(err.joints_pa.mean()) < 0.4 * float(err0.joints_pa.mean())
    assert float(err.joints_pa.mean()) < 30.0  # mm
    # The reprojection error is at the noise level (1 px per coordinate: E[r^2] = 2 px^2 a joint).
    assert float(res.data_energy.mean()) / 24 < 5.0


def test_fit_does_not_depend_on_the_batch(tiny):
    """With the per-frame solver (the default) a frame ends where it ends alone, whatever its batch mates."""
    batch = _frontal_batch(tiny, n=4)
    whole = fit_smplify(_Wrap(tiny), batch.keypoints, batch.confidence, batch.camera, None, FRONTAL_CONFIG)
    for rows in (torch.tensor([1]), torch.tensor([3, 0])):
        part = fit_smplify(_Wrap(tiny), batch.keypoints[rows], batch.confidence[rows], batch.camera.index(rows),
                           None, FRONTAL_CONFIG)
        torch.testing.assert_close(part.pose, whole.pose[rows], atol=1e-5, rtol=0)
        torch.testing.assert_close(part.transl, whole.transl[rows], atol=1e-5, rtol=0)
        torch.testing.assert_close(part.energy, whole.energy[rows], atol=1e-3, rtol=1e-5)


def test_batch_solver_still_fits_the_batch(tiny):
    """``optimizer="batch"`` (torch's L-BFGS on the summed energy, kept to compare) fits as well on this batch."""
    batch = _frontal_batch(tiny, n=3)
    config = replace(FRONTAL_CONFIG, optimizer="batch")
    res = fit_smplify(_Wrap(tiny), batch.keypoints, batch.confidence, batch.camera, None, config)
    assert float(res.data_energy.mean()) / 24 < 5.0


def test_fit_runs_in_double_precision_and_returns_the_inputs_dtype(tiny):
    from humanlib.priors.gmm import GaussianMixture, GMMPosePrior

    batch = _frontal_batch(tiny, n=2)
    assert batch.keypoints.dtype == torch.float32
    g = torch.Generator().manual_seed(0)
    mixture = GaussianMixture(torch.tensor([0.4, 0.6]), 0.1 * torch.randn(2, 63, generator=g),
                              0.05 * torch.eye(63).expand(2, 63, 63))
    prior = GMMPosePrior(mixture, mode="min").to(torch.float32)
    res = fit_smplify(_Wrap(tiny), batch.keypoints, batch.confidence, batch.camera, prior, _quick_config())
    assert res.pose.dtype == res.betas.dtype == res.energy.dtype == torch.float32
    assert next(prior.buffers()).dtype == torch.float32  # the caller's prior is given back as it was
    single = fit_smplify(_Wrap(tiny), batch.keypoints, batch.confidence, batch.camera, prior,
                         replace(_quick_config(), precision="input"))
    assert single.pose.dtype == torch.float32
    # Both fit (float32 round-off may steer a frame to a nearby minimum: not asserted equal).
    torch.testing.assert_close(single.energy, res.energy, rtol=0.1, atol=0)


def test_rest_mesh_equals_the_model_at_the_zero_pose():
    """The fitter's unposed mesh (for E_sp's radii and the camera step) equals the skinned model at pose 0."""
    from humanlib.fitting.smplify import _SkeletonOnly

    model = open_model()
    betas = torch.randn(3, model.num_betas, generator=torch.Generator().manual_seed(2))
    out = model(betas=betas, pose=torch.zeros(3, 24, 3), transl=torch.zeros(3, 3))
    vertices, joints = _SkeletonOnly(model).rest_mesh(betas)
    torch.testing.assert_close(vertices, out.vertices, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(joints, out.joints, atol=1e-5, rtol=1e-5)


def test_bad_keypoint_inputs(tiny):
    batch = _tiny_batch(tiny, n=2)
    model, cam = _Wrap(tiny), batch.camera
    cfg = _quick_config().with_iterations(2)
    with pytest.raises(ValueError, match=r"\(B, 24, 2\)"):
        fit_smplify(model, batch.keypoints[:, :14], batch.confidence[:, :14], cam, None, cfg)
    with pytest.raises(ValueError, match="confidence must have shape"):
        fit_smplify(model, batch.keypoints, batch.confidence[:, :3], cam, None, cfg)
    with pytest.raises(ValueError, match=">= 0"):
        fit_smplify(model, batch.keypoints, -batch.confidence, cam, None, cfg)
    zero = batch.confidence.clone()
    zero[1] = 0.0
    with pytest.raises(ValueError, match=r"frames \[1\]"):
        fit_smplify(model, batch.keypoints, zero, cam, None, cfg)
    # NaN keypoints of observed joints are an error (naming the first one), not silently dropped.
    nan_kp = batch.keypoints.clone()
    nan_kp[0] = float("nan")
    with pytest.raises(ValueError, match=r"non-finite .* first frame 0, joint 0 \(pelvis\).*sanitize_keypoints"):
        fit_smplify(model, nan_kp, batch.confidence, cam, None, cfg)
    # sanitize_keypoints marks them missing: an all-NaN frame becomes invalid.
    with pytest.raises(ValueError, match=r"frames \[0\]"):
        fit_smplify(model, *sanitize_keypoints(nan_kp, batch.confidence), cam, None, cfg)
    # With on_invalid="skip" the bad frame is flagged and nothing is NaN but its energy.
    skip = SMPLifyConfig(stages=cfg.stages, camera_iterations=2, use_interpenetration=False, on_invalid="skip")
    res = fit_smplify(model, *sanitize_keypoints(nan_kp, batch.confidence), cam, None, skip)
    assert res.valid.tolist() == [False, True]
    assert torch.isfinite(res.pose).all() and torch.isfinite(res.betas).all() and torch.isfinite(res.transl).all()
    assert torch.isnan(res.energy[0]) and torch.isfinite(res.energy[1])
    # A few NaN joints, sanitized or given confidence 0, are simply missing: the fit stays finite.
    some_nan = batch.keypoints.clone()
    some_nan[:, joint("left_wrist")] = float("nan")
    res = fit_smplify(model, *sanitize_keypoints(some_nan, batch.confidence), cam, None, cfg)
    assert res.valid.all() and torch.isfinite(res.energy).all() and torch.isfinite(res.pose).all()
    no_wrist = batch.confidence.clone()
    no_wrist[:, joint("left_wrist")] = 0.0
    res = fit_smplify(model, some_nan, no_wrist, cam, None, cfg)
    assert res.valid.all() and torch.isfinite(res.energy).all() and torch.isfinite(res.pose).all()
    with pytest.raises(ValueError, match="on_invalid"):
        SMPLifyConfig(on_invalid="ignore")


def test_energy_gradients_finite_at_rest(tiny):
    """Every term has a finite gradient at the zero pose (axis-angle's awkward point)."""
    pose = torch.zeros(2, 24, 3, dtype=torch.float64, requires_grad=True)
    betas = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    model = TinyBody(torch.float64)
    rest = model(betas, torch.zeros(2, 24, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64))
    caps = CapsuleBody(rest.vertices[0], rest.joints[0])
    out = model(betas, pose, torch.tensor([[0.0, 0.0, 5.0]] * 2, dtype=torch.float64))
    cam = Camera.simple(2, 1000.0, 640, 640, dtype=torch.float64)
    e = keypoint_energy(project(out.joints, cam), torch.full((2, 24, 2), 320.0, dtype=torch.float64), torch.ones(2, 24, dtype=torch.float64))
    e = e + angle_energy(pose) + shape_energy(betas)
    e = e + interpenetration_energy(*caps.spheres(out.joints, caps.radii(rest.vertices, rest.joints)), caps.pairs)
    e.sum().backward()
    assert torch.isfinite(pose.grad).all() and torch.isfinite(betas.grad).all()


def test_flip_test_picks_the_right_facing(tiny):
    """A body turned away from the camera, seen from the side, is fitted facing away."""
    batch = _tiny_batch(tiny, n=1, seed=4)
    pose = torch.zeros(1, 24, 3)
    pose[0, joint("left_elbow"), 1] = -1.0  # elbows bent forward: front and back differ
    pose[0, joint("right_elbow"), 1] = 1.0
    # Facing away (R_z(pi)), then turned 75 degrees about the vertical: shoulders close in 2D.
    rot = axis_angle_to_rotmat(torch.tensor([[0.0, 0.0, math.pi]])) @ axis_angle_to_rotmat(torch.tensor([[0.0, 1.3, 0.0]]))
    pose[:, 0] = rotmat_to_axis_angle(rot)
    out = tiny(batch.betas, pose, batch.transl)
    kp = project(out.joints, batch.camera)
    ls, rs = joint("left_shoulder"), joint("right_shoulder")
    assert float((kp[0, ls] - kp[0, rs]).norm()) < 40.0
    res = fit_smplify(_Wrap(tiny), kp, torch.ones(1, 24), batch.camera, None, _quick_config())
    assert bool(res.flipped[0])


def test_skeleton_only_joints_match_the_model():
    """The fitter's joints-only forward pass equals the body model's joints."""
    from humanlib.fitting.smplify import _SkeletonOnly

    model = open_model()
    g = torch.Generator().manual_seed(5)
    betas = torch.randn(3, model.num_betas, generator=g)
    pose = 0.4 * torch.randn(3, 24, 3, generator=g)
    transl = torch.randn(3, 3, generator=g)
    torch.testing.assert_close(_SkeletonOnly(model)(betas, pose, transl), model(betas=betas, pose=pose, transl=transl).joints,
                               atol=1e-5, rtol=1e-5)


def test_cli_registration_and_prior_factory():
    import argparse

    from humanlib.commands.fit import add_subcommand
    from humanlib.fitting.jobs import PRIOR_NAMES, make_prior

    parser = argparse.ArgumentParser(prog="humanlib")
    add_subcommand(parser.add_subparsers())
    args = parser.parse_args(["smplify-eval", "--frames", "8", "--out", "somewhere"])
    assert args.frames == 8 and callable(args.func)
    args = parser.parse_args(["fit", "kp.npz", "--out", "fit.npz", "--prior", "none"])
    assert args.prior == "none" and callable(args.func)
    assert "gmm-min" in PRIOR_NAMES
    assert isinstance(make_prior("none"), NoPrior)
    with pytest.raises(ValueError, match="unknown prior"):
        make_prior("gmm-max")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        args.func(args)


def test_warm_start_keeps_a_good_fit(tiny):
    """Started at the truth with noiseless keypoints, the last stage stays there."""
    from humanlib.fitting.smplify import SMPLifyInit

    batch = _frontal_batch(tiny, n=2)
    cfg = SMPLifyConfig(stages=smplify_stages(iterations=10)[-1:], use_interpenetration=False, use_angle_prior=False,
                        optimize_shape=False)
    init = SMPLifyInit(batch.betas, batch.pose, batch.transl)
    res = fit_smplify(_Wrap(tiny), batch.clean_keypoints, torch.ones(2, 24), batch.camera, None, cfg, init=init)
    fit = tiny(res.betas, res.pose, res.transl).joints
    true = tiny(batch.betas, batch.pose, batch.transl).joints
    assert float((fit - true).norm(dim=-1).mean()) < 0.01


@pytest.mark.slow
def test_fit_command_end_to_end(tmp_path):
    """`humanlib fit` on two synthetic frames of the open model writes finite parameters."""
    import argparse

    from humanlib.commands.fit import add_subcommand

    model = open_model()
    body = 0.1 * torch.randn(2, 21, 3, generator=torch.Generator().manual_seed(0))
    batch = make_synthetic_batch(model, body, SyntheticConfig(), seed=0)
    np.savez(tmp_path / "kp.npz", keypoints=batch.keypoints.numpy(), confidence=batch.confidence.numpy())
    parser = argparse.ArgumentParser(prog="humanlib")
    add_subcommand(parser.add_subparsers())
    args = parser.parse_args(["fit", str(tmp_path / "kp.npz"), "--out", str(tmp_path / "fit.npz"),
                              "--prior", "none", "--iterations", "3"])
    assert args.func(args) == 0
    with np.load(tmp_path / "fit.npz") as out:
        assert out["pose"].shape == (2, 24, 3) and np.isfinite(out["pose"]).all() and out["valid"].all()


def test_fit_with_a_gmm_prior_runs_through_the_interface(tiny):
    """A GMM prior plugs in: the fit starts from its mean pose and stays finite."""
    from humanlib.priors.gmm import GaussianMixture, GMMPosePrior

    g = torch.Generator().manual_seed(0)
    means = 0.1 * torch.randn(2, 63, generator=g, dtype=torch.float64)
    covs = 0.05 * torch.eye(63, dtype=torch.float64).expand(2, 63, 63)
    prior = GMMPosePrior(GaussianMixture(torch.tensor([0.4, 0.6], dtype=torch.float64), means, covs), mode="exact")
    batch = _tiny_batch(tiny, n=2)
    cfg = _quick_config().with_iterations(3)
    res = fit_smplify(_Wrap(tiny), batch.keypoints, batch.confidence, batch.camera, prior, cfg)
    assert res.valid.all() and torch.isfinite(res.energy).all() and torch.isfinite(res.pose).all()
    assert len(res.stage_energy) == 5


def test_synthetic_batch_subset_keeps_frames_and_cameras(tiny):
    batch = _tiny_batch(tiny, n=4)
    part = batch.subset([2, 0])
    assert torch.equal(part.keypoints, batch.keypoints[[2, 0]]) and torch.equal(part.pose, batch.pose[[2, 0]])
    assert torch.equal(part.camera.focal_length, batch.camera.focal_length[[2, 0]])
    assert torch.equal(batch.subset(slice(1, 3)).transl, batch.transl[1:3])
    with pytest.raises(IndexError, match="out of range"):
        batch.subset([4])
    with pytest.raises(TypeError, match="slice or a list of ints"):
        batch.subset(torch.tensor([0]))
    with pytest.raises(ValueError, match="no frame"):
        batch.subset([])


def test_ablation_fits_the_full_method_alone_with_each_solver():
    """``run_ablation(alone=N)`` adds each frame's error alone to the rows that differ from the first by the solver only."""
    from humanlib.fitting.jobs import ABLATION, run_ablation

    open_model()  # skips without the open body model
    batch_row = next(v for v in ABLATION if v.optimizer == "batch")
    no_prior = next(v for v in ABLATION if v.prior == "none")
    res = run_ablation(num_frames=2, iterations=1, variants=(ABLATION[0], no_prior, batch_row), alone=2)
    rows = {row["name"]: row for row in res["variants"]}
    assert len(rows[ABLATION[0].name]["per_frame_v2v_pa_alone"]) == 2
    assert len(rows[batch_row.name]["per_frame_v2v_pa_alone"]) == 2
    assert "per_frame_v2v_pa_alone" not in rows[no_prior.name]
