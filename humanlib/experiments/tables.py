"""The talk's Tables 3 and 4 (published numbers) and ours in the same layout, as markdown.

Published numbers are per-vertex errors in cm from the talk (Pose-NDF, ECCV 2022), on SMPL and
AMASS / HPS. Ours come from results files of ``humanlib experiment denoise|occlusion``, on the
open body model and the open corpus's test split: the settings differ, so the numbers are put
side by side, not compared as equals.
"""

from __future__ import annotations

import json
from pathlib import Path

from humanlib.experiments.protocol import EXPERIMENT_CONDITIONS, condition_by_name
from humanlib.experiments.results import ResultsFile, read_results, run_cells

WINDOWS = (60, 120, 240)

#: Table 3 of the talk: motion denoising, per-vertex error (cm); columns 60/120/240 frames.
PUBLISHED_TABLE3: dict[str, dict[str, tuple[float, float, float]]] = {
    "VPoser": {"HPS": (4.91, 4.16, 3.81), "AMASS": (1.52, 1.55, 1.47), "Noisy AMASS": (8.96, 9.13, 9.15)},
    "HuMoR": {"HPS": (9.69, 8.73, 10.86), "AMASS": (3.21, 3.62, 3.67), "Noisy AMASS": (11.04, 17.14, 30.31)},
    "Pose-NDF": {"HPS": (2.32, 2.14, 2.11), "AMASS": (0.59, 0.55, 0.54), "Noisy AMASS": (7.96, 8.31, 8.46)},
}

#: Table 4 of the talk: motion completion under occlusion, per-vertex error (cm).
PUBLISHED_TABLE4: dict[str, dict[str, tuple[float, float, float]]] = {
    "VPoser": {"Occ. Leg": (2.53, 2.57, 2.54), "Occ. Arm+hand": (8.51, 8.52, 8.59),
               "Occ. Shoulder+Upper Arm": (9.98, 9.49, 9.48)},
    "HuMoR": {"Occ. Leg": (5.60, 6.19, 9.09), "Occ. Arm+hand": (7.83, 8.44, 10.25),
              "Occ. Shoulder+Upper Arm": (4.75, 5.11, 4.95)},
    "Pose-NDF": {"Occ. Leg": (2.49, 2.51, 2.47), "Occ. Arm+hand": (7.81, 8.13, 7.98),
                 "Occ. Shoulder+Upper Arm": (7.63, 7.89, 6.76)},
}

#: Table rows: our method name -> the label (HuMoR's row: HUMOR_NOTE where a results file has no HuMoR rows).
ROW_LABELS: dict[str, str] = {"none": "none (smoothness only)", "gmm": "GMM", "vposer": "VPoser (fit in z)",
                              "vposer-pose": "VPoser (pose space, ‖μ(θ)‖²)", "humor": "HuMoR",
                              "posendf": "Pose-NDF"}
HUMOR_NOTE = "not run: add it with `humanlib experiment denoise --priors humor --merge` (occlusion likewise)"
#: How our HuMoR row differs from the paper's (shown next to its numbers).
HUMOR_DIFFERENCES = (
    "HuMoR (ours) differs from the paper's: a smaller model (latent 32, MLPs of 2 x 256) trained for 6,000 steps "
    "on the open corpus's train split rebuilt at 30 fps with the open body model (results/humor/README.md), not on "
    "AMASS with SMPL+H; its test-time optimisation fits short overlapping segments (5 frames) of each window "
    "instead of one rollout of the whole window, starts from our GMM-prior fit (the paper's from VPoser), fits "
    "the mean shape and has no image term; its prior and contact weights are chosen on val (4 windows of 60 "
    "frames) on a 5-point grid. The published HuMoR numbers are those of the talk's tables (SMPL, AMASS and HPS).")
#: Error fields of a results row that ``results_table`` can show (``accel_ms2``: HuMoR's rows, and rows that have it).
METRICS: tuple[str, ...] = ("v2v_cm", "joint_angle_deg", "joint_cm", "accel_ms2")


