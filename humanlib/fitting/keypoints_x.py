"""OpenPose keypoints (body, hands, face) on an SMPL-X-layout mesh, chosen by geometric rules.

SMPLify-X fits OpenPose's detections: BODY_25 body keypoints, 21 per hand and 70 face
landmarks. Each detection is matched to a 3D point of the body model: a **joint** where OpenPose
marks a joint (shoulders, elbows, knuckles...), a **mesh vertex** where it marks a surface point
(nose, eyes, ears, toes, heels, fingertips, face landmarks). smplx ships vertex numbers for the
licensed SMPL-X mesh; they mean nothing on the open mesh (another topology), so the vertices here
are chosen on the model's own rest mesh by the rules below, from its template, its joint
regressor and its skinning weights (``dominant(j)``: the vertices whose largest skinning weight is
joint ``j``). The model's frame is SMPL's: +x the body's left, +y up, +z forward, metres.

* **Fingertip** of a finger: among ``dominant(<finger>3)``, the vertex farthest along the
  distal phalanx's direction (``<finger>2`` -> ``<finger>3`` joint).
* **Nose**: the frontmost (largest z) vertex of ``dominant(head)``.
* **Eyes**: the frontmost vertex of ``dominant(left_eye)`` / ``dominant(right_eye)`` (the pupil).
* **Ears**: among ``dominant(head)`` within 2 cm of the height 3 cm below the eyes, the vertex
  with the largest (left) / smallest (right) x.
* **Big toe**: among ``dominant(<side>_foot)``, the frontmost vertex medial of the foot joint.
  **Small toe**: among those within 4 cm of the frontmost, the most lateral. **Heel**: among ``dominant(<side>_ankle)`` within 3 cm of
  their lowest point, the rearmost vertex.
* **Face landmarks**: OpenPose's 51 inner face points (its face indices 17..67: brows, nose,
  eyes, lips; the 17 jaw-contour points and the 2 pupils are left out: a contour point is a
  silhouette, not a fixed vertex). Each is a point of a generic frontal template written here in
  units of the model's interpupillary distance ``d`` (eyes at ``(±d/2, 0)``, the nose tip from the
  mesh, the mouth ``d/2`` below the nose tip), snapped to the frontmost head vertex within
  ``0.06 d`` of it in the frontal (x, y) view. The template is proportions, not a learned
  landmark set: the open mesh has no expression space, so the landmarks mark where a neutral face's
  parts are.

Keypoint order is OpenPose's: ``body`` (25), ``hands`` (left hand 21 then right hand 21) and
``face`` (51, in OpenPose face order 17..67). :func:`select_keypoints` returns them stacked in the
order of the requested sets.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import torch

from humanlib._validate import check_tensor

#: OpenPose BODY_25 keypoint names, in OpenPose's order.
OPENPOSE_BODY25_NAMES: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
    "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe",
    "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)
#: OpenPose's finger order in a hand (thumb first) and SMPL-X's finger names.
OPENPOSE_FINGERS = ("thumb", "index", "middle", "ring", "pinky")
#: OpenPose's 21 hand keypoints: the wrist, then per finger (thumb first) three joints and the tip.
OPENPOSE_HAND_NAMES: tuple[str, ...] = ("wrist", *(f"{f}{k}" for f in OPENPOSE_FINGERS for k in (1, 2, 3, "_tip")))
#: Indices, in OpenPose's 70-point face, of the 51 inner landmarks selected here (brows, nose, eyes, lips).
OPENPOSE_FACE_INNER = tuple(range(17, 68))
#: The keypoint sets and their sizes.
KEYPOINT_SETS = {"body": len(OPENPOSE_BODY25_NAMES), "hands": 2 * len(OPENPOSE_HAND_NAMES), "face": len(OPENPOSE_FACE_INNER)}
SMPLX_NUM_JOINTS = 55

# Body keypoints that are SMPL-X joints (OpenPose's MidHip is the pelvis, its Neck SMPL's neck).
_BODY_JOINTS = {
    "neck": "neck", "right_shoulder": "right_shoulder", "right_elbow": "right_elbow", "right_wrist": "right_wrist",
    "left_shoulder": "left_shoulder", "left_elbow": "left_elbow", "left_wrist": "left_wrist", "mid_hip": "pelvis",
    "right_hip": "right_hip", "right_knee": "right_knee", "right_ankle": "right_ankle", "left_hip": "left_hip",
    "left_knee": "left_knee", "left_ankle": "left_ankle",
}

# The frontal face template (OpenPose face points 17..67), x towards the body's left, y up, in units of
# the interpupillary distance d. "eye": relative to the eyes' midpoint; "nose": to the nose tip; "mouth":
# to the mouth centre, d/2 below the nose tip. The subject's right (OpenPose's first brow and eye) is -x.
_BROW = ((0.85, 0.27), (0.68, 0.33), (0.50, 0.36), (0.32, 0.34), (0.14, 0.27))  # outer -> inner, left side
_EYE_LEFT = ((0.26, 0.0), (0.42, 0.07), (0.58, 0.07), (0.74, 0.0), (0.58, -0.06), (0.42, -0.06))  # inner corner first
_OUTER_LIP = ((-0.40, 0.0), (-0.27, 0.08), (-0.12, 0.12), (0.0, 0.10), (0.12, 0.12), (0.27, 0.08), (0.40, 0.0),
              (0.27, -0.10), (0.13, -0.14), (0.0, -0.15), (-0.13, -0.14), (-0.27, -0.10))
_INNER_LIP = ((-0.33, 0.0), (-0.12, 0.02), (0.0, 0.02), (0.12, 0.02), (0.33, 0.0), (0.12, -0.02), (0.0, -0.02),
              (-0.12, -0.02))


def _face_template() -> list[tuple[str, float, float]]:
    """(anchor, x, y) of OpenPose face points 17..67 in OpenPose's order."""
    pts: list[tuple[str, float, float]] = []
    pts += [("eye", -x, y) for x, y in _BROW]  # 17-21: right brow, outer -> inner
    pts += [("eye", x, y) for x, y in reversed(_BROW)]  # 22-26: left brow, inner -> outer
    pts += [("bridge", 0.0, t) for t in (0.0, 1 / 3, 2 / 3, 1.0)]  # 27-30: nose bridge, top -> tip
    pts += [("nose", x, -0.15 if x else -0.18) for x in (-0.30, -0.15, 0.0, 0.15, 0.30)]  # 31-35: nostrils
    right = [_EYE_LEFT[i] for i in (3, 2, 1, 0, 5, 4)]  # 36-41: outer corner, upper outer, upper inner, ...
    pts += [("eye", -x, y) for x, y in right]
    pts += [("eye", x, y) for x, y in _EYE_LEFT]  # 42-47: inner corner, upper inner, upper outer, outer, ...
    pts += [("mouth", x, y) for x, y in _OUTER_LIP + _INNER_LIP]  # 48-67
    return pts


