"""Bad inputs to Pose-NDF (humanlib.priors.posendf, _data, _train, _viz): a clear error or a defined result.

Defined behaviours pinned here:

* quaternion *arguments* of the entry points (projection, data labelling, diversity, figures)
  may have any non-zero length: they are normalised; NaN/inf and zero quaternions raise;
* the network's ``forward`` (called once per step inside training, projection and fitting)
  checks shape, dtype and device only: it evaluates ``f`` on the quaternions as given, a pose
  holding NaN gets a NaN distance and the other poses of the batch are unaffected;
* an empty batch gives an empty result wherever a result per pose is asked for; a mean over
  no samples (``udf_loss``, a dataset to train or evaluate on) raises.
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

from humanlib.priors import posendf as ndf
from humanlib.priors import posendf_data as data
from humanlib.priors import posendf_train as train
from humanlib.priors import posendf_viz as viz
from humanlib.rotations import random_quat

K = 21
SMALL = ndf.PoseNDFModelConfig(feature_dim=2, encoder_hidden=4, df_hidden=(8,))
NAN = float("nan")
META = "meta"


def _model(config: ndf.PoseNDFModelConfig = SMALL) -> ndf.PoseNDF:
    torch.manual_seed(0)
    return ndf.PoseNDF(config)


def _q(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return random_quat(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _with(x: torch.Tensor, index: tuple, value: float) -> torch.Tensor:
    x = x.clone()
    x[index] = value
    return x


def _zero_quat(n: int = 3) -> torch.Tensor:
    q = _q(n, K)
    q[1, 4] = 0.0
    return q


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="posendf_bad_"))


def _file(name: str, content: bytes) -> Path:
    path = _tmp() / name
    path.write_bytes(content)
    return path


def _torch_file(obj: object, name: str = "ckpt.pt") -> Path:
    path = _tmp() / name
    torch.save(obj, path)
    return path


def _checkpoint(model: ndf.PoseNDF | None = None, **extra) -> Path:
    return ndf.save_checkpoint(_tmp() / "posendf.pt", model or _model(), extra=extra or None)


def _truncated() -> Path:
    good = _checkpoint()
    return _file("truncated.pt", good.read_bytes()[: good.stat().st_size // 3])


def _vposer_checkpoint() -> Path:
    """A checkpoint in the layout humanlib's VPoser writes (format entry and all)."""
    from humanlib.priors import vposer

    return _torch_file({"format": vposer.CHECKPOINT_FORMAT, "format_version": vposer.CHECKPOINT_FORMAT_VERSION,
                        "config": {"latent_dim": 32}, "state_dict": {"encoder.0.weight": torch.zeros(4, 4)},
                        "metadata": {}}, "vposer.pt")


def _released_checkpoint() -> Path:
    """A checkpoint in the usual layout of research code: epoch, model and optimizer state dicts."""
    return _torch_file({"epoch": 100, "model_state_dict": {"enc.layer_0.weight": torch.zeros(8, 8)},
                        "optimizer_state_dict": {"state": {}, "param_groups": []}}, "released.pt")


def _config_payload(**changes) -> Path:
    payload = torch.load(_checkpoint(), weights_only=True)
    payload["model_config"].update(changes)
    return _torch_file(payload)


def _npz_file() -> Path:
    path = _tmp() / "gmm.npz"
    np.savez(path, means=np.zeros((8, 69)))
    return path


class _Opaque:
    """Not something a safe torch.load can read back."""


def _opaque_pickle() -> Path:
    path = _tmp() / "opaque.pt"
    torch.save({"format": ndf.CHECKPOINT_FORMAT, "obj": _Opaque()}, path)
    return path


def _dataset(n: int = 6, k: int = K, seed: int = 0) -> data.DistanceDataset:
    q = _q(n, k, seed=seed)
    return data.DistanceDataset(q, torch.linspace(0.0, 1.0, n), torch.full((n,), 0.1))


def _empty_dataset() -> data.DistanceDataset:
    return data.DistanceDataset(torch.zeros(0, K, 4), torch.zeros(0), torch.zeros(0))


def _train_cfg(**changes) -> train.PoseNDFTrainConfig:
    return train.PoseNDFTrainConfig(**{"model": SMALL, "steps": 2, "batch_size": 4, "val_every": 2, **changes})


def _out_with(name: str, path: Path) -> Path:
    out = _tmp()
    (out / name).write_bytes(path.read_bytes())
    return out


class _WrongShapeField(torch.nn.Module):
    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return q.sum(dim=(-1, -2))[:, None]  # (B, 1), not (B,)


class _ConstantField(torch.nn.Module):
    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return torch.ones(q.shape[0])


def _unit(x: torch.Tensor) -> bool:
    return bool(torch.allclose(x.norm(dim=-1), torch.ones(()), atol=1e-5))


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, atol=1e-5, rtol=1e-4))


_HISTORY = [{"step": 1, "train_udf": 0.5, "train_eikonal": 0.1}, {"step": 2, "train_udf": 0.4, "train_eikonal": 0.1}]

P = "humanlib.priors.posendf."
D = "humanlib.priors.posendf_data."
T = "humanlib.priors.posendf_train."
V = "humanlib.priors.posendf_viz."

