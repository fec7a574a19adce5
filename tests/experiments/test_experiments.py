"""Tests for humanlib.experiments: windows, corruption, masks, metrics, the motion fit, results files.

Everything runs on a stick-figure body model in SMPL's layout (24 joints, 6 vertices around
each joint, rigidly skinned) and on synthetic smooth motions, so no asset is needed.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from humanlib.body import BodyModel
from humanlib.experiments import diagnostics, motion_fit, protocol, runner, tables
from humanlib.experiments.motion_fit import JointsForward, MotionFitConfig, fit_motion, root_from_joints
from humanlib.experiments.protocol import (
    DENOISE_CONDITIONS,
    OCCLUSION_CONDITIONS,
    OCCLUSION_GROUPS,
    Condition,
    add_joint_noise,
    add_pose_noise,
    cut_windows,
    evenly_spaced,
    joint_angle_error,
    make_observation,
    occlusion_mask,
    per_vertex_error,
    sequence_errors,
    window_starts,
)
from humanlib.priors import NoPrior, PosePrior, check_body_pose, is_latent_prior
from humanlib.rotations import axis_angle_to_rotmat
from humanlib.skeleton import BODY_JOINTS, JOINT_NAMES, PARENTS, joint

REST = np.array([
    (0, 0.9, 0), (0.08, 0.82, 0), (-0.08, 0.82, 0), (0, 1.0, 0), (0.09, 0.45, 0), (-0.09, 0.45, 0), (0, 1.12, 0),
    (0.09, 0.07, 0), (-0.09, 0.07, 0), (0, 1.18, 0), (0.1, 0.02, 0.12), (-0.1, 0.02, 0.12), (0, 1.4, 0),
    (0.08, 1.32, 0), (-0.08, 1.32, 0), (0, 1.55, 0.03), (0.18, 1.35, 0), (-0.18, 1.35, 0), (0.45, 1.35, 0),
    (-0.45, 1.35, 0), (0.7, 1.35, 0), (-0.7, 1.35, 0), (0.78, 1.35, 0), (-0.78, 1.35, 0),
])


def stick_figure(seed: int = 0) -> BodyModel:
    """SMPL-layout model: 6 vertices around each rest joint, each skinned to its joint only."""
    rng = np.random.default_rng(seed)
    offsets = 0.03 * np.concatenate([np.eye(3), -np.eye(3)])
    vertices = (REST[:, None] + offsets[None]).reshape(-1, 3)
    num_joints, num_vertices = len(REST), len(vertices)
    regressor, weights = np.zeros((num_joints, num_vertices)), np.zeros((num_vertices, num_joints))
    for k in range(num_joints):
        regressor[k, 6 * k:6 * k + 6] = 1 / 6
        weights[6 * k:6 * k + 6, k] = 1
    kintree = np.array([[2**32 - 1, *PARENTS[1:]], list(range(num_joints))], dtype=np.int64)
    arrays = dict(v_template=vertices, shapedirs=0.01 * rng.standard_normal((num_vertices, 3, 10)),
                  posedirs=np.zeros((num_vertices, 3, 9 * (num_joints - 1))), J_regressor=regressor,
                  weights=weights, kintree_table=kintree, f=np.arange(3 * num_joints).reshape(-1, 3) % num_vertices)
    return BodyModel(arrays, num_betas=10, name="stick figure")


def smooth_clip(frames: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random motion at 30 fps: sums of slow sines on every joint, walking forward."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(frames, dtype=torch.float32)[:, None, None] / 30
    poses = torch.zeros(frames, 24, 3)
    for k in range(3):
        freq = 0.2 + torch.rand(24, 3, generator=gen)
        phase = 2 * math.pi * torch.rand(24, 3, generator=gen)
        poses += 0.25 / (k + 1) * torch.randn(24, 3, generator=gen) * torch.sin(2 * math.pi * freq * t + phase)
    poses[:, 22:] = 0
    time_s = t[:, 0, 0]
    transl = torch.stack([0.3 * torch.sin(time_s), torch.zeros_like(time_s), 0.8 * time_s], -1)
    return poses, transl


@pytest.fixture(scope="module")
def model():
    return stick_figure()


@pytest.fixture(scope="module")
def clips():
    return [(f"clip{i}", *smooth_clip(n, i)) for i, n in enumerate((130, 200, 50))]


class QuadraticPrior(PosePrior):
    """``||theta||^2``: a pose-space prior with a known minimum at the rest pose."""

    name = "quadratic"

    def energy(self, body_pose):
        check_body_pose(body_pose)
        return body_pose.square().sum(dim=(-2, -1))


# --------------------------------------------------------------------------- windows


def test_window_starts_do_not_overlap_and_fit_in_the_clip():
    starts = window_starts(250, 60)
    assert starts == [0, 60, 120, 180]
    assert window_starts(250, 60, stride=100) == [0, 100]
    assert window_starts(60, 60) == [0]


def test_window_longer_than_clip_is_an_error():
    with pytest.raises(ValueError, match="longer than the clip"):
        window_starts(59, 60)
    with pytest.raises(ValueError, match=">= 2"):
        window_starts(100, 1)


def test_cut_windows_skips_short_clips_and_keeps_frames(clips):
    w = cut_windows(clips, 60, 30.0)
    assert w.poses.shape == (2 + 3, 60, 24, 3) and w.transl.shape == (5, 60, 3)
    assert "clip2" not in w.clip_names  # 50 frames < 60
    i = w.ids().index("clip1@120")
    torch.testing.assert_close(w.poses[i], clips[1][1][120:180])
    torch.testing.assert_close(w.transl[i], clips[1][2][120:180])
    with pytest.raises(ValueError, match="longer than every clip"):
        cut_windows(clips, 240, 30.0)


def test_fixed_subset_is_evenly_spaced_and_deterministic(clips):
    assert evenly_spaced(10, 3) == [0, 4, 9] or evenly_spaced(10, 3) == [0, 5, 9]
    assert evenly_spaced(4, None) == [0, 1, 2, 3] and evenly_spaced(4, 9) == [0, 1, 2, 3]
    a, b = cut_windows(clips, 60, 30.0, max_windows=2), cut_windows(clips, 60, 30.0, max_windows=2)
    assert a.ids() == b.ids() and len(a) == 2 and a.ids()[0] == "clip0@0"


# --------------------------------------------------------------------------- corruption


def test_pose_noise_statistics_and_untouched_joints():
    poses = torch.randn(4000, 24, 3, dtype=torch.float64)
    noisy = add_pose_noise(poses, 0.5, torch.Generator().manual_seed(1))
    delta = noisy - poses
    body = list(BODY_JOINTS)
    assert delta[:, [joint("pelvis"), joint("left_hand"), joint("right_hand")]].abs().max() == 0
    d = delta[:, body].flatten()
    assert abs(float(d.mean())) < 0.01  # 252000 samples: standard error 0.001
    assert abs(float(d.std()) - 0.5) < 0.005


def test_joint_noise_statistics():
    joints = torch.zeros(5000, 24, 3, dtype=torch.float64)
    noisy = add_joint_noise(joints, 0.04, torch.Generator().manual_seed(2))
    assert abs(float(noisy.std()) - 0.04) < 0.0005 and abs(float(noisy.mean())) < 0.0005


def test_occlusion_masks_name_the_right_joints():
    assert set(OCCLUSION_GROUPS["legs"]) == {"left_knee", "right_knee", "left_ankle", "right_ankle",
                                             "left_foot", "right_foot"}
    for condition in OCCLUSION_CONDITIONS:
        mask = occlusion_mask(condition.occluded, (2, 3))
        hidden = {JOINT_NAMES[j] for j in range(24) if mask[0, 0, j] == 0}
        assert hidden == set(condition.occluded)
        assert bool((mask == mask[:1, :1]).all())  # same joints in every frame
    assert "left_elbow" in OCCLUSION_GROUPS["arm_hand"] and "left_wrist" in OCCLUSION_GROUPS["arm_hand"]
    assert "left_shoulder" in OCCLUSION_GROUPS["shoulder_upper_arm"]
    with pytest.raises(KeyError, match="unknown SMPL joint"):
        Condition("x", "occlusion", occluded=("left_tail",))


def test_observation_per_condition(model, clips):
    w = cut_windows(clips, 60, 30.0, max_windows=2)
    for condition in DENOISE_CONDITIONS + OCCLUSION_CONDITIONS:
        obs = make_observation(model, w, condition, torch.Generator().manual_seed(0))
        assert obs.joints.shape == (2, 60, 24, 3) and obs.mask.shape == (2, 60, 24)
        assert (obs.noisy_poses is not None) == (condition.kind == "pose_noise")
        assert int((obs.mask == 0).sum()) == 2 * 60 * len(condition.occluded)
    same = [make_observation(model, w, DENOISE_CONDITIONS[2], torch.Generator().manual_seed(5)).joints for _ in range(2)]
    torch.testing.assert_close(same[0], same[1])


# --------------------------------------------------------------------------- metrics


def test_per_vertex_error_matches_a_loop():
    a, b = torch.randn(3, 7, 3, dtype=torch.float64), torch.randn(3, 7, 3, dtype=torch.float64)
    naive = [sum(math.dist(a[i, v].tolist(), b[i, v].tolist()) for v in range(7)) / 7 for i in range(3)]
    torch.testing.assert_close(per_vertex_error(a, b), torch.tensor(naive, dtype=torch.float64))
    with pytest.raises(ValueError, match="one shape"):
        per_vertex_error(a, b[:, :5])


def test_joint_angle_error_matches_scipy_and_a_known_case():
    from scipy.spatial.transform import Rotation

    p, q = 0.7 * torch.randn(5, 24, 3, dtype=torch.float64), 0.7 * torch.randn(5, 24, 3, dtype=torch.float64)
    body = list(BODY_JOINTS)
    rel = Rotation.from_rotvec(p[:, body].reshape(-1, 3).numpy()).inv() * Rotation.from_rotvec(q[:, body].reshape(-1, 3).numpy())
    naive = np.degrees(rel.magnitude()).reshape(5, 21).mean(1)
    np.testing.assert_allclose(joint_angle_error(p, q).numpy(), naive, atol=1e-6)
    one = torch.zeros(1, 24, 3)
    one[0, joint("left_elbow"), 2] = math.pi / 2
    one[0, joint("pelvis"), 1] = 1.0  # the root is not a body joint
    assert float(joint_angle_error(one, torch.zeros(1, 24, 3))) == pytest.approx(90 / 21, rel=1e-5)


def test_sequence_errors_zero_for_the_clean_motion(model, clips):
    w = cut_windows(clips, 60, 30.0, max_windows=2)
    err = sequence_errors(model, w.poses, w.transl, torch.zeros(2, 10), w)
    assert err.v2v_cm < 1e-4 and err.joint_angle_deg < 0.05 and err.joint_cm < 1e-4
    moved = sequence_errors(model, w.poses, w.transl + torch.tensor([0.01, 0, 0]), None, w)
    assert moved.v2v_cm == pytest.approx(1.0, rel=1e-4)


# --------------------------------------------------------------------------- the fit


def test_joints_forward_matches_the_body_model(model):
    pose, betas, transl = 0.4 * torch.randn(6, 24, 3), torch.randn(6, 10), torch.randn(6, 3)
    torch.testing.assert_close(JointsForward(model)(pose, betas, transl),
                               model(betas=betas, pose=pose, transl=transl).joints, atol=1e-5, rtol=1e-5)


def test_root_from_joints_recovers_orientation_and_translation(model):
    pose = torch.zeros(8, 24, 3)
    pose[:, 0] = torch.randn(8, 3)
    transl = torch.randn(8, 3)
    joints = model(pose=pose, transl=transl).joints
    orient, t = root_from_joints(joints, JointsForward(model).rest_joints(torch.zeros(1, 10))[0])
    torch.testing.assert_close(axis_angle_to_rotmat(orient), axis_angle_to_rotmat(pose[:, 0]), atol=1e-4, rtol=0)
    torch.testing.assert_close(t, transl, atol=1e-5, rtol=0)


def test_data_term_alone_reduces_the_error(model, clips):
    w = cut_windows(clips, 30, 30.0, max_windows=1)
    obs = make_observation(model, w, Condition("j1cm", "joint_noise", sigma=0.01), torch.Generator().manual_seed(0))
    config = MotionFitConfig(smooth_weight=0.0, beta_weight=0.0, iterations=30)
    fit = fit_motion(model, NoPrior(), obs.joints, obs.mask, obs.init_body_pose, config)
    orient, transl = root_from_joints(obs.joints[0], JointsForward(model).rest_joints(torch.zeros(1, 10))[0])
    start = torch.zeros_like(w.poses)
    start[0, :, 0] = orient  # the initialisation: rest body pose, root placed on the hips
    before = sequence_errors(model, start, transl[None], None, w).joint_cm
    after = sequence_errors(model, fit.poses, fit.transl, fit.betas, w).joint_cm
    assert fit.energy < 0.05 * fit.energy_start
    assert after < 0.3 * before and after < 2.0  # noise of 1 cm per coordinate: 1.6 cm per joint


def test_smoothness_term_removes_joint_noise(model, clips):
    w = cut_windows(clips, 40, 30.0, max_windows=1)
    obs = make_observation(model, w, DENOISE_CONDITIONS[2], torch.Generator().manual_seed(0))
    errors = []
    for smooth in (0.0, 1.0):
        fit = fit_motion(model, NoPrior(), obs.joints, obs.mask, obs.init_body_pose,
                         MotionFitConfig(smooth_weight=smooth, iterations=30))
        errors.append(sequence_errors(model, fit.poses, fit.transl, fit.betas, w).joint_cm)
    assert errors[1] < 0.8 * errors[0]


def test_prior_pulls_towards_its_minimum(model, clips):
    w = cut_windows(clips, 20, 30.0, max_windows=1)
    obs = make_observation(model, w, DENOISE_CONDITIONS[0], torch.Generator().manual_seed(0))
    norms = []
    for lam in (0.0, 1e6):
        fit = fit_motion(model, QuadraticPrior(), obs.joints, obs.mask, obs.init_body_pose,
                         MotionFitConfig(prior_weight=lam, iterations=10, warmup_iterations=5))
        norms.append(float(fit.poses[..., list(BODY_JOINTS), :].square().sum()))
    assert norms[1] < 0.5 * norms[0]


def test_fit_rejects_nan_and_bad_shapes(model):
    joints, mask, init = torch.zeros(1, 10, 24, 3), torch.ones(1, 10, 24), torch.zeros(1, 10, 21, 3)
    joints[0, 3, 5, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        fit_motion(model, NoPrior(), joints, mask, init)
    with pytest.raises(ValueError, match=r"\(W, T, 24\)"):
        fit_motion(model, NoPrior(), torch.zeros(1, 10, 24, 3), torch.ones(1, 10, 23), init)
    with pytest.raises(ValueError, match="only 0"):
        fit_motion(model, NoPrior(), torch.zeros(1, 10, 24, 3), 0.5 * mask, init)
    with pytest.raises(ValueError, match="smooth_weight"):
        MotionFitConfig(smooth_weight=-1.0)


# --------------------------------------------------------------------------- running and files


def test_unknown_prior_and_condition_are_clear_errors():
    with pytest.raises(ValueError, match="unknown prior 'humor'"):
        runner.load_prior("humor")
    with pytest.raises(ValueError, match="unknown prior"):
        runner.ExperimentConfig("denoise", priors=("none", "vposer2"))
    with pytest.raises(ValueError, match="unknown condition"):
        protocol.condition_by_name("noisy")
    with pytest.raises(ValueError, match="experiment must be"):
        runner.ExperimentConfig("fitting")
    with pytest.raises(ValueError, match="integers"):
        runner.parse_ints("60,abc", "--windows")


@pytest.fixture(scope="module")
def small_results(model, clips):
    config = runner.ExperimentConfig("occlusion", priors=("none", "gmm"), windows=(30, 60),
                                     frames_per_length=60, iterations=3,
                                     warmup_iterations=2)
    weights = [runner.WeightChoice("occ-legs", "gmm", 0.5, 3.0, 1.0)]
    return runner.run_experiment(config, model=model, clips=clips, fps=30.0, weights=weights, command="pytest",
                                 priors={"none": NoPrior(), "gmm": QuadraticPrior()})


def test_run_experiment_rows_and_shared_observation(small_results):
    rows = small_results.rows
    assert len(rows) == 3 * 2 * 2  # conditions x lengths x priors
    for r in rows:
        twin = small_results.row(r.condition, "gmm" if r.prior == "none" else "none", r.window)
        assert twin.input_joint_cm == r.input_joint_cm  # every prior fits the same observation
        assert r.frames == 60 and r.v2v_cm > 0 and r.input_v2v_cm is None
    legs = small_results.row("occ-legs", "gmm", 30)
    assert (legs.prior_weight, legs.smooth_weight, legs.weights_source) == (3.0, 0.5, "val")
    assert small_results.row("occ-arm-hand", "gmm", 30).weights_source == "default"
    assert small_results.metadata.windows["60"] == ["clip0@0"]


def test_results_round_trip(small_results, tmp_path):
    path = runner.write_results(small_results, tmp_path / "occlusion.json")
    assert runner.read_results(path) == small_results
    lines = path.with_suffix(".csv").read_text().strip().splitlines()
    assert len(lines) == 1 + len(small_results.rows) and lines[0].startswith("experiment,condition,prior")
    payload = json.loads(path.read_text())
    assert {"command", "git_commit", "machine", "seed"} <= set(payload["metadata"])
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a results file"):
        runner.read_results(path)
    with pytest.raises(FileNotFoundError, match="humanlib experiment"):
        runner.read_results(tmp_path / "missing.json")


def test_tables_show_our_rows_and_the_humor_note(small_results):
    text = tables.results_table(small_results)
    assert tables.HUMOR_NOTE in text and "| GMM |" in text and "occluded legs, 30" in text
    assert f"{small_results.row('occ-legs', 'none', 60).v2v_cm:.2f}" in text
    assert "| Pose-NDF | — |" in text  # not run
    published = tables.published_table(tables.PUBLISHED_TABLE3)
    assert "0.59" in published and "30.31" in published


def test_tune_weights_picks_the_best_grid_point(model, clips):
    config = runner.TuneConfig(priors=("none",), conditions=("joints-4cm",), num_windows=1, iterations=3, warmup_iterations=2,
                               smooth_grid=(0.0, 1.0), refine=False)
    chosen, tried = runner.tune_weights(config, model=model, clips=clips, priors={"none": NoPrior()})
    assert len(tried) == 2 and len(chosen) == 1
    assert chosen[0].val_v2v_cm == min(t.val_v2v_cm for t in tried)


def test_tune_weights_skips_a_diverged_grid_point(model, clips, monkeypatch):
    """A grid point whose fit blows up (NaN) is reported and never chosen; the search goes on."""
    real_fit = runner.fit_motion

    def fit_that_diverges_without_smoothing(model_, prior, joints, mask, init, cfg):
        result = real_fit(model_, prior, joints, mask, init, cfg)
        if cfg.smooth_weight == 0.0:
            result.poses = torch.full_like(result.poses, float("nan"))
        return result

    monkeypatch.setattr(runner, "fit_motion", fit_that_diverges_without_smoothing)
    config = runner.TuneConfig(priors=("none",), conditions=("joints-4cm",), num_windows=1, iterations=3, warmup_iterations=2,
                               smooth_grid=(0.0, 1.0), refine=False)
    chosen, tried = runner.tune_weights(config, model=model, clips=clips, priors={"none": NoPrior()})
    assert [t.smooth_weight for t in tried] == [1.0]
    assert chosen[0].smooth_weight == 1.0


def test_tune_weights_refines_around_the_best_grid_point(model, clips):
    """With refine, the half-decade neighbours of the grid's best point are tried, and the best of all is kept."""
    config = runner.TuneConfig(priors=("none",), conditions=("joints-4cm",), num_windows=1, iterations=3,
                               warmup_iterations=2, smooth_grid=(0.1, 10.0))
    chosen, tried = runner.tune_weights(config, model=model, clips=clips, priors={"none": NoPrior()})
    grid_best = min(tried[:2], key=lambda t: t.val_v2v_cm).smooth_weight
    assert [t.smooth_weight for t in tried[2:]] == [float(f"{grid_best * 10 ** -0.5:.4g}"),
                                                      float(f"{grid_best * 10 ** 0.5:.4g}")]
    assert chosen[0].val_v2v_cm == min(t.val_v2v_cm for t in tried)


