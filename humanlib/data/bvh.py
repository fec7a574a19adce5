"""Reading BVH motion files (Biovision hierarchy) and their forward kinematics.

A BVH file has two parts. ``HIERARCHY`` lists joints with an ``OFFSET`` (the joint's
position in its parent's frame at rest) and ``CHANNELS`` (which numbers each frame
carries for the joint, in order). ``MOTION`` gives ``Frames``, ``Frame Time`` and one
line of numbers per frame.

Rotation channels are Euler angles in degrees, applied as *intrinsic* rotations in the
order the channels are listed: ``Zrotation Xrotation Yrotation`` means
``R = Rz @ Rx @ Ry`` (column vectors). Position channels, when present, replace the
joint's ``OFFSET`` for that frame. Lengths keep the file's unit (the Bandai-Namco
files use centimetres); :func:`bvh_forward_kinematics` takes a ``scale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanlib._validate import check_positive
from humanlib.data._checks import as_array, check_input_file, check_instance

_ROTATION_CHANNELS = {"Xrotation": 0, "Yrotation": 1, "Zrotation": 2}
_POSITION_CHANNELS = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


class BvhFormatError(ValueError):
    """A BVH file that cannot be read; the message names the file and line."""


@dataclass
class BvhMotion:
    """A parsed BVH file.

    Attributes:
        names: joint names, parents before children (file order), ``J`` of them.
        parents: index of each joint's parent, -1 for the root, ``(J,)``.
        offsets: rest offset of each joint in its parent's frame, ``(J, 3)``, file units.
        channels: channel names of each joint, in file order.
        end_sites: offset of each joint's ``End Site`` (zeros where it has none), ``(J, 3)``.
        frames: the motion numbers, ``(T, C)`` with ``C`` the total channel count.
        frame_time: seconds per frame.
        path: the file it came from (for error messages).
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[list[str]]
    end_sites: np.ndarray
    frames: np.ndarray
    frame_time: float
    path: str = ""

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"{self.path}: no joint {name!r}; joints: {', '.join(self.names)}") from None


def _euler_to_rotmat(angles_deg: np.ndarray, axes: list[int]) -> np.ndarray:
    """Intrinsic Euler rotations in the listed axis order: ``R = R_a0 @ R_a1 @ R_a2``.

    Args:
        angles_deg: ``(T, K)`` angles in degrees, column k about axis ``axes[k]``.
        axes: ``K`` axis indices (0=x, 1=y, 2=z).

    Returns:
        ``(T, 3, 3)`` rotation matrices.
    """
    T = angles_deg.shape[0]
    R = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
    rad = np.deg2rad(angles_deg)
    for k, axis in enumerate(axes):
        c, s = np.cos(rad[:, k]), np.sin(rad[:, k])
        M = np.zeros((T, 3, 3))
        i, j = [(1, 2), (2, 0), (0, 1)][axis]
        M[:, axis, axis] = 1.0
        M[:, i, i] = c
        M[:, j, j] = c
        M[:, i, j] = -s
        M[:, j, i] = s
        R = R @ M
    return R


def read_bvh(path: str | Path) -> BvhMotion:
    """Parse a BVH file: its ``HIERARCHY`` (``_Hierarchy``, line by line), then its ``MOTION``
    header and frames (``_read_motion``).

    Args:
        path: the ``.bvh`` file.

    Returns:
        A :class:`BvhMotion`.

    Raises:
        FileNotFoundError: ``path`` does not exist or is a directory.
        BvhFormatError: when the file is malformed, truncated, holds no frames, or is of
            another format (the message names the file and the line).
    """
    path = check_input_file(path, "BVH file")
    lines = path.read_text(errors="replace").splitlines()

    def fail(msg: str, line_no: int) -> BvhFormatError:
        return BvhFormatError(f"{path}, line {line_no}: {msg}")

    if not lines or lines[0].strip() != "HIERARCHY":
        first = lines[0].strip()[:40] if lines else ""
        other = " (this looks like an ASF/AMC file: use read_asf / read_amc)" if first.startswith((":", "#")) else ""
        raise fail(f"expected 'HIERARCHY' on the first line, got {first!r}{other}", 1)
    h = _Hierarchy(fail)
    n = h.read(lines)
    frames, frame_time = _read_motion(lines, n, sum(len(c) for c in h.channels), fail)
    return BvhMotion(
        names=h.names,
        parents=np.asarray(h.parents, dtype=np.int64),
        offsets=np.asarray(h.offsets, dtype=np.float64),
        channels=h.channels,
        end_sites=np.asarray(h.end_sites, dtype=np.float64),
        frames=frames,
        frame_time=frame_time,
        path=str(path),
    )


