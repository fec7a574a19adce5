"""The built book works in a browser, offline.

The HTML in ``_build/html`` (written by ``make book``; ``make test`` builds it first) is
checked twice:

* statically: every internal link points at a file and anchor that exist, and no page
  loads a script or stylesheet from the network;
* in headless Chromium: no JavaScript error, every plotly figure rendered, every formula
  typeset by MathJax (no raw ``\\(`` left). A screenshot of every page is saved under
  ``_build/screenshots`` for a person to look at.

Without a built book or without Chromium (Debian package ``chromium``) these tests skip
with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import REPO, in_ci

pytestmark = pytest.mark.browser

HTML_DIR = REPO / "_build" / "html"
SHOTS_DIR = REPO / "_build" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,2000", "--virtual-time-budget=15000",
    "--enable-logging=stderr", "--v=0",
]


def _missing(reason: str):
    if in_ci():
        pytest.fail(reason + " (CI must run this check)")
    pytest.skip(reason)


def _book_pages() -> list[Path]:
    if not (HTML_DIR / "index.html").is_file():
        _missing(f"no built book in {HTML_DIR}: run `make book` first")
    skip = {"genindex.html", "search.html", "py-modindex.html"}
    return sorted(p for p in HTML_DIR.rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    _missing("Chromium is not installed (Debian: apt-get install chromium)")


def _page_id(page: Path) -> str:
    return page.relative_to(HTML_DIR).as_posix()


def pytest_generate_tests(metafunc):
    if "page" in metafunc.fixturenames:
        pages = [p for p in HTML_DIR.rglob("*.html")] if HTML_DIR.is_dir() else []
        names = sorted(_page_id(p) for p in pages
                       if p.name not in {"genindex.html", "search.html", "py-modindex.html"}
                       and "_static" not in p.parts and "_sources" not in p.parts)
        metafunc.parametrize("page", names or ["index.html"])


HREF = re.compile(r'''<(?:a|link|script|img|iframe)\b[^>]*?\b(?:href|src)=["']([^"']+)["']''', re.I)
ID = re.compile(r'''\bid=["']([^"']+)["']''')


def _ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        cache[path] = {html.unescape(i) for i in ID.findall(path.read_text(encoding="utf-8"))}
    return cache[path]


def test_internal_links_resolve():
    """Every internal link, script and image is relative (the site works from a sub-path) and exists."""
    ids: dict[Path, set[str]] = {}
    broken = []
    for page in _book_pages():
        for target in HREF.findall(page.read_text(encoding="utf-8")):
            target = html.unescape(target)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
                continue  # external (http:, mailto:, data:, javascript:): checked below
            if target.startswith("/"):
                broken.append(f"{_page_id(page)} -> {target} (root-absolute: breaks when the site is served from a sub-path)")
                continue
            parts = urlsplit(target)
            url, anchor = parts.path, parts.fragment
            dest = (page.parent / unquote(url)).resolve() if url else page
            if dest.is_dir():
                dest = dest / "index.html"
            if not dest.exists():
                broken.append(f"{_page_id(page)} -> {target} (no such file)")
            elif anchor and dest.suffix == ".html" and unquote(anchor) not in _ids(dest, ids):
                broken.append(f"{_page_id(page)} -> {target} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:50])


def test_no_page_loads_from_the_network():
    """Scripts and stylesheets are served by the book itself (the HTML works offline)."""
    remote = re.compile(r'''<(?:script|link)\b[^>]*?\b(?:src|href)=["'](https?:|//)[^"']*["']''', re.I)
    offenders = []
    for page in _book_pages():
        for match in remote.finditer(page.read_text(encoding="utf-8")):
            tag = match.group(0)
            if "<link" in tag.lower() and not re.search(r"stylesheet|preload|modulepreload", tag, re.I):
                continue  # e.g. <link rel="canonical">: not loaded by the browser
            offenders.append(f"{_page_id(page)}: {tag[:160]}")
    assert not offenders, "pages load resources from the network:\n" + "\n".join(offenders[:30])


def _render(page: Path) -> tuple[str, str]:
    """The DOM after scripts ran, and Chromium's log, for one page; saves a screenshot."""
    chromium = _chromium()
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    shot = SHOTS_DIR / (_page_id(page).replace("/", "__").removesuffix(".html") + ".png")
    url = page.as_uri()
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                             capture_output=True, text=True, timeout=120)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", url],
                       capture_output=True, text=True, timeout=120)
    return dom.stdout, dom.stderr


CONSOLE_ERROR = re.compile(r"(Uncaught [A-Za-z]*Error.*|CONSOLE.*\b(?:Error|error|Failed)\b.*)")
CODE_BLOCKS = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1>", re.S | re.I)


def test_page_renders_in_chromium(page):
    """No JavaScript error; plotly figures drawn; math typeset (no raw TeX left)."""
    path = HTML_DIR / page
    pages = _book_pages()
    assert path in pages, f"{page} is not a page of the built book"
    dom, log = _render(path)
    assert "</html>" in dom, f"Chromium returned no DOM for {page}; log:\n{log[-2000:]}"
    errors = [line for line in CONSOLE_ERROR.findall(log) if "favicon" not in line]
    assert not errors, f"JavaScript errors on {page}:\n" + "\n".join(errors[:20])

    figures = dom.count('class="plotly-graph-div')
    drawn = len(re.findall(r'class="[^"]*\bjs-plotly-plot\b', dom))
    assert drawn == figures, f"{page}: {figures} plotly figures, only {drawn} rendered"

    text = CODE_BLOCKS.sub("", dom)
    raw = [m.start() for m in re.finditer(r"\\\(|\\\[|\$\$", text)]
    assert not raw, f"{page}: raw TeX left untypeset, e.g. {text[raw[0]:raw[0] + 80]!r}"
    if 'class="math' in dom:
        assert "mjx-container" in dom, f"{page}: has formulas but MathJax did not run"


def test_every_notebook_page_launches_its_own_notebook_on_colab():
    """The Colab button of each chapter opens that chapter's notebook in the configured repository."""
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    repo = urlsplit(config["repository"]["url"]).path.strip("/")
    branch = config["repository"].get("branch", "main")
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        page = HTML_DIR / "notebooks" / (notebook.stem + ".html")
        if not page.is_file():
            _missing(f"{page} is not built: run `make book` first")
        expected = f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{notebook.name}"
        assert f'href="{expected}"' in page.read_text(encoding="utf-8"), f"{page.name}: no Colab button to {expected}"
