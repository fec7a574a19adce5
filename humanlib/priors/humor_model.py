"""HuMoR's transition model: a conditional VAE over ``x_{t-1} -> x_t`` with a learned conditional prior.

Rempe et al. (ICCV 2021) model a motion as a chain of transitions. For each one:

* the **encoder** (posterior) ``q(z | x_{t-1}, x_t) = N(mu_q, diag sigma_q^2)``;
* the **learned conditional prior** ``p(z | x_{t-1}) = N(mu_p, diag sigma_p^2)``: where, given the
  previous state alone, the latent of a plausible next step lies (a standard normal
  ``N(0, I)`` is the ablation the chapter compares against);
* the **decoder** ``x_t = x_{t-1} + Delta(z, x_{t-1})`` and contact probabilities ``c_t``.

Every transition is computed in the **heading frame** of ``x_{t-1}`` (:func:`to_heading_frame`):
the origin under the previous root, rotated about the up axis so that the previous root faces
+z. A step forward looks the same wherever and whichever way the person walks.

Numerics: the state's parts differ in scale by orders of magnitude (metres, m/s, 6D entries), so
the inputs and the change ``Delta`` are standardised by statistics of the training data, held as
buffers (saved in the checkpoint). Log-variances are clamped to ``[-LOGVAR_LIMIT, LOGVAR_LIMIT]``:
unclamped, they drift to -59 / +110 in training, where ``exp`` under- or overflows and the KL is NaN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from humanlib._validate import check_generator, check_positive, check_tensor
from humanlib.body import SkeletonJoints
from humanlib.priors.humor_state import (
    CONTACT_JOINTS, NUM_STATE_JOINTS, STATE_DIM, STATE_SLICES, UP_AXIS, _rot6d, _rotmat_from_6d,
)
from humanlib.rotations import _quat_to_axis_angle, _rotmat_to_quat
from humanlib.skeleton import NUM_BODY_JOINTS, NUM_JOINTS

#: Log-variances are clamped to +- this (exp(8) ~ 3000, exp(-8) ~ 3e-4).
LOGVAR_LIMIT = 8.0
NUM_CONTACTS = len(CONTACT_JOINTS)


@dataclass
class HumorConfig:
    """Sizes of the three networks (HuMoR: latent 48, hidden 1024, 5 layers; ours is smaller for the CPU).

    Attributes:
        latent_dim: size of ``z``.
        hidden: width of every hidden layer.
        layers: hidden layers per network.
        fps: frame rate of the states (velocities are per second).
    """

    latent_dim: int = 32
    hidden: int = 256
    layers: int = 2
    fps: float = 30.0

    def __post_init__(self) -> None:
        """Raises ``TypeError``/``ValueError`` for a size that is not a positive integer or a bad ``fps``."""
        for name in ("latent_dim", "hidden", "layers"):
            check_positive(getattr(self, name), name, integer=True)
        check_positive(self.fps, "fps")


@dataclass
class TransitionOutput:
    """One transition through :meth:`HumorModel.forward`, in standardised heading-frame units.

    Attributes:
        delta: ``(B, STATE_DIM)`` decoded change of state (standardised).
        target: ``(B, STATE_DIM)`` the true change (standardised).
        contact_logits: ``(B, NUM_CONTACTS)``.
        q_mu, q_logvar: the posterior's parameters ``(B, latent_dim)`` (log-variances clamped).
        p_mu, p_logvar: the learned prior's parameters ``(B, latent_dim)``.
    """

    delta: Tensor
    target: Tensor
    contact_logits: Tensor
    q_mu: Tensor
    q_logvar: Tensor
    p_mu: Tensor
    p_logvar: Tensor


def _mlp(inp: int, hidden: int, layers: int, out: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(inp if i == 0 else hidden, hidden), nn.GELU()]
    mods.append(nn.Linear(hidden, out))
    return nn.Sequential(*mods)


def gaussian_kl(q_mu: Tensor, q_logvar: Tensor, p_mu: Tensor, p_logvar: Tensor) -> Tensor:
    """``KL(N(q_mu, e^q_logvar) || N(p_mu, e^p_logvar))`` summed over the last dimension.

    Args:
        q_mu, q_logvar, p_mu, p_logvar: ``(..., Z)`` tensors of one shape.

    Returns:
        ``(...)`` the KL divergence of each row (>= 0).

    Raises:
        TypeError, ValueError: not tensors of one shape; NaN/inf values.
    """
    q_mu = check_tensor(q_mu, "q_mu", (..., None))
    for name, x in (("q_logvar", q_logvar), ("p_mu", p_mu), ("p_logvar", p_logvar)):
        check_tensor(x, name, tuple(q_mu.shape))
    return _gaussian_kl(q_mu, q_logvar, p_mu, p_logvar)


def _gaussian_kl(q_mu: Tensor, q_logvar: Tensor, p_mu: Tensor, p_logvar: Tensor) -> Tensor:
    return 0.5 * (p_logvar - q_logvar + (q_logvar.exp() + (q_mu - p_mu) ** 2) / p_logvar.exp() - 1).sum(-1)


def _heading(state: Tensor) -> tuple[Tensor, Tensor]:
    """cos and sin of the yaw of the root's forward (+z) axis, about the up (y) axis."""
    R = _rotmat_from_6d(state[..., STATE_SLICES["root_orient"]])
    f = R[..., :, 2]
    yaw = torch.atan2(f[..., 0], f[..., 2])
    return torch.cos(yaw), torch.sin(yaw)


