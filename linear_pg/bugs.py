"""The bug gallery: classic policy-gradient mistakes, each beside its correct twin.

Every mistake here was made in real code (see the project's sources). Each buggy function
has a twin with the same signature that does the right thing by calling the library's
one formula (``BernoulliPolicy.grad_log_prob``, ``reward_to_go``, ``log_softmax``,
``normalize``, ``policy_gradient``); the twins never hold a second copy of the math.
The tests in ``tests/test_bugs.py`` show how each one is caught: a gradient check fails,
a NaN appears, a hand-computed value differs, or an expectation that must be 0 is not.

``BUGS`` lists them as (title, buggy, correct, how it is caught).

Examples
--------
>>> import numpy as np
>>> discounted_return_reward_exponent([1.0, 1.0, 1.0], 0.5)
array([1.5, 1. , 0.5])
>>> discounted_return([1.0, 1.0, 1.0], 0.5)
array([1.75, 1.5 , 1.  ])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from ._validation import (
    as_float_array,
    check_features,
    check_finite,
    check_gamma,
    check_int,
    check_real,
)
from .estimator import average_divisor, policy_gradient
from .policies import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy, log_softmax
from .policies.base import LinearPolicy, check_discrete_actions, row_outer
from .returns import normalize, reward_to_go
from .rollout import env_action

__all__ = [
    "BUGS",
    "Bug",
    "ascent_direction",
    "ascent_direction_from_loss_gradient",
    "clipped_action_score",
    "discounted_return",
    "discounted_return_reward_exponent",
    "explore_then_step",
    "exploration_weight",
    "naive_softmax",
    "return_weighted_gradient",
    "sampled_action_score",
    "sigmoid_score",
    "sigmoid_score_ignoring_action",
    "softmax",
    "softmax_score",
    "softmax_score_wrong_probability",
    "softmax_score_wrong_row",
    "squared_error_gradient",
    "standardize",
    "standardize_without_eps",
    "step_then_explore",
]


def _require(policy: object, kind: type, what: str) -> None:
    if not isinstance(policy, kind):
        raise TypeError(f"policy must be a {kind.__name__} ({what}), "
                        f"got {type(policy).__name__}")


def _rewards(rewards: object) -> np.ndarray:
    r = check_finite(as_float_array(rewards, "rewards"), "rewards")
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"rewards must be the non-empty 1-D rewards of one episode, "
                         f"got shape {r.shape}")
    return r


# ---------------------------------------------------------------------- 1. sigmoid score
def sigmoid_score_ignoring_action(policy: BernoulliPolicy, X: object, A: object) -> np.ndarray:
    """BUG: the sigmoid score sigma'(z) / sigma(z) x = (1 - p) x, whatever the action.

    Notes
    -----
    sigma'(z) / sigma(z) = 1 - p is the derivative of log P(a = 1), the score of action 1
    only. Used for both actions, it pushes w toward x after every step, rewarded or not, so
    the policy cannot learn which action was good (the CartPole agent stays random). The
    right score of the Bernoulli log-likelihood a log p + (1 - a) log(1 - p) is (a - p) x.
    Caught by :func:`linear_pg.gradcheck.check_grad_log_prob` on any batch containing a = 0.
    """
    _require(policy, BernoulliPolicy, "the sigmoid policy")
    X = check_features(X, policy.n_features)
    check_discrete_actions(A, 2, X.shape[0])  # validated, then ignored: that is the bug
    p = policy.prob_one(X)
    return (1.0 - p)[:, None] * X


def sigmoid_score(policy: BernoulliPolicy, X: object, A: object) -> np.ndarray:
    """Correct twin: (a - p) x, from :meth:`BernoulliPolicy.grad_log_prob`."""
    _require(policy, BernoulliPolicy, "the sigmoid policy")
    return policy.grad_log_prob(X, A)


# ---------------------------------------------------------------------- 2. discount
def discounted_return_reward_exponent(rewards: object, gamma: float) -> np.ndarray:
    """BUG: G_t = sum_{k >= t} gamma**r_k * r_k, the discount raised to the reward.

    Notes
    -----
    The exponent must be the time offset k - t. With the reward in the exponent, every
    CartPole step (r = 1) gets the same factor gamma, so G_t = gamma (T - t): the
    discount no longer shrinks distant rewards at all. Caught by comparing with a return
    computed by hand.
    """
    r = _rewards(rewards)
    gamma = check_gamma(gamma)
    return np.cumsum((gamma**r * r)[::-1])[::-1]


def discounted_return(rewards: object, gamma: float) -> np.ndarray:
    """Correct twin: G_t = sum_{k >= t} gamma**(k - t) r_k, from :func:`reward_to_go`."""
    return reward_to_go(_rewards(rewards), gamma)


# ---------------------------------------------------------------------- 3. sign
def ascent_direction_from_loss_gradient(policy: LinearPolicy, X: object, A: object,
                                        weights: object, lengths: object = None,
                                        average: str = "episodes") -> np.ndarray:
    """BUG: the gradient of the surrogate loss used as the ascent direction.

    Notes
    -----
    The surrogate loss L = -(1/N) sum_t w_t log pi(a_t | x_t) is built so that a descent
    step on L is an ascent step on J: grad L = -g. Taking grad L and then doing
    ``theta += lr * grad`` (ascent) descends J: the agent gets steadily worse, faster the
    better it learns. Caught by :func:`linear_pg.gradcheck.check_policy_gradient`
    (relative error 2) and by the exact J of the short corridor going down.
    """
    return -policy_gradient(policy, X, A, weights, lengths, average)  # = grad L


def ascent_direction(policy: LinearPolicy, X: object, A: object, weights: object,
                     lengths: object = None, average: str = "episodes") -> np.ndarray:
    """Correct twin: g = -grad L, from :func:`linear_pg.estimator.policy_gradient`."""
    return policy_gradient(policy, X, A, weights, lengths, average)


# ---------------------------------------------------------------------- 4. softmax overflow
def naive_softmax(Z: object) -> np.ndarray:
    """BUG: exp(z) / sum(exp(z)) row-wise, without subtracting the maximum.

    Notes
    -----
    exp overflows to inf above z ~ 709, and inf / inf is NaN: logits of size 1e3, which
    a linear policy reaches with large features or weights, give NaN probabilities (with
    a RuntimeWarning) and the NaN then spreads to theta. Caught by a NaN check.
    """
    E = np.exp(_logits(Z))
    return E / E.sum(axis=-1, keepdims=True)


def softmax(Z: object) -> np.ndarray:
    """Correct twin: exp(log_softmax(z)), finite for any finite logits."""
    return np.exp(log_softmax(_logits(Z)))


def _logits(Z: object) -> np.ndarray:
    """Logits with at least one action on the last axis, or a ValueError."""
    Z = as_float_array(Z, "Z")
    if Z.ndim == 0 or Z.shape[-1] == 0:
        raise ValueError(f"Z must hold logits along its last axis (shape (k,) or (T, k) "
                         f"with k >= 1), got shape {Z.shape}")
    return Z


# ---------------------------------------------------------------------- 5. softmax row
def _softmax_jacobian(P: np.ndarray) -> np.ndarray:
    """dp_i / dz_j = p_i (delta_ij - p_j), i.e. diag(p) - p p^T for each row, (T, k, k)."""
    return P[:, :, None] * np.eye(P.shape[1]) - P[:, :, None] * P[:, None, :]


def softmax_score_wrong_row(policy: SoftmaxPolicy, X: object, A: object) -> np.ndarray:
    """BUG: row 0 of the softmax Jacobian divided by p_a, for every action a.

    Notes
    -----
    d log p_a / dz = (row a of diag(p) - p p^T) / p_a = e_a - p. Indexing the Jacobian
    with the batch index of ``probs[0, a]`` (always 0) instead of the action takes row 0,
    so every sample gets p_0 (e_0 - p) / p_a: the direction of action 0 whatever was done.
    Caught by :func:`linear_pg.gradcheck.check_grad_log_prob`.
    """
    _require(policy, SoftmaxPolicy, "the softmax policy")
    X = check_features(X, policy.n_features)
    A = check_discrete_actions(A, policy.n_actions, X.shape[0])
    P = policy.probs(X)
    t = np.arange(X.shape[0])
    return row_outer(X, _softmax_jacobian(P)[:, 0, :] / P[t, A][:, None])


def softmax_score_wrong_probability(policy: SoftmaxPolicy, X: object,
                                    A: object) -> np.ndarray:
    """BUG: the right row a of the softmax Jacobian divided by the wrong probability.

    Notes
    -----
    Dividing row a of diag(p) - p p^T by p_b for b != a (here the most likely action's
    probability) gives (p_a / p_b)(e_a - p): the right direction with a wrong, state-
    dependent length, which shrinks the score of rare actions. Right only where a happens
    to be the most likely action. Caught by :func:`linear_pg.gradcheck.check_grad_log_prob`.
    """
    _require(policy, SoftmaxPolicy, "the softmax policy")
    X = check_features(X, policy.n_features)
    A = check_discrete_actions(A, policy.n_actions, X.shape[0])
    P = policy.probs(X)
    t = np.arange(X.shape[0])
    return row_outer(X, _softmax_jacobian(P)[t, A, :] / P.max(axis=1)[:, None])


def softmax_score(policy: SoftmaxPolicy, X: object, A: object) -> np.ndarray:
    """Correct twin of both softmax bugs: x (outer) (e_a - p), from ``grad_log_prob``."""
    _require(policy, SoftmaxPolicy, "the softmax policy")
    return policy.grad_log_prob(X, A)


# ---------------------------------------------------------------------- 6. Gaussian MSE
def squared_error_gradient(policy: GaussianPolicy, X: object, A: object, weights: object,
                           lengths: object = None, average: str = "episodes") -> np.ndarray:
    """BUG: the mean trained toward the taken action by an unweighted squared error.

    Returns the ascent direction of -(1/2N) sum_t ||a_t - mu(x_t)||^2 in the W block
    (0 elsewhere): (1/N) sum_t x_t (outer) (a_t - mu_t). ``weights`` is accepted and ignored.

    Notes
    -----
    The right loss is -w_t log pi(a_t | x_t), whose W-gradient is w_t x_t (a_t - mu_t) /
    sigma^2. Without the return weight the update just pulls the mean toward whatever was
    sampled; since E[a - mu] = 0 under the policy, its expectation is 0 and nothing is
    learned (Pendulum does not improve). Dropping 1 / sigma^2 also mis-scales it. Caught
    by :func:`linear_pg.gradcheck.check_policy_gradient`, and by its expectation on a
    continuous bandit not pointing toward the better action.
    """
    _require(policy, GaussianPolicy, "the Gaussian policy")
    policy.log_prob(X, A)  # validates X and A
    X = check_features(X, policy.n_features)
    A = np.asarray(A, dtype=np.float64).reshape(X.shape[0], policy.action_dim)
    g = np.zeros(policy.n_params)
    g[: policy.W.size] = (X.T @ (A - X @ policy.W)).ravel()
    return g / average_divisor(X.shape[0], lengths, average)


def return_weighted_gradient(policy: GaussianPolicy, X: object, A: object, weights: object,
                             lengths: object = None, average: str = "episodes") -> np.ndarray:
    """Correct twin: the return-weighted score, :func:`linear_pg.estimator.policy_gradient`."""
    _require(policy, GaussianPolicy, "the Gaussian policy")
    return policy_gradient(policy, X, A, weights, lengths, average)


# ---------------------------------------------------------------------- 7. clipped action
def clipped_action_score(policy: LinearPolicy, X: object, A: object, low: object,
                         high: object) -> np.ndarray:
    """BUG: the score evaluated at clip(a, low, high) instead of the sampled a.

    Notes
    -----
    The environment may need the clipped action, but the estimator needs the score of
    what the policy sampled: E_a[grad log pi(a)] = 0 holds for the sampled a only. At the
    clipped action the score of a Gaussian whose mean lies near a bound no longer averages
    to 0: every sample beyond the bound is scored as if it had landed on it, so the mean's
    score is biased by E[clip(a) - mu] / sigma^2, which points into the box: away from
    the bound while mu is inside it, back toward it from beyond. The log-std's is biased
    too: negative (sigma shrinks) while mu is inside the box or less than about 0.84 sigma
    beyond a bound, positive beyond that. Which way the parameters drift is the bias
    times the sign of the weights: for positive returns the mean goes into the box, for
    negative ones out of it, toward and past the bound. Caught by
    :func:`linear_pg.check_score_mean`: the sample mean of the score sits many standard
    errors away from 0. A finite-difference check at the stored (clipped)
    actions cannot see it: there the score is the right derivative of log pi, at the
    wrong action.
    """
    low, high = as_float_array(low, "low"), as_float_array(high, "high")
    for name, bound in (("low", low), ("high", high)):
        if np.isnan(bound).any():
            raise ValueError(f"{name} must not be NaN (an infinite bound is no bound)")
    return policy.grad_log_prob(X, np.clip(as_float_array(A, "A"), low, high))


def sampled_action_score(policy: LinearPolicy, X: object, A: object, low: object,
                         high: object) -> np.ndarray:
    """Correct twin: the score at the sampled action (``low``, ``high`` matter to the env only)."""
    return policy.grad_log_prob(X, A)


# ---------------------------------------------------------------------- 8. exploration
def _random_action(space: gym.Space, rng: np.random.Generator) -> Any:
    """A uniform action in the policy's terms: an index in [0, n), or a point of the box."""
    if isinstance(space, gym.spaces.Discrete):
        return int(rng.integers(space.n))
    if isinstance(space, gym.spaces.Box) and space.is_bounded("both"):
        return rng.uniform(space.low, space.high)
    raise TypeError(f"env.action_space must be Discrete or a bounded Box, got {space}")


