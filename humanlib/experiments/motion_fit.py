"""Fitting a body-pose sequence to observed 3D joints, with a temporal term and a pose prior.

For each window of ``T`` frames the fit finds body poses ``theta_t`` (through the prior's
parametrisation, :class:`humanlib.priors.PosePrior`), root orientations and translations
``t_t`` and one shape ``beta`` that minimise

.. math::

    E = \\frac{1}{T} \\sum_t \\Big[ \\lambda_d \\sum_j m_{tj} \\frac{\\|J_j(\\theta_t, \\beta) + t_t - \\hat J_{tj}\\|^2}{(1\\,\\mathrm{cm})^2}
        + \\lambda_s \\sum_j \\frac{\\|J_{t+1,j} - 2 J_{tj} + J_{t-1,j}\\|^2}{(1\\,\\mathrm{cm})^2}
        + \\lambda_\\theta E_\\theta(\\theta_t) \\Big] + \\lambda_\\beta \\|\\beta\\|^2

(``humanlib.experiments.motion_fit.motion_energy``): a data term on the visible joints (mask ``m``), a smoothness term on
the joints' acceleration (at 30 fps), the prior, and a shape regulariser. Joint
positions come from forward kinematics of the regressed rest joints only
(``humanlib.experiments.motion_fit.JointsForward``); the mesh is needed for the metric, not for the fit.

All windows of a batch are optimised together by L-BFGS: the energy is a sum of independent
per-window energies, so the batch only shares the line search.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import torch

from humanlib.body import forward_kinematics
from humanlib.priors import PosePrior
from humanlib.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS, joint

#: Joints whose rest offsets from the pelvis depend only on the root rotation: used to
#: initialise the root orientation by Procrustes (Kabsch) from the observed joints.
ROOT_FRAME_JOINTS: tuple[str, ...] = ("left_hip", "right_hip", "spine1")
#: Residuals are measured in centimetres, so a weight of 1 costs 1 per cm^2.
CM = 0.01


@dataclass
class MotionFitConfig:
    """Weights and optimiser settings of ``fit_motion``.

    Attributes:
        data_weight: ``lambda_d``, per cm^2 of joint residual.
        smooth_weight: ``lambda_s``, per cm^2 of joint acceleration (cm / frame^2).
        prior_weight: ``lambda_theta``, multiplies the prior's ``params_energy`` per frame.
        beta_weight: ``lambda_beta`` on ``||beta||^2`` (one shape per window).
        optimize_betas: fit the shape (else it stays at the mean shape).
        warmup_iterations: L-BFGS iterations of a first stage without the smoothness term
            (frames decoupled, so it converges fast from the rest pose; the coupled problem
            then starts close to its solution).
        iterations: L-BFGS iterations of the full energy.
        history: L-BFGS memory.
    """

    data_weight: float = 1.0
    smooth_weight: float = 10.0
    prior_weight: float = 0.0
    beta_weight: float = 1.0
    optimize_betas: bool = True
    warmup_iterations: int = 30
    iterations: int = 60
    history: int = 20

    def __post_init__(self) -> None:
        for name in ("data_weight", "smooth_weight", "prior_weight", "beta_weight"):
            value = getattr(self, name)
            if not (value >= 0 and value < float("inf")):
                raise ValueError(f"MotionFitConfig.{name} must be finite and >= 0, got {value!r}")
        if self.iterations < 1 or self.history < 1 or self.warmup_iterations < 0:
            raise ValueError(f"iterations and history must be >= 1 and warmup_iterations >= 0, got "
                             f"{self.iterations}, {self.history} and {self.warmup_iterations}")


@dataclass
class MotionFitResult:
    """A fitted batch of windows.

    Attributes:
        poses: ``(W, T, 24, 3)`` axis-angle (root, body joints, hands at rest).
        transl: ``(W, T, 3)``.
        betas: ``(W, K)``.
        energy: final total energy (sum over windows).
        energy_start: total energy at the initialisation.
        evaluations: energy evaluations used by L-BFGS.
        seconds: wall-clock time of the optimisation.
    """

    poses: torch.Tensor
    transl: torch.Tensor
    betas: torch.Tensor
    energy: float
    energy_start: float
    evaluations: int
    seconds: float
    terms: dict[str, float] = field(default_factory=dict)


class JointsForward(torch.nn.Module):
    """Posed joints of a body model without its mesh: ``J(beta)`` then forward kinematics.

    The rest joints are linear in ``beta`` (``J_regressor (v_template + S beta)``), so the
    regressor is applied to the template and the shape basis once, here.

    Args:
        model: a :class:`humanlib.body.BodyModel` with SMPL's 24 joints.
    """

    def __init__(self, model) -> None:
        super().__init__()
        if model.num_joints != NUM_JOINTS:
            raise ValueError(f"the motion experiments need SMPL's {NUM_JOINTS} joints; the model has {model.num_joints}")
        self.parents = tuple(model.parents)
        self.num_betas = model.num_betas
        self.register_buffer("rest", model.J_regressor @ model.v_template)  # (J, 3)
        self.register_buffer("rest_dirs", torch.einsum("jv,vck->jck", model.J_regressor, model.shapedirs))

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """``(N, K) -> (N, 24, 3)`` rest joints of each shape."""
        return self.rest + torch.einsum("jck,nk->njc", self.rest_dirs, betas)

    def forward(self, pose: torch.Tensor, betas: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        """Posed joints ``(N, 24, 3)`` of poses ``(N, 24, 3)``, betas ``(N, K)``, transl ``(N, 3)``."""
        joints, _ = forward_kinematics(axis_angle_to_rotmat(pose), self.rest_joints(betas), self.parents)
        return joints + transl[:, None]


def root_from_joints(observed: torch.Tensor, rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Root orientation and translation that place the rest hips and spine on the observed ones.

    Procrustes without scale (Kabsch): ``R = argmin sum_k ||R a_k - b_k||^2`` over the offsets
    ``a_k`` (rest) and ``b_k`` (observed) of ``ROOT_FRAME_JOINTS`` from the pelvis.

    Args:
        observed: ``(N, 24, 3)`` observed joints.
        rest_joints: ``(24, 3)`` rest joints of the shape used for the fit.

    Returns:
        ``(orient (N, 3) axis-angle, transl (N, 3))`` with pelvis ``= rest pelvis + transl``.
    """
    pelvis = joint("pelvis")
    idx = [joint(n) for n in ROOT_FRAME_JOINTS]
    a = rest_joints[idx] - rest_joints[pelvis]  # (n, 3)
    b = observed[:, idx] - observed[:, pelvis, None]  # (N, n, 3)
    h = torch.einsum("ki,nkj->nij", a, b)  # sum_k a_k b_k^T
    u, _, vh = torch.linalg.svd(h)
    v = vh.transpose(-1, -2)
    d = torch.sign(torch.linalg.det(v @ u.transpose(-1, -2)))
    fix = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    rot = v @ fix @ u.transpose(-1, -2)
    return rotmat_to_axis_angle(rot), observed[:, pelvis] - rest_joints[pelvis]


