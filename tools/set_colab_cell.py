"""Write the course's Colab cell as the first code cell of every notebook.

The cell clones the repository the book's launch buttons point at (``repository.url`` in
``_config.yml``) and installs it, so the library, its committed assets and checkpoints and
the ``results/`` files the chapters read are all there; ``tests/test_notebooks.py`` checks
every notebook carries exactly this cell, tagged ``hide-input`` so the book shows it collapsed. Usage: ``python tools/set_colab_cell.py notebooks/*.ipynb``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]


def colab_cell_source() -> str:
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    checkout = "/content/" + url.rstrip("/").rsplit("/", 1)[-1]
    return (
        "# On Colab: fetch the course (library, open body model, corpus, checkpoints, results) and\n"
        "# install it into this runtime. Colab's own torch is kept; elsewhere this cell does nothing.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f"    ![ -d {checkout} ] || git clone -q --depth 1 {url} {checkout}\n"
        f"    %pip install -q -e {checkout}\n"
        f'    sys.path.insert(0, "{checkout}")  # importable now, without restarting the runtime'
    )


def set_colab_cell(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    first.source = colab_cell_source()
    tags = first.metadata.setdefault("tags", [])
    if "hide-input" not in tags:  # collapsed in the book: set-up, not the chapter's content
        tags.append("hide-input")
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        set_colab_cell(Path(name))
        print(f"{name}: Colab cell written")
