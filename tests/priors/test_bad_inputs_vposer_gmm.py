"""Bad inputs to the pose priors (interface, GMM, VPoser, its training and evaluation): every public
name, a clear error or a defined result.

Checkpoints and .npz files of the wrong kind are written here in their real layouts (key names
only, random numbers): a Pose-NDF checkpoint, a human_body_prior-style VPoser v1 snapshot and v2
(PyTorch Lightning) checkpoint, a training state, truncated and garbage files.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_inputs import case_id, raises, returns, run_case
from hypothesis import given, settings
from hypothesis import strategies as st

from humanlib import bodyplot, rotations
from humanlib.priors import NoPrior, PosePrior, check_body_pose
from humanlib.priors import gmm as G
from humanlib.priors import train_vposer as tv
from humanlib.priors import vposer as V
from humanlib.priors import vposer_eval as E
from humanlib.priors import vposer_figures as F

NAN = float("nan")
META = "meta"
SMALL = V.VPoserConfig(hidden=16, latent_dim=4)


_ROOT = tempfile.TemporaryDirectory(prefix="bad_vposer_gmm_")  # removed when the test process ends


def _tmp() -> Path:
    """A fresh empty folder (one per case: the cases share no files)."""
    return Path(tempfile.mkdtemp(dir=_ROOT.name))


def _mixture(k: int = 2, d: int = 3, seed: int = 0) -> G.GaussianMixture:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(k, d, d, generator=g, dtype=torch.float64)
    covs = a @ a.transpose(1, 2) / d + 0.2 * torch.eye(d, dtype=torch.float64)
    w = torch.rand(k, generator=g, dtype=torch.float64) + 0.5
    return G.GaussianMixture(w / w.sum(), torch.randn(k, d, generator=g, dtype=torch.float64), covs)


GMM3 = _mixture(2, 3)
GMM63 = _mixture(2, 63, seed=1)
PRIOR = G.GMMPosePrior(GMM63)
torch.manual_seed(0)
MODEL = V.VPoser(SMALL).eval()
VPRIOR = V.VPoserPrior(MODEL)
POSE = 0.3 * torch.randn(3, 21, 3, generator=torch.Generator().manual_seed(0))
ROT = rotations.axis_angle_to_rotmat(POSE)
DEC = bodyplot.Decimation(vertex_index=np.arange(4), faces=np.array([[0, 1, 2], [1, 2, 3]]))
VERTS = torch.rand(2, 4, 3)


def _nan(*shape: int) -> torch.Tensor:
    x = torch.zeros(*shape)
    x.view(-1)[0] = NAN
    return x


# ----------------------------------------------------------------- files in real (wrong) layouts


def _save(obj: object, name: str) -> Path:
    path = _tmp() / name
    torch.save(obj, path)
    return path


def _good_checkpoint() -> Path:
    return V.save_vposer(MODEL, _tmp() / "good.pt")


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    cut = path.with_name("cut" + path.suffix)
    cut.write_bytes(data[: len(data) // 2])
    return cut


def _garbage(name: str) -> Path:
    path = _tmp() / name
    path.write_bytes(b"\x00\x13garbage, not a file of any kind" * 7)
    return path


def _posendf_checkpoint() -> Path:
    from humanlib.priors import posendf

    return _save({"format": posendf.CHECKPOINT_FORMAT, "model_config": {"hidden": 8},
                  "state_dict": {"df.0.weight": torch.zeros(2, 2)}, "metadata": {}}, "posendf.pt")


def _hbp_v1_snapshot() -> Path:
    """A bare state dict with human_body_prior VPoser v1 key names (random numbers)."""
    keys = ["bodyprior_enc_bn1.weight", "bodyprior_enc_fc1.weight", "bodyprior_enc_mu.weight",
            "bodyprior_dec_fc1.weight", "bodyprior_dec_out.weight"]
    return _save({k: torch.zeros(2, 2) for k in keys}, "TR00_E096.pt")


def _hbp_v2_lightning() -> Path:
    """A PyTorch-Lightning-style checkpoint of human_body_prior's VPoser v2 (plain values only)."""
    state = {"vp_model.encoder_net.0.weight": torch.zeros(2), "vp_model.decoder_net.0.weight": torch.zeros(2, 2)}
    return _save({"epoch": 3, "global_step": 10, "pytorch-lightning_version": "1.2.0", "state_dict": state},
                 "V02_05_epoch=08_val_loss=0.03.ckpt")


class _Hyper:  # stands for an arbitrary pickled object (omegaconf configs in real Lightning files)
    pass


def _lightning_with_objects() -> Path:
    return _save({"state_dict": {}, "hyper_parameters": _Hyper()}, "objects.ckpt")


def _training_state() -> Path:
    return _save({"format": tv.TRAINING_STATE_FORMAT, "model": V.vposer_checkpoint(MODEL)}, "last.pt")


def _nan_weights() -> Path:
    data = V.vposer_checkpoint(MODEL)
    data["state_dict"]["dec_out.bias"][0] = NAN
    return _save(data, "diverged.pt")


def _bad_config() -> Path:
    data = V.vposer_checkpoint(MODEL)
    data["config"]["hidden"] = -16
    return _save(data, "badcfg.pt")


def _npz(name: str = "g.npz", **arrays) -> Path:
    path = _tmp() / name
    np.savez(path, **arrays)
    return path


def _npy() -> Path:
    path = _tmp() / "g.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    return path


def _good_npz() -> Path:
    path = _tmp() / "g.npz"
    GMM3.save(path)
    return path


def _not_pd_npz() -> Path:
    covs = GMM3.covariances.numpy().copy()
    covs[1] = -np.eye(3)
    return _npz(weights=GMM3.weights.numpy(), means=GMM3.means.numpy(), covariances=covs)


def _bad_metadata_npz() -> Path:
    return _npz(weights=GMM3.weights.numpy(), means=GMM3.means.numpy(),
                covariances=GMM3.covariances.numpy(), metadata=np.array("{not json"))


def _object_npz() -> Path:
    return _npz(weights=np.array([{"a": 1}], dtype=object), means=np.zeros((1, 3)), covariances=np.eye(3)[None])


def _save_gmm_as(path: Path, gmm: G.GaussianMixture = GMM3) -> Path:
    gmm.save(path)
    return path


def _save_gmm63() -> Path:
    return _save_gmm_as(_tmp() / "gmm63.npz", GMM63)


def _train_poses(n: int = 8) -> torch.Tensor:
    return 0.2 * torch.randn(n, 21, 3, generator=torch.Generator().manual_seed(n))


def _file() -> Path:
    path = _tmp() / "a_file"
    path.write_text("x")
    return path


def _run_dir(last: Path) -> Path:
    """A training folder whose last.pt is the given file."""
    run = _tmp()
    (run / "last.pt").write_bytes(last.read_bytes())
    return run


CFG = tv.TrainConfig(epochs=1, batch_size=4, model=SMALL)
LOSS = V.VPoserLossConfig()
RESULTS = {"priors": {"vposer": dict.fromkeys(E.TABLE_ROWS, 1.0)}}

P = "humanlib.priors"
GM = "humanlib.priors.gmm"
GMM = "humanlib.priors.gmm_model"
VP = "humanlib.priors.vposer"
VM = "humanlib.priors.vposer_model"
VL = "humanlib.priors.vposer_loss"
VC = "humanlib.priors.vposer_checkpoint"
TV = "humanlib.priors.train_vposer"
TVC = "humanlib.priors.train_vposer_config"
EV = "humanlib.priors.vposer_eval"
FG = "humanlib.priors.vposer_figures"