def check_observation(joints: torch.Tensor, mask: torch.Tensor, init_body_pose: torch.Tensor) -> None:
    """Raise ``ValueError`` unless joints ``(W, T, 24, 3)``, mask ``(W, T, 24)`` and
    init ``(W, T, 21, 3)`` agree and are finite."""
    if joints.ndim != 4 or joints.shape[2:] != (NUM_JOINTS, 3):
        raise ValueError(f"observed joints must be (W, T, {NUM_JOINTS}, 3); got {tuple(joints.shape)}")
    w, t = joints.shape[:2]
    if t < 3:
        raise ValueError(f"a window needs at least 3 frames for the acceleration term; got {t}")
    if mask.shape != (w, t, NUM_JOINTS):
        raise ValueError(f"mask must be (W, T, {NUM_JOINTS}) = {(w, t, NUM_JOINTS)}; got {tuple(mask.shape)}")
    if init_body_pose.shape != (w, t, len(BODY_JOINTS), 3):
        raise ValueError(f"init_body_pose must be {(w, t, len(BODY_JOINTS), 3)}; got {tuple(init_body_pose.shape)}")
    for name, x in (("observed joints", joints), ("mask", mask), ("init_body_pose", init_body_pose)):
        if not bool(torch.isfinite(x).all()):
            bad = int((~torch.isfinite(x)).sum())
            raise ValueError(f"{name} contain {bad} NaN or infinite values; mark missing joints with mask = 0 "
                             "instead of NaN")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("mask must hold only 0 (missing) and 1 (observed)")


def motion_energy(joints: torch.Tensor, observed: torch.Tensor, mask: torch.Tensor, prior_energy: torch.Tensor,
                  betas: torch.Tensor, config: MotionFitConfig) -> dict[str, torch.Tensor]:
    """The terms of the motion energy, each summed over windows (see the module docstring).

    Args:
        joints: ``(W, T, 24, 3)`` fitted joints.
        observed: ``(W, T, 24, 3)`` observed joints.
        mask: ``(W, T, 24)`` visibility.
        prior_energy: ``(W, T)`` the prior's energy of each frame.
        betas: ``(W, K)``.
        config: the weights.

    Returns:
        ``{"data", "smooth", "prior", "shape", "total"}`` scalars (weighted).
    """
    t = joints.shape[1]
    residual = ((joints - observed) / CM).square().sum(-1)
    data = config.data_weight * (mask * residual).sum() / t
    accel = (joints[:, 2:] - 2 * joints[:, 1:-1] + joints[:, :-2]) / CM
    smooth = config.smooth_weight * accel.square().sum() / t
    prior = config.prior_weight * prior_energy.sum() / t
    shape = config.beta_weight * betas.square().sum()
    return {"data": data, "smooth": smooth, "prior": prior, "shape": shape, "total": data + smooth + prior + shape}


