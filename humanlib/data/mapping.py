"""BVH joint-mapping files: retarget a BVH rig other than the course's two (``humanlib retarget --mapping``).

A mapping file is JSON (example: ``humanlib/assets/mappings/bandai_namco.json``, the course's own rig)::

    {
      "format": "humanlib bvh mapping v1",
      "scale": 0.01,              # metres per BVH offset unit (centimetres: 0.01)
      "reference_frame": 0,       # a frame of the reference file where the actor stands upright
      "reference_file": null,     # a BVH under SOURCE for the calibration (null: the first, sorted)
      "joints": {"pelvis": "Hips", "left_hip": "UpperLeg_L", ...}   # SMPL joint -> the BVH's joint
    }

``joints`` must name every joint of :data:`REQUIRED_JOINTS` (the 21 SMPL joints the Bandai-Namco
rig drives); ``spine2`` may be added when the rig has a middle spine joint (otherwise spine1's
segment runs to spine3, as for the Bandai-Namco rig). The calibration (source-consistent, as the
corpus's) is made once per run from the reference frame, with the corpus's calibration rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanlib._validate import check_positive
from humanlib.data import sources as S
from humanlib.data.bvh import BvhMotion
from humanlib.data.retarget import Calibration
from humanlib.data.sources import SourceMotion

MAPPING_FORMAT = "humanlib bvh mapping v1"
#: SMPL joints a mapping must drive (those the Bandai-Namco rig drives).
REQUIRED_JOINTS: tuple[str, ...] = tuple(S.BANDAI_JOINTS)
#: SMPL joints a mapping may add.
OPTIONAL_JOINTS: tuple[str, ...] = ("spine2",)


class MappingError(ValueError):
    """A mapping file that cannot be used (names the file, the key and what to do)."""


@dataclass(frozen=True)
class JointMapping:
    """A BVH rig's joints in SMPL's names (:func:`read_mapping`)."""

    joints: dict[str, str]
    scale: float
    reference_frame: int = 0
    reference_file: str | None = None

    @property
    def child_override(self) -> dict[str, str]:
        """Calibration segments that skip an absent joint (spine1 -> spine3 without spine2)."""
        return {} if "spine2" in self.joints else dict(S.BANDAI_CHILD_OVERRIDE)


def read_mapping(path: str | Path) -> JointMapping:
    """Read and check a mapping file.

    Raises:
        TypeError: ``path`` not a str or pathlib.Path.
        FileNotFoundError: no file at ``path``.
        MappingError: not JSON, another format, a missing or unknown SMPL joint, two SMPL joints on
            one BVH joint, ``scale`` not > 0 or ``reference_frame`` not an integer >= 0.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path; got {type(path).__name__}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"mapping file {p} does not exist; write one as humanlib/assets/mappings/"
                                "bandai_namco.json (see humanlib.data.mapping)")
    try:
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MappingError(f"mapping file {p} is not JSON ({e}); see humanlib.data.mapping for the format") from None
    if not isinstance(data, dict) or data.get("format") != MAPPING_FORMAT:
        raise MappingError(f"mapping file {p}: set \"format\": \"{MAPPING_FORMAT}\" (see humanlib.data.mapping)")
    joints = data.get("joints")
    if not isinstance(joints, dict) or not all(isinstance(v, str) for v in joints.values()):
        raise MappingError(f"mapping file {p}: \"joints\" must map SMPL joint names to BVH joint names")
    unknown = sorted(set(joints) - set(REQUIRED_JOINTS) - set(OPTIONAL_JOINTS))
    if unknown:
        raise MappingError(f"mapping file {p}: unknown SMPL joints {', '.join(unknown)}; use "
                           f"{', '.join(REQUIRED_JOINTS + OPTIONAL_JOINTS)}")
    missing = [j for j in REQUIRED_JOINTS if j not in joints]
    if missing:
        raise MappingError(f"mapping file {p}: map the SMPL joints {', '.join(missing)} to joints of your BVH")
    if len(set(joints.values())) != len(joints):
        raise MappingError(f"mapping file {p}: two SMPL joints map to one BVH joint; map each to its own")
    try:
        scale, frame = data.get("scale"), data.get("reference_frame", 0)
        check_positive(scale, "scale")
        check_positive(frame, "reference_frame", integer=True, allow_zero=True)
    except (TypeError, ValueError) as e:
        raise MappingError(f"mapping file {p}: {e}") from None
    ref = data.get("reference_file")
    if ref is not None and not isinstance(ref, str):
        raise MappingError(f"mapping file {p}: \"reference_file\" must be a BVH file name under SOURCE, or null")
    return JointMapping(dict(joints), float(scale), int(frame), ref)


def check_bvh(motion: BvhMotion, mapping: JointMapping) -> None:
    """Raise ``MappingError`` naming the mapped joints ``motion`` lacks.

    Raises:
        TypeError: ``motion`` not a BvhMotion or ``mapping`` not a JointMapping.
        MappingError: joints of the mapping absent from the BVH.
    """
    if not isinstance(motion, BvhMotion) or not isinstance(mapping, JointMapping):
        raise TypeError("check_bvh takes a BvhMotion (read_bvh) and a JointMapping (read_mapping)")
    missing = sorted(set(mapping.joints.values()) - set(motion.names))
    if missing:
        raise MappingError(f"{motion.path}: its joints cannot be mapped to SMPL: it lacks {', '.join(missing)}; "
                           "fix the names in the mapping file")


def mapped_source_motion(motion: BvhMotion, mapping: JointMapping) -> SourceMotion:
    """Per-SMPL-joint driver frames and points of a mapped BVH motion (metres).

    Raises:
        TypeError, MappingError: as :func:`check_bvh`.
    """
    check_bvh(motion, mapping)
    return S._bvh_source_motion(motion, mapping.joints, mapping.scale)


def mapped_calibration(reference: BvhMotion, mapping: JointMapping, rest_joints: np.ndarray) -> tuple[Calibration, float]:
    """Calibration and leg length (metres) of a mapped rig from ``mapping.reference_frame`` of ``reference``.

    Raises:
        TypeError, MappingError: as :func:`check_bvh`; MappingError: the reference frame is outside the file.
        ValueError: ``rest_joints`` not a finite ``(24, 3)`` array.
    """
    check_bvh(reference, mapping)
    rest_joints = S._check_rest_joints(rest_joints)
    f = mapping.reference_frame
    if f >= reference.num_frames:
        raise MappingError(f"reference_frame {f} is outside {reference.path} ({reference.num_frames} frames); "
                           "give a frame where the actor stands")
    cal = S._bvh_calibration(reference, rest_joints, f, mapping.joints, mapping.scale, mapping.child_override)
    return cal, S.leg_length(mapped_source_motion(reference, mapping).points[f])


__all__ = ["JointMapping", "MAPPING_FORMAT", "MappingError", "OPTIONAL_JOINTS", "REQUIRED_JOINTS", "check_bvh",
           "mapped_calibration", "mapped_source_motion", "read_mapping"]