class _Hierarchy:
    """The joints of a BVH ``HIERARCHY`` section, read one line at a time (:meth:`read`)."""

    def __init__(self, fail) -> None:
        self.fail = fail
        self.names: list[str] = []
        self.parents: list[int] = []
        self.offsets: list[list[float]] = []
        self.channels: list[list[str]] = []
        self.end_sites: list[list[float]] = []
        self.stack: list[int] = []  # joint index per open brace; -2 marks an End Site block
        self.pending: int | None = None  # joint declared, brace not yet opened

    def read(self, lines: list[str]) -> int:
        """Read from line 2 up to ``MOTION``; the index of the line after it."""
        n = 1
        while n < len(lines):
            tokens = lines[n].split()
            n += 1
            if not tokens:
                continue
            if self.line(tokens, n):
                break
        else:
            raise self.fail("no MOTION section (file truncated?)", n)
        if self.stack:
            raise self.fail("HIERARCHY ends with unclosed '{' blocks", n)
        if not self.names:
            raise self.fail("no joints in HIERARCHY", n)
        return n

    def line(self, tokens: list[str], n: int) -> bool:
        """One line of the hierarchy (``n``: its 1-based number); True at ``MOTION``, its end."""
        key, fail = tokens[0], self.fail
        if self.pending is not None and key != "{":
            what = "End Site" if self.pending == -2 else f"joint {self.names[self.pending]!r}"
            raise fail(f"expected '{{' to open {what} declared on the line before, got {key!r}", n)
        if key in ("ROOT", "JOINT"):
            self.joint(key, tokens, n)
        elif key == "End":
            if not self.stack or self.stack[-1] < 0:
                raise fail("End Site outside a joint block", n)
            self.pending = -2
        elif key == "{":
            if self.pending is None:
                raise fail("'{' without a ROOT/JOINT/End Site before it", n)
            self.stack.append(self.pending)
            self.pending = None
        elif key == "}":
            if not self.stack:
                raise fail("unbalanced '}'", n)
            self.stack.pop()
        elif key == "OFFSET":
            self.offset(tokens, n)
        elif key == "CHANNELS":
            self.channel_list(tokens, n)
        elif key == "MOTION":
            return True
        else:
            raise fail(f"unexpected token {key!r} in HIERARCHY", n)
        return False

    def joint(self, key: str, tokens: list[str], n: int) -> None:
        """A ``ROOT name`` or ``JOINT name`` line."""
        fail = self.fail
        if len(tokens) < 2:
            raise fail(f"{key} without a name", n)
        parent = self.stack[-1] if self.stack else -1
        if key == "JOINT" and parent < 0:
            raise fail("JOINT outside a joint block", n)
        if key == "ROOT" and parent != -1:
            raise fail("ROOT inside another joint block", n)
        if tokens[1] in self.names:
            raise fail(f"joint name {tokens[1]!r} appears twice", n)
        self.names.append(tokens[1])
        self.parents.append(parent)
        self.offsets.append([0.0, 0.0, 0.0])
        self.channels.append([])
        self.end_sites.append([0.0, 0.0, 0.0])
        self.pending = len(self.names) - 1

    def offset(self, tokens: list[str], n: int) -> None:
        """An ``OFFSET x y z`` line (of a joint or of its End Site)."""
        fail = self.fail
        try:
            values = [float(v) for v in tokens[1:4]]
        except ValueError:
            raise fail(f"OFFSET needs 3 numbers, got {tokens[1:]}", n) from None
        if len(tokens) != 4 or not self.stack:
            raise fail(f"OFFSET needs 3 numbers inside a block, got {tokens[1:]}", n)
        if not np.isfinite(values).all():
            raise fail(f"OFFSET holds NaN or inf: {tokens[1:]}", n)
        if self.stack[-1] == -2:  # an End Site block sits right inside its joint's block
            self.end_sites[self.stack[-2]] = values
        else:
            self.offsets[self.stack[-1]] = values

    def channel_list(self, tokens: list[str], n: int) -> None:
        """A ``CHANNELS count name...`` line."""
        fail = self.fail
        try:
            count = int(tokens[1])
        except (IndexError, ValueError):
            raise fail("CHANNELS needs a count", n) from None
        listed = tokens[2:]
        if not self.stack or self.stack[-1] < 0:
            raise fail("CHANNELS outside a ROOT/JOINT block", n)
        if len(listed) != count:
            raise fail(f"CHANNELS says {count} but lists {len(listed)}", n)
        for c in listed:
            if c not in _ROTATION_CHANNELS and c not in _POSITION_CHANNELS:
                raise fail(f"unknown channel {c!r}", n)
        self.channels[self.stack[-1]] = listed