def test_a_subset_of_conditions_draws_the_same_corruption(model, clips):
    """The corruption's seed follows the condition's name, not its place in the list a run was given."""
    def tried_for(conditions):
        config = runner.TuneConfig(priors=("none",), conditions=conditions, num_windows=1, iterations=2,
                                   warmup_iterations=1, smooth_grid=(1.0,), refine=False)
        return {t.condition: t.val_v2v_cm for t in runner.tune_weights(config, model=model, clips=clips,
                                                                        priors={"none": NoPrior()})[1]}

    assert tried_for(("pose-0.5rad",))["pose-0.5rad"] == tried_for(("pose-0.1rad", "pose-0.5rad"))["pose-0.5rad"]
    assert runner._observation_seed(0, "occ-legs", 60) == runner._observation_seed(0, "pose-0.1rad", 60)  # both first
    assert runner._observation_seed(0, "pose-0.5rad", 60) != runner._observation_seed(0, "pose-0.1rad", 60)


def test_cli_registers_the_experiments():
    import argparse

    parser = argparse.ArgumentParser()
    from humanlib.commands import experiment

    experiment.add_subcommand(parser.add_subparsers())
    args = parser.parse_args(["experiment", "denoise", "--priors", "none,gmm", "--windows", "60"])
    assert args.experiment == "denoise" and args.func is experiment._run_experiment_cli
    assert parser.parse_args(["experiment", "tune"]).func is experiment._run_tune_cli


