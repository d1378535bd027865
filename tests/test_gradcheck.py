"""The finite-difference machinery, and every policy's score checked with it."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from linear_pg import (
    BernoulliPolicy,
    GaussianPolicy,
    LinearPolicy,
    SoftmaxPolicy,
    check_score_mean,
    policy_gradient,
)
from linear_pg.check_report import GradCheckError, GradCheckReport, relative_error
from linear_pg.finite_diff import numerical_gradient, numerical_jacobian
from linear_pg.gradcheck import (
    as_function_of_theta,
    check_all_policies,
    check_function,
    check_grad_log_prob,
    check_policy_gradient,
)

# ---------------------------------------------------------------------- finite differences


def test_numerical_gradient_of_a_quadratic_matches_closed_form():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    Q, b = M @ M.T, rng.standard_normal(5)
    theta = 10.0 * rng.standard_normal(5)
    g = numerical_gradient(lambda t: 0.5 * t @ Q @ t + b @ t, theta)
    assert np.max(relative_error(g, Q @ theta + b, floor=1.0)) < 1e-9


def test_numerical_gradient_of_exp_matches_closed_form():
    theta = np.array([-3.0, 0.0, 0.5, 8.0])
    g = numerical_gradient(lambda t: np.exp(t).sum(), theta)
    # f ~ 3e3 is rounded to ~1e-12: relative to the largest entry the error is tiny, while
    # the entry exp(-3) ~ 0.05 carries that same absolute noise (hence the vector floor)
    assert np.max(relative_error(g, np.exp(theta), floor=np.exp(8.0))) < 1e-8
    assert np.max(relative_error(g, np.exp(theta))) < 1e-6


def test_numerical_jacobian_has_output_shape_then_theta_size():
    theta = np.array([1.0, 2.0, 3.0])
    J = numerical_jacobian(lambda t: np.outer(t[:2], t), theta)
    assert J.shape == (2, 3, 3)
    # d (t_i t_j) / d t_k = delta_ik t_j + t_i delta_jk
    eye = np.eye(3)
    exact = eye[:2, None, :] * theta[None, :, None] + theta[:2, None, None] * eye[None, :, :]
    np.testing.assert_allclose(J, exact, rtol=1e-9, atol=1e-9)


def test_step_grows_with_the_parameter():
    seen = []
    theta = np.array([0.5, 1e4])
    numerical_jacobian(lambda t: seen.append(t.copy()) or t.sum(), theta, step=1e-5)
    moves = np.abs(np.array(seen[1:]) - theta).max(axis=1)  # one perturbation per call
    np.testing.assert_allclose(moves, [1e-5, 1e-5, 0.1, 0.1], rtol=1e-6)


def test_numerical_jacobian_never_mutates_the_callers_theta():
    theta = np.array([1.0, 2.0])
    before = theta.copy()

    def f(t):
        value = t.sum()
        t[:] = 99.0  # a careless f that writes into its argument
        return value

    numerical_jacobian(f, theta)
    np.testing.assert_array_equal(theta, before)


def test_numerical_gradient_rejects_array_output():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda t: t, np.ones(2))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"f": 3, "theta": np.ones(2)}, TypeError, "f must be callable"),
        ({"f": np.sum, "theta": np.ones((2, 2))}, ValueError, "theta must be a non-empty 1-D"),
        ({"f": np.sum, "theta": np.array([1.0, np.nan])}, ValueError, "theta must be finite"),
        ({"f": np.sum, "theta": np.ones(2), "step": 0.0}, ValueError, "step must be > 0"),
        ({"f": np.sum, "theta": np.ones(2), "step": "big"}, TypeError, "step must be a real"),
    ],
)
def test_numerical_jacobian_validates_its_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        numerical_jacobian(**kwargs)


def test_a_step_too_small_to_move_theta_is_refused():
    # theta + h == theta: the difference quotient was 0 / 0, NaN, and a correct score FAILed
    with pytest.raises(ValueError, match=r"step=1e-17 is too small to move theta\[0\] = 1: "
                                         r".*at least float64's relative spacing, 2.2e-16"):
        numerical_gradient(lambda t: float(t @ t), [1.0, 2.0], step=1e-17)
    with pytest.raises(ValueError, match=r"step=1e-17 is too small to move theta\[0\]"):
        numerical_jacobian(lambda t: t, [1.0, 2.0], step=1e-17)
    policy = SoftmaxPolicy(2, 3, init_scale=1.0)
    with pytest.raises(ValueError, match="step=1e-17 is too small"):
        check_grad_log_prob(policy, np.ones((2, 2)), [0, 1], step=1e-17)
    with pytest.raises(ValueError, match=r"theta\[0\] \+- 1e\+308 overflows"):
        numerical_gradient(lambda t: 0.0, [1e308], step=1.0)
    assert numerical_gradient(lambda t: float(t[0]), [1.0], step=2.3e-16) == [1.0]


# ---------------------------------------------------------------------- relative error


def test_relative_error_is_symmetric_and_relative():
    a, n = np.array([1.0, -2.0, 100.0]), np.array([1.1, -2.0, 90.0])
    np.testing.assert_allclose(relative_error(a, n), relative_error(n, a))
    np.testing.assert_allclose(relative_error(a, n), [0.1 / 1.1, 0.0, 0.1])


def test_relative_error_near_zero():
    assert relative_error(0.0, 0.0) == 0.0                # exact agreement at 0 is no error
    assert relative_error(1e-15, -1e-15) == 2.0           # without a floor: noise looks huge
    assert relative_error(1e-15, -1e-15, floor=1.0) == pytest.approx(2e-15)  # with one: absolute
    assert relative_error(0.0, 1e-3, floor=1e-6) == 1.0   # the floor never hides a real value


def test_relative_error_floor_broadcasts_per_row():
    a = np.array([[1.0, 1e-6], [1e3, 0.0]])
    n = np.array([[1.0, 2e-6], [1e3, 1e-6]])
    err = relative_error(a, n, floor=np.abs(a).max(axis=1, keepdims=True))
    np.testing.assert_allclose(err, [[0.0, 1e-6], [0.0, 1e-9]])


def test_relative_error_validates():
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="floor must be >= 0"):
        relative_error(1.0, 1.0, floor=-1.0)


# ---------------------------------------------------------------------- reports


def test_report_prints_a_table_and_pass():
    report = check_function("sum of squares", lambda t: t @ t, lambda t: 2 * t,
                            np.array([1.0, -2.0, 3.0]))
    text = str(report)
    lines = text.splitlines()
    assert report.passed and isinstance(report, GradCheckReport)
    assert "block" in lines[1] and "max error" in lines[1] and "status" in lines[1]
    assert lines[2].startswith("sum of squares") and lines[2].endswith("ok")
    assert lines[-1].startswith("PASS")
    assert report.max_error < 1e-9
    assert report.raise_if_failed() is report


def test_a_wrong_gradient_fails_and_names_the_worst_entry():
    def wrong(t):
        g = 2 * t
        g[2] *= 1.01  # one entry 1% off
        return g

    report = check_function("x^2", lambda t: t @ t, wrong, np.array([1.0, 2.0, 3.0]))
    assert not report.passed
    assert report.worst == ("x^2", (2,))
    assert report.max_error == pytest.approx(0.06 / 6.06, rel=1e-6)
    assert str(report).splitlines()[-1].startswith("FAIL")
    with pytest.raises(GradCheckError, match="FAIL") as info:
        report.raise_if_failed()
    assert isinstance(info.value, AssertionError)


def test_a_nan_gradient_fails():
    report = check_function("f", lambda t: t.sum(), lambda t: np.full(t.size, np.nan),
                            np.ones(3))
    assert not report.passed and np.isnan(report.max_error)


def test_check_function_wants_matching_shapes():
    with pytest.raises(ValueError, match="analytic gradient must have shape"):
        check_function("f", lambda t: t @ t, lambda t: 2 * t[:2], np.ones(3))


def test_report_has_one_row_per_parameter_block():
    policy = GaussianPolicy(3, 2, log_std_mode="linear", init_scale=0.5, init_log_std=-0.3)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((7, 3))
    report = check_grad_log_prob(policy, X, policy.sample(X, rng))
    assert [r.block for r in report.rows] == ["W", "log_std", "W_std"]
    assert [r.size for r in report.rows] == [6, 2, 6]
    for row, (_, sl) in zip(report.rows, policy.parameter_blocks(), strict=True):
        t, i = row.worst
        assert 0 <= t < 7 and i in range(policy.n_params)[sl]
    assert report.passed, str(report)


# ---------------------------------------------------------------------- policies


def test_check_all_policies_passes():
    reports = check_all_policies(seed=0)
    assert len(reports) == 4
    assert all(r.passed for r in reports), "\n\n".join(map(str, reports))
    assert all("PASS" in str(r) for r in reports)


def test_policy_theta_is_restored_after_the_check():
    policy = SoftmaxPolicy(2, 3, init_scale=1.0)
    before = policy.theta.copy()
    X = np.random.default_rng(0).standard_normal((4, 2))
    check_grad_log_prob(policy, X, [0, 1, 2, 0])
    check_policy_gradient(policy, X, [0, 1, 2, 0], np.ones(4))
    np.testing.assert_array_equal(policy.theta, before)


def test_policy_theta_is_restored_when_the_function_raises():
    policy = BernoulliPolicy(2, init_scale=1.0)
    before = policy.theta.copy()

    def boom():
        raise RuntimeError("boom")

    f = as_function_of_theta(policy, boom)
    with pytest.raises(RuntimeError, match="boom"):
        f(np.array([5.0, 6.0]))
    np.testing.assert_array_equal(policy.theta, before)


@pytest.mark.parametrize("average", ["episodes", "steps"])
@pytest.mark.parametrize("policy", [
    SoftmaxPolicy(3, 4, init_scale=1.0),
    BernoulliPolicy(3, init_scale=1.0),
    GaussianPolicy(3, 2, log_std_mode="vector", init_scale=1.0, init_log_std=[-0.5, 0.3]),
    GaussianPolicy(3, 1, log_std_mode="linear", init_scale=1.0),
    GaussianPolicy(3, 1, log_std_mode="fixed", init_scale=1.0),
], ids=lambda p: p.kind)
def test_policy_gradient_is_minus_the_gradient_of_the_surrogate(policy, average):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9, 3))
    A = policy.sample(X, rng)
    report = check_policy_gradient(policy, X, A, rng.standard_normal(9), lengths=[2, 3, 4],
                                   average=average)
    assert report.passed, str(report)
    assert all(len(r.worst) == 1 for r in report.rows)


def test_per_sample_floor_keeps_large_logits_meaningful():
    # One huge feature (logits ~1e4) beside a tiny one: the score has entries ~1e4 and
    # ~1e-3 in the same row, and f = log pi ~ -1e4 carries rounding noise ~1e-7.
    policy = SoftmaxPolicy(2, 3)
    policy.W = [[0.0, 1.0, 2.0], [0.5, -0.3, 0.2]]
    rng = np.random.default_rng(3)
    X = np.column_stack([1e4 * (1 + 0.1 * rng.random(6)), 1e-3 * (1 + rng.random(6))])
    A = np.zeros(6, dtype=int)  # the least likely action: log pi ~ -2e4
    report = check_grad_log_prob(policy, X, A)
    assert report.passed and report.max_error < 1e-9, str(report)
    f = as_function_of_theta(policy, lambda: policy.log_prob(X, A))
    numeric = numerical_jacobian(f, policy.theta)
    entrywise = relative_error(policy.grad_log_prob(X, A), numeric)
    assert entrywise.max() > 1e-6  # judged entry by entry, rounding noise would fail it


def test_check_grad_log_prob_validates():
    with pytest.raises(TypeError, match="policy must be a linear_pg policy"):
        check_grad_log_prob(object(), np.ones((1, 1)), [0])
    policy = SoftmaxPolicy(2, 2)
    with pytest.raises(ValueError, match="X must have shape"):
        check_grad_log_prob(policy, np.ones((3, 5)), [0, 1, 0])
    with pytest.raises(ValueError, match="tol must be > 0"):
        check_grad_log_prob(policy, np.ones((1, 2)), [0], tol=0.0)
    with pytest.raises(TypeError, match="score must be callable"):
        check_grad_log_prob(policy, np.ones((1, 2)), [0], score="grad")


def _wrong_score(policy, X, A):
    return -policy.grad_log_prob(X, A)


def test_a_failed_report_is_falsy():
    policy = SoftmaxPolicy(3, 4, init_scale=0.5, seed=0)
    X = np.random.default_rng(0).standard_normal((5, 3))
    A = policy.sample(X, np.random.default_rng(1))
    assert check_grad_log_prob(policy, X, A)
    report = check_grad_log_prob(policy, X, A, score=_wrong_score)
    assert not report and not report.passed
    with pytest.raises(AssertionError):
        assert report


def test_a_saturated_policy_is_not_tested_and_does_not_pass():
    # logits of hundreds: the sampled actions are the near-certain ones, every score ~1e-50,
    # and a score of the wrong sign differs from the right one by less than any tolerance
    rng = np.random.default_rng(0)
    X = 10.0 * rng.standard_normal((10, 3))
    policy = SoftmaxPolicy(3, 4, init_scale=100.0, seed=0)
    A = policy.sample(X, rng)
    report = check_grad_log_prob(policy, X, A, score=_wrong_score)
    assert all(row.passed for row in report.rows)       # each error is below tol ...
    assert not report.tested and not report.passed      # ... yet nothing was compared
    assert "nothing was tested" in str(report) and "PASS" not in str(report)
    assert "smaller logits" in str(report)
    with pytest.raises(GradCheckError, match="nothing was tested"):
        report.raise_if_failed()
    # a function of theta has no logits: the advice was the policy checks' all the same
    flat = check_function("x^2", lambda t: float(t @ t), lambda t: 2 * t, np.zeros(2))
    assert not flat.tested and "logits" not in str(flat)
    assert "untested" in str(flat).splitlines()[2]      # its row said "ok" above a FAIL
    assert str(flat).endswith("check at a theta where the gradient is not ~0")
    # an unlikely action has a score of size |x|: compared, and the wrong sign fails
    unlikely = np.argmin(X @ policy.W, axis=1)
    assert check_grad_log_prob(policy, X, unlikely).tested
    assert not check_grad_log_prob(policy, X, unlikely, score=_wrong_score)
    # all-zero weights give a zero gradient: nothing to compare either
    assert not check_policy_gradient(policy, X, A, np.zeros(10)).tested


def test_a_function_that_cannot_take_the_call_is_named():
    policy = SoftmaxPolicy(2, 2)
    X, A = np.ones((2, 2)), [0, 1]
    with pytest.raises(TypeError, match=r"score is called as score\(policy, X, A\), but "
                                        r".*grad_log_prob\(X, A\) cannot take 3"):
        check_grad_log_prob(policy, X, A, score=policy.grad_log_prob)

    def my_gradient(policy, X, A, weights):
        return policy_gradient(policy, X, A, weights)

    with pytest.raises(TypeError, match=r"gradient is called as gradient\(policy, X, A, "
                                        r"weights, lengths, average\), but my_gradient"):
        check_policy_gradient(policy, X, A, [1.0, 2.0], gradient=my_gradient)
    with pytest.raises(TypeError, match=r"grad is called as grad\(theta\)"):
        check_function("f", lambda t: float(t @ t), lambda: 0.0, np.ones(2))
    # defaults and *args are fine
    assert check_grad_log_prob(policy, X, A, score=lambda *args: args[0].grad_log_prob(*args[1:]))


@pytest.mark.parametrize("returned, what", [
    ("oops", "must be numeric, got text"), ([1j, 2j], "must be real-valued, got complex"),
    ([None, 1.0], "must be numeric, got None among its values"),
    ([[1.0], [1.0, 2.0]], "must be a rectangular array")])
def test_a_gradient_that_is_not_real_numbers_is_named(returned, what):
    policy = BernoulliPolicy(2)
    X, A = np.ones((1, 2)), [1]
    with pytest.raises((TypeError, ValueError), match=f"the return value of score {what}"):
        check_grad_log_prob(policy, X, A, score=lambda p, X, A: returned)
    with pytest.raises((TypeError, ValueError), match=f"the return value of gradient {what}"):
        check_policy_gradient(policy, X, A, [1.0], gradient=lambda *args: returned)
    with pytest.raises((TypeError, ValueError), match=f"the return value of grad {what}"):
        check_function("f", lambda t: float(t @ t), lambda t: returned, np.ones(2))


def test_an_object_array_of_numbers_is_a_gradient():
    assert check_function("f", lambda t: float(t @ t), lambda t: np.array([2.0, 2.0], object),
                          np.ones(2))


def test_small_gradients_are_tested_in_absolute_terms():
    # entries of 1e-4 are below abs_floor but judged against tol * abs_floor = 1e-9: a
    # wrong sign fails and the right one passes (both said "nothing was tested")
    right = check_function("f", lambda t: 1e-4 * t @ t, lambda t: 2e-4 * t, np.ones(2))
    assert right and right.tested
    wrong = check_function("f", lambda t: 1e-4 * t @ t, lambda t: -2e-4 * t, np.ones(2))
    assert wrong.tested and not wrong and wrong.max_error > 0.1
    tiny = check_function("f", lambda t: 1e-14 * t @ t, lambda t: -2e-14 * t, np.ones(2))
    assert not tiny.tested and not tiny and "nothing was tested" in str(tiny)


def test_a_score_a_few_millionths_off_fails_at_the_default_tolerance():
    # the default tol is 1e-6: a score scaled by 1 + 5e-6 (a relative error of 5e-6, far
    # above the ~1e-10 of the central difference) fails, and passes only with tol=1e-5
    policy = SoftmaxPolicy(3, 4, init_scale=0.7, seed=1)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 3))
    A = policy.sample(X, rng)

    def off(pi, X, A):
        return (1 + 5e-6) * pi.grad_log_prob(X, A)

    assert check_grad_log_prob(policy, X, A)
    report = check_grad_log_prob(policy, X, A, score=off)
    assert not report and report.max_error == pytest.approx(5e-6, rel=1e-3)
    assert check_grad_log_prob(policy, X, A, score=off, tol=1e-5)
    assert not check_function("f", lambda t: t @ t, lambda t: 2 * (1 + 5e-6) * t,
                              np.array([1.0, -2.0, 3.0]))


def test_a_gradient_of_the_wrong_width_is_told_the_blocks():
    policy = GaussianPolicy(2, 1)                 # theta: W (2 entries), then log_std (1)
    X, A = np.ones((3, 2)), np.zeros(3)
    with pytest.raises(ValueError, match=r"its last axis is W \(2\), then log_std \(1\)\), "
                                         r"got shape \(3, 2\)"):
        check_grad_log_prob(policy, X, A, score=lambda p, X, A: X)


# ---------------------------------------------------------------------- property test

KINDS = ["softmax", "bernoulli", "gaussian-fixed", "gaussian-vector", "gaussian-linear"]


def _random_case(kind, d, T, seed, scale):
    """A policy with random theta (mean weights of size ``scale``), features and actions."""
    rng = np.random.default_rng(seed)
    if kind == "softmax":
        policy = SoftmaxPolicy(d, int(rng.integers(2, 5)))
    elif kind == "bernoulli":
        policy = BernoulliPolicy(d)
    else:
        mode = kind.split("-")[1]
        policy = GaussianPolicy(d, int(rng.integers(1, 3)), log_std_mode=mode,
                                init_log_std=rng.uniform(-3.0, 1.0))
    theta = policy.theta.copy()
    n_mean = policy.W.size
    theta[:n_mean] = scale * rng.standard_normal(n_mean)
    if kind in ("gaussian-vector", "gaussian-linear"):
        m = policy.action_dim
        theta[n_mean:n_mean + m] = rng.uniform(-3.0, 1.0, m)
        theta[n_mean + m:] = 0.3 * rng.standard_normal(theta.size - n_mean - m)
    policy.theta = theta
    X = rng.standard_normal((T, d))
    if scale >= 1e4 and policy.kind in ("softmax", "bernoulli"):
        # sampled actions are the near-certain ones, whose scores are ~e^-20 or less: the
        # check could not tell a wrong score from a right one; any action tests log-sum-exp
        return policy, X, rng.integers(0, policy.n_actions, T)
    return policy, X, policy.sample(X, rng)


def _far_from_ties(policy, X):
    """At |logits| ~ 1e4 the relative step moves logits by ~0.1: keep near-ties out."""
    if policy.kind == "softmax":
        Z = np.sort(X @ policy.W, axis=1)
        return np.diff(Z, axis=1).min() > 20.0
    if policy.kind == "bernoulli":
        return np.abs(X @ policy.W).min() > 20.0
    return True


@settings(max_examples=50, deadline=None)
@given(kind=st.sampled_from(KINDS), d=st.integers(1, 4), T=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.1, 1.0, 10.0, 1e4]))
def test_every_policy_passes_the_check(kind, d, T, seed, scale):
    policy, X, A = _random_case(kind, d, T, seed, scale)
    if scale == 1e4:
        assume(_far_from_ties(policy, X))
    before = policy.theta.copy()
    report = check_grad_log_prob(policy, X, A, tol=1e-6)
    if scale >= 1e4 and not report.tested:    # every action drawn was the near-certain one
        assert all(row.passed for row in report.rows), str(report)
    else:
        assert report.passed, str(report)
    np.testing.assert_array_equal(policy.theta, before)


# ---------------------------------------------------------------------- the log-std clamp's kink
def _at_the_clamp(mode, log_std, seed, T=8):
    rng = np.random.default_rng(seed)
    policy = GaussianPolicy(3, 2, log_std_mode=mode, init_scale=0.5, seed=rng)
    policy.log_std[...] = log_std      # set, not init_log_std: that must lie within bounds
    X = rng.standard_normal((T, 3))
    return policy, X, policy.sample(X, rng), rng.standard_normal(T)


@settings(max_examples=30, deadline=None)
@given(mode=st.sampled_from(["vector", "linear"]), bound=st.sampled_from([-5.0, 2.0]),
       offset=st.sampled_from([0.0, 1e-9, -1e-9, 1e-6, -1e-6]), seed=st.integers(0, 2**31 - 1))
def test_a_correct_score_passes_at_and_near_the_clamp_bounds(mode, bound, offset, seed):
    """At the bound the central difference straddles the clamp's kink (it reported an error
    of 1.0 at a log-std of 2.0); the check now differentiates the policy's own piece."""
    policy, X, A, w = _at_the_clamp(mode, bound + offset, seed)
    report = check_grad_log_prob(policy, X, A)
    assert report.passed, str(report)
    assert report.one_sided > 0 and "one-sided" in str(report)
    assert check_policy_gradient(policy, X, A, w, lengths=[3, 5]).passed


