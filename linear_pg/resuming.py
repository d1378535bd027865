"""Go on training a run saved in a checkpoint, exactly where it stopped.

A checkpoint holds, besides the policy and the history, the run's ``train_state``: theta,
the random generator, the baseline and the optimizer as of the last completed update
(:meth:`linear_pg.trainer.Learner.state`). Every batch draws its episode resets and
actions from that generator, so training from there replays what the uninterrupted run
would have done: a run stopped with Ctrl-C (even in the middle of a batch) and resumed
ends with the same episode returns and theta, bit for bit, as one that never stopped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym
import numpy as np

from ._threads import one_blas_thread
from ._validation import check_int
from .checkpoint import load_run
from .envs import check_n_envs, env_spaces, make_env
from .models import check_fit_to_env, check_own_policy_class
from .run import Run
from .settings import check_settings
from .symmetry import Mirror, MirrorAugmentation
from .trainer import CHECKPOINT_EVERY, LOOP_SETTINGS, Learner, check_loop_arguments, train_loop


@one_blas_thread
def resume(path: str | os.PathLike, *, episodes: int | None = None,
           checkpoint_path: str | os.PathLike | None = None,
           checkpoint_every: int = CHECKPOINT_EVERY,
           callback: Callable[[Run], None] | None = None,
           classes: Iterable[type] = ()) -> Run:
    """Train the run saved at ``path`` on from its last completed update.

    Parameters
    ----------
    path : str or Path
        A checkpoint written by ``train(..., checkpoint_path=...)`` (periodically, at the
        end, or when Ctrl-C stopped it) or by :func:`~linear_pg.save_checkpoint`.
    episodes : int, optional
        The total number of training episodes to reach (default: the run's own). Another
        total than the run's changes a decaying step size's schedule from here on, and is
        recorded in the config as ``resumed``: [{"at_episode": n, "episodes_before": m}].
    checkpoint_path, checkpoint_every, callback
        As for :func:`~linear_pg.train`; give ``checkpoint_path=path`` to keep saving to
        the same file.
    classes : iterable of classes, optional
        Your own feature map or policy classes, as for :func:`~linear_pg.load_run`.

    Returns
    -------
    Run
        The whole run: its history from the first episode, the policy after the last.

    Examples
    --------
    >>> import os, tempfile
    >>> from linear_pg import train
    >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
    >>> whole = train("CartPole-v1", episodes=8, seed=3)
    >>> part = train("CartPole-v1", episodes=5, seed=3, checkpoint_path=path)
    >>> done = resume(path, episodes=8)
    >>> bool(np.array_equal(done.policy.theta, whole.policy.theta))
    True
    """
    run = load_run(path, classes=classes)
    state = run.train_state
    if state is None:
        raise ValueError(f"checkpoint {str(path)!r} holds no training state to resume from "
                         f"(its Run did not come from train or resume, or linear_pg did not "
                         f"save one yet when it was written); train again, or "
                         f"start from its policy: train(..., policy=run.policy, "
                         f"features=run.features)")
    if run.stopped_reason is not None and run.stopped_reason.startswith("diverged"):
        raise ValueError(f"checkpoint {str(path)!r} is a run that {run.stopped_reason}; "
                         f"resuming would start from the state that led there")
    missing = [k for k in (*LOOP_SETTINGS, "env_kwargs") if k not in run.config]
    if missing:
        raise ValueError(f"corrupted or mismatched checkpoint {str(path)!r}: its config lacks "
                         f"the settings {missing} that training goes on with")
    cfg = dict(run.config)
    episodes = None if episodes is None else check_int(episodes, "episodes", low=1)
    try:                                  # a checkpoint's settings, as train checks its own
        check_settings(cfg)
    except (ValueError, TypeError) as err:
        raise ValueError(f"corrupted or mismatched checkpoint {str(path)!r}: its config "
                         f"holds a setting that train would refuse ({err})") from err
    cfg["episodes"] = cfg["episodes"] if episodes is None else episodes
    _check_envs_fit(cfg, path)
    _rewind(run, state["updates"])        # first: the episodes trained on are those kept
    if cfg["episodes"] != run.config["episodes"]:
        # trained so far toward another total (its step-size schedule, its last batch):
        # recorded, so that the config is not taken for a fresh run's
        cfg["resumed"] = [*cfg.get("resumed", []),
                          {"at_episode": run.n_episodes, "episodes_before": run.config["episodes"]}]
    if run.n_episodes >= cfg["episodes"]:
        raise ValueError(f"the run in {str(path)!r} has already trained {run.n_episodes} "
                         f"episodes; pass episodes= above that to train it further")
    checkpoint_path, checkpoint_every = check_loop_arguments(checkpoint_path,
                                                             checkpoint_every, callback)
    run.config, run.stopped_reason = cfg, None
    run.policy.theta = state["theta"]
    check_own_policy_class(run.policy)     # the class's own fault, not the checkpoint's
    env = make_env(run.env_id, cfg["env_kwargs"], cfg.get("n_envs", 1))
    try:
        check_fit_to_env(run.policy, run.features, env)          # its class checked above
        learner = _learner(run, env, state)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as err:
        env.close()
        raise ValueError(f"corrupted or mismatched checkpoint {str(path)!r}: its training "
                         f"state cannot be restored ({err})") from err
    return train_loop(run, env, learner, checkpoint_path=checkpoint_path,
                      checkpoint_every=checkpoint_every, callback=callback)


def _check_envs_fit(cfg: dict[str, Any], path: str | os.PathLike) -> None:
    """ValueError unless the config's ``n_envs`` is at most the episodes to train, as train
    requires: a corrupted n_envs of 10**6 built sub-environments until memory ran out."""
    try:
        check_n_envs(cfg["n_envs"], cfg["episodes"])
    except ValueError as err:
        raise ValueError(f"checkpoint {str(path)!r} cannot be resumed to {cfg['episodes']} "
                         f"episodes: its config's {err}") from None


def _rewind(run: Run, updates: int) -> None:
    """Drop the history after update ``updates``: a batch that an interruption caught
    between its history entry and the end of its update is trained again."""
    if updates == run.update_episodes.size:
        return
    episodes = int(run.update_episodes[updates - 1]) if updates else 0
    run.episode_returns = run.episode_returns[:episodes]
    run.episode_lengths = run.episode_lengths[:episodes]
    run.update_episodes = run.update_episodes[:updates]
    for k in Run.UPDATE_COLUMNS:
        setattr(run, k, getattr(run, k)[:updates])


def _learner(run: Run, env: gym.Env | gym.vector.VectorEnv,
             state: dict[str, Any]) -> Learner:
    """The baseline, optimizer, generator and mirror of ``run``, restored to ``state``
    (a ValueError, TypeError, KeyError or IndexError if the state does not fit the run)."""
    cfg = run.config
    rng = np.random.default_rng()
    rng.bit_generator.state = state["rng"]
    mirror = _mirror(cfg.get("mirror"))       # checked against the env when it trained
    augment = None if mirror is None else MirrorAugmentation(mirror, run.features, run.policy)
    learner = Learner.start(cfg, rng, augment, env_spaces(env)[1])
    learner.baseline.set_state(state["baseline"])
    if learner.baseline.predict(np.zeros((1, run.policy.n_features))).shape != (1,):
        raise ValueError("the baseline does not predict one value per state")
    learner.optimizer.set_state(state["optimizer"])
    n_params = learner.optimizer._n_params()
    if n_params not in (None, run.policy.theta.size):
        raise ValueError(f"the optimizer's state is for {n_params} parameters, the policy "
                         f"has {run.policy.theta.size}")
    return learner


def _mirror(saved: object) -> Mirror | None:
    """The Mirror of a config's ``mirror`` entry (None, or the dict of
    :meth:`~linear_pg.symmetry.Mirror.to_dict`), or a ValueError naming it (a number there
    was Python's "argument after ** must be a mapping")."""
    if saved is None:
        return None
    if not (isinstance(saved, dict) and set(saved) == {"obs_sign", "action_sign"}):
        raise ValueError(f"config 'mirror' must be null or a dict of obs_sign and action_sign "
                         f"(Mirror.to_dict), got {saved!r}")
    return Mirror(**saved)
