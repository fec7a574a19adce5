"""HuMoR's test-time optimisation (TTO): fit a motion to observed 3D joints through the motion prior.

Rempe et al. (ICCV 2021, Sec. 4) fit a motion by optimising the initial state ``x_0`` and the
latent sequence ``z_{1..T-1}``; the motion is the rollout ``x_t = decode(z_t, x_{t-1})``
(:meth:`~humanlib.priors.humor_model.HumorModel.decode`, consistent: joints by forward
kinematics). The energy (:func:`tto_energy`), each term summed over frames and divided by them:

.. math::

    E = \\lambda_d \\sum_{t,j} m_{tj} \\frac{\\|J_{tj} - \\hat J_{tj}\\|^2}{(1\\,\\mathrm{cm})^2}
      - \\lambda_p \\sum_t \\log \\mathcal N(z_t; \\mu_p(x_{t-1}), \\sigma_p^2(x_{t-1}))
      + \\lambda_c \\sum_{t,k} c_{tk} \\frac{\\|J_{tk} - J_{t-1,k}\\|^2}{(1\\,\\mathrm{cm})^2}
      + \\lambda_f \\sum_{t,j} \\frac{\\max(0, y_0 - J^y_{tj})^2}{(1\\,\\mathrm{cm})^2}
      + \\lambda_o \\sum_{\\text{overlaps}} \\frac{\\|J^{(s)}_{tj} - J^{(s+1)}_{tj}\\|^2}{(1\\,\\mathrm{cm})^2}

data on the observed joints (mask ``m``), the learned prior's negative log-likelihood of each
latent, contacts (a joint of :data:`~humanlib.priors.humor_state.CONTACT_JOINTS` that the decoder
predicts in contact, probability ``c``, should not slide), the floor ``y = y_0`` (no joint below
it) and continuity between segments.

Scaled down from HuMoR: a window is cut into short overlapping **segments** (default 5 frames,
one frame shared), each with its own ``x_0`` and latents, optimised together as one batch; the
continuity term ties a segment's frames to the next one's where they overlap. A short rollout is
cheap to differentiate and drifts little; one long rollout is neither.

Stages as HuMoR: first data + prior (+ continuity), then every term, each by L-BFGS, after a
stage 0 that fits the rollout to the initial motion itself. The start:
``x_0`` of each segment is the state of an initial motion at the segment's first frame, and
``z_t`` the encoder's mean ``mu_q(x_{t-1}, x_t)`` on that motion (HuMoR does the same). The
initial motion must be a *plausible* body motion, e.g.
:func:`humanlib.experiments.fit_motion` with a pose prior (HuMoR starts from a VPoser
fit): a fit to joints without a pose prior leaves bone twists and the root turn free (its
body-pose features lie several training standard deviations from the data's, its root turns an
order of magnitude faster than the corpus's), states the model never saw, and the rollouts from
them diverge (the fit then ends tens of centimetres from the observations).

The defaults (segments of 5 frames, 50 + 100 + 100 iterations) were chosen on the **val** split
(windows of 60 frames, 4 cm joint noise, started from the GMM-prior fit): the fit ended below
both the noisy joints and its start; segments of 10 frames ended above the start; segments of 3
fitted the data a little closer, but two transitions leave the motion prior little to do; stage
0 lowered the error a little; a prior weight of 10 or a continuity weight of 100 did not help. The
start is already smooth, so the fit's acceleration error can be above the start's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor

from humanlib._validate import check_positive, check_tensor
from humanlib.priors.humor_model import HumorModel, _to_heading
from humanlib.priors.humor_state import (
    CONTACT_INDEX, NUM_STATE_JOINTS, STATE_SLICES, UP_AXIS, _rot6d, _rotmat_from_6d, motion_to_state, state_to_motion,
)
from humanlib.skeleton import NUM_BODY_JOINTS, NUM_JOINTS

#: Residuals are in centimetres: a weight of 1 costs 1 per cm^2.
CM = 0.01
#: A transition needs the frame before it (its velocities), so a window holds at least this many frames.
MIN_FRAMES = 2


@dataclass
class HumorFitConfig:
    """Weights, segments and optimiser settings of :func:`fit_humor`.

    Attributes:
        segment: frames per segment (consecutive segments share at least one frame).
        data_weight, prior_weight, contact_weight, floor_weight, continuity_weight: ``lambda_d``,
            ``lambda_p``, ``lambda_c``, ``lambda_f``, ``lambda_o`` of the module docstring.
        floor: the floor's height ``y_0`` (metres).
        stage_iterations: L-BFGS iterations of stage 0 (the rollout fitted to the initial motion's
            joints, every joint, with prior and continuity: the encoder's latents drift from it
            within a few frames), stage 1 (data + prior + continuity) and stage 2 (all terms).
        history: L-BFGS memory.

    Raises:
        TypeError, ValueError: a weight that is not a finite number >= 0, ``segment`` < 2, or
            iteration counts that are not three integers >= 0.
    """

    segment: int = 5
    data_weight: float = 1.0
    prior_weight: float = 1.0
    contact_weight: float = 1.0
    floor_weight: float = 10.0
    continuity_weight: float = 10.0
    floor: float = 0.0
    stage_iterations: tuple[int, int, int] = (50, 100, 100)
    history: int = 20

    def __post_init__(self) -> None:
        check_positive(self.segment, "HumorFitConfig.segment", integer=True)
        if self.segment < MIN_FRAMES:
            raise ValueError(f"HumorFitConfig.segment must be >= {MIN_FRAMES} frames (one transition); got {self.segment}")
        for name in ("data_weight", "prior_weight", "contact_weight", "floor_weight", "continuity_weight"):
            check_positive(getattr(self, name), f"HumorFitConfig.{name}", allow_zero=True)
        if isinstance(self.floor, bool) or not isinstance(self.floor, (int, float)) or not math.isfinite(self.floor):
            raise ValueError(f"HumorFitConfig.floor must be a finite number (metres); got {self.floor!r}")
        its = self.stage_iterations
        if not isinstance(its, tuple) or len(its) != 3:
            raise TypeError(f"HumorFitConfig.stage_iterations must be a tuple of 3 integers; got {its!r}")
        for i in its:
            check_positive(i, "HumorFitConfig.stage_iterations", integer=True, allow_zero=True)
        check_positive(self.history, "HumorFitConfig.history", integer=True)


@dataclass
class HumorFitResult:
    """A fitted window.

    Attributes:
        poses: ``(W, T, 24, 3)`` axis-angle (hands at rest).
        transl: ``(W, T, 3)``.
        joints: ``(W, T, 22, 3)`` joints of the fitted states.
        contacts: ``(W, T, NUM_CONTACTS)`` predicted contact probabilities (frame 0 of a segment takes its frame 1's).
        energy_start, energy: the full energy (all terms) at the start and at the end.
        terms: the weighted terms at the end.
        seconds: wall-clock time.
    """

    poses: Tensor
    transl: Tensor
    joints: Tensor
    contacts: Tensor
    energy_start: float
    energy: float
    terms: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def segment_starts(num_frames: int, segment: int) -> list[int]:
    """First frames of segments of ``segment`` frames covering ``0..num_frames-1``, each sharing >= 1 frame with the next.

    Raises:
        TypeError, ValueError: not integers, ``num_frames`` < 2 or ``segment`` < 2.
    """
    check_positive(num_frames, "num_frames", integer=True)
    check_positive(segment, "segment", integer=True)
    if num_frames < MIN_FRAMES or segment < MIN_FRAMES:
        raise ValueError(f"num_frames and segment must be >= {MIN_FRAMES}; got {num_frames} and {segment}")
    if num_frames <= segment:
        return [0]
    starts = list(range(0, num_frames - segment, segment - 1))
    return starts + [num_frames - segment]


def _check_inputs(model: object, joints: object, mask: object, init_poses: object, init_transl: object) -> tuple:
    if not isinstance(model, HumorModel):
        raise TypeError(f"model must be a HumorModel (humanlib.priors.humor_train.load_humor); got {type(model).__name__}")
    joints = check_tensor(joints, "joints", (None, None, None, 3), finite=False, hint="(W windows, T frames, 22 or 24 joints, xyz)")
    w, t, j = joints.shape[:3]
    if j not in (NUM_STATE_JOINTS, NUM_JOINTS):
        raise ValueError(f"joints must hold {NUM_STATE_JOINTS} or {NUM_JOINTS} joints per frame; got {j}")
    if w == 0:
        raise ValueError("joints hold no window; give at least one")
    if t < MIN_FRAMES:
        raise ValueError(f"a window of {t} frame(s) is shorter than the model's context: HuMoR needs >= {MIN_FRAMES} "
                         "frames (a transition needs the frame before it)")
    mask = check_tensor(mask, "mask", (w, t, j), floating=False, finite=False, hint="1 = observed, 0 = missing")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("mask must hold only 0 (missing) and 1 (observed)")
    seen = mask.bool() & torch.isfinite(joints).all(-1)
    if bool((mask.bool() & ~torch.isfinite(joints).all(-1)).any()):
        bad = int((mask.bool() & ~torch.isfinite(joints).all(-1)).sum())
        raise ValueError(f"joints hold {bad} NaN/inf observed joint(s); mark missing joints with mask = 0 instead")
    empty = torch.nonzero(~seen[..., :NUM_STATE_JOINTS].any(-1))
    if len(empty):
        wi, ti = empty[0].tolist()
        raise ValueError(f"window {wi} frame {ti} observes none of joints 0..{NUM_STATE_JOINTS - 1} "
                         f"({len(empty)} such frame(s)); the data term cannot place it: drop those frames")
    init_poses = check_tensor(init_poses, "init_poses", (w, t, NUM_JOINTS, 3), hint="the starting motion (e.g. a prior-free fit)")
    init_transl = check_tensor(init_transl, "init_transl", (w, t, 3))
    dtype = model.state_mean.dtype
    return (joints[..., :NUM_STATE_JOINTS, :].to(dtype), mask[..., :NUM_STATE_JOINTS].to(dtype),
            init_poses.to(dtype), init_transl.to(dtype))


def _start_state(model: HumorModel, raw: Tensor) -> Tensor:
    """``x_0`` from its free parameters: joints by forward kinematics of its pose, the other parts as they are."""
    S = STATE_SLICES
    R_root = _rotmat_from_6d(raw[:, S["root_orient"]])
    R_body = _rotmat_from_6d(raw[:, S["body_pose"]].unflatten(-1, (NUM_BODY_JOINTS, 6)))
    hands = torch.eye(3, dtype=raw.dtype, device=raw.device).expand(raw.shape[0], NUM_JOINTS - 1 - NUM_BODY_JOINTS, 3, 3)
    R = torch.cat([R_root[:, None], R_body, hands], 1)
    jm = model.joints_model
    rest = jm._rest_joints(raw.new_zeros(raw.shape[0], jm.num_betas))
    J = (jm._plan.posed_joints(R, rest) + raw[:, None, S["trans"]])[:, :NUM_STATE_JOINTS].flatten(-2)
    out = raw.clone()
    out[:, S["root_orient"]] = _rot6d(R_root)
    out[:, S["body_pose"]] = _rot6d(R_body).flatten(-2)
    out[:, S["joints"]] = J
    return out


def _rollout(model: HumorModel, x0: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(B, D), (B, L-1, Z) -> states (B, L, D), contacts (B, L-1, C), prior NLL (B, L-1)``."""
    x, states, contacts, nll = x0, [x0], [], []
    for i in range(z.shape[1]):
        mu, logvar = model._split(model.prior(model._prev_features(x)))
        zi = z[:, i]
        nll.append(0.5 * ((zi - mu).square() / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1))
        x, c = model._decode(x, zi, True)
        states.append(x)
        contacts.append(c)
    return torch.stack(states, 1), torch.stack(contacts, 1), torch.stack(nll, 1)


def tto_energy(model: HumorModel, x0: Tensor, z: Tensor, observed: Tensor, mask: Tensor, config: HumorFitConfig,
               overlaps: list[tuple[int, int, int]]) -> tuple[dict[str, Tensor], Tensor, Tensor]:
    """The weighted terms of the module docstring's energy for segments ``x0`` ``(B, D)``, ``z`` ``(B, L-1, Z)``.

    Args:
        observed, mask: ``(B, L, 22, 3)`` and ``(B, L, 22)``: each segment's observations.
        overlaps: ``(segment, next segment, frames shared)``: the last frames of one are the first of the next.

    Returns:
        ``(terms {"data", "prior", "contact", "floor", "continuity", "total"}, states (B, L, D), contacts (B, L-1, C))``.

    Raises:
        TypeError: ``config`` is not a :class:`HumorFitConfig`. (It runs inside the fit's loop;
            the inputs were checked by :func:`fit_humor`.)
    """
    if not isinstance(config, HumorFitConfig):
        raise TypeError(f"config must be a HumorFitConfig; got {type(config).__name__}")
    states, contacts, nll = _rollout(model, _start_state(model, x0), z)
    J = states[..., STATE_SLICES["joints"]].unflatten(-1, (NUM_STATE_JOINTS, 3))
    frames = J.shape[0] * J.shape[1]
    data = config.data_weight * (mask * ((J - observed) / CM).square().sum(-1)).sum() / frames
    prior = config.prior_weight * nll.sum() / frames
    Jc = J[:, :, list(CONTACT_INDEX)]
    slide = ((Jc[:, 1:] - Jc[:, :-1]) / CM).square().sum(-1)
    contact = config.contact_weight * (contacts * slide).sum() / frames
    floor = config.floor_weight * ((config.floor - J[..., UP_AXIS]).clamp_min(0) / CM).square().sum() / frames
    cont = J.new_zeros(())
    for a, b, k in overlaps:
        cont = cont + ((J[a, -k:] - J[b, :k]) / CM).square().sum()
    cont = config.continuity_weight * cont / frames
    total = data + prior + contact + floor + cont
    return {"data": data, "prior": prior, "contact": contact, "floor": floor, "continuity": cont, "total": total}, \
        states, contacts


def fit_humor(model: HumorModel, joints: Tensor, mask: Tensor, init_poses: Tensor, init_transl: Tensor,
              config: HumorFitConfig | None = None) -> HumorFitResult:
    """Fit windows of observed joints by HuMoR's test-time optimisation (see the module docstring).

    Args:
        model: a trained :class:`~humanlib.priors.humor_model.HumorModel` (:func:`~humanlib.priors.humor_train.load_humor`).
        joints: ``(W, T, J, 3)`` observed joints (J = 22, or SMPL's 24 of which the hands are ignored), metres, y up,
            at the model's frame rate.
        mask: ``(W, T, J)`` 1 = observed, 0 = missing (a missing joint may hold NaN).
        init_poses, init_transl: ``(W, T, 24, 3)`` and ``(W, T, 3)``: the starting motion (mean shape).
        config: :class:`HumorFitConfig`.

    Returns:
        :class:`HumorFitResult`.

    Raises:
        TypeError: ``model`` not a ``HumorModel``, ``config`` not a ``HumorFitConfig``, inputs not tensors.
        ValueError: windows shorter than the model's context (2 frames), a frame with every joint
            missing, NaN/inf in an observed joint or the start, a mask other than 0/1, shapes that disagree.
    """
    config = HumorFitConfig() if config is None else config
    if not isinstance(config, HumorFitConfig):
        raise TypeError(f"config must be a HumorFitConfig; got {type(config).__name__}")
    observed, mask, init_poses, init_transl = _check_inputs(model, joints, mask, init_poses, init_transl)
    observed = torch.where(mask[..., None].bool(), observed, torch.zeros_like(observed))
    w, t = observed.shape[:2]
    length = min(config.segment, t)
    starts = segment_starts(t, length)
    n = len(starts)
    seg = [(wi, s) for wi in range(w) for s in starts]
    overlaps = [(i * n + k, i * n + k + 1, starts[k] + length - starts[k + 1]) for i in range(w) for k in range(n - 1)]
    obs = torch.stack([observed[wi, s:s + length] for wi, s in seg])
    msk = torch.stack([mask[wi, s:s + length] for wi, s in seg])
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        init = motion_to_state(init_poses, init_transl, model.joints_model, model.config.fps)  # (W, T, D)
        states0 = torch.stack([init[wi, s:s + length] for wi, s in seg])
        prev, cur = states0[:, :-1].reshape(-1, states0.shape[-1]), states0[:, 1:].reshape(-1, states0.shape[-1])
        f_prev = model._prev_features(prev)
        f_cur = (_to_heading(prev, cur) - model.state_mean) / model.state_std
        q_mu, _ = model._split(model.encoder(torch.cat([f_prev, f_cur], -1)))
    x0 = states0[:, 0].clone().requires_grad_(True)
    z = q_mu.reshape(len(seg), length - 1, -1).clone().requires_grad_(True)

    init_joints = states0[..., STATE_SLICES["joints"]].unflatten(-1, (NUM_STATE_JOINTS, 3))
    target = {"obs": (obs, msk), "init": (init_joints, torch.ones_like(msk))}
    which = "obs"

    def energy(stage: HumorFitConfig) -> tuple[dict[str, Tensor], Tensor, Tensor]:
        return tto_energy(model, x0, z, *target[which], stage, overlaps)

    start = time.perf_counter()
    with torch.no_grad():
        energy_start = float(energy(config)[0]["total"])
    stage1 = HumorFitConfig(**{**config.__dict__, "contact_weight": 0.0, "floor_weight": 0.0})
    its = config.stage_iterations
    for name, stage, iterations in (("init", stage1, its[0]), ("obs", stage1, its[1]), ("obs", config, its[2])):
        if iterations == 0:
            continue
        which = name
        opt = torch.optim.LBFGS([x0, z], lr=1.0, max_iter=iterations, history_size=config.history,
                                line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)

        def closure(stage: HumorFitConfig = stage) -> Tensor:
            opt.zero_grad()
            total = energy(stage)[0]["total"]
            total.backward()
            return total

        opt.step(closure)
    with torch.no_grad():
        terms, states, contacts = energy(config)
    if not bool(torch.isfinite(terms["total"])):
        raise ValueError("the test-time optimisation left the finite numbers; lower the weights or shorten "
                         "HumorFitConfig.segment")
    # each frame from the last segment that covers it (its own x_0 or rollout)
    full = states.new_empty(w, t, states.shape[-1])
    cfull = states.new_zeros(w, t, contacts.shape[-1])
    c_pad = torch.cat([contacts[:, :1], contacts], 1)
    for b, (wi, s) in enumerate(seg):
        full[wi, s:s + length] = states[b]
        cfull[wi, s:s + length] = c_pad[b]
    poses, transl = state_to_motion(full)
    J = full[..., STATE_SLICES["joints"]].unflatten(-1, (NUM_STATE_JOINTS, 3))
    return HumorFitResult(poses=poses, transl=transl, joints=J, contacts=cfull, energy_start=energy_start,
                          energy=float(terms["total"]), terms={k: float(v) for k, v in terms.items()},
                          seconds=time.perf_counter() - start)


__all__ = ["CM", "HumorFitConfig", "HumorFitResult", "MIN_FRAMES", "fit_humor", "segment_starts", "tto_energy"]
