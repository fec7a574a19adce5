"""Reading AMASS motions (SMPL-H / SMPL-X ``.npz`` files) as SMPL 24-joint poses.

AMASS (Mahmood et al., ICCV 2019) fits one body model to many mocap datasets. It needs a
registration at https://amass.is.tue.mpg.de and may not be redistributed, so the course never
ships it; a user who has it points ``HUMANLIB_AMASS_DIR`` at the unpacked folder and
:func:`humanlib.data.load_corpus` reads it instead of the open corpus.

Layout of one AMASS file (facts of the released format):

* ``poses`` ``(T, 156)`` for SMPL-H (root 3 + 21 body joints x 3 + 2 x 15 hand joints x 3) or
  ``(T, 165)`` for SMPL-X (root, 21 body joints, jaw, two eyes, two hands). The first 66
  numbers are SMPL's joints 0..21 in SMPL's order; SMPL's two hand joints (22, 23) have no
  direct counterpart and are set to rest here.
* ``trans`` ``(T, 3)`` metres, ``betas`` (16 or more), ``gender``, and the frame rate under
  ``mocap_framerate`` (SMPL-H releases) or ``mocap_frame_rate`` (SMPL-X releases).
* The world is **Z up**; :func:`load_amass_npz` turns it to SMPL's Y-up frame by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanlib.data._checks import as_array, check_input_file, npz_problem
from humanlib.data.retarget import axis_angle_to_rotmat_np, rotmat_to_axis_angle_np
from humanlib.skeleton import NUM_JOINTS

#: Accepted widths of ``poses``: SMPL (72), SMPL-H (156), SMPL-X (165).
POSE_WIDTHS = {72: "SMPL", 156: "SMPL-H", 165: "SMPL-X"}
FRAME_RATE_KEYS = ("mocap_framerate", "mocap_frame_rate")
#: Rotation taking AMASS's Z-up world to SMPL's Y-up frame (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


class AmassFormatError(ValueError):
    """An AMASS-style file that cannot be read; the message names the file and key."""


@dataclass
class AmassMotion:
    """One AMASS sequence as SMPL poses.

    Attributes:
        poses: ``(T, 24, 3)`` float32 axis-angle (joints 22, 23 at rest).
        transl: ``(T, 3)`` float32 root translation, metres.
        betas: ``(K,)`` float32 shape coefficients of the fitted body (for its own model).
        fps: frames per second.
        model_type: "SMPL", "SMPL-H" or "SMPL-X" (from the pose width).
        path: the file.
    """

    poses: np.ndarray
    transl: np.ndarray
    betas: np.ndarray
    fps: float
    model_type: str
    path: str


def _check_amass_arrays(path, poses: np.ndarray, trans: np.ndarray, betas: np.ndarray, fps: float, rate_key) -> None:
    """The shapes and values :func:`load_amass_npz` read (names the file and key)."""
    if poses.ndim != 2 or poses.shape[1] not in POSE_WIDTHS:
        raise AmassFormatError(f"{path}: key 'poses' has shape {poses.shape}, expected (T, 72), (T, 156) or (T, 165)")
    if poses.shape[0] == 0:
        raise AmassFormatError(f"{path}: key 'poses' holds no frames (shape {poses.shape})")
    if trans.shape != (poses.shape[0], 3):
        raise AmassFormatError(f"{path}: key 'trans' has shape {trans.shape}, expected ({poses.shape[0]}, 3)")
    if not np.isfinite(poses).all() or not np.isfinite(trans).all():
        raise AmassFormatError(f"{path}: key 'poses' or 'trans' holds NaN or inf")
    if not np.isfinite(betas).all():
        raise AmassFormatError(f"{path}: key 'betas' holds NaN or inf")
    if not 0 < fps < float("inf"):
        raise AmassFormatError(f"{path}: key {rate_key!r} is {fps}, expected a positive frame rate")


def _amass_to_smpl(poses: np.ndarray, trans: np.ndarray, y_up: bool, pelvis_rest) -> tuple[np.ndarray, np.ndarray]:
    """SMPL's ``(T, 24, 3)`` poses (hands at rest) and the translation, turned Y-up about the pelvis when ``y_up``."""
    T = poses.shape[0]
    smpl = np.zeros((T, NUM_JOINTS, 3))
    smpl[:, :22] = poses[:, :66].reshape(T, 22, 3)
    if y_up:
        root = axis_angle_to_rotmat_np(smpl[:, 0])
        smpl[:, 0] = rotmat_to_axis_angle_np(Z_UP_TO_Y_UP @ root)
        p0 = np.zeros(3) if pelvis_rest is None else np.asarray(pelvis_rest, dtype=np.float64)
        trans = (trans + p0) @ Z_UP_TO_Y_UP.T - p0
    return smpl, trans


