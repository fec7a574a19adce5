"""The experimental protocol: windows of test motion, noise, occlusion and the error metrics.

Pose-NDF's motion experiments (the talk's Tables 3 and 4) take test motions, cut them into
windows of 60, 120 or 240 frames, corrupt what is observed, fit a body to the corrupted
observation and report the per-vertex error against the clean motion. This module holds every
step that does not involve fitting:

=====================================  ==================================================
step                                    function
=====================================  ==================================================
windows of a clip / of a corpus split   ``window_starts``, ``cut_windows``
a fixed subset of windows               ``humanlib.experiments.protocol.evenly_spaced``
Gaussian noise on the axis-angle        ``add_pose_noise``
Gaussian noise on the 3D joints         ``add_joint_noise``
named occluded joint groups             ``OCCLUSION_GROUPS``, ``occlusion_mask``
what the fitter sees                    ``make_observation`` -> ``Observation``
per-vertex error (cm)                   ``per_vertex_error``, ``sequence_vertices``
joint-angle error (degrees)             ``joint_angle_error``
=====================================  ==================================================

The observation is always a sequence of 3D joint positions (the 24 joints of the body
model) with a visibility mask, so one data term serves every condition:

* ``pose_noise``: Gaussian noise of ``sigma`` radians on each axis-angle component of the
  body joints 1..21 (root and hands untouched); the observed joints are those of the noisy
  pose, and the fit starts from the noisy pose.
* ``joint_noise``: Gaussian noise of ``sigma`` metres on each coordinate of each clean
  joint (HuMoR's protocol uses 4 cm); the fit starts from the rest pose.
* ``occlusion``: clean joints with a named group of joints missing (mask 0).

The clean bodies have the mean shape (``beta = 0``): the corpus is retargeted onto the
mean-shape skeleton and stores no shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from humanlib._validate import check_generator, check_positive, check_same_device, check_tensor
from humanlib.body import BodyModel
from humanlib.rotations import axis_angle_to_rotmat, rotmat_geodesic_distance
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS, joint
from humanlib.experiments.windows import (  # re-exported: import them from here
    window_starts, evenly_spaced, Windows, balanced_subset, cut_windows, corpus_clips,
)


_NOISE_ON_CPU = "the noise is drawn on the CPU, then moved"

#: Joint groups removed from the observation in the occlusion experiment (SMPL joint names).
#: "legs": both legs below the hips; "arm_hand": the left forearm and hand (elbow, wrist,
#: hand); "shoulder_upper_arm": the left shoulder and the end of the upper arm (the elbow).
OCCLUSION_GROUPS: dict[str, tuple[str, ...]] = {
    "legs": ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot"),
    "arm_hand": ("left_elbow", "left_wrist", "left_hand"),
    "shoulder_upper_arm": ("left_shoulder", "left_elbow"),
}

CONDITION_KINDS = ("pose_noise", "joint_noise", "occlusion")


@dataclass(frozen=True)
class Condition:
    """One data condition of an experiment (a column group of the tables).

    Attributes:
        name: short id used in results files, e.g. ``"pose-0.1rad"``.
        kind: ``"pose_noise"``, ``"joint_noise"`` or ``"occlusion"``.
        sigma: noise standard deviation (radians for pose noise, metres for joint noise).
        occluded: names of the joints missing from the observation (occlusion only).
        label: the column heading in tables.
    """

    name: str
    kind: str
    sigma: float = 0.0
    occluded: tuple[str, ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"condition name must be a non-empty string, got {self.name!r}")
        if self.kind not in CONDITION_KINDS:
            raise ValueError(f"condition kind must be one of {CONDITION_KINDS}, got {self.kind!r}")
        check_positive(self.sigma, "condition sigma", allow_zero=True)
        if isinstance(self.occluded, str) or not isinstance(self.occluded, (tuple, list)):
            raise TypeError(f"condition occluded must be a tuple of joint names, got {self.occluded!r}")
        object.__setattr__(self, "occluded", tuple(self.occluded))  # a list would make the condition unhashable
        for name in self.occluded:
            joint(name)  # raises KeyError naming the known joints
        if self.kind == "occlusion" and self.sigma != 0:
            raise ValueError(f"condition {self.name!r}: an occlusion condition adds no noise; sigma must be 0, "
                             f"got {self.sigma}")
        if self.kind != "occlusion" and self.occluded:
            raise ValueError(f"condition {self.name!r}: occluded joints are used only by occlusion conditions, "
                             f"not by {self.kind!r}")


DENOISE_CONDITIONS: tuple[Condition, ...] = (
    Condition("pose-0.1rad", "pose_noise", sigma=0.1, label="pose noise σ = 0.1 rad"),
    Condition("pose-0.5rad", "pose_noise", sigma=0.5, label="pose noise σ = 0.5 rad"),
    Condition("joints-4cm", "joint_noise", sigma=0.04, label="joint noise σ = 4 cm"),
)

OCCLUSION_CONDITIONS: tuple[Condition, ...] = (
    Condition("occ-legs", "occlusion", occluded=OCCLUSION_GROUPS["legs"], label="occluded legs"),
    Condition("occ-arm-hand", "occlusion", occluded=OCCLUSION_GROUPS["arm_hand"], label="occluded arm + hand"),
    Condition("occ-shoulder-upper-arm", "occlusion", occluded=OCCLUSION_GROUPS["shoulder_upper_arm"],
              label="occluded shoulder + upper arm"),
)

EXPERIMENT_CONDITIONS: dict[str, tuple[Condition, ...]] = {
    "denoise": DENOISE_CONDITIONS,
    "occlusion": OCCLUSION_CONDITIONS,
}


def condition_by_name(name: str) -> Condition:
    """The condition called ``name`` among ``EXPERIMENT_CONDITIONS``."""
    for conditions in EXPERIMENT_CONDITIONS.values():
        for c in conditions:
            if c.name == name:
                return c
    known = [c.name for cs in EXPERIMENT_CONDITIONS.values() for c in cs]
    raise ValueError(f"unknown condition {name!r}; known conditions: {', '.join(known)}")


# --------------------------------------------------------------------------- corruption


def _check_model(model: object) -> None:
    """Raise unless ``model`` is a :class:`humanlib.body.BodyModel` with SMPL's 24 joints."""
    if not isinstance(model, BodyModel):
        raise TypeError(f"model must be a humanlib.body.BodyModel (from humanlib.body.load_body_model); "
                        f"got {type(model).__name__}")
    if model.num_joints != NUM_JOINTS:
        raise ValueError(f"the motion experiments need SMPL's {NUM_JOINTS} joints; the model has {model.num_joints}")