def _rotate_y(v: Tensor, c: Tensor, s: Tensor) -> Tensor:
    """Rotate ``(..., K, 3)`` vectors about y by the angle with cosine ``c`` and sine ``s`` (``(...)``)."""
    c, s = c[..., None], s[..., None]
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return torch.stack([c * x + s * z, y, -s * x + c * z], -1)


def _transform(state: Tensor, c: Tensor, s: Tensor, origin: Tensor, inverse: bool) -> Tensor:
    out = state.clone()
    for name in ("trans", "trans_vel", "root_orient", "root_ang_vel", "joints", "joints_vel"):
        sl = STATE_SLICES[name]
        v = state[..., sl].unflatten(-1, (-1, 3))
        if inverse:
            v = _rotate_y(v, c, -s)
            if name in ("trans", "joints"):
                v = v + origin[..., None, :]
        else:
            if name in ("trans", "joints"):
                v = v - origin[..., None, :]
            v = _rotate_y(v, c, s)
        out[..., sl] = v.flatten(-2)
    return out


def to_heading_frame(reference: Tensor, state: Tensor) -> Tensor:
    """``state`` seen from ``reference``'s heading frame: origin below its root, its root facing +z.

    Args:
        reference: ``(..., STATE_DIM)`` the state whose frame is used (``x_{t-1}``).
        state: ``(..., STATE_DIM)`` the state to express (same leading dims).

    Returns:
        ``(..., STATE_DIM)``; :func:`from_heading_frame` inverts it.

    Raises:
        TypeError, ValueError: not ``(..., STATE_DIM)`` tensors of one shape, or NaN/inf.
    """
    reference = check_tensor(reference, "reference", (..., STATE_DIM))
    check_tensor(state, "state", tuple(reference.shape))
    return _to_heading(reference, state)


def _origin(reference: Tensor) -> Tensor:
    o = reference[..., STATE_SLICES["trans"]].clone()
    o[..., UP_AXIS] = 0.0
    return o


def _to_heading(reference: Tensor, state: Tensor) -> Tensor:
    c, s = _heading(reference)
    return _transform(state, c, -s, _origin(reference), inverse=False)


def from_heading_frame(reference: Tensor, local: Tensor) -> Tensor:
    """Inverse of :func:`to_heading_frame`: a state in ``reference``'s heading frame back in the world.

    Raises:
        TypeError, ValueError: not ``(..., STATE_DIM)`` tensors of one shape, or NaN/inf.
    """
    reference = check_tensor(reference, "reference", (..., STATE_DIM))
    check_tensor(local, "local", tuple(reference.shape))
    return _from_heading(reference, local)


def _from_heading(reference: Tensor, local: Tensor) -> Tensor:
    c, s = _heading(reference)
    return _transform(local, c, -s, _origin(reference), inverse=True)


