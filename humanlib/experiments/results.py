"""The motion experiments' results files: rows, run metadata, the val-tuned weights; written atomically, read with checks."""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from humanlib._validate import check_positive
from humanlib.experiments.protocol import condition_by_name, EXPERIMENT_CONDITIONS, SequenceErrors, Windows
from humanlib.priors import registry

#: The priors the motion experiments compare: the registry's names, the GMM with its min energy only.
PRIOR_NAMES: tuple[str, ...] = tuple(name for name in registry.PRIOR_NAMES if name != "gmm-exact")
#: Every method of the results files: the pose priors and HuMoR (a motion prior, :mod:`humanlib.experiments.humor_method`).
METHOD_NAMES: tuple[str, ...] = PRIOR_NAMES + ("humor",)
RESULTS_FORMAT = "humanlib-experiment-results-1"
WEIGHTS_FORMAT = "humanlib-experiment-weights-1"


@dataclass
class ResultRow:
    """One (condition, window length, prior) cell of the tables.

    Errors are means over the windows, their frames and the vertices (joints).
    ``input_*`` describe the observation before fitting (pose noise: the noisy bodies).
    """

    experiment: str
    condition: str
    prior: str
    window: int
    num_windows: int
    frames: int
    v2v_cm: float
    joint_angle_deg: float
    joint_cm: float
    input_v2v_cm: float | None
    input_joint_cm: float
    smooth_weight: float
    prior_weight: float
    weights_source: str
    seconds: float
    evaluations: int
    #: The same errors per data source ("cmu", "bandai-namco", ...; {} for clips of unknown source):
    #: ``{source: {"num_windows", "v2v_cm", "joint_angle_deg", "joint_cm"}}`` (JSON only, not in the CSV).
    by_source: dict = field(default_factory=dict)
    #: Acceleration error of the fitted joints, m/s^2 (HuMoR's "Accel"; None in rows that did not compute it).
    accel_ms2: float | None = None
    #: HuMoR's contact weight ``lambda_c`` (its ``prior_weight`` is the motion prior's ``lambda_p``); None otherwise.
    contact_weight: float | None = None