def step_then_explore(env: gym.Env, policy: LinearPolicy, x: npt.ArrayLike,
                      rng: np.random.Generator, epsilon: float) -> tuple[Any, tuple]:
    """BUG: the exploratory action replaces the recorded one after the environment stepped.

    Returns (recorded action, result of ``env.step``).

    Notes
    -----
    The environment executed the policy's sample a; with probability epsilon the code then
    overwrites a with a random action, which is what gets recorded (or, as in the source,
    overwrites a variable nobody reads, and no exploration happens at all). The recorded
    action is then unrelated to the reward that follows, so the estimate credits actions
    that were never taken: biased. Caught by comparing recorded with executed actions.
    """
    epsilon = check_real(epsilon, "epsilon", low=0.0, high=1.0)
    a = policy.sample(np.atleast_2d(x), rng)[0]
    result = env.step(env_action(env.action_space, a))
    if rng.random() < epsilon:
        a = _random_action(env.action_space, rng)  # too late: the env already took a
    return a, result


def explore_then_step(env: gym.Env, policy: LinearPolicy, x: npt.ArrayLike,
                      rng: np.random.Generator, epsilon: float) -> tuple[Any, tuple]:
    """Correct twin: choose (maybe explore), then step with exactly the recorded action.

    Returns (executed action, result of ``env.step``).

    Notes
    -----
    The executed action comes from the mixture mu = (1 - epsilon) pi + epsilon uniform,
    not from pi. The data are honest, but REINFORCE is on-policy: for one step (a bandit)
    weight each score by :func:`exploration_weight` pi(a) / mu(a) to estimate the gradient
    of pi without bias (over an episode, the product of these ratios is needed), or keep
    epsilon = 0 and let the policy's own noise explore.
    """
    epsilon = check_real(epsilon, "epsilon", low=0.0, high=1.0)
    a = policy.sample(np.atleast_2d(x), rng)[0]
    if rng.random() < epsilon:
        a = _random_action(env.action_space, rng)
    return a, env.step(env_action(env.action_space, a))


