"""Bad inputs to the shared training loop (humanlib.priors.training) and to the two trainings that use it:
a resumed run of another architecture, settings or data, resuming nothing, a launch of more
workers than a batch can feed, a damaged early-stopping or random state."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch
from bad_inputs import case_id, raises, run_case, with_env

from humanlib.priors import posendf_train as pt
from humanlib.priors import train_vposer as tv
from humanlib.priors import training as tr
from humanlib.priors.posendf import PoseNDFModelConfig
from humanlib.priors.posendf_data import DistanceDataset
from humanlib.priors.vposer import VPoserConfig

T = "humanlib.priors.training."
SMALL = VPoserConfig(hidden=16, latent_dim=4)
NDF = PoseNDFModelConfig(feature_dim=2, encoder_hidden=4, df_hidden=(8,))


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="training_bad_"))


def _poses(n: int = 8) -> torch.Tensor:
    return 0.3 * torch.randn(n, 21, 3, generator=torch.Generator().manual_seed(n))


def _vposer_run(config: tv.TrainConfig, run_info: dict | None = None) -> Path:
    out = _tmp()
    tv.train_vposer(_poses(), _poses(4), config, out, progress=False, run_info=run_info)
    return out


def _vposer_cfg(**changes) -> tv.TrainConfig:
    return tv.TrainConfig(**{"epochs": 1, "batch_size": 4, "model": SMALL, **changes})


def _data() -> DistanceDataset:
    q = torch.nn.functional.normalize(torch.randn(8, 21, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    return DistanceDataset(q, torch.linspace(0.0, 1.0, 8), torch.full((8,), 0.1))


def _ndf_cfg(**changes) -> pt.PoseNDFTrainConfig:
    return pt.PoseNDFTrainConfig(**{"model": NDF, "steps": 2, "batch_size": 4, "val_every": 2, **changes})


def _ndf_run(config: pt.PoseNDFTrainConfig, metadata: dict | None = None) -> Path:
    out = _tmp()
    pt.train_posendf(_data(), None, config, out, progress=False, metadata=metadata, stop_at=1)
    return out


def _junk() -> Path:
    path = _tmp() / "last.pt"
    path.write_bytes(b"PK\x03\x04 truncated")
    return path


def _restore(saved: dict, now: dict, drop: str | None = None) -> None:
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    state = tr.training_state(optimizer, {"g": torch.Generator()})
    state.pop(drop, None)
    tr.restore_training("last.pt", state, saved, now, model=model, weights=model.state_dict(), optimizer=optimizer,
                        generators={"g": torch.Generator()})


CASES = [
    # a checkpoint of another architecture, other settings or other data
    raises(T + "check_same_run", "another architecture",
           lambda: tr.check_same_run("last.pt", {"architecture": {"model": {"hidden": 32}}}, {"architecture": {"model": {"hidden": 64}}}),
           ValueError, r"cannot resume last.pt: it was trained with another architecture \(model"),
    raises(T + "check_same_run", "another corpus fingerprint",
           lambda: tr.check_same_run("last.pt", {"data": {"corpus": "sha 11"}}, {"data": {"corpus": "sha 22"}}),
           ValueError, "on other data .corpus 'sha 11' in the saved run, now 'sha 22'"),
    raises("humanlib.priors.train_vposer.train_vposer", "resume a run of another architecture",
           lambda: tv.train_vposer(_poses(), _poses(4), _vposer_cfg(epochs=2, model=VPoserConfig(hidden=8, latent_dim=4)),
                                   _vposer_run(_vposer_cfg()), resume=True, progress=False),
           ValueError, "another architecture .model"),
    raises("humanlib.priors.train_vposer.train_vposer", "resume with another loss",
           lambda: tv.train_vposer(_poses(), _poses(4), _vposer_cfg(epochs=2, loss=tv.VPoserLossConfig(kl=0.5)),
                                   _vposer_run(_vposer_cfg()), resume=True, progress=False),
           ValueError, "other settings .loss"),
    raises("humanlib.priors.train_vposer.train_vposer", "resume with another learning rate (Adam's state would override it)",
           lambda: tv.train_vposer(_poses(), _poses(4), _vposer_cfg(epochs=2, lr=0.1), _vposer_run(_vposer_cfg()), resume=True,
                                   progress=False),
           ValueError, "other settings .lr 0.001 in the saved run, now 0.1"),
    raises("humanlib.priors.posendf_train.train_posendf", "resume a run of another architecture",
           lambda: pt.train_posendf(_data(), None, _ndf_cfg(model=PoseNDFModelConfig(feature_dim=3, encoder_hidden=4, df_hidden=(8,))),
                                    _ndf_run(_ndf_cfg()), resume=True, progress=False),
           ValueError, "another architecture .model"),
    raises("humanlib.priors.posendf_train.train_posendf", "resume with another batch size",
           lambda: pt.train_posendf(_data(), None, _ndf_cfg(batch_size=2), _ndf_run(_ndf_cfg()), resume=True, progress=False),
           ValueError, "other settings .batch_size 4 in the saved run, now 2"),
    raises("humanlib.priors.posendf_train.train_posendf", "resume on another corpus",
           lambda: pt.train_posendf(_data(), None, _ndf_cfg(), _ndf_run(_ndf_cfg(), {"corpus": "sha 11"}), resume=True,
                                    progress=False, metadata={"corpus": "sha 22"}),
           ValueError, "on other data .corpus 'sha 11'"),
    raises(T + "check_entries", "a state without its optimizer",
           lambda: tr.check_entries({"model": {}}, ("model", "optimizer"), "last.pt", "VPoser training state"),
           ValueError, r"incomplete VPoser training state: missing entries \['optimizer'\]"),
    # --resume with no checkpoint
    raises("humanlib.priors.posendf_train.train_posendf", "resume an empty folder",
           lambda: pt.train_posendf(_data(), None, _ndf_cfg(), _tmp(), resume=True, progress=False),
           FileNotFoundError, "last.pt does not exist"),
    # more workers than a batch can feed
    raises(T + "DataParallel.check_batch", "3 workers for a batch of 2",
           lambda: tr.DataParallel(0, 3).check_batch(2), ValueError, "3 workers for a batch of 2"),
    raises(T + "DataParallel.check_batch", "a batch that does not split evenly",
           lambda: tr.DataParallel(0, 2).check_batch(5), ValueError, "batch size 5 does not split evenly over 2 workers"),
    raises(T + "data_parallel", "torchrun with more workers than the batch (refused before joining the group)",
           with_env(lambda: tr.data_parallel("cpu", 2), WORLD_SIZE="3", RANK="0"), ValueError, "3 workers for a batch of 2"),
    raises("humanlib.priors.posendf_train.train_posendf", "torchrun with more workers than the batch",
           with_env(lambda: pt.train_posendf(_data(), None, _ndf_cfg(batch_size=2), progress=False), WORLD_SIZE="4", RANK="0"),
           ValueError, "4 workers for a batch of 2"),
    raises("humanlib.priors.train_vposer.train_vposer", "torchrun leaving 1 pose per worker (BatchNorm needs 2)",
           with_env(lambda: tv.train_vposer(_poses(), _poses(4), _vposer_cfg(), progress=False), WORLD_SIZE="4", RANK="0"),
           ValueError, r"4 workers for a batch of 4: each worker needs at least 2"),
    raises(T + "DataParallel", "rank outside the world", lambda: tr.DataParallel(2, 2), ValueError, r"rank must be in \[0, world_size=2\)"),
    raises(T + "DataParallel.shard", "a batch that does not split evenly",
           lambda: tr.DataParallel(0, 2).shard(torch.zeros(3)), ValueError, "3 rows does not split evenly over 2"),
    # damaged states, bad arguments
    raises(T + "EarlyStopping", "negative patience", lambda: tr.EarlyStopping(patience=-1), ValueError, "patience must be an int >= 0"),
    raises(T + "EarlyStopping", "min_improvement of 1", lambda: tr.EarlyStopping(2, 1.0), ValueError, r"min_improvement must be in \[0, 1\)"),
    raises(T + "EarlyStopping.load_state_dict", "a state of another version",
           lambda: tr.EarlyStopping(2).load_state_dict({"val": 1.0}), ValueError, "must be a dict with best, at and bad"),
    raises(T + "rng_states", "a list of generators", lambda: tr.rng_states([torch.Generator()]), TypeError,
           "generators must be a dict"),
    raises(T + "restore_rng_states", "a state without the shuffling generator",
           lambda: tr.restore_rng_states({"torch": torch.get_rng_state()}, {"shuffle": torch.Generator()}), ValueError,
           r"lack \['shuffle'\]"),
    # the shared resume path
    raises(T + "read_training_state", "nothing to resume", lambda: tr.read_training_state(_tmp() / "last.pt", "state", ()),
           FileNotFoundError, r"nothing to resume: .*last\.pt does not exist; start without --resume"),
    raises(T + "read_training_state", "a number as the path", lambda: tr.read_training_state(3, "state", ()),
           TypeError, "path must be a str or Path"),
    raises(T + "read_training_state", "a damaged file", lambda: tr.read_training_state(_junk(), "state", ()),
           ValueError, r"last\.pt is not a readable torch checkpoint"),
    raises(T + "read_training_state", "a state of another format",
           lambda: tr.read_training_state(tr.save_atomically({"format": "x"}, _tmp() / "last.pt"), "VPoser training state",
                                          (), format="humanlib.vposer-training", command="humanlib train-vposer"),
           ValueError, r"is not a VPoser training state \(format 'x'\); resume from the last.pt that `humanlib train-vposer`"),
    raises(T + "read_training_state", "a state without its optimizer",
           lambda: tr.read_training_state(tr.save_atomically({"model": {}}, _tmp() / "last.pt"), "HuMoR training checkpoint",
                                          ("model", "optimizer")),
           ValueError, r"incomplete HuMoR training checkpoint: missing entries \['optimizer'\]"),
    raises(T + "load_weights", "weights of a wider layer",
           lambda: tr.load_weights(torch.nn.Linear(3, 2), torch.nn.Linear(4, 2).state_dict(), "last.pt"),
           ValueError, r"last.pt holds weights of another architecture \(weight has shape \(2, 4\), the model \(2, 3\)\)"),
    raises(T + "load_weights", "a missing key",
           lambda: tr.load_weights(torch.nn.Linear(3, 2), {"weight": torch.zeros(2, 3)}, "last.pt"),
           ValueError, r"missing keys \['bias'\]"),
    raises(T + "load_weights", "weights that are not tensors",
           lambda: tr.load_weights(torch.nn.Linear(3, 2), {"weight": [0.0]}, "last.pt"), TypeError, "dict of tensors"),
    raises(T + "load_weights", "not a module", lambda: tr.load_weights({}, {}, "last.pt"), TypeError, "torch.nn.Module"),
    raises(T + "training_state", "a model as the optimizer", lambda: tr.training_state(torch.nn.Linear(1, 1), {}),
           TypeError, "torch.optim.Optimizer"),
    raises(T + "training_state", "a list of generators",
           lambda: tr.training_state(torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1), [torch.Generator()]),
           TypeError, "generators must be a dict"),
    raises(T + "restore_training", "a run on another corpus fingerprint",
           lambda: _restore({"data": {"fingerprint": "aa"}}, {"data": {"fingerprint": "bb"}}),
           ValueError, r"cannot resume last.pt: it was trained on other data \(fingerprint 'aa' in the saved run, now 'bb'\)"),
    raises(T + "restore_training", "a run of another architecture",
           lambda: _restore({"architecture": {"hidden": 8}}, {"architecture": {"hidden": 16}}),
           ValueError, r"another architecture \(hidden 8 in the saved run, now 16\)"),
    raises(T + "restore_training", "a state without its random states",
           lambda: _restore({}, {}, drop="rng"), ValueError, r"incomplete training state: missing entries \['rng'\]"),
    raises(T + "save_atomically", "a folder as the file", lambda: tr.save_atomically({}, _tmp()), IsADirectoryError,
           "is a folder; give a file name"),
    raises(T + "save_atomically", "a number as the path", lambda: tr.save_atomically({}, 3), TypeError, "path must be a str or Path"),
    raises(T + "write_json_atomically", "a folder as the file", lambda: tr.write_json_atomically([], _tmp()),
           IsADirectoryError, "is a folder"),
]

EXEMPT: dict[str, str] = {
    T + "DataParallel.average_gradients": "called by the training loops on their own model's parameters after backward",
    T + "DataParallel.all_sum": "called by VPoser's batch-wide BatchNorm on its own statistics, never on user input",
    T + "DataParallel.mean": "called by the training loops on the loss values they computed themselves",
    T + "DataParallel.from_main": "a collective that the training loops call with their own stop decision",
    T + "DataParallel.barrier": "a collective without arguments, called by the training loops",
    T + "EarlyStopping.update": "called by the training loops with the validation value they computed",
    T + "EarlyStopping.state_dict": "returns the state; takes no input",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
