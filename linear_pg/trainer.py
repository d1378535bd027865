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

The weights of step 2 and the REINFORCE sum of step 3 (with the bounds penalty's gradient
and the step-size schedule) are :mod:`linear_pg.update`; what stops a run that cannot go on is
:mod:`linear_pg.divergence`. Before the first update, :func:`train` takes its settings from
:mod:`linear_pg.settings` (the env's preset overridden by the caller's), the env from
:mod:`linear_pg.envs`, and the policy and features from :mod:`linear_pg.models`; it returns a
:class:`~linear_pg.run.Run`, which :func:`linear_pg.evaluate` (:mod:`linear_pg.evaluation`)
and :func:`linear_pg.train_seeds` (:mod:`linear_pg.seeds`) build on.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np

from ._files import check_output_file
from ._json import to_builtin
from ._threads import one_blas_thread
from ._validation import check_int, count_noun
from .baselines import make_baseline
from .divergence import (
    collapse_reason,
    non_finite_batch,
    non_finite_step_input,
    stop_diverged,
)
from .envs import env_spaces, make_env
from .features import FEATURE_NAMES, FeatureMap
from .models import (
    POLICY_NAMES,
    check_features_fit,
    check_mean_bound,
    check_own_policy_class,
    check_policy_fits,
    fit_feature_map,
    fit_features,
    is_own_class,
    make_policy_for_env,
)
from .optim import clip_grad_norm, make_optimizer
from .policies import GaussianPolicy, LinearPolicy, check_policy_fisher
from .policies.contract import as_gaussian
from .presets import preset_env_kwargs
from .rollout import collect_unchecked
from .run import Run
from .settings import IdleEnvsWarning, resolve_config
from .symmetry import Mirror, MirrorAugmentation, resolve_mirror
from .update import lr_factor, mean_bound_grad, reinforce_gradient, score_weights

