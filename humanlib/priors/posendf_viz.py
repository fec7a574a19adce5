"""Figures of the Pose-NDF chapter: projection trajectories as light skeleton animations.

The static book cannot run Python, so an animation is a plotly figure whose frames are
precomputed: one frame per projection step, every pose of a batch drawn as a skeleton
(line segments between SMPL joints and their parents), side by side.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from torch import Tensor

from humanlib._validate import check_positive, check_tensor
from humanlib.bodyplot import bone_polyline
from humanlib.priors.posendf_data import _check_int, _unit_quats
from humanlib.rotations import quat_to_axis_angle
from humanlib.skeleton import BODY_JOINTS, NUM_BODY_JOINTS, NUM_JOINTS


def quats_to_full_pose(quats: Tensor) -> Tensor:
    """Body-joint quaternions to a full SMPL pose with the root and hands at rest.

    Args:
        quats: ``(..., 21, 4)`` non-zero quaternions (wxyz) of joints 1..21 (any length:
            ``q`` and ``2 q`` are the same rotation).

    Returns:
        ``(..., 24, 3)`` axis-angle pose; an empty batch gives an empty batch.

    Raises:
        TypeError: ``quats`` is not a tensor.
        ValueError: wrong shape or dtype, NaN/inf or zero quaternions.
    """
    check_tensor(quats, "quats", (..., NUM_BODY_JOINTS, 4), finite=False,
                 hint="(wxyz quaternions of SMPL joints 1..21)")
    quats = _unit_quats(quats, "quats")
    pose = quats.new_zeros(*quats.shape[:-2], NUM_JOINTS, 3)
    pose[..., list(BODY_JOINTS), :] = quat_to_axis_angle(quats)
    return pose


def _segments(joints: Tensor, offset: float) -> tuple[list, list, list]:
    """Line coordinates (plotly's x, y, z = SMPL's X, Z, Y so that Y is up) with None breaks."""
    x, y, z = bone_polyline(joints, offset=(offset, 0.0, 0.0))
    return x, z, y


def _check_animation_args(joints, labels, spacing, title, colors) -> None:
    """:func:`skeleton_animation`'s checks, in its order (the label count is checked once the frames are known)."""
    check_tensor(joints, "joints", finite=False)
    if joints.ndim != 4 or joints.shape[-2:] != (NUM_JOINTS, 3):
        raise ValueError(f"joints must have shape (T, B, {NUM_JOINTS}, 3), got {tuple(joints.shape)}")
    if joints.shape[0] == 0 or joints.shape[1] == 0:
        raise ValueError(f"joints must hold at least one frame and one skeleton (T, B >= 1); got {tuple(joints.shape)}")
    check_tensor(joints, "joints")
    check_positive(spacing, "spacing", allow_zero=True)
    if not isinstance(title, str):
        raise TypeError(f"title must be a str; got {type(title).__name__}")
    for name, value in (("labels", labels), ("colors", colors)):
        if value is not None and (not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value)):
            raise TypeError(f"{name} must be a list of strings or None; got {value!r}")
    if colors is not None and len(colors) == 0:
        raise ValueError("colors is an empty list; give at least one colour or None")