def test_away_from_the_clamp_the_check_is_unchanged():
    policy, X, A, _ = _at_the_clamp("linear", 0.0, 0)
    report = check_grad_log_prob(policy, X, A)
    assert report.passed and report.one_sided == 0
    assert "one-sided" not in str(report)


def _score_ignoring_the_clamp(policy, X, A):
    """The unclamped formula everywhere: wrong at and beyond a bound, where the score is 0."""
    X, A = np.asarray(X, dtype=float), np.asarray(A, dtype=float)
    log_std = policy._raw_log_std(X)                           # no clamp, no mask
    inv_var = np.exp(-2.0 * log_std)
    diff = A - X @ policy.W
    parts = [(X[:, :, None] * (diff * inv_var)[:, None, :]).reshape(len(X), -1),
             diff**2 * inv_var - 1.0]
    if policy.log_std_mode == "linear":
        g = diff**2 * inv_var - 1.0
        parts.append((X[:, :, None] * g[:, None, :]).reshape(len(X), -1))
    return np.concatenate(parts, axis=1)


def _score_with_doubled_log_std_part(policy, X, A):
    S = policy.grad_log_prob(X, A)
    dm = policy.n_features * policy.action_dim
    S[:, dm:] *= 2.0
    return S


@pytest.mark.parametrize("mode", ["vector", "linear"])
@pytest.mark.parametrize("bound", [-5.0, 2.0])
@pytest.mark.parametrize("wrong", [_score_ignoring_the_clamp, _score_with_doubled_log_std_part])
def test_a_wrong_score_still_fails_at_the_clamp(mode, bound, wrong):
    # just inside the bound the doubled score is wrong; at the bound the unclamped one is
    offset = 1e-7 if wrong is _score_with_doubled_log_std_part else 0.0
    offset = offset if bound < 0 else -offset
    policy, X, A, _ = _at_the_clamp(mode, bound + offset, 1)
    report = check_grad_log_prob(policy, X, A, score=wrong)
    assert not report.passed
    assert report.worst[0] in ("log_std", "W_std")


