"""The parts of one REINFORCE update: the weights of the scores (returns to go minus a
baseline), the gradient, the bounds penalty and the step-size schedule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .estimator import weighted_score_mean
from .policies import GaussianPolicy, LinearPolicy
from .returns import bootstrap_truncated, normalize, reward_to_go, total_return


def bootstrap_with_baseline(batch: Any, baseline: Any, gamma: float) -> np.ndarray | None:
    """The batch's rewards bootstrapped at the time limit
    (:func:`linear_pg.returns.bootstrap_truncated`) with V(s_T) the baseline's prediction,
    fitted on earlier batches (0 for no baseline, so nothing changes then); None if that
    prediction is not finite (a baseline grown beyond float64: the run diverged)."""
    truncated = ~batch.terminated
    if not np.any(truncated):
        return batch.rewards.copy()
    values = np.zeros(batch.lengths.size)
    with np.errstate(over="ignore", invalid="ignore"):     # the batch's own, checked X
        values[truncated] = baseline._predict(batch.final_X[truncated])
    if not np.all(np.isfinite(values)):
        return None
    return bootstrap_truncated(batch.rewards, gamma, batch.lengths, truncated, values)


def score_weights(cfg: dict[str, Any], batch: Any, baseline: Any) -> np.ndarray | None:
    """What multiplies each score: return (to go) minus the baseline, maybe standardized;
    None if the returns or weights overflow float64 (finite rewards whose sum is not)."""
    rewards = bootstrap_with_baseline(batch, baseline, cfg["gamma"])
    if rewards is None:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        G = reward_to_go(rewards, cfg["gamma"], batch.lengths)
        R = G if cfg["estimator"] == "reward_to_go" else \
            total_return(rewards, cfg["gamma"], batch.lengths)
        w = R - baseline._predict(batch.X)  # b fitted on earlier batches only
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(w))):
        return None
    # unchecked, as the trainer's opt._step: X passed non_finite_batch, G was just checked
    baseline._update(batch.X, G)
    return normalize(w) if cfg["normalize_weights"] else w


def reinforce_gradient(policy: LinearPolicy, X: np.ndarray, A: np.ndarray, w: np.ndarray,
                       n_episodes: int, keep_scores: bool
                       ) -> tuple[np.ndarray, np.ndarray | None]:
    """g = (1/N) sum_t w_t score_t over N episodes' samples, and the (T, P) scores if kept.

    The natural gradient needs the per-sample scores for its Fisher matrix; the other
    optimizers only need their weighted sum, which the policy contracts without building
    the (T, P) array.
    """
    if keep_scores:
        S = policy.grad_log_prob(X, A)
        return weighted_score_mean(S, w, n_episodes), S
    return policy._weighted_score_sum(X, A, w) / n_episodes, None


def mean_bound_grad(policy: LinearPolicy, X: np.ndarray, low: np.ndarray, high: np.ndarray,
                    n_episodes: int) -> np.ndarray:
    """Gradient of -(1/N) sum_t |mu(x_t) - clip(mu(x_t), low, high)|^2 / 2 over theta.

    The "bounds loss" of rl_games' PPO: the environment clips a Gaussian action to its box,
    so once the mean mu(x) = x W is beyond a bound the return hardly depends on it any more,
    REINFORCE has no signal to bring it back, and the mean action (``act``) stays saturated
    at the bound. This penalty is zero inside the box and pulls an outside mean back toward
    it: with e_t = mu_t - clip(mu_t), d/dW = -(1/N) sum_t x_t e_t^T (0 for log sigma).
    Returns zeros for a non-Gaussian policy.
    """
    g = np.zeros(policy.n_params)
    if not isinstance(policy, GaussianPolicy):
        return g
    mu = X @ policy.W
    excess = mu - np.clip(mu, low, high)
    d, m = policy.n_features, policy.action_dim
    g[: d * m] = -(X.T @ excess).ravel() / n_episodes
    return g


def lr_factor(schedule: str, progress: float, end: float = 0.0) -> float:
    """The multiplier of the base learning rate after a fraction ``progress`` of training.

    ``"constant"``: 1. ``"linear"``: 1 - (1 - end) * progress, from 1 at the first update
    down toward ``end`` (a fraction of the base rate) at the end of training, as in common
    PPO implementations. ``progress`` is the fraction of the training episodes already
    collected before the update's batch, so the first update uses the full rate and the
    last one nearly ``end`` times it. For "npg" the factor scales the KL size delta, the
    squared length of the step in the Fisher metric, so the step itself shrinks like the
    factor's square root.

    Examples
    --------
    >>> lr_factor("linear", 0.5), lr_factor("linear", 0.5, end=0.2), lr_factor("constant", 0.9)
    (0.5, 0.6, 1.0)
    """
    if schedule == "constant":
        return 1.0
    return 1.0 - (1.0 - end) * min(max(progress, 0.0), 1.0)
