"""SMPL-H and SMPL-X files seen as SMPL's 24-joint body, so every chapter runs on them unchanged.

The course's chapters, priors and experiments speak SMPL's 24 joints: the root, 21 body joints
and two hand joints. SMPL-H (52 joints) and SMPL-X (55 joints) share SMPL's first 22 joints and
kinematic tree, then replace each of SMPL's single hand joints by 15 finger joints (SMPL-X also
adds a jaw and two eyes). :func:`to_smpl_layout` turns such a file into a 24-joint model in SMPL's
exact layout:

* joints 0..21: the file's own rows of ``J_regressor``, columns of ``weights`` and pose blend
  shapes, untouched, so for a flat hand and a neutral face the mesh is the file's own mesh;
* joint 22 / 23 (left / right hand): placed where the file puts the middle finger's base
  (``left_middle1`` / ``right_middle1``), skinned with the sum of that hand's finger weights: the
  fingers move as one rigid hand, as in SMPL; their pose blend shapes are zero;
* SMPL-X's jaw and eyes: their skinning weights join the head (joint 15), so the face follows the
  head and stays neutral;
* shape: SMPL-X stores expression directions after its shape directions (300 + 100 in v1.1,
  10 + 10 in v1.0); only the shape part is kept.

What is lost is what the 24-joint course never uses: finger articulation, the jaw, the eyes and
facial expression. Pass ``layout="native"`` to :func:`humanlib.body.load_body_model` to keep a
file's own joints.
"""

from __future__ import annotations

import numpy as np

from humanlib.skeleton import NUM_JOINTS, PARENTS, joint

#: SMPL's joints 0..21 are shared by SMPL-H and SMPL-X.
NUM_SHARED_JOINTS = 22
#: Finger joints per hand in SMPL-H / SMPL-X, in the order index1-3, middle1-3, pinky1-3, ring1-3, thumb1-3.
FINGER_JOINTS_PER_HAND = 15
#: Position of ``middle1`` (the middle finger's base) within a hand's 15 finger joints.
MIDDLE1_IN_HAND = 3


# The facts of each layout: where each hand's 15 finger joints start, and the face joints.
LAYOUTS: dict[int, dict] = {
    NUM_JOINTS: {"name": "SMPL"},
    52: {"name": "SMPL-H", "left_hand": 22, "right_hand": 37, "face": ()},
    55: {"name": "SMPL-X", "left_hand": 25, "right_hand": 40, "face": (22, 23, 24)},
}
#: SMPL-X's shapedirs hold shape then expression directions: total columns -> shape columns.
SMPLX_SHAPE_COLUMNS = {400: 300, 20: 10}


def layout_name(num_joints: int) -> str:
    """``"SMPL"``, ``"SMPL-H"`` or ``"SMPL-X"`` for 24, 52 or 55 joints; ValueError otherwise."""
    try:
        return LAYOUTS[num_joints]["name"]
    except KeyError:
        raise ValueError(
            f"a model file with {num_joints} joints is neither SMPL (24), SMPL-H (52) nor SMPL-X (55); "
            "humanlib can load it only with layout='native'"
        ) from None


def _check_tree(parents: np.ndarray, facts: dict, source: str) -> None:
    """The file's tree must be SMPL's for joints 1..21, with each hand's fingers under its wrist."""
    shared = [int(p) for p in parents[1:NUM_SHARED_JOINTS]]
    if shared != list(PARENTS[1:NUM_SHARED_JOINTS]):
        raise ValueError(
            f"{source}: the parents of joints 1..21 are {shared}, not SMPL's {list(PARENTS[1:NUM_SHARED_JOINTS])}; "
            f"this is not a {facts['name']} file"
        )
    for side in ("left", "right"):
        start, wrist = facts[f"{side}_hand"], joint(f"{side}_wrist")
        roots = [start + 3 * finger for finger in range(5)]
        if any(int(parents[r]) != wrist for r in roots):
            raise ValueError(
                f"{source}: joints {roots} should be the {side} fingers' bases, children of the {side} "
                f"wrist (joint {wrist}); their parents are {[int(parents[r]) for r in roots]}"
            )


