r"""The experiments' settings: default weights, the val grids, the option lists, the chosen weights.

And the two configurations, :class:`ExperimentConfig` (a test run) and :class:`TuneConfig` (tuning on val).

:mod:`humanlib.experiments.runner` re-exports every name here (and :mod:`humanlib.experiments` documents them).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass


from humanlib._validate import check_positive, resolve_device
from humanlib.experiments.protocol import EXPERIMENT_CONDITIONS, Condition, condition_by_name
from humanlib.experiments.results import METHOD_NAMES, PRIOR_NAMES, WeightChoice


#: Prior weights used when no val-tuned weights file is given (orders of magnitude only).
DEFAULT_PRIOR_WEIGHTS: dict[str, float] = {"none": 0.0, "gmm": 1.0, "vposer": 1.0, "vposer-pose": 1.0,
                                           "posendf": 100.0}
DEFAULT_SMOOTH_WEIGHT = 1.0
#: Grids searched on val by ``humanlib.experiments.runner.tune_weights`` (each prior's energy has its own scale).
SMOOTH_GRID: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)
PRIOR_GRIDS: dict[str, tuple[float, ...]] = {
    "gmm": (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0, 10000000.0),
    "vposer": (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
    "vposer-pose": (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
    "posendf": (10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0),
}
#: The val split is stored at 10 fps; tuning resamples it to the test split's rate.
TEST_FPS = 30.0


def parse_priors(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """``"none,gmm"`` -> ``("none", "gmm")``, checking every name.

    Raises:
        TypeError: neither a string nor a tuple / list of strings.
        ValueError: no name, or a name not in ``METHOD_NAMES`` (the pose priors and ``"humor"``).
    """
    if isinstance(text, str):
        names = tuple(n.strip() for n in text.split(",") if n.strip())
    elif isinstance(text, (tuple, list)) and all(isinstance(n, str) for n in text):
        names = tuple(text)
    else:
        raise TypeError(f"priors must be a comma-separated string or a tuple of names from {METHOD_NAMES}; got {text!r}")
    if not names:
        raise ValueError("give at least one prior")
    for n in names:
        if n not in METHOD_NAMES:
            raise ValueError(f"unknown prior {n!r}; choose from {', '.join(METHOD_NAMES)}")
    return names


def parse_ints(text: str | tuple[int, ...], what: str) -> tuple[int, ...]:
    """``"60,120"`` -> ``(60, 120)`` with a clear error; a tuple of integers is checked the same way.

    Raises:
        TypeError: neither a string nor a tuple / list.
        ValueError: a value that is not an integer, no value, or a value < 3.
    """
    if isinstance(text, str):
        try:
            values = tuple(int(x) for x in text.split(",") if x.strip())
        except ValueError:
            raise ValueError(f"{what} must be comma-separated integers, got {text!r}") from None
    elif isinstance(text, (tuple, list)):
        if any(isinstance(x, bool) or not hasattr(x, "__index__") for x in text):
            raise ValueError(f"{what} must be integers, got {text!r}")
        values = tuple(operator.index(x) for x in text)
    else:
        raise TypeError(f"{what} must be a comma-separated string or a tuple of integers; got {type(text).__name__}")
    if not values or any(v < 3 for v in values):
        raise ValueError(f"{what} must be integers >= 3, got {text!r}")
    return values


def _parse_conditions(value: object, experiments: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Condition names (a tuple or a comma-separated string), each of one of ``experiments``."""
    names = tuple(n.strip() for n in value.split(",") if n.strip()) if isinstance(value, str) else value
    if not isinstance(names, (tuple, list)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"{what} must be a tuple of condition names (or None for all); got {value!r}")
    if not names:
        raise ValueError(f"{what} is empty; give at least one condition name, or None for all")
    allowed = [c.name for e in experiments for c in EXPERIMENT_CONDITIONS[e]]
    for n in names:
        condition_by_name(n)  # raises naming every known condition
        if n not in allowed:
            raise ValueError(f"{what}: condition {n!r} belongs to another experiment; those of "
                             f"{' and '.join(experiments)} are {', '.join(allowed)}")
    return tuple(names)


