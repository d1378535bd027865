"""Finite-difference checks of the hand-derived gradients.

Every analytic gradient in linear_pg (the scores of the policies, the policy-gradient
estimate) is compared here with central differences of the function it differentiates.

How errors are judged (each entry's error relative to the size of its sample's whole
score) is :mod:`linear_pg.check_report`; how the derivatives are taken (the step and its
rounding, and one-sided differences at the kinks of the Gaussian policy's log-std clamp)
is :mod:`linear_pg.finite_diff`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import numpy.typing as npt

from ._validation import as_float_array, check_real
from .check_report import (
    DEFAULT_ABS_FLOOR,
    DEFAULT_TOL,
    CheckVerdict,
    GradCheckError,
    GradCheckReport,
    GradCheckRow,
    compare_gradients,
    relative_error,
    row_floor,
    with_hint,
)
from .estimator import average_divisor, policy_gradient, surrogate_loss
from .finite_diff import (
    DEFAULT_STEP,
    check_callable,
    check_theta,
    kink_aware_jacobian,
    numerical_gradient,
    numerical_jacobian,
)
from .policies.base import LinearPolicy, check_policy
from .policies.gaussian import GaussianPolicy

__all__ = [
    "CheckVerdict",
    "GradCheckError",
    "GradCheckReport",
    "GradCheckRow",
    "check_all_policies",
    "check_function",
    "check_grad_log_prob",
    "check_policy_gradient",
    "numerical_gradient",
    "numerical_jacobian",
    "relative_error",
]


# ---------------------------------------------------------------------- helpers
def returned_array(value: object, name: str) -> np.ndarray:
    """The float64 array a user's gradient function returned, or an error naming it."""
    return np.array(as_float_array(value, f"the return value of {name}"))


def _check_settings(tol: object, step: object, abs_floor: object) -> tuple[float, float, float]:
    return (check_real(tol, "tol", low=0.0, low_open=True),
            check_real(step, "step", low=0.0, low_open=True),
            check_real(abs_floor, "abs_floor", low=0.0, low_open=True))


def describe_policy(policy: LinearPolicy) -> str:
    """The policy's class and shape, without the initialization arguments."""
    config = {k: v for k, v in policy.get_config().items()
              if not k.startswith("init_") and k != "log_std_bounds"}
    return f"{type(policy).__name__}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


def as_function_of_theta(policy: LinearPolicy,
                         evaluate: Callable[[], object]) -> Callable[[np.ndarray], np.ndarray]:
    """Turn ``evaluate()`` (which reads ``policy.theta``) into a function of theta.

    The returned function sets ``policy.theta``, evaluates, and restores the previous
    parameters afterwards, also when ``evaluate`` raises.
    """
    def f(theta: np.ndarray) -> np.ndarray:
        saved = policy.theta.copy()
        policy.theta = theta
        try:
            return np.array(evaluate(), dtype=np.float64)
        finally:
            policy.theta = saved
    return f


# ---------------------------------------------------------------------- the log-std clamp
def _clamp_sides(policy: LinearPolicy, X: object, theta: np.ndarray,
                 step: float) -> np.ndarray | None:
    """Which difference to use for each (row t, parameter i): 0 central, +1 / -1 one-sided.

    Non-zero only for a Gaussian policy's log-std parameters, on rows whose raw log-std is
    within 2 h_i |d l / d theta_i| of a clamp bound (see :mod:`linear_pg.finite_diff`);
    None when there is no such entry.
    """
    if not isinstance(policy, GaussianPolicy) or policy.log_std_mode == "fixed":
        return None
    Xf = policy._features(X)
    raw = policy._raw_log_std(Xf)                              # (T, m), before the clamp
    lo, hi = policy.log_std_bounds
    free = (raw > lo) & (raw < hi)
    # the direction in which l must move to stay on the policy's piece of the function
    toward = np.where(free, np.sign(0.5 * (lo + hi) - raw), np.where(raw >= hi, 1.0, -1.0))
    h = step * np.maximum(1.0, np.abs(theta))
    T, d, m = Xf.shape[0], policy.n_features, policy.action_dim
    sides = np.zeros((T, policy.n_params), dtype=np.int64)
    columns = [(d * m + j, j, np.ones(T)) for j in range(m)]   # log_std[j]: dl_j = 1
    if policy.log_std_mode == "linear":                         # W_std[k, j]: dl_j = x_k
        columns += [(d * m + m + k * m + j, j, Xf[:, k]) for k in range(d) for j in range(m)]
    for i, j, slope in columns:
        reach = 2.0 * h[i] * np.abs(slope)
        near = (slope != 0) & ((raw[:, j] - lo <= reach) | (hi - raw[:, j] <= reach))
        sides[near, i] = (toward[near, j] * np.sign(slope[near])).astype(np.int64)
    return sides if sides.any() else None


