"""Finite-difference checks of the hand-derived gradients.

Every analytic gradient in linear_pg (the scores of the policies, the policy-gradient
estimate) is compared here with central differences of the function it differentiates.

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

How errors are judged. The error of entry i of sample t is

    err_ti = |a_ti - n_ti| / floor_t,   floor_t = max(abs_floor, max_j |a_tj|, max_j |n_tj|),

with a the analytic and n the numerical Jacobian: the error is relative to the size of that
sample's whole score, not to the entry itself. An entry that should be 0 would otherwise be
judged by its own tiny size: with logits ~1e4 the numerical derivative carries rounding
noise of ~1e-7, which on an entry whose true value is ~1e-3 is a "relative error" of 1e-4
although the score as a whole is right to 1e-10. Measured against the largest entry of the
row, the same noise is ~1e-11 and the measure stays meaningful; a wrong formula still shows
an error of order 1. For a gradient vector (one row) the floor is the vector's largest entry.
``abs_floor`` (default 1e-3) is the scale below which a row is judged by absolute error:
scores smaller than that are compared to tol * abs_floor.

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
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_float_array, check_finite, check_real, describe
from .estimator import _divisor, policy_gradient, surrogate_loss
from .policies.base import LinearPolicy, check_policy
from .policies.gaussian import GaussianPolicy

DEFAULT_STEP = 1e-5
DEFAULT_TOL = 1e-6
DEFAULT_ABS_FLOOR = 1e-3

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


# ---------------------------------------------------------------------- finite differences
def _check_theta(theta: object) -> np.ndarray:
    arr = as_float_array(theta, "theta")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"theta must be a non-empty 1-D array, got shape {arr.shape}")
    return check_finite(arr, "theta").copy()


def _check_callable(f: object, name: str, call: str | None = None) -> None:
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


def _analytic(value: object, name: str) -> np.ndarray:
    """The float64 array a user's gradient function returned, or an error naming it."""
    return np.array(as_float_array(value, f"the return value of {name}"))


def theta_layout(blocks: list[tuple[str, slice]], n_params: int) -> str:
    """The blocks of theta in order with their sizes, e.g. "W (2), then log_std (1)"."""
    return ", then ".join(f"{block} ({np.arange(n_params)[sl].size})" for block, sl in blocks)


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
    _check_callable(f, "f")
    theta = _check_theta(theta)
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


def relative_error(analytic: object, numeric: object, floor: object = 0.0) -> np.ndarray:
    """Elementwise |a - n| / max(|a|, |n|, floor).

    Parameters
    ----------
    analytic, numeric : array-like of the same shape
    floor : float or array broadcastable to that shape, default 0.0
        Lower bound on the denominator; where a value is smaller than ``floor`` the error
        is in effect absolute, |a - n| / floor. Where a, n and floor are all 0 the error is 0.

    Returns
    -------
    err : array of the broadcast shape

    Examples
    --------
    >>> relative_error([1.0, 0.0, 1e-12], [1.5, 0.0, 2e-12])
    array([0.33333333, 0.        , 0.5       ])
    >>> float(relative_error(1e-12, 2e-12, floor=1e-6))
    1e-06
    """
    a = as_float_array(analytic, "analytic")
    n = as_float_array(numeric, "numeric")
    if a.shape != n.shape:
        raise ValueError(f"analytic and numeric must have the same shape, got {a.shape} "
                         f"and {n.shape}")
    fl = as_float_array(floor, "floor")
    try:
        fits = fl.size > 0 and np.broadcast_shapes(fl.shape, a.shape) == a.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"floor must be a number or an array broadcastable to shape "
                         f"{a.shape}, got shape {fl.shape}")
    if np.any(fl < 0) or np.any(np.isnan(fl)):
        raise ValueError(f"floor must be >= 0, got {fl.min()}")
    denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), fl)
    diff = np.abs(a - n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, diff / np.where(denom > 0, denom, 1.0), diff)


def _row_floor(analytic: np.ndarray, numeric: np.ndarray, abs_floor: float) -> np.ndarray:
    """floor_t = max(abs_floor, max_i |a_ti|, max_i |n_ti|) over the last axis, kept as (..., 1)."""
    # fmax ignores NaN: a NaN entry fails through its own error, not through the floor
    size = np.fmax(np.fmax.reduce(np.abs(analytic), axis=-1, keepdims=True),
                   np.fmax.reduce(np.abs(numeric), axis=-1, keepdims=True))
    return np.fmax(size, abs_floor)


