"""Bad inputs to SMPLify-X's pieces (OpenPose keypoints on the SMPL-X mesh, the collision term E_c)."""

from __future__ import annotations

import pytest
import torch
from bad_inputs import case_id, raises, run_case

from humanlib.body import load_body_model, open_smplx_model_file
from humanlib.fitting import keypoints_x as kx

K = "humanlib.fitting.keypoints_x."


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
    raises(K + "KeypointSelection", "built by hand with no fields", lambda: kx.KeypointSelection(), TypeError, "missing"),
]
EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
