"""Figures of the VPoser chapter: rows of bodies and latent-interpolation sliders.

Built on the light mesh helpers of :mod:`humanlib.bodyplot` (decimated meshes, coordinates
rounded to the millimetre), so that a page with many bodies stays small.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from humanlib import bodyplot
from humanlib._validate import check_positive


def _as_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _vertices(vertices: object, decimation: object, what: str, min_count: int) -> np.ndarray:
    """Check ``vertices`` ``(B, V, 3)`` (tensor or array) against ``decimation``; return a numpy array."""
    if not isinstance(decimation, bodyplot.Decimation):
        raise TypeError(f"decimation must be a humanlib.bodyplot.Decimation (from bodyplot.decimate); "
                        f"got {type(decimation).__name__}")
    if isinstance(vertices, torch.Tensor) and vertices.device.type == "meta":
        raise ValueError("vertices is on the meta device and holds no values to draw")
    if not isinstance(vertices, (torch.Tensor, np.ndarray)):
        raise TypeError(f"vertices must be a torch.Tensor or numpy array of shape {what}; got {type(vertices).__name__}")
    v = _as_numpy(vertices)
    if v.ndim != 3 or v.shape[-1] != 3 or v.shape[0] < min_count:
        lead = what[1]
        raise ValueError(f"vertices must be {what} with {lead} >= {min_count}, got {v.shape}")
    if not np.issubdtype(v.dtype, np.number):
        raise ValueError(f"vertices must be numeric, got dtype {v.dtype}")
    if not np.isfinite(v).all():
        raise ValueError(f"vertices contain {int((~np.isfinite(v)).sum())} non-finite value(s) (NaN or inf)")
    needed = int(decimation.vertex_index.max()) + 1 if decimation.vertex_index.size else 0
    if v.shape[1] < needed:
        raise ValueError(f"vertices have {v.shape[1]} vertices per body but the decimation indexes vertex "
                         f"{needed - 1}: decimate the same mesh the vertices come from")
    return v


def bodies_row(
    vertices: torch.Tensor,
    decimation: bodyplot.Decimation,
    colors: list[str] | None = None,
    spacing: float = 1.0,
    title: str = "",
    height: int = 380,
    names: list[str] | None = None,
) -> go.Figure:
    """Several posed bodies side by side (the first on the viewer's left).

    Args:
        vertices: ``(B, V, 3)`` posed vertices (SMPL frame, Y up, metres).
        decimation: From :func:`humanlib.bodyplot.decimate` on the same mesh.
        colors: One CSS colour per body (default: bodyplot's skin colour).
        spacing: Distance between neighbouring bodies (metres).
        title: Figure title.
        height: Figure height in pixels.
        names: One legend entry per body (default: ``body 1``, ``body 2``, ...).

    Raises:
        ValueError: ``vertices`` not a finite ``(B, V, 3)`` tensor / array with
            ``B >= 1`` matching ``decimation``; one colour or name per body not given as strings;
            a non-finite ``spacing``; a ``height`` that is not a positive int
            (``TypeError`` for an argument of the wrong type).
    """
    v = _vertices(vertices, decimation, "(B, V, 3)", 1)
    if colors is not None:
        if isinstance(colors, str) or not all(isinstance(c, str) for c in colors):
            raise TypeError(f"colors must be a list of CSS colour strings, one per body; got {colors!r}")
        if len(colors) != v.shape[0]:
            raise ValueError(f"{len(colors)} colours for {v.shape[0]} bodies")
    if names is not None:
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"names must be a list of strings, one per body; got {names!r}")
        if len(names) != v.shape[0]:
            raise ValueError(f"{len(names)} names for {v.shape[0]} bodies")
    if isinstance(spacing, bool) or not isinstance(spacing, (int, float)) or not np.isfinite(spacing):
        raise ValueError(f"spacing must be a finite number of metres, got {spacing!r}")
    check_positive(height, "height", integer=True)
    shift = np.array([1.0, 0.0, 0.0]) * spacing
    traces = [bodyplot.mesh_trace(v[b] + b * shift, decimation, color=colors[b] if colors else None,
                                  name=names[b] if names else f"body {b + 1}") for b in range(v.shape[0])]
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

    Raises:
        ValueError: ``vertices`` not a finite ``(T, V, 3)`` tensor / array with
            ``T >= 2`` matching ``decimation``; ``title`` / ``label`` not strings
            (``TypeError`` for an argument of the wrong type).
    """
    v = _vertices(vertices, decimation, "(T, V, 3)", 2)
    for name, text in (("title", title), ("label", label)):
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a str; got {type(text).__name__}")
    steps = [(f"{t / (v.shape[0] - 1):.2f}", v[t]) for t in range(v.shape[0])]
    return bodyplot.slider_figure(steps, decimation, title=title, label=label)
