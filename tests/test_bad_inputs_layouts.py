"""Bad inputs to the SMPL-H / SMPL-X reduction and the user-priors setting: clear errors only."""

import tempfile

import numpy as np
import pytest

from bad_inputs import case_id, raises, run_case, with_env
from humanlib import body_layouts, paths


def _smpl_arrays_with_joints(num_joints: int) -> dict:
    V = 10
    return {
        "v_template": np.zeros((V, 3)), "shapedirs": np.zeros((V, 3, 2)),
        "posedirs": np.zeros((V, 3, 9 * (num_joints - 1))), "J_regressor": np.zeros((num_joints, V)),
        "weights": np.zeros((V, num_joints)), "f": np.zeros((1, 3), dtype=np.int64),
        "kintree_table": np.array([[0] + list(range(num_joints - 1)), list(range(num_joints))]),
    }


CASES = [
    raises("humanlib.body_layouts.layout_name", "a 30-joint model",
           lambda: body_layouts.layout_name(30), ValueError, r"30 joints is neither SMPL \(24\)"),
    raises("humanlib.body_layouts.to_smpl_layout", "a 30-joint chain",
           lambda: body_layouts.to_smpl_layout(_smpl_arrays_with_joints(30), "chain.npz"), ValueError,
           "30 joints is neither"),
    raises("humanlib.body_layouts.to_smpl_layout", "55 joints, but a chain instead of SMPL-X's tree",
           lambda: body_layouts.to_smpl_layout(_smpl_arrays_with_joints(55), "chain.npz"), ValueError,
           r"chain.npz: the parents of joints 1..21"),
    raises("humanlib.paths.user_prior_file", "unknown kind",
           lambda: paths.user_prior_file("hmm"), ValueError, "unknown prior kind 'hmm'"),
    raises("humanlib.paths.user_prior_file", "HUMANLIB_PRIORS_DIR set, file missing",
           lambda: with_env(lambda: paths.user_prior_file("vposer"), HUMANLIB_PRIORS_DIR=tempfile.mkdtemp())(),
           FileNotFoundError,
           r"vposer/best.pt does not exist; train it with `humanlib train-vposer --out"),
]
EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


def test_unset_priors_dir_means_the_committed_priors(monkeypatch):
    monkeypatch.delenv("HUMANLIB_PRIORS_DIR", raising=False)
    assert paths.user_prior_file("gmm") is None
    monkeypatch.setenv("HUMANLIB_PRIORS_DIR", "  ")
    assert paths.user_prior_file("posendf") is None
