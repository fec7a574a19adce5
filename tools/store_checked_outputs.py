"""Execute notebooks and store the outputs of the cells nbval checks, and only those.

Notebooks are committed without outputs, except the cells tagged ``nbval-check-output``
(nbval's tag form of its ``# NBVAL_CHECK_OUTPUT`` comment, which the book would show):
``pytest --nbval-lax`` compares a fresh run of those cells with their stored output, so that
output must be in the file. Run after changing a notebook:

    .venv/bin/python tools/store_checked_outputs.py notebooks/01_rotations.ipynb [...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TAG = "nbval-check-output"


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def store_checked_outputs(path: Path) -> int:
    notebook = nbformat.read(path, as_version=4)
    executed = nbformat.read(path, as_version=4)
    NotebookClient(executed, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    kept = 0
    for cell, run in zip(notebook.cells, executed.cells):
        if cell.cell_type != "code":
            continue
        if is_checked(cell):
            cell.outputs = run.outputs
            cell.execution_count = run.execution_count
            kept += 1
        else:
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(notebook, path)
    return kept


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: stored the outputs of {store_checked_outputs(Path(name))} checked cells")
