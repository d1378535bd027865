"""One BLAS thread while a run trains or is evaluated, so that a seed's run is the same in
every process.

A multithreaded BLAS splits the work of a matrix product between its threads, and the
rounding of the partial sums depends on how many there are: Pendulum's preset, trained in
a notebook (two OpenBLAS threads on two cores) and in a joblib worker (which loky limits to
one), parted after 50 episodes. With one thread everywhere, ``train`` gives the same run
bit for bit in a notebook, on the command line, in ``train_seeds``' worker processes and on
a machine with more cores. The matrices of linear policies are small (a few hundred
features), so one thread costs little.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

F = TypeVar("F", bound=Callable[..., Any])


def one_blas_thread(func: F) -> F:
    """``func`` run with BLAS and OpenMP limited to one thread (restored afterwards)."""
    @functools.wraps(func)
    def limited(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=1):
            return func(*args, **kwargs)
    return limited  # type: ignore[return-value]
