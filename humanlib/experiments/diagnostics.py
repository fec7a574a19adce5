"""Short diagnostics of a prior, to explain why it helps or not in the motion experiments.

Two questions, both asked through the :class:`humanlib.priors.PosePrior` interface only:

* **Does the prior rank clean poses above noisy ones?** (``energy_separation``) The
  fit can only be pulled towards the clean motion if the prior's energy is lower there.
* **Where does the rest pose stand?** (``rest_pose_rank``) Fits that start from the rest
  pose (joint noise, occlusion) leave hidden or ambiguous joints there unless the prior pushes
  them away; it does so only if it scores the rest pose as less plausible than real poses.
* **Can the prior's parametrisation express the clean poses?** (``parametrisation_error``)
  A latent prior (VPoser) fits ``z``, so the fit is limited to decoded poses; the angle between
  a test pose and ``to_body_pose(init_params(pose))`` bounds how close it can get.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from humanlib._validate import check_generator, check_positive, check_tensor
from humanlib.priors import PosePrior
from humanlib.rotations import axis_angle_to_rotmat, rotmat_geodesic_distance
from humanlib.skeleton import NUM_BODY_JOINTS


def _check_inputs(prior: object, body_pose: object) -> None:
    if not isinstance(prior, PosePrior):
        raise TypeError(f"prior must be a humanlib.priors.PosePrior; got {type(prior).__name__}")
    check_tensor(body_pose, "body_pose", (None, NUM_BODY_JOINTS, 3), nonempty=True,
                 hint="(poses, body joints 1..21, axis-angle)")
    if body_pose.device.type == "meta":
        raise ValueError("body_pose is on the meta device (it holds no data); give poses on the prior's device")


@dataclass
class Separation:
    """Energies of clean and noisy versions of the same poses.

    Attributes:
        sigma: the axis-angle noise (radians).
        clean_mean: mean energy of the clean poses.
        noisy_mean: mean energy of the noisy poses.
        fraction_clean_lower: fraction of poses whose clean version has the lower energy.
    """

    sigma: float
    clean_mean: float
    noisy_mean: float
    fraction_clean_lower: float


def energy_separation(prior: PosePrior, body_pose: torch.Tensor, sigma: float,
                      generator: torch.Generator, chunk: int = 2048) -> Separation:
    """Compare the prior's energy on clean body poses and on the same poses with noise.

    Args:
        prior: the prior.
        body_pose: ``(N, 21, 3)`` clean body poses.
        sigma: Gaussian noise (radians) on each axis-angle number.
        generator: seeded random source.
        chunk: poses per energy call.

    Raises:
        TypeError: ``prior``, ``body_pose`` or ``generator`` of the wrong type.
        ValueError: ``body_pose`` not a finite floating ``(N, 21, 3)`` tensor with ``N >= 1``,
            ``sigma`` not a number >= 0, ``chunk`` not an integer >= 1.
    """
    _check_inputs(prior, body_pose)
    check_positive(sigma, "sigma", allow_zero=True)
    check_generator(generator, optional=False, device="cpu", why="the noise is drawn on the CPU, then moved")
    check_positive(chunk, "chunk", integer=True)
    noise = torch.randn(body_pose.shape, generator=generator, dtype=body_pose.dtype).to(body_pose.device)
    noisy = body_pose + sigma * noise
    clean_e, noisy_e = [], []
    with torch.no_grad():
        for i in range(0, body_pose.shape[0], chunk):
            clean_e.append(prior.energy(body_pose[i:i + chunk]))
            noisy_e.append(prior.energy(noisy[i:i + chunk]))
    c, n = torch.cat(clean_e), torch.cat(noisy_e)
    return Separation(sigma, float(c.mean()), float(n.mean()), float((c < n).float().mean()))


def rest_pose_rank(prior: PosePrior, body_pose: torch.Tensor) -> float:
    """Fraction of the body poses ``(N, 21, 3)`` whose energy is *lower* than the rest pose's.

    Near 0: the prior finds the rest pose more plausible than nearly every real pose, so it
    does not pull a fit away from a rest-pose initialisation.

    Raises:
        TypeError: ``prior`` is not a ``PosePrior`` or ``body_pose`` not a tensor.
        ValueError: ``body_pose`` not a finite floating ``(N, 21, 3)`` tensor with ``N >= 1``
            (a mean over no pose is undefined), or on the meta device.
    """
    _check_inputs(prior, body_pose)
    with torch.no_grad():
        rest = prior.energy(body_pose.new_zeros(1, *body_pose.shape[1:]))
        energies = prior.energy(body_pose)
    return float((energies < rest).float().mean())


def parametrisation_error(prior: PosePrior, body_pose: torch.Tensor) -> float:
    """Mean angle (degrees) between body poses ``(N, 21, 3)`` and the poses the prior's
    parametrisation gives back from them, ``to_body_pose(init_params(pose))``.

    Zero for pose-space priors; VPoser's autoencoding error for the latent one.

    Raises:
        TypeError: ``prior`` is not a ``PosePrior`` or ``body_pose`` not a tensor.
        ValueError: ``body_pose`` not a finite floating ``(N, 21, 3)`` tensor with ``N >= 1``
            (a mean over no pose is undefined), or on the meta device.
    """
    _check_inputs(prior, body_pose)
    with torch.no_grad():
        back = prior.to_body_pose(prior.init_params(body_pose))
    angle = rotmat_geodesic_distance(axis_angle_to_rotmat(back), axis_angle_to_rotmat(body_pose))
    return float(torch.rad2deg(angle).mean())


@dataclass
class LatentFitRun:
    """One latent fit of ``latent_fit_study``.

    Attributes:
        latent_init: where ``z`` started (``MotionFitConfig.latent_init``).
        latent_iterations: the L-BFGS budget of the full energy in ``z``.
        v2v_cm: per-vertex error against the clean windows.
        energy: final total energy.
        evaluations: energy evaluations used.
    """

    latent_init: str
    latent_iterations: int
    v2v_cm: float
    energy: float
    evaluations: int


def latent_fit_study(model, prior: PosePrior, windows, observation, config,
                     settings: tuple[tuple[str, int], ...] = (("encoder", 40), ("encoder", 300), ("pose-fit", 300)),
                     ) -> list[LatentFitRun]:
    """Fit the same observation with a latent prior from several starts and budgets.

    Separates the two reasons a fit in VPoser's ``z`` can end far from the data: the
    optimiser (an under-converged fit improves with its budget and its start) and the
    decoder's range (compare with :func:`~humanlib.experiments.parametrisation_error`).

    Args:
        model: the body model.
        prior: a latent prior (VPoser's :class:`~humanlib.priors.vposer.VPoserPrior`).
        windows: the clean :class:`~humanlib.experiments.Windows`.
        observation: their :class:`~humanlib.experiments.Observation`.
        config: the :class:`~humanlib.experiments.MotionFitConfig` (weights,
            warm-up); each setting replaces its ``latent_init`` and ``latent_iterations``.
        settings: ``(latent_init, latent_iterations)`` pairs.

    Returns:
        one ``LatentFitRun`` per setting, in order.

    Raises:
        TypeError: ``prior`` is not a latent :class:`~humanlib.priors.PosePrior`, ``config`` not a
            ``MotionFitConfig``.
        ValueError: an unknown ``latent_init``, a budget < 1, and what
            :func:`~humanlib.experiments.fit_motion` refuses.
    """
    from dataclasses import replace

    from humanlib.experiments.motion_fit import MotionFitConfig, fit_motion
    from humanlib.experiments.protocol import sequence_errors
    from humanlib.priors import is_latent_prior

    if not isinstance(prior, PosePrior) or not is_latent_prior(prior):
        raise TypeError(f"prior must be a latent PosePrior (such as VPoserPrior); got {type(prior).__name__}")
    if not isinstance(config, MotionFitConfig):
        raise TypeError(f"config must be a MotionFitConfig; got {type(config).__name__}")
    runs = []
    for start, budget in settings:
        check_positive(budget, "latent_iterations of a setting", integer=True)
        cfg = replace(config, latent_init=start, latent_iterations=budget)
        fit = fit_motion(model, prior, observation.joints, observation.mask, observation.init_body_pose, cfg)
        err = sequence_errors(model, fit.poses, fit.transl, fit.betas, windows)
        runs.append(LatentFitRun(start, budget, err.v2v_cm, fit.energy, fit.evaluations))
    return runs


@dataclass
class EncoderRobustness:
    """How a latent prior's encoder treats a pose with noise (:func:`~humanlib.experiments.encoder_robustness`).

    Attributes:
        sigma: axis-angle noise added to the clean poses (rad).
        input_deg: mean angle per joint of the noisy poses from the clean ones.
        z_norm: mean ``|z|`` of the encoder mean of the noisy poses (``N(0, I)`` in
            ``d`` dimensions has ``|z|`` near ``sqrt(d)``).
        encoder_deg: mean angle per joint of ``decode(encode(noisy))`` from the clean poses.
        projected_z_norm, projected_deg: the same for
            :func:`~humanlib.experiments.project_to_latent` of the noisy poses.
    """

    sigma: float
    input_deg: float
    z_norm: float
    encoder_deg: float
    projected_z_norm: float
    projected_deg: float


def encoder_robustness(prior: PosePrior, body_pose: torch.Tensor, sigmas: tuple[float, ...],
                       generator: torch.Generator, projection_iterations: int = 100,
                       projection_weight: float = 0.01) -> list[EncoderRobustness]:
    """Encode clean poses with axis-angle noise and decode them again, per noise level.

    A fit in a latent space starts from a code. If the encoder maps a slightly noisy pose to a
    code far outside ``N(0, I)`` that decodes to another pose, the fit starts far away; the
    projection onto the decoder's range does not depend on the encoder being right.

    Raises:
        TypeError: ``prior`` is not a latent :class:`~humanlib.priors.PosePrior`, ``body_pose`` not a tensor,
            ``generator`` not a ``torch.Generator``.
        ValueError: ``body_pose`` not ``(N, 21, 3)``, a ``sigma`` < 0, ``projection_iterations``
            or ``projection_weight`` < 0.
    """
    from humanlib.experiments.motion_fit import project_to_latent
    from humanlib.priors import is_latent_prior

    _check_inputs(prior, body_pose)
    if not is_latent_prior(prior):
        raise TypeError(f"prior must be a latent PosePrior (such as VPoserPrior); got {type(prior).__name__}")
    check_generator(generator, optional=False, device="cpu", why="the noise is drawn on the CPU, then moved")
    if isinstance(sigmas, (int, float)) or not sigmas:
        raise ValueError(f"sigmas must be a non-empty tuple of noise levels, got {sigmas!r}")
    for sigma in sigmas:
        check_positive(sigma, "sigma", allow_zero=True)
    clean = axis_angle_to_rotmat(body_pose)
    deg = lambda pose: float(torch.rad2deg(rotmat_geodesic_distance(axis_angle_to_rotmat(pose), clean)).mean())
    out = []
    for sigma in sigmas:
        noise = torch.randn(body_pose.shape, generator=generator, dtype=body_pose.dtype).to(body_pose.device)
        noisy = body_pose + sigma * noise
        with torch.no_grad():
            z = prior.init_params(noisy)
            encoded = prior.to_body_pose(z)
        zp = project_to_latent(prior, noisy, projection_iterations, projection_weight)
        with torch.no_grad():
            projected = prior.to_body_pose(zp)
        out.append(EncoderRobustness(float(sigma), deg(noisy), float(z.norm(dim=-1).mean()), deg(encoded),
                                     float(zp.norm(dim=-1).mean()), deg(projected)))
    return out


__all__ = ["EncoderRobustness", "LatentFitRun", "Separation", "encoder_robustness", "energy_separation",
           "latent_fit_study", "parametrisation_error", "rest_pose_rank"]


@dataclass
class WeightCurve:
    """The val error of one (condition, prior) along its prior-weight grid, as ``experiment tune`` tried it.

    Attributes:
        condition: the experiment condition.
        prior: the prior's name.
        smooth_weight: the smoothing weight the curve was tried at.
        weights: the prior weights tried, ascending.
        val_cm: the val per-vertex error (cm) at each weight.
        none_cm: the val error without a prior (at its own chosen smoothing weight).
        best_weight: the weight of the lowest val error.
        gain: ``1 - best / none``: the fraction of the no-prior error the best weight removes.
        sharpness: val error at the best weight's grid neighbours over the best's, the larger
            of the two; a large value means the choice sits on a narrow minimum, so a different
            split (test) can fall on either side of it.
        flatness: the largest ``|1 - error / none|`` below the best weight; near 0 means the
            prior's term changes nothing until its weight is large enough to hurt.
    """

    condition: str
    prior: str
    smooth_weight: float
    weights: list[float]
    val_cm: list[float]
    none_cm: float
    best_weight: float
    gain: float
    sharpness: float
    flatness: float


def weight_curve(tried: list, condition: str, prior: str) -> WeightCurve:
    """Summarise the val curve of one prior on one condition from ``experiment tune``'s tried list.

    Args:
        tried: the :class:`humanlib.experiments.results.WeightChoice` rows of a weights file's
            ``tried`` list (every weight the tuning ran, with its val error).
        condition: the condition to summarise.
        prior: a prior other than ``none``.

    Raises:
        ValueError: no row for ``none`` or for the prior on that condition.
    """
    from humanlib.experiments.results import WeightChoice

    if not isinstance(tried, list) or not all(isinstance(t, WeightChoice) for t in tried):
        raise TypeError("tried must be a list of WeightChoice (the 'tried' rows of a weights file)")
    none = [t for t in tried if t.condition == condition and t.prior == "none"]
    rows = sorted((t for t in tried if t.condition == condition and t.prior == prior), key=lambda t: t.prior_weight)
    if not none or not rows or prior == "none":
        raise ValueError(f"no tuning rows for prior {prior!r} and 'none' on condition {condition!r}; "
                         "rerun `humanlib experiment tune` with that prior and condition")
    none_cm = min(t.val_v2v_cm for t in none)
    errors = [t.val_v2v_cm for t in rows]
    i = min(range(len(rows)), key=errors.__getitem__)
    neighbours = [errors[j] for j in (i - 1, i + 1) if 0 <= j < len(rows)]
    return WeightCurve(
        condition=condition, prior=prior, smooth_weight=rows[i].smooth_weight,
        weights=[t.prior_weight for t in rows], val_cm=errors, none_cm=none_cm,
        best_weight=rows[i].prior_weight, gain=1.0 - errors[i] / none_cm,
        sharpness=max(neighbours) / errors[i] if neighbours else 1.0,
        flatness=max((abs(1.0 - e / none_cm) for e in errors[:i]), default=0.0))


@dataclass
class PoseProbe:
    """How a prior sees a set of fitted poses, on the joints a condition hides.

    Attributes:
        label: what the poses are (``"ground truth"``, ``"fit none"``, ...).
        energy_mean: mean prior energy of the poses (Pose-NDF: the field's distance).
        nn_distance_mean: mean exact nearest-neighbour distance to a manifold of poses (Pose-NDF's
            metric, :func:`humanlib.priors.posendf_data.knn_pose_distance`), or None without a manifold.
        grad_joints: mean norm of the energy's gradient on the chosen joints' axis-angles.
        grad_all: mean norm of the energy's gradient on all 21 body joints.
        joints_norm: mean rotation angle (rad) of the chosen joints (0: at the rest pose).
        joints_error: mean ``|theta_j - theta_j^true|`` (rad, axis-angle difference) on the chosen joints.
    """

    label: str
    energy_mean: float
    nn_distance_mean: float | None
    grad_joints: float
    grad_all: float
    joints_norm: float
    joints_error: float


def probe_poses(prior: PosePrior, body_pose: torch.Tensor, truth: torch.Tensor, joints: list[int], label: str,
                manifold: torch.Tensor | None = None) -> PoseProbe:
    """Energy, manifold distance and energy gradient of a prior at poses, on chosen joints.

    Args:
        prior: the prior.
        body_pose: ``(N, 21, 3)`` poses (a fit's result, the truth, the fit's start).
        truth: ``(N, 21, 3)`` the true poses of the same frames.
        joints: body-joint indices (0..20) to report (e.g. those an occlusion leaves unconstrained).
        label: name of the pose set.
        manifold: optional ``(M, 21, 4)`` quaternions of the training poses for the exact distance.

    Raises:
        TypeError, ValueError: a prior or poses of the wrong kind or shape, joints out of range.
    """
    _check_inputs(prior, body_pose)
    check_tensor(truth, "truth", tuple(body_pose.shape), dtype=body_pose.dtype)
    if not isinstance(joints, list) or not joints or not all(isinstance(j, int) and 0 <= j < NUM_BODY_JOINTS
                                                             for j in joints):
        raise ValueError(f"joints must be a non-empty list of body-joint indices 0..{NUM_BODY_JOINTS - 1}; got {joints!r}")
    x = body_pose.detach().clone().requires_grad_(True)
    energy = prior.energy(x)
    (grad,) = torch.autograd.grad(energy.sum(), x)
    nn = None
    if manifold is not None:
        from humanlib.priors.posendf_data import knn_pose_distance
        from humanlib.rotations import axis_angle_to_quat, quat_canonicalize

        queries = quat_canonicalize(axis_angle_to_quat(body_pose.detach().to(manifold.dtype)))
        nn = float(knn_pose_distance(queries, manifold).distance.mean())
    sel = body_pose.detach()[:, joints]
    return PoseProbe(label=label, energy_mean=float(energy.detach().mean()), nn_distance_mean=nn,
                     grad_joints=float(grad[:, joints].norm(dim=(1, 2)).mean()),
                     grad_all=float(grad.norm(dim=(1, 2)).mean()), joints_norm=float(sel.norm(dim=-1).mean()),
                     joints_error=float((sel - truth[:, joints]).norm(dim=-1).mean()))
