"""Compare Pendulum training variants on one fixed set of evaluation starts.

    python scripts/pendulum_variants.py                  # ~8 min: preset vs bumps-only, seeds 0-9
    python scripts/pendulum_variants.py --seeds 10-29    # ~15 min
    python scripts/pendulum_variants.py --variant kl03 '{"lr": 0.03}' --seeds 0-9
    python scripts/pendulum_variants.py --seeds 0-1 --episodes 20 --eval-episodes 40   # smoke run

A 100-episode evaluation of one Pendulum policy has a standard error of about 9 (a start
hanging at rest costs about -300 even for the best controller, a start near the top close
to 0), which is larger than the differences between most training variants. This script
measures them as the Pendulum preset was chosen: every variant is trained on the same
seeds with ``train("Pendulum-v1", seed=s, **variant)``, and the mean action of every trained
policy is evaluated on the same ``--eval-episodes`` starts (``evaluate(run, n, seed=777)``,
gymnasium's own Pendulum in a vector env), so that comparisons are paired: the start
noise is common to all of them and cancels in the differences.

Each variant is a name and a JSON dict of ``train`` keyword arguments that replace the
preset's (``optimizer_kwargs`` replaces the whole dict), plus two keys of this script's
own, each of which sets the ``callback`` (so use one at a time):
``"log_std_schedule": [start, end]`` trains with a fixed sigma whose log goes linearly from
start to end over the episodes (``log_std_mode="fixed"``, set after each update by a
``callback``), e.g. ``'{"log_std_schedule": [0.5, -0.693]}'`` for e^0.5 down to 0.5;
and ``"theta_average": f`` evaluates the mean of the parameters after each update in the
last fraction f of the episodes (Polyak averaging), e.g. ``'{"theta_average": 0.2}'``.
The preset itself is always run first. Unless ``--variant`` is given, two more are run:
``bumps-only`` (the preset without its energy term and entropy bonus, the comparison that
chose them) and ``bumps-only, sampled F`` (that one with the sampled Fisher matrix at a KL
size of 0.03, the comparison that chose the expected one). The table has
each variant's mean over the seeds, its worst seed and its paired difference from the
preset with the standard error of that difference across seeds.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from joblib import Parallel, delayed

from linear_pg import evaluate, train
from linear_pg.presets import PRESETS

ENV_ID = "Pendulum-v1"
EVAL_SEED = 777
BUMPS_ONLY = {"features": "rbf", "entropy_coef": 0.0, "mirror": True,
              "features_kwargs": {"n_centers": [12, 11], "angle_pairs": [[0, 1]],
                                  "low": [-8.0], "high": [8.0], "width": 0.8}}
"""The preset before its energy term and entropy bonus (the comparison that chose them)."""
DEFAULT_VARIANTS = {"bumps-only": BUMPS_ONLY,
                    "bumps-only, sampled F": {**BUMPS_ONLY, "lr": 0.03, "optimizer_kwargs": {
                        "damping": 0.2, "fisher": "sampled"}}}


def score(variant: dict, seed: int, episodes: int | None, eval_episodes: int,
          n_envs: int) -> float:
    """Mean-action return of one trained policy, averaged over the shared starts."""
    kwargs = dict(variant)
    if episodes is not None:
        kwargs["episodes"] = episodes
    total = kwargs.get("episodes", PRESETS[ENV_ID]["episodes"])
    if "log_std_schedule" in kwargs:
        kwargs.update(shrinking_sigma(*kwargs.pop("log_std_schedule"), total))
    average = None
    if "theta_average" in kwargs:
        if "callback" in kwargs:
            raise ValueError("theta_average cannot be combined with log_std_schedule or a "
                             "callback: each sets train's callback")
        average = ThetaAverage(kwargs.pop("theta_average"), total)
        kwargs["callback"] = average
    run = train(ENV_ID, seed=seed, **kwargs)
    if average is not None:
        run.policy.theta = average.mean()
    return float(evaluate(run, eval_episodes, seed=EVAL_SEED, n_envs=n_envs).mean())


class ThetaAverage:
    """A ``train`` callback that sums the parameters after every update once more than
    ``1 - fraction`` of the ``episodes`` have been played; :meth:`mean` is their average."""

    def __init__(self, fraction: float, episodes: int) -> None:
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"theta_average must be in (0, 1], got {fraction!r}")
        self.start = (1.0 - fraction) * episodes
        self.total: np.ndarray | None = None
        self.count = 0

    def __call__(self, run) -> None:
        if run.n_episodes > self.start:
            theta = run.policy.theta
            self.total = theta.copy() if self.total is None else self.total + theta
            self.count += 1

    def mean(self) -> np.ndarray:
        if self.total is None:
            raise ValueError("theta_average: no update fell in the averaged fraction")
        return self.total / self.count


def shrinking_sigma(start: float, end: float, episodes: int) -> dict:
    """``train`` arguments for a fixed sigma with log sigma going linearly from ``start``
    (the first batch) to ``end`` (after the last update)."""
    def set_log_std(run) -> None:
        run.policy.log_std[...] = start + (end - start) * run.n_episodes / episodes

    return {"policy_kwargs": {"log_std_mode": "fixed", "init_log_std": start},
            "callback": set_log_std}


def seed_range(text: str) -> list[int]:
    """'0-9' -> [0, ..., 9]; '3' -> [3]."""
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[2],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=seed_range, default=seed_range("0-9"),
                   help="training seeds, e.g. 0-9 (default) or 10-29")
    p.add_argument("--variant", nargs=2, action="append", metavar=("NAME", "JSON"),
                   help="a variant: its name and train() keyword arguments as JSON "
                        "(repeatable; default: bumps-only and bumps-only, sampled F)")
    p.add_argument("--episodes", type=int, default=None,
                   help="training episodes (default: the preset's 500)")
    p.add_argument("--eval-episodes", type=int, default=2000,
                   help="shared evaluation starts per policy (default 2000)")
    p.add_argument("--n-envs", type=int, default=50, help="sub-environments for evaluation")
    p.add_argument("--jobs", type=int, default=2, help="parallel processes (joblib)")
    return p.parse_args()


def compare(variants: dict[str, dict], seeds: list[int], *, episodes: int | None = None,
            eval_episodes: int = 2000, n_envs: int = 50, jobs: int = 2) -> np.ndarray:
    """Scores of every variant on every seed, shape (n_variants, n_seeds), in dict order."""
    tasks = [(name, seed) for name in variants for seed in seeds]
    scores = Parallel(n_jobs=jobs)(
        delayed(score)(variants[name], seed, episodes, eval_episodes, n_envs)
        for name, seed in tasks)
    return np.array(scores).reshape(len(variants), len(seeds))


def table_rows(names: list[str], table: np.ndarray) -> list[str]:
    """One line per variant: mean, worst seed, paired difference from row 0 +- its standard
    error across seeds, and the per-seed scores."""
    lines = [f"{'variant':<12} {'mean':>7} {'worst':>7} {'vs preset':>16}  per seed"]
    for i, (name, row) in enumerate(zip(names, table, strict=True)):
        diff = row - table[0]
        se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan")
        versus = "" if i == 0 else f"{diff.mean():+.1f} +- {se:.1f}"
        lines.append(f"{name:<12} {row.mean():7.1f} {row.min():7.1f} {versus:>16}  "
                     + " ".join(f"{x:.1f}" for x in row))
    return lines


def main() -> None:
    args = parse_args()
    variants = {"preset": {}}
    variants.update({name: json.loads(text) for name, text in args.variant} if args.variant
                    else DEFAULT_VARIANTS)
    start = time.perf_counter()
    table = compare(variants, args.seeds, episodes=args.episodes,
                    eval_episodes=args.eval_episodes, n_envs=args.n_envs, jobs=args.jobs)
    print(f"Pendulum-v1, mean action over the same {args.eval_episodes} starts per policy, "
          f"training seeds {args.seeds[0]}-{args.seeds[-1]}")
    print("\n".join(table_rows(list(variants), table)))
    for name, variant in variants.items():
        print(f"  {name}: {json.dumps(variant)}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
