"""Bad inputs to the corpus's source-consistency checks and repairs (humanlib.data.consistency,
cleanup, corpus_checks, measure_corpus): a clear error naming the argument, or a defined result."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from bad_inputs import case_id, raises, returns, run_case

from humanlib.data import cleanup, consistency, corpus_checks, measure_corpus
from humanlib.data.corpus import CorpusError
from humanlib.data.retarget import placeholder_rest_joints

C = "humanlib.data.consistency."
K = "humanlib.data.cleanup."
J = placeholder_rest_joints()
EYE = np.tile(np.eye(3), (4, 24, 1, 1))
POINTS = np.tile(J, (4, 1, 1))


def _nan(x: np.ndarray) -> np.ndarray:
    y = np.array(x, dtype=np.float64)
    y.flat[0] = np.nan
    return y


def _result() -> consistency.ConsistencyResult:
    return consistency.cross_source_consistency(EYE, EYE, EYE)


def _checks() -> corpus_checks.CorpusChecks:
    checks = corpus_checks.CorpusChecks(J)
    checks.add("cmu", "c", False, "train", np.zeros((4, 22, 3)), np.zeros((4, 3)), POINTS, 30.0)
    return checks


CASES = [
    raises(C + "mean_rotation", "a single matrix", lambda: consistency.mean_rotation(np.eye(3)), ValueError, "(N, ..., 3, 3)"),
    raises(C + "mean_rotation", "NaN", lambda: consistency.mean_rotation(_nan(EYE)), ValueError, "NaN"),
    raises(C + "rotation_angle_deg", "shapes that do not broadcast",
           lambda: consistency.rotation_angle_deg(EYE[:2], EYE[:3]), ValueError, "broadcastable"),
    raises(C + "rotation_angle_deg", "(3, 4) matrices", lambda: consistency.rotation_angle_deg(np.zeros((3, 4)), np.eye(3)),
           ValueError, "a must have shape"),
    raises(C + "cross_source_consistency", "an empty part",
           lambda: consistency.cross_source_consistency(EYE, EYE[:0], EYE), ValueError, "source_b_first"),
    raises(C + "cross_source_consistency", "a joint index out of range",
           lambda: consistency.cross_source_consistency(EYE, EYE, EYE, joints=(30,)), ValueError, "joint indices"),
    raises(C + "cross_source_consistency", "a torch tensor",
           lambda: consistency.cross_source_consistency(__import__("torch").zeros(4, 24, 3), EYE, EYE), TypeError,
           ".numpy()"),
    returns(C + "cross_source_consistency", "identical sources", lambda: _result(), lambda r: r.passed),
    returns(C + "ConsistencyResult", "a result's fields", lambda: _result(), lambda r: len(r.joints) == 21),
    returns(C + "ConsistencyResult.failing", "nothing fails", lambda: _result().failing(), lambda f: f == []),
    returns(C + "ConsistencyResult.to_dict", "JSON form", lambda: _result().to_dict(), lambda d: d["passed"] is True),
    returns(C + "JointConsistency", "one joint's row", lambda: _result().joints[0], lambda j: j.cross_deg == 0.0),
    raises(C + "lowest_foot_height", "NaN at a foot", lambda: consistency.lowest_foot_height(
        np.where(np.arange(24)[None, :, None] == 7, np.nan, POINTS)),
           ValueError, "ankle or foot"),
    raises(C + "lowest_foot_height", "quantile 2", lambda: consistency.lowest_foot_height(POINTS, 2.0), ValueError,
           "quantile"),
    raises(C + "contact_mask", "empty heights", lambda: consistency.contact_mask(np.zeros(0)), ValueError, "heights"),
    raises(C + "foot_sliding", "one frame", lambda: consistency.foot_sliding(POINTS[:1], POINTS[:1], 30.0), ValueError,
           "T >= 2"),
    raises(C + "foot_sliding", "different lengths", lambda: consistency.foot_sliding(POINTS, POINTS[:3], 30.0), ValueError,
           "same shape"),
    returns(C + "Sliding", "no contact frame", lambda: consistency.Sliding(0.0, 0.0, 0).ratio, np.isnan),
    raises(C + "single_frame_jumps", "threshold 0", lambda: consistency.single_frame_jumps(EYE, 0.0), ValueError,
           "threshold_deg"),
    returns(C + "single_frame_jumps", "two frames", lambda: consistency.single_frame_jumps(EYE[:2]),
            lambda m: m.shape == (2, 24) and not m.any()),
    raises(C + "jump_summary", "17 joints", lambda: consistency.jump_summary(EYE[:, :17]), ValueError, "local_rotations"),
    raises(C + "limb_angles_deg", "NaN at a knee", lambda: consistency.limb_angles_deg(
        np.where(np.arange(24)[None, :, None] == 4, np.nan, POINTS)), ValueError, "left_knee"),
    raises(C + "mirror_asymmetry_deg", "(N, 21, 3)", lambda: consistency.mirror_asymmetry_deg(np.zeros((2, 21, 3))),
           ValueError, "poses"),
    raises(K + "repair_jumps", "fps 0", lambda: cleanup.repair_jumps(EYE, 0.0), ValueError, "fps"),
    raises(K + "repair_jumps", "(T, J, 9)", lambda: cleanup.repair_jumps(np.zeros((4, 24, 9)), 30.0), ValueError,
           "local_rotations"),
    returns(K + "repair_jumps", "two frames", lambda: cleanup.repair_jumps(EYE[:2], 30.0), lambda r: not r[1].any()),
    raises(K + "hips_midpoint", "NaN at a hip", lambda: cleanup.hips_midpoint(
        np.where(np.arange(24)[None, :, None] == 1, np.nan, POINTS)), ValueError, "hip"),
    raises(K + "hip_anchored_translation", "scale 0", lambda: cleanup.hip_anchored_translation(POINTS, POINTS, 0.0),
           ValueError, "scale"),
    raises(K + "hip_anchored_translation", "different lengths",
           lambda: cleanup.hip_anchored_translation(POINTS, POINTS[:2], 1.0), ValueError, "same number of frames"),
    raises(K + "floor_offset", "scale NaN", lambda: cleanup.floor_offset(POINTS, POINTS, float("nan")), ValueError, "scale"),
    returns(K + "floor_offset", "the same feet", lambda: cleanup.floor_offset(POINTS, POINTS, 1.0), lambda v: v == 0.0),
    returns("humanlib.data.corpus_checks.is_walk", "a CMU subject-01 clip",
            lambda: corpus_checks.is_walk("cmu", "01", "walk"), lambda v: v is False),
    returns("humanlib.data.corpus_checks.CorpusChecks", "no clip", lambda: corpus_checks.CorpusChecks(J).summary(),
            lambda s: s["walking"]["result"] is None),
    raises("humanlib.data.corpus_checks.CorpusChecks.add", "points of another length", lambda: _checks().add(
        "cmu", "c", False, "train", np.zeros((4, 22, 3)), np.zeros((4, 3)), POINTS[:3], 30.0), ValueError, "same shape"),
    returns("humanlib.data.corpus_checks.CorpusChecks.walking", "no walk", lambda: _checks().walking(),
            lambda r: r is None),
    returns("humanlib.data.corpus_checks.CorpusChecks.summary", "one clip", lambda: _checks().summary(),
            lambda s: s["feet"]["cmu"]["clips"] == 1),
    returns("humanlib.data.corpus_checks.CorpusChecks.problems", "feet on the source's floor",
            lambda: _checks().problems(), lambda p: p == []),
    raises("humanlib.data.measure_corpus.measure_corpus", "a folder without a corpus",
           lambda: measure_corpus.measure_corpus(tempfile.mkdtemp(), tempfile.mkdtemp()), CorpusError),
    raises("humanlib.data.measure_corpus.main", "--corpus without NAME=", lambda: measure_corpus.main(
        ["--corpus", "x", "--raw", ".", "--out", str(Path(tempfile.mkdtemp()) / "o.json")]), SystemExit),
]

EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
