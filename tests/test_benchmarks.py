"""Tests of benchmarks/: a quick smoke run of the command, and the pieces it is built from.

No figure is checked against a time: speed is what the benchmarks report, not what tests assert.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # benchmarks/ lives in the checkout, it is not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.report import END_TO_END_DEFAULTS, evaluate_targets, render_markdown  # noqa: E402
from benchmarks.run import main, parse_timing  # noqa: E402
from benchmarks.timing import machine_info, peak_tensor_memory, time_call  # noqa: E402

pytest.importorskip("smplx", reason="the forward-pass benchmark compares with smplx")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.run", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_quick_run_writes_table_and_keeps_it_on_add_timing(tmp_path):
    """The smoke run measures every section; --add-timing then fills a slot without re-measuring."""
    out = tmp_path / "bench"
    done = _run("--quick", "--threads", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "benchmarks.json").read_text())
    assert set(results["sections"]) == {"body_forward", "smplify", "dataset_fit", "posendf", "vposer", "collision", "humor"}
    assert results["meta"]["quick"] is True and results["meta"]["machine"]["torch_threads"] == 1
    forward = results["sections"]["body_forward"]["rows"]
    assert {(r["impl"], r["batch"]) for r in forward} == {(i, b) for i in ("ours", "smplx") for b in (1, 4)}
    assert all(r["ms"] > 0 and r["peak_mb"] > 0 for r in forward)
    priors = {(r["prior"], r["optimizer"]) for r in results["sections"]["smplify"]["rows"]}
    assert priors == {("none", "per-frame"), ("gmm-min", "per-frame"), ("vposer", "per-frame"), ("posendf", "per-frame"),
                      ("gmm-min", "batch")}
    workers = [(r["workers"], r["frames"]) for r in results["sections"]["dataset_fit"]["rows"]]
    assert workers == [(1, 8), (2, 8)] and all(r["fps"] > 0 for r in results["sections"]["dataset_fit"]["rows"])
    for key in ("posendf", "vposer", "humor"):
        assert all(r["throughput"] > 0 for r in results["sections"][key]["rows"])
    collision = results["sections"]["collision"]["rows"]
    assert {(r["batch"], r["phase"]) for r in collision} == {(b, p) for b in (1, 2) for p in ("search", "energy", "total")}
    assert all(r["ms"] > 0 and r["pairs"] > 0 for r in collision)
    table = (out / "benchmarks.md").read_text()
    for heading in ("## Targets", "## Body-model forward pass", "## SMPLify fitting throughput",
                    "## Fitting a dataset over workers", "## Pose-NDF",
                    "## VPoser", "## HuMoR", "## SMPLify-X's collision term E_c", "## End to end"):
        assert heading in table
    assert "not measured yet" in table

    assert main(["--out", str(out), "--add-timing", "book=123.4", "--add-timing", "lint=5=make lint"]) == 0
    updated = json.loads((out / "benchmarks.json").read_text())
    assert updated["sections"] == results["sections"]
    assert updated["end_to_end"]["book"]["seconds"] == 123.4
    assert updated["end_to_end"]["lint"]["command"] == "make lint"
    table = (out / "benchmarks.md").read_text()
    assert "123 s" in table and "`make lint`" in table


def test_quick_humor_section_times_training_rollout_and_tto(tmp_path):
    """``--only humor``: HuMoR's row (training steps/s, rollout frames/s, test-time optimisation frames/s)."""
    out = tmp_path / "bench"
    done = _run("--quick", "--only", "humor", "--threads", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((out / "benchmarks.json").read_text())["sections"]["humor"]["rows"]
    assert [(r["task"], r["unit"]) for r in rows] == [("training", "steps/s"), ("rollout", "frames/s"),
                                                        ("test-time optimisation", "frames/s")]
    assert all(r["throughput"] > 0 and r["seconds"] > 0 for r in rows)
    table = (out / "benchmarks.md").read_text()
    assert "## HuMoR" in table and "| test-time optimisation |" in table


def test_parse_timing_accepts_known_jobs_and_commands():
    assert parse_timing("book=812")[1]["seconds"] == 812.0
    name, entry = parse_timing("docs=3.5=make docs")
    assert (name, entry["seconds"], entry["command"]) == ("docs", 3.5, "make docs")


@pytest.mark.parametrize("text", ["book", "book=fast", "book=-3", "=4", "docs=4"])
def test_parse_timing_rejects_bad_input(text):
    with pytest.raises(ValueError, match="add-timing"):
        parse_timing(text)


def test_add_timing_without_results_fails_with_a_reason(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--add-timing", "book=10"]) == 1
    assert "run the benchmarks first" in capsys.readouterr().err


def test_peak_tensor_memory_counts_tensors_alive_together():
    """Two 4 MB tensors alive at once, then one freed before the third: the peak is 8 MB."""
    x = torch.randn(1000, 1000)

    def f():
        a = x * 2
        b = a + 1
        del a
        c = b - 1
        return c

    peak = peak_tensor_memory(f)
    assert 8_000_000 <= peak < 8_100_000


def test_time_call_counts_warmup_and_repeats():
    calls = []
    timing = time_call(lambda: calls.append(1), budget_s=0.0, min_repeats=4, max_repeats=9, warmup=2)
    assert (timing.repeats, timing.warmup, len(calls)) == (4, 2, 6)
    assert timing.min_s <= timing.median_s <= timing.max_s
    with pytest.raises(ValueError):
        time_call(lambda: None, min_repeats=3, max_repeats=2)


def _fake_results(ours_ms: float, projection_s: float, fps64: float, scaling: float = 1.8) -> dict:
    section = {"date_utc": "2026-01-01 00:00 UTC", "seconds": 1.0, "load_average_before": [0.1, 0, 0],
               "load_average_after": [0.2, 0, 0]}
    timing = {"median_s": 1.0, "min_s": 1.0, "max_s": 1.0, "repeats": 3, "warmup": 1}
    forward = [{"device": "cpu", "batch": 64, "impl": impl, "ms": ms, "peak_mb": 1.0, "model_mb": 1.0,
                "bodies_per_s": 64e3 / ms, "timing": timing} for impl, ms in (("ours", ours_ms), ("smplx", 10.0))]
    smplify = [{"prior": "gmm-min", "weights": "committed", "batch": b, "fps": fps, "seconds": b / fps, "timing": timing}
               for b, fps in ((1, 2.0), (64, fps64))]
    projection = {"task": "projection", "setting": "s", "poses": 1000, "steps": 100, "seconds": projection_s,
                  "throughput": 1000 / projection_s, "unit": "poses/s", "timing": timing}
    return {
        "meta": {"command": "python -m benchmarks.run", "quick": False, "date_utc": "2026-01-01 00:00 UTC",
                 "machine": machine_info()},
        "sections": {"body_forward": {**section, "rows": forward}, "smplify": {**section, "rows": smplify, "iterations": 10,
                     "synthetic": "s"}, "posendf": {**section, "rows": [projection]},
                     "dataset_fit": {**section, "iterations": 10, "rows": [
                         {"workers": w, "threads_per_worker": 2 // w, "frames": 512, "seconds": 512 / fps, "fps": fps}
                         for w, fps in ((1, 30.0), (2, 30.0 * scaling))]}},
        "end_to_end": {},
    }


@pytest.mark.parametrize("ours_ms, projection_s, fps64, scaling, met",
                         [(9.0, 4.0, 150.0, 1.8, True), (11.0, 12.0, 15.0, 1.2, False)])
def test_targets_follow_the_numbers(ours_ms, projection_s, fps64, scaling, met):
    targets = evaluate_targets(_fake_results(ours_ms, projection_s, fps64, scaling))
    assert len(targets) == 5
    assert [t["met"] for t in targets] == [met] * 5
    table = render_markdown(_fake_results(ours_ms, projection_s, fps64, scaling))
    assert ("**no**" in table) is not met
    assert all(d["command"] in table for d in END_TO_END_DEFAULTS.values())
