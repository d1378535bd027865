"""Rollouts: run a policy in an environment and return a batch of complete episodes.

A batch is stored flat, as everywhere in linear_pg: the T steps of all N episodes one after
another, with ``lengths`` (N,) saying where each episode ends. The per-step Python loop is
the one the environment forces; the policy is called once per step for all parallel
sub-environments of a vector env.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import gymnasium as gym
import numpy as np

from ._validation import check_bool, check_generator, check_int
from .features import FeatureMap
from .models import check_model_fits
from .policies.base import LinearPolicy, check_policy


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
    final_obs : array (N, obs_dim)
        That observation itself.
    """

    obs: np.ndarray
    X: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    lengths: np.ndarray
    terminated: np.ndarray
    final_X: np.ndarray
    final_obs: np.ndarray

    @property
    def n_episodes(self) -> int:
        return int(self.lengths.size)

    @property
    def episode_returns(self) -> np.ndarray:
        """Undiscounted return sum_t r_t of each episode, shape (N,)."""
        return np.add.reduceat(self.rewards, np.concatenate([[0], np.cumsum(self.lengths)[:-1]]))


def env_action(space: gym.Space, a: object) -> np.ndarray | np.integer:
    """What the environment receives: start + index for Discrete, the clipped action for a Box.

    A discrete policy's actions are indices 0..n-1; a ``Discrete(n, start=s)`` space names
    them s..s+n-1, and one action goes out as a NumPy integer of the space's dtype (what
    ``space.sample()`` returns; an env that looks the action up in a dict, as FrozenLake
    does, cannot hash a 0-d array). The Gaussian sample itself is unbounded; the clip
    happens here, on the way to the environment, and the batch keeps the unclipped sample
    for the score.
    """
    if isinstance(space, gym.spaces.Discrete):
        index = _to_env(space)(np.asarray(a, dtype=np.int64))
        return space.dtype.type(index) if index.ndim == 0 else index
    return _to_env(space)(np.asarray(a, dtype=np.float64))


def _chooser(policy: LinearPolicy, rng: np.random.Generator,
             mean_action: bool) -> Callable[[np.ndarray], np.ndarray]:
    """The per-step action rule of a vector env: the policy's unchecked sample or its most
    likely action, for all sub-environments at once."""
    if mean_action:
        return policy._act
    return lambda X: policy._sample(X, rng)


def _chooser_one(policy: LinearPolicy, rng: np.random.Generator,
                 mean_action: bool) -> Callable[[np.ndarray], Any]:
    """The per-step action rule of a single env: the one-row twins of ``_chooser``'s."""
    if mean_action:
        return policy._act_one
    return lambda x: policy._sample_one(x, rng)


def _to_env(space: gym.Space) -> Callable[[Any], Any]:
    """The rule of :func:`env_action` for one space, looked up once (the single-env loop
    calls it every step, on the policy's own actions, without conversion).

    A discrete index is shifted by the space's start (a Python int stays one, which a
    ``Discrete`` space takes as it is); a Box action is clipped with ``minimum``/``maximum``,
    the same numbers as ``np.clip`` at a fraction of its per-call cost on a short vector.
    """
    if isinstance(space, gym.spaces.Discrete):
        start = int(space.start)
        return (lambda a: a + start) if start else (lambda a: a)
    box = cast(gym.spaces.Box, space)    # a policy fits Discrete and Box spaces only
    low, high, dtype = box.low, box.high, box.dtype
    if np.issubdtype(dtype, np.integer):  # to the nearest allowed value, not toward 0
        return lambda a: np.rint(np.minimum(np.maximum(a, low), high)).astype(dtype)
    return lambda a: np.minimum(np.maximum(a, low), high).astype(dtype)


def _to_env_one(space: gym.Space) -> Callable[[Any], Any]:
    """The single-env loop's version of :func:`_to_env`: the same actions, as NumPy scalars.

    For a ``Discrete`` space the env receives the NumPy integer of its dtype (what
    ``space.sample()`` returns), read from a table built once: the env checks
    ``space.contains(action)`` on every step, and that check costs less for a NumPy
    integer than for a Python int.
    """
    if isinstance(space, gym.spaces.Discrete):
        return [space.dtype.type(space.start + i) for i in range(int(space.n))].__getitem__
    return _to_env(space)


