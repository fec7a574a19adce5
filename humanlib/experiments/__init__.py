"""The talk's motion experiments (Pose-NDF's Tables 3 and 4) on the open body model and corpus.

=====================================  ==================================================
piece                                   module
=====================================  ==================================================
windows, noise, occlusion, metrics      ``humanlib.experiments.protocol``
fitting a sequence with a prior         ``humanlib.experiments.motion_fit``
runs, val tuning, results files, CLI    ``humanlib.experiments.runner``
published and our tables                ``humanlib.experiments.tables``
figures                                 ``humanlib.experiments.figures``
diagnostics of a prior                  ``humanlib.experiments.diagnostics``
=====================================  ==================================================
"""

from humanlib.experiments.diagnostics import energy_separation, parametrisation_error, rest_pose_rank
from humanlib.experiments.motion_fit import MotionFitConfig, MotionFitResult, fit_motion
from humanlib.experiments.protocol import (
    DENOISE_CONDITIONS,
    OCCLUSION_CONDITIONS,
    OCCLUSION_GROUPS,
    Condition,
    Observation,
    Windows,
    cut_windows,
    evenly_spaced,
    make_observation,
    sequence_errors,
)
from humanlib.experiments.runner import (
    PRIOR_NAMES,
    ExperimentConfig,
    ResultsFile,
    add_subcommand,
    load_prior,
    read_results,
    run_experiment,
    write_results,
)

__all__ = [
    "DENOISE_CONDITIONS", "OCCLUSION_CONDITIONS", "OCCLUSION_GROUPS", "PRIOR_NAMES", "Condition", "ExperimentConfig",
    "MotionFitConfig", "MotionFitResult", "Observation", "ResultsFile", "Windows", "add_subcommand", "cut_windows",
    "energy_separation", "evenly_spaced", "fit_motion", "load_prior", "make_observation", "parametrisation_error", "read_results", "rest_pose_rank", "run_experiment", "sequence_errors",
    "write_results",
]
