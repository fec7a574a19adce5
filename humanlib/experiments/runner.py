"""Running the experiments: priors by name, weights chosen on val, results files, the command line.

``humanlib experiment denoise`` and ``humanlib experiment occlusion`` run
``humanlib.experiments.runner.run_experiment``: for every data condition and window length they cut a fixed subset of
test windows, corrupt them once (seeded), fit every prior to the *same* observation with
``humanlib.experiments.motion_fit.fit_motion`` and write one row per
(condition, window length, prior) to a JSON results file (plus a CSV copy) that records the
command, git commit, machine, seed, sizes and timings.

``humanlib experiment tune`` chooses the weights on the **val** split (never on test):
first the smoothness weight with no prior, then each prior's weight with that smoothness,
per condition, on a grid; the experiments read the chosen weights from its file.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from datetime import datetime, timezone

import torch

from humanlib._validate import check_positive
from humanlib.experiments.motion_fit import MotionFitConfig, fit_motion
from humanlib.experiments.protocol import (
    EXPERIMENT_CONDITIONS, Windows, _check_model, body_joints_of, clean_vertices, condition_by_name, corpus_clips,
    cut_windows, make_observation, sequence_acceleration_error, sequence_errors,
)
from humanlib.experiments.results import (
    PRIOR_NAMES, RESULTS_FORMAT, WEIGHTS_FORMAT, ResultRow, ResultsFile, RunMetadata, WeightChoice,
    errors_by_source, merge_results, read_results, read_weights, source_group, write_results,
)
from humanlib.priors import PosePrior
from humanlib.priors.registry import PoseSpacePrior, load_prior  # re-exported: the experiments' names
from humanlib.provenance import corpus_fingerprint, git_commit, machine_description  # re-exported: results writers' old names
from humanlib.experiments.settings import (  # re-exported: import them from here
    DEFAULT_PRIOR_WEIGHTS, DEFAULT_SMOOTH_WEIGHT, SMOOTH_GRID, PRIOR_GRIDS, TEST_FPS, parse_priors, parse_ints,
    _check_split, weights_for, ExperimentConfig, TuneConfig,
)


def load_priors(names: tuple[str, ...], allow_missing: bool) -> tuple[dict[str, PosePrior], dict[str, str]]:
    """Load priors by name; a missing file is fatal unless ``allow_missing`` (then recorded).

    Raises:
        TypeError, ValueError: names as ``humanlib.experiments.runner.parse_priors`` rejects them.
        FileNotFoundError: a prior's file is missing and not ``allow_missing``.
    """
    names = parse_priors(names)
    priors, missing = {}, {}
    for name in names:
        if name == "humor":  # a motion prior, not a PosePrior: humanlib.experiments.humor_method
            continue
        try:
            priors[name] = load_prior(name)
        except FileNotFoundError as err:
            if not allow_missing:
                raise
            missing[name] = str(err)
    return priors, missing


def _observation_seed(seed: int, condition: str, length: int) -> int:
    """The seed of one condition's corruption at one window length.

    It depends on the condition's place in its own experiment's list (``EXPERIMENT_CONDITIONS``), not on
    its place in the list a run was given, so a run of a subset of conditions (``--conditions``) draws
    the same noise as the full run, and ``tune`` draws the same as ``denoise`` at the same seed and length.
    """
    for conditions in EXPERIMENT_CONDITIONS.values():
        names = [c.name for c in conditions]
        if condition in names:
            return seed * 1_000_003 + names.index(condition) * 10_007 + length
    raise ValueError(f"unknown condition {condition!r}")


def _input_errors(model, windows: Windows, obs, reference: torch.Tensor) -> tuple[float | None, float]:
    clean = body_joints_of(model, windows.poses, windows.transl)
    visible = obs.mask > 0
    joint_cm = float((obs.joints - clean).norm(dim=-1)[visible].mean()) * 100
    v2v = None
    if obs.noisy_poses is not None:
        v2v = sequence_errors(model, obs.noisy_poses, windows.transl, None, windows, reference).v2v_cm
    return v2v, joint_cm


def _reporter(progress, total: int, desc: str):
    """``(bar, say)`` for a run's ``progress`` argument: True, a tqdm bar over the fits (each
    message printed above it); a callable, told each message (no bar); None or False, silent."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="fit", disable=progress is not True)

    def say(message: str) -> None:
        if progress is True:
            tqdm.write(message)
        elif callable(progress):
            progress(message)

    return bar, say


