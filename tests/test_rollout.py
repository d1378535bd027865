"""Rollouts in one env and in a vector env (NEXT_STEP autoreset)."""

import gymnasium as gym
import numpy as np
import pytest

from linear_pg.envs import make_env
from linear_pg.features import RawFeatures
from linear_pg.policies import GaussianPolicy, SoftmaxPolicy
from linear_pg.rollout import (
    _StepBuffers,
    _to_env_one,
    collect,
    collect_episodes,
    collect_episodes_vec,
    env_action,
)


def _cartpole_policy():
    phi = RawFeatures().fit(np.zeros((1, 4)))
    pi = SoftmaxPolicy(5, 2)
    pi.W[:, 1] = [0.0, 0.5, 2.0, 0.5, 0.0]  # a mediocre controller: episodes of ~30-100 steps
    return pi, phi


def test_single_env_batch_layout():
    pi, phi = _cartpole_policy()
    b = collect_episodes(make_env("CartPole-v1"), pi, phi, 4, np.random.default_rng(0))
    assert b.n_episodes == 4 and b.lengths.sum() == b.rewards.size == b.X.shape[0]
    assert b.actions.shape == (b.rewards.size,) and np.all(b.rewards == 1.0)
    np.testing.assert_array_equal(b.episode_returns, b.lengths)
    np.testing.assert_array_equal(b.X[:, -1], 1.0)


def test_vector_env_drops_reset_steps_and_collects_the_batch():
    pi, phi = _cartpole_policy()
    venv = make_env("CartPole-v1", n_envs=3)
    b = collect_episodes_vec(venv, pi, phi, 7, np.random.default_rng(0))
    assert b.n_episodes == 7
    # a NEXT_STEP reset step has reward 0: none may leak into the batch
    assert np.all(b.rewards == 1.0)
    assert np.all(b.terminated | (b.lengths == 500))


def test_single_and_vector_rollouts_agree_in_distribution():
    pi, phi = _cartpole_policy()
    single = collect_episodes(make_env("CartPole-v1"), pi, phi, 150,
                              np.random.default_rng(1)).lengths
    vec = collect_episodes_vec(make_env("CartPole-v1", n_envs=4), pi, phi, 150,
                               np.random.default_rng(2)).lengths
    se = np.sqrt(single.var() / single.size + vec.var() / vec.size)
    assert abs(single.mean() - vec.mean()) < 4 * se


def test_gaussian_actions_are_clipped_for_the_env_only():
    phi = RawFeatures().fit(np.zeros((1, 3)))
    pi = GaussianPolicy(4, 1, init_log_std=np.log(5.0))   # sigma 5 >> the bound 2
    b = collect_episodes(make_env("Pendulum-v1"), pi, phi, 1, np.random.default_rng(0))
    assert b.actions.shape == (200, 1)
    assert np.abs(b.actions).max() > 2.0                   # the sample, unclipped, is kept


def test_vector_env_keeps_the_unclipped_gaussian_sample_too():
    phi = RawFeatures().fit(np.zeros((1, 3)))
    pi = GaussianPolicy(4, 1, init_log_std=np.log(5.0))   # sigma 5 >> the bound 2
    b = collect_episodes_vec(make_env("Pendulum-v1", n_envs=2), pi, phi, 2,
                             np.random.default_rng(0))
    assert b.actions.shape == (400, 1)
    assert np.abs(b.actions).max() > 2.0                   # the sample, unclipped, is kept


def test_a_box_action_is_clipped_on_its_way_to_the_env():
    # Pendulum and MountainCarContinuous clip the torque themselves, so a rollout there
    # cannot tell; an env of one's own may not
    box = gym.spaces.Box(-2.0, 2.0, shape=(2,), dtype=np.float32)
    out = env_action(box, np.array([5.0, -0.5]))
    np.testing.assert_array_equal(out, [2.0, -0.5])
    assert out.dtype == np.float32 and box.contains(out)
    np.testing.assert_array_equal(env_action(box, np.array([[-3.0, 2.5], [0.25, 1.0]])),
                                  [[-2.0, 2.0], [0.25, 1.0]])
    ints = gym.spaces.Box(0, 4, shape=(1,), dtype=np.int64)   # rounded, after the clip
    np.testing.assert_array_equal(env_action(ints, np.array([2.6])), [3])
    np.testing.assert_array_equal(env_action(ints, np.array([-7.2])), [0])


def test_vector_pendulum_batch():
    phi = RawFeatures().fit(np.zeros((1, 3)))
    pi = GaussianPolicy(4, 1)
    b = collect_episodes_vec(make_env("Pendulum-v1", n_envs=2), pi, phi, 3,
                             np.random.default_rng(0))
    np.testing.assert_array_equal(b.lengths, [200, 200, 200])
    assert not b.terminated.any()


def test_discrete_actions_are_offset_by_the_space_start():
    # the policy's indices 0..n-1 are the env's actions start..start+n-1
    space = gym.spaces.Discrete(3, start=-1)
    np.testing.assert_array_equal(env_action(space, np.array([0, 1, 2])), [-1, 0, 1])
    assert space.contains(int(env_action(space, np.int64(0))))
    one = env_action(space, np.array(2))              # one action: a hashable NumPy integer
    assert type(one) is space.dtype.type and one == 1 and {one: "key"}[1] == "key"


