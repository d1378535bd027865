"""check_score_mean: E_a[score] = 0 under the policy, exact for discrete actions, sampled
for the Gaussian."""

import numpy as np
import pytest

from linear_pg import (
    BernoulliPolicy,
    GaussianPolicy,
    ScoreMeanReport,
    SoftmaxPolicy,
    bugs,
    check_score_mean,
)
from linear_pg.check_report import GradCheckError

X = np.random.default_rng(0).standard_normal((4, 3))


def _policies():
    return [SoftmaxPolicy(3, 4, init_scale=1.0, seed=1), BernoulliPolicy(3, init_scale=1.0, seed=1),
            GaussianPolicy(3, 2, log_std_mode="fixed", init_scale=0.5, seed=1),
            GaussianPolicy(3, 2, log_std_mode="vector", init_scale=0.5, seed=1),
            GaussianPolicy(3, 2, log_std_mode="linear", init_scale=0.5, seed=1)]


@pytest.mark.parametrize("policy", _policies(), ids=lambda p: p.kind + getattr(
    p, "log_std_mode", ""))
@pytest.mark.parametrize("seed", range(5))
def test_every_policy_score_has_mean_zero(policy, seed):
    report = check_score_mean(policy, X, n_samples=2000, seed=seed)
    assert isinstance(report, ScoreMeanReport)
    assert report and report.tested, str(report)
    assert report.exact == (policy.kind != "gaussian")
    assert [r.block for r in report.rows] == [b for b, _ in policy.parameter_blocks()]


def test_the_identity_holds_at_the_log_std_clamp():
    policy = GaussianPolicy(3, 1, log_std_mode="linear", init_scale=0.5, seed=2)
    policy.W_std = [[3.0], [-3.0], [0.0]]     # log sigma beyond its bounds at some states
    assert check_score_mean(policy, 2.0 * X, n_samples=2000), "clamped entries score 0"


def test_wrong_scores_fail():
    softmax = SoftmaxPolicy(3, 4, init_scale=1.0, seed=0)
    bernoulli = BernoulliPolicy(3, init_scale=1.0, seed=0)
    assert not check_score_mean(bernoulli, X, score=bugs.sigmoid_score_ignoring_action)
    assert check_score_mean(bernoulli, X, score=bugs.sigmoid_score)
    for wrong in (bugs.softmax_score_wrong_row, bugs.softmax_score_wrong_probability):
        report = check_score_mean(softmax, X, score=wrong)
        assert not report and report.max_error > 0.01, str(report)
    gaussian = GaussianPolicy(3, 1, init_scale=0.0)
    report = check_score_mean(gaussian, X, score=lambda p, X, A: 2.0 * p.grad_log_prob(X, A)
                              + 0.05)
    assert not report and "FAIL" in str(report)
    with pytest.raises(GradCheckError, match="score mean check"):
        report.raise_if_failed()


def test_clipped_action_fails_only_near_the_bound():
    policy = GaussianPolicy(1, 1, init_scale=0.0)
    clipped = lambda p, X, A: bugs.clipped_action_score(p, X, A, -2.0, 2.0)   # noqa: E731
    far = np.array([[0.1]])
    policy.W = [[15.0]]                        # mean 1.5: a third of the actions clipped
    assert not check_score_mean(policy, far, score=clipped)
    policy.W = [[-20.0]]                       # mean -2.0: half of them clipped at -2
    assert not check_score_mean(policy, far, score=clipped)
    policy.W, policy.log_std = [[0.0]], [np.log(0.3)]   # mean 0, sigma 0.3: none clipped
    assert check_score_mean(policy, far, score=clipped)


def test_same_seed_same_report_and_inputs_unchanged():
    policy, before = GaussianPolicy(3, 2, init_scale=0.5, seed=1), X.copy()
    theta = policy.theta.copy()
    a = check_score_mean(policy, X, n_samples=1000, seed=3)
    b = check_score_mean(policy, X, n_samples=1000, seed=np.random.default_rng(3))
    assert a.rows == b.rows
    np.testing.assert_array_equal(X, before)
    np.testing.assert_array_equal(policy.theta, theta)


def test_nothing_tested_does_not_pass():
    # features of zero: the softmax score x (e_a - p) is 0 for every action
    report = check_score_mean(SoftmaxPolicy(3, 2), np.zeros((2, 3)),
                              score=lambda p, X, A: p.grad_log_prob(X, A) + 0.0)
    assert not report.tested and not report
    assert "nothing was tested" in str(report)


