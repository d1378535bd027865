"""The bug gallery: each classic mistake is caught, and its correct twin passes."""

import gymnasium as gym
import numpy as np
import pytest

from linear_pg import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy, bugs, check_score_mean
from linear_pg.corridor import exact_start_value, p_right_of, sample_episodes
from linear_pg.gradcheck import check_grad_log_prob, check_policy_gradient
from linear_pg.policies import log_softmax
from linear_pg.returns import reward_to_go


def mean_and_se(samples):
    """Sample mean and its standard error, column by column."""
    samples = np.asarray(samples)
    return samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])


# ---------------------------------------------------------------------- 1. sigmoid score


def test_sigmoid_score_ignoring_the_action_fails_the_gradient_check():
    policy = BernoulliPolicy(3, init_scale=0.7, seed=1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    A = policy.sample(X, rng)
    assert 0 < A.sum() < A.size  # both actions present
    buggy = check_grad_log_prob(policy, X, A, score=bugs.sigmoid_score_ignoring_action)
    assert not buggy.passed and buggy.max_error > 0.1
    t, _ = buggy.rows[0].worst
    assert A[t] == 0  # right for a = 1, wrong for a = 0
    assert check_grad_log_prob(policy, X, A, score=bugs.sigmoid_score).passed


# ---------------------------------------------------------------------- 2. discount


def test_discount_raised_to_the_reward_differs_from_the_hand_computed_return():
    rewards, gamma = [1.0, 2.0, 0.0, 3.0], 0.9
    # by hand: G_3 = 3, G_2 = 0 + 0.9 * 3, G_1 = 2 + 0.9 * G_2, G_0 = 1 + 0.9 * G_1
    by_hand = [4.987, 4.43, 2.7, 3.0]
    np.testing.assert_allclose(bugs.discounted_return(rewards, gamma), by_hand, rtol=1e-12)
    buggy = bugs.discounted_return_reward_exponent(rewards, gamma)
    # what the bug computes: terms 0.9^1 * 1, 0.9^2 * 2, 0.9^0 * 0, 0.9^3 * 3, summed from t
    np.testing.assert_allclose(buggy, [4.707, 3.807, 2.187, 2.187], rtol=1e-12)
    assert not np.allclose(buggy, by_hand, rtol=1e-3)


def test_discount_raised_to_the_reward_stops_discounting_cartpole():
    T, gamma = 50, 0.99
    ones = np.ones(T)
    buggy = bugs.discounted_return_reward_exponent(ones, gamma)
    np.testing.assert_allclose(buggy, gamma * (T - np.arange(T)))  # linear in the time left
    np.testing.assert_allclose(bugs.discounted_return(ones, gamma),
                               (1 - gamma ** (T - np.arange(T))) / (1 - gamma))


# ---------------------------------------------------------------------- 3. sign


def test_ascent_along_the_loss_gradient_fails_the_check():
    policy = SoftmaxPolicy(2, 3, init_scale=0.5)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 2))
    A = policy.sample(X, rng)
    w = rng.standard_normal(8)
    buggy = check_policy_gradient(policy, X, A, w, [3, 5],
                                  gradient=bugs.ascent_direction_from_loss_gradient)
    assert not buggy.passed and buggy.max_error == pytest.approx(2.0)
    assert check_policy_gradient(policy, X, A, w, [3, 5], gradient=bugs.ascent_direction).passed


def test_ascent_along_the_loss_gradient_makes_the_corridor_worse():
    policy = SoftmaxPolicy(1, 2)  # p(right) = 1/2, below the optimum 0.586
    X, A, rewards, lengths = sample_episodes(policy, 500, seed=3)
    G = reward_to_go(rewards, 1.0, lengths)
    J_before = exact_start_value(p_right_of(policy))
    after = {}
    for direction in (bugs.ascent_direction, bugs.ascent_direction_from_loss_gradient):
        moved = policy.copy()
        moved.theta = policy.theta + 0.05 * direction(policy, X, A, G, lengths)
        after[direction.__name__] = exact_start_value(p_right_of(moved))
    assert after["ascent_direction"] > J_before + 0.01
    assert after["ascent_direction_from_loss_gradient"] < J_before - 0.01