def to_smpl_layout(arrays: dict[str, np.ndarray], source: str = "model") -> dict[str, np.ndarray]:
    """A 24-joint SMPL-layout copy of an SMPL, SMPL-H or SMPL-X array dict (see the module docstring).

    Args:
        arrays: the file's arrays as :func:`humanlib.body.read_model_file` returns them (already
            shape-checked): ``v_template (V, 3)``, ``shapedirs (V, 3, K)``, ``posedirs (V, 3, 9(J-1))``,
            ``J_regressor (J, V)``, ``weights (V, J)``, ``kintree_table (2, J)``, ``f (F, 3)``.
        source: the file's name, for messages.

    Returns:
        The same keys in SMPL's layout (24 joints, 207 pose-blend columns); an SMPL file is
        returned unchanged.

    Raises:
        ValueError: the joint count is not 24, 52 or 55, or the kinematic tree is not SMPL-H's /
            SMPL-X's.
    """
    parents = np.asarray(arrays["kintree_table"])[0].astype(np.int64)
    num_joints = len(parents)
    layout_name(num_joints)
    if num_joints == NUM_JOINTS:
        return arrays
    facts = LAYOUTS[num_joints]
    _check_tree(parents, facts, source)

    hands = {side: np.arange(facts[f"{side}_hand"], facts[f"{side}_hand"] + FINGER_JOINTS_PER_HAND)
             for side in ("left", "right")}
    weights = np.asarray(arrays["weights"])
    new_weights = np.zeros((weights.shape[0], NUM_JOINTS), dtype=weights.dtype)
    new_weights[:, :NUM_SHARED_JOINTS] = weights[:, :NUM_SHARED_JOINTS]
    new_weights[:, joint("left_hand")] = weights[:, hands["left"]].sum(axis=1)
    new_weights[:, joint("right_hand")] = weights[:, hands["right"]].sum(axis=1)
    for face_joint in facts["face"]:
        new_weights[:, joint("head")] += weights[:, face_joint]

    regressor = np.asarray(arrays["J_regressor"])
    new_regressor = np.concatenate([
        regressor[:NUM_SHARED_JOINTS],
        regressor[hands["left"][MIDDLE1_IN_HAND]][None],
        regressor[hands["right"][MIDDLE1_IN_HAND]][None],
    ])

    posedirs = np.asarray(arrays["posedirs"])
    shared_features = 9 * (NUM_SHARED_JOINTS - 1)  # joints 1..21, nine entries of R - I each
    hand_features = np.zeros(posedirs.shape[:2] + (9 * 2,), dtype=posedirs.dtype)
    new_posedirs = np.concatenate([posedirs[:, :, :shared_features], hand_features], axis=2)

    shapedirs = np.asarray(arrays["shapedirs"])
    if facts["name"] == "SMPL-X":
        shapedirs = shapedirs[:, :, : SMPLX_SHAPE_COLUMNS.get(shapedirs.shape[-1], shapedirs.shape[-1])]

    kintree = np.stack([np.array(PARENTS, dtype=np.int64), np.arange(NUM_JOINTS, dtype=np.int64)])
    kintree[0, 0] = -1
    reduced = dict(arrays)
    reduced.pop("num_shape_components", None)
    reduced.update(
        shapedirs=np.ascontiguousarray(shapedirs),
        posedirs=new_posedirs,
        J_regressor=new_regressor,
        weights=new_weights,
        kintree_table=kintree,
    )
    return reduced


def smplx_to_smplh(arrays: dict[str, np.ndarray], source: str = "model") -> dict[str, np.ndarray]:
    """A 52-joint SMPL-H-layout copy of a 55-joint SMPL-X array dict.

    SMPL-H is SMPL-X without the jaw and the eyes: joints 0..21 and the 30 finger joints are kept
    in SMPL-H's order (left hand 22..36, right hand 37..51), the jaw's and eyes' skinning weights
    join the head (joint 15), their pose-corrective columns are dropped, and ``shapedirs`` keeps
    only the shape columns (SMPL-X stores expression directions after them). Other keys
    (``hands_componentsl/r``, ``hands_meanl/r``, ``f``, ...) are carried over; the landmark keys,
    which SMPL-H has not, are dropped.

    Args:
        arrays: an SMPL-X file's arrays (``kintree_table (2, 55)``, ``weights (V, 55)``,
            ``J_regressor (55, V)``, ``posedirs (V, 3, 486)``, ``shapedirs (V, 3, K)``, ...).
        source: the file's name, for messages.

    Raises:
        ValueError: the arrays do not have SMPL-X's 55 joints and tree.
    """
    parents = np.asarray(arrays["kintree_table"])[0].astype(np.int64)
    if len(parents) != 55:
        raise ValueError(f"{source}: smplx_to_smplh needs an SMPL-X file (55 joints); this one has {len(parents)}")
    facts = LAYOUTS[55]
    _check_tree(parents, facts, source)
    keep = list(range(NUM_SHARED_JOINTS)) + list(range(facts["left_hand"], facts["right_hand"] + FINGER_JOINTS_PER_HAND))
    weights = np.asarray(arrays["weights"])
    new_weights = weights[:, keep].copy()
    for face_joint in facts["face"]:
        new_weights[:, joint("head")] += weights[:, face_joint]
    posedirs = np.asarray(arrays["posedirs"])
    columns = np.concatenate([np.arange(9 * (k - 1), 9 * k) for k in keep[1:]])
    new_parents = [-1] + [keep.index(int(parents[k])) for k in keep[1:]]
    shapedirs = np.asarray(arrays["shapedirs"])
    shapedirs = shapedirs[:, :, : SMPLX_SHAPE_COLUMNS.get(shapedirs.shape[-1], shapedirs.shape[-1])]
    out = {k: v for k, v in arrays.items() if not k.startswith(("lmk_", "dynamic_lmk_"))}
    out.update(
        weights=new_weights,
        J_regressor=np.asarray(arrays["J_regressor"])[keep],
        posedirs=np.ascontiguousarray(posedirs[:, :, columns]),
        shapedirs=np.ascontiguousarray(shapedirs),
        kintree_table=np.stack([np.array(new_parents, dtype=np.int64), np.arange(len(keep), dtype=np.int64)]),
    )
    return out
