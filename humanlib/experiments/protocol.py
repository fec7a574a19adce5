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

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from humanlib.rotations import axis_angle_to_rotmat, rotmat_geodesic_distance
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS, joint

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
        if self.kind not in CONDITION_KINDS:
            raise ValueError(f"condition kind must be one of {CONDITION_KINDS}, got {self.kind!r}")
        if self.sigma < 0 or not math.isfinite(self.sigma):
            raise ValueError(f"condition sigma must be finite and >= 0, got {self.sigma}")
        for name in self.occluded:
            joint(name)  # raises KeyError naming the known joints


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


# --------------------------------------------------------------------------- windows


def window_starts(num_frames: int, length: int, stride: int | None = None) -> list[int]:
    """Start frames of the windows of ``length`` frames inside a clip of ``num_frames``.

    Args:
        num_frames: frames in the clip.
        length: frames per window (>= 2: the smoothness term needs neighbours).
        stride: step between starts (default ``length``: windows do not overlap).

    Raises:
        ValueError: ``length`` or ``stride`` out of range, or the window is longer than the clip.
    """
    if length < 2:
        raise ValueError(f"window length must be >= 2 frames, got {length}")
    stride = length if stride is None else stride
    if stride < 1:
        raise ValueError(f"window stride must be >= 1, got {stride}")
    if length > num_frames:
        raise ValueError(f"a window of {length} frames is longer than the clip ({num_frames} frames)")
    return list(range(0, num_frames - length + 1, stride))


def evenly_spaced(total: int, count: int | None) -> list[int]:
    """``count`` indices spread evenly over ``range(total)`` (all of them when ``count`` is None
    or >= ``total``): a fixed subset that samples every part of a split, no random draw."""
    if count is None or count >= total:
        return list(range(total))
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if count == 1:
        return [0]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


@dataclass
class Windows:
    """Windows of motion, all of the same length.

    Attributes:
        poses: ``(W, T, 24, 3)`` axis-angle, root first.
        transl: ``(W, T, 3)`` root translation, metres.
        clip_names: the clip of each window.
        starts: the first frame of each window within its clip.
        fps: frame rate.
    """

    poses: torch.Tensor
    transl: torch.Tensor
    clip_names: list[str]
    starts: list[int]
    fps: float

    def __len__(self) -> int:
        return int(self.poses.shape[0])

    @property
    def length(self) -> int:
        return int(self.poses.shape[1])

    def subset(self, indices: Sequence[int]) -> Windows:
        idx = list(indices)
        return Windows(self.poses[idx], self.transl[idx], [self.clip_names[i] for i in idx],
                       [self.starts[i] for i in idx], self.fps)

    def ids(self) -> list[str]:
        """``"<clip>@<start>"`` of each window (recorded in results files)."""
        return [f"{n}@{s}" for n, s in zip(self.clip_names, self.starts)]


def cut_windows(clips: Sequence[tuple[str, torch.Tensor, torch.Tensor]], length: int, fps: float,
                stride: int | None = None, max_windows: int | None = None) -> Windows:
    """Cut clips into windows of ``length`` frames (clips shorter than a window are skipped).

    Args:
        clips: ``(name, poses (T, 24, 3), transl (T, 3))`` per clip.
        length: frames per window.
        fps: the clips' frame rate (recorded).
        stride: step between window starts (default ``length``).
        max_windows: keep this many windows, evenly spaced over all of them
            (``humanlib.experiments.protocol.evenly_spaced``; the same subset on every run).

    Raises:
        ValueError: no clip is as long as one window, or a clip has the wrong shape.
    """
    poses, transl, names, starts = [], [], [], []
    longest = 0
    for name, p, t in clips:
        if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3) or t.shape != (p.shape[0], 3):
            raise ValueError(f"clip {name!r}: poses must be (T, {NUM_JOINTS}, 3) and transl (T, 3); "
                             f"got {tuple(p.shape)} and {tuple(t.shape)}")
        longest = max(longest, p.shape[0])
        if p.shape[0] < length:
            continue
        for s in window_starts(p.shape[0], length, stride):
            poses.append(p[s:s + length])
            transl.append(t[s:s + length])
            names.append(name)
            starts.append(s)
    if not poses:
        raise ValueError(f"a window of {length} frames is longer than every clip (the longest has {longest} frames)")
    windows = Windows(torch.stack(poses), torch.stack(transl), names, starts, fps)
    return windows.subset(evenly_spaced(len(windows), max_windows))