# ---------------------------------------------------------------------- 4. softmax overflow


def test_softmax_without_the_max_shift_gives_nan():
    Z = np.array([[1000.0, 999.0, 0.0], [1.0, 2.0, 3.0]])
    with pytest.warns(RuntimeWarning):
        P = bugs.naive_softmax(Z)
    assert np.isnan(P[0]).any() and np.isfinite(P[1]).all()
    good = bugs.softmax(Z)
    assert np.isfinite(good).all()
    np.testing.assert_allclose(good.sum(axis=1), 1.0)
    np.testing.assert_allclose(good, np.exp(log_softmax(Z)))
    np.testing.assert_allclose(good[1], P[1], rtol=1e-12)  # same where nothing overflows
    np.testing.assert_allclose(good[0, :2], [1 / (1 + np.e**-1), 1 / (1 + np.e)], rtol=1e-12)


# ---------------------------------------------------------------------- 5. softmax row


@pytest.mark.parametrize("buggy", [bugs.softmax_score_wrong_row,
                                   bugs.softmax_score_wrong_probability])
def test_wrong_softmax_jacobian_row_fails_the_gradient_check(buggy):
    policy = SoftmaxPolicy(3, 4, init_scale=1.0, seed=2)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((25, 3))
    A = policy.sample(X, rng)
    report = check_grad_log_prob(policy, X, A, score=buggy)
    assert not report.passed and report.max_error > 0.01, str(report)
    t, _ = report.rows[0].worst
    if buggy is bugs.softmax_score_wrong_probability:
        assert A[t] != np.argmax(policy.probs(X[t]))  # right only for the likeliest action
    assert check_grad_log_prob(policy, X, A, score=bugs.softmax_score).passed


# ---------------------------------------------------------------------- 6. Gaussian MSE


def continuous_bandit(a):
    """One-step task with reward -(a - 2)^2: the best action is 2."""
    return -((np.asarray(a)[:, 0] - 2.0) ** 2)


def test_unweighted_squared_error_fails_the_gradient_check():
    policy = GaussianPolicy(2, 1, log_std_mode="fixed", init_log_std=np.log(0.5),
                            init_scale=1.0)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((10, 2))
    A = policy.sample(X, rng)
    w = rng.standard_normal(10)
    assert not check_policy_gradient(policy, X, A, w,
                                     gradient=bugs.squared_error_gradient).passed
    # even with all weights 1 it is off by the missing 1 / sigma^2 = 4
    assert not check_policy_gradient(policy, X, A, np.ones(10),
                                     gradient=bugs.squared_error_gradient).passed
    assert check_policy_gradient(policy, X, A, w,
                                 gradient=bugs.return_weighted_gradient).passed


def test_unweighted_squared_error_does_not_point_toward_the_better_action():
    policy = GaussianPolicy(1, 1, log_std_mode="vector")  # mu = 0, sigma = 1
    rng = np.random.default_rng(5)
    N = 20_000
    X = np.ones((N, 1))
    A = policy.sample(X, rng)
    r = continuous_bandit(A)
    ones = np.ones(N, dtype=int)  # N one-step episodes
    # the per-episode terms, whose means are the two estimates
    mean_w, se_w = mean_and_se(policy.grad_log_prob(X, A) * r[:, None])
    mean_u, se_u = mean_and_se(X * (A - policy.mean(X)))
    np.testing.assert_allclose(bugs.return_weighted_gradient(policy, X, A, r, ones), mean_w)
    np.testing.assert_allclose(bugs.squared_error_gradient(policy, X, A, r, ones),
                               [mean_u[0], 0.0])
    # d/dmu E[-(a - 2)^2] = -2 (mu - 2) = 4: the weighted estimate points to a = 2 ...
    assert mean_w[0] > 10 * se_w[0] and abs(mean_w[0] - 4.0) < 4 * se_w[0]
    # ... the unweighted one averages to 0 (E[a - mu] = 0): it points nowhere
    assert abs(mean_u[0]) < 4 * se_u[0]


