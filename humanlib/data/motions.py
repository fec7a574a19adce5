"""Reading a folder of a researcher's own motions: a motion folder of ``humanlib retarget`` or AMASS files.

:func:`read_motion_folder` reads either layout, from a folder of any name, into SMPL's frame
(**Y up**, metres, axis-angle), as the experiments and chapters use it:

* a *motion folder* written by ``humanlib retarget`` (:mod:`humanlib.data.retarget_files`):
  ``motions.json`` names the frame rate, the up axis (``"y"``) and the clips;
* an *AMASS-layout* folder: ``.npz`` files with ``poses``, ``trans`` and a frame-rate key
  (``mocap_framerate`` / ``mocap_frame_rate``), in sub-folders of any name. AMASS's world is
  **Z up**; give ``up="y"`` for files already in SMPL's Y-up frame (a file may also say so in
  a key ``up``). Files without a frame-rate key need ``fps``.

Every clip of one folder must have one frame rate. The clips are fingerprinted with
:func:`humanlib.provenance.clips_fingerprint`, so that a results file names the data it saw.
Nothing is cached: the files are read on every call.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanlib._validate import check_positive
from humanlib.skeleton import NUM_JOINTS

UP_AXES = ("y", "z")
#: How a user makes a motion folder (named in error messages).
MAKE_ONE = "retarget your mocap with `humanlib retarget SOURCE --out DIR`, or give a folder of AMASS .npz files"


class MotionFolderError(ValueError):
    """A motion folder that cannot be used (the message names the folder or file and what to do)."""


@dataclass
class MotionClip:
    """One clip of a motion folder, in SMPL's frame (Y up).

    Attributes:
        id: clip id (a retargeted clip's id; an AMASS file's path below the folder, no suffix).
        file: the file, relative to the folder.
        poses: ``(T, 24, 3)`` float32 torch tensor, axis-angle (joints 22, 23 at rest).
        transl: ``(T, 3)`` float32 torch tensor, metres.
    """

    id: str
    file: str
    poses: "torch.Tensor"  # noqa: F821
    transl: "torch.Tensor"  # noqa: F821

    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])


@dataclass
class MotionFolder:
    """A folder of motions read by :func:`read_motion_folder`.

    Attributes:
        path: the folder (absolute).
        name: the folder's name (labels results files).
        layout: ``"retargeted"`` (``humanlib retarget``'s motion folder) or ``"amass"``.
        fps: frames per second of every clip.
        fps_from: where the frame rate came from (``motions.json``, the files' key, ``--fps``).
        up: the files' up axis, ``"y"`` or ``"z"`` (the clips are returned Y up either way).
        up_from: where the up axis came from.
        clips: :class:`MotionClip` per clip, in the folder's order.
        fingerprint: :func:`humanlib.provenance.clips_fingerprint` of the clips.
    """

    path: Path
    name: str
    layout: str
    fps: float
    fps_from: str
    up: str
    up_from: str
    clips: list[MotionClip]
    fingerprint: str

    @property
    def num_frames(self) -> int:
        return sum(c.num_frames for c in self.clips)

    def experiment_clips(self) -> list[tuple[str, "torch.Tensor", "torch.Tensor"]]:  # noqa: F821
        """``(id, poses, transl)`` per clip, as ``run_experiment(clips=...)`` and ``tune_weights(clips=...)`` take them."""
        return [(c.id, c.poses, c.transl) for c in self.clips]

    def describe(self) -> str:
        """One line: the folder, its layout, up axis, size, frame rate and fingerprint."""
        layout = "motion folder of humanlib retarget" if self.layout == "retargeted" else "AMASS-layout folder"
        return (f"{self.name} ({layout} at {self.path}; files {self.up.upper()} up ({self.up_from}), read into SMPL's "
                f"Y-up frame): {len(self.clips)} clips, {self.num_frames} frames at {self.fps:g} fps ({self.fps_from}), "
                f"clips sha256 {self.fingerprint}")


def _check_up(up: object) -> str | None:
    if up is None:
        return None
    if not isinstance(up, str) or up.lower() not in UP_AXES:
        raise ValueError(f"up must be 'y' or 'z' (the files' up axis), or None to read it from the files; got {up!r}")
    return up.lower()


def _z_up_to_y_up(poses: np.ndarray, transl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The AMASS loader's rotation (``humanlib.data.amass.Z_UP_TO_Y_UP``) on the root orientation and translation."""
    from humanlib.data.amass import Z_UP_TO_Y_UP
    from humanlib.data.retarget import axis_angle_to_rotmat_np, rotmat_to_axis_angle_np

    poses = poses.astype(np.float64).copy()
    poses[:, 0] = rotmat_to_axis_angle_np(Z_UP_TO_Y_UP @ axis_angle_to_rotmat_np(poses[:, 0]))
    return poses, transl.astype(np.float64) @ Z_UP_TO_Y_UP.T


def read_motion_folder(folder: str | Path, up: str | None = None, fps: float | None = None) -> MotionFolder:
    """Read a motion folder of ``humanlib retarget`` or a folder of AMASS ``.npz`` files into SMPL's Y-up frame.

    Args:
        folder: the folder (any name). With a ``motions.json`` it is read as ``humanlib retarget``'s
            motion folder; otherwise every ``.npz`` below it is read as an AMASS motion
            (``shape.npz`` and ``*_stagei.npz`` hold no motion and are skipped).
        up: the files' up axis, ``"y"`` or ``"z"``; None: from the files (``motions.json``'s
            ``"up"``; an AMASS file's key ``up``; else AMASS's convention, Z up). An ``up``
            that contradicts the files is an error.
        fps: frame rate of files that carry none (AMASS files without ``mocap_framerate``);
            None: from the files. An ``fps`` that contradicts the files is an error.

    Returns:
        :class:`MotionFolder`.

    Raises:
        TypeError: ``folder`` is not a path.
        ValueError: ``up`` not ``"y"`` / ``"z"``, ``fps`` not > 0.
        FileNotFoundError: ``folder`` does not exist or is a file.
        MotionFolderError: no motion in the folder, mixed frame rates, no frame rate (and no
            ``fps``), an ``up`` or ``fps`` that contradicts the files, a damaged ``motions.json``
            or clip file (the message names it and what to do).
        humanlib.data.AmassFormatError: an AMASS file that cannot be read (names it and the key).
    """
    if not isinstance(folder, (str, Path)):
        raise TypeError(f"folder must be a str or pathlib.Path; got {type(folder).__name__}")
    up = _check_up(up)
    if fps is not None:
        check_positive(fps, "fps")
        fps = float(fps)
    root = Path(folder).expanduser()
    if not root.is_dir():
        state = "is a file, not a folder" if root.exists() else "does not exist"
        raise FileNotFoundError(f"motion folder {root} {state}; {MAKE_ONE}")
    root = root.resolve()
    from humanlib.data.retarget_files import MOTIONS_FILE

    if (root / MOTIONS_FILE).is_file():
        layout, clips, rate, rate_from, axis, axis_from = "retargeted", *_read_retargeted(root, up, fps)
    else:
        layout, clips, rate, rate_from, axis, axis_from = "amass", *_read_amass(root, up, fps)
    from humanlib.provenance import clips_fingerprint

    return MotionFolder(path=root, name=root.name, layout=layout, fps=rate, fps_from=rate_from, up=axis,
                        up_from=axis_from, clips=clips, fingerprint=clips_fingerprint([(c.id, c.poses, c.transl) for c in clips]))


def _clip(cid: str, file: str, poses: np.ndarray, transl: np.ndarray, up: str) -> MotionClip:
    import torch

    if up == "z":
        poses, transl = _z_up_to_y_up(poses, transl)
    return MotionClip(cid, file, torch.from_numpy(np.ascontiguousarray(poses, dtype=np.float32)),
                      torch.from_numpy(np.ascontiguousarray(transl, dtype=np.float32)))


def _read_retargeted(root: Path, up: str | None, fps: float | None):
    from humanlib.data.retarget_files import MOTIONS_FILE, MOTIONS_FORMAT

    path = root / MOTIONS_FILE
    redo = f"write the folder again with `humanlib retarget SOURCE --out {root}`"
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, ValueError) as err:
        raise MotionFolderError(f"{path} is not valid JSON ({err}); {redo}") from None
    if not isinstance(meta, dict) or meta.get("format") != MOTIONS_FORMAT:
        raise MotionFolderError(f"{path} is not a motion folder's list (format {MOTIONS_FORMAT!r} expected); {redo}")
    rate, axis, entries = meta.get("fps"), meta.get("up"), meta.get("clips")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < math.inf:
        raise MotionFolderError(f"{path}: 'fps' is {rate!r}, expected a positive frame rate; {redo}")
    if axis not in UP_AXES:
        raise MotionFolderError(f"{path}: 'up' is {axis!r}, expected 'y' or 'z'; {redo}")
    if fps is not None and fps != float(rate):
        raise MotionFolderError(f"{root}: its clips are at {float(rate):g} fps ({MOTIONS_FILE}); --fps is only for files "
                                f"that carry no frame rate: drop it (or retarget again with --fps {fps:g})")
    if up is not None and up != axis:
        raise MotionFolderError(f"{root}: {MOTIONS_FILE} says the clips are {axis.upper()} up, not {up.upper()} up; "
                                "drop --up (a motion folder states its own up axis)")
    if not isinstance(entries, list) or not entries:
        raise MotionFolderError(f"no motion in {root}: {MOTIONS_FILE} lists no clips; {redo}")
    clips = []
    for entry in entries:
        cid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(cid, str) or not cid:
            raise MotionFolderError(f"{path}: a clip entry without an 'id' ({entry!r}); {redo}")
        file = root / f"{cid}.npz"
        if not file.is_file():
            raise MotionFolderError(f"{file} is missing (listed in {MOTIONS_FILE}); {redo}")
        try:
            with np.load(file, allow_pickle=False) as data:
                poses, transl = data["poses"].astype(np.float64), data["transl"].astype(np.float64)
        except Exception as err:  # noqa: BLE001 - a damaged .npz surfaces as many exception types
            raise MotionFolderError(f"{file} cannot be read ({type(err).__name__}: {err}); {redo}") from None
        if poses.ndim != 3 or poses.shape[1:] not in ((22, 3), (NUM_JOINTS, 3)) or transl.shape != (len(poses), 3):
            raise MotionFolderError(f"{file}: poses {poses.shape} / transl {transl.shape}, expected (T, 22, 3) / (T, 3); "
                                    f"{redo}")
        if len(poses) == 0 or not (np.isfinite(poses).all() and np.isfinite(transl).all()):
            raise MotionFolderError(f"{file} holds no frames, or NaN / inf values; {redo}")
        full = np.zeros((len(poses), NUM_JOINTS, 3))
        full[:, :poses.shape[1]] = poses
        clips.append(_clip(cid, file.name, full, transl, axis))
    return clips, float(rate), MOTIONS_FILE, axis, MOTIONS_FILE


def _npz_keys(path: Path) -> dict[str, object]:
    """The frame rate and up axis an AMASS-layout file carries (None where it has none)."""
    from humanlib.data.amass import AmassFormatError, FRAME_RATE_KEYS

    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            up = str(np.asarray(data["up"]).reshape(-1)[0]).lower() if "up" in keys else None
            rate_key = next((k for k in FRAME_RATE_KEYS if k in keys), None)
    except Exception as err:  # noqa: BLE001 - a damaged .npz surfaces as many exception types
        raise AmassFormatError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from None
    if up is not None and up not in UP_AXES:
        raise MotionFolderError(f"{path}: key 'up' is {up!r}, expected 'y' or 'z'")
    return {"up": up, "has_rate": rate_key is not None}


def _read_amass(root: Path, up: str | None, fps: float | None):
    from humanlib.data.amass import find_amass_files, load_amass_npz

    from humanlib.data.retarget_files import MOTIONS_FILE

    nested = sorted(p.parent for p in root.rglob(MOTIONS_FILE))
    if nested:
        raise MotionFolderError(f"{root} holds motion folders ({', '.join(str(p.relative_to(root)) for p in nested[:3])}"
                                f"{' ...' if len(nested) > 3 else ''}) but is none itself; give one of them")
    files = find_amass_files(root)
    mocap = sorted({p.suffix.lower() for p in root.rglob("*") if p.suffix.lower() in (".amc", ".asf", ".bvh")})
    if not files and mocap:
        raise MotionFolderError(f"no motion in {root} yet: it holds {'/'.join(mocap)} mocap files; retarget them first "
                                f"with `humanlib retarget {root} --out DIR` and give DIR")
    if not files:
        raise MotionFolderError(f"no motion in {root}: neither a motions.json (humanlib retarget) nor AMASS .npz files; "
                                f"{MAKE_ONE}")
    clips, rates = [], {}
    axes: dict[str, str] = {}
    used_fps = False
    for _, path in files:
        info = _npz_keys(path)
        rel = str(path.relative_to(root))
        if info["up"] is not None and up is not None and info["up"] != up:
            raise MotionFolderError(f"{path}: its key 'up' says {info['up'].upper()} up, not {up.upper()} up; drop --up")
        axis = info["up"] or up or "z"
        axes[axis] = "the files' key 'up'" if info["up"] else ("--up" if up else "AMASS's convention (give --up y "
                                                                               "for Y-up files)")
        if not info["has_rate"] and fps is None:
            raise MotionFolderError(f"{path} carries no frame rate (no key 'mocap_framerate' or 'mocap_frame_rate'); "
                                    "give its rate with --fps F (fps=F)")
        used_fps = used_fps or not info["has_rate"]
        motion = load_amass_npz(path, y_up=False, fps=None if info["has_rate"] else fps)
        if info["has_rate"] and fps is not None and motion.fps != fps:
            raise MotionFolderError(f"{path} is at {motion.fps:g} fps (its frame-rate key); --fps is only for files "
                                    "that carry no frame rate: drop it")
        rates.setdefault(motion.fps, []).append(rel)
        clips.append(_clip(str(Path(rel).with_suffix("")), rel, motion.poses, motion.transl, axis))
    if len(rates) > 1:
        parts = "; ".join(f"{r:g} fps: {', '.join(names[:2])}{' ...' if len(names) > 2 else ''}"
                          for r, names in sorted(rates.items()))
        raise MotionFolderError(f"mixed frame rates in {root} ({parts}); put the clips of each frame rate in their "
                                "own folder (or retarget the sources to one rate with `humanlib retarget --fps F`)")
    if len(axes) > 1:
        raise MotionFolderError(f"{root} mixes Y-up and Z-up files (their keys 'up'); put each in its own folder")
    (rate,), ((axis, axis_from),) = rates, axes.items()
    rate_from = "--fps" if used_fps else "the files' frame-rate key"
    return clips, float(rate), rate_from, axis, axis_from


def check_window_lengths(motions: MotionFolder, windows: tuple[int, ...] | list[int]) -> None:
    """Fail, saying what to do, when no clip of ``motions`` is as long as one of the window lengths.

    Raises:
        TypeError: ``motions`` is not a :class:`MotionFolder`, ``windows`` not a tuple / list of integers.
        MotionFolderError: a window length that no clip holds (names the longest clip).
    """
    if not isinstance(motions, MotionFolder):
        raise TypeError(f"motions must be a MotionFolder (from read_motion_folder); got {type(motions).__name__}")
    if not isinstance(windows, (tuple, list)) or not windows or any(
            isinstance(w, bool) or not isinstance(w, int) for w in windows):
        raise TypeError(f"windows must be a non-empty tuple of window lengths in frames; got {windows!r}")
    longest = max(motions.clips, key=lambda c: c.num_frames)
    too_long = sorted(w for w in windows if w > longest.num_frames)
    if too_long:
        fits = [w for w in windows if w <= longest.num_frames]
        advice = f"drop {', '.join(map(str, too_long))}" if fits else f"give windows of at most {longest.num_frames} frames"
        raise MotionFolderError(
            f"every clip of {motions.path} is shorter than a window of {too_long[0]} frames (its longest, "
            f"{longest.id}, has {longest.num_frames} frames at {motions.fps:g} fps); {advice} (--windows / --window), "
            "or give longer clips")


__all__ = ["MAKE_ONE", "UP_AXES", "MotionClip", "MotionFolder", "MotionFolderError", "check_window_lengths",
           "read_motion_folder"]
