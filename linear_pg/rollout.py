"""Rollouts: run a policy in an environment and return a batch of complete episodes.

A batch is stored flat, as everywhere in linear_pg: the T steps of all N episodes one after
another, with ``lengths`` (N,) saying where each episode ends. The per-step Python loop is
the one the environment forces; the policy is called once per step for all parallel
sub-environments of a vector env.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from .features import FeatureMap
from .policies.base import LinearPolicy


@dataclass
class Batch:
    """N complete episodes, flat.

    Attributes
    ----------
    obs : array (T, obs_dim)
        Observation s_t of every step.
    X : array (T, n_features)
        Features x_t = phi(s_t).
    actions : array (T,) of int or (T, action_dim) of float
        The sampled actions a_t (for a Gaussian policy: before the clip to the action box;
        the score must use what was sampled).
    rewards : array (T,)
    lengths : array (N,) of int
    terminated : array (N,) of bool
        True if the episode reached a terminal state, False if it was truncated (time limit).
    final_X : array (N, n_features)
        Features of the observation after each episode's last step: the state a truncated
        episode was cut off in, whose value the trainer adds back (bootstrapping).
    """

    obs: np.ndarray
    X: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    lengths: np.ndarray
    terminated: np.ndarray
    final_X: np.ndarray

    @property
    def n_episodes(self) -> int:
        return int(self.lengths.size)

    @property
    def episode_returns(self) -> np.ndarray:
        """Undiscounted return sum_t r_t of each episode, shape (N,)."""
        return np.add.reduceat(self.rewards, np.concatenate([[0], np.cumsum(self.lengths)[:-1]]))


def env_action(space: gym.Space, a: object) -> np.ndarray:
    """What the environment receives: start + index for Discrete, the clipped action for a Box.

    A discrete policy's actions are indices 0..n-1; a ``Discrete(n, start=s)`` space names
    them s..s+n-1. The Gaussian sample itself is unbounded; the clip happens here, on the
    way to the environment, and the batch keeps the unclipped sample for the score.
    """
    if isinstance(space, gym.spaces.Discrete):
        index = np.asarray(a, dtype=np.int64)
        return index + int(space.start) if space.start else index
    return np.clip(np.asarray(a, dtype=np.float64), space.low, space.high).astype(space.dtype)


def _chooser(policy: LinearPolicy, rng: np.random.Generator,
             mean_action: bool) -> Callable[[np.ndarray], np.ndarray]:
    """The per-step action rule: the policy's unchecked sample (or its most likely action)."""
    if mean_action:
        return policy._act
    return lambda X: policy._sample(X, rng)


def _episode_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def _batch(obs: np.ndarray, X: np.ndarray, A: np.ndarray, R: np.ndarray, lengths: object,
           terminated: object, final_X: np.ndarray) -> Batch:
    return Batch(obs=obs, X=X, actions=A, rewards=np.asarray(R, dtype=np.float64),
                 lengths=np.asarray(lengths, dtype=np.int64),
                 terminated=np.asarray(terminated, dtype=bool), final_X=final_X)


def collect_episodes(env: gym.Env, policy: LinearPolicy, features: FeatureMap, n_episodes: int,
                     rng: np.random.Generator, *, mean_action: bool = False) -> Batch:
    """Run ``n_episodes`` complete episodes in one environment.

    Parameters
    ----------
    env : gymnasium.Env
        Reset with a seed drawn from ``rng`` at the start of each episode.
    policy : LinearPolicy
    features : FeatureMap (fitted)
    n_episodes : int
    rng : np.random.Generator
        The only source of randomness: episode seeds and action samples.
    mean_action : bool, default False
        Act with the most likely action (argmax / mean) instead of sampling.

    Returns
    -------
    Batch

    Notes
    -----
    The loop over steps is the one the environment forces; inside it the features and the
    action come from the unchecked internals (``features._transform``, ``policy._sample``)
    because the inputs are the library's own, and a validation per step would cost as much
    as the step. The features of each step are kept, so nothing is computed twice.
    """
    space = env.action_space
    choose = _chooser(policy, rng, mean_action)
    obs_l, X_l, A_l, R_l, lengths, term, final_obs = [], [], [], [], [], [], []
    for _ in range(n_episodes):
        s, _ = env.reset(seed=_episode_seed(rng))
        n = 0
        while True:
            s = np.asarray(s, dtype=np.float64)
            x = features._transform(s[None])               # (1, d)
            a = choose(x)[0]
            s_next, r, terminated, truncated, _ = env.step(env_action(space, a))
            obs_l.append(s)
            X_l.append(x[0])
            A_l.append(a)
            R_l.append(r)
            n += 1
            s = s_next
            if terminated or truncated:
                lengths.append(n)
                term.append(bool(terminated))
                final_obs.append(np.asarray(s_next, dtype=np.float64))
                break
    final_X = features._transform(np.asarray(final_obs))
    return _batch(np.asarray(obs_l), np.asarray(X_l), np.asarray(A_l), R_l, lengths, term,
                  final_X)