@dataclass(frozen=True)
class KeypointSelection:
    """Where each keypoint of some sets sits on a model: a joint or a vertex.

    Attributes:
        names: the K keypoint names (``"left_hand.index_tip"``, ``"face.17"``...).
        is_vertex: (K,) bool, True where the keypoint is a mesh vertex.
        index: (K,) int64, the joint index (``is_vertex`` False) or vertex index (True).
        sets: the sets, in order.
    """

    names: tuple[str, ...]
    is_vertex: torch.Tensor
    index: torch.Tensor
    sets: tuple[str, ...]

    @property
    def num_keypoints(self) -> int:
        return len(self.names)


def _check_model(model) -> None:
    from humanlib.body import BodyModel

    if not isinstance(model, BodyModel):
        raise TypeError(f"model must be a humanlib BodyModel (load_body_model(..., layout='native')); got {type(model).__name__}")
    if model.num_joints != SMPLX_NUM_JOINTS:
        raise ValueError(
            f"keypoints on hands and face need an SMPL-X-layout model (55 joints); {model.name} has {model.num_joints} "
            "(load it with load_body_model(open_smplx_model_file(), layout='native'))"
        )


def _check_sets(sets: object) -> tuple[str, ...]:
    if isinstance(sets, str) or not isinstance(sets, (tuple, list)) or not sets:
        raise TypeError(f"sets must be a non-empty tuple of names from {tuple(KEYPOINT_SETS)}; got {sets!r}")
    bad = [s for s in sets if s not in KEYPOINT_SETS]
    if bad or len(set(sets)) != len(sets):
        raise ValueError(f"sets must hold distinct names from {tuple(KEYPOINT_SETS)}; got {tuple(sets)}")
    return tuple(sets)


