"""Bad inputs to humanlib.experiments (protocol, motion_fit, diagnostics, tables, figures, runner):
every public name, a clear error or a defined result.

Models and motions are the stick figure and smooth clips of ``test_experiments`` (no asset);
files are written into fresh temporary folders by the cases themselves.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from hypothesis import given, settings
from hypothesis import strategies as st
from test_experiments import LinearLatentPrior as _LatentToy
from test_experiments import QuadraticPrior, smooth_clip, stick_figure

from humanlib.experiments import (
    diagnostics,
    figures,
    motion_fit,
    protocol,
    runner,
    tables,
)
from humanlib.experiments.motion_fit import JointsForward, MotionFitConfig
from humanlib.experiments.protocol import Condition, Windows
from humanlib.priors import registry
from humanlib.experiments.runner import ExperimentConfig, TuneConfig, WeightChoice
from humanlib.priors import NoPrior

NAN = float("nan")
P = "humanlib.experiments.protocol."
M = "humanlib.experiments.motion_fit."
D = "humanlib.experiments.diagnostics."
T = "humanlib.experiments.tables."
F = "humanlib.experiments.figures."
R = "humanlib.experiments.runner."


@functools.cache
def model():
    return stick_figure()


@functools.cache
def fk():
    return JointsForward(model())


def clips():
    return [(f"clip{i}", *smooth_clip(n, i)) for i, n in enumerate((40, 25))]


def windows(w: int = 2, t: int = 10) -> Windows:
    return Windows(torch.zeros(w, t, 24, 3), torch.zeros(w, t, 3), ["a"] * w, list(range(w)), 30.0)


def nan(*shape: int) -> torch.Tensor:
    x = torch.zeros(*shape)
    x.view(-1)[0] = NAN
    return x


def meta(*shape: int) -> torch.Tensor:
    return torch.zeros(*shape, device="meta")


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def tmp_file(name: str, content: bytes | str | None = None) -> Path:
    """A path in a fresh folder; written when ``content`` is given."""
    path = Path(tempfile.mkdtemp()) / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


def obs(w: int = 1, t: int = 5):
    """(joints, mask, init_body_pose) of a valid observation."""
    return torch.zeros(w, t, 24, 3), torch.ones(w, t, 24), torch.zeros(w, t, 21, 3)


def fit(joints=None, mask=None, init=None, prior=None, config=None, fit_model=None):
    j, m, i = obs()
    return motion_fit.fit_motion(model() if fit_model is None else fit_model, NoPrior() if prior is None else prior,
                                 j if joints is None else joints, m if mask is None else mask,
                                 i if init is None else init, config)


def row(**changes) -> runner.ResultRow:
    values = {"experiment": "occlusion", "condition": "occ-legs", "prior": "none", "window": 60, "num_windows": 1,
              "frames": 60, "v2v_cm": 1.0, "joint_angle_deg": 2.0, "joint_cm": 1.5, "input_v2v_cm": None,
              "input_joint_cm": 0.0, "smooth_weight": 1.0, "prior_weight": 0.0, "weights_source": "default",
              "seconds": 0.1, "evaluations": 3}
    return runner.ResultRow(**(values | changes))


def results(*rows: runner.ResultRow, seed: int = 0) -> runner.ResultsFile:
    meta_ = runner.RunMetadata(command="pytest", git_commit="abc", machine="m", seed=seed, split="test",
                               corpus="given clips", fps=30.0, windows={"60": ["clip0@0"]}, fit={}, weights_file=None)
    return runner.ResultsFile(meta_, list(rows) or [row()])


def results_json(**changes) -> str:
    payload = {"format": runner.RESULTS_FORMAT, "metadata": json.loads(json.dumps(
        runner.asdict(results().metadata))), "rows": [runner.asdict(row())]}
    return json.dumps(payload | changes)


def weights_json(chosen: list | None = None, **changes) -> str:
    payload = {"format": runner.WEIGHTS_FORMAT, "metadata": {"command": "tune"},
               "chosen": chosen if chosen is not None else [runner.asdict(WeightChoice("occ-legs", "gmm", 1.0, 2.0, 3.0))],
               "tried": []}
    return json.dumps(payload | changes)


def folder_with(name: str, content: bytes | str) -> Path:
    return tmp_file(name, content).parent


def is_shape(*shape):
    return lambda r: tuple(r.shape) == shape


# --------------------------------------------------------------------------- protocol

PROTOCOL = [
    raises(P + "Condition", "unknown kind", lambda: Condition("x", "blur"), ValueError, "kind must be one of"),
    raises(P + "Condition", "negative sigma", lambda: Condition("x", "pose_noise", sigma=-0.1), ValueError, "sigma"),
    raises(P + "Condition", "NaN sigma", lambda: Condition("x", "pose_noise", sigma=NAN), ValueError, "sigma"),
    raises(P + "Condition", "sigma as a string", lambda: Condition("x", "pose_noise", sigma="0.1"), TypeError, "sigma"),
    raises(P + "Condition", "empty name", lambda: Condition("", "pose_noise"), ValueError, "name"),
    raises(P + "Condition", "unknown occluded joint", lambda: Condition("x", "occlusion", occluded=("left_kne",)),
           KeyError, "unknown SMPL joint 'left_kne'"),
    raises(P + "Condition", "occluded as one string (would iterate its letters)",
           lambda: Condition("x", "occlusion", occluded="left_knee"), TypeError, "tuple of joint names"),
    raises(P + "Condition", "occluded joints on a noise condition (silently ignored before)",
           lambda: Condition("x", "joint_noise", sigma=0.04, occluded=("left_knee",)), ValueError, "only by occlusion"),
    raises(P + "Condition", "noise on an occlusion condition (silently ignored before)",
           lambda: Condition("x", "occlusion", sigma=0.1), ValueError, "sigma must be 0"),
    returns(P + "Condition", "a list of occluded joints becomes a hashable tuple",
            lambda: hash(Condition("x", "occlusion", occluded=["left_knee"])), lambda r: isinstance(r, int)),
    raises(P + "condition_by_name", "unknown name", lambda: protocol.condition_by_name("noisy"), ValueError,
           "unknown condition 'noisy'; known conditions: pose-0.1rad"),
    raises("humanlib.experiments.windows.window_starts", "length 1", lambda: protocol.window_starts(100, 1), ValueError, ">= 2"),
    raises("humanlib.experiments.windows.window_starts", "length 0", lambda: protocol.window_starts(100, 0), ValueError, "length"),
    raises("humanlib.experiments.windows.window_starts", "fractional length", lambda: protocol.window_starts(100, 2.5), TypeError, "length"),
    raises("humanlib.experiments.windows.window_starts", "stride 0", lambda: protocol.window_starts(100, 10, 0), ValueError, "stride"),
    raises("humanlib.experiments.windows.window_starts", "negative num_frames", lambda: protocol.window_starts(-5, 10), ValueError, "num_frames"),
    raises("humanlib.experiments.windows.window_starts", "window longer than the clip", lambda: protocol.window_starts(5, 10), ValueError,
           "longer than the clip"),
    raises("humanlib.experiments.windows.balanced_subset", "groups is a string", lambda: protocol.balanced_subset("aab", 2), TypeError, "sequence of str"),
    raises("humanlib.experiments.windows.balanced_subset", "count 0", lambda: protocol.balanced_subset(["a", "b"], 0), ValueError, "count"),
    returns("humanlib.experiments.windows.balanced_subset", "nothing to choose from gives nothing", lambda: protocol.balanced_subset([], 3),
            lambda r: r == []),
    raises("humanlib.experiments.windows.evenly_spaced", "count 0", lambda: protocol.evenly_spaced(10, 0), ValueError, "count"),
    raises("humanlib.experiments.windows.evenly_spaced", "count 0 of nothing", lambda: protocol.evenly_spaced(0, 0), ValueError, "count"),
    raises("humanlib.experiments.windows.evenly_spaced", "negative total", lambda: protocol.evenly_spaced(-1, 2), ValueError, "total"),
    raises("humanlib.experiments.windows.evenly_spaced", "fractional count", lambda: protocol.evenly_spaced(10, 2.5), TypeError, "count"),
    returns("humanlib.experiments.windows.evenly_spaced", "nothing to choose from gives nothing", lambda: protocol.evenly_spaced(0, 3),
            lambda r: r == []),
    raises("humanlib.experiments.windows.Windows", "poses without the joint axis", lambda: Windows(torch.zeros(2, 10, 72), torch.zeros(2, 10, 3),
           ["a", "b"], [0, 0], 30.0), ValueError, r"Windows.poses must have shape \(B, N, 24, 3\)"),
    raises("humanlib.experiments.windows.Windows", "transl of other windows", lambda: Windows(torch.zeros(2, 10, 24, 3), torch.zeros(3, 10, 3),
           ["a", "b"], [0, 0], 30.0), ValueError, r"Windows.transl must have shape \(2, 10, 3\)"),
    raises("humanlib.experiments.windows.Windows", "numpy poses", lambda: Windows(np.zeros((2, 10, 24, 3)), torch.zeros(2, 10, 3), ["a", "b"],
           [0, 0], 30.0), TypeError, "torch.as_tensor"),
    raises("humanlib.experiments.windows.Windows", "NaN poses", lambda: Windows(nan(2, 10, 24, 3), torch.zeros(2, 10, 3), ["a", "b"], [0, 0], 30.0),
           ValueError, "non-finite"),
    raises("humanlib.experiments.windows.Windows", "one clip name for two windows", lambda: Windows(torch.zeros(2, 10, 24, 3),
           torch.zeros(2, 10, 3), ["a"], [0, 0], 30.0), ValueError, "clip_names must have one entry per window"),
    raises("humanlib.experiments.windows.Windows", "no clip names", lambda: Windows(torch.zeros(1, 10, 24, 3), torch.zeros(1, 10, 3), None, [0],
           30.0), TypeError, "Windows.clip_names must be a list"),
    raises("humanlib.experiments.windows.Windows", "fps 0", lambda: Windows(torch.zeros(1, 10, 24, 3), torch.zeros(1, 10, 3), ["a"], [0], 0.0),
           ValueError, "fps"),
    raises("humanlib.experiments.windows.Windows", "poses and transl on two devices", lambda: Windows(torch.zeros(1, 10, 24, 3),
           meta(1, 10, 3), ["a"], [0], 30.0), ValueError, "transl is on meta"),
    raises("humanlib.experiments.windows.Windows.subset", "index out of range", lambda: windows(2).subset([0, 5]), IndexError,
           "window index 5 is out of range for 2 windows"),
    raises("humanlib.experiments.windows.Windows.subset", "a float index", lambda: windows(2).subset([0.5]), TypeError, "integers"),
    returns("humanlib.experiments.windows.Windows.subset", "no index gives no window", lambda: len(windows(2).subset([])), lambda r: r == 0),
    returns("humanlib.experiments.windows.Windows.ids", "no window, no id", lambda: windows(0).ids(), lambda r: r == []),
    raises("humanlib.experiments.windows.cut_windows", "a corpus tensor instead of clips", lambda: protocol.cut_windows(torch.zeros(
           20, 24, 3), 10, 30.0), TypeError, "corpus_clips"),
    raises("humanlib.experiments.windows.cut_windows", "no clip", lambda: protocol.cut_windows([], 10, 30.0), ValueError, "clips is empty"),
    raises("humanlib.experiments.windows.cut_windows", "clip without transl", lambda: protocol.cut_windows([("a", torch.zeros(20, 24, 3))], 10, 30.0),
           TypeError, r"\(name, poses"),
    raises("humanlib.experiments.windows.cut_windows", "clip poses of the wrong shape",
           lambda: protocol.cut_windows([("a", torch.zeros(20, 72), torch.zeros(20, 3))], 10, 30.0), ValueError,
           r"clip 'a' poses must have shape \(B, 24, 3\)"),
    raises("humanlib.experiments.windows.cut_windows", "transl of another length",
           lambda: protocol.cut_windows([("a", torch.zeros(20, 24, 3), torch.zeros(19, 3))], 10, 30.0), ValueError,
           r"clip 'a' transl must have shape \(20, 3\)"),
    raises("humanlib.experiments.windows.cut_windows", "numpy clip", lambda: protocol.cut_windows([("a", np.zeros((20, 24, 3)),
           np.zeros((20, 3)))], 10, 30.0), TypeError, "torch.as_tensor"),
    raises("humanlib.experiments.windows.cut_windows", "NaN in a clip", lambda: protocol.cut_windows([("a", nan(20, 24, 3), torch.zeros(20, 3))],
           10, 30.0), ValueError, "clip 'a' poses contains 1 non-finite"),
    raises("humanlib.experiments.windows.cut_windows", "window length 1", lambda: protocol.cut_windows(clips(), 1, 30.0), ValueError, ">= 2"),
    raises("humanlib.experiments.windows.cut_windows", "fps 0", lambda: protocol.cut_windows(clips(), 10, 0), ValueError, "fps"),
    raises("humanlib.experiments.windows.cut_windows", "max_windows 0", lambda: protocol.cut_windows(clips(), 10, 30.0, max_windows=0),
           ValueError, "max_windows"),
    raises("humanlib.experiments.windows.cut_windows", "every clip shorter than a window", lambda: protocol.cut_windows(clips(), 100, 30.0),
           ValueError, "longer than every clip"),
    raises("humanlib.experiments.windows.corpus_clips", "a list instead of a corpus", lambda: protocol.corpus_clips(clips()), TypeError,
           "MotionCorpus"),
    raises(P + "add_pose_noise", "poses without the joint axis", lambda: protocol.add_pose_noise(torch.zeros(5, 72), 0.1,
           gen()), ValueError, r"poses must have shape \(\.\.\., 24, 3\)"),
    raises(P + "add_pose_noise", "NaN poses", lambda: protocol.add_pose_noise(nan(2, 24, 3), 0.1, gen()), ValueError,
           "non-finite"),
    raises(P + "add_pose_noise", "integer poses", lambda: protocol.add_pose_noise(torch.zeros(2, 24, 3, dtype=torch.long),
           0.1, gen()), ValueError, "floating-point"),
    raises(P + "add_pose_noise", "negative sigma", lambda: protocol.add_pose_noise(torch.zeros(2, 24, 3), -1.0, gen()),
           ValueError, "sigma"),
    raises(P + "add_pose_noise", "a seed instead of a generator", lambda: protocol.add_pose_noise(torch.zeros(2, 24, 3),
           0.1, 0), TypeError, "generator must be a torch.Generator"),
    returns(P + "add_pose_noise", "empty batch gives an empty batch",
            lambda: protocol.add_pose_noise(torch.zeros(0, 24, 3), 0.1, gen()), is_shape(0, 24, 3)),
    returns(P + "add_pose_noise", "sigma 0 changes nothing",
            lambda: protocol.add_pose_noise(torch.ones(2, 24, 3), 0.0, gen()), lambda r: bool((r == 1).all())),
    raises(P + "add_joint_noise", "joints without xyz", lambda: protocol.add_joint_noise(torch.zeros(5, 24, 2), 0.1,
           gen()), ValueError, r"joints must have shape \(\.\.\., B, 3\)"),
    raises(P + "add_joint_noise", "inf joints", lambda: protocol.add_joint_noise(torch.full((2, 24, 3), math.inf), 0.1,
           gen()), ValueError, "non-finite"),
    raises(P + "add_joint_noise", "NaN sigma", lambda: protocol.add_joint_noise(torch.zeros(2, 24, 3), NAN, gen()),
           ValueError, "sigma"),
    raises(P + "add_joint_noise", "no generator", lambda: protocol.add_joint_noise(torch.zeros(2, 24, 3), 0.1, None),
           TypeError, "generator"),
    returns(P + "add_joint_noise", "empty batch gives an empty batch",
            lambda: protocol.add_joint_noise(torch.zeros(0, 24, 3), 0.1, gen()), is_shape(0, 24, 3)),
    raises(P + "occlusion_mask", "unknown joint", lambda: protocol.occlusion_mask(("left_kne",)), KeyError,
           "unknown SMPL joint"),
    raises(P + "occlusion_mask", "one string (would iterate its letters)", lambda: protocol.occlusion_mask("left_knee"),
           TypeError, r"write \('left_knee',\)"),
    raises(P + "occlusion_mask", "negative leading size", lambda: protocol.occlusion_mask((), (2, -1)), ValueError,
           "leading"),
    returns(P + "occlusion_mask", "nothing occluded: all visible", lambda: protocol.occlusion_mask((), (2,)),
            lambda r: r.shape == (2, 24) and bool((r == 1).all())),
    raises(P + "body_joints_of", "not a body model", lambda: protocol.body_joints_of(None, torch.zeros(2, 24, 3),
           torch.zeros(2, 3)), TypeError, "model must be a humanlib.body.BodyModel"),
    raises(P + "body_joints_of", "poses of 23 joints", lambda: protocol.body_joints_of(model(), torch.zeros(2, 23, 3),
           torch.zeros(2, 3)), ValueError, r"poses must have shape \(\.\.\., 24, 3\)"),
    raises(P + "body_joints_of", "transl of other poses", lambda: protocol.body_joints_of(model(), torch.zeros(2, 24, 3),
           torch.zeros(3, 3)), ValueError, r"transl must have shape \(2, 3\)"),
    raises(P + "body_joints_of", "betas of 16 components on a 10-beta model",
           lambda: protocol.body_joints_of(model(), torch.zeros(2, 24, 3), torch.zeros(2, 3), torch.zeros(2, 16)),
           ValueError, r"betas must have shape \(2, 10\)"),
    raises(P + "body_joints_of", "NaN poses", lambda: protocol.body_joints_of(model(), nan(2, 24, 3), torch.zeros(2, 3)),
           ValueError, "non-finite"),
    raises(P + "body_joints_of", "poses on the meta device", lambda: protocol.body_joints_of(model(), meta(2, 24, 3),
           torch.zeros(2, 3)), ValueError, "poses is on meta but the model is on cpu"),
    returns(P + "body_joints_of", "empty batch gives an empty batch",
            lambda: protocol.body_joints_of(model(), torch.zeros(0, 24, 3), torch.zeros(0, 3)), is_shape(0, 24, 3)),
    returns(P + "body_joints_of", "float64 poses on a float32 model: joints in the model's dtype",
            lambda: protocol.body_joints_of(model(), torch.zeros(2, 24, 3, dtype=torch.float64),
                                            torch.zeros(2, 3, dtype=torch.float64)),
            lambda r: r.dtype == torch.float32 and r.shape == (2, 24, 3)),
    raises(P + "make_observation", "windows as a tensor", lambda: protocol.make_observation(model(), torch.zeros(
           1, 10, 24, 3), protocol.DENOISE_CONDITIONS[0], gen()), TypeError, "windows must be"),
    raises(P + "make_observation", "a condition name instead of a Condition",
           lambda: protocol.make_observation(model(), windows(), "joints-4cm", gen()), TypeError, "condition_by_name"),
    raises(P + "make_observation", "no generator", lambda: protocol.make_observation(model(), windows(),
           protocol.DENOISE_CONDITIONS[2], None), TypeError, "generator"),
    raises(P + "make_observation", "windows on the meta device", lambda: protocol.make_observation(model(), Windows(
           meta(1, 10, 24, 3), meta(1, 10, 3), ["a"], [0], 30.0), protocol.DENOISE_CONDITIONS[2], gen()), ValueError,
           "windows.poses is on meta"),
    raises(P + "sequence_vertices", "poses of 23 joints", lambda: protocol.sequence_vertices(model(),
           torch.zeros(2, 23, 3), torch.zeros(2, 3)), ValueError, r"poses must have shape \(B, 24, 3\)"),
    raises(P + "sequence_vertices", "transl of other poses", lambda: protocol.sequence_vertices(model(),
           torch.zeros(2, 24, 3), torch.zeros(2, 1, 3)), ValueError, r"transl must have shape \(2, 3\)"),
    raises(P + "sequence_vertices", "betas of other poses", lambda: protocol.sequence_vertices(model(),
           torch.zeros(2, 24, 3), torch.zeros(2, 3), torch.zeros(1, 10)), ValueError, r"betas must have shape \(2, 10\)"),
    raises(P + "sequence_vertices", "chunk 0", lambda: protocol.sequence_vertices(model(), torch.zeros(2, 24, 3),
           torch.zeros(2, 3), chunk=0), ValueError, "chunk"),
    raises(P + "sequence_vertices", "NaN transl", lambda: protocol.sequence_vertices(model(), torch.zeros(2, 24, 3),
           nan(2, 3)), ValueError, "transl contains 1 non-finite"),
    raises(P + "sequence_vertices", "transl on the meta device", lambda: protocol.sequence_vertices(model(),
           torch.zeros(2, 24, 3), meta(2, 3)), ValueError, "transl is on meta"),
    returns(P + "sequence_vertices", "no body gives no vertices (torch.cat of nothing before)",
            lambda: protocol.sequence_vertices(model(), torch.zeros(0, 24, 3), torch.zeros(0, 3)),
            lambda r: r.shape == (0, model().num_vertices, 3)),
    raises(P + "sequence_acceleration_error", "a tensor instead of windows",
           lambda: protocol.sequence_acceleration_error(model(), windows().poses, windows().transl, None, windows().poses),
           TypeError, r"windows must be humanlib.experiments.protocol.Windows"),
    raises(P + "sequence_acceleration_error", "two frames",
           lambda: protocol.sequence_acceleration_error(model(), windows(t=2).poses, windows(t=2).transl, None,
                                                        windows(t=2)), ValueError, r">= 3 frames"),
    returns(P + "sequence_acceleration_error", "the clean motion itself: 0",
            lambda: protocol.sequence_acceleration_error(model(), windows().poses, windows().transl, None, windows()),
            lambda r: r == 0.0),
    raises(P + "acceleration_error", "two frames", lambda: protocol.acceleration_error(torch.zeros(2, 5, 3),
           torch.zeros(2, 5, 3), 30.0), ValueError, r">= 3 frames"),
    raises(P + "acceleration_error", "shapes differ", lambda: protocol.acceleration_error(torch.zeros(4, 5, 3),
           torch.zeros(4, 6, 3), 30.0), ValueError, "one shape"),
    raises(P + "acceleration_error", "fps 0", lambda: protocol.acceleration_error(torch.zeros(4, 5, 3),
           torch.zeros(4, 5, 3), 0.0), ValueError, "fps"),
    raises(P + "acceleration_error", "NaN prediction", lambda: protocol.acceleration_error(nan(4, 5, 3),
           torch.zeros(4, 5, 3), 30.0), ValueError, "pred_joints contains"),
    raises(P + "per_vertex_error", "shapes differ", lambda: protocol.per_vertex_error(torch.zeros(2, 5, 3),
           torch.zeros(2, 6, 3)), ValueError, "one shape"),
    raises(P + "per_vertex_error", "2D points", lambda: protocol.per_vertex_error(torch.zeros(2, 5, 2), torch.zeros(2, 5, 2)),
           ValueError, r"pred_vertices must have shape \(\.\.\., B, 3\)"),
    raises(P + "per_vertex_error", "integer vertices", lambda: protocol.per_vertex_error(
           torch.zeros(2, 5, 3, dtype=torch.long), torch.zeros(2, 5, 3)), ValueError, "pred_vertices must be a floating"),
    raises(P + "per_vertex_error", "NaN true vertices", lambda: protocol.per_vertex_error(torch.zeros(2, 5, 3),
           nan(2, 5, 3)), ValueError, "true_vertices contains"),
    raises(P + "per_vertex_error", "no vertex (a NaN mean before)", lambda: protocol.per_vertex_error(
           torch.zeros(2, 0, 3), torch.zeros(2, 0, 3)), ValueError, "V = 0"),
    raises(P + "per_vertex_error", "two devices", lambda: protocol.per_vertex_error(meta(2, 5, 3), torch.zeros(2, 5, 3)),
           ValueError, "pred_vertices is on meta but true_vertices is on cpu"),
    raises(P + "per_vertex_error", "a list", lambda: protocol.per_vertex_error([[0.0, 0.0, 0.0]], torch.zeros(1, 3)),
           TypeError, "torch.as_tensor"),
    returns(P + "per_vertex_error", "empty batch gives an empty batch",
            lambda: protocol.per_vertex_error(torch.zeros(0, 5, 3), torch.zeros(0, 5, 3)), is_shape(0)),
    raises(P + "joint_angle_error", "shapes differ", lambda: protocol.joint_angle_error(torch.zeros(2, 24, 3),
           torch.zeros(3, 24, 3)), ValueError, "one shape"),
    raises(P + "joint_angle_error", "body pose (21 joints) instead of 24", lambda: protocol.joint_angle_error(
           torch.zeros(2, 21, 3), torch.zeros(2, 21, 3)), ValueError, r"pred_poses must have shape \(\.\.\., 24, 3\)"),
    raises(P + "joint_angle_error", "NaN", lambda: protocol.joint_angle_error(nan(2, 24, 3), torch.zeros(2, 24, 3)),
           ValueError, "pred_poses contains"),
    raises(P + "joint_angle_error", "integer poses", lambda: protocol.joint_angle_error(
           torch.zeros(2, 24, 3, dtype=torch.int32), torch.zeros(2, 24, 3)), ValueError, "floating-point"),
    returns(P + "joint_angle_error", "empty batch gives an empty batch",
            lambda: protocol.joint_angle_error(torch.zeros(0, 24, 3), torch.zeros(0, 24, 3)), is_shape(0)),
    raises(P + "clean_vertices", "a tuple instead of Windows", lambda: protocol.clean_vertices(model(),
           (torch.zeros(1, 10, 24, 3), torch.zeros(1, 10, 3))), TypeError, "windows must be"),
    raises(P + "clean_vertices", "not a body model", lambda: protocol.clean_vertices("smpl", windows()), TypeError,
           "BodyModel"),
    returns(P + "clean_vertices", "windows of the rest pose", lambda: protocol.clean_vertices(model(), windows(2, 3)),
            lambda r: r.shape == (2, 3, model().num_vertices, 3)),
    raises(P + "sequence_errors", "no window (ZeroDivisionError before)", lambda: protocol.sequence_errors(
           model(), torch.zeros(0, 10, 24, 3), torch.zeros(0, 10, 3), None, windows(0)), ValueError, "no window"),
    raises(P + "sequence_errors", "fitted poses of other windows", lambda: protocol.sequence_errors(
           model(), torch.zeros(3, 10, 24, 3), torch.zeros(3, 10, 3), None, windows(2)), ValueError, "do not match"),
    raises(P + "sequence_errors", "NaN fitted poses (a diverged fit)", lambda: protocol.sequence_errors(
           model(), nan(2, 10, 24, 3), torch.zeros(2, 10, 3), None, windows(2)), ValueError, "pred_poses contains"),
    raises(P + "sequence_errors", "betas per frame instead of per window", lambda: protocol.sequence_errors(
           model(), torch.zeros(2, 10, 24, 3), torch.zeros(2, 10, 3), torch.zeros(2, 10, 10), windows(2)),
           ValueError, r"pred_betas must have shape \(2, 10\)"),
    raises(P + "sequence_errors", "reference of other windows", lambda: protocol.sequence_errors(
           model(), torch.zeros(2, 10, 24, 3), torch.zeros(2, 10, 3), None, windows(2), torch.zeros(1, 10, 5, 3)),
           ValueError, "reference must have shape"),
    raises(P + "sequence_errors", "fitted transl on the meta device", lambda: protocol.sequence_errors(
           model(), torch.zeros(2, 10, 24, 3), meta(2, 10, 3), None, windows(2)), ValueError, "pred_transl is on meta"),
    returns(P + "sequence_errors", "the clean motion has no error", lambda: protocol.sequence_errors(
            model(), torch.zeros(2, 3, 24, 3), torch.zeros(2, 3, 3), None, windows(2, 3)),
            lambda r: r.v2v_cm < 1e-6 and r.joint_cm < 1e-6),
]

# --------------------------------------------------------------------------- motion_fit

MOTION_FIT = [
    raises(M + "MotionFitConfig", "negative smooth_weight", lambda: MotionFitConfig(smooth_weight=-1.0), ValueError,
           "MotionFitConfig.smooth_weight"),
    raises(M + "MotionFitConfig", "NaN prior_weight", lambda: MotionFitConfig(prior_weight=NAN), ValueError,
           "MotionFitConfig.prior_weight"),
    raises(M + "MotionFitConfig", "inf data_weight", lambda: MotionFitConfig(data_weight=math.inf), ValueError,
           "MotionFitConfig.data_weight"),
    raises(M + "MotionFitConfig", "beta_weight as a string", lambda: MotionFitConfig(beta_weight="1"), TypeError,
           "MotionFitConfig.beta_weight"),
    raises(M + "MotionFitConfig", "iterations 0", lambda: MotionFitConfig(iterations=0), ValueError,
           "MotionFitConfig.iterations"),
    raises(M + "MotionFitConfig", "fractional iterations", lambda: MotionFitConfig(iterations=2.5), TypeError,
           "MotionFitConfig.iterations"),
    raises(M + "MotionFitConfig", "negative warm-up", lambda: MotionFitConfig(warmup_iterations=-1), ValueError,
           "MotionFitConfig.warmup_iterations"),
    raises(M + "MotionFitConfig", "history 0", lambda: MotionFitConfig(history=0), ValueError, "MotionFitConfig.history"),
    raises(M + "MotionFitConfig", "optimize_betas as a string", lambda: MotionFitConfig(optimize_betas="no"), TypeError,
           "MotionFitConfig.optimize_betas"),
    returns(M + "MotionFitConfig", "zero weights and no warm-up are valid",
            lambda: MotionFitConfig(smooth_weight=0, prior_weight=0.0, warmup_iterations=0), lambda r: r.iterations == 60),
    raises(M + "JointsForward", "not a body model", lambda: JointsForward(None), TypeError, "BodyModel"),
    raises("humanlib.body.SkeletonJoints.rest_joints", "betas of 16 components", lambda: fk().rest_joints(torch.zeros(2, 16)),
           ValueError, r"betas must have shape \(B, 10\)"),
    raises("humanlib.body.SkeletonJoints.rest_joints", "float64 betas on a float32 model",
           lambda: fk().rest_joints(torch.zeros(2, 10, dtype=torch.float64)), ValueError, "dtype torch.float32"),
    raises("humanlib.body.SkeletonJoints.rest_joints", "betas on the meta device", lambda: fk().rest_joints(meta(2, 10)), ValueError,
           "betas is on meta but the joints model is on cpu"),
    returns("humanlib.body.SkeletonJoints.rest_joints", "no shape gives no joints", lambda: fk().rest_joints(torch.zeros(0, 10)),
            is_shape(0, 24, 3)),
    raises(M + "JointsForward.forward", "body pose of 21 joints", lambda: fk()(torch.zeros(2, 21, 3), torch.zeros(2, 10),
           torch.zeros(2, 3)), ValueError, r"pose must have shape \(B, 24, 3\)"),
    raises(M + "JointsForward.forward", "betas of another batch", lambda: fk()(torch.zeros(2, 24, 3), torch.zeros(3, 10),
           torch.zeros(2, 3)), ValueError, r"betas must have shape \(2, 10\)"),
    raises(M + "JointsForward.forward", "transl on the meta device", lambda: fk()(torch.zeros(2, 24, 3), torch.zeros(2, 10),
           meta(2, 3)), ValueError, "transl is on meta"),
    raises(M + "JointsForward.forward", "numpy pose", lambda: fk()(np.zeros((2, 24, 3)), torch.zeros(2, 10),
           torch.zeros(2, 3)), TypeError, "torch.as_tensor"),
    raises(M + "JointsForward.forward", "integer pose", lambda: fk()(torch.zeros(2, 24, 3, dtype=torch.long),
           torch.zeros(2, 10), torch.zeros(2, 3)), ValueError, "pose must have dtype torch.float32"),
    returns(M + "JointsForward.forward", "empty batch gives an empty batch",
            lambda: fk()(torch.zeros(0, 24, 3), torch.zeros(0, 10), torch.zeros(0, 3)), is_shape(0, 24, 3)),
    raises(M + "root_from_joints", "observed joints of 17 joints", lambda: motion_fit.root_from_joints(
           torch.zeros(2, 17, 3), torch.zeros(24, 3)), ValueError, r"observed must have shape \(B, 24, 3\)"),
    raises(M + "root_from_joints", "batched rest joints", lambda: motion_fit.root_from_joints(
           torch.zeros(2, 24, 3), torch.zeros(2, 24, 3)), ValueError, r"rest_joints must have shape \(24, 3\)"),
    raises(M + "root_from_joints", "NaN observed (SVD failure inside torch before)", lambda: motion_fit.root_from_joints(
           nan(2, 24, 3), torch.zeros(24, 3)), ValueError, "observed contains 1 non-finite"),
    raises(M + "root_from_joints", "two dtypes", lambda: motion_fit.root_from_joints(
           torch.zeros(2, 24, 3), torch.zeros(24, 3, dtype=torch.float64)), ValueError, "rest_joints must have dtype"),
    returns(M + "root_from_joints", "no body gives no root", lambda: motion_fit.root_from_joints(
            torch.zeros(0, 24, 3), torch.zeros(24, 3)), lambda r: r[0].shape == r[1].shape == (0, 3)),
    raises(M + "check_observation", "numpy joints", lambda: motion_fit.check_observation(
           np.zeros((1, 5, 24, 3)), *obs()[1:]), TypeError, "joints must be a torch.Tensor"),
    raises(M + "check_observation", "no window", lambda: motion_fit.check_observation(*obs(w=0)), ValueError,
           "no window"),
    raises(M + "check_observation", "two frames", lambda: motion_fit.check_observation(*obs(t=2)), ValueError,
           "at least 3 frames"),
    raises(M + "check_observation", "integer joints", lambda: motion_fit.check_observation(
           torch.zeros(1, 5, 24, 3, dtype=torch.long), *obs()[1:]), ValueError, "floating-point"),
    raises(M + "check_observation", "mask on the meta device", lambda: motion_fit.check_observation(
           obs()[0], meta(1, 5, 24), obs()[2]), ValueError, "mask is on the meta device"),
    raises(M + "check_observation", "a window with every joint masked", lambda: motion_fit.check_observation(
           torch.zeros(2, 5, 24, 3), torch.cat([torch.ones(1, 5, 24), torch.zeros(1, 5, 24)]),
           torch.zeros(2, 5, 21, 3)), ValueError, r"window\(s\) \[1\] observe no joint"),
    returns(M + "check_observation", "a boolean mask is accepted", lambda: motion_fit.check_observation(
            obs()[0], torch.ones(1, 5, 24, dtype=torch.bool), obs()[2]), lambda r: r is None),
    raises(M + "motion_energy", "observed of another shape", lambda: motion_fit.motion_energy(
           torch.zeros(1, 5, 24, 3), torch.zeros(1, 4, 24, 3), torch.ones(1, 5, 24), torch.zeros(1, 5),
           torch.zeros(1, 10), MotionFitConfig()), ValueError, r"observed must have shape \(1, 5, 24, 3\)"),
    raises(M + "motion_energy", "prior energy per window instead of per frame", lambda: motion_fit.motion_energy(
           torch.zeros(1, 5, 24, 3), torch.zeros(1, 5, 24, 3), torch.ones(1, 5, 24), torch.zeros(1),
           torch.zeros(1, 10), MotionFitConfig()), ValueError, r"prior_energy must have shape \(1, 5\)"),
    raises(M + "motion_energy", "a dict instead of a config", lambda: motion_fit.motion_energy(
           torch.zeros(1, 5, 24, 3), torch.zeros(1, 5, 24, 3), torch.ones(1, 5, 24), torch.zeros(1, 5),
           torch.zeros(1, 10), {"data_weight": 1.0}), TypeError, "config must be a MotionFitConfig"),
    raises(M + "motion_energy", "no frame (a division by zero before)", lambda: motion_fit.motion_energy(
           torch.zeros(1, 0, 24, 3), torch.zeros(1, 0, 24, 3), torch.ones(1, 0, 24), torch.zeros(1, 0),
           torch.zeros(1, 10), MotionFitConfig()), ValueError, "no frame"),
    raises("humanlib.experiments.diagnostics.encoder_robustness", "empty sigmas",
           lambda: diagnostics.encoder_robustness(_LatentToy(), torch.zeros(2, 21, 3), (), torch.Generator()), ValueError, "sigmas"),
    raises("humanlib.experiments.diagnostics.encoder_robustness", "negative sigma",
           lambda: diagnostics.encoder_robustness(_LatentToy(), torch.zeros(2, 21, 3), (-0.1,), torch.Generator()), ValueError, "sigma"),
    raises("humanlib.experiments.diagnostics.encoder_robustness", "a seed for the generator",
           lambda: diagnostics.encoder_robustness(_LatentToy(), torch.zeros(2, 21, 3), (0.1,), 0), TypeError, "generator"),
    raises("humanlib.experiments.diagnostics.encoder_robustness", "a pose-space prior",
           lambda: diagnostics.encoder_robustness(QuadraticPrior(), torch.zeros(2, 21, 3), (0.1,), torch.Generator()),
           TypeError, "latent PosePrior"),
    raises(M + "project_to_latent", "a pose-space prior", lambda: motion_fit.project_to_latent(NoPrior(), torch.zeros(2, 21, 3)),
           TypeError, "latent PosePrior"),
    raises(M + "project_to_latent", "poses without the joint axis",
           lambda: motion_fit.project_to_latent(_LatentToy(), torch.zeros(2, 63)), ValueError, r"body_pose must have shape"),
    raises(M + "project_to_latent", "negative iterations",
           lambda: motion_fit.project_to_latent(_LatentToy(), torch.zeros(2, 21, 3), iterations=-1), ValueError, "iterations"),
    raises(M + "project_to_latent", "NaN weight",
           lambda: motion_fit.project_to_latent(_LatentToy(), torch.zeros(2, 21, 3), weight=math.nan), ValueError, "weight"),
    raises(M + "MotionFitConfig", "negative projection weight", lambda: motion_fit.MotionFitConfig(latent_projection_weight=-1.0),
           ValueError, "latent_projection_weight"),
    raises(M + "MotionFitConfig", "fractional projection iterations",
           lambda: motion_fit.MotionFitConfig(latent_projection_iterations=2.5), TypeError, "latent_projection_iterations"),
    raises(M + "fit_motion", "NaN observation", lambda: fit(joints=nan(1, 5, 24, 3)), ValueError,
           "observed joints contain 1 NaN"),
    raises(M + "fit_motion", "inf initial pose", lambda: fit(init=torch.full((1, 5, 21, 3), math.inf)), ValueError,
           "init_body_pose contain"),
    raises(M + "fit_motion", "mask of 23 joints", lambda: fit(mask=torch.ones(1, 5, 23)), ValueError,
           r"mask must be \(W, T, 24\)"),
    raises(M + "fit_motion", "mask of other windows", lambda: fit(mask=torch.ones(2, 5, 24)), ValueError, "mask must be"),
    raises(M + "fit_motion", "soft mask", lambda: fit(mask=torch.full((1, 5, 24), 0.5)), ValueError, "only 0"),
    raises(M + "fit_motion", "empty windows", lambda: fit(*obs(w=0)), ValueError, "no window"),
    raises(M + "fit_motion", "everything masked", lambda: fit(mask=torch.zeros(1, 5, 24)), ValueError, "observe no joint"),
    raises(M + "fit_motion", "init of 24 joints", lambda: fit(init=torch.zeros(1, 5, 24, 3)), ValueError,
           "init_body_pose must be"),
    raises(M + "fit_motion", "joints on the meta device", lambda: fit(joints=meta(1, 5, 24, 3)), ValueError,
           "joints is on the meta device"),
    raises(M + "fit_motion", "a prior name instead of a prior", lambda: fit(prior="gmm"), TypeError,
           "prior must be a humanlib.priors.PosePrior"),
    raises(M + "fit_motion", "a dict config", lambda: fit(config={"iterations": 3}), TypeError,
           "config must be a MotionFitConfig"),
    raises(M + "fit_motion", "not a body model", lambda: fit(fit_model=object()), TypeError, "BodyModel"),
]

# --------------------------------------------------------------------------- diagnostics

def _choice(prior: str, weight: float, cm: float):
    from humanlib.experiments.results import WeightChoice

    return WeightChoice("occ-legs", prior, 0.01, weight, cm)


DIAGNOSTICS = [
    raises(D + "energy_separation", "poses of 24 joints", lambda: diagnostics.energy_separation(
           QuadraticPrior(), torch.zeros(4, 24, 3), 0.1, gen()), ValueError, r"body_pose must have shape \(B, 21, 3\)"),
    raises(D + "energy_separation", "no pose (a NaN mean before)", lambda: diagnostics.energy_separation(
           QuadraticPrior(), torch.zeros(0, 21, 3), 0.1, gen()), ValueError, "body_pose is empty"),
    raises(D + "energy_separation", "NaN poses", lambda: diagnostics.energy_separation(
           QuadraticPrior(), nan(4, 21, 3), 0.1, gen()), ValueError, "non-finite"),
    raises(D + "energy_separation", "negative sigma", lambda: diagnostics.energy_separation(
           QuadraticPrior(), torch.zeros(4, 21, 3), -0.1, gen()), ValueError, "sigma"),
    raises(D + "energy_separation", "a seed instead of a generator", lambda: diagnostics.energy_separation(
           QuadraticPrior(), torch.zeros(4, 21, 3), 0.1, 7), TypeError, "generator"),
    raises(D + "energy_separation", "chunk 0 (an endless loop risk)", lambda: diagnostics.energy_separation(
           QuadraticPrior(), torch.zeros(4, 21, 3), 0.1, gen(), chunk=0), ValueError, "chunk"),
    raises(D + "energy_separation", "a prior name", lambda: diagnostics.energy_separation(
           "gmm", torch.zeros(4, 21, 3), 0.1, gen()), TypeError, "prior must be"),
    raises(D + "energy_separation", "poses on the meta device", lambda: diagnostics.energy_separation(
           QuadraticPrior(), meta(4, 21, 3), 0.1, gen()), ValueError, "meta device"),
    raises(D + "rest_pose_rank", "no pose", lambda: diagnostics.rest_pose_rank(QuadraticPrior(), torch.zeros(0, 21, 3)),
           ValueError, "body_pose is empty"),
    raises(D + "rest_pose_rank", "flat poses", lambda: diagnostics.rest_pose_rank(QuadraticPrior(), torch.zeros(4, 63)),
           ValueError, r"body_pose must have shape \(B, 21, 3\)"),
    raises(D + "rest_pose_rank", "numpy poses", lambda: diagnostics.rest_pose_rank(QuadraticPrior(),
           np.zeros((4, 21, 3))), TypeError, "torch.as_tensor"),
    raises(D + "parametrisation_error", "no pose", lambda: diagnostics.parametrisation_error(QuadraticPrior(),
           torch.zeros(0, 21, 3)), ValueError, "body_pose is empty"),
    raises(D + "parametrisation_error", "integer poses", lambda: diagnostics.parametrisation_error(QuadraticPrior(),
           torch.zeros(4, 21, 3, dtype=torch.long)), ValueError, "floating-point"),
    raises(D + "parametrisation_error", "a prior class, not an instance", lambda: diagnostics.parametrisation_error(
           QuadraticPrior, torch.zeros(4, 21, 3)), TypeError, "prior must be"),
    raises(D + "weight_curve", "a dict, not WeightChoice rows", lambda: diagnostics.weight_curve(
           [{"condition": "occ-legs"}], "occ-legs", "gmm"), TypeError, "list of WeightChoice"),
    raises(D + "weight_curve", "no rows for the prior", lambda: diagnostics.weight_curve(
           [_choice("none", 0.0, 6.5)], "occ-legs", "gmm"), ValueError, "rerun `humanlib experiment tune`"),
    raises(D + "weight_curve", "'none' as the prior", lambda: diagnostics.weight_curve(
           [_choice("none", 0.0, 6.5)], "occ-legs", "none"), ValueError, "no tuning rows"),
    raises(D + "probe_poses", "joints out of range", lambda: diagnostics.probe_poses(
           QuadraticPrior(), torch.zeros(4, 21, 3), torch.zeros(4, 21, 3), [21], "x"), ValueError, "body-joint indices"),
    raises(D + "probe_poses", "truth of another shape", lambda: diagnostics.probe_poses(
           QuadraticPrior(), torch.zeros(4, 21, 3), torch.zeros(3, 21, 3), [0], "x"), ValueError, "truth"),
    raises(D + "probe_poses", "a prior class, not an instance", lambda: diagnostics.probe_poses(
           QuadraticPrior, torch.zeros(4, 21, 3), torch.zeros(4, 21, 3), [0], "x"), TypeError, "prior must be"),
]

# --------------------------------------------------------------------------- tables

TABLES = [
    raises(T + "markdown_table", "a row longer than the header", lambda: tables.markdown_table(["a", "b"],
           [["1", "2", "3"]]), ValueError, "row 0 has 3 cells but the header has 2 columns"),
    raises(T + "markdown_table", "no column", lambda: tables.markdown_table([], []), ValueError, "header is empty"),
    raises(T + "markdown_table", "an unformatted number", lambda: tables.markdown_table(["a"], [[1.5]]), TypeError,
           "cells must be strings"),
    returns(T + "markdown_table", "no row gives a header only", lambda: tables.markdown_table(["a"], []),
            lambda r: r.count("\n") == 1),
    raises(T + "published_table", "empty table (StopIteration before)", lambda: tables.published_table({}), ValueError,
           "non-empty"),
    raises(T + "published_table", "two numbers for three windows", lambda: tables.published_table(
           {"VPoser": {"HPS": (1.0, 2.0)}}), ValueError, "must hold 3 numbers"),
    raises(T + "published_table", "methods with other columns", lambda: tables.published_table(
           {"A": {"HPS": (1.0, 2.0, 3.0)}, "B": {"AMASS": (1.0, 2.0, 3.0)}}), ValueError, "must have the columns"),
    raises(T + "results_table", "a path instead of results", lambda: tables.results_table("results/denoise.json"),
           TypeError, "read_results"),
    raises(T + "results_table", "unknown metric", lambda: tables.results_table(results(), "v2v_mm"), ValueError,
           "metric must be one of"),
    returns(T + "results_table", "no row: every cell a dash", lambda: tables.results_table(
            runner.ResultsFile(results().metadata, [])), lambda r: "| GMM |" in r),
    raises(T + "improvement_table", "a path instead of results", lambda: tables.improvement_table("results/denoise.json"),
           TypeError, "read_results"),
    returns(T + "improvement_table", "no row: a header and dashes", lambda: tables.improvement_table(
            runner.ResultsFile(results().metadata, [])), lambda r: "| GMM |" in r),
    raises(T + "side_by_side", "unknown published column", lambda: tables.side_by_side(
           results(), "occ-legs", tables.PUBLISHED_TABLE4, "Occ. Legs"), ValueError, "unknown published column"),
    raises(T + "side_by_side", "unknown condition", lambda: tables.side_by_side(
           results(), "legs", tables.PUBLISHED_TABLE4, "Occ. Leg"), ValueError, "unknown condition 'legs'"),
    raises(T + "side_by_side", "a table without a Pose-NDF row", lambda: tables.side_by_side(
           results(), "occ-legs", {"VPoser": tables.PUBLISHED_TABLE4["VPoser"]}, "Occ. Leg"), ValueError, "'Pose-NDF' row"),
    raises(T + "side_by_side", "rows instead of results", lambda: tables.side_by_side(
           [row()], "occ-legs", tables.PUBLISHED_TABLE4, "Occ. Leg"), TypeError, "ResultsFile"),
    returns(T + "fitting_table", "missing folder: a sentence naming the command",
            lambda: tables.fitting_table(tmp_file("absent")), lambda r: "humanlib smplify-eval" in r),
    raises(T + "fitting_table", "the results file itself instead of its folder",
           lambda: tables.fitting_table(tmp_file(tables.SMPLIFY_RESULTS, "{}")), NotADirectoryError, "is a file"),
    raises(T + "fitting_table", "truncated JSON", lambda: tables.fitting_table(folder_with(
           tables.SMPLIFY_RESULTS, '{"variants": [')), ValueError, "not valid JSON.*smplify-eval"),
    raises(T + "fitting_table", "garbage bytes", lambda: tables.fitting_table(folder_with(
           tables.SMPLIFY_RESULTS, b"\xff\xfe\x00garbage")), ValueError, "not valid JSON"),
    raises(T + "fitting_table", "a variant without its errors", lambda: tables.fitting_table(folder_with(
           tables.SMPLIFY_RESULTS, json.dumps({"variants": [{"name": "x", "prior": "gmm"}]}))), ValueError,
           "not a SMPLify results file"),
    raises(T + "runs_text", "None", lambda: tables.runs_text(None), TypeError, "ResultsFile"),
    returns(T + "runs_text", "a file without earlier runs", lambda: tables.runs_text(results()),
            lambda r: r.startswith("pytest\n")),
    raises(T + "experiment_tables", "missing folder (printed empty tables before)",
           lambda: tables.experiment_tables(tmp_file("absent")), FileNotFoundError, "does not exist"),
    raises(T + "experiment_tables", "a corrupt denoise.json", lambda: tables.experiment_tables(folder_with(
           "denoise.json", b"\x00\x01 not json")), ValueError, "denoise.json is not a results file"),
    returns(T + "experiment_tables", "an empty folder: published tables and a note",
            lambda: tables.experiment_tables(tempfile.mkdtemp()), lambda r: "(no " in r and "0.59" in r),
]

# --------------------------------------------------------------------------- figures

SKELETON = torch.zeros(4, 24, 3)

FIGURES = [
    raises(F + "skeleton_animation", "no sequence", lambda: figures.skeleton_animation({}), ValueError, "at least one"),
    raises(F + "skeleton_animation", "a list instead of a dict", lambda: figures.skeleton_animation([SKELETON]),
           TypeError, "dict"),
    raises(F + "skeleton_animation", "numpy joints", lambda: figures.skeleton_animation({"a": np.zeros((4, 24, 3))}),
           TypeError, "torch.as_tensor"),
    raises(F + "skeleton_animation", "vertices instead of joints", lambda: figures.skeleton_animation(
           {"a": torch.zeros(4, 100, 3)}), ValueError, r"sequences\['a'\] must have shape \(B, 24, 3\)"),
    raises(F + "skeleton_animation", "two lengths", lambda: figures.skeleton_animation(
           {"a": SKELETON, "b": torch.zeros(5, 24, 3)}), ValueError, "one length"),
    raises(F + "skeleton_animation", "no frame (IndexError before)", lambda: figures.skeleton_animation(
           {"a": torch.zeros(0, 24, 3)}), ValueError, "is empty"),
    raises(F + "skeleton_animation", "NaN joints", lambda: figures.skeleton_animation({"a": nan(4, 24, 3)}), ValueError,
           "non-finite"),
    raises(F + "skeleton_animation", "step 0", lambda: figures.skeleton_animation({"a": SKELETON}, step=0), ValueError,
           "step"),
    raises(F + "skeleton_animation", "fps 0 (ZeroDivisionError before)", lambda: figures.skeleton_animation(
           {"a": SKELETON}, fps=0), ValueError, "fps"),
    raises(F + "mesh_animation", "float faces", lambda: figures.mesh_animation({"a": torch.zeros(2, 4, 3)},
           torch.tensor([[0.0, 1.0, 2.0]])), ValueError, "faces must hold non-negative vertex indices"),
    raises(F + "mesh_animation", "negative face index", lambda: figures.mesh_animation({"a": torch.zeros(2, 4, 3)},
           torch.tensor([[0, 1, -1]])), ValueError, "non-negative"),
    raises(F + "mesh_animation", "faces of quads", lambda: figures.mesh_animation({"a": torch.zeros(2, 4, 3)},
           torch.tensor([[0, 1, 2, 3]])), ValueError, r"faces must be \(F, 3\)"),
    raises(F + "mesh_animation", "numpy vertices", lambda: figures.mesh_animation({"a": np.zeros((2, 4, 3))},
           torch.tensor([[0, 1, 2], [1, 2, 3]])), TypeError, "torch.as_tensor"),
    raises(F + "mesh_animation", "no frame", lambda: figures.mesh_animation({"a": torch.zeros(0, 4, 3)},
           torch.tensor([[0, 1, 2], [1, 2, 3]])), ValueError, "is empty"),
    raises(F + "mesh_animation", "inf vertices", lambda: figures.mesh_animation({"a": torch.full((2, 4, 3), math.inf)},
           torch.tensor([[0, 1, 2], [1, 2, 3]])), ValueError, "non-finite"),
    raises(F + "mesh_animation", "cell 0", lambda: figures.mesh_animation({"a": torch.zeros(2, 4, 3)},
           torch.tensor([[0, 1, 2], [1, 2, 3]]), cell=0.0), ValueError, "cell"),
    raises(F + "mesh_animation", "vertices of another mesh", lambda: figures.mesh_animation({"a": torch.zeros(2, 5, 3)},
           torch.tensor([[0, 1, 2], [1, 2, 3]])), ValueError, r"\(T, 4, 3\) vertices"),
    raises(F + "error_per_frame_plot", "no method", lambda: figures.error_per_frame_plot({}), ValueError, "at least one"),
    raises(F + "error_per_frame_plot", "errors per vertex, not per frame", lambda: figures.error_per_frame_plot(
           {"a": torch.zeros(10, 5)}), ValueError, r"errors\['a'\] must have shape \(B,\)"),
    raises(F + "error_per_frame_plot", "numpy errors", lambda: figures.error_per_frame_plot({"a": np.zeros(10)}),
           TypeError, "torch.as_tensor"),
    raises(F + "error_per_frame_plot", "fps 0", lambda: figures.error_per_frame_plot({"a": torch.zeros(10)}, fps=0),
           ValueError, "fps"),
]

# --------------------------------------------------------------------------- runner

WRAPPED = runner.PoseSpacePrior(NoPrior(), "none-pose")

RUNNER = [
    raises(R + "occlusion_probe", "a noise condition", lambda: runner.occlusion_probe("pose-0.1rad", [("none", 0.0)], 0.01),
           ValueError, "no probe joints"),
    raises(R + "occlusion_probe", "an unknown prior", lambda: runner.occlusion_probe("occ-legs", [("vposr", 1.0)], 0.01),
           ValueError, "unknown prior"),
    raises(R + "occlusion_probe", "a 2-frame window", lambda: runner.occlusion_probe("occ-legs", [("none", 0.0)], 0.01,
           window=2), ValueError, "window must be >= 3"),
    raises("humanlib.experiments.settings.ExperimentConfig", "unknown experiment", lambda: ExperimentConfig("fitting"), ValueError,
           "experiment must be"),
    raises("humanlib.experiments.settings.ExperimentConfig", "unknown prior", lambda: ExperimentConfig("denoise", priors=("none", "motionvae")),
           ValueError, "unknown prior 'motionvae'"),
    raises("humanlib.experiments.settings.ExperimentConfig", "priors as a number", lambda: ExperimentConfig("denoise", priors=3), TypeError,
           "priors must be"),
    raises("humanlib.experiments.settings.ExperimentConfig", "window of 2 frames", lambda: ExperimentConfig("denoise", windows=(2,)),
           ValueError, "windows must be integers >= 3"),
    raises("humanlib.experiments.settings.ExperimentConfig", "fractional window (truncated silently before)",
           lambda: ExperimentConfig("denoise", windows=(60.5,)), ValueError, "windows must be integers"),
    raises("humanlib.experiments.settings.ExperimentConfig", "no window", lambda: ExperimentConfig("denoise", windows=()), ValueError, "windows"),
    raises("humanlib.experiments.settings.ExperimentConfig", "negative frames_per_length", lambda: ExperimentConfig("denoise",
           frames_per_length=-480), ValueError, "frames_per_length"),
    raises("humanlib.experiments.settings.ExperimentConfig", "frames_per_length below one window", lambda: ExperimentConfig("denoise",
           frames_per_length=100), ValueError, "at least one window of 240"),
    raises("humanlib.experiments.settings.ExperimentConfig", "unknown condition", lambda: ExperimentConfig("occlusion", conditions=("occ-leg",)),
           ValueError, "unknown condition 'occ-leg'"),
    raises("humanlib.experiments.settings.ExperimentConfig", "a condition of the other experiment (vanished from tables before)",
           lambda: ExperimentConfig("occlusion", conditions=("joints-4cm",)), ValueError, "belongs to another experiment"),
    raises("humanlib.experiments.settings.ExperimentConfig", "no condition", lambda: ExperimentConfig("occlusion", conditions=()), ValueError,
           "ExperimentConfig.conditions is empty"),
    raises("humanlib.experiments.settings.ExperimentConfig", "unknown split", lambda: ExperimentConfig("denoise", split="testing"), ValueError,
           "ExperimentConfig.split"),
    raises("humanlib.experiments.settings.ExperimentConfig", "iterations 0", lambda: ExperimentConfig("denoise", iterations=0), ValueError,
           "ExperimentConfig.iterations"),
    raises("humanlib.experiments.settings.ExperimentConfig", "negative seed", lambda: ExperimentConfig("denoise", seed=-1), ValueError,
           "ExperimentConfig.seed"),
    raises("humanlib.experiments.settings.ExperimentConfig", "NaN beta_weight", lambda: ExperimentConfig("denoise", beta_weight=NAN), ValueError,
           "ExperimentConfig.beta_weight"),
    raises("humanlib.experiments.settings.ExperimentConfig", "unknown device", lambda: ExperimentConfig("denoise", device="gpu"), ValueError,
           "ExperimentConfig.device must be a torch device"),
    raises("humanlib.experiments.settings.ExperimentConfig", "allow_missing as a string", lambda: ExperimentConfig("denoise", allow_missing="no"),
           TypeError, "allow_missing"),
    returns("humanlib.experiments.settings.ExperimentConfig", "conditions as a comma-separated string",
            lambda: ExperimentConfig("occlusion", conditions="occ-legs, occ-arm-hand").conditions,
            lambda r: r == ("occ-legs", "occ-arm-hand")),
    returns("humanlib.experiments.settings.ExperimentConfig.condition_list", "None: every condition of the experiment",
            lambda: ExperimentConfig("denoise").condition_list(), lambda r: r == protocol.DENOISE_CONDITIONS),
    raises("humanlib.priors.registry.PoseSpacePrior", "a prior name instead of a prior", lambda: runner.PoseSpacePrior("vposer", "x"),
           TypeError, "PosePrior"),
    raises("humanlib.priors.registry.PoseSpacePrior", "empty name", lambda: runner.PoseSpacePrior(NoPrior(), ""), ValueError, "name"),
    raises("humanlib.priors.registry.PoseSpacePrior.energy", "poses of 24 joints", lambda: runner.PoseSpacePrior(QuadraticPrior(), "q").energy(
           torch.zeros(2, 24, 3)), ValueError, "body_pose"),
    returns("humanlib.priors.registry.PoseSpacePrior.to", "a wrapped prior without tensors: a no-op that returns the wrapper",
            lambda: WRAPPED.to("cpu"), lambda r: r is WRAPPED),
    returns("humanlib.experiments.results.ResultsFile.row", "a cell that was not run gives None", lambda: results().row("occ-legs", "gmm", 60),
            lambda r: r is None),
    raises("humanlib.experiments.settings.TuneConfig", "unknown prior", lambda: TuneConfig(priors="gmm,motionvae"), ValueError, "unknown prior"),
    raises("humanlib.experiments.settings.TuneConfig", "window of 2 frames", lambda: TuneConfig(window=2), ValueError, "TuneConfig.window"),
    raises("humanlib.experiments.settings.TuneConfig", "num_windows 0", lambda: TuneConfig(num_windows=0), ValueError, "TuneConfig.num_windows"),
    raises("humanlib.experiments.settings.TuneConfig", "empty smoothness grid", lambda: TuneConfig(smooth_grid=()), ValueError,
           "TuneConfig.smooth_grid"),
    raises("humanlib.experiments.settings.TuneConfig", "negative grid weight", lambda: TuneConfig(smooth_grid=(1.0, -1.0)), ValueError,
           "smooth_grid"),
    raises("humanlib.experiments.settings.TuneConfig", "unknown condition", lambda: TuneConfig(conditions=("noisy",)), ValueError,
           "unknown condition"),
    raises("humanlib.experiments.settings.TuneConfig", "refine not a bool", lambda: TuneConfig(refine="yes"), TypeError, "TuneConfig.refine"),
    raises("humanlib.experiments.settings.TuneConfig", "unknown device", lambda: TuneConfig(device="tpu0"), ValueError, "TuneConfig.device"),
    raises("humanlib.experiments.results.WeightChoice", "unknown prior", lambda: WeightChoice("occ-legs", "motionvae", 1.0, 1.0, 1.0), ValueError,
           "unknown prior 'motionvae'"),
    raises("humanlib.experiments.results.WeightChoice", "unknown condition", lambda: WeightChoice("legs", "gmm", 1.0, 1.0, 1.0), ValueError,
           "unknown condition"),
    raises("humanlib.experiments.results.WeightChoice", "negative prior weight", lambda: WeightChoice("occ-legs", "gmm", 1.0, -1.0, 1.0),
           ValueError, "WeightChoice.prior_weight"),
    raises("humanlib.provenance.corpus_fingerprint", "clips instead of a corpus", lambda: runner.corpus_fingerprint(clips()), TypeError,
           "MotionCorpus"),
    raises("humanlib.priors.registry.canonical_prior_name", "unknown name",
           lambda: registry.canonical_prior_name("gmm-max"), ValueError, "unknown prior 'gmm-max'; choose from none, gmm"),
    raises("humanlib.priors.registry.canonical_prior_name", "a list of names",
           lambda: registry.canonical_prior_name(["gmm"]), TypeError, "prior name must be a str"),
    returns("humanlib.priors.registry.canonical_prior_name", "an old name is its alias",
            lambda: registry.canonical_prior_name("gmm-min"), lambda name: name == "gmm"),
    raises("humanlib.priors.registry.load_prior", "unknown name", lambda: runner.load_prior("humor"), ValueError, "unknown prior 'humor'"),
    raises("humanlib.priors.registry.load_prior", "no name", lambda: runner.load_prior(None), TypeError, "prior name must be a str"),
    raises(R + "load_priors", "unknown name", lambda: runner.load_priors(("none", "vposer2"), False), ValueError,
           "unknown prior 'vposer2'"),
    returns(R + "load_priors", "a comma-separated string (letters were names before)",
            lambda: runner.load_priors("none", False), lambda r: list(r[0]) == ["none"] and r[1] == {}),
    raises("humanlib.experiments.results.merge_results", "other seeds", lambda: runner.merge_results(results(), results(seed=1)), ValueError,
           "another seed"),
    raises("humanlib.experiments.results.merge_results", "another experiment (mixed rows before)", lambda: runner.merge_results(
           results(), results(row(experiment="denoise", condition="joints-4cm"))), ValueError, "another experiment"),
    raises("humanlib.experiments.results.merge_results", "a path instead of results", lambda: runner.merge_results("old.json", results()),
           TypeError, "old must be a ResultsFile"),
    raises("humanlib.experiments.settings.parse_ints", "letters", lambda: runner.parse_ints("60,abc", "--windows"), ValueError,
           "--windows must be comma-separated integers"),
    raises("humanlib.experiments.settings.parse_ints", "a window of 2", lambda: runner.parse_ints("2", "--windows"), ValueError, ">= 3"),
    raises("humanlib.experiments.settings.parse_ints", "a tuple with a fraction", lambda: runner.parse_ints((60, 120.5), "windows"), ValueError,
           "windows must be integers"),
    raises("humanlib.experiments.settings.parse_ints", "a tuple with True", lambda: runner.parse_ints((True,), "windows"), ValueError, "integers"),
    raises("humanlib.experiments.settings.parse_ints", "nothing", lambda: runner.parse_ints("", "--windows"), ValueError, ">= 3"),
    raises("humanlib.experiments.settings.parse_ints", "a number", lambda: runner.parse_ints(60, "windows"), TypeError, "windows must be"),
    raises("humanlib.experiments.settings.parse_priors", "nothing", lambda: runner.parse_priors(" , "), ValueError, "at least one prior"),
    raises("humanlib.experiments.settings.parse_priors", "unknown name", lambda: runner.parse_priors("none,gmm2"), ValueError, "unknown prior 'gmm2'"),
    raises("humanlib.experiments.settings.parse_priors", "a set of numbers", lambda: runner.parse_priors({1, 2}), TypeError, "priors must be"),
    raises("humanlib.experiments.results.read_results", "missing file", lambda: runner.read_results(tmp_file("absent.json")), FileNotFoundError,
           "does not exist.*humanlib experiment"),
    raises("humanlib.experiments.results.read_results", "a folder", lambda: runner.read_results(tempfile.mkdtemp()), FileNotFoundError,
           "is a directory"),
    raises("humanlib.experiments.results.read_results", "truncated JSON", lambda: runner.read_results(tmp_file("d.json", results_json()[:50])),
           ValueError, "not valid JSON"),
    raises("humanlib.experiments.results.read_results", "garbage bytes", lambda: runner.read_results(tmp_file("d.json", b"\x89PNG\r\n\x1a\n\x00")),
           ValueError, "not a results file.*not valid JSON"),
    raises("humanlib.experiments.results.read_results", "a JSON list", lambda: runner.read_results(tmp_file("d.json", "[1, 2]")), ValueError,
           "holds a JSON list"),
    raises("humanlib.experiments.results.read_results", "the weights file", lambda: runner.read_results(tmp_file("w.json", weights_json())),
           ValueError, "not a results file of format"),
    raises("humanlib.experiments.results.read_results", "another version's format", lambda: runner.read_results(tmp_file(
           "d.json", results_json(format="humanlib-experiment-results-0"))), ValueError, "another version of humanlib"),
    raises("humanlib.experiments.results.read_results", "no metadata", lambda: runner.read_results(tmp_file("d.json", json.dumps(
           {"format": runner.RESULTS_FORMAT, "rows": []}))), ValueError, "fields do not match.*'metadata'"),
    raises("humanlib.experiments.results.read_results", "a row with an unknown field", lambda: runner.read_results(tmp_file("d.json",
           results_json(rows=[runner.asdict(row()) | {"pa_mpjpe": 1.0}]))), ValueError, "fields do not match"),
    raises("humanlib.experiments.results.read_results", "an error stored as text", lambda: runner.read_results(tmp_file("d.json",
           results_json(rows=[runner.asdict(row()) | {"v2v_cm": "1.2"}]))), ValueError, "row 0 has invalid v2v_cm"),
    raises("humanlib.experiments.results.read_weights", "missing file", lambda: runner.read_weights(tmp_file("absent.json")), FileNotFoundError,
           "humanlib experiment tune"),
    raises("humanlib.experiments.results.read_weights", "garbage bytes", lambda: runner.read_weights(tmp_file("w.json", b"\xff\x00\xfe")),
           ValueError, "not valid JSON"),
    raises("humanlib.experiments.results.read_weights", "a results file", lambda: runner.read_weights(tmp_file("d.json", results_json())),
           ValueError, "not a weights file of format"),
    raises("humanlib.experiments.results.read_weights", "another version's format", lambda: runner.read_weights(tmp_file(
           "w.json", weights_json(format="humanlib-experiment-weights-2"))), ValueError, "another version"),
    raises("humanlib.experiments.results.read_weights", "a choice without its weights", lambda: runner.read_weights(tmp_file(
           "w.json", weights_json(chosen=[{"condition": "occ-legs", "prior": "gmm"}]))), ValueError,
           "not a valid weights file"),
    raises("humanlib.experiments.results.read_weights", "a negative weight", lambda: runner.read_weights(tmp_file("w.json", weights_json(
           chosen=[{"condition": "occ-legs", "prior": "gmm", "smooth_weight": -1.0, "prior_weight": 1.0,
                    "val_v2v_cm": 2.0}]))), ValueError, "smooth_weight"),
    raises("humanlib.experiments.settings.weights_for", "unknown prior (KeyError before)", lambda: runner.weights_for("occ-legs", "humor", None),
           ValueError, "unknown prior 'humor'"),
    raises("humanlib.experiments.settings.weights_for", "unknown condition", lambda: runner.weights_for("legs", "gmm", None), ValueError,
           "unknown condition"),
    raises("humanlib.experiments.settings.weights_for", "dicts instead of WeightChoice", lambda: runner.weights_for(
           "occ-legs", "gmm", [{"condition": "occ-legs"}]), TypeError, "WeightChoice"),
    returns("humanlib.experiments.settings.weights_for", "no choice: the defaults", lambda: runner.weights_for("occ-legs", "gmm", []),
            lambda r: r[2] == "default"),
    raises("humanlib.experiments.results.write_results", "a path of .csv (the JSON was overwritten by the CSV before)",
           lambda: runner.write_results(results(), tmp_file("denoise.csv")), ValueError, "must end in .json"),
    raises("humanlib.experiments.results.write_results", "a folder", lambda: runner.write_results(results(), Path(tempfile.mkdtemp(
           suffix=".json"))), IsADirectoryError, "is a folder"),
    raises("humanlib.experiments.results.write_results", "a NaN error (a diverged fit)", lambda: runner.write_results(results(row(v2v_cm=NAN)),
           tmp_file("d.json")), ValueError, "occ-legs/none/60"),
    raises("humanlib.experiments.results.write_results", "rows as dicts", lambda: runner.write_results(runner.ResultsFile(
           results().metadata, [runner.asdict(row())]), tmp_file("d.json")), TypeError, "ResultRow"),
    returns("humanlib.experiments.results.write_results", "a round trip keeps every field",
            lambda: runner.read_results(runner.write_results(results(), tmp_file("d.json"))), lambda r: r == results()),
    raises(R + "run_experiment", "a dict config", lambda: runner.run_experiment({"experiment": "denoise"}), TypeError,
           "config must be a ExperimentConfig"),
    raises(R + "run_experiment", "a model on another device than the config's", lambda: runner.run_experiment(
           ExperimentConfig("denoise", device="meta"), model=model(), clips=clips()), ValueError,
           "model is on cpu but config.device is 'meta'"),
    raises(R + "run_experiment", "fps 0", lambda: runner.run_experiment(ExperimentConfig("denoise"), model=model(),
           clips=clips(), fps=0.0), ValueError, "fps"),
    raises(R + "run_experiment", "a prior under an unknown name (KeyError at the end before)",
           lambda: runner.run_experiment(ExperimentConfig("denoise"), model=model(), clips=clips(), fps=30.0,
                                         priors={"quadratic": QuadraticPrior()}), ValueError, "unknown prior name"),
    raises(R + "run_experiment", "weights as a dict", lambda: runner.run_experiment(ExperimentConfig("denoise"),
           model=model(), clips=clips(), weights={"gmm": 1.0}), TypeError, "weights must be a list of WeightChoice"),
    raises(R + "tune_weights", "an ExperimentConfig", lambda: runner.tune_weights(ExperimentConfig("denoise")),
           TypeError, "config must be a TuneConfig"),
    raises(R + "tune_weights", "a prior that is not a PosePrior", lambda: runner.tune_weights(
           TuneConfig(priors=("none",)), model=model(), clips=clips(), priors={"none": None}), TypeError, "PosePrior"),
    raises(R + "tune_weights", "known_smooth as floats", lambda: runner.tune_weights(
           TuneConfig(priors=("none",)), model=model(), clips=clips(), priors={"none": NoPrior()},
           known_smooth={"occ-legs": 1.0}), TypeError, "known_smooth"),
    raises(R + "val_clips_at", "fps 0", lambda: runner.val_clips_at(0.0), ValueError, "fps"),
    raises(R + "val_clips_at", "unknown split", lambda: runner.val_clips_at(30.0, "validation"), ValueError, "split"),
]

def _latent_prior():
    from humanlib.priors import PosePrior

    class Latent(PosePrior):
        def energy(self, body_pose):
            return body_pose.square().sum(dim=(1, 2))

        def to_body_pose(self, params):
            return params.reshape(-1, 21, 3)

    return Latent()


_WINDOWS = Windows(torch.zeros(2, 3, 24, 3), torch.zeros(2, 3, 3), ["a", "b"], [0, 0], 30.0)
_ERRORS = protocol.SequenceErrors(1.0, 1.0, 1.0, [1.0, 1.0], [1.0, 1.0], [1.0, 1.0])

SOURCES = [
    raises("humanlib.experiments.results.source_group", "a ClipInfo instead of its source", lambda: runner.source_group(3), TypeError, "source"),
    returns("humanlib.experiments.results.source_group", "an AMASS sub-dataset stays itself", lambda: runner.source_group("amass/CMU"),
            lambda r: r == "amass/CMU"),
    raises("humanlib.experiments.results.errors_by_source", "sources a list", lambda: runner.errors_by_source(_ERRORS, _WINDOWS, ["cmu"]),
           TypeError, "sources"),
    raises("humanlib.experiments.results.errors_by_source", "windows a tensor",
           lambda: runner.errors_by_source(_ERRORS, torch.zeros(1), {"a": "cmu"}), TypeError, "Windows"),
    raises("humanlib.experiments.results.errors_by_source", "the row's mean errors instead of sequence_errors'",
           lambda: runner.errors_by_source({"v2v_cm": 1.0}, _WINDOWS, {"a": "cmu"}), TypeError, "SequenceErrors"),
    raises("humanlib.experiments.results.errors_by_source", "errors of other windows",
           lambda: runner.errors_by_source(protocol.SequenceErrors(1.0, 1.0, 1.0, [1.0], [1.0], [1.0]), _WINDOWS, {}),
           ValueError, "another number of windows"),
]

SOURCES += [
    raises("humanlib.experiments.diagnostics.latent_fit_study", "a pose-space prior",
           lambda: diagnostics.latent_fit_study(None, NoPrior(), None, None, MotionFitConfig()), TypeError, "latent PosePrior"),
    raises("humanlib.experiments.diagnostics.latent_fit_study", "config a dict",
           lambda: diagnostics.latent_fit_study(None, _latent_prior(), None, None, {}), TypeError, "MotionFitConfig"),
]

CASES = PROTOCOL + MOTION_FIT + DIAGNOSTICS + TABLES + FIGURES + RUNNER + SOURCES

EXEMPT = {
    "humanlib.experiments.diagnostics.PoseProbe": "result record built by probe_poses, never from user input",
    "humanlib.experiments.diagnostics.WeightCurve": "result record built by weight_curve, never from user input",
    "humanlib.experiments.diagnostics.LatentFitRun": "result record built by latent_fit_study, never from user input",
    "humanlib.experiments.diagnostics.EncoderRobustness": "result record built by encoder_robustness, never from user input",
    P + "Observation": "result record built by make_observation; fit_motion checks its tensors",
    P + "SequenceErrors": "result record built by sequence_errors, never from user input",
    M + "MotionFitResult": "result record built by fit_motion, never from user input",
    D + "Separation": "result record built by energy_separation, never from user input",
    "humanlib.experiments.results.ResultRow": "result record built by run_experiment; read_results validates rows read from files",
    "humanlib.experiments.results.RunMetadata": "result record built by run_experiment; read_results validates metadata read from files",
    "humanlib.experiments.results.ResultsFile": "result record built by run_experiment or read_results; consumers check its type",
    "humanlib.provenance.git_commit": "takes no arguments; returns 'unknown' when git is unavailable",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


# --------------------------------------------------------------------------- properties

SHAPES = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@settings(max_examples=25, deadline=None)
@given(shape=SHAPES)
def test_add_pose_noise_rejects_every_shape_but_24_by_3(shape):
    """Any shape that does not end in (24, 3) is a ValueError naming ``poses``; one that does keeps its shape."""
    x = torch.zeros(shape)
    if shape[-2:] == (24, 3):
        assert protocol.add_pose_noise(x, 0.1, gen()).shape == shape
    else:
        with pytest.raises(ValueError, match=r"poses must have shape \(\.\.\., 24, 3\)"):
            protocol.add_pose_noise(x, 0.1, gen())


@settings(max_examples=25, deadline=None)
@given(total=st.integers(0, 200), count=st.one_of(st.none(), st.integers(1, 50)))
def test_evenly_spaced_gives_sorted_distinct_indices_in_range(total, count):
    idx = protocol.evenly_spaced(total, count)
    assert idx == sorted(set(idx)) and all(0 <= i < total for i in idx)
    assert len(idx) == (total if count is None else min(count, total))
    assert not idx or idx[0] == 0


@settings(max_examples=25, deadline=None)
@given(data=st.data(), w=st.integers(1, 2), t=st.integers(3, 4))
def test_check_observation_accepts_any_binary_mask_that_sees_each_window(data, w, t):
    """Random 0/1 masks: valid exactly when every window observes a joint; the error names the blind windows."""
    bits = data.draw(st.lists(st.booleans(), min_size=w * t * 24, max_size=w * t * 24))
    seen = data.draw(st.lists(st.booleans(), min_size=w, max_size=w))  # windows that may see joints at all
    mask = torch.tensor(bits, dtype=torch.float32).reshape(w, t, 24) * torch.tensor(seen, dtype=torch.float32)[:, None, None]
    blind = [i for i in range(w) if not bool(mask[i].any())]
    joints, init = torch.zeros(w, t, 24, 3), torch.zeros(w, t, 21, 3)
    if blind:
        with pytest.raises(ValueError, match=re.escape(f"window(s) {blind} observe no joint")):
            motion_fit.check_observation(joints, mask, init)
    else:
        motion_fit.check_observation(joints, mask, init)


@settings(max_examples=25, deadline=None)
@given(poses=st.lists(st.floats(-3.0, 3.0), min_size=2 * 24 * 3, max_size=2 * 24 * 3))
def test_joint_angle_error_is_finite_symmetric_and_zero_on_the_diagonal(poses):
    a = torch.tensor(poses, dtype=torch.float64).reshape(2, 24, 3)
    b = a.flip(0)
    err = protocol.joint_angle_error(a, b)
    assert bool(torch.isfinite(err).all()) and bool((err >= 0).all()) and bool((err <= 180 + 1e-6).all())
    torch.testing.assert_close(err, protocol.joint_angle_error(b, a))
    assert float(protocol.joint_angle_error(a, a).max()) < 1e-3


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3))
def test_results_files_round_trip_any_finite_errors(values):
    r = results(row(v2v_cm=values[0], joint_angle_deg=values[1], joint_cm=values[2]))
    assert runner.read_results(runner.write_results(r, tmp_file("d.json"))) == r


def test_committed_results_and_weights_still_read():
    """The stricter readers accept every results file the repository ships."""
    from humanlib.paths import REPO_DIR

    folder = REPO_DIR / "results" / "experiments"
    for name in ("denoise.json", "occlusion.json"):
        if (folder / name).is_file():
            assert runner.read_results(folder / name).rows
    if (folder / "weights_val.json").is_file():
        assert runner.read_weights(folder / "weights_val.json")[0]


def test_deepcopy_of_results_still_merges():
    """merge_results keeps working on copies (its type checks do not rely on identity)."""
    old = results(row(prior="none"), row(prior="gmm"))
    new = copy.deepcopy(old)
    new.rows = [r for r in new.rows if r.prior == "gmm"]
    assert len(runner.merge_results(old, new).rows) == 2
