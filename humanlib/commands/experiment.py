"""``humanlib experiment denoise|occlusion|tune|tables``: the motion experiments (:mod:`humanlib.experiments.runner`)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
import json
from pathlib import Path
import sys
import time

import torch

from humanlib.commands.args import (
    add_out, add_seed, add_threads, add_val_windows, device, DEVICE_HELP, nonnegative_int, output_file, output_folder,
    positive_float, positive_int,
)
from humanlib.experiments.denoise import SHIPPED_WEIGHTS
from humanlib.experiments.runner import (
    ExperimentConfig,
    merge_results,
    parse_ints,
    parse_priors,
    PRIOR_GRIDS,
    PRIOR_NAMES,
    read_results,
    read_weights,
    run_experiment,
    TEST_FPS,
    tune_weights,
    TuneConfig,
    val_clips_at,
    WeightChoice,
    WEIGHTS_FORMAT,
    write_results,
)
from humanlib.provenance import command_line, git_commit, machine_description


#: ``--seed``'s help in every experiment that corrupts motions.
SEED_HELP = "seed of the corruption (default 0)"
#: ``--out``'s default; with ``--motions DIR``, a folder named after DIR below it.
DEFAULT_OUT = "results/experiments"
MOTIONS_HELP = ("a folder of your own motions, of any name: a motion folder of `humanlib retarget`, or AMASS .npz "
                "files in sub-folders (default: the course's test split)")
UP_HELP = ("up axis of --motions' files: y (SMPL's frame) or z (AMASS's world, turned to Y up by (x, y, z) -> "
           "(x, z, -y)); default: from the files (motions.json; AMASS files: z)")
FPS_HELP = "frame rate of --motions' files that carry none (default: from the files; a contradiction is an error)"


def _motions_name(args: argparse.Namespace) -> str | None:
    """The name of ``--motions``' folder (None without it); ``--up`` / ``--fps`` need ``--motions``."""
    if args.motions is None:
        if args.up is not None or args.fps is not None:
            raise ValueError("--up and --fps describe the files of --motions DIR; give --motions DIR (or drop them)")
        return None
    return Path(args.motions).expanduser().resolve().name


def _read_motions(args: argparse.Namespace, windows: tuple[int, ...]):
    from humanlib.data.motions import check_window_lengths, read_motion_folder

    motions = read_motion_folder(args.motions, up=args.up, fps=args.fps)
    check_window_lengths(motions, windows)
    print(f"motions: {motions.describe()}", flush=True)
    return motions


def _run_experiment_cli(args: argparse.Namespace) -> int:
    name = _motions_name(args)
    if args.out is None:
        args.out = DEFAULT_OUT if name is None else f"{DEFAULT_OUT}/{name}"
    path = output_folder(args.out) / f"{args.experiment}.json"
    old = read_results(path) if args.merge and path.is_file() else None  # a damaged file fails before the work
    weights, weights_file = None, None
    if args.weights is None:
        args.weights = str(SHIPPED_WEIGHTS)
    if args.weights != "none":
        weights, _ = read_weights(args.weights)
        weights_file = args.weights
    config = ExperimentConfig(
        experiment=args.experiment, priors=parse_priors(args.priors), windows=parse_ints(args.windows, "--windows"),
        frames_per_length=args.frames_per_length or None, seed=args.seed, iterations=args.iterations,
        device=args.device, allow_missing=args.allow_missing,
        conditions=tuple(args.conditions.split(",")) if args.conditions else None,
    )
    motions = None if name is None else _read_motions(args, config.windows)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    given = {} if motions is None else {"clips": motions.experiment_clips(), "fps": motions.fps, "data": motions.name}
    results = run_experiment(config, weights=weights, weights_file=weights_file, command=command_line(default="humanlib experiment"),
                             progress=True if not args.quiet else lambda s: print(s, flush=True), **given)
    if motions is not None:
        results.metadata.notes = f"motions: {motions.describe()}"
    if old is not None:
        results = merge_results(old, results)
    out = write_results(results, path)
    for name, reason in results.metadata.missing_priors.items():
        print(f"skipped prior {name}: {reason}", file=sys.stderr)
    print(f"wrote {out} and {out.with_suffix('.csv')} ({results.metadata.seconds:.0f} s)")
    return 0