def _count(sides: np.ndarray | None) -> int:
    return 0 if sides is None else int(np.count_nonzero(sides))


# ---------------------------------------------------------------------- the checks
def check_function(name: str, f: Callable[[np.ndarray], object],
                   grad: Callable[[np.ndarray], object], theta: object, *,
                   tol: float = DEFAULT_TOL, step: float = DEFAULT_STEP,
                   abs_floor: float = DEFAULT_ABS_FLOOR) -> GradCheckReport:
    """Compare ``grad(theta)`` with the central-difference derivative of ``f`` at ``theta``.

    Parameters
    ----------
    name : str
        Label of the report (and of its single row).
    f : callable
        Function of a flat vector; a scalar, or an array whose Jacobian ``grad`` returns.
    grad : callable
        The analytic derivative, shape ``np.shape(f(theta)) + (n,)``.
    theta : array of shape (n,)
        Point at which the two are compared; ``f`` and ``grad`` receive copies of it.
    tol, step, abs_floor : float
        Pass threshold, relative step and floor (see :mod:`linear_pg.check_report` and
        :mod:`linear_pg.finite_diff`).

    Returns
    -------
    GradCheckReport
        One row covering all of theta.

    Examples
    --------
    >>> import numpy as np
    >>> check_function("exp", lambda t: np.exp(t).sum(), np.exp, np.zeros(3)).passed
    True
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    check_callable(grad, "grad", "grad(theta)")
    tol, step, abs_floor = _check_settings(tol, step, abs_floor)
    theta = check_theta(theta)
    numeric = numerical_jacobian(f, theta, step)
    analytic = returned_array(grad(theta.copy()), "grad")
    report = compare_gradients(name, analytic, numeric, [(name, slice(None))], tol, step, abs_floor)
    report.advice = "check at a theta where the gradient is not ~0"
    return with_hint(report, None, analytic, numeric)


def check_grad_log_prob(policy: LinearPolicy, X: object, A: object, *,
                        tol: float = DEFAULT_TOL, step: float = DEFAULT_STEP,
                        abs_floor: float = DEFAULT_ABS_FLOOR,
                        score: Callable[..., object] | None = None) -> GradCheckReport:
    """Check the per-sample score against finite differences of ``policy.log_prob``.

    Parameters
    ----------
    policy : LinearPolicy
        Its ``theta`` is perturbed during the check and restored afterwards.
    X : array of shape (T, n_features)
        Features of the T samples, one per row.
    A : array of T actions
        One action per row of ``X``, as the policy samples them: (T,) for the discrete
        policies, (T, action_dim) for the Gaussian.
    tol, step, abs_floor : float
        Pass threshold, relative step and floor (see :mod:`linear_pg.check_report` and
        :mod:`linear_pg.finite_diff`).
    score : callable, optional
        The analytic score to check, called as ``score(policy, X, A)`` -> (T, n_params),
        its columns in the order of ``policy.theta``; default
        ``lambda policy, X, A: policy.grad_log_prob(X, A)``. Used to check a score of your
        own (read the policy's weights from ``policy``), or to show a wrong one failing.

    Returns
    -------
    GradCheckReport
        One row per block of ``policy.parameter_blocks()``; ``worst`` is (t, i).

    Notes
    -----
    Compares row t of the analytic score with d log pi(a_t | x_t) / d theta by central
    differences; the error of each row is relative to that row's largest entry.

    Examples
    --------
    >>> import numpy as np
    >>> from linear_pg import SoftmaxPolicy
    >>> pi = SoftmaxPolicy(2, 3, init_scale=1.0)
    >>> X = np.random.default_rng(0).normal(size=(5, 2))
    >>> check_grad_log_prob(pi, X, pi.sample(X, np.random.default_rng(1))).passed
    True
    """
    check_policy(policy)
    tol, step, abs_floor = _check_settings(tol, step, abs_floor)
    if score is None:
        returned: object = policy.grad_log_prob(X, A)
        label = f"{describe_policy(policy)}.grad_log_prob"
    else:
        check_callable(score, "score", "score(policy, X, A)")
        policy.log_prob(X, A)  # validate X and A with the policy's own messages
        returned = score(policy, X, A)
        label = f"{getattr(score, '__name__', 'score')} on {describe_policy(policy)}"
    analytic = returned_array(returned, "score")
    f = as_function_of_theta(policy, lambda: policy.log_prob(X, A))
    sides = _clamp_sides(policy, X, policy.theta, step)
    numeric = kink_aware_jacobian(f, policy.theta.copy(), step, sides)
    report = compare_gradients(label, analytic, numeric, policy.parameter_blocks(), tol, step,
                               abs_floor, _count(sides))
    report = with_hint(report, policy, analytic, numeric)
    if not report.passed and not report.hint and not report.nonfinite and report.tested:
        report.hint = _action_hint(policy, A, analytic, numeric, tol, abs_floor)
    return report


def _action_hint(policy: LinearPolicy, A: object, analytic: np.ndarray, numeric: np.ndarray,
                 tol: float, abs_floor: float) -> str:
    """For a discrete policy: a hint when the score fails at every sample of one action
    and passes at all the others, each seen at least twice (a score that does not use
    the action, such as the sigmoid score (1 - p) x, which is right for a = 1 only)."""
    if policy.kind == "gaussian":
        return ""
    actions = np.asarray(A).reshape(-1)
    if actions.size != analytic.shape[0]:
        return ""
    err = relative_error(analytic, numeric, row_floor(analytic, numeric, abs_floor))
    failed = np.max(np.where(np.isnan(err), np.inf, err), axis=-1) > tol
    wrong = np.unique(actions[failed])
    # every sample of that action fails, every other passes, and both kinds are seen twice
    if wrong.size != 1 or not np.array_equal(failed, actions == wrong[0]) or \
            min(failed.sum(), (~failed).sum()) < 2:
        return ""
    action = int(wrong[0]) if float(wrong[0]).is_integer() else wrong[0]
    return (f"it fails exactly at the {int(failed.sum())} of {actions.size} samples whose "
            f"action is {action}, and passes at the others: does your score use the action "
            f"taken?")


def check_policy_gradient(policy: LinearPolicy, X: object, A: object, weights: object,
                          lengths: object = None, average: str = "episodes", *,
                          tol: float = DEFAULT_TOL, step: float = DEFAULT_STEP,
                          abs_floor: float = DEFAULT_ABS_FLOOR,
                          gradient: Callable[..., object] | None = None) -> GradCheckReport:
    """Check the REINFORCE estimate against minus the numerical gradient of the surrogate loss.

    Parameters
    ----------
    policy, X, A, weights, lengths, average
        As for :func:`linear_pg.estimator.policy_gradient`.
    tol, step, abs_floor : float
        Pass threshold, relative step and floor (see :mod:`linear_pg.check_report` and
        :mod:`linear_pg.finite_diff`).
    gradient : callable, optional
        The ascent direction to check, called with the signature of ``policy_gradient``,
        ``gradient(policy, X, A, weights, lengths, average)`` -> (n_params,); default
        ``policy_gradient`` itself.

    Returns
    -------
    GradCheckReport
        One row per parameter block; ``worst`` is (i,).

    Notes
    -----
    With the weights held fixed, L(theta) = -(1/N) sum_t w_t log pi(a_t | x_t) has
    grad L = -g, so g must equal -dL/dtheta computed by central differences.

    Examples
    --------
    >>> import numpy as np
    >>> from linear_pg import BernoulliPolicy
    >>> pi = BernoulliPolicy(3, init_scale=0.5)
    >>> X = np.random.default_rng(0).normal(size=(6, 3))
    >>> A = pi.sample(X, np.random.default_rng(1))
    >>> check_policy_gradient(pi, X, A, np.arange(6.0), lengths=[2, 4]).passed
    True
    """
    check_policy(policy)
    tol, step, abs_floor = _check_settings(tol, step, abs_floor)
    if gradient is None:
        gradient = policy_gradient
    check_callable(gradient, "gradient", "gradient(policy, X, A, weights, lengths, average)")
    surrogate_loss(policy, X, A, weights, lengths, average)  # validate all inputs once
    analytic = returned_array(gradient(policy, X, A, weights, lengths, average), "gradient")
    sides = _clamp_sides(policy, X, policy.theta, step)
    if sides is None:
        f = as_function_of_theta(
            policy, lambda: surrogate_loss(policy, X, A, weights, lengths, average))
        numeric = -numerical_gradient(f, policy.theta, step)
    else:   # the surrogate's terms -w_t log pi(a_t | x_t) / N, each on its side of a kink
        w = np.asarray(weights, dtype=np.float64)
        n = average_divisor(w.size, lengths, average)
        terms = as_function_of_theta(policy, lambda: -w * policy.log_prob(X, A) / n)
        numeric = -kink_aware_jacobian(terms, policy.theta.copy(), step, sides).sum(axis=0)
    label = f"{getattr(gradient, '__name__', 'gradient')} on {describe_policy(policy)}"
    report = compare_gradients(label, analytic, numeric, policy.parameter_blocks(), tol, step,
                               abs_floor, _count(sides))
    n_steps = int(np.size(cast("npt.ArrayLike", weights)))   # surrogate_loss checked it
    n_episodes = average_divisor(n_steps, lengths, "episodes")
    expected = "the N episodes" if average == "episodes" else "the T steps"
    divisors = {"1": 1.0, "the N episodes": float(n_episodes), "the T steps": float(n_steps)}
    return with_hint(report, policy, analytic, numeric, (expected, divisors))


def check_all_policies(seed: int | np.random.Generator = 0, *, n_samples: int = 16,
                       tol: float = DEFAULT_TOL) -> list[GradCheckReport]:
    """Check the score of every policy kind at random parameters, features and actions.

    Builds a softmax policy (3 actions), a Bernoulli policy, and Gaussian policies with
    action_dim 2 and "vector" and "linear" log-std, sets random ``theta``, draws random
    features and actions sampled from each policy, and runs :func:`check_grad_log_prob`.

    Parameters
    ----------
    seed : int or np.random.Generator, default 0
        Source of the parameters, features and actions.
    n_samples : int >= 1, default 16
        Rows of features (and actions) per policy.
    tol : float, default 1e-6
        Pass threshold of each check (see :mod:`linear_pg.check_report`).

    Returns
    -------
    list of GradCheckReport
        One per policy, in the order above.

    Examples
    --------
    >>> all(report.passed for report in check_all_policies(seed=0))
    True
    """
    from ._validation import as_generator, check_int
    from .policies import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy

    rng = as_generator(seed)
    n_samples = check_int(n_samples, "n_samples", low=1)
    d = 4
    policies = [SoftmaxPolicy(d, 3), BernoulliPolicy(d),
                GaussianPolicy(d, 2, log_std_mode="vector"),
                GaussianPolicy(d, 2, log_std_mode="linear")]
    reports = []
    for policy in policies:
        policy.theta = 0.5 * rng.standard_normal(policy.n_params)
        X = rng.standard_normal((n_samples, d))
        A = policy.sample(X, rng)
        reports.append(check_grad_log_prob(policy, X, A, tol=tol))
    return reports
