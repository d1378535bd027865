"""Optimizers, the Fisher matrix, baselines and the entropy gradients."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linear_pg.baselines import MeanBaseline, ValueBaseline, make_baseline
from linear_pg.envs import make_env
from linear_pg.features import RawFeatures
from linear_pg.optim import SGD, Adam, NaturalGradient, clip_grad_norm, fisher, make_optimizer
from linear_pg.policies import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy
from linear_pg.rollout import collect_episodes
from linear_pg.trainer import train


def test_fisher_is_mean_outer_product_of_scores():
    rng = np.random.default_rng(0)
    pi = SoftmaxPolicy(4, 3, init_scale=0.5, seed=1)
    X = rng.normal(size=(200, 4))
    S = pi.grad_log_prob(X, pi.sample(X, rng))
    expected = np.mean([np.outer(s, s) for s in S], axis=0)
    np.testing.assert_allclose(fisher(S), expected, rtol=1e-12, atol=1e-14)


def expected_outer_product_of_scores(pi, X):
    """E_a[s s^T] averaged over the rows, from the score alone: enumerate a discrete policy's
    actions; for a Gaussian one, 3-point Gauss-Hermite quadrature in each action dimension,
    which is exact here (the products of scores are polynomials of degree <= 4 in z)."""
    T = X.shape[0]
    F = np.zeros((pi.n_params, pi.n_params))
    if pi.kind != "gaussian":
        P = pi.probs(X)
        for a in range(P.shape[1]):
            S = pi.grad_log_prob(X, np.full(T, a))
            F += (S * P[:, a:a + 1]).T @ S
        return F / T
    nodes, weights = np.polynomial.hermite_e.hermegauss(3)
    m = pi.action_dim
    z = np.stack(np.meshgrid(*[nodes] * m, indexing="ij"), -1).reshape(-1, m)
    w = np.prod(np.stack(np.meshgrid(*[weights / weights.sum()] * m, indexing="ij"), -1)
                .reshape(-1, m), axis=1)
    for z_n, w_n in zip(z, w, strict=True):
        S = pi.grad_log_prob(X, pi.mean(X) + pi.std(X) * z_n)
        F += w_n * S.T @ S
    return F / T


FISHER_POLICIES = {
    "softmax": lambda seed: SoftmaxPolicy(4, 3, init_scale=1.0, seed=seed),
    "bernoulli": lambda seed: BernoulliPolicy(4, init_scale=1.0, seed=seed),
    "gaussian vector": lambda seed: GaussianPolicy(4, 1, init_scale=1.0, seed=seed,
                                                   init_log_std=0.3),
    "gaussian 2-d": lambda seed: GaussianPolicy(4, 2, init_scale=1.0, seed=seed,
                                                init_log_std=[-0.5, 0.4]),
    "gaussian fixed": lambda seed: GaussianPolicy(4, 2, init_scale=1.0, seed=seed,
                                                  log_std_mode="fixed"),
    "gaussian linear": lambda seed: GaussianPolicy(4, 2, init_scale=1.0, seed=seed,
                                                   log_std_mode="linear",
                                                   log_std_bounds=(-1.0, 1.0)),
}


@given(seed=st.integers(0, 2**31 - 1), name=st.sampled_from(sorted(FISHER_POLICIES)))
def test_policy_fisher_is_the_expected_outer_product_of_scores(seed, name):
    rng = np.random.default_rng(seed)
    pi = FISHER_POLICIES[name](seed)
    pi.theta = pi.theta + rng.normal(size=pi.n_params)   # "linear": some log-stds clamped
    X = rng.normal(size=(6, 4))
    F = pi.fisher(X)
    assert F.shape == (pi.n_params, pi.n_params)
    np.testing.assert_allclose(F, F.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(F, expected_outer_product_of_scores(pi, X), rtol=1e-10,
                               atol=1e-12)


def test_sampled_fisher_estimates_the_policys_fisher():
    """optim.fisher of sampled actions' scores and LinearPolicy.fisher estimate one matrix."""
    rng = np.random.default_rng(0)
    for name in ("softmax", "gaussian vector"):
        pi = FISHER_POLICIES[name](1)
        X = np.repeat(rng.normal(size=(3, 4)), 40_000, axis=0)
        F_hat = fisher(pi.grad_log_prob(X, pi.sample(X, rng)))
        F = pi.fisher(X[::40_000])
        np.testing.assert_allclose(F_hat, F, atol=0.03 * np.abs(F).max())
        assert not np.allclose(F_hat, F, rtol=0, atol=1e-6)   # the estimate has action noise


