"""When training cannot go on: non-finite data, gradients or parameters, or a policy that
collapsed while there is still something to learn.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .policies import GaussianPolicy, LinearPolicy
from .rollout import Batch

if TYPE_CHECKING:
    from .run import Run


def collapse_reason(policy: LinearPolicy, entropy: float, returns: np.ndarray) -> str | None:
    """Why learning cannot go on, or None.

    A policy has collapsed when it is (numerically) deterministic, so its scores and hence
    every future gradient vanish, while its returns still vary: there is something to learn
    and no way left to learn it. A deterministic policy whose episodes all return the same
    (CartPole at 500) is finished, not broken.

    A Gaussian policy never collapses this way: its sigma is clamped to
    ``log_std_bounds``, so at the lower bound the score of its mean, (a - mu) / sigma^2, is
    still defined and non-zero and the mean can still move (it is often exactly when sigma
    sits at its floor that the mean is being fine-tuned). Only a non-finite entropy stops it.
    """
    if not np.isfinite(entropy):
        return "the policy entropy is not finite"
    if np.ptp(returns) == 0 or isinstance(policy, GaussianPolicy):
        return None
    if entropy < 1e-12:
        return (f"the action distribution collapsed (entropy {entropy:.2e}) while the "
                f"returns still vary")
    return None


def non_finite_batch(batch: Batch, episodes_before: int,
                     kind: str = "training") -> str | None:
    """The first non-finite observation, reward or feature vector in the batch (a policy
    that drove the env to overflow, an env that returns NaN, a feature map that takes the
    log of a negative number), or None; the batch follows ``episodes_before`` episodes of
    its ``kind`` ("training" or "evaluation"). Episodes and steps are counted from 1.

    Within a step the observation s_t comes before its features x_t and the reward r_t: a
    NaN state makes NaN features, a NaN action and then a NaN reward, and the state is what
    is named.
    """
    ends = np.cumsum(batch.lengths)
    found = []                            # (step index, rank within the step, what)

    def first(bad_rows: np.ndarray, rank: int, what: Callable[[int], str],
              final: bool = False) -> None:
        bad = np.flatnonzero(bad_rows)
        if bad.size:
            found.append((int(ends[bad[0]]) - 1 if final else int(bad[0]), rank, what(bad[0])))

    def not_finite(a: np.ndarray) -> np.ndarray:
        return ~np.all(np.isfinite(a), axis=1)

    env = "the environment returned a non-finite"
    first(not_finite(batch.obs), 0, lambda t: f"{env} observation {_shown(batch.obs[t])}")
    first(not_finite(batch.X), 1, lambda t: f"the feature map returned non-finite features "
                                            f"of the observation {_shown(batch.obs[t])}")
    first(~np.isfinite(batch.rewards), 2, lambda t: f"{env} reward ({batch.rewards[t]})")
    first(not_finite(batch.final_obs), 3, lambda i: f"{env} observation after the last step",
          final=True)
    first(not_finite(batch.final_X), 4, lambda i: "the feature map returned non-finite "
          f"features of the observation after the last step {_shown(batch.final_obs[i])}",
          final=True)
    if not found:
        return None
    t, rank, what = min(found)
    episode = int(np.searchsorted(ends, t, side="right"))
    step = t - (int(ends[episode - 1]) if episode else 0) + 1
    at = "" if rank >= 3 else f"at step {step} "
    where = f"{what} {at}of {kind} episode {episodes_before + episode + 1}"
    return where + " (its batch is left out of the history)" if kind == "training" else where


def _shown(obs: np.ndarray) -> str:
    """An observation for a message: its list, or a summary of a long one (one-hot)."""
    return str(obs.tolist()) if obs.size <= 12 else np.array2string(obs, threshold=12)


def non_finite_step_input(g: np.ndarray, scores: np.ndarray | None,
                          fisher_matrix: np.ndarray | None,
                          grad_norm: float = 0.0) -> str | None:
    """'a non-finite gradient' (or scores, or Fisher matrix) if what the optimizer would
    step with is not finite (e.g. features so large that their squares overflow), or
    'a gradient whose norm overflows' (returns near 1e200 without standardized weights:
    the optimizers' squares of it are inf, and every step would be 0); else None."""
    for name, a in (("gradient", g), ("score", scores), ("Fisher matrix", fisher_matrix)):
        if a is not None and not np.all(np.isfinite(a)):
            return f"a non-finite {name}"
    if not math.isfinite(grad_norm):
        return "a gradient whose norm overflows"
    return None


def stop_diverged(run: Run, problem: str) -> None:
    """Mark ``run`` as stopped by ``problem``, with a warning; its policy keeps the last
    finite parameters and its history the completed updates."""
    run.stopped_reason = f"diverged: {problem}"
    warnings.warn(f"training stopped, {run.stopped_reason}; keeping the last finite "
                  f"parameters", RuntimeWarning, stacklevel=3)
