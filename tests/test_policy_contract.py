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
        return SoftmaxPolicy.grad_entropy(self, X) / self.temperature  # _log_probs is tempered


class NoFisher(Sampled):
    _weighted_score_sum = LinearPolicy._weighted_score_sum     # built from _score_factors


class Complete(NoFisher):
    def _fisher(self, X):
        return SoftmaxPolicy._fisher(self, X / self.temperature)   # x/tau carries the 1/tau^2


@pytest.mark.parametrize("cls, words", [
    (PublicOnly, "_sample (the vector env's sampler) draws from another distribution than "
                 "log_prob"),
    (Hooks, "sample (the public sampler) draws from another distribution than log_prob"),
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
    with pytest.raises(PolicyClassError, match="PublicOnly: _sample "):
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


# ------------------------------------------------------------------ a second probe's cases
def test_an_act_that_is_not_the_most_likely_action_or_the_mean_is_refused():
    # act was compared only with _act and _act_one, which the parent's act calls
    class Shifted(Complete):                 # samples tempered, acts as a plain softmax
        _act, _act_one = SoftmaxPolicy._act, SoftmaxPolicy._act_one

    with pytest.raises(PolicyClassError, match=r"probability of act\(X\)'s actions"):
        check_policy_class(Shifted(5, 3, temperature=-1.0))

    class Squashed(FixedSigma):              # mean 2 tanh(x W), acting with x W
        def mean(self, X):
            return 2 * np.tanh(super().mean(X))

    with pytest.raises(PolicyClassError, match=r"Squashed: log_prob\(X, A\) disagrees|"
                                               r"act\(X\) disagrees with mean"):
        check_policy_class(Squashed(3))


def test_a_one_row_sampler_must_return_one_action_not_an_array():
    # it passed (the check reshaped it) and then failed inside env.step
    class OneArray(Complete):
        def _sample_one(self, x, rng):
            return self._sample(x[None, :], rng)             # shape (1,)

    with pytest.raises(PolicyClassError, match=r"_sample_one\(x, \.\.\.\) must return one "
                                               r"action .* an int"):
        check_policy_class(OneArray(5, 3, temperature=2.0))


def test_a_sampler_with_its_own_stream_passes_one_ignoring_rng_is_refused():
    # an epsilon-greedy mixture drawing its coin, then its action, was refused because its
    # one-row sampler did not draw _sample's stream; the rollouts do not need that
    class EpsGreedy(SoftmaxPolicy):
        eps = 0.2

        def _log_probs(self, X):
            return np.log((1 - self.eps) * softmax(X @ self.W) + self.eps / self.n_actions)

        def _score_factors(self, X, A):
            P = softmax(X @ self.W)
            mix = (1 - self.eps) * P + self.eps / self.n_actions
            e_a = A[:, None] == np.arange(self.n_actions)
            p_a = P[np.arange(len(A)), A][:, None]
            return [((1 - self.eps) * p_a * (e_a - P) / mix[np.arange(len(A)), A][:, None],
                     True)]

        _weighted_score_sum = LinearPolicy._weighted_score_sum

        def _sample(self, X, rng):
            coin = rng.random(len(X)) < self.eps
            greedy = SoftmaxPolicy._sample(self, X, rng)
            return np.where(coin, rng.integers(self.n_actions, size=len(X)), greedy)

        def _sample_one(self, x, rng):
            if rng.random() < self.eps:
                return int(rng.integers(self.n_actions))
            return SoftmaxPolicy._sample_one(self, x, rng)

        def _fisher(self, X):
            return _exact_fisher(self, X)

        def grad_entropy(self, X):
            X = self._features(X)
            T, P = len(X), np.exp(self._log_probs(X))
            logp = np.log(P)
            return -sum(((logp[:, a] + 1) * P[:, a])[:, None]
                        * self.grad_log_prob(X, np.full(T, a)) for a in range(self.n_actions))

    check_policy_class(EpsGreedy(4, 3))

    class GlobalRandom(EpsGreedy):
        def _sample_one(self, x, rng):
            return EpsGreedy._sample_one(self, x, np.random.default_rng())

    with pytest.raises(PolicyClassError, match="_sample_one .* draws other actions from the "
                                               "same seed: it must draw from the rng it is"):
        check_policy_class(GlobalRandom(4, 3))


def test_a_wrong_entropy_gradient_is_refused():
    class StaleEntropyGradient(Complete):
        grad_entropy = SoftmaxPolicy.grad_entropy            # the untempered one

    with pytest.raises(PolicyClassError, match=r"grad_entropy\(X\) @ v disagrees"):
        check_policy_class(StaleEntropyGradient(5, 3, temperature=3.0))


def test_a_score_that_is_not_the_gradient_is_a_warning_and_still_trains():
    class NoChainRule(Complete):             # forgets the 1/tau of the chain rule
        def _score_factors(self, X, A):
            e_a = A[:, None] == np.arange(self.n_actions)
            return [(e_a - softmax(X @ self.W / self.temperature), True)]

        def _fisher(self, X):
            return _exact_fisher(self, X)

    with pytest.warns(RuntimeWarning, match="grad_log_prob is not the gradient of its "
                                            "log_prob"):
        check_policy_class(NoChainRule(5, 3, temperature=3.0))


def _exact_fisher(policy, X):
    T, P = len(X), np.exp(policy._log_probs(X))
    F = 0
    for a in range(policy.n_actions):
        S = policy.grad_log_prob(X, np.full(T, a))
        F = F + (P[:, a] * S.T) @ S
    return F / T


def test_a_get_config_with_arguments_init_does_not_take_is_a_policy_class_error():
    class InheritsConfig(GaussianPolicy):     # a fixed sigma, with GaussianPolicy's config
        def __init__(self, n_features, action_dim=1, *, init_scale=0.0, seed=0):
            super().__init__(n_features, action_dim, log_std_mode="fixed",
                             init_scale=init_scale, seed=seed)

    with pytest.raises(PolicyClassError, match=r"InheritsConfig.get_config\(\) does not "
                                               r"rebuild it: .* fails"):
        check_policy_class(InheritsConfig(3))


class Squashed(FixedSigma):
    """A Gaussian with mean tanh(x W) and a fixed sigma: a complete class of one's own."""

    def mean(self, X):
        return np.tanh(super().mean(X))

    def log_prob(self, X, A):
        X = self._features(X)
        z = (self._check_actions(A, len(X)) - self.mean(X)) / self.sigma
        return (-0.5 * z**2 - np.log(self.sigma) - 0.5 * np.log(2 * np.pi)).sum(axis=1)

    def _score_factors(self, X, A):            # d/d(x W) of log pi: (a - mu) / s^2 (1 - mu^2)
        mu = np.tanh(X @ self.W)
        return [((A - mu) / self.sigma**2 * (1 - mu**2), True)]

    _weighted_score_sum = LinearPolicy._weighted_score_sum

    def _fisher(self, X):
        from linear_pg.policies.base import add_per_output

        F = np.zeros((self.n_params, self.n_params))
        add_per_output(F, X, (1 - np.tanh(X @ self.W) ** 2) ** 2 / self.sigma**2)
        return F / len(X)

    def _sample(self, X, rng):
        return np.tanh(X @ self.W) + self.sigma * rng.standard_normal((len(X), self.action_dim))

    def _sample_one(self, x, rng):
        return np.tanh(x @ self.W) + self.sigma * rng.standard_normal(self.action_dim)

    def _act(self, X):
        return np.tanh(X @ self.W)

    def _act_one(self, x):
        return np.tanh(x @ self.W)


def test_the_bounds_penalty_refuses_a_gaussian_whose_mean_is_not_x_w():
    # mean_bound_grad penalizes x W outside the box: for another mean it trained wrongly
    check_policy_class(Squashed(4, sigma=0.7))
    with pytest.raises(ValueError, match="mean_bound_coef .* Squashed overrides mean"):
        train("MountainCarContinuous-v0", policy=Squashed(37, sigma=1.0), episodes=2)
    run = train("MountainCarContinuous-v0", policy=Squashed(37, sigma=1.0), episodes=2,
                mean_bound_coef=0.0)
    assert run.n_episodes == 2


def test_the_fisher_matrix_is_checked_only_where_an_update_uses_it(tmp_path):
    # a (P, P) matrix built for every class of one's own, and refused where sgd or adam
    # never use it (a score wrong on purpose, which should only warn)
    policy = NoFisher(5, 2, temperature=2.0)
    train("CartPole-v1", policy=policy, episodes=2, optimizer="adam")
    with pytest.raises(PolicyClassError, match=r"fisher\(X\) @ v disagrees"):
        train("CartPole-v1", policy=policy, episodes=2, optimizer="npg",
              optimizer_kwargs={"fisher": "expected"}, checkpoint_path=tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()
    train("CartPole-v1", policy=policy, episodes=2, optimizer="npg",
          optimizer_kwargs={"fisher": "sampled"})             # F from the scores


def test_rare_actions_are_not_a_false_refusal():
    # an action of probability 1e-5 drawn once in 20000 counted as 6+ standard errors:
    # a correct inverse-temperature softmax was refused at beta 5 and above
    for temperature in (0.2, 0.1, 0.05):
        for seed in range(5):
            check_policy_class(Complete(5, 6, temperature=temperature), seed=seed)
