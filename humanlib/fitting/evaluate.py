"""Evaluating fits against ground truth we control: synthetic keypoints, Procrustes, v2v and joint errors.

The synthetic protocol (:func:`make_synthetic_batch`): body poses from the corpus's test
split, random shapes ``beta ~ N(0, I)`` clipped to ``[-2, 2]``, an upright body turned by a
random angle about the vertical axis, placed 4.5-6 m in front of a known pinhole camera
(``f = 1000`` px, 640 x 640 image, so a standing body is ~300 px tall as in SMPLify's LSP
images). The 14 joints a 2D detector would give (:data:`DETECTOR_JOINTS`: shoulders, elbows,
wrists, hips, knees, ankles, neck, head) are projected, Gaussian pixel noise is added and each
is dropped (confidence 0) with some probability.

Metrics (millimetres, per frame): the mean vertex-to-vertex distance (v2v) and the mean
joint distance over the 24 joints, after two alignments:

* ``root``: both bodies translated so their pelvis joints coincide (no rotation or scale;
  depth and global-orientation errors count);
* ``pa``: Procrustes, the similarity transform (scale, rotation, translation) that best
  maps the fit onto the ground truth (:func:`procrustes_align`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from humanlib.fitting.camera import Camera, project
from humanlib.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS, joint

#: The joints a typical 2D body detector gives (LSP's 14 minus the head top, plus SMPL's head joint).
DETECTOR_JOINTS: tuple[int, ...] = tuple(
    joint(n)
    for n in (
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "neck", "head",
    )
)


def procrustes_align(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Similarity transform of ``source`` that best matches ``target`` in least squares (Umeyama).

    Finds ``s, R, t`` minimising ``sum_i ||s R x_i + t - y_i||^2`` with ``R`` a proper
    rotation (``det R = +1``) and returns ``s R x_i + t``.

    Args:
        source: ``(B, N, 3)`` points to move.
        target: ``(B, N, 3)`` points to match.

    Returns:
        ``(B, N, 3)`` aligned source points.
    """
    if source.ndim != 3 or source.shape[-1] != 3 or source.shape != target.shape:
        raise ValueError(f"source and target must both be (B, N, 3); got {tuple(source.shape)} and {tuple(target.shape)}")
    mu_x, mu_y = source.mean(1, keepdim=True), target.mean(1, keepdim=True)
    x, y = source - mu_x, target - mu_y
    cov = y.transpose(1, 2) @ x / source.shape[1]  # (B, 3, 3) = E[y x^T]
    u, sv, vh = torch.linalg.svd(cov)
    d = torch.ones_like(sv)
    d[:, -1] = torch.sign(torch.linalg.det(u @ vh))  # a reflection is replaced by the best rotation
    rot = u @ torch.diag_embed(d) @ vh
    var_x = x.square().sum((1, 2)) / source.shape[1]
    scale = (sv * d).sum(-1) / var_x.clamp(min=1e-12)
    return scale[:, None, None] * (x @ rot.transpose(1, 2)) + mu_y


def root_align(source: torch.Tensor, target: torch.Tensor, source_root: torch.Tensor, target_root: torch.Tensor) -> torch.Tensor:
    """Translate ``source (B, N, 3)`` by ``target_root - source_root`` (both ``(B, 3)``)."""
    return source + (target_root - source_root)[:, None]


