"""VPoser checkpoints: writing, reading and checking them.

Checkpoints are plain dictionaries ``{"format", "format_version", "config", "state_dict",
"metadata"}`` of tensors and plain Python values, read with ``torch.load(weights_only=True)`` and
checked key by key (:func:`load_vposer`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

import torch

from humanlib._validate import check_file, check_output_file, resolve_device
from humanlib.paths import ASSETS_DIR, user_prior_file
from humanlib.priors.training import save_atomically
from humanlib.priors.vposer_model import VPoser, VPoserConfig, _check_vposer

CHECKPOINT_FORMAT = "humanlib.vposer"
CHECKPOINT_FORMAT_VERSION = 1
#: The committed checkpoint: trained by humanlib on the open corpus. It is NOT the licensed
#: VPoser release of the SMPL-X authors (different data, different body model).
OPEN_CHECKPOINT_NAME = "priors/vposer_open.pt"


def _is_plain(value: object) -> bool:
    """Plain values that ``torch.load(weights_only=True)`` reads back: numbers, strings, lists, dicts."""
    # exact types: numpy's float64 subclasses float but is pickled as a numpy object weights_only refuses
    if value is None or type(value) in (bool, int, float, str):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _is_plain(v) for k, v in value.items())
    return isinstance(value, torch.Tensor)


def _check_metadata(metadata: object, name: str = "metadata") -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise TypeError(f"{name} must be a dict of plain values; got {type(metadata).__name__}")
    bad = sorted(str(k) for k, v in metadata.items() if not _is_plain(v))
    if bad or not all(isinstance(k, str) for k in metadata):
        raise TypeError(f"{name} must hold plain values only (None, bool, int, float, str, lists, dicts, "
                        f"tensors; string keys), or the checkpoint cannot be read back with "
                        f"weights_only=True; offending entries: {bad or 'non-string keys'}")



# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def vposer_checkpoint(model: VPoser, metadata: dict | None = None) -> dict:
    """The checkpoint dictionary of ``model`` (float32 CPU tensors and plain values).

    Raises:
        TypeError: ``model`` is not a :class:`~humanlib.priors.vposer_model.VPoser`, or ``metadata`` holds values that
            ``torch.load(weights_only=True)`` could not read back (paths, numpy arrays, objects).
    """
    _check_vposer(model)
    _check_metadata(metadata)
    # copy=True: the checkpoint never shares memory with the model (editing one leaves the other alone)
    state = {k: v.detach().to("cpu", torch.float32, copy=True) if v.is_floating_point() else v.detach().to("cpu", copy=True)
             for k, v in model.state_dict().items()}
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "config": asdict(model.config),
        "state_dict": state,
        "metadata": dict(metadata or {}),
    }


def save_vposer(model: VPoser, path: str | Path, metadata: dict | None = None) -> Path:
    """Write ``model`` as a checkpoint readable by :func:`load_vposer` (``metadata``: plain values only).

    Raises:
        TypeError: as :func:`vposer_checkpoint`, or ``path`` is not a path.
        IsADirectoryError: ``path`` is a folder.
    """
    path = check_output_file(path, "path", "the VPoser checkpoint", example="vposer.pt", create_parent=True)
    return save_atomically(vposer_checkpoint(model, metadata), path)  # an interrupted save never leaves a half-written file


def read_checkpoint_file(path: str | Path) -> dict:
    """``torch.load(path, weights_only=True)`` with errors that name the file and the reason.

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: no file at ``path`` (or a folder).
        ValueError: a corrupt or truncated file, one that needs unsafe unpickling (arbitrary
            objects, e.g. a PyTorch Lightning checkpoint), or one that holds no dictionary.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
    path = check_file(path, "checkpoint", _RETRAIN)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt zip, truncated file, disallowed pickle globals, ...
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # torch's message may hold terminal colour codes
        reason = f"{type(exc).__name__}: " + (re.split(r"(?<=failed)\.|\n", text)[0] if text else "no message")
        is_zip = zipfile.is_zipfile(path)
        if is_zip and _is_npz(path):
            raise ValueError(f"{path} is not a torch checkpoint but a numpy .npz archive (a GMM file? load it with "
                             f"humanlib.priors.gmm.load_gmm); {_RETRAIN}") from exc
        if is_zip and ("weights_only" in text.lower() or "weights only" in text.lower() or "Unsupported global" in text):
            what = ("it stores Python objects that weights_only loading refuses (a checkpoint of other "
                    "software, e.g. a PyTorch Lightning or human_body_prior file?)")
        else:
            what = "the file is corrupt or truncated (an interrupted copy or download?), or not a torch checkpoint"
        raise ValueError(f"{path} is not a readable torch checkpoint ({reason}); {what}; {_RETRAIN}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a {type(data).__name__}, expected a checkpoint dictionary; {_RETRAIN}")
    return data


