"""Bad inputs to SMPLify-X's pieces (OpenPose keypoints on the SMPL-X mesh, the collision term E_c)."""

from __future__ import annotations

import pytest
import torch
from bad_inputs import case_id, raises, run_case

from humanlib.body import load_body_model, open_smplx_model_file
from humanlib.fitting import collision as col
from humanlib.fitting import keypoints_x as kx

K = "humanlib.fitting.keypoints_x."
C = "humanlib.fitting.collision."
TRI = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
V = torch.rand(1, 4, 3)
F = torch.tensor([[0, 1, 2], [1, 2, 3]])


def _x():
    return load_body_model(open_smplx_model_file(), layout="native")


def _smpl():
    return load_body_model()


CASES = [
    raises(K + "keypoint_vertex_ids", "an SMPL model (24 joints) where SMPL-X is needed",
           lambda: kx.keypoint_vertex_ids(_smpl()), ValueError, r"need an SMPL-X-layout model \(55 joints\)"),
    raises(K + "keypoint_vertex_ids", "a path instead of a model", lambda: kx.keypoint_vertex_ids("smplx.pkl"),
           TypeError, "model must be a humanlib BodyModel"),
    raises(K + "keypoint_selection", "a set name that does not exist",
           lambda: kx.keypoint_selection(_x(), ("body", "feet")), ValueError, "sets must hold distinct names"),
    raises(K + "keypoint_selection", "one string instead of a tuple", lambda: kx.keypoint_selection(_x(), "body"),
           TypeError, "sets must be a non-empty tuple"),
    raises(K + "keypoint_selection", "a repeated set", lambda: kx.keypoint_selection(_x(), ("body", "body")),
           ValueError, "distinct names"),
    raises(K + "select_keypoints", "a tensor instead of the model's output",
           lambda: kx.select_keypoints(torch.zeros(1, 10, 3), _x()), TypeError, "output must be the BodyOutput"),
    raises(K + "select_keypoints", "the output of the SMPL model given with the SMPL-X model",
           lambda: kx.select_keypoints(_smpl()(), _x()), ValueError, r"output.joints must have shape \(1, 55, 3\)"),
    raises(K + "select_keypoints", "an SMPL model for an SMPL output",
           lambda: kx.select_keypoints(_smpl()(), _smpl()), ValueError, "SMPL-X-layout model"),
    raises(C + "candidate_pairs", "unbatched vertices (V, 3)", lambda: col.candidate_pairs(V[0], F), ValueError,
           r"vertices must have shape \(B, N, 3\)"),
    raises(C + "candidate_pairs", "float faces", lambda: col.candidate_pairs(V, F.float()), ValueError,
           "faces must hold vertex indices"),
    raises(C + "candidate_pairs", "faces past the last vertex", lambda: col.candidate_pairs(V, F + 1), ValueError,
           r"faces index vertices in \[1, 4\] but vertices has 4"),
    raises(C + "candidate_pairs", "a zero cell size", lambda: col.candidate_pairs(V, F, cell_size=0.0), ValueError,
           "cell_size must be a finite number > 0"),
    raises(C + "candidate_pairs", "NaN vertices", lambda: col.candidate_pairs(V * float("nan"), F), ValueError,
           "non-finite"),
    raises(C + "intersecting_pairs", "face_parts of the wrong length",
           lambda: col.intersecting_pairs(V, F, face_parts=torch.zeros(3, dtype=torch.long)), ValueError,
           r"face_parts must have shape \(2,\)"),
    raises(C + "intersecting_pairs", "float face_parts",
           lambda: col.intersecting_pairs(V, F, face_parts=torch.zeros(2)), ValueError, "integer part labels"),
    raises(C + "triangles_intersect", "different numbers of triangles",
           lambda: col.triangles_intersect(TRI, TRI.repeat(2, 1, 1)), ValueError, "as many triangles as tri_a"),
    raises(C + "triangles_intersect", "a list", lambda: col.triangles_intersect(TRI.tolist(), TRI), TypeError,
           "torch.as_tensor"),
    raises(C + "penetration_field", "one point set for two triangles",
           lambda: col.penetration_field(torch.zeros(1, 3, 3), TRI.repeat(2, 1, 1)), ValueError, "points must have shape"),
    raises(C + "penetration_field", "negative sigma", lambda: col.penetration_field(torch.zeros(1, 3, 3), TRI, -1.0),
           ValueError, "sigma must be a finite number > 0"),
    raises(C + "collision_energy", "pairs naming a triangle that does not exist",
           lambda: col.collision_energy(V, F, torch.tensor([[0, 0, 5]])), ValueError, "pairs index bodies outside"),
    raises(C + "collision_energy", "int32 pairs",
           lambda: col.collision_energy(V, F, torch.tensor([[0, 0, 1]], dtype=torch.int32)), ValueError, "must be int64"),
    raises(C + "collision_energy", "sigma as a string", lambda: col.collision_energy(V, F, sigma="2"), TypeError,
           "sigma must be a number"),
    raises(C + "face_parts", "weights of another mesh",
           lambda: col.face_parts(torch.rand(3, 5), F), ValueError, r"faces index vertices in \[0, 3\] but vertices has 3"),
    raises(C + "face_parts", "a merge list", lambda: col.face_parts(torch.rand(4, 5), F, merge=[(1, 2)]), TypeError,
           "merge must be a dict of joint index"),
    raises(K + "KeypointSelection", "built by hand with no fields", lambda: kx.KeypointSelection(), TypeError, "missing"),
]
EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
