"""Bad inputs to the public steps of the corpus build and to ``retarget_folder`` (issue 20)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from bad_inputs import case_id, raises, returns, run_case

from humanlib import provenance
from humanlib.data import amass, mapping, motions, retarget_files, steps
from humanlib.data.retarget import Calibration

S = "humanlib.data.steps."
F = "humanlib.data.retarget_files."
M = "humanlib.data.mapping."
D = "humanlib.data.motions."
_GOOD = {"format": mapping.MAPPING_FORMAT, "scale": 0.01, "joints": {j: j for j in mapping.REQUIRED_JOINTS}}


def _mapping(**change) -> Path:
    import json

    data = {**_GOOD, **change}
    return _file("map.json", json.dumps({k: v for k, v in data.items() if v is not None}))


_JM = mapping.JointMapping(dict(_GOOD["joints"]), 0.01)
J = np.zeros((24, 3))


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="humanlib-badud-"))


def _file(name: str, text: str) -> Path:
    p = _tmp() / name
    p.write_text(text)
    return p


def _nonempty() -> Path:
    d = _tmp()
    (d / "x.txt").write_text("x")
    return d


def _amass_dir(rates=(30.0,), frames: int = 12, rate_key: bool = True, up: str | None = None) -> Path:
    """A folder of small AMASS-layout files (SMPL-H width), one per rate."""
    d = _tmp() / "mine"
    for k, rate in enumerate(rates):
        (d / "sub").mkdir(parents=True, exist_ok=True)
        extra = {"mocap_framerate": np.array(rate)} if rate_key else {}
        if up is not None:
            extra["up"] = np.array(up)
        np.savez(d / "sub" / f"clip_{k}_poses.npz", poses=np.zeros((frames, 156)), trans=np.zeros((frames, 3)), **extra)
    return d


def _motions_json(text: str) -> Path:
    d = _tmp() / "mine"
    d.mkdir()
    (d / retarget_files.MOTIONS_FILE).write_text(text)
    return d


def _folder(**kw) -> motions.MotionFolder:
    return motions.read_motion_folder(_amass_dir(**kw))


def _check(*args, **kw):
    from humanlib.check import check_motion_folder

    return check_motion_folder(*args, **kw)


def _run(**kw):
    from humanlib.experiments.runner import ExperimentConfig, run_experiment

    return run_experiment(ExperimentConfig("denoise", priors=("none",), windows=(8,), frames_per_length=16), **kw)


CASES = [
    raises(D + "read_motion_folder", "folder None", lambda: motions.read_motion_folder(None), TypeError,
           "str or pathlib.Path"),
    raises(D + "read_motion_folder", "folder missing", lambda: motions.read_motion_folder(_tmp() / "none"),
           FileNotFoundError, "does not exist; retarget your mocap"),
    raises(D + "read_motion_folder", "a folder with no motion", lambda: motions.read_motion_folder(_tmp()),
           motions.MotionFolderError, "no motion in .*humanlib retarget SOURCE --out DIR"),
    raises(D + "read_motion_folder", "up 'x'", lambda: motions.read_motion_folder(_tmp(), up="x"), ValueError,
           "up must be 'y' or 'z'"),
    raises(D + "read_motion_folder", "fps 0", lambda: motions.read_motion_folder(_tmp(), fps=0), ValueError, "fps"),
    raises(D + "read_motion_folder", "mixed frame rates", lambda: motions.read_motion_folder(_amass_dir((30.0, 60.0))),
           motions.MotionFolderError, r"mixed frame rates .*30 fps: sub/clip_0_poses\.npz; 60 fps.*own folder"),
    raises(D + "read_motion_folder", "no frame rate and no fps",
           lambda: motions.read_motion_folder(_amass_dir(rate_key=False)), motions.MotionFolderError,
           "carries no frame rate .*give its rate with --fps"),
    returns(D + "read_motion_folder", "no frame rate, fps given",
            lambda: motions.read_motion_folder(_amass_dir(rate_key=False), fps=25), lambda m: m.fps == 25.0
            and m.fps_from == "--fps" and m.up == "z"),
    raises(D + "read_motion_folder", "fps contradicting the files",
           lambda: motions.read_motion_folder(_amass_dir(), fps=60), motions.MotionFolderError, "drop it"),
    raises(D + "read_motion_folder", "up contradicting a file's key",
           lambda: motions.read_motion_folder(_amass_dir(up="y"), up="z"), motions.MotionFolderError, "drop --up"),
    returns(D + "read_motion_folder", "a file's key up is used", lambda: motions.read_motion_folder(_amass_dir(up="y")),
            lambda m: m.up == "y" and "key 'up'" in m.up_from),
    raises(D + "read_motion_folder", "motions.json not JSON", lambda: motions.read_motion_folder(_motions_json("{ no")),
           motions.MotionFolderError, "not valid JSON.*humanlib retarget"),
    raises(D + "read_motion_folder", "motions.json of another format",
           lambda: motions.read_motion_folder(_motions_json('{"format": "x"}')), motions.MotionFolderError,
           "not a motion folder's list"),
    raises(D + "read_motion_folder", "motions.json without clips",
           lambda: motions.read_motion_folder(_motions_json(
               f'{{"format": "{retarget_files.MOTIONS_FORMAT}", "fps": 30, "up": "y", "clips": []}}')),
           motions.MotionFolderError, "no motion in .*lists no clips"),
    raises(D + "read_motion_folder", "a listed clip file missing",
           lambda: motions.read_motion_folder(_motions_json(
               f'{{"format": "{retarget_files.MOTIONS_FORMAT}", "fps": 30, "up": "y", "clips": [{{"id": "a"}}]}}')),
           motions.MotionFolderError, r"a\.npz is missing"),
    raises(D + "read_motion_folder", "motions.json fps -1",
           lambda: motions.read_motion_folder(_motions_json(
               f'{{"format": "{retarget_files.MOTIONS_FORMAT}", "fps": -1, "up": "y", "clips": []}}')),
           motions.MotionFolderError, "'fps' is -1"),
    raises(D + "read_motion_folder", "the parent of a motion folder",
           lambda: motions.read_motion_folder(_motions_json("{}").parent), motions.MotionFolderError,
           "holds motion folders \\(mine\\) but is none itself; give one of them"),
    raises(D + "check_window_lengths", "clips shorter than every window",
           lambda: motions.check_window_lengths(_folder(frames=12), (20, 40)), motions.MotionFolderError,
           r"every clip of .* is shorter than a window of 20 frames .*12 frames at 30 fps\); give windows of at most 12"),
    raises(D + "check_window_lengths", "clips shorter than one window",
           lambda: motions.check_window_lengths(_folder(frames=12), (8, 40)), motions.MotionFolderError, "drop 40"),
    returns(D + "check_window_lengths", "every window fits",
            lambda: motions.check_window_lengths(_folder(frames=12), (8, 12)), lambda r: r is None),
    raises(D + "check_window_lengths", "not a MotionFolder", lambda: motions.check_window_lengths("mine", (8,)),
           TypeError, "MotionFolder"),
    raises(D + "check_window_lengths", "windows not a tuple", lambda: motions.check_window_lengths(_folder(), "60"),
           TypeError, "windows"),
    raises("humanlib.experiments.runner.run_experiment", "data without clips",
           lambda: _run(data="mine"), ValueError, "data names the given clips .* without clips"),
    raises("humanlib.experiments.runner.run_experiment", "data not a string",
           lambda: _run(data=3, clips=[]), TypeError, "data names the given clips"),
    raises("humanlib.check.check_motion_folder", "root None", lambda: _check(None), TypeError, "str or Path"),
    raises("humanlib.check.check_motion_folder", "up 'x'", lambda: _check(_tmp(), up="x"), ValueError, "up must be"),
    raises("humanlib.check.check_motion_folder", "fps 0", lambda: _check(_tmp(), fps=0), ValueError, "fps"),
    raises("humanlib.check.check_motion_folder", "report not a CheckReport", lambda: _check(_tmp(), report=[]),
           TypeError, "CheckReport"),
    returns("humanlib.check.check_motion_folder", "a folder with no motion is a problem, not an exception",
            lambda: _check(_tmp()), lambda r: not r.ok and "no motion in" in r.problems[0]),
    returns("humanlib.check.check_motion_folder", "mixed frame rates are one problem",
            lambda: _check(_amass_dir((30.0, 60.0))), lambda r: len(r.problems) == 1 and "mixed" in r.problems[0]),
    raises("humanlib.provenance.clips_fingerprint", "not a list of clips", lambda: provenance.clips_fingerprint("a"),
           TypeError, r"\(name, poses, transl\)"),
    raises("humanlib.provenance.clips_fingerprint", "a clip of arrays",
           lambda: provenance.clips_fingerprint([("a", np.zeros(3), np.zeros(3))]), TypeError, "two tensors"),
    raises("humanlib.data.amass.load_amass_npz", "fps 0 for a file without a rate",
           lambda: amass.load_amass_npz(next((_amass_dir(rate_key=False) / "sub").iterdir()), fps=0), ValueError, "fps"),
    returns("humanlib.data.amass.load_amass_npz", "fps for a file without a rate",
            lambda: amass.load_amass_npz(next((_amass_dir(rate_key=False) / "sub").iterdir()), fps=24),
            lambda m: m.fps == 24.0),
    raises(M + "read_mapping", "no file", lambda: mapping.read_mapping(_tmp() / "none.json"), FileNotFoundError,
           "does not exist"),
    raises(M + "read_mapping", "path None", lambda: mapping.read_mapping(None), TypeError, "str or pathlib.Path"),
    raises(M + "read_mapping", "not JSON", lambda: mapping.read_mapping(_file("m.json", "{ no")), mapping.MappingError,
           "is not JSON"),
    raises(M + "read_mapping", "no format", lambda: mapping.read_mapping(_mapping(format=None)), mapping.MappingError,
           "set \"format\""),
    raises(M + "read_mapping", "a joint missing",
           lambda: mapping.read_mapping(_mapping(joints={"pelvis": "Hips"})), mapping.MappingError, "map the SMPL joints"),
    raises(M + "read_mapping", "an unknown SMPL joint",
           lambda: mapping.read_mapping(_mapping(joints={**_GOOD["joints"], "tail": "Tail"})), mapping.MappingError,
           "unknown SMPL joints tail"),
    raises(M + "read_mapping", "two joints on one",
           lambda: mapping.read_mapping(_mapping(joints={**_GOOD["joints"], "head": "neck"})), mapping.MappingError,
           "two SMPL joints map to one"),
    raises(M + "read_mapping", "scale 0", lambda: mapping.read_mapping(_mapping(scale=0)), mapping.MappingError,
           "scale"),
    raises(M + "read_mapping", "reference_frame -1", lambda: mapping.read_mapping(_mapping(reference_frame=-1)),
           mapping.MappingError, "reference_frame"),
    returns(M + "read_mapping", "the shipped example reads",
            lambda: mapping.read_mapping(Path(mapping.__file__).parents[1] / "assets" / "mappings" / "bandai_namco.json"),
            lambda m: m.joints["pelvis"] == "Hips" and m.child_override == {"spine1": "spine3"}),
    returns(M + "JointMapping", "with spine2 no override",
            lambda: mapping.JointMapping({**_GOOD["joints"], "spine2": "s2"}, 0.01).child_override, lambda r: r == {}),
    raises(M + "check_bvh", "not a BvhMotion", lambda: mapping.check_bvh("m", _JM), TypeError, "BvhMotion"),
    raises(M + "mapped_source_motion", "not a BvhMotion", lambda: mapping.mapped_source_motion("m", _JM), TypeError,
           "BvhMotion"),
    raises(M + "mapped_calibration", "not a BvhMotion", lambda: mapping.mapped_calibration("m", _JM, J), TypeError,
           "BvhMotion"),
    raises(F + "retarget_folder", "mapping file missing",
           lambda: retarget_files.retarget_folder(_nonempty(), _tmp() / "o", mapping=_tmp() / "none.json"),
           FileNotFoundError, "mapping file"),
    raises(S + "replace_folder", "the new folder missing", lambda: steps.replace_folder(_tmp() / "none", _tmp() / "dst"),
           FileNotFoundError, "is not a folder: write the new folder first"),
    raises(S + "quantize", "poses of the wrong shape", lambda: steps.quantize(np.zeros((4, 3))), ValueError, r"\(T, 24, 3\)"),
    raises(S + "Validator", "rest joints of the wrong shape", lambda: steps.Validator(np.zeros(3)), ValueError, "rest_joints"),
    raises(S + "Validator.add", "stored poses of the wrong shape",
           lambda: steps.Validator(J).add("g", np.zeros((2, 24, 3)), np.zeros((2, 5)), np.zeros((2, 3))),
           (ValueError, IndexError)),
    returns(S + "Validator.summary", "no clip added: an empty summary", lambda: steps.Validator(J).summary(),
            lambda r: r == {}),
    raises(S + "retarget_to_fps", "not a RetargetedMotion", lambda: steps.retarget_to_fps("m", 30.0), TypeError,
           "RetargetedMotion"),
    raises(S + "cmu_subject_calibration", "not a skeleton", lambda: steps.cmu_subject_calibration("s", J), TypeError,
           "AsfSkeleton"),
    raises(S + "calibration_to_dict", "not a Calibration", lambda: steps.calibration_to_dict("c", 1.0, "x"), TypeError,
           "Calibration"),
    raises(S + "calibration_to_dict", "leg length 0",
           lambda: steps.calibration_to_dict(Calibration(np.zeros((24, 3, 3)), np.zeros(24, bool), J), 0.0, "x"),
           ValueError, "leg_length"),
    raises(S + "bandai_family_calibration", "another target body", lambda: steps.bandai_family_calibration(J),
           ValueError, "another target body"),
    raises(S + "write_calibration_file", "no raw data", lambda: steps.write_calibration_file(_tmp() / "none"),
           ValueError, "raw mocap folder not found"),
    raises(F + "retarget_folder", "source missing", lambda: retarget_files.retarget_folder(_tmp() / "no", _tmp() / "o"),
           FileNotFoundError, "does not exist"),
    raises(F + "retarget_folder", "source None", lambda: retarget_files.retarget_folder(None, _tmp()), TypeError,
           "str or pathlib.Path"),
    raises(F + "retarget_folder", "fps 0", lambda: retarget_files.retarget_folder(_tmp(), _tmp() / "o", fps=0),
           ValueError, "fps"),
    raises(F + "retarget_folder", "a folder with no motion", lambda: retarget_files.retarget_folder(_tmp(), _tmp() / "o"),
           retarget_files.RetargetError, "no motion under"),
    raises(F + "retarget_folder", "a file that is not a BVH",
           lambda: retarget_files.retarget_folder(_file("a.txt", "x"), _tmp() / "o"), retarget_files.RetargetError,
           r"give a \.bvh file"),
    raises(F + "retarget_folder", "amc without asf",
           lambda: retarget_files.retarget_folder(_file("01_01.amc", "x").parent, _tmp() / "o"),
           retarget_files.RetargetError, "without an .asf"),
    raises(F + "retarget_folder", "output a non-empty non-motion folder",
           lambda: retarget_files.retarget_folder(_file("01_01.amc", "x").parent, _nonempty()),
           retarget_files.RetargetError, "not empty"),
    raises(F + "retarget_folder", "progress not a bool",
           lambda: retarget_files.retarget_folder(_tmp(), _tmp() / "o", progress="yes"), TypeError, "progress"),
]
EXEMPT: dict[str, str] = {
    D + "MotionFolder": "a record built by read_motion_folder, whose cases are above",
    D + "MotionClip": "a record built by read_motion_folder, whose cases are above",
    D + "MotionFolder.experiment_clips": "takes no argument; returns the clips read_motion_folder checked",
    D + "MotionFolder.describe": "takes no argument; formats what read_motion_folder checked",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