def mean_distance_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance per frame between ``(B, N, 3)`` point sets in metres, in millimetres ``(B,)``."""
    return 1000.0 * (a - b).norm(dim=-1).mean(-1)


@dataclass
class FitErrors:
    """Per-frame errors in millimetres, each ``(B,)``."""

    v2v: torch.Tensor
    joints: torch.Tensor
    v2v_pa: torch.Tensor
    joints_pa: torch.Tensor

    def summary(self) -> dict[str, float]:
        """Means over frames."""
        return {k: round(float(getattr(self, k).mean()), 1) for k in ("v2v", "joints", "v2v_pa", "joints_pa")}


def fit_errors(pred_vertices: torch.Tensor, pred_joints: torch.Tensor,
               true_vertices: torch.Tensor, true_joints: torch.Tensor) -> FitErrors:
    """Errors of fitted bodies against ground truth (same mesh topology).

    Args:
        pred_vertices, true_vertices: ``(B, V, 3)`` meshes (metres).
        pred_joints, true_joints: ``(B, 24, 3)`` joints (metres); the pelvis is joint 0.

    Returns:
        :class:`FitErrors` with root-aligned and Procrustes-aligned errors.
    """
    pelvis = joint("pelvis")
    pr, tr = pred_joints[:, pelvis], true_joints[:, pelvis]
    v_root = root_align(pred_vertices, true_vertices, pr, tr)
    j_root = root_align(pred_joints, true_joints, pr, tr)
    return FitErrors(
        v2v=mean_distance_mm(v_root, true_vertices),
        joints=mean_distance_mm(j_root, true_joints),
        v2v_pa=mean_distance_mm(procrustes_align(pred_vertices, true_vertices), true_vertices),
        joints_pa=mean_distance_mm(procrustes_align(pred_joints, true_joints), true_joints),
    )


# --------------------------------------------------------------------------- synthetic data


@dataclass
class SyntheticConfig:
    """How synthetic keypoints are made (see the module docstring).

    Attributes:
        focal: focal length (pixels).
        image_size: square image side (pixels); the principal point is its centre.
        depth_range: distance of the body from the camera (metres).
        max_yaw_deg: the body is turned by a uniform angle in ``[-max_yaw, max_yaw]`` about the vertical.
        beta_clip: shapes ``beta ~ N(0, I)`` clipped to ``[-beta_clip, beta_clip]``.
        noise_px: standard deviation of the Gaussian pixel noise.
        missing_prob: probability that an observed joint is dropped (confidence 0).
        observed_joints: joints a detector reports; the others get confidence 0.
    """

    focal: float = 1000.0
    image_size: int = 640
    depth_range: tuple[float, float] = (4.5, 6.0)
    max_yaw_deg: float = 90.0
    beta_clip: float = 2.0
    noise_px: float = 5.0
    missing_prob: float = 0.1
    observed_joints: tuple[int, ...] = DETECTOR_JOINTS


@dataclass
class SyntheticBatch:
    """Ground truth and its keypoints.

    Attributes:
        keypoints: ``(B, 24, 2)`` noisy pixels (zeros where not observed).
        confidence: ``(B, 24)`` 1 for observed joints, 0 otherwise.
        camera: the ``B`` known cameras.
        betas: ``(B, num_betas)`` true shapes.
        pose: ``(B, 24, 3)`` true poses (global orientation in the camera frame).
        transl: ``(B, 3)`` true translations.
        clean_keypoints: ``(B, 24, 2)`` noiseless projections of all 24 joints.
    """

    keypoints: torch.Tensor
    confidence: torch.Tensor
    camera: Camera
    betas: torch.Tensor
    pose: torch.Tensor
    transl: torch.Tensor
    clean_keypoints: torch.Tensor


def make_synthetic_batch(model, body_poses: torch.Tensor, config: SyntheticConfig | None = None,
                         seed: int = 0) -> SyntheticBatch:
    """Synthetic 2D keypoints of known bodies.

    Args:
        model: body model (``model(betas, pose, transl)`` with ``joints``; ``model.num_betas``).
        body_poses: ``(B, 21, 3)`` body poses (e.g. test-split corpus frames).
        config: :class:`SyntheticConfig`.
        seed: seeds shapes, orientations, placements, noise and dropped joints.

    Returns:
        :class:`SyntheticBatch` (float32, CPU).
    """
    config = config or SyntheticConfig()
    if body_poses.ndim != 3 or body_poses.shape[1:] != (len(BODY_JOINTS), 3):
        raise ValueError(f"body_poses must be (B, {len(BODY_JOINTS)}, 3); got {tuple(body_poses.shape)}")
    gen = torch.Generator().manual_seed(seed)
    b = body_poses.shape[0]
    dtype = torch.float32
    num_betas = int(getattr(model, "num_betas", 10))
    betas = torch.randn(b, num_betas, generator=gen).clamp(-config.beta_clip, config.beta_clip)
    yaw = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(config.max_yaw_deg)
    # Upright and facing the camera is R_x(pi); turning the body about its own vertical
    # axis by `yaw` first gives R_x(pi) R_y(yaw).
    r_face = axis_angle_to_rotmat(torch.tensor([math.pi, 0.0, 0.0]).expand(b, 3))
    r_yaw = axis_angle_to_rotmat(torch.stack([torch.zeros(b), yaw, torch.zeros(b)], -1))
    global_orient = rotmat_to_axis_angle(r_face @ r_yaw)
    pose = torch.zeros(b, NUM_JOINTS, 3, dtype=dtype)
    pose[:, 0] = global_orient
    pose[:, list(BODY_JOINTS)] = body_poses.to(dtype)
    with torch.no_grad():
        centred = model(betas=betas, pose=pose, transl=torch.zeros(b, 3))
    lo, hi = config.depth_range
    depth = lo + (hi - lo) * torch.rand(b, generator=gen)
    offset_xy = (torch.rand(b, 2, generator=gen) * 2 - 1) * 0.3  # metres, keeps the body in the image
    pelvis = centred.joints[:, joint("pelvis")]
    transl = torch.cat([offset_xy, depth[:, None]], -1) - pelvis
    camera = Camera.simple(b, config.focal, config.image_size, config.image_size)
    clean = project(centred.joints + transl[:, None], camera)
    keypoints = clean + config.noise_px * torch.randn(clean.shape, generator=gen)
    confidence = torch.zeros(b, NUM_JOINTS)
    confidence[:, list(config.observed_joints)] = 1.0
    dropped = torch.rand(b, NUM_JOINTS, generator=gen) < config.missing_prob
    confidence = torch.where(dropped, torch.zeros_like(confidence), confidence)
    keypoints = keypoints * (confidence > 0)[..., None]
    return SyntheticBatch(keypoints, confidence, camera, betas, pose, transl, clean)


__all__ = [
    "DETECTOR_JOINTS",
    "FitErrors",
    "SyntheticBatch",
    "SyntheticConfig",
    "fit_errors",
    "make_synthetic_batch",
    "mean_distance_mm",
    "procrustes_align",
    "root_align",
]
