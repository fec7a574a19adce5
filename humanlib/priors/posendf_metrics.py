r"""How well a Pose-NDF field fits its labels, and the training curves.

Errors per noise level and per distance band, and a whole-set evaluation.

:mod:`humanlib.priors.posendf_train` re-exports every name here.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import torch

from humanlib._validate import check_same_device, check_tensor
from humanlib.priors.posendf import PoseNDF, _as_path, _distance_and_gradient, _reference_tensor
from humanlib.priors.posendf_data import DistanceDataset, _check_int


def _check_dataset(data: object, name: str, num_joints: int | None = None) -> DistanceDataset:
    """A non-empty :class:`DistanceDataset` (of ``num_joints`` joints when given)."""
    if not isinstance(data, DistanceDataset):
        raise TypeError(f"{name} must be a DistanceDataset (see make_distance_dataset); got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError(f"{name} is empty (no samples)")
    if num_joints is not None and data.quats.shape[1] != num_joints:
        raise ValueError(f"{name} has poses of {data.quats.shape[1]} joints but the model has {num_joints}")
    return data


def _check_predictions(pred: object, data: object) -> None:
    """The checks of :func:`sigma_breakdown` and :func:`distance_breakdown`: one prediction per sample."""
    if not isinstance(data, DistanceDataset):
        raise TypeError(f"data must be a DistanceDataset; got {type(data).__name__}")
    check_tensor(pred, "pred", (len(data),), finite=False, hint="(one prediction per sample of data)")
    check_same_device(data.distance, "data", pred=pred)


def sigma_breakdown(pred: torch.Tensor, data: DistanceDataset) -> dict[str, float]:
    """Mean absolute error of ``pred`` per noise level of ``data`` (keys ``"0.01"``...).

    Raises:
        TypeError: ``pred`` is not a tensor, ``data`` not a :class:`DistanceDataset`.
        ValueError: ``pred`` is not ``(N,)`` for the N samples of ``data``, or on another device.
    """
    _check_predictions(pred, data)
    out = {}
    for s in torch.unique(data.sigma).tolist():
        mask = data.sigma == s
        out[f"{s:g}"] = float((pred[mask] - data.distance[mask]).abs().mean())
    return out


DISTANCE_BANDS = (0.0, 0.25, 0.5, 1.0, 2.0, math.inf)
"""Edges of the label bands of :func:`distance_breakdown` (talk distance)."""


def distance_breakdown(pred: torch.Tensor, data: DistanceDataset) -> dict[str, float]:
    """Mean absolute error of ``pred`` per band of the true distance (keys ``"0"``, ``"0-0.25"``, ...).

    The clean samples (``d = 0``) form the first band; the others are ``(lo, hi]`` of
    :data:`DISTANCE_BANDS`. Empty bands are left out. Unlike :func:`sigma_breakdown`, this is
    defined whatever noise made the samples, so fields trained on different noise compare on it.

    Raises:
        TypeError: ``pred`` is not a tensor, ``data`` not a :class:`DistanceDataset`.
        ValueError: ``pred`` is not ``(N,)`` for the N samples of ``data``, or on another device.
    """
    _check_predictions(pred, data)
    err, d = (pred - data.distance).abs(), data.distance
    out = {}
    if (d == 0).any():
        out["0"] = float(err[d == 0].mean())
    for lo, hi in zip(DISTANCE_BANDS[:-1], DISTANCE_BANDS[1:]):
        mask = (d > lo) & (d <= hi)
        if mask.any():
            out[f"{lo:g}-{hi:g}" if math.isfinite(hi) else f">{lo:g}"] = float(err[mask].mean())
    return out


def evaluate_field(model: PoseNDF, data: DistanceDataset, batch_size: int = 2048) -> dict:
    """Accuracy of ``f`` on a labelled set and its eikonal residual.

    Returns:
        dict with ``mae``, ``mae_by_sigma``, ``rel_error`` (mean ``|f - d| / d`` over
        ``d > 0``), ``grad_norm_mean`` and ``eikonal_residual`` (mean ``| ||grad f|| - 1 |``
        over ``d > 0``).

    Raises:
        TypeError: ``model`` is not a module, ``data`` not a :class:`DistanceDataset`,
            ``batch_size`` not an integer.
        ValueError: an empty ``data``, ``batch_size < 1``, poses of another joint count.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a PoseNDF (a torch.nn.Module); got {type(model).__name__}")
    _check_dataset(data, "data", model.config.num_joints if isinstance(model, PoseNDF) else None)
    _check_int(batch_size, "batch_size", 1)
    ref = _reference_tensor(model)
    device = ref.device if ref is not None else data.quats.device
    preds, norms = [], []
    for start in range(0, len(data), batch_size):
        f, grad = _distance_and_gradient(model, data.quats[start : start + batch_size].to(device))
        preds.append(f.detach().cpu())
        norms.append(grad.flatten(1).norm(dim=1).cpu())
    pred, norm = torch.cat(preds), torch.cat(norms)
    pos = data.distance > 0
    return {
        "mae": float((pred - data.distance).abs().mean()),
        "mae_by_sigma": sigma_breakdown(pred, data) if len(torch.unique(data.sigma)) <= 32 else {},
        "mae_by_distance": distance_breakdown(pred, data),
        "pred_mean": float(pred.mean()),
        "label_mean": float(data.distance.mean()),
        "rel_error": float(((pred - data.distance).abs()[pos] / data.distance[pos]).mean()) if pos.any() else float("nan"),
        "grad_norm_mean": float(norm[pos].mean()) if pos.any() else float("nan"),
        "eikonal_residual": float((norm[pos] - 1).abs().mean()) if pos.any() else float("nan"),
    }


