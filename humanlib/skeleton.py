"""SMPL's 24-joint skeleton: joint names, the kinematic tree and named joint groups.

Every index into a pose or joint array goes through the names defined here, never a
bare literal. The order and the tree are SMPL's own (they are facts of the model file
layout, ``kintree_table``); the open body model and the open corpus use them too.

Conventions used throughout ``humanlib``:

* A full SMPL pose ``theta`` is ``(..., 24, 3)`` axis-angle in radians (``(..., 72)``
  flattened); joint 0 (pelvis) carries the global orientation.
* The *body pose* used by the pose priors excludes the root: joints 1..21 (21 joints,
  63 numbers) as in SMPL-X / VPoser / Pose-NDF; ``BODY_JOINTS`` lists them.
  Joints 22 and 23 (the hands) have no data in the open corpus and stay at rest.
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)

NUM_JOINTS: int = len(JOINT_NAMES)

#: Parent of each joint (-1 for the root), SMPL's ``kintree_table[0]``.
PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)

JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

#: The 21 body joints of the pose priors (root and hands excluded).
BODY_JOINTS: tuple[int, ...] = tuple(range(1, 22))
NUM_BODY_JOINTS: int = len(BODY_JOINTS)


def joint(name: str) -> int:
    """Index of an SMPL joint by name, e.g. ``joint("left_elbow") == 18``.

    Raises:
        TypeError: ``name`` is not a string.
        KeyError: no SMPL joint has that name (the message lists the 24 names).
    """
    if not isinstance(name, str):
        raise TypeError(f"joint name must be a str such as 'left_elbow'; got {type(name).__name__} {name!r}")
    try:
        return JOINT_INDEX[name]
    except KeyError:
        raise KeyError(f"unknown SMPL joint {name!r}; known joints: {', '.join(JOINT_NAMES)}") from None


def mirror_joint(index: int) -> int:
    """The joint on the other side of the body (``left_*`` <-> ``right_*``); itself if central.

    Raises:
        TypeError: ``index`` is not an integer (a joint name goes through :func:`joint` first).
        IndexError: ``index`` is not in ``[0, 24)`` (negative indices are refused, not wrapped).
    """
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"mirror_joint takes a joint index (int); got {type(index).__name__} {index!r}"
                        + (" (use mirror_joint(joint(name)))" if isinstance(index, str) else ""))
    if not 0 <= index < NUM_JOINTS:
        raise IndexError(f"joint index must be in [0, {NUM_JOINTS}); got {index}")
    name = JOINT_NAMES[int(index)]
    if name.startswith("left_"):
        return JOINT_INDEX["right_" + name[5:]]
    if name.startswith("right_"):
        return JOINT_INDEX["left_" + name[6:]]
    return index


#: Permutation that swaps left and right joints (used by mirroring augmentation).
MIRROR_PERMUTATION: tuple[int, ...] = tuple(mirror_joint(i) for i in range(NUM_JOINTS))


def body_joint_parents() -> tuple[int, ...]:
    """Parent of each of the 21 body joints *within the body-joint list* (-1 where the parent is the root).

    Pose-NDF's hierarchical encoder walks this tree. (The released Pose-NDF code
    used a table shifted by one; this one is derived from ``PARENTS`` and tested.)
    """
    position = {j: k for k, j in enumerate(BODY_JOINTS)}
    return tuple(position.get(PARENTS[j], -1) for j in BODY_JOINTS)