def test_vector_episodes_are_handed_out_until_the_batch_is_started():
    # 10 episodes on 4 sub-envs: every episode started is complete and kept, none lost,
    # and each episode's rewards, features and actions stay together
    pi, phi = _cartpole_policy()
    b = collect_episodes_vec(make_env("CartPole-v1", n_envs=4), pi, phi, 10,
                             np.random.default_rng(3))
    assert b.n_episodes == 10 and b.lengths.sum() == b.X.shape[0] == b.obs.shape[0]
    np.testing.assert_array_equal(b.X, phi.transform(b.obs))
    assert np.all(b.terminated | (b.lengths == 500))
    # a terminated episode ends in a failed state: cart beyond 2.4 or pole beyond 12 degrees
    failed = (np.abs(b.final_X[:, 0]) > 2.4) | (np.abs(b.final_X[:, 2]) > 12 * np.pi / 180)
    np.testing.assert_array_equal(b.terminated, failed)


def test_single_env_marks_terminated_episodes_and_keeps_the_state_after_the_last_step():
    pi, phi = _cartpole_policy()
    pi.W[:, 1] = [0.0, 1.0, 10.0, 2.0, 0.0]      # a better controller: one reaches the limit
    b = collect_episodes(make_env("CartPole-v1"), pi, phi, 6, np.random.default_rng(0))
    assert b.terminated.any() and not b.terminated.all()
    np.testing.assert_array_equal(b.terminated, b.lengths < 500)
    # the state after the last step: beyond CartPole's limits exactly when terminated
    failed = (np.abs(b.final_X[:, 0]) > 2.4) | (np.abs(b.final_X[:, 2]) > 12 * np.pi / 180)
    np.testing.assert_array_equal(b.terminated, failed)
    np.testing.assert_array_equal(b.final_X, phi.transform(b.final_obs))


def test_the_same_seed_gives_the_same_vector_batch():
    pi, phi = _cartpole_policy()
    a, b = (collect_episodes_vec(make_env("CartPole-v1", n_envs=3), pi, phi, 5,
                                 np.random.default_rng(4)) for _ in range(2))
    for field in ("obs", "X", "actions", "rewards", "lengths", "terminated", "final_X"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_step_buffers_keep_every_row_when_they_grow():
    buf = _StepBuffers(capacity=2)
    for t in range(7):                                   # grows 2 -> 4 -> 8
        obs = buf.next_row(np.full((3, 4), t, dtype=np.float32))
        buf.store(obs[:, :2] + 0.5, np.arange(3) + t, np.full(3, t), np.ones(3, bool),
                  np.arange(3) == t % 3)
    assert buf["obs"].dtype == np.float64 and buf["A"].dtype == np.arange(3).dtype
    np.testing.assert_array_equal(buf["obs"][:, 0, 0], np.arange(7))
    np.testing.assert_array_equal(buf["X"][:, 1, 1], np.arange(7) + 0.5)
    np.testing.assert_array_equal(buf["A"][:, 2], np.arange(7) + 2)
    np.testing.assert_array_equal(buf["R"][:, 0], np.arange(7))
    np.testing.assert_array_equal(buf["ended"][:, 0], np.arange(7) % 3 == 0)


def test_single_env_receives_numpy_integers_of_the_space():
    space = gym.spaces.Discrete(3, start=-1)
    to_env = _to_env_one(space)
    assert [to_env(a) for a in range(3)] == [-1, 0, 1]
    assert all(space.contains(to_env(a)) and isinstance(to_env(a), np.integer) for a in range(3))


ENV = make_env("CartPole-v1")
PHI = RawFeatures().fit(np.zeros((1, 4)))
PI = SoftmaxPolicy(5, 2)
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("args, exc, match", [
    ((ENV, PI, PHI, 0, RNG), ValueError, "n_episodes must be >= 1, got 0"),
    ((ENV, PI, PHI, 2, 0), TypeError, r"rng must be a np.random.Generator .* got int"),
    ((ENV, SoftmaxPolicy(4, 2), PHI, 1, RNG), ValueError, "does not fit this env"),
    ((ENV, GaussianPolicy(5), PHI, 1, RNG), ValueError, "needs a continuous|does not fit"),
    ((ENV, PI, RawFeatures(), 1, RNG), ValueError, "features RawFeatures is not fitted"),
    ((make_env("Pendulum-v1"), PI, PHI, 1, RNG), ValueError,
     "fitted on observations of size 4, but this env's observations have size 3"),
    ((ENV, "policy", PHI, 1, RNG), TypeError, "policy must be a linear_pg policy"),
    ((ENV, PI, "raw", 1, RNG), TypeError, "features must be a fitted linear_pg FeatureMap"),
    (("CartPole-v1", PI, PHI, 1, RNG), TypeError, "env must be a gymnasium Env"),
])
@pytest.mark.parametrize("entry", [collect, collect_episodes])
def test_bad_rollout_arguments_give_clear_errors(entry, args, exc, match):
    with pytest.raises(exc, match=match):
        entry(*args)


def test_single_and_vector_entry_points_refuse_the_other_kind_of_env():
    with pytest.raises(TypeError, match="for a vector env use collect_episodes_vec"):
        collect_episodes(make_env("CartPole-v1", n_envs=2), PI, PHI, 1, RNG)
    with pytest.raises(TypeError, match="venv must be a gymnasium.vector.VectorEnv"):
        collect_episodes_vec(ENV, PI, PHI, 1, RNG)
    with pytest.raises(TypeError, match="mean_action must be a bool"):
        collect(ENV, PI, PHI, 1, RNG, mean_action="yes")
