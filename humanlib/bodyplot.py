"""Light plotly figures of body meshes for the SMPL chapter.

A full open-model mesh (13,718 vertices, 27,420 triangles) is about 1 MB of figure JSON;
these helpers draw a decimated copy (vertex clustering) and round coordinates to the
millimetre, so that a figure with a slider of several precomputed steps stays small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from humanlib.skeleton import PARENTS


@dataclass
class Decimation:
    """A decimated mesh: which full-mesh vertex stands for each kept vertex, and the kept faces."""

    vertex_index: np.ndarray  #: (v,) index into the full mesh of each kept vertex
    faces: np.ndarray  #: (f, 3) faces over the kept vertices


def decimate(vertices: np.ndarray | torch.Tensor, faces: np.ndarray | torch.Tensor, cell: float = 0.02) -> Decimation:
    """Vertex clustering: one vertex per occupied grid cell of side ``cell`` (metres).

    Args:
        vertices: (V, 3) reference mesh (e.g. the template).
        faces: (F, 3) triangles.
        cell: grid size; 0.02 keeps about 2,500 of the open model's vertices.

    Returns:
        :class:`Decimation` usable on any posed copy of the same mesh.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
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
    """A plotly ``Mesh3d`` of the decimated mesh; ``color`` a (V,) full-mesh scalar or a CSS colour."""
    v = np.round(_np(vertices)[decimation.vertex_index], 3).astype(np.float32)
    f = decimation.faces.astype(np.uint16 if decimation.faces.max() < 2**16 else np.int32)  # smaller JSON
    kwargs = dict(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=f[:, 0], j=f[:, 1], k=f[:, 2], opacity=opacity, name=name,
                  flatshading=False, lighting=dict(ambient=0.5, diffuse=0.8, specular=0.1), hoverinfo="skip")
    if color is None or isinstance(color, str):
        kwargs["color"] = color or "#c8b7a6"
    else:
        kwargs.update(intensity=np.round(_np(color)[decimation.vertex_index], 3).astype(np.float32), colorscale=colorscale,
                      showscale=showscale, cmin=cmin, cmax=cmax)
    return go.Mesh3d(**kwargs)


def bone_polyline(joints, parents: tuple[int, ...] = PARENTS, offset=(0.0, 0.0, 0.0)) -> tuple[list, list, list]:
    """Coordinates drawing every bone (parent to joint) as one plotly line, ``None`` between bones.

    Args:
        joints: (J, 3) joint positions (tensor or array), in SMPL's axes.
        parents: parent of each joint, -1 for the root.
        offset: (3,) added to every joint (to place several skeletons side by side).

    Returns:
        x, y, z lists (floats, ``None`` breaks) in the axes of ``joints``; a caller that plots
        with another axis up reorders the three lists.
    """
    j = _np(joints) + np.asarray(offset, dtype=np.float64)
    xs, ys, zs = [], [], []
    for k, p in enumerate(parents):
        if p >= 0:
            xs += [float(j[p, 0]), float(j[k, 0]), None]
            ys += [float(j[p, 1]), float(j[k, 1]), None]
            zs += [float(j[p, 2]), float(j[k, 2]), None]
    return xs, ys, zs


def skeleton_trace(joints, parents: tuple[int, ...] = PARENTS, color: str = "crimson", name: str = "skeleton") -> go.Scatter3d:
    """Joints as markers and bones (joint to parent) as lines."""
    xs, ys, zs = bone_polyline(np.round(_np(joints), 4), parents)
    lines = go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", line=dict(color=color, width=5), name=name, hoverinfo="skip")
    return lines


def joint_marker_trace(joints, labels=None, color: str = "crimson", name: str = "joints") -> go.Scatter3d:
    j = np.round(_np(joints), 4)
    return go.Scatter3d(x=j[:, 0], y=j[:, 1], z=j[:, 2], mode="markers", marker=dict(size=4, color=color),
                        text=labels, hoverinfo="text" if labels is not None else "skip", name=name)


def body_figure(traces, title: str = "", height: int = 520, eye=(0.0, 0.3, 2.2)) -> go.Figure:
    """A figure with SMPL's frame shown upright (Y up, the body facing the viewer)."""
    fig = go.Figure(traces)
    fig.update_layout(
        title=title, height=height, margin=dict(l=0, r=0, t=40, b=0), showlegend=False,
        scene=dict(aspectmode="data", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False,
                   camera=dict(up=dict(x=0, y=1, z=0), eye=dict(x=eye[0], y=eye[1], z=eye[2]))),
    )
    return fig


def slider_figure(steps: list[tuple[str, np.ndarray]], decimation: Decimation, title: str, label: str,
                  color=None, extra_traces=None) -> go.Figure:
    """One mesh whose vertices change with a slider; ``steps`` are (label, (V, 3) vertices) precomputed.

    The static book cannot run Python: each step's coordinates are stored in the figure and
    the slider only swaps them (``restyle``).
    """
    first = _np(steps[0][1])
    fig = body_figure([mesh_trace(first, decimation, color=color)] + list(extra_traces or []), title=title)
    slider_steps = []
    for name, verts in steps:
        v = np.round(_np(verts)[decimation.vertex_index], 3)  # millimetres, written as short decimals
        xyz = {c: [v[:, i].tolist()] for i, c in enumerate("xyz")}
        slider_steps.append(dict(method="restyle", label=name, args=[xyz, [0]]))
    fig.update_layout(sliders=[dict(active=0, steps=slider_steps, currentvalue=dict(prefix=label + " = "), pad=dict(t=10))])
    return fig