def _run_tune_cli(args: argparse.Namespace) -> int:
    name = _motions_name(args)
    if args.out is None:
        args.out = f"{DEFAULT_OUT}/weights_val.json" if name is None else f"{DEFAULT_OUT}/{name}/weights_{name}.json"
    output_file(args.out, example="weights_val.json")
    config = TuneConfig(priors=parse_priors(args.priors), window=args.window, num_windows=args.num_windows,
                        seed=args.seed, iterations=args.iterations, refine=not args.no_refine, device=args.device)
    motions = None if name is None else _read_motions(args, (config.window,))
    torch.set_num_threads(args.threads)
    started, commit = time.perf_counter(), git_commit()  # the commit of the code that runs, read before the fits
    out = Path(args.out)
    old_chosen, old_tried, runs = [], [], []
    if args.merge and out.is_file():  # keep the other priors' choices; reuse the smoothness search
        payload = json.loads(out.read_text())
        old_chosen, _ = read_weights(out)
        old_tried = [WeightChoice(**c) for c in payload["tried"]]
        runs = payload["metadata"].get("runs", [])
    known = {c.condition: c for c in old_chosen if c.prior == "none"}
    if motions is None:
        clips, origin, fps, split = *val_clips_at(TEST_FPS), TEST_FPS, "val"
    else:
        clips, origin, fps, split = motions.experiment_clips(), motions.describe(), motions.fps, motions.name
    chosen, tried = tune_weights(config, clips=clips, fps=fps, known_smooth=known, known_choices=old_chosen,
                                 progress=True if not args.quiet else lambda s: print(s, flush=True))
    redone = {(c.condition, c.prior) for c in chosen}
    chosen = [c for c in old_chosen if (c.condition, c.prior) not in redone] + chosen
    tried = [c for c in old_tried if (c.condition, c.prior) not in redone or c.prior == "none"] + \
        [c for c in tried if (c.condition, c.prior) not in {(k, "none") for k in known}]
    runs.append({"command": command_line(default="humanlib experiment"), "git_commit": commit, "machine": machine_description(),
                 "priors": list(config.priors), "seconds": round(time.perf_counter() - started, 1)})
    meta = {"command": runs[-1]["command"], "runs": runs, "split": split, "data": origin, "config": asdict(config),
            "smooth_grid": list(config.smooth_grid), "prior_grids": PRIOR_GRIDS,
            "note": "weights chosen on the val split only (never on test)" if motions is None else
            f"weights chosen on {motions.name}: report results on other clips than these"}
    if motions is not None:
        meta["clips"] = [c.id for c in motions.clips]
    if "humor" in config.priors or any(c.prior == "humor" for c in chosen):
        from humanlib.experiments.humor_method import HUMOR_GRID

        meta["humor_grid"] = {"prior_weight, contact_weight": [list(p) for p in HUMOR_GRID],
                              "note": "humor: (prior_weight, contact_weight) of HuMoR's test-time optimisation "
                              "searched together on this small grid (data weight 1, floor and continuity at their "
                              "defaults), each started from the GMM fit with the GMM's chosen weights; its "
                              "smooth_weight is the GMM start's"}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"format": WEIGHTS_FORMAT, "metadata": meta, "chosen": [asdict(c) for c in chosen],
                               "tried": [asdict(c) for c in tried]}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


def _run_curves_cli(args: argparse.Namespace) -> int:
    from humanlib.experiments.diagnostics import weight_curve

    output_file(args.out, example="weight_curves_val.json")
    path = Path(args.weights)
    read_weights(path)  # a missing or damaged file fails here, naming the command that writes it
    payload = json.loads(path.read_text())
    tried = [WeightChoice(**c) for c in payload["tried"]]
    pairs = sorted({(t.condition, t.prior) for t in tried if t.prior != "none"})
    curves = [weight_curve(tried, condition, prior) for condition, prior in pairs]
    config = payload["metadata"].get("config", {})
    meta = {"command": command_line(default="humanlib experiment"), "git_commit": git_commit(),
            "machine": machine_description(), "weights_file": str(path), "split": "val",
            "tune_window": config.get("window"), "tune_num_windows": config.get("num_windows"),
            "tune_iterations": config.get("iterations"),
            "note": "summaries of the val curves that `humanlib experiment tune` tried; no fit is run"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"format": "humanlib-weight-curves-1", "metadata": meta,
                               "curves": [asdict(c) for c in curves]}, indent=1) + "\n")
    print("| condition | prior | best weight | val none cm | val best cm | gain | sharpness | flatness |")
    print("|---|---|---|---|---|---|---|---|")
    for c in curves:
        print(f"| {c.condition} | {c.prior} | {c.best_weight:g} | {c.none_cm:.2f} | {min(c.val_cm):.2f} | "
              f"{c.gain:+.1%} | {c.sharpness:.2f} | {c.flatness:.1%} |")
    print(f"wrote {out}")
    return 0


