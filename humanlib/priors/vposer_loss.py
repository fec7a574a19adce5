"""VPoser's training losses (the seminar talk's equation; every term is a function below).

.. math::

    L = c_1 L_{KL} + c_2 L_{rec} + c_3 L_{orth} + c_4 L_{det1} + c_5 L_{reg}

with ``L_KL = KL(q(z|R) || N(0, I))`` (:func:`kl_to_standard_normal`),
``L_rec = ||R - R_hat||^2`` (:func:`rotmat_reconstruction_loss`),
``L_orth = ||R_hat R_hat^T - I||^2`` (:func:`orthogonality_loss`),
``L_det1 = |det R_hat - 1|`` (:func:`determinant_loss`) and ``L_reg = ||phi||^2``
(:func:`weight_l2`). The released V02 training code uses instead an L1 loss on the body
mesh's vertices, a geodesic rotation loss and a joint loss; :class:`VPoserLossConfig` offers both
(:meth:`VPoserLossConfig.talk`, :meth:`VPoserLossConfig.released`).

Because the decoder ends in Gram–Schmidt, every ``R_hat`` is exactly a rotation: ``L_orth`` and
``L_det1`` are zero up to round-off and give no gradient worth the name. They are kept so the
talk's equation can be evaluated term by term.

Reductions: the talk-style terms sum over joints (and latent dimensions, for the KL) and
average over the batch; the released-style terms average like the released code (mean absolute
vertex / joint error in metres, mean geodesic angle in radians over joints).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import nn

from humanlib import rotations
from humanlib._validate import check_same_device, check_tensor
from humanlib.priors import _require_tensor
from humanlib.priors.vposer_model import VPoser, _as_model_pose, _check_vposer, as_body_pose
from humanlib.skeleton import BODY_JOINTS, NUM_JOINTS


#: ``body_forward(body_pose (B, 21, 3)) -> (vertices (B, V, 3), joints (B, J, 3))``.
BodyForward = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class VPoserLossConfig:
    """Weights of the training loss terms (a weight of 0 switches a term off).

    The defaults are the talk's loss (:meth:`talk`).

    Attributes:
        kl: ``c1``, weight of ``L_KL`` (sum over latent dims, batch mean).
        rotmat: ``c2``, weight of ``L_rec = sum_j ||R_j - R_hat_j||_F^2`` (batch mean).
        orth: ``c3``, weight of ``L_orth = sum_j ||R_hat_j R_hat_j^T - I||_F^2``.
        det1: ``c4``, weight of ``L_det1 = sum_j |det R_hat_j - 1|``.
        reg: ``c5``, weight of ``L_reg = ||phi||^2`` over all Linear weights (weight decay).
        vertex: Released-code term: mean L1 distance between the body mesh's vertices posed by
            ``theta`` and by ``theta_hat`` (metres). Needs a body model.
        geodesic: Released-code term: mean geodesic angle between ``R`` and ``R_hat`` (radians).
        joint: Released-code term: mean L1 distance between posed 3D joints (metres).
            Needs a body model.
        extra_terms_until_epoch: When set, ``geodesic`` and ``joint`` are used only for epochs
            ``< extra_terms_until_epoch`` (the released code drops them after a few epochs).
    """

    kl: float = 0.005
    rotmat: float = 1.0
    orth: float = 1.0
    det1: float = 1.0
    reg: float = 5e-6
    vertex: float = 0.0
    geodesic: float = 0.0
    joint: float = 0.0
    extra_terms_until_epoch: int | None = None

    def __post_init__(self) -> None:
        """Raises ``ValueError`` / ``TypeError`` naming a weight that is negative, non-finite or not a
        number, and when every weight is 0 (nothing to train)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra_terms_until_epoch":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                    raise ValueError(f"VPoserLossConfig.extra_terms_until_epoch must be None or an int >= 0, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"VPoserLossConfig.{f.name} must be a number (a weight), got {type(value).__name__} {value!r}")
            elif not math.isfinite(float(value)) or value < 0:
                raise ValueError(f"VPoserLossConfig.{f.name} must be a finite weight >= 0, got {value!r}")
        weights = [getattr(self, f.name) for f in fields(self) if f.name != "extra_terms_until_epoch"]
        if not any(w > 0 for w in weights):
            raise ValueError("VPoserLossConfig: every weight is 0, so the loss is a constant; switch on at least one term")

    @classmethod
    def talk(cls) -> VPoserLossConfig:
        """The seminar talk's loss: KL + rotation-matrix reconstruction + orth + det + weight decay."""
        return cls(kl=0.005, rotmat=1.0, orth=1.0, det1=1.0, reg=5e-6)

    @classmethod
    def released(cls) -> VPoserLossConfig:
        """The released V02 training recipe as we read it: KL 0.005, vertex L1 x 4,
        geodesic x 2 and joint L1 x 2 for the first 15 epochs, weight decay 1e-5 (``c5 = 5e-6``)."""
        return cls(
            kl=0.005, rotmat=0.0, orth=0.0, det1=0.0, reg=5e-6,
            vertex=4.0, geodesic=2.0, joint=2.0, extra_terms_until_epoch=15,
        )

    @property
    def needs_body(self) -> bool:
        """Whether a body model is needed (vertex or joint terms switched on)."""
        return self.vertex > 0 or self.joint > 0