CASES = [
    raises(f"{P}.is_latent_prior", "a prior's name", lambda: __import__("humanlib.priors", fromlist=["x"]).is_latent_prior("vposer"),
           TypeError, "PosePrior"),
    returns(f"{P}.is_latent_prior", "the absent prior is pose space",
            lambda: __import__("humanlib.priors", fromlist=["x"]).is_latent_prior(NoPrior()), lambda r: r is False),
    # ------------------------------------------------------------- the interface (priors/__init__)
    raises(f"{P}.check_body_pose", "numpy array", lambda: check_body_pose(np.zeros((2, 21, 3))), TypeError,
           r"body_pose must be a torch.Tensor.*torch.as_tensor"),
    raises(f"{P}.check_body_pose", "63 numbers, not (21, 3)", lambda: check_body_pose(torch.zeros(2, 63)),
           ValueError, r"body_pose must have shape \(B, 21, 3\); got \(2, 63\)"),
    raises(f"{P}.check_body_pose", "int dtype", lambda: check_body_pose(torch.zeros(2, 21, 3, dtype=torch.long)),
           ValueError, "body_pose must be a floating-point"),
    raises(f"{P}.check_body_pose", "NaN when finite is asked", lambda: check_body_pose(_nan(2, 21, 3), finite=True),
           ValueError, "body_pose contains 1 non-finite"),
    returns(f"{P}.check_body_pose", "empty batch is a valid (0, 21, 3) pose",
            lambda: check_body_pose(torch.zeros(0, 21, 3)), lambda r: r.shape == (0, 21, 3)),
    raises(f"{P}.PosePrior", "the abstract interface cannot be instantiated", lambda: PosePrior(), TypeError, "abstract"),
    raises(f"{P}.PosePrior.initial_body_pose", "negative batch size", lambda: NoPrior().initial_body_pose(-1),
           ValueError, "batch_size must be a finite integer >= 0"),
    raises(f"{P}.PosePrior.initial_body_pose", "float batch size", lambda: NoPrior().initial_body_pose(2.0),
           TypeError, "batch_size must be an integer"),
    raises(f"{P}.PosePrior.initial_body_pose", "unknown device", lambda: NoPrior().initial_body_pose(2, device="gpu0"),
           ValueError, "device 'gpu0' is not a torch device"),
    raises(f"{P}.PosePrior.initial_body_pose", "int dtype",
           lambda: NoPrior().initial_body_pose(2, dtype=torch.int64), ValueError, "dtype must be a floating-point"),
    returns(f"{P}.PosePrior.initial_body_pose", "zero frames give an empty rest pose",
            lambda: NoPrior().initial_body_pose(0), lambda r: r.shape == (0, 21, 3)),
    raises(f"{P}.PosePrior.init_params", "NaN start pose", lambda: NoPrior().init_params(_nan(2, 21, 3)),
           ValueError, "body_pose contains 1 non-finite"),
    raises(f"{P}.PosePrior.init_params", "list", lambda: NoPrior().init_params([[0.0] * 3] * 21), TypeError,
           "body_pose must be a torch.Tensor"),
    raises(f"{P}.PosePrior.to_body_pose", "params of the wrong width", lambda: NoPrior().to_body_pose(torch.zeros(2, 62)),
           ValueError, r"params must have shape \(B, 63\); got \(2, 62\)"),
    raises(f"{P}.PosePrior.to_body_pose", "numpy params", lambda: NoPrior().to_body_pose(np.zeros((2, 63))),
           TypeError, "params must be a torch.Tensor"),
    raises(f"{P}.PosePrior.params_energy", "int params",
           lambda: NoPrior().params_energy(torch.zeros(2, 63, dtype=torch.int32)), ValueError, "params must be a floating-point"),
    returns(f"{P}.PosePrior.params_energy", "empty batch gives (0,)",
            lambda: NoPrior().params_energy(torch.zeros(0, 63)), lambda r: r.shape == (0,)),
    raises(f"{P}.NoPrior.energy", "wrong shape", lambda: NoPrior().energy(torch.zeros(2, 24, 3)), ValueError,
           r"body_pose must have shape \(B, 21, 3\)"),
    returns(f"{P}.NoPrior.energy", "NaN pose gives NaN, never a finite zero",
            lambda: NoPrior().energy(_nan(2, 21, 3)), lambda r: bool(r[0].isnan())),
    returns(f"{P}.NoPrior.energy", "meta pose gives a meta result (no values read)",
            lambda: NoPrior().energy(torch.zeros(2, 21, 3, device=META)), lambda r: r.shape == (2,) and r.is_meta),
    returns(f"{P}.NoPrior", "takes no arguments; an instance is a prior", lambda: NoPrior(),
            lambda r: isinstance(r, PosePrior)),

    # ------------------------------------------------------------------------------- the GMM
    raises(f"{GMM}.GaussianMixture", "weights do not sum to 1",
           lambda: G.GaussianMixture(torch.tensor([0.5, 0.6]), GMM3.means, GMM3.covariances), ValueError,
           "weights must be positive and sum to 1"),
    raises(f"{GMM}.GaussianMixture", "a zero weight",
           lambda: G.GaussianMixture(torch.tensor([1.0, 0.0]), GMM3.means, GMM3.covariances), ValueError, "positive"),
    raises(f"{GMM}.GaussianMixture", "NaN weight",
           lambda: G.GaussianMixture(torch.tensor([NAN, 0.5]), GMM3.means, GMM3.covariances), ValueError,
           "weights contains 1 non-finite"),
    raises(f"{GMM}.GaussianMixture", "covariance not positive definite",
           lambda: G.GaussianMixture(GMM3.weights, GMM3.means, torch.stack([GMM3.covariances[0], -torch.eye(3, dtype=torch.float64)])),
           ValueError, r"covariances of components \[1\] are not positive definite"),
    raises(f"{GMM}.GaussianMixture", "covariance not symmetric",
           lambda: G.GaussianMixture(GMM3.weights, GMM3.means, GMM3.covariances + torch.triu(torch.ones(3, 3), 1).double()),
           ValueError, "not symmetric"),
    raises(f"{GMM}.GaussianMixture", "covariances of the wrong dimension",
           lambda: G.GaussianMixture(GMM3.weights, GMM3.means, torch.eye(4).expand(2, 4, 4)), ValueError,
           r"covariances must have shape \(2, 3, 3\)"),
    raises(f"{GMM}.GaussianMixture", "weights of the wrong length",
           lambda: G.GaussianMixture(torch.ones(3) / 3, GMM3.means, GMM3.covariances), ValueError, r"weights must have shape \(2,\)"),
    raises(f"{GMM}.GaussianMixture", "1-d means", lambda: G.GaussianMixture(torch.ones(1), torch.zeros(3), torch.eye(3)[None]),
           ValueError, r"means must have shape \(K, D\)"),
    raises(f"{GMM}.GaussianMixture", "no components",
           lambda: G.GaussianMixture(torch.ones(0), torch.zeros(0, 3), torch.zeros(0, 3, 3)), ValueError, "K, D >= 1"),
    raises(f"{GMM}.GaussianMixture", "a list of weights", lambda: G.GaussianMixture([0.5, 0.5], GMM3.means, GMM3.covariances),
           TypeError, r"weights must be a torch.Tensor or numpy array; got list \(convert it with torch.as_tensor\)"),
    raises(f"{GMM}.GaussianMixture", "means on another device",
           lambda: G.GaussianMixture(GMM3.weights, GMM3.means.to(META), GMM3.covariances), ValueError, "weights is on cpu but means is on meta"),
    raises(f"{GMM}.GaussianMixture", "all on the meta device",
           lambda: G.GaussianMixture(GMM3.weights.to(META), GMM3.means.to(META), GMM3.covariances.to(META)), ValueError, "meta device"),
    returns(f"{GMM}.GaussianMixture", "numpy arrays are accepted",
            lambda: G.GaussianMixture(GMM3.weights.numpy(), GMM3.means.numpy(), GMM3.covariances.numpy()),
            lambda r: r.num_components == 2),
    raises(f"{GMM}.GaussianMixture.mahalanobis_sq", "wrong dim", lambda: GMM3.mahalanobis_sq(torch.zeros(4, 5, dtype=torch.float64)),
           ValueError, r"x must have shape \(N, 3\); got \(4, 5\)"),
    raises(f"{GMM}.GaussianMixture.mahalanobis_sq", "numpy points", lambda: GMM3.mahalanobis_sq(np.zeros((4, 3))),
           TypeError, r"x must be a torch.Tensor of shape \(N, 3\).*torch.as_tensor"),
    raises(f"{GMM}.GaussianMixture.mahalanobis_sq", "int points",
           lambda: GMM3.mahalanobis_sq(torch.zeros(4, 3, dtype=torch.long)), ValueError, "x must be a floating-point"),
    raises(f"{GMM}.GaussianMixture.mahalanobis_sq", "meta device vs CPU mixture",
           lambda: GMM3.mahalanobis_sq(torch.zeros(4, 3, device=META)), ValueError, "x is on meta but the GMM is on cpu"),
    returns(f"{GMM}.GaussianMixture.mahalanobis_sq", "empty batch gives (0, K)",
            lambda: GMM3.mahalanobis_sq(torch.zeros(0, 3)), lambda r: r.shape == (0, 2)),
    raises(f"{GMM}.GaussianMixture.component_energies", "inf", lambda: GMM3.component_energies(torch.full((1, 3), math.inf)),
           ValueError, "x contains 3 non-finite"),
    raises(f"{GMM}.GaussianMixture.log_prob", "NaN", lambda: GMM3.log_prob(_nan(2, 3)), ValueError, "x contains 1 non-finite"),
    returns(f"{GMM}.GaussianMixture.log_prob", "empty batch gives (0,)", lambda: GMM3.log_prob(torch.zeros(0, 3)),
            lambda r: r.shape == (0,)),
    raises(f"{GMM}.GaussianMixture.energy_exact", "3-d points", lambda: GMM3.energy_exact(torch.zeros(2, 1, 3)), ValueError,
           r"\(N, 3\)"),
    raises(f"{GMM}.GaussianMixture.energy_min", "NaN", lambda: GMM3.energy_min(_nan(2, 3)), ValueError, "non-finite"),
    raises(f"{GMM}.GaussianMixture.energy_min", "meta device", lambda: GMM3.energy_min(torch.zeros(2, 3, device=META)),
           ValueError, "x is on meta"),
    returns(f"{GMM}.GaussianMixture.energy_min", "empty batch gives (0,)", lambda: GMM3.energy_min(torch.zeros(0, 3)),
            lambda r: r.shape == (0,)),
    raises(f"{GMM}.GaussianMixture.min_residuals", "wrong dim", lambda: GMM3.min_residuals(torch.zeros(2, 4)), ValueError,
           r"x must have shape \(N, 3\)"),
    returns(f"{GMM}.GaussianMixture.min_residuals", "empty batch gives (0, D + 1)",
            lambda: GMM3.min_residuals(torch.zeros(0, 3)), lambda r: r.shape == (0, 4)),
    raises(f"{GMM}.GaussianMixture.responsibilities", "NaN", lambda: GMM3.responsibilities(_nan(1, 3)), ValueError, "non-finite"),
    raises(f"{GMM}.GaussianMixture.sample", "negative n", lambda: GMM3.sample(-1), ValueError, "n must be a finite integer >= 0"),
    raises(f"{GMM}.GaussianMixture.sample", "float n", lambda: GMM3.sample(2.5), TypeError, "n must be an integer"),
    raises(f"{GMM}.GaussianMixture.sample", "a seed instead of a generator", lambda: GMM3.sample(2, generator=0), TypeError,
           "generator must be a torch.Generator"),
    returns(f"{GMM}.GaussianMixture.sample", "n = 0 gives (0, D)", lambda: GMM3.sample(0), lambda r: r.shape == (0, 3)),
    raises(f"{GMM}.GaussianMixture.save", "missing folder", lambda: GMM3.save(_tmp() / "no" / "g.npz"), FileNotFoundError,
           "folder .* does not exist"),
    raises(f"{GMM}.GaussianMixture.save", "a folder as the file", lambda: GMM3.save(_tmp()), IsADirectoryError, "it is a folder"),
    raises(f"{GMM}.GaussianMixture.save", "metadata not JSON", lambda: GMM3.save(_tmp() / "g.npz", {"path": Path("x")}),
           TypeError, "metadata must hold JSON values"),
    returns(f"{GMM}.GaussianMixture.save", "a name without .npz is written as given (no suffix appended)",
            lambda: _save_gmm_as(_tmp() / "gmm").is_file(), lambda r: r is True),
    raises(f"{GMM}.GaussianMixture.load", "missing file", lambda: G.GaussianMixture.load(_tmp() / "absent.npz"),
           FileNotFoundError, "GMM file .*absent.npz does not exist; fit one with `humanlib train-gmm"),
    raises(f"{GMM}.GaussianMixture.load", "a folder", lambda: G.GaussianMixture.load(_tmp()), FileNotFoundError,
           "is a directory, not a file"),
    raises(f"{GMM}.GaussianMixture.load", "garbage bytes", lambda: G.GaussianMixture.load(_garbage("g.npz")), ValueError,
           r"g.npz is not a readable GMM .npz: not an .npz \(zip\) archive.*train-gmm"),
    raises(f"{GMM}.GaussianMixture.load", "truncated file", lambda: G.GaussianMixture.load(_truncated(_good_npz())), ValueError,
           r"cut.npz is not a readable GMM .npz"),
    raises(f"{GMM}.GaussianMixture.load", "an .npz with other keys",
           lambda: G.GaussianMixture.load(_npz(poses=np.zeros((2, 3)))), ValueError,
           r"not a humanlib GMM file: missing arrays \['covariances', 'means', 'weights'\]"),
    raises(f"{GMM}.GaussianMixture.load", "covariance not positive definite", lambda: G.GaussianMixture.load(_not_pd_npz()),
           ValueError, r"g.npz does not hold a valid GMM: covariances of components \[1\]"),
    raises(f"{GMM}.GaussianMixture.load", "a single .npy array", lambda: G.GaussianMixture.load(_npy()), ValueError,
           "not an .npz"),
    raises(f"{GMM}.GaussianMixture.load", "metadata not JSON", lambda: G.GaussianMixture.load(_bad_metadata_npz()),
           ValueError, "metadata entry is not valid JSON"),
    raises(f"{GMM}.GaussianMixture.load", "pickled object arrays", lambda: G.GaussianMixture.load(_object_npz()),
           ValueError, r"g.npz holds object \(pickled\) arrays, which humanlib never loads"),
    raises(f"{GMM}.GaussianMixture.load", "a Pose-NDF checkpoint instead of an .npz",
           lambda: G.GaussianMixture.load(_posendf_checkpoint()), ValueError,
           r"posendf.pt is not a humanlib GMM file: missing arrays \['covariances', 'means', 'weights'\]"),
    raises(f"{GMM}.GaussianMixture.load", "int dtype", lambda: G.GaussianMixture.load(_good_npz(), dtype=torch.int32),
           ValueError, "dtype must be a floating-point"),
    raises(f"{GMM}.energy_gap", "not a mixture", lambda: G.energy_gap("gmm", torch.zeros(2, 3)), TypeError,
           "gmm must be a humanlib.priors.gmm.GaussianMixture"),
    raises(f"{GMM}.energy_gap", "NaN", lambda: G.energy_gap(GMM3, _nan(2, 3)), ValueError, "x contains 1 non-finite"),
    returns(f"{GMM}.energy_gap", "empty batch gives (0,)", lambda: G.energy_gap(GMM3, torch.zeros(0, 3)),
            lambda r: r.shape == (0,)),
    raises(f"{GM}.fit_gmm", "NaN data", lambda: G.fit_gmm(_nan(20, 3), 2), ValueError, "x contains 1 non-finite"),
    raises(f"{GM}.fit_gmm", "empty data", lambda: G.fit_gmm(torch.zeros(0, 3), 2), ValueError, "x is empty"),
    raises(f"{GM}.fit_gmm", "1-d data", lambda: G.fit_gmm(torch.zeros(20), 2), ValueError, r"x must have shape \(N, D\)"),
    raises(f"{GM}.fit_gmm", "numpy data", lambda: G.fit_gmm(np.zeros((20, 3)), 2), TypeError, "torch.as_tensor"),
    raises(f"{GM}.fit_gmm", "zero components", lambda: G.fit_gmm(torch.randn(20, 3), 0), ValueError,
           "num_components must be a finite integer > 0"),
    raises(f"{GM}.fit_gmm", "negative reg_covar", lambda: G.fit_gmm(torch.randn(20, 3), 2, reg_covar=-1e-3), ValueError,
           "reg_covar must be a finite number >= 0"),
    raises(f"{GM}.fit_gmm", "zero max_iter", lambda: G.fit_gmm(torch.randn(20, 3), 2, max_iter=0), ValueError, "max_iter"),
    raises(f"{GM}.fit_gmm", "NaN tol", lambda: G.fit_gmm(torch.randn(20, 3), 2, tol=NAN), ValueError, "tol"),
    raises(f"{GM}.fit_gmm", "too few points", lambda: G.fit_gmm(torch.zeros(3, 2), 2), ValueError, "at least 2 points"),
    raises(f"{GM}.fit_gmm", "all points identical", lambda: G.fit_gmm(torch.zeros(20, 3), 2), ValueError,
           "x has only 1 distinct point"),
    raises(f"{GM}.fit_gmm", "a constant coordinate and reg_covar 0 (singular covariances)",
           lambda: G.fit_gmm(torch.cat([torch.randn(20, 2, dtype=torch.float64), torch.zeros(20, 1, dtype=torch.float64)], 1),
                             2, reg_covar=0.0), ValueError, "EM failed at iteration 1 with reg_covar=0.*larger reg_covar"),
    raises(f"{GM}.fit_gmm", "float seed", lambda: G.fit_gmm(torch.randn(20, 3), 2, seed=0.5), TypeError, "seed must be an int"),
    raises(f"{GM}.fit_gmm", "meta data", lambda: G.fit_gmm(torch.zeros(20, 3, device=META), 2), ValueError, "meta device"),
    raises(f"{GM}.GMMPosePrior", "not a mixture", lambda: G.GMMPosePrior("gmm.npz"), TypeError, "GaussianMixture"),
    raises(f"{GM}.GMMPosePrior", "a 3-d mixture", lambda: G.GMMPosePrior(GMM3), ValueError, "63"),
    raises(f"{GM}.GMMPosePrior", "unknown mode", lambda: G.GMMPosePrior(GMM63, mode="max"), ValueError, "mode must be"),
    raises(f"{GM}.GMMPosePrior.energy", "flattened pose", lambda: PRIOR.energy(torch.zeros(2, 63)), ValueError,
           r"body_pose must have shape \(B, 21, 3\)"),
    raises(f"{GM}.GMMPosePrior.energy", "NaN pose", lambda: PRIOR.energy(_nan(2, 21, 3)), ValueError,
           "body_pose contains 1 non-finite"),
    raises(f"{GM}.GMMPosePrior.energy", "meta pose vs CPU prior", lambda: PRIOR.energy(torch.zeros(2, 21, 3, device=META)),
           ValueError, "body_pose is on meta but the GMM prior is on cpu"),
    raises(f"{GM}.GMMPosePrior.energy", "numpy pose", lambda: PRIOR.energy(np.zeros((2, 21, 3))), TypeError, "torch.as_tensor"),
    returns(f"{GM}.GMMPosePrior.energy", "float64 pose on a float32 prior gives float64 energies",
            lambda: G.GMMPosePrior(G.load_gmm(_save_gmm63())).energy(POSE.double()), lambda r: r.dtype == torch.float64),
    returns(f"{GM}.GMMPosePrior.energy", "empty batch gives (0,)", lambda: PRIOR.energy(torch.zeros(0, 21, 3)),
            lambda r: r.shape == (0,)),
    raises(f"{GM}.GMMPosePrior.initial_body_pose", "negative batch", lambda: PRIOR.initial_body_pose(-2), ValueError, "batch_size"),
    raises(f"{GM}.GMMPosePrior.initial_body_pose", "int dtype", lambda: PRIOR.initial_body_pose(2, dtype=torch.int64),
           ValueError, "dtype must be a floating-point"),
    returns(f"{GM}.GMMPosePrior.initial_body_pose", "zero frames give (0, 21, 3)", lambda: PRIOR.initial_body_pose(0),
            lambda r: r.shape == (0, 21, 3)),
    raises(f"{GM}.load_gmm", "missing file", lambda: G.load_gmm(_tmp() / "absent.npz"), FileNotFoundError, "train-gmm"),
    raises(f"{GM}.load_gmm", "garbage", lambda: G.load_gmm(_garbage("x.npz")), ValueError, "not a readable GMM"),
    raises(f"{GM}.load_gmm", "a path of the wrong type", lambda: G.load_gmm(3), TypeError, "path must be a str or Path"),
    raises(f"{GM}.load_gmm_prior", "unknown mode (before reading the file)", lambda: G.load_gmm_prior("max", _tmp() / "absent.npz"),
           ValueError, "mode must be 'min' or 'exact'; got 'max'"),
    raises(f"{GM}.load_gmm_prior", "a 3-d mixture file", lambda: G.load_gmm_prior("min", _good_npz()), ValueError, "63"),
    raises(f"{GM}.body_pose_matrix", "body poses instead of full poses", lambda: G.body_pose_matrix(torch.zeros(4, 21, 3)),
           ValueError, r"poses must have shape \(N, 24, 3\)"),
    raises(f"{GM}.body_pose_matrix", "NaN", lambda: G.body_pose_matrix(_nan(4, 24, 3)), ValueError, "poses contains 1 non-finite"),
    raises(f"{GM}.body_pose_matrix", "a list", lambda: G.body_pose_matrix([[0.0] * 3] * 24), TypeError,
           "poses must be a torch.Tensor"),
    raises(f"{GM}.body_pose_matrix", "strings in a numpy array", lambda: G.body_pose_matrix(np.full((1, 24, 3), "a")),
           ValueError, "poses must be numeric"),
    returns(f"{GM}.body_pose_matrix", "numpy input is accepted", lambda: G.body_pose_matrix(np.zeros((2, 24, 3))),
            lambda r: r.shape == (2, 63)),
    returns(f"{GM}.body_pose_matrix", "empty batch gives (0, 63)", lambda: G.body_pose_matrix(torch.zeros(0, 24, 3)),
            lambda r: r.shape == (0, 63)),
    raises(f"{GM}.train_gmm", "out is a folder (before reading the corpus)", lambda: G.train_gmm(_tmp()), ValueError,
           "is a folder; give the .npz file"),
    raises(f"{GM}.train_gmm", "zero components", lambda: G.train_gmm(_tmp() / "g.npz", num_components=0), ValueError,
           "num_components"),
    raises(f"{GM}.train_gmm", "no reg_covar candidates", lambda: G.train_gmm(_tmp() / "g.npz", reg_covars=()), ValueError,
           "reg_covars must be a non-empty tuple"),
    raises(f"{GM}.train_gmm", "negative reg_covar", lambda: G.train_gmm(_tmp() / "g.npz", reg_covars=(1e-3, -1.0)),
           ValueError, r"reg_covars\[1\] must be"),
    raises(f"{GM}.train_gmm", "max_frames too small", lambda: G.train_gmm(_tmp() / "g.npz", max_frames=3), ValueError,
           "fewer than 2 frames per component"),
    raises(f"{GM}.train_gmm", "out of the wrong type", lambda: G.train_gmm(None), TypeError, "out must be a str or Path"),

    # ------------------------------------------------------------------------- VPoser: configs
    raises(f"{VM}.VPoserConfig", "zero latent size", lambda: V.VPoserConfig(latent_dim=0), ValueError,
           "VPoserConfig.latent_dim must be a positive int"),
    raises(f"{VM}.VPoserConfig", "float hidden size", lambda: V.VPoserConfig(hidden=512.0), ValueError, "VPoserConfig.hidden"),
    raises(f"{VM}.VPoserConfig", "bool joints", lambda: V.VPoserConfig(num_joints=True), ValueError, "VPoserConfig.num_joints"),
    raises(f"{VM}.VPoserConfig", "dropout 1", lambda: V.VPoserConfig(dropout=1.0), ValueError, r"VPoserConfig.dropout must be in \[0, 1\)"),
    raises(f"{VM}.VPoserConfig", "dropout NaN", lambda: V.VPoserConfig(dropout=NAN), ValueError, "VPoserConfig.dropout"),
    raises(f"{VM}.VPoserConfig", "dropout a string", lambda: V.VPoserConfig(dropout="0.1"), TypeError, "VPoserConfig.dropout must be a number"),
    raises(f"{VM}.VPoserConfig", "NaN leaky slope", lambda: V.VPoserConfig(leaky_slope=NAN), ValueError, "VPoserConfig.leaky_slope"),
    raises(f"{VL}.VPoserLossConfig", "negative KL weight", lambda: V.VPoserLossConfig(kl=-1.0), ValueError,
           "VPoserLossConfig.kl must be a finite weight >= 0"),
    raises(f"{VL}.VPoserLossConfig", "inf weight", lambda: V.VPoserLossConfig(rotmat=math.inf), ValueError, "VPoserLossConfig.rotmat"),
    raises(f"{VL}.VPoserLossConfig", "a string weight", lambda: V.VPoserLossConfig(orth="1"), TypeError,
           "VPoserLossConfig.orth must be a number"),
    raises(f"{VL}.VPoserLossConfig", "negative epoch limit", lambda: V.VPoserLossConfig(extra_terms_until_epoch=-1), ValueError,
           "extra_terms_until_epoch"),
    raises(f"{VL}.VPoserLossConfig", "every weight 0",
           lambda: V.VPoserLossConfig(kl=0, rotmat=0, orth=0, det1=0, reg=0), ValueError, "every weight is 0"),

    # ------------------------------------------------------------------------- VPoser: network
    raises(f"{VM}.VPoser", "a dict config", lambda: V.VPoser({"hidden": 16}), TypeError, "config must be a VPoserConfig"),
    raises(f"{VM}.VPoser.encode", "20 joints", lambda: MODEL.encode(torch.zeros(2, 20, 3)), ValueError,
           r"pose must have shape \(B, 21, 3\) or \(B, 63\).*got \(2, 20, 3\)"),
    raises(f"{VM}.VPoser.encode", "NaN", lambda: MODEL.encode(_nan(2, 21, 3)), ValueError, "pose contains 1 non-finite"),
    raises(f"{VM}.VPoser.encode", "empty batch", lambda: MODEL.encode(torch.zeros(0, 21, 3)), ValueError, "empty batch"),
    raises(f"{VM}.VPoser.encode", "int dtype", lambda: MODEL.encode(torch.zeros(2, 21, 3, dtype=torch.int64)), ValueError,
           "pose must be a floating-point"),
    raises(f"{VM}.VPoser.encode", "float64 pose, float32 model", lambda: MODEL.encode(torch.zeros(2, 21, 3, dtype=torch.float64)),
           ValueError, "pose has dtype torch.float64 but the VPoser's weights are torch.float32"),
    raises(f"{VM}.VPoser.encode", "meta pose vs CPU model", lambda: MODEL.encode(torch.zeros(2, 21, 3, device=META)),
           ValueError, "pose is on meta but the VPoser is on cpu"),
    raises(f"{VM}.VPoser.encode", "numpy pose", lambda: MODEL.encode(np.zeros((2, 21, 3))), TypeError,
           r"pose must be a torch.Tensor of shape \(B, 21, 3\).*torch.as_tensor"),
    raises(f"{VM}.VPoser.encode", "one pose in training mode", lambda: V.VPoser(SMALL).encode(torch.zeros(1, 21, 3)),
           ValueError, "model.eval"),
    raises(f"{VM}.VPoser.decode_6d", "latent of the wrong size", lambda: MODEL.decode_6d(torch.zeros(2, 32)), ValueError,
           r"z must have shape \(B, 4\)"),
    raises(f"{VM}.VPoser.decode_6d", "meta z", lambda: MODEL.decode_6d(torch.zeros(2, 4, device=META)), ValueError,
           "z is on meta but the VPoser is on cpu"),
    raises(f"{VM}.VPoser.decode", "NaN z", lambda: MODEL.decode(_nan(2, 4)), ValueError, "z contains 1 non-finite"),
    raises(f"{VM}.VPoser.decode", "empty z", lambda: MODEL.decode(torch.zeros(0, 4)), ValueError, "B >= 1"),
    raises(f"{VM}.VPoser.decode", "list z", lambda: MODEL.decode([[0.0] * 4]), TypeError, r"z must be a torch.Tensor of shape \(B, 4\)"),
    raises(f"{VM}.VPoser.decode", "int z", lambda: MODEL.decode(torch.zeros(2, 4, dtype=torch.int64)), ValueError, "floating"),
    raises(f"{VM}.VPoser.forward", "NaN pose", lambda: MODEL(_nan(2, 21, 3)), ValueError, "pose contains"),
    raises(f"{VM}.VPoser.forward", "a seed instead of a generator", lambda: MODEL(POSE, generator=1), TypeError,
           "generator must be a torch.Generator"),
    raises(f"{VM}.VPoser.forward", "sample not a bool", lambda: MODEL(POSE, sample="no"), TypeError, "sample must be a bool"),
    raises(f"{VM}.VPoser.sample", "zero samples", lambda: MODEL.sample(0), ValueError, "num must be a positive int"),
    raises(f"{VM}.VPoser.sample", "NaN temperature", lambda: MODEL.sample(2, temperature=NAN), ValueError, "temperature"),
    raises(f"{VM}.VPoser.sample", "inf temperature", lambda: MODEL.sample(2, temperature=math.inf), ValueError, "temperature"),
    raises(f"{VM}.VPoser.sample", "string temperature", lambda: MODEL.sample(2, temperature="1"), TypeError, "temperature"),
    raises(f"{VM}.VPoser.sample", "a seed instead of a generator", lambda: MODEL.sample(2, generator=3), TypeError, "generator"),
    raises(f"{VM}.VPoser.reconstruct", "wrong shape", lambda: MODEL.reconstruct(torch.zeros(2, 3, 21)), ValueError,
           r"pose must have shape"),
    raises(f"{VM}.VPoser.reconstruct", "meta pose", lambda: MODEL.reconstruct(torch.zeros(2, 21, 3, device=META)), ValueError,
           "pose is on meta"),
    raises(f"{VM}.VPoser.interpolate", "steps 1", lambda: MODEL.interpolate(POSE, POSE, steps=1), ValueError, "steps must be an int >= 2"),
    raises(f"{VM}.VPoser.interpolate", "steps a float", lambda: MODEL.interpolate(POSE, POSE, steps=4.0), ValueError, "steps"),
    raises(f"{VM}.VPoser.interpolate", "batches of different sizes", lambda: MODEL.interpolate(POSE, POSE[:2]), ValueError,
           "same shape"),
    raises(f"{VM}.VPoser.interpolate", "NaN end", lambda: MODEL.interpolate(POSE, _nan(3, 21, 3)), ValueError, "pose_b contains"),
    raises(f"{VM}.LatentGaussian", "mean and std of different shapes",
           lambda: V.LatentGaussian(torch.zeros(2, 4), torch.ones(2, 3)), ValueError, "same shape"),
    raises(f"{VM}.LatentGaussian", "numpy mean", lambda: V.LatentGaussian(np.zeros((2, 4)), torch.ones(2, 4)), TypeError,
           "mean must be a torch.Tensor"),
    raises(f"{VM}.LatentGaussian.rsample", "a seed instead of a generator",
           lambda: V.LatentGaussian(torch.zeros(2, 4), torch.ones(2, 4)).rsample(7), TypeError, "generator must be a torch.Generator"),
    returns(f"{VM}.LatentGaussian.rsample", "empty batch gives (0, D)",
            lambda: V.LatentGaussian(torch.zeros(0, 4), torch.ones(0, 4)).rsample(), lambda r: r.shape == (0, 4)),

    # ------------------------------------------------------------------------- VPoser: losses
    raises(f"{VL}.kl_to_standard_normal", "different shapes", lambda: V.kl_to_standard_normal(torch.zeros(2, 3), torch.ones(2, 4)),
           ValueError, "same shape"),
    raises(f"{VL}.kl_to_standard_normal", "zero std", lambda: V.kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)),
           ValueError, "std must be > 0"),
    raises(f"{VL}.kl_to_standard_normal", "numpy mean", lambda: V.kl_to_standard_normal(np.zeros((2, 3)), torch.ones(2, 3)),
           TypeError, "mean must be a torch.Tensor"),
    raises(f"{VL}.kl_to_standard_normal", "meta vs CPU",
           lambda: V.kl_to_standard_normal(torch.zeros(2, 3), torch.ones(2, 3, device=META)), ValueError, "std is on meta"),
    returns(f"{VL}.kl_to_standard_normal", "NaN mean gives NaN", lambda: V.kl_to_standard_normal(_nan(1, 3), torch.ones(1, 3)),
            lambda r: bool(r.isnan().all())),
    returns(f"{VL}.kl_to_standard_normal", "empty batch gives (0,)",
            lambda: V.kl_to_standard_normal(torch.zeros(0, 3), torch.ones(0, 3)), lambda r: r.shape == (0,)),
    raises(f"{VL}.rotmat_reconstruction_loss", "different joint counts",
           lambda: V.rotmat_reconstruction_loss(torch.zeros(2, 21, 3, 3), torch.zeros(2, 20, 3, 3)), ValueError, "shapes differ"),
    raises(f"{VL}.rotmat_reconstruction_loss", "no batch dim",
           lambda: V.rotmat_reconstruction_loss(torch.zeros(21, 3, 3), torch.zeros(21, 3, 3)), ValueError, r"\(B, J, 3, 3\)"),
    raises(f"{VL}.rotmat_reconstruction_loss", "list", lambda: V.rotmat_reconstruction_loss([0.0], ROT), TypeError,
           "rotmat must be a torch.Tensor"),
    raises(f"{VL}.rotmat_reconstruction_loss", "meta vs CPU",
           lambda: V.rotmat_reconstruction_loss(ROT, torch.zeros(3, 21, 3, 3, device=META)), ValueError, "rotmat_hat is on meta"),
    returns(f"{VL}.rotmat_reconstruction_loss", "NaN in, NaN out", lambda: V.rotmat_reconstruction_loss(_nan(1, 2, 3, 3), ROT[:1, :2]),
            lambda r: bool(r.isnan().all())),
    raises(f"{VL}.orthogonality_loss", "(B, J, 3, 4)", lambda: V.orthogonality_loss(torch.zeros(2, 21, 3, 4)), ValueError,
           r"rotmat_hat: rotation matrices must have shape \(B, J, 3, 3\)"),
    raises(f"{VL}.orthogonality_loss", "int", lambda: V.orthogonality_loss(torch.zeros(2, 21, 3, 3, dtype=torch.int64)), ValueError,
           "floating"),
    returns(f"{VL}.orthogonality_loss", "empty batch gives (0,)", lambda: V.orthogonality_loss(torch.zeros(0, 21, 3, 3)),
            lambda r: r.shape == (0,)),
    raises(f"{VL}.determinant_loss", "(B, 3, 3)", lambda: V.determinant_loss(torch.zeros(2, 3, 3)), ValueError, r"\(B, J, 3, 3\)"),
    raises(f"{VL}.determinant_loss", "numpy", lambda: V.determinant_loss(np.zeros((2, 21, 3, 3))), TypeError, "torch.Tensor"),
    raises(f"{VL}.geodesic_loss", "different shapes", lambda: V.geodesic_loss(ROT, ROT[:, :20]), ValueError, "shapes differ"),
    raises(f"{VL}.geodesic_loss", "int", lambda: V.geodesic_loss(ROT.long(), ROT.long()), ValueError, "floating"),
    raises(f"{VL}.weight_l2", "not a module", lambda: V.weight_l2(MODEL.state_dict()), TypeError, "module must be a torch.nn.Module"),
    raises(f"{VL}.weight_l2", "no linear layer", lambda: V.weight_l2(torch.nn.ReLU()), ValueError, "no nn.Linear"),
    raises(f"{VL}.vposer_loss", "a dict config", lambda: V.vposer_loss(MODEL, POSE, {"kl": 1.0}), TypeError,
           "config must be a VPoserLossConfig"),
    raises(f"{VL}.vposer_loss", "not a VPoser", lambda: V.vposer_loss(torch.nn.Linear(2, 2), POSE, LOSS), TypeError,
           "model must be a humanlib.priors.vposer.VPoser"),
    raises(f"{VL}.vposer_loss", "NaN pose", lambda: V.vposer_loss(MODEL, _nan(3, 21, 3), LOSS), ValueError, "pose contains"),
    raises(f"{VL}.vposer_loss", "negative epoch", lambda: V.vposer_loss(MODEL, POSE, LOSS, epoch=-1), ValueError, "epoch"),
    raises(f"{VL}.vposer_loss", "rotmat of another batch", lambda: V.vposer_loss(MODEL, POSE, LOSS, rotmat=ROT[:2]), ValueError,
           r"rotmat must have shape \(3, 21, 3, 3\)"),
    raises(f"{VL}.vposer_loss", "vertex term without a body", lambda: V.vposer_loss(MODEL, POSE, V.VPoserLossConfig.released()),
           ValueError, "body_forward"),
    raises(f"{VL}.vposer_loss", "body_forward not callable",
           lambda: V.vposer_loss(MODEL, POSE, V.VPoserLossConfig.released(), body_forward="smpl"), TypeError, "body_forward must be callable"),
    raises(f"{VL}.vposer_loss", "meta pose", lambda: V.vposer_loss(MODEL, torch.zeros(3, 21, 3, device=META), LOSS), ValueError,
           "pose is on meta"),
    raises(f"{VL}.full_pose_from_body", "NaN", lambda: V.full_pose_from_body(_nan(2, 21, 3)), ValueError, "body_pose contains"),
    raises(f"{VL}.full_pose_from_body", "wrong shape", lambda: V.full_pose_from_body(torch.zeros(2, 22, 3)), ValueError,
           r"body_pose must have shape \(B, 21, 3\)"),
    raises(f"{VL}.full_pose_from_body", "empty batch", lambda: V.full_pose_from_body(torch.zeros(0, 21, 3)), ValueError, "empty batch"),
    raises(f"{VL}.body_forward_from_model", "not a body model", lambda: V.body_forward_from_model("smpl.npz"), TypeError,
           "body_model must be a humanlib body model"),
    raises(f"{VM}.as_body_pose", "numpy", lambda: V.as_body_pose(np.zeros((2, 21, 3))), TypeError, "torch.as_tensor"),
    raises(f"{VM}.as_body_pose", "inf", lambda: V.as_body_pose(torch.full((1, 63), math.inf)), ValueError, "pose contains 63 non-finite"),
    raises(f"{VM}.as_body_pose", "wrong shape names the argument", lambda: V.as_body_pose(torch.zeros(2, 5), name="poses"),
           ValueError, r"poses must have shape \(B, 21, 3\)"),
    raises(f"{VM}.as_body_pose", "zero joints", lambda: V.as_body_pose(torch.zeros(2, 0, 3), num_joints=0), ValueError, "num_joints"),
    returns(f"{VM}.as_body_pose", "full SMPL poses give joints 1..21", lambda: V.as_body_pose(torch.zeros(2, 24, 3)),
            lambda r: r.shape == (2, 21, 3)),
    returns(f"{VM}.as_body_pose", "meta pose: shape checked, values skipped",
            lambda: V.as_body_pose(torch.zeros(2, 63, device=META)), lambda r: r.shape == (2, 21, 3)),

    # ------------------------------------------------------------------------- VPoser: checkpoints
    raises(f"{VC}.vposer_checkpoint", "not a model", lambda: V.vposer_checkpoint(MODEL.state_dict()), TypeError,
           "model must be a humanlib.priors.vposer.VPoser"),
    raises(f"{VC}.vposer_checkpoint", "metadata with a Path", lambda: V.vposer_checkpoint(MODEL, {"out": Path("x")}), TypeError,
           r"plain values only.*\['out'\]"),
    raises(f"{VC}.vposer_checkpoint", "metadata with a numpy float (pickled as a numpy object)",
           lambda: V.vposer_checkpoint(MODEL, {"best": [np.float64(0.5)]}), TypeError, r"\['best'\]"),
    returns(f"{VC}.vposer_checkpoint", "the checkpoint does not share memory with the model",
            lambda: V.vposer_checkpoint(MODEL)["state_dict"]["dec_out.bias"].data_ptr() != MODEL.dec_out.bias.data_ptr(),
            lambda r: r is True),
    raises(f"{VC}.vposer_checkpoint", "metadata not a dict", lambda: V.vposer_checkpoint(MODEL, ["a"]), TypeError,
           "metadata must be a dict"),
    raises(f"{VC}.save_vposer", "a folder as the file", lambda: V.save_vposer(MODEL, _tmp()), IsADirectoryError, "it is a folder"),
    raises(f"{VC}.save_vposer", "metadata with numpy (unreadable with weights_only)",
           lambda: V.save_vposer(MODEL, _tmp() / "m.pt", {"x": np.zeros(2)}), TypeError, "weights_only"),
    raises(f"{VC}.save_vposer", "path None", lambda: V.save_vposer(MODEL, None), TypeError, "path must be a str or Path"),
    raises(f"{VC}.read_checkpoint_file", "missing file", lambda: V.read_checkpoint_file(_tmp() / "absent.pt"), FileNotFoundError,
           r"checkpoint .*absent.pt does not exist; write a VPoser checkpoint with `humanlib train-vposer"),
    raises(f"{VC}.read_checkpoint_file", "a folder", lambda: V.read_checkpoint_file(_tmp()), FileNotFoundError, "is a directory"),
    raises(f"{VC}.read_checkpoint_file", "garbage", lambda: V.read_checkpoint_file(_garbage("junk.pt")), ValueError,
           "junk.pt is not a readable torch checkpoint.*corrupt or truncated"),
    raises(f"{VC}.read_checkpoint_file", "a tensor, not a dict", lambda: V.read_checkpoint_file(_save(torch.zeros(2), "t.pt")),
           ValueError, "t.pt holds a Tensor, expected a checkpoint dictionary"),
    raises(f"{VC}.vposer_from_checkpoint", "not a dict", lambda: V.vposer_from_checkpoint([1, 2]), TypeError, "must be a dict"),
    raises(f"{VC}.vposer_from_checkpoint", "empty dict", lambda: V.vposer_from_checkpoint({}, "ckpt"), ValueError,
           r"ckpt is not a humanlib VPoser checkpoint: missing entries"),
    raises(f"{VC}.vposer_from_checkpoint", "a Pose-NDF checkpoint's dict",
           lambda: V.vposer_from_checkpoint(torch.load(_posendf_checkpoint(), weights_only=True), "p.pt"), ValueError,
           "p.pt is a Pose-NDF checkpoint.*load_posendf"),
    raises(f"{VC}.load_vposer", "missing file", lambda: V.load_vposer(_tmp() / "absent.pt"), FileNotFoundError,
           "absent.pt does not exist.*train-vposer"),
    raises(f"{VC}.load_vposer", "a folder", lambda: V.load_vposer(_tmp()), FileNotFoundError, "is a directory, not a file"),
    raises(f"{VC}.load_vposer", "garbage bytes", lambda: V.load_vposer(_garbage("junk.pt")), ValueError,
           "junk.pt is not a readable torch checkpoint"),
    raises(f"{VC}.load_vposer", "truncated checkpoint", lambda: V.load_vposer(_truncated(_good_checkpoint())), ValueError,
           r"cut.pt is not a readable torch checkpoint .*corrupt or truncated.*train-vposer"),
    raises(f"{VC}.load_vposer", "a Pose-NDF checkpoint", lambda: V.load_vposer(_posendf_checkpoint()), ValueError,
           r"posendf.pt is a Pose-NDF checkpoint \(format 'humanlib-posendf-1'\), not a VPoser one; load it with "
           r"humanlib.priors.posendf.load_posendf"),
    raises(f"{VC}.load_vposer", "a human_body_prior VPoser v1 snapshot (bare state dict)", lambda: V.load_vposer(_hbp_v1_snapshot()),
           ValueError, r"TR00_E096.pt is a bare state dict \(the key names of a human_body_prior VPoser v1/v2 snapshot\).*train-vposer"),
    raises(f"{VC}.load_vposer", "a human_body_prior VPoser v2 (Lightning) checkpoint", lambda: V.load_vposer(_hbp_v2_lightning()),
           ValueError, r"\.ckpt looks like a VPoser v2 release checkpoint of human_body_prior.*train-vposer"),
    raises(f"{VC}.load_vposer", "a checkpoint holding pickled objects", lambda: V.load_vposer(_lightning_with_objects()),
           ValueError, r"objects.ckpt is not a readable torch checkpoint \(UnpicklingError: Weights only load failed\); "
           r"it stores Python objects that weights_only loading refuses"),
    raises(f"{VC}.load_vposer", "a bare humanlib VPoser state dict", lambda: V.load_vposer(_save(MODEL.state_dict(), "sd.pt")),
           ValueError, "sd.pt is a bare VPoser state dict without its config.*save_vposer"),
    raises(f"{VC}.load_vposer", "a training state (last.pt)", lambda: V.load_vposer(_training_state()), ValueError,
           "last.pt is a VPoser training state .*load best.pt"),
    raises(f"{VC}.load_vposer", "NaN weights", lambda: V.load_vposer(_nan_weights()), ValueError,
           r"diverged.pt: weights \['dec_out.bias'\] hold NaN or inf"),
    raises(f"{VC}.load_vposer", "an invalid config in the file", lambda: V.load_vposer(_bad_config()), ValueError,
           "badcfg.pt: invalid config .*VPoserConfig.hidden"),
    raises(f"{VC}.load_vposer", "a GMM .npz", lambda: V.load_vposer(_good_npz()), ValueError,
           r"g.npz is not a torch checkpoint but a numpy .npz archive \(a GMM file\? load it with humanlib.priors.gmm.load_gmm\)"),
    raises(f"{VC}.load_vposer", "unknown device", lambda: V.load_vposer(_tmp() / "x.pt", device="gpu"), ValueError,
           "device 'gpu' is not a torch device"),
    raises(f"{VC}.load_vposer", "path of the wrong type", lambda: V.load_vposer(5), TypeError, "path must be a str, Path or None"),

    # ------------------------------------------------------------------------- VPoser: the prior
    raises(f"{VP}.VPoserPrior", "not a VPoser", lambda: V.VPoserPrior("vposer_open.pt"), TypeError,
           "vposer must be a humanlib.priors.vposer.VPoser"),
    raises(f"{VP}.VPoserPrior", "init_zero not a bool", lambda: V.VPoserPrior(MODEL, init_zero="yes"), TypeError, "init_zero must be a bool"),
    raises(f"{VP}.VPoserPrior.energy", "NaN", lambda: VPRIOR.energy(_nan(2, 21, 3)), ValueError, "pose contains"),
    raises(f"{VP}.VPoserPrior.energy", "meta pose", lambda: VPRIOR.energy(torch.zeros(2, 21, 3, device=META)), ValueError,
           "pose is on meta but the VPoser is on cpu"),
    raises(f"{VP}.VPoserPrior.forward", "wrong shape", lambda: VPRIOR(torch.zeros(2, 21)), ValueError, "pose must have shape"),
    raises(f"{VP}.VPoserPrior.init_params", "NaN start", lambda: VPRIOR.init_params(_nan(2, 21, 3)), ValueError,
           "body_pose contains"),
    raises(f"{VP}.VPoserPrior.init_params", "meta start with init_zero",
           lambda: V.VPoserPrior(MODEL, init_zero=True).init_params(torch.zeros(2, 21, 3, device=META)), ValueError,
           "body_pose is on meta but the VPoser is on cpu"),
    raises(f"{VP}.VPoserPrior.init_params", "numpy start", lambda: VPRIOR.init_params(np.zeros((2, 21, 3))), TypeError, "torch.as_tensor"),
    raises(f"{VP}.VPoserPrior.to_body_pose", "63-d params (pose space) for a latent prior",
           lambda: VPRIOR.to_body_pose(torch.zeros(2, 63)), ValueError, r"params must have shape \(B, 4\)"),
    raises(f"{VP}.VPoserPrior.to_body_pose", "NaN z", lambda: VPRIOR.to_body_pose(_nan(2, 4)), ValueError, "contains 1 non-finite"),
    raises(f"{VP}.VPoserPrior.params_energy", "meta params", lambda: VPRIOR.params_energy(torch.zeros(2, 4, device=META)), ValueError,
           "params is on meta"),
    raises(f"{VP}.VPoserPrior.params_energy", "NaN params", lambda: VPRIOR.params_energy(_nan(2, 4)), ValueError, "params contains"),
    raises(f"{VP}.VPoserPrior.train", "mode a string", lambda: VPRIOR.train("yes"), TypeError, "mode must be a bool"),
    returns(f"{VP}.VPoserPrior.train", "train() keeps the network in eval mode", lambda: VPRIOR.train(True).vposer.training,
            lambda r: r is False),

    # ------------------------------------------------------------------------- training
    raises(f"{TVC}.TrainConfig", "batch size 1", lambda: tv.TrainConfig(batch_size=1), ValueError, "TrainConfig.batch_size must be >= 2"),
    raises(f"{TVC}.TrainConfig", "zero epochs", lambda: tv.TrainConfig(epochs=0), ValueError, "TrainConfig.epochs"),
    raises(f"{TVC}.TrainConfig", "NaN lr", lambda: tv.TrainConfig(lr=NAN), ValueError, "TrainConfig.lr must be finite"),
    raises(f"{TVC}.TrainConfig", "inf lr", lambda: tv.TrainConfig(lr=math.inf), ValueError, "TrainConfig.lr"),
    raises(f"{TVC}.TrainConfig", "negative lr", lambda: tv.TrainConfig(lr=-1e-3), ValueError, "TrainConfig.lr must be > 0"),
    raises(f"{TVC}.TrainConfig", "lr a string", lambda: tv.TrainConfig(lr="1e-3"), TypeError, "TrainConfig.lr must be a number"),
    raises(f"{TVC}.TrainConfig", "decay factor 1", lambda: tv.TrainConfig(lr_decay_factor=1.0), ValueError, "lr_decay_factor"),
    raises(f"{TVC}.TrainConfig", "negative min_improvement", lambda: tv.TrainConfig(min_improvement=-0.1), ValueError, "min_improvement"),
    raises(f"{TVC}.TrainConfig", "zero minutes", lambda: tv.TrainConfig(max_minutes=0), ValueError, "max_minutes"),
    raises(f"{TVC}.TrainConfig", "zero train frames", lambda: tv.TrainConfig(max_train_frames=0), ValueError, "max_train_frames"),
    raises(f"{TVC}.TrainConfig", "fewer train frames than a batch", lambda: tv.TrainConfig(batch_size=64, max_train_frames=10),
           ValueError, "smaller than batch_size"),
    raises(f"{TVC}.TrainConfig", "a dict model", lambda: tv.TrainConfig(model={"hidden": 16}), TypeError, "TrainConfig.model must be"),
    raises(f"{TVC}.TrainConfig", "a dict loss", lambda: tv.TrainConfig(loss={"kl": 1.0}), TypeError, "TrainConfig.loss must be"),
    raises(f"{TVC}.TrainConfig", "float seed", lambda: tv.TrainConfig(seed=0.5), TypeError, "TrainConfig.seed"),
    raises(f"{TVC}.TrainConfig.from_dict", "unknown field", lambda: tv.TrainConfig.from_dict({"epochs": 2, "warmup": 3}),
           ValueError, r"TrainConfig has no fields \['warmup'\]"),
    raises(f"{TVC}.TrainConfig.from_dict", "unknown model field",
           lambda: tv.TrainConfig.from_dict({"model": {"hidden": 16, "layers": 3}}), ValueError, r"VPoserConfig has no fields \['layers'\]"),
    returns(f"{TVC}.TrainConfig.from_dict", "config objects are accepted as well as dicts",
            lambda: tv.TrainConfig.from_dict({"model": SMALL, "loss": {"kl": 0.01}}), lambda r: r.model == SMALL and r.loss.kl == 0.01),
    raises(f"{TVC}.TrainConfig.from_dict", "not a dict", lambda: tv.TrainConfig.from_dict([("epochs", 2)]), TypeError,
           "data must be a dict"),
    raises(f"{TVC}.TrainConfig.from_dict", "invalid value", lambda: tv.TrainConfig.from_dict({"epochs": -1}), ValueError,
           "TrainConfig.epochs"),
    raises(f"{TV}.evaluate", "empty poses", lambda: tv.evaluate(MODEL, torch.zeros(0, 21, 3), LOSS), ValueError, "poses is an empty batch"),
    raises(f"{TV}.evaluate", "NaN poses", lambda: tv.evaluate(MODEL, _nan(4, 21, 3), LOSS), ValueError, "poses contains"),
    raises(f"{TV}.evaluate", "zero chunk", lambda: tv.evaluate(MODEL, POSE, LOSS, chunk=0), ValueError, "chunk"),
    raises(f"{TV}.evaluate", "a dict loss config", lambda: tv.evaluate(MODEL, POSE, {"kl": 1}), TypeError, "loss_config must be"),
    raises(f"{TV}.evaluate", "meta poses", lambda: tv.evaluate(MODEL, torch.zeros(4, 21, 3, device=META), LOSS), ValueError,
           "pose is on meta"),
    raises(f"{TV}.train_vposer", "NaN training poses", lambda: tv.train_vposer(_nan(8, 21, 3), _train_poses(4), CFG, progress=False),
           ValueError, "train_poses contains 1 non-finite"),
    raises(f"{TV}.train_vposer", "empty validation poses",
           lambda: tv.train_vposer(_train_poses(), torch.zeros(0, 21, 3), CFG, progress=False), ValueError, "val_poses is an empty batch"),
    raises(f"{TV}.train_vposer", "empty training poses",
           lambda: tv.train_vposer(torch.zeros(0, 21, 3), _train_poses(4), CFG, progress=False), ValueError, "train_poses is an empty batch"),
    raises(f"{TV}.train_vposer", "inf validation poses",
           lambda: tv.train_vposer(_train_poses(), torch.full((4, 21, 3), math.inf), CFG, progress=False), ValueError, "val_poses contains"),
    raises(f"{TV}.train_vposer", "wrong shape", lambda: tv.train_vposer(torch.zeros(8, 21, 4), _train_poses(4), CFG, progress=False),
           ValueError, r"train_poses must have shape"),
    raises(f"{TV}.train_vposer", "fewer poses than a batch", lambda: tv.train_vposer(_train_poses(3), _train_poses(4), CFG, progress=False),
           ValueError, "at least batch_size=4"),
    raises(f"{TV}.train_vposer", "numpy poses", lambda: tv.train_vposer(np.zeros((8, 21, 3)), _train_poses(4), CFG, progress=False),
           TypeError, "train_poses must be a torch.Tensor"),
    raises(f"{TV}.train_vposer", "a dict config", lambda: tv.train_vposer(_train_poses(), _train_poses(4), {"epochs": 1}),
           TypeError, "config must be a TrainConfig"),
    raises(f"{TV}.train_vposer", "unknown device", lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, device="tpu0"),
           ValueError, "device 'tpu0' is not a torch device"),
    raises(f"{TV}.train_vposer", "out_dir is a file", lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, _file()),
           ValueError, "is a file; give a folder"),
    raises(f"{TV}.train_vposer", "resume without out_dir", lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, resume=True),
           ValueError, "resume=True needs out_dir"),
    raises(f"{TV}.train_vposer", "resume with nothing saved",
           lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, _tmp(), resume=True, progress=False),
           FileNotFoundError, "nothing to resume"),
    raises(f"{TV}.train_vposer", "resume from a model checkpoint copied as last.pt",
           lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, _run_dir(_good_checkpoint()), resume=True, progress=False),
           ValueError, "last.pt is not a VPoser training state .*format 'humanlib.vposer'"),
    raises(f"{TV}.train_vposer", "resume from a truncated last.pt",
           lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, _run_dir(_truncated(_good_checkpoint())), resume=True,
                                   progress=False), ValueError, "last.pt is not a readable torch checkpoint"),
    raises(f"{TV}.train_vposer", "resume from an incomplete training state",
           lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, _run_dir(_training_state()), resume=True, progress=False),
           ValueError, r"incomplete VPoser training state: missing entries \['best'"),
    raises(f"{TV}.train_vposer", "run_info with a Path (would make best.pt unreadable)",
           lambda: tv.train_vposer(_train_poses(), _train_poses(4), CFG, run_info={"out": Path("x")}), TypeError, "run_info must hold plain"),
    raises(f"{TV}.train_vposer", "released loss without a body",
           lambda: tv.train_vposer(_train_poses(), _train_poses(4), tv.TrainConfig(epochs=1, batch_size=4, model=SMALL,
                                                                                   loss=V.VPoserLossConfig.released())),
           ValueError, "body_forward"),
    raises(f"{TV}.corpus_body_poses", "unknown split", lambda: tv.corpus_body_poses("validation"), ValueError,
           "split must be 'train', 'val' or 'test'"),
    raises("humanlib.provenance.poses_fingerprint", "numpy", lambda: tv.poses_fingerprint(np.zeros(3)), TypeError, "poses must be a torch.Tensor"),
    raises("humanlib.provenance.poses_fingerprint", "meta", lambda: tv.poses_fingerprint(torch.zeros(3, device=META)), ValueError, "meta device"),
    returns("humanlib.provenance.poses_fingerprint", "empty tensor has a fingerprint", lambda: tv.poses_fingerprint(torch.zeros(0, 21, 3)),
            lambda r: isinstance(r, str) and len(r) == 16),

    # ------------------------------------------------------------------------- evaluation
    raises(f"{EV}.geodesic_deg_per_joint", "different shapes", lambda: E.geodesic_deg_per_joint(ROT, ROT[:2]), ValueError, "same shape"),
    raises(f"{EV}.geodesic_deg_per_joint", "NaN", lambda: E.geodesic_deg_per_joint(_nan(1, 2, 3, 3), ROT[:1, :2]), ValueError,
           "rotmat_a contains 1 non-finite"),
    raises(f"{EV}.geodesic_deg_per_joint", "empty", lambda: E.geodesic_deg_per_joint(ROT[:0], ROT[:0]), ValueError, "N, J >= 1"),
    raises(f"{EV}.geodesic_deg_per_joint", "meta vs CPU", lambda: E.geodesic_deg_per_joint(ROT, torch.zeros(3, 21, 3, 3, device=META)),
           ValueError, "rotmat_a is on cpu but rotmat_b is on meta"),
    raises(f"{EV}.geodesic_deg_per_joint", "numpy", lambda: E.geodesic_deg_per_joint(ROT.numpy(), ROT), TypeError, "torch.as_tensor"),
    raises(f"{EV}.nearest_pose_distance", "different joint counts", lambda: E.nearest_pose_distance(ROT, ROT[:, :20]), ValueError,
           "joints"),
    raises(f"{EV}.nearest_pose_distance", "zero chunk", lambda: E.nearest_pose_distance(ROT, ROT, chunk=0), ValueError, "chunk"),
    raises(f"{EV}.nearest_pose_distance", "empty reference", lambda: E.nearest_pose_distance(ROT, ROT[:0]), ValueError, "reference must be"),
    raises(f"{EV}.nearest_pose_distance", "meta samples", lambda: E.nearest_pose_distance(torch.zeros(3, 21, 3, 3, device=META), ROT),
           ValueError, "samples is on meta"),
    raises(f"{EV}.joint_ranges", "empty", lambda: E.joint_ranges(torch.zeros(0, 21, 3)), ValueError, "N, J >= 1"),
    raises(f"{EV}.joint_ranges", "NaN", lambda: E.joint_ranges(_nan(4, 21, 3)), ValueError, "poses contains 1 non-finite"),
    raises(f"{EV}.joint_ranges", "a list", lambda: E.joint_ranges([[0.0, 0.0, 0.0]]), TypeError, "poses must be a torch.Tensor"),
    raises(f"{EV}.range_violations", "NaN pose (would count as inside)",
           lambda: E.range_violations(_nan(2, 21, 3), -torch.ones(21, 3), torch.ones(21, 3)), ValueError, "poses contains"),
    raises(f"{EV}.range_violations", "ranges of another skeleton",
           lambda: E.range_violations(POSE, -torch.ones(20, 3), torch.ones(20, 3)), ValueError, "match ranges"),
    raises(f"{EV}.range_violations", "low and high swapped",
           lambda: E.range_violations(POSE, torch.ones(21, 3), -torch.ones(21, 3)), ValueError, "low > high"),
    raises(f"{EV}.range_violations", "meta ranges",
           lambda: E.range_violations(POSE, torch.ones(21, 3, device=META), torch.ones(21, 3)), ValueError, "low is on meta"),
    returns(f"{EV}.range_violations", "empty batch gives (0,)",
            lambda: E.range_violations(torch.zeros(0, 21, 3), -torch.ones(21, 3), torch.ones(21, 3)), lambda r: r.shape == (0,)),
    raises(f"{EV}.pairwise_diversity", "one pose", lambda: E.pairwise_diversity(ROT[:1]), ValueError, "at least 2 poses"),
    raises(f"{EV}.pairwise_diversity", "zero pairs", lambda: E.pairwise_diversity(ROT, num_pairs=0), ValueError, "num_pairs"),
    raises(f"{EV}.pairwise_diversity", "a seed instead of a generator", lambda: E.pairwise_diversity(ROT, generator=0), TypeError,
           "generator must be a torch.Generator"),
    raises(f"{EV}.gmm_reconstruct", "not a mixture", lambda: E.gmm_reconstruct(PRIOR, POSE), TypeError,
           "gmm must be a humanlib.priors.gmm.GaussianMixture"),
    raises(f"{EV}.gmm_reconstruct", "a 3-d mixture", lambda: E.gmm_reconstruct(GMM3, POSE), ValueError, "3-dimensional"),
    raises(f"{EV}.gmm_reconstruct", "code_dim 0 (would silently keep every direction)",
           lambda: E.gmm_reconstruct(GMM63, POSE, code_dim=0), ValueError, r"code_dim must be an int in \[1, 63\]"),
    raises(f"{EV}.gmm_reconstruct", "code_dim above D", lambda: E.gmm_reconstruct(GMM63, POSE, code_dim=64), ValueError, "code_dim"),
    raises(f"{EV}.gmm_reconstruct", "NaN poses", lambda: E.gmm_reconstruct(GMM63, _nan(2, 21, 3)), ValueError, "poses contains"),
    raises(f"{EV}.gmm_reconstruct", "meta poses", lambda: E.gmm_reconstruct(GMM63, torch.zeros(2, 21, 3, device=META)), ValueError,
           "poses is on meta"),
    raises(f"{EV}.vertex_error_mm", "empty poses", lambda: E.vertex_error_mm(lambda p: (p, p), torch.zeros(0, 21, 3), torch.zeros(0, 21, 3)),
           ValueError, "empty batch"),
    raises(f"{EV}.vertex_error_mm", "different batches", lambda: E.vertex_error_mm(lambda p: (p, p), POSE, POSE[:2]), ValueError,
           "same shape"),
    raises(f"{EV}.vertex_error_mm", "not callable", lambda: E.vertex_error_mm(None, POSE, POSE), TypeError, "body_forward must be callable"),
    raises(f"{EV}.vertex_error_mm", "NaN recon", lambda: E.vertex_error_mm(lambda p: (p, p), POSE, _nan(3, 21, 3)), ValueError,
           "recon contains"),
    raises(f"{EV}.score_samples", "rotations and axis-angle of different sample counts",
           lambda: E.score_samples(ROT, POSE[:2], ROT, ROT, -torch.ones(21, 3), torch.ones(21, 3), None), ValueError, "same samples"),
    raises(f"{EV}.score_samples", "NaN samples",
           lambda: E.score_samples(_nan(3, 21, 3, 3), POSE, ROT, ROT, -torch.ones(21, 3), torch.ones(21, 3), None), ValueError,
           "samples contains"),
    raises(f"{EV}.run_comparison", "one sample", lambda: E.run_comparison(num_samples=1, vposer=MODEL), ValueError, "num_samples must be >= 2"),
    raises(f"{EV}.run_comparison", "zero test poses", lambda: E.run_comparison(max_test=0, vposer=MODEL), ValueError, "max_test"),
    raises(f"{EV}.run_comparison", "not a VPoser", lambda: E.run_comparison(vposer="vposer.pt"), TypeError, "vposer must be"),
    raises(f"{EV}.run_comparison", "a GMM path that does not exist (never silently skipped)",
           lambda: E.run_comparison(gmm_path=_tmp() / "absent.npz", vposer=MODEL), FileNotFoundError, "absent.npz does not exist"),
    raises(f"{EV}.run_comparison", "a folder as the GMM file", lambda: E.run_comparison(gmm_path=_tmp(), vposer=MODEL),
           FileNotFoundError, "is a directory, not a file"),
    raises(f"{EV}.run_comparison", "a missing checkpoint", lambda: E.run_comparison(checkpoint=_tmp() / "absent.pt"),
           FileNotFoundError, "absent.pt"),
    raises(f"{EV}.run_comparison", "a Pose-NDF checkpoint", lambda: E.run_comparison(checkpoint=_posendf_checkpoint()),
           ValueError, "Pose-NDF checkpoint"),
    raises(f"{EV}.comparison_table", "not a results dict", lambda: E.comparison_table([1, 2]), TypeError, "run_comparison"),
    raises(f"{EV}.comparison_table", "no priors entry", lambda: E.comparison_table({"vposer": {}}), TypeError, "'priors' entry"),
    raises(f"{EV}.comparison_table", "no known column", lambda: E.comparison_table({"priors": {"humor": {}}}), ValueError,
           "none of the columns"),
    raises(f"{EV}.comparison_table", "a row missing", lambda: E.comparison_table({"priors": {"vposer": {"recon_deg_mean": 1.0}}}),
           ValueError, "lacks the rows"),
    returns(f"{EV}.comparison_table", "one column is a table", lambda: E.comparison_table(RESULTS),
            lambda r: r.startswith("| | vposer |")),

    # ------------------------------------------------------------------------- figures
    raises(f"{FG}.bodies_row", "(V, 3) without a batch", lambda: F.bodies_row(VERTS[0], DEC), ValueError, r"\(B, V, 3\)"),
    raises(f"{FG}.bodies_row", "empty batch", lambda: F.bodies_row(VERTS[:0], DEC), ValueError, "B >= 1"),
    raises(f"{FG}.bodies_row", "NaN vertices", lambda: F.bodies_row(_nan(2, 4, 3), DEC), ValueError, "non-finite"),
    raises(f"{FG}.bodies_row", "a decimation of a bigger mesh", lambda: F.bodies_row(VERTS[:, :3], DEC), ValueError,
           "decimate the same mesh"),
    raises(f"{FG}.bodies_row", "not a decimation", lambda: F.bodies_row(VERTS, None), TypeError, "decimation must be"),
    raises(f"{FG}.bodies_row", "colours for another count", lambda: F.bodies_row(VERTS, DEC, colors=["red"]), ValueError, "colours"),
    raises(f"{FG}.bodies_row", "one colour string", lambda: F.bodies_row(VERTS, DEC, colors="red"), TypeError, "colors must be a list"),
    raises(f"{FG}.bodies_row", "names for another count", lambda: F.bodies_row(VERTS, DEC, names=["a"]), ValueError, "names for"),
    raises(f"{FG}.bodies_row", "one name string", lambda: F.bodies_row(VERTS, DEC, names="a"), TypeError, "names must be a list"),
    raises(f"{FG}.bodies_row", "NaN spacing", lambda: F.bodies_row(VERTS, DEC, spacing=NAN), ValueError, "spacing"),
    raises(f"{FG}.bodies_row", "zero height", lambda: F.bodies_row(VERTS, DEC, height=0), ValueError, "height"),
    raises(f"{FG}.bodies_row", "a list of vertices", lambda: F.bodies_row([[[0.0, 0.0, 0.0]]], DEC), TypeError, "vertices must be"),
    raises(f"{FG}.bodies_row", "meta vertices", lambda: F.bodies_row(torch.zeros(2, 4, 3, device=META), DEC), ValueError, "meta device"),
    raises(f"{FG}.interpolation_figure", "one step", lambda: F.interpolation_figure(VERTS[:1], DEC), ValueError, "T >= 2"),
    raises(f"{FG}.interpolation_figure", "inf vertices", lambda: F.interpolation_figure(torch.full((2, 4, 3), math.inf), DEC),
           ValueError, "non-finite"),
    raises(f"{FG}.interpolation_figure", "not a decimation", lambda: F.interpolation_figure(VERTS, "dec"), TypeError, "decimation"),
    raises(f"{FG}.interpolation_figure", "label not a string", lambda: F.interpolation_figure(VERTS, DEC, label=3), TypeError, "label"),
]

