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
from humanlib.priors import training as tr
from humanlib.priors.training import DataParallel, EarlyStopping, check_same_run, save_atomically
from humanlib.priors.vposer import VPoserConfig
from humanlib.rotations import random_quat

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parents[1] / "ddp_train_worker.py"


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


def _humor_corpus(split: str, clips: range):
    """A few clips of the committed test split posing as a 30 fps split (tiny runs only)."""
    import dataclasses

    from humanlib.data import load_corpus
    from humanlib.data.corpus import MotionCorpus

    corpus, infos, poses, transl, start = load_corpus("test"), [], [], [], 0
    for i in clips:
        p, t = corpus.clip(i)
        infos.append(dataclasses.replace(corpus.clips[i], start=start))
        poses.append(p)
        transl.append(t)
        start += len(p)
    lengths = torch.tensor([c.num_frames for c in infos])
    return MotionCorpus(split, torch.cat(poses), torch.cat(transl),
                        torch.repeat_interleave(torch.arange(len(infos)), lengths), infos, 30.0, "test clips")


def test_an_interrupted_humor_run_resumes_to_the_uninterrupted_one_exactly(tmp_path):
    """The third loop on the same helper: latents, scheduled-sampling coins, Adam and the history carry over."""
    from humanlib.body import SkeletonJoints, load_body_model
    from humanlib.priors import humor_train as ht
    from humanlib.priors.humor_model import HumorConfig

    joints = SkeletonJoints(load_body_model())
    train, val = _humor_corpus("train", range(0, 4)), _humor_corpus("val", range(4, 6))
    cfg = ht.HumorTrainConfig(model=HumorConfig(latent_dim=4, hidden=8, layers=1), window=3, batch_size=2, steps=6,
                              val_every=2, kl_anneal_steps=2, sample_start=1, sample_end=4, num_val=2)
    straight = ht.train_humor(train, val, cfg, tmp_path / "a", joints_model=joints)
    ht.train_humor(train, val, cfg, tmp_path / "b", stop_at=3, joints_model=joints)  # cut between two validations
    resumed = ht.train_humor(train, val, cfg, tmp_path / "b", resume=True, joints_model=joints)
    assert [h["step"] for h in resumed.history] == [2, 4, 6]
    assert resumed.history == straight.history
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    # another architecture, another corpus: refused with the fact that differs
    wide = ht.HumorTrainConfig(**{**cfg.__dict__, "model": HumorConfig(latent_dim=4, hidden=12, layers=1)})
    with pytest.raises(ValueError, match=r"cannot resume .*another architecture \(hidden 8 in the saved run, now 12\)"):
        ht.train_humor(train, val, wide, tmp_path / "b", resume=True, joints_model=joints)
    with pytest.raises(ValueError, match=r"on other data \(train '.*' in the saved run, now"):
        ht.train_humor(_humor_corpus("train", range(1, 4)), val, cfg, tmp_path / "b", resume=True, joints_model=joints)


def test_the_shared_resume_helper_round_trips_and_refuses_other_weights(tmp_path):
    """training_state + read_training_state + restore_training continue a model, an optimiser and a generator."""
    torch.manual_seed(0)
    model, g = torch.nn.Linear(3, 2), torch.Generator().manual_seed(5)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    torch.rand(3, generator=g)
    facts = {"architecture": {"in": 3}, "data": {"fingerprint": "aa"}}
    save_atomically({"model": model.state_dict(), **tr.training_state(opt, {"g": g}), "facts": facts}, tmp_path / "last.pt")
    expected_draw = torch.rand(3, generator=g)
    state = tr.read_training_state(tmp_path / "last.pt", "test state", ("model", "optimizer", "rng", "facts"))
    model2, g2 = torch.nn.Linear(3, 2), torch.Generator()
    opt2 = torch.optim.Adam(model2.parameters(), lr=0.1)
    tr.restore_training(tmp_path / "last.pt", state, state["facts"], facts, model=model2, weights=state["model"],
                        optimizer=opt2, generators={"g": g2})
    assert torch.equal(torch.rand(3, generator=g2), expected_draw)
    for a, b in zip(model.parameters(), model2.parameters()):
        assert torch.equal(a, b)
    assert opt2.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"] == 1
    with pytest.raises(ValueError, match=r"another architecture \(weight has shape \(2, 3\), the model \(2, 4\)"):
        tr.load_weights(torch.nn.Linear(4, 2), state["model"], "last.pt")
    with pytest.raises(ValueError, match=r"on other data \(fingerprint 'aa' in the saved run, now 'bb'\)"):
        tr.restore_training(tmp_path / "last.pt", state, state["facts"], {**facts, "data": {"fingerprint": "bb"}},
                            model=model2, weights=state["model"], optimizer=opt2, generators={"g": g2})
    (tmp_path / "bad.pt").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.pt is not a readable torch checkpoint"):
        tr.read_training_state(tmp_path / "bad.pt", "test state", ())


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