def _check_progress(progress) -> None:
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise TypeError(f"progress must be True / False (a tqdm bar), None or a callable taking one message; "
                        f"got {type(progress).__name__}")


def run_experiment(config: ExperimentConfig, model=None, clips=None, fps: float | None = None,
                   weights: list[WeightChoice] | None = None, weights_file: str | None = None,
                   command: str = "", priors: dict[str, PosePrior] | None = None,
                   progress=None, data: str | None = None) -> ResultsFile:
    """Run one experiment (all its conditions, window lengths and priors).

    Args:
        config: ``humanlib.experiments.runner.ExperimentConfig``.
        model: body model (default: :func:`humanlib.body.load_body_model` on ``config.device``).
        clips: ``(name, poses, transl)`` per clip (default: the corpus split ``config.split``).
        fps: frame rate of ``clips`` (default: the corpus's).
        weights: val-tuned ``humanlib.experiments.runner.WeightChoice`` list (None: the defaults, recorded per row).
        weights_file: where ``weights`` came from (recorded).
        command: the command line (recorded).
        priors: already loaded priors by name (default: ``humanlib.experiments.runner.load_priors``).
        progress: True: a tqdm bar over the fits (prior x condition x window length; terminal
            and Jupyter); a ``callable(str)``: told about each finished cell; None / False: silent.
        data: name of the given ``clips`` (e.g. their folder's name), recorded as the results'
            split, with their fingerprint (:func:`humanlib.provenance.clips_fingerprint`) and every
            clip's id (default "given clips"); only with ``clips``.

    Returns:
        ``humanlib.experiments.runner.ResultsFile``.

    Raises:
        TypeError, ValueError: a config, model, fps, weights or priors of the wrong kind (checked
            before any work): see ``humanlib.experiments.runner.ExperimentConfig``.
    """
    _check_run_inputs(config, ExperimentConfig, model, fps, weights, priors)
    _check_progress(progress)
    if data is not None and (not isinstance(data, str) or not data.strip() or clips is None):
        raise (TypeError if not isinstance(data, str) else ValueError)(
            f"data names the given clips (a non-empty string, with clips=...); got {data!r}"
            + (" without clips" if clips is None else ""))
    started = time.perf_counter()
    start_stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    commit = git_commit()  # the code that runs: read before the fits, a tree can change under a long run
    if model is None:
        from humanlib.body import load_body_model

        model = load_body_model(device=config.device)
    corpus_name, given_clips = "given clips", clips is not None
    sources: dict[str, str] = {}
    if clips is None:
        from humanlib.data import load_corpus

        corpus = load_corpus(config.split)
        clips, fps, corpus_name = corpus_clips(corpus), corpus.fps, corpus_fingerprint(corpus)
        sources = {c.name: source_group(c.source) for c in corpus.clips}
    fps = float(fps if fps is not None else TEST_FPS)
    missing: dict[str, str] = {}
    if priors is None:
        priors, missing = load_priors(config.priors, config.allow_missing)
    humor = _load_humor(config, model, priors, missing)
    rows, window_ids = [], {}
    conditions = config.condition_list()
    bar, say = _reporter(progress, len(config.windows) * len(conditions) * (len(priors) + (humor is not None)),
                         f"experiment {config.experiment}")
    for length in config.windows:
        count = None if config.frames_per_length is None else config.frames_per_length // length
        windows = cut_windows(clips, length, fps, max_windows=count, groups=sources or None)
        windows = Windows(windows.poses.to(config.device), windows.transl.to(config.device), windows.clip_names,
                          windows.starts, windows.fps)
        window_ids[str(length)] = windows.ids()
        reference = clean_vertices(model, windows)
        for condition in conditions:
            rows += _condition_rows(config, model, priors, humor, weights, windows, length, reference, condition,
                                    sources, bar, say)
    bar.close()
    given = _given_label(clips, fps, data or "given clips") if given_clips else None
    fit_defaults = asdict(MotionFitConfig(beta_weight=config.beta_weight, iterations=config.iterations,
                                          warmup_iterations=config.warmup_iterations))
    meta = RunMetadata(
        command=command, git_commit=commit, machine=machine_description(), seed=config.seed,
        split=config.split if not given else given[0], corpus=corpus_name if not given else given[1], fps=fps,
        windows=window_ids, clips=[] if not given else [c[0] for c in clips],
        fit={k: v for k, v in fit_defaults.items() if k not in ("smooth_weight", "prior_weight")} | {
            "frames_per_length": config.frames_per_length, "device": config.device},
        weights_file=weights_file, missing_priors=missing, started_utc=start_stamp,
        seconds=round(time.perf_counter() - started, 1),
    )
    return ResultsFile(meta, rows)


