"""The shared training loop (humanlib.priors.training): atomic checkpoints, exact resume, early
stopping, and data-parallel runs under torchrun that follow the one-process run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from humanlib.priors import train_vposer as tv
from humanlib.priors.posendf import PoseNDFModelConfig
from humanlib.priors.posendf_data import PoseNDFDataConfig, make_distance_dataset
from humanlib.priors.posendf_train import PoseNDFTrainConfig, train_posendf
from humanlib.priors.training import DataParallel, EarlyStopping, check_same_run, save_atomically
from humanlib.priors.vposer import VPoserConfig
from humanlib.rotations import random_quat

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("ddp_train_worker.py")


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    return env


def _curve(kind: str, out: Path, batch_size: int, workers: int) -> list:
    launch = [sys.executable] if workers == 1 else [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node",
                                                    str(workers)]
    run = subprocess.run([*launch, str(WORKER), kind, str(out), str(batch_size)], capture_output=True, text=True,
                         env=_env(), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads((out / "curve.json").read_text())


def _numbers(curve: list) -> dict[str, float]:
    """The curve's numbers by their place (``"2.train.total"``)."""
    out: dict[str, float] = {}

    def walk(x, key):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{key}.{i}" if key else str(i))
        else:
            out[key] = float(x)

    walk(curve, "")
    return out


@pytest.mark.parametrize("kind", ["vposer", "posendf"])
def test_two_torchrun_workers_follow_one_worker_with_the_whole_batch(kind, tmp_path):
    """2 workers x 16 samples = 1 worker x 32: the same loss curve (train and val terms, lr) to float round-off.

    VPoser's BatchNorm, dropout and sampling noise see the whole batch on every worker; without that
    (plain per-shard layers) the curves differ by 2-15 %, far outside this tolerance.
    """
    one = _numbers(_curve(kind, tmp_path / "one", 32, 1))
    two = _numbers(_curve(kind, tmp_path / "two", 32, 2))
    assert one.keys() == two.keys() and len(one) > 20
    keys = sorted(one)
    np.testing.assert_allclose([two[k] for k in keys], [one[k] for k in keys], rtol=1e-4, atol=1e-5)
    run = tmp_path / "two" / "run"
    written = sorted(p.name for p in run.iterdir())
    assert written == (["best.pt", "history.json", "last.pt"] if kind == "vposer" else
                       ["history.json", "last.pt", "posendf.pt"])  # rank 0 alone, nothing half-written
    if kind == "vposer":
        assert json.loads((run / "history.json").read_text())["world_size"] == 2
    else:
        from humanlib.priors.posendf import load_posendf

        assert load_posendf(run / "posendf.pt").metadata["world_size"] == 2


def _poses(n: int, seed: int) -> torch.Tensor:
    basis = torch.randn(3, 63, generator=torch.Generator().manual_seed(123))
    s = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed))
    return (0.3 * torch.tanh(s @ basis)).reshape(n, 21, 3)


def test_an_interrupted_vposer_run_resumes_to_the_uninterrupted_one_exactly(tmp_path):
    """Dropout, sampling noise, Adam, the plateau scheduler and the early-stopping counter all carry over:
    every loss of every epoch and every weight equal, bit for bit."""
    train, val = _poses(256, 0), _poses(64, 1)
    cfg = tv.TrainConfig(epochs=5, batch_size=32, lr=3e-3, model=VPoserConfig(hidden=32, latent_dim=8),
                         early_stop_patience=5, lr_decay_patience=1, min_improvement=0.5)
    straight = tv.train_vposer(train, val, cfg, tmp_path / "a", progress=False)
    tv.train_vposer(train, val, tv.TrainConfig(**{**cfg.__dict__, "epochs": 3}), tmp_path / "b", progress=False)
    resumed = tv.train_vposer(train, val, cfg, tmp_path / "b", resume=True, progress=False)
    assert [h.epoch for h in resumed.history] == [1, 2, 3, 4, 5]
    for a, b in zip(straight.history, resumed.history):
        assert (a.train, a.val, a.val_deg, a.lr) == (b.train, b.val, b.val_deg, b.lr)
    assert (resumed.best_epoch, resumed.best_val) == (straight.best_epoch, straight.best_val)
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    state = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    assert state["best"] == torch.load(tmp_path / "a" / "last.pt", weights_only=True)["best"]
    # epoch 3 (where the run was cut) did not improve by 50 %: the plateau and early-stopping counters were 1
    assert [h.lr for h in straight.history] == [3e-3, 3e-3, 3e-3, 1.5e-3, 1.5e-3] and straight.best_epoch == 4


