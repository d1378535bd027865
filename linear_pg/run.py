"""The result of training: :class:`Run`, a run's policy, features, config and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._json import to_builtin
from .features import FeatureMap
from .policies import LinearPolicy
from .settings import train_kwargs


@dataclass
class Run:
    """The result of :func:`~linear_pg.train`: the trained policy and everything that happened.

    Parameters
    ----------
    env_id : str
        The gymnasium id of the environment the policy was trained on.
    seed : int
        The seed of the run (policy initialization, episode resets, action sampling).
    config : dict
        Every hyperparameter that was used (presets resolved), JSON-serializable.
    policy : LinearPolicy
        The final parameters (the last finite ones if training diverged).
    features : FeatureMap
        The fitted feature map the policy reads.
    episode_returns, episode_lengths : arrays (n_episodes,), default empty
        Undiscounted return and length of every training episode, in order.
    update_episodes : array (n_updates,) of int, default empty
        Number of training episodes seen when each update was made.
    grad_norm, entropy, mean_std, wall_time : arrays (n_updates,), default empty
        Per update: |g| (before clipping), the batch's mean policy entropy per step, the
        mean sigma of a Gaussian policy (NaN for discrete ones), seconds since the start.
    stopped_reason : str or None, default None
        None if all episodes ran, "interrupted" (Ctrl-C), "stopped by the callback" (it
        raised :class:`~linear_pg.StopTraining`), "error: ..." (in the checkpoint saved
        when an error from the env or a callback stopped training), or "diverged: ..." .
        On the command line, a seed stopped because another seed of its job failed is
        "interrupted: the job stopped at another seed's error (Type)".
    train_state : dict or None, default None
        What the next update would start from (:meth:`linear_pg.trainer.Learner.state`,
        as of the last completed update): checkpoints save it, and
        :func:`linear_pg.resume` goes on from it. None for a run built by hand or loaded
        from a checkpoint that lacks it.
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
        one machine). See :func:`linear_pg.settings.train_kwargs`."""
        return train_kwargs(self.config)

    def _append(self, batch_returns: np.ndarray, batch_lengths: np.ndarray,
                stats: dict[str, float]) -> None:
        self.episode_returns = np.concatenate([self.episode_returns, batch_returns])
        self.episode_lengths = np.concatenate([self.episode_lengths, batch_lengths])
        self.update_episodes = np.append(self.update_episodes, self.n_episodes)
        for k in self.UPDATE_COLUMNS:
            setattr(self, k, np.append(getattr(self, k), stats[k]))
