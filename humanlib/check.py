"""``humanlib check``: verify a user's SMPL / SMPL-X model file, AMASS folder and own motion folder.

A researcher who has registered for SMPL or AMASS points the course at their files
(``HUMANLIB_BODY_MODEL``, ``HUMANLIB_AMASS_DIR``; see :mod:`humanlib.paths`). This command
reads them exactly as the chapters will and says, file by file, what is wrong: missing keys,
wrong shapes or dtypes, chumpy objects that need cleaning, a missing frame-rate key. For a
folder of the user's own motions (``--motions``, as ``humanlib experiment ... --motions`` reads
it) it reports each clip's frame rate, up axis and length.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from humanlib import paths
from humanlib._validate import check_positive


@dataclass
class CheckReport:
    """What a check found: one line per file that passed, one per problem."""

    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _report(report: object) -> CheckReport:
    if report is None:
        return CheckReport()
    if not isinstance(report, CheckReport):
        raise TypeError(f"report must be a CheckReport (or None for a new one); got {type(report).__name__}")
    return report


def check_body_model(path: str | Path, report: CheckReport | None = None) -> CheckReport:
    """Read a model file, validate its arrays and run one forward pass through it.

    Args:
        path: an SMPL-layout ``.pkl`` (chumpy-free) or ``.npz``.
        report: a report to extend (a new one when None).

    Returns:
        The report; ``report.ok`` is False when the file cannot be used. A missing, unreadable,
        corrupt or wrongly laid out file is a problem in the report, never an exception.

    Raises:
        TypeError: ``path`` is not a path, or ``report`` not a :class:`CheckReport` (caller errors).
    """
    from humanlib.body import BodyModel, read_model_file
    from humanlib.body_layouts import layout_name, to_smpl_layout

    report = _report(report)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path to a model file; got {type(path).__name__}")
    path = Path(path).expanduser()
    if path.is_dir():
        report.problems.append(f"body model: {path} is a directory; name the .pkl or .npz model file inside it")
        return report
    try:
        arrays = read_model_file(path)
    except (FileNotFoundError, ValueError) as error:
        report.problems.append(f"body model: {error}")
        return report
    except (OSError, EOFError, zipfile.BadZipFile) as error:  # truncated or corrupt archives, unreadable files
        report.problems.append(f"body model {path}: the file cannot be read ({type(error).__name__}: {error}); "
                               "it is corrupt or truncated: download it again")
        return report
    bad_dtypes = [k for k in ("v_template", "shapedirs", "posedirs", "weights", "J_regressor")
                  if not np.issubdtype(np.asarray(arrays[k]).dtype, np.floating)]
    if bad_dtypes:
        report.problems.append(f"body model {path}: arrays {bad_dtypes} are not floating point")
        return report
    try:
        model = BodyModel(arrays, num_betas=min(10, arrays["shapedirs"].shape[-1]), name=path.name)
        num_joints = len(model.parents)
        out = model(betas=torch.zeros(1, model.num_betas), pose=torch.zeros(1, num_joints, 3),
                    transl=torch.zeros(1, 3))
    except (ValueError, RuntimeError) as error:
        report.problems.append(f"body model {path}: the forward pass fails ({error})")
        return report
    if not torch.isfinite(out.vertices).all():
        report.problems.append(f"body model {path}: the rest-pose mesh holds NaN or inf")
        return report
    height = float(out.vertices[0, :, 1].max() - out.vertices[0, :, 1].min())
    try:
        layout = layout_name(num_joints)
        to_smpl_layout(arrays, source=path.name)
    except ValueError as error:
        report.problems.append(f"body model {path}: the chapters need SMPL's 24 joints: {error}")
        return report
    reduction = "" if num_joints == 24 else " (the chapters use its 24-joint SMPL reduction: rigid hands, neutral face)"
    report.passed.append(
        f"body model {path}: {layout} layout, {arrays['v_template'].shape[0]} vertices, {num_joints} joints, "
        f"{arrays['shapedirs'].shape[-1]} shape components, rest-pose height {height:.2f} m{reduction}"
    )
    if not 0.5 < height < 2.5:
        report.problems.append(f"body model {path}: rest-pose height {height:.2f} m; expected metres, Y up")
    return report


def check_amass_dir(root: str | Path, max_files: int | None = None, report: CheckReport | None = None) -> CheckReport:
    """Load every motion file of an AMASS folder as the data chapters will.

    Args:
        root: the AMASS folder (sub-dataset folders below it).
        max_files: check only the first files (all when None).
        report: a report to extend.

    Returns:
        The report: a missing folder, a folder without motions and every file that does not
        load are problems in it, never exceptions.

    Raises:
        TypeError: ``root`` is not a path, ``max_files`` not an int, ``report`` not a
            :class:`CheckReport` (caller errors).
        ValueError: ``max_files`` is below 1.
    """
    from humanlib.data.amass import AmassFormatError, find_amass_files, load_amass_npz

    report = _report(report)
    if max_files is not None:
        check_positive(max_files, "max_files", integer=True)
    try:
        files = find_amass_files(root)
    except FileNotFoundError as error:
        report.problems.append(f"AMASS: {error}")
        return report
    if not files:
        report.problems.append(f"AMASS: no motion .npz file under {root}")
        return report
    checked = files if max_files is None else files[:max_files]
    good = 0
    for _, path in checked:
        try:
            load_amass_npz(path)
            good += 1
        except AmassFormatError as error:
            report.problems.append(f"AMASS: {error}")
        except (OSError, EOFError, zipfile.BadZipFile) as error:  # a file that vanished or cannot be read
            report.problems.append(f"AMASS: {path}: cannot be read ({type(error).__name__}: {error})")
    report.passed.append(f"AMASS {root}: {good} of {len(checked)} checked motion files load "
                         f"({len(files)} found)")
    return report




def check_motion_folder(root: str | Path, up: str | None = None, fps: float | None = None,
                        report: CheckReport | None = None) -> CheckReport:
    """Read a folder of one's own motions as ``humanlib experiment ... --motions`` will; report every clip.

    Args:
        root: a motion folder of ``humanlib retarget`` or a folder of AMASS ``.npz`` files
            (:func:`humanlib.data.read_motion_folder`).
        up: the files' up axis (``"y"`` / ``"z"``; None: from the files).
        fps: frame rate of files that carry none.
        report: a report to extend.

    Returns:
        The report: one line for the folder (layout, size, fingerprint) and one per clip (frame
        rate, up axis, frames and seconds); a folder that cannot be read is a problem in it.

    Raises:
        TypeError: ``root`` is not a path, ``report`` not a :class:`CheckReport` (caller errors).
        ValueError: ``up`` not ``"y"`` / ``"z"``, ``fps`` not > 0 (caller errors).
    """
    from humanlib.data.motions import _check_up, read_motion_folder

    report = _report(report)
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a str or Path to a motion folder; got {type(root).__name__}")
    _check_up(up)
    if fps is not None:
        check_positive(fps, "fps")
    try:
        folder = read_motion_folder(Path(root), up=up, fps=fps)
    except (FileNotFoundError, ValueError) as error:  # MotionFolderError and AmassFormatError are ValueErrors
        report.problems.append(f"motions: {error}")
        return report
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        report.problems.append(f"motions {root}: cannot be read ({type(error).__name__}: {error})")
        return report
    report.passed.append(f"motions {folder.describe()}")
    for clip in folder.clips:
        report.passed.append(f"motion {clip.id} ({clip.file}): {folder.fps:g} fps, file {folder.up.upper()} up, "
                             f"{clip.num_frames} frames ({clip.num_frames / folder.fps:.2f} s)")
    return report
