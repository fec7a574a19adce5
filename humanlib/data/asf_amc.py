"""Reading Acclaim ASF/AMC motion capture (the CMU Graphics Lab database) and its kinematics.

An ``.asf`` file describes the skeleton at its zero pose (a T-pose in the CMU files):
per bone a world ``direction`` and ``length`` (in ``:units length`` units), a local frame
``axis`` (three Euler angles in degrees with an order, e.g. ``XYZ``) and the ``dof``
channels the motion file carries. An ``.amc`` file then lists, frame by frame, each bone's
channel values in the order of its ``dof`` line (degrees; the root also has TX TY TZ).

Conventions (checked on the CMU files): Euler angles with order ``XYZ`` mean
``R = Rz @ Ry @ Rx`` (x applied first, fixed axes), both for ``axis`` and for the ``rx ry rz``
motion channels. A bone's world rotation is
``W_b = W_parent @ C_b @ M_b @ C_b^T`` with ``C_b`` its axis frame and ``M_b`` its motion
rotation; ``W_b`` maps a zero-pose world vector to the current pose. CMU's ``:units length
0.45`` means one ASF length unit is ``1/0.45`` inches (0.056444 m); the world frame is
Y up, +Z forward and +X the body's left, as in SMPL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humanlib._validate import check_positive
from humanlib.data._checks import check_input_file, check_instance

#: Metres per ASF length unit for ``:units length L`` (CMU: lengths are inches / L).
INCH = 0.0254


class AsfAmcFormatError(ValueError):
    """An ASF or AMC file that cannot be read; the message names the file and line."""


#: Channels an ASF ``dof`` line (and ``:root order``) may list.
DOF_CHANNELS = ("rx", "ry", "rz", "tx", "ty", "tz")


def _check_order(order: str) -> str:
    """An Euler order such as ``XYZ`` (each axis once); raises ValueError otherwise."""
    if sorted(order.upper()) != ["X", "Y", "Z"]:
        raise ValueError(f"Euler order {order!r} must name X, Y and Z once each")
    return order.upper()


@dataclass
class AsfBone:
    name: str
    direction: np.ndarray  # (3,) unit vector in world at the zero pose
    length: float  # ASF units
    axis: np.ndarray  # (3, 3) rotation of the bone's local frame
    dof: list[str] = field(default_factory=list)  # e.g. ["rx", "ry", "rz"]
    parent: int = -1  # index into AsfSkeleton.bones, -1 = root


@dataclass
class AsfSkeleton:
    """A parsed ``.asf`` file. Bone 0 is the ``root`` (zero length, dof from ``:root order``).

    Attributes:
        bones: bones in an order where parents come before children.
        length_unit_m: metres per ASF length unit.
        angle_in_degrees: whether AMC angles are in degrees (``:units angle deg``).
        path: the file it came from.
    """

    bones: list[AsfBone]
    length_unit_m: float
    angle_in_degrees: bool = True
    path: str = ""

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.bones]

    def index(self, name: str) -> int:
        for i, b in enumerate(self.bones):
            if b.name == name:
                return i
        raise KeyError(f"{self.path}: no bone {name!r}; bones: {', '.join(self.names)}")


def _euler(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Fixed-axis Euler rotation applying the axes in ``order`` first to last.

    Args:
        angles_deg: ``(..., 3)`` angles in degrees, column k about axis ``order[k]``.
        order: e.g. ``"XYZ"`` gives ``Rz @ Ry @ Rx``.

    Returns:
        ``(..., 3, 3)`` rotation matrices.
    """
    angles = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    R = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for k, ax in enumerate(order.upper()):
        a = "XYZ".index(ax)
        c, s = np.cos(angles[..., k]), np.sin(angles[..., k])
        M = np.zeros(angles.shape[:-1] + (3, 3))
        i, j = [(1, 2), (2, 0), (0, 1)][a]
        M[..., a, a] = 1.0
        M[..., i, i] = c
        M[..., j, j] = c
        M[..., i, j] = -s
        M[..., j, i] = s
        R = M @ R  # later axes act after earlier ones (fixed frame)
    return R