CASES = [
    # ------------------------------------------------------------------ model config and network
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "parents is a string", lambda: ndf.PoseNDFModelConfig(parents="abc"),
           TypeError, "parents must be a sequence of integers"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "parents holds a float", lambda: ndf.PoseNDFModelConfig(parents=(-1, 0.5)),
           TypeError, "parents"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "no joints", lambda: ndf.PoseNDFModelConfig(parents=()), ValueError, "parents is empty"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "a parent after its child", lambda: ndf.PoseNDFModelConfig(parents=(-1, 2, 0)),
           ValueError, "parent"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "feature_dim 0", lambda: ndf.PoseNDFModelConfig(feature_dim=0), ValueError, "feature_dim"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "feature_dim a float", lambda: ndf.PoseNDFModelConfig(feature_dim=2.5),
           TypeError, "feature_dim"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "encoder_hidden negative", lambda: ndf.PoseNDFModelConfig(encoder_hidden=-3),
           ValueError, "encoder_hidden"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "a zero-width df layer", lambda: ndf.PoseNDFModelConfig(df_hidden=(16, 0)),
           ValueError, "df_hidden"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "df_hidden an int", lambda: ndf.PoseNDFModelConfig(df_hidden=16), TypeError, "df_hidden"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "softplus_beta 0", lambda: ndf.PoseNDFModelConfig(softplus_beta=0.0),
           ValueError, "softplus_beta"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "unknown activation", lambda: ndf.PoseNDFModelConfig(activation="tanh"),
           ValueError, "activation"),
    raises("humanlib.priors.posendf_model.PoseNDFModelConfig", "unknown output", lambda: ndf.PoseNDFModelConfig(output="square"), ValueError, "output"),
    raises("humanlib.priors.posendf_model.PoseNDF", "config is a dict", lambda: ndf.PoseNDF({"feature_dim": 4}), TypeError, "PoseNDFModelConfig"),
    raises("humanlib.priors.posendf_model.PoseNDF.forward", "20 joints", lambda: _model()(torch.zeros(2, 20, 4)), ValueError, r"\(\.\.\., 21, 4\)"),
    raises("humanlib.priors.posendf_model.PoseNDF.forward", "axis-angle, not quaternions", lambda: _model()(torch.zeros(2, K, 3)),
           ValueError, r"quats must have shape \(\.\.\., 21, 4\)"),
    raises("humanlib.priors.posendf_model.PoseNDF.forward", "a numpy array", lambda: _model()(np.zeros((2, K, 4), np.float32)),
           TypeError, "torch.as_tensor"),
    raises("humanlib.priors.posendf_model.PoseNDF.forward", "integer dtype", lambda: _model()(torch.zeros(2, K, 4, dtype=torch.long)), ValueError, "dtype"),
    raises("humanlib.priors.posendf_model.PoseNDF.forward", "float64 input, float32 model", lambda: _model()(_q(2, K, dtype=torch.float64)),
           ValueError, r"quats must have dtype torch\.float32"),
    raises("humanlib.priors.posendf_model.PoseNDF.forward", "input on another device", lambda: _model()(torch.zeros(2, K, 4, device=META)),
           ValueError, "quats is on meta but the Pose-NDF model is on cpu"),
    returns("humanlib.priors.posendf_model.PoseNDF.forward", "empty batch gives an empty result", lambda: _model()(torch.zeros(0, K, 4)),
            lambda f: f.shape == (0,)),
    returns("humanlib.priors.posendf_model.PoseNDF.forward", "NaN in one pose: NaN for that pose only",
            lambda: _model()(_with(_q(3, K), (1, 2, 0), NAN)),
            lambda f: bool(f[1].isnan()) and bool(torch.isfinite(f[[0, 2]]).all())),
    returns("humanlib.priors.posendf_model.PoseNDF.forward", "a zero quaternion is evaluated as given (finite)",
            lambda: _model()(_zero_quat()), lambda f: f.shape == (3,) and bool(torch.isfinite(f).all())),
    returns("humanlib.priors.posendf_model.PoseNDF.forward", "leading batch dims are kept", lambda: _model()(_q(2, 3, K)), lambda f: f.shape == (2, 3)),
    raises("humanlib.priors.posendf_model.PoseNDF.encode", "extra batch dims", lambda: _model().encode(_q(2, 3, K)), ValueError, r"\(B, 21, 4\)"),
    raises("humanlib.priors.posendf_model.PoseNDF.encode", "a list", lambda: _model().encode([[0.0] * 4] * K), TypeError, "torch.Tensor"),
    raises("humanlib.priors.posendf_model.PoseNDF.encode", "input on another device", lambda: _model().encode(torch.zeros(1, K, 4, device=META)),
           ValueError, "meta"),
    returns("humanlib.priors.posendf_model.PoseNDF.encode", "empty batch", lambda: _model().encode(torch.zeros(0, K, 4)),
            lambda v: v.shape == (0, K * SMALL.feature_dim)),
    # ------------------------------------------------------------------ losses
    raises(P + "distance_and_gradient", "model is a string", lambda: ndf.distance_and_gradient("f", _q(2, K)),
           TypeError, "model must be"),
    raises(P + "distance_and_gradient", "wrong shape", lambda: ndf.distance_and_gradient(_model(), torch.zeros(2, K * 4)),
           ValueError, r"quats must have shape \(B, K, 4\)"),
    raises(P + "distance_and_gradient", "numpy quats", lambda: ndf.distance_and_gradient(_model(), _q(2, K).numpy()),
           TypeError, "torch.as_tensor"),
    raises(P + "distance_and_gradient", "NaN", lambda: ndf.distance_and_gradient(_model(), _with(_q(2, K), (0, 0, 0), NAN)),
           ValueError, "non-finite"),
    raises(P + "distance_and_gradient", "input on another device",
           lambda: ndf.distance_and_gradient(_model(), torch.zeros(2, K, 4, device=META)), ValueError, "meta"),
    raises(P + "distance_and_gradient", "a model that returns (B, 1)",
           lambda: ndf.distance_and_gradient(_WrongShapeField(), _q(2, K)), ValueError, r"distances of shape \(2,\)"),
    raises(P + "distance_and_gradient", "a model that ignores its input",
           lambda: ndf.distance_and_gradient(_ConstantField(), _q(2, K)), ValueError, "does not depend on quats"),
    returns(P + "distance_and_gradient", "empty batch", lambda: ndf.distance_and_gradient(_model(), torch.zeros(0, K, 4)),
            lambda r: r[0].shape == (0,) and r[1].shape == (0, K, 4)),
    raises(P + "udf_loss", "different lengths", lambda: ndf.udf_loss(torch.zeros(3), torch.zeros(4)), ValueError, "same shape"),
    raises(P + "udf_loss", "2-D inputs", lambda: ndf.udf_loss(torch.zeros(3, 2), torch.zeros(3, 2)), ValueError, r"\(B,\)"),
    raises(P + "udf_loss", "empty batch", lambda: ndf.udf_loss(torch.zeros(0), torch.zeros(0)), ValueError, "empty"),
    raises(P + "udf_loss", "numpy target", lambda: ndf.udf_loss(torch.zeros(3), np.zeros(3)), TypeError, "target"),
    raises(P + "udf_loss", "devices differ", lambda: ndf.udf_loss(torch.zeros(3), torch.zeros(3, device=META)),
           ValueError, "target is on meta"),
    returns(P + "udf_loss", "NaN in, NaN out (never a finite wrong number)",
            lambda: ndf.udf_loss(torch.tensor([NAN, 1.0]), torch.zeros(2)), lambda r: bool(r.isnan())),
    raises(P + "eikonal_loss", "grad without the K axis", lambda: ndf.eikonal_loss(torch.zeros(3, 4), torch.zeros(3)),
           ValueError, r"\(B, K, 4\)"),
    raises(P + "eikonal_loss", "target (B, 1)", lambda: ndf.eikonal_loss(torch.zeros(3, K, 4), torch.ones(3, 1)),
           ValueError, r"target \(B,\)"),
    raises(P + "eikonal_loss", "numpy grad", lambda: ndf.eikonal_loss(np.zeros((3, K, 4)), torch.ones(3)), TypeError, "grad"),
    returns(P + "eikonal_loss", "empty batch gives 0", lambda: ndf.eikonal_loss(torch.zeros(0, K, 4), torch.zeros(0)),
            lambda r: float(r) == 0.0),
    # ------------------------------------------------------------------ checkpoints
    raises("humanlib.priors.posendf_checkpoint.save_checkpoint", "model is a state dict", lambda: ndf.save_checkpoint(_tmp() / "m.pt", _model().state_dict()),
           TypeError, "model must be a PoseNDF"),
    raises("humanlib.priors.posendf_checkpoint.save_checkpoint", "path is a folder", lambda: ndf.save_checkpoint(_tmp(), _model()),
           ValueError, "is a directory"),
    raises("humanlib.priors.posendf_checkpoint.save_checkpoint", "a model without weights (meta device)",
           lambda: ndf.save_checkpoint(_tmp() / "m.pt", _model().to(META)), ValueError, "meta device"),
    raises("humanlib.priors.posendf_checkpoint.save_checkpoint", "path is an int", lambda: ndf.save_checkpoint(3, _model()), TypeError, "path"),
    raises("humanlib.priors.posendf_checkpoint.save_checkpoint", "metadata holds an object a safe load cannot read",
           lambda: ndf.save_checkpoint(_tmp() / "m.pt", _model(), {"when": _Opaque()}), TypeError, r"metadata\['when'\]"),
    raises("humanlib.priors.posendf_checkpoint.save_checkpoint", "metadata is a list", lambda: ndf.save_checkpoint(_tmp() / "m.pt", _model(), ["a"]),
           TypeError, "metadata must be a dict"),
    raises("humanlib.priors.posendf_checkpoint.save_checkpoint", "extra overwrites the weights",
           lambda: ndf.save_checkpoint(_tmp() / "m.pt", _model(), extra={"state_dict": {}}), ValueError, "state_dict"),
    returns("humanlib.priors.posendf_checkpoint.save_checkpoint", "plain metadata round-trips",
            lambda: ndf.load_posendf(ndf.save_checkpoint(_tmp() / "a" / "m.pt", _model(), {"n": [1, 2.0, "x", None]})),
            lambda m: m.metadata == {"n": [1, 2.0, "x", None]}),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "missing file", lambda: ndf.read_checkpoint(_tmp() / "nope.pt"),
           FileNotFoundError, r"nope\.pt does not exist.*train-posendf"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "a folder", lambda: ndf.read_checkpoint(_tmp()), FileNotFoundError, "is a directory"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "truncated", lambda: ndf.read_checkpoint(_truncated()),
           ValueError, r"truncated\.pt is not a readable torch checkpoint \(corrupt or truncated.*train-posendf"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "garbage bytes", lambda: ndf.read_checkpoint(_file("junk.pt", b"\x00garbage" * 50)),
           ValueError, r"junk\.pt is not a readable"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "an .npz file", lambda: ndf.read_checkpoint(_npz_file()), ValueError, r"gmm\.npz is not a readable"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "pickled objects", lambda: ndf.read_checkpoint(_opaque_pickle()), ValueError, "opaque.pt"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "a tensor, not a dict", lambda: ndf.read_checkpoint(_torch_file(torch.zeros(3))),
           ValueError, "holds a Tensor"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "a VPoser checkpoint", lambda: ndf.read_checkpoint(_vposer_checkpoint()),
           ValueError, r"vposer\.pt is not a Pose-NDF checkpoint: it is a VPoser checkpoint.*load_vposer"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "a released-code checkpoint", lambda: ndf.read_checkpoint(_released_checkpoint()),
           ValueError, r"released\.pt.*released Pose-NDF code.*model_state_dict.*train-posendf"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "a bare state dict", lambda: ndf.read_checkpoint(_torch_file(_model().state_dict())),
           ValueError, r"bare state dict \(a humanlib PoseNDF's weights.*save_checkpoint"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "a dict of other things", lambda: ndf.read_checkpoint(_torch_file({"weights": [1, 2]})),
           ValueError, r"no 'format' entry \(entries \['weights'\]\)"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "an entry missing",
           lambda: ndf.read_checkpoint(_torch_file({"format": ndf.CHECKPOINT_FORMAT, "state_dict": {}, "metadata": {}})),
           ValueError, "lacks the entry 'model_config'"),
    raises("humanlib.priors.posendf_checkpoint.read_checkpoint", "path is None", lambda: ndf.read_checkpoint(None), TypeError, "path"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "missing file", lambda: ndf.load_posendf(_tmp() / "nope.pt"),
           FileNotFoundError, r"nope\.pt does not exist; train one with `humanlib train-posendf"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "truncated", lambda: ndf.load_posendf(_truncated()), ValueError, r"truncated\.pt.*corrupt"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "a VPoser checkpoint", lambda: ndf.load_posendf(_vposer_checkpoint()),
           ValueError, r"vposer\.pt.*VPoser checkpoint.*load_vposer"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "a released-code checkpoint", lambda: ndf.load_posendf(_released_checkpoint()),
           ValueError, r"released\.pt.*released Pose-NDF code"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "a broken model_config", lambda: ndf.load_posendf(_config_payload(parents=[-1, 5])),
           ValueError, r"ckpt\.pt: model_config is not a valid PoseNDFModelConfig.*parent"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "a model_config field of a newer version", lambda: ndf.load_posendf(_config_payload(depth=3)),
           ValueError, r"does not know: \['depth'\]"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "weights of another shape",
           lambda: ndf.load_posendf(_checkpoint(_model(ndf.PoseNDFModelConfig(feature_dim=3, encoder_hidden=4, df_hidden=(8,)))),
                                    config=SMALL), ValueError, "feature_dim"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "unknown device name", lambda: ndf.load_posendf(_checkpoint(), device="gpu"),
           ValueError, "device 'gpu' is not a torch device"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "device is an int", lambda: ndf.load_posendf(_checkpoint(), device=0), TypeError, "device"),
    raises("humanlib.priors.posendf_checkpoint.load_posendf", "config is a dict", lambda: ndf.load_posendf(_checkpoint(), config={"feature_dim": 2}),
           TypeError, "config must be a PoseNDFModelConfig"),
    raises("humanlib.priors.posendf_checkpoint.load_state_checked", "model is not a PoseNDF",
           lambda: ndf.load_state_checked(torch.nn.Linear(2, 2), {}, "x.pt"), TypeError, "PoseNDF"),
    raises("humanlib.priors.posendf_checkpoint.load_state_checked", "state_dict is a list", lambda: ndf.load_state_checked(_model(), [], "x.pt"),
           TypeError, "state_dict of x.pt must be a dict"),
    raises("humanlib.priors.posendf_checkpoint.load_state_checked", "state_dict holds numpy arrays",
           lambda: ndf.load_state_checked(_model(), {k: v.numpy() for k, v in _model().state_dict().items()}, "x.pt"),
           TypeError, "must hold tensors"),
    raises("humanlib.priors.posendf_checkpoint.load_state_checked", "a missing key",
           lambda: ndf.load_state_checked(_model(), {k: v for k, v in _model().state_dict().items() if k != "enc_b1"}, "x.pt"),
           ValueError, r"x\.pt does not match.*enc_b1"),
    # ------------------------------------------------------------------ projection
    raises(P + "ProjectionConfig", "step_size 0", lambda: ndf.ProjectionConfig(step_size=0.0), ValueError, "step_size"),
    raises(P + "ProjectionConfig", "step_size NaN", lambda: ndf.ProjectionConfig(step_size=NAN), ValueError, "step_size"),
    raises(P + "ProjectionConfig", "step_size a string", lambda: ndf.ProjectionConfig(step_size="1"), TypeError, "step_size"),
    raises(P + "ProjectionConfig", "max_steps negative", lambda: ndf.ProjectionConfig(max_steps=-1), ValueError, "max_steps"),
    raises(P + "ProjectionConfig", "max_steps a float", lambda: ndf.ProjectionConfig(max_steps=10.5), TypeError, "max_steps"),
    raises(P + "ProjectionConfig", "tolerance negative", lambda: ndf.ProjectionConfig(tolerance=-1e-3), ValueError, "tolerance"),
    raises(P + "ProjectionConfig", "record_trajectory a string", lambda: ndf.ProjectionConfig(record_trajectory="yes"),
           TypeError, "record_trajectory"),
    raises(P + "project", "axis-angle, not quaternions", lambda: ndf.project(_model(), torch.zeros(2, K, 3)),
           ValueError, r"quats must have shape \(B, K, 4\)"),
    raises(P + "project", "one pose without the batch axis", lambda: ndf.project(_model(), _q(K)), ValueError, r"\(B, K, 4\)"),
    raises(P + "project", "numpy quats", lambda: ndf.project(_model(), _q(2, K).numpy()), TypeError, "torch.as_tensor"),
    raises(P + "project", "NaN", lambda: ndf.project(_model(), _with(_q(2, K), (1, 3, 2), NAN)), ValueError, "non-finite"),
    raises(P + "project", "inf", lambda: ndf.project(_model(), _with(_q(2, K), (0, 0, 0), float("inf"))),
           ValueError, "non-finite"),
    raises(P + "project", "a zero quaternion", lambda: ndf.project(_model(), _zero_quat()), ValueError, "1 zero quaternion"),
    raises(P + "project", "integer quats", lambda: ndf.project(_model(), torch.ones(2, K, 4, dtype=torch.int32)),
           ValueError, "floating-point"),
    raises(P + "project", "float64 quats, float32 model", lambda: ndf.project(_model(), _q(2, K, dtype=torch.float64)),
           ValueError, "dtype torch.float32"),
    raises(P + "project", "quats on another device", lambda: ndf.project(_model(), torch.ones(2, K, 4, device=META)),
           ValueError, "quats is on meta but the model is on cpu"),
    raises(P + "project", "config is a dict", lambda: ndf.project(_model(), _q(2, K), {"max_steps": 3}),
           TypeError, "ProjectionConfig"),
    raises(P + "project", "model is a path", lambda: ndf.project("posendf.pt", _q(2, K)), TypeError, "model must be"),
    raises(P + "project", "a model that returns (B, 1)", lambda: ndf.project(_WrongShapeField(), _q(2, K)),
           ValueError, "model must map"),
    returns(P + "project", "empty batch gives an empty result",
            lambda: ndf.project(_model(), torch.zeros(0, K, 4)),
            lambda r: r.quats.shape == (0, K, 4) and r.distance.shape == (0,) and r.trajectory.shape == (1, 0, K, 4)),
    returns(P + "project", "quaternions of length 3 are normalised (same result as unit ones)",
            lambda: (ndf.project(_model(), 3.0 * _q(2, K), ndf.ProjectionConfig(max_steps=2)),
                     ndf.project(_model(), _q(2, K), ndf.ProjectionConfig(max_steps=2))),
            lambda r: _unit(r[0].quats) and _close(r[0].quats, r[1].quats)),
    raises(P + "mean_pairwise_distance", "one pose", lambda: ndf.mean_pairwise_distance(_q(1, K)), ValueError, "N >= 2"),
    raises(P + "mean_pairwise_distance", "numpy", lambda: ndf.mean_pairwise_distance(_q(3, K).numpy()), TypeError, "quats"),
    raises(P + "mean_pairwise_distance", "NaN", lambda: ndf.mean_pairwise_distance(_with(_q(3, K), (0, 0, 0), NAN)),
           ValueError, "non-finite"),
    raises(P + "mean_pairwise_distance", "a zero quaternion", lambda: ndf.mean_pairwise_distance(_zero_quat()),
           ValueError, "zero quaternion"),
    raises(P + "mean_pairwise_distance", "joint_weight 0", lambda: ndf.mean_pairwise_distance(_q(3, K), joint_weight=0.0),
           ValueError, "joint_weight"),
    raises(P + "mean_pairwise_distance", "joint_weight a string", lambda: ndf.mean_pairwise_distance(_q(3, K), joint_weight="2"),
           TypeError, "joint_weight"),
    returns(P + "mean_pairwise_distance", "non-unit quaternions are normalised",
            lambda: (ndf.mean_pairwise_distance(2.0 * _q(3, K)), ndf.mean_pairwise_distance(_q(3, K))),
            lambda r: math.isclose(float(r[0]), float(r[1]), rel_tol=1e-5)),
    # ------------------------------------------------------------------ prior
    raises(P + "PoseNDFPrior", "a path instead of a model", lambda: ndf.PoseNDFPrior("posendf.pt"), TypeError, "load_posendf"),
    raises(P + "PoseNDFPrior", "a model of 5 joints",
           lambda: ndf.PoseNDFPrior(ndf.PoseNDF(ndf.PoseNDFModelConfig(parents=(-1, 0, 1, 1, 0), feature_dim=2,
                                                                       encoder_hidden=4, df_hidden=(8,)))),
           ValueError, "21 body joints"),
    raises(P + "PoseNDFPrior.energy", "full 24-joint pose", lambda: ndf.PoseNDFPrior(_model()).energy(torch.zeros(2, 24, 3)),
           ValueError, r"body_pose must have shape \(B, 21, 3\)"),
    raises(P + "PoseNDFPrior.energy", "numpy pose", lambda: ndf.PoseNDFPrior(_model()).energy(np.zeros((2, K, 3))),
           TypeError, "torch.as_tensor"),
    raises(P + "PoseNDFPrior.energy", "float64 pose, float32 prior",
           lambda: ndf.PoseNDFPrior(_model()).energy(torch.zeros(2, K, 3, dtype=torch.float64)),
           ValueError, "body_pose must have dtype torch.float32"),
    raises(P + "PoseNDFPrior.energy", "pose on another device",
           lambda: ndf.PoseNDFPrior(_model()).energy(torch.zeros(2, K, 3, device=META)),
           ValueError, "body_pose is on meta but the Pose-NDF prior is on cpu"),
    raises(P + "PoseNDFPrior.energy", "NaN pose", lambda: ndf.PoseNDFPrior(_model()).energy(torch.full((2, K, 3), NAN)),
           ValueError, "non-finite"),
    returns(P + "PoseNDFPrior.energy", "empty batch", lambda: ndf.PoseNDFPrior(_model()).energy(torch.zeros(0, K, 3)),
            lambda e: e.shape == (0,)),
    raises(P + "PoseNDFPrior.forward", "integer pose", lambda: ndf.PoseNDFPrior(_model())(torch.zeros(2, K, 3, dtype=torch.long)),
           ValueError, "dtype"),
    raises(P + "PoseNDFPrior.forward", "63-vector", lambda: ndf.PoseNDFPrior(_model())(torch.zeros(2, 63)), ValueError, "body_pose"),
    # ------------------------------------------------------------------ data
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "unknown metric", lambda: data.PoseNDFDataConfig(metric="euclid"), ValueError, "metric"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "k 0", lambda: data.PoseNDFDataConfig(k=0), ValueError, "k must be"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "k a float", lambda: data.PoseNDFDataConfig(k=1.5), TypeError, "k must be an integer"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "no sigmas", lambda: data.PoseNDFDataConfig(sigmas=()), ValueError, "sigmas"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "a negative sigma", lambda: data.PoseNDFDataConfig(sigmas=(0.1, -1.0)), ValueError, "sigmas"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "an infinite sigma", lambda: data.PoseNDFDataConfig(sigmas=(float("inf"),)),
           ValueError, "sigmas"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "sigmas a string", lambda: data.PoseNDFDataConfig(sigmas="0.1"), TypeError, "sigmas"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "num_noisy negative", lambda: data.PoseNDFDataConfig(num_noisy=-1), ValueError, "num_noisy"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "num_clean a float", lambda: data.PoseNDFDataConfig(num_clean=1e4), TypeError, "num_clean"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "chunk_size 0", lambda: data.PoseNDFDataConfig(chunk_size=0), ValueError, "chunk_size"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "joint_weight negative", lambda: data.PoseNDFDataConfig(joint_weight=-2.0),
           ValueError, "joint_weight"),
    raises("humanlib.priors.posendf_dataset.PoseNDFDataConfig", "seed negative", lambda: data.PoseNDFDataConfig(seed=-1), ValueError, "seed"),
    raises("humanlib.priors.posendf_dataset.DistanceDataset", "numpy quats", lambda: data.DistanceDataset(np.zeros((2, K, 4)), torch.zeros(2), torch.zeros(2)),
           TypeError, "quats"),
    raises("humanlib.priors.posendf_dataset.DistanceDataset", "one distance too few", lambda: data.DistanceDataset(_q(3, K), torch.zeros(2), torch.zeros(3)),
           ValueError, r"distance must have shape \(3,\)"),
    raises("humanlib.priors.posendf_dataset.DistanceDataset", "NaN distance",
           lambda: data.DistanceDataset(_q(2, K), torch.tensor([0.0, NAN]), torch.zeros(2)), ValueError, "distance contains"),
    raises("humanlib.priors.posendf_dataset.DistanceDataset", "negative distance",
           lambda: data.DistanceDataset(_q(2, K), torch.tensor([0.0, -1.0]), torch.zeros(2)), ValueError, "distance must be >= 0"),
    raises("humanlib.priors.posendf_dataset.DistanceDataset", "axis-angle quats", lambda: data.DistanceDataset(torch.zeros(2, K, 3), torch.zeros(2),
                                                                                    torch.zeros(2)), ValueError, r"\(N, K, 4\)"),
    raises("humanlib.priors.posendf_dataset.DistanceDataset", "quaternions of length 2",
           lambda: data.DistanceDataset(2.0 * _q(3, K), torch.zeros(3), torch.zeros(3)), ValueError, "unit quaternions"),
    returns("humanlib.priors.posendf_dataset.DistanceDataset", "empty dataset has length 0", _empty_dataset, lambda d: len(d) == 0),
    raises(D + "body_pose_to_quats", "20 joints", lambda: data.body_pose_to_quats(torch.zeros(5, 20, 3)), ValueError, "shape"),
    raises(D + "body_pose_to_quats", "numpy", lambda: data.body_pose_to_quats(np.zeros((5, 24, 3))), TypeError, "torch.as_tensor"),
    raises(D + "body_pose_to_quats", "integer pose", lambda: data.body_pose_to_quats(torch.zeros(5, 24, 3, dtype=torch.long)),
           ValueError, "floating-point"),
    raises(D + "body_pose_to_quats", "NaN", lambda: data.body_pose_to_quats(torch.full((2, K, 3), NAN)),
           ValueError, "pose contains"),
    returns(D + "body_pose_to_quats", "empty batch", lambda: data.body_pose_to_quats(torch.zeros(0, 24, 3)),
            lambda q: q.shape == (0, K, 4)),
    raises(D + "perturb_quats", "wrong shape", lambda: data.perturb_quats(torch.zeros(4, 4), (0.1,)), ValueError, r"\(N, K, 4\)"),
    raises(D + "perturb_quats", "NaN", lambda: data.perturb_quats(_with(_q(3, K), (0, 0, 0), NAN), (0.1,)),
           ValueError, "non-finite"),
    raises(D + "perturb_quats", "a zero quaternion", lambda: data.perturb_quats(_zero_quat(), (0.1,)),
           ValueError, "zero quaternion"),
    raises(D + "perturb_quats", "sigma 0", lambda: data.perturb_quats(_q(3, K), (0.0,)), ValueError, "sigmas"),
    raises(D + "perturb_quats", "sigmas a number", lambda: data.perturb_quats(_q(3, K), 0.1), TypeError, "sigmas"),
    raises(D + "perturb_quats", "generator is a seed", lambda: data.perturb_quats(_q(3, K), (0.1,), 0), TypeError, "generator"),
    returns(D + "perturb_quats", "non-unit input: unit canonical output",
            lambda: data.perturb_quats(5.0 * _q(3, K), (0.1,), torch.Generator().manual_seed(0)),
            lambda r: _unit(r[0]) and bool((r[0][..., 0] >= 0).all())),
    returns(D + "perturb_quats", "empty batch", lambda: data.perturb_quats(torch.zeros(0, K, 4), (0.1,)),
            lambda r: r[0].shape == (0, K, 4) and r[1].shape == (0,)),
    raises(D + "knn_pose_distance", "k larger than the manifold", lambda: data.knn_pose_distance(_q(2, K), _q(3, K), k=4),
           ValueError, "k must be between 1 and"),
    raises(D + "knn_pose_distance", "k 0", lambda: data.knn_pose_distance(_q(2, K), _q(3, K), k=0), ValueError, "k must be"),
    raises(D + "knn_pose_distance", "k a float", lambda: data.knn_pose_distance(_q(2, K), _q(3, K), k=1.0), TypeError, "k must be"),
    raises(D + "knn_pose_distance", "unknown metric", lambda: data.knn_pose_distance(_q(2, K), _q(3, K), metric="l2"),
           ValueError, "metric"),
    raises(D + "knn_pose_distance", "chunk_size 0", lambda: data.knn_pose_distance(_q(2, K), _q(3, K), chunk_size=0),
           ValueError, "chunk_size"),
    raises(D + "knn_pose_distance", "joint_weight NaN", lambda: data.knn_pose_distance(_q(2, K), _q(3, K), joint_weight=NAN),
           ValueError, "joint_weight"),
    raises(D + "knn_pose_distance", "different joint counts", lambda: data.knn_pose_distance(_q(2, 5), _q(3, K)),
           ValueError, "same number of joints"),
    raises(D + "knn_pose_distance", "different dtypes", lambda: data.knn_pose_distance(_q(2, K, dtype=torch.float64), _q(3, K)),
           ValueError, "same dtype"),
    raises(D + "knn_pose_distance", "queries on another device",
           lambda: data.knn_pose_distance(torch.ones(2, K, 4, device=META), _q(3, K)), ValueError, "queries is on meta"),
    raises(D + "knn_pose_distance", "empty manifold", lambda: data.knn_pose_distance(_q(2, K), torch.zeros(0, K, 4)),
           ValueError, "manifold is empty"),
    raises(D + "knn_pose_distance", "NaN manifold", lambda: data.knn_pose_distance(_q(2, K), _q(3, K) * NAN),
           ValueError, "manifold contains"),
    raises(D + "knn_pose_distance", "a zero query quaternion", lambda: data.knn_pose_distance(_zero_quat(), _q(3, K)),
           ValueError, "queries holds 1 zero quaternion"),
    raises(D + "knn_pose_distance", "numpy queries", lambda: data.knn_pose_distance(_q(2, K).numpy(), _q(3, K)),
           TypeError, "queries"),
    returns(D + "knn_pose_distance", "empty queries give empty results",
            lambda: data.knn_pose_distance(torch.zeros(0, K, 4), _q(3, K), k=2),
            lambda r: r.distance.shape == (0,) and r.indices.shape == (0, 2) and r.neighbour_distance.shape == (0, 2)),
    returns(D + "knn_pose_distance", "non-unit quaternions are normalised",
            lambda: (data.knn_pose_distance(3.0 * _q(4, K), 0.5 * _q(5, K, seed=1)), data.knn_pose_distance(_q(4, K), _q(5, K, seed=1))),
            lambda r: _close(r[0].distance, r[1].distance) and bool((r[0].indices == r[1].indices).all())),
    raises(D + "make_distance_dataset", "config is a dict", lambda: data.make_distance_dataset(_q(5, K), {"num_noisy": 3}),
           TypeError, "PoseNDFDataConfig"),
    raises(D + "make_distance_dataset", "empty manifold",
           lambda: data.make_distance_dataset(torch.zeros(0, K, 4), data.PoseNDFDataConfig(num_noisy=4, num_clean=0)),
           ValueError, "manifold is empty"),
    raises(D + "make_distance_dataset", "NaN manifold",
           lambda: data.make_distance_dataset(_q(5, K) * NAN, data.PoseNDFDataConfig(num_noisy=4)), ValueError, "non-finite"),
    raises(D + "make_distance_dataset", "queries_from with other joints",
           lambda: data.make_distance_dataset(_q(5, K), data.PoseNDFDataConfig(num_noisy=4), queries_from=_q(3, 5)),
           ValueError, "queries_from and manifold must have the same number of joints"),
    raises(D + "make_distance_dataset", "queries_from empty",
           lambda: data.make_distance_dataset(_q(5, K), data.PoseNDFDataConfig(num_noisy=4), queries_from=torch.zeros(0, K, 4)),
           ValueError, "queries_from is empty"),
    raises(D + "make_distance_dataset", "manifold on another device",
           lambda: data.make_distance_dataset(torch.ones(5, K, 4, device=META), data.PoseNDFDataConfig(num_noisy=4)),
           ValueError, "manifold is on meta"),
    returns(D + "make_distance_dataset", "non-unit manifold: unit canonical samples",
            lambda: data.make_distance_dataset(-2.0 * _q(6, K), data.PoseNDFDataConfig(num_noisy=6, num_clean=3)),
            lambda d: len(d) == 9 and _unit(d.quats) and bool((d.quats[..., 0] >= 0).all())),
    returns(D + "make_distance_dataset", "num_clean above the manifold size gives every pose once",
            lambda: data.make_distance_dataset(_q(4, K), data.PoseNDFDataConfig(num_noisy=2, num_clean=10)),
            lambda d: len(d) == 6 and int((d.distance == 0).sum()) >= 4),
    raises(D + "brute_force_distance", "empty manifold", lambda: data.brute_force_distance(_q(2, K), torch.zeros(0, K, 4)),
           ValueError, "manifold is empty"),
    raises(D + "brute_force_distance", "NaN queries", lambda: data.brute_force_distance(_q(2, K) * NAN, _q(3, K)),
           ValueError, "queries contains"),
    raises(D + "brute_force_distance", "joint_weight 0", lambda: data.brute_force_distance(_q(2, K), _q(3, K), joint_weight=0),
           ValueError, "joint_weight"),
    returns(D + "brute_force_distance", "empty queries", lambda: data.brute_force_distance(torch.zeros(0, K, 4), _q(3, K)),
            lambda d: d.shape == (0,)),
    # ------------------------------------------------------------------ training
    raises(T + "PoseNDFTrainConfig", "model is a PoseNDF, not its config", lambda: train.PoseNDFTrainConfig(model=_model()),
           TypeError, "model must be a PoseNDFModelConfig"),
    raises(T + "PoseNDFTrainConfig", "data is a dict", lambda: train.PoseNDFTrainConfig(data={}), TypeError, "data must be"),
    raises(T + "PoseNDFTrainConfig", "steps negative", lambda: train.PoseNDFTrainConfig(steps=-1), ValueError, "steps"),
    raises(T + "PoseNDFTrainConfig", "steps a float", lambda: train.PoseNDFTrainConfig(steps=1e3), TypeError, "steps"),
    raises(T + "PoseNDFTrainConfig", "batch_size 0", lambda: train.PoseNDFTrainConfig(batch_size=0), ValueError, "batch_size"),
    raises(T + "PoseNDFTrainConfig", "val_every 0", lambda: train.PoseNDFTrainConfig(val_every=0), ValueError, "val_every"),
    raises(T + "PoseNDFTrainConfig", "num_val 0", lambda: train.PoseNDFTrainConfig(num_val=0), ValueError, "num_val"),
    raises(T + "PoseNDFTrainConfig", "num_manifold negative", lambda: train.PoseNDFTrainConfig(num_manifold=-5),
           ValueError, "num_manifold"),
    raises(T + "PoseNDFTrainConfig", "lr 0", lambda: train.PoseNDFTrainConfig(lr=0.0), ValueError, "lr"),
    raises(T + "PoseNDFTrainConfig", "lr inf", lambda: train.PoseNDFTrainConfig(lr=float("inf")), ValueError, "lr"),
    raises(T + "PoseNDFTrainConfig", "negative eikonal weight", lambda: train.PoseNDFTrainConfig(eikonal_weight=-0.1),
           ValueError, "eikonal_weight"),
    raises(T + "PoseNDFTrainConfig", "both loss weights 0", lambda: train.PoseNDFTrainConfig(udf_weight=0.0, eikonal_weight=0.0),
           ValueError, "both 0"),
    raises(T + "PoseNDFTrainConfig", "unknown device", lambda: train.PoseNDFTrainConfig(device="gpu"), ValueError, "device 'gpu'"),
    raises(T + "PoseNDFTrainConfig", "negative weight decay", lambda: train.PoseNDFTrainConfig(weight_decay=-1e-4), ValueError,
           "weight_decay"),
    raises(T + "PoseNDFTrainConfig", "num_threads 0", lambda: train.PoseNDFTrainConfig(num_threads=0), ValueError, "num_threads"),
    raises("humanlib.priors.posendf_metrics.sigma_breakdown", "one prediction too few", lambda: train.sigma_breakdown(torch.zeros(5), _dataset(6)),
           ValueError, r"pred must have shape \(6,\)"),
    raises("humanlib.priors.posendf_metrics.sigma_breakdown", "data is a tensor", lambda: train.sigma_breakdown(torch.zeros(5), torch.zeros(5)),
           TypeError, "DistanceDataset"),
    returns("humanlib.priors.posendf_metrics.sigma_breakdown", "empty data gives no noise levels",
            lambda: train.sigma_breakdown(torch.zeros(0), _empty_dataset()), lambda r: r == {}),
    raises(T + "training_manifold", "a number", lambda: train.training_manifold(20), TypeError, "PoseNDFTrainConfig"),
    raises(T + "training_manifold", "a dict without num_manifold", lambda: train.training_manifold({}), ValueError, "num_manifold"),
    raises("humanlib.priors.posendf_metrics.distance_breakdown", "one prediction too few", lambda: train.distance_breakdown(torch.zeros(5), _dataset(6)),
           ValueError, r"pred must have shape \(6,\)"),
    raises("humanlib.priors.posendf_metrics.distance_breakdown", "data is a tensor", lambda: train.distance_breakdown(torch.zeros(5), torch.zeros(5)),
           TypeError, "DistanceDataset"),
    returns("humanlib.priors.posendf_metrics.distance_breakdown", "empty data gives no bands",
            lambda: train.distance_breakdown(torch.zeros(0), _empty_dataset()), lambda r: r == {}),
    raises(T + "standard_val_config", "a data config instead of the run's", lambda: train.standard_val_config(
        data.PoseNDFDataConfig()), TypeError, "PoseNDFTrainConfig"),
    returns(T + "standard_val_config", "a distance-noise run is measured on sigma noise", lambda: train.standard_val_config(
        train.PoseNDFTrainConfig(data=data.PoseNDFDataConfig(noise="distance"), num_val=77)),
        lambda r: r.noise == "sigma" and r.num_noisy == 77),
    raises("humanlib.priors.posendf_metrics.evaluate_field", "empty data", lambda: train.evaluate_field(_model(), _empty_dataset()), ValueError, "data is empty"),
    raises("humanlib.priors.posendf_metrics.evaluate_field", "data is a tensor", lambda: train.evaluate_field(_model(), _q(3, K)), TypeError, "DistanceDataset"),
    raises("humanlib.priors.posendf_metrics.evaluate_field", "batch_size 0", lambda: train.evaluate_field(_model(), _dataset(), batch_size=0),
           ValueError, "batch_size"),
    raises("humanlib.priors.posendf_metrics.evaluate_field", "poses of 5 joints", lambda: train.evaluate_field(_model(), _dataset(k=5)),
           ValueError, "5 joints but the model has 21"),
    raises("humanlib.priors.posendf_metrics.evaluate_field", "model is a path", lambda: train.evaluate_field("posendf.pt", _dataset()), TypeError, "model"),
    raises(T + "train_posendf", "train is a tensor", lambda: train.train_posendf(_q(5, K), None, _train_cfg(), progress=False),
           TypeError, "DistanceDataset"),
    raises(T + "train_posendf", "empty training set", lambda: train.train_posendf(_empty_dataset(), None, _train_cfg(),
                                                                                 progress=False), ValueError, "empty"),
    raises(T + "train_posendf", "empty validation set", lambda: train.train_posendf(_dataset(), _empty_dataset(), _train_cfg(),
                                                                                   progress=False), ValueError, "val=None"),
    raises(T + "train_posendf", "config is a dict", lambda: train.train_posendf(_dataset(), None, {"steps": 2}, progress=False),
           TypeError, "PoseNDFTrainConfig"),
    raises(T + "train_posendf", "poses of 5 joints", lambda: train.train_posendf(_dataset(k=5), None, _train_cfg(),
                                                                                progress=False), ValueError, "5 joints"),
    raises(T + "train_posendf", "resume without out_dir", lambda: train.train_posendf(_dataset(), None, _train_cfg(), resume=True,
                                                                                     progress=False), ValueError, "out_dir"),
    raises(T + "train_posendf", "out_dir is a file",
           lambda: train.train_posendf(_dataset(), None, _train_cfg(), out_dir=_file("f.txt", b"x"), progress=False),
           ValueError, "is a file"),
    raises(T + "train_posendf", "resume with no last.pt", lambda: train.train_posendf(_dataset(), None, _train_cfg(), out_dir=_tmp(),
                                                                                     resume=True, progress=False),
           FileNotFoundError, r"last\.pt does not exist"),
    raises(T + "train_posendf", "resume from a final checkpoint renamed last.pt",
           lambda: train.train_posendf(_dataset(), None, _train_cfg(), out_dir=_out_with("last.pt", _checkpoint()), resume=True,
                                       progress=False), ValueError, r"incomplete Pose-NDF training state: missing entries \['history_json', 'optimizer'"),
    raises(T + "train_posendf", "resume from a truncated last.pt",
           lambda: train.train_posendf(_dataset(), None, _train_cfg(), out_dir=_out_with("last.pt", _truncated()), resume=True,
                                       progress=False), ValueError, r"last\.pt is not a readable torch checkpoint"),
    raises(T + "train_posendf", "stop_at negative", lambda: train.train_posendf(_dataset(), None, _train_cfg(), stop_at=-1,
                                                                               progress=False), ValueError, "stop_at"),
    raises(T + "train_posendf", "metadata holds an object",
           lambda: train.train_posendf(_dataset(), None, _train_cfg(), metadata={"x": _Opaque()}, progress=False),
           TypeError, "metadata"),
    raises("humanlib.priors.posendf_metrics.plot_history", "empty history", lambda: train.plot_history([]), ValueError, "history is empty"),
    raises("humanlib.priors.posendf_metrics.plot_history", "history is a dict", lambda: train.plot_history({"step": 1}), TypeError, "history"),
    raises("humanlib.priors.posendf_metrics.plot_history", "rows without losses", lambda: train.plot_history([{"step": 1}]), ValueError, r"history\[0\] lacks"),
    raises("humanlib.priors.posendf_metrics.plot_history", "path is a folder", lambda: train.plot_history(_HISTORY, _tmp()), ValueError, "is a folder"),
    raises("humanlib.priors.posendf_metrics.plot_history", "unknown image extension", lambda: train.plot_history(_HISTORY, _tmp() / "c.xyz"),
           ValueError, "extension '.xyz'"),
    raises(T + "corpus_quats", "unknown split", lambda: train.corpus_quats("training"), ValueError, "split must be one of"),
    raises(T + "corpus_quats", "num negative", lambda: train.corpus_quats("val", -5), ValueError, "num"),
    raises(T + "corpus_quats", "num a float", lambda: train.corpus_quats("val", 2.5), TypeError, "num"),
    raises(T + "build_datasets", "config is a data config", lambda: train.build_datasets(data.PoseNDFDataConfig()),
           TypeError, "PoseNDFTrainConfig"),
    raises(T + "build_datasets", "cache is a folder", lambda: train.build_datasets(_train_cfg(), _tmp()), ValueError, "is a folder"),
    raises(T + "build_datasets", "corrupt cache", lambda: train.build_datasets(_train_cfg(), _file("data.pt", b"\x00" * 64)),
           ValueError, r"data\.pt is not readable.*delete"),
    raises(T + "build_datasets", "cache of another kind", lambda: train.build_datasets(_train_cfg(), _checkpoint()),
           ValueError, "not a Pose-NDF data cache.*delete"),
    raises(T + "evaluate_checkpoint", "model is a prior",
           lambda: train.evaluate_checkpoint(ndf.PoseNDFPrior(_model()), _q(5, K), _dataset()), TypeError, "PoseNDF"),
    raises(T + "evaluate_checkpoint", "a one-pose manifold", lambda: train.evaluate_checkpoint(_model(), _q(1, K), _dataset()),
           ValueError, "M >= 2"),
    raises(T + "evaluate_checkpoint", "val is a tensor", lambda: train.evaluate_checkpoint(_model(), _q(5, K), _q(5, K)),
           TypeError, "val must be a DistanceDataset"),
    raises(T + "evaluate_checkpoint", "num_generate 1",
           lambda: train.evaluate_checkpoint(_model(), _q(5, K), _dataset(), num_generate=1), ValueError, "num_generate"),
    # ------------------------------------------------------------------ figures
    raises(V + "quats_to_full_pose", "axis-angle", lambda: viz.quats_to_full_pose(torch.zeros(2, K, 3)), ValueError, r"\(\.\.\., 21, 4\)"),
    raises(V + "quats_to_full_pose", "numpy", lambda: viz.quats_to_full_pose(_q(2, K).numpy()), TypeError, "torch.as_tensor"),
    raises(V + "quats_to_full_pose", "NaN", lambda: viz.quats_to_full_pose(_q(2, K) * NAN), ValueError, "quats contains"),
    raises(V + "quats_to_full_pose", "a zero quaternion", lambda: viz.quats_to_full_pose(_zero_quat()), ValueError, "zero quaternion"),
    returns(V + "quats_to_full_pose", "empty batch", lambda: viz.quats_to_full_pose(torch.zeros(0, K, 4)),
            lambda p: p.shape == (0, 24, 3)),
    returns(V + "quats_to_full_pose", "non-unit quaternions are the same rotations",
            lambda: (viz.quats_to_full_pose(4.0 * _q(2, K)), viz.quats_to_full_pose(_q(2, K))), lambda r: _close(*r)),
    raises(V + "skeleton_animation", "one frame without the T axis", lambda: viz.skeleton_animation(torch.zeros(2, 24, 3)),
           ValueError, r"\(T, B, 24, 3\)"),
    raises(V + "skeleton_animation", "numpy", lambda: viz.skeleton_animation(np.zeros((2, 1, 24, 3))), TypeError, "joints"),
    raises(V + "skeleton_animation", "no frames", lambda: viz.skeleton_animation(torch.zeros(0, 2, 24, 3)), ValueError, "T, B >= 1"),
    raises(V + "skeleton_animation", "no skeletons", lambda: viz.skeleton_animation(torch.zeros(2, 0, 24, 3)), ValueError, "T, B >= 1"),
    raises(V + "skeleton_animation", "NaN joints", lambda: viz.skeleton_animation(torch.full((2, 1, 24, 3), NAN)),
           ValueError, "joints contains"),
    raises(V + "skeleton_animation", "one label for two frames", lambda: viz.skeleton_animation(torch.zeros(2, 1, 24, 3), ["a"]),
           ValueError, "labels"),
    raises(V + "skeleton_animation", "labels a string", lambda: viz.skeleton_animation(torch.zeros(2, 1, 24, 3), "ab"),
           TypeError, "labels"),
    raises(V + "skeleton_animation", "negative spacing", lambda: viz.skeleton_animation(torch.zeros(2, 1, 24, 3), spacing=-1.0),
           ValueError, "spacing"),
    raises(V + "skeleton_animation", "empty colour list", lambda: viz.skeleton_animation(torch.zeros(2, 1, 24, 3), colors=[]),
           ValueError, "colors"),
    raises(V + "skeleton_animation", "title a number", lambda: viz.skeleton_animation(torch.zeros(2, 1, 24, 3), title=3),
           TypeError, "title"),
    raises(V + "trajectory_frames", "trajectory not recorded", lambda: viz.trajectory_frames(None), TypeError, "record_trajectory"),
    raises(V + "trajectory_frames", "no T axis", lambda: viz.trajectory_frames(torch.zeros(2, K, 4)), ValueError, r"\(T, B, K, 4\)"),
    raises(V + "trajectory_frames", "empty trajectory", lambda: viz.trajectory_frames(torch.zeros(0, 2, K, 4)), ValueError, "T = 0"),
    raises(V + "trajectory_frames", "max_frames 1", lambda: viz.trajectory_frames(torch.zeros(5, 2, K, 4), 1), ValueError, "max_frames"),
    raises(V + "trajectory_frames", "max_frames a float", lambda: viz.trajectory_frames(torch.zeros(5, 2, K, 4), 3.0),
           TypeError, "max_frames"),
    returns(V + "trajectory_frames", "a one-step trajectory", lambda: viz.trajectory_frames(torch.zeros(1, 2, K, 4)),
            lambda r: r[0].shape == (1, 2, K, 4) and r[1] == [0]),
]

