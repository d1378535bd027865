"""The policy-gradient estimate and the surrogate loss whose gradient it is."""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_choice, check_features, check_finite, check_lengths
from .policies.base import LinearPolicy, check_policy

AVERAGES = ("episodes", "steps")


def _weights(weights: object, n_rows: int) -> np.ndarray:
    w = as_float_array(weights, "weights")
    if w.shape != (n_rows,):
        raise ValueError(f"weights must have shape ({n_rows},) (one per row of X), "
                         f"got shape {w.shape}")
    return check_finite(w, "weights")


def _n_rows(n_rows: int) -> int:
    """T, checked to be at least 1: an empty batch has no gradient to estimate."""
    if n_rows == 0:
        raise ValueError("X must hold at least one step (T >= 1), got an empty batch")
    return n_rows


def average_divisor(n_rows: int, lengths: object, average: str) -> int:
    check_choice(average, "average", AVERAGES)
    lengths = check_lengths(lengths, n_rows)
    return lengths.size if average == "episodes" else n_rows


def policy_gradient(policy: LinearPolicy, X: object, A: object, weights: object,
                    lengths: object = None, average: str = "episodes") -> np.ndarray:
    """REINFORCE estimate g = (1/N) sum_episodes sum_t score_t w_t, shape (n_params,).

    Parameters
    ----------
    policy : LinearPolicy
        The policy whose scores are taken, at its current ``theta``.
    X : array of shape (T, n_features)
        Features of every step of every episode, episode after episode.
    A : array of shape (T,) or (T, action_dim)
        The actions that were sampled (for a Gaussian: before any clipping).
    weights : array of shape (T,)
        What multiplies each score: total return, reward-to-go, minus a baseline, ...
    lengths : array of int, shape (N,), optional
        Episode lengths (default: one episode).
    average : {"episodes", "steps"}, default "episodes"
        Divide the sum by the number of episodes N (with total-return weights, or
        reward-to-go at gamma = 1, the unbiased estimate of the gradient of
        J = E[R(tau)], as in the derivation) or by the number of steps T (a different
        scale: the gradient of J divided by the mean episode length, which changes the
        effective step size from batch to batch).

    Returns
    -------
    g : array of shape (n_params,)
        The ascent direction for J, in the order of ``policy.theta``.

    Notes
    -----
    By the log-derivative trick, grad E[R] = E[sum_t grad log pi(a_t | s_t) w_t]; the
    sample mean over episodes estimates it. The whole batch is one matrix product,
    weights @ scores, with no per-step loop.
    """
    check_policy(policy)
    if not isinstance(X, np.ndarray) or X.ndim != 2:  # X's own error, before the weights'
        X = check_features(X, policy.n_features)     # (which count its rows); else the
    n_rows = _n_rows(X.shape[0])                     # policy checks it
    w = _weights(weights, n_rows)
    divisor = average_divisor(n_rows, lengths, average)
    # sum_t w_t score_t, contracted without building the (T, P) score matrix
    return policy.weighted_score_sum(X, A, w) / divisor


def weighted_score_mean(scores: np.ndarray, weights: np.ndarray, divisor: int) -> np.ndarray:
    """(weights @ scores) / divisor: the batch sum of score_t w_t, averaged.

    The trainer's form of :func:`policy_gradient`, for when the (T, P) scores are needed
    anyway (the natural gradient's Fisher matrix is built from them); ``divisor`` is the
    number of episodes. Inputs are trusted (internal).
    """
    return (weights @ scores) / divisor


def surrogate_loss(policy: LinearPolicy, X: object, A: object, weights: object,
                   lengths: object = None, average: str = "episodes") -> float:
    """L(theta) = -(1/N) sum_episodes sum_t log pi(a_t | s_t) w_t, with grad L = -g.

    The weights are treated as constants (they came from the environment), so
    differentiating L gives minus :func:`policy_gradient` with the same arguments; a
    gradient-descent step on L is an ascent step on the expected return.

    Parameters
    ----------
    policy, X, A, weights, lengths, average
        As for :func:`policy_gradient`; ``average`` chooses the divisor of L the same way
        (N episodes or T steps).

    Returns
    -------
    L : float
        The loss at the policy's current ``theta``.

    Notes
    -----
    The "loss with a target" view. For each action family, -log pi(a | x) is a familiar
    loss with the taken action as its label:

    - softmax: the cross-entropy between the one-hot action e_a and p = softmax(x W);
    - sigmoid: the binary cross-entropy -[a log p + (1 - a) log(1 - p)];
    - Gaussian with fixed sigma: the squared error (a - mu)^2 / (2 sigma^2) + const.

    REINFORCE is supervised learning on the agent's own actions, each example weighted by
    its return: actions that were followed by high return are made more likely, others
    less. Without the weights (or with all weights equal and positive) the loss just
    imitates whatever was sampled, which teaches nothing. The 1 / (2 sigma^2) factor is
    part of the Gaussian gradient; an unweighted mean squared error drops it and the return.

    This loss is not a measure of performance. Its value depends on the batch it was
    computed on (the data come from the current policy and change at every update), it
    can go up while the return improves and can be driven to any value by rescaling the
    weights. Only its gradient, at the current theta, means something. Track the return.
    """
    check_policy(policy)
    logp = policy.log_prob(X, A)
    w = _weights(weights, _n_rows(logp.shape[0]))
    return float(-(w @ logp) / average_divisor(logp.shape[0], lengths, average))
