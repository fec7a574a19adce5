"""SMPLify: fit a body model to 2D keypoints by minimising a sum of energies in stages.

``E(beta, theta) = E_J + w(lambda_theta) E_theta + w(lambda_a) E_a + w(lambda_sp) E_sp + w(lambda_beta) E_beta``

**Are the weights squared?** SMPLify's solver (dogleg, in chumpy) minimises a sum of
squared *residuals*, and its weights multiply residuals: a weight ``lambda`` on a residual
``r`` contributes ``lambda^2 r^2``. The paper's ``lambda_theta = 404`` therefore acts as
``404^2 = 163216`` on an energy written as a sum of squares (the GMM min energy, ``||beta||^2``).
We keep the paper's numbers and, with ``square_weights=True`` (the default), multiply each
energy as written in the talk by ``lambda^2``, which reproduces the original objective's
balance between terms (``E_J`` in pixels^2 carries weight 1), except for ``E_a``, written as the
paper writes it, ``sum exp(s theta)``, 100-165 times weaker than SMPLify's code, whose residuals are
``10 exp(s theta)`` (see :func:`humanlib.fitting.energies.angle_energy` for why).
Another difference is in in ``E_J``: we apply the Geman-McClure ``rho`` to each keypoint's squared
2D distance, SMPLify's code applies it to the x and y residuals separately. With ``square_weights=False``
the weights multiply the energies directly, as the formula reads; then the prior terms are
~400 times weaker and fits follow the noisy keypoints more closely.

The schedule (:func:`~humanlib.fitting.smplify_config.smplify_stages`): camera translation and
global orientation are first fitted to the torso keypoints (depth from similar triangles,
:mod:`humanlib.fitting.camera`), then four stages lower the prior weights ``lambda_theta = [404,
404, 57.4, 4.78]`` and ``lambda_beta = [100, 50, 10, 5]`` so that the pose starts near the prior's
modes and then follows the data. ``lambda_a = 0.317 lambda_theta`` as in SMPLify's code. Every stage
optimises the global orientation, translation, pose parameters and shape with L-BFGS (the original
used dogleg), one optimiser per frame run side by side (:mod:`humanlib.fitting.lbfgs`), in double
precision: a frame's fit is the same alone, in a batch of 64 or in any shard of a dataset.
``SMPLifyConfig(optimizer="batch")`` keeps the earlier solver, one L-BFGS on the batch's summed
energy, whose shared line search couples the frames. """

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import NamedTuple
from dataclasses import dataclass

import torch

from humanlib._validate import check_same_device, check_tensor
from humanlib.fitting.camera import (
    FACING_CAMERA,
    TORSO_JOINTS,
    Camera,
    _project,
    check_camera,
    estimate_depth,
    initial_translation,
    shoulders_close,
)
from humanlib.fitting.energies import (
    CapsuleBody,
    BENDING_JOINTS,
    _PairPenalty,
    _angle_energy_unchecked,
    _bending_indices,
    check_keypoints,
    keypoint_energy_unchecked,
    shape_energy,
)
from humanlib.fitting.lbfgs import lbfgs_per_frame
from humanlib.fitting.smplify_models import (  # noqa: F401  (_SkeletonOnly: the tests import it from here)
    _check_model_output, _joints_function, _module_device, _module_dtype, _SkeletonOnly,
)
from humanlib.priors import NoPrior, PosePrior
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS
from humanlib.fitting.smplify_config import (  # re-exported: import them from here
    OPTIMIZERS, FACING_AWAY, SMPLifyStage, smplify_stages, SMPLifyConfig, SMPLifyResult, SMPLifyInit,
)


