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
- ``PendulumFeatures``: Pendulum's bumps plus the energy-pumping term th' (E* - E) / (2 E*)
  of energy-based swing-up control (the Pendulum preset's features).
- ``RandomRBFFeatures``: random Fourier features (``sklearn.kernel_approximation.RBFSampler``)
  of the standardized observation, plus 1, for higher dimensions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice, check_keywords
from .base import FeatureMap
from .pendulum import PendulumFeatures
from .rbf import MAX_RBF_FEATURES, RandomRBFFeatures, RBFFeatures
from .simple import MAX_POLY_FEATURES, PolyFeatures, RawFeatures, StandardFeatures

__all__ = [
    "FEATURE_CLASSES",
    "FEATURE_NAMES",
    "MAX_POLY_FEATURES",
    "MAX_RBF_FEATURES",
    "FeatureMap",
    "PendulumFeatures",
    "PolyFeatures",
    "RBFFeatures",
    "RandomRBFFeatures",
    "RawFeatures",
    "StandardFeatures",
    "features_from_state",
    "make_features",
]

FEATURE_NAMES = ("raw", "poly", "standard", "rbf", "random_rbf", "pendulum")


FEATURE_CLASSES: dict[str, type[FeatureMap]] = {
    cls.name: cls for cls in (RawFeatures, PolyFeatures, StandardFeatures, RBFFeatures,
                              RandomRBFFeatures, PendulumFeatures)
}


def make_features(name: str, **params: Any) -> FeatureMap:
    """An unfitted feature map from its name ("raw", "poly", "standard", "rbf", "random_rbf",
    "pendulum").

    Parameters
    ----------
    name : {"raw", "poly", "standard", "rbf", "random_rbf", "pendulum"}
        The map: :class:`RawFeatures`, :class:`PolyFeatures`, :class:`StandardFeatures`,
        :class:`RBFFeatures`, :class:`RandomRBFFeatures` or :class:`PendulumFeatures`.
    **params
        Passed to the class's constructor (``train``'s ``features_kwargs``); a keyword it
        does not take is a TypeError.

    Returns
    -------
    FeatureMap
        The map, to be fitted with ``fit(obs)`` before it transforms anything.
    """
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
