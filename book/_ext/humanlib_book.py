"""Sphinx extension of the course book: serve plotly.js from the book itself.

Every plotly figure in the book is written as a ``<div>`` plus a call to
``Plotly.newPlot`` without its own copy of plotly.js (see ``humanlib.viz``). This
extension copies the ``plotly.min.js`` that ships inside the installed ``plotly``
package into ``_static/`` once and loads it on the pages that hold a figure, so the
built HTML needs no network and no CDN.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PLOTLY_JS = "plotly.min.js"


def _plotly_js_source() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    if not path.is_file():
        raise FileNotFoundError(f"plotly.min.js not found in the installed plotly package ({path})")
    return path


def _add_plotly_to_figure_pages(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if "Plotly.newPlot" in body:
        app.add_js_file(PLOTLY_JS, priority=400)  # before the figures' inline scripts run


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of identical ``<script>`` entries.

    Jupyter Book 1 registers sphinx-thebe's and sphinx-togglebutton's inline set-up scripts
    twice; the second ``const THEBE_JS_URL`` is a JavaScript SyntaxError on every page.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # An inline script's filename is None or "" depending on who added it.
        key = (getattr(script, "filename", None) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _copy_plotly(app, exception):
    if exception is None and app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_plotly_js_source(), static / PLOTLY_JS)


def setup(app):
    _plotly_js_source()  # fail early, with the path, when plotly is missing
    app.connect("html-page-context", _add_plotly_to_figure_pages)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.connect("build-finished", _copy_plotly)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
