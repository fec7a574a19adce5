"""``humanlib build-corpus``: rebuild the open motion corpus (:func:`humanlib.data.build.build_corpus`)."""

from __future__ import annotations

import argparse
import sys
import warnings

from humanlib.commands.args import output_folder, positive_int
from humanlib.data.build import build_corpus, CorpusConsistencyWarning


def _run(args: argparse.Namespace) -> int:
    if args.out is not None:
        output_folder(args.out)
    elif args.max_clips is not None:
        raise ValueError("--max-clips builds a partial corpus: give --out DIR too, so the committed corpus "
                         "(humanlib/assets/corpus) is not replaced")
    from tqdm.auto import tqdm

    with warnings.catch_warnings():  # printed below, one line per miss
        warnings.simplefilter("ignore", CorpusConsistencyWarning)
        report = build_corpus(args.raw, args.out, args.max_clips, log=lambda m: tqdm.write(m, file=sys.stderr),
                              progress=not args.quiet, strict=args.strict)
    print(f"corpus written: {report['total_bytes'] / 1e6:.1f} MB in {report['build_seconds']} s")
    if not report["consistency"]["passed"]:
        print("WARNING: source-consistency checks failed (see retarget_report.json 'consistency'):", file=sys.stderr)
        for line in report["consistency"]["problems"]:
            print(f"  - {line}", file=sys.stderr)
    return 0


def add_subcommand(subparsers) -> None:
    """Register ``humanlib build-corpus``."""
    p = subparsers.add_parser(
        "build-corpus",
        help="rebuild the open motion corpus from the raw CMU and Bandai-Namco archives",
        description="Unpack the raw mocap archives, retarget every clip to SMPL's 24 joints, validate, "
        "and write the sharded corpus (default: humanlib/assets/corpus).",
    )
    p.add_argument("--raw", default=None, help="folder with the raw archives (default: HUMANLIB_RAW_DATA or ../shared/data)")
    p.add_argument("--out", default=None,
                   help="output folder (default: humanlib/assets/corpus, replacing the committed corpus)")
    p.add_argument("--max-clips", type=positive_int, default=None,
                   help="only the first N clips of each source (quick check; needs --out)")
    p.add_argument("--strict", action="store_true",
                   help="fail (writing nothing) when a source-consistency check misses its target; default: warn")
    p.add_argument("--quiet", "--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