def read_asf(path: str | Path) -> AsfSkeleton:
    """Parse an Acclaim ``.asf`` skeleton file: its sections line by line (``_AsfReader``),
    then the bones ordered parents-first (``_parents_first``).

    Raises:
        FileNotFoundError: ``path`` does not exist or is a directory.
        AsfAmcFormatError: malformed or truncated file, a file of another format, a length unit
            or bone length that is not a positive number, an unknown ``dof`` channel or Euler
            order (names the file and line).
    """
    path = check_input_file(path, "ASF file")
    lines = path.read_text(errors="replace").splitlines()

    def fail(msg: str, line_no: int) -> AsfAmcFormatError:
        return AsfAmcFormatError(f"{path}, line {line_no}: {msg}")

    r = _AsfReader(fail)
    for n, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            r.line(line.split(), n)
    if r.current is not None:
        raise fail("file ends inside a bone block (truncated?)", len(lines))
    if not r.bones or not r.saw_hierarchy_end:
        raise fail("no :bonedata or no complete :hierarchy (truncated, or not an ASF file?)", max(len(lines), 1))
    root = AsfBone(
        name="root", direction=np.zeros(3), length=0.0, axis=_euler(np.zeros(3), r.root_axis),
        dof=[t.lower() for t in r.root_order],
    )
    result = _parents_first(root, r.bones, r.order, r.hierarchy, lambda msg: fail(msg, len(lines)))
    return AsfSkeleton(bones=result, length_unit_m=INCH / r.length_scale, angle_in_degrees=r.degrees, path=str(path))


class _AsfReader:
    """The sections of an ASF file, read one line at a time (:meth:`line`)."""

    def __init__(self, fail) -> None:
        self.fail = fail
        self.length_scale = 1.0
        self.degrees = True
        self.root_order = ["TX", "TY", "TZ", "RX", "RY", "RZ"]
        self.root_axis = "XYZ"
        self.bones: dict[str, AsfBone] = {}
        self.order: list[str] = []
        self.hierarchy: dict[str, str] = {}
        self.section: str | None = None
        self.current: dict | None = None  # the bone block being read
        self.saw_hierarchy_end = False

    def line(self, tokens: list[str], n: int) -> None:
        """One non-empty line (comments removed) of the file; ``n``: its 1-based number."""
        if self.section is None and tokens[0] == "HIERARCHY":
            raise self.fail("this is a BVH file (it starts with HIERARCHY): use read_bvh", n)
        if tokens[0].startswith(":"):
            self.section = tokens[0]
            return
        try:
            if self.section == ":units":
                self.units(tokens)
            elif self.section == ":root":
                self.root(tokens)
            elif self.section == ":bonedata":
                self.bone_line(tokens, n)
            elif self.section == ":hierarchy":
                self.hierarchy_line(tokens)
        except AsfAmcFormatError:
            raise
        except (IndexError, ValueError) as err:
            raise self.fail(f"cannot read {tokens[0]!r} ({err})", n) from None

    def units(self, tokens: list[str]) -> None:
        """A ``length`` or ``angle`` line of ``:units``."""
        if tokens[0] == "length":
            self.length_scale = float(tokens[1])
            if not 0 < self.length_scale < float("inf"):
                raise ValueError(f"length unit must be a finite number > 0, got {tokens[1]}")
        elif tokens[0] == "angle":
            self.degrees = tokens[1].lower().startswith("deg")

    def root(self, tokens: list[str]) -> None:
        """An ``order`` or ``axis`` line of ``:root``."""
        if tokens[0] == "order":
            self.root_order = [t.upper() for t in tokens[1:]]
            unknown = [t for t in self.root_order if t.lower() not in DOF_CHANNELS]
            if unknown:
                raise ValueError(f"unknown root channels {unknown}; known: {[c.upper() for c in DOF_CHANNELS]}")
        elif tokens[0] == "axis":
            self.root_axis = _check_order(tokens[1])

    def bone_line(self, tokens: list[str], n: int) -> None:
        """A line of ``:bonedata``: ``begin``, ``end`` or a field of the current bone."""
        fail, current = self.fail, self.current
        if tokens[0] == "begin":
            if current is not None:
                raise fail("'begin' inside a bone block (the previous bone has no 'end')", n)
            self.current = {"dof": []}
        elif tokens[0] == "end":
            self.end_bone(n)
        elif current is not None:
            if tokens[0] == "name":
                current["name"] = tokens[1]
            elif tokens[0] == "direction":
                current["direction"] = [float(v) for v in tokens[1:4]]
                if len(tokens) != 4 or not np.isfinite(current["direction"]).all():
                    raise ValueError("direction needs 3 finite numbers")
            elif tokens[0] == "length":
                current["length"] = float(tokens[1])
                if not 0 <= current["length"] < float("inf"):
                    raise ValueError(f"length must be a finite number >= 0, got {tokens[1]}")
            elif tokens[0] == "axis":
                angles = [float(v) for v in tokens[1:4]]
                if len(angles) != 3 or not np.isfinite(angles).all():
                    raise ValueError("axis needs 3 finite angles and an order")
                current["axis"] = (angles, _check_order(tokens[4]) if len(tokens) > 4 else "XYZ")
            elif tokens[0] == "dof":
                current["dof"] = [t.lower() for t in tokens[1:]]
                unknown = [t for t in current["dof"] if t not in DOF_CHANNELS]
                if unknown:
                    raise ValueError(f"unknown channels {unknown}; known: {list(DOF_CHANNELS)}")

    def end_bone(self, n: int) -> None:
        """The ``end`` of a bone block: check the bone and keep it."""
        fail, current = self.fail, self.current
        if current is None:
            raise fail("'end' without a 'begin'", n)
        if "name" not in current:
            raise fail("bone block without a name", n)
        if current["name"] in self.bones or current["name"] == "root":
            raise fail(f"bone name {current['name']!r} appears twice (or is the reserved 'root')", n)
        for key in ("direction", "length", "axis"):
            if key not in current:
                raise fail(f"bone {current['name']!r} has no {key!r}", n)
        d = np.asarray(current["direction"], dtype=np.float64)
        norm = np.linalg.norm(d)
        if norm == 0 and current["length"] > 0:
            raise fail(f"bone {current['name']!r} has length {current['length']} but direction 0 0 0", n)
        d = d / norm if norm > 0 else d
        self.bones[current["name"]] = AsfBone(
            name=current["name"], direction=d, length=current["length"],
            axis=_euler(current["axis"][0], current["axis"][1]), dof=current["dof"],
        )
        self.order.append(current["name"])
        self.current = None

    def hierarchy_line(self, tokens: list[str]) -> None:
        """A line of ``:hierarchy``: ``begin``, ``end`` or ``parent child...``."""
        if tokens[0] == "begin":
            return
        if tokens[0] == "end":
            self.saw_hierarchy_end = True
            return
        for child in tokens[1:]:
            self.hierarchy[child] = tokens[0]