CASES += [
    raises(D + "quat_outer_features", "numpy quaternions", lambda: data.quat_outer_features(np.ones((2, 21, 4))), TypeError,
           "quats"),
    raises(D + "quat_outer_features", "3 components", lambda: data.quat_outer_features(torch.ones(2, 21, 3)), ValueError,
           "quats"),
    raises(D + "quat_outer_features", "one quaternion, no joint axis", lambda: data.quat_outer_features(torch.ones(4)),
           ValueError, r"\(\.\.\., K, 4\)"),
    returns(D + "quat_outer_features", "empty batch", lambda: data.quat_outer_features(torch.ones(0, 21, 4)),
            lambda r: r.shape == (0, 210)),
    raises(D + "mirror_body_quats", "24 joints", lambda: data.mirror_body_quats(torch.ones(2, 24, 4)), ValueError, "body joints"),
    raises(D + "mirror_body_quats", "a list", lambda: data.mirror_body_quats([[1.0, 0, 0, 0]]), TypeError, "quats"),
    returns(D + "mirror_body_quats", "empty batch", lambda: data.mirror_body_quats(torch.ones(0, 21, 4)),
            lambda r: r.shape == (0, 21, 4)),
    raises(D + "perturb_quats_by_distance", "scale 0", lambda: data.perturb_quats_by_distance(torch.ones(2, 21, 4), 0.0),
           ValueError, "scale"),
    raises(D + "perturb_quats_by_distance", "zero quaternion",
           lambda: data.perturb_quats_by_distance(torch.zeros(2, 21, 4), 0.5), ValueError, "zero quaternion"),
    raises(D + "perturb_quats_by_distance", "generator a seed",
           lambda: data.perturb_quats_by_distance(torch.ones(2, 21, 4), 0.5, 3), TypeError, "generator"),
    raises(D + "perturb_quats_by_distance", "NaN quaternions",
           lambda: data.perturb_quats_by_distance(torch.full((1, 21, 4), math.nan), 0.5), ValueError, "NaN"),
    raises(P + "projection_direction", "unknown method", lambda: ndf.projection_direction(torch.ones(1, 21, 4),
           torch.ones(1, 21, 4), "newton"), ValueError, "method must be one of"),
    raises(P + "projection_direction", "gradient of another shape", lambda: ndf.projection_direction(torch.ones(1, 21, 4),
           torch.ones(2, 21, 4), "nrdf"), ValueError, "grad"),
    raises(P + "projection_direction", "numpy gradient", lambda: ndf.projection_direction(torch.ones(1, 21, 4),
           np.ones((1, 21, 4)), "nrdf"), TypeError, "grad"),
]

