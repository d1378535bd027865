"""The REINFORCE estimate and its surrogate loss."""

import numpy as np
import pytest

from linear_pg import GaussianPolicy, SoftmaxPolicy, policy_gradient, surrogate_loss
from linear_pg.estimator import weighted_score_mean


def batch(seed=0, T=12):
    rng = np.random.default_rng(seed)
    pi = SoftmaxPolicy(3, 3, init_scale=0.5, seed=rng)
    X = rng.standard_normal((T, 3))
    return pi, X, pi.sample(X, rng), rng.standard_normal(T)


def test_estimate_is_weighted_sum_of_scores_over_episodes():
    pi, X, A, w = batch()
    lengths = [5, 4, 3]
    expected = (w[:, None] * pi.grad_log_prob(X, A)).sum(axis=0) / 3
    np.testing.assert_allclose(policy_gradient(pi, X, A, w, lengths), expected, rtol=1e-14)
    np.testing.assert_allclose(policy_gradient(pi, X, A, w, lengths, average="steps"),
                               expected * 3 / 12, rtol=1e-14)


def test_the_trainers_form_from_the_scores_is_the_same_estimate():
    # the natural gradient's path builds the (T, P) scores and averages over the episodes
    # with weighted_score_mean: the same g as policy_gradient, not an average over steps
    pi, X, A, w = batch(seed=4)
    S = pi.grad_log_prob(X, A)
    np.testing.assert_allclose(weighted_score_mean(S, w, 3),
                               policy_gradient(pi, X, A, w, lengths=[5, 4, 3]), rtol=1e-12)


def test_surrogate_gradient_is_minus_the_estimate():
    pi, X, A, w = batch(1)
    g = policy_gradient(pi, X, A, w, [6, 6])
    h, theta = 1e-6, pi.theta.copy()
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        pi.theta = theta + h * np.eye(theta.size)[i]
        up = surrogate_loss(pi, X, A, w, [6, 6])
        pi.theta = theta - h * np.eye(theta.size)[i]
        down = surrogate_loss(pi, X, A, w, [6, 6])
        numeric[i] = (up - down) / (2 * h)
    pi.theta = theta
    np.testing.assert_allclose(-numeric, g, rtol=1e-6, atol=1e-9)


def test_score_has_zero_mean_under_the_policy():
    # E_a[grad log pi(a | x)] = grad sum_a pi(a | x) = grad 1 = 0: the identity behind baselines
    rng = np.random.default_rng(0)
    pi = GaussianPolicy(2, 1, init_log_std=-0.3, init_scale=1.0, seed=1)
    X = np.tile([0.5, -1.0], (100_000, 1))
    S = pi.grad_log_prob(X, pi.sample(X, rng))
    se = S.std(axis=0) / np.sqrt(len(S))
    assert np.all(np.abs(S.mean(axis=0)) < 5 * se)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda pi, X, A, w: policy_gradient(pi, X, A, w[:-1]), ["weights", "(12,)", "(11,)"]),
        (lambda pi, X, A, w: policy_gradient(pi, X, A, w, [5, 5]), ["lengths", "12"]),
        (lambda pi, X, A, w: policy_gradient(pi, X, A, w, average="batch"), ["average"]),
        (lambda pi, X, A, w: surrogate_loss(pi, X, A, np.full(12, np.inf)), ["weights", "finite"]),
        (lambda pi, X, A, w: policy_gradient(pi, X[:, :2], A, w), ["X", "(T, 3)"]),
        # an empty batch has no gradient (it was a zero vector, and any gradient function
        # passed check_policy_gradient on it)
        (lambda pi, X, A, w: policy_gradient(pi, X[:0], A[:0], w[:0]), ["X", "T >= 1"]),
        (lambda pi, X, A, w: surrogate_loss(pi, X[:0], A[:0], w[:0]), ["X", "T >= 1"]),
        # a 3-D X is named, not its weights (checked first, against X's first axis)
        (lambda pi, X, A, w: policy_gradient(pi, X[None], A, w), ["X", "(T, 3)"]),
        # so is a 1-D X (taken as one row only when it has n_features entries), X and A
        # swapped, and None: each blamed the weights ("must have shape (1,)")
        (lambda pi, X, A, w: policy_gradient(pi, X.ravel(), A, w), ["X", "(T, 3)", "(36,)"]),
        (lambda pi, X, A, w: policy_gradient(pi, A, X, w), ["X", "(T, 3)", "(12,)"]),
        (lambda pi, X, A, w: policy_gradient(pi, [[1.0, 2, 3], [1.0]], A[:2], w[:2]),
         ["X must be a rectangular array"]),
    ],
)
def test_bad_input_gives_clear_error(call, words):
    pi, X, A, w = batch()
    with pytest.raises(ValueError) as info:
        call(pi, X, A, w)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ---------------------------------------------------------------------- input errors (audit)
@pytest.mark.parametrize("fn", [policy_gradient, surrogate_loss])
@pytest.mark.parametrize("policy", ["softmax", None, object()])
def test_a_non_policy_is_a_type_error_naming_policy(fn, policy):
    with pytest.raises(TypeError, match="policy must be a linear_pg policy"):
        fn(policy, np.ones((2, 3)), [0, 1], [1.0, 2.0])


def test_complex_weights_are_rejected():
    with pytest.raises(TypeError, match="weights must be real-valued"):
        policy_gradient(SoftmaxPolicy(3, 2), np.ones((2, 3)), [0, 1], [1 + 2j, 2.0])


@pytest.mark.parametrize("weights", [["1.5", "2"], np.array(["1", "2"]), [b"1", b"2"]])
def test_text_weights_are_rejected_even_when_numpy_could_parse_them(weights):
    with pytest.raises(TypeError, match="weights must be numeric, got text"):
        policy_gradient(SoftmaxPolicy(3, 2), np.ones((2, 3)), [0, 1], weights)


def test_none_among_the_numbers_is_named_not_read_as_nan():
    pi, X, A, w = batch()
    with pytest.raises(TypeError, match="X must be numeric, got None$"):
        policy_gradient(pi, None, A, w)
    with pytest.raises(TypeError, match="weights must be numeric, got None among its values"):
        policy_gradient(pi, X, A, [None, *w[1:]])
    assert policy_gradient(pi, X[0], A[:1], w[:1]).shape == (pi.n_params,)  # one row, 1-D