def fit_motion(model, prior: PosePrior, joints: torch.Tensor, mask: torch.Tensor, init_body_pose: torch.Tensor,
               config: MotionFitConfig | None = None) -> MotionFitResult:
    """Fit body-pose sequences to observed 3D joints (see the module docstring for the energy).

    Args:
        model: the body model (its device and dtype are used).
        prior: a :class:`humanlib.priors.PosePrior` (``NoPrior`` for none); the fit optimises
            its parametrisation (``init_params`` / ``to_body_pose`` / ``params_energy``).
        joints: ``(W, T, 24, 3)`` observed joints, metres.
        mask: ``(W, T, 24)`` 1 = observed, 0 = missing.
        init_body_pose: ``(W, T, 21, 3)`` starting body pose.
        config: ``humanlib.experiments.motion_fit.MotionFitConfig``.

    Returns:
        ``humanlib.experiments.motion_fit.MotionFitResult`` on the model's device.
    """
    config = config or MotionFitConfig()
    check_observation(joints, mask, init_body_pose)
    dtype, device = model.v_template.dtype, model.v_template.device
    if hasattr(prior, "to"):
        prior.to(device=device, dtype=dtype)
    fk = JointsForward(model)
    w, t = joints.shape[:2]
    n = w * t
    observed = joints.to(device, dtype)
    mask = mask.to(device, dtype)
    flat_obs = observed.reshape(n, NUM_JOINTS, 3)
    zero_betas = torch.zeros(1, model.num_betas, dtype=dtype, device=device)
    orient0, transl0 = root_from_joints(flat_obs, fk.rest_joints(zero_betas)[0])
    params = prior.init_params(init_body_pose.reshape(n, len(BODY_JOINTS), 3).to(device, dtype)).detach()
    params.requires_grad_(True)
    orient = orient0.clone().requires_grad_(True)
    transl = transl0.clone().requires_grad_(True)
    betas = torch.zeros(w, model.num_betas, dtype=dtype, device=device, requires_grad=config.optimize_betas)
    hands = torch.zeros(n, NUM_JOINTS - 1 - len(BODY_JOINTS), 3, dtype=dtype, device=device)

    def terms(stage_config: MotionFitConfig = config) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        body = prior.to_body_pose(params)
        pose = torch.cat([orient[:, None], body, hands], 1)
        fitted = fk(pose, betas[:, None].expand(w, t, -1).reshape(n, -1), transl).reshape(w, t, NUM_JOINTS, 3)
        energy = prior.params_energy(params).reshape(w, t)
        return motion_energy(fitted, observed, mask, energy, betas, stage_config), pose

    variables = [params, orient, transl] + ([betas] if config.optimize_betas else [])
    evaluations = 0

    def run_stage(stage_config: MotionFitConfig, iterations: int) -> None:
        nonlocal evaluations
        optimizer = torch.optim.LBFGS(variables, lr=1.0, max_iter=iterations, history_size=config.history,
                                      line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)

        def closure() -> torch.Tensor:
            nonlocal evaluations
            evaluations += 1
            optimizer.zero_grad()
            total = terms(stage_config)[0]["total"]
            total.backward()
            return total

        optimizer.step(closure)

    start = time.perf_counter()
    with torch.no_grad():
        energy_start = float(terms()[0]["total"])
    if config.warmup_iterations > 0:
        run_stage(replace(config, smooth_weight=0.0), config.warmup_iterations)
    run_stage(config, config.iterations)
    with torch.no_grad():
        final, pose = terms()
    seconds = time.perf_counter() - start
    return MotionFitResult(
        poses=pose.detach().reshape(w, t, NUM_JOINTS, 3), transl=transl.detach().reshape(w, t, 3),
        betas=betas.detach(), energy=float(final["total"]), energy_start=energy_start, evaluations=evaluations,
        seconds=seconds, terms={k: float(v) for k, v in final.items()},
    )


__all__ = ["CM", "ROOT_FRAME_JOINTS", "JointsForward", "MotionFitConfig", "MotionFitResult", "check_observation",
           "fit_motion", "motion_energy", "root_from_joints"]
