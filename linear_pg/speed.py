"""Speed benchmarks: training throughput against the raw environment, and the batch gradient
against the classic per-step loop and PyTorch autograd.

Every number here is measured, side by side, in one process on one machine; nothing is
asserted in the tests (timings depend on the machine). ``python -m linear_pg bench`` runs
:func:`benchmark_report`: :func:`speed_report`, then the sample efficiency of every preset
(:mod:`linear_pg.benchmark`), as a markdown table and JSON.

- :func:`raw_step_throughput`: env.step per second with random actions drawn up front, the
  ceiling for any agent in that environment.
- :func:`training_throughput`: env-steps per second of the trainer (rollout and update).
- :func:`gradient_speed`: the batch REINFORCE gradient as the trainer computes it
  (``policy._weighted_score_sum``, the unchecked kernel), timed against
  :func:`per_step_gradient` (one softmax Jacobian per step) and, when torch is importable,
  :func:`torch_autograd_gradient`; the public ``policy_gradient`` (input checks included)
  is timed alongside.
"""

from __future__ import annotations

import os
import time
import timeit
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from ._validation import check_int
from .estimator import policy_gradient
from .policies import SoftmaxPolicy

THROUGHPUT_TARGET = 0.5
"""Training env-steps/s must be at least this fraction of the raw env.step rate."""

LOOP_SPEEDUP_TARGET = 200.0
"""The batch gradient must be at least this many times faster than the per-step loop."""

AUTOGRAD_SPEEDUP_TARGET = 5.0
"""The batch gradient must be at least this many times faster than torch autograd."""


# ---------------------------------------------------------------------------- timing
def median_time(fn: Callable[[], object], *, repeat: int = 7,
                min_seconds: float = 0.05) -> float:
    """Median over ``repeat`` runs of the seconds one call of ``fn`` takes.

    Each run calls ``fn`` ``number`` times in a row (``timeit``), with ``number`` chosen
    once so that a run lasts about ``min_seconds``; the median of the per-call times is
    robust to the odd run slowed down by another process.
    """
    timer = timeit.Timer(fn)
    number = _calls_per_run(timer, min_seconds)
    times = timer.repeat(repeat=repeat, number=number)
    return float(np.median(times)) / number


def _calls_per_run(timer: timeit.Timer, min_seconds: float) -> int:
    """The smallest number of calls (1, 2, 5, 10, 20, ...) that lasts ``min_seconds``."""
    for scale in (10**k for k in range(10)):
        for number in (scale, 2 * scale, 5 * scale):
            if timer.timeit(number) >= min_seconds:
                return number
    return number


# ---------------------------------------------------------------------------- gradients
def per_step_gradient(W: np.ndarray, X: np.ndarray, A: np.ndarray,
                      weights: np.ndarray) -> np.ndarray:
    """The classic REINFORCE gradient of a linear softmax policy, one step at a time.

    This is the textbook loop the batch code replaces, kept here as the reference being
    timed: for each step t, the softmax Jacobian J = diag(p) - p p^T, its row a_t divided by
    p_{a_t} (the gradient of log p_{a_t} with respect to the logits), the outer product with
    x_t (the chain rule through z = x W) and the accumulation times the weight w_t.

    Parameters
    ----------
    W : array of shape (n_features, n_actions)
    X : array of shape (T, n_features)
    A : int array of shape (T,)
    weights : array of shape (T,)

    Returns
    -------
    g : array of shape (n_features * n_actions,), the sum over steps (divide by the number
        of episodes for the estimate; here one episode).
    """
    grad = np.zeros_like(W)
    for t in range(X.shape[0]):
        z = X[t] @ W
        p = np.exp(z - z.max())
        p /= p.sum()
        J = np.diagflat(p) - np.outer(p, p)        # dp_i / dz_j
        dlogp_dz = J[A[t]] / p[A[t]]               # d log p_a / dz = e_a - p
        grad += np.outer(X[t], dlogp_dz) * weights[t]
    return grad.ravel()


