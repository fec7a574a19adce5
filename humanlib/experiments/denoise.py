"""Denoising a user's own motion with a pose prior: ``humanlib denoise MOTION.npz --prior gmm``.

The motion experiments' fit (:func:`humanlib.experiments.fit_motion`) applied to one
AMASS-style file instead of corpus windows:

1. the file's poses are read with :func:`humanlib.data.load_amass_npz` in the file's own
   world frame (``y_up=False``: no energy of the fit depends on where "up" is);
2. the observation is the 3D joints of those poses on the open body model with the mean shape
   (``humanlib.experiments.protocol.body_joints_of``), every joint visible, exactly as the
   experiments' pose-noise condition builds it;
3. the clip is cut into windows of ``window`` frames (the last one aligned with the clip's end)
   and each batch of windows is fitted from the input poses with data + smoothness + prior terms,
   the shape held at the mean (the observation was made with it);
4. the fitted root orientation, 21 body joints and translation replace those of the input; every
   other key and number of the file (hands, jaw, eyes, betas, gender...) is written back as it was.

Weights: the val-tuned weights of the experiments (``results/experiments/weights_val.json``,
condition ``pose-0.1rad``) when that file is there, else the runner's defaults; the smoothness
weight was tuned at 30 fps and is scaled by ``(fps / 30)^4`` (the acceleration in cm per frame^2
shrinks as ``fps^-2``) so the trade-off stays the same at other frame rates.

The smoothness term does not cross window boundaries: a long ``window`` gives the smoothest
result, at a higher cost per L-BFGS step.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from humanlib._validate import check_file, check_positive, check_tensor
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS

#: The experiments' condition whose val-tuned weights denoising uses by default.
DEFAULT_CONDITION = "pose-0.1rad"
#: The frame rate the smoothness weights were tuned at.
REFERENCE_FPS = 30.0
#: Where ``humanlib experiment tune`` writes the val-tuned weights (relative to the repository).
DEFAULT_WEIGHTS = Path("results") / "experiments" / "weights_val.json"
#: The committed val-tuned weights shipped inside the package (a copy of the repository's
#: ``DEFAULT_WEIGHTS``, kept identical by a test): the default of ``humanlib experiment`` and
#: ``humanlib denoise`` from any working directory.
SHIPPED_WEIGHTS = Path(__file__).resolve().parents[1] / "assets" / "experiments" / "weights_val.json"
#: Numbers of a pose row that the fit replaces: the root and the 21 body joints.
FITTED_POSE_NUMBERS = 3 * (1 + len(BODY_JOINTS))


@dataclass
class DenoiseConfig:
    """How :func:`denoise_motion` fits a clip.

    Attributes:
        window: frames per window (a clip shorter than this is one window). >= 3.
        iterations: L-BFGS iterations of the full energy per batch of windows.
        warmup_iterations: L-BFGS iterations without the smoothness term first.
        smooth_weight: smoothness weight at 30 fps (scaled by ``(fps / 30)^4``).
        prior_weight: weight of the prior's energy (ignored for the prior ``"none"``).
        batch_windows: windows fitted together in one L-BFGS run.

    Raises:
        TypeError: a field of the wrong type (the message names the field).
        ValueError: a field out of range (the message names the field).
    """

    window: int = 120
    iterations: int = 60
    warmup_iterations: int = 30
    smooth_weight: float = 10.0
    prior_weight: float = 1.0
    batch_windows: int = 8

    def __post_init__(self) -> None:
        check_positive(self.window, "DenoiseConfig.window", integer=True)
        if self.window < 3:
            raise ValueError(f"DenoiseConfig.window must be >= 3 frames (the acceleration term); got {self.window}")
        check_positive(self.iterations, "DenoiseConfig.iterations", integer=True)
        check_positive(self.warmup_iterations, "DenoiseConfig.warmup_iterations", integer=True, allow_zero=True)
        check_positive(self.smooth_weight, "DenoiseConfig.smooth_weight", allow_zero=True)
        check_positive(self.prior_weight, "DenoiseConfig.prior_weight", allow_zero=True)
        check_positive(self.batch_windows, "DenoiseConfig.batch_windows", integer=True)


@dataclass
class MotionFile:
    """An AMASS-style motion file as read by :func:`read_motion`.

    Attributes:
        poses: ``(T, 24, 3)`` float32 axis-angle in the file's own world frame.
        transl: ``(T, 3)`` float32, or None when the file has no ``trans``.
        fps: frames per second.
        model_type: "SMPL", "SMPL-H" or "SMPL-X" (from the pose width).
        arrays: every key of the file, as stored (written back by :func:`write_motion`).
        path: the file.
    """

    poses: torch.Tensor
    transl: torch.Tensor | None
    fps: float
    model_type: str
    arrays: dict[str, np.ndarray]
    path: str


@dataclass
class DenoiseResult:
    """A denoised clip.

    Attributes:
        poses: ``(T, 24, 3)`` fitted axis-angle (joints 22, 23 at rest).
        transl: ``(T, 3)`` fitted root translation.
        num_windows: windows fitted.
        smooth_weight: the smoothness weight used (already scaled to the clip's frame rate).
        prior_weight: the prior weight used.
        seconds: wall-clock time of the fits.
        change_deg: mean rotation between input and output body joints, degrees.
        max_change_deg: the largest such rotation.
        joint_change_cm: mean distance between input and output 3D joints, cm.
    """

    poses: torch.Tensor
    transl: torch.Tensor
    num_windows: int
    smooth_weight: float
    prior_weight: float
    seconds: float
    change_deg: float
    max_change_deg: float
    joint_change_cm: float


def read_motion(path: str | Path) -> MotionFile:
    """Read an AMASS-style ``.npz`` (``poses`` (T, 72 | 156 | 165), optional ``trans``, a frame rate).

    The checks are :func:`humanlib.data.load_amass_npz`'s (keys, widths, frame counts,
    finite values, the frame-rate key ``mocap_framerate`` or ``mocap_frame_rate``); a file
    without ``trans`` is read as if it stood at the origin.

    Raises:
        FileNotFoundError: ``path`` is missing or a folder.
        humanlib.data.amass.AmassFormatError: the file cannot be read or breaks the layout
            (names the file and the key).
    """
    from humanlib.data.amass import AmassFormatError, load_amass_npz

    path = check_file(path, "motion file", "give an AMASS-style .npz with 'poses' (T, 72 | 156 | 165)")
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                arrays = {key: np.asarray(data[key]) for key in data.files}
    except Exception as err:  # noqa: BLE001 (numpy reports damaged archives through many exception types)
        raise AmassFormatError(f"{path}: not a readable .npz file ({type(err).__name__}: {err}); "
                               "give an AMASS-style motion .npz") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise AmassFormatError(f"{path}: not a readable .npz file (a single .npy array, not an .npz archive of "
                               "named keys); give an AMASS-style motion .npz")
    if "trans" in arrays:
        motion = load_amass_npz(path, y_up=False)
    else:  # the reader needs 'trans': give it a copy with the motion at the origin
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / path.name
            poses = arrays.get("poses")
            frames = poses.shape[0] if isinstance(poses, np.ndarray) and poses.ndim == 2 else 0
            np.savez(copy, **arrays, trans=np.zeros((frames, 3)))
            try:
                motion = load_amass_npz(copy, y_up=False)
            except AmassFormatError as err:
                raise AmassFormatError(str(err).replace(str(copy), str(path))) from None
    return MotionFile(
        poses=torch.from_numpy(motion.poses), transl=torch.from_numpy(motion.transl) if "trans" in arrays else None,
        fps=motion.fps, model_type=motion.model_type, arrays=arrays, path=str(path),
    )


def window_starts_covering(num_frames: int, window: int) -> list[int]:
    """Starts of windows of ``min(window, num_frames)`` frames that cover every frame once or twice.

    Non-overlapping windows from frame 0, plus one window ending on the last frame when the
    clip is not a multiple of ``window`` (its frames before the previous window's end are
    taken from the previous window).

    Raises:
        ValueError: fewer than 3 frames, or a window shorter than 3 frames.
    """
    check_positive(num_frames, "num_frames", integer=True)
    check_positive(window, "window", integer=True)
    if num_frames < 3 or window < 3:
        raise ValueError(f"denoising needs windows of at least 3 frames (the acceleration term); "
                         f"got a clip of {num_frames} frames and window {window}")
    length = min(window, num_frames)
    starts = list(range(0, num_frames - length + 1, length))
    if starts[-1] + length < num_frames:
        starts.append(num_frames - length)
    return starts


def denoise_motion(
    poses: torch.Tensor,
    transl: torch.Tensor | None,
    fps: float,
    prior,
    config: DenoiseConfig | None = None,
    model=None,
    progress: bool = False,
) -> DenoiseResult:
    """Fit a clip with a pose prior and a smoothness term (see the module docstring).

    Args:
        poses: ``(T, 24, 3)`` axis-angle, T >= 3 (joints 22, 23 are not fitted).
        transl: ``(T, 3)`` root translation, or None (the origin).
        fps: the clip's frame rate (scales the smoothness weight).
        prior: a :class:`humanlib.priors.PosePrior` (``NoPrior()`` for none), e.g.
            :func:`humanlib.experiments.load_prior`.
        config: :class:`DenoiseConfig` (weights, window, iterations).
        model: the body model (default: :func:`humanlib.body.load_body_model`); its device is used.
        progress: show a tqdm bar over the batches of windows.

    Returns:
        :class:`DenoiseResult` on the CPU.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: wrong shapes, non-finite values, fewer than 3 frames or a frame rate that
            is not a positive number.
    """
    from tqdm.auto import tqdm

    from humanlib.experiments.motion_fit import MotionFitConfig, fit_motion
    from humanlib.experiments.protocol import body_joints_of
    from humanlib.priors import NoPrior, PosePrior
    from humanlib.rotations import axis_angle_to_rotmat, rotmat_geodesic_distance

    config = DenoiseConfig() if config is None else config
    if not isinstance(config, DenoiseConfig):
        raise TypeError(f"config must be a DenoiseConfig; got {type(config).__name__}")
    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior (e.g. runner.load_prior('gmm')); "
                        f"got {type(prior).__name__}")
    check_tensor(poses, "poses", (None, NUM_JOINTS, 3), hint="T frames of SMPL's 24 joints, axis-angle.")
    frames = poses.shape[0]
    if transl is not None:
        check_tensor(transl, "transl", (frames, 3))
    check_positive(fps, "fps")
    if frames < 3:
        raise ValueError(f"poses holds {frames} frame(s); denoising needs at least 3 (the acceleration term)")
    if model is None:
        from humanlib.body import load_body_model

        model = load_body_model()
    device = model.v_template.device
    poses = poses.detach().to(device, torch.float32)
    transl = torch.zeros(frames, 3, device=device) if transl is None else transl.detach().to(device, torch.float32)
    smooth = config.smooth_weight * (fps / REFERENCE_FPS) ** 4
    lam = 0.0 if isinstance(prior, NoPrior) else config.prior_weight
    fit_config = MotionFitConfig(smooth_weight=smooth, prior_weight=lam, iterations=config.iterations,
                                 warmup_iterations=config.warmup_iterations, optimize_betas=False)
    starts = window_starts_covering(frames, config.window)
    length = min(config.window, frames)
    idx = torch.tensor(starts, device=device)[:, None] + torch.arange(length, device=device)  # (W, L)
    observed = body_joints_of(model, poses[idx], transl[idx])
    mask = torch.ones(observed.shape[:3], device=device)
    out_poses, out_transl = poses.clone(), transl.clone()
    out_poses[:, len(BODY_JOINTS) + 1:] = 0.0
    t0 = time.perf_counter()
    batches = range(0, len(starts), config.batch_windows)
    for b in tqdm(batches, desc="denoise", unit="batch", disable=not progress):
        sl = slice(b, b + config.batch_windows)
        body = poses[idx[sl]][:, :, list(BODY_JOINTS)]
        fit = fit_motion(model, prior, observed[sl], mask[sl], body, fit_config)
        for w, start in enumerate(starts[sl]):  # a later window overwrites only frames not yet fitted
            keep = slice(0, length) if start == 0 else slice(max(0, starts[b + w - 1] + length - start), length)
            out_poses[start + keep.start:start + length] = fit.poses[w, keep].to(out_poses.dtype)
            out_transl[start + keep.start:start + length] = fit.transl[w, keep].to(out_transl.dtype)
    seconds = time.perf_counter() - t0
    body = list(BODY_JOINTS)
    angle = torch.rad2deg(rotmat_geodesic_distance(axis_angle_to_rotmat(out_poses[:, body]),
                                                   axis_angle_to_rotmat(poses[:, body])))
    moved = (body_joints_of(model, out_poses, out_transl) - body_joints_of(model, poses, transl)).norm(dim=-1)
    return DenoiseResult(
        poses=out_poses.cpu(), transl=out_transl.cpu(), num_windows=len(starts), smooth_weight=smooth,
        prior_weight=lam, seconds=seconds, change_deg=float(angle.mean()), max_change_deg=float(angle.max()),
        joint_change_cm=float(moved.mean()) * 100,
    )


def write_motion(motion: MotionFile, result: DenoiseResult, out: str | Path, info: dict | None = None) -> Path:
    """Write ``motion``'s file with the denoised root, body joints and translation to ``out``.

    Every other key and number (hand / face joints, betas, gender, frame rate) is copied as it
    was, in its own dtype; ``info`` is stored as JSON under ``humanlib_denoise``.

    Raises:
        ValueError: ``result`` does not have ``motion``'s number of frames.
        IsADirectoryError: ``out`` is a folder.
    """
    if not isinstance(motion, MotionFile) or not isinstance(result, DenoiseResult):
        raise TypeError("write_motion needs a MotionFile (read_motion) and a DenoiseResult (denoise_motion)")
    frames = motion.poses.shape[0]
    if result.poses.shape[0] != frames:
        raise ValueError(f"the result has {result.poses.shape[0]} frames but {motion.path} has {frames}")
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"out {out} is a folder; give the .npz file to write")
    arrays = dict(motion.arrays)
    poses = np.array(arrays["poses"], copy=True)
    poses[:, :FITTED_POSE_NUMBERS] = result.poses[:, :1 + len(BODY_JOINTS)].reshape(frames, -1).numpy()
    arrays["poses"] = poses
    if "trans" in arrays:
        arrays["trans"] = result.transl.numpy().astype(arrays["trans"].dtype)
    arrays["humanlib_denoise"] = np.array(json.dumps(info or {}))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    return out


def choose_weights(prior_name: str, weights_file: str | Path | None, condition: str = DEFAULT_CONDITION,
                   ) -> tuple[float, float, str]:
    """``(smooth_weight, prior_weight, source)`` for a prior: the val-tuned choice of ``condition``
    in ``weights_file`` (None: the runner's defaults).

    Raises:
        ValueError: an unknown prior name, or a weights file of the wrong format.
        FileNotFoundError: ``weights_file`` is missing.
    """
    from humanlib.experiments.runner import parse_priors, read_weights, weights_for

    (name,) = parse_priors((prior_name,)) if isinstance(prior_name, str) else parse_priors(prior_name)
    choices = None
    if weights_file is not None:
        choices, _ = read_weights(weights_file)
    smooth, lam, source = weights_for(condition, name, choices)
    where = f"val-tuned for {condition} in {weights_file}" if source == "val" else "defaults"
    return smooth, lam, where


__all__ = ["DEFAULT_CONDITION", "DEFAULT_WEIGHTS", "SHIPPED_WEIGHTS", "DenoiseConfig", "DenoiseResult", "MotionFile", "choose_weights", "denoise_motion", "read_motion", "window_starts_covering", "write_motion"]
