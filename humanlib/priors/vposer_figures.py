"""Figures of the VPoser chapter: rows of bodies and latent-interpolation sliders.

Built on the light mesh helpers of :mod:`humanlib.bodyplot` (decimated meshes, coordinates
rounded to the millimetre), so that a page with many bodies stays small.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from humanlib import bodyplot


def _as_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def bodies_row(
    vertices: torch.Tensor,
    decimation: bodyplot.Decimation,
    colors: list[str] | None = None,
    spacing: float = 1.0,
    title: str = "",
    height: int = 380,
) -> go.Figure:
    """Several posed bodies side by side (the first on the viewer's left).

    Args:
        vertices: ``(B, V, 3)`` posed vertices (SMPL frame, Y up, metres).
        decimation: From :func:`humanlib.bodyplot.decimate` on the same mesh.
        colors: One CSS colour per body (default: bodyplot's skin colour).
        spacing: Distance between neighbouring bodies (metres).
        title: Figure title.
        height: Figure height in pixels.
    """
    v = _as_numpy(vertices)
    if v.ndim != 3 or v.shape[-1] != 3:
        raise ValueError(f"vertices must be (B, V, 3), got {v.shape}")
    if colors is not None and len(colors) != v.shape[0]:
        raise ValueError(f"{len(colors)} colours for {v.shape[0]} bodies")
    shift = np.array([1.0, 0.0, 0.0]) * spacing
    traces = [bodyplot.mesh_trace(v[b] + b * shift, decimation, color=colors[b] if colors else None,
                                  name=f"body {b}") for b in range(v.shape[0])]
    return bodyplot.body_figure(traces, title=title, height=height, eye=(0.0, 0.2, 2.0))


def interpolation_figure(
    vertices: torch.Tensor, decimation: bodyplot.Decimation, title: str = "", label: str = "t"
) -> go.Figure:
    """One body moving along a latent path, with a slider (steps precomputed for the static book).

    Args:
        vertices: ``(T, V, 3)`` posed vertices, one per step of the path.
        decimation: From :func:`humanlib.bodyplot.decimate`.
        title: Figure title.
        label: Slider prefix.
    """
    v = _as_numpy(vertices)
    if v.ndim != 3 or v.shape[-1] != 3 or v.shape[0] < 2:
        raise ValueError(f"vertices must be (T, V, 3) with T >= 2, got {v.shape}")
    steps = [(f"{t / (v.shape[0] - 1):.2f}", v[t]) for t in range(v.shape[0])]
    return bodyplot.slider_figure(steps, decimation, title=title, label=label)
