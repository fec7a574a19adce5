r"""The terms of the SMPL body model's equation, one small function each.

They are documented, and imported, as :mod:`humanlib.body`'s (its table lists them).

Each public function checks its inputs; its ``_``-prefixed twin is the unchecked inner-loop version
that :class:`humanlib.body.BodyModel` and the fits chain. :mod:`humanlib.body` re-exports them all.
"""

from __future__ import annotations

import numpy as np
import torch

from humanlib._validate import check_tensor


# --------------------------------------------------------------------------- the terms


def _check_term(name: str, x: object, shape: tuple, hint: str = "") -> torch.Tensor:
    """Shape and dtype of a term's tensor; no value check (no host-device sync in the terms)."""
    return check_tensor(x, name, shape, finite=False, hint=hint)


def _check_alike(**tensors: torch.Tensor) -> None:
    """The first tensor's dtype and device are the others' too (torch would fail deep inside einsum)."""
    (ref_name, ref), *rest = tensors.items()
    for name, x in rest:
        if x.dtype != ref.dtype:
            raise ValueError(f"{name} has dtype {x.dtype} but {ref_name} has {ref.dtype}; cast one of them "
                             f"({name}.to({ref_name}.dtype))")
        if x.device != ref.device:
            raise ValueError(f"{name} is on {x.device} but {ref_name} is on {ref.device}; move one of them "
                             f"({name}.to({ref_name}.device))")


def shape_blend_shapes(betas: torch.Tensor, shapedirs: torch.Tensor) -> torch.Tensor:
    """Shape blend shapes :math:`B_S(\\beta) = \\sum_k \\beta_k S_k`.

    The terms check shapes, dtypes and devices but not values: NaN in gives NaN out
    (:class:`BodyModel` checks its inputs once per call).

    Args:
        betas: (B, K) shape coefficients.
        shapedirs: (V, 3, K) shape displacement basis.

    Returns:
        (B, V, 3) per-vertex offsets added to the template.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong shapes (K must agree), a non-floating dtype, different dtypes or devices.
    """
    _check_term("betas", betas, (None, None))
    _check_term("shapedirs", shapedirs, (None, 3, betas.shape[1]), f"K = {betas.shape[1]} from betas.")
    _check_alike(betas=betas, shapedirs=shapedirs)
    return _shape_blend_shapes(betas, shapedirs)


def _shape_blend_shapes(betas: torch.Tensor, shapedirs: torch.Tensor) -> torch.Tensor:
    return torch.einsum("bk,vck->bvc", betas, shapedirs)


def regress_joints(vertices: torch.Tensor, J_regressor: torch.Tensor) -> torch.Tensor:
    """Joint locations as fixed linear combinations of vertices, :math:`J = \\mathcal{J} T`.

    Args:
        vertices: (B, V, 3) rest-pose vertices (template plus shape blend shapes).
        J_regressor: (J, V) regression weights (each row sums to one).

    Returns:
        (B, J, 3) rest joint locations.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong shapes (V must agree), a non-floating dtype, different dtypes or devices.
    """
    _check_term("vertices", vertices, (None, None, 3))
    _check_term("J_regressor", J_regressor, (None, vertices.shape[1]), f"V = {vertices.shape[1]} from vertices.")
    _check_alike(vertices=vertices, J_regressor=J_regressor)
    return _regress_joints(vertices, J_regressor)


def _regress_joints(vertices: torch.Tensor, J_regressor: torch.Tensor) -> torch.Tensor:
    return torch.einsum("jv,bvc->bjc", J_regressor, vertices)


