"""Linear softmax policy over k discrete actions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import SeedLike, check_generator, check_int
from .base import LinearPolicy, add_per_output, check_discrete_actions, row_outer


def _reduce_rows(ufunc: np.ufunc, Z: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(Z, axis=-1)`` computed column by column.

    NumPy reduces a short last axis (k = 2 actions) one row at a time, some 50 times slower
    than k elementwise operations on whole columns; the columns are few, so loop over them.
    """
    if Z.shape[-1] > 16:
        return ufunc.reduce(Z, axis=-1)
    out = Z[..., 0].copy()
    for j in range(1, Z.shape[-1]):
        ufunc(out, Z[..., j], out=out)
    return out


def log_softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax by log-sum-exp: log p_j = z_j - max(z) - log sum_i exp(z_i - max(z)).

    Subtracting the row maximum leaves the result unchanged (it cancels between numerator
    and denominator) but keeps every exponent <= 0, so nothing overflows even for logits of
    size 1e4; the naive exp(z) / sum(exp(z)) gives inf / inf = NaN there.

    Examples
    --------
    >>> log_softmax(np.array([[1e4, 1e4]]))
    array([[-0.69314718, -0.69314718]])
    """
    shifted = Z - _reduce_rows(np.maximum, Z)[..., None]
    return shifted - np.log(_reduce_rows(np.add, np.exp(shifted)))[..., None]


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, exp(z - max z) / sum exp(z - max z): exp(log_softmax(Z)) in fewer steps.

    Examples
    --------
    >>> softmax(np.array([[1e4, 1e4]]))
    array([[0.5, 0.5]])
    """
    e = np.exp(Z - _reduce_rows(np.maximum, Z)[..., None])
    return e / _reduce_rows(np.add, e)[..., None]


