"""Feature maps x = phi(s): what a linear policy sees of the observation.

Every map follows the scikit-learn transformer API (the constructor only stores its
arguments; ``fit(obs)`` learns what it needs, ``transform(obs)`` maps a batch of T
observations to a (T, n_features_out_) float64 array) and appends a constant 1, so the
linear policy has a bias. Its fitted state is a dict of plain arrays (``get_state``), which
is what a checkpoint stores.

- ``RawFeatures``: [s, 1], or [s / scale, 1] with fixed units per coordinate.
- ``PolyFeatures``: all monomials of s up to a degree (scikit-learn PolynomialFeatures).
- ``StandardFeatures``: [(s - mean) / std, 1], the statistics fitted on observations.
- ``RBFFeatures``: Gaussian bumps on a fixed grid over a low-dimensional state, angles
  handled on the circle, plus 1.
- ``RandomRBFFeatures``: random Fourier features (``sklearn.kernel_approximation.RBFSampler``)
  of the standardized observation, plus 1, for higher dimensions.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import NotFittedError

from ._json import to_builtin
from ._validation import (
    as_float_array,
    check_choice,
    check_finite,
    check_int,
    check_keywords,
    check_real,
    describe,
)

FEATURE_NAMES = ("raw", "poly", "standard", "rbf", "random_rbf")

MAX_RBF_FEATURES = 100_000
"""Largest number of grid bumps (the product of ``n_centers``) that ``RBFFeatures`` builds.

The features of T observations take T times that many float64 numbers (and the policy
n_actions times that many weights): a grid larger than this is almost surely a mistake
(10 centres on 6 coordinates are already 10^6 bumps) and would exhaust the memory.
"""


MAX_POLY_FEATURES = 100_000
"""Largest number of monomials, C(d + degree, degree) for d inputs, that ``PolyFeatures``
builds, for the reason of :data:`MAX_RBF_FEATURES` (degree 12 on 20 inputs would be 2 x 10^8).
"""


def _obs_batch(obs: object, n_dims: int | None, name: str = "obs") -> np.ndarray:
    """Observations as a finite float64 array of shape (T, n_dims); one 1-D row is T = 1."""
    arr = as_float_array(obs, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or (n_dims is not None and arr.shape[1] != n_dims):
        expected = f"(T, {n_dims})" if n_dims is not None else "(T, obs_dim)"
        raise ValueError(f"{name} must have shape {expected}, got shape {np.shape(obs)}")
    return check_finite(arr, name)


def _mean_and_sd(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _with_bias(Z: np.ndarray) -> np.ndarray:
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

    def _is_fitted(self) -> bool:
        return hasattr(self, "n_features_out_")

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call "
                                 f"fit(obs) before transform")

    def fit(self, obs: object, y: object = None) -> FeatureMap:
        """Learn the map's statistics from observations of shape (T, obs_dim)."""
        obs = _obs_batch(obs, None)
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
        return self._transform(_obs_batch(obs, self.n_features_in_))

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


class RawFeatures(FeatureMap):
    """x = [s / scale, 1]: the observation itself (optionally in fixed units) and a bias.

    Parameters
    ----------
    scale : array-like of shape (obs_dim,), optional
        A fixed, positive size for each observation coordinate; the features are s / scale.
        Default: 1 for all (the raw observation). Unlike ``StandardFeatures`` nothing is
        fitted: the units are chosen, e.g. the limits at which an episode terminates.

    Notes
    -----
    Adam moves every weight by about its learning rate per step, whatever the scale of its
    gradient, so a coordinate that is small in its own units (an angle of 0.05 rad) moves
    the logit slowly; dividing it by a typical size gives each coordinate a comparable say.

    Examples
    --------
    >>> RawFeatures().fit([[0.5, -1.0]]).transform([[0.5, -1.0]])
    array([[ 0.5, -1. ,  1. ]])
    >>> RawFeatures(scale=[0.5, 2.0]).fit([[0.5, -1.0]]).transform([[0.5, -1.0]])
    array([[ 1. , -0.5,  1. ]])
    """

    name = "raw"

    def __init__(self, scale: object = None) -> None:
        self.scale = scale

    def _fit(self, obs: np.ndarray) -> None:
        self._restore()

    def _restore(self) -> None:
        # nothing is learned from data: the units come from the constructor (the config)
        n = self.n_features_in_
        if self.scale is None:
            self.scale_ = np.ones(n)
        else:
            scale = check_finite(as_float_array(self.scale, "scale"), "scale")
            if scale.shape != (n,) or np.any(scale <= 0):
                raise ValueError(f"scale must be positive with shape ({n},), got {self.scale!r}")
            self.scale_ = scale
        self.n_features_out_ = n + 1
        # the one-row transform: [s, 1] / [scale, 1] in one division (a new array each call)
        self._row = np.ones(n + 1)
        self._row_divisor = np.append(self.scale_, 1.0)

    def _transform(self, obs: np.ndarray) -> np.ndarray:
        return _with_bias(obs if self.scale is None else obs / self.scale_)

    def _transform_one(self, s: np.ndarray) -> np.ndarray:
        row = self._row
        row[:-1] = s
        if self.scale is None:
            return row.copy()
        return row / self._row_divisor


