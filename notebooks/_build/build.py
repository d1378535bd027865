"""Build and execute the notebooks: ``python notebooks/_build/build.py 01 03`` or ``all``.

Add ``--no-exec`` to write them without running (no outputs). Each notebook named is
written over its committed version, so nothing is built unless notebooks are named.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbtools import build  # noqa: E402


USAGE = ("usage: python notebooks/_build/build.py [--no-exec] all | NN [NN ...]\n"
         "  rebuilds (and runs) the notebooks named, e.g. 01 08, or all of them")


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    available = sorted(p.stem[5:] for p in here.glob("make_*.py"))
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    unknown = [a for a in argv if a.startswith("-") and a != "--no-exec"]
    wanted = [a for a in argv if not a.startswith("-")]
    if wanted == ["all"]:
        wanted = available
    bad = [a for a in wanted if a not in available]
    why = None
    if unknown:
        why = f"unknown option {unknown[0]}"
    elif bad:
        why = f"no notebook {bad[0]!r} (there are {', '.join(available)})"
    elif not wanted:
        why = "name the notebooks to build"
    if why is not None:
        print(f"{USAGE}\nerror: {why}", file=sys.stderr)
        return 2
    execute = "--no-exec" not in argv
    for num in wanted:
        module = importlib.import_module(f"make_{num}")
        build(module.NAME, module.CELLS, execute=execute)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
