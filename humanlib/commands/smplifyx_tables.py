"""``humanlib experiment smplifyx-tables``: SMPLify-X's Tables 1-2 analog (:mod:`humanlib.experiments.smplifyx_tables`)."""

from __future__ import annotations

import argparse
import json
import time

import torch

from humanlib.commands.args import add_out, add_threads, nonnegative_int, output_folder, positive_int
from humanlib.provenance import command_line, git_commit, machine_description


def _run(args: argparse.Namespace) -> int:
    from humanlib.experiments.smplifyx_tables import run_smplifyx_tables

    out_dir = output_folder(args.out)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results = run_smplifyx_tables(args.frames, args.iterations, args.seed,
                                  progress=None if args.quiet else lambda line: print(line, flush=True))
    results = {"command": command_line(default="humanlib experiment"), "git_commit": git_commit(),
               "machine": machine_description(), "threads": args.threads,
               "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "seconds": round(time.perf_counter() - started, 1), **results}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "smplifyx_tables.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``smplifyx-tables`` under ``humanlib experiment``."""
    e = sub.add_parser("smplifyx-tables", help="SMPLify-X's Tables 1-2 analog on synthetic keypoints of test poses",
                       description="Fit synthetic OpenPose keypoints (body, hands, face; known cameras, pixel noise, "
                       "dropped keypoints) of corpus test-split poses with SMPL / SMPL+H / SMPL-X (Table 1) and "
                       "SMPLify-X's ablations (Table 2: gender-neutral model, GMM instead of VPoser, no E_c); writes "
                       "OUT/smplifyx_tables.json (mm errors, seconds, command, commit, machine).")
    add_out(e, "results/smplifyx", "output folder for smplifyx_tables.json")
    e.add_argument("--frames", type=positive_int, default=16, help="test frames, even (default 16)")
    e.add_argument("--iterations", type=positive_int, default=30, help="L-BFGS iterations per stage (default 30)")
    e.add_argument("--seed", type=nonnegative_int, default=0, help="picks poses, bodies and noise (default 0)")
    add_threads(e, label="torch CPU threads")
    e.add_argument("--quiet", action="store_true", help="no line per finished row")
    e.set_defaults(func=_run)
