"""Plotting helpers shared by the chapters, and the plotly set-up of the book.

Importing this module chooses how plotly figures are displayed:

* While the book is built (the Makefile sets ``HUMANLIB_BOOK_BUILD=1`` for the kernels
  that execute the notebooks), a figure is written as plain HTML, a ``<div>`` and a
  ``Plotly.newPlot`` call, *without* its own copy of plotly.js. The book serves one
  shared ``plotly.min.js`` (``book/_ext/humanlib_book.py``), so pages stay small and
  work offline. (plotly's default renderer under nbclient emits a MIME type that the
  book's notebook reader drops, and the figure would be missing.)
* Anywhere else (JupyterLab, Colab, VS Code) plotly's own default is kept.
"""

from __future__ import annotations

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


def in_book_build() -> bool:
    """True while the notebooks are executed by the book build."""
    return os.environ.get("HUMANLIB_BOOK_BUILD", "") == "1"


def configure_plotly() -> None:
    """Select the plotly renderer for the current environment (idempotent)."""
    if in_book_build():
        pio.renderers[BOOK_RENDERER] = _BookRenderer()
        pio.renderers.default = BOOK_RENDERER


configure_plotly()