class StandardFeatures(FeatureMap):
    """x = [(s - m) / sd, 1] with the mean m and standard deviation sd fitted on observations.

    Parameters
    ----------
    eps : float > 0, default 1e-8
        Added to sd. A dimension whose sd is below eps (constant in the observations fitted
        on) is centred but not scaled (scale 1, as in scikit-learn's StandardScaler): it
        maps to 0 there, and a later change of it is not multiplied by 1 / eps.
        Checked in ``fit`` (the scikit-learn convention).
    """

    name = "standard"
    _state_keys = ("mean_", "scale_")

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = eps

    def _fit(self, obs: np.ndarray) -> None:
        eps = check_real(self.eps, "eps", low=0.0, low_open=True)
        self.mean_, sd = _mean_and_sd(obs)
        self.scale_ = np.where(sd < eps, 1.0, sd + eps)
        self.n_features_out_ = obs.shape[1] + 1

    def _check_state(self) -> None:
        n = self.n_features_in_
        self._check_state_array("mean_", (n,))
        self._check_state_array("scale_", (n,), positive=True)

    def _transform(self, obs: np.ndarray) -> np.ndarray:
        return _with_bias((obs - self.mean_) / self.scale_)


class PolyFeatures(FeatureMap):
    """All monomials of the observation up to ``degree`` (including the constant 1).

    Parameters
    ----------
    degree : int, default 2

    Notes
    -----
    A thin wrapper of ``sklearn.preprocessing.PolynomialFeatures``; its degree-0 term is
    the bias. For d inputs there are C(d + degree, degree) features.
    """

    name = "poly"

    def __init__(self, degree: int = 2) -> None:
        self.degree = degree

    def _fit(self, obs: np.ndarray) -> None:
        from sklearn.preprocessing import PolynomialFeatures

        degree = check_int(self.degree, "degree", low=0)
        d = obs.shape[1]
        if math.comb(d + degree, degree) > MAX_POLY_FEATURES:
            raise ValueError(f"degree must give at most MAX_POLY_FEATURES = "
                             f"{MAX_POLY_FEATURES} monomials, got degree={degree} on {d} "
                             f"inputs: C({d} + {degree}, {degree}) = "
                             f"{math.comb(d + degree, degree)}")
        self.poly_ = PolynomialFeatures(degree=degree, include_bias=True).fit(obs)
        self.n_features_out_ = int(self.poly_.n_output_features_)

    def _transform(self, obs: np.ndarray) -> np.ndarray:
        if obs.shape[0] == 0:    # scikit-learn refuses an empty batch; the other maps don't
            return np.empty((0, self.n_features_out_))
        return self.poly_.transform(obs)

    def _restore(self) -> None:
        self._fit(np.zeros((1, self.n_features_in_)))


