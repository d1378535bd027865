"""Optimizers, the Fisher matrix, baselines and the entropy gradients."""

import numpy as np
import pytest

from linear_pg.baselines import MeanBaseline, ValueBaseline, make_baseline
from linear_pg.features import RawFeatures
from linear_pg.optim import SGD, Adam, NaturalGradient, clip_grad_norm, fisher, make_optimizer
from linear_pg.policies import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy
from linear_pg.rollout import collect_episodes
from linear_pg.trainer import make_env


def test_fisher_is_mean_outer_product_of_scores():
    rng = np.random.default_rng(0)
    pi = SoftmaxPolicy(4, 3, init_scale=0.5, seed=1)
    X = rng.normal(size=(200, 4))
    S = pi.grad_log_prob(X, pi.sample(X, rng))
    expected = np.mean([np.outer(s, s) for s in S], axis=0)
    np.testing.assert_allclose(fisher(S), expected, rtol=1e-12, atol=1e-14)


def test_npg_step_has_the_requested_kl_size():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(500, 5))
    g = rng.normal(size=5)
    opt = NaturalGradient(delta=0.02, damping=0.0)
    d = opt.step(g, S)
    np.testing.assert_allclose(d @ fisher(S) @ d, 0.02, rtol=1e-8)
    assert np.all(opt.step(np.zeros(5), S) == 0)


def test_npg_fixed_step_is_capped_at_the_kl_size():
    rng = np.random.default_rng(1)
    S = rng.normal(size=(500, 5))
    g = 1e-3 * rng.normal(size=5)       # a small gradient: the fixed step is below the cap
    nat = np.linalg.solve(fisher(S), g)
    np.testing.assert_allclose(NaturalGradient(0.02, 0.0, eta=0.5).step(g, S), 0.5 * nat,
                               rtol=1e-10)
    big = NaturalGradient(0.02, 0.0, eta=1e6).step(g, S)   # capped: KL size delta again
    np.testing.assert_allclose(big @ fisher(S) @ big, 0.02, rtol=1e-8)


def test_sgd_adam_and_clipping():
    g = np.array([3.0, -4.0])
    np.testing.assert_allclose(SGD(0.1).step(g), [0.3, -0.4])
    np.testing.assert_allclose(Adam(0.1).step(g), [0.1, -0.1], rtol=1e-6)  # first step: lr*sign
    np.testing.assert_allclose(np.linalg.norm(clip_grad_norm(g, 1.0)), 1.0)
    np.testing.assert_array_equal(clip_grad_norm(g, None), g)
    with pytest.raises(ValueError, match="lr must be > 0"):
        make_optimizer("adam", -0.1)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer("rmsprop", 0.1)


@pytest.mark.parametrize("pi", [SoftmaxPolicy(3, 4, init_scale=0.7, seed=2),
                                BernoulliPolicy(3, init_scale=0.7, seed=2),
                                GaussianPolicy(3, 2, log_std_mode="linear", init_scale=0.3,
                                               seed=2, init_log_std=-0.2)])
def test_grad_entropy_matches_finite_differences(pi):
    X = np.random.default_rng(3).normal(size=(4, 3))
    G = pi.grad_entropy(X)
    assert G.shape == (4, pi.n_params)
    theta0, h = pi.theta.copy(), 1e-6
    for i in range(pi.n_params):
        tp, tm = theta0.copy(), theta0.copy()
        tp[i] += h
        tm[i] -= h
        pi.theta = tp
        hp = pi.entropy(X)
        pi.theta = tm
        hm = pi.entropy(X)
        np.testing.assert_allclose(G[:, i], (hp - hm) / (2 * h), atol=1e-6)
    pi.theta = theta0


def test_value_baseline_fits_a_linear_target_and_uses_only_earlier_batches():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(100, 2)), np.ones(100)]
    v = np.array([1.0, -2.0, 3.0])
    b = ValueBaseline(ridge=1e-9)
    assert np.all(b.predict(X) == 0)         # nothing seen yet
    b.update(X, X @ v)
    np.testing.assert_allclose(b.predict(X), X @ v, atol=1e-5)
    m = MeanBaseline()
    m.update(X, np.full(100, 2.0))
    assert np.all(m.predict(X[:3]) == 2.0)
    with pytest.raises(ValueError, match="baseline must be one of"):
        make_baseline("critic")


def test_value_baseline_reduces_gradient_variance():
    """Same fixed policy, many batches: Var(g-hat) with the value baseline < without."""
    env = make_env("CartPole-v1")
    phi = RawFeatures().fit(np.zeros((1, 4)))
    pi = SoftmaxPolicy(5, 2, init_scale=0.1, seed=0)
    rng = np.random.default_rng(0)
    from linear_pg.returns import reward_to_go

    batches = [collect_episodes(env, pi, phi, 2, rng) for _ in range(100)]
    value = ValueBaseline()
    for b in batches[:20]:                    # fit the baseline on earlier data
        value.update(b.X, reward_to_go(b.rewards, 0.99, b.lengths))
    g_plain, g_value = [], []
    for b in batches[20:]:
        G = reward_to_go(b.rewards, 0.99, b.lengths)
        S = pi.grad_log_prob(b.X, b.actions)
        g_plain.append(G @ S / b.n_episodes)
        g_value.append((G - value.predict(b.X)) @ S / b.n_episodes)
    var_plain = np.var(g_plain, axis=0).sum()
    var_value = np.var(g_value, axis=0).sum()
    assert var_value < 0.8 * var_plain


def test_set_lr_changes_the_step_size_of_every_optimizer():
    g = np.array([1.0, -2.0])
    sgd = make_optimizer("sgd", 0.1)
    sgd.set_lr(0.05)
    np.testing.assert_allclose(sgd.step(g), 0.05 * g)
    npg = make_optimizer("npg", 0.04)
    S = np.random.default_rng(0).standard_normal((50, 2))
    big = npg.step(g, S)
    npg.set_lr(0.01)                  # a quarter of the KL: half the step
    np.testing.assert_allclose(npg.step(g, S), big / 2)