class SoftmaxPolicy(LinearPolicy):
    """pi(a | x) = softmax(x W)_a with W of shape (n_features, n_actions).

    Parameters
    ----------
    n_features : int
        Length d of the feature vector x.
    n_actions : int
        Number k >= 2 of discrete actions.
    init_scale : float, default 0.0
        Standard deviation of the normal initial weights (0 gives the uniform policy).
    seed : int or np.random.Generator, default 0
        Source of the initial weights.

    Notes
    -----
    theta layout: ``W.ravel()`` in C order, so ``theta[i * k + j] == W[i, j]``.

    Score. With logits z = x W and p = softmax(z),
    log pi(a | x) = z_a - log sum_j exp(z_j).
    The Jacobian of softmax is dp_i/dz_j = p_i (delta_ij - p_j), i.e. diag(p) - p p^T;
    dividing its row a by p_a gives d log p_a / dz_j = delta_aj - p_j, the vector e_a - p.
    Since z_j = sum_i x_i W_ij, dz_j / dW_ij = x_i, so

        d log pi(a | x) / dW_ij = x_i (delta_aj - p_j),   i.e.   score = x (outer) (e_a - p).

    Examples
    --------
    >>> import numpy as np
    >>> pi = SoftmaxPolicy(3, 2)
    >>> pi.probs(np.ones((1, 3)))
    array([[0.5, 0.5]])
    """

    kind = "softmax"

    def __init__(self, n_features: int, n_actions: int, *, init_scale: float = 0.0,
                 seed: SeedLike = 0) -> None:
        self.n_actions = check_int(n_actions, "n_actions", low=2)
        super().__init__(n_features, check_int(n_features, "n_features", low=1) * self.n_actions)
        self.init_scale = init_scale
        self._init_weights(self.W, init_scale, seed)

    @property
    def W(self) -> np.ndarray:
        """Weights, shape (n_features, n_actions): a view of ``theta``."""
        return self._theta.reshape(self.n_features, self.n_actions)

    @W.setter
    def W(self, value: object) -> None:
        self._set_block(self.W, value, "W")

    def get_config(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "n_actions": self.n_actions,
                "init_scale": self.init_scale}

    # ------------------------------------------------------------------ distribution
    def _log_probs(self, X: np.ndarray) -> np.ndarray:
        return log_softmax(X @ self.W)

    def probs(self, X: object) -> np.ndarray:
        """Action probabilities, shape (T, n_actions)."""
        return np.exp(self._log_probs(self._features(X)))

    def log_prob(self, X: object, A: object) -> np.ndarray:
        """log pi(A_t | X_t), shape (T,)."""
        X = self._features(X)
        A = check_discrete_actions(A, self.n_actions, X.shape[0])
        return self._log_probs(X)[np.arange(X.shape[0]), A]

    def _check_actions(self, A: object, n_rows: int) -> np.ndarray:
        return check_discrete_actions(A, self.n_actions, n_rows)

    def _score_factors(self, X: np.ndarray, A: np.ndarray) -> list[tuple[np.ndarray, bool]]:
        """d log pi / dz = e_a - p with respect to the logits; the score is x (outer) that."""
        one_hot = A[:, None] == np.arange(self.n_actions)      # e_a, row by row
        return [(one_hot - softmax(X @ self.W), True)]

    def _weighted_score_sum(self, X: np.ndarray, A: np.ndarray, weights: np.ndarray
                            ) -> np.ndarray:
        """sum_t w_t x_t (outer) (e_{a_t} - p_t) = X^T G with G_tj = w_t (delta_{a_t j} - p_tj).

        The same score as :meth:`_score_factors`, arranged for speed; both forms are tested
        against each other. The logits are computed transposed, as a (k, T) array, so that
        every operation runs along contiguous rows of length T (NumPy handles a short last
        axis of length k one row at a time).

        Two actions. With d = z_1 - z_0, p_1 = 1 / (1 + e^-d) = sigmoid(d) and p_0 = 1 - p_1,
        so e_a - p = (a - p_1) (-1, +1): one column of X^T G is the negative of the other,
        X^T (w * (a - p_1)), and only one vector of logit differences is needed. The sigmoid
        is taken as sigmoid(d) = (1 + tanh(d / 2)) / 2, which cannot overflow: the two-action
        softmax is the Bernoulli policy of :class:`~linear_pg.BernoulliPolicy` on w_1 - w_0.
        """
        if self.n_actions == 2:
            W = self.W
            residual = np.tanh(X @ (0.5 * (W[:, 1] - W[:, 0])))   # 2 p_1 - 1
            residual *= -0.5
            residual += A
            residual -= 0.5                                          # a - p_1
            residual *= weights
            g = residual @ X
            out = np.empty((X.shape[1], 2))
            out[:, 1] = g
            np.negative(g, out=out[:, 0])
            return out.ravel()
        G = self.W.T @ X.T                                           # logits z, (k, T)
        G -= np.maximum.reduce(G, axis=0)
        np.exp(G, out=G)
        G /= np.add.reduce(G, axis=0)                                # p, (k, T)
        np.subtract(A == np.arange(self.n_actions)[:, None], G, out=G)   # e_a - p
        G *= weights
        return (G @ X).T.ravel()

    def _fisher(self, X: np.ndarray) -> np.ndarray:
        """(1/T) sum_t (x_t x_t^T) (kron) (diag(p_t) - p_t p_t^T), in theta's order.

        Notes
        -----
        The score is x (outer) (e_a - p), so E[s s^T] = x x^T (kron) E[(e_a - p)(e_a - p)^T],
        and with a ~ p the one-hot e_a has mean p and covariance diag(p) - p p^T (the same
        matrix as the softmax Jacobian). Entry [i k + j, i' k + j'] is
        mean_t x_ti x_ti' (p_tj delta_jj' - p_tj p_tj').

        The p p^T part is one matrix product: with the rows Y_t = x_t (kron) p_t, shape
        (T, d k), it is -Y^T Y; the diag(p) part adds sum_t p_tj x_t x_t^T to block (j, j).
        """
        P = softmax(X @ self.W)
        Y = row_outer(X, P)
        F = -(Y.T @ Y)                                                    # - p p^T part
        add_per_output(F, X, P)                                           # + diag(p) part
        return F / X.shape[0]

    def entropy(self, X: object) -> np.ndarray:
        """H = -sum_j p_j log p_j for each row, shape (T,)."""
        logp = self._log_probs(self._features(X))
        return -_reduce_rows(np.add, np.exp(logp) * logp)

    def grad_entropy(self, X: object) -> np.ndarray:
        """Gradient of the entropy H(x) with respect to theta for each row, shape (T, n_params).

        Notes
        -----
        H = -sum_j p_j log p_j with p = softmax(z), z = x W. Using dp_j/dz_k = p_j (delta_jk
        - p_k),

            dH/dz_k = -sum_j p_j (delta_jk - p_k)(log p_j + 1)
                    = -p_k (log p_k + 1) + p_k sum_j p_j (log p_j + 1) = -p_k (log p_k + H),

        and dz_k/dW_ik = x_i, so dH/dW = -x (outer) p * (log p + H).
        """
        X = self._features(X)
        logp = self._log_probs(X)
        P = np.exp(logp)
        H = -_reduce_rows(np.add, P * logp)[:, None]
        return row_outer(X, -P * (logp + H))

    def sample(self, X: object, rng: np.random.Generator) -> np.ndarray:
        """One action per row by inverting the CDF with one uniform draw each, shape (T,)."""
        return self._sample(self._features(X), check_generator(rng))

    def _sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        # Inverse CDF: a = the number of j < k - 1 with p_0 + ... + p_j < u. Multiplied
        # through by sum_i e_i (e = exp(z - max z), p = e / sum e), no division is needed:
        # count the partial sums e_0 + ... + e_j below u * sum_i e_i.
        E = X @ self.W
        if self.n_actions == 2:     # the same arithmetic on the two columns, unrolled
            z0, z1 = E[:, 0], E[:, 1]
            top = np.maximum(z0, z1)
            e0, e1 = np.exp(z0 - top), np.exp(z1 - top)
            return (e0 < rng.random(E.shape[0]) * (e0 + e1)).astype(np.int64)
        E -= _reduce_rows(np.maximum, E)[:, None]
        np.exp(E, out=E)
        threshold = rng.random(E.shape[0]) * _reduce_rows(np.add, E)
        cdf = E[:, 0].copy()
        A = (cdf < threshold).astype(np.int64)
        for j in range(1, self.n_actions - 1):   # k is small: a loop over the columns
            cdf += E[:, j]
            A += cdf < threshold
        return A

    def _sample_one(self, x: np.ndarray, rng: np.random.Generator) -> int:
        # _sample for one row in Python floats: k exponentials, one uniform, a short scan
        z = (x @ self.W).tolist()
        if len(z) == 2:         # the scan below, unrolled: action 1 iff e_0 < u (e_0 + e_1)
            top = z[0] if z[0] >= z[1] else z[1]
            e0, e1 = math.exp(z[0] - top), math.exp(z[1] - top)
            return int(e0 < rng.random() * (e0 + e1))
        top = max(z)
        e = [math.exp(v - top) for v in z]
        threshold = rng.random() * sum(e)
        a, cdf = 0, 0.0
        for e_j in e[:-1]:
            cdf += e_j
            if cdf >= threshold:
                break
            a += 1
        return a

    def act(self, X: object) -> np.ndarray:
        """The most likely action of each row (argmax of the logits), shape (T,)."""
        return self._act(self._features(X))

    def _act(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(X @ self.W, axis=1)

    def _act_one(self, x: np.ndarray) -> int:
        return int(np.argmax(x @ self.W))
