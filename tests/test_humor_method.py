"""HuMoR as a method of the motion experiments (humanlib.experiments.humor_method, run through the runner)."""

from __future__ import annotations

import pytest
import torch

from humanlib.body import load_body_model
from humanlib.data import load_corpus
from humanlib.experiments import humor_method as hm
from humanlib.experiments.protocol import Observation, corpus_clips
from humanlib.experiments.results import WeightChoice, read_results, write_results
from humanlib.experiments.runner import ExperimentConfig, run_experiment

FRAMES = 10


@pytest.fixture(scope="module")
def body():
    return load_body_model()


@pytest.fixture(scope="module")
def clips():
    return corpus_clips(load_corpus("test"))[:2]


@pytest.fixture(scope="module")
def tiny_run(body, clips):
    """Two 10-frame test windows with 4 cm joint noise: the GMM row and the HuMoR row (one torch thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small operations: more threads run slower on a loaded machine
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(hm, "STAGE_ITERATIONS", (10, 20, 20))  # a short TTO: this checks the plumbing, not the fit
            cfg = ExperimentConfig("denoise", priors=("gmm", "humor"), windows=(FRAMES,), frames_per_length=2 * FRAMES,
                                   conditions=("joints-4cm",), iterations=30, warmup_iterations=10)
            weights = [WeightChoice("joints-4cm", "humor", 1.0, 1.0, 5.0, contact_weight=0.1)]
            return run_experiment(cfg, model=body, clips=clips, fps=30.0, weights=weights)
    finally:
        torch.set_num_threads(threads)


def test_humor_row_lands_next_to_the_gmm_row(tiny_run):
    gmm, humor = tiny_run.row("joints-4cm", "gmm", FRAMES), tiny_run.row("joints-4cm", "humor", FRAMES)
    assert gmm is not None and humor is not None
    assert humor.num_windows == gmm.num_windows == 2 and humor.frames == 2 * FRAMES
    assert humor.input_joint_cm == gmm.input_joint_cm  # the same observation
    # HuMoR's val weights are used and recorded; its start is the GMM fit with the GMM's weights
    assert (humor.prior_weight, humor.contact_weight, humor.weights_source) == (1.0, 0.1, "val")
    assert humor.smooth_weight == gmm.smooth_weight
    assert humor.accel_ms2 is not None and humor.accel_ms2 > 0 and gmm.accel_ms2 is not None and gmm.accel_ms2 > 0
    assert humor.accel_ms2 != gmm.accel_ms2  # each row measures its own fit
    # a fit of its own (not the GMM start's numbers), and one that did not explode (4 cm noise in)
    assert humor.v2v_cm != gmm.v2v_cm and humor.evaluations == gmm.evaluations
    assert 0 < humor.joint_cm < 3 * humor.input_joint_cm and 0 < humor.v2v_cm < 30


def test_humor_rows_round_trip(tiny_run, tmp_path):
    back = read_results(write_results(tiny_run, tmp_path / "denoise.json"))
    assert back.row("joints-4cm", "humor", FRAMES) == tiny_run.row("joints-4cm", "humor", FRAMES)
    assert "accel_ms2" in (tmp_path / "denoise.csv").read_text().splitlines()[0]


def _obs(frames: int, nan: bool = False) -> Observation:
    joints = torch.zeros(1, frames, 24, 3)
    if nan:
        joints[0, 1, 3] = float("nan")
    return Observation(joints, torch.ones(1, frames, 24), torch.zeros(1, frames, 21, 3), None)


def test_short_windows_and_nan_observations_are_clear_errors(body):
    from humanlib.experiments.motion_fit import MotionFitConfig
    from humanlib.priors.registry import load_prior

    method = hm.HumorMethod.load(body)
    cfg = MotionFitConfig(iterations=1, warmup_iterations=0)
    with pytest.raises(ValueError, match=r"shorter than HuMoR's context.*>= 3 frames"):
        hm.fit_humor_method(body, method.model, load_prior("gmm"), _obs(2), cfg, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"1 NaN/inf observed joint.*mask = 0"):
        hm.fit_humor_method(body, method.model, method.gmm_prior, _obs(5, nan=True), cfg, 1.0, 1.0)


def test_humor_weights_fall_back_to_the_defaults():
    assert hm.humor_weights("joints-4cm", None) == (*hm.DEFAULT_HUMOR_WEIGHTS, "default")
    chosen = [WeightChoice("occ-legs", "humor", 1.0, 10.0, 7.0, contact_weight=1.0)]
    assert hm.humor_weights("occ-legs", chosen) == (10.0, 1.0, "val")
    assert hm.humor_weights("joints-4cm", chosen)[2] == "default"


def test_tables_show_the_humor_row_and_its_acceleration(tiny_run):
    from humanlib.experiments import tables

    humor = tiny_run.row("joints-4cm", "humor", FRAMES)
    text = tables.results_table(tiny_run)
    line = next(row for row in text.splitlines() if row.startswith("| HuMoR |"))
    assert f"{humor.v2v_cm:.2f}" in line and tables.HUMOR_NOTE not in text
    accel = tables.results_table(tiny_run, "accel_ms2", with_input=False)
    gmm = tiny_run.row("joints-4cm", "gmm", FRAMES)
    assert f"| HuMoR | {humor.accel_ms2:.2f} |" in accel and f"| GMM | {gmm.accel_ms2:.2f} |" in accel
    assert "| HuMoR |" in tables.improvement_table(tiny_run)


def test_merge_by_condition_keeps_the_other_conditions_humor_rows(tiny_run):
    """``--merge --conditions C``: a run of some conditions keeps the rows of the others, and records each run."""
    import copy
    import dataclasses

    from humanlib.experiments import tables
    from humanlib.experiments.results import merge_results

    def humor_run(condition: str, command: str):
        new = copy.deepcopy(tiny_run)
        new.rows = [dataclasses.replace(r, condition=condition) for r in new.rows if r.prior == "humor"]
        new.metadata.command = command
        return new

    first = copy.deepcopy(tiny_run)
    first.metadata.command = "first run"
    merged = merge_results(merge_results(first, humor_run("pose-0.1rad", "second run")),
                           humor_run("pose-0.5rad", "third run"))
    cells = sorted((r.condition, r.prior) for r in merged.rows)
    assert cells == [("joints-4cm", "gmm"), ("joints-4cm", "humor"), ("pose-0.1rad", "humor"), ("pose-0.5rad", "humor")]
    runs = [(r["command"], r["priors"], r.get("conditions")) for r in merged.metadata.previous_runs]
    assert runs == [("first run", ["gmm", "humor"], ["joints-4cm"]), ("second run", ["humor"], ["pose-0.1rad"])]
    text = tables.runs_text(merged)
    assert "third run\n    priors humor (pose-0.5rad only);" in text and "second run\n    priors humor (pose-0.1rad only);" in text


def test_merge_accepts_the_same_corpus_read_from_another_checkout(tiny_run):
    import copy

    from humanlib.experiments.results import merge_results

    fingerprint = "open corpus (/work/main/humanlib/assets/corpus), split test: 2 clips, 9 frames, poses sha256 1674f0a0"
    old, new = copy.deepcopy(tiny_run), copy.deepcopy(tiny_run)
    old.metadata.corpus = fingerprint
    new.metadata.corpus = fingerprint.replace("/work/main", "/home/me/course")
    new.rows = [r for r in new.rows if r.prior == "humor"]
    assert len(merge_results(old, new).rows) == 2
    new.metadata.corpus = fingerprint.replace("1674f0a0", "99999999")  # other poses: refused
    with pytest.raises(ValueError, match="another corpus"):
        merge_results(old, new)


def test_follow_floor_fits_clean_joints_with_both_methods(body, clips):
    """The diagnostic fits the exact joints: the GMM row and one HuMoR row per prior weight, all finite."""
    from humanlib.experiments import humor_floor
    from humanlib.experiments.motion_fit import MotionFitConfig
    from humanlib.experiments.protocol import body_joints_of, cut_windows

    windows = cut_windows(clips, FRAMES, 30.0, max_windows=1)
    obs = humor_floor.clean_observation(body, windows)
    assert torch.equal(obs.joints, body_joints_of(body, windows.poses, windows.transl)) and bool(obs.mask.all())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(hm, "STAGE_ITERATIONS", (5, 5, 5))
            rows = humor_floor.follow_floor(body, windows, hm.HumorMethod.load(body),
                                            MotionFitConfig(prior_weight=10.0, iterations=10, warmup_iterations=5),
                                            prior_weights=(0.1, 1.0))
    finally:
        torch.set_num_threads(threads)
    assert [(r["method"], r["prior_weight"]) for r in rows] == [("gmm", 10.0), ("humor", 0.1), ("humor", 1.0)]
    assert all(0 < r["v2v_cm"] < 50 and 0 < r["joint_cm"] < 50 and r["accel_ms2"] > 0 for r in rows)
    assert rows[1]["v2v_cm"] != rows[0]["v2v_cm"]  # the TTO moved the start