# ---------------------------------------------------------------------- 7. clipped action


def test_score_of_the_clipped_action_has_a_nonzero_mean():
    policy = GaussianPolicy(1, 1, log_std_mode="vector")
    policy.W = [[1.5]]  # mean 1.5, sigma 1: a third of the samples land beyond 2
    rng = np.random.default_rng(6)
    X = np.ones((20_000, 1))
    A = policy.sample(X, rng)
    mean_c, se_c = mean_and_se(bugs.clipped_action_score(policy, X, A, -2.0, 2.0))
    mean_s, se_s = mean_and_se(bugs.sampled_action_score(policy, X, A, -2.0, 2.0))
    assert np.all(np.abs(mean_s) < 4 * se_s)       # E[score] = 0 at the sampled action
    assert np.max(np.abs(mean_c) / se_c) > 10      # not at the clipped one
    assert mean_c[0] < 0                           # it pulls the mean away from the bound


def test_check_score_mean_catches_the_clipped_action_where_the_gradient_check_cannot():
    policy = GaussianPolicy(1, 1, log_std_mode="vector")
    policy.W = [[1.5]]
    X = np.ones((1, 1))

    def clipped(policy, X, A):
        return bugs.clipped_action_score(policy, X, A, -2.0, 2.0)

    def sampled(policy, X, A):
        return bugs.sampled_action_score(policy, X, A, -2.0, 2.0)

    report = check_score_mean(policy, X, score=clipped)
    assert not report and report.rows[0].max_error > 10
    assert check_score_mean(policy, X, score=sampled)
    # a training loop that stores the clipped action passes the finite-difference check there
    stored = np.clip(policy.sample(np.ones((50, 1)), np.random.default_rng(0)), -2.0, 2.0)
    assert check_grad_log_prob(policy, np.ones((50, 1)), stored, score=clipped)


# ---------------------------------------------------------------------- 8. exploration


class TwoArmedBandit(gym.Env):
    """One step per episode; arm 1 pays 1, arm 0 pays 0."""

    REWARDS = (0.0, 1.0)

    def __init__(self):
        self.observation_space = gym.spaces.Box(0.0, 2.0, (1,), np.float64)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1), {}

    def step(self, action):
        return np.ones(1), self.REWARDS[action], True, False, {}


class RecordExecuted(gym.Wrapper):
    """Remembers the actions the environment actually executed."""

    def __init__(self, env):
        super().__init__(env)
        self.executed = []

    def step(self, action):
        self.executed.append(int(action))
        return self.env.step(action)


@pytest.mark.parametrize("step_fn", [bugs.step_then_explore, bugs.explore_then_step])
def test_exploring_after_the_step_records_the_wrong_actions(step_fn):
    env = RecordExecuted(TwoArmedBandit())
    policy = BernoulliPolicy(1)
    policy.theta = [-1.0]
    epsilon, N = 0.5, 4000
    rng = np.random.default_rng(8)
    x = np.ones(1)
    recorded, rewards = [], []
    for _ in range(N):
        env.reset()
        a, (_, r, *_) = step_fn(env, policy, x, rng, epsilon)
        recorded.append(a)
        rewards.append(r)
    recorded, rewards = np.array(recorded), np.array(rewards)
    executed = np.array(env.executed)
    np.testing.assert_array_equal(rewards, np.array(TwoArmedBandit.REWARDS)[executed])

    # the same estimator for both: importance-weighted REINFORCE on the recorded actions
    rho = np.array([bugs.exploration_weight(policy, x, a, epsilon, env.action_space)
                    for a in recorded])
    X = np.ones((N, 1))
    mean, se = mean_and_se(policy.grad_log_prob(X, recorded)[:, 0] * rho * rewards)
    p = float(policy.prob_one(x)[0])
    exact = p * (1 - p) * (TwoArmedBandit.REWARDS[1] - TwoArmedBandit.REWARDS[0])

    if step_fn is bugs.step_then_explore:
        assert np.mean(recorded != executed) > 0.2  # about epsilon / 2 of the steps
        assert abs(mean - exact) > 10 * se          # biased
    else:
        np.testing.assert_array_equal(recorded, executed)
        assert abs(mean - exact) < 4 * se           # unbiased


