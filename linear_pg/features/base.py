"""The base class of the feature maps: the scikit-learn transformer API, the bias column,
and the fitted state a checkpoint stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import NotFittedError

from .._json import to_builtin
from .._validation import (
    as_float_array,
    check_finite,
    describe,
    shape_of,
)


def obs_batch(obs: object, n_dims: int | None, name: str = "obs") -> np.ndarray:
    """Observations as a finite float64 array of shape (T, n_dims); one 1-D row is T = 1."""
    arr = as_float_array(obs, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or (n_dims is not None and arr.shape[1] != n_dims):
        expected = f"(T, {n_dims})" if n_dims is not None else "(T, obs_dim)"
        raise ValueError(f"{name} must have shape {expected}, got shape {shape_of(obs)}")
    return check_finite(arr, name)


def mean_and_sd(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean and standard deviation of each column of obs (T, d), for standardizing;
    a ValueError if either overflows float64 (a scale of inf would map every
    observation of that column to 0)."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean = obs.mean(axis=0)
        sd = obs.std(axis=0)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
        raise ValueError("the observations are too large to standardize: their mean or "
                         "standard deviation overflows float64 (|x| near 1.8e308); "
                         "rescale them first")
    return mean, sd


def with_bias(Z: np.ndarray) -> np.ndarray:
    """[Z, 1] as float64, shape (T, k + 1)."""
    out = np.empty((Z.shape[0], Z.shape[1] + 1))
    out[:, :-1] = Z
    out[:, -1] = 1.0
    return out


class FeatureMap(TransformerMixin, BaseEstimator):
    """Base class: ``fit`` / ``transform`` / ``get_state`` / ``set_state``.

    A map of your own subclasses it and defines

    - ``name``: a short name of its own, saved in checkpoints;
    - ``_fit(obs)``: learn from observations of shape (T, obs_dim), already checked
      (``fit`` sets ``n_features_in_`` before and ``n_features_out_`` after it);
    - ``_transform(obs)``: the features, shape (T, n_features_out_), float64;
    - ``_state_keys``: the names of the attributes ``_fit`` learns (arrays), which
      :meth:`get_state` saves and :meth:`set_state` restores (a checkpoint refuses a map
      that does not load back, :meth:`check_restorable`); optionally ``_check_state()``,
      which :meth:`set_state` calls to refuse restored arrays that do not fit together
      (see :meth:`_check_state_array`);

    and takes its settings as ``__init__`` keyword arguments stored under their own names
    (scikit-learn's convention, which ``get_params`` and checkpoints rely on). ``train``
    accepts it fitted or not; a checkpoint of it loads with
    ``load_run(path, classes=[YourMap])``.

    Examples
    --------
    >>> class Squares(FeatureMap):
    ...     name = "squares"
    ...     def _fit(self, obs):
    ...         pass
    ...     def _transform(self, obs):
    ...         return np.hstack([obs, obs**2, np.ones((obs.shape[0], 1))])
    >>> Squares().fit(np.zeros((5, 4))).n_features_out_
    9
    """

    name = "base"
    _state_keys: tuple[str, ...] = ()
    n_features_in_: int
    """The observation size, set by ``fit`` (absent before it)."""
    n_features_out_: int
    """The number of features, set by ``fit`` (absent before it)."""

    def _is_fitted(self) -> bool:
        return hasattr(self, "n_features_out_")

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call "
                                 f"fit(obs) before transform")

    def fit(self, obs: object, y: object = None) -> FeatureMap:
        """Learn the map's statistics from observations of shape (T, obs_dim)."""
        obs = obs_batch(obs, None)
        if obs.shape[0] == 0:
            raise ValueError(f"obs must have at least one row to fit on, got shape {obs.shape}")
        if obs.shape[1] == 0:
            raise ValueError(f"obs must have at least one column (an observation of size "
                             f">= 1), got shape {obs.shape}")
        self.n_features_in_ = obs.shape[1]
        if hasattr(self, "n_features_out_"):
            del self.n_features_out_          # from an earlier fit
        self._fit(obs)
        out = np.shape(self._transform(obs[:1]))
        if not hasattr(self, "n_features_out_") and len(out) == 2:
            self.n_features_out_ = out[1]
        if len(out) != 2 or out != (1, self.n_features_out_):
            raise ValueError(f"{type(self).__name__}._transform must return an array of shape "
                             f"(T, n_features_out_) = (1, {getattr(self, 'n_features_out_', 'k')})"
                             f" for one observation, got shape {out}")
        return self

    def transform(self, obs: object) -> np.ndarray:
        """Features of a batch of observations, shape (T, n_features_out_)."""
        self._check_fitted()
        return self._transform(obs_batch(obs, self.n_features_in_))

    def _transform_one(self, s: np.ndarray) -> np.ndarray:
        """Features of one observation, shape (n_features_out_,): the rollout's per-step call.

        Unchecked, like ``_transform``; maps may override it with a cheaper one-row version.
        """
        return self._transform(np.asarray(s, dtype=np.float64)[None])[0]

    def _fit(self, obs: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    def _transform(self, obs: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, np.ndarray]:
        """The fitted state as a dict of float64/int64 arrays (what a checkpoint stores)."""
        self._check_fitted()
        state = {"n_features_in_": np.array(self.n_features_in_)}
        state.update({k: np.asarray(getattr(self, k)) for k in self._state_keys})
        return state

    def check_restorable(self) -> None:
        """Raise ValueError unless ``set_state(get_state())`` rebuilds this fitted map.

        A map of your own must list in ``_state_keys`` every attribute its ``_transform``
        reads that ``_fit`` learned; one that is missing is not saved, and the map loaded
        from a checkpoint would fail or compute other features. Checked on a few probe
        observations (zeros, ones and a fixed random one) before a checkpoint is written.
        """
        probe = np.vstack([np.zeros(self.n_features_in_), np.ones(self.n_features_in_),
                           np.random.default_rng(0).standard_normal(self.n_features_in_)])
        name = type(self).__name__
        try:
            expected = self._transform(probe)
        except Exception:                 # a map that refuses observations like these:
            expected = None               # only its rebuilding can be checked
        try:
            restored = clone(self).set_state(self.get_state())
            same = expected is None or np.array_equal(restored._transform(probe), expected,
                                                      equal_nan=True)
        except Exception as err:          # a map of your own may fail in any way
            raise ValueError(f"{name} cannot be saved: a copy rebuilt from its state "
                             f"(set_state(get_state())) fails with {type(err).__name__}: {err}; "
                             f"list every attribute that _fit learns in _state_keys "
                             f"(now {self._state_keys}), and if it refuses some observations, "
                             f"override _restore, which transforms a row of zeros to count "
                             f"the features") from err
        if not same:
            raise ValueError(f"{name} cannot be saved: a copy rebuilt from its state "
                             f"(set_state(get_state())) computes other features; list every "
                             f"attribute that _fit learns in _state_keys "
                             f"(now {self._state_keys})")

    def set_state(self, state: dict[str, np.ndarray]) -> FeatureMap:
        """Restore a state from :meth:`get_state` (the inverse of it).

        Raises ValueError for a state this map could not have fitted: a key missing, a
        non-finite value, or (``_check_state``) an array whose shape does not fit
        ``n_features_in_`` or the other arrays, or a scale that is not positive; TypeError
        for a state that is not a dict.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict from get_state, got {describe(state)}")
        missing = [k for k in ("n_features_in_", *self._state_keys) if k not in state]
        if missing:
            raise ValueError(f"feature state for {self.name!r} is missing {missing}, "
                             f"got keys {sorted(state)}")
        n_in = np.asarray(state["n_features_in_"])
        if n_in.shape != () or n_in.dtype.kind not in "iu" or n_in < 1:
            raise ValueError(f"feature state 'n_features_in_' of {self.name!r} must be an "
                             f"integer >= 1, got {n_in!r}")
        self.n_features_in_ = int(n_in)
        for k in self._state_keys:
            value = np.array(state[k])
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                raise ValueError(f"feature state {k!r} of {self.name!r} holds non-finite "
                                 f"values")
            setattr(self, k, value)
        self._check_state()
        self._restore()
        return self

    def _check_state(self) -> None:
        """Raise ValueError unless the arrays :meth:`set_state` restored fit
        ``n_features_in_`` and each other (none here; maps with fitted arrays override it)."""

    def _check_state_array(self, key: str, shape: tuple[int | None, ...], *,
                           kinds: str = "iuf", positive: bool = False) -> np.ndarray:
        """The restored array ``key``, checked to have ``shape`` (None: any length >= 1
        on that axis) and a dtype of ``kinds`` (NumPy's kind codes), and with ``positive``
        to hold only values > 0; else a ValueError naming it."""
        value = getattr(self, key)
        fits = value.ndim == len(shape) and all(
            m >= 1 if n is None else m == n for n, m in zip(shape, value.shape, strict=False))
        if value.dtype.kind not in kinds or not fits:
            numbers = "integers" if set(kinds) <= set("biu") else "real numbers"
            sizes = ", ".join("k" if n is None else str(n) for n in shape)
            expected = f"({sizes}{',' if len(shape) == 1 else ''})"
            raise ValueError(f"feature state {key!r} of {self.name!r} must be an array of "
                             f"{numbers} of shape {expected} (n_features_in_ = "
                             f"{self.n_features_in_}), got {describe(value)}")
        if positive and not np.all(value > 0):
            raise ValueError(f"feature state {key!r} of {self.name!r} must be > 0, got "
                             f"{value[value <= 0][0]} at index {int(np.argmin(value > 0))}")
        return value

    def _restore(self) -> None:
        self.n_features_out_ = self._transform(np.zeros((1, self.n_features_in_))).shape[1]

    def get_config(self) -> dict[str, Any]:
        """Name and constructor arguments (JSON-serializable)."""
        return {"name": self.name, **{k: to_builtin(v) for k, v in self.get_params().items()}}