def _parents_first(root: AsfBone, bones: dict[str, AsfBone], order: list[str], hierarchy: dict[str, str],
                   fail) -> list[AsfBone]:
    """The bones after ``root``, each after its parent (following ``hierarchy``), with their parent indices."""
    result = [root]
    index = {"root": 0}
    pending = [b for b in order]
    while pending:
        progressed = False
        for name in list(pending):
            parent = hierarchy.get(name)
            if parent is None:
                raise fail(f"bone {name!r} does not appear in :hierarchy")
            if parent in index:
                bone = bones[name]
                bone.parent = index[parent]
                index[name] = len(result)
                result.append(bone)
                pending.remove(name)
                progressed = True
        if not progressed:
            raise fail(f"bones {pending} have unknown parents in :hierarchy")
    return result


@dataclass
class AmcMotion:
    """A parsed ``.amc`` file: per bone, a ``(T, len(dof))`` array of channel values."""

    values: dict[str, np.ndarray]
    num_frames: int
    fps: float
    path: str = ""


def read_amc(path: str | Path, skeleton: AsfSkeleton, fps: float = 120.0) -> AmcMotion:
    """Parse an ``.amc`` motion for a skeleton.

    Args:
        path: the ``.amc`` file.
        skeleton: the matching :func:`read_asf` result.
        fps: frame rate (AMC files do not store it; CMU captured at 120 fps).

    Raises:
        FileNotFoundError: ``path`` does not exist or is a directory.
        TypeError: ``skeleton`` is not an :class:`AsfSkeleton`.
        ValueError: ``fps`` is not a finite number > 0.
        AsfAmcFormatError: malformed or truncated file, no frames, a bone not in the skeleton,
            a bone twice in one frame, or a wrong number of values (names the file and line).
    """
    path = check_input_file(path, "AMC file")
    check_instance(skeleton, AsfSkeleton, "skeleton", "read_asf")
    check_positive(fps, "fps")
    dof = {b.name: len(b.dof) for b in skeleton.bones}
    rows: dict[str, list[list[float]]] = {b.name: [] for b in skeleton.bones if b.dof}
    frame = 0
    seen: set[str] = set()
    last_line = 0

    def fail(msg: str, line_no: int) -> AsfAmcFormatError:
        return AsfAmcFormatError(f"{path}, line {line_no}: {msg}")

    def close_frame(line_no: int) -> None:
        missing = [name for name in rows if name not in seen]
        if missing:
            raise fail(f"frame {frame} lacks bones {missing} (truncated?)", line_no)

    with open(path, errors="replace") as fh:
        for n, raw in enumerate(fh, start=1):
            last_line = n
            line = raw.strip()
            if not line or line.startswith("#") or line.startswith(":"):
                continue
            tokens = line.split()
            if len(tokens) == 1:
                try:
                    number = int(tokens[0])
                except ValueError:
                    other = " (this is a BVH file: use read_bvh)" if tokens[0] == "HIERARCHY" else ""
                    raise fail(f"expected a frame number, got {tokens[0][:40]!r}{other}", n) from None
                if frame > 0:
                    close_frame(n)
                if number != frame + 1:
                    raise fail(f"frame number {number} follows frame {frame}", n)
                frame = number
                seen = set()
                continue
            name = tokens[0]
            if frame == 0:
                raise fail("bone values before the first frame number", n)
            if name not in dof:
                raise fail(f"bone {name[:40]!r} is not in the skeleton {skeleton.path}", n)
            if name in seen:
                raise fail(f"bone {name!r} appears twice in frame {frame}", n)
            if len(tokens) - 1 != dof[name]:
                raise fail(f"bone {name!r} has {len(tokens) - 1} values, its dof lists {dof[name]}", n)
            try:
                rows[name].append([float(v) for v in tokens[1:]])
            except ValueError:
                raise fail(f"bone {name!r} holds a value that is not a number", n) from None
            seen.add(name)
    if frame == 0:
        raise fail("no frames (an empty motion, or not an AMC file?)", max(last_line, 1))
    close_frame(last_line)
    values = _amc_arrays(rows, frame, lambda msg: fail(msg, last_line))
    return AmcMotion(values=values, num_frames=frame, fps=fps, path=str(path))