def keypoint_vertex_ids(model) -> dict[str, int]:
    """The mesh vertex of every surface keypoint, by the rules of the module docstring.

    Args:
        model: an SMPL-X-layout :class:`humanlib.body.BodyModel` (55 joints).

    Returns:
        name -> vertex index: ``nose``, ``left_eye``, ``right_eye``, ``left_ear``, ``right_ear``,
        ``{side}_big_toe``, ``{side}_small_toe``, ``{side}_heel``, ``{side}_{finger}_tip`` and
        ``face.17`` .. ``face.67``.

    Raises:
        TypeError, ValueError: not a BodyModel, or not 55 joints.
    """
    _check_model(model)
    v = model.v_template.detach().double().cpu()
    key = (id(model), v.shape[0], float(v.sum()), float(model.weights.detach().double().sum()))
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = _vertex_ids(v.numpy(), model.J_regressor.detach().double().cpu().numpy(),
                                  model.weights.detach().double().cpu().numpy())
    return dict(_CACHE[key])


_CACHE: dict[tuple, dict[str, int]] = {}  # (model id, vertex count, checksums) -> vertex ids


def _vertex_ids(v: np.ndarray, J_regressor: np.ndarray, weights: np.ndarray) -> dict[str, int]:
    from humanlib.bodybuild_smplx import SMPLX_JOINT_NAMES

    J = J_regressor @ v
    dominant = weights.argmax(1)

    def jid(name: str) -> int:
        return SMPLX_JOINT_NAMES.index(name)

    def pick(joint_names: tuple[str, ...], score: np.ndarray, extra: np.ndarray | bool = True) -> int:
        mask = np.isin(dominant, [jid(n) for n in joint_names]) & extra
        if not mask.any():
            raise ValueError(f"no vertex of the model is dominated by {joint_names}; is this an SMPL-X-layout mesh?")
        return int(np.flatnonzero(mask)[np.argmax(score[mask])])

    ids: dict[str, int] = {}
    ids["nose"] = pick(("head",), v[:, 2])
    for side in ("left", "right"):
        ids[f"{side}_eye"] = pick((f"{side}_eye",), v[:, 2])
    eye_y = 0.5 * (v[ids["left_eye"], 1] + v[ids["right_eye"], 1])
    near_ear_height = np.abs(v[:, 1] - (eye_y - 0.03)) < 0.02
    ids["left_ear"] = pick(("head",), v[:, 0], near_ear_height)
    ids["right_ear"] = pick(("head",), -v[:, 0], near_ear_height)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for finger in OPENPOSE_FINGERS:
            j2, j3 = J[jid(f"{side}_{finger}2")], J[jid(f"{side}_{finger}3")]
            u = (j3 - j2) / np.linalg.norm(j3 - j2)
            ids[f"{side}_{finger}_tip"] = pick((f"{side}_{finger}3",), v @ u)
        foot_x = J[jid(f"{side}_foot"), 0]
        medial = sign * (v[:, 0] - foot_x) < 0
        ids[f"{side}_big_toe"] = pick((f"{side}_foot",), v[:, 2], medial)
        foot = dominant == jid(f"{side}_foot")
        front = v[:, 2] > v[foot, 2].max() - 0.04
        ids[f"{side}_small_toe"] = pick((f"{side}_foot",), sign * v[:, 0], front)
        ankle = dominant == jid(f"{side}_ankle")
        low = v[:, 1] < v[ankle, 1].min() + 0.03
        ids[f"{side}_heel"] = pick((f"{side}_ankle",), -v[:, 2], low)
    ids.update(_face_ids(v, dominant, ids, jid))
    return ids


