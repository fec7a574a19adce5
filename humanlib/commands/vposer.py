"""``humanlib train-vposer`` and ``humanlib eval-vposer`` (:mod:`humanlib.priors.train_vposer`, :mod:`humanlib.priors.vposer_eval`)."""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
import os
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
    output_file,
    positive_float,
    positive_int,
    training_out_folder,
)
from humanlib.priors import train_vposer as training
from humanlib.priors.train_vposer import train_vposer, TrainConfig
from humanlib.priors.vposer import body_forward_from_model, VPoserLossConfig
from humanlib.provenance import command_line, machine_description, poses_fingerprint


def _run_train(args: argparse.Namespace) -> int:
    training_out_folder(args)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    loss = VPoserLossConfig.released() if args.loss == "released" else VPoserLossConfig.talk()
    if args.kl_weight is not None:
        loss = replace(loss, kl=args.kl_weight)
    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        early_stop_patience=args.patience, max_minutes=args.max_minutes,
        max_train_frames=args.max_train_frames, max_val_frames=args.max_val_frames, loss=loss,
    )
    body_forward = None
    if loss.needs_body:
        from humanlib.body import load_body_model

        body_forward = body_forward_from_model(load_body_model(device=args.device))
    run_info = {
        "command": command_line(default="humanlib train-vposer"),
        "machine": machine_description(),
        "loss_variant": args.loss,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    # through the module, so that a test can stand a stub corpus in for the real one
    train, val = training.corpus_body_poses("train"), training.corpus_body_poses("val")
    run_info["corpus_train_fingerprint"] = poses_fingerprint(train)
    if args.mirror:
        from humanlib.data.retarget import mirror_body_pose

        train = torch.cat([train, mirror_body_pose(train)])
        run_info["train_mirrored"] = True
    run_info["corpus_val_fingerprint"] = poses_fingerprint(val)
    result = train_vposer(train, val, config, args.out,
                          resume=args.resume, device=args.device, body_forward=body_forward,
                          progress=not args.no_progress, run_info=run_info, verbose=True)
    if int(os.environ.get("RANK", "0")) != 0:  # a torchrun worker other than rank 0: rank 0 reports
        return 0
    print(f"best epoch {result.best_epoch}: val loss {result.best_val:.4f}, "
          f"{result.history[result.best_epoch - 1].val_deg:.2f} deg/joint; stopped by {result.stop_reason} "
          f"after {result.elapsed_s / 60:.1f} min; wrote {Path(args.out) / 'best.pt'}")
    return 0


def _run_eval(args: argparse.Namespace) -> int:
    from humanlib.priors.vposer_eval import run_comparison

    output_file(args.out, example="comparison.json")
    if args.checkpoint is not None:
        input_file(args.checkpoint, "--checkpoint", "give a VPoser checkpoint written by `humanlib train-vposer`")
    if args.gmm is not None:
        from humanlib.priors.gmm import load_gmm

        load_gmm(input_file(args.gmm, "--gmm", "give a GMM .npz written by `humanlib train-gmm`, or leave --gmm out"))
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    command = command_line(default="humanlib eval-vposer")
    results = run_comparison(checkpoint=args.checkpoint, gmm_path=args.gmm, num_samples=args.num_samples,
                             max_test=args.max_test, seed=args.seed, command=command, progress=not args.quiet)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results["priors"], indent=1))
    print(f"wrote {out}")
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register ``humanlib train-vposer`` and ``humanlib eval-vposer``."""
    p = subparsers.add_parser(
        "train-vposer",
        help="train the VPoser VAE pose prior on the open corpus (train split, validated on val)",
        description="Train VPoser on the corpus train split with validation every epoch, learning-rate "
        "decay and early stopping. Writes DIR/last.pt (resumable state), DIR/best.pt (the model, for "
        "humanlib.priors.vposer.load_vposer) and DIR/history.json (curve, command, machine, time).",
    )
    add_out_folder(p, "last.pt, best.pt, history.json")
    p.add_argument("--epochs", type=positive_int, default=100, help="maximum number of epochs (default 100)")
    p.add_argument("--device", type=device, default="auto", help=DEVICE_HELP)
    p.add_argument("--loss", choices=("talk", "released"), default="talk",
                   help="talk: KL + rotation-matrix + orth + det + weight decay (default); "
                   "released: KL + vertex L1 + geodesic + joint losses (needs the body model)")
    p.add_argument("--kl-weight", type=positive_float, default=None,
                   help="weight of the KL term instead of the loss set's (both sets: 0.005)")
    add_batch_size(p, 256, "poses")
    add_learning_rate(p, 1e-3, shown="1e-3")
    p.add_argument("--patience", type=positive_int, default=5, help="early-stopping patience in epochs (default 5)")
    add_seed(p, text="random seed (default 0)")
    add_threads(p, None)
    p.add_argument("--max-minutes", type=positive_float, default=None,
                   help="stop after the epoch that exceeds this wall-clock budget (default: no limit)")
    p.add_argument("--max-train-frames", type=positive_int, default=None, help="random subset of the train split (default: all)")
    p.add_argument("--max-val-frames", type=positive_int, default=None, help="random subset of the val split (default: all)")
    p.add_argument("--mirror", action="store_true",
                   help="add the left-right mirrored copy of every training pose (doubles the train split)")
    add_resume_and_progress(p, "continue the run saved in OUT/last.pt")
    p.set_defaults(func=_run_train)

    e = subparsers.add_parser(
        "eval-vposer",
        help="compare VPoser and the GMM on the corpus test split (reconstruction, samples' plausibility, diversity)",
        description="Measure reconstruction error (deg/joint, mm/vertex on the open body), the distance of "
        "samples to their nearest train/test poses, joint-range violations and diversity for VPoser and "
        "the GMM prior, and write a JSON results file (with command and machine).",
    )
    e.add_argument("--out", required=True, help="output JSON file, e.g. results/vposer/comparison.json")
    e.add_argument("--checkpoint", default=None, help="VPoser checkpoint (default: the committed vposer_open.pt)")
    e.add_argument("--gmm", default=None, help="GMM .npz (default: the committed GMM, skipped if absent)")
    e.add_argument("--num-samples", type=positive_int, default=1000, help="samples drawn from each prior (default 1000)")
    e.add_argument("--max-test", type=positive_int, default=2000, help="test poses used (seeded random subset, default 2000)")
    add_seed(e, text="random seed (default 0)")
    add_threads(e, None)
    e.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar")
    e.set_defaults(func=_run_eval)
