"""The built book works in a browser, offline, and reads right on a laptop and on a phone.

The HTML in ``_build/html`` (written by ``make book``; ``make test`` builds it first) is
checked twice:

* statically: every internal link points at a file and anchor that exist, no page loads a
  script or stylesheet from the network, no page loads a script over 2 MB, each chapter's
  Colab set-up cell is collapsed;
* in headless Chromium (one browser for the whole session, driven over the DevTools protocol
  by ``tests/chromium.py``; the pages served over HTTP as a web server would), every page at
  1366x900 and at 390x844: nothing in the console (errors, warnings, failed loads such as a
  favicon), every plotly figure drawn and every formula typeset, no raw Markdown table or raw
  TeX left as text, every sidebar and contents toggle opens its panel, nothing wider than the
  page or its column, no plotly control drawn over a title or a slider's labels, every figure
  titled with labelled axes and a legend naming its traces, images described (not by a file
  path) and not shrunk to unreadable text, and every 3D scene with one fixed range per axis
  holding every vertex of every trace, frame and slider step (``tests/book_checks.js``
  measures a page). A screenshot of every page at both sizes is kept in ``_build/screenshots``
  for a person to look at.

Without a built book or without Chromium (Debian package ``chromium``) these tests skip
with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import html
import re
import shutil
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import REPO, in_ci

pytestmark = pytest.mark.browser

HTML_DIR = REPO / "_build" / "html"
SHOTS_DIR = REPO / "_build" / "screenshots"


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


def test_the_site_root_serves_a_favicon():
    """/favicon.ico exists: browsers request it for pages that name no icon (the root redirect page).

    Without it the redirect's request was a 404 whenever Chromium asked before following the redirect.
    """
    icon = HTML_DIR / "favicon.ico"
    assert icon.is_file(), "no favicon.ico at the site root: html_extra_path in _config.yml should copy book/_extra"
    assert icon.read_bytes()[:4] == b"\x00\x00\x01\x00", "favicon.ico is not an ICO file"


VIEWPORTS = {"desktop": (1366, 900, False), "phone": (390, 844, True)}
CHECKS_JS = (Path(__file__).parent / "book_checks.js").read_text(encoding="utf-8")
#: The page is ready when every script ran, MathJax finished typesetting and plotly drew every figure.
READY = """(async () => {
  const plotsDrawn = () => [...document.querySelectorAll(".plotly-graph-div")].every(d => d.classList.contains("js-plotly-plot"));
  for (let i = 0; i < 300; i++) {
    const mathjax = !window.MathJax || !window.MathJax.startup || window.MathJax.startup.promise;
    const root = document.documentElement;  // null for a moment while a redirect loads the next page
    const fitted = Boolean(root) && root.dataset.humanlibFigures === "ready";  // book/_ext/static/humanlib-book.js
    if (document.readyState === "complete" && mathjax && plotsDrawn() && fitted) {
      if (window.MathJax && window.MathJax.startup) await window.MathJax.startup.promise;
      return true;
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return false;
})()"""
#: Console lines that are the headless browser's own, not the book's (software WebGL).
BROWSER_NOISE = re.compile(r"GL Driver Message|GPU stall due to ReadPixels|willReadFrequently|WebGL.*software|"
                           r"Automatic fallback to software WebGL")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test output stays readable
        pass


@pytest.fixture(scope="session")
def book_server():
    """The built book served over HTTP on localhost, as a reader's web server would."""
    _book_pages()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(HTML_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@dataclass
class PageView:
    """What one page showed at one viewport: console messages, measured defects, toggle results."""

    console: list[str]
    checks: dict
    toggles: list[str]
    screenshots: list[Path]


def _toggles(tab, viewport: str) -> list[str]:
    """Click every navigation toggle a reader can see; return what did not open what it should."""
    problems = []
    state = tab.evaluate(TOGGLE_STATE_JS)
    if viewport == "desktop":
        if not state["primaryButton"]:
            return ["no visible sidebar toggle (hamburger) in the page header"]
        if not state["navVisible"]:
            problems.append("the chapter list is not shown before any click")
        _tap(tab, ".primary-toggle")
        if tab.evaluate(TOGGLE_STATE_JS)["navVisible"]:
            problems.append("the sidebar toggle did not hide the chapter list")
        _tap(tab, ".primary-toggle")
        if not tab.evaluate(TOGGLE_STATE_JS)["navVisible"]:
            problems.append("a second click on the sidebar toggle did not bring the chapter list back")
        return problems
    for button, shows, what in (("primaryButton", "navVisible", "the chapter list"),
                                ("secondaryButton", "tocVisible", "this page's contents")):
        selector = ".primary-toggle" if button == "primaryButton" else ".secondary-toggle"
        if not state[button]:
            if button == "primaryButton" or state["hasToc"]:
                problems.append(f"no visible button opens {what}")
            continue
        if tab.evaluate(TOGGLE_STATE_JS)[shows]:
            problems.append(f"{what} is already on screen before the click")
        _tap(tab, selector)
        if not tab.evaluate(TOGGLE_STATE_JS)[shows]:
            problems.append(f"the {selector[1:]} button did not open {what}")
        tab.evaluate("document.querySelectorAll('dialog[open]').forEach(d => d.close())")
        tab.drain(0.2)
    return problems


#: The one toggle button of each kind a reader can see (the first one shown), and whether the
#: chapter list / the page's contents are on screen (inside the viewport, not hidden).
TOGGLE_STATE_JS = """(() => {
  const onScreen = (el) => { if (!el) return false; const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth && r.bottom > 0 && r.top < innerHeight
      && s.visibility !== "hidden" && s.display !== "none" && Number(s.opacity) > 0.1; };
  const visibleButton = (sel) => [...document.querySelectorAll(sel)].some(onScreen);
  const anyShown = (sel) => [...document.querySelectorAll(sel)].some(onScreen);
  return {primaryButton: visibleButton(".primary-toggle"), secondaryButton: visibleButton(".secondary-toggle"),
          navVisible: anyShown("nav.bd-links a.reference, .bd-sidebar-primary .bd-links a"),
          tocVisible: anyShown(".bd-toc-nav a, .page-toc a, #pst-page-navigation-heading-2 ~ * a"),
          hasToc: document.querySelectorAll(".bd-toc-nav a, .page-toc a").length > 0};
})()"""
#: Where the toggle a reader sees is (the first shown button matching the selector), or null.
BUTTON_AT_JS = """(() => { const b = [...document.querySelectorAll("%s")].find(el => { const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden"; });
  if (!b) return null; const r = b.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"""


def _tap(tab, selector: str) -> None:
    """Tap the button; a tap that loads another page is a defect (the button is covered by a link)."""
    where = tab.evaluate(BUTTON_AT_JS % selector)
    before = tab.evaluate("location.href")
    if where:
        tab.click(*where)
    tab.drain(0.5)
    after = tab.evaluate("location.href")
    if after.split("#")[0] != before.split("#")[0]:
        raise AssertionError(f"tapping {selector} at {where} opened {after} instead")


@pytest.fixture(scope="session")
def rendered(book_server) -> dict[tuple[str, str], PageView]:
    """Every page at both viewports, in one Chromium session; a screenshot of each is kept."""
    from chromium import Chromium

    binary = _chromium()
    shutil.rmtree(SHOTS_DIR, ignore_errors=True)  # no stale screenshot of a page that is gone
    SHOTS_DIR.mkdir(parents=True)
    views = {}
    with Chromium(binary) as tab:
        for viewport, (width, height, mobile) in VIEWPORTS.items():
            tab.set_viewport(width, height, mobile)
            for page in _book_pages():
                name = _page_id(page)
                stem = SHOTS_DIR / f"{name.replace('/', '__').removesuffix('.html')}__{viewport}"
                try:
                    tab.open(book_server + name, READY, timeout=120)
                except TimeoutError as err:  # every check of this page reports it
                    failed = [f"the page did not finish loading and drawing: {err}"]
                    checks = {k: failed for k in ("rawTables", "rawTex", "overflow", "images", "figures", "bodies", "overlaps")}
                    checks |= {"plotly": {"figures": 1, "drawn": 0}, "math": {"formulas": 0, "typeset": 0}}
                    views[name, viewport] = PageView(failed + [str(c) for c in tab.console], checks, failed, [])
                    continue
                tab.drain(1.0)  # messages logged after the load (fonts, favicon)
                checks = tab.evaluate(CHECKS_JS)
                console = [str(c) for c in tab.console if c.level == "error" or not BROWSER_NOISE.search(c.text)]
                try:
                    toggles = _toggles(tab, viewport)
                except (AssertionError, RuntimeError) as err:  # e.g. the tap followed a link
                    toggles = [str(err)]
                    tab.open(book_server + name, READY, timeout=120)
                tab.evaluate("window.scrollTo(0, 0)")
                views[name, viewport] = PageView(console, checks, toggles, tab.screenshots(stem))
    return views


def _view(rendered, page, viewport) -> PageView:
    path = HTML_DIR / page
    assert path in _book_pages(), f"{page} is not a page of the built book"
    return rendered[page, viewport]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_console_message(rendered, page, viewport):
    """No JavaScript error, failed load (favicon included) or warning of the book's own on any page."""
    view = _view(rendered, page, viewport)
    assert not view.console, f"{page} ({viewport}) console:\n" + "\n".join(view.console[:20])


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_everything_rendered(rendered, page, viewport):
    """Every plotly figure drawn, every formula typeset; no raw Markdown table or raw TeX left as text."""
    checks = _view(rendered, page, viewport).checks
    assert checks["plotly"]["drawn"] == checks["plotly"]["figures"], f"{page}: {checks['plotly']}"
    if checks["math"]["formulas"]:
        assert checks["math"]["typeset"], f"{page}: has formulas but MathJax did not run"
    assert not checks["rawTables"], f"{page}: Markdown tables printed as text:\n" + "\n".join(checks["rawTables"][:5])
    assert not checks["rawTex"], f"{page}: TeX left as text:\n" + "\n".join(checks["rawTex"][:5])


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_navigation_toggles_open_what_they_should(rendered, page, viewport):
    """The sidebar (hamburger) button and, on a phone, the contents button each open their panel."""
    problems = _view(rendered, page, viewport).toggles
    assert not problems, f"{page} ({viewport}):\n" + "\n".join(problems)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_nothing_wider_than_the_page(rendered, page, viewport):
    """No content, figure or image wider than its column (a phone never scrolls sideways); no control over a title."""
    checks = _view(rendered, page, viewport).checks
    problems = checks["overflow"] + [p for p in checks["images"] if "column" in p] \
        + [p for p in checks["figures"] if "wide" in p] + checks["overlaps"]
    assert not problems, f"{page} ({viewport}):\n" + "\n".join(problems[:20])


def test_figures_are_readable_and_labelled(rendered, page):
    """Each figure: a title, axis labels (units on drawn 3D axes), a legend naming its traces; images
    with a description (not a file path) and not shrunk to unreadable text."""
    checks = _view(rendered, page, "desktop").checks
    problems = [p for p in checks["images"] + checks["figures"] if "column" not in p and " wide," not in p]
    assert not problems, f"{page}:\n" + "\n".join(problems[:20])


def test_bodies_stay_inside_their_scene(rendered, page):
    """Every 3D scene has one fixed range per axis holding every vertex of every trace, frame and slider
    step: side-by-side bodies share one camera, and no step leaves the view."""
    problems = _view(rendered, page, "desktop").checks["bodies"]
    assert not problems, f"{page}:\n" + "\n".join(problems[:20])


def test_screenshots_of_every_page_at_both_widths(rendered):
    """The screenshots a person looks at before a release (``_build/screenshots``, each page in tiles)."""
    for (page, viewport), view in rendered.items():
        assert view.screenshots, f"no screenshot of {page} ({viewport})"
        for shot in view.screenshots:
            assert shot.is_file() and shot.stat().st_size > 2_000, f"{shot} is missing or blank"
    assert {v for _, v in rendered} == set(VIEWPORTS)


MAX_SCRIPT_BYTES = 2_000_000


def test_figure_pages_load_no_script_over_2_mb():
    """A page with figures loads a plotly bundle with only what the book draws (3D meshes, scatter,
    sliders), not the 4.8 MB full bundle; no script any page loads, file or inline (a figure's data), is over 2 MB."""
    script = re.compile(r'''<script\b[^>]*?\bsrc=["']([^"']+)["']''', re.I)
    inline = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
    heavy = []
    for page in _book_pages():
        text = page.read_text(encoding="utf-8")
        for body in inline.findall(text):  # a figure's data is an inline script of its page
            if len(body.encode()) > MAX_SCRIPT_BYTES:
                heavy.append(f"{_page_id(page)} has an inline script of {len(body.encode()) / 1e6:.1f} MB")
        for src in script.findall(text):
            if re.match(r"^[a-z]+:|^//", src):
                continue
            path = (page.parent / unquote(urlsplit(src).path)).resolve()
            if path.is_file() and path.stat().st_size > MAX_SCRIPT_BYTES:
                heavy.append(f"{_page_id(page)} loads {src} ({path.stat().st_size / 1e6:.1f} MB)")
    assert not heavy, "scripts over 2 MB:\n" + "\n".join(heavy[:20])


def test_the_colab_set_up_cell_is_collapsed_on_every_chapter():
    """The first code cell (installing the course on Colab) is hidden behind a toggle in the book."""
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]*_*.ipynb")):
        page = HTML_DIR / "notebooks" / (notebook.stem + ".html")
        if not page.is_file():
            _missing(f"{page} is not built: run `make book` first")
        first = re.search(r'<div class="cell[^"]*"', page.read_text(encoding="utf-8"))
        assert first and "tag_hide-input" in first.group(0), f"{page.name}: the Colab cell is shown expanded ({first and first.group(0)})"


def test_every_notebook_page_launches_its_own_notebook_on_colab():
    """The Colab button of each chapter opens that chapter's notebook in the configured repository."""
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    repo = urlsplit(config["repository"]["url"]).path.strip("/")
    branch = config["repository"].get("branch", "main")
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        page = HTML_DIR / "notebooks" / (notebook.stem + ".html")
        if not page.is_file():
            _missing(f"{page} is not built: run `make book` first")
        expected = f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{notebook.name}"
        assert f'href="{expected}"' in page.read_text(encoding="utf-8"), f"{page.name}: no Colab button to {expected}"