def _episode_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def _batch(obs: np.ndarray, X: np.ndarray, A: np.ndarray, R: object, lengths: object,
           terminated: object, final_X: np.ndarray, final_obs: np.ndarray) -> Batch:
    return Batch(obs=obs, X=X, actions=A, rewards=np.asarray(R, dtype=np.float64),
                 lengths=np.asarray(lengths, dtype=np.int64),
                 terminated=np.asarray(terminated, dtype=bool), final_X=final_X,
                 final_obs=final_obs)


def _collect_episodes(env: gym.Env, policy: LinearPolicy, features: FeatureMap,
                      n_episodes: int, rng: np.random.Generator, *,
                      mean_action: bool = False) -> Batch:
    """:func:`collect_episodes` without its argument checks (the trainer's own arguments).

    Notes
    -----
    The loop over steps is the one the environment forces; inside it the features and the
    action come from the unchecked one-row internals (``features._transform_one``,
    ``policy._sample_one``): the inputs are the library's own, and at one row per step the
    cost is per NumPy call, not per number, so a validation or a (1, d) batch call per step
    would cost as much as the step itself. They draw the same random numbers as the batched
    ``policy._sample``. The features of each step are kept, so nothing is computed twice.
    """
    choose = _chooser_one(policy, rng, mean_action)
    to_env = _to_env_one(env.action_space)
    transform = features._transform_one
    obs_l, X_l, A_l, R_l, lengths, term, final_obs = [], [], [], [], [], [], []
    for _ in range(n_episodes):
        s, _ = env.reset(seed=_episode_seed(rng))
        n = 0
        while True:
            x = transform(s)                                 # (d,)
            a = choose(x)
            s_next, r, terminated, truncated, _ = env.step(to_env(a))
            obs_l.append(s)
            X_l.append(x)
            A_l.append(a)
            R_l.append(r)
            n += 1
            s = s_next
            if terminated or truncated:
                lengths.append(n)
                term.append(bool(terminated))
                final_obs.append(s_next)
                break
    final = np.asarray(final_obs, dtype=np.float64)
    return _batch(np.asarray(obs_l, dtype=np.float64), np.asarray(X_l), np.asarray(A_l), R_l,
                  lengths, term, features._transform(final), final)


def _collect_episodes_vec(venv: gym.vector.VectorEnv, policy: LinearPolicy,
                          features: FeatureMap, n_episodes: int, rng: np.random.Generator, *,
                          mean_action: bool = False) -> Batch:
    """:func:`collect_episodes_vec` without its argument checks (the trainer's own).

    Notes
    -----
    Each step is one batched call for all N sub-environments: features (N, d), one policy
    call, one ``venv.step``; the bookkeeping is array arithmetic, and the episodes are cut
    out of the (steps, N) arrays once, at the end.

    Episodes are handed out to the sub-environments as they become free, until
    ``n_episodes`` have been started, and every episode started is run to its end and kept;
    a sub-env with nothing left to start steps on idle (a vector env steps all of its
    sub-environments together) and those steps are discarded. Keeping the first
    ``n_episodes`` episodes to *finish* instead would over-sample short episodes (they
    finish first) and bias every average; here whether an episode is kept never depends on
    its length. Sub-envs that finish at the same step start their next episodes in index
    order.

    With ``NEXT_STEP`` autoreset, the step() after a sub-env reports terminated or truncated
    is its reset: the action sent is ignored, the reward is 0 and the observation returned is
    the first of a new episode. That step is not a transition and is dropped here.

    The episodes of the batch are in the order they ended (ties by sub-env index).
    """
    N = venv.num_envs
    counting = np.arange(N) < n_episodes        # sub-env runs an episode that is kept
    to_start = n_episodes - int(counting.sum())  # episodes not yet handed out
    resetting = np.zeros(N, dtype=bool)
    to_env = _to_env(venv.single_action_space)
    choose = _chooser(policy, rng, mean_action)
    buf = _StepBuffers()
    final_obs, final_term = [], []              # per episode, in the order they end
    s, _ = venv.reset(seed=_episode_seed(rng))
    while counting.any():
        obs = buf.next_row(s)                               # (N, obs_dim) float64
        X = features._transform(obs)                        # (N, d): one call for all
        A = choose(X)                                       # (N,) or (N, m)
        s_next, R, terminated, truncated, _ = venv.step(to_env(A))
        done = terminated | truncated
        valid = counting & ~resetting                       # a real transition to keep
        ended = valid & done
        buf.store(X, A, R, valid, ended)
        if ended.any():
            finished = np.flatnonzero(ended)
            final_obs.append(s_next[finished])
            final_term.append(terminated[finished])
            counting[finished[to_start:]] = False           # nothing left to start there
            to_start = max(to_start - finished.size, 0)
        resetting = done                                    # its next step is the reset
        s = s_next
    final = np.concatenate(final_obs).astype(np.float64)
    return _cut_episodes(buf, features._transform(final), final, np.concatenate(final_term))


