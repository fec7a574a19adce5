"""Bad inputs to SMPLify-X's pieces (OpenPose keypoints on the SMPL-X mesh, the collision term E_c)."""

from __future__ import annotations

import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case

from humanlib.body import load_body_model, open_smplx_model_file
from humanlib.fitting import collision as col
from humanlib.fitting import keypoints_x as kx
from humanlib.fitting import smplifyx as sx

K = "humanlib.fitting.keypoints_x."
C = "humanlib.fitting.collision."
S = "humanlib.fitting.smplifyx."
T = "humanlib.fitting.smplifyx_terms."
BHF = ("body", "hands", "face")
TRI = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
V = torch.rand(1, 4, 3)
F = torch.tensor([[0, 1, 2], [1, 2, 3]])


def _x():
    return load_body_model(open_smplx_model_file(), layout="native")


def _smpl():
    return load_body_model()


def _cam(b):
    from humanlib.fitting.camera import Camera

    return Camera.simple(b, 1000.0, 640.0, 640.0)


def _smplify_stages():
    from humanlib.fitting.smplify import smplify_stages

    return smplify_stages()


def _smplify_config():
    from humanlib.fitting.smplify import SMPLifyConfig

    return SMPLifyConfig()


def _tables():
    from humanlib.experiments import smplifyx_tables

    return smplifyx_tables


def _none_prior():
    from humanlib.priors import NoPrior

    return NoPrior()


