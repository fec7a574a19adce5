"""Tests of humanlib.body: the equation terms, the model files, and agreement with smplx."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse
import torch

from humanlib import body, skeleton
from humanlib.body import (
    BodyModel,
    forward_kinematics,
    linear_blend_skinning,
    load_body_model,
    pose_blend_shapes,
    pose_feature,
    read_model_file,
    regress_joints,
    shape_blend_shapes,
)
from humanlib.rotations import axis_angle_to_rotmat

smplx = pytest.importorskip("smplx", reason="smplx is needed to compare with its forward pass")


def synthetic_smpl_arrays(seed: int = 0, num_vertices: int = 40, num_shape: int = 300) -> dict[str, np.ndarray]:
    """Random but valid SMPL-layout arrays on a tiny mesh (SMPL's 24-joint tree)."""
    rng = np.random.default_rng(seed)
    V, J = num_vertices, skeleton.NUM_JOINTS
    weights = rng.random((V, J)) ** 4
    weights /= weights.sum(1, keepdims=True)
    regressor = rng.random((J, V))
    regressor /= regressor.sum(1, keepdims=True)
    kintree = np.stack([np.array([2**32 - 1, *skeleton.PARENTS[1:]], dtype=np.int64), np.arange(J)])
    return {
        "v_template": rng.normal(0, 0.3, (V, 3)),
        "shapedirs": rng.normal(0, 0.01, (V, 3, num_shape)),
        "posedirs": rng.normal(0, 0.01, (V, 3, 9 * (J - 1))),
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": rng.integers(0, V, (2 * V, 3)).astype(np.uint32),
    }


def body_keypoint_names() -> list[str]:
    from smplx.vertex_ids import vertex_ids

    return list(vertex_ids["smplh"])


def random_inputs(batch: int, num_betas: int, num_joints: int = 24, seed: int = 1, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    betas = torch.randn(batch, num_betas, generator=g, dtype=dtype)
    pose = 0.5 * torch.randn(batch, num_joints, 3, generator=g, dtype=dtype)
    transl = torch.randn(batch, 3, generator=g, dtype=dtype)
    return betas, pose, transl


def smplx_forward(model, betas, pose, transl):
    out = model(betas=betas, global_orient=pose[:, 0], body_pose=pose[:, 1:].flatten(1), transl=transl)
    return out.vertices, out.joints[:, : pose.shape[1]]


# --------------------------------------------------------------------------- terms


def test_shape_blend_shapes_is_linear():
    dirs = torch.randn(7, 3, 4, dtype=torch.float64)
    a, b = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    assert shape_blend_shapes(a, dirs).shape == (2, 7, 3)
    torch.testing.assert_close(shape_blend_shapes(a + 2 * b, dirs), shape_blend_shapes(a, dirs) + 2 * shape_blend_shapes(b, dirs))


def test_regress_joints_follows_translation():
    """A sum-to-one regressor moves the joints with a translated mesh."""
    reg = torch.rand(24, 9, dtype=torch.float64)
    reg /= reg.sum(1, keepdim=True)
    v = torch.randn(3, 9, 3, dtype=torch.float64)
    t = torch.randn(3, 1, 3, dtype=torch.float64)
    torch.testing.assert_close(regress_joints(v + t, reg), regress_joints(v, reg) + t)


def test_pose_feature_vanishes_at_rest_and_ignores_root():
    rot = axis_angle_to_rotmat(torch.zeros(2, 24, 3))
    assert pose_feature(rot).shape == (2, 207)
    assert torch.count_nonzero(pose_feature(rot)) == 0
    pose = torch.zeros(2, 24, 3)
    pose[:, 0] = torch.tensor([0.3, -1.0, 0.2])
    assert torch.count_nonzero(pose_feature(axis_angle_to_rotmat(pose))) == 0
    pose[:, 5, 1] = 0.4
    feature = pose_feature(axis_angle_to_rotmat(pose)).view(2, 23, 9)
    assert torch.count_nonzero(feature[:, 4]) > 0 and torch.count_nonzero(feature[:, :4]) == 0


def test_pose_blend_shapes_zero_at_rest():
    dirs = torch.randn(5, 3, 207)
    assert torch.count_nonzero(pose_blend_shapes(torch.zeros(3, 207), dirs)) == 0


def test_forward_kinematics_two_joint_chain():
    """Turning the root by 90° about z carries the child about the root; the child's turn moves nothing above it."""
    parents = (-1, 0)
    joints = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]], dtype=torch.float64)
    pose = torch.tensor([[[0.0, 0.0, np.pi / 2], [0.0, 0.0, 0.3]]], dtype=torch.float64)
    posed, transforms = forward_kinematics(axis_angle_to_rotmat(pose), joints, parents)
    torch.testing.assert_close(posed[0, 1], torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
    # a rest point at the child joint lands on the posed child joint under either transform
    point = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    for k in range(2):
        torch.testing.assert_close((transforms[0, k] @ point)[:3], posed[0, 1])


def test_forward_kinematics_identity():
    joints = torch.randn(2, 24, 3, dtype=torch.float64)
    rot = torch.eye(3, dtype=torch.float64).expand(2, 24, 3, 3)
    posed, transforms = forward_kinematics(rot, joints, skeleton.PARENTS)
    torch.testing.assert_close(posed, joints)
    torch.testing.assert_close(transforms, torch.eye(4, dtype=torch.float64).expand(2, 24, 4, 4))


def test_linear_blend_skinning_rigid_when_one_joint():
    v = torch.randn(2, 6, 3, dtype=torch.float64)
    weights = torch.zeros(6, 3, dtype=torch.float64)
    weights[:, 1] = 1.0
    R = axis_angle_to_rotmat(torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64))
    T = torch.eye(4, dtype=torch.float64).repeat(2, 3, 1, 1)
    T[:, 1, :3, :3] = R
    T[:, 1, :3, 3] = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    expected = v @ R.T + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(linear_blend_skinning(v, weights, T), expected)