def _run_probe_cli(args: argparse.Namespace) -> int:
    from humanlib.experiments.runner import occlusion_probe

    output_file(args.out, example="probe_occ-legs_val.json")
    fits = []
    for item in args.fits.split(","):
        name, _, weight = item.partition(":")
        try:
            fits.append((name, float(weight or 0.0)))
        except ValueError:
            raise ValueError(f"--fits: {item!r} is not PRIOR:WEIGHT (e.g. none:0,posendf:1000)") from None
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    result = occlusion_probe(args.condition, fits, args.smooth_weight, window=args.window,
                             num_windows=args.num_windows, iterations=args.iterations, seed=args.seed)
    meta = {"command": command_line(default="humanlib experiment"), "git_commit": git_commit(),
            "machine": machine_description(), "seconds": round(time.perf_counter() - started, 1),
            "note": "val windows only; explains the test numbers, chooses nothing"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"format": "humanlib-occlusion-probe-1", "metadata": meta, **result}, indent=1) + "\n")
    print("| poses | val v2v cm | Pose-NDF field | true NN dist | grad hidden | grad all | hidden angle | hidden error |")
    print("|---|---|---|---|---|---|---|---|")
    for r in result["probes"]:
        v2v = f"{r['fit']['val_v2v_cm']:.2f}" if r["fit"] else ""
        nn = f"{r['nn_distance_mean']:.3f}" if r["nn_distance_mean"] is not None else ""
        print(f"| {r['label']} | {v2v} | {r['energy_mean']:.3f} | {nn} | {r['grad_joints']:.3f} | {r['grad_all']:.3f} | "
              f"{r['joints_norm']:.3f} | {r['joints_error']:.3f} |")
    print(f"wrote {out}")
    return 0


def _run_humor_floor_cli(args: argparse.Namespace) -> int:
    from humanlib.body import load_body_model
    from humanlib.data import load_corpus
    from humanlib.experiments.humor_floor import follow_floor
    from humanlib.experiments.humor_method import HumorMethod
    from humanlib.experiments.motion_fit import MotionFitConfig
    from humanlib.experiments.protocol import cut_windows
    from humanlib.experiments.results import source_group
    from humanlib.experiments.runner import val_clips_at

    output_file(args.out, example="humor_floor_val.json")
    torch.set_num_threads(args.threads)
    started, commit = time.perf_counter(), git_commit()
    body = load_body_model()
    clips, origin = val_clips_at(TEST_FPS)
    sources = {c.name: source_group(c.source) for c in load_corpus("val").clips}
    windows = cut_windows(clips, args.window, TEST_FPS, max_windows=args.num_windows, groups=sources)
    start = MotionFitConfig(smooth_weight=args.smooth_weight, prior_weight=args.gmm_weight, iterations=args.iterations)
    rows = follow_floor(body, windows, HumorMethod.load(body), start)
    meta = {"command": command_line(default="humanlib experiment"), "git_commit": commit,
            "machine": machine_description(), "seconds": round(time.perf_counter() - started, 1), "split": "val",
            "data": origin, "window": args.window, "num_windows": len(windows), "windows": windows.ids(),
            "gmm_start": {"smooth_weight": args.smooth_weight, "prior_weight": args.gmm_weight,
                          "iterations": args.iterations},
            "note": "clean joints (all visible, no noise): the error left is what each method cannot express; "
                    "val only, chooses nothing"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"format": "humanlib-humor-floor-1", "metadata": meta, "fits": rows}, indent=1) + "\n")
    print("| method | HuMoR prior weight | v2v cm | joints cm | accel m/s^2 |")
    print("|---|---|---|---|---|")
    for r in rows:
        weight = "" if r["method"] == "gmm" else f"{r['prior_weight']:g}"
        print(f"| {r['method']} | {weight} | {r['v2v_cm']:.2f} | {r['joint_cm']:.2f} | {r['accel_ms2']:.2f} |")
    print(f"wrote {out}")
    return 0


