"""Light plotly figures of body meshes for the SMPL chapter.

A full open-model mesh (13,718 vertices, 27,420 triangles) is about 1 MB of figure JSON;
these helpers draw a decimated copy (vertex clustering) and round coordinates to the
millimetre, so that a figure with a slider of several precomputed steps stays small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.basedatatypes import BaseTraceType

from humanlib._validate import check_positive, format_shape, shape_matches
from humanlib.skeleton import PARENTS


@dataclass
class Decimation:
    """A decimated mesh: which full-mesh vertex stands for each kept vertex, and the kept faces."""

    vertex_index: np.ndarray  #: (v,) index into the full mesh of each kept vertex
    faces: np.ndarray  #: (f, 3) faces over the kept vertices


def _values(x, name: str, shape: tuple, hint: str = "") -> np.ndarray:
    """``x`` (tensor, array or nested list) as a finite float64 array of ``shape`` (None: any size)."""
    if isinstance(x, torch.Tensor):
        if x.device.type == "meta":
            raise ValueError(f"{name} is a meta tensor: it has no values to draw")
        x = x.detach().cpu().numpy()
    elif not isinstance(x, (np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a tensor or array of shape {format_shape(shape)}; got {type(x).__name__}")
    try:
        a = np.asarray(x)
    except ValueError:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of shape {format_shape(shape)}") from None
    if not shape_matches(a.shape, shape):
        raise ValueError(f"{name} must have shape {format_shape(shape)}; got {a.shape}" + (f". {hint}" if hint else ""))
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{name} must hold numbers; got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains {int((~np.isfinite(a)).sum())} NaN or infinite value(s); a figure cannot place them")
    return a


def _check_decimation(decimation: object, num_vertices: int, what: str) -> None:
    if not isinstance(decimation, Decimation):
        raise TypeError(f"decimation must be a Decimation from bodyplot.decimate; got {type(decimation).__name__}")
    if len(decimation.vertex_index) and int(np.max(decimation.vertex_index)) >= num_vertices:
        raise ValueError(f"{what} has {num_vertices} vertices but the decimation picks vertex "
                         f"{int(np.max(decimation.vertex_index))}: it was made from another mesh")


def decimate(vertices: np.ndarray | torch.Tensor, faces: np.ndarray | torch.Tensor, cell: float = 0.02) -> Decimation:
    """Vertex clustering: one vertex per occupied grid cell of side ``cell`` (metres).

    Args:
        vertices: (V, 3) reference mesh (e.g. the template).
        faces: (F, 3) triangles.
        cell: grid size; 0.02 keeps about 2,500 of the open model's vertices.

    Returns:
        :class:`Decimation` usable on any posed copy of the same mesh.

    Raises:
        TypeError: an argument of the wrong kind.
        ValueError: wrong shapes, no vertex, NaN / inf coordinates, faces that are not integer
            indices into the vertices, or ``cell`` not a positive number.
    """
    v = _values(vertices, "vertices", (None, 3), "Give one mesh, not a batch (vertices[0]).")
    if len(v) == 0:
        raise ValueError("vertices is empty; decimate needs a mesh")
    if isinstance(faces, torch.Tensor):
        faces = faces.detach().cpu().numpy()
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"faces must have shape (F, 3) (vertex indices of triangles); got {f.shape}")
    if f.size and not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"faces must hold integer vertex indices; got dtype {f.dtype}")
    f = f.astype(np.int64)
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError(f"faces index vertices in [{f.min()}, {f.max()}] but there are {len(v)} vertices")
    check_positive(cell, "cell")
    keys = np.floor(v / cell).astype(np.int64)
    _, cluster = np.unique(keys, axis=0, return_inverse=True)
    cluster = cluster.reshape(-1)
    # the representative of a cluster: its vertex closest to the cluster's mean
    count = np.bincount(cluster)
    mean = np.stack([np.bincount(cluster, v[:, c]) for c in range(3)], 1) / count[:, None]
    dist = np.linalg.norm(v - mean[cluster], axis=1)
    order = np.lexsort((dist, cluster))
    first = order[np.r_[True, cluster[order][1:] != cluster[order][:-1]]]
    new_faces = cluster[f]
    a, b, c = new_faces.T
    new_faces = new_faces[(a != b) & (b != c) & (a != c)]  # collapsed triangles go
    _, unique = np.unique(np.sort(new_faces, axis=1), axis=0, return_index=True)
    new_faces = new_faces[np.sort(unique)]  # so do duplicates, keeping their winding
    return Decimation(vertex_index=first, faces=new_faces)


def _np(x) -> np.ndarray:
    """float64 numpy (float32 values would print with spurious digits in the figure JSON)."""
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return x.astype(np.float64) if x.dtype.kind == "f" else x


def mesh_trace(vertices, decimation: Decimation, color=None, colorscale: str = "Viridis",
               opacity: float = 1.0, name: str = "mesh", cmin=None, cmax=None, showscale: bool = False) -> go.Mesh3d:
    """A plotly ``Mesh3d`` of the decimated mesh; ``color`` a (V,) full-mesh scalar or a CSS colour.

    Raises:
        TypeError: ``decimation`` is not a :class:`Decimation`, or an argument of the wrong kind.
        ValueError: ``vertices`` not (V, 3) or not finite, a decimation of another mesh, ``color``
            of another length, ``opacity`` outside [0, 1].
    """
    full = _values(vertices, "vertices", (None, 3), "Give one mesh, not a batch (vertices[0]).")
    _check_decimation(decimation, len(full), "vertices")
    if isinstance(opacity, bool) or not isinstance(opacity, (int, float)) or not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be a number in [0, 1]; got {opacity!r}")
    if color is not None and not isinstance(color, str):
        color = _values(color, "color", (len(full),), "One scalar per full-mesh vertex, or a CSS colour name.")
    v = np.round(full[decimation.vertex_index], 3).astype(np.float32)
    f = decimation.faces.astype(np.uint16 if decimation.faces.max(initial=0) < 2**16 else np.int32)  # smaller JSON
    kwargs = dict(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=f[:, 0], j=f[:, 1], k=f[:, 2], opacity=opacity, name=name,
                  flatshading=False, lighting=dict(ambient=0.5, diffuse=0.8, specular=0.1), hoverinfo="skip")
    if color is None or isinstance(color, str):
        kwargs["color"] = color or "#c8b7a6"
    else:
        kwargs.update(intensity=np.round(_np(color)[decimation.vertex_index], 3).astype(np.float32), colorscale=colorscale,
                      showscale=showscale, cmin=cmin, cmax=cmax)
    return go.Mesh3d(**kwargs)


def _joints(joints, parents) -> np.ndarray:
    """(J, 3) finite joints with at least one row per entry of ``parents`` (valid indices)."""
    j = _values(joints, "joints", (None, 3), "Give one skeleton, not a batch (joints[0]).")
    if isinstance(parents, (str, bytes)) or not hasattr(parents, "__len__"):
        raise TypeError(f"parents must be a sequence of ints (-1 for the root); got {type(parents).__name__}")
    if len(j) < len(parents):
        raise ValueError(f"joints has {len(j)} rows but parents names {len(parents)} joints")
    for k, p in enumerate(parents):
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            raise TypeError(f"parents[{k}] must be an int; got {p!r}")
        if not -1 <= p < len(parents):
            raise ValueError(f"parents[{k}] is {p}; a parent is -1 (root) or a joint index below {len(parents)}")
    return j


def bone_polyline(joints, parents: tuple[int, ...] = PARENTS, offset=(0.0, 0.0, 0.0)) -> tuple[list, list, list]:
    """Coordinates drawing every bone (parent to joint) as one plotly line, ``None`` between bones.

    Args:
        joints: (J, 3) joint positions (tensor or array), in SMPL's axes.
        parents: parent of each joint, -1 for the root.
        offset: (3,) added to every joint (to place several skeletons side by side).

    Returns:
        x, y, z lists (floats, ``None`` breaks) in the axes of ``joints``; a caller that plots
        with another axis up reorders the three lists.

    Raises:
        TypeError: ``parents`` is not a sequence of ints.
        ValueError: ``joints`` not (J, 3) with a row per parent, NaN / inf values, a parent index
            outside the joints, or ``offset`` not 3 numbers.
    """
    j = _joints(joints, parents) + _values(offset, "offset", (3,))
    xs, ys, zs = [], [], []
    for k, p in enumerate(parents):
        if p >= 0:
            xs += [float(j[p, 0]), float(j[k, 0]), None]
            ys += [float(j[p, 1]), float(j[k, 1]), None]
            zs += [float(j[p, 2]), float(j[k, 2]), None]
    return xs, ys, zs


def skeleton_trace(joints, parents: tuple[int, ...] = PARENTS, color: str = "crimson", name: str = "skeleton") -> go.Scatter3d:
    """Joints as markers and bones (joint to parent) as lines.

    Raises:
        TypeError, ValueError: as :func:`bone_polyline`.
    """
    xs, ys, zs = bone_polyline(np.round(_joints(joints, parents), 4), parents)
    lines = go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", line=dict(color=color, width=5), name=name, hoverinfo="skip")
    return lines


def joint_marker_trace(joints, labels=None, color: str = "crimson", name: str = "joints") -> go.Scatter3d:
    """Joints as markers, with hover ``labels`` (one per joint) when given.

    Raises:
        TypeError: ``labels`` is not a sequence.
        ValueError: ``joints`` not (J, 3) or not finite, or ``labels`` of another length.
    """
    j = np.round(_values(joints, "joints", (None, 3), "Give one skeleton, not a batch (joints[0])."), 4)
    if labels is not None:
        if isinstance(labels, str) or not hasattr(labels, "__len__"):
            raise TypeError(f"labels must be a sequence of {len(j)} strings; got {type(labels).__name__}")
        if len(labels) != len(j):
            raise ValueError(f"labels has {len(labels)} entries for {len(j)} joints")
        labels = [str(label) for label in labels]
    return go.Scatter3d(x=j[:, 0], y=j[:, 1], z=j[:, 2], mode="markers", marker=dict(size=4, color=color),
                        text=labels, hoverinfo="text" if labels is not None else "skip", name=name)


def _traces(traces, name: str) -> list:
    if isinstance(traces, BaseTraceType):
        return [traces]
    if not isinstance(traces, (list, tuple)):
        raise TypeError(f"{name} must be a list of plotly traces (mesh_trace, skeleton_trace...); got {type(traces).__name__}")
    for i, t in enumerate(traces):
        if not isinstance(t, BaseTraceType):
            raise TypeError(f"{name}[{i}] must be a plotly trace (mesh_trace, skeleton_trace...); got {type(t).__name__}")
    return list(traces)


#: tan of half of plotly's vertical field of view (45 degrees) in a 3D scene.
_TAN_HALF_FOV = math.tan(math.radians(22.5))
#: Width (px) a figure is framed for: the book's text column on a laptop. The book's script
#: (book/_ext/static/humanlib-book.js) moves the camera back on a narrower screen.
FRAME_WIDTH = 760
#: Bottom margin (px) that holds a slider, its current value and its step labels.
SLIDER_MARGIN = 100
#: Share of the view the scene box may fill (the rest is margin).
_FILL = 0.9


def _trace_points(traces) -> np.ndarray:
    """(n, 3) coordinates of every point of the 3D traces (line breaks dropped)."""
    blocks = []
    for t in traces:
        if getattr(t, "x", None) is None or getattr(t, "z", None) is None:
            continue
        xyz = [np.array([np.nan if v is None else v for v in np.asarray(getattr(t, c), dtype=object).ravel()], dtype=float)
               for c in "xyz"]
        if len({len(c) for c in xyz}) == 1 and len(xyz[0]):
            blocks.append(np.stack(xyz, 1))
    if not blocks:
        return np.zeros((0, 3))
    points = np.concatenate(blocks)
    return points[np.isfinite(points).all(1)]


def frame_scene(fig: go.Figure, points, eye=(0.0, 0.3, 2.2), pad: float = 0.05,
                width: int = FRAME_WIDTH) -> go.Figure:
    """Fix one range per axis holding ``points`` and a camera that sees the whole box.

    Every body of a figure, on every slider step or animation frame, is drawn in the same box
    with the same camera: bodies side by side keep their relative size, and no step zooms.
    The camera looks from direction ``eye`` (its length is not used) and stands as far back as
    the box needs in a figure ``width`` pixels wide and ``fig.layout.height`` high.

    Args:
        fig: a figure with one 3D scene (``scene``).
        points: ``(n, 3)`` every point the figure will ever show (tensor or array).
        eye: direction of the camera from the centre of the box.
        pad: margin added around the points on every side (metres).
        width: the figure width the camera is fitted to (pixels).

    Returns:
        ``fig``, updated in place.

    Raises:
        ValueError: no point, non-finite points, ``eye`` of length zero, negative ``pad``.
    """
    p = _values(points, "points", (None, 3), "All points of the figure, stacked.")
    if len(p) == 0:
        raise ValueError("points is empty; frame_scene needs the points the figure shows")
    direction = _values(eye, "eye", (3,))
    if not np.linalg.norm(direction) > 0:
        raise ValueError("eye must be a non-zero direction")
    check_positive(pad, "pad", allow_zero=True)
    lo, hi = p.min(0) - pad, p.max(0) + pad
    size = np.maximum(hi - lo, 1e-3)
    aspect = size / size.max()  # plotly draws the box as aspect * [-1/2, 1/2] per axis
    height = fig.layout.height or 520
    margin = fig.layout.margin
    plot_h = max(50.0, height - (margin.t or 0) - (margin.b or 0))
    ratio = width / plot_h
    # distance along the view direction at which the box's front face fits the view
    unit = direction / np.linalg.norm(direction)
    half_w, half_h, half_d = aspect[0] / 2, aspect[1] / 2, aspect[2] / 2
    distance = half_d + max(half_h, half_w / ratio) / (_TAN_HALF_FOV * _FILL)
    e = unit * distance
    fig.update_layout(scene=dict(
        aspectmode="manual", aspectratio=dict(x=float(aspect[0]), y=float(aspect[1]), z=float(aspect[2])),
        xaxis=dict(range=[float(lo[0]), float(hi[0])], autorange=False),
        yaxis=dict(range=[float(lo[1]), float(hi[1])], autorange=False),
        zaxis=dict(range=[float(lo[2]), float(hi[2])], autorange=False),
        camera=dict(up=dict(x=0, y=1, z=0), center=dict(x=0, y=0, z=0),
                    eye=dict(x=float(e[0]), y=float(e[1]), z=float(e[2])))))
    return fig


def body_figure(traces, title: str = "", height: int = 520, eye=(0.0, 0.3, 2.2)) -> go.Figure:
    """A figure with SMPL's frame shown upright (Y up, the body facing the viewer).

    The scene has fixed axis ranges around the traces and a camera from direction ``eye`` far
    enough back to show all of them (:func:`frame_scene`); with several traces, a legend below
    the scene names each one.

    Raises:
        TypeError: ``traces`` is not a list of plotly traces.
        ValueError: ``height`` not a positive number, ``eye`` not 3 finite numbers.
    """
    traces = _traces(traces, "traces")
    check_positive(height, "height")
    eye = tuple(_values(eye, "eye", (3,)))
    several = len(traces) > 1
    if several:
        for t in traces:
            if t.showlegend is None:
                t.showlegend = True
    fig = go.Figure(traces)
    fig.update_layout(
        title=title, height=height, margin=dict(l=0, r=0, t=40, b=0), showlegend=several,
        legend=dict(orientation="h", x=0.5, xanchor="center", y=0.0, yanchor="top"),
        scene=dict(xaxis_visible=False, yaxis_visible=False, zaxis_visible=False),
    )
    points = _trace_points(traces)
    if len(points):
        frame_scene(fig, points, eye=eye)
    return fig


def slider_figure(steps: list[tuple[str, np.ndarray]], decimation: Decimation, title: str, label: str,
                  color=None, extra_traces=None) -> go.Figure:
    """One mesh whose vertices change with a slider; ``steps`` are (label, (V, 3) vertices) precomputed.

    The static book cannot run Python: each step's coordinates are stored in the figure and
    the slider only swaps them (``restyle``).

    Raises:
        TypeError: ``steps`` is not a list of (label, vertices) pairs, or a wrong ``decimation``.
        ValueError: no step, steps' vertices of different shapes or not finite, a decimation of
            another mesh.
    """
    if not isinstance(steps, (list, tuple)) or not all(isinstance(s, (list, tuple)) and len(s) == 2 for s in steps):
        raise TypeError("steps must be a list of (label, (V, 3) vertices) pairs")
    if not steps:
        raise ValueError("steps is empty; a slider needs at least one step")
    if not isinstance(label, str):
        raise TypeError(f"label must be a str (the slider's prefix); got {type(label).__name__}")
    meshes = [_values(v, f"steps[{i}] vertices", (None, 3), "Give one mesh per step.") for i, (_, v) in enumerate(steps)]
    for i, v in enumerate(meshes):
        if v.shape != meshes[0].shape:
            raise ValueError(f"steps[{i}] vertices have shape {v.shape} but steps[0] has {meshes[0].shape}")
    _check_decimation(decimation, len(meshes[0]), "steps' vertices")
    first = meshes[0]
    fig = body_figure([mesh_trace(first, decimation, color=color)] + _traces(list(extra_traces or []), "extra_traces"),
                      title=title, height=520 + SLIDER_MARGIN)
    fig.update_layout(margin=dict(b=SLIDER_MARGIN))  # the slider and its labels sit inside the figure
    # one box and one camera for every step: the body moves, the view does not
    everything = [m[decimation.vertex_index] for m in meshes] + [_trace_points(fig.data[1:])]
    frame_scene(fig, np.concatenate(everything))
    slider_steps = []
    for (name, _), verts in zip(steps, meshes):
        v = np.round(verts[decimation.vertex_index], 3)  # millimetres, written as short decimals
        xyz = {c: [v[:, i].tolist()] for i, c in enumerate("xyz")}
        slider_steps.append(dict(method="restyle", label=name, args=[xyz, [0]]))
    fig.update_layout(sliders=[dict(active=0, steps=slider_steps, currentvalue=dict(prefix=label + " = "),
                                   x=0.03, len=0.94, y=0.0, yanchor="top", pad=dict(t=10, b=0))])  # end labels inside
    return fig
