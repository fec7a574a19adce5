"""VPoser's network: a variational auto-encoder over the 21 body joints' rotations.

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

The training losses are in :mod:`humanlib.priors.vposer_loss`, checkpoints in
:mod:`humanlib.priors.vposer_checkpoint` and the fitting prior in :mod:`humanlib.priors.vposer`
(which also re-exports every public name of the three).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from humanlib import rotations
from humanlib._validate import check_generator, check_positive, check_same_device, check_tensor
from humanlib.priors import _require_tensor
from humanlib.skeleton import BODY_JOINTS, NUM_BODY_JOINTS, NUM_JOINTS


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