@dataclass
class VPoserLoss:
    """Training loss and its terms (each a scalar tensor; an unused term is 0).

    ``total = kl*c1 + rotmat*c2 + orth*c3 + det1*c4 + reg*c5 + vertex*c_v + geodesic*c_g + joint*c_j``
    with the weights of the :class:`VPoserLossConfig` (terms stored unweighted).
    """

    total: torch.Tensor
    kl: torch.Tensor
    rotmat: torch.Tensor
    orth: torch.Tensor
    det1: torch.Tensor
    reg: torch.Tensor
    vertex: torch.Tensor
    geodesic: torch.Tensor
    joint: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        """Every term as a Python float (for logs and curves)."""
        return {f.name: float(getattr(self, f.name).detach()) for f in fields(self)}




# --------------------------------------------------------------------------------------------
# Loss terms (pure functions; each returns one value per batch element unless stated)
# --------------------------------------------------------------------------------------------


def kl_to_standard_normal(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, diag(std^2)) || N(0, I))`` summed over the last dim.

    Closed form per dimension: ``(mean^2 + std^2 - 1) / 2 - log std``.

    Args:
        mean: ``(..., D)``.
        std: ``(..., D)``, positive.

    Returns:
        ``(...)`` KL divergences in nats. NaN in ``mean`` gives NaN.

    Raises:
        ValueError: non-tensors, different shapes or devices, a scalar, or a ``std``
            that is not > 0 (its log would be -inf or NaN) (``TypeError`` for an argument of the wrong type).
    """
    check_tensor(mean, "mean", (..., None), finite=False)
    check_tensor(std, "std", (..., None), finite=False)
    if mean.shape != std.shape:
        raise ValueError(f"mean and std must have the same shape, got {tuple(mean.shape)} and {tuple(std.shape)}")
    check_same_device(mean, "mean", std=std)
    if std.device.type != "meta" and bool((std <= 0).any()):
        raise ValueError(f"std must be > 0 everywhere; got {int((std <= 0).sum())} value(s) <= 0 "
                         "(a standard deviation, e.g. softplus of the scale head)")
    return _kl(mean, std)


def _kl(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    # The unchecked closed form, for the training loop (the encoder's softplus std is > 0).
    return (0.5 * (mean.square() + std.square() - 1.0) - torch.log(std)).sum(-1)


def _check_rotmats(*mats: torch.Tensor, names: tuple[str, ...] = ("rotmat", "rotmat_hat")) -> None:
    """Shape, dtype and device checks of ``(B, J, 3, 3)`` rotation matrices (no values: no sync)."""
    for m, name in zip(mats, names):
        _require_tensor(m, name, "(B, J, 3, 3)")
        if m.ndim != 4 or m.shape[-2:] != (3, 3):
            raise ValueError(f"{name}: rotation matrices must have shape (B, J, 3, 3), got {tuple(m.shape)}")
        check_tensor(m, name, finite=False)
    if len(mats) == 2:
        if mats[0].shape != mats[1].shape:
            raise ValueError(f"{names[0]} and {names[1]} shapes differ: {tuple(mats[0].shape)} vs {tuple(mats[1].shape)}")
        check_same_device(mats[0], names[0], **{names[1]: mats[1]})


def rotmat_reconstruction_loss(rotmat: torch.Tensor, rotmat_hat: torch.Tensor) -> torch.Tensor:
    """``L_rec = sum_j ||R_j - R_hat_j||_F^2``.

    Args:
        rotmat: ``(B, J, 3, 3)`` targets.
        rotmat_hat: ``(B, J, 3, 3)`` reconstructions.

    Returns:
        ``(B,)``. For rotations, ``||R - R_hat||_F^2 = 4 (1 - cos angle)``. NaN in, NaN out.

    Raises:
        ValueError: non-tensors, integer dtypes, shapes other than one ``(B, J, 3, 3)``,
            or different devices (``TypeError`` for an argument of the wrong type).
    """
    _check_rotmats(rotmat, rotmat_hat)
    return (rotmat - rotmat_hat).square().sum(dim=(-1, -2)).sum(-1)


def orthogonality_loss(rotmat_hat: torch.Tensor) -> torch.Tensor:
    """``L_orth = sum_j ||R_hat_j R_hat_j^T - I||_F^2``; ``(B, J, 3, 3) -> (B,)``.

    Raises:
        ValueError: ``rotmat_hat`` is not a floating ``(B, J, 3, 3)`` tensor
            (``TypeError`` for an argument of the wrong type).
    """
    _check_rotmats(rotmat_hat, names=("rotmat_hat",))
    eye = torch.eye(3, device=rotmat_hat.device, dtype=rotmat_hat.dtype)
    gram = rotmat_hat @ rotmat_hat.transpose(-1, -2)
    return (gram - eye).square().sum(dim=(-1, -2)).sum(-1)


def determinant_loss(rotmat_hat: torch.Tensor) -> torch.Tensor:
    """``L_det1 = sum_j |det R_hat_j - 1|``; ``(B, J, 3, 3) -> (B,)``.

    Raises:
        ValueError: ``rotmat_hat`` is not a floating ``(B, J, 3, 3)`` tensor
            (``TypeError`` for an argument of the wrong type).
    """
    _check_rotmats(rotmat_hat, names=("rotmat_hat",))
    return (torch.linalg.det(rotmat_hat) - 1.0).abs().sum(-1)


def weight_l2(module: nn.Module) -> torch.Tensor:
    """``L_reg = ||phi||^2``: the sum of squares of every ``nn.Linear`` weight of ``module`` (a scalar).

    Biases and BatchNorm parameters are not decayed.

    Raises:
        TypeError: ``module`` is not an ``nn.Module``.
        ValueError: it has no ``nn.Linear`` layer.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    terms = [m.weight.square().sum() for m in module.modules() if isinstance(m, nn.Linear)]
    if not terms:
        raise ValueError(f"{type(module).__name__} has no nn.Linear layer to regularise")
    return torch.stack(terms).sum()