def source_group(source: str) -> str:
    """The group a corpus clip's ``ClipInfo.source`` is reported under: the two Bandai-Namco
    datasets together, everything else as it is (``"cmu"``, ``"amass/<sub-dataset>"``).

    Raises:
        TypeError: ``source`` is not a str.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str (a ClipInfo.source such as 'cmu'); got {type(source).__name__}")
    return "bandai-namco" if source.startswith("bandai-namco") else source


def errors_by_source(errors: SequenceErrors, windows: Windows, sources: dict[str, str]) -> dict:
    """The errors of each source group of windows, from the per-window errors of one fit.

    Every window has the same number of frames, so a group's mean is the mean of its
    windows' means (no vertex is computed again).

    Args:
        errors: :func:`~humanlib.experiments.protocol.sequence_errors` of the fit of ``windows``.
        windows: the windows that were fitted.
        sources: the group of each clip name (windows of clips not in it are left out).

    Returns:
        ``{group: {"num_windows", "v2v_cm", "joint_angle_deg", "joint_cm"}}``, groups sorted.

    Raises:
        TypeError: ``errors`` not ``SequenceErrors``, ``windows`` not ``Windows``, ``sources``
            not a dict of str to str.
        ValueError: ``errors`` of another number of windows than ``windows``.
    """
    if not isinstance(errors, SequenceErrors):
        raise TypeError(f"errors must be the SequenceErrors of sequence_errors; got {type(errors).__name__}")
    if not isinstance(windows, Windows):
        raise TypeError(f"windows must be humanlib.experiments.protocol.Windows; got {type(windows).__name__}")
    if not isinstance(sources, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        raise TypeError(f"sources must be a dict of clip name to source group (str to str); got {type(sources).__name__}")
    per_window = (errors.per_window_v2v_cm, errors.per_window_joint_angle_deg, errors.per_window_joint_cm)
    if any(len(values) != len(windows) for values in per_window):
        raise ValueError(f"errors hold per-window values for another number of windows than the {len(windows)} given")
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(windows.clip_names):
        if name in sources:
            groups.setdefault(sources[name], []).append(i)
    out = {}
    for group in sorted(groups):
        v2v, angle, joint = (sum(values[i] for i in groups[group]) / len(groups[group]) for values in per_window)
        out[group] = {"num_windows": len(groups[group]), "v2v_cm": round(v2v, 4), "joint_angle_deg": round(angle, 3),
                      "joint_cm": round(joint, 4)}
    return out


@dataclass
class RunMetadata:
    """How a results file was made."""

    command: str
    git_commit: str
    machine: str
    seed: int
    split: str
    corpus: str
    fps: float
    windows: dict[str, list[str]]
    fit: dict
    weights_file: str | None
    missing_priors: dict[str, str] = field(default_factory=dict)
    started_utc: str = ""
    seconds: float = 0.0
    notes: str = ""
    #: Earlier runs whose rows were kept by ``--merge`` (command, commit, machine, priors, time).
    previous_runs: list[dict] = field(default_factory=list)
    #: Every clip's id, for given clips (``run_experiment(clips=..., data=...)``; empty for a corpus split).
    clips: list[str] = field(default_factory=list)


@dataclass
class ResultsFile:
    """A results file: its metadata and rows."""

    metadata: RunMetadata
    rows: list[ResultRow]

    def row(self, condition: str, prior: str, window: int) -> ResultRow | None:
        for r in self.rows:
            if (r.condition, r.prior, r.window) == (condition, prior, window):
                return r
        return None


def write_results(results: ResultsFile, path: str | Path) -> Path:
    """Write ``path`` (JSON, with metadata) and the same rows as ``path`` with suffix ``.csv``.

    Raises:
        TypeError: ``results`` is not a ``ResultsFile`` of ``ResultRow`` s.
        ValueError: ``path`` does not end in ``.json``, or a row holds NaN / inf (JSON has no such numbers).
        IsADirectoryError: ``path`` is a folder.
    """
    _check_results_file(results, "results")
    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"path must end in .json (the CSV copy is written next to it); got {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the results file inside it, e.g. {path / 'denoise.json'}")
    payload = {"format": RESULTS_FORMAT, "metadata": asdict(results.metadata),
               "rows": [asdict(r) for r in results.rows]}
    try:
        text = json.dumps(payload, indent=1, allow_nan=False)
    except ValueError:
        bad = [f"{r.condition}/{r.prior}/{r.window}" for r in results.rows
               if any(isinstance(v, float) and not math.isfinite(v) for v in asdict(r).values())]
        raise ValueError(f"results hold NaN or infinite numbers (rows {bad or 'in the metadata'}; did a fit diverge?); "
                         "JSON cannot store them") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    names = [f.name for f in fields(ResultRow) if f.name != "by_source"]
    with path.with_suffix(".csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names, extrasaction="ignore")  # by_source: JSON only
        writer.writeheader()
        for r in results.rows:
            writer.writerow(asdict(r))
    return path


def _check_results_file(results: object, name: str) -> None:
    if not isinstance(results, ResultsFile) or not isinstance(results.metadata, RunMetadata) \
            or not all(isinstance(r, ResultRow) for r in results.rows):
        raise TypeError(f"{name} must be a ResultsFile of ResultRow rows (from run_experiment or read_results); "
                        f"got {type(results).__name__}")


def _read_json(path: str | Path, what: str, fmt: str, command: str) -> tuple[Path, dict]:
    """The JSON object of a humanlib file of format ``fmt``, with clear errors."""
    path = Path(path)
    if not path.is_file():
        state = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"no {what} {path} ({state}); write it with `{command}`")
    try:
        payload = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a {what}: it is not valid JSON ({err}); rewrite it with `{command}`") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is not a {what}: it holds a JSON {type(payload).__name__}, not an object; "
                         f"rewrite it with `{command}`")
    found = payload.get("format")
    if found != fmt:
        family = fmt.rsplit("-", 1)[0] + "-"
        if isinstance(found, str) and found.startswith(family):
            raise ValueError(f"{path} is a {what} of format {found!r}, written by another version of humanlib; this "
                             f"version reads {fmt!r}: rewrite it with `{command}`")
        raise ValueError(f"{path} is not a {what} of format {fmt!r} (format {found!r}); rewrite it with `{command}`")
    return path, payload


_ROW_NUMBERS = ("v2v_cm", "joint_angle_deg", "joint_cm", "input_joint_cm", "smooth_weight", "prior_weight", "seconds")


_ROW_INTEGERS = ("window", "num_windows", "frames", "evaluations")


def read_results(path: str | Path) -> ResultsFile:
    """Read a file written by ``write_results``.

    Raises:
        FileNotFoundError: no file, or a folder (names the command that writes it).
        ValueError: not valid JSON, not a results file of this format (another version's
            format is named as such), or missing / wrong fields.
    """
    command = f"humanlib experiment denoise|occlusion --out {Path(path).parent}"
    path, payload = _read_json(path, "results file", RESULTS_FORMAT, command)
    try:
        results = ResultsFile(RunMetadata(**payload["metadata"]), [ResultRow(**r) for r in payload["rows"]])
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path}: its fields do not match a results file of format {RESULTS_FORMAT!r} ({err}); "
                         f"rewrite it with `{command}`") from None
    for i, r in enumerate(results.rows):
        bad = [k for k in _ROW_NUMBERS if isinstance(getattr(r, k), bool) or not isinstance(getattr(r, k), (int, float))]
        bad += [k for k in _ROW_INTEGERS if isinstance(getattr(r, k), bool) or not isinstance(getattr(r, k), int)]
        if r.experiment not in EXPERIMENT_CONDITIONS:
            bad.append("experiment")
        if bad:
            raise ValueError(f"{path}: row {i} has invalid {', '.join(bad)} ({r}); rewrite it with `{command}`")
    return results


@dataclass
class WeightChoice:
    """The weights chosen on val for one (condition, prior), with the val error reached."""

    condition: str
    prior: str
    smooth_weight: float
    prior_weight: float
    val_v2v_cm: float
    #: HuMoR's contact weight (its ``prior_weight`` is the motion prior's, its ``smooth_weight`` the GMM start's).
    contact_weight: float | None = None

    def __post_init__(self) -> None:
        condition_by_name(self.condition)  # raises naming the known conditions
        if self.prior not in METHOD_NAMES:
            raise ValueError(f"WeightChoice.prior: unknown prior {self.prior!r}; choose from {', '.join(METHOD_NAMES)}")
        for name in ("smooth_weight", "prior_weight", "val_v2v_cm"):
            check_positive(getattr(self, name), f"WeightChoice.{name}", allow_zero=True)
        if self.contact_weight is not None:
            check_positive(self.contact_weight, "WeightChoice.contact_weight", allow_zero=True)


def read_weights(path: str | Path) -> tuple[list[WeightChoice], dict]:
    """The chosen weights and the metadata of a file written by ``humanlib experiment tune``.

    Raises:
        FileNotFoundError: no file, or a folder (names the command that writes it).
        ValueError: not valid JSON, not a weights file of this format, or invalid choices.
    """
    command = f"humanlib experiment tune --out {path}"
    path, payload = _read_json(path, "weights file", WEIGHTS_FORMAT, command)
    try:
        chosen = [WeightChoice(**c) for c in payload["chosen"]]
        metadata = payload["metadata"]
        if not isinstance(metadata, dict):
            raise TypeError("metadata is not an object")
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: not a valid weights file of format {WEIGHTS_FORMAT!r} ({err}); "
                         f"rewrite it with `{command}`") from None
    return chosen, metadata


def run_cells(run: dict, cells: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The ``(condition, prior)`` cells of ``cells`` that a recorded run (``RunMetadata.previous_runs`` entry:
    its ``priors``, and its ``conditions`` when it ran only some) wrote.

    Raises:
        TypeError: ``run`` is not a dict with a list of ``priors``.
    """
    if not isinstance(run, dict) or not isinstance(run.get("priors"), list):
        raise TypeError(f"run must be a previous_runs entry (a dict with a list 'priors'); got {run!r}")
    conditions = run.get("conditions")
    return {(c, p) for c, p in cells if p in run["priors"] and (conditions is None or c in conditions)}


