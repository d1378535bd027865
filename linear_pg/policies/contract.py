"""What the trainer needs of a policy class of your own, and a check that it has it.

The trainer does not call only the public methods of a policy. The rollouts sample with
the unchecked twins ``_sample`` (a vector env: all sub-environments at once) and
``_sample_one`` (a single env: one row per step), evaluation acts with ``_act`` and
``_act_one``, the gradient is ``_weighted_score_sum`` (sum_t w_t score_t without the (T, P)
scores), the natural gradient's Fisher matrix is ``_fisher``, and every copy of a policy (the
trainer's, a checkpoint's) is rebuilt from ``get_config()``. The built-in classes define
these hooks from their own formulas, for speed. A subclass that changes the distribution
(a temperature, a fixed sigma, another mean) in ``log_prob`` and ``grad_log_prob`` only
would still be sampled and trained as its parent: :func:`check_policy_class` finds that
before training, and ``train``, ``resume`` and ``evaluate`` run it on every policy whose
class is not one of linear_pg's own.
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any, Protocol, cast

import numpy as np

from .._json import comparable
from .base import LinearPolicy, check_policy

KINDS = ("softmax", "bernoulli", "gaussian")
"""What ``policy.kind`` may be: the trainer fits the env's action space by it."""

_PUBLIC = ("sample", "log_prob", "grad_log_prob", "act", "entropy", "grad_entropy", "fisher")
LINEAR_POLICY_STUBS = {m: getattr(LinearPolicy, m)
                       for m in ("log_prob", "sample", "act", "entropy", "grad_entropy")}
"""LinearPolicy's placeholders of the API, which only raise NotImplementedError."""
_MAX_GAUSS_HERMITE_DIM = 3    # 3 ** action_dim quadrature nodes per row


class GaussianKind(Protocol):
    """What a policy of kind "gaussian" has besides LinearPolicy's API, as GaussianPolicy
    names it (:func:`check_policy_class` checks that ``mean`` and ``std`` are there)."""

    action_dim: int

    def mean(self, X: object) -> np.ndarray: ...

    def std(self, X: object) -> np.ndarray: ...


def as_gaussian(policy: LinearPolicy) -> GaussianKind:
    """``policy``, whose kind the caller found to be "gaussian", typed as such (no check)."""
    return cast(GaussianKind, policy)


class PolicyClassError(ValueError):
    """A policy class whose methods disagree with each other (see :func:`check_policy_class`)."""


