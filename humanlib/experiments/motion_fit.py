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

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.body import SkeletonJoints
from humanlib.experiments.protocol import _check_model
from humanlib.priors import NoPrior, PosePrior, is_latent_prior
from humanlib.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS, joint

#: Joints whose rest offsets from the pelvis depend only on the root rotation: used to
#: initialise the root orientation by Procrustes (Kabsch) from the observed joints.
ROOT_FRAME_JOINTS: tuple[str, ...] = ("left_hip", "right_hip", "spine1")
#: Residuals are measured in centimetres, so a weight of 1 costs 1 per cm^2.
CM = 0.01
#: Starts of a latent-space fit (``MotionFitConfig.latent_init``).
LATENT_INITS = ("pose-fit", "encoder")


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
        latent_init: how a prior with a latent parametrisation (VPoser's ``z``) starts.
            ``"pose-fit"``: the whole prior-free fit runs first in pose space (warm-up and
            ``iterations``), then ``z`` starts at the point of the decoder's range closest to its
            result (:func:`~humanlib.experiments.project_to_latent`: encoder mean, refined on the rotation matrices);
            ``"encoder"``: ``z`` starts at the encoder mean of ``init_body_pose`` and the
            warm-up runs in ``z`` too (the original recipe; measured to stall, see chapter 7).
        latent_projection_iterations: L-BFGS iterations of that projection (``"pose-fit"`` only;
            0: the encoder mean as it is).
        latent_projection_weight: weight of ``||z||^2`` in that projection (keeps ``z`` where
            the prior's ``N(0, I)`` has its mass).
        latent_iterations: L-BFGS iterations of the full energy for a latent prior
            (0: ``iterations``). L-BFGS converges much more slowly through a decoder than
            in pose space, so a latent fit gets its own budget.

    Raises:
        TypeError, ValueError: a weight that is not a finite number >= 0, an iteration count
            that is not an integer (>= 1; warm-up >= 0), or ``optimize_betas`` not a bool.
    """

    data_weight: float = 1.0
    smooth_weight: float = 10.0
    prior_weight: float = 0.0
    beta_weight: float = 1.0
    optimize_betas: bool = True
    warmup_iterations: int = 30
    iterations: int = 60
    history: int = 20
    latent_init: str = "pose-fit"
    latent_iterations: int = 300
    latent_projection_iterations: int = 100
    latent_projection_weight: float = 0.01

    def __post_init__(self) -> None:
        for name in ("data_weight", "smooth_weight", "prior_weight", "beta_weight", "latent_projection_weight"):
            check_positive(getattr(self, name), f"MotionFitConfig.{name}", allow_zero=True)
        check_positive(self.iterations, "MotionFitConfig.iterations", integer=True)
        check_positive(self.history, "MotionFitConfig.history", integer=True)
        check_positive(self.warmup_iterations, "MotionFitConfig.warmup_iterations", integer=True, allow_zero=True)
        if not isinstance(self.optimize_betas, bool):
            raise TypeError(f"MotionFitConfig.optimize_betas must be True or False, got {self.optimize_betas!r}")
        if self.latent_init not in LATENT_INITS:
            raise ValueError(f"MotionFitConfig.latent_init must be one of {LATENT_INITS}, got {self.latent_init!r}")
        check_positive(self.latent_iterations, "MotionFitConfig.latent_iterations", integer=True, allow_zero=True)
        check_positive(self.latent_projection_iterations, "MotionFitConfig.latent_projection_iterations",
                       integer=True, allow_zero=True)


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


class JointsForward(SkeletonJoints):
    """:class:`humanlib.body.SkeletonJoints` of a model with SMPL's 24 joints, called as
    ``fk(pose, betas, transl)`` (the motion fits' argument order).

    Args:
        model: a :class:`humanlib.body.BodyModel` with SMPL's 24 joints.

    Raises:
        TypeError: ``model`` is not a ``BodyModel``.
        ValueError: the model does not have SMPL's 24 joints.
    """

    def __init__(self, model) -> None:
        _check_model(model)
        super().__init__(model)

    def forward(self, pose: torch.Tensor, betas: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        """Posed joints ``(N, 24, 3)`` of poses ``(N, 24, 3)``, betas ``(N, K)``, transl ``(N, 3)``.

        Raises:
            TypeError, ValueError: inputs that are not tensors of these shapes (one ``N``), of the
                model's dtype and on its device.
        """
        return super().forward(betas, pose, transl)


def root_from_joints(observed: torch.Tensor, rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Root orientation and translation that place the rest hips and spine on the observed ones.

    Procrustes without scale (Kabsch): ``R = argmin sum_k ||R a_k - b_k||^2`` over the offsets
    ``a_k`` (rest) and ``b_k`` (observed) of ``ROOT_FRAME_JOINTS`` from the pelvis.

    Args:
        observed: ``(N, 24, 3)`` observed joints.
        rest_joints: ``(24, 3)`` rest joints of the shape used for the fit.

    Returns:
        ``(orient (N, 3) axis-angle, transl (N, 3))`` with pelvis ``= rest pelvis + transl``.

    Raises:
        TypeError, ValueError: inputs that are not finite floating tensors of these shapes, of
            one dtype and on one device.
    """
    check_tensor(observed, "observed", (None, NUM_JOINTS, 3), hint="(bodies, joints, xyz)")
    check_tensor(rest_joints, "rest_joints", (NUM_JOINTS, 3), dtype=observed.dtype)
    check_same_device(observed, "observed", rest_joints=rest_joints)
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
    """Raise unless joints ``(W, T, 24, 3)``, mask ``(W, T, 24)`` and init ``(W, T, 21, 3)``
    agree, are finite, and every window observes at least one joint.

    Raises:
        TypeError: an input is not a tensor.
        ValueError: wrong or disagreeing shapes, no window, fewer than 3 frames, integer joints
            or initial poses, NaN / inf, a mask other than 0 / 1, a window with no observed
            joint, or a tensor on the meta device (no data).
    """
    for name, x in (("joints", joints), ("mask", mask), ("init_body_pose", init_body_pose)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__} (convert it with torch.as_tensor)")
        if x.device.type == "meta":
            raise ValueError(f"{name} is on the meta device (it holds no data); give a tensor on the model's device")
    if joints.ndim != 4 or joints.shape[2:] != (NUM_JOINTS, 3):
        raise ValueError(f"observed joints must be (W, T, {NUM_JOINTS}, 3); got {tuple(joints.shape)}")
    w, t = joints.shape[:2]
    if w == 0:
        raise ValueError(f"observed joints hold no window (shape {tuple(joints.shape)}); give at least one window")
    if t < 3:
        raise ValueError(f"a window needs at least 3 frames for the acceleration term; got {t}")
    if mask.shape != (w, t, NUM_JOINTS):
        raise ValueError(f"mask must be (W, T, {NUM_JOINTS}) = {(w, t, NUM_JOINTS)}; got {tuple(mask.shape)}")
    if init_body_pose.shape != (w, t, len(BODY_JOINTS), 3):
        raise ValueError(f"init_body_pose must be {(w, t, len(BODY_JOINTS), 3)}; got {tuple(init_body_pose.shape)}")
    for name, x in (("observed joints", joints), ("init_body_pose", init_body_pose)):
        if not x.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor; got dtype {x.dtype} (use .float())")
    for name, x in (("observed joints", joints), ("mask", mask), ("init_body_pose", init_body_pose)):
        if not bool(torch.isfinite(x).all()):
            bad = int((~torch.isfinite(x)).sum())
            raise ValueError(f"{name} contain {bad} NaN or infinite values; mark missing joints with mask = 0 "
                             "instead of NaN")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("mask must hold only 0 (missing) and 1 (observed)")
    blind = torch.nonzero(~(mask != 0).reshape(w, -1).any(dim=1)).flatten().tolist()
    if blind:
        raise ValueError(f"window(s) {blind} observe no joint at all (mask all 0): there is nothing to fit; "
                         "drop them or unmask some joints")


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

    Raises:
        TypeError: ``config`` is not a ``MotionFitConfig``, or an input is not a tensor.
        ValueError: shapes that disagree, or no frame. (It runs inside the fit's loop, so it does
            not check finiteness.)
    """
    if not isinstance(config, MotionFitConfig):
        raise TypeError(f"config must be a MotionFitConfig; got {type(config).__name__}")
    check_tensor(joints, "joints", (None, None, NUM_JOINTS, 3), finite=False)
    w, t = joints.shape[:2]
    if t == 0:
        raise ValueError(f"joints hold no frame (shape {tuple(joints.shape)})")
    check_tensor(observed, "observed", tuple(joints.shape), finite=False)
    check_tensor(mask, "mask", (w, t, NUM_JOINTS), floating=False, finite=False)
    check_tensor(prior_energy, "prior_energy", (w, t), finite=False, hint="one energy per frame")
    check_tensor(betas, "betas", (w, None), finite=False, hint="one shape per window")
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
        ``humanlib.experiments.motion_fit.MotionFitResult`` on the model's device (the
        observation is moved there).

    Raises:
        TypeError: ``model``, ``prior`` or ``config`` of the wrong type, or an input that is not a tensor.
        ValueError: an observation that ``humanlib.experiments.motion_fit.check_observation``
            rejects (shapes, NaN, empty windows, mask values, windows with no observed joint).
    """
    config = MotionFitConfig() if config is None else config
    if not isinstance(config, MotionFitConfig):
        raise TypeError(f"config must be a MotionFitConfig; got {type(config).__name__}")
    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior (NoPrior() for none); got {type(prior).__name__}")
    _check_model(model)
    check_observation(joints, mask, init_body_pose)
    dtype, device = model.v_template.dtype, model.v_template.device
    if hasattr(prior, "to"):
        prior.to(device=device, dtype=dtype)
    latent = is_latent_prior(prior)
    pose_warmup = latent and config.latent_init == "pose-fit"
    fit = _MotionFit(model, NoPrior() if pose_warmup else prior, joints, mask, init_body_pose, config)
    start = time.perf_counter()
    with torch.no_grad():
        energy_start = float(fit.terms()[0]["total"])
    if config.warmup_iterations > 0:
        fit.run_stage(replace(config, smooth_weight=0.0, prior_weight=0.0 if pose_warmup else config.prior_weight),
                      config.warmup_iterations)
    if pose_warmup:  # the prior-free fit to the end, then z from the decoder-range point closest to it
        fit.run_stage(replace(config, prior_weight=0.0), config.iterations)
        with torch.no_grad():
            body = fit.fit_prior.to_body_pose(fit.params)
        fit.params = project_to_latent(prior, body, config.latent_projection_iterations,
                                       config.latent_projection_weight).requires_grad_(True)
        fit.fit_prior = prior
    iterations = config.latent_iterations if latent and config.latent_iterations else config.iterations
    fit.run_stage(config, iterations)
    with torch.no_grad():
        final, pose = fit.terms()
    seconds = time.perf_counter() - start
    w, t = joints.shape[:2]
    return MotionFitResult(
        poses=pose.detach().reshape(w, t, NUM_JOINTS, 3), transl=fit.transl.detach().reshape(w, t, 3),
        betas=fit.betas.detach(), energy=float(final["total"]), energy_start=energy_start, evaluations=fit.evaluations,
        seconds=seconds, terms={k: float(v) for k, v in final.items()},
    )


class _MotionFit:
    """The state of one :func:`fit_motion`: the observation on the model's device, the fitted variables
    (``params`` of ``fit_prior``'s parametrisation, root orientation and translation from the observed
    joints, betas per window, flat hands), the energy and the L-BFGS stages, counting evaluations."""

    def __init__(self, model, fit_prior: PosePrior, joints, mask, init_body_pose, config: MotionFitConfig) -> None:
        dtype, device = model.v_template.dtype, model.v_template.device
        self.config, self.fit_prior = config, fit_prior
        self.fk = JointsForward(model)
        self.w, self.t = joints.shape[:2]
        n = self.w * self.t
        self.observed = joints.to(device, dtype)
        self.mask = mask.to(device, dtype)
        flat_obs = self.observed.reshape(n, NUM_JOINTS, 3)
        zero_betas = torch.zeros(1, model.num_betas, dtype=dtype, device=device)
        orient0, transl0 = root_from_joints(flat_obs, self.fk.rest_joints(zero_betas)[0])
        start_pose = init_body_pose.reshape(n, len(BODY_JOINTS), 3).to(device, dtype)
        self.params = fit_prior.init_params(start_pose).detach().requires_grad_(True)
        self.orient = orient0.clone().requires_grad_(True)
        self.transl = transl0.clone().requires_grad_(True)
        self.betas = torch.zeros(self.w, model.num_betas, dtype=dtype, device=device,
                                 requires_grad=config.optimize_betas)
        self.hands = torch.zeros(n, NUM_JOINTS - 1 - len(BODY_JOINTS), 3, dtype=dtype, device=device)
        self.evaluations = 0

    def terms(self, stage_config: MotionFitConfig | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The energy's terms (:func:`motion_energy`) under ``stage_config`` (default: the fit's) and the pose."""
        # the inner loop: every input was checked once, in fit_motion (init_params, the fit's own tensors)
        w, t, n = self.w, self.t, self.w * self.t
        body = self.fit_prior.to_body_pose_unchecked(self.params)
        pose = torch.cat([self.orient[:, None], body, self.hands], 1)
        fitted = self.fk.posed_joints_unchecked(self.betas[:, None].expand(w, t, -1).reshape(n, -1), pose, self.transl)
        fitted = fitted.reshape(w, t, NUM_JOINTS, 3)
        energy = self.fit_prior.params_energy_unchecked(self.params).reshape(w, t)
        return motion_energy(fitted, self.observed, self.mask, energy, self.betas,
                             self.config if stage_config is None else stage_config), pose

    def run_stage(self, stage_config: MotionFitConfig, iterations: int) -> None:
        """One L-BFGS stage of ``iterations`` on the energy under ``stage_config``."""
        config = self.config
        variables = [self.params, self.orient, self.transl] + ([self.betas] if config.optimize_betas else [])
        optimizer = torch.optim.LBFGS(variables, lr=1.0, max_iter=iterations, history_size=config.history,
                                      line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)

        def closure() -> torch.Tensor:
            self.evaluations += 1
            optimizer.zero_grad()
            total = self.terms(stage_config)[0]["total"]
            total.backward()
            return total

        optimizer.step(closure)


def project_to_latent(prior: PosePrior, body_pose: torch.Tensor, iterations: int = 100,
                      weight: float = 0.01) -> torch.Tensor:
    """The latent code whose decoded pose is closest to ``body_pose`` (a latent prior's projection).

    Starts at the encoder mean (``prior.init_params``) and minimises
    ``sum ||R(dec(z)) - R(theta)||_F^2 + weight * ||z||^2`` over the body joints' rotation
    matrices with L-BFGS. The encoder only saw clean poses in training: for a pose fitted to noisy
    or partial joints (twists that the joints do not constrain) its mean can decode far from the
    pose, and a fit in ``z`` started there stalls (measured in chapter 7: 0.1 rad of noise on a
    clean pose sends ``|z|`` from about 7 to about 70). Without the small ``||z||^2`` term the
    projection runs off to codes of norm in the hundreds (where the decoder extrapolates); with it
    ``z`` stays where ``N(0, I)`` has its mass. The objective is a sum over frames, so each frame's
    code gets its own gradient.

    Args:
        prior: a latent prior (:func:`humanlib.priors.is_latent_prior`), e.g. VPoser's.
        body_pose: ``(..., 21, 3)`` axis-angle body poses.
        iterations: L-BFGS iterations (0: the encoder mean).
        weight: weight of ``||z||^2`` (>= 0).

    Returns:
        ``prior.init_params(body_pose)``-shaped codes, detached.

    Raises:
        TypeError: ``prior`` is not a latent prior, ``body_pose`` not a tensor.
        ValueError: ``body_pose`` of another shape, ``iterations`` < 0.
    """
    if not isinstance(prior, PosePrior) or not is_latent_prior(prior):
        raise TypeError(f"prior must be a latent PosePrior (such as VPoserPrior); got {type(prior).__name__}")
    check_tensor(body_pose, "body_pose", (..., len(BODY_JOINTS), 3), hint="(..., 21 body joints, axis-angle)")
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(weight, "weight", allow_zero=True)
    with torch.no_grad():
        z = prior.init_params(body_pose).detach()
    if iterations == 0:
        return z
    target = axis_angle_to_rotmat(body_pose.detach())
    z.requires_grad_(True)
    optimizer = torch.optim.LBFGS([z], lr=1.0, max_iter=iterations, history_size=20, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (axis_angle_to_rotmat(prior.to_body_pose(z)) - target).square().sum() + weight * z.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return z.detach()


__all__ = ["CM", "ROOT_FRAME_JOINTS", "JointsForward", "MotionFitConfig", "MotionFitResult", "check_observation",
           "fit_motion", "motion_energy", "project_to_latent", "root_from_joints"]