def _amc_arrays(rows: dict[str, list[list[float]]], frames: int, fail) -> dict[str, np.ndarray]:
    """Each bone's ``(frames, dof)`` values, checked: a row in every frame, no NaN or inf (``fail(msg)``: the error)."""
    values = {name: np.asarray(v, dtype=np.float64) for name, v in rows.items()}
    for name, v in values.items():
        if v.shape[0] != frames:
            raise fail(f"bone {name!r} has {v.shape[0]} frames, expected {frames}")
        if not np.isfinite(v).all():
            raise fail(f"bone {name!r} holds NaN or inf")
    return values


@dataclass
class AsfPose:
    """Forward kinematics of an ASF skeleton over time (metres, the file's world frame).

    Attributes:
        rotations: ``W_b``, ``(T, B, 3, 3)``: maps zero-pose world vectors to the current pose.
        starts: position where each bone starts (its parent's end), ``(T, B, 3)``.
        ends: position where each bone ends, ``(T, B, 3)``.
    """

    rotations: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def amc_forward_kinematics(skeleton: AsfSkeleton, motion: AmcMotion | None = None, num_frames: int = 1) -> AsfPose:
    """World bone rotations and positions of every frame (zero pose when ``motion`` is None).

    Args:
        skeleton: from :func:`read_asf`.
        motion: from :func:`read_amc`, or None for the zero pose.
        num_frames: frames of the zero pose when ``motion`` is None.

    Returns:
        :class:`AsfPose` in metres.

    Raises:
        TypeError: ``skeleton`` / ``motion`` of the wrong type, ``num_frames`` not an integer.
        ValueError: ``num_frames`` < 1, or a motion read for another skeleton (its bones or
            their channel counts differ).
    """
    check_instance(skeleton, AsfSkeleton, "skeleton", "read_asf")
    if motion is not None:
        check_instance(motion, AmcMotion, "motion", "read_amc")
        dof = {b.name: len(b.dof) for b in skeleton.bones}
        wrong = [name for name, v in motion.values.items()
                 if name not in dof or v.ndim != 2 or v.shape != (motion.num_frames, dof[name])]
        if wrong:
            raise ValueError(f"motion {motion.path} does not fit skeleton {skeleton.path}: bones {wrong[:5]} are "
                             "missing from it or carry another number of channels; read the AMC with this skeleton")
    else:
        check_positive(num_frames, "num_frames", integer=True)
    T = motion.num_frames if motion is not None else num_frames
    B = len(skeleton.bones)
    unit = skeleton.length_unit_m
    W = np.empty((T, B, 3, 3))
    starts = np.zeros((T, B, 3))
    ends = np.zeros((T, B, 3))
    for b, bone in enumerate(skeleton.bones):
        angles = np.zeros((T, 3))
        trans = np.zeros((T, 3))
        if motion is not None and bone.name in motion.values:
            v = motion.values[bone.name]
            for k, ch in enumerate(bone.dof):
                axis = "xyz".index(ch[1])
                if ch[0] == "r":
                    angles[:, axis] = v[:, k] if skeleton.angle_in_degrees else np.rad2deg(v[:, k])
                elif ch[0] == "t":
                    trans[:, axis] = v[:, k] * unit
        M = _euler(angles, "XYZ")
        local = bone.axis @ M @ bone.axis.T
        if bone.parent < 0:
            W[:, b] = local
            starts[:, b] = trans
            ends[:, b] = trans
        else:
            W[:, b] = W[:, bone.parent] @ local
            starts[:, b] = ends[:, bone.parent]
            ends[:, b] = starts[:, b] + bone.length * unit * np.einsum("tab,b->ta", W[:, b], bone.direction)
    return AsfPose(rotations=W, starts=starts, ends=ends)