def test_check_policy_gradient_refuses_an_empty_batch():
    # on no data every gradient function "passed"
    policy = SoftmaxPolicy(3, 2)
    with pytest.raises(ValueError, match=r"T >= 1"):
        check_policy_gradient(policy, np.zeros((0, 3)), np.zeros(0, int), np.zeros(0),
                              gradient=lambda *args: np.zeros(6))


@pytest.mark.parametrize("f, exc, match", [
    (lambda theta: None, TypeError, "f must return a real number or an array of them, got "
                                    "NoneType"),                 # was a silent [nan nan]
    (lambda theta: "a", TypeError, "f must return a real number"),
    (lambda theta: np.ones(1 + int(theta[0] > 1)), ValueError,
     r"f must return outputs of one shape, got \(2,\) after \(1,\)"),
])
def test_numerical_derivatives_check_what_f_returns(f, exc, match):
    with pytest.raises(exc, match=match):
        numerical_jacobian(f, np.ones(2))


@pytest.mark.parametrize("floor", [[], [1.0, 2.0, 3.0]])
def test_relative_error_names_a_floor_of_the_wrong_shape(floor):
    with pytest.raises(ValueError, match=r"floor must be a number or an array broadcastable "
                                         r"to shape \(2,\)"):
        relative_error([1.0, 2.0], [2.0, 3.0], floor=floor)


