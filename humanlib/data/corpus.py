"""The open motion corpus: build it from the raw mocap archives, load it by split.

``humanlib build-corpus`` (:func:`build_corpus`) unpacks the two open archives, retargets every
clip onto SMPL's 24 joints (:mod:`humanlib.data.sources`), validates the result and writes a
compact, sharded corpus to ``humanlib/assets/corpus``. :func:`load_corpus` reads a split back,
or, when ``HUMANLIB_AMASS_DIR`` is set, the matching split of the user's AMASS instead (same
return type, so the chapters run unchanged on AMASS).

Splits are fixed by rules, not by chance (see ``SPLIT_RULES``): whole CMU subjects and whole
Bandai-Namco styles are held out so that no performer/style take leaks between train and test.
Train and validation are stored at 10 fps (pose priors do not need more), test at 30 fps (the
motion-denoising experiments cut test clips into 60/120/240-frame windows).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanlib import paths
from humanlib._validate import check_positive
from humanlib.data._checks import npz_problem
from humanlib.skeleton import NUM_JOINTS

SPLITS = ("train", "val", "test")
#: Frame rate of each split as stored.
SPLIT_FPS = {"train": 10.0, "val": 10.0, "test": 30.0}
#: Retargeted motions are first resampled to this rate.
BASE_FPS = 30.0
#: Joints stored in the files (0..21); the hands (22, 23) are always at rest.
STORED_JOINTS = 22
#: At most this many frames per shard (keeps each file well under 5 MB).
MAX_SHARD_FRAMES = 24_000
CORPUS_DIR = "corpus"
MANIFEST = "manifest.json"
REPORT = "retarget_report.json"
#: What a user runs to rebuild a missing or corrupt corpus (named in error messages).
REBUILD = "rebuild it with `humanlib build-corpus` (needs the raw archives: HUMANLIB_RAW_DATA or ../shared/data)"

CMU_LICENCE = "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu, NSF EIA-0196217): free to use and redistribute, not to resell"
BANDAI_LICENCE = "CC BY-NC 4.0, Bandai Namco Research Inc. (Bandai-Namco-Research-Motiondataset)"
#: CMU subject -> activity (the archive holds these two subjects).
CMU_ACTIVITY = {"01": "playground (climb, hang, swing)", "03": "walk on uneven terrain"}

#: The fixed split rules (documented in the corpus README).
SPLIT_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    "test": {"cmu_subjects": ("03",), "bandai_styles": ("masculine", "masculinity")},
    "val": {"cmu_clips": ("01_13", "01_14"), "bandai_styles": ("youthful", "childish")},
}


class CorpusError(ValueError):
    """The corpus cannot be built or read (names the file or folder and what to do)."""


@dataclass
class ClipInfo:
    """Metadata of one clip.

    Attributes:
        name: clip id (file stem, e.g. ``01_03`` or ``dataset-2_walk_normal_001``).
        source: ``cmu``, ``bandai-namco-1``, ``bandai-namco-2`` or ``amass/<sub-dataset>``.
        subject: performer id where published (CMU subject), else ``""``.
        style: style label (Bandai-Namco), else ``""``.
        activity: content/activity label.
        licence: licence and credit of the source.
        fps: frames per second as stored.
        num_frames: frames as stored.
        start: index of the clip's first frame in the split's arrays.
    """

    name: str
    source: str
    subject: str
    style: str
    activity: str
    licence: str
    fps: float
    num_frames: int
    start: int = 0


@dataclass
class MotionCorpus:
    """One split of a motion corpus: all clips' frames concatenated.

    Attributes:
        split: "train", "val" or "test".
        poses: ``(N, 24, 3)`` float32 torch tensor, SMPL axis-angle in SMPL's rest pose and frame
            (joint 0 is the global orientation; joints 22, 23 at rest). Priors use joints 1..21.
        transl: ``(N, 3)`` float32 torch tensor, root translation in metres.
        clip_index: ``(N,)`` int64 torch tensor, the clip of each frame (index into ``clips``).
        clips: per-clip :class:`ClipInfo`, in order.
        fps: the split's frame rate.
        origin: "open corpus (<folder>)" or "AMASS (<folder>)".
    """

    split: str
    poses: "torch.Tensor"  # noqa: F821
    transl: "torch.Tensor"  # noqa: F821
    clip_index: "torch.Tensor"  # noqa: F821
    clips: list[ClipInfo]
    fps: float
    origin: str

    def __len__(self) -> int:
        return int(self.poses.shape[0])

    def clip(self, i: int) -> tuple["torch.Tensor", "torch.Tensor"]:  # noqa: F821
        """``(poses (T, 24, 3), transl (T, 3))`` of clip ``i``.

        Raises:
            TypeError: ``i`` is not an integer.
            IndexError: no clip ``i`` (negative indices count from the end, as for lists).
        """
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"clip index must be an integer; got {type(i).__name__} (find a clip by name with "
                            "[c.name for c in corpus.clips].index(name))")
        if not -len(self.clips) <= i < len(self.clips):
            raise IndexError(f"clip index {i} out of range: the {self.split} split has {len(self.clips)} clips")
        c = self.clips[i]
        return self.poses[c.start : c.start + c.num_frames], self.transl[c.start : c.start + c.num_frames]

    def windows(self, length: int, stride: int | None = None) -> tuple["torch.Tensor", "torch.Tensor"]:  # noqa: F821
        """All windows of ``length`` frames inside single clips (no window crosses a clip).

        Args:
            length: frames per window.
            stride: step between window starts (default ``length``: no overlap).

        Returns:
            ``(poses (W, length, 24, 3), clip ids (W,))``; ``W`` is 0 when every clip is shorter
            than ``length``.

        Raises:
            TypeError: ``length`` or ``stride`` is not an integer.
            ValueError: ``length`` or ``stride`` is < 1.
        """
        import torch

        check_positive(length, "length", integer=True)
        stride = length if stride is None else stride
        check_positive(stride, "stride", integer=True)
        starts, ids = [], []
        for i, c in enumerate(self.clips):
            for s in range(0, c.num_frames - length + 1, stride):
                starts.append(c.start + s)
                ids.append(i)
        if not starts:
            return self.poses.new_zeros((0, length, NUM_JOINTS, 3)), torch.zeros(0, dtype=torch.int64)
        idx = torch.tensor(starts)[:, None] + torch.arange(length)[None, :]
        return self.poses[idx], torch.tensor(ids)

    def activities(self) -> dict[str, int]:
        """Frames per activity label."""
        out: dict[str, int] = {}
        for c in self.clips:
            out[c.activity] = out.get(c.activity, 0) + c.num_frames
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


# ----------------------------------------------------------------------------- split rules


def split_of(source: str, name: str, subject: str, style: str) -> str:
    """The split of a clip under :data:`SPLIT_RULES` (``"train"`` for any clip no rule names).

    Raises:
        TypeError: an argument is not a string.
    """
    for arg, value in (("source", source), ("name", name), ("subject", subject), ("style", style)):
        if not isinstance(value, str):
            raise TypeError(f"{arg} must be a string; got {type(value).__name__}")
    for split in ("test", "val"):
        rule = SPLIT_RULES[split]
        if source == "cmu" and (subject in rule.get("cmu_subjects", ()) or name in rule.get("cmu_clips", ())):
            return split
        if source.startswith("bandai") and style in rule.get("bandai_styles", ()):
            return split
    return "train"


# ----------------------------------------------------------------------------- npz I/O


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed ``.npz`` with fixed timestamps (byte-identical for identical arrays)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- loading


def default_corpus_dir() -> Path:
    """The committed corpus folder, ``humanlib/assets/corpus``."""
    return paths.ASSETS_DIR / CORPUS_DIR


def _check_split(split: object) -> None:
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def _corpus_folder(directory: object) -> Path:
    if directory is None:
        return default_corpus_dir()
    if not isinstance(directory, (str, Path)):
        raise TypeError(f"directory must be a str or pathlib.Path; got {type(directory).__name__}")
    folder = Path(directory).expanduser()
    if folder.exists() and not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} is a file, not a folder; give the folder holding {MANIFEST}")
    return folder


def _read_json(path: Path, what: str) -> dict:
    """A JSON object from ``path``; CorpusError (saying how to rebuild) when missing or corrupt."""
    if not path.is_file():
        raise CorpusError(f"no {what} at {path.parent} ({path.name} missing). Reinstall the course from a full "
                          f"checkout, or {REBUILD}.")
    try:
        value = json.loads(path.read_text())
    except (UnicodeDecodeError, ValueError) as err:
        raise CorpusError(f"{path} is corrupt (not valid JSON: {err}); {REBUILD}") from None
    if not isinstance(value, dict):
        raise CorpusError(f"{path} is corrupt (a JSON {type(value).__name__}, not an object); {REBUILD}")
    return value


def _load_manifest(folder: Path) -> dict:
    manifest = _read_json(folder / MANIFEST, "motion corpus")
    shards = manifest.get("shards")
    if not isinstance(shards, list) or not all(
        isinstance(s, dict) and isinstance(s.get("file"), str) and s.get("split") in SPLITS for s in shards
    ):
        raise CorpusError(f"{folder / MANIFEST} is corrupt (no list of shards with 'file' and 'split'); {REBUILD}")
    return manifest


def load_corpus(split: str, directory: str | Path | None = None, use_amass: bool | None = None) -> MotionCorpus:
    """Load one split of the motion corpus.

    Args:
        split: "train", "val" or "test".
        directory: the corpus folder (default: the committed ``humanlib/assets/corpus``).
        use_amass: read AMASS from ``HUMANLIB_AMASS_DIR`` instead (default: when that variable is
            set and no ``directory`` is given).

    Returns:
        :class:`MotionCorpus` with float32 torch tensors.

    Raises:
        ValueError: an unknown split.
        TypeError: ``directory`` is not a path, ``use_amass`` not a bool.
        CorpusError: missing or corrupt corpus files (manifest or shard; the message names the
            file and the command that rebuilds it), or ``use_amass=True`` without ``HUMANLIB_AMASS_DIR``.
    """
    _check_split(split)
    if use_amass is not None and not isinstance(use_amass, (bool, np.bool_)):
        raise TypeError(f"use_amass must be True, False or None; got {use_amass!r}")
    amass_dir = paths.user_amass_dir()
    if use_amass or (use_amass is None and amass_dir is not None and directory is None):
        if amass_dir is None:
            raise CorpusError("use_amass=True but HUMANLIB_AMASS_DIR is not set; point it at the unpacked AMASS folder")
        return load_amass_corpus(split, amass_dir)
    folder = _corpus_folder(directory)
    return _load_shards(split, folder, _load_manifest(folder))


def _load_shards(split: str, folder: Path, manifest: dict) -> MotionCorpus:
    import torch

    poses, transl, clips = [], [], []
    start = 0
    for shard in manifest["shards"]:
        if shard["split"] != split:
            continue
        path = folder / shard["file"]
        if not path.is_file():
            raise CorpusError(f"corpus shard {path} is missing (listed in {folder / MANIFEST}); {REBUILD}")
        problem = npz_problem(path)
        if problem is not None:
            raise CorpusError(f"corpus shard {path} cannot be read ({problem}); {REBUILD}")
        try:
            with np.load(path, allow_pickle=False) as data:
                p = data["poses"].astype(np.float32)
                t = data["transl"].astype(np.float32)
                meta = json.loads(str(np.asarray(data["clips"]).reshape(-1)[0]))
            infos = [ClipInfo(**{**m, "start": 0}) for m in meta]
        except Exception as err:  # noqa: BLE001 - a damaged .npz surfaces as many exception types (zipfile, zlib, tokenize...)
            raise CorpusError(f"corpus shard {path} cannot be read ({type(err).__name__}: {err}); {REBUILD}") from None
        if p.ndim != 3 or p.shape[1:] != (STORED_JOINTS, 3) or t.shape != (p.shape[0], 3):
            raise CorpusError(f"corpus shard {path}: poses {p.shape} / transl {t.shape}, expected (N, 22, 3) / (N, 3); "
                              f"{REBUILD}")
        if sum(c.num_frames for c in infos) != p.shape[0]:
            raise CorpusError(f"corpus shard {path}: clip lengths do not add up to {p.shape[0]} frames; {REBUILD}")
        if not (np.isfinite(p).all() and np.isfinite(t).all()):
            raise CorpusError(f"corpus shard {path} holds NaN or inf poses or translations; {REBUILD}")
        full = np.zeros((p.shape[0], NUM_JOINTS, 3), dtype=np.float32)
        full[:, :STORED_JOINTS] = p
        poses.append(full)
        transl.append(t)
        for c in infos:
            c.start = start
            clips.append(c)
            start += c.num_frames
    if not clips:
        raise CorpusError(f"corpus at {folder} has no clips for split {split!r}")
    lengths = torch.tensor([c.num_frames for c in clips])
    return MotionCorpus(
        split=split,
        poses=torch.from_numpy(np.concatenate(poses)),
        transl=torch.from_numpy(np.concatenate(transl)),
        clip_index=torch.repeat_interleave(torch.arange(len(clips)), lengths),
        clips=clips,
        fps=SPLIT_FPS[split],
        origin=f"open corpus ({folder})",
    )


def load_amass_corpus(split: str, amass_dir: str | Path, max_files: int | None = None, cache: bool = True) -> MotionCorpus:
    """A split of the user's AMASS, resampled to the corpus rate of that split.

    Splits follow VPoser's choice of AMASS sub-datasets (see
    ``humanlib.data.amass.AMASS_SPLITS``). The first call reads every file of the split (slow
    for the whole of AMASS) and stores the result in :func:`humanlib.paths.cache_dir`; later calls
    read the cache while the folder's file list, sizes and dates are unchanged.

    Args:
        split: "train", "val" or "test".
        amass_dir: the unpacked AMASS folder.
        max_files: read at most this many files (for quick looks).
        cache: use and write the cache.

    Raises:
        ValueError: an unknown split, ``max_files`` < 1.
        FileNotFoundError: ``amass_dir`` is not a folder.
        CorpusError: no motion file of that split under ``amass_dir``.
        AmassFormatError: an unreadable AMASS file (names it).
    """
    from humanlib.data.amass import amass_split_of, find_amass_files

    _check_split(split)
    if max_files is not None:
        check_positive(max_files, "max_files", integer=True)
    all_files = find_amass_files(amass_dir)
    amass_dir = Path(amass_dir).expanduser()
    files = [(d, p) for d, p in all_files if amass_split_of(d) == split]
    if max_files is not None:
        files = files[:max_files]
    if not files:
        raise CorpusError(f"no AMASS files of split {split!r} under {amass_dir} ({len(all_files)} .npz files in all; "
                          f"split {split!r} reads the sub-datasets {_amass_datasets(split)})")
    fps = SPLIT_FPS[split]
    key = hashlib.sha256(json.dumps(
        [str(amass_dir.resolve()), split, fps] + [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for _, p in files]
    ).encode()).hexdigest()[:16]
    cache_file = None
    if cache:
        from humanlib import paths as _paths

        cache_file = _paths.cache_dir() / f"amass-{split}-{key}.npz"
        if cache_file.exists():
            cached = _read_amass_cache(cache_file)
            if cached is not None:
                return _amass_motion_corpus(split, *cached, fps, amass_dir)
    all_poses, all_transl, clips = _read_amass_files(files, amass_dir, split, fps)
    if cache_file is not None:
        tmp = cache_file.with_suffix(".tmp.npz")
        np.savez(tmp, poses=all_poses, transl=all_transl,
                 clips=np.array([json.dumps([{k: v for k, v in c.__dict__.items()} for c in clips])]))
        tmp.replace(cache_file)
    return _amass_motion_corpus(split, all_poses, all_transl, clips, fps, amass_dir)


def _read_amass_cache(cache_file: Path) -> tuple[np.ndarray, np.ndarray, list[ClipInfo]] | None:
    """``(poses, transl, clips)`` of a cache file, or None (and the file removed) when it is damaged."""
    try:
        with np.load(cache_file, allow_pickle=False) as data:
            clips = [ClipInfo(**m) for m in json.loads(str(data["clips"].reshape(-1)[0]))]
            cached_poses, cached_transl = data["poses"], data["transl"]
        total = sum(c.num_frames for c in clips)
        if cached_poses.shape != (int(total), NUM_JOINTS, 3) or cached_transl.shape != (len(cached_poses), 3):
            raise ValueError("array shapes do not match the clip list")
    except Exception:  # noqa: BLE001 - any damage: rebuild
        cache_file.unlink(missing_ok=True)  # a corrupt cache is rebuilt from the AMASS files
        return None
    return cached_poses, cached_transl, clips


def _read_amass_files(files: list, amass_dir: Path, split: str, fps: float) -> tuple[np.ndarray, np.ndarray, list[ClipInfo]]:
    """Every file of the split resampled to ``fps``: ``(poses, transl, clips)`` (files shorter than a frame left out)."""
    from humanlib.data.amass import load_amass_npz
    from humanlib.data.retarget import axis_angle_to_rotmat_np, resample_motion, rotmat_to_axis_angle_np

    poses, transl, clips = [], [], []
    start = 0
    for dataset, path in files:
        m = load_amass_npz(path)
        R, t = resample_motion(axis_angle_to_rotmat_np(m.poses.astype(np.float64)), m.transl.astype(np.float64), m.fps, fps)
        if len(R) == 0:
            continue
        poses.append(rotmat_to_axis_angle_np(R).astype(np.float32))
        transl.append(t.astype(np.float32))
        clips.append(ClipInfo(
            name=str(path.relative_to(amass_dir).with_suffix("")), source=f"amass/{dataset}", subject="",
            style="", activity=dataset, licence="AMASS (registration required, not redistributable)",
            fps=fps, num_frames=len(R), start=start,
        ))
        start += len(R)
    if not clips:
        raise CorpusError(f"every AMASS file of split {split!r} under {amass_dir} is shorter than one frame at {fps:g} fps")
    return np.concatenate(poses), np.concatenate(transl), clips


def _amass_motion_corpus(split: str, poses: np.ndarray, transl: np.ndarray, clips: list[ClipInfo], fps: float,
                         amass_dir: Path) -> MotionCorpus:
    import torch

    lengths = torch.tensor([c.num_frames for c in clips])
    return MotionCorpus(
        split=split, poses=torch.from_numpy(poses), transl=torch.from_numpy(transl),
        clip_index=torch.repeat_interleave(torch.arange(len(clips)), lengths), clips=clips, fps=fps,
        origin=f"AMASS ({amass_dir})",
    )


def _amass_datasets(split: str) -> str:
    from humanlib.data.amass import AMASS_SPLITS

    return ", ".join(AMASS_SPLITS[split]) if split in AMASS_SPLITS else "all others than val and test"


def corpus_rest_joints(directory: str | Path | None = None) -> np.ndarray:
    """The target rest joints ``(24, 3)`` the corpus was calibrated against (from its manifest).

    Raises:
        TypeError: ``directory`` is not a path.
        CorpusError: the manifest is missing or corrupt (says how to rebuild it).
    """
    folder = _corpus_folder(directory)
    manifest = _read_json(folder / MANIFEST, "motion corpus")
    try:
        J = np.asarray(manifest["target_rest_joints"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        J = None
    if J is None or J.shape != (NUM_JOINTS, 3) or not np.isfinite(J).all():
        raise CorpusError(f"{folder / MANIFEST} is corrupt (no finite (24, 3) 'target_rest_joints'); {REBUILD}")
    return J


def load_report(directory: str | Path | None = None) -> dict:
    """The retargeting validation report written next to the corpus (a dict from JSON).

    Raises:
        TypeError: ``directory`` is not a path.
        CorpusError: the report is missing or corrupt (says how to rebuild it).
    """
    return _read_json(_corpus_folder(directory) / REPORT, "retargeting report")