def check_policy_class(policy: LinearPolicy, *, seed: int = 0, n_rows: int = 64,
                       fisher: bool = True) -> None:
    """Check that a policy of your own class is one the trainer can use; else raise.

    At a random theta (a deep copy of ``policy``; ``policy`` itself is not changed) and
    ``n_rows`` random feature rows, it checks:

    1. ``kind`` is one of ``"softmax"``, ``"bernoulli"``, ``"gaussian"``;
    2. ``type(policy)(**policy.get_config())`` with the same theta has the same
       ``log_prob`` and ``get_config()`` (the trainer and checkpoints rebuild policies so);
    3. ``log_prob`` is a distribution of its kind (a discrete one sums to 1 over the
       actions; a Gaussian one is the density of N(mean(x), diag(std(x)^2))) and
       ``entropy`` is that distribution's entropy;
    4. ``sample``, ``_sample`` and ``_sample_one`` (row by row) return actions of the
       right type and shape, draw them from the ``rng`` they are given (the same seed, the
       same draws), and what they draw, 1000 to 20000 times for each of 16 rows, has the
       frequencies (discrete) or the mean and standard deviation (Gaussian) of
       ``log_prob``'s distribution within 6 standard errors; ``act`` is the most likely
       action (discrete) or ``mean`` (Gaussian), and ``_act`` and ``_act_one`` give what
       ``act`` gives;
    5. ``grad_entropy`` is the derivative of ``entropy`` (finite differences along a
       random direction);
    6. ``_weighted_score_sum(X, A, w)`` equals ``grad_log_prob(X, A).T @ w``;
    7. ``fisher(X)`` equals the expectation of s s^T, s = ``grad_log_prob``, over the
       actions, in a random direction v (F v against E[s (s . v)]): summed over the
       actions of a discrete policy, by Gauss-Hermite quadrature (exact for the
       polynomials a Gaussian score gives) for a Gaussian of at most 3 action dimensions
       (larger ones are not checked).

    A ``grad_log_prob`` that is not the gradient of ``log_prob`` (along a random direction)
    is a RuntimeWarning, not an error: a score that is wrong on purpose (one of
    :mod:`linear_pg.bugs`, to watch it train) still trains; :func:`linear_pg.check_grad_log_prob`
    shows where it differs.

    Parameters
    ----------
    policy : LinearPolicy
        The policy to check, usually an instance of your own subclass.
    seed : int, default 0
        Seed of the random theta, feature rows, actions and weights.
    n_rows : int, default 64
        Number of random feature rows.
    fisher : bool, default True
        Check ``fisher`` too (point 7), which builds a (P, P) matrix. ``train``, ``resume``
        and ``evaluate`` check it only for the natural gradient with the policy's own
        Fisher matrix (``fisher="expected"``), the one update that uses it.

    Raises
    ------
    PolicyClassError
        (a ValueError) naming the first method that disagrees, and what to override.
    TypeError
        If ``policy`` is not a LinearPolicy.

    Examples
    --------
    A softmax with a temperature of 2, written in the two hooks that the base class builds
    ``log_prob`` and ``grad_log_prob`` from, but still sampled by SoftmaxPolicy's own
    ``_sample``, which computes softmax(x W):

    >>> from linear_pg import SoftmaxPolicy
    >>> from linear_pg.policies.softmax import log_softmax, softmax
    >>> class Tempered(SoftmaxPolicy):
    ...     def _log_probs(self, X):
    ...         return log_softmax(X @ self.W / 2)
    ...     def _score_factors(self, X, A):
    ...         e_a = A[:, None] == np.arange(self.n_actions)
    ...         return [((e_a - softmax(X @ self.W / 2)) / 2, True)]
    >>> check_policy_class(Tempered(3, 2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    linear_pg.policies.contract.PolicyClassError: Tempered: sample (the public sampler) draws ...
    """
    check_policy(policy)
    name = type(policy).__name__
    kind = getattr(policy, "kind", None)
    if kind not in KINDS:
        raise PolicyClassError(
            f"{name}.kind must be one of {KINDS}, the kind of distribution it is (the trainer "
            f"fits the env's action space by it), got {kind!r}; subclassing SoftmaxPolicy, "
            f"BernoulliPolicy or GaussianPolicy sets it")
    needed = _PUBLIC + (("mean", "std") if kind == "gaussian" else ())
    missing = [m for m in needed if not callable(getattr(policy, m, None))
               or getattr(type(policy), m, None) is LINEAR_POLICY_STUBS.get(m)]
    if missing:
        raise PolicyClassError(f"{name} has no method {', '.join(missing)}: a policy needs "
                               f"{', '.join(needed)} (LinearPolicy's docstring)")
    probe, X, rng = _probe(policy, seed, n_rows)
    _hook(name, "get_config", lambda: _check_rebuilt(probe, X, rng))
    _hook(name, "log_prob", lambda: _check_distribution(probe, X, rng))
    _hook(name, "the samplers", lambda: _check_sampling(probe, X, seed))
    _hook(name, "act", lambda: _check_acting(probe, X))
    A = probe.sample(X, np.random.default_rng(seed))
    v = rng.standard_normal(probe.n_params)
    _hook(name, "grad_entropy", lambda: _check_entropy_gradient(probe, X, v))
    _hook(name, "grad_log_prob", lambda: _warn_if_score_is_not_the_gradient(probe, X, A, v))
    w = rng.standard_normal(n_rows)
    _hook(name, "_weighted_score_sum", lambda: _agree(
        name, "_weighted_score_sum(X, A, w)", probe._weighted_score_sum(X, A, w),
        "grad_log_prob(X, A).T @ w", probe.grad_log_prob(X, A).T @ w,
        "the gradient is computed with _weighted_score_sum: override it"
        + _own_formula(probe, "_weighted_score_sum")
        + "; LinearPolicy's builds it from _score_factors, as grad_log_prob is built"))
    if fisher:
        _hook(name, "fisher", lambda: _check_fisher(probe, X,
                                                    rng.standard_normal(probe.n_params)))


