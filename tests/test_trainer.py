"""train / evaluate / Run / train_seeds: learning, determinism, errors, interrupts."""

import warnings

import numpy as np
import pytest

from linear_pg.policies import SoftmaxPolicy
from linear_pg.trainer import Run, evaluate, train, train_seeds


def test_cartpole_learns_in_a_short_run():
    run = train("CartPole-v1", episodes=120, seed=0)        # the preset
    R = run.episode_returns
    assert R.shape == (120,) and run.stopped_reason is None
    assert R[-20:].mean() > 3 * R[:20].mean()


def test_pendulum_improves_clearly():
    run = train("Pendulum-v1", episodes=80, seed=0)
    R = run.episode_returns
    assert R[-10:].mean() > R[:10].mean() + 150


def test_same_seed_is_bit_identical_and_other_seed_differs():
    a = train("CartPole-v1", episodes=12, seed=5, batch_episodes=4)
    b = train("CartPole-v1", episodes=12, seed=5, batch_episodes=4)
    c = train("CartPole-v1", episodes=12, seed=6, batch_episodes=4)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    np.testing.assert_array_equal(a.policy.theta, b.policy.theta)
    assert not np.array_equal(a.episode_returns, c.episode_returns)


def test_run_history_columns_have_equal_length():
    run = train("Pendulum-v1", episodes=5, seed=0, batch_episodes=2)
    h = run.history()
    assert {"episode", "return", "length", "update", "grad_norm", "entropy", "mean_std",
            "wall_time"} <= set(h)
    assert {v.shape for v in h.values()} == {(5,)}
    np.testing.assert_array_equal(h["update"], [1, 1, 2, 2, 3])
    u = run.update_history()
    assert {v.shape for v in u.values()} == {(3,)} and np.all(u["mean_std"] > 0)
    import json

    json.dumps(run.to_dict())
    json.dumps(run.config)


def test_evaluate_and_policy_instances():
    run = train("CartPole-v1", episodes=4, seed=0, policy="bernoulli", batch_episodes=2)
    assert run.policy.kind == "bernoulli"
    R = evaluate(run, episodes=3)
    assert R.shape == (3,) and np.all(R >= 1)
    np.testing.assert_array_equal(R, evaluate(run.policy, 3, env_id="CartPole-v1",
                                             features=run.features, seed=run.seed + 1_000_003))
    pi = SoftmaxPolicy(5, 2, init_scale=0.1)
    r2 = train("CartPole-v1", episodes=2, policy=pi, features=run.features)
    assert not np.shares_memory(r2.policy.theta, pi.theta)


def test_vector_env_training_runs():
    run = train("CartPole-v1", episodes=9, seed=0, n_envs=3, batch_episodes=3)
    assert run.episode_returns.shape == (9,)


def test_other_envs_get_defaults():
    run = train("Acrobot-v1", episodes=2, seed=0)
    assert run.policy.kind == "softmax" and run.policy.n_actions == 3
    run = train("MountainCarContinuous-v0", episodes=1, seed=0)
    assert run.policy.kind == "gaussian"


def test_callback_and_interrupt_keep_history():
    seen = []

    def cb(run):
        seen.append(run.n_episodes)
        if len(seen) == 2:
            raise KeyboardInterrupt

    run = train("CartPole-v1", episodes=50, seed=0, batch_episodes=5, callback=cb)
    assert run.stopped_reason == "interrupted"
    assert seen == [5, 10] and run.n_episodes == 10


def test_divergence_stops_with_warning_and_keeps_finite_theta():
    with pytest.warns(RuntimeWarning, match="diverged"):
        run = train("CartPole-v1", episodes=40, seed=0, optimizer="sgd", lr=1e305,
                    batch_episodes=2, normalize_weights=False)
    assert run.stopped_reason.startswith("diverged")
    assert np.all(np.isfinite(run.policy.theta))


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"env_id": "NoSuchEnv-v0"}, ValueError, "env_id 'NoSuchEnv-v0' is not a registered"),
    ({"policy": "bernoulli", "env_id": "Acrobot-v1"}, ValueError, "exactly 2 actions"),
    ({"policy": "softmax", "env_id": "Pendulum-v1"}, ValueError, "needs a Discrete"),
    ({"policy": "gaussian"}, ValueError, "needs a continuous"),
    ({"policy": "tanh"}, ValueError, "policy must be one of"),
    ({"gamma": 1.5}, ValueError, r"gamma must lie in \[0, 1\], got 1.5"),
    ({"lr": -0.1}, ValueError, "lr must be > 0.0, got -0.1"),
    ({"episodes": 0}, ValueError, "episodes must be >= 1, got 0"),
    ({"batch_episodes": 2.5}, TypeError, "batch_episodes must be an int"),
    ({"estimator": "gae"}, ValueError, "estimator must be one of"),
    ({"baseline": "critic"}, ValueError, "baseline must be one of"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of"),
    ({"normalize_weights": "yes"}, TypeError, "normalize_weights must be a bool"),
    ({"features": "fourier"}, ValueError, "features must be one of"),
    ({"policy": SoftmaxPolicy(7, 2)}, ValueError, "does not fit this env"),
    ({"n_envs": 0}, ValueError, "n_envs must be >= 1"),
])
def test_bad_arguments_give_clear_errors(kwargs, exc, match):
    kwargs = {"env_id": "CartPole-v1", "episodes": 2, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match):
            train(kwargs.pop("env_id"), **kwargs)


def test_train_seeds_parallel_equals_sequential():
    par = train_seeds("CartPole-v1", [0, 1], n_jobs=2, episodes=4, batch_episodes=2)
    seq = train_seeds("CartPole-v1", 2, episodes=4, batch_episodes=2)
    assert all(isinstance(r, Run) for r in par)
    for p, s in zip(par, seq, strict=True):
        np.testing.assert_array_equal(p.episode_returns, s.episode_returns)
        np.testing.assert_array_equal(p.policy.theta, s.policy.theta)
