"""``humanlib fit`` and ``humanlib smplify-eval``: SMPLify on a keypoint file, and its ablation (:mod:`humanlib.fitting.jobs`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from humanlib.commands.args import (
    device,
    DEVICE_HELP,
    nonnegative_int,
    output_file,
    output_folder,
    positive_float,
    positive_int,
)
from humanlib.fitting.camera import Camera
from humanlib.fitting.jobs import PRIOR_NAMES, benchmark, make_prior, read_keypoints_npz, run_ablation
from humanlib.fitting.smplify import fit_smplify, smplify_stages, SMPLifyConfig
from humanlib.provenance import command_line


def _run_eval(args: argparse.Namespace) -> int:
    out_dir = output_folder(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = run_ablation(args.frames, args.iterations, args.seed, args.learned, device=args.device,
                           command=command_line(), progress=not args.quiet, alone=args.alone)
    if args.benchmark:
        results["benchmark"] = benchmark(iterations=args.iterations, seed=args.seed, device=args.device,
                                         progress=not args.quiet)
    if args.note:
        results["note"] = args.note
    path = out_dir / "smplify_ablation.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


def _run_fit(args: argparse.Namespace) -> int:
    source = Path(args.keypoints).expanduser()
    if source.is_dir() or (source.is_file() and source.suffix != ".npz"):
        from humanlib.fitting.dataset import DatasetFitSettings, fit_dataset

        if args.body_model == "smplx":
            raise ValueError(f"{source} is a dataset (a folder or a list); datasets are fitted with SMPL only so far: "
                             "fit each OpenPose .npz file on its own with --body-model smplx")
        output_folder(args.out)
        settings = DatasetFitSettings(prior=args.prior or "gmm-min", iterations=args.iterations, focal=args.focal, width=args.width,
                                      height=args.height, skip_invalid=args.skip_invalid, batch_size=args.batch_size)
        merged = fit_dataset(source, args.out, settings, args.device, meta={"command": command_line()})
        if merged is not None:
            print(f"wrote {merged} and {merged.with_suffix('.json')}")
        return 0
    output_file(args.out, example="fit.npz")
    kp, conf = read_keypoints_npz(args.keypoints, openpose=True)
    from humanlib.body import load_body_model

    camera = Camera.simple(kp.shape[0], args.focal, args.width, args.height)
    body_model = args.body_model if args.body_model != "auto" else ("smpl" if kp.shape[1] == 24 else "smplx")
    if body_model == "smplx":
        return _fit_smplx(args, kp, conf, camera)
    if kp.shape[1] != 24:
        raise ValueError(f"--body-model smpl fits SMPL's 24 joints but {args.keypoints} holds {kp.shape[1]} OpenPose "
                         "keypoints per frame; use --body-model smplx (or auto)")
    config = SMPLifyConfig(stages=smplify_stages(iterations=args.iterations), camera_iterations=args.iterations,
                           on_invalid="skip" if args.skip_invalid else "raise")
    model = load_body_model(device=args.device)
    prior = make_prior(args.prior or "gmm-min")
    if isinstance(prior, torch.nn.Module):
        prior = prior.to(args.device)
    res = fit_smplify(model, kp.to(args.device), conf.to(args.device), camera.to(args.device), prior, config)
    np.savez(args.out, **{k: getattr(res, k).cpu().numpy() for k in ("betas", "pose", "transl", "energy", "valid", "flipped")})
    print(f"fitted {int(res.valid.sum())}/{len(res.valid)} frames; wrote {args.out}")
    return 0


def _fit_smplx(args: argparse.Namespace, kp: torch.Tensor, conf: torch.Tensor, camera: Camera) -> int:
    """SMPLify-X on OpenPose keypoints (25 / 67 / 118 per frame) with the open SMPL-X-layout model."""
    from humanlib.body import load_body_model, open_smplx_model_file
    from humanlib.fitting.jobs import OPENPOSE_WIDTHS
    from humanlib.fitting.smplifyx import SMPLifyXConfig, fit_smplifyx, smplifyx_stages

    if kp.shape[1] not in OPENPOSE_WIDTHS:
        raise ValueError(f"--body-model smplx fits OpenPose keypoints (25 body, 67 with hands, 118 with the face) but "
                         f"{args.keypoints} holds {kp.shape[1]} (SMPL's joints); use --body-model smpl (or auto)")
    sets = OPENPOSE_WIDTHS[kp.shape[1]]
    config = SMPLifyXConfig(stages=smplifyx_stages(iterations=args.iterations), sets=sets,
                            camera_iterations=args.iterations, on_invalid="skip" if args.skip_invalid else "raise")
    model = load_body_model(open_smplx_model_file(args.gender), layout="native", device=args.device)
    prior = make_prior(args.prior or "vposer")
    if isinstance(prior, torch.nn.Module):
        prior = prior.to(args.device)
    res = fit_smplifyx(model, kp.to(args.device), conf.to(args.device), camera.to(args.device), prior, config=config)
    np.savez(args.out, **{k: getattr(res, k).cpu().numpy() for k in ("betas", "pose", "transl", "expression", "energy",
                                                                      "valid", "flipped")},
             body_model=np.array(f"open SMPL-X layout ({args.gender})"), keypoint_sets=np.array(" + ".join(sets)))
    print(f"fitted {int(res.valid.sum())}/{len(res.valid)} frames with SMPLify-X ({' + '.join(sets)} keypoints, "
          f"open SMPL-X-layout model); wrote {args.out}")
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register ``humanlib fit`` and ``humanlib smplify-eval``."""
    p = subparsers.add_parser(
        "fit",
        help="fit the body model to 2D keypoints with SMPLify",
        description="Fit shape, pose and translation to keypoints in an .npz ('keypoints' (B, 24, 2) pixels, one row "
        "per SMPL joint; 'confidence' (B, 24), 0 = missing) seen by a pinhole camera; writes betas, pose, transl. "
        "OpenPose keypoints ((B, 25 / 67 / 118, 2): body, + both hands, + 51 face landmarks, in OpenPose's order) "
        "are fitted with SMPLify-X and the open SMPL-X-layout model (pose (B, 55, 3)). "
        "Given a folder of .npz files (or a text file listing them), fits the whole dataset in batches of "
        "--batch-size frames; under torchrun (e.g. `torchrun --nproc-per-node 2 -m humanlib fit DIR --out OUT`) "
        "the batches are shared over the workers. Each finished batch is written to OUT/parts at once; a rerun "
        "skips finished batches; the end merges them into OUT/fits.npz and OUT/fits.json.",
    )
    p.add_argument("keypoints", help="input .npz ('keypoints' (B, 24, 2) or OpenPose's (B, 25 / 67 / 118, 2), optional "
                   "'confidence' (B, K)), or a folder of SMPL ones, or a text file listing them (one path per line)")
    p.add_argument("--out", required=True, help="output .npz (betas, pose, transl, energy, valid, flipped); a folder "
                   "for a dataset")
    p.add_argument("--batch-size", type=positive_int, default=64,
                   help="frames fitted at once when fitting a dataset (default 64; results do not depend on it)")
    p.add_argument("--prior", default=None, choices=PRIOR_NAMES,
                   help="pose prior (default gmm-min for SMPL, vposer for SMPL-X as in SMPLify-X)")
    p.add_argument("--body-model", default="auto", choices=("auto", "smpl", "smplx"),
                   help="auto (default): SMPL for 24 keypoints per frame, the open SMPL-X-layout model with "
                   "SMPLify-X for OpenPose's 25 (body), 67 (+hands) or 118 (+face)")
    p.add_argument("--gender", default="neutral", choices=("neutral", "male", "female"),
                   help="variant of the open SMPL-X-layout model (default neutral)")
    p.add_argument("--focal", type=positive_float, default=1000.0, help="focal length in pixels (default 1000)")
    p.add_argument("--width", type=positive_float, default=640.0,
                   help="image width in pixels (principal point at the centre; default 640)")
    p.add_argument("--height", type=positive_float, default=640.0, help="image height in pixels (default 640)")
    p.add_argument("--iterations", type=positive_int, default=30, help="L-BFGS iterations per stage (default 30)")
    p.add_argument("--device", type=device, default="auto", help=DEVICE_HELP)
    p.add_argument("--skip-invalid", action="store_true", help="skip frames with too few keypoints instead of failing")
    p.set_defaults(func=_run_fit)

    e = subparsers.add_parser(
        "smplify-eval",
        help="SMPLify ablation (priors, E_a, E_sp, squared weights) on synthetic keypoints of test-split poses",
        description="Fit synthetic keypoints (known cameras, pixel noise, missing joints) of corpus test-split poses "
        "with each ablation variant and write smplify_ablation.json (v2v / joint errors in mm, command, machine).",
    )
    e.add_argument("--out", default="results", help="output folder for smplify_ablation.json (default results/)")
    e.add_argument("--frames", type=positive_int, default=64, help="synthetic frames (default 64)")
    e.add_argument("--iterations", type=positive_int, default=30, help="L-BFGS iterations per stage (default 30)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--posendf", dest="learned", action="store_true",
                   help="also run Pose-NDF as the prior (slow; SMPLify's weights, not tuned for it)")
    e.add_argument("--benchmark", action="store_true", help="also time batch sizes 1, 16, 64")
    e.add_argument("--alone", type=nonnegative_int, default=0,
                   help="also fit the first N frames one at a time with the full method and each solver, to "
                   "measure how a frame's fit depends on its batch (default 0: off)")
    e.add_argument("--device", type=device, default="auto", help=DEVICE_HELP)
    e.add_argument("--threads", type=nonnegative_int, default=0, help="torch CPU threads (0 = torch's default)")
    e.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar")
    e.add_argument("--note", default="", help="free text stored in the results (e.g. what else ran on the machine)")
    e.set_defaults(func=_run_eval)