if not torch.cuda.is_available():
    CASES += [
        raises("humanlib.priors.posendf_checkpoint.load_posendf", "cuda without a GPU", lambda: ndf.load_posendf(_checkpoint(), device="cuda"),
               ValueError, "no GPU"),
        raises(T + "train_posendf", "cuda without a GPU", lambda: train.train_posendf(_dataset(), None, _train_cfg(device="cuda"),
                                                                                     progress=False), ValueError, "no GPU"),
    ]

EXEMPT = {
    "humanlib.priors.posendf_model.shifted_parents": "takes no arguments; returns a constant parent table",
    P + "ProjectionResult": "result record built by project, never from user input",
    "humanlib.priors.posendf_dataset.KNNResult": "result record built by knn_pose_distance, never from user input",
    T + "TrainResult": "result record built by train_posendf, never from user input",
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)


# --------------------------------------------------------------------------- properties

_MODEL = _model()
_scales = st.lists(st.floats(0.05, 20.0), min_size=K, max_size=K)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scales=_scales, flip=st.booleans())
def test_projection_is_unit_canonical_and_ignores_quaternion_length_and_sign(seed, scales, flip):
    """Any non-zero length and either sign of each joint's quaternion: the same projection, unit and w >= 0."""
    q = _q(2, K, seed=seed)
    scaled = q * torch.tensor(scales)[None, :, None] * (-1.0 if flip else 1.0)
    cfg = ndf.ProjectionConfig(max_steps=3)
    a, b = ndf.project(_MODEL, scaled, cfg), ndf.project(_MODEL, q, cfg)
    assert torch.isfinite(a.quats).all() and torch.isfinite(a.distance).all()
    assert _unit(a.quats) and (a.quats[..., 0] >= 0).all()
    torch.testing.assert_close(a.quats, b.quats, atol=1e-5, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4))
