"""Baselines b(s_t) subtracted from the returns before they weight the scores.

Any b that does not depend on the action a_t leaves the expected gradient unchanged,
because E_a[grad log pi(a | s)] = grad sum_a pi(a | s) = grad 1 = 0. A b computed from the
same batch it is applied to breaks that independence slightly (each G_t also enters b);
the baselines here are therefore fitted on earlier batches only and add no bias. (The
trainer also uses the baseline's V(s_T) to bootstrap episodes cut off by a time limit,
:func:`linear_pg.returns.bootstrap_truncated`: that part of the target is only as right as
V is.)
"""

from __future__ import annotations

from typing import cast

import numpy as np

from ._validation import (
    as_float_array,
    check_choice,
    check_finite,
    check_keywords,
    check_no_state,
    check_real,
)

BASELINES = ("none", "mean", "value")


def _check_decay(decay: object) -> float:
    """A forgetting factor in [0, 1): 1 would never forget, above 1 would grow without bound."""
    return check_real(decay, "decay", low=0.0, high=1.0, high_open=True)


class Baseline:
    """No baseline: b = 0. Base class of the others.

    Use: ``b = baseline.predict(X)`` on a new batch, then ``baseline.update(X, G)`` with its
    reward-to-go, so the prediction for a batch never saw that batch.
    """

    name = "none"

    def predict(self, X: object) -> np.ndarray:
        """b(s_t) for each row of the features X (T, d), shape (T,)."""
        return self._predict(self._features(X))

    def update(self, X: object, G: object) -> None:
        """Learn from a batch of features X (T, d) and targets G (T,)."""
        X = self._features(X)
        G = check_finite(as_float_array(G, "G"), "G")
        if G.shape != (X.shape[0],):
            raise ValueError(f"G must have shape ({X.shape[0]},), one target per row of X, "
                             f"got shape {G.shape}")
        self._update(X, G)

    def _features(self, X: object) -> np.ndarray:
        X = check_finite(as_float_array(X, "X"), "X")
        d = self._n_features()
        if X.ndim != 2 or (d is not None and X.shape[1] != d):
            want = f"(T, {d})" if d is not None else "(T, d)"
            raise ValueError(f"X must have shape {want}, one row of features per step"
                             f"{' (the size this baseline was fitted on)' if d else ''}, "
                             f"got shape {X.shape}")
        return X

    def _n_features(self) -> int | None:
        """The feature count fixed by the first update (None before it, or if any)."""
        return None

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.zeros(X.shape[0])

    def _update(self, X: np.ndarray, G: np.ndarray) -> None:
        pass

    def get_state(self) -> dict[str, np.ndarray]:
        """The fitted statistics as arrays that are copies of the baseline's own (a
        checkpoint stores them, and changing them does not change the baseline)."""
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`: here the empty dict (another baseline's state is
        refused, not dropped)."""
        check_no_state(state, self)


class MeanBaseline(Baseline):
    """b = the running mean of the targets of the earlier batches (0 before the first).

    Parameters
    ----------
    decay : float in [0, 1), default 0.0
        Weight of the older statistics: 0 uses only the previous batch.
    """

    name = "mean"

    def __init__(self, decay: float = 0.0) -> None:
        self.decay = _check_decay(decay)
        self.total_ = 0.0
        self.count_ = 0.0

    def _predict(self, X: np.ndarray) -> np.ndarray:
        mean = self.total_ / self.count_ if self.count_ > 0 else 0.0
        return np.full(X.shape[0], mean)

    def _update(self, X: np.ndarray, G: np.ndarray) -> None:
        self.total_ = self.decay * self.total_ + float(G.sum())
        self.count_ = self.decay * self.count_ + G.size

    def get_state(self) -> dict[str, np.ndarray]:
        return {"total_": np.array(self.total_), "count_": np.array(self.count_)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        missing = sorted({"total_", "count_"} - set(_state_dict(state)))
        if missing:
            raise ValueError(f"state must hold total_ and count_ (MeanBaseline.get_state), "
                             f"missing {missing}")
        total, count = (_finite_scalar(state[k], k) for k in ("total_", "count_"))
        if count < 0:
            raise ValueError(f"count_ must be >= 0, got {count}")
        self.total_, self.count_ = total, count


class ValueBaseline(Baseline):
    """A linear value function b(s) = x . v, fitted by ridge least squares to reward-to-go.

    Parameters
    ----------
    ridge : float > 0, default 1e-3
        lambda of the ridge penalty (relative to the mean of diag(X^T X)). It must be
        positive: without it the first fits, on fewer rows than features or on features
        never seen yet (one-hot states), are singular systems.
    decay : float in [0, 1), default 0.9
        Forgetting factor of the sufficient statistics: older batches count decay^k.

    Notes
    -----
    v minimizes sum_k decay^k |X_k v - G_k|^2 + lambda |v|^2 over the earlier batches k,
    the solution of (A + lambda I) v = c with A = sum decay^k X_k^T X_k and
    c = sum decay^k X_k^T G_k. Those sums are updated in O(T d^2) per batch and solved in
    O(d^3). Fitted on earlier batches only, b is independent of the current batch's actions
    and the gradient estimate stays unbiased; it only lowers the variance.
    """

    name = "value"

    def __init__(self, ridge: float = 1e-3, decay: float = 0.9) -> None:
        self.ridge = check_real(ridge, "ridge", low=0.0, low_open=True)
        self.decay = _check_decay(decay)
        self.v_: np.ndarray | None = None
        self.A_: np.ndarray | None = None
        self.c_: np.ndarray | None = None

    def _n_features(self) -> int | None:
        return None if self.A_ is None else self.A_.shape[0]

    def _predict(self, X: np.ndarray) -> np.ndarray:
        if self.v_ is None:
            return np.zeros(X.shape[0])
        return X @ self.v_

    def _update(self, X: np.ndarray, G: np.ndarray) -> None:
        if self.A_ is None:
            self.A_ = np.zeros((X.shape[1], X.shape[1]))
            self.c_ = np.zeros(X.shape[1])
        self.A_ = self.decay * self.A_ + X.T @ X
        self.c_ = self.decay * cast(np.ndarray, self.c_) + X.T @ G    # set with A_
        lam = self.ridge * max(float(np.mean(np.diag(self.A_))), 1e-12)
        self.v_ = np.linalg.solve(self.A_ + lam * np.eye(X.shape[1]), self.c_)

    def get_state(self) -> dict[str, np.ndarray]:
        if self.v_ is None:
            return {}
        A, c = cast(np.ndarray, self.A_), cast(np.ndarray, self.c_)    # set with v_
        return {"v_": self.v_.copy(), "A_": A.copy(), "c_": c.copy()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        if not _state_dict(state):
            return                               # not fitted yet
        missing = sorted({"v_", "A_", "c_"} - set(state))
        if missing:
            raise ValueError(f"state must hold v_, A_ and c_ (ValueBaseline.get_state), "
                             f"missing {missing}")
        v, A, c = (check_finite(as_float_array(state[k], k), k) for k in ("v_", "A_", "c_"))
        d = v.shape[0] if v.ndim == 1 else -1
        if v.ndim != 1 or A.shape != (d, d) or c.shape != (d,):
            raise ValueError(f"state must hold v_ (d,), A_ (d, d) and c_ (d,), got shapes "
                             f"{v.shape}, {A.shape}, {c.shape}")
        self.v_, self.A_, self.c_ = v.copy(), A.copy(), c.copy()


def _state_dict(state: object) -> dict:
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict (as get_state returns), got "
                        f"{type(state).__name__}")
    return state


def _finite_scalar(value: object, name: str) -> float:
    arr = check_finite(as_float_array(value, name), name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    return float(arr)


def make_baseline(name: str, **params: float) -> Baseline:
    """A baseline from its name: "none", "mean" or "value"."""
    check_choice(name, "baseline", BASELINES)        # each baseline checks its parameters
    cls = {"none": Baseline, "mean": MeanBaseline, "value": ValueBaseline}[name]
    check_keywords(cls, params, f"the parameters of baseline {name!r}")
    return cls(**params)