def test_module_constants_are_consistent():
    assert motion_fit.ROOT_FRAME_JOINTS and all(PARENTS[joint(n)] == joint("pelvis") for n in motion_fit.ROOT_FRAME_JOINTS)
    assert [c.kind for c in DENOISE_CONDITIONS] == ["pose_noise", "pose_noise", "joint_noise"]


def test_sequence_vertices_match_the_body_model(model):
    from humanlib.experiments.protocol import sequence_vertices

    pose, betas, transl = 0.5 * torch.randn(5, 24, 3), torch.randn(5, 10), torch.randn(5, 3)
    torch.testing.assert_close(sequence_vertices(model, pose, transl, betas, chunk=2),
                               model(betas=betas, pose=pose, transl=transl).vertices, atol=1e-5, rtol=1e-5)


def test_fitting_table_reads_the_smplify_results(tmp_path):
    assert "smplify-eval" in tables.fitting_table(tmp_path)  # no file: names the command
    payload = {"command": "humanlib smplify-eval --learned", "machine": "m", "protocol": {"frames": 4},
               "variants": [{"name": "VPoser", "prior": "vposer", "v2v": 71.25, "v2v_pa": 40.0},
                            {"name": "Pose-NDF", "prior": "posendf", "skipped": "checkpoint missing"}]}
    (tmp_path / tables.SMPLIFY_RESULTS).write_text(json.dumps(payload))
    text = tables.fitting_table(tmp_path)
    assert "| VPoser | vposer | 71.2 | 40.0 | 60.34 |" in text and "| Pose-NDF | posendf | not run |" in text


