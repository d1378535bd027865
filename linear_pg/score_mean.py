"""The score has mean zero under the policy: a check without finite differences.

For every policy and every state x, the score averages to zero over the policy's own
actions:

    E_{a ~ pi(.|x)} [grad log pi(a | x)] = sum_a pi(a | x) grad pi(a | x) / pi(a | x)
                                         = grad sum_a pi(a | x) = grad 1 = 0,

with an integral over a for a continuous action (the same steps, the density integrating
to 1). This identity is why a baseline b(x) adds no bias: E[score b(x)] = b(x) E[score] = 0.

A finite-difference check compares a score with the derivative of ``log_prob`` at the
actions it is given, so it cannot see a score computed at the wrong action: a training loop
that stores clip(a) (the action the environment received) and takes the score there passes
``check_grad_log_prob`` at the stored actions. The mean-zero identity catches it, because it
draws the actions from the policy and hands the score function the sampled ones, as a
training loop does. It also needs no ``log_prob``, and catches any other score whose mean
is not zero:

- the Gaussian score at clip(a, low, high): clipping pulls the actions beyond a bound back
  to it, so E[(clip(a) - mu) / sigma^2] points away from the bound;
- the sigmoid score that forgets the action, (1 - p) x for both actions: its mean is
  (1 - p) x, not 0.

What it cannot see: a score whose mean is still zero. Minus the score, three times it, or
its W part flattened in another order all average to zero and pass. It finds a bias, not a
wrong formula; ``check_grad_log_prob`` is the check of the formula.

How the expectation is taken:

- discrete policies (softmax, Bernoulli): exactly, as the finite sum
  sum_a pi(a | x) score(x, a) over the actions, and judged like a gradient check: relative
  to the largest entry of the state's scores (or ``abs_floor``, if larger), against
  ``tol``;
- the Gaussian: by ``n_samples`` actions drawn at each state. Entry i at state t gives the
  sample mean m_ti and its standard error se_ti = sd_ti / sqrt(n); under the identity
  z_ti = m_ti / se_ti is close to standard normal, and the check fails when some
  |z_ti| > ``z_max``. For a normal mean, z_max = 5 fails a correct score with probability
  about 6e-7 per entry and state. The log-std score, eps^2 - 1 with eps standard normal,
  is skewed, and the mean of n of them is close enough to normal only for n in the
  thousands: measured on a 2-D action at 100 states (800 entries), a correct score failed
  1 check in 100 at n = 1,000 and none in 100 at the default 10,000 (at n = 100, 20
  states: 7 in 200; at n = 10: 156 in 200). n_samples below ``MIN_N_SAMPLES`` = 1,000 is
  refused. A bug is seen where it moves the mean by more than about z_max sd / sqrt(n):
  the clipped action's bias, at states whose mean lies within a few sigma of a bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._validation import SeedLike, as_generator, check_features, check_int, check_real
from .check_report import DEFAULT_ABS_FLOOR, CheckVerdict, GradCheckRow, format_table, theta_layout
from .finite_diff import check_callable
from .gradcheck import describe_policy, returned_array
from .policies.base import LinearPolicy, check_policy

DEFAULT_N_SAMPLES = 10_000
#: Fewest actions per state for the z-test of a sampled mean (see the module docstring).
MIN_N_SAMPLES = 1_000
DEFAULT_Z_MAX = 5.0
DEFAULT_TOL = 1e-6
#: Scores held in memory at once by the sampled check (states x samples x parameters).
CHUNK_ENTRIES = 4_000_000

__all__ = ["ScoreMeanReport", "check_score_mean"]


@dataclass
class ScoreMeanReport(CheckVerdict):
    """Outcome of :func:`check_score_mean`: one :class:`~linear_pg.check_report.GradCheckRow`
    per parameter block, whose ``max_abs`` is the largest |E[score]| and whose
    ``max_error`` is the statistic judged (the relative size of the exact mean, or the
    largest |z| of the sampled one). Truthy only when the check passed.

    Parameters
    ----------
    name : str
        What was checked: the score and the policy it was taken on.
    exact : bool
        True for a mean taken exactly over a discrete policy's actions, False for one
        sampled from a Gaussian policy.
    threshold : float
        ``tol`` for an exact mean, ``z_max`` for a sampled one.
    n_samples : int
        Actions drawn per state (0 for an exact mean).
    rows : list of GradCheckRow, default []
        One per parameter block, in the order of ``theta``.
    abs_floor : float, default 1e-3
        Exact means only: scores smaller than this are judged absolutely, against
        tol * abs_floor.
    scale : float, default inf
        The largest |score| seen.
    nonfinite : str, default ""
        Where the score first returned NaN or inf, if it did.
    """

    name: str
    exact: bool
    threshold: float
    n_samples: int
    rows: list[GradCheckRow] = field(default_factory=list)
    abs_floor: float = DEFAULT_ABS_FLOOR
    scale: float = np.inf
    nonfinite: str = ""

    @property
    def untested_scale(self) -> float:
        """tol * abs_floor for an exact mean (a mean of scores that small passes whatever
        it is); 0 for a sampled one, whose z does not depend on the scores' size."""
        return self.threshold * self.abs_floor if self.exact else 0.0

    def __str__(self) -> str:
        stat = "max error" if self.exact else "max |z|"
        how = (f"exact mean over the actions, tol={self.threshold:g}" if self.exact else
               f"{self.n_samples} sampled actions per state, z_max={self.threshold:g}")
        header = ("block", "size", "max|E score|", stat, "worst (t, i)", "status")
        body = [(r.block, str(r.size), f"{r.max_abs:.3e}", f"{r.max_error:.2e}",
                 str(r.worst), self._status(r)) for r in self.rows]
        too_small = (f"at most tol * abs_floor = {self.untested_scale:.1e}" if self.exact
                     else "every score is exactly 0")
        lines = [f"score mean check: {self.name}  ({how})", *format_table(header, body),
                 self._verdict(stat, f"tol {self.threshold:g}" if self.exact
                               else f"{self.threshold:g}", too_small)]
        if not self.exact and not self.nonfinite and \
                any(np.isinf(r.max_error) for r in self.rows):
            lines.append("hint: |z| is inf where every action drawn gave the same non-zero "
                         "score (standard error 0), as when every action is clipped to one "
                         "bound: a bias, with no noise to weigh it against")
        return "\n".join(lines)