class RBFFeatures(FeatureMap):
    """Gaussian bumps on a grid over a low-dimensional state, angles on the circle, plus 1.

    Parameters
    ----------
    n_centers : int or sequence of int, default 7
        Grid points per coordinate (one int for all coordinates, or one per coordinate:
        angles first, then the other columns). The grid has their product of bumps, at
        most ``MAX_RBF_FEATURES`` (100,000).
    angle_pairs : sequence of (int, int), default ()
        Observation columns (i, j) holding (cos th, sin th) of an angle. Each pair becomes
        one periodic coordinate th = atan2(s_j, s_i) whose grid covers [-pi, pi).
    low, high : array-like, optional
        Range of the other coordinates (in the order they appear in the observation).
        Default: the observed range in ``fit``. A coordinate with no range (constant in
        the observations fitted on, or low == high) gets a spacing of 1 in its own units.
    width : float > 0, default 1.0
        Standard deviation of each bump in units of the grid spacing.

    The parameters are checked in ``fit`` (the scikit-learn convention).

    Notes
    -----
    With coordinates u (angles first, then the other observation columns), centres c_k on
    the grid and spacings h,

        x_k = exp(-1/2 sum_i (delta_i(u_i, c_ki) / (width h_i))^2),

    where delta is u - c for an ordinary coordinate and the wrapped difference
    atan2(sin(u - c), cos(u - c)) in (-pi, pi] for an angle, so th = pi - 0.01 and
    th = -pi + 0.01 are neighbours, as they are on the pendulum. A linear policy on these
    features can be any smooth function of the state that the grid resolves.

    Examples
    --------
    >>> phi = RBFFeatures(n_centers=3, angle_pairs=[(0, 1)], low=[-8.0], high=[8.0])
    >>> phi.fit([[1.0, 0.0, 0.0]]).transform([[1.0, 0.0, 0.0]]).shape
    (1, 10)
    """

    name = "rbf"
    _state_keys = ("centers_", "bandwidth_", "periodic_", "angle_pairs_")

    def __init__(self, n_centers: int | tuple[int, ...] = 7,
                 angle_pairs: tuple[tuple[int, int], ...] = (),
                 low: object = None, high: object = None, width: float = 1.0) -> None:
        self.n_centers = n_centers
        self.angle_pairs = angle_pairs
        self.low = low
        self.high = high
        self.width = width

    def _coords(self, obs: np.ndarray) -> np.ndarray:
        pairs = np.asarray(self.angle_pairs_, dtype=np.int64).reshape(-1, 2)
        used = set(pairs.ravel().tolist())
        angles = [np.arctan2(obs[:, j], obs[:, i]) for i, j in pairs]
        others = [obs[:, c] for c in range(obs.shape[1]) if c not in used]
        return np.stack(angles + others, axis=1)

    def _fit(self, obs: np.ndarray) -> None:
        try:
            pairs = np.asarray(self.angle_pairs)
        except ValueError:       # ragged, e.g. [(0, 1), (2,)]
            pairs = None
        if pairs is None or pairs.size and (pairs.ndim != 2 or pairs.shape[1] != 2
                                            or pairs.dtype.kind not in "iu"):
            raise ValueError(f"angle_pairs must be pairs of column indices (cos, sin), e.g. "
                             f"[(0, 1)], got {self.angle_pairs!r}")
        self.angle_pairs_ = pairs.astype(np.int64).reshape(-1, 2)
        if np.any(self.angle_pairs_ < 0) or np.any(self.angle_pairs_ >= obs.shape[1]):
            raise ValueError(f"angle_pairs must index observation columns in "
                             f"[0, {obs.shape[1]}), got {self.angle_pairs!r}")
        columns = self.angle_pairs_.ravel()
        if np.unique(columns).size != columns.size:
            raise ValueError(f"angle_pairs must name each column at most once, the cos and "
                             f"the sin of an angle in two different columns, got "
                             f"{self.angle_pairs!r}")
        U = self._coords(obs)
        n_ang = self.angle_pairs_.shape[0]
        n_lin = U.shape[1] - n_ang
        n = self._grid_sizes(U.shape[1])
        width = check_real(self.width, "width", low=0.0, low_open=True)
        low = U[:, n_ang:].min(axis=0) if self.low is None else \
            check_finite(as_float_array(self.low, "low"), "low")
        high = U[:, n_ang:].max(axis=0) if self.high is None else \
            check_finite(as_float_array(self.high, "high"), "high")
        if low.shape != (n_lin,) or high.shape != (n_lin,) or np.any(high < low):
            raise ValueError(f"low and high must have shape ({n_lin},) with low <= high, "
                             f"got low={self.low!r}, high={self.high!r}")
        flat = [i for i in range(n_lin) if high[i] == low[i] and n[n_ang + i] > 1]
        if flat and (self.low is None or self.high is None):
            warnings.warn(f"RBFFeatures fitted on {obs.shape[0]} observation(s) in which "
                          f"coordinate(s) {flat} (after the angles) never change: their "
                          f"centres all sit at one value; give low and high (their range) "
                          f"or fit on more observations", UserWarning, stacklevel=3)
        axes, spacing = [], []
        for i in range(U.shape[1]):
            if i < n_ang:  # n equally spaced angles around the circle
                axes.append(-np.pi + 2 * np.pi * np.arange(n[i]) / n[i])
                spacing.append(2 * np.pi / n[i])
            else:
                lo, hi = low[i - n_ang], high[i - n_ang]
                axes.append(np.linspace(lo, hi, n[i]))
                # no range (constant in the fitted observations, or low == high): unit
                # spacing, not ~0, which would zero every bump away from that one value
                spacing.append((hi - lo) / max(n[i] - 1, 1) if hi > lo else 1.0)
        self.centers_ = np.array(list(itertools.product(*axes)), dtype=np.float64)
        self.bandwidth_ = width * np.asarray(spacing)
        self.periodic_ = (np.arange(U.shape[1]) < n_ang).astype(np.int64)
        self.n_features_out_ = self.centers_.shape[0] + 1

    def _check_state(self) -> None:
        n_in, pairs = self.n_features_in_, self.angle_pairs_
        columns = pairs.ravel()
        if not (pairs.dtype.kind in "iu" and pairs.ndim == 2 and pairs.shape[1] == 2
                and np.all((columns >= 0) & (columns < n_in))
                and np.unique(columns).size == columns.size):
            raise ValueError(f"feature state 'angle_pairs_' of {self.name!r} must be pairs of "
                             f"distinct column indices in [0, {n_in}), shape (k, 2), got "
                             f"{describe(pairs)}: {pairs.tolist()}")
        n_angles = pairs.shape[0]
        dims = n_in - n_angles                        # the angles, then the other columns
        self._check_state_array("centers_", (None, dims))
        self._check_state_array("bandwidth_", (dims,), positive=True)
        periodic = self._check_state_array("periodic_", (dims,), kinds="biu")
        if not np.array_equal(periodic, np.arange(dims) < n_angles):
            raise ValueError(f"feature state 'periodic_' of {self.name!r} must be 1 for the "
                             f"{n_angles} angle(s), which come first, and 0 for the other "
                             f"coordinates, got {periodic.tolist()}")

    def _grid_sizes(self, n_coords: int) -> np.ndarray:
        """``n_centers`` as one int >= 1 per coordinate, shape (n_coords,), checked.

        The grid's size, their product, must not exceed :data:`MAX_RBF_FEATURES`.
        """
        given = self.n_centers
        if isinstance(given, str) or not np.iterable(given):
            given = [given] * n_coords
        elif len(given) != n_coords:
            raise ValueError(f"n_centers must be one int or {n_coords} ints (one per "
                             f"coordinate: angles first, then the other columns), got "
                             f"{self.n_centers!r}")
        n = np.array([check_int(k, "n_centers", low=1) for k in given], dtype=np.int64)
        total = int(np.prod(n.astype(object)))      # Python ints: no overflow
        if total > MAX_RBF_FEATURES:
            sizes = n.tolist()
            grid = " x ".join(map(str, sizes)) if len(sizes) <= 6 else \
                f"{sizes[0]} x {sizes[1]} x ... x {sizes[-1]}"
            bumps = f"{total}" if total < 10**12 else f"about 10^{len(str(total)) - 1}"
            given = self.n_centers if len(sizes) <= 6 or not np.iterable(self.n_centers) \
                else f"[{sizes[0]}, {sizes[1]}, ...]"
            raise ValueError(f"n_centers must give at most MAX_RBF_FEATURES = "
                             f"{MAX_RBF_FEATURES} grid bumps, got n_centers={given!r}, "
                             f"a grid of {grid} = {bumps} bumps "
                             f"over {n_coords} coordinates; use fewer centres, angle_pairs "
                             f"for (cos, sin) columns, or 'random_rbf' (scikit-learn's "
                             f"RBFSampler) for a higher-dimensional observation")
        return n

    def _offsets(self, U: np.ndarray) -> np.ndarray:
        """delta(u, c_k) of coordinates U (T, dims) from every centre: (T, K, dims) / h.

        Angles are wrapped to (-pi, pi]; each coordinate is in units of its bandwidth.
        """
        D = U[:, None, :] - self.centers_[None, :, :]
        periodic = self.periodic_.astype(bool)
        D[:, :, periodic] = np.arctan2(np.sin(D[:, :, periodic]), np.cos(D[:, :, periodic]))
        return D / self.bandwidth_

    def _transform(self, obs: np.ndarray) -> np.ndarray:
        Z = self._offsets(self._coords(obs))
        return _with_bias(np.exp(-0.5 * (Z ** 2).sum(axis=2)))