def _check_results(results: object) -> None:
    if not isinstance(results, ResultsFile):
        raise TypeError(f"results must be a ResultsFile (from humanlib.experiments.runner.read_results); "
                        f"got {type(results).__name__}")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table from a header and rows of cell texts.

    A ``|`` inside a cell (``|z|``) is escaped, so that it does not end the cell: an unescaped
    one splits the row into too many cells and the whole table prints as text.

    Raises:
        TypeError: a header entry or cell that is not a string.
        ValueError: an empty header, or a row whose length differs from the header's.
    """
    header, rows = list(header), [list(r) for r in rows]
    if not header:
        raise ValueError("header is empty; give at least one column name")
    for i, r in enumerate([header] + rows):
        where = "header" if i == 0 else f"row {i - 1}"
        if i > 0 and len(r) != len(header):
            raise ValueError(f"{where} has {len(r)} cells but the header has {len(header)} columns")
        bad = [c for c in r if not isinstance(c, str)]
        if bad:
            raise TypeError(f"{where}: cells must be strings (format numbers first, e.g. f'{{x:.2f}}'); got {bad[0]!r}")

    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [line(header), "|" + "|".join([" --- "] * len(header)) + "|"]
    lines += [line(r) for r in rows]
    return "\n".join(lines)


def published_table(table: dict[str, dict[str, tuple[float, float, float]]]) -> str:
    """A published table as markdown: rows methods, columns (data, frames).

    Raises:
        ValueError: an empty table, methods with other columns, or a cell without one number
            per window length (60, 120, 240).
    """
    if not isinstance(table, dict) or not table:
        raise ValueError(f"table must be a non-empty dict method -> {{column: (60, 120, 240 frames)}}; got {table!r}")
    columns = list(next(iter(table.values())))
    for method, cells in table.items():
        if not isinstance(cells, dict) or list(cells) != columns:
            raise ValueError(f"table row {method!r} must have the columns {columns}; got {cells!r}")
        for column, values in cells.items():
            if not isinstance(values, (tuple, list)) or len(values) != len(WINDOWS):
                raise ValueError(f"table cell {method!r}/{column!r} must hold {len(WINDOWS)} numbers "
                                 f"(windows {WINDOWS}); got {values!r}")
    header = ["method"] + [f"{c} {n}" for c in columns for n in WINDOWS]
    rows = [[m] + [f"{v:.2f}" for c in columns for v in cells[c]] for m, cells in table.items()]
    return markdown_table(header, rows)


def results_table(results: ResultsFile, metric: str = "v2v_cm", with_input: bool = True,
                  source: str | None = None) -> str:
    """Our results in the layout of the talk's tables (markdown).

    Rows: none, GMM, VPoser, HuMoR, Pose-NDF (and the observation itself when
    ``with_input`` and the condition has an input mesh error). Columns: each condition of the
    file, then each window length. A prior missing from the run, or a metric a row did not
    compute, shows "—"; a file without HuMoR rows shows ``HUMOR_NOTE`` in HuMoR's row.
    ``source`` (``"cmu"``, ``"bandai-namco"``): the same table on that source's windows only
    (``ResultRow.by_source``; no observation row); a cell without such windows shows "—".

    Raises:
        TypeError: ``results`` is not a ``ResultsFile``.
        ValueError: ``metric`` is not one of the rows' error fields.
    """
    _check_results(results)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}; got {metric!r}")
    experiment = results.rows[0].experiment if results.rows else "denoise"
    conditions = [c for c in EXPERIMENT_CONDITIONS[experiment] if any(r.condition == c.name for r in results.rows)]
    windows = sorted({r.window for r in results.rows})
    header = ["method"] + [f"{c.label or c.name}, {w}" for c in conditions for w in windows]
    rows = []
    if with_input and metric == "v2v_cm" and source is None:
        cells = []
        for c in conditions:
            for w in windows:
                r = next((r for r in results.rows if (r.condition, r.window) == (c.name, w)), None)
                cells.append("—" if r is None or r.input_v2v_cm is None else f"{r.input_v2v_cm:.2f}")
        if any(x != "—" for x in cells):
            rows.append(["observation (no fit)"] + cells)
    has_humor = any(r.prior == "humor" for r in results.rows)
    for prior, label in ROW_LABELS.items():
        if prior == "humor" and not has_humor:
            rows.append([label] + [HUMOR_NOTE if i == 0 else "" for i in range(len(header) - 1)])
            continue
        cells = []
        for c in conditions:
            for w in windows:
                r = results.row(c.name, prior, w)
                if source is not None:
                    part = None if r is None else r.by_source.get(source)
                    cells.append("—" if part is None or part.get(metric) is None else f"{part[metric]:.2f}")
                else:
                    cells.append("—" if r is None or getattr(r, metric) is None else f"{getattr(r, metric):.2f}")
        rows.append([label] + cells)
    return markdown_table(header, rows)


def improvement_table(results: ResultsFile, source: str | None = None) -> str:
    """Per-vertex error of each prior relative to no prior, in percent (markdown).

    A cell is ``100 * (prior - none) / none`` for one condition and window length: negative when
    the prior helps (-10 % is a tenth less error than smoothness alone). Same layout and
    ``source`` as :func:`results_table`; "—" where a row is missing.

    Raises:
        TypeError: ``results`` is not a ``ResultsFile``.
    """
    _check_results(results)
    experiment = results.rows[0].experiment if results.rows else "denoise"
    conditions = [c for c in EXPERIMENT_CONDITIONS[experiment] if any(r.condition == c.name for r in results.rows)]
    windows = sorted({r.window for r in results.rows})
    header = ["prior, error vs none"] + [f"{c.label or c.name}, {w}" for c in conditions for w in windows]

    def error(condition: str, prior: str, window: int) -> float | None:
        r = results.row(condition, prior, window)
        if r is None:
            return None
        if source is None:
            return r.v2v_cm
        part = r.by_source.get(source)
        return None if part is None else part["v2v_cm"]

    rows = []
    for prior, label in ROW_LABELS.items():
        if prior == "none" or (prior == "humor" and not any(r.prior == "humor" for r in results.rows)):
            continue
        cells = []
        for c in conditions:
            for w in windows:
                base, value = error(c.name, "none", w), error(c.name, prior, w)
                cells.append("—" if base is None or value is None or base <= 0 else f"{100 * (value - base) / base:+.0f} %")
        rows.append([label] + cells)
    return markdown_table(header, rows)


def side_by_side(results: ResultsFile, ours: str, published: dict, column: str) -> str:
    """One of our conditions beside the closest published column (markdown; VPoser, HuMoR, Pose-NDF rows;
    "—" where we have no row).

    Raises:
        TypeError: ``results`` is not a ``ResultsFile``.
        ValueError: an unknown condition ``ours``, a published table without VPoser and
            Pose-NDF rows, or a ``column`` it does not have.
    """
    _check_results(results)
    condition_by_name(ours)  # raises naming the known conditions
    for label in ("VPoser", "Pose-NDF"):
        if not isinstance(published, dict) or label not in published:
            raise ValueError(f"published must be a table with a {label!r} row (PUBLISHED_TABLE3 or PUBLISHED_TABLE4)")
        if column not in published[label]:
            raise ValueError(f"unknown published column {column!r}; the table has {list(published[label])}")
    header = ["method"] + [f"ours {w}" for w in WINDOWS] + [f"published {w}" for w in WINDOWS]
    rows = []
    for prior, label in (("vposer", "VPoser"), ("humor", "HuMoR"), ("posendf", "Pose-NDF")):
        if label not in published:
            continue
        mine = [results.row(ours, prior, w) for w in WINDOWS]
        rows.append([label] + ["—" if r is None else f"{r.v2v_cm:.2f}" for r in mine]
                    + [f"{v:.2f}" for v in published[label][column]])
    return markdown_table(header, rows)


#: Table 5 of the talk, "Optimization" columns: per-vertex error (mm) of fitting to images.
PUBLISHED_TABLE5_OPTIMIZATION: dict[str, float] = {"VPoser": 60.34, "GAN-S": 59.18, "Pose-NDF": 57.39}
#: Written by ``humanlib smplify-eval --learned`` (``humanlib.fitting.jobs``).
SMPLIFY_RESULTS = "smplify_ablation.json"


def fitting_table(results_dir: str | Path) -> str:
    """The 2D-keypoint fitting results of the SMPLify chapter beside the talk's Table 5 (markdown).

    Reads ``results_dir/smplify_ablation.json`` (not recomputed here); a missing file gives a
    sentence naming the command that writes it.

    Raises:
        NotADirectoryError: ``results_dir`` is a file (give its folder).
        ValueError: the results file is not valid JSON or lacks the expected fields.
    """
    folder = Path(results_dir)
    if folder.is_file():
        raise NotADirectoryError(f"results_dir must be the folder that holds {SMPLIFY_RESULTS}; {folder} is a file")
    path = folder / SMPLIFY_RESULTS
    if not path.is_file():
        return (f"*No results file `{path.name}` yet: it is written by "
                "`humanlib smplify-eval --learned --out results` (SMPLify chapter).*")
    rewrite = "rewrite it with `humanlib smplify-eval --learned --out results`"
    try:
        payload = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); {rewrite}") from None
    variants = payload.get("variants", []) if isinstance(payload, dict) else None
    if not isinstance(variants, list) or not all(isinstance(v, dict) and "name" in v and (
            "skipped" in v or {"prior", "v2v", "v2v_pa"} <= set(v)) for v in variants):
        raise ValueError(f"{path} is not a SMPLify results file: it needs a list 'variants' of "
                         f"{{name, prior, v2v, v2v_pa}} (or {{name, skipped}}); {rewrite}")
    header = ["variant", "prior", "v2v (mm)", "v2v after Procrustes (mm)", "published (mm)"]
    rows = []
    published = {"vposer": "VPoser", "posendf": "Pose-NDF"}
    for v in payload.get("variants", []):
        pub = PUBLISHED_TABLE5_OPTIMIZATION.get(published.get(v.get("prior", ""), ""), None)
        pub_text = "—" if pub is None else f"{pub:.2f}"
        if "skipped" in v:
            rows.append([v["name"], v.get("prior", ""), "not run", "", pub_text])
        else:
            rows.append([v["name"], v["prior"], f"{v['v2v']:.1f}", f"{v['v2v_pa']:.1f}", pub_text])
    protocol = payload.get("protocol", {})
    note = (f"\n\n{protocol.get('frames', '?')} synthetic frames of test-split poses; command: "
            f"`{payload.get('command', '?')}`; machine: {payload.get('machine', '?')}. The published numbers "
            "are fits to real images (3DPW), not to synthetic keypoints: same question, other data.")
    return markdown_table(header, rows) + note


def runs_text(results: ResultsFile) -> str:
    """The command(s) that wrote a results file, one per run (priors merged later with ``--merge``
    are listed with their own run), with commit, time, machine, window counts and seed.

    Raises:
        TypeError: ``results`` is not a ``ResultsFile``.
    """
    _check_results(results)
    meta = results.metadata
    cells = {(r.condition, r.prior) for r in results.rows}
    for run in meta.previous_runs:
        cells -= run_cells(run, cells)
    last = {"command": meta.command, "git_commit": meta.git_commit, "machine": meta.machine,
            "seconds": meta.seconds, "priors": sorted({p for _, p in cells})}
    if {c for c, _ in cells} != {r.condition for r in results.rows}:
        last["conditions"] = sorted({c for c, _ in cells})
    lines = []
    for run in meta.previous_runs + [last]:
        only = f" ({', '.join(run['conditions'])} only)" if run.get("conditions") else ""
        lines.append(f"{run['command']}\n    priors {', '.join(run['priors'])}{only}; commit {run['git_commit'][:12]}; "
                     f"{run['seconds']:.0f} s on {run['machine']}")
    lines.append(f"windows per length: { {k: len(v) for k, v in meta.windows.items()} }; seed {meta.seed}")
    lines += [f"not run: {name} ({reason.split(';')[0]})" for name, reason in meta.missing_priors.items()]
    return "\n".join(lines)


def experiment_tables(folder: str | Path) -> str:
    """Every table of the chapter as one markdown text (what ``humanlib experiment tables`` prints).

    A missing ``denoise.json`` / ``occlusion.json`` is said in the text.

    Raises:
        FileNotFoundError: ``folder`` does not exist, or is a file.
        ValueError: a results file there is corrupt (see ``humanlib.experiments.runner.read_results``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.is_file() else "does not exist"
        raise FileNotFoundError(f"results folder {folder} {state}; write the results with "
                                f"`humanlib experiment denoise|occlusion --out {folder}`")
    parts = []
    for name, title, published in (("denoise", "Motion denoising (cf. Table 3)", PUBLISHED_TABLE3),
                                   ("occlusion", "Occlusion (cf. Table 4)", PUBLISHED_TABLE4)):
        parts.append(f"## {title}\n\nPublished (SMPL, AMASS/HPS):\n\n{published_table(published)}\n")
        path = folder / f"{name}.json"
        if path.is_file():
            res = read_results(path)
            parts.append(f"Ours (open body, open corpus test split), per-vertex error in cm:\n\n{results_table(res)}\n\n"
                         f"Ours, joint-angle error in degrees:\n\n{results_table(res, 'joint_angle_deg')}\n\n")
            if any(r.accel_ms2 is not None for r in res.rows):
                parts.append(f"Ours, acceleration error in m/s² (HuMoR's Accel; rows that computed it):\n\n"
                             f"{results_table(res, 'accel_ms2', with_input=False)}\n\n")
            if any(r.prior == "humor" for r in res.rows):
                parts.append(f"{HUMOR_DIFFERENCES}\n\n")
            parts.append(f"```\n{runs_text(res)}\n```\n")
        else:
            parts.append(f"(no {path} yet)\n")
    return "\n".join(parts)


__all__ = ["HUMOR_DIFFERENCES", "HUMOR_NOTE", "PUBLISHED_TABLE5_OPTIMIZATION", "fitting_table", "improvement_table", "markdown_table", "PUBLISHED_TABLE3", "PUBLISHED_TABLE4", "ROW_LABELS", "experiment_tables",
           "published_table", "results_table", "runs_text", "side_by_side"]
