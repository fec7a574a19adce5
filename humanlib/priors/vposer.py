"""VPoser: a variational auto-encoder over body poses, used as the pose prior of SMPLify-X.

The model follows the published V02 layout (our own code, written from its description):

* **Encoder** ``q(z | theta_b)``: the 21 body joints' axis-angles (63 numbers) go through
  ``BatchNorm -> Linear(63, 512) -> LeakyReLU -> BatchNorm -> Dropout -> Linear(512, 512)
  -> Linear(512, 512)`` and two linear heads give a diagonal Gaussian
  ``Normal(mu, softplus(s))`` over a latent ``z`` of 32 numbers. (The two 512x512 linear maps
  follow each other without a non-linearity in the published layout; they compose to a single
  linear map, and we keep them for fidelity.)
* **Decoder** ``p(theta_b | z)``: ``Linear(32, 512) -> LeakyReLU -> Dropout -> Linear(512, 512)
  -> LeakyReLU -> Linear(512, 21 * 6)``; each joint's 6 numbers are the continuous 6D
  representation, turned into a rotation matrix by Gram–Schmidt
  (:func:`humanlib.rotations.rot6d_to_rotmat`) and then into axis-angle.

Training losses (the seminar talk's equation; every term is a function below):

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

Checkpoints are plain dictionaries ``{"format", "format_version", "config", "state_dict",
"metadata"}`` of tensors and plain Python values, read with ``torch.load(weights_only=True)`` and
checked key by key (:func:`load_vposer`).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from humanlib import rotations
from humanlib._validate import (
    check_file,
    check_generator,
    check_output_file,
    check_positive,
    check_same_device,
    check_tensor,
    resolve_device,
)
from humanlib.paths import ASSETS_DIR, user_prior_file
from humanlib.priors import PosePrior, _require_tensor
from humanlib.priors.training import save_atomically
from humanlib.skeleton import BODY_JOINTS, NUM_BODY_JOINTS, NUM_JOINTS

CHECKPOINT_FORMAT = "humanlib.vposer"
CHECKPOINT_FORMAT_VERSION = 1
#: The committed checkpoint: trained by humanlib on the open corpus. It is NOT the licensed
#: VPoser release of the SMPL-X authors (different data, different body model).
OPEN_CHECKPOINT_NAME = "priors/vposer_open.pt"

#: ``body_forward(body_pose (B, 21, 3)) -> (vertices (B, V, 3), joints (B, J, 3))``.
BodyForward = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


# --------------------------------------------------------------------------------------------
# Configuration and outputs
# --------------------------------------------------------------------------------------------


@dataclass
class VPoserConfig:
    """Architecture of a VPoser (defaults: the published V02 sizes).

    Attributes:
        num_joints: Number of body joints encoded (21: SMPL joints 1..21).
        hidden: Width of the hidden layers (512).
        latent_dim: Size of the latent code ``z`` (32).
        dropout: Dropout probability in encoder and decoder (0.1).
        leaky_slope: Negative slope of the LeakyReLUs (0.01, PyTorch's default).
    """

    num_joints: int = NUM_BODY_JOINTS
    hidden: int = 512
    latent_dim: int = 32
    dropout: float = 0.1
    leaky_slope: float = 0.01

    def __post_init__(self) -> None:
        """Raises ``ValueError`` / ``TypeError`` naming the field that is out of range or of the wrong type."""
        for name in ("num_joints", "hidden", "latent_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"VPoserConfig.{name} must be a positive int, got {value!r}")
        for name in ("dropout", "leaky_slope"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"VPoserConfig.{name} must be a number, got {type(value).__name__} {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"VPoserConfig.dropout must be in [0, 1), got {self.dropout!r}")
        if not 0.0 <= self.leaky_slope < 1.0:
            raise ValueError(f"VPoserConfig.leaky_slope must be in [0, 1) (0.01 by default), got {self.leaky_slope!r}")


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
class LatentGaussian:
    """The encoder's diagonal Gaussian ``q(z | theta_b)``.

    Attributes:
        mean: ``(B, latent_dim)``.
        std: ``(B, latent_dim)``, positive (softplus of the scale head).
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __post_init__(self) -> None:
        """Raises ``TypeError`` / ``ValueError`` unless ``mean`` and ``std`` are floating tensors of one
        ``(B, latent_dim)`` shape on one device (values are not checked: no synchronisation)."""
        check_tensor(self.mean, "mean", (None, None), finite=False)
        check_tensor(self.std, "std", (None, None), finite=False)
        if self.mean.shape != self.std.shape:
            raise ValueError(f"mean and std must have the same shape, got {tuple(self.mean.shape)} and {tuple(self.std.shape)}")
        check_same_device(self.mean, "mean", std=self.std)

    def distribution(self) -> torch.distributions.Normal:
        """As a ``torch.distributions.Normal`` (independent per latent dimension)."""
        return torch.distributions.Normal(self.mean, self.std)

    def rsample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Reparameterised sample ``mean + std * eps``, ``eps ~ N(0, I)``; shape ``(B, latent_dim)``.

        Raises:
            ValueError: ``generator`` is not a ``torch.Generator`` on ``mean``'s device
                (``TypeError`` for an argument of the wrong type).
        """
        check_generator(generator, device=self.mean.device)
        eps = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * eps


@dataclass
class DecodedPose:
    """A decoded body pose.

    Attributes:
        rotmat: ``(B, 21, 3, 3)`` rotation matrices (exactly orthonormal, det +1).
        pose: ``(B, 21, 3)`` the same rotations as axis-angle (radians).
    """

    rotmat: torch.Tensor
    pose: torch.Tensor


@dataclass
class VPoserOutput:
    """One pass through the auto-encoder.

    Attributes:
        q: The encoder's Gaussian.
        z: ``(B, latent_dim)`` the latent code used for decoding (a sample, or the mean).
        decoded: The decoded pose.
    """

    q: LatentGaussian
    z: torch.Tensor
    decoded: DecodedPose


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
# Input checks
# --------------------------------------------------------------------------------------------


def as_body_pose(pose: torch.Tensor, num_joints: int = NUM_BODY_JOINTS, name: str = "pose") -> torch.Tensor:
    """Check a batch of body poses and return it as ``(B, num_joints, 3)``.

    Args:
        pose: ``(B, num_joints, 3)`` or ``(B, 3 * num_joints)`` axis-angle, or a full SMPL pose
            ``(B, 24, 3)`` (the body joints 1..21 are taken when ``num_joints`` is 21).
        num_joints: Expected number of body joints.
        name: Name used in error messages.

    Raises:
        TypeError: On a non-tensor (a numpy array: convert it with ``torch.as_tensor``).
        ValueError: On a wrong shape, an empty batch, an integer dtype or non-finite values (the
            finiteness check is skipped on the ``meta`` device); ``num_joints`` < 1.
    """
    check_positive(num_joints, "num_joints", integer=True)
    _require_tensor(pose, name, f"(B, {num_joints}, 3)")
    if pose.ndim == 2 and pose.shape[1] == 3 * num_joints:
        pose = pose.reshape(pose.shape[0], num_joints, 3)
    elif pose.ndim == 3 and pose.shape[1:] == (NUM_JOINTS, 3) and num_joints == NUM_BODY_JOINTS:
        pose = pose[:, list(BODY_JOINTS)]
    if pose.ndim != 3 or pose.shape[1:] != (num_joints, 3):
        raise ValueError(
            f"{name} must have shape (B, {num_joints}, 3) or (B, {3 * num_joints}) axis-angle "
            f"(or a full SMPL pose (B, {NUM_JOINTS}, 3)), got {tuple(pose.shape)}"
        )
    if pose.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(pose.shape)})")
    check_tensor(pose, name)  # floating, finite
    return pose


def _check_latent(z: torch.Tensor, latent_dim: int, name: str = "z", model: nn.Module | None = None,
                  finite: bool = True) -> torch.Tensor:
    _require_tensor(z, name, f"(B, {latent_dim})")
    if z.ndim != 2 or z.shape[1] != latent_dim or z.shape[0] == 0:
        raise ValueError(f"{name} must have shape (B, {latent_dim}) with B >= 1, got {tuple(z.shape)}")
    check_tensor(z, name, finite=False)
    if model is not None:
        _check_model_input(model, name, z)
    if finite:
        check_tensor(z, name)
    return z


def _check_model_input(model: nn.Module, name: str, x: torch.Tensor) -> None:
    """``x`` must be on the model's device and have its dtype (before any finiteness check)."""
    p = next(model.parameters())
    check_same_device(p, "the VPoser", **{name: x})
    if x.dtype != p.dtype:
        raise ValueError(f"{name} has dtype {x.dtype} but the VPoser's weights are {p.dtype}; "
                         f"cast one of them ({name}.to({p.dtype}) or model.to({x.dtype}))")


def _is_plain(value: object) -> bool:
    """Plain values that ``torch.load(weights_only=True)`` reads back: numbers, strings, lists, dicts."""
    # exact types: numpy's float64 subclasses float but is pickled as a numpy object weights_only refuses
    if value is None or type(value) in (bool, int, float, str):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _is_plain(v) for k, v in value.items())
    return isinstance(value, torch.Tensor)