def _face_ids(v: np.ndarray, dominant: np.ndarray, ids: dict[str, int], jid) -> dict[str, int]:
    eye_l, eye_r, nose = v[ids["left_eye"]], v[ids["right_eye"]], v[ids["nose"]]
    d = float(eye_l[0] - eye_r[0])
    centre = 0.5 * (eye_l + eye_r)
    head = np.isin(dominant, [jid("head"), jid("left_eye"), jid("right_eye")]) & (v[:, 2] > centre[2] - 0.03)
    cand = np.flatnonzero(head)
    out: dict[str, int] = {}
    for k, (anchor, x, y) in enumerate(_face_template(), start=17):
        if anchor == "eye":
            target = centre[:2] + d * np.array([x, y])
        elif anchor == "bridge":
            target = centre[:2] + y * (nose[:2] - centre[:2])
        elif anchor == "nose":
            target = nose[:2] + d * np.array([x, y])
        else:
            target = nose[:2] + d * np.array([x, y - 0.5])
        dist = np.linalg.norm(v[cand, :2] - target, axis=1)
        near = dist < 0.06 * d
        out[f"face.{k}"] = int(cand[near][np.argmax(v[cand[near], 2])]) if near.any() else int(cand[np.argmin(dist)])
    return out


def keypoint_selection(model, sets: tuple[str, ...] = ("body", "hands", "face")) -> KeypointSelection:
    """The joints and vertices of the requested keypoint sets, in OpenPose's order.

    Args:
        model: an SMPL-X-layout :class:`humanlib.body.BodyModel` (55 joints).
        sets: some of ``"body"`` (BODY_25), ``"hands"`` (left 21, right 21), ``"face"`` (51 inner points).

    Returns:
        :class:`KeypointSelection`, on the model's device.

    Raises:
        TypeError: ``sets`` not a tuple / list, ``model`` not a BodyModel.
        ValueError: unknown or repeated set names, a model without 55 joints.
    """
    from humanlib.bodybuild_smplx import SMPLX_JOINT_NAMES

    sets = _check_sets(sets)
    ids = keypoint_vertex_ids(model)
    names, is_vertex, index = [], [], []

    def add(name: str, vertex: bool, i: int) -> None:
        names.append(name)
        is_vertex.append(vertex)
        index.append(i)

    for s in sets:
        if s == "body":
            for n in OPENPOSE_BODY25_NAMES:
                if n in _BODY_JOINTS:
                    add(f"body.{n}", False, SMPLX_JOINT_NAMES.index(_BODY_JOINTS[n]))
                else:
                    add(f"body.{n}", True, ids[n])
        elif s == "hands":
            for side in ("left", "right"):
                for n in OPENPOSE_HAND_NAMES:
                    name = f"{side}_hand.{n}"
                    if n == "wrist":
                        add(name, False, SMPLX_JOINT_NAMES.index(f"{side}_wrist"))
                    elif n.endswith("_tip"):
                        add(name, True, ids[f"{side}_{n}"])
                    else:
                        add(name, False, SMPLX_JOINT_NAMES.index(f"{side}_{n}"))
        else:
            for k in OPENPOSE_FACE_INNER:
                add(f"face.{k}", True, ids[f"face.{k}"])
    device = model.v_template.device
    return KeypointSelection(tuple(names), torch.tensor(is_vertex, device=device),
                             torch.tensor(index, dtype=torch.long, device=device), sets)


