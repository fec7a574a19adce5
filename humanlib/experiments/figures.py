"""Light figures of the experiments: skeletons or meshes played side by side, errors per frame.

The book is static HTML, so an animation is a plotly figure whose frames are computed here
(one frame every ``step`` motion frames) and played by plotly.js in the page.
"""

from __future__ import annotations

import torch

from humanlib._validate import check_positive, check_tensor
from humanlib.bodyplot import bone_polyline, frame_scene
from humanlib.skeleton import NUM_JOINTS

COLOURS = ("#444444", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")


def _bone_lines(joints: torch.Tensor, shift: float) -> tuple[list, list, list]:
    """x, y, z lists of all bones of one skeleton ``(24, 3)``, shifted by ``shift`` along x."""
    return bone_polyline(joints, offset=(shift, 0.0, 0.0))


def _check_sequences(sequences: object, shape: tuple) -> None:
    """A non-empty dict label -> finite tensor of ``shape`` with at least one frame."""
    if not isinstance(sequences, dict):
        raise TypeError(f"sequences must be a dict label -> tensor; got {type(sequences).__name__}")
    if not sequences:
        raise ValueError("give at least one sequence to draw")
    for label, seq in sequences.items():
        check_tensor(seq, f"sequences[{label!r}]", shape, nonempty=True)
        if seq.shape[0] == 0:
            raise ValueError(f"sequences[{label!r}] has no frame (shape {tuple(seq.shape)})")


def _check_playback(fps: object, step: object, spacing: object) -> None:
    check_positive(fps, "fps")
    check_positive(step, "step", integer=True)
    check_positive(spacing, "spacing", allow_zero=True)


#: Bottom margin (px) that holds the play buttons and, under them, the frame slider.
CONTROLS_MARGIN = 140  # 120 cut the slider's labels by a few pixels


def _animation_controls(keep: list[int], duration: float) -> dict:
    """Play/pause buttons and a frame slider for frames named ``str(t)`` for ``t`` in ``keep``.

    The buttons sit on their own row under the scene and the slider under them, so that on a
    phone's narrow figure neither covers the other's labels.
    """
    return dict(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, xanchor="left", y=0.0, yanchor="top",
                          pad=dict(t=4, r=4), showactive=False, buttons=[
            dict(label="play", method="animate",
                 args=[None, dict(frame=dict(duration=duration, redraw=True), fromcurrent=True)]),
            dict(label="pause", method="animate", args=[[None], dict(mode="immediate")])])],
        sliders=[dict(x=0.0, len=1.0, y=0.0, yanchor="top", pad=dict(t=48, b=0), currentvalue=dict(prefix="frame "),
                      steps=[dict(label=str(t), method="animate",
                                  args=[[str(t)], dict(mode="immediate", frame=dict(redraw=True))])
                             for t in keep])],
    )