def _check_device(device: object, what: str) -> None:
    try:
        resolve_device(device, what, available=False)  # the run checks that this machine has it
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a torch device such as 'cpu' or 'cuda'; got {device!r}") from None


def _check_split(split: object, what: str) -> None:
    from humanlib.data.corpus import SPLITS

    if split not in SPLITS:
        raise ValueError(f"{what} must be one of {SPLITS}, got {split!r}")


# --------------------------------------------------------------------------- records


# --------------------------------------------------------------------------- weights


def weights_for(condition: str, prior: str, choices: list[WeightChoice] | None) -> tuple[float, float, str]:
    """``(smooth_weight, prior_weight, source)`` for a cell: the val choice, else the defaults.

    Raises:
        ValueError: an unknown condition or prior.
        TypeError: ``choices`` is not a list of ``WeightChoice`` (or None).
    """
    condition_by_name(condition)
    if prior not in DEFAULT_PRIOR_WEIGHTS:
        raise ValueError(f"unknown prior {prior!r}; choose from {', '.join(PRIOR_NAMES)}")
    if choices is not None and (not isinstance(choices, (list, tuple))
                                or not all(isinstance(c, WeightChoice) for c in choices)):
        raise TypeError(f"choices must be a list of WeightChoice (from read_weights) or None; got {choices!r}")
    for c in choices or []:
        if (c.condition, c.prior) == (condition, prior):
            return c.smooth_weight, c.prior_weight, "val"
    smooth = DEFAULT_SMOOTH_WEIGHT
    for c in choices or []:  # a prior not tuned still gets the tuned smoothness
        if (c.condition, c.prior) == (condition, "none"):
            smooth = c.smooth_weight
    return smooth, DEFAULT_PRIOR_WEIGHTS[prior], "default"


# --------------------------------------------------------------------------- running


@dataclass
class ExperimentConfig:
    """What ``humanlib.experiments.runner.run_experiment`` runs.

    Attributes:
        experiment: ``"denoise"`` or ``"occlusion"`` (its conditions: ``humanlib.experiments.protocol.EXPERIMENT_CONDITIONS``).
        priors: prior names (``PRIOR_NAMES``).
        windows: window lengths in frames.
        frames_per_length: the fixed subset: ``frames_per_length // length`` windows of each
            length, shared out equally over the corpus sources and evenly spaced within each (None: every window).
        conditions: condition names (None: all of the experiment).
        split: corpus split ("test"; "val" only for tuning).
        seed: seeds the corruption (one observation per condition and length, shared by all priors).
        iterations: L-BFGS iterations per fit (full energy).
        warmup_iterations: L-BFGS iterations of the first stage (no smoothness term).
        beta_weight: weight of the shape regulariser.
        device: torch device.
        allow_missing: skip a prior whose file is missing (recorded) instead of failing.

    Raises:
        TypeError, ValueError: a field of the wrong type or out of range (the message names it):
            an unknown experiment, prior, condition (or one of the other experiment) or split,
            window lengths < 3, counts that are not positive integers, an invalid device.
    """

    experiment: str
    priors: tuple[str, ...] = PRIOR_NAMES
    windows: tuple[int, ...] = (60, 120, 240)
    frames_per_length: int | None = 480
    conditions: tuple[str, ...] | None = None
    split: str = "test"
    seed: int = 0
    iterations: int = 60
    warmup_iterations: int = 30
    beta_weight: float = 1.0
    device: str = "cpu"
    allow_missing: bool = False

    def __post_init__(self) -> None:
        if self.experiment not in EXPERIMENT_CONDITIONS:
            raise ValueError(f"experiment must be one of {tuple(EXPERIMENT_CONDITIONS)}, got {self.experiment!r}")
        self.priors = parse_priors(self.priors)
        self.windows = parse_ints(self.windows, "windows")
        if self.frames_per_length is not None:
            check_positive(self.frames_per_length, "ExperimentConfig.frames_per_length", integer=True)
        if self.frames_per_length is not None and self.frames_per_length < max(self.windows):
            raise ValueError(f"frames_per_length ({self.frames_per_length}) must hold at least one window of "
                             f"{max(self.windows)} frames")
        if self.conditions is not None:
            self.conditions = _parse_conditions(self.conditions, (self.experiment,), "ExperimentConfig.conditions")
        _check_split(self.split, "ExperimentConfig.split")
        check_positive(self.seed, "ExperimentConfig.seed", integer=True, allow_zero=True)
        check_positive(self.iterations, "ExperimentConfig.iterations", integer=True)
        check_positive(self.warmup_iterations, "ExperimentConfig.warmup_iterations", integer=True, allow_zero=True)
        check_positive(self.beta_weight, "ExperimentConfig.beta_weight", allow_zero=True)
        _check_device(self.device, "ExperimentConfig.device")
        if not isinstance(self.allow_missing, bool):
            raise TypeError(f"ExperimentConfig.allow_missing must be True or False, got {self.allow_missing!r}")

    def condition_list(self) -> tuple[Condition, ...]:
        if self.conditions is None:
            return EXPERIMENT_CONDITIONS[self.experiment]
        return tuple(condition_by_name(n) for n in self.conditions)


