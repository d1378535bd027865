"""Returns: discounted reward-to-go, total return, bootstrapping at a time limit, and batch
normalization.

A batch of episodes is stored flat: ``rewards`` has shape (T,), the steps of all episodes
one after another, and ``lengths`` (N,) says how many steps each episode has. A list of
per-episode reward arrays is accepted too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard

import numpy as np
from scipy.signal import lfilter

from ._validation import (
    as_float_array,
    check_finite,
    check_gamma,
    check_lengths,
    check_real,
    describe,
)


def _flat_rewards(rewards: object, lengths: object) -> tuple[np.ndarray, np.ndarray]:
    """Rewards as a flat float64 vector and episode lengths that split it."""
    if lengths is None and isinstance(rewards, Sequence) and len(rewards) > 0 \
            and all(np.ndim(r) == 1 for r in rewards):
        parts = [as_float_array(r, "rewards") for r in rewards]
        empty = [i for i, part in enumerate(parts) if part.size == 0]
        if empty:
            raise ValueError(f"rewards must hold at least one step per episode; episode "
                             f"{empty[0]} of the {len(parts)} given is empty")
        lengths = np.array([p.size for p in parts], dtype=np.int64)
        flat = np.concatenate(parts)
    else:
        if lengths is not None and _is_list_of_episodes(rewards):
            raise ValueError(
                f"rewards must be one flat 1-D array of all episodes' rewards, concatenated "
                f"episode after episode, when lengths is given (lengths then splits it); got "
                f"a list of {len(rewards)} arrays: pass np.concatenate(rewards) with lengths, "
                f"or the list without lengths")
        flat = as_float_array(rewards, "rewards")
        if flat.ndim != 1 or flat.size == 0:
            raise ValueError(f"rewards must be a non-empty 1-D array (all steps, episode after "
                             f"episode) or a list of 1-D arrays, got shape {flat.shape}")
    check_finite(flat, "rewards")
    return flat, check_lengths(lengths, flat.size)


def _is_list_of_episodes(rewards: object) -> TypeGuard[Sequence[object]]:
    """Whether ``rewards`` is a sequence of per-episode arrays (not a flat list of numbers)."""
    return isinstance(rewards, Sequence) and not isinstance(rewards, str) \
        and any(np.ndim(r) >= 1 for r in rewards)


def episode_starts(lengths: np.ndarray) -> np.ndarray:
    """Index of the first step of each episode in the flat layout."""
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)


def reward_to_go(rewards: object, gamma: float, lengths: object = None) -> np.ndarray:
    """Discounted reward-to-go G_t = sum_{k >= t} gamma^(k - t) r_k within each episode.

    Parameters
    ----------
    rewards : array of shape (T,) or list of 1-D arrays
        Rewards of all steps, episode after episode.
    gamma : float in [0, 1]
        Discount factor.
    lengths : array of int, shape (N,), optional
        Episode lengths; default: one episode (or the lengths of the list).

    Returns
    -------
    G : array of shape (T,)

    Notes
    -----
    The exponent is the time offset k - t, never the reward itself. The backward
    recursion G_t = r_t + gamma G_{t+1} (G_T = 0) costs O(T); it is the linear filter
    y[n] = x[n] + gamma y[n - 1] run over the reversed rewards of each episode, which
    ``scipy.signal.lfilter`` evaluates in compiled code.

    Examples
    --------
    >>> reward_to_go([1.0, 1.0, 1.0], gamma=0.5)
    array([1.75, 1.5 , 1.  ])
    """
    gamma = check_gamma(gamma)
    flat, lengths = _flat_rewards(rewards, lengths)
    if lengths.size * lengths.max() <= 4 * flat.size + 4096:
        return _reward_to_go_padded(flat, gamma, lengths)
    out = np.empty_like(flat)       # lengths too uneven to pad: one filter per episode
    for start, n in zip(episode_starts(lengths), lengths, strict=True):
        r = flat[start:start + n]
        out[start:start + n] = lfilter([1.0], [1.0, -gamma], r[::-1])[::-1]
    return out


def _reward_to_go_padded(flat: np.ndarray, gamma: float, lengths: np.ndarray) -> np.ndarray:
    """reward_to_go with all episodes in one filter call: row i of an (N, max length) matrix
    holds episode i reversed, then zeros, and the filter runs along the rows.

    Each row starts from a zero state, as each episode's own filter call would, and the
    zeros come after the episode, so the numbers are those of the per-episode loop.
    """
    episode = np.repeat(np.arange(lengths.size), lengths)
    reverse = np.repeat(lengths, lengths) - 1 - (np.arange(flat.size)
                                                 - np.repeat(episode_starts(lengths), lengths))
    padded = np.zeros((lengths.size, int(lengths.max())))
    padded[episode, reverse] = flat
    return lfilter([1.0], [1.0, -gamma], padded, axis=1)[episode, reverse]


def episode_returns(rewards: object, gamma: float = 1.0, lengths: object = None) -> np.ndarray:
    """Discounted return R(tau) = sum_t gamma^t r_t of each episode, shape (N,).

    Parameters
    ----------
    rewards : array of shape (T,) or list of 1-D arrays
        Rewards of all steps, episode after episode.
    gamma : float in [0, 1], default 1.0
        Discount factor; the default gives the undiscounted return.
    lengths : array of int, shape (N,), optional
        Episode lengths; default: one episode (or the lengths of the list).

    Returns
    -------
    R : array of shape (N,)
        The return of each episode, in order: the reward-to-go G_0 of its first step.
    """
    gamma = check_gamma(gamma)
    flat, lengths = _flat_rewards(rewards, lengths)
    starts = episode_starts(lengths)
    return reward_to_go(flat, gamma, lengths)[starts]


def total_return(rewards: object, gamma: float = 1.0, lengths: object = None) -> np.ndarray:
    """R(tau) of its episode repeated at every step, shape (T,): the "simplest" weights.

    Every action of an episode is credited with the whole episode's return, including the
    rewards that came before it.

    Parameters
    ----------
    rewards : array of shape (T,) or list of 1-D arrays
        Rewards of all steps, episode after episode.
    gamma : float in [0, 1], default 1.0
        Discount factor of R(tau) = sum_k gamma^k r_k.
    lengths : array of int, shape (N,), optional
        Episode lengths; default: one episode (or the lengths of the list).

    Returns
    -------
    weights : array of shape (T,)
        At every step, the return R(tau) of the episode the step belongs to.

    Notes
    -----
    With gamma = 1, reward-to-go drops the rewards before step t, which usually lowers the
    variance without changing the expected gradient. With gamma < 1 the two differ in
    expectation: R(tau) = sum_k gamma^k r_k weights step t by gamma^t G_t, the exact
    gradient of the discounted J_gamma, while reward-to-go G_t drops the gamma^t factor
    and estimates neither J_gamma's gradient nor the undiscounted one exactly
    (Thomas 2014): gamma then trades a bias for a lower variance.
    """
    flat, lengths = _flat_rewards(rewards, lengths)
    return np.repeat(episode_returns(flat, gamma, lengths), lengths)


def bootstrap_truncated(rewards: object, gamma: float, lengths: object, truncated: object,
                        final_values: object) -> np.ndarray:
    """Rewards with gamma V(s_T) added to the last reward of every truncated episode.

    A time limit is not a terminal state: the return of an episode cut off at step T would
    have gone on with about V(s_T) more. Adding gamma V(s_T) to r_{T-1} puts
    gamma^(T - t) V(s_T) into every reward-to-go G_t of that episode (the recursion
    G_t = r_t + gamma G_{t+1} carries it back), instead of making the last steps before the
    time limit look like steps before a failure: without it, a CartPole policy that
    balances for the whole 500 steps learns that its last steps lead nowhere. Terminated
    episodes have V(s_T) = 0 by definition and are left as they are.

    Parameters
    ----------
    rewards : array of shape (T,)
        All episodes' rewards, episode after episode.
    gamma : float in [0, 1]
        Discount factor, that of the reward-to-go computed from the result.
    lengths : array of int, shape (N,)
        Episode lengths, which split ``rewards``.
    truncated : array of bool, shape (N,)
        Whether each episode was cut off (gymnasium's ``truncated`` at its last step)
        rather than ended (``terminated``).
    final_values : array of shape (N,)
        V(s_T), an estimate of the value of the observation after each episode's last step
        (e.g. a value baseline's prediction); the entries of episodes not truncated are
        not used.

    Returns
    -------
    out : array of shape (T,)
        A copy of ``rewards``, changed at the truncated episodes' last steps.

    Examples
    --------
    >>> bootstrap_truncated([1.0, 1.0, 1.0], 0.5, [2, 1], [True, False], [10.0, 99.0])
    array([1., 6., 1.])
    """
    gamma = check_gamma(gamma)
    flat, lengths = _flat_rewards(rewards, lengths)
    cut = np.asarray(truncated)
    if cut.shape != lengths.shape or cut.dtype != bool:
        raise ValueError(f"truncated must be {lengths.size} bools (one per episode), got "
                         f"{describe(truncated)}")
    values = as_float_array(final_values, "final_values")
    if values.shape != lengths.shape:
        raise ValueError(f"final_values must have shape ({lengths.size},), one value per "
                         f"episode, got shape {values.shape}")
    bad = np.flatnonzero(cut & ~np.isfinite(values))      # the others are not used
    if bad.size:
        raise ValueError(f"final_values of the truncated episodes must be finite, got "
                         f"{values[bad[0]]} at index {bad[0]}")
    out = flat.copy()
    if np.any(cut):
        out[np.cumsum(lengths)[cut] - 1] += gamma * values[cut]
    return out


def normalize(weights: object, eps: float = 1e-8) -> np.ndarray:
    """Standardize a batch of weights: (w - mean(w)) / (std(w) + eps).

    Parameters
    ----------
    weights : array of shape (T,)
        The finite weights of one batch, e.g. the reward-to-go of all its steps.
    eps : float > 0, default 1e-8
        Added to the standard deviation. It keeps a constant batch (std = 0, e.g.
        total-return weights when every CartPole episode lasts 500 steps) from dividing
        zero by zero: the result is then all zeros, no update.

    Returns
    -------
    w_std : array of shape (T,)
        The standardized weights: mean 0, standard deviation std(w) / (std(w) + eps).

    Notes
    -----
    Subtracting the batch's own mean is a baseline fitted on the same batch, with the small
    bias :mod:`linear_pg.baselines` describes.

    Weights near the float64 limit (1e308) overflow the mean or the squares inside the
    standard deviation; the same formula is then evaluated on w / max|w|, with eps scaled
    alike, which is the same number mathematically and stays finite.

    Examples
    --------
    >>> normalize([1e308, -1e308])
    array([ 1., -1.])
    """
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    w = check_finite(as_float_array(weights, "weights"), "weights")
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D array, got shape {w.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = w.mean(), w.std()
    if np.isfinite(mean) and np.isfinite(std):
        return (w - mean) / (std + eps)
    scale = float(np.max(np.abs(w)))           # > 0 here: all-zero weights do not overflow
    u = w / scale
    return (u - u.mean()) / (u.std() + eps / scale)
