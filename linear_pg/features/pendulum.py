"""Pendulum's bumps plus the energy-pumping term of energy-based swing-up control."""

from __future__ import annotations

import numpy as np

from .._validation import check_real
from .rbf import RBFFeatures


class PendulumFeatures(RBFFeatures):
    """Gaussian bumps over Pendulum's (th, th'), plus 1, plus th' (E* - E) / (2 E*).

    For the observation (cos th, sin th, th') of gymnasium's Pendulum (th = 0 upright).

    Parameters
    ----------
    n_centers, angle_pairs, low, high, width
        The bumps, as in :class:`~linear_pg.features.RBFFeatures`; the defaults are the
        Pendulum preset's grid of 12 angles by 11 speeds in [-8, 8].
    g : float > 0, optional
        The gravity of the env (its ``g``; the rod has length 1). None (the default): the
        env's own when ``train`` fits the map (by name or as an unfitted object), else
        10.0, gymnasium's default.

    Notes
    -----
    Pendulum's rod (length 1, mass 1, its inertia 1/3) obeys th'' = (3 g / 2) sin th + 3 u
    (gymnasium's dynamics). Divided by the inertia, its energy is

        E = th'^2 / 2 + (3 g / 2) cos th,

    so that dE/dt = th' (th'' - (3 g / 2) sin th) = 3 u th': a torque u along th' adds
    energy, against it removes energy. E* = 3 g / 2 is the energy at rest upright. The
    swing-up law of energy control (Astrom and Furuta 2000, there for a pivot driven by
    its acceleration), in this torque form, pushes along th' in proportion to the energy
    still missing, u = k th' (E* - E), and the last feature is th' (E* - E)
    divided by 2 E* (the energy from rest at the bottom to rest at the top):

        x_pump = th' (E* - E) / (2 E*)

    Near the bottom at low speed (E close to -E*) it is about th'; it is 0 on every orbit
    of energy E* (the ones that end upright), and it changes sign under the mirror
    (th, th') -> (-th, -th'), as a torque must
    (:func:`linear_pg.symmetry.feature_permutation`). A weight w on it is that law with
    the gain k = w / (2 E*), and the bumps shape the rest of the controller around it.

    Examples
    --------
    >>> phi = PendulumFeatures().fit([[-1.0, 0.0, 2.0]])
    >>> x = phi.transform([[-1.0, 0.0, 2.0]])   # at the bottom, th' = 2: E = 2 - 15
    >>> x.shape, float(x[0, -1]), 2 * (15 - (2 - 15)) / 30
    ((1, 134), 1.8666666666666667, 1.8666666666666667)
    """

    name = "pendulum"

    def __init__(self, n_centers: int | tuple[int, ...] = (12, 11),
                 angle_pairs: tuple[tuple[int, int], ...] = ((0, 1),),
                 low: object = (-8.0,), high: object = (8.0,), width: float = 0.8,
                 g: float | None = None) -> None:
        super().__init__(n_centers=n_centers, angle_pairs=angle_pairs, low=low, high=high,
                         width=width)
        self.g = g

    def _fit(self, obs: np.ndarray) -> None:
        if obs.shape[1] != 3:
            raise ValueError(f"PendulumFeatures needs Pendulum's observations (cos th, "
                             f"sin th, th'), 3 columns, got {obs.shape[1]}")
        self._check_g()
        super()._fit(obs)
        self.n_features_out_ += 1

    def _check_state(self) -> None:
        super()._check_state()
        self._check_g()

    def _transform(self, obs: np.ndarray) -> np.ndarray:
        return np.concatenate([super()._transform(obs), self._pump(obs)[:, None]], axis=1)

    def _check_g(self) -> None:
        if self.g is not None:
            check_real(self.g, "g", low=0.0, low_open=True)

    def _pump(self, obs: np.ndarray) -> np.ndarray:
        """th' (E* - E) / (2 E*) for each observation, shape (T,)."""
        g = 10.0 if self.g is None else float(self.g)    # None: gymnasium's default
        top = 1.5 * g                                    # E* = 3 g / 2
        cos_th, speed = obs[:, 0], obs[:, 2]
        return speed * ((top - (0.5 * speed ** 2 + top * cos_th)) / (2 * top))