def skeleton_animation(
    joints: Tensor,
    labels: list[str] | None = None,
    spacing: float = 1.0,
    title: str = "",
    colors: list[str] | None = None,
) -> go.Figure:
    """An animated figure of several skeletons, one frame per time step.

    Args:
        joints: ``(T, B, 24, 3)`` joint positions (SMPL frame, Y up, metres).
        labels: one label per frame (default ``"step t"``).
        spacing: distance between neighbouring skeletons along X (metres).
        title: figure title.
        colors: one colour per skeleton (optional).

    Returns:
        a plotly figure with a play button and a slider over the frames.

    Raises:
        TypeError: ``joints`` is not a tensor; ``labels``, ``colors`` not lists of strings,
            ``spacing`` not a number, ``title`` not a string.
        ValueError: wrong shape, no frame or no skeleton (``T = 0`` or ``B = 0``), NaN/inf
            joints, a label count other than ``T``, a negative spacing, an empty colour list.
    """
    _check_animation_args(joints, labels, spacing, title, colors)
    joints = joints.detach().cpu()
    num_t, num_b = joints.shape[:2]
    labels = labels or [f"step {t}" for t in range(num_t)]
    if len(labels) != num_t:
        raise ValueError(f"need {num_t} labels (one per frame), got {len(labels)}")
    root = joints[:1, :, :1].clone()
    root[..., 1] = 0.0  # keep each skeleton's height, centre it horizontally
    joints = joints - root

    def traces(t: int) -> list[go.Scatter3d]:
        out = []
        for b in range(num_b):
            x, y, z = _segments(joints[t, b], (b - (num_b - 1) / 2) * spacing)
            line = {"width": 5}
            if colors:
                line["color"] = colors[b % len(colors)]
            out.append(go.Scatter3d(x=x, y=y, z=z, mode="lines", line=line, showlegend=False, hoverinfo="skip"))
        return out

    frames = [go.Frame(data=traces(t), name=str(t)) for t in range(num_t)]
    lo, hi = joints.amin(dim=(0, 1, 2)), joints.amax(dim=(0, 1, 2))
    half = 0.5 * max(num_b * spacing, float((hi - lo).max())) + 0.1
    mid = 0.5 * (lo + hi)
    axis = {"showticklabels": False, "title": "", "showbackground": False}
    fig = go.Figure(data=traces(0), frames=frames)
    fig.update_layout(
        title=title,
        # the play button gets its own row under the scene and the slider the row under it, inside
        # the figure (a zero bottom margin cut the slider's labels; beside it, the button covered them
        # on a phone)
        height=420 + 140,
        margin={"l": 0, "r": 0, "t": 40, "b": 140},
        scene={
            "xaxis": {**axis, "range": [-half, half]},
            "yaxis": {**axis, "range": [float(mid[2]) - half, float(mid[2]) + half]},
            "zaxis": {**axis, "range": [float(mid[1]) - half, float(mid[1]) + half]},
            "aspectmode": "cube",
            "camera": {"eye": {"x": 0.0, "y": -1.6, "z": 0.3}},
        },
        updatemenus=[{
            "type": "buttons", "x": 0.0, "xanchor": "left", "y": 0.0, "yanchor": "top", "pad": {"t": 4},
            "showactive": False,
            "buttons": [{"label": "▶ play", "method": "animate",
                         "args": [None, {"frame": {"duration": 150, "redraw": True}, "fromcurrent": True}]}],
        }],
        sliders=[{
            "x": 0.03, "len": 0.94, "y": 0.0, "yanchor": "top", "pad": {"t": 48, "b": 0},  # end labels inside
            "steps": [{"label": labels[t], "method": "animate",
                       "args": [[str(t)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}]}
                      for t in range(num_t)],
        }],
    )
    return fig


def trajectory_frames(trajectory: Tensor, max_frames: int = 12) -> tuple[Tensor, list[int]]:
    """Pick at most ``max_frames`` iterates of a projection trajectory (always the first and last).

    Args:
        trajectory: ``(T, B, K, 4)``, ``T >= 1`` (``ProjectionResult.trajectory``).
        max_frames: at most this many frames, ``>= 2`` (the first and the last).

    Returns:
        ``(frames (T', B, K, 4), step indices)``.

    Raises:
        TypeError: ``trajectory`` is not a tensor (``None``: project with
            ``record_trajectory=True``), ``max_frames`` not an integer.
        ValueError: wrong shape, an empty trajectory, ``max_frames < 2``.
    """
    if trajectory is None:
        raise TypeError("trajectory is None: run project() with ProjectionConfig(record_trajectory=True)")
    check_tensor(trajectory, "trajectory", finite=False)
    if trajectory.ndim != 4 or trajectory.shape[-1] != 4:
        raise ValueError(
            f"trajectory must have shape (T, B, K, 4) (T iterates of B poses of K joints, wxyz quaternions); "
            f"got {tuple(trajectory.shape)}"
        )
    if trajectory.shape[0] == 0:
        raise ValueError("trajectory is empty (T = 0); it holds at least the starting poses")
    _check_int(max_frames, "max_frames", 2)
    num_t = trajectory.shape[0]
    steps = sorted(set(torch.linspace(0, num_t - 1, min(max_frames, num_t)).round().long().tolist()))
    return trajectory[steps], steps