def test_a_score_flattened_in_the_transposed_order_is_told_so():
    policy = SoftmaxPolicy(3, 4, init_scale=0.5, seed=0)
    X = np.random.default_rng(0).standard_normal((5, 3))
    A = policy.sample(X, np.random.default_rng(1))

    def actions_first(policy, X, A):       # d/dW[i, a] at a * d + i: W.T.ravel()
        return policy.grad_log_prob(X, A).reshape(5, 3, 4).transpose(0, 2, 1).reshape(5, 12)

    report = check_grad_log_prob(policy, X, A, score=actions_first)
    assert not report and "entry i * 4 + a is d/dW[i, a]" in report.hint
    assert "hint: it passes with its W part read in the transposed order" in str(report)
    w = np.random.default_rng(2).standard_normal(5)
    report = check_policy_gradient(policy, X, A, w, gradient=lambda *args: policy_gradient(
        *args).reshape(3, 4).T.ravel())
    assert not report and report.hint
    # a wrong score of the right layout gets no layout hint, and an unrelated one no hint
    assert "transposed" not in check_grad_log_prob(policy, X, A, score=_wrong_score).hint
    from linear_pg import bugs
    assert not check_grad_log_prob(policy, X, A, score=bugs.softmax_score_wrong_row).hint


def test_a_policy_without_w_gets_its_report_rather_than_an_attribute_error():
    class Logits(LinearPolicy):             # a class of one's own, its weights not named W
        kind, n_actions = "softmax", 3

        def __init__(self):
            super().__init__(2, 6)

        def get_config(self):
            return {}

        def log_prob(self, X, A):
            Z = self._features(X) @ self.theta.reshape(2, 3)
            return (Z - np.log(np.exp(Z).sum(axis=1, keepdims=True)))[np.arange(len(A)), A]

    policy = Logits()
    policy.theta = np.arange(6.0) / 10
    X, A = np.random.default_rng(0).standard_normal((5, 2)), np.array([0, 1, 2, 0, 1])
    report = check_grad_log_prob(policy, X, A, score=lambda policy, X, A: np.ones((5, 6)))
    assert not report and "transposed" not in report.hint


