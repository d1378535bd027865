"""Training settings: an env's preset overridden by the user's and checked, and the
:func:`~linear_pg.train` arguments that a recorded config stands for.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import gymnasium as gym
import numpy as np

from ._json import comparable, to_builtin, with_defaults
from ._validation import check_bool, check_choice, check_gamma, check_int, check_real
from .baselines import BASELINES
from .envs import check_kwargs, check_n_envs, make_env
from .features import FEATURE_CLASSES, FeatureMap, PendulumFeatures
from .models import POLICY_ARGUMENTS, POLICY_NAMES
from .optim import OPTIMIZERS
from .policies import POLICY_CLASSES, LinearPolicy
from .presets import get_preset, preset_env_kwargs

ESTIMATORS = ("reward_to_go", "total_return")
LR_SCHEDULES = ("constant", "linear")


class IdleEnvsWarning(UserWarning):
    """``n_envs`` is more than ``batch_episodes``: some sub-environments step idle."""


def _train_parameters() -> set[str]:
    """The names of :func:`~linear_pg.train`'s arguments (the trainer imports this module)."""
    from .trainer import train

    return set(inspect.signature(train).parameters)


def resolved_settings(env_id: str, **settings: Any) -> dict[str, Any]:
    """The settings ``train(env_id, **settings)`` would use: its preset overridden by the
    given ones (names, not policy or feature objects) and checked, as ``Run.config``
    records them before the features are fitted and the policy is built.

    Examples
    --------
    >>> resolved_settings("Pendulum-v1", batch_episodes=4)["optimizer"]
    'npg'
    """
    allowed = _train_parameters() - {
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
        return resolve_config(env_id, env, settings)
    finally:
        env.close()


def train_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`~linear_pg.train` that a run's recorded ``config``
    stands for.

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
    >>> from linear_pg import train
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
    settings = _train_parameters() - {"env_id", "seed"}
    kwargs = {k: v for k, v in cfg.items() if k in settings}
    features = cfg.get("features")
    kwargs["features"] = features.get("name") if isinstance(features, dict) else features
    if isinstance(features, dict) and features.get("name") in FEATURE_CLASSES:
        # an object of a built-in class was recorded with its settings, not its kwargs
        recorded = {k: v for k, v in features.items() if k != "name"}
        try:
            built = FEATURE_CLASSES[features["name"]](**kwargs.get("features_kwargs") or {})
        except TypeError:           # a hand-edited file: train says what is wrong with it
            built = None
        if isinstance(built, PendulumFeatures) and built.g is None:
            built.g = recorded.get("g")   # None is the env's g, recorded as it was resolved
        if built is not None and \
                comparable(to_builtin(built.get_params())) != comparable(recorded):
            kwargs["features_kwargs"] = recorded
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


def resolve_config(env_id: str, env: gym.Env, given: dict[str, Any], own_model: bool = False,
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
    check_n_envs(cfg["n_envs"], cfg["episodes"])   # 1e8 Pendulums were built, slowly
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