def test_diagnostics_on_known_priors():
    from humanlib.experiments.diagnostics import energy_separation, parametrisation_error, rest_pose_rank

    poses = 0.1 * torch.randn(500, 21, 3)
    sep = energy_separation(QuadraticPrior(), poses, 0.3, torch.Generator().manual_seed(7))
    assert sep.noisy_mean > sep.clean_mean and sep.fraction_clean_lower > 0.95
    assert sep.noisy_mean == pytest.approx(sep.clean_mean + 63 * 0.09, rel=0.05)  # E||x + e||^2
    assert energy_separation(NoPrior(), poses, 0.3, torch.Generator()).fraction_clean_lower == 0.0
    assert parametrisation_error(QuadraticPrior(), poses) < 1e-3
    assert rest_pose_rank(QuadraticPrior(), poses) == 0.0  # its minimum is the rest pose

    class AwayFromRest(QuadraticPrior):
        def energy(self, body_pose):
            return (body_pose - 0.3).square().sum(dim=(-2, -1))

    assert rest_pose_rank(AwayFromRest(), poses + 0.3) > 0.9

    class Halving(QuadraticPrior):  # a parametrisation that cannot express the pose exactly
        def to_body_pose(self, params):
            return 0.5 * params.reshape(params.shape[0], 21, 3)

    assert parametrisation_error(Halving(), poses) > 1.0


