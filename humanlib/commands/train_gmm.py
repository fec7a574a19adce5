"""``humanlib train-gmm``: fit the GMM pose prior by EM (:func:`humanlib.priors.gmm.train_gmm`)."""

from __future__ import annotations

import argparse
import json

from humanlib.commands.args import nonnegative_float, output_file, positive_int
from humanlib.priors.gmm import DEFAULT_GMM_ASSET, train_gmm
from humanlib.provenance import command_line


def _run_train_gmm(args: argparse.Namespace) -> int:
    from humanlib.paths import ASSETS_DIR

    out = output_file(args.out, example=DEFAULT_GMM_ASSET) if args.out else ASSETS_DIR / DEFAULT_GMM_ASSET
    command = command_line(default="humanlib train-gmm")
    meta = train_gmm(out, args.components, args.max_iter, tuple(args.reg_covar), args.seed, args.max_frames, command, args.tol,
                     progress=not args.quiet, mirror=args.mirror)
    print(json.dumps(meta, indent=2))
    print(f"wrote {out}")
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register ``humanlib train-gmm``."""
    p = subparsers.add_parser(
        "train-gmm",
        help="fit SMPLify's GMM pose prior by EM on the open corpus (train split; val log-likelihood reported)",
        description="Fit a full-covariance Gaussian mixture on the 63-d body pose of the corpus train split "
        "and write its parameters (with the command, machine and val log-likelihood) to an .npz file.",
    )
    p.add_argument("--components", type=positive_int, default=8, help="number of mixture components K (default 8)")
    p.add_argument("--max-iter", type=positive_int, default=200, help="maximum EM iterations (default 200)")
    p.add_argument("--tol", type=nonnegative_float, default=1e-3, help="stop when the mean log-likelihood per frame improves by less (default 1e-3)")
    p.add_argument("--reg-covar", type=nonnegative_float, nargs="+", default=[1e-4, 1e-3, 1e-2],
                   help="candidate values added to covariance diagonals (rad^2); the best on val is kept (default 1e-4 1e-3 1e-2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the k-means++ initialisation")
    p.add_argument("--max-frames", type=positive_int, default=None, help="subsample the train split to this many frames")
    p.add_argument("--mirror", action="store_true",
                   help="add the left-right mirrored copy of every training frame (doubles the train split)")
    p.add_argument("--out", default=None,
                   help=f"output .npz (default humanlib/assets/{DEFAULT_GMM_ASSET}, replacing the committed GMM)")
    p.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_train_gmm)
