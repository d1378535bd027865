"""Sample-efficiency benchmark over seeds: did each preset reach its target, and how fast?

Run through ``python -m linear_pg bench`` (:mod:`linear_pg.speed` adds the timings and
prints the table). :func:`run_benchmark` returns plain dicts (one per env and seed) and
:func:`summarize` one dict per env.

Targets (each over 10 seeds):

- CartPole-v1: "episodes to solve" is the first n >= 100 with
  mean(returns[n - 100:n]) >= 475 over the *training* returns (the stochastic policy
  while it learns). Target: solved on 10/10 seeds, median n <= 150.
- Pendulum-v1 (g = 10): after 500 training episodes, ``evaluate(run, 100,
  mean_action=True)`` averages >= -160 on 10/10 seeds.
- MountainCarContinuous-v0: after 300 training episodes, the mean policy averages >= 93
  over 100 episodes on 10/10 seeds.

A 100-episode evaluation is itself a sample: each row also records its standard error
(``value_se``, the sample std of the returns / sqrt(100)). Pendulum's returns depend
strongly on the random start (about -300 from rest at the bottom, about 0 near the top),
so that error is 8-10 and a policy a little better than -160 fails the target on some
evaluation draws. Its rows therefore also record ``check_value``, the mean over 1000
further episodes (other starts), which says how good the policy is rather than how
lucky the 100 starts were.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._validation import check_int
from .evaluation import evaluate
from .trainer import train

TARGETS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {"episodes": 500, "metric": "episodes_to_solve", "threshold": 475.0,
                    "goal": "solved on all seeds, median <= 150", "median_max": 150},
    "Pendulum-v1": {"episodes": 500, "metric": "eval_mean_return", "threshold": -160.0,
                    "goal": "mean-action eval >= -160 on all seeds", "check_episodes": 1000},
    "MountainCarContinuous-v0": {"episodes": 300, "metric": "eval_mean_return",
                                 "threshold": 93.0,
                                 "goal": "mean-action eval >= 93 on all seeds"},
}


def episodes_to_solve(returns: np.ndarray, threshold: float = 475.0,
                      window: int = 100) -> int | None:
    """First n >= window with mean(returns[n - window:n]) >= threshold, or None.

    Examples
    --------
    >>> episodes_to_solve(np.r_[np.zeros(10), np.full(200, 500.0)], 475.0, 100)
    105
    """
    R = np.asarray(returns, dtype=np.float64)
    if R.size < window:
        return None
    means = np.convolve(R, np.ones(window) / window, mode="valid")   # means[i] = R[i:i+window]
    hit = np.nonzero(means >= threshold - 1e-9)[0]
    return int(hit[0] + window) if hit.size else None


CHECK_SEED_OFFSET = 2_000_003
"""Seed of the check evaluation: run.seed + this, apart from the training resets and from
``evaluate``'s default (run.seed + evaluation.EVAL_SEED_OFFSET)."""


