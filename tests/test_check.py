"""``humanlib check`` on files in SMPL's and AMASS's real layouts, written by the tests."""

from __future__ import annotations

import pickle

import numpy as np
from test_body import synthetic_smpl_arrays

from humanlib import cli
from humanlib.check import check_amass_dir, check_body_model


def _scaled_arrays():
    arrays = synthetic_smpl_arrays(num_vertices=60)
    arrays["v_template"][:, 1] = np.linspace(-0.9, 0.8, 60)  # a body about 1.7 m tall, Y up
    return arrays


def _amass(path, width=156, rate_key="mocap_framerate", frames=6):
    rng = np.random.default_rng(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, poses=rng.normal(0, 0.2, (frames, width)), trans=np.zeros((frames, 3)),
             betas=np.zeros(16), gender=np.array("neutral"), **{rate_key: np.array(120.0)})


def test_a_plain_numpy_smpl_pickle_passes(tmp_path, capsys):
    with open(tmp_path / "SMPL_TEST.pkl", "wb") as handle:
        pickle.dump(_scaled_arrays(), handle)
    assert cli.main(["check", "--body-model", str(tmp_path / "SMPL_TEST.pkl")]) == 0
    out = capsys.readouterr().out
    assert "ok: body model" in out and "60 vertices, 24 joints, 300 shape components" in out


def test_the_open_body_model_passes():
    from humanlib.body import open_body_model_file

    report = check_body_model(open_body_model_file())
    assert report.ok, report.problems


def test_chumpy_pickle_is_reported_with_the_fix(tmp_path, capsys):
    (tmp_path / "chumpy.pkl").write_bytes(b"\x80\x02cchumpy.ch\nCh\nq\x00.")
    assert cli.main(["check", "--body-model", str(tmp_path / "chumpy.pkl")]) == 1
    out = capsys.readouterr().out
    assert "problem: body model:" in out and "chumpy" in out and "np.array" in out


def test_missing_key_and_missing_file_are_named(tmp_path):
    arrays = _scaled_arrays()
    del arrays["posedirs"]
    np.savez(tmp_path / "model.npz", **arrays)
    report = check_body_model(tmp_path / "model.npz")
    assert not report.ok and "posedirs" in report.problems[0]
    report = check_body_model(tmp_path / "absent.pkl")
    assert not report.ok and "does not exist" in report.problems[0] and "smpl.is.tue.mpg.de" in report.problems[0]


def test_wrong_units_are_reported(tmp_path):
    arrays = _scaled_arrays()
    arrays["v_template"] = arrays["v_template"] * 1000.0  # millimetres
    np.savez(tmp_path / "mm.npz", **arrays)
    report = check_body_model(tmp_path / "mm.npz")
    assert not report.ok and "expected metres" in report.problems[-1]


def test_amass_folder_reports_each_bad_file(tmp_path, capsys):
    _amass(tmp_path / "CMU" / "01" / "01_01_poses.npz", 156, "mocap_framerate")
    _amass(tmp_path / "BMLrub" / "s1" / "walk_stageii.npz", 165, "mocap_frame_rate")
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "CMU" / "01" / "01_02_poses.npz", poses=rng.normal(size=(4, 156)), trans=np.zeros((4, 3)))
    np.savez(tmp_path / "CMU" / "01" / "shape.npz", betas=np.zeros(16))  # not a motion: skipped
    report = check_amass_dir(tmp_path)
    assert report.passed == [f"AMASS {tmp_path}: 2 of 3 checked motion files load (3 found)"]
    assert len(report.problems) == 1
    assert "01_02_poses.npz" in report.problems[0] and "mocap_framerate" in report.problems[0]
    assert cli.main(["check", "--amass", str(tmp_path)]) == 1
    assert "problem: AMASS:" in capsys.readouterr().out


def test_empty_or_missing_amass_folder(tmp_path):
    assert "no motion .npz" in check_amass_dir(tmp_path).problems[0]
    assert "does not exist" in check_amass_dir(tmp_path / "nope").problems[0]


def test_environment_variables_are_the_defaults(tmp_path, monkeypatch, capsys):
    _amass(tmp_path / "CMU" / "a_poses.npz")
    monkeypatch.setenv("HUMANLIB_AMASS_DIR", str(tmp_path))
    monkeypatch.delenv("HUMANLIB_BODY_MODEL", raising=False)
    assert cli.main(["check"]) == 0
    assert "1 of 1 checked motion files load" in capsys.readouterr().out


def test_nothing_to_check_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.delenv("HUMANLIB_BODY_MODEL", raising=False)
    monkeypatch.delenv("HUMANLIB_AMASS_DIR", raising=False)
    assert cli.main(["check"]) == 1
    assert "nothing to check" in capsys.readouterr().err


def test_check_motions_reports_each_clips_frame_rate_up_axis_and_length(tmp_path, capsys):
    """An AMASS-layout folder of any name: 120 fps from the files, Z up by AMASS's convention, each clip's length."""
    _amass(tmp_path / "my data" / "take" / "a_poses.npz", frames=6)
    _amass(tmp_path / "my data" / "take" / "b_poses.npz", frames=9)
    assert cli.main(["check", "--motions", str(tmp_path / "my data")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok: motions my data (AMASS-layout folder") and "2 clips, 15 frames at 120 fps" in out[0]
    assert out[1:] == ["ok: motion take/a_poses (take/a_poses.npz): 120 fps, file Z up, 6 frames (0.05 s)",
                       "ok: motion take/b_poses (take/b_poses.npz): 120 fps, file Z up, 9 frames (0.07 s)"]
    assert cli.main(["check", "--motions", str(tmp_path / "my data"), "--up", "y"]) == 0
    assert "file Y up" in capsys.readouterr().out


def test_check_motions_reports_mixed_frame_rates_as_one_problem(tmp_path, capsys):
    from humanlib.check import check_motion_folder

    _amass(tmp_path / "m" / "a_poses.npz")
    np.savez(tmp_path / "m" / "b_poses.npz", poses=np.zeros((4, 72)), trans=np.zeros((4, 3)), mocap_framerate=np.array(30.0))
    report = check_motion_folder(tmp_path / "m")
    assert not report.ok and len(report.problems) == 1 and "mixed frame rates" in report.problems[0]
    assert "30 fps: b_poses.npz; 120 fps: a_poses.npz" in report.problems[0]