def test_forward_rejects_every_wrong_shape_naming_quats(shape):
    shape = tuple(shape)
    if len(shape) >= 2 and shape[-2:] == (K, 4):
        return
    with pytest.raises(ValueError, match=r"quats must have shape \(\.\.\., 21, 4\)"):
        _MODEL(torch.zeros(shape))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0), metric=st.sampled_from(data.METRICS))
def test_knn_labels_do_not_depend_on_quaternion_length(seed, scale, metric):
    queries, manifold = _q(4, K, seed=seed), _q(6, K, seed=seed + 1)
    a = data.knn_pose_distance(scale * queries, manifold / scale, k=2, metric=metric)
    b = data.knn_pose_distance(queries, manifold, k=2, metric=metric)
    assert torch.isfinite(a.distance).all()
    torch.testing.assert_close(a.distance, b.distance, atol=1e-5, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scales=_scales)
def test_figure_pose_round_trip_for_non_unit_quaternions(seed, scales):
    """quats_to_full_pose then body_pose_to_quats gives the canonical unit quaternions back."""
    q = _q(3, K, seed=seed)
    back = data.body_pose_to_quats(viz.quats_to_full_pose(q * torch.tensor(scales)[None, :, None]))
    torch.testing.assert_close(back, q, atol=1e-4, rtol=1e-4)


