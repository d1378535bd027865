"""check_policy_class: a policy class of your own is one the trainer can use.

The trainer samples, acts, and computes the gradient and the Fisher matrix with hooks that
the built-in classes write from their own formulas. A subclass that changed the
distribution in the public methods only was sampled and trained as its parent, silently:
a softmax with a temperature of 1e6 (a uniform policy) "solved" CartPole.
"""

import numpy as np
import pytest

from linear_pg import (
    BernoulliPolicy,
    GaussianPolicy,
    LinearPolicy,
    PolicyClassError,
    SoftmaxPolicy,
    check_policy_class,
    evaluate,
    load_run,
    resume,
    train,
)
from linear_pg.policies.base import row_outer
from linear_pg.policies.softmax import log_softmax, softmax


@pytest.mark.parametrize("policy", [
    SoftmaxPolicy(4, 3), SoftmaxPolicy(6, 2), BernoulliPolicy(5), GaussianPolicy(4, 1),
    GaussianPolicy(4, 2, log_std_mode="linear"), GaussianPolicy(3, 3, log_std_mode="fixed"),
    GaussianPolicy(3, 4),
], ids=repr)
def test_the_built_in_classes_pass(policy):
    before = policy.theta.copy()
    check_policy_class(policy)
    np.testing.assert_array_equal(policy.theta, before)      # checked on a copy


# ------------------------------------------------------------------ a softmax with a temperature
class PublicOnly(SoftmaxPolicy):
    """softmax(x W / tau) in the public methods only (what the README's API list shows)."""

    def __init__(self, n_features, n_actions, *, temperature=1.0, init_scale=0.0, seed=0):
        super().__init__(n_features, n_actions, init_scale=init_scale, seed=seed)
        self.temperature = float(temperature)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}

    def _logits(self, X):
        return np.asarray(X, float) @ self.W / self.temperature

    def probs(self, X):
        return softmax(self._logits(X))

    def log_prob(self, X, A):
        A = np.asarray(A, int)
        return log_softmax(self._logits(X))[np.arange(len(A)), A]

    def grad_log_prob(self, X, A):
        e_a = np.asarray(A, int)[:, None] == np.arange(self.n_actions)
        return row_outer(np.asarray(X, float), (e_a - self.probs(X)) / self.temperature)

    def sample(self, X, rng):
        u = rng.random(len(X))[:, None]
        return (self.probs(X).cumsum(axis=1) < u).sum(axis=1)

    def entropy(self, X):
        logp = log_softmax(self._logits(X))
        return -(np.exp(logp) * logp).sum(axis=1)


class Hooks(PublicOnly):
    """... and in the hooks log_prob and grad_log_prob are built from, not the samplers."""

    def _log_probs(self, X):
        return log_softmax(X @ self.W / self.temperature)

    def _score_factors(self, X, A):
        e_a = A[:, None] == np.arange(self.n_actions)
        return [((e_a - softmax(X @ self.W / self.temperature)) / self.temperature, True)]


for _name in ("probs", "log_prob", "grad_log_prob", "sample", "entropy"):
    setattr(Hooks, _name, getattr(SoftmaxPolicy, _name))


class Sampled(Hooks):
    """... and in the samplers, but not the gradient's or the Fisher matrix's fast paths."""

    def _sample(self, X, rng):
        return SoftmaxPolicy._sample(self, X / self.temperature, rng)

    def _sample_one(self, x, rng):
        return SoftmaxPolicy._sample_one(self, x / self.temperature, rng)

    def _act(self, X):
        return SoftmaxPolicy._act(self, X / self.temperature)

    def _act_one(self, x):
        return SoftmaxPolicy._act_one(self, x / self.temperature)

    def grad_entropy(self, X):
        return SoftmaxPolicy.grad_entropy(self, np.asarray(X) / self.temperature)


class NoFisher(Sampled):
    _weighted_score_sum = LinearPolicy._weighted_score_sum     # built from _score_factors


class Complete(NoFisher):
    def _fisher(self, X):
        return SoftmaxPolicy._fisher(self, X / self.temperature)   # x/tau carries the 1/tau^2