def test_body_model_gradcheck():
    model = BodyModel(synthetic_smpl_arrays(num_vertices=12, num_shape=10), num_betas=4).to(torch.float64)
    betas, pose, transl = random_inputs(2, 4, dtype=torch.float64)
    betas.requires_grad_(True)
    pose.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda b, p: model(b, p).vertices, (betas, pose))
    grad = torch.autograd.grad(model(betas, torch.zeros_like(pose, requires_grad=True)).vertices.sum(), betas)[0]
    assert torch.isfinite(grad).all()


def test_body_model_batch_shapes_and_rest_pose():
    model = BodyModel(synthetic_smpl_arrays(), num_betas=10)
    out = model()
    assert out.vertices.shape == (1, 40, 3) and out.joints.shape == (1, 24, 3)
    torch.testing.assert_close(out.vertices[0], model.v_template)
    betas, pose, transl = random_inputs(5, 10)
    out = model(betas, pose, transl)
    assert out.vertices.shape == (5, 40, 3) and out.transforms.shape == (5, 24, 4, 4)
    single = model(betas[2:3], pose[2:3], transl[2:3])
    torch.testing.assert_close(single.vertices[0], out.vertices[2])


# --------------------------------------------------------------------------- files and smplx


@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
@pytest.mark.parametrize("num_betas", [10, 16])
def test_synthetic_file_matches_smplx(tmp_path, suffix, num_betas):
    """A user's SMPL-format file (bring-your-own-SMPL path): our forward equals smplx's."""
    arrays = synthetic_smpl_arrays(seed=3)
    path = tmp_path / f"model{suffix}"
    if suffix == ".pkl":
        arrays["J_regressor"] = scipy.sparse.csc_matrix(arrays["J_regressor"])  # as SMPL stores it
        path.write_bytes(pickle.dumps(arrays))
    else:
        np.savez(path, **arrays)
    ours = load_body_model(path, num_betas=num_betas)
    names = body_keypoint_names()
    theirs = body.smplx_model(path, num_betas=num_betas, vertex_ids={n: i % 40 for i, n in enumerate(names)})
    betas, pose, transl = random_inputs(3, num_betas)
    out = ours(betas, pose, transl)
    v, j = smplx_forward(theirs, betas, pose, transl)
    assert (out.vertices - v).abs().max() < 1e-5
    assert (out.joints - j).abs().max() < 1e-5
    assert torch.equal(ours.faces, theirs.faces_tensor)


def test_other_skeletons_load(tmp_path):
    """Any SMPL-layout file loads with layout="native", e.g. an SMPL-X-like 55-joint tree: pose is then (B, 55, 3)."""
    rng = np.random.default_rng(4)
    arrays = synthetic_smpl_arrays(num_vertices=30, num_shape=20)
    J = 55
    parents = np.array([-1] + [int(rng.integers(0, k)) for k in range(1, J)])
    arrays["kintree_table"] = np.stack([parents, np.arange(J)])
    arrays["posedirs"] = rng.normal(0, 0.01, (30, 3, 9 * (J - 1)))
    arrays["J_regressor"] = np.full((J, 30), 1 / 30)
    arrays["weights"] = np.full((30, J), 1 / J)
    np.savez(tmp_path / "smplx_like.npz", **arrays)
    model = load_body_model(tmp_path / "smplx_like.npz", num_betas=10, layout="native")
    out = model(pose=0.2 * torch.randn(2, J, 3))
    assert out.vertices.shape == (2, 30, 3) and out.joints.shape == (2, J, 3)
    with pytest.raises(ValueError, match=r"pose must have shape \(1, 55, 3\)"):
        model(pose=torch.zeros(1, 24, 3))