def corpus_clips(corpus) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """``(name, poses, transl)`` of every clip of a :class:`humanlib.data.MotionCorpus`."""
    return [(c.name, *corpus.clip(i)) for i, c in enumerate(corpus.clips)]


# --------------------------------------------------------------------------- corruption


def add_pose_noise(poses: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise on the axis-angle of the body joints 1..21 (root and hands untouched).

    Args:
        poses: ``(..., 24, 3)`` axis-angle.
        sigma: standard deviation in radians of each of the 63 numbers.
        generator: the seeded random source.

    Returns:
        ``(..., 24, 3)`` noisy poses.
    """
    if poses.ndim < 2 or poses.shape[-2:] != (NUM_JOINTS, 3):
        raise ValueError(f"poses must be (..., {NUM_JOINTS}, 3); got {tuple(poses.shape)}")
    noise = torch.zeros_like(poses)
    body = list(BODY_JOINTS)
    shape = (*poses.shape[:-2], len(body), 3)
    noise[..., body, :] = sigma * torch.randn(shape, generator=generator, dtype=poses.dtype).to(poses.device)
    return poses + noise


def add_joint_noise(joints: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise of ``sigma`` metres on each coordinate of ``joints (..., J, 3)``."""
    if joints.ndim < 2 or joints.shape[-1] != 3:
        raise ValueError(f"joints must be (..., J, 3); got {tuple(joints.shape)}")
    return joints + sigma * torch.randn(joints.shape, generator=generator, dtype=joints.dtype).to(joints.device)


def occlusion_mask(occluded: Sequence[str], leading: tuple[int, ...] = ()) -> torch.Tensor:
    """Visibility mask ``(*leading, 24)``: 0 for the named joints, 1 elsewhere."""
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
    shapes ``(..., K)`` (None: mean shape), by forward kinematics only (no mesh), without gradients."""
    from humanlib.body import forward_kinematics, regress_joints

    lead = poses.shape[:-2]
    flat_p = poses.reshape(-1, NUM_JOINTS, 3).to(model.v_template.dtype)
    n = flat_p.shape[0]
    with torch.no_grad():
        rest = regress_joints(model.v_template[None], model.J_regressor)  # (1, J, 3)
        if betas is not None:
            dirs = torch.einsum("jv,vck->jck", model.J_regressor, model.shapedirs)
            rest = rest + torch.einsum("jck,nk->njc", dirs, betas.reshape(n, -1).to(flat_p.dtype))
        joints, _ = forward_kinematics(axis_angle_to_rotmat(flat_p), rest.expand(n, -1, -1), model.parents)
        joints = joints + transl.reshape(n, 1, 3).to(flat_p.dtype)
    return joints.reshape(*lead, NUM_JOINTS, 3)


def make_observation(model, windows: Windows, condition: Condition, generator: torch.Generator) -> Observation:
    """Corrupt clean windows as ``condition`` says (see the module docstring).

    Args:
        model: the body model (clean bodies have the mean shape).
        windows: clean ``Windows``.
        condition: the ``Condition``.
        generator: seeded random source (the only randomness of the protocol).
    """
    w, t = windows.poses.shape[:2]
    mask = torch.ones(w, t, NUM_JOINTS)
    body = list(BODY_JOINTS)
    rest = torch.zeros(w, t, len(body), 3)
    if condition.kind == "pose_noise":
        noisy = add_pose_noise(windows.poses, condition.sigma, generator)
        joints = body_joints_of(model, noisy, windows.transl)
        return Observation(joints, mask, noisy[:, :, body].clone(), noisy)
    clean = body_joints_of(model, windows.poses, windows.transl)
    if condition.kind == "joint_noise":
        return Observation(add_joint_noise(clean, condition.sigma, generator), mask, rest)
    mask = occlusion_mask(condition.occluded, (w, t))
    return Observation(clean, mask, rest)


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
    """
    from humanlib.body import forward_kinematics, pose_blend_shapes, pose_feature, regress_joints, shape_blend_shapes

    out = []
    with torch.no_grad():
        for i in range(0, poses.shape[0], chunk):
            p = poses[i:i + chunk].to(model.v_template.dtype)
            b = p.shape[0]
            beta = torch.zeros(b, model.num_betas, dtype=p.dtype, device=p.device) if betas is None \
                else betas[i:i + chunk].to(p.dtype)
            v_shaped = model.v_template + shape_blend_shapes(beta, model.shapedirs)
            rot = axis_angle_to_rotmat(p)
            v_posed = v_shaped + pose_blend_shapes(pose_feature(rot), model.posedirs)
            _, transforms = forward_kinematics(rot, regress_joints(v_shaped, model.J_regressor), model.parents)
            blended = (model.weights @ transforms[..., :3, :].reshape(b, -1, 12)).reshape(b, -1, 3, 4)
            verts = (blended[..., :3] @ v_posed.unsqueeze(-1)).squeeze(-1) + blended[..., 3]
            out.append(verts + transl[i:i + chunk, None].to(p.dtype))
    return torch.cat(out)


def per_vertex_error(pred_vertices: torch.Tensor, true_vertices: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance between corresponding vertices, per body.

    Args:
        pred_vertices, true_vertices: ``(..., V, 3)``, same units.

    Returns:
        ``(...)`` mean over the V vertices of ``||v_pred - v_true||``.
    """
    if pred_vertices.shape != true_vertices.shape or pred_vertices.shape[-1:] != (3,):
        raise ValueError(f"vertices must be two (..., V, 3) tensors of one shape; got "
                         f"{tuple(pred_vertices.shape)} and {tuple(true_vertices.shape)}")
    return (pred_vertices - true_vertices).norm(dim=-1).mean(dim=-1)


def joint_angle_error(pred_poses: torch.Tensor, true_poses: torch.Tensor) -> torch.Tensor:
    """Mean geodesic angle, in degrees, between the body joints' local rotations (joints 1..21).

    Args:
        pred_poses, true_poses: ``(..., 24, 3)`` axis-angle.

    Returns:
        ``(...)`` mean over the 21 body joints of the rotation angle of ``R_pred^T R_true``.
    """
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


def clean_vertices(model, windows: Windows) -> torch.Tensor:
    """``(W, T, V, 3)`` vertices of the clean windows (mean shape), computed once per batch."""
    w, t = windows.poses.shape[:2]
    verts = sequence_vertices(model, windows.poses.reshape(w * t, NUM_JOINTS, 3), windows.transl.reshape(w * t, 3))
    return verts.reshape(w, t, -1, 3)


def sequence_errors(model, pred_poses: torch.Tensor, pred_transl: torch.Tensor, pred_betas: torch.Tensor | None,
                    windows: Windows, reference: torch.Tensor | None = None) -> SequenceErrors:
    """Compare fitted windows (poses ``(W, T, 24, 3)``, transl ``(W, T, 3)``, betas ``(W, K)`` or
    None) with the clean ``windows`` (mean shape).

    Args:
        reference: the clean windows' vertices from ``humanlib.experiments.protocol.clean_vertices`` (computed when None).
    """
    w, t = windows.poses.shape[:2]
    if pred_poses.shape != windows.poses.shape or pred_transl.shape != windows.transl.shape:
        raise ValueError(f"fitted poses/transl {tuple(pred_poses.shape)}/{tuple(pred_transl.shape)} do not match "
                         f"the windows {tuple(windows.poses.shape)}/{tuple(windows.transl.shape)}")
    if reference is None:
        reference = clean_vertices(model, windows)
    betas = None if pred_betas is None else pred_betas[:, None].expand(w, t, -1).reshape(w * t, -1)
    per_window = []
    for i in range(w):  # one window at a time keeps the vertex arrays small
        b = None if betas is None else betas[i * t:(i + 1) * t]
        pv = sequence_vertices(model, pred_poses[i], pred_transl[i], b)
        per_window.append(float(per_vertex_error(pv, reference[i]).mean()) * 100)
    pj = body_joints_of(model, pred_poses, pred_transl, betas)
    tj = body_joints_of(model, windows.poses, windows.transl)
    joint_err = float((pj - tj).norm(dim=-1).mean()) * 100
    angle = float(joint_angle_error(pred_poses, windows.poses).mean())
    return SequenceErrors(sum(per_window) / w, angle, joint_err, per_window)


__all__ = [
    "CONDITION_KINDS", "DENOISE_CONDITIONS", "EXPERIMENT_CONDITIONS", "OCCLUSION_CONDITIONS", "OCCLUSION_GROUPS",
    "Condition", "Observation", "SequenceErrors", "Windows", "add_joint_noise", "add_pose_noise",
    "body_joints_of", "clean_vertices", "condition_by_name", "corpus_clips", "cut_windows", "evenly_spaced", "joint_angle_error",
    "make_observation", "occlusion_mask", "per_vertex_error", "sequence_errors", "sequence_vertices",
    "window_starts",
]