class _StepBuffers:
    """(steps, N, ...) arrays of a vector rollout, filled one step (row) at a time.

    Writing each step into a preallocated row costs less than keeping lists of small
    arrays and stacking them at the end; the capacity doubles when it runs out. The arrays
    are allocated at the first step, when the shapes of X and A are known.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.capacity, self.t = capacity, -1
        self.arrays: dict[str, np.ndarray] = {}

    def next_row(self, s: np.ndarray) -> np.ndarray:
        """Start step t + 1 with the observations s; returns them as float64."""
        self.t += 1
        arrays = self.arrays
        if not arrays:
            arrays["obs"] = np.empty((self.capacity, *np.shape(s)))
        elif self.t == self.capacity:
            self.capacity *= 2
            for name, arr in arrays.items():
                arrays[name] = np.concatenate([arr, np.empty_like(arr)])
        row = arrays["obs"][self.t]
        row[...] = s
        return row

    def store(self, X: np.ndarray, A: np.ndarray, R: np.ndarray, valid: np.ndarray,
              ended: np.ndarray) -> None:
        """Step t's features, actions, rewards and flags."""
        values = {"X": X, "A": A, "R": R, "valid": valid, "ended": ended}
        arrays, t = self.arrays, self.t
        if "X" not in arrays:
            for name, value in values.items():
                dtype = np.float64 if name in ("X", "R") else value.dtype
                arrays[name] = np.empty((self.capacity, *value.shape), dtype=dtype)
        for name, value in values.items():
            arrays[name][t] = value

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name][: self.t + 1]


def _cut_episodes(buf: _StepBuffers, final_X: np.ndarray, final_obs: np.ndarray,
                  terminated: np.ndarray) -> Batch:
    """Flatten the (steps, N, ...) buffers into episodes, in the order the episodes ended.

    Read sub-env by sub-env (each one's kept steps in time order), every episode is one
    contiguous block ending at its ``ended`` step; the blocks are then laid out in the order
    the episodes ended (by step, ties by sub-env index: the order of ``final_X`` and
    ``terminated``), by index arithmetic (no sort over the steps).
    """
    valid, ended = buf["valid"], buf["ended"]
    t_idx, i_idx = np.nonzero(valid.T)[::-1]        # sub-env major: each env's steps in time
    last = np.flatnonzero(ended[t_idx, i_idx])      # block ends, one per episode
    size = np.diff(last, prepend=-1)                # block lengths
    by_time = np.lexsort((i_idx[last], t_idx[last]))    # episodes in the order they ended
    lengths = size[by_time]
    first = last[by_time] - lengths + 1             # where each block starts
    order = np.arange(lengths.sum()) + np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
    flat = (t_idx * valid.shape[1] + i_idx)[order]   # into (steps * N, ...) rows

    def rows(name: str) -> np.ndarray:          # np.take: faster than arr[t_idx, i_idx]
        arr = buf[name]
        return np.take(arr.reshape(-1, *arr.shape[2:]), flat, axis=0)

    return _batch(rows("obs"), rows("X"), rows("A"), rows("R"), lengths, terminated, final_X,
                  final_obs)