@pytest.mark.parametrize("factor, words", [
    (-1.0, "it is -1 times the right gradient: the sign is flipped"),
    (3.0, "it is 3 times the right gradient: summed, not divided, where the check expects "
          "the mean over the N episodes"),
    (-3.0, "the sign is flipped and summed, not divided"),
    (1 / 3, "divided by the T steps, where the check expects the mean over the N episodes"),
    (2.0, "it is 2 times the right gradient"),
])
def test_a_gradient_off_by_a_factor_is_told_the_factor(factor, words):
    policy = SoftmaxPolicy(3, 2, init_scale=0.5, seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 3))
    A, w = policy.sample(X, rng), rng.standard_normal(9)
    report = check_policy_gradient(policy, X, A, w, [3, 3, 3], gradient=lambda *args: (
        factor * policy_gradient(*args)))
    assert not report and words in report.hint and f"hint: {report.hint}" in str(report)
    sign = check_grad_log_prob(policy, X, A, score=_wrong_score)
    assert sign.hint == "it is -1 times the right gradient: the sign is flipped"


def test_a_nan_in_the_analytic_gradient_is_named_before_anything_else():
    # a naive softmax at logits of 400 divides inf by inf; the finite entries were all tiny,
    # and the report said "nothing was tested ... use smaller logits"
    policy = SoftmaxPolicy(3, 2)
    policy.W = [[400.0, -400.0]] * 3
    X = np.random.default_rng(0).standard_normal((9, 3))
    A = np.zeros(9, dtype=int)

    def naive(policy, X, A):
        with np.errstate(over="ignore", invalid="ignore"):
            Z = np.exp(X @ policy.W)
            P = Z / Z.sum(axis=1, keepdims=True)
        return (X[:, :, None] * (np.eye(2)[A] - P)[:, None, :]).reshape(len(X), -1)

    report = check_grad_log_prob(policy, X, A, score=naive)
    assert not report and report.tested
    assert "FAIL: the analytic gradient holds nan at" in str(report)
    assert "nothing was tested" not in str(report)
    mean = check_score_mean(policy, X, score=naive)
    assert not mean and "FAIL: the score returned nan for action" in str(mean)


