"""The talk's motion experiments (Pose-NDF's Tables 3 and 4) on the open body model and corpus.

=====================================  ==================================================
piece                                   module
=====================================  ==================================================
motion windows and their subsets        ``humanlib.experiments.windows``
noise, occlusion, metrics               ``humanlib.experiments.protocol``
fitting a sequence with a prior         ``humanlib.experiments.motion_fit``
settings, weight grids, option lists    ``humanlib.experiments.settings``
runs, val tuning                        ``humanlib.experiments.runner``
results files and val-tuned weights     ``humanlib.experiments.results``
published and our tables                ``humanlib.experiments.tables``
figures                                 ``humanlib.experiments.figures``
diagnostics of a prior                  ``humanlib.experiments.diagnostics``
=====================================  ==================================================
"""

from humanlib.experiments.diagnostics import (
    encoder_robustness,
    energy_separation,
    latent_fit_study,
    parametrisation_error,
    rest_pose_rank,
)
from humanlib.experiments.motion_fit import MotionFitConfig, MotionFitResult, fit_motion, project_to_latent
from humanlib.experiments.protocol import (
    DENOISE_CONDITIONS,
    OCCLUSION_CONDITIONS,
    OCCLUSION_GROUPS,
    Condition,
    Observation,
    Windows,
    balanced_subset,
    cut_windows,
    evenly_spaced,
    make_observation,
    sequence_errors,
)
from humanlib.experiments.runner import (
    PRIOR_NAMES,
    ExperimentConfig,
    ResultsFile,
    load_prior,
    read_results,
    run_experiment,
    write_results,
)

__all__ = [
    "DENOISE_CONDITIONS", "OCCLUSION_CONDITIONS", "OCCLUSION_GROUPS", "PRIOR_NAMES", "Condition", "ExperimentConfig",
    "MotionFitConfig", "MotionFitResult", "Observation", "ResultsFile", "Windows", "balanced_subset",
    "cut_windows", "encoder_robustness", "energy_separation", "evenly_spaced", "fit_motion", "latent_fit_study", "load_prior",
    "make_observation", "parametrisation_error", "project_to_latent", "read_results", "rest_pose_rank", "run_experiment",
    "sequence_errors",
    "write_results",
]
