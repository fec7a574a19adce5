"""Motion data: mocap readers, retargeting onto SMPL, the open corpus and the AMASS loader.

=====================================  ================================================
what                                    where
=====================================  ================================================
load a split of the corpus              :func:`load_corpus` (AMASS when ``HUMANLIB_AMASS_DIR`` is set)
rebuild the corpus                      ``humanlib.data.build.build_corpus`` (``humanlib build-corpus``)
BVH files                               ``humanlib.data.bvh``
ASF/AMC files (CMU)                     ``humanlib.data.asf_amc``
AMASS ``.npz`` files                    :func:`load_amass_npz`
your own motions (or AMASS files)       :func:`read_motion_folder` (``humanlib experiment ... --motions DIR``)
retargeting, mirroring                  ``humanlib.data.retarget``, ``humanlib.data.sources``
=====================================  ================================================
"""

from humanlib.data.amass import AmassFormatError, AmassMotion, load_amass_npz
from humanlib.data.asf_amc import AsfAmcFormatError, read_amc, read_asf
from humanlib.data.bvh import BvhFormatError, read_bvh
from humanlib.data.corpus import (
    SPLIT_FPS,
    SPLITS,
    ClipInfo,
    CorpusError,
    MotionCorpus,
    corpus_rest_joints,
    load_corpus,
    load_report,
)
from humanlib.data.motions import MotionClip, MotionFolder, MotionFolderError, check_window_lengths, read_motion_folder
from humanlib.data.retarget import mirror_poses

__all__ = [
    "SPLITS", "SPLIT_FPS", "AmassFormatError", "AmassMotion", "AsfAmcFormatError", "BvhFormatError", "ClipInfo",
    "CorpusError", "MotionClip", "MotionCorpus", "MotionFolder", "MotionFolderError", "check_window_lengths",
    "read_motion_folder", "corpus_rest_joints", "load_amass_npz", "load_corpus", "load_report", "mirror_poses", "read_amc",
    "read_asf", "read_bvh",
]
