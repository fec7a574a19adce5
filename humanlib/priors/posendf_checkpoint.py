r"""Pose-NDF checkpoints: save, read (refusing foreign or damaged files with the fix), load a network.

The network is :class:`humanlib.priors.posendf.PoseNDF`; :mod:`humanlib.priors.posendf` re-exports every name here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import torch
from torch import Tensor

from humanlib._validate import check_file, resolve_device
from humanlib.paths import asset, user_prior_file
from humanlib.priors.training import save_atomically
from humanlib.priors.posendf_model import PoseNDFModelConfig, PoseNDF


CHECKPOINT_FORMAT = "humanlib-posendf-1"
DEFAULT_CHECKPOINT = "priors/posendf_open.pt"

#: What to do about a checkpoint that cannot be used.
_REBUILD = (
    "train one with `humanlib train-posendf --out DIR` and pass DIR/posendf.pt, or pass path=None "
    "for the committed checkpoint (restore humanlib/assets/priors/posendf_open.pt with git if it is damaged)"
)


# --------------------------------------------------------------------------- checkpoints


def save_checkpoint(path: str | Path, model: PoseNDF, metadata: dict | None = None, extra: dict | None = None) -> Path:
    """Write a checkpoint: plain state dict + model config + metadata (+ resumable state).

    Args:
        path: file to write (parent folders are created).
        model: the network.
        metadata: JSON-like facts recorded with the weights (command, data sizes, metric...).
        extra: additional plain entries (optimizer state, step, history) for resuming.

    Returns:
        the path written.

    Raises:
        TypeError: ``model`` is not a :class:`PoseNDF`, ``path`` not a path, ``metadata`` /
            ``extra`` not dicts or holding values a safe load cannot read back (objects
            other than tensors, numbers, strings, bools, None, lists, tuples and dicts).
        ValueError: ``path`` is a directory, ``extra`` overwrites an entry of the format, the
            model is on the meta device (it holds no weights).
    """
    path = _as_path(path, "path")
    if not isinstance(model, PoseNDF):
        raise TypeError(f"model must be a PoseNDF; got {type(model).__name__}")
    if model.enc_w1.device.type == "meta":
        raise ValueError("model is on the meta device and holds no weights; build it on 'cpu' or 'cuda' to save it")
    if path.is_dir():
        raise ValueError(f"path {path} is a directory; give a file name such as {path / 'posendf.pt'}")
    for name, value in (("metadata", metadata), ("extra", extra)):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict or None; got {type(value).__name__}")
        _check_plain(value or {}, name)
    clash = sorted(set(extra or {}) & {"format", "model_config", "state_dict", "metadata"})
    if clash:
        raise ValueError(f"extra may not overwrite the checkpoint's own entries {clash}")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model_config": asdict(model.config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": dict(metadata or {}),
    }
    payload.update(extra or {})
    return save_atomically(payload, path)  # an interrupted save never leaves a half-written checkpoint behind


_PLAIN = (str, int, float, bool, type(None), Tensor)


def _check_plain(value: object, name: str) -> None:
    """Raise unless ``value`` is made of what ``torch.load(weights_only=True)`` reads back."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, f"a key of {name}")
            _check_plain(v, f"{name}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{name}[{i}]")
    elif not isinstance(value, _PLAIN):
        raise TypeError(
            f"{name} is a {type(value).__name__}; a checkpoint holds only tensors, numbers, strings, bools, "
            "None, lists, tuples and dicts (a safe load could not read it back): convert it first"
        )