_UNCHECKED = "unchecked by design, for an optimiser's inner loop whose params came from init_params; to_body_pose / params_energy are the checked faces"
EXEMPT = {
    "humanlib.priors.PosePrior.to_body_pose_unchecked": _UNCHECKED,
    "humanlib.priors.PosePrior.params_energy_unchecked": _UNCHECKED,
    "humanlib.priors.vposer.VPoserPrior.to_body_pose_unchecked": _UNCHECKED,
    "humanlib.priors.vposer.VPoserPrior.params_energy_unchecked": _UNCHECKED,
    "humanlib.priors.gmm.GMMPosePrior.params_energy_unchecked": _UNCHECKED,
    "humanlib.priors.PosePrior.energy": "abstract method; every concrete energy (NoPrior, GMMPosePrior, VPoserPrior) is swept",
    "humanlib.priors.gmm.GMMFitResult": "result record built by fit_gmm, never from user input",
    "humanlib.priors.train_vposer_config.EpochRecord": "result record built by train_vposer, never from user input",
    "humanlib.priors.train_vposer_config.TrainResult": "result record returned by train_vposer, never from user input",
    "humanlib.provenance.machine_description": "takes no arguments: describes the running machine",
    "humanlib.priors.vposer_model.DecodedPose": "result record built by VPoser.decode, never from user input",
    "humanlib.priors.vposer_model.VPoserOutput": "result record built by VPoser.forward, never from user input",
    "humanlib.priors.vposer_loss.VPoserLoss": "result record built by vposer_loss, never from user input",
    "humanlib.priors.vposer_loss.VPoserLoss.as_floats": "takes no arguments; converts a checked result record",
    "humanlib.priors.vposer_loss.VPoserLossConfig.talk": "takes no arguments: a fixed preset, validated by __post_init__",
    "humanlib.priors.vposer_loss.VPoserLossConfig.released": "takes no arguments: a fixed preset, validated by __post_init__",
    "humanlib.priors.vposer_model.LatentGaussian.distribution": "takes no arguments; mean and std are checked when the record is built",
    "humanlib.priors.vposer_eval.PriorScores": "result record built by run_comparison, never from user input",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 3), d=st.integers(1, 6).filter(lambda d: d != 3))
