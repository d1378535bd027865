"""The verdict of a gradient check: how errors are judged, the rows and the table a check
prints, and the hints it gives when a formula fails (used by :mod:`linear_pg.gradcheck`
and :mod:`linear_pg.score_mean`).

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_float_array
from .finite_diff import DEFAULT_STEP
from .policies.base import LinearPolicy

DEFAULT_TOL = 1e-6
DEFAULT_ABS_FLOOR = 1e-3


def theta_layout(blocks: list[tuple[str, slice]], n_params: int) -> str:
    """The blocks of theta in order with their sizes, e.g. "W (2), then log_std (1)"."""
    return ", then ".join(f"{block} ({np.arange(n_params)[sl].size})" for block, sl in blocks)


def relative_error(analytic: object, numeric: object, floor: object = 0.0) -> np.ndarray:
    """Elementwise |a - n| / max(|a|, |n|, floor).

    Parameters
    ----------
    analytic, numeric : array-like of the same shape
        The two values compared (an analytic and a numerical derivative); the error is
        symmetric in them.
    floor : float or array broadcastable to that shape, default 0.0
        Lower bound on the denominator; where a value is smaller than ``floor`` the error
        is in effect absolute, |a - n| / floor. Where a, n and floor are all 0 the error is 0.

    Returns
    -------
    err : array of the shape of ``analytic``
        The error of each entry, between 0 and 2; NaN where a or n is NaN.

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


def row_floor(analytic: np.ndarray, numeric: np.ndarray, abs_floor: float) -> np.ndarray:
    """floor_t = max(abs_floor, max_i |a_ti|, max_i |n_ti|) over the last axis, kept as (..., 1)."""
    # fmax ignores NaN: a NaN entry fails through its own error, not through the floor
    size = np.fmax(np.fmax.reduce(np.abs(analytic), axis=-1, keepdims=True),
                   np.fmax.reduce(np.abs(numeric), axis=-1, keepdims=True))
    return np.fmax(size, abs_floor)


def format_table(header: tuple[str, ...], body: Sequence[tuple[str, ...]]) -> list[str]:
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

    Parameters
    ----------
    name : str
        What was checked.
    tol : float
        Largest relative error (see the module docstring) that passes.
    rows : list of GradCheckRow, default []
        One per parameter block, in the order of ``theta``.
    step : float, default 1e-5
        The relative finite-difference step that was used.
    one_sided : int, default 0
        How many compared entries used one-sided differences at a log-std clamp's kink.
    abs_floor : float, default 1e-3
        Rows whose entries are all smaller than this are judged by absolute error, against
        tol * abs_floor (see the module docstring).
    scale : float, default inf
        The largest entry of either gradient, in absolute value.
    hint : str, default ""
        What would make a failed gradient pass, when the check can tell (e.g. the layout).
    nonfinite : str, default ""
        Where the analytic (or numerical) gradient first holds NaN or inf, if anywhere.
    advice : str, default ``UNTESTED_POLICY_ADVICE``
        What to do when nothing was tested (it depends on what was checked).

    Examples
    --------
    >>> import numpy as np
    >>> from linear_pg.gradcheck import check_function
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
    abs_floor: float = DEFAULT_ABS_FLOOR
    scale: float = np.inf
    hint: str = ""
    nonfinite: str = ""
    advice: str = UNTESTED_POLICY_ADVICE

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


def compare_gradients(name: str, analytic: np.ndarray, numeric: np.ndarray,
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
    err = relative_error(analytic, numeric, row_floor(analytic, numeric, abs_floor))
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


def with_hint(report: GradCheckReport, policy: LinearPolicy | None, analytic: np.ndarray,
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
    if not compare_gradients("", analytic, c * numeric, blocks, report.tol, report.step,
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
    W = getattr(policy, "W", None)          # a class of one's own may name no W
    if not isinstance(W, np.ndarray):
        return ""
    d, k = W.shape[0], int(np.prod(W.shape[1:]))
    if d < 2 or k < 2:
        return ""
    swapped = analytic.copy()
    w = swapped[..., : d * k]
    swapped[..., : d * k] = np.swapaxes(w.reshape(*w.shape[:-1], k, d), -1, -2).reshape(w.shape)
    again = compare_gradients("", swapped, numeric, policy.parameter_blocks(), report.tol,
                              report.step, report.abs_floor)
    if not again.passed:
        return ""
    return (f"it passes with its W part read in the transposed order: theta holds "
            f"W.ravel() in C order, W of shape {W.shape} (features first), so "
            f"entry i * {k} + a is d/dW[i, a]; yours has d/dW[i, a] at a * {d} + i")