def check_policy_fisher(policy: LinearPolicy, *, seed: int = 0, n_rows: int = 64) -> None:
    """Point 7 of :func:`check_policy_class` alone: ``fisher(X)`` against E_a[s s^T]."""
    check_policy(policy)
    probe, X, rng = _probe(policy, seed, n_rows)
    _hook(type(policy).__name__, "fisher",
          lambda: _check_fisher(probe, X, rng.standard_normal(probe.n_params)))


def _probe(policy: LinearPolicy, seed: int, n_rows: int
           ) -> tuple[LinearPolicy, np.ndarray, np.random.Generator]:
    """A deep copy of ``policy`` at a random theta, ``n_rows`` random feature rows, and the
    generator that drew them (for the checks' further draws)."""
    rng = np.random.default_rng(seed)
    probe = copy.deepcopy(policy)
    probe.theta = rng.standard_normal(probe.n_params) / np.sqrt(probe.n_features)
    return probe, rng.standard_normal((n_rows, probe.n_features)), rng


def _hook(name: str, method: str, check: Callable[[], Any]) -> Any:
    """``check()``, with a method left unimplemented named in a PolicyClassError."""
    try:
        return check()
    except NotImplementedError as err:
        missing = str(err) or "a method the trainer calls"
        raise PolicyClassError(
            f"{name} does not implement {missing} (found while checking {method}): "
            f"LinearPolicy's docstring lists what a policy class needs; subclassing "
            f"SoftmaxPolicy, BernoulliPolicy or GaussianPolicy gives it all") from err


def _agree(name: str, what: str, value: object, reference_name: str, reference: object,
           advice: str, exact: bool = False, tol: float = 1e-8) -> None:
    value, reference = np.asarray(value, dtype=np.float64), np.asarray(reference, np.float64)
    if value.shape == reference.shape:
        gap = np.abs(value - reference)
        scale = max(1.0, float(np.max(np.abs(reference), initial=0.0)))
        if (np.all(gap == 0) if exact else np.all(gap <= tol * scale)):
            return
        shown = f"largest difference {np.max(gap):.3g}"
    else:
        shown = f"shape {value.shape} against {reference.shape}"
    raise PolicyClassError(f"{name}: {what} disagrees with {reference_name} ({shown}); "
                           f"{advice}")


def _check_rebuilt(probe: LinearPolicy, X: np.ndarray, rng: np.random.Generator) -> None:
    name = type(probe).__name__
    config = probe.get_config()
    try:
        rebuilt = type(probe)(**config)
    except TypeError as err:
        raise PolicyClassError(
            f"{name}.get_config() does not rebuild it: {name}(**get_config()) fails ({err}). "
            f"get_config() must return the arguments of {name}.__init__, every setting "
            f"(it may have to be overridden with the parent's)") from err
    rebuilt.theta = probe.theta
    A = probe.sample(X, rng)
    same_config = comparable(rebuilt.get_config()) == comparable(probe.get_config())
    if not same_config or not np.allclose(rebuilt.log_prob(X, A), probe.log_prob(X, A),
                                          rtol=1e-12, atol=1e-12):
        raise PolicyClassError(
            f"{name}.get_config() does not rebuild it: {name}(**get_config()) with the same "
            f"theta has {'another config' if not same_config else 'other log-probabilities'}. "
            f"The trainer and checkpoints rebuild a policy so: every setting that __init__ "
            f"takes, and any state kept outside theta, must be in get_config()")


def _check_distribution(probe: LinearPolicy, X: np.ndarray, rng: np.random.Generator) -> None:
    name = type(probe).__name__
    if probe.kind == "gaussian":
        A = probe.sample(X, rng)
        gauss = as_gaussian(probe)
        mu, sigma = gauss.mean(X), gauss.std(X)
        density = -0.5 * (((A - mu) / sigma) ** 2 + np.log(2 * np.pi * sigma**2)).sum(axis=1)
        _agree(name, "log_prob(X, A)", probe.log_prob(X, A),
               "the Gaussian density with mean(X) and std(X)", density,
               "a policy of kind 'gaussian' is N(mean(x), diag(std(x)^2)); override mean and "
               "std with log_prob, or choose another kind")
        entropy = (np.log(sigma) + 0.5 * np.log(2 * np.pi * np.e)).sum(axis=1)
    else:
        P = np.exp(_all_log_probs(probe, X))
        _agree(name, "the sum of exp(log_prob) over the actions", P.sum(axis=1),
               "1", np.ones(X.shape[0]), "log_prob must be a normalized distribution")
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1)
    _agree(name, "entropy(X)", probe.entropy(X), "the entropy of log_prob's distribution",
           entropy, "the history's entropy and the entropy bonus use entropy and "
           "grad_entropy: override them too")