def _condition_rows(config, model, priors, humor, weights, windows: Windows, length: int, reference, condition,
                    sources, bar, say) -> list[ResultRow]:
    """One step of :func:`run_experiment`: corrupt ``windows`` (of ``length`` frames) once by ``condition``
    (seeded by the condition and window length), fit every prior (then HuMoR's TTO from the GMM fit) to that same
    observation, one row each."""
    gen = torch.Generator().manual_seed(_observation_seed(config.seed, condition.name, length))
    obs = make_observation(model, windows, condition, gen)
    input_v2v, input_joint = _input_errors(model, windows, obs, reference)
    rows = []
    for name, prior in priors.items():
        smooth, lam, source = weights_for(condition.name, name, weights)
        fit_cfg = MotionFitConfig(smooth_weight=smooth, prior_weight=lam if name != "none" else 0.0,
                                  beta_weight=config.beta_weight, iterations=config.iterations,
                                  warmup_iterations=config.warmup_iterations)
        fit = fit_motion(model, prior, obs.joints, obs.mask, obs.init_body_pose, fit_cfg)
        err = sequence_errors(model, fit.poses, fit.transl, fit.betas, windows, reference)
        accel = sequence_acceleration_error(model, fit.poses, fit.transl, fit.betas, windows)
        rows.append(ResultRow(
            experiment=config.experiment, condition=condition.name, prior=name, window=length,
            num_windows=len(windows), frames=len(windows) * length, v2v_cm=round(err.v2v_cm, 4),
            joint_angle_deg=round(err.joint_angle_deg, 3), joint_cm=round(err.joint_cm, 4),
            input_v2v_cm=None if input_v2v is None else round(input_v2v, 4),
            input_joint_cm=round(input_joint, 4), smooth_weight=smooth, prior_weight=fit_cfg.prior_weight,
            weights_source=source, seconds=round(fit.seconds, 2), evaluations=fit.evaluations,
            by_source=errors_by_source(err, windows, sources), accel_ms2=round(accel, 3),
        ))
        bar.update(1)
        say(f"{condition.name} {length} frames {name}: {err.v2v_cm:.2f} cm ({fit.seconds:.1f} s)")
    if humor is not None:  # GMM start with the GMM's weights, then HuMoR's TTO
        smooth, lam, _ = weights_for(condition.name, "gmm", weights)
        start_cfg = MotionFitConfig(smooth_weight=smooth, prior_weight=lam, beta_weight=config.beta_weight,
                                    iterations=config.iterations, warmup_iterations=config.warmup_iterations)
        rows.append(humor.row(config.experiment, condition.name, length, windows, obs, model, reference,
                              (input_v2v, input_joint), start_cfg, weights, sources))
        bar.update(1)
        say(f"{condition.name} {length} frames humor: {rows[-1].v2v_cm:.2f} cm ({rows[-1].seconds:.1f} s)")
    return rows


def _given_label(clips, fps: float, name: str) -> tuple[str, str]:
    """``(split, corpus)`` of the results of given clips: their name, and their size and fingerprint."""
    from humanlib.provenance import clips_fingerprint

    clips = [tuple(c) for c in clips]
    frames = sum(int(c[1].shape[0]) for c in clips)
    return name, f"{name}: {len(clips)} clips, {frames} frames at {fps:g} fps, clips sha256 {clips_fingerprint(clips)}"


