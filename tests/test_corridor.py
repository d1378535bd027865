"""The short corridor: exact values, the exact policy gradient, and sampled REINFORCE."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy.optimize import minimize_scalar

from linear_pg import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy
from linear_pg.check_report import relative_error
from linear_pg.corridor import (
    ENV_ID,
    GOAL,
    ShortCorridorEnv,
    corridor_transition_matrix,
    exact_policy_gradient,
    exact_start_value,
    exact_values,
    expected_visits,
    finite_difference_gradient,
    optimal_p_right,
    sample_episodes,
)
from linear_pg.estimator import policy_gradient
from linear_pg.returns import episode_starts, reward_to_go


def hand_solved_J(p):
    """v0 = v1 - 1/p and v1 = -(3 - p) / (p (1 - p)), eliminated by hand."""
    return -2.0 * (2.0 - p) / (p * (1.0 - p))


# ---------------------------------------------------------------------- exact quantities


def test_values_at_one_half_are_the_hand_solved_ones():
    np.testing.assert_allclose(exact_values(0.5), [-12.0, -10.0, -6.0], rtol=1e-12)
    assert exact_start_value(0.5) == pytest.approx(-12.0, rel=1e-12)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.77, 0.99])
def test_start_value_matches_the_closed_form(p):
    assert exact_start_value(p) == pytest.approx(hand_solved_J(p), rel=1e-12)


def test_values_satisfy_the_discounted_bellman_equation():
    p, gamma = 0.3, 0.9
    v = exact_values(p, gamma)
    P = corridor_transition_matrix(p)
    np.testing.assert_allclose(v, -1.0 + gamma * P @ v, rtol=1e-12)
    # with gamma < 1 even a deterministic policy has a finite value: -1 / (1 - gamma)
    assert exact_start_value(0.0, gamma=0.9) == pytest.approx(-10.0)


def test_transition_matrix_rows_lose_only_the_goal_move():
    p = 0.3
    P = corridor_transition_matrix(p)
    np.testing.assert_allclose(P.sum(axis=1), [1.0, 1.0, 1.0 - p])
    assert P[1, 0] == p and P[1, 2] == 1 - p  # the switched state


def test_expected_visits_sum_to_the_expected_length():
    np.testing.assert_allclose(expected_visits(0.5), [6.0, 4.0, 2.0])
    for p in (0.2, 0.6, 0.9):
        assert expected_visits(p).sum() == pytest.approx(-exact_start_value(p), rel=1e-12)


def test_optimum_is_two_minus_root_two():
    p_star = optimal_p_right()
    assert p_star == pytest.approx(0.5858, abs=1e-4)
    assert exact_start_value(p_star) == pytest.approx(-11.657, abs=1e-3)
    grid = np.linspace(0.001, 0.999, 9981)
    J = np.array([exact_start_value(p) for p in grid])
    assert abs(grid[np.argmax(J)] - p_star) <= 1e-4
    assert exact_start_value(p_star) >= J.max()
    numeric = minimize_scalar(lambda p: -exact_start_value(p), bounds=(0.01, 0.99),
                              method="bounded", options={"xatol": 1e-10})
    assert numeric.x == pytest.approx(p_star, abs=1e-6)


@pytest.mark.parametrize("bad, error", [(0.0, ValueError), (1.0, ValueError),
                                        (1.5, ValueError), ("0.5", TypeError)])
def test_p_right_is_validated(bad, error):
    with pytest.raises(error, match="p_right"):
        exact_start_value(bad)


def test_p_right_too_close_to_0_or_1_is_refused_not_solved_wrong():
    # below about 1e-16, 1 - p rounds to 1 and the solve returned J = -0.0, a value better
    # than the optimum, for a policy that almost never moves right
    from linear_pg.corridor import P_RIGHT_MIN, expected_visits, p_right_of

    for p in (1e-17, P_RIGHT_MIN / 2, 1 - P_RIGHT_MIN / 2):
        with pytest.raises(ValueError, match=r"p_right = .* is too close to [01] for the exact "
                                             r"solution with gamma = 1"):
            exact_start_value(p)
    with pytest.raises(ValueError, match="too close to 0"):
        expected_visits(1e-17)
    policy = BernoulliPolicy(1)
    policy.theta = [-38.0]                       # p_right ~ 3e-17
    assert p_right_of(policy) < 1e-16
    with pytest.raises(ValueError, match="too close to 0"):
        exact_policy_gradient(policy)
    for p in (P_RIGHT_MIN, 1 - 2 * P_RIGHT_MIN):  # at the limits: within 1e-6
        closed_form = -2 * (2 - p) / (p * (1 - p))
        assert exact_start_value(p) == pytest.approx(closed_form, rel=1e-6)
    assert np.isfinite(exact_start_value(1e-17, gamma=0.9))   # discounting: well posed


# ---------------------------------------------------------------------- exact gradient


def _policy(kind, theta):
    policy = SoftmaxPolicy(1, 2) if kind == "softmax" else BernoulliPolicy(1)
    policy.theta = theta
    return policy


CASES = [("softmax", [0.0, 0.0]), ("softmax", [0.4, -0.9]), ("softmax", [-1.0, 0.6]),
         ("bernoulli", [0.0]), ("bernoulli", [1.2]), ("bernoulli", [-1.5])]


@pytest.mark.parametrize("kind, theta", CASES)
def test_exact_gradient_equals_the_finite_difference_of_J(kind, theta):
    policy = _policy(kind, theta)
    exact = exact_policy_gradient(policy)
    numeric = finite_difference_gradient(policy)
    assert np.max(relative_error(exact, numeric, floor=1.0)) < 1e-7
    np.testing.assert_array_equal(policy.theta, theta)  # restored


def test_exact_gradient_vanishes_at_the_optimum():
    p = optimal_p_right()
    policy = _policy("bernoulli", [np.log(p / (1 - p))])
    assert abs(exact_policy_gradient(policy)[0]) < 1e-12


def test_exact_gradient_wants_a_two_action_policy_on_one_feature():
    with pytest.raises(TypeError, match="SoftmaxPolicy"):
        exact_policy_gradient(GaussianPolicy(1))
    with pytest.raises(ValueError, match="n_actions=2"):
        exact_policy_gradient(SoftmaxPolicy(1, 3))
    with pytest.raises(ValueError, match="n_features=1"):
        exact_policy_gradient(BernoulliPolicy(2))


@pytest.mark.parametrize("kind, theta", [("softmax", [0.3, -0.2]), ("bernoulli", [-0.8])])
def test_reinforce_estimate_matches_the_exact_gradient(kind, theta):
    policy = _policy(kind, theta)
    X, A, rewards, lengths = sample_episodes(policy, 3000, np.random.default_rng(7))
    G = reward_to_go(rewards, 1.0, lengths)
    g = policy_gradient(policy, X, A, G, lengths, average="episodes")
    per_episode = np.add.reduceat(policy.grad_log_prob(X, A) * G[:, None],
                                  episode_starts(lengths), axis=0)
    np.testing.assert_allclose(per_episode.mean(axis=0), g, rtol=1e-10)
    se = per_episode.std(axis=0, ddof=1) / np.sqrt(lengths.size)
    exact = exact_policy_gradient(policy)
    assert np.all(np.abs(g - exact) < 4 * se), (g, exact, se)
    assert np.all(np.abs(exact) > 4 * se)  # the comparison has power: exact is not ~0


# ---------------------------------------------------------------------- the environment


def _run(env, actions):
    env.reset(seed=0)
    out = [env.step(a) for a in actions]
    return [o[4]["state"] for o in out], out[-1]


@pytest.mark.parametrize("actions, states", [
    ([0], [0]),                  # left in state 0 stays
    ([1], [1]),                  # right from 0 reaches 1
    ([1, 1], [1, 0]),            # switched: right in state 1 goes back to 0
    ([1, 0], [1, 2]),            # switched: left in state 1 goes on to 2
    ([1, 0, 0], [1, 2, 1]),      # left in 2 goes back to 1
    ([1, 0, 1], [1, 2, GOAL]),   # right in 2 reaches the goal
])
def test_dynamics(actions, states):
    env = ShortCorridorEnv()
    seen, (obs, reward, terminated, truncated, _) = _run(env, actions)
    assert seen == states
    assert reward == -1.0 and truncated is False
    assert terminated is (states[-1] == GOAL)
    np.testing.assert_array_equal(obs, [1.0])


# The observation space is Box(1, 1): constant by design (all states look the same), which
# gymnasium's checker flags with a warning.
@pytest.mark.filterwarnings("ignore:.*maximum and minimum values are equal")
def test_env_passes_the_gymnasium_checker():
    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs) and info == {"state": 0}
    assert obs.dtype == np.float64 and env.action_space == gym.spaces.Discrete(2)


def test_registration_is_guarded():
    from linear_pg import corridor

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        corridor._register()  # a second registration would warn about overriding
    assert gym.spec(ENV_ID).entry_point == "linear_pg.corridor:ShortCorridorEnv"


def test_truncation_after_max_episode_steps():
    env = ShortCorridorEnv(max_episode_steps=5)
    env.reset()
    flags = [env.step(0)[2:4] for _ in range(5)]
    assert flags == [(False, False)] * 4 + [(False, True)]
    X, A, rewards, lengths = sample_episodes(_policy("bernoulli", [-30.0]), 2, 0,
                                             max_episode_steps=7)
    np.testing.assert_array_equal(lengths, [7, 7])  # always left: never reaches the goal


@pytest.mark.parametrize("kind, w", [("bernoulli", [40.0]), ("bernoulli", [-25.0]),
                                     ("softmax", [-20.0, 20.0])])
def test_uncut_sampling_refuses_a_policy_that_never_reaches_the_goal(kind, w):
    # p_right rounds to 1 (always right: 0 -> 1 -> 0 ...) or is ~1e-11: no end in sight
    with pytest.raises(ValueError, match="max_episode_steps=None.*would not end"):
        sample_episodes(_policy(kind, w), 1, 0, max_episode_steps=None)
    lengths = sample_episodes(_policy(kind, w), 1, 0, max_episode_steps=9)[3]
    np.testing.assert_array_equal(lengths, [9])   # cut episodes are still fine


def test_step_is_validated():
    env = ShortCorridorEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset()
    for bad in (2, -1, 0.5, "left"):
        with pytest.raises(ValueError, match="action must be 0"):
            env.step(bad)
    _run(env, [1, 0, 1])
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)
    with pytest.raises(ValueError, match="max_episode_steps"):
        ShortCorridorEnv(max_episode_steps=0)


def test_sampling_is_reproducible():
    policy = _policy("softmax", [0.2, 0.1])
    first = sample_episodes(policy, 50, seed=11)
    again = sample_episodes(policy, 50, seed=11)
    other = sample_episodes(policy, 50, seed=12)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])
    X, A, rewards, lengths = first
    assert X.shape == (lengths.sum(), 1) and np.all(X == 1.0) and np.all(rewards == -1.0)


@pytest.mark.filterwarnings("ignore:.*maximum and minimum values are equal")
def test_made_envs_with_the_same_seed_agree():
    def trajectory(seed):
        env = gym.make(ENV_ID)
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(30):
            obs, r, terminated, truncated, info = env.step(int(rng.integers(2)))
            out.append((info["state"], r, terminated))
            if terminated:
                break
        return out

    assert trajectory(5) == trajectory(5)


def test_making_the_corridor_warns_about_nothing():
    # gymnasium's passive checker warned at every make about the constant observation
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(ENV_ID)
        env.reset(seed=0)
        env.step(1)                     # right