def _n_actions(probe: LinearPolicy) -> int:
    if probe.kind == "bernoulli":
        return 2
    n_actions = getattr(probe, "n_actions", None)
    if not isinstance(n_actions, int | np.integer):
        raise PolicyClassError(f"{type(probe).__name__} is of kind 'softmax' and needs an int "
                               f"attribute n_actions, its number of actions")
    return int(n_actions)


def _all_log_probs(probe: LinearPolicy, X: np.ndarray) -> np.ndarray:
    """log pi(a | x_t) for every action a, shape (T, n_actions)."""
    T = X.shape[0]
    return np.stack([probe.log_prob(X, np.full(T, a)) for a in range(_n_actions(probe))],
                    axis=1)


_SAMPLERS = {"sample": "the public sampler", "_sample": "the vector env's sampler",
             "_sample_one": "the single env's sampler, row by row"}


def _check_sampling(probe: LinearPolicy, X: np.ndarray, seed: int) -> None:
    """Each sampler: the actions' type and shape, the same draws from the same seed, and
    its draws against log_prob's distribution. The built-in classes also draw the same
    stream in all three (the same seed gives the same episodes in either env); a class of
    your own need not."""
    for method in _SAMPLERS:
        first = _draws(probe, method, X, np.random.default_rng(seed))
        if not np.array_equal(first, _draws(probe, method, X, np.random.default_rng(seed))):
            raise PolicyClassError(
                f"{type(probe).__name__}.{method} ({_SAMPLERS[method]}) draws other actions "
                f"from the same seed: it must draw from the rng it is given (not np.random or "
                f"another generator), so that the same seed gives the same episodes")
        _check_distribution_of_draws(probe, method, X[:16], seed)


