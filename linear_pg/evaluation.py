"""Evaluating a policy: the returns of fresh episodes, with the mean or sampled action."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._threads import one_blas_thread
from ._validation import as_generator, check_bool, check_int
from .divergence import non_finite_batch
from .envs import check_n_envs, make_env
from .features import FeatureMap
from .models import check_model_fits
from .policies import LinearPolicy
from .rollout import collect_unchecked
from .run import Run

EVAL_SEED_OFFSET = 1_000_003
"""``evaluate``'s default seed is run.seed + this (this alone for a bare policy), so that
evaluation never replays the training's resets."""


@one_blas_thread
def evaluate(run: Run | LinearPolicy, episodes: int = 100, *, mean_action: bool = True,
             seed: int | None = None, env_id: str | None = None,
             features: FeatureMap | None = None, env_kwargs: dict[str, Any] | None = None,
             n_envs: int = 1) -> np.ndarray:
    """Undiscounted returns of ``episodes`` fresh episodes, shape (episodes,).

    Parameters
    ----------
    run : Run or LinearPolicy
        A Run carries its env, features and env_kwargs; a bare policy needs ``env_id``
        and ``features``.
    episodes : int >= 1, default 100
        How many episodes to run.
    mean_action : bool, default True
        Act with the mean (Gaussian) / most likely action instead of sampling.
    seed : int, optional
        Default: ``run.seed + EVAL_SEED_OFFSET``, so evaluation never replays training
        resets.
    env_id, features, env_kwargs : optional
        The env, fitted feature map and env keyword arguments to evaluate in; for a Run,
        each given one replaces the run's own (e.g. the same policy under other physics).
        The run's own env_kwargs apply only to its own env: another ``env_id`` starts from
        none. The features must read that env's observations and give the policy its
        inputs.
    n_envs : int in [1, episodes], default 1
        Parallel sub-environments. The episodes' starts come from ``seed`` and ``n_envs``
        together: the same seed with another ``n_envs`` evaluates on other starts (each is
        as valid a sample; compare policies with the same ``seed`` and ``n_envs``).

    Returns
    -------
    returns : array of shape (episodes,)
        The undiscounted return of each episode.

    Raises
    ------
    ValueError
        If the environment returns a non-finite observation or reward, or the features
        of an observation are not finite (the message says where), rather than returning
        NaN returns.
    """
    episodes = check_int(episodes, "episodes", low=1)
    n_envs = check_int(n_envs, "n_envs", low=1)
    check_n_envs(n_envs, episodes)
    check_bool(mean_action, "mean_action")
    if features is not None and not isinstance(features, FeatureMap):
        raise TypeError(f"features must be a fitted FeatureMap (the one the policy was "
                        f"trained on), got {type(features).__name__} {features!r}")
    if isinstance(run, Run):
        policy = run.policy
        phi = run.features if features is None else features
        if env_kwargs is None:          # the run's own belong to its own env only
            env_kwargs = run.config.get("env_kwargs", {}) if env_id in (None, run.env_id) \
                else {}
        env_id = run.env_id if env_id is None else env_id
        seed = run.seed + EVAL_SEED_OFFSET if seed is None else seed
    elif isinstance(run, LinearPolicy):
        if env_id is None or features is None:
            raise ValueError("evaluate(policy) needs env_id and features, got "
                             f"env_id={env_id!r}, features={features!r}")
        policy, phi = run, features
        seed = EVAL_SEED_OFFSET if seed is None else seed
    else:
        raise TypeError(f"run must be a Run or a LinearPolicy, got {type(run).__name__}")
    env = make_env(env_id, env_kwargs, n_envs)
    try:
        check_model_fits(policy, phi, env)
        batch = collect_unchecked(env, policy, phi, episodes, as_generator(seed),
                                  mean_action=mean_action)
    finally:
        env.close()
    problem = non_finite_batch(batch, 0, kind="evaluation")
    if problem is not None:                 # e.g. env_kwargs={"g": nan}: NaN returns
        raise ValueError(problem)
    return batch.episode_returns