def torch_autograd_gradient(W: np.ndarray, X: np.ndarray, A: np.ndarray,
                            weights: np.ndarray) -> Callable[[], np.ndarray] | None:
    """A function computing the same gradient with PyTorch autograd, or None without torch.

    The tensors are built once, outside the timed function; each call runs the forward
    pass (logits, log_softmax, gather of the taken actions, weighted sum) and ``backward``,
    and returns the gradient of the weighted log-likelihood (the ascent direction).
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    Xt = torch.tensor(X, dtype=torch.float64)
    At = torch.tensor(A, dtype=torch.int64)[:, None]
    wt = torch.tensor(weights, dtype=torch.float64)

    def grad() -> np.ndarray:
        Wt.grad = None
        logp = torch.log_softmax(Xt @ Wt, dim=1).gather(1, At)[:, 0]
        (wt @ logp).backward()
        return Wt.grad.numpy().ravel()

    return grad


def gradient_problem(T: int = 1000, n_features: int = 5, n_actions: int = 2,
                     seed: int = 0) -> tuple[SoftmaxPolicy, np.ndarray, np.ndarray, np.ndarray]:
    """A CartPole-sized softmax problem: policy, features X (T, d), actions A, weights w."""
    rng = np.random.default_rng(seed)
    policy = SoftmaxPolicy(n_features, n_actions, init_scale=0.5, seed=rng)
    X = np.concatenate([rng.standard_normal((T, n_features - 1)), np.ones((T, 1))], axis=1)
    A = policy.sample(X, rng)
    weights = rng.standard_normal(T)
    return policy, X, A, weights


def gradient_speed(T: int = 1000, *, seed: int = 0, repeat: int = 7,
                   min_seconds: float = 0.05, use_torch: bool = True) -> dict[str, Any]:
    """Time the batch gradient against the per-step loop and (optionally) torch autograd.

    Parameters
    ----------
    T : int, default 1000
        Number of steps in the batch.
    seed : int, default 0
    repeat : int, default 7
        Timing runs; the median is reported.
    min_seconds : float, default 0.05
        Length of one timing run.
    use_torch : bool, default True
        Time torch autograd when torch is importable.

    Returns
    -------
    dict with ``T``, ``n_features``, ``n_actions``, the median seconds per gradient
    ``batch_s``, ``loop_s`` and ``torch_s`` (None without torch), the speedups
    ``loop_speedup`` and ``torch_speedup`` (None without torch), ``checked_s`` (the
    public :func:`linear_pg.policy_gradient`, input checks included) with
    ``checked_torch_speedup``, and ``max_abs_diff``, the largest difference between the
    gradients (all compute the same vector).

    Notes
    -----
    All compute g = sum_t w_t grad log pi(a_t | x_t) from the same W, X, A and w,
    probabilities included. ``batch_s`` times ``policy._weighted_score_sum(X, A, w)``, the
    call the trainer makes on arrays it built itself; like the loop and torch it does no
    input checking. ``checked_s`` adds the checks a user's call pays for (shapes, finite
    features and weights, actions in range).
    """
    T = check_int(T, "T", low=1)
    policy, X, A, w = gradient_problem(T, seed=seed)
    W = policy.W.copy()
    batch = policy._weighted_score_sum(X, A, w)
    loop = per_step_gradient(W, X, A, w)
    torch_fn = torch_autograd_gradient(W, X, A, w) if use_torch else None
    diffs = [np.max(np.abs(batch - loop)), np.max(np.abs(batch - policy_gradient(policy, X, A, w)))]
    if torch_fn is not None:
        diffs.append(np.max(np.abs(batch - torch_fn())))

    def time_it(fn: Callable[[], object]) -> float:
        return median_time(fn, repeat=repeat, min_seconds=min_seconds)

    batch_s = time_it(lambda: policy._weighted_score_sum(X, A, w))
    checked_s = time_it(lambda: policy_gradient(policy, X, A, w))
    loop_s = time_it(lambda: per_step_gradient(W, X, A, w))
    torch_s = time_it(torch_fn) if torch_fn is not None else None
    return {
        "T": T, "n_features": policy.n_features, "n_actions": policy.n_actions,
        "batch_s": batch_s, "checked_s": checked_s, "loop_s": loop_s, "torch_s": torch_s,
        "loop_speedup": loop_s / batch_s,
        "torch_speedup": torch_s / batch_s if torch_s is not None else None,
        "checked_torch_speedup": torch_s / checked_s if torch_s is not None else None,
        "max_abs_diff": float(max(diffs)),
    }


# ---------------------------------------------------------------------------- throughput
def raw_step_throughput(env_id: str = "CartPole-v1", n_envs: int = 1, n_steps: int = 20_000,
                        seed: int = 0) -> dict[str, Any]:
    """env.step calls per second with random actions, sampled up front.

    Parameters
    ----------
    env_id : str, default "CartPole-v1"
    n_envs : int, default 1
        1 for ``gymnasium.make``; more for ``gymnasium.make_vec`` with
        ``vectorization_mode="vector_entry_point"`` (the env's own batched implementation).
    n_steps : int, default 20000
        Number of ``step`` calls; a vector env counts ``n_envs`` env-steps per call.
    seed : int, default 0

    Returns
    -------
    dict with ``env_id``, ``n_envs``, ``env_steps``, ``seconds`` and ``steps_per_s``.

    Notes
    -----
    The actions are drawn before the clock starts, so the rate is that of the environment
    alone (plus the resets a single env needs at the end of each episode; a vector env
    resets its sub-environments itself).
    """
    n_envs = check_int(n_envs, "n_envs", low=1)
    n_steps = check_int(n_steps, "n_steps", low=1)
    single = n_envs == 1
    env = gym.make(env_id) if single else \
        gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="vector_entry_point")
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(n_steps)]
    env.reset(seed=seed)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if single and (terminated or truncated):    # a vector env resets its own sub-envs
            env.reset()
    seconds = time.perf_counter() - start
    env.close()
    env_steps = n_steps * n_envs
    return {"env_id": env_id, "n_envs": n_envs, "env_steps": env_steps, "seconds": seconds,
            "steps_per_s": env_steps / seconds}


def training_throughput(env_id: str = "CartPole-v1", n_envs: int = 1, episodes: int = 100,
                        seed: int = 0, episodes_per_env: int = 4) -> dict[str, Any]:
    """Env-steps per second of :func:`linear_pg.trainer.train`, rollout and updates included.

    Parameters
    ----------
    env_id : str, default "CartPole-v1"
        Trained with its preset.
    n_envs : int, default 1
        Sub-environments; with n_envs > 1 each update collects ``episodes_per_env * n_envs``
        episodes.
    episodes : int, default 100
        Training episodes in total.
    seed : int, default 0
    episodes_per_env : int, default 4
        Episodes per sub-environment and update (vector env only). A vector env steps all
        its sub-environments together, so a sub-env whose episodes are done idles until the
        batch's last episode ends, and those steps are not training steps: with 1 episode
        per sub-env about 30% of the CartPole steps idle, with 4 about 12%.

    Returns
    -------
    dict with ``env_id``, ``n_envs``, ``episodes``, ``env_steps`` (the steps of all training
    episodes), ``seconds`` (the whole ``train`` call) and ``steps_per_s``.
    """
    from .trainer import train

    n_envs = check_int(n_envs, "n_envs", low=1)
    per_env = check_int(episodes_per_env, "episodes_per_env", low=1)
    batch = per_env * n_envs if n_envs > 1 else None        # None: the preset's
    start = time.perf_counter()
    run = train(env_id, episodes=episodes, seed=seed, n_envs=n_envs, batch_episodes=batch)
    seconds = time.perf_counter() - start
    env_steps = int(run.episode_lengths.sum())
    return {"env_id": env_id, "n_envs": n_envs, "episodes": run.n_episodes,
            "env_steps": env_steps, "seconds": seconds, "steps_per_s": env_steps / seconds}


def throughput(env_id: str = "CartPole-v1", n_envs: int = 1, *, episodes: int = 100,
               raw_steps: int = 20_000, seed: int = 0, repeats: int = 1) -> dict[str, Any]:
    """Training and raw env-step rates measured in alternation, and their ratio.

    Parameters
    ----------
    env_id, n_envs, seed
        As in :func:`training_throughput` and :func:`raw_step_throughput`.
    episodes : int, default 100
        Training episodes per measurement.
    raw_steps : int, default 20000
        Env-steps per raw measurement (``raw_steps // n_envs`` calls of a vector env).
    repeats : int, default 1
        Pairs (training, then raw) to measure; the pair with the median ratio is reported.
        The machine's speed drifts (other processes, clock scaling) between two
        measurements, which moves a single pair's ratio; the median of alternating pairs
        keeps one slow stretch out of it. Use an odd number.

    Returns
    -------
    dict with ``training`` and ``raw`` (the dicts of :func:`training_throughput` and
    :func:`raw_step_throughput`) of the median pair, ``ratio`` = its training / raw steps
    per second, and ``ratios``, every pair's ratio in the order measured.
    """
    repeats = check_int(repeats, "repeats", low=1)
    pairs = []
    for _ in range(repeats):
        training = training_throughput(env_id, n_envs, episodes, seed)
        raw = raw_step_throughput(env_id, n_envs, max(raw_steps // n_envs, 1), seed)
        pairs.append((training, raw, training["steps_per_s"] / raw["steps_per_s"]))
    ratios = [ratio for _, _, ratio in pairs]
    training, raw, ratio = pairs[int(np.argsort(ratios)[(repeats - 1) // 2])]
    return {"training": training, "raw": raw, "ratio": ratio, "ratios": ratios}


# ---------------------------------------------------------------------------- report
def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def _fmt_time(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


def _row(metric: str, measured: str, target: str, passed: bool | None) -> dict[str, Any]:
    return {"metric": metric, "measured": measured, "target": target, "pass": passed}


def _pair_ratios(ratios: list[float]) -> str:
    """'; median of 3 pairs: 0.46x, 0.57x, 0.87x' (sorted), or '' for a single pair."""
    if len(ratios) < 2:
        return ""
    return f"; median of {len(ratios)} pairs: " + ", ".join(f"{r:.2f}x" for r in sorted(ratios))


def speed_report(quick: bool = False) -> dict[str, Any]:
    """Throughput (1 and 64 CartPole envs) and gradient speed, with table rows.

    Parameters
    ----------
    quick : bool, default False
        Small budgets (under a few seconds in all); the ratios are rougher.

    Returns
    -------
    dict with ``throughput_single``, ``throughput_vector`` (:func:`throughput`),
    ``gradient`` (:func:`gradient_speed`) and ``rows``: one dict per metric with
    ``metric``, ``measured``, ``target`` and ``pass`` (None when not measured).
    """
    # Whole training runs of the CartPole preset, setup included: 300 episodes (to 500
    # steps each once learned) on one env, 40 updates of 4 x 64 episodes on the vector env.
    # Each ratio is the median of three alternating (training, raw) pairs (one when quick).
    repeats = 1 if quick else 3
    single = throughput("CartPole-v1", 1, episodes=10 if quick else 300,
                        raw_steps=2_000 if quick else 50_000, repeats=repeats)
    vector = throughput("CartPole-v1", 64, episodes=256 if quick else 256 * 40,
                        raw_steps=64 * (30 if quick else 1_000), repeats=repeats)
    grad = gradient_speed(1000, repeat=3 if quick else 7, min_seconds=0.01 if quick else 0.1)
    rows = []

    def judged(target: str, met: bool) -> tuple[str, bool | None]:
        """Timings of --quick's tiny budgets are too rough to pass or fail a target."""
        return (f"{target} (not checked with --quick)", None) if quick else (target, met)

    for name, tp in (("1 env", single), ("vector env of 64 (256-episode batches)", vector)):
        rows.append(_row(
            f"training / raw env-steps/s, CartPole-v1, {name}",
            f"{tp['ratio']:.2f}x ({_fmt_rate(tp['training']['steps_per_s'])} vs "
            f"{_fmt_rate(tp['raw']['steps_per_s'])})" + _pair_ratios(tp["ratios"]),
            *judged(f">= {THROUGHPUT_TARGET}x", tp["ratio"] >= THROUGHPUT_TARGET)))
    T = grad["T"]
    rows.append(_row(
        f"batch gradient vs per-step Jacobian loop, softmax, T={T}",
        f"{grad['loop_speedup']:.0f}x ({_fmt_time(grad['batch_s'])} vs "
        f"{_fmt_time(grad['loop_s'])})",
        *judged(f">= {LOOP_SPEEDUP_TARGET:.0f}x", grad["loop_speedup"] >= LOOP_SPEEDUP_TARGET)))
    if grad["torch_s"] is None:
        rows.append(_row(f"batch gradient vs torch autograd, T={T}", "skipped (no torch)",
                         f">= {AUTOGRAD_SPEEDUP_TARGET:.0f}x", None))
    else:
        rows.append(_row(
            f"batch gradient vs torch autograd, T={T}",
            f"{grad['torch_speedup']:.2f}x ({_fmt_time(grad['batch_s'])} vs "
            f"{_fmt_time(grad['torch_s'])})",
            *judged(f">= {AUTOGRAD_SPEEDUP_TARGET:.0f}x",
                    grad["torch_speedup"] >= AUTOGRAD_SPEEDUP_TARGET)))
    vs_torch = (f", {grad['checked_torch_speedup']:.2f}x torch"
                if grad["torch_s"] is not None else "")
    rows.append(_row(f"policy_gradient() with its input checks, T={T} (for reference)",
                     f"{_fmt_time(grad['checked_s'])}{vs_torch}", "-", None))
    return {"throughput_single": single, "throughput_vector": vector, "gradient": grad,
            "rows": rows}


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of a report as a markdown table: metric | measured | target | pass.

    Examples
    --------
    >>> print(markdown_table([{"metric": "m", "measured": "2x", "target": ">= 1x",
    ...                        "pass": True}]))
    | metric | measured | target | pass |
    |---|---|---|---|
    | m | 2x | >= 1x | yes |
    """
    verdict = {True: "yes", False: "NO", None: "n/a"}
    lines = ["| metric | measured | target | pass |", "|---|---|---|---|"]
    lines += [f"| {r['metric']} | {r['measured']} | {r['target']} | {verdict[r['pass']]} |"
              for r in rows]
    return "\n".join(lines)


QUICK_EPISODES = 10
"""Training episodes per preset in ``bench --quick``: enough to run every step, far too few
to reach any target."""


def _evaluation_noise(summary: dict[str, Any]) -> str:
    """The standard errors of the evaluations and the check evaluation, as table text."""
    text = ""
    if "se_max" in summary and np.isfinite(summary["se_max"]):
        text += f"; standard error of each seed's mean {summary['se_min']:.1f}-" \
                f"{summary['se_max']:.1f}"
    if "check_median" in summary:
        text += f"; mean over {summary['check_episodes']} more episodes: median " \
                f"{summary['check_median']:.1f} ({summary['check_min']:.1f} to " \
                f"{summary['check_max']:.1f})"
    return text


def sample_efficiency(quick: bool = False, seeds: int | None = None,
                      n_jobs: int = 1) -> dict[str, Any]:
    """Every preset trained over seeds by :mod:`linear_pg.benchmark`, with table rows.

    Parameters
    ----------
    quick : bool, default False
        One seed (unless ``seeds`` is given) of ``QUICK_EPISODES`` episodes per preset and 2
        evaluation episodes: it checks that the benchmark runs, not how well presets learn.
    seeds : int, optional
        Seeds per preset (default 10, or 1 when quick).
    n_jobs : int, default 1
        Parallel processes.

    Returns
    -------
    dict with ``runs`` (one dict per env and seed), ``summary`` (one per env, from
    :func:`linear_pg.benchmark.summarize`) and ``rows``.
    """
    from . import benchmark

    n_jobs = check_int(n_jobs, "n_jobs", low=1)
    seeds = check_int(seeds if seeds is not None else (1 if quick else 10), "seeds", low=1)
    if quick:
        runs = [benchmark.benchmark_one(env_id, s, episodes=QUICK_EPISODES, eval_episodes=2,
                                        check_episodes=0)
                for env_id in benchmark.TARGETS for s in range(seeds)]
    else:
        runs = benchmark.run_benchmark(seeds=seeds, n_jobs=n_jobs)
    summary = benchmark.summarize(runs)
    rows = []
    for s in summary:
        spread = f"{s['min']:.1f} to {s['max']:.1f}" if s["min"] is not None else "none reached"
        rows.append(_row(
            f"sample efficiency, {s['env_id']}: {s['metric']} after {s['episodes']} episodes",
            f"{s['reached']}/{s['seeds']} seeds; median {s['median']:.1f} ({spread})"
            + _evaluation_noise(s),
            s["goal"] + (" (not checked with --quick)" if quick else ""),
            None if quick else bool(s["target_met"])))
    return {"runs": runs, "summary": summary, "rows": rows}


def benchmark_report(quick: bool = False, seeds: int | None = None, n_jobs: int = 1,
                     progress: bool = True) -> dict[str, Any]:
    """Everything ``linear-pg bench`` measures, one part after the other.

    Parameters
    ----------
    quick : bool, default False
        Small budgets throughout (a few seconds).
    seeds : int, optional
        Seeds per preset for sample efficiency (default 10, or 1 when quick).
    n_jobs : int, default 1
        Parallel processes for the sample-efficiency runs (the timings run alone).
    progress : bool, default True
        Say on stderr which part is running.

    Returns
    -------
    dict: the keys of :func:`speed_report`, ``sample_efficiency`` (:func:`sample_efficiency`
    without its rows), ``quick``, ``machine`` and ``rows`` (all the table rows).
    """
    import platform
    import sys

    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    say("bench: timing training vs raw env steps and the batch gradient ...")
    report = speed_report(quick)
    say("bench: sample efficiency of every preset ...")
    efficiency = sample_efficiency(quick, seeds, n_jobs)
    report["rows"] += efficiency.pop("rows")
    report["sample_efficiency"] = efficiency
    report["quick"] = bool(quick)
    report["machine"] = {"python": platform.python_version(), "numpy": np.__version__,
                         "gymnasium": gym.__version__, "processor": platform.processor(),
                         "cpus": os.cpu_count()}
    return report