def select_keypoints(output, model, sets: tuple[str, ...] = ("body", "hands", "face")) -> torch.Tensor:
    """The 3D keypoints of a posed body, in OpenPose's order.

    Args:
        output: a :class:`humanlib.body.BodyOutput` of ``model`` (vertices (B, V, 3), joints (B, 55, 3)).
        model: the SMPL-X-layout :class:`humanlib.body.BodyModel` that produced it.
        sets: see :func:`keypoint_selection`; the result holds 25 / 42 / 51 keypoints per set, in this order.

    Returns:
        (B, K, 3) keypoints; differentiable in the vertices and joints.

    Raises:
        TypeError: ``output`` is not a BodyOutput, bad ``sets`` / ``model``.
        ValueError: an output of another model (vertex or joint count), unknown sets.
    """
    from humanlib.body import BodyOutput

    if not isinstance(output, BodyOutput):
        raise TypeError(f"output must be the BodyOutput of model(...); got {type(output).__name__}")
    sel = keypoint_selection(model, sets)
    check_tensor(output.vertices, "output.vertices", (None, model.num_vertices, 3), finite=False,
                 hint=f"(the model has {model.num_vertices} vertices: is output from this model?)")
    check_tensor(output.joints, "output.joints", (output.vertices.shape[0], model.num_joints, 3), finite=False)
    index = sel.index.to(output.vertices.device)
    is_vertex = sel.is_vertex.to(output.vertices.device)
    from_vertices = output.vertices[:, index.clamp(max=model.num_vertices - 1)]
    from_joints = output.joints[:, index.clamp(max=model.num_joints - 1)]
    return torch.where(is_vertex[None, :, None], from_vertices, from_joints)


# --------------------------------------------------------------------------- the keypoints of a posed body, cheaply


