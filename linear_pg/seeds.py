"""Training one run per seed, in parallel processes with joblib when asked."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym

from ._validation import check_int
from ._workers import Place, callers_place, take_place
from .run import Run
from .trainer import train


def check_seeds(seeds: object) -> list[int]:
    """``seeds`` as a list of non-negative ints: an int n means 0 .. n - 1."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        return list(range(check_int(seeds, "seeds", low=1)))
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be an int n (seeds 0 .. n - 1) or a sequence of ints, "
                        f"got {type(seeds).__name__}")
    out = [check_int(s, "seeds", low=0) for s in seeds]
    if not out:
        raise ValueError("seeds must hold at least one seed, got an empty sequence")
    twice = sorted({s for s in out if out.count(s) > 1})
    if twice:
        raise ValueError(f"seeds must be distinct (a seed gives the same run bit for bit), "
                         f"got {out} with {', '.join(map(str, twice))} more than once")
    return out


def train_seeds(env_id: str, seeds: Sequence[int] | int, *, n_jobs: int = 1,
                **train_kwargs: Any) -> list[Run]:
    """:func:`~linear_pg.train` once per seed, in parallel processes with joblib when n_jobs > 1.

    An env that the calling script registered with ``gymnasium.register`` is registered in
    the worker processes too.

    Parameters
    ----------
    env_id : str
        The environment, as for :func:`~linear_pg.train`.
    seeds : int or sequence of int
        An int n, meaning seeds 0 .. n - 1, or distinct seeds >= 0.
    n_jobs : int, default 1
        The number of processes, or -1 for one per CPU (as in joblib).
    **train_kwargs
        Passed to :func:`~linear_pg.train` for every seed (not ``seed``). A
        ``checkpoint_path`` for several seeds must hold "{seed}", which each seed's run
        replaces by its seed (``"runs/seed-{seed}.npz"``).

    Returns
    -------
    list of Run
        One per seed, in the order of the seeds, identical to sequential runs (each run is
        seeded on its own).
    """
    seeds = check_seeds(seeds)
    if "seed" in train_kwargs:
        raise TypeError("train_seeds takes seeds= (an int n or a list of ints), not seed=")
    n_jobs = check_int(n_jobs, "n_jobs")
    if n_jobs < 1 and n_jobs != -1:
        raise ValueError(f"n_jobs must be >= 1, or -1 for one process per CPU, got {n_jobs}")
    per_seed = [dict(train_kwargs, **_seed_checkpoint(train_kwargs, s, len(seeds)))
                for s in seeds]
    if n_jobs == 1:
        return [train(env_id, seed=s, **kw) for s, kw in zip(seeds, per_seed, strict=True)]
    from joblib import Parallel, delayed

    spec = gym.spec(env_id) if isinstance(env_id, str) and env_id in gym.registry else None
    here = callers_place()
    return Parallel(n_jobs=n_jobs)(delayed(_train_in_worker)(spec, env_id, here, seed=s, **kw)
                                   for s, kw in zip(seeds, per_seed, strict=True))


def _train_in_worker(spec: gym.envs.registration.EnvSpec | None, env_id: str, here: Place,
                     **kwargs: Any) -> Run:
    """:func:`~linear_pg.train` in a worker process, from the caller's directory and Python path
    ``here`` (:mod:`linear_pg._workers`), which first registers ``spec`` if it does not
    know ``env_id``: an env that the user's script registered with ``gymnasium.register``
    exists only in the parent process."""
    take_place(here)
    if spec is not None and env_id not in gym.registry:
        gym.registry[env_id] = spec
    return train(env_id, **kwargs)


def _seed_checkpoint(train_kwargs: dict[str, Any], seed: int, n_seeds: int) -> dict[str, Any]:
    """``checkpoint_path`` for one seed of :func:`train_seeds`: "{seed}" in it is replaced
    by the seed; without it, several seeds would all write one file (a ValueError)."""
    path = train_kwargs.get("checkpoint_path")
    if path is None:
        return {}
    if "{seed}" in str(path):
        return {"checkpoint_path": str(path).replace("{seed}", str(seed))}
    if n_seeds > 1:
        raise ValueError(f"checkpoint_path {str(path)!r} would be written by all {n_seeds} "
                         f"seeds; put {{seed}} in it, e.g. 'runs/seed-{{seed}}.npz'")
    return {}
