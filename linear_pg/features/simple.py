"""Feature maps of the observation itself: raw (with fixed units), standardized, and
polynomial.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import (
    as_float_array,
    check_finite,
    check_int,
    check_real,
)
from .base import FeatureMap, mean_and_sd, with_bias

MAX_POLY_FEATURES = 100_000
"""Largest number of monomials, C(d + degree, degree) for d inputs, that ``PolyFeatures``
builds, for the reason of :data:`~linear_pg.features.rbf.MAX_RBF_FEATURES` (degree 12 on 20
inputs would be 2 x 10^8).
"""


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
        return with_bias(obs if self.scale is None else obs / self.scale_)

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
        self.mean_, sd = mean_and_sd(obs)
        self.scale_ = np.where(sd < eps, 1.0, sd + eps)
        self.n_features_out_ = obs.shape[1] + 1

    def _check_state(self) -> None:
        n = self.n_features_in_
        self._check_state_array("mean_", (n,))
        self._check_state_array("scale_", (n,), positive=True)

    def _transform(self, obs: np.ndarray) -> np.ndarray:
        return with_bias((obs - self.mean_) / self.scale_)


class PolyFeatures(FeatureMap):
    """All monomials of the observation up to ``degree`` (including the constant 1).

    Parameters
    ----------
    degree : int >= 0, default 2
        Highest total degree of the monomials; degree 1 gives [1, s]. At most
        ``MAX_POLY_FEATURES`` (100,000) monomials; checked in ``fit``.

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