def collect_unchecked(env: gym.Env | gym.vector.VectorEnv, policy: LinearPolicy,
                      features: FeatureMap, n_episodes: int, rng: np.random.Generator, *,
                      mean_action: bool = False) -> Batch:
    """Unchecked :func:`collect`, for the trainer's own arguments (checked once in train)."""
    if isinstance(env, gym.vector.VectorEnv):
        return _collect_episodes_vec(env, policy, features, n_episodes, rng,
                                     mean_action=mean_action)
    return _collect_episodes(env, policy, features, n_episodes, rng, mean_action=mean_action)


# ---------------------------------------------------------------------------- checked API
def collect(env: gym.Env | gym.vector.VectorEnv, policy: LinearPolicy, features: FeatureMap,
            n_episodes: int, rng: np.random.Generator, *, mean_action: bool = False) -> Batch:
    """:func:`collect_episodes_vec` for a vector env, :func:`collect_episodes` otherwise."""
    _check_arguments(env, policy, features, n_episodes, rng, mean_action)
    return collect_unchecked(env, policy, features, n_episodes, rng, mean_action=mean_action)


def collect_episodes(env: gym.Env, policy: LinearPolicy, features: FeatureMap, n_episodes: int,
                     rng: np.random.Generator, *, mean_action: bool = False) -> Batch:
    """Run ``n_episodes`` complete episodes in one environment.

    Parameters
    ----------
    env : gymnasium.Env
        Reset with a seed drawn from ``rng`` at the start of each episode.
    policy : LinearPolicy
        It must fit the features and the env's action space.
    features : FeatureMap (fitted)
        On this env's (flattened) observations.
    n_episodes : int >= 1
    rng : np.random.Generator
        The only source of randomness: episode seeds and action samples.
    mean_action : bool, default False
        Act with the most likely action (argmax / mean) instead of sampling.

    Returns
    -------
    Batch

    Notes
    -----
    The arguments are checked once (a clear ValueError or TypeError); the loop itself is
    :func:`_collect_episodes`, whose notes say why it calls unchecked internals.
    """
    if isinstance(env, gym.vector.VectorEnv):
        raise TypeError("env must be a single gymnasium.Env; for a vector env use "
                        "collect_episodes_vec (or collect, which takes either)")
    _check_arguments(env, policy, features, n_episodes, rng, mean_action)
    return _collect_episodes(env, policy, features, n_episodes, rng, mean_action=mean_action)


def collect_episodes_vec(venv: gym.vector.VectorEnv, policy: LinearPolicy, features: FeatureMap,
                         n_episodes: int, rng: np.random.Generator, *,
                         mean_action: bool = False) -> Batch:
    """Run ``n_episodes`` complete episodes in a vector env of N sub-environments.

    Parameters are those of :func:`collect_episodes`; ``venv`` must use gymnasium's
    default ``NEXT_STEP`` autoreset. The loop is :func:`_collect_episodes_vec`.
    """
    if not isinstance(venv, gym.vector.VectorEnv):
        raise TypeError(f"venv must be a gymnasium.vector.VectorEnv, got "
                        f"{type(venv).__name__}; for one env use collect_episodes")
    _check_arguments(venv, policy, features, n_episodes, rng, mean_action)
    return _collect_episodes_vec(venv, policy, features, n_episodes, rng,
                                 mean_action=mean_action)


def _check_arguments(env: gym.Env | gym.vector.VectorEnv, policy: object, features: object,
                     n_episodes: object, rng: object, mean_action: object) -> None:
    """The arguments of a rollout, checked before its loop calls unchecked internals."""
    if not isinstance(env, gym.Env | gym.vector.VectorEnv):
        raise TypeError(f"env must be a gymnasium Env or VectorEnv, got {type(env).__name__}")
    pi = check_policy(policy)
    if not isinstance(features, FeatureMap):
        raise TypeError(f"features must be a fitted linear_pg FeatureMap, got "
                        f"{type(features).__name__}")
    check_int(n_episodes, "n_episodes", low=1)
    check_generator(rng)
    check_bool(mean_action, "mean_action")
    check_model_fits(pi, features, env)