def sanitize_keypoints(keypoints: torch.Tensor, confidence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Treat non-finite keypoints as missing: their confidence becomes 0 and their value 0.

    :func:`fit_smplify` rejects non-finite keypoints of joints with positive confidence;
    detections that mark missing joints with NaN pass through this function first.

    Args:
        keypoints: ``(B, 24, 2)`` pixels, possibly with NaN for undetected joints.
        confidence: ``(B, 24)`` weights.

    Returns:
        Cleaned copies of both.

    Raises:
        TypeError, ValueError: see :func:`~humanlib.fitting.energies.check_keypoints` (non-finite
            keypoints are allowed here).
    """
    check_keypoints(keypoints, confidence, finite=False)
    return _sanitize_unchecked(keypoints, confidence)


def _sanitize_unchecked(keypoints: torch.Tensor, confidence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    bad = ~torch.isfinite(keypoints).all(-1)
    return torch.where(bad[..., None], torch.zeros_like(keypoints), keypoints), torch.where(bad, torch.zeros_like(confidence), confidence)


def _full_pose(global_orient: torch.Tensor, body_pose: torch.Tensor) -> torch.Tensor:
    b = global_orient.shape[0]
    hands = body_pose.new_zeros(b, NUM_JOINTS - 1 - len(BODY_JOINTS), 3)
    return torch.cat([global_orient[:, None], body_pose, hands], dim=1)


def _lbfgs(params: list[torch.Tensor], closure, iterations: int, history: int) -> None:
    """``torch.optim.LBFGS`` on ``closure().sum()``: one problem for the whole batch."""
    if iterations <= 0:
        return
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=iterations, history_size=history,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-7, tolerance_change=1e-10)

    def step():
        opt.zero_grad()
        loss = closure().sum()
        if not torch.isfinite(loss):
            raise RuntimeError("SMPLify energy became non-finite; check the keypoints, camera and weights")
        loss.backward()
        return loss

    opt.step(step)


def _minimise(variables: list[torch.Tensor], energy, iterations: int, config: "SMPLifyConfig") -> None:
    """Minimise ``energy(values, index) -> (n,)`` over per-frame ``variables`` (each ``(B, ...)``), in place.

    ``energy`` receives the rows ``index`` of every variable (``values``, a list in the same order)
    and returns those frames' energies. ``config.optimizer`` picks the solver.
    """
    if iterations <= 0:
        return
    b = variables[0].shape[0]
    every = torch.arange(b, device=variables[0].device)
    if config.optimizer == "batch":
        _lbfgs(variables, lambda: energy(variables, every), iterations, config.lbfgs_history)
        return
    shapes = [v.shape[1:] for v in variables]
    sizes = [int(math.prod(sh)) for sh in shapes]

    def unpack(x: torch.Tensor) -> list[torch.Tensor]:
        return [part.reshape(len(x), *sh) for part, sh in zip(x.split(sizes, dim=1), shapes)]

    x0 = torch.cat([v.detach().reshape(b, -1) for v in variables], dim=1)
    try:
        result = lbfgs_per_frame(lambda x, idx: energy(unpack(x), idx), x0, iterations, config.lbfgs_history)
    except RuntimeError as err:
        raise RuntimeError(f"SMPLify energy is not finite ({err}); check the keypoints, camera and weights") from None
    with torch.no_grad():
        for v, value in zip(variables, unpack(result.x)):
            v.copy_(value)


def _check_fit_inputs(model, keypoints, confidence, camera, prior, config, capsules, init) -> None:
    """Every check of :func:`fit_smplify`'s arguments, before any computation (one sync for the values)."""
    if not isinstance(config, SMPLifyConfig):
        raise TypeError(f"config must be an SMPLifyConfig; got {type(config).__name__}")
    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior (or None for no prior); got {type(prior).__name__}")
    if capsules is not None and not isinstance(capsules, CapsuleBody):
        raise TypeError(f"capsules must be a CapsuleBody or None; got {type(capsules).__name__}")
    if init is not None and not isinstance(init, SMPLifyInit):
        raise TypeError(f"init must be an SMPLifyInit or None; got {type(init).__name__}")
    if not callable(model):
        raise TypeError(f"model must be a body model called as model(betas=, pose=, transl=); got {type(model).__name__}")
    joints = getattr(model, "num_joints", NUM_JOINTS)
    if isinstance(joints, int) and joints != NUM_JOINTS:
        raise ValueError(f"fit_smplify fits SMPL-layout models ({NUM_JOINTS} joints); {getattr(model, 'name', 'the model')} "
                         f"has {joints}: fit SMPL-X-layout models with humanlib.fitting.smplifyx.fit_smplifyx")
    check_tensor(keypoints, "keypoints", (None, NUM_JOINTS, 2), finite=False,
                 hint="Pixels, one row per SMPL joint; set the confidence of unobserved joints to 0.")
    if keypoints.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"keypoints must be float32 or float64 (the fit's dtype); got {keypoints.dtype}")
    if keypoints.shape[0] == 0:
        raise ValueError("keypoints is an empty batch (B = 0); give at least one frame")
    if isinstance(confidence, torch.Tensor) and confidence.shape == keypoints.shape[:2]:
        check_same_device(keypoints, "keypoints", confidence=confidence)
    check_camera(camera, keypoints.shape[0], "frames of keypoints")
    device = keypoints.device
    check_same_device(keypoints, "keypoints", camera=camera.focal_length)
    for what, owner in (("the model", model), ("the prior", prior)):
        where = _module_device(owner)
        if where is not None and where != device:
            raise ValueError(f"{what} is on {where} but keypoints are on {device}; move one of them "
                             f"(.to({str(device)!r}) on the {what[4:]}, or the keypoints, confidence and camera "
                             f"to {str(where)!r})")
    if device.type == "meta":
        raise ValueError("keypoints are on the meta device (shapes only, no values); a fit needs real tensors")
    model_dtype = _module_dtype(model)
    if model_dtype is not None and model_dtype != keypoints.dtype:
        raise ValueError(f"the model is {model_dtype} but keypoints are {keypoints.dtype}; the fit runs in the "
                         f"keypoints' dtype: cast the keypoints (.to({model_dtype})) or the model (model.to({keypoints.dtype}))")
    num_betas = int(getattr(model, "num_betas", 10))
    if init is not None:
        b = keypoints.shape[0]
        if init.betas.shape != (b, num_betas):
            raise ValueError(f"init.betas must have shape ({b}, {num_betas}) (one row per frame, the model's "
                             f"num_betas); got {tuple(init.betas.shape)}")
        check_same_device(keypoints, "keypoints", **{"init.betas": init.betas})
    template = getattr(model, "v_template", None)
    if capsules is not None and isinstance(template, torch.Tensor) and template.shape[0] != capsules.num_vertices:
        raise ValueError(f"capsules were built from a mesh of {capsules.num_vertices} vertices but the model has "
                         f"{template.shape[0]}; build them from this model's mean shape, or pass capsules=None")
    check_keypoints(keypoints, confidence)  # values: one synchronisation