class KeypointBody:
    """The posed keypoints (and any chosen vertices) of an SMPL-X-layout model without skinning its whole mesh.

    A keypoint is a joint or a mesh vertex (:mod:`humanlib.fitting.keypoints_x`). The joints need
    only ``J(beta) = J_regressor (T + S beta)``, which is linear in ``beta``: it is precomputed as
    ``J_T + J_S beta``; the vertices need only their own rows of the template, the shape and pose
    blend shapes and the skinning weights. So a fit evaluates ~130 points instead of 13,718 and
    gets the same numbers as the full model (a test checks it).

    Args:
        model: an SMPL-X-layout :class:`humanlib.body.BodyModel`.
        sets: the keypoint sets (:func:`humanlib.fitting.keypoints_x.keypoint_selection`).

    Raises:
        TypeError, ValueError: not a 55-joint BodyModel, bad ``sets``.
    """

    def __init__(self, model, sets: tuple[str, ...] = ("body", "hands", "face")) -> None:
        _check_model(model)
        self.selection = keypoint_selection(model, sets)
        self.model = model
        self.parents = tuple(model.parents)
        d = torch.float64
        v, sd = model.v_template.detach().to(d), model.shapedirs.detach().to(d)
        jr = model.J_regressor.detach().to(d)
        self._joint_template = jr @ v
        self._joint_shapedirs = torch.einsum("jv,vck->jck", jr, sd)
        self.keypoint_vertices = self.selection.index[self.selection.is_vertex].cpu()
        from humanlib.body import _KinematicLevels

        self._plan = _KinematicLevels(self.parents)  # one batched product per tree level (11 for SMPL-X)
        self._inverse_order = torch.argsort(self._plan.order_t)
        self._cache: dict = {}

    def _buffers(self, vertex_ids: torch.Tensor, like: torch.Tensor):
        key = (tuple(vertex_ids.tolist()), like.dtype, like.device)
        if key not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            ids = vertex_ids.to(self.model.v_template.device)
            m = self.model
            self._cache[key] = tuple(t.detach().to(like) for t in (
                self._joint_template, self._joint_shapedirs, m.v_template[ids], m.shapedirs[ids], m.posedirs[ids],
                m.weights[ids]))
        return self._cache[key]

    def _posed(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor,
              vertex_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posed joints (B, 55, 3) and vertices ``vertex_ids`` (B, n, 3) (unchecked: the fit's inner loop)."""
        from humanlib.body import _pose_blend_shapes, _pose_feature
        from humanlib.rotations import axis_angle_to_rotmat_unchecked

        jt, jsd, vt, sd, pd, w = self._buffers(vertex_ids, betas)
        rest_joints = jt + torch.einsum("jck,bk->bjc", jsd, betas)
        rot = axis_angle_to_rotmat_unchecked(pose)
        joints, world = self._kinematics(rot, rest_joints)
        if len(vertex_ids) == 0:
            return joints + transl[:, None], betas.new_zeros(betas.shape[0], 0, 3)
        v = vt + torch.einsum("vck,bk->bvc", sd, betas) + _pose_blend_shapes(_pose_feature(rot), pd)
        # linear blend skinning with the transforms [R_k | j_k - R_k J_k]
        offset = joints - (world @ rest_joints.unsqueeze(-1)).squeeze(-1)
        r = torch.einsum("vk,bkij->bvij", w, world)
        t = torch.einsum("vk,bki->bvi", w, offset)
        verts = (r @ v.unsqueeze(-1)).squeeze(-1) + t
        return joints + transl[:, None], verts + transl[:, None]

    def _kinematics(self, rot: torch.Tensor, rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """World rotations (B, 55, 3, 3) level by level and posed joints (B, 55, 3) (root at rest)."""
        plan = self._plan
        order, level_parents, parent_of, ancestors, _ = plan._buffers(rot)
        levels = list(torch.split(rot.index_select(1, order), plan.sizes, dim=1))
        world = [levels[0]]
        for local, up in zip(levels[1:], level_parents):
            world.append(world[-1].index_select(1, up) @ local)
        world = torch.cat(world, 1).index_select(1, self._inverse_order.to(rot.device))
        offsets = rest_joints - rest_joints.index_select(1, parent_of)
        rotated = (world.index_select(1, parent_of) @ offsets.unsqueeze(-1)).squeeze(-1)
        rotated = torch.cat([rest_joints[:, :1], rotated[:, 1:]], 1)
        return torch.einsum("ka,nac->nkc", ancestors, rotated), world

    def _keypoints(self, joints: torch.Tensor, vertices: torch.Tensor) -> torch.Tensor:
        """(B, K, 3) keypoints from ``_posed``'s joints and the vertices ``keypoint_vertices`` (first)."""
        sel = self.selection
        where = torch.zeros(len(sel.names), dtype=torch.long)
        where[sel.is_vertex.cpu()] = torch.arange(int(sel.is_vertex.sum()))
        key = ("where", vertices.device)
        if key not in self._cache:
            self._cache[key] = (where.to(vertices.device), sel.index.to(vertices.device), sel.is_vertex.to(vertices.device))
        where, index, is_vertex = self._cache[key]
        from_v = vertices[:, where]
        from_j = joints[:, index.clamp(max=joints.shape[1] - 1)]
        return torch.where(is_vertex[None, :, None], from_v, from_j)

    def __call__(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        """(B, K, 3) posed keypoints of the sets, in OpenPose's order.

        Raises:
            TypeError, ValueError: ``betas`` (B, num_betas), ``pose`` (B, 55, 3), ``transl`` (B, 3) not so.
        """
        check_tensor(betas, "betas", (None, self.model.num_betas), finite=False)
        check_tensor(pose, "pose", (betas.shape[0], SMPLX_NUM_JOINTS, 3), finite=False, hint="full SMPL-X pose")
        check_tensor(transl, "transl", (betas.shape[0], 3), finite=False)
        joints, verts = self._posed(betas, pose.to(betas), transl.to(betas), self.keypoint_vertices)
        return self._keypoints(joints, verts)