def test_missing_file_says_where_to_get_smpl(tmp_path):
    with pytest.raises(FileNotFoundError, match="smpl.is.tue.mpg.de"):
        load_body_model(tmp_path / "SMPL_NEUTRAL.pkl")


def test_env_variable_pointing_nowhere_is_an_error(tmp_path, monkeypatch):
    """No silent fallback to the open model when the user asked for SMPL."""
    monkeypatch.setenv("HUMANLIB_BODY_MODEL", str(tmp_path / "missing.npz"))
    with pytest.raises(FileNotFoundError, match="HUMANLIB_BODY_MODEL"):
        load_body_model()


def test_env_variable_selects_user_file(tmp_path, monkeypatch):
    path = tmp_path / "mine.npz"
    np.savez(path, **synthetic_smpl_arrays(num_vertices=17))
    monkeypatch.setenv("HUMANLIB_BODY_MODEL", str(path))
    assert load_body_model().num_vertices == 17


def test_wrong_files_are_rejected(tmp_path):
    arrays = synthetic_smpl_arrays()
    del arrays["posedirs"]
    np.savez(tmp_path / "nokey.npz", **arrays)
    with pytest.raises(ValueError, match="posedirs"):
        read_model_file(tmp_path / "nokey.npz")
    arrays = synthetic_smpl_arrays()
    arrays["weights"] = arrays["weights"][:, :10]
    np.savez(tmp_path / "badshape.npz", **arrays)
    with pytest.raises(ValueError, match="weights must have shape"):
        read_model_file(tmp_path / "badshape.npz")
    (tmp_path / "model.obj").write_text("v 0 0 0\n")
    with pytest.raises(ValueError, match=".pkl or .npz"):
        read_model_file(tmp_path / "model.obj")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match="expected a dict"):
        read_model_file(tmp_path / "list.pkl")


def test_chumpy_pickle_gets_a_clear_error(tmp_path):
    # GLOBAL opcode naming chumpy's class, as in SMPL's original (chumpy) files.
    (tmp_path / "chumpy.pkl").write_bytes(b"\x80\x02cchumpy.ch\nCh\nq\x00.")
    with pytest.raises(ValueError, match="chumpy"):
        read_model_file(tmp_path / "chumpy.pkl")


