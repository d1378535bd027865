"""Returns: reward-to-go, total return and normalization."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linear_pg import episode_returns, normalize, reward_to_go, total_return


def test_reward_to_go_hand_computed():
    # episode 1: r = (1, 2, 3), gamma = 0.5 -> G = (1 + 1 + 0.75, 2 + 1.5, 3)
    # episode 2: r = (10, -4)              -> G = (10 - 2, -4)
    G = reward_to_go([1.0, 2.0, 3.0, 10.0, -4.0], 0.5, lengths=[3, 2])
    np.testing.assert_allclose(G, [2.75, 3.5, 3.0, 8.0, -4.0], rtol=1e-15)
    np.testing.assert_allclose(reward_to_go([np.array([1.0, 2.0, 3.0]), np.array([10.0, -4.0])],
                                            0.5), G)


def test_total_return_hand_computed():
    W = total_return([1.0, 2.0, 3.0, 10.0, -4.0], 0.5, lengths=[3, 2])
    np.testing.assert_allclose(W, [2.75, 2.75, 2.75, 8.0, 8.0])
    np.testing.assert_allclose(episode_returns([1.0, 1.0, 1.0], 1.0), [3.0])


def test_cartpole_rewards_discount_by_time_not_by_reward():
    # all rewards 1: G_0 = (1 - gamma^T) / (1 - gamma); gamma ** r would give gamma * T
    T, gamma = 200, 0.99
    G = reward_to_go(np.ones(T), gamma)
    assert G[0] == pytest.approx((1 - gamma**T) / (1 - gamma), rel=1e-12)
    assert G[-1] == 1.0


@given(rewards=st.lists(st.floats(-10, 10), min_size=1, max_size=60),
       gamma=st.floats(0.0, 1.0))
def test_reward_to_go_matches_definition(rewards, gamma):
    r = np.array(rewards)
    expected = [sum(gamma ** (k - t) * r[k] for k in range(t, len(r))) for t in range(len(r))]
    np.testing.assert_allclose(reward_to_go(r, gamma), expected, rtol=1e-10, atol=1e-10)


@given(lengths=st.lists(st.integers(1, 30), min_size=1, max_size=8), gamma=st.floats(0.0, 1.0),
       seed=st.integers(0, 1000))
def test_batch_is_the_concatenation_of_single_episodes(lengths, gamma, seed):
    r = np.random.default_rng(seed).standard_normal(sum(lengths))
    parts = np.split(r, np.cumsum(lengths)[:-1])
    G = reward_to_go(r, gamma, lengths)
    np.testing.assert_array_equal(G, np.concatenate([reward_to_go(p, gamma) for p in parts]))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    np.testing.assert_array_equal(episode_returns(r, gamma, lengths), G[starts])


def test_uneven_lengths_give_the_same_numbers_as_even_ones():
    # many short episodes and one long one are filtered one episode at a time (a padded
    # matrix would be mostly zeros); the numbers must not depend on that choice
    lengths = [1] * 200 + [3000] + [2] * 50
    r = np.random.default_rng(5).standard_normal(sum(lengths))
    parts = np.split(r, np.cumsum(lengths)[:-1])
    np.testing.assert_array_equal(reward_to_go(r, 0.97, lengths),
                                  np.concatenate([reward_to_go(p, 0.97) for p in parts]))


def test_reward_to_go_long_episode_is_finite_and_exact():
    T, gamma = 10_000, 0.9
    G = reward_to_go(np.ones(T), gamma)
    assert np.all(np.isfinite(G))
    assert G[0] == pytest.approx(10.0, rel=1e-12)


def test_normalize_has_zero_mean_unit_std_and_survives_constant_batch():
    w = normalize(np.array([1.0, 2.0, 3.0, 4.0]))
    assert w.mean() == pytest.approx(0.0, abs=1e-12)
    assert w.std() == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_array_equal(normalize(np.full(5, 500.0)), np.zeros(5))


@pytest.mark.parametrize(
    ("call", "exc", "words"),
    [
        (lambda: reward_to_go([1.0], 1.5), ValueError, ["gamma", "[0, 1]", "1.5"]),
        (lambda: reward_to_go([1.0], -0.1), ValueError, ["gamma", "[0, 1]"]),
        (lambda: reward_to_go([1.0], "0.9"), TypeError, ["gamma"]),
        (lambda: reward_to_go([1.0, 2.0], 0.9, lengths=[1, 2]), ValueError,
         ["lengths", "add up", "2"]),
        (lambda: reward_to_go([1.0, 2.0], 0.9, lengths=[2, 0]), ValueError, ["lengths"]),
        (lambda: reward_to_go([1.0, 2.0], 0.9, lengths=[1.0, 1.0]), ValueError,
         ["lengths", "ints"]),
        (lambda: reward_to_go(np.ones((2, 2)), 0.9), ValueError, ["rewards", "1-D", "(2, 2)"]),
        (lambda: reward_to_go([1.0, np.nan], 0.9), ValueError, ["rewards", "finite"]),
        (lambda: normalize([1.0, 2.0], eps=0.0), ValueError, ["eps", "> 0"]),
        (lambda: normalize([[1.0]]), ValueError, ["weights", "1-D"]),
        # an empty episode in a list was "lengths must be positive", with no lengths given
        (lambda: reward_to_go([np.ones(2), np.array([])], 0.9), ValueError,
         ["rewards", "episode 1 of the 2 given is empty"]),
        # Python ints beyond float64 were a bare OverflowError
        (lambda: reward_to_go([2**2000], 0.9), ValueError, ["rewards", "too large"]),
        (lambda: reward_to_go([1.0], 2**2000), ValueError, ["gamma", "[0, 1]"]),
        (lambda: normalize([1.0, 2.0], eps=2**2000), ValueError, ["eps", "too large"]),
    ],
)
def test_bad_input_gives_clear_error(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ---------------------------------------------------------------------- input errors (audit)
def test_complex_rewards_are_rejected_not_truncated():
    with pytest.raises(TypeError, match="rewards must be real-valued"):
        reward_to_go(np.array([1 + 5j, 2]), 0.5)
    with pytest.raises(TypeError, match="weights must be real-valued"):
        normalize(np.array([1 + 5j, 2]))


def test_a_list_of_episodes_with_lengths_says_a_flat_array_is_expected():
    with pytest.raises(ValueError, match="one flat 1-D array of all episodes' rewards"):
        reward_to_go([np.ones(2), np.ones(3)], 0.5, [2, 3])
    # without lengths the list is accepted, and equals the flat form with lengths
    np.testing.assert_array_equal(reward_to_go([np.ones(2), np.ones(3)], 0.5),
                                  reward_to_go(np.ones(5), 0.5, [2, 3]))


@given(w=st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=20),
       exponent=st.integers(300, 308))
def test_normalize_is_scale_invariant_up_to_the_float_limit(w, exponent):
    """normalize(c w) = normalize(w) for c > 0 (eps aside): also where c w overflows std."""
    w = np.array(w)
    big = w * 1.7 * 10.0**exponent / 1.0            # up to 1.7e308, the float64 limit
    expected = normalize(w / max(np.max(np.abs(w)), 1e-300), eps=1e-300)
    result = normalize(big)
    assert np.all(np.isfinite(result))
    if np.ptp(w) > 1e-6 * np.max(np.abs(w)):        # not a constant batch
        np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-9)


def test_normalize_huge_weights_example():
    np.testing.assert_array_equal(normalize([1e308, -1e308]), [1.0, -1.0])


def test_lengths_whose_sum_wraps_around_are_refused_clearly():
    # uint64 lengths summed modulo 2**64 to 2 and reached NumPy's "repeats may not contain
    # negative values"
    with pytest.raises(ValueError, match="lengths must add up to the 2 steps given, got a "
                                         "length of 18446744073709551615"):
        reward_to_go([1.0, 1.0], 0.5, lengths=np.array([2**64 - 1, 3], np.uint64))


def test_bootstrapping_at_a_time_limit_is_a_building_block():
    # only the trainer could bootstrap (from a Batch); a loop of one's own treated the
    # 500-step limit as a failure
    from linear_pg.returns import bootstrap_truncated

    rewards = np.ones(5)
    out = bootstrap_truncated(rewards, 0.9, [3, 2], [True, False], [10.0, 50.0])
    np.testing.assert_array_equal(out, [1.0, 1.0, 10.0, 1.0, 1.0])
    assert rewards[2] == 1.0                                   # a copy
    G = reward_to_go(out, 0.9, [3, 2])
    np.testing.assert_allclose(G[0], 1 + 0.9 + 0.81 * (1 + 0.9 * 10.0))
    with pytest.raises(ValueError, match="truncated must be 2 bools"):
        bootstrap_truncated(rewards, 0.9, [3, 2], [1, 0], [10.0, 50.0])
    with pytest.raises(ValueError, match=r"final_values must have shape \(2,\)"):
        bootstrap_truncated(rewards, 0.9, [3, 2], [True, False], [10.0])
    # the value after an episode that terminated is not used (V = 0), so it may be NaN
    np.testing.assert_array_equal(
        bootstrap_truncated(rewards, 0.9, [3, 2], [True, False], [10.0, np.nan]), out)
    with pytest.raises(ValueError, match="final_values of the truncated episodes must be"):
        bootstrap_truncated(rewards, 0.9, [3, 2], [True, False], [np.inf, 50.0])
