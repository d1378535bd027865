"""The part every linear policy shares: one flat parameter vector and input checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    SeedLike,
    as_float_array,
    as_generator,
    as_rectangular_array,
    check_features,
    check_int,
    check_real,
    check_shaped,
    check_vector,
    shape_of,
)


class LinearPolicy:
    """Base class: a policy whose parameters live in one flat float64 vector ``theta``.

    Subclasses expose named views of ``theta`` (``W``, ``log_std``, ...) that share its
    memory, so writing ``policy.theta[:] = v`` or ``policy.W[0, 1] = 2.0`` changes the
    same numbers. Assigning ``policy.theta = v`` copies ``v`` into the existing buffer.

    Every subclass implements the same small API, all batched over T rows of features:
    ``sample(X, rng)``, ``log_prob(X, A)`` -> (T,), ``grad_log_prob(X, A)`` -> (T, n_params)
    (the per-sample score), ``fisher(X)`` -> (n_params, n_params) (the expected outer
    product of the score), ``entropy(X)`` -> (T,) and ``act(X)`` (the most likely action,
    used for evaluation).

    One observation's features x of shape (n_features,) are taken as one row (T = 1), and
    the results keep their T axis: ``sample(x, rng)`` is an array of one action, shape (1,)
    for the discrete policies and (1, action_dim) for the Gaussian. A gymnasium env takes
    ``linear_pg.rollout.env_action(env.action_space, a[0])``: the index as the space's
    integer (``start`` added), or the Gaussian sample clipped to the Box, while the score
    keeps the sample itself.

    Parameters
    ----------
    n_features : int >= 1
        Length of the feature vector x.
    n_params : int
        Length of ``theta``, which starts at zeros; the subclass's constructor computes it
        from its own arguments (n_features * n_actions for a softmax policy).

    Notes
    -----
    **Writing your own policy.** Subclass the built-in class of your kind (SoftmaxPolicy,
    BernoulliPolicy, GaussianPolicy) rather than this one: ``kind`` (one of "softmax",
    "bernoulli", "gaussian") tells the trainer which action spaces the policy fits. Besides
    the public methods above, the trainer calls unchecked hooks, which the built-in classes
    define from their own formulas for speed, so a subclass that changes the distribution
    must override those it changes too:

    - ``_sample(X, rng)``: the vector env's sampler, an array of one action per row ((T,)
      ints, or (T, action_dim) floats); ``_sample_one(x, rng)``: the single env's, for one
      row x of shape (n_features,), one action (an int, or an array (action_dim,)). Both
      draw only from ``rng`` (the built-ins draw the same stream in both, so that either
      env gives the same episodes; yours need not). ``_act(X)`` and ``_act_one(x)``:
      evaluation's actions, the most likely action or the mean, shaped alike. The public
      ``sample`` and ``act`` of the built-ins check their input and call these;
    - ``_score_factors(X, A)``: the score block by block, in theta's order, as a list of
      ``(V, times_x)`` pairs: V (T, m) is the derivative of log pi with respect to the
      block's m linear outputs (e.g. the logits x W), and ``times_x`` says whether the block
      is a weight matrix acting on x (its score is then x (outer) v_t) or a vector (v_t
      itself). This class builds ``grad_log_prob`` and ``_weighted_score_sum`` (the
      gradient) from it; the built-ins have their own, faster ``_weighted_score_sum``:
      override it too, or set ``_weighted_score_sum = LinearPolicy._weighted_score_sum``.
      SoftmaxPolicy's ``log_prob``, ``probs`` and ``entropy`` come from ``_log_probs(X)``
      (T, n_actions); BernoulliPolicy's and GaussianPolicy's from ``X @ W`` directly, so
      override ``log_prob`` there;
    - ``_fisher(X)``: the expected Fisher matrix of the natural gradient;
    - ``entropy`` and ``grad_entropy``; for the "gaussian" kind, ``mean`` and ``std``
      (a Gaussian policy is N(mean(x), diag(std(x)^2)); ``mean_bound_coef``, the bounds
      penalty, and the mirror (``linear_pg.symmetry``) work on ``W`` as the mean x W, so a
      class with another mean trains with ``mean_bound_coef=0``);
    - ``get_config()``: every setting of ``__init__``, since the trainer and checkpoints
      rebuild the policy with ``type(policy)(**policy.get_config())``.

    :func:`linear_pg.check_policy_class` checks that these agree with each other (``train``,
    ``resume`` and ``evaluate`` run it on any class that is not linear_pg's own), and
    :func:`linear_pg.check_grad_log_prob` checks the score against ``log_prob``. A
    checkpoint of your class loads with ``load_run(path, classes=[YourPolicy])``.
    """

    kind: str = "linear"

    def __init__(self, n_features: int, n_params: int) -> None:
        self.n_features = check_int(n_features, "n_features", low=1)
        self._theta = np.zeros(n_params, dtype=np.float64)

    # ------------------------------------------------------------------ parameters
    @property
    def theta(self) -> np.ndarray:
        """All parameters as one writable 1-D float64 vector (see the class for its layout)."""
        return self._theta

    @theta.setter
    def theta(self, value: object) -> None:
        arr = as_float_array(value, "theta")
        if arr.shape != self._theta.shape:
            raise ValueError(
                f"theta must have shape {self._theta.shape} for this {self.kind} policy, "
                f"got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError("theta must be finite, got NaN or inf")
        self._theta[...] = arr

    def _set_block(self, view: np.ndarray, value: object, name: str) -> None:
        """Copy ``value`` into the parameter view ``view`` (e.g. ``W``): same shape, finite.

        No broadcasting and no reshaping: a scalar, a transposed matrix or a flat vector
        given for a matrix is an error, not a silent rearrangement of the weights.
        """
        view[...] = check_shaped(value, view.shape, name)

    def parameter_blocks(self) -> list[tuple[str, slice]]:
        """Names and index ranges of the parameter groups inside ``theta``, in order."""
        return [("W", slice(0, self.n_params))]

    @property
    def n_params(self) -> int:
        """Number of parameters, ``theta.size``."""
        return self._theta.size

    def _init_weights(self, W: np.ndarray, init_scale: float, seed: SeedLike) -> None:
        """Fill the mean weights with ``init_scale`` times standard normal noise."""
        init_scale = check_real(init_scale, "init_scale", low=0.0)
        rng = as_generator(seed)
        if init_scale > 0:
            W[...] = init_scale * rng.standard_normal(W.shape)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild a policy of the same shape (not its theta)."""
        raise NotImplementedError(f"{type(self).__name__}.get_config(), the arguments that "
                                  f"rebuild it")

    def copy(self) -> LinearPolicy:
        """A deep copy: same configuration and parameters, independent memory."""
        clone = type(self)(**self.get_config())
        clone.theta = self.theta
        return clone

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ checks
    def _features(self, X: object) -> np.ndarray:
        return check_features(X, self.n_features, "X")

    def _rows(self, X: object) -> np.ndarray:
        """Checked features with at least one row (for averages over the rows)."""
        X = self._features(X)
        if X.shape[0] == 0:
            raise ValueError(f"X must have at least one row (T >= 1) to average over, "
                             f"got shape {X.shape}")
        return X

    def _rows_match(self, X: np.ndarray, A: np.ndarray) -> None:
        if A.shape[0] != X.shape[0]:
            raise ValueError(
                f"A must have one action per row of X: X has {X.shape[0]} rows, "
                f"A has {A.shape[0]}"
            )

    # ------------------------------------------------------------------ API
    # What every policy provides; each built-in class defines these from its own formulas
    # (check_policy_class reports a class that leaves one undefined).
    def log_prob(self, X: object, A: object) -> np.ndarray:  # pragma: no cover
        """log pi(A_t | X_t) for each row, shape (T,)."""
        raise NotImplementedError(f"{type(self).__name__}.log_prob(X, A), log pi(a | x) of "
                                  f"each row")

    def sample(self, X: object, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        """One action per row drawn from pi(. | X_t) with ``rng``: (T,) ints for a discrete
        policy, (T, action_dim) floats for a Gaussian."""
        raise NotImplementedError(f"{type(self).__name__}.sample(X, rng), one action per row "
                                  f"drawn with rng")

    def act(self, X: object) -> np.ndarray:  # pragma: no cover
        """The most likely action (discrete) or the mean (Gaussian) of each row."""
        raise NotImplementedError(f"{type(self).__name__}.act(X), the most likely action or "
                                  f"the mean of each row")

    def entropy(self, X: object) -> np.ndarray:  # pragma: no cover
        """The entropy of pi(. | X_t) for each row, shape (T,)."""
        raise NotImplementedError(f"{type(self).__name__}.entropy(X), the entropy of each "
                                  f"row's action distribution")

    def grad_entropy(self, X: object) -> np.ndarray:  # pragma: no cover
        """grad_theta H(pi(. | X_t)) for each row, shape (T, n_params)."""
        raise NotImplementedError(f"{type(self).__name__}.grad_entropy(X), the gradient of "
                                  f"each row's entropy")

    def score(self, X: object, A: object) -> np.ndarray:
        """Alias of :meth:`grad_log_prob`: the per-sample score, shape (T, n_params)."""
        return self.grad_log_prob(X, A)

    def grad_log_prob(self, X: object, A: object) -> np.ndarray:
        """The per-sample score grad_theta log pi(A_t | X_t), shape (T, n_params)."""
        X = self._features(X)
        A = self._check_actions(A, X.shape[0])
        return np.concatenate([row_outer(X, V) if times_x else V
                               for V, times_x in self._score_factors(X, A)], axis=1)

    def fisher(self, X: object) -> np.ndarray:
        """Fisher information at the states X: (1/T) sum_t E_{a ~ pi(.|x_t)}[s s^T].

        s = grad_theta log pi(a | x_t) is the score. :func:`linear_pg.optim.fisher` estimates
        the same matrix from the scores of the actions that were sampled, one per row; here
        the expectation over the action is taken in closed form (each subclass derives it),
        so the only randomness left is that of the states. Shape (n_params, n_params).
        """
        return self._fisher(self._rows(X))

    def _fisher(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__}._fisher(X), the expected Fisher "
                                  f"matrix of the natural gradient")

    def weighted_score_sum(self, X: object, A: object, weights: object) -> np.ndarray:
        """sum_t w_t grad_theta log pi(A_t | X_t), shape (n_params,), without the (T, P) scores.

        The same factors as :meth:`grad_log_prob`, contracted over the steps at once: a
        block x (outer) v_t summed with weights w_t is X^T (w * V), one (d, T) x (T, m)
        product instead of T outer products.
        """
        X = self._features(X)
        A = self._check_actions(A, X.shape[0])
        weights = check_vector(weights, X.shape[0], "weights")
        return self._weighted_score_sum(X, A, weights)

    def _weighted_score_sum(self, X: np.ndarray, A: np.ndarray, weights: np.ndarray
                            ) -> np.ndarray:
        """Unchecked :meth:`weighted_score_sum`, for arrays the library made itself."""
        return np.concatenate([(X.T @ (weights[:, None] * V)).ravel() if times_x
                               else weights @ V for V, times_x in self._score_factors(X, A)])

    def _score_factors(self, X: np.ndarray, A: np.ndarray
                       ) -> list[tuple[np.ndarray, bool]]:  # pragma: no cover
        """The score, block by block in theta's order, as (V, times_x) pairs.

        V has shape (T, m): the derivative of log pi with respect to the block's m linear
        outputs (logits, means, log-stds). ``times_x`` says whether the block is a weight
        matrix multiplying x (its score is then x (outer) v_t, the chain rule through
        z = x W) or a bias-like vector (its score is v_t itself).
        """
        raise NotImplementedError(f"{type(self).__name__}._score_factors(X, A), the score "
                                  f"block by block")

    def _check_actions(self, A: object, n_rows: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__}._check_actions(A, n_rows), the "
                                  f"actions checked and as an array")

    # Unchecked twins of sample / act for the rollout's per-step loop, where the features
    # come from the library itself (float64, shape (T, n_features)) and a validation per
    # environment step would cost more than the step.
    def _sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__}._sample(X, rng), the vector env's "
                                  f"sampler")

    def _act(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__}._act(X), evaluation's actions")

    # One-row twins for a single environment, where X has one row per step and the NumPy
    # call overhead on (1, d) arrays, not the arithmetic, is the cost. They draw from
    # ``rng`` exactly what ``_sample`` draws for one row (the same stream, so the same
    # seed gives the same episodes either way) and return the action ``_sample`` would:
    # a Python int for a discrete policy, an array (action_dim,) for a Gaussian one.
    def _sample_one(self, x: np.ndarray, rng: np.random.Generator) -> Any:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__}._sample_one(x, rng), the single "
                                  f"env's sampler")

    def _act_one(self, x: np.ndarray) -> Any:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__}._act_one(x), evaluation's action "
                                  f"in a single env")