def _same_key(name: str, value):
    """What must agree between two runs to merge: a corpus's fingerprint without the folder it was read from
    (another checkout of the same corpus has the same poses hash)."""
    if name == "corpus" and isinstance(value, str):
        return re.sub(r" \(/[^)]*\)", "", value, count=1)
    return value


def merge_results(old: ResultsFile, new: ResultsFile) -> ResultsFile:
    """``new`` plus the rows of ``old`` for (condition, prior) cells ``new`` did not run (their run is recorded;
    a run of some conditions only records them).

    Raises:
        TypeError: an argument that is not a ``ResultsFile``.
        ValueError: the two runs are of other experiments, or used other windows, seeds or
            corpora (rows would not compare).
    """
    _check_results_file(old, "old")
    _check_results_file(new, "new")
    experiments = ({r.experiment for r in old.rows}, {r.experiment for r in new.rows})
    if all(experiments) and experiments[0] != experiments[1]:
        raise ValueError(f"cannot merge results of another experiment: {sorted(experiments[0])} vs "
                         f"{sorted(experiments[1])}")
    m_old, m_new = old.metadata, new.metadata
    for name in ("seed", "windows", "corpus", "split"):
        if _same_key(name, getattr(m_old, name)) != _same_key(name, getattr(m_new, name)):
            raise ValueError(f"cannot merge results with another {name}: {getattr(m_old, name)!r} vs "
                             f"{getattr(m_new, name)!r}; rerun every prior instead")
    ran = {(r.condition, r.prior) for r in new.rows}  # cells: a run of some conditions keeps the others' rows
    kept = [r for r in old.rows if (r.condition, r.prior) not in ran]
    if kept:
        cells = {(r.condition, r.prior) for r in kept}
        every = {r.condition for r in old.rows + new.rows}  # a run of fewer conditions names them
        earlier = []  # runs before ``old``'s own, with the cells of theirs still in the file
        for run in m_old.previous_runs:
            mine = run_cells(run, cells)
            if mine:
                entry = {**run, "priors": sorted({p for _, p in mine})}
                if run.get("conditions") is not None or {c for c, _ in mine} != every:
                    entry["conditions"] = sorted({c for c, _ in mine})
                earlier.append(entry)
                cells -= mine
        own_run = []
        if cells:  # the rest came from ``old``'s own run
            own_run = [{"command": m_old.command, "git_commit": m_old.git_commit, "machine": m_old.machine,
                        "started_utc": m_old.started_utc, "seconds": m_old.seconds, "weights_file": m_old.weights_file,
                        "priors": sorted({p for _, p in cells})}]
            if {c for c, _ in cells} != every:
                own_run[0]["conditions"] = sorted({c for c, _ in cells})
        m_new.previous_runs = earlier + own_run
        ran_priors = {p for _, p in ran}
        m_new.missing_priors = {k: v for k, v in {**m_old.missing_priors, **m_new.missing_priors}.items()
                                if k not in ran_priors}
    return ResultsFile(m_new, kept + new.rows)


__all__ = [
    "METHOD_NAMES", "PRIOR_NAMES", "RESULTS_FORMAT", "WEIGHTS_FORMAT", "ResultRow", "ResultsFile", "RunMetadata", "WeightChoice",
    "errors_by_source", "merge_results", "run_cells", "read_results", "read_weights", "source_group", "write_results",
]
