"""The policy and features a run trains: built for an env's action space, fitted on its
observations, and checked to fit both.
"""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np
from sklearn.base import clone

from ._validation import check_choice, check_keywords
from .envs import env_spaces, observation_size
from .features import FEATURE_CLASSES, FEATURE_NAMES, FeatureMap, make_features
from .policies import (
    POLICY_CLASSES,
    BernoulliPolicy,
    GaussianPolicy,
    LinearPolicy,
    SoftmaxPolicy,
    check_policy_class,
)
from .presets import space_bounds

POLICY_NAMES = ("softmax", "bernoulli", "gaussian")
FIT_EPISODES = 5
"""Random-action episodes used to fit data-dependent features (not counted as training)."""


def make_policy_for_env(space: gym.Space, policy: str, n_features: int, *, seed: int = 0,
                        **policy_kwargs: Any) -> LinearPolicy:
    """A linear policy of the named family that fits the action space.

    Parameters
    ----------
    space : gymnasium.Space
        The env's action space (e.g. ``env.action_space``).
    policy : {"softmax", "bernoulli", "gaussian"}
        The family. softmax: any Discrete(n >= 2); bernoulli: Discrete(2); gaussian: a
        1-D Box.
    n_features : int
        Length of the feature vector x the policy reads (the feature map's
        ``n_features_out_``).
    seed : int, default 0
        Source of the initial weights.
    **policy_kwargs
        Other arguments of the policy class's constructor (e.g. ``init_scale``); the
        arguments set here (``n_features``, ``n_actions``, ``action_dim``, ``seed``) are
        refused (TypeError).

    Returns
    -------
    LinearPolicy
        A :class:`~linear_pg.SoftmaxPolicy` with n actions, a
        :class:`~linear_pg.BernoulliPolicy` or a :class:`~linear_pg.GaussianPolicy` with
        the Box's dimension as ``action_dim``.
    """
    check_choice(policy, "policy", POLICY_NAMES)
    check_keywords(POLICY_CLASSES[policy], policy_kwargs, f"policy_kwargs for policy {policy!r}",
                   owned=POLICY_ARGUMENTS)
    if isinstance(space, gym.spaces.Discrete):
        n = int(space.n)
        if n < 2:
            raise ValueError(f"action space {space} has a single action: there is no "
                             f"choice for a policy to learn")
        if policy == "gaussian":
            raise ValueError(f"policy 'gaussian' needs a continuous (Box) action space, "
                             f"got {space}; use 'softmax'")
        if policy == "bernoulli":
            if n != 2:
                raise ValueError(f"policy 'bernoulli' needs exactly 2 actions, got {space}; "
                                 f"use 'softmax'")
            return BernoulliPolicy(n_features, seed=seed, **policy_kwargs)
        return SoftmaxPolicy(n_features, n, seed=seed, **policy_kwargs)
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        if policy != "gaussian":
            raise ValueError(f"policy {policy!r} needs a Discrete action space, got {space}; "
                             f"use 'gaussian'")
        return GaussianPolicy(n_features, int(space.shape[0]), seed=seed, **policy_kwargs)
    if not isinstance(space, gym.Space):
        raise TypeError(f"space must be a gymnasium action space (e.g. env.action_space), "
                        f"got {type(space).__name__} {space!r}")
    raise ValueError(f"action space {space} is not supported: need Discrete or a 1-D Box")


def check_policy_fits(policy: LinearPolicy, space: gym.Space, n_features: int) -> None:
    expected = make_policy_for_env(space, policy.kind, n_features)
    if policy.get_config().get("n_actions", None) != expected.get_config().get("n_actions") \
            or getattr(policy, "action_dim", None) != getattr(expected, "action_dim", None) \
            or policy.n_features != n_features:
        raise ValueError(f"policy {policy!r} does not fit this env: expected "
                         f"{expected!r} for {n_features} features and action space {space}")


POLICY_ARGUMENTS = ("n_features", "n_actions", "action_dim", "seed")
"""Policy constructor arguments that :func:`~linear_pg.train` sets itself (not via
policy_kwargs)."""


def check_features_fit(phi: FeatureMap, env: gym.Env | gym.vector.VectorEnv,
                       name: str = "features") -> None:
    """A fitted feature map that reads observations of this env's size, else an error."""
    if not phi._is_fitted():
        raise ValueError(f"{name} {type(phi).__name__} is not fitted: fit it on this env's "
                         f"observations first (or let train fit it)")
    n_obs = observation_size(env)
    if phi.n_features_in_ != n_obs:
        raise ValueError(f"{name} {type(phi).__name__} was fitted on observations of size "
                         f"{phi.n_features_in_}, but this env's observations have size "
                         f"{n_obs}; fit it on this env's observations")


def is_own_class(policy: LinearPolicy) -> bool:
    """Whether ``policy`` is of a class other than linear_pg's own (checked before use)."""
    return type(policy) not in POLICY_CLASSES.values()