def _as_path(path: object, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or pathlib.Path; got {type(path).__name__}")
    return Path(path).expanduser()


def _first_line(exc: Exception, limit: int = 120) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_foreign(payload: dict) -> str:
    """A sentence on what a dictionary that is not a Pose-NDF checkpoint seems to be."""
    keys = sorted(map(str, payload))
    fmt = payload.get("format")
    if isinstance(fmt, str) and "vposer" in fmt.lower():
        return (f"it is a VPoser checkpoint (format {fmt!r}): load it with humanlib.priors.vposer.load_vposer, "
                "or give load_posendf a Pose-NDF checkpoint")
    if fmt is not None:
        return f"its format is {fmt!r}, expected {CHECKPOINT_FORMAT!r}"
    if any(k in payload for k in ("model_state_dict", "optimizer_state_dict", "epoch")):
        return (f"it looks like a checkpoint of the released Pose-NDF code (entries {keys[:8]}); humanlib cannot "
                "read it: its network is laid out differently (other layer names, the off-by-one parent table of "
                "shifted_parents()). Train a humanlib Pose-NDF instead")
    if payload and all(isinstance(v, Tensor) for v in payload.values()):
        whose = "a humanlib PoseNDF's" if "enc_w1" in payload else "some network's"
        return (f"it is a bare state dict ({whose} weights, entries {keys[:8]}) without the model configuration; "
                "write checkpoints with humanlib.priors.posendf.save_checkpoint(path, model)")
    return f"it has no 'format' entry (entries {keys[:8]}), expected format {CHECKPOINT_FORMAT!r}"


def read_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint file safely (``weights_only=True``) and check its format.

    Raises:
        TypeError: ``path`` is not a str or Path.
        FileNotFoundError: no such file (or a directory).
        ValueError: the file is not a readable torch file (corrupt, truncated, another kind of
            file), or not a Pose-NDF checkpoint (a VPoser checkpoint, the released code's...).
            Each message names the file and what to do.
    """
    path = check_file(_as_path(path, "path"), "Pose-NDF checkpoint", _REBUILD)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged files
        if "weights only" in str(exc).lower():
            reason = "it holds Python objects other than tensors and plain values, which a safe load refuses"
        else:
            reason = f"{type(exc).__name__}: {_first_line(exc)}"
        raise ValueError(
            f"{path} is not a readable torch checkpoint (corrupt or truncated?, or not a torch file): "
            f"{reason}. {_REBUILD[0].upper()}{_REBUILD[1:]}"
        ) from exc
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is not a Pose-NDF checkpoint: it holds a {type(payload).__name__}, not a dict; {_REBUILD}")
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a Pose-NDF checkpoint: {_describe_foreign(payload)}; {_REBUILD}")
    for key, kind in (("model_config", dict), ("state_dict", dict), ("metadata", dict)):
        if key not in payload:
            raise ValueError(f"{path} lacks the entry {key!r} of a Pose-NDF checkpoint (damaged?); {_REBUILD}")
        if not isinstance(payload[key], kind):
            raise ValueError(f"{path}: the entry {key!r} is a {type(payload[key]).__name__}, expected a dict; {_REBUILD}")
    return payload


def _config_from_dict(values: dict, path: Path) -> PoseNDFModelConfig:
    known = set(PoseNDFModelConfig.__dataclass_fields__)
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"{path}: model_config has fields this version does not know: {sorted(unknown)}")
    try:
        return PoseNDFModelConfig(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: model_config is not a valid PoseNDFModelConfig: {exc}; {_REBUILD}") from exc


def load_state_checked(model: PoseNDF, state_dict: dict, source: str) -> None:
    """``load_state_dict(strict=True)`` with an error that names what does not match.

    Raises:
        TypeError: ``model`` is not a :class:`PoseNDF`, ``state_dict`` not a dict of tensors.
        ValueError: missing or unexpected keys, or tensors of the wrong shape.
    """
    if not isinstance(model, PoseNDF):
        raise TypeError(f"model must be a PoseNDF; got {type(model).__name__}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict of {source} must be a dict of tensors; got {type(state_dict).__name__}")
    not_tensors = sorted(str(k) for k, v in state_dict.items() if not isinstance(v, Tensor))
    if not_tensors:
        raise TypeError(f"state_dict of {source} must hold tensors; these entries are not: {not_tensors[:8]}")
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [
        f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state_dict))
        if tuple(state_dict[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        raise ValueError(
            f"{source} does not match the Pose-NDF architecture: missing keys {missing}, "
            f"unexpected keys {unexpected}, shape mismatches {shapes}"
        )
    model.load_state_dict(state_dict, strict=True)


def load_posendf(
    path: str | Path | None = None,
    device: str | torch.device = "cpu",
    config: PoseNDFModelConfig | None = None,
) -> PoseNDF:
    """Load a trained Pose-NDF.

    Args:
        path: checkpoint file; ``None`` = the user's own (``HUMANLIB_PRIORS_DIR``, see
            :func:`humanlib.paths.user_prior_file`) when set, else the committed open checkpoint
            (``humanlib/assets/priors/posendf_open.pt``).
        device: where to put the model.
        config: when given, the architecture the caller expects; a checkpoint built with
            another one is refused (``ValueError`` naming the differing fields).

    Returns:
        the model in eval mode, with ``model.metadata`` holding the checkpoint's metadata.

    Raises:
        TypeError: ``path``, ``device`` or ``config`` of the wrong type.
        FileNotFoundError: the checkpoint does not exist.
        ValueError: an unknown device (or CUDA without a GPU); a file that is corrupt, of
            another model (a VPoser checkpoint, a released Pose-NDF one), or of another
            architecture than ``config`` (see :func:`read_checkpoint`).
    """
    if config is not None and not isinstance(config, PoseNDFModelConfig):
        raise TypeError(f"config must be a PoseNDFModelConfig or None; got {type(config).__name__}")
    device = resolve_device(device)
    if path is None:
        path = user_prior_file("posendf") or asset(DEFAULT_CHECKPOINT)
    else:
        path = _as_path(path, "path")
    payload = read_checkpoint(path)
    stored = _config_from_dict(payload["model_config"], path)
    if config is not None and asdict(config) != asdict(stored):
        diff = {k: (v, asdict(config)[k]) for k, v in asdict(stored).items() if asdict(config)[k] != v}
        raise ValueError(f"{path} was trained with another architecture; differing fields (checkpoint, expected): {diff}")
    model = PoseNDF(stored)
    load_state_checked(model, payload["state_dict"], str(path))
    model.metadata = payload["metadata"]
    return model.to(device).eval()
