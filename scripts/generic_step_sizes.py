"""Step sizes of the generic defaults after an optimizer switch (``default_preset``).

    python scripts/generic_step_sizes.py adam 0.01 0.02 0.05 0.1             # ~2 min
    python scripts/generic_step_sizes.py sgd 0.001 0.003 0.01 0.02
    python scripts/generic_step_sizes.py adam 0.02 0.1 --seeds 4-7           # the check
    python scripts/generic_step_sizes.py adam 0.02 0.1 --seeds 0 --episodes 5   # smoke run

An env without a preset gets generic defaults: the natural gradient, at a KL size of 0.02.
A user who asks for another optimizer keeps the rest of those defaults, and the optimizer
takes the step size that ``default_preset`` holds for it. This script measures the
candidates. Every env of ``ENVS`` is trained with ``train(env, seed=s, optimizer=OPT,
lr=LR)`` for each learning rate and seed (200 episodes, the generic default), and scored by
the mean of its last 50 training returns. For each env, the rates are ranked by their mean
score over the seeds (1 = best, ties share a rank), and the table ends with each rate's
mean rank over the envs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import rankdata

from linear_pg import train

ENVS: dict[str, dict] = {"Acrobot-v1": {}, "MountainCar-v0": {}, "Taxi-v4": {},
                         "FrozenLake-v1": {"is_slippery": False}, "CliffWalking-v1": {},
                         "Blackjack-v1": {}}
LAST = 50


def score(env_id: str, env_kwargs: dict, optimizer: str, lr: float, seed: int,
          episodes: int | None) -> float:
    """Mean of the last LAST training returns of one run."""
    warnings.filterwarnings("ignore")        # gymnasium's notes on the toy-text envs
    run = train(env_id, seed=seed, optimizer=optimizer, lr=lr, episodes=episodes,
                env_kwargs=env_kwargs or None)
    return float(np.mean(run.episode_returns[-LAST:]))


def sweep(optimizer: str, lrs: list[float], seeds: list[int], *, envs: dict | None = None,
          episodes: int | None = None, jobs: int = 2) -> dict[str, np.ndarray]:
    """Scores per env, each of shape (len(lrs), len(seeds))."""
    envs = ENVS if envs is None else envs
    tasks = [(env, lr, seed) for env in envs for lr in lrs for seed in seeds]
    scores = Parallel(n_jobs=jobs)(delayed(score)(env, envs[env], optimizer, lr, seed, episodes)
                                   for env, lr, seed in tasks)
    n = len(lrs) * len(seeds)
    return {env: np.reshape(scores[i * n:(i + 1) * n], (len(lrs), len(seeds)))
            for i, env in enumerate(envs)}


def mean_ranks(results: dict[str, np.ndarray]) -> np.ndarray:
    """Each learning rate's rank (1 = best mean score) averaged over the envs."""
    return np.mean([rankdata(-table.mean(axis=1)) for table in results.values()], axis=0)


def table_rows(lrs: list[float], results: dict[str, np.ndarray]) -> list[str]:
    """Markdown rows: each env's mean score per rate, then the mean ranks."""
    rows = ["| env | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " |",
            "|---|" + "---|" * len(lrs)]
    rows += [f"| {env} | " + " | ".join(f"{m:.2f}" for m in table.mean(axis=1)) + " |"
             for env, table in results.items()]
    rows.append("| mean rank | " + " | ".join(f"{r:.2f}" for r in mean_ranks(results)) + " |")
    return rows


def seed_range(text: str) -> list[int]:
    """'0-3' -> [0, 1, 2, 3]; '5' -> [5]."""
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[2],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("optimizer", choices=("adam", "sgd", "npg"))
    p.add_argument("lrs", type=float, nargs="+", metavar="LR", help="learning rates to compare")
    p.add_argument("--seeds", type=seed_range, default=seed_range("0-3"),
                   help="training seeds, e.g. 0-3 (default) or 4-7")
    p.add_argument("--episodes", type=int, default=None,
                   help="training episodes (default: the generic 200)")
    p.add_argument("--jobs", type=int, default=2, help="parallel processes (joblib)")
    args = p.parse_args()
    start = time.perf_counter()
    results = sweep(args.optimizer, args.lrs, args.seeds, episodes=args.episodes,
                    jobs=args.jobs)
    print("\n".join(table_rows(args.lrs, results)))
    print(f"({args.optimizer}, seeds {args.seeds[0]}-{args.seeds[-1]}, mean of the last "
          f"{LAST} training returns; {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