@pytest.mark.parametrize("cls, words", [
    (PublicOnly, "_sample (the vector env's sampler) disagrees with sample"),
    (Hooks, "_sample draws from another distribution than log_prob"),
    (Sampled, "_weighted_score_sum(X, A, w) disagrees with grad_log_prob(X, A).T @ w"),
    (NoFisher, "fisher(X) @ v disagrees"),
])
def test_each_hook_left_as_the_parents_is_named(cls, words):
    with pytest.raises(PolicyClassError, match=words.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.").replace("*", r"\*")):
        check_policy_class(cls(5, 3, temperature=3.0))


def test_the_message_says_the_parents_hook_is_its_own_formula():
    with pytest.raises(PolicyClassError, match="SoftmaxPolicy's own _weighted_score_sum is "
                                               "its formula"):
        check_policy_class(Sampled(5, 3, temperature=3.0))


def test_a_complete_subclass_passes_and_trains_as_itself():
    check_policy_class(Complete(5, 3, temperature=3.0))
    # a temperature of 1e6 is a uniform policy: trained as itself it learns nothing
    # (before, trained as a plain softmax, PublicOnly reached ~500 on CartPole)
    uniform = train("CartPole-v1", policy=Complete(5, 2, temperature=1e6), episodes=60,
                    seed=0)
    plain = train("CartPole-v1", policy=SoftmaxPolicy(5, 2), episodes=60, seed=0)
    assert uniform.episode_returns[-20:].mean() < 40
    assert plain.episode_returns[-20:].mean() > 2 * uniform.episode_returns[-20:].mean()


def test_train_refuses_a_subclass_whose_sampler_is_its_parents(tmp_path):
    with pytest.raises(PolicyClassError, match="PublicOnly: _sample"):
        train("CartPole-v1", policy=PublicOnly(5, 2, temperature=1e6), episodes=5,
              checkpoint_path=tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()        # refused before anything ran


# ------------------------------------------------------------------ a fixed-sigma Gaussian
class FixedSigma(GaussianPolicy):
    """A Gaussian whose sigma is a constructor setting (log_std_mode 'fixed' underneath)."""

    def __init__(self, n_features, action_dim=1, *, sigma=0.5, init_scale=0.0, seed=0):
        super().__init__(n_features, action_dim, log_std_mode="fixed",
                         init_log_std=float(np.log(sigma)), init_scale=init_scale, seed=seed)
        self.sigma = sigma

    def get_config(self):
        return {"n_features": self.n_features, "action_dim": self.action_dim,
                "sigma": self.sigma, "init_scale": self.init_scale}


class ForgetsSigma(FixedSigma):
    def get_config(self):
        return {"n_features": self.n_features, "action_dim": self.action_dim,
                "init_scale": self.init_scale}


def test_a_get_config_that_forgets_a_setting_is_refused(tmp_path):
    # the trainer trained (and the checkpoint kept) a copy with the default sigma, 0.5
    check_policy_class(FixedSigma(3, sigma=0.05))
    with pytest.raises(PolicyClassError, match=r"ForgetsSigma.get_config\(\) does not rebuild"):
        check_policy_class(ForgetsSigma(3, sigma=0.05))
    with pytest.raises(PolicyClassError, match="ForgetsSigma.get_config"):
        train("Pendulum-v1", policy=ForgetsSigma(4, sigma=0.05), features="raw", episodes=3,
              checkpoint_path=tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()


def test_a_gaussian_whose_mean_disagrees_with_log_prob_is_refused():
    class Shifted(GaussianPolicy):        # log_prob of a mean shifted by 1, mean() not
        def log_prob(self, X, A):
            return super().log_prob(X, np.asarray(A) - 1.0)

    with pytest.raises(PolicyClassError, match="log_prob.*Gaussian density with mean"):
        check_policy_class(Shifted(3, 1))


def test_a_subclass_of_linear_policy_is_told_the_kind_and_the_missing_hooks():
    class Bare(LinearPolicy):
        def __init__(self, n_features):
            super().__init__(n_features, n_features)

        def get_config(self):
            return {"n_features": self.n_features}

    with pytest.raises(PolicyClassError, match="Bare.kind must be one of"):
        check_policy_class(Bare(3))
    # the trainer used to say "policy must be one of (...), got 'linear'", of an object
    with pytest.raises(PolicyClassError, match="Bare.kind must be one of"):
        train("CartPole-v1", policy=Bare(5), features="raw", episodes=2)

    class Kinded(Bare):
        kind = "bernoulli"

        def log_prob(self, X, A):
            z = np.asarray(X) @ self.theta
            return np.where(np.asarray(A) == 1, -np.logaddexp(0, -z), -np.logaddexp(0, z))

        def entropy(self, X):
            p = 1 / (1 + np.exp(-(np.asarray(X) @ self.theta)))
            return -(p * np.log(p) + (1 - p) * np.log1p(-p))

    with pytest.raises(PolicyClassError, match="Kinded has no method sample, act, "
                                               "grad_entropy"):
        check_policy_class(Kinded(3))

    class Sampling(Kinded):
        def sample(self, X, rng):
            p = 1 / (1 + np.exp(-(np.asarray(X) @ self.theta)))
            return (rng.random(len(p)) < p).astype(np.int64)

        def act(self, X):
            return (np.asarray(X) @ self.theta > 0).astype(np.int64)

        def grad_entropy(self, X):
            raise AssertionError("not reached")

    with pytest.raises(PolicyClassError, match=r"Sampling does not implement "
                                               r"Sampling\._sample\(X, rng\), the vector env"):
        check_policy_class(Sampling(3))


def test_resume_and_evaluate_check_the_class_too(tmp_path):
    run = train("CartPole-v1", policy=Complete(5, 2, temperature=2.0), episodes=4, seed=0,
                checkpoint_path=tmp_path / "c.npz")
    assert evaluate(run, 2, seed=0).shape == (2,)
    again = load_run(tmp_path / "c.npz", classes=[Complete])
    assert again.policy.temperature == 2.0
    # the same checkpoint loaded as a class whose sampler is its parent's is refused
    run.policy.__class__ = Sampled
    with pytest.raises(PolicyClassError, match="Sampled"):
        evaluate(run, 2, seed=0)
    longer = resume(tmp_path / "c.npz", episodes=6, classes=[Complete])
    assert longer.n_episodes == 6
    # resumed as a class that fails the check: the class is named, not the checkpoint
    impostor = type("Complete", (Sampled,), {})     # found by its name, fails the check
    with pytest.raises(PolicyClassError, match="^Complete: _weighted_score_sum"):
        resume(tmp_path / "c.npz", episodes=8, classes=[impostor])
