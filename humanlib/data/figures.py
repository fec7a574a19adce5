"""Figures of the data chapter: skeleton animations (plotly frames) and skeleton drawings."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from humanlib._validate import check_positive
from humanlib.bodyplot import bone_polyline
from humanlib.data._checks import as_array
from humanlib.skeleton import NUM_JOINTS, PARENTS


def _bone_polyline(joints: np.ndarray) -> tuple[list, list, list]:
    """x, y, z lists drawing every bone of ``(24, 3)`` joints, ``None`` between bones.

    Plot axes: x = SMPL x (the body's left), y = SMPL z (forward), z = SMPL y (up).
    """
    x, y, z = bone_polyline(joints)
    return x, z, y


def skeleton_animation(joints: np.ndarray, fps: float, title: str = "", max_frames: int = 120) -> go.Figure:
    """A 3D skeleton animation with play button and slider, playable in a static page.

    Args:
        joints: ``(T, 24, 3)`` joint positions in SMPL's frame (metres).
        fps: frame rate of ``joints``.
        title: figure title.
        max_frames: keep at most this many frames (evenly spaced) to keep the figure light.

    Returns:
        A plotly figure whose frames are precomputed.

    Raises:
        TypeError: ``joints`` is a torch tensor (use ``.numpy()``) or not an array; ``fps`` /
            ``max_frames`` not a number / an integer; ``title`` not a string.
        ValueError: ``joints`` not ``(T, 24, 3)``, empty or non-finite; ``fps`` or ``max_frames`` not > 0.
    """
    joints = as_array(joints, "joints", (None, NUM_JOINTS, 3), nonempty=True)
    check_positive(fps, "fps")
    check_positive(max_frames, "max_frames", integer=True)
    if not isinstance(title, str):
        raise TypeError(f"title must be a string; got {type(title).__name__}")
    idx = np.unique(np.linspace(0, len(joints) - 1, min(max_frames, len(joints))).round().astype(int))
    step_s = (idx[1] - idx[0]) / fps if len(idx) > 1 else 1.0 / fps
    lo = joints.reshape(-1, 3).min(0)
    hi = joints.reshape(-1, 3).max(0)
    centre, half = (lo + hi) / 2, max((hi - lo).max() / 2, 1.0)
    first = _bone_polyline(joints[idx[0]].round(4))
    line = dict(color="#1f77b4", width=6)
    fig = go.Figure(
        data=[go.Scatter3d(x=first[0], y=first[1], z=first[2], mode="lines+markers", line=line,
                           marker=dict(size=2.5, color="#d62728"), hoverinfo="skip")],
        frames=[go.Frame(name=str(i), data=[go.Scatter3d(x=b[0], y=b[1], z=b[2])])
                for i, b in ((i, _bone_polyline(joints[i].round(4))) for i in idx)],
    )
    ms = int(step_s * 1000)
    fig.update_layout(
        # the play buttons get their own row under the scene and the slider the row under it,
        # so that on a phone's narrow figure neither covers the other's labels
        title=title, height=520 + 140, margin=dict(l=0, r=0, t=40, b=140), showlegend=False,
        scene=dict(
            xaxis=dict(title="x, left (m)", range=[centre[0] - half, centre[0] + half], autorange=False),
            yaxis=dict(title="z, forward (m)", range=[centre[2] - half, centre[2] + half], autorange=False),
            zaxis=dict(title="y, up (m)", range=[centre[1] - half, centre[1] + half], autorange=False),
            aspectmode="cube", camera=dict(eye=dict(x=1.6, y=1.6, z=0.6)),
        ),
        updatemenus=[dict(type="buttons", direction="left", x=0.0, xanchor="left", y=0.0, yanchor="top",
                          pad=dict(t=4, r=4), showactive=False, buttons=[
            dict(label="play", method="animate",
                 args=[None, dict(frame=dict(duration=ms, redraw=True), fromcurrent=True, transition=dict(duration=0))]),
            dict(label="pause", method="animate", args=[[None], dict(mode="immediate", frame=dict(duration=0))]),
        ])],
        sliders=[dict(x=0.0, len=1.0, y=0.0, yanchor="top", pad=dict(t=48, b=0),
                      currentvalue=dict(prefix="t = ", suffix=" s"), steps=[
            dict(label=f"{i / fps:.1f}", method="animate",
                 args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
            for i in idx
        ])],
    )
    return fig


_VIEWS = ("front", "side")


def _check_view(view: object) -> None:
    if view not in _VIEWS:
        raise ValueError(f"view must be one of {_VIEWS}; got {view!r}")


def _check_ax(ax: object) -> None:
    if not hasattr(ax, "plot") or not hasattr(ax, "set_aspect"):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()); got {type(ax).__name__}")


def draw_skeleton(ax, joints: np.ndarray, view: str = "front", **line_kwargs) -> None:
    """Draw ``(24, 3)`` joints on a matplotlib axis, seen from the front (x, y) or the side (z, y).

    Raises:
        TypeError: ``ax`` is not a matplotlib axis; ``joints`` a torch tensor or not an array.
        ValueError: ``joints`` not a finite ``(24, 3)`` array; ``view`` not "front" or "side".
    """
    _check_ax(ax)
    joints = as_array(joints, "joints", (NUM_JOINTS, 3))
    _check_view(view)
    a = 0 if view == "front" else 2
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        ax.plot([joints[p, a], joints[j, a]], [joints[p, 1], joints[j, 1]], **line_kwargs)
    ax.set_aspect("equal")


def draw_mesh(ax, vertices: np.ndarray, faces: np.ndarray, view: str = "front", color=(0.78, 0.72, 0.65)) -> None:
    """Draw a mesh on a 2D matplotlib axis, shaded, seen from the front (+Z) or the side (+X).

    Painter's algorithm: triangles sorted far to near, Lambert shading from the viewing
    direction. Light enough for a static page (one raster image, no 3D library).

    Args:
        ax: a matplotlib axis.
        vertices: ``(V, 3)`` in SMPL's frame.
        faces: ``(F, 3)`` vertex indices.
        view: "front" (look along -Z at the body's front) or "side" (look along -X at its left side).
        color: RGB base colour.

    Raises:
        TypeError: ``ax`` is not a matplotlib axis; an array is a torch tensor or not an array.
        ValueError: ``vertices`` not a finite ``(V, 3)`` array, ``faces`` not a non-empty
            ``(F, 3)`` integer array of indices below ``V``; ``view`` unknown; ``color`` not
            three numbers in [0, 1].
    """
    from matplotlib.collections import PolyCollection

    _check_ax(ax)
    v = as_array(vertices, "vertices", (None, 3), nonempty=True, dims="V")
    f = as_array(faces, "faces", (None, 3), nonempty=True, integer=True, dims="F")
    if f.min() < 0 or f.max() >= len(v):
        raise ValueError(f"faces must index vertices 0..{len(v) - 1}; got indices {f.min()}..{f.max()}")
    _check_view(view)
    rgb = np.asarray(color, dtype=object)
    if rgb.shape != (3,) or not all(isinstance(c, (int, float, np.number)) and 0 <= c <= 1 for c in rgb):
        raise ValueError(f"color must be three numbers in [0, 1] (RGB); got {color!r}")
    a, depth_axis = (0, 2) if view == "front" else (2, 0)
    sign = -1.0 if view == "side" else 1.0  # side view: +Z (forward) to the left, as seen from the body's left
    tri = v[f]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    shade = 0.35 + 0.65 * np.clip(normal[:, depth_axis], 0.0, 1.0)
    order = np.argsort(tri[:, :, depth_axis].mean(1))
    polys = np.stack([sign * tri[:, :, a], tri[:, :, 1]], axis=-1)[order]
    colors = np.clip(np.outer(shade[order], rgb.astype(np.float64)), 0.0, 1.0)
    ax.add_collection(PolyCollection(polys, facecolors=colors, edgecolors="none"))
    ax.set_xlim(polys[..., 0].min() - 0.05, polys[..., 0].max() + 0.05)
    ax.set_ylim(polys[..., 1].min() - 0.05, polys[..., 1].max() + 0.05)
    ax.set_aspect("equal")
    ax.axis("off")
