"""Central differences of a function of theta: the numbers every analytic gradient is
checked against (:mod:`linear_pg.gradcheck`).

Choice of the step. The central difference

    D_i = (f(theta + h_i e_i) - f(theta - h_i e_i)) / (2 h_i) = df/dtheta_i + h_i^2 f''' / 6 + ...

has a truncation error of about h^2 |f'''| / 6. Each evaluation of f is also rounded, to
about eps |f| with eps = 2.2e-16 in float64, and the difference of two rounded values
divided by 2h carries a rounding error of about eps |f| / h. The total
h^2 |f'''| / 6 + eps |f| / h is smallest near h = (3 eps |f| / |f'''|)^(1/3), that is near
eps^(1/3) ~ 6e-6 for a function whose value and derivatives are O(1); there both terms are
about eps^(2/3) ~ 4e-11, so the default ``step=1e-5`` gives a relative error near 1e-10.

Why h_i grows with |theta_i|. Perturbations are measured in the units of the parameter:
h_i = step * max(1, |theta_i|). The float64 spacing near theta_i is eps |theta_i|; for a
large weight (logits of size 1e4 come from weights of that size) a fixed step of 1e-5 is
stored with a relative error of about 2e-7, and f, which is then itself of size 1e4, is
rounded by ~2e-12, which divided by h = 1e-5 leaves ~2e-7 of noise: the fixed step is
partly lost to rounding. A step proportional to |theta_i| keeps the relative perturbation
constant. The code also divides by the difference of the two perturbed values exactly as
stored, (theta_i + h_i) - (theta_i - h_i), not by the nominal 2 h_i.

The price of a relative step: perturbing w_i moves a logit z = x . w by step * |w_i x_i|.
Where two logits are within a few units of each other, log-softmax bends within that move
and the truncation error, relative to the score, is about (step |w_i x_i|)^2 / 6: 2e-8 for
|w_i x_i| ~ 50 but 2e-6 for |w_i x_i| ~ 500. Away from such near-ties (logits of size 1e4
are almost always thousands apart) log-softmax is linear over the move and the check is
exact to rounding; near one, lower ``step``.

Kinks: the Gaussian policy's log-std clamp. log sigma = clip(l, low, high) makes
log pi(a | x) a piecewise smooth function of theta, with a kink where the raw log-std l
equals a bound. The score is the derivative of the piece the policy is on: the free piece
for low < l < high, the clamped piece (derivative 0) for l <= low or l >= high, bound
included. Within 2 h of a kink a central difference straddles it and measures a mix of
the two pieces' slopes, the derivative of neither: at a log-std of 2.0 (the default
upper bound) it reported an error of 1.0 for a correct score. There, and only there, the
checks use instead the second-order one-sided difference

    D = -(a + b) / (a b) f(theta) + b / (a (b - a)) f(theta + a e_i)
        - a / (b (b - a)) f(theta + b e_i),

a = +-h_i and b = +-2 h_i (as stored), on the side that stays on the policy's piece:
toward the middle of [low, high] from a free point, away from it from a clamped one.
Its truncation error, about h^2 |f'''| / 3, is of the order of the central difference's,
so ``tol`` keeps its meaning; and a wrong score still fails (at the bound, a score that
is not 0 is compared with 0). The report says how many entries were checked this way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from ._validation import as_float_array, check_finite, check_real, describe

DEFAULT_STEP = 1e-5


def check_theta(theta: object) -> np.ndarray:
    arr = as_float_array(theta, "theta")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"theta must be a non-empty 1-D array, got shape {arr.shape}")
    return check_finite(arr, "theta").copy()


def check_callable(f: object, name: str, call: str | None = None) -> None:
    """``f`` is callable; with ``call`` (e.g. "score(policy, X, A)"), also with those arguments.

    A function that cannot take the arguments it will be called with is named here, with
    the call it must accept, instead of failing with Python's "takes 4 positional arguments
    but 6 were given" from inside the check.
    """
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")
    if call is None:
        return
    n_args = call.count(",") + 1
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):       # some builtins have none: let the call decide
        return
    try:
        signature.bind(*range(n_args))
    except TypeError:
        label = getattr(f, "__qualname__", type(f).__name__).rpartition("<locals>.")[2]
        empty = inspect.Parameter.empty
        signature = signature.replace(     # the names are what matters, not the annotations
            parameters=[q.replace(annotation=empty) for q in signature.parameters.values()],
            return_annotation=empty)
        raise TypeError(f"{name} is called as {call}, but {label}{signature} cannot take "
                        f"{n_args} positional arguments") from None


def numerical_jacobian(f: Callable[[np.ndarray], object], theta: object,
                       step: float = DEFAULT_STEP) -> np.ndarray:
    """Central-difference Jacobian of ``f`` at ``theta``, shape ``f(theta).shape + (n,)``.

    Parameters
    ----------
    f : callable
        Function of a flat float64 vector returning a scalar or an array. It receives a
        fresh copy of ``theta`` at every call; the caller's array is never modified.
    theta : array of shape (n,)
        Point of evaluation.
    step : float, default 1e-5
        Relative step: entry i is moved by h_i = step * max(1, |theta_i|). A step so small
        that theta_i +- h_i rounds back to theta_i (below about 2.2e-16, float64's
        relative spacing) is a ValueError, not a NaN derivative.

    Returns
    -------
    J : array of shape ``np.shape(f(theta)) + (n,)``
        ``J[..., i]`` approximates df / dtheta_i.

    Notes
    -----
    J[..., i] = (f(theta + h_i e_i) - f(theta - h_i e_i)) / ((theta_i + h_i) - (theta_i - h_i)),
    with error ~ h^2 |f'''| / 6 + eps |f| / h (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> J = numerical_jacobian(lambda t: t**2, np.array([1.0, 3.0]))
    >>> np.round(J, 6)
    array([[2., 0.],
           [0., 6.]])
    """
    check_callable(f, "f")
    theta = check_theta(theta)
    step = check_real(step, "step", low=0.0, low_open=True)
    h = step * np.maximum(1.0, np.abs(theta))
    _check_moves(theta, h, step)
    f0 = _output(f, theta.copy())
    J = np.empty(f0.shape + (theta.size,))
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += h[i]
        minus[i] -= h[i]
        width = plus[i] - minus[i]  # the step as stored, not the nominal 2 h_i
        J[..., i] = (_output(f, plus, f0.shape) - _output(f, minus, f0.shape)) / width
    return J


def _check_moves(theta: np.ndarray, h: np.ndarray, step: float) -> None:
    """ValueError if theta_i + h_i or theta_i - h_i rounds back to theta_i (a difference
    quotient 0 / 0, NaN) or overflows float64, naming step."""
    with np.errstate(over="ignore"):
        plus, minus = theta + h, theta - h
    stuck = (plus == theta) | (minus == theta)
    if stuck.any():
        i = int(np.flatnonzero(stuck)[0])
        raise ValueError(f"step={step:g} is too small to move theta[{i}] = {theta[i]:g}: "
                         f"theta[{i}] +- {h[i]:g} rounds back to it in float64 and the "
                         f"difference would be 0 / 0; step must be at least float64's "
                         f"relative spacing, {np.finfo(np.float64).eps:.2g} (the default is "
                         f"{DEFAULT_STEP:g})")
    over = ~(np.isfinite(plus) & np.isfinite(minus))
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise ValueError(f"step={step:g} moves theta[{i}] = {theta[i]:g} beyond float64's "
                         f"range (theta[{i}] +- {h[i]:g} overflows); use a smaller step")


def _output(f: Callable[[np.ndarray], object], theta: np.ndarray,
            shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``f(theta)`` as a float64 array (of ``shape``, when given), else a TypeError naming f
    (None or a string would become NaN or a bare NumPy error)."""
    value = f(theta)
    out = np.asarray(value)
    if out.dtype.kind not in "biuf":
        raise TypeError(f"f must return a real number or an array of them, got "
                        f"{describe(value)}")
    if shape is not None and out.shape != shape:
        raise ValueError(f"f must return outputs of one shape, got {out.shape} after {shape}")
    return out.astype(np.float64)


def numerical_gradient(f: Callable[[np.ndarray], object], theta: object,
                       step: float = DEFAULT_STEP) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``theta``, shape (n,).

    See :func:`numerical_jacobian`, of which this is the scalar case.

    Parameters
    ----------
    f : callable
        Function of a flat float64 vector returning a scalar. It receives a fresh copy of
        ``theta`` at every call; the caller's array is never modified.
    theta : array of shape (n,)
        Point of evaluation.
    step : float, default 1e-5
        Relative step: entry i is moved by h_i = step * max(1, |theta_i|).

    Returns
    -------
    g : array of shape (n,)
        ``g[i]`` approximates df / dtheta_i.

    Examples
    --------
    >>> import numpy as np
    >>> g = numerical_gradient(lambda t: float(t @ t), np.array([1.0, -2.0]))
    >>> np.round(g, 8)
    array([ 2., -4.])
    """
    J = numerical_jacobian(f, theta, step)
    if J.ndim != 1:
        raise ValueError(f"f must return a scalar for numerical_gradient, got output of shape "
                         f"{J.shape[:-1]}; use numerical_jacobian for array outputs")
    return J


def _one_sided_derivative(f: Callable[[np.ndarray], object], theta: np.ndarray, i: int,
                          h: float, side: int, f0: np.ndarray) -> np.ndarray:
    """Second-order one-sided difference of f along e_i from theta + side * (h, 2 h).

    The offsets a and b are taken as stored, as is the central difference's width.
    """
    near, far = theta.copy(), theta.copy()
    near[i] += side * h
    far[i] += 2 * side * h
    a, b = near[i] - theta[i], far[i] - theta[i]
    f_a = np.array(f(near), dtype=np.float64)
    f_b = np.array(f(far), dtype=np.float64)
    return -(a + b) / (a * b) * f0 + b / (a * (b - a)) * f_a - a / (b * (b - a)) * f_b


def kink_aware_jacobian(f: Callable[[np.ndarray], object], theta: np.ndarray, step: float,
                        sides: np.ndarray | None) -> np.ndarray:
    """:func:`numerical_jacobian` of a per-row f, shape (T, n), with one-sided differences
    where ``sides`` (T, n) says so and the central difference everywhere else."""
    J = numerical_jacobian(f, theta, step)
    if sides is None:
        return J
    h = step * np.maximum(1.0, np.abs(theta))
    f0 = np.array(f(theta.copy()), dtype=np.float64)
    for i in np.flatnonzero(sides.any(axis=0)):
        for side in (1, -1):
            rows = sides[:, i] == side
            if rows.any():
                D = _one_sided_derivative(f, theta, int(i), float(h[i]), side, f0)
                J[rows, i] = D[rows]
    return J