def _load_humor(config, model, priors: dict, missing: dict):
    """HuMoR's checkpoint and GMM start prior when ``config.priors`` names ``"humor"`` (None otherwise, or when
    missing and ``config.allow_missing``: then recorded in ``missing``)."""
    if "humor" not in config.priors:
        return None
    from humanlib.experiments.humor_method import HumorMethod

    try:
        return HumorMethod.load(model, priors.get("gmm"))
    except FileNotFoundError as err:
        if not config.allow_missing:
            raise
        missing["humor"] = str(err)
        return None


def _check_run_inputs(config: object, kind: type, model: object, fps: object, weights: object,
                      priors: object) -> None:
    """The checks ``run_experiment`` and ``tune_weights`` make before loading anything."""
    if not isinstance(config, kind):
        raise TypeError(f"config must be a {kind.__name__}; got {type(config).__name__}")
    if model is not None:
        _check_model(model)
        have, want = model.v_template.device, torch.device(config.device)
        if have.type != want.type or (want.index is not None and have.index != want.index):
            raise ValueError(f"model is on {have} but config.device is {config.device!r}; move the model "
                             f"(model.to({config.device!r})) or set the config's device to {str(have)!r}")
    if fps is not None:
        check_positive(fps, "fps")
    if weights is not None and (not isinstance(weights, (list, tuple))
                                or not all(isinstance(c, WeightChoice) for c in weights)):
        raise TypeError(f"weights must be a list of WeightChoice (from read_weights) or None; got {weights!r}")
    if priors is not None:
        if not isinstance(priors, dict):
            raise TypeError(f"priors must be a dict name -> PosePrior (or None to load them); got {type(priors).__name__}")
        for name, prior in priors.items():
            if name not in PRIOR_NAMES:
                raise ValueError(f"priors: unknown prior name {name!r}; the experiments know {', '.join(PRIOR_NAMES)}")
            if not isinstance(prior, PosePrior):
                raise TypeError(f"priors[{name!r}] must be a humanlib.priors.PosePrior; got {type(prior).__name__}")


# --------------------------------------------------------------------------- tuning on val


def val_clips_at(fps: float, split: str = "val") -> tuple[list[tuple[str, torch.Tensor, torch.Tensor]], str]:
    """The clips of a corpus split resampled to ``fps`` (slerp; the val split is stored at 10 fps).

    Raises:
        ValueError: ``fps`` not > 0, or an unknown split.
    """
    check_positive(fps, "fps")
    _check_split(split, "split")
    from humanlib.data import load_corpus
    from humanlib.data.retarget import axis_angle_to_rotmat_np, resample_motion, rotmat_to_axis_angle_np

    corpus = load_corpus(split)
    out = []
    for name, poses, transl in corpus_clips(corpus):
        if corpus.fps == fps:
            out.append((name, poses, transl))
            continue
        rot, tr = resample_motion(axis_angle_to_rotmat_np(poses.double().numpy()), transl.double().numpy(),
                                  corpus.fps, fps)
        out.append((name, torch.from_numpy(rotmat_to_axis_angle_np(rot)).float(), torch.from_numpy(tr).float()))
    return out, f"{corpus.origin}, split {split} resampled {corpus.fps:g} -> {fps:g} fps"


