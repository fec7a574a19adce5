"""Tests of humanlib.bodyplot: decimation stays a valid mesh and figures stay light."""

from __future__ import annotations

import numpy as np

from humanlib import bodyplot
from humanlib.body import load_body_model


def _grid_mesh(n: int = 30):
    """A flat n x n grid of unit-spaced vertices split into triangles."""
    xs, ys = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float))
    v = np.stack([xs.ravel(), ys.ravel(), np.zeros(n * n)], 1)
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    f = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])
    return v, f


def test_decimate_gives_a_valid_smaller_mesh():
    v, f = _grid_mesh()
    dec = bodyplot.decimate(v, f, cell=3.0)
    assert len(dec.vertex_index) < len(v) / 4
    assert dec.faces.min() >= 0 and dec.faces.max() < len(dec.vertex_index)
    a, b, c = dec.faces.T
    assert np.all((a != b) & (b != c) & (a != c))
    assert len(np.unique(np.sort(dec.faces, 1), axis=0)) == len(dec.faces)
    # each kept vertex lies in the cell it represents
    cells = np.floor(v[dec.vertex_index] / 3.0)
    assert len(np.unique(cells, axis=0)) == len(cells)


def test_decimate_identity_for_a_tiny_cell():
    v, f = _grid_mesh(5)
    dec = bodyplot.decimate(v, f, cell=0.1)
    assert len(dec.vertex_index) == len(v) and len(dec.faces) == len(f)


def test_open_model_slider_figure_is_light():
    model = load_body_model()
    dec = bodyplot.decimate(model.v_template, model.faces, cell=0.02)
    steps = [(str(s), model.v_template + s * model.shapedirs[..., 0]) for s in (-2.0, 0.0, 2.0)]
    fig = bodyplot.slider_figure(steps, dec, "beta1", "beta1")
    assert len(fig.to_json()) < 1_500_000
    assert len(fig.layout.sliders[0].steps) == 3


def _inside(fig, points: np.ndarray) -> bool:
    scene = fig.layout.scene
    ranges = [scene.xaxis.range, scene.yaxis.range, scene.zaxis.range]
    return all(lo <= points[:, c].min() and points[:, c].max() <= hi for c, (lo, hi) in enumerate(ranges))


def test_slider_figure_fixes_one_range_holding_every_step():
    """The view does not follow the first step: a body that grows on a later step stays in the box."""
    v, f = _grid_mesh(6)
    dec = bodyplot.decimate(v, f, cell=0.1)
    steps = [(str(s), v * s) for s in (1.0, 2.0, 3.0)]  # the last step is three times larger
    fig = bodyplot.slider_figure(steps, dec, "growing", "s")
    for axis in (fig.layout.scene.xaxis, fig.layout.scene.yaxis, fig.layout.scene.zaxis):
        assert axis.autorange is False and axis.range is not None
    for _, vertices in steps:
        assert _inside(fig, vertices[dec.vertex_index])
    assert not _inside(bodyplot.frame_scene(fig, v), 3.0 * v)  # the check itself can fail


def test_body_figure_camera_sees_the_whole_box_and_bodies_share_it():
    """Two bodies side by side: one box around both; the camera far enough back for its front face."""
    v, f = _grid_mesh(6)
    dec = bodyplot.decimate(v, f, cell=0.1)
    left, right = v - [8.0, 0.0, 0.0], 2.0 * v + [4.0, 0.0, 0.0]
    fig = bodyplot.body_figure([bodyplot.mesh_trace(left, dec, name="small"),
                                bodyplot.mesh_trace(right, dec, name="large")], "two", height=400)
    assert _inside(fig, np.concatenate([left, right]))
    assert fig.layout.showlegend and all(t.showlegend for t in fig.data)
    scene = fig.layout.scene
    a = np.array([scene.aspectratio.x, scene.aspectratio.y, scene.aspectratio.z])
    eye = np.array([scene.camera.eye.x, scene.camera.eye.y, scene.camera.eye.z])
    depth = np.linalg.norm(eye) - a[2] / 2  # from the camera to the box's front face
    ratio = bodyplot.FRAME_WIDTH / (400 - 40)
    tan = np.tan(np.radians(22.5))
    assert a[1] / 2 <= tan * depth and a[0] / 2 <= tan * ratio * depth


def test_frame_scene_refuses_no_points():
    import pytest

    fig = bodyplot.body_figure([bodyplot.joint_marker_trace(np.zeros((3, 3)))])
    with pytest.raises(ValueError, match="empty"):
        bodyplot.frame_scene(fig, np.zeros((0, 3)))
