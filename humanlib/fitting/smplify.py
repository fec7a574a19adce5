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

The schedule (:func:`smplify_stages`): camera translation and global orientation are first
fitted to the torso keypoints (depth from similar triangles, :mod:`humanlib.fitting.camera`),
then four stages lower the prior weights ``lambda_theta = [404, 404, 57.4, 4.78]`` and
``lambda_beta = [100, 50, 10, 5]`` so that the pose starts near the prior's modes and
then follows the data. ``lambda_a = 0.317 lambda_theta`` as in SMPLify's code.
Every stage optimises the global orientation, translation, pose parameters and shape with
L-BFGS (the original used dogleg), batched: the loss is the sum over independent frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from humanlib._validate import check_positive, check_same_device, check_tensor
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
    _interpenetration_energy,
    angle_energy,
    check_keypoints,
    keypoint_energy,
    shape_energy,
)
from humanlib.priors import NoPrior, PosePrior
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS

#: Global orientation of a body seen from behind (upright, facing away): rotation by pi about z.
FACING_AWAY = (0.0, 0.0, math.pi)


@dataclass
class SMPLifyStage:
    """Weights and iteration budget of one fitting stage (weights as in the paper; see ``square_weights``).

    Attributes:
        pose_weight: ``lambda_theta`` on the pose prior.
        shape_weight: ``lambda_beta`` on ``||beta||^2``.
        angle_weight: ``lambda_a`` on the elbow/knee penalty.
        interpenetration_weight: ``lambda_sp`` on the sphere interpenetration penalty.
        iterations: L-BFGS iterations (0: the stage only evaluates its energy).

    Raises:
        TypeError, ValueError: a weight that is not a finite number >= 0, ``iterations`` not an integer >= 0.
    """

    pose_weight: float
    shape_weight: float
    angle_weight: float
    interpenetration_weight: float
    iterations: int = 30

    def __post_init__(self) -> None:
        for name in ("pose_weight", "shape_weight", "angle_weight", "interpenetration_weight"):
            check_positive(getattr(self, name), f"SMPLifyStage.{name}", allow_zero=True)
        check_positive(self.iterations, "SMPLifyStage.iterations", integer=True, allow_zero=True)


def smplify_stages(iterations: int = 30, interpenetration_weight: float = 1000.0) -> tuple[SMPLifyStage, ...]:
    """SMPLify's four stages: ``lambda_theta = [404, 404, 57.4, 4.78]``, ``lambda_beta = [100, 50, 10, 5]``.

    ``lambda_a = 0.317 lambda_theta`` (SMPLify's code); ``lambda_sp`` is our choice, constant
    over stages (our sphere penalty is not SMPLify's, so its weight is not theirs either).

    Raises:
        TypeError, ValueError: ``iterations`` not an integer >= 0, ``interpenetration_weight`` not
            a finite number >= 0.
    """
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(interpenetration_weight, "interpenetration_weight", allow_zero=True)
    pose = (404.0, 404.0, 57.4, 4.78)
    shape = (100.0, 50.0, 10.0, 5.0)
    return tuple(
        SMPLifyStage(p, s, 0.317 * p, interpenetration_weight, iterations) for p, s in zip(pose, shape)
    )