class HumorModel(nn.Module):
    """The transition model (see the module docstring): encoder, learned prior, decoder.

    Args:
        config: the sizes (:class:`HumorConfig`).
        joints_model: forward kinematics of the body model the states were computed on; a rollout
            recomputes joints and velocities of each decoded pose with it (kept consistent).

    Buffers ``state_mean``/``state_std`` (of heading-frame previous states) and
    ``delta_mean``/``delta_std`` (of heading-frame changes) standardise inputs and outputs; set them
    from training data with :meth:`set_normalization`.
    """

    def __init__(self, config: HumorConfig, joints_model: SkeletonJoints) -> None:
        super().__init__()
        if not isinstance(config, HumorConfig):
            raise TypeError(f"config must be a HumorConfig; got {type(config).__name__}")
        if not isinstance(joints_model, SkeletonJoints):
            raise TypeError(f"joints_model must be a humanlib.body.SkeletonJoints; got {type(joints_model).__name__}")
        self.config = config
        self.joints_model = joints_model
        D, Z, H, L = STATE_DIM, config.latent_dim, config.hidden, config.layers
        self.encoder = _mlp(2 * D, H, L, 2 * Z)
        self.prior = _mlp(D, H, L, 2 * Z)
        self.decoder = _mlp(Z + D, H, L, D + NUM_CONTACTS)
        for name in ("state_mean", "delta_mean"):
            self.register_buffer(name, torch.zeros(D))
        for name in ("state_std", "delta_std"):
            self.register_buffer(name, torch.ones(D))

    # ------------------------------------------------------------------ pieces
    def set_normalization(self, prev: Tensor, cur: Tensor) -> None:
        """Set the standardisation buffers from training transitions ``prev -> cur`` (``(N, STATE_DIM)``, N >= 2).

        Raises:
            TypeError, ValueError: not two ``(N, STATE_DIM)`` tensors with N >= 2, or NaN/inf.
        """
        prev = check_tensor(prev, "prev", (None, STATE_DIM))
        check_tensor(cur, "cur", tuple(prev.shape))
        if prev.shape[0] < 2:
            raise ValueError(f"set_normalization needs at least 2 transitions; got {prev.shape[0]}")
        with torch.no_grad():
            lp = _to_heading(prev, prev)
            d = _to_heading(prev, cur) - lp
            self.state_mean.copy_(lp.mean(0))
            self.state_std.copy_(lp.std(0).clamp_min(1e-3))
            self.delta_mean.copy_(d.mean(0))
            self.delta_std.copy_(d.std(0).clamp_min(1e-4))

    def _split(self, h: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = h.chunk(2, -1)
        return mu, logvar.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)

    def _prev_features(self, prev: Tensor) -> Tensor:
        return (_to_heading(prev, prev) - self.state_mean) / self.state_std

    def prior_params(self, prev: Tensor) -> tuple[Tensor, Tensor]:
        """The learned prior ``p(z | x_{t-1})``: ``(mu, logvar)``, each ``(B, latent_dim)``.

        Raises:
            TypeError, ValueError: ``prev`` not a ``(B, STATE_DIM)`` tensor of the model's dtype, or NaN/inf.
        """
        self._check(prev, "prev")
        return self._split(self.prior(self._prev_features(prev)))

    def forward(self, prev: Tensor, cur: Tensor, generator: torch.Generator | None = None) -> TransitionOutput:
        """Encode ``prev -> cur``, draw ``z ~ q`` (reparameterised), decode; ``(B, STATE_DIM)`` each.

        Raises:
            TypeError, ValueError: not two ``(B, STATE_DIM)`` tensors of the model's dtype; NaN/inf;
                a bad ``generator``.
        """
        self._check(prev, "prev")
        self._check(cur, "cur", prev.shape[0])
        check_generator(generator)
        return self._forward(prev, cur, generator)

    def _forward(self, prev: Tensor, cur: Tensor, generator: torch.Generator | None = None) -> TransitionOutput:
        f_prev = self._prev_features(prev)
        f_cur = (_to_heading(prev, cur) - self.state_mean) / self.state_std
        target = (_to_heading(prev, cur) - _to_heading(prev, prev) - self.delta_mean) / self.delta_std
        q_mu, q_logvar = self._split(self.encoder(torch.cat([f_prev, f_cur], -1)))
        p_mu, p_logvar = self._split(self.prior(f_prev))
        eps = torch.randn(q_mu.shape, generator=generator, dtype=q_mu.dtype, device=q_mu.device)
        z = q_mu + eps * (0.5 * q_logvar).exp()
        out = self.decoder(torch.cat([z, f_prev], -1))
        return TransitionOutput(out[:, :STATE_DIM], target, out[:, STATE_DIM:], q_mu, q_logvar, p_mu, p_logvar)

    def decode(self, prev: Tensor, z: Tensor, consistent: bool = True) -> tuple[Tensor, Tensor]:
        """The next state from ``prev`` (``(B, STATE_DIM)``) and a latent ``z`` (``(B, latent_dim)``).

        Args:
            consistent: recompute the joints by forward kinematics of the decoded pose and every
                velocity by a backward difference from ``prev`` (a rollout stays a body motion);
                otherwise the decoded numbers as they are.

        Returns:
            ``(next state (B, STATE_DIM), contact probabilities (B, NUM_CONTACTS))``.

        Raises:
            TypeError, ValueError: wrong shapes or dtype, NaN/inf inputs.
        """
        self._check(prev, "prev")
        check_tensor(z, "z", (prev.shape[0], self.config.latent_dim), dtype=prev.dtype)
        return self._decode(prev, z, consistent)

    def _decode(self, prev: Tensor, z: Tensor, consistent: bool) -> tuple[Tensor, Tensor]:
        out = self.decoder(torch.cat([z, self._prev_features(prev)], -1))
        delta = out[:, :STATE_DIM] * self.delta_std + self.delta_mean
        nxt = _from_heading(prev, _to_heading(prev, prev) + delta)
        contacts = torch.sigmoid(out[:, STATE_DIM:])
        return (self._make_consistent(prev, nxt) if consistent else nxt), contacts

    def _make_consistent(self, prev: Tensor, nxt: Tensor) -> Tensor:
        fps = self.config.fps
        S = STATE_SLICES
        R_root = _rotmat_from_6d(nxt[:, S["root_orient"]])
        R_body = _rotmat_from_6d(nxt[:, S["body_pose"]].unflatten(-1, (NUM_BODY_JOINTS, 6)))
        hands = torch.eye(3, dtype=nxt.dtype, device=nxt.device).expand(nxt.shape[0], NUM_JOINTS - 1 - NUM_BODY_JOINTS, 3, 3)
        R = torch.cat([R_root[:, None], R_body, hands], 1)
        trans = nxt[:, S["trans"]]
        jm = self.joints_model
        rest = jm._rest_joints(nxt.new_zeros(nxt.shape[0], jm.num_betas))
        # forward kinematics straight from the decoded rotations (no axis-angle round trip)
        J = (jm._plan.posed_joints(R, rest) + trans[:, None])[:, :NUM_STATE_JOINTS].flatten(-2)
        R_prev = _rotmat_from_6d(prev[:, S["root_orient"]])
        omega = _quat_to_axis_angle(_rotmat_to_quat(R_root @ R_prev.transpose(-1, -2))) * fps
        return torch.cat([trans, (trans - prev[:, S["trans"]]) * fps, _rot6d(R_root), omega,
                          _rot6d(R_body).flatten(-2), J, (J - prev[:, S["joints"]]) * fps], -1)

    def sample_latent(self, prev: Tensor, learned_prior: bool = True, generator: torch.Generator | None = None) -> Tensor:
        """Draw ``z`` for a step from ``prev``: from the learned prior, or from ``N(0, I)``.

        Raises:
            TypeError, ValueError: bad ``prev`` or ``generator``.
        """
        self._check(prev, "prev")
        check_generator(generator)
        return self._sample_latent(prev, learned_prior, generator)

    def _sample_latent(self, prev: Tensor, learned_prior: bool, generator: torch.Generator | None) -> Tensor:
        eps = torch.randn((prev.shape[0], self.config.latent_dim), generator=generator, dtype=prev.dtype,
                          device=prev.device)
        if not learned_prior:
            return eps
        mu, logvar = self._split(self.prior(self._prev_features(prev)))
        return mu + eps * (0.5 * logvar).exp()

    @torch.no_grad()
    def rollout(self, start: Tensor, num_frames: int, learned_prior: bool = True,
                generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Sample a motion: ``num_frames`` steps from ``start`` (``(B, STATE_DIM)``), latents from the prior.

        Returns:
            ``(states (B, num_frames + 1, STATE_DIM), contacts (B, num_frames, NUM_CONTACTS))``;
            ``states[:, 0]`` is ``start``. A step that leaves the finite numbers stays NaN from
            there on (the rollout does not stop; the evaluation counts finite frames).

        Raises:
            TypeError, ValueError: bad ``start``, ``num_frames`` not a positive integer, bad ``generator``.
        """
        self._check(start, "start")
        check_positive(num_frames, "num_frames", integer=True)
        check_generator(generator)
        states, contacts = [start], []
        x = start
        for _ in range(num_frames):
            bad = ~torch.isfinite(x).all(-1)  # a row that left the finite numbers: compute on start, report NaN
            x = torch.where(bad[:, None], start, x)
            nxt, c = self._decode(x, self._sample_latent(x, learned_prior, generator), True)
            nxt = torch.where(bad[:, None], float("nan"), nxt)
            c = torch.where(bad[:, None], float("nan"), c)
            x = nxt
            states.append(x)
            contacts.append(c)
        return torch.stack(states, 1), torch.stack(contacts, 1)

    def _check(self, x: object, name: str, batch: int | None = None) -> None:
        check_tensor(x, name, (batch, STATE_DIM), dtype=self.state_mean.dtype,
                     hint="one state per row (humanlib.priors.humor_state.motion_to_state)")
        if x.device != self.state_mean.device:
            raise ValueError(f"{name} is on {x.device}, the model on {self.state_mean.device}; move one with .to()")


def config_dict(config: HumorConfig) -> dict:
    """The config as plain values (what a checkpoint stores).

    Raises:
        TypeError: ``config`` is not a :class:`HumorConfig`.
    """
    if not isinstance(config, HumorConfig):
        raise TypeError(f"config must be a HumorConfig; got {type(config).__name__}")
    return asdict(config)


__all__ = ["HumorConfig", "HumorModel", "LOGVAR_LIMIT", "NUM_CONTACTS", "TransitionOutput", "config_dict",
           "from_heading_frame", "gaussian_kl", "to_heading_frame"]
