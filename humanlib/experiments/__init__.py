"""The talk's motion experiments (Pose-NDF's Tables 3 and 4) on the open body model and corpus.

=====================================  ==================================================
piece                                   module
=====================================  ==================================================
windows, noise, occlusion, metrics      :mod:`humanlib.experiments.protocol`
fitting a sequence with a prior         :mod:`humanlib.experiments.motion_fit`
runs, val tuning, results files, CLI    :mod:`humanlib.experiments.runner`
published and our tables                :mod:`humanlib.experiments.tables`
figures                                 :mod:`humanlib.experiments.figures`
=====================================  ==================================================
"""

from humanlib.experiments.motion_fit import MotionFitConfig, MotionFitResult, fit_motion
from humanlib.experiments.protocol import (
    DENOISE_CONDITIONS,
    OCCLUSION_CONDITIONS,
    OCCLUSION_GROUPS,
    Condition,
    Observation,
    Windows,
    cut_windows,
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
    "fit_motion", "load_prior", "make_observation", "read_results", "run_experiment", "sequence_errors",
    "write_results",
]
