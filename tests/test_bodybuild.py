"""Tests of humanlib.bodybuild: the fitting steps on synthetic data, and the open model against anny."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from humanlib import body, bodybuild, paths, skeleton
from humanlib.body import forward_kinematics, load_body_model, pose_blend_shapes, pose_feature, regress_joints
from humanlib.rotations import axis_angle_to_rotmat


def _fake_rig():
    """Bone labels/parents of a rig that follows SMPL_JOINT_BONES (each bone's parent: the previous bone
    of its joint, or the first bone of the SMPL parent joint)."""
    table = bodybuild._expand(bodybuild.SMPL_JOINT_BONES)
    labels, parents, first = [], [], {}
    for j, name in enumerate(skeleton.JOINT_NAMES):
        for i, bone in enumerate(table[name]):
            if i == 0:
                parents.append(-1 if j == 0 else first[skeleton.PARENTS[j]])
            else:
                parents.append(len(labels) - 1)
            if i == 0:
                first[j] = len(labels)
            labels.append(bone)
    return labels, parents


def test_bone_assignment_accepts_a_consistent_rig():
    labels, parents = _fake_rig()
    assignment = bodybuild.bone_joint_assignment(labels, parents)
    assert assignment[labels.index("lowerarm01.L")] == skeleton.joint("left_elbow")
    assert assignment[labels.index("spine01")] == skeleton.joint("spine3")


def test_bone_assignment_rejects_inconsistent_rigs():
    labels, parents = _fake_rig()
    with pytest.raises(ValueError, match="without an SMPL joint"):
        bodybuild.bone_joint_assignment(labels + ["tail"], parents + [0])
    broken = list(parents)
    broken[labels.index("foot.L")] = labels.index("spine02")  # ankle hanging from the spine
    with pytest.raises(ValueError, match="neither its own joint nor its SMPL parent"):
        bodybuild.bone_joint_assignment(labels, broken)
    with pytest.raises(ValueError, match="has no bone"):
        bodybuild.bone_joint_assignment([b for b in labels if b != "wrist.R"], parents[:-1])


def test_tpose_rotations_straighten_arms_and_legs():
    """From an A-pose skeleton, the T-pose puts the arms along +-x and the legs along -y."""
    g = torch.Generator().manual_seed(0)
    joints = torch.randn(24, 3, generator=g, dtype=torch.float64) * 0.05
    j = skeleton.joint
    for side, s in (("left", 1.0), ("right", -1.0)):
        joints[j(f"{side}_shoulder")] = torch.tensor([s * 0.17, 0.45, 0.0], dtype=torch.float64)
        joints[j(f"{side}_elbow")] = torch.tensor([s * 0.33, 0.25, 0.01], dtype=torch.float64)
        joints[j(f"{side}_wrist")] = torch.tensor([s * 0.45, 0.11, 0.17], dtype=torch.float64)
        joints[j(f"{side}_hand")] = torch.tensor([s * 0.49, 0.06, 0.24], dtype=torch.float64)
        joints[j(f"{side}_hip")] = torch.tensor([s * 0.1, 0.0, 0.0], dtype=torch.float64)
        joints[j(f"{side}_knee")] = torch.tensor([s * 0.13, -0.4, 0.01], dtype=torch.float64)
        joints[j(f"{side}_ankle")] = torch.tensor([s * 0.17, -0.8, -0.02], dtype=torch.float64)
    local = bodybuild.tpose_rotations(joints)
    posed, _ = forward_kinematics(local[None], joints[None], skeleton.PARENTS)
    posed = posed[0]
    for side, s in (("left", 1.0), ("right", -1.0)):
        chain = [posed[j(f"{side}_{n}")] for n in ("shoulder", "elbow", "wrist", "hand")]
        for a, b in zip(chain[:-1], chain[1:]):
            d = (b - a) / (b - a).norm()
            torch.testing.assert_close(d, torch.tensor([s, 0.0, 0.0], dtype=torch.float64))
        leg = posed[j(f"{side}_ankle")] - posed[j(f"{side}_hip")]
        torch.testing.assert_close(leg / leg.norm(), torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(torch.linalg.det(local), torch.ones(24, dtype=torch.float64))


def test_shape_space_scaling_gives_unit_variance():
    g = torch.Generator().manual_seed(1)
    n, V, k = 200, 30, 3
    basis = torch.randn(k, V * 3, generator=g, dtype=torch.float64)
    coeffs = torch.randn(n, k, generator=g, dtype=torch.float64) * torch.tensor([3.0, 1.0, 0.3], dtype=torch.float64)
    data = (coeffs @ basis).reshape(n, V, 3) + torch.randn(V, 3, generator=g, dtype=torch.float64)
    mean, dirs, ratio, weights = bodybuild.fit_shape_space(data, num_betas=k)
    flat = dirs.permute(2, 0, 1).reshape(k, -1)
    torch.testing.assert_close(weights @ (data - mean).reshape(n, -1), flat)  # the components in sample space
    betas = torch.linalg.lstsq(flat.T, (data - mean).reshape(n, -1).T).solution.T
    torch.testing.assert_close(betas.std(0), torch.ones(k, dtype=torch.float64), atol=1e-6, rtol=0)
    assert ratio[:k].sum() > 1 - 1e-9 and ratio[0] > ratio[1] > ratio[2]


def test_joint_regressor_recovers_linear_joints():
    """Joints that are fixed sum-to-one mixtures of vertices are recovered, and rows sum to one."""
    g = torch.Generator().manual_seed(2)
    n, V = 200, 50
    truth = torch.rand(24, V, generator=g, dtype=torch.float64) ** 6
    truth /= truth.sum(1, keepdim=True)
    verts = torch.randn(n, V, 3, generator=g, dtype=torch.float64)
    joints = regress_joints(verts, truth)
    reg = bodybuild.fit_joint_regressor(verts, joints, neighbours=V, ridge=1e-12)
    torch.testing.assert_close(reg.sum(1), torch.ones(24, dtype=torch.float64))
    torch.testing.assert_close(regress_joints(verts, reg), joints, atol=1e-6, rtol=0)


def test_posedirs_fit_recovers_supported_correctives():
    g = torch.Generator().manual_seed(3)
    V, n = 20, 300
    weights = torch.zeros(V, 24, dtype=torch.float64)
    weights[torch.arange(V), torch.randint(1, 24, (V,), generator=g)] = 1.0
    support = bodybuild.posedirs_support(weights)
    mask = torch.as_tensor((support[:, None] >> np.arange(1, 24)[None]) & 1, dtype=torch.bool)  # (V, 23)
    truth = torch.randn(V, 3, 23, 9, generator=g, dtype=torch.float64) * mask[:, None, :, None]
    truth = truth.reshape(V, 3, 207)
    feats = pose_feature(axis_angle_to_rotmat(0.3 * torch.randn(n, 24, 3, generator=g, dtype=torch.float64)))
    targets = pose_blend_shapes(feats, truth)
    fitted = bodybuild.fit_posedirs(feats, targets, support, ridge=1e-12)
    torch.testing.assert_close(fitted, truth, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------- against anny


def _anny_ready() -> str | None:
    """Why the anny comparison cannot run here, or None."""
    if importlib.util.find_spec("anny") is None:
        return "anny is not installed (pip install -e '.[build]'): it is only needed to rebuild/check the open model"
    from anny.paths import get_anny_cache_path

    cache = get_anny_cache_path()
    if not any(cache.glob("v*/build_compact_model_data_*.safetensors")):
        return (f"anny's data cache ({cache}) is not built yet; building it takes ~1 min and ~1.4 GB. "
                "Run `humanlib build-body-model` once or set ANNY_CACHE_DIR to a built cache")
    return None


@pytest.fixture(scope="module")
def anny_and_model():
    """anny in the open model's frame (origin at the mean body's pelvis), its T-pose, and the open model."""
    with np.load(paths.asset(body.OPEN_MODEL_ASSET)) as npz:
        mean, dirs = torch.as_tensor(npz["anny_coeffs_mean"], dtype=torch.float64), torch.as_tensor(npz["anny_coeffs_dirs"], dtype=torch.float64)
    anny_ = bodybuild._Anny()
    tpose_local = bodybuild.tpose_rotations(anny_.rest(anny_.default_coefficients())[1][0])
    anny_.origin = anny_.origin - anny_.rest(mean[None])[1][0, 0]
    return anny_, tpose_local, mean, dirs, load_body_model(num_betas=16).to(torch.float64)


@pytest.mark.slow
@pytest.mark.skipif(_anny_ready() is not None, reason=str(_anny_ready()))
def test_open_model_poses_like_anny(anny_and_model):
    """The committed model M(beta, theta) reproduces anny's own posed mesh (dual-quaternion skinning with
    anny's joints) of the anny body with the same beta, on random shapes and poses: mean error <= 3 mm."""
    anny_, tpose_local, mean, dirs, model = anny_and_model
    g = torch.Generator().manual_seed(1234)
    betas = torch.randn(4, 16, generator=g, dtype=torch.float64)
    pose = 0.3 * torch.randn(4, 24, 3, generator=g, dtype=torch.float64)
    pose[:, 0] = 0.0
    teacher = bodybuild.anny_teacher(anny_, tpose_local, mean + betas @ dirs, axis_angle_to_rotmat(pose))
    error = (model(betas, pose).vertices - teacher).norm(dim=-1)
    assert error.mean() < 3e-3, f"mean error {1000 * error.mean():.2f} mm"


