"""The two raw mocap archives of the corpus: their names, and finding or unpacking them.

Used by the corpus build (``humanlib build-corpus``), by the Bandai-Namco calibration file of the
per-clip steps and by the corpus measurement; it imports neither of them, so the three share it
without an import cycle.
"""

from __future__ import annotations

import lzma
import sys
import tarfile
from pathlib import Path
from typing import Callable

from humanlib import paths
from humanlib.data import sources as S
from humanlib.data.bvh import read_bvh
from humanlib.data.corpus import CorpusError

CMU_ARCHIVE = "cmu-asfamc-subjects-01-and-03.tar.xz"
BANDAI_ARCHIVE = "bandai-namco-research-motiondataset-1-2.tar.xz"

_RAW_HINT = ("point HUMANLIB_RAW_DATA (or --raw) at the folder holding the two archives; a course checkout "
             "has them in ../shared/data")


def _check_raw(raw: Path) -> None:
    """Raise CorpusError unless ``raw`` holds each source, unpacked or as its archive."""
    for folder, archive in (("subjects", CMU_ARCHIVE), ("dataset", BANDAI_ARCHIVE)):
        if not (raw / folder).is_dir() and not (raw / archive).is_file():
            raise CorpusError(f"raw data folder {raw} holds neither {folder}/ nor {archive}; {_RAW_HINT}")


def _find_sources(raw: Path, tmp: Path, log: Callable[[str], None]) -> tuple[Path, Path]:
    """Folders holding ``subjects/`` (CMU) and ``dataset/`` (Bandai-Namco), unpacking archives."""
    _check_raw(raw)
    found = []
    for folder, archive in (("subjects", CMU_ARCHIVE), ("dataset", BANDAI_ARCHIVE)):
        if (raw / folder).is_dir():
            found.append(raw)
            continue
        path = raw / archive
        log(f"unpacking {path.name} ...")
        target = tmp / folder
        target.mkdir()
        try:
            with tarfile.open(path) as tf:
                if sys.version_info >= (3, 12):
                    tf.extractall(target, filter="data")
                else:  # pragma: no cover
                    tf.extractall(target)
        except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as err:
            reason = str(err).splitlines()[0].rstrip(":")  # tarfile lists every method it tried below
            raise CorpusError(f"raw archive {path} cannot be unpacked ({type(err).__name__}: {reason}); it is corrupt or "
                              f"truncated: copy it again ({_RAW_HINT})") from None
        if not (target / folder).is_dir():
            raise CorpusError(f"raw archive {path} holds no {folder}/ folder; it is not the {archive} of the course")
        found.append(target)
    return found[0], found[1]


def _bandai_reference(data_dirs: list[Path]):
    """The Bandai-Namco reference clip of the calibration: ``(motion, frame, name)``."""
    ref_name, ref_frame = S.BANDAI_REFERENCE
    ref_path = next((d / ref_name for d in data_dirs if (d / ref_name).exists()), None)
    if ref_path is None:
        raise CorpusError(f"Bandai-Namco reference clip {ref_name} is missing")
    return read_bvh(ref_path), ref_frame, ref_name


def _find_bandai_reference(raw_dir, tmp: Path):
    """The reference clip from the raw data folder (unpacking the archive into ``tmp``)."""
    raw = Path(raw_dir).expanduser() if raw_dir is not None else paths.raw_data_dir()
    if raw is None or not Path(raw).is_dir():
        raise CorpusError(f"raw mocap folder not found ({raw}); {_RAW_HINT}")
    _, bandai_root = _find_sources(raw, tmp, lambda msg: None)
    return _bandai_reference(sorted((bandai_root / "dataset").glob("Bandai-Namco-Research-Motiondataset-*/data")))
