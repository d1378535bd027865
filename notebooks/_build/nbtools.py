"""Helpers that build a notebook from markdown and code cells and execute it.

Each ``make_NN.py`` in this folder defines ``CELLS``, a list made with :func:`md` and
:func:`code`. ``python notebooks/_build/build.py 01 02`` (or ``all``) writes
``notebooks/NN_*.ipynb`` and executes it in place with nbclient, full settings.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from textwrap import dedent

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1]

IMPORTS = '''
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import linear_pg
'''

SETTINGS = '''
# LINEAR_PG_NOTEBOOK_QUICK=1: fewer episodes, seeds and runs (the test suite sets it).
QUICK = os.environ.get("LINEAR_PG_NOTEBOOK_QUICK", "0") == "1"
# Figures go to the repository's figures/ folder (figures/quick/ with the quick settings, so
# that a quick run never replaces them) unless LINEAR_PG_FIGURES_DIR says otherwise.
FIG_DIR = Path(os.environ.get("LINEAR_PG_FIGURES_DIR",
                              "../figures/quick" if QUICK else "../figures"))
FIG_DIR.mkdir(parents=True, exist_ok=True)
np.set_printoptions(precision=4, suppress=True)
print(f"linear_pg {linear_pg.__version__}, {'quick' if QUICK else 'full'} settings")
'''

INLINE_AGAIN = '''
# linear_pg.plotting selects the file-only Agg backend when imported: show figures inline again
%matplotlib inline
'''


def _sorted_imports(block: str) -> str:
    """The import block sorted as ruff's isort rules want it (unchanged if ruff is missing)."""
    with tempfile.TemporaryDirectory(dir=NOTEBOOKS) as tmp:
        f = Path(tmp) / "imports.py"
        f.write_text(block)
        try:
            subprocess.run(["ruff", "check", "--select", "I", "--fix", "--quiet", str(f)],
                           check=False, capture_output=True)
        except FileNotFoundError:
            return block
        return f.read_text()


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(dedent(text).strip())


def setup(extra: str = "", plots: bool = True) -> nbformat.NotebookNode:
    """The first code cell: imports (sorted), the QUICK flag and the figures folder."""
    base = IMPORTS if plots else IMPORTS.replace("import matplotlib.pyplot as plt\n", "")
    imports = _sorted_imports(base.strip() + "\n" + dedent(extra).strip() + "\n").strip()
    parts = ["%matplotlib inline" if plots else "", imports]
    if "linear_pg.plotting" in extra:
        parts.append(INLINE_AGAIN.strip())
    parts.append(SETTINGS.strip())
    return code((parts[0] + "\n" if parts[0] else "") + "\n\n".join(parts[1:]))


def build(name: str, cells: list, execute: bool = True, timeout: int = 900) -> Path:
    """Write ``notebooks/<name>.ipynb`` from ``cells`` and run it (cwd notebooks/)."""
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path = NOTEBOOKS / f"{name}.ipynb"
    if execute:
        os.environ.pop("LINEAR_PG_NOTEBOOK_QUICK", None)
        os.environ.pop("LINEAR_PG_FIGURES_DIR", None)
        os.environ.pop("MPLBACKEND", None)  # the kernel uses the inline backend
        t0 = time.perf_counter()
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        except Exception:
            nbformat.write(nb, path.with_suffix(".failed.ipynb"))   # for inspection
            raise
        print(f"{name}: executed in {time.perf_counter() - t0:.1f} s")
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path