@pytest.mark.slow
@pytest.mark.skipif(_anny_ready() is not None, reason=str(_anny_ready()))
def test_open_model_rest_matches_anny(anny_and_model):
    """beta = 0 in the rest pose is anny's mean-coefficient body in the T-pose (to float precision)."""
    anny_, tpose_local, mean, dirs, model = anny_and_model
    teacher = bodybuild.anny_teacher(anny_, tpose_local, mean[None], torch.eye(3, dtype=torch.float64).expand(1, 24, 3, 3))
    assert (model().vertices - teacher).norm(dim=-1).max() < 1e-4


@pytest.mark.slow
@pytest.mark.skipif(_anny_ready() is not None, reason=str(_anny_ready()))
def test_tiny_build_is_deterministic_and_loads(tmp_path):
    """A small build runs end to end, gives the same arrays twice, and expands to a valid SMPL-layout model."""
    from humanlib.body import BodyModel, expand_open_model

    config = bodybuild.BuildConfig(num_betas=8, samples=12, held_out=3, pose_samples=12, chunk=6, seed=7,
                                   regressor_neighbours=100)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the build's own default; two threads thrash on a shared 2-core machine
    try:
        first, report = bodybuild.build_open_body_model(config, log=lambda *args: None)
        second, _ = bodybuild.build_open_body_model(config, log=lambda *args: None)
    finally:
        torch.set_num_threads(threads)
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    model_path, report_path = bodybuild.write_compact_model(tmp_path, first, report)
    assert model_path.stat().st_size < 5_000_000 and report_path.exists()
    with np.load(model_path) as npz:
        model = BodyModel(expand_open_model({k: npz[k] for k in npz.files}), num_betas=8)
    assert model.num_vertices == report["num_vertices"] and model.parents == skeleton.PARENTS
    torch.testing.assert_close(model.weights.sum(1), torch.ones(model.num_vertices), atol=1e-5, rtol=0)
