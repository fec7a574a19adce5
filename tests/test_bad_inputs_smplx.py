"""Bad inputs to the open SMPL-X-layout model's builder and loader: clear one-line errors only.

The build itself needs anny (tests/test_bodybuild.py runs it where anny is installed); these cases
stop at the argument checks, which run before anny is loaded.
"""

import tempfile

import numpy as np
import pytest

from bad_inputs import case_id, raises, run_case, with_env
from humanlib import body, body_layouts, bodybuild, bodybuild_smplx

S = "humanlib.bodybuild_smplx."


def _smpl_compact():
    with np.load(body.paths.asset(body.OPEN_MODEL_ASSET), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _smplx_compact():
    with np.load(body.paths.asset(body.OPEN_SMPLX_ASSET), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


CASES = [
    raises("humanlib.bodybuild.BuildConfig", "gender 'm'", lambda: bodybuild.BuildConfig(gender="m"), ValueError,
           r"BuildConfig.gender must be one of \['female', 'male', 'neutral'\]; got 'm'"),
    raises("humanlib.bodybuild.write_compact_model", "a stem of another model",
           lambda: bodybuild.write_compact_model(tempfile.mkdtemp(), _smpl_compact(), {}, stem="smplx"), ValueError,
           "stem must be one of"),
    raises(S + "SmplxBuildConfig", "zero samples", lambda: bodybuild_smplx.SmplxBuildConfig(samples=0), ValueError,
           "SmplxBuildConfig.samples must be a finite integer > 0"),
    raises(S + "SmplxBuildConfig", "float chunk", lambda: bodybuild_smplx.SmplxBuildConfig(chunk=2.0), TypeError,
           "SmplxBuildConfig.chunk must be an integer"),
    raises(S + "SmplxBuildConfig", "negative flexion", lambda: bodybuild_smplx.SmplxBuildConfig(finger_flexion=-1.0),
           ValueError, "SmplxBuildConfig.finger_flexion"),
    raises(S + "build_open_smplx_model", "the SMPL-X compact file instead of the SMPL one",
           lambda: bodybuild_smplx.build_open_smplx_model(_smplx_compact(), bodybuild_smplx.SmplxBuildConfig()),
           ValueError, "smpl_compact must be the 24-joint open body model's compact arrays"),
    raises(S + "build_open_smplx_model", "a dict config",
           lambda: bodybuild_smplx.build_open_smplx_model(_smpl_compact(), {"samples": 10}), TypeError,
           "config must be a SmplxBuildConfig"),
    raises(S + "build_open_smplx_model", "log not callable",
           lambda: bodybuild_smplx.build_open_smplx_model(_smpl_compact(), bodybuild_smplx.SmplxBuildConfig(), log="x"),
           TypeError, "log must be a function"),
    raises(S + "smplx_bone_joint_assignment", "lists of different lengths",
           lambda: bodybuild_smplx.smplx_bone_joint_assignment(["root", "spine05"], np.zeros(3, int)), ValueError,
           "bone_labels has 2 entries but smpl_assignment has 3"),
    raises(S + "smplx_bone_joint_assignment", "a rig without finger bones",
           lambda: bodybuild_smplx.smplx_bone_joint_assignment(["root"], np.zeros(1, int)), ValueError,
           "SMPL-X joint left_eye: anny has no bone 'eye.L'"),
    raises("humanlib.body_files.open_smplx_model_file", "HUMANLIB_CACHE_DIR names a file",
           with_env(body.open_smplx_model_file, HUMANLIB_CACHE_DIR=__file__), NotADirectoryError, "HUMANLIB_CACHE_DIR"),
    raises("humanlib.body_files.open_smplx_model_file", "gender 'woman'", lambda: body.open_smplx_model_file("woman"),
           ValueError, "gender must be 'neutral', 'male' or 'female'; got 'woman'"),
    raises("humanlib.body_files.open_smplh_model_file", "gender 'F'", lambda: body.open_smplh_model_file("F"),
           ValueError, "gender must be 'neutral', 'male' or 'female'; got 'F'"),
    raises("humanlib.body_layouts.smplx_to_smplh", "an SMPL file (24 joints) where SMPL-X is needed",
           lambda: body_layouts.smplx_to_smplh(body.read_model_file(body.open_body_model_file()), "smpl.pkl"), ValueError,
           r"smpl.pkl: smplx_to_smplh needs an SMPL-X file \(55 joints\); this one has 24"),
    raises("humanlib.body.load_body_model", "layout 'smplx' (the names are 'smpl' and 'native')",
           lambda: body.load_body_model(body.open_smplx_model_file(), layout="smplx"), ValueError,
           r"layout must be 'smpl' \(24 joints\) or 'native'"),
]
EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