def _read_motion(lines: list[str], n: int, num_channels: int, fail) -> tuple[np.ndarray, float]:
    """The ``MOTION`` section from line index ``n``: ``(frames (F, num_channels), frame_time)``."""

    def header(prefix: str) -> str:
        nonlocal n
        while n < len(lines) and not lines[n].strip():
            n += 1
        if n >= len(lines) or not lines[n].strip().startswith(prefix):
            raise fail(f"expected '{prefix}' (file truncated?)", n + 1)
        n += 1
        return lines[n - 1].split(":", 1)[1].strip()

    try:
        num_frames = int(header("Frames:"))
        frame_time = float(header("Frame Time:"))
    except BvhFormatError:
        raise
    except ValueError as err:
        raise fail(f"bad MOTION header ({err})", n) from None
    if num_frames < 1 or not 0 < frame_time < float("inf"):
        raise fail(f"Frames must be >= 1 (a file without frames holds no motion) and Frame Time a finite "
                   f"number > 0, got {num_frames}, {frame_time}", n)
    body = [ln for ln in lines[n:]]
    rows = []
    for k, ln in enumerate(body):
        if not ln.strip():
            continue
        if len(rows) == num_frames:
            raise fail(f"more frame lines than Frames: {num_frames}", n + k + 1)
        parts = ln.split()
        if len(parts) != num_channels:
            raise fail(f"frame {len(rows)} has {len(parts)} numbers, expected {num_channels}", n + k + 1)
        try:
            rows.append([float(v) for v in parts])
        except ValueError:
            raise fail(f"frame {len(rows)} holds a value that is not a number", n + k + 1) from None
    if len(rows) != num_frames:
        raise fail(f"file has {len(rows)} frames but its header says {num_frames} (truncated?)", len(lines))
    frames = np.asarray(rows, dtype=np.float64).reshape(num_frames, num_channels)
    if not np.isfinite(frames).all():
        bad = int(np.flatnonzero(~np.isfinite(frames).all(axis=1))[0])
        line = [k for k, ln in enumerate(body) if ln.strip()][bad] + n + 1
        raise fail(f"frame {bad} holds NaN or inf", line)
    return frames, frame_time


@dataclass
class SkeletonPose:
    """Forward kinematics of a source skeleton over time.

    Attributes:
        rotations: global rotation of each joint's frame, ``(T, J, 3, 3)``.
        positions: global position of each joint, ``(T, J, 3)``.
    """

    rotations: np.ndarray
    positions: np.ndarray