class RandomRBFFeatures(FeatureMap):
    """Random Fourier features of the standardized observation, plus 1.

    Parameters
    ----------
    n_components : int, default 100
    gamma : float, default 0.5
        Kernel width exp(-gamma |u - v|^2) on standardized observations.
    seed : int in [0, 2**32 - 1], default 0
        The random_state of scikit-learn's RBFSampler.

    Notes
    -----
    The observations are standardized as by :class:`StandardFeatures` (a coordinate constant
    in the fitted observations is centred, not divided by its sd of ~0, which would make
    a later change of 1e-6 turn the features pseudo-random).
    ``sklearn.kernel_approximation.RBFSampler`` draws omega ~ N(0, 2 gamma I) and
    b ~ U(0, 2 pi) and maps u to sqrt(2 / n) cos(u omega + b); inner products of these
    features approximate the RBF kernel (Rahimi and Recht 2007). No grid, so the cost does
    not grow exponentially with the dimension.
    """

    name = "random_rbf"
    _state_keys = ("mean_", "scale_", "weights_", "offset_")

    def __init__(self, n_components: int = 100, gamma: float = 0.5, seed: int = 0) -> None:
        self.n_components = n_components
        self.gamma = gamma
        self.seed = seed

    def _fit(self, obs: np.ndarray) -> None:
        from sklearn.kernel_approximation import RBFSampler

        check_int(self.n_components, "n_components", low=1)
        check_real(self.gamma, "gamma", low=0.0, low_open=True)
        check_int(self.seed, "seed", low=0, high=2**32 - 1)    # RBFSampler's random_state
        self.mean_, sd = _mean_and_sd(obs)
        self.scale_ = np.where(sd < 1e-8, 1.0, sd + 1e-8)   # constant: unscaled, as above
        sampler = RBFSampler(gamma=self.gamma, n_components=self.n_components,
                             random_state=self.seed).fit((obs - self.mean_) / self.scale_)
        self.weights_ = sampler.random_weights_
        self.offset_ = sampler.random_offset_
        self.n_features_out_ = self.n_components + 1

    def _check_state(self) -> None:
        n = self.n_features_in_
        self._check_state_array("mean_", (n,))
        self._check_state_array("scale_", (n,), positive=True)
        weights = self._check_state_array("weights_", (n, None))
        self._check_state_array("offset_", (weights.shape[1],))

    def _transform(self, obs: np.ndarray) -> np.ndarray:
        U = (obs - self.mean_) / self.scale_
        Z = np.sqrt(2.0 / self.weights_.shape[1]) * np.cos(U @ self.weights_ + self.offset_)
        return _with_bias(Z)


