"""The caller's working directory and Python path, carried into joblib's worker processes.

joblib (loky) reuses its worker processes from one ``Parallel`` call to the next, and a
worker keeps the directory and ``sys.path`` it was started with. After the caller's
``os.chdir``, a worker started before it wrote a relative ``checkpoint_path`` into the old
directory and could not import a ``"module:EnvId-v0"`` module found only from the new one.
A task sent to a worker therefore carries :func:`callers_place`, and the worker calls
:func:`take_place` before it runs.
"""

from __future__ import annotations

import os
import sys

Place = tuple[str, list[str]]
"""(working directory, sys.path) of the calling process."""


def callers_place() -> Place:
    """This process's working directory and Python path, to hand to a worker."""
    return os.getcwd(), list(sys.path)


def take_place(place: Place) -> None:
    """In a worker: move to the caller's directory, and put the entries of its Python
    path that this process lacks in front of this one's. A worker on another machine (a
    Dask or Ray cluster behind joblib) where that directory does not exist stays where it
    is."""
    cwd, path = place
    if os.getcwd() != cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    sys.path[:0] = [entry for entry in path if entry not in sys.path]
