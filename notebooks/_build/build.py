"""Build and execute the notebooks: ``python notebooks/_build/build.py 01 03`` or ``all``.

Add ``--no-exec`` to write them without running (no outputs).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbtools import build  # noqa: E402


def main(argv: list[str]) -> None:
    execute = "--no-exec" not in argv
    wanted = [a for a in argv if not a.startswith("--")]
    here = Path(__file__).resolve().parent
    available = sorted(p.stem[5:] for p in here.glob("make_*.py"))
    if not wanted or wanted == ["all"]:
        wanted = available
    for num in wanted:
        module = importlib.import_module(f"make_{num}")
        build(module.NAME, module.CELLS, execute=execute)


if __name__ == "__main__":
    main(sys.argv[1:])