@dataclass
class _Bodies:
    """The observations of the bodies being fitted: each valid frame, then its turned-around copies.

    ``source[k]`` is the frame body ``k`` explains; ``flipped[k]`` marks the copies of the flip test.
    """

    keypoints: torch.Tensor
    confidence: torch.Tensor
    camera: Camera
    source: torch.Tensor
    flipped: torch.Tensor

    def __len__(self) -> int:
        return len(self.source)

    def rows(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, "_Intrinsics"]:
        """Keypoints, confidences and camera intrinsics of bodies ``idx`` (no checks: the optimiser's inner loop).

        ``idx`` comes from the optimiser (indices into these bodies); the cameras were checked once,
        before the loop, so the rows are read with ``index_select`` and not rebuilt as checked
        :class:`~humanlib.fitting.camera.Camera` objects (whose checks synchronise on every call).
        """
        return (self.keypoints.index_select(0, idx), self.confidence.index_select(0, idx),
                _Intrinsics(self.camera.focal_length.index_select(0, idx), self.camera.principal_point.index_select(0, idx)))


class _Intrinsics(NamedTuple):
    """Camera intrinsics of some bodies, unchecked, for :func:`~humanlib.fitting.camera._project` in the inner loop."""

    focal_length: torch.Tensor
    principal_point: torch.Tensor


