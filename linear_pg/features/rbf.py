"""Radial-basis feature maps: Gaussian bumps on a grid over a low-dimensional state (angles
on the circle), and random Fourier features for higher dimensions.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import numpy as np

from .._validation import (
    as_float_array,
    check_finite,
    check_int,
    check_real,
    describe,
)
from .base import FeatureMap, mean_and_sd, with_bias

MAX_RBF_FEATURES = 100_000
"""Largest number of grid bumps (the product of ``n_centers``) that ``RBFFeatures`` builds.

The features of T observations take T times that many float64 numbers (and the policy
n_actions times that many weights): a grid larger than this is almost surely a mistake
(10 centres on 6 coordinates are already 10^6 bumps) and would exhaust the memory.
"""


class RBFFeatures(FeatureMap):
    """Gaussian bumps on a grid over a low-dimensional state, angles on the circle, plus 1.

    The parameters are checked in ``fit`` (the scikit-learn convention).

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
        given: int | Sequence[object] = self.n_centers
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
        return with_bias(np.exp(-0.5 * (Z ** 2).sum(axis=2)))


class RandomRBFFeatures(FeatureMap):
    """Random Fourier features of the standardized observation, plus 1.

    Parameters
    ----------
    n_components : int >= 1, default 100
        Number of random Fourier features, before the constant 1.
    gamma : float, default 0.5
        Kernel width exp(-gamma |u - v|^2) on standardized observations.
    seed : int in [0, 2**32 - 1], default 0
        The random_state of scikit-learn's RBFSampler.

    Notes
    -----
    The observations are standardized as by :class:`~linear_pg.features.StandardFeatures`
    (a coordinate constant in the fitted observations is centred, not divided by its sd of
    ~0, which would make a later change of 1e-6 turn the features pseudo-random).
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
        self.mean_, sd = mean_and_sd(obs)
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
        return with_bias(Z)