# ---------------------------------------------------------------------- the report
def format_table(header: tuple[str, ...], body: list[tuple[str, ...]]) -> list[str]:
    """Lines of a plain-text table; the columns between the first and the last two are
    numbers, aligned right."""
    widths = [max(len(line[j]) for line in [header, *body]) for j in range(len(header))]
    right = range(1, len(header) - 2)

    def fmt(line: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if j in right else c.ljust(w)
                 for j, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return [fmt(header), *(fmt(b) for b in body)]


class GradCheckError(AssertionError):
    """Raised by :meth:`GradCheckReport.raise_if_failed`; its message is the report table."""


@dataclass(frozen=True)
class GradCheckRow:
    """The result for one parameter block.

    ``worst`` indexes the largest error in the compared array: (sample t, parameter i) for a
    per-sample Jacobian, (i,) for a gradient vector; i is the position in the whole
    ``theta``, not within the block.
    """

    block: str
    size: int
    max_abs: float
    max_error: float
    worst: tuple[int, ...]
    passed: bool


UNTESTED_POLICY_ADVICE = ("use inputs where the gradient is not ~0 (smaller logits, "
                          "nonzero features and weights)")


class CheckVerdict:
    """What the reports of the checks share: rows, truthiness and "nothing was tested".

    A report holds ``rows`` (one :class:`GradCheckRow` per parameter block), ``scale`` (the
    largest absolute entry compared) and ``nonfinite`` (where a NaN or inf was met, if
    anywhere); ``untested_scale`` is the scale at or below which the check passes any
    input, so that it tested nothing.
    """

    rows: list[GradCheckRow]
    scale: float
    nonfinite: str
    advice: str = UNTESTED_POLICY_ADVICE
    """What to do when nothing was tested."""

    @property
    def untested_scale(self) -> float:  # pragma: no cover - each report defines it
        raise NotImplementedError

    @property
    def tested(self) -> bool:
        """False when every entry compared is so small that any entries of that size
        would pass: at saturated inputs (logits of hundreds, where the sampled actions'
        scores are ~1e-50) or all-zero weights."""
        return bool(self.scale > self.untested_scale)

    def _status(self, row: GradCheckRow) -> str:
        """A row's status in the table: "untested" when nothing was (its error proves
        nothing), else ok or FAIL."""
        if not self.tested and not self.nonfinite:
            return "untested"
        return "ok" if row.passed else "FAIL"

    @property
    def passed(self) -> bool:
        """True when the check tested something, met no NaN or inf, and every block's
        statistic is within its threshold."""
        return not self.nonfinite and self.tested and all(r.passed for r in self.rows)

    def __bool__(self) -> bool:
        """:attr:`passed`, so that ``assert check_grad_log_prob(...)`` fails on a wrong score."""
        return self.passed

    @property
    def _worst_row(self) -> GradCheckRow:
        return max(self.rows, key=lambda r: np.inf if np.isnan(r.max_error) else r.max_error)

    @property
    def max_error(self) -> float:
        """The largest statistic over all blocks (NaN if any was NaN)."""
        return self._worst_row.max_error

    @property
    def worst(self) -> tuple[str, tuple[int, ...]]:
        """(block name, index) of the largest statistic."""
        row = self._worst_row
        return row.block, row.worst

    def _verdict(self, statistic: str, threshold: str, too_small: str) -> str:
        """The last line of the table: PASS or FAIL, and why."""
        if self.nonfinite:
            return f"FAIL: {self.nonfinite}"
        if not self.tested:
            return (f"FAIL: nothing was tested: every entry is at most {self.scale:.2e} "
                    f"({too_small}), so any entries that small would pass; {self.advice}")
        relation = "<=" if self.passed else ">"
        return (f"{'PASS' if self.passed else 'FAIL'}: {statistic} {self.max_error:.2e} "
                f"{relation} {threshold}")

    def raise_if_failed(self) -> CheckVerdict:
        """Raise :class:`GradCheckError` (an AssertionError) with the table if it failed."""
        if not self.passed:
            raise GradCheckError("\n" + str(self))
        return self


@dataclass
class GradCheckReport(CheckVerdict):
    """Outcome of a gradient check: one :class:`GradCheckRow` per parameter block.

    The report is truthy only when the check passed, so ``assert check_grad_log_prob(...)``
    fails on a wrong score; ``raise_if_failed()`` raises with the table as the message.

    Attributes
    ----------
    name : str
        What was checked.
    tol : float
        Largest relative error (see the module docstring) that passes.
    rows : list of GradCheckRow
    step : float
        The relative finite-difference step that was used.

    Examples
    --------
    >>> import numpy as np
    >>> rep = check_function("x^2", lambda t: float(t @ t), lambda t: 2 * t, np.ones(2))
    >>> rep.passed, bool(rep)
    (True, True)
    >>> bool(check_function("x^2", lambda t: float(t @ t), lambda t: -2 * t, np.ones(2)))
    False
    """

    name: str
    tol: float
    rows: list[GradCheckRow] = field(default_factory=list)
    step: float = DEFAULT_STEP
    one_sided: int = 0
    """How many compared entries used one-sided differences at a log-std clamp's kink."""
    abs_floor: float = DEFAULT_ABS_FLOOR
    scale: float = np.inf
    """The largest entry of either gradient, in absolute value."""
    hint: str = ""
    """What would make a failed gradient pass, when the check can tell (e.g. the layout)."""
    nonfinite: str = ""
    """Where the analytic (or numerical) gradient first holds NaN or inf, if anywhere."""
    advice: str = UNTESTED_POLICY_ADVICE
    """What to do when nothing was tested (it depends on what was checked)."""

    @property
    def untested_scale(self) -> float:
        """tol * abs_floor / 2: entries this small are judged against tol * abs_floor in
        absolute terms (module docstring), and two gradients of that size, whatever their
        signs, differ by at most twice it."""
        return self.tol * self.abs_floor / 2

    def __str__(self) -> str:
        where = {1: "worst (i,)", 2: "worst (t, i)"}.get(len(self.rows[0].worst), "worst index")
        header = ("block", "size", "max|analytic|", "max error", where, "status")
        body = [(r.block, str(r.size), f"{r.max_abs:.3e}", f"{r.max_error:.2e}",
                 str(r.worst), self._status(r)) for r in self.rows]
        lines = [f"gradient check: {self.name}  (step={self.step:g}, tol={self.tol:g})"]
        if self.one_sided:
            lines.append(f"({self.one_sided} entries at a log-std clamp bound: one-sided "
                         f"differences on the policy's side of the kink)")
        lines += format_table(header, body)
        lines.append(self._verdict("max error", f"tol {self.tol:g}",
                                   f"at most tol * abs_floor / 2 = {self.untested_scale:.1e}"))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


def _compare(name: str, analytic: np.ndarray, numeric: np.ndarray,
             blocks: list[tuple[str, slice]], tol: float, step: float,
             abs_floor: float, one_sided: int = 0) -> GradCheckReport:
    """Build the report from two arrays of the same shape (..., n_params)."""
    if analytic.shape != numeric.shape:
        raise ValueError(f"the analytic gradient must have shape {numeric.shape} (that of the "
                         f"numerical one; its last axis is "
                         f"{theta_layout(blocks, numeric.shape[-1])}), got shape "
                         f"{analytic.shape}")
    if analytic.size == 0:
        raise ValueError(f"nothing to compare: the gradient has shape {analytic.shape} "
                         f"(give at least one sample)")
    err = relative_error(analytic, numeric, _row_floor(analytic, numeric, abs_floor))
    ranked = np.where(np.isnan(err), np.inf, err)
    rows = []
    for block, sl in blocks:
        idx = np.arange(analytic.shape[-1])[sl]
        sub = ranked[..., idx]
        k = np.unravel_index(int(np.argmax(sub)), sub.shape)
        worst = tuple(int(j) for j in k[:-1]) + (int(idx[k[-1]]),)
        max_error = float(err[..., idx][k])
        rows.append(GradCheckRow(block=block, size=idx.size,
                                 max_abs=float(np.max(np.abs(analytic[..., idx]))),
                                 max_error=max_error, worst=worst,
                                 passed=bool(max_error <= tol)))
    scale = float(np.fmax(np.fmax.reduce(np.abs(analytic), axis=None),
                          np.fmax.reduce(np.abs(numeric), axis=None)))
    nonfinite = ""
    for label, values in (("analytic", analytic), ("numerical", numeric)):
        bad = np.argwhere(~np.isfinite(values))
        if bad.size and not nonfinite:
            at = tuple(int(j) for j in bad[0])
            nonfinite = (f"the {label} gradient holds {values[at]} at {at} (of "
                         f"{len(bad)} non-finite entries)")
            scale = np.inf
    return GradCheckReport(name=name, tol=tol, rows=rows, step=step, one_sided=one_sided,
                           abs_floor=abs_floor, scale=scale, nonfinite=nonfinite)


def _with_hint(report: GradCheckReport, policy: LinearPolicy | None, analytic: np.ndarray,
               numeric: np.ndarray, divisors: tuple[str, dict[str, float]] | None = None
               ) -> GradCheckReport:
    """``report``, with a hint when a failed gradient is the right one rearranged (its W
    part flattened in the transposed order) or multiplied by a constant."""
    if report.passed or report.nonfinite or not report.tested:
        return report
    if policy is not None:
        report.hint = _layout_hint(report, policy, analytic, numeric)
    if not report.hint:
        report.hint = _factor_hint(report, analytic, numeric, divisors)
    return report


def _factor_hint(report: GradCheckReport, analytic: np.ndarray, numeric: np.ndarray,
                 divisors: tuple[str, dict[str, float]] | None) -> str:
    """Why the gradient is c times the right one, if it is (c by least squares).

    ``divisors``: the divisor the check expects (its name) and the divisors a batch could
    be divided by ({"1": 1, "the N episodes": N, "the T steps": T}): a gradient divided by
    another than the expected one is the right one times expected / used.
    """
    nn = float(np.sum(numeric * numeric))
    c = float(np.sum(analytic * numeric)) / nn if nn > 0 else 0.0
    if not np.isfinite(c) or c == 0.0 or abs(c - 1.0) < 1e-9:
        return ""
    blocks = [(row.block, slice(None)) for row in report.rows[:1]]
    if not _compare("", analytic, c * numeric, blocks, report.tol, report.step,
                    report.abs_floor).passed:
        return ""
    text = f"it is {c:.6g} times the right gradient"
    sign = "the sign is flipped" if c < 0 else ""
    if divisors is not None:
        expected, options = divisors
        for used, value in options.items():
            if used == expected or value == options[expected]:
                continue             # one episode: dividing by 1 is dividing by N
            if abs(abs(c) - options[expected] / value) <= 1e-9 * abs(c):
                what = "summed, not divided" if used == "1" else f"divided by {used}"
                return (f"{text}: {sign + ' and ' if sign else ''}{what}, where the check "
                        f"expects the mean over {expected}")
    return f"{text}: {sign}" if sign else text


def _layout_hint(report: GradCheckReport, policy: LinearPolicy, analytic: np.ndarray,
                 numeric: np.ndarray) -> str:
    """A hint if the gradient fails only because its W part is flattened in the transposed
    order (W.T.ravel(), the (k, d) layout of a k x d weight matrix)."""
    d, k = np.shape(policy.W)[0], int(np.prod(np.shape(policy.W)[1:]))
    if d < 2 or k < 2:
        return ""
    swapped = analytic.copy()
    w = swapped[..., : d * k]
    swapped[..., : d * k] = np.swapaxes(w.reshape(*w.shape[:-1], k, d), -1, -2).reshape(w.shape)
    again = _compare("", swapped, numeric, policy.parameter_blocks(), report.tol, report.step,
                     report.abs_floor)
    if not again.passed:
        return ""
    return (f"it passes with its W part read in the transposed order: theta holds "
            f"W.ravel() in C order, W of shape {np.shape(policy.W)} (features first), so "
            f"entry i * {k} + a is d/dW[i, a]; yours has d/dW[i, a] at a * {d} + i")


def _check_settings(tol: object, step: object, abs_floor: object) -> tuple[float, float, float]:
    return (check_real(tol, "tol", low=0.0, low_open=True),
            check_real(step, "step", low=0.0, low_open=True),
            check_real(abs_floor, "abs_floor", low=0.0, low_open=True))


def _describe(policy: LinearPolicy) -> str:
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


# ---------------------------------------------------------------------- kinks
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


def _clamp_sides(policy: LinearPolicy, X: object, theta: np.ndarray,
                 step: float) -> np.ndarray | None:
    """Which difference to use for each (row t, parameter i): 0 central, +1 / -1 one-sided.

    Non-zero only for a Gaussian policy's log-std parameters, on rows whose raw log-std is
    within 2 h_i |d l / d theta_i| of a clamp bound (see the module docstring); None when
    there is no such entry.
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


def _kink_aware_jacobian(f: Callable[[np.ndarray], object], theta: np.ndarray, step: float,
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
    tol, step, abs_floor : float
        Pass threshold, relative step and floor (see the module docstring).

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
    _check_callable(grad, "grad", "grad(theta)")
    tol, step, abs_floor = _check_settings(tol, step, abs_floor)
    theta = _check_theta(theta)
    numeric = numerical_jacobian(f, theta, step)
    analytic = _analytic(grad(theta.copy()), "grad")
    report = _compare(name, analytic, numeric, [(name, slice(None))], tol, step, abs_floor)
    report.advice = "check at a theta where the gradient is not ~0"
    return _with_hint(report, None, analytic, numeric)


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
    A : array of T actions
    tol, step, abs_floor : float
        Pass threshold, relative step and floor (see the module docstring).
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
        analytic = policy.grad_log_prob(X, A)
        label = f"{_describe(policy)}.grad_log_prob"
    else:
        _check_callable(score, "score", "score(policy, X, A)")
        policy.log_prob(X, A)  # validate X and A with the policy's own messages
        analytic = score(policy, X, A)
        label = f"{getattr(score, '__name__', 'score')} on {_describe(policy)}"
    analytic = _analytic(analytic, "score")
    f = as_function_of_theta(policy, lambda: policy.log_prob(X, A))
    sides = _clamp_sides(policy, X, policy.theta, step)
    numeric = _kink_aware_jacobian(f, policy.theta.copy(), step, sides)
    report = _compare(label, analytic, numeric, policy.parameter_blocks(), tol, step, abs_floor,
                      _count(sides))
    report = _with_hint(report, policy, analytic, numeric)
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
    err = relative_error(analytic, numeric, _row_floor(analytic, numeric, abs_floor))
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
        Pass threshold, relative step and floor (see the module docstring).
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
    _check_callable(gradient, "gradient", "gradient(policy, X, A, weights, lengths, average)")
    surrogate_loss(policy, X, A, weights, lengths, average)  # validate all inputs once
    analytic = _analytic(gradient(policy, X, A, weights, lengths, average), "gradient")
    sides = _clamp_sides(policy, X, policy.theta, step)
    if sides is None:
        f = as_function_of_theta(
            policy, lambda: surrogate_loss(policy, X, A, weights, lengths, average))
        numeric = -numerical_gradient(f, policy.theta, step)
    else:   # the surrogate's terms -w_t log pi(a_t | x_t) / N, each on its side of a kink
        w = np.asarray(weights, dtype=np.float64)
        n = _divisor(w.size, lengths, average)
        terms = as_function_of_theta(policy, lambda: -w * policy.log_prob(X, A) / n)
        numeric = -_kink_aware_jacobian(terms, policy.theta.copy(), step, sides).sum(axis=0)
    label = f"{getattr(gradient, '__name__', 'gradient')} on {_describe(policy)}"
    report = _compare(label, analytic, numeric, policy.parameter_blocks(), tol, step, abs_floor,
                      _count(sides))
    n_steps = int(np.size(weights))
    n_episodes = _divisor(n_steps, lengths, "episodes")
    expected = "the N episodes" if average == "episodes" else "the T steps"
    divisors = {"1": 1.0, "the N episodes": float(n_episodes), "the T steps": float(n_steps)}
    return _with_hint(report, policy, analytic, numeric, (expected, divisors))


def check_all_policies(seed: int | np.random.Generator = 0, *, n_samples: int = 16,
                       tol: float = DEFAULT_TOL) -> list[GradCheckReport]:
    """Check the score of every policy kind at random parameters, features and actions.

    Builds a softmax policy (3 actions), a Bernoulli policy, and Gaussian policies with
    action_dim 2 and "vector" and "linear" log-std, sets random ``theta``, draws random
    features and actions sampled from each policy, and runs :func:`check_grad_log_prob`.

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