def skeleton_animation(sequences: dict[str, torch.Tensor], fps: float = 30.0, step: int = 3,
                       spacing: float = 1.0, title: str = ""):
    """Skeletons of several motions of the same window, side by side, played as plotly frames.

    Args:
        sequences: label -> ``(T, 24, 3)`` joints (same ``T``), e.g. clean, noisy, fitted.
        fps: frame rate of the motions (sets the playback speed).
        step: keep one motion frame out of ``step`` (lighter figure).
        spacing: metres between the skeletons along x.
        title: figure title.

    Returns:
        ``plotly.graph_objects.Figure`` with a play button and a frame slider.

    Raises:
        TypeError: ``sequences`` not a dict of tensors.
        ValueError: no sequence, shapes other than one ``(T, 24, 3)`` with ``T >= 1``, non-finite
            joints, or ``fps`` / ``step`` / ``spacing`` out of range.
    """
    import plotly.graph_objects as go

    _check_sequences(sequences, (None, NUM_JOINTS, 3))
    _check_playback(fps, step, spacing)
    lengths = {tuple(s.shape) for s in sequences.values()}
    if len(lengths) != 1 or len(next(iter(lengths))) != 3 or next(iter(lengths))[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"sequences must all be (T, {NUM_JOINTS}, 3) of one length; got shapes {sorted(lengths)}")
    labels = list(sequences)
    # Centre every skeleton on the first frame's pelvis of the first sequence (keeps the
    # walk inside the view), then place them side by side.
    origin = next(iter(sequences.values()))[0, 0].clone()
    origin[1] = 0.0
    seqs = [sequences[k].detach().cpu() - origin for k in labels]
    shifts = [(i - (len(seqs) - 1) / 2) * spacing for i in range(len(seqs))]
    total = seqs[0].shape[0]
    keep = list(range(0, total, max(1, step)))

    def traces(t: int) -> list:
        out = []
        for i, (label, s) in enumerate(zip(labels, seqs)):
            xs, ys, zs = _bone_lines(s[t], shifts[i])
            out.append(go.Scatter3d(x=xs, y=ys, z=zs, mode="lines+markers", name=label,
                                    line=dict(color=COLOURS[i % len(COLOURS)], width=5),
                                    marker=dict(size=2, color=COLOURS[i % len(COLOURS)])))
        return out

    # every joint of every kept frame, where it is drawn (each skeleton shifted along x)
    allpts = torch.cat([s[keep].reshape(-1, 3) + torch.tensor([shifts[i], 0.0, 0.0], dtype=s.dtype)
                        for i, s in enumerate(seqs)])
    frames = [go.Frame(data=traces(t), name=str(t)) for t in keep]
    duration = int(1000 * step / fps)
    fig = go.Figure(data=traces(keep[0]), frames=frames)
    fig.update_layout(
        title=title, height=480 + CONTROLS_MARGIN, margin=dict(l=0, r=0, t=40, b=CONTROLS_MARGIN),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="top", bgcolor="rgba(255,255,255,0.7)"),
        scene=dict(xaxis=dict(title="x (m)"), yaxis=dict(title="y (m)"), zaxis=dict(title="z (m)")),
        **_animation_controls(keep, duration),
    )
    frame_scene(fig, allpts.double(), eye=(0.0, 0.4, 2.2), pad=0.1)
    return fig