def check_mean_bound(coef: float, policy: LinearPolicy) -> None:
    """The bounds penalty (:func:`linear_pg.update.mean_bound_grad`) is derived for the mean x W."""
    own_mean = getattr(type(policy), "mean", None)
    if coef > 0 and policy.kind == "gaussian" and own_mean is not GaussianPolicy.mean:
        raise ValueError(f"mean_bound_coef = {coef} penalizes a mean x W outside the action "
                         f"box, the mean of GaussianPolicy, but {type(policy).__name__} "
                         f"overrides mean: pass mean_bound_coef=0 (the preset of this env "
                         f"sets it)")


def check_own_policy_class(policy: LinearPolicy) -> None:
    """A policy of a class other than linear_pg's own: its hooks agree with its methods
    (the Fisher matrix, a (P, P) matrix, only where an update uses it: see
    :func:`linear_pg.trainer.train_loop`)."""
    if is_own_class(policy):
        check_policy_class(policy, fisher=False)


def check_model_fits(policy: LinearPolicy, phi: FeatureMap,
                     env: gym.Env | gym.vector.VectorEnv) -> None:
    """A policy of one's own class is one the trainer can use, the features read this
    env's observations, and the policy fits them and its actions."""
    check_own_policy_class(policy)
    check_fit_to_env(policy, phi, env)


def check_fit_to_env(policy: LinearPolicy, phi: FeatureMap,
                     env: gym.Env | gym.vector.VectorEnv) -> None:
    """The features read this env's observations and the policy fits them and its actions."""
    check_features_fit(phi, env)
    check_policy_fits(policy, env_spaces(env)[1], phi.n_features_out_)


def _random_observations(env: gym.Env, rng: np.random.Generator, n_episodes: int) -> np.ndarray:
    env.action_space.seed(int(rng.integers(2**31 - 1)))
    seen = []
    for _ in range(n_episodes):
        s, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        done = False
        while not done:
            seen.append(s)
            s, _, term, trunc, _ = env.step(env.action_space.sample())
            done = term or trunc
    obs = np.asarray(seen, dtype=np.float64)
    bad = np.flatnonzero(~np.all(np.isfinite(obs), axis=1))
    if bad.size:
        raise ValueError(f"the environment returned a non-finite observation "
                         f"{obs[bad[0]].tolist()} in the {n_episodes} random-action episodes "
                         f"that fit the features, before training")
    return obs


def fit_features(name: str, env: gym.Env, rng: np.random.Generator,
                 **features_kwargs: Any) -> FeatureMap:
    """Build the named feature map and fit it on this env's observations.

    "raw", "poly" and "pendulum" need one observation; "rbf" uses the observation box
    when it is finite (otherwise, like "standard" and "random_rbf") observations of
    ``FIT_EPISODES`` random-action episodes. "pendulum" takes its ``g`` from the env
    unless ``features_kwargs`` gives one.
    """
    check_choice(name, "features", FEATURE_NAMES)
    kwargs = dict(features_kwargs)
    if name == "rbf":
        kwargs["angle_pairs"] = tuple(tuple(p) for p in kwargs.get("angle_pairs", ()))
        # make_env's envs observe a flat Box (FlattenObservation's, if not their own)
        bounds = space_bounds(cast(gym.spaces.Box, env.observation_space))
        if bounds is not None and kwargs.get("low") is None:
            used = {c for p in kwargs["angle_pairs"] for c in p}
            keep = [c for c in range(bounds[0].size) if c not in used]
            kwargs["low"], kwargs["high"] = bounds[0][keep].tolist(), bounds[1][keep].tolist()
    if name == "pendulum" and kwargs.get("g") is None and hasattr(env.unwrapped, "g"):
        kwargs["g"] = float(env.unwrapped.g)     # E* = 3 g / 2 of the env trained on
    phi = make_features(name, **kwargs)
    needs_data = name in ("standard", "random_rbf") or (name == "rbf" and kwargs.get("low") is None)
    if needs_data:
        obs = _random_observations(env, rng, FIT_EPISODES)
    else:
        obs = np.asarray(env.observation_space.sample(), dtype=np.float64)[None] * 0.0
    return phi.fit(obs)


def fit_feature_map(features: FeatureMap, env: gym.Env, rng: np.random.Generator
                    ) -> FeatureMap:
    """A fitted copy of an unfitted feature map, fitted as :func:`fit_features` fits the
    map of its name (a map of another class: on random-action episodes); ``features``
    itself stays unfitted, as scikit-learn's ``clone`` leaves an estimator."""
    if FEATURE_CLASSES.get(features.name) is type(features):
        return fit_features(features.name, env, rng, **features.get_params())
    return clone(features).fit(_random_observations(env, rng, FIT_EPISODES))