def test_merge_keeps_other_priors_and_records_their_run(small_results):
    import copy

    new = copy.deepcopy(small_results)
    new.rows = [r for r in new.rows if r.prior == "gmm"]
    new.metadata.command = "second run"
    merged = runner.merge_results(small_results, new)
    assert len(merged.rows) == len(small_results.rows)
    assert merged.metadata.previous_runs[0]["priors"] == ["none"] and merged.metadata.command == "second run"
    third = copy.deepcopy(small_results)
    third.rows = [r for r in third.rows if r.prior == "none"]
    third.metadata.command = "third run"
    again = runner.merge_results(merged, third)  # gmm rows come from the second run, not the first
    assert [(r["command"], r["priors"]) for r in again.metadata.previous_runs] == [("second run", ["gmm"])]
    other = copy.deepcopy(new)
    other.metadata.seed = 1
    with pytest.raises(ValueError, match="another seed"):
        runner.merge_results(small_results, other)


def test_pose_space_wrapper_uses_the_63_numbers_and_the_energy():
    class Latent(QuadraticPrior):
        def init_params(self, body_pose):
            return body_pose.reshape(body_pose.shape[0], -1)[:, :5]

    poses = torch.randn(3, 21, 3)
    wrapped = runner.PoseSpacePrior(Latent(), "latent-pose")
    params = wrapped.init_params(poses)
    assert params.shape == (3, 63) and wrapped.name == "latent-pose"
    torch.testing.assert_close(wrapped.to_body_pose(params), poses)
    torch.testing.assert_close(wrapped.params_energy(params), poses.square().sum(dim=(1, 2)))


def test_runs_text_names_the_command_and_priors(small_results):
    text = tables.runs_text(small_results)
    assert text.startswith("pytest\n    priors gmm, none;") and "seed 0" in text


