"""Tests of humanlib.viz: the description a book figure carries (its alt text) says what it lacks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from humanlib.viz import describe_figure  # noqa: E402


def test_a_complete_figure_is_described_without_gaps():
    fig, ax = plt.subplots()
    for name in ("a", "b"):
        ax.plot(np.arange(3), np.arange(3) + len(name), label=name)
    ax.set(title="two lines", xlabel="time (s)", ylabel="error (cm)")
    ax.legend()
    text = describe_figure(fig)
    plt.close(fig)
    assert text == "two lines. x: time (s); y: error (cm); legend: a, b"


def test_missing_title_labels_and_legend_are_marked():
    fig, ax = plt.subplots()
    ax.plot(np.random.default_rng(0).random((5, 6)))  # six lines, no legend
    text = describe_figure(fig)
    plt.close(fig)
    for gap in ("[no title]", "[no x label]", "[no y label]", "[no legend for 6 series]"):
        assert gap in text, text


def test_panels_titled_stand_for_the_figure_and_shared_y_labels_count():
    fig, axes = plt.subplots(1, 2, sharey=True)
    for ax, name in zip(axes, ("left", "right")):
        ax.hist(np.arange(10))
        ax.set(title=name, xlabel="angle (deg)")
    axes[0].set_ylabel("frames")
    text = describe_figure(fig)
    plt.close(fig)
    assert "[no" not in text and text.startswith("left | right")


def test_importing_viz_configures_nothing_until_configure_is_called():
    """The book's renderer is chosen by viz.configure(), not as a side effect of the import."""
    import os
    import subprocess
    import sys

    code = ("import plotly.io as pio; import humanlib.viz as v; before = pio.renderers.default; v.configure(); "
            "print(before != v.BOOK_RENDERER, pio.renderers.default == v.BOOK_RENDERER)")
    env = {**os.environ, "HUMANLIB_BOOK_BUILD": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]