def plot_history(history: list[dict], path: str | Path | None = None, title: str = ""):
    """Training curves: train losses and validation MAE per noise level against steps.

    Args:
        history: ``TrainResult.history`` (a non-empty list of dicts with ``step``,
            ``train_udf``, ``train_eikonal`` and optionally the validation entries).
        path: image file to write (its folder is created), or None.
        title: figure title.

    Raises:
        TypeError: ``history`` is not a list of dicts, ``path`` not a path, ``title`` not a str.
        ValueError: an empty history, rows without the entries above, ``path`` a folder or
            with an extension matplotlib cannot write.
    """
    import matplotlib.pyplot as plt

    if not isinstance(history, (list, tuple)) or not all(isinstance(r, dict) for r in history):
        raise TypeError(f"history must be a list of dicts (TrainResult.history); got {type(history).__name__}")
    if not history:
        raise ValueError("history is empty: nothing to plot (train for at least val_every steps)")
    for i, row in enumerate(history):
        lacking = sorted({"step", "train_udf", "train_eikonal"} - set(row))
        if lacking:
            raise ValueError(f"history[{i}] lacks {lacking}; pass TrainResult.history or the run's history.json")
        if "val_mae" in history[0] and not {"val_mae", "val_mae_by_sigma"} <= set(row):
            raise ValueError(f"history[{i}] lacks val_mae / val_mae_by_sigma that history[0] has")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str; got {type(title).__name__}")
    if path is not None:
        path = _as_path(path, "path")
        if path.is_dir():
            raise ValueError(f"path {path} is a folder; give an image file such as {path / 'curves.png'}")
        formats = plt.figure().canvas.get_supported_filetypes()
        plt.close()
        if path.suffix.lstrip(".").lower() not in formats:
            raise ValueError(f"path {path} has the extension {path.suffix!r}; use one of {sorted(formats)}")
        path.parent.mkdir(parents=True, exist_ok=True)
    steps = [r["step"] for r in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    axes[0].plot(steps, [r["train_udf"] for r in history], label="train $L_{UDF}$")
    axes[0].plot(steps, [r["train_eikonal"] for r in history], label="train $L_{eikonal}$")
    if history and "val_mae" in history[0]:
        axes[0].plot(steps, [r["val_mae"] for r in history], label="val MAE")
        for s in history[0]["val_mae_by_sigma"]:
            axes[1].plot(steps, [r["val_mae_by_sigma"][s] for r in history], label=f"σ = {s}")
        if not history[0]["val_mae_by_sigma"]:  # NRDF's distance noise has no levels: bands of the true distance
            bands = list(dict.fromkeys(b for r in history for b in r.get("val_mae_by_distance", {})))
            for b in bands:
                axes[1].plot(steps, [r.get("val_mae_by_distance", {}).get(b, math.nan) for r in history], label=f"d in {b}")
    for ax in axes:
        ax.set_xlabel("step")
        ax.set_yscale("log")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    axes[0].set_title("losses")
    by_level = bool(history[0].get("val_mae_by_sigma")) if history and "val_mae" in history[0] else True
    axes[1].set_title("validation |f − d| by noise level" if by_level else "validation |f − d| by band of the true distance d")
    if not axes[1].lines:
        axes[1].text(0.5, 0.5, "not recorded in this history", ha="center", va="center", transform=axes[1].transAxes)
    fig.suptitle(textwrap.fill(title, 150), fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