def _check_motion(motion: object) -> None:
    check_instance(motion, BvhMotion, "motion", "read_bvh")
    widths = [len(c) for c in motion.channels]
    if motion.frames.ndim != 2 or motion.frames.shape[1] != sum(widths):
        raise ValueError(f"motion.frames has shape {motion.frames.shape} but the joints' CHANNELS add up to "
                         f"{sum(widths)} columns; read the file again with read_bvh")


def bvh_local_rotations(motion: BvhMotion) -> np.ndarray:
    """Each joint's rotation relative to its parent, ``(T, J, 3, 3)``.

    Raises:
        TypeError: ``motion`` is not a :class:`BvhMotion`.
        ValueError: its frames do not match its channels.
    """
    _check_motion(motion)
    T, J = motion.num_frames, len(motion.names)
    local = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
    start = 0
    for j, chans in enumerate(motion.channels):
        rot = [(start + k, _ROTATION_CHANNELS[c]) for k, c in enumerate(chans) if c in _ROTATION_CHANNELS]
        if rot:
            cols = [k for k, _ in rot]
            local[:, j] = _euler_to_rotmat(motion.frames[:, cols], [a for _, a in rot])
        start += len(chans)
    return local


def bvh_local_translations(motion: BvhMotion) -> np.ndarray:
    """Each joint's offset from its parent per frame (position channels, else OFFSET), ``(T, J, 3)``.

    Raises:
        TypeError: ``motion`` is not a :class:`BvhMotion`.
        ValueError: its frames do not match its channels.
    """
    _check_motion(motion)
    T, J = motion.num_frames, len(motion.names)
    trans = np.broadcast_to(motion.offsets, (T, J, 3)).copy()
    start = 0
    for j, chans in enumerate(motion.channels):
        for k, c in enumerate(chans):
            if c in _POSITION_CHANNELS:
                trans[:, j, _POSITION_CHANNELS[c]] = motion.frames[:, start + k]
        start += len(chans)
    return trans


def bvh_forward_kinematics(motion: BvhMotion, scale: float = 1.0, local_rotations: np.ndarray | None = None) -> SkeletonPose:
    """Global joint frames and positions of every frame of a BVH motion.

    Args:
        motion: a parsed file.
        scale: multiplies every length (0.01 turns centimetres into metres).
        local_rotations: optional ``(T, J, 3, 3)`` replacing the file's rotations.

    Returns:
        :class:`SkeletonPose` with ``(T, J, 3, 3)`` rotations and ``(T, J, 3)`` positions.

    Raises:
        TypeError: ``motion`` is not a :class:`BvhMotion`, or ``scale`` is not a number.
        ValueError: ``scale`` is not a finite number > 0, or ``local_rotations`` is not
            ``(T, J, 3, 3)`` with the motion's ``T`` and ``J``, or holds NaN / inf.
    """
    _check_motion(motion)
    check_positive(scale, "scale")
    if local_rotations is not None:
        T, J = motion.num_frames, len(motion.names)
        local_rotations = as_array(local_rotations, "local_rotations", (None, None, 3, 3))
        if local_rotations.shape[:2] != (T, J):
            raise ValueError(f"local_rotations must have shape ({T}, {J}, 3, 3) (the motion's frames and joints); "
                             f"got {local_rotations.shape}")
    local = bvh_local_rotations(motion) if local_rotations is None else local_rotations
    trans = bvh_local_translations(motion) * scale
    T, J = local.shape[:2]
    rot = np.empty_like(local)
    pos = np.empty((T, J, 3))
    for j in range(J):
        p = motion.parents[j]
        if p < 0:
            rot[:, j] = local[:, j]
            pos[:, j] = trans[:, j]
        else:
            rot[:, j] = rot[:, p] @ local[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", rot[:, p], trans[:, j])
    return SkeletonPose(rotations=rot, positions=pos)
