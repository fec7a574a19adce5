"""``humanlib train-posendf`` and ``humanlib eval-posendf`` (:mod:`humanlib.priors.posendf_train`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import time

import torch

from humanlib.commands.args import (
    add_batch_size,
    add_learning_rate,
    add_out_folder,
    add_resume_and_progress,
    add_seed,
    add_threads,
    device,
    DEVICE_HELP,
    input_file,
    nonnegative_float,
    nonnegative_int,
    output_file,
    positive_float,
    positive_int,
    training_out_folder,
)
from humanlib.priors import posendf_train as training
from humanlib.priors.posendf import load_posendf, PoseNDFModelConfig, project, ProjectionConfig, shifted_parents
from humanlib.priors.posendf_data import make_distance_dataset, PoseNDFDataConfig
from humanlib.priors.posendf_train import (
    build_datasets,
    evaluate_checkpoint,
    plot_history,
    PoseNDFTrainConfig,
    standard_val_config,
    train_posendf,
)
from humanlib.priors.training import data_parallel
from humanlib.provenance import command_from_args, corpus_source, machine_description
from humanlib.rotations import random_quat
from humanlib.skeleton import NUM_BODY_JOINTS


def _train_command(args: argparse.Namespace) -> int:
    training_out_folder(args)
    if args.data is not None and Path(args.data).is_dir():
        raise IsADirectoryError(f"--data {args.data} is a folder; give the cache file, e.g. {Path(args.data) / 'data.pt'}")
    model_cfg = PoseNDFModelConfig(parents=shifted_parents()) if args.shifted_parents else PoseNDFModelConfig()
    data_cfg = PoseNDFDataConfig(num_noisy=args.num_noisy, num_clean=args.num_clean, metric=args.metric,
                                 k=args.k if args.k else (1 if args.metric == "talk" else 5), seed=args.seed,
                                 noise=args.noise, distance_scale=args.distance_scale)
    config = PoseNDFTrainConfig(model=model_cfg, data=data_cfg, num_manifold=args.num_manifold, num_val=args.num_val,
                                mirror=args.mirror, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                                eikonal_weight=args.eikonal_weight, weight_decay=args.weight_decay,
                                val_every=args.val_every, patience=args.patience, seed=args.seed, device=args.device,
                                num_threads=args.threads)
    if config.device == "cpu":
        torch.set_num_threads(config.num_threads)
    out = Path(args.out)
    # under torchrun: rank 0 builds (or reads) the data cache first, the other workers then read it
    dp = data_parallel(config.device, config.batch_size)
    if not dp.is_main:
        dp.barrier()
    t0 = time.perf_counter()
    manifold, train, val = build_datasets(config, Path(args.data) if args.data else out / "data.pt")
    data_s = time.perf_counter() - t0
    if dp.is_main:
        dp.barrier()
    meta = {"command": command_from_args(args, "train-posendf"), "machine": machine_description(),
            "data_seconds": data_s, "num_train_samples": len(train), "num_val_samples": len(val),
            "num_manifold": int(manifold.shape[0]), "label_metric": data_cfg.metric, "label_k": data_cfg.k,
            "corpus": corpus_source()}
    result = train_posendf(train, val, config, out, resume=args.resume, progress=not args.no_progress, metadata=meta)
    if not dp.is_main:
        return 0
    plot_history(result.history, out / "curves.png", title=meta["command"])
    last = result.history[-1] if result.history else {}
    ran = last.get("step", config.steps)
    best = min(result.history, key=lambda r: r["val_mae"]) if result.history else {}
    kept = (f"; kept the weights of step {best['step']} (best val MAE {best['val_mae']:.4f})"
            if config.patience and best else "")
    print(f"trained {ran} of {config.steps} steps in {result.seconds:.0f} s (data {data_s:.0f} s); "
          f"val MAE {last.get('val_mae', float('nan')):.4f}{kept}; wrote {out / 'posendf.pt'}")
    return 0


def _eval_command(args: argparse.Namespace) -> int:
    output_file(args.out, example="metrics.json")
    if args.num_generate < 2:
        raise ValueError(f"--num-generate must be >= 2 (diversity compares pairs of poses), got {args.num_generate}")
    if args.checkpoint is not None:
        input_file(args.checkpoint, "--checkpoint", "give a checkpoint written by `humanlib train-posendf` (OUT/posendf.pt)")
    if args.data is not None and Path(args.data).is_dir():
        raise IsADirectoryError(f"--data {args.data} is a folder; give the cache file, e.g. {Path(args.data) / 'data.pt'}")
    torch.set_num_threads(args.threads)
    model = load_posendf(args.checkpoint)
    meta = model.metadata
    trained = meta.get("train_config")
    if not isinstance(trained, dict) or not {"data", "num_manifold", "num_val"} <= set(trained):
        raise ValueError(
            f"{args.checkpoint or 'the committed checkpoint'} has no training settings in its metadata (it was not "
            "written by `humanlib train-posendf`), so eval-posendf cannot rebuild its data; evaluate it in Python "
            "with humanlib.priors.posendf_train.evaluate_checkpoint"
        )
    try:
        config = PoseNDFTrainConfig(
            model=model.config,
            data=PoseNDFDataConfig(**{**trained["data"], "sigmas": tuple(trained["data"]["sigmas"])}),
            num_manifold=trained["num_manifold"], num_val=trained["num_val"], mirror=bool(trained.get("mirror", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{args.checkpoint}: the training settings in its metadata are not valid: {exc}") from exc
    manifold, train, val = build_datasets(config, Path(args.data) if args.data else None, rebuild=False)
    if config.data.noise != "sigma":
        # the held-out set every checkpoint is compared on: Pose-NDF's noise levels, whatever the training noise
        val = make_distance_dataset(manifold, standard_val_config(config), queries_from=training.corpus_quats("val"))
    results = {"checkpoint": str(args.checkpoint or "humanlib/assets/priors/posendf_open.pt"), "command": command_from_args(args, "eval-posendf"),
               "machine": machine_description(), "threads": args.threads,
               **evaluate_checkpoint(model, manifold, val, num_generate=args.num_generate, train=train,
                                    progress=not args.quiet)}
    history = meta.get("history", [])
    if history:
        results["train_steps_per_s"] = history[-1]["step"] / history[-1]["elapsed_s"]
    # timing: projection of N poses x 100 steps without early stop (the benchmark: N = 1,000)
    start = random_quat(args.bench_poses, NUM_BODY_JOINTS, generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    project(model, start, ProjectionConfig(max_steps=100, tolerance=0.0, record_trajectory=False))
    results["bench_project"] = {"poses": args.bench_poses, "steps": 100, "seconds": time.perf_counter() - t0}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}: val MAE {results['field']['mae']:.4f}, eikonal residual {results['field']['eikonal_residual']:.3f}")
    return 0


def add_subcommand(subparsers) -> None:
    """Register ``train-posendf`` and ``eval-posendf`` on an argparse subparsers object."""
    p = subparsers.add_parser("train-posendf", help="train the Pose-NDF distance field on the open corpus",
                              description="Generate distance-labelled poses from the corpus and train Pose-NDF.")
    d, t = PoseNDFDataConfig(), PoseNDFTrainConfig()
    add_out_folder(p, "data.pt, last.pt, posendf.pt, history.json, curves.png")
    p.add_argument("--data", default=None,
                   help="cache file of the generated data (default OUT/data.pt; share it between runs)")
    p.add_argument("--steps", type=positive_int, default=t.steps, help=f"optimisation steps (default {t.steps})")
    add_batch_size(p, t.batch_size, "samples")
    add_learning_rate(p, t.lr)
    p.add_argument("--weight-decay", type=nonnegative_float, default=t.weight_decay,
                   help=f"decoupled weight decay (AdamW), 0 = plain Adam (default {t.weight_decay})")
    p.add_argument("--eikonal-weight", type=nonnegative_float, default=t.eikonal_weight,
                   help=f"weight of L_eikonal, 0 = off (default {t.eikonal_weight})")
    p.add_argument("--metric", choices=("talk", "released"), default=d.metric, help="label distance (default talk)")
    p.add_argument("--k", type=nonnegative_int, default=0, help="neighbours averaged in the label (default 1 for talk, 5 for released)")
    p.add_argument("--num-manifold", type=nonnegative_int, default=t.num_manifold,
                   help=f"training poses forming the manifold, 0 = every frame of the train split (default {t.num_manifold})")
    p.add_argument("--mirror", action="store_true",
                   help="add the left-right mirrored copy of every manifold pose (doubles the manifold)")
    p.add_argument("--noise", choices=("sigma", "distance"), default=d.noise,
                   help="noisy samples: sigma = Pose-NDF's Gaussian noise on quaternions (default); "
                   "distance = NRDF's, a half-normal distance from the source pose")
    p.add_argument("--distance-scale", type=positive_float, default=d.distance_scale,
                   help=f"scale of the half-normal distance of --noise distance (default pi/4 = {d.distance_scale:.3f})")
    p.add_argument("--patience", type=nonnegative_int, default=t.patience,
                   help="early stopping after this many validations without improvement, keeping the best "
                   "weights (default 0: off)")
    p.add_argument("--num-noisy", type=positive_int, default=d.num_noisy, help=f"noisy training samples (default {d.num_noisy})")
    p.add_argument("--num-clean", type=nonnegative_int, default=d.num_clean, help=f"clean samples with d = 0 (default {d.num_clean})")
    p.add_argument("--num-val", type=positive_int, default=t.num_val, help=f"noisy validation samples (default {t.num_val})")
    p.add_argument("--val-every", type=positive_int, default=t.val_every,
                   help=f"steps between validations/checkpoints (default {t.val_every})")
    p.add_argument("--shifted-parents", action="store_true",
                   help="use the released code's off-by-one parent table (for comparison)")
    add_seed(p, t.seed)
    p.add_argument("--device", type=device, default="auto", help=DEVICE_HELP)
    add_threads(p)
    add_resume_and_progress(p)
    p.set_defaults(func=_train_command)

    e = subparsers.add_parser("eval-posendf", help="measure a Pose-NDF checkpoint and write a JSON of numbers",
                              description="Distance accuracy by noise level, eikonal residual, projection, diversity, timings.")
    e.add_argument("--checkpoint", default=None, help="checkpoint (default: the committed open checkpoint)")
    e.add_argument("--data", default=None, help="data.pt cache of the training run (regenerated when absent)")
    e.add_argument("--out", default="results/posendf/metrics.json",
                   help="JSON file to write (default results/posendf/metrics.json)")
    add_threads(e)
    e.add_argument("--num-generate", type=positive_int, default=500, help="poses projected for convergence/diversity (default 500)")
    e.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar")
    e.add_argument("--bench-poses", type=positive_int, default=1000, help="poses in the projection timing (default 1000)")
    e.set_defaults(func=_eval_command)
