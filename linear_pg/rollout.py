"""Rollouts: run a policy in an environment and return a batch of complete episodes.

A batch is stored flat, as everywhere in linear_pg: the T steps of all N episodes one after
another, with ``lengths`` (N,) saying where each episode ends. The per-step Python loop is
the one the environment forces; the policy is called once per step for all parallel
sub-environments of a vector env.
"""

from __future__ import annotations

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


def env_action(space: gym.Space, a: np.ndarray) -> np.ndarray | int:
    """What the environment receives: an int for Discrete, the clipped action for a Box.

    The Gaussian sample itself is unbounded; the clip happens here, on the way to the
    environment, and the batch keeps the unclipped sample for the score.
    """
    if isinstance(space, gym.spaces.Discrete):
        return np.asarray(a, dtype=np.int64)
    return np.clip(a, space.low, space.high).astype(space.dtype)


def _choose(policy: LinearPolicy, X: np.ndarray, rng: np.random.Generator,
            mean_action: bool) -> np.ndarray:
    return policy.act(X) if mean_action else policy.sample(X, rng)


def _episode_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def _stack(obs: list, X: list, A: list, R: list, lengths: list, term: list,
           final_X: list) -> Batch:
    return Batch(obs=np.asarray(obs, dtype=np.float64), X=np.asarray(X, dtype=np.float64),
                 actions=np.asarray(A), rewards=np.asarray(R, dtype=np.float64),
                 lengths=np.asarray(lengths, dtype=np.int64),
                 terminated=np.asarray(term, dtype=bool),
                 final_X=np.asarray(final_X, dtype=np.float64))


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
        Act with ``policy.act`` (argmax / mean) instead of sampling.

    Returns
    -------
    Batch
    """
    obs_l, X_l, A_l, R_l, lengths, term, final_l = [], [], [], [], [], [], []
    space = env.action_space
    for _ in range(n_episodes):
        s, _ = env.reset(seed=_episode_seed(rng))
        n = 0
        while True:
            x = features.transform(s)                      # (1, d)
            a = _choose(policy, x, rng, mean_action)[0]
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
                final_l.append(features.transform(s)[0])
                break
    return _stack(obs_l, X_l, A_l, R_l, lengths, term, final_l)


def collect_episodes_vec(venv: gym.vector.VectorEnv, policy: LinearPolicy, features: FeatureMap,
                         n_episodes: int, rng: np.random.Generator, *,
                         mean_action: bool = False) -> Batch:
    """Run ``n_episodes`` complete episodes in a vector env of N sub-environments.

    Parameters are those of :func:`collect_episodes`; ``venv`` must use gymnasium's
    default ``NEXT_STEP`` autoreset.

    Notes
    -----
    Sub-env i runs a fixed quota of episodes, ``n_episodes // N`` plus one for the first
    ``n_episodes % N`` of them, and further steps of a sub-env that met its quota are
    discarded. Stopping instead at the first ``n_episodes`` episodes to finish would
    over-sample short episodes (they finish first) and bias every average.

    With ``NEXT_STEP`` autoreset, the step() after a sub-env reports terminated or truncated
    is its reset: the action sent is ignored, the reward is 0 and the observation returned is
    the first of a new episode. That step is not a transition and is dropped here.
    """
    N = venv.num_envs
    quota = np.full(N, n_episodes // N) + (np.arange(N) < n_episodes % N)
    done_count = np.zeros(N, dtype=np.int64)
    space = venv.single_action_space
    buffers: list[list[list]] = [[[], [], [], []] for _ in range(N)]
    finished: list[tuple[list, ...]] = []
    resetting = np.zeros(N, dtype=bool)
    s, _ = venv.reset(seed=_episode_seed(rng))
    while np.any(done_count < quota):
        X = features.transform(s)                           # (N, d): one call for all
        A = _choose(policy, X, rng, mean_action)            # (N,) or (N, m)
        s_next, R, terminated, truncated, _ = venv.step(env_action(space, A))
        for i in range(N):
            if resetting[i]:            # this step was sub-env i's reset: not a transition
                resetting[i] = False
                continue
            if done_count[i] >= quota[i]:
                continue
            buf = buffers[i]
            buf[0].append(s[i])
            buf[1].append(X[i])
            buf[2].append(A[i])
            buf[3].append(R[i])
            if terminated[i] or truncated[i]:
                finished.append((*buf, bool(terminated[i]),
                                 features.transform(s_next[i:i + 1])[0]))
                buffers[i] = [[], [], [], []]
                done_count[i] += 1
                resetting[i] = True
        s = s_next
    obs_l, X_l, A_l, R_l, lengths, term, final_l = [], [], [], [], [], [], []
    for o, x, a, r, t, f in finished:
        obs_l += o
        X_l += x
        A_l += a
        R_l += r
        lengths.append(len(r))
        term.append(t)
        final_l.append(f)
    return _stack(obs_l, X_l, A_l, R_l, lengths, term, final_l)


def collect(env: gym.Env | gym.vector.VectorEnv, policy: LinearPolicy, features: FeatureMap,
            n_episodes: int, rng: np.random.Generator, *, mean_action: bool = False) -> Batch:
    """:func:`collect_episodes_vec` for a vector env, :func:`collect_episodes` otherwise."""
    if isinstance(env, gym.vector.VectorEnv):
        return collect_episodes_vec(env, policy, features, n_episodes, rng,
                                    mean_action=mean_action)
    return collect_episodes(env, policy, features, n_episodes, rng, mean_action=mean_action)
