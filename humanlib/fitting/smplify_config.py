r"""SMPLify's settings: the stages and their weights, the configuration, a warm start and the result record.

:mod:`humanlib.fitting.smplify` re-exports every name here; its :func:`~humanlib.fitting.smplify.fit_smplify`
reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from humanlib._validate import check_positive, check_same_device, check_tensor
from humanlib.skeleton import NUM_JOINTS


#: The solvers :func:`~humanlib.fitting.smplify.fit_smplify` offers (``SMPLifyConfig.optimizer``).
OPTIMIZERS: tuple[str, ...] = ("per-frame", "batch")

#: Global orientation of a body seen from behind (upright, facing away): rotation by pi about z.
FACING_AWAY = (0.0, 0.0, math.pi)


@dataclass
class SMPLifyStage:
    """Weights and iteration budget of one fitting stage (weights as in the paper; see ``square_weights``).

    Attributes:
        pose_weight: ``lambda_theta`` on the pose prior.
        shape_weight: ``lambda_beta`` on ``||beta||^2``.
        angle_weight: ``lambda_a`` on the elbow/knee penalty.
        interpenetration_weight: ``lambda_sp`` on the sphere interpenetration penalty.
        iterations: L-BFGS iterations (0: the stage only evaluates its energy).

    Raises:
        TypeError, ValueError: a weight that is not a finite number >= 0, ``iterations`` not an integer >= 0.
    """

    pose_weight: float
    shape_weight: float
    angle_weight: float
    interpenetration_weight: float
    iterations: int = 30

    def __post_init__(self) -> None:
        for name in ("pose_weight", "shape_weight", "angle_weight", "interpenetration_weight"):
            check_positive(getattr(self, name), f"SMPLifyStage.{name}", allow_zero=True)
        check_positive(self.iterations, "SMPLifyStage.iterations", integer=True, allow_zero=True)


def smplify_stages(iterations: int = 30, interpenetration_weight: float = 1000.0) -> tuple[SMPLifyStage, ...]:
    """SMPLify's four stages: ``lambda_theta = [404, 404, 57.4, 4.78]``, ``lambda_beta = [100, 50, 10, 5]``.

    ``lambda_a = 0.317 lambda_theta`` (SMPLify's code); ``lambda_sp`` is our choice, constant
    over stages (our sphere penalty is not SMPLify's, so its weight is not theirs either).

    Raises:
        TypeError, ValueError: ``iterations`` not an integer >= 0, ``interpenetration_weight`` not
            a finite number >= 0.
    """
    check_positive(iterations, "iterations", integer=True, allow_zero=True)
    check_positive(interpenetration_weight, "interpenetration_weight", allow_zero=True)
    pose = (404.0, 404.0, 57.4, 4.78)
    shape = (100.0, 50.0, 10.0, 5.0)
    return tuple(
        SMPLifyStage(p, s, 0.317 * p, interpenetration_weight, iterations) for p, s in zip(pose, shape)
    )


@dataclass
class SMPLifyConfig:
    """Everything that configures :func:`~humanlib.fitting.smplify.fit_smplify`.

    Attributes:
        stages: the fitting stages, in order.
        sigma_px: Geman-McClure scale of ``E_J`` (SMPLify: 100 px).
        square_weights: multiply energies by ``lambda^2`` (SMPLify's residual convention) or by ``lambda``.
        camera_iterations: L-BFGS iterations of the camera/orientation initialisation.
        depth_weight: weight (squared like the others) of ``(t_z - z_init)^2`` during the camera
            initialisation, in pixels per metre.
        flip_test: fit a second, 180-degree-turned body where the shoulders are close in 2D and keep the better fit.
        flip_threshold_px: shoulder distance (pixels) under which the flip test runs.
        use_angle_prior: include ``E_a`` (ablation switch).
        use_interpenetration: include ``E_sp`` (ablation switch).
        optimize_shape: fit ``beta`` (otherwise it stays at the initial value).
        min_visible_joints: frames with fewer joints of positive confidence are invalid.
        on_invalid: ``"raise"`` (ValueError naming the frames) or ``"skip"`` (the frame is not
            fitted, its ``valid`` flag is False and its parameters stay at the initialisation).
        lbfgs_history: L-BFGS history size.
        optimizer: ``"per-frame"`` (default): one L-BFGS per frame with its own line search and
            stopping test (:func:`humanlib.fitting.lbfgs.lbfgs_per_frame`), so a frame's fit does not
            depend on the batch it is in, and converged frames leave the batch; ``"batch"``:
            ``torch.optim.LBFGS`` on the sum over the batch (one shared line search, strong Wolfe),
            the course's solver before it; kept to compare.
        precision: ``"float64"`` (default): the fit runs in double precision whatever the inputs'
            dtype (results are returned in the inputs' dtype); ``"input"``: in the inputs' dtype.
            In float32 the round-off of batched operations (which differs with the batch size) is
            amplified by the non-convex fit: measured on 64 test frames with the GMM prior, 30 of
            them end more than 1 mm (PA-v2v) away from their fit alone; in float64, none of 24.

    Raises:
        TypeError, ValueError: naming the field: no stages or stages that are not :class:`SMPLifyStage`,
            a number out of range (``sigma_px > 0``, iterations and weights >= 0, ``lbfgs_history >= 1``,
            ``1 <= min_visible_joints <= 24``), a switch that is not a bool, an unknown ``on_invalid``
            ``optimizer`` or ``precision``.
    """

    stages: tuple[SMPLifyStage, ...] = field(default_factory=smplify_stages)
    sigma_px: float = 100.0
    square_weights: bool = True
    camera_iterations: int = 30
    depth_weight: float = 100.0
    flip_test: bool = True
    flip_threshold_px: float = 40.0
    use_angle_prior: bool = True
    use_interpenetration: bool = True
    optimize_shape: bool = True
    min_visible_joints: int = 6
    on_invalid: str = "raise"
    lbfgs_history: int = 10
    optimizer: str = "per-frame"
    precision: str = "float64"

    def __post_init__(self) -> None:
        if self.on_invalid not in ("raise", "skip"):
            raise ValueError(f"on_invalid must be 'raise' or 'skip'; got {self.on_invalid!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"SMPLifyConfig.optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}; "
                             f"got {self.optimizer!r}")
        if self.precision not in ("float64", "input"):
            raise ValueError(f"SMPLifyConfig.precision must be 'float64' or 'input'; got {self.precision!r}")
        if isinstance(self.stages, SMPLifyStage) or not isinstance(self.stages, (tuple, list)):
            raise TypeError(f"SMPLifyConfig.stages must be a tuple of SMPLifyStage (e.g. smplify_stages()); "
                            f"got {type(self.stages).__name__}")
        if not self.stages:
            raise ValueError("SMPLifyConfig needs at least one stage")
        wrong = [type(st).__name__ for st in self.stages if not isinstance(st, SMPLifyStage)]
        if wrong:
            raise TypeError(f"SMPLifyConfig.stages must hold SMPLifyStage objects; got {', '.join(wrong)}")
        self.stages = tuple(self.stages)
        check_positive(self.sigma_px, "SMPLifyConfig.sigma_px")
        check_positive(self.depth_weight, "SMPLifyConfig.depth_weight", allow_zero=True)
        check_positive(self.flip_threshold_px, "SMPLifyConfig.flip_threshold_px", allow_zero=True)
        check_positive(self.camera_iterations, "SMPLifyConfig.camera_iterations", integer=True, allow_zero=True)
        check_positive(self.lbfgs_history, "SMPLifyConfig.lbfgs_history", integer=True)
        check_positive(self.min_visible_joints, "SMPLifyConfig.min_visible_joints", integer=True)
        if self.min_visible_joints > NUM_JOINTS:
            raise ValueError(f"SMPLifyConfig.min_visible_joints must be <= {NUM_JOINTS}; got {self.min_visible_joints}")
        for name in ("square_weights", "flip_test", "use_angle_prior", "use_interpenetration", "optimize_shape"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"SMPLifyConfig.{name} must be True or False; got {getattr(self, name)!r}")

    def weight(self, value: float) -> float:
        """The factor an energy is multiplied by for a paper weight ``value``.

        Raises:
            TypeError, ValueError: ``value`` not a finite number >= 0.
        """
        check_positive(value, "value", allow_zero=True)
        return value * value if self.square_weights else value

    def with_iterations(self, iterations: int) -> "SMPLifyConfig":
        """A copy whose every stage runs ``iterations`` L-BFGS iterations.

        Raises:
            TypeError, ValueError: ``iterations`` not an integer >= 0.
        """
        check_positive(iterations, "iterations", integer=True, allow_zero=True)
        return replace(self, stages=tuple(replace(s, iterations=iterations) for s in self.stages))


@dataclass
class SMPLifyResult:
    """Output of :func:`~humanlib.fitting.smplify.fit_smplify` (camera frame, metres).

    Attributes:
        betas: ``(B, num_betas)`` shapes.
        pose: ``(B, 24, 3)`` full pose (global orientation in the camera frame; hands at rest).
        transl: ``(B, 3)`` translations.
        energy: ``(B,)`` final total energy (NaN for skipped frames).
        data_energy: ``(B,)`` final ``E_J`` (pixels^2).
        valid: ``(B,)`` False for frames skipped as invalid input.
        flipped: ``(B,)`` True where the flip test kept the turned-around body.
        stage_energy: mean total energy over valid frames after the camera step and each stage.
    """

    betas: torch.Tensor
    pose: torch.Tensor
    transl: torch.Tensor
    energy: torch.Tensor
    data_energy: torch.Tensor
    valid: torch.Tensor
    flipped: torch.Tensor
    stage_energy: list[float]


@dataclass
class SMPLifyInit:
    """Starting parameters for :func:`~humanlib.fitting.smplify.fit_smplify` (camera frame), e.g. the previous frame's fit.

    Attributes:
        betas: ``(B, num_betas)``.
        pose: ``(B, 24, 3)`` axis-angle, global orientation first.
        transl: ``(B, 3)``.

    Raises:
        TypeError, ValueError: not tensors of these shapes with one ``B``, non-finite values, different devices.
    """

    betas: torch.Tensor
    pose: torch.Tensor
    transl: torch.Tensor

    def __post_init__(self) -> None:
        check_tensor(self.betas, "init.betas", (None, None), finite=False, hint="(B, num_betas) shapes.")
        b = self.betas.shape[0]
        check_tensor(self.pose, "init.pose", (b, NUM_JOINTS, 3), finite=False, hint="Axis-angle, global orientation first.")
        check_tensor(self.transl, "init.transl", (b, 3), finite=False)
        check_same_device(self.betas, "init.betas", **{"init.pose": self.pose, "init.transl": self.transl})
        for name, x in (("init.betas", self.betas), ("init.pose", self.pose), ("init.transl", self.transl)):
            check_tensor(x, name)
