"""Linear sigmoid (Bernoulli) policy for two actions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import SeedLike, check_generator
from .base import LinearPolicy, check_discrete_actions


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log sigma(z) = -log(1 + exp(-z)) = -logaddexp(0, -z), finite for any finite z.

    The naive np.log(1 / (1 + np.exp(-z))) overflows exp(-z) for z < -709.8 and gives
    log(0) = -inf there; the naive log(1 - sigma(z)), the log-probability of action 0, is
    -inf already for z > 37, where sigma(z) rounds to 1. logaddexp never is.
    """
    return -np.logaddexp(0.0, -z)


class BernoulliPolicy(LinearPolicy):
    """The sigmoid policy: P(a = 1 | x) = sigma(x . w), P(a = 0 | x) = 1 - sigma(x . w).

    Parameters
    ----------
    n_features : int
        Length d of the feature vector x.
    init_scale : float, default 0.0
        Standard deviation of the normal initial weights.
    seed : int or np.random.Generator, default 0
        Source of the initial weights.

    Notes
    -----
    theta layout: ``w`` itself, shape (d,); ``W`` is the same vector.

    Score. With z = x . w and p = sigma(z), and using 1 - sigma(z) = sigma(-z),

        log pi(a | x) = a log sigma(z) + (1 - a) log sigma(-z).

    Since d log sigma(z)/dz = 1 - sigma(z) and d log sigma(-z)/dz = -sigma(z),

        d log pi / dz = a (1 - p) - (1 - a) p = a - p,   so   score = (a - p) x.

    The action appears in the score: for a = 1 it pushes w toward x, for a = 0 away from
    it. The classic bug sigma'(z)/sigma(z) x = (1 - p) x is the a = 1 formula used for both
    actions (see ``linear_pg.bugs``).

    Examples
    --------
    >>> import numpy as np
    >>> pi = BernoulliPolicy(2)
    >>> pi.grad_log_prob(np.array([[1.0, 2.0]]), [0])
    array([[-0.5, -1. ]])
    """

    kind = "bernoulli"
    n_actions = 2

    def __init__(self, n_features: int, *, init_scale: float = 0.0, seed: SeedLike = 0) -> None:
        super().__init__(n_features, n_features)
        self.init_scale = init_scale
        self._init_weights(self.W, init_scale, seed)

    @property
    def W(self) -> np.ndarray:
        """Weights w, shape (n_features,): a view of ``theta``."""
        return self._theta

    @W.setter
    def W(self, value: object) -> None:
        self._set_block(self._theta, value, "W")

    def get_config(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "init_scale": self.init_scale}

    # ------------------------------------------------------------------ distribution
    def prob_one(self, X: object) -> np.ndarray:
        """P(a = 1 | x) for each row, shape (T,)."""
        return np.exp(log_sigmoid(self._features(X) @ self.W))

    def probs(self, X: object) -> np.ndarray:
        """Probabilities of actions 0 and 1, shape (T, 2)."""
        z = self._features(X) @ self.W
        return np.exp(np.stack([log_sigmoid(-z), log_sigmoid(z)], axis=1))

    def log_prob(self, X: object, A: object) -> np.ndarray:
        """log pi(A_t | X_t), shape (T,)."""
        X = self._features(X)
        A = check_discrete_actions(A, 2, X.shape[0])
        z = X @ self.W
        return np.where(A == 1, log_sigmoid(z), log_sigmoid(-z))

    def _check_actions(self, A: object, n_rows: int) -> np.ndarray:
        return check_discrete_actions(A, 2, n_rows)

    def _score_factors(self, X: np.ndarray, A: np.ndarray) -> list[tuple[np.ndarray, bool]]:
        """d log pi / dz = a - p: the "fake label" a minus the prediction p; score (a - p) x."""
        p = np.exp(log_sigmoid(X @ self.W))
        return [((A - p)[:, None], True)]

    def _fisher(self, X: np.ndarray) -> np.ndarray:
        """(1/T) sum_t p_t (1 - p_t) x_t x_t^T.

        Notes
        -----
        The score is (a - p) x with a ~ Bernoulli(p), so E[s s^T] = E[(a - p)^2] x x^T and
        E[(a - p)^2] = Var(a) = p (1 - p).
        """
        z = X @ self.W
        var = np.exp(log_sigmoid(z) + log_sigmoid(-z))          # p (1 - p), no cancellation
        return (X * var[:, None]).T @ X / X.shape[0]

    def entropy(self, X: object) -> np.ndarray:
        """H = -p log p - (1 - p) log(1 - p) for each row, shape (T,)."""
        z = self._features(X) @ self.W
        log_p, log_q = log_sigmoid(z), log_sigmoid(-z)
        return -(np.exp(log_p) * log_p + np.exp(log_q) * log_q)

    def grad_entropy(self, X: object) -> np.ndarray:
        """Gradient of the entropy H(x) with respect to w for each row, shape (T, n_features).

        Notes
        -----
        H = -p log p - (1 - p) log(1 - p) with p = sigma(z), z = x . w. Since
        dp/dz = p (1 - p), dH/dz = -p (1 - p)(log p - log(1 - p)) = -p (1 - p) z
        (the log-odds log(p / (1 - p)) is z itself), so dH/dw = -p (1 - p) z x.
        p (1 - p) is taken as exp(log sigma(z) + log sigma(-z)) = exp(2 log sigma(z) - z)
        (log sigma(-z) = log sigma(z) - z): for large z, 1 - p computed from p loses every
        digit (1 - p = 0 at z = 40, where it is 4e-18).
        """
        X = self._features(X)
        z = X @ self.W
        var = np.exp(2.0 * log_sigmoid(z) - z)                 # p (1 - p), no cancellation
        return (-var * z)[:, None] * X

    def sample(self, X: object, rng: np.random.Generator) -> np.ndarray:
        """Action 1 with probability p, else 0, shape (T,)."""
        return self._sample(self._features(X), check_generator(rng))

    def _sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = np.exp(log_sigmoid(X @ self.W))
        return (rng.random(p.shape[0]) < p).astype(np.int64)

    def act(self, X: object) -> np.ndarray:
        """The most likely action: 1 where x . w > 0, shape (T,)."""
        return self._act(self._features(X))

    def _act(self, X: np.ndarray) -> np.ndarray:
        return (X @ self.W > 0).astype(np.int64)

    def _sample_one(self, x: np.ndarray, rng: np.random.Generator) -> int:
        z = float(x @ self.W)
        # sigma(z) without overflow: exp of a non-positive number only
        p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return int(rng.random() < p)

    def _act_one(self, x: np.ndarray) -> int:
        return int(x @ self.W > 0)
