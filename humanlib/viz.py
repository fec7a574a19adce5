"""Plotting helpers shared by the chapters, and the plotly set-up of the book.

Importing this module changes nothing; :func:`configure`, which each chapter calls in its first
cell, chooses how figures are displayed:

* While the book is built (the Makefile sets ``HUMANLIB_BOOK_BUILD=1`` for the kernels
  that execute the notebooks), a figure is written as plain HTML, a ``<div>`` and a
  ``Plotly.newPlot`` call, *without* its own copy of plotly.js. The book serves one
  shared plotly.js bundle (``book/_ext/humanlib_book.py``), so pages stay small and
  work offline. (plotly's default renderer under nbclient emits a MIME type that the
  book's notebook reader drops, and the figure would be missing.)
* Anywhere else (JupyterLab, Colab, VS Code) plotly's own default is kept.

While the book is built, a matplotlib figure is also written as a PNG that carries a text
description of itself (title, axis labels, legend entries; :func:`describe_figure`). The book
uses it as the image's alt text (``book/_ext/humanlib_book.py``), and the browser tests read it
to check that every figure has a title, labelled axes and a legend where it draws several
series.
"""

from __future__ import annotations

import base64
import io
import os

import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

BOOK_RENDERER = "humanlib_book"


class _BookRenderer(MimetypeRenderer):
    """``text/html`` only: no plotly.js and no MathJax of its own (the page provides both)."""

    def to_mimebundle(self, fig_dict):
        html = pio.to_html(fig_dict, include_plotlyjs=False, include_mathjax=False, full_html=False,
                           auto_play=False, default_width="100%", default_height=525, validate=False)
        return {"text/html": html}


#: PNG text key holding a figure's description (read back by the book's Sphinx extension).
DESCRIPTION_KEY = "Description"


def _label(ax, which: str) -> str:
    """The axis label, or that of an axis sharing it (a grid labels only its outer panels)."""
    get = (lambda a: a.get_xlabel()) if which == "x" else (lambda a: a.get_ylabel())
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return get(ax) or next((get(o) for o in shared.get_siblings(ax) if get(o)), "")


def _axis_description(ax) -> str:
    """One panel: its title, its axis labels and legend entries; gaps as ``[no ...]`` markers.

    An axis without ticks (a picture: a mesh or keypoints drawn in pixels) needs no label.
    Series are the labelled artists, and the unlabelled lines counted by colour (one skeleton
    drawn as 23 segments of one colour is one series).
    """
    parts = [ax.get_title()]
    if ax.axison:
        for which, axis in (("x", ax.get_xaxis()), ("y", ax.get_yaxis())):
            ticks = ax.get_xticks() if which == "x" else ax.get_yticks()
            if axis.get_visible() and len(ticks):
                parts.append(f"{which}: {_label(ax, which) or f'[no {which} label]'}")
    labelled = [a for a in ax.get_lines() + ax.collections + ax.containers
                if (getattr(a, "get_label", lambda: "")() or "_")[0] != "_"]
    colours = {str(line.get_color()) for line in ax.get_lines()
               if len(line.get_xdata()) > 1 and (line.get_label() or "_")[0] == "_"}
    legend = ax.get_legend() or (ax.figure.legends[0] if ax.figure.legends else None)
    if legend is not None:
        parts.append("legend: " + ", ".join(t.get_text() for t in legend.get_texts()))
    elif len(labelled) > 1 or len(colours) > 1:
        parts.append(f"[no legend for {max(len(labelled), len(colours))} series]")
    return "; ".join(p for p in parts if p)


def describe_figure(fig) -> str:
    """A text description of a matplotlib figure, for its alt text: title, then each panel.

    Each panel gives its title, axis labels and legend entries (a figure without a title of its
    own is titled by its panels' titles); what is
    missing is written as a marker in square brackets (``[no title]``, ``[no x label]``,
    ``[no legend for 3 series]``), so that the description itself says what the figure lacks.
    Images drawn with ``imshow`` count as panels with axes. Colour bars are skipped.
    """
    title = fig._suptitle.get_text() if fig._suptitle is not None else ""
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    if not title and panels and all(ax.get_title() for ax in panels):
        title = " | ".join(ax.get_title() for ax in panels)  # panel titles stand for the figure's
    text = [title or "[no title]"]
    for i, ax in enumerate(panels):
        prefix = f"panel {i + 1}: " if len(panels) > 1 else ""
        body = _axis_description(ax)
        if len(panels) == 1:
            body = body.removeprefix(ax.get_title()).lstrip("; ")
        text.append(prefix + body)
    return ". ".join(t for t in text if t)


def _png_with_description(fig) -> str:
    """The figure as a base64 PNG (as the inline backend draws it) with its description inside."""
    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", bbox_inches="tight", facecolor="white",
                            metadata={DESCRIPTION_KEY: describe_figure(fig)})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def configure_matplotlib() -> None:
    """While the book is built: figures shown by a cell become PNGs carrying their description."""
    if not in_book_build():
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib
    from matplotlib.figure import Figure

    if "inline" in matplotlib.get_backend():
        # pyplot loads its backend lazily, at the first figure; the inline backend then registers
        # its own PNG formatter and would replace ours. Loading it now lets ours come last.
        import matplotlib_inline.backend_inline  # noqa: F401

    shell.display_formatter.formatters["image/png"].for_type(Figure, _png_with_description)


def in_book_build() -> bool:
    """True while the notebooks are executed by the book build."""
    return os.environ.get("HUMANLIB_BOOK_BUILD", "") == "1"


def configure_plotly() -> None:
    """Select the plotly renderer for the current environment (idempotent)."""
    if in_book_build():
        pio.renderers[BOOK_RENDERER] = _BookRenderer()
        pio.renderers.default = BOOK_RENDERER


def configure() -> None:
    """Set up how the chapters' figures are shown (idempotent; a notebook calls it in its first cell).

    While the book is built (``HUMANLIB_BOOK_BUILD=1``) plotly figures use the book's renderer
    (:func:`configure_plotly`) and matplotlib figures become PNGs carrying their description
    (:func:`configure_matplotlib`); anywhere else plotly and matplotlib keep their defaults.
    """
    configure_plotly()
    configure_matplotlib()