def test_bad_input_is_named():
    policy = GaussianPolicy(3, 1)
    with pytest.raises(TypeError, match="policy must be a linear_pg policy"):
        check_score_mean(object(), X)
    with pytest.raises(ValueError, match=r"X must have shape \(T, 3\)"):
        check_score_mean(policy, np.ones((2, 4)))
    with pytest.raises(ValueError, match="n_samples must be >= 1, got 0"):
        check_score_mean(policy, X, n_samples=0)
    # a correct score failed the z-test often below a thousand samples (7 in 200 at 100)
    with pytest.raises(ValueError, match="n_samples must be >= 1000, got 999: the mean"):
        check_score_mean(policy, X, n_samples=999)
    assert check_score_mean(SoftmaxPolicy(3, 2), X, n_samples=1).exact   # enumerated
    with pytest.raises(ValueError, match=r"X must hold at least one state .* shape \(0, 3\)"):
        check_score_mean(policy, np.ones((0, 3)))
    with pytest.raises(ValueError, match="z_max must be > 0"):
        check_score_mean(policy, X, z_max=0.0)
    with pytest.raises(TypeError, match=r"score is called as score\(policy, X, A\)"):
        check_score_mean(policy, X, score=lambda X, A: X)
    with pytest.raises(ValueError, match=r"score must return shape \(4000, 4\) \(one row per "
                                         r"action; its columns are W \(3\), then log_std "
                                         r"\(1\)\), got shape \(4000, 3\)"):
        check_score_mean(policy, X[:4], n_samples=1000, score=lambda p, X, A: X)
    with pytest.raises(TypeError, match="the return value of score must be numeric"):
        check_score_mean(policy, X, score=lambda p, X, A: "oops")


def test_small_scores_are_still_tested():
    # features of 1e-4 make the Bernoulli scores ~1e-4 (exact: judged against tol *
    # abs_floor) and a Gaussian's W scores ~1e-3 (sampled: z does not depend on the size)
    bernoulli = BernoulliPolicy(3, init_scale=1.0, seed=0)
    small = 1e-4 * X
    assert check_score_mean(bernoulli, small)
    assert not check_score_mean(bernoulli, small, score=bugs.sigmoid_score_ignoring_action)
    gaussian = GaussianPolicy(1, 1, log_std_mode="fixed", init_log_std=2.0)
    report = check_score_mean(gaussian, np.full((3, 1), 1e-3))
    assert report and report.tested


def test_a_correct_float32_score_passes_the_exact_check():
    softmax = SoftmaxPolicy(3, 4, init_scale=1.0, seed=0)
    report = check_score_mean(softmax, X, score=lambda p, X, A: p.grad_log_prob(X, A).astype(
        np.float32))
    assert report, str(report)


def test_it_finds_a_bias_not_a_wrong_formula():
    # minus the score, or three times it, still averages to 0: check_grad_log_prob's job
    for policy in (SoftmaxPolicy(3, 4, init_scale=1.0, seed=0),
                   GaussianPolicy(3, 1, init_scale=0.5, seed=0)):
        for factor in (-1.0, 3.0):
            assert check_score_mean(policy, X, n_samples=2000, score=lambda p, X, A, f=factor:
                                    f * p.grad_log_prob(X, A))


def test_many_states_are_checked_in_chunks(monkeypatch):
    import linear_pg.score_mean as score_mean
    policy = GaussianPolicy(3, 2, log_std_mode="linear", init_scale=0.5, seed=1)
    whole = check_score_mean(policy, X, n_samples=1000, seed=4)
    monkeypatch.setattr(score_mean, "CHUNK_ENTRIES", 1000 * policy.n_params)  # one state
    calls = []
    chunked = check_score_mean(policy, X, n_samples=1000, seed=4,
                               score=lambda p, X, A: calls.append(len(X)) or p.grad_log_prob(
                                   X, A))
    assert calls == [1000] * 4 and whole and chunked
    # one generator, drawn in the same order: the same actions
    assert [r.max_abs for r in whole.rows] == [r.max_abs for r in chunked.rows]


def test_an_infinite_z_is_explained():
    # every action clipped to one bound: the buggy score is a constant, its standard error
    # 0, and the report said only "FAIL: max |z| inf > 5"
    pi = GaussianPolicy(1, 1, log_std_mode="fixed")
    pi.W = [[10.0]]
    clipped = lambda p, X, A: bugs.clipped_action_score(p, X, A, -2.0, 2.0)   # noqa: E731
    report = check_score_mean(pi, np.ones((1, 1)), score=clipped)
    assert not report and "FAIL: max |z| inf > 5" in str(report)
    assert "hint: |z| is inf where every action drawn gave the same non-zero score" \
        in str(report)
    pi.W = [[1.5]]                                  # some actions clipped: a finite z
    assert "hint" not in str(check_score_mean(pi, np.ones((1, 1)), score=clipped))
