"""SMPLify on the open body model: energies, camera, staged fitting, synthetic evaluation.

=======================================================  ================================
piece                                                    module
=======================================================  ================================
``Pi_K``, camera initialisation                          :mod:`humanlib.fitting.camera`
``E_J``, ``E_a``, ``E_sp``, ``E_beta``                   :mod:`humanlib.fitting.energies`
stages, :func:`~humanlib.fitting.smplify.fit_smplify`    :mod:`humanlib.fitting.smplify`
one L-BFGS per frame                                     :mod:`humanlib.fitting.lbfgs`
a dataset over workers (torchrun), resumable             :mod:`humanlib.fitting.dataset`
synthetic keypoints, Procrustes                          :mod:`humanlib.fitting.evaluate`
OpenPose keypoints on the SMPL-X mesh, KeypointBody      :mod:`humanlib.fitting.keypoints_x`
``E_c``, the collision term (SMPLify-X)                  :mod:`humanlib.fitting.collision`
SMPLify-X's energy, term by term; the hand prior         :mod:`humanlib.fitting.smplifyx_terms`
SMPLify-X's stages and fit                               :mod:`humanlib.fitting.smplifyx`
``humanlib fit`` / ``smplify-eval``                      :mod:`humanlib.fitting.jobs`
meshes over keypoints (figures)                          :mod:`humanlib.fitting.plots`
=======================================================  ================================
"""

from humanlib.fitting.camera import Camera, project
from humanlib.fitting.energies import (
    BENDING_JOINTS,
    CapsuleBody,
    angle_energy,
    geman_mcclure,
    interpenetration_energy,
    keypoint_energy,
    shape_energy,
)
from humanlib.fitting.lbfgs import PerFrameResult, lbfgs_per_frame
from humanlib.fitting.smplify import (
    OPTIMIZERS,
    SMPLifyConfig,
    SMPLifyInit,
    SMPLifyResult,
    SMPLifyStage,
    fit_smplify,
    smplify_stages,
)

__all__ = [
    "BENDING_JOINTS",
    "OPTIMIZERS",
    "Camera",
    "CapsuleBody",
    "PerFrameResult",
    "SMPLifyConfig",
    "SMPLifyInit",
    "SMPLifyResult",
    "SMPLifyStage",
    "angle_energy",
    "fit_smplify",
    "geman_mcclure",
    "interpenetration_energy",
    "keypoint_energy",
    "lbfgs_per_frame",
    "project",
    "shape_energy",
    "smplify_stages",
]