def tune_weights(config: TuneConfig, model=None, clips=None, fps: float = TEST_FPS, priors=None,
                 progress=None, known_smooth: dict[str, WeightChoice] | None = None,
                 known_choices: list[WeightChoice] | None = None,
                 ) -> tuple[list[WeightChoice], list[WeightChoice]]:
    """Choose the smoothness weight (no prior), then each prior's weight, per condition, on val.

    Args:
        known_smooth: condition -> the "none" choice of an earlier run of the same search;
            its smoothness weight is reused instead of searched again.
        known_choices: earlier choices; ``"humor"`` starts from the GMM fit with the GMM's choice
            (from this run when it tunes ``"gmm"`` too, else from these, else the defaults).
        progress: True: a tqdm bar over the fits; a ``callable(str)``: told each prior's choice;
            None / False: silent.

    Returns:
        ``(chosen, tried)``: the chosen weights and every point of the search.

    Raises:
        TypeError, ValueError: a config, model, fps, priors or ``known_smooth`` of the wrong
            kind (checked before any work); ValueError also when every grid point of a
            condition diverged (a diverged point is reported and skipped, never chosen).
    """
    _check_run_inputs(config, TuneConfig, model, fps, None, priors)
    if known_smooth is not None and (not isinstance(known_smooth, dict)
                                     or not all(isinstance(c, WeightChoice) for c in known_smooth.values())):
        raise TypeError(f"known_smooth must be a dict condition -> WeightChoice or None; got {known_smooth!r}")
    if known_choices is not None and (not isinstance(known_choices, (list, tuple))
                                      or not all(isinstance(c, WeightChoice) for c in known_choices)):
        raise TypeError(f"known_choices must be a list of WeightChoice (from read_weights) or None; got {known_choices!r}")
    _check_progress(progress)
    if model is None:
        from humanlib.body import load_body_model

        model = load_body_model(device=config.device)
    sources: dict[str, str] = {}
    if clips is None:
        from humanlib.data import load_corpus

        clips, _ = val_clips_at(fps)
        sources = {c.name: source_group(c.source) for c in load_corpus("val").clips}
    names = tuple(dict.fromkeys(("none",) + parse_priors(config.priors)))
    names = tuple(n for n in names if n != "humor") + (("humor",) if "humor" in names else ())  # after the GMM
    if priors is None:
        priors, _ = load_priors(names, allow_missing=True)
    windows = cut_windows(clips, config.window, fps, max_windows=config.num_windows, groups=sources or None)
    reference = clean_vertices(model, windows)
    conditions = [condition_by_name(n) for n in config.conditions] if config.conditions else \
        [c for cs in EXPERIMENT_CONDITIONS.values() for c in cs]
    humor = None
    if "humor" in names:
        from humanlib.experiments.humor_method import HumorMethod

        humor = HumorMethod.load(model, priors.get("gmm"))
    search = _WeightSearch(config, model, priors, windows, reference, known_smooth, humor, progress, conditions, names)
    chosen = []
    for condition in conditions:
        gen = torch.Generator().manual_seed(_observation_seed(config.seed, condition.name, config.window))
        obs = make_observation(model, windows, condition, gen)
        best = (known_smooth or {}).get(condition.name)
        if best is None:
            best = search.grid(config.smooth_grid, lambda smooth: search.error("none", obs, smooth, 0.0),
                               lambda smooth, e: WeightChoice(condition.name, "none", smooth, 0.0, e))
        if best is None:
            raise ValueError(f"{condition.name}: every smoothness weight of {config.smooth_grid} diverged; "
                             "try smaller weights or fewer iterations")
        chosen.append(best)
        for name in names:
            if name == "humor" and humor is not None:  # GMM start with the GMM's choice, then HuMoR's grid
                chosen.append(search.humor(condition.name, obs, chosen + list(known_choices or [])))
            elif name != "none" and name in priors:
                chosen.append(search.prior(condition.name, name, obs, best.smooth_weight))
    search.bar.close()
    return chosen, search.tried


