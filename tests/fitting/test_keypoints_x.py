"""OpenPose keypoints on the open SMPL-X-layout mesh: counts, order, fingertips, mirror symmetry."""

import numpy as np
import pytest
import torch

from humanlib.body import load_body_model, open_smplx_model_file
from humanlib.bodybuild_smplx import SMPLX_JOINT_NAMES
from humanlib.fitting import keypoints_x as kx

# OpenPose face points 17..67 and their mirror images (the subject's left <-> right).
FACE_MIRROR = dict([(17, 26), (18, 25), (19, 24), (20, 23), (21, 22), (27, 27), (28, 28), (29, 29), (30, 30),
                    (31, 35), (32, 34), (33, 33), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),
                    (48, 54), (49, 53), (50, 52), (51, 51), (55, 59), (56, 58), (57, 57), (60, 64), (61, 63),
                    (62, 62), (65, 67), (66, 66)])


@pytest.fixture(scope="module")
def model():
    return load_body_model(open_smplx_model_file(), layout="native")


def test_counts_and_order(model):
    sel = kx.keypoint_selection(model)
    assert sel.num_keypoints == 25 + 42 + 51
    assert sel.names[0] == "body.nose" and sel.names[1] == "body.neck" and sel.names[8] == "body.mid_hip"
    assert sel.names[24] == "body.right_heel"
    assert sel.names[25] == "left_hand.wrist" and sel.names[29] == "left_hand.thumb_tip"
    assert sel.names[45] == "left_hand.pinky_tip" and sel.names[46] == "right_hand.wrist"
    assert sel.names[67] == "face.17" and sel.names[-1] == "face.67"
    only = kx.keypoint_selection(model, ("face", "body"))
    assert only.names == sel.names[67:] + sel.names[:25]
    # joints where OpenPose marks joints
    assert not sel.is_vertex[1] and int(sel.index[1]) == SMPLX_JOINT_NAMES.index("neck")
    assert int(sel.index[8]) == SMPLX_JOINT_NAMES.index("pelvis")
    assert int(sel.index[26]) == SMPLX_JOINT_NAMES.index("left_thumb1")
    assert sel.is_vertex[0] and sel.is_vertex[29] and sel.is_vertex[67:].all()


def test_select_keypoints_reads_joints_and_vertices(model):
    torch.manual_seed(0)
    out = model(pose=0.2 * torch.randn(2, 55, 3))
    kp = kx.select_keypoints(out, model, ("body", "hands"))
    ids = kx.keypoint_vertex_ids(model)
    assert kp.shape == (2, 67, 3)
    assert torch.equal(kp[:, 0], out.vertices[:, ids["nose"]])
    assert torch.equal(kp[:, 4], out.joints[:, SMPLX_JOINT_NAMES.index("right_wrist")])
    assert torch.equal(kp[:, 25 + 8], out.vertices[:, ids["left_index_tip"]])


def test_fingertips_are_the_extreme_vertices_of_each_finger(model):
    ids = kx.keypoint_vertex_ids(model)
    v = model.v_template.double()
    J = model.J_regressor.double() @ v
    dominant = model.weights.argmax(1)
    for side in ("left", "right"):
        for finger in kx.OPENPOSE_FINGERS:
            j = [SMPLX_JOINT_NAMES.index(f"{side}_{finger}{k}") for k in (1, 2, 3)]
            u = (J[j[2]] - J[j[1]]) / (J[j[2]] - J[j[1]]).norm()
            finger_vertices = torch.isin(dominant, torch.tensor(j))
            tip = ids[f"{side}_{finger}_tip"]
            assert finger_vertices[tip]
            assert float(v[tip] @ u) >= float((v[finger_vertices] @ u).max()) - 1e-9
            assert float((v[tip] - J[j[2]]) @ u) > 0.005  # beyond the distal joint


def test_left_right_mirror_symmetry(model):
    ids = kx.keypoint_vertex_ids(model)
    v = model.v_template.double().numpy()
    mirror = np.array([-1.0, 1.0, 1.0])
    for name, i in ids.items():
        if name.startswith("left_"):
            other = ids["right_" + name[5:]]
            assert np.linalg.norm(v[i] * mirror - v[other]) < 2e-3, name
    for a, b in FACE_MIRROR.items():
        assert np.linalg.norm(v[ids[f"face.{a}"]] * mirror - v[ids[f"face.{b}"]]) < 4e-3, (a, b)
    assert abs(v[ids["nose"], 0]) < 2e-3


def test_face_landmarks_sit_where_a_face_has_them(model):
    ids = kx.keypoint_vertex_ids(model)
    v = model.v_template.double().numpy()
    y = {k: v[ids[f"face.{k}"], 1] for k in kx.OPENPOSE_FACE_INNER}
    assert min(y[k] for k in range(17, 27)) > max(y[k] for k in range(36, 48))  # brows above eyes
    assert min(y[k] for k in range(36, 48)) > y[30] > max(y[k] for k in range(48, 68))  # eyes, nose tip, lips
    assert ids["face.30"] == ids["nose"] or abs(y[30] - v[ids["nose"], 1]) < 5e-3
    assert v[ids["face.54"], 0] > v[ids["face.48"], 0]  # OpenPose's 48 is the subject's right mouth corner
