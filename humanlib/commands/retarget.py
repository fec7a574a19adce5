"""``humanlib retarget``: a researcher's own mocap to a motion folder (:func:`humanlib.data.retarget_files.retarget_folder`)."""

from __future__ import annotations

import argparse
import sys

from humanlib.commands.args import positive_float


def _run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from humanlib.data.retarget_files import REPORT_FILE, retarget_folder

    report = retarget_folder(args.source, args.out, fps=args.fps, progress=not args.quiet, mapping=args.mapping,
                             log=None if args.quiet else (lambda m: tqdm.write(m, file=sys.stderr)))
    print(f"{report['clips']} clips, {report['frames']} frames at {report['fps']:g} fps written to {args.out} "
          f"(SMPL frame, Y up, metres)")
    print(f"joint-direction error, source vs stored poses (degrees; also in {args.out}/{REPORT_FILE}):")
    for group, summary in report["direction_error_deg"].items():
        numbers = ", ".join(f"{k} {v:.3g}" for k, v in summary.items() if isinstance(v, (int, float)))
        print(f"  {group}: {numbers}")
    return 0


def add_subcommand(subparsers) -> None:
    """Register ``humanlib retarget``."""
    p = subparsers.add_parser(
        "retarget",
        help="retarget your own ASF/AMC or BVH mocap to the corpus format (a motion folder)",
        description="Retarget CMU-style .asf/.amc subjects and Bandai-Namco-rig .bvh files to SMPL's joints with "
        "the corpus build's steps (same calibration, glitch repair, slerp resampling, float16 storage) and print "
        "the same joint-direction validation report. Output: OUT/motions.json, OUT/<clip>.npz, "
        "OUT/retarget_report.json, in SMPL's frame (Y up, metres); nothing is written when a file fails.",
    )
    p.add_argument("source", help="a folder of .asf + .amc files and/or .bvh files (searched recursively), or one .bvh")
    p.add_argument("--out", required=True, help="motion folder to write (new or empty; an earlier motion folder is "
                   "replaced); relative paths are under the current working directory")
    p.add_argument("--fps", type=positive_float, default=30.0,
                   help="frame rate of the written clips (default 30, the corpus's test split)")
    p.add_argument("--mapping", default=None, metavar="FILE",
                   help="JSON joint-mapping file for BVH files of another rig (format: humanlib.data.mapping; "
                   "example: humanlib/assets/mappings/bandai_namco.json); default: CMU ASF/AMC and Bandai-Namco BVH")
    p.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar or per-clip lines")
    p.set_defaults(func=_run)