def _draws(probe: LinearPolicy, method: str, X: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    """What sampler ``method`` draws for the rows of X, its type and shape checked."""
    if method == "_sample_one":
        return np.array([_one_action(probe, probe._sample_one(x, rng), method) for x in X])
    A = getattr(probe, method)(X, rng)
    shape = (X.shape[0],) if probe.kind != "gaussian" else \
        (X.shape[0], as_gaussian(probe).action_dim)
    if not isinstance(A, np.ndarray) or A.shape != shape:
        raise PolicyClassError(f"{type(probe).__name__}.{method}(X, rng) must return an array "
                               f"of shape {shape} (one action per row), got {_what(A)}")
    return A


def _one_action(probe: LinearPolicy, a: object, method: str) -> Any:
    """One row's action as the rollout hands it to the env: an int, or (action_dim,)."""
    if probe.kind == "gaussian":
        m = as_gaussian(probe).action_dim
        if isinstance(a, np.ndarray) and a.shape == (m,):
            return a
        expected = f"an array of shape ({m},)"
    else:
        if isinstance(a, int | np.integer) and not isinstance(a, bool):
            return a
        expected = "an int"
    raise PolicyClassError(f"{type(probe).__name__}.{method}(x, ...) must return one action "
                           f"for the one row x, {expected}, as the env takes it; got "
                           f"{_what(a)}")


def _what(value: object) -> str:
    shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
    return f"{type(value).__name__}{shape}"


def _check_acting(probe: LinearPolicy, X: np.ndarray) -> None:
    """act: the most likely action (discrete) or the mean (Gaussian); _act and _act_one
    the same."""
    name = type(probe).__name__
    acted = probe.act(X)
    if probe.kind == "gaussian":
        _agree(name, "act(X)", acted, "mean(X)", as_gaussian(probe).mean(X),
               "evaluation takes the mean action: act must return mean(x)")
    else:
        P = np.exp(_all_log_probs(probe, X))
        A = np.asarray(acted)
        if A.shape != (X.shape[0],) or not np.all(np.isin(A, np.arange(P.shape[1]))):
            raise PolicyClassError(f"{name}.act(X) must return one action in "
                                   f"[0, {P.shape[1]}) per row, got {_what(acted)}")
        chosen = P[np.arange(X.shape[0]), A.astype(np.int64)]
        _agree(name, "the probability of act(X)'s actions", chosen,
               "the largest probability of each row", P.max(axis=1),
               "evaluation takes the most likely action: act must return an argmax of "
               "log_prob over the actions")
    exact = probe.kind != "gaussian"           # a one-row product may round differently
    _agree(name, "_act", probe._act(X), "act", acted,
           "evaluation acts with _act and _act_one: override them as you did act", exact)
    one = np.array([_one_action(probe, probe._act_one(x), "_act_one") for x in X])
    _agree(name, "_act_one row by row", one, "act", acted,
           "evaluation acts with _act and _act_one: override them as you did act", exact)


def _check_distribution_of_draws(probe: LinearPolicy, method: str, X: np.ndarray,
                                 seed: int) -> None:
    """What sampler ``method`` draws, n times per row, against ``log_prob``'s distribution.

    Gaussian: a mean or standard deviation more than 6 standard errors from its value is
    an error. Discrete: the same for the frequency of each action expected at least 10
    times (n p (1 - p) >= 10); the rarer actions of a row are pooled and their count
    tested against its Poisson distribution (a tail below 1e-9, as 6 standard errors).
    By chance, either fails well under once in a million checks. n is 1000 for
    ``_sample_one`` (a Python call per draw), else as many as fit in about 4 million
    feature entries (20000 at most), so that small differences show; the draws are made
    a block at a time, so that memory stays near 4 million entries whatever the size of x.
    """
    name = type(probe).__name__
    T, d = X.shape
    n = 1000 if method == "_sample_one" else int(np.clip(4e6 / (T * d), 1000, 20000))
    rng = np.random.default_rng(seed + 1)
    block = max(1, min(n, int(4e6 // d)))
    draws = np.stack([np.concatenate([
        _draws(probe, method, np.repeat(X[t:t + 1], min(block, n - k), axis=0), rng)
        for k in range(0, n, block)]) for t in range(T)])     # (T, n) or (T, n, m)
    if probe.kind == "gaussian":
        draws = np.asarray(draws, np.float64).reshape(T, n, -1)
        gauss = as_gaussian(probe)
        mu, sigma = gauss.mean(X), gauss.std(X)
        z_mean = (draws.mean(axis=1) - mu) / (sigma / np.sqrt(n))
        z_std = (draws.std(axis=1, ddof=1) - sigma) / (sigma / np.sqrt(2 * (n - 1)))
        off = max(np.max(np.abs(z_mean)), np.max(np.abs(z_std))) > 6.0
        what = "the mean and standard deviation of its draws are more than 6 standard errors"
    else:
        P = np.exp(_all_log_probs(probe, X))
        counts = (draws[:, :, None] == np.arange(P.shape[1])).sum(axis=1)
        off = _counts_off(counts, P, n)
        what = "the frequencies of its actions are too far"
    if off:
        raise PolicyClassError(
            f"{name}: {method} ({_SAMPLERS[method]}) draws from another distribution than "
            f"log_prob ({what} from log_prob's, over {n} draws per row); the rollouts sample "
            f"with _sample and _sample_one, and the built-in sample calls _sample: override "
            f"them to draw from it")


def _counts_off(counts: np.ndarray, P: np.ndarray, n: int) -> bool:
    """Whether the action counts (T, k) of n draws per row are too far from n P: a z of 6
    for the actions expected often, a Poisson tail of 1e-9 for the rarer ones, pooled."""
    often = n * P * (1 - P) >= 10
    z = np.abs(counts - n * P) / np.sqrt(np.where(often, n * P * (1 - P), 1.0))
    if np.any(z[often] > 6.0):
        return True
    for t in range(P.shape[0]):
        rare = ~often[t]
        if rare.any() and _poisson_tail(int(counts[t, rare].sum()),
                                        n * float(P[t, rare].sum())) < 1e-9:
            return True
    return False


def _poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) if observed > expected, else P(X <= observed), X ~ Poisson."""
    if expected <= 0.0:
        return 1.0 if observed == 0 else 0.0

    def pmf(k: int) -> float:
        return math.exp(k * math.log(expected) - expected - math.lgamma(k + 1))

    if observed <= expected:
        return min(1.0, sum(pmf(k) for k in range(observed + 1)))
    total, k = 0.0, observed          # the terms fall from here on: sum until they vanish
    while True:
        term = pmf(k)
        total += term
        if term < 1e-17 * total:
            return total
        k += 1


def _directional(f: Callable[[], np.ndarray], probe: LinearPolicy, v: np.ndarray,
                 h: float = 1e-6) -> np.ndarray:
    """(f(theta + h v) - f(theta - h v)) / 2h: the derivative of f along v, per row."""
    theta = probe.theta.copy()
    try:
        probe.theta = theta + h * v
        plus = f()
        probe.theta = theta - h * v
        minus = f()
    finally:
        probe.theta = theta
    return (plus - minus) / (2 * h)


def _check_entropy_gradient(probe: LinearPolicy, X: np.ndarray, v: np.ndarray) -> None:
    name = type(probe).__name__
    numeric = _directional(lambda: probe.entropy(X), probe, v)
    _agree(name, "grad_entropy(X) @ v", probe.grad_entropy(X) @ v,
           "the derivative of entropy(X) along v (finite differences)", numeric,
           "the entropy bonus (entropy_coef) follows grad_entropy: override it as you did "
           "entropy", tol=1e-6)


def _warn_if_score_is_not_the_gradient(probe: LinearPolicy, X: np.ndarray, A: np.ndarray,
                                       v: np.ndarray) -> None:
    """A warning, not an error: a score that is wrong on purpose (a classic bug, to watch it
    train) is the user's to train with."""
    numeric = _directional(lambda: probe.log_prob(X, A), probe, v)
    analytic = probe.grad_log_prob(X, A) @ v
    scale = max(1.0, float(np.max(np.abs(numeric))))
    if not np.all(np.abs(analytic - numeric) <= 1e-6 * scale):
        warnings.warn(
            f"{type(probe).__name__}.grad_log_prob is not the gradient of its log_prob (along "
            f"a random direction, largest difference {np.max(np.abs(analytic - numeric)):.3g}"
            f"); training follows grad_log_prob: check_grad_log_prob(policy, X, A) shows "
            f"where they differ", RuntimeWarning, stacklevel=5)   # check_policy_class's caller


def _check_fisher(probe: LinearPolicy, X: np.ndarray, v: np.ndarray) -> None:
    """fisher(X) v against E_a[s (s . v)], averaged over the rows: F in the direction v,
    without a second (P, P) matrix."""
    name = type(probe).__name__
    T = X.shape[0]
    expected = np.zeros(probe.n_params)
    if probe.kind == "gaussian":
        gauss = as_gaussian(probe)
        m = gauss.action_dim
        if m > _MAX_GAUSS_HERMITE_DIM:
            return
        nodes, weights = np.polynomial.hermite_e.hermegauss(3)     # for N(0, 1), x 1/sqrt(2 pi)
        weights = weights / weights.sum()
        mu, sigma = gauss.mean(X), gauss.std(X)
        for idx in itertools.product(range(3), repeat=m):
            S = probe.grad_log_prob(X, mu + sigma * nodes[list(idx)])
            expected += np.prod(weights[list(idx)]) * (S.T @ (S @ v))
    else:
        P = np.exp(_all_log_probs(probe, X))
        for a in range(_n_actions(probe)):
            S = probe.grad_log_prob(X, np.full(T, a))
            expected += S.T @ (P[:, a] * (S @ v))
    _agree(name, "fisher(X) @ v", probe.fisher(X) @ v, "the mean over X of E_a[s (s . v)] "
           "with s = grad_log_prob", expected / T,
           "the natural gradient uses fisher (through _fisher): override _fisher as you "
           "did the score" + _own_formula(probe, "_fisher"))


def _own_formula(probe: LinearPolicy, method: str) -> str:
    """Which parent class's own ``method`` the policy inherits, if any, for a message."""
    owner = next(c for c in type(probe).__mro__ if method in vars(c))
    if owner is type(probe) or owner is LinearPolicy:
        return ""
    return f" ({owner.__name__}'s own {method} is its formula, for speed)"
