"""Bad inputs to HuMoR (humanlib.priors.humor_state, _model, _data, _train, _eval): a clear error or a defined result.

Defined behaviours pinned here:

* states and motions with NaN/inf raise (a rollout that leaves the finite numbers is the one
  place NaN is produced, and :func:`rollout_metrics` counts it rather than raising);
* a window shorter than the model's context (a transition needs the frame before it for its
  velocities) raises, naming the frames needed;
* a checkpoint of another body model, corpus or format is refused in one line naming the mismatch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case

from humanlib.body import SkeletonJoints, load_body_model
from humanlib.data import load_corpus
from humanlib.experiments import humor_floor as hfl
from humanlib.experiments import humor_method as hxm
from humanlib.experiments.results import run_cells
from humanlib.experiments.runner import TuneConfig, tune_weights
from humanlib.priors import humor_data as hd
from humanlib.priors import humor_eval as he
from humanlib.priors import humor_fit as hf
from humanlib.priors import humor_model as hm
from humanlib.priors import humor_state as hs
from humanlib.priors import humor_train as ht

S, M, D, T, E = ("humanlib.priors.humor_state.", "humanlib.priors.humor_model.", "humanlib.priors.humor_data.",
                 "humanlib.priors.humor_train.", "humanlib.priors.humor_eval.")
F = "humanlib.priors.humor_fit."
NAN = float("nan")
SMALL = hm.HumorConfig(latent_dim=4, hidden=8, layers=1)
_TMP = Path(tempfile.mkdtemp(prefix="humanlib-humor-bad-"))
_JM = SkeletonJoints(load_body_model())
_TEST = load_corpus("test")


def _motion(T: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    p, t = _TEST.clip(0)
    return p[:T].clone(), t[:T].clone()


def _states(T: int = 6) -> torch.Tensor:
    return hs.motion_to_state(*_motion(T), _JM, 30.0)


def _model() -> hm.HumorModel:
    torch.manual_seed(0)
    return hm.HumorModel(SMALL, _JM)


def _nan(x: torch.Tensor, index=(0, 0)) -> torch.Tensor:
    x = x.clone()
    x[index] = NAN
    return x


def _joints(T: int = 4) -> torch.Tensor:
    return torch.zeros(T, hs.NUM_STATE_JOINTS, 3)


def _small_corpus(split: str = "train", fps: float = 30.0):
    import dataclasses

    c = _TEST
    n = c.clips[0].num_frames + c.clips[1].num_frames
    return dataclasses.replace(c, split=split, poses=c.poses[:n], transl=c.transl[:n], clip_index=c.clip_index[:n],
                               clips=c.clips[:2], fps=fps)


def _saved(**meta) -> Path:
    path = _TMP / f"h{len(list(_TMP.iterdir()))}.pt"
    return ht.save_humor(_model(), path, meta)


def _foreign() -> Path:
    path = _TMP / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, path)
    return path


def _garbage() -> Path:
    path = _TMP / "garbage.pt"
    path.write_bytes(b"not a checkpoint")
    return path


def _fit_args(T: int = 4, **change) -> tuple:
    """(model, joints, mask, init_poses, init_transl) of a tiny fit; ``change`` edits the observation."""
    p, t = _motion(T)
    joints = hs.joint_positions(p, t, _JM)[None].clone()
    mask = torch.ones(joints.shape[:3])
    if "nan_observed" in change:
        joints[0, 1, 3] = NAN
    if "frame_missing" in change:
        mask[0, 2] = 0
    if "nan_missing" in change:
        joints[0, 1, 3] = NAN
        mask[0, 1, 3] = 0
    return _model_fit(), joints, mask, p[None], t[None]


def _model_fit() -> hm.HumorModel:
    m = _model()
    s = _states(6)
    m.set_normalization(s[:-1], s[1:])
    return m


_FIT_FAST = hf.HumorFitConfig(segment=3, stage_iterations=(1, 1, 1))

X = "humanlib.experiments.humor_method."
XF = "humanlib.experiments.humor_floor."
_BODY = load_body_model()


def _obs(T: int = 4, nan: bool = False):
    from humanlib.experiments.protocol import Observation

    joints = torch.zeros(1, T, 24, 3)
    if nan:
        joints[0, 1, 3] = NAN
    return Observation(joints, torch.ones(1, T, 24), torch.zeros(1, T, 21, 3), None)


def _method_args(T: int = 4, nan: bool = False) -> tuple:
    """(body, humor model, gmm prior, observation, start config) of a HuMoR method fit."""
    from humanlib.experiments.motion_fit import MotionFitConfig
    from humanlib.priors.registry import load_prior

    return _BODY, _model_fit(), load_prior("gmm"), _obs(T, nan), MotionFitConfig(iterations=1, warmup_iterations=0)


def _windows(T: int = 4):
    from humanlib.experiments.protocol import Windows

    p, t = _motion(T)
    return Windows(p[None], t[None], ["clip"], [0], 30.0)


_CFG = ht.HumorTrainConfig(model=SMALL, window=3, batch_size=2, steps=1, val_every=1, num_val=2)

CASES = [
    # ------------------------------------------------------------------ state
    raises(S + "motion_to_state", "NaN pose", lambda: hs.motion_to_state(_nan(_motion()[0]), _motion()[1], _JM, 30.0),
           ValueError, r"poses contains 3 non-finite"),
    raises(S + "motion_to_state", "one frame (no velocity)", lambda: hs.motion_to_state(*_motion(1), _JM, 30.0),
           ValueError, r"at least 2 frames"),
    raises(S + "motion_to_state", "translations of other frames",
           lambda: hs.motion_to_state(_motion(5)[0], _motion(4)[1], _JM, 30.0), ValueError, r"transl must have shape"),
    raises(S + "motion_to_state", "fps 0", lambda: hs.motion_to_state(*_motion(), _JM, 0.0), ValueError, r"fps"),
    raises(S + "motion_to_state", "a body model instead of its joints",
           lambda: hs.motion_to_state(*_motion(), load_body_model(), 30.0), TypeError, r"joints_model must be"),
    raises(S + "joint_positions", "63-number poses", lambda: hs.joint_positions(torch.zeros(2, 21, 3), torch.zeros(2, 3), _JM),
           ValueError, r"poses must have shape"),
    raises(S + "joint_positions", "not a joints model", lambda: hs.joint_positions(*_motion(), "smpl"), TypeError,
           r"joints_model must be"),
    raises(S + "state_to_motion", "a state of the wrong size", lambda: hs.state_to_motion(torch.zeros(3, 272)),
           ValueError, r"state must have shape \(\.\.\., 273\)"),
    raises(S + "state_to_motion", "NaN state", lambda: hs.state_to_motion(_nan(_states())), ValueError, r"non-finite"),
    raises(S + "contact_labels", "one frame", lambda: hs.contact_labels(_joints(1), 30.0), ValueError, r"at least 2 frames"),
    raises(S + "contact_labels", "24 joints", lambda: hs.contact_labels(torch.zeros(4, 24, 3), 30.0), ValueError,
           r"joints must have shape"),
    raises(S + "contact_labels", "negative speed threshold", lambda: hs.contact_labels(_joints(), 30.0, speed=-1.0),
           ValueError, r"speed"),
    raises(S + "contact_labels", "a string floor", lambda: hs.contact_labels(_joints(), 30.0, floor="0"), TypeError,
           r"floor must be a number"),
    returns(S + "contact_labels", "an empty batch gives no labels", lambda: hs.contact_labels(torch.zeros(0, 4, 22, 3), 30.0),
            lambda c: c.shape == (0, 4, len(hs.CONTACT_JOINTS))),
    # ------------------------------------------------------------------ model
    raises(M + "HumorConfig", "zero latent size", lambda: hm.HumorConfig(latent_dim=0), ValueError, r"latent_dim"),
    raises(M + "HumorConfig", "a float width", lambda: hm.HumorConfig(hidden=2.5), TypeError, r"hidden"),
    returns(M + "TransitionOutput", "a record of the forward pass",
            lambda: _model()(_states()[:-1], _states()[1:]), lambda o: isinstance(o, hm.TransitionOutput)),
    raises(M + "gaussian_kl", "shapes that differ", lambda: hm.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3),
                                                                         torch.zeros(2, 4), torch.zeros(2, 3)),
           ValueError, r"p_mu must have shape \(2, 3\)"),
    raises(M + "gaussian_kl", "NaN log-variance", lambda: hm.gaussian_kl(torch.zeros(2, 3), _nan(torch.zeros(2, 3)),
                                                                       torch.zeros(2, 3), torch.zeros(2, 3)),
           ValueError, r"q_logvar contains"),
    raises(M + "config_dict", "a dict instead of a config", lambda: hm.config_dict({"latent_dim": 4}), TypeError,
           r"HumorConfig"),
    raises(M + "to_heading_frame", "different shapes", lambda: hm.to_heading_frame(_states()[:2], _states()[:3]),
           ValueError, r"state must have shape \(2, 273\)"),
    raises(M + "from_heading_frame", "NaN reference", lambda: hm.from_heading_frame(_nan(_states()), _states()),
           ValueError, r"reference contains"),
    raises(M + "HumorModel", "a body model instead of its joints", lambda: hm.HumorModel(SMALL, load_body_model()),
           TypeError, r"joints_model must be"),
    raises(M + "HumorModel", "a dict config", lambda: hm.HumorModel({"latent_dim": 4}, _JM), TypeError, r"HumorConfig"),
    raises(M + "HumorModel.set_normalization", "one transition", lambda: _model().set_normalization(_states()[:1], _states()[1:2]),
           ValueError, r"at least 2 transitions"),
    raises(M + "HumorModel.prior_params", "float64 states", lambda: _model().prior_params(_states().double()),
           ValueError, r"prev must have dtype torch.float32"),
    raises(M + "HumorModel.forward", "batches that differ", lambda: _model()(_states()[:2], _states()[:3]),
           ValueError, r"cur must have shape \(2, 273\)"),
    raises(M + "HumorModel.forward", "NaN state", lambda: _model()(_nan(_states()), _states()), ValueError,
           r"prev contains"),
    raises(M + "HumorModel.forward", "a seed instead of a generator", lambda: _model()(_states(), _states(), 0),
           TypeError, r"generator"),
    raises(M + "HumorModel.decode", "a latent of the wrong size", lambda: _model().decode(_states(), torch.zeros(6, 5)),
           ValueError, r"z must have shape \(6, 4\)"),
    raises(M + "HumorModel.sample_latent", "a state without batch", lambda: _model().sample_latent(_states()[0]),
           ValueError, r"prev must have shape"),
    raises(M + "HumorModel.rollout", "zero frames", lambda: _model().rollout(_states(), 0), ValueError, r"num_frames"),
    raises(M + "HumorModel.rollout", "NaN start", lambda: _model().rollout(_nan(_states()), 3), ValueError, r"start contains"),
    # ------------------------------------------------------------------ data
    returns(D + "default_cache_folder", "HUMANLIB_CACHE_DIR is honoured",
            lambda: hd.default_cache_folder(), lambda p: str(p).endswith("humor/corpus30")),
    raises(D + "rebuild_corpus_30fps", "raw archives missing",
           lambda: hd.rebuild_corpus_30fps(_TMP / "out30", raw_dir=_TMP / "no-raw"), ValueError, r"raw mocap folder not found"),
    raises(D + "rebuild_corpus_30fps", "a number as folder", lambda: hd.rebuild_corpus_30fps(3), TypeError, r"out_dir"),
    raises(D + "load_humor_corpus", "unknown split", lambda: hd.load_humor_corpus("training"), ValueError, r"split must be"),
    raises(D + "load_humor_corpus", "no 30 fps corpus and no rebuild",
           lambda: hd.load_humor_corpus("train", _TMP / "empty", rebuild=False), FileNotFoundError, r"no 30 fps corpus"),
    raises(D + "load_humor_corpus", "rebuild as a string", lambda: hd.load_humor_corpus("train", rebuild="yes"), TypeError,
           r"rebuild must be"),
    raises(D + "motion_windows", "one-frame windows", lambda: hd.motion_windows(_TEST, 1), ValueError, r"length must be >= 2"),
    raises(D + "motion_windows", "a tensor instead of a corpus", lambda: hd.motion_windows(torch.zeros(3), 4), TypeError,
           r"MotionCorpus"),
    returns(D + "motion_windows", "windows longer than every clip give none", lambda: hd.motion_windows(_TEST, 10**6),
            lambda w: w[0].shape[0] == 0 and w[1].shape == (0, 10**6, 3)),
    # ------------------------------------------------------------------ training
    raises(T + "HumorTrainConfig", "a window too short for the context", lambda: ht.HumorTrainConfig(window=2),
           ValueError, r"window must be >= 3"),
    raises(T + "HumorTrainConfig", "sampling that ends before it starts",
           lambda: ht.HumorTrainConfig(sample_start=10, sample_end=5), ValueError, r"sample_end"),
    raises(T + "HumorTrainConfig", "negative KL weight", lambda: ht.HumorTrainConfig(kl_weight=-1.0), ValueError, r"kl_weight"),
    returns(T + "HumorTrainResult", "a record of a run", lambda: ht.HumorTrainResult(_model(), [], 0.0),
            lambda r: r.history == []),
    raises(T + "kl_beta", "negative step", lambda: ht.kl_beta(-1, _CFG), ValueError, r"step"),
    raises(T + "kl_beta", "a dict config", lambda: ht.kl_beta(1, {}), TypeError, r"HumorTrainConfig"),
    raises(T + "sampling_probability", "a float step", lambda: ht.sampling_probability(1.5, _CFG), TypeError, r"step"),
    raises(T + "window_states", "windows shorter than the context", lambda: ht.window_states(
        _motion(2)[0][None], _motion(2)[1][None], _JM), ValueError, r"at least 3 frames"),
    raises(T + "window_states", "NaN observations", lambda: ht.window_states(
        _nan(_motion()[0])[None], _motion()[1][None], _JM), ValueError, r"non-finite"),
    raises(T + "window_loss", "p_own above 1", lambda: ht.window_loss(_model(), _states()[None], torch.zeros(1, 6, 10), 1.0, 1.5),
           ValueError, r"p_own must be a probability"),
    raises(T + "window_loss", "a single frame", lambda: ht.window_loss(_model(), _states()[None, :1], torch.zeros(1, 1, 10), 1.0, 0.0),
           ValueError, r"at least 2 frames"),
    raises(T + "window_loss", "not a model", lambda: ht.window_loss(None, _states()[None], torch.zeros(1, 6, 10), 1.0, 0.0),
           TypeError, r"HumorModel"),
    raises(T + "corpus_digest", "a tensor", lambda: ht.corpus_digest(torch.zeros(3)), TypeError, r"MotionCorpus"),
    raises(T + "body_digest", "a body model", lambda: ht.body_digest(load_body_model()), TypeError, r"SkeletonJoints"),
    raises(T + "train_humor", "a 10 fps corpus", lambda: ht.train_humor(_small_corpus(fps=10.0), _small_corpus("val"), _CFG,
                                                                         _TMP / "run"), ValueError, r"train is at 10 fps, the model's config at 30 fps"),
    raises(T + "train_humor", "clips shorter than a window",
           lambda: ht.train_humor(_small_corpus(), _small_corpus("val"), ht.HumorTrainConfig(window=10**5), _TMP / "run"),
           ValueError, r"shorter than a window"),
    raises(T + "train_humor", "resume without a checkpoint",
           lambda: ht.train_humor(_small_corpus(), _small_corpus("val"), _CFG, _TMP / "none", resume=True, joints_model=_JM),
           FileNotFoundError, r"nothing to resume"),
    raises(T + "train_humor", "a dict config", lambda: ht.train_humor(_small_corpus(), _small_corpus("val"), {}, _TMP),
           TypeError, r"HumorTrainConfig"),
    raises(T + "save_humor", "a state dict instead of a model", lambda: ht.save_humor({}, _TMP / "x.pt"), TypeError,
           r"HumorModel"),
    raises(T + "load_humor", "a missing file", lambda: ht.load_humor(_TMP / "missing.pt", _JM), FileNotFoundError,
           r"no HuMoR checkpoint"),
    raises(T + "load_humor", "another format", lambda: ht.load_humor(_foreign(), _JM), ValueError, r"not a HuMoR checkpoint"),
    raises(T + "load_humor", "not a torch file", lambda: ht.load_humor(_garbage(), _JM), ValueError, r"not a readable"),
    raises(T + "load_humor", "another corpus", lambda: ht.load_humor(_saved(data={"train": "A"}), _JM, train_digest="B"),
           ValueError, r"trained on another corpus"),
    # ------------------------------------------------------------------ evaluation
    raises(E + "RolloutEvalConfig", "zero starts", lambda: he.RolloutEvalConfig(num_starts=0), ValueError, r"num_starts"),
    raises(E + "rollout_metrics", "a floor per frame", lambda: he.rollout_metrics(_states()[None], torch.zeros(6), 5.0),
           ValueError, r"floor must have shape \(1,\)"),
    raises(E + "rollout_metrics", "zero speed range", lambda: he.rollout_metrics(_states()[None], torch.zeros(1), 0.0),
           ValueError, r"max_speed"),
    returns(E + "rollout_metrics", "all-NaN rollouts count as not finite",
            lambda: he.rollout_metrics(torch.full((1, 3, hs.STATE_DIM), NAN), torch.zeros(1), 5.0),
            lambda r: r["finite"] == 0.0 and r["feet_on_floor"] == 0.0),
    raises(E + "evaluate_humor", "a corpus at 10 fps", lambda: he.evaluate_humor(_model(), None, _small_corpus("test", 10.0)),
           ValueError, r"10 fps, the model at 30"),
    raises(E + "evaluate_humor", "a dict config", lambda: he.evaluate_humor(_model(), {}), TypeError, r"RolloutEvalConfig"),
    # ------------------------------------------------------------------ test-time optimisation
    raises(F + "HumorFitConfig", "a segment of one frame", lambda: hf.HumorFitConfig(segment=1), ValueError,
           r"segment must be >= 2"),
    raises(F + "HumorFitConfig", "negative floor weight", lambda: hf.HumorFitConfig(floor_weight=-1.0), ValueError,
           r"floor_weight"),
    raises(F + "HumorFitConfig", "two stage counts", lambda: hf.HumorFitConfig(stage_iterations=(5, 5)), TypeError,
           r"stage_iterations must be a tuple of 3"),
    raises(F + "HumorFitConfig", "NaN floor", lambda: hf.HumorFitConfig(floor=NAN), ValueError, r"floor must be a finite"),
    returns(F + "HumorFitResult", "a record of the fit",
            lambda: hf.fit_humor(*_fit_args(), _FIT_FAST), lambda r: isinstance(r, hf.HumorFitResult)),
    raises(F + "segment_starts", "one frame", lambda: hf.segment_starts(1, 5), ValueError, r">= 2"),
    raises(F + "segment_starts", "a float segment", lambda: hf.segment_starts(10, 2.5), TypeError, r"segment"),
    returns(F + "segment_starts", "a window shorter than a segment is one segment",
            lambda: hf.segment_starts(3, 10), lambda r: r == [0]),
    raises(F + "tto_energy", "a dict config", lambda: hf.tto_energy(_model_fit(), None, None, None, None, {}, []),
           TypeError, r"HumorFitConfig"),
    raises(F + "fit_humor", "a window shorter than the model's context",
           lambda: hf.fit_humor(*[a[:, :1] if i else a for i, a in enumerate(_fit_args())], _FIT_FAST),
           ValueError, r"shorter than the model's context"),
    raises(F + "fit_humor", "a frame with every joint missing", lambda: hf.fit_humor(*_fit_args(frame_missing=1), _FIT_FAST),
           ValueError, r"frame 2 observes none of joints"),
    raises(F + "fit_humor", "a NaN observed joint", lambda: hf.fit_humor(*_fit_args(nan_observed=1), _FIT_FAST),
           ValueError, r"NaN/inf observed joint"),
    returns(F + "fit_humor", "NaN in a missing joint is ignored",
            lambda: hf.fit_humor(*_fit_args(nan_missing=1), _FIT_FAST), lambda r: bool(torch.isfinite(r.joints).all())),
    raises(F + "fit_humor", "a pose prior instead of a HuMoR model", lambda: hf.fit_humor("gmm", *_fit_args()[1:]),
           TypeError, r"model must be a HumorModel"),
    raises(F + "fit_humor", "23 joints", lambda: hf.fit_humor(_model_fit(), torch.zeros(1, 4, 23, 3), torch.ones(1, 4, 23),
                                                            *_fit_args()[3:]), ValueError, r"22 or 24 joints"),
    raises(F + "fit_humor", "a start of other frames",
           lambda: hf.fit_humor(*_fit_args()[:3], _fit_args(5)[3], _fit_args()[4]), ValueError, r"init_poses must have shape"),
    raises(F + "fit_humor", "a mask of 0.5", lambda: hf.fit_humor(*_fit_args()[:2], 0.5 * _fit_args()[2], *_fit_args()[3:]),
           ValueError, r"mask must hold only 0"),
    raises(F + "fit_humor", "a dict config", lambda: hf.fit_humor(*_fit_args(), {}), TypeError, r"HumorFitConfig"),
    # HuMoR as a method of the motion experiments
    raises(X + "fit_humor_method", "windows shorter than the model's context",
           lambda: hxm.fit_humor_method(*_method_args(T=2), 1.0, 1.0), ValueError, r"shorter than HuMoR's context"),
    raises(X + "fit_humor_method", "a NaN observed joint", lambda: hxm.fit_humor_method(*_method_args(nan=True), 1.0, 1.0),
           ValueError, r"1 NaN/inf observed joint\(s\); mark missing joints with mask = 0"),
    raises(X + "fit_humor_method", "a checkpoint path instead of the model",
           lambda: hxm.fit_humor_method(_BODY, "humor_open.pt", *_method_args()[2:], 1.0, 1.0), TypeError,
           r"humor_model must be a HumorModel"),
    raises(X + "fit_humor_method", "a dict observation",
           lambda: hxm.fit_humor_method(*_method_args()[:3], {}, _method_args()[4], 1.0, 1.0), TypeError,
           r"obs must be an Observation"),
    raises(X + "fit_humor_method", "a negative prior weight", lambda: hxm.fit_humor_method(*_method_args(), -1.0, 1.0),
           ValueError, r"prior_weight"),
    raises(X + "fit_humor_method", "a prior name instead of the GMM prior",
           lambda: hxm.fit_humor_method(*_method_args()[:2], "gmm", *_method_args()[3:], 1.0, 1.0), TypeError,
           r"gmm_prior must be a PosePrior"),
    raises(X + "humor_weights", "an unknown condition", lambda: hxm.humor_weights("joints-5cm", None), ValueError,
           r"unknown condition"),
    raises(X + "humor_weights", "a dict of choices", lambda: hxm.humor_weights("joints-4cm", {}), TypeError,
           r"choices must be a list of WeightChoice"),
    returns(X + "humor_weights", "no choices: the defaults", lambda: hxm.humor_weights("joints-4cm", []),
            lambda r: r == (*hxm.DEFAULT_HUMOR_WEIGHTS, "default")),
    # the follow-floor diagnostic (clean joints)
    raises(XF + "clean_observation", "a tensor instead of windows",
           lambda: hfl.clean_observation(_BODY, torch.zeros(1)), TypeError, r"windows must be"),
    raises(XF + "follow_floor", "windows that are a tensor",
           lambda: hfl.follow_floor(_BODY, torch.zeros(1), None, _method_args()[4]), TypeError, r"windows must be"),
    raises(XF + "follow_floor", "a model instead of the method",
           lambda: hfl.follow_floor(_BODY, _windows(), _model_fit(), _method_args()[4]), TypeError,
           r"method must be a HumorMethod"),
    raises(XF + "follow_floor", "no prior weights",
           lambda: hfl.follow_floor(_BODY, _windows(), hxm.HumorMethod(_model_fit(), _method_args()[2]),
                                    _method_args()[4], prior_weights=()), ValueError, r"prior_weights must be a non-empty"),
    raises(XF + "follow_floor", "a dict start config",
           lambda: hfl.follow_floor(_BODY, _windows(), hxm.HumorMethod(_model_fit(), _method_args()[2]), {}), TypeError,
           r"start_config must be a MotionFitConfig"),
    raises(X + "tune_humor", "windows that are a tensor",
           lambda: hxm.tune_humor("joints-4cm", _method_args()[3], torch.zeros(1), None, *_method_args()[:3],
                                  _method_args()[4]), TypeError, r"windows must be"),
    raises(X + "tune_humor", "windows shorter than the model's context",
           lambda: hxm.tune_humor("joints-4cm", _obs(2), _windows(2), None, *_method_args()[:3], _method_args()[4]),
           ValueError, r"shorter than HuMoR's context"),
    raises(X + "HumorMethod.load", "a skeleton instead of the body model", lambda: hxm.HumorMethod.load(_JM),
           TypeError, r"model"),
    raises(X + "HumorMethod.load", "a prior name", lambda: hxm.HumorMethod.load(_BODY, "gmm"), TypeError,
           r"gmm_prior must be a PosePrior"),
    raises(X + "HumorMethod.row", "a NaN observed joint",
           lambda: hxm.HumorMethod(_model_fit(), _method_args()[2]).row(
               "denoise", "joints-4cm", 4, _windows(), _obs(nan=True), _BODY, None, (None, 1.0), _method_args()[4], None, {}),
           ValueError, r"NaN/inf observed"),
    returns(X + "HumorMethod", "a model and a prior, as given",
            lambda: hxm.HumorMethod(_model_fit(), _method_args()[2]), lambda r: isinstance(r.model, hm.HumorModel)),
    returns(X + "HumorFit", "a record of the method's fit",
            lambda: hxm.HumorFit(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), 0.0, 0),
            lambda r: r.evaluations == 0),
    raises("humanlib.experiments.results.run_cells", "a run without priors",
           lambda: run_cells({"command": "x"}, {("joints-4cm", "gmm")}), TypeError, r"run must be a previous_runs entry"),
    returns("humanlib.experiments.results.run_cells", "a run of other conditions covers nothing",
            lambda: run_cells({"priors": ["gmm"], "conditions": ["occ-legs"]}, {("joints-4cm", "gmm")}),
            lambda r: r == set()),
    raises("humanlib.experiments.runner.tune_weights", "known choices as a dict",
           lambda: tune_weights(TuneConfig(priors=("none",)), known_choices={}), TypeError,
           r"known_choices must be a list of WeightChoice"),
]

EXEMPT = {
    "humanlib.commands.humor.add_subcommand": "registers CLI parsers; the command's bad arguments are swept in tests/test_bad_inputs_humor.py",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


@pytest.mark.parametrize("argv, message", [
    (["train-humor", "--out", "x", "--steps", "0"], r"--steps: must be > 0"),
    (["train-humor", "--out", "x", "--sample-start", "10", "--sample-end", "5"], r"--sample-end \(5\) must be >= --sample-start"),
    (["train-humor", "--out", "x", "--window", "2"], r"--window must be >= 3"),
    (["eval-humor", "--checkpoint", "/no/such/humor.pt", "--out", "x.json"], r"--checkpoint"),
])
def test_commands_end_in_one_line(argv, message, tmp_path, monkeypatch, capsys):
    from humanlib import cli

    monkeypatch.chdir(tmp_path)
    try:
        status = cli.main(argv)
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err
    assert status in (1, 2) and len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_train_command_refuses_a_10_fps_corpus(tmp_path, capsys):
    from humanlib import cli
    from humanlib.data.corpus import default_corpus_dir

    argv = ["train-humor", "--out", str(tmp_path / "run"), "--corpus", str(default_corpus_dir()), "--no-progress"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("humanlib: error:") and "stores train at 10.0 fps, not 30" in err and len(err.splitlines()) == 1