def test_an_interrupted_posendf_run_resumes_to_the_uninterrupted_one_exactly(tmp_path):
    manifold = random_quat(60, 21, generator=torch.Generator().manual_seed(0))
    data = make_distance_dataset(manifold, PoseNDFDataConfig(num_noisy=200, num_clean=40))
    cfg = PoseNDFTrainConfig(model=PoseNDFModelConfig(feature_dim=4, encoder_hidden=8, df_hidden=(32, 32)),
                             steps=30, batch_size=16, val_every=3, patience=3, lr=0.05)
    straight = train_posendf(data, data, cfg, out_dir=tmp_path / "a", progress=False)
    train_posendf(data, data, cfg, out_dir=tmp_path / "b", progress=False, stop_at=9)
    resumed = train_posendf(data, data, cfg, out_dir=tmp_path / "b", resume=True, progress=False)
    strip = [[{k: v for k, v in r.items() if k != "elapsed_s"} for r in run.history] for run in (straight, resumed)]
    assert strip[0] == strip[1]
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k


def test_early_stopping_counts_validations_without_a_relative_improvement():
    stop = EarlyStopping(patience=2, min_improvement=0.1)
    assert stop.update(10.0, 1) and not stop.should_stop
    assert not stop.update(9.5, 2)  # 5 % lower: not an improvement
    assert stop.update(8.9, 3) and (stop.best, stop.at, stop.bad) == (8.9, 3, 0)
    assert not stop.update(9.0, 4) and not stop.update(8.5, 5) and stop.should_stop
    again = EarlyStopping(patience=2, min_improvement=0.1)
    again.load_state_dict(stop.state_dict())
    assert again == stop
    assert not EarlyStopping(patience=0).should_stop


def test_shards_cover_the_batch_once_in_order():
    batch = torch.arange(12)
    shards = [DataParallel(r, 3).shard(batch) for r in range(3)]
    assert torch.equal(torch.cat(shards), batch)
    assert DataParallel().shard(batch) is batch


def test_an_interrupted_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_atomically({"step": torch.tensor(1)}, tmp_path / "last.pt")
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def dies(obj, f):
        f.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dies)
    with pytest.raises(KeyboardInterrupt):
        save_atomically({"step": torch.tensor(2)}, path)
    monkeypatch.undo()
    assert int(torch.load(path, weights_only=True)["step"]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_different_run_is_refused_naming_what_differs():
    saved = {"architecture": {"model": {"hidden": 32}}, "data": {"fingerprint": "aa"}}
    check_same_run("last.pt", saved, saved)
    with pytest.raises(ValueError, match=r"another architecture \(model \{'hidden': 32\} in the saved run"):
        check_same_run("last.pt", saved, {**saved, "architecture": {"model": {"hidden": 64}}})
    with pytest.raises(ValueError, match="on other data .fingerprint 'aa' in the saved run, now 'bb'"):
        check_same_run("last.pt", saved, {**saved, "data": {"fingerprint": "bb"}})


def test_both_training_commands_run_under_torchrun(tmp_path):
    """The commands on the open corpus, two workers: rank 0 alone reports and writes; Pose-NDF's data cache
    is built by rank 0 before the other worker reads it."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "humanlib"]
    jobs = {
        "vposer": ["train-vposer", "--epochs", "1", "--batch-size", "64", "--max-train-frames", "256",
                   "--max-val-frames", "64", "--threads", "1"],
        "posendf": ["train-posendf", "--steps", "4", "--batch-size", "8", "--num-manifold", "100", "--num-noisy", "60",
                    "--num-clean", "10", "--num-val", "20", "--val-every", "2", "--threads", "1"],
    }
    for name, args in jobs.items():
        out = tmp_path / name
        run = subprocess.run([*torchrun, *args, "--out", str(out), "--device", "cpu", "--no-progress"],
                             capture_output=True, text=True, env=_env(), timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.stdout.count("wrote ") == 1, run.stdout  # one report, from rank 0
        assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp-")]
    assert (tmp_path / "posendf" / "data.pt").is_file() and (tmp_path / "posendf" / "curves.png").is_file()