def test_gmm_points_of_any_other_width_are_refused_by_name(n, d):
    with pytest.raises(ValueError, match=rf"x must have shape \(N, 3\); got \({n}, {d}\)"):
        GMM3.energy_exact(torch.zeros(n, d))


@settings(max_examples=25, deadline=None)
@given(x=st.lists(st.floats(-50, 50), min_size=3, max_size=3), k=st.integers(1, 3))
def test_gmm_energies_of_finite_points_are_finite_and_ordered(x, k):
    gmm = _mixture(k, 3, seed=k)
    pts = torch.tensor([x], dtype=torch.float64)
    gap = G.energy_gap(gmm, pts)
    assert torch.isfinite(gmm.energy_min(pts)).all() and torch.isfinite(gmm.energy_exact(pts)).all()
    assert -1e-9 <= float(gap) <= math.log(k) + 1e-9


@settings(max_examples=25, deadline=None)
@given(w=st.lists(st.floats(0.01, 2.0), min_size=2, max_size=2).filter(lambda w: abs(sum(w) - 1) > 1e-3))
def test_gmm_weights_not_summing_to_one_are_refused(w):
    with pytest.raises(ValueError, match="weights must be positive and sum to 1"):
        G.GaussianMixture(torch.tensor(w, dtype=torch.float64), GMM3.means, GMM3.covariances)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).filter(lambda s: s not in ([1, 63], [1, 21, 3])))