def test_policy_fisher_stays_finite_for_huge_logits():
    X = np.array([[1e4, -3e4, 2e4, 1.0]])
    for name in ("softmax", "bernoulli"):
        pi = FISHER_POLICIES[name](0)
        F = pi.fisher(X)
        assert np.all(np.isfinite(F))
        np.testing.assert_allclose(F, 0.0, atol=1e-300)   # a sure action carries no information


def test_npg_with_the_expected_fisher():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(7, 5))
    F = A.T @ A / 7 + np.eye(5)
    g = rng.normal(size=5)
    opt = make_optimizer("npg", 0.02, damping=0.0, fisher="expected")
    assert (opt.needs_scores, opt.needs_fisher) == (False, True)
    assert (NaturalGradient().needs_scores, NaturalGradient().needs_fisher) == (True, False)
    d = opt.step(g, fisher_matrix=F)
    np.testing.assert_allclose(d @ F @ d, 0.02, rtol=1e-8)
    np.testing.assert_allclose(d, np.sqrt(0.02 / (g @ np.linalg.solve(F, g)))
                               * np.linalg.solve(F, g), rtol=1e-10)
    F_before = F.copy()
    NaturalGradient(0.02, damping=0.5, fisher="expected").step(g, fisher_matrix=F)
    np.testing.assert_array_equal(F, F_before)          # the damping went into a copy
    with pytest.raises(ValueError, match="fisher must be one of"):
        NaturalGradient(fisher="exact")
    with pytest.raises(ValueError, match=r"fisher_matrix must have shape \(5, 5\)"):
        opt.step(g, fisher_matrix=np.eye(4))
    with pytest.raises(ValueError, match="needs the batch's scores"):
        opt.step(g)


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


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(0.0), "lr must be > 0"),
    (lambda: Adam(0.1, beta1=1.0), "beta1 must be < 1"),
    (lambda: Adam(0.1, beta2=-0.5), "beta2 must be >= 0"),
    (lambda: Adam(0.1, eps=0.0), "eps must be > 0"),
    (lambda: NaturalGradient(delta=-0.01), "delta must be > 0"),
    (lambda: NaturalGradient(0.01, damping=float("nan")), "damping must be finite"),
    (lambda: NaturalGradient(0.01, eta=0.0), "eta must be > 0"),
    (lambda: make_optimizer("adam", 0.1, beta1=2.0), "beta1 must be < 1"),
    (lambda: make_optimizer("npg", 0.02, damping=-1.0), "damping must be >= 0"),
])
def test_optimizers_check_their_own_arguments(make, message):
    """Each optimizer checks its hyperparameters, built directly or through make_optimizer."""
    with pytest.raises(ValueError, match=message):
        make()


def test_make_optimizer_names_the_keywords_it_accepts():
    with pytest.raises(TypeError, match=r"'adam' must be among \['beta1', 'beta2', 'eps'\]"):
        make_optimizer("adam", 0.1, damping=0.2)      # an npg setting left behind
    with pytest.raises(TypeError, match="damping"):
        make_optimizer("sgd", 0.1, damping=0.2)
    with pytest.raises(TypeError, match="damping must be a real number"):
        make_optimizer("npg", 0.02, damping="0.2")
    opt = make_optimizer("npg", 0.02, damping=0.2, eta=None, fisher="expected")
    assert (opt.delta, opt.damping, opt.eta, opt.fisher) == (0.02, 0.2, None, "expected")


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


def test_a_choice_given_an_object_or_array_is_told_a_name_is_expected():
    # an array gave NumPy's "truth value of an array ... is ambiguous"; an optimizer
    # object its repr with a memory address

    with pytest.raises(ValueError, match=r"baseline must be one of .* got an object of type "
                                         r"ndarray \(a name is expected\)"):
        train("CartPole-v1", episodes=2, baseline=np.zeros(3))
    with pytest.raises(ValueError, match=r"optimizer must be one of .* got an object of type "
                                         r"Adam \(a name is expected\)"):
        train("CartPole-v1", episodes=2, optimizer=Adam(5))


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