def test_eval_command_on_a_checkpoint_without_training_settings(capsys):
    """eval-posendf on a checkpoint saved outside train-posendf: one line saying why, exit code 1."""
    from humanlib import cli

    path = _checkpoint()
    assert cli.main(["eval-posendf", "--checkpoint", str(path), "--out", str(_tmp() / "m.json")]) == 1
    err = capsys.readouterr().err
    assert "has no training settings" in err and str(path) in err and "Traceback" not in err


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.0, 50.0))
def test_forward_is_finite_and_non_negative_for_any_finite_input(seed, scale):
    """Finite quaternions of any length (zero included) give finite, non-negative distances."""
    q = torch.randn(3, K, 4, generator=torch.Generator().manual_seed(seed)) * scale
    f = _MODEL(q)
    assert f.shape == (3,) and torch.isfinite(f).all() and (f >= 0).all()


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=0, max_size=4), which=st.sampled_from(["queries", "manifold"]))
def test_knn_rejects_every_wrong_shape_naming_the_argument(shape, which):
    bad = torch.ones(tuple(shape))
    if bad.ndim == 3 and bad.shape[-1] == 4:
        return
    args = {"queries": _q(2, K), "manifold": _q(3, K), which: bad}
    with pytest.raises(ValueError, match=rf"{which} must have shape \(N, K, 4\)"):
        data.knn_pose_distance(**args)