def _check_movable(model: BodyModel, **tensors: torch.Tensor | None) -> None:
    """Inputs are moved to the model's device, except from the meta device (no data to move)."""
    for name, x in tensors.items():
        if isinstance(x, torch.Tensor) and x.device.type == "meta" and model.v_template.device.type != "meta":
            check_same_device(model.v_template, "the model", **{name: x})


def add_pose_noise(poses: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise on the axis-angle of the body joints 1..21 (root and hands untouched).

    Args:
        poses: ``(..., 24, 3)`` axis-angle.
        sigma: standard deviation in radians of each of the 63 numbers.
        generator: the seeded random source.

    Returns:
        ``(..., 24, 3)`` noisy poses.

    Raises:
        TypeError, ValueError: ``poses`` not a finite floating ``(..., 24, 3)`` tensor, ``sigma``
            not a number >= 0, ``generator`` not a CPU ``torch.Generator``.
    """
    check_tensor(poses, "poses", (..., NUM_JOINTS, 3))
    check_positive(sigma, "sigma", allow_zero=True)
    check_generator(generator, optional=False, device="cpu", why=_NOISE_ON_CPU)
    noise = torch.zeros_like(poses)
    body = list(BODY_JOINTS)
    shape = (*poses.shape[:-2], len(body), 3)
    noise[..., body, :] = sigma * torch.randn(shape, generator=generator, dtype=poses.dtype).to(poses.device)
    return poses + noise


def add_joint_noise(joints: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise of ``sigma`` metres on each coordinate of ``joints (..., J, 3)``.

    Raises:
        TypeError, ValueError: ``joints`` not a finite floating ``(..., J, 3)`` tensor, ``sigma``
            not a number >= 0, ``generator`` not a CPU ``torch.Generator``.
    """
    check_tensor(joints, "joints", (..., None, 3), hint="(..., joints, xyz)")
    check_positive(sigma, "sigma", allow_zero=True)
    check_generator(generator, optional=False, device="cpu", why=_NOISE_ON_CPU)
    return joints + sigma * torch.randn(joints.shape, generator=generator, dtype=joints.dtype).to(joints.device)


def occlusion_mask(occluded: Sequence[str], leading: tuple[int, ...] = ()) -> torch.Tensor:
    """Visibility mask ``(*leading, 24)``: 0 for the named joints, 1 elsewhere.

    Raises:
        TypeError: ``occluded`` is one string (give a tuple of names) or ``leading`` holds a non-integer.
        KeyError: an unknown joint name.
        ValueError: a negative size in ``leading``.
    """
    if isinstance(occluded, str):
        raise TypeError(f"occluded must be a sequence of joint names, not one string; write ({occluded!r},)")
    leading = tuple(leading)
    for n in leading:
        check_positive(n, "leading", integer=True, allow_zero=True)
    mask = torch.ones(*leading, NUM_JOINTS)
    for name in occluded:
        mask[..., joint(name)] = 0.0
    return mask


@dataclass
class Observation:
    """What the fitter sees of a batch of windows.

    Attributes:
        joints: ``(W, T, 24, 3)`` observed 3D joints, metres (occluded ones hold the clean
            value but carry mask 0 and are never read by the fitter).
        mask: ``(W, T, 24)`` 1 = observed, 0 = missing.
        init_body_pose: ``(W, T, 21, 3)`` starting body pose of the fit.
        noisy_poses: ``(W, T, 24, 3)`` the corrupted poses (pose noise only, else None).
    """

    joints: torch.Tensor
    mask: torch.Tensor
    init_body_pose: torch.Tensor
    noisy_poses: torch.Tensor | None = None


def body_joints_of(model, poses: torch.Tensor, transl: torch.Tensor, betas: torch.Tensor | None = None) -> torch.Tensor:
    """Posed 3D joints ``(..., 24, 3)`` of poses ``(..., 24, 3)``, translations ``(..., 3)`` and
    shapes ``(..., K)`` (None: mean shape), by forward kinematics only (no mesh), without gradients.

    Inputs are moved to the model's device and dtype; the joints come back there.

    Raises:
        TypeError: ``model`` is not a ``BodyModel``, or an input is not a tensor.
        ValueError: shapes that do not agree (``K`` must be ``model.num_betas``), non-finite
            values, or an input on the meta device.
    """
    from humanlib.body import SkeletonJoints

    _check_model(model)
    check_tensor(poses, "poses", (..., NUM_JOINTS, 3))
    lead = tuple(poses.shape[:-2])
    check_tensor(transl, "transl", (*lead, 3), hint="one translation per pose")
    if betas is not None:
        check_tensor(betas, "betas", (*lead, model.num_betas), hint="one shape per pose")
    _check_movable(model, poses=poses, transl=transl, betas=betas)
    flat_p = poses.reshape(-1, NUM_JOINTS, 3).to(model.v_template)
    n = flat_p.shape[0]
    flat_b = flat_p.new_zeros(n, model.num_betas) if betas is None else betas.reshape(n, -1).to(flat_p)
    with torch.no_grad():  # checked above, once
        joints = SkeletonJoints(model).posed_joints_unchecked(flat_b, flat_p, transl.reshape(n, 3).to(flat_p))
    return joints.reshape(*lead, NUM_JOINTS, 3)


def make_observation(model, windows: Windows, condition: Condition, generator: torch.Generator) -> Observation:
    """Corrupt clean windows as ``condition`` says (see the module docstring).

    Args:
        model: the body model (clean bodies have the mean shape).
        windows: clean ``Windows``.
        condition: the ``Condition``.
        generator: seeded CPU random source (the only randomness of the protocol).

    Returns:
        the ``Observation``, on the model's device (the windows are moved there).

    Raises:
        TypeError: ``model``, ``windows``, ``condition`` or ``generator`` of the wrong type (a
            condition's name is looked up with ``humanlib.experiments.protocol.condition_by_name``).
        ValueError: windows on the meta device.
    """
    _check_model(model)
    _check_windows(windows)
    if not isinstance(condition, Condition):
        raise TypeError(f"condition must be a Condition (a name is looked up with condition_by_name); "
                        f"got {type(condition).__name__}")
    check_generator(generator, optional=False, device="cpu", why=_NOISE_ON_CPU)
    _check_movable(model, **{"windows.poses": windows.poses})
    device = model.v_template.device
    poses, transl = windows.poses.to(device), windows.transl.to(device)
    w, t = poses.shape[:2]
    mask = torch.ones(w, t, NUM_JOINTS, device=device)
    body = list(BODY_JOINTS)
    rest = torch.zeros(w, t, len(body), 3, device=device)
    if condition.kind == "pose_noise":
        noisy = add_pose_noise(poses, condition.sigma, generator)
        joints = body_joints_of(model, noisy, transl)
        return Observation(joints, mask, noisy[:, :, body].clone(), noisy)
    clean = body_joints_of(model, poses, transl)
    if condition.kind == "joint_noise":
        return Observation(add_joint_noise(clean, condition.sigma, generator), mask, rest)
    mask = occlusion_mask(condition.occluded, (w, t)).to(device)
    return Observation(clean, mask, rest)


def _check_windows(windows: object) -> None:
    if not isinstance(windows, Windows):
        raise TypeError(f"windows must be humanlib.experiments.protocol.Windows (from cut_windows); "
                        f"got {type(windows).__name__}")


# --------------------------------------------------------------------------- metrics


def sequence_vertices(model, poses: torch.Tensor, transl: torch.Tensor, betas: torch.Tensor | None = None,
                      chunk: int = 256) -> torch.Tensor:
    """Mesh vertices ``(N, V, 3)`` of ``N`` bodies, without gradients, ``chunk`` bodies at a time.

    The same function as ``model(betas, pose, transl).vertices`` (tested against it), with the
    skinning written as one matrix product ``W (N, J, 12)`` instead of an einsum, about three
    times faster on a CPU: the metric skins every fitted frame.

    Args:
        model: :class:`humanlib.body.BodyModel`.
        poses: ``(N, 24, 3)`` axis-angle.
        transl: ``(N, 3)``.
        betas: ``(N, K)``, or None for the mean shape.
        chunk: bodies per batch (> 0).

    Returns:
        ``(N, V, 3)`` on the model's device and dtype (inputs are moved there); ``N = 0`` gives
        an empty ``(0, V, 3)``.

    Raises:
        TypeError: ``model`` is not a ``BodyModel``, an input is not a tensor, ``chunk`` not an integer.
        ValueError: shapes that do not agree (``K`` must be ``model.num_betas``), non-finite
            values, ``chunk`` < 1, or an input on the meta device.
    """
    from humanlib.body import forward_kinematics, pose_blend_shapes, pose_feature, regress_joints, shape_blend_shapes

    _check_model(model)
    check_tensor(poses, "poses", (None, NUM_JOINTS, 3), hint="(bodies, joints, axis-angle)")
    n = poses.shape[0]
    check_tensor(transl, "transl", (n, 3), hint="one translation per pose")
    if betas is not None:
        check_tensor(betas, "betas", (n, model.num_betas), hint="one shape per pose")
    check_positive(chunk, "chunk", integer=True)
    _check_movable(model, poses=poses, transl=transl, betas=betas)
    if n == 0:
        return model.v_template.new_zeros(0, model.num_vertices, 3)
    out = []
    with torch.no_grad():
        for i in range(0, n, chunk):
            p = poses[i:i + chunk].to(model.v_template)
            b = p.shape[0]
            beta = torch.zeros(b, model.num_betas, dtype=p.dtype, device=p.device) if betas is None \
                else betas[i:i + chunk].to(p)
            v_shaped = model.v_template + shape_blend_shapes(beta, model.shapedirs)
            rot = axis_angle_to_rotmat(p)
            v_posed = v_shaped + pose_blend_shapes(pose_feature(rot), model.posedirs)
            _, transforms = forward_kinematics(rot, regress_joints(v_shaped, model.J_regressor), model.parents)
            blended = (model.weights @ transforms[..., :3, :].reshape(b, -1, 12)).reshape(b, -1, 3, 4)
            verts = (blended[..., :3] @ v_posed.unsqueeze(-1)).squeeze(-1) + blended[..., 3]
            out.append(verts + transl[i:i + chunk, None].to(p))
    return torch.cat(out)


def per_vertex_error(pred_vertices: torch.Tensor, true_vertices: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance between corresponding vertices, per body.

    Args:
        pred_vertices, true_vertices: ``(..., V, 3)``, same units.

    Returns:
        ``(...)`` mean over the V vertices of ``||v_pred - v_true||``.

    Raises:
        TypeError: an input is not a tensor.
        ValueError: shapes that differ or are not ``(..., V, 3)``, ``V = 0``, non-finite values,
            integer dtypes, or tensors on two devices.
    """
    check_tensor(pred_vertices, "pred_vertices", (..., None, 3), hint="(..., vertices, xyz)")
    check_tensor(true_vertices, "true_vertices", (..., None, 3), hint="(..., vertices, xyz)")
    check_same_device(true_vertices, "true_vertices", pred_vertices=pred_vertices)
    if pred_vertices.shape != true_vertices.shape:
        raise ValueError(f"vertices must be two (..., V, 3) tensors of one shape; got "
                         f"{tuple(pred_vertices.shape)} and {tuple(true_vertices.shape)}")
    if pred_vertices.shape[-2] == 0:
        raise ValueError(f"vertices have no vertex (V = 0, shape {tuple(pred_vertices.shape)}): "
                         "the mean error over no vertices is undefined")
    return (pred_vertices - true_vertices).norm(dim=-1).mean(dim=-1)


def acceleration_error(pred_joints: torch.Tensor, true_joints: torch.Tensor, fps: float) -> torch.Tensor:
    """Mean acceleration error of a motion: ``mean_{t,j} ||a_pred - a_true||`` in m/s^2 (HuMoR's "Accel").

    The acceleration of frame ``t`` is the second difference ``(J_{t+1} - 2 J_t + J_{t-1}) fps^2``
    (frames ``1..T-2``), so a motion error that is constant or linear in time costs nothing and
    jitter costs ``fps^2`` times its size.

    Args:
        pred_joints, true_joints: ``(..., T, J, 3)`` in metres, ``T >= 3``.
        fps: the frame rate of the motion.

    Returns:
        ``(...)`` the mean over the ``T - 2`` frames and ``J`` joints.

    Raises:
        TypeError: an input is not a tensor.
        ValueError: shapes that differ or are not ``(..., T, J, 3)``, fewer than 3 frames, no
            joint, non-finite values, integer dtypes, tensors on two devices, ``fps`` <= 0.
    """
    check_tensor(pred_joints, "pred_joints", (..., None, None, 3), hint="(..., frames, joints, xyz)")
    check_tensor(true_joints, "true_joints", (..., None, None, 3), hint="(..., frames, joints, xyz)")
    check_same_device(true_joints, "true_joints", pred_joints=pred_joints)
    check_positive(fps, "fps")
    if pred_joints.shape != true_joints.shape:
        raise ValueError(f"joints must be two (..., T, J, 3) tensors of one shape; got "
                         f"{tuple(pred_joints.shape)} and {tuple(true_joints.shape)}")
    if pred_joints.shape[-3] < 3 or pred_joints.shape[-2] == 0:
        raise ValueError(f"an acceleration needs >= 3 frames and >= 1 joint; got shape {tuple(pred_joints.shape)}")
    d = pred_joints - true_joints
    accel = (d[..., 2:, :, :] - 2 * d[..., 1:-1, :, :] + d[..., :-2, :, :]) * fps ** 2
    return accel.norm(dim=-1).mean(dim=(-1, -2))


def sequence_acceleration_error(model, poses: torch.Tensor, transl: torch.Tensor, betas: torch.Tensor | None,
                                windows: Windows) -> float:
    """Mean :func:`acceleration_error` (m/s^2) of a fit's 22 body joints against the clean motion's, over ``windows``.

    Args:
        poses, transl: the fit, ``(W, T, 24, 3)`` and ``(W, T, 3)``.
        betas: one shape per window ``(W, K)`` (None: the mean shape).
        windows: the windows the fit is of (their clean poses and frame rate).

    Raises:
        TypeError, ValueError: as :func:`body_joints_of` and :func:`acceleration_error`.
    """
    _check_windows(windows)
    if betas is not None:
        betas = betas[:, None].expand(*poses.shape[:2], betas.shape[-1])
    pred = body_joints_of(model, poses, transl, betas)[..., :22, :]
    true = body_joints_of(model, windows.poses, windows.transl)[..., :22, :]
    return float(acceleration_error(pred, true, windows.fps).mean())


def joint_angle_error(pred_poses: torch.Tensor, true_poses: torch.Tensor) -> torch.Tensor:
    """Mean geodesic angle, in degrees, between the body joints' local rotations (joints 1..21).

    Args:
        pred_poses, true_poses: ``(..., 24, 3)`` axis-angle.

    Returns:
        ``(...)`` mean over the 21 body joints of the rotation angle of ``R_pred^T R_true``.

    Raises:
        TypeError: an input is not a tensor.
        ValueError: shapes that differ or are not ``(..., 24, 3)``, non-finite values, integer
            dtypes, or tensors on two devices.
    """
    check_tensor(pred_poses, "pred_poses", (..., NUM_JOINTS, 3))
    check_tensor(true_poses, "true_poses", (..., NUM_JOINTS, 3))
    check_same_device(true_poses, "true_poses", pred_poses=pred_poses)
    if pred_poses.shape != true_poses.shape or pred_poses.shape[-2:] != (NUM_JOINTS, 3):
        raise ValueError(f"poses must be two (..., {NUM_JOINTS}, 3) tensors of one shape; got "
                         f"{tuple(pred_poses.shape)} and {tuple(true_poses.shape)}")
    body = list(BODY_JOINTS)
    angle = rotmat_geodesic_distance(axis_angle_to_rotmat(pred_poses[..., body, :]),
                                     axis_angle_to_rotmat(true_poses[..., body, :]))
    return torch.rad2deg(angle).mean(dim=-1)


@dataclass
class SequenceErrors:
    """Errors of fitted windows against the clean ones (means over windows, frames, vertices/joints)."""

    v2v_cm: float  #: per-vertex error, cm
    joint_angle_deg: float  #: body-joint rotation error, degrees
    joint_cm: float  #: 3D joint position error (24 joints), cm
    per_window_v2v_cm: list[float] = field(default_factory=list)
    per_window_joint_angle_deg: list[float] = field(default_factory=list)
    per_window_joint_cm: list[float] = field(default_factory=list)


def clean_vertices(model, windows: Windows) -> torch.Tensor:
    """``(W, T, V, 3)`` vertices of the clean windows (mean shape), computed once per batch.

    Raises:
        TypeError: ``model`` or ``windows`` of the wrong type.
    """
    _check_model(model)
    _check_windows(windows)
    w, t = windows.poses.shape[:2]
    verts = sequence_vertices(model, windows.poses.reshape(w * t, NUM_JOINTS, 3), windows.transl.reshape(w * t, 3))
    return verts.reshape(w, t, -1, 3)


def sequence_errors(model, pred_poses: torch.Tensor, pred_transl: torch.Tensor, pred_betas: torch.Tensor | None,
                    windows: Windows, reference: torch.Tensor | None = None) -> SequenceErrors:
    """Compare fitted windows (poses ``(W, T, 24, 3)``, transl ``(W, T, 3)``, betas ``(W, K)`` or
    None) with the clean ``windows`` (mean shape).

    Args:
        reference: the clean windows' vertices from ``humanlib.experiments.protocol.clean_vertices`` (computed when None).

    Raises:
        TypeError: ``model`` or ``windows`` of the wrong type, or an input that is not a tensor.
        ValueError: no window, fitted tensors that do not match the windows, non-finite fitted
            values (a fit that diverged), or an input on the meta device.
    """
    _check_model(model)
    _check_windows(windows)
    w, t = windows.poses.shape[:2]
    if w == 0:
        raise ValueError("windows holds no window (W = 0): there is no error to average")
    check_tensor(pred_poses, "pred_poses", (None, None, NUM_JOINTS, 3))
    check_tensor(pred_transl, "pred_transl", (None, None, 3))
    if pred_poses.shape != windows.poses.shape or pred_transl.shape != windows.transl.shape:
        raise ValueError(f"fitted poses/transl {tuple(pred_poses.shape)}/{tuple(pred_transl.shape)} do not match "
                         f"the windows {tuple(windows.poses.shape)}/{tuple(windows.transl.shape)}")
    if pred_betas is not None:
        check_tensor(pred_betas, "pred_betas", (w, model.num_betas), hint="one shape per window")
    if reference is not None:
        check_tensor(reference, "reference", (w, t, model.num_vertices, 3), hint="from clean_vertices(model, windows)")
    _check_movable(model, pred_poses=pred_poses, pred_transl=pred_transl, pred_betas=pred_betas,
                   reference=reference, **{"windows.poses": windows.poses})
    device = model.v_template.device
    pred_poses, pred_transl = pred_poses.to(device), pred_transl.to(device)
    pred_betas = None if pred_betas is None else pred_betas.to(device)
    if reference is None:
        reference = clean_vertices(model, windows)
    betas = None if pred_betas is None else pred_betas[:, None].expand(w, t, -1).reshape(w * t, -1)
    per_window = []
    for i in range(w):  # one window at a time keeps the vertex arrays small
        b = None if betas is None else betas[i * t:(i + 1) * t]
        pv = sequence_vertices(model, pred_poses[i], pred_transl[i], b)
        per_window.append(float(per_vertex_error(pv, reference[i].to(pv)).mean()) * 100)
    pj = body_joints_of(model, pred_poses, pred_transl, None if betas is None else betas.reshape(w, t, -1))
    tj = body_joints_of(model, windows.poses, windows.transl)
    joint_err = (pj - tj).norm(dim=-1).flatten(1).mean(1) * 100  # (W,): every window has T frames
    angle = joint_angle_error(pred_poses, windows.poses.to(pred_poses)).flatten(1).mean(1)
    return SequenceErrors(sum(per_window) / w, float(angle.mean()), float(joint_err.mean()), per_window,
                          angle.tolist(), joint_err.tolist())


__all__ = [
    "CONDITION_KINDS", "DENOISE_CONDITIONS", "EXPERIMENT_CONDITIONS", "OCCLUSION_CONDITIONS", "OCCLUSION_GROUPS",
    "Condition", "Observation", "SequenceErrors", "Windows", "acceleration_error", "add_joint_noise", "add_pose_noise",
    "balanced_subset", "body_joints_of", "clean_vertices", "condition_by_name", "corpus_clips", "cut_windows", "evenly_spaced", "joint_angle_error",
    "make_observation", "occlusion_mask", "per_vertex_error", "sequence_acceleration_error", "sequence_errors",
    "sequence_vertices",
    "window_starts",
]
