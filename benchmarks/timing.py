"""How the benchmarks measure: median wall time after a warm-up, peak tensor memory, the machine.

* :func:`time_call` -- a warm-up call, then ``repeats`` timed calls with
  :func:`time.perf_counter`; the median is the figure reported (min and max are kept too).
  The number of repeats adapts to the warm-up's duration (a time budget), within bounds.
  On a GPU every call is followed by ``torch.cuda.synchronize()``.
* :func:`peak_tensor_memory` -- the largest amount of tensor memory alive at once during
  one call, above what was alive before it. On the CPU it is rebuilt from the torch
  profiler's per-operator allocation records (``profile_memory=True``): each record is the
  bytes an operator allocated minus the bytes it freed; the records are summed in time
  order and the maximum is kept. It counts tensors only (not the allocator's slack, not
  Python objects) and excludes the model's buffers and the inputs, which exist before the
  call. ``tracemalloc`` would be wrong here (torch allocates outside Python's allocator), and
  the process' peak RSS cannot be reset between measurements without a subprocess each.
  On a GPU, ``torch.cuda.max_memory_allocated`` gives the same quantity directly.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

REPO_DIR = Path(__file__).resolve().parents[1]


@dataclass
class Timing:
    """Wall time of one call, in seconds, over ``repeats`` timed calls after ``warmup`` calls."""

    median_s: float
    min_s: float
    max_s: float
    repeats: int
    warmup: int

    def as_dict(self) -> dict:
        return asdict(self)


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def time_call(
    fn: Callable[[], object],
    budget_s: float = 2.0,
    min_repeats: int = 3,
    max_repeats: int = 50,
    warmup: int = 1,
    device: str = "cpu",
) -> Timing:
    """Median wall time of ``fn()``.

    Args:
        fn: the call to time (its result is discarded).
        budget_s: the timed calls should take about this long in total; the number of repeats
            is ``budget_s / (duration of the last warm-up call)``, clamped to
            ``[min_repeats, max_repeats]``.
        min_repeats: at least this many timed calls.
        max_repeats: at most this many timed calls.
        warmup: untimed calls first (one-time costs: lazy initialisation, allocator growth).
        device: ``"cuda..."`` synchronises after each call.

    Returns:
        :class:`Timing`.
    """
    if min_repeats < 1 or max_repeats < min_repeats or warmup < 0:
        raise ValueError(f"need 1 <= min_repeats <= max_repeats and warmup >= 0; got {min_repeats}, {max_repeats}, {warmup}")
    last = budget_s
    for _ in range(warmup):
        start = time.perf_counter()
        fn()
        _sync(device)
        last = time.perf_counter() - start
    repeats = int(min(max_repeats, max(min_repeats, budget_s / max(last, 1e-6))))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), min(times), max(times), repeats, warmup)


def peak_tensor_memory(fn: Callable[[], object], device: str = "cpu") -> int:
    """Peak bytes of tensor memory alive at once during ``fn()``, above what was alive before.

    Args:
        fn: the call; what it returns is kept alive until it returns, then dropped.
        device: ``"cpu"`` (torch profiler records) or ``"cuda..."`` (the CUDA allocator's peak).

    Returns:
        bytes (an int >= 0).
    """
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return max(0, torch.cuda.max_memory_allocated() - before)
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    # Every event with a non-zero net allocation: operators (their own allocations, not their
    # children's) and the "[memory]" records of allocations/frees made outside any operator.
    records = sorted(
        (event.time_range.start, event.self_cpu_memory_usage)
        for event in prof.events()
        if event.self_cpu_memory_usage
    )
    alive = peak = 0
    for _, change in records:
        alive += change
        peak = max(peak, alive)
    return int(peak)


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (runnable processes; the machine's core count is the full load)."""
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git_revision() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--exclude", "*"], cwd=REPO_DIR,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> dict:
    """The machine and software a run measured: CPU, cores, memory, GPU, versions, threads, commit."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "gpu": gpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "smplx": _version("smplx"),
        "git": _git_revision(),
    }


def describe_machine(info: dict) -> str:
    """One line for tables and the book."""
    gpu = info["gpu"] or "no GPU"
    mem = f", {info['memory_gib']} GiB RAM" if info.get("memory_gib") else ""
    return (f"{info['cpu']}, {info['usable_cpus']} CPU cores{mem}, {gpu}; torch {info['torch']} "
            f"({info['torch_threads']} thread{'s' if info['torch_threads'] != 1 else ''}), smplx {info['smplx']}, Python {info['python']}, {info['os']}")