class _WeightSearch:
    """The val grid search of one :func:`tune_weights` run: its fits, its progress, and every finite
    point tried, in order (``tried``)."""

    def __init__(self, config, model, priors, windows, reference, known_smooth, humor, progress, conditions, names):
        self.config, self.model, self.priors, self.windows, self.reference = config, model, priors, windows, reference
        self.humor_method = humor
        self.tried: list[WeightChoice] = []
        extra = 2 if config.refine else 0
        humor_fits = 0
        if humor is not None:
            from humanlib.experiments.humor_method import HUMOR_GRID

            humor_fits = len(HUMOR_GRID)
        fits = sum((0 if c.name in (known_smooth or {}) else len(config.smooth_grid) + extra)
                   + sum(len(PRIOR_GRIDS[n]) + extra for n in names if n != "none" and n in priors)
                   + humor_fits for c in conditions)
        self.bar, self.say = _reporter(progress, fits, "experiment tune")

    def error(self, prior_name: str, obs, smooth: float, lam: float) -> float:
        """Val v2v error (cm) of one fit; inf (and a message) when the fit diverged."""
        self.bar.update(1)
        cfg = MotionFitConfig(smooth_weight=smooth, prior_weight=lam, iterations=self.config.iterations,
                              warmup_iterations=self.config.warmup_iterations)
        fit = fit_motion(self.model, self.priors[prior_name], obs.joints, obs.mask, obs.init_body_pose, cfg)
        if not all(bool(torch.isfinite(x).all()) for x in (fit.poses, fit.transl)):
            self.say(f"{prior_name}: smooth {smooth:g}, weight {lam:g} diverged (non-finite fit); skipped")
            return math.inf  # a diverged grid point is left out of `tried`, and does not stop the search
        return sequence_errors(self.model, fit.poses, fit.transl, fit.betas, self.windows, self.reference).v2v_cm

    def grid(self, grid, evaluate, make) -> WeightChoice | None:
        """Best finite point of ``grid`` (then of its half-decade neighbours, with ``config.refine``)."""
        best = None
        for value in grid:
            e = evaluate(value)
            if math.isfinite(e):
                self.tried.append(make(value, round(e, 4)))
                best = self.tried[-1] if best is None or e < best.val_v2v_cm else best
        if best is not None and self.config.refine:
            centre = best.prior_weight if best.prior != "none" else best.smooth_weight
            for value in (centre * 10 ** -0.5, centre * 10 ** 0.5):
                value = float(f"{value:.4g}")
                e = evaluate(value)
                if math.isfinite(e):
                    self.tried.append(make(value, round(e, 4)))
                    best = self.tried[-1] if e < best.val_v2v_cm else best
        return best

    def prior(self, condition: str, name: str, obs, smooth: float) -> WeightChoice:
        """The best weight of prior ``name`` on its grid, with the condition's smoothness weight."""
        best = self.grid(PRIOR_GRIDS[name], lambda lam: self.error(name, obs, smooth, lam),
                         lambda lam, e: WeightChoice(condition, name, smooth, lam, e))
        if best is None:
            raise ValueError(f"{condition} {name}: every prior weight of {PRIOR_GRIDS[name]} diverged")
        self.say(f"{condition} {name}: weight {best.prior_weight:g} -> {best.val_v2v_cm:.2f} cm")
        return best

    def humor(self, condition: str, obs, choices: list[WeightChoice]) -> WeightChoice:
        """HuMoR's best point on its grid, from the GMM fit with the GMM's choice among ``choices``."""
        from humanlib.experiments.humor_method import HUMOR_GRID, tune_humor

        humor, config = self.humor_method, self.config
        smooth_g, lam_g, _ = weights_for(condition, "gmm", choices)
        start_cfg = MotionFitConfig(smooth_weight=smooth_g, prior_weight=lam_g, iterations=config.iterations,
                                    warmup_iterations=config.warmup_iterations)
        best_h, tried_h = tune_humor(condition, obs, self.windows, self.reference, self.model, humor.model,
                                     humor.gmm_prior, start_cfg, on_fit=lambda: self.bar.update(1), say=self.say)
        if best_h is None:
            raise ValueError(f"{condition} humor: every point of {HUMOR_GRID} diverged")
        self.tried += tried_h
        self.say(f"{condition} humor: prior {best_h.prior_weight:g}, contact {best_h.contact_weight:g} -> "
                 f"{best_h.val_v2v_cm:.2f} cm")
        return best_h


# --------------------------------------------------------------------------- command line


#: Body joints whose rotation moves a joint of each occlusion group (parents of hidden joints, and the hidden ones).
PROBE_JOINTS: dict[str, tuple[str, ...]] = {
    "occ-legs": ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot",
                 "right_foot"),
    "occ-arm-hand": ("left_shoulder", "left_elbow", "left_wrist"),
    "occ-shoulder-upper-arm": ("left_collar", "left_shoulder"),
}


