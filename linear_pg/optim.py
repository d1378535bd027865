"""Ascent steps from a gradient estimate: plain SGD, Adam, and the natural policy gradient.

Each optimizer has ``step(g, scores=None, fisher_matrix=None) -> delta`` returning the
change to add to theta (an ascent step: the return goes up). Only the natural gradient
uses the other two: ``scores``, the (T, n_params) per-sample scores of the batch, with
``fisher="sampled"``; ``fisher_matrix=``, the policy's own Fisher matrix at the batch's
states, with ``fisher="expected"``. ``get_state`` / ``set_state`` save and restore the
running state (Adam's moments): a checkpoint written by ``train`` holds it, so that
:func:`linear_pg.resume` goes on exactly as training would have.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ._validation import (
    as_float_array,
    check_choice,
    check_finite,
    check_keywords,
    check_no_state,
    check_real,
    check_state_dict,
)

OPTIMIZERS = ("sgd", "adam", "npg")
FISHER_ESTIMATES = ("sampled", "expected")


def fisher(scores: np.ndarray) -> np.ndarray:
    """Empirical Fisher information F = (1/T) sum_t s_t s_t^T of per-sample scores (T, P).

    Parameters
    ----------
    scores : array of shape (T, P)
        The scores s_t = grad log pi(a_t | x_t), one per row (T >= 1, all finite), as
        :meth:`LinearPolicy.grad_log_prob <linear_pg.LinearPolicy.grad_log_prob>` returns
        them.

    Returns
    -------
    F : array of shape (P, P)
        Symmetric and positive semi-definite.

    Notes
    -----
    The Fisher matrix of the policy, averaged over visited states, is
    F = E_s E_{a ~ pi(.|s)}[grad log pi(a|s) grad log pi(a|s)^T]; it is the Hessian of the
    average KL divergence KL(pi_theta || pi_theta') at theta' = theta. With the scores
    stacked as rows of S, the sample mean is S^T S / T: one matrix product.

    Examples
    --------
    >>> fisher(np.array([[1.0, 0.0], [0.0, 2.0]]))
    array([[0.5, 0. ],
           [0. , 2. ]])
    """
    S = as_float_array(scores, "scores")
    if S.ndim != 2 or S.shape[0] == 0 or S.shape[1] == 0:
        raise ValueError(f"scores must be a 2-D array of shape (T, n_params) with T >= 1 "
                         f"(one score per row), got shape {S.shape}")
    return _fisher(check_finite(S, "scores"))


def _fisher(scores: np.ndarray) -> np.ndarray:
    """Unchecked :func:`fisher`, for scores the library made itself."""
    return scores.T @ scores / scores.shape[0]


def clip_grad_norm(g: object, max_norm: float | None) -> np.ndarray:
    """g scaled down to Euclidean norm ``max_norm`` if it is longer.

    Parameters
    ----------
    g : array-like of float
        The gradient, as a float64 array (the same object if it is one).
    max_norm : float > 0, ``math.inf`` or None
        The longest norm kept; inf or None: no clipping (as ``train``'s ``max_grad_norm``).

    Notes
    -----
    A finite g whose sum of squares overflows (entries beyond about 1e154) or underflows
    has its norm computed from g / max|g|, so it is clipped to ``max_norm`` as any other g,
    not to zeros.

    Examples
    --------
    >>> clip_grad_norm([3.0, 4.0], 1.0)
    array([0.6, 0.8])
    """
    g = as_float_array(g, "g")
    max_norm = _max_norm(max_norm)
    if max_norm is None:
        return g
    with np.errstate(over="ignore", under="ignore"):
        norm = float(np.linalg.norm(g))
    if (norm == np.inf or norm < np.finfo(np.float64).tiny) and np.any(g) and \
            np.all(np.isfinite(g)):
        return _clip_rescaled(g, max_norm)
    return g * (max_norm / norm) if norm > max_norm else g


def _max_norm(value: object) -> float | None:
    """``clip_grad_norm``'s max_norm as a float > 0, or None for no clipping (None, inf)."""
    if value is None or (isinstance(value, numbers.Real) and value == math.inf):
        return None
    try:
        return check_real(value, "max_norm", low=0.0, low_open=True)
    except ValueError as err:
        raise ValueError(f"{err} (math.inf or None for no clipping)") from None


def _clip_rescaled(g: np.ndarray, max_norm: float) -> np.ndarray:
    """:func:`clip_grad_norm` of a finite, nonzero g whose norm under- or overflows: the
    norm of g / max|g| (between 1 and sqrt(g.size)) does not."""
    scale = float(np.abs(g).max())
    unit = g / scale
    norm = float(np.linalg.norm(unit))
    return unit * (max_norm / norm) if norm > max_norm / scale else g


class _Checked:
    """A hyperparameter checked whenever it is set, by the constructor or later
    (``opt.lr = -1`` is the constructor's ValueError, not a silent descent step)."""

    def __init__(self, check: Callable[[Any, str], Any], doc: str) -> None:
        self.check, self.__doc__ = check, doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.private = name, f"_{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj, self.private)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj, self.private, self.check(value, self.name))


def _positive(value: Any, name: str) -> float:
    return check_real(value, name, low=0.0, low_open=True)


def _decay(value: Any, name: str) -> float:
    return check_real(value, name, low=0.0, high=1.0, high_open=True)


SQUARE_LIMIT = 1e150
"""A finite gradient entry larger than this has a square (or a sum of squares) that can
overflow float64 (about 1.8e308), which would make Adam's or the natural gradient's step
silently 0."""


def _check_square_fits(g: np.ndarray) -> None:
    """ValueError for a finite g with an entry beyond ``SQUARE_LIMIT``; a non-finite g
    passes (its step is non-finite, as documented)."""
    finite = np.abs(g[np.isfinite(g)])
    if finite.size and finite.max() > SQUARE_LIMIT:
        raise ValueError(f"g holds {finite.max():.3g}, beyond {SQUARE_LIMIT:g}: its square "
                         f"overflows float64 and the step would be 0; scale the weights "
                         f"(e.g. standardize them) or the rewards")


class SGD:
    """delta = lr * g: gradient ascent with a fixed step size.

    Parameters
    ----------
    lr : float > 0, default 0.01
        The step size; checked whenever it is set, here or later.
    """

    name = "sgd"
    needs_scores = False
    """Whether ``step`` needs the (T, P) per-sample scores (the natural gradient)."""
    needs_fisher = False
    """Whether ``step`` needs the policy's Fisher matrix (the natural gradient with
    ``fisher="expected"``)."""
    squares_gradient = False
    """Whether the step squares g (Adam's v, the natural gradient's g^T F^-1 g)."""

    lr = _Checked(_positive, "The step size, a float > 0.")

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, also an optimizer pickled before its hyperparameters were checked
        attributes (their values were plain ones then: ``lr``, not ``_lr``)."""
        for key in list(state):
            if isinstance(getattr(type(self), key, None), _Checked):
                state[f"_{key}"] = state.pop(key)
        self.__dict__.update(state)

    def step(self, g: object, scores: object = None, fisher_matrix: object = None
             ) -> np.ndarray:
        """The change delta to add to theta for the ascent direction ``g``, shape (n_params,).

        ``g`` must be a 1-D float vector, of the same size at every step (the first step
        fixes it). It is not required to be finite: a non-finite gradient gives a
        non-finite delta, which the trainer detects and reports as a divergence. A finite
        one with an entry beyond ``SQUARE_LIMIT`` (1e150) is a ValueError for the
        optimizers that square it (Adam, the natural gradient): the square would overflow
        and the step silently be 0.
        """
        g = self._gradient(g)
        if self.squares_gradient:
            _check_square_fits(g)
        return self._step(g, scores, fisher_matrix)

    def _step(self, g: np.ndarray, scores: object, fisher_matrix: object) -> np.ndarray:
        return self.lr * g

    def _gradient(self, g: object) -> np.ndarray:
        """g as a float64 vector of the size of the previous steps' gradients."""
        arr = as_float_array(g, "g")
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"g must be a non-empty 1-D gradient vector, got shape {arr.shape}")
        size = self._n_params()
        if size is None:
            self.n_params_ = arr.size
        elif arr.size != size:
            raise ValueError(f"g must have shape ({size},), the size of the gradients of the "
                             f"previous steps, got shape {arr.shape}")
        return arr

    def _n_params(self) -> int | None:
        """The gradient size fixed by the first step (None before it)."""
        return getattr(self, "n_params_", None)

    def set_lr(self, lr: float) -> None:
        """Change the step size (for a schedule): the learning rate; delta for "npg"."""
        self.lr = lr

    def get_state(self) -> dict[str, np.ndarray]:
        """The optimizer's state as arrays that are copies of its own (a checkpoint stores
        them, and changing them does not change the optimizer); SGD has none."""
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Nothing to restore: SGD has no state, and ``state`` must be the empty dict that
        :meth:`get_state` returns (another optimizer's state is refused, not dropped)."""
        check_no_state(state, self)


class Adam(SGD):
    """Adam (Kingma and Ba 2015) as an ascent step.

    Parameters
    ----------
    lr : float > 0, default 0.01
        The step size: each coordinate moves by about lr per step (see Notes).
    beta1, beta2 : float in [0, 1), default 0.9 and 0.999
        Decay of the moving averages of the gradient (m) and of its square (v).
    eps : float > 0, default 1e-8
        Added to sqrt(v_hat), so that a coordinate whose gradient has been 0 is not
        divided by 0.

    Notes
    -----
    m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2;
    delta = lr * m_hat / (sqrt(v_hat) + eps) with the bias corrections
    m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t). Each coordinate moves by about lr
    whatever the scale of its gradient, at most: a coordinate whose gradient is noise
    around 0 moves much less (about a quarter of lr).
    """

    name = "adam"
    squares_gradient = True
    beta1 = _Checked(_decay, "Decay of the gradient's moving average, in [0, 1).")
    beta2 = _Checked(_decay, "Decay of the squared gradient's moving average, in [0, 1).")
    eps = _Checked(_positive, "Added to sqrt(v_hat), a float > 0.")

    def __init__(self, lr: float = 0.01, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t_ = 0
        self.m_: np.ndarray | None = None
        self.v_: np.ndarray | None = None

    def _n_params(self) -> int | None:
        return None if self.m_ is None else self.m_.size

    def _step(self, g: np.ndarray, scores: object, fisher_matrix: object) -> np.ndarray:
        if self.m_ is None:
            self.m_, self.v_ = np.zeros_like(g), np.zeros_like(g)
        self.t_ += 1
        self.m_ = self.beta1 * self.m_ + (1 - self.beta1) * g
        self.v_ = self.beta2 * self.v_ + (1 - self.beta2) * g**2
        m_hat = self.m_ / (1 - self.beta1**self.t_)
        v_hat = self.v_ / (1 - self.beta2**self.t_)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def get_state(self) -> dict[str, np.ndarray]:
        """The step count and moment estimates, as copies (what a checkpoint stores)."""
        if self.m_ is None:
            return {"t_": np.array(0)}
        v = cast(np.ndarray, self.v_)                       # set with m_
        return {"t_": np.array(self.t_), "m_": self.m_.copy(), "v_": v.copy()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`: ``t_``, and ``m_`` and ``v_`` together (or neither)."""
        check_state_dict(state)
        if ("m_" in state) != ("v_" in state):
            raise ValueError(f"Adam's state holds both m_ and v_ or neither, got keys "
                             f"{sorted(state)}")
        t = np.asarray(state.get("t_", 0))
        if t.shape != () or t.dtype.kind not in "iu" or t < 0:
            raise ValueError(f"Adam's state t_ must be a whole number >= 0, got {t!r}")
        if "m_" in state:
            m, v = (as_float_array(state[k], f"state[{k!r}]") for k in ("m_", "v_"))
            if m.ndim != 1 or m.shape != v.shape or m.size == 0:
                raise ValueError(f"Adam's state m_ and v_ must be 1-D of one size >= 1 (one "
                                 f"entry per parameter), got shapes {m.shape} and {v.shape}")
            check_finite(m, "state['m_']")
            if not np.all(v >= 0):               # a mean of g^2; NaN fails too
                raise ValueError(f"Adam's state v_ must be finite and >= 0 (a running mean "
                                 f"of g^2), got {v[~(v >= 0)][0]}")
            check_finite(v, "state['v_']")
            self.m_, self.v_ = m.copy(), v.copy()
        self.t_ = int(t)


class NaturalGradient(SGD):
    """Normalized natural policy gradient: delta = alpha F^-1 g with a KL-sized step.

    Parameters
    ----------
    delta : float > 0, default 0.01
        The step's "KL size": its squared length in the Fisher metric, d^T F d = delta.
        The average KL divergence between the policies before and after a small step is
        d^T F d / 2 to second order, so each step changes the policy by a KL of about
        delta / 2 (the convention of Rajeswaran et al. 2017; see Notes).
    damping : float >= 0, default 1e-4
        lambda = damping * mean(diag F) is added to F's diagonal before solving (F of a
        small batch is often singular).
    eta : float > 0, optional
        A fixed natural step size: delta_theta = eta F^-1 g, capped at the KL size above,
        i.e. alpha = min(eta, sqrt(delta / (g^T F^-1 g))). Without it every step has the KL
        size delta, however small the gradient (a random walk once the policy is good).
    fisher : {"sampled", "expected"}, default "sampled"
        Where F comes from. "sampled": :func:`fisher` of the batch's scores, the mean of
        s s^T over the actions that were taken (``step(g, scores)``). "expected": the
        policy's own Fisher matrix at the batch's states, the expectation over the action
        taken in closed form (:meth:`LinearPolicy.fisher <linear_pg.LinearPolicy.fisher>`,
        passed as ``step(g, fisher_matrix=F)``). Both estimate the same matrix; the second
        has no action noise in it, only the states' (on the Pendulum preset, which uses
        it, it trains better: see the preset).

    Notes
    -----
    Maximizing the linearized return g^T d subject to the quadratic KL model
    d^T F d / 2 <= delta gives d = alpha F^-1 g with

        alpha = sqrt(2 delta / (g^T F^-1 g))

    (Kakade 2002; Rajeswaran et al. 2017 write delta for the bound on d^T F d, i.e.
    alpha = sqrt(delta / (g^T F^-1 g)), which is the convention used here). With the
    damping, F + lambda I takes F's place, so d^T (F + lambda I) d = delta exactly. The step
    is invariant to rescaling the features exactly only without damping (lambda I does not
    rescale with them; at damping 1e-4, rescaling two features by 10 and 0.1 changes the
    step of the policy's mean by about 10%), and invariant to rescaling the returns unless
    ``eta`` caps it. For a linear policy F is only P x P, so F^-1 g is one Cholesky
    solve. A gradient so small that g^T F^-1 g underflows (below about 1e-154 for F near
    the identity) is divided by max|g| first and the step computed from that, so it is
    the step of a normal-sized gradient, not inf or 0.
    """

    name = "npg"
    squares_gradient = True
    delta = _Checked(_positive, "The KL size of a step, a float > 0.")
    damping = _Checked(lambda value, name: check_real(value, name, low=0.0),
                       "Multiple of mean(diag F) added to F's diagonal, a float >= 0.")
    eta = _Checked(lambda value, name: None if value is None else _positive(value, name),
                   "A fixed natural step size capped at the KL size, or None.")
    fisher = _Checked(lambda value, name: check_choice(value, name, FISHER_ESTIMATES),
                      'Where F comes from: "sampled" or "expected".')

    def __init__(self, delta: float = 0.01, damping: float = 1e-4,
                 eta: float | None = None, fisher: str = "sampled") -> None:
        self.delta, self.damping, self.eta, self.fisher = delta, damping, eta, fisher

    @property
    def needs_scores(self) -> bool:  # type: ignore[override]  # read-only: follows fisher
        """True with ``fisher="sampled"``: F is estimated from the scores."""
        return self.fisher == "sampled"

    @property
    def needs_fisher(self) -> bool:  # type: ignore[override]  # read-only: follows fisher
        """True with ``fisher="expected"``: F is the policy's own, passed in."""
        return self.fisher == "expected"

    @property
    def lr(self) -> float:
        """The step size as the other optimizers name it: here the KL size ``delta``
        (``train(optimizer="npg", lr=...)`` sets it)."""
        return self.delta

    @lr.setter
    def lr(self, value: float) -> None:
        self.set_lr(value)

    def set_lr(self, lr: float) -> None:
        """Change the KL size delta (a learning-rate schedule scales the step's KL)."""
        self._delta = check_real(lr, "lr", low=0.0, low_open=True)

    def _n_params(self) -> int | None:
        return None             # stateless: the size is that of the scores or F given

    def step(self, g: object, scores: object = None, fisher_matrix: object = None
             ) -> np.ndarray:
        """As :meth:`SGD.step`, with the batch's ``scores`` (``fisher="sampled"``) or the
        policy's ``fisher_matrix`` (``fisher="expected"``, by keyword), each only in its
        mode; a given matrix must be symmetric. (The trainer passes the policy's own
        matrix, symmetric by construction, to ``_step``: on a P x P matrix this check costs
        about as much as the Cholesky factorization.)"""
        if fisher_matrix is not None and scores is not None:
            raise ValueError(f"give the natural gradient the batch's scores or its "
                             f"fisher_matrix, not both (this one, fisher={self.fisher!r}, "
                             f"takes {'scores' if self.needs_scores else 'fisher_matrix'})")
        # each mode takes its own input: a Fisher matrix passed by position lands in scores,
        # and F^T F / P would silently take F's place
        if self.fisher == "expected" and scores is not None:
            raise ValueError("NaturalGradient(fisher='expected') takes the policy's Fisher "
                             "matrix as step(g, fisher_matrix=F), a keyword, got scores (a "
                             "matrix passed by position is taken as scores); for F estimated "
                             "from the scores use fisher='sampled'")
        if self.fisher == "sampled" and fisher_matrix is not None:
            raise ValueError("NaturalGradient(fisher='sampled') estimates F from the batch's "
                             "scores, step(g, scores); for the policy's own matrix use "
                             "NaturalGradient(fisher='expected') and step(g, fisher_matrix=F)")
        if fisher_matrix is not None:
            F = as_float_array(fisher_matrix, "fisher_matrix")
            square = F.ndim == 2 and F.shape[0] == F.shape[1] and F.size > 0
            if square and np.all(np.isfinite(F)) and \
                    not np.allclose(F, F.T, rtol=1e-10, atol=1e-12 * np.abs(F).max()):
                raise ValueError("fisher_matrix must be symmetric (a Fisher matrix is an "
                                 "average of outer products s s^T)")
        return super().step(g, scores, fisher_matrix)

    def _step(self, g: np.ndarray, scores: object, fisher_matrix: object) -> np.ndarray:
        F = self._fisher_matrix(g, scores, fisher_matrix)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(F))):
            return np.full_like(g, np.nan)    # a non-finite g, or F overflowed: diverged
        lam = self.damping * max(float(np.mean(np.diag(F))), 1e-12)
        F[np.diag_indices_from(F)] += lam
        nat, gFg = _solve(F, g)
        if not (np.isfinite(gFg) and np.all(np.isfinite(nat))):
            return np.full_like(g, np.nan)    # F^-1 g or g'F^-1 g overflowed: diverged
        if gFg >= np.finfo(np.float64).tiny:
            with np.errstate(over="ignore", invalid="ignore"):
                step = self._scaled_step(nat, gFg, 1.0)
            if np.all(np.isfinite(step)):
                return step
        elif not np.any(g):  # zero gradient (e.g. every return equal): no step
            return np.zeros_like(g)
        return self._rescaled_step(g, F)

    def _scaled_step(self, nat: np.ndarray, gFg: float, scale: float) -> np.ndarray:
        """alpha F^-1 g from nat = F^-1 (g / scale) and gFg = (g / scale)' nat."""
        alpha = np.sqrt(self.delta / gFg)
        if self.eta is not None:
            alpha = min(self.eta * scale, alpha)
        return alpha * nat

    def _rescaled_step(self, g: np.ndarray, F: np.ndarray) -> np.ndarray:
        """The step computed from g / max|g|, for a g so small that g'F^-1 g underflows
        (to a subnormal or 0: the step came out inf or 0) or a step that overflowed. The
        KL-sized step does not depend on g's scale; a fixed step ``eta`` F^-1 g is
        eta * max|g| times F^-1 (g / max|g|)."""
        scale = float(np.abs(g).max())
        nat, gFg = _solve(F, g / scale)
        if not gFg > 0:      # g in F's null space (no damping): no step
            return np.zeros_like(g)
        with np.errstate(over="ignore", invalid="ignore"):
            step = self._scaled_step(nat, gFg, scale)
        return step if np.all(np.isfinite(step)) else np.full_like(g, np.nan)

    def _fisher_matrix(self, g: np.ndarray, scores: object,
                       fisher_matrix: object) -> np.ndarray:
        """A fresh copy of F (the damping is added to it in place)."""
        if fisher_matrix is not None:
            F = np.array(as_float_array(fisher_matrix, "fisher_matrix"))
            if F.shape != (g.size, g.size):
                raise ValueError(f"fisher_matrix must have shape ({g.size}, {g.size}) for a "
                                 f"gradient of {g.size} parameters, got shape {F.shape}")
            return check_finite(F, "fisher_matrix")
        if scores is None:
            raise ValueError("the natural gradient needs the batch's scores (to estimate F) or "
                             "fisher_matrix, got neither")
        S = as_float_array(scores, "scores")
        if S.ndim != 2 or S.shape[0] == 0 or S.shape[1] != g.size:
            raise ValueError(f"scores must have shape (T, {g.size}) with T >= 1 (one score of "
                             f"{g.size} parameters per step, as g), got shape {S.shape}")
        return _fisher(check_finite(S, "scores"))


def _solve(F: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    """F^-1 g (a least-squares solution if F is not positive definite) and g'F^-1 g."""
    try:
        nat = cho_solve(cho_factor(F), g)
    except LinAlgError:
        nat = np.linalg.lstsq(F, g, rcond=None)[0]
    with np.errstate(over="ignore", invalid="ignore"):
        return nat, float(g @ nat)


def make_optimizer(name: str, lr: float, /, **kwargs: Any) -> SGD:
    """"sgd" or "adam" with learning rate ``lr``; "npg" with KL size ``delta = lr``.

    Extra keyword arguments go to the optimizer (e.g. ``damping`` or ``fisher`` for "npg"),
    which checks their values; a name the optimizer does not take is a TypeError that lists
    the ones it does.
    """
    check_choice(name, "optimizer", OPTIMIZERS)
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    cls = {"sgd": SGD, "adam": Adam, "npg": NaturalGradient}[name]
    step = sorted({"lr", "delta"} & set(kwargs))
    if step:                # it was Python's "got multiple values for argument 'lr'"
        raise TypeError(f"optimizer_kwargs must not set {step}: the step size is lr (the KL "
                        f"size delta for npg), given as lr")
    check_keywords(cls, kwargs, f"optimizer_kwargs for optimizer {name!r}",
                   owned=("lr", "delta"))
    if name == "npg":
        return NaturalGradient(delta=lr, **kwargs)
    return cls(lr=lr, **kwargs)