def _fit_smplify(model):
    from humanlib.fitting.smplify import fit_smplify

    return fit_smplify(model, torch.zeros(1, 24, 2), torch.ones(1, 24), _cam(1))


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
    # SMPLify-X's energy terms
    raises(T + "check_keypoints_x", "body+hands keypoints (67) for body+hands+face",
           lambda: sx.check_keypoints_x(torch.zeros(2, 67, 2), torch.ones(2, 67), BHF), ValueError,
           r"the face keypoints are missing .* give all 118, or fit sets=\('body', 'hands'\)"),
    raises(T + "check_keypoints_x", "SMPL's 24 joints for the body set",
           lambda: sx.check_keypoints_x(torch.zeros(2, 24, 2), torch.ones(2, 24), ("body",)), ValueError,
           r"keypoints must have shape \(B, 25, 2\) for sets \('body',\) \(25 body"),
    raises(T + "check_keypoints_x", "confidence of another width",
           lambda: sx.check_keypoints_x(torch.zeros(2, 25, 2), torch.ones(2, 24), ("body",)), ValueError,
           r"confidence must have shape \(2, 25\)"),
    raises(T + "check_keypoints_x", "a numpy array", lambda: sx.check_keypoints_x([[0.0]], None, ("body",)), TypeError,
           r"keypoints must be a torch.Tensor \(B, 25, 2\)"),
    raises(T + "check_keypoints_x", "negative confidence",
           lambda: sx.check_keypoints_x(torch.zeros(1, 25, 2), -torch.ones(1, 25), ("body",)), ValueError,
           "confidence must be finite and >= 0"),
    raises(T + "check_keypoints_x", "NaN at an observed keypoint",
           lambda: sx.check_keypoints_x(torch.full((1, 25, 2), float("nan")), torch.ones(1, 25), ("body",)),
           ValueError, "non-finite value"),
    raises(T + "set_of_keypoints", "an unknown set", lambda: sx.set_of_keypoints(("body", "feet")), ValueError,
           "sets must hold distinct names"),
    raises(T + "E_J", "weights of the wrong length",
           lambda: sx.E_J(torch.zeros(1, 25, 2), torch.zeros(1, 25, 2), torch.ones(1, 25), torch.ones(24)),
           ValueError, r"weights must be a tensor of shape \(25,\)"),
    raises(T + "E_J", "keypoints that do not match the projection",
           lambda: sx.E_J(torch.zeros(1, 25, 2), torch.zeros(1, 67, 2), torch.ones(1, 25), torch.ones(25)),
           ValueError, "It must match projected"),
    raises(T + "E_J", "sigma zero",
           lambda: sx.E_J(torch.zeros(1, 25, 2), torch.zeros(1, 25, 2), torch.ones(1, 25), torch.ones(25), 0.0),
           ValueError, "sigma must be a finite number > 0"),
    raises(T + "E_theta_b", "a string instead of a prior", lambda: sx.E_theta_b("vposer", torch.zeros(1, 32)),
           TypeError, "prior must be a humanlib.priors.PosePrior"),
    raises(T + "E_theta_f", "the whole pose instead of the jaw", lambda: sx.E_theta_f(torch.zeros(1, 55, 3)),
           ValueError, r"jaw_pose must have shape \(B, 3\)"),
    raises(T + "E_theta_f", "two axis weights", lambda: sx.E_theta_f(torch.zeros(1, 3), (1.0, 1.0)), TypeError,
           "axis_weights must be three numbers"),
    raises(T + "E_epsilon", "an unbatched expression", lambda: sx.E_epsilon(torch.zeros(10)), ValueError,
           r"expression must have shape \(B, N\)"),
    raises(T + "E_alpha", "an SMPL pose (24 joints) where SMPL-X is needed", lambda: sx.E_alpha(torch.zeros(1, 24, 3)),
           ValueError, r"pose must have shape \(B, 55, 3\)"),
    raises(T + "E_beta", "unbatched betas", lambda: sx.E_beta(torch.zeros(10)), ValueError, "betas must have shape"),
    raises(T + "HandPosePrior", "an SMPL model (24 joints) where SMPL-X is needed", lambda: sx.HandPosePrior(_smpl()),
           ValueError, r"need an SMPL-X-layout model \(55 joints\)"),
    raises(T + "HandPosePrior.energy", "one hand only (15 joints)",
           lambda: sx.HandPosePrior(_x()).energy(torch.zeros(1, 15, 3)), ValueError, r"hand_pose must have shape \(B, 30, 3\)"),
    raises(T + "HandPosePrior.components", "the full pose", lambda: sx.HandPosePrior(_x()).components(torch.zeros(1, 55, 3)),
           ValueError, r"hand_pose must have shape \(B, 30, 3\)"),
    raises(T + "E_mh", "a VPoser prior where the hand prior is needed",
           lambda: sx.E_mh(object(), torch.zeros(1, 30, 3)), TypeError, "prior must be a HandPosePrior"),
    raises(T + "FingerJointRange", "a range that ends before it starts", lambda: sx.FingerJointRange(1.0, 0.5, 0.7, 0.1, 0.1),
           ValueError, "flex_min < flex_max"),
    raises(T + "FingerJointRange", "degrees as a string", lambda: sx.FingerJointRange("0", 1.0, 0.5, 0.1, 0.1),
           TypeError, "flex_min must be a finite number"),
    raises(T + "mesh_parts", "an SMPL model", lambda: sx.mesh_parts(_smpl()), ValueError, "SMPL-X-layout model"),
    raises(T + "collision_pairs", "vertices of another mesh",
           lambda: sx.collision_pairs(torch.zeros(1, 100, 3), _x()), ValueError, r"\(13718 vertices per body\)"),
    raises(K + "KeypointBody", "an SMPL model where SMPL-X is needed", lambda: sx.KeypointBody(_smpl()), ValueError,
           r"need an SMPL-X-layout model \(55 joints\)"),
    raises(K + "KeypointBody", "an unknown keypoint set", lambda: sx.KeypointBody(_x(), ("body", "feet")), ValueError,
           "sets must hold distinct names"),
    raises(S + "SMPLifyXStage", "a negative hand weight", lambda: sx.SMPLifyXStage(1, -1, 1, 1, 1, 1, 0, 0, 0), ValueError,
           "SMPLifyXStage.hand_pose must be"),
    raises(S + "SMPLifyXStage", "iterations as a float", lambda: sx.SMPLifyXStage(1, 1, 1, 1, 1, 1, 0, 0, 0, 2.5),
           (TypeError, ValueError), "SMPLifyXStage.iterations"),
    raises(S + "smplifyx_stages", "negative collision scale", lambda: sx.smplifyx_stages(30, -1.0), ValueError,
           "collision_scale must be"),
    raises(S + "smplifyx_stages", "iterations as a string", lambda: sx.smplifyx_stages("30"), TypeError, "iterations"),
    raises(S + "SMPLifyXConfig", "SMPLify's stages", lambda: sx.SMPLifyXConfig(stages=_smplify_stages()), TypeError,
           "SMPLifyXConfig.stages must hold SMPLifyXStage"),
    raises(S + "SMPLifyXConfig", "hands without the body", lambda: sx.SMPLifyXConfig(sets=("hands", "face")), ValueError,
           "SMPLifyXConfig.sets must include 'body'"),
    raises(S + "SMPLifyXConfig", "an unknown solver", lambda: sx.SMPLifyXConfig(optimizer="adam"), ValueError,
           "optimizer must be one of"),
    raises(S + "SMPLifyXConfig", "freeze_hands_face as a string", lambda: sx.SMPLifyXConfig(freeze_hands_face="yes"),
           TypeError, "SMPLifyXConfig.freeze_hands_face must be True or False"),
    raises(S + "SMPLifyXConfig", "collision_every 0", lambda: sx.SMPLifyXConfig(collision_every=0), ValueError,
           "SMPLifyXConfig.collision_every must be"),
    raises(S + "SMPLifyXConfig.weight", "a negative weight", lambda: sx.SMPLifyXConfig().weight(-1.0), ValueError,
           "value must be"),
    returns(S + "SMPLifyXConfig.weight", "squared by default", lambda: sx.SMPLifyXConfig().weight(3.0), lambda r: r == 9.0),
    returns(S + "SMPLifyXConfig.smplify_config", "the shared fields carried over",
            lambda: sx.SMPLifyXConfig(sigma_px=50.0).smplify_config(), lambda r: r.sigma_px == 50.0),
    raises(S + "fit_smplifyx", "an SMPL model (24 joints) where SMPL-X is needed",
           lambda: sx.fit_smplifyx(_smpl(), torch.zeros(1, 118, 2), torch.ones(1, 118), _cam(1)), ValueError,
           r"need an SMPL-X-layout model \(55 joints\)"),
    raises(S + "fit_smplifyx", "body+hands keypoints for body+hands+face (face keypoints missing)",
           lambda: sx.fit_smplifyx(_x(), torch.zeros(1, 67, 2), torch.ones(1, 67), _cam(1)), ValueError,
           "the face keypoints are missing"),
    raises(S + "fit_smplifyx", "SMPL's 24 joints as keypoints",
           lambda: sx.fit_smplifyx(_x(), torch.zeros(1, 24, 2), torch.ones(1, 24), _cam(1)), ValueError,
           r"keypoints must have shape \(B, 118, 2\)"),
    raises(S + "fit_smplifyx", "a camera for another batch",
           lambda: sx.fit_smplifyx(_x(), torch.zeros(2, 118, 2), torch.ones(2, 118), _cam(1)), ValueError, "camera"),
    raises(S + "fit_smplifyx", "SMPLify's config", lambda: sx.fit_smplifyx(_x(), torch.zeros(1, 118, 2),
           torch.ones(1, 118), _cam(1), config=_smplify_config()), TypeError, "config must be an SMPLifyXConfig"),
    raises(S + "fit_smplifyx", "a hand prior that is a string", lambda: sx.fit_smplifyx(_x(), torch.zeros(1, 118, 2),
           torch.ones(1, 118), _cam(1), prior=_none_prior(), hand_prior="mano"), TypeError, "hand_prior must be"),
    raises(S + "fit_smplifyx", "too few body keypoints", lambda: sx.fit_smplifyx(_x(), torch.zeros(1, 118, 2),
           torch.zeros(1, 118), _cam(1), prior=_none_prior()), ValueError, "fewer than 6 body keypoints"),
    raises("humanlib.fitting.smplify.fit_smplify", "the SMPL-X-layout model where SMPL is needed",
           lambda: _fit_smplify(_x()), ValueError, r"fit_smplify fits SMPL-layout models \(24 joints\).*has 55"),
    raises("humanlib.experiments.smplifyx_tables.run_smplifyx_tables", "an odd number of frames",
           lambda: _tables().run_smplifyx_tables(3), ValueError, "frames must be even"),
    raises("humanlib.experiments.smplifyx_tables.run_smplifyx_tables", "a probability of 1 to drop keypoints",
           lambda: _tables().run_smplifyx_tables(2, missing_prob=1.0), ValueError, r"missing_prob must be in \[0, 1\)"),
    raises("humanlib.experiments.smplifyx_tables.gesture_hand_pose", "an unknown gesture",
           lambda: _tables().gesture_hand_pose(sx.HandPosePrior(_x()), [("open", "peace")]), ValueError,
           "unknown gesture 'peace'"),
    raises("humanlib.experiments.smplifyx_tables.talk_table_markdown", "table 3",
           lambda: _tables().talk_table_markdown({"table1": []}, 3), ValueError, "table must be 1 or 2"),
    raises("humanlib.experiments.smplifyx_tables.talk_table_markdown", "a path instead of the read results",
           lambda: _tables().talk_table_markdown("results/smplifyx/smplifyx_tables.json"), TypeError,
           "results must be the dict read from smplifyx_tables.json"),
    raises("humanlib.experiments.smplifyx_tables.talk_table_markdown", "results without table2",
           lambda: _tables().talk_table_markdown({"table1": []}, 2), ValueError, "results has no table2 list"),
    raises(T + "E_c", "pairs of another mesh", lambda: sx.E_c(V, F, torch.tensor([[0, 0, 9]])), ValueError,
           "pairs index bodies outside"),
]
EXEMPT: dict[str, str] = {
    S + "SMPLifyXResult": "result record built by fit_smplifyx, never from user input",
    "humanlib.commands.smplifyx_tables.add_parser": "registers the CLI parser of `humanlib experiment smplifyx-tables`; "
    "its bad arguments are swept in tests/commands/test_commands.py",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