def test_mesh_animation_on_the_open_body_is_light():
    """Two bodies and one joints-only observation, played over 30 frames: frames, traces, size."""
    from humanlib.body import load_body_model
    from humanlib.experiments import figures

    body = load_body_model()
    gen = torch.Generator().manual_seed(0)
    num_frames, step = 30, 3
    poses = 0.2 * torch.randn(num_frames, 24, 3, generator=gen)
    transl = torch.linspace(0, 1, num_frames)[:, None] * torch.tensor([0.0, 0.0, 0.5])
    clean = protocol.sequence_vertices(body, poses, transl)
    fitted = protocol.sequence_vertices(body, poses + 0.05 * torch.randn(poses.shape, generator=gen), transl)
    joints = protocol.body_joints_of(body, poses, transl) + 0.04 * torch.randn(num_frames, 24, 3, generator=gen)
    fig = figures.mesh_animation({"clean": clean, "observed": joints, "fit": fitted}, body.faces, step=step, cell=0.04)
    assert len(fig.frames) == len(range(0, num_frames, step)) == len(fig.layout.sliders[0].steps)
    assert all(len(f.data) == 3 for f in fig.frames) and len(fig.data) == 3
    assert [t.type for t in fig.frames[-1].data] == ["mesh3d", "scatter3d", "mesh3d"]
    mesh = fig.frames[-1].data[2]
    xyz = np.stack([np.asarray(mesh.x), np.asarray(mesh.y), np.asarray(mesh.z)], 1)
    assert np.isfinite(xyz).all() and 100 < len(xyz) < body.v_template.shape[0] // 5
    assert mesh.i is None and int(np.max(fig.data[2].i)) < len(xyz) == len(fig.data[2].x)  # faces stored once
    # the two bodies stand side by side: the fit is one spacing (0.9 m) right of the clean body on average
    clean_x = np.asarray(fig.frames[-1].data[0].x).mean()
    assert abs(xyz[:, 0].mean() - clean_x - 2 * 0.9) < 0.1
    assert len(fig.to_json()) < 1_500_000


def test_mesh_animation_rejects_bad_shapes():
    from humanlib.experiments import figures

    faces = torch.tensor([[0, 1, 2], [1, 2, 3]])
    with pytest.raises(ValueError, match="at least one"):
        figures.mesh_animation({}, faces)
    with pytest.raises(ValueError, match="one length"):
        figures.mesh_animation({"a": torch.zeros(5, 4, 3), "b": torch.zeros(6, 4, 3)}, faces)
    with pytest.raises(ValueError, match="mesh sequence"):
        figures.mesh_animation({"a": torch.zeros(5, 24, 3)}, faces)
    with pytest.raises(ValueError, match="faces"):
        figures.mesh_animation({"a": torch.zeros(5, 4, 3)}, torch.zeros(0, 3, dtype=torch.long))


