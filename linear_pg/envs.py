"""Gymnasium environments for linear policies: made with clear errors, their observations
flattened, every episode given an end.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Literal, overload

import gymnasium as gym
import numpy as np

from ._validation import check_int
from .presets import registered_id

DEFAULT_MAX_EPISODE_STEPS = 1000
"""Time limit given to an env registered without one (see :func:`make_env`)."""


@overload
def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None,
             n_envs: Literal[1] = 1) -> gym.Env: ...
@overload
def make_env(env_id: str, env_kwargs: dict[str, Any] | None,
             n_envs: int) -> gym.Env | gym.vector.VectorEnv: ...
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

    Parameters
    ----------
    env_id : str
        A registered gymnasium id, e.g. "CartPole-v1", or ``"module:EnvId-v0"`` for an env
        of your own.
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make``: the env's own (e.g. Pendulum's ``g``) or
        gymnasium's (``max_episode_steps``). Default: none.
    n_envs : int >= 1, default 1
        Number of sub-environments; more than 1 makes a vector env with
        ``gymnasium.make_vec`` (the env's own vector entry point if it has one, else
        "sync").

    Returns
    -------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        A single env for ``n_envs == 1``, else a vector env of ``n_envs``
        sub-environments; either way its observations are 1-D vectors.
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
    env: gym.Env | gym.vector.VectorEnv
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
    """A TypeError for an env argument whose default is a float given as text, a bool,
    None, a list, a tuple or a dict ({"g": "x"} or {"g": [9.8]} for Pendulum failed at its
    first step, inside the env's physics)."""
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
        if type(default) is float and _not_a_number(value, annotation):
            raise TypeError(f"env_kwargs[{key!r}] must be a number (the default of "
                            f"{spec.id!r} is {default!r}), got {value!r}")


def _not_a_number(value: object, annotation: str) -> bool:
    """Whether ``value`` cannot stand for the number of a float default whose annotation
    is ``annotation``: text, a bool or None unless the annotation allows text (Ant-v5's
    main_body is `int | str = 1`, a body's number or name), a list, tuple or dict unless it
    allows sequences or mappings."""
    if isinstance(value, str | bool | bytes | type(None)):
        return "str" not in annotation
    if isinstance(value, list | tuple | dict):
        return not any(word in annotation for word in ("list", "tuple", "Sequence", "dict",
                                                        "Mapping"))
    return False


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
    # gymnasium types shape Optional (a Graph or Sequence space has none): int(None) raises
    return int(np.prod(env_spaces(env)[0].shape))  # type: ignore[arg-type]


def check_n_envs(n_envs: int, episodes: int) -> None:
    """ValueError if there are more sub-environments than episodes: each extra one would be
    an env made and stepped that never plays an episode (train's and evaluate's)."""
    if n_envs > episodes:
        raise ValueError(f"n_envs must be <= episodes ({episodes}): the extra "
                         f"sub-environments would never play an episode, got n_envs={n_envs}")
