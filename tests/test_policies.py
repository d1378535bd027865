"""Policies: densities, sampling, stability, parameter layout and input errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from linear_pg import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy
from linear_pg.policies import log_sigmoid, log_softmax

SEEDS = st.integers(0, 2**31 - 1)


def random_inputs(seed, d=4, T=30, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng, scale * rng.standard_normal((T, d))


# ---------------------------------------------------------------------- closed-form densities
@given(seed=SEEDS, k=st.integers(2, 6))
def test_softmax_log_prob_matches_closed_form(seed, k):
    rng, X = random_inputs(seed)
    pi = SoftmaxPolicy(4, k, init_scale=1.0, seed=rng)
    A = pi.sample(X, rng)
    Z = X @ pi.W
    expected = np.log(np.exp(Z)[np.arange(len(A)), A] / np.exp(Z).sum(axis=1))
    np.testing.assert_allclose(pi.log_prob(X, A), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pi.probs(X).sum(axis=1), 1.0, rtol=1e-14)


@given(seed=SEEDS)
def test_bernoulli_log_prob_matches_scipy(seed):
    rng, X = random_inputs(seed)
    pi = BernoulliPolicy(4, init_scale=1.0, seed=rng)
    A = pi.sample(X, rng)
    z = X @ pi.W
    p = 1.0 / (1.0 + np.exp(-z))
    # log pmf written out: log sigma(z) = -log(1 + e^-z) for a = 1, log sigma(-z) for a = 0
    expected = np.where(A == 1, -np.log1p(np.exp(-z)), -np.log1p(np.exp(z)))
    np.testing.assert_allclose(pi.log_prob(X, A), expected, rtol=1e-12)
    # scipy takes p itself and loses digits in log(1 - p) as p -> 1: compare where |z| < 5
    ok = np.abs(z) < 5
    np.testing.assert_allclose(pi.log_prob(X, A)[ok], stats.bernoulli.logpmf(A, p)[ok], rtol=1e-9)
    np.testing.assert_allclose(pi.probs(X)[:, 1], p, rtol=1e-12)


@given(seed=SEEDS, m=st.integers(1, 3), mode=st.sampled_from(["vector", "fixed", "linear"]))
def test_gaussian_log_prob_matches_scipy(seed, m, mode):
    rng, X = random_inputs(seed)
    pi = GaussianPolicy(4, m, log_std_mode=mode, init_log_std=rng.uniform(-1, 1, m),
                        init_scale=1.0, seed=rng)
    if mode == "linear":
        pi.W_std[...] = 0.1 * rng.standard_normal(pi.W_std.shape)
    A = pi.sample(X, rng)
    mu, sd = pi.mean(X), pi.std(X)
    expected = stats.norm.logpdf(A, mu, sd).sum(axis=1)
    np.testing.assert_allclose(pi.log_prob(X, A), expected, rtol=1e-12)
    np.testing.assert_allclose(pi.entropy(X), stats.norm.entropy(0, sd).sum(axis=1), rtol=1e-12)


def test_entropies_match_closed_form():
    rng, X = random_inputs(1)
    soft = SoftmaxPolicy(4, 3, init_scale=1.0, seed=2)
    P = soft.probs(X)
    np.testing.assert_allclose(soft.entropy(X), stats.entropy(P, axis=1), rtol=1e-12)
    bern = BernoulliPolicy(4, init_scale=1.0, seed=2)
    np.testing.assert_allclose(bern.entropy(X), stats.entropy(bern.probs(X), axis=1), rtol=1e-12)


# ---------------------------------------------------------------------- sampling
def test_softmax_sample_frequencies_match_probs():
    rng = np.random.default_rng(0)
    pi = SoftmaxPolicy(2, 3, init_scale=1.0, seed=1)
    x = np.array([0.3, -1.2])
    n = 200_000
    A = pi.sample(np.tile(x, (n, 1)), rng)
    p = pi.probs(x)[0]
    freq = np.bincount(A, minlength=3) / n
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) < 5 * se)


def test_bernoulli_sample_frequency_matches_prob():
    rng = np.random.default_rng(0)
    pi = BernoulliPolicy(2, init_scale=1.0, seed=3)
    x = np.array([0.5, 1.0])
    n = 200_000
    p = pi.prob_one(x)[0]
    freq = pi.sample(np.tile(x, (n, 1)), rng).mean()
    assert abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_gaussian_sample_moments_match():
    rng = np.random.default_rng(0)
    pi = GaussianPolicy(2, 2, init_log_std=[-0.5, 0.3], init_scale=1.0, seed=4)
    x = np.array([1.0, -0.7])
    n = 200_000
    A = pi.sample(np.tile(x, (n, 1)), rng)
    mu, sd = pi.mean(x)[0], pi.std(x)[0]
    assert np.all(np.abs(A.mean(axis=0) - mu) < 5 * sd / np.sqrt(n))
    # the sample variance has standard error about sigma^2 sqrt(2 / n)
    assert np.all(np.abs(A.var(axis=0) - sd**2) < 5 * sd**2 * np.sqrt(2 / n))


def test_sampling_is_reproducible():
    X = np.random.default_rng(0).standard_normal((50, 3))
    for make in (lambda: SoftmaxPolicy(3, 4, init_scale=1.0, seed=7),
                 lambda: BernoulliPolicy(3, init_scale=1.0, seed=7),
                 lambda: GaussianPolicy(3, 2, init_scale=1.0, seed=7)):
        a1 = make().sample(X, np.random.default_rng(5))
        a2 = make().sample(X, np.random.default_rng(5))
        np.testing.assert_array_equal(a1, a2)


# ---------------------------------------------------------------------- stability
@pytest.mark.parametrize("scale", [1e2, 1e4])
def test_large_logits_give_no_nan(scale):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    soft = SoftmaxPolicy(3, 4, init_scale=scale, seed=0)
    bern = BernoulliPolicy(3, init_scale=scale, seed=0)
    for pi in (soft, bern):
        A = rng.integers(0, pi.n_actions, size=100)
        for out in (pi.probs(X), pi.log_prob(X, A), pi.grad_log_prob(X, A), pi.entropy(X)):
            assert np.all(np.isfinite(out))
        assert np.all(pi.log_prob(X, A) <= 0.0)
    np.testing.assert_allclose(log_softmax(np.array([[1e4, 0.0, -1e4]])), [[0.0, -1e4, -2e4]])
    np.testing.assert_allclose(log_sigmoid(np.array([-1e4, 0.0, 1e4])), [-1e4, -np.log(2), 0.0])


def test_gaussian_log_std_is_clamped():
    pi = GaussianPolicy(2, 1)
    pi.log_std[...] = 10.0
    assert pi.std(np.ones(2))[0, 0] == pytest.approx(np.exp(2.0))
    pi.log_std[...] = -50.0
    assert pi.std(np.ones(2))[0, 0] == pytest.approx(np.exp(-5.0))
    X, A = np.ones((3, 2)), np.zeros((3, 1))
    assert np.all(np.isfinite(pi.log_prob(X, A)))
    # outside the clamp log sigma does not move with theta, so its score is zero
    np.testing.assert_array_equal(pi.grad_log_prob(X, A)[:, -1], 0.0)


# ---------------------------------------------------------------------- parameter layout
def test_views_share_memory_with_theta():
    soft = SoftmaxPolicy(3, 2)
    soft.theta[:] = np.arange(6.0)
    np.testing.assert_array_equal(soft.W, np.arange(6.0).reshape(3, 2))  # C order
    soft.W[2, 1] = -1.0
    assert soft.theta[5] == -1.0
    gauss = GaussianPolicy(3, 2, log_std_mode="linear")
    gauss.theta = np.arange(gauss.n_params, dtype=float)
    np.testing.assert_array_equal(gauss.W.ravel(), np.arange(6.0))
    np.testing.assert_array_equal(gauss.log_std, [6.0, 7.0])
    np.testing.assert_array_equal(gauss.W_std.ravel(), np.arange(8.0, 14.0))
    assert gauss.n_params == 14
    blocks = dict(gauss.parameter_blocks())
    assert blocks["W_std"] == slice(8, 14)


def test_theta_assignment_copies_in_place():
    pi = BernoulliPolicy(3)
    view = pi.W
    pi.theta = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(view, [1.0, 2.0, 3.0])


def test_copy_is_independent():
    pi = GaussianPolicy(3, 1, init_scale=1.0, seed=1)
    clone = pi.copy()
    np.testing.assert_array_equal(clone.theta, pi.theta)
    clone.theta[0] += 1.0
    assert clone.theta[0] != pi.theta[0]


def test_a_fixed_sigma_set_after_construction_is_kept_by_copy():
    # A fixed log sigma is not in theta: the config must carry the value it has now.
    pi = GaussianPolicy(3, 2, log_std_mode="fixed", init_log_std=0.0)
    pi.log_std[...] = [-2.0, 0.5]
    X = np.ones((1, 3))
    np.testing.assert_array_equal(pi.copy().std(X), np.exp([[-2.0, 0.5]]))
    pi.log_std[...] = [-9.0, 0.5]                    # used clamped to the bounds [-5, 2]
    np.testing.assert_array_equal(pi.copy().std(X), pi.std(X))


def test_log_std_and_W_std_can_be_assigned_like_W():
    pi = GaussianPolicy(2, 1, log_std_mode="linear")
    pi.log_std = [-1.0]
    pi.W_std = [[0.5], [0.25]]
    np.testing.assert_array_equal(pi.theta, [0.0, 0.0, -1.0, 0.5, 0.25])
    fixed = GaussianPolicy(2, 1, log_std_mode="fixed")
    fixed.log_std = [-1.0]
    np.testing.assert_array_equal(fixed.std(np.ones((1, 2))), np.exp([[-1.0]]))
    with pytest.raises(ValueError, match=r"log_std must have shape \(1,\)"):
        fixed.log_std = -1.0


def test_initialization_is_seeded():
    a = SoftmaxPolicy(4, 3, init_scale=0.1, seed=3).theta
    b = SoftmaxPolicy(4, 3, init_scale=0.1, seed=np.random.default_rng(3)).theta
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, SoftmaxPolicy(4, 3, init_scale=0.1, seed=4).theta)


def test_float_actions_that_are_whole_numbers_are_accepted():
    pi = SoftmaxPolicy(2, 3)
    X = np.ones((2, 2))
    np.testing.assert_array_equal(pi.log_prob(X, [0.0, 2.0]), pi.log_prob(X, [0, 2]))


def test_act_is_the_most_likely_action():
    rng, X = random_inputs(0)
    soft = SoftmaxPolicy(4, 3, init_scale=1.0, seed=0)
    np.testing.assert_array_equal(soft.act(X), soft.probs(X).argmax(axis=1))
    bern = BernoulliPolicy(4, init_scale=1.0, seed=0)
    np.testing.assert_array_equal(bern.act(X), bern.probs(X).argmax(axis=1))
    gauss = GaussianPolicy(4, 2, init_scale=1.0, seed=0)
    np.testing.assert_array_equal(gauss.act(X), gauss.mean(X))


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "exc", "words"),
    [
        (lambda: SoftmaxPolicy(3, 2).probs(np.ones((4, 2))), ValueError, ["X", "(T, 3)", "(4, 2)"]),
        (lambda: SoftmaxPolicy(3, 2).probs(np.ones((2, 3, 1))), ValueError, ["X", "(T, 3)"]),
        (lambda: SoftmaxPolicy(3, 2).probs([[1.0, np.nan, 0.0]]), ValueError, ["X", "finite"]),
        (lambda: SoftmaxPolicy(3, 2).probs([["a", "b", "c"]]), TypeError, ["X", "numeric"]),
        (lambda: SoftmaxPolicy(3, 2).log_prob(np.ones((2, 3)), [0, 2]), ValueError,
         ["A", "[0, 2)", "2"]),
        (lambda: SoftmaxPolicy(3, 2).log_prob(np.ones((2, 3)), [0, 0.5]), ValueError,
         ["A", "integer", "0.5"]),
        (lambda: SoftmaxPolicy(3, 2).log_prob(np.ones((2, 3)), [0, 1, 1]), ValueError,
         ["A", "2 integer actions", "(3,)"]),
        (lambda: SoftmaxPolicy(3, 2).log_prob(np.ones((2, 3)), np.zeros((2, 2))), ValueError,
         ["A", "1-D"]),
        (lambda: BernoulliPolicy(3).grad_log_prob(np.ones((2, 3)), [1, -1]), ValueError,
         ["A", "[0, 2)", "-1"]),
        (lambda: GaussianPolicy(3, 2).log_prob(np.ones((2, 3)), np.zeros(2)), ValueError,
         ["A", "(2, 2)", "(2,)"]),
        (lambda: GaussianPolicy(3, 1).log_prob(np.ones((2, 3)), [np.inf, 0.0]), ValueError,
         ["A", "finite"]),
        (lambda: GaussianPolicy(3, 1).log_prob(np.ones((1, 3)), ["x"]), TypeError, ["A"]),
        # these said "A must hold real-valued actions, got dtype object"
        (lambda: GaussianPolicy(3, 1).log_prob(np.ones((1, 3)), None), TypeError,
         ["A must be numeric, got None"]),
        (lambda: GaussianPolicy(3, 2).log_prob(np.ones((1, 3)), [[1.0, 2**2000]]), ValueError,
         ["A holds a number too large for float64"]),
        (lambda: SoftmaxPolicy(3, 1), ValueError, ["n_actions", ">= 2", "1"]),
        (lambda: SoftmaxPolicy(0, 2), ValueError, ["n_features", ">= 1", "0"]),
        (lambda: SoftmaxPolicy(2.5, 2), TypeError, ["n_features", "int"]),
        (lambda: GaussianPolicy(3, 1, log_std_mode="learned"), ValueError, ["log_std_mode"]),
        (lambda: GaussianPolicy(3, 2, init_log_std=[0.0, 2.5]), ValueError,
         ["init_log_std must lie within log_std_bounds [-5, 2], got [0.0, 2.5]"]),
        (lambda: GaussianPolicy(3, log_std_mode="fixed", init_log_std=-6.0), ValueError,
         ["init_log_std must lie within log_std_bounds [-5, 2], got [-6.0]"]),
        (lambda: GaussianPolicy(3, init_log_std=-1.5, log_std_bounds=(-1.0, 1.0)), ValueError,
         ["within log_std_bounds [-1, 1], got [-1.5]"]),
        (lambda: GaussianPolicy(3, 2, init_log_std=[0.0, 0.0, 0.0]), ValueError,
         ["init_log_std", "(2,)"]),
        (lambda: GaussianPolicy(3, 1, log_std_bounds=(1.0, -1.0)), ValueError,
         ["log_std_bounds"]),
        # sigma = e^800 is inf, and 1 / sigma^2 at e^-800 too: log_prob -inf, score inf
        (lambda: GaussianPolicy(2, 1, log_std_bounds=(-1000, 1000), init_log_std=800),
         ValueError, ["log_std_bounds must lie within [-100, 100]", "(-1000, 1000)"]),
        (lambda: GaussianPolicy(2, 1, log_std_bounds=(-101.0, 0.0)), ValueError,
         ["log_std_bounds must lie within [-100, 100]"]),
        (lambda: SoftmaxPolicy(3, 2, init_scale=-1.0), ValueError, ["init_scale", ">= 0"]),
        (lambda: SoftmaxPolicy(3, 2, seed="zero"), TypeError, ["seed"]),
        (lambda: setattr(SoftmaxPolicy(3, 2), "theta", np.zeros(5)), ValueError,
         ["theta", "(6,)", "(5,)"]),
        (lambda: setattr(SoftmaxPolicy(3, 2), "theta", np.full(6, np.nan)), ValueError,
         ["theta", "finite"]),
        (lambda: GaussianPolicy(3, 1).W_std, AttributeError, ["W_std", "linear"]),
        # a learned log sigma starting on a bound has score 0 there and never moves
        (lambda: GaussianPolicy(3, init_log_std=2.0), ValueError,
         ["strictly inside log_std_bounds (-5, 2)", "got [2.0]", "never moves"]),
        (lambda: GaussianPolicy(3, log_std_mode="linear", init_log_std=-5.0), ValueError,
         ["strictly inside"]),
        # rows of different lengths, and ints beyond float64, were NumPy's own errors
        (lambda: SoftmaxPolicy(2, 3).log_prob(np.ones((2, 2)), [[0], [1, 2]]), ValueError,
         ["A must be a rectangular array"]),
        (lambda: GaussianPolicy(2, 1).log_prob([[1.0, 2.0], [1.0]], [0.0, 0.0]), ValueError,
         ["X must be a rectangular array"]),
        (lambda: GaussianPolicy(2, 2).log_prob(np.ones((2, 2)), [[1.0, 2.0], [1.0]]),
         ValueError, ["A must be a rectangular array"]),
        (lambda: setattr(SoftmaxPolicy(1, 2), "theta", [2**2000, 0]), ValueError,
         ["theta", "too large for float64"]),
        (lambda: SoftmaxPolicy(1, 2).log_prob(np.array([["2020-01-01"]], "datetime64[D]"), [0]),
         TypeError, ["X must be numeric, got dates or durations"]),
    ],
)
def test_bad_input_gives_clear_error(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ---------------------------------------------------------------------- one-row twins
ONE_ROW_POLICIES = [
    lambda rng: SoftmaxPolicy(4, 3, init_scale=1.0, seed=rng),
    lambda rng: SoftmaxPolicy(4, 2, init_scale=3.0, seed=rng),
    lambda rng: BernoulliPolicy(4, init_scale=1.0, seed=rng),
    lambda rng: GaussianPolicy(4, 2, init_log_std=[-0.5, 0.3], init_scale=1.0, seed=rng),
    lambda rng: GaussianPolicy(4, 1, log_std_mode="fixed", init_log_std=-1.0, seed=rng),
    lambda rng: _linear_std_policy(rng),
]


def _linear_std_policy(rng):
    pi = GaussianPolicy(4, 1, log_std_mode="linear", init_scale=1.0, seed=rng)
    pi.W_std[:] = 3.0 * rng.standard_normal(pi.W_std.shape)   # some rows hit the clamp
    return pi


@pytest.mark.parametrize("make", ONE_ROW_POLICIES)
def test_one_row_sample_draws_what_the_batch_sample_draws(make):
    # the single-env rollout calls _sample_one per step: from the same generator state it
    # must give the action _sample gives for that row, and leave the generator in step
    rng, X = random_inputs(1, T=200)
    pi = make(rng)
    rng_one, rng_batch = np.random.default_rng(7), np.random.default_rng(7)
    one = np.array([pi._sample_one(x, rng_one) for x in X])
    batch = np.concatenate([pi._sample(x[None], rng_batch) for x in X])
    np.testing.assert_allclose(one.reshape(batch.shape), batch, rtol=1e-12, atol=1e-12)
    assert rng_one.random() == rng_batch.random()
    act = np.array([pi._act_one(x) for x in X])
    np.testing.assert_allclose(act.reshape(batch.shape), pi.act(X), rtol=1e-12, atol=1e-12)


def test_a_single_row_takes_its_action_without_the_row_axis():
    # as the discrete policies take a scalar action for a 1-D x
    x = np.array([1.0, -0.5, 2.0])
    two = GaussianPolicy(3, 2, init_scale=1.0, seed=0)
    np.testing.assert_array_equal(two.log_prob(x, [0.5, 0.1]), two.log_prob(x[None], [[0.5, 0.1]]))
    np.testing.assert_array_equal(two.grad_log_prob(x, [0.5, 0.1]),
                                  two.grad_log_prob(x[None], [[0.5, 0.1]]))
    one = GaussianPolicy(3, 1, init_scale=1.0, seed=0)
    np.testing.assert_array_equal(one.log_prob(x, 0.5), one.log_prob(x[None], [[0.5]]))
    with pytest.raises(ValueError, match=r"A must have shape \(2, 2\)"):
        two.log_prob(np.vstack([x, x]), [0.5, 0.1])     # two rows need two actions


def test_one_row_softmax_sample_survives_huge_logits():
    pi = SoftmaxPolicy(1, 3)
    pi.W[0] = [1e4, -1e4, 1e4 + 1.0]
    assert pi._sample_one(np.array([1.0]), np.random.default_rng(0)) == 2


# ---------------------------------------------------------------------- contracted score sum
@pytest.mark.parametrize("make", ONE_ROW_POLICIES + [
    lambda rng: SoftmaxPolicy(4, 5, init_scale=1.0, seed=rng)])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_weighted_score_sum_is_weights_times_scores(make, scale):
    # the update's contracted form (for softmax a separate, faster code path, with a
    # two-action special case) must equal w @ S with S from grad_log_prob
    rng, X = random_inputs(3, T=300)
    pi = make(rng)
    pi.theta = scale * pi.theta
    A = pi.sample(X, rng)
    w = rng.standard_normal(300)
    expected = w @ pi.grad_log_prob(X, A)
    got = pi.weighted_score_sum(X, A, w)
    assert np.all(np.isfinite(got))
    # scores are bounded by |x| (1 + |a - mu| / sigma^2 ...): compare on the scale of sum |w| |x|
    atol = 1e-12 * np.abs(w).sum() * np.abs(X).max()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=atol)


# ---------------------------------------------------------------------- input errors (audit)
POLICIES = [lambda: SoftmaxPolicy(4, 3), lambda: BernoulliPolicy(4),
            lambda: GaussianPolicy(4, 2, log_std_mode="linear")]


@pytest.mark.parametrize("make", POLICIES)
@pytest.mark.parametrize("rng", [42, None, np.random.RandomState(0), "seed"])
def test_sample_requires_a_generator(make, rng):
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        make().sample(np.ones((2, 4)), rng)


@pytest.mark.parametrize("make", POLICIES)
def test_complex_features_are_rejected_not_truncated(make):
    pi = make()
    X = np.ones((2, 4)) + 1j
    for method in (pi.act, pi.entropy, pi.fisher, lambda X: pi.sample(X, np.random.default_rng())):
        with pytest.raises(TypeError, match="X must be real-valued, got complex"):
            method(X)
    with pytest.raises(TypeError, match="theta must be real-valued"):
        pi.theta = np.zeros(pi.n_params, dtype=complex)


def test_complex_gaussian_actions_are_rejected():
    with pytest.raises(TypeError, match="A must hold real-valued actions, got dtype complex"):
        GaussianPolicy(4).log_prob(np.ones((2, 4)), np.array([1 + 1j, 2.0]))


@pytest.mark.parametrize("make, shape", [(lambda: SoftmaxPolicy(4, 3), (4, 3)),
                                         (lambda: BernoulliPolicy(4), (4,)),
                                         (lambda: GaussianPolicy(4, 2), (4, 2))])
@pytest.mark.parametrize("value", [5.0, [1.0, 2.0], "transposed", "flat"])
def test_W_setter_requires_the_exact_shape(make, shape, value):
    pi = make()
    before = pi.theta.copy()
    if value == "transposed":
        value = np.arange(float(np.prod(shape))).reshape(shape[::-1])
        if value.shape == shape:            # a vector is its own transpose
            value = value[None]
    elif value == "flat":
        value = np.arange(float(np.prod(shape)))
        if value.shape == shape:
            value = value[:, None]
    with pytest.raises(ValueError, match=rf"W must have shape \({shape[0]},"):
        pi.W = value
    np.testing.assert_array_equal(pi.theta, before)


@given(bad=st.sampled_from([np.nan, np.inf, -np.inf]), where=st.integers(0, 11))
def test_parameter_setters_refuse_non_finite_values(bad, where):
    pi = SoftmaxPolicy(4, 3)
    W = np.zeros((4, 3))
    W.flat[where] = bad
    with pytest.raises(ValueError, match="W must be finite"):
        pi.W = W
    with pytest.raises(ValueError, match="theta must be finite"):
        pi.theta = W.ravel()
    with pytest.raises(ValueError, match="W must have shape"):
        GaussianPolicy(4).W = bad               # a scalar no longer broadcasts
    assert np.all(pi.theta == 0)


def test_theta_setter_names_theta_for_non_numbers():
    with pytest.raises(TypeError, match="theta must be numeric"):
        SoftmaxPolicy(4, 3).theta = ["a"] * 12


@pytest.mark.parametrize("make", POLICIES)
def test_fisher_needs_at_least_one_row(make):
    with pytest.raises(ValueError, match=r"X must have at least one row"):
        make().fisher(np.zeros((0, 4)))


@pytest.mark.parametrize("make", POLICIES)
@pytest.mark.parametrize("weights, exc, match", [
    (np.ones(3), ValueError, r"weights must have shape \(2,\)"),
    ("a", TypeError, "weights must be numeric"),
    ([np.nan, 1.0], ValueError, "weights must be finite"),
    ([1 + 1j, 1.0], TypeError, "weights must be real-valued"),
])
def test_weighted_score_sum_checks_the_weights(make, weights, exc, match):
    pi = make()
    X = np.ones((2, 4))
    A = pi.sample(X, np.random.default_rng(0))
    with pytest.raises(exc, match=match):
        pi.weighted_score_sum(X, A, weights)


@given(seed=SEEDS)
def test_checked_weighted_score_sum_equals_the_kernel(seed):
    rng, X = random_inputs(seed)
    pi = SoftmaxPolicy(4, 3, init_scale=1.0, seed=rng)
    A, w = pi.sample(X, rng), rng.standard_normal(X.shape[0])
    np.testing.assert_array_equal(pi.weighted_score_sum(X, A, list(w)),
                                  pi._weighted_score_sum(X, A, w))


def test_a_fixed_sigma_may_sit_on_a_bound_and_init_log_std_is_copied():
    assert GaussianPolicy(3, log_std_mode="fixed", init_log_std=2.0).log_std[0] == 2.0
    init = np.array([0.5])
    policy = GaussianPolicy(2, 1, init_log_std=init)
    init[0] = 1.7                                   # the caller's array, changed later
    assert policy.get_config()["init_log_std"] == [0.5]
    assert policy.copy().log_std[0] == 0.5


@pytest.mark.parametrize("z", [40.0, 30.0, -40.0, 700.0])
def test_bernoulli_entropy_gradient_keeps_its_digits_at_large_logits(z):
    # dH/dz = -p (1 - p) z; 1 - p computed from p was 0 at z = 40 (true value -6.8e-15)
    # and 2e-4 off at z = 30
    policy = BernoulliPolicy(1)
    policy.W = [1.0]
    var = np.exp(-abs(z)) / (1.0 + np.exp(-abs(z))) ** 2      # p (1 - p), exact form
    np.testing.assert_allclose(policy.grad_entropy([[z]]), [[-var * z * z]], rtol=1e-12)