def _run_tables_cli(args: argparse.Namespace) -> int:
    from humanlib.experiments.tables import experiment_tables

    print(experiment_tables(Path(args.results)))
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register ``humanlib experiment denoise|occlusion|tune|tables``."""
    p = subparsers.add_parser("experiment", help="motion denoising and occlusion experiments with each pose prior",
                              description="Reproduce the talk's motion experiments on the open body and corpus.")
    sub = p.add_subparsers(title="experiments", metavar="EXPERIMENT")
    p.set_defaults(func=lambda args: p.print_help() or 2)  # `humanlib experiment` alone: its own help
    _add_test_experiments(sub)
    _add_tune(sub)
    _add_curves(sub)
    _add_probe(sub)
    _add_humor_floor(sub)
    from humanlib.commands import smplifyx_tables

    smplifyx_tables.add_parser(sub)
    b = sub.add_parser("tables", help="print the results as the talk's Tables 3 and 4 (markdown)")
    b.add_argument("--results", default="results/experiments", help="folder of denoise.json / occlusion.json (default results/experiments)")
    b.set_defaults(func=_run_tables_cli)


def _add_motions(parser: argparse.ArgumentParser, motions_help: str = MOTIONS_HELP) -> None:
    """``--motions DIR``, ``--up`` and ``--fps``: the user's own motions instead of the course's."""
    parser.add_argument("--motions", default=None, metavar="DIR", help=motions_help)
    parser.add_argument("--up", choices=("y", "z"), default=None, help=UP_HELP)
    parser.add_argument("--fps", type=positive_float, default=None, help=FPS_HELP)


def _add_test_experiments(sub: argparse._SubParsersAction) -> None:
    """``experiment denoise`` and ``experiment occlusion``: the same options, their own condition sets."""
    for name, what in (("denoise", "noisy poses / noisy joints (Table 3)"),
                       ("occlusion", "joints with a body part missing (Table 4)")):
        e = sub.add_parser(name, help=f"fit test windows of {what} with each prior; write results/",
                           description=f"Fit a fixed subset of test windows (or of your own --motions DIR) with {what} "
                           f"with each prior and write OUT/{name}.json and .csv (command, commit, machine, seed, timing, "
                           "and the data's name, fingerprint and clip ids inside). Poses are in SMPL's frame: Y up, "
                           "metres; --motions is read on every run (nothing cached); without it, HUMANLIB_AMASS_DIR's test split is "
                           "read instead of the course's when set, and cached in HUMANLIB_CACHE_DIR (default "
                           "~/.cache/humanlib).")
        e.add_argument("--priors", default=",".join(PRIOR_NAMES),
                       help="comma-separated priors, 'humor' for HuMoR's test-time optimisation (default: all pose priors)")
        e.add_argument("--windows", default="60,120,240", help="window lengths in frames (default 60,120,240)")
        e.add_argument("--frames-per-length", type=nonnegative_int, default=480,
                       help="test frames per window length (480: 8x60, 4x120, 2x240 windows); 0 = all")
        e.add_argument("--conditions", default=None, help="comma-separated condition names (default: all)")
        e.add_argument("--weights", default=None,
                       help="val-tuned weights from `humanlib experiment tune` (default: the course's committed val "
                       "weights, shipped as humanlib/assets/experiments/weights_val.json; 'none': defaults)")
        e.add_argument("--iterations", type=positive_int, default=60, help="L-BFGS iterations per fit (default 60)")
        add_seed(e, text=SEED_HELP)
        add_threads(e, label="torch CPU threads")
        e.add_argument("--device", type=device, default="auto", help=DEVICE_HELP)
        e.add_argument("--allow-missing", action="store_true", help="skip priors whose files are missing (recorded)")
        e.add_argument("--merge", action="store_true",
                       help="keep the rows of OUT's file for priors not run now (same windows and seed required)")
        e.add_argument("--out", default=None,
                       help="output folder (default: results/experiments under the current working directory; with "
                       "--motions DIR: results/experiments/<DIR's name>)")
        _add_motions(e)
        e.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar (one line per fit)")
        e.set_defaults(func=_run_experiment_cli, experiment=name)


def _add_tune(sub: argparse._SubParsersAction) -> None:
    """``experiment tune``: the val grid search of the weights."""
    t = sub.add_parser("tune", help="choose smoothness and prior weights on the val split",
                       description="Grid-search the smoothness weight (no prior) and each prior's weight per "
                       "condition on val windows (val resampled to 30 fps); write the choice as JSON.")
    t.add_argument("--priors", default=",".join(PRIOR_NAMES), help="priors to tune, 'humor' too (default: all pose priors)")
    add_val_windows(t, 8, "val window length in frames, >= 3", "val windows, shared out over the sources")
    t.add_argument("--iterations", type=positive_int, default=60,
                   help="L-BFGS iterations per fit (default 60, as the experiments: a weight is chosen for the budget it is used with)")
    t.add_argument("--no-refine", action="store_true",
                   help="only the decade grids (default: also the half-decade neighbours of each grid's best point)")
    add_seed(t, text=SEED_HELP)
    add_threads(t, label="torch CPU threads")
    t.add_argument("--device", type=device, default="auto", help=DEVICE_HELP)
    t.add_argument("--out", default=None,
                   help="output JSON (default: results/experiments/weights_val.json under the current working "
                   "directory; with --motions DIR: results/experiments/<DIR's name>/weights_<DIR's name>.json)")
    _add_motions(t, MOTIONS_HELP.replace("the course's test split", "the course's val split, resampled to 30 fps"))
    t.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar (one line per prior)")
    t.add_argument("--merge", action="store_true",
                   help="keep the choices in --out for priors not tuned now, and reuse its smoothness choice")
    t.set_defaults(func=_run_tune_cli)


def _add_curves(sub: argparse._SubParsersAction) -> None:
    """``experiment curves``: the val weight curves of a weights file."""
    c = sub.add_parser("curves", help="summarise the val weight curves that `tune` tried (gain, sharpness, flatness)",
                       description="Read a weights file of `humanlib experiment tune` and write, per condition and "
                       "prior, the val error along the prior-weight grid with its gain over no prior, the sharpness "
                       "of the chosen minimum and the flatness below it (command, commit, machine inside).")
    c.add_argument("--weights", default="results/experiments/weights_val.json",
                   help="weights file of `humanlib experiment tune` (default results/experiments/weights_val.json)")
    add_out(c, "results/experiments/weight_curves_val.json")
    c.set_defaults(func=_run_curves_cli)


def _add_probe(sub: argparse._SubParsersAction) -> None:
    """``experiment probe``: Pose-NDF's field along val fits of an occlusion."""
    r = sub.add_parser("probe", help="probe val fits of an occlusion with Pose-NDF (field, true distance, gradient)",
                       description="Fit val windows of one occlusion condition with each PRIOR:WEIGHT and write the "
                       "Pose-NDF field, the exact distance to the training poses and the field's gradient on the "
                       "hidden chain for the truth, the fit's start and each fit (command, commit, machine inside).")
    r.add_argument("--condition", default="occ-legs", help="occlusion condition (default occ-legs)")
    r.add_argument("--fits", default="none:0,posendf:1000,posendf:100000,gmm:10",
                   help="comma-separated PRIOR:WEIGHT fits (default none:0,posendf:1000,posendf:100000,gmm:10)")
    r.add_argument("--smooth-weight", type=float, default=0.01, help="smoothness weight (default 0.01, val-chosen)")
    add_val_windows(r, 8)
    r.add_argument("--iterations", type=positive_int, default=60, help="L-BFGS iterations (default 60, as the experiments)")
    add_seed(r, text=SEED_HELP)
    add_threads(r, label="torch CPU threads")
    add_out(r, "results/experiments/probe_occ-legs_val.json")
    r.set_defaults(func=_run_probe_cli)


def _add_humor_floor(sub: argparse._SubParsersAction) -> None:
    """``experiment humor-floor``: how closely HuMoR's TTO follows clean val joints."""
    h = sub.add_parser("humor-floor", help="how closely HuMoR's TTO and the GMM fit follow clean val joints",
                       description="Fit the clean joints (all visible, no noise) of val windows with the GMM prior, "
                       "then with HuMoR's test-time optimisation from that fit at several HuMoR prior weights, and "
                       "write each fit's per-vertex, joint and acceleration errors (command, commit, machine inside).")
    add_val_windows(h, 4, "val window length, >= 3 frames")
    h.add_argument("--smooth-weight", type=float, default=1.0, help="smoothness weight of the GMM start (default 1)")
    h.add_argument("--gmm-weight", type=float, default=10.0, help="GMM prior weight of the start (default 10)")
    h.add_argument("--iterations", type=positive_int, default=60, help="L-BFGS iterations of the start (default 60)")
    add_threads(h, label="torch CPU threads")
    add_out(h, "results/humor/floor_val.json")
    h.set_defaults(func=_run_humor_floor_cli)