def geodesic_loss(rotmat: torch.Tensor, rotmat_hat: torch.Tensor) -> torch.Tensor:
    """Mean geodesic angle (radians) over joints, ``(B, J, 3, 3) x 2 -> (B,)``.

    Raises:
        ValueError: as :func:`rotmat_reconstruction_loss` (``TypeError`` for an argument of the wrong type).
    """
    _check_rotmats(rotmat, rotmat_hat)
    return rotations.rotmat_geodesic_distance(rotmat, rotmat_hat).mean(-1)


def vposer_loss(
    model: VPoser,
    pose: torch.Tensor,
    config: VPoserLossConfig,
    epoch: int = 0,
    body_forward: BodyForward | None = None,
    rotmat: torch.Tensor | None = None,
    sample: bool = True,
    generator: torch.Generator | None = None,
) -> VPoserLoss:
    """Training loss of one batch.

    Args:
        model: The VPoser.
        pose: ``(B, 21, 3)`` axis-angle body poses.
        config: Term weights.
        epoch: Current epoch (for ``extra_terms_until_epoch``).
        body_forward: Poses the body for the vertex / joint terms (see :func:`body_forward_from_model`);
            required when ``config.needs_body``.
        rotmat: Optional precomputed ``(B, 21, 3, 3)`` rotation matrices of ``pose``.
        sample: Sample ``z`` (training) or use the encoder mean (deterministic validation).
        generator: Optional generator for the reparameterisation noise.

    Returns:
        The total and every (unweighted, batch-averaged) term.

    Raises:
        ValueError: ``model`` / ``config`` of the wrong type, ``pose`` as in
            :meth:`~humanlib.priors.vposer_model.VPoser.encode`, a negative ``epoch``, a ``body_forward`` that is not callable or
            missing when needed, or a ``rotmat`` that does not match ``pose``
            (``TypeError`` for an argument of the wrong type).
    """
    _check_vposer(model)
    if not isinstance(config, VPoserLossConfig):
        raise TypeError(f"config must be a VPoserLossConfig (e.g. VPoserLossConfig.talk()); got {type(config).__name__}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
    if body_forward is not None and not callable(body_forward):
        raise TypeError(f"body_forward must be callable (see body_forward_from_model); got {type(body_forward).__name__}")
    if not isinstance(sample, bool):
        raise TypeError(f"sample must be a bool; got {type(sample).__name__}")
    pose = _as_model_pose(model, pose, "pose")
    if rotmat is not None:
        check_tensor(rotmat, "rotmat", finite=False)
        expected = (*pose.shape[:2], 3, 3)
        if tuple(rotmat.shape) != expected:
            raise ValueError(f"rotmat must have shape {expected} (the rotation matrices of pose), got {tuple(rotmat.shape)}")
        check_same_device(pose, "pose", rotmat=rotmat)
    if config.needs_body and body_forward is None:
        raise ValueError("the vertex/joint loss terms need a body model: pass body_forward (see body_forward_from_model)")
    if rotmat is None:
        rotmat = rotations.axis_angle_to_rotmat(pose)
    q = model.encode(pose)
    z = q.rsample(generator) if sample else q.mean
    # Decode to rotation matrices only: the axis-angle is needed for the body terms alone.
    r_hat = rotations.rot6d_to_rotmat(model.decode_6d(z))
    zero = pose.new_zeros(())
    kl = _kl(q.mean, q.std).mean()
    rec = rotmat_reconstruction_loss(rotmat, r_hat).mean() if config.rotmat > 0 else zero
    orth = orthogonality_loss(r_hat).mean() if config.orth > 0 else zero
    det1 = determinant_loss(r_hat).mean() if config.det1 > 0 else zero
    reg = weight_l2(model) if config.reg > 0 else zero
    extra_on = config.extra_terms_until_epoch is None or epoch < config.extra_terms_until_epoch
    geo = geodesic_loss(rotmat, r_hat).mean() if config.geodesic > 0 and extra_on else zero
    vertex = joint = zero
    if config.vertex > 0 or (config.joint > 0 and extra_on):
        verts, joints = body_forward(pose)
        verts_hat, joints_hat = body_forward(rotations.rotmat_to_axis_angle(r_hat))
        vertex = (verts - verts_hat).abs().mean() if config.vertex > 0 else zero
        joint = (joints - joints_hat).abs().mean() if config.joint > 0 and extra_on else zero
    total = (
        config.kl * kl + config.rotmat * rec + config.orth * orth + config.det1 * det1 + config.reg * reg
        + config.vertex * vertex + config.geodesic * geo + config.joint * joint
    )
    return VPoserLoss(total=total, kl=kl, rotmat=rec, orth=orth, det1=det1, reg=reg,
                      vertex=vertex, geodesic=geo, joint=joint)


def full_pose_from_body(body_pose: torch.Tensor) -> torch.Tensor:
    """``(B, 21, 3)`` body pose -> ``(B, 24, 3)`` SMPL pose with root and hands at rest.

    Raises:
        ValueError: as :func:`~humanlib.priors.vposer_model.as_body_pose` (``TypeError`` for an argument of the wrong type).
    """
    body_pose = as_body_pose(body_pose, name="body_pose")
    full = body_pose.new_zeros(body_pose.shape[0], NUM_JOINTS, 3)
    full[:, list(BODY_JOINTS)] = body_pose
    return full


def body_forward_from_model(body_model) -> BodyForward:
    """Wrap a ``humanlib.body`` model (mean shape, root at rest, no translation) as a
    :data:`BodyForward` for the vertex/joint loss terms and the per-vertex error.

    Raises:
        TypeError: ``body_model`` is not a callable body model with ``num_betas``
            (e.g. :func:`humanlib.body.load_body_model`).
    """
    if not callable(body_model) or not isinstance(getattr(body_model, "num_betas", None), int):
        raise TypeError(f"body_model must be a humanlib body model (callable, with num_betas), "
                        f"e.g. humanlib.body.load_body_model(); got {type(body_model).__name__}")

    def forward(body_pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        full = full_pose_from_body(body_pose)
        b = full.shape[0]
        betas = full.new_zeros(b, body_model.num_betas)
        out = body_model(betas=betas, pose=full, transl=full.new_zeros(b, 3))
        return out.vertices, out.joints

    return forward
