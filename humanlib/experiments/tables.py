"""The talk's Tables 3 and 4 (published numbers) and ours in the same layout, as markdown.

Published numbers are per-vertex errors in cm from the talk (Pose-NDF, ECCV 2022), on SMPL and
AMASS / HPS. Ours come from results files of ``humanlib experiment denoise|occlusion``, on the
open body model and the open corpus's test split: the settings differ, so the numbers are put
side by side, not compared as equals.
"""

from __future__ import annotations

import json
from pathlib import Path

from humanlib.experiments.protocol import EXPERIMENT_CONDITIONS
from humanlib.experiments.runner import ResultsFile, read_results

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

#: Table rows: our prior name -> the label (HuMoR has no row of ours: see HUMOR_NOTE).
ROW_LABELS: dict[str, str] = {"none": "none (smoothness only)", "gmm": "GMM", "vposer": "VPoser (fit in z)",
                              "vposer-pose": "VPoser (pose space, ‖μ(θ)‖²)", "humor": "HuMoR",
                              "posendf": "Pose-NDF"}
HUMOR_NOTE = "out of scope (a motion model, not a pose prior)"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table from a header and rows of cell texts."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * len(header)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def published_table(table: dict[str, dict[str, tuple[float, float, float]]]) -> str:
    """A published table as markdown: rows methods, columns (data, frames)."""
    columns = list(next(iter(table.values())))
    header = ["method"] + [f"{c} {n}" for c in columns for n in WINDOWS]
    rows = [[m] + [f"{v:.2f}" for c in columns for v in cells[c]] for m, cells in table.items()]
    return markdown_table(header, rows)


def results_table(results: ResultsFile, metric: str = "v2v_cm", with_input: bool = True) -> str:
    """Our results in the layout of the talk's tables (markdown).

    Rows: none, GMM, VPoser, HuMoR (out of scope), Pose-NDF (and the observation itself when
    ``with_input`` and the condition has an input mesh error). Columns: each condition of the
    file, then each window length. A prior missing from the run shows "—".
    """
    experiment = results.rows[0].experiment if results.rows else "denoise"
    conditions = [c for c in EXPERIMENT_CONDITIONS[experiment] if any(r.condition == c.name for r in results.rows)]
    windows = sorted({r.window for r in results.rows})
    header = ["method"] + [f"{c.label or c.name}, {w}" for c in conditions for w in windows]
    rows = []
    if with_input and metric == "v2v_cm":
        cells = []
        for c in conditions:
            for w in windows:
                r = next((r for r in results.rows if (r.condition, r.window) == (c.name, w)), None)
                cells.append("—" if r is None or r.input_v2v_cm is None else f"{r.input_v2v_cm:.2f}")
        if any(x != "—" for x in cells):
            rows.append(["observation (no fit)"] + cells)
    for prior, label in ROW_LABELS.items():
        if prior == "humor":
            rows.append([label] + [HUMOR_NOTE if i == 0 else "" for i in range(len(header) - 1)])
            continue
        cells = []
        for c in conditions:
            for w in windows:
                r = results.row(c.name, prior, w)
                cells.append("—" if r is None else f"{getattr(r, metric):.2f}")
        rows.append([label] + cells)
    return markdown_table(header, rows)


def side_by_side(results: ResultsFile, ours: str, published: dict, column: str) -> str:
    """One of our conditions beside the closest published column (markdown; VPoser, Pose-NDF rows)."""
    header = ["method"] + [f"ours {w}" for w in WINDOWS] + [f"published {w}" for w in WINDOWS]
    rows = []
    for prior, label in (("vposer", "VPoser"), ("posendf", "Pose-NDF")):
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
    """
    path = Path(results_dir) / SMPLIFY_RESULTS
    if not path.is_file():
        return (f"*No results file `{path.name}` yet: it is written by "
                "`humanlib smplify-eval --learned --out results` (SMPLify chapter).*")
    payload = json.loads(path.read_text())
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
    are listed with their own run), with commit, time, machine, window counts and seed."""
    meta = results.metadata
    earlier = {p for run in meta.previous_runs for p in run["priors"]}
    last = {"command": meta.command, "git_commit": meta.git_commit, "machine": meta.machine,
            "seconds": meta.seconds, "priors": sorted({r.prior for r in results.rows} - earlier)}
    lines = []
    for run in meta.previous_runs + [last]:
        lines.append(f"{run['command']}\n    priors {', '.join(run['priors'])}; commit {run['git_commit'][:12]}; "
                     f"{run['seconds']:.0f} s on {run['machine']}")
    lines.append(f"windows per length: { {k: len(v) for k, v in meta.windows.items()} }; seed {meta.seed}")
    lines += [f"not run: {name} ({reason.split(';')[0]})" for name, reason in meta.missing_priors.items()]
    return "\n".join(lines)


def experiment_tables(folder: str | Path) -> str:
    """Every table of the chapter as one markdown text (what ``humanlib experiment tables`` prints)."""
    folder = Path(folder)
    parts = []
    for name, title, published in (("denoise", "Motion denoising (cf. Table 3)", PUBLISHED_TABLE3),
                                   ("occlusion", "Occlusion (cf. Table 4)", PUBLISHED_TABLE4)):
        parts.append(f"## {title}\n\nPublished (SMPL, AMASS/HPS):\n\n{published_table(published)}\n")
        path = folder / f"{name}.json"
        if path.is_file():
            res = read_results(path)
            parts.append(f"Ours (open body, open corpus test split), per-vertex error in cm:\n\n{results_table(res)}\n\n"
                         f"Ours, joint-angle error in degrees:\n\n{results_table(res, 'joint_angle_deg')}\n\n"
                         f"```\n{runs_text(res)}\n```\n")
        else:
            parts.append(f"(no {path} yet)\n")
    return "\n".join(parts)


__all__ = ["HUMOR_NOTE", "PUBLISHED_TABLE5_OPTIMIZATION", "fitting_table", "markdown_table", "PUBLISHED_TABLE3", "PUBLISHED_TABLE4", "ROW_LABELS", "experiment_tables",
           "published_table", "results_table", "runs_text", "side_by_side"]