def exploration_weight(policy: LinearPolicy, x: npt.ArrayLike, action: object, epsilon: float,
                       action_space: gym.Space) -> float:
    """Importance weight pi(a | x) / mu(a | x) of an action from the epsilon-mixture.

    Notes
    -----
    mu(a) = (1 - epsilon) pi(a) + epsilon u(a), with u uniform on the action space
    (1 / n for Discrete(n), 1 / volume for a bounded Box). E_mu[(pi / mu) f] = E_pi[f].
    ``action`` is in the policy's terms (an index in [0, n) for Discrete), as returned by
    :func:`explore_then_step`.
    """
    epsilon = check_real(epsilon, "epsilon", low=0.0, high=1.0)
    A: list[int] | np.ndarray                 # the one action, as log_prob takes it
    if isinstance(action_space, gym.spaces.Discrete):
        n = int(action_space.n)
        if not isinstance(policy, SoftmaxPolicy | BernoulliPolicy):
            raise TypeError(f"a Discrete action space needs a softmax or Bernoulli policy, "
                            f"got {type(policy).__name__}")
        if policy.n_actions != n:
            raise ValueError(f"action_space {action_space} does not fit the policy's "
                             f"{policy.n_actions} actions")
        a = check_int(action, "action", low=0)
        if a >= n:
            raise ValueError(f"action must be an index in [0, {n}), got {a}")
        u, A = 1.0 / n, [a]
    elif isinstance(action_space, gym.spaces.Box) and action_space.is_bounded("both"):
        u = 1.0 / float(np.prod(action_space.high - action_space.low))
        A = np.asarray(action, dtype=np.float64).reshape(1, -1)
    else:
        raise TypeError(f"action_space must be Discrete or a bounded Box, got {action_space}")
    if epsilon == 0.0:
        return 1.0                          # mu is pi
    # pi / ((1 - eps) pi + eps u) = 1 / ((1 - eps) + eps u / pi), with 1 / pi from log pi:
    # no 0 / 0 for an action of probability ~0 (logits of 1000), where the weight is ~0
    log_pi = float(policy.log_prob(np.atleast_2d(x), A)[0])
    with np.errstate(over="ignore"):
        return float(1.0 / ((1.0 - epsilon) + epsilon * u * np.exp(-log_pi)))


