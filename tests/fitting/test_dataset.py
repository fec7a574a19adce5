"""Fitting a dataset (humanlib.fitting.dataset): the split over workers, torchrun, resuming, merging, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from humanlib.fitting.dataset import (
    DatasetFitSettings,
    dataset_files,
    fit_dataset,
    merge_parts,
    split_units,
    units_of_rank,
)

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = DatasetFitSettings(iterations=3, batch_size=2)
FRAMES = (5, 3, 4)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Three keypoint files of synthetic frames (val-split poses) of 5, 3 and 4 frames."""
    from humanlib.body import load_body_model
    from humanlib.fitting.evaluate import SyntheticConfig, make_synthetic_batch
    from humanlib.fitting.jobs import corpus_poses

    folder = tmp_path_factory.mktemp("keypoints")
    model = load_body_model()
    for i, n in enumerate(FRAMES):
        batch = make_synthetic_batch(model, corpus_poses("val", n, seed=i), SyntheticConfig(), seed=i)
        np.savez(folder / f"clip{i}.npz", keypoints=batch.keypoints.numpy(), confidence=batch.confidence.numpy())
    return folder


@pytest.fixture(scope="module")
def single(dataset, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("single")
    fit_dataset(dataset, out, SETTINGS, log=lambda *_: None)
    with np.load(out / "fits.npz") as data:
        return {k: data[k] for k in data.files}


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "humanlib", *args], capture_output=True, text=True, env=_env(),
                          timeout=600, **kw)


def _fit_args(dataset: Path, out: Path, batch_size: int = 2) -> list[str]:
    return ["fit", str(dataset), "--out", str(out), "--iterations", "3", "--batch-size", str(batch_size),
            "--device", "cpu"]


def _same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _load(path: Path) -> dict:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def test_units_cover_every_frame_once_whatever_the_world_size():
    units = split_units([5, 3, 4], 2)
    assert [(u.file, u.start, u.stop) for u in units] == [(0, 0, 2), (0, 2, 4), (0, 4, 5), (1, 0, 2), (1, 2, 3),
                                                         (2, 0, 2), (2, 2, 4)]
    for world in (1, 2, 3, 8):
        shares = [units_of_rank(units, r, world) for r in range(world)]
        flat = [u for share in shares for u in share]
        assert sorted(flat, key=lambda u: (u.file, u.start)) == units and len(flat) == len(units)
        assert shares == [units_of_rank(units, r, world) for r in range(world)]  # deterministic
    with pytest.raises(ValueError, match=r"rank must be in \[0, 2\)"):
        units_of_rank(units, 2, 2)


def test_dataset_fit_covers_every_frame_in_file_order(single):
    assert len(single["pose"]) == sum(FRAMES)
    np.testing.assert_array_equal(single["source_file"], np.repeat(np.arange(3), FRAMES))
    np.testing.assert_array_equal(single["source_frame"], np.concatenate([np.arange(n) for n in FRAMES]))
    assert np.isfinite(single["pose"]).all() and single["valid"].all()


def test_results_do_not_depend_on_the_batch_size(dataset, single, tmp_path):
    """Per-frame fitting: batches of 3 give each frame the fit that batches of 2 give it."""
    fit_dataset(dataset, tmp_path, DatasetFitSettings(iterations=3, batch_size=3), log=lambda *_: None)
    other = _load(tmp_path / "fits.npz")
    for k in ("pose", "betas", "transl"):
        np.testing.assert_allclose(other[k], single[k], atol=1e-4, rtol=0, err_msg=k)


def test_two_torchrun_workers_give_the_single_process_result(dataset, single, tmp_path):
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "humanlib",
                          *_fit_args(dataset, tmp_path)], capture_output=True, text=True, env=_env(), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "worker 0/2" in run.stdout and "worker 1/2" in run.stdout
    _same(_load(tmp_path / "fits.npz"), single)


def test_a_killed_run_resumes_without_losing_or_repeating_frames(dataset, single, tmp_path):
    """Kill the fit once two batches are written; the rerun fits only the rest; the merged file is the same."""
    proc = subprocess.Popen([sys.executable, "-m", "humanlib", *_fit_args(dataset, tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    parts = tmp_path / "parts"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if parts.is_dir() and len([p for p in parts.glob("*.npz") if not p.name.startswith(".tmp-")]) >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    done = sorted(p.name for p in parts.glob("*.npz") if not p.name.startswith(".tmp-"))
    if proc.returncode == 0:
        pytest.skip("the fit finished before it could be killed (machine too fast for this check)")
    assert not (tmp_path / "fits.npz").exists()  # nothing merged from an incomplete fit
    assert 2 <= len(done) < 7
    with pytest.raises(FileNotFoundError, match="batches are not fitted yet .*; rerun the same fit command"):
        files = dataset_files(dataset)
        merge_parts(files, split_units(list(FRAMES), 2), tmp_path, SETTINGS)
    rerun = _cli(*_fit_args(dataset, tmp_path))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"fitted {7 - len(done)} batches" in rerun.stdout and f"{len(done)} already done" in rerun.stdout
    _same(_load(tmp_path / "fits.npz"), single)


def test_merge_refuses_missing_foreign_and_mismatched_parts(dataset, tmp_path):
    fit_dataset(dataset, tmp_path, SETTINGS, log=lambda *_: None)
    files, units = dataset_files(dataset), split_units(list(FRAMES), 2)
    part = tmp_path / "parts" / units[3].name(files)
    saved = part.read_bytes()
    part.unlink()
    with pytest.raises(FileNotFoundError, match="1 of 7 batches are not fitted yet"):
        merge_parts(files, units, tmp_path, SETTINGS)
    part.write_bytes(saved)
    (tmp_path / "parts" / "00000-clip0-0000001.npz").write_bytes(saved)  # a batch of another batch size
    with pytest.raises(ValueError, match="counted twice"):
        merge_parts(files, units, tmp_path, SETTINGS)
    (tmp_path / "parts" / "00000-clip0-0000001.npz").unlink()
    with pytest.raises(ValueError, match="does not belong to this fit"):
        merge_parts(files, units, tmp_path, DatasetFitSettings(iterations=4, batch_size=2))
    rerun = _cli(*_fit_args(dataset, tmp_path)[:-4], "--iterations", "4", "--batch-size", "2")
    assert rerun.returncode == 1 and "fitted with other settings" in rerun.stderr
    assert len(rerun.stderr.strip().splitlines()) == 1


def test_bad_datasets(tmp_path, dataset):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no .npz keypoint files"):
        dataset_files(empty)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{dataset / 'clip0.npz'}\nmissing.npz\n")
    with pytest.raises(FileNotFoundError, match="names 1 missing file"):
        dataset_files(listing)
    listing.write_text(f"{dataset / 'clip0.npz'}\n{dataset / 'clip0.npz'}\n")
    with pytest.raises(ValueError, match="names a file twice"):
        dataset_files(listing)
    listing.write_text(f"# two clips\n{dataset / 'clip1.npz'}\n{dataset / 'clip0.npz'}\n")
    assert [p.name for p in dataset_files(listing)] == ["clip1.npz", "clip0.npz"]
    with pytest.raises(FileNotFoundError, match="neither a folder"):
        dataset_files(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="batch_size"):
        DatasetFitSettings(batch_size=0)
    run = _cli("fit", str(empty), "--out", str(tmp_path / "o"))
    assert run.returncode == 1 and "holds no .npz keypoint files" in run.stderr
