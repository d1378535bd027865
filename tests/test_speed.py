"""The speed benchmarks compute the right things (their timings are not asserted)."""

import numpy as np
import pytest

from linear_pg import SoftmaxPolicy, policy_gradient
from linear_pg.speed import (
    _pair_ratios,
    gradient_problem,
    gradient_speed,
    markdown_table,
    median_time,
    per_step_gradient,
    raw_step_throughput,
    throughput,
    torch_autograd_gradient,
    training_throughput,
)


def test_per_step_loop_is_the_same_gradient_as_the_batch():
    policy, X, A, w = gradient_problem(T=50, n_features=4, n_actions=3, seed=1)
    np.testing.assert_allclose(per_step_gradient(policy.W, X, A, w),
                               policy_gradient(policy, X, A, w), rtol=1e-12, atol=1e-12)


def test_torch_autograd_is_the_same_gradient_as_the_batch():
    pytest.importorskip("torch")
    policy, X, A, w = gradient_problem(T=40, seed=2)
    grad = torch_autograd_gradient(policy.W, X, A, w)
    np.testing.assert_allclose(grad(), policy_gradient(policy, X, A, w), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(grad(), grad())  # the gradient is reset between calls


def test_gradient_problem_is_cartpole_sized():
    policy, X, A, w = gradient_problem()
    assert isinstance(policy, SoftmaxPolicy)
    assert X.shape == (1000, 5) and A.shape == (1000,) and w.shape == (1000,)
    np.testing.assert_array_equal(X[:, -1], 1.0)  # the bias feature


def test_gradient_speed_reports_every_field():
    out = gradient_speed(T=20, repeat=2, min_seconds=0.001, use_torch=False)
    assert out["torch_s"] is None and out["torch_speedup"] is None
    assert out["batch_s"] > 0 and out["loop_s"] > 0
    assert out["loop_speedup"] == pytest.approx(out["loop_s"] / out["batch_s"])
    assert out["max_abs_diff"] < 1e-10


def test_median_time_is_positive_per_call():
    assert 0 < median_time(lambda: sum(range(10)), repeat=3, min_seconds=0.001) < 0.01


@pytest.mark.parametrize("n_envs", [1, 4])
def test_raw_step_throughput_counts_env_steps(n_envs):
    out = raw_step_throughput("CartPole-v1", n_envs=n_envs, n_steps=30)
    assert out["env_steps"] == 30 * n_envs
    assert out["steps_per_s"] == pytest.approx(out["env_steps"] / out["seconds"])


def test_training_throughput_counts_the_steps_of_every_episode():
    out = training_throughput("CartPole-v1", n_envs=1, episodes=3)
    assert out["episodes"] == 3 and out["env_steps"] >= 3 * 8  # CartPole lasts >= 8 steps


def test_throughput_reports_the_pair_with_the_median_ratio():
    out = throughput("CartPole-v1", 1, episodes=2, raw_steps=50, repeats=3)
    assert len(out["ratios"]) == 3
    assert out["ratio"] == sorted(out["ratios"])[1]
    assert out["ratio"] == out["training"]["steps_per_s"] / out["raw"]["steps_per_s"]
    assert "median of 3 pairs: " in _pair_ratios(out["ratios"])
    assert _pair_ratios(out["ratios"][:1]) == ""


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="n_envs"):
        raw_step_throughput(n_envs=0)
    with pytest.raises(ValueError, match="repeats"):
        throughput(repeats=0)
    with pytest.raises(ValueError, match="T"):
        gradient_speed(T=0)


def test_markdown_table_has_one_line_per_row():
    rows = [{"metric": "a", "measured": "1", "target": "2", "pass": False},
            {"metric": "b", "measured": "-", "target": "2", "pass": None}]
    lines = markdown_table(rows).splitlines()
    assert lines[0] == "| metric | measured | target | pass |"
    assert lines[2:] == ["| a | 1 | 2 | NO |", "| b | - | 2 | n/a |"]
