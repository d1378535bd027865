"""Linear Gaussian policy for continuous actions (diagonal covariance)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    SeedLike,
    as_float_array,
    as_rectangular_array,
    check_choice,
    check_finite,
    check_generator,
    check_int,
    check_interval,
    shape_of,
)
from .base import LinearPolicy, add_per_output, row_outer

LOG_STD_BOUNDS = (-5.0, 2.0)
"""Default clamp for log sigma: sigma stays within [0.0067, 7.39]."""

LOG_STD_LIMIT = 100.0
"""``log_std_bounds`` must lie within [-LOG_STD_LIMIT, LOG_STD_LIMIT]: sigma and 1 / sigma^2
(in the log-density, score and Fisher matrix) stay finite, with room to spare for the
squared distance (a - mu)^2 that multiplies 1 / sigma^2."""

LOG_2PI = np.log(2.0 * np.pi)


class GaussianPolicy(LinearPolicy):
    """pi(a | x) = N(a; mu(x), diag(sigma(x)^2)) with mean mu(x) = x W.

    Parameters
    ----------
    n_features : int
        Length d of the feature vector x.
    action_dim : int, default 1
        Dimension m of the action.
    log_std_mode : {"vector", "fixed", "linear"}, default "vector"
        How log sigma is parameterized:

        - ``"fixed"``: a constant, not part of ``theta`` (not learned; ``log_std`` sets
          it, and ``copy``, ``train`` and checkpoints keep the value set);
        - ``"vector"``: one learned log sigma per action dimension, independent of x;
        - ``"linear"``: log sigma(x) = b + x W_std, learned, a linear function of x.
    init_log_std : float or array of shape (m,), default 0.0
        Initial log sigma (the bias b in "linear" mode), within ``log_std_bounds``; strictly
        inside them unless ``log_std_mode="fixed"`` (on a bound a learned one never moves).
    log_std_bounds : (float, float), default (-5.0, 2.0)
        log sigma is clamped to this range before use; the score of a clamped entry is 0.
        Within [-100, 100] (``LOG_STD_LIMIT``), where sigma and 1 / sigma^2 are finite.
    init_scale : float, default 0.0
        Standard deviation of the normal initial mean weights W.
    seed : int or np.random.Generator, default 0
        Source of the initial weights.

    Notes
    -----
    theta layout: ``W.ravel()`` (d * m entries, C order), then ``log_std`` (m entries;
    "vector" and "linear" modes), then ``W_std.ravel()`` (d * m entries; "linear" mode).

    Score. For one action dimension with mean mu, log-std l and sigma = exp(l),

        log N(a; mu, sigma^2) = -(a - mu)^2 / (2 sigma^2) - l - log(2 pi) / 2.

    Differentiating:

        d/dmu = (a - mu) / sigma^2,
        d/dl  = (a - mu)^2 / sigma^2 - 1        (since d sigma^-2 / dl = -2 sigma^-2).

    With mu_j = sum_i x_i W_ij the chain rule gives d/dW_ij = x_i (a_j - mu_j) / sigma_j^2,
    i.e. score_W = x (outer) (a - mu) / sigma^2; in "linear" mode likewise
    score_W_std = x (outer) ((a - mu)^2 / sigma^2 - 1). The m dimensions are independent,
    so the log-density and its score are sums over j.

    For fixed sigma, -log pi(a | x) = (a - mu)^2 / (2 sigma^2) + const: a squared error
    toward the taken action scaled by 1 / (2 sigma^2). Weighted by the return it is exactly
    the REINFORCE surrogate; unweighted it just pulls mu toward whatever was sampled.

    Examples
    --------
    >>> import numpy as np
    >>> pi = GaussianPolicy(2, action_dim=1)
    >>> pi.mean(np.array([[1.0, 0.5]])), pi.std(np.array([[1.0, 0.5]]))
    (array([[0.]]), array([[1.]]))
    """

    kind = "gaussian"

    def __init__(self, n_features: int, action_dim: int = 1, *,
                 log_std_mode: str = "vector", init_log_std: float | np.ndarray = 0.0,
                 log_std_bounds: tuple[float, float] = LOG_STD_BOUNDS,
                 init_scale: float = 0.0, seed: SeedLike = 0) -> None:
        n_features = check_int(n_features, "n_features", low=1)
        self.action_dim = check_int(action_dim, "action_dim", low=1)
        self.log_std_mode = check_choice(log_std_mode, "log_std_mode",
                                         ("vector", "fixed", "linear"))
        lo, hi = check_interval(log_std_bounds, "log_std_bounds")
        if lo < -LOG_STD_LIMIT or hi > LOG_STD_LIMIT:
            raise ValueError(f"log_std_bounds must lie within [-{LOG_STD_LIMIT:g}, "
                             f"{LOG_STD_LIMIT:g}] (sigma = exp(log_std) and 1 / sigma^2 must "
                             f"stay finite), got {log_std_bounds!r}")
        self.log_std_bounds = (lo, hi)
        init = as_float_array(init_log_std, "init_log_std").copy()   # not the caller's array
        if init.ndim == 0:
            init = np.full(self.action_dim, float(init))
        if init.shape != (self.action_dim,):
            raise ValueError(f"init_log_std must be a float or have shape ({self.action_dim},), "
                             f"got shape {init.shape}")
        check_finite(init, "init_log_std")
        if np.any(init < lo) or np.any(init > hi):
            # the clamp would hold log sigma at a bound, where its score is 0: it would
            # never move (or, with log_std_mode="fixed", differ from what was asked)
            raise ValueError(f"init_log_std must lie within log_std_bounds [{lo:g}, {hi:g}], "
                             f"got {init.tolist()} (widen log_std_bounds to start outside)")
        if self.log_std_mode != "fixed" and np.any((init == lo) | (init == hi)):
            # the score of a clamped entry is 0 with the bound included: a learned log sigma
            # that starts on a bound would stay there
            raise ValueError(f"init_log_std must lie strictly inside log_std_bounds "
                             f"({lo:g}, {hi:g}) when log sigma is learned, got "
                             f"{init.tolist()}: on a bound its score is 0 and it never moves")
        d, m = n_features, self.action_dim
        n_std = {"fixed": 0, "vector": m, "linear": m + d * m}[self.log_std_mode]
        super().__init__(n_features, d * m + n_std)
        self.init_scale = init_scale
        self.init_log_std = init
        self._fixed_log_std = init.copy()
        self._init_weights(self.W, init_scale, seed)
        if self.log_std_mode != "fixed":
            self.log_std[...] = init

    # ------------------------------------------------------------------ views
    @property
    def W(self) -> np.ndarray:
        """Mean weights, shape (n_features, action_dim): a view of ``theta``."""
        d, m = self.n_features, self.action_dim
        return self._theta[: d * m].reshape(d, m)

    @W.setter
    def W(self, value: object) -> None:
        self._set_block(self.W, value, "W")

    @property
    def log_std(self) -> np.ndarray:
        """log sigma (the bias in "linear" mode), shape (action_dim,).

        A view of ``theta`` when learned; the constant itself in "fixed" mode.
        """
        if self.log_std_mode == "fixed":
            return self._fixed_log_std
        start = self.n_features * self.action_dim
        return self._theta[start: start + self.action_dim]

    @log_std.setter
    def log_std(self, value: object) -> None:
        self._set_block(self.log_std, value, "log_std")

    @property
    def W_std(self) -> np.ndarray:
        """Weights of log sigma(x) in "linear" mode, shape (n_features, action_dim)."""
        if self.log_std_mode != "linear":
            raise AttributeError(f"W_std exists only with log_std_mode='linear', "
                                 f"this policy has {self.log_std_mode!r}")
        start = self.n_features * self.action_dim + self.action_dim
        return self._theta[start:].reshape(self.n_features, self.action_dim)

    @W_std.setter
    def W_std(self, value: object) -> None:
        self._set_block(self.W_std, value, "W_std")

    def parameter_blocks(self) -> list[tuple[str, slice]]:
        dm, m = self.n_features * self.action_dim, self.action_dim
        blocks = [("W", slice(0, dm))]
        if self.log_std_mode != "fixed":
            blocks.append(("log_std", slice(dm, dm + m)))
        if self.log_std_mode == "linear":
            blocks.append(("W_std", slice(dm + m, self.n_params)))
        return blocks

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this policy's shape; with a fixed sigma, also
        the sigma it has now (set through ``log_std`` after construction, it is not in
        ``theta``), clamped to the bounds as it is used."""
        init = self.init_log_std
        if self.log_std_mode == "fixed":
            init = np.clip(self._fixed_log_std, *self.log_std_bounds)
        return {"n_features": self.n_features, "action_dim": self.action_dim,
                "log_std_mode": self.log_std_mode, "init_log_std": init.tolist(),
                "log_std_bounds": self.log_std_bounds, "init_scale": self.init_scale}

    # ------------------------------------------------------------------ distribution
    def _raw_log_std(self, X: np.ndarray) -> np.ndarray:
        raw = np.broadcast_to(self.log_std, (X.shape[0], self.action_dim))
        if self.log_std_mode == "linear":
            raw = raw + X @ self.W_std
        return raw

    def _log_std(self, X: np.ndarray) -> np.ndarray:
        return np.clip(self._raw_log_std(X), *self.log_std_bounds)

    def _clamped_log_std(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log sigma after the clamp, where the clamp is inactive), both (T, action_dim).

        Where the clamp is active log sigma does not move with theta, so every derivative
        through it (the score, the entropy gradient, the Fisher matrix) is 0 there.
        """
        raw = self._raw_log_std(X)
        lo, hi = self.log_std_bounds
        return np.clip(raw, lo, hi), (raw > lo) & (raw < hi)

    def mean(self, X: object) -> np.ndarray:
        """mu(x) = x W, shape (T, action_dim)."""
        return self._features(X) @ self.W

    def std(self, X: object) -> np.ndarray:
        """sigma(x) after clamping log sigma, shape (T, action_dim)."""
        return np.exp(self._log_std(self._features(X)))

    def _actions(self, A: object, n_rows: int) -> np.ndarray:
        arr = as_rectangular_array(A, "A")
        if arr.dtype.kind == "O":                # None, text, an int beyond float64 ...
            arr = as_float_array(A, "A")         # ... named by its message
        elif arr.dtype.kind not in "iuf":        # not bool, complex or strings
            raise TypeError(f"A must hold real-valued actions, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if arr.ndim == 1 and self.action_dim == 1:
            arr = arr[:, None]                   # T scalar actions
        elif n_rows == 1 and arr.shape in ((), (self.action_dim,)) and arr.size == self.action_dim:
            arr = arr.reshape(1, self.action_dim)   # the one action of a single row
        if arr.shape != (n_rows, self.action_dim):
            raise ValueError(
                f"A must have shape ({n_rows}, {self.action_dim}) (one {self.action_dim}-dim "
                f"action per row of X), got shape {shape_of(A)}"
            )
        return check_finite(arr, "A")

    def log_prob(self, X: object, A: object) -> np.ndarray:
        """log pi(A_t | X_t) summed over action dimensions, shape (T,)."""
        X = self._features(X)
        A = self._actions(A, X.shape[0])
        log_std = self._log_std(X)
        z = (A - X @ self.W) / np.exp(log_std)
        return -0.5 * (z**2 + 2.0 * log_std + LOG_2PI).sum(axis=1)

    def _check_actions(self, A: object, n_rows: int) -> np.ndarray:
        return self._actions(A, n_rows)

    def _score_factors(self, X: np.ndarray, A: np.ndarray) -> list[tuple[np.ndarray, bool]]:
        """(a - mu) / sigma^2 for the mean; (a - mu)^2 / sigma^2 - 1 for log sigma."""
        log_std, free = self._clamped_log_std(X)
        inv_var = np.exp(-2.0 * log_std)
        diff = A - X @ self.W
        factors = [(diff * inv_var, True)]                  # mean block: x (outer) this
        if self.log_std_mode != "fixed":
            g_log_std = (diff**2 * inv_var - 1.0) * free    # 0 where the clamp is active
            factors.append((g_log_std, False))              # log_std: the vector itself
            if self.log_std_mode == "linear":
                factors.append((g_log_std, True))           # W_std: x (outer) it
        return factors

    def _fisher(self, X: np.ndarray) -> np.ndarray:
        """The expected outer product of the score, in theta's order (see Notes).

        Notes
        -----
        Write z = (a - mu) / sigma ~ N(0, 1), one per action dimension, independent. The
        score's factors are z_j / sigma_j for the mean and z_j^2 - 1 for log sigma_j, and

            E[z^2] = 1,   E[z (z^2 - 1)] = E[z^3] - E[z] = 0,   E[(z^2 - 1)^2] = 3 - 2 + 1 = 2,

        with all cross terms between different j zero. So the mean block is
        x x^T (kron) diag(1 / sigma^2), the mean and log-sigma blocks do not interact, and
        the log-sigma block is 2 per dimension: 2 I in "vector" mode; in "linear" mode
        2 [1, x][1, x]^T for the pair (log_std_j, W_std[:, j]). A clamped log sigma has a
        zero score (as in :meth:`grad_log_prob`), so its rows and columns are zero.

        Both blocks have one form: theta's log-std entries, ``log_std`` then
        ``W_std.ravel()``, are the C-order ravel of a (1 + d, m) matrix acting on [1, x]
        ("vector" mode: on [1] alone), as W acts on x.
        """
        T = X.shape[0]
        dm = self.n_features * self.action_dim
        log_std, free = self._clamped_log_std(X)
        F = np.zeros((self.n_params, self.n_params))
        add_per_output(F[:dm, :dm], X, np.exp(-2.0 * log_std))
        if self.log_std_mode != "fixed":
            ones = np.ones((T, 1))
            Z = ones if self.log_std_mode == "vector" else np.hstack([ones, X])
            add_per_output(F[dm:, dm:], Z, 2.0 * free)     # E[(z^2 - 1)^2] where it moves
        return F / T

    def entropy(self, X: object) -> np.ndarray:
        """H = sum_j (log sigma_j + log(2 pi e) / 2) for each row, shape (T,)."""
        return (self._log_std(self._features(X)) + 0.5 * (LOG_2PI + 1.0)).sum(axis=1)

    def grad_entropy(self, X: object) -> np.ndarray:
        """Gradient of the entropy H(x) with respect to theta for each row, shape (T, n_params).

        Notes
        -----
        H = sum_j (log sigma_j + log(2 pi e) / 2) does not depend on the mean, so the W block
        is 0; dH/d log sigma_j = 1 (0 where the clamp is active, as in the score); in
        "linear" mode log sigma_j = b_j + x . W_std[:, j], so dH/dW_std = x (outer) 1.
        A fixed sigma has no entropy gradient: the result is then all zeros.
        """
        X = self._features(X)
        T, d, m = X.shape[0], self.n_features, self.action_dim
        parts = [np.zeros((T, d * m))]
        if self.log_std_mode != "fixed":
            g_log_std = self._clamped_log_std(X)[1].astype(np.float64)
            parts.append(g_log_std)
            if self.log_std_mode == "linear":
                parts.append(row_outer(X, g_log_std))
        return np.concatenate(parts, axis=1)

    def sample(self, X: object, rng: np.random.Generator) -> np.ndarray:
        """mu + sigma * eps with eps ~ N(0, I), shape (T, action_dim). Not clipped."""
        return self._sample(self._features(X), check_generator(rng))

    def _sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.standard_normal((X.shape[0], self.action_dim))
        return X @ self.W + np.exp(self._log_std(X)) * noise

    def act(self, X: object) -> np.ndarray:
        """The mean action mu(x), shape (T, action_dim)."""
        return self._act(self._features(X))

    def _act(self, X: np.ndarray) -> np.ndarray:
        return X @ self.W

    def _sample_one(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.standard_normal(self.action_dim)
        log_std = self.log_std if self.log_std_mode != "linear" else self.log_std + x @ self.W_std
        low, high = self.log_std_bounds
        return x @ self.W + np.exp(np.minimum(np.maximum(log_std, low), high)) * noise

    def _act_one(self, x: np.ndarray) -> np.ndarray:
        return x @ self.W

