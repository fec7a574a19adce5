"""Figures of the VPoser chapter: light plotly bodies for samples and latent interpolations.

A full body mesh has thousands of vertices; a page with a dozen of them would weigh megabytes.
:func:`decimate_mesh` clusters the vertices of the rest mesh on a voxel grid once (vertex
clustering); every posed mesh is then reduced by averaging the vertices of each cluster, so all
bodies of a figure share one small triangle list.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import torch

from humanlib.skeleton import PARENTS


@dataclass
class DecimatedMesh:
    """A vertex-clustering reduction of a mesh.

    Attributes:
        cluster: ``(V,)`` cluster index of every original vertex.
        faces: ``(F', 3)`` triangles between clusters (degenerate ones removed).
        num_clusters: Number of clusters (vertices of the reduced mesh).
    """

    cluster: torch.Tensor
    faces: torch.Tensor
    num_clusters: int

    def reduce(self, vertices: torch.Tensor) -> torch.Tensor:
        """Average the vertices of each cluster: ``(..., V, 3) -> (..., num_clusters, 3)``."""
        if vertices.shape[-2] != self.cluster.shape[0] or vertices.shape[-1] != 3:
            raise ValueError(f"vertices must be (..., {self.cluster.shape[0]}, 3), got {tuple(vertices.shape)}")
        flat = vertices.reshape(-1, vertices.shape[-2], 3)
        out = flat.new_zeros(flat.shape[0], self.num_clusters, 3)
        out.index_add_(1, self.cluster.to(vertices.device), flat)
        counts = torch.bincount(self.cluster, minlength=self.num_clusters).to(flat)
        return (out / counts[None, :, None]).reshape(*vertices.shape[:-2], self.num_clusters, 3)


def decimate_mesh(vertices: torch.Tensor, faces: torch.Tensor, cell: float = 0.03) -> DecimatedMesh:
    """Cluster the vertices of a rest mesh on a voxel grid of side ``cell`` (metres).

    Args:
        vertices: ``(V, 3)`` rest-pose vertices.
        faces: ``(F, 3)`` triangles (vertex indices).
        cell: Voxel size; 0.03 m leaves about a thousand vertices on an adult body.

    Returns:
        The clustering and the reduced triangle list.
    """
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f"vertices must be (V, 3), got {tuple(vertices.shape)}")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f"faces must be (F, 3), got {tuple(faces.shape)}")
    if not cell > 0:
        raise ValueError(f"cell must be > 0, got {cell!r}")
    keys = torch.floor((vertices - vertices.min(0).values) / cell).long()
    _, cluster = torch.unique(keys, dim=0, return_inverse=True)
    f = cluster[faces.long()]
    keep = (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])
    f = torch.unique(torch.sort(f[keep], dim=1).values, dim=0)
    return DecimatedMesh(cluster=cluster, faces=f, num_clusters=int(cluster.max()) + 1)


def _mesh_trace(vertices: torch.Tensor, faces: torch.Tensor, offset: float, color: str, name: str) -> go.Mesh3d:
    v = vertices.detach().cpu().double()
    # plotly's z is up: draw SMPL's (X, Z, Y) so that the body stands; millimetre rounding keeps JSON small
    return go.Mesh3d(
        x=(v[:, 0] + offset).round(decimals=3).tolist(), y=v[:, 2].round(decimals=3).tolist(),
        z=v[:, 1].round(decimals=3).tolist(),
        i=faces[:, 0].tolist(), j=faces[:, 1].tolist(), k=faces[:, 2].tolist(),
        color=color, flatshading=True, name=name, hoverinfo="name",
        lighting=dict(ambient=0.45, diffuse=0.8, specular=0.1),
    )


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title=title, height=height, margin=dict(l=0, r=0, t=40, b=0), showlegend=False,
        scene=dict(aspectmode="data", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False,
                   camera=dict(eye=dict(x=0.0, y=-2.2, z=0.3), up=dict(x=0, y=0, z=1))),
    )
    return fig


def bodies_figure(
    vertices: torch.Tensor,
    mesh: DecimatedMesh,
    labels: list[str] | None = None,
    spacing: float = 0.9,
    title: str = "",
    colors: list[str] | None = None,
    height: int = 380,
) -> go.Figure:
    """Several posed bodies side by side.

    Args:
        vertices: ``(B, V, 3)`` full-resolution posed vertices (SMPL frame, Y up, metres).
        mesh: The clustering of the rest mesh (:func:`decimate_mesh`).
        labels: One hover label per body.
        spacing: Distance between bodies along X (metres).
        title: Figure title.
        colors: One colour per body (default: one light blue).
        height: Figure height in pixels.
    """
    reduced = mesh.reduce(vertices)
    traces = []
    for b in range(reduced.shape[0]):
        color = colors[b] if colors else "#7fa7d9"
        name = labels[b] if labels else f"body {b}"
        traces.append(_mesh_trace(reduced[b], mesh.faces, b * spacing, color, name))
    return _layout(go.Figure(traces), title, height)


def bodies_animation(
    vertices: torch.Tensor,
    mesh: DecimatedMesh,
    step_labels: list[str],
    spacing: float = 0.9,
    title: str = "",
    colors: list[str] | None = None,
    height: int = 420,
) -> go.Figure:
    """Bodies changing over steps, with a slider and play button (frames precomputed).

    Args:
        vertices: ``(T, B, V, 3)`` posed vertices for ``T`` steps of ``B`` bodies.
        mesh: The clustering of the rest mesh.
        step_labels: ``T`` slider labels.
        spacing, title, colors, height: As in :func:`bodies_figure`.
    """
    if vertices.ndim != 4 or len(step_labels) != vertices.shape[0]:
        raise ValueError(f"vertices must be (T, B, V, 3) with T = len(step_labels), got {tuple(vertices.shape)} "
                         f"and {len(step_labels)} labels")
    reduced = mesh.reduce(vertices)
    def traces(t):
        return [_mesh_trace(reduced[t, b], mesh.faces, b * spacing, colors[b] if colors else "#7fa7d9", f"body {b}")
                for b in range(reduced.shape[1])]
    frames = [go.Frame(data=traces(t), name=str(t)) for t in range(reduced.shape[0])]
    fig = go.Figure(traces(0), frames=frames)
    steps = [dict(method="animate", label=lab, args=[[str(t)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
             for t, lab in enumerate(step_labels)]
    fig.update_layout(
        sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="t = "), pad=dict(t=10))],
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=0.0, xanchor="left", yanchor="top",
                          buttons=[dict(label="play", method="animate",
                                        args=[None, dict(frame=dict(duration=300, redraw=True), fromcurrent=True)])])],
    )
    return _layout(fig, title, height)


def skeletons_figure(joints: torch.Tensor, spacing: float = 0.9, title: str = "", height: int = 380) -> go.Figure:
    """Stick figures (joints linked to their parents) side by side, when no body model is at hand.

    Args:
        joints: ``(B, 24, 3)`` joint positions (SMPL frame, Y up, metres).
    """
    xs, ys, zs = [], [], []
    for b in range(joints.shape[0]):
        for j, p in enumerate(PARENTS):
            if p < 0:
                continue
            for a in (p, j):
                xs.append(round(float(joints[b, a, 0]) + b * spacing, 3))
                ys.append(round(float(joints[b, a, 2]), 3))
                zs.append(round(float(joints[b, a, 1]), 3))
            xs.append(None)
            ys.append(None)
            zs.append(None)
    fig = go.Figure(go.Scatter3d(x=xs, y=ys, z=zs, mode="lines+markers", marker=dict(size=2), line=dict(width=5)))
    return _layout(fig, title, height)
