"""HuMoR as a method of the motion experiments: a GMM-prior fit, then HuMoR's test-time optimisation from it.

``humanlib experiment denoise|occlusion --priors humor`` fits every window of a cell in two steps, on the same
observation as the pose priors' rows:

1. ``humanlib.experiments.motion_fit.fit_motion`` with the GMM pose prior and the GMM's val-chosen weights
   (the same fit as the ``gmm`` row: HuMoR starts its optimisation from a pose-prior fit, a VPoser fit in the
   paper; from a fit without a pose prior its rollouts diverge, see :mod:`humanlib.priors.humor_fit`);
2. :func:`humanlib.priors.humor_fit.fit_humor` from that start, with HuMoR's own val-chosen weights
   (``prior_weight`` = the motion prior's ``lambda_p``, ``contact_weight`` = ``lambda_c``; the data weight
   stays 1, so both are relative to the data term; floor and continuity weights keep their defaults).

The row's errors come from the TTO's poses as for every other row (the mesh of its poses, mean shape, against
the clean mesh), plus the acceleration error of its joints (``humanlib.experiments.protocol.sequence_acceleration_error``).
:func:`tune_humor` chooses HuMoR's two weights on **val** on :data:`HUMOR_GRID` (never on test).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from humanlib._validate import check_positive
from humanlib.experiments.motion_fit import MotionFitConfig, fit_motion
from humanlib.experiments.protocol import (
    Observation, Windows, _check_model, condition_by_name, sequence_acceleration_error, sequence_errors,
)
from humanlib.experiments.results import ResultRow, WeightChoice, errors_by_source
from humanlib.priors.humor_fit import HumorFitConfig

#: The method's name in the results and weights files.
HUMOR_NAME = "humor"
#: ``(prior_weight, contact_weight)`` pairs searched on val by :func:`tune_humor` (data weight 1).
HUMOR_GRID: tuple[tuple[float, float], ...] = ((0.1, 1.0), (1.0, 0.1), (1.0, 1.0), (1.0, 10.0), (10.0, 1.0))
#: L-BFGS iterations of the TTO's three stages (:class:`humanlib.priors.humor_fit.HumorFitConfig`'s, val-chosen).
STAGE_ITERATIONS: tuple[int, int, int] = HumorFitConfig().stage_iterations
#: The TTO's weights when no val choice is given (:class:`humanlib.priors.humor_fit.HumorFitConfig`'s defaults).
DEFAULT_HUMOR_WEIGHTS = (HumorFitConfig().prior_weight, HumorFitConfig().contact_weight)


@dataclass
class HumorFit:
    """One HuMoR fit of a cell's windows: its start (GMM fit), the TTO's motion and timings."""

    poses: torch.Tensor
    transl: torch.Tensor
    start_poses: torch.Tensor
    start_transl: torch.Tensor
    seconds: float
    evaluations: int


def _load_humor_model(body_model):
    """The committed HuMoR checkpoint on the joints of ``body_model`` (one call per run).

    Raises:
        FileNotFoundError, ValueError: as :func:`humanlib.priors.humor_train.load_humor` (a missing or
            mismatched checkpoint).
    """
    from humanlib.body import SkeletonJoints
    from humanlib.priors.humor_train import load_humor

    model, _ = load_humor(None, SkeletonJoints(body_model))
    return model.to(body_model.v_template.device)


def humor_weights(condition: str, choices: list[WeightChoice] | None) -> tuple[float, float, str]:
    """``(prior_weight, contact_weight, source)`` of HuMoR's TTO for ``condition``: the val choice, else the defaults.

    Raises:
        ValueError: an unknown condition.
        TypeError: ``choices`` is not a list of ``WeightChoice`` (or None).
    """
    condition_by_name(condition)
    if choices is not None and (not isinstance(choices, (list, tuple))
                                or not all(isinstance(c, WeightChoice) for c in choices)):
        raise TypeError(f"choices must be a list of WeightChoice (from read_weights) or None; got {choices!r}")
    for c in choices or []:
        if (c.condition, c.prior) == (condition, HUMOR_NAME) and c.contact_weight is not None:
            return c.prior_weight, c.contact_weight, "val"
    return (*DEFAULT_HUMOR_WEIGHTS, "default")


def fit_humor_method(body_model, humor_model, gmm_prior, obs, start_config: MotionFitConfig,
                     prior_weight: float, contact_weight: float) -> HumorFit:
    """Fit one observation (all its windows): GMM-prior fit, then HuMoR's TTO from it.

    Args:
        body_model: the open body model (:func:`humanlib.body.load_body_model`).
        humor_model: the trained :class:`~humanlib.priors.humor_model.HumorModel` (:class:`HumorMethod` loads it).
        gmm_prior: the pose prior of the start (``load_prior("gmm")``).
        obs: ``humanlib.experiments.protocol.Observation`` of the windows.
        start_config: ``humanlib.experiments.motion_fit.MotionFitConfig`` of the start (the GMM's weights).
        prior_weight, contact_weight: HuMoR's ``lambda_p`` and ``lambda_c``.

    Raises:
        TypeError: arguments of the wrong kind.
        ValueError: windows shorter than the model's context, NaN in an observed joint, a frame with every
            joint missing (:func:`humanlib.priors.humor_fit.fit_humor`'s checks, made before any fit), a weight
            < 0, or a fit that left the finite numbers.
    """
    from humanlib.priors.humor_fit import fit_humor

    _check_args(body_model, humor_model, gmm_prior, obs, start_config)
    check_positive(prior_weight, "prior_weight", allow_zero=True)
    check_positive(contact_weight, "contact_weight", allow_zero=True)
    started = time.perf_counter()
    start = fit_motion(body_model, gmm_prior, obs.joints, obs.mask, obs.init_body_pose, start_config)
    if not all(bool(torch.isfinite(x).all()) for x in (start.poses, start.transl)):
        raise ValueError("the GMM-prior fit that starts HuMoR diverged (non-finite); lower the GMM's weights")
    config = HumorFitConfig(prior_weight=prior_weight, contact_weight=contact_weight, stage_iterations=STAGE_ITERATIONS)
    dtype = humor_model.state_mean.dtype
    result = fit_humor(humor_model, obs.joints.to(dtype), obs.mask.to(dtype), start.poses.detach(),
                       start.transl.detach(), config)
    return HumorFit(result.poses.to(start.poses), result.transl.to(start.transl), start.poses, start.transl,
                    time.perf_counter() - started, start.evaluations)


def _check_args(body_model, humor_model, gmm_prior, obs, start_config) -> None:
    from humanlib.priors import PosePrior
    from humanlib.priors.humor_model import HumorModel

    _check_model(body_model)
    if not isinstance(humor_model, HumorModel):
        raise TypeError(f"humor_model must be a HumorModel (HumorMethod.load loads the committed one); "
                        f"got {type(humor_model).__name__}")
    if not isinstance(gmm_prior, PosePrior):
        raise TypeError(f"gmm_prior must be a PosePrior (load_prior('gmm')); got {type(gmm_prior).__name__}")
    if not isinstance(obs, Observation):
        raise TypeError(f"obs must be an Observation (humanlib.experiments.protocol.make_observation); "
                        f"got {type(obs).__name__}")
    if not isinstance(start_config, MotionFitConfig):
        raise TypeError(f"start_config must be a MotionFitConfig; got {type(start_config).__name__}")
    _check_observation(obs)


def _check_observation(obs) -> None:
    """The checks of :func:`humanlib.priors.humor_fit.fit_humor` that matter, before the (slower) start fit."""
    from humanlib.priors.humor_fit import MIN_FRAMES

    joints, mask = obs.joints, obs.mask
    if joints.shape[1] < MIN_FRAMES + 1:
        raise ValueError(f"windows of {joints.shape[1]} frame(s) are shorter than HuMoR's context: the method needs "
                         f">= {MIN_FRAMES + 1} frames (a transition needs the frame before it, the acceleration error "
                         "three frames); give longer windows")
    seen = mask.bool()
    bad = int((seen & ~torch.isfinite(joints).all(-1)).sum())
    if bad:
        raise ValueError(f"the observation holds {bad} NaN/inf observed joint(s); mark missing joints with mask = 0 "
                         "instead")


def _humor_row(experiment: str, condition: str, length: int, windows: Windows, fit: HumorFit, body_model,
              reference: torch.Tensor, input_v2v: float | None, input_joint: float, smooth_weight: float,
              prior_weight: float, contact_weight: float, source: str, sources: dict[str, str]) -> ResultRow:
    """The results row of a HuMoR fit: per-vertex, joint-angle and joint errors of its poses (mean shape),
    and the acceleration error of its joints."""
    err = sequence_errors(body_model, fit.poses, fit.transl, None, windows, reference)
    accel = sequence_acceleration_error(body_model, fit.poses, fit.transl, None, windows)
    return ResultRow(
        experiment=experiment, condition=condition, prior=HUMOR_NAME, window=length, num_windows=len(windows),
        frames=len(windows) * length, v2v_cm=round(err.v2v_cm, 4), joint_angle_deg=round(err.joint_angle_deg, 3),
        joint_cm=round(err.joint_cm, 4), input_v2v_cm=None if input_v2v is None else round(input_v2v, 4),
        input_joint_cm=round(input_joint, 4), smooth_weight=smooth_weight, prior_weight=prior_weight,
        weights_source=source, seconds=round(fit.seconds, 2), evaluations=fit.evaluations,
        by_source=errors_by_source(err, windows, sources), accel_ms2=round(accel, 3), contact_weight=contact_weight,
    )


@dataclass
class HumorMethod:
    """What a run of the experiments needs for HuMoR's rows: the motion model and the GMM prior of its start."""

    model: object
    gmm_prior: object

    @classmethod
    def load(cls, body_model, gmm_prior=None) -> "HumorMethod":
        """The committed checkpoint and the GMM prior (loaded when None).

        Raises:
            TypeError: ``body_model`` is not a body model, ``gmm_prior`` not a PosePrior.
            FileNotFoundError, ValueError: a missing or mismatched checkpoint or GMM file.
        """
        from humanlib.priors import PosePrior

        _check_model(body_model)
        if gmm_prior is not None and not isinstance(gmm_prior, PosePrior):
            raise TypeError(f"gmm_prior must be a PosePrior (load_prior('gmm')) or None; got {type(gmm_prior).__name__}")
        if gmm_prior is None:
            from humanlib.priors.registry import load_prior

            gmm_prior = load_prior("gmm")
        return cls(_load_humor_model(body_model), gmm_prior)

    def row(self, experiment: str, condition: str, length: int, windows: Windows, obs, body_model,
            reference: torch.Tensor, input_errors: tuple[float | None, float], start_config: MotionFitConfig,
            weights: list[WeightChoice] | None, sources: dict[str, str]) -> ResultRow:
        """Fit one cell (GMM start with ``start_config``, then the TTO with HuMoR's val weights) and make its row.

        Raises:
            TypeError, ValueError: as :func:`fit_humor_method` and :func:`humor_weights`.
        """
        lam_p, lam_c, source = humor_weights(condition, weights)
        fit = fit_humor_method(body_model, self.model, self.gmm_prior, obs, start_config, lam_p, lam_c)
        return _humor_row(experiment, condition, length, windows, fit, body_model, reference, *input_errors,
                         start_config.smooth_weight, lam_p, lam_c, source, sources)


def tune_humor(condition: str, obs, windows: Windows, reference: torch.Tensor, body_model, humor_model, gmm_prior,
               start_config: MotionFitConfig, on_fit=None, say=None) -> tuple[WeightChoice | None, list[WeightChoice]]:
    """Choose HuMoR's ``(prior_weight, contact_weight)`` for one val condition on :data:`HUMOR_GRID`.

    The GMM start is fitted once (``start_config``: the GMM's val-chosen weights) and every grid point's TTO
    starts from it. Returns ``(best or None when every point diverged, tried)``; a diverged point is skipped.
    ``on_fit`` is called before each grid point, ``say`` told each skipped one.

    Raises:
        TypeError, ValueError: as :func:`fit_humor_method`; ``windows`` not ``Windows``.
    """
    from humanlib.priors.humor_fit import fit_humor

    condition_by_name(condition)
    _check_args(body_model, humor_model, gmm_prior, obs, start_config)
    if not isinstance(windows, Windows):
        raise TypeError(f"windows must be humanlib.experiments.protocol.Windows; got {type(windows).__name__}")
    start = fit_motion(body_model, gmm_prior, obs.joints, obs.mask, obs.init_body_pose, start_config)
    dtype = humor_model.state_mean.dtype
    best, tried = None, []
    for lam_p, lam_c in HUMOR_GRID:
        if on_fit is not None:
            on_fit()
        try:
            res = fit_humor(humor_model, obs.joints.to(dtype), obs.mask.to(dtype), start.poses.detach(),
                            start.transl.detach(),
                            HumorFitConfig(prior_weight=lam_p, contact_weight=lam_c, stage_iterations=STAGE_ITERATIONS))
            e = sequence_errors(body_model, res.poses.to(start.poses), res.transl.to(start.transl), None, windows,
                                reference).v2v_cm
        except ValueError:  # a TTO that left the finite numbers
            e = math.inf
        if not math.isfinite(e):
            if say is not None:
                say(f"{condition} humor: prior {lam_p:g}, contact {lam_c:g} diverged; skipped")
            continue
        tried.append(WeightChoice(condition, HUMOR_NAME, start_config.smooth_weight, lam_p, round(e, 4),
                                  contact_weight=lam_c))
        best = tried[-1] if best is None or e < best.val_v2v_cm else best
    return best, tried


__all__ = ["DEFAULT_HUMOR_WEIGHTS", "HUMOR_GRID", "HUMOR_NAME", "STAGE_ITERATIONS", "HumorFit", "HumorMethod", "fit_humor_method",
           "humor_weights", "tune_humor"]