def occlusion_probe(condition: str, fits: list[tuple[str, float]], smooth_weight: float, window: int = 60,
                    num_windows: int = 8, iterations: int = 60, seed: int = 0, with_manifold: bool = True,
                    model=None, clips=None) -> dict:
    """Fit val windows of one occlusion condition and probe each fit's poses with Pose-NDF.

    For the truth, the fit's start (the truth with the hidden chain at rest, as
    :func:`humanlib.experiments.protocol.make_observation` starts it) and each ``(prior, weight)``
    fit it reports :class:`humanlib.experiments.diagnostics.PoseProbe` of the Pose-NDF prior on
    the joints of ``PROBE_JOINTS``, with the fit's val per-vertex error. Val only: this
    explains a choice, it chooses nothing.

    Raises:
        ValueError: a condition without probe joints, an unknown prior, a window shorter than 3.
    """
    from humanlib.data import load_corpus
    from humanlib.experiments.diagnostics import probe_poses
    from humanlib.rotations import axis_angle_to_quat, quat_canonicalize
    from humanlib.skeleton import BODY_JOINTS, joint

    if condition not in PROBE_JOINTS:
        raise ValueError(f"occlusion_probe: no probe joints for {condition!r}; choose from {', '.join(PROBE_JOINTS)}")
    for name, _ in fits:
        parse_priors(name)
    check_positive(window, "window", integer=True)
    if window < 3:
        raise ValueError(f"window must be >= 3 frames, got {window}")
    if model is None:
        from humanlib.body import load_body_model

        model = load_body_model()
    sources = {}
    if clips is None:
        clips, _ = val_clips_at(TEST_FPS)
        sources = {c.name: source_group(c.source) for c in load_corpus("val").clips}
    windows = cut_windows(clips, window, TEST_FPS, max_windows=num_windows, groups=sources or None)
    reference = clean_vertices(model, windows)
    conditions = [c for cs in EXPERIMENT_CONDITIONS.values() for c in cs]
    ci = [c.name for c in conditions].index(condition)
    obs = make_observation(model, windows, conditions[ci], torch.Generator().manual_seed(_observation_seed(seed, condition, window)))
    priors, _ = load_priors(tuple(dict.fromkeys(["none", "posendf"] + [n for n, _ in fits])), allow_missing=False)
    ndf = priors["posendf"]
    dtype = ndf.model.enc_w1.dtype
    manifold = None
    if with_manifold:
        train = load_corpus("train").poses[:, 1:1 + len(BODY_JOINTS)]
        manifold = quat_canonicalize(axis_angle_to_quat(train.to(dtype)))
    idx = [BODY_JOINTS.index(joint(n)) for n in PROBE_JOINTS[condition]]
    truth = windows.poses[..., 1:1 + len(BODY_JOINTS), :].reshape(-1, len(BODY_JOINTS), 3).to(dtype)
    start = truth.clone()
    start[:, idx] = 0.0
    rows = [{"fit": None, **asdict(probe_poses(ndf, truth, truth, idx, "ground truth", manifold))},
            {"fit": None, **asdict(probe_poses(ndf, start, truth, idx, "truth, hidden chain at rest", manifold))}]
    for name, weight in fits:
        cfg = MotionFitConfig(smooth_weight=smooth_weight, prior_weight=weight, iterations=iterations)
        fit = fit_motion(model, priors[name], obs.joints, obs.mask, obs.init_body_pose, cfg)
        v2v = sequence_errors(model, fit.poses, fit.transl, fit.betas, windows, reference).v2v_cm
        body = fit.poses[..., 1:1 + len(BODY_JOINTS), :].reshape(truth.shape).to(dtype)
        rows.append({"fit": {"prior": name, "prior_weight": weight, "val_v2v_cm": round(v2v, 4)},
                     **asdict(probe_poses(ndf, body, truth, idx, f"fit {name} (weight {weight:g})", manifold))})
    return {"condition": condition, "probe_joints": list(PROBE_JOINTS[condition]), "window": window,
            "num_windows": len(windows), "iterations": iterations, "smooth_weight": smooth_weight, "seed": seed,
            "split": "val", "probes": rows}

__all__ = [
    "DEFAULT_PRIOR_WEIGHTS", "PRIOR_GRIDS", "PRIOR_NAMES", "ExperimentConfig", "PoseSpacePrior", "ResultRow", "ResultsFile",
    "RunMetadata", "TuneConfig", "WeightChoice", "git_commit", "load_prior", "load_priors",
    "machine_description", "merge_results", "parse_priors", "read_results", "read_weights", "run_experiment", "tune_weights",
    "val_clips_at", "weights_for", "write_results", "PROBE_JOINTS", "occlusion_probe",
]
