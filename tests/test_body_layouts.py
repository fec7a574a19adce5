"""SMPL-H / SMPL-X files reduced to SMPL's 24 joints: exact where it must be, loud where it cannot be."""

import numpy as np
import pytest
import torch

from humanlib import body
from humanlib.body_layouts import layout_name, to_smpl_layout
from humanlib.skeleton import PARENTS, joint
from user_files import expanded_open_model, layout_parents, write_model


@pytest.fixture(scope="module")
def open_arrays():
    return body.read_model_file(body.open_body_model_file())


@pytest.fixture(scope="module", params=[52, 55], ids=["smplh", "smplx"])
def layout_file(request, tmp_path_factory):
    return request.param, write_model(tmp_path_factory.mktemp("models") / f"model_{request.param}.npz", request.param)


def _open_without_hand_correctives(arrays):
    a = dict(arrays)
    a["posedirs"] = arrays["posedirs"].copy()
    a["posedirs"][:, :, 9 * 21:] = 0.0  # the reduction's hands carry no pose blend shapes
    return body.BodyModel(a, num_betas=10).double()


def test_reduction_gives_back_the_model_the_layout_was_made_from(layout_file, open_arrays):
    """The test file splits each hand joint into fingers; reducing it must undo that exactly."""
    num_joints, path = layout_file
    reduced = body.load_body_model(path, dtype=torch.float64)
    reference = _open_without_hand_correctives(open_arrays)
    assert reduced.num_joints == 24 and reduced.parents == tuple(PARENTS)
    g = torch.Generator().manual_seed(0)
    pose = 0.5 * torch.randn(3, 24, 3, generator=g, dtype=torch.float64)  # hands rotated too
    betas = torch.randn(3, 10, generator=g, dtype=torch.float64)
    ours, ref = reduced(betas=betas, pose=pose), reference(betas=betas, pose=pose)
    torch.testing.assert_close(ours.vertices, ref.vertices, atol=1e-6, rtol=0)
    torch.testing.assert_close(ours.joints, ref.joints, atol=1e-6, rtol=0)


def test_native_layout_agrees_with_the_reduction_for_flat_hands_and_neutral_face(layout_file):
    num_joints, path = layout_file
    native = body.load_body_model(path, layout="native", dtype=torch.float64)
    reduced = body.load_body_model(path, dtype=torch.float64)
    assert native.num_joints == num_joints
    g = torch.Generator().manual_seed(1)
    pose = torch.zeros(2, num_joints, 3, dtype=torch.float64)
    pose[:, :22] = 0.4 * torch.randn(2, 22, 3, generator=g, dtype=torch.float64)
    small = torch.zeros(2, 24, 3, dtype=torch.float64)
    small[:, :22] = pose[:, :22]
    betas = torch.randn(2, 10, generator=g, dtype=torch.float64)
    torch.testing.assert_close(reduced(betas=betas, pose=small).vertices, native(betas=betas, pose=pose).vertices,
                               atol=1e-6, rtol=0)


def test_reduced_arrays_keep_smpl_layout_and_partition_of_unity(layout_file):
    num_joints, path = layout_file
    arrays = to_smpl_layout(body.read_model_file(path), source=path.name)
    body.validate_model_arrays(arrays, "reduced")
    assert arrays["posedirs"].shape[-1] == 207 and arrays["J_regressor"].shape[0] == 24
    np.testing.assert_allclose(arrays["weights"].sum(axis=1), 1.0, atol=1e-9)
    expected_shape = 300 if num_joints == 55 else 16  # SMPL-X's expression directions are dropped
    assert arrays["shapedirs"].shape[-1] == expected_shape


def test_smplx_reads_the_same_reduction(layout_file):
    """smplx's own SMPL class, fed the reduced arrays, computes the same mesh as humanlib."""
    _, path = layout_file
    theirs = body.smplx_model(path, num_betas=10).double()
    ours = body.load_body_model(path, dtype=torch.float64)
    g = torch.Generator().manual_seed(2)
    pose = 0.4 * torch.randn(2, 24, 3, generator=g, dtype=torch.float64)
    betas = torch.randn(2, 10, generator=g, dtype=torch.float64)
    out = theirs(betas=betas, global_orient=pose[:, :1].reshape(2, 3), body_pose=pose[:, 1:].reshape(2, 69))
    torch.testing.assert_close(out.vertices, ours(betas=betas, pose=pose).vertices, atol=1e-6, rtol=0)
    torch.testing.assert_close(out.joints[:, :24], ours(betas=betas, pose=pose).joints, atol=1e-6, rtol=0)


def test_an_environment_variable_is_all_a_user_sets(layout_file, open_arrays, monkeypatch):
    _, path = layout_file
    monkeypatch.setenv("HUMANLIB_BODY_MODEL", str(path))
    model = body.load_body_model()
    assert model.num_joints == 24 and model.num_vertices == open_arrays["v_template"].shape[0]


def test_unknown_joint_counts_and_foreign_trees_are_refused(open_arrays):
    with pytest.raises(ValueError, match="neither SMPL .24., SMPL-H .52. nor SMPL-X .55."):
        layout_name(30)
    arrays = expanded_open_model(55)
    arrays["kintree_table"] = arrays["kintree_table"].copy()
    arrays["kintree_table"][0, joint("left_knee")] = joint("right_hip")
    with pytest.raises(ValueError, match="parents of joints 1..21"):
        to_smpl_layout(arrays, "swapped.npz")
    arrays = expanded_open_model(52)
    parents = layout_parents(52)
    parents[22] = 0  # the left index finger hung from the pelvis
    arrays["kintree_table"] = np.array([parents, list(range(52))])
    with pytest.raises(ValueError, match="left fingers' bases"):
        to_smpl_layout(arrays, "odd.npz")
    with pytest.raises(ValueError, match="layout must be 'smpl'"):
        body.load_body_model(layout="smplx")