@dataclass
class SMPLifyConfig:
    """Everything that configures :func:`fit_smplify`.

    Attributes:
        stages: the fitting stages, in order.
        sigma_px: Geman-McClure scale of ``E_J`` (SMPLify: 100 px).
        square_weights: multiply energies by ``lambda^2`` (SMPLify's residual convention) or by ``lambda``.
        camera_iterations: L-BFGS iterations of the camera/orientation initialisation.
        depth_weight: weight (squared like the others) of ``(t_z - z_init)^2`` during the camera
            initialisation, in pixels per metre.
        flip_test: fit a second, 180-degree-turned body where the shoulders are close in 2D and keep the better fit.
        flip_threshold_px: shoulder distance (pixels) under which the flip test runs.
        use_angle_prior: include ``E_a`` (ablation switch).
        use_interpenetration: include ``E_sp`` (ablation switch).
        optimize_shape: fit ``beta`` (otherwise it stays at the initial value).
        min_visible_joints: frames with fewer joints of positive confidence are invalid.
        on_invalid: ``"raise"`` (ValueError naming the frames) or ``"skip"`` (the frame is not
            fitted, its ``valid`` flag is False and its parameters stay at the initialisation).
        lbfgs_history: L-BFGS history size.

    Raises:
        TypeError, ValueError: naming the field: no stages or stages that are not :class:`SMPLifyStage`,
            a number out of range (``sigma_px > 0``, iterations and weights >= 0, ``lbfgs_history >= 1``,
            ``1 <= min_visible_joints <= 24``), a switch that is not a bool, an unknown ``on_invalid``.
    """

    stages: tuple[SMPLifyStage, ...] = field(default_factory=smplify_stages)
    sigma_px: float = 100.0
    square_weights: bool = True
    camera_iterations: int = 30
    depth_weight: float = 100.0
    flip_test: bool = True
    flip_threshold_px: float = 40.0
    use_angle_prior: bool = True
    use_interpenetration: bool = True
    optimize_shape: bool = True
    min_visible_joints: int = 6
    on_invalid: str = "raise"
    lbfgs_history: int = 10

    def __post_init__(self) -> None:
        if self.on_invalid not in ("raise", "skip"):
            raise ValueError(f"on_invalid must be 'raise' or 'skip'; got {self.on_invalid!r}")
        if isinstance(self.stages, SMPLifyStage) or not isinstance(self.stages, (tuple, list)):
            raise TypeError(f"SMPLifyConfig.stages must be a tuple of SMPLifyStage (e.g. smplify_stages()); "
                            f"got {type(self.stages).__name__}")
        if not self.stages:
            raise ValueError("SMPLifyConfig needs at least one stage")
        wrong = [type(st).__name__ for st in self.stages if not isinstance(st, SMPLifyStage)]
        if wrong:
            raise TypeError(f"SMPLifyConfig.stages must hold SMPLifyStage objects; got {', '.join(wrong)}")
        self.stages = tuple(self.stages)
        check_positive(self.sigma_px, "SMPLifyConfig.sigma_px")
        check_positive(self.depth_weight, "SMPLifyConfig.depth_weight", allow_zero=True)
        check_positive(self.flip_threshold_px, "SMPLifyConfig.flip_threshold_px", allow_zero=True)
        check_positive(self.camera_iterations, "SMPLifyConfig.camera_iterations", integer=True, allow_zero=True)
        check_positive(self.lbfgs_history, "SMPLifyConfig.lbfgs_history", integer=True)
        check_positive(self.min_visible_joints, "SMPLifyConfig.min_visible_joints", integer=True)
        if self.min_visible_joints > NUM_JOINTS:
            raise ValueError(f"SMPLifyConfig.min_visible_joints must be <= {NUM_JOINTS}; got {self.min_visible_joints}")
        for name in ("square_weights", "flip_test", "use_angle_prior", "use_interpenetration", "optimize_shape"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"SMPLifyConfig.{name} must be True or False; got {getattr(self, name)!r}")

    def weight(self, value: float) -> float:
        """The factor an energy is multiplied by for a paper weight ``value``.

        Raises:
            TypeError, ValueError: ``value`` not a finite number >= 0.
        """
        check_positive(value, "value", allow_zero=True)
        return value * value if self.square_weights else value

    def with_iterations(self, iterations: int) -> "SMPLifyConfig":
        """A copy whose every stage runs ``iterations`` L-BFGS iterations.

        Raises:
            TypeError, ValueError: ``iterations`` not an integer >= 0.
        """
        check_positive(iterations, "iterations", integer=True, allow_zero=True)
        return replace(self, stages=tuple(replace(s, iterations=iterations) for s in self.stages))