FEATURE_CLASSES: dict[str, type[FeatureMap]] = {
    cls.name: cls for cls in (RawFeatures, PolyFeatures, StandardFeatures, RBFFeatures,
                              RandomRBFFeatures)
}


def make_features(name: str, **params: Any) -> FeatureMap:
    """An unfitted feature map from its name ("raw", "poly", "standard", "rbf", "random_rbf")."""
    check_choice(name, "features", FEATURE_NAMES)
    check_keywords(FEATURE_CLASSES[name], params,
                   f"the settings (features_kwargs) of features {name!r}")
    return FEATURE_CLASSES[name](**params)


def features_from_state(config: dict[str, Any], state: dict[str, np.ndarray],
                        cls: type[FeatureMap] | None = None) -> FeatureMap:
    """Rebuild a fitted feature map from :meth:`FeatureMap.get_config` and ``get_state``.

    ``cls`` is the map's class when it is not the built-in one of its name (a subclass of
    your own); its ``name`` must be the config's.
    """
    params = dict(config)
    name = params.pop("name", None)
    if cls is None:
        if name not in FEATURE_CLASSES:
            raise ValueError(f"feature config name must be one of {FEATURE_NAMES}, "
                             f"got {name!r}")
        cls = FEATURE_CLASSES[name]
    elif cls.name != name:
        raise ValueError(f"feature config name is {name!r}, but {cls.__name__}.name is "
                         f"{cls.name!r}")
    if issubclass(cls, RBFFeatures) and params.get("angle_pairs") is not None:
        params["angle_pairs"] = tuple(tuple(p) for p in params["angle_pairs"])
    return cls(**params).set_state(state)