def _is_npz(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return bool(names) and all(n.endswith(".npy") for n in names)


_RETRAIN = "write a VPoser checkpoint with `humanlib train-vposer --out DIR` (then use DIR/best.pt) or save_vposer"


def _foreign_checkpoint(data: dict, source: str) -> str | None:
    """A message for a checkpoint of something other than a humanlib VPoser, or None."""
    fmt = data.get("format")
    if isinstance(fmt, str) and "posendf" in fmt.lower():
        return (f"{source} is a Pose-NDF checkpoint (format {fmt!r}), not a VPoser one; load it with "
                f"humanlib.priors.posendf.load_posendf. For a VPoser checkpoint, {_RETRAIN}")
    if fmt == "humanlib.vposer-training":
        model = data.get("model")
        hint = "its 'model' entry is a VPoser checkpoint: vposer_from_checkpoint(data['model'])" if isinstance(model, dict) else ""
        return (f"{source} is a VPoser training state (last.pt of `humanlib train-vposer`), not a model "
                f"checkpoint; load best.pt from the same folder instead" + (f" ({hint})" if hint else ""))
    if "format" in data:
        return None
    keys = [str(k) for k in data]
    if "pytorch-lightning_version" in data or any(k.startswith("vp_model.") for k in keys) or any(
            isinstance(k, str) and k.startswith("vp_model.") for k in (data.get("state_dict") or {})):
        return (f"{source} looks like a VPoser v2 release checkpoint of human_body_prior (PyTorch Lightning "
                "layout); humanlib does not read that format or those licensed weights. Train humanlib's "
                f"own VPoser: {_RETRAIN}")
    if data and all(isinstance(v, torch.Tensor) for v in data.values()):
        ours = set(VPoser(VPoserConfig(hidden=1, latent_dim=1)).state_dict())  # key names only
        if set(keys) == ours:
            return (f"{source} is a bare VPoser state dict without its config, not a humanlib VPoser "
                    "checkpoint; load it with "
                    "model = VPoser(config); model.load_state_dict(torch.load(path)), then write a "
                    "checkpoint with save_vposer(model, path)")
        layout = (" (the key names of a human_body_prior VPoser v1/v2 snapshot)"
                  if any(k.startswith(("bodyprior_", "encoder_net", "decoder_net")) for k in keys) else "")
        return (f"{source} is a bare state dict{layout}, not a humanlib VPoser checkpoint (found keys "
                f"{sorted(keys)[:4]}...); humanlib reads only checkpoints written by save_vposer: {_RETRAIN}")
    return None


def vposer_from_checkpoint(data: dict, source: str = "checkpoint") -> tuple[VPoser, dict]:
    """Build a VPoser from a checkpoint dictionary, checking every key and shape.

    Returns:
        ``(model, metadata)``; the model is in eval mode.

    Raises:
        TypeError: ``data`` is not a dictionary.
        ValueError: Naming the missing / unexpected entries, config fields, tensor shapes, or
            non-finite weights; a checkpoint of another model (Pose-NDF, a training state, a bare
            or human_body_prior state dict) is named as such, with what to load instead.
    """
    if not isinstance(data, dict):
        raise TypeError(f"{source}: a checkpoint must be a dict (see read_checkpoint_file); got {type(data).__name__}")
    foreign = _foreign_checkpoint(data, source)
    if foreign:
        raise ValueError(foreign)
    required = {"format", "format_version", "config", "state_dict", "metadata"}
    missing = sorted(required - set(data))
    if missing:
        raise ValueError(
            f"{source} is not a humanlib VPoser checkpoint: missing entries {missing} "
            f"(found {sorted(map(str, data))[:8]}); {_RETRAIN}"
        )
    if data["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"{source} has format {data['format']!r}, expected {CHECKPOINT_FORMAT!r}")
    if data["format_version"] != CHECKPOINT_FORMAT_VERSION:
        raise ValueError(f"{source} has format_version {data['format_version']!r}, this code reads {CHECKPOINT_FORMAT_VERSION}")
    cfg = data["config"]
    known = {f.name for f in fields(VPoserConfig)}
    if not isinstance(cfg, dict) or set(cfg) != known:
        got = sorted(cfg) if isinstance(cfg, dict) else type(cfg).__name__
        raise ValueError(f"{source}: config fields {got} do not match VPoserConfig fields {sorted(known)}")
    try:
        model = VPoser(VPoserConfig(**cfg))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: invalid config {cfg}: {exc}") from exc
    expected = model.state_dict()
    state = data["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{source}: state_dict is a {type(state).__name__}, expected a dict of tensors")
    problems = []
    if sorted(set(expected) - set(state)):
        problems.append(f"missing keys {sorted(set(expected) - set(state))}")
    if sorted(set(state) - set(expected)):
        problems.append(f"unexpected keys {sorted(set(state) - set(expected))}")
    for key in sorted(set(expected) & set(state)):
        value = state[key]
        if not isinstance(value, torch.Tensor):
            problems.append(f"{key} is a {type(value).__name__}, not a tensor")
        elif value.shape != expected[key].shape:
            problems.append(f"{key} has shape {tuple(value.shape)}, the architecture expects {tuple(expected[key].shape)}")
    if problems:
        raise ValueError(f"{source} does not match the VPoser architecture {cfg}: " + "; ".join(problems))
    bad = sorted(k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all()))
    if bad:
        raise ValueError(f"{source}: weights {bad[:4]} hold NaN or inf (the training run diverged?); "
                         "retrain with a lower learning rate (`humanlib train-vposer --lr ...`)")
    if not isinstance(data["metadata"], dict):
        raise ValueError(f"{source}: metadata is a {type(data['metadata']).__name__}, expected a dict")
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, dict(data["metadata"])


def load_vposer(path: str | Path | None = None, device: str | torch.device = "cpu") -> VPoser:
    """Load a VPoser checkpoint (``None``: the committed open checkpoint ``vposer_open.pt``, or
    the user's own ``vposer/best.pt`` when ``HUMANLIB_PRIORS_DIR`` is set, see
    :func:`humanlib.paths.user_prior_file`).

    The file is read with ``torch.load(weights_only=True)``; keys and shapes must match exactly.
    The returned model is in eval mode; its training metadata is in ``model.metadata``.

    Raises:
        FileNotFoundError: No file at ``path``.
        ValueError: A corrupt file or a checkpoint of another architecture or model (the message
            names what mismatched and what to load instead); an unknown or unavailable ``device``.
    """
    resolve_device(device)
    if path is not None and not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str, Path or None; got {type(path).__name__}")
    if path is None:
        path = user_prior_file("vposer") or ASSETS_DIR / OPEN_CHECKPOINT_NAME
    path = Path(path)
    if not path.is_file() and path == ASSETS_DIR / OPEN_CHECKPOINT_NAME:
        raise FileNotFoundError(
            f"the committed VPoser checkpoint is missing ({path}); train one with "
            "`humanlib train-vposer --out DIR` and pass DIR/best.pt"
        )
    model, metadata = vposer_from_checkpoint(read_checkpoint_file(path), source=str(path))
    model.metadata = metadata
    return model.to(device)