class LinearLatentPrior(PosePrior):
    """A latent prior with an ill-conditioned linear decoder ``theta = A z`` (condition number 1000).

    Every pose has a code (``init_params`` is the exact encoder ``A^-1 theta``), but L-BFGS
    through ``A`` from a bad start needs many steps, as through VPoser's decoder.
    """

    name = "linear-latent"

    def __init__(self, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        q = torch.linalg.qr(torch.randn(63, 63, generator=g, dtype=torch.float64)).Q
        self.A = (q * torch.logspace(-2, 1, 63, dtype=torch.float64)).float()
        self.A_inv = torch.linalg.inv(q * torch.logspace(-2, 1, 63, dtype=torch.float64)).float()

    def energy(self, body_pose):
        return self.params_energy(self.init_params(body_pose))

    def init_params(self, body_pose):
        return body_pose.reshape(body_pose.shape[0], 63) @ self.A_inv.T

    def to_body_pose(self, params):
        return (params @ self.A.T).reshape(params.shape[0], 21, 3)

    def params_energy(self, params):
        return params.square().sum(-1)


def test_latent_fit_starts_from_the_pose_space_fit(model, clips):
    """``latent_init="pose-fit"``: z starts at the encoder of a prior-free pose-space fit, so
    with a tiny prior weight the latent fit ends closer to the data than a fit run in z throughout."""
    w = cut_windows(clips, 20, 30.0, max_windows=2)
    obs = make_observation(model, w, Condition("occ", "occlusion", occluded=("left_knee", "left_ankle")),
                           torch.Generator().manual_seed(0))
    prior = LinearLatentPrior()
    assert is_latent_prior(prior) and not is_latent_prior(QuadraticPrior()) and not is_latent_prior(NoPrior())
    energies = {}
    for start in ("pose-fit", "encoder"):
        cfg = MotionFitConfig(prior_weight=1e-6, iterations=10, warmup_iterations=20, latent_iterations=10,
                              latent_init=start, latent_projection_weight=0.0)  # the toy's z is not N(0, I)-scaled
        energies[start] = fit_motion(model, prior, obs.joints, obs.mask, obs.init_body_pose, cfg).terms["data"]
    assert energies["pose-fit"] < 0.8 * energies["encoder"]  # measured: 254 against 411
    with pytest.raises(ValueError, match="latent_init must be one of"):
        MotionFitConfig(latent_init="zero")
    with pytest.raises(TypeError, match="PosePrior"):
        is_latent_prior("vposer")


def test_latent_iterations_budget_is_used_by_latent_priors_only(model, clips):
    w = cut_windows(clips, 10, 30.0, max_windows=1)
    obs = make_observation(model, w, DENOISE_CONDITIONS[2], torch.Generator().manual_seed(0))
    cfg = MotionFitConfig(iterations=2, warmup_iterations=0, latent_iterations=25)
    latent = fit_motion(model, LinearLatentPrior(), obs.joints, obs.mask, obs.init_body_pose, cfg)
    pose_space = fit_motion(model, NoPrior(), obs.joints, obs.mask, obs.init_body_pose, cfg)
    assert pose_space.evaluations <= 2 * 2 + 2 < latent.evaluations


def test_rows_report_each_source(model, clips):
    """``by_source`` holds the errors of each source's windows; their window-weighted mean is the row's."""
    w = cut_windows(clips, 20, 30.0, max_windows=3)
    obs = make_observation(model, w, DENOISE_CONDITIONS[2], torch.Generator().manual_seed(0))
    fit = fit_motion(model, NoPrior(), obs.joints, obs.mask, obs.init_body_pose, MotionFitConfig(iterations=5))
    reference = protocol.clean_vertices(model, w)
    sources = {w.clip_names[0]: "cmu", w.clip_names[1]: "bandai-namco", w.clip_names[2]: "bandai-namco"}
    whole = sequence_errors(model, fit.poses, fit.transl, fit.betas, w, reference)
    parts = runner.errors_by_source(whole, w, sources)
    assert sorted(parts) == ["bandai-namco", "cmu"] and parts["cmu"]["num_windows"] == 1
    for metric in ("v2v_cm", "joint_angle_deg", "joint_cm"):
        mean = sum(p[metric] * p["num_windows"] for p in parts.values()) / len(w)
        assert mean == pytest.approx(getattr(whole, metric), abs=1e-3), metric
    # a group's errors are those of fitting its windows alone
    bandai = sequence_errors(model, fit.poses[1:], fit.transl[1:], fit.betas[1:], w.subset([1, 2]), reference[1:])
    assert parts["bandai-namco"]["joint_cm"] == pytest.approx(bandai.joint_cm, abs=1e-3)
    assert parts["bandai-namco"]["joint_angle_deg"] == pytest.approx(bandai.joint_angle_deg, abs=1e-2)
    assert runner.source_group("bandai-namco-2") == "bandai-namco" and runner.source_group("cmu") == "cmu"
    assert runner.errors_by_source(whole, w, {}) == {}


def test_source_table_reads_by_source(small_results):
    row = small_results.rows[0]
    row.by_source = {"cmu": {"num_windows": 1, "v2v_cm": 1.25, "joint_angle_deg": 2.0, "joint_cm": 1.0}}
    text = tables.results_table(small_results, source="cmu")
    assert "1.25" in text and "observation" not in text
    assert "—" in tables.results_table(small_results, source="bandai-namco")
    row.by_source = {}


def test_latent_fit_study_compares_starts_and_budgets(model, clips):
    w = cut_windows(clips, 20, 30.0, max_windows=1)
    obs = make_observation(model, w, Condition("occ", "occlusion", occluded=("left_knee", "left_ankle")),
                           torch.Generator().manual_seed(0))
    cfg = MotionFitConfig(prior_weight=1e-6, warmup_iterations=20)
    runs = diagnostics.latent_fit_study(model, LinearLatentPrior(), w, obs, cfg,
                                        settings=(("encoder", 5), ("encoder", 40), ("pose-fit", 40)))
    assert [(r.latent_init, r.latent_iterations) for r in runs] == [("encoder", 5), ("encoder", 40), ("pose-fit", 40)]
    assert runs[1].energy < runs[0].energy and runs[1].evaluations > runs[0].evaluations
    with pytest.raises(TypeError, match="latent PosePrior"):
        diagnostics.latent_fit_study(model, NoPrior(), w, obs, cfg)
    with pytest.raises(ValueError, match="latent_iterations"):
        diagnostics.latent_fit_study(model, LinearLatentPrior(), w, obs, cfg, settings=(("encoder", 0),))


def test_balanced_subset_shares_windows_over_groups():
    from humanlib.experiments.protocol import balanced_subset

    groups = ["b"] * 14 + ["a"] * 2
    picked = balanced_subset(groups, 8)
    assert len(picked) == 8 and picked == sorted(picked)
    assert sum(groups[i] == "a" for i in picked) == 2  # "a" gives what it cannot use to "b"
    six = ["b"] * 14 + ["a"] * 6
    assert sum(six[i] == "a" for i in balanced_subset(six, 8)) == 4
    assert sum(six[i] == "a" for i in balanced_subset(six, 7)) == 4  # the remainder goes in sorted order
    assert balanced_subset(groups, None) == list(range(16)) == balanced_subset(groups, 99)
    with pytest.raises(TypeError, match="sequence of str"):
        balanced_subset("ab", 1)
    with pytest.raises(ValueError, match="count"):
        balanced_subset(groups, 0)


def test_cut_windows_balances_over_groups():
    clips = [(f"c{i}", torch.zeros(40, 24, 3), torch.zeros(40, 3)) for i in range(6)]
    w = cut_windows(clips, 10, 30.0, max_windows=4, groups={"c0": "small"})  # c1..c5 fall in group "?"
    assert w.clip_names.count("c0") == 2 and len(w) == 4
    assert cut_windows(clips, 10, 30.0, max_windows=4).clip_names.count("c0") == 1
    with pytest.raises(TypeError, match="groups must be a dict"):
        cut_windows(clips, 10, 30.0, max_windows=4, groups=["c0"])


class BiasedEncoderPrior(LinearLatentPrior):
    """A well-conditioned linear latent prior (orthogonal decoder) whose encoder is off: it returns
    3 x the right code (an encoder that generalises badly off its training poses)."""

    def __init__(self, seed: int = 0):
        q = torch.linalg.qr(torch.randn(63, 63, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)).Q
        self.A, self.A_inv = q.float(), q.T.float()

    def init_params(self, body_pose):
        return 3.0 * super().init_params(body_pose)


def test_project_to_latent_corrects_a_bad_encoder():
    from humanlib.experiments.motion_fit import project_to_latent

    prior = BiasedEncoderPrior()
    pose = 0.3 * torch.randn(6, 21, 3, generator=torch.Generator().manual_seed(0))
    err = lambda z: float((prior.to_body_pose(z) - pose).abs().max())
    assert err(project_to_latent(prior, pose, iterations=0)) > 0.3  # the encoder mean as it is
    z = project_to_latent(prior, pose, iterations=100, weight=0.0)
    assert err(z) < 0.02 and not z.requires_grad
    small = project_to_latent(prior, pose, iterations=100, weight=10.0)
    assert small.norm() < z.norm()  # the ||z||^2 term pulls towards the origin
    with pytest.raises(TypeError, match="latent PosePrior"):
        project_to_latent(NoPrior(), pose)
    with pytest.raises(ValueError, match="weight"):
        project_to_latent(prior, pose, weight=-1.0)


def test_encoder_robustness_separates_encoder_and_projection():
    prior = BiasedEncoderPrior()
    pose = 0.3 * torch.randn(8, 21, 3, generator=torch.Generator().manual_seed(1))
    rows = diagnostics.encoder_robustness(prior, pose, (0.0, 0.05), torch.Generator().manual_seed(2))
    assert [r.sigma for r in rows] == [0.0, 0.05]
    assert rows[0].input_deg == pytest.approx(0.0, abs=1e-3) and rows[1].input_deg > 1.0
    for r in rows:  # the 3x encoder decodes far away; the projection lands near the (noisy) input
        assert r.encoder_deg > 10 * max(r.projected_deg, 0.1) and r.z_norm > r.projected_z_norm
        assert r.projected_deg < r.input_deg + 1.0
    with pytest.raises(TypeError, match="latent PosePrior"):
        diagnostics.encoder_robustness(QuadraticPrior(), pose, (0.1,), torch.Generator())


def test_improvement_table_is_the_relative_change_against_none(small_results):
    none, gmm = small_results.row("occ-legs", "none", 30), small_results.row("occ-legs", "gmm", 30)
    expected = f"{100 * (gmm.v2v_cm - none.v2v_cm) / none.v2v_cm:+.0f} %"
    text = tables.improvement_table(small_results)
    gmm_line = next(line for line in text.splitlines() if line.startswith("| GMM"))
    assert gmm_line.split("|")[2].strip() == expected  # first column: occ-legs, 30
    assert "none (smoothness" not in text and "HuMoR" not in text
    assert "—" in next(line for line in text.splitlines() if line.startswith("| Pose-NDF"))  # not run
    cmu_gmm = next(line for line in tables.improvement_table(small_results, source="cmu").splitlines() if line.startswith("| GMM"))
    assert {c.strip() for c in cmu_gmm.split("|")[2:-1]} == {"—"}  # the toy rows have no per-source errors
    with pytest.raises(TypeError, match="ResultsFile"):
        tables.improvement_table([])


def test_markdown_table_escapes_pipes_inside_cells():
    """A cell holding ``|z|`` stays one cell: the table renders as a table, not as text."""
    from markdown_it import MarkdownIt

    text = tables.markdown_table(["σ", "|z| encoder"], [["0.1", "|x|"]])
    assert text.splitlines()[0] == "| σ | \\|z\\| encoder |"
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<table>" in html and html.count("<th>") == 2 and html.count("<td>") == 2
    assert "<th>|z| encoder</th>" in html and "<td>|x|</td>" in html


def test_weight_curve_finds_a_narrow_minimum_and_a_flat_prior():
    from humanlib.experiments.diagnostics import weight_curve
    from humanlib.experiments.results import WeightChoice

    def row(prior, w, cm):
        return WeightChoice("occ-legs", prior, 0.01, w, cm)

    tried = [row("none", 0.0, 6.5), row("none", 0.0, 7.0),
             row("gmm", 1.0, 6.5), row("gmm", 10.0, 5.2), row("gmm", 100.0, 9.1),
             row("posendf", 10.0, 6.5), row("posendf", 100.0, 6.5), row("posendf", 1e4, 7.8)]
    gmm = weight_curve(tried, "occ-legs", "gmm")
    assert gmm.best_weight == 10.0 and gmm.none_cm == 6.5
    assert abs(gmm.gain - 0.2) < 1e-9 and abs(gmm.sharpness - 1.75) < 1e-9
    ndf = weight_curve(tried, "occ-legs", "posendf")
    assert ndf.best_weight == 10.0 and ndf.gain == 0.0 and ndf.flatness == 0.0 and ndf.sharpness == 1.0


def test_probe_poses_reports_the_energy_gradient_on_the_chosen_joints_only():
    from humanlib.experiments.diagnostics import probe_poses

    truth = torch.zeros(5, 21, 3)
    pose = truth.clone()
    pose[:, 3] = 0.2  # only joint 3 is off the truth
    probe = probe_poses(QuadraticPrior(), pose, truth, [3], "one joint")
    other = probe_poses(QuadraticPrior(), pose, truth, [4], "another joint")
    assert probe.joints_error > 0.3 and other.joints_error == 0.0
    assert probe.grad_joints > 0.0 and probe.nn_distance_mean is None
    assert abs(probe.grad_all - probe.grad_joints) < 1e-6 and other.grad_joints < probe.grad_joints


def test_every_row_carries_the_acceleration_error_of_its_fit(model, clips):
    """accel_ms2 of a pose-prior row is acceleration_error of the fit's joints (fitted shape) against the truth's."""
    from humanlib.experiments.protocol import acceleration_error, body_joints_of

    cfg = runner.ExperimentConfig("denoise", priors=("none",), windows=(8,), frames_per_length=8,
                                  conditions=("joints-4cm",), iterations=3, warmup_iterations=2)
    results = runner.run_experiment(cfg, model=model, clips=clips, fps=30.0, weights=None)
    row = results.row("joints-4cm", "none", 8)
    assert row.accel_ms2 is not None and row.accel_ms2 > 0
    # the clean motion against itself costs nothing: the metric is the one the row uses
    windows = runner.cut_windows(clips, 8, 30.0, max_windows=1)
    true = body_joints_of(model, windows.poses, windows.transl)[..., :22, :]
    assert float(acceleration_error(true, true, 30.0).mean()) == 0.0
