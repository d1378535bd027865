"""scripts/pendulum_optimum.py: its model is gymnasium's Pendulum and its controller is good."""

import gymnasium as gym
import numpy as np
import pytest


@pytest.fixture(scope="module")
def optimum(load_script):
    return load_script("pendulum_optimum")


def test_dynamics_match_gymnasium_step(optimum):
    env = gym.make("Pendulum-v1", g=10.0).unwrapped
    rng = np.random.default_rng(0)
    for _ in range(20):
        th, v, u = rng.uniform(-4, 4), rng.uniform(-8, 8), rng.uniform(-2, 2)
        env.reset(seed=0)
        env.state = np.array([th, v])
        obs, reward, *_ = env.step(np.array([u]))
        th_next, v_next, cost = optimum.dynamics(np.array(th), np.array(v), np.array(u))
        assert reward == pytest.approx(-cost, rel=1e-12)
        np.testing.assert_allclose(obs, [np.cos(th_next), np.sin(th_next), v_next],
                                   rtol=1e-6, atol=1e-6)      # obs is float32


def test_interpolation_is_exact_on_the_grid_and_periodic_in_the_angle(optimum):
    grid = optimum.Grid(12, 9)
    V = np.random.default_rng(1).normal(size=(12, 9))
    th, v = np.meshgrid(grid.theta, grid.velocity, indexing="ij")
    np.testing.assert_allclose(grid.interpolate(V, th, v), V, atol=1e-12)
    np.testing.assert_allclose(grid.interpolate(V, th + 2 * np.pi, v), V, atol=1e-12)


def test_coarse_dp_controller_swings_up_far_better_than_the_target(optimum, capsys):
    assert optimum.main(["--n-theta", "61", "--n-velocity", "41", "--n-torques", "21",
                         "--episodes", "100"]) == 0
    out = capsys.readouterr().out
    mean = float(out.split("mean return ")[1].split(",")[0])
    assert -150.0 < mean < -100.0         # the preset's policies average about -146


def test_every_episode_starts_from_its_own_state(optimum):
    grid = optimum.Grid(31, 21)
    torques = np.linspace(-2.0, 2.0, 5)
    values = [np.zeros((31, 21))] * (optimum.HORIZON + 1)
    returns = optimum.run_episodes(grid, values, torques, episodes=30, seed=0, n_envs=10)
    assert returns.shape == (30,) and np.unique(returns).size == 30