# ---------------------------------------------------------------------- input errors (audit)
@pytest.mark.parametrize("scores, exc, match", [
    ([[1.0, 2.0]], None, None),                                  # a list works
    (np.ones(3), ValueError, r"scores must be a 2-D array .* got shape \(3,\)"),
    (np.zeros((0, 3)), ValueError, r"T >= 1 .* got shape \(0, 3\)"),
    ([[np.nan, 1.0]], ValueError, "scores must be finite"),
    ([[1j, 1.0]], TypeError, "scores must be real-valued"),
])
def test_fisher_checks_its_scores(scores, exc, match):
    if exc is None:
        np.testing.assert_array_equal(fisher(scores), [[1.0, 2.0], [2.0, 4.0]])
        return
    with pytest.raises(exc, match=match):
        fisher(scores)


OPTIMIZERS = [lambda: SGD(0.1), lambda: Adam(0.1), lambda: NaturalGradient(0.1)]


@pytest.mark.parametrize("make", OPTIMIZERS)
@pytest.mark.parametrize("g, exc, match", [
    ("a", TypeError, "g must be numeric"),
    (np.ones((2, 2)), ValueError, "g must be a non-empty 1-D"),
    (np.ones(0), ValueError, "g must be a non-empty 1-D"),
    (np.array([1j, 1.0]), TypeError, "g must be real-valued"),
])
def test_step_checks_the_gradient(make, g, exc, match):
    with pytest.raises(exc, match=match):
        make().step(g, np.ones((3, 2)))


@pytest.mark.parametrize("make", OPTIMIZERS[:2])
def test_step_takes_a_list_and_keeps_the_size_of_the_first_step(make):
    opt = make()
    np.testing.assert_allclose(opt.step([1.0, 2.0]), make().step(np.array([1.0, 2.0])))
    with pytest.raises(ValueError, match=r"g must have shape \(2,\).*previous steps"):
        opt.step(np.ones(3))


def test_adam_after_set_state_checks_against_the_restored_moments():
    opt = Adam(0.1)
    opt.set_state({"t_": np.array(1), "m_": np.zeros(4), "v_": np.zeros(4)})
    with pytest.raises(ValueError, match=r"g must have shape \(4,\)"):
        opt.step(np.ones(3))


@pytest.mark.parametrize("scores, match", [
    (np.ones((5, 3)), r"scores must have shape \(T, 2\)"),
    (np.ones(2), r"scores must have shape \(T, 2\)"),
    (np.zeros((0, 2)), r"scores must have shape \(T, 2\) with T >= 1"),
])
def test_natural_gradient_checks_the_scores_against_g(scores, match):
    with pytest.raises(ValueError, match=match):
        NaturalGradient(0.1).step(np.ones(2), scores)


def test_natural_gradient_refuses_a_non_finite_fisher_matrix():
    with pytest.raises(ValueError, match="fisher_matrix must be finite"):
        NaturalGradient(0.1, fisher="expected").step(np.ones(2), fisher_matrix=np.full((2, 2),
                                                                                       np.nan))
    # an empty matrix failed inside the symmetry check ("zero-size array to reduction")
    with pytest.raises(ValueError, match=r"fisher_matrix must have shape \(2, 2\)"):
        NaturalGradient(0.1, fisher="expected").step(np.ones(2), fisher_matrix=np.zeros((0, 0)))


def test_a_non_finite_gradient_or_overflowing_fisher_gives_a_non_finite_npg_step():
    # as for the other optimizers: the trainer reports it as a divergence (it raised in
    # the Cholesky factorization)
    opt = NaturalGradient(0.1)
    assert np.all(np.isnan(opt.step(np.array([np.nan, 1.0]), np.ones((3, 2)))))
    with np.errstate(over="ignore"):
        assert np.all(np.isnan(opt.step(np.ones(2), np.full((3, 2), 1e200))))  # s s^T: inf


@pytest.mark.parametrize("make", OPTIMIZERS)
@given(lr=st.one_of(st.floats(max_value=0.0), st.just(np.nan), st.just(np.inf)))
def test_set_lr_checks_like_the_constructor(make, lr):
    opt = make()
    with pytest.raises(ValueError, match="lr must be"):
        opt.set_lr(lr)
    with pytest.raises(TypeError, match="lr must be a real number"):
        opt.set_lr("0.1")