def test_vposer_refuses_any_other_pose_shape_by_name(shape):
    if len(shape) == 2 and shape[1] == 63 or len(shape) == 3 and shape[1:] in ([21, 3], [24, 3]):
        return
    with pytest.raises(ValueError, match=r"pose must have shape \(B, 21, 3\)"):
        MODEL.encode(torch.zeros(*shape))


@settings(max_examples=25, deadline=None)
@given(mean=st.lists(st.floats(-10, 10), min_size=4, max_size=4),
       log_std=st.lists(st.floats(-5, 3), min_size=4, max_size=4))
def test_kl_to_standard_normal_is_finite_and_non_negative(mean, log_std):
    kl = V.kl_to_standard_normal(torch.tensor([mean], dtype=torch.float64), torch.tensor([log_std], dtype=torch.float64).exp())
    assert torch.isfinite(kl).all() and float(kl) >= -1e-9


@settings(max_examples=25, deadline=None)
@given(z=st.lists(st.floats(-20, 20), min_size=4, max_size=4))
def test_vposer_decodes_any_finite_latent_to_rotations(z):
    out = MODEL.decode(torch.tensor([z]))
    assert torch.isfinite(out.pose).all() and torch.isfinite(out.rotmat).all()


@settings(max_examples=25, deadline=None)
@given(eigs=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3).filter(lambda e: min(e) < -1e-3),
       seed=st.integers(0, 100))
def test_gmm_refuses_any_covariance_with_a_negative_eigenvalue(eigs, seed):
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    bad = q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ q.T
    bad = 0.5 * (bad + bad.T)
    with pytest.raises(ValueError, match=r"covariances of components \[1\] are not positive definite"):
        G.GaussianMixture(GMM3.weights, GMM3.means, torch.stack([GMM3.covariances[0], bad]))


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 3), d=st.integers(1, 4), dk=st.integers(-1, 1), dd=st.integers(-1, 1))
def test_gmm_parameters_of_mismatched_sizes_are_refused_by_name(k, d, dk, dd):
    if (dk, dd) == (0, 0) or k + dk < 1 or d + dd < 1:
        return
    w = torch.full((k + dk,), 1.0 / (k + dk), dtype=torch.float64)
    covs = torch.eye(d + dd, dtype=torch.float64).expand(k, d + dd, d + dd)
    with pytest.raises(ValueError, match=r"(weights|covariances) must have shape"):
        G.GaussianMixture(w, torch.zeros(k, d, dtype=torch.float64), covs)