def collect_episodes_vec(venv: gym.vector.VectorEnv, policy: LinearPolicy, features: FeatureMap,
                         n_episodes: int, rng: np.random.Generator, *,
                         mean_action: bool = False) -> Batch:
    """Run ``n_episodes`` complete episodes in a vector env of N sub-environments.

    Parameters are those of :func:`collect_episodes`; ``venv`` must use gymnasium's
    default ``NEXT_STEP`` autoreset.

    Notes
    -----
    Each step is one batched call for all N sub-environments: features (N, d), one policy
    call, one ``venv.step``; the bookkeeping is array arithmetic, and the episodes are cut
    out of the (steps, N) arrays once, at the end.

    Sub-env i runs a fixed quota of episodes, ``n_episodes // N`` plus one for the first
    ``n_episodes % N`` of them, and further steps of a sub-env that met its quota are
    discarded. Stopping instead at the first ``n_episodes`` episodes to finish would
    over-sample short episodes (they finish first) and bias every average.

    With ``NEXT_STEP`` autoreset, the step() after a sub-env reports terminated or truncated
    is its reset: the action sent is ignored, the reward is 0 and the observation returned is
    the first of a new episode. That step is not a transition and is dropped here.

    The episodes of the batch are in the order they ended (ties by sub-env index).
    """
    N = venv.num_envs
    quota = np.full(N, n_episodes // N) + (np.arange(N) < n_episodes % N)
    done_count = np.zeros(N, dtype=np.int64)
    resetting = np.zeros(N, dtype=bool)
    space = venv.single_action_space
    choose = _chooser(policy, rng, mean_action)
    S, X_s, A_s, R_s, next_s, valid_s, ended_s, term_s = ([] for _ in range(8))
    s, _ = venv.reset(seed=_episode_seed(rng))
    while np.any(done_count < quota):
        s = np.asarray(s, dtype=np.float64)
        X = features._transform(s)                          # (N, d): one call for all
        A = choose(X)                                       # (N,) or (N, m)
        s_next, R, terminated, truncated, _ = venv.step(env_action(space, A))
        valid = ~resetting & (done_count < quota)           # a real transition to keep
        ended = valid & (terminated | truncated)
        S.append(s)
        X_s.append(X)
        A_s.append(A)
        R_s.append(R)
        next_s.append(s_next)
        valid_s.append(valid)
        ended_s.append(ended)
        term_s.append(terminated)
        done_count += ended
        resetting = terminated | truncated                  # its next step is the reset
        s = s_next
    return _cut_episodes(features, *(np.asarray(v) for v in
                                     (S, X_s, A_s, R_s, next_s, valid_s, ended_s, term_s)))


def _cut_episodes(features: FeatureMap, S: np.ndarray, X: np.ndarray, A: np.ndarray,
                  R: np.ndarray, next_s: np.ndarray, valid: np.ndarray, ended: np.ndarray,
                  term: np.ndarray) -> Batch:
    """Flatten (steps, N, ...) arrays into episodes, in the order the episodes ended."""
    t_idx, i_idx = np.nonzero(valid.T)[::-1]        # sub-env major: each env's steps in time
    is_end = ended[t_idx, i_idx]
    episode = np.cumsum(is_end) - is_end            # episode number of every kept step
    end_t, end_i = t_idx[is_end], i_idx[is_end]
    by_time = np.lexsort((end_i, end_t))            # episodes in the order they ended
    rank = np.argsort(by_time)                      # chronological rank of each episode
    order = np.argsort(rank[episode], kind="stable")
    t_idx, i_idx = t_idx[order], i_idx[order]
    lengths = np.bincount(episode, minlength=end_t.size)[by_time]
    final_X = features._transform(np.asarray(next_s[end_t, end_i][by_time], dtype=np.float64))
    return _batch(S[t_idx, i_idx], X[t_idx, i_idx], A[t_idx, i_idx], R[t_idx, i_idx],
                  lengths, term[end_t, end_i][by_time], final_X)


def collect(env: gym.Env | gym.vector.VectorEnv, policy: LinearPolicy, features: FeatureMap,
            n_episodes: int, rng: np.random.Generator, *, mean_action: bool = False) -> Batch:
    """:func:`collect_episodes_vec` for a vector env, :func:`collect_episodes` otherwise."""
    if isinstance(env, gym.vector.VectorEnv):
        return collect_episodes_vec(env, policy, features, n_episodes, rng,
                                    mean_action=mean_action)
    return collect_episodes(env, policy, features, n_episodes, rng, mean_action=mean_action)
