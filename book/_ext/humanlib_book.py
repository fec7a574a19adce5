"""Sphinx extension of the course book: what the theme and the notebook outputs leave out.

* plotly.js. Every plotly figure is written as a ``<div>`` plus a call to ``Plotly.newPlot``
  without its own copy of plotly.js (see ``humanlib.viz``); the pages that hold a figure load
  plotly's *gl3d* partial bundle (3D meshes, scatter and scatter3d, sliders and animations: all
  the book draws), vendored from npm in ``book/_vendor/plotly/`` (1.8 MB instead of the 4.8 MB
  full bundle). The build fails if the installed ``plotly`` package writes figures for another
  plotly.js version than the vendored one.
* The book's own style and script (``book/_ext/static``): long names and wide outputs stay
  inside the column on a phone, plotly's toolbar is not drawn over figure titles on a phone,
  and 3D figures step their camera back on screens narrower than they were framed for.
* Alt text. An image a notebook cell drew gets the description that ``humanlib.viz`` stored
  inside the PNG (title, axis labels, legend) instead of its file name.
* Duplicate inline scripts of Jupyter Book's extensions are dropped (a SyntaxError otherwise).
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from docutils import nodes

HERE = Path(__file__).parent
VENDOR = HERE.parent / "_vendor"
PLOTLY_JS = "plotly/plotly-gl3d.min.js"
STYLE, SCRIPT = "humanlib-book.css", "humanlib-book.js"
DESCRIPTION_KEY = "Description"  # humanlib.viz.DESCRIPTION_KEY (not imported: the build needs no torch here)


def _vendored_plotly_version() -> str:
    path = VENDOR / PLOTLY_JS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; see book/_vendor/README.md to fetch it")
    match = re.search(r"plotly\.js \(gl3d - minified\) v(\d+\.\d+\.\d+)", path.read_text(encoding="utf-8", errors="replace")[:400])
    if not match:
        raise ValueError(f"{path} does not start with plotly.js's gl3d banner; see book/_vendor/README.md")
    return match.group(1)


def _check_plotly_version() -> None:
    """The figures' JSON is written by the installed plotly package for its own plotly.js version."""
    from plotly.offline import get_plotlyjs_version

    installed, vendored = get_plotlyjs_version(), _vendored_plotly_version()
    if installed != vendored:
        raise RuntimeError(
            f"the installed plotly package writes figures for plotly.js {installed}, but book/_vendor/{PLOTLY_JS} "
            f"is {vendored}: run `npm pack plotly.js-gl3d-dist-min@{installed}` and copy its plotly-gl3d.min.js "
            f"there (book/_vendor/README.md)")


def _add_assets(app, pagename, templatename, context, doctree):
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


def png_text(path: Path) -> dict[str, str]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG file: keyword -> text."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return {}
    found, at = {}, 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunk = data[at + 8:at + 8 + length]
        at += 12 + length
        if kind == b"tEXt":
            key, _, text = chunk.partition(b"\0")
            found[key.decode("latin-1")] = text.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = chunk.partition(b"\0")
            found[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = chunk.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            found[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text).decode("utf-8")
        elif kind == b"IEND":
            break
    return found


def _describe_images(app, doctree, docname):
    """Alt text of each PNG a cell drew: the description humanlib.viz stored in it."""
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        uris = [image.get("uri", "")] + list(image.get("candidates", {}).values())
        places = [Path(app.srcdir) / u.lstrip("/") for u in uris if u]
        places += [Path(app.srcdir) / Path(docname).parent / u for u in uris if u and not u.startswith("/")]
        path = next((p for p in places if p.suffix.lower() == ".png" and p.is_file()), None)
        if path is not None:
            text = png_text(path).get(DESCRIPTION_KEY)
            if text:
                image["alt"] = "Figure: " + text


def _static_files(app, config):
    config.html_static_path.append(str(HERE / "static"))


def setup(app):
    _check_plotly_version()  # fail early, naming the command that fixes it
    app.connect("config-inited", _static_files)
    app.add_css_file(STYLE)
    app.add_js_file(SCRIPT, priority=450)
    app.connect("html-page-context", _add_assets)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.connect("doctree-resolved", _describe_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
