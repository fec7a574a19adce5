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