@given(seed=st.integers(0, 2**31 - 1))
def test_checked_steps_are_bit_identical_to_the_kernels(seed):
    rng = np.random.default_rng(seed)
    g, S = rng.standard_normal(5), rng.standard_normal((20, 5))
    for make in OPTIMIZERS:
        checked, raw = make(), make()
        for _ in range(3):
            np.testing.assert_array_equal(checked.step(g, S), raw._step(g, S, None))


@pytest.mark.parametrize("make, match", [
    (lambda: make_baseline("mean", decay=2), "decay must be < 1.0, got 2.0"),
    (lambda: make_baseline("value", decay=1.0), "decay must be < 1.0"),
    (lambda: MeanBaseline(decay="a"), "decay must be a real number, got str"),
    (lambda: MeanBaseline(decay=-0.1), "decay must be >= 0.0"),
    (lambda: ValueBaseline(ridge=-1), "ridge must be > 0.0, got -1.0"),
    (lambda: ValueBaseline(ridge=0.0), "ridge must be > 0.0"),
    (lambda: ValueBaseline(ridge=np.nan), "ridge must be finite"),
    (lambda: make_baseline("none", decay=0.5), r"baseline 'none' must be empty .*\['decay'\]"),
    (lambda: make_baseline("mean", ridge=1.0), r"among \['decay'\], got \['ridge'\]"),
])
def test_baselines_check_their_parameters(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_get_state_gives_copies_and_set_state_checks_what_it_restores():
    adam, value = Adam(0.1), make_baseline("value")
    adam.step(np.ones(2))
    value.update(np.ones((3, 2)), np.arange(3.0))
    for part in (adam, value):
        state = part.get_state()
        for v in state.values():
            v[...] = 1e9                                # the copies change, not the part
        assert all(not np.any(v == 1e9) for v in part.get_state().values())
    for state, match in (({"t_": 1, "m_": np.ones(2)}, "both m_ and v_ or neither"),
                         ({"t_": -1}, "t_ must be a whole number >= 0"),
                         ({"t_": 1, "m_": np.ones(2), "v_": np.ones(3)}, "1-D of one size"),
                         # accepted, and the next step failed with "g must have shape (0,)"
                         ({"t_": 1, "m_": np.ones(0), "v_": np.ones(0)}, "one size >= 1"),
                         # these made every later step NaN
                         ({"t_": 1, "m_": np.array([np.nan, 0.0]), "v_": np.ones(2)},
                          r"state\['m_'\] must be finite"),
                         ({"t_": 1, "m_": np.ones(2), "v_": np.array([1.0, -1.0])},
                          "v_ must be finite and >= 0"),
                         ({"t_": 1, "m_": np.ones(2), "v_": np.array([1.0, np.nan])},
                          "v_ must be finite and >= 0")):
        with pytest.raises(ValueError, match=match):
            Adam(0.1).set_state(state)
    with pytest.raises(TypeError, match="state must be a dict"):
        Adam(0.1).set_state(None)


@pytest.mark.parametrize("make", [SGD, NaturalGradient])
def test_an_optimizer_without_state_refuses_a_state_it_cannot_take(make):
    # SGD().set_state("junk") returned None silently, and Adam's state was dropped
    make().set_state(make().get_state())
    with pytest.raises(TypeError, match="state must be a dict from get_state, got str"):
        make().set_state("junk")
    with pytest.raises(TypeError, match="state must be a dict from get_state, got NoneType"):
        make().set_state(None)
    adam = Adam(0.1)
    adam.step(np.ones(2))
    with pytest.raises(ValueError, match=rf"{make.__name__} has no state: state must be the "
                                         rf"empty dict from get_state, got keys \['m_', 't_'"):
        make().set_state(adam.get_state())


def test_natural_gradient_takes_scores_or_a_symmetric_fisher_matrix():
    # with both, the matrix silently won over the scores whatever fisher= said
    S = np.random.default_rng(0).standard_normal((5, 2))
    with pytest.raises(ValueError, match="scores or its fisher_matrix, not both"):
        NaturalGradient(0.1).step(np.ones(2), S, fisher_matrix=np.eye(2))
    with pytest.raises(ValueError, match="fisher_matrix must be symmetric"):
        NaturalGradient(0.1, fisher="expected").step(np.ones(2),
                                                     fisher_matrix=[[1.0, 0.5], [0.0, 1.0]])


def test_every_optimizer_has_an_lr_the_natural_gradients_is_its_kl_size():
    # NaturalGradient had set_lr but no lr: opt.lr was an AttributeError
    opt = make_optimizer("npg", 0.02)
    assert opt.lr == opt.delta == 0.02
    opt.lr = 0.05
    assert opt.delta == 0.05
    with pytest.raises(ValueError, match="lr must be > 0"):
        opt.lr = -1.0
    assert make_optimizer("adam", 0.1).lr == 0.1 and make_optimizer("sgd", 0.3).lr == 0.3


@pytest.mark.parametrize("name", ["sgd", "adam", "npg"])
def test_a_step_size_set_on_the_optimizer_is_checked(name):
    # opt.lr = -1 was taken silently by SGD and Adam (descent instead of ascent), as was
    # NaturalGradient's delta
    opt = make_optimizer(name, 0.1)
    for bad in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="lr must be (> 0|finite)"):
            opt.lr = bad
    assert opt.lr == 0.1
    opt.lr = 0.2
    np.testing.assert_allclose(opt.lr, 0.2)
    if name == "npg":
        with pytest.raises(ValueError, match="delta must be > 0"):
            opt.delta = -0.5
        with pytest.raises(ValueError, match="damping must be >= 0"):
            opt.damping = -1.0
        with pytest.raises(ValueError, match="eta must be > 0"):
            opt.eta = 0.0
        with pytest.raises(ValueError, match="fisher must be one of"):
            opt.fisher = "exact"
        opt.eta = None
    if name == "adam":
        for attr in ("beta1", "beta2"):
            with pytest.raises(ValueError, match=f"{attr} must be < 1"):
                setattr(opt, attr, 1.0)
        with pytest.raises(ValueError, match="eps must be > 0"):
            opt.eps = 0.0


