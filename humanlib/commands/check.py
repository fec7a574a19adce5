"""``humanlib check``: verify a user's SMPL / AMASS files (:mod:`humanlib.check`)."""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from humanlib import paths
from humanlib.check import check_amass_dir, check_body_model, check_motion_folder, CheckReport
from humanlib.commands.args import input_file, input_folder, positive_float, positive_int


def _run(args: argparse.Namespace) -> int:
    if args.body_model is not None:
        input_file(args.body_model, "--body-model", "give an SMPL-layout .pkl or .npz file")
    if args.amass is not None:
        input_folder(args.amass, "--amass", "give the folder that holds the AMASS sub-datasets")
    if args.motions is not None:
        input_folder(args.motions, "--motions", "give a motion folder of `humanlib retarget` or a folder of AMASS .npz files")
    elif args.up is not None or args.fps is not None:
        raise ValueError("--up and --fps describe the files of --motions DIR; give --motions DIR (or drop them)")
    model = args.body_model or paths.user_body_model()
    amass = args.amass or paths.user_amass_dir()
    if model is None and amass is None and args.motions is None:
        raise ValueError("nothing to check: give --body-model, --amass and/or --motions, or set "
                         "HUMANLIB_BODY_MODEL / HUMANLIB_AMASS_DIR")
    report = CheckReport()
    if model is not None:
        check_body_model(model, report)
    if amass is not None:
        check_amass_dir(amass, args.max_files, report)
    if args.motions is not None:
        check_motion_folder(args.motions, args.up, args.fps, report)
    for line in report.passed:
        print(f"ok: {line}")
    for line in report.problems:
        print(f"problem: {line}")
    if not report.ok:
        print(f"humanlib: error: {len(report.problems)} problem(s) found (listed above)", file=sys.stderr)
    return 0 if report.ok else 1


def add_subcommand(subparsers) -> None:
    """Register ``humanlib check``."""
    parser = subparsers.add_parser(
        "check", help="verify a user's SMPL/SMPL-X model file, AMASS folder and own motion folder",
        description="Read a user's SMPL / SMPL-X model file and AMASS folder as the chapters will and "
                    "report every problem (defaults: HUMANLIB_BODY_MODEL, HUMANLIB_AMASS_DIR); with --motions DIR, "
                    "read a folder of your own motions as `humanlib experiment ... --motions DIR` will and print "
                    "each clip's frame rate, up axis and length (poses are read into SMPL's frame: Y up, metres). "
                    "Exit status 1 when anything is wrong.")
    parser.add_argument("--body-model", type=Path, help="SMPL-layout .pkl or .npz")
    parser.add_argument("--amass", type=Path, help="AMASS folder")
    parser.add_argument("--max-files", type=positive_int, default=None,
                        help="check only the first N AMASS files (default: all)")
    parser.add_argument("--motions", type=Path, default=None, metavar="DIR",
                        help="a motion folder of `humanlib retarget` or a folder of AMASS .npz files (any name)")
    parser.add_argument("--up", choices=("y", "z"), default=None,
                        help="up axis of --motions' files (default: from the files; AMASS files: z, turned to SMPL's "
                        "Y up by (x, y, z) -> (x, z, -y))")
    parser.add_argument("--fps", type=positive_float, default=None,
                        help="frame rate of --motions' files that carry none (default: from the files)")
    parser.set_defaults(func=_run)