def check_score_mean(policy: LinearPolicy, X: object,
                     score: Callable[..., object] | None = None, *,
                     n_samples: int = DEFAULT_N_SAMPLES, seed: SeedLike = 0,
                     z_max: float = DEFAULT_Z_MAX, tol: float = DEFAULT_TOL,
                     abs_floor: float = DEFAULT_ABS_FLOOR) -> ScoreMeanReport:
    """Check that ``score`` averages to 0 over the policy's actions at each state of ``X``.

    It catches a score with a bias (taken at the clipped action, or with a term that does
    not depend on the action), not a score that is wrong by a sign, a factor or a
    rearrangement: see the module docstring.

    Parameters
    ----------
    policy : LinearPolicy
        The policy whose actions are drawn (or enumerated) and passed to ``score``.
    X : array of shape (T, n_features)
        The states. A Gaussian policy's check draws ``n_samples`` actions at each, in
        chunks of at most ``CHUNK_ENTRIES`` scores held at once.
    score : callable, optional
        Called as ``score(policy, X_rows, A)`` -> (rows, n_params) with actions drawn from
        the policy (the sampled ones, as a training loop has them; if your loop clips them
        before taking the score, clip inside ``score``). Default
        ``policy.grad_log_prob``. A clipped action biases the mean weights' score only
        where the policy's mean is off-centre in the box: at a mean of 0 with a fixed
        sigma the clipping is symmetric and the check passes, so give states whose mean
        lies near or beyond a bound.
    n_samples : int, default 10_000
        Actions drawn per state for a Gaussian policy, at least ``MIN_N_SAMPLES`` (1,000)
        for the z-test to hold; unused by discrete ones, whose actions are enumerated.
    seed : int or np.random.Generator, default 0
        Seeds the actions drawn.
    z_max : float, default 5.0
        Largest |mean / standard error| that passes (sampled means).
    tol : float, default 1e-6
        Largest |mean| relative to the state's largest score that passes (exact means).
    abs_floor : float, default 1e-3
        Exact means only: scores smaller than this are judged absolutely, against
        tol * abs_floor.

    Returns
    -------
    ScoreMeanReport
        One row per block of ``policy.parameter_blocks()``; ``worst`` is (state t, i).

    Examples
    --------
    >>> import numpy as np
    >>> from linear_pg import GaussianPolicy, bugs
    >>> pi = GaussianPolicy(1, 1, init_scale=0.0)
    >>> pi.W = [[1.5]]                        # mean 1.5 near the bound 2, sigma 1
    >>> X = np.ones((1, 1))
    >>> bool(check_score_mean(pi, X))
    True
    >>> clipped = lambda p, X, A: bugs.clipped_action_score(p, X, A, -2.0, 2.0)
    >>> bool(check_score_mean(pi, X, score=clipped))
    False
    """
    check_policy(policy)
    X = check_features(X, policy.n_features)
    if X.shape[0] == 0:
        raise ValueError(f"X must hold at least one state (a row of {policy.n_features} "
                         f"features), got shape {X.shape}")
    n_samples = check_int(n_samples, "n_samples", low=1)
    if n_samples < MIN_N_SAMPLES and not hasattr(policy, "probs"):
        raise ValueError(f"n_samples must be >= {MIN_N_SAMPLES}, got {n_samples}: the mean "
                         f"of fewer sampled scores (the log-std one, eps^2 - 1, is skewed) is "
                         f"too far from normal for the z-test, which fails correct scores "
                         f"(7 checks in 200 at n_samples=100 on 20 states)")

    z_max = check_real(z_max, "z_max", low=0.0, low_open=True)
    tol = check_real(tol, "tol", low=0.0, low_open=True)
    abs_floor = check_real(abs_floor, "abs_floor", low=0.0, low_open=True)
    if score is None:
        label = f"{describe_policy(policy)}.grad_log_prob"
        score = _own_score
    else:
        check_callable(score, "score", "score(policy, X, A)")
        label = f"{getattr(score, '__name__', 'score')} on {describe_policy(policy)}"
    nonfinite: list[str] = []
    if hasattr(policy, "probs"):
        mean, stat, scale = _exact_mean(policy, X, policy.probs(X), score, abs_floor,
                                        nonfinite)
        threshold, exact, n_samples = tol, True, 0
    else:
        mean, stat, scale = _sampled_mean(policy, X, score, n_samples, as_generator(seed),
                                          nonfinite)
        threshold, exact = z_max, False
    rows = []
    for block, sl in policy.parameter_blocks():
        idx = np.arange(policy.n_params)[sl]
        sub = np.where(np.isnan(stat[:, idx]), np.inf, stat[:, idx])
        t, k = np.unravel_index(int(np.argmax(sub)), sub.shape)
        worst = float(stat[t, idx[k]])
        rows.append(GradCheckRow(block=block, size=idx.size,
                                 max_abs=float(np.max(np.abs(mean[:, idx]))),
                                 max_error=worst, worst=(int(t), int(idx[k])),
                                 passed=bool(worst <= threshold)))
    return ScoreMeanReport(name=label, exact=exact, threshold=threshold, n_samples=n_samples,
                           rows=rows, abs_floor=abs_floor, scale=np.inf if nonfinite else scale,
                           nonfinite=nonfinite[0] if nonfinite else "")