def test_an_optimizer_pickled_before_lr_was_a_property_still_steps():
    # pickles of the previous version hold lr / delta as plain attributes
    import pickle

    from linear_pg.optim import SGD, Adam, NaturalGradient

    for cls, state in ((SGD, {"lr": 0.1}), (Adam, {"lr": 0.1, "beta1": 0.9, "beta2": 0.999,
                                                   "eps": 1e-8}),
                       (NaturalGradient, {"delta": 0.02, "damping": 1e-4, "eta": None,
                                          "fisher": "sampled"})):
        old = cls.__new__(cls)
        old.__setstate__(dict(state))
        again = pickle.loads(pickle.dumps(old))
        assert again.lr == state.get("lr", state.get("delta"))
    assert np.array_equal(again.step(np.ones(2), scores=np.eye(2)),
                          NaturalGradient(0.02).step(np.ones(2), scores=np.eye(2)))


def test_baselines_check_their_batches_and_states():
    # after a change of feature count ValueBaseline.update met NumPy's broadcast error,
    # and MeanBaseline().set_state({}) a KeyError
    from linear_pg.baselines import MeanBaseline, ValueBaseline

    b = ValueBaseline()
    b.update(np.ones((4, 3)), np.arange(4.0))
    with pytest.raises(ValueError, match=r"X must have shape \(T, 3\), .* fitted on"):
        b.update(np.ones((4, 5)), np.arange(4.0))
    with pytest.raises(ValueError, match=r"X must have shape \(T, 3\)"):
        b.predict(np.ones(3))
    with pytest.raises(ValueError, match=r"G must have shape \(4,\)"):
        b.update(np.ones((4, 3)), np.arange(3.0))
    with pytest.raises(ValueError, match="G must be finite"):
        MeanBaseline().update(np.ones((2, 1)), [1.0, np.nan])
    with pytest.raises(ValueError, match=r"state must hold total_ and count_"):
        MeanBaseline().set_state({})
    with pytest.raises(ValueError, match=r"state must hold v_, A_ and c_ .* missing \['A_'"):
        ValueBaseline().set_state({"v_": np.ones(2), "c_": np.ones(2)})
    again = ValueBaseline()
    again.set_state(b.get_state())
    np.testing.assert_array_equal(again.predict(np.eye(3)), b.predict(np.eye(3)))


