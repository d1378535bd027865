"""Regenerate every figure of figures/ that the library makes (not the notebooks' nb* ones).

    python scripts/make_figures.py                 # all figures, 10 seeds (a while)
    python scripts/make_figures.py --seeds 2 --episodes 20 --out /tmp/figs   # a smoke run
    python scripts/make_figures.py --plot-only     # redraw from the runs of the last call

One function per figure; each trains what it needs through the same code path as
``linear-pg train`` (run directories under ``--runs``), then plots or renders it:

- ``learning_curve_<env>.png/.svg``: every preset over the seeds (mean, 95% t-interval).
- ``estimators_CartPole-v1.png/.svg``: total return vs reward-to-go vs reward-to-go with a
  value baseline vs the natural gradient, on CartPole over the seeds.
- ``cartpole_trained.gif`` and ``pendulum_swingup.gif``: one episode of a trained policy
  (the seed with the best final moving average), acting with its mean action.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gymnasium as gym

from linear_pg.jobs import train_to_dir
from linear_pg.plotting import plot_run_dirs
from linear_pg.presets import PRESETS
from linear_pg.render import render_gif
from linear_pg.rundir import find_runs, load_run_dir, read_history

ADAM = {"optimizer": "adam", "optimizer_kwargs": {}, "lr": 0.1, "normalize_weights": False,
        "batch_episodes": 1}
"""One episode per Adam step, unnormalized weights: the CartPole preset's optimizer."""

ESTIMATOR_VARIANTS = {
    # Plain REINFORCE, every action credited with the whole episode's return.
    "total return": {"estimator": "total_return", "baseline": "none", **ADAM},
    # Drop the rewards that came before each action: same expectation, less variance.
    "reward-to-go": {"estimator": "reward_to_go", "baseline": "none", **ADAM},
    # Also subtract a linear value baseline fitted on earlier episodes (the preset).
    "reward-to-go - value baseline": {"estimator": "reward_to_go", "baseline": "value", **ADAM},
    # The same weights, standardized per batch, with a natural-gradient step of fixed KL
    # size; the Fisher matrix needs more than one episode, so 10 episodes per step.
    "natural gradient (rtg - baseline, 10 ep./step)": {
        "estimator": "reward_to_go", "baseline": "value", "normalize_weights": True,
        "optimizer": "npg", "optimizer_kwargs": {}, "lr": 0.05, "batch_episodes": 10},
}
"""The estimator comparison on CartPole (gamma, features, policy: the CartPole preset)."""


def best_seed(run_dir: Path) -> Path:
    """The seed directory with the highest mean return over its last 100 episodes."""
    return max(find_runs(run_dir), key=lambda d: read_history(d)["return"][-100:].mean())


def learning_curves(out: Path, runs: Path, seeds: int, jobs: int | None,
                    episodes: int | None) -> list[Path]:
    """learning_curve_<env>.png/.svg for every preset (jobs=None: plot existing runs)."""
    written = []
    for env_id in PRESETS:
        if jobs is not None:
            train_to_dir(env_id, runs / env_id, range(seeds), n_jobs=jobs, episodes=episodes)
        written += plot_run_dirs([runs / env_id], out / f"learning_curve_{env_id}",
                                 title=f"{env_id}: linear policy, preset, {seeds} seeds")
    return written


def estimator_comparison(out: Path, runs: Path, seeds: int, jobs: int | None,
                         episodes: int | None) -> list[Path]:
    """estimators_CartPole-v1.png/.svg: four estimators of the same gradient."""
    dirs = []
    for name, kwargs in ESTIMATOR_VARIANTS.items():
        d = runs / "estimators" / "".join(c if c.isalnum() else "_" for c in name)
        if jobs is not None:
            train_to_dir("CartPole-v1", d, range(seeds), n_jobs=jobs, episodes=episodes,
                         **kwargs)
        dirs.append(d)
    return plot_run_dirs(dirs, out / "estimators_CartPole-v1", labels=list(ESTIMATOR_VARIANTS),
                         title=f"CartPole-v1: gradient estimators, {seeds} seeds each")


def hanging_start_seed(env_id: str, env_kwargs: dict, tries: int = 100) -> int:
    """The first render seed whose pendulum starts hanging down (cos theta < -0.9)."""
    env = gym.make(env_id, **env_kwargs)
    for seed in range(tries):
        s, _ = env.reset(seed=seed)      # record_episode resets with the same seed
        if s[0] < -0.9:
            return seed
    return 0


def gifs(out: Path, runs: Path) -> list[Path]:
    """cartpole_trained.gif and pendulum_swingup.gif from the best seed of each preset."""
    cartpole = load_run_dir(best_seed(runs / "CartPole-v1"))
    path_c, _, _ = render_gif(cartpole, out / "cartpole_trained.gif", frame_skip=2, scale=0.5)
    pendulum = load_run_dir(best_seed(runs / "Pendulum-v1"))
    seed = hanging_start_seed("Pendulum-v1", pendulum.config.get("env_kwargs", {}))
    path_p, _, _ = render_gif(pendulum, out / "pendulum_swingup.gif", seed=seed, scale=0.5)
    return [path_c, path_p]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="figures", help="figure directory (default: figures)")
    parser.add_argument("--runs", default="runs/figures",
                        help="where the training runs go (default: runs/figures)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per curve (default: 10)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="parallel processes (default: all CPUs)")
    parser.add_argument("--episodes", type=int, default=None,
                        help="training episodes per run (default: each preset's)")
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw the figures from the runs already in --runs")
    args = parser.parse_args(argv)
    out, runs = Path(args.out), Path(args.runs)
    jobs = None if args.plot_only else args.jobs
    written = learning_curves(out, runs, args.seeds, jobs, args.episodes)
    written += estimator_comparison(out, runs, args.seeds, jobs, args.episodes)
    written += gifs(out, runs)
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
