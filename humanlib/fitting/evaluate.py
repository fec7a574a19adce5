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

from humanlib._validate import check_positive, check_same_device, check_tensor
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
        ``(B, N, 3)`` aligned source points (an empty batch gives an empty batch).

    Raises:
        TypeError: either is not a tensor.
        ValueError: not both ``(B, N, 3)`` of one shape, ``N = 0``, not float32/float64, non-finite
            values, different devices.
    """
    _check_point_pair(source, target, "source", "target")
    if source.dtype not in (torch.float32, torch.float64) or target.dtype != source.dtype:
        raise ValueError(f"source and target must both be float32 or float64 (the SVD's dtypes); "
                         f"got {source.dtype} and {target.dtype}")
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


def _check_point_pair(a: object, b: object, name_a: str, name_b: str) -> None:
    """Both ``(B, N, 3)`` of one shape with ``N >= 1``, on one device, finite (device before values)."""
    check_tensor(a, name_a, (None, None, 3), finite=False)
    check_tensor(b, name_b, (None, None, 3), finite=False)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must both be (B, N, 3) of the same shape; got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    if a.shape[1] == 0:
        raise ValueError(f"{name_a} and {name_b} hold no points (N = 0); give at least one point per frame")
    check_same_device(a, name_a, **{name_b: b})
    check_tensor(a, name_a)
    check_tensor(b, name_b)


def root_align(source: torch.Tensor, target: torch.Tensor, source_root: torch.Tensor, target_root: torch.Tensor) -> torch.Tensor:
    """Translate ``source (B, N, 3)`` by ``target_root - source_root`` (both ``(B, 3)``).

    ``target`` (``(B, M, 3)``, the points ``source`` is compared with) is checked for its batch
    and device only.

    Raises:
        TypeError, ValueError: wrong types or shapes, batches that differ, non-finite values,
            different devices.
    """
    check_tensor(source, "source", (None, None, 3), finite=False)
    b = source.shape[0]
    check_tensor(target, "target", (b, None, 3), finite=False)
    check_tensor(source_root, "source_root", (b, 3), finite=False, hint="One root joint per frame of source.")
    check_tensor(target_root, "target_root", (b, 3), finite=False, hint="One root joint per frame of target.")
    check_same_device(source, "source", target=target, source_root=source_root, target_root=target_root)
    for name, x in (("source", source), ("source_root", source_root), ("target_root", target_root)):
        check_tensor(x, name)
    return source + (target_root - source_root)[:, None]


def mean_distance_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance per frame between ``(B, N, 3)`` point sets in metres, in millimetres ``(B,)``.

    Raises:
        TypeError, ValueError: not both ``(B, N, 3)`` of one shape with ``N >= 1``, non-finite
            values, different devices.
    """
    _check_point_pair(a, b, "a", "b")
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

    Raises:
        TypeError, ValueError: wrong types, shapes (vertices of one shape, joints ``(B, 24, 3)``,
            one batch), non-finite values, different devices.
    """
    _check_point_pair(pred_vertices, true_vertices, "pred_vertices", "true_vertices")
    b = pred_vertices.shape[0]
    check_tensor(pred_joints, "pred_joints", (b, NUM_JOINTS, 3), finite=False, hint="24 joints per fitted body.")
    _check_point_pair(pred_joints, true_joints, "pred_joints", "true_joints")
    check_same_device(pred_vertices, "pred_vertices", pred_joints=pred_joints)
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

    Raises:
        TypeError, ValueError: naming the field: a size, depth, angle, clip or noise out of range,
            ``missing_prob`` outside ``[0, 1]``, ``depth_range`` not ``(near, far)`` with
            ``0 < near <= far``, ``observed_joints`` empty or not joint indices.
    """

    focal: float = 1000.0
    image_size: int = 640
    depth_range: tuple[float, float] = (4.5, 6.0)
    max_yaw_deg: float = 90.0
    beta_clip: float = 2.0
    noise_px: float = 5.0
    missing_prob: float = 0.1
    observed_joints: tuple[int, ...] = DETECTOR_JOINTS

    def __post_init__(self) -> None:
        check_positive(self.focal, "SyntheticConfig.focal")
        check_positive(self.image_size, "SyntheticConfig.image_size", integer=True)
        check_positive(self.max_yaw_deg, "SyntheticConfig.max_yaw_deg", allow_zero=True)
        check_positive(self.beta_clip, "SyntheticConfig.beta_clip")
        check_positive(self.noise_px, "SyntheticConfig.noise_px", allow_zero=True)
        check_positive(self.missing_prob, "SyntheticConfig.missing_prob", allow_zero=True)
        if self.missing_prob > 1:
            raise ValueError(f"SyntheticConfig.missing_prob must be a probability in [0, 1]; got {self.missing_prob}")
        if not isinstance(self.depth_range, (tuple, list)) or len(self.depth_range) != 2:
            raise ValueError(f"SyntheticConfig.depth_range must be (near, far) in metres; got {self.depth_range!r}")
        for end in self.depth_range:
            check_positive(end, "SyntheticConfig.depth_range")
        if self.depth_range[0] > self.depth_range[1]:
            raise ValueError(f"SyntheticConfig.depth_range must be (near, far) with near <= far; got {self.depth_range}")
        joints = self.observed_joints
        if (not isinstance(joints, (tuple, list)) or not joints
                or any(isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < NUM_JOINTS for j in joints)):
            raise ValueError(f"SyntheticConfig.observed_joints must be a non-empty tuple of joint indices in "
                             f"[0, {NUM_JOINTS}); got {joints!r}")


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

    def subset(self, indices) -> "SyntheticBatch":
        """The frames at ``indices`` (a list of ints or a slice), keypoints and cameras included:
        to fit some frames of a batch on their own.

        Raises:
            TypeError: ``indices`` is neither a slice nor a list / tuple of ints.
            IndexError: an index out of range.
            ValueError: no frame selected.
        """
        n = self.keypoints.shape[0]
        if isinstance(indices, slice):
            idx = list(range(n))[indices]
        elif isinstance(indices, (list, tuple)) and all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
            idx = list(indices)
        else:
            raise TypeError(f"indices must be a slice or a list of ints; got {type(indices).__name__}")
        for i in idx:
            if not -n <= i < n:
                raise IndexError(f"frame index {i} is out of range for a batch of {n}")
        if not idx:
            raise ValueError("indices select no frame")
        t = torch.tensor(idx, dtype=torch.long, device=self.keypoints.device)
        pick = lambda x: x.index_select(0, t.to(x.device))
        return SyntheticBatch(pick(self.keypoints), pick(self.confidence),
                              Camera(pick(self.camera.focal_length), pick(self.camera.principal_point)),
                              pick(self.betas), pick(self.pose), pick(self.transl), pick(self.clean_keypoints))


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

    Raises:
        TypeError: ``body_poses`` not a tensor, ``config`` not a :class:`SyntheticConfig`, ``seed`` not an int.
        ValueError: ``body_poses`` not a finite floating ``(B, 21, 3)`` CPU tensor with ``B >= 1``, a
            negative seed, a model not on the CPU or not float32, or whose joints are not ``(B, 24, 3)``.
    """
    config = SyntheticConfig() if config is None else config
    if not isinstance(config, SyntheticConfig):
        raise TypeError(f"config must be a SyntheticConfig or None; got {type(config).__name__}")
    check_positive(seed, "seed", integer=True, allow_zero=True)
    check_tensor(body_poses, "body_poses", (None, len(BODY_JOINTS), 3), finite=False, nonempty=True,
                 hint="Axis-angle of joints 1..21, e.g. corpus_test_poses(B).")
    if body_poses.device.type != "cpu":
        raise ValueError(f"body_poses is on {body_poses.device}; synthetic batches are made on the CPU "
                         "(pass body_poses.cpu() and a CPU model)")
    check_tensor(body_poses, "body_poses")
    from humanlib.fitting.smplify import _module_device, _module_dtype

    where, model_dtype = _module_device(model), _module_dtype(model)
    if where is not None and where.type != "cpu":
        raise ValueError(f"the model is on {where}; synthetic batches are made on the CPU (pass model.cpu())")
    if model_dtype not in (None, torch.float32):
        raise ValueError(f"the model is {model_dtype}; synthetic batches are float32 (pass model.float())")
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
    joints_out = getattr(centred, "joints", None)
    if not isinstance(joints_out, torch.Tensor) or tuple(joints_out.shape) != (b, NUM_JOINTS, 3):
        raise ValueError(f"the model must return joints of shape ({b}, {NUM_JOINTS}, 3); "
                         f"got {tuple(getattr(joints_out, 'shape', ())) or type(centred).__name__}")
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