def test_every_baseline_checks_x_and_its_state():
    from linear_pg.baselines import MeanBaseline, ValueBaseline

    with pytest.raises(ValueError, match=r"X must have shape \(T, d\)"):
        MeanBaseline().predict(np.ones(3))                     # was [0, 0, 0]
    with pytest.raises(ValueError, match="X must be finite"):
        ValueBaseline().update([[1.0, np.nan], [1.0, 1.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="total_ must be a scalar"):
        MeanBaseline().set_state({"total_": np.ones(2), "count_": 1})
    with pytest.raises(ValueError, match="count_ must be finite"):
        MeanBaseline().set_state({"total_": 1.0, "count_": np.nan})
    for cls in (MeanBaseline, ValueBaseline):
        with pytest.raises(TypeError, match="state must be a dict"):
            cls().set_state(None)


def test_each_natural_gradient_mode_takes_its_own_input():
    # step(g, F) by position put F into scores: with fisher="expected" the step used
    # F^T F / P silently (a student's Pendulum loop never learned)
    rng = np.random.default_rng(0)
    A = rng.normal(size=(7, 3))
    F, g = A.T @ A / 7 + np.eye(3), rng.normal(size=3)
    with pytest.raises(ValueError, match=r"fisher='expected'\) takes the policy's Fisher "
                                         r"matrix as step\(g, fisher_matrix=F\)"):
        NaturalGradient(fisher="expected").step(g, F)
    with pytest.raises(ValueError, match=r"fisher='sampled'\) estimates F from the batch's"):
        NaturalGradient().step(g, fisher_matrix=F)
    NaturalGradient(fisher="expected").step(g, fisher_matrix=F)
    NaturalGradient().step(g, A)


@pytest.mark.parametrize("make, kwargs", [
    (lambda: Adam(0.1), {}),
    (lambda: NaturalGradient(fisher="expected"), {"fisher_matrix": np.eye(2)}),
])
def test_a_gradient_whose_square_overflows_is_refused(make, kwargs):
    # Adam().step([1e200, 1]) returned [0, 0.01] and the natural gradient [0, 0]
    with pytest.raises(ValueError, match=r"g holds 1e\+200, beyond 1e\+150: its square "
                                         r"overflows float64"):
        make().step(np.array([1e200, 1.0]), **kwargs)
    assert np.all(make().step(np.array([1e149, 1.0]), **kwargs) != 0)
    np.testing.assert_array_equal(SGD(0.5).step(np.array([1e200, 1.0])), [5e199, 0.5])


def test_a_natural_gradient_whose_length_overflows_is_not_a_zero_step():
    # g'F^-1 g overflowed to inf, and the step sqrt(delta / inf) F^-1 g came out as [0, 0]
    step = NaturalGradient(fisher="expected").step(np.array([1e140, 1e149]),
                                                   fisher_matrix=np.eye(2) * 1e-20)
    assert np.all(np.isnan(step))              # non-finite: train reports a divergence
    step = NaturalGradient(fisher="expected", damping=0.0).step(
        np.array([1e100, 1.0]), fisher_matrix=np.eye(2) * 1e-120)
    assert np.all(np.isnan(step))


@pytest.mark.parametrize("exponent", [-156, -165, -300])
def test_a_tiny_natural_gradient_has_the_step_of_a_normal_one(exponent):
    # g'F^-1 g underflowed: at 1e-156 (subnormal) the step was inf, at 1e-165 (0) a zero step
    S = np.random.default_rng(0).standard_normal((5, 3))
    g = np.array([1.0, -0.5, 0.25])
    np.testing.assert_allclose(NaturalGradient().step(g * 10.0**exponent, S),
                               NaturalGradient().step(g, S), rtol=1e-12)
    fixed = NaturalGradient(eta=0.5).step(g * 10.0**exponent, S)   # below the cap: eta F^-1 g
    np.testing.assert_allclose(fixed, 0.5 * np.linalg.solve(fisher(S) + 1e-4 * np.mean(
        np.diag(fisher(S))) * np.eye(3), g * 10.0**exponent), rtol=1e-10)
    assert np.all(NaturalGradient().step(np.zeros(3), S) == 0)


def test_clip_grad_norm_clips_a_gradient_whose_norm_overflows_and_checks_its_arguments():
    # the norm of [1e200, 1e200] overflowed to inf and the clipped g was [0, 0]
    with np.errstate(over="raise", under="raise"):
        np.testing.assert_allclose(clip_grad_norm(np.array([1e200, 1e200]), 1.0),
                                   [0.5**0.5, 0.5**0.5])
        np.testing.assert_array_equal(clip_grad_norm(np.array([1e200, 1e200]), 1e300),
                                      [1e200, 1e200])
        np.testing.assert_allclose(clip_grad_norm(np.array([3e-200, 4e-200]), 1e-201),
                                   [6e-202, 8e-202])
    np.testing.assert_allclose(clip_grad_norm([3.0, 4.0], 1.0), [0.6, 0.8])   # a list: TypeError
    np.testing.assert_array_equal(clip_grad_norm([3.0, 4.0], math.inf), [3.0, 4.0])
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, None) is g and clip_grad_norm(g, 10.0) is g
    for bad, match in [(-1.0, "max_norm must be > 0.0, got -1.0"),   # flipped g's direction
                       (np.nan, "max_norm must be finite, got nan"), (0.0, "max_norm must be > 0")]:
        with pytest.raises(ValueError, match=match):
            clip_grad_norm(g, bad)
    with pytest.raises(TypeError, match="max_norm must be a real number, got str"):
        clip_grad_norm(g, "1")
    with pytest.raises(TypeError, match="g must be numeric"):
        clip_grad_norm(["a"], 1.0)


def test_no_baseline_refuses_a_state_it_cannot_take():
    # Baseline.set_state accepted anything silently, as SGD's did
    from linear_pg.baselines import Baseline

    Baseline().set_state({})
    with pytest.raises(TypeError, match="state must be a dict"):
        Baseline().set_state("junk")
    with pytest.raises(ValueError, match="Baseline has no state.*'total_'"):
        Baseline().set_state(MeanBaseline().get_state())


def test_optimizer_kwargs_that_set_the_step_size_are_named():
    # Python's "make_optimizer() got multiple values for argument 'lr'" came first
    for kwargs in ({"lr": 1.0}, {"delta": 0.1}):
        with pytest.raises(TypeError, match=r"optimizer_kwargs must not set \['(lr|delta)'\]: "
                                            r"the step size is lr"):
            train("Pendulum-v1", episodes=2, optimizer_kwargs=kwargs)
    with pytest.raises(TypeError, match=r"must not set \['lr'\]"):
        make_optimizer("adam", 0.1, lr=1.0)


def test_clip_grad_norm_of_an_overflowing_or_underflowing_norm_compares_the_true_norm():
    # the rescaled path computes the norm of g / max|g| (between 1 and sqrt(n)); it must
    # compare max|g| times that with max_norm, not the unit norm itself
    with np.errstate(over="raise", under="raise"):
        # |g| = 1.41e200 > 10: clipped to norm 10 (the unit norm 1.41 is below 10)
        np.testing.assert_allclose(clip_grad_norm(np.array([1e200, 1e200]), 10.0),
                                   [10 / 2**0.5, 10 / 2**0.5], rtol=1e-12)
        # |g| = 5e-200 < 1: kept as it is (the unit norm 1.25 is above 1), never scaled up
        np.testing.assert_array_equal(clip_grad_norm(np.array([3e-200, 4e-200]), 1.0),
                                      [3e-200, 4e-200])


def test_mean_baseline_forgets_targets_and_counts_alike():
    # b = sum_k decay^k sum(G_k) / sum_k decay^k |G_k|: the mean of the earlier targets,
    # an older batch's weighed by decay. decay 0.5: (0.5 * 4 * 2 + 2 * 6) / (0.5 * 4 + 2) = 4
    X4, X2 = np.ones((4, 1)), np.ones((2, 1))
    b = MeanBaseline(decay=0.5)
    b.update(X4, np.full(4, 2.0))
    b.update(X2, np.full(2, 6.0))
    np.testing.assert_allclose(b.predict(X2), [4.0, 4.0], rtol=1e-15)
    last = MeanBaseline(decay=0.0)              # only the previous batch
    last.update(X4, np.full(4, 2.0))
    last.update(X2, np.full(2, 6.0))
    np.testing.assert_allclose(last.predict(X2), [6.0, 6.0], rtol=1e-15)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_value_baseline_ridge_is_relative_to_the_features_scale(scale):
    # one feature: v = sum x g / (sum x^2 + lambda) with lambda = ridge * sum x^2 (the mean
    # of diag(X^T X) for d = 1), so the fit is G / (1 + ridge) at any scale of x
    X = scale * np.array([[1.0], [2.0], [3.0]])
    G = np.array([1.0, 2.0, 3.0])
    b = ValueBaseline(ridge=0.1)
    b.update(X, G)
    np.testing.assert_allclose(b.predict(X), G / 1.1, rtol=1e-12)