def _bodies_to_fit(keypoints, confidence, camera, frames, config, init) -> _Bodies:
    """The frames ``frames``, plus a turned-around copy of each side view (the flip test)."""
    device = keypoints.device
    kp, conf, cam = keypoints[frames], confidence[frames], camera.index(frames)
    source = torch.arange(len(frames), device=device)
    flipped = torch.zeros(len(frames), dtype=torch.bool, device=device)
    if config.flip_test and init is None:
        side = torch.nonzero(shoulders_close(kp, conf, config.flip_threshold_px)).squeeze(-1)
        source = torch.cat([source, side])
        flipped = torch.cat([flipped, torch.ones(len(side), dtype=torch.bool, device=device)])
    return _Bodies(kp[source], conf[source], cam.index(source), source, flipped)


def _initialise_camera(num_betas: int, joints_of, prior, bodies: _Bodies, config: SMPLifyConfig):
    """Global orientation and translation of each body: depth by similar triangles, then a torso fit.

    Returns ``(global_orient (b, 3), transl (b, 3), start body pose (b, 21, 3))``; ``beta = 0``.
    """
    kp, conf, cam = bodies.keypoints, bodies.confidence, bodies.camera
    b, dtype, device = len(bodies), kp.dtype, kp.device
    betas = kp.new_zeros(b, num_betas)
    with torch.no_grad():
        rest_joints = joints_of.rest_mesh(betas)[1]
    _check_model_output(SimpleNamespace(joints=rest_joints), b, device)
    facing = torch.tensor([FACING_CAMERA, FACING_AWAY], dtype=dtype, device=device)
    global_orient = facing[bodies.flipped.long()].clone()
    depth = estimate_depth(kp, conf, rest_joints, cam)
    oriented = rest_joints * torch.tensor([1.0, -1.0, -1.0], dtype=dtype, device=device)  # R_x(pi)
    turned = rest_joints * torch.tensor([-1.0, -1.0, 1.0], dtype=dtype, device=device)
    oriented = torch.where(bodies.flipped[:, None, None], turned, oriented)
    transl = initial_translation(kp, conf, oriented, depth, cam)

    torso_conf = torch.zeros_like(conf)
    torso_conf[:, list(TORSO_JOINTS)] = conf[:, list(TORSO_JOINTS)]
    torso_conf = torch.where((torso_conf > 0).sum(-1, keepdim=True) >= 2, torso_conf, conf)
    depth_w = config.weight(config.depth_weight)
    camera_pose = prior.initial_body_pose(b, device=device, dtype=dtype)

    torso = _Bodies(kp, torso_conf, cam, bodies.source, bodies.flipped)

    def camera_energy(values: list[torch.Tensor], idx: torch.Tensor) -> torch.Tensor:
        orient, t = values
        kp_i, conf_i, cam_i = torso.rows(idx)
        joints = joints_of(betas[: len(idx)], _full_pose(orient, camera_pose.index_select(0, idx)), t)
        e = keypoint_energy_unchecked(_project(joints, cam_i), kp_i, conf_i, config.sigma_px)
        return e + depth_w * (t[:, 2] - depth.index_select(0, idx)).square()

    variables = [global_orient.requires_grad_(True), transl.requires_grad_(True)]
    _minimise(variables, camera_energy, config.camera_iterations, config)
    return global_orient.detach(), transl.detach(), camera_pose


