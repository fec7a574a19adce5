"""``humanlib denoise``: denoise a user's own motion file with a pose prior (:mod:`humanlib.experiments.denoise`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from humanlib.commands.args import device, DEVICE_HELP, nonnegative_float, output_folder, positive_int
from humanlib.experiments.denoise import (
    choose_weights,
    SHIPPED_WEIGHTS,
    denoise_motion,
    DenoiseConfig,
    read_motion,
    REFERENCE_FPS,
    write_motion,
)
from humanlib.provenance import command_line


def _run(args: argparse.Namespace) -> int:
    from humanlib.experiments.runner import load_prior
    out_dir = output_folder(args.out)
    motion = read_motion(args.motion)
    if motion.poses.shape[0] < 3:
        raise ValueError(f"{motion.path} holds {motion.poses.shape[0]} frame(s); denoising needs at least 3")
    weights_file = args.weights
    if weights_file is None and SHIPPED_WEIGHTS.is_file():
        weights_file = SHIPPED_WEIGHTS
    elif weights_file == "none":
        weights_file = None
    smooth, lam, source = choose_weights(args.prior, weights_file)
    smooth = smooth if args.smooth_weight is None else args.smooth_weight
    lam = lam if args.prior_weight is None else args.prior_weight
    config = DenoiseConfig(window=args.window, iterations=args.iterations, smooth_weight=smooth, prior_weight=lam)
    prior = load_prior(args.prior)
    torch.set_num_threads(args.threads)
    from humanlib.body import load_body_model

    model = load_body_model(device=args.device)
    result = denoise_motion(motion.poses, motion.transl, motion.fps, prior, config, model=model, progress=not args.quiet)
    info = {"command": command_line(), "input": motion.path, "prior": args.prior,
            "smooth_weight_30fps": smooth, "smooth_weight": result.smooth_weight, "prior_weight": result.prior_weight,
            "weights": source if args.smooth_weight is None and args.prior_weight is None else "given on the command line",
            "window": args.window, "iterations": args.iterations, "fps": motion.fps}
    out = write_motion(motion, result, out_dir / f"{Path(motion.path).stem}_denoised_{args.prior}.npz", info)
    frames = motion.poses.shape[0]
    print(f"denoised {frames} frames at {motion.fps:g} fps ({motion.model_type}; {result.num_windows} window(s) of "
          f"{min(args.window, frames)} frames) with prior {args.prior} in {result.seconds:.1f} s")
    print(f"weights: smoothness {smooth:g} at 30 fps (x {(motion.fps / REFERENCE_FPS) ** 4:.3g} at {motion.fps:g} fps), "
          f"prior {result.prior_weight:g} ({info['weights']})")
    print(f"body joints rotated by {result.change_deg:.2f} deg on average (max {result.max_change_deg:.1f} deg); "
          f"3D joints moved by {result.joint_change_cm:.2f} cm on average")
    print(f"wrote {out}")
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register ``humanlib denoise``."""
    from humanlib.experiments.runner import PRIOR_NAMES

    def window(text: str) -> int:
        value = positive_int(text)
        if value < 3:
            raise argparse.ArgumentTypeError(f"must be >= 3 frames (the acceleration term), got {value}")
        return value

    p = subparsers.add_parser(
        "denoise", help="denoise your own motion (.npz, AMASS layout) with a pose prior",
        description="Fit an AMASS-style motion file (poses (T, 72 | 156 | 165) axis-angle, optional trans, "
        "mocap_framerate or mocap_frame_rate) with a pose prior and a smoothness term (the motion experiments' "
        "fit) and write OUT/<name>_denoised_<prior>.npz in the same layout: root, body joints and trans "
        "replaced, every other key kept.")
    p.add_argument("motion", help="input .npz (AMASS layout)")
    p.add_argument("--prior", choices=PRIOR_NAMES, default="gmm",
                   help="pose prior (default gmm; 'vposer' fits through the decoder and did worst in the experiments, "
                   "'vposer-pose' uses VPoser's energy in pose space)")
    p.add_argument("--out", default="results/denoise", help="output folder (default: results/denoise under the current working directory)")
    p.add_argument("--weights", default=None,
                   help="val-tuned weights from `humanlib experiment tune` (default: the course's committed val weights, "
                   "shipped in the package as humanlib/assets/experiments/weights_val.json; 'none': the defaults)")
    p.add_argument("--smooth-weight", type=nonnegative_float, default=None,
                   help="smoothness weight at 30 fps, scaled by (fps / 30)^4 for the file's rate (default: from --weights)")
    p.add_argument("--prior-weight", type=nonnegative_float, default=None, help="prior weight (default: from --weights)")
    p.add_argument("--window", type=window, default=120, help="frames per fitted window (default 120)")
    p.add_argument("--iterations", type=positive_int, default=60, help="L-BFGS iterations per window batch (default 60)")
    p.add_argument("--device", type=device, default="auto", help=DEVICE_HELP)
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
