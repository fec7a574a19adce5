"""Files in the real layouts of SMPL-H / SMPL-X models and AMASS motions, written by the tests.

The licensed files cannot be used here, so these are made from the course's open body model and
corpus: same keys, shapes, dtypes and kinematic trees as the real downloads, other numbers. A
55-joint SMPL-X-layout model is the open model with each hand joint split into 15 finger joints
(the hand's skinning weights shared among them, ``middle1`` at the hand joint) and a jaw and two
eyes under the head; reducing it back to 24 joints must give the open model again (up to the
hands' pose blend shapes, which the reduction zeroes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanlib import body
from humanlib.body_layouts import FINGER_JOINTS_PER_HAND, LAYOUTS, MIDDLE1_IN_HAND, SMPLX_SHAPE_COLUMNS
from humanlib.skeleton import PARENTS, joint


def layout_parents(num_joints: int) -> list[int]:
    """The kinematic tree of SMPL-H (52) or SMPL-X (55): SMPL's 22 joints, face, 5 x 3 fingers per hand."""
    facts = LAYOUTS[num_joints]
    parents = list(PARENTS[:22]) + [0] * (num_joints - 22)
    for face in facts["face"]:
        parents[face] = joint("head")
    for side in ("left", "right"):
        start = facts[f"{side}_hand"]
        for finger in range(5):
            base = start + 3 * finger
            parents[base], parents[base + 1], parents[base + 2] = joint(f"{side}_wrist"), base, base + 1
    return parents


def expanded_open_model(num_joints: int, seed: int = 0, smplx_columns: int = 400) -> dict[str, np.ndarray]:
    """The open model's arrays re-laid out as a 52-joint SMPL-H or 55-joint SMPL-X file.

    ``smplx_columns``: SMPL-X's shape + expression columns, 400 (v1.1: 300 + 100) or 20 (v1.0: 10 + 10).
    Blend-shape arrays are float32 to keep the files small (the released ones are float64).
    """
    rng = np.random.default_rng(seed)
    src = body.read_model_file(body.open_body_model_file())
    facts = LAYOUTS[num_joints]
    V = src["v_template"].shape[0]
    parents = layout_parents(num_joints)

    weights = np.zeros((V, num_joints), dtype=np.float64)
    weights[:, :22] = src["weights"][:, :22]
    regressor = np.zeros((num_joints, V), dtype=np.float64)
    regressor[:22] = src["J_regressor"][:22]
    for side in ("left", "right"):
        hand, start = joint(f"{side}_hand"), facts[f"{side}_hand"]
        share = rng.dirichlet(np.ones(FINGER_JOINTS_PER_HAND), size=V)
        weights[:, start:start + FINGER_JOINTS_PER_HAND] = src["weights"][:, [hand]] * share
        regressor[start:start + FINGER_JOINTS_PER_HAND] = src["J_regressor"][hand]
        regressor[start + MIDDLE1_IN_HAND] = src["J_regressor"][hand]
    head = joint("head")
    for face in facts["face"]:  # a third of the head's weight to each face joint, then back in the reduction
        weights[:, face] = src["weights"][:, head] * 0.25
        weights[:, head] -= src["weights"][:, head] * 0.25
        regressor[face] = src["J_regressor"][head]

    posedirs = np.zeros((V, 3, 9 * (num_joints - 1)), dtype=np.float32)
    posedirs[:, :, :189] = src["posedirs"][:, :, :189]
    posedirs[:, :, 189:] = 1e-3 * rng.standard_normal((V, 3, 9 * (num_joints - 1) - 189))
    num_shape = src["shapedirs"].shape[-1]
    if facts["name"] == "SMPL-X":  # shape directions, then expression directions
        shape_columns = SMPLX_SHAPE_COLUMNS[smplx_columns]
        shapedirs = np.zeros((V, 3, smplx_columns), dtype=np.float32)
        shapedirs[:, :, :min(num_shape, shape_columns)] = src["shapedirs"][:, :, :shape_columns]
        shapedirs[:, :, shape_columns:] = 1e-3 * rng.standard_normal((V, 3, smplx_columns - shape_columns))
    else:
        shapedirs = src["shapedirs"][:, :, :16].astype(np.float32)  # SMPL-H ships 16 shape components
    kintree = np.array([[max(p, 0) for p in parents], list(range(num_joints))], dtype=np.uint32)
    kintree[0, 0] = np.iinfo(np.uint32).max  # the released files store -1 as uint32
    return {
        "v_template": src["v_template"].astype(np.float64),
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": src["f"].astype(np.uint32),
    }


def write_model(path: Path, num_joints: int, smplx_columns: int = 400) -> Path:
    """Write an SMPL-H (52) or SMPL-X (55) layout model as ``.npz`` (with the extra keys the real files have)."""
    arrays = expanded_open_model(num_joints, smplx_columns=smplx_columns)
    extra = {"hands_meanl": np.zeros(45), "hands_meanr": np.zeros(45),
             "hands_componentsl": np.eye(45), "hands_componentsr": np.eye(45)}
    np.savez(path, **arrays, **extra)
    return path


#: One AMASS sub-dataset of each of VPoser's splits (train, val, test), then a second train one.
DATASETS = ("CMU", "HumanEva", "Transitions_mocap", "BMLrub")


def write_amass_folder(root: Path, num_clips: int = 4, frames: int = 40, width: int = 156) -> Path:
    """Write corpus motions as AMASS ``.npz`` files: ``DATASET/SUBJECT/clip_poses.npz``.

    Keys as AMASS ships them: ``poses (T, width)`` (SMPL-H 156 or SMPL-X 165, hands zero), ``trans``,
    ``betas``, ``gender``, and the frame rate (``mocap_framerate`` for SMPL-H, ``mocap_frame_rate``
    for SMPL-X).
    """
    from humanlib.data.corpus import load_corpus

    corpus = load_corpus("train")
    rng = np.random.default_rng(0)
    for k in range(num_clips):
        start = int(rng.integers(0, len(corpus.poses) - frames))
        pose = corpus.poses[start:start + frames].reshape(frames, -1).numpy()
        poses = np.zeros((frames, width), dtype=np.float64)
        poses[:, :66] = pose[:, :66]
        dataset = DATASETS[k % len(DATASETS)]
        folder = root / dataset / f"subject_{k:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        rate_key = "mocap_framerate" if width == 156 else "mocap_frame_rate"
        np.savez(folder / f"clip_{k:02d}_poses.npz", poses=poses, trans=np.zeros((frames, 3)),
                 betas=np.zeros(16), gender=np.array("neutral"), **{rate_key: np.array(30.0)})
    return root