def check_policy(policy: object) -> LinearPolicy:
    """``policy`` if it is a linear_pg policy, else a TypeError."""
    if not isinstance(policy, LinearPolicy):
        raise TypeError(f"policy must be a linear_pg policy (a LinearPolicy such as "
                        f"SoftmaxPolicy), got {type(policy).__name__}")
    return policy


def row_outer(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Per-row outer products x_t (outer) v_t, flattened in C order: shape (T, d * m).

    Entry [t, i * m + j] is X[t, i] * V[t, j], which matches ``W.ravel()`` for a weight
    matrix W of shape (d, m): the chain rule through z = x W turns a gradient v with
    respect to z into x (outer) v with respect to W.
    """
    T, d = X.shape
    return (X[:, :, None] * V[:, None, :]).reshape(T, d * V.shape[1])


def add_per_output(block: np.ndarray, Z: np.ndarray, weights: np.ndarray) -> None:
    """block[i m + j, u m + j] += sum_t Z_ti Z_tu weights_tj, in place (m = weights' columns).

    The Fisher block of a weight matrix V of shape (n, m) acting on inputs z, C-order in
    theta, when output j's score factor has E[v_j v_j'] = weights_j delta_jj': the
    outputs do not mix, so only the (i j, u j) entries are non-zero (the Gaussian's
    blocks; the diag(p) part of the softmax's). ``block`` is the matrix or a view of it
    (splitting its axes into (n, m) keeps it one).
    """
    n, m = Z.shape[1], weights.shape[1]
    view = block.reshape(n, m, n, m)
    for j in range(m):
        view[:, j, :, j] += (Z * weights[:, j:j + 1]).T @ Z


def check_discrete_actions(A: object, n_actions: int, n_rows: int) -> np.ndarray:
    """Actions of a discrete policy as an int64 vector of length ``n_rows`` in [0, n_actions).

    Floats are accepted only when they are whole numbers (1.0 is action 1, 0.5 is an error).
    """
    arr = as_rectangular_array(A, "A")
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise ValueError(
            f"A must be a 1-D array of {n_rows} integer actions (one per row of X), "
            f"got shape {shape_of(A)}"
        )
    kind = arr.dtype.kind                      # i/u: integers, f: floats, b: bool, ...
    if kind not in "iuf":
        raise TypeError(f"A must hold integer actions in [0, {n_actions}), got dtype {arr.dtype}")
    if kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(
                f"A must hold integer actions in [0, {n_actions}) for a discrete policy, "
                f"got non-integer value {arr[~np.isfinite(arr) | (arr != np.round(arr))][0]}"
            )
    if arr.size and (arr.min() < 0 or arr.max() >= n_actions):
        bad = arr[(arr < 0) | (arr >= n_actions)][0]
        raise ValueError(f"A must hold actions in [0, {n_actions}), got {bad}")
    return arr.astype(np.int64, copy=False)
