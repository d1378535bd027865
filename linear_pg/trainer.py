"""Training loop: collect a batch, weight the scores, step, repeat.

One update of REINFORCE, as :func:`train` runs it:

1. run the policy for ``batch_episodes`` complete episodes (:mod:`linear_pg.rollout`);
2. weight each step by its reward-to-go (or the episode's total return), minus a baseline
   fitted on earlier batches (:mod:`linear_pg.baselines`), optionally standardized;
3. g = (1/N) sum_t score_t w_t, with the scores from ``policy.grad_log_prob``, plus an
   optional entropy bonus from ``policy.grad_entropy``;
4. theta <- theta + step(g) with SGD, Adam or the natural gradient (:mod:`linear_pg.optim`),
   whose Fisher matrix comes from the batch's scores or, with ``fisher="expected"``, from
   the policy itself at the batch's states.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import math
import numbers
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from sklearn.base import clone

from ._files import check_output_file
from ._json import comparable, to_builtin, with_defaults
from ._threads import one_blas_thread
from ._validation import (
    as_generator,
    check_bool,
    check_choice,
    check_gamma,
    check_int,
    check_keywords,
    check_real,
)
from ._workers import Place, callers_place, take_place
from .baselines import BASELINES, make_baseline
from .estimator import weighted_score_mean
from .features import FEATURE_CLASSES, FEATURE_NAMES, FeatureMap, make_features
from .optim import OPTIMIZERS, clip_grad_norm, make_optimizer
from .policies import (
    POLICY_CLASSES,
    BernoulliPolicy,
    GaussianPolicy,
    LinearPolicy,
    SoftmaxPolicy,
    check_policy_class,
    check_policy_fisher,
)
from .presets import get_preset, preset_env_kwargs, registered_id, space_bounds
from .returns import bootstrap_truncated, normalize, reward_to_go, total_return
from .rollout import Batch, _collect
from .symmetry import Mirror, MirrorAugmentation, resolve_mirror

CHECKPOINT_EVERY = 10
"""Updates between two checkpoints, by default (train's ``checkpoint_every``)."""

ESTIMATORS = ("reward_to_go", "total_return")
POLICY_NAMES = ("softmax", "bernoulli", "gaussian")
FIT_EPISODES = 5
"""Random-action episodes used to fit data-dependent features (not counted as training)."""


# ---------------------------------------------------------------------------- Run
@dataclass
class Run:
    """The result of :func:`train`: the trained policy and everything that happened.

    Attributes
    ----------
    env_id : str
    seed : int
    config : dict
        Every hyperparameter that was used (presets resolved), JSON-serializable.
    policy : LinearPolicy
        The final parameters (the last finite ones if training diverged).
    features : FeatureMap
        The fitted feature map the policy reads.
    episode_returns, episode_lengths : arrays (n_episodes,)
        Undiscounted return and length of every training episode, in order.
    update_episodes : array (n_updates,) of int
        Number of training episodes seen when each update was made.
    grad_norm, entropy, mean_std, wall_time : arrays (n_updates,)
        Per update: |g| (before clipping), the batch's mean policy entropy per step, the
        mean sigma of a Gaussian policy (NaN for discrete ones), seconds since the start.
    stopped_reason : str or None
        None if all episodes ran, "interrupted" (Ctrl-C), "stopped by the callback" (it
        raised :class:`StopTraining`), "error: ..." (in the checkpoint saved when an error
        from the env or a callback stopped training), or "diverged: ..." .
    train_state : dict or None
        What the next update would start from (:meth:`Learner.state`, as of the last
        completed update): checkpoints save it, and :func:`linear_pg.resume` goes on from
        it. None for a run built by hand or loaded from a checkpoint that lacks it.
    """

    env_id: str
    seed: int
    config: dict[str, Any]
    policy: LinearPolicy
    features: FeatureMap
    episode_returns: np.ndarray = field(default_factory=lambda: np.zeros(0))
    episode_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    update_episodes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    grad_norm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    entropy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mean_std: np.ndarray = field(default_factory=lambda: np.zeros(0))
    wall_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stopped_reason: str | None = None
    train_state: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    UPDATE_COLUMNS = ("grad_norm", "entropy", "mean_std", "wall_time")

    @property
    def n_episodes(self) -> int:
        return int(self.episode_returns.size)

    def update_history(self) -> dict[str, np.ndarray]:
        """Per-update columns of equal length: update, episodes, grad_norm, entropy, ..."""
        out = {"update": np.arange(1, self.update_episodes.size + 1),
               "episodes": self.update_episodes.copy()}
        out.update({k: getattr(self, k).copy() for k in self.UPDATE_COLUMNS})
        return out

    def history(self) -> dict[str, np.ndarray]:
        """Per-episode columns of equal length (one row per training episode).

        ``episode`` (1-based), ``return``, ``length``, ``update`` (1-based index of the
        update whose batch held the episode) and the per-update columns of that update
        (``grad_norm``, ``entropy``, ``mean_std``, ``wall_time``), repeated for every
        episode of its batch. :meth:`update_history` has them once per update.
        """
        n = self.n_episodes
        upd = np.searchsorted(self.update_episodes, np.arange(1, n + 1), side="left")
        upd = np.minimum(upd, max(self.update_episodes.size - 1, 0))
        out = {"episode": np.arange(1, n + 1), "return": self.episode_returns.copy(),
               "length": self.episode_lengths.copy(), "update": upd + 1}
        for k in self.UPDATE_COLUMNS:
            col = getattr(self, k)
            out[k] = col[upd] if col.size else np.full(n, np.nan)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A summary in strict JSON: config, history lists, policy and stop reason.

        NaN and infinite numbers become None (``json.dumps(..., allow_nan=False)`` and
        other languages' parsers accept the result): ``mean_std`` of a discrete policy,
        which has no sigma, and an infinite setting such as ``max_grad_norm``.
        """
        return to_builtin({"env_id": self.env_id, "seed": self.seed, "config": self.config,
                           "stopped_reason": self.stopped_reason,
                           "policy": {"kind": self.policy.kind,
                                      "config": self.policy.get_config(),
                                      "theta": self.policy.theta},
                           "features": self.features.get_config(),
                           "history": self.history()}, finite_only=True)

    def train_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that train this run again: ``train(run.env_id,
        seed=run.seed, **run.train_kwargs())`` gives the same returns and parameters (on
        one machine). See :func:`train_kwargs`."""
        return train_kwargs(self.config)

    def _append(self, batch_returns: np.ndarray, batch_lengths: np.ndarray,
                stats: dict[str, float]) -> None:
        self.episode_returns = np.concatenate([self.episode_returns, batch_returns])
        self.episode_lengths = np.concatenate([self.episode_lengths, batch_lengths])
        self.update_episodes = np.append(self.update_episodes, self.n_episodes)
        for k in self.UPDATE_COLUMNS:
            setattr(self, k, np.append(getattr(self, k), stats[k]))


# ---------------------------------------------------------------------------- building
DEFAULT_MAX_EPISODE_STEPS = 1000
"""Time limit given to an env registered without one (see :func:`make_env`)."""


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None,
             n_envs: int = 1) -> gym.Env | gym.vector.VectorEnv:
    """``gymnasium.make`` (or ``make_vec`` for n_envs > 1) with a clear error for an id it
    cannot make: unknown, a deprecated version, or missing a package (Box2D, MuJoCo).

    Every observation reaches the features as a flat vector: an env whose observations are
    not a 1-D Box is wrapped in gymnasium's ``FlattenObservation``, which turns a Discrete
    state into its one-hot vector (FrozenLake, Taxi, CliffWalking: a linear policy on it is
    a tabular one) and concatenates the parts of a Tuple or Dict (Blackjack).

    REINFORCE learns from complete episodes, so every episode must end: an env registered
    without a time limit (CliffWalking, where a random walk can go on for any number of
    steps) gets gymnasium's ``TimeLimit`` of ``DEFAULT_MAX_EPISODE_STEPS`` unless
    ``env_kwargs`` sets ``max_episode_steps``.

    An env of your own is named ``"module:EnvId-v0"``, as ``gymnasium.make`` takes it: the
    module (importable from the current directory or the Python path) is imported first,
    and it registers ``EnvId-v0`` with ``gymnasium.register``. The same id then works in
    every process: the command line, joblib workers, and a later evaluate or resume.
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a str such as 'CartPole-v1', got "
                        f"{type(env_id).__name__}")
    n_envs = check_int(n_envs, "n_envs", low=1)
    kwargs = dict(check_kwargs(env_kwargs, "env_kwargs"))
    env_id = import_env_module(env_id)
    try:
        spec = gym.spec(env_id)
    except gym.error.Error as err:
        raise ValueError(f"env_id {env_id!r} {_make_failure(err)} ({err})") from err
    given = dict(kwargs)
    _check_number_kwargs(spec, given)
    if spec.max_episode_steps is None:
        kwargs.setdefault("max_episode_steps", DEFAULT_MAX_EPISODE_STEPS)
    try:
        if n_envs == 1:
            env = gym.make(env_id, **kwargs)
        else:
            mode = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
            env = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode=mode, **kwargs)
    except gym.error.DependencyNotInstalled as err:
        raise ValueError(f"env_id {env_id!r} {_make_failure(err)} ({err})") from err
    except TypeError as err:
        if given:                         # most likely an argument the env does not take
            raise ValueError(f"env_kwargs {given!r} are not accepted by {env_id!r} ({err})") \
                from err
        raise ValueError(f"{env_id!r} could not be made: TypeError: {err}") from err
    except Exception as err:              # the env's own constructor may fail in any way
        with_kwargs = f" with env_kwargs {given!r}" if given else ""
        raise ValueError(f"{env_id!r} could not be made{with_kwargs}: "
                         f"{type(err).__name__}: {err}") from err
    return _flat_observations(env, env_id)


def _check_number_kwargs(spec: Any, given: dict[str, Any]) -> None:
    """A TypeError for an env argument whose default is a float given as text, a bool or
    None ({"g": "x"} for Pendulum failed at its first step, inside the env's physics)."""
    try:
        creator = spec.entry_point if callable(spec.entry_point) else \
            gym.envs.registration.load_env_creator(spec.entry_point)
        params = inspect.signature(creator).parameters
    except Exception:                     # no signature to read: gym.make will tell
        return
    for key, value in given.items():
        if key not in params:
            continue
        default, annotation = params[key].default, str(params[key].annotation)
        # a float default whose annotation (if any) allows no text: Ant-v5's main_body is
        # `int | str = 1`, a body's number or name
        if type(default) is float and "str" not in annotation and \
                isinstance(value, str | bool | bytes | type(None)):
            raise TypeError(f"env_kwargs[{key!r}] must be a number (the default of "
                            f"{spec.id!r} is {default!r}), got {value!r}")


def import_env_module(env_id: str) -> str:
    """The registered id of ``env_id``: for ``"module:EnvId-v0"`` the module is imported
    (which registers the env) and ``"EnvId-v0"`` returned; any other id as it is."""
    module, name = env_id.rpartition(":")[0], registered_id(env_id)
    if name == env_id:
        return env_id
    if not module or not name:
        raise ValueError(f"env_id {env_id!r} must be 'EnvId-v0' or 'module:EnvId-v0'")
    try:
        importlib.import_module(module)
    except ImportError as err:
        raise ValueError(f"env_id {env_id!r}: its module {module!r} cannot be imported "
                         f"({err}); it must be importable from the current directory or "
                         f"the Python path") from err
    return name


def _make_failure(err: gym.error.Error) -> str:
    """What went wrong when gymnasium could not make an env, in a few words."""
    if isinstance(err, gym.error.DependencyNotInstalled):
        return "is registered but needs a package that is not installed"
    if isinstance(err, gym.error.DeprecatedEnv):
        return "is a deprecated version"
    return "is not a registered gymnasium environment"


def env_spaces(env: gym.Env | gym.vector.VectorEnv) -> tuple[gym.Space, gym.Space]:
    """(observation space, action space) of one env, or of each sub-env of a vector env."""
    if isinstance(env, gym.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


def _flat_observations(env: gym.Env | gym.vector.VectorEnv,
                       env_id: str) -> gym.Env | gym.vector.VectorEnv:
    """``env`` itself if its observations are 1-D Boxes, else wrapped to flatten them."""
    space = env_spaces(env)[0]
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        return env
    if not space.is_np_flattenable:
        env.close()
        raise ValueError(f"the observations of {env_id!r} ({space}) cannot be flattened into "
                         f"a vector of features, which a linear policy needs")
    if isinstance(env, gym.vector.VectorEnv):
        return gym.wrappers.vector.FlattenObservation(env)
    return gym.wrappers.FlattenObservation(env)


def make_policy_for_env(space: gym.Space, policy: str, n_features: int, *, seed: int = 0,
                        **policy_kwargs: Any) -> LinearPolicy:
    """A linear policy of the named family that fits the action space.

    softmax: any Discrete(n >= 2); bernoulli: Discrete(2); gaussian: a 1-D Box.
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


def _check_policy_fits(policy: LinearPolicy, space: gym.Space, n_features: int) -> None:
    expected = make_policy_for_env(space, policy.kind, n_features)
    if policy.get_config().get("n_actions", None) != expected.get_config().get("n_actions") \
            or getattr(policy, "action_dim", None) != getattr(expected, "action_dim", None) \
            or policy.n_features != n_features:
        raise ValueError(f"policy {policy!r} does not fit this env: expected "
                         f"{expected!r} for {n_features} features and action space {space}")


POLICY_ARGUMENTS = ("n_features", "n_actions", "action_dim", "seed")
"""Policy constructor arguments that :func:`train` sets itself (not via policy_kwargs)."""


def check_kwargs(kwargs: object, name: str) -> dict[str, Any]:
    """``kwargs`` (None meaning {}) checked to be a dict with str keys, for ``**kwargs``."""
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise TypeError(f"{name} must be a dict of keyword arguments (str keys), got "
                        f"{type(kwargs).__name__} {kwargs!r}")
    return kwargs


def observation_size(env: gym.Env | gym.vector.VectorEnv) -> int:
    """Length of the (flat) observation vector the features receive from ``env``."""
    return int(np.prod(env_spaces(env)[0].shape))


def _check_features_fit(phi: FeatureMap, env: gym.Env | gym.vector.VectorEnv,
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


def _check_n_envs(n_envs: int, episodes: int) -> None:
    """ValueError if there are more sub-environments than episodes: each extra one would be
    an env made and stepped that never plays an episode (train's and evaluate's)."""
    if n_envs > episodes:
        raise ValueError(f"n_envs must be <= episodes ({episodes}): the extra "
                         f"sub-environments would never play an episode, got n_envs={n_envs}")


def _own_class(policy: LinearPolicy) -> bool:
    """Whether ``policy`` is of a class other than linear_pg's own (checked before use)."""
    return type(policy) not in POLICY_CLASSES.values()


def _check_mean_bound(coef: float, policy: LinearPolicy) -> None:
    """The bounds penalty (:func:`mean_bound_grad`) is derived for the mean x W."""
    if coef > 0 and policy.kind == "gaussian" and type(policy).mean is not GaussianPolicy.mean:
        raise ValueError(f"mean_bound_coef = {coef} penalizes a mean x W outside the action "
                         f"box, the mean of GaussianPolicy, but {type(policy).__name__} "
                         f"overrides mean: pass mean_bound_coef=0 (the preset of this env "
                         f"sets it)")


def _check_own_policy_class(policy: LinearPolicy) -> None:
    """A policy of a class other than linear_pg's own: its hooks agree with its methods
    (the Fisher matrix, a (P, P) matrix, only where an update uses it: see train_loop)."""
    if _own_class(policy):
        check_policy_class(policy, fisher=False)


def _check_model_fits(policy: LinearPolicy, phi: FeatureMap,
                      env: gym.Env | gym.vector.VectorEnv) -> None:
    """A policy of one's own class is one the trainer can use, the features read this
    env's observations, and the policy fits them and its actions."""
    _check_own_policy_class(policy)
    _check_fits(policy, phi, env)


def _check_fits(policy: LinearPolicy, phi: FeatureMap,
                env: gym.Env | gym.vector.VectorEnv) -> None:
    """The features read this env's observations and the policy fits them and its actions."""
    _check_features_fit(phi, env)
    _check_policy_fits(policy, env_spaces(env)[1], phi.n_features_out_)


def _random_observations(env: gym.Env, rng: np.random.Generator, n_episodes: int) -> np.ndarray:
    env.action_space.seed(int(rng.integers(2**31 - 1)))
    obs = []
    for _ in range(n_episodes):
        s, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        done = False
        while not done:
            obs.append(s)
            s, _, term, trunc, _ = env.step(env.action_space.sample())
            done = term or trunc
    obs = np.asarray(obs, dtype=np.float64)
    bad = np.flatnonzero(~np.all(np.isfinite(obs), axis=1))
    if bad.size:
        raise ValueError(f"the environment returned a non-finite observation "
                         f"{obs[bad[0]].tolist()} in the {n_episodes} random-action episodes "
                         f"that fit the features, before training")
    return obs


def fit_features(name: str, env: gym.Env, rng: np.random.Generator,
                 **features_kwargs: Any) -> FeatureMap:
    """Build the named feature map and fit it on this env's observations.

    "raw" and "poly" need one observation; "rbf" uses the observation box when it is
    finite (otherwise, like "standard" and "random_rbf") observations of
    ``FIT_EPISODES`` random-action episodes.
    """
    check_choice(name, "features", FEATURE_NAMES)
    kwargs = dict(features_kwargs)
    if name == "rbf":
        kwargs["angle_pairs"] = tuple(tuple(p) for p in kwargs.get("angle_pairs", ()))
        bounds = space_bounds(env.observation_space)
        if bounds is not None and kwargs.get("low") is None:
            used = {c for p in kwargs["angle_pairs"] for c in p}
            keep = [c for c in range(bounds[0].size) if c not in used]
            kwargs["low"], kwargs["high"] = bounds[0][keep].tolist(), bounds[1][keep].tolist()
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


# ---------------------------------------------------------------------------- train
class IdleEnvsWarning(UserWarning):
    """``n_envs`` is more than ``batch_episodes``: some sub-environments step idle."""


def resolved_settings(env_id: str, **settings: Any) -> dict[str, Any]:
    """The settings ``train(env_id, **settings)`` would use: its preset overridden by the
    given ones (names, not policy or feature objects) and checked, as ``Run.config``
    records them before the features are fitted and the policy is built.

    Examples
    --------
    >>> resolved_settings("Pendulum-v1", batch_episodes=4)["optimizer"]
    'npg'
    """
    allowed = set(inspect.signature(train).parameters) - {
        "env_id", "seed", "callback", "checkpoint_path", "checkpoint_every"}
    unknown = sorted(set(settings) - allowed - {"seed"})     # the seed changes no setting
    if unknown:
        raise TypeError(f"resolved_settings got settings train does not take: {unknown}; "
                        f"they are among {sorted(allowed)}")
    settings = {k: settings.get(k) for k in allowed}          # None: the preset's, as train
    for part, cls in (("policy", LinearPolicy), ("features", FeatureMap)):
        if isinstance(settings.get(part), cls):
            raise TypeError(f"resolved_settings takes names only: {part} is a "
                            f"{type(settings[part]).__name__} object; train(...).config "
                            f"records the settings used with it")
    env_kwargs = settings.get("env_kwargs")
    env = make_env(env_id, env_kwargs if env_kwargs is not None else preset_env_kwargs(env_id))
    try:
        return _resolve(env_id, env, settings)
    finally:
        env.close()


def train_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`train` that a run's recorded ``config`` stands for.

    ``config`` is ``Run.config``, or the "config" entry of a run directory's config.json.
    The config records what was used, with the presets resolved; ``train`` takes names and
    treats None as "the preset's". So the features' fitted state becomes its name (the
    map is fitted again from the seed), a clip or mirror recorded as None (off) becomes
    ``math.inf`` / False, ``lr_end`` is dropped unless the schedule is linear, and
    ``policy_config`` (the policy's size, which train sets) is dropped.

    A run resumed to another total of episodes cannot be trained again in one call (its
    decaying step size was scheduled for the earlier total until then): ValueError. A
    feature object of a built-in class (``PolyFeatures(degree=3)``) is named with its
    recorded settings, and fitted again as train fits such an object given unfitted; a
    policy object, or a feature map of your own class or fitted on other data, needs to be
    passed again as well.

    Examples
    --------
    >>> run = train("CartPole-v1", episodes=3, seed=1, max_grad_norm=math.inf)
    >>> again = train("CartPole-v1", seed=1, **run.train_kwargs())
    >>> bool(np.array_equal(again.policy.theta, run.policy.theta))
    True
    """
    if not isinstance(config, dict):
        raise TypeError(f"config must be a run's recorded config (a dict), got "
                        f"{type(config).__name__}")
    if isinstance(config.get("config"), dict) and "env_id" in config:
        config = config["config"]        # config.json as a whole: its "config" entry
    if "episodes" not in config:
        raise ValueError(f"config must be a run's recorded config (Run.config, or the "
                         f"'config' entry of its config.json), with 'episodes' among its "
                         f"keys; got keys {sorted(map(str, config))}")
    cfg = dict(config)
    if cfg.get("resumed"):
        raise ValueError(f"this run was resumed from another total of episodes "
                         f"({cfg['resumed']}): train(...) cannot schedule its step size as "
                         f"it was; resume a copy of its checkpoint instead")
    settings = set(inspect.signature(train).parameters) - {"env_id", "seed"}
    kwargs = {k: v for k, v in cfg.items() if k in settings}
    features = cfg.get("features")
    kwargs["features"] = features.get("name") if isinstance(features, dict) else features
    if isinstance(features, dict) and features.get("name") in FEATURE_CLASSES:
        # an object of a built-in class was recorded with its settings, not its kwargs
        settings = {k: v for k, v in features.items() if k != "name"}
        try:
            built = FEATURE_CLASSES[features["name"]](**kwargs.get("features_kwargs") or {})
        except TypeError:           # a hand-edited file: train says what is wrong with it
            built = None
        if built is not None and \
                comparable(to_builtin(built.get_params())) != comparable(settings):
            kwargs["features_kwargs"] = settings
    if kwargs.get("max_grad_norm") is None:
        kwargs["max_grad_norm"] = math.inf          # recorded None: no clipping
    if kwargs.get("mirror") is None:
        kwargs["mirror"] = False                     # recorded None: no mirror
    if kwargs.get("lr_schedule", "constant") != "linear":
        kwargs.pop("lr_end", None)
    return kwargs


def _other_kwargs(part: str, preset: dict[str, Any], given: dict[str, Any]) -> bool:
    """Whether ``given`` sets ``<part>_kwargs`` other than the preset's for its features
    or policy (compared by value, with the class's defaults filled in)."""
    kwargs = given.get(f"{part}_kwargs")
    if kwargs is None:
        return False
    classes = FEATURE_CLASSES if part == "features" else POLICY_CLASSES
    cls = classes.get(preset[part]) if isinstance(preset[part], str) else None
    return comparable(with_defaults(cls, kwargs)) != \
        comparable(with_defaults(cls, preset.get(f"{part}_kwargs", {})))


def _resolve(env_id: str, env: gym.Env, given: dict[str, Any], own_model: bool = False,
             policy_kind: str | None = None) -> dict[str, Any]:
    """The preset of ``env_id`` overridden by the user's non-None settings.

    ``own_model``: the user passed a policy or feature object. A preset's ``mirror`` was
    chosen for its own features and policy (their symmetry is what makes it exact), so a
    user's own features, policy or settings for them (other than the preset's) drop it
    unless ``mirror`` is given too;
    the preset's settings for building them (``policy_kwargs``, ``features_kwargs``) do not
    apply to an object and are dropped. ``policy_kind``: the kind of a policy object, which
    picks the preset's settings for that kind (e.g. the Bernoulli policy's learning rate).
    """
    cfg = get_preset(env_id, env)
    cfg.setdefault("env_kwargs", {})
    switched = [part for part in ("features", "policy")
                if given.get(part) not in (None, cfg[part])]
    if given.get("mirror") is None and (own_model or switched or any(
            _other_kwargs(part, cfg, given) for part in ("features", "policy"))):
        cfg["mirror"] = None
    # settings that belong to one policy kind (e.g. its learning rate) come before the user's
    cfg.update(cfg.pop("by_policy", {}).get(policy_kind or given.get("policy")
                                            or cfg["policy"], {}))
    by_optimizer = cfg.pop("by_optimizer", {})
    if given.get("optimizer") not in (None, cfg["optimizer"]):
        cfg["optimizer_kwargs"] = {}     # the preset's kwargs belong to its own optimizer
    for part in switched:                # and so do those of its features and policy
        cfg[f"{part}_kwargs"] = {}
    for part in ("features", "policy"):  # an object given instead of a name is used as it is
        if part not in given:
            cfg[f"{part}_kwargs"] = {}
    # and so does its step size (a KL size for "npg", a learning rate for the others)
    cfg.update(by_optimizer.get(given.get("optimizer") or cfg["optimizer"], {}))
    cfg.setdefault("optimizer_kwargs", {})
    for key, value in given.items():
        if value is not None:
            cfg[key] = value
    if cfg["max_grad_norm"] == math.inf:     # None takes the preset's; inf turns it off
        cfg["max_grad_norm"] = None
    check_settings(cfg)
    _check_n_envs(cfg["n_envs"], cfg["episodes"])   # 1e8 Pendulums were built, slowly
    # settings given for something this run does not have would be recorded, not used
    if given.get("lr_end") is not None and cfg["lr_schedule"] != "linear":
        raise ValueError(f"lr_end is where lr_schedule='linear' ends; this run's lr_schedule "
                         f"is {cfg['lr_schedule']!r}: give lr_schedule='linear' too")
    kind = policy_kind or cfg["policy"]
    if given.get("mean_bound_coef") and kind in POLICY_NAMES and kind != "gaussian":
        raise ValueError(f"mean_bound_coef keeps a Gaussian policy's mean inside the action "
                         f"box; a {kind!r} policy has none")
    space = env.action_space
    if given.get("mean_bound_coef") and isinstance(space, gym.spaces.Box) and \
            not np.any(np.isfinite(space.low)) and not np.any(np.isfinite(space.high)):
        raise ValueError(f"mean_bound_coef keeps a Gaussian policy's mean inside the action "
                         f"box; this env's box {space} has no finite bound")
    cfg.setdefault("mirror", None)
    owned = sorted(set(cfg["policy_kwargs"]) & set(POLICY_ARGUMENTS))
    if owned:
        raise ValueError(f"policy_kwargs must not set {owned}: train sets the policy's size "
                         f"from the env and features, and its seed from seed=")
    return cfg


def check_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """Check the training settings of a config in place (as train resolves them, or as
    a checkpoint recorded them, which :func:`~linear_pg.resume` trains on with): every
    number in its range, every name among the choices, every ``*_kwargs`` a dict with
    string keys. Returns ``cfg``, with the numbers as Python ints and floats."""
    cfg["episodes"] = check_int(cfg["episodes"], "episodes", low=1)
    cfg["batch_episodes"] = check_int(cfg["batch_episodes"], "batch_episodes", low=1)
    cfg["n_envs"] = check_int(cfg.get("n_envs", 1), "n_envs", low=1)
    cfg["gamma"] = check_gamma(cfg["gamma"])
    cfg["lr"] = check_real(cfg["lr"], "lr", low=0.0, low_open=True)
    cfg["entropy_coef"] = check_real(cfg["entropy_coef"], "entropy_coef", low=0.0)
    if cfg["max_grad_norm"] is not None:     # None: no clipping
        cfg["max_grad_norm"] = check_real(cfg["max_grad_norm"], "max_grad_norm", low=0.0,
                                          low_open=True)
    cfg["lr_schedule"] = check_choice(cfg.get("lr_schedule", "constant"), "lr_schedule",
                                      LR_SCHEDULES)
    cfg["lr_end"] = check_real(cfg.get("lr_end", 0.0), "lr_end", low=0.0, high=1.0)
    cfg["mean_bound_coef"] = check_real(cfg.get("mean_bound_coef", 0.0), "mean_bound_coef",
                                        low=0.0)
    for part in ("env", "policy", "features", "optimizer"):
        cfg[f"{part}_kwargs"] = check_kwargs(cfg.get(f"{part}_kwargs"), f"{part}_kwargs")
    check_choice(cfg["estimator"], "estimator", ESTIMATORS)
    check_choice(cfg["baseline"], "baseline", BASELINES)
    check_choice(cfg["optimizer"], "optimizer", OPTIMIZERS)
    check_bool(cfg["normalize_weights"], "normalize_weights")
    return cfg


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


def _weights(cfg: dict[str, Any], batch: Any, baseline: Any) -> np.ndarray | None:
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
    # unchecked, as opt._step below: X passed _non_finite_batch and G was just checked
    baseline._update(batch.X, G)
    return normalize(w) if cfg["normalize_weights"] else w


def _reinforce_gradient(policy: LinearPolicy, X: np.ndarray, A: np.ndarray, w: np.ndarray,
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


def _collapsed(policy: LinearPolicy, entropy: float, returns: np.ndarray) -> str | None:
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


def _non_finite_batch(batch: Batch, episodes_before: int,
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


def _count(n: int, noun: str) -> str:
    """'1 episode', '2 episodes'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _shown(obs: np.ndarray) -> str:
    """An observation for a message: its list, or a summary of a long one (one-hot)."""
    return str(obs.tolist()) if obs.size <= 12 else np.array2string(obs, threshold=12)


def _non_finite_step_input(g: np.ndarray, scores: np.ndarray | None,
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


def _stop_diverged(run: Run, problem: str) -> None:
    """Mark ``run`` as stopped by ``problem``, with a warning; its policy keeps the last
    finite parameters and its history the completed updates."""
    run.stopped_reason = f"diverged: {problem}"
    warnings.warn(f"training stopped, {run.stopped_reason}; keeping the last finite "
                  f"parameters", RuntimeWarning, stacklevel=3)


LR_SCHEDULES = ("constant", "linear")


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


@one_blas_thread
def train(env_id: str, *, episodes: int | None = None, seed: int = 0,
          policy: str | LinearPolicy | None = None, features: str | FeatureMap | None = None,
          estimator: str | None = None, baseline: str | None = None,
          normalize_weights: bool | None = None, optimizer: str | None = None,
          lr: float | None = None, gamma: float | None = None,
          batch_episodes: int | None = None, n_envs: int = 1,
          entropy_coef: float | None = None, max_grad_norm: float | None = None,
          lr_schedule: str | None = None, lr_end: float | None = None,
          mean_bound_coef: float | None = None, mirror: bool | Mirror | None = None,
          checkpoint_path: str | None = None, checkpoint_every: int = CHECKPOINT_EVERY,
          callback: Callable[[Run], None] | None = None,
          env_kwargs: dict[str, Any] | None = None,
          policy_kwargs: dict[str, Any] | None = None,
          features_kwargs: dict[str, Any] | None = None,
          optimizer_kwargs: dict[str, Any] | None = None) -> Run:
    """Train a linear policy with REINFORCE on a gymnasium environment.

    Parameters
    ----------
    env_id : str
        A registered gymnasium id, e.g. "CartPole-v1", "Pendulum-v1".
    episodes : int >= 1
        Training episodes in total (the last batch is shortened to fit).
    seed : int, default 0
        Seeds everything: policy initialization, episode resets, action sampling.
    policy : {"softmax", "bernoulli", "gaussian"} or LinearPolicy, optional
        A name (settings in ``policy_kwargs``) or a policy, of which a copy is trained; the
        preset's settings for its kind still apply (the Bernoulli policy's learning rate
        on CartPole-v1).
    features : {"raw", "poly", "standard", "rbf", "random_rbf"} or FeatureMap, optional
        A name (settings in ``features_kwargs``), a fitted map (used as it is), or an
        unfitted one such as ``RBFFeatures(n_centers=8, angle_pairs=[(0, 1)])``, of which
        a copy is fitted on this env's observations, as for its name.
    estimator : {"reward_to_go", "total_return"}, optional
    baseline : {"none", "mean", "value"}, optional
        Subtracted from the weights: "mean" the previous batch's mean reward-to-go,
        "value" a ridge fit of the reward-to-go on the features over earlier batches. Both
        estimate the reward-to-go G_t, also with ``estimator="total_return"``: the value
        function also bootstraps truncated episodes, so it must be V(s). Subtracted from
        the total return R(tau) they keep the estimate unbiased (they depend on s_t and
        earlier data only) but do not centre it: R(tau) also holds the rewards before t.
    normalize_weights : bool, optional
        Standardize the weights of each batch (mean 0, std 1).
    optimizer : {"sgd", "adam", "npg"}, optional
    lr : float > 0, optional
        Step size for sgd/adam; the KL size delta for npg.
    gamma : float in [0, 1], optional
    batch_episodes : int >= 1, optional
        Episodes per update.
    n_envs : int, default 1
        Parallel sub-environments (``gymnasium.make_vec``) when > 1; more than
        ``batch_episodes`` is a warning (the extra ones would step idle).
    entropy_coef : float >= 0, optional
        Weight of the entropy bonus.
    max_grad_norm : float > 0, optional
        Clip |g| to this norm before the step; ``math.inf`` for no clipping where the
        preset clips (None, like every other argument, keeps the preset's setting).
    lr_schedule : {"constant", "linear"}, optional
        How the step size changes during training (default "constant"): "linear" decays
        it from ``lr`` at the first update to ``lr_end * lr`` at the end (see
        :func:`lr_factor`); for "npg" it is the KL size delta that decays.
    lr_end : float in [0, 1], optional
        Final fraction of ``lr`` for the "linear" schedule (default 0).
    mean_bound_coef : float >= 0, optional
        Weight c of a penalty (c / 2) |mu - clip(mu)|^2 per step on a Gaussian mean outside
        a bounded action box (default 0, off), added to the gradient like the entropy
        bonus; see :func:`mean_bound_grad`.
    mirror : bool or Mirror, optional
        Learn from every episode's mirror image too (:mod:`linear_pg.symmetry`; Gaussian
        policies on "raw", "poly" or "rbf" features): True uses the env's known reflection
        (Pendulum-v1), a :class:`~linear_pg.symmetry.Mirror` any other; False turns it off.
        The mean (and a "linear" log sigma) is projected onto the mirror-symmetric ones at
        the start and after every update, and the symmetry is checked on every batch.
        Default (None): the preset's, which is dropped with features, a policy, or
        ``features_kwargs`` / ``policy_kwargs`` other than the preset's (its exactness was
        checked for those only); give ``mirror=True`` to keep it.
    checkpoint_path : str, optional
        Save a checkpoint every ``checkpoint_every`` updates and at the end (atomically).
        Every setting must then be storable as JSON (checked before the first episode).
    checkpoint_every : int >= 1, default 10
        Updates between two checkpoints (with ``checkpoint_path``); one is also saved when
        the run ends, completed, interrupted or diverged.
    callback : callable(Run), optional
        Called after each update with the run so far (e.g. to drive a progress bar). To
        stop early, it raises :class:`StopTraining`; any other exception it raises goes on
        to the caller, after the checkpoint (with ``checkpoint_path``) is saved.
    env_kwargs, policy_kwargs, features_kwargs, optimizer_kwargs : dict, optional
        Passed to ``gymnasium.make``, the policy class, the feature map and the optimizer
        (e.g. ``{"damping": 0.1}`` or ``{"fisher": "expected"}`` for "npg"). Each replaces
        the preset's dict as a whole (``{}`` means the class's own defaults): to change one
        entry, start from the preset's, e.g. ``{**PRESETS["Pendulum-v1"]["features_kwargs"],
        "width": 1.0}`` (:mod:`linear_pg.presets`).

    Every hyperparameter left as None comes from the env's preset
    (:mod:`linear_pg.presets`); :attr:`Run.config` records the values used.

    Returns
    -------
    Run

    Notes
    -----
    g = (1/N) sum_{episodes} sum_t score_t w_t: the average over the N episodes of the batch
    (not over steps), as in the derivation of grad E[R(tau)]. Ctrl-C stops training at once;
    the run so far (its completed updates) is returned with ``stopped_reason="interrupted"``
    and the checkpoint is saved. A non-finite observation or reward from the environment
    or a non-finite feature vector (before that batch enters the history), a non-finite
    gradient or update, or a collapsed policy stops training with a warning and
    ``stopped_reason="diverged: ..."``, keeping the last good theta.

    Examples
    --------
    >>> run = train("CartPole-v1", episodes=10, seed=0)
    >>> run.episode_returns.shape
    (10,)
    """
    seed = check_int(seed, "seed", low=0)
    n_envs = check_int(n_envs, "n_envs", low=1)
    checkpoint_path, checkpoint_every = check_loop_arguments(checkpoint_path,
                                                             checkpoint_every, callback)
    probe_kwargs = env_kwargs if env_kwargs is not None else preset_env_kwargs(env_id)
    env = make_env(env_id, probe_kwargs)
    given = {"episodes": episodes, "estimator": estimator, "baseline": baseline,
             "normalize_weights": normalize_weights, "optimizer": optimizer, "lr": lr,
             "gamma": gamma, "batch_episodes": batch_episodes, "n_envs": n_envs,
             "entropy_coef": entropy_coef, "max_grad_norm": max_grad_norm,
             "lr_schedule": lr_schedule, "lr_end": lr_end,
             "mean_bound_coef": mean_bound_coef, "mirror": mirror,
             "env_kwargs": env_kwargs, "policy_kwargs": policy_kwargs,
             "features_kwargs": features_kwargs, "optimizer_kwargs": optimizer_kwargs}
    objects = []                          # a policy or feature map given as an object
    for part, value, cls, noun in (("policy", policy, LinearPolicy, "policy"),
                                   ("features", features, FeatureMap, "feature map")):
        if not isinstance(value, cls):
            given[part] = value           # a name (or None: the preset's)
            continue
        objects.append(part)
        if part == "policy":
            _check_own_policy_class(value)      # before its kind is used
        if given[f"{part}_kwargs"]:
            raise ValueError(f"{part}_kwargs are the settings of a {noun} that train builds "
                             f"from a name; {part} is a {type(value).__name__} object, which "
                             f"is used as it is: give its settings to its constructor instead "
                             f"(got {part}_kwargs={given[f'{part}_kwargs']!r})")
    cfg = _resolve(env_id, env, given, own_model=bool(objects),
                   policy_kind=policy.kind if "policy" in objects else None)
    rng = np.random.default_rng(seed)

    if isinstance(features, FeatureMap) and not features._is_fitted():
        phi = fit_feature_map(features, env, rng)
    elif isinstance(features, FeatureMap):
        phi = features
        _check_features_fit(phi, env)
    elif features is None or isinstance(features, str):
        phi = fit_features(cfg["features"], env, rng, **cfg["features_kwargs"])
    else:
        raise TypeError(f"features must be a name in {FEATURE_NAMES} or a FeatureMap, "
                        f"got {type(features).__name__}")
    cfg["features"] = phi.get_config()
    if isinstance(policy, LinearPolicy):
        _check_policy_fits(policy, env.action_space, phi.n_features_out_)
        pi = policy.copy()
    elif policy is None or isinstance(policy, str):
        pi = make_policy_for_env(env.action_space, cfg["policy"], phi.n_features_out_,
                                 seed=seed, **cfg["policy_kwargs"])
    else:
        raise TypeError(f"policy must be one of {POLICY_NAMES} or a LinearPolicy, "
                        f"got {type(policy).__name__}")
    _check_mean_bound(cfg["mean_bound_coef"], pi)
    cfg["policy"] = pi.kind
    cfg["policy_config"] = to_builtin(pi.get_config())
    mirror = resolve_mirror(cfg["mirror"], env_id, env)
    cfg["mirror"] = None if mirror is None else mirror.to_dict()
    augment = None if mirror is None else MirrorAugmentation(mirror, phi, pi)
    if augment is not None:
        augment.project(pi)
    if n_envs > 1:
        if n_envs > cfg["batch_episodes"]:
            idle = n_envs - cfg["batch_episodes"]
            warnings.warn(f"n_envs={n_envs} is more than batch_episodes="
                          f"{cfg['batch_episodes']}: each update starts only "
                          f"{cfg['batch_episodes']} episode(s), so {idle} of the {n_envs} "
                          f"sub-environments step idle; give n_envs <= batch_episodes",
                          IdleEnvsWarning, stacklevel=3)
        env.close()
        env = make_env(env_id, cfg["env_kwargs"], n_envs)

    run = Run(env_id=env_id, seed=seed, config=to_builtin(cfg), policy=pi, features=phi)
    if checkpoint_path is not None:
        from .checkpoint import check_storable

        check_storable(run)                # before any episode, not at the first save
    return train_loop(run, env, Learner.start(cfg, rng, augment, env_spaces(env)[1]),
                      checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every,
                      callback=callback)


LOOP_SETTINGS = ("episodes", "batch_episodes", "estimator", "baseline", "normalize_weights",
                 "optimizer", "optimizer_kwargs", "lr", "lr_schedule", "lr_end", "gamma",
                 "entropy_coef", "max_grad_norm", "mean_bound_coef")
"""The settings of :attr:`Run.config` that :func:`train_loop` and :class:`Learner` read."""


@dataclass
class Learner:
    """What training carries from one update to the next besides the policy: the resolved
    config, the baseline, the optimizer, the random generator, the mirror augmentation and
    the action box (for the bounds penalty)."""

    cfg: dict[str, Any]
    baseline: Any
    optimizer: Any
    rng: np.random.Generator
    augment: MirrorAugmentation | None
    bounds: tuple[np.ndarray, np.ndarray] | None

    @classmethod
    def start(cls, cfg: dict[str, Any], rng: np.random.Generator,
              augment: MirrorAugmentation | None, action_space: gym.Space) -> Learner:
        """A fresh baseline and optimizer for ``cfg``; the bounds of a Box action space
        (for the bounds penalty; an infinite bound leaves its side free)."""
        bounds = None
        if isinstance(action_space, gym.spaces.Box):
            bounds = (np.asarray(action_space.low, np.float64),
                      np.asarray(action_space.high, np.float64))
        return cls(cfg, make_baseline(cfg["baseline"]),
                   make_optimizer(cfg["optimizer"], cfg["lr"], **cfg.get("optimizer_kwargs", {})),
                   rng, augment, bounds)

    def state(self, run: Run) -> dict[str, Any]:
        """A copy of everything the next update depends on, taken between updates: the
        number of updates done, theta, the generator's state and the baseline's and
        optimizer's arrays. A checkpoint saves it; :func:`linear_pg.resume` goes on
        from it, exactly as training would have."""
        return {"updates": int(run.update_episodes.size), "theta": run.policy.theta.copy(),
                "rng": copy.deepcopy(self.rng.bit_generator.state),
                "baseline": self.baseline.get_state(),        # copies, as get_state gives
                "optimizer": self.optimizer.get_state()}


def check_loop_arguments(checkpoint_path: object, checkpoint_every: object,
                         callback: object) -> tuple[Any, int]:
    """(checkpoint_path checked and its directory created, checkpoint_every) for
    :func:`train_loop`, or a clear error (before any training)."""
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", low=1)
    if checkpoint_path is not None:
        checkpoint_path = check_output_file(checkpoint_path, "checkpoint_path",
                                            example="checkpoint.npz")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a callable taking the Run, got "
                        f"{type(callback).__name__}")
    return checkpoint_path, checkpoint_every


def train_loop(run: Run, env: gym.Env | gym.vector.VectorEnv, learner: Learner, *,
               checkpoint_path: str | None, checkpoint_every: int,
               callback: Callable[[Run], None] | None) -> Run:
    """Update ``run.policy`` batch after batch until ``cfg["episodes"]`` (shared by
    :func:`train` and :func:`linear_pg.resume`); closes ``env``.

    After every completed update ``run.train_state`` holds :meth:`Learner.state`, so a
    checkpoint written at any moment, even by a Ctrl-C in the middle of a batch, can be
    resumed from the last completed update.
    """
    cfg, base, opt, rng = learner.cfg, learner.baseline, learner.optimizer, learner.rng
    augment, bounds = learner.augment, learner.bounds
    pi, phi = run.policy, run.features
    if opt.needs_fisher and _own_class(pi):
        try:                              # the natural gradient uses the policy's own F
            check_policy_fisher(pi)
        except BaseException:
            env.close()
            raise
    start = time.perf_counter() - (float(run.wall_time[-1]) if run.wall_time.size else 0.0)
    run.train_state = learner.state(run)
    try:
        while run.n_episodes < cfg["episodes"]:
            n = min(cfg["batch_episodes"], cfg["episodes"] - run.n_episodes)
            opt.set_lr(cfg["lr"] * lr_factor(cfg["lr_schedule"],
                                             run.n_episodes / cfg["episodes"], cfg["lr_end"]))
            batch = _collect(env, pi, phi, n, rng)
            problem = _non_finite_batch(batch, run.n_episodes)
            if problem is not None:
                _stop_diverged(run, problem)
                break
            w = _weights(cfg, batch, base)
            if w is None:
                _stop_diverged(run, f"the returns of the batch after "
                                    f"{_count(run.n_episodes, 'episode')} overflow float64 "
                                    f"(rewards up to {np.max(np.abs(batch.rewards)):.3g}; its "
                                    f"batch is left out of the history)")
                break
            try:
                X, A, w, n_eps = (batch.X, batch.actions, w, batch.n_episodes) \
                    if augment is None else augment.samples(pi, batch, w)
            except ValueError as err:         # the mirror's check of the policy's symmetry
                if run.update_episodes.size == 0:
                    raise                     # from the start: the setup is wrong
                # later, after projections that keep it exact: rounding in a policy grown
                # huge, i.e. a diverging run
                _stop_diverged(run, f"{err} (after {_count(run.n_episodes, 'episode')})")
                break
            g, S = _reinforce_gradient(pi, X, A, w, n_eps, opt.needs_scores)
            if cfg["entropy_coef"] > 0:
                g = g + cfg["entropy_coef"] * pi.grad_entropy(X).sum(0) / n_eps
            if cfg["mean_bound_coef"] > 0 and bounds is not None:
                g = g + cfg["mean_bound_coef"] * mean_bound_grad(pi, X, *bounds, n_eps)
            grad_norm = float(np.linalg.norm(g))
            entropy = float(np.mean(pi.entropy(batch.X)))
            stats = {"grad_norm": grad_norm, "entropy": entropy,
                     "mean_std": float(np.mean(pi.std(batch.X))) if pi.kind == "gaussian"
                     else math.nan, "wall_time": time.perf_counter() - start}
            run._append(batch.episode_returns, batch.lengths, stats)
            F = pi._fisher(X) if opt.needs_fisher else None
            problem = _non_finite_step_input(g, S, F, grad_norm)
            if problem is None:
                # the unchecked step: S and F are the policy's own, built above
                step = opt._step(opt._gradient(clip_grad_norm(g, cfg["max_grad_norm"])), S, F)
                new_theta = pi.theta + step
                problem = "a non-finite update" if not np.all(np.isfinite(new_theta)) else None
            if problem is None:
                pi.theta = new_theta
                if augment is not None:
                    augment.project(pi)
                problem = _collapsed(pi, entropy, batch.episode_returns)
            if problem is not None:
                _stop_diverged(run, f"{problem} after {_count(run.n_episodes, 'episode')}")
                break
            run.train_state = learner.state(run)
            if callback is not None:
                try:
                    callback(run)
                except StopTraining as stop:
                    run.stopped_reason = f"stopped by the callback{_because(stop)}"
                    break
            if checkpoint_path is not None and checkpoint_due(run, checkpoint_every):
                _save(run, checkpoint_path)
    except KeyboardInterrupt:
        run.stopped_reason = "interrupted"
    except BaseException as err:
        # an error in a callback or the env: keep what the completed updates did (the run's
        # history and train_state are those of the last one), then let the error go on;
        # with no update yet there is nothing to keep (and a file there may be another run)
        run.stopped_reason = f"error: {type(err).__name__}: {err}"
        if checkpoint_path is not None and run.update_episodes.size:
            with contextlib.suppress(Exception):
                _save(run, checkpoint_path)
        raise
    finally:
        env.close()
    if checkpoint_path is not None:
        _save(run, checkpoint_path)
    return run


class StopTraining(Exception):  # noqa: N818 (a signal, not an error)
    """Raise it in ``train``'s or ``resume``'s callback to stop training after the update
    just made: the run is returned (and its checkpoint saved) with ``stopped_reason``
    "stopped by the callback" (plus ``: message`` when the exception has one), and
    :func:`linear_pg.resume` can go on from it."""


def _because(stop: StopTraining) -> str:
    return f": {stop}" if str(stop) else ""


def checkpoint_due(run: Run, every: int) -> bool:
    """Whether training saves its checkpoint after the update ``run`` has just completed
    (every ``every``-th update; a resumed run counts its earlier ones)."""
    return run.update_episodes.size % every == 0


def _save(run: Run, path: str) -> None:
    from .checkpoint import save_checkpoint

    save_checkpoint(run, path)


# ---------------------------------------------------------------------------- evaluate
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
    episodes : int, default 100
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

    Raises
    ------
    ValueError
        If the environment returns a non-finite observation or reward, or the features
        of an observation are not finite (the message says where), rather than returning
        NaN returns.
    """
    episodes = check_int(episodes, "episodes", low=1)
    n_envs = check_int(n_envs, "n_envs", low=1)
    _check_n_envs(n_envs, episodes)
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
        _check_model_fits(policy, phi, env)
        batch = _collect(env, policy, phi, episodes, as_generator(seed),
                         mean_action=mean_action)
    finally:
        env.close()
    problem = _non_finite_batch(batch, 0, kind="evaluation")
    if problem is not None:                 # e.g. env_kwargs={"g": nan}: NaN returns
        raise ValueError(problem)
    return batch.episode_returns


# ---------------------------------------------------------------------------- seeds
def check_seeds(seeds: object) -> list[int]:
    """``seeds`` as a list of non-negative ints: an int n means 0 .. n - 1."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        return list(range(check_int(seeds, "seeds", low=1)))
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be an int n (seeds 0 .. n - 1) or a sequence of ints, "
                        f"got {type(seeds).__name__}")
    out = [check_int(s, "seeds", low=0) for s in seeds]
    if not out:
        raise ValueError("seeds must hold at least one seed, got an empty sequence")
    twice = sorted({s for s in out if out.count(s) > 1})
    if twice:
        raise ValueError(f"seeds must be distinct (a seed gives the same run bit for bit), "
                         f"got {out} with {', '.join(map(str, twice))} more than once")
    return out


def train_seeds(env_id: str, seeds: Sequence[int] | int, *, n_jobs: int = 1,
                **train_kwargs: Any) -> list[Run]:
    """:func:`train` once per seed, in parallel processes with joblib when n_jobs > 1.

    ``seeds`` may be an int n, meaning seeds 0 .. n - 1, or distinct seeds. ``n_jobs`` is
    the number of processes, or -1 for one per CPU (as in joblib). Results are in the
    order of the seeds and identical to sequential runs (each run is seeded on its own). A
    ``checkpoint_path`` for several seeds must hold "{seed}", which each seed's run replaces
    by its seed (``"runs/seed-{seed}.npz"``). An env that the calling script registered
    with ``gymnasium.register`` is registered in the worker processes too.
    """
    seeds = check_seeds(seeds)
    if "seed" in train_kwargs:
        raise TypeError("train_seeds takes seeds= (an int n or a list of ints), not seed=")
    n_jobs = check_int(n_jobs, "n_jobs")
    if n_jobs < 1 and n_jobs != -1:
        raise ValueError(f"n_jobs must be >= 1, or -1 for one process per CPU, got {n_jobs}")
    per_seed = [dict(train_kwargs, **_seed_checkpoint(train_kwargs, s, len(seeds)))
                for s in seeds]
    if n_jobs == 1:
        return [train(env_id, seed=s, **kw) for s, kw in zip(seeds, per_seed, strict=True)]
    from joblib import Parallel, delayed

    spec = gym.spec(env_id) if isinstance(env_id, str) and env_id in gym.registry else None
    here = callers_place()
    return Parallel(n_jobs=n_jobs)(delayed(_train_in_worker)(spec, env_id, here, seed=s, **kw)
                                   for s, kw in zip(seeds, per_seed, strict=True))


def _train_in_worker(spec: gym.envs.registration.EnvSpec | None, env_id: str, here: Place,
                     **kwargs: Any) -> Run:
    """:func:`train` in a worker process, from the caller's directory and Python path
    ``here`` (:mod:`linear_pg._workers`), which first registers ``spec`` if it does not
    know ``env_id``: an env that the user's script registered with ``gymnasium.register``
    exists only in the parent process."""
    take_place(here)
    if spec is not None and env_id not in gym.registry:
        gym.registry[env_id] = spec
    return train(env_id, **kwargs)


def _seed_checkpoint(train_kwargs: dict[str, Any], seed: int, n_seeds: int) -> dict[str, Any]:
    """``checkpoint_path`` for one seed of :func:`train_seeds`: "{seed}" in it is replaced
    by the seed; without it, several seeds would all write one file (a ValueError)."""
    path = train_kwargs.get("checkpoint_path")
    if path is None:
        return {}
    if "{seed}" in str(path):
        return {"checkpoint_path": str(path).replace("{seed}", str(seed))}
    if n_seeds > 1:
        raise ValueError(f"checkpoint_path {str(path)!r} would be written by all {n_seeds} "
                         f"seeds; put {{seed}} in it, e.g. 'runs/seed-{{seed}}.npz'")
    return {}