def mesh_animation(sequences: dict[str, torch.Tensor], faces, fps: float = 30.0, step: int = 5,
                   spacing: float = 0.9, cell: float = 0.04, title: str = ""):
    """Bodies of several motions of the same window, side by side, played as plotly frames.

    Meshes are decimated by vertex clustering (:func:`humanlib.bodyplot.decimate`, computed once
    on the first frame of the first mesh) and their coordinates rounded to the millimetre; the
    frames carry only the moving coordinates. Two bodies and a skeleton over 60 frames (``step``
    5, ``cell`` 0.04) are about 0.8 MB of figure JSON, under the book's ~1.5 MB per figure.

    Args:
        sequences: label -> ``(T, V, 3)`` mesh vertices, or ``(T, 24, 3)`` joints for an
            observation that has no body (drawn as a skeleton); all of the same ``T``.
        faces: ``(F, 3)`` triangles of the mesh (``model.faces``).
        fps: frame rate of the motions (sets the playback speed).
        step: keep one motion frame out of ``step``.
        spacing: metres between the bodies along x.
        cell: decimation grid size in metres (0.04 keeps a few hundred vertices).
        title: figure title.

    Returns:
        ``plotly.graph_objects.Figure`` with a play button and a frame slider.

    Raises:
        TypeError: ``sequences`` not a dict of tensors.
        ValueError: ``faces`` not non-negative integer ``(F, 3)`` with ``F > 0``; no sequence,
            sequences that are not ``(T, V, 3)`` / ``(T, 24, 3)`` of one ``T >= 1``, non-finite
            values, no mesh sequence, or ``fps`` / ``step`` / ``spacing`` / ``cell`` out of range.
    """
    import numpy as np
    import plotly.graph_objects as go

    from humanlib.bodyplot import body_figure, decimate, mesh_trace

    faces = np.asarray(faces.detach().cpu() if isinstance(faces, torch.Tensor) else faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.size == 0:
        raise ValueError(f"faces must be (F, 3) with F > 0; got shape {tuple(faces.shape)}")
    if not np.issubdtype(faces.dtype, np.integer) or faces.min() < 0:
        raise ValueError(f"faces must hold non-negative vertex indices (integers); got dtype {faces.dtype}, "
                         f"smallest {faces.min()}")
    num_vertices = int(faces.max()) + 1
    _check_sequences(sequences, (None, None, 3))
    _check_playback(fps, step, spacing)
    check_positive(cell, "cell")
    shapes = {k: tuple(s.shape) for k, s in sequences.items()}
    if any(len(s) != 3 or s[2] != 3 or s[1] not in (NUM_JOINTS, num_vertices) for s in shapes.values()) \
            or len({s[0] for s in shapes.values()}) != 1:
        raise ValueError(f"sequences must be (T, {num_vertices}, 3) vertices or (T, {NUM_JOINTS}, 3) joints "
                         f"of one length T; got {shapes}")
    labels = list(sequences)
    is_mesh = [shapes[k][1] == num_vertices for k in labels]
    if not any(is_mesh):
        raise ValueError("give at least one mesh sequence (T, V, 3); for joints only use skeleton_animation")
    first_mesh = sequences[labels[is_mesh.index(True)]].detach().cpu().double()
    origin = first_mesh[0].mean(0)
    origin[1] = 0.0
    shifts = [(i - (len(labels) - 1) / 2) * spacing for i in range(len(labels))]
    offset = [torch.tensor([s, 0.0, 0.0], dtype=torch.float64) - origin for s in shifts]
    seqs = [sequences[k].detach().cpu().double() + offset[i] for i, k in enumerate(labels)]
    decimation = decimate(first_mesh[0], faces, cell=cell)
    keep = list(range(0, seqs[0].shape[0], max(1, step)))

    def traces(t: int, full: bool) -> list:
        out = []
        for i, (label, s) in enumerate(zip(labels, seqs)):
            colour = COLOURS[i % len(COLOURS)]
            if is_mesh[i]:
                mesh = mesh_trace(s[t], decimation, color=colour, name=label)
                # plotly.js merges a frame's trace into the shown one: frames carry only the
                # moving coordinates, the faces and styling are stored once (half the JSON)
                out.append(mesh if full else go.Mesh3d(x=mesh.x, y=mesh.y, z=mesh.z))
            else:
                xs, ys, zs = _bone_lines(torch.round(s[t] * 1000) / 1000, 0.0)
                out.append(go.Scatter3d(x=xs, y=ys, z=zs, mode="lines+markers", name=label,
                                        line=dict(color=colour, width=5), marker=dict(size=2, color=colour)))
        return out

    fig = body_figure(traces(keep[0], full=True), title=title, height=480, eye=(0.0, 0.3, 1.6))
    fig.frames = [go.Frame(data=traces(t, full=False), name=str(t)) for t in keep]
    duration = int(1000 * step / fps)
    fig.update_layout(
        height=480 + CONTROLS_MARGIN, margin=dict(l=0, r=0, t=40, b=CONTROLS_MARGIN),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="top", bgcolor="rgba(255,255,255,0.7)"),
        **_animation_controls(keep, duration),
    )
    # one box and one camera for every frame (body_figure framed the first one only)
    frame_scene(fig, torch.cat([s[keep].reshape(-1, 3) for s in seqs]), eye=(0.0, 0.3, 1.6), pad=0.1)
    return fig


def error_per_frame_plot(errors: dict[str, torch.Tensor], fps: float = 30.0, ax=None, ylabel: str = "per-vertex error (cm)"):
    """Matplotlib lines of per-frame errors ``(T,)`` per method (returns the axes).

    Raises:
        TypeError: ``errors`` not a dict of tensors.
        ValueError: no method, an error that is not a finite 1-D tensor, or ``fps`` not > 0.
    """
    if not isinstance(errors, dict):
        raise TypeError(f"errors must be a dict label -> (T,) tensor; got {type(errors).__name__}")
    if not errors:
        raise ValueError("give at least one method's errors to plot")
    for label, e in errors.items():
        check_tensor(e, f"errors[{label!r}]", (None,), hint="one error per frame")
    check_positive(fps, "fps")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    for i, (label, e) in enumerate(errors.items()):
        t = torch.arange(e.shape[0]) / fps
        ax.plot(t.numpy(), e.detach().cpu().numpy(), label=label, color=COLOURS[i % len(COLOURS)])
    ax.set_xlabel("time (s)")
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


__all__ = ["error_per_frame_plot", "mesh_animation", "skeleton_animation"]
