"""Every chapter notebook follows the course's conventions.

(nbval executes the notebooks themselves: ``pytest notebooks --nbval-lax``.)
"""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
# The Colab cell installs from the repository the book's launch buttons point at.
REPOSITORY = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
sys.path.insert(0, str(REPO / "tools"))
from set_colab_cell import colab_cell_source  # noqa: E402


def _toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "book" / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebook in notebooks/"


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    toc = _toc_files()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in toc, f"{path.name} is not listed in book/_toc.yml"
    for entry in toc:
        assert any((REPO / f"{entry}{ext}").is_file() for ext in (".md", ".ipynb")), \
            f"book/_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_the_course_on_colab(path):
    """The Colab cell fetches the repository of the launch buttons and installs it; no torch pin."""
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    first = _source(code[0])
    assert first == colab_cell_source(), f"{path.name}: the first code cell is not the course's Colab cell " \
        "(write it with tools/set_colab_cell.py)"
    assert '"google.colab" in sys.modules' in first and f"git clone -q --depth 1 {REPOSITORY} " in first
    assert not re.search(r"torch\s*[=<>~]", first), f"{path.name}: the Colab cell must not pin torch"
    tags = code[0].get("metadata", {}).get("tags", [])
    assert "hide-input" in tags, (f"{path.name}: the Colab cell must be collapsed in the book (cell tag 'hide-input'; "
                                  "tools/set_colab_cell.py adds it)")


#: nbval's cell tag for "compare this cell's output" (the tag form of its # NBVAL_CHECK_OUTPUT comment,
#: which the book would show to students).
CHECK_TAG = "nbval-check-output"


def _checked(cell) -> bool:
    return CHECK_TAG in cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_test_scaffolding_in_the_code_students_read(path):
    """nbval's markers are cell tags, never comments in the source the book shows."""
    marked = [i for i, c in enumerate(_cells(path)) if c["cell_type"] == "code"
              and re.search(r"^\s*#\s*(NBVAL_|PYTEST_VALIDATE_)", _source(c), re.M)]
    assert not marked, f"{path.name}: cells {marked} carry an nbval comment; use the cell tag {CHECK_TAG!r} instead"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs_except_checked_cells(path):
    """Only the cells nbval compares keep their (small, text) outputs in the file."""
    cells = [c for c in _cells(path) if c["cell_type"] == "code"]
    stored = [i for i, c in enumerate(cells) if c.get("outputs") and not _checked(c)]
    assert not stored, (f"{path.name}: code cells {stored} have stored outputs; clear them "
                        f"(only cells tagged {CHECK_TAG!r} keep theirs: tools/store_checked_outputs.py)")
    checked = [c for c in cells if _checked(c)]
    for cell in checked:
        assert cell.get("outputs"), (f"{path.name}: a cell tagged {CHECK_TAG!r} has no stored output, so nbval "
                                     "checks nothing; run tools/store_checked_outputs.py")
        for output in cell["outputs"]:
            kinds = set(output.get("data", {})) | ({"text/plain"} if output["output_type"] == "stream" else set())
            assert kinds <= {"text/plain"}, f"{path.name}: checked outputs must be plain text, got {sorted(kinds)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_structure(path):
    """Title, Overview ... Summary, Exercises (with solutions), in that order."""
    headings = [line.strip() for c in _cells(path) if c["cell_type"] == "markdown"
                for line in _source(c).splitlines() if line.startswith("#")]
    assert headings and headings[0].startswith("# "), f"{path.name}: the first heading must be the title"
    assert sum(h.startswith("# ") for h in headings) == 1, f"{path.name}: one '#' title per notebook"
    names = [h.lstrip("#").strip().lower() for h in headings]
    for section in ("overview", "summary", "exercises"):
        assert section in names, f"{path.name}: no '{section.title()}' section"
    assert names.index("overview") < names.index("summary") < names.index("exercises")
    text = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "markdown")
    assert "```{exercise}" in text and "```{solution}" in text, f"{path.name}: exercises need solutions"


def _run_colab_cell(on_colab: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """Run the Colab cell's IPython code in a stand-in shell; return the shell calls and the new sys.path entries."""
    import sys
    import types

    from IPython.core.inputtransformer2 import TransformerManager

    calls: list[tuple[str, str]] = []
    shell = types.SimpleNamespace(system=lambda cmd: calls.append(("system", cmd)),
                                  run_line_magic=lambda name, line: calls.append((name, line)))
    code = TransformerManager().transform_cell(colab_cell_source())
    saved_path, saved_colab = list(sys.path), sys.modules.get("google.colab")
    try:
        if on_colab:
            sys.modules["google.colab"] = types.ModuleType("google.colab")
        else:
            sys.modules.pop("google.colab", None)
        exec(compile(code, "<colab cell>", "exec"), {"get_ipython": lambda: shell})
        added = [p for p in sys.path if p not in saved_path]
    finally:
        sys.path[:] = saved_path
        if saved_colab is None:
            sys.modules.pop("google.colab", None)
        else:
            sys.modules["google.colab"] = saved_colab
    return calls, added


def test_colab_cell_clones_installs_and_imports_on_colab_only():
    """On Colab: clone the repository, pip-install it (editable, no torch), import from the clone."""
    checkout = "/content/" + REPOSITORY.rstrip("/").rsplit("/", 1)[-1]
    calls, added = _run_colab_cell(on_colab=True)
    assert calls[0][0] == "system" and f"git clone -q --depth 1 {REPOSITORY} {checkout}" in calls[0][1]
    assert calls[1] == ("pip", f"install -q -e {checkout}")
    assert added == [checkout]
    assert _run_colab_cell(on_colab=False) == ([], [])


def test_the_package_keeps_colabs_own_torch():
    """pip install on Colab must not replace its CUDA torch: torch is required with a lower bound only."""
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    torch_reqs = [d for d in deps if re.match(r"torch\b", d)]
    assert torch_reqs, "torch is not declared"
    for req in torch_reqs:
        assert not re.search(r"==|<|~=|!=|@", req), f"pyproject pins or caps torch ({req!r}); Colab's torch would be replaced"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    """nbformat 4.5 cells carry ids (a missing one is a warning today and an error in later nbformat)."""
    cells = json.loads(path.read_text())["cells"]
    missing = [i for i, c in enumerate(cells) if not c.get("id")]
    assert missing == [], f"{path.name}: cells {missing} have no id (give each a short unique id)"
    ids = [c["id"] for c in cells]
    assert len(set(ids)) == len(ids), f"{path.name}: duplicate cell ids"
