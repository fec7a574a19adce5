"""Run the benchmarks and write ``benchmarks.json`` and ``benchmarks.md`` (the book's appendix table).

Usage, from the repository root::

    .venv/bin/python -m benchmarks.run --out results/benchmarks            # the committed run, ~8 min on 2 cores
    .venv/bin/python -m benchmarks.run --out /tmp/bench --quick            # smoke run, seconds, numbers meaningless
    .venv/bin/python -m benchmarks.run --out results/benchmarks --only posendf     # re-measure one section
    .venv/bin/python -m benchmarks.run --out results/benchmarks --add-timing book=812 --add-timing tests=301

``--only`` and ``--add-timing`` update an existing ``benchmarks.json`` in ``--out``: the other
sections keep their numbers (each section records its own date and load average).
``--add-timing`` measures nothing: it records a wall time taken by hand, e.g. with
``/usr/bin/time -f %e make book``, optionally with the command after a second ``=``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks import cases  # noqa: E402
from benchmarks.report import END_TO_END_DEFAULTS, evaluate_targets, render_markdown  # noqa: E402
from benchmarks.timing import load_average, machine_info  # noqa: E402

SECTIONS = ("body_forward", "smplify", "dataset_fit", "posendf", "vposer", "collision", "humor")
JSON_NAME = "benchmarks.json"
MD_NAME = "benchmarks.md"


def parse_timing(text: str) -> tuple[str, dict]:
    """``NAME=SECONDS[=COMMAND]`` -> ``(NAME, {"seconds": ..., "command": ...})``."""
    parts = text.split("=", 2)
    if len(parts) < 2 or not parts[0].strip():
        raise ValueError(f"--add-timing expects NAME=SECONDS or NAME=SECONDS=COMMAND (e.g. book=812), got {text!r}")
    name = parts[0].strip()
    try:
        seconds = float(parts[1])
    except ValueError:
        raise ValueError(f"--add-timing {text!r}: {parts[1]!r} is not a number of seconds") from None
    if not seconds > 0:
        raise ValueError(f"--add-timing {text!r}: seconds must be positive")
    entry = {"seconds": seconds, "date_utc": time.strftime("%Y-%m-%d", time.gmtime())}
    if len(parts) == 3 and parts[2].strip():
        entry["command"] = parts[2].strip()
    elif name not in END_TO_END_DEFAULTS:
        raise ValueError(f"--add-timing {text!r}: give the command for a new job as {name}=SECONDS=COMMAND")
    return name, entry


def _read(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); delete it or choose another --out") from None


def write_results(results: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write the JSON and the markdown table; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results["targets"] = evaluate_targets(results)
    json_path, md_path = out_dir / JSON_NAME, out_dir / MD_NAME
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    md_path.write_text(render_markdown(results))
    return json_path, md_path


def _command(argv: list[str]) -> str:
    return "python -m benchmarks.run " + " ".join(shlex.quote(a) for a in argv)


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    """Measure the chosen sections; merge into an existing results file when ``--only`` is given."""
    if args.threads:
        torch.set_num_threads(args.threads)
    plan = cases.QUICK if args.quick else cases.FULL
    if args.smplify_iterations:
        plan = dataclasses.replace(plan, smplify_iterations=args.smplify_iterations)
    devices = ("cpu",) + (("cuda",) if torch.cuda.is_available() else ())
    chosen = args.only or list(SECTIONS)
    previous = _read(Path(args.out) / JSON_NAME) if args.only else None
    if previous is not None and previous["meta"].get("quick") != args.quick:
        raise ValueError(f"{args.out}/{JSON_NAME} holds a {'quick' if previous['meta'].get('quick') else 'full'} run; "
                         "--only cannot mix quick and full sizes")
    results = previous or {"sections": {}, "end_to_end": {}}
    results["meta"] = {
        "command": _command(argv),
        "quick": args.quick,
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_info(),
        "load_average_start": load_average(),
        "plan": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(plan).items()},
    }
    started = time.perf_counter()
    for name in chosen:
        print(f"{name} (load average {load_average()})", flush=True)
        if name == "body_forward":
            results["sections"][name] = cases.bench_body_forward(plan, devices)
            results["profile"] = cases.profile_body_forward(max(plan.forward_batches))
        elif name == "smplify":
            results["sections"][name] = cases.bench_smplify(plan)
        elif name == "dataset_fit":
            results["sections"][name] = cases.bench_dataset_fit(plan)
        elif name == "posendf":
            results["sections"][name] = cases.bench_posendf(plan)
        elif name == "vposer":
            results["sections"][name] = cases.bench_vposer(plan)
        elif name == "collision":
            results["sections"][name] = cases.bench_collision(plan, devices)
        elif name == "humor":
            results["sections"][name] = cases.bench_humor(plan)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_average_end"] = load_average()
    return results


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time the course's code (body model vs smplx, SMPLify per prior, Pose-NDF, VPoser) and "
        "write benchmarks.json and benchmarks.md (the table the book's appendix includes).",
    )
    parser.add_argument("--out", default="results/benchmarks", help="output folder (default results/benchmarks)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one repeat: checks that the script works")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="measure only these sections and update the "
                        "existing results in --out")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--smplify-iterations", type=int, default=0, metavar="N",
                        help="L-BFGS iterations per SMPLify stage (default: the plan's, 30 in a full run)")
    parser.add_argument("--add-timing", action="append", default=[], metavar="NAME=SECONDS[=COMMAND]",
                        help="record a wall time measured by hand (book, tests, ...) in the existing results "
                        "in --out, without measuring anything else; may be repeated")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    try:
        if args.add_timing:
            if args.only or args.quick:
                raise ValueError("--add-timing records hand-made timings only; run it without --only/--quick")
            results = _read(out / JSON_NAME)
            if results is None:
                raise FileNotFoundError(f"{out / JSON_NAME} does not exist: run the benchmarks first")
            for text in args.add_timing:
                name, entry = parse_timing(text)
                results.setdefault("end_to_end", {})[name] = {**results["end_to_end"].get(name, {}), **entry}
        else:
            results = run(args, argv)
        json_path, md_path = write_results(results, out)
    except (ValueError, FileNotFoundError) as error:
        print(f"benchmarks: error: {error}", file=sys.stderr)
        return 1
    print(md_path.read_text())
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