@dataclass
class TuneConfig:
    """The val search of ``humanlib.experiments.runner.tune_weights``.

    Attributes:
        priors: priors to tune ("none" is always run: it sets the smoothness weight).
        conditions: condition names (None: every condition of both experiments).
        window: window length used on val.
        num_windows: windows of val used (shared out equally over the sources, evenly spaced within each).
        seed: seeds the val corruption.
        iterations: L-BFGS iterations per fit (full energy); the default is the experiments'
            (``ExperimentConfig.iterations``), so a weight is chosen for the optimiser budget it is used with.
        warmup_iterations: L-BFGS iterations of the first stage (no smoothness term).
        smooth_grid: smoothness weights tried with no prior.
        refine: after each grid (smoothness, then each prior's), also try the best point times
            ``10**-0.5`` and ``10**0.5`` (half-decade steps) and keep the best of all; a prior's
            optimum can be narrower than a decade (the GMM's under occluded legs).
        device: torch device.

    Raises:
        TypeError, ValueError: a field of the wrong type or out of range (the message names it).
    """

    priors: tuple[str, ...] = PRIOR_NAMES
    conditions: tuple[str, ...] | None = None
    window: int = 60
    num_windows: int = 8
    seed: int = 0
    iterations: int = 60
    warmup_iterations: int = 30
    smooth_grid: tuple[float, ...] = SMOOTH_GRID
    refine: bool = True
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.priors = parse_priors(self.priors)
        if self.conditions is not None:
            self.conditions = _parse_conditions(self.conditions, tuple(EXPERIMENT_CONDITIONS), "TuneConfig.conditions")
        check_positive(self.window, "TuneConfig.window", integer=True)
        if self.window < 3:
            raise ValueError(f"TuneConfig.window must be >= 3 frames (the acceleration term), got {self.window}")
        check_positive(self.num_windows, "TuneConfig.num_windows", integer=True)
        check_positive(self.seed, "TuneConfig.seed", integer=True, allow_zero=True)
        check_positive(self.iterations, "TuneConfig.iterations", integer=True)
        check_positive(self.warmup_iterations, "TuneConfig.warmup_iterations", integer=True, allow_zero=True)
        if isinstance(self.smooth_grid, (int, float)) or not self.smooth_grid:
            raise ValueError(f"TuneConfig.smooth_grid must be a non-empty tuple of weights, got {self.smooth_grid!r}")
        for value in self.smooth_grid:
            check_positive(value, "TuneConfig.smooth_grid entry", allow_zero=True)
        self.smooth_grid = tuple(self.smooth_grid)
        if not isinstance(self.refine, bool):
            raise TypeError(f"TuneConfig.refine must be True or False, got {self.refine!r}")
        _check_device(self.device, "TuneConfig.device")