def load_amass_npz(path: str | Path, y_up: bool = True, pelvis_rest: np.ndarray | None = None,
                   fps: float | None = None) -> AmassMotion:
    """Read one AMASS ``.npz`` as SMPL 24-joint poses.

    Args:
        path: the file.
        y_up: rotate the Z-up AMASS world into SMPL's Y-up frame (root orientation and
            translation).
        pelvis_rest: ``(3,)`` rest pelvis position of the target body, used so the rotation
            turns the body about its pelvis (zeros when None).
        fps: frame rate of a file that carries none (no frame-rate key); None: the key is required.

    Returns:
        :class:`AmassMotion`.

    Raises:
        FileNotFoundError: ``path`` does not exist or is a directory.
        AmassFormatError: a missing key, a pose width that is not 72/156/165, no frames,
            mismatched frame counts, non-numeric or non-finite values, a frame rate that is not
            one positive number, or an unreadable file or a ``.npy`` (names the file and key).
        ValueError: ``pelvis_rest`` is not a finite ``(3,)`` array, ``fps`` not > 0.
        TypeError: ``y_up`` is not a bool, ``pelvis_rest`` not an array.
    """
    path = check_input_file(path, "AMASS file", "point HUMANLIB_AMASS_DIR at the unpacked AMASS folder")
    if not isinstance(y_up, (bool, np.bool_)):
        raise TypeError(f"y_up must be True or False; got {y_up!r}")
    if pelvis_rest is not None:
        pelvis_rest = as_array(pelvis_rest, "pelvis_rest", (3,))
    if fps is not None:
        from humanlib._validate import check_positive

        check_positive(fps, "fps")
    # numpy's .npz reader reports a damaged file through many exception types (zipfile, zlib,
    # tokenize for a garbled array header, NotImplementedError for a garbled compression field...)
    errors = Exception
    problem = npz_problem(path)
    if problem is not None:
        raise AmassFormatError(f"{path}: {problem}; AMASS motions are .npz files")
    try:
        data = np.load(path, allow_pickle=False)
    except errors as err:
        raise AmassFormatError(f"{path}: not a readable .npz file ({err})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise AmassFormatError(f"{path}: a single array ({type(data).__name__}), not an .npz archive of named "
                               "keys; not an AMASS motion file")
    try:  # read every key now and close the file (an NpzFile keeps it open)
        keys = set(data.files)

        def get(key: str, dtype=np.float64) -> np.ndarray:
            try:
                value = np.asarray(data[key])
            except errors as err:
                raise AmassFormatError(f"{path}: key {key!r} cannot be read ({err})") from None
            if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
                raise AmassFormatError(f"{path}: key {key!r} holds {value.dtype} values, expected numbers")
            return value.astype(dtype)

        for key in ("poses", "trans"):
            if key not in keys:
                raise AmassFormatError(f"{path}: missing key {key!r} (keys: {sorted(keys)}); not an AMASS motion file")
        rate_key = next((k for k in FRAME_RATE_KEYS if k in keys), None)
        if rate_key is None and fps is None:
            raise AmassFormatError(f"{path}: missing key 'mocap_framerate' or 'mocap_frame_rate' (keys: {sorted(keys)})")
        poses = get("poses")
        trans = get("trans")
        rate = get(rate_key) if rate_key is not None else np.array([float(fps)])
        if rate.size != 1:
            raise AmassFormatError(f"{path}: key {rate_key!r} has shape {rate.shape}, expected one number (frames per second)")
        fps = float(rate.reshape(-1)[0])
        betas = get("betas", np.float32).reshape(-1) if "betas" in keys else np.zeros(0, np.float32)
    finally:
        data.close()
    _check_amass_arrays(path, poses, trans, betas, fps, rate_key)
    smpl, trans = _amass_to_smpl(poses, trans, y_up, pelvis_rest)
    return AmassMotion(
        poses=smpl.astype(np.float32), transl=trans.astype(np.float32), betas=betas, fps=fps,
        model_type=POSE_WIDTHS[poses.shape[1]], path=str(path),
    )


#: AMASS sub-datasets per split, as in VPoser's split (names of both AMASS releases).
AMASS_SPLITS: dict[str, tuple[str, ...]] = {
    "val": ("HumanEva", "MPI_HDM05", "HDM05", "SFU", "MPI_mosh", "MoSh"),
    "test": ("Transitions_mocap", "Transitions", "SSM_synced", "SSM"),
}


def amass_split_of(dataset: str) -> str:
    """Split of an AMASS sub-dataset folder name: "val", "test", or "train" (all others).

    Raises:
        TypeError: ``dataset`` is not a string.
    """
    if not isinstance(dataset, str):
        raise TypeError(f"dataset must be an AMASS sub-dataset folder name (str); got {type(dataset).__name__}")
    for split, names in AMASS_SPLITS.items():
        if dataset in names:
            return split
    return "train"


def find_amass_files(root: str | Path) -> list[tuple[str, Path]]:
    """All motion ``.npz`` files under an AMASS folder, as ``(sub-dataset, path)``, sorted.

    The sub-dataset is the first folder below ``root``. Per-subject body-shape files hold no
    motion and are skipped: ``shape.npz`` (SMPL-H releases) and ``*_stagei.npz`` (MoSh++'s
    first stage, next to the ``*_stageii.npz`` motions of SMPL-X releases).

    Raises:
        TypeError: ``root`` is not a path.
        FileNotFoundError: ``root`` does not exist or is a file.
    """
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a str or pathlib.Path; got {type(root).__name__}")
    root = Path(root).expanduser()
    if not root.is_dir():
        state = "is a file, not a folder" if root.exists() else "does not exist"
        raise FileNotFoundError(f"AMASS folder {root} {state}; point HUMANLIB_AMASS_DIR at the unpacked AMASS folder")
    out = []
    for p in sorted(root.rglob("*.npz")):
        if p.name == "shape.npz" or p.name.endswith("_stagei.npz"):
            continue
        rel = p.relative_to(root).parts
        out.append((rel[0] if len(rel) > 1 else root.name, p))
    return out