def _check_metadata(metadata: object, name: str = "metadata") -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise TypeError(f"{name} must be a dict of plain values; got {type(metadata).__name__}")
    bad = sorted(str(k) for k, v in metadata.items() if not _is_plain(v))
    if bad or not all(isinstance(k, str) for k in metadata):
        raise TypeError(f"{name} must hold plain values only (None, bool, int, float, str, lists, dicts, "
                        f"tensors; string keys), or the checkpoint cannot be read back with "
                        f"weights_only=True; offending entries: {bad or 'non-string keys'}")


def _check_vposer(model: object, name: str = "model") -> None:
    if not isinstance(model, VPoser):
        raise TypeError(f"{name} must be a humanlib.priors.vposer.VPoser (see load_vposer); got {type(model).__name__}")


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------


def _as_model_pose(model: VPoser, pose: torch.Tensor, name: str) -> torch.Tensor:
    """:func:`as_body_pose` plus the model's device and dtype (the device before the finiteness check)."""
    _require_tensor(pose, name, f"(B, {model.config.num_joints}, 3)")
    if pose.is_floating_point():
        _check_model_input(model, name, pose)
    return as_body_pose(pose, model.config.num_joints, name)


class VPoser(nn.Module):
    """The VPoser variational auto-encoder over the 21 body joints (see the module docstring).

    Args:
        config: Architecture sizes; the defaults are the published V02 ones.
    """

    def __init__(self, config: VPoserConfig | None = None) -> None:
        super().__init__()
        if config is not None and not isinstance(config, VPoserConfig):
            raise TypeError(f"config must be a VPoserConfig or None; got {type(config).__name__} "
                            "(build one with VPoserConfig(**fields))")
        self.config = config if config is not None else VPoserConfig()
        c = self.config
        n_in = 3 * c.num_joints
        # Encoder (names are the state-dict keys, checked when loading a checkpoint).
        self.enc_input_norm = nn.BatchNorm1d(n_in)
        self.enc_fc1 = nn.Linear(n_in, c.hidden)
        self.enc_hidden_norm = nn.BatchNorm1d(c.hidden)
        self.enc_dropout = nn.Dropout(c.dropout)
        self.enc_fc2 = nn.Linear(c.hidden, c.hidden)
        self.enc_fc3 = nn.Linear(c.hidden, c.hidden)
        self.enc_mean = nn.Linear(c.hidden, c.latent_dim)
        self.enc_scale = nn.Linear(c.hidden, c.latent_dim)
        # Decoder.
        self.dec_fc1 = nn.Linear(c.latent_dim, c.hidden)
        self.dec_dropout = nn.Dropout(c.dropout)
        self.dec_fc2 = nn.Linear(c.hidden, c.hidden)
        self.dec_out = nn.Linear(c.hidden, 6 * c.num_joints)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, pose: torch.Tensor) -> LatentGaussian:
        """``q(z | theta_b)``.

        Args:
            pose: ``(B, 21, 3)`` or ``(B, 63)`` axis-angle body pose (or a full ``(B, 24, 3)``
                SMPL pose, of which joints 1..21 are used).

        Returns:
            The Gaussian with ``mean`` and ``std`` of shape ``(B, latent_dim)``.

        Raises:
            ValueError: as :func:`as_body_pose`; a pose on another device or of another
                dtype than the model; a batch of one in training mode
                (``TypeError`` for an argument of the wrong type).
        """
        pose = _as_model_pose(self, pose, "pose")
        if self.training and pose.shape[0] < 2:
            raise ValueError(
                "VPoser.encode got a batch of 1 pose in training mode (BatchNorm needs >= 2); "
                "call model.eval() first"
            )
        slope = self.config.leaky_slope
        h = self.enc_fc1(self.enc_input_norm(pose.flatten(1)))
        h = self.enc_dropout(self.enc_hidden_norm(F.leaky_relu(h, slope)))
        h = self.enc_fc3(self.enc_fc2(h))  # two linear maps in a row, as in the published layout
        return LatentGaussian(mean=self.enc_mean(h), std=F.softplus(self.enc_scale(h)))

    def decode_6d(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder up to the 6D representation: ``(B, latent_dim) -> (B, 21, 6)``.

        Raises:
            ValueError: ``z`` is not a finite floating ``(B, latent_dim)`` tensor with
                ``B >= 1`` on the model's device and of its dtype (``TypeError`` for an argument of the wrong type).
        """
        return self._decode_6d(_check_latent(z, self.config.latent_dim, model=self))

    def _decode_6d(self, z: torch.Tensor) -> torch.Tensor:
        slope = self.config.leaky_slope
        h = self.dec_dropout(F.leaky_relu(self.dec_fc1(z), slope))
        h = F.leaky_relu(self.dec_fc2(h), slope)
        return self.dec_out(h).reshape(z.shape[0], self.config.num_joints, 6)

    def decode(self, z: torch.Tensor) -> DecodedPose:
        """``theta_b = decoder(z)``.

        Args:
            z: ``(B, latent_dim)`` latent codes.

        Returns:
            Rotation matrices ``(B, 21, 3, 3)`` (Gram–Schmidt of the 6D output) and axis-angle
            ``(B, 21, 3)``.

        Raises:
            ValueError: as :meth:`decode_6d` (``TypeError`` for an argument of the wrong type).
        """
        return self._decode(_check_latent(z, self.config.latent_dim, model=self))

    def _decode(self, z: torch.Tensor) -> DecodedPose:
        rotmat = rotations.rot6d_to_rotmat(self._decode_6d(z))
        return DecodedPose(rotmat=rotmat, pose=rotations.rotmat_to_axis_angle(rotmat))

    def forward(
        self, pose: torch.Tensor, sample: bool = True, generator: torch.Generator | None = None
    ) -> VPoserOutput:
        """Encode, draw ``z`` (or take the mean when ``sample`` is False) and decode.

        Args:
            pose: ``(B, 21, 3)`` or ``(B, 63)`` axis-angle body pose.
            sample: Reparameterised sample of ``z`` (training) or ``z = mean`` (reconstruction).
            generator: Optional generator for the sample's noise.

        Raises:
            ValueError: as :meth:`encode`; a ``generator`` on another device
                (``TypeError`` for an argument of the wrong type).
        """
        if not isinstance(sample, bool):
            raise TypeError(f"sample must be a bool; got {type(sample).__name__}")
        q = self.encode(pose)
        z = q.rsample(generator) if sample else q.mean
        return VPoserOutput(q=q, z=z, decoded=self.decode(z))

    @torch.no_grad()
    def sample(
        self, num: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> DecodedPose:
        """Draw ``num`` poses: ``z ~ N(0, temperature^2 I)``, decoded. The model is used as is
        (call ``eval()`` first to switch dropout off).

        Returns:
            A :class:`DecodedPose` with ``rotmat (num, 21, 3, 3)`` and ``pose (num, 21, 3)``.

        Raises:
            ValueError: ``num`` not a positive int, ``temperature`` not a finite number
                > 0, or a ``generator`` on another device than the model
                (``TypeError`` for an argument of the wrong type).
        """
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ValueError(f"num must be a positive int, got {num!r}")
        check_positive(temperature, "temperature")
        p = next(self.parameters())
        check_generator(generator, device=p.device)
        z = torch.randn((num, self.latent_dim), generator=generator, device=p.device, dtype=p.dtype)
        return self.decode(temperature * z)

    @torch.no_grad()
    def reconstruct(self, pose: torch.Tensor) -> DecodedPose:
        """Decode the encoder's mean: the auto-encoder's reconstruction of ``pose (B, 21, 3)``.

        Raises:
            ValueError: as :meth:`encode` (``TypeError`` for an argument of the wrong type).
        """
        return self.decode(self.encode(pose).mean)

    @torch.no_grad()
    def interpolate(self, pose_a: torch.Tensor, pose_b: torch.Tensor, steps: int = 8) -> DecodedPose:
        """Walk linearly in latent space between the encoder means of two (batches of) poses.

        Args:
            pose_a: ``(B, 21, 3)`` start poses.
            pose_b: ``(B, 21, 3)`` end poses.
            steps: Number of poses along the path, ends included (>= 2).

        Returns:
            A :class:`DecodedPose` with ``rotmat (steps, B, 21, 3, 3)`` and ``pose (steps, B, 21, 3)``.

        Raises:
            ValueError: ``steps`` not an int >= 2; poses as in :meth:`encode`, or of
                different shapes (``TypeError`` for an argument of the wrong type).
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise ValueError(f"steps must be an int >= 2, got {steps!r}")
        pose_a = _as_model_pose(self, pose_a, "pose_a")
        pose_b = _as_model_pose(self, pose_b, "pose_b")
        if pose_a.shape != pose_b.shape:
            raise ValueError(f"pose_a and pose_b must have the same shape, got {tuple(pose_a.shape)} and {tuple(pose_b.shape)}")
        za, zb = self.encode(pose_a).mean, self.encode(pose_b).mean
        t = torch.linspace(0, 1, steps, device=za.device, dtype=za.dtype)[:, None, None]
        z = ((1 - t) * za + t * zb).reshape(-1, self.latent_dim)
        out = self.decode(z)
        b = pose_a.shape[0]
        return DecodedPose(
            rotmat=out.rotmat.reshape(steps, b, self.config.num_joints, 3, 3),
            pose=out.pose.reshape(steps, b, self.config.num_joints, 3),
        )


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
            :meth:`VPoser.encode`, a negative ``epoch``, a ``body_forward`` that is not callable or
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
        ValueError: as :func:`as_body_pose` (``TypeError`` for an argument of the wrong type).
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


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def vposer_checkpoint(model: VPoser, metadata: dict | None = None) -> dict:
    """The checkpoint dictionary of ``model`` (float32 CPU tensors and plain values).

    Raises:
        TypeError: ``model`` is not a :class:`VPoser`, or ``metadata`` holds values that
            ``torch.load(weights_only=True)`` could not read back (paths, numpy arrays, objects).
    """
    _check_vposer(model)
    _check_metadata(metadata)
    # copy=True: the checkpoint never shares memory with the model (editing one leaves the other alone)
    state = {k: v.detach().to("cpu", torch.float32, copy=True) if v.is_floating_point() else v.detach().to("cpu", copy=True)
             for k, v in model.state_dict().items()}
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "config": asdict(model.config),
        "state_dict": state,
        "metadata": dict(metadata or {}),
    }


