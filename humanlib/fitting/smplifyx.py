r"""SMPLify-X's staged fit: keypoint sets, stage weights, collision pairs and the fit itself.

:func:`fit_smplifyx` minimises the weighted sum of the terms of
:mod:`humanlib.fitting.smplifyx_terms` (one function per symbol of the paper's energy) in the stages
of :func:`smplifyx_stages`, evaluating only the keypoints with
:class:`humanlib.fitting.keypoints_x.KeypointBody`. Every name of those two modules that a user
imports from here (``from humanlib.fitting.smplifyx import E_J, KeypointBody``) still works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from humanlib._validate import check_positive
from humanlib.fitting import keypoints_x as kx
from humanlib.fitting import smplifyx_terms as _terms
from humanlib.fitting.energies import angle_energy
from humanlib.fitting.keypoints_x import KeypointBody
from humanlib.fitting.smplifyx_terms import (  # the energy's terms: documented here, their home is smplifyx_terms
    COUPLING_SIGMA, DIP_PIP_RATIO, FINGER_RANGES, HAND_START, JAW, JAW_AXIS_WEIGHTS, RANGE_WALL, SMPLX_FINGERS,
    THUMB_RANGES, E_J, _E_J, E_alpha, E_beta, E_c, E_epsilon, E_mh, E_theta_b, E_theta_f, FingerJointRange,
    HandPosePrior, check_keypoints_x, collision_pairs, mesh_parts, set_of_keypoints,
)


# --------------------------------------------------------------------------- the schedule


@dataclass
class SMPLifyXStage:
    """Weights and iterations of one SMPLify-X stage (paper weights; squared as in SMPLify, except ``collision``).

    Attributes:
        body_pose: ``lambda_theta_b`` on :func:`~humanlib.fitting.smplifyx_terms.E_theta_b`.
        hand_pose: ``lambda_m_h`` on :func:`~humanlib.fitting.smplifyx_terms.E_mh`.
        jaw_pose: ``lambda_theta_f`` on :func:`~humanlib.fitting.smplifyx_terms.E_theta_f`.
        shape: ``lambda_beta`` on :func:`~humanlib.fitting.smplifyx_terms.E_beta`.
        expression: ``lambda_epsilon`` on :func:`~humanlib.fitting.smplifyx_terms.E_epsilon`.
        angle: ``lambda_alpha`` on :func:`~humanlib.fitting.smplifyx_terms.E_alpha`.
        hands_data: the hands' keypoint weight ``gamma`` in :func:`~humanlib.fitting.smplifyx_terms.E_J` (the
            body's is 1).
        face_data: the face's keypoint weight in :func:`~humanlib.fitting.smplifyx_terms.E_J`.
        collision: ``lambda_c`` on :func:`~humanlib.fitting.smplifyx_terms.E_c` (m^2), not squared.
        iterations: L-BFGS iterations.

    Raises:
        TypeError, ValueError: a weight that is not a finite number >= 0, ``iterations`` not an integer >= 0.
    """

    body_pose: float
    hand_pose: float
    jaw_pose: float
    shape: float
    expression: float
    angle: float
    hands_data: float
    face_data: float
    collision: float
    iterations: int = 30

    def __post_init__(self) -> None:
        for name in ("body_pose", "hand_pose", "jaw_pose", "shape", "expression", "angle", "hands_data", "face_data",
                     "collision"):
            check_positive(getattr(self, name), f"SMPLifyXStage.{name}", allow_zero=True)
        check_positive(self.iterations, "SMPLifyXStage.iterations", integer=True, allow_zero=True)


#: Our scale of ``E_c``'s weight (pixels^2 per m^2): SMPLify-X's stage weights ``[0, 0, 0, 0.01, 1]``
#: times this. Our penetration field is not SMPLify-X's, so neither is its weight. Chosen on the
#: constructed hand-through-torso pose of the tests (no corpus data): of 1e4, 1e5 and 1e6, all of
#: which removed every intersection (27 intersecting pairs remained without E_c), 1e5 left the lowest
#: mean 2D keypoint error (7.6, 7.1, 8.1 px; 5.1 px without E_c).
COLLISION_SCALE = 1e5


def smplifyx_stages(iterations: int = 30, collision_scale: float = COLLISION_SCALE) -> tuple[SMPLifyXStage, ...]:
    """SMPLify-X's five stages (its configuration's weights).

    ``lambda_theta_b = lambda_m_h = [404, 404, 57.4, 4.78, 4.78]``, ``lambda_theta_f = 10 x`` those,
    ``lambda_beta = lambda_epsilon = [100, 50, 10, 0.5, 0.5]``, hands' keypoint weight
    ``[0, 0, 0, 0.1, 2]``, the face's ``[0, 0, 0, 0, 2]``, ``lambda_c = [0, 0, 0, 0.01, 1] x
    collision_scale``; ``lambda_alpha = 0.317 lambda_theta_b`` as in
    :func:`humanlib.fitting.smplify_config.smplify_stages`.

    Raises:
        TypeError, ValueError: ``iterations`` not an integer >= 0, ``collision_scale`` not a number >= 0.
    """
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(collision_scale, "collision_scale", allow_zero=True)
    body = (404.0, 404.0, 57.4, 4.78, 4.78)
    shape = (100.0, 50.0, 10.0, 0.5, 0.5)
    hands, face, coll = (0.0, 0.0, 0.0, 0.1, 2.0), (0.0, 0.0, 0.0, 0.0, 2.0), (0.0, 0.0, 0.0, 0.01, 1.0)
    return tuple(SMPLifyXStage(b, b, 10 * b, s, s, 0.317 * b, h, f, c * collision_scale, iterations)
                 for b, s, h, f, c in zip(body, shape, hands, face, coll))


@dataclass
class SMPLifyXConfig:
    """Everything that configures :func:`fit_smplifyx` (the fields shared with SMPLify mean what they mean there).

    The shared fields are declared again, not inherited: a dataclass puts inherited fields first, which
    would reorder this constructor; ``smplify_config()`` hands them to SMPLify's camera step and checks,
    and a test keeps their defaults equal to :class:`~humanlib.fitting.smplify.SMPLifyConfig`'s.

    Attributes:
        stages: the stages, in order (:func:`smplifyx_stages`).
        sets: the keypoint sets given (``body`` is required: the camera starts from the torso).
        sigma_px: Geman-McClure scale of ``E_J``.
        square_weights: multiply the energies by ``lambda^2`` (SMPLify's convention) or by ``lambda``.
        camera_iterations, depth_weight, flip_test, flip_threshold_px: the camera step and flip test
            (:class:`humanlib.fitting.smplify.SMPLifyConfig`).
        use_collision: include ``E_c`` (ablation switch).
        freeze_hands_face: keep the 30 finger joints and the jaw (the eyes always are) at exactly zero:
            the SMPL-X-layout model with flat hands is SMPL's body (the open models share one mesh), so
            this fits "SMPL" to body, hand and face keypoints, its rigid hands and head taking them
            (SMPLify-X's Table 1 row). The hand and jaw priors are then constant.
        collision_sigma: the penetration field's depth in circumradii.
        collision_every: in a stage with ``E_c``, the intersecting pairs are searched again (on the
            full mesh) every this many L-BFGS iterations, and a new L-BFGS starts; between searches the
            pairs are fixed. (Once per stage missed the intersections a stage creates: on the
            hand-through-torso test pose the last stage, whose hand and face weights rise, made new ones.)
        min_visible_joints: frames with fewer body keypoints of positive confidence are invalid.
        on_invalid: ``"raise"`` or ``"skip"``.
        lbfgs_history, optimizer, precision: as in SMPLify.

    Raises:
        TypeError, ValueError: naming the field.
    """

    stages: tuple[SMPLifyXStage, ...] = field(default_factory=smplifyx_stages)
    sets: tuple[str, ...] = ("body", "hands", "face")
    sigma_px: float = 100.0
    square_weights: bool = True
    camera_iterations: int = 30
    depth_weight: float = 100.0
    flip_test: bool = True
    flip_threshold_px: float = 40.0
    use_collision: bool = True
    freeze_hands_face: bool = False
    collision_sigma: float = 2.0
    collision_every: int = 15
    min_visible_joints: int = 6
    on_invalid: str = "raise"
    lbfgs_history: int = 10
    optimizer: str = "per-frame"
    precision: str = "float64"

    def __post_init__(self) -> None:
        if isinstance(self.stages, SMPLifyXStage) or not isinstance(self.stages, (tuple, list)) or not self.stages:
            raise TypeError("SMPLifyXConfig.stages must be a non-empty tuple of SMPLifyXStage (e.g. smplifyx_stages())")
        wrong = [type(st).__name__ for st in self.stages if not isinstance(st, SMPLifyXStage)]
        if wrong:
            raise TypeError(f"SMPLifyXConfig.stages must hold SMPLifyXStage objects; got {', '.join(wrong)}")
        self.stages = tuple(self.stages)
        self.sets = kx._check_sets(self.sets)
        if "body" not in self.sets:
            raise ValueError(f"SMPLifyXConfig.sets must include 'body' (the camera starts from the torso); got {self.sets}")
        for name in ("square_weights", "flip_test", "use_collision", "freeze_hands_face"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"SMPLifyXConfig.{name} must be True or False; got {getattr(self, name)!r}")
        check_positive(self.collision_sigma, "SMPLifyXConfig.collision_sigma")
        check_positive(self.collision_every, "SMPLifyXConfig.collision_every", integer=True)
        check_positive(self.min_visible_joints, "SMPLifyXConfig.min_visible_joints", integer=True)
        if self.min_visible_joints > kx.KEYPOINT_SETS["body"]:
            raise ValueError(f"SMPLifyXConfig.min_visible_joints must be <= 25; got {self.min_visible_joints}")
        self.smplify_config()  # the shared fields' checks

    def smplify_config(self):
        """The :class:`~humanlib.fitting.smplify.SMPLifyConfig` of the shared fields (camera step, solver)."""
        from humanlib.fitting.smplify import SMPLifyConfig, SMPLifyStage

        return SMPLifyConfig(stages=(SMPLifyStage(0.0, 0.0, 0.0, 0.0, 0),), sigma_px=self.sigma_px,
                             square_weights=self.square_weights, camera_iterations=self.camera_iterations,
                             depth_weight=self.depth_weight, flip_test=self.flip_test,
                             flip_threshold_px=self.flip_threshold_px, use_interpenetration=False,
                             on_invalid=self.on_invalid, lbfgs_history=self.lbfgs_history,
                             optimizer=self.optimizer, precision=self.precision)

    def weight(self, value: float) -> float:
        """``value^2`` with ``square_weights``, else ``value``.

        Raises:
            TypeError, ValueError: ``value`` not a finite number >= 0.
        """
        check_positive(value, "value", allow_zero=True)
        return value * value if self.square_weights else value


@dataclass
class SMPLifyXResult:
    """Output of :func:`fit_smplifyx` (camera frame, metres).

    Attributes:
        betas: (B, num_betas).
        pose: (B, 55, 3) full SMPL-X pose (eyes at zero).
        transl: (B, 3).
        expression: (B, E) expression coefficients (E = 0 on the open model).
        energy: (B,) final total energy (NaN for skipped frames).
        data_energy: (B,) final ``E_J`` (last stage's keypoint weights).
        valid: (B,) False for skipped frames.
        flipped: (B,) True where the flip test kept the turned-around body.
        stage_energy: mean energy over the bodies after the camera step and each stage.
        collision_pairs: per stage with ``E_c``, the most intersecting triangle pairs one search found (all bodies).
    """

    betas: torch.Tensor
    pose: torch.Tensor
    transl: torch.Tensor
    expression: torch.Tensor
    energy: torch.Tensor
    data_energy: torch.Tensor
    valid: torch.Tensor
    flipped: torch.Tensor
    stage_energy: list[float]
    collision_pairs: list[int]


# --------------------------------------------------------------------------- the fit


class _Body24:
    """SMPLify's camera step on an SMPL-X body: joints 0..23 of a pose whose joints 0..21 are SMPL's."""

    def __init__(self, body: KeypointBody) -> None:
        self.body = body
        self.none = torch.zeros(0, dtype=torch.long)

    def __call__(self, betas, pose24, transl):
        pose = torch.cat([pose24[:, :22], pose24.new_zeros(pose24.shape[0], kx.SMPLX_NUM_JOINTS - 22, 3)], 1)
        return self.body._posed(betas, pose, transl, self.none)[0][:, :24]

    def rest_mesh(self, betas):
        joints = self(betas, betas.new_zeros(betas.shape[0], 24, 3), betas.new_zeros(betas.shape[0], 3))
        return joints, joints


def _body_keypoints_as_smpl(keypoints, confidence, sets):
    """The BODY_25 keypoints that are SMPL joints, as SMPLify's (B, 24, 2) array (others: confidence 0)."""
    from humanlib.skeleton import joint

    start = 0
    for s in sets:
        if s == "body":
            break
        start += kx.KEYPOINT_SETS[s]
    kp24 = keypoints.new_zeros(keypoints.shape[0], 24, 2)
    conf24 = confidence.new_zeros(confidence.shape[0], 24)
    for i, name in enumerate(kx.OPENPOSE_BODY25_NAMES):
        if name in kx._BODY_JOINTS:
            j = joint(kx._BODY_JOINTS[name])
            kp24[:, j], conf24[:, j] = keypoints[:, start + i], confidence[:, start + i]
    return kp24, conf24


class _StageEnergyX:
    """SMPLify-X's total energy of a stage, per body, on any subset of the bodies (separable)."""

    def __init__(self, body, prior, hand_prior, keypoints, confidence, camera, config, set_index):
        self.body, self.prior, self.hand_prior = body, prior, hand_prior
        self.keypoints, self.confidence, self.camera, self.config = keypoints, confidence, camera, config
        self.set_index = set_index  # (K,) 0 body, 1 hands, 2 face
        self.stage = config.stages[0]
        self.vertex_ids = body.keypoint_vertices
        self.pairs = None  # (P, 3) (body, local s, local t) into self.faces
        self.faces = None
        self.jaw_w = None

    def set_stage(self, stage, pairs=None, faces=None) -> None:
        self.stage, self.pairs, self.faces = stage, pairs, faces
        gamma = torch.tensor([1.0, stage.hands_data, stage.face_data], dtype=self.keypoints.dtype)
        self.gamma = torch.tensor([self.config.weight(float(g)) for g in gamma], dtype=self.keypoints.dtype,
                                  device=self.keypoints.device)[self.set_index]

    def pose(self, params, global_orient, jaw, hands):
        if self.config.freeze_hands_face:  # SMPL's rigid hands and head: fingers and jaw stay exactly at zero
            jaw, hands = jaw * 0, hands * 0
        b = params.shape[0]
        body = self.prior.to_body_pose_unchecked(params)
        eyes = body.new_zeros(b, 2, 3)
        return torch.cat([global_orient[:, None], body, jaw[:, None], eyes, hands], 1)

    def terms(self, params, global_orient, transl, betas, hands, jaw, idx):
        """``(E, E_J, pose)`` of bodies ``idx``."""
        from humanlib.fitting.camera import _project

        c, st, w = self.config, self.stage, self.config.weight
        if c.freeze_hands_face:
            jaw, hands = jaw * 0, hands * 0
        pose = self.pose(params, global_orient, jaw, hands)
        n_kp = len(self.body.keypoint_vertices)
        ids = self.vertex_ids
        joints, verts = self.body._posed(betas, pose, transl, ids)
        kp3 = self.body._keypoints(joints, verts[:, :n_kp])
        e_j = _E_J(_project(kp3, self.camera.index(idx)), self.keypoints[idx], self.confidence[idx], self.gamma,
                   c.sigma_px)
        e = e_j + w(st.body_pose) * self.prior.params_energy_unchecked(params)
        e = e + w(st.hand_pose) * self.hand_prior._energy(hands)
        e = e + w(st.jaw_pose) * (jaw * jaw.new_tensor(JAW_AXIS_WEIGHTS)).square().sum(-1)
        e = e + w(st.shape) * betas.square().sum(-1)
        e = e + w(st.angle) * angle_energy(pose[:, :24])
        if self.pairs is not None and len(self.pairs):
            where = torch.full((len(self.keypoints),), -1, dtype=torch.long, device=idx.device)
            where[idx] = torch.arange(len(idx), device=idx.device)
            rows = where[self.pairs[:, 0]]
            keep = rows >= 0
            if bool(keep.any()):
                pairs = torch.cat([rows[keep, None], self.pairs[keep, 1:]], 1)
                from humanlib.fitting.collision import _collision_energy

                e = e + st.collision * _collision_energy(verts[:, n_kp:], self.faces, pairs, c.collision_sigma)
        return e, e_j, pose

    def __call__(self, values, idx):
        return self.terms(*values, idx)[0]


def _stage_pairs(model, parts, body, energy, values, n_kp):
    """Intersecting pairs of the current bodies, in the local numbering of the extra vertices they touch."""
    with torch.no_grad():
        params, global_orient, transl, betas, hands, jaw = values
        pose = energy.pose(params, global_orient, jaw, hands)
        dtype = model.v_template.dtype
        verts = model(betas=betas.to(dtype), pose=pose.to(dtype), transl=transl.to(dtype)).vertices
        pairs = collision_pairs(verts, model, parts)
    if len(pairs) == 0:
        return pairs, None, body.keypoint_vertices
    faces = model.faces.to(pairs.device)
    tri = torch.cat([pairs[:, 1], pairs[:, 2]])
    used = torch.unique(faces[tri])
    local = torch.full((model.num_vertices,), -1, dtype=torch.long, device=pairs.device)
    local[used] = torch.arange(len(used), device=pairs.device)
    p = len(pairs)
    local_faces = local[faces[tri]]  # (2P, 3): the s triangles, then the t triangles
    local_pairs = torch.stack([pairs[:, 0], torch.arange(p, device=pairs.device),
                               p + torch.arange(p, device=pairs.device)], 1)
    ids = torch.cat([body.keypoint_vertices, used.cpu()])
    return local_pairs, local_faces, ids


def fit_smplifyx(model, keypoints: torch.Tensor, confidence: torch.Tensor, camera, prior=None,
                 hand_prior: HandPosePrior | None = None, config: SMPLifyXConfig | None = None) -> SMPLifyXResult:
    """Fit an SMPL-X-layout model to body, hand and face keypoints with SMPLify-X's staged energy.

    The steps are SMPLify's (:mod:`humanlib.fitting.smplify`, reused): the bodies to fit (each valid
    frame and a turned-around copy of side views), the camera and global orientation from the torso
    keypoints (the BODY_25 keypoints that are SMPL joints), then SMPLify-X's stages
    (:func:`smplifyx_stages`), each an L-BFGS per frame over VPoser's ``z``, the global orientation,
    translation, shape, both hands' 30 finger joints and the jaw, and for each frame the better of
    its two orientations. ``E_c``'s intersecting pairs are searched on the full mesh at the start of
    each stage where its weight is > 0 and again every ``config.collision_every`` iterations; in
    between only the vertices of those triangles are posed (with the keypoints' ones,
    :class:`~humanlib.fitting.keypoints_x.KeypointBody`).

    Args:
        model: an SMPL-X-layout :class:`humanlib.body.BodyModel` (55 joints), on the keypoints' device.
        keypoints: (B, K, 2) pixels, the sets of ``config.sets`` in OpenPose's order (K = 25, 67 or 118
            for body / body+hands / body+hands+face).
        confidence: (B, K) detection confidences (0 = missing).
        camera: ``B`` known cameras (:class:`humanlib.fitting.camera.Camera`).
        prior: the body pose prior (default: VPoser, ``load_prior("vposer")``).
        hand_prior: :class:`~humanlib.fitting.smplifyx_terms.HandPosePrior` (default: built from ``model``).
        config: :class:`SMPLifyXConfig`.

    Returns:
        :class:`SMPLifyXResult`.

    Raises:
        TypeError, ValueError: an SMPL model (24 joints) where SMPL-X is needed, keypoints of the wrong
            width for ``config.sets`` (missing face keypoints named), a camera of another batch, frames
            with too few body keypoints (``on_invalid="raise"``), a config or prior of the wrong class.
    """
    from humanlib.fitting.camera import check_camera
    from humanlib.fitting.smplify import _bodies_to_fit, _better_orientation, _initialise_camera, _minimise
    from humanlib.priors import PosePrior

    config = SMPLifyXConfig() if config is None else config
    if not isinstance(config, SMPLifyXConfig):
        raise TypeError(f"config must be an SMPLifyXConfig; got {type(config).__name__}")
    kx._check_model(model)
    if prior is None:
        from humanlib.priors.registry import load_prior

        prior = load_prior("vposer")
    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior (or None for VPoser); got {type(prior).__name__}")
    hand_prior = HandPosePrior(model) if hand_prior is None else hand_prior
    if not isinstance(hand_prior, HandPosePrior):
        raise TypeError(f"hand_prior must be a HandPosePrior or None; got {type(hand_prior).__name__}")
    check_keypoints_x(keypoints, confidence, config.sets)
    if keypoints.dtype not in (torch.float32, torch.float64) or keypoints.shape[0] == 0:
        raise ValueError(f"keypoints must be a non-empty float32 or float64 batch; got {keypoints.dtype}, "
                         f"{keypoints.shape[0]} frames")
    check_camera(camera, keypoints.shape[0], "frames of keypoints")
    if model.v_template.device != keypoints.device:
        raise ValueError(f"the model is on {model.v_template.device} but keypoints on {keypoints.device}; move one")
    out_dtype, device = keypoints.dtype, keypoints.device
    work = torch.float64 if config.precision == "float64" else out_dtype
    kp = torch.where(torch.isfinite(keypoints), keypoints, torch.zeros_like(keypoints)).to(work)
    conf = confidence.to(work)
    cam = camera.to(device, work)
    sconf = config.smplify_config()
    had = getattr(prior, "to", None)
    from humanlib.fitting.smplify import _module_dtype

    prior_dtype = _module_dtype(prior)
    if had is not None:
        prior.to(device=device, dtype=work)
    try:
        return _fit_x(model, kp, conf, cam, prior, hand_prior, config, sconf, out_dtype,
                      (_bodies_to_fit, _better_orientation, _initialise_camera, _minimise))
    finally:
        if had is not None and prior_dtype is not None:
            prior.to(dtype=prior_dtype)


def _fit_x(model, kp, conf, cam, prior, hand_prior, config, sconf, out_dtype, steps):
    _bodies_to_fit, _better_orientation, _initialise_camera, _minimise = steps
    device, dtype = kp.device, kp.dtype
    n = kp.shape[0]
    nb = model.num_betas
    kp24, conf24 = _body_keypoints_as_smpl(kp, conf, config.sets)
    valid, frames = _fittable_frames(conf, config)
    out = SMPLifyXResult(kp.new_zeros(n, nb), kp.new_zeros(n, kx.SMPLX_NUM_JOINTS, 3), kp.new_zeros(n, 3),
                         kp.new_zeros(n, 0), kp.new_full((n,), float("nan")), kp.new_full((n,), float("nan")),
                         valid, torch.zeros(n, dtype=torch.bool, device=device), [], [])
    out.pose[:, 0] = torch.tensor([math.pi, 0.0, 0.0], dtype=dtype, device=device)
    if len(frames) == 0:
        return _cast_result(out, out_dtype)
    body = KeypointBody(model, config.sets)
    bodies = _bodies_to_fit(kp24, conf24, cam, frames, sconf, None)
    global_orient, transl, start_pose = _initialise_camera(nb, _Body24(body), prior, bodies, sconf)
    rows = frames[bodies.source]
    set_index = torch.tensor([("body", "hands", "face").index(s) for s in set_of_keypoints(config.sets)], device=device)
    energy = _StageEnergyX(body, prior, hand_prior, kp[rows], conf[rows], bodies.camera, config, set_index)
    b = len(bodies)
    a = hand_prior.frames[:, 0].to(kp)
    hands = (hand_prior.relaxed.to(kp)[:, None] * a)[None].repeat(b, 1, 1)
    values = [prior.init_params(start_pose).detach(), global_orient, transl, kp.new_zeros(b, nb), hands,
              kp.new_zeros(b, 3)]
    for v in values:
        v.requires_grad_(True)
    every = torch.arange(b, device=device)
    parts = mesh_parts(model) if config.use_collision else None
    energy.set_stage(config.stages[0])
    with torch.no_grad():
        out.stage_energy.append(float(energy(values, every).mean()))
    n_kp = len(body.keypoint_vertices)
    for stage in config.stages:
        energy.vertex_ids = body.keypoint_vertices
        if not (config.use_collision and stage.collision > 0):
            energy.set_stage(stage)
            _minimise(values, energy, stage.iterations, sconf)
        else:  # the pairs are searched again every `collision_every` iterations (a new L-BFGS each time)
            found = 0
            for done in range(0, max(stage.iterations, 1), config.collision_every):
                pairs, faces, energy.vertex_ids = _stage_pairs(model, parts, body, energy, values, n_kp)
                found = max(found, int(len(pairs)))
                energy.set_stage(stage, pairs if len(pairs) else None, faces)
                _minimise(values, energy, min(config.collision_every, stage.iterations - done), sconf)
            out.collision_pairs.append(found)
        with torch.no_grad():
            out.stage_energy.append(float(energy(values, every).mean()))
    with torch.no_grad():
        total, e_j, pose = energy.terms(*values, every)
        if not (torch.isfinite(total).all() and torch.isfinite(pose).all()):
            raise RuntimeError("SMPLify-X produced a non-finite fit; check the keypoints, camera and weights")
        best = _better_orientation(total, bodies.source, len(frames))
        out.betas[frames] = values[3].detach()[best]
        out.pose[frames] = pose[best]
        out.transl[frames] = values[2].detach()[best]
        out.energy[frames] = total[best]
        out.data_energy[frames] = e_j[best]
        out.flipped[frames] = bodies.flipped[best]
    return _cast_result(out, out_dtype)


def _fittable_frames(conf: torch.Tensor, config: SMPLifyXConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,) mask of the frames with enough visible body keypoints, and their indices.

    Raises:
        ValueError: a frame has too few, and ``config.on_invalid`` is ``"raise"``.
    """
    body_conf = conf[:, :0]
    start = 0
    for s in config.sets:
        if s == "body":
            body_conf = conf[:, start:start + 25]
        start += kx.KEYPOINT_SETS[s]
    valid = (body_conf > 0).sum(-1) >= config.min_visible_joints
    if not valid.all() and config.on_invalid == "raise":
        bad = torch.nonzero(~valid).squeeze(-1).tolist()
        raise ValueError(f"frames {bad[:20]} have fewer than {config.min_visible_joints} body keypoints with positive "
                         "confidence; remove them or use SMPLifyXConfig(on_invalid='skip')")
    return valid, torch.nonzero(valid).squeeze(-1)


def _cast_result(out: SMPLifyXResult, dtype) -> SMPLifyXResult:
    for name in ("betas", "pose", "transl", "expression", "energy", "data_energy"):
        setattr(out, name, getattr(out, name).to(dtype))
    return out

__all__ = [
    "COLLISION_SCALE",
    "KeypointBody",
    "SMPLifyXConfig",
    "SMPLifyXResult",
    "SMPLifyXStage",
    "fit_smplifyx",
    "smplifyx_stages",
    *_terms.__all__,  # re-exported: the energy's terms are documented here
]