@dataclass
class SMPLifyResult:
    """Output of :func:`fit_smplify` (camera frame, metres).

    Attributes:
        betas: ``(B, num_betas)`` shapes.
        pose: ``(B, 24, 3)`` full pose (global orientation in the camera frame; hands at rest).
        transl: ``(B, 3)`` translations.
        energy: ``(B,)`` final total energy (NaN for skipped frames).
        data_energy: ``(B,)`` final ``E_J`` (pixels^2).
        valid: ``(B,)`` False for frames skipped as invalid input.
        flipped: ``(B,)`` True where the flip test kept the turned-around body.
        stage_energy: mean total energy over valid frames after the camera step and each stage.
    """

    betas: torch.Tensor
    pose: torch.Tensor
    transl: torch.Tensor
    energy: torch.Tensor
    data_energy: torch.Tensor
    valid: torch.Tensor
    flipped: torch.Tensor
    stage_energy: list[float]


@dataclass
class SMPLifyInit:
    """Starting parameters for :func:`fit_smplify` (camera frame), e.g. the previous frame's fit.

    Attributes:
        betas: ``(B, num_betas)``.
        pose: ``(B, 24, 3)`` axis-angle, global orientation first.
        transl: ``(B, 3)``.

    Raises:
        TypeError, ValueError: not tensors of these shapes with one ``B``, non-finite values, different devices.
    """

    betas: torch.Tensor
    pose: torch.Tensor
    transl: torch.Tensor

    def __post_init__(self) -> None:
        check_tensor(self.betas, "init.betas", (None, None), finite=False, hint="(B, num_betas) shapes.")
        b = self.betas.shape[0]
        check_tensor(self.pose, "init.pose", (b, NUM_JOINTS, 3), finite=False, hint="Axis-angle, global orientation first.")
        check_tensor(self.transl, "init.transl", (b, 3), finite=False)
        check_same_device(self.betas, "init.betas", **{"init.pose": self.pose, "init.transl": self.transl})
        for name, x in (("init.betas", self.betas), ("init.pose", self.pose), ("init.transl", self.transl)):
            check_tensor(x, name)


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
    bad = ~torch.isfinite(keypoints).all(-1)
    return torch.where(bad[..., None], torch.zeros_like(keypoints), keypoints), torch.where(bad, torch.zeros_like(confidence), confidence)


def _SkeletonOnly(model):  # noqa: N802 (was a class; the one skeleton-only FK now lives in humanlib.body)
    """Joints ``f(betas, pose, transl)`` of an SMPL-layout model without skinning the mesh
    (:class:`humanlib.body.SkeletonJoints`; the fit's inputs are checked once, before its loop)."""
    from humanlib.body import SkeletonJoints

    return SkeletonJoints(model).posed_joints_unchecked


def _joints_function(model):
    """``f(betas, pose, transl) -> (B, 24, 3)`` joints: skeleton-only for SMPL-layout models, else the model."""
    if all(hasattr(model, name) for name in ("J_regressor", "shapedirs", "v_template", "parents")):
        try:
            import humanlib.body  # noqa: F401
        except ImportError:
            pass
        else:
            return _SkeletonOnly(model)
    return lambda betas, pose, transl: model(betas=betas, pose=pose, transl=transl).joints


def _check_model_output(out: object, batch: int, device: torch.device) -> None:
    """The model's first output: joints ``(B, 24, 3)`` on the keypoints' device, finite."""
    joints = getattr(out, "joints", None)
    if not isinstance(joints, torch.Tensor) or tuple(joints.shape) != (batch, NUM_JOINTS, 3):
        raise ValueError(f"the model must return an object with joints of shape ({batch}, {NUM_JOINTS}, 3) for "
                         f"{batch} bodies; got {tuple(getattr(joints, 'shape', ())) or type(out).__name__}")
    if joints.device != device:
        raise ValueError(f"the model returned joints on {joints.device} for keypoints on {device}; "
                         "put the model on the keypoints' device")
    if not bool(torch.isfinite(joints).all()):
        raise ValueError("the model returned non-finite joints at the rest pose; check its parameters")