def save_vposer(model: VPoser, path: str | Path, metadata: dict | None = None) -> Path:
    """Write ``model`` as a checkpoint readable by :func:`load_vposer` (``metadata``: plain values only).

    Raises:
        TypeError: as :func:`vposer_checkpoint`, or ``path`` is not a path.
        IsADirectoryError: ``path`` is a folder.
    """
    path = check_output_file(path, "path", "the VPoser checkpoint", example="vposer.pt", create_parent=True)
    return save_atomically(vposer_checkpoint(model, metadata), path)  # an interrupted save never leaves a half-written file


def read_checkpoint_file(path: str | Path) -> dict:
    """``torch.load(path, weights_only=True)`` with errors that name the file and the reason.

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: no file at ``path`` (or a folder).
        ValueError: a corrupt or truncated file, one that needs unsafe unpickling (arbitrary
            objects, e.g. a PyTorch Lightning checkpoint), or one that holds no dictionary.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
    path = check_file(path, "checkpoint", _RETRAIN)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt zip, truncated file, disallowed pickle globals, ...
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # torch's message may hold terminal colour codes
        reason = f"{type(exc).__name__}: " + (re.split(r"(?<=failed)\.|\n", text)[0] if text else "no message")
        is_zip = zipfile.is_zipfile(path)
        if is_zip and _is_npz(path):
            raise ValueError(f"{path} is not a torch checkpoint but a numpy .npz archive (a GMM file? load it with "
                             f"humanlib.priors.gmm.load_gmm); {_RETRAIN}") from exc
        if is_zip and ("weights_only" in text.lower() or "weights only" in text.lower() or "Unsupported global" in text):
            what = ("it stores Python objects that weights_only loading refuses (a checkpoint of other "
                    "software, e.g. a PyTorch Lightning or human_body_prior file?)")
        else:
            what = "the file is corrupt or truncated (an interrupted copy or download?), or not a torch checkpoint"
        raise ValueError(f"{path} is not a readable torch checkpoint ({reason}); {what}; {_RETRAIN}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a {type(data).__name__}, expected a checkpoint dictionary; {_RETRAIN}")
    return data


def _is_npz(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return bool(names) and all(n.endswith(".npy") for n in names)


_RETRAIN = "write a VPoser checkpoint with `humanlib train-vposer --out DIR` (then use DIR/best.pt) or save_vposer"


def _foreign_checkpoint(data: dict, source: str) -> str | None:
    """A message for a checkpoint of something other than a humanlib VPoser, or None."""
    fmt = data.get("format")
    if isinstance(fmt, str) and "posendf" in fmt.lower():
        return (f"{source} is a Pose-NDF checkpoint (format {fmt!r}), not a VPoser one; load it with "
                f"humanlib.priors.posendf.load_posendf. For a VPoser checkpoint, {_RETRAIN}")
    if fmt == "humanlib.vposer-training":
        model = data.get("model")
        hint = "its 'model' entry is a VPoser checkpoint: vposer_from_checkpoint(data['model'])" if isinstance(model, dict) else ""
        return (f"{source} is a VPoser training state (last.pt of `humanlib train-vposer`), not a model "
                f"checkpoint; load best.pt from the same folder instead" + (f" ({hint})" if hint else ""))
    if "format" in data:
        return None
    keys = [str(k) for k in data]
    if "pytorch-lightning_version" in data or any(k.startswith("vp_model.") for k in keys) or any(
            isinstance(k, str) and k.startswith("vp_model.") for k in (data.get("state_dict") or {})):
        return (f"{source} looks like a VPoser v2 release checkpoint of human_body_prior (PyTorch Lightning "
                "layout); humanlib does not read that format or those licensed weights. Train humanlib's "
                f"own VPoser: {_RETRAIN}")
    if data and all(isinstance(v, torch.Tensor) for v in data.values()):
        ours = set(VPoser(VPoserConfig(hidden=1, latent_dim=1)).state_dict())  # key names only
        if set(keys) == ours:
            return (f"{source} is a bare VPoser state dict without its config, not a humanlib VPoser "
                    "checkpoint; load it with "
                    "model = VPoser(config); model.load_state_dict(torch.load(path)), then write a "
                    "checkpoint with save_vposer(model, path)")
        layout = (" (the key names of a human_body_prior VPoser v1/v2 snapshot)"
                  if any(k.startswith(("bodyprior_", "encoder_net", "decoder_net")) for k in keys) else "")
        return (f"{source} is a bare state dict{layout}, not a humanlib VPoser checkpoint (found keys "
                f"{sorted(keys)[:4]}...); humanlib reads only checkpoints written by save_vposer: {_RETRAIN}")
    return None


def vposer_from_checkpoint(data: dict, source: str = "checkpoint") -> tuple[VPoser, dict]:
    """Build a VPoser from a checkpoint dictionary, checking every key and shape.

    Returns:
        ``(model, metadata)``; the model is in eval mode.

    Raises:
        TypeError: ``data`` is not a dictionary.
        ValueError: Naming the missing / unexpected entries, config fields, tensor shapes, or
            non-finite weights; a checkpoint of another model (Pose-NDF, a training state, a bare
            or human_body_prior state dict) is named as such, with what to load instead.
    """
    if not isinstance(data, dict):
        raise TypeError(f"{source}: a checkpoint must be a dict (see read_checkpoint_file); got {type(data).__name__}")
    foreign = _foreign_checkpoint(data, source)
    if foreign:
        raise ValueError(foreign)
    required = {"format", "format_version", "config", "state_dict", "metadata"}
    missing = sorted(required - set(data))
    if missing:
        raise ValueError(
            f"{source} is not a humanlib VPoser checkpoint: missing entries {missing} "
            f"(found {sorted(map(str, data))[:8]}); {_RETRAIN}"
        )
    if data["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"{source} has format {data['format']!r}, expected {CHECKPOINT_FORMAT!r}")
    if data["format_version"] != CHECKPOINT_FORMAT_VERSION:
        raise ValueError(f"{source} has format_version {data['format_version']!r}, this code reads {CHECKPOINT_FORMAT_VERSION}")
    cfg = data["config"]
    known = {f.name for f in fields(VPoserConfig)}
    if not isinstance(cfg, dict) or set(cfg) != known:
        got = sorted(cfg) if isinstance(cfg, dict) else type(cfg).__name__
        raise ValueError(f"{source}: config fields {got} do not match VPoserConfig fields {sorted(known)}")
    try:
        model = VPoser(VPoserConfig(**cfg))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: invalid config {cfg}: {exc}") from exc
    expected = model.state_dict()
    state = data["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{source}: state_dict is a {type(state).__name__}, expected a dict of tensors")
    problems = []
    if sorted(set(expected) - set(state)):
        problems.append(f"missing keys {sorted(set(expected) - set(state))}")
    if sorted(set(state) - set(expected)):
        problems.append(f"unexpected keys {sorted(set(state) - set(expected))}")
    for key in sorted(set(expected) & set(state)):
        value = state[key]
        if not isinstance(value, torch.Tensor):
            problems.append(f"{key} is a {type(value).__name__}, not a tensor")
        elif value.shape != expected[key].shape:
            problems.append(f"{key} has shape {tuple(value.shape)}, the architecture expects {tuple(expected[key].shape)}")
    if problems:
        raise ValueError(f"{source} does not match the VPoser architecture {cfg}: " + "; ".join(problems))
    bad = sorted(k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all()))
    if bad:
        raise ValueError(f"{source}: weights {bad[:4]} hold NaN or inf (the training run diverged?); "
                         "retrain with a lower learning rate (`humanlib train-vposer --lr ...`)")
    if not isinstance(data["metadata"], dict):
        raise ValueError(f"{source}: metadata is a {type(data['metadata']).__name__}, expected a dict")
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, dict(data["metadata"])


def load_vposer(path: str | Path | None = None, device: str | torch.device = "cpu") -> VPoser:
    """Load a VPoser checkpoint (``None``: the committed open checkpoint ``vposer_open.pt``, or
    the user's own ``vposer/best.pt`` when ``HUMANLIB_PRIORS_DIR`` is set, see
    :func:`humanlib.paths.user_prior_file`).

    The file is read with ``torch.load(weights_only=True)``; keys and shapes must match exactly.
    The returned model is in eval mode; its training metadata is in ``model.metadata``.

    Raises:
        FileNotFoundError: No file at ``path``.
        ValueError: A corrupt file or a checkpoint of another architecture or model (the message
            names what mismatched and what to load instead); an unknown or unavailable ``device``.
    """
    resolve_device(device)
    if path is not None and not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str, Path or None; got {type(path).__name__}")
    if path is None:
        path = user_prior_file("vposer") or ASSETS_DIR / OPEN_CHECKPOINT_NAME
    path = Path(path)
    if not path.is_file() and path == ASSETS_DIR / OPEN_CHECKPOINT_NAME:
        raise FileNotFoundError(
            f"the committed VPoser checkpoint is missing ({path}); train one with "
            "`humanlib train-vposer --out DIR` and pass DIR/best.pt"
        )
    model, metadata = vposer_from_checkpoint(read_checkpoint_file(path), source=str(path))
    model.metadata = metadata
    return model.to(device)


# --------------------------------------------------------------------------------------------
# The prior for fitting: E_theta_b = ||z||^2
# --------------------------------------------------------------------------------------------


class VPoserPrior(nn.Module, PosePrior):
    """VPoser as the pose prior of SMPLify-X: ``E_theta_b(theta_b) = ||z||^2``.

    It implements :class:`humanlib.priors.PosePrior` with the *latent* parametrisation:
    the fitter optimises ``z`` (``(B, 32)``), the body pose is the decoder's output
    (:meth:`to_body_pose`) and the energy it adds is ``||z||^2`` (:meth:`params_energy`).
    :meth:`energy` scores a pose given directly, as ``||mu(theta_b)||^2`` through the encoder
    mean (used for tables, or by a fitter that stays in pose space).

    The network is frozen (no gradient to its weights, always in eval mode).

    Args:
        vposer: A trained VPoser; ``None`` loads the committed open checkpoint.
        init_zero: Start fits at ``z = 0`` (SMPLify-X's choice, the prior's mean pose) instead
            of the encoder mean of the initial pose.
    """

    name = "vposer"

    def __init__(self, vposer: VPoser | None = None, init_zero: bool = False) -> None:
        super().__init__()
        if vposer is not None:
            _check_vposer(vposer, "vposer")
        if not isinstance(init_zero, bool):
            raise TypeError(f"init_zero must be a bool; got {type(init_zero).__name__}")
        self.vposer = vposer if vposer is not None else load_vposer()
        self.init_zero = init_zero
        self.vposer.eval()
        for p in self.vposer.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> VPoserPrior:
        """Set the module's mode; the wrapped network stays in eval mode.

        Raises:
            TypeError: ``mode`` is not a bool.
        """
        if not isinstance(mode, bool):
            raise TypeError(f"mode must be a bool; got {type(mode).__name__}")
        super().train(mode)
        self.vposer.eval()  # the frozen network never uses dropout / batch statistics
        return self

    @property
    def latent_dim(self) -> int:
        return self.vposer.latent_dim

    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        """``||mu(theta_b)||^2`` through the encoder mean; ``(B, 21, 3) -> (B,)``, differentiable.

        Raises:
            ValueError: as :meth:`VPoser.encode` (``TypeError`` for an argument of the wrong type).
        """
        return self.vposer.encode(body_pose).mean.square().sum(-1)

    def init_params(self, body_pose: torch.Tensor) -> torch.Tensor:
        """Initial latent ``(B, 32)``: the encoder mean of ``body_pose (B, 21, 3)`` (or zeros).

        Raises:
            ValueError: as :meth:`VPoser.encode` (also with ``init_zero``)
                (``TypeError`` for an argument of the wrong type).
        """
        body_pose = _as_model_pose(self.vposer, body_pose, "body_pose")
        if self.init_zero:
            return body_pose.new_zeros(body_pose.shape[0], self.latent_dim)
        with torch.no_grad():
            return self.vposer.encode(body_pose).mean.clone()

    def to_body_pose(self, params: torch.Tensor) -> torch.Tensor:
        """Decoded body pose ``(B, 21, 3)`` of latent codes ``(B, 32)`` (differentiable in ``z``).

        Raises:
            ValueError: as :meth:`VPoser.decode_6d` (``TypeError`` for an argument of the wrong type).
        """
        _check_latent(params, self.latent_dim, "params", model=self.vposer, finite=False)  # decode checks values
        return self.vposer.decode(params).pose

    def params_energy(self, params: torch.Tensor) -> torch.Tensor:
        """``E_theta_b = ||z||^2``; ``(B, 32) -> (B,)``.

        Raises:
            ValueError: as :meth:`VPoser.decode_6d` (``TypeError`` for an argument of the wrong type).
        """
        return _check_latent(params, self.latent_dim, "params", model=self.vposer).square().sum(-1)

    def to_body_pose_unchecked(self, params: torch.Tensor) -> torch.Tensor:
        """:meth:`to_body_pose` without its checks (two host-device synchronisations a step saved)."""
        return self.vposer._decode(params).pose

    def params_energy_unchecked(self, params: torch.Tensor) -> torch.Tensor:
        """:meth:`params_energy` without its checks."""
        return params.square().sum(-1)

    def forward(self, body_pose: torch.Tensor) -> torch.Tensor:
        """:meth:`energy` (so the prior can be called like a module)."""
        return self.energy(body_pose)