def pose_feature(rotmats: torch.Tensor) -> torch.Tensor:
    """The pose feature :math:`R(\\theta) - I` of every joint but the root, flattened.

    The root is left out: turning the whole body must not deform it. The feature is
    zero in the rest pose, so pose blend shapes vanish there.

    Args:
        rotmats: (B, J, 3, 3) joint rotations, root first.

    Returns:
        (B, 9 (J - 1)) feature, joint-major, each matrix row-major (SMPL's order).

    Raises:
        TypeError: ``rotmats`` is not a tensor.
        ValueError: wrong shape (or no joint at all), a non-floating dtype.
    """
    _check_term("rotmats", rotmats, (None, None, 3, 3), "Axis-angle poses go through axis_angle_to_rotmat first.")
    if rotmats.shape[1] == 0:
        raise ValueError(f"rotmats has no joint (shape {tuple(rotmats.shape)}); give at least the root")
    return _pose_feature(rotmats)


def _pose_feature(rotmats: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(3, dtype=rotmats.dtype, device=rotmats.device)
    return (rotmats[:, 1:] - eye).flatten(1)


def pose_blend_shapes(feature: torch.Tensor, posedirs: torch.Tensor) -> torch.Tensor:
    """Pose-corrective blend shapes :math:`B_P(\\theta) = \\sum_n (R_n(\\theta) - R_n^*) P_n`.

    Args:
        feature: (B, P) pose feature from :func:`pose_feature` (P = 9 (J - 1)).
        posedirs: (V, 3, P) corrective displacement basis.

    Returns:
        (B, V, 3) per-vertex offsets in the rest pose.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong shapes (P must agree), a non-floating dtype, different dtypes or devices.
    """
    _check_term("feature", feature, (None, None), "The feature of J joints is pose_feature(rotmats), (B, 9 (J - 1)).")
    _check_term("posedirs", posedirs, (None, 3, feature.shape[1]), f"P = {feature.shape[1]} from feature.")
    _check_alike(feature=feature, posedirs=posedirs)
    return _pose_blend_shapes(feature, posedirs)


def _pose_blend_shapes(feature: torch.Tensor, posedirs: torch.Tensor) -> torch.Tensor:
    num_vertices, _, num_features = posedirs.shape
    # One (B, P) x (P, 3V) matrix product: faster than the equivalent einsum on the CPU.
    return (feature @ posedirs.reshape(3 * num_vertices, num_features).T).reshape(-1, num_vertices, 3)


def _check_parents(parents: object, num_joints: int) -> tuple[int, ...]:
    if isinstance(parents, (str, bytes)) or not hasattr(parents, "__len__"):
        raise TypeError(f"parents must be a sequence of {num_joints} ints (-1 for the root); got {type(parents).__name__}")
    if len(parents) != num_joints:
        raise ValueError(f"parents has {len(parents)} entries but rotmats has {num_joints} joints")
    out = []
    for k, p in enumerate(parents):
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            raise TypeError(f"parents[{k}] must be an int; got {p!r}")
        if (k == 0 and p >= 0) or (k > 0 and not 0 <= p < k):
            raise ValueError(f"parents[{k}] is {int(p)}: the root (joint 0) has parent -1 and every other joint "
                             "a parent with a smaller index (parents before children)")
        out.append(int(p))
    return tuple(out)


def forward_kinematics(
    rotmats: torch.Tensor, rest_joints: torch.Tensor, parents: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose the skeleton: each joint turns about its rest location, carried by its parent.

    The world transform of joint k is :math:`G_k = G_{p(k)} \\begin{bmatrix} R_k & J_k - J_{p(k)}
    \\\\ 0 & 1 \\end{bmatrix}`; skinning needs the transform *relative to the rest pose*,
    :math:`G'_k = G_k \\begin{bmatrix} I & -J_k \\\\ 0 & 1\\end{bmatrix}`, which maps a rest
    point near joint k to its posed place.

    Args:
        rotmats: (B, J, 3, 3) local joint rotations, root first.
        rest_joints: (B, J, 3) rest joint locations :math:`J(\\beta)`.
        parents: parent of each joint (-1 for the root); parents come before children.

    Returns:
        posed_joints: (B, J, 3) joint locations after posing.
        transforms: (B, J, 4, 4) rest-to-posed rigid transforms :math:`G'_k`.

    Raises:
        TypeError: a tensor argument is not a tensor, or ``parents`` is not a sequence of ints.
        ValueError: wrong shapes (B and J must agree, J >= 1), a non-floating dtype, different
            dtypes or devices, or ``parents`` of another length or not a tree listed root first.
    """
    _check_term("rotmats", rotmats, (None, None, 3, 3), "Axis-angle poses go through axis_angle_to_rotmat first.")
    batch, num_joints = rotmats.shape[:2]
    _check_term("rest_joints", rest_joints, (batch, num_joints, 3), "B and J come from rotmats.")
    _check_alike(rotmats=rotmats, rest_joints=rest_joints)
    if num_joints == 0:
        raise ValueError(f"rotmats has no joint (shape {tuple(rotmats.shape)}); give at least the root")
    return _forward_kinematics(rotmats, rest_joints, _check_parents(parents, num_joints))


def _forward_kinematics(
    rotmats: torch.Tensor, rest_joints: torch.Tensor, parents: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    batch, num_joints = rotmats.shape[:2]
    offsets = rest_joints.clone()
    offsets[:, 1:] = rest_joints[:, 1:] - rest_joints[:, list(parents[1:])]
    bottom = rotmats.new_tensor([0.0, 0.0, 0.0, 1.0]).expand(batch, num_joints, 1, 4)
    local = torch.cat([torch.cat([rotmats, offsets.unsqueeze(-1)], -1), bottom], -2)
    world = [local[:, 0]]
    for k in range(1, num_joints):
        world.append(world[parents[k]] @ local[:, k])
    world = torch.stack(world, 1)
    posed_joints = world[..., :3, 3]
    # G'_k = G_k [I | -J_k]: the translation becomes t_k - R_k^world J_k.
    rest_shift = (world[..., :3, :3] @ rest_joints.unsqueeze(-1)).squeeze(-1)
    transforms = torch.cat([world[..., :3, :3], (posed_joints - rest_shift).unsqueeze(-1)], -1)
    transforms = torch.cat([transforms, world[..., 3:, :]], -2)
    return posed_joints, transforms


def linear_blend_skinning(
    vertices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor
) -> torch.Tensor:
    """Linear blend skinning :math:`v'_i = \\sum_k w_{ik} G'_k v_i`.

    Args:
        vertices: (B, V, 3) rest-pose vertices (with shape and pose blend shapes).
        weights: (V, J) skinning weights, rows summing to one.
        transforms: (B, J, 4, 4) rest-to-posed transforms from :func:`forward_kinematics`.

    Returns:
        (B, V, 3) posed vertices.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: wrong shapes (B, V and J must agree), a non-floating dtype, different dtypes
            or devices.
    """
    _check_term("vertices", vertices, (None, None, 3))
    batch, num_vertices = vertices.shape[:2]
    _check_term("transforms", transforms, (batch, None, 4, 4), "B comes from vertices.")
    _check_term("weights", weights, (num_vertices, transforms.shape[1]), "V from vertices, J from transforms.")
    _check_alike(vertices=vertices, weights=weights, transforms=transforms)
    return _linear_blend_skinning(vertices, weights, transforms)


def _linear_blend_skinning(vertices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
    batch, num_joints = transforms.shape[:2]
    # Blend the 3x4 top rows of the transforms per vertex with one matrix product, then apply
    # them column by column (fused multiply-adds) instead of B*V tiny 3x3 products.
    blended = (weights @ transforms[..., :3, :].reshape(batch, num_joints, 12)).reshape(batch, weights.shape[0], 3, 4)
    posed = blended[..., 3]
    for axis in range(3):
        posed = torch.addcmul(posed, blended[..., axis], vertices[..., axis : axis + 1])
    return posed