def _from_init(init: SMPLifyInit, bodies: _Bodies, frames: torch.Tensor):
    """``(global_orient, transl, betas, body pose)`` of each body, taken from ``init``."""
    rows = frames[bodies.source]
    kp = bodies.keypoints
    pose = init.pose.to(kp)[rows]
    return pose[:, 0].clone(), init.transl.to(kp)[rows].clone(), init.betas.to(kp)[rows].clone(), \
        pose[:, 1 : 1 + len(BODY_JOINTS)].clone()


class _StageEnergy:
    """SMPLify's total energy of a stage, per body, on any subset of the bodies (separable)."""

    def __init__(self, joints_of, prior, bodies: _Bodies, config: SMPLifyConfig, capsules, pairs) -> None:
        self.joints_of, self.prior, self.bodies, self.config = joints_of, prior, bodies, config
        self.capsules, self.pairs = capsules, pairs
        self.stage: SMPLifyStage = config.stages[0]
        self.radii: torch.Tensor | None = None
        self.penalty: _PairPenalty | None = None  # E_sp of the stage's radii (set with them)
        self.bending: tuple[torch.Tensor, ...] | None = None  # E_a's joints, axes and signs (made once)
        self.fixed_betas: torch.Tensor | None = None

    def terms(self, params, global_orient, transl, betas, idx) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(E, E_J, full pose)`` of bodies ``idx``."""
        config, stage, prior = self.config, self.stage, self.prior
        kp, conf, cam = self.bodies.rows(idx)
        pose = _full_pose(global_orient, prior.to_body_pose_unchecked(params))  # params from init_params: checked
        joints = self.joints_of(betas, pose, transl)
        e_j = keypoint_energy_unchecked(_project(joints, cam), kp, conf, config.sigma_px)
        e = e_j + config.weight(stage.pose_weight) * prior.params_energy_unchecked(params)
        e = e + config.weight(stage.shape_weight) * shape_energy(betas)
        if config.use_angle_prior and stage.angle_weight > 0:
            if self.bending is None:
                self.bending = _bending_indices(BENDING_JOINTS, pose)
            e = e + config.weight(stage.angle_weight) * _angle_energy_unchecked(pose, *self.bending)
        if self.radii is not None:
            e = e + config.weight(stage.interpenetration_weight) * self.penalty(joints, idx)
        return e, e_j, pose

    def __call__(self, values: list[torch.Tensor], idx: torch.Tensor) -> torch.Tensor:
        params, global_orient, transl = values[:3]
        betas = values[3] if len(values) > 3 else self.fixed_betas[idx]
        return self.terms(params, global_orient, transl, betas, idx)[0]


def _run_stages(energy: _StageEnergy, params, global_orient, transl, betas, use_sp: bool) -> list[float]:
    """SMPLify's stages in order, each from the previous one's result; the mean energy after each."""
    config, b = energy.config, len(energy.bodies)
    every = torch.arange(b, device=params.device)
    params.requires_grad_(True)
    global_orient.requires_grad_(True)
    transl.requires_grad_(True)
    variables = [params, global_orient, transl]
    if config.optimize_shape:
        variables.append(betas.requires_grad_(True))
    else:
        energy.fixed_betas = betas
    stage_energy = []
    with torch.no_grad():
        stage_energy.append(float(energy(variables, every).mean()))
    for stage in config.stages:
        energy.stage, energy.radii = stage, None
        if use_sp and stage.interpenetration_weight > 0:
            with torch.no_grad():  # part radii of the current shape, fixed during the stage
                rest = energy.joints_of.rest_mesh(betas)
                if isinstance(energy.joints_of, _SkeletonOnly):  # the fit's own mesh: checked by construction
                    energy.radii = energy.capsules._radii_unchecked(*rest)
                else:
                    energy.radii = energy.capsules.radii(*rest)
                energy.penalty = _PairPenalty(energy.capsules, energy.radii, energy.pairs)
        _minimise(variables, energy, stage.iterations, config)
        with torch.no_grad():
            stage_energy.append(float(energy(variables, every).mean()))
    return stage_energy


def _better_orientation(energy: torch.Tensor, source: torch.Tensor, n: int) -> torch.Tensor:
    """For each of the ``n`` frames, the body (the frame itself or its turned copy) of lower energy."""
    best = torch.arange(n, device=energy.device)
    for k in range(n, len(source)):
        i = int(source[k])
        if energy[k] < energy[best[i]]:
            best[i] = k
    return best


def fit_smplify(
    model,
    keypoints: torch.Tensor,
    confidence: torch.Tensor,
    camera: Camera,
    prior: PosePrior | None = None,
    config: SMPLifyConfig | None = None,
    capsules: CapsuleBody | None = None,
    init: SMPLifyInit | None = None,
) -> SMPLifyResult:
    """Fit shape, pose and translation of a batch of bodies to 2D keypoints (SMPLify).

    The steps: the bodies to fit (``_bodies_to_fit``: each valid frame, and a turned-around
    copy of side views), the camera initialisation (``_initialise_camera``) or ``init``,
    the stages (``_run_stages``), and for each frame the better of its two orientations.
    With ``config.optimizer="per-frame"`` (the default) each frame's result is the same
    whatever batch it is fitted in, up to floating-point round-off.

    Args:
        model: a body model called as ``model(betas=(B, nb), pose=(B, 24, 3), transl=(B, 3))``
            returning an object with ``joints (B, 24, 3)`` and ``vertices (B, V, 3)``
            (:func:`humanlib.body.load_body_model`); ``model.num_betas`` gives ``nb`` (10 if absent).
        keypoints: ``(B, 24, 2)`` observed joints in pixels, one row per SMPL joint.
            Non-finite rows are treated as missing (confidence 0).
        confidence: ``(B, 24)`` per-joint weights ``w_i >= 0`` (0 = not observed).
        camera: ``B`` known cameras (intrinsics).
        prior: pose prior (:class:`~humanlib.priors.PosePrior`); ``None`` = no prior.
        config: :class:`SMPLifyConfig` (default: SMPLify's schedule).
        capsules: sphere proxy for ``E_sp``; built from the model's mean shape when None and needed.
        init: start from these parameters instead of SMPLify's initialisation (no camera
            step, no flip test): a warm start from a previous frame or a regressor.

    Returns:
        :class:`SMPLifyResult`.

    Raises:
        TypeError: keypoints, confidence not tensors; camera, prior, config, capsules, init of the wrong class.
        ValueError: wrong shapes or dtypes (float32 or float64, the model's dtype), an empty batch, non-finite or
            negative confidences, non-finite keypoints at joints of positive confidence (mark
            missing joints with confidence 0 or use :func:`sanitize_keypoints`), a camera, prior,
            model or ``init`` of another batch size or on another device, or
            (``on_invalid="raise"``) frames with fewer than ``min_visible_joints`` visible joints, naming them.
    """
    config = SMPLifyConfig() if config is None else config
    prior = NoPrior() if prior is None else prior
    _check_fit_inputs(model, keypoints, confidence, camera, prior, config, capsules, init)
    keypoints, confidence = _sanitize_unchecked(keypoints, confidence)  # checked just above
    out_dtype = keypoints.dtype
    work = torch.float64 if config.precision == "float64" else out_dtype
    prior_dtype = _module_dtype(prior)
    if hasattr(prior, "to"):
        prior.to(device=keypoints.device, dtype=work)  # same device (checked)
    try:
        result = _fit(model, keypoints.to(work), confidence.to(work), camera.to(keypoints.device, work), prior,
                      config, capsules, init)
    finally:
        if hasattr(prior, "to") and prior_dtype is not None:
            prior.to(dtype=prior_dtype)  # the caller's prior as it was
    if work != out_dtype:
        for name in ("betas", "pose", "transl", "energy", "data_energy"):
            setattr(result, name, getattr(result, name).to(out_dtype))
    return result


def _fit(model, keypoints, confidence, camera, prior, config, capsules, init) -> SMPLifyResult:
    """:func:`fit_smplify` on checked inputs, in their dtype."""
    device, dtype = keypoints.device, keypoints.dtype
    n_frames = keypoints.shape[0]
    num_betas = int(getattr(model, "num_betas", 10))

    valid = (confidence > 0).sum(-1) >= config.min_visible_joints
    if not valid.all() and config.on_invalid == "raise":
        bad = torch.nonzero(~valid).squeeze(-1).tolist()
        raise ValueError(
            f"frames {bad[:20]}{'...' if len(bad) > 20 else ''} have fewer than {config.min_visible_joints} "
            "keypoints with positive confidence (after NaN keypoints were marked missing); remove them or "
            "use SMPLifyConfig(on_invalid='skip')"
        )
    frames = torch.nonzero(valid).squeeze(-1)
    out_betas = keypoints.new_zeros(n_frames, num_betas)
    out_pose = keypoints.new_zeros(n_frames, NUM_JOINTS, 3)
    out_pose[:, 0] = torch.tensor(FACING_CAMERA, dtype=dtype, device=device)
    out_transl = keypoints.new_zeros(n_frames, 3)
    out_energy = keypoints.new_full((n_frames,), float("nan"))
    out_data = keypoints.new_full((n_frames,), float("nan"))
    out_flip = torch.zeros(n_frames, dtype=torch.bool, device=device)
    if len(frames) == 0:
        return SMPLifyResult(out_betas, out_pose, out_transl, out_energy, out_data, valid, out_flip, [])

    bodies = _bodies_to_fit(keypoints, confidence, camera, frames, config, init)
    joints_of = _joints_function(model)
    if init is None:
        global_orient, transl, start_pose = _initialise_camera(num_betas, joints_of, prior, bodies, config)
        betas = keypoints.new_zeros(len(bodies), num_betas)
    else:
        global_orient, transl, betas, start_pose = _from_init(init, bodies, frames)

    use_sp = config.use_interpenetration and any(s.interpenetration_weight > 0 for s in config.stages)
    if use_sp and capsules is None:
        with torch.no_grad():
            mean_vertices, mean_joints = joints_of.rest_mesh(keypoints.new_zeros(1, num_betas))
        capsules = CapsuleBody(mean_vertices[0], mean_joints[0])
    pairs = capsules.pairs.to(device) if use_sp else None
    energy = _StageEnergy(joints_of, prior, bodies, config, capsules, pairs)
    params = prior.init_params(start_pose).detach()
    stage_energy = _run_stages(energy, params, global_orient, transl, betas, use_sp)

    with torch.no_grad():
        every = torch.arange(len(bodies), device=device)
        total, e_j, pose = energy.terms(params, global_orient, transl, betas, every)
        if not (torch.isfinite(total).all() and torch.isfinite(pose).all()):
            raise RuntimeError("SMPLify produced a non-finite fit; check the keypoints, camera and weights")
        best = _better_orientation(total, bodies.source, len(frames))
        out_betas[frames] = betas.detach()[best]
        out_pose[frames] = pose[best]
        out_transl[frames] = transl.detach()[best]
        out_energy[frames] = total[best]
        out_data[frames] = e_j[best]
        out_flip[frames] = bodies.flipped[best]
    return SMPLifyResult(out_betas, out_pose, out_transl, out_energy, out_data, valid, out_flip, stage_energy)


__all__ = [
    "FACING_AWAY",
    "OPTIMIZERS",
    "SMPLifyConfig",
    "SMPLifyInit",
    "SMPLifyResult",
    "SMPLifyStage",
    "fit_smplify",
    "sanitize_keypoints",
    "smplify_stages",
]