def test_one_episodes_sign_flip_is_not_also_called_a_sum():
    # with one episode the mean over N is the sum: the README's flipped-sign example was
    # told "the sign is flipped and summed, not divided"
    policy = SoftmaxPolicy(3, 2, init_scale=0.5, seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    A, w = policy.sample(X, rng), rng.standard_normal(6)
    report = check_policy_gradient(policy, X, A, w, gradient=lambda *args: (
        -policy_gradient(*args)))
    assert report.hint == "it is -1 times the right gradient: the sign is flipped"


def test_a_score_that_forgets_the_action_is_told_so():
    # the report gave the worst (t, i) only; which samples fail was left to the learner
    from linear_pg import bugs

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    policy = BernoulliPolicy(3, init_scale=0.7, seed=1)
    A = policy.sample(X, rng)
    report = check_grad_log_prob(policy, X, A, score=bugs.sigmoid_score_ignoring_action)
    n0 = int((A == 0).sum())
    assert report.hint == (f"it fails exactly at the {n0} of 20 samples whose action is 0, "
                           f"and passes at the others: does your score use the action taken?")
    flipped = check_grad_log_prob(policy, X, A,
                                  score=lambda p, X, A: -p.grad_log_prob(X, A))
    assert flipped.hint.startswith("it is -1 times")            # fails at every sample
    # a correct score with one bad row is not told it forgets the action (other samples of
    # the same action pass)

    def one_bad_row(p, X, A):
        g = p.grad_log_prob(X, A)
        g[int(np.flatnonzero(A == 0)[0])] *= 1.5
        return g

    assert check_grad_log_prob(policy, X, A, score=one_bad_row).hint == ""
