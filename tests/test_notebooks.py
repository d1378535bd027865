"""Execute every tutorial notebook (notebooks/NN_*.ipynb) and fail on any cell error.

Each notebook prints its numeric checks and also ``assert``s them, so a wrong gradient, a
biased estimate or a policy that stops learning makes its cell raise and this test fail.

Settings used here:

- ``LINEAR_PG_NOTEBOOK_QUICK=1``: every notebook reads it and uses fewer episodes, seeds and
  runs (the committed outputs use the full settings). The checks stay real: tolerances are
  in standard errors of the smaller samples.
- ``LINEAR_PG_FIGURES_DIR`` points at a temporary directory, so the test never overwrites the
  committed figures in ``figures/``.
- The kernel is ``python3`` launched with this interpreter (jupyter_client replaces the
  kernelspec's ``python`` by ``sys.executable``); ``test_kernel_uses_this_python`` checks it.
- The working directory is ``notebooks/``, as when a reader opens them.

Regenerate the committed notebooks (full settings, with outputs) with
``python notebooks/_build/build.py all``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")
                   if not p.name.endswith(".failed.ipynb"))
CELL_TIMEOUT = 600


@pytest.fixture
def quick_env(tmp_path, monkeypatch):
    """Environment of the notebook kernel: quick settings, figures in a temporary folder."""
    monkeypatch.setenv("LINEAR_PG_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("LINEAR_PG_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.delenv("MPLBACKEND", raising=False)     # the kernel uses the inline backend
    return tmp_path / "figures"


def _execute(nb, **kwargs):
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
                                     **kwargs)
    return client.execute()


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")


def test_there_are_eight_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 9)]


def test_kernel_uses_this_python(quick_env):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys\nprint(sys.executable)\nprint(os.getcwd())\n"
        "print(os.environ['LINEAR_PG_NOTEBOOK_QUICK'])")])
    out = _execute(nb).cells[0].outputs[0]["text"].split("\n")
    assert os.path.realpath(out[0]) == os.path.realpath(sys.executable)
    assert Path(out[1]).resolve() == NOTEBOOK_DIR
    assert out[2] == "1"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, quick_env):
    nb = nbformat.read(path, as_version=4)
    _execute(nb)      # raises CellExecutionError on the first failing cell (or assert)
    errors = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert "quick settings" in _stdout(nb.cells[1])
    # figures went to the temporary folder (named after the notebook), not to figures/
    assert all(p.name.startswith(f"nb{path.name[:2]}_") for p in quick_env.iterdir())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_outputs_and_structure(path):
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.get("outputs") for c in code_cells[:1])
    assert all(c.get("execution_count") is not None for c in code_cells), \
        f"{path.name} must be committed executed (python notebooks/_build/build.py NN)"
    assert not any(o.get("output_type") == "error" for c in code_cells for o in c.outputs)
    assert "full settings" in _stdout(code_cells[0])
    first, last = nb.cells[0].source, nb.cells[-1].source
    assert "What you will learn" in first
    assert "## Summary" in last and "## Exercises" in last


@pytest.mark.parametrize("args, code, says", [
    (["--help"], 0, "usage:"),
    ([], 2, "name the notebooks to build"),      # it rebuilt all of them, over the committed
    (["--dry-run"], 2, "unknown option --dry-run"),
    (["09"], 2, "no notebook '09'"),
])
def test_the_build_script_builds_only_the_notebooks_named(args, code, says):
    import subprocess

    before = {p: p.stat().st_mtime_ns for p in NOTEBOOKS}
    done = subprocess.run([sys.executable, str(NOTEBOOK_DIR / "_build" / "build.py"), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == code and says in done.stdout + done.stderr
    assert {p: p.stat().st_mtime_ns for p in NOTEBOOKS} == before


@pytest.mark.parametrize("quick, expected", [("1", "../figures/quick"), ("0", "../figures")])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_quick_run_never_replaces_the_committed_figures(path, quick, expected, monkeypatch):
    # a reader's quick run wrote its figures over the full-settings ones in figures/
    nb = nbformat.read(path, as_version=4)
    settings = next(c.source for c in nb.cells
                    if c.cell_type == "code" and "FIG_DIR = " in c.source)
    monkeypatch.setenv("LINEAR_PG_NOTEBOOK_QUICK", quick)
    monkeypatch.delenv("LINEAR_PG_FIGURES_DIR", raising=False)
    code = settings.split("FIG_DIR.mkdir")[0]       # where, without creating it
    scope: dict = {}
    exec("import os\nfrom pathlib import Path\nQUICK = " + code.split("\nQUICK = ", 1)[1],
         scope)                                      # the settings, after the imports
    assert scope["FIG_DIR"] == Path(expected)