CHECKPOINT_EVERY = 10
"""Updates between two checkpoints, by default (train's ``checkpoint_every``)."""


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
          checkpoint_path: str | os.PathLike | None = None,
          checkpoint_every: int = CHECKPOINT_EVERY,
          callback: Callable[[Run], None] | None = None,
          env_kwargs: dict[str, Any] | None = None,
          policy_kwargs: dict[str, Any] | None = None,
          features_kwargs: dict[str, Any] | None = None,
          optimizer_kwargs: dict[str, Any] | None = None) -> Run:
    """Train a linear policy with REINFORCE on a gymnasium environment.

    Every hyperparameter left as None comes from the env's preset
    (:mod:`linear_pg.presets`); :attr:`Run.config` records the values used.

    Parameters
    ----------
    env_id : str
        A registered gymnasium id, e.g. "CartPole-v1", "Pendulum-v1".
    episodes : int >= 1, optional
        Training episodes in total (the last batch is shortened to fit).
    seed : int, default 0
        Seeds everything: policy initialization, episode resets, action sampling.
    policy : {"softmax", "bernoulli", "gaussian"} or LinearPolicy, optional
        A name (settings in ``policy_kwargs``) or a policy, of which a copy is trained; the
        preset's settings for its kind still apply (the Bernoulli policy's learning rate
        on CartPole-v1).
    features : str or FeatureMap, optional
        A name, "raw", "poly", "standard", "rbf", "random_rbf" or "pendulum" (settings in
        ``features_kwargs``), a fitted map (used as it is), or an unfitted one such as
        ``RBFFeatures(n_centers=8, angle_pairs=[(0, 1)])``, of which a copy is fitted on
        this env's observations, as for its name.
    estimator : {"reward_to_go", "total_return"}, optional
        What multiplies each score: the discounted reward-to-go G_t
        (:func:`~linear_pg.reward_to_go`) or the episode's whole return R(tau)
        (:func:`~linear_pg.total_return`).
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
        The ascent step: :class:`~linear_pg.SGD`, :class:`~linear_pg.Adam` or the natural
        gradient, :class:`~linear_pg.NaturalGradient`.
    lr : float > 0, optional
        Step size for sgd/adam; the KL size delta for npg.
    gamma : float in [0, 1], optional
        Discount factor of the returns.
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
        :func:`linear_pg.update.lr_factor`); for "npg" it is the KL size delta that decays.
    lr_end : float in [0, 1], optional
        Final fraction of ``lr`` for the "linear" schedule (default 0).
    mean_bound_coef : float >= 0, optional
        Weight c of a penalty (c / 2) |mu - clip(mu)|^2 per step on a Gaussian mean outside
        a bounded action box (default 0, off), added to the gradient like the entropy
        bonus; see :func:`linear_pg.update.mean_bound_grad`.
    mirror : bool or Mirror, optional
        Learn from every episode's mirror image too (:mod:`linear_pg.symmetry`; Gaussian
        policies on "raw", "poly", "rbf" or "pendulum" features): True uses the env's known
        reflection (Pendulum-v1), a :class:`~linear_pg.symmetry.Mirror` any other; False
        turns it off.
        The mean (and a "linear" log sigma) is projected onto the mirror-symmetric ones at
        the start and after every update, and the symmetry is checked on every batch.
        Default (None): the preset's, which is dropped with features, a policy, or
        ``features_kwargs`` / ``policy_kwargs`` other than the preset's (its exactness was
        checked for those only); give ``mirror=True`` to keep it.
    checkpoint_path : str or os.PathLike, optional
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

    Returns
    -------
    Run
        The trained policy, its features, the settings used (``config``) and the history
        of every episode and update.

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
    env: gym.Env | gym.vector.VectorEnv          # a vector env for n_envs > 1, made below
    env = make_env(env_id, probe_kwargs)
    given: dict[str, Any] = {
        "episodes": episodes, "estimator": estimator, "baseline": baseline,
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
            check_own_policy_class(value)      # before its kind is used
        if given[f"{part}_kwargs"]:
            raise ValueError(f"{part}_kwargs are the settings of a {noun} that train builds "
                             f"from a name; {part} is a {type(value).__name__} object, which "
                             f"is used as it is: give its settings to its constructor instead "
                             f"(got {part}_kwargs={given[f'{part}_kwargs']!r})")
    cfg = resolve_config(env_id, env, given, own_model=bool(objects),
                         policy_kind=policy.kind if isinstance(policy, LinearPolicy) else None)
    rng = np.random.default_rng(seed)

    if isinstance(features, FeatureMap) and not features._is_fitted():
        phi = fit_feature_map(features, env, rng)
    elif isinstance(features, FeatureMap):
        phi = features
        check_features_fit(phi, env)
    elif features is None or isinstance(features, str):
        phi = fit_features(cfg["features"], env, rng, **cfg["features_kwargs"])
    else:
        raise TypeError(f"features must be a name in {FEATURE_NAMES} or a FeatureMap, "
                        f"got {type(features).__name__}")
    cfg["features"] = phi.get_config()
    if isinstance(policy, LinearPolicy):
        check_policy_fits(policy, env.action_space, phi.n_features_out_)
        pi = policy.copy()
    elif policy is None or isinstance(policy, str):
        pi = make_policy_for_env(env.action_space, cfg["policy"], phi.n_features_out_,
                                 seed=seed, **cfg["policy_kwargs"])
    else:
        raise TypeError(f"policy must be one of {POLICY_NAMES} or a LinearPolicy, "
                        f"got {type(policy).__name__}")
    check_mean_bound(cfg["mean_bound_coef"], pi)
    cfg["policy"] = pi.kind
    cfg["policy_config"] = to_builtin(pi.get_config())
    mirror = resolve_mirror(cfg["mirror"], env_id, env)
    cfg["mirror"] = None if mirror is None else mirror.to_dict()
    augment = None if mirror is None else MirrorAugmentation(mirror, phi, pi)
    if augment is not None:
        augment.project(cast(GaussianPolicy, pi))    # augment exists for a Gaussian only
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
                         callback: object) -> tuple[Path | None, int]:
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
               checkpoint_path: Path | None, checkpoint_every: int,
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
    if opt.needs_fisher and is_own_class(pi):
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
            batch = collect_unchecked(env, pi, phi, n, rng)
            problem = non_finite_batch(batch, run.n_episodes)
            if problem is not None:
                stop_diverged(run, problem)
                break
            w = score_weights(cfg, batch, base)
            if w is None:
                stop_diverged(run, f"the returns of the batch after "
                                   f"{count_noun(run.n_episodes, 'episode')} overflow float64 "
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
                stop_diverged(run, f"{err} (after {count_noun(run.n_episodes, 'episode')})")
                break
            g, S = reinforce_gradient(pi, X, A, w, n_eps, opt.needs_scores)
            if cfg["entropy_coef"] > 0:
                g = g + cfg["entropy_coef"] * pi.grad_entropy(X).sum(0) / n_eps
            if cfg["mean_bound_coef"] > 0 and bounds is not None:
                g = g + cfg["mean_bound_coef"] * mean_bound_grad(pi, X, *bounds, n_eps)
            grad_norm = float(np.linalg.norm(g))
            entropy = float(np.mean(pi.entropy(batch.X)))
            stats = {"grad_norm": grad_norm, "entropy": entropy,
                     "mean_std": float(np.mean(as_gaussian(pi).std(batch.X)))
                     if pi.kind == "gaussian" else math.nan,
                     "wall_time": time.perf_counter() - start}
            run._append(batch.episode_returns, batch.lengths, stats)
            F = pi._fisher(X) if opt.needs_fisher else None
            problem = non_finite_step_input(g, S, F, grad_norm)
            if problem is None:
                # the unchecked step: S and F are the policy's own, built above
                step = opt._step(opt._gradient(clip_grad_norm(g, cfg["max_grad_norm"])), S, F)
                new_theta = pi.theta + step
                problem = "a non-finite update" if not np.all(np.isfinite(new_theta)) else None
            if problem is None:
                pi.theta = new_theta
                if augment is not None:
                    augment.project(cast(GaussianPolicy, pi))  # augment exists for a Gaussian only
                problem = collapse_reason(pi, entropy, batch.episode_returns)
            if problem is not None:
                stop_diverged(run, f"{problem} after {count_noun(run.n_episodes, 'episode')}")
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


def _save(run: Run, path: Path) -> None:
    from .checkpoint import save_checkpoint

    save_checkpoint(run, path)