def test_exploration_weight_is_pi_over_the_mixture():
    policy = BernoulliPolicy(1)
    policy.theta = [1.0]
    p1 = float(policy.prob_one(np.ones(1))[0])
    space = gym.spaces.Discrete(2)
    w1 = bugs.exploration_weight(policy, np.ones(1), 1, 0.2, space)
    assert w1 == pytest.approx(p1 / (0.8 * p1 + 0.1))
    assert bugs.exploration_weight(policy, np.ones(1), 0, 0.0, space) == pytest.approx(1.0)


def test_exploration_weight_at_large_logits_and_of_bad_actions():
    # 0 / 0 = NaN where the weight is 1 (or ~0), and 0.5 or a Discrete(3) space were taken
    policy = SoftmaxPolicy(1, 2)
    policy.W = [[0.0, 1000.0]]
    space = gym.spaces.Discrete(2)
    assert bugs.exploration_weight(policy, [1.0], 0, 0.0, space) == 1.0
    assert bugs.exploration_weight(policy, [1.0], 0, 0.1, space) == 0.0   # pi ~ e^-1000
    assert bugs.exploration_weight(policy, [1.0], 1, 0.1, space) == pytest.approx(1 / 0.95)
    with pytest.raises(TypeError, match="action must be an int, got float"):
        bugs.exploration_weight(policy, [1.0], 0.5, 0.1, space)
    with pytest.raises(ValueError, match=r"action must be an index in \[0, 2\), got 2"):
        bugs.exploration_weight(policy, [1.0], 2, 0.1, space)
    with pytest.raises(ValueError, match="does not fit the policy's 2 actions"):
        bugs.exploration_weight(policy, [1.0], 0, 0.1, gym.spaces.Discrete(3))


# ---------------------------------------------------------------------- 9. standardizing


def test_standardizing_without_epsilon_gives_nan_on_a_constant_batch():
    constant = np.full(8, 500.0)  # every CartPole episode hit the time limit
    with pytest.warns(RuntimeWarning):
        assert np.isnan(bugs.standardize_without_eps(constant)).all()
    np.testing.assert_array_equal(bugs.standardize(constant), np.zeros(8))
    w = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(bugs.standardize(w), bugs.standardize_without_eps(w), rtol=1e-7)


# ---------------------------------------------------------------------- the gallery


def test_every_bug_has_a_twin_with_the_same_signature():
    import inspect

    assert len(bugs.BUGS) == 10
    for bug in bugs.BUGS:
        assert bug.buggy is not bug.correct
        assert (inspect.signature(bug.buggy).parameters.keys()
                == inspect.signature(bug.correct).parameters.keys()), bug.title
        assert "BUG" in bug.buggy.__doc__ and bug.correct.__doc__


def test_the_gallerys_helpers_name_bad_input():
    # IndexError for zero actions or a scalar, UFuncTypeError for a text bound
    for Z in (np.zeros((2, 0)), 3.0):
        for fn in (bugs.softmax, bugs.naive_softmax):
            with pytest.raises(ValueError, match="Z must hold logits along its last axis"):
                fn(Z)
    with pytest.raises(TypeError, match="low must be numeric"):
        bugs.clipped_action_score(GaussianPolicy(1), np.ones((1, 1)), [0.0], "a", 2.0)
    with pytest.raises(ValueError, match="low must not be NaN"):
        bugs.clipped_action_score(GaussianPolicy(1), np.ones((1, 1)), [0.0], np.nan, 2.0)
    with pytest.raises(TypeError, match="a Discrete action space needs a softmax or Bernoulli"):
        bugs.exploration_weight(GaussianPolicy(1), [1.0], 0, 0.1, gym.spaces.Discrete(3))