def test_bad_inputs_name_the_shape():
    model = BodyModel(synthetic_smpl_arrays(), num_betas=10)
    with pytest.raises(ValueError, match=r"betas must have shape \(2, 10\), got \(2, 5\)"):
        model(torch.zeros(2, 5), torch.zeros(2, 24, 3))
    with pytest.raises(ValueError, match=r"pose must have shape \(2, 24, 3\), got \(2, 23, 3\)"):
        model(torch.zeros(2, 10), torch.zeros(2, 23, 3))
    with pytest.raises(ValueError, match=r"transl must have shape"):
        model(torch.zeros(2, 10), torch.zeros(2, 24, 3), torch.zeros(3))
    pose = torch.zeros(1, 24, 3)
    pose[0, 3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model(pose=pose)
    with pytest.raises(ValueError, match="dtype"):
        model(torch.zeros(1, 10, dtype=torch.float64))
    with pytest.raises(ValueError, match="num_betas"):
        BodyModel(synthetic_smpl_arrays(num_shape=10), num_betas=11)


# --------------------------------------------------------------------------- the open model


@pytest.fixture(scope="module")
def open_model():
    return load_body_model(num_betas=16)


def test_open_model_layout(open_model):
    m = open_model
    assert m.num_vertices == 13718 and m.faces.shape == (27420, 3)
    assert m.parents == skeleton.PARENTS
    torch.testing.assert_close(m.weights.sum(1), torch.ones(m.num_vertices), atol=1e-5, rtol=0)
    torch.testing.assert_close(m.J_regressor.sum(1), torch.ones(24), atol=1e-5, rtol=0)
    assert m.shapedirs.shape == (13718, 3, 16) and m.posedirs.shape == (13718, 3, 207)


def test_open_model_rest_skeleton_is_plausible(open_model):
    """T-pose in SMPL's frame: pelvis at the origin, Y up, arms along +-X at shoulder height, left on +X."""
    J = open_model().rest_joints[0]
    j = skeleton.joint
    assert J[j("pelvis")].norm() < 0.01
    assert J[j("head")][1] > J[j("neck")][1] > J[j("pelvis")][1] > J[j("left_knee")][1] > J[j("left_ankle")][1]
    assert J[j("left_wrist")][0] > 0.5 and J[j("right_wrist")][0] < -0.5
    assert abs(J[j("left_wrist")][1] - J[j("left_shoulder")][1]) < 0.02
    mirrored = J[list(skeleton.MIRROR_PERMUTATION)] * torch.tensor([-1.0, 1.0, 1.0])
    assert (mirrored - J).norm(dim=-1).max() < 0.01  # left/right symmetric to 1 cm


def test_open_model_matches_smplx(open_model):
    for num_betas in (10, 16):
        ours = open_model if num_betas == 16 else load_body_model(num_betas=10)
        theirs = body.smplx_model(num_betas=num_betas)
        betas, pose, transl = random_inputs(2, num_betas)
        out = ours(betas, pose, transl)
        v, j = smplx_forward(theirs, betas, pose, transl)
        assert (out.vertices - v).abs().max() < 1e-5
        assert (out.joints - j).abs().max() < 1e-5
    # smplx appends the extra keypoints at our vertex ids (not at SMPL's vertex numbers)
    extra = theirs(betas=betas, global_orient=pose[:, 0], body_pose=pose[:, 1:].flatten(1), transl=transl).joints[:, 24:]
    ours_extra = out.vertices[:, sorted(ours.vertex_ids.values())]
    assert extra.shape[1] == len(ours.vertex_ids)
    distance = torch.cdist(extra[0], ours_extra[0]).min(1).values
    assert distance.max() < 1e-5


def test_open_model_extra_keypoints_on_the_right_body_parts(open_model):
    """smplx's extra keypoints, given our vertex ids, sit at the nose, toes and fingertips."""
    ids = body.open_body_model_vertex_ids()
    assert open_model.vertex_ids == ids and len(ids) == 21
    v = open_model().vertices[0]
    J = open_model().rest_joints[0]
    j = skeleton.joint
    assert v[ids["nose"], 1] > J[j("head")][1] - 0.05 and v[ids["nose"], 2] > J[j("head")][2]
    assert v[ids["lmiddle"], 0] > J[j("left_hand")][0] and v[ids["rmiddle"], 0] < J[j("right_hand")][0]
    assert v[ids["LBigToe"], 2] > J[j("left_foot")][2] and v[ids["LHeel"], 2] < J[j("left_ankle")][2]
    assert v[ids["leye"], 0] > 0 > v[ids["reye"], 0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_open_model_on_gpu(open_model):
    gpu = load_body_model(num_betas=16, device="cuda")
    betas, pose, transl = random_inputs(2, 16)
    out = gpu(betas.cuda(), pose.cuda(), transl.cuda())
    torch.testing.assert_close(out.vertices.cpu(), open_model(betas, pose, transl).vertices, atol=1e-5, rtol=0)


@pytest.mark.parametrize("parents", [
    skeleton.PARENTS,  # SMPL
    (-1, 0, 1, 2, 3, 4),  # a chain: one joint per level
    (-1, 0, 0, 1, 1, 2, 5, 5, 3, 0),  # a bushy tree with several joints per level
])
def test_level_wise_joints_equal_the_joint_by_joint_recursion(parents):
    """SkeletonJoints' level-wise kinematics == _forward_kinematics' positions, values and gradients."""
    plan = body._KinematicLevels(parents)
    g = torch.Generator().manual_seed(3)
    n, j = 5, len(parents)
    rest = torch.randn(n, j, 3, generator=g, dtype=torch.float64)
    aa = (0.8 * torch.randn(n, j, 3, generator=g, dtype=torch.float64)).requires_grad_(True)
    new = plan.posed_joints(axis_angle_to_rotmat(aa), rest)
    (g_new,) = torch.autograd.grad(new.square().sum(), aa)
    old = body._forward_kinematics(axis_angle_to_rotmat(aa), rest, parents)[0]
    (g_old,) = torch.autograd.grad(old.square().sum(), aa)
    torch.testing.assert_close(new, old, atol=1e-12, rtol=0)
    torch.testing.assert_close(g_new, g_old, atol=1e-10, rtol=1e-10)
    # Moving one joint's rotation moves exactly its descendants (not itself, not the others).
    k = 2 if j > 2 else 1
    bumped = aa.detach().clone()
    bumped[:, k] += 0.3
    moved = (plan.posed_joints(axis_angle_to_rotmat(bumped), rest) - new.detach()).abs().amax((0, 2)) > 1e-9
    descendants = {k}
    for c in range(j):
        if parents[c] in descendants:
            descendants.add(c)
    assert moved.tolist() == [c in descendants and c != k for c in range(j)]


def test_level_wise_kinematics_refuses_unordered_parents():
    with pytest.raises(ValueError, match="each parent before its child"):
        body._KinematicLevels((-1, 2, 0))
    with pytest.raises(ValueError, match="root first"):
        body._KinematicLevels((0, -1))