# ---------------------------------------------------------------------- 9. standardizing
def standardize_without_eps(weights: object) -> np.ndarray:
    """BUG: (w - mean(w)) / std(w) with nothing guarding std(w) = 0.

    Notes
    -----
    A batch whose weights are all equal (total returns when every CartPole episode lasts
    500 steps) has std 0, and 0 / 0 is NaN: one perfect batch turns theta into NaN. Caught
    by a NaN check.
    """
    w = check_finite(as_float_array(weights, "weights"), "weights")
    return (w - w.mean()) / w.std()


def standardize(weights: object) -> np.ndarray:
    """Correct twin: (w - mean) / (std + eps), from :func:`linear_pg.returns.normalize`."""
    return normalize(weights)


# ---------------------------------------------------------------------- the gallery
class Bug(NamedTuple):
    """One entry of the gallery: the mistake, its correct twin, and what catches it."""

    title: str
    buggy: Any
    correct: Any
    caught_by: str


BUGS: tuple[Bug, ...] = (
    Bug("sigmoid score ignores the action", sigmoid_score_ignoring_action, sigmoid_score,
        "check_grad_log_prob"),
    Bug("discount raised to the reward", discounted_return_reward_exponent,
        discounted_return, "a return computed by hand"),
    Bug("ascent along the loss gradient", ascent_direction_from_loss_gradient,
        ascent_direction, "check_policy_gradient; exact J of the corridor goes down"),
    Bug("softmax without the max shift", naive_softmax, softmax, "NaN at logits ~1e3"),
    Bug("softmax Jacobian: wrong row", softmax_score_wrong_row, softmax_score,
        "check_grad_log_prob"),
    Bug("softmax Jacobian: wrong probability", softmax_score_wrong_probability,
        softmax_score, "check_grad_log_prob"),
    Bug("Gaussian mean fit by unweighted squared error", squared_error_gradient,
        return_weighted_gradient, "check_policy_gradient; expectation on a bandit"),
    Bug("score of the clipped action", clipped_action_score, sampled_action_score,
        "check_score_mean (E[score] = 0 fails)"),
    Bug("exploring after the step", step_then_explore, explore_then_step,
        "recorded != executed actions; biased bandit gradient"),
    Bug("standardizing without epsilon", standardize_without_eps, standardize,
        "NaN on a constant batch"),
)
