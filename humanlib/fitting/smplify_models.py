"""The body models SMPLify fits, seen the way its loop needs them: joints of posed bodies and unposed meshes.

:func:`humanlib.fitting.smplify.fit_smplify` asks a model for two things in its inner loop, the 24 joints of
posed bodies and the unposed mesh of a shape; this module answers both, without skinning the mesh for an
SMPL-layout model (:class:`_SkeletonOnly`) and through the model's own call for any other (:class:`_AnyModel`).
Split out of ``smplify`` to keep each module under 600 lines.
"""

from __future__ import annotations

import torch

from humanlib.skeleton import NUM_JOINTS


class _SkeletonOnly:
    """Joints and unposed meshes of an SMPL-layout model, without skinning the mesh.

    The joints are :class:`humanlib.body.SkeletonJoints` (the one skeleton-only forward
    kinematics), unchecked: the fit checks its inputs once, before its loop.
    """

    def __init__(self, model) -> None:
        from humanlib.body import SkeletonJoints

        self._joints = SkeletonJoints(model)
        self.v_template, self.shapedirs, self.J_regressor = model.v_template, model.shapedirs, model.J_regressor
        self._cast: dict[tuple[str, torch.dtype, torch.device], torch.Tensor] = {}
        # The last rest mesh of each batch shape: (betas, (vertices, joints)).
        self._last_rest: dict[tuple, tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]] = {}

    def _as(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """Buffer ``name`` in ``like``'s dtype and device (cast once, then reused)."""
        key = (name, like.dtype, like.device)
        if key not in self._cast:
            self._cast[key] = getattr(self, name).to(like)
        return self._cast[key]

    def rest_mesh(self, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Unposed vertices ``T + B_S(beta)`` and joints ``J(beta)``: the model at the zero pose, without skinning.

        At the zero pose every joint rotation is the identity, the pose blend shapes vanish and
        linear blend skinning moves nothing, so these equal ``model(betas, zero pose)``.
        Outside autograd the last result of each batch size is kept and returned again for equal
        ``betas`` (the camera step's zero shapes are the first stage's; a fit with fixed shape asks
        in every stage).
        """
        if torch.is_grad_enabled() and betas.requires_grad:
            return self._rest_mesh(betas)
        key = (tuple(betas.shape), betas.dtype, betas.device)
        last = self._last_rest.get(key)
        if last is not None and torch.equal(last[0], betas):
            return last[1]
        with torch.no_grad():
            out = self._rest_mesh(betas)
        self._last_rest[key] = (betas.detach().clone(), out)
        return out

    def _rest_mesh(self, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        vertices = self._as("v_template", betas) + torch.einsum("vck,bk->bvc", self._as("shapedirs", betas), betas)
        return vertices, torch.einsum("jv,bvc->bjc", self._as("J_regressor", betas), vertices)

    def __call__(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        return self._joints.posed_joints_unchecked(betas, pose, transl)


def _joints_function(model):
    """``f(betas, pose, transl) -> (B, 24, 3)`` joints: skeleton-only for SMPL-layout models, else the model."""
    if all(hasattr(model, name) for name in ("J_regressor", "shapedirs", "v_template", "parents")):
        try:
            import humanlib.body  # noqa: F401
        except ImportError:
            pass
        else:
            return _SkeletonOnly(model)
    return _AnyModel(model)


class _AnyModel:
    """Joints and unposed meshes of any body model callable as ``model(betas=, pose=, transl=)``.

    The model runs in its own dtype; inputs are cast to it and outputs back to the inputs' dtype.
    Its output is checked on the first call (shape, device, finite values), not inside the
    optimiser's loop, where the finiteness test would synchronise on every evaluation.
    """

    def __init__(self, model) -> None:
        self.model, self.dtype = model, _module_dtype(model)
        self._checked = False

    def _run(self, betas, pose, transl):
        dtype = self.dtype or betas.dtype
        out = self.model(betas=betas.to(dtype), pose=pose.to(dtype), transl=transl.to(dtype))
        if not self._checked:
            _check_model_output(out, betas.shape[0], betas.device)
            self._checked = True
        return out

    def rest_mesh(self, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = betas.shape[0]
        out = self._run(betas, betas.new_zeros(b, NUM_JOINTS, 3), betas.new_zeros(b, 3))
        return out.vertices.to(betas.dtype), out.joints.to(betas.dtype)

    def __call__(self, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
        return self._run(betas, pose, transl).joints.to(betas.dtype)


def _check_model_output(out: object, batch: int, device: torch.device) -> None:
    """The model's first output: joints ``(B, 24, 3)`` on the keypoints' device, finite."""
    joints = getattr(out, "joints", None)
    if not isinstance(joints, torch.Tensor) or tuple(joints.shape) != (batch, NUM_JOINTS, 3):
        raise ValueError(f"the model must return an object with joints of shape ({batch}, {NUM_JOINTS}, 3) for "
                         f"{batch} bodies; got {tuple(getattr(joints, 'shape', ())) or type(out).__name__}")
    if joints.device != device:
        raise ValueError(f"the model returned joints on {joints.device} for keypoints on {device}; "
                         "put the model on the keypoints' device")
    if not bool(torch.isfinite(joints).all()):
        raise ValueError("the model returned non-finite joints at the rest pose; check its parameters")


def _module_device(obj: object) -> torch.device | None:
    """The device of a module's first parameter or buffer (None for objects without tensors)."""
    if isinstance(obj, torch.nn.Module):
        for t in obj.parameters():
            return t.device
        for t in obj.buffers():
            return t.device
    return None


def _module_dtype(obj: object) -> torch.dtype | None:
    """The floating dtype of a module's first floating parameter or buffer (None when it has none)."""
    if isinstance(obj, torch.nn.Module):
        for t in list(obj.parameters()) + list(obj.buffers()):
            if t.is_floating_point():
                return t.dtype
    return None
