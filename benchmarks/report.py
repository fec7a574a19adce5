"""Targets and the markdown table of a results dictionary (written by :mod:`benchmarks.run`).

Everything here is computed from the results file, so ``--add-timing`` can re-render the
table without measuring again.
"""

from __future__ import annotations

import math

from benchmarks.timing import describe_machine

#: Where the book's appendix starts including the markdown file (after the title).
BODY_MARKER = "<!-- benchmarks-body -->"

#: The end-to-end jobs the lead times by hand (``--add-timing NAME=SECONDS[=COMMAND]``).
END_TO_END_DEFAULTS: dict[str, dict] = {
    "book": {"label": "Book build, every notebook executed (clean cache)", "command": "make clean && make book"},
    "tests": {"label": "Test suite (unit tests, notebooks under nbval, built book in Chromium)", "command": "make test"},
}

PROJECTION_LIMIT_S = 10.0
SMPLIFY_SPEEDUP = 10.0
#: Frames/s of SMPLify at batch 64 on the 2-core CPU (issue 19), and the speed-up of 2 workers over 1.
SMPLIFY_FPS = 100.0
WORKER_SCALING = 1.6


def _num(x: float | None, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits and thousands separators (``-`` for None)."""
    if x is None:
        return "-"
    if x == 0 or not math.isfinite(x):
        return str(x)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{x:,.{decimals}f}"


def _yes(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def _rows(results: dict, section: str) -> list[dict]:
    return (results.get("sections", {}).get(section) or {}).get("rows", [])


def evaluate_targets(results: dict) -> list[dict]:
    """The issue's targets, each with what was measured and whether it is met (None: not measured)."""
    targets = []
    forward = _rows(results, "body_forward")
    for device in sorted({r["device"] for r in forward}):
        for batch in sorted({r["batch"] for r in forward if r["device"] == device}):
            by = {r["impl"]: r for r in forward if r["device"] == device and r["batch"] == batch}
            if {"ours", "smplx"} <= by.keys():
                ours, theirs = by["ours"]["ms"], by["smplx"]["ms"]
                targets.append({
                    "target": f"forward pass at least as fast as smplx ({device}, batch {batch})",
                    "measured": f"{_num(ours)} ms vs {_num(theirs)} ms ({_num(theirs / ours, 2)}x)",
                    "met": ours <= theirs,
                })
    for row in _rows(results, "posendf"):
        if row["task"] == "projection":
            full = row.get("poses") == 1000 and row.get("steps") == 100
            targets.append({
                "target": f"Pose-NDF projection of 1,000 poses x 100 steps under {PROJECTION_LIMIT_S:g} s",
                "measured": f"{_num(row['seconds'])} s" + ("" if full else f" ({row['poses']} poses x {row['steps']} steps)"),
                "met": row["seconds"] < PROJECTION_LIMIT_S if full else None,
            })
    smplify = _rows(results, "smplify")
    for prior in dict.fromkeys(r["prior"] for r in smplify):
        fps = {r["batch"]: r["fps"] for r in smplify if r["prior"] == prior and r.get("optimizer", "per-frame") == "per-frame"}
        if 64 in fps and prior == "gmm-min":
            targets.append({
                "target": f"SMPLify ({prior} prior, one L-BFGS per frame): batch 64 at least {SMPLIFY_FPS:g} frames/s",
                "measured": f"{_num(fps[64])} frames/s",
                "met": fps[64] >= SMPLIFY_FPS,
            })
        if 1 in fps and 64 in fps:
            ratio = fps[64] / fps[1]
            targets.append({
                "target": f"SMPLify ({prior} prior): batch 64 at least {SMPLIFY_SPEEDUP:g}x the frames/s of batch 1",
                "measured": f"{_num(fps[64])} vs {_num(fps[1])} frames/s ({_num(ratio, 2)}x)",
                "met": ratio >= SMPLIFY_SPEEDUP,
            })
    scaling = {r["workers"]: r["fps"] for r in _rows(results, "dataset_fit")}
    if 1 in scaling and 2 in scaling:
        frames = _rows(results, "dataset_fit")[0]["frames"]
        targets.append({
            "target": f"dataset fit, 2 CPU workers at least {WORKER_SCALING:g}x the frames/s of 1 ({frames} frames)",
            "measured": f"{_num(scaling[2])} vs {_num(scaling[1])} frames/s ({_num(scaling[2] / scaling[1], 2)}x)",
            "met": scaling[2] / scaling[1] >= WORKER_SCALING if frames >= 512 else None,
        })
    return targets


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _when(section: dict, cores: int) -> str:
    before, after = section["load_average_before"][0], section["load_average_after"][0]
    return (f"*Measured {section['date_utc']} in {section['seconds']:.0f} s; 1-minute load average "
            f"{before:g} before, {after:g} after ({cores} cores).*")


def render_markdown(results: dict) -> str:
    """The results as markdown: a title, then (after :data:`BODY_MARKER`) the facts and tables."""
    meta, sections = results["meta"], results.get("sections", {})
    cores = meta["machine"]["usable_cpus"]
    out = ["# Benchmark results", "",
           "<!-- Generated by benchmarks/run.py from benchmarks.json: edit the code, not this file. -->", "",
           BODY_MARKER, ""]
    out += [
        f"- **Command:** `{meta['command']}`" + (" (quick smoke sizes: the numbers mean nothing)" if meta.get("quick") else ""),
        f"- **Machine:** {describe_machine(meta['machine'])}",
        f"- **Date:** {meta['date_utc']}; code at commit `{meta['machine']['git']}`",
        f"- **Method:** each figure is the median of several timed runs after one warm-up run "
        f"(`time.perf_counter`); the repeat counts are in `benchmarks.json`. "
        f"Load average: the number of runnable processes; {cores} means the {cores} cores are fully busy.",
        "",
    ]
    targets = evaluate_targets(results)
    if targets:
        out += ["## Targets", ""]
        out += _table(["Target", "Measured", "Met"], [[t["target"], t["measured"], _yes(t["met"])] for t in targets])
        out.append("")

    if "body_forward" in sections:
        s = sections["body_forward"]
        out += ["## Body-model forward pass", "",
                "Vertices and joints of B bodies (random shapes, poses and translations), no autograd; "
                "ours (`humanlib.body.load_body_model`) and smplx's `SMPL` class load the same open model file. "
                "Peak memory: tensor memory allocated during one call (torch profiler records), "
                "beyond the model's buffers and the inputs.", ""]
        rows = []
        for device in dict.fromkeys(r["device"] for r in s["rows"]):
            for batch in dict.fromkeys(r["batch"] for r in s["rows"] if r["device"] == device):
                by = {r["impl"]: r for r in s["rows"] if r["device"] == device and r["batch"] == batch}
                o, t = by.get("ours"), by.get("smplx")
                if o is None or t is None:
                    continue
                rows.append([device, str(batch), _num(o["ms"]), _num(t["ms"]), _num(t["ms"] / o["ms"], 2) + "x",
                             _num(o["peak_mb"]), _num(t["peak_mb"]), _num(o["bodies_per_s"])])
        out += _table(["Device", "Batch", "Ours (ms)", "smplx (ms)", "Speed of ours vs smplx",
                       "Ours peak (MB)", "smplx peak (MB)", "Ours (bodies/s)"], rows)
        storage = {r["impl"]: r["model_mb"] for r in s["rows"] if r["device"] == "cpu"}
        if {"ours", "smplx"} <= storage.keys():
            out += ["", f"Memory held by the models' buffers (the storages behind them): ours {_num(storage['ours'])} MB, "
                    f"smplx {_num(storage['smplx'])} MB."]
        if not meta["machine"]["gpu"]:
            out += ["", "No GPU on this machine: the GPU rows are missing (the command adds them where "
                    "`torch.cuda.is_available()`)."]
        out += ["", _when(s, cores), ""]
        profile = results.get("profile")
        if profile:
            out += [f"Where the time goes at batch {profile['batch']} (torch profiler, one call, share of CPU time):", ""]
            prof_rows = []
            for impl in ("ours", "smplx"):
                for op in profile["ops"].get(impl, [])[:4]:
                    prof_rows.append([impl, f"`{op['op']}`", op["input_shapes"].replace("|", "/"), _num(100 * op["share"], 2) + " %"])
            out += _table(["Implementation", "Operator", "Input shapes", "Share"], prof_rows)
            out.append("")

    if "smplify" in sections:
        s = sections["smplify"]
        batches = sorted({r["batch"] for r in s["rows"]})
        out += ["## SMPLify fitting throughput", "",
                f"Frames fitted per second by `fit_smplify` on synthetic keypoints ({s['synthetic']}), "
                f"with {s['iterations']} L-BFGS iterations for the camera step and for each of the four stages "
                "(the course's default is 30; the time per frame grows with them). "
                "The flip test refits side views, so a batch fits more bodies than it has frames.", ""]
        rows = []
        runs = dict.fromkeys((r["prior"], r.get("optimizer", "per-frame")) for r in s["rows"])
        for prior, optimizer in runs:
            by = {r["batch"]: r for r in s["rows"] if r["prior"] == prior and r.get("optimizer", "per-frame") == optimizer}
            weights = next(iter(by.values()))["weights"]
            ratio = by[max(batches)]["fps"] / by[min(batches)]["fps"] if len(batches) > 1 else None
            rows.append([prior, optimizer, weights] + [_num(by[b]["fps"]) if b in by else "-" for b in batches]
                        + [_num(ratio, 2) + "x" if ratio else "-"])
        out += _table(["Prior", "Solver", "Weights"] + [f"Batch {b} (frames/s)" for b in batches]
                      + [f"Batch {max(batches)} / batch {min(batches)}"], rows)
        out += ["", "Solver `per-frame`: one L-BFGS per frame (the default; a frame's fit does not depend on its "
                "batch); `batch`: one L-BFGS on the batch's summed energy (the solver before it).", "",
                _when(s, cores), ""]

    if "dataset_fit" in sections:
        s = sections["dataset_fit"]
        out += ["## Fitting a dataset over workers", "",
                f"`humanlib fit DIR` under `torchrun --nproc-per-node N` on {s['rows'][0]['frames']} synthetic frames "
                f"(files of 64), GMM min prior, {s['iterations']} iterations per stage; the whole command timed "
                "(start-up, loading, fitting, merging).", ""]
        rows = [[str(r["workers"]), str(r["threads_per_worker"]), _num(r["seconds"]), _num(r["fps"])] for r in s["rows"]]
        out += _table(["Workers", "Threads per worker", "Seconds", "Frames/s"], rows)
        out += ["", _when(s, cores), ""]

    for key, title in (("posendf", "Pose-NDF"), ("vposer", "VPoser"), ("humor", "HuMoR")):
        if key not in sections:
            continue
        s = sections[key]
        out += [f"## {title}", ""]
        rows = []
        for r in s["rows"]:
            per = f"{_num(1e3 * r['seconds'])} ms" if r["unit"] == "steps/s" else f"{_num(r['seconds'])} s"
            extra = f"; {_num(r['ns_per_pair'])} ns per (query, manifold pose) pair" if "ns_per_pair" in r else ""
            weights = f"; {r['weights']} weights" if "weights" in r else ""
            rows.append([r["task"].replace("_", " "), r["setting"] + extra + weights, per,
                         f"{_num(r['throughput'])} {r['unit']}"])
        out += _table(["Task", "Setting", "Median time (per call or step)", "Throughput"], rows)
        out += ["", _when(s, cores), ""]

    if "collision" in sections:
        s = sections["collision"]
        out += ["## SMPLify-X's collision term E_c", "",
                "One evaluation of `humanlib.fitting.collision` on the open SMPL-X-layout mesh (27,420 triangles), "
                "the left hand pushed through the torso: `search` finds the intersecting triangle pairs (grid broad "
                "phase, segment-triangle narrow phase), `energy` is E_c on them with its gradient to the vertices, "
                "`total` both.", ""]
        rows = [[r["device"], str(r["batch"]), r["phase"], str(r["pairs"]), _num(r["ms"]), _num(r["ms_per_body"])]
                for r in s["rows"]]
        out += _table(["Device", "Batch", "Phase", "Pairs", "Median (ms)", "Per body (ms)"], rows)
        out += ["", _when(s, cores), ""]

    out += ["## End to end", "",
            f"Wall time on this {cores}-core CPU, measured by hand and added with "
            "`python -m benchmarks.run --out DIR --add-timing NAME=SECONDS[=COMMAND]`.", ""]
    e2e = results.get("end_to_end", {})
    rows = []
    for name, default in END_TO_END_DEFAULTS.items():
        entry = {**default, **e2e.get(name, {})}
        seconds = entry.get("seconds")
        rows.append([entry["label"], f"`{entry['command']}`",
                     f"{_num(seconds)} s ({entry.get('date_utc', '')})" if seconds is not None else "not measured yet"])
    for name, entry in e2e.items():
        if name not in END_TO_END_DEFAULTS:
            rows.append([entry.get("label", name), f"`{entry.get('command', '')}`",
                         f"{_num(entry['seconds'])} s ({entry.get('date_utc', '')})"])
    out += _table(["Job", "Command", "Wall time"], rows)
    out.append("")
    return "\n".join(out)
