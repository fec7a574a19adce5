"""``humanlib train-humor`` and ``humanlib eval-humor`` (:mod:`humanlib.priors.humor_train`, ``humor_eval``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from humanlib.commands.args import (
    add_batch_size,
    add_learning_rate,
    add_out_folder,
    add_resume_and_progress,
    add_seed,
    add_threads,
    input_file,
    nonnegative_float,
    nonnegative_int,
    output_file,
    positive_float,
    positive_int,
    training_out_folder,
)
from humanlib.provenance import command_from_args, machine_description


def _train_command(args: argparse.Namespace) -> int:
    from humanlib.priors.humor_data import load_humor_corpus
    from humanlib.priors.humor_model import HumorConfig
    from humanlib.priors.humor_train import HumorTrainConfig, train_humor

    training_out_folder(args)
    if args.sample_end < args.sample_start:
        raise ValueError(f"--sample-end ({args.sample_end}) must be >= --sample-start ({args.sample_start})")
    if args.window < 3:
        raise ValueError(f"--window must be >= 3 frames; got {args.window}")
    config = HumorTrainConfig(
        model=HumorConfig(latent_dim=args.latent_dim, hidden=args.hidden, layers=args.layers),
        window=args.window, batch_size=args.batch_size, steps=args.steps, lr=args.lr, kl_weight=args.kl_weight,
        kl_anneal_steps=args.kl_anneal_steps, sample_start=args.sample_start, sample_end=args.sample_end,
        val_every=args.val_every, patience=args.patience, seed=args.seed)
    torch.set_num_threads(args.threads)
    corpus_dir = Path(args.corpus) if args.corpus else None
    log = None if args.no_progress else print
    train = load_humor_corpus("train", corpus_dir, log=log)
    val = load_humor_corpus("val", corpus_dir, log=log)
    meta = {"command": command_from_args(args, "train-humor"), "machine": machine_description(), "threads": args.threads}
    result = train_humor(train, val, config, args.out, resume=args.resume, progress=not args.no_progress, metadata=meta)
    (Path(args.out) / "history.json").write_text(json.dumps(result.history, indent=1))
    last = result.history[-1] if result.history else {}
    print(f"trained {last.get('step', 0)} of {config.steps} steps in {result.seconds:.0f} s; val loss "
          f"{last.get('val_loss', float('nan')):.2f} (KL {last.get('val_kl', float('nan')):.2f}); "
          f"wrote {Path(args.out) / 'humor.pt'}")
    return 0


def _eval_command(args: argparse.Namespace) -> int:
    from humanlib.priors.humor_eval import RolloutEvalConfig, evaluate_humor
    from humanlib.priors.humor_train import load_humor
    from humanlib.priors.training import write_json_atomically

    output_file(args.out, example="eval.json")
    if args.checkpoint is not None:
        input_file(args.checkpoint, "--checkpoint", "give a checkpoint written by `humanlib train-humor` (OUT/humor.pt)")
    torch.set_num_threads(args.threads)
    model, meta = load_humor(args.checkpoint)
    config = RolloutEvalConfig(num_starts=args.num_starts, seconds=args.seconds, long_seconds=args.long_seconds,
                               seed=args.seed)
    results = {"checkpoint": str(args.checkpoint or "humanlib/assets/priors/humor_open.pt"),
               "command": command_from_args(args, "eval-humor"), "machine": machine_description(),
               "threads": args.threads, "trained_with": meta.get("command", "unknown"),
               **evaluate_humor(model, config)}
    write_json_atomically(results, args.out)
    lp, sn = results["rollout"]["learned_prior"], results["rollout"]["standard_normal"]
    print(f"wrote {args.out}: feet on the floor in {100 * lp['feet_on_floor']:.1f} % of frames with the learned prior, "
          f"{100 * sn['feet_on_floor']:.1f} % with N(0, I)")
    return 0


def add_subcommand(subparsers) -> None:
    """Register ``train-humor`` and ``eval-humor`` on an argparse subparsers object."""
    from humanlib.priors.humor_model import HumorConfig
    from humanlib.priors.humor_train import HumorTrainConfig

    t, m = HumorTrainConfig(), HumorConfig()
    p = subparsers.add_parser("train-humor", help="train the HuMoR motion prior on the open corpus at 30 fps",
                              description="Train HuMoR's transition model (conditional VAE with a learned prior) on "
                              "the open corpus rebuilt at 30 fps (cached; about 70 s the first time).")
    add_out_folder(p, "last.pt, humor.pt, history.json")
    p.add_argument("--corpus", default=None, help="folder of the 30 fps corpus (default: the cache, built when absent)")
    p.add_argument("--steps", type=positive_int, default=t.steps, help=f"optimiser steps (default {t.steps})")
    add_batch_size(p, t.batch_size, "windows")
    p.add_argument("--window", type=positive_int, default=t.window, help=f"frames per window (default {t.window})")
    add_learning_rate(p, t.lr)
    p.add_argument("--kl-weight", type=nonnegative_float, default=t.kl_weight, help=f"final KL weight (default {t.kl_weight})")
    p.add_argument("--kl-anneal-steps", type=nonnegative_int, default=t.kl_anneal_steps,
                   help=f"steps of the KL warm-up (default {t.kl_anneal_steps})")
    p.add_argument("--sample-start", type=nonnegative_int, default=t.sample_start,
                   help=f"step where scheduled sampling starts (default {t.sample_start})")
    p.add_argument("--sample-end", type=nonnegative_int, default=t.sample_end,
                   help=f"step where the model is fed only its own predictions (default {t.sample_end})")
    p.add_argument("--latent-dim", type=positive_int, default=m.latent_dim, help=f"size of z (default {m.latent_dim})")
    p.add_argument("--hidden", type=positive_int, default=m.hidden, help=f"hidden width (default {m.hidden})")
    p.add_argument("--layers", type=positive_int, default=m.layers, help=f"hidden layers per network (default {m.layers})")
    p.add_argument("--val-every", type=positive_int, default=t.val_every, help=f"steps between validations (default {t.val_every})")
    p.add_argument("--patience", type=nonnegative_int, default=t.patience,
                   help="early stopping after this many validations without improvement (default 0: off)")
    add_seed(p, t.seed, nonnegative_int)
    add_threads(p)
    add_resume_and_progress(p)
    p.set_defaults(func=_train_command)

    e = subparsers.add_parser("eval-humor", help="roll out a HuMoR checkpoint from test start poses; write JSON",
                              description="4 s rollouts from test start poses (feet on the floor, finite, joint "
                              "speeds), learned prior vs N(0, I), and drift on a long rollout.")
    e.add_argument("--checkpoint", default=None, help="checkpoint (default: the committed humor_open.pt)")
    e.add_argument("--out", default="results/humor/eval.json", help="JSON file (default results/humor/eval.json)")
    e.add_argument("--num-starts", type=positive_int, default=64, help="test start poses (default 64)")
    e.add_argument("--seconds", type=positive_float, default=4.0, help="rollout length (default 4 s)")
    e.add_argument("--long-seconds", type=positive_float, default=30.0, help="the drift rollout's length (default 30 s)")
    add_seed(e, 0, nonnegative_int)
    add_threads(e)
    e.set_defaults(func=_eval_command)
