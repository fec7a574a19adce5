"""How closely HuMoR's test-time optimisation can follow a motion it observes *exactly* (a val diagnostic).

The motion experiments find HuMoR's rows above the GMM fit they start from. One explanation is that the
TTO's parametrisation (an initial state rolled out through the decoder by per-segment latent codes) cannot
express the motion as closely as a per-frame pose fit can. :func:`follow_floor` measures that directly: both
methods fit the **clean** joints of val windows (every joint visible, no noise), so any error left is what
the method cannot express (or its optimiser cannot reach), not what the noise hid. It chooses nothing.
"""

from __future__ import annotations

import torch

from humanlib._validate import check_positive
from humanlib.experiments.motion_fit import MotionFitConfig, fit_motion
from humanlib.experiments.protocol import (
    Observation, Windows, _check_model, body_joints_of, clean_vertices, sequence_acceleration_error, sequence_errors,
)
from humanlib.skeleton import BODY_JOINTS

#: HuMoR's prior weights tried (its contact weight stays 1): the floor should not depend on them.
FLOOR_PRIOR_WEIGHTS: tuple[float, ...] = (0.01, 0.1, 1.0)


def clean_observation(body_model, windows: Windows) -> Observation:
    """The exact joints of ``windows``: every joint visible, no noise, the fit starting from the rest pose.

    Raises:
        TypeError: a body model or windows of the wrong kind.
    """
    _check_model(body_model)
    if not isinstance(windows, Windows):
        raise TypeError(f"windows must be humanlib.experiments.protocol.Windows; got {type(windows).__name__}")
    joints = body_joints_of(body_model, windows.poses, windows.transl)
    w, t = joints.shape[:2]
    return Observation(joints, torch.ones(w, t, joints.shape[2], device=joints.device),
                       torch.zeros(w, t, len(BODY_JOINTS), 3, device=joints.device), None)


def follow_floor(body_model, windows: Windows, method, start_config: MotionFitConfig,
                 prior_weights: tuple[float, ...] = FLOOR_PRIOR_WEIGHTS, contact_weight: float = 1.0) -> list[dict]:
    """Errors of the GMM fit and of HuMoR's TTO (from that fit) on the clean joints of ``windows``.

    Args:
        body_model: the open body model.
        windows: the val windows (``humanlib.experiments.protocol.cut_windows``).
        method: :class:`humanlib.experiments.humor_method.HumorMethod` (HuMoR's model and the GMM prior).
        start_config: the GMM fit's weights and budget.
        prior_weights: HuMoR's ``lambda_p`` values to try (contact weight ``contact_weight``).

    Returns:
        one dict per fit: ``method``, ``prior_weight``, ``v2v_cm``, ``joint_cm`` (of the 24 joints),
        ``accel_ms2`` (22 body joints).

    Raises:
        TypeError, ValueError: a body model, windows, method or config of the wrong kind, an empty or negative
            weight list (:func:`humanlib.experiments.humor_method.fit_humor_method`'s checks for the rest).
    """
    from humanlib.experiments.humor_method import HumorMethod, fit_humor_method

    obs = clean_observation(body_model, windows)  # checks the model and the windows first
    if not isinstance(method, HumorMethod):
        raise TypeError(f"method must be a HumorMethod (HumorMethod.load(body_model)); got {type(method).__name__}")
    if not isinstance(start_config, MotionFitConfig):
        raise TypeError(f"start_config must be a MotionFitConfig; got {type(start_config).__name__}")
    if not isinstance(prior_weights, (tuple, list)) or not prior_weights:
        raise ValueError(f"prior_weights must be a non-empty tuple of weights; got {prior_weights!r}")
    for w in prior_weights:
        check_positive(w, "prior_weights entry", allow_zero=True)
    reference = clean_vertices(body_model, windows)

    def measure(name: str, weight: float | None, poses, transl, betas) -> dict:
        err = sequence_errors(body_model, poses, transl, betas, windows, reference)
        accel = sequence_acceleration_error(body_model, poses, transl, betas, windows)
        return {"method": name, "prior_weight": weight, "v2v_cm": round(err.v2v_cm, 4),
                "joint_cm": round(err.joint_cm, 4), "accel_ms2": round(accel, 3)}

    gmm = fit_motion(body_model, method.gmm_prior, obs.joints, obs.mask, obs.init_body_pose, start_config)
    rows = [measure("gmm", start_config.prior_weight, gmm.poses, gmm.transl, gmm.betas)]
    for weight in prior_weights:
        fit = fit_humor_method(body_model, method.model, method.gmm_prior, obs, start_config, weight, contact_weight)
        rows.append(measure("humor", weight, fit.poses, fit.transl, None))
    return rows