def _full_pose(global_orient: torch.Tensor, body_pose: torch.Tensor) -> torch.Tensor:
    b = global_orient.shape[0]
    hands = body_pose.new_zeros(b, NUM_JOINTS - 1 - len(BODY_JOINTS), 3)
    return torch.cat([global_orient[:, None], body_pose, hands], dim=1)


def _lbfgs(params: list[torch.Tensor], closure, iterations: int, history: int) -> None:
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


def _module_device(obj: object) -> torch.device | None:
    """The device of a module's first parameter or buffer (None for objects without tensors)."""
    if isinstance(obj, torch.nn.Module):
        for t in obj.parameters():
            return t.device
        for t in obj.buffers():
            return t.device
    return None


def _module_dtype(obj: object) -> torch.dtype | None:
    """The floating dtype of a module's first floating parameter or buffer (None when it has none)."""
    if isinstance(obj, torch.nn.Module):
        for t in list(obj.parameters()) + list(obj.buffers()):
            if t.is_floating_point():
                return t.dtype
    return None


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
    keypoints, confidence = sanitize_keypoints(keypoints, confidence)
    device, dtype = keypoints.device, keypoints.dtype
    camera = camera.to(device, dtype)
    if hasattr(prior, "to"):
        prior.to(device=device, dtype=dtype)  # same device (checked); the dtype follows the keypoints
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
    stage_energy: list[float] = []
    if len(frames) == 0:
        return SMPLifyResult(out_betas, out_pose, out_transl, out_energy, out_data, valid, out_flip, stage_energy)

    kp, conf, cam = keypoints[frames], confidence[frames], camera.index(frames)
    # The flip test: frames seen from the side are fitted twice, facing the camera and facing away.
    source = torch.arange(len(frames), device=device)
    flipped = torch.zeros(len(frames), dtype=torch.bool, device=device)
    if config.flip_test and init is None:
        side = torch.nonzero(shoulders_close(kp, conf, config.flip_threshold_px)).squeeze(-1)
        source = torch.cat([source, side])
        flipped = torch.cat([flipped, torch.ones(len(side), dtype=torch.bool, device=device)])
    kp, conf, cam = kp[source], conf[source], cam.index(source)
    b = len(source)

    # ---- camera initialisation: depth by similar triangles, then torso-only fit of (R, t).
    joints_of = _joints_function(model)
    betas = kp.new_zeros(b, num_betas)
    zero_pose = kp.new_zeros(b, NUM_JOINTS, 3)
    with torch.no_grad():
        rest = model(betas=betas, pose=zero_pose, transl=kp.new_zeros(b, 3))
    _check_model_output(rest, b, device)
    facing = torch.tensor([FACING_CAMERA, FACING_AWAY], dtype=dtype, device=device)
    global_orient = facing[flipped.long()].clone()
    depth = estimate_depth(kp, conf, rest.joints, cam)
    oriented = rest.joints * torch.tensor([1.0, -1.0, -1.0], dtype=dtype, device=device)  # R_x(pi)
    oriented = torch.where(flipped[:, None, None], rest.joints * torch.tensor([-1.0, -1.0, 1.0], dtype=dtype, device=device), oriented)
    transl = initial_translation(kp, conf, oriented, depth, cam)

    global_orient.requires_grad_(True)
    transl.requires_grad_(True)
    torso_conf = torch.zeros_like(conf)
    torso_conf[:, list(TORSO_JOINTS)] = conf[:, list(TORSO_JOINTS)]
    torso_conf = torch.where((torso_conf > 0).sum(-1, keepdim=True) >= 2, torso_conf, conf)
    depth_w = config.weight(config.depth_weight)

    camera_pose = prior.initial_body_pose(b, device=device, dtype=dtype)

    def camera_energy() -> torch.Tensor:
        joints = joints_of(betas, _full_pose(global_orient, camera_pose), transl)
        e = keypoint_energy(_project(joints, cam), kp, torso_conf, config.sigma_px)
        return e + depth_w * (transl[:, 2] - depth).square()

    start_pose = prior.initial_body_pose(b, device=device, dtype=dtype)
    if init is None:
        _lbfgs([global_orient, transl], camera_energy, config.camera_iterations, config.lbfgs_history)
    else:
        init_frames = frames[source]
        with torch.no_grad():
            global_orient.copy_(init.pose.to(kp)[init_frames, 0])
            transl.copy_(init.transl.to(kp)[init_frames])
            betas = init.betas.to(kp)[init_frames].clone()
            start_pose = init.pose.to(kp)[init_frames, 1 : 1 + len(BODY_JOINTS)]

    # ---- the stages.
    params = prior.init_params(start_pose).detach().requires_grad_(True)
    betas = betas.clone().requires_grad_(config.optimize_shape)
    use_sp = config.use_interpenetration and any(s.interpenetration_weight > 0 for s in config.stages)
    if use_sp and capsules is None:
        with torch.no_grad():
            mean = model(betas=kp.new_zeros(1, num_betas), pose=kp.new_zeros(1, NUM_JOINTS, 3), transl=kp.new_zeros(1, 3))
        capsules = CapsuleBody(mean.vertices[0], mean.joints[0])
    pairs = capsules.pairs.to(device) if use_sp else None

    def total_energy(stage: SMPLifyStage, radii: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        body_pose = prior.to_body_pose(params)
        pose = _full_pose(global_orient, body_pose)
        joints = joints_of(betas, pose, transl)
        e_j = keypoint_energy(_project(joints, cam), kp, conf, config.sigma_px)
        e = e_j + config.weight(stage.pose_weight) * prior.params_energy(params)
        e = e + config.weight(stage.shape_weight) * shape_energy(betas)
        if config.use_angle_prior and stage.angle_weight > 0:
            e = e + config.weight(stage.angle_weight) * angle_energy(pose)
        if radii is not None:
            centres, sig = capsules.spheres(joints, radii)
            e = e + config.weight(stage.interpenetration_weight) * _interpenetration_energy(centres, sig, pairs)
        return e, e_j

    with torch.no_grad():
        stage_energy.append(float(total_energy(config.stages[0], None)[0].mean()))
    variables = [params, global_orient, transl] + ([betas] if config.optimize_shape else [])
    radii = None
    for stage in config.stages:
        radii = None
        if use_sp and stage.interpenetration_weight > 0:
            with torch.no_grad():  # part radii of the current shape, fixed during the stage
                shaped = model(betas=betas, pose=zero_pose, transl=kp.new_zeros(b, 3))
                radii = capsules.radii(shaped.vertices, shaped.joints)
        _lbfgs(variables, lambda: total_energy(stage, radii)[0], stage.iterations, config.lbfgs_history)
        with torch.no_grad():
            stage_energy.append(float(total_energy(stage, radii)[0].mean()))

    with torch.no_grad():
        energy, e_j = total_energy(config.stages[-1], radii)
        pose = _full_pose(global_orient, prior.to_body_pose(params))
        if not (torch.isfinite(energy).all() and torch.isfinite(pose).all()):
            raise RuntimeError("SMPLify produced a non-finite fit; check the keypoints, camera and weights")
        # Keep, for each frame, the better of its two orientations.
        n = len(frames)
        best = torch.arange(n, device=device)
        for k in range(n, b):
            i = int(source[k])
            if energy[k] < energy[best[i]]:
                best[i] = k
        out_betas[frames] = betas.detach()[best]
        out_pose[frames] = pose[best]
        out_transl[frames] = transl.detach()[best]
        out_energy[frames] = energy[best]
        out_data[frames] = e_j[best]
        out_flip[frames] = flipped[best]
    return SMPLifyResult(out_betas, out_pose, out_transl, out_energy, out_data, valid, out_flip, stage_energy)


__all__ = [
    "FACING_AWAY",
    "SMPLifyConfig",
    "SMPLifyInit",
    "SMPLifyResult",
    "SMPLifyStage",
    "fit_smplify",
    "sanitize_keypoints",
    "smplify_stages",
]