def standard_error(values: np.ndarray) -> float:
    """Standard error of the mean of ``values``: sample std (ddof 1) / sqrt(n); nan if n < 2.

    Examples
    --------
    >>> standard_error(np.array([1.0, 3.0]))
    1.0
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return float("nan")
    return float(np.std(values, ddof=1) / np.sqrt(values.size))


def benchmark_one(env_id: str, seed: int, *, episodes: int | None = None,
                  eval_episodes: int = 100, check_episodes: int | None = None,
                  **train_kwargs: Any) -> dict[str, Any]:
    """Train one seed with the env's preset and measure its target metric; a plain dict.

    ``check_episodes`` (default: the target's, 1000 for Pendulum, else none; 0 to skip)
    adds ``check_value``, the mean-action return over that many more episodes.
    """
    spec = TARGETS[env_id]
    episodes = spec["episodes"] if episodes is None else episodes
    check_episodes = check_int(spec.get("check_episodes", 0) if check_episodes is None
                               else check_episodes, "check_episodes", low=0)
    start = time.perf_counter()
    run = train(env_id, episodes=episodes, seed=seed, **train_kwargs)
    seconds = time.perf_counter() - start
    row: dict[str, Any] = {"env_id": env_id, "seed": seed, "episodes": run.n_episodes,
                           "steps": int(run.episode_lengths.sum()), "seconds": seconds,
                           "stopped_reason": run.stopped_reason, "metric": spec["metric"]}
    if spec["metric"] == "episodes_to_solve":
        n = episodes_to_solve(run.episode_returns, spec["threshold"])
        row.update(value=n, reached=n is not None)
    else:
        returns = evaluate(run, eval_episodes, mean_action=True)
        value = float(np.mean(returns))
        row.update(value=value, value_se=standard_error(returns),
                   reached=value >= spec["threshold"])
        if check_episodes > 0:
            check = evaluate(run, check_episodes, mean_action=True,
                             seed=run.seed + CHECK_SEED_OFFSET, n_envs=min(50, check_episodes))
            row.update(check_value=float(np.mean(check)), check_episodes=check_episodes)
    row["final_train_mean_20"] = float(np.mean(run.episode_returns[-20:]))
    return row


def run_benchmark(env_ids: list[str] | None = None, seeds: int = 10, *, quick: bool = False,
                  n_jobs: int = 2) -> list[dict[str, Any]]:
    """One row per (env, seed); ``quick`` uses 2 seeds and a fifth of the episodes."""
    env_ids = list(TARGETS) if env_ids is None else env_ids
    for env_id in env_ids:
        if env_id not in TARGETS:
            raise ValueError(f"env_ids must be among {sorted(TARGETS)}, got {env_id!r}")
    if quick:
        seeds = min(seeds, 2)
    jobs = []
    for env_id in env_ids:
        episodes = max(TARGETS[env_id]["episodes"] // 5, 100) if quick else None
        jobs += [(env_id, s, episodes) for s in range(seeds)]
    evaluation = {"eval_episodes": 20, "check_episodes": 0} if quick else {}
    if n_jobs == 1:
        return [benchmark_one(e, s, episodes=n, **evaluation) for e, s, n in jobs]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs)(
        delayed(benchmark_one)(e, s, episodes=n, **evaluation) for e, s, n in jobs)


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per env: seeds, seeds that reached the threshold, median value, verdict.

    Evaluation metrics also get ``se_min``/``se_max`` (the range of the rows' standard
    errors) and, when the rows have a check evaluation, ``check_median``/``check_min``/
    ``check_max``.
    """
    out = []
    for env_id in dict.fromkeys(r["env_id"] for r in rows):
        rs = [r for r in rows if r["env_id"] == env_id]
        spec = TARGETS[env_id]
        values = [r["value"] for r in rs]
        if spec["metric"] == "episodes_to_solve":
            med = float(np.median([v if v is not None else np.inf for v in values]))
            met = all(r["reached"] for r in rs) and med <= spec["median_max"]
        else:
            med = float(np.median(values))
            met = all(r["reached"] for r in rs)
        summary = {"env_id": env_id, "metric": spec["metric"], "seeds": len(rs),
                   "reached": sum(r["reached"] for r in rs), "median": med,
                   "min": _fmt_extreme(values, min), "max": _fmt_extreme(values, max),
                   "episodes": rs[0]["episodes"], "goal": spec["goal"], "target_met": met,
                   "seconds": float(np.sum([r["seconds"] for r in rs]))}
        if all("value_se" in r for r in rs):
            ses = [r["value_se"] for r in rs]
            summary.update(se_min=float(np.min(ses)), se_max=float(np.max(ses)))
        if all("check_value" in r for r in rs):
            checks = [r["check_value"] for r in rs]
            summary.update(check_median=float(np.median(checks)), check_min=min(checks),
                           check_max=max(checks), check_episodes=rs[0]["check_episodes"])
        out.append(summary)
    return out


def _fmt_extreme(values: list, fn: Any) -> float | None:
    finite = [v for v in values if v is not None]
    return float(fn(finite)) if finite else None