def _own_score(policy: LinearPolicy, X: np.ndarray, A: np.ndarray) -> np.ndarray:
    return policy.grad_log_prob(X, A)


def _scores(policy: LinearPolicy, X: np.ndarray, A: np.ndarray,
            score: Callable[..., object], nonfinite: list[str]) -> np.ndarray:
    """``score(policy, X, A)`` as a (rows, n_params) float array, or an error naming it;
    where it holds NaN or inf is appended to ``nonfinite``."""
    S = returned_array(score(policy, X, A), "score")
    expected = (X.shape[0], policy.n_params)
    if S.shape != expected:
        layout = theta_layout(policy.parameter_blocks(), policy.n_params)
        raise ValueError(f"score must return shape {expected} (one row per action; its "
                         f"columns are {layout}), got shape {S.shape}")
    bad = np.argwhere(~np.isfinite(S))
    if bad.size and not nonfinite:
        row, i = (int(j) for j in bad[0])
        action = np.asarray(A[row]).tolist()
        nonfinite.append(f"the score returned {S[row, i]} for action {action} (entry {i}; "
                         f"{len(bad)} non-finite entries in this call)")
    return S


def _exact_mean(policy: LinearPolicy, X: np.ndarray, P: np.ndarray,
                score: Callable[..., object], abs_floor: float, nonfinite: list[str]
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """(E[score] per state, its size relative to the state's scores, largest |score|), from
    the policy's action probabilities P (T, k).

    One action at a time: memory (T, n_params), whatever the number of actions.
    """
    mean = np.zeros((X.shape[0], policy.n_params))
    size = np.zeros((X.shape[0], 1))                        # largest |score| per state
    for a in range(P.shape[1]):
        S = _scores(policy, X, np.full(X.shape[0], a), score, nonfinite)
        mean += P[:, a:a + 1] * S
        size = np.fmax(size, np.fmax.reduce(np.abs(S), axis=1, keepdims=True))
    return mean, np.abs(mean) / np.fmax(size, abs_floor), float(size.max())


def _sampled_mean(policy: LinearPolicy, X: np.ndarray, score: Callable[..., object],
                  n: int, rng: np.random.Generator, nonfinite: list[str]
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """(sample mean of the score per state, |mean| / standard error, largest |score|),
    over chunks of states so that at most ``CHUNK_ENTRIES`` scores are held at once."""
    per_state = n * policy.n_params
    chunk = max(1, CHUNK_ENTRIES // per_state)
    means, zs, scale = [], [], 0.0
    for start in range(0, X.shape[0], chunk):
        Xr = np.repeat(X[start:start + chunk], n, axis=0)
        S = _scores(policy, Xr, policy.sample(Xr, rng), score, nonfinite)
        S = S.reshape(-1, n, policy.n_params)
        mean = S.mean(axis=1)
        se = S.std(axis=1, ddof=1) / np.sqrt(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, np.abs(mean) / se,
                         np.where(mean == 0, 0.0, np.where(np.isnan(se), np.nan, np.inf)))
        means.append(mean)
        zs.append(z)
        scale = float(np.fmax(scale, np.fmax.reduce(np.abs(S), axis=None)))
    return np.concatenate(means), np.concatenate(zs), scale
